/*
 * campaign.c: campaigns and trials in memory, kept in step with the store.
 * Workload: one hand-out and one result per trial, each O(1) apart from the
 * scan over active campaigns (a handful) and one point creation per
 * seeds_per_point trials. Nothing here reads the whole history: the
 * database is read at resume only.
 */
#include "campaign.h"

#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the trial map: open addressing, linear probing, backward-shift delete ---- */

static size_t slot_of(int64_t id, size_t cap)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static void map_put(campaign_set *cs, trial *t);

static void map_grow(campaign_set *cs)
{
    trial **old = cs->map;
    size_t old_cap = cs->map_cap;
    cs->map_cap = old_cap ? old_cap * 2 : 1024;
    cs->map = im_xcalloc(cs->map_cap, sizeof *cs->map);
    cs->map_n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) map_put(cs, old[i]);
    free(old);
}

static void map_put(campaign_set *cs, trial *t)
{
    if ((cs->map_n + 1) * 2 > cs->map_cap) map_grow(cs);
    size_t i = slot_of(t->id, cs->map_cap);
    while (cs->map[i]) i = (i + 1) & (cs->map_cap - 1);
    cs->map[i] = t;
    cs->map_n++;
}

trial *campaign_set_trial(const campaign_set *cs, int64_t id)
{
    if (!cs->map_cap) return NULL;
    for (size_t i = slot_of(id, cs->map_cap); cs->map[i]; i = (i + 1) & (cs->map_cap - 1))
        if (cs->map[i]->id == id) return cs->map[i];
    return NULL;
}

static void map_del(campaign_set *cs, int64_t id)
{
    if (!cs->map_cap) return;
    size_t mask = cs->map_cap - 1, i = slot_of(id, cs->map_cap);
    while (cs->map[i] && cs->map[i]->id != id) i = (i + 1) & mask;
    if (!cs->map[i]) return;
    cs->map[i] = NULL;
    cs->map_n--;
    /* shift back the entries of the cluster that follows */
    for (size_t j = (i + 1) & mask; cs->map[j]; j = (j + 1) & mask) {
        size_t home = slot_of(cs->map[j]->id, cs->map_cap);
        /* move j to i if home is not cyclically in (i, j] */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            cs->map[i] = cs->map[j];
            cs->map[j] = NULL;
            i = j;
        }
    }
}

/* ---- queues and the running list ---- */

static void queue_grow(campaign *c)
{
    size_t cap = c->q_cap ? c->q_cap * 2 : 64;
    trial **q = im_xmalloc_array(cap, sizeof *q);
    for (size_t i = 0; i < c->q_len; i++) q[i] = c->queue[(c->q_head + i) % c->q_cap];
    free(c->queue);
    c->queue = q;
    c->q_cap = cap;
    c->q_head = 0;
}

static void queue_push_back(campaign *c, trial *t)
{
    if (c->q_len == c->q_cap) queue_grow(c);
    c->queue[(c->q_head + c->q_len) % c->q_cap] = t;
    c->q_len++;
}

static void queue_push_front(campaign *c, trial *t)
{
    if (c->q_len == c->q_cap) queue_grow(c);
    c->q_head = (c->q_head + c->q_cap - 1) % c->q_cap;
    c->queue[c->q_head] = t;
    c->q_len++;
}

static trial *queue_pop_front(campaign *c)
{
    if (!c->q_len) return NULL;
    trial *t = c->queue[c->q_head];
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
    return t;
}

/* Take t out of the middle of c's queue or held list: O(length), for
 * re-leases only. */
static int queue_remove(campaign *c, trial *t)
{
    for (size_t i = 0; i < c->n_held; i++)
        if (c->held[i] == t) {
            c->held[i] = c->held[--c->n_held];
            return 0;
        }
    for (size_t i = 0; i < c->q_len; i++) {
        if (c->queue[(c->q_head + i) % c->q_cap] != t) continue;
        for (size_t j = i; j + 1 < c->q_len; j++)
            c->queue[(c->q_head + j) % c->q_cap] = c->queue[(c->q_head + j + 1) % c->q_cap];
        c->q_len--;
        return 0;
    }
    return -1;
}

static void running_add(campaign_set *cs, trial *t)
{
    if (cs->n_running == cs->running_cap) {
        cs->running_cap = cs->running_cap ? cs->running_cap * 2 : 64;
        cs->running = im_xrealloc(cs->running, cs->running_cap * sizeof *cs->running);
    }
    t->slot = cs->n_running;
    cs->running[cs->n_running++] = t;
    t->state = TRIAL_RUNNING;
    t->c->n_running++;
}

static void running_remove(campaign_set *cs, trial *t)
{
    size_t i = t->slot;
    if (i >= cs->n_running || cs->running[i] != t) return; /* NEVER: not running */
    cs->running[i] = cs->running[--cs->n_running];
    cs->running[i]->slot = i;
    t->c->n_running--;
    t->state = TRIAL_QUEUED;
    t->stop_reason = NULL;
}

static void trial_free(trial *t)
{
    if (!t) return;
    json_decref(t->spec);
    json_decref(t->params);
    free(t->output);
    free(t);
}

/* ---- campaigns ---- */

static void campaign_free(campaign *c)
{
    if (!c) return;
    while (c->q_len) trial_free(queue_pop_front(c));
    for (size_t i = 0; i < c->n_held; i++) trial_free(c->held[i]);
    free(c->held);
    free(c->queue);
    if (c->kind && c->kind->release) c->kind->release(c);
    free(c->points);
    free(c->labels);
    free(c->open_x);
    free(c->open_n);
    sampler_free(&c->smp);
    pruner_free(&c->prn);
    im_campaign_spec_release(&c->spec);
    free(c);
}

void campaign_set_init(campaign_set *cs)
{
    memset(cs, 0, sizeof *cs);
}

