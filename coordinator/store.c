/*
 * store.c: the trial store on SQLite (see store.h for the contract).
 *
 * Every statement is prepared once in store_open (SQLITE_PREPARE_PERSISTENT)
 * and reset after each use; nothing builds SQL text at run time. Each write
 * function wraps its statements in the savepoint "op", so it is atomic on its
 * own and, inside store_begin/store_commit, a failed call rolls back only its
 * own work. Timestamps are formatted here, once per call, so all rows written
 * by one call carry the same time.
 */
#include "store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_APPLICATION_ID 1768779634 /* 'imor', set by 0001_init.sql */
#define TIME_MAX             64

/* ---- statuses ---- */

static const char *const campaign_status_names[] = {"queued", "running", "done", "cancelled",
                                                    "failed"};
static const char *const trial_status_names[] = {"queued", "running", "done",
                                                 "failed", "pruned",  "cancelled"};
static const char *const attempt_status_names[] = {"running",     "done",   "lost",     "failed",
                                                   "interrupted", "pruned", "cancelled"};
#define N_CAMPAIGN_STATUS (int)(sizeof campaign_status_names / sizeof *campaign_status_names)
#define N_TRIAL_STATUS    (int)(sizeof trial_status_names / sizeof *trial_status_names)
#define N_ATTEMPT_STATUS  (int)(sizeof attempt_status_names / sizeof *attempt_status_names)

static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "?";
}

