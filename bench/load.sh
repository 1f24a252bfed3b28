#!/usr/bin/env bash
# HTTP load benchmark of `baton serve` on embedded SQLite.
#
# Builds the release binary, starts it on 127.0.0.1 over a fresh data dir,
# creates an agency with 1,000 clients through the API (bench/seed.py), then
# runs wrk against the endpoints for DURATION each and prints a Markdown
# table: requests/s, p50/p99 latency, non-2xx answers and the server's RSS.
#
#   bash bench/load.sh                    # 20 s per endpoint, 2 threads, 32 connections
#   DURATION=5s bash bench/load.sh        # quicker look
#   BASELINE=e9df69d bash bench/load.sh   # the same runs on an older commit (or
#                                         # BASELINE=/path/to/baton) first, then
#                                         # this tree, and both side by side
#
# Only ever targets 127.0.0.1; every wrk run is bounded by DURATION.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CLIENTS=${CLIENTS:-1000}

if ! command -v wrk >/dev/null; then
    echo "wrk not found; installing Debian's wrk"
    apt-get update && apt-get install -y --no-install-recommends wrk
fi

build() { # build <source dir>: the release binary of that tree
    (cd "$1" && cargo build --release -p baton)
    local bin=${CARGO_TARGET_DIR:-$1/target}/release/baton
    [[ -x $bin ]] || { echo "no binary at $bin" >&2; exit 1; }
    echo "$bin"
}

TOP=$(mktemp -d /tmp/baton-bench.XXXXXX)
PID=
WORKTREE=
cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [[ -n $WORKTREE ]]; then
        git -C "$ROOT" worktree remove --force "$WORKTREE" 2>/dev/null || true
    fi
    rm -rf "$TOP"
}
trap cleanup EXIT

if [[ -x ${BASELINE:-} ]]; then
    echo "== baseline: the binary $BASELINE"
    cp "$BASELINE" "$TOP/baton-baseline"
elif [[ -n ${BASELINE:-} ]]; then
    # Built once per commit and kept beside the target dir for the next run.
    rev=$(git -C "$ROOT" rev-parse --short "$BASELINE")
    cached=${CARGO_TARGET_DIR:-$ROOT/target}/bench-baseline-$rev
    if [[ ! -x $cached ]]; then
        echo "== building the baseline release binary ($rev)"
        WORKTREE=$TOP/baseline-src
        git -C "$ROOT" worktree add --detach "$WORKTREE" "$rev" >/dev/null
        cp "$(build "$WORKTREE" | tail -n1)" "$cached"
        git -C "$ROOT" worktree remove --force "$WORKTREE"
        WORKTREE=
    fi
    cp "$cached" "$TOP/baton-baseline"
fi
echo "== building the release binary"
cp "$(build "$ROOT" | tail -n1)" "$TOP/baton-current"

# bench <label> <binary>: a fresh data dir, agency, seed, the wrk runs and
# the web board timing; leaves its table in $TOP/<label>.md.
bench() {
local LABEL=$1 BIN=$2
local WORK=$TOP/$LABEL
mkdir -p "$WORK"
echo
echo "######## $LABEL: $BIN"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
export BATON_DATA_DIR=$WORK/data
export BATON_LISTEN=127.0.0.1:$PORT
export RUST_LOG=warn
unset BATON_DATABASE_URL BATON_PUBLIC_URL BATON_CONFIG || true

echo "== agency and $CLIENTS clients"
"$BIN" agency create --name "Bench Agency" --admin-email bench@bench.test --json >"$WORK/agency.json"
BATON_TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["api_token"])' "$WORK/agency.json")
export BATON_TOKEN
"$BIN" serve 2>"$WORK/serve.log" &
PID=$!
python3 "$ROOT/bench/seed.py" --base "$BASE" --token "$BATON_TOKEN" --clients "$CLIENTS" --out "$WORK/clients.txt" \
    --links "$WORK/links.txt"
LINK=$(head -n1 "$WORK/links.txt")

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }

ROWS=()
run() {
    local name=$1 out=$WORK/$2.txt
    shift 2
    echo
    echo "== $name"
    echo "+ wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $*"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | tee "$out"
    local rps p50 p99 non2xx total
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    total=$(awk '/requests in/ {print $1}' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    ROWS+=("| $name | $rps | $p50 | $p99 | $total | ${non2xx:-0} | $(rss_mb) MB |")
}

run "GET /healthz" healthz "$BASE/healthz"
# Not a target: token authentication alone, to tell its cost from the list's.
run "GET /api/v1/me (auth only)" me -s "$ROOT/bench/get_auth.lua" "$BASE/api/v1/me"
run "GET /api/v1/clients?limit=50" list -s "$ROOT/bench/get_auth.lua" "$BASE/api/v1/clients?limit=50"
run "POST /api/v1/clients/{id}/events" events -s "$ROOT/bench/post_event.lua" "$BASE" -- "$WORK/clients.txt"
# The client's onboarding page: welcome and the full steps page (5 requests).
run "GET /o/{token} (link page)" link "$LINK"
run "GET /o/{token}/steps (steps page)" steps "$LINK/steps"
run "GET /api/v1/access-requests?limit=200" board -s "$ROOT/bench/get_auth.lua" "$BASE/api/v1/access-requests?limit=200"

echo
echo "== access board for $CLIENTS clients (web pages, one request at a time)"
EMAIL=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_email"])' "$WORK/agency.json")
PASSWORD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_password"])' "$WORK/agency.json")
BOARD=$(python3 "$ROOT/bench/board_timing.py" --base "$BASE" --email "$EMAIL" --password "$PASSWORD")
echo "$BOARD"

echo
echo "== after the runs"
echo "server RSS $(rss_mb) MB (peak $(hwm_mb) MB); database $(du -sh "$BATON_DATA_DIR" | cut -f1)"
t0=$(date +%s%N)
"$BIN" audit verify | tail -n1
echo "audit verify took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per endpoint, on the same machine as the server"
echo
# Issue 17's goals, from this binary's runs.
goal_row() { # goal_row <figure> <wrk output> <requests/s goal> [<p99 goal in ms>]
    python3 - "$@" <<'PY'
import re, sys
name, path, want = sys.argv[1], sys.argv[2], float(sys.argv[3])
p99_goal = float(sys.argv[4]) if len(sys.argv) > 4 else None
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
m = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
ok = rps >= want and (p99_goal is None or p99 < p99_goal)
goal = f">= {want:,.0f}/s" + (f", p99 < {p99_goal:.0f} ms" if p99_goal else "")
print(f"| {name} | {rps:,.0f}/s, p99 {p99:.1f} ms | {goal} | {'met' if ok else 'missed'} |")
PY
}
GOALS=$(
    echo "| figure | measured | goal | verdict |"
    echo "|---|---:|---|---|"
    goal_row "GET /api/v1/clients?limit=50" "$WORK/list.txt" 12000 10
    goal_row "POST /api/v1/clients/{id}/events (durable)" "$WORK/events.txt" 5000 15
    goal_row "client link page /o/{token}" "$WORK/link.txt" 15000
    rss=$(rss_mb)
    echo "| RSS after load | $rss MB | <= 100 MB | $(python3 -c "print('met' if $rss <= 100 else 'missed')") |"
)
{
echo "| endpoint | requests/s | p50 | p99 | requests | non-2xx | server RSS after |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "$BOARD"
echo
echo "$GOALS"
} | tee "$TOP/$LABEL.md"
kill -TERM "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
}

if [[ -n ${BASELINE:-} ]]; then
    bench baseline "$TOP/baton-baseline"
fi
bench current "$TOP/baton-current"

if [[ -n ${BASELINE:-} ]]; then
    echo
    echo "== baseline ($BASELINE) then this tree ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ' with changes')), same run"
    echo
    echo "### baseline"
    cat "$TOP/baseline.md"
    echo
    echo "### current"
    cat "$TOP/current.md"
fi