void campaign_set_release(campaign_set *cs)
{
    for (size_t i = 0; i < cs->n_running; i++) trial_free(cs->running[i]);
    for (size_t i = 0; i < cs->n; i++) campaign_free(cs->v[i]);
    free(cs->v);
    free(cs->map);
    free(cs->running);
    memset(cs, 0, sizeof *cs);
}

campaign *campaign_set_find(const campaign_set *cs, const char *name, int64_t id)
{
    for (size_t i = 0; i < cs->n; i++) {
        campaign *c = cs->v[i];
        if ((name && strcmp(c->name, name) == 0) || (!name && id == c->id)) return c;
    }
    return NULL;
}

int campaign_is_active(const campaign *c)
{
    return c->status == STORE_CAMPAIGN_QUEUED || c->status == STORE_CAMPAIGN_RUNNING ||
           c->status == STORE_CAMPAIGN_WAITING;
}

/* c's status as its kind says, in memory and in the store: "waiting" while
 * it waits for another campaign, "queued" once it no longer does (a waiting
 * campaign has no trial, so it never ran); any other status stays. Returns
 * 0, IM_EDB. */
static int status_from_kind(store *st, campaign *c, im_error *err)
{
    const char *other = c->kind->waiting_for ? c->kind->waiting_for(c) : NULL;
    store_campaign_status want = c->status;
    if (other && c->status == STORE_CAMPAIGN_QUEUED) want = STORE_CAMPAIGN_WAITING;
    if (!other && c->status == STORE_CAMPAIGN_WAITING) want = STORE_CAMPAIGN_QUEUED;
    if (want == c->status) return 0;
    int rc = store_campaign_set_status(st, c->id, want, err);
    if (rc) return rc == IM_ENOTFOUND ? IM_EDB : rc; /* memory != db */
    c->status = want;
    if (other)
        im_log(IM_LOG_INFO, "campaign %s: waiting for campaign %s", c->name, other);
    else
        im_log(IM_LOG_INFO, "campaign %s: queued", c->name);
    return 0;
}

int64_t campaign_planned(const campaign *c)
{
    return (int64_t)c->n_points * c->spec.seeds_per_point;
}

/* Insert c in hand-out order: priority descending, then id ascending. */
static void set_add(campaign_set *cs, campaign *c)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 16;
        cs->v = im_xrealloc(cs->v, cs->cap * sizeof *cs->v);
    }
    size_t i = cs->n;
    while (i > 0 &&
           (cs->v[i - 1]->spec.priority < c->spec.priority ||
            (cs->v[i - 1]->spec.priority == c->spec.priority && cs->v[i - 1]->id > c->id))) {
        cs->v[i] = cs->v[i - 1];
        i--;
    }
    cs->v[i] = c;
    cs->n++;
}

static void set_remove(campaign_set *cs, campaign *c)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->v[i] == c) {
            memmove(&cs->v[i], &cs->v[i + 1], (cs->n - i - 1) * sizeof *cs->v);
            cs->n--;
            campaign_free(c);
            return;
        }
}

/* The memory a trial of spec takes on a worker, by the estimate of
 * im_train_spec_memory_bytes for the MNIST-like shape; 0 for an exec
 * campaign, whose command's memory is unknown. */
static uint64_t campaign_trial_bytes(const im_campaign_spec *spec)
{
    if (spec->backend == IM_BACKEND_EXEC) return 0;
    return im_train_spec_memory_bytes(&spec->train, IM_MEMORY_N_IN, IM_MEMORY_N_CLASSES,
                                      IM_MEMORY_N_SAMPLES);
}

/* Build the in-memory campaign from a parsed spec (takes ownership of spec's
 * allocations on success and on failure). */
