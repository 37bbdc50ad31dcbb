/*
 * train.h: one whole training run from a trial spec (INFOMORPHIC.md,
 * sections 5-6): load the data, build the network of the spec's setup, run
 * epoch 0 (evaluation only) and spec->epochs training epochs, report each
 * epoch through a callback, and return the curve and the final PID atoms.
 *
 * Deterministic: the same spec (seed included) and thread count give the same
 * numbers. Library code: prints nothing; the caller shows progress from the
 * callback. Thread-safe for distinct runs (no global state), so a worker may
 * train in a thread of its own and poll `stop` from another.
 */
#ifndef IM_TRAIN_H
#define IM_TRAIN_H

#include "im.h"
#include "lattice.h"
#include "train_spec.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct im_epoch_stats {
    int epoch;        /* 0 = before training */
    double train_acc; /* accuracy on the training batches (NaN at epoch 0) */
    double val_acc, test_acc;
    double goal_hidden, goal_out;      /* mean goal per neuron, bits */
    int n_terms_hidden;                /* 5 or 19 */
    double atoms_hidden[IM_MAX_TERMS]; /* atoms + H_res, averaged over neurons and batches */
    double atoms_out[5];
    double seconds; /* wall time of this epoch (training + evaluation) */
} im_epoch_stats;

/* Called after every epoch. Return 0 to go on, non-zero to stop the run
 * (im_train_run then returns IM_ESTOPPED with the epochs done so far). */
typedef int (*im_epoch_fn)(const im_epoch_stats *stats, void *user);

typedef struct im_train_options {
    const char *data_dir;   /* the data directory (required) */
    im_epoch_fn on_epoch;   /* may be NULL */
    void *user;             /* passed to on_epoch */
    const atomic_int *stop; /* may be NULL; when non-zero the run stops at the next batch */
} im_train_options;

typedef struct im_train_result {
    int n_epochs;             /* entries in curve: epoch 0 .. last epoch done */
    im_epoch_stats *curve;    /* [n_epochs], owned */
    double val_acc, test_acc; /* of the last epoch done */
    double wall_s;            /* whole run */
    double gemm_s, pid_s;     /* time in matrix products and in the PID */
} im_train_result;

/* Run the spec. Returns 0, IM_ESTOPPED (stopped by `stop` or the callback:
 * result holds what was done), or an error (data missing, bad spec,
 * non-finite values) with err filled; IM_ENOMEM when a buffer of the run
 * (dataset, network, trainer) cannot be allocated, with a message "out of
 * memory: the trial needs about N MB ...": the run's allocations never
 * abort the process. result must be released with
 * im_train_result_release in every case. */
int im_train_run(const im_train_spec *spec, const im_train_options *opt, im_train_result *result,
                 im_error *err);

void im_train_result_release(im_train_result *result);

/* The accuracy rule of evaluation (INFOMORPHIC.md, section 6) on n samples:
 * theta [n][c] the output layer's P(Y = +1) per class, labels [n]. A class
 * whose mean theta over the n samples is >= 0.5 is inverted (theta := 1 -
 * theta); the prediction is the argmax (the first on ties); each sample
 * counts once. mean [c] is scratch (gets the per-class means). Returns the
 * fraction correct, NaN if n = 0. Thread-safe. */
double im_train_accuracy(const double *theta, const uint8_t *labels, uint32_t n, int c,
                         double *mean);

/* An estimate of the memory (bytes) that training s takes at its peak: the
 * network's layers (parameters with gradients and Adam moments, per-batch
 * buffers, the masks of lateral sources, which grow with hidden^2, the PID
 * workspaces), the trainer's buffers and the dataset, for inputs of n_in
 * values, n_classes classes and n_samples samples (the MNIST-like datasets:
 * 784, 10, 70000), plus 32 MB for the program. It follows the allocations
 * of layer.c, network.c, pid.c and this file, so that a worker can refuse a
 * trial that does not fit before allocating anything (Linux overcommits:
 * an allocation that succeeds may still not fit). Checked against the
 * measured peak RSS of real runs by test_train. Saturates at UINT64_MAX.
 * Thread-safe. */
uint64_t im_train_spec_memory_bytes(const im_train_spec *s, int n_in, int n_classes,
                                    uint64_t n_samples);
/* The shape assumed when the dataset is not at hand (the coordinator): the
 * MNIST-like datasets, 28 x 28 inputs, 10 classes, 70,000 samples. */
#define IM_MEMORY_N_IN      784
#define IM_MEMORY_N_CLASSES 10
#define IM_MEMORY_N_SAMPLES 70000

#endif /* IM_TRAIN_H */
