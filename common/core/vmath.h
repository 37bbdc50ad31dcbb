/*
 * vmath.h: exp and the logistic sigmoid written so that a loop calling them
 * vectorises (no calls, no tables, selects instead of branches): the
 * activation evaluates three sigmoids per neuron, sample and recurrent step,
 * and libm's exp() is a call per value that no compiler can vectorise.
 *
 * Method: Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2 (ln2 split into
 * a 32-bit head, so n * head is exact, and a tail); exp(r) = P(r) / P(-r), the
 * [6/6] Pade approximant (truncation error below 2e-19 relative on that
 * interval); 2^n built in the exponent bits. im_sigmoid(u) = 1 / (1 + exp(-u))
 * folds both divisions into one: Q / (Q + 2^n P).
 *
 * Accuracy (test_vmath, against libm on a dense grid of [-708, 709] and at
 * the ends): im_exp within 4 ulp relative (IM_EXP_MAX_REL_ERR); im_sigmoid
 * within 4e-16 absolute and 1e-15 relative. Outside [-708, 709] the argument
 * is clamped: x > 709 gives exp(709) ~ 8.2e307 instead of overflowing to
 * infinity, x < -708 gives exp(-708) ~ 3.3e-308 instead of a subnormal or 0;
 * the sigmoid is then within 1.3e-307 of libm's 0 or 1. NaN gives NaN.
 *
 * Only +, -, * and / in a fixed order and no contraction (ISO C mode compiles
 * with -ffp-contract=off), so a scalar loop and an SSE2, AVX2 or AVX-512 loop
 * give the same bits: the vector width of a build or of a CPU does not change
 * a trial's numbers. The clamps are selects: the core is compiled with
 * -fno-trapping-math so that the compiler may evaluate them branch-free.
 * Header-only because the loops must inline it. Pure functions, thread-safe.
 */
#ifndef IM_VMATH_H
#define IM_VMATH_H

#include <stdint.h>
#include <string.h>

/* A hot loop's function: never inlined (its restrict parameters keep their
 * meaning), and on x86-64 with GCC cloned for AVX-512 and AVX2 and picked at
 * load time (ifunc), so the portable build runs 8- or 4-wide on the CPUs that
 * have it. The clones compute the same bits (see above). IM_NATIVE builds
 * (-march=native) define IM_NO_TARGET_CLONES and need no clones. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(IM_NO_TARGET_CLONES)
#define IM_VECTOR_FN __attribute__((noinline, target_clones("arch=x86-64-v4", "avx2", "default")))
#elif defined(__GNUC__)
#define IM_VECTOR_FN __attribute__((noinline))
#else
#define IM_VECTOR_FN
#endif

#define IM_EXP_MAX_ARG     709.0
#define IM_EXP_MIN_ARG     (-708.0)
#define IM_EXP_MAX_REL_ERR 8.9e-16 /* 4 ulp of 1.0 */

/* x = n ln2 + r: returns r, sets *scale = 2^n and *np, *nq to the numerator
 * and denominator of exp(r) = np / nq. x clamped to [IM_EXP_MIN_ARG,
 * IM_EXP_MAX_ARG]. */
static inline double im_exp_parts(double x, double *scale, double *np, double *nq)
{
    const double log2e = 0x1.71547652b82fep0;
    const double ln2_hi = 0x1.62e42fee00000p-1; /* 32 significant bits */
    const double ln2_lo = 0x1.a39ef35793c76p-33;
    const double shift = 0x1.8p52; /* adding it rounds to an integer in the low bits */
    x = x > IM_EXP_MAX_ARG ? IM_EXP_MAX_ARG : x;
    x = x < IM_EXP_MIN_ARG ? IM_EXP_MIN_ARG : x;
    double kd = x * log2e + shift;
    uint64_t ki;
    memcpy(&ki, &kd, sizeof ki); /* low bits: n + 2^51, n in -1021 .. 1023 */
    kd -= shift;                 /* n as a double */
    const double r = (x - kd * ln2_hi) - kd * ln2_lo;
    /* Pade [6/6]: P(r) = E(r^2) + r O(r^2), exp(r) = P(r) / P(-r) */
    const double r2 = r * r;
    const double e = 1.0 + r2 * (5.0 / 44.0 + r2 * (1.0 / 792.0 + r2 * (1.0 / 665280.0)));
    const double o = r * (0.5 + r2 * (1.0 / 66.0 + r2 * (1.0 / 15840.0)));
    *np = e + o;
    *nq = e - o;
    /* 2^n: (n + 1023) in the exponent field; the 2^51 offset wraps away */
    const uint64_t bits = (ki + 1023u) << 52;
    memcpy(scale, &bits, sizeof *scale);
    return r;
}

static inline double im_exp(double x)
{
    double scale, np, nq;
    (void)im_exp_parts(x, &scale, &np, &nq);
    return scale * np / nq;
}

/* 1 / (1 + exp(-u)) as nq / (nq + 2^n np): one division. */
static inline double im_sigmoid(double u)
{
    double scale, np, nq;
    (void)im_exp_parts(-u, &scale, &np, &nq);
    return nq / (nq + scale * np);
}

/* Non-zero if any x [n] is NaN or infinite: an exponent of all ones carries
 * into the top bit. Integer-only, so the loop vectorises (isfinite() in a
 * loop with an early exit does not). */
static inline int im_any_not_finite(const double *x, int n)
{
    const uint64_t exp_mask = 0x7ff0000000000000u, exp_one = (uint64_t)1 << 52;
    uint64_t acc = 0;
    for (int t = 0; t < n; t++) {
        uint64_t u;
        memcpy(&u, &x[t], sizeof u);
        acc |= (u & exp_mask) + exp_one;
    }
    return (int)(acc >> 63);
}

#endif /* IM_VMATH_H */