static int campaign_build(campaign **out, im_campaign_spec *spec, store *st, im_error *err)
{
    *out = NULL;
    campaign *c = im_xcalloc(1, sizeof *c);
    c->spec = *spec;
    memset(spec, 0, sizeof *spec);
    snprintf(c->name, sizeof c->name, "%s", c->spec.name);
    c->need_bytes = campaign_trial_bytes(&c->spec);
    int k = c->spec.n_terms == 5 ? 2 : 3;
    int rc = im_lattice_init(&c->lat, k, err);
    if (rc) goto fail;
    if (c->lat.n + 1 != c->spec.n_terms) {
        rc = im_error_set(err, IM_EINVAL, "campaign: %d gamma terms do not match %d sources",
                          c->spec.n_terms, k);
        goto fail;
    }
    c->kind = kind_def_at((int)c->spec.kind);
    if (!c->kind) { /* NEVER: the parser knows the table */
        rc = im_error_set(err, IM_EINVAL, "campaign: unknown kind %d", (int)c->spec.kind);
        goto fail;
    }
    if ((rc = c->kind->plan(c, st, err))) goto fail;
    c->prn = pruner_new(&c->spec.pruner);
    int may_wait = c->kind->on_campaign_ended != NULL; /* for another campaign */
    if ((c->n_points < 1 && !may_wait) || c->spec.seeds_per_point < 1) {
        rc = im_error_set(err, IM_EINVAL, "campaign: nothing to run (%d points, %d seeds each)",
                          c->n_points, c->spec.seeds_per_point);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    campaign_free(c);
    return rc ? rc : IM_EINVAL;
}

int campaign_submit(campaign_set *cs, store *st, const json_t *obj, campaign **out, im_error *err)
{
    return campaign_submit_or_find(cs, st, obj, out, NULL, err);
}

/* The campaign of the set named `name` whose stored spec is `text`, or NULL. */
static campaign *find_identical(campaign_set *cs, store *st, const char *name, const char *text,
                                im_error *err, int *rc)
{
    store_campaign sc;
    *rc = store_campaign_find(st, name, &sc, err);
    if (*rc == IM_ENOTFOUND) {
        *rc = 0;
        return NULL;
    }
    if (*rc) return NULL;
    campaign *c =
        sc.spec_json && strcmp(sc.spec_json, text) == 0 ? campaign_set_find(cs, NULL, sc.id) : NULL;
    store_campaign_release(&sc);
    return c;
}

int campaign_submit_or_find(campaign_set *cs, store *st, const json_t *obj, campaign **out,
                            int *existed, im_error *err)
{
    *out = NULL;
    if (existed) *existed = 0;
    im_campaign_spec spec;
    int rc = im_campaign_spec_from_json(&spec, obj, err);
    if (rc) {
        im_campaign_spec_release(&spec);
        return rc;
    }
    /* a trial that needs more memory than any worker may give would make
     * every worker that takes it fail (or, overcommitted, be killed) */
    uint64_t need = campaign_trial_bytes(&spec);
    if (cs->max_trial_bytes && need > cs->max_trial_bytes) {
        rc = im_error_set(err, IM_ERANGE,
                          "campaign: a trial would need about %.1f GB of memory (hidden %d, "
                          "batch %d), more than the coordinator's --max-trial-memory %.1f GB",
                          need / 1e9, spec.train.hidden, spec.train.batch,
                          cs->max_trial_bytes / 1e9);
        im_campaign_spec_release(&spec);
        return rc;
    }
    const kind_def *kind = kind_def_at((int)spec.kind);
    if (kind && kind->submit) {
        rc = kind->submit(st, &spec, err);
        if (rc) {
            im_campaign_spec_release(&spec);
            return rc;
        }
    }
    campaign *c;
    rc = campaign_build(&c, &spec, st, err);
    if (rc) return rc;

    json_t *canon = im_campaign_spec_to_json(&c->spec);
    char *text = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
    json_decref(canon);
    if (!text) {
        campaign_free(c);
        return im_error_set(err, IM_EINVAL, "campaign: cannot serialise the spec");
    }
    if (existed) {
        /* a retried SUBMIT (its reply was lost or late): the same campaign */
        campaign *same = find_identical(cs, st, c->name, text, err, &rc);
        if (rc || same) {
            free(text);
            campaign_free(c);
            if (same) {
                *existed = 1;
                *out = same;
            }
            return rc;
        }
    }
    store_campaign_new nc = {
        .name = c->name,
        .kind = im_campaign_kind_name(c->spec.kind),
        .spec_json = text,
        .sampler = c->kind->sampler_name ? c->kind->sampler_name(&c->spec) : NULL,
        .priority = c->spec.priority,
        .budget = c->n_points,
        .seeds_per_point = c->spec.seeds_per_point,
        .seed = c->spec.seed,
        .backend = im_backend_name(c->spec.backend),
        .objective = c->spec.objective,
        .direction = c->spec.minimize ? "minimize" : "maximize",
    };
    rc = store_campaign_insert(st, &nc, &c->id, err);
    free(text);
    if (rc) {
        campaign_free(c);
        return rc;
    }
    c->status = STORE_CAMPAIGN_QUEUED;
    set_add(cs, c);
    *out = c;
    return status_from_kind(st, c, err);
}

/* ---- open points: the tallies of their seeds ---- */

point_state point_aggregate(const point_tally *n, double *value)
{
    *value = n->done ? n->sum / n->done : n->pruned_valued > 0 ? n->pruned_best : (double)NAN;
    return n->done ? POINT_COMPLETE : n->pruned ? POINT_PRUNED : POINT_FAILED;
}

int campaign_pending(const campaign *c, const sampler_point **out)
{
    *out = c->open_x;
    return (int)c->n_open;
}

static void open_add(campaign *c, int point, const double *gamma)
{
    if (c->n_open == c->open_cap) {
        c->open_cap = c->open_cap ? c->open_cap * 2 : 16;
        c->open_x = im_xrealloc(c->open_x, c->open_cap * sizeof *c->open_x);
        c->open_n = im_xrealloc(c->open_n, c->open_cap * sizeof *c->open_n);
    }
    sampler_point *x = &c->open_x[c->n_open];
    memset(x, 0, sizeof *x);
    x->point = point;
    for (int i = 0; i < im_campaign_n_values(&c->spec); i++) x->v[i] = gamma[i];
    c->open_n[c->n_open] = (point_tally){0};
    c->n_open++;
}

/* One seed of point `point` ended with status and value (the objective: a
 * done seed's result, a pruned seed's last reported value, NAN otherwise);
 * when it was the last, the point's value (higher is better: negated for a
 * campaign that minimises) and state go to the kind and the point closes. */
static void open_tally(campaign *c, int point, store_trial_status status, double val_acc)
{
    size_t i = 0;
    while (i < c->n_open && c->open_x[i].point != point) i++;
    if (i == c->n_open) return; /* created before a restart that replayed nothing */
    point_tally *n = &c->open_n[i];
    n->ended++;
    if (status == STORE_TRIAL_DONE) {
        n->done++;
        n->sum += val_acc;
    }
    if (status == STORE_TRIAL_PRUNED) {
        n->pruned++;
        /* the best in the campaign's direction: kept oriented, higher is better */
        double v = c->spec.minimize ? -val_acc : val_acc;
        if (isfinite(v) && (n->pruned_valued++ == 0 || v > n->pruned_best)) n->pruned_best = v;
    }
    if (n->ended < c->spec.seeds_per_point) return;
    double value;
    point_state state = point_aggregate(n, &value);
    /* the done seeds' mean is of the raw objective; pruned_best is oriented */
    if (c->spec.minimize && state != POINT_PRUNED) value = -value;
    if (c->kind->on_point_end) c->kind->on_point_end(c, &c->open_x[i], value, state);
    c->n_open--;
    c->open_x[i] = c->open_x[c->n_open];
    c->open_n[i] = c->open_n[c->n_open];
}

/* An exec trial's JOB "params": values by parameter name. Caller owns it. */
static json_t *params_json(const campaign *c, const double *v)
{
    json_t *o = json_object();
    for (int i = 0; i < c->spec.params->n; i++)
        json_object_set_new(o, c->spec.params->p[i].name,
                            param_value_json(&c->spec.params->p[i], v[i]));
    return o;
}

/* An exec trial's spec: what the worker needs besides the params. */
static json_t *exec_spec_json(const campaign *c, uint64_t seed)
{
    return json_pack("{s:s, s:I, s:s}", "backend", "exec", "seed", (json_int_t)seed, "objective",
                     c->spec.objective);
}

/* Create the next point's seeds_per_point trials in the store and queue them. */
static int create_point(campaign_set *cs, store *st, campaign *c, im_error *err)
{
    double gamma[SAMPLER_MAX_PARAMS];
    char label[STORE_NAME_MAX];
    int p = c->next_point;
    int rc = c->kind->point(c, p, gamma, label, err);
    if (rc) return rc;
    int exec = c->spec.backend == IM_BACKEND_EXEC, nv = im_campaign_n_values(&c->spec);
    store_param params[SAMPLER_MAX_PARAMS];
    const char *texts[SAMPLER_MAX_PARAMS];
    int any_text = 0;
    for (int i = 0; i < nv; i++) {
        const param_def *pd = exec ? &c->spec.params->p[i] : NULL;
        snprintf(params[i].name, sizeof params[i].name, "%s",
                 exec ? pd->name : c->lat.short_name[i]);
        params[i].value = gamma[i];
        texts[i] = NULL;
        if (exec && pd->type == PARAM_CATEGORICAL && gamma[i] >= 0 && gamma[i] < pd->n_choices) {
            texts[i] = pd->choices[(int)gamma[i]];
            params[i].value = NAN;
            any_text = 1;
        }
    }
    for (int r = 1; r <= c->spec.seeds_per_point; r++) {
        json_t *spec;
        if (exec) {
            spec = exec_spec_json(c, (uint64_t)r);
        } else {
            im_train_spec ts;
            rc = im_campaign_trial_spec(&c->spec, gamma, (uint64_t)r, &ts, err);
            if (rc) return rc;
            spec = im_train_spec_to_json(&ts);
        }
        char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
        if (!text) {
            json_decref(spec);
            return im_error_set(err, IM_EINVAL, "campaign '%s': cannot serialise a trial spec",
                                c->name);
        }
        store_trial_new tn = {.campaign_id = c->id,
                              .number = c->next_number,
                              .point = p,
                              .seed = (uint64_t)r,
                              .spec_json = text,
                              .label = label[0] ? label : NULL,
                              .stage = c->kind->stage ? c->kind->stage(c, p) : NULL,
                              .params = params,
                              .n_params = (size_t)nv,
                              .param_texts = any_text ? texts : NULL};
        int64_t id = 0;
        rc = store_trial_insert(st, &tn, &id, err);
        free(text);
        if (rc) {
            json_decref(spec);
            return rc;
        }
        trial *t = im_xcalloc(1, sizeof *t);
        t->id = id;
        t->c = c;
        t->number = c->next_number++;
        t->point = p;
        t->seed = (uint64_t)r;
        t->spec = spec;
        t->params = exec ? params_json(c, gamma) : NULL;
        t->value = NAN;
        memcpy(t->gamma, gamma, sizeof gamma);
        queue_push_back(c, t);
        map_put(cs, t);
    }
    open_add(c, p, gamma);
    c->next_point++;
    return 0;
}

int campaign_backend_fits(const campaign *c, const json_t *backends)
{
    const char *name = im_backend_name(c->spec.backend);
    return backends ? im_wire_list_has(backends, name) : c->spec.backend == IM_BACKEND_BUILTIN;
}

int campaign_runs_on(const campaign *c, const json_t *backends, const json_t *datasets)
{
    if (!campaign_backend_fits(c, backends)) return 0;
    if (c->spec.backend == IM_BACKEND_EXEC) return 1; /* the command brings its own data */
    return !datasets || im_wire_list_has(datasets, c->spec.train.dataset);
}

int campaign_fits_memory(const campaign *c, int64_t max_memory)
{
    return max_memory < 0 || c->need_bytes <= (uint64_t)max_memory;
}

void campaign_trial_take_result(trial *t, const im_trial_result *r)
{
    free(t->output);
    t->output = NULL;
    t->value = r->val_acc;
    if (t->c->spec.backend != IM_BACKEND_EXEC) return;
    const json_t *v = json_object_get(r->extra, "value");
    t->value = json_is_number(v) && isfinite(json_number_value(v)) ? json_number_value(v) : NAN;
    const json_t *out = json_object_get(r->extra, "output");
    if (json_is_object(out)) t->output = json_dumps(out, JSON_COMPACT);
}

int campaign_has_work(const campaign *c)
{
    return (c->status == STORE_CAMPAIGN_QUEUED || c->status == STORE_CAMPAIGN_RUNNING) &&
           (c->q_len > 0 || c->next_point < c->n_points);
}

/* Start a new attempt of t (queued, and already out of its campaign's queue
 * and held list) for worker: in the store (the campaign becomes running on
 * its first hand-out) and in memory (t moves to `running`, its lease runs
 * until now + lease_s, the worker knows the new attempt number). */
static int trial_run(campaign_set *cs, store *st, trial *t, const char *worker, double now,
                     double lease_s, im_error *err)
{
    campaign *c = t->c;
    int attempt = 0;
    int rc = store_trial_start(st, t->id, worker, &attempt, err);
    if (rc) return rc == IM_EINVAL || rc == IM_ENOTFOUND ? IM_EDB : rc; /* memory != db */
    if (c->status == STORE_CAMPAIGN_QUEUED) {
        rc = store_campaign_set_status(st, c->id, STORE_CAMPAIGN_RUNNING, err);
        if (rc) return rc;
        c->status = STORE_CAMPAIGN_RUNNING;
        im_log(IM_LOG_INFO, "campaign %s: running", c->name);
    }
    t->attempt = attempt;
    t->wire_attempt = attempt;
    snprintf(t->worker, sizeof t->worker, "%s", worker);
    t->deadline = now + lease_s;
    t->stop_reason = NULL;
    t->best_val = NAN;
    running_add(cs, t);
    if (c->first_handout == 0) c->first_handout = now;
    return 0;
}

int campaign_hand_out(campaign_set *cs, store *st, const char *worker, const json_t *backends,
                      const json_t *datasets, int64_t max_memory, double now, double lease_s,
                      trial **out, im_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < cs->n; i++) {
        campaign *c = cs->v[i];
        if (c->status != STORE_CAMPAIGN_QUEUED && c->status != STORE_CAMPAIGN_RUNNING) continue;
        if (!campaign_runs_on(c, backends, datasets)) continue;
        if (!campaign_fits_memory(c, max_memory)) continue;
        if (!c->q_len && c->next_point < c->n_points) {
            int rc = create_point(cs, st, c, err);
            if (rc == IM_EDB) return rc;
            if (rc) {
                /* a point that cannot be made (NEVER for valid specs): skip it */
                im_log(IM_LOG_ERROR, "campaign %s: point %d skipped: %s", c->name, c->next_point,
                       err ? err->msg : "");
                c->next_point++;
                continue;
            }
        }
        if (!c->q_len) continue;
        trial *t = queue_pop_front(c);
        int rc = trial_run(cs, st, t, worker, now, lease_s, err);
        if (rc) return rc;
        *out = t;
        return 0;
    }
    return 0;
}

