/*
 * test_tpe: the TPE estimator.
 *
 * - Optuna's defaults: options, gamma, weights.
 * - Spaces, options and histories that are not valid are refused with a
 *   message naming what is wrong.
 * - Proposals stay in the space (floats, log floats, integers, log integers,
 *   categories) and keep fixed parameters fixed, in the start-up phase and
 *   after, multivariate and univariate.
 * - A proposal is a function of its inputs: same inputs, same point; another
 *   stream or seed, another point; during start-up the values do not matter.
 * - Pending points (constant liar) change proposals; without constant liar
 *   they are ignored.
 * - The split: best gamma(n) complete points, pruned ranked below every
 *   complete one, NaN last, direction respected, history order kept.
 * - Edge cases: no history, bad weight functions, a prior weight of 0.
 * - The score log l(x) - log g(x) against a naive oracle written from the
 *   definitions (O(n^2) neighbour search, the multivariate bandwidth from
 *   pairwise differences, densities from erfc, plain sums), with and without
 *   consider_endpoints, prior weights 1 and 0.5; the multivariate bandwidth
 *   on a case worked by hand.
 * - Quality: on a shifted sphere in 6-D, 100 trials, 5 seeds, the median best
 *   value of multivariate TPE is at least QUALITY_MV times lower than random
 *   search's, univariate TPE's at least QUALITY_UNI times (measured when
 *   written: 0.0159, 0.0660 and 0.364, i.e. 23x and 5.5x; since the
 *   multivariate bandwidth follows Scott's rule, 0.0422: 8.6x).
 */
#include "rng.h"
#include "tpe.h"
#include "test.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How many times lower than random search's TPE's median best must be. */
#define QUALITY_MV  8.0
#define QUALITY_UNI 3.0

/* ---- a mixed space ----------------------------------------------------------------------- */

enum { NP = 8 };
static const tpe_param mixed_params[NP] = {
    {.name = "f", .type = TPE_FLOAT, .low = -1.0, .high = 1.0},
    {.name = "lf", .type = TPE_FLOAT, .low = 1e-4, .high = 1.0, .log = 1},
    {.name = "i", .type = TPE_INT, .low = 0, .high = 10},
    {.name = "li", .type = TPE_INT, .low = 1, .high = 1000, .log = 1},
    {.name = "c", .type = TPE_CATEGORICAL, .n_choices = 4},
    {.name = "fixed", .type = TPE_FLOAT, .low = -1, .high = 1, .fixed = 1, .value = 0.25},
    {.name = "pinned", .type = TPE_FLOAT, .low = 0.5, .high = 0.5},
    {.name = "one", .type = TPE_CATEGORICAL, .n_choices = 1},
};
static const tpe_space mixed = {.n_params = NP, .params = mixed_params};

/* a made-up objective on the mixed space (minimised) */
static double mixed_objective(const double *x)
{
    double v = (x[0] - 0.3) * (x[0] - 0.3) + pow(log10(x[1]) + 2.0, 2) * 0.1 +
               (x[2] - 7) * (x[2] - 7) * 0.01 + pow(log10(x[3]) - 1.0, 2) * 0.1 +
               (x[4] == 2 ? 0.0 : 0.5);
    return v;
}

static int in_space(const tpe_space *s, const double *x)
{
    for (int i = 0; i < s->n_params; i++) {
        const tpe_param *p = &s->params[i];
        double v = x[i];
        if (p->fixed) {
            if (v != p->value) return 0;
        } else if (p->type == TPE_CATEGORICAL) {
            if (!(v >= 0 && v < p->n_choices && v == floor(v))) return 0;
        } else {
            if (!(v >= p->low && v <= p->high)) return 0;
            if (p->type == TPE_INT && v != floor(v)) return 0;
        }
    }
    return 1;
}

/* Run n sequential proposals on the mixed space into xs[n][NP] / hist[n];
 * returns the number of proposals outside the space. */
