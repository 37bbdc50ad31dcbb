#!/usr/bin/env bash
# Campaigns for the external-command backend with real processes: a worker
# without --exec gets none of their trials (status says why they wait);
# two exec workers run a typed search (float, log float, int, categorical,
# fixed) that minimises another objective than val_acc; a fixed campaign
# whose commands succeed, exit 1, print garbage, are killed by a signal and
# never end (the trial timeout): each trial ends with the right status and
# message and the workers go on; a command pruned through STOP; then SIGTERM to a worker during an exec
# trial (interrupted, queued again) and a cancel that stops the command
# through STOP. No command process outlives its trial.
# Usage: it_exec.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"
BEHAVE=$(cd "$(dirname "$0")/../data/exec" && pwd)/behave.py
EXEC_CMD="python3 '$BEHAVE'"
command -v python3 >/dev/null || fail "python3 is missing"

start_coordinator --lease 30
start_worker wb
cat >"$T/quad.json" <<JSON
{
  "name": "it-exec",
  "kind": "search",
  "backend": "exec",
  "objective": "loss",
  "direction": "minimize",
  "space": {"x": [0, 1], "lr": {"float": [1e-4, 1e-1], "log": true},
            "layers": {"int": [1, 4]}, "act": {"categorical": ["relu", "tanh"]}, "wd": 0},
  "budget": 8,
  "seed": 3,
  "user": {"offset": 1}
}
JSON
"$CLI" submit "$T/quad.json" >"$T/quad.submit" 2>&1 || fail "submit refused: $(cat "$T/quad.submit")"
waits() { "$CLI" status it-exec 2>&1 | grep -qF "waiting: no connected worker runs backend 'exec' (workers: wb runs builtin)"; }
wait_for 20 "status says that no worker runs backend exec" waits
expect_eq "exec trials handed to the built-in worker" 0 "$(sql "SELECT count(*) FROM trials WHERE attempt > 0")"

start_worker we1 --exec "$EXEC_CMD" --trial-timeout 3
WE1=$WORKER_PID
INFOMORPH_EXEC="$EXEC_CMD" INFOMORPH_TRIAL_TIMEOUT=3 start_worker we2
WE2=$WORKER_PID
wait_for 60 "the exec search is done" campaign_is it-exec done
expect_eq "done trials and their workers" "8|0" \
    "$(sql "SELECT count(*), sum(worker NOT IN ('we1', 'we2')) FROM trials WHERE status = 'done'")"
expect_eq "trials with a value >= the offset" 8 "$(sql "SELECT count(*) FROM trials WHERE value >= 1")"
expect_eq "campaign row" "exec|loss|minimize" \
    "$(sql "SELECT backend, objective, direction FROM campaigns WHERE name = 'it-exec'")"
expect_eq "categorical params stored as text" "8|8" \
    "$(sql "SELECT count(*), sum(value IN ('relu', 'tanh')) FROM trial_params WHERE name = 'act' AND typeof(value) = 'text'")"
expect_eq "integer params on the grid" 8 \
    "$(sql "SELECT count(*) FROM trial_params WHERE name = 'layers' AND value = round(value) AND value BETWEEN 1 AND 4")"
expect_eq "log params in range" 8 \
    "$(sql "SELECT count(*) FROM trial_params WHERE name = 'lr' AND value BETWEEN 1e-4 AND 1e-1")"
expect_eq "the view of params as JSON" 8 \
    "$(sql "SELECT count(*) FROM trial_params_json WHERE campaign = 'it-exec' AND json_extract(params, '\$.wd') = 0 AND json_extract(params, '\$.act') IN ('relu', 'tanh')")"
expect_eq "the result line kept" 8 \
    "$(sql "SELECT count(*) FROM trials WHERE json_extract(output, '\$.layers_used') BETWEEN 1 AND 4")"
expect_eq "best_trials ranks the lowest loss first" \
    "$(sql "SELECT id FROM trials WHERE status = 'done' ORDER BY value, id LIMIT 1")" \
    "$(sql "SELECT trial FROM best_trials WHERE campaign = 'it-exec' AND rank = 1")"
expect_eq "campaign_progress agrees" \
    "$(sql "SELECT trial || '|' || value FROM best_trials WHERE campaign = 'it-exec' AND rank = 1")" \
    "$(sql "SELECT best_trial || '|' || best_value FROM campaign_progress WHERE campaign = 'it-exec'")"
expect_eq "the curve" 24 "$(sql "SELECT count(*) FROM trial_epochs")"
expect_eq "the objective at every epoch" 24 \
    "$(sql "SELECT count(*) FROM trial_epochs WHERE value IS NOT NULL")"
"$CLI" best it-exec >"$T/best.out" 2>&1 || fail "best: $(cat "$T/best.out")"
best_id=$(sql "SELECT trial FROM best_trials WHERE campaign = 'it-exec' AND rank = 1")
awk -v id="$best_id" '$1 == 1 && $2 == id' "$T/best.out" | grep -q . ||
    fail "best does not rank trial $best_id first: $(cat "$T/best.out")"
"$CLI" export it-exec --format csv -o "$T/quad.csv" >"$T/export.out" 2>&1 ||
    fail "export: $(cat "$T/export.out")"
head -1 "$T/quad.csv" | grep -q "attempts,value,act,layers,lr,wd,x$" || fail "CSV header: $(head -1 "$T/quad.csv")"
expect_eq "CSV rows with a choice" 8 "$(grep -cE ',(relu|tanh),' "$T/quad.csv")"

