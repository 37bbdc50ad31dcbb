/*
 * store_write.c: the writes of the coordinator's loop: campaigns, trials and
 * their attempts, epochs and atoms, workers and events (see store.h for the
 * contract, store_internal.h for the shared helpers).
 *
 * Each write function is atomic: its statements run inside the savepoint
 * "op" (store__op_begin/store__op_end). The checks of a trial's state are
 * made by reading it first (trial_state_get), which also gives the precise
 * error.
 */
#include "store_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the statements of this part ---- */

enum {
    ST_CAMPAIGN_INSERT,
    ST_CAMPAIGN_STATUS,
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
    ST_TRIAL_LATE,
    ST_ATTEMPT_RESUMES,
    ST_COUNT
};

const char *const store__write_sql[ST_COUNT + 1] = {
    [ST_CAMPAIGN_INSERT] =
        "INSERT INTO campaigns (name, kind, status, priority, spec, sampler, budget, "
        "seeds_per_point, seed, created_at, backend, objective, direction) "
        "VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, coalesce(?10, 'builtin'), "
        "coalesce(?11, 'val_acc'), coalesce(?12, 'maximize'))",
    [ST_CAMPAIGN_STATUS] =
        "UPDATE campaigns SET status = ?2, "
        "started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, ?3) ELSE started_at END, "
        "finished_at = CASE WHEN ?2 IN ('done', 'cancelled', 'failed') THEN ?3 END "
        "WHERE id = ?1",
    [ST_TRIAL_INSERT] = "INSERT INTO trials (campaign_id, number, point, seed, label, spec, "
                        "created_at, stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_PARAM_INSERT] = "INSERT INTO trial_params (trial_id, name, value) VALUES (?1, ?2, ?3)",
    [ST_TRIAL_STATE] = "SELECT status, attempt, worker FROM trials WHERE id = ?1",
    [ST_TRIAL_START] =
        "UPDATE trials SET status = 'running', attempt = ?4, worker = ?2, "
        "started_at = ?3, finished_at = NULL, val_acc = NULL, test_acc = NULL, wall_s = NULL, "
        "error = NULL, value = NULL, output = NULL WHERE id = ?1",
    [ST_ATTEMPT_INSERT] = "INSERT INTO trial_attempts (trial_id, attempt, worker, status, "
                          "started_at) VALUES (?1, ?2, ?3, 'running', ?4)",
    [ST_EPOCHS_CLEAR] = "DELETE FROM trial_epochs WHERE trial_id = ?1",
    [ST_ATOMS_CLEAR] = "DELETE FROM trial_atoms WHERE trial_id = ?1",
    [ST_TRIAL_FINISH] = "UPDATE trials SET status = ?3, val_acc = ?4, test_acc = ?5, wall_s = ?6, "
                        "error = ?7, finished_at = ?8, value = ?9, output = ?10 "
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
    /* a row again replaces the epoch's figures; an objective it lacks keeps
     * the one stored (a result's curve after the PROGRESS of its epochs) */
    [ST_EPOCH_UPSERT] = "INSERT INTO trial_epochs (trial_id, epoch, train_acc, val_acc, "
                        "test_acc, goal_hidden, goal_out, seconds, value) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                        "ON CONFLICT (trial_id, epoch) DO UPDATE SET "
                        "train_acc = excluded.train_acc, val_acc = excluded.val_acc, "
                        "test_acc = excluded.test_acc, goal_hidden = excluded.goal_hidden, "
                        "goal_out = excluded.goal_out, seconds = excluded.seconds, "
                        "value = coalesce(excluded.value, value)",
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
    /* the trial's last attempt, and whether it resumes the worker's attempt ?2 */
    [ST_TRIAL_LATE] = "SELECT t.attempt, EXISTS (SELECT 1 FROM trial_attempts AS a "
                      "WHERE a.trial_id = t.id AND a.attempt = t.attempt AND a.resumes = ?2) "
                      "FROM trials AS t WHERE t.id = ?1",
    [ST_ATTEMPT_RESUMES] = "UPDATE trial_attempts SET resumes = ?3 "
                           "WHERE trial_id = ?1 AND attempt = ?2",
    NULL,
};

