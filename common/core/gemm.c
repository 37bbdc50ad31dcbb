/*
 * gemm.c: row-major shapes onto cblas_dgemm and cblas_sgemm, with optional
 * timing.
 */
#include "gemm.h"

#include <cblas.h>
#include <time.h>

double im_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void im_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
             const double *b, double beta, double *c, double *seconds)
{
    if (m <= 0 || n <= 0) return;
    double t0 = seconds ? im_clock() : 0.0;
    if (k <= 0) {
        /* an empty product: only the beta scaling (BLAS would refuse lda = 0) */
        for (size_t i = 0; i < (size_t)m * (size_t)n; i++) c[i] = beta == 0.0 ? 0.0 : beta * c[i];
    } else {
        int lda = trans_a ? m : k; /* A stored [k][m] or [m][k] */
        int ldb = trans_b ? k : n; /* B stored [n][k] or [k][n] */
        cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    n);
    }
    if (seconds) *seconds += im_clock() - t0;
}

void im_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              const float *b, float beta, float *c, double *seconds)
{
    if (m <= 0 || n <= 0) return;
    double t0 = seconds ? im_clock() : 0.0;
    if (k <= 0) {
        for (size_t i = 0; i < (size_t)m * (size_t)n; i++) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    } else {
        int lda = trans_a ? m : k;
        int ldb = trans_b ? k : n;
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    n);
    }
    if (seconds) *seconds += im_clock() - t0;
}
