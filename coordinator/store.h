/*
 * store.h: the trial store, the only module that speaks SQL. It keeps every
 * campaign, trial, attempt, learning curve, PID atom, worker and event of the
 * coordinator in one SQLite file (ARCHITECTURE.md, "The store").
 *
 * Invariants:
 *  - One writer: the coordinator process owns the database; people read it
 *    with plain SQL (the sqlite3 command line) at any time, thanks to WAL.
 *    Table, column, status and view names are therefore a public interface
 *    (schema/NNNN_name.sql); the views are the documented way to ask questions.
 *  - The schema is a numbered list of migrations (schema/NNNN_*.sql)
 *    compiled into the program. store_open applies the pending ones, each in
 *    its own transaction, and records the version in PRAGMA user_version. A
 *    database newer than this program is refused, never modified.
 *  - Every write function is atomic (a savepoint inside): it either does all
 *    of its work or none, and a failure leaves an enclosing transaction usable.
 *    store_begin/store_commit group many calls (one pass of the coordinator's
 *    poll loop) into one transaction, which is what makes the write path fast.
 *  - Timestamps are ISO-8601 UTC text with milliseconds,
 *    "2026-11-30T11:13:50.123Z", taken from the wall clock at the call. They
 *    sort as text and work with SQLite's date functions (julianday(...)).
 *  - Accuracies are fractions in [0, 1]. In the structs below a double that is
 *    NAN means SQL NULL (unknown), both ways.
 *  - 64-bit seeds are stored as SQLite's signed 64-bit INTEGER, bit for bit:
 *    seeds >= 2^63 read back exactly but show up negative in plain SQL.
 *
 * Workload: the coordinator writes a few rows per worker message and about 56
 * rows per completed trial (trial, 19 params, 10 epochs, 24 atoms, attempt);
 * it reads the database only when it starts (resume) and for the client's
 * verbs (status, best, ls, export). All statements are prepared once at open.
 *
 * Durability: WAL with synchronous=NORMAL (the default) makes every commit
 * survive a crash of the process; a power failure or OS crash may lose the
 * last commits (never corrupts). STORE_SYNC_FULL fsyncs every commit and
 * survives those too, at the cost of one fsync per transaction.
 *
 * Errors: functions return 0 or a negative IM_E* code (im.h) and, when err is
 * non-NULL, a lowercase message naming what failed. IM_EDB: SQLite failed
 * (message includes SQLite's). IM_ENOTFOUND: no such campaign/trial. IM_EINVAL:
 * the call contradicts the stored state (a name that exists, an attempt that
 * is not running) or an argument is invalid. IM_EPROTO: schema version of the
 * file is newer than this program.
 *
 * Thread-safety: a store is used by one thread at a time (the coordinator's
 * loop). Different stores on different threads are independent.
 */
#ifndef IM_STORE_H
#define IM_STORE_H

#include "im.h"
#include "protocol.h"
#include "train.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* ---- statuses: the names are the TEXT stored in the database ---- */

typedef enum {
    STORE_CAMPAIGN_QUEUED = 0, /* "queued" */
    STORE_CAMPAIGN_RUNNING,    /* "running" */
    STORE_CAMPAIGN_DONE,       /* "done" */
    STORE_CAMPAIGN_CANCELLED,  /* "cancelled" */
    STORE_CAMPAIGN_FAILED,     /* "failed" */
    STORE_CAMPAIGN_WAITING     /* "waiting": chained on another campaign that is not done yet */
} store_campaign_status;

typedef enum {
    STORE_TRIAL_QUEUED = 0, /* "queued": waiting for a worker (again, after a lost attempt) */
    STORE_TRIAL_RUNNING,    /* "running": an attempt is out on a worker */
    STORE_TRIAL_DONE,       /* "done": finished with a result */
    STORE_TRIAL_FAILED,     /* "failed": the worker reported an error, or attempts ran out */
    STORE_TRIAL_PRUNED,     /* "pruned": stopped early by the pruner */
    STORE_TRIAL_CANCELLED   /* "cancelled": its campaign was cancelled */
} store_trial_status;

