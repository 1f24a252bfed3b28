#!/usr/bin/env bash
# Write throughput of N `baton serve` processes on one PostgreSQL database,
# against one server: the figure issue 12 asked to measure (every write of
# an agency serializes on its `agencies` row, the audit chain's head).
#
# For each server count in SERVERS (default "1 3"): a fresh database on the
# local PostgreSQL, the release binary started that many times on ports of
# its own, AGENCIES agencies (default 3) of CLIENTS clients each, then one
# wrk per server for DURATION, all at once, posting durable events
# (row + event + audit + outbox in one transaction). With SPREAD=agencies
# (default) server i writes to agency i mod AGENCIES, so writes spread over
# the agencies; with SPREAD=one every server writes to the first agency;
# SPREAD="agencies one" runs both. At the end it prints issue 17's goals:
# N servers against one (throughput and worst p99) and one agency's writes
# on one server.
# CONNECTIONS (default 32) is the total, split evenly over the servers.
#
#   bash bench/cluster.sh                       # 1 vs 3 servers, 20 s each
#   DURATION=5s SPREAD=one bash bench/cluster.sh
#   SPREAD="agencies one" bash bench/cluster.sh  # every row of the goals table
#   BATON_BIN=/path/to/baton bash bench/cluster.sh  # another build, not this tree
#
# Needs PostgreSQL at PG (default postgres://postgres@127.0.0.1:5432) with
# trust auth; creates and drops databases named baton_bench_*. Only ever
# targets 127.0.0.1; every wrk run is bounded by DURATION.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
CLIENTS=${CLIENTS:-50}
AGENCIES=${AGENCIES:-3}
SERVERS=${SERVERS:-"1 3"}
SPREADS=${SPREAD:-agencies}
PG=${PG:-postgres://postgres@127.0.0.1:5432}

if ! command -v wrk >/dev/null; then
    echo "wrk not found; installing Debian's wrk"
    apt-get update && apt-get install -y --no-install-recommends wrk
fi

if [[ -n ${BATON_BIN:-} ]]; then
    BIN=$BATON_BIN
else
    echo "== building the release binary"
    (cd "$ROOT" && cargo build --release -p baton)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/baton
fi
[[ -x $BIN ]] || { echo "no binary at $BIN" >&2; exit 1; }

WORK=$(mktemp -d /tmp/baton-cluster-bench.XXXXXX)
PIDS=()
DBS=()
stop_servers() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    stop_servers
    for db in "${DBS[@]}"; do
        psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

export RUST_LOG=warn
export BATON_SECRET_KEY=bench-cluster-secret-key-0123456789abcdef
unset BATON_PUBLIC_URL BATON_CONFIG BATON_STORAGE_URL || true

ROWS=()
declare -A RPS P99
for SPREAD in $SPREADS; do
for n in $SERVERS; do
    db=baton_bench_${n}_${SPREAD}_$$
    DBS+=("$db")
    psql -q "$PG/postgres" -c "CREATE DATABASE $db"
    export BATON_DATABASE_URL=$PG/$db
    run=$WORK/n$n
    mkdir -p "$run"

    echo
    echo "== $n server(s): $AGENCIES agencies of $CLIENTS clients"
    for a in $(seq 1 "$AGENCIES"); do
        BATON_DATA_DIR=$run/cli "$BIN" agency create --name "Bench Agency $a" \
            --admin-email "bench$a@bench.test" --json > "$run/agency$a.json"
    done
    BASES=()
    for i in $(seq 1 "$n"); do
        port=$(free_port)
        BATON_DATA_DIR=$run/server$i BATON_LISTEN=127.0.0.1:$port \
            "$BIN" serve 2> "$run/serve$i.log" &
        PIDS+=($!)
        BASES+=("http://127.0.0.1:$port")
    done
    for base in "${BASES[@]}"; do
        for _ in $(seq 1 100); do
            curl -fsS "$base/healthz" > /dev/null 2>&1 && break
            sleep 0.2
        done
    done
    for a in $(seq 1 "$AGENCIES"); do
        python3 "$ROOT/bench/seed.py" --base "${BASES[0]}" --token "$(field "$run/agency$a.json" api_token)" \
            --clients "$CLIENTS" --out "$run/clients$a.txt" > /dev/null
    done

    per=$(( CONNECTIONS / n ))
    (( per > 0 )) || per=1
    echo "+ $n x wrk -t1 -c$per -d$DURATION --latency -s bench/post_event.lua (spread: $SPREAD)"
    WRKS=()
    for i in $(seq 1 "$n"); do
        if [[ $SPREAD == one ]]; then a=1; else a=$(( (i - 1) % AGENCIES + 1 )); fi
        BATON_TOKEN=$(field "$run/agency$a.json" api_token) \
            wrk -t1 -c"$per" -d"$DURATION" --latency -s "$ROOT/bench/post_event.lua" \
            "${BASES[$((i - 1))]}" -- "$run/clients$a.txt" > "$run/wrk$i.txt" &
        WRKS+=($!)
    done
    for w in "${WRKS[@]}"; do wait "$w"; done
    rps=0; p99max=0; non2xx=0
    for i in $(seq 1 "$n"); do
        out=$run/wrk$i.txt
        r=$(awk '/^Requests\/sec:/ {print $2}' "$out")
        # p99 in ms, whatever unit wrk printed.
        p=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                  if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' "$out")
        e=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
        rps=$(python3 -c "print(round($rps + $r, 1))")
        p99max=$(python3 -c "print(max($p99max, $p))")
        non2xx=$(( non2xx + ${e:-0} ))
        echo "   server $i: $r requests/s, p99 ${p} ms, non-2xx ${e:-0}"
    done
    stop_servers
    t0=$(date +%s%N)
    BATON_DATA_DIR=$run/cli "$BIN" audit verify | tail -n1
    echo "   audit verify took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    ROWS+=("| $n | $SPREAD | $rps | $p99max ms | $non2xx |")
    RPS[$SPREAD.$n]=$rps
    P99[$SPREAD.$n]=$p99max
done
done

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); PostgreSQL $(psql -tA "$PG/postgres" -c 'SHOW server_version')"
echo "wrk: $CONNECTIONS connections in all, $DURATION, on the same machine as the servers and PostgreSQL"
echo
echo "| servers | writes to | events/s (sum) | p99 (worst server) | non-2xx |"
echo "|---:|---|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"

