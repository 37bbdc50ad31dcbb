/*
 * report_source.c: the report's document, {campaign, trials}, in the EXPORT
 * format (protocol.h) from one of two sources: the coordinator's EXPORT
 * pages, or a database file opened read-only with the same queries the
 * coordinator's store runs, so that both give the same model.
 */
#include "report.h"
#include "protocol.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Keep of one object only the keys listed (NULL-terminated). */
static void keep_keys(json_t *o, const char *const *keys)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o, tmp, k, v)
    {
        int keep = 0;
        for (const char *const *q = keys; *q && !keep; q++) keep = !strcmp(*q, k);
        if (!keep) json_object_del(o, k);
    }
}

/* Drop from a trial of the document what the model never reads (times,
 * errors, most of the spec, the epochs' other columns, the attempts' all but
 * the worker): the document of a big campaign then takes a fraction of the
 * memory while the pages come in. Both sources slim the same way. */
static void slim_trial(json_t *t)
{
    static const char *const trial_keys[] = {
        "trial",    "number", "point", "seed",  "label",  "stage", "status",   "worker", "val_acc",
        "test_acc", "wall_s", "spec",  "gamma", "epochs", "atoms", "attempts", NULL};
    static const char *const spec_keys[] = {"dataset", "setup", "hidden", "epochs", NULL};
    static const char *const epoch_keys[] = {"epoch", "val_acc", NULL};
    static const char *const attempt_keys[] = {"worker", NULL};
    keep_keys(t, trial_keys);
    json_t *spec = json_object_get(t, "spec");
    if (json_is_object(spec)) {
        json_t *g = json_object_get(spec, "gamma");
        json_t *preset = json_is_string(g) ? json_incref(g) : NULL;
        keep_keys(spec, spec_keys);
        if (preset) json_object_set_new(spec, "gamma", preset);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(t, "epochs"), i, e) keep_keys(e, epoch_keys);
    json_array_foreach(json_object_get(t, "attempts"), i, e) keep_keys(e, attempt_keys);
}

/* ---------- from the coordinator ---------- */

/* What report_fetch_export gathers from the pages. */
typedef struct fetched {
    json_t *campaign; /* the first page's */
    json_t *trials;   /* every page's, slimmed */
} fetched;

static void fetch_page(const json_t *reply, long long from, void *user)
{
    fetched *fe = user;
    if (from == 0) fe->campaign = json_incref(json_object_get(reply, "campaign"));
    json_t *page = json_object_get(reply, "trials"), *t;
    size_t i;
    json_array_foreach(page, i, t) slim_trial(t);
    if (json_is_array(page)) json_array_extend(fe->trials, page);
}

int report_fetch_export(const cli_args *a, json_t **campaign, json_t **trials)
{
    fetched fe = {.campaign = NULL, .trials = json_array()};
    int rc = cli_export_pages(a, IM_EXPORT_PAGE_MAX, fetch_page, &fe);
    if (rc == CLI_OK && !json_is_object(fe.campaign)) {
        fprintf(stderr, "infomorph report: the coordinator sent no campaign object\n");
        rc = CLI_ERROR;
    }
    if (rc) {
        json_decref(fe.trials);
        json_decref(fe.campaign);
        return rc;
    }
    *campaign = fe.campaign;
    *trials = fe.trials;
    return 0;
}

/* ---------- from a database file ---------- */

/* The queries of the coordinator's store (store.c) for the same fields
 * (of the epochs and attempts only the columns slim_trial keeps). */
static const char sql_campaign[] =
    "SELECT p.campaign_id AS id, p.campaign AS name, p.kind, p.status, p.priority, p.budget, "
    "p.seeds_per_point, p.created_at, p.started_at, p.finished_at, p.trials, p.queued, "
    "p.running, p.done, p.failed, p.pruned, p.cancelled, p.best_val_acc, p.best_trial, "
    "p.done_fraction FROM campaign_progress AS p WHERE p.campaign_id = ?1";
static const char sql_trials[] =
    "SELECT id AS trial, number, point, seed, label, status, attempt, worker, val_acc, "
    "test_acc, wall_s, error, created_at, started_at, finished_at, spec%s FROM trials "
    "WHERE campaign_id = ?1 ORDER BY number";
/* per campaign in trial number order: number, then the data */
static const char sql_gamma[] = "SELECT t.number, p.name, p.value FROM trials AS t "
                                "JOIN trial_params AS p ON p.trial_id = t.id "
                                "WHERE t.campaign_id = ?1 ORDER BY t.number, p.name";
static const char sql_epochs[] =
    "SELECT t.number, e.epoch, e.val_acc FROM trials AS t JOIN trial_epochs AS e "
    "ON e.trial_id = t.id WHERE t.campaign_id = ?1 ORDER BY t.number, e.epoch";
static const char sql_atoms[] = "SELECT t.number, a.layer, a.name, a.value "
                                "FROM trials AS t JOIN trial_atoms AS a ON a.trial_id = t.id "
                                "WHERE t.campaign_id = ?1 ORDER BY t.number, a.layer, a.name";
static const char sql_attempts[] =
    "SELECT t.number, a.worker FROM trials AS t JOIN trial_attempts AS a ON a.trial_id = t.id "
    "WHERE t.campaign_id = ?1 ORDER BY t.number, a.attempt";

static json_t *col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        json_t *j = json_stringn((const char *)sqlite3_column_text(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
        return j ? j : json_null();
    }
    default: return json_null();
    }
}

static json_t *row_json(sqlite3_stmt *st, int from)
{
    json_t *o = json_object();
    for (int i = from; i < sqlite3_column_count(st); i++)
        json_object_set_new(o, sqlite3_column_name(st, i), col_json(st, i));
    return o;
}