typedef enum {
    STORE_ATTEMPT_RUNNING = 0, /* "running" */
    STORE_ATTEMPT_DONE,        /* "done" */
    STORE_ATTEMPT_LOST,        /* "lost": the lease ran out (worker died or vanished) */
    STORE_ATTEMPT_FAILED,      /* "failed" */
    STORE_ATTEMPT_INTERRUPTED, /* "interrupted": the coordinator restarted while it ran */
    STORE_ATTEMPT_PRUNED,      /* "pruned" */
    STORE_ATTEMPT_CANCELLED    /* "cancelled" */
} store_attempt_status;

/* Bit masks of statuses for the list functions: STORE_MASK(STORE_TRIAL_DONE). */
#define STORE_MASK(status) (1u << (unsigned)(status))

/* Status <-> text. The _name functions return a static string ("?" for an
 * unknown value); the _parse functions return 0 and set *out, or IM_ENOTFOUND. */
const char *store_campaign_status_name(store_campaign_status s);
const char *store_trial_status_name(store_trial_status s);
const char *store_attempt_status_name(store_attempt_status s);
int store_campaign_status_parse(const char *name, store_campaign_status *out);
int store_trial_status_parse(const char *name, store_trial_status *out);
int store_attempt_status_parse(const char *name, store_attempt_status *out);

/* ---- opening ---- */

typedef enum {
    STORE_SYNC_NORMAL = 0, /* WAL + synchronous=NORMAL: crash-safe for the process (default) */
    STORE_SYNC_FULL        /* WAL + synchronous=FULL: also safe against power loss */
} store_sync;

typedef struct store_options {
    store_sync sync;     /* STORE_SYNC_NORMAL */
    int busy_timeout_ms; /* 0 = 5000: how long to wait for a reader's lock */
} store_options;

/* The newest schema version this program knows (the number of migrations). */
int store_schema_latest(void);

/* Open the database at path, creating the file if absent (an existing empty
 * file is refused with IM_EFORMAT: it is not initialised), and migrate it to
 * the latest schema. opt may be NULL (defaults). On success *out is a new
 * store owned by the caller (free with store_close). On failure *out is NULL
 * and nothing stays open; a database newer than this program gives IM_EPROTO
 * and "'x.db' has schema version 5, this infomorph knows up to 2: upgrade
 * infomorph"; a file that is not an infomorph database gives IM_EFORMAT. */
int store_open(store **out, const char *path, const store_options *opt, im_error *err);

/* Close the store and set *s to NULL; an open transaction is rolled back.
 * NULL or *s == NULL is a no-op. */
void store_close(store **s);

/* The schema version of the open database (PRAGMA user_version). */
int store_version(const store *s);

/* The database's identity: STORE_DATABASE_ID_LEN lowercase hex characters
 * (128 random bits), made once by schema/0005_database_id.sql when the file
 * was created or upgraded, never changed, read once by store_open. A copy of
 * the file (infomorph backup) has the same id: restored in place of the
 * original it is the same database. The coordinator sends it in JOB and
 * refuses trial messages that carry another (protocol.h, "db"). The string
 * belongs to s (valid until store_close); never NULL ("" only for a database
 * left at an older schema by store__create_at_version). */
#define STORE_DATABASE_ID_LEN 32
const char *store_database_id(const store *s);

/* ---- transactions ---- */

/* Start a write transaction (BEGIN IMMEDIATE). Calls nest: only the outermost
 * store_commit commits. Returns 0, IM_EDB. */
int store_begin(store *s, im_error *err);

/* Commit when the outermost store_begin is matched. Returns 0, IM_EINVAL if
 * no transaction is open, IM_EDB (the transaction is then rolled back). */
