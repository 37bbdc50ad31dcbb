/*
 * dataset.h: MNIST-format data (IDX files, plain or gzip through zlib) for
 * training: one folder per dataset in a data directory, with
 * train-{images-idx3,labels-idx1}-ubyte[.gz], the test pair named t10k-* or
 * test-*, and optionally a val-* pair. Without a val pair, 20 % of the
 * training set is split off for validation, shuffled by the trial seed.
 *
 * Pixels stay as bytes (60,000 MNIST images are 47 MB); batches are
 * standardised on the fly with the training set's pixel mean and standard
 * deviation (n - 1), computed over the training part only.
 * An im_dataset is caller-owned storage, released with im_dataset_release.
 * Read-only after loading: thread-safe for concurrent batch reads.
 */
#ifndef IM_DATASET_H
#define IM_DATASET_H

#include "im.h"

#include <stdint.h>

typedef enum { IM_SPLIT_TRAIN = 0, IM_SPLIT_VAL = 1, IM_SPLIT_TEST = 2 } im_split;

typedef struct im_dataset_part {
    uint32_t n;      /* samples */
    uint8_t *images; /* [n][dim] raw pixels */
    uint8_t *labels; /* [n] */
} im_dataset_part;

typedef struct im_dataset {
    char name[64];
    uint32_t rows, cols, dim; /* image shape; dim = rows * cols */
    uint32_t n_classes;       /* 1 + the largest label seen (10 for MNIST) */
    im_dataset_part part[3];  /* indexed by im_split */
    double mean, std;         /* of the training part's raw pixels */
} im_dataset;

/* Load data_dir/name for a trial with the given seed (used only to split off
 * validation when there are no val-* files). Returns 0, or IM_ENOTFOUND (no
 * such folder or missing files), IM_EIO, IM_EFORMAT (bad magic, dimensions,
 * truncated, images and labels disagree), IM_ENOMEM (the images do not fit
 * in memory; nothing is left allocated): err names the file and the problem. */
int im_dataset_load(im_dataset *ds, const char *data_dir, const char *name, uint64_t seed,
                    im_error *err);

/* Free the storage; ds may be zeroed or loaded. */
void im_dataset_release(im_dataset *ds);

/* Standardised batch: x[j*dim + p] = (pixel - mean) / std for the samples
 * idx[0..n) of a part (idx NULL: samples 0..n-1); labels copied to y (may be
 * NULL). */
void im_dataset_batch(const im_dataset *ds, im_split split, const uint32_t *idx, uint32_t n,
                      double *x, uint8_t *y);

/* im_dataset_batch rounded to float: x[j*dim + p] = (float) of the same
 * value, bit for bit, written directly (for single-precision products). */
void im_dataset_batch_float(const im_dataset *ds, im_split split, const uint32_t *idx, uint32_t n,
                            float *x, uint8_t *y);

/* Read one IDX file (plain or gzip). dims gets up to 3 dimensions; *data is
 * allocated (caller frees). Exposed for tests and tools. */
int im_idx_read(const char *path, uint8_t expect_ndim, uint32_t *dims, uint8_t **data,
                im_error *err);

#endif /* IM_DATASET_H */
