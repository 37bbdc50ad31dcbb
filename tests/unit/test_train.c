/*
 * test_train.c: whole training runs (common/train.c, common/network.c) on a
 * slice of mnist10k ($IM_DATA_DIR, fetched by tests/run.sh): learning clearly
 * beats chance, two runs with the same seed agree bit for bit, the stop flag
 * and the callback stop a run, every setup trains, bad input is refused, and
 * the JSON result has its keys.
 *
 * Without mnist10k the same checks run on a synthetic dataset written to a
 * temporary directory (ten noisy class prototypes), so the test never passes
 * by skipping. The whole test takes a few seconds, also in a sanitizer build.
 */
#include "synth_data.h"
#include "test.h"
#include "test_util.h"

#include "network.h"
#include "spec_json.h"
#include "train.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char data_dir[4096];
static const char *dataset = "mnist10k";

static void setup_data(void)
{
    if (test_have_mnist10k(data_dir, sizeof data_dir)) return;
    const char *root = getenv("IM_DATA_DIR");
    int rc = test_mkdtemp(data_dir, sizeof data_dir, NULL, "im-test-train") == 0
                 ? synth_write_dataset(data_dir, "synthetic", 3000, 600)
                 : -1;
    CHECK_MSG(rc == 0, "unable to write the synthetic dataset under %s", data_dir);
    dataset = "synthetic";
    fprintf(stderr, "NOTICE: mnist10k is absent (%s); training on a synthetic dataset in %s\n",
            root ? root : "IM_DATA_DIR unset", data_dir);
}

static void cleanup_data(void)
{
    if (!strcmp(dataset, "synthetic")) test_rm_tree(data_dir);
}

/* ---- helpers ------------------------------------------------------------- */

static im_train_spec small_spec(im_setup setup, int hidden, int train_limit, int eval_limit,
                                int epochs)
{
    im_train_spec s;
    im_train_spec_default(&s);
    snprintf(s.dataset, sizeof s.dataset, "%s", dataset);
    s.setup = setup;
    int k = im_setup_sources(setup);
    s.n_gamma = k == 2 ? 5 : 19;
    CHECK_INT(im_gamma_preset("paper-heuristic", k, s.gamma), 0);
    if (setup == IM_SETUP_TRIVARIATE_SPARSE) s.max_lateral = hidden / 3;
    s.hidden = hidden;
    /* small batches and a faster output layer: tiny slices learn in few epochs */
    s.batch = 128;
    s.lr_out = 0.01;
    s.epochs = epochs;
    s.train_limit = train_limit;
    s.eval_limit = eval_limit;
    return s;
}

static int all_finite(const im_train_result *r)
{
    for (int e = 0; e < r->n_epochs; e++) {
        const im_epoch_stats *st = &r->curve[e];
        if (!isfinite(st->val_acc) || !isfinite(st->test_acc) || !isfinite(st->goal_hidden) ||
            !isfinite(st->goal_out))
            return 0;
        if (e > 0 && !isfinite(st->train_acc)) return 0;
        for (int i = 0; i < st->n_terms_hidden; i++)
            if (!isfinite(st->atoms_hidden[i])) return 0;
        for (int i = 0; i < 5; i++)
            if (!isfinite(st->atoms_out[i])) return 0;
    }
    return 1;
}

/* Everything but the wall times must agree bit for bit. */
static int same_curve(const im_train_result *a, const im_train_result *b)
{
    if (a->n_epochs != b->n_epochs) return 0;
    for (int e = 0; e < a->n_epochs; e++) {
        im_epoch_stats x = a->curve[e], y = b->curve[e];
        x.seconds = y.seconds = 0;
        /* NaN != NaN under ==; compare the bytes (train_acc is NaN at epoch 0) */
        if (memcmp(&x, &y, sizeof x)) return 0;
    }
    return 1;
}

/* ---- the checks ------------------------------------------------------------ */

static int epochs_seen;

static int count_epochs(const im_epoch_stats *st, void *user)
{
    (void)user;
    CHECK_INT(st->epoch, epochs_seen);
    epochs_seen++;
    return 0;
}

