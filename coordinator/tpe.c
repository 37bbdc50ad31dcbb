/*
 * tpe.c: the Tree-structured Parzen Estimator (see tpe.h for the behaviour).
 *
 * Inside, a parameter that is not fixed is a "dimension" in model space: the
 * value itself, or its log for log parameters. Dimensions are ordered by
 * kind (continuous, then integer, then categorical) so that the scoring
 * loops do not branch on the kind. A group (good or bad) is a mixture of
 * k = n + 1 product kernels (n observations, then the prior) held as flat
 * [k][dims] arrays of centres, inverse bandwidths and normalising constants,
 * computed once per call; scoring a batch of candidates walks the components
 * once, each component's row against every candidate, with a running
 * log-sum-exp per candidate.
 */
#include "tpe.h"

#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

/* The factor on Scott's rule in the multivariate bandwidth (see
 * multivariate_sigma). Scott's own rule is 1; 0.7 keeps candidates closer to
 * the good points. Over 30 seeds it found better points than 1 in 10 to 30
 * dimensions (shifted sphere, Rosenbrock, Rastrigin; on Ackley slightly worse), while
 * in 4 to 8 dimensions 1 and the neighbour rule did better. bench_tpe prints
 * the 18-dimensional figures. */
#define TPE_SCOTT_FACTOR 0.7

enum { DIM_CONT = 0, DIM_DISC = 1, DIM_CAT = 2 };

/* One modelled parameter. */
typedef struct tdim {
    int param;        /* index in the space */
    int kind;         /* DIM_CONT, DIM_DISC or DIM_CAT */
    int log;          /* model value = log of the value */
    double low, high; /* the parameter's bounds (CONT, DISC) */
    double lo, hi;    /* the kernels' truncation in model space (DISC: half a step wider) */
    int n_choices;    /* DIM_CAT */
    int cat_off;      /* DIM_CAT: offset of its choices in a component's row */
} tdim;

/* The modelled dimensions: d[0..ncont) continuous, then ndisc integer, then
 * ncat categorical; cat_total choices over all categorical dimensions. */
typedef struct layout {
    tdim *d; /* [nd] */
    int nd, ncont, ndisc, ncat, cat_total;
} layout;

/* A mixture of product kernels over a layout's dimensions. */
typedef struct mixture {
    int k;        /* components: observations, then the prior */
    double *logw; /* [k] log of the normalised weight */
    double *mu;   /* [k][nnum] centres in model space, nnum = ncont + ndisc */
    double *sig;  /* [k][nnum] bandwidths */
    double *isig; /* [k][nnum] 1 / sig */
    double *lz;   /* [k][nnum] log of the kernel's mass on [lo, hi] */
    double *cst;  /* [k] logw + sum over continuous dims of -log sig - lz - log sqrt(2 pi) */
    double *clp;  /* [k][cat_total] log probability of each choice */
} mixture;

/* Candidates drawn from the good group, in a layout's dimension order. */
typedef struct cands {
    int n;
    double *x;  /* [n][nd] the values (CAT: the index) */
    double *y0; /* [n][nd] CONT: model value; DISC: model value of x - 1/2; CAT: index */
    double *y1; /* [n][nd] DISC: model value of x + 1/2 */
} cands;

/* A sort record: an order-preserving key of a double and an index. */
typedef struct srec {
    uint64_t key;
    int i;
} srec;

/* ---- option defaults --------------------------------------------------------------------- */

void tpe_options_default(tpe_options *o)
{
    memset(o, 0, sizeof *o);
    o->n_startup_trials = 10;
    o->n_ei_candidates = 24;
    o->multivariate = 1;
    o->constant_liar = 1;
    o->prior_weight = 1.0;
    o->consider_endpoints = 0;
    o->maximize = 0;
    o->gamma = NULL;
    o->weights = NULL;
    o->seed = 0;
}

int tpe_gamma_default(int n)
{
    if (n <= 0) return 0;
    int g = n / 10 + (n % 10 != 0); /* ceil(0.1 n) */
    return g < 25 ? g : 25;
}

void tpe_weights_default(int n, double *w)
{
    if (n < 25) {
        for (int i = 0; i < n; i++) w[i] = 1.0;
        return;
    }
    int ramp = n - 25; /* linspace(1/n, 1, ramp) */
    for (int i = 0; i < ramp; i++)
        w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (ramp - 1);
    for (int i = ramp; i < n; i++) w[i] = 1.0;
}

/* ---- checks ------------------------------------------------------------------------------ */

static const char *pname(const tpe_param *p, int i, char *buf, size_t size)
{
    if (p->name) return p->name;
    snprintf(buf, size, "#%d", i);
    return buf;
}

