#!/usr/bin/env bash
# bench_exec.sh: the overhead per trial of the exec path. A coordinator and
# two workers whose command (tests/data/exec/fast.sh) returns a result at
# once run a random search of N trials; prints the trials per second from
# the first hand-out to the last result (the database's timestamps) and the
# mean wall time per trial the workers measured (spawn, pipes, reaping).
#
# Usage: tests/bench/bench_exec.sh [N]   (from the repository, after a build
# into build/; N default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-200}
B=build
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-exec.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

"$B/infomorph-coordinator" --db "$T/b.db" --workers-endpoint 'tcp://127.0.0.1:*' \
    --clients-endpoint 'tcp://127.0.0.1:*' --endpoints-file "$T/ep" --log-level warn \
    >"$T/c.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q '^clients ' "$T/ep" 2>/dev/null && break; sleep 0.1; done
WEND=$(awk '$1 == "workers" {print $2}' "$T/ep")
export INFOMORPH_CONNECT=$(awk '$1 == "clients" {print $2}' "$T/ep")
for w in 1 2; do
    "$B/infomorph-worker" --connect "$WEND" --name "b$w" --log-level warn \
        --exec "sh tests/data/exec/fast.sh" >"$T/w$w.log" 2>&1 &
    PIDS+=($!)
done
cat >"$T/c.json" <<JSON
{"name": "bench-exec", "kind": "search", "backend": "exec", "space": {"x": [0, 1]},
 "budget": $N, "seed": 1}
JSON
"$B/infomorph" submit "$T/c.json" >/dev/null
start=$(date +%s.%N)
until [ "$(sqlite3 -cmd ".timeout 5000" "$T/b.db" "SELECT status FROM campaigns")" = done ]; do
    sleep 0.2
done
end=$(date +%s.%N)
sqlite3 -cmd ".timeout 5000" "$T/b.db" "
SELECT printf('%d trials, 2 workers: %.1f trials/s (first hand-out to last result), '
              || 'mean %.1f ms per trial on a worker',
              count(*),
              count(*) / ((julianday(max(finished_at)) - julianday(min(started_at))) * 86400.0),
              1000 * avg(wall_s))
FROM trials WHERE status = 'done'"
awk -v s="$start" -v e="$end" -v n="$N" 'BEGIN { printf "wall clock from submit: %.1f s, %.1f trials/s\n", e - s, n / (e - s) }'
