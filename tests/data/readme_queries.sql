-- readme_queries.sql: the example queries of README.md, section "Querying the
-- trial database", in the same order and with the same text. test_store checks
-- that the two agree and runs each against a populated database.

-- 1. Progress of every campaign.
SELECT campaign, status, done, running, queued, failed,
       round(100 * done_fraction, 1) AS pct, best_val_acc
FROM campaign_progress;

-- 2. The ten best trials of a campaign with a few of their gammas.
SELECT b.rank, b.trial, b.val_acc, b.test_acc, g.f_c, g.fc, g.f_cl, g.h_res
FROM best_trials AS b
JOIN trial_gamma_wide AS g ON g.trial = b.trial
WHERE b.campaign = 'tpe-mnist' AND b.rank <= 10
ORDER BY b.rank;

-- 3. The learning curve of a campaign's best trial.
SELECT e.epoch, e.train_acc, e.val_acc, e.test_acc, e.seconds
FROM trial_epochs AS e
WHERE e.trial_id = (SELECT trial FROM best_trials
                    WHERE campaign = 'tpe-mnist' AND rank = 1)
ORDER BY e.epoch;

-- 4. Which gamma components matter: the individual ablations, most harmful first.
SELECT ablated, n, round(100 * mean_delta_val, 2) AS delta_pct,
       round(100 * sd_delta_val, 2) AS sd_pct
FROM ablation_effects
WHERE campaign = 'ablation-optimized' AND stage = 'individual'
ORDER BY mean_delta_val;

-- 5. Trials that needed more than one attempt, and what happened to each.
SELECT a.trial_id, a.attempt, a.worker, a.status, a.started_at, a.ended_at, a.error
FROM trial_attempts AS a
JOIN trials AS t ON t.id = a.trial_id
WHERE t.attempt > 1
ORDER BY a.trial_id, a.attempt;