int store_commit(store *s, im_error *err);

/* Roll back the whole transaction, whatever the nesting depth; no-op when
 * none is open. */
void store_rollback(store *s);

/* ---- campaigns ---- */

typedef struct store_campaign_new {
    const char *name;      /* required, unique */
    const char *kind;      /* required: "search", "fixed" or "ablation" */
    const char *spec_json; /* required: the campaign file as canonical JSON text */
    const char *sampler;   /* "random", "tpe", ...; NULL for none */
    int priority;          /* higher runs first */
    int64_t budget;        /* points to evaluate; < 0 = not set (NULL) */
    int seeds_per_point;   /* >= 1 */
    uint64_t seed;         /* the sampler's seed */
    const char *backend;   /* "builtin" or "exec"; NULL = "builtin" */
    const char *objective; /* the result's key optimised; NULL = "val_acc" */
    const char *direction; /* "maximize" or "minimize"; NULL = "maximize" */
} store_campaign_new;

/* Insert a campaign with status "queued". Sets *id_out (may be NULL).
 * Returns 0, IM_EINVAL (name taken, bad kind, missing field), IM_EDB. */
int store_campaign_insert(store *s, const store_campaign_new *c, int64_t *id_out, im_error *err);

/* Set a campaign's status. "running" also sets started_at (first time only);
 * "done", "cancelled" and "failed" set finished_at, "queued", "running" and
 * "waiting" clear it. Returns 0, IM_ENOTFOUND, IM_EINVAL (bad status), IM_EDB. */
int store_campaign_set_status(store *s, int64_t id, store_campaign_status status, im_error *err);

/* A campaign as read back. Strings are owned by the struct: release with
 * store_campaign_release (arrays with store_campaigns_free). */
typedef struct store_campaign {
    int64_t id;
    char *name, *kind, *spec_json;
    char *sampler; /* NULL if none */
    store_campaign_status status;
    int priority;
    int64_t budget; /* -1 if NULL */
    int seeds_per_point;
    uint64_t seed;
    char created_at[32], started_at[32], finished_at[32]; /* "" if NULL */
} store_campaign;

void store_campaign_release(store_campaign *c);
void store_campaigns_free(store_campaign **arr, size_t n); /* frees the array, sets *arr NULL */

/* Read one campaign into caller storage *out (release with
 * store_campaign_release). Returns 0, IM_ENOTFOUND, IM_EDB. */
int store_campaign_get(store *s, int64_t id, store_campaign *out, im_error *err);
int store_campaign_find(store *s, const char *name, store_campaign *out, im_error *err);

/* All campaigns whose status is in status_mask (0 = all), by priority (highest
 * first) then id. *out is a new array owned by the caller (NULL when *n is
 * 0); free with store_campaigns_free. Resume: mask queued | running. */
int store_campaign_list(store *s, unsigned status_mask, store_campaign **out, size_t *n,
                        im_error *err);

/* ---- trials ---- */

#define STORE_NAME_MAX 32

/* One parameter by name: a gamma component ("f_c", "h_res") or a named
 * parameter of an exec campaign ("lr"). A categorical choice is stored as
 * TEXT (store_trial_new.param_texts); its value here is NAN. */
typedef struct store_param {
    char name[STORE_NAME_MAX];
    double value;
} store_param;

typedef struct store_trial_new {
    int64_t campaign_id;
    int number;            /* 0-based within the campaign, unique there */
    int point;             /* point index: trials of repeated seeds share it */
    uint64_t seed;         /* the training seed */
    const char *spec_json; /* required: the full trial spec as JSON text */
    const char *label;     /* NULL or e.g. "base" / "f_c" in ablations */
    const char *stage;     /* NULL, or in ablations "base", "individual", "successive" */
    const store_param *params;
    size_t n_params;
    const char *const *param_texts; /* [n_params]: a choice (stored as TEXT) or NULL for
                                       the number; NULL: all are numbers */
} store_trial_new;

