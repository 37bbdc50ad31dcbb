/*
 * bench_train.c: how long one training epoch takes and how much memory a run
 * needs, on one thread.
 *
 *   1. seconds per training epoch on mnist10k's training part (7,000 images):
 *      trivariate setup 1, 100 hidden neurons, batch 1024 (shuffle, batch
 *      standardisation, forward, PID goals, gradients, Adam; no evaluation),
 *      with the split between matrix products, PID and the rest;
 *   2. a whole im_train_run epoch (training plus evaluation of val and test);
 *   3. peak resident memory (ru_maxrss) of a child process that trains one
 *      epoch on a synthetic MNIST-sized dataset of 60,000 training images
 *      (validation split off by the seed) and 10,000 test images.
 *
 * Targets: <= 0.34 s per training epoch (the published PyTorch code needs
 * 8.4 s), <= 200 MB peak. Exit status 1 if a target is missed or something
 * failed. Usage: bench_train [DATA_DIR] (default $IM_DATA_DIR, else ./data).
 */
#include "dataset.h"
#include "network.h"
#include "rng.h"
#include "train_spec.h"
#include "train.h"

#include "gemm.h"
#include "synth_data.h"
#include "test_util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EPOCHS_TIMED    5
#define TARGET_EPOCH_S  0.34
#define TARGET_PEAK_MB  200.0
#define SYNTHETIC_TRAIN 60000u
#define SYNTHETIC_TEST  10000u

static void one_thread(void)
{
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(1);
#endif
}

static im_train_spec bench_spec(void)
{
    im_train_spec s;
    im_train_spec_default(&s); /* trivariate, 100 hidden, batch 1024, paper-heuristic */
    s.threads = 1;
    return s;
}

/* ---- 1. the training epoch, timed at the network level ------------------ */

static int bench_epoch(const char *data_dir, double *epoch_s)
{
    im_train_spec s = bench_spec();
    im_dataset ds;
    im_error err = {0};
    if (im_dataset_load(&ds, data_dir, s.dataset, s.seed, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return -1;
    }
    im_network *net = im_network_new(&s, (int)ds.dim, (int)ds.n_classes, &err);
    if (!net) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        im_dataset_release(&ds);
        return -1;
    }
    uint32_t n = ds.part[IM_SPLIT_TRAIN].n;
    uint32_t *order = malloc(n * sizeof *order);
    double *x = malloc((size_t)s.batch * ds.dim * sizeof *x);
    uint8_t *y = malloc((size_t)s.batch);
    if (!order || !x || !y) {
        fprintf(stderr, "bench_train: out of memory\n");
        return -1;
    }
    for (uint32_t t = 0; t < n; t++) order[t] = t;
    im_rng shuffle;
    im_rng_seed(&shuffle, s.seed, IM_STREAM_SHUFFLE);

    double best = 1e30, sum = 0, g0 = 0, p0 = 0, g1, p1;
    int rc = 0;
    for (int e = 0; e <= EPOCHS_TIMED && !rc; e++) { /* epoch 0 warms up */
        if (e == 1) im_network_timing(net, &g0, &p0);
        double t0 = im_clock();
        im_rng_shuffle(&shuffle, order, n);
        for (uint32_t b = 0; b < n && !rc; b += (uint32_t)s.batch) {
            uint32_t nb = n - b < (uint32_t)s.batch ? n - b : (uint32_t)s.batch;
            im_dataset_batch(&ds, IM_SPLIT_TRAIN, order + b, nb, x, y);
            rc = im_network_train_batch(net, (int)nb, x, y, 1, NULL, NULL, &err);
        }
        double dt = im_clock() - t0;
        if (e > 0) {
            sum += dt;
            if (dt < best) best = dt;
        }
    }
    if (rc) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
    } else {
        im_network_timing(net, &g1, &p1);
        double mean = sum / EPOCHS_TIMED, g = (g1 - g0) / EPOCHS_TIMED,
               p = (p1 - p0) / EPOCHS_TIMED;
        printf("training epoch (%u images): %.3f s mean of %d, %.3f s best   target <= %.2f s\n", n,
               mean, EPOCHS_TIMED, best, TARGET_EPOCH_S);
        printf("  matrix products %.3f s (%.0f %%), PID %.3f s (%.0f %%), rest %.3f s (%.0f %%)\n",
               g, 100 * g / mean, p, 100 * p / mean, mean - g - p, 100 * (mean - g - p) / mean);
        *epoch_s = mean;
    }
    free(order);
    free(x);
    free(y);
    im_network_free(&net);
    im_dataset_release(&ds);
    return rc ? -1 : 0;
}

