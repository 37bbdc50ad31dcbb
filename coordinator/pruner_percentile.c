/*
 * pruner_percentile.c: the percentile pruner ("percentile", as Optuna's
 * PercentilePruner) and its special case the median pruner ("median", as
 * Optuna's MedianPruner: the percentile pruner keeping 50 %).
 *
 * A running trial is pruned at epoch e when
 *  - e >= max(1, n_warmup_epochs) (epoch 0 is the untrained network, whose
 *    accuracy says nothing about the goal),
 *  - at least n_startup_trials trials of the campaign have completed, and at
 *    least one of them reported epoch e,
 *  - and the trial's best validation accuracy so far is below the reference
 *    at epoch e: the (100 - percentile)-th percentile of the completed
 *    trials' validation accuracies at epoch e, linearly interpolated between
 *    the two nearest ranks (numpy's default, which Optuna uses): with the
 *    sorted values s[0..n-1] and r = (n - 1) (100 - percentile) / 100, the
 *    reference is s[floor(r)] (1 - f) + s[floor(r) + 1] f with
 *    f = r - floor(r). "percentile" is the share of trials kept, in Optuna's
 *    sense: 25 keeps the top quarter, 90 stops only the bottom tenth; the
 *    median keeps 50 % (the mean of the two middle values for an even
 *    count).
 * Completed means "done": failed and pruned trials do not count.
 *
 * Options ("pruner": {"name": "median" or "percentile", ...}):
 *   n_startup_trials  integer in 0..100000, default 5
 *   n_warmup_epochs   integer in 0..100000, default: half the campaign's
 *                     epochs, rounded down (5 of 10). Infomorphic networks
 *                     take off late: with the paper's optimised goal the
 *                     validation accuracy is 21 % after epoch 1 and 15 %
 *                     after epoch 2 before it climbs to 84 %, while goals
 *                     that start early and end worse are at 25 % after
 *                     epoch 2; once a search has found many of those, the
 *                     median of the early epochs would stop the best goals.
 *   percentile        ("percentile" only) a number in (0, 100], the share of
 *                     trials kept, default 90: replaying two unpruned
 *                     300-trial searches of infomorphic goals, the median
 *                     rule stopped most of the 10 best goals whatever the
 *                     warm-up short of 9 of 10 epochs, while keeping 90 %
 *                     with the default warm-up stopped none (README).
 *
 * Workload: one add per completed trial (O(epochs log n)) and one
 * should_stop per PROGRESS (O(1)), so pruning never re-reads the history.
 * Per epoch, the completed trials' accuracies are kept in two heaps split at
 * the reference's rank: a max-heap of the lowest floor(r) + 1 values and a
 * min-heap of the rest, so the two values the reference interpolates are the
 * two tops, read in O(1), and a value is added in O(log n). The naive oracle
 * (sort, interpolate) is in tests/unit/test_pruner.c.
 */
#include "pruner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct heap {
    double *v;
    size_t n, cap;
    int max; /* 1: max-heap, 0: min-heap */
} heap;

typedef struct epoch_split {
    heap lo, hi; /* lo: max-heap of the lowest floor(r) + 1; hi: min-heap of the rest */
} epoch_split;

typedef struct percentile_pruner {
    pruner head;
    double q;        /* the reference's rank as a fraction from the bottom, in [0, 1) */
    epoch_split *ep; /* [n_ep] */
    int n_ep;
} percentile_pruner;

static int before(const heap *h, double a, double b)
{
    return h->max ? a > b : a < b;
}

