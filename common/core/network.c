/*
 * network.c: the paper's setups on top of im_layer (see network.h for the
 * architecture and the choices). This file only wires layers together: which
 * buffer is which source at which recurrent step, the output layer's label
 * context, and the backprop baseline's loss and surrogate gradient.
 *
 * Buffers the layers read as inputs are owned here and stay untouched until
 * the layer's goal or backward has used them: the step-1 hidden outputs are
 * copied to lateral_in before step 2 samples over the layer's own output
 * buffer, and the step-1 output-layer samples to feedback_in.
 */
#include "network.h"

#include "layer.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BINS 20 /* output layer: adaptive normalised binning, 20 x 20 */

/* Activation of the bivariate hidden layers in the published configs. */
#define HIDDEN_BIVARIATE_K1 0.9
#define HIDDEN_BIVARIATE_K2 2.0

/* Both layers' forward and weight-gradient products in single precision
 * (layer.h, im_products): half the time of the biggest cost of an epoch, with
 * the paper's accuracies kept (README); IM_DOUBLE_PRODUCTS builds (a CMake
 * option) keep them in double. */
#ifdef IM_DOUBLE_PRODUCTS
#define NETWORK_PRODUCTS IM_PRODUCTS_DOUBLE
#else
#define NETWORK_PRODUCTS IM_PRODUCTS_SINGLE
#endif

struct im_network {
    im_setup setup;
    int n_in, n_cls, hidden, n_max;
    int k_hid;
    int recurrent; /* 1: two hidden steps with a lateral source */
    int lat_src;   /* source index of the lateral input (-1: none) */
    int ctx_src;   /* source index of the label / feedback context (-1: none) */
    im_layer *hid, *out;
    im_rng rng_train, rng_eval;
    /* buffers owned by the network, [n_max][...] sample-major */
    double *onehot;      /* [n_max][n_cls] label one-hot */
    double *lateral_in;  /* [n_max][hidden] step-1 hidden outputs */
    double *feedback_in; /* [n_max][n_cls] step-1 output samples (feedback setup) */
    double *dtheta_out;  /* [n_cls][n_max] backprop: dLoss/dtheta of the output layer */
    double *dy_hid;      /* [n_max][hidden] backprop: dLoss/dY of the hidden layer */
    double *dtheta_hid;  /* [hidden][n_max] backprop: dLoss/dtheta of the hidden layer */
};

static im_binning fixed_binning(int bins, double range)
{
    im_binning b = {.kind = IM_BIN_FIXED, .bins = bins, .lo = -range, .hi = range};
    return b;
}

static im_binning adaptive_binning(int bins)
{
    im_binning b = {.kind = IM_BIN_ADAPTIVE, .bins = bins, .lo = -1, .hi = 1};
    return b;
}

/* The hidden layer's spec for the setup. */
static void hidden_spec(const im_train_spec *s, int n_in, int n_cls, im_layer_spec *ls)
{
    memset(ls, 0, sizeof *ls);
    ls->n_out = s->hidden;
    ls->n_max = s->batch;
    ls->lr = s->lr_hidden;
    ls->wd = s->wd_hidden;
    ls->products = NETWORK_PRODUCTS;
    ls->src[0].n_in = n_in;
    if (im_setup_sources(s->setup) == 2) {
        im_binning b = adaptive_binning(s->bins);
        ls->k = 2;
        ls->act = im_activation_bivariate(HIDDEN_BIVARIATE_K1, HIDDEN_BIVARIATE_K2);
        ls->src[0].binning = b;
        ls->src[1].binning = b;
        if (s->setup == IM_SETUP_BIVARIATE_LATERAL) {
            ls->src[1].n_in = s->hidden;
            ls->src[1].mask = IM_MASK_NO_SELF;
        } else {
            ls->src[1].n_in = n_cls;
        }
        memcpy(ls->gamma, s->gamma, 5 * sizeof(double));
        return;
    }
    im_binning b = fixed_binning(s->bins, s->bin_range);
    ls->k = 3;
    ls->act = im_activation_trivariate();
    for (int i = 0; i < 3; i++) ls->src[i].binning = b;
    ls->src[1].n_in = n_cls; /* label, or the output layer's feedback */
    ls->src[2].n_in = s->hidden;
    if (s->setup == IM_SETUP_TRIVARIATE_SPARSE && s->max_lateral > 0 &&
        s->max_lateral < s->hidden) {
        ls->src[2].mask = IM_MASK_SPARSE;
        ls->src[2].max_lateral = s->max_lateral;
    } else {
        ls->src[2].mask = IM_MASK_NO_SELF;
    }
    memcpy(ls->gamma, s->gamma, IM_MAX_TERMS * sizeof(double));
}

