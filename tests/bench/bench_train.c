/*
 * bench_train.c: what a training costs on one thread, in seconds and bytes.
 *
 *   1. seconds per training epoch on mnist10k's training part (7,000 images,
 *      7 batches of 1024; shuffle, batch standardisation, forward, PID goals,
 *      gradients, Adam; no evaluation), for the paper's setting (trivariate
 *      setup 1, 100 hidden) with the split between matrix products, PID and
 *      the rest, then for every other setup and the backprop baseline;
 *   2. one evaluation pass over the 1,500 validation images;
 *   3. a whole 10-epoch trial as the worker runs it (im_train_run: epoch 0
 *      and 10 training epochs, validation and test evaluated after each, then
 *      the result assembled as JSON), in a child process: its wall time split
 *      into loading the data, training epochs, evaluation and the result,
 *      trials per core-hour, and the child's peak memory;
 *   4. peak resident memory of a child that trains one epoch on a synthetic
 *      MNIST-sized dataset (60,000 training images, validation split off by
 *      the seed, 10,000 test images).
 *
 * Every figure is a median over repetitions: wall time, and the thread's CPU
 * time next to it, which other processes on the machine disturb less. The
 * benchmark prints figures and exits 0; exit status 1 only if something
 * failed (no dataset, a training error), never on a machine-dependent time.
 *
 * For scale, measured side by side on one machine (2-core AMD EPYC, Zen 4,
 * one thread each, interleaved runs, medians of 3), the published PyTorch
 * code took 3.92 s per training epoch, 0.490 s per evaluation pass over
 * 1,500 images and 2,153 MB of peak memory for a training process.
 *
 * Usage: bench_train [DATA_DIR] (default $IM_DATA_DIR, else $INFOMORPH_DATA,
 * else ./data).
 */
#include "dataset.h"
#include "network.h"
#include "rng.h"
#include "spec_json.h"
#include "train_spec.h"
#include "train.h"

#include "gemm.h"
#include "synth_data.h"
#include "test_util.h"

#include <cblas.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EPOCHS_TIMED    7 /* training epochs per setup, after one warm-up epoch */
#define EVALS_TIMED     7
#define LOADS_TIMED     3
#define TRIAL_EPOCHS    10
#define SYNTHETIC_TRAIN 60000u
#define SYNTHETIC_TEST  10000u

