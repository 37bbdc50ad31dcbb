-- 0002_views.sql: views that make the common questions one-liners.
--
--   best_trials        done trials of each campaign ranked by validation accuracy
--   trial_gamma_wide   one row per trial, one column per gamma component
--   point_summary      mean and spread over the repeated seeds of each point
--   campaign_progress  trial counts by status, best accuracy, fraction finished
--   ablation_effects   accuracy change per ablated parameter against the base point
--
-- Spreads are sample standard deviations (n - 1), NULL for a single value.

-- Done trials with an accuracy, best first within each campaign; rank 1 is the
-- best (ties broken by test accuracy, then by the earlier trial).
CREATE VIEW best_trials AS
SELECT
    c.name AS campaign,
    t.campaign_id,
    ROW_NUMBER() OVER (PARTITION BY t.campaign_id
                       ORDER BY t.val_acc DESC, t.test_acc DESC, t.id) AS rank,
    t.id AS trial,
    t.number,
    t.point,
    t.seed,
    t.label,
    t.val_acc,
    t.test_acc,
    t.wall_s,
    t.worker
FROM trials AS t
JOIN campaigns AS c ON c.id = t.campaign_id
WHERE t.status = 'done' AND t.val_acc IS NOT NULL
ORDER BY t.campaign_id, rank;

-- Every trial with its gamma spread out: a column per short name, in the
-- canonical order of three sources (two-source trials fill f, c, f_c, fc and
-- h_res). A component the trial does not have is NULL.
CREATE VIEW trial_gamma_wide AS
SELECT
    t.id AS trial,
    t.campaign_id,
    c.name AS campaign,
    t.number,
    t.point,
    t.seed,
    t.label,
    t.status,
    t.val_acc,
    t.test_acc,
    MAX(CASE WHEN p.name = 'f_c_l' THEN p.value END)     AS f_c_l,
    MAX(CASE WHEN p.name = 'f_c' THEN p.value END)       AS f_c,
    MAX(CASE WHEN p.name = 'f_l' THEN p.value END)       AS f_l,
    MAX(CASE WHEN p.name = 'c_l' THEN p.value END)       AS c_l,
    MAX(CASE WHEN p.name = 'f_cl' THEN p.value END)      AS f_cl,
    MAX(CASE WHEN p.name = 'c_fl' THEN p.value END)      AS c_fl,
    MAX(CASE WHEN p.name = 'l_fc' THEN p.value END)      AS l_fc,
    MAX(CASE WHEN p.name = 'f' THEN p.value END)         AS f,
    MAX(CASE WHEN p.name = 'c' THEN p.value END)         AS c,
    MAX(CASE WHEN p.name = 'l' THEN p.value END)         AS l,
    MAX(CASE WHEN p.name = 'fc_fl_cl' THEN p.value END)  AS fc_fl_cl,
    MAX(CASE WHEN p.name = 'fc_fl' THEN p.value END)     AS fc_fl,
    MAX(CASE WHEN p.name = 'fc_cl' THEN p.value END)     AS fc_cl,
    MAX(CASE WHEN p.name = 'fl_cl' THEN p.value END)     AS fl_cl,
    MAX(CASE WHEN p.name = 'fc' THEN p.value END)        AS fc,
    MAX(CASE WHEN p.name = 'fl' THEN p.value END)        AS fl,
    MAX(CASE WHEN p.name = 'cl' THEN p.value END)        AS cl,
    MAX(CASE WHEN p.name = 'fcl' THEN p.value END)       AS fcl,
    MAX(CASE WHEN p.name = 'h_res' THEN p.value END)     AS h_res
FROM trials AS t
JOIN campaigns AS c ON c.id = t.campaign_id
LEFT JOIN trial_params AS p ON p.trial_id = t.id
GROUP BY t.id
ORDER BY t.campaign_id, t.number;

-- Per campaign and point: the done trials over the repeated seeds.
CREATE VIEW point_summary AS
WITH d AS (
    SELECT campaign_id, point, label, val_acc, test_acc,
           AVG(val_acc) OVER (PARTITION BY campaign_id, point) AS mean_val
    FROM trials
    WHERE status = 'done' AND val_acc IS NOT NULL
)
SELECT
    d.campaign_id,
    c.name AS campaign,
    d.point,
    MAX(d.label) AS label,
    COUNT(*) AS n,
    AVG(d.val_acc) AS mean_val_acc,
    sqrt(SUM((d.val_acc - d.mean_val) * (d.val_acc - d.mean_val)) / (COUNT(*) - 1))
        AS sd_val_acc,
    MIN(d.val_acc) AS min_val_acc,
    MAX(d.val_acc) AS max_val_acc,
    AVG(d.test_acc) AS mean_test_acc
FROM d
JOIN campaigns AS c ON c.id = d.campaign_id
GROUP BY d.campaign_id, d.point
ORDER BY d.campaign_id, mean_val_acc DESC;

