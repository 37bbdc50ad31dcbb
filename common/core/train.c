/*
 * train.c: one training run (train.h): data, network, epochs, evaluation.
 *
 * Epoch 0 measures the untrained network: a pass over the training batches
 * without updates (goals and atoms; its training accuracy is reported as NaN,
 * as the contract says) and the evaluation. Every later epoch shuffles the
 * training samples with the trial's shuffle stream, trains batch by batch,
 * then evaluates. The stop flag is checked before every batch, training or
 * evaluation; an epoch cut short is not reported.
 *
 * Accuracy (INFOMORPHIC.md, section 6): the output layer's theta of every
 * sample of a set is kept; a class neuron whose mean theta over the whole set
 * is >= 0.5 is inverted (theta := 1 - theta), the prediction is the argmax
 * (the first on ties), and every sample counts once. The training accuracy of
 * an epoch applies the same rule to the thetas seen during that epoch (with
 * the label context, while the weights change).
 *
 * Memory: the dataset's bytes, one batch of standardised images (in float
 * when the network's products are single, im_network_single, else in
 * double), and one theta per class and sample of the largest set. Every
 * buffer of a run (the dataset's, the network's, these) is allocated with
 * the allocator that may fail: a run too big for the process fails with
 * IM_ENOMEM and a message with the estimate of im_train_spec_memory_bytes,
 * and frees what it took.
 */
#include "train.h"

#include "dataset.h"
#include "gemm.h"
#include "network.h"
#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double im_train_accuracy(const double *theta, const uint8_t *labels, uint32_t n, int c,
                         double *mean)
{
    if (n == 0 || c < 1) return NAN;
    for (int j = 0; j < c; j++) mean[j] = 0;
    for (uint32_t t = 0; t < n; t++)
        for (int j = 0; j < c; j++) mean[j] += theta[(size_t)t * c + j];
    for (int j = 0; j < c; j++) mean[j] /= n;
    uint32_t correct = 0;
    for (uint32_t t = 0; t < n; t++) {
        const double *th = theta + (size_t)t * c;
        int best = 0;
        double best_v = -1;
        for (int j = 0; j < c; j++) {
            double v = mean[j] >= 0.5 ? 1.0 - th[j] : th[j];
            if (v > best_v) best_v = v, best = j;
        }
        correct += best == labels[t];
    }
    return (double)correct / n;
}

typedef struct run {
    const im_train_spec *spec;
    const im_train_options *opt;
    im_dataset ds;
    im_network *net;
    uint32_t n_train, n_eval[3];
    int n_cls;
    double *x;          /* [batch][dim] the images, or NULL when the network takes floats */
    float *xf;          /* [batch][dim] the images in float (im_network_single), or NULL */
    uint32_t *order;    /* [n_train] the epoch's sample order */
    uint32_t *eval_idx; /* [batch] indices of an evaluation batch */
    double *theta;      /* [max n][n_cls] every sample's output theta of a set */
    uint8_t *labels;    /* [max n] the labels in that order */
    double *mean;       /* [n_cls] */
} run;

static int stopped(const run *r)
{
    return r->opt->stop && atomic_load(r->opt->stop);
}

/* Standardised images of samples idx [nb] of a split in the network's
 * precision (x or xf), their labels into labels [nb]. */
static void load_batch(run *r, im_split split, const uint32_t *idx, uint32_t nb, uint8_t *labels)
{
    if (r->xf)
        im_dataset_batch_float(&r->ds, split, idx, nb, r->xf, labels);
    else
        im_dataset_batch(&r->ds, split, idx, nb, r->x, labels);
}

/* Evaluate a whole split: batches of spec->batch in order. */
static int evaluate(run *r, im_split split, double *acc, im_error *err)
{
    uint32_t n = r->n_eval[split], b = (uint32_t)r->spec->batch;
    for (uint32_t s = 0; s < n; s += b) {
        if (stopped(r)) return IM_ESTOPPED;
        uint32_t nb = n - s < b ? n - s : b;
        /* the first n samples of the part, in file order */
        for (uint32_t t = 0; t < nb; t++) r->eval_idx[t] = s + t;
        load_batch(r, split, r->eval_idx, nb, r->labels + s);
        double *theta = r->theta + (size_t)s * r->n_cls;
        int rc = r->xf ? im_network_eval_batch_float(r->net, (int)nb, r->xf, theta, err)
                       : im_network_eval_batch(r->net, (int)nb, r->x, theta, err);
        if (rc) return rc;
    }
    *acc = im_train_accuracy(r->theta, r->labels, n, r->n_cls, r->mean);
    return 0;
}

