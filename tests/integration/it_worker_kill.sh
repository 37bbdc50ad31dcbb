#!/usr/bin/env bash
# kill -9 of a worker in the middle of a trial: after its lease runs out the
# coordinator marks the attempt lost and queues the trial again; the other
# worker completes it. Every trial ends done, the lost attempt stays visible,
# nothing is lost or duplicated.
# Usage: it_worker_kill.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

BUDGET=1
# a trial long enough (a second or two, longer with sanitizers) to be killed
# in the middle
EPOCHS=6
TRAIN='{"dataset": "mnist10k", "hidden": 100, "epochs": '$EPOCHS', "eval_limit": 300, "batch": 512}'
start_coordinator --lease 3
start_worker victim
VICTIM=$WORKER_PID
submit_campaign it-worker-kill $BUDGET "$TRAIN"

# the victim's log says when its first trial has begun its first epoch
wait_for 30 "the victim trains" grep -q "epoch 0:" "$T/victim.log"
TRIAL=$(sed -n 's/.*trial \([0-9]*\) attempt 1: training.*/\1/p' "$T/victim.log" | head -1)
it_log "killing the victim (pid $VICTIM) during trial $TRIAL"
kill_hard "$VICTIM"
expect_eq "trial $TRIAL still running when the victim died" "running|victim" \
    "$(sql "SELECT status, worker FROM trials WHERE id = $TRIAL")"
start_worker survivor

handed_out_again() {
    [ "$(sql "SELECT attempt > 1 FROM trials WHERE id = $TRIAL")" = 1 ]
}
wait_for 40 "trial $TRIAL is handed out again" handed_out_again
wait_for 90 "the campaign is done" campaign_is it-worker-kill done

expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "distinct trial numbers" $BUDGET "$(sql "SELECT count(DISTINCT number) FROM trials")"
expect_eq "the victim's attempt" "victim|lost" \
    "$(sql "SELECT worker, status FROM trial_attempts WHERE trial_id = $TRIAL AND attempt = 1")"
expect_eq "trial $TRIAL finished by" survivor "$(sql "SELECT worker FROM trials WHERE id = $TRIAL")"
expect_eq "done attempts of trial $TRIAL" 1 \
    "$(sql "SELECT count(*) FROM trial_attempts WHERE trial_id = $TRIAL AND status = 'done'")"
expect_eq "one done attempt per trial" $BUDGET \
    "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'done'")"
expect_eq "curve of trial $TRIAL (epochs 0..$EPOCHS, once each)" "$((EPOCHS + 1))|0|$EPOCHS" \
    "$(sql "SELECT count(*), min(epoch), max(epoch) FROM trial_epochs WHERE trial_id = $TRIAL")"
expect_eq "trials with gamma rows" $BUDGET "$(sql "SELECT count(DISTINCT trial_id) FROM trial_params")"
expect_eq "trials with atoms" $BUDGET "$(sql "SELECT count(DISTINCT trial_id) FROM trial_atoms")"
echo "PASS"
