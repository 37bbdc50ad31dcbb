/*
 * binning.c: fixed and adaptive normalised symmetric binning (see binning.h).
 * The inner loops are branch-free and contiguous, so they vectorise; they run
 * k * n_out * n times per batch, which is small next to the GEMMs. Non-finite
 * input is refused before anything is written.
 */
#include "binning.h"

#include "vmath.h"

#include <math.h>
#include <string.h>

int im_binning_check(const im_binning *b, im_error *err)
{
    if (b->bins < 1 || b->bins > 65535)
        return im_error_set(err, IM_EINVAL, "binning: bins must be in 1..65535, not %d", b->bins);
    if (b->kind == IM_BIN_FIXED) {
        if (!isfinite(b->lo) || !isfinite(b->hi) || !(b->lo < b->hi))
            return im_error_set(err, IM_EINVAL, "binning: need finite lo < hi, not [%g, %g]", b->lo,
                                b->hi);
    } else if (b->kind != IM_BIN_ADAPTIVE) {
        return im_error_set(err, IM_EINVAL, "binning: unknown kind %d", (int)b->kind);
    }
    return 0;
}

/* Bin of v = (x - lo) * bins / (hi - lo), clamped into 0 .. bins - 1. v must
 * not be NaN. Truncation is floor for v >= 0. Written as selects on doubles
 * so that the loops calling it vectorise (the core is built with
 * -fno-trapping-math). */
static inline uint16_t bin_of(double v, int bins)
{
    v = v < 0.0 ? 0.0 : v;
    v = v >= (double)bins ? (double)(bins - 1) : v;
    return (uint16_t)(int)v;
}

IM_VECTOR_FN int im_bin_fixed(uint16_t *out, const double *x, int n, int bins, double lo, double hi)
{
    if (im_any_not_finite(x, n)) return IM_ENUMERIC;
    const double scale = (double)bins / (hi - lo);
    for (int t = 0; t < n; t++) out[t] = bin_of((x[t] - lo) * scale, bins);
    return 0;
}

IM_VECTOR_FN int im_bin_adaptive(uint16_t *out, const double *x, int n, int bins)
{
    if (im_any_not_finite(x, n)) return IM_ENUMERIC;
    /* max |x| as the largest magnitude bit pattern: for finite doubles the
     * order of |x| is the order of (bits & ~sign) as integers */
    uint64_t mbits = 0;
    for (int t = 0; t < n; t++) {
        uint64_t u;
        memcpy(&u, &x[t], sizeof u);
        u &= 0x7fffffffffffffffu;
        mbits = u > mbits ? u : mbits;
    }
    double mx;
    memcpy(&mx, &mbits, sizeof mx);
    if (mx == 0.0) {
        for (int t = 0; t < n; t++) out[t] = (uint16_t)(bins / 2);
        return 0;
    }
    /* u = x / mx in [-1, 1], then bins equal bins on [-1, 1] */
    const double half = 0.5 * (double)bins;
    for (int t = 0; t < n; t++) out[t] = bin_of((x[t] / mx + 1.0) * half, bins);
    return 0;
}

int im_bin_vector(const im_binning *b, uint16_t *out, const double *x, int n)
{
    if (b->kind == IM_BIN_ADAPTIVE) return im_bin_adaptive(out, x, n, b->bins);
    return im_bin_fixed(out, x, n, b->bins, b->lo, b->hi);
}

int im_bin_neuron_major(const im_binning *b, uint16_t *out, int ldo, const double *x, int ldx,
                        int m, int n)
{
    for (int j = 0; j < m; j++) {
        int rc = im_bin_vector(b, out + (size_t)j * (size_t)ldo, x + (size_t)j * (size_t)ldx, n);
        if (rc) return rc;
    }
    return 0;
}

int im_bin_sample_major(const im_binning *b, uint16_t *out, int ldo, const double *x, int m, int n,
                        double *tmp)
{
    for (int j = 0; j < m; j++) {
        for (int t = 0; t < n; t++) tmp[t] = x[(size_t)t * (size_t)m + (size_t)j];
        int rc = im_bin_vector(b, out + (size_t)j * (size_t)ldo, tmp, n);
        if (rc) return rc;
    }
    return 0;
}