/* One pass over the training samples in r->order; update = 0 for epoch 0. */
static int train_pass(run *r, int update, im_epoch_stats *st, im_error *err)
{
    uint32_t n = r->n_train, b = (uint32_t)r->spec->batch;
    int nt = st->n_terms_hidden, batches = 0;
    im_batch_stats bs;
    for (uint32_t s = 0; s < n; s += b) {
        if (stopped(r)) return IM_ESTOPPED;
        uint32_t nb = n - s < b ? n - s : b;
        load_batch(r, IM_SPLIT_TRAIN, r->order + s, nb, r->labels + s);
        double *theta = r->theta + (size_t)s * r->n_cls;
        int rc = r->xf ? im_network_train_batch_float(r->net, (int)nb, r->xf, r->labels + s, update,
                                                      theta, &bs, err)
                       : im_network_train_batch(r->net, (int)nb, r->x, r->labels + s, update, theta,
                                                &bs, err);
        if (rc) return rc;
        st->goal_hidden += bs.goal_hidden;
        st->goal_out += bs.goal_out;
        for (int i = 0; i < nt; i++) st->atoms_hidden[i] += bs.atoms_hidden[i];
        for (int i = 0; i < 5; i++) st->atoms_out[i] += bs.atoms_out[i];
        batches++;
    }
    if (batches) {
        st->goal_hidden /= batches;
        st->goal_out /= batches;
        for (int i = 0; i < nt; i++) st->atoms_hidden[i] /= batches;
        for (int i = 0; i < 5; i++) st->atoms_out[i] /= batches;
    }
    st->train_acc = update ? im_train_accuracy(r->theta, r->labels, n, r->n_cls, r->mean) : NAN;
    return 0;
}

static void set_blas_threads(int threads)
{
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(threads > 0 ? threads : 1);
#else
    (void)threads;
#endif
}

/* Load the dataset, take the parts' sizes (within the limits), build the
 * network and the buffers. */
static int run_open(run *r, im_error *err)
{
    const im_train_spec *spec = r->spec;
    int rc = im_dataset_load(&r->ds, r->opt->data_dir, spec->dataset, spec->seed, err);
    if (rc) return rc;
    r->n_cls = (int)r->ds.n_classes;
    r->n_train = r->ds.part[IM_SPLIT_TRAIN].n;
    if (spec->train_limit > 0 && (uint32_t)spec->train_limit < r->n_train)
        r->n_train = (uint32_t)spec->train_limit;
    for (int p = IM_SPLIT_VAL; p <= IM_SPLIT_TEST; p++) {
        r->n_eval[p] = r->ds.part[p].n;
        if (spec->eval_limit > 0 && (uint32_t)spec->eval_limit < r->n_eval[p])
            r->n_eval[p] = (uint32_t)spec->eval_limit;
    }
    if (r->n_train == 0 || r->n_eval[IM_SPLIT_VAL] == 0 || r->n_eval[IM_SPLIT_TEST] == 0)
        return im_error_set(err, IM_EFORMAT, "train: dataset '%s' has an empty part (%u/%u/%u)",
                            spec->dataset, r->n_train, r->n_eval[IM_SPLIT_VAL],
                            r->n_eval[IM_SPLIT_TEST]);
    set_blas_threads(spec->threads);
    im_error net_err = {0};
    r->net = im_network_new(spec, (int)r->ds.dim, r->n_cls, &net_err);
    if (!r->net) {
        if (err) *err = net_err;
        return net_err.code ? net_err.code : IM_EINVAL;
    }
    uint32_t n_max = r->n_train;
    if (r->n_eval[IM_SPLIT_VAL] > n_max) n_max = r->n_eval[IM_SPLIT_VAL];
    if (r->n_eval[IM_SPLIT_TEST] > n_max) n_max = r->n_eval[IM_SPLIT_TEST];
    if (im_network_single(r->net))
        r->xf = im_try_malloc_array((size_t)spec->batch * r->ds.dim, sizeof(float));
    else
        r->x = im_try_malloc_array((size_t)spec->batch * r->ds.dim, sizeof(double));
    r->order = im_try_malloc_array(r->n_train, sizeof(uint32_t));
    r->eval_idx = im_try_malloc_array((size_t)spec->batch, sizeof(uint32_t));
    r->theta = im_try_malloc_array((size_t)n_max * (size_t)r->n_cls, sizeof(double));
    r->labels = im_try_malloc_array(n_max, sizeof(uint8_t));
    r->mean = im_try_malloc_array((size_t)r->n_cls, sizeof(double));
    if (!(r->x || r->xf) || !r->order || !r->eval_idx || !r->theta || !r->labels || !r->mean)
        return im_error_set(err, IM_ENOMEM, "train: out of memory for the batch buffers");
    return 0;
}

