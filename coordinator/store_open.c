/*
 * store_open.c: opening the trial store, its pragmas and migrations, the
 * transactions and the savepoint of every write call, the status names, and
 * the helpers the other parts share (store_internal.h). See store.h for the
 * contract.
 *
 * Every statement of the three parts is prepared once in store_open
 * (SQLITE_PREPARE_PERSISTENT) and reset after each use; nothing builds SQL
 * text at run time. Each write function wraps its statements in the savepoint
 * "op", so it is atomic on its own and, inside store_begin/store_commit, a
 * failed call rolls back only its own work. Timestamps are formatted once per
 * call, so all rows written by one call carry the same time.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_APPLICATION_ID 1768779634 /* 'imor', set by 0001_init.sql */

/* ---- statuses ---- */

static const char *const campaign_status_names[] = {"queued",    "running", "done",
                                                    "cancelled", "failed",  "waiting"};
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

const int store__n_campaign_status = N_CAMPAIGN_STATUS;

/* ---- the statements of this part ---- */

enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO, ST_COUNT };

const char *const store__open_sql[ST_COUNT + 1] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT op",
    [ST_RELEASE] = "RELEASE op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO op",
    NULL,
};

static sqlite3_stmt *stmt(store *s, int id)
{
    return s->st[STORE_PART_OPEN][id];
}

/* ---- helpers ---- */

void store__now_iso(char out[STORE_TIME_MAX])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, STORE_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

int store__map_rc(int rc)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return IM_ENOTFOUND;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return IM_EINVAL;
    if ((rc & 0xff) == SQLITE_NOTADB) return IM_EFORMAT;
    return IM_EDB;
}

int store__db_verror(store *s, int rc, im_error *err, const char *fmt, va_list ap)
{
    int code = store__map_rc(rc);
    if (err) {
        char what[256];
        vsnprintf(what, sizeof what, fmt, ap);
        im_error_set(err, code, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : "no database");
    }
    return code;
}

int store__db_error(store *s, int rc, im_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = store__db_verror(s, rc, err, fmt, ap);
    va_end(ap);
    return code;
}

int store__exec_stmt(store *s, sqlite3_stmt *st, im_error *err, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        int code = store__db_error(s, rc, err, "%s", what);
        sqlite3_reset(st);
        return code;
    }
    sqlite3_reset(st);
    return 0;
}

/* ---- savepoints: every write call is atomic ---- */

int store__op_begin(store *s, im_error *err)
{
    return store__exec_stmt(s, stmt(s, ST_SAVEPOINT), err, "unable to start a savepoint");
}

/* End the call's savepoint: release it when rc is 0, else roll it back.
 * Returns rc, or the failure of the release. */
int store__op_end(store *s, int rc, im_error *err)
{
    if (rc == 0) {
        rc = store__exec_stmt(s, stmt(s, ST_RELEASE), err, "unable to commit");
        if (rc == 0) return 0;
    }
    if (!sqlite3_get_autocommit(s->db)) {
        store__exec_stmt(s, stmt(s, ST_ROLLBACK_TO), NULL, "rollback");
        store__exec_stmt(s, stmt(s, ST_RELEASE), NULL, "release");
        /* outside store_begin the savepoint was the transaction; if its
         * commit failed, do not leave it open */
        if (s->depth == 0 && !sqlite3_get_autocommit(s->db))
            store__exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
    }
    return rc;
}

/* ---- transactions ---- */

