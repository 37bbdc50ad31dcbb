-- 0003_stages.sql: the stage of an ablation's trials, and the successive
-- stage's curve.
--
--   trials.stage          'base', 'individual' or 'successive' in ablation
--                         campaigns, NULL elsewhere. A successive step's label
--                         is the component it removes in addition to the
--                         earlier steps' (so it can equal an individual label);
--                         the stage tells them apart.
--   ablation_effects      as before, reading the stage (successive rows: one
--                         per step, n_ablated = components removed so far)
--   ablation_successive   the stage 2 curve: per step, the components removed
--                         so far and the accuracy's mean, min and max over the
--                         step's done seeds; step 0 is the base

ALTER TABLE trials ADD COLUMN stage TEXT
    CHECK (stage IS NULL OR stage IN ('base', 'individual', 'successive'));

-- Ablation trials before this migration were all of the first stage.
UPDATE trials SET stage = CASE WHEN label = 'base' THEN 'base' ELSE 'individual' END
WHERE label IS NOT NULL
  AND campaign_id IN (SELECT id FROM campaigns WHERE kind = 'ablation');

DROP VIEW ablation_effects;

-- Ablation campaigns: per individual ablation (label = the component set to
-- 0) and per successive step (label = the component removed at that step),
-- the change of the done trials' accuracy against the mean of the campaign's
-- done base trials. The individual rows come first, the most harmful
-- ablation (most negative mean_delta_val) first; then the successive steps in
-- order (n_ablated = 1, 2, ...).
CREATE VIEW ablation_effects AS
WITH base AS (
    SELECT t.campaign_id,
           COUNT(*) AS base_n,
           AVG(t.val_acc) AS base_val_acc,
           AVG(t.test_acc) AS base_test_acc
    FROM trials AS t
    JOIN campaigns AS c ON c.id = t.campaign_id
    WHERE c.kind = 'ablation' AND t.stage = 'base'
      AND t.status = 'done' AND t.val_acc IS NOT NULL
    GROUP BY t.campaign_id
),
steps AS (
    SELECT campaign_id, point,
           DENSE_RANK() OVER (PARTITION BY campaign_id ORDER BY point) AS step
    FROM (SELECT DISTINCT campaign_id, point FROM trials WHERE stage = 'successive')
),
runs AS (
    SELECT t.campaign_id,
           t.stage,
           t.label AS ablated,
           CASE WHEN t.stage = 'successive' THEN s.step ELSE 1 END AS n_ablated,
           t.val_acc - b.base_val_acc AS d_val,
           t.test_acc - b.base_test_acc AS d_test
    FROM trials AS t
    JOIN campaigns AS c ON c.id = t.campaign_id
    JOIN base AS b ON b.campaign_id = t.campaign_id
    LEFT JOIN steps AS s ON s.campaign_id = t.campaign_id AND s.point = t.point
    WHERE c.kind = 'ablation' AND t.stage IN ('individual', 'successive')
      AND t.status = 'done' AND t.val_acc IS NOT NULL
),
means AS (
    SELECT campaign_id, stage, ablated, n_ablated, AVG(d_val) AS mean_d
    FROM runs
    GROUP BY campaign_id, stage, ablated, n_ablated
)
SELECT
    r.campaign_id,
    c.name AS campaign,
    r.ablated,
    r.stage,
    r.n_ablated,
    COUNT(*) AS n,
    b.base_n,
    b.base_val_acc,
    AVG(r.d_val) AS mean_delta_val,
    sqrt(SUM((r.d_val - m.mean_d) * (r.d_val - m.mean_d)) / (COUNT(*) - 1)) AS sd_delta_val,
    MIN(r.d_val) AS min_delta_val,
    MAX(r.d_val) AS max_delta_val,
    AVG(r.d_test) AS mean_delta_test
FROM runs AS r
JOIN means AS m ON m.campaign_id = r.campaign_id AND m.stage = r.stage
               AND m.ablated = r.ablated AND m.n_ablated = r.n_ablated
JOIN base AS b ON b.campaign_id = r.campaign_id
JOIN campaigns AS c ON c.id = r.campaign_id
GROUP BY r.campaign_id, r.stage, r.ablated, r.n_ablated
ORDER BY r.campaign_id, r.stage, r.n_ablated, mean_delta_val;

-- The successive stage of each ablation campaign, as the paper's Fig. 4C:
-- n_removed components set to 0 (0 = the base), which (removed: the short
-- names in the order removed, comma-separated; last: the one this step
-- adds), and the validation accuracy's mean, min and max over the step's
-- done seeds (n of them), with the mean test accuracy.
CREATE VIEW ablation_successive AS
WITH steps AS (
    SELECT campaign_id, point, label,
           DENSE_RANK() OVER (PARTITION BY campaign_id ORDER BY point) AS step
    FROM (SELECT campaign_id, point, MAX(label) AS label FROM trials
          WHERE stage = 'successive' GROUP BY campaign_id, point)
),
removed AS (
    SELECT s.campaign_id, s.step,
           (SELECT group_concat(label, ',')
            FROM (SELECT p.label FROM steps AS p
                  WHERE p.campaign_id = s.campaign_id AND p.step <= s.step
                  ORDER BY p.step)) AS removed
    FROM steps AS s
),
curve AS (
    SELECT t.campaign_id, 0 AS n_removed, NULL AS last, '' AS removed, t.val_acc, t.test_acc
    FROM trials AS t
    WHERE t.stage = 'base' AND t.status = 'done' AND t.val_acc IS NOT NULL
      AND EXISTS (SELECT 1 FROM steps AS x WHERE x.campaign_id = t.campaign_id)
    UNION ALL
    SELECT t.campaign_id, s.step, s.label, r.removed, t.val_acc, t.test_acc
    FROM trials AS t
    JOIN steps AS s ON s.campaign_id = t.campaign_id AND s.point = t.point
    JOIN removed AS r ON r.campaign_id = s.campaign_id AND r.step = s.step
    WHERE t.stage = 'successive' AND t.status = 'done' AND t.val_acc IS NOT NULL
)
SELECT
    u.campaign_id,
    c.name AS campaign,
    u.n_removed,
    u.last,
    u.removed,
    COUNT(*) AS n,
    AVG(u.val_acc) AS mean_val_acc,
    MIN(u.val_acc) AS min_val_acc,
    MAX(u.val_acc) AS max_val_acc,
    AVG(u.test_acc) AS mean_test_acc
FROM curve AS u
JOIN campaigns AS c ON c.id = u.campaign_id
GROUP BY u.campaign_id, u.n_removed
ORDER BY u.campaign_id, u.n_removed;
