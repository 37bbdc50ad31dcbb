/*
 * sampler_tpe.c: the tree-structured Parzen estimator (SAMPLERS.md) as a
 * sampler: its options, their defaults, parsing and canonical JSON, and the
 * wrapper that feeds the estimator (tpe.h) with a campaign's points.
 *
 * Options ("sampler": {"name": "tpe", ...}), Optuna's names and defaults:
 *   n_startup_trials   integer >= 0, default 10: finished points sampled at
 *                      random before the model is used (points, not trials:
 *                      a point runs seeds_per_point trials)
 *   n_ei_candidates    integer >= 1, default 24: candidates drawn from l(x)
 *                      per proposal
 *   multivariate       boolean, default true: one mixture of product kernels
 *   constant_liar      boolean, default true: pending points count as bad
 *   prior_weight       number >= 0, default 1.0: weight of the prior
 *   consider_endpoints boolean, default false
 *
 * The history: every ended point that completed (value: the mean val_acc of
 * its done seeds) or was pruned (value: the best of its seeds' last reported
 * val_acc, ranked below every completed point); failed points are left out,
 * as Optuna's TPE leaves out failed trials. Direction: maximise. The history
 * is kept in memory sorted by point number, and the pending points are
 * sorted the same way before a proposal, so a proposal depends only on the
 * SET of ended and pending points, not on the order in which results came
 * in: after a restart the coordinator replays the ended points (kind.h,
 * wants_history) and point N is the same as it would have been. The
 * estimator's generator is seeded with (campaign seed, point number).
 *
 * Workload: one proposal per point; observe() is O(n) for the sorted insert
 * (points end roughly in order, so it is near O(1)); a proposal costs what
 * tpe_suggest costs (tpe.h: about 1.4 ms at 1,000 points in 18 dimensions).
 */
#include "sampler.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STARTUP    1000000
#define MAX_CANDIDATES 100000

static const char *const tpe_keys[] = {
    "n_startup_trials", "n_ei_candidates",    "multivariate", "constant_liar",
    "prior_weight",     "consider_endpoints", NULL,
};

static void tpe_defaults(im_campaign_spec *c)
{
    c->tpe.n_startup_trials = 10;
    c->tpe.n_ei_candidates = 24;
    c->tpe.multivariate = 1;
    c->tpe.constant_liar = 1;
    c->tpe.prior_weight = 1.0;
    c->tpe.consider_endpoints = 0;
}

static int tpe_set_option(im_campaign_spec *c, const char *key, const json_t *v, const char *field,
                          im_error *err)
{
    im_tpe_options *o = &c->tpe;
    if (!strcmp(key, "n_startup_trials"))
        return im_json_read_int32(v, "campaign", field, 0, MAX_STARTUP, &o->n_startup_trials, err);
    if (!strcmp(key, "n_ei_candidates"))
        return im_json_read_int32(v, "campaign", field, 1, MAX_CANDIDATES, &o->n_ei_candidates,
                                  err);
    if (!strcmp(key, "multivariate"))
        return im_json_read_bool(v, "campaign", field, &o->multivariate, err);
    if (!strcmp(key, "constant_liar"))
        return im_json_read_bool(v, "campaign", field, &o->constant_liar, err);
    if (!strcmp(key, "prior_weight"))
        return im_json_read_number(v, "campaign", field, 0, &o->prior_weight, err);
    return im_json_read_bool(v, "campaign", field, &o->consider_endpoints, err);
}

static void tpe_to_json(const im_campaign_spec *c, json_t *obj)
{
    json_object_set_new(obj, "n_startup_trials", json_integer(c->tpe.n_startup_trials));
    json_object_set_new(obj, "n_ei_candidates", json_integer(c->tpe.n_ei_candidates));
    json_object_set_new(obj, "multivariate", json_boolean(c->tpe.multivariate));
    json_object_set_new(obj, "constant_liar", json_boolean(c->tpe.constant_liar));
    json_object_set_new(obj, "prior_weight", json_real(c->tpe.prior_weight));
    json_object_set_new(obj, "consider_endpoints", json_boolean(c->tpe.consider_endpoints));
}

/* ---- the sampler ---- */