static int parse_name(const char *const *names, int n, const char *s, int *out)
{
    for (int i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return IM_ENOTFOUND;
}

const char *store_campaign_status_name(store_campaign_status s)
{
    return name_of(campaign_status_names, N_CAMPAIGN_STATUS, (int)s);
}

const char *store_trial_status_name(store_trial_status s)
{
    return name_of(trial_status_names, N_TRIAL_STATUS, (int)s);
}

const char *store_attempt_status_name(store_attempt_status s)
{
    return name_of(attempt_status_names, N_ATTEMPT_STATUS, (int)s);
}

int store_campaign_status_parse(const char *name, store_campaign_status *out)
{
    int v, rc = parse_name(campaign_status_names, N_CAMPAIGN_STATUS, name, &v);
    if (rc == 0) *out = (store_campaign_status)v;
    return rc;
}

int store_trial_status_parse(const char *name, store_trial_status *out)
{
    int v, rc = parse_name(trial_status_names, N_TRIAL_STATUS, name, &v);
    if (rc == 0) *out = (store_trial_status)v;
    return rc;
}

int store_attempt_status_parse(const char *name, store_attempt_status *out)
{
    int v, rc = parse_name(attempt_status_names, N_ATTEMPT_STATUS, name, &v);
    if (rc == 0) *out = (store_attempt_status)v;
    return rc;
}

/* ---- the statements ---- */

#define CAMPAIGN_COLS                                                                              \
    "id, name, kind, spec, sampler, status, priority, budget, seeds_per_point, seed, created_at, " \
    "started_at, finished_at"

#define TRIAL_JSON_COLS                                                                            \
    "id AS trial, number, point, seed, label, status, attempt, worker, val_acc, test_acc, "        \
    "wall_s, error, created_at, started_at, finished_at, spec"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_CAMPAIGN_INSERT,
    ST_CAMPAIGN_STATUS,
    ST_CAMPAIGN_GET,
    ST_CAMPAIGN_FIND,
    ST_CAMPAIGN_LIST,
    ST_CAMPAIGN_EXISTS,
    ST_TRIAL_INSERT,
    ST_PARAM_INSERT,
    ST_TRIAL_STATE,
    ST_TRIAL_START,
    ST_ATTEMPT_INSERT,
    ST_EPOCHS_CLEAR,
    ST_ATOMS_CLEAR,
    ST_TRIAL_FINISH,
    ST_ATTEMPT_END,
    ST_WORKER_COUNT_DONE,
    ST_TRIAL_LOST,
    ST_REQUEUE_ATTEMPTS,
    ST_REQUEUE_TRIALS,
    ST_CANCEL_QUEUED,
    ST_EPOCH_UPSERT,
    ST_ATOM_UPSERT,
    ST_WORKER_UPSERT,
    ST_WORKER_TOUCH,
    ST_WORKER_STATUS,
    ST_EVENT_INSERT,
    ST_TRIAL_LIST,
    ST_TRIAL_PARAMS,
    ST_LIST_PARAMS,
    ST_COUNTS,
    ST_BEST_OF_CAMPAIGN,
    ST_PROGRESS,
    ST_BEST,
    ST_TRIALS_OF_CAMPAIGN,
    ST_GAMMA_OF_CAMPAIGN,
    ST_EPOCHS_OF_CAMPAIGN,
    ST_ATOMS_OF_CAMPAIGN,
    ST_ATTEMPTS_OF_CAMPAIGN,
    ST_WORKERS,
    ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT op",
    [ST_RELEASE] = "RELEASE op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO op",

    [ST_CAMPAIGN_INSERT] =
        "INSERT INTO campaigns (name, kind, status, priority, spec, sampler, budget, "
        "seeds_per_point, seed, created_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_CAMPAIGN_STATUS] =
        "UPDATE campaigns SET status = ?2, "
        "started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, ?3) ELSE started_at END, "
        "finished_at = CASE WHEN ?2 IN ('done', 'cancelled', 'failed') THEN ?3 END "
        "WHERE id = ?1",
    [ST_CAMPAIGN_GET] = "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE id = ?1",
    [ST_CAMPAIGN_FIND] = "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE name = ?1",
    [ST_CAMPAIGN_LIST] = "SELECT " CAMPAIGN_COLS " FROM campaigns ORDER BY priority DESC, id",
    [ST_CAMPAIGN_EXISTS] = "SELECT 1 FROM campaigns WHERE id = ?1",

    [ST_TRIAL_INSERT] = "INSERT INTO trials (campaign_id, number, point, seed, label, spec, "
                        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_PARAM_INSERT] = "INSERT INTO trial_params (trial_id, name, value) VALUES (?1, ?2, ?3)",
    [ST_TRIAL_STATE] = "SELECT status, attempt, worker FROM trials WHERE id = ?1",
    [ST_TRIAL_START] =
        "UPDATE trials SET status = 'running', attempt = ?4, worker = ?2, "
        "started_at = ?3, finished_at = NULL, val_acc = NULL, test_acc = NULL, wall_s = NULL, "
        "error = NULL WHERE id = ?1",
    [ST_ATTEMPT_INSERT] = "INSERT INTO trial_attempts (trial_id, attempt, worker, status, "
                          "started_at) VALUES (?1, ?2, ?3, 'running', ?4)",
    [ST_EPOCHS_CLEAR] = "DELETE FROM trial_epochs WHERE trial_id = ?1",
    [ST_ATOMS_CLEAR] = "DELETE FROM trial_atoms WHERE trial_id = ?1",
    [ST_TRIAL_FINISH] = "UPDATE trials SET status = ?3, val_acc = ?4, test_acc = ?5, wall_s = ?6, "
                        "error = ?7, finished_at = ?8 "
                        "WHERE id = ?1 AND attempt = ?2",
    [ST_ATTEMPT_END] = "UPDATE trial_attempts SET status = ?3, ended_at = ?4, error = ?5 "
                       "WHERE trial_id = ?1 AND attempt = ?2",
    [ST_WORKER_COUNT_DONE] = "UPDATE workers SET trials_done = trials_done + 1 WHERE name = ?1",
    [ST_TRIAL_LOST] = "UPDATE trials SET status = CASE WHEN ?3 THEN 'queued' ELSE 'failed' END, "
                      "error = CASE WHEN ?3 THEN error ELSE ?4 END, "
                      "finished_at = CASE WHEN ?3 THEN NULL ELSE ?5 END "
                      "WHERE id = ?1 AND attempt = ?2",
    [ST_REQUEUE_ATTEMPTS] = "UPDATE trial_attempts SET status = 'interrupted', ended_at = ?1, "
                            "error = 'the coordinator restarted' WHERE status = 'running'",
    [ST_REQUEUE_TRIALS] = "UPDATE trials SET status = 'queued' WHERE status = 'running'",
    [ST_CANCEL_QUEUED] = "UPDATE trials SET status = 'cancelled', finished_at = ?2 "
                         "WHERE campaign_id = ?1 AND status = 'queued'",
    [ST_EPOCH_UPSERT] = "INSERT OR REPLACE INTO trial_epochs (trial_id, epoch, train_acc, "
                        "val_acc, test_acc, goal_hidden, goal_out, seconds) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_ATOM_UPSERT] = "INSERT OR REPLACE INTO trial_atoms (trial_id, layer, name, value) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [ST_WORKER_UPSERT] =
        "INSERT INTO workers (name, host, pid, threads, backends, first_seen, last_seen, status) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'alive') ON CONFLICT (name) DO UPDATE SET "
        "host = excluded.host, pid = excluded.pid, threads = excluded.threads, "
        "backends = excluded.backends, last_seen = excluded.last_seen, status = 'alive'",
    [ST_WORKER_TOUCH] = "UPDATE workers SET last_seen = ?2 WHERE name = ?1",
    [ST_WORKER_STATUS] = "UPDATE workers SET status = ?2 WHERE name = ?1",
    [ST_EVENT_INSERT] = "INSERT INTO events (at, kind, campaign_id, trial_id, worker, detail) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",

    [ST_TRIAL_LIST] = "SELECT id, campaign_id, number, point, attempt, seed, status, val_acc, "
                      "test_acc, wall_s, label, worker, spec FROM trials "
                      "WHERE ?1 = 0 OR campaign_id = ?1 ORDER BY campaign_id, number",
    [ST_TRIAL_PARAMS] = "SELECT name, value FROM trial_params WHERE trial_id = ?1 ORDER BY name",
    [ST_LIST_PARAMS] = "SELECT t.campaign_id, t.number, p.trial_id, p.name, p.value "
                       "FROM trials AS t JOIN trial_params AS p ON p.trial_id = t.id "
                       "WHERE ?1 = 0 OR t.campaign_id = ?1 "
                       "ORDER BY t.campaign_id, t.number, p.name",
    [ST_COUNTS] = "SELECT status, count(*), max(number), max(point) FROM trials "
                  "WHERE campaign_id = ?1 GROUP BY status",
    [ST_BEST_OF_CAMPAIGN] = "SELECT id, val_acc FROM trials WHERE campaign_id = ?1 AND "
                            "status = 'done' AND val_acc IS NOT NULL "
                            "ORDER BY val_acc DESC, test_acc DESC, id LIMIT 1",
    [ST_PROGRESS] =
        "SELECT p.campaign_id AS id, p.campaign AS name, p.kind, p.status, p.priority, p.budget, "
        "p.seeds_per_point, p.created_at, p.started_at, p.finished_at, p.trials, p.queued, "
        "p.running, p.done, p.failed, p.pruned, p.cancelled, p.best_val_acc, p.best_trial, "
        "p.done_fraction FROM campaign_progress AS p WHERE ?1 = 0 OR p.campaign_id = ?1",
    [ST_BEST] = "SELECT row_number() OVER (ORDER BY t.val_acc DESC, t.test_acc DESC, t.id) AS "
                "rank, t.id AS trial, c.name AS campaign, t.campaign_id, t.number, t.point, "
                "t.seed, t.label, t.val_acc, t.test_acc, t.wall_s, t.worker "
                "FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id "
                "WHERE t.status = 'done' AND t.val_acc IS NOT NULL "
                "AND (?1 = 0 OR t.campaign_id = ?1) ORDER BY rank LIMIT ?2",
    [ST_TRIALS_OF_CAMPAIGN] =
        "SELECT " TRIAL_JSON_COLS " FROM trials WHERE campaign_id = ?1 AND number >= ?2 "
        "ORDER BY number LIMIT ?3",
    /* per campaign, in trial number order like ST_TRIALS_OF_CAMPAIGN (the
     * unique index, no sort), numbers ?2..?3: number, trial id, then the data */
    [ST_GAMMA_OF_CAMPAIGN] = "SELECT t.number, p.trial_id, p.name, p.value FROM trials AS t "
                             "JOIN trial_params AS p ON p.trial_id = t.id "
                             "WHERE t.campaign_id = ?1 AND t.number BETWEEN ?2 AND ?3 "
                             "ORDER BY t.number, p.name",
    [ST_EPOCHS_OF_CAMPAIGN] =
        "SELECT t.number, e.trial_id, e.epoch, e.train_acc, e.val_acc, e.test_acc, "
        "e.goal_hidden, e.goal_out, e.seconds FROM trials AS t "
        "JOIN trial_epochs AS e ON e.trial_id = t.id "
        "WHERE t.campaign_id = ?1 AND t.number BETWEEN ?2 AND ?3 ORDER BY t.number, e.epoch",
    [ST_ATOMS_OF_CAMPAIGN] = "SELECT t.number, a.trial_id, a.layer, a.name, a.value "
                             "FROM trials AS t JOIN trial_atoms AS a ON a.trial_id = t.id "
                             "WHERE t.campaign_id = ?1 AND t.number BETWEEN ?2 AND ?3 "
                             "ORDER BY t.number, a.layer, a.name",
    [ST_ATTEMPTS_OF_CAMPAIGN] =
        "SELECT t.number, a.trial_id, a.attempt, a.worker, a.status, a.started_at, a.ended_at, "
        "a.error FROM trials AS t JOIN trial_attempts AS a ON a.trial_id = t.id "
        "WHERE t.campaign_id = ?1 AND t.number BETWEEN ?2 AND ?3 "
        "ORDER BY t.number, a.attempt",
    [ST_WORKERS] = "SELECT name, host, pid, threads, backends, first_seen, last_seen, status, "
                   "trials_done FROM workers ORDER BY name",
};

struct store {
    sqlite3 *db;
    char *path;
    int version;                /* PRAGMA user_version */
    int depth;                  /* store_begin nesting */
    sqlite3_stmt *st[ST_COUNT]; /* NULL until prepared (the latest schema only) */
};

/* ---- helpers ---- */

/* Now as "2026-11-30T11:13:50.123Z". */
static void now_iso(char out[TIME_MAX])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* An SQLite result code as an IM_E* code: a missing parent row (foreign key)
 * means the named thing does not exist; another constraint means the call
 * contradicts the stored state; anything else is a database error. */