static void output_spec(const im_train_spec *s, int n_cls, im_layer_spec *ls)
{
    memset(ls, 0, sizeof *ls);
    ls->k = 2;
    ls->n_out = n_cls;
    ls->n_max = s->batch;
    ls->lr = s->lr_out;
    ls->wd = s->wd_out;
    ls->products = NETWORK_PRODUCTS;
    ls->act = im_activation_bivariate(1.0, 2.0);
    ls->src[0].n_in = s->hidden;
    ls->src[0].binning = adaptive_binning(OUT_BINS);
    ls->src[1].n_in = n_cls;
    ls->src[1].binning = adaptive_binning(OUT_BINS);
    ls->src[1].fixed_identity = 1;
    memcpy(ls->gamma, s->gamma_out, 5 * sizeof(double));
}

im_network *im_network_new(const im_train_spec *spec, int n_in, int n_classes, im_error *err)
{
    if (n_in < 1 || n_classes < 2 || n_classes > 65535) {
        im_error_set(err, IM_EINVAL, "network: %d inputs and %d classes (need >= 1 and 2..65535)",
                     n_in, n_classes);
        return NULL;
    }
    if (spec->hidden < 1 || spec->batch < 1) {
        im_error_set(err, IM_EINVAL, "network: hidden %d, batch %d (need >= 1)", spec->hidden,
                     spec->batch);
        return NULL;
    }
    im_network *net = im_try_calloc(1, sizeof *net);
    if (!net) goto oom;
    net->setup = spec->setup;
    net->n_in = n_in;
    net->n_cls = n_classes;
    net->hidden = spec->hidden;
    net->n_max = spec->batch;
    net->k_hid = im_setup_sources(spec->setup);
    switch (spec->setup) {
    case IM_SETUP_BIVARIATE_CONTEXT: net->recurrent = 0, net->ctx_src = 1, net->lat_src = -1; break;
    case IM_SETUP_BIVARIATE_LATERAL: net->recurrent = 1, net->ctx_src = -1, net->lat_src = 1; break;
    default: /* the trivariate setups and backprop */
        net->recurrent = 1, net->ctx_src = 1, net->lat_src = 2;
        break;
    }

    im_rng rng_init;
    im_rng_seed(&rng_init, spec->seed, IM_STREAM_INIT);
    im_rng_seed(&net->rng_train, spec->seed, IM_STREAM_TRAIN_SAMPLING);
    im_rng_seed(&net->rng_eval, spec->seed, IM_STREAM_EVAL_SAMPLING);

    im_layer_spec ls;
    hidden_spec(spec, n_in, n_classes, &ls);
    net->hid = im_layer_new(&ls, &rng_init, err);
    if (!net->hid) goto fail;
    output_spec(spec, n_classes, &ls);
    net->out = im_layer_new(&ls, &rng_init, err);
    if (!net->out) goto fail;

    size_t nm = (size_t)net->n_max;
    net->onehot = im_try_malloc_array(nm * (size_t)n_classes, sizeof(double));
    net->feedback_in = im_try_malloc_array(nm * (size_t)n_classes, sizeof(double));
    net->lateral_in = im_try_malloc_array(nm * (size_t)net->hidden, sizeof(double));
    if (!net->onehot || !net->feedback_in || !net->lateral_in) goto oom;
    if (spec->setup == IM_SETUP_BACKPROP) {
        net->dtheta_out = im_try_malloc_array(nm * (size_t)n_classes, sizeof(double));
        net->dy_hid = im_try_malloc_array(nm * (size_t)net->hidden, sizeof(double));
        net->dtheta_hid = im_try_malloc_array(nm * (size_t)net->hidden, sizeof(double));
        if (!net->dtheta_out || !net->dy_hid || !net->dtheta_hid) goto oom;
    }
    return net;

oom:
    im_error_set(err, IM_ENOMEM, "network: out of memory for the buffers of batch %d, hidden %d",
                 spec->batch, spec->hidden);
fail:
    im_network_free(&net);
    return NULL;
}

void im_network_free(im_network **pnet)
{
    if (!pnet || !*pnet) return;
    im_network *net = *pnet;
    im_layer_free(&net->hid);
    im_layer_free(&net->out);
    free(net->onehot);
    free(net->feedback_in);
    free(net->lateral_in);
    free(net->dtheta_out);
    free(net->dy_hid);
    free(net->dtheta_hid);
    free(net);
    *pnet = NULL;
}