static int db_fail(sqlite3 *db, im_error *err, const char *what)
{
    return im_error_set(err, IM_EDB, "unable to read %s: %s", what, sqlite3_errmsg(db));
}

/* Prepare sql with ?1 bound to id. Returns the statement or NULL (err set). */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, long long id, im_error *err,
                             const char *what)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, err, what);
        sqlite3_finalize(st);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    return st;
}

enum { MERGE_ARRAY, MERGE_MAP, MERGE_MAP2 };

/* Attach the rows of a per-campaign join (column 0 the trial number, then
 * the data; by number) to the trials (by number) under key, every trial
 * getting key (empty if it has no rows), as store.c's merge does. */
static int merge(sqlite3 *db, const char *sql, long long id, json_t *arr, const char *key, int mode,
                 im_error *err)
{
    size_t n = json_array_size(arr), i = 0;
    for (size_t k = 0; k < n; k++)
        json_object_set_new(json_array_get(arr, k), key,
                            mode == MERGE_ARRAY ? json_array() : json_object());
    sqlite3_stmt *st = prepare(db, sql, id, err, key);
    if (!st) return IM_EDB;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        long long number = sqlite3_column_int64(st, 0);
        while (i < n &&
               json_integer_value(json_object_get(json_array_get(arr, i), "number")) < number)
            i++;
        if (i >= n) break;
        json_t *o = json_array_get(arr, i);
        if (json_integer_value(json_object_get(o, "number")) != number) continue;
        json_t *dst = json_object_get(o, key);
        const char *k1 = (const char *)sqlite3_column_text(st, 1);
        if (mode == MERGE_ARRAY) {
            json_array_append_new(dst, row_json(st, 1));
        } else if (mode == MERGE_MAP) {
            json_object_set_new(dst, k1 ? k1 : "", col_json(st, 2));
        } else {
            const char *k2 = (const char *)sqlite3_column_text(st, 2);
            json_t *g = json_object_get(dst, k1 ? k1 : "");
            if (!g) {
                g = json_object();
                json_object_set_new(dst, k1 ? k1 : "", g);
            }
            json_object_set_new(g, k2 ? k2 : "", col_json(st, 3));
        }
    }
    int rc = 0;
    if (step != SQLITE_DONE && step != SQLITE_ROW) rc = db_fail(db, err, key);
    sqlite3_finalize(st);
    return rc;
}

/* Whether the trials table has a column `stage` (added by a later schema). */
static int has_stage_column(sqlite3 *db)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA table_info(trials)", -1, &st, NULL) != SQLITE_OK) return 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (name && !strcmp(name, "stage")) found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

/* The id of a campaign given by id (a positive number) or name, or -1. */
static long long find_campaign(sqlite3 *db, const char *ref, im_error *err)
{
    json_t *r = cli_campaign_ref(ref);
    sqlite3_stmt *st = NULL;
    long long id = -1;
    const char *sql = json_is_integer(r) ? "SELECT id FROM campaigns WHERE id = ?1"
                                         : "SELECT id FROM campaigns WHERE name = ?1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, err, "the campaigns");
        id = -2;
    } else {
        if (json_is_integer(r))
            sqlite3_bind_int64(st, 1, (sqlite3_int64)json_integer_value(r));
        else
            sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        else if (step != SQLITE_DONE)
            db_fail(db, err, "the campaigns"), id = -2;
    }
    sqlite3_finalize(st);
    json_decref(r);
    return id;
}

int report_fetch_db(const char *path, const char *campaign_ref, json_t **campaign, json_t **trials,
                    im_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    json_t *camp = NULL, *arr = NULL;
    int rc = IM_EDB, step;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        im_error_set(err, IM_EDB, "unable to open '%s': %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db, 5000);
    /* one read transaction: a consistent snapshot while a coordinator writes */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(db, err, "the database");
        goto fail;
    }
    long long id = find_campaign(db, campaign_ref, err);
    if (id == -2) goto fail;
    if (id < 0) {
        rc = im_error_set(err, IM_ENOTFOUND, "no campaign '%s' in '%s'", campaign_ref, path);
        goto fail;
    }
    if (!(st = prepare(db, sql_campaign, id, err, "the campaign"))) goto fail;
    if ((step = sqlite3_step(st)) != SQLITE_ROW) {
        db_fail(db, err, "the campaign");
        goto fail;
    }
    camp = row_json(st, 0);
    sqlite3_finalize(st);

    char sql[sizeof sql_trials + 16];
    snprintf(sql, sizeof sql, sql_trials, has_stage_column(db) ? ", stage" : "");
    if (!(st = prepare(db, sql, id, err, "the trials"))) goto fail;
    arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = row_json(st, 0);
        /* the spec as an object, not as text, as EXPORT sends it */
        const char *text = json_string_value(json_object_get(o, "spec"));
        json_t *spec = text ? json_loads(text, 0, NULL) : NULL;
        json_object_set_new(o, "spec", spec ? spec : json_null());
        json_array_append_new(arr, o);
    }
    if (step != SQLITE_DONE) {
        db_fail(db, err, "the trials");
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (merge(db, sql_gamma, id, arr, "gamma", MERGE_MAP, err) ||
        merge(db, sql_epochs, id, arr, "epochs", MERGE_ARRAY, err) ||
        merge(db, sql_atoms, id, arr, "atoms", MERGE_MAP2, err) ||
        merge(db, sql_attempts, id, arr, "attempts", MERGE_ARRAY, err))
        goto fail;
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t) slim_trial(t);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    *campaign = camp;
    *trials = arr;
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite3_close(db);
    json_decref(camp);
    json_decref(arr);
    return rc;
}