/* Learning beats chance clearly, and the same seed gives the same run. */
static void test_learns_and_is_deterministic(void)
{
    im_train_spec s = small_spec(IM_SETUP_TRIVARIATE, 40, 3000, 1500, 3);
    im_train_options opt = {.data_dir = data_dir, .on_epoch = count_epochs};
    im_train_result a, b;
    im_error err = {0};
    epochs_seen = 0;
    int rc = im_train_run(&s, &opt, &a, &err);
    CHECK_MSG(rc == 0, "train: %d %s", rc, err.msg);
    CHECK_INT(a.n_epochs, s.epochs + 1);
    CHECK_INT(epochs_seen, s.epochs + 1);
    CHECK(all_finite(&a));
    if (a.n_epochs == s.epochs + 1) {
        const im_epoch_stats *first = &a.curve[0], *last = &a.curve[s.epochs];
        fprintf(stderr, "trivariate %d hidden: val %.4f -> %.4f, test %.4f -> %.4f\n", s.hidden,
                first->val_acc, last->val_acc, first->test_acc, last->test_acc);
        CHECK(isnan(first->train_acc));
        CHECK_MSG(last->val_acc > 0.5, "val acc %.4f after %d epochs", last->val_acc, s.epochs);
        CHECK_MSG(last->test_acc > 0.5, "test acc %.4f", last->test_acc);
        CHECK_MSG(last->train_acc > 0.4, "train acc %.4f", last->train_acc);
        CHECK(last->val_acc > first->val_acc + 0.2);
        CHECK(a.val_acc == last->val_acc);
        CHECK(a.test_acc == last->test_acc);
        CHECK_INT(last->n_terms_hidden, 19);
        /* atoms plus H_res add up to H(T) <= 1 bit */
        double h = 0;
        for (int i = 0; i < 19; i++) h += last->atoms_hidden[i];
        CHECK(h > 0 && h <= 1.0 + 1e-9);
        CHECK(a.gemm_s > 0 && a.pid_s > 0 && a.wall_s >= a.gemm_s + a.pid_s);
    }

    opt.on_epoch = NULL;
    rc = im_train_run(&s, &opt, &b, &err);
    CHECK_MSG(rc == 0, "train again: %d %s", rc, err.msg);
    CHECK_MSG(same_curve(&a, &b), "two runs with seed %llu differ", (unsigned long long)s.seed);
    im_train_result_release(&b);

    /* another seed: another trajectory */
    s.seed = 2;
    rc = im_train_run(&s, &opt, &b, &err);
    CHECK_MSG(rc == 0, "train seed 2: %d %s", rc, err.msg);
    CHECK(!same_curve(&a, &b));
    im_train_result_release(&b);
    im_train_result_release(&a);
}

static atomic_int stop_flag;

static int stop_after_epoch_1(const im_epoch_stats *st, void *user)
{
    (void)user;
    if (st->epoch == 1) atomic_store(&stop_flag, 1);
    return 0;
}

static int refuse_after_epoch_0(const im_epoch_stats *st, void *user)
{
    (void)user;
    return st->epoch == 0 ? 1 : 0;
}

static void test_stop(void)
{
    im_train_spec s = small_spec(IM_SETUP_TRIVARIATE, 10, 1024, 256, 5);
    im_train_options opt = {
        .data_dir = data_dir, .on_epoch = stop_after_epoch_1, .stop = &stop_flag};
    im_train_result r;
    im_error err = {0};

    atomic_store(&stop_flag, 0);
    int rc = im_train_run(&s, &opt, &r, &err);
    CHECK_INT(rc, IM_ESTOPPED);
    CHECK_INT(r.n_epochs, 2); /* epochs 0 and 1; epoch 2 stopped at its first batch */
    CHECK(r.n_epochs == 2 && r.val_acc == r.curve[1].val_acc);
    CHECK_CONTAINS(err.msg, "stopped");
    json_t *j = im_train_result_to_json(&s, &r);
    CHECK(j && json_integer_value(json_object_get(j, "epochs_done")) == 1);
    CHECK(j && json_is_false(json_object_get(j, "complete")));
    json_decref(j);
    im_train_result_release(&r);

    /* flag already set: nothing is done */
    atomic_store(&stop_flag, 1);
    opt.on_epoch = NULL;
    rc = im_train_run(&s, &opt, &r, &err);
    CHECK_INT(rc, IM_ESTOPPED);
    CHECK_INT(r.n_epochs, 0);
    CHECK(isnan(r.val_acc));
    im_train_result_release(&r);

    /* the callback stops the run */
    atomic_store(&stop_flag, 0);
    opt.on_epoch = refuse_after_epoch_0;
    rc = im_train_run(&s, &opt, &r, &err);
    CHECK_INT(rc, IM_ESTOPPED);
    CHECK_INT(r.n_epochs, 1);
    im_train_result_release(&r);
}

