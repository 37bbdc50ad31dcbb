/*
 * dataset.c: IDX files (plain or gzip, both read through zlib's gzread, which
 * passes plain files through), the dataset folder layout, the seeded
 * train/validation split and the standardisation of batches.
 *
 * Every byte read comes from a file the user gave us, so nothing here asserts
 * on it: headers are checked (magic, number of dimensions, sizes with overflow
 * checks and an upper limit) before anything large is allocated, and the data
 * buffer grows with what was actually read, so a short file claiming a huge
 * size costs no more memory than its real contents. Every error message names
 * the file and what is wrong with it.
 *
 * Workload: a few files of up to some hundred megabytes per trial, read once;
 * batches are then produced many times per epoch from the bytes kept in memory.
 */
#include "dataset.h"
#include "rng.h"
#include "vmath.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* The largest IDX payload we accept (16 GiB): anything bigger is a corrupt
 * header, not a dataset that fits in memory. */
#define IDX_MAX_BYTES ((uint64_t)1 << 34)
/* The first allocation for the payload; it doubles while data keeps coming. */
#define IDX_FIRST_CHUNK ((size_t)1 << 20)
/* The rng stream of the train/validation split ("split"). */
#define SPLIT_STREAM 0x73706c6974ULL
/* Largest single gzread (its length is an unsigned int, its result an int). */
#define IDX_READ_MAX ((size_t)1 << 30)

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Read up to n bytes into buf; returns the count read (< n only at end of
 * file), or a negative IM_E* code on a read error (message in err). */
