#!/usr/bin/env bash
# infomorph export of a campaign too big for one page: the coordinator sends
# it a page at a time and the command writes CSV and JSON as it goes; both
# match the database row for row (trials in number order, their fields,
# gamma, attempts, curves and atoms), and nothing of another campaign leaks
# in; infomorph trials lists the same campaign page by page. The trials are
# written into the database directly (plain SQL, as the coordinator would
# have left them) while the coordinator is stopped.
# Usage: it_export.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

start_coordinator # creates the schema
kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true

# big_trials CONDITION: the big campaign's trials for the numbers i of n that meet it
big_trials() {
    echo "INSERT INTO trials (campaign_id, number, point, seed, label, status, attempt, worker, val_acc,
                    test_acc, wall_s, error, spec, created_at, started_at, finished_at)
SELECT 1, i, i / 2, i % 2 + 1, CASE WHEN i % 10 = 0 THEN 'base' END,
       CASE WHEN i % 17 = 0 THEN 'failed' ELSE 'done' END, 1 + (i % 50 = 0), 'w' || (i % 4),
       CASE WHEN i % 17 = 0 THEN NULL ELSE 0.5 + (i % 97) / 1000.0 END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 0.4 + (i % 89) / 1000.0 END, 1.25 + i / 8.0,
       CASE WHEN i % 17 = 0 THEN 'boom, \"quoted\"' END,
       json_object('dataset', 'mnist10k', 'seed', i % 2 + 1), $NOW, $NOW, $NOW
FROM n WHERE $1;"
}

N=1234 # trials of the big campaign; pages of 100 and (the default) 200
NOW="'2026-01-01T00:00:00.000Z'"
sql "
INSERT INTO campaigns (id, name, kind, status, spec, budget, created_at, started_at, finished_at)
VALUES (1, 'it-big', 'fixed', 'done', '{}', $N, $NOW, $NOW, $NOW),
       (2, 'it-other', 'fixed', 'done', '{}', 5, $NOW, $NOW, $NOW);
CREATE TEMP TABLE n AS WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < $N - 1)
SELECT i FROM r;
-- the big campaign's trials in two runs with another campaign's in between,
-- so that ids and numbers do not go in step
$(big_trials 'i < 600')
INSERT INTO trials (campaign_id, number, point, seed, status, spec, created_at)
SELECT 2, i, i, 1, 'queued', '{}', $NOW FROM n WHERE i < 5;
$(big_trials 'i >= 600')
INSERT INTO trial_params (trial_id, name, value)
SELECT t.id, p.name, (t.number % 13) / 6.5 - 1 + p.k / 100.0 FROM trials AS t,
       (SELECT 'f_c_l' AS name, 1 AS k UNION ALL SELECT 'f_c', 2 UNION ALL SELECT 'c_l', 3
        UNION ALL SELECT 'h_res', 0) AS p;
INSERT INTO trial_epochs (trial_id, epoch, train_acc, val_acc, test_acc, goal_hidden, goal_out, seconds)
SELECT t.id, e.e, 0.1 * e.e, 0.1 * e.e + t.number / 1e5, NULL, -0.5 * e.e, 0.25, 0.5
FROM trials AS t, (SELECT 0 AS e UNION ALL SELECT 1 UNION ALL SELECT 2) AS e WHERE t.status = 'done';
INSERT INTO trial_atoms (trial_id, layer, name, value)
SELECT t.id, a.layer, a.name, t.number / 1000.0 FROM trials AS t,
       (SELECT 'hidden' AS layer, 'f_c' AS name UNION ALL SELECT 'hidden', 'h_res'
        UNION ALL SELECT 'output', 'f') AS a WHERE t.status = 'done';
INSERT INTO trial_attempts (trial_id, attempt, worker, status, started_at, ended_at, error)
SELECT t.id, a.a, t.worker, CASE WHEN a.a < t.attempt THEN 'lost' ELSE t.status END, $NOW, $NOW,
       CASE WHEN a.a < t.attempt THEN 'lease expired' ELSE t.error END
FROM trials AS t, (SELECT 1 AS a UNION ALL SELECT 2) AS a WHERE a.a <= t.attempt;
"
expect_eq "trials written" $((N + 5)) "$(sql "SELECT count(*) FROM trials")"
start_coordinator

"$CLI" export it-big --format csv --page 100 -o "$T/x.csv" 2>"$T/csv.err" ||
    fail "export csv: $(cat "$T/csv.err")"
PAGES=$(grep -c "export of campaign 1: " "$T/coordinator.log" || true)
expect_eq "pages the coordinator sent" $(((N + 99) / 100)) "$PAGES"
"$CLI" export it-big --format json -o "$T/x.json" 2>"$T/json.err" ||
    fail "export json: $(cat "$T/json.err")"
expect_ge "pages sent (csv and json)" $((PAGES + (N + 199) / 200)) \
    "$(grep -c "export of campaign 1: " "$T/coordinator.log")"

# CSV: loaded into SQLite beside the database, the same rows in the same order
csvq() {
    sqlite3 -batch -noheader :memory: -cmd ".mode csv" -cmd ".import $T/x.csv x" \
        -cmd ".mode list" -cmd "ATTACH '$DB' AS d" "$1"
}
expect_eq "csv header" "trial,number,status,seed,val_acc,test_acc,wall_s,worker,attempts,f_c_l,f_c,c_l,h_res" \
    "$(head -1 "$T/x.csv")"