/* Insert a trial with status "queued", attempt 0, and its params.
 * Sets *id_out (may be NULL). Returns 0, IM_ENOTFOUND (campaign), IM_EINVAL
 * (number taken in the campaign, duplicate or empty param name), IM_EDB. */
int store_trial_insert(store *s, const store_trial_new *t, int64_t *id_out, im_error *err);

/* Hand a queued trial to a worker: the attempt number goes up by one, the
 * trial becomes "running" and a "running" attempt row is added. Epochs and
 * atoms left by an earlier attempt are deleted (a curve belongs to one
 * attempt). Sets *attempt_out (may be NULL). Returns 0, IM_ENOTFOUND,
 * IM_EINVAL (the trial is not queued), IM_EDB. */
int store_trial_start(store *s, int64_t trial_id, const char *worker, int *attempt_out,
                      im_error *err);

typedef struct store_trial_result {
    store_trial_status status; /* DONE, FAILED, PRUNED or CANCELLED */
    double val_acc, test_acc;  /* NAN = unknown */
    double wall_s;             /* seconds on the worker; NAN = unknown */
    const char *error;         /* NULL or the worker's message */
} store_trial_result;

/* What a result says about the campaign's objective. */
typedef struct store_trial_value {
    double value;       /* the objective, any range; NAN = unknown */
    const char *output; /* an exec trial's result line as JSON text, or NULL */
} store_trial_value;

/* Whether a result for `attempt` (the worker's number) of a trial that has
 * ended comes from an attempt a later one replaced (*superseded = 1: a
 * worker cut off by a partition that went on training), rather than a
 * resend of the last attempt or of one that was resumed as the last
 * (*superseded = 0: a duplicate; resumption is known from
 * trial_attempts.resumes, store_attempt_resumes). Returns 0,
 * IM_ENOTFOUND, IM_EDB. */
int store_trial_late(store *s, int64_t trial_id, int attempt, int *superseded, im_error *err);

/* Record that attempt `attempt` of a trial resumed a lease: it continues the
 * worker's attempt `resumes` (the number the worker goes on sending).
 * Returns 0, IM_EINVAL (resumes < 1), IM_ENOTFOUND (no such attempt),
 * IM_EDB. */
int store_attempt_resumes(store *s, int64_t trial_id, int attempt, int resumes, im_error *err);

/* Record the end of the running attempt `attempt` of a trial: the trial and
 * the attempt take the result's status; a "done" result also counts for the
 * worker (workers.trials_done). Returns 0, IM_ENOTFOUND, IM_EINVAL (that
 * attempt is not the trial's running attempt: a duplicate or late result;
 * nothing changes), IM_EDB. */
int store_trial_finish(store *s, int64_t trial_id, int attempt, const store_trial_result *r,
                       im_error *err);

/* store_trial_finish, with the objective's value and output (v); the
 * call above writes value = val_acc, the built-in trainer's objective.
 * Returns as store_trial_finish. */
int store_trial_finish_value(store *s, int64_t trial_id, int attempt, const store_trial_result *r,
                             const store_trial_value *v, im_error *err);

/* The running attempt `attempt` was lost (lease expired). The attempt becomes
 * "lost" with reason as its error; the trial goes back to "queued" when
 * requeue is non-zero, else it becomes "failed" with reason as its error.
 * Returns 0, IM_ENOTFOUND, IM_EINVAL (not the running attempt), IM_EDB. */
int store_trial_lost(store *s, int64_t trial_id, int attempt, const char *reason, int requeue,
                     im_error *err);

/* As store_trial_lost, but the attempt becomes "interrupted": the worker gave
 * the trial up (it was told to shut down) rather than going silent. */
int store_trial_interrupted(store *s, int64_t trial_id, int attempt, const char *reason,
                            int requeue, im_error *err);