static sqlite3_stmt *stmt(store *s, int id)
{
    return s->st[STORE_PART_WRITE][id];
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
        rc = store__db_verror(s, step, err, fmt, ap);
        va_end(ap);
    }
    sqlite3_reset(st);
    return rc;
}

/* Take the time into now (room for STORE_TIME_MAX) and begin an op, which
 * the caller ends with store__op_end. Returns 0 or store__op_begin's error. */
static int op_begin_at(store *s, char *now, im_error *err)
{
    store__now_iso(now);
    return store__op_begin(s, err);
}

/* ---- campaigns ---- */

int store_campaign_insert(store *s, const store_campaign_new *c, int64_t *id_out, im_error *err)
{
    if (!c || !c->name || !c->kind || !c->spec_json)
        return im_error_set(err, IM_EINVAL, "a campaign needs a name, a kind and a spec");
    if (c->seeds_per_point < 1)
        return im_error_set(err, IM_EINVAL, "campaign '%s': seeds_per_point must be >= 1", c->name);
    char now[STORE_TIME_MAX];
    int rc = op_begin_at(s, now, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_INSERT);
    store__bind_text(st, 1, c->name);
    store__bind_text(st, 2, c->kind);
    sqlite3_bind_int(st, 3, c->priority);
    store__bind_text(st, 4, c->spec_json);
    store__bind_text(st, 5, c->sampler);
    if (c->budget >= 0)
        sqlite3_bind_int64(st, 6, c->budget);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int(st, 7, c->seeds_per_point);
    sqlite3_bind_int64(st, 8, (int64_t)c->seed);
    store__bind_text(st, 9, now);
    store__bind_text(st, 10, c->backend);
    store__bind_text(st, 11, c->objective);
    store__bind_text(st, 12, c->direction);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        if (id_out) *id_out = sqlite3_last_insert_rowid(s->db);
    } else if (step == SQLITE_CONSTRAINT_UNIQUE) {
        rc = im_error_set(err, IM_EINVAL, "a campaign named '%s' exists already", c->name);
    } else {
        rc = store__db_error(s, step, err, "unable to insert campaign '%s'", c->name);
    }
    sqlite3_reset(st);
    return store__op_end(s, rc, err);
}

