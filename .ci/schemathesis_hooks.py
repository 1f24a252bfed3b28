"""schemathesis hooks of .ci/openapi-conformance.sh.

An Idempotency-Key is single-use by definition: the same key with another
request is refused (422, as the IETF Idempotency-Key draft says). Generated
keys repeat ("0", "a", ...), so a valid generated key gets a unique suffix
before it is sent; an invalid one (negative tests) is sent as generated.
"""

import itertools
import re

import schemathesis

_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_SERIAL = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.fullmatch(value):
            suffix = f"-{next(_SERIAL)}"
            headers[name] = value[: 255 - len(suffix)] + suffix