static int fill_history(const tpe_options *o, int n, double *xs, tpe_obs *hist)
{
    int bad = 0;
    for (int t = 0; t < n; t++) {
        double *x = xs + (size_t)t * NP;
        im_error err = {0};
        int rc = tpe_suggest(&mixed, o, hist, t, NULL, 0, (uint64_t)t, x, &err);
        CHECK_MSG(rc == 0, "suggest %d: %s", t, err.msg);
        if (rc || !in_space(&mixed, x)) bad++;
        hist[t] = (tpe_obs){.x = x, .value = mixed_objective(x), .state = TPE_COMPLETE};
    }
    return bad;
}

static void test_defaults(void)
{
    tpe_options o;
    tpe_options_default(&o);
    CHECK_INT(o.n_startup_trials, 10);
    CHECK_INT(o.n_ei_candidates, 24);
    CHECK_INT(o.multivariate, 1);
    CHECK_INT(o.constant_liar, 1);
    CHECK_NEAR(o.prior_weight, 1.0, 0);
    CHECK_INT(o.consider_endpoints, 0);
    CHECK_INT(o.maximize, 0);
    CHECK(o.gamma == NULL && o.weights == NULL);
    CHECK_INT(tpe_options_check(&o, NULL), 0);

    CHECK_INT(tpe_gamma_default(0), 0);
    CHECK_INT(tpe_gamma_default(1), 1);
    CHECK_INT(tpe_gamma_default(10), 1);
    CHECK_INT(tpe_gamma_default(11), 2);
    CHECK_INT(tpe_gamma_default(200), 20);
    CHECK_INT(tpe_gamma_default(241), 25);
    CHECK_INT(tpe_gamma_default(5000), 25);

    double w[40];
    tpe_weights_default(24, w);
    for (int i = 0; i < 24; i++) CHECK_NEAR(w[i], 1.0, 0);
    tpe_weights_default(26, w); /* a ramp of one: 1/26 */
    CHECK_NEAR(w[0], 1.0 / 26, 1e-15);
    for (int i = 1; i < 26; i++) CHECK_NEAR(w[i], 1.0, 0);
    tpe_weights_default(40, w); /* 15 from 1/40 to 1, then 25 ones */
    CHECK_NEAR(w[0], 1.0 / 40, 1e-15);
    CHECK_NEAR(w[14], 1.0, 1e-15);
    CHECK_NEAR(w[7], 1.0 / 40 + (1 - 1.0 / 40) * 7 / 14, 1e-15);
    for (int i = 15; i < 40; i++) CHECK_NEAR(w[i], 1.0, 0);
}

