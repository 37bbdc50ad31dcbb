#!/usr/bin/env bash
# A coordinator and two workers complete a small random-search campaign; the
# database then holds every trial, done, with its gamma rows, its learning
# curve (epochs 0..E) and its PID atoms, and each worker ran some of them.
# Usage: it_campaign.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

BUDGET=6
# trials of some tenths of a second: one worker alone could not run them all
# before the other asks again (idle workers ask every second)
EPOCHS=2
TRAIN='{"dataset": "mnist10k", "hidden": 100, "epochs": '$EPOCHS', "train_limit": 3000, "eval_limit": 300, "batch": 512}'
start_coordinator --lease 30
start_worker wa
start_worker wb
submit_campaign it-campaign $BUDGET "$TRAIN"

wait_for 90 "the campaign is done" campaign_is it-campaign done

expect_eq "trials" $BUDGET "$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-campaign'")"
expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "trials with an accuracy in [0,1]" $BUDGET \
    "$(sql "SELECT count(*) FROM trials WHERE val_acc BETWEEN 0 AND 1 AND test_acc BETWEEN 0 AND 1 AND wall_s > 0")"
expect_eq "distinct trial numbers" $BUDGET "$(sql "SELECT count(DISTINCT number) FROM trials")"
# the default space: 18 atoms sampled plus h_res fixed at 0 -> 19 gamma rows
expect_eq "trials with 19 gamma rows" $BUDGET \
    "$(sql "SELECT count(*) FROM (SELECT trial_id FROM trial_params GROUP BY trial_id HAVING count(*) = 19)")"
expect_eq "distinct gammas (random search)" $BUDGET \
    "$(sql "SELECT count(DISTINCT value) FROM trial_params WHERE name = 'f_c'")"
# epochs 0..EPOCHS for every trial, with the last epoch's val_acc the trial's
expect_eq "curve rows" $((BUDGET * (EPOCHS + 1))) "$(sql "SELECT count(*) FROM trial_epochs")"
expect_eq "curves ending at the trial's val_acc" $BUDGET \
    "$(sql "SELECT count(*) FROM trials t JOIN trial_epochs e ON e.trial_id = t.id AND e.epoch = $EPOCHS WHERE abs(e.val_acc - t.val_acc) < 1e-9")"
expect_eq "trials with hidden atoms" $BUDGET \
    "$(sql "SELECT count(DISTINCT trial_id) FROM trial_atoms WHERE layer = 'hidden'")"
expect_eq "trials with output atoms" $BUDGET \
    "$(sql "SELECT count(DISTINCT trial_id) FROM trial_atoms WHERE layer = 'output'")"
expect_eq "attempts, all done" "$BUDGET|$BUDGET" \
    "$(sql "SELECT count(*), sum(status = 'done') FROM trial_attempts")"
expect_eq "workers that ran trials" 2 "$(sql "SELECT count(DISTINCT worker) FROM trials")"
expect_ge "trials of wa" 1 "$(sql "SELECT count(*) FROM trials WHERE worker = 'wa'")"
expect_ge "trials of wb" 1 "$(sql "SELECT count(*) FROM trials WHERE worker = 'wb'")"
echo "PASS"