static int map_rc(int rc)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return IM_ENOTFOUND;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return IM_EINVAL;
    if ((rc & 0xff) == SQLITE_NOTADB) return IM_EFORMAT;
    return IM_EDB;
}

/* Set err from the connection's last error; returns the mapped code. */
static int db_error(store *s, int rc, im_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int db_verror(store *s, int rc, im_error *err, const char *fmt, va_list ap)
{
    int code = map_rc(rc);
    if (err) {
        char what[256];
        vsnprintf(what, sizeof what, fmt, ap);
        im_error_set(err, code, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : "no database");
    }
    return code;
}

static int db_error(store *s, int rc, im_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = db_verror(s, rc, err, fmt, ap);
    va_end(ap);
    return code;
}

static sqlite3_stmt *stmt(store *s, int id)
{
    return s->st[id];
}

/* Run a statement to completion and reset it; rows are ignored. */
static int exec_stmt(store *s, sqlite3_stmt *st, im_error *err, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        int code = db_error(s, rc, err, "%s", what);
        sqlite3_reset(st);
        return code;
    }
    sqlite3_reset(st);
    return 0;
}

/* Step the insert of one row belonging to trial trial_id and reset the
 * statement. Returns 0, IM_ENOTFOUND if there is no such trial, or the
 * database error, fmt naming the row. */
static int step_trial_row(store *s, sqlite3_stmt *st, int64_t trial_id, im_error *err,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int step_trial_row(store *s, sqlite3_stmt *st, int64_t trial_id, im_error *err,
                          const char *fmt, ...)
{
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_CONSTRAINT_FOREIGNKEY) {
        rc = im_error_set(err, IM_ENOTFOUND, "no trial %lld", (long long)trial_id);
    } else if (step != SQLITE_DONE) {
        va_list ap;
        va_start(ap, fmt);
        rc = db_verror(s, step, err, fmt, ap);
        va_end(ap);
    }
    sqlite3_reset(st);
    return rc;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* NAN binds as NULL (unknown). */
static int bind_real(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* 0 binds as NULL (none). */
static int bind_id(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? im_xstrdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* ---- savepoints: every write call is atomic ---- */

static int op_begin(store *s, im_error *err)
{
    return exec_stmt(s, stmt(s, ST_SAVEPOINT), err, "unable to start a savepoint");
}

/* End the call's savepoint: release it when rc is 0, else roll it back.
 * Returns rc, or the failure of the release. */
static int op_end(store *s, int rc, im_error *err)
{
    if (rc == 0) {
        rc = exec_stmt(s, stmt(s, ST_RELEASE), err, "unable to commit");
        if (rc == 0) return 0;
    }
    if (!sqlite3_get_autocommit(s->db)) {
        exec_stmt(s, stmt(s, ST_ROLLBACK_TO), NULL, "rollback");
        exec_stmt(s, stmt(s, ST_RELEASE), NULL, "release");
        /* outside store_begin the savepoint was the transaction; if its
         * commit failed, do not leave it open */
        if (s->depth == 0 && !sqlite3_get_autocommit(s->db))
            exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
    }
    return rc;
}

/* ---- transactions ---- */

int store_begin(store *s, im_error *err)
{
    if (s->depth == 0) {
        int rc = exec_stmt(s, stmt(s, ST_BEGIN), err, "unable to begin a transaction");
        if (rc) return rc;
    }
    s->depth++;
    return 0;
}

int store_commit(store *s, im_error *err)
{
    if (s->depth == 0) return im_error_set(err, IM_EINVAL, "store_commit without store_begin");
    if (--s->depth > 0) return 0;
    if (sqlite3_get_autocommit(s->db))
        return im_error_set(err, IM_EDB, "unable to commit: the transaction was rolled back");
    int rc = exec_stmt(s, stmt(s, ST_COMMIT), err, "unable to commit");
    if (rc && !sqlite3_get_autocommit(s->db)) exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
    return rc;
}

void store_rollback(store *s)
{
    if (s->depth == 0) return;
    s->depth = 0;
    if (!sqlite3_get_autocommit(s->db)) exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
}

/* ---- opening and migrations ---- */

int store_schema_latest(void)
{
    return store__migration_count;
}

int store_version(const store *s)
{
    return s->version;
}

/* One integer from a one-row query (a pragma). Returns 0 or an IM_E* code. */
static int query_int(store *s, const char *sql, int64_t *out, im_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return 0;
    }
    int code = db_error(s, rc, err, "unable to read '%s'", s->path);
    sqlite3_finalize(st);
    if (code == IM_EFORMAT)
        im_error_set(err, code, "'%s' is not an SQLite database: %s", s->path, sqlite3_errstr(rc));
    return code;
}

static int exec_sql(store *s, const char *sql, im_error *err, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = map_rc(rc);
        im_error_set(err, code == IM_EFORMAT ? IM_EFORMAT : IM_EDB, "%s: %s", what,
                     msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code == IM_EFORMAT ? IM_EFORMAT : IM_EDB;
    }
    return 0;
}

/* Apply migrations version+1 .. target, each in its own transaction. The
 * version is re-read inside the transaction, so two programs migrating the
 * same file at once do not apply a migration twice. */
static int migrate(store *s, int target, im_error *err)
{
    while (s->version < target) {
        int v = s->version + 1;
        char what[600];
        snprintf(what, sizeof what, "unable to migrate '%s' to schema version %d (%s)", s->path, v,
                 store__migration_name[v - 1]);
        int rc = exec_sql(s, "BEGIN IMMEDIATE", err, what);
        if (rc) return rc;
        int64_t now_v = 0;
        rc = query_int(s, "PRAGMA user_version", &now_v, err);
        if (rc == 0 && now_v < v) {
            char pragma[64];
            snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
            rc = exec_sql(s, store__migration_sql[v - 1], err, what);
            if (rc == 0) rc = exec_sql(s, pragma, err, what);
        }
        if (rc == 0) rc = exec_sql(s, "COMMIT", err, what);
        if (rc) {
            if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        s->version = now_v >= v ? (int)now_v : v;
    }
    return 0;
}

static void store_free(store *s)
{
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* Open and migrate to `target`; prepare the statements when prepare is set
 * (only the latest schema has every table they name). */
static int open_at(store **out, const char *path, const store_options *opt, int target, int prepare,
                   im_error *err)
{
    *out = NULL;
    if (!path || !*path) return im_error_set(err, IM_EINVAL, "no database path given");
    store *s = im_xcalloc(1, sizeof *s);
    s->path = im_xstrdup(path);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = im_error_set(err, IM_EIO, "unable to open '%s': %s", path,
                          s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, opt && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000);

    /* Look before touching anything: a newer or foreign database is refused
     * unmodified. */
    int64_t version = 0, app_id = 0, n_objects = 0;
    if ((rc = query_int(s, "PRAGMA user_version", &version, err)) ||
        (rc = query_int(s, "PRAGMA application_id", &app_id, err)) ||
        (rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &n_objects, err)))
        goto fail;
    if (app_id != STORE_APPLICATION_ID && (app_id != 0 || version != 0 || n_objects != 0)) {
        rc = im_error_set(err, IM_EFORMAT, "'%s' is not an infomorph trial database", path);
        goto fail;
    }
    if (version > store__migration_count) {
        rc = im_error_set(err, IM_EPROTO,
                          "'%s' has schema version %lld, this infomorph knows up to %d: "
                          "upgrade infomorph",
                          path, (long long)version, store__migration_count);
        goto fail;
    }
    s->version = (int)version;

    /* WAL: readers never block the writer and a commit is one append. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        int in_memory = strcmp(path, ":memory:") == 0;
        if (!mode || (strcmp(mode, "wal") != 0 && !in_memory)) {
            rc = im_error_set(err, IM_EDB, "unable to use WAL for '%s' (journal mode '%s')", path,
                              mode ? mode : "?");
            sqlite3_finalize(st);
            goto fail;
        }
        sqlite3_finalize(st);
    } else {
        sqlite3_finalize(st);
        rc = db_error(s, rc == SQLITE_OK ? sqlite3_errcode(s->db) : rc, err,
                      "unable to use WAL for '%s'", path);
        goto fail;
    }
    const char *sync = opt && opt->sync == STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                           : "PRAGMA synchronous = NORMAL";
    char what[600];
    snprintf(what, sizeof what, "unable to configure '%s'", path);
    if ((rc = exec_sql(s, sync, err, what)) ||
        (rc = exec_sql(s, "PRAGMA foreign_keys = ON", err, what)))
        goto fail;

    if ((rc = migrate(s, target, err))) goto fail;

    if (prepare) {
        for (int i = 0; i < ST_COUNT; i++) {
            rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->st[i], NULL);
            if (rc != SQLITE_OK) {
                rc = db_error(s, rc, err, "unable to prepare statement %d for '%s'", i, path);
                goto fail;
            }
        }
    }
    *out = s;
    return 0;
fail:
    store_free(s);
    return rc;
}

int store_open(store **out, const char *path, const store_options *opt, im_error *err)
{
    return open_at(out, path, opt, store__migration_count, 1, err);
}

int store__create_at_version(const char *path, int version, im_error *err)
{
    if (version < 0 || version > store__migration_count)
        return im_error_set(err, IM_ERANGE, "schema version %d is not in 0..%d", version,
                            store__migration_count);
    store *s = NULL;
    int rc = open_at(&s, path, NULL, version, 0, err);
    if (rc) return rc;
    if (s->version != version)
        rc = im_error_set(err, IM_EINVAL, "'%s' is already at schema version %d", path, s->version);
    store_free(s);
    return rc;
}

void store_close(store **s)
{
    if (!s || !*s) return;
    store_rollback(*s);
    store_free(*s);
    *s = NULL;
}

/* ---- campaigns ---- */

int store_campaign_insert(store *s, const store_campaign_new *c, int64_t *id_out, im_error *err)
{
    if (!c || !c->name || !c->kind || !c->spec_json)
        return im_error_set(err, IM_EINVAL, "a campaign needs a name, a kind and a spec");
    if (c->seeds_per_point < 1)
        return im_error_set(err, IM_EINVAL, "campaign '%s': seeds_per_point must be >= 1", c->name);
    char now[TIME_MAX];
    now_iso(now);
    int rc = op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_INSERT);
    bind_text(st, 1, c->name);
    bind_text(st, 2, c->kind);
    sqlite3_bind_int(st, 3, c->priority);
    bind_text(st, 4, c->spec_json);
    bind_text(st, 5, c->sampler);
    if (c->budget >= 0)
        sqlite3_bind_int64(st, 6, c->budget);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int(st, 7, c->seeds_per_point);
    sqlite3_bind_int64(st, 8, (int64_t)c->seed);
    bind_text(st, 9, now);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        if (id_out) *id_out = sqlite3_last_insert_rowid(s->db);
    } else if (step == SQLITE_CONSTRAINT_UNIQUE) {
        rc = im_error_set(err, IM_EINVAL, "a campaign named '%s' exists already", c->name);
    } else {
        rc = db_error(s, step, err, "unable to insert campaign '%s'", c->name);
    }
    sqlite3_reset(st);
    return op_end(s, rc, err);
}

int store_campaign_set_status(store *s, int64_t id, store_campaign_status status, im_error *err)
{
    if ((int)status < 0 || (int)status >= N_CAMPAIGN_STATUS)
        return im_error_set(err, IM_EINVAL, "invalid campaign status %d", (int)status);
    char now[TIME_MAX];
    now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_STATUS);
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, store_campaign_status_name(status));
    bind_text(st, 3, now);
    int rc = exec_stmt(s, st, err, "unable to set a campaign's status");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = im_error_set(err, IM_ENOTFOUND, "no campaign %lld", (long long)id);
    return rc;
}

