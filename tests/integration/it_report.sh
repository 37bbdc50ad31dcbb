#!/usr/bin/env bash
# infomorph report on two small campaigns with known values
# (report_fixture.sh): from the coordinator (EXPORT) and from the database
# file (--db) the text and the HTML are byte for byte the same; every SVG of
# the page parses as XML and each plot has the expected number of points,
# bars and lines (report_check.py); the text form ranks the ablated
# components; a database with the stage 2 trials (a `stage` column) adds
# the successive stage; --db reads without writing; bad input fails cleanly.
# Usage: it_report.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report_fixture.sh"
it_init "$@"
CHECK="python3 $(dirname "$0")/report_check.py"

start_coordinator # creates the schema
kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
report_fixture
start_coordinator

for c in rep-search rep-ablation; do
    "$CLI" report "$c" --html "$T/$c.export.html" 2>"$T/err" || fail "report $c: $(cat "$T/err")"
    "$CLI" report "$c" --db "$DB" --html "$T/$c.db.html" 2>"$T/err" ||
        fail "report $c --db: $(cat "$T/err")"
    cmp "$T/$c.export.html" "$T/$c.db.html" || fail "$c: the two sources give different HTML"
    "$CLI" report "$c" >"$T/$c.export.txt" 2>"$T/err" || fail "report $c (text): $(cat "$T/err")"
    "$CLI" report "$c" --db "$DB" >"$T/$c.db.txt" || fail "report $c --db (text)"
    cmp "$T/$c.export.txt" "$T/$c.db.txt" || fail "$c: the two sources give different text"
    it_log "ok: $c: the same report from EXPORT and from --db"
done

# rep-search: 11 done, 1 pruned, 2 failed; the 5 best over 4 parameters;
# the best 10 % of 11 is 2 lines; curves of 3 epochs; atoms of the 5 best
# and of the paper-optimized trial (hidden: f_c, as H_res is left out of
# the bars; output: f)
$CHECK "$T/rep-search.db.html" \
    plot-history pt 14 plot-history done 11 plot-history pruned 1 plot-history failed 2 \
    plot-goals bar 20 plot-parallel pcline 2 plot-importance bar 4 \
    plot-curves curve 5 plot-curves pt 15 \
    plot-atoms-hidden bar 6 plot-atoms-output bar 6 \
    --absent plot-ablation --absent plot-successive || fail "rep-search: the page"
grep -q 'paper-optimized (n=1)' "$T/rep-search.db.html" || fail "no paper-optimized atoms"
grep -q '<td>boom' "$T/rep-search.db.html" && fail "error text leaked unescaped"
expect_eq "summary line" "trials: 14, done 11, failed 2, pruned 1" \
    "$(grep '^trials:' "$T/rep-search.db.txt")"
expect_eq "best trial" "1 13 0.7600 0.7500" \
    "$(awk '$1 == "1" {print $1, $2, $3, $4; exit}' "$T/rep-search.db.txt")"
expect_eq "importance rows" 4 "$(grep -c -E '^(f_c_l|f_c|c_l|h_res) +[{H]' "$T/rep-search.db.txt")"

# importance: eta^2 recomputed here, the naive way, from the database
expect_eq "eta^2 per parameter" "$(python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT t.number, t.val_acc, p.name, p.value FROM trials t JOIN trial_params p "
                  "ON p.trial_id = t.id WHERE t.campaign_id = 1 AND t.status = 'done'").fetchall()
out = []
for name in ["f_c_l", "f_c", "c_l", "h_res"]:
    pts = sorted((v, num, y) for num, y, nm, v in rows if nm == name)
    n = len(pts)
    bins = max(2, min(10, n // 5))
    ys = [y for _, _, y in pts]
    mean = sum(ys) / n
    total = sum((y - mean) ** 2 for y in ys)
    between, lo = 0.0, 0
    if pts[0][0] != pts[-1][0]:
        for b in range(bins):
            if lo >= n:
                break
            hi = n if b == bins - 1 else max((b + 1) * n // bins, lo + 1)
            while hi < n and pts[hi][0] == pts[hi - 1][0]:
                hi += 1
            m = sum(ys[lo:hi]) / (hi - lo)
            between += (hi - lo) * (m - mean) ** 2
            lo = hi
    out.append(f"{name}={between / total if total > 0 else 0:.3f}")
print(" ".join(out))
PY
)" "$(awk '/^parameter importance/ {on = 1; next} on && $1 != "PARAM" && NF {printf "%s%s=%s", s, $1, $3; s = " "}' \
    "$T/rep-search.db.txt")"

# rep-ablation: stage 1 only (no stage column yet), most harmful first
$CHECK "$T/rep-ablation.db.html" plot-ablation bar 3 plot-ablation whisker 2 \
    --absent plot-successive || fail "rep-ablation: the page"
expect_eq "stage 1 order" "f_c_l f_c c_l" \
    "$(awk '/^ablation stage 1/ {on = 1; next} on && $1 != "ABLATED" && NF {printf "%s%s", s, $1; s = " "}' \
        "$T/rep-ablation.db.txt")"
expect_eq "stage 1 f_c" "f_c {F}{C} -0.1100 0.0141 -0.1200 -0.1000 2" \
    "$(awk '$1 == "f_c" {print $1, $2, $3, $4, $5, $6, $7}' "$T/rep-ablation.db.txt")"
grep -q "stage 2" "$T/rep-ablation.db.txt" && fail "a stage 2 section without stage 2 data"

kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true

# stage 2 (a database with the stage column): base + 3 steps, one band
report_fixture_stage2
sum_before=$(sha256sum <"$DB")
"$CLI" report rep-ablation --db "$DB" --html "$T/stage2.html" || fail "report --db with stage 2"
"$CLI" report rep-ablation --db "$DB" >"$T/stage2.txt" || fail "report --db (text) with stage 2"
expect_eq "database file unchanged by --db" "$sum_before" "$(sha256sum <"$DB")"
$CHECK "$T/stage2.html" plot-ablation bar 3 plot-successive pt 4 plot-successive band 1 \
    plot-successive curve 1 || fail "stage 2: the page"
expect_eq "stage 2 rows" "1:0.7900:0.7800:0.8000 2:0.6800:0.6600:0.7000 3:0.5000:0.5000:0.5000" \
    "$(awk '/^ablation stage 2/ {on = 1; next} on && $1 ~ /^[0-9]+$/ {printf "%s%s:%s:%s:%s", s, $1, $2, $3, $4; s = " "}' \
        "$T/stage2.txt")"

# failures: exit 1 with a message, no file left behind
rc=0
"$CLI" report nosuch --db "$DB" --html "$T/no.html" 2>"$T/err" || rc=$?
expect_eq "unknown campaign: exit status" 1 "$rc"
grep -q "no campaign 'nosuch'" "$T/err" || fail "unknown campaign: $(cat "$T/err")"
[ ! -e "$T/no.html" ] || fail "a page for an unknown campaign"
rc=0
"$CLI" report rep-search --db "$T/missing.db" 2>"$T/err" || rc=$?
expect_eq "missing database: exit status" 1 "$rc"
[ ! -e "$T/missing.db" ] || fail "--db created a database"
rc=0
"$CLI" report rep-search --db "$DB" --html "$T/nodir/x.html" 2>"$T/err" || rc=$?
expect_eq "unwritable page: exit status" 1 "$rc"
rc=0
"$CLI" report 2>"$T/err" || rc=$?
expect_eq "no campaign: exit status" 2 "$rc"
it_log "PASS"