static void one_thread(void)
{
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(1);
#endif
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v [n] (sorts v). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static im_train_spec bench_spec(im_setup setup)
{
    im_train_spec s;
    im_train_spec_default(&s); /* trivariate, 100 hidden, batch 1024, paper-heuristic */
    if (setup != s.setup) {
        s.setup = setup;
        s.n_gamma = im_setup_terms(setup);
        /* the goal only weighs the PID's terms: any valid gamma costs the same */
        for (int i = 0; i < IM_MAX_TERMS; i++) s.gamma[i] = i < s.n_gamma ? 0.1 : 0.0;
        s.gamma_preset[0] = '\0';
        if (setup == IM_SETUP_TRIVARIATE_SPARSE) s.max_lateral = 10;
    }
    s.threads = 1;
    return s;
}

/* ---- 1. training epochs, timed at the network level ---------------------- */

typedef struct data {
    im_dataset ds;
    uint32_t *order; /* [n_train] */
    double *x;       /* [batch][dim] */
    float *xf;       /* [batch][dim] the same in float, for single products */
    uint8_t *y;      /* [batch] */
} data;

static int data_load(data *d, const char *data_dir, const im_train_spec *s)
{
    im_error err = {0};
    memset(d, 0, sizeof *d);
    if (im_dataset_load(&d->ds, data_dir, s->dataset, s->seed, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return -1;
    }
    uint32_t n = d->ds.part[IM_SPLIT_TRAIN].n;
    d->order = im_xmalloc_array(n, sizeof *d->order);
    d->x = im_xmalloc_array((size_t)s->batch * d->ds.dim, sizeof *d->x);
    d->xf = im_xmalloc_array((size_t)s->batch * d->ds.dim, sizeof *d->xf);
    d->y = im_xmalloc_array((size_t)s->batch, 1);
    for (uint32_t t = 0; t < n; t++) d->order[t] = t;
    return 0;
}

static void data_release(data *d)
{
    free(d->order);
    free(d->x);
    free(d->xf);
    free(d->y);
    im_dataset_release(&d->ds);
}

typedef struct epoch_figures {
    double wall, cpu;           /* medians, seconds per epoch */
    double gemm, pid;           /* means, seconds per epoch */
    double eval_wall, eval_cpu; /* one pass over the validation images */
} epoch_figures;

/* One batch of samples idx [nb] of a split, its images standardised in the
 * precision of the network's products as the trainer does (train.c), then
 * trained on (train != 0) or evaluated. */
static int run_batch(data *d, im_network *net, im_split split, const uint32_t *idx, uint32_t nb,
                     int train, im_error *err)
{
    if (im_network_single(net)) {
        im_dataset_batch_float(&d->ds, split, idx, nb, d->xf, d->y);
        return train ? im_network_train_batch_float(net, (int)nb, d->xf, d->y, 1, NULL, NULL, err)
                     : im_network_eval_batch_float(net, (int)nb, d->xf, NULL, err);
    }
    im_dataset_batch(&d->ds, split, idx, nb, d->x, d->y);
    return train ? im_network_train_batch(net, (int)nb, d->x, d->y, 1, NULL, NULL, err)
                 : im_network_eval_batch(net, (int)nb, d->x, NULL, err);
}

/* Evaluation passes over the validation images (an untrained network costs
 * the same); medians into *wall, *cpu. */
static int time_eval(data *d, im_network *net, int batch, double *wall, double *cpu)
{
    im_error err = {0};
    uint32_t nv = d->ds.part[IM_SPLIT_VAL].n, b = (uint32_t)batch;
    double ew[EVALS_TIMED], ec[EVALS_TIMED];
    int rc = 0;
    for (int r = 0; r < EVALS_TIMED && !rc; r++) {
        double t0 = im_clock(), c0 = cpu_now();
        for (uint32_t s0 = 0; s0 < nv && !rc; s0 += b) {
            uint32_t nb = nv - s0 < b ? nv - s0 : b;
            rc = run_batch(d, net, IM_SPLIT_VAL, NULL, nb, 0, &err);
        }
        ew[r] = im_clock() - t0, ec[r] = cpu_now() - c0;
    }
    if (rc) {
        fprintf(stderr, "bench_train: evaluation: %s\n", err.msg);
        return -1;
    }
    *wall = median(ew, EVALS_TIMED);
    *cpu = median(ec, EVALS_TIMED);
    return 0;
}

/* Training epochs of one setup; with eval != 0 also evaluation passes. */
static int bench_setup(data *d, im_setup setup, int eval, epoch_figures *out)
{
    im_train_spec s = bench_spec(setup);
    im_error err = {0};
    im_network *net = im_network_new(&s, (int)d->ds.dim, (int)d->ds.n_classes, &err);
    if (!net) {
        fprintf(stderr, "bench_train: %s: %s\n", im_setup_name(setup), err.msg);
        return -1;
    }
    uint32_t n = d->ds.part[IM_SPLIT_TRAIN].n, b = (uint32_t)s.batch;
    im_rng shuffle;
    im_rng_seed(&shuffle, s.seed, IM_STREAM_SHUFFLE);
    double wall[EPOCHS_TIMED], cpu[EPOCHS_TIMED], g0 = 0, p0 = 0, g1, p1;
    int rc = 0;
    for (int e = 0; e <= EPOCHS_TIMED && !rc; e++) { /* epoch 0 warms up */
        if (e == 1) im_network_timing(net, &g0, &p0);
        double t0 = im_clock(), c0 = cpu_now();
        im_rng_shuffle(&shuffle, d->order, n);
        for (uint32_t s0 = 0; s0 < n && !rc; s0 += b) {
            uint32_t nb = n - s0 < b ? n - s0 : b;
            rc = run_batch(d, net, IM_SPLIT_TRAIN, d->order + s0, nb, 1, &err);
        }
        if (e > 0) wall[e - 1] = im_clock() - t0, cpu[e - 1] = cpu_now() - c0;
    }
    if (!rc && eval && time_eval(d, net, s.batch, &out->eval_wall, &out->eval_cpu)) rc = -1;
    if (rc) {
        fprintf(stderr, "bench_train: %s: %s\n", im_setup_name(setup), err.msg);
    } else {
        im_network_timing(net, &g1, &p1);
        out->wall = median(wall, EPOCHS_TIMED);
        out->cpu = median(cpu, EPOCHS_TIMED);
        out->gemm = (g1 - g0) / EPOCHS_TIMED;
        out->pid = (p1 - p0) / EPOCHS_TIMED;
    }
    im_network_free(&net);
    return rc ? -1 : 0;
}

static int bench_epochs(const char *data_dir)
{
    im_train_spec s = bench_spec(IM_SETUP_TRIVARIATE);
    data d;
    if (data_load(&d, data_dir, &s)) return -1;
    epoch_figures f = {0};
    int rc = bench_setup(&d, IM_SETUP_TRIVARIATE, 1, &f);
    if (!rc) {
        printf("training epoch, %u images, trivariate setup 1: %.4f s (CPU %.4f s), median of %d\n",
               d.ds.part[IM_SPLIT_TRAIN].n, f.wall, f.cpu, EPOCHS_TIMED);
        printf("  matrix products %.4f s (%.0f %%), PID %.4f s (%.0f %%), rest %.4f s (%.0f %%)\n",
               f.gemm, 100 * f.gemm / f.wall, f.pid, 100 * f.pid / f.wall, f.wall - f.gemm - f.pid,
               100 * (f.wall - f.gemm - f.pid) / f.wall);
        printf("evaluation pass, %u images: %.4f s (CPU %.4f s), median of %d\n",
               d.ds.part[IM_SPLIT_VAL].n, f.eval_wall, f.eval_cpu, EVALS_TIMED);
    }
    static const im_setup others[] = {IM_SETUP_TRIVARIATE_SPARSE, IM_SETUP_TRIVARIATE_FEEDBACK,
                                      IM_SETUP_BIVARIATE_CONTEXT, IM_SETUP_BIVARIATE_LATERAL,
                                      IM_SETUP_BACKPROP};
    for (size_t i = 0; i < sizeof others / sizeof others[0] && !rc; i++) {
        rc = bench_setup(&d, others[i], 0, &f);
        if (!rc)
            printf("  training epoch, %-19s %.4f s (CPU %.4f s; matrix products %.4f s, PID "
                   "%.4f s)\n",
                   im_setup_name(others[i]), f.wall, f.cpu, f.gemm, f.pid);
    }
    fflush(stdout);
    data_release(&d);
    return rc;
}

/* ---- 3. a whole trial as the worker runs it ------------------------------ */

/* The child: loading timed alone, the trial, the result; then evaluation
 * passes timed alone for the split. Figures on stdout. */
static int child_trial(const char *data_dir)
{
    one_thread();
    im_train_spec s = bench_spec(IM_SETUP_TRIVARIATE);
    s.epochs = TRIAL_EPOCHS;
    im_error err = {0};
    double load[LOADS_TIMED];
    for (int r = 0; r < LOADS_TIMED; r++) {
        im_dataset ds;
        double t0 = im_clock();
        if (im_dataset_load(&ds, data_dir, s.dataset, s.seed, &err)) {
            fprintf(stderr, "bench_train: %s\n", err.msg);
            return 1;
        }
        load[r] = im_clock() - t0;
        im_dataset_release(&ds);
    }
    double load_s = median(load, LOADS_TIMED);

    im_train_options opt = {.data_dir = data_dir};
    im_train_result r;
    double t0 = im_clock(), c0 = cpu_now();
    int rc = im_train_run(&s, &opt, &r, &err);
    double run_s = im_clock() - t0, run_cpu = cpu_now() - c0;
    if (rc) {
        fprintf(stderr, "bench_train: trial: %s\n", err.msg);
        im_train_result_release(&r);
        return 1;
    }
    /* the result as the worker sends it: the JSON document, serialised */
    t0 = im_clock(), c0 = cpu_now();
    json_t *j = im_train_result_to_json(&s, &r);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    double result_s = im_clock() - t0, result_cpu = cpu_now() - c0;
    free(text);
    json_decref(j);
    double test_acc = r.test_acc, gemm_s = r.gemm_s, pid_s = r.pid_s;
    im_train_result_release(&r);

    /* epoch 0 and every training epoch evaluate validation and test (1,500
     * images each): the evaluation share is that pass timed alone */
    data d;
    if (data_load(&d, data_dir, &s)) return 1;
    im_network *net = im_network_new(&s, (int)d.ds.dim, (int)d.ds.n_classes, &err);
    double eval_s = 0, eval_cpu = 0;
    rc = !net || time_eval(&d, net, s.batch, &eval_s, &eval_cpu);
    im_network_free(&net);
    data_release(&d);
    if (rc) return 1;

    double eval_total = (TRIAL_EPOCHS + 1) * 2 * eval_s;
    double epochs_s = run_s - load_s - eval_total, total = run_s + result_s;
    printf("whole trial, %d epochs as the worker runs it: %.3f s = load %.3f s + epochs %.3f s "
           "(incl. epoch 0) + evaluation %.3f s + result %.4f s\n",
           TRIAL_EPOCHS, total, load_s, epochs_s, eval_total, result_s);
    printf("  CPU time %.3f s (evaluation %.3f s): %.0f trials per core-hour; test accuracy "
           "%.2f %%; matrix products %.3f s, PID %.3f s\n",
           run_cpu + result_cpu, (TRIAL_EPOCHS + 1) * 2 * eval_cpu, 3600.0 / (run_cpu + result_cpu),
           100 * test_acc, gemm_s, pid_s);
    fflush(stdout);
    return 0;
}

/* Run fn in a child; its peak resident memory (MB) into *peak_mb. */
static int in_child(int (*fn)(const char *), const char *arg, double *peak_mb)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_train: fork");
        return -1;
    }
    if (pid == 0) _exit(fn(arg));
    int status;
    struct rusage ru;
    pid_t w = wait4(pid, &status, 0, &ru);
    if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    *peak_mb = ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
    return 0;
}