static int cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, const char *why,
                  im_error *err);

/* Tell the other active campaigns' kinds that c ended (a chained campaign
 * may be waiting for it; one whose base cannot be had is cancelled).
 * Returns 0 or the first hook's error. */
static int notify_ended(campaign_set *cs, store *st, const campaign *c, im_error *err)
{
    for (size_t i = 0; i < cs->n; i++) {
        campaign *o = cs->v[i];
        if (o == c || !o->kind->on_campaign_ended || !campaign_is_active(o)) continue;
        im_error why = {0};
        int rc = o->kind->on_campaign_ended(o, st, c->name, c->id, c->status, &why);
        if (rc == 0) rc = status_from_kind(st, o, &why); /* it may wait no longer */
        if (rc == 1) { /* the set may change: look again from the start */
            if ((rc = cancel(cs, st, o, NULL, why.msg, err))) return rc;
            i = (size_t)-1;
            continue;
        }
        if (rc) {
            if (err) *err = why;
            return rc;
        }
    }
    return 0;
}

/* Every planned point of c has ended: its kind plans the next stage
 * (returns 1) or c is done. */
static int stage_ended(campaign *c, store *st, im_error *err)
{
    if (c->kind->on_stage_end) {
        int more = c->kind->on_stage_end(c, st, err);
        if (more != 0) return more < 0 ? more : 0; /* a next stage, or waiting */
    }
    int rc = store_campaign_set_status(st, c->id, STORE_CAMPAIGN_DONE, err);
    if (rc) return rc;
    rc = store_event(st, "campaign_done", c->id, 0, NULL, NULL, err);
    if (rc) return rc;
    im_log(IM_LOG_INFO, "campaign %s: done", c->name);
    c->status = STORE_CAMPAIGN_DONE;
    return 0;
}