/* ---- 2. whole epochs through im_train_run -------------------------------- */

static int bench_run(const char *data_dir)
{
    im_train_spec s = bench_spec();
    s.epochs = 3;
    im_train_options opt = {.data_dir = data_dir};
    im_train_result r;
    im_error err = {0};
    int rc = im_train_run(&s, &opt, &r, &err);
    if (rc) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
    } else {
        double train = 0;
        for (int e = 1; e < r.n_epochs; e++) train += r.curve[e].seconds;
        printf("whole epoch with evaluation (im_train_run, %d epochs): %.3f s; epoch 0 %.3f s; "
               "run %.2f s (matrix products %.2f s, PID %.2f s)\n",
               s.epochs, train / s.epochs, r.curve[0].seconds, r.wall_s, r.gemm_s, r.pid_s);
    }
    im_train_result_release(&r);
    return rc ? -1 : 0;
}

/* ---- 3. peak memory on 60,000 images ------------------------------------- */

/* The child: one training epoch on the synthetic set. Exit status 0 or 1. */
static int child_train(const char *root)
{
    one_thread();
    im_train_spec s = bench_spec();
    snprintf(s.dataset, sizeof s.dataset, "synthetic60k");
    s.epochs = 1;
    im_train_options opt = {.data_dir = root};
    im_train_result r;
    im_error err = {0};
    int rc = im_train_run(&s, &opt, &r, &err);
    if (rc)
        fprintf(stderr, "bench_train: synthetic run: %s\n", err.msg);
    else
        printf("  60,000-image run: epoch 1 %.2f s (training + evaluation of 12,000 + 10,000)\n",
               r.curve[1].seconds);
    fflush(stdout);
    im_train_result_release(&r);
    return rc ? 1 : 0;
}

static int bench_memory(double *peak_mb)
{
    char root[4096], dir[4200];
    if (test_mkdtemp(root, sizeof root, NULL, "im-bench") != 0) return -1;
    snprintf(dir, sizeof dir, "%s/synthetic60k", root);
    if (mkdir(dir, 0700) || synth_write_part(dir, "train", SYNTHETIC_TRAIN, 1) ||
        synth_write_part(dir, "t10k", SYNTHETIC_TEST, 2)) {
        fprintf(stderr, "bench_train: unable to write the synthetic dataset under %s\n", dir);
        test_rm_tree(root);
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_train: fork");
        test_rm_tree(root);
        return -1;
    }
    if (pid == 0) _exit(child_train(root));
    int status;
    struct rusage ru;
    pid_t w = wait4(pid, &status, 0, &ru);
    test_rm_tree(root);
    if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    *peak_mb = ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
    printf("peak memory, 100 hidden, 60,000 training images: %.1f MB   target <= %.0f MB\n",
           *peak_mb, TARGET_PEAK_MB);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                    : stderr,
                "usage: bench_train [DATA_DIR]\n\n"
                "Seconds per training epoch on mnist10k (trivariate setup 1, 100 hidden, batch\n"
                "1024, one thread), the split between matrix products and PID, and the peak\n"
                "memory of a 60,000-image run. DATA_DIR: default $IM_DATA_DIR, else\n"
                "$INFOMORPH_DATA, else ./data.\n");
        return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
    }
    const char *data_dir = argc > 1 ? argv[1] : getenv("IM_DATA_DIR");
    if (!data_dir) data_dir = getenv("INFOMORPH_DATA");
    if (!data_dir) data_dir = "data";
    one_thread();
    printf("bench_train: trivariate setup 1, 100 hidden, batch 1024, one thread\n");
    fflush(stdout);

    /* memory first, in a child forked before this process holds any data */
    double peak_mb = 0, epoch_s = 0;
    int failed = bench_memory(&peak_mb) != 0;
    failed |= bench_epoch(data_dir, &epoch_s) != 0;
    failed |= bench_run(data_dir) != 0;
    int missed = !failed && (epoch_s > TARGET_EPOCH_S || peak_mb > TARGET_PEAK_MB);
    printf("%s\n", failed   ? "bench_train: FAILED"
                   : missed ? "bench_train: target missed"
                            : "bench_train: targets met");
    return failed || missed;
}
