#!/usr/bin/env bash
# OpenAPI conformance: the document Baton serves at /api/openapi.json tells
# the truth. Starts `baton serve` on a fresh SQLite database with the demo
# agency, runs schemathesis (every check, every phase) against the served
# document with an admin token, then generates a Python client from the same
# document and compiles and imports it. Fails on any failure.
#
# Run from the repository root: `bash .ci/openapi-conformance.sh`.
# BATON_CONFORMANCE_EXAMPLES (default 30) sets the test cases per operation;
# BATON_CONFORMANCE_PORT (default 18491) the port; BATON_CONFORMANCE_SEED
# replays a run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EXAMPLES=${BATON_CONFORMANCE_EXAMPLES:-30}
PORT=${BATON_CONFORMANCE_PORT:-18491}
ST_VENV=/var/tmp/baton-schemathesis
CLIENT_VENV=/var/tmp/baton-openapi-client
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/baton-target}

# Python tools in venvs outside the clone, kept between runs.
venv_with() {
    local venv=$1 exe=$2 spec=$3
    if [[ ! -x $venv/bin/$exe ]]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "$spec"
    fi
}
venv_with "$ST_VENV" schemathesis 'schemathesis==4.*'
venv_with "$CLIENT_VENV" openapi-python-client 'openapi-python-client==0.*'
echo "schemathesis $("$ST_VENV/bin/schemathesis" --version | awk '{print $NF}');" \
     "openapi-python-client $("$CLIENT_VENV/bin/openapi-python-client" --version | awk '{print $NF}')"

# The binary the workspace's tests use (built by `cargo test --workspace`,
# so in CI this compiles nothing; a plain `cargo build -p baton` would
# resolve other features and compile much of the tree again).
cargo test --workspace --no-run
BATON="$CARGO_TARGET_DIR/debug/baton"

WORK=$(mktemp -d /tmp/baton-conformance.XXXXXX)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export BATON_DATA_DIR=$WORK/data
export BATON_LISTEN=127.0.0.1:$PORT
export BATON_PUBLIC_URL=http://127.0.0.1:$PORT
BASE=http://127.0.0.1:$PORT

"$BATON" demo > "$WORK/demo.txt"
token_field() {
    "$BATON" token create --member maya@northwind.example --scope "$1" --json |
        python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"
}
# The fuzzer acts as the demo admin; see .ci/schemathesis.toml for the spare.
export BATON_CONFORMANCE_TOKEN BATON_CONFORMANCE_SPARE_TOKEN_ID BATON_CONFORMANCE_BASE=$BASE
BATON_CONFORMANCE_TOKEN=$(token_field admin token)
BATON_CONFORMANCE_SPARE_TOKEN_ID=$(token_field read id)

"$BATON" serve > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do
    curl -fsS "$BASE/readyz" > /dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$BASE/api/openapi.json" -o "$WORK/openapi.json"

# One worker: with two, two threads of schemathesis can parse Python source
# (hypothesis describing a filter) at once, which CPython 3.11 before 3.11.8
# can fail with "AST constructor recursion depth mismatch", an internal
# error of the tool that says nothing about the API.
echo "+ schemathesis run $BASE/api/openapi.json --checks all --max-examples $EXAMPLES"
status=0
"$ST_VENV/bin/schemathesis" --no-color --config-file .ci/schemathesis.toml \
    run "$BASE/api/openapi.json" \
    --checks all \
    --max-examples "$EXAMPLES" \
    --workers 1 \
    ${BATON_CONFORMANCE_SEED:+--seed "$BATON_CONFORMANCE_SEED"} \
    --report junit --report-dir "$WORK/report" || status=$?
if grep -q "panicked" "$WORK/serve.log"; then
    echo "FAIL: the server panicked during the run:" >&2
    grep -A5 "panicked" "$WORK/serve.log" >&2
    status=1
fi
if (( status != 0 )); then
    echo "FAIL: schemathesis found the OpenAPI document and the server disagree (exit $status)" >&2
    exit "$status"
fi

echo "+ openapi-python-client generate (from the served document), compile and import"
(
    cd "$WORK"
    # Not --fail-on-warning: the generator has no model for the draft
    # download (any file type) and the iCalendar upload, and says so; every
    # other operation must generate, compile and import.
    "$CLIENT_VENV/bin/openapi-python-client" generate --path openapi.json \
        --output-path client --meta none
    "$CLIENT_VENV/bin/python" -m compileall -q client
    PYTHONPATH=. "$CLIENT_VENV/bin/python" -c '
import importlib, pkgutil
import client
modules = [m.name for m in pkgutil.walk_packages(client.__path__, "client.")]
for name in modules:
    importlib.import_module(name)
from client import AuthenticatedClient
print(f"generated client: {len(modules)} modules import")
'
)
echo "OpenAPI conformance: schemathesis and the generated client passed"