/* After a trial of c ended: end the stage when nothing is left, drop a
 * terminal campaign from memory once it has no running trial. */
static int campaign_after_end(campaign_set *cs, store *st, campaign *c, im_error *err)
{
    c->ended_this_run++;
    if (campaign_is_active(c) && c->q_len == 0 && c->n_held == 0 && c->n_running == 0 &&
        c->next_point >= c->n_points) {
        int rc = stage_ended(c, st, err);
        if (rc) return rc;
        if (c->status == STORE_CAMPAIGN_DONE && (rc = notify_ended(cs, st, c, err))) return rc;
    }
    if (!campaign_is_active(c) && c->n_running == 0) set_remove(cs, c);
    return 0;
}

/* t (out of the running list) ended with status: tally its point, free it,
 * and see whether its campaign is done. */
static int trial_ended(campaign_set *cs, store *st, trial *t, store_trial_status status,
                       double val_acc, im_error *err)
{
    campaign *c = t->c;
    /* a value counts only for a done trial; a pruned one's last report
     * values its point only when no seed of it was done */
    double last = status == STORE_TRIAL_PRUNED ? val_acc : (double)NAN;
    if (status != STORE_TRIAL_DONE) val_acc = NAN;
    if (c->kind->on_trial_end) c->kind->on_trial_end(c, t, status, val_acc);
    open_tally(c, t->point, status, status == STORE_TRIAL_PRUNED ? last : val_acc);
    map_del(cs, t->id);
    trial_free(t);
    return campaign_after_end(cs, st, c, err);
}

