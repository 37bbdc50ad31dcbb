/*
 * store_read.c: the reads of the trial store: campaigns and trials as structs
 * (the coordinator's resume, the counts of its loop) and as JSON ready for the
 * wire (the client's verbs and export). See store.h for the contract.
 *
 * Reads that attach rows of another table to a list of trials (params,
 * epochs, atoms, attempts) do it in one query and one merge walk in trial
 * number order (the unique index, no sort), never with one query per trial.
 */
#include "store_internal.h"

#include <stdio.h>

#define IM_STR_(x) #x
#define IM_STR(x)  IM_STR_(x)
#include <stdlib.h>
#include <string.h>

/* ---- the statements of this part ---- */

#define CAMPAIGN_COLS                                                                              \
    "id, name, kind, spec, sampler, status, priority, budget, seeds_per_point, seed, created_at, " \
    "started_at, finished_at"

#define TRIAL_JSON_COLS                                                                            \
    "id AS trial, number, point, seed, label, stage, status, attempt, worker, val_acc, "           \
    "test_acc, wall_s, error, created_at, started_at, finished_at, value, output, spec"
#define TRIAL_JSON_NCOLS 19 /* the columns of TRIAL_JSON_COLS, spec last */

enum {
    ST_CAMPAIGN_GET,
    ST_CAMPAIGN_FIND,
    ST_CAMPAIGN_LIST,
    ST_CAMPAIGN_EXISTS,
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
    ST_ATTEMPT_COUNTS,
    ST_ATTEMPT_WORKER,
    ST_LAST_VALUE,
    ST_COUNT
};

const char *const store__read_sql[ST_COUNT + 1] = {
    [ST_CAMPAIGN_GET] = "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE id = ?1",
    [ST_CAMPAIGN_FIND] = "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE name = ?1",
    [ST_CAMPAIGN_LIST] = "SELECT " CAMPAIGN_COLS " FROM campaigns ORDER BY priority DESC, id",
    [ST_CAMPAIGN_EXISTS] = "SELECT 1 FROM campaigns WHERE id = ?1",
    [ST_TRIAL_LIST] = "SELECT id, campaign_id, number, point, attempt, seed, status, val_acc, "
                      "test_acc, wall_s, label, worker, spec, value FROM trials "
                      "WHERE ?1 = 0 OR campaign_id = ?1 ORDER BY campaign_id, number",
    [ST_TRIAL_PARAMS] = "SELECT name, value FROM trial_params WHERE trial_id = ?1 ORDER BY name",
    [ST_LIST_PARAMS] = "SELECT t.campaign_id, t.number, p.trial_id, p.name, p.value "
                       "FROM trials AS t JOIN trial_params AS p ON p.trial_id = t.id "
                       "WHERE ?1 = 0 OR t.campaign_id = ?1 "
                       "ORDER BY t.campaign_id, t.number, p.name",
    [ST_COUNTS] = "SELECT status, count(*), max(number), max(point) FROM trials "
                  "WHERE campaign_id = ?1 GROUP BY status",
    [ST_BEST_OF_CAMPAIGN] =
        "SELECT t.id, t.val_acc FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id "
        "WHERE t.campaign_id = ?1 AND t.status = 'done' AND t.value IS NOT NULL "
        "ORDER BY CASE WHEN c.direction = 'minimize' THEN t.value ELSE -t.value END, "
        "t.test_acc DESC, t.id LIMIT 1",
    [ST_PROGRESS] =
        "SELECT p.campaign_id AS id, p.campaign AS name, p.kind, p.status, p.priority, p.budget, "
        "p.seeds_per_point, p.created_at, p.started_at, p.finished_at, p.trials, p.queued, "
        "p.running, p.done, p.failed, p.pruned, p.cancelled, p.best_val_acc, p.best_trial, "
        "p.done_fraction FROM campaign_progress AS p WHERE ?1 = 0 OR p.campaign_id = ?1",
    /* one campaign: by value in its direction; all campaigns: the values
     * are not comparable across objectives, so by val_acc as before */
    [ST_BEST] = "SELECT row_number() OVER (ORDER BY CASE WHEN ?1 = 0 THEN -t.val_acc "
                "WHEN c.direction = 'minimize' THEN t.value ELSE -t.value END, "
                "t.test_acc DESC, t.id) AS "
                "rank, t.id AS trial, c.name AS campaign, t.campaign_id, t.number, t.point, "
                "t.seed, t.label, t.val_acc, t.test_acc, t.wall_s, t.worker, t.value, "
                "c.objective, c.direction, c.backend "
                "FROM trials AS t JOIN campaigns AS c ON c.id = t.campaign_id "
                "WHERE t.status = 'done' AND (CASE WHEN ?1 = 0 THEN t.val_acc ELSE t.value END) "
                "IS NOT NULL "
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
        "e.goal_hidden, e.goal_out, e.seconds, e.value FROM trials AS t "
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
                   "trials_done FROM (SELECT * FROM workers ORDER BY last_seen DESC, name "
                   "LIMIT " IM_STR(STORE_WORKERS_LIST_MAX) ") ORDER BY name",
    [ST_ATTEMPT_COUNTS] = "SELECT count(*) FILTER (WHERE status = 'lost'), "
                          "count(*) FILTER (WHERE status = 'interrupted') "
                          "FROM trial_attempts WHERE trial_id = ?1",
    [ST_ATTEMPT_WORKER] = "SELECT worker FROM trial_attempts WHERE trial_id = ?1 AND attempt = ?2",
    /* an exec trial's last reported objective (schema 0007) */
    [ST_LAST_VALUE] = "SELECT value FROM trial_epochs WHERE trial_id = ?1 AND value IS NOT NULL "
                      "ORDER BY epoch DESC LIMIT 1",
    NULL,
};

