/*
 * bench_pid: the PID of a trivariate hidden layer, one thread.
 *
 * 100 neurons, batch 1024, 20 bins per source on [-20, 20] (the paper's
 * hidden layer), two kinds of input:
 *
 *   drawn:    each neuron's three source values are correlated Gaussians
 *             (correlation and scale drawn per neuron), so that a few hundred
 *             joint cells are occupied: a stress case for the sparse tables;
 *   training: the bins and theta a real training batch produces: the hidden
 *             layer of the paper's setting at initialisation (seed 1) on the
 *             first 1024 training images of mnist10k, after both recurrent
 *             steps, exactly as a training step hands them to the PID. Real
 *             batches fill far fewer cells, so this is the figure training
 *             pays. Skipped if the data is not there.
 *
 * The occupancy printed is the number of occupied joint source cells
 * (bin of source 1, 2, 3) per neuron: 8.5 on this batch. Each sample puts
 * mass on both values of the output (theta and 1 - theta, never 0), so the
 * occupied cells of (y, s1, s2, s3) are exactly twice as many: 17. Training
 * spreads the sources: over a 10-epoch trial of the paper's setting (seed 1,
 * paper-optimized) the mean source cells per neuron and batch grow from 8.5
 * at the first batch to about 20 a quarter of the way and about 33 at the
 * end (26 over the whole trial), still far below the drawn input's 580.
 */
#include "dataset.h"
#include "layer.h"
#include "network.h"
#include "pid.h"
#include "rng.h"
#include "train_spec.h"

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

/* Occupied joint cells of bins [NEURONS][K][BATCH], summed over the neurons. */
static long count_cells(const uint16_t *bins)
{
    static uint8_t seen[BINS * BINS * BINS];
    long cells = 0;
    for (int u = 0; u < NEURONS; u++) {
        const uint16_t *b = bins + (size_t)u * K * BATCH;
        memset(seen, 0, sizeof seen);
        for (int j = 0; j < BATCH; j++) {
            int cell = (b[j] * BINS + b[BATCH + j]) * BINS + b[2 * BATCH + j];
            cells += !seen[cell];
            seen[cell] = 1;
        }
    }
    return cells;
}

/* The drawn input: correlated Gaussians per neuron. */
static void draw_input(uint16_t *bins, double *theta)
{
    im_rng r;
    im_rng_seed(&r, 12345, 0);
    for (int u = 0; u < NEURONS; u++) {
        double rho = im_rng_range(&r, 0.0, 0.8), scale = im_rng_range(&r, 3.0, 8.0);
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
        }
    }
}

/* The training input: the paper's hidden layer at initialisation on a real
 * batch, both recurrent steps (as network.c runs them), then binned. Returns
 * 0, or -1 if the dataset cannot be loaded (message on stderr). */
static int training_input(const char *data_dir, uint16_t *bins, double *theta)
{
    im_train_spec ts;
    im_train_spec_default(&ts); /* trivariate setup 1, 100 hidden, 20 bins on [-20, 20] */
    im_dataset ds;
    im_error err = {0};
    if (im_dataset_load(&ds, data_dir, ts.dataset, ts.seed, &err)) {
        fprintf(stderr, "bench_pid: %s\n", err.msg);
        return -1;
    }
    int n_cls = (int)ds.n_classes, rc = -1;
    im_layer_spec ls;
    memset(&ls, 0, sizeof ls);
    ls.k = K;
    ls.n_out = NEURONS;
    ls.n_max = BATCH;
    ls.act = im_activation_trivariate();
    ls.lr = ts.lr_hidden;
    ls.wd = ts.wd_hidden;
    im_binning b = {.kind = IM_BIN_FIXED, .bins = BINS, .lo = -20.0, .hi = 20.0};
    for (int i = 0; i < K; i++) ls.src[i].binning = b;
    ls.src[0].n_in = (int)ds.dim;
    ls.src[1].n_in = n_cls;
    ls.src[2].n_in = NEURONS;
    ls.src[2].mask = IM_MASK_NO_SELF;
    memcpy(ls.gamma, ts.gamma, sizeof ls.gamma);
    im_rng init, sampling;
    im_rng_seed(&init, ts.seed, IM_STREAM_INIT);
    im_rng_seed(&sampling, ts.seed, IM_STREAM_TRAIN_SAMPLING);
    im_layer *l = im_layer_new(&ls, &init, &err);
    double *x = malloc((size_t)BATCH * ds.dim * sizeof(double));
    double *onehot = calloc((size_t)BATCH * (size_t)n_cls, sizeof(double));
    double *lateral = malloc((size_t)BATCH * NEURONS * sizeof(double));
    uint8_t *labels = malloc(BATCH);
    if (!l || !x || !onehot || !lateral || !labels || ds.part[IM_SPLIT_TRAIN].n < BATCH) {
        fprintf(stderr, "bench_pid: unable to set up the training batch\n");
        goto done;
    }
    im_dataset_batch(&ds, IM_SPLIT_TRAIN, NULL, BATCH, x, labels);
    for (int t = 0; t < BATCH; t++) onehot[(size_t)t * n_cls + labels[t]] = 1.0;
    const double *in[K] = {x, onehot, NULL};
    if (im_layer_forward(l, BATCH, in, &err)) goto fail;
    im_layer_sample(l, &sampling);
    memcpy(lateral, im_layer_output(l), (size_t)BATCH * NEURONS * sizeof(double));
    if (im_layer_forward_source(l, 2, lateral, &err) || im_layer_bin(l, &err)) goto fail;
    memcpy(bins, im_layer_bins(l), (size_t)NEURONS * K * BATCH * sizeof(uint16_t));
    memcpy(theta, im_layer_theta(l), (size_t)NEURONS * BATCH * sizeof(double));
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bench_pid: %s\n", err.msg);
done:
    im_layer_free(&l);
    im_dataset_release(&ds);
    free(x);
    free(onehot);
    free(lateral);
    free(labels);
    return rc;
}

