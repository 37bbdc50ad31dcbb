/*
 * test_pruner: the median pruner's running medians agree with the naive
 * oracle (sort the values, take the middle) on random data, per epoch and
 * with missing epochs; so do the percentile pruner's references, for several
 * shares kept, with numpy's linear interpolation worked by hand (the oracle
 * below) and on a hand-worked case; the rule honours n_startup_trials,
 * n_warmup_epochs and never prunes at epoch 0; "none" gives no pruner.
 */
#include "pruner.h"
#include "rng.h"
#include "test.h"

#include <math.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The oracle: the median of v[0..n) (mean of the middle two for even n). */
static double naive_median(const double *v, int n)
{
    if (n == 0) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

/* The oracle: numpy.percentile(v, 100 - keep) with linear interpolation,
 * the share `keep` of the values lying at or above it. */
static double naive_percentile(const double *v, int n, double keep)
{
    if (n == 0) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp);
    double r = (n - 1) * (100 - keep) / 100;
    int f = (int)floor(r);
    double frac = r - f, m = f + 1 < n && frac > 0 ? (1 - frac) * s[f] + frac * s[f + 1] : s[f];
    free(s);
    return m;
}

/* The percentile pruner keeping `keep` % agrees with the oracle on curves of
 * random lengths with ties and missing values, after every added trial. */
static int percentile_agrees(double keep, uint64_t seed)
{
    im_pruner_spec spec = {.kind = IM_PRUNER_PERCENTILE,
                           .n_startup_trials = 0,
                           .n_warmup_epochs = 0,
                           .percentile = keep};
    pruner *p = pruner_new(&spec);
    if (!p) return 0;
    enum { EPOCHS = 4, TRIALS = 157 };
    static double seen[EPOCHS][TRIALS];
    int n_seen[EPOCHS] = {0}, agree = 1;
    im_rng r;
    im_rng_seed(&r, seed, 0);
    for (int t = 0; t < TRIALS; t++) {
        double v[EPOCHS];
        int n = 1 + (int)im_rng_below(&r, EPOCHS);
        for (int e = 0; e < n; e++) {
            v[e] = im_rng_below(&r, 10) == 0 ? NAN : floor(im_rng_uniform(&r) * 40) / 40;
            if (!isnan(v[e])) seen[e][n_seen[e]++] = v[e];
        }
        pruner_add(p, v, n);
        for (int e = 0; e < EPOCHS; e++) {
            double want = naive_percentile(seen[e], n_seen[e], keep);
            double got = pruner_reference(p, e);
            if (!((isnan(want) && isnan(got)) || fabs(want - got) <= 1e-15)) agree = 0;
        }
    }
    pruner_free(&p);
    return agree;
}