/* Every setup trains without error on a tiny slice and beats chance. */
static void test_setups(void)
{
    static const im_setup setups[] = {IM_SETUP_BIVARIATE_CONTEXT,   IM_SETUP_BIVARIATE_LATERAL,
                                      IM_SETUP_TRIVARIATE,          IM_SETUP_TRIVARIATE_SPARSE,
                                      IM_SETUP_TRIVARIATE_FEEDBACK, IM_SETUP_BACKPROP};
    for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
        im_train_spec s = small_spec(setups[i], 20, 3000, 400, 3);
        im_train_options opt = {.data_dir = data_dir};
        im_train_result r;
        im_error err = {0};
        int rc = im_train_run(&s, &opt, &r, &err);
        CHECK_MSG(rc == 0, "%s: %d %s", im_setup_name(setups[i]), rc, err.msg);
        CHECK_INT(r.n_epochs, 4);
        CHECK_MSG(all_finite(&r), "%s: non-finite numbers", im_setup_name(setups[i]));
        fprintf(stderr, "%-20s val %.4f test %.4f  goal hidden %+.4f out %+.4f\n",
                im_setup_name(setups[i]), r.val_acc, r.test_acc,
                r.n_epochs ? r.curve[r.n_epochs - 1].goal_hidden : NAN,
                r.n_epochs ? r.curve[r.n_epochs - 1].goal_out : NAN);
        /* chance is 0.1; every setup's output layer is supervised */
        CHECK_MSG(r.val_acc > 0.2, "%s: val acc %.4f", im_setup_name(setups[i]), r.val_acc);
        CHECK_INT(r.n_epochs ? r.curve[0].n_terms_hidden : 0,
                  im_setup_sources(setups[i]) == 3 ? 19 : 5);
        im_train_result_release(&r);
    }
}

/* A measurement pass (update = 0) leaves the network as it was, an update
 * changes it, and evaluation draws from its own stream: two networks of the
 * same seed evaluate a batch identically after a measurement pass of one. */
static void test_network_update(void)
{
    static const im_setup setups[] = {IM_SETUP_TRIVARIATE_FEEDBACK, IM_SETUP_BACKPROP,
                                      IM_SETUP_BIVARIATE_LATERAL};
    enum { N = 32, D = 784, C = 10 };
    static double x[N * D];
    uint8_t y[N];
    double ta[N * C], tb[N * C];
    for (int i = 0; i < N * D; i++) x[i] = sin(0.37 * i) * 1.5;
    for (int t = 0; t < N; t++) y[t] = (uint8_t)(t % C);
    for (size_t k = 0; k < sizeof setups / sizeof setups[0]; k++) {
        im_train_spec s = small_spec(setups[k], 12, 0, 0, 1);
        im_error err = {0};
        im_network *a = im_network_new(&s, D, C, &err), *b = im_network_new(&s, D, C, &err);
        CHECK(a && b);
        if (!a || !b) {
            im_network_free(&a);
            im_network_free(&b);
            continue;
        }
        im_batch_stats st;
        CHECK_INT(im_network_train_batch(b, N, x, y, 0, tb, &st, &err), 0);
        CHECK_INT(im_network_eval_batch(a, N, x, ta, &err), 0);
        CHECK_INT(im_network_eval_batch(b, N, x, tb, &err), 0);
        CHECK_MSG(!memcmp(ta, tb, sizeof ta), "%s: a measurement pass changed the network",
                  im_setup_name(setups[k]));
        CHECK_INT(im_network_train_batch(a, N, x, y, 0, ta, &st, &err), 0);
        CHECK_INT(im_network_train_batch(b, N, x, y, 1, tb, &st, &err), 0);
        CHECK_INT(im_network_eval_batch(a, N, x, ta, &err), 0);
        CHECK_INT(im_network_eval_batch(b, N, x, tb, &err), 0);
        CHECK_MSG(memcmp(ta, tb, sizeof ta) != 0, "%s: an update changed nothing",
                  im_setup_name(setups[k]));
        im_network_free(&a);
        im_network_free(&b);
    }
}