int store_begin(store *s, im_error *err)
{
    if (s->depth == 0) {
        int rc = store__exec_stmt(s, stmt(s, ST_BEGIN), err, "unable to begin a transaction");
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
    int rc = store__exec_stmt(s, stmt(s, ST_COMMIT), err, "unable to commit");
    if (rc && !sqlite3_get_autocommit(s->db))
        store__exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
    return rc;
}

void store_rollback(store *s)
{
    if (s->depth == 0) return;
    s->depth = 0;
    if (!sqlite3_get_autocommit(s->db)) store__exec_stmt(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
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
    int code = store__db_error(s, rc, err, "unable to read '%s'", s->path);
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
        int code = store__map_rc(rc);
        im_error_set(err, code == IM_EFORMAT ? IM_EFORMAT : IM_EDB, "%s: %s", what,
                     msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code == IM_EFORMAT ? IM_EFORMAT : IM_EDB;
    }
    return 0;
}

/* After a migration, inside its transaction: every foreign key must still
 * hold (a rebuilt table keeps its rows and ids). Returns 0, IM_EDB. */
static int check_foreign_keys(store *s, im_error *err, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = im_error_set(err, IM_EDB, "%s: a row of table '%s' refers to a missing '%s'", what,
                          (const char *)sqlite3_column_text(st, 0),
                          (const char *)sqlite3_column_text(st, 2));
    else if (rc == SQLITE_DONE)
        rc = 0;
    else
        rc = store__db_error(s, rc, err, "%s", what);
    sqlite3_finalize(st);
    return rc;
}

/* Apply migrations version+1 .. target, each in its own transaction. The
 * version is re-read inside the transaction, so two programs migrating the
 * same file at once do not apply a migration twice. Foreign keys are off
 * while they run (a migration may rebuild a table that others refer to:
 * with them on, dropping the old table would delete the rows that refer to
 * it) and checked before each commit. */
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
            if (rc == 0) rc = check_foreign_keys(s, err, what);
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

/* The database's identity (schema/0005_database_id.sql) into s->id, once;
 * a database at an older version (store__create_at_version) has none. */
static int read_identity(store *s, im_error *err)
{
    s->id[0] = '\0';
    if (s->version < 5) return 0;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT id FROM database_identity WHERE one = 1", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    const unsigned char *id = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (id && strlen((const char *)id) == STORE_DATABASE_ID_LEN)
        snprintf(s->id, sizeof s->id, "%s", (const char *)id);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = im_error_set(err, IM_EFORMAT, "'%s' has no valid database identity", s->path);
    else
        rc = store__db_error(s, rc, err, "unable to read the identity of '%s'", s->path);
    sqlite3_finalize(st);
    return s->id[0] ? 0 : rc;
}

const char *store_database_id(const store *s)
{
    return s->id;
}

static void store_free(store *s)
{
    if (!s) return;
    for (int p = 0; p < STORE_PART_COUNT; p++) {
        for (int i = 0; s->st[p] && s->st[p][i]; i++) sqlite3_finalize(s->st[p][i]);
        free(s->st[p]);
    }
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* Look before touching anything: a newer or foreign database is refused
 * unmodified. Sets s->version. */
static int check_identity(store *s, im_error *err)
{
    int64_t version = 0, app_id = 0, n_objects = 0;
    int rc;
    if ((rc = query_int(s, "PRAGMA user_version", &version, err)) ||
        (rc = query_int(s, "PRAGMA application_id", &app_id, err)) ||
        (rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &n_objects, err)))
        return rc;
    if (app_id != STORE_APPLICATION_ID && (app_id != 0 || version != 0 || n_objects != 0))
        return im_error_set(err, IM_EFORMAT, "'%s' is not an infomorph trial database", s->path);
    if (version > store__migration_count)
        return im_error_set(err, IM_EPROTO,
                            "'%s' has schema version %lld, this infomorph knows up to %d: "
                            "upgrade infomorph",
                            s->path, (long long)version, store__migration_count);
    s->version = (int)version;
    return 0;
}

/* WAL (readers never block the writer and a commit is one append) and the
 * synchronous level; foreign keys are turned on after the migrations. */
static int configure(store *s, const store_options *opt, im_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        int in_memory = strcmp(s->path, ":memory:") == 0;
        if (!mode || (strcmp(mode, "wal") != 0 && !in_memory))
            rc = im_error_set(err, IM_EDB, "unable to use WAL for '%s' (journal mode '%s')",
                              s->path, mode ? mode : "?");
        else
            rc = 0;
        sqlite3_finalize(st);
        if (rc) return rc;
    } else {
        sqlite3_finalize(st);
        return store__db_error(s, rc == SQLITE_OK ? sqlite3_errcode(s->db) : rc, err,
                               "unable to use WAL for '%s'", s->path);
    }
    const char *sync = opt && opt->sync == STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                           : "PRAGMA synchronous = NORMAL";
    char what[600];
    snprintf(what, sizeof what, "unable to configure '%s'", s->path);
    if ((rc = exec_sql(s, sync, err, what))) return rc;
    /* Each write call runs in a savepoint inside the pass's transaction, and
     * SQLite copies the pages it changes to a statement journal: in memory
     * up to 64 KiB, then in a temporary file, a pwrite per page. Keep it in
     * memory always (temporary tables and indexes, which are not used,
     * would be in memory too). */
    if ((rc = exec_sql(s, "PRAGMA temp_store = MEMORY", err, what))) return rc;
    return exec_sql(s, "PRAGMA foreign_keys = OFF", err, what); /* until migrated */
}

/* Prepare every part's statements (only the latest schema has every table
 * they name). */
static int prepare_all(store *s, im_error *err)
{
    static const char *const *const tables[STORE_PART_COUNT] = {
        [STORE_PART_OPEN] = store__open_sql,
        [STORE_PART_WRITE] = store__write_sql,
        [STORE_PART_READ] = store__read_sql,
    };
    for (int p = 0; p < STORE_PART_COUNT; p++) {
        size_t n = 0;
        while (tables[p][n]) n++;
        s->st[p] = im_xcalloc(n + 1, sizeof *s->st[p]); /* NULL-terminated too */
        for (size_t i = 0; i < n; i++) {
            int rc = sqlite3_prepare_v3(s->db, tables[p][i], -1, SQLITE_PREPARE_PERSISTENT,
                                        &s->st[p][i], NULL);
            if (rc != SQLITE_OK)
                return store__db_error(s, rc, err, "unable to prepare statement %d.%zu for '%s'", p,
                                       i, s->path);
        }
    }
    return 0;
}

/* After a failed open: when the folder holding path cannot be written,
 * replace SQLite's "attempt to write a readonly database" (or, on a
 * read-only filesystem, "unable to open database file") with a message
 * naming that folder (SQLite keeps its journal and WAL files beside the
 * database). */
static void explain_readonly_dir(const char *path, int rc, im_error *err)
{
    if (!err ||
        (!strstr(err->msg, "readonly") && !strstr(err->msg, "unable to open database file")))
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK) == 0) return;
    if (errno == EROFS)
        im_error_set(err, rc,
                     "unable to use '%s': the directory '%s' is on a read-only filesystem "
                     "(SQLite keeps its journal there: it must be writable)",
                     path, dir);
    else
        im_error_set(err, rc,
                     "unable to use '%s': the directory '%s' must be writable (SQLite keeps "
                     "its journal there)",
                     path, dir);
}

