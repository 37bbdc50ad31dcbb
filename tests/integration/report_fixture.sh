# report_fixture.sh: two small campaigns with known values for the report
# tests (sourced after lib.sh; writes into $DB with the coordinator stopped).
#
# rep-search (search, 14 trials numbered 0..13): 3 and 7 failed, 9 pruned,
# the other 11 done with val_acc = 0.5 + 0.02 number (number 0 runs the
# paper-optimized goal); gamma over f_c_l, f_c, c_l and h_res (0 for all);
# learning curves of epochs 0..2 and PID atoms (hidden: f_c, h_res; output:
# f) for the done trials; two workers.
# rep-ablation (ablation): 3 base trials (0.80, 0.82, 0.84), stage 1 with
# f_c (0.70, 0.72), c_l (0.81, 0.83) and f_c_l (0.60).
# report_fixture_stage2 sets the trials' `stage` and adds
# stage 2 trials, each labelled with the component it adds: c_l (0.80, 0.78),
# then f_c (0.70, 0.66), then f_c_l (0.50).

report_fixture() {
    local now="'2026-01-01T00:00:00.000Z'"
    sql "
INSERT INTO campaigns (id, name, kind, status, spec, sampler, budget, seed, created_at, started_at, finished_at)
VALUES (1, 'rep-search', 'search', 'done', '{}', 'random', 14, 1, $now, $now, '2026-01-01T00:10:00.000Z'),
       (2, 'rep-ablation', 'ablation', 'done', '{}', NULL, NULL, 0, $now, $now, '2026-01-01T01:00:00.000Z');
CREATE TEMP TABLE n AS WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 13)
SELECT i FROM r;
INSERT INTO trials (campaign_id, number, point, seed, status, attempt, worker, val_acc, test_acc,
                    wall_s, error, spec, created_at, started_at, finished_at)
SELECT 1, i, i, 1, CASE WHEN i IN (3, 7) THEN 'failed' WHEN i = 9 THEN 'pruned' ELSE 'done' END,
       1, 'w' || (i % 2), CASE WHEN i IN (3, 7) THEN NULL ELSE 0.5 + 0.02 * i END,
       CASE WHEN i IN (3, 7, 9) THEN NULL ELSE 0.49 + 0.02 * i END, 10.0 + i,
       CASE WHEN i IN (3, 7) THEN 'boom <&>' END,
       json_object('dataset', 'mnist10k', 'setup', 'trivariate', 'hidden', 100, 'epochs', 2,
                   'gamma', CASE WHEN i = 0 THEN 'paper-optimized' ELSE json_array(0) END),
       $now, $now, $now
FROM n;
INSERT INTO trial_params (trial_id, name, value)
SELECT t.id, p.name, CASE WHEN p.name = 'h_res' THEN 0 ELSE ((t.number * p.k) % 7) / 3.5 - 1 END
FROM trials AS t, (SELECT 'f_c_l' AS name, 1 AS k UNION ALL SELECT 'f_c', 2
                   UNION ALL SELECT 'c_l', 3 UNION ALL SELECT 'h_res', 0) AS p
WHERE t.campaign_id = 1;
INSERT INTO trial_epochs (trial_id, epoch, train_acc, val_acc, test_acc, goal_hidden, goal_out, seconds)
SELECT t.id, e.e, 0.1, t.val_acc * e.e / 2.0, NULL, 0, 0, 1.5
FROM trials AS t, (SELECT 0 AS e UNION ALL SELECT 1 UNION ALL SELECT 2) AS e
WHERE t.campaign_id = 1 AND t.status = 'done';
INSERT INTO trial_atoms (trial_id, layer, name, value)
SELECT t.id, a.layer, a.name, a.k + t.number / 100.0
FROM trials AS t, (SELECT 'hidden' AS layer, 'f_c' AS name, 0.5 AS k UNION ALL SELECT 'hidden', 'h_res', 1.0
                   UNION ALL SELECT 'output', 'f', 0.25) AS a
WHERE t.campaign_id = 1 AND t.status = 'done';
INSERT INTO trial_attempts (trial_id, attempt, worker, status, started_at, ended_at, error)
SELECT id, 1, worker, status, $now, $now, error FROM trials WHERE campaign_id = 1;
INSERT INTO trials (campaign_id, number, point, seed, label, status, attempt, worker, val_acc,
                    test_acc, wall_s, spec, created_at, started_at, finished_at)
VALUES (2, 0, 0, 1, 'base', 'done', 1, 'w0', 0.80, 0.79, 5, '{\"gamma\": \"paper-optimized\"}', $now, $now, $now),
       (2, 1, 0, 2, 'base', 'done', 1, 'w0', 0.82, 0.81, 5, '{\"gamma\": \"paper-optimized\"}', $now, $now, $now),
       (2, 2, 0, 3, 'base', 'done', 1, 'w0', 0.84, 0.83, 5, '{\"gamma\": \"paper-optimized\"}', $now, $now, $now),
       (2, 3, 1, 1, 'f_c', 'done', 1, 'w0', 0.70, 0.69, 5, '{}', $now, $now, $now),
       (2, 4, 1, 2, 'f_c', 'done', 1, 'w0', 0.72, 0.71, 5, '{}', $now, $now, $now),
       (2, 5, 2, 1, 'c_l', 'done', 1, 'w0', 0.81, 0.80, 5, '{}', $now, $now, $now),
       (2, 6, 2, 2, 'c_l', 'done', 1, 'w0', 0.83, 0.82, 5, '{}', $now, $now, $now),
       (2, 7, 3, 1, 'f_c_l', 'done', 1, 'w0', 0.60, 0.59, 5, '{}', $now, $now, $now);
"
}

report_fixture_stage2() {
    local now="'2026-01-01T00:00:00.000Z'"
    sql "
UPDATE trials SET stage = CASE WHEN label = 'base' THEN 'base' ELSE 'individual' END
WHERE campaign_id = 2;
INSERT INTO trials (campaign_id, number, point, seed, label, stage, status, attempt, worker,
                    val_acc, test_acc, wall_s, spec, created_at, started_at, finished_at)
VALUES (2, 8, 4, 1, 'c_l', 'successive', 'done', 1, 'w0', 0.80, 0.79, 5, '{}', $now, $now, $now),
       (2, 9, 4, 2, 'c_l', 'successive', 'done', 1, 'w0', 0.78, 0.77, 5, '{}', $now, $now, $now),
       (2, 10, 5, 1, 'f_c', 'successive', 'done', 1, 'w0', 0.70, 0.69, 5, '{}', $now, $now, $now),
       (2, 11, 5, 2, 'f_c', 'successive', 'done', 1, 'w0', 0.66, 0.65, 5, '{}', $now, $now, $now),
       (2, 12, 6, 1, 'f_c_l', 'successive', 'done', 1, 'w0', 0.50, 0.49, 5, '{}', $now, $now, $now);
"
}