static void test_refusals(void)
{
    im_error err = {0};
    tpe_param p = {.name = "a", .type = TPE_FLOAT, .low = 1, .high = 0};
    tpe_space s = {.n_params = 1, .params = &p};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "'a'");
    p = (tpe_param){.name = "a", .type = TPE_FLOAT, .low = 0, .high = 1, .log = 1};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "log");
    p = (tpe_param){.name = "a", .type = TPE_INT, .low = 0.5, .high = 3};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "integer");
    p = (tpe_param){.name = "a", .type = TPE_CATEGORICAL, .n_choices = 0};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    p = (tpe_param){.name = "a", .type = TPE_CATEGORICAL, .n_choices = 3, .fixed = 1, .value = 3};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    p = (tpe_param){.name = "a", .type = TPE_FLOAT, .low = -1e308, .high = 1e308};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    p = (tpe_param){.type = TPE_FLOAT, .low = NAN, .high = 1};
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "#0");
    s.n_params = 0;
    CHECK_INT(tpe_space_check(&s, &err), IM_EINVAL);
    CHECK_INT(tpe_space_check(&mixed, &err), 0);

    tpe_options o;
    tpe_options_default(&o);
    o.n_ei_candidates = 0;
    CHECK_INT(tpe_options_check(&o, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "n_ei_candidates");
    tpe_options_default(&o);
    o.prior_weight = -1;
    CHECK_INT(tpe_options_check(&o, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "prior_weight");
    tpe_options_default(&o);
    o.n_startup_trials = -1;
    CHECK_INT(tpe_options_check(&o, &err), IM_EINVAL);

    /* points outside the space, in the history and pending */
    tpe_options_default(&o);
    double good[NP] = {0, 0.01, 3, 10, 1, 0.25, 0.5, 0}, bad[NP], out[NP];
    tpe_obs h[2] = {{.x = good, .value = 1}, {.x = bad, .value = 2}};
    const struct {
        int i;
        double v;
        const char *name;
    } cases[] = {{0, 1.5, "'f'"}, {1, 0.0, "'lf'"}, {2, 2.5, "'i'"}, {3, 0, "'li'"},
                 {4, 4, "'c'"},   {4, 0.5, "'c'"},  {0, NAN, "'f'"}, {2, INFINITY, "'i'"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(bad, good, sizeof bad);
        bad[cases[k].i] = cases[k].v;
        CHECK_INT(tpe_suggest(&mixed, &o, h, 2, NULL, 0, 0, out, &err), IM_EINVAL);
        CHECK_CONTAINS(err.msg, cases[k].name);
        CHECK_CONTAINS(err.msg, "finished point 1");
        CHECK_INT(tpe_suggest(&mixed, &o, h, 1, bad, 1, 0, out, &err), IM_EINVAL);
        CHECK_CONTAINS(err.msg, "pending point 0");
        o.constant_liar = 0; /* pending points are not read then */
        CHECK_INT(tpe_suggest(&mixed, &o, h, 1, bad, 1, 0, out, &err), 0);
        o.constant_liar = 1;
    }
    /* the coordinates of fixed parameters are not read */
    memcpy(bad, good, sizeof bad);
    bad[5] = bad[6] = bad[7] = NAN;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 2, NULL, 0, 0, out, &err), 0);
    h[1].state = (tpe_state)7;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 2, NULL, 0, 0, out, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "state");
    CHECK_INT(tpe_suggest(&mixed, &o, h, -1, NULL, 0, 0, out, &err), IM_EINVAL);
}

static void test_bounds_and_determinism(void)
{
    enum { N = 60 };
    static double xs[N * NP], xs2[N * NP];
    static tpe_obs hist[N], hist2[N];
    for (int mv = 0; mv <= 1; mv++) {
        tpe_options o;
        tpe_options_default(&o);
        o.seed = 11;
        o.multivariate = mv;
        CHECK_INT(fill_history(&o, N, xs, hist), 0);
        /* every proposal again from the same inputs: the same point */
        CHECK_INT(fill_history(&o, N, xs2, hist2), 0);
        CHECK(memcmp(xs, xs2, sizeof xs) == 0);
        /* the integer and categorical values visited are more than one */
        int seen_c[4] = {0}, lo_li = 0, hi_li = 0;
        for (int t = 0; t < N; t++) {
            seen_c[(int)xs[t * NP + 4]]++;
            lo_li += xs[t * NP + 3] < 32;
            hi_li += xs[t * NP + 3] >= 32;
        }
        CHECK(seen_c[0] + seen_c[1] + seen_c[3] > 0 && seen_c[2] > 0);
        CHECK(lo_li > 0 && hi_li > 0);
        /* TPE found the region of the optimum better than chance */
        double best = INFINITY;
        for (int t = 0; t < N; t++) best = fmin(best, hist[t].value);
        CHECK_MSG(best < 0.2, "multivariate %d: best %g", mv, best);

        /* another stream or seed: another point; many streams stay in bounds */
        double a[NP], b[NP];
        im_error err = {0};
        CHECK_INT(tpe_suggest(&mixed, &o, hist, N, NULL, 0, 1000, a, &err), 0);
        CHECK_INT(tpe_suggest(&mixed, &o, hist, N, NULL, 0, 1000, b, &err), 0);
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK_INT(tpe_suggest(&mixed, &o, hist, N, NULL, 0, 1001, b, &err), 0);
        CHECK(memcmp(a, b, sizeof a) != 0);
        o.seed = 12;
        CHECK_INT(tpe_suggest(&mixed, &o, hist, N, NULL, 0, 1000, b, &err), 0);
        CHECK(memcmp(a, b, sizeof a) != 0);
        int out_of_space = 0;
        for (int k = 0; k < 200; k++) {
            CHECK_INT(tpe_suggest(&mixed, &o, hist, N, NULL, 0, (uint64_t)k, b, &err), 0);
            out_of_space += !in_space(&mixed, b);
        }
        CHECK_INT(out_of_space, 0);
    }
}