int store_campaign_set_status(store *s, int64_t id, store_campaign_status status, im_error *err)
{
    if ((int)status < 0 || (int)status >= store__n_campaign_status)
        return im_error_set(err, IM_EINVAL, "invalid campaign status %d", (int)status);
    char now[STORE_TIME_MAX];
    store__now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_STATUS);
    sqlite3_bind_int64(st, 1, id);
    store__bind_text(st, 2, store_campaign_status_name(status));
    store__bind_text(st, 3, now);
    int rc = store__exec_stmt(s, st, err, "unable to set a campaign's status");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = im_error_set(err, IM_ENOTFOUND, "no campaign %lld", (long long)id);
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
        if (t->param_texts && t->param_texts[i]) continue; /* a choice */
        if (!isfinite(t->params[i].value))
            return im_error_set(err, IM_EINVAL, "trial parameter '%s' is not a finite number",
                                t->params[i].name);
    }
    char now[STORE_TIME_MAX];
    int rc = op_begin_at(s, now, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_INSERT);
    sqlite3_bind_int64(st, 1, t->campaign_id);
    sqlite3_bind_int(st, 2, t->number);
    sqlite3_bind_int(st, 3, t->point);
    sqlite3_bind_int64(st, 4, (int64_t)t->seed);
    store__bind_text(st, 5, t->label);
    store__bind_text(st, 6, t->spec_json);
    store__bind_text(st, 7, now);
    store__bind_text(st, 8, t->stage);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = im_error_set(err, IM_ENOTFOUND, "no campaign %lld", (long long)t->campaign_id);
    else if (step == SQLITE_CONSTRAINT_UNIQUE)
        rc = im_error_set(err, IM_EINVAL, "campaign %lld already has a trial number %d",
                          (long long)t->campaign_id, t->number);
    else if (step != SQLITE_DONE)
        rc = store__db_error(s, step, err, "unable to insert trial %d of campaign %lld", t->number,
                             (long long)t->campaign_id);
    sqlite3_reset(st);
    int64_t id = sqlite3_last_insert_rowid(s->db);

    st = stmt(s, ST_PARAM_INSERT);
    for (size_t i = 0; rc == 0 && i < t->n_params; i++) {
        sqlite3_bind_int64(st, 1, id);
        store__bind_text(st, 2, t->params[i].name);
        if (t->param_texts && t->param_texts[i])
            store__bind_text(st, 3, t->param_texts[i]);
        else
            sqlite3_bind_double(st, 3, t->params[i].value);
        step = sqlite3_step(st);
        if (step == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc =
                im_error_set(err, IM_EINVAL, "trial parameter '%s' given twice", t->params[i].name);
        else if (step != SQLITE_DONE)
            rc = store__db_error(s, step, err, "unable to insert trial parameter '%s'",
                                 t->params[i].name);
        sqlite3_reset(st);
    }
    rc = store__op_end(s, rc, err);
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
        store__col_copy(st, 2, ts->worker, sizeof ts->worker);
    } else if (step == SQLITE_DONE) {
        rc = im_error_set(err, IM_ENOTFOUND, "no trial %lld", (long long)trial_id);
    } else {
        rc = store__db_error(s, step, err, "unable to read trial %lld", (long long)trial_id);
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

/* Begin the write that ends running attempt `attempt` of trial_id: check
 * that it is running (its state into *ts), take the time into now (room
 * for STORE_TIME_MAX) and begin an op, which the caller ends with
 * store__op_end. Returns 0, or get_running's or store__op_begin's error
 * (no op begun). */
static int running_op_begin(store *s, int64_t trial_id, int attempt, trial_state *ts, char *now,
                            im_error *err)
{
    int rc = get_running(s, trial_id, attempt, ts, err);
    if (rc) return rc;
    return op_begin_at(s, now, err);
}

/* Statement id with ?1 bound to trial_id and ?2 to attempt. */
static sqlite3_stmt *stmt_attempt(store *s, int id, int64_t trial_id, int attempt)
{
    sqlite3_stmt *st = stmt(s, id);
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int(st, 2, attempt);
    return st;
}

int store_trial_late(store *s, int64_t trial_id, int attempt, int *superseded, im_error *err)
{
    *superseded = 0;
    sqlite3_stmt *st = stmt_attempt(s, ST_TRIAL_LATE, trial_id, attempt);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *superseded =
            attempt >= 1 && attempt < sqlite3_column_int(st, 0) && !sqlite3_column_int(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = im_error_set(err, IM_ENOTFOUND, "no trial %lld", (long long)trial_id);
    } else {
        rc = store__db_error(s, rc, err, "unable to look up trial %lld", (long long)trial_id);
    }
    sqlite3_reset(st);
    return rc;
}

int store_attempt_resumes(store *s, int64_t trial_id, int attempt, int resumes, im_error *err)
{
    if (resumes < 1) return im_error_set(err, IM_EINVAL, "an attempt number is >= 1");
    int rc = store__op_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt_attempt(s, ST_ATTEMPT_RESUMES, trial_id, attempt);
    sqlite3_bind_int(st, 3, resumes);
    rc = store__exec_stmt(s, st, err, "unable to record a resumed attempt");
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = im_error_set(err, IM_ENOTFOUND, "trial %lld has no attempt %d", (long long)trial_id,
                          attempt);
    return store__op_end(s, rc, err);
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
    char now[STORE_TIME_MAX];
    if ((rc = op_begin_at(s, now, err))) return rc;
    sqlite3_stmt *st = stmt(s, ST_TRIAL_START);
    sqlite3_bind_int64(st, 1, trial_id);
    store__bind_text(st, 2, worker);
    store__bind_text(st, 3, now);
    sqlite3_bind_int(st, 4, attempt);
    rc = store__exec_stmt(s, st, err, "unable to start a trial");
    if (rc == 0) {
        st = stmt_attempt(s, ST_ATTEMPT_INSERT, trial_id, attempt);
        store__bind_text(st, 3, worker);
        store__bind_text(st, 4, now);
        rc = store__exec_stmt(s, st, err, "unable to record a trial attempt");
    }
    if (rc == 0 && attempt > 1) {
        /* the curve and atoms of an earlier attempt do not belong to this one */
        st = stmt(s, ST_EPOCHS_CLEAR);
        sqlite3_bind_int64(st, 1, trial_id);
        rc = store__exec_stmt(s, st, err, "unable to clear a trial's epochs");
        if (rc == 0) {
            st = stmt(s, ST_ATOMS_CLEAR);
            sqlite3_bind_int64(st, 1, trial_id);
            rc = store__exec_stmt(s, st, err, "unable to clear a trial's atoms");
        }
    }
    rc = store__op_end(s, rc, err);
    if (rc == 0 && attempt_out) *attempt_out = attempt;
    return rc;
}

/* Close attempt `attempt` of a trial with a status. */
static int attempt_end(store *s, int64_t trial_id, int attempt, store_attempt_status status,
                       const char *now, const char *error, im_error *err)
{
    sqlite3_stmt *st = stmt_attempt(s, ST_ATTEMPT_END, trial_id, attempt);
    store__bind_text(st, 3, store_attempt_status_name(status));
    store__bind_text(st, 4, now);
    store__bind_text(st, 5, error);
    return store__exec_stmt(s, st, err, "unable to end a trial attempt");
}

int store_trial_finish(store *s, int64_t trial_id, int attempt, const store_trial_result *r,
                       im_error *err)
{
    store_trial_value v = {.value = r ? r->val_acc : NAN, .output = NULL};
    return store_trial_finish_value(s, trial_id, attempt, r, &v, err);
}

int store_trial_finish_value(store *s, int64_t trial_id, int attempt, const store_trial_result *r,
                             const store_trial_value *v, im_error *err)
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
    char now[STORE_TIME_MAX];
    int rc = running_op_begin(s, trial_id, attempt, &ts, now, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt_attempt(s, ST_TRIAL_FINISH, trial_id, attempt);
    store__bind_text(st, 3, store_trial_status_name(r->status));
    store__bind_real(st, 4, r->val_acc);
    store__bind_real(st, 5, r->test_acc);
    store__bind_real(st, 6, r->wall_s);
    store__bind_text(st, 7, r->error);
    store__bind_text(st, 8, now);
    store__bind_real(st, 9, v->value);
    store__bind_text(st, 10, v->output);
    rc = store__exec_stmt(s, st, err, "unable to finish a trial");
    if (rc == 0) rc = attempt_end(s, trial_id, attempt, as, now, r->error, err);
    if (rc == 0 && r->status == STORE_TRIAL_DONE && ts.worker[0]) {
        st = stmt(s, ST_WORKER_COUNT_DONE);
        store__bind_text(st, 1, ts.worker);
        rc = store__exec_stmt(s, st, err, "unable to count a worker's trial");
    }
    return store__op_end(s, rc, err);
}

/* store_trial_lost and store_trial_interrupted: the attempt ends with
 * `status`, the trial is queued again or failed. */
static int trial_lost_as(store *s, int64_t trial_id, int attempt, store_attempt_status status,
                         const char *reason, int requeue, im_error *err)
{
    trial_state ts;
    char now[STORE_TIME_MAX];
    int rc = running_op_begin(s, trial_id, attempt, &ts, now, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt_attempt(s, ST_TRIAL_LOST, trial_id, attempt);
    sqlite3_bind_int(st, 3, requeue != 0);
    store__bind_text(st, 4, reason);
    store__bind_text(st, 5, now);
    rc = store__exec_stmt(s, st, err, "unable to mark a trial lost");
    if (rc == 0) rc = attempt_end(s, trial_id, attempt, status, now, reason, err);
    return store__op_end(s, rc, err);
}

int store_trial_lost(store *s, int64_t trial_id, int attempt, const char *reason, int requeue,
                     im_error *err)
{
    return trial_lost_as(s, trial_id, attempt, STORE_ATTEMPT_LOST, reason, requeue, err);
}

int store_trial_interrupted(store *s, int64_t trial_id, int attempt, const char *reason,
                            int requeue, im_error *err)
{
    return trial_lost_as(s, trial_id, attempt, STORE_ATTEMPT_INTERRUPTED, reason, requeue, err);
}

int store_requeue_running(store *s, int64_t *n_out, im_error *err)
{
    char now[STORE_TIME_MAX];
    int rc = op_begin_at(s, now, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(s, ST_REQUEUE_ATTEMPTS);
    store__bind_text(st, 1, now);
    rc = store__exec_stmt(s, st, err, "unable to interrupt running attempts");
    int64_t n = 0;
    if (rc == 0) {
        rc = store__exec_stmt(s, stmt(s, ST_REQUEUE_TRIALS), err,
                              "unable to requeue running trials");
        n = sqlite3_changes64(s->db);
    }
    rc = store__op_end(s, rc, err);
    if (rc == 0 && n_out) *n_out = n;
    return rc;
}

int store_campaign_cancel_queued(store *s, int64_t campaign_id, int64_t *n_out, im_error *err)
{
    char now[STORE_TIME_MAX];
    store__now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_CANCEL_QUEUED);
    sqlite3_bind_int64(st, 1, campaign_id);
    store__bind_text(st, 2, now);
    int rc = store__exec_stmt(s, st, err, "unable to cancel queued trials");
    if (rc == 0 && n_out) *n_out = sqlite3_changes64(s->db);
    return rc;
}

/* The rows of store_epochs_insert_values, inside the caller's op. */
static int epochs_write(store *s, int64_t trial_id, const im_epoch_stats *e, const double *values,
                        size_t n, im_error *err)
{
    int rc = 0;
    sqlite3_stmt *st = stmt(s, ST_EPOCH_UPSERT);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_int(st, 2, e[i].epoch);
        store__bind_real(st, 3, e[i].train_acc);
        store__bind_real(st, 4, e[i].val_acc);
        store__bind_real(st, 5, e[i].test_acc);
        store__bind_real(st, 6, e[i].goal_hidden);
        store__bind_real(st, 7, e[i].goal_out);
        store__bind_real(st, 8, e[i].seconds);
        store__bind_real(st, 9, values ? values[i] : NAN);
        rc = step_trial_row(s, st, trial_id, err, "unable to insert epoch %d of trial %lld",
                            e[i].epoch, (long long)trial_id);
    }
    return rc;
}

int store_epochs_insert_values(store *s, int64_t trial_id, const im_epoch_stats *e,
                               const double *values, size_t n, im_error *err)
{
    if (n && !e) return im_error_set(err, IM_EINVAL, "epochs missing");
    int rc = store__op_begin(s, err);
    if (rc) return rc;
    return store__op_end(s, epochs_write(s, trial_id, e, values, n, err), err);
}

int store_epochs_insert(store *s, int64_t trial_id, const im_epoch_stats *e, size_t n,
                        im_error *err)
{
    return store_epochs_insert_values(s, trial_id, e, NULL, n, err);
}

/* A result's objective by curve entry (im_result_curve_value), NULL when
 * it gives none. Caller frees. */
static double *curve_values(const im_trial_result *r)
{
    if (!r->extra || !json_object_get(r->extra, "curve_values") || r->n_curve == 0) return NULL;
    double *out = im_xmalloc_array(r->n_curve, sizeof *out);
    for (size_t i = 0; i < r->n_curve; i++) out[i] = im_result_curve_value(r, i);
    return out;
}

/* Check the atoms of store_atoms_insert. Returns 0 or IM_EINVAL. */
static int atoms_check(const im_trial_atom *a, size_t n, im_error *err)
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
    return 0;
}

