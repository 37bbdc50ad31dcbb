#!/usr/bin/env bash
# The worker's life cycle against a real coordinator:
# 1. a worker started before the coordinator connects when it comes up and
#    runs trials;
# 2. SIGTERM of a worker in the middle of a trial: it reports the trial as
#    interrupted, the coordinator queues it again at once (well before the
#    lease would run out) and the worker exits with status 0;
# 3. a worker whose data directory lacks the dataset's files reports the
#    trial as failed with an error naming the problem, and does not hang.
# Usage: it_worker_lifecycle.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

# 1. the worker first
pick_endpoints
start_worker early
EARLY=$WORKER_PID
sleep 2
kill -0 "$EARLY" || fail "the worker exited without a coordinator"
start_coordinator --lease 60   # long: re-queueing below must not wait for it
submit_campaign it-early 2
wait_for 60 "the early worker's campaign is done" campaign_is it-early done
expect_eq "trials of the early worker" "2" \
    "$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-early' AND t.worker = 'early' AND t.status = 'done'")"

# 2. SIGTERM during a trial
SLOW='{"dataset": "mnist10k", "hidden": 100, "epochs": 50, "eval_limit": 300, "batch": 512}'   # interrupted long before its end
submit_campaign it-sigterm 1 "$SLOW"
running() {
    [ "$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-sigterm' AND t.status = 'running'")" = 1 ]
}
wait_for 30 "the slow trial runs" running
TRIAL=$(sql "SELECT t.id FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-sigterm'")
START=$SECONDS
kill -TERM "$EARLY"
rc=0
wait "$EARLY" || rc=$?
expect_eq "exit status of the terminated worker" 0 "$rc"
grep -q "interrupt" "$T/early.log" || fail "the worker did not log the interruption"
requeued() {
    [ "$(sql "SELECT status FROM trials WHERE id = $TRIAL")" = queued ]
}
wait_for 5 "trial $TRIAL is queued again" requeued
[ $((SECONDS - START)) -lt 30 ] || fail "re-queueing took $((SECONDS - START)) s: it waited for the lease"
# the attempt stays visible, marked as ended by the interruption
expect_eq "the interrupted attempt" "early|1" \
    "$(sql "SELECT worker, status IN ('interrupted', 'lost') AND (status = 'interrupted' OR error LIKE '%interrupted%') FROM trial_attempts WHERE trial_id = $TRIAL AND attempt = 1")"
"$CLI" cancel it-sigterm >/dev/null || fail "cancel refused"

# 3. a worker whose dataset folder is broken (the training images only, empty)
mkdir -p "$T/brokendata/mnist10k"
: >"$T/brokendata/mnist10k/train-images-idx3-ubyte"
"$WORKER" --connect "$WEND" --data-dir "$T/brokendata" --name broken --max-trials 1 \
    --log-level debug >>"$T/broken.log" 2>&1 &
BROKEN=$!
IT_PIDS+=("$BROKEN")
submit_campaign it-nodata 1
failed() {
    [ "$(sql "SELECT t.status FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-nodata'")" = failed ]
}
wait_for 30 "the trial on missing data has failed" failed
ERR=$(sql "SELECT t.error FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-nodata'")
it_log "error recorded: $ERR"
case "$ERR" in
*mnist10k*) ;;
*) fail "the error does not name the dataset: '$ERR'" ;;
esac
expect_eq "worker of the failed trial" broken \
    "$(sql "SELECT t.worker FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-nodata'")"
rc=0
wait "$BROKEN" || rc=$?
expect_eq "exit status of the worker after --max-trials 1" 0 "$rc"
echo "PASS"