void store_campaign_release(store_campaign *c)
{
    if (!c) return;
    free(c->name);
    free(c->kind);
    free(c->spec_json);
    free(c->sampler);
    memset(c, 0, sizeof *c);
}

void store_campaigns_free(store_campaign **arr, size_t n)
{
    if (!arr || !*arr) return;
    for (size_t i = 0; i < n; i++) store_campaign_release(&(*arr)[i]);
    free(*arr);
    *arr = NULL;
}

/* Read a row of CAMPAIGN_COLS. Returns 0, or IM_EDB for a status this
 * program does not know (the CHECK constraint makes it impossible). */
static int campaign_from_row(store *s, sqlite3_stmt *st, store_campaign *c, im_error *err)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->name = col_strdup(st, 1);
    c->kind = col_strdup(st, 2);
    c->spec_json = col_strdup(st, 3);
    c->sampler = col_strdup(st, 4);
    const char *status = (const char *)sqlite3_column_text(st, 5);
    c->priority = sqlite3_column_int(st, 6);
    c->budget = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
    c->seeds_per_point = sqlite3_column_int(st, 8);
    c->seed = (uint64_t)sqlite3_column_int64(st, 9);
    col_copy(st, 10, c->created_at, sizeof c->created_at);
    col_copy(st, 11, c->started_at, sizeof c->started_at);
    col_copy(st, 12, c->finished_at, sizeof c->finished_at);
    if (store_campaign_status_parse(status, &c->status) != 0) {
        int rc = im_error_set(err, IM_EDB, "'%s': campaign %lld has an unknown status '%s'",
                              s->path, (long long)c->id, status ? status : "");
        store_campaign_release(c);
        return rc;
    }
    return 0;
}

/* Read the single row of a prepared campaign query. */
static int campaign_one(store *s, sqlite3_stmt *st, store_campaign *out, im_error *err,
                        const char *what)
{
    int step = sqlite3_step(st), rc;
    if (step == SQLITE_ROW)
        rc = campaign_from_row(s, st, out, err);
    else if (step == SQLITE_DONE)
        rc = im_error_set(err, IM_ENOTFOUND, "no %s", what);
    else
        rc = db_error(s, step, err, "unable to read %s", what);
    sqlite3_reset(st);
    return rc;
}

int store_campaign_get(store *s, int64_t id, store_campaign *out, im_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "campaign %lld", (long long)id);
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_GET);
    sqlite3_bind_int64(st, 1, id);
    return campaign_one(s, st, out, err, what);
}

int store_campaign_find(store *s, const char *name, store_campaign *out, im_error *err)
{
    if (!name) return im_error_set(err, IM_EINVAL, "no campaign name given");
    char what[128];
    snprintf(what, sizeof what, "campaign named '%.64s'", name);
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_FIND);
    bind_text(st, 1, name);
    return campaign_one(s, st, out, err, what);
}

