#!/usr/bin/env bash
# The verbs of the infomorph command against a real coordinator and worker:
# submit (and refusals with exit status 2 naming the field), ls, status
# (also --watch until the campaign ends), best, trials, export csv and json
# (parsed back), cancel, workers, --help on every verb, a clear error with
# exit status 1 when no coordinator answers, usage errors (status 2), and
# global options (--connect, --help, --version) before the verb.
# Usage: it_cli.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

# run_cli EXPECTED_STATUS NAME ARGS...: run the command, keep its output in
# $T/NAME.out and .err, check the exit status.
run_cli() {
    local want=$1 name=$2 rc=0
    shift 2
    "$CLI" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || fail "infomorph $*: exit status $rc, expected $want: $(cat "$T/$name.err")"
    it_log "ok: infomorph $* -> $rc"
}
has() { grep -q -- "$2" "$T/$1" || fail "$1 lacks '$2': $(head -c 2000 "$T/$1")"; }

pick_endpoints
# no coordinator yet: a clear error, status 1
run_cli 1 down ls
has down.err "no coordinator answering at $CEND"
has down.err "is infomorph-coordinator running"

for verb in submit status ls best trials cancel export workers; do
    run_cli 0 "help-$verb" "$verb" --help
    has "help-$verb.out" "usage: infomorph $verb"
done
run_cli 2 usage-best best
run_cli 2 usage-export export some --format xml
run_cli 2 usage-option ls --frobnicate
has usage-option.err "infomorph ls: unknown option '--frobnicate'"
run_cli 2 usage-operand ls extra
has usage-operand.err "unexpected argument 'extra'"
run_cli 2 usage-value best some -n
has usage-value.err "infomorph best: -n needs a value"
run_cli 2 usage-page export some --format=csv --page=0
has usage-page.err "1..1000"
run_cli 2 usage-watch status --watch=0
run_cli 2 usage-connect ls --connect
has usage-connect.err "infomorph ls: --connect needs a value"

# the command itself: global options before the verb
run_cli 0 help --help
has help.out "usage: infomorph \[--connect ENDPOINT\] VERB"
has help.out "global options"
has help.out "workers"
run_cli 0 version --version
has version.out "^infomorph [0-9]"
run_cli 2 no-verb
run_cli 2 no-verb-after-option --connect "$CEND"
run_cli 2 unknown-verb frobnicate
has unknown-verb.err "unknown verb 'frobnicate'"
run_cli 2 global-unknown --frobnicate ls
has global-unknown.err "infomorph: unknown option '--frobnicate'"
run_cli 2 global-no-value --connect
has global-no-value.err "infomorph: --connect needs a value"
printf '{"sources": 2, "shape": [1, 1, 2], "p": [0.5, 0.5]}' >"$T/pid.json"
run_cli 2 global-local-verb --connect "$CEND" pid "$T/pid.json"
has global-local-verb.err "not pid"
run_cli 0 global-help-verb --connect "$CEND" best --help
has global-help-verb.out "usage: infomorph best"

start_coordinator --lease 30
start_worker w1

# refusals: not JSON, a bad value, an unknown key
printf '{"name": "x", ' >"$T/notjson.json"
run_cli 2 bad-json submit "$T/notjson.json"
has bad-json.err "notjson.json"
printf '{"name": "bad-budget", "kind": "search", "budget": 0}' >"$T/bad1.json"
run_cli 2 bad-budget submit "$T/bad1.json"
has bad-budget.err "budget"
printf '{"name": "bad-key", "kind": "search", "budget": 2, "budgett": 3}' >"$T/bad2.json"
run_cli 2 bad-key submit "$T/bad2.json"
has bad-key.err "budgett"
run_cli 1 missing-file submit "$T/no-such-file.json"
# trials that would need more memory than --max-trial-memory (16 GB): refused
# at submission, before any worker takes one and dies of it
printf '{"name": "huge-hidden", "kind": "search", "budget": 1, "train": {"hidden": 100000}}' >"$T/huge1.json"
run_cli 2 huge-hidden submit "$T/huge1.json"
has huge-hidden.err "max-trial-memory"
printf '{"name": "huge-batch", "kind": "search", "budget": 1, "train": {"batch": 1000000}}' >"$T/huge2.json"
run_cli 2 huge-batch submit "$T/huge2.json"
has huge-batch.err "more than the coordinator's --max-trial-memory 16.0 GB"
expect_eq "campaigns after the refusals" 0 "$(sql "SELECT count(*) FROM campaigns")"