/* The rows of store_atoms_insert, inside the caller's op. */
static int atoms_write(store *s, int64_t trial_id, const im_trial_atom *a, size_t n, im_error *err)
{
    int rc = 0;
    sqlite3_stmt *st = stmt(s, ST_ATOM_UPSERT);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, trial_id);
        store__bind_text(st, 2, a[i].layer);
        store__bind_text(st, 3, a[i].name);
        sqlite3_bind_double(st, 4, a[i].value);
        rc = step_trial_row(s, st, trial_id, err, "unable to insert atom '%s' of trial %lld",
                            a[i].name, (long long)trial_id);
    }
    return rc;
}

int store_atoms_insert(store *s, int64_t trial_id, const im_trial_atom *a, size_t n, im_error *err)
{
    int rc = atoms_check(a, n, err);
    if (rc || (rc = store__op_begin(s, err))) return rc;
    return store__op_end(s, atoms_write(s, trial_id, a, n, err), err);
}

int store_trial_data_insert(store *s, int64_t trial_id, const im_trial_result *r, im_error *err)
{
    /* Both or neither: everything that can refuse them is checked first;
     * past that only the database can fail, and that ends the caller's
     * transaction. Two ops, not one around both: an op whose statement
     * journal outgrows SQLite's 64 KiB in memory spills it to a file, a
     * pwrite per page (curve and atoms in one op did, and cost a third of
     * the loop's time). */
    if (r->n_curve && !r->curve) return im_error_set(err, IM_EINVAL, "epochs missing");
    int rc = atoms_check(r->atoms, r->n_atoms, err);
    if (rc == 0) {
        double *values = curve_values(r);
        rc = store_epochs_insert_values(s, trial_id, r->curve, values, r->n_curve, err);
        free(values);
    }
    if (rc == 0) rc = store_atoms_insert(s, trial_id, r->atoms, r->n_atoms, err);
    return rc;
}

