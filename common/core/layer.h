/*
 * layer.h: one layer of infomorphic neurons (INFOMORPHIC.md, sections 1, 2,
 * 4, 5): k = 2 or 3 sources with per-source weights, biases and optional
 * masks, the activation, stochastic binary outputs, the binning, the layer's
 * local PID goal and its gradient, and Adam.
 *
 * Sources are numbered as in the lattice: 0 = F, 1 = C (or L in the bivariate
 * lateral setup, where L plays the second source), 2 = L.
 *
 * One training step on a batch of n samples (n <= n_max) is
 *
 *   im_layer_forward(l, n, in, err);      x_i = in_i W_i^T + b_i, theta
 *   (im_layer_forward_source(l, i, in_i, err): a new input for source i only)
 *   im_layer_sample(l, rng);              Y in {-1, +1}, P(Y = +1) = theta
 *   im_layer_bin(l, err);                 bin indices of every x_i, frozen
 *   im_layer_goal(l, terms, &goal, err);  PID per neuron, gradient of the loss
 *   im_layer_step(l);                     Adam, then masks / identity re-applied
 *
 * The loss of the layer is -sum over neurons of G; im_layer_goal leaves its
 * gradient with respect to every weight and bias in the layer's gradient
 * buffers (masked; weight decay is added by im_layer_step, PyTorch style).
 * Gradients flow through theta only, never through the bins: im_layer_goal
 * always uses the bins of the last im_layer_bin, so calling forward again with
 * perturbed weights and then goal (without bin) evaluates the goal at frozen
 * bins (this is what the finite-difference test does).
 *
 * Backprop: the layer also exposes what an end-to-end baseline needs:
 * im_layer_backward takes any dLoss/dtheta and produces the parameter
 * gradients, and im_layer_input_grad the gradient with respect to a source's
 * input. The loss, the surrogate gradient through the sampling and the
 * chaining across layers belong to the network. The layer keeps one set of
 * activation buffers: backpropagation through the recurrent steps (through a
 * previous forward call) is not supported.
 *
 * Layouts (all row-major, doubles):
 *   inputs   in_i    [n][n_in[i]]        sample-major, a batch of rows
 *   weights  W_i     [n_out][n_in[i]]    row j = neuron j's weights (PyTorch's Linear)
 *   biases   b_i     [n_out]
 *   masks    M_i     [n_out][n_in[i]]    1.0 or 0.0, NULL when the source has none
 *   x_i, theta, dtheta   [n_out][n]      neuron-major: one neuron's batch contiguous
 *   bins     [n_out][k][n]               per neuron the [k][n] block im_pid_neuron wants
 *   output Y [n][n_out]                  sample-major, ready to be the next input
 * Neuron-major internal buffers keep the PID, binning and activation loops
 * contiguous; the GEMMs take the transposes for free (CBLAS flags).
 *
 * Ownership: an im_layer owns every buffer (allocated once in im_layer_new for
 * n_max samples; nothing is allocated per batch). Pointers returned by the
 * accessors are borrowed, valid until im_layer_free. Errors: functions return
 * 0 or a negative IM_E* code and fill the optional err. Not thread-safe: one
 * layer is used by one thread at a time.
 */
#ifndef IM_LAYER_H
#define IM_LAYER_H

#include "binning.h"
#include "im.h"
#include "lattice.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    IM_ACT_TRIVARIATE = 0, /* theta = sig(f((1-c1-c2) + c1 sig(w1 f c) + c2 sig(w2 f l))) */
    IM_ACT_BIVARIATE = 1   /* theta = sig(f (k1 + (1-k1) 2 sig(k2 f c))) */
} im_act_kind;

typedef struct im_activation {
    im_act_kind kind;
    double c1, c2, w1, w2; /* trivariate: 0.1, 0.1, 2, 2 */
    double k1, k2;         /* bivariate: 0.5, 2; the output layer uses k1 = 1 (theta = sig(f)) */
} im_activation;

/* theta is clamped to [IM_THETA_MIN, 1 - IM_THETA_MIN]; the gradient is 0 where
 * the clamp is active. */
#define IM_THETA_MIN 1e-6

/* The paper's trivariate activation (c1 = c2 = 0.1, w1 = w2 = 2). */
im_activation im_activation_trivariate(void);
/* The bivariate activation with k1, k2 (hidden: 0.5, 2; output: 1, 2). */
im_activation im_activation_bivariate(double k1, double k2);

/* theta and its partial derivatives for one sample: x [k] = (f, c[, l]).
 * dtheta_dx [k] (may be NULL) is d theta / d x_i, zero where theta is clamped.
 * Returns the clamped theta. The layer's loops use the same formulas inline. */
double im_activation_eval(const im_activation *a, int k, const double *x, double *dtheta_dx);