typedef struct tpe_sampler {
    sampler base; /* first */
    tpe_param params[SAMPLER_MAX_PARAMS];
    tpe_space space; /* over params */
    tpe_options opt;
    /* the history, sorted by point number */
    int n, cap;
    int *point;       /* [cap] point numbers */
    double *x;        /* [cap][space.n_params] */
    double *value;    /* [cap] */
    tpe_state *state; /* [cap] */
    tpe_obs *obs;     /* [cap] scratch for tpe_suggest */
} tpe_sampler;

static int cmp_point(const void *a, const void *b)
{
    const sampler_point *x = a, *y = b;
    return (x->point > y->point) - (x->point < y->point);
}

static int tpe_sampler_suggest(sampler *base, int point, const sampler_point *pending,
                               int n_pending, sampler_point *out, im_error *err)
{
    tpe_sampler *s = (tpe_sampler *)base;
    if (point < 0) return im_error_set(err, IM_EINVAL, "sampler: point %d < 0", point);
    if (n_pending < 0) return im_error_set(err, IM_EINVAL, "sampler: %d pending points", n_pending);
    int d = s->space.n_params;
    for (int i = 0; i < s->n; i++)
        s->obs[i] = (tpe_obs){
            .x = s->x + (size_t)i * (size_t)d, .value = s->value[i], .state = s->state[i]};
    /* the pending points in point order: the same set gives the same call */
    double *pend = NULL;
    if (n_pending > 0 && s->opt.constant_liar) {
        sampler_point *sorted = im_xmalloc_array((size_t)n_pending, sizeof *sorted);
        memcpy(sorted, pending, (size_t)n_pending * sizeof *sorted);
        qsort(sorted, (size_t)n_pending, sizeof *sorted, cmp_point);
        pend = im_xmalloc_array((size_t)n_pending * (size_t)d, sizeof *pend);
        for (int i = 0; i < n_pending; i++)
            for (int k = 0; k < d; k++) {
                /* a pending point outside the space (a space changed by
                 * hand in the database) is clipped rather than refused */
                double v = sorted[i].v[k];
                const tpe_param *p = &s->params[k];
                if (p->fixed)
                    v = p->value;
                else if (p->type != TPE_CATEGORICAL)
                    v = v < p->low ? p->low : v > p->high ? p->high : v;
                pend[(size_t)i * (size_t)d + (size_t)k] = v;
            }
        free(sorted);
    }
    double v[SAMPLER_MAX_PARAMS];
    int rc = tpe_suggest(&s->space, &s->opt, s->obs, s->n, pend, pend ? n_pending : 0,
                         (uint64_t)point + 1, v, err);
    free(pend);
    if (rc) return rc;
    out->point = point;
    for (int k = 0; k < d; k++) out->v[k] = v[k];
    return 0;
}

/* A history point from the store (after a restart) whose coordinates fall
 * outside the space is left out rather than refused by tpe_suggest. */
static int in_space(const tpe_sampler *s, const sampler_point *x)
{
    for (int k = 0; k < s->space.n_params; k++) {
        const tpe_param *p = &s->params[k];
        if (p->fixed) continue;
        if (!isfinite(x->v[k]) || !param_valid(&s->base.space.p[k], x->v[k])) return 0;
    }
    return 1;
}