int store_campaign_list(store *s, unsigned status_mask, store_campaign **out, size_t *n,
                        im_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_LIST);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_campaign c;
        if ((rc = campaign_from_row(s, st, &c, err))) break;
        if (status_mask && !(status_mask & STORE_MASK(c.status))) {
            store_campaign_release(&c);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = im_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = c;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = db_error(s, step, err, "unable to list campaigns");
    sqlite3_reset(st);
    if (rc) store_campaigns_free(out, *n), *n = 0;
    return rc;
}

/* ---- trials ---- */

static int check_param_name(const char *name, im_error *err)
{
    size_t len = strnlen(name, STORE_NAME_MAX);
    if (len == 0 || len == STORE_NAME_MAX)
        return im_error_set(err, IM_EINVAL, "a parameter name must have 1 to %d characters",
                            STORE_NAME_MAX - 1);
    return 0;
}

int store_trial_insert(store *s, const store_trial_new *t, int64_t *id_out, im_error *err)
{
    if (!t || !t->spec_json) return im_error_set(err, IM_EINVAL, "a trial needs a spec");
    if (t->number < 0 || t->point < 0)
        return im_error_set(err, IM_EINVAL, "trial number and point must be >= 0");
    if (t->n_params && !t->params) return im_error_set(err, IM_EINVAL, "trial params missing");
    for (size_t i = 0; i < t->n_params; i++) {
        int rc = check_param_name(t->params[i].name, err);
        if (rc) return rc;
        if (!isfinite(t->params[i].value))
            return im_error_set(err, IM_EINVAL, "trial parameter '%s' is not a finite number",
                                t->params[i].name);
    }
    char now[TIME_MAX];
    now_iso(now);
    int rc = op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_INSERT);
    sqlite3_bind_int64(st, 1, t->campaign_id);
    sqlite3_bind_int(st, 2, t->number);
    sqlite3_bind_int(st, 3, t->point);
    sqlite3_bind_int64(st, 4, (int64_t)t->seed);
    bind_text(st, 5, t->label);
    bind_text(st, 6, t->spec_json);
    bind_text(st, 7, now);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = im_error_set(err, IM_ENOTFOUND, "no campaign %lld", (long long)t->campaign_id);
    else if (step == SQLITE_CONSTRAINT_UNIQUE)
        rc = im_error_set(err, IM_EINVAL, "campaign %lld already has a trial number %d",
                          (long long)t->campaign_id, t->number);
    else if (step != SQLITE_DONE)
        rc = db_error(s, step, err, "unable to insert trial %d of campaign %lld", t->number,
                      (long long)t->campaign_id);
    sqlite3_reset(st);
    int64_t id = sqlite3_last_insert_rowid(s->db);

    st = stmt(s, ST_PARAM_INSERT);
    for (size_t i = 0; rc == 0 && i < t->n_params; i++) {
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, t->params[i].name);
        sqlite3_bind_double(st, 3, t->params[i].value);
        step = sqlite3_step(st);
        if (step == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc =
                im_error_set(err, IM_EINVAL, "trial parameter '%s' given twice", t->params[i].name);
        else if (step != SQLITE_DONE)
            rc = db_error(s, step, err, "unable to insert trial parameter '%s'", t->params[i].name);
        sqlite3_reset(st);
    }
    rc = op_end(s, rc, err);
    if (rc == 0 && id_out) *id_out = id;
    return rc;
}

/* The state of a trial, read before changing it. The checks are made here
 * rather than in the UPDATE's WHERE clause with RETURNING: a RETURNING
 * statement inside a transaction opens a statement journal (a 64 KiB
 * allocation each time, which made the allocator shrink and grow the heap
 * around every call), and the state read gives the precise error for free. */
typedef struct trial_state {
    store_trial_status status;
    int attempt;
    char worker[256]; /* "" if none */
} trial_state;

/* Returns 0, IM_ENOTFOUND, IM_EDB. */
static int trial_state_get(store *s, int64_t trial_id, trial_state *ts, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_TRIAL_STATE);
    sqlite3_bind_int64(st, 1, trial_id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        if (store_trial_status_parse(status, &ts->status) != 0)
            rc = im_error_set(err, IM_EDB, "'%s': trial %lld has an unknown status '%s'", s->path,
                              (long long)trial_id, status ? status : "");
        ts->attempt = sqlite3_column_int(st, 1);
        col_copy(st, 2, ts->worker, sizeof ts->worker);
    } else if (step == SQLITE_DONE) {
        rc = im_error_set(err, IM_ENOTFOUND, "no trial %lld", (long long)trial_id);
    } else {
        rc = db_error(s, step, err, "unable to read trial %lld", (long long)trial_id);
    }
    sqlite3_reset(st);
    return rc;
}

/* Read the trial's state into *ts: IM_EINVAL unless its running attempt is
 * `attempt`. Returns 0, IM_ENOTFOUND, IM_EINVAL or IM_EDB. */
static int get_running(store *s, int64_t trial_id, int attempt, trial_state *ts, im_error *err)
{
    int rc = trial_state_get(s, trial_id, ts, err);
    if (rc || (ts->status == STORE_TRIAL_RUNNING && ts->attempt == attempt)) return rc;
    return im_error_set(err, IM_EINVAL, "trial %lld is %s (attempt %d), not running attempt %d",
                        (long long)trial_id, store_trial_status_name(ts->status), ts->attempt,
                        attempt);
}

int store_trial_start(store *s, int64_t trial_id, const char *worker, int *attempt_out,
                      im_error *err)
{
    trial_state ts;
    int rc = trial_state_get(s, trial_id, &ts, err);
    if (rc) return rc;
    if (ts.status != STORE_TRIAL_QUEUED)
        return im_error_set(err, IM_EINVAL, "trial %lld is %s (attempt %d), not queued",
                            (long long)trial_id, store_trial_status_name(ts.status), ts.attempt);
    int attempt = ts.attempt + 1;
    char now[TIME_MAX];
    now_iso(now);
    if ((rc = op_begin(s, err))) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_START);
    sqlite3_bind_int64(st, 1, trial_id);
    bind_text(st, 2, worker);
    bind_text(st, 3, now);
    sqlite3_bind_int(st, 4, attempt);
    rc = exec_stmt(s, st, err, "unable to start a trial");
    if (rc == 0) {
        st = stmt(s, ST_ATTEMPT_INSERT);
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_int(st, 2, attempt);
        bind_text(st, 3, worker);
        bind_text(st, 4, now);
        rc = exec_stmt(s, st, err, "unable to record a trial attempt");
    }
    if (rc == 0 && attempt > 1) {
        /* the curve and atoms of an earlier attempt do not belong to this one */
        st = stmt(s, ST_EPOCHS_CLEAR);
        sqlite3_bind_int64(st, 1, trial_id);
        rc = exec_stmt(s, st, err, "unable to clear a trial's epochs");
        if (rc == 0) {
            st = stmt(s, ST_ATOMS_CLEAR);
            sqlite3_bind_int64(st, 1, trial_id);
            rc = exec_stmt(s, st, err, "unable to clear a trial's atoms");
        }
    }
    rc = op_end(s, rc, err);
    if (rc == 0 && attempt_out) *attempt_out = attempt;
    return rc;
}