int campaign_trial_finish(campaign_set *cs, store *st, trial *t, const store_trial_result *r,
                          const double *val_by_epoch, int n_epochs, im_error *err)
{
    if (t->state != TRIAL_RUNNING)
        return im_error_set(err, IM_EINVAL, "trial %lld is not running", (long long)t->id);
    /* the objective: what campaign_trial_take_result found, else val_acc */
    store_trial_value v = {.value = r->val_acc, .output = NULL};
    if (t->c->spec.backend == IM_BACKEND_EXEC) v = (store_trial_value){t->value, t->output};
    /* a pruned trial's last reported objective values its point (when no
     * seed of it was done); only a done trial stores a value */
    double tally = r->status == STORE_TRIAL_DONE || r->status == STORE_TRIAL_PRUNED ? v.value : NAN;
    if (r->status != STORE_TRIAL_DONE) v.value = NAN;
    int rc = store_trial_finish_value(st, t->id, t->attempt, r, &v, err);
    if (rc) return rc == IM_EINVAL || rc == IM_ENOTFOUND ? IM_EDB : rc; /* memory != db */
    campaign *c = t->c;
    if (c->prn && r->status == STORE_TRIAL_DONE && val_by_epoch)
        pruner_add(c->prn, val_by_epoch, n_epochs);
    running_remove(cs, t);
    return trial_ended(cs, st, t, r->status, tally, err);
}

int campaign_trial_lost(campaign_set *cs, store *st, trial *t, const char *reason,
                        store_trial_status to, store_attempt_status attempt, im_error *err)
{
    if (t->state != TRIAL_RUNNING)
        return im_error_set(err, IM_EINVAL, "trial %lld is not running", (long long)t->id);
    if (to != STORE_TRIAL_QUEUED && to != STORE_TRIAL_FAILED && to != STORE_TRIAL_CANCELLED)
        return im_error_set(err, IM_EINVAL, "trial %lld: a lost attempt cannot make it %s",
                            (long long)t->id, store_trial_status_name(to));
    campaign *c = t->c;
    int interrupted = attempt == STORE_ATTEMPT_INTERRUPTED;
    int rc =
        interrupted
            ? store_trial_interrupted(st, t->id, t->attempt, reason, to != STORE_TRIAL_FAILED, err)
            : store_trial_lost(st, t->id, t->attempt, reason, to != STORE_TRIAL_FAILED, err);
    if (rc) return rc == IM_EINVAL || rc == IM_ENOTFOUND ? IM_EDB : rc;
    if (interrupted)
        t->n_interrupted++;
    else
        t->n_lost++;
    running_remove(cs, t);
    if (to == STORE_TRIAL_QUEUED) {
        queue_push_front(c, t);
        return 0;
    }
    if (to == STORE_TRIAL_CANCELLED) {
        /* queued again by store_trial_lost: cancel it with the campaign */
        rc = store_campaign_cancel_queued(st, c->id, NULL, err);
        if (rc) return rc;
    }
    return trial_ended(cs, st, t, to, NAN, err);
}

/* The pruner's score of an epoch of a trial of c (campaign_progress_score). */
static double score_of(const campaign *c, double val_acc, double value)
{
    if (c->spec.backend != IM_BACKEND_EXEC) return val_acc;
    return c->spec.minimize ? -value : value;
}

double campaign_progress_score(const trial *t, double val_acc, double value)
{
    return score_of(t->c, val_acc, value);
}

void campaign_trial_progress(trial *t, int epoch, double val_acc)
{
    if (!t->c->prn || !isfinite(val_acc)) return;
    if (!(t->best_val >= val_acc)) t->best_val = val_acc; /* NAN best: first value */
    if (t->stop_reason || !pruner_should_stop(t->c->prn, epoch, t->best_val)) return;
    t->stop_reason = "pruned";
    im_log(IM_LOG_INFO,
           "trial %lld (campaign %s): pruned at epoch %d (best %s %.4f < the %s pruner's "
           "%.4f of %d completed trials)",
           (long long)t->id, t->c->name, epoch,
           t->c->spec.backend == IM_BACKEND_EXEC ? "score" : "val_acc", t->best_val,
           im_pruner_name(t->c->spec.pruner.kind), pruner_reference(t->c->prn, epoch),
           pruner_completed(t->c->prn));
}

int campaign_trial_relet(campaign_set *cs, store *st, trial *t, const char *worker,
                         int wire_attempt, double now, double lease_s, im_error *err)
{
    campaign *c = t->c;
    if (t->state != TRIAL_QUEUED ||
        (c->status != STORE_CAMPAIGN_QUEUED && c->status != STORE_CAMPAIGN_RUNNING))
        return im_error_set(err, IM_EINVAL, "trial %lld cannot be leased again", (long long)t->id);
    if (queue_remove(c, t) != 0) /* NEVER: a queued trial is in its queue */
        return im_error_set(err, IM_EDB, "trial %lld is not in its campaign's queue",
                            (long long)t->id);
    int rc = trial_run(cs, st, t, worker, now, lease_s, err);
    if (rc) return rc;
    t->wire_attempt = wire_attempt;
    rc = store_attempt_resumes(st, t->id, t->attempt, wire_attempt, err);
    if (rc) return rc;
    char detail[96]; /* the text migration 0008 reads in older databases */
    snprintf(detail, sizeof detail, "attempt %d of the worker continues as attempt %d",
             wire_attempt, t->attempt);
    rc = store_event(st, "lease_resumed", c->id, t->id, worker, detail, err);
    if (rc) return rc;
    im_log(IM_LOG_INFO, "trial %lld (campaign %s): lease resumed by worker %s (%s)",
           (long long)t->id, c->name, worker, detail);
    return 0;
}

int campaign_cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, im_error *err)
{
    return cancel(cs, st, c, n_cancelled, NULL, err);
}