/*
 * The forward pass of both layers for n samples. label_ctx: x of the labels
 * ([n][n_cls] one-hot) or NULL for the all-zero context of evaluation.
 * Leaves the hidden layer at its last step (theta, x, samples) and the output
 * layer's theta; nothing is binned.
 */
static int forward(im_network *net, int n, const double *x, const float *xf,
                   const double *label_ctx, im_rng *rng, im_error *err)
{
    const double *in[IM_MAX_SOURCES] = {x, NULL, NULL};
    const double *out_in[2] = {NULL, label_ctx};
    size_t hid_bytes = (size_t)n * (size_t)net->hidden * sizeof(double);
    int feedback = net->setup == IM_SETUP_TRIVARIATE_FEEDBACK;
    int rc;

    if (net->ctx_src >= 0 && !feedback) in[net->ctx_src] = label_ctx;
    /* step 1: lateral input 0 (and feedback 0); the images in float or double */
    rc = xf ? im_layer_forward_float(net->hid, n, xf, in, err)
            : im_layer_forward(net->hid, n, in, err);
    if (rc) return rc;
    im_layer_sample(net->hid, rng);
    if (net->recurrent) {
        memcpy(net->lateral_in, im_layer_output(net->hid), hid_bytes);
        if (feedback) {
            out_in[0] = net->lateral_in;
            if ((rc = im_layer_forward(net->out, n, out_in, err))) return rc;
            im_layer_sample(net->out, rng);
            memcpy(net->feedback_in, im_layer_output(net->out),
                   (size_t)n * (size_t)net->n_cls * sizeof(double));
            if ((rc = im_layer_forward_source(net->hid, net->ctx_src, net->feedback_in, err)))
                return rc;
        }
        /* step 2: sees step 1's samples; the feedforward product is kept */
        if ((rc = im_layer_forward_source(net->hid, net->lat_src, net->lateral_in, err))) return rc;
        im_layer_sample(net->hid, rng);
    }
    out_in[0] = im_layer_output(net->hid);
    return im_layer_forward(net->out, n, out_in, err);
}

/* The output layer's theta [n_cls][n] into theta [n][n_cls]. */
static void output_theta(im_network *net, double *theta)
{
    if (theta) im_layer_theta_sample_major(net->out, theta);
}

/* Bin and measure one layer's goal; with grad != 0 leave its goal gradient
 * (without, the weight-gradient products are skipped). */
static int layer_goal(im_layer *l, int grad, double *terms, double *goal, im_error *err)
{
    int rc = im_layer_bin(l, err);
    if (rc) return rc;
    return grad ? im_layer_goal(l, terms, goal, err) : im_layer_goal_terms(l, terms, goal, err);
}

/* dtheta [hidden][n] = 2 * dy [n][hidden]: the straight-through estimate of
 * the sampling (E[Y] = 2 theta - 1), transposed to neuron-major. */
static void straight_through(const double *dy, double *dtheta, int n, int hidden)
{
    for (int t = 0; t < n; t++) {
        const double *row = dy + (size_t)t * hidden;
        for (int j = 0; j < hidden; j++) dtheta[(size_t)j * n + t] = 2.0 * row[j];
    }
}

/*
 * Backprop baseline: gradients of the mean binary cross-entropy of the output
 * layer's theta through the output layer, the straight-through sampling and
 * both recurrent steps of the hidden layer (see network.h). Overwrites the
 * gradients left by the goals. Step 1 is reached through step 2's lateral
 * input; to differentiate it, the hidden layer is put back into its step-1
 * state (lateral input 0: forward_source recomputes x_L = b_L and theta with
 * the kept F and C products) and the step-1 gradients are added.
 */
static int backprop(im_network *net, int n, const uint8_t *labels, im_error *err)
{
    const double *theta = im_layer_theta(net->out); /* [n_cls][n] */
    double inv_n = 1.0 / n;
    for (int j = 0; j < net->n_cls; j++) {
        const double *th = theta + (size_t)j * n;
        double *d = net->dtheta_out + (size_t)j * n;
        for (int t = 0; t < n; t++) {
            /* dBCE/dtheta = (theta - y) / (theta (1 - theta)); theta is clamped
             * away from 0 and 1 by the layer, and the layer multiplies by
             * dtheta/df = theta (1 - theta) again (0 where clamped). */
            double y = labels[t] == j ? 1.0 : 0.0;
            d[t] = (th[t] - y) / (th[t] * (1.0 - th[t])) * inv_n;
        }
    }
    im_layer_backward(net->out, net->dtheta_out, 0);
    im_layer_input_grad(net->out, 0, net->dy_hid); /* dLoss/dY2 [n][hidden] */
    straight_through(net->dy_hid, net->dtheta_hid, n, net->hidden);
    im_layer_backward(net->hid, net->dtheta_hid, 0);
    im_layer_input_grad(net->hid, net->lat_src, net->dy_hid); /* dLoss/dY1 */
    straight_through(net->dy_hid, net->dtheta_hid, n, net->hidden);
    int rc = im_layer_forward_source(net->hid, net->lat_src, NULL, err);
    if (rc) return rc;
    im_layer_backward(net->hid, net->dtheta_hid, 1);
    return 0;
}

