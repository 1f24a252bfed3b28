#!/usr/bin/env bash
# The file tests (draft versions, brand-kit uploads) on S3-compatible object
# storage: starts a local moto S3 server (from PyPI, in a venv kept under
# /var/tmp), creates the test bucket and runs the suites with
# BATON_TEST_S3_ENDPOINT set, so every test app keeps its files in the bucket.
# With BATON_TEST_POSTGRES_URL set too, it also runs the two-server test
# (a draft uploaded through one `baton serve`, downloaded through another).
# Run from the repository root: `bash .ci/s3-files.sh [extra cargo test args]`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=/var/tmp/baton-moto
PORT=${BATON_S3_PORT:-19091}
if [[ ! -x $VENV/bin/moto_server ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'moto[server]==5.*'
fi
LOG=$(mktemp /tmp/baton-moto.XXXXXX)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$LOG" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$PORT/" > /dev/null 2>&1 && break
    sleep 0.2
done
"$VENV/bin/python" - "$PORT" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}",
                  aws_access_key_id="baton-test", aws_secret_access_key="baton-test-secret",
                  region_name="us-east-1")
s3.create_bucket(Bucket="baton-test")
print("S3 (moto) at 127.0.0.1:%s with bucket baton-test" % sys.argv[1])
PY
export BATON_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
# `--workspace` like every cargo call of `.ci/run`: the same package
# selection resolves the same features, so nothing is compiled again.
echo "+ BATON_TEST_S3_ENDPOINT=$BATON_TEST_S3_ENDPOINT cargo test --workspace --test it $* -- content_files:: portal::"
cargo test --workspace --test it "$@" -- content_files:: portal::
if [[ -n ${BATON_TEST_POSTGRES_URL:-} ]]; then
    echo "+ BATON_TEST_POSTGRES_URL=$BATON_TEST_POSTGRES_URL cargo test --workspace --test it -- --nocapture cluster::a_draft_uploaded_through_one_server"
    cargo test --workspace --test it -- --nocapture cluster::a_draft_uploaded_through_one_server
else
    echo "not run: the two-server file test (set BATON_TEST_POSTGRES_URL as well)"
fi