# failures: each ends with its reason, the workers take the next trial
cat >"$T/fail.json" <<JSON
{
  "name": "it-exec-fail",
  "kind": "fixed",
  "backend": "exec",
  "points": [{"mode": "ok"}, {"mode": "fail"}, {"mode": "garbage"}, {"mode": "crash"},
             {"mode": "hang"}, {"mode": "ok"}],
  "user": {"pid_dir": "$T"}
}
JSON
"$CLI" submit "$T/fail.json" >"$T/fail.submit" 2>&1 || fail "submit refused: $(cat "$T/fail.submit")"
wait_for 60 "the failing campaign is done" campaign_is it-exec-fail done
st() { sql "SELECT t.status || '|' || coalesce(t.error, '') FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id WHERE c.name = 'it-exec-fail' AND t.number = $1"; }
expect_eq "ok" "done|" "$(st 0)"
st 1 | grep -q "^failed|exec: the command exited with status 1; stderr: diverged at step 17" || fail "exit 1: $(st 1)"
st 2 | grep -q "^failed|exec: the last result line is not valid JSON" || fail "garbage: $(st 2)"
st 3 | grep -q "^failed|exec: the command was killed by signal 9 (SIGKILL)" || fail "crash: $(st 3)"
st 4 | grep -q "^failed|exec: timed out after 3 s" || fail "hang: $(st 4)"
expect_eq "the last ok" "done|" "$(st 5)"
hang_pid=$(cat "$T"/hang-*.pid)
kill -0 "$hang_pid" 2>/dev/null && fail "the command that timed out still runs (pid $hang_pid)"
kill -0 "$WE1" && kill -0 "$WE2" || fail "a worker died"

# a command whose progress is below the median of the finished trials is
# pruned: STOP ends it, the trial is recorded as pruned
cat >"$T/prune.json" <<JSON
{"name": "it-exec-prune", "kind": "fixed", "backend": "exec",
 "points": [{"mode": "good"}, {"mode": "good"}, {"mode": "slow"}],
 "pruner": {"name": "median", "n_startup_trials": 2}, "user": {"pid_dir": "$T/prune"}}
JSON
mkdir -p "$T/prune"
"$CLI" submit "$T/prune.json" >"$T/prune.submit" 2>&1 || fail "submit refused: $(cat "$T/prune.submit")"
wait_for 60 "the pruning campaign is done" campaign_is it-exec-prune done
expect_eq "statuses" "done|done|pruned" \
    "$(sql "SELECT group_concat(status, '|') FROM (SELECT t.status FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id WHERE c.name = 'it-exec-prune' ORDER BY t.number)")"
expect_ge "the pruned trial's objective by epoch" 1 \
    "$(sql "SELECT count(e.value) FROM trial_epochs AS e JOIN trials AS t ON t.id = e.trial_id
            JOIN campaigns AS c ON c.id = t.campaign_id
            WHERE c.name = 'it-exec-prune' AND t.status = 'pruned'")"
pruned_pid=$(cat "$T"/prune/slow-*.pid)
kill -0 "$pruned_pid" 2>/dev/null && fail "the command of the pruned trial still runs"

# SIGTERM to the worker during an exec trial: interrupted, queued again; then
# cancel while the other worker runs it: STOP ends the command
cat >"$T/slow.json" <<JSON
{"name": "it-exec-slow", "kind": "fixed", "backend": "exec", "points": [{"mode": "slow"}],
 "user": {"pid_dir": "$T"}}
JSON
"$CLI" submit "$T/slow.json" >"$T/slow.submit" 2>&1 || fail "submit refused: $(cat "$T/slow.submit")"
slow_runs() { [ -n "$(cat "$T"/slow-*.pid 2>/dev/null)" ]; }
wait_for 20 "the slow trial runs" slow_runs
sleep 1.5
first=$(sql "SELECT worker FROM trials WHERE status = 'running'")
slow_pid=$(cat "$T"/slow-*.pid)
rm -f "$T"/slow-*.pid
if [ "$first" = we1 ]; then victim=$WE1; else victim=$WE2; fi
kill -TERM "$victim"
wait "$victim" || fail "worker $first exited with status $?"
kill -0 "$slow_pid" 2>/dev/null && fail "the command of the interrupted trial still runs"
grep -q "interrupted" "$T/$first.log" || fail "worker $first did not report the trial interrupted"
wait_for 20 "the other worker runs the slow trial" slow_runs
expect_eq "attempts of the slow trial" "interrupted|running" \
    "$(sql "SELECT group_concat(status, '|') FROM (SELECT a.status FROM trial_attempts AS a JOIN trials AS t ON t.id = a.trial_id JOIN campaigns AS c ON c.id = t.campaign_id WHERE c.name = 'it-exec-slow' ORDER BY a.attempt)")"
slow_pid=$(cat "$T"/slow-*.pid)
"$CLI" cancel it-exec-slow >"$T/cancel.out" 2>&1 || fail "cancel: $(cat "$T/cancel.out")"
slow_cancelled() { campaign_is it-exec-slow cancelled && [ "$(sql "SELECT count(*) FROM trials WHERE status = 'running'")" = 0 ]; }
wait_for 20 "the slow trial is cancelled" slow_cancelled
expect_eq "the slow trial" cancelled "$(sql "SELECT t.status FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id WHERE c.name = 'it-exec-slow'")"
kill -0 "$slow_pid" 2>/dev/null && fail "the command of the cancelled trial still runs"
pgrep -f "^python3 $BEHAVE" >/dev/null && fail "a command process is left: $(pgrep -af "^python3 $BEHAVE")"
echo "PASS"
