-- 0001_init.sql: the tables of the trial database.
--
-- The coordinator is the only writer; people read with plain SQL. Names of
-- tables, columns and status values are a public interface: change them only
-- with a new numbered migration, never by editing an applied one.
--
-- Conventions:
--   * Timestamps are ISO-8601 UTC text with milliseconds,
--     '2026-11-30T11:13:50.123Z': they sort as text and work with SQLite's date
--     functions, e.g. julianday(finished_at) - julianday(started_at).
--   * Accuracies are fractions in [0, 1]; NULL means unknown.
--   * Gamma components, parameters and atoms use the short names of the PID
--     lattice ('f_c_l', 'f_c', ..., 'fcl', 'h_res'; for two sources 'f', 'c',
--     'f_c', 'fc', 'h_res').
--   * Seeds are 64-bit unsigned values stored bit for bit in SQLite's signed
--     INTEGER: seeds >= 2^63 show up negative here.
--
-- Each migration runs in one transaction; the program records its number in
-- PRAGMA user_version.

PRAGMA application_id = 1768779634; -- 'imor'

-- A campaign: a queued unit of work (a search, a fixed list of points, an ablation).
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    kind            TEXT    NOT NULL CHECK (kind IN ('search', 'fixed', 'ablation')),
    status          TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'done', 'cancelled', 'failed')),
    priority        INTEGER NOT NULL DEFAULT 0,           -- higher runs first
    spec            TEXT    NOT NULL CHECK (json_valid(spec)), -- the campaign file, canonical JSON
    sampler         TEXT,                                 -- 'random', 'tpe', ...; NULL if none
    budget          INTEGER CHECK (budget >= 0),          -- points to evaluate; NULL if not set
    seeds_per_point INTEGER NOT NULL DEFAULT 1 CHECK (seeds_per_point >= 1),
    seed            INTEGER NOT NULL DEFAULT 0,           -- the sampler's seed
    created_at      TEXT    NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);

-- A trial: one network trained with one gamma and one seed. Repeated seeds of
-- the same point share `point`. `attempt` counts hand-outs to workers; each is
-- kept in trial_attempts. `label` annotates a trial: in ablation campaigns it
-- is 'base' for the base point, else the comma-separated short names of the
-- ablated (zeroed) components, e.g. 'f_c' or 'f_c,fl,c_l'.
CREATE TABLE trials (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL CHECK (number >= 0),     -- 0-based within the campaign
    point       INTEGER NOT NULL CHECK (point >= 0),
    seed        INTEGER NOT NULL,                         -- the training seed
    label       TEXT,
    status      TEXT    NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'pruned', 'cancelled')),
    attempt     INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0), -- current (last) attempt
    worker      TEXT,                                     -- worker of the current attempt
    val_acc     REAL,                                     -- the objective
    test_acc    REAL,
    wall_s      REAL,                                     -- training seconds on the worker
    error       TEXT,
    spec        TEXT    NOT NULL CHECK (json_valid(spec)), -- the full trial spec, JSON
    created_at  TEXT    NOT NULL,
    started_at  TEXT,                                     -- start of the current attempt
    finished_at TEXT,
    UNIQUE (campaign_id, number)
);

-- Every attempt of every trial, so a lost one stays visible.
CREATE TABLE trial_attempts (
    trial_id   INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    attempt    INTEGER NOT NULL CHECK (attempt >= 1),
    worker     TEXT,
    status     TEXT    NOT NULL
               CHECK (status IN ('running', 'done', 'lost', 'failed', 'interrupted', 'pruned',
                                 'cancelled')),
    started_at TEXT    NOT NULL,
    ended_at   TEXT,
    error      TEXT,
    PRIMARY KEY (trial_id, attempt)
) WITHOUT ROWID;

-- The trial's gamma, one row per component by short name.
CREATE TABLE trial_params (
    trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    name     TEXT    NOT NULL,
    value    REAL    NOT NULL,
    PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;

-- Learning curves: epoch 0 is the untrained network.
CREATE TABLE trial_epochs (
    trial_id    INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    epoch       INTEGER NOT NULL CHECK (epoch >= 0),
    train_acc   REAL,
    val_acc     REAL,
    test_acc    REAL,
    goal_hidden REAL,   -- mean goal G of the hidden layer
    goal_out    REAL,   -- mean goal G of the output layer
    seconds     REAL,   -- wall time of the epoch
    PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;

-- PID atoms (bits, mean over the layer's neurons) at the end of training.
CREATE TABLE trial_atoms (
    trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    layer    TEXT    NOT NULL CHECK (layer IN ('hidden', 'output')),
    name     TEXT    NOT NULL,
    value    REAL    NOT NULL,
    PRIMARY KEY (trial_id, layer, name)
) WITHOUT ROWID;

-- Every worker that ever said READY.
CREATE TABLE workers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,                  -- the worker's own id
    host        TEXT,
    pid         INTEGER,
    threads     INTEGER,
    backends    TEXT,                                     -- e.g. 'builtin,exec'
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'lost', 'gone')),
    trials_done INTEGER NOT NULL DEFAULT 0
);

-- The audit log. campaign_id and trial_id are deliberately not foreign keys:
-- an event may name something that does not exist (a result for an unknown trial).
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    campaign_id INTEGER,
    trial_id    INTEGER,
    worker      TEXT,
    detail      TEXT
);