static sqlite3_stmt *stmt(store *s, int id)
{
    return s->st[STORE_PART_READ][id];
}

/* ---- campaigns ---- */

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
    c->name = store__col_strdup(st, 1);
    c->kind = store__col_strdup(st, 2);
    c->spec_json = store__col_strdup(st, 3);
    c->sampler = store__col_strdup(st, 4);
    const char *status = (const char *)sqlite3_column_text(st, 5);
    c->priority = sqlite3_column_int(st, 6);
    c->budget = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
    c->seeds_per_point = sqlite3_column_int(st, 8);
    c->seed = (uint64_t)sqlite3_column_int64(st, 9);
    store__col_copy(st, 10, c->created_at, sizeof c->created_at);
    store__col_copy(st, 11, c->started_at, sizeof c->started_at);
    store__col_copy(st, 12, c->finished_at, sizeof c->finished_at);
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
        rc = store__db_error(s, step, err, "unable to read %s", what);
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
    store__bind_text(st, 1, name);
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
    if (rc == 0 && step != SQLITE_DONE)
        rc = store__db_error(s, step, err, "unable to list campaigns");
    sqlite3_reset(st);
    if (rc) store_campaigns_free(out, *n), *n = 0;
    return rc;
}

void store_trial_release(store_trial *t)
{
    if (!t) return;
    free(t->label);
    free(t->worker);
    free(t->spec_json);
    for (size_t i = 0; t->param_texts && i < t->n_params; i++) free(t->param_texts[i]);
    free(t->param_texts);
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

/* Append a param to a trial read back: column col of st (a number, or a
 * choice stored as text). */
static void trial_add_param(store_trial *t, size_t *cap, const char *name, sqlite3_stmt *st,
                            int col)
{
    if (t->n_params == *cap) {
        *cap = *cap ? 2 * *cap : 24;
        t->params = im_xrealloc(t->params, *cap * sizeof *t->params);
    }
    store_param *p = &t->params[t->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    p->value = sqlite3_column_double(st, col);
    size_t k = t->n_params - 1;
    if (t->param_texts) {
        t->param_texts = im_xrealloc(t->param_texts, *cap * sizeof *t->param_texts);
        t->param_texts[k] = NULL;
    }
    if (sqlite3_column_type(st, col) == SQLITE_TEXT) {
        if (!t->param_texts) t->param_texts = im_xcalloc(*cap, sizeof *t->param_texts);
        t->param_texts[k] = store__col_strdup(st, col);
        p->value = NAN;
    }
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
            trial_add_param(&list[i], &cap, (const char *)sqlite3_column_text(st, 3), st, 4);
    }
    int rc = 0;
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store__db_error(s, step, err, "unable to read trial params");
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
        t->val_acc = store__col_real(st, 7);
        t->test_acc = store__col_real(st, 8);
        t->wall_s = store__col_real(st, 9);
        t->label = store__col_strdup(st, 10);
        t->worker = store__col_strdup(st, 11);
        t->value = store__col_real(st, 13);
        if (flags & STORE_WITH_SPEC) t->spec_json = store__col_strdup(st, 12);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = store__db_error(s, step, err, "unable to list trials");
    sqlite3_reset(st);
    if (rc == 0 && (flags & STORE_WITH_PARAMS)) rc = list_params(s, campaign_id, *out, *n, err);
    if (rc) store_trials_free(out, *n), *n = 0;
    return rc;
}

int store_trial_attempt_counts(store *s, int64_t trial_id, int *lost, int *interrupted,
                               im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_ATTEMPT_COUNTS);
    sqlite3_bind_int64(st, 1, trial_id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        *lost = sqlite3_column_int(st, 0);
        *interrupted = sqlite3_column_int(st, 1);
    } else {
        rc = store__db_error(s, step, err, "unable to count the attempts of trial %lld",
                             (long long)trial_id);
    }
    sqlite3_reset(st);
    return rc;
}

