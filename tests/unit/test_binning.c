/*
 * test_binning.c: fixed and adaptive binning against a naive oracle and on
 * the edge cases (values on bin edges, outside the range, max |x| = 0,
 * negative values, non-finite values), and both matrix layouts.
 */
#include "binning.h"
#include "rng.h"
#include "test.h"

#include <stdint.h>

/* The oracle: the smallest j with x < lo + (j+1) w, clamped; written without
 * the scaled-floor trick of the implementation. */
static int naive_bin(double x, int bins, double lo, double hi)
{
    double w = (hi - lo) / bins;
    for (int j = 0; j < bins - 1; j++)
        if (x < lo + (j + 1) * w) return j;
    return bins - 1;
}

static void test_fixed_edges(void)
{
    /* 20 bins on [-20, 20]: width 2, all edges exactly representable */
    double x[] = {-20.0, -18.0, -17.999, 0.0, -1e-9, 18.0, 19.999, 20.0, 1e300, -21.0, -1e300};
    int want[] = {0, 1, 1, 10, 9, 19, 19, 19, 19, 0, 0};
    int n = (int)(sizeof x / sizeof x[0]);
    uint16_t out[16];
    CHECK_INT(im_bin_fixed(out, x, n, 20, -20.0, 20.0), 0);
    for (int t = 0; t < n; t++)
        CHECK_MSG(out[t] == want[t], "x=%g: bin %d, want %d", x[t], out[t], want[t]);

    /* one bin: everything in bin 0 */
    CHECK_INT(im_bin_fixed(out, x, n, 1, -1.0, 1.0), 0);
    for (int t = 0; t < n; t++) CHECK_INT(out[t], 0);

    /* an asymmetric positive range, values below it */
    double y[] = {0.0, 2.0, 2.5, 3.0, 7.0, 100.0};
    int wy[] = {0, 0, 1, 2, 9, 9};
    CHECK_INT(im_bin_fixed(out, y, 6, 10, 2.0, 7.0), 0);
    for (int t = 0; t < 6; t++) CHECK_INT(out[t], wy[t]);
}

static void test_fixed_random(void)
{
    im_rng r;
    im_rng_seed(&r, 7, 0);
    uint16_t out[1000];
    double x[1000];
    for (int t = 0; t < 1000; t++) x[t] = im_rng_range(&r, -25.0, 25.0);
    CHECK_INT(im_bin_fixed(out, x, 1000, 20, -20.0, 20.0), 0);
    int bad = 0;
    for (int t = 0; t < 1000; t++) bad += out[t] != naive_bin(x[t], 20, -20.0, 20.0);
    CHECK_INT(bad, 0);
    /* 7 bins on an awkward range: edges not representable, compare away from edges */
    CHECK_INT(im_bin_fixed(out, x, 1000, 7, -3.3, 11.1), 0);
    bad = 0;
    for (int t = 0; t < 1000; t++) {
        double v = (x[t] + 3.3) / (14.4 / 7);
        if (fabs(v - floor(v + 0.5)) < 1e-9) continue;
        bad += out[t] != naive_bin(x[t], 7, -3.3, 11.1);
    }
    CHECK_INT(bad, 0);
}

static void test_adaptive(void)
{
    uint16_t out[8];
    /* max |x| = 4 (a negative value): -4 -> bin 0, 4 -> last, 0 -> middle */
    double x[] = {-4.0, 4.0, 0.0, -2.0, 2.0, 3.9999, -3.9999, 1.0};
    int want[] = {0, 19, 10, 5, 15, 19, 0, 12};
    CHECK_INT(im_bin_adaptive(out, x, 8, 20), 0);
    for (int t = 0; t < 8; t++)
        CHECK_MSG(out[t] == want[t], "x=%g: bin %d, want %d", x[t], out[t], want[t]);

    /* all negative: the scale is the largest magnitude */
    double y[] = {-1.0, -0.5, -0.25};
    int wy[] = {0, 5, 7};
    CHECK_INT(im_bin_adaptive(out, y, 3, 20), 0);
    for (int t = 0; t < 3; t++) CHECK_INT(out[t], wy[t]);

    /* max |x| = 0: the bin of 0 */
    double z[] = {0.0, -0.0, 0.0};
    CHECK_INT(im_bin_adaptive(out, z, 3, 20), 0);
    for (int t = 0; t < 3; t++) CHECK_INT(out[t], 10);
    CHECK_INT(im_bin_adaptive(out, z, 3, 5), 0);
    for (int t = 0; t < 3; t++) CHECK_INT(out[t], 2);

    /* scale invariance */
    double a[8], b[8];
    uint16_t oa[8], ob[8];
    for (int t = 0; t < 8; t++) {
        a[t] = x[t] * 1e-7;
        b[t] = x[t] * 3.5e5;
    }
    CHECK_INT(im_bin_adaptive(oa, a, 8, 20), 0);
    CHECK_INT(im_bin_adaptive(ob, b, 8, 20), 0);
    for (int t = 0; t < 8; t++) {
        CHECK_INT(oa[t], want[t]);
        CHECK_INT(ob[t], want[t]);
    }
}