typedef enum {
    IM_MASK_NONE = 0,    /* dense */
    IM_MASK_NO_SELF = 1, /* lateral: neuron j ignores input j (needs n_in == n_out) */
    IM_MASK_SPARSE = 2   /* lateral: exactly max_lateral random partners, never itself */
} im_mask_kind;

typedef struct im_source_spec {
    int n_in;           /* input width, >= 1 */
    im_binning binning; /* how x_i is binned for the PID */
    im_mask_kind mask;  /* IM_MASK_NONE for feedforward and label sources */
    int max_lateral;    /* IM_MASK_SPARSE: 1 .. n_out - 1 partners per neuron */
    int fixed_identity; /* non-zero: W_i = I (needs n_in == n_out), reset after every
                           step and never trained; only b_i learns (output layer's label) */
} im_source_spec;

/* Precision of a layer's forward and weight-gradient products. Double: every
 * value in double (the oracle of the layer's tests). Single: the inputs and
 * weights rounded to float once per forward, x_i = b_i + W_i in_i^T and
 * dW_i = dx_i in_i summed in float by cblas_sgemm (relative error about 1e-7
 * of the sum of absolute terms), everything else in double as before: the
 * parameters, Adam, the biases and their gradients, the activation, the
 * binning, the PID. About twice as fast on a CPU with wide vectors.
 * im_layer_input_grad (backprop only) stays in double either way. */
typedef enum { IM_PRODUCTS_DOUBLE = 0, IM_PRODUCTS_SINGLE = 1 } im_products;

typedef struct im_layer_spec {
    int k;     /* sources, 2 or 3 */
    int n_out; /* neurons, >= 1 */
    int n_max; /* largest batch, >= 1 */
    im_source_spec src[IM_MAX_SOURCES];
    im_activation act;          /* trivariate needs k = 3, bivariate k = 2 */
    double gamma[IM_MAX_TERMS]; /* goal, canonical order, h_res last: 5 (k = 2) or 19 (k = 3) */
    double lr, wd;              /* Adam learning rate, L2 weight decay added to the gradient */
    im_products products;       /* IM_PRODUCTS_DOUBLE (0, the default) or _SINGLE */
} im_layer_spec;

typedef struct im_layer im_layer;

/*
 * A new layer. Weights and biases are drawn U(-1/sqrt(n_in[i]), 1/sqrt(n_in[i]))
 * from rng (per source: W_0, b_0, W_1, b_1, ...; then the sparse masks), masks
 * and fixed identities applied. Returns NULL and fills err (IM_EINVAL) for an
 * invalid spec, IM_ENOMEM when its buffers cannot be allocated (nothing is
 * left allocated), or the error of the PID workspace.
 * Caller owns the layer and frees it with im_layer_free.
 */
im_layer *im_layer_new(const im_layer_spec *spec, im_rng *rng, im_error *err);

/* Free the layer and set *l to NULL; NULL-safe. */
void im_layer_free(im_layer **l);

/* The spec the layer was made with (borrowed). */
const im_layer_spec *im_layer_get_spec(const im_layer *l);

/*
 * Forward pass of a batch of n samples (1 <= n <= n_max).
 *   in  [k] pointers; in[i] is [n][n_in[i]] sample-major, or NULL for an
 *       all-zero input (then x_i = b_i without a GEMM: lateral input at the
 *       first recurrent step, the label context at evaluation). in[i] may be
 *       this layer's own output buffer (im_layer_output): forward copies it,
 *       since im_layer_sample overwrites it. Every other input is borrowed
 *       until the next forward: goal / backward read it again for the weight
 *       gradients, so it must stay valid and unchanged until then (e.g. run a
 *       hidden layer's goal before resampling the layer that feeds it).
 * Sets x_i and theta for the batch. Returns 0, IM_EINVAL (n out of range), or
 * IM_ENUMERIC if a pre-activation is not finite.
 */
int im_layer_forward(im_layer *l, int n, const double *const *in, im_error *err);

/*
 * im_layer_forward with source 0's input in[0] given already rounded to float:
 * in0 [n][n_in[0]] (NULL: all zeros; in[0] is not read). Only for a layer with
 * IM_PRODUCTS_SINGLE, which would round a double in[0] to the same floats:
 * the caller that has its input in float (im_dataset_batch_float) saves a
 * double batch and its rounding. in0 is borrowed like in[0]. Returns what
 * im_layer_forward returns, and IM_EINVAL for a layer with double products.
 */
int im_layer_forward_float(im_layer *l, int n, const float *in0, const double *const *in,
                           im_error *err);

/*
 * Replace the input of source i only (same batch, same parameters) and
 * recompute x_i and theta; the other sources' x_j are kept. This is the
 * recurrent step: forward(F, C, NULL), sample, forward_source(L, own output)
 * saves the feedforward GEMM of the second step. in_i follows the rules of
 * im_layer_forward. Returns 0, IM_EINVAL (no full forward since the last
 * im_layer_step / im_layer_constrain, or i out of range) or IM_ENUMERIC.
 * Parameters edited by hand through the accessors need a full forward.
 */
