/*
 * bench_layer.c: time of one training step of the paper's trivariate hidden
 * layer (100 neurons, 784 inputs, 10 labels, dense lateral, batch 1024):
 * two recurrent forward passes with sampling, binning, the goal with its
 * gradient, and an Adam step. Prints the mean time per batch and the share
 * spent in GEMMs and in the PID. Run with OPENBLAS_NUM_THREADS=1 for the
 * one-core figure.
 * Usage: bench_layer [batches] [neurons]
 */
#include "gemm.h"
#include "layer.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of the process (robust to other load on the machine; with one BLAS
 * thread it is the time of this computation). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int batches = argc > 1 ? atoi(argv[1]) : 20;
    int n_out = argc > 2 ? atoi(argv[2]) : 100;
    enum { N = 1024, NF = 784, NC = 10 };
    if (batches < 1 || n_out < 2) {
        fprintf(stderr, "usage: bench_layer [batches >= 1] [neurons >= 2]\n");
        return 2;
    }
    im_rng r;
    im_rng_seed(&r, 1, 0);
    im_layer_spec s;
    memset(&s, 0, sizeof s);
    s.k = 3;
    s.n_out = n_out;
    s.n_max = N;
    s.act = im_activation_trivariate();
    s.lr = 0.002;
    s.wd = 0.00035;
    for (int q = 0; q < 19; q++) s.gamma[q] = im_rng_range(&r, -1, 1);
    s.gamma[18] = 0;
    im_binning b = {IM_BIN_FIXED, 20, -20.0, 20.0};
    s.src[0] = (im_source_spec){.n_in = NF, .binning = b};
    s.src[1] = (im_source_spec){.n_in = NC, .binning = b};
    s.src[2] = (im_source_spec){.n_in = n_out, .binning = b, .mask = IM_MASK_NO_SELF};
    im_error err;
    im_layer *l = im_layer_new(&s, &r, &err);
    if (!l) {
        fprintf(stderr, "bench_layer: %s\n", err.msg);
        return 1;
    }
    double *img = malloc(sizeof(double) * N * NF), *lab = calloc(N * NC, sizeof(double));
    if (!img || !lab) return 1;
    for (int q = 0; q < N * NF; q++) img[q] = im_rng_normal(&r);
    for (int t = 0; t < N; t++) lab[t * NC + (int)im_rng_below(&r, NC)] = 1.0;

    double t_fwd = 0, t_goal = 0, t_step = 0, goal = 0;
    double t0 = im_clock(), c0 = cpu_seconds();
    for (int it = 0; it < batches; it++) {
        double a = im_clock();
        const double *in1[3] = {img, lab, NULL};
        if (im_layer_forward(l, N, in1, &err)) goto fail;
        im_layer_sample(l, &r);
        /* second recurrent step: only the lateral input changes */
        if (im_layer_forward_source(l, 2, im_layer_output(l), &err)) goto fail;
        im_layer_sample(l, &r);
        double bt = im_clock();
        if (im_layer_bin(l, &err) || im_layer_goal(l, NULL, &goal, &err)) goto fail;
        double c = im_clock();
        im_layer_step(l);
        double d = im_clock();
        t_fwd += bt - a;
        t_goal += c - bt;
        t_step += d - c;
    }
    double total = im_clock() - t0, cpu = cpu_seconds() - c0, gemm_s, pid_s;
    im_layer_timing(l, &gemm_s, &pid_s);
    printf("hidden layer k=3, %d neurons, %d inputs, batch %d, %d batches\n", n_out, NF, N,
           batches);
    printf("per batch: %.2f ms (2 forwards + sampling %.2f, bin + goal + backward %.2f, "
           "adam %.2f)\n",
           1e3 * total / batches, 1e3 * t_fwd / batches, 1e3 * t_goal / batches,
           1e3 * t_step / batches);
    printf("  cpu time per batch %.2f ms\n", 1e3 * cpu / batches);
    printf("  of which GEMM %.2f ms, PID %.2f ms; last goal %.4f bits\n", 1e3 * gemm_s / batches,
           1e3 * pid_s / batches, goal);
    im_layer_free(&l);
    free(img);
    free(lab);
    return 0;
fail:
    fprintf(stderr, "bench_layer: %s\n", err.msg);
    im_layer_free(&l);
    free(img);
    free(lab);
    return 1;
}