int main(void)
{
    im_pruner_spec none = {.kind = IM_PRUNER_NONE};
    CHECK(pruner_new(&none) == NULL);
    CHECK_INT(pruner_should_stop(NULL, 3, 0.0), 0);

    im_pruner_spec spec = {.kind = IM_PRUNER_MEDIAN, .n_startup_trials = 3, .n_warmup_epochs = 2};
    pruner *p = pruner_new(&spec);
    CHECK(p != NULL);
    if (!p) return TEST_END();

    enum { EPOCHS = 6, TRIALS = 301 };
    static double seen[EPOCHS][TRIALS];
    int n_seen[EPOCHS] = {0};
    im_rng r;
    im_rng_seed(&r, 11, 0);
    int agree = 1;
    for (int t = 0; t < TRIALS; t++) {
        double v[EPOCHS];
        int n = 1 + (int)im_rng_below(&r, EPOCHS); /* curves of different lengths */
        for (int e = 0; e < n; e++) {
            /* some ties and some missing values */
            v[e] = im_rng_below(&r, 10) == 0 ? NAN : floor(im_rng_uniform(&r) * 50) / 50;
            if (!isnan(v[e])) seen[e][n_seen[e]++] = v[e];
        }
        if (t == 0) {
            CHECK_INT(pruner_should_stop(p, 3, -1.0), 0); /* no completed trial yet */
        }
        pruner_add(p, v, n);
        for (int e = 0; e < EPOCHS; e++) {
            double want = naive_median(seen[e], n_seen[e]), got = pruner_reference(p, e);
            if (!((isnan(want) && isnan(got)) || want == got)) agree = 0;
        }
    }
    CHECK(agree);
    CHECK_INT(pruner_completed(p), TRIALS);
    CHECK(isnan(pruner_reference(p, EPOCHS)));
    CHECK(isnan(pruner_reference(p, -1)));

    double med3 = pruner_reference(p, 3);
    CHECK_INT(pruner_should_stop(p, 3, med3 - 0.01), 1);
    CHECK_INT(pruner_should_stop(p, 3, med3), 0); /* equal to the median: kept */
    CHECK_INT(pruner_should_stop(p, 3, med3 + 0.01), 0);
    CHECK_INT(pruner_should_stop(p, 1, -1.0), 0); /* warm-up */
    CHECK_INT(pruner_should_stop(p, 3, NAN), 0);
    CHECK_INT(pruner_should_stop(p, EPOCHS + 3, -1.0), 0); /* no completed trial got there */
    pruner_free(&p);
    CHECK(p == NULL);

    /* start-up: fewer completed trials than n_startup_trials never prune;
     * epoch 0 never prunes, even without warm-up */
    spec.n_warmup_epochs = 0;
    p = pruner_new(&spec);
    double good[3] = {0.1, 0.8, 0.9};
    pruner_add(p, good, 3);
    pruner_add(p, good, 3);
    CHECK_INT(pruner_should_stop(p, 1, 0.2), 0);
    pruner_add(p, good, 3);
    CHECK_INT(pruner_should_stop(p, 1, 0.2), 1);
    CHECK_INT(pruner_should_stop(p, 0, 0.0), 0);
    pruner_free(&p);
    pruner_free(&p); /* NULL-safe */

    /* the percentile pruner against the oracle, for several shares kept;
     * keeping 50 % is the median, bit for bit */
    CHECK(percentile_agrees(90, 21));
    CHECK(percentile_agrees(75, 22));
    CHECK(percentile_agrees(33.3, 23));
    CHECK(percentile_agrees(100, 24));
    CHECK(percentile_agrees(1, 25));
    CHECK(percentile_agrees(50, 26));

    /* a hand-worked case: five values 0.1 0.2 0.3 0.4 0.5 keeping 90 %:
     * r = 4 * 0.1 = 0.4, the reference 0.1 * 0.6 + 0.2 * 0.4 = 0.14;
     * keeping 25 %: r = 3, the reference 0.4 */
    im_pruner_spec keep90 = {.kind = IM_PRUNER_PERCENTILE, .percentile = 90};
    im_pruner_spec keep25 = {.kind = IM_PRUNER_PERCENTILE, .percentile = 25};
    pruner *p90 = pruner_new(&keep90), *p25 = pruner_new(&keep25);
    const double vals[5] = {0.3, 0.5, 0.1, 0.4, 0.2};
    for (int i = 0; i < 5; i++) {
        double v[2] = {NAN, vals[i]};
        pruner_add(p90, v, 2);
        pruner_add(p25, v, 2);
    }
    CHECK(fabs(pruner_reference(p90, 1) - 0.14) < 1e-15);
    CHECK(fabs(pruner_reference(p25, 1) - 0.4) < 1e-15);
    CHECK_INT(pruner_should_stop(p90, 1, 0.139), 1);
    CHECK_INT(pruner_should_stop(p90, 1, 0.141), 0);
    CHECK_INT(pruner_should_stop(p25, 1, 0.39), 1);
    CHECK_INT(pruner_should_stop(p25, 1, 0.4), 0);
    pruner_free(&p90);
    pruner_free(&p25);
    return TEST_END();
}