int im_layer_forward_source(im_layer *l, int i, const double *in_i, im_error *err);

/* Sample Y [n][n_out] in {-1, +1} with P(+1) = theta: one im_rng_uniform per
 * value, in sample-major order (sample 0 neurons 0..n_out-1, sample 1, ...);
 * Y = +1 iff u < theta. Needs a forward pass first. */
void im_layer_sample(im_layer *l, im_rng *rng);

/* Bin every x_i of the current batch with the source's binning; the bins stay
 * frozen until the next call. Returns 0 or IM_ENUMERIC. */
int im_layer_bin(im_layer *l, im_error *err);

/*
 * The local goal of the current batch (theta of the last forward, bins of the
 * last bin call, same n): im_pid_neuron per neuron with the layer's gamma.
 *   terms [n_terms] (may be NULL): atoms and H_res averaged over the neurons (bits)
 *   goal  (may be NULL): G averaged over the neurons (bits); loss = -n_out * goal
 * Leaves dLoss/dW_i, dLoss/db_i in the gradient buffers (as im_layer_backward
 * with dtheta = -dG/dtheta). Returns 0 or the PID's error (IM_ERANGE,
 * IM_EINVAL), IM_EINVAL if no forward/bin of this batch size happened,
 * IM_ENUMERIC if the goal is not finite (gradients then untouched).
 */
int im_layer_goal(im_layer *l, double *terms, double *goal, im_error *err);

/* im_layer_goal without its last step: terms, goal and dLoss/dtheta of the
 * batch, but no backward pass, so the gradient buffers are left as they were.
 * For a measurement pass without an update, or when another loss's gradient
 * replaces the goal's (the backprop baseline): it saves the weight-gradient
 * products. Same returns as im_layer_goal. */
int im_layer_goal_terms(im_layer *l, double *terms, double *goal, im_error *err);

/*
 * Gradient of any loss through the layer: dtheta [n_out][n] is dLoss/dtheta of
 * the current batch (neuron-major, as im_layer_theta). Computes dLoss/dx_i
 * (kept for im_layer_input_grad) and sets the parameter gradients (masked;
 * none for fixed-identity weights). With accumulate != 0 they are added to
 * the gradient buffers instead. One GEMM per trained source.
 */
void im_layer_backward(im_layer *l, const double *dtheta, int accumulate);

/* din [n][n_in[i]] = dLoss/d in_i of the last backward (one GEMM; uses the
 * current weights, so call it before im_layer_step). For backprop only. */
void im_layer_input_grad(im_layer *l, int i, double *din);

/* One Adam step on every trained parameter, i.e. all weights and biases except
 * fixed-identity weights (beta1 0.9, beta2 0.999, eps 1e-8, torch.optim.Adam
 * semantics: g = grad + wd * p for weights and biases alike, bias-corrected
 * moments), then masked weights set to 0 and fixed identities reset. Masked
 * weights stay exactly 0: their gradient, moments and value are all 0. */
void im_layer_step(im_layer *l);

/* Re-apply masks and fixed identities (after editing weights by hand). */
void im_layer_constrain(im_layer *l);

/* Shapes and buffers (borrowed; see the layouts above). */
int im_layer_k(const im_layer *l);
int im_layer_n_out(const im_layer *l);
int im_layer_n_in(const im_layer *l, int i);
int im_layer_batch(const im_layer *l);                 /* n of the last forward, 0 before */
double *im_layer_weights(im_layer *l, int i);          /* [n_out][n_in[i]] */
double *im_layer_bias(im_layer *l, int i);             /* [n_out] */
double *im_layer_grad_weights(im_layer *l, int i);     /* [n_out][n_in[i]] */
double *im_layer_grad_bias(im_layer *l, int i);        /* [n_out] */
const double *im_layer_mask(const im_layer *l, int i); /* [n_out][n_in[i]] or NULL */
const double *im_layer_x(const im_layer *l, int i);    /* [n_out][n] */
const double *im_layer_theta(const im_layer *l);       /* [n_out][n] */
const double *im_layer_output(const im_layer *l);      /* [n][n_out], +-1 */
const uint16_t *im_layer_bins(const im_layer *l);      /* [n_out][k][n] */

/* theta of the current batch transposed to sample-major out [n][n_out]. */
void im_layer_theta_sample_major(const im_layer *l, double *out);

/* All parameters as one flat vector (W_0, b_0, W_1, b_1, ...), for saving and
 * restoring; *count gets its length. Borrowed and writable. */
double *im_layer_params(im_layer *l, size_t *count);

/* Wall time spent in GEMMs and in the PID since creation (seconds). */
void im_layer_timing(const im_layer *l, double *gemm_s, double *pid_s);

#endif /* IM_LAYER_H */