BUDGET=4
write_campaign "$T/c.json" it-cli $BUDGET
run_cli 0 submit submit "$T/c.json"
has submit.out "it-cli"
# the same file again (a retried SUBMIT): the same campaign, not a second one
run_cli 0 submit-again submit "$T/c.json"
has submit-again.out "it-cli (id 1,"
expect_eq "campaigns after the same submission twice" 1 "$(sql "SELECT count(*) FROM campaigns")"
write_campaign "$T/c2.json" it-cli $((BUDGET + 1))
run_cli 2 submit-other submit "$T/c2.json" # another spec: the name is taken

run_cli 0 ls ls
has ls.out "it-cli"
run_cli 0 watch status it-cli --watch 0.5
has watch.out "campaign it-cli"
has watch.out "$BUDGET done"
campaign_is it-cli done || fail "status --watch returned before the campaign ended"
run_cli 0 status status it-cli
has status.out "best:"
has status.out "gamma:   f_c_l="
run_cli 0 status-all status
has status-all.out "it-cli"

# --connect before the verb, in both forms, and after it; with
# $INFOMORPH_CONNECT pointing where no coordinator answers, only the
# option can reach this one. A --connect after the verb wins.
DEAD=tcp://127.0.0.1:1
INFOMORPH_CONNECT=$DEAD run_cli 0 before status --connect "$CEND" --watch=0.5 it-cli
has before.out "$BUDGET done"
INFOMORPH_CONNECT=$DEAD run_cli 0 before --connect "$CEND" status it-cli
has before.out "campaign it-cli"
INFOMORPH_CONNECT=$DEAD run_cli 0 before-eq --connect="$CEND" ls
has before-eq.out "it-cli"
INFOMORPH_CONNECT=$DEAD run_cli 0 after ls --connect="$CEND"
has after.out "it-cli"
INFOMORPH_CONNECT=$DEAD run_cli 0 both --connect "$DEAD" trials --connect "$CEND" it-cli
expect_eq "rows of trials (both --connect)" $BUDGET "$(grep -c ' done ' "$T/both.out")"
# options before the operand, and the operand between options
INFOMORPH_CONNECT=$DEAD run_cli 0 before-n --connect "$CEND" best -n 2 it-cli
expect_eq "rows of best -n 2 it-cli" 2 "$(($(wc -l <"$T/before-n.out") - 1))"
run_cli 0 csv-order export --format=csv it-cli -o "$T/order.csv" --page 1
expect_eq "csv lines, a trial per page" $((BUDGET + 1)) "$(wc -l <"$T/order.csv")"

run_cli 0 best best it-cli -n 3
# beyond what a BEST request may ask (1..1000): a usage error, not status 1
run_cli 2 best-too-many best it-cli -n 5000
has best-too-many.err "1..1000"
run_cli 2 best-overflow best it-cli -n 99999999999999999999
has best.out "RANK"
has best.out "f_c"
expect_eq "rows of best -n 3" 3 "$(($(wc -l <"$T/best.out") - 1))"
BEST_DB=$(sql "SELECT id FROM trials WHERE status = 'done' ORDER BY val_acc DESC, id LIMIT 1")
BEST_VAL=$(sql "SELECT max(val_acc) FROM trials")
BEST_CLI=$(awk 'NR == 2 {print $3}' "$T/best.out")
awk -v a="$BEST_CLI" -v b="$BEST_VAL" 'BEGIN { exit !(a - b < 1e-4 && b - a < 1e-4) }' ||
    fail "best val $BEST_CLI, database $BEST_VAL"