/* Close attempt `attempt` of a trial with a status. */
static int attempt_end(store *s, int64_t trial_id, int attempt, store_attempt_status status,
                       const char *now, const char *error, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_ATTEMPT_END);
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, attempt);
    bind_text(st, 3, store_attempt_status_name(status));
    bind_text(st, 4, now);
    bind_text(st, 5, error);
    return exec_stmt(s, st, err, "unable to end a trial attempt");
}

int store_trial_finish(store *s, int64_t trial_id, int attempt, const store_trial_result *r,
                       im_error *err)
{
    store_attempt_status as;
    switch (r ? r->status : STORE_TRIAL_QUEUED) {
    case STORE_TRIAL_DONE: as = STORE_ATTEMPT_DONE; break;
    case STORE_TRIAL_FAILED: as = STORE_ATTEMPT_FAILED; break;
    case STORE_TRIAL_PRUNED: as = STORE_ATTEMPT_PRUNED; break;
    case STORE_TRIAL_CANCELLED: as = STORE_ATTEMPT_CANCELLED; break;
    default:
        return im_error_set(err, IM_EINVAL,
                            "a trial result must be done, failed, pruned or cancelled");
    }
    trial_state ts;
    int rc = get_running(s, trial_id, attempt, &ts, err);
    if (rc) return rc;
    char now[TIME_MAX];
    now_iso(now);
    if ((rc = op_begin(s, err))) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_FINISH);
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, attempt);
    bind_text(st, 3, store_trial_status_name(r->status));
    bind_real(st, 4, r->val_acc);
    bind_real(st, 5, r->test_acc);
    bind_real(st, 6, r->wall_s);
    bind_text(st, 7, r->error);
    bind_text(st, 8, now);
    rc = exec_stmt(s, st, err, "unable to finish a trial");
    if (rc == 0) rc = attempt_end(s, trial_id, attempt, as, now, r->error, err);
    if (rc == 0 && r->status == STORE_TRIAL_DONE && ts.worker[0]) {
        st = stmt(s, ST_WORKER_COUNT_DONE);
        bind_text(st, 1, ts.worker);
        rc = exec_stmt(s, st, err, "unable to count a worker's trial");
    }
    return op_end(s, rc, err);
}

int store_trial_lost(store *s, int64_t trial_id, int attempt, const char *reason, int requeue,
                     im_error *err)
{
    trial_state ts;
    int rc = get_running(s, trial_id, attempt, &ts, err);
    if (rc) return rc;
    char now[TIME_MAX];
    now_iso(now);
    if ((rc = op_begin(s, err))) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_LOST);
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, attempt);
    sqlite3_bind_int(st, 3, requeue != 0);
    bind_text(st, 4, reason);
    bind_text(st, 5, now);
    rc = exec_stmt(s, st, err, "unable to mark a trial lost");
    if (rc == 0) rc = attempt_end(s, trial_id, attempt, STORE_ATTEMPT_LOST, now, reason, err);
    return op_end(s, rc, err);
}

int store_requeue_running(store *s, int64_t *n_out, im_error *err)
{
    char now[TIME_MAX];
    now_iso(now);
    int rc = op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_REQUEUE_ATTEMPTS);
    bind_text(st, 1, now);
    rc = exec_stmt(s, st, err, "unable to interrupt running attempts");
    int64_t n = 0;
    if (rc == 0) {
        rc = exec_stmt(s, stmt(s, ST_REQUEUE_TRIALS), err, "unable to requeue running trials");
        n = sqlite3_changes64(s->db);
    }
    rc = op_end(s, rc, err);
    if (rc == 0 && n_out) *n_out = n;
    return rc;
}

int store_campaign_cancel_queued(store *s, int64_t campaign_id, int64_t *n_out, im_error *err)
{
    char now[TIME_MAX];
    now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_CANCEL_QUEUED);
    sqlite3_bind_int64(st, 1, campaign_id);
    bind_text(st, 2, now);
    int rc = exec_stmt(s, st, err, "unable to cancel queued trials");
    if (rc == 0 && n_out) *n_out = sqlite3_changes64(s->db);
    return rc;
}

int store_epochs_insert(store *s, int64_t trial_id, const store_epoch *e, size_t n, im_error *err)
{
    if (n && !e) return im_error_set(err, IM_EINVAL, "epochs missing");
    int rc = op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_EPOCH_UPSERT);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_int(st, 2, e[i].epoch);
        bind_real(st, 3, e[i].train_acc);
        bind_real(st, 4, e[i].val_acc);
        bind_real(st, 5, e[i].test_acc);
        bind_real(st, 6, e[i].goal_hidden);
        bind_real(st, 7, e[i].goal_out);
        bind_real(st, 8, e[i].seconds);
        rc = step_trial_row(s, st, trial_id, err, "unable to insert epoch %d of trial %lld",
                            e[i].epoch, (long long)trial_id);
    }
    return op_end(s, rc, err);
}

int store_atoms_insert(store *s, int64_t trial_id, const store_atom *a, size_t n, im_error *err)
{
    if (n && !a) return im_error_set(err, IM_EINVAL, "atoms missing");
    for (size_t i = 0; i < n; i++) {
        if (!a[i].layer || (strcmp(a[i].layer, "hidden") != 0 && strcmp(a[i].layer, "output")))
            return im_error_set(err, IM_EINVAL, "atom layer must be 'hidden' or 'output', not '%s'",
                                a[i].layer ? a[i].layer : "(null)");
        if (!a[i].name || !a[i].name[0])
            return im_error_set(err, IM_EINVAL, "an atom needs a name");
        if (!isfinite(a[i].value))
            return im_error_set(err, IM_EINVAL, "atom '%s' of the %s layer is not finite",
                                a[i].name, a[i].layer);
    }
    int rc = op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_ATOM_UPSERT);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, trial_id);
        bind_text(st, 2, a[i].layer);
        bind_text(st, 3, a[i].name);
        sqlite3_bind_double(st, 4, a[i].value);
        rc = step_trial_row(s, st, trial_id, err, "unable to insert atom '%s' of trial %lld",
                            a[i].name, (long long)trial_id);
    }
    return op_end(s, rc, err);
}

void store_trial_release(store_trial *t)
{
    if (!t) return;
    free(t->label);
    free(t->worker);
    free(t->spec_json);
    free(t->params);
    memset(t, 0, sizeof *t);
}

void store_trials_free(store_trial **arr, size_t n)
{
    if (!arr || !*arr) return;
    for (size_t i = 0; i < n; i++) store_trial_release(&(*arr)[i]);
    free(*arr);
    *arr = NULL;
}