/* A training batch with the images x in double or xf in float (one non-NULL). */
static int train_batch(im_network *net, int n, const double *x, const float *xf,
                       const uint8_t *labels, int update, double *theta, im_batch_stats *st,
                       im_error *err)
{
    if (n < 1 || n > net->n_max)
        return im_error_set(err, IM_EINVAL, "network: batch of %d samples (1..%d)", n, net->n_max);
    memset(net->onehot, 0, (size_t)n * (size_t)net->n_cls * sizeof(double));
    for (int t = 0; t < n; t++) {
        if (labels[t] >= net->n_cls)
            return im_error_set(err, IM_EINVAL, "network: label %d of sample %d >= %d classes",
                                labels[t], t, net->n_cls);
        net->onehot[(size_t)t * net->n_cls + labels[t]] = 1.0;
    }
    int rc = forward(net, n, x, xf, net->onehot, &net->rng_train, err);
    if (rc) return rc;
    output_theta(net, theta);

    im_batch_stats local;
    if (!st) st = &local;
    st->n_terms_hidden = net->k_hid == 3 ? IM_MAX_TERMS : 5;
    /* the goals' gradients are wanted only for an update by the goals; the
     * backprop baseline replaces them with the cross-entropy's */
    int grad = update && net->setup != IM_SETUP_BACKPROP;
    if ((rc = layer_goal(net->hid, grad, st->atoms_hidden, &st->goal_hidden, err)) ||
        (rc = layer_goal(net->out, grad, st->atoms_out, &st->goal_out, err)))
        return rc;
    if (!isfinite(st->goal_hidden) || !isfinite(st->goal_out))
        return im_error_set(err, IM_ENUMERIC, "network: non-finite goal (hidden %g, output %g)",
                            st->goal_hidden, st->goal_out);
    if (!update) return 0;
    if (net->setup == IM_SETUP_BACKPROP && (rc = backprop(net, n, labels, err))) return rc;
    im_layer_step(net->hid);
    im_layer_step(net->out);
    return 0;
}

int im_network_train_batch(im_network *net, int n, const double *x, const uint8_t *labels,
                           int update, double *theta, im_batch_stats *st, im_error *err)
{
    return train_batch(net, n, x, NULL, labels, update, theta, st, err);
}

int im_network_train_batch_float(im_network *net, int n, const float *x, const uint8_t *labels,
                                 int update, double *theta, im_batch_stats *st, im_error *err)
{
    if (!im_network_single(net))
        return im_error_set(err, IM_EINVAL, "network: float images need single products");
    return train_batch(net, n, NULL, x, labels, update, theta, st, err);
}

static int eval_batch(im_network *net, int n, const double *x, const float *xf, double *theta,
                      im_error *err)
{
    if (n < 1 || n > net->n_max)
        return im_error_set(err, IM_EINVAL, "network: batch of %d samples (1..%d)", n, net->n_max);
    int rc = forward(net, n, x, xf, NULL, &net->rng_eval, err);
    if (rc) return rc;
    output_theta(net, theta);
    return 0;
}

int im_network_eval_batch(im_network *net, int n, const double *x, double *theta, im_error *err)
{
    return eval_batch(net, n, x, NULL, theta, err);
}

int im_network_eval_batch_float(im_network *net, int n, const float *x, double *theta,
                                im_error *err)
{
    if (!im_network_single(net))
        return im_error_set(err, IM_EINVAL, "network: float images need single products");
    return eval_batch(net, n, NULL, x, theta, err);
}

int im_network_single(const im_network *net)
{
    return NETWORK_PRODUCTS == IM_PRODUCTS_SINGLE && net != NULL;
}

void im_network_timing(const im_network *net, double *gemm_s, double *pid_s)
{
    double g1, p1, g2, p2;
    im_layer_timing(net->hid, &g1, &p1);
    im_layer_timing(net->out, &g2, &p2);
    if (gemm_s) *gemm_s = g1 + g2;
    if (pid_s) *pid_s = p1 + p2;
}

int im_network_terms_hidden(const im_network *net)
{
    return net->k_hid == 3 ? IM_MAX_TERMS : 5;
}