# Issue 17's goals, from the rows above.
first=${SERVERS%% *}
last=${SERVERS##* }
echo
echo "| goal | measured | target |"
echo "|---|---:|---|"
for SPREAD in $SPREADS; do
    if [[ $first != "$last" && -n ${RPS[$SPREAD.$first]:-} && -n ${RPS[$SPREAD.$last]:-} ]]; then
        python3 - "$SPREAD" "$first" "$last" "${RPS[$SPREAD.$first]}" "${RPS[$SPREAD.$last]}" \
            "${P99[$SPREAD.$first]}" "${P99[$SPREAD.$last]}" <<'PY'
import sys
spread, a, b, r1, rn, p1, pn = sys.argv[1:]
r1, rn, p1, pn = map(float, (r1, rn, p1, pn))
to = "3 agencies" if spread == "agencies" else "one agency"
print(f"| {b} servers vs {a}, writes to {to}: throughput | {rn / r1:.2f}x ({rn:,.0f} vs {r1:,.0f}/s) | >= 1.0x |")
print(f"| {b} servers vs {a}, writes to {to}: p99 | {pn / p1:.2f}x ({pn:.0f} vs {p1:.0f} ms) | <= 1.5x |")
PY
    fi
    if [[ $SPREAD == one && -n ${RPS[one.1]:-} ]]; then
        echo "| one agency's writes, one server | ${RPS[one.1]}/s | >= 2,000/s |"
    fi
done