static void heap_push(heap *h, double x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = im_xrealloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    while (i > 0 && before(h, x, h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

static double heap_pop(heap *h)
{
    double top = h->v[0], x = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(h, h->v[c + 1], h->v[c])) c++;
        if (!before(h, h->v[c], x)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = x;
    return top;
}

/* The reference's position r = (n - 1) q among n sorted values. */
static double rank_of(size_t n, double q)
{
    return (double)(n - 1) * q;
}

static void split_add(epoch_split *m, double q, double x)
{
    if (m->lo.n == 0 || x <= m->lo.v[0])
        heap_push(&m->lo, x);
    else
        heap_push(&m->hi, x);
    /* lo holds floor(r) + 1 values; adding one value moves that by 0 or 1 */
    size_t want = (size_t)floor(rank_of(m->lo.n + m->hi.n, q)) + 1;
    while (m->lo.n > want) heap_push(&m->hi, heap_pop(&m->lo));
    while (m->lo.n < want && m->hi.n) heap_push(&m->lo, heap_pop(&m->hi));
}

static double split_get(const epoch_split *m, double q)
{
    if (m->lo.n == 0) return NAN;
    double r = rank_of(m->lo.n + m->hi.n, q), f = r - floor(r);
    if (f == 0 || m->hi.n == 0) return m->lo.v[0];
    return (1 - f) * m->lo.v[0] + f * m->hi.v[0];
}

static void percentile_add(pruner *base, const double *val_acc, int n)
{
    percentile_pruner *p = (percentile_pruner *)base;
    if (n > p->n_ep) {
        p->ep = im_xrealloc(p->ep, (size_t)n * sizeof *p->ep);
        for (int e = p->n_ep; e < n; e++) {
            p->ep[e] = (epoch_split){{NULL, 0, 0, 1}, {NULL, 0, 0, 0}};
        }
        p->n_ep = n;
    }
    for (int e = 0; e < n; e++)
        if (isfinite(val_acc[e])) split_add(&p->ep[e], p->q, val_acc[e]);
}

static double percentile_reference(const pruner *base, int epoch)
{
    const percentile_pruner *p = (const percentile_pruner *)base;
    if (epoch < 0 || epoch >= p->n_ep) return NAN;
    return split_get(&p->ep[epoch], p->q);
}

static int percentile_should_stop(const pruner *p, int epoch, double best)
{
    int warmup = p->spec.n_warmup_epochs > 1 ? p->spec.n_warmup_epochs : 1;
    if (epoch < warmup || p->completed < p->spec.n_startup_trials) return 0;
    double ref = percentile_reference(p, epoch);
    return isfinite(ref) && isfinite(best) && best < ref;
}

static void percentile_destroy(pruner *base)
{
    percentile_pruner *p = (percentile_pruner *)base;
    for (int e = 0; e < p->n_ep; e++) {
        free(p->ep[e].lo.v);
        free(p->ep[e].hi.v);
    }
    free(p->ep);
    free(p);
}

static const pruner_ops percentile_ops = {.add = percentile_add,
                                          .should_stop = percentile_should_stop,
                                          .reference = percentile_reference,
                                          .destroy = percentile_destroy};

static pruner *create_keeping(const im_pruner_spec *spec, double keep)
{
    percentile_pruner *p = im_xcalloc(1, sizeof *p);
    p->head.ops = &percentile_ops;
    p->head.spec = *spec;
    p->q = (100 - keep) / 100;
    return &p->head;
}

static pruner *median_create(const im_pruner_spec *spec)
{
    return create_keeping(spec, 50);
}

static pruner *percentile_create(const im_pruner_spec *spec)
{
    return create_keeping(spec, spec->percentile);
}

/* ---- options ---- */

#define MAX_EPOCHS 100000

static const char *const median_keys[] = {"n_startup_trials", "n_warmup_epochs", NULL};
static const char *const percentile_keys[] = {"n_startup_trials", "n_warmup_epochs", "percentile",
                                              NULL};

static void common_defaults(im_pruner_spec *p)
{
    p->n_startup_trials = 5;
    p->n_warmup_epochs = -1; /* campaign_defaults: half the epochs */
}

static void percentile_defaults(im_pruner_spec *p)
{
    common_defaults(p);
    p->percentile = 90;
}

static void campaign_defaults(im_pruner_spec *p, int epochs)
{
    if (p->n_warmup_epochs < 0) p->n_warmup_epochs = epochs / 2;
}

static int set_option(im_pruner_spec *p, const char *key, const json_t *v, const char *field,
                      im_error *err)
{
    if (!strcmp(key, "percentile")) {
        double keep;
        int rc = im_json_read_number(v, "campaign", field, 1, &keep, err);
        if (rc) return rc;
        if (keep > 100)
            return im_error_set(err, IM_ERANGE,
                                "campaign: '%s' must be a number in (0, 100], the share of "
                                "trials kept",
                                field);
        p->percentile = keep;
        return 0;
    }
    int *out = !strcmp(key, "n_startup_trials") ? &p->n_startup_trials : &p->n_warmup_epochs;
    return im_json_read_int32(v, "campaign", field, 0, MAX_EPOCHS, out, err);
}

static void median_to_json(const im_pruner_spec *p, json_t *obj)
{
    json_object_set_new(obj, "n_startup_trials", json_integer(p->n_startup_trials));
    json_object_set_new(obj, "n_warmup_epochs", json_integer(p->n_warmup_epochs));
}

static void percentile_to_json(const im_pruner_spec *p, json_t *obj)
{
    median_to_json(p, obj);
    json_object_set_new(obj, "percentile", json_real(p->percentile));
}

const pruner_def pruner_median_def = {
    .opt = {.name = "median", .keys = median_keys},
    .defaults = common_defaults,
    .set_option = set_option,
    .options_to_json = median_to_json,
    .campaign_defaults = campaign_defaults,
    .create = median_create,
};

const pruner_def pruner_percentile_def = {
    .opt = {.name = "percentile", .keys = percentile_keys},
    .defaults = percentile_defaults,
    .set_option = set_option,
    .options_to_json = percentile_to_json,
    .campaign_defaults = campaign_defaults,
    .create = percentile_create,
};
