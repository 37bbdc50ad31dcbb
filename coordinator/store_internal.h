/*
 * store_internal.h: what the parts of the trial store share, private to them
 * (store.h is the public interface).
 *
 * The store is three files, split by what they serve:
 *  - store_open.c: opening, pragmas, migrations, transactions and savepoints,
 *    the statuses, and the helpers below;
 *  - store_write.c: the campaign, trial, worker and event writes of the
 *    coordinator's loop;
 *  - store_read.c: the reads, as structs (resume) and as JSON (the client's
 *    verbs and export).
 * Each part keeps its SQL beside its functions in a NULL-terminated table of
 * statements, indexed by a file-local enum; store_open prepares every table
 * once (SQLITE_PREPARE_PERSISTENT) into s->st[part].
 */
#ifndef IM_STORE_INTERNAL_H
#define IM_STORE_INTERNAL_H

#include "store.h"

#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>

#define STORE_TIME_MAX 64

/* The parts that own prepared statements. */
enum { STORE_PART_OPEN, STORE_PART_WRITE, STORE_PART_READ, STORE_PART_COUNT };

/* Each part's statements, NULL-terminated, indexed by the part's enum. */
extern const char *const store__open_sql[];
extern const char *const store__write_sql[];
extern const char *const store__read_sql[];

struct store {
    sqlite3 *db;
    char *path;
    int version;                         /* PRAGMA user_version */
    int depth;                           /* store_begin nesting */
    char id[STORE_DATABASE_ID_LEN + 1];  /* database_identity.id, "" before schema 5 */
    sqlite3_stmt **st[STORE_PART_COUNT]; /* NULL until prepared (latest schema only) */
};

/* The number of campaign statuses (the size of their name table). */
extern const int store__n_campaign_status;

/* Now as "2026-11-30T11:13:50.123Z". */
void store__now_iso(char out[STORE_TIME_MAX]);

/* An SQLite result code as an IM_E* code: a missing parent row (foreign key)
 * means the named thing does not exist; another constraint means the call
 * contradicts the stored state; anything else is a database error. */
int store__map_rc(int rc);

/* Set err from the connection's last error; returns the mapped code. */
int store__db_error(store *s, int rc, im_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int store__db_verror(store *s, int rc, im_error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Run a statement to completion and reset it; rows are ignored. */
int store__exec_stmt(store *s, sqlite3_stmt *st, im_error *err, const char *what);

/* Every write call is atomic: it runs inside the savepoint "op".
 * store__op_end releases it when rc is 0, else rolls it back; returns rc, or
 * the failure of the release. */
int store__op_begin(store *s, im_error *err);
int store__op_end(store *s, int rc, im_error *err);

/* ---- binding and reading columns ---- */

static inline int store__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* NAN binds as NULL (unknown). */
static inline int store__bind_real(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* 0 binds as NULL (none). */
static inline int store__bind_id(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

static inline double store__col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static inline char *store__col_strdup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? im_xstrdup((const char *)t) : NULL;
}

static inline void store__col_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

#endif /* IM_STORE_INTERNAL_H */
