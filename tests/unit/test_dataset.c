/*
 * test_dataset: IDX reading (plain and gzip), the dataset folder layout, the
 * seeded validation split, standardisation, and the refusal of every kind of
 * bad file with its own message. Small IDX files are written into a fresh
 * temporary directory, removed at the end. When the real mnist10k is in
 * $IM_DATA_DIR (tests/run.sh fetches it), its counts and pixel statistics
 * are checked too.
 */
#include "dataset.h"
#include "test.h"
#include "test_util.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmp_root[4096];

/* ---- writing IDX files ---- */

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* dir/file with a header (magic, ndim dims), len bytes of data and `extra`
 * bytes of trailing garbage; gzip-compressed if gz. */
static void write_idx(const char *dir, const char *file, int gz, uint32_t magic,
                      const uint32_t *dims, int ndim, const uint8_t *data, size_t len, size_t extra)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t head_len = 4 + 4 * (size_t)ndim, total = head_len + len + extra;
    uint8_t *buf = calloc(total ? total : 1, 1);
    put_be32(buf, magic);
    for (int i = 0; i < ndim; i++) put_be32(buf + 4 + 4 * i, dims[i]);
    if (len) memcpy(buf + head_len, data, len);
    for (size_t i = 0; i < extra; i++) buf[head_len + len + i] = 0x5a;
    int ok;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ok = f && gzwrite(f, buf, (unsigned)total) == (int)total;
        if (f) ok = gzclose(f) == Z_OK && ok;
    } else {
        FILE *f = fopen(path, "wb");
        ok = f && fwrite(buf, 1, total, f) == total;
        if (f) ok = fclose(f) == 0 && ok;
    }
    CHECK_MSG(ok, "could not write '%s'", path);
    free(buf);
}

/* The pixels of image i of a generated set: byte 0 is i % 256 and byte 1 is
 * i / 256 (an id to follow images through the split), the rest a pattern. */
static uint8_t pixel(uint32_t i, uint32_t p)
{
    if (p == 0) return (uint8_t)(i & 0xff);
    if (p == 1) return (uint8_t)(i >> 8);
    return (uint8_t)((i * 7 + p * 13) % 256);
}

static uint8_t label_of(uint32_t i, uint32_t n_classes)
{
    return (uint8_t)(i % n_classes);
}

/* A well-formed pair prefix-{images,labels} of n images rows x cols with
 * labels i % n_classes. */
static void write_pair(const char *dir, const char *prefix, int gz, uint32_t n, uint32_t rows,
                       uint32_t cols, uint32_t n_classes)
{
    size_t dim = (size_t)rows * cols;
    uint8_t *img = malloc(n * dim + 1), *lab = malloc(n + 1);
    for (uint32_t i = 0; i < n; i++) {
        for (size_t p = 0; p < dim; p++) img[i * dim + p] = pixel(i, (uint32_t)p);
        lab[i] = label_of(i, n_classes);
    }
    char name[256];
    uint32_t idims[3] = {n, rows, cols};
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx(dir, name, gz, 0x803, idims, 3, img, n * dim, 0);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    write_idx(dir, name, gz, 0x801, &n, 1, lab, n, 0);
    free(img);
    free(lab);
}

/* tmp_root/name, created; returns a static buffer. */
static const char *make_dir(const char *name)
{
    static char path[8192];
    snprintf(path, sizeof path, "%s/%s", tmp_root, name);
    CHECK_MSG(mkdir(path, 0700) == 0, "mkdir '%s' failed", path);
    return path;
}

/* A complete plain set in tmp_root/name: train (n x 3 x 2), t10k (10). */
static const char *make_good(const char *name, uint32_t n)
{
    const char *dir = make_dir(name);
    write_pair(dir, "train", 0, n, 3, 2, 4);
    write_pair(dir, "t10k", 0, 10, 3, 2, 4);
    return dir;
}

/* ---- checks ---- */

static uint32_t image_id(const im_dataset *ds, im_split s, uint32_t k)
{
    const uint8_t *px = ds->part[s].images + (size_t)k * ds->dim;
    return (uint32_t)px[0] | (uint32_t)px[1] << 8;
}