/* ---- workers and events ---- */

int store_worker_seen(store *s, const store_worker_info *w, im_error *err)
{
    if (!w || !w->name || !w->name[0]) return im_error_set(err, IM_EINVAL, "a worker needs a name");
    char now[STORE_TIME_MAX];
    store__now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_WORKER_UPSERT);
    store__bind_text(st, 1, w->name);
    store__bind_text(st, 2, w->host);
    store__bind_id(st, 3, w->pid);
    store__bind_id(st, 4, w->threads);
    store__bind_text(st, 5, w->backends);
    store__bind_text(st, 6, now);
    return store__exec_stmt(s, st, err, "unable to record a worker");
}

/* Run an UPDATE of worker `name`: IM_ENOTFOUND if there is no such worker. */
static int exec_worker_update(store *s, sqlite3_stmt *st, const char *name, im_error *err)
{
    int rc = store__exec_stmt(s, st, err, "unable to update a worker");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = im_error_set(err, IM_ENOTFOUND, "no worker '%s'", name ? name : "(null)");
    return rc;
}

int store_worker_touch(store *s, const char *name, im_error *err)
{
    char now[STORE_TIME_MAX];
    store__now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_WORKER_TOUCH);
    store__bind_text(st, 1, name);
    store__bind_text(st, 2, now);
    return exec_worker_update(s, st, name, err);
}

int store_worker_set_status(store *s, const char *name, const char *status, im_error *err)
{
    if (!status || (strcmp(status, "alive") && strcmp(status, "lost") && strcmp(status, "gone")))
        return im_error_set(err, IM_EINVAL, "worker status must be alive, lost or gone, not '%s'",
                            status ? status : "(null)");
    sqlite3_stmt *st = stmt(s, ST_WORKER_STATUS);
    store__bind_text(st, 1, name);
    store__bind_text(st, 2, status);
    return exec_worker_update(s, st, name, err);
}

int store_event(store *s, const char *kind, int64_t campaign_id, int64_t trial_id,
                const char *worker, const char *detail, im_error *err)
{
    if (!kind || !kind[0]) return im_error_set(err, IM_EINVAL, "an event needs a kind");
    char now[STORE_TIME_MAX];
    store__now_iso(now);
    sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);
    store__bind_text(st, 1, now);
    store__bind_text(st, 2, kind);
    store__bind_id(st, 3, campaign_id);
    store__bind_id(st, 4, trial_id);
    store__bind_text(st, 5, worker);
    store__bind_text(st, 6, detail);
    return store__exec_stmt(s, st, err, "unable to log an event");
}