expect_eq "csv rows" $N "$(csvq "SELECT count(*) FROM x")"
# expect_same WHAT EXPECTED ACTUAL: as expect_eq, for long values
expect_same() {
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
    it_log "ok: $1 (${#3} characters)"
}
ORDER=$(sql "SELECT group_concat(id) FROM (SELECT id FROM trials WHERE campaign_id = 1 ORDER BY number)")
expect_same "csv trial order = the database's by number" "$ORDER" \
    "$(csvq "SELECT group_concat(trial) FROM (SELECT trial FROM x ORDER BY rowid)")"
same() { # a CSV text field against a database value, NULL as empty
    echo "(coalesce(x.$1, '') = '' AND $2 IS NULL OR abs(CAST(x.$1 AS REAL) - $2) < 1e-9)"
}
expect_eq "csv rows equal to their database rows" $N "$(csvq "
SELECT count(*) FROM x JOIN d.trials AS t ON t.id = CAST(x.trial AS INTEGER) AND t.campaign_id = 1
WHERE CAST(x.number AS INTEGER) = t.number AND x.status = t.status
  AND CAST(x.seed AS INTEGER) = t.seed AND x.worker = t.worker
  AND $(same val_acc t.val_acc) AND $(same test_acc t.test_acc) AND $(same wall_s t.wall_s)
  AND CAST(x.attempts AS INTEGER) = (SELECT count(*) FROM d.trial_attempts AS a WHERE a.trial_id = t.id)
  AND $(same f_c_l "(SELECT value FROM d.trial_params WHERE trial_id = t.id AND name = 'f_c_l')")
  AND $(same f_c "(SELECT value FROM d.trial_params WHERE trial_id = t.id AND name = 'f_c')")
  AND $(same c_l "(SELECT value FROM d.trial_params WHERE trial_id = t.id AND name = 'c_l')")
  AND $(same h_res "(SELECT value FROM d.trial_params WHERE trial_id = t.id AND name = 'h_res')")")"

# JSON: one valid document, the same trials with everything attached
J="readfile('$T/x.json')"
jsq() {
    sqlite3 -batch -noheader :memory: -cmd "ATTACH '$DB' AS d" -cmd "CREATE TEMP TABLE j AS
        SELECT key, json_extract(value, '\$.trial') AS trial, value FROM json_each($J, '\$.trials')" "$1"
}
expect_eq "json is valid" 1 "$(jsq "SELECT json_valid($J)")"
expect_eq "json campaign" "it-big|$N" \
    "$(jsq "SELECT json_extract($J, '\$.campaign.name'), json_extract($J, '\$.campaign.trials')")"
expect_eq "json trials" $N "$(jsq "SELECT json_array_length($J, '\$.trials')")"
expect_same "json trial order = the database's by number" "$ORDER" \
    "$(jsq "SELECT group_concat(trial) FROM (SELECT trial FROM j ORDER BY key)")"
expect_eq "json trials equal to their database rows" $N "$(jsq "
SELECT count(*) FROM j JOIN d.trials AS t ON t.id = j.trial AND t.campaign_id = 1
WHERE json_extract(j.value, '\$.number') = t.number
  AND json_extract(j.value, '\$.status') = t.status
  AND json_extract(j.value, '\$.label') IS t.label
  AND json_extract(j.value, '\$.error') IS t.error
  AND json_extract(j.value, '\$.val_acc') IS t.val_acc
  AND json_extract(j.value, '\$.wall_s') = t.wall_s
  AND json_extract(j.value, '\$.spec.seed') = json_extract(t.spec, '\$.seed')
  AND json_extract(j.value, '\$.gamma.f_c') = (SELECT value FROM d.trial_params WHERE trial_id = t.id AND name = 'f_c')
  AND json_array_length(j.value, '\$.epochs') = (SELECT count(*) FROM d.trial_epochs WHERE trial_id = t.id)
  AND coalesce(json_extract(j.value, '\$.epochs[2].val_acc'), -1) =
      coalesce((SELECT val_acc FROM d.trial_epochs WHERE trial_id = t.id AND epoch = 2), -1)
  AND coalesce(json_extract(j.value, '\$.atoms.hidden.h_res'), -1) =
      coalesce((SELECT value FROM d.trial_atoms WHERE trial_id = t.id AND layer = 'hidden' AND name = 'h_res'), -1)
  AND json_array_length(j.value, '\$.attempts') = (SELECT count(*) FROM d.trial_attempts WHERE trial_id = t.id)
  AND json_extract(j.value, '\$.attempts[#-1].status') = t.status")"

# infomorph trials: the big campaign comes in pages too (TRIALS with from and
# limit, 1000 a page); every trial is listed once, in number order
"$CLI" trials it-big >"$T/trials.txt" 2>"$T/trials.err" || fail "trials: $(cat "$T/trials.err")"
expect_eq "trials listed" "$N trials" "$(tail -n 1 "$T/trials.txt")"
expect_eq "each trial once, in number order" "$(seq 0 $((N - 1)) | tr '\n' ' ')" \
    "$(awk 'NR > 1 && $2 ~ /^[0-9]+$/ { printf "%s ", $2 }' "$T/trials.txt")"

# a small campaign (one page) and an unknown one
"$CLI" export it-other --format json -o "$T/o.json" 2>"$T/o.err" || fail "export it-other: $(cat "$T/o.err")"
expect_eq "the small campaign's trials" "it-other|5" \
    "$(sqlite3 :memory: "SELECT json_extract(readfile('$T/o.json'), '\$.campaign.name'), json_array_length(readfile('$T/o.json'), '\$.trials')")"
"$CLI" export no-such --format csv -o "$T/none.csv" 2>"$T/none.err" && fail "export of an unknown campaign succeeded"
grep -q "no campaign 'no-such'" "$T/none.err" || fail "unknown campaign: $(cat "$T/none.err")"
[ ! -e "$T/none.csv" ] || fail "a failed export left its file"
echo "PASS"