/* The naive mean and standard deviation (n - 1) of a part's pixels. */
static void naive_stats(const im_dataset_part *p, uint32_t dim, double *mean, double *std)
{
    size_t n = (size_t)p->n * dim;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += p->images[i];
    double m = s / (double)n;
    for (size_t i = 0; i < n; i++) ss += (p->images[i] - m) * (p->images[i] - m);
    *mean = m;
    *std = sqrt(ss / (double)(n - 1));
}

/* Every generated image 0..n-1 is in train or val exactly once, with its own
 * pixels and label, and each part is in file order. */
static void check_split_covers(const im_dataset *ds, uint32_t n)
{
    uint8_t *seen = calloc(n, 1);
    int ok_pixels = 1, ok_order = 1, ok_ids = 1;
    for (int s = IM_SPLIT_TRAIN; s <= IM_SPLIT_VAL; s++) {
        const im_dataset_part *p = &ds->part[s];
        for (uint32_t k = 0; k < p->n; k++) {
            uint32_t id = image_id(ds, (im_split)s, k);
            if (id >= n || seen[id]) {
                ok_ids = 0;
                continue;
            }
            seen[id] = 1;
            if (k > 0 && image_id(ds, (im_split)s, k - 1) >= id) ok_order = 0;
            for (uint32_t q = 0; q < ds->dim; q++)
                if (p->images[(size_t)k * ds->dim + q] != pixel(id, q)) ok_pixels = 0;
            if (p->labels[k] != label_of(id, 4)) ok_pixels = 0;
        }
    }
    uint32_t covered = 0;
    for (uint32_t i = 0; i < n; i++) covered += seen[i];
    CHECK(ok_ids);
    CHECK(ok_order);
    CHECK(ok_pixels);
    CHECK_INT(covered, n);
    free(seen);
}

static void test_plain_and_split(void)
{
    const uint32_t n = 100;
    make_good("plain", n);
    im_dataset a, b, c;
    im_error err = {0};
    CHECK_INT(im_dataset_load(&a, tmp_root, "plain", 1, &err), 0);
    CHECK_STR(a.name, "plain");
    CHECK_INT(a.rows, 3);
    CHECK_INT(a.cols, 2);
    CHECK_INT(a.dim, 6);
    CHECK_INT(a.n_classes, 4);
    CHECK_INT(a.part[IM_SPLIT_TRAIN].n, 80);
    CHECK_INT(a.part[IM_SPLIT_VAL].n, 20);
    CHECK_INT(a.part[IM_SPLIT_TEST].n, 10);
    check_split_covers(&a, n);
    /* the test part is the t10k file as written */
    int test_ok = 1;
    for (uint32_t k = 0; k < 10; k++) {
        if (image_id(&a, IM_SPLIT_TEST, k) != k) test_ok = 0;
        if (a.part[IM_SPLIT_TEST].labels[k] != label_of(k, 4)) test_ok = 0;
    }
    CHECK(test_ok);

    /* statistics over the training part only (after the split) */
    double m, s;
    naive_stats(&a.part[IM_SPLIT_TRAIN], a.dim, &m, &s);
    CHECK_NEAR(a.mean, m, 1e-12 * fabs(m));
    CHECK_NEAR(a.std, s, 1e-12 * s);

    /* same seed, same split; another seed, another split */
    CHECK_INT(im_dataset_load(&b, tmp_root, "plain", 1, &err), 0);
    CHECK_INT(im_dataset_load(&c, tmp_root, "plain", 2, &err), 0);
    int same_b = b.part[IM_SPLIT_VAL].n == a.part[IM_SPLIT_VAL].n, same_c = same_b;
    for (uint32_t k = 0; same_b && k < a.part[IM_SPLIT_VAL].n; k++)
        if (image_id(&a, IM_SPLIT_VAL, k) != image_id(&b, IM_SPLIT_VAL, k)) same_b = 0;
    for (uint32_t k = 0; same_c && k < a.part[IM_SPLIT_VAL].n; k++)
        if (image_id(&a, IM_SPLIT_VAL, k) != image_id(&c, IM_SPLIT_VAL, k)) same_c = 0;
    CHECK(same_b);
    CHECK(!same_c);
    CHECK_INT(c.part[IM_SPLIT_VAL].n, 20);
    check_split_covers(&c, n);
    CHECK(a.mean == b.mean && a.std == b.std);

    /* standardisation: all of the training part, then chosen samples */
    uint32_t nt = a.part[IM_SPLIT_TRAIN].n, dim = a.dim;
    double *x = malloc(sizeof *x * nt * dim);
    uint8_t *y = malloc(nt);
    im_dataset_batch(&a, IM_SPLIT_TRAIN, NULL, nt, x, y);
    int x_ok = 1, y_ok = 1;
    double sx = 0, sxx = 0;
    for (uint32_t j = 0; j < nt; j++) {
        for (uint32_t q = 0; q < dim; q++) {
            double want = (a.part[IM_SPLIT_TRAIN].images[j * dim + q] - a.mean) / a.std;
            double got = x[j * dim + q];
            if (fabs(got - want) > 1e-12) x_ok = 0;
            sx += got;
        }
        if (y[j] != a.part[IM_SPLIT_TRAIN].labels[j]) y_ok = 0;
    }
    double mx = sx / (nt * dim);
    for (uint32_t i = 0; i < nt * dim; i++) sxx += (x[i] - mx) * (x[i] - mx);
    CHECK(x_ok);
    CHECK(y_ok);
    CHECK_NEAR(mx, 0.0, 1e-12);
    CHECK_NEAR(sqrt(sxx / (nt * dim - 1)), 1.0, 1e-12);

    const uint32_t idx[3] = {5, 0, 3};
    double xb[3 * 6];
    uint8_t yb[3];
    im_dataset_batch(&a, IM_SPLIT_TEST, idx, 3, xb, yb);
    int idx_ok = 1;
    for (int j = 0; j < 3; j++) {
        if (yb[j] != label_of(idx[j], 4)) idx_ok = 0;
        for (uint32_t q = 0; q < dim; q++)
            if (fabs(xb[j * dim + q] - (pixel(idx[j], q) - a.mean) / a.std) > 1e-12) idx_ok = 0;
    }
    CHECK(idx_ok);
    im_dataset_batch(&a, IM_SPLIT_VAL, idx, 1, xb, NULL); /* y may be NULL */
    CHECK_NEAR(xb[0], (image_id(&a, IM_SPLIT_VAL, 5) % 256 - a.mean) / a.std, 1e-12);

    free(x);
    free(y);
    im_dataset_release(&a);
    im_dataset_release(&b);
    im_dataset_release(&c);
    CHECK(a.part[IM_SPLIT_TRAIN].images == NULL && a.part[IM_SPLIT_TRAIN].n == 0);
    im_dataset_release(&a); /* releasing a zeroed dataset is fine */
}