/* Append a param to a trial read back. */
static void trial_add_param(store_trial *t, size_t *cap, const char *name, double value)
{
    if (t->n_params == *cap) {
        *cap = *cap ? 2 * *cap : 24;
        t->params = im_xrealloc(t->params, *cap * sizeof *t->params);
    }
    store_param *p = &t->params[t->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    p->value = value;
}

/* The params of the trials of a list in one pass: the join comes in the
 * list's order (campaign, number; the unique index, no sort), so a merge
 * walk attaches each row to its trial. One query instead of one per trial:
 * this is the history load of a coordinator's start. */
static int list_params(store *s, int64_t campaign_id, store_trial *list, size_t n, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_LIST_PARAMS);
    sqlite3_bind_int64(st, 1, campaign_id);
    size_t i = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && i < n) {
        int64_t c = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 2);
        int number = sqlite3_column_int(st, 1);
        while (i < n &&
               (list[i].campaign_id < c || (list[i].campaign_id == c && list[i].number < number))) {
            i++;
            cap = 0;
        }
        if (i < n && list[i].id == id)
            trial_add_param(&list[i], &cap, (const char *)sqlite3_column_text(st, 3),
                            sqlite3_column_double(st, 4));
    }
    int rc = 0;
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_error(s, step, err, "unable to read trial params");
    sqlite3_reset(st);
    return rc;
}

int store_trial_list(store *s, int64_t campaign_id, unsigned status_mask, int flags,
                     store_trial **out, size_t *n, im_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc = 0, step;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_LIST);
    sqlite3_bind_int64(st, 1, campaign_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_status status;
        const char *status_text = (const char *)sqlite3_column_text(st, 6);
        if (store_trial_status_parse(status_text, &status) != 0) {
            rc = im_error_set(err, IM_EDB, "'%s': trial %lld has an unknown status '%s'", s->path,
                              (long long)sqlite3_column_int64(st, 0),
                              status_text ? status_text : "");
            break;
        }
        if (status_mask && !(status_mask & STORE_MASK(status))) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = im_xrealloc(*out, cap * sizeof **out);
        }
        store_trial *t = &(*out)[(*n)++];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->campaign_id = sqlite3_column_int64(st, 1);
        t->number = sqlite3_column_int(st, 2);
        t->point = sqlite3_column_int(st, 3);
        t->attempt = sqlite3_column_int(st, 4);
        t->seed = (uint64_t)sqlite3_column_int64(st, 5);
        t->status = status;
        t->val_acc = col_real(st, 7);
        t->test_acc = col_real(st, 8);
        t->wall_s = col_real(st, 9);
        t->label = col_strdup(st, 10);
        t->worker = col_strdup(st, 11);
        if (flags & STORE_WITH_SPEC) t->spec_json = col_strdup(st, 12);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = db_error(s, step, err, "unable to list trials");
    sqlite3_reset(st);
    if (rc == 0 && (flags & STORE_WITH_PARAMS)) rc = list_params(s, campaign_id, *out, *n, err);
    if (rc) store_trials_free(out, *n), *n = 0;
    return rc;
}

int store_campaign_counts(store *s, int64_t campaign_id, store_counts *out, im_error *err)
{
    memset(out, 0, sizeof *out);
    out->best_val_acc = NAN;
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_EXISTS);
    sqlite3_bind_int64(st, 1, campaign_id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return im_error_set(err, IM_ENOTFOUND, "no campaign %lld", (long long)campaign_id);
    if (step != SQLITE_ROW) return db_error(s, step, err, "unable to read campaign counts");

    int rc = 0;
    st = stmt(s, ST_COUNTS);
    sqlite3_bind_int64(st, 1, campaign_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_trial_status status;
        int64_t count = sqlite3_column_int64(st, 1);
        if (store_trial_status_parse((const char *)sqlite3_column_text(st, 0), &status) == 0)
            out->by_status[status] = count;
        out->total += count;
        int max_number = sqlite3_column_int(st, 2), max_point = sqlite3_column_int(st, 3);
        if (max_number + 1 > out->next_number) out->next_number = max_number + 1;
        if (max_point + 1 > out->next_point) out->next_point = max_point + 1;
    }
    if (step != SQLITE_DONE) rc = db_error(s, step, err, "unable to count trials");
    sqlite3_reset(st);
    if (rc) return rc;

    st = stmt(s, ST_BEST_OF_CAMPAIGN);
    sqlite3_bind_int64(st, 1, campaign_id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->best_trial = sqlite3_column_int64(st, 0);
        out->best_val_acc = sqlite3_column_double(st, 1);
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, step, err, "unable to find the best trial");
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- workers and events ---- */

int store_worker_seen(store *s, const store_worker_info *w, im_error *err)
{
    if (!w || !w->name || !w->name[0]) return im_error_set(err, IM_EINVAL, "a worker needs a name");
    char now[TIME_MAX];
    now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_WORKER_UPSERT);
    bind_text(st, 1, w->name);
    bind_text(st, 2, w->host);
    bind_id(st, 3, w->pid);
    bind_id(st, 4, w->threads);
    bind_text(st, 5, w->backends);
    bind_text(st, 6, now);
    return exec_stmt(s, st, err, "unable to record a worker");
}

/* Run an UPDATE of worker `name`: IM_ENOTFOUND if there is no such worker. */
static int exec_worker_update(store *s, sqlite3_stmt *st, const char *name, im_error *err)
{
    int rc = exec_stmt(s, st, err, "unable to update a worker");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = im_error_set(err, IM_ENOTFOUND, "no worker '%s'", name ? name : "(null)");
    return rc;
}

int store_worker_touch(store *s, const char *name, im_error *err)
{
    char now[TIME_MAX];
    now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_WORKER_TOUCH);
    bind_text(st, 1, name);
    bind_text(st, 2, now);
    return exec_worker_update(s, st, name, err);
}

int store_worker_set_status(store *s, const char *name, const char *status, im_error *err)
{
    if (!status || (strcmp(status, "alive") && strcmp(status, "lost") && strcmp(status, "gone")))
        return im_error_set(err, IM_EINVAL, "worker status must be alive, lost or gone, not '%s'",
                            status ? status : "(null)");
    sqlite3_stmt *st = stmt(s, ST_WORKER_STATUS);
    bind_text(st, 1, name);
    bind_text(st, 2, status);
    return exec_worker_update(s, st, name, err);
}

int store_event(store *s, const char *kind, int64_t campaign_id, int64_t trial_id,
                const char *worker, const char *detail, im_error *err)
{
    if (!kind || !kind[0]) return im_error_set(err, IM_EINVAL, "an event needs a kind");
    char now[TIME_MAX];
    now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);
    bind_text(st, 1, now);
    bind_text(st, 2, kind);
    bind_id(st, 3, campaign_id);
    bind_id(st, 4, trial_id);
    bind_text(st, 5, worker);
    bind_text(st, 6, detail);
    return exec_stmt(s, st, err, "unable to log an event");
}

/* ---- JSON reads ---- */

/* Column i of the current row as a new JSON value by its SQLite type. */
static json_t *col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        json_t *j = json_stringn(t, (size_t)sqlite3_column_bytes(st, i));
        return j ? j : json_null(); /* not UTF-8: never written by the store */
    }
    default: return json_null();
    }
}

/* Columns from..to-1 of the current row as an object keyed by column name. */
static json_t *row_json_range(sqlite3_stmt *st, int from, int to)
{
    json_t *o = json_object();
    for (int i = from; i < to; i++)
        json_object_set_new(o, sqlite3_column_name(st, i), col_json(st, i));
    return o;
}

static json_t *row_json(sqlite3_stmt *st, int n)
{
    return row_json_range(st, 0, n);
}

