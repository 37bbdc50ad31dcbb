# lib.sh: what the integration tests have in common (sourced by it_*.sh).
#
# Each test runs the real programs on loopback: one infomorph-coordinator on
# two free ports with its SQLite file in a fresh temporary directory, real
# infomorph-worker processes training tiny networks on the mnist10k data, and
# the infomorph command. Everything started is killed (by its pid) and the
# directory removed when the test exits; on failure the logs are printed.
#
# Usage from a test:  source lib.sh; it_init "$@"   (arguments: COORDINATOR
# WORKER CLI, the programs' paths, as tests/CMakeLists.txt passes them).
# The data directory comes from $IM_DATA_DIR (the repository's data/, filled
# by deploy/fetch-datasets.sh).

set -euo pipefail

IT_PIDS=()
IT_FAILED=0

it_log() { echo "[$(date +%H:%M:%S)] $*"; }

# Print the logs and stop with status 1.
fail() {
    IT_FAILED=1
    echo "FAIL: $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") (last 40 lines)" >&2
        tail -n 40 "$f" >&2
    done
    exit 1
}

# On exit: stop every program still running with SIGTERM (their clean
# shutdown is part of the test: sanitizer builds check it for leaks), kill -9
# what is left after 10 s, fail if any log holds a sanitizer report, remove
# the directory.
it_cleanup() {
    local rc=$? p end
    trap - EXIT
    for p in "${IT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    end=$((SECONDS + 10))
    for p in "${IT_PIDS[@]}"; do
        while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${T:-}" ] && grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
        echo "FAIL: a sanitizer reported an error (in the logs above)" >&2
        grep -h -A30 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log >&2 || true
        rc=1
    fi
    if [ -n "${IT_KEEP:-}" ] && [ -n "${T:-}" ]; then
        echo "kept $T (IT_KEEP is set)" >&2
    elif [ -n "${T:-}" ]; then
        rm -rf "$T"
    fi
    exit $rc
}

it_init() {
    [ $# -ge 3 ] || { echo "usage: $0 COORDINATOR WORKER CLI" >&2; exit 2; }
    COORD=$1 WORKER=$2 CLI=$3
    for b in "$COORD" "$WORKER" "$CLI"; do [ -x "$b" ] || { echo "not a program: $b" >&2; exit 1; }; done
    command -v sqlite3 >/dev/null || { echo "the sqlite3 command is missing (deploy/install-deps.sh)" >&2; exit 1; }
    DATA=${IM_DATA_DIR:-}
    [ -n "$DATA" ] && [ -d "$DATA/mnist10k" ] ||
        { echo "no mnist10k data in IM_DATA_DIR='$DATA': run deploy/fetch-datasets.sh data" >&2; exit 1; }
    T=$(mktemp -d "${TMPDIR:-/tmp}/infomorph-it.XXXXXX")
    trap it_cleanup EXIT
    DB=$T/trials.db
    WEND="" CEND=""
}

# pick_endpoints: choose free ports now (for a worker started before the
# coordinator); otherwise the first coordinator picks them itself.
pick_endpoints() {
    local wp cp
    wp=$(free_port)
    cp=$(free_port)
    while [ "$cp" = "$wp" ]; do cp=$(free_port); done
    WEND=tcp://127.0.0.1:$wp
    CEND=tcp://127.0.0.1:$cp
    export INFOMORPH_CONNECT=$CEND
}

# A free TCP port on loopback: random in the ephemeral range, checked unused.
free_port() {
    local p i
    for i in $(seq 1 100); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# start_coordinator [extra options]: a coordinator on $DB; log coordinator.log
# (appended, so a restart keeps the first run's lines). The first start binds
# free ports of its own choosing (port *) unless pick_endpoints ran; a
# restart reuses them. Sets COORD_PID, WEND, CEND and INFOMORPH_CONNECT.
start_coordinator() {
    local we=${WEND:-tcp://127.0.0.1:*} ce=${CEND:-tcp://127.0.0.1:*}
    rm -f "$T/endpoints"
    "$COORD" --db "$DB" --workers-endpoint "$we" --clients-endpoint "$ce" \
        --endpoints-file "$T/endpoints" --log-level debug "$@" >>"$T/coordinator.log" 2>&1 &
    COORD_PID=$!
    IT_PIDS+=("$COORD_PID")
    wait_for 20 "the coordinator has bound its endpoints" grep -q '^clients ' "$T/endpoints"
    WEND=$(awk '$1 == "workers" {print $2}' "$T/endpoints")
    CEND=$(awk '$1 == "clients" {print $2}' "$T/endpoints")
    export INFOMORPH_CONNECT=$CEND
    wait_for 20 "the coordinator answers" "$CLI" ls
}

# start_worker NAME [extra options]: a worker on $DATA; log NAME.log.
# Sets WORKER_PID.
start_worker() {
    local name=$1
    shift
    "$WORKER" --connect "$WEND" --data-dir "$DATA" --name "$name" --threads 1 \
        --log-level debug "$@" >>"$T/$name.log" 2>&1 &
    WORKER_PID=$!
    IT_PIDS+=("$WORKER_PID")
}

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every 0.2 s until it
# succeeds; fail after SECONDS.
wait_for() {
    local limit=$1 what=$2
    shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || fail "timed out after ${limit}s waiting until $what"
        sleep 0.2
    done
}

# sql QUERY: one query on the trial database (read-only, waits out locks).
sql() {
    sqlite3 -batch -noheader -cmd ".timeout 5000" "$DB" "$1"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
    it_log "ok: $1 = $3"
}

# expect_ge WHAT MIN ACTUAL (integers)
expect_ge() {
    [ "$3" -ge "$2" ] 2>/dev/null || fail "$1: expected at least $2, got '$3'"
    it_log "ok: $1 = $3 (>= $2)"
}

# campaign_is NAME STATUS...: the campaign's status is one of STATUS.
campaign_is() {
    local name=$1 st
    shift
    st=$(sql "SELECT status FROM campaigns WHERE name = '$name'") || return 1
    local s
    for s in "$@"; do [ "$st" = "$s" ] && return 0; done
    return 1
}

# A tiny training spec: a few seconds per trial even in a sanitizer build.
TINY_TRAIN='{"dataset": "mnist10k", "hidden": 8, "epochs": 1, "train_limit": 500, "eval_limit": 300, "batch": 256}'

# write_campaign FILE NAME BUDGET [TRAIN_JSON]: a random-search campaign.
write_campaign() {
    cat >"$1" <<JSON
{
  "name": "$2",
  "kind": "search",
  "train": ${4:-$TINY_TRAIN},
  "sampler": {"name": "random"},
  "budget": $3,
  "seed": 7
}
JSON
}

# submit_campaign NAME BUDGET [TRAIN_JSON]: write the campaign (as
# write_campaign does) to $T/NAME.json and submit it; fail if it is refused.
submit_campaign() {
    write_campaign "$T/$1.json" "$@"
    "$CLI" submit "$T/$1.json" >"$T/$1.submit" 2>&1 || fail "submit refused: $(cat "$T/$1.submit")"
}

# kill_hard PID: kill -9 a program this test started and reap it.
kill_hard() {
    kill -9 "$1"
    wait "$1" 2>/dev/null || true
}