static int64_t gz_read_full(gzFile gz, const char *path, void *buf, size_t n, im_error *err)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < IDX_READ_MAX ? n - got : IDX_READ_MAX;
        int r = gzread(gz, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            return im_error_set(err, zerr == Z_ERRNO ? IM_EIO : IM_EFORMAT, "'%s': read error: %s",
                                path, zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

/* Open path for reading through zlib; *gz is the open file on success. */
static int idx_open(const char *path, gzFile *gz, im_error *err)
{
    errno = 0;
    *gz = gzopen(path, "rb");
    if (!*gz) {
        int e = errno;
        if (e == ENOENT) return im_error_set(err, IM_ENOTFOUND, "'%s': no such file", path);
        return im_error_set(err, IM_EIO, "unable to open '%s': %s", path,
                            e ? strerror(e) : "out of memory");
    }
    gzbuffer(*gz, 1 << 17);
    return 0;
}

/* The magic: two zero bytes, the element type (0x08: unsigned byte), the
 * number of dimensions, which must be expect_ndim. head_len is the size of
 * the whole header (for messages). */
static int idx_read_magic(gzFile gz, const char *path, uint8_t expect_ndim, size_t head_len,
                          im_error *err)
{
    unsigned char head[4];
    int64_t got = gz_read_full(gz, path, head, 4, err);
    if (got < 0) return (int)got;
    if (got < 4)
        return im_error_set(err, IM_EFORMAT,
                            "'%s': truncated: expected an idx header of %zu bytes, got %lld", path,
                            head_len, (long long)got);
    uint32_t magic = be32(head);
    uint32_t expect_magic = 0x00000800u | expect_ndim;
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08)
        return im_error_set(err, IM_EFORMAT,
                            "'%s': bad magic number 0x%08x (expected 0x%08x: an idx file of "
                            "unsigned bytes with %u dimension%s)",
                            path, magic, expect_magic, (unsigned)expect_ndim,
                            expect_ndim == 1 ? "" : "s");
    if (head[3] != expect_ndim)
        return im_error_set(err, IM_EFORMAT,
                            "'%s': wrong number of dimensions: %u (magic 0x%08x; expected %u, "
                            "magic 0x%08x)",
                            path, (unsigned)head[3], magic, (unsigned)expect_ndim, expect_magic);
    return 0;
}

/* The ndim dimensions after the magic into d[ndim]; *bytes gets the payload
 * size. A dimension after the first may not be 0, and the payload may not
 * exceed IDX_MAX_BYTES. */
static int idx_read_dims(gzFile gz, const char *path, uint8_t ndim, size_t head_len, uint32_t *d,
                         size_t *bytes, im_error *err)
{
    unsigned char head[12];
    int64_t got = gz_read_full(gz, path, head, head_len - 4, err);
    if (got < 0) return (int)got;
    if ((size_t)got < head_len - 4)
        return im_error_set(err, IM_EFORMAT,
                            "'%s': truncated: expected an idx header of %zu bytes, got %lld", path,
                            head_len, 4 + (long long)got);

    uint64_t total = 1; /* payload bytes; checked against the limit at each step */
    bool too_big = false;
    for (unsigned i = 0; i < ndim; i++) {
        d[i] = be32(head + 4 * i);
        if (i > 0 && d[i] == 0)
            return im_error_set(err, IM_EFORMAT, "'%s': dimension %u is 0", path, i + 1);
        if (!too_big) {
            total *= d[i]; /* both factors <= 2^34 and 2^32: no overflow in 64 bits */
            if (total > IDX_MAX_BYTES || total > SIZE_MAX - head_len) too_big = true;
        }
    }
    if (too_big) {
        char shape[48];
        if (ndim == 1)
            snprintf(shape, sizeof shape, "%u", d[0]);
        else if (ndim == 2)
            snprintf(shape, sizeof shape, "%u x %u", d[0], d[1]);
        else
            snprintf(shape, sizeof shape, "%u x %u x %u", d[0], d[1], d[2]);
        return im_error_set(err, IM_EFORMAT,
                            "'%s': absurd size %s bytes in the header (the limit is %llu bytes)",
                            path, shape, (unsigned long long)IDX_MAX_BYTES);
    }
    *bytes = (size_t)total;
    return 0;
}

/* The payload of n bytes and nothing after it; *out gets a new buffer of n
 * bytes (caller frees). It is read in chunks that double: a truncated file
 * with a huge header fails after reading what is there, before the full
 * allocation. */
static int idx_read_payload(gzFile gz, const char *path, size_t n, size_t head_len, uint8_t **out,
                            im_error *err)
{
    size_t cap = n < IDX_FIRST_CHUNK ? n : IDX_FIRST_CHUNK, have = 0;
    uint8_t *buf = im_try_malloc_array(cap, 1);
    int64_t got;
    int rc;
    if (!buf) return im_error_set(err, IM_ENOMEM, "'%s': out of memory for %zu bytes", path, cap);
    for (;;) {
        got = gz_read_full(gz, path, buf + have, cap - have, err);
        if (got < 0) {
            rc = (int)got;
            goto fail;
        }
        have += (size_t)got;
        if (have < cap || cap == n) break;
        cap = cap > n / 2 ? n : 2 * cap;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) {
            rc = im_error_set(err, IM_ENOMEM, "'%s': out of memory for %zu bytes", path, cap);
            goto fail;
        }
        buf = grown;
    }
    if (have < n) {
        rc = im_error_set(err, IM_EFORMAT, "'%s': truncated: expected %zu bytes, got %zu", path,
                          head_len + n, head_len + have);
        goto fail;
    }

    unsigned char extra;
    got = gz_read_full(gz, path, &extra, 1, err);
    if (got < 0) {
        rc = (int)got;
        goto fail;
    }
    if (got > 0) {
        rc = im_error_set(err, IM_EFORMAT, "'%s': trailing garbage after the expected %zu bytes",
                          path, head_len + n);
        goto fail;
    }
    *out = buf;
    return 0;

fail:
    free(buf);
    return rc;
}

