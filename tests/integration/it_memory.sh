#!/usr/bin/env bash
# Trials go only to workers with the memory for them. A campaign whose
# trials need about 0.5 GB (by the coordinator's estimate: batch 16384)
# while the only worker offers 0.1 GB (--max-memory): nothing is handed
# out, nothing fails, the coordinator warns once per worker and campaign
# (log line and "memory_short" event, however often the worker asks) and
# status says "waiting: needs 0.5 GB, the largest worker offers 0.1 GB".
# A campaign that also lacks its dataset shows both reasons.
# Then a worker offering 2 GB joins: it trains every trial while the small
# one keeps asking, none fails, and the campaign finishes.
# Usage: it_memory.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

start_coordinator --lease 30
start_worker small --max-memory 0.1
SMALL_PID=$WORKER_PID
TRAIN='{"dataset": "mnist10k", "hidden": 100, "epochs": 1, "train_limit": 500, "eval_limit": 300, "batch": 16384}'
submit_campaign it-memory 3 "$TRAIN"

warned() { grep -q "campaign it-memory: worker small offers 0.1 GB of memory" "$T/coordinator.log"; }
wait_for 20 "the coordinator warns that small offers too little memory" warned
sleep 3 # small keeps asking (NOJOB retry 1 s): still one warning, one event
expect_eq "warnings in the log" 1 "$(grep -c "worker small offers" "$T/coordinator.log")"
expect_eq "memory_short events" "1|small" \
    "$(sql "SELECT count(*), group_concat(worker) FROM events WHERE kind = 'memory_short'")"
sql "SELECT detail FROM events WHERE kind = 'memory_short'" | grep -q "needs about 0.5 GB" ||
    fail "the event does not say what a trial needs: $(sql "SELECT detail FROM events")"
expect_eq "trials handed out" 0 "$(sql "SELECT count(*) FROM trials WHERE attempt > 0")"
expect_eq "trials failed" 0 "$(sql "SELECT count(*) FROM trials WHERE status = 'failed'")"

"$CLI" status it-memory >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -qF "waiting: needs 0.5 GB, the largest worker offers 0.1 GB" "$T/status.out" ||
    fail "status does not say why the campaign waits: $(cat "$T/status.out")"
it_log "ok: $(grep waiting: "$T/status.out")"
# a campaign may wait for both: a dataset no one has, and more memory
submit_campaign it-both 1 "${TRAIN/mnist10k/mnist-x}"
"$CLI" status it-both >"$T/status-both.out" 2>&1 || fail "status: $(cat "$T/status-both.out")"
grep -qF "waiting: no connected worker has dataset 'mnist-x' (workers: small has mnist10k); needs 0.5 GB, the largest worker offers 0.1 GB" \
    "$T/status-both.out" || fail "status does not give both reasons: $(cat "$T/status-both.out")"
it_log "ok: $(grep waiting: "$T/status-both.out")"

start_worker big --max-memory 2
wait_for 90 "the campaign is done" campaign_is it-memory done
expect_eq "trials done, all by big" "3|big" \
    "$(sql "SELECT count(*), group_concat(DISTINCT worker) FROM trials WHERE status = 'done'")"
expect_eq "trials not done" 0 "$(sql "SELECT count(*) FROM trials WHERE status <> 'done'")"
expect_eq "attempts by small" 0 "$(sql "SELECT count(*) FROM trial_attempts WHERE worker = 'small'")"
kill -0 "$SMALL_PID" 2>/dev/null || fail "the small worker is gone"
"$CLI" status it-memory >"$T/status2.out" 2>&1 || fail "status: $(cat "$T/status2.out")"
grep -q "waiting:" "$T/status2.out" && fail "a done campaign still waits: $(cat "$T/status2.out")"
expect_eq "warnings in the log at the end" 1 "$(grep -c "worker small offers" "$T/coordinator.log")"
echo "PASS"