/* How the ended attempts of a trial ended: *lost (status "lost") and
 * *interrupted (status "interrupted"). Returns 0, IM_EDB. */
int store_trial_attempt_counts(store *s, int64_t trial_id, int *lost, int *interrupted,
                               im_error *err);

/* An exec trial's last reported objective: the value of its latest epoch
 * that has one (store_epochs_insert_values), into *out; NAN when none.
 * Returns 0, IM_EDB. */
int store_trial_last_value(store *s, int64_t trial_id, double *out, im_error *err);

/* The worker named in attempt `attempt` of a trial (trial_attempts.worker)
 * into out[size] ("" when none was recorded). Returns 0, IM_ENOTFOUND (no
 * such attempt), IM_EDB. */
int store_attempt_worker(store *s, int64_t trial_id, int attempt, char *out, size_t size,
                         im_error *err);

/* Resume after a restart: every running attempt becomes "interrupted" and its
 * trial "queued" again. Sets *n_out (may be NULL) to the number of trials.
 * Returns 0, IM_EDB. */
int store_requeue_running(store *s, int64_t *n_out, im_error *err);

/* Cancel every queued trial of a campaign (running ones are the caller's to
 * stop and then finish as CANCELLED). Sets *n_out (may be NULL) to how many.
 * Returns 0, IM_EDB. */
int store_campaign_cancel_queued(store *s, int64_t campaign_id, int64_t *n_out, im_error *err);

/* Insert or replace (by epoch number) n epochs of a trial: the trainer's
 * records (train.h), of which the store keeps epoch, train_acc, val_acc,
 * test_acc, goal_hidden, goal_out and seconds (NAN = unknown; epoch 0 is the
 * untrained network). Returns 0, IM_ENOTFOUND (trial), IM_EDB. */
int store_epochs_insert(store *s, int64_t trial_id, const im_epoch_stats *e, size_t n,
                        im_error *err);

/* store_epochs_insert with an exec trial's objective at each epoch:
 * values[i] goes with e[i] (NAN = not given); values NULL = none, as
 * store_epochs_insert. */
int store_epochs_insert_values(store *s, int64_t trial_id, const im_epoch_stats *e,
                               const double *values, size_t n, im_error *err);

/* Insert or replace (by layer and name) n PID atoms of a trial at the end of
 * training (protocol.h: the mean over the layer's neurons, in bits).
 * Returns 0, IM_ENOTFOUND (trial), IM_EINVAL (bad layer, no name, a value
 * that is not finite), IM_EDB. */
int store_atoms_insert(store *s, int64_t trial_id, const im_trial_atom *a, size_t n, im_error *err);

/* The data of a trial's result, written from the decoded struct: its curve
 * (with an exec trial's objective by epoch from the result's extra
 * "curve_values") and its atoms, both or neither. The result's figures and
 * status are store_trial_finish's. Returns as the two calls above. */
int store_trial_data_insert(store *s, int64_t trial_id, const im_trial_result *r, im_error *err);

/* A trial as read back. Owned strings and params: release with
 * store_trial_release (arrays with store_trials_free). */
typedef struct store_trial {
    int64_t id, campaign_id;
    int number, point, attempt;
    uint64_t seed;
    store_trial_status status;
    double val_acc, test_acc, wall_s; /* NAN if NULL */
    double value;                     /* the objective, NAN if NULL */
    char *label;                      /* NULL if none */
    char *worker;                     /* NULL if never started */
    char *spec_json;                  /* NULL unless STORE_WITH_SPEC */
    store_param *params;              /* sorted by name; NULL unless STORE_WITH_PARAMS */
    size_t n_params;
    char **param_texts; /* [n_params]: a choice, NULL for a number; NULL when none is a choice */
} store_trial;

void store_trial_release(store_trial *t);
void store_trials_free(store_trial **arr, size_t n); /* frees the array, sets *arr NULL */