int im_idx_read(const char *path, uint8_t expect_ndim, uint32_t *dims, uint8_t **data,
                im_error *err)
{
    *data = NULL;
    if (expect_ndim < 1 || expect_ndim > 3)
        return im_error_set(err, IM_EINVAL, "'%s': cannot read %u-dimensional idx files", path,
                            (unsigned)expect_ndim);
    gzFile gz;
    int rc = idx_open(path, &gz, err);
    if (rc) return rc;

    size_t head_len = 4 + 4 * (size_t)expect_ndim, n = 0;
    uint32_t d[3];
    uint8_t *buf = NULL;
    rc = idx_read_magic(gz, path, expect_ndim, head_len, err);
    if (rc == 0) rc = idx_read_dims(gz, path, expect_ndim, head_len, d, &n, err);
    if (rc == 0) rc = idx_read_payload(gz, path, n, head_len, &buf, err);
    gzclose_r(gz);
    if (rc) return rc;
    for (unsigned i = 0; i < expect_ndim; i++) dims[i] = d[i];
    *data = buf;
    return 0;
}

/* ---- the dataset folder ---- */

/* "a/b" or "a/b/c" (c may be NULL); caller frees. */
static char *path_join(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    char *p = im_xmalloc(la + lb + lc + 3);
    memcpy(p, a, la);
    size_t k = la;
    if (k > 0 && p[k - 1] != '/') p[k++] = '/';
    memcpy(p + k, b, lb);
    k += lb;
    if (c) {
        p[k++] = '/';
        memcpy(p + k, c, lc);
        k += lc;
    }
    p[k] = '\0';
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/prefix-kind (plain preferred) or dir/prefix-kind.gz if one exists, else
 * NULL. kind: "images-idx3-ubyte" or "labels-idx1-ubyte". Caller frees. */
static char *find_file(const char *dir, const char *prefix, const char *kind)
{
    size_t n = strlen(prefix) + strlen(kind) + 5;
    char *base = im_xmalloc(n);
    const char *ext[2] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        snprintf(base, n, "%s-%s%s", prefix, kind, ext[i]);
        char *p = path_join(dir, base, NULL);
        if (is_file(p)) {
            free(base);
            return p;
        }
        free(p);
    }
    free(base);
    return NULL;
}

#define LAYOUT_HINT                                                                                \
    "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], the test pair "                   \
    "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] (or test-*), "                    \
    "optionally a val-* pair"

/* Load one images/labels pair into *part and check that they agree. On
 * success *part owns both arrays; on failure it is left empty. */
static int load_pair(im_dataset_part *part, uint32_t shape[2], const char *img_path,
                     const char *lab_path, im_error *err)
{
    uint32_t idims[3], ldims[1];
    uint8_t *images = NULL, *labels = NULL;
    int rc = im_idx_read(img_path, 3, idims, &images, err);
    if (rc) return rc;
    rc = im_idx_read(lab_path, 1, ldims, &labels, err);
    if (rc) goto fail;
    if (idims[0] != ldims[0]) {
        rc = im_error_set(err, IM_EFORMAT, "'%s' has %u images but '%s' has %u labels", img_path,
                          idims[0], lab_path, ldims[0]);
        goto fail;
    }
    if (idims[0] == 0) {
        rc = im_error_set(err, IM_EFORMAT, "'%s': no images", img_path);
        goto fail;
    }
    part->n = idims[0];
    part->images = images;
    part->labels = labels;
    shape[0] = idims[1];
    shape[1] = idims[2];
    return 0;

fail:
    free(images);
    free(labels);
    return rc;
}

/* Split 20 % of ds->part[TRAIN] off into ds->part[VAL], chosen by a shuffle
 * seeded with seed; both parts keep the file's order. Returns 0, or
 * IM_ENOMEM with ds unchanged. */