static void test_nonfinite(void)
{
    uint16_t out[3];
    double x[] = {1.0, NAN, 2.0};
    double y[] = {1.0, -INFINITY, 2.0};
    CHECK_INT(im_bin_fixed(out, x, 3, 20, -20.0, 20.0), IM_ENUMERIC);
    CHECK_INT(im_bin_fixed(out, y, 3, 20, -20.0, 20.0), IM_ENUMERIC);
    CHECK_INT(im_bin_adaptive(out, x, 3, 20), IM_ENUMERIC);
    CHECK_INT(im_bin_adaptive(out, y, 3, 20), IM_ENUMERIC);
}

static void test_check(void)
{
    im_error err;
    im_binning ok = {IM_BIN_FIXED, 20, -20.0, 20.0};
    im_binning ad = {IM_BIN_ADAPTIVE, 20, 0.0, 0.0};
    im_binning b0 = {IM_BIN_FIXED, 0, -1.0, 1.0};
    im_binning big = {IM_BIN_FIXED, 65536, -1.0, 1.0};
    im_binning inv = {IM_BIN_FIXED, 20, 1.0, 1.0};
    im_binning nan = {IM_BIN_FIXED, 20, NAN, 1.0};
    CHECK_INT(im_binning_check(&ok, NULL), 0);
    CHECK_INT(im_binning_check(&ad, NULL), 0);
    CHECK_INT(im_binning_check(&b0, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "bins");
    CHECK_INT(im_binning_check(&big, NULL), IM_EINVAL);
    CHECK_INT(im_binning_check(&inv, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "lo < hi");
    CHECK_INT(im_binning_check(&nan, NULL), IM_EINVAL);
}

/* Both layouts give the same bins, and ldo interleaves sources as the layer does. */
static void test_layouts(void)
{
    enum { M = 5, N = 9, K = 3 };
    im_rng r;
    im_rng_seed(&r, 11, 0);
    double xs[N * M], xn[M * N], tmp[N]; /* sample-major [N][M], neuron-major [M][N] */
    for (int t = 0; t < N; t++)
        for (int j = 0; j < M; j++) xn[j * N + t] = xs[t * M + j] = im_rng_range(&r, -30, 30);
    const im_binning bs[2] = {{IM_BIN_FIXED, 20, -20.0, 20.0}, {IM_BIN_ADAPTIVE, 7, 0, 0}};
    for (int q = 0; q < 2; q++) {
        uint16_t a[M * K * N], b[M * K * N];
        memset(a, 0xff, sizeof a);
        memset(b, 0xff, sizeof b);
        int src = 1; /* fill source 1 of a [M][K][N] block */
        CHECK_INT(im_bin_neuron_major(&bs[q], a + src * N, K * N, xn, N, M, N), 0);
        CHECK_INT(im_bin_sample_major(&bs[q], b + src * N, K * N, xs, M, N, tmp), 0);
        int bad = 0, untouched = 0;
        for (int j = 0; j < M; j++)
            for (int i = 0; i < K; i++)
                for (int t = 0; t < N; t++) {
                    int p = (j * K + i) * N + t;
                    if (i != src) {
                        untouched += a[p] == 0xffff && b[p] == 0xffff;
                        continue;
                    }
                    bad += a[p] != b[p];
                    if (q == 0) bad += a[p] != naive_bin(xn[j * N + t], 20, -20.0, 20.0);
                }
        CHECK_INT(bad, 0);
        CHECK_INT(untouched, M * (K - 1) * N);
    }
    /* adaptive per neuron: each neuron's own max lands in its last bin */
    uint16_t c[M * N];
    im_binning ad = {IM_BIN_ADAPTIVE, 20, 0, 0};
    CHECK_INT(im_bin_neuron_major(&ad, c, N, xn, N, M, N), 0);
    for (int j = 0; j < M; j++) {
        int tmax = 0;
        for (int t = 1; t < N; t++)
            if (fabs(xn[j * N + t]) > fabs(xn[j * N + tmax])) tmax = t;
        CHECK_INT(c[j * N + tmax], xn[j * N + tmax] > 0 ? 19 : 0);
    }
}

int main(void)
{
    test_fixed_edges();
    test_fixed_random();
    test_adaptive();
    test_nonfinite();
    test_check();
    test_layouts();
    return TEST_END();
}
