/*
 * pruner_median.c: the median pruner. Per epoch, the completed trials'
 * accuracies are kept in two heaps (a max-heap of the lower half, a min-heap
 * of the upper half, sizes equal or the lower one larger by one), so the
 * median is read in O(1) and a value added in O(log n). The naive oracle
 * (sort, take the middle) is in tests/unit/test_pruner.c.
 */
#include "pruner.h"

#include <math.h>
#include <stdlib.h>

typedef struct heap {
    double *v;
    size_t n, cap;
    int max; /* 1: max-heap, 0: min-heap */
} heap;

typedef struct epoch_median {
    heap lo, hi; /* lo: max-heap of the lower half; hi: min-heap of the upper half */
} epoch_median;

struct pruner {
    im_pruner_spec spec;
    epoch_median *ep; /* [n_ep] */
    int n_ep;
    int completed;
};

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

pruner *pruner_new(const im_pruner_spec *spec)
{
    if (spec->kind != IM_PRUNER_MEDIAN) return NULL;
    pruner *p = im_xcalloc(1, sizeof *p);
    p->spec = *spec;
    return p;
}

void pruner_add(pruner *p, const double *val_acc, int n)
{
    if (!p) return;
    if (n > p->n_ep) {
        p->ep = im_xrealloc(p->ep, (size_t)n * sizeof *p->ep);
        for (int e = p->n_ep; e < n; e++) {
            p->ep[e] = (epoch_median){{NULL, 0, 0, 1}, {NULL, 0, 0, 0}};
        }
        p->n_ep = n;
    }
    for (int e = 0; e < n; e++)
        if (isfinite(val_acc[e])) median_add(&p->ep[e], val_acc[e]);
    p->completed++;
}

int pruner_completed(const pruner *p)
{
    return p ? p->completed : 0;
}

double pruner_median(const pruner *p, int epoch)
{
    if (!p || epoch < 0 || epoch >= p->n_ep) return NAN;
    return median_get(&p->ep[epoch]);
}

int pruner_should_stop(const pruner *p, int epoch, double best)
{
    if (!p) return 0;
    int warmup = p->spec.n_warmup_epochs > 1 ? p->spec.n_warmup_epochs : 1;
    if (epoch < warmup || p->completed < p->spec.n_startup_trials) return 0;
    double med = pruner_median(p, epoch);
    return isfinite(med) && isfinite(best) && best < med;
}

void pruner_free(pruner **pp)
{
    if (!pp || !*pp) return;
    pruner *p = *pp;
    for (int e = 0; e < p->n_ep; e++) {
        free(p->ep[e].lo.v);
        free(p->ep[e].hi.v);
    }
    free(p->ep);
    free(p);
    *pp = NULL;
}
