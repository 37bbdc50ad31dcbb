/*
 * gemm.h: the dense matrix products of infomorph, thin wrappers around
 * CBLAS dgemm and sgemm that speak in row-major shapes. Every layer GEMM goes
 * through here, so there is one place to time, count or replace the BLAS.
 *
 *   C[m][n] = alpha * op(A) op(B) + beta * C,   op(A) [m][k], op(B) [k][n]
 *
 * A is stored [m][k] (IM_NO_TRANS) or [k][m] (IM_TRANS), B is stored [k][n]
 * or [n][k]; all row-major and dense (leading dimension = row length).
 * Thread-safety: as the BLAS (OpenBLAS is thread-safe; its own thread count
 * is set by OPENBLAS_NUM_THREADS).
 */
#ifndef IM_GEMM_H
#define IM_GEMM_H

enum { IM_NO_TRANS = 0, IM_TRANS = 1 };

/* C [m][n] = alpha * op(A) * op(B) + beta * C, with the shapes above.
 * m, n, k >= 0 (a zero dimension is a no-op apart from beta scaling by the BLAS).
 * When seconds is non-NULL, the wall time spent in the call (monotonic clock) is
 * added to *seconds. Never fails; arguments are trusted (programming errors). */
void im_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
             const double *b, double beta, double *c, double *seconds);

/* im_gemm in single precision (cblas_sgemm): the same shapes and contract.
 * Twice the products per cycle of dgemm and half the bytes packed; each
 * product is rounded to float and summed in float, so a result carries a
 * relative error of about 1e-7 times the sum of the absolute terms (see
 * layer.h on where the layers use it). */
void im_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              const float *b, float beta, float *c, double *seconds);

/* Seconds on the monotonic clock since an arbitrary origin (for timing). */
double im_clock(void);

#endif /* IM_GEMM_H */