/* Images given in float train and evaluate exactly as the same images in
 * double (the layers would round them to the same floats), or are refused
 * by a network whose products are in double. */
static void test_float_images(void)
{
    static const im_setup setups[] = {IM_SETUP_TRIVARIATE, IM_SETUP_BACKPROP,
                                      IM_SETUP_BIVARIATE_CONTEXT};
    enum { N = 32, D = 784, C = 10 };
    static double x[N * D];
    static float xf[N * D];
    uint8_t y[N];
    double ta[N * C], tb[N * C];
    for (int i = 0; i < N * D; i++) x[i] = sin(0.37 * i) * 1.5, xf[i] = (float)x[i];
    for (int t = 0; t < N; t++) y[t] = (uint8_t)(t % C);
    for (size_t k = 0; k < sizeof setups / sizeof setups[0]; k++) {
        im_train_spec s = small_spec(setups[k], 12, 0, 0, 1);
        im_error err = {0};
        im_network *a = im_network_new(&s, D, C, &err), *b = im_network_new(&s, D, C, &err);
        CHECK(a && b);
        if (a && b && !im_network_single(b)) {
            CHECK_INT(im_network_train_batch_float(b, N, xf, y, 1, tb, NULL, &err), IM_EINVAL);
            CHECK_INT(im_network_eval_batch_float(b, N, xf, tb, &err), IM_EINVAL);
        } else if (a && b) {
            for (int step = 0; step < 2; step++) {
                CHECK_INT(im_network_train_batch(a, N, x, y, 1, ta, NULL, &err), 0);
                CHECK_INT(im_network_train_batch_float(b, N, xf, y, 1, tb, NULL, &err), 0);
                CHECK_MSG(!memcmp(ta, tb, sizeof ta), "%s: training step %d differs",
                          im_setup_name(setups[k]), step);
            }
            CHECK_INT(im_network_eval_batch(a, N, x, ta, &err), 0);
            CHECK_INT(im_network_eval_batch_float(b, N, xf, tb, &err), 0);
            CHECK_MSG(!memcmp(ta, tb, sizeof ta), "%s: evaluation differs",
                      im_setup_name(setups[k]));
        }
        im_network_free(&a);
        im_network_free(&b);
    }
}

/* The evaluation's accuracy rule on hand-made thetas. */
static void test_accuracy_rule(void)
{
    double mean[3];
    /* 4 samples, 3 classes. Class 1's mean is 0.75 >= 0.5: inverted, so a
     * low theta of class 1 is a vote for it; classes 0 and 2 are kept. */
    const double theta[4][3] = {
        {0.9, 0.9, 0.1}, /* 0: 0.9 vs 1-0.9 = 0.1 vs 0.1 -> class 0 */
        {0.1, 0.0, 0.2}, /* 1: 0.1 vs 1.0 vs 0.2       -> class 1 */
        {0.2, 1.0, 0.6}, /* 2: 0.2 vs 0.0 vs 0.6       -> class 2 */
        {0.1, 1.0, 0.1}, /* 3: 0.1 vs 0.0 vs 0.1 tie  -> class 0 (first) */
    };
    const uint8_t right[4] = {0, 1, 2, 0}, wrong[4] = {1, 0, 0, 2};
    CHECK_NEAR(im_train_accuracy(&theta[0][0], right, 4, 3, mean), 1.0, 0);
    CHECK_NEAR(mean[0], 0.325, 1e-15);
    CHECK_NEAR(mean[1], 0.725, 1e-15);
    CHECK_NEAR(mean[2], 0.25, 1e-15);
    CHECK_NEAR(im_train_accuracy(&theta[0][0], wrong, 4, 3, mean), 0.0, 0);
    /* a mean of exactly 0.5 is inverted too */
    const double half[2][2] = {{0.5, 0.25}, {0.5, 0.75}};
    const uint8_t lab[2] = {1, 0};
    /* class 0 (mean 0.5) inverted: 0.5, 0.5; class 1 (mean 0.5) inverted: 0.75, 0.25 */
    CHECK_NEAR(im_train_accuracy(&half[0][0], lab, 2, 2, mean), 1.0, 0);
    CHECK(isnan(im_train_accuracy(&half[0][0], lab, 0, 2, mean)));
}