static int split_validation(im_dataset *ds, uint64_t seed, im_error *err)
{
    im_dataset_part *tr = &ds->part[IM_SPLIT_TRAIN], *va = &ds->part[IM_SPLIT_VAL];
    uint32_t n = tr->n, n_val = n / 5, dim = ds->dim;

    uint32_t *order = im_try_malloc_array(n, sizeof *order); /* [n] */
    uint8_t *is_val = im_try_calloc(n, 1);                   /* [n] */
    im_dataset_part t = {n - n_val, im_try_malloc_array((size_t)(n - n_val), dim),
                         im_try_malloc_array(n - n_val, 1)};
    im_dataset_part v = {n_val, im_try_malloc_array(n_val, dim), im_try_malloc_array(n_val, 1)};
    if (!order || !is_val || !t.images || !t.labels || !v.images || !v.labels) {
        free(order);
        free(is_val);
        free(t.images);
        free(t.labels);
        free(v.images);
        free(v.labels);
        return im_error_set(err, IM_ENOMEM,
                            "dataset: out of memory splitting %u images into training and "
                            "validation",
                            n);
    }
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    im_rng r;
    im_rng_seed(&r, seed, SPLIT_STREAM);
    im_rng_shuffle(&r, order, n);
    for (uint32_t i = 0; i < n_val; i++) is_val[order[i]] = 1;
    free(order);

    uint32_t kt = 0, kv = 0;
    for (uint32_t i = 0; i < n; i++) {
        im_dataset_part *dst = is_val[i] ? &v : &t;
        uint32_t k = is_val[i] ? kv++ : kt++;
        memcpy(dst->images + (size_t)k * dim, tr->images + (size_t)i * dim, dim);
        dst->labels[k] = tr->labels[i];
    }
    free(is_val);
    free(tr->images);
    free(tr->labels);
    *tr = t;
    *va = v;
    return 0;
}

/* Mean and standard deviation (n - 1) of the training part's pixels, from a
 * histogram of the 256 byte values: exact counts, then two passes over 256
 * bins in double. */
static void pixel_stats(const im_dataset_part *p, uint32_t dim, double *mean, double *std)
{
    uint64_t hist[256] = {0};
    size_t n = (size_t)p->n * dim;
    for (size_t i = 0; i < n; i++) hist[p->images[i]]++;
    double s = 0;
    for (int v = 0; v < 256; v++) s += (double)v * (double)hist[v];
    double m = s / (double)n, ss = 0;
    for (int v = 0; v < 256; v++) ss += (double)hist[v] * ((double)v - m) * ((double)v - m);
    *mean = m;
    *std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

/* The files of the dataset folder dir into paths[split][images, labels]:
 * train-*, the test pair (t10k-* or test-*) and val-* if present (both
 * paths[IM_SPLIT_VAL] NULL if not). Paths found are set even on failure;
 * the caller frees them. name is for messages. */
static int find_paths(const char *dir, const char *name, char *paths[3][2], im_error *err)
{
    static const char *kinds[2] = {"images-idx3-ubyte", "labels-idx1-ubyte"};
    static const char *test_prefix[2] = {"t10k", "test"};
    const char *prefix[3] = {"train", "val", NULL};
    for (int t = 0; t < 2 && !prefix[IM_SPLIT_TEST]; t++) {
        char *a = find_file(dir, test_prefix[t], kinds[0]);
        char *b = find_file(dir, test_prefix[t], kinds[1]);
        if (a || b) prefix[IM_SPLIT_TEST] = test_prefix[t];
        free(a);
        free(b);
    }
    if (!prefix[IM_SPLIT_TEST]) prefix[IM_SPLIT_TEST] = "t10k";
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++) paths[s][k] = find_file(dir, prefix[s], kinds[k]);
    for (int s = 0; s < 3; s++) {
        bool optional = s == IM_SPLIT_VAL && !paths[s][0] && !paths[s][1];
        for (int k = 0; k < 2 && !optional; k++) {
            if (paths[s][k]) continue;
            return im_error_set(err, IM_ENOTFOUND,
                                "dataset '%s': missing '%s/%s-%s[.gz]' (expected " LAYOUT_HINT ")",
                                name, dir, prefix[s], kinds[k]);
        }
    }
    return 0;
}