static void test_gzip_with_val(void)
{
    const char *dir = make_dir("gz");
    write_pair(dir, "train", 1, 30, 4, 5, 3);
    write_pair(dir, "val", 1, 7, 4, 5, 3);
    write_pair(dir, "test", 1, 5, 4, 5, 3);
    im_dataset d;
    im_error err = {0};
    int rc = im_dataset_load(&d, tmp_root, "gz", 99, &err);
    CHECK_MSG(rc == 0, "load gz: %d %s", rc, err.msg);
    if (rc) return;
    CHECK_INT(d.rows, 4);
    CHECK_INT(d.cols, 5);
    CHECK_INT(d.n_classes, 3);
    const uint32_t want_n[3] = {30, 7, 5};
    for (int s = 0; s < 3; s++) {
        CHECK_INT(d.part[s].n, want_n[s]);
        int ok = 1;
        for (uint32_t i = 0; i < d.part[s].n; i++) {
            for (uint32_t q = 0; q < 20; q++)
                if (d.part[s].images[i * 20 + q] != pixel(i, q)) ok = 0;
            if (d.part[s].labels[i] != label_of(i, 3)) ok = 0;
        }
        CHECK_MSG(ok, "part %d differs from what was written", s);
    }
    double m, s;
    naive_stats(&d.part[IM_SPLIT_TRAIN], d.dim, &m, &s);
    CHECK_NEAR(d.mean, m, 1e-12 * fabs(m));
    CHECK_NEAR(d.std, s, 1e-12 * s);
    im_dataset_release(&d);

    /* a plain file beside its .gz: either way, the same bytes */
    uint32_t dims[3] = {0};
    uint8_t *data = NULL;
    char path[8192];
    snprintf(path, sizeof path, "%s/val-images-idx3-ubyte.gz", dir);
    CHECK_INT(im_idx_read(path, 3, dims, &data, &err), 0);
    CHECK_INT(dims[0], 7);
    CHECK_INT(dims[1], 4);
    CHECK_INT(dims[2], 5);
    CHECK(data && data[20] == pixel(1, 0) && data[7 * 20 - 1] == pixel(6, 19));
    free(data);
    CHECK_INT(im_idx_read(path, 4, dims, &data, &err), IM_EINVAL);
    CHECK(data == NULL);
}