static void test_refused(void)
{
    im_train_spec s = small_spec(IM_SETUP_TRIVARIATE, 10, 512, 128, 1);
    im_train_result r;
    im_error err = {0};
    im_train_options opt = {.data_dir = data_dir};

    snprintf(s.dataset, sizeof s.dataset, "no-such-dataset");
    CHECK_INT(im_train_run(&s, &opt, &r, &err), IM_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no-such-dataset");
    CHECK_INT(r.n_epochs, 0);
    im_train_result_release(&r);

    s = small_spec(IM_SETUP_TRIVARIATE, 10, 512, 128, 1);
    opt.data_dir = NULL;
    CHECK_INT(im_train_run(&s, &opt, &r, &err), IM_EINVAL);
    im_train_result_release(&r);

    opt.data_dir = data_dir;
    s.batch = 0;
    CHECK_INT(im_train_run(&s, &opt, &r, &err), IM_EINVAL);
    im_train_result_release(&r);

    im_error nerr = {0};
    s = small_spec(IM_SETUP_TRIVARIATE, 10, 512, 128, 1);
    CHECK(im_network_new(&s, 784, 1, &nerr) == NULL);
    CHECK_INT(nerr.code, IM_EINVAL);
    im_network *net = im_network_new(&s, 784, 10, &nerr);
    CHECK(net != NULL);
    if (net) {
        double x[784] = {0}, theta[10];
        uint8_t bad_label = 10;
        CHECK_INT(im_network_train_batch(net, 1, x, &bad_label, 1, theta, NULL, &nerr), IM_EINVAL);
        CHECK_INT(im_network_eval_batch(net, 0, x, theta, &nerr), IM_EINVAL);
        CHECK_INT(im_network_eval_batch(net, 1, x, theta, &nerr), 0);
        for (int j = 0; j < 10; j++) CHECK(theta[j] > 0 && theta[j] < 1);
    }
    im_network_free(&net);
    CHECK(net == NULL);
}

/* A run whose buffers cannot exist (a lateral layer of INT_MAX neurons: the
 * size of its parameters overflows size_t, so nothing is even tried) fails
 * with IM_ENOMEM and the estimate, leaves nothing allocated (the sanitizer
 * pass checks for leaks), and this process goes on: the aborting allocator
 * would end it here. */
static void test_out_of_memory(void)
{
    im_train_spec s = small_spec(IM_SETUP_BIVARIATE_LATERAL, 10, 512, 128, 1);
    s.hidden = INT_MAX;
    im_train_options opt = {.data_dir = data_dir};
    im_train_result r;
    im_error err = {0};
    CHECK_INT(im_train_run(&s, &opt, &r, &err), IM_ENOMEM);
    CHECK_CONTAINS(err.msg, "out of memory: the trial needs about");
    CHECK_CONTAINS(err.msg, "layer: out of memory");
    CHECK_INT(r.n_epochs, 0);
    im_train_result_release(&r);

    im_error nerr = {0};
    CHECK(im_network_new(&s, 784, 10, &nerr) == NULL);
    CHECK_INT(nerr.code, IM_ENOMEM);
    CHECK(im_try_malloc_array(SIZE_MAX / 2 + 1, 2) == NULL);
    CHECK(im_try_calloc(SIZE_MAX / 8 + 1, 8) == NULL);
    void *one = im_try_calloc(0, 8); /* a zero size is one byte, never NULL */
    CHECK(one != NULL);
    free(one);
}

static void test_json(void)
{
    im_train_spec s = small_spec(IM_SETUP_BIVARIATE_CONTEXT, 8, 512, 128, 1);
    im_train_options opt = {.data_dir = data_dir};
    im_train_result r;
    im_error err = {0};
    int rc = im_train_run(&s, &opt, &r, &err);
    CHECK_MSG(rc == 0, "train: %d %s", rc, err.msg);
    json_t *j = im_train_result_to_json(&s, &r);
    CHECK(j != NULL);
    if (j) {
        CHECK(json_is_object(json_object_get(j, "spec")));
        CHECK(json_real_value(json_object_get(j, "val_acc")) == r.val_acc);
        CHECK(json_real_value(json_object_get(j, "test_acc")) == r.test_acc);
        json_t *curve = json_object_get(j, "curve");
        CHECK_INT(json_array_size(curve), 2);
        CHECK(json_is_null(json_object_get(json_array_get(curve, 0), "train_acc")));
        CHECK(json_is_real(json_object_get(json_array_get(curve, 1), "train_acc")));
        json_t *hidden = json_object_get(json_object_get(j, "atoms"), "hidden");
        CHECK_INT(json_object_size(hidden), 5);
        CHECK(json_is_real(json_object_get(hidden, "f_c")));
        CHECK_INT(json_object_size(json_object_get(json_object_get(j, "atoms"), "output")), 5);
        json_t *t = json_object_get(j, "timings");
        CHECK(json_is_real(json_object_get(t, "gemm_s")) &&
              json_is_real(json_object_get(t, "pid_s")));
        CHECK(json_is_true(json_object_get(j, "complete")));
        char *text = json_dumps(j, JSON_COMPACT);
        CHECK(text != NULL);
        free(text);
        json_decref(j);
    }
    im_train_result_release(&r);
}

/* The peak resident memory (KB) of a child process that trains s, or -1. */
static long peak_rss_kb(const im_train_spec *s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        im_train_options opt = {.data_dir = data_dir};
        im_train_result r;
        int rc = im_train_run(s, &opt, &r, NULL);
        im_train_result_release(&r);
        _exit(rc == 0 ? 0 : 1);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* im_train_spec_memory_bytes against the measured peak RSS of real runs:
 * never below it (a worker must not take a trial that does not fit), and
 * at most 3 times above it. Runs of a few hundred MB at most. */
static void test_memory_estimate(void)
{
    static const int shapes[][2] = {{1000, 1024}, {100, 4096}, {2000, 256}}; /* hidden, batch */
#if defined(__SANITIZE_ADDRESS__)
    /* the sanitizer's shadow memory and redzones are not the program's */
    size_t n_shapes = 0;
    printf("memory: measured comparison skipped under AddressSanitizer\n");
#else
    size_t n_shapes = sizeof shapes / sizeof *shapes;
#endif
    for (size_t i = 0; i < n_shapes; i++) {
        im_train_spec s = small_spec(IM_SETUP_TRIVARIATE, shapes[i][0], 3000, 500, 0);
        s.batch = shapes[i][1];
        long kb = peak_rss_kb(&s);
        CHECK_MSG(kb > 0, "hidden %d batch %d: the run failed", s.hidden, s.batch);
        if (kb <= 0) continue;
        double est = (double)im_train_spec_memory_bytes(&s, 784, 10, 10000) / 1024;
        printf("memory: hidden %d batch %d: measured %ld KB, estimated %.0f KB (x%.2f)\n", s.hidden,
               s.batch, kb, est, est / (double)kb);
        CHECK_MSG(est >= kb && est <= 3.0 * kb,
                  "hidden %d batch %d: estimate %.0f KB, measured peak %ld KB", s.hidden, s.batch,
                  est, kb);
    }
    /* the specs of the issue: far beyond any machine, and no overflow */
    im_train_spec big;
    im_train_spec_default(&big);
    big.hidden = IM_SPEC_MAX_HIDDEN;
    CHECK(im_train_spec_memory_bytes(&big, 784, 10, 70000) > (uint64_t)80e9);
    im_train_spec_default(&big);
    big.batch = IM_SPEC_MAX_BATCH;
    CHECK(im_train_spec_memory_bytes(&big, 784, 10, 70000) > (uint64_t)6e9);
}

int main(void)
{
    setup_data();
    test_learns_and_is_deterministic();
    test_stop();
    test_setups();
    test_network_update();
    test_float_images();
    test_accuracy_rule();
    test_refused();
    test_out_of_memory();
    test_json();
    test_memory_estimate();
    cleanup_data();
    return TEST_END();
}