enum {
    MERGE_ARRAY, /* key: [{data columns}, ...] */
    MERGE_MAP,   /* key: {col 2: col 3} */
    MERGE_MAP2   /* key: {col 2: {col 3: col 4}} */
};

/* Attach the rows of a per-campaign join (columns: trial number, trial id,
 * data; ordered by number; numbers lo..hi) to the objects of arr (ordered by
 * "number", with "trial" the id) under key, in one merge walk: one query for
 * the whole campaign (or page) instead of one per trial. Every object gets
 * key, empty if it has no rows. Returns 0 or IM_EDB. */
static int merge_json(store *s, int which, int64_t campaign_id, int64_t lo, int64_t hi, json_t *arr,
                      const char *key, int mode, im_error *err)
{
    size_t n = json_array_size(arr), i = 0;
    for (size_t k = 0; k < n; k++)
        json_object_set_new(json_array_get(arr, k), key,
                            mode == MERGE_ARRAY ? json_array() : json_object());
    sqlite3_stmt *st = stmt(s, which);
    sqlite3_bind_int64(st, 1, campaign_id);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_int_t number = sqlite3_column_int64(st, 0);
        while (i < n &&
               json_integer_value(json_object_get(json_array_get(arr, i), "number")) < number)
            i++;
        if (i == n) break;
        json_t *o = json_array_get(arr, i);
        if (json_integer_value(json_object_get(o, "trial")) != sqlite3_column_int64(st, 1))
            continue;
        json_t *dst = json_object_get(o, key);
        const char *k1 = (const char *)sqlite3_column_text(st, 2);
        if (mode == MERGE_ARRAY) {
            json_array_append_new(dst, row_json_range(st, 2, sqlite3_column_count(st)));
        } else if (mode == MERGE_MAP) {
            json_object_set_new(dst, k1 ? k1 : "", col_json(st, 3));
        } else {
            const char *k2 = (const char *)sqlite3_column_text(st, 3);
            json_t *g = json_object_get(dst, k1 ? k1 : "");
            if (!g) {
                g = json_object();
                json_object_set_new(dst, k1 ? k1 : "", g);
            }
            json_object_set_new(g, k2 ? k2 : "", col_json(st, 4));
        }
    }
    int rc = 0;
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_error(s, step, err, "unable to read the %s of campaign %lld", key,
                      (long long)campaign_id);
    sqlite3_reset(st);
    return rc;
}

/* {short name: value} of one trial. */
static int gamma_json(store *s, int64_t trial_id, json_t **out, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_TRIAL_PARAMS);
    sqlite3_bind_int64(st, 1, trial_id);
    json_t *g = json_object();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(g, (const char *)sqlite3_column_text(st, 0),
                            json_real(sqlite3_column_double(st, 1)));
    int rc = 0;
    if (step != SQLITE_DONE)
        rc = db_error(s, step, err, "unable to read the params of trial %lld", (long long)trial_id);
    sqlite3_reset(st);
    if (rc) json_decref(g), g = NULL;
    *out = g;
    return rc;
}

/* Collect all rows of a bound statement as objects (first ncols columns, all
 * when ncols < 0). Returns the array or NULL with err set. */
static json_t *rows_json(store *s, sqlite3_stmt *st, int ncols, im_error *err, const char *what)
{
    json_t *arr = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, row_json(st, ncols < 0 ? sqlite3_column_count(st) : ncols));
    if (step != SQLITE_DONE) {
        db_error(s, step, err, "unable to read %s", what);
        json_decref(arr);
        arr = NULL;
    }
    sqlite3_reset(st);
    return arr;
}

/* Add "gamma" to every object of arr (whose "trial" is the id). */
static int add_gamma(store *s, json_t *arr, im_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        json_t *g;
        int rc = gamma_json(s, json_integer_value(json_object_get(o, "trial")), &g, err);
        if (rc) return rc;
        json_object_set_new(o, "gamma", g);
    }
    return 0;
}

json_t *store_progress_json(store *s, int64_t campaign_id, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_PROGRESS);
    sqlite3_bind_int64(st, 1, campaign_id);
    return rows_json(s, st, -1, err, "campaign progress");
}

json_t *store_best_json(store *s, int64_t campaign_id, int n, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_BEST);
    sqlite3_bind_int64(st, 1, campaign_id);
    sqlite3_bind_int(st, 2, n < 0 ? 0 : n);
    json_t *arr = rows_json(s, st, -1, err, "the best trials");
    if (arr && add_gamma(s, arr, err)) json_decref(arr), arr = NULL;
    return arr;
}

json_t *store_trials_json(store *s, int64_t campaign_id, im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_TRIALS_OF_CAMPAIGN);
    sqlite3_bind_int64(st, 1, campaign_id);
    sqlite3_bind_int64(st, 2, 0);
    sqlite3_bind_int64(st, 3, -1); /* no limit */
    /* all columns but the last (spec) */
    json_t *arr = rows_json(s, st, sqlite3_column_count(st) - 1, err, "trials");
    if (arr && merge_json(s, ST_GAMMA_OF_CAMPAIGN, campaign_id, 0, INT64_MAX, arr, "gamma",
                          MERGE_MAP, err))
        json_decref(arr), arr = NULL;
    return arr;
}

json_t *store_export_json(store *s, int64_t campaign_id, im_error *err)
{
    return store_export_page_json(s, campaign_id, 0, -1, NULL, err);
}

json_t *store_export_page_json(store *s, int64_t campaign_id, int64_t from, int limit,
                               int64_t *next, im_error *err)
{
    if (next) *next = -1;
    sqlite3_stmt *st = stmt(s, ST_TRIALS_OF_CAMPAIGN);
    sqlite3_bind_int64(st, 1, campaign_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, limit < 0 ? -1 : (int64_t)limit + 1); /* one more: is there a next? */
    json_t *arr = rows_json(s, st, -1, err, "trials");
    if (!arr) return NULL;
    if (limit >= 0 && json_array_size(arr) > (size_t)limit) {
        size_t last = json_array_size(arr) - 1;
        if (next) *next = json_integer_value(json_object_get(json_array_get(arr, last), "number"));
        json_array_remove(arr, last);
    }
    size_t n = json_array_size(arr);
    int64_t hi = n ? json_integer_value(json_object_get(json_array_get(arr, n - 1), "number")) : -1;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        /* the spec as an object, not as text */
        const char *text = json_string_value(json_object_get(o, "spec"));
        json_t *spec = text ? json_loads(text, 0, NULL) : NULL;
        json_object_set_new(o, "spec", spec ? spec : json_null());
    }
    if (merge_json(s, ST_GAMMA_OF_CAMPAIGN, campaign_id, from, hi, arr, "gamma", MERGE_MAP, err) ||
        merge_json(s, ST_EPOCHS_OF_CAMPAIGN, campaign_id, from, hi, arr, "epochs", MERGE_ARRAY,
                   err) ||
        merge_json(s, ST_ATOMS_OF_CAMPAIGN, campaign_id, from, hi, arr, "atoms", MERGE_MAP2, err) ||
        merge_json(s, ST_ATTEMPTS_OF_CAMPAIGN, campaign_id, from, hi, arr, "attempts", MERGE_ARRAY,
                   err)) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *store_workers_json(store *s, im_error *err)
{
    return rows_json(s, stmt(s, ST_WORKERS), -1, err, "workers");
}