/* Load tmp_root/name, expect code and a message with both fragments (frag2
 * may be NULL), and the dataset left empty. */
static void expect_refused(const char *name, int code, const char *frag1, const char *frag2)
{
    im_dataset d;
    im_error err = {0};
    int rc = im_dataset_load(&d, tmp_root, name, 1, &err);
    CHECK_MSG(rc == code, "'%s': expected code %d, got %d (%s)", name, code, rc, err.msg);
    CHECK_INT(err.code, code);
    CHECK_CONTAINS(err.msg, frag1);
    if (frag2) CHECK_CONTAINS(err.msg, frag2);
    CHECK(d.part[IM_SPLIT_TRAIN].images == NULL && d.part[IM_SPLIT_TRAIN].n == 0);
    fprintf(stderr, "refused %-12s %s\n", name, err.msg);
    im_dataset_release(&d);
}

/* A good set (100 training images of 3 x 2) with one file written over: its
 * header (magic, ndim dims), len bytes of data, and the expected message. */
typedef struct bad_file {
    const char *name, *file;
    int gz;
    uint32_t magic, dims[3];
    int ndim;
    size_t len;
    const char *frag1, *frag2; /* frag2 may be NULL */
} bad_file;

/* clang-format off */
static const bad_file bad_files[] = {
    /* truncated: the header promises 100 images of 3 x 2, the file holds 50 */
    {"truncated", "train-images-idx3-ubyte", 0, 0x803, {100, 3, 2}, 3, 300,
     "train-images-idx3-ubyte': truncated: expected 616 bytes, got 316", NULL},
    {"trunc-gz", "train-images-idx3-ubyte", 1, 0x803, {100, 3, 2}, 3, 300,
     "train-images-idx3-ubyte': truncated: expected 616 bytes, got 316", NULL},
    /* a header cut short */
    {"header", "train-images-idx3-ubyte", 0, 0x803, {100}, 1, 0,
     "train-images-idx3-ubyte': truncated", "idx header of 16 bytes, got 8"},
    {"magic", "train-labels-idx1-ubyte", 0, 0x901, {100}, 1, 100,
     "train-labels-idx1-ubyte': bad magic number 0x00000901", "expected 0x00000801"},
    {"ndim", "train-images-idx3-ubyte", 0, 0x802, {100, 6}, 2, 600,
     "train-images-idx3-ubyte': wrong number of dimensions: 2", NULL},
    {"count", "train-labels-idx1-ubyte", 0, 0x801, {99}, 1, 99,
     "train-images-idx3-ubyte' has 100 images but", "train-labels-idx1-ubyte' has 99 labels"},
};
/* clang-format on */

