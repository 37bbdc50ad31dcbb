/*
 * bench_pid: the PID of a trivariate hidden layer, one thread.
 *
 * 100 neurons, batch 1024, 20 bins per source on [-20, 20] (the paper's
 * hidden layer). Each neuron's three source values are correlated Gaussians
 * (correlation and scale drawn per neuron), so that a few hundred joint cells
 * are occupied, as in training; theta comes from the trivariate activation.
 * Prints milliseconds per batch (all 100 neurons) for the atoms alone and for
 * atoms + goal + gradient (thread CPU time, mean and best over the
 * repetitions), and the mean number of occupied cells.
 *
 * usage: bench_pid [repetitions]
 */
#include "pid.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K = 3, BINS = 20, NEURONS = 100, BATCH = 1024 };

/* CPU time of this thread: the figure does not depend on other load */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* fixed binning on [-20, 20], clamped into the first / last bin */
static uint16_t bin_of(double x)
{
    int b = (int)floor((x + 20.0) / 40.0 * BINS);
    return (uint16_t)(b < 0 ? 0 : b >= BINS ? BINS - 1 : b);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 20;
    if (argc > 2 || reps < 1) {
        int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: bench_pid [REPETITIONS >= 1]   (default 20)\n\n"
                "Milliseconds per batch of the sparse PID (k = 3, 20 bins per source, 100\n"
                "neurons, batch 1024, one thread): atoms only, and atoms + gradient.\n");
        return help ? 0 : 2;
    }
    im_rng r;
    im_rng_seed(&r, 12345, 0);
    uint16_t *bins = malloc((size_t)NEURONS * K * BATCH * sizeof(uint16_t)); /* [neuron][k][n] */
    double *theta = malloc((size_t)NEURONS * BATCH * sizeof(double));        /* [neuron][n] */
    double *dtheta = malloc((size_t)BATCH * sizeof(double));
    static uint8_t seen[BINS * BINS * BINS];
    long cells = 0;
    for (int u = 0; u < NEURONS; u++) {
        double rho = im_rng_range(&r, 0.0, 0.8), scale = im_rng_range(&r, 3.0, 8.0);
        memset(seen, 0, sizeof seen);
        for (int j = 0; j < BATCH; j++) {
            double z0 = im_rng_normal(&r), z1 = im_rng_normal(&r), z2 = im_rng_normal(&r);
            double s = sqrt(1 - rho * rho);
            double f = scale * z0, c = scale * (rho * z0 + s * z1), l = scale * (rho * z0 + s * z2);
            double x = f * (0.8 + 0.1 * sigmoid(2 * f * c) + 0.1 * sigmoid(2 * f * l)) / 4.0;
            double th = sigmoid(x);
            theta[(size_t)u * BATCH + j] = th < 1e-6 ? 1e-6 : th > 1 - 1e-6 ? 1 - 1e-6 : th;
            uint16_t *b = bins + (size_t)u * K * BATCH;
            b[j] = bin_of(f);
            b[BATCH + j] = bin_of(c);
            b[2 * BATCH + j] = bin_of(l);
            int cell = (b[j] * BINS + b[BATCH + j]) * BINS + b[2 * BATCH + j];
            if (!seen[cell]) cells++;
            seen[cell] = 1;
        }
    }
    double gamma[IM_MAX_TERMS];
    for (int a = 0; a < IM_MAX_TERMS; a++) gamma[a] = im_rng_range(&r, -1, 1);
    const int nb[K] = {BINS, BINS, BINS};
    im_error err = {0};
    im_pid *w = im_pid_new(K, nb, BATCH, &err);
    if (!w) {
        fprintf(stderr, "bench_pid: %s\n", err.msg);
        return 1;
    }

    double terms[IM_MAX_TERMS], goal, check = 0;
    double best[2] = {1e300, 1e300}, total[2] = {0, 0};
    for (int rep = 0; rep <= reps; rep++) { /* rep 0 warms up */
        for (int mode = 0; mode < 2; mode++) {
            double t0 = now_ms();
            for (int u = 0; u < NEURONS; u++) {
                const uint16_t *b = bins + (size_t)u * K * BATCH;
                const double *th = theta + (size_t)u * BATCH;
                int rc = mode == 0
                             ? im_pid_neuron(w, BATCH, b, th, NULL, terms, NULL, NULL, &err)
                             : im_pid_neuron(w, BATCH, b, th, gamma, terms, &goal, dtheta, &err);
                if (rc != 0) {
                    fprintf(stderr, "bench_pid: %s\n", err.msg);
                    return 1;
                }
                check += terms[0] + (mode ? dtheta[0] : 0);
            }
            double dt = now_ms() - t0;
            if (rep > 0) {
                total[mode] += dt;
                if (dt < best[mode]) best[mode] = dt;
            }
        }
    }
    printf("pid: k=%d, %d bins per source, %d neurons, batch %d, one thread, %d repetitions\n", K,
           BINS, NEURONS, BATCH, reps);
    printf("occupied cells per neuron: %.1f (of %d)\n", (double)cells / NEURONS,
           BINS * BINS * BINS);
    printf("atoms only:          %7.3f ms per batch (best %7.3f), %6.2f us per neuron\n",
           total[0] / reps, best[0], 1e3 * total[0] / reps / NEURONS);
    printf("atoms + gradient:    %7.3f ms per batch (best %7.3f), %6.2f us per neuron\n",
           total[1] / reps, best[1], 1e3 * total[1] / reps / NEURONS);
    printf("(checksum %.6g)\n", check);
    im_pid_free(&w);
    free(bins);
    free(theta);
    free(dtheta);
    return 0;
}