static void test_startup_and_pending(void)
{
    enum { N = 40 };
    static double xs[N * NP];
    static tpe_obs hist[N];
    tpe_options o;
    tpe_options_default(&o);
    o.seed = 3;
    CHECK_INT(fill_history(&o, N, xs, hist), 0);
    im_error err = {0};
    double a[NP], b[NP];

    /* start-up: 9 finished points (one pruned) < 10; values do not matter */
    hist[4].state = TPE_PRUNED;
    CHECK_INT(tpe_suggest(&mixed, &o, hist, 9, NULL, 0, 77, a, &err), 0);
    double saved = hist[2].value;
    hist[2].value = -100;
    CHECK_INT(tpe_suggest(&mixed, &o, hist, 9, xs + 20 * NP, 3, 77, b, &err), 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* from 10 finished points on (pruned ones count), they do */
    CHECK_INT(tpe_suggest(&mixed, &o, hist, 10, NULL, 0, 77, a, &err), 0);
    hist[2].value = saved;
    CHECK_INT(tpe_suggest(&mixed, &o, hist, 10, NULL, 0, 77, b, &err), 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    hist[4].state = TPE_COMPLETE;

    /* constant liar: a worker asking while others run gets another point */
    int changed = 0;
    for (int k = 0; k < 10; k++) {
        uint64_t stream = 500 + (uint64_t)k;
        double pend[3 * NP];
        for (int q = 0; q < 3; q++) {
            CHECK_INT(tpe_suggest(&mixed, &o, hist, N, pend, q, stream, pend + q * NP, &err), 0);
            CHECK(in_space(&mixed, pend + q * NP));
        }
        changed += memcmp(pend, pend + NP, sizeof a) != 0 &&
                   memcmp(pend, pend + 2 * NP, sizeof a) &&
                   memcmp(pend + NP, pend + 2 * NP, sizeof a);
        /* without constant liar the pending points are ignored */
        o.constant_liar = 0;
        CHECK_INT(tpe_suggest(&mixed, &o, hist, N, pend, 2, stream, a, &err), 0);
        CHECK(memcmp(a, pend, sizeof a) == 0);
        o.constant_liar = 1;
    }
    CHECK_MSG(changed >= 8, "pending points changed %d of 10 proposals", changed);
}

static void test_split(void)
{
    double x[1] = {0};
    tpe_obs h[30];
    /* values 29, 28, ..., 0: the best (lowest) are the last */
    for (int i = 0; i < 30; i++) h[i] = (tpe_obs){.x = x, .value = 29 - i};
    tpe_options o;
    tpe_options_default(&o);
    int below[30], nb = -1;
    CHECK_INT(tpe_split(&o, h, 30, below, &nb, NULL), 0);
    CHECK_INT(nb, 3);
    CHECK_INT(below[0], 27);
    CHECK_INT(below[1], 28);
    CHECK_INT(below[2], 29);
    /* maximising: the first ones, in history order */
    o.maximize = 1;
    CHECK_INT(tpe_split(&o, h, 30, below, &nb, NULL), 0);
    CHECK_INT(nb, 3);
    CHECK_INT(below[0], 0);
    CHECK_INT(below[2], 2);
    /* a pruned point with the best value ranks below every complete one; a
     * NaN ranks last among complete points, but above pruned ones */
    o.maximize = 0;
    h[29].state = TPE_PRUNED;
    h[28].value = NAN;
    CHECK_INT(tpe_split(&o, h, 30, below, &nb, NULL), 0);
    CHECK_INT(below[0], 25);
    CHECK_INT(below[1], 26);
    CHECK_INT(below[2], 27);
    /* pruned points among themselves rank by value; ties by history */
    for (int i = 0; i < 30; i++) h[i] = (tpe_obs){.x = x, .value = i % 3, .state = TPE_PRUNED};
    h[5].state = TPE_COMPLETE;
    h[5].value = 100;
    CHECK_INT(tpe_split(&o, h, 30, below, &nb, NULL), 0);
    CHECK_INT(below[0], 0);
    CHECK_INT(below[1], 3);
    CHECK_INT(below[2], 5);
    /* a custom gamma; clipped to n */
    o.gamma = NULL;
    CHECK_INT(tpe_split(&o, h, 0, below, &nb, NULL), 0);
    CHECK_INT(nb, 0);
}

static int gamma_all(int n)
{
    return n + 5;
}

static void weights_negative(int n, double *w)
{
    for (int i = 0; i < n; i++) w[i] = i == 0 ? -1.0 : 1.0;
}

static void weights_zero(int n, double *w)
{
    for (int i = 0; i < n; i++) w[i] = 0.0;
}

/* No start-up and no history: both groups are the prior alone, the proposal
 * is still in the space. Weight functions returning bad weights are refused;
 * all-zero observation weights with a prior weight are fine, without not. */
static void test_edges(void)
{
    tpe_options o;
    tpe_options_default(&o);
    o.n_startup_trials = 0;
    double x[NP], y[NP];
    im_error err = {0};
    CHECK_INT(tpe_suggest(&mixed, &o, NULL, 0, NULL, 0, 1, x, &err), 0);
    CHECK(in_space(&mixed, x));
    CHECK_INT(tpe_suggest(&mixed, &o, NULL, 0, x, 1, 1, y, &err), 0);
    CHECK(in_space(&mixed, y));

    tpe_obs h[3] = {{.x = x, .value = 1}, {.x = y, .value = 2}, {.x = x, .value = 3}};
    o.weights = weights_negative;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 3, NULL, 0, 1, y, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "weight");
    o.weights = weights_zero;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 3, NULL, 0, 1, y, &err), 0);
    CHECK(in_space(&mixed, y));
    o.prior_weight = 0;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 3, NULL, 0, 1, y, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "sum");
    /* a prior weight of 0 with ordinary weights: categorical kernels put
     * nothing on unobserved choices, the proposal is still in the space */
    o.weights = NULL;
    CHECK_INT(tpe_suggest(&mixed, &o, h, 3, NULL, 0, 1, y, &err), 0);
    CHECK(in_space(&mixed, y));
}