/* Cancel c, by a client (why NULL) or because of why. */
static int cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, const char *why,
                  im_error *err)
{
    int64_t n = 0;
    int rc = store_campaign_cancel_queued(st, c->id, &n, err);
    if (rc) return rc;
    rc = store_campaign_set_status(st, c->id, STORE_CAMPAIGN_CANCELLED, err);
    if (rc) return rc;
    rc = store_event(st, "campaign_cancelled", c->id, 0, NULL, why, err);
    if (rc) return rc;
    while (c->q_len) {
        trial *t = queue_pop_front(c);
        map_del(cs, t->id);
        trial_free(t);
    }
    for (size_t i = 0; i < c->n_held; i++) {
        map_del(cs, c->held[i]->id);
        trial_free(c->held[i]);
    }
    c->n_held = 0;
    c->status = STORE_CAMPAIGN_CANCELLED;
    c->next_point = c->n_points;
    for (size_t i = 0; i < cs->n_running; i++)
        if (cs->running[i]->c == c) cs->running[i]->stop_reason = "cancelled";
    if (n_cancelled) *n_cancelled = n;
    if (why)
        im_log(IM_LOG_WARN, "campaign %s: cancelled: %s", c->name, why);
    else
        im_log(IM_LOG_INFO, "campaign %s: cancelled (%lld queued trials)", c->name, (long long)n);
    rc = notify_ended(cs, st, c, err);
    if (rc) return rc;
    if (c->n_running == 0) set_remove(cs, c);
    return 0;
}

/* ---- resume ---- */

static void gamma_from_params(const campaign *c, const store_trial *tr, double *gamma)
{
    for (int i = 0; i < im_campaign_n_values(&c->spec); i++) gamma[i] = 0;
    for (size_t i = 0; c->spec.backend == IM_BACKEND_EXEC && i < tr->n_params; i++) {
        int k = param_space_find(c->spec.params, tr->params[i].name);
        if (k < 0) continue;
        const param_def *pd = &c->spec.params->p[k];
        const char *text = tr->param_texts ? tr->param_texts[i] : NULL;
        gamma[k] = tr->params[i].value;
        for (int j = 0; text && j < pd->n_choices; j++)
            if (!strcmp(pd->choices[j], text)) gamma[k] = j;
    }
    for (size_t i = 0; c->spec.backend != IM_BACKEND_EXEC && i < tr->n_params; i++) {
        int k = im_lattice_find(&c->lat, tr->params[i].name);
        if (k >= 0 && k < c->spec.n_terms) gamma[k] = tr->params[i].value;
    }
}

static int load_pruner_history(store *st, campaign *c, im_error *err)
{
    json_t *v = store_export_json(st, c->id, err);
    if (!v) return IM_EDB;
    size_t i;
    json_t *tr;
    json_array_foreach(v, i, tr)
    {
        const char *status = json_string_value(json_object_get(tr, "status"));
        if (!status || strcmp(status, "done") != 0) continue;
        json_t *epochs = json_object_get(tr, "epochs");
        int n = 0;
        size_t k;
        json_t *e;
        json_array_foreach(epochs, k, e)
        {
            json_int_t ep = json_integer_value(json_object_get(e, "epoch"));
            if (ep >= 0 && ep < 10000 && ep + 1 > n) n = (int)ep + 1;
        }
        double *vals = im_xmalloc_array((size_t)(n ? n : 1), sizeof *vals);
        for (int j = 0; j < n; j++) vals[j] = NAN;
        json_array_foreach(epochs, k, e)
        {
            /* the pruner's score, as it was live: val_acc, or an exec
             * trial's objective (stored since schema 0007) */
            json_int_t ep = json_integer_value(json_object_get(e, "epoch"));
            json_t *acc = json_object_get(e, "val_acc"), *obj = json_object_get(e, "value");
            if (ep >= 0 && ep < n)
                vals[ep] = score_of(c, json_is_number(acc) ? json_number_value(acc) : NAN,
                                    json_is_number(obj) ? json_number_value(obj) : NAN);
        }
        pruner_add(c->prn, vals, n);
        free(vals);
    }
    json_decref(v);
    return 0;
}

/* c's queued trials (including those just re-queued) into memory, in
 * number order; those that were out before are held for their workers. */
static int load_queued(campaign_set *cs, store *st, campaign *c, double now, double hold_s,
                       im_error *err)
{
    store_trial *tr = NULL;
    size_t n = 0;
    int rc = store_trial_list(st, c->id, STORE_MASK(STORE_TRIAL_QUEUED),
                              STORE_WITH_SPEC | STORE_WITH_PARAMS, &tr, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        json_t *spec_obj = tr[i].spec_json ? json_loads(tr[i].spec_json, 0, NULL) : NULL;
        if (!json_is_object(spec_obj)) {
            json_decref(spec_obj);
            im_log(IM_LOG_ERROR, "trial %lld (campaign %s): stored spec is not JSON; skipped",
                   (long long)tr[i].id, c->name);
            continue;
        }
        trial *t = im_xcalloc(1, sizeof *t);
        t->id = tr[i].id;
        t->c = c;
        t->number = tr[i].number;
        t->point = tr[i].point;
        t->seed = tr[i].seed;
        t->attempt = tr[i].attempt;
        t->wire_attempt = tr[i].attempt;
        if (tr[i].worker) snprintf(t->worker, sizeof t->worker, "%s", tr[i].worker);
        if (t->attempt > 0 &&
            (rc = store_trial_attempt_counts(st, t->id, &t->n_lost, &t->n_interrupted, err))) {
            json_decref(spec_obj);
            free(t);
            break;
        }
        t->spec = spec_obj;
        t->value = NAN;
        gamma_from_params(c, &tr[i], t->gamma);
        if (c->spec.backend == IM_BACKEND_EXEC) t->params = params_json(c, t->gamma);
        if (t->attempt > 0 && hold_s > 0) { /* out before: its worker may still run it */
            c->held = im_xrealloc(c->held, (c->n_held + 1) * sizeof *c->held);
            c->held[c->n_held++] = t;
            c->hold_until = now + hold_s;
        } else {
            queue_push_back(c, t);
        }
        map_put(cs, t);
    }
    store_trials_free(&tr, n);
    return rc;
}