awk 'NR > 1 { if (NR > 2 && $3 > prev + 1e-12) exit 1; prev = $3 }' "$T/best.out" ||
    fail "best is not sorted by val: $(cat "$T/best.out")"
it_log "ok: best trial $BEST_DB val $BEST_CLI"

run_cli 0 trials trials it-cli
expect_eq "rows of trials" $BUDGET "$(grep -c ' done ' "$T/trials.out")"

run_cli 0 csv export it-cli --format csv -o "$T/x.csv"
expect_eq "csv lines" $((BUDGET + 1)) "$(wc -l <"$T/x.csv")"
head -1 "$T/x.csv" | grep -q '^trial,number,status,seed,val_acc,test_acc,wall_s' || fail "csv header: $(head -1 "$T/x.csv")"
head -1 "$T/x.csv" | grep -q ',f_c,' || fail "csv header lacks the gamma columns"
expect_eq "csv fields per line (all equal)" 1 "$(awk -F, '{print NF}' "$T/x.csv" | sort -u | wc -l)"
# the csv loads into SQLite and agrees with the database
CSVSUM=$(sqlite3 :memory: -cmd ".mode csv" -cmd ".import $T/x.csv x" "SELECT count(*), round(sum(val_acc), 6) FROM x WHERE status = 'done'")
expect_eq "csv rows and val_acc sum" "$BUDGET,$(sql "SELECT round(sum(val_acc), 6) FROM trials")" "$CSVSUM"

run_cli 0 json export it-cli --format json -o "$T/x.json"
J="readfile('$T/x.json')"
expect_eq "json is valid" 1 "$(sqlite3 :memory: "SELECT json_valid($J)")"
expect_eq "json trials" $BUDGET "$(sqlite3 :memory: "SELECT json_array_length($J, '\$.trials')")"
expect_eq "json campaign name" it-cli "$(sqlite3 :memory: "SELECT json_extract($J, '\$.campaign.name')")"
expect_eq "json epochs of the first trial" 2 "$(sqlite3 :memory: "SELECT json_array_length($J, '\$.trials[0].epochs')")"
expect_ge "json hidden atoms of the first trial" 5 \
    "$(sqlite3 :memory: "SELECT count(*) FROM json_each(json_extract($J, '\$.trials[0].atoms.hidden'))")"
run_cli 0 json-stdout export it-cli --format json
has json-stdout.out '"trials"'

run_cli 0 workers workers
has workers.out "w1"
run_cli 1 unknown best no-such-campaign
has unknown.err "no-such-campaign"

# cancel: a big campaign, cancelled at once
write_campaign "$T/big.json" it-cancel 500
run_cli 0 submit-big submit "$T/big.json"
run_cli 0 cancel cancel it-cancel
has cancel.out "it-cancel"
wait_for 20 "the campaign is cancelled" campaign_is it-cancel cancelled
settled() {
    [ "$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-cancel' AND t.status IN ('queued', 'running')")" = 0 ]
}
wait_for 20 "no trial of the cancelled campaign is queued or running" settled
N=$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id WHERE c.name = 'it-cancel' AND t.status = 'done'")
[ "$N" -lt 500 ] || fail "the cancelled campaign ran all its trials"
it_log "ok: $N of 500 trials ran before the cancel"
run_cli 1 cancel-again cancel it-cancel

# a search whose trials no worker can take yet (its dataset is nowhere): the
# planned trials, not created yet, count as queued
submit_campaign it-waiting 3 '{"dataset": "no-such-data", "hidden": 8, "epochs": 1}'
run_cli 0 waiting status it-waiting
has waiting.out "0 done, 0 running, 3 queued, 0 failed, 0 pruned, 0 cancelled (of 3)"
echo "PASS"
