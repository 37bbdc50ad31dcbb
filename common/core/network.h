/*
 * network.h: the paper's networks (INFOMORPHIC.md, section 5): a hidden layer
 * of infomorphic neurons whose sources depend on the setup, and an output
 * layer of one bivariate neuron per class, each layer trained with its own
 * local PID goal and its own Adam; or the same architecture trained end to
 * end by backpropagation (the baseline).
 *
 *   setup                 hidden k  F      C                   L (2nd source if k = 2)
 *   bivariate-context     2         image  label               -
 *   bivariate-lateral     2         image  -                   previous hidden output
 *   trivariate            3         image  label               previous hidden output, no self
 *   trivariate-sparse     3         image  label               max_lateral random partners
 *   trivariate-feedback   3         image  previous output     previous hidden output
 *   backprop              3         as trivariate, trained end to end
 *
 * Output layer: F = the hidden layer's sampled +-1 outputs, C = the label
 * one-hot through fixed identity weights (bias trained), theta = sigmoid(f),
 * adaptive normalised binning 20 x 20, goal spec->gamma_out.
 *
 * Recurrence: setups with a lateral source run the hidden layer twice per
 * batch; step 1 sees lateral input 0, step 2 sees step 1's sampled outputs,
 * and only step 2 enters the goals. trivariate-feedback also runs the output
 * layer once after step 1 (sampled) and feeds its +-1 outputs to the hidden
 * layer's context at step 2 (context 0 at step 1). No gradient crosses
 * layers: every layer's inputs are constants for its goal.
 *
 * Choices where the paper leaves room (following the published configs):
 * the bivariate hidden layers use the activation with k1 = 0.9, k2 = 2 and
 * adaptive normalised binning with spec->bins bins; the trivariate ones fixed
 * binning with spec->bins bins on [-bin_range, bin_range].
 *
 * Backprop baseline: the loss is the binary cross-entropy of each class
 * neuron's theta = sigmoid(f) against the one-hot label, averaged over the
 * batch (one-vs-rest; it keeps every class neuron's mean theta near 1/10, so
 * the evaluation's inversion rule stays inert, unlike a softmax over f whose
 * logits float freely). The gradient reaches the hidden layer through the
 * sampling by the straight-through estimate of the mean, dY/dtheta := 2
 * (E[Y] = 2 theta - 1), and from there through the activation into the
 * hidden layer's F, C and L weights, through both recurrent steps (step 1's
 * samples reach the loss through step 2's lateral weights, with the same
 * straight-through estimate). Each layer keeps its own Adam (lr/wd of the
 * spec). The PID atoms of both layers are still measured for the report.
 *
 * Randomness: the weights come from the stream "init" of spec->seed (hidden
 * layer first, then output layer), the training samples from the stream
 * "train sampling", evaluation samples from the stream "eval sampling", so
 * evaluating never changes the training trajectory.
 *
 * Ownership: an im_network owns its layers and buffers, all allocated in
 * im_network_new for batches of up to spec->batch samples. Not thread-safe:
 * one thread per network.
 */
#ifndef IM_NETWORK_H
#define IM_NETWORK_H

#include "im.h"
#include "lattice.h"
#include "train_spec.h"

#include <stdint.h>

/* The streams of im_rng_seed used with the trial's seed. */
enum {
    IM_STREAM_INIT = 0,
    IM_STREAM_SHUFFLE = 1,
    IM_STREAM_TRAIN_SAMPLING = 2,
    IM_STREAM_EVAL_SAMPLING = 3
};

typedef struct im_network im_network;

/* What one training batch measured (means over the layer's neurons). */
typedef struct im_batch_stats {
    int n_terms_hidden;                /* 5 or 19 */
    double goal_hidden, goal_out;      /* G per neuron, bits */
    double atoms_hidden[IM_MAX_TERMS]; /* atoms, then H_res */
    double atoms_out[5];
} im_batch_stats;

/*
 * A network for spec (setup, hidden, max_lateral, batch, seed, gamma,
 * gamma_out, lr/wd, bins, bin_range) on inputs of n_in values and n_classes
 * classes (2 .. 65535). Returns NULL and fills err (IM_EINVAL) for a spec or
 * shape the layers refuse, IM_ENOMEM when a buffer cannot be allocated
 * (nothing is left allocated). Caller owns the result; free with
 * im_network_free.
 */
im_network *im_network_new(const im_train_spec *spec, int n_in, int n_classes, im_error *err);

/* Free the network and set *net to NULL; NULL-safe. */
void im_network_free(im_network **net);

/*
 * One training batch: n samples (1 <= n <= spec->batch), x [n][n_in]
 * standardised, labels [n] (each < n_classes). Runs the forward pass with the
 * label context, measures both layers' goals and atoms into st (may be NULL),
 * and, if update is non-zero, takes one optimiser step per layer (update = 0
 * is the measurement pass of epoch 0). theta [n][n_classes] (may be NULL)
 * gets the output layer's P(Y = +1) per class, as used for the training
 * accuracy. Returns 0, IM_EINVAL (n or a label out of range), IM_ENUMERIC (a
 * non-finite value), or the PID's error; err gets the detail.
 */
int im_network_train_batch(im_network *net, int n, const double *x, const uint8_t *labels,
                           int update, double *theta, im_batch_stats *st, im_error *err);

/*
 * Evaluation batch: the label context is all zeros, the hidden layer still
 * samples (from the evaluation stream). theta [n][n_classes] gets the output
 * layer's P(Y = +1). No goal, no update. Returns 0, IM_EINVAL or IM_ENUMERIC.
 */
int im_network_eval_batch(im_network *net, int n, const double *x, double *theta, im_error *err);

/* Non-zero if the network's products are in single precision (the default
 * build; network.c): then the _float batches below take the images already
 * rounded to float (im_dataset_batch_float), the same values the layers would
 * round a double batch to, so a trial's numbers are the same either way. */
int im_network_single(const im_network *net);

/* im_network_train_batch and im_network_eval_batch with x [n][n_in] in float.
 * Same contracts; IM_EINVAL if the network's products are in double. */
int im_network_train_batch_float(im_network *net, int n, const float *x, const uint8_t *labels,
                                 int update, double *theta, im_batch_stats *st, im_error *err);
int im_network_eval_batch_float(im_network *net, int n, const float *x, double *theta,
                                im_error *err);

/* Seconds spent in matrix products and in the PID since creation (both layers). */
void im_network_timing(const im_network *net, double *gemm_s, double *pid_s);

/* Number of terms of the hidden layer's goal (5 or 19) and of the output's (5). */
int im_network_terms_hidden(const im_network *net);

#endif /* IM_NETWORK_H */