static void test_refusals(void)
{
    const char *dir;
    uint8_t buf[600] = {0};
    uint32_t dims[3];

    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_file *b = &bad_files[i];
        dir = make_good(b->name, 100);
        write_idx(dir, b->file, b->gz, b->magic, b->dims, b->ndim, buf, b->len, 0);
        expect_refused(b->name, IM_EFORMAT, b->frag1, b->frag2);
    }

    dir = make_good("shape", 100);
    write_pair(dir, "t10k", 0, 10, 3, 3, 4);
    expect_refused("shape", IM_EFORMAT, "t10k-images-idx3-ubyte': images are 3 x 3 pixels",
                   "the training images in");

    dir = make_good("trailing", 100);
    write_pair(dir, "val", 0, 10, 3, 2, 4);
    dims[0] = 10;
    write_idx(dir, "val-labels-idx1-ubyte", 0, 0x801, dims, 1, buf, 10, 3);
    expect_refused("trailing", IM_EFORMAT,
                   "val-labels-idx1-ubyte': trailing garbage after the expected 18 bytes", NULL);

    dir = make_good("label", 100);
    for (int i = 0; i < 10; i++) buf[i] = (uint8_t)(i == 6 ? 7 : 1);
    dims[0] = 10;
    write_idx(dir, "t10k-labels-idx1-ubyte", 0, 0x801, dims, 1, buf, 10, 0);
    memset(buf, 0, sizeof buf);
    expect_refused("label", IM_EFORMAT, "t10k-labels-idx1-ubyte': label 7 at index 6",
                   "go up to 3");

    dir = make_good("absurd", 100);
    dims[0] = 0xffffffffu, dims[1] = 0xffffu, dims[2] = 0xffffu;
    write_idx(dir, "t10k-images-idx3-ubyte", 0, 0x803, dims, 3, buf, 600, 0);
    expect_refused("absurd", IM_EFORMAT, "t10k-images-idx3-ubyte': absurd size", NULL);

    dir = make_good("empty", 100);
    dims[0] = 0;
    write_idx(dir, "t10k-images-idx3-ubyte", 0, 0x803, (uint32_t[]){0, 3, 2}, 3, NULL, 0, 0);
    write_idx(dir, "t10k-labels-idx1-ubyte", 0, 0x801, dims, 1, NULL, 0, 0);
    expect_refused("empty", IM_EFORMAT, "t10k-images-idx3-ubyte': no images", NULL);

    dir = make_good("zerodim", 100);
    write_idx(dir, "t10k-images-idx3-ubyte", 0, 0x803, (uint32_t[]){10, 0, 2}, 3, NULL, 0, 0);
    expect_refused("zerodim", IM_EFORMAT, "t10k-images-idx3-ubyte': dimension 2 is 0", NULL);

    dir = make_dir("constant");
    dims[0] = 20, dims[1] = 3, dims[2] = 2;
    write_idx(dir, "train-images-idx3-ubyte", 0, 0x803, dims, 3, buf, 120, 0);
    write_idx(dir, "train-labels-idx1-ubyte", 0, 0x801, dims, 1, buf, 20, 0);
    write_pair(dir, "test", 0, 4, 3, 2, 1);
    expect_refused("constant", IM_EFORMAT, "train-images-idx3-ubyte': the training pixels",
                   "standard deviation 0");

    dir = make_dir("few");
    write_pair(dir, "train", 0, 4, 3, 2, 2);
    write_pair(dir, "t10k", 0, 4, 3, 2, 2);
    expect_refused("few", IM_EFORMAT, "train-images-idx3-ubyte': 4 training images are too few",
                   NULL);

    /* missing files and folders */
    dir = make_dir("missing");
    write_pair(dir, "train", 0, 20, 3, 2, 4);
    write_pair(dir, "t10k", 0, 10, 3, 2, 4);
    char path[8192];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    CHECK(unlink(path) == 0);
    expect_refused("missing", IM_ENOTFOUND, "missing", "t10k-labels-idx1-ubyte[.gz]'");

    dir = make_dir("notest");
    write_pair(dir, "train", 0, 20, 3, 2, 4);
    expect_refused("notest", IM_ENOTFOUND, "missing", "t10k-images-idx3-ubyte[.gz]'");

    dir = make_good("halfval", 20);
    write_pair(dir, "val", 0, 5, 3, 2, 4);
    snprintf(path, sizeof path, "%s/val-labels-idx1-ubyte", dir);
    CHECK(unlink(path) == 0);
    expect_refused("halfval", IM_ENOTFOUND, "missing", "val-labels-idx1-ubyte[.gz]'");

    expect_refused("no-such-set", IM_ENOTFOUND, "dataset 'no-such-set' not found: no folder",
                   "train-images-idx3-ubyte");
    expect_refused("../plain", IM_EINVAL, "invalid dataset name", NULL);

    im_error err = {0};
    uint8_t *data = (uint8_t *)buf;
    snprintf(path, sizeof path, "%s/nothing-here", tmp_root);
    CHECK_INT(im_idx_read(path, 1, dims, &data, &err), IM_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "nothing-here': no such file");
    CHECK(data == NULL);
}