static void test_gamma_clip(void)
{
    double x[1] = {0};
    tpe_obs h[4];
    for (int i = 0; i < 4; i++) h[i] = (tpe_obs){.x = x, .value = i};
    tpe_options o;
    tpe_options_default(&o);
    o.gamma = gamma_all;
    int below[4], nb = -1;
    CHECK_INT(tpe_split(&o, h, 4, below, &nb, NULL), 0);
    CHECK_INT(nb, 4);
}

/* ---- the oracle: log l(x) - log g(x) from the definitions -------------------------------- */

static double Phi_diff(double l, double u) /* P(l < N(0,1) < u) */
{
    if (l > 0) return 0.5 * (erfc(l / sqrt(2)) - erfc(u / sqrt(2)));
    return 0.5 * (erfc(-u / sqrt(2)) - erfc(-l / sqrt(2)));
}

/* log density of x under the group rows[n] over the non-fixed params listed
 * in dims[nd] */
static double naive_group_logpdf(const tpe_space *s, const tpe_options *o,
                                 const double *const *rows, int n, const int *dims, int nd,
                                 const double *x)
{
    int k = n + 1;
    double w[64], wsum = 0;
    if (n == 0) {
        w[0] = 1;
    } else {
        tpe_weights_default(n, w);
        w[n] = o->prior_weight;
    }
    for (int i = 0; i < k; i++) wsum += w[i];
    double total = 0;
    for (int i = 0; i < k; i++) {
        double prod = w[i] / wsum;
        for (int a = 0; a < nd; a++) {
            const tpe_param *p = &s->params[dims[a]];
            double v = x[dims[a]];
            if (p->type == TPE_CATEGORICAL) {
                int nc = p->n_choices;
                if (i == n) {
                    prod *= 1.0 / nc;
                } else {
                    double base = o->prior_weight / k;
                    prod *= ((int)rows[i][dims[a]] == (int)v ? base + 1 : base) / (base * nc + 1);
                }
                continue;
            }
            int disc = p->type == TPE_INT;
            double lo = disc ? p->low - 0.5 : p->low, hi = disc ? p->high + 0.5 : p->high;
            if (p->log) lo = log(lo), hi = log(hi);
            double range = hi - lo, mu, sg;
            /* centre i among the centres (value, index), the prior's index n */
            double c[64];
            for (int j = 0; j < n; j++) c[j] = p->log ? log(rows[j][dims[a]]) : rows[j][dims[a]];
            c[n] = 0.5 * (lo + hi);
            mu = c[i];
            if (i == n) {
                sg = range;
            } else if (o->multivariate) {
                /* Scott's rule times 0.7 on the centres' standard deviation,
                 * here from the pairwise form: var = sum over pairs of
                 * (c_a - c_b)^2 / (n (n - 1)) */
                double var = range * range / 12.0;
                if (n >= 2) {
                    double pairs = 0;
                    for (int a2 = 0; a2 < n; a2++)
                        for (int b2 = a2 + 1; b2 < n; b2++)
                            pairs += (c[a2] - c[b2]) * (c[a2] - c[b2]);
                    var = pairs / ((double)n * (n - 1));
                }
                sg = 0.7 * sqrt(var) * pow(n > 1 ? n : 1, -1.0 / (nd + 4));
                double minsig = range / (n + 2 < 100 ? n + 2 : 100);
                sg = sg < minsig ? minsig : sg > range ? range : sg;
            } else {
                int left = -1, right = -1, rank = 0;
                for (int j = 0; j < k; j++) {
                    if (j == i) continue;
                    int before = c[j] < c[i] || (c[j] == c[i] && j < i);
                    rank += before;
                    if (before && (left < 0 || c[j] > c[left] || (c[j] == c[left] && j > left)))
                        left = j;
                    if (!before &&
                        (right < 0 || c[j] < c[right] || (c[j] == c[right] && j < right)))
                        right = j;
                }
                double gl = c[i] - (left >= 0 ? c[left] : lo);
                double gr = (right >= 0 ? c[right] : hi) - c[i];
                sg = gl > gr ? gl : gr;
                if (!o->consider_endpoints && rank == 0) sg = gr;
                if (!o->consider_endpoints && rank == k - 1) sg = gl;
                double minsig = range / (n + 2 < 100 ? n + 2 : 100);
                sg = sg < minsig ? minsig : sg > range ? range : sg;
            }
            double z = Phi_diff((lo - mu) / sg, (hi - mu) / sg);
            if (disc) {
                double c0 = v - 0.5, c1 = v + 0.5;
                if (p->log) c0 = log(c0), c1 = log(c1);
                prod *= Phi_diff((c0 - mu) / sg, (c1 - mu) / sg) / z;
            } else {
                double y = p->log ? log(v) : v, t = (y - mu) / sg;
                prod *= exp(-0.5 * t * t) / (sg * sqrt(2 * M_PI)) / z;
            }
        }
        total += prod;
    }
    return log(total);
}

