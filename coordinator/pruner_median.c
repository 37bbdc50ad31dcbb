/*
 * pruner_median.c: the median pruner ("median", as Optuna's MedianPruner).
 *
 * A running trial is pruned at epoch e when
 *  - e >= max(1, n_warmup_epochs) (epoch 0 is the untrained network, whose
 *    accuracy says nothing about the goal),
 *  - at least n_startup_trials trials of the campaign have completed, and at
 *    least one of them reported epoch e,
 *  - and the trial's best validation accuracy so far is below the median of
 *    the completed trials' validation accuracies at epoch e (the mean of the
 *    two middle values for an even count).
 * Completed means "done": failed and pruned trials do not count.
 *
 * Options ("pruner": {"name": "median", ...}):
 *   n_startup_trials  integer in 0..100000, default 5
 *   n_warmup_epochs   integer in 0..100000, default: half the campaign's
 *                     epochs, rounded down (5 of 10). Infomorphic networks
 *                     take off late: with the paper's optimised goal the
 *                     validation accuracy is 21 % after epoch 1 and 15 %
 *                     after epoch 2 before it climbs to 84 %, while goals
 *                     that start early and end worse are at 25 % after
 *                     epoch 2; once a search has found many of those, the
 *                     median of the early epochs would stop the best goals.
 *
 * Workload: one add per completed trial (O(epochs log n)) and one
 * should_stop per PROGRESS (O(1)), so pruning never re-reads the history.
 * Per epoch, the completed trials'
 * accuracies are kept in two heaps (a max-heap of the lower half, a min-heap
 * of the upper half, sizes equal or the lower one larger by one), so the
 * median is read in O(1) and a value added in O(log n). The naive oracle
 * (sort, take the middle) is in tests/unit/test_pruner.c.
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

typedef struct epoch_median {
    heap lo, hi; /* lo: max-heap of the lower half; hi: min-heap of the upper half */
} epoch_median;

typedef struct median_pruner {
    pruner head;
    epoch_median *ep; /* [n_ep] */
    int n_ep;
} median_pruner;

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

static void median_add(epoch_median *m, double x)
{
    if (m->lo.n == 0 || x <= m->lo.v[0])
        heap_push(&m->lo, x);
    else
        heap_push(&m->hi, x);
    if (m->lo.n > m->hi.n + 1)
        heap_push(&m->hi, heap_pop(&m->lo));
    else if (m->hi.n > m->lo.n)
        heap_push(&m->lo, heap_pop(&m->hi));
}

static double median_get(const epoch_median *m)
{
    if (m->lo.n == 0) return NAN;
    if (m->lo.n > m->hi.n) return m->lo.v[0];
    return 0.5 * (m->lo.v[0] + m->hi.v[0]);
}

static void median_pruner_add(pruner *base, const double *val_acc, int n)
{
    median_pruner *p = (median_pruner *)base;
    if (n > p->n_ep) {
        p->ep = im_xrealloc(p->ep, (size_t)n * sizeof *p->ep);
        for (int e = p->n_ep; e < n; e++) {
            p->ep[e] = (epoch_median){{NULL, 0, 0, 1}, {NULL, 0, 0, 0}};
        }
        p->n_ep = n;
    }
    for (int e = 0; e < n; e++)
        if (isfinite(val_acc[e])) median_add(&p->ep[e], val_acc[e]);
}

static double median_pruner_reference(const pruner *base, int epoch)
{
    const median_pruner *p = (const median_pruner *)base;
    if (epoch < 0 || epoch >= p->n_ep) return NAN;
    return median_get(&p->ep[epoch]);
}

static int median_pruner_should_stop(const pruner *p, int epoch, double best)
{
    int warmup = p->spec.n_warmup_epochs > 1 ? p->spec.n_warmup_epochs : 1;
    if (epoch < warmup || p->completed < p->spec.n_startup_trials) return 0;
    double med = median_pruner_reference(p, epoch);
    return isfinite(med) && isfinite(best) && best < med;
}

static void median_pruner_destroy(pruner *base)
{
    median_pruner *p = (median_pruner *)base;
    for (int e = 0; e < p->n_ep; e++) {
        free(p->ep[e].lo.v);
        free(p->ep[e].hi.v);
    }
    free(p->ep);
    free(p);
}

static const pruner_ops median_ops = {.add = median_pruner_add,
                                      .should_stop = median_pruner_should_stop,
                                      .reference = median_pruner_reference,
                                      .destroy = median_pruner_destroy};

static pruner *median_create(const im_pruner_spec *spec)
{
    median_pruner *p = im_xcalloc(1, sizeof *p);
    p->head.ops = &median_ops;
    p->head.spec = *spec;
    return &p->head;
}

/* ---- options ---- */

#define MAX_EPOCHS 100000

static const char *const median_keys[] = {"n_startup_trials", "n_warmup_epochs", NULL};

static void median_defaults(im_pruner_spec *p)
{
    p->n_startup_trials = 5;
    p->n_warmup_epochs = -1; /* median_campaign_defaults: half the epochs */
}

static void median_campaign_defaults(im_pruner_spec *p, int epochs)
{
    if (p->n_warmup_epochs < 0) p->n_warmup_epochs = epochs / 2;
}

static int median_set_option(im_pruner_spec *p, const char *key, const json_t *v, const char *field,
                             im_error *err)
{
    int *out = !strcmp(key, "n_startup_trials") ? &p->n_startup_trials : &p->n_warmup_epochs;
    return im_json_read_int32(v, "campaign", field, 0, MAX_EPOCHS, out, err);
}

static void median_to_json(const im_pruner_spec *p, json_t *obj)
{
    json_object_set_new(obj, "n_startup_trials", json_integer(p->n_startup_trials));
    json_object_set_new(obj, "n_warmup_epochs", json_integer(p->n_warmup_epochs));
}

const pruner_def pruner_median_def = {
    .opt = {.name = "median", .keys = median_keys},
    .defaults = median_defaults,
    .set_option = median_set_option,
    .options_to_json = median_to_json,
    .campaign_defaults = median_campaign_defaults,
    .create = median_create,
};
