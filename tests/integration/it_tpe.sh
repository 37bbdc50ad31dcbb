#!/usr/bin/env bash
# A TPE search (start-up 4 points, then the estimator) runs to completion
# with two workers through a kill -9 of the coordinator and a restart: every
# point done, every gamma distinct and in the space box (f_c in [-0.5, 0.5],
# fl fixed), both workers used, and the coordinator proposed with the model
# after the restart (its history rebuilt from the database).
# Usage: it_tpe.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

BUDGET=16
# trials of some tenths of a second, so that the kill finds some running
TRAIN='{"dataset": "mnist10k", "hidden": 50, "epochs": 3, "train_limit": 3000, "eval_limit": 300, "batch": 512}'
cat >"$T/tpe.json" <<JSON
{
  "name": "it-tpe",
  "kind": "search",
  "train": $TRAIN,
  "space": {"f_c": [-0.5, 0.5], "fl": 0.25},
  "sampler": {"name": "tpe", "n_startup_trials": 4, "n_ei_candidates": 8},
  "budget": $BUDGET,
  "seed": 5
}
JSON
start_coordinator --lease 10
start_worker wa
start_worker wb
"$CLI" submit "$T/tpe.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"
expect_eq "sampler" tpe "$(sql "SELECT sampler FROM campaigns WHERE name = 'it-tpe'")"

n_done() { [ "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")" -ge "$1" ]; }
wait_for 90 "six trials are done" n_done 6
it_log "killing the coordinator (pid $COORD_PID): $(sql "SELECT group_concat(status) FROM trials")"
kill_hard "$COORD_PID"
start_coordinator --lease 10
wait_for 120 "the campaign is done after the restart" campaign_is it-tpe done

expect_eq "trials done" $BUDGET "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "points" $BUDGET "$(sql "SELECT count(DISTINCT point) FROM trials")"
expect_eq "distinct f_c" $BUDGET "$(sql "SELECT count(DISTINCT value) FROM trial_params WHERE name = 'f_c'")"
expect_eq "f_c in [-0.5, 0.5]" $BUDGET \
    "$(sql "SELECT count(*) FROM trial_params WHERE name = 'f_c' AND value BETWEEN -0.5 AND 0.5")"
expect_eq "fl fixed" "$BUDGET|0.25" \
    "$(sql "SELECT count(*), min(value) FROM trial_params WHERE name = 'fl' AND value = 0.25")"
expect_eq "other atoms in [-1, 1]" 0 \
    "$(sql "SELECT count(*) FROM trial_params WHERE name NOT IN ('f_c', 'fl', 'h_res') AND abs(value) > 1")"
expect_ge "trials of wa" 1 "$(sql "SELECT count(*) FROM trials WHERE worker = 'wa'")"
expect_ge "trials of wb" 1 "$(sql "SELECT count(*) FROM trials WHERE worker = 'wb'")"
grep -q "campaign it-tpe: resumed" "$T/coordinator.log" || fail "no resume in the coordinator's log"
if grep -q "skipped\|ERROR" "$T/coordinator.log"; then fail "errors in the coordinator's log"; fi
echo "PASS"