/* An allocation of the run failed: err says which; say it again with the
 * estimate of the whole run's memory, for the dataset's shape when it was
 * loaded (else the MNIST-like shape). Returns IM_ENOMEM. */
static int out_of_memory(const run *r, im_error *err)
{
    char what[IM_ERROR_MAX];
    snprintf(what, sizeof what, "%.200s", err && err->msg[0] ? err->msg : "an allocation failed");
    const im_dataset *ds = &r->ds;
    uint64_t n = (uint64_t)ds->part[0].n + ds->part[1].n + ds->part[2].n;
    uint64_t need = ds->dim
                        ? im_train_spec_memory_bytes(r->spec, (int)ds->dim, (int)ds->n_classes, n)
                        : im_train_spec_memory_bytes(r->spec, IM_MEMORY_N_IN, IM_MEMORY_N_CLASSES,
                                                     IM_MEMORY_N_SAMPLES);
    return im_error_set(err, IM_ENOMEM,
                        "out of memory: the trial needs about %.0f MB (hidden %d, batch %d), more "
                        "than this process may allocate (%s)",
                        (double)need / 1e6, r->spec->hidden, r->spec->batch, what);
}

/* Epoch 0 (no update) and the spec's epochs, each followed by the
 * evaluation of both held-out parts, into result's curve. */
static int run_epochs(run *r, im_train_result *result, im_error *err)
{
    const im_train_spec *spec = r->spec;
    result->curve = im_try_calloc((size_t)spec->epochs + 1, sizeof(im_epoch_stats));
    if (!result->curve) return im_error_set(err, IM_ENOMEM, "train: out of memory for the curve");
    im_rng shuffle;
    im_rng_seed(&shuffle, spec->seed, IM_STREAM_SHUFFLE);
    int rc = 0;
    for (int e = 0; e <= spec->epochs; e++) {
        double t0 = im_clock();
        im_epoch_stats st;
        memset(&st, 0, sizeof st);
        st.epoch = e;
        st.n_terms_hidden = im_network_terms_hidden(r->net);
        for (uint32_t t = 0; t < r->n_train; t++) r->order[t] = t;
        if (e > 0) im_rng_shuffle(&shuffle, r->order, r->n_train);
        if ((rc = train_pass(r, e > 0, &st, err))) break;
        if ((rc = evaluate(r, IM_SPLIT_VAL, &st.val_acc, err)) ||
            (rc = evaluate(r, IM_SPLIT_TEST, &st.test_acc, err)))
            break;
        st.seconds = im_clock() - t0;
        result->curve[result->n_epochs++] = st;
        result->val_acc = st.val_acc;
        result->test_acc = st.test_acc;
        if (r->opt->on_epoch && r->opt->on_epoch(&st, r->opt->user)) {
            rc = IM_ESTOPPED;
            break;
        }
    }
    if (rc == IM_ESTOPPED)
        im_error_set(err, IM_ESTOPPED, "train: stopped after %d epochs",
                     result->n_epochs > 0 ? result->n_epochs - 1 : 0);
    return rc;
}