/* Open and migrate to `target`; prepare the statements when prepare is set.
 * An existing file of 0 bytes is refused, not initialised: an empty file
 * where a database should be is a mistake (a truncation, a wrong path) that
 * must not silently become a new, empty campaign store. */
static int open_at(store **out, const char *path, const store_options *opt, int target, int prepare,
                   im_error *err)
{
    *out = NULL;
    if (!path || !*path) return im_error_set(err, IM_EINVAL, "no database path given");
    struct stat stt;
    if (stat(path, &stt) == 0 && S_ISREG(stt.st_mode) && stt.st_size == 0)
        return im_error_set(err, IM_EFORMAT,
                            "'%s' exists but is empty (0 bytes), so it is not a database: remove "
                            "it to create a new database there, or give another path",
                            path);
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
    if ((rc = check_identity(s, err)) || (rc = configure(s, opt, err)) ||
        (rc = migrate(s, target, err)) || (rc = read_identity(s, err)) ||
        (rc = exec_sql(s, "PRAGMA foreign_keys = ON", err, "unable to enable foreign keys")) ||
        (prepare && (rc = prepare_all(s, err))))
        goto fail;
    *out = s;
    return 0;
fail:
    store_free(s);
    if (rc) explain_readonly_dir(path, rc, err);
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
