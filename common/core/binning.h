/*
 * binning.h: turning a layer's source values into the discrete bin indices the
 * PID estimator needs (INFOMORPHIC.md, section 2).
 *
 * - fixed binning: `bins` equal bins over [lo, hi]; bin j is
 *   [lo + j*w, lo + (j+1)*w) with w = (hi - lo) / bins; values below lo fall in
 *   bin 0, values at or above hi in bin bins - 1 (so hi itself is in the last bin).
 * - adaptive normalised symmetric binning: per neuron, divide by max |x| over the
 *   batch, then fixed binning with `bins` bins on [-1, 1]. If max |x| is 0 (all
 *   values zero) every value falls in the bin containing 0, i.e. bins / 2.
 *
 * Output layout is the one im_pid_neuron wants: per neuron, n contiguous uint16
 * indices. Input may be neuron-major ([m][n], contiguous per neuron, the layout
 * im_layer keeps) or sample-major ([n][m], a batch of rows).
 * Non-finite values are refused with IM_ENUMERIC (nothing else is checked in the
 * hot path; bins in 1..65535, lo < hi are the caller's contract, checked by
 * im_binning_check). Pure functions on caller-owned memory: thread-safe.
 */
#ifndef IM_BINNING_H
#define IM_BINNING_H

#include "im.h"

#include <stdint.h>

typedef enum { IM_BIN_FIXED = 0, IM_BIN_ADAPTIVE = 1 } im_bin_kind;

typedef struct im_binning {
    im_bin_kind kind;
    int bins;      /* number of bins, 1..65535 */
    double lo, hi; /* range of IM_BIN_FIXED (ignored for IM_BIN_ADAPTIVE: [-1, 1]) */
} im_binning;

/* Validate a binning: 0, or IM_EINVAL with err naming the problem. */
int im_binning_check(const im_binning *b, im_error *err);

/* Fixed binning of one vector: out [n] = bin of x [n] over [lo, hi].
 * Returns 0, or IM_ENUMERIC if a value is NaN or infinite (out is then partial). */
int im_bin_fixed(uint16_t *out, const double *x, int n, int bins, double lo, double hi);

/* Adaptive normalised symmetric binning of one neuron's batch x [n] -> out [n].
 * Returns 0 or IM_ENUMERIC. */
int im_bin_adaptive(uint16_t *out, const double *x, int n, int bins);

/* One vector with the binning b (dispatches to the two above). */
int im_bin_vector(const im_binning *b, uint16_t *out, const double *x, int n);

/*
 * A matrix of m neurons by n samples.
 *   x    neuron-major: x[j*ldx + t] is neuron j, sample t (ldx >= n)
 *   out  out[j*ldo + t]                                   (ldo >= n)
 * ldo lets the caller interleave sources (im_layer uses out = bins + i*n with
 * ldo = k*n to fill the [m][k][n] block of source i). Returns 0 or IM_ENUMERIC.
 */
int im_bin_neuron_major(const im_binning *b, uint16_t *out, int ldo, const double *x, int ldx,
                        int m, int n);

/* Same for sample-major input x [n][m] (x[t*m + j]). tmp is scratch of n doubles
 * (the gather of one neuron's column). Returns 0 or IM_ENUMERIC. */
int im_bin_sample_major(const im_binning *b, uint16_t *out, int ldo, const double *x, int m, int n,
                        double *tmp);

#endif /* IM_BINNING_H */