int store_attempt_worker(store *s, int64_t trial_id, int attempt, char *out, size_t size,
                         im_error *err)
{
    sqlite3_stmt *st = stmt(s, ST_ATTEMPT_WORKER);
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, attempt);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        store__col_copy(st, 0, out, size);
    else if (step == SQLITE_DONE)
        rc = im_error_set(err, IM_ENOTFOUND, "trial %lld has no attempt %d", (long long)trial_id,
                          attempt);
    else
        rc = store__db_error(s, step, err, "unable to read attempt %d of trial %lld", attempt,
                             (long long)trial_id);
    sqlite3_reset(st);
    return rc;
}

int store_trial_last_value(store *s, int64_t trial_id, double *out, im_error *err)
{
    *out = NAN;
    sqlite3_stmt *st = stmt(s, ST_LAST_VALUE);
    sqlite3_bind_int64(st, 1, trial_id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW)
        *out = sqlite3_column_double(st, 0);
    else if (step != SQLITE_DONE)
        rc = store__db_error(s, step, err, "unable to read the curve of trial %lld",
                             (long long)trial_id);
    sqlite3_reset(st);
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
    if (step != SQLITE_ROW) return store__db_error(s, step, err, "unable to read campaign counts");

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
    if (step != SQLITE_DONE) rc = store__db_error(s, step, err, "unable to count trials");
    sqlite3_reset(st);
    if (rc) return rc;

    st = stmt(s, ST_BEST_OF_CAMPAIGN);
    sqlite3_bind_int64(st, 1, campaign_id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->best_trial = sqlite3_column_int64(st, 0);
        out->best_val_acc = sqlite3_column_double(st, 1);
    } else if (step != SQLITE_DONE) {
        rc = store__db_error(s, step, err, "unable to find the best trial");
    }
    sqlite3_reset(st);
    return rc;
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
            json_t *row = row_json_range(st, 2, sqlite3_column_count(st));
            /* an epoch's "value" is an exec trial's objective: absent elsewhere */
            if (json_is_null(json_object_get(row, "value"))) json_object_del(row, "value");
            json_array_append_new(dst, row);
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
        rc = store__db_error(s, step, err, "unable to read the %s of campaign %lld", key,
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
        json_object_set_new(g, (const char *)sqlite3_column_text(st, 0), col_json(st, 1));
    int rc = 0;
    if (step != SQLITE_DONE)
        rc = store__db_error(s, step, err, "unable to read the params of trial %lld",
                             (long long)trial_id);
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
        store__db_error(s, step, err, "unable to read %s", what);
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

/* The trials of a campaign numbered from `from` on, at most limit of them
 * (< 0: all), by number, with the first ncols columns of TRIAL_JSON_COLS
 * (all when ncols < 0). *next gets the number after the page or -1. */
static json_t *trial_rows(store *s, int64_t campaign_id, int64_t from, int limit, int ncols,
                          int64_t *next, im_error *err)
{
    *next = -1;
    sqlite3_stmt *st = stmt(s, ST_TRIALS_OF_CAMPAIGN);
    sqlite3_bind_int64(st, 1, campaign_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, limit < 0 ? -1 : (int64_t)limit + 1); /* one more: is there a next? */
    json_t *arr = rows_json(s, st, ncols, err, "trials");
    if (arr && limit >= 0 && json_array_size(arr) > (size_t)limit) {
        size_t last = json_array_size(arr) - 1;
        *next = json_integer_value(json_object_get(json_array_get(arr, last), "number"));
        json_array_remove(arr, last);
    }
    return arr;
}

/* The number of the last trial of arr (ordered by number), -1 if empty. */
static int64_t last_number(const json_t *arr)
{
    size_t n = json_array_size(arr);
    return n ? json_integer_value(json_object_get(json_array_get(arr, n - 1), "number")) : -1;
}

json_t *store_trials_json(store *s, int64_t campaign_id, im_error *err)
{
    return store_trials_page_json(s, campaign_id, 0, -1, NULL, err);
}

json_t *store_trials_page_json(store *s, int64_t campaign_id, int64_t from, int limit,
                               int64_t *next, im_error *err)
{
    int64_t nx;
    /* all columns but the last (spec) */
    json_t *arr = trial_rows(s, campaign_id, from, limit, TRIAL_JSON_NCOLS - 1, &nx, err);
    if (next) *next = arr ? nx : -1;
    if (arr && merge_json(s, ST_GAMMA_OF_CAMPAIGN, campaign_id, from, last_number(arr), arr,
                          "gamma", MERGE_MAP, err))
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
    int64_t nx;
    json_t *arr = trial_rows(s, campaign_id, from, limit, -1, &nx, err);
    if (next) *next = arr ? nx : -1;
    if (!arr) return NULL;
    int64_t hi = last_number(arr);
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
