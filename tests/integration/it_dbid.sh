#!/usr/bin/env bash
# A result never lands in the wrong database. Coordinator A (a.db) hands out
# a long trial of campaign "old" to worker wa and a short one of "quick" to
# wb, and is killed; wb finishes its trial while no coordinator runs. A
# coordinator B starts on the SAME endpoints with another database, b.db,
# whose campaign "new" has trials of the same ids (1, 2), running attempt 1
# on workers wc and wd (held still with SIGSTOP) when wa and wb speak again.
# wa's PROGRESS/HEARTBEAT and wb's RESULT name database A: B refuses them
# (STOP "unknown", ACK "other database") and stores nothing of them, though
# trial and attempt match; B's trials end with their own workers' results,
# B's spec and epoch count; wa and wb ask B for work.
# Usage: it_dbid.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

DBA=$T/a.db DBB=$T/b.db
sqla() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$DBA" "$1"; }
sqlb() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$DBB" "$1"; }
on_a() { [ "$(sqla "SELECT count(*) FROM trials WHERE status = 'running' AND worker = '$1'")" = 1 ]; }
on_b() { [ "$(sqlb "SELECT count(*) FROM trials WHERE status = 'running' AND worker IN ('wc', 'wd')")" = 2 ]; }
refused() {
    [ "$(sqlb "SELECT count(DISTINCT worker) FROM events WHERE kind = 'other_database'")" = 2 ]
}
asked_b() { [ "$(sqlb "SELECT count(*) FROM workers WHERE name IN ('wa', 'wb')")" = 2 ]; }
new_done() { [ "$(sqlb "SELECT status FROM campaigns WHERE name = 'new'")" = done ]; }

# "old": far more epochs than the test lasts; "quick": a second or two;
# "new": 2 epochs of 300 hidden neurons, a few seconds
OLD='{"dataset": "mnist10k", "hidden": 100, "epochs": 1000, "train_limit": 2000, "eval_limit": 300, "batch": 256}'
QUICK='{"dataset": "mnist10k", "hidden": 100, "epochs": 30, "train_limit": 2000, "eval_limit": 300, "batch": 256}'
NEW='{"dataset": "mnist10k", "hidden": 300, "epochs": 2, "train_limit": 4000, "eval_limit": 300, "batch": 256}'

DB=$DBA
start_coordinator --lease 30
submit_campaign old 1 "$OLD"
start_worker wa
WA=$WORKER_PID
wait_for 30 "wa trains old's trial" on_a wa
submit_campaign quick 1 "$QUICK"
start_worker wb
WB=$WORKER_PID
wait_for 30 "wb trains quick's trial" on_a wb
ID_A=$(sqla "SELECT id FROM database_identity")
it_log "killing coordinator A (database $ID_A)"
kill_hard "$COORD_PID"
expect_eq "trials out at A's death" "old 1 wa|quick 2 wb" \
    "$(sqla "SELECT group_concat(c.name || ' ' || t.id || ' ' || t.worker, '|') FROM
             (SELECT * FROM trials ORDER BY id) t JOIN campaigns c ON c.id = t.campaign_id")"
# wb finishes with no coordinator to report to: its result waits
wait_for 40 "wb finished quick's trial" grep -q "trial 2 attempt 1: done" "$T/wb.log"
kill -STOP "$WA" "$WB"

DB=$DBB
start_coordinator --lease 30
ID_B=$(sqlb "SELECT id FROM database_identity")
[ -n "$ID_B" ] && [ "$ID_B" != "$ID_A" ] || fail "database B's id '$ID_B' (A: '$ID_A')"
submit_campaign new 2 "$NEW"
start_worker wc
WC=$WORKER_PID
start_worker wd
WD=$WORKER_PID
wait_for 30 "B's trials 1 and 2 run (attempt 1) on wc and wd" on_b
kill -STOP "$WC" "$WD"
# trials 1 and 2 of B: attempt 1, running, on wc and wd (in either order)
b_trials() {
    sqlb "SELECT (SELECT count(*) FROM trial_epochs) || '|' || group_concat(id || ' ' || attempt
          || ' ' || status, '|') || '|' || (SELECT group_concat(worker, ' ') FROM
          (SELECT worker FROM trials ORDER BY worker)) FROM (SELECT * FROM trials ORDER BY id)"
}
# wc and wd may have reported their epoch 0 before they stopped: whatever B
# holds now must not change while only A's workers speak
E0=$(sqlb "SELECT count(*) FROM trial_epochs")
expect_eq "B's trials out" "$E0|1 1 running|2 1 running|wc wd" "$(b_trials)"

# wa and wb speak again, about trials 1 and 2, attempt 1, of database A
kill -CONT "$WA" "$WB"
wait_for 40 "B answered wb's RESULT about A's trial 2" grep -q "result of trial 2 acknowledged" "$T/wb.log"
expect_eq "wb's result for A not stored in B" "$E0|1 1 running|2 1 running|wc wd" "$(b_trials)"
grep -q "result of trial 2 acknowledged (other database): not recorded, dropped" "$T/wb.log" ||
    fail "wb did not drop its result for A"
wait_for 40 "wa was told to stop A's trial" grep -q "trial 1: told to stop (unknown)" "$T/wa.log"
expect_eq "nothing of A's trials stored in B" "$E0|1 1 running|2 1 running|wc wd" "$(b_trials)"
wait_for 20 "B recorded the refusals" refused
expect_eq "one event per worker, naming A's database" 2 \
    "$(sqlb "SELECT count(*) FROM events WHERE kind = 'other_database' AND detail LIKE
             '% of trial ' || (CASE worker WHEN 'wa' THEN 1 ELSE 2 END) || ' attempt 1 for database $ID_A%'")"

kill -CONT "$WC" "$WD"
wait_for 60 "campaign new is done on B" new_done
expect_eq "B's trials: its own spec, done by its own workers" "1 done 300 2|2 done 300 2|wc wd" \
    "$(sqlb "SELECT group_concat(id || ' ' || status || ' ' || json_extract(spec, '\$.hidden') || ' '
             || json_extract(spec, '\$.epochs'), '|') || '|' || (SELECT group_concat(worker, ' ') FROM
             (SELECT worker FROM trials ORDER BY worker)) FROM (SELECT * FROM trials ORDER BY id)")"
expect_eq "B's curves: epochs 0..2 of its own trials" "1 3 2|2 3 2" \
    "$(sqlb "SELECT group_concat(trial_id || ' ' || n || ' ' || last, '|') FROM
             (SELECT trial_id, count(*) AS n, max(epoch) AS last FROM trial_epochs
              GROUP BY trial_id ORDER BY trial_id)")"
expect_eq "B's attempts: one each, done" "2 2" \
    "$(sqlb "SELECT count(*) || ' ' || sum(status = 'done') FROM trial_attempts")"
expect_eq "no lease resumed on B" 0 "$(sqlb "SELECT count(*) FROM events WHERE kind = 'lease_resumed'")"
wait_for 20 "wa and wb asked B for work" asked_b
echo "PASS"
