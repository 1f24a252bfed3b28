#!/usr/bin/env bash
# Content board and calendar benchmark of `baton serve` on embedded SQLite.
#
# Builds the release binary, starts it on 127.0.0.1 over a fresh data dir,
# seeds one client with ITEMS content items through the API
# (bench/seed_content.py: most in brief, some in production and in review,
# SCHEDULED of them scheduled across next month), then
#
# - times the web pages one logged-in request at a time (bench/content_timing.py,
#   RUNS requests each after a warm-up): the client's board, the agency board,
#   the calendar month and a week of it; the target is < 50 ms each;
# - runs wrk against the API list and the same pages (session cookie) for
#   DURATION each,
#
# and prints Markdown tables and the machine.
#
#   bash bench/content.sh                 # 20 s per wrk run, 2 threads, 32 connections
#   DURATION=5s bash bench/content.sh     # quicker look
#
# Only ever targets 127.0.0.1; every wrk run is bounded by DURATION.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ITEMS=${ITEMS:-5000}
SCHEDULED=${SCHEDULED:-400}
RUNS=${RUNS:-30}

if ! command -v wrk >/dev/null; then
    echo "wrk not found; installing Debian's wrk"
    apt-get update && apt-get install -y --no-install-recommends wrk
fi

echo "== building the release binary"
(cd "$ROOT" && cargo build --release -p baton)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/baton
[[ -x $BIN ]] || { echo "no binary at $BIN" >&2; exit 1; }

WORK=$(mktemp -d /tmp/baton-bench-content.XXXXXX)
PID=
cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
export BATON_DATA_DIR=$WORK/data
export BATON_LISTEN=127.0.0.1:$PORT
export RUST_LOG=warn
unset BATON_DATABASE_URL BATON_PUBLIC_URL BATON_CONFIG || true

json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

echo "== agency, one client and $ITEMS content items"
"$BIN" agency create --name "Bench Agency" --admin-email bench@bench.test --json >"$WORK/agency.json"
BATON_TOKEN=$(json_field "$WORK/agency.json" api_token)
EMAIL=$(json_field "$WORK/agency.json" admin_email)
PASSWORD=$(json_field "$WORK/agency.json" admin_password)
export BATON_TOKEN
"$BIN" serve 2>"$WORK/serve.log" &
PID=$!
python3 "$ROOT/bench/seed_content.py" --base "$BASE" --token "$BATON_TOKEN" --items "$ITEMS" \
    --scheduled "$SCHEDULED" --out "$WORK/seeded.json"
CLIENT=$(json_field "$WORK/seeded.json" client_id)
MONTH=$(json_field "$WORK/seeded.json" month)
WEEK=$(json_field "$WORK/seeded.json" week)

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }

echo
echo "== web pages, one logged-in request at a time ($RUNS each after a warm-up)"
PAGES=$(python3 "$ROOT/bench/content_timing.py" --base "$BASE" --email "$EMAIL" --password "$PASSWORD" \
    --client "$CLIENT" --month "$MONTH" --week "$WEEK" --runs "$RUNS" --expect-scheduled "$SCHEDULED" \
    --cookie-out "$WORK/cookie.txt")
echo "$PAGES"
COOKIE=$(cat "$WORK/cookie.txt")

ROWS=()
run() {
    local name=$1 out=$WORK/$2.txt
    shift 2
    echo
    echo "== $name"
    echo "+ wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $*" | sed 's/baton_session=[^ '\'']*/baton_session=…/'
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | tee "$out"
    local rps p50 p99 non2xx total
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    total=$(awk '/requests in/ {print $1}' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    ROWS+=("| $name | $rps | $p50 | $p99 | $total | ${non2xx:-0} | $(rss_mb) MB |")
}

run "GET /api/v1/content?client=…&limit=50" api_list -s "$ROOT/bench/get_auth.lua" \
    "$BASE/api/v1/content?client=$CLIENT&limit=50"
run "GET /api/v1/content?client=…&status=scheduled&limit=200" api_scheduled -s "$ROOT/bench/get_auth.lua" \
    "$BASE/api/v1/content?client=$CLIENT&status=scheduled&limit=200"
# The web pages need only the session cookie for GET (no CSRF token).
run "GET /clients/{id}/content (client board)" client_board -H "Cookie: $COOKIE" "$BASE/clients/$CLIENT/content"
run "GET /content (agency board)" agency_board -H "Cookie: $COOKIE" "$BASE/content"
run "GET /content/calendar?month=$MONTH" month -H "Cookie: $COOKIE" "$BASE/content/calendar?month=$MONTH"
run "GET /content/calendar?week=$WEEK" week -H "Cookie: $COOKIE" "$BASE/content/calendar?week=$WEEK"

echo
echo "== after the runs"
echo "server RSS $(rss_mb) MB (peak $(hwm_mb) MB); database $(du -sh "$BATON_DATA_DIR" | cut -f1)"

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
echo "seed: 1 client, $ITEMS items ($(python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["counts"]; print(", ".join(f"{v} {k}" for k, v in c.items()))' "$WORK/seeded.json")), scheduled across $MONTH; week $WEEK"
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per endpoint, on the same machine as the server"
echo
echo "$PAGES"
echo
echo "| endpoint | requests/s | p50 | p99 | requests | non-2xx | server RSS after |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