/* ---- 4. peak memory on 60,000 images ------------------------------------- */

static int child_synthetic(const char *root)
{
    one_thread();
    im_train_spec s = bench_spec(IM_SETUP_TRIVARIATE);
    snprintf(s.dataset, sizeof s.dataset, "synthetic60k");
    s.epochs = 1;
    im_train_options opt = {.data_dir = root};
    im_train_result r;
    im_error err = {0};
    int rc = im_train_run(&s, &opt, &r, &err);
    if (rc)
        fprintf(stderr, "bench_train: synthetic run: %s\n", err.msg);
    else
        printf("60,000-image run: epoch 1 %.2f s (training + evaluation of 12,000 + 10,000)\n",
               r.curve[1].seconds);
    fflush(stdout);
    im_train_result_release(&r);
    return rc ? 1 : 0;
}

static int bench_memory(void)
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
    double peak_mb = 0;
    int rc = in_child(child_synthetic, root, &peak_mb);
    test_rm_tree(root);
    if (!rc) printf("  peak memory, 100 hidden, 60,000 training images: %.1f MB\n", peak_mb);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                    : stderr,
                "usage: bench_train [DATA_DIR]\n\n"
                "Seconds per training epoch on mnist10k (every setup, 100 hidden, batch 1024,\n"
                "one thread), an evaluation pass, a whole 10-epoch trial as the worker runs it\n"
                "and the peak memory of training processes. Prints figures; exit status 1 only\n"
                "if something failed. DATA_DIR: default $IM_DATA_DIR, else $INFOMORPH_DATA,\n"
                "else ./data.\n");
        return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
    }
    const char *data_dir = argc > 1 ? argv[1] : getenv("IM_DATA_DIR");
    if (!data_dir) data_dir = getenv("INFOMORPH_DATA");
    if (!data_dir) data_dir = "data";
    one_thread();
    printf("bench_train: mnist10k, 100 hidden, batch 1024, one thread\n");
    fflush(stdout);

    /* the children fork before this process holds any data */
    double trial_mb = 0;
    int failed = bench_memory() != 0;
    if (in_child(child_trial, data_dir, &trial_mb) == 0)
        printf("  peak memory of the trial's process: %.1f MB\n", trial_mb);
    else
        failed = 1;
    failed |= bench_epochs(data_dir) != 0;
    if (failed) printf("bench_train: FAILED\n");
    return failed;
}