static double naive_score(const tpe_space *s, const tpe_options *o, const tpe_obs *hist, int n,
                          const double *pending, int n_pending, const int *dims, int nd,
                          const double *x)
{
    int below[64], nb;
    CHECK_INT(tpe_split(o, hist, n, below, &nb, NULL), 0);
    const double *lrows[64], *grows[64];
    int ng = 0;
    for (int i = 0, b = 0; i < n; i++) {
        if (b < nb && below[b] == i)
            lrows[b++] = hist[i].x;
        else
            grows[ng++] = hist[i].x;
    }
    if (o->constant_liar)
        for (int i = 0; i < n_pending; i++) grows[ng++] = pending + (size_t)i * s->n_params;
    return naive_group_logpdf(s, o, lrows, nb, dims, nd, x) -
           naive_group_logpdf(s, o, grows, ng, dims, nd, x);
}

static void test_score_oracle(void)
{
    enum { N = 30 };
    static double xs[N * NP], pend[2 * NP];
    static tpe_obs hist[N];
    tpe_options o;
    tpe_options_default(&o);
    o.seed = 5;
    CHECK_INT(fill_history(&o, N, xs, hist), 0);
    hist[7].state = TPE_PRUNED;
    im_rng r;
    im_rng_seed(&r, 99, 0);
    /* two pending points and a few probes, uniform in the space */
    double probes[6 * NP];
    for (int q = 0; q < 8; q++) {
        double *x = q < 2 ? pend + q * NP : probes + (q - 2) * NP;
        x[0] = im_rng_range(&r, -1, 1);
        x[1] = exp(im_rng_range(&r, log(1e-4), 0));
        x[2] = (double)im_rng_below(&r, 11);
        x[3] = 1 + (double)im_rng_below(&r, 1000);
        x[4] = (double)im_rng_below(&r, 4);
        x[5] = 0.25, x[6] = 0.5, x[7] = 0;
    }
    memcpy(probes, xs + 12 * NP, sizeof(double) * NP); /* a probe on an observation */
    const int dims[5] = {0, 1, 2, 3, 4};
    for (int variant = 0; variant < 3; variant++)
        for (int mv = 0; mv <= 1; mv++)
            for (int q = 0; q < 6; q++) {
                o.multivariate = mv;
                o.consider_endpoints = variant == 1;
                o.prior_weight = variant == 2 ? 0.5 : 1.0;
                double got = NAN, want = 0;
                im_error err = {0};
                const double *x = probes + q * NP;
                CHECK_INT(tpe_score(&mixed, &o, hist, N, pend, 2, x, &got, &err), 0);
                if (mv) {
                    want = naive_score(&mixed, &o, hist, N, pend, 2, dims, 5, x);
                } else {
                    for (int a = 0; a < 5; a++)
                        want += naive_score(&mixed, &o, hist, N, pend, 2, &dims[a], 1, x);
                }
                CHECK_NEAR(got, want, 1e-9 * (1 + fabs(want)));
            }
    /* a point outside the space is refused */
    double out[NP];
    memcpy(out, probes, sizeof out);
    out[2] = 11;
    double sc;
    CHECK_INT(tpe_score(&mixed, &o, hist, N, pend, 2, out, &sc, NULL), IM_EINVAL);
}

