#!/usr/bin/env bash
# A fixed campaign of 100,000 points (the most a file may list): SUBMIT
# checks every point and counts them all as planned, but creates no trial;
# the coordinator answers right after; one worker's hand-outs create one
# point at a time; after a kill -9 and a restart (which parses the stored
# campaign again) the next hand-outs continue with the next points, none
# twice. Release builds only (the sanitizers make the JSON of 100,000 points
# many times slower). Prints the time SUBMIT took, without failing on it.
# Usage: it_fixed_large.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

N=${IT_POINTS:-100000}
awk -v n=$N 'BEGIN {
    srand(7)
    printf "{\"name\": \"it-large\", \"kind\": \"fixed\", \"seeds_per_point\": 1,\n"
    printf " \"train\": {\"dataset\": \"mnist10k\", \"setup\": \"bivariate-lateral\", \"hidden\": 8,"
    printf " \"epochs\": 1, \"train_limit\": 500, \"eval_limit\": 300, \"batch\": 256},\n"
    printf " \"points\": ["
    for (i = 0; i < n; i++)
        printf "%s[%.4f, %.4f, %.4f, %.4f, 0]", i ? ", " : "", rand() * 2 - 1, rand() * 2 - 1,
               rand() * 2 - 1, rand() * 2 - 1
    printf "]}\n"
}' >"$T/large.json"
# one bad point among them is refused by its index
sed 's/\[[^]]*\]\]}$/"no-such-preset"]}/' "$T/large.json" >"$T/bad.json"

start_coordinator --lease 30
"$CLI" submit "$T/bad.json" >"$T/bad.out" 2>&1 && fail "a campaign with a bad point was accepted"
grep -q "points\[$((N - 1))\]" "$T/bad.out" || fail "the refusal does not name the point: $(cat "$T/bad.out")"
t0=$(date +%s%N)
"$CLI" submit "$T/large.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"
t1=$(date +%s%N)
"$CLI" status it-large >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
t2=$(date +%s%N)
it_log "SUBMIT of $N points: $(( (t1 - t0) / 1000000 )) ms (the command's own check included); status after it: $(( (t2 - t1) / 1000000 )) ms"
grep -q "$N trials planned" "$T/submit.out" || fail "planned: $(cat "$T/submit.out")"
grep -q "(of $N)" "$T/status.out" || fail "status: $(cat "$T/status.out")"
expect_eq "trials right after the submission" 0 "$(sql "SELECT count(*) FROM trials")"
expect_eq "the stored campaign's points" $N "$(sql "SELECT json_array_length(spec, '\$.points') FROM campaigns")"

done_at_least() { [ "$(sql "SELECT count(*) FROM trials WHERE status = 'done'")" -ge "$1" ]; }
# a trial is created when it is handed out: none waits queued
start_worker wa
wait_for 60 "two trials are done" done_at_least 2
kill_hard "$WORKER_PID"
expect_eq "trials created but not handed out" 0 "$(sql "SELECT count(*) FROM trials WHERE attempt = 0")"
before=$(sql "SELECT count(*) FROM trials WHERE status = 'done'")
kill_hard "$COORD_PID"
start_coordinator --lease 30
"$CLI" status it-large >"$T/status2.out" 2>&1 || fail "status after the restart: $(cat "$T/status2.out")"
grep -q "(of $N)" "$T/status2.out" || fail "status after the restart: $(cat "$T/status2.out")"
start_worker wb
wait_for 60 "two more trials are done" done_at_least $((before + 2))
kill_hard "$WORKER_PID"
expect_eq "trials created but not handed out" 0 "$(sql "SELECT count(*) FROM trials WHERE attempt = 0")"
expect_eq "points created twice" "" "$(sql "SELECT point FROM trials GROUP BY point HAVING count(*) > 1")"
expect_eq "points created in order" 1 \
    "$(sql "SELECT count(*) = max(point) + 1 AND min(point) = 0 FROM trials")"
expect_eq "gamma rows unlike the file's point" 0 "$(python3 - "$T/large.json" "$DB" <<'PY'
import json, sqlite3, sys
points = json.load(open(sys.argv[1]))["points"]
db = sqlite3.connect(sys.argv[2])
names = ["f", "c", "f_c", "fc", "h_res"]
bad = 0
for point, name, value in db.execute(
        "SELECT t.point, p.name, p.value FROM trials t JOIN trial_params p ON p.trial_id = t.id"):
    bad += value != points[point][names.index(name)]
print(bad)
PY
)"
"$CLI" cancel it-large >/dev/null 2>&1 || fail "cancel refused"
echo "PASS"