/* Load the parts whose paths are set; all images of the training images'
 * size, which sets ds->rows, cols and dim. */
static int load_parts(im_dataset *ds, char *paths[3][2], im_error *err)
{
    for (int s = 0; s < 3; s++) {
        if (!paths[s][0]) continue;
        uint32_t shape[2] = {0, 0};
        int rc = load_pair(&ds->part[s], shape, paths[s][0], paths[s][1], err);
        if (rc) return rc;
        if (s == IM_SPLIT_TRAIN) {
            if ((uint64_t)shape[0] * shape[1] > UINT32_MAX)
                return im_error_set(err, IM_EFORMAT, "'%s': images of %u x %u pixels are too large",
                                    paths[s][0], shape[0], shape[1]);
            ds->rows = shape[0];
            ds->cols = shape[1];
            ds->dim = shape[0] * shape[1];
        } else if (shape[0] != ds->rows || shape[1] != ds->cols) {
            return im_error_set(err, IM_EFORMAT,
                                "'%s': images are %u x %u pixels, but the training images in "
                                "'%s' are %u x %u",
                                paths[s][0], shape[0], shape[1], paths[IM_SPLIT_TRAIN][0], ds->rows,
                                ds->cols);
        }
    }
    return 0;
}

/* The classes are those of the training set: set ds->n_classes and refuse a
 * validation or test label beyond them. */
static int check_labels(im_dataset *ds, char *paths[3][2], im_error *err)
{
    const im_dataset_part *tr = &ds->part[IM_SPLIT_TRAIN];
    uint8_t max_label = 0;
    for (uint32_t i = 0; i < tr->n; i++)
        if (tr->labels[i] > max_label) max_label = tr->labels[i];
    ds->n_classes = (uint32_t)max_label + 1;
    for (int s = 1; s < 3; s++) {
        const im_dataset_part *p = &ds->part[s];
        for (uint32_t i = 0; i < p->n; i++) {
            if (p->labels[i] <= max_label) continue;
            return im_error_set(err, IM_EFORMAT,
                                "'%s': label %u at index %u is not a class of the training set "
                                "(its labels go up to %u)",
                                paths[s][1], (unsigned)p->labels[i], i, (unsigned)max_label);
        }
    }
    return 0;
}

/* The steps after loading: split off validation if there was no val pair,
 * then the training pixels' statistics. */
static int finish_training_part(im_dataset *ds, char *paths[3][2], uint64_t seed, im_error *err)
{
    const char *train_images = paths[IM_SPLIT_TRAIN][0];
    if (!paths[IM_SPLIT_VAL][0]) {
        if (ds->part[IM_SPLIT_TRAIN].n < 5)
            return im_error_set(err, IM_EFORMAT,
                                "'%s': %u training images are too few to split off 20 %% for "
                                "validation (need at least 5, or a val-* pair)",
                                train_images, ds->part[IM_SPLIT_TRAIN].n);
        int rc = split_validation(ds, seed, err);
        if (rc) return rc;
    }
    pixel_stats(&ds->part[IM_SPLIT_TRAIN], ds->dim, &ds->mean, &ds->std);
    if (!(ds->std > 0))
        return im_error_set(err, IM_EFORMAT,
                            "'%s': the training pixels are all equal (standard deviation 0), "
                            "nothing to standardise",
                            train_images);
    return 0;
}

