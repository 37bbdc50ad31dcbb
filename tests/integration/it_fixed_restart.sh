#!/usr/bin/env bash
# A fixed campaign's points are created as workers ask for them, from the
# values parsed at submission: none right after SUBMIT (which counts them
# all as planned), and after a kill -9 of the coordinator in the middle, the
# points created before keep their trials and the rest are created after the
# restart: every point trained exactly seeds_per_point times, with the
# gamma listed for it in the file.
# Usage: it_fixed_restart.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

POINTS=6
SEEDS=2
# point p is [p/8, -p/16, 1, p/4, 0] (f, c, f_c, fc, h_res: exact in binary)
points=$(awk -v n=$POINTS 'BEGIN {
    for (p = 0; p < n; p++) printf "%s[%.6f, %.6f, 1, %.6f, 0]", p ? ", " : "", p / 8, -p / 16, p / 4
}')
# trials of about half a second (several seconds with sanitizers), so that
# the coordinator dies with trials done, running and not yet created
cat >"$T/f.json" <<JSON
{"name": "it-fixed", "kind": "fixed", "seeds_per_point": $SEEDS,
 "train": {"dataset": "mnist10k", "setup": "bivariate-lateral", "hidden": 64, "epochs": 2,
           "train_limit": 3000, "eval_limit": 300, "batch": 512},
 "points": [$points]}
JSON
start_coordinator --lease 6
"$CLI" submit "$T/f.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"
grep -q "$((POINTS * SEEDS)) trials planned" "$T/submit.out" || fail "planned: $(cat "$T/submit.out")"
expect_eq "trials right after the submission" 0 "$(sql "SELECT count(*) FROM trials")"
"$CLI" status it-fixed >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -q "(of $((POINTS * SEEDS)))" "$T/status.out" || fail "status: $(cat "$T/status.out")"

start_worker wa
start_worker wb
some_done_some_running() {
    [ "$(sql "SELECT sum(status = 'done') >= 1 AND sum(status = 'running') >= 1 FROM trials")" = 1 ]
}
wait_for 60 "a trial is done and another running" some_done_some_running
kill_hard "$COORD_PID"
created=$(sql "SELECT count(DISTINCT point) FROM trials")
it_log "killed the coordinator with $created points created: $(sql "SELECT group_concat(status) FROM trials")"
[ "$created" -lt $POINTS ] || fail "every point was created before the kill: nothing to test"
sleep 1
start_coordinator --lease 6
wait_for 120 "the campaign is done after the restart" campaign_is it-fixed done

expect_eq "trials" $((POINTS * SEEDS)) "$(sql "SELECT count(*) FROM trials")"
expect_eq "trials done" $((POINTS * SEEDS)) "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")"
expect_eq "points trained more than $SEEDS times" "" \
    "$(sql "SELECT point FROM trials GROUP BY point HAVING count(*) > $SEEDS")"
expect_eq "points 0..$((POINTS - 1)), each with seeds 1..$SEEDS" "$POINTS|0|$((POINTS - 1))|$POINTS" \
    "$(sql "SELECT count(DISTINCT point), min(point), max(point), count(DISTINCT point || '/' || seed)
            / $SEEDS FROM trials WHERE seed BETWEEN 1 AND $SEEDS")"
expect_eq "trial numbers" "$((POINTS * SEEDS))|0|$((POINTS * SEEDS - 1))" \
    "$(sql "SELECT count(DISTINCT number), min(number), max(number) FROM trials")"
expect_eq "gamma rows unlike the file's point" 0 "$(sql "
    SELECT count(*) FROM trial_params p JOIN trials t ON t.id = p.trial_id
    WHERE p.value != CASE p.name WHEN 'f' THEN t.point / 8.0 WHEN 'c' THEN -t.point / 16.0
                                 WHEN 'f_c' THEN 1 WHEN 'fc' THEN t.point / 4.0 ELSE 0 END")"
expect_eq "gamma rows" $((POINTS * SEEDS * 5)) "$(sql "SELECT count(*) FROM trial_params")"
echo "PASS"
