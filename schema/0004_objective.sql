-- 0004_objective.sql: any objective, in either direction, for campaigns that
-- run an external command (the worker's "exec" backend) with named, typed
-- parameters.
--
--   campaigns.backend    'builtin' (the built-in trainer) or 'exec'
--   campaigns.objective  the result's key that is optimised ('val_acc' for
--                        built-in campaigns)
--   campaigns.direction  'maximize' or 'minimize'
--   trials.value         the objective of a done trial, any range (built-in
--                        campaigns: val_acc); ranking uses it in the
--                        campaign's direction
--   trials.output        an exec trial's result line (JSON text), or NULL
--
-- trial_params.value holds numbers as REAL and categorical choices as TEXT
-- (SQLite keeps a text that is not a number as it is).
--
--   best_trials          now ranked by value in the campaign's direction
--   campaign_progress    best_trial by value in the campaign's direction, and
--                        best_value (its value)
--   trial_params_json    each trial's parameters as one JSON object

ALTER TABLE campaigns ADD COLUMN backend TEXT NOT NULL DEFAULT 'builtin'
    CHECK (backend IN ('builtin', 'exec'));
ALTER TABLE campaigns ADD COLUMN objective TEXT NOT NULL DEFAULT 'val_acc';
ALTER TABLE campaigns ADD COLUMN direction TEXT NOT NULL DEFAULT 'maximize'
    CHECK (direction IN ('maximize', 'minimize'));
ALTER TABLE trials ADD COLUMN value REAL;
ALTER TABLE trials ADD COLUMN output TEXT;

UPDATE trials SET value = val_acc WHERE status = 'done' AND val_acc IS NOT NULL;

-- Done trials with a value, best first within each campaign (in its
-- direction; ties broken by test accuracy, then by the earlier trial).
DROP VIEW best_trials;
CREATE VIEW best_trials AS
SELECT
    c.name AS campaign,
    t.campaign_id,
    ROW_NUMBER() OVER (PARTITION BY t.campaign_id
                       ORDER BY CASE WHEN c.direction = 'minimize' THEN t.value
                                     ELSE -t.value END,
                                t.test_acc DESC, t.id) AS rank,
    t.id AS trial,
    t.number,
    t.point,
    t.seed,
    t.label,
    t.val_acc,
    t.test_acc,
    t.wall_s,
    t.worker,
    t.value,
    c.objective,
    c.direction
FROM trials AS t
JOIN campaigns AS c ON c.id = t.campaign_id
WHERE t.status = 'done' AND t.value IS NOT NULL
ORDER BY t.campaign_id, rank;

-- Every trial's parameters as one JSON object by name (numbers as numbers,
-- categorical choices as strings), for campaigns whose parameters are not
-- gammas; {} for a trial without any.
CREATE VIEW trial_params_json AS
SELECT
    t.id AS trial,
    t.campaign_id,
    c.name AS campaign,
    t.number,
    t.point,
    t.status,
    t.value,
    (SELECT json_group_object(p.name, p.value) FROM trial_params AS p
     WHERE p.trial_id = t.id) AS params
FROM trials AS t
JOIN campaigns AS c ON c.id = t.campaign_id;

-- As in 0002, with the best trial by value in the campaign's direction
-- (best_val_acc stays the highest accuracy) and best_value at the end.
DROP VIEW campaign_progress;
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
),
best AS (
    SELECT
        c.id AS campaign_id,
        (SELECT b.id FROM trials AS b JOIN campaigns AS d ON d.id = b.campaign_id
         WHERE b.campaign_id = c.id AND b.status = 'done' AND b.value IS NOT NULL
         ORDER BY CASE WHEN d.direction = 'minimize' THEN b.value ELSE -b.value END,
                  b.test_acc DESC, b.id LIMIT 1) AS trial
    FROM campaigns AS c
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
    x.trial AS best_trial,
    MAX(n.trials, COALESCE(c.budget * c.seeds_per_point, 0)) AS planned,
    CAST(n.done + n.failed + n.pruned + n.cancelled AS REAL)
        / NULLIF(MAX(n.trials, COALESCE(c.budget * c.seeds_per_point, 0)), 0) AS done_fraction,
    c.created_at,
    c.started_at,
    c.finished_at,
    (SELECT v.value FROM trials AS v WHERE v.id = x.trial) AS best_value
FROM campaigns AS c
JOIN counts AS n ON n.campaign_id = c.id
JOIN best AS x ON x.campaign_id = c.id
ORDER BY c.id;
