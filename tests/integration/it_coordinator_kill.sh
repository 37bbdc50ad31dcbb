#!/usr/bin/env bash
# kill -9 of the coordinator in the middle of a campaign, then a restart on
# the same database: the workers reconnect (keeping any finished result until
# it is acknowledged), the campaign completes, and every trial is there
# exactly once, done, with one curve and one set of gamma rows.
# Usage: it_coordinator_kill.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

BUDGET=6
# trials of about half a second (several seconds with sanitizers), so that
# the coordinator dies with trials done, running and queued
EPOCHS=4
TRAIN='{"dataset": "mnist10k", "hidden": 64, "epochs": '$EPOCHS', "eval_limit": 300, "batch": 512}'
start_coordinator --lease 6
start_worker wa
start_worker wb
submit_campaign it-coordinator-kill $BUDGET "$TRAIN"

some_done_some_running() {
    [ "$(sql "SELECT sum(status = 'done') >= 1 AND sum(status = 'running') >= 1 FROM trials")" = 1 ]
}
wait_for 60 "a trial is done and another running" some_done_some_running
it_log "killing the coordinator (pid $COORD_PID): $(sql "SELECT group_concat(status) FROM trials")"
kill_hard "$COORD_PID"
kill -0 "$COORD_PID" 2>/dev/null && fail "the killed coordinator still runs"
sleep 2   # the workers notice nothing yet: their messages wait in their sockets
start_coordinator --lease 6

wait_for 120 "the campaign is done after the restart" campaign_is it-coordinator-kill done

expect_eq "trials" $BUDGET "$(sql "SELECT count(*) FROM trials")"
expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "distinct trial numbers 0..$((BUDGET - 1))" "$BUDGET|0|$((BUDGET - 1))" \
    "$(sql "SELECT count(DISTINCT number), min(number), max(number) FROM trials")"
expect_eq "one done attempt per trial" $BUDGET \
    "$(sql "SELECT count(DISTINCT trial_id) FROM trial_attempts WHERE status = 'done'")"
expect_eq "done attempts" $BUDGET "$(sql "SELECT count(*) FROM trial_attempts WHERE status = 'done'")"
expect_eq "curve rows (epochs 0..$EPOCHS per trial)" $((BUDGET * (EPOCHS + 1))) "$(sql "SELECT count(*) FROM trial_epochs")"
expect_eq "gamma rows (19 per trial)" $((BUDGET * 19)) "$(sql "SELECT count(*) FROM trial_params")"
expect_eq "trials with atoms" $BUDGET "$(sql "SELECT count(DISTINCT trial_id) FROM trial_atoms")"
echo "PASS"