enum {
    STORE_WITH_SPEC = 1,  /* fill spec_json */
    STORE_WITH_PARAMS = 2 /* fill params */
};

/* The trials of a campaign (campaign_id 0 = all campaigns) whose status is in
 * status_mask (0 = all), ordered by campaign and number. flags: STORE_WITH_*.
 * *out is a new array owned by the caller (NULL when *n is 0).
 * Resume uses it twice: mask queued | running with STORE_WITH_SPEC (work to
 * hand out again), and mask done | failed | pruned with STORE_WITH_PARAMS
 * (the sampler's history). Returns 0, IM_EDB. */
int store_trial_list(store *s, int64_t campaign_id, unsigned status_mask, int flags,
                     store_trial **out, size_t *n, im_error *err);

/* Per-campaign counts. */
typedef struct store_counts {
    int64_t by_status[6]; /* indexed by store_trial_status */
    int64_t total;        /* all trials */
    int next_number;      /* max(number) + 1, 0 if no trials */
    int next_point;       /* max(point) + 1, 0 if no trials */
    double best_val_acc;  /* NAN if no done trial */
    int64_t best_trial;   /* its trial id, 0 if none */
} store_counts;

/* Returns 0, IM_ENOTFOUND (campaign), IM_EDB. */
int store_campaign_counts(store *s, int64_t campaign_id, store_counts *out, im_error *err);

/* ---- workers and events ---- */

typedef struct store_worker_info {
    const char *name;     /* required: the worker's id from READY, unique */
    const char *host;     /* NULL = unknown */
    int64_t pid;          /* 0 = unknown */
    int threads;          /* 0 = unknown */
    const char *backends; /* e.g. "builtin,exec"; NULL = unknown */
} store_worker_info;

/* A worker said READY: insert it or update its details; status "alive",
 * last_seen now (first_seen when new). Returns 0, IM_EINVAL, IM_EDB. */
int store_worker_seen(store *s, const store_worker_info *w, im_error *err);

/* A heartbeat: last_seen = now. Returns 0, IM_ENOTFOUND, IM_EDB. */
int store_worker_touch(store *s, const char *name, im_error *err);

/* status: "alive", "lost" (heartbeats stopped) or "gone" (said goodbye).
 * Returns 0, IM_ENOTFOUND, IM_EINVAL (bad status), IM_EDB. */
int store_worker_set_status(store *s, const char *name, const char *status, im_error *err);

/* Append to the audit log. kind is required ("campaign_submitted",
 * "trial_lost", ...); campaign_id / trial_id 0 and worker / detail NULL mean
 * none. The ids are not checked against their tables: the log may name things
 * that do not exist (a result for an unknown trial). Returns 0, IM_EDB. */
int store_event(store *s, const char *kind, int64_t campaign_id, int64_t trial_id,
                const char *worker, const char *detail, im_error *err);

/* ---- read queries for the client verbs (JSON, ready for the wire) ----
 * Each returns a new reference owned by the caller (json_decref), or NULL on
 * failure with err set. NULL columns become JSON null. */

/* One object per campaign (campaign_id 0 = all, ordered by id) from the view
 * campaign_progress: {"id", "name", "kind", "status", "priority", "budget",
 * "seeds_per_point", "created_at", "started_at", "finished_at", "trials",
 * "queued", "running", "done", "failed", "pruned", "cancelled",
 * "best_val_acc", "best_trial", "done_fraction"}. A campaign_id that does not
 * exist gives an empty array. */
json_t *store_progress_json(store *s, int64_t campaign_id, im_error *err);

/* The n best done trials (campaign_id 0 = over all campaigns) by val_acc:
 * [{"rank", "trial", "campaign", "campaign_id", "number", "point", "seed", "label",
 *   "val_acc", "test_acc", "wall_s", "worker", "gamma": {short name: value}}]. */