/* Replay the ended seeds of c's created points into the open tallies (the
 * kind hears every point that ended before the restart); the points not
 * ended stay pending. */
static int replay_points(store *st, campaign *c, im_error *err)
{
    store_trial *tr = NULL;
    size_t n = 0;
    int rc = store_trial_list(st, c->id, 0, STORE_WITH_PARAMS, &tr, &n, err);
    if (rc) return rc;
    int prev = -1;
    for (size_t i = 0; i < n; i++) {
        if (tr[i].point != prev) {
            double g[SAMPLER_MAX_PARAMS];
            gamma_from_params(c, &tr[i], g);
            open_add(c, tr[i].point, g);
            prev = tr[i].point;
        }
        store_trial_status s = tr[i].status;
        if (s != STORE_TRIAL_QUEUED && s != STORE_TRIAL_RUNNING) {
            /* a pruned built-in trial keeps its last accuracy in val_acc, a
             * pruned exec trial its last objective in its curve */
            double v = tr[i].value;
            if (!isfinite(v) && strcmp(c->spec.objective, "val_acc") == 0) v = tr[i].val_acc;
            if (!isfinite(v) && s == STORE_TRIAL_PRUNED && c->spec.backend == IM_BACKEND_EXEC) {
                int rc2 = store_trial_last_value(st, tr[i].id, &v, err);
                if (rc2) {
                    store_trials_free(&tr, n);
                    return rc2;
                }
            }
            open_tally(c, tr[i].point, s, v);
        }
    }
    store_trials_free(&tr, n);
    return 0;
}

static int load_campaign(campaign_set *cs, store *st, const store_campaign *sc, double now,
                         double hold_s, im_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(sc->spec_json, 0, &jerr);
    im_campaign_spec spec;
    memset(&spec, 0, sizeof spec);
    im_error perr = {0};
    if (!obj) im_error_set(&perr, IM_EFORMAT, "stored spec is not JSON: %s", jerr.text);
    int rc = obj ? im_campaign_spec_from_json(&spec, obj, &perr) : IM_EFORMAT;
    json_decref(obj);
    campaign *c = NULL;
    if (rc == 0)
        rc = campaign_build(&c, &spec, st, &perr);
    else
        im_campaign_spec_release(&spec);
    if (rc) {
        im_log(IM_LOG_ERROR, "campaign %s: cannot be resumed, left as it is: %s", sc->name,
               perr.msg);
        return 0;
    }
    c->id = sc->id;
    c->status = sc->status;
    /* waiting or not: what the kind found at plan (a database of before
     * "waiting" kept such a campaign queued; its base may be done now) */
    if ((rc = status_from_kind(st, c, err))) goto fail;

    store_counts counts;
    rc = store_campaign_counts(st, c->id, &counts, err);
    if (rc) goto fail;
    c->next_number = counts.next_number;
    c->next_point = counts.next_point;

    /* queued trials (including those just re-queued), in number order */
    if ((rc = load_queued(cs, st, c, now, hold_s, err))) goto fail;

    /* the pruner's history: the curves of the done trials (their val_acc;
     * an exec campaign's objective by epoch is not stored: its pruner
     * starts afresh) */
    if (c->prn) {
        rc = load_pruner_history(st, c, err);
        if (rc) goto fail;
    }
    /* the points' history, for a kind that wants it */
    if (c->kind->wants_history && c->kind->wants_history(c) && (rc = replay_points(st, c, err)))
        goto fail;
    set_add(cs, c);
    im_log(IM_LOG_INFO,
           "campaign %s: resumed (%s, %zu trials queued, %zu held for their workers, next point "
           "%d of %d)",
           c->name, store_campaign_status_name(c->status), c->q_len, c->n_held, c->next_point,
           c->n_points);
    /* a campaign whose last trials ended just before a crash */
    if (c->q_len == 0 && c->n_held == 0 && c->next_point >= c->n_points) {
        c->ended_this_run--; /* campaign_after_end counts one */
        return campaign_after_end(cs, st, c, err);
    }
    return 0;
fail:
    campaign_free(c);
    return rc;
}

int campaign_set_resume(campaign_set *cs, store *st, double now, double hold_s, int64_t *n_requeued,
                        im_error *err)
{
    int64_t n_re = 0;
    int rc = store_requeue_running(st, &n_re, err);
    if (rc) return rc;
    if (n_requeued) *n_requeued = n_re;
    store_campaign *v = NULL;
    size_t n = 0;
    rc =
        store_campaign_list(st,
                            STORE_MASK(STORE_CAMPAIGN_QUEUED) | STORE_MASK(STORE_CAMPAIGN_RUNNING) |
                                STORE_MASK(STORE_CAMPAIGN_WAITING),
                            &v, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n && rc == 0; i++) rc = load_campaign(cs, st, &v[i], now, hold_s, err);
    store_campaigns_free(&v, n);
    if (rc) return rc;
    /* trials of cancelled campaigns that were running when the coordinator
     * stopped were just queued again: they end as cancelled */
    rc = store_campaign_list(st, STORE_MASK(STORE_CAMPAIGN_CANCELLED), &v, &n, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = store_campaign_cancel_queued(st, v[i].id, NULL, err);
    store_campaigns_free(&v, n);
    return rc;
}

double campaign_set_release_holds(campaign_set *cs, double now)
{
    double next = INFINITY;
    for (size_t i = 0; i < cs->n; i++) {
        campaign *c = cs->v[i];
        if (!c->n_held) continue;
        if (c->hold_until > now) {
            if (c->hold_until < next) next = c->hold_until;
            continue;
        }
        im_log(IM_LOG_INFO, "campaign %s: %zu trials no worker came back for are queued", c->name,
               c->n_held);
        for (size_t k = c->n_held; k-- > 0;) queue_push_front(c, c->held[k]);
        c->n_held = 0;
    }
    return next;
}