static void tpe_sampler_observe(sampler *base, const sampler_point *x, double value,
                                point_state state)
{
    tpe_sampler *s = (tpe_sampler *)base;
    if (state == POINT_FAILED || !in_space(s, x)) return;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        size_t d = (size_t)s->space.n_params;
        s->point = im_xrealloc(s->point, (size_t)cap * sizeof *s->point);
        s->x = im_xrealloc(s->x, (size_t)cap * d * sizeof *s->x);
        s->value = im_xrealloc(s->value, (size_t)cap * sizeof *s->value);
        s->state = im_xrealloc(s->state, (size_t)cap * sizeof *s->state);
        s->obs = im_xrealloc(s->obs, (size_t)cap * sizeof *s->obs);
        s->cap = cap;
    }
    int i = s->n;
    while (i > 0 && s->point[i - 1] > x->point) i--;
    if (i > 0 && s->point[i - 1] == x->point) return; /* NEVER: a point ends once */
    size_t d = (size_t)s->space.n_params;
    int tail = s->n - i;
    memmove(s->point + i + 1, s->point + i, (size_t)tail * sizeof *s->point);
    memmove(s->x + (size_t)(i + 1) * d, s->x + (size_t)i * d, (size_t)tail * d * sizeof *s->x);
    memmove(s->value + i + 1, s->value + i, (size_t)tail * sizeof *s->value);
    memmove(s->state + i + 1, s->state + i, (size_t)tail * sizeof *s->state);
    s->point[i] = x->point;
    for (size_t k = 0; k < d; k++) {
        const tpe_param *p = &s->params[k];
        s->x[(size_t)i * d + k] = p->fixed ? p->value : x->v[k];
    }
    s->value[i] = isfinite(value) ? value : (double)NAN;
    s->state[i] = state == POINT_PRUNED ? TPE_PRUNED : TPE_COMPLETE;
    s->n++;
}

static void tpe_sampler_destroy(sampler *base)
{
    tpe_sampler *s = (tpe_sampler *)base;
    free(s->point);
    free(s->x);
    free(s->value);
    free(s->state);
    free(s->obs);
    free(s);
}

static const sampler_ops tpe_ops = {.name = "tpe",
                                    .suggest = tpe_sampler_suggest,
                                    .observe = tpe_sampler_observe,
                                    .destroy = tpe_sampler_destroy};

static int tpe_create(sampler **out, const param_space *space, const im_campaign_spec *c,
                      im_error *err)
{
    *out = NULL;
    param_space check = {0};
    for (int i = 0; i < space->n; i++) {
        int rc = param_space_add(&check, &space->p[i], err);
        if (rc) return rc;
    }
    tpe_sampler *s = im_xcalloc(1, sizeof *s);
    s->base.ops = &tpe_ops;
    s->base.space = *space;
    s->base.seed = c->seed;
    for (int i = 0; i < space->n; i++) {
        const param_def *p = &s->base.space.p[i];
        tpe_param *q = &s->params[i]; /* its name points into s->base.space */
        switch (p->type) {
        case PARAM_FLOAT:
            *q = (tpe_param){.name = p->name, .type = TPE_FLOAT, .low = p->low, .high = p->high};
            break;
        case PARAM_LOG_FLOAT:
            *q = (tpe_param){
                .name = p->name, .type = TPE_FLOAT, .low = p->low, .high = p->high, .log = 1};
            break;
        case PARAM_INT:
            *q = (tpe_param){.name = p->name, .type = TPE_INT, .low = p->low, .high = p->high};
            break;
        case PARAM_CATEGORICAL:
            *q = (tpe_param){.name = p->name, .type = TPE_CATEGORICAL, .n_choices = p->n_choices};
            break;
        case PARAM_FIXED:
            *q = (tpe_param){.name = p->name,
                             .type = TPE_FLOAT,
                             .low = p->value,
                             .high = p->value,
                             .fixed = 1,
                             .value = p->value};
            break;
        }
    }
    s->space = (tpe_space){.n_params = space->n, .params = s->params};
    tpe_options_default(&s->opt);
    s->opt.n_startup_trials = c->tpe.n_startup_trials;
    s->opt.n_ei_candidates = c->tpe.n_ei_candidates;
    s->opt.multivariate = c->tpe.multivariate;
    s->opt.constant_liar = c->tpe.constant_liar;
    s->opt.prior_weight = c->tpe.prior_weight;
    s->opt.consider_endpoints = c->tpe.consider_endpoints;
    s->opt.maximize = 1; /* validation accuracy */
    s->opt.seed = c->seed;
    int rc = tpe_space_check(&s->space, err);
    if (!rc) rc = tpe_options_check(&s->opt, err);
    if (rc) {
        tpe_sampler_destroy(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

const sampler_def sampler_tpe_def = {
    .opt = {.name = "tpe", .keys = tpe_keys},
    .defaults = tpe_defaults,
    .set_option = tpe_set_option,
    .options_to_json = tpe_to_json,
    .create = tpe_create,
};