/* The real mnist10k, when fetched (deploy/fetch-datasets.sh). */
static void test_mnist10k(void)
{
    const char *root = getenv("IM_DATA_DIR");
    char path[8192];
    struct stat st;
    snprintf(path, sizeof path, "%s/mnist10k", root ? root : "data");
    if (stat(path, &st) != 0) {
        fprintf(stderr,
                "NOTICE: '%s' is absent, skipping the mnist10k checks "
                "(deploy/fetch-datasets.sh fetches it; tests/run.sh does so)\n",
                path);
        return;
    }
    im_dataset d;
    im_error err = {0};
    int rc = im_dataset_load(&d, root ? root : "data", "mnist10k", 1, &err);
    CHECK_MSG(rc == 0, "load mnist10k: %d %s", rc, err.msg);
    if (rc) return;
    CHECK_INT(d.part[IM_SPLIT_TRAIN].n, 7000);
    CHECK_INT(d.part[IM_SPLIT_VAL].n, 1500);
    CHECK_INT(d.part[IM_SPLIT_TEST].n, 1500);
    CHECK_INT(d.rows, 28);
    CHECK_INT(d.cols, 28);
    CHECK_INT(d.dim, 784);
    CHECK_INT(d.n_classes, 10);
    CHECK_NEAR(d.mean, 33.34549726676385, 1e-9);
    CHECK_NEAR(d.std, 78.61463725377055, 1e-9);
    fprintf(stderr, "mnist10k: mean %.17g, std %.17g\n", d.mean, d.std);
    im_dataset_release(&d);
}

/* The batch against the formula, bit for bit: images of 5 x 7 pixels (35,
 * not a multiple of the 8 pixels the fast path takes at a time) with runs of
 * zeros of every length at every offset, and non-zero pixels among them. */
static void test_standardise_exact(void)
{
    enum { N = 64, ROWS = 5, COLS = 7, DIM = ROWS * COLS };
    uint8_t img[N * DIM], lab[N];
    for (int i = 0; i < N; i++) {
        for (int p = 0; p < DIM; p++) {
            /* image i: zeros except where (p + i) % (i % 11 + 2) == 0 */
            int on = (p + i) % (i % 11 + 2) == 0;
            img[i * DIM + p] = on ? (uint8_t)(1 + (i * 31 + p * 17) % 255) : 0;
        }
        lab[i] = (uint8_t)(i % 10);
    }
    for (int p = 0; p < DIM; p++) img[3 * DIM + p] = 0;   /* one blank image */
    for (int p = 0; p < DIM; p++) img[4 * DIM + p] = 255; /* one full image */
    im_dataset d;
    memset(&d, 0, sizeof d);
    d.rows = ROWS;
    d.cols = COLS;
    d.dim = DIM;
    d.n_classes = 10;
    d.part[IM_SPLIT_TRAIN].n = N;
    d.part[IM_SPLIT_TRAIN].images = img;
    d.part[IM_SPLIT_TRAIN].labels = lab;
    d.mean = 37.123456789;
    d.std = 71.987654321;
    uint32_t idx[N];
    for (int j = 0; j < N; j++) idx[j] = (uint32_t)((j * 37 + 5) % N);
    double *x = malloc(sizeof *x * N * DIM);
    uint8_t y[N];
    im_dataset_batch(&d, IM_SPLIT_TRAIN, idx, N, x, y);
    int exact = 1, labels = 1;
    for (int j = 0; j < N; j++) {
        for (int p = 0; p < DIM; p++) {
            double want = ((double)img[idx[j] * DIM + p] - d.mean) / d.std;
            if (memcmp(&x[j * DIM + p], &want, sizeof want) != 0) exact = 0;
        }
        if (y[j] != lab[idx[j]]) labels = 0;
    }
    CHECK(exact);
    CHECK(labels);

    /* in float: the double values rounded, bit for bit */
    float *xf = malloc(sizeof *xf * N * DIM);
    uint8_t yf[N];
    im_dataset_batch_float(&d, IM_SPLIT_TRAIN, idx, N, xf, yf);
    exact = 1;
    for (int q = 0; q < N * DIM; q++) {
        float want = (float)x[q];
        if (memcmp(&xf[q], &want, sizeof want) != 0) exact = 0;
    }
    CHECK(exact);
    CHECK(!memcmp(y, yf, sizeof y));
    free(xf);
    free(x);
}

int main(void)
{
    if (test_mkdtemp(tmp_root, sizeof tmp_root, NULL, "im-dataset") != 0) return 1;
    test_plain_and_split();
    test_gzip_with_val();
    test_refusals();
    test_mnist10k();
    test_standardise_exact();
    test_rm_tree(tmp_root);
    struct stat st;
    CHECK(stat(tmp_root, &st) != 0);
    return TEST_END();
}
