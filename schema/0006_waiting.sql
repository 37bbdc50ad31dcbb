-- 0006_waiting.sql: a campaign chained on another one (an ablation with
-- "base": {"campaign": NAME}) is 'waiting' in campaigns.status until NAME is
-- done; then it is 'queued' and runs as any other.
--
--   campaigns.status  'queued', 'running', 'done', 'cancelled', 'failed' or
--                     'waiting'
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
-- Schema Changes"): a new table with the same columns in the same order,
-- the rows copied with their ids, the old table dropped and the new one
-- renamed. The program runs migrations with foreign keys off and checks
-- them (PRAGMA foreign_key_check) before committing, so dropping the old
-- table deletes no trial, and trials.campaign_id refers to the new table by
-- its name. legacy_alter_table keeps the rename from rewriting the views,
-- which name campaigns and read the new table as they read the old one.
-- campaigns has no index, trigger or view of its own beyond its UNIQUE name.

PRAGMA legacy_alter_table = ON;

CREATE TABLE campaigns_new (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    kind            TEXT    NOT NULL CHECK (kind IN ('search', 'fixed', 'ablation')),
    status          TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'done', 'cancelled', 'failed',
                                      'waiting')),
    priority        INTEGER NOT NULL DEFAULT 0,           -- higher runs first
    spec            TEXT    NOT NULL CHECK (json_valid(spec)), -- the campaign file, canonical JSON
    sampler         TEXT,                                 -- 'random', 'tpe', ...; NULL if none
    budget          INTEGER CHECK (budget >= 0),          -- points to evaluate; NULL if not set
    seeds_per_point INTEGER NOT NULL DEFAULT 1 CHECK (seeds_per_point >= 1),
    seed            INTEGER NOT NULL DEFAULT 0,           -- the sampler's seed
    created_at      TEXT    NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    backend         TEXT    NOT NULL DEFAULT 'builtin' CHECK (backend IN ('builtin', 'exec')),
    objective       TEXT    NOT NULL DEFAULT 'val_acc',
    direction       TEXT    NOT NULL DEFAULT 'maximize'
                    CHECK (direction IN ('maximize', 'minimize'))
);

INSERT INTO campaigns_new (id, name, kind, status, priority, spec, sampler, budget,
                           seeds_per_point, seed, created_at, started_at, finished_at, backend,
                           objective, direction)
SELECT id, name, kind, status, priority, spec, sampler, budget, seeds_per_point, seed, created_at,
       started_at, finished_at, backend, objective, direction
FROM campaigns;

DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;

PRAGMA legacy_alter_table = OFF;

-- The chained campaigns that wait: queued, no trial yet, and their base
-- campaign not done (the coordinator says the same at its next start).
UPDATE campaigns SET status = 'waiting'
WHERE status = 'queued' AND kind = 'ablation'
  AND json_type(spec, '$.base.campaign') = 'text'
  AND NOT EXISTS (SELECT 1 FROM trials AS t WHERE t.campaign_id = campaigns.id)
  AND NOT EXISTS (SELECT 1 FROM campaigns AS b
                  WHERE b.name = json_extract(campaigns.spec, '$.base.campaign')
                    AND b.status = 'done');
