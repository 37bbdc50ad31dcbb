#!/usr/bin/env bash
# Chained campaigns: `infomorph submit A.json B.json` queues a search and an
# ablation of its best point; the ablation shows as waiting until the search
# is done, then runs both stages on the search's best point (mean over its
# seeds). An ablation chained on a campaign that is cancelled is cancelled
# with the reason; one chained on an unknown campaign is refused; a file
# that is not JSON stops the command before anything is submitted.
# Usage: it_chain.sh COORDINATOR WORKER CLI
source "$(dirname "$0")/lib.sh"
it_init "$@"

write_campaign "$T/a.json" chain-a 3
sed -i 's/"seed": 7/"seed": 7, "seeds_per_point": 2/' "$T/a.json"
cat >"$T/b.json" <<JSON
{"name": "chain-b", "kind": "ablation", "train": $TINY_TRAIN,
 "base": {"campaign": "chain-a"}, "seeds_per_point": 1}
JSON
start_coordinator --lease 30
"$CLI" submit "$T/a.json" "$T/b.json" >"$T/submit.out" 2>&1 || fail "submit refused: $(cat "$T/submit.out")"
expect_eq "submitted" 2 "$(grep -c '^submitted campaign' "$T/submit.out")"
"$CLI" ls >"$T/ls.out" 2>&1 || fail "ls: $(cat "$T/ls.out")"
grep -q "chain-b .*waiting" "$T/ls.out" || fail "chain-b is not shown waiting: $(cat "$T/ls.out")"
"$CLI" status chain-b >"$T/status.out" 2>&1 || fail "status: $(cat "$T/status.out")"
grep -q "waiting" "$T/status.out" || fail "status does not say waiting: $(cat "$T/status.out")"
# the database says so too, also after a restart (kill -9: nothing is left
# to write at the end)
expect_eq "chain-b in the database" waiting "$(sql "SELECT status FROM campaigns WHERE name = 'chain-b'")"
kill_hard "$COORD_PID"
start_coordinator --lease 30
expect_eq "chain-b after a restart" waiting "$(sql "SELECT status FROM campaigns WHERE name = 'chain-b'")"
"$CLI" ls >"$T/ls.out" 2>&1 || fail "ls: $(cat "$T/ls.out")"
grep -q "chain-b .*waiting" "$T/ls.out" || fail "chain-b is not shown waiting after a restart: $(cat "$T/ls.out")"

# chained on an unknown campaign: refused; a bad second file: nothing sent
sed 's/"chain-a"/"no-such"/; s/chain-b/chain-x/' "$T/b.json" >"$T/x.json"
"$CLI" submit "$T/x.json" >"$T/x.out" 2>&1 && fail "a chain on an unknown campaign was accepted"
grep -q "no-such" "$T/x.out" || fail "the refusal does not name the campaign: $(cat "$T/x.out")"
echo '{"name": ' >"$T/bad.json"
sed 's/chain-a/chain-y/' "$T/a.json" >"$T/y.json"
"$CLI" submit "$T/y.json" "$T/bad.json" >"$T/y.out" 2>&1 && fail "a bad file was accepted"
expect_eq "campaigns after the refusals" 2 "$(sql "SELECT count(*) FROM campaigns")"

start_worker wa
start_worker wb
wait_for 90 "the ablation is done" campaign_is chain-b done
expect_eq "the search is done" done "$(sql "SELECT status FROM campaigns WHERE name = 'chain-a'")"
# it stopped waiting, ran (started_at is set when it becomes running) and ended
expect_eq "chain-b ran after chain-a" 1 "$(sql "SELECT b.started_at >= a.finished_at
    AND b.finished_at IS NOT NULL FROM campaigns a, campaigns b
    WHERE a.name = 'chain-a' AND b.name = 'chain-b'")"
# the base is the search's best point by mean val_acc over its two seeds
best_point=$(sql "SELECT point FROM trials t JOIN campaigns c ON c.id = t.campaign_id
    WHERE c.name = 'chain-a' AND t.status = 'done' GROUP BY point
    ORDER BY avg(val_acc) DESC, point LIMIT 1")
expect_eq "base gamma = the search's best point" 0 "$(sql "
    SELECT count(*) FROM trial_params p JOIN trials t ON t.id = p.trial_id
    JOIN campaigns c ON c.id = t.campaign_id AND c.name = 'chain-b'
    JOIN trials s ON s.point = $best_point AND s.seed = 1
    JOIN campaigns sc ON sc.id = s.campaign_id AND sc.name = 'chain-a'
    JOIN trial_params q ON q.trial_id = s.id AND q.name = p.name
    WHERE t.stage = 'base' AND p.value != q.value")"
n_ind=$(sql "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id
    WHERE c.name = 'chain-b' AND t.stage = 'individual'")
expect_ge "individual ablations" 10 "$n_ind"
expect_eq "successive steps" "$n_ind" "$(sql "SELECT count(*) FROM trials t JOIN campaigns c
    ON c.id = t.campaign_id WHERE c.name = 'chain-b' AND t.stage = 'successive'")"
expect_eq "stage 2 curve rows" $((n_ind + 1)) \
    "$(sql "SELECT count(*) FROM ablation_successive WHERE campaign = 'chain-b'")"
expect_eq "all components removed at the end" 0 "$(sql "
    SELECT count(*) FROM trial_params p JOIN trials t ON t.id = p.trial_id
    JOIN campaigns c ON c.id = t.campaign_id AND c.name = 'chain-b'
    WHERE t.stage = 'successive' AND t.point = (SELECT max(point) FROM trials
    WHERE campaign_id = c.id) AND p.value != 0")"
"$CLI" export chain-b --format json -o "$T/b-export.json" >/dev/null 2>&1 || fail "export failed"
grep -q '"stage": *"successive"' "$T/b-export.json" || fail "EXPORT has no stage"

# a chain on a campaign that gets cancelled is cancelled, saying why
kill_hard "$WORKER_PID"
write_campaign "$T/c.json" chain-c 50
sed 's/chain-a/chain-c/; s/chain-b/chain-d/' "$T/b.json" >"$T/d.json"
"$CLI" submit "$T/c.json" "$T/d.json" >"$T/cd.out" 2>&1 || fail "submit refused: $(cat "$T/cd.out")"
"$CLI" cancel chain-c >/dev/null 2>&1 || fail "cancel refused"
wait_for 20 "the chained campaign is cancelled" campaign_is chain-d cancelled
expect_eq "reason" 1 "$(sql "SELECT count(*) FROM events e JOIN campaigns c ON c.id = e.campaign_id
    WHERE c.name = 'chain-d' AND e.kind = 'campaign_cancelled' AND e.detail LIKE '%chain-c%cancelled%'")"
echo "PASS"