static int is_integral(double v)
{
    return isfinite(v) && v == floor(v);
}

/* 1 if parameter p is fixed, its value in *v */
static int param_fixed(const tpe_param *p, double *v)
{
    if (p->fixed) {
        *v = p->value;
        return 1;
    }
    if (p->type == TPE_CATEGORICAL) {
        *v = 0;
        return p->n_choices == 1;
    }
    *v = p->low;
    return p->low == p->high;
}

int tpe_space_check(const tpe_space *space, im_error *err)
{
    if (!space || space->n_params < 1 || !space->params)
        return im_error_set(err, IM_EINVAL, "tpe: the space has no parameters");
    for (int i = 0; i < space->n_params; i++) {
        const tpe_param *p = &space->params[i];
        char buf[16];
        const char *nm = pname(p, i, buf, sizeof buf);
        if (p->type == TPE_CATEGORICAL) {
            if (p->n_choices < 1)
                return im_error_set(err, IM_EINVAL, "tpe: parameter '%s' has %d choices", nm,
                                    p->n_choices);
            if (p->fixed && !(is_integral(p->value) && p->value >= 0 && p->value < p->n_choices))
                return im_error_set(err, IM_EINVAL,
                                    "tpe: parameter '%s' is fixed to %g, not a choice index", nm,
                                    p->value);
            continue;
        }
        if (p->type != TPE_FLOAT && p->type != TPE_INT)
            return im_error_set(err, IM_EINVAL, "tpe: parameter '%s' has unknown type %d", nm,
                                (int)p->type);
        if (p->fixed) {
            if (!isfinite(p->value) || (p->type == TPE_INT && !is_integral(p->value)))
                return im_error_set(err, IM_EINVAL, "tpe: parameter '%s' is fixed to %g", nm,
                                    p->value);
            continue;
        }
        if (!isfinite(p->low) || !isfinite(p->high) || !(p->low <= p->high) ||
            !isfinite(p->high - p->low))
            return im_error_set(err, IM_EINVAL, "tpe: parameter '%s' has bounds [%g, %g]", nm,
                                p->low, p->high);
        if (p->type == TPE_INT && (!is_integral(p->low) || !is_integral(p->high)))
            return im_error_set(err, IM_EINVAL,
                                "tpe: integer parameter '%s' has bounds [%g, %g], not integers", nm,
                                p->low, p->high);
        if (p->log && !(p->low > 0))
            return im_error_set(err, IM_EINVAL, "tpe: log parameter '%s' has low = %g, must be > 0",
                                nm, p->low);
    }
    return 0;
}

int tpe_options_check(const tpe_options *opt, im_error *err)
{
    if (!opt) return im_error_set(err, IM_EINVAL, "tpe: no options");
    if (opt->n_startup_trials < 0)
        return im_error_set(err, IM_EINVAL, "tpe: n_startup_trials = %d, must be >= 0",
                            opt->n_startup_trials);
    if (opt->n_ei_candidates < 1)
        return im_error_set(err, IM_EINVAL, "tpe: n_ei_candidates = %d, must be >= 1",
                            opt->n_ei_candidates);
    if (!isfinite(opt->prior_weight) || opt->prior_weight < 0)
        return im_error_set(err, IM_EINVAL, "tpe: prior_weight = %g, must be >= 0",
                            opt->prior_weight);
    return 0;
}

/* A point's modelled coordinates must lie in the space. */
static int check_point(const tpe_space *space, const double *x, const char *what, int index,
                       im_error *err)
{
    if (!x) return im_error_set(err, IM_EINVAL, "tpe: %s %d has no coordinates", what, index);
    for (int i = 0; i < space->n_params; i++) {
        const tpe_param *p = &space->params[i];
        double fv;
        if (param_fixed(p, &fv)) continue;
        double v = x[i];
        int ok;
        if (p->type == TPE_CATEGORICAL)
            ok = is_integral(v) && v >= 0 && v < p->n_choices;
        else
            ok = isfinite(v) && v >= p->low && v <= p->high &&
                 (p->type != TPE_INT || is_integral(v));
        if (!ok) {
            char buf[16];
            return im_error_set(err, IM_EINVAL, "tpe: %s %d has '%s' = %g, outside the space", what,
                                index, pname(p, i, buf, sizeof buf), v);
        }
    }
    return 0;
}

