/*
 * test_vmath.c: im_exp and im_sigmoid (vmath.h) against libm over the whole
 * range the activation uses, at the clamps and beyond, on special values, and
 * scalar against vectorised loops (the same bits).
 */
#include "rng.h"
#include "test.h"
#include "vmath.h"

#include <float.h>
#include <stdint.h>

/* |a - b| / |b| */
static double rel_err(double a, double b)
{
    return fabs(a - b) / fabs(b);
}

/* A dense grid of [-708, 709] (step 1e-3, about 1.4 million points) plus
 * random points: the documented bounds hold. */
static void test_exp_range(void)
{
    double worst = 0.0, worst_x = 0.0;
    int n = 0;
    for (double x = IM_EXP_MIN_ARG; x <= IM_EXP_MAX_ARG; x += 1e-3, n++) {
        double e = rel_err(im_exp(x), exp(x));
        if (e > worst) worst = e, worst_x = x;
    }
    im_rng r;
    im_rng_seed(&r, 7, 0);
    for (int i = 0; i < 200000; i++, n++) {
        double x = im_rng_range(&r, -40.0, 40.0); /* where the activation lives */
        double e = rel_err(im_exp(x), exp(x));
        if (e > worst) worst = e, worst_x = x;
    }
    CHECK_MSG(worst <= IM_EXP_MAX_REL_ERR,
              "im_exp: relative error %.3g at x = %.17g over %d points", worst, worst_x, n);
    /* exact at 0, within a few ulp at the ends and next to the reduction's
     * boundaries (x = (n + 1/2) ln2) */
    CHECK(im_exp(0.0) == 1.0);
    double edges[] = {IM_EXP_MIN_ARG, IM_EXP_MAX_ARG, 0.5 * M_LN2, -0.5 * M_LN2, 1.5 * M_LN2,
                      -700.5 * M_LN2, 1e-300,         -1e-300,     1.0,          -1.0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        CHECK_MSG(rel_err(im_exp(edges[i]), exp(edges[i])) <= IM_EXP_MAX_REL_ERR,
                  "im_exp(%.17g) = %.17g, libm %.17g", edges[i], im_exp(edges[i]), exp(edges[i]));
}

/* Beyond the range: clamped, finite, monotone; NaN stays NaN. */
static void test_exp_clamps(void)
{
    CHECK(im_exp(710.0) == im_exp(IM_EXP_MAX_ARG));
    CHECK(im_exp(1e308) == im_exp(IM_EXP_MAX_ARG));
    CHECK(im_exp(INFINITY) == im_exp(IM_EXP_MAX_ARG));
    CHECK(isfinite(im_exp(INFINITY)) && im_exp(INFINITY) > 8e307);
    CHECK(im_exp(-709.0) == im_exp(IM_EXP_MIN_ARG));
    CHECK(im_exp(-INFINITY) == im_exp(IM_EXP_MIN_ARG));
    CHECK(im_exp(-INFINITY) > 0.0 && im_exp(-INFINITY) < 4e-308);
    CHECK(isnan(im_exp(NAN)));
    CHECK(isnan(im_sigmoid(NAN)));
}

static void test_sigmoid(void)
{
    double worst_abs = 0.0, worst_rel = 0.0;
    for (double u = -750.0; u <= 750.0; u += 7.3e-4) {
        double want = 1.0 / (1.0 + exp(-u)), got = im_sigmoid(u);
        double d = fabs(got - want);
        if (d > worst_abs) worst_abs = d;
        if (want > 1e-300 && d / want > worst_rel) worst_rel = d / want;
    }
    CHECK_MSG(worst_abs <= 4e-16, "im_sigmoid: absolute error %.3g", worst_abs);
    CHECK_MSG(worst_rel <= 1e-15, "im_sigmoid: relative error %.3g", worst_rel);
    CHECK(im_sigmoid(0.0) == 0.5);
    /* saturated ends: within 1.3e-307 of 0 and 1, never beyond */
    CHECK(im_sigmoid(800.0) == 1.0);
    CHECK(im_sigmoid(INFINITY) == 1.0);
    CHECK(im_sigmoid(-800.0) >= 0.0 && im_sigmoid(-800.0) < 1.3e-307);
    CHECK(im_sigmoid(-INFINITY) >= 0.0 && im_sigmoid(-INFINITY) < 1.3e-307);
}

/* The vectorised loop (this file is built with the project's -O3 in
 * Release) gives the same bits as one call at a time through a volatile
 * function pointer, which no compiler vectorises. */
static double sigmoid_call(double u)
{
    return im_sigmoid(u);
}

static void test_vector_equals_scalar(void)
{
    enum { N = 4099 };
    static double u[N], v[N];
    im_rng r;
    im_rng_seed(&r, 11, 0);
    for (int i = 0; i < N; i++) u[i] = im_rng_range(&r, -60.0, 60.0);
    for (int i = 0; i < N; i++) v[i] = im_sigmoid(u[i]);
    double (*volatile one)(double) = sigmoid_call;
    int same = 1;
    for (int i = 0; i < N; i++) same &= memcmp(&v[i], &(double){one(u[i])}, sizeof(double)) == 0;
    CHECK(same);
}

int main(void)
{
    test_exp_range();
    test_exp_clamps();
    test_sigmoid();
    test_vector_equals_scalar();
    return TEST_END();
}