json_t *store_best_json(store *s, int64_t campaign_id, int n, im_error *err);

/* Every trial of a campaign by number: [{"trial", "number", "point", "seed",
 * "label", "status", "attempt", "worker", "val_acc", "test_acc", "wall_s",
 * "error", "created_at", "started_at", "finished_at", "gamma": {...}}]. */
json_t *store_trials_json(store *s, int64_t campaign_id, im_error *err);

/* One page of store_trials_json: the trials numbered from `from` on, at most
 * limit of them (< 0: all), by number. *next (may be NULL) gets the number
 * of the first trial after the page, -1 when there is none. The work is
 * proportional to the page, not to the campaign (index ranges). */
json_t *store_trials_page_json(store *s, int64_t campaign_id, int64_t from, int limit,
                               int64_t *next, im_error *err);

/* Everything about a campaign's trials, for export: as store_trials_json plus
 * "spec" (the trial spec object), "epochs": [{"epoch", "train_acc", "val_acc",
 * "test_acc", "goal_hidden", "goal_out", "seconds"}], "atoms": {"hidden":
 * {name: value}, "output": {...}}, "attempts": [{"attempt", "worker",
 * "status", "started_at", "ended_at", "error"}]. */
json_t *store_export_json(store *s, int64_t campaign_id, im_error *err);

/* One page of store_export_json: the trials numbered from `from` on, at most
 * limit of them (< 0: all), by number. *next (may be NULL) gets the number
 * of the first trial after the page, -1 when there is none. The work is
 * proportional to the page, not to the campaign (index ranges). */
json_t *store_export_page_json(store *s, int64_t campaign_id, int64_t from, int limit,
                               int64_t *next, im_error *err);

/* The STORE_WORKERS_LIST_MAX workers seen last, by name: [{"name", "host",
 * "pid", "threads", "backends", "first_seen", "last_seen", "status",
 * "trials_done"}]. Bounded, so that STATUS and WORKERS replies stay small
 * however many names have ever sent READY. */
#define STORE_WORKERS_LIST_MAX 1000
json_t *store_workers_json(store *s, im_error *err);

/* ---- internal, for tests: not part of the coordinator's interface ---- */

/* The compiled-in migrations (generated at build time from schema/NNNN_name.sql):
 * store__migration_sql[i] is version i + 1. */
extern const char *const store__migration_sql[];
extern const char *const store__migration_name[];
extern const int store__migration_count;

/* Create (or migrate) the database at path up to exactly `version`
 * (0..latest) and close it, as an older program would have left it.
 * Returns 0 or an IM_E* code. */
int store__create_at_version(const char *path, int version, im_error *err);

/* ---- backups (store_backup.c) ----
 *
 * A consistent copy of the database in memory, made with SQLite's online
 * backup a few pages per call so that the caller's loop goes on between
 * calls; the coordinator's own writes meanwhile are carried into the copy.
 * Nothing is written to disk. Memory: the size of the database. */
typedef struct store_backup store_backup;

/* Start a copy (outside a transaction: IM_EINVAL inside one). Returns 0 and
 * *out (free it with store_backup_free, before store_close), or IM_EDB. */
int store_backup_begin(store *s, store_backup **out, im_error *err);

/* Copy up to n_pages more pages (outside a transaction); *done and *total
 * (may be NULL) count the pages. Returns 1 once the copy is complete (its
 * image ready), 0 while there is more to copy, or IM_EDB (the copy is
 * unusable: free it). */
int store_backup_step(store_backup *b, int n_pages, int *done, int *total, im_error *err);

/* The complete copy, a database file's bytes (borrowed: valid until
 * store_backup_free), and its size; NULL and 0 before it is complete. */
const unsigned char *store_backup_image(const store_backup *b, size_t *size);

/* Free the copy; *b becomes NULL. NULL-safe. */
void store_backup_free(store_backup **b);

#endif /* IM_STORE_H */