static int check_inputs(const tpe_space *space, const tpe_options *opt, const tpe_obs *hist,
                        int n_hist, const double *pending, int n_pending, im_error *err)
{
    int rc = tpe_space_check(space, err);
    if (!rc) rc = tpe_options_check(opt, err);
    if (rc) return rc;
    if (n_hist < 0 || n_pending < 0 || (n_hist > 0 && !hist) || (n_pending > 0 && !pending))
        return im_error_set(err, IM_EINVAL, "tpe: %d finished and %d pending points", n_hist,
                            n_pending);
    for (int i = 0; i < n_hist; i++) {
        if (hist[i].state != TPE_COMPLETE && hist[i].state != TPE_PRUNED)
            return im_error_set(err, IM_EINVAL, "tpe: finished point %d has state %d", i,
                                (int)hist[i].state);
        if ((rc = check_point(space, hist[i].x, "finished point", i, err))) return rc;
    }
    if (opt->constant_liar)
        for (int i = 0; i < n_pending; i++)
            if ((rc = check_point(space, pending + (size_t)i * space->n_params, "pending point", i,
                                  err)))
                return rc;
    return 0;
}

/* ---- sorting ----------------------------------------------------------------------------- */

/* The bits of v as an unsigned number that sorts as v does (-0 as +0). */
static uint64_t sort_key(double v)
{
    uint64_t u;
    v += 0.0;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* Sort a[n] by key, stably (equal keys keep their order), tmp has room for
 * n. An LSD radix sort by bytes, skipping the bytes all keys share: O(n)
 * passes instead of a comparison sort's O(n log n) mispredicted branches;
 * sorting the centres of every dimension was the largest cost of a call. */
static void srec_sort(srec *a, srec *tmp, int n)
{
    if (n < 2) return;
    uint64_t all_or = 0, all_and = ~UINT64_C(0);
    for (int i = 0; i < n; i++) {
        all_or |= a[i].key;
        all_and &= a[i].key;
    }
    uint64_t differ = all_or ^ all_and;
    srec *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        if (!((differ >> shift) & 0xff)) continue;
        int count[257] = {0};
        for (int i = 0; i < n; i++) count[((src[i].key >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (int i = 0; i < n; i++) dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
        srec *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, (size_t)n * sizeof *a);
}

/* ---- the split --------------------------------------------------------------------------- */

/* Good group of hist[n]: indices in history order into below (room for n),
 * their number returned. recs and tmp have room for n each. The ranking:
 * complete numbers, complete NaNs, pruned numbers, pruned NaNs; by value
 * within a class; by history order on ties. */
static int split(const tpe_options *opt, const tpe_obs *hist, int n, int *below, srec *recs,
                 srec *tmp)
{
    int nb = opt->gamma ? opt->gamma(n) : tpe_gamma_default(n);
    if (nb < 0) nb = 0;
    if (nb > n) nb = n;
    int got = 0;
    for (int cls = 0; cls < 4 && got < nb; cls++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            double v = hist[i].value;
            if (2 * (hist[i].state == TPE_PRUNED) + (isnan(v) != 0) != cls) continue;
            recs[m].key = isnan(v) ? 0 : sort_key(opt->maximize ? -v : v);
            recs[m++].i = i;
        }
        srec_sort(recs, tmp, m);
        for (int t = 0; t < m && got < nb; t++) below[got++] = recs[t].i;
    }
    /* history order */
    for (int t = 0; t < nb; t++) recs[t] = (srec){.key = (uint64_t)below[t], .i = below[t]};
    srec_sort(recs, tmp, nb);
    for (int t = 0; t < nb; t++) below[t] = recs[t].i;
    return nb;
}

int tpe_split(const tpe_options *opt, const tpe_obs *hist, int n_hist, int *below, int *n_below,
              im_error *err)
{
    if (!opt || n_hist < 0 || (n_hist > 0 && (!hist || !below)))
        return im_error_set(err, IM_EINVAL, "tpe: split of %d points", n_hist);
    srec *recs = im_xmalloc_array((size_t)n_hist + 1, 2 * sizeof *recs);
    *n_below = split(opt, hist, n_hist, below, recs, recs + n_hist + 1);
    free(recs);
    return 0;
}

/* ---- numerics ---------------------------------------------------------------------------- */

/* log Q(z) = log P(N(0,1) > z) for z >= 0; the asymptotic series where
 * erfc would underflow. */
static double log_q(double z)
{
    if (z < 30) return log(0.5 * erfc(z * M_SQRT1_2));
    double z2 = 1.0 / (z * z);
    return -0.5 * z * z - log(z) - LOG_SQRT_2PI + log1p(z2 * (-1 + z2 * (3 - 15 * z2)));
}

/* Beyond TAIL_Z standard deviations a tail holds less than 1.2e-19 of the
 * mass: counted as none (log(1 - 1e-19) is 0 to double precision). */
#define TAIL_Z 9.0

/* log P(a < N(0,1) < b) for a < b, accurate in both tails. */
static double log_mass(double a, double b)
{
    if (a >= 0) {
        double la = log_q(a), lb = log_q(b);
        return la + log1p(-exp(lb - la));
    }
    if (b <= 0) {
        double la = log_q(-b), lb = log_q(-a);
        return la + log1p(-exp(lb - la));
    }
    double out = (a > -TAIL_Z ? erfc(-a * M_SQRT1_2) : 0) + (b < TAIL_Z ? erfc(b * M_SQRT1_2) : 0);
    return out > 0 ? log1p(-0.5 * out) : 0.0;
}

/* A normal draw truncated to [lo, hi] by rejection. The kernels' centres lie
 * in [lo, hi] and their bandwidths are at most hi - lo, so at least a third
 * of the draws are accepted; the fallback is for safety only. */
static double trunc_normal(im_rng *r, double mu, double sig, double lo, double hi)
{
    for (int t = 0; t < 10000; t++) {
        double y = mu + sig * im_rng_normal(r);
        if (y >= lo && y <= hi) return y;
    }
    return mu < lo ? lo : mu > hi ? hi : mu;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- layout ------------------------------------------------------------------------------ */

static double to_model(const tdim *d, double x)
{
    return d->log ? log(x) : x;
}

/* The modelled dimension of parameter i (not fixed). */
static tdim dim_of(const tpe_param *p, int i)
{
    tdim d = {.param = i, .log = p->log != 0, .low = p->low, .high = p->high};
    if (p->type == TPE_CATEGORICAL) {
        d.kind = DIM_CAT;
        d.log = 0;
        d.n_choices = p->n_choices;
        d.low = 0;
        d.high = p->n_choices - 1;
    } else if (p->type == TPE_INT) {
        d.kind = DIM_DISC;
        d.lo = to_model(&d, p->low - 0.5);
        d.hi = to_model(&d, p->high + 0.5);
    } else {
        d.kind = DIM_CONT;
        d.lo = to_model(&d, p->low);
        d.hi = to_model(&d, p->high);
    }
    return d;
}

/* Lay out the dimensions src[n] into out (room for n) ordered by kind. */
static void layout_make(layout *L, tdim *out, const tdim *src, int n)
{
    L->d = out;
    L->nd = n;
    L->ncont = L->ndisc = L->ncat = L->cat_total = 0;
    int o = 0;
    for (int kind = DIM_CONT; kind <= DIM_CAT; kind++)
        for (int i = 0; i < n; i++) {
            if (src[i].kind != kind) continue;
            out[o] = src[i];
            if (kind == DIM_CONT) L->ncont++;
            if (kind == DIM_DISC) L->ndisc++;
            if (kind == DIM_CAT) {
                out[o].cat_off = L->cat_total;
                L->cat_total += src[i].n_choices;
                L->ncat++;
            }
            o++;
        }
}

/* ---- mixtures ---------------------------------------------------------------------------- */

/* Room for up to kmax components over layout L (one allocation). */
static void mixture_init(mixture *m, const layout *L, int kmax)
{
    size_t nnum = (size_t)(L->ncont + L->ndisc), k = (size_t)kmax;
    size_t total = 2 * k + 4 * k * nnum + k * (size_t)L->cat_total;
    double *p = im_xmalloc_array(total ? total : 1, sizeof *p);
    m->k = 0;
    m->logw = p;
    m->cst = p + k;
    m->mu = m->cst + k;
    m->sig = m->mu + k * nnum;
    m->isig = m->sig + k * nnum;
    m->lz = m->isig + k * nnum;
    m->clp = m->lz + k * nnum;
}

static void mixture_release(mixture *m)
{
    free(m->logw);
    memset(m, 0, sizeof *m);
}

/* Work space of mixture_build for groups of up to n observations. */
typedef struct build_ws {
    double *w;        /* [n + 1] */
    srec *recs, *tmp; /* [n + 1] each */
} build_ws;

/* The components' log weights into m->logw[n + 1]: the rule's for the n
 * observations, then the prior's (w[n + 1] is work space). Returns 0 or
 * IM_EINVAL (a weight not finite or negative, or a sum not > 0). */
static int mixture_weights(mixture *m, const tpe_options *opt, int n, double *w, im_error *err)
{
    int k = n + 1;
    if (n == 0) {
        w[0] = 1.0;
    } else {
        if (opt->weights)
            opt->weights(n, w);
        else
            tpe_weights_default(n, w);
        w[n] = opt->prior_weight;
    }
    double sum = 0;
    for (int i = 0; i < k; i++) {
        if (!isfinite(w[i]) || w[i] < 0)
            return im_error_set(err, IM_EINVAL, "tpe: weight %d of %d is %g", i, n, w[i]);
        sum += w[i];
    }
    if (!(sum > 0) || !isfinite(sum))
        return im_error_set(err, IM_EINVAL, "tpe: the weights of %d points sum to %g", n, sum);
    for (int i = 0; i < k; i++) m->logw[i] = log(w[i] / sum);
    return 0;
}

/* The bandwidth of every observation's kernel in a multivariate model of n
 * observations over nd dimensions, in a dimension of the given range where
 * the observations' centres are y[0], y[stride], ..., y[(n - 1) stride]:
 * Scott's rule TPE_SCOTT_FACTOR sd n^(-1 / (nd + 4)), sd the centres'
 * sample standard deviation (for fewer than two observations, the uniform
 * distribution's on the range, range / sqrt 12), clipped to
 * [range / min(n + 2, 100), range]. */
static double multivariate_sigma(const double *y, size_t stride, int n, int nd, double range)
{
    double sd = range / sqrt(12.0);
    if (n >= 2) {
        double mean = 0, ss = 0;
        for (int i = 0; i < n; i++) mean += y[(size_t)i * stride];
        mean /= n;
        for (int i = 0; i < n; i++)
            ss += (y[(size_t)i * stride] - mean) * (y[(size_t)i * stride] - mean);
        sd = sqrt(ss / (n - 1));
    }
    double minsig = range / (n + 2 < 100 ? n + 2 : 100);
    double sg = TPE_SCOTT_FACTOR * sd * pow(n > 1 ? n : 1, -1.0 / (nd + 4));
    return clampd(sg, minsig, range);
}

/* Numerical dimension j: the components' centres (the observations, then
 * the prior's at the middle) and their bandwidths; the prior's bandwidth is
 * the range. Multivariate: the one bandwidth of multivariate_sigma for all
 * the observations.
 * Univariate: the neighbour rule, clamped to [range / min(n + 2, 100),
 * range]. */
static void mixture_numeric_dim(mixture *m, const layout *L, const tpe_options *opt,
                                const double *const *rows, int n, build_ws *ws, int j)
{
    int k = n + 1, nnum = L->ncont + L->ndisc;
    const tdim *d = &L->d[j];
    double range = d->hi - d->lo, prior_mu = 0.5 * (d->lo + d->hi);
    double *mu = m->mu;
    for (int i = 0; i < n; i++) mu[(size_t)i * nnum + j] = to_model(d, rows[i][d->param]);
    mu[(size_t)n * nnum + j] = prior_mu;
    m->sig[(size_t)n * nnum + j] = range;
    if (opt->multivariate) {
        double sg = multivariate_sigma(mu + j, (size_t)nnum, n, L->nd, range);
        for (int i = 0; i < n; i++) m->sig[(size_t)i * nnum + j] = sg;
        return;
    }
    double minsig = range / (n + 2 < 100 ? n + 2 : 100), maxsig = range;
    srec *s = ws->recs;
    for (int i = 0; i < k; i++) s[i] = (srec){.key = sort_key(mu[(size_t)i * nnum + j]), .i = i};
    srec_sort(s, ws->tmp, k);
#define MU_AT(t) mu[(size_t)s[t].i * nnum + j]
    for (int t = 0; t < k; t++) {
        double left = MU_AT(t) - (t > 0 ? MU_AT(t - 1) : d->lo);
        double right = (t + 1 < k ? MU_AT(t + 1) : d->hi) - MU_AT(t);
        double sg = left > right ? left : right;
        if (!opt->consider_endpoints && k >= 2) {
            if (t == 0) sg = right;
            if (t == k - 1) sg = left;
        }
        int i = s[t].i;
        if (i < n) m->sig[(size_t)i * nnum + j] = clampd(sg, minsig, maxsig);
    }
#undef MU_AT
}

/* Per component: inverse bandwidths, truncation masses and the constant of
 * its log density (log weight and the continuous dimensions' normalisers). */
static void mixture_constants(mixture *m, const layout *L)
{
    int nnum = L->ncont + L->ndisc;
    for (int i = 0; i < m->k; i++) {
        double c = m->logw[i];
        for (int j = 0; j < nnum; j++) {
            const tdim *d = &L->d[j];
            size_t o = (size_t)i * nnum + j;
            double mu = m->mu[o], sg = m->sig[o];
            m->isig[o] = 1.0 / sg;
            m->lz[o] = log_mass((d->lo - mu) / sg, (d->hi - mu) / sg);
            if (d->kind == DIM_CONT) c += -log(sg) - m->lz[o] - LOG_SQRT_2PI;
        }
        m->cst[i] = c;
    }
}

/* Categorical dimensions: prior_weight / k on every choice, + 1 on the
 * observed one, normalised; the prior component is uniform. */
static void mixture_categorical(mixture *m, const layout *L, const tpe_options *opt,
                                const double *const *rows, int n)
{
    int k = n + 1;
    for (int j = L->ncont + L->ndisc; j < L->nd; j++) {
        const tdim *d = &L->d[j];
        int nc = d->n_choices;
        double base = opt->prior_weight / k, tot = base * nc + 1.0;
        double lbase = log(base / tot), lhit = log((base + 1.0) / tot), luni = -log((double)nc);
        for (int i = 0; i < k; i++) {
            double *row = m->clp + (size_t)i * L->cat_total + d->cat_off;
            if (i == n) {
                for (int c = 0; c < nc; c++) row[c] = luni;
                continue;
            }
            int hit = (int)rows[i][d->param];
            for (int c = 0; c < nc; c++) row[c] = c == hit ? lhit : lbase;
        }
    }
}

/* Build the mixture of the observations rows[n] (points in the space's
 * order, oldest first) over the dimensions of L. Returns 0 or IM_EINVAL (bad
 * weights). */
static int mixture_build(mixture *m, const layout *L, const tpe_options *opt,
                         const double *const *rows, int n, build_ws *ws, im_error *err)
{
    m->k = n + 1;
    int rc = mixture_weights(m, opt, n, ws->w, err);
    if (rc) return rc;
    for (int j = 0; j < L->ncont + L->ndisc; j++) mixture_numeric_dim(m, L, opt, rows, n, ws, j);
    mixture_constants(m, L);
    mixture_categorical(m, L, opt, rows, n);
    return 0;
}

/* A term exp(s - max) below 2^-54 cannot change a running sum >= 1: skipped
 * (exactly the same result, and no exp for far components). */
#define LSE_SKIP (-37.5)

/* log density of each candidate under the mixture into out[c->n]; run[2 n]
 * is work space. Components outer, candidates inner: each component's row
 * is read once. A running log-sum-exp per candidate (max, scaled sum). */
static void mixture_logpdf(const mixture *m, const layout *L, const cands *c, double *out,
                           double *run)
{
    int nnum = L->ncont + L->ndisc, nd = L->nd;
    double *mx = run, *sum = run + c->n;
    for (int q = 0; q < c->n; q++) {
        mx[q] = -INFINITY;
        sum[q] = 0;
    }
    for (int i = 0; i < m->k; i++) {
        const double *mu = m->mu + (size_t)i * nnum, *is = m->isig + (size_t)i * nnum;
        const double *lz = m->lz + (size_t)i * nnum, *clp = m->clp + (size_t)i * L->cat_total;
        for (int q = 0; q < c->n; q++) {
            const double *y0 = c->y0 + (size_t)q * nd, *y1 = c->y1 + (size_t)q * nd;
            double s = 0;
            for (int j = 0; j < L->ncont; j++) {
                double t = (y0[j] - mu[j]) * is[j];
                s += t * t;
            }
            s = m->cst[i] - 0.5 * s;
            for (int j = L->ncont; j < nnum; j++)
                s += log_mass((y0[j] - mu[j]) * is[j], (y1[j] - mu[j]) * is[j]) - lz[j];
            for (int j = nnum; j < nd; j++) s += clp[L->d[j].cat_off + (int)y0[j]];
            if (s > mx[q]) {
                sum[q] = sum[q] * exp(mx[q] - s) + 1.0;
                mx[q] = s;
            } else if (s - mx[q] > LSE_SKIP) {
                sum[q] += exp(s - mx[q]);
            }
        }
    }
    for (int q = 0; q < c->n; q++) out[q] = mx[q] == -INFINITY ? -INFINITY : mx[q] + log(sum[q]);
}

/* ---- candidates -------------------------------------------------------------------------- */

static void cands_init(cands *c, int n, int nd)
{
    size_t sz = (size_t)n * (size_t)(nd ? nd : 1);
    c->n = n;
    c->x = im_xmalloc_array(3 * sz, sizeof *c->x);
    c->y0 = c->x + sz;
    c->y1 = c->y0 + sz;
}

static void cands_release(cands *c)
{
    free(c->x);
    memset(c, 0, sizeof *c);
}

/* Set candidate q's coordinate j to value x (in the space), with its model
 * representation. */
static void cand_set(cands *c, const layout *L, int q, int j, double x)
{
    const tdim *d = &L->d[j];
    size_t o = (size_t)q * L->nd + j;
    c->x[o] = x;
    if (d->kind == DIM_CONT) {
        c->y0[o] = to_model(d, x);
    } else if (d->kind == DIM_DISC) {
        c->y0[o] = to_model(d, x - 0.5);
        c->y1[o] = to_model(d, x + 0.5);
    } else {
        c->y0[o] = x;
    }
}

/* Draw c->n candidates from mixture m. */
static void cands_draw(cands *c, const layout *L, const mixture *m, im_rng *r)
{
    int nnum = L->ncont + L->ndisc;
    for (int q = 0; q < c->n; q++) {
        /* the component, by weight */
        double u = im_rng_uniform(r), acc = 0;
        int i = m->k - 1;
        for (int t = 0; t < m->k; t++) {
            acc += exp(m->logw[t]);
            if (u < acc) {
                i = t;
                break;
            }
        }
        for (int j = 0; j < L->nd; j++) {
            const tdim *d = &L->d[j];
            double x;
            if (j < nnum) {
                size_t o = (size_t)i * nnum + j;
                double y = trunc_normal(r, m->mu[o], m->sig[o], d->lo, d->hi);
                x = d->log ? exp(y) : y;
                if (d->kind == DIM_DISC) x = round(x);
                x = clampd(x, d->low, d->high);
            } else {
                const double *row = m->clp + (size_t)i * L->cat_total + d->cat_off;
                double v = im_rng_uniform(r), a = 0;
                int ch = d->n_choices - 1;
                for (int t = 0; t < d->n_choices; t++) {
                    a += exp(row[t]);
                    if (v < a) {
                        ch = t;
                        break;
                    }
                }
                x = ch;
            }
            cand_set(c, L, q, j, x);
        }
    }
}

/* ---- the estimator ----------------------------------------------------------------------- */

/* Everything one call needs, allocated once. */
typedef struct tpe_run {
    const tpe_space *space;
    const tpe_options *opt;
    tdim *all; /* [n_all] the modelled dimensions, space order */
    int n_all;
    tdim *sub;            /* [n_all] a layout's dimensions */
    const double **below; /* [n_below] good rows, history order */
    int n_below;
    const double **above; /* [n_above] bad rows: history order, then pending */
    int n_above;
    build_ws ws; /* for groups of up to n_above observations */
    int *idx;    /* [n_hist] */
} tpe_run;

static void run_release(tpe_run *R)
{
    free(R->all);
    free(R->below);
    free(R->ws.w);
    free(R->ws.recs);
    free(R->idx);
    memset(R, 0, sizeof *R);
}

/* Dimensions, split and groups. */
static void run_init(tpe_run *R, const tpe_space *space, const tpe_options *opt,
                     const tpe_obs *hist, int n_hist, const double *pending, int n_pending)
{
    memset(R, 0, sizeof *R);
    R->space = space;
    R->opt = opt;
    int np = space->n_params;
    R->all = im_xmalloc_array((size_t)np * 2, sizeof *R->all);
    R->sub = R->all + np;
    for (int i = 0; i < np; i++) {
        double v;
        if (!param_fixed(&space->params[i], &v)) R->all[R->n_all++] = dim_of(&space->params[i], i);
    }
    int n_pend = opt->constant_liar ? n_pending : 0;
    size_t rows = (size_t)n_hist + (size_t)n_pend;
    R->below = im_xmalloc_array(rows + 1, sizeof *R->below);
    R->ws.w = im_xmalloc_array(rows + 2, sizeof *R->ws.w);
    R->ws.recs = im_xmalloc_array(rows + 2, 2 * sizeof *R->ws.recs);
    R->ws.tmp = R->ws.recs + rows + 2;
    R->idx = im_xmalloc_array((size_t)n_hist + 1, sizeof *R->idx);

    int nb = split(opt, hist, n_hist, R->idx, R->ws.recs, R->ws.tmp);
    R->n_below = nb;
    /* below rows then above rows, in one array */
    R->above = R->below + nb;
    int b = 0;
    for (int i = 0; i < n_hist; i++) {
        if (b < nb && R->idx[b] == i) {
            R->below[b++] = hist[i].x;
            continue;
        }
        R->above[R->n_above++] = hist[i].x;
    }
    for (int i = 0; i < n_pend; i++) R->above[R->n_above++] = pending + (size_t)i * np;
}

/* Both groups' mixtures over the dimensions src[n]; the layout in *L. */
static int run_models(tpe_run *R, const tdim *src, int n, layout *L, mixture *lm, mixture *gm,
                      im_error *err)
{
    layout_make(L, R->sub, src, n);
    mixture_init(lm, L, R->n_below + 1);
    mixture_init(gm, L, R->n_above + 1);
    int rc = mixture_build(lm, L, R->opt, R->below, R->n_below, &R->ws, err);
    if (!rc) rc = mixture_build(gm, L, R->opt, R->above, R->n_above, &R->ws, err);
    return rc;
}

/* Propose the dimensions src[n] jointly into out. */
static int propose(tpe_run *R, const tdim *src, int n, im_rng *r, double *out, im_error *err)
{
    layout L;
    mixture lm, gm;
    int rc = run_models(R, src, n, &L, &lm, &gm, err);
    if (!rc) {
        int C = R->opt->n_ei_candidates;
        cands c;
        cands_init(&c, C, L.nd);
        double *ll = im_xmalloc_array((size_t)C * 4, sizeof *ll), *lg = ll + C, *run = lg + C;
        cands_draw(&c, &L, &lm, r);
        mixture_logpdf(&lm, &L, &c, ll, run);
        mixture_logpdf(&gm, &L, &c, lg, run);
        int best = 0;
        double best_score = -INFINITY;
        for (int q = 0; q < C; q++) {
            double s = ll[q] - lg[q];
            if (s > best_score) {
                best_score = s;
                best = q;
            }
        }
        for (int j = 0; j < L.nd; j++) out[L.d[j].param] = c.x[(size_t)best * L.nd + j];
        free(ll);
        cands_release(&c);
    }
    mixture_release(&lm);
    mixture_release(&gm);
    return rc;
}

/* log l(x) - log g(x) over the dimensions src[n]. */
static int score_point(tpe_run *R, const tdim *src, int n, const double *x, double *score,
                       im_error *err)
{
    layout L;
    mixture lm, gm;
    int rc = run_models(R, src, n, &L, &lm, &gm, err);
    if (!rc) {
        cands c;
        cands_init(&c, 1, L.nd);
        for (int j = 0; j < L.nd; j++) cand_set(&c, &L, 0, j, x[L.d[j].param]);
        double ll, lg, run[2];
        mixture_logpdf(&lm, &L, &c, &ll, run);
        mixture_logpdf(&gm, &L, &c, &lg, run);
        *score = ll - lg;
        cands_release(&c);
    }
    mixture_release(&lm);
    mixture_release(&gm);
    return rc;
}

/* Uniform in the parameter's range (log range for log parameters). */
static double sample_uniform(im_rng *r, const tpe_param *p)
{
    if (p->type == TPE_CATEGORICAL) return (double)im_rng_below(r, (uint64_t)p->n_choices);
    if (p->type == TPE_INT && !p->log)
        return p->low + (double)im_rng_below(r, (uint64_t)(p->high - p->low) + 1);
    if (p->type == TPE_INT) {
        double y = im_rng_range(r, log(p->low - 0.5), log(p->high + 0.5));
        return clampd(round(exp(y)), p->low, p->high);
    }
    if (p->log) return clampd(exp(im_rng_range(r, log(p->low), log(p->high))), p->low, p->high);
    return im_rng_range(r, p->low, p->high);
}

int tpe_suggest(const tpe_space *space, const tpe_options *opt, const tpe_obs *hist, int n_hist,
                const double *pending, int n_pending, uint64_t stream, double *out, im_error *err)
{
    int rc = check_inputs(space, opt, hist, n_hist, pending, n_pending, err);
    if (rc) return rc;
    im_rng r;
    im_rng_seed(&r, opt->seed, stream);
    int np = space->n_params;
    for (int i = 0; i < np; i++) {
        double v;
        if (param_fixed(&space->params[i], &v)) out[i] = v;
    }
    if (n_hist < opt->n_startup_trials) {
        for (int i = 0; i < np; i++) {
            double v;
            if (!param_fixed(&space->params[i], &v)) out[i] = sample_uniform(&r, &space->params[i]);
        }
        return 0;
    }
    tpe_run R;
    run_init(&R, space, opt, hist, n_hist, pending, n_pending);
    if (opt->multivariate) {
        if (R.n_all > 0) rc = propose(&R, R.all, R.n_all, &r, out, err);
    } else {
        for (int j = 0; j < R.n_all && !rc; j++) rc = propose(&R, &R.all[j], 1, &r, out, err);
    }
    run_release(&R);
    return rc;
}

int tpe_score(const tpe_space *space, const tpe_options *opt, const tpe_obs *hist, int n_hist,
              const double *pending, int n_pending, const double *x, double *score, im_error *err)
{
    int rc = check_inputs(space, opt, hist, n_hist, pending, n_pending, err);
    if (!rc) rc = check_point(space, x, "scored point", 0, err);
    if (rc) return rc;
    tpe_run R;
    run_init(&R, space, opt, hist, n_hist, pending, n_pending);
    *score = 0;
    if (opt->multivariate) {
        if (R.n_all > 0) rc = score_point(&R, R.all, R.n_all, x, score, err);
    } else {
        for (int j = 0; j < R.n_all && !rc; j++) {
            double s = 0;
            rc = score_point(&R, &R.all[j], 1, x, &s, err);
            if (!rc) *score += s;
        }
    }
    run_release(&R);
    return rc;
}