/* The multivariate bandwidth, worked by hand on one parameter in [0, 1]:
 * the good group {0, 1} (gamma 2), the bad group {0.5, 0.25}.
 * Good: standard deviation sqrt(0.5), bandwidth 0.7 sqrt(0.5) 2^(-1/5) =
 * 0.43090054467072; bad: 0.7 * 0.1767767 * 2^(-1/5) = 0.1077 is below the
 * magic clip's 1 / (2 + 2), so 0.25. Each group: its two kernels and the
 * prior N(0.5, 1), weights 1/3, truncated to [0, 1]. At x = 0.75,
 * log l - log g = 0.28154623235831 (l = 0.8843, g = 0.6683). */
static int gamma_two(int n)
{
    (void)n;
    return 2;
}

static double trunc_pdf(double x, double mu, double sg)
{
    return exp(-0.5 * (x - mu) * (x - mu) / (sg * sg)) / (sg * sqrt(2 * M_PI)) /
           Phi_diff(-mu / sg, (1 - mu) / sg);
}

static void test_multivariate_bandwidth(void)
{
    static const tpe_param p1[1] = {{.name = "x", .type = TPE_FLOAT, .low = 0, .high = 1}};
    const tpe_space s1 = {.n_params = 1, .params = p1};
    static const double xs[4] = {0.0, 1.0, 0.5, 0.25};
    tpe_obs h[4];
    for (int i = 0; i < 4; i++) h[i] = (tpe_obs){.x = &xs[i], .value = i};
    tpe_options o;
    tpe_options_default(&o);
    o.n_startup_trials = 0;
    o.gamma = gamma_two;
    const double x = 0.75, sl = 0.7 * sqrt(0.5) * pow(2, -0.2), sgb = 0.25;
    CHECK_NEAR(sl, 0.43090054467072, 1e-12);
    double l = (trunc_pdf(x, 0, sl) + trunc_pdf(x, 1, sl) + trunc_pdf(x, 0.5, 1)) / 3;
    double g = (trunc_pdf(x, 0.5, sgb) + trunc_pdf(x, 0.25, sgb) + trunc_pdf(x, 0.5, 1)) / 3;
    double want = log(l) - log(g), got = NAN;
    CHECK_NEAR(want, 0.28154623235831, 1e-12);
    CHECK_INT(tpe_score(&s1, &o, h, 4, NULL, 0, &x, &got, NULL), 0);
    CHECK_NEAR(got, want, 1e-12);
    /* one observation per group: the uniform's standard deviation 1 / sqrt 12,
     * 0.7 / sqrt 12 = 0.202 under the clip's 1 / 3 */
    o.gamma = NULL; /* gamma(2) = 1: good {0}, bad {1} */
    l = (trunc_pdf(x, 0, 1.0 / 3) + trunc_pdf(x, 0.5, 1)) / 2;
    g = (trunc_pdf(x, 1, 1.0 / 3) + trunc_pdf(x, 0.5, 1)) / 2;
    CHECK_INT(tpe_score(&s1, &o, h, 2, NULL, 0, &x, &got, NULL), 0);
    CHECK_NEAR(got, log(l) - log(g), 1e-12);
}