int im_dataset_load(im_dataset *ds, const char *data_dir, const char *name, uint64_t seed,
                    im_error *err)
{
    memset(ds, 0, sizeof *ds);
    if (!data_dir || !*data_dir) data_dir = ".";
    if (!name || !*name || strlen(name) >= sizeof ds->name || strchr(name, '/') ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return im_error_set(err, IM_EINVAL,
                            "invalid dataset name '%s' (a folder name of 1 to %zu characters)",
                            name ? name : "(null)", sizeof ds->name - 1);

    int rc = 0;
    char *dir = path_join(data_dir, name, NULL);
    char *paths[3][2] = {{NULL}};
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = im_error_set(err, IM_ENOTFOUND,
                          "dataset '%s' not found: no folder '%s' (expected one with " LAYOUT_HINT
                          "; deploy/fetch-datasets.sh fetches mnist10k and fashion-mnist)",
                          name, dir);
    if (rc == 0) rc = find_paths(dir, name, paths, err);
    if (rc == 0) rc = load_parts(ds, paths, err);
    if (rc == 0) rc = check_labels(ds, paths, err);
    if (rc == 0) rc = finish_training_part(ds, paths, seed, err);
    if (rc == 0) snprintf(ds->name, sizeof ds->name, "%s", name);

    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++) free(paths[s][k]);
    free(dir);
    if (rc) im_dataset_release(ds);
    return rc;
}

void im_dataset_release(im_dataset *ds)
{
    if (!ds) return;
    for (int s = 0; s < 3; s++) {
        free(ds->part[s].images);
        free(ds->part[s].labels);
    }
    memset(ds, 0, sizeof *ds);
}

/* One image: xj[q] = lut[px[q]] for q < dim. Most pixels of digit images
 * are 0 (about four in five on MNIST), in runs: eight pixels at a time, a run
 * of zeros is one broadcast store of lut[0] (one vector store in the AVX
 * clones) instead of eight table loads and eight scalar stores. The same
 * values as the plain loop, bit for bit. One body for both element types:
 * standardise_row (double) and standardise_row_float (float). */
#define STANDARDISE_ROW(NAME, T)                                                                   \
    IM_VECTOR_FN static void NAME(const uint8_t *restrict px, size_t dim, const T *restrict lut,   \
                                  T *restrict xj)                                                  \
    {                                                                                              \
        const T z = lut[0];                                                                        \
        size_t q = 0;                                                                              \
        for (; q + 8 <= dim; q += 8) {                                                             \
            uint64_t w8;                                                                           \
            memcpy(&w8, px + q, sizeof w8);                                                        \
            if (w8 == 0)                                                                           \
                for (int i = 0; i < 8; i++) xj[q + i] = z;                                         \
            else                                                                                   \
                for (int i = 0; i < 8; i++) xj[q + i] = lut[px[q + i]];                            \
        }                                                                                          \
        for (; q < dim; q++) xj[q] = lut[px[q]];                                                   \
    }
STANDARDISE_ROW(standardise_row, double)
STANDARDISE_ROW(standardise_row_float, float)
#undef STANDARDISE_ROW

void im_dataset_batch_float(const im_dataset *ds, im_split split, const uint32_t *idx, uint32_t n,
                            float *x, uint8_t *y)
{
    const im_dataset_part *p = &ds->part[split];
    size_t dim = ds->dim;
    float lut[256]; /* im_dataset_batch's values, rounded */
    for (int v = 0; v < 256; v++) lut[v] = (float)(((double)v - ds->mean) / ds->std);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t s = idx ? idx[j] : j;
        standardise_row_float(p->images + (size_t)s * dim, dim, lut, x + (size_t)j * dim);
        if (y) y[j] = p->labels[s];
    }
}

void im_dataset_batch(const im_dataset *ds, im_split split, const uint32_t *idx, uint32_t n,
                      double *x, uint8_t *y)
{
    const im_dataset_part *p = &ds->part[split];
    size_t dim = ds->dim;
    /* one division per byte value instead of one per pixel; same arithmetic */
    double lut[256];
    for (int v = 0; v < 256; v++) lut[v] = ((double)v - ds->mean) / ds->std;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t s = idx ? idx[j] : j;
        standardise_row(p->images + (size_t)s * dim, dim, lut, x + (size_t)j * dim);
        if (y) y[j] = p->labels[s];
    }
}