-- Per campaign: trials by status, the best accuracy and how much is finished.
-- planned is the larger of the trials created so far and budget x
-- seeds_per_point; done_fraction = (done + failed + pruned + cancelled) / planned.
CREATE VIEW campaign_progress AS
WITH counts AS (
    SELECT
        c.id AS campaign_id,
        COUNT(t.id) AS trials,
        COUNT(CASE WHEN t.status = 'queued' THEN 1 END)    AS queued,
        COUNT(CASE WHEN t.status = 'running' THEN 1 END)   AS running,
        COUNT(CASE WHEN t.status = 'done' THEN 1 END)      AS done,
        COUNT(CASE WHEN t.status = 'failed' THEN 1 END)    AS failed,
        COUNT(CASE WHEN t.status = 'pruned' THEN 1 END)    AS pruned,
        COUNT(CASE WHEN t.status = 'cancelled' THEN 1 END) AS cancelled,
        MAX(CASE WHEN t.status = 'done' THEN t.val_acc END) AS best_val_acc
    FROM campaigns AS c
    LEFT JOIN trials AS t ON t.campaign_id = c.id
    GROUP BY c.id
)
SELECT
    c.id AS campaign_id,
    c.name AS campaign,
    c.kind,
    c.status,
    c.priority,
    c.budget,
    c.seeds_per_point,
    n.trials,
    n.queued,
    n.running,
    n.done,
    n.failed,
    n.pruned,
    n.cancelled,
    n.best_val_acc,
    (SELECT b.id FROM trials AS b
     WHERE b.campaign_id = c.id AND b.status = 'done' AND b.val_acc IS NOT NULL
     ORDER BY b.val_acc DESC, b.test_acc DESC, b.id LIMIT 1) AS best_trial,
    MAX(n.trials, COALESCE(c.budget * c.seeds_per_point, 0)) AS planned,
    CAST(n.done + n.failed + n.pruned + n.cancelled AS REAL)
        / NULLIF(MAX(n.trials, COALESCE(c.budget * c.seeds_per_point, 0)), 0) AS done_fraction,
    c.created_at,
    c.started_at,
    c.finished_at
FROM campaigns AS c
JOIN counts AS n ON n.campaign_id = c.id
ORDER BY c.id;

-- Ablation campaigns: for each label other than 'base' (one ablated component,
-- or a comma-separated list for the successive stage), the change of the done
-- trials' accuracy against the mean of the campaign's done 'base' trials.
-- stage is 'individual' (one component) or 'successive' (several); the
-- individual rows come first, the most harmful ablation (most negative
-- mean_delta_val) first.
CREATE VIEW ablation_effects AS
WITH base AS (
    SELECT t.campaign_id,
           COUNT(*) AS base_n,
           AVG(t.val_acc) AS base_val_acc,
           AVG(t.test_acc) AS base_test_acc
    FROM trials AS t
    JOIN campaigns AS c ON c.id = t.campaign_id
    WHERE c.kind = 'ablation' AND t.label = 'base'
      AND t.status = 'done' AND t.val_acc IS NOT NULL
    GROUP BY t.campaign_id
),
runs AS (
    SELECT t.campaign_id,
           t.label AS ablated,
           t.val_acc - b.base_val_acc AS d_val,
           t.test_acc - b.base_test_acc AS d_test
    FROM trials AS t
    JOIN campaigns AS c ON c.id = t.campaign_id
    JOIN base AS b ON b.campaign_id = t.campaign_id
    WHERE c.kind = 'ablation' AND t.label IS NOT NULL AND t.label <> 'base'
      AND t.status = 'done' AND t.val_acc IS NOT NULL
),
means AS (
    SELECT campaign_id, ablated, AVG(d_val) AS mean_d
    FROM runs
    GROUP BY campaign_id, ablated
)
SELECT
    r.campaign_id,
    c.name AS campaign,
    r.ablated,
    CASE WHEN instr(r.ablated, ',') > 0 THEN 'successive' ELSE 'individual' END AS stage,
    length(r.ablated) - length(replace(r.ablated, ',', '')) + 1 AS n_ablated,
    COUNT(*) AS n,
    b.base_n,
    b.base_val_acc,
    AVG(r.d_val) AS mean_delta_val,
    sqrt(SUM((r.d_val - m.mean_d) * (r.d_val - m.mean_d)) / (COUNT(*) - 1)) AS sd_delta_val,
    MIN(r.d_val) AS min_delta_val,
    MAX(r.d_val) AS max_delta_val,
    AVG(r.d_test) AS mean_delta_test
FROM runs AS r
JOIN means AS m ON m.campaign_id = r.campaign_id AND m.ablated = r.ablated
JOIN base AS b ON b.campaign_id = r.campaign_id
JOIN campaigns AS c ON c.id = r.campaign_id
GROUP BY r.campaign_id, r.ablated
ORDER BY r.campaign_id, stage, n_ablated, mean_delta_val;