int im_train_run(const im_train_spec *spec, const im_train_options *opt, im_train_result *result,
                 im_error *err)
{
    memset(result, 0, sizeof *result);
    result->val_acc = result->test_acc = NAN;
    if (!spec || !opt || !opt->data_dir)
        return im_error_set(err, IM_EINVAL, "train: no spec or data directory given");
    if (spec->batch < 1 || spec->hidden < 1 || spec->epochs < 0 || spec->train_limit < 0 ||
        spec->eval_limit < 0)
        return im_error_set(
            err, IM_EINVAL, "train: invalid spec (batch %d, hidden %d, epochs %d, limits %d/%d)",
            spec->batch, spec->hidden, spec->epochs, spec->train_limit, spec->eval_limit);
    double t_start = im_clock();
    run r;
    memset(&r, 0, sizeof r);
    r.spec = spec;
    r.opt = opt;
    int rc = run_open(&r, err);
    if (!rc) rc = run_epochs(&r, result, err);
    if (rc == IM_ENOMEM) out_of_memory(&r, err);
    if (r.net) im_network_timing(r.net, &result->gemm_s, &result->pid_s);
    result->wall_s = im_clock() - t_start;
    im_network_free(&r.net);
    im_dataset_release(&r.ds);
    free(r.x);
    free(r.xf);
    free(r.eval_idx);
    free(r.order);
    free(r.theta);
    free(r.labels);
    free(r.mean);
    return rc;
}

void im_train_result_release(im_train_result *result)
{
    if (!result) return;
    free(result->curve);
    memset(result, 0, sizeof *result);
}

/* ---- memory estimate ---- */

/* Bytes of one layer's allocations (layer.c, with its PID workspace in
 * pid.c): parameters with their gradient and Adam moments, the per-batch
 * buffers, the masks of masked sources and the PID tables. In double, so
 * that no size from a spec overflows. */
static double layer_bytes(double n_out, double n_max, int k, const double *n_in, int n_masked,
                          double bins_prod)
{
    double params = 0, in_sum = 0, in_max = 0;
    for (int i = 0; i < k; i++) {
        params += n_out * (n_in[i] + 1);
        in_sum += n_in[i];
        in_max = n_in[i] > in_max ? n_in[i] : in_max;
    }
    double nb = n_out * n_max;
    double b = 4 * 8 * params;                /* params, grad, adam_m, adam_v */
    b += nb * 8 * (4 + 3.0 * k) + nb * 2 * k; /* own_in, theta, dtheta, y; x, dthx, dx; bins */
    b += n_masked * n_out * n_out * 8;        /* masks: n_out x n_out doubles each */
    b += 4 * (n_max * in_sum + n_out * in_max + nb); /* single products: in_f, w_f, x_f */
    double subsets = (double)((1 << k) - 1);
    double table = bins_prod < n_max ? bins_prod : n_max;
    b += subsets * (n_max * (4 + 4 + 16 + 8) + table * 16) + n_max * 8 * 2; /* PID workspace */
    return b;
}

uint64_t im_train_spec_memory_bytes(const im_train_spec *s, int n_in, int n_classes,
                                    uint64_t n_samples)
{
    double H = s->hidden, B = s->batch, C = n_classes, D = n_in;
    double bins = s->bins;
    double total = 32.0 * 1024 * 1024; /* the program, its libraries, BLAS buffers */
    if (im_setup_sources(s->setup) == 2) {
        double in[2] = {D, s->setup == IM_SETUP_BIVARIATE_LATERAL ? H : C};
        total += layer_bytes(H, B, 2, in, s->setup == IM_SETUP_BIVARIATE_LATERAL, bins * bins);
    } else {
        double in[3] = {D, C, H};
        total += layer_bytes(H, B, 3, in, 1, bins * bins * bins);
    }
    double out_in[2] = {H, C};
    total += layer_bytes(C, B, 2, out_in, 0, 64.0 * 64.0);
    total += B * (2 * C + H) * 8; /* network: onehot, feedback_in, lateral_in */
    if (s->setup == IM_SETUP_BACKPROP) total += B * (C + 2 * H) * 8;
    double n = (double)n_samples;
    total += B * D * 8 + n * 4 + B * 4 + n * C * 8 + n; /* the trainer's batch and eval buffers */
    total += ((double)s->epochs + 1) * sizeof(im_epoch_stats);
    total += n * (D + 1); /* the dataset as bytes */
    return total >= 1.8e19 ? UINT64_MAX : (uint64_t)total;
}