/* Time the PID of every neuron of one batch; prints the figures. */
static int time_pid(const char *what, const uint16_t *bins, const double *theta, int reps)
{
    im_rng r;
    im_rng_seed(&r, 54321, 0);
    double gamma[IM_MAX_TERMS];
    for (int a = 0; a < IM_MAX_TERMS; a++) gamma[a] = im_rng_range(&r, -1, 1);
    const int nb[K] = {BINS, BINS, BINS};
    im_error err = {0};
    im_pid *w = im_pid_new(K, nb, BATCH, &err);
    if (!w) {
        fprintf(stderr, "bench_pid: %s\n", err.msg);
        return 1;
    }
    double *dtheta = malloc((size_t)BATCH * sizeof(double));
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
                    free(dtheta);
                    im_pid_free(&w);
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
    printf("%s: occupied joint source cells (s1, s2, s3) per neuron %.1f (of %d)\n", what,
           (double)count_cells(bins) / NEURONS, BINS * BINS * BINS);
    printf("  atoms only:          %7.3f ms per batch (best %7.3f), %6.2f us per neuron\n",
           total[0] / reps, best[0], 1e3 * total[0] / reps / NEURONS);
    printf("  atoms + gradient:    %7.3f ms per batch (best %7.3f), %6.2f us per neuron\n",
           total[1] / reps, best[1], 1e3 * total[1] / reps / NEURONS);
    printf("  (checksum %.6g)\n", check);
    free(dtheta);
    im_pid_free(&w);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 20;
    if (argc > 2 || reps < 1) {
        int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: bench_pid [REPETITIONS >= 1]   (default 20)\n\n"
                "Milliseconds per batch of the sparse PID (k = 3, 20 bins per source, 100\n"
                "neurons, batch 1024, one thread): atoms only, and atoms + gradient, on drawn\n"
                "input and on a real training batch (mnist10k from $IM_DATA_DIR, else\n"
                "$INFOMORPH_DATA, else ./data).\n");
        return help ? 0 : 2;
    }
    const char *data_dir = getenv("IM_DATA_DIR");
    if (!data_dir) data_dir = getenv("INFOMORPH_DATA");
    if (!data_dir) data_dir = "data";
    uint16_t *bins = malloc((size_t)NEURONS * K * BATCH * sizeof(uint16_t)); /* [neuron][k][n] */
    double *theta = malloc((size_t)NEURONS * BATCH * sizeof(double));        /* [neuron][n] */
    if (!bins || !theta) {
        fprintf(stderr, "bench_pid: out of memory\n");
        return 1;
    }
    printf("pid: k=%d, %d bins per source, %d neurons, batch %d, one thread, %d repetitions\n", K,
           BINS, NEURONS, BATCH, reps);
    draw_input(bins, theta);
    int rc = time_pid("drawn input (correlated Gaussians)", bins, theta, reps);
    if (!rc) {
        if (training_input(data_dir, bins, theta) == 0)
            rc = time_pid("training input (mnist10k batch, hidden layer at initialisation)", bins,
                          theta, reps);
        else
            printf("training input: skipped (no mnist10k under %s)\n", data_dir);
    }
    free(bins);
    free(theta);
    return rc;
}