/* ---- quality ----------------------------------------------------------------------------- */

enum { QD = 6, QTRIALS = 100, QSEEDS = 5 };

static double qshift[QD];

static double qsphere(const double *x)
{
    double f = 0;
    for (int i = 0; i < QD; i++) f += (x[i] - qshift[i]) * (x[i] - qshift[i]);
    return f;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_best(const tpe_options *base)
{
    static tpe_param ps[QD];
    for (int i = 0; i < QD; i++) ps[i] = (tpe_param){.type = TPE_FLOAT, .low = -1, .high = 1};
    tpe_space s = {.n_params = QD, .params = ps};
    double best[QSEEDS];
    static double xs[QTRIALS * QD];
    static tpe_obs h[QTRIALS];
    for (int k = 0; k < QSEEDS; k++) {
        tpe_options o = *base;
        o.seed = (uint64_t)k;
        best[k] = INFINITY;
        for (int t = 0; t < QTRIALS; t++) {
            double *x = xs + t * QD;
            CHECK_INT(tpe_suggest(&s, &o, h, t, NULL, 0, (uint64_t)t, x, NULL), 0);
            h[t] = (tpe_obs){.x = x, .value = qsphere(x)};
            best[k] = fmin(best[k], h[t].value);
        }
    }
    qsort(best, QSEEDS, sizeof *best, cmp_double);
    return best[QSEEDS / 2];
}

static void test_quality(void)
{
    const double phi = 0.6180339887498949;
    for (int i = 0; i < QD; i++) {
        double a = 0.5 + (i + 1) * phi;
        qshift[i] = 0.6 * (2 * (a - floor(a)) - 1);
    }
    tpe_options tpe, uni, rnd;
    tpe_options_default(&tpe);
    uni = tpe;
    uni.multivariate = 0;
    rnd = tpe;
    rnd.n_startup_trials = INT_MAX;
    double mt = median_best(&tpe), mu = median_best(&uni), mr = median_best(&rnd);
    fprintf(stderr,
            "quality, sphere 6-D, %d trials, median of %d seeds: multivariate %.4f, "
            "univariate %.4f, random %.4f\n",
            QTRIALS, QSEEDS, mt, mu, mr);
    CHECK_MSG(mt * QUALITY_MV < mr, "multivariate %g not %gx better than random %g", mt, QUALITY_MV,
              mr);
    CHECK_MSG(mu * QUALITY_UNI < mr, "univariate %g not %gx better than random %g", mu, QUALITY_UNI,
              mr);
}

int main(void)
{
    test_defaults();
    test_refusals();
    test_bounds_and_determinism();
    test_startup_and_pending();
    test_split();
    test_gamma_clip();
    test_edges();
    test_score_oracle();
    test_multivariate_bandwidth();
    test_quality();
    return TEST_END();
}
