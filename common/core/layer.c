/*
 * layer.c: one layer of infomorphic neurons (see layer.h).
 *
 * Memory: one parameter block [n_params] = W_0, b_0, W_1, b_1, ... and three
 * blocks of the same shape for the gradient and Adam's two moments; masks per
 * masked source; per-batch buffers sized for n_max. For the current batch of
 * n samples every neuron-major buffer [n_out][n] is dense with row stride n.
 *
 * Forward keeps what the backward pass needs of the activation: the inner
 * sigmoids (sig: s1 = sig(w1 f c) and s2 = sig(w2 f l), or the bivariate s)
 * and d theta / d u at the outer sigmoid (dth, 0 where clamped). The backward
 * pass forms d theta / d x_i from them in the same loop as dLoss / d x_i, then
 * one GEMM per source: the derivatives are computed once per batch, not at
 * every recurrent step nor at evaluation. forward_source recomputes only the
 * inner sigmoids that involve the new source (step 2 of the recurrent setups
 * keeps s1, since only the lateral input changed).
 *
 * Single-precision products (IM_PRODUCTS_SINGLE): a forward rounds source i's
 * input to float once into in_f (kept for the weight gradient, as in[i] is in
 * double) and its weights into w_f, and adds the float product to b_i in
 * double; the backward rounds dx_i into x_f and adds the float dW_i into the
 * double gradient. The weights are rounded at every forward instead of kept
 * as a float copy: 1 value per 1,024 multiply-adds, and no copy to go stale
 * when parameters are edited through the accessors.
 */
#include "layer.h"

#include "gemm.h"
#include "pid.h"
#include "vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Samples per tile of im_layer_sample: theta is read a cache line per neuron
 * (8 doubles) into a [SAMPLE_TILE][n_out] tile that stays in L1. */
#define SAMPLE_TILE 8

struct im_layer {
    im_layer_spec spec;
    int k, n_out, n_max, n_terms;
    int n_in[IM_MAX_SOURCES];
    size_t off_w[IM_MAX_SOURCES], off_b[IM_MAX_SOURCES]; /* offsets into params */
    size_t n_params;
    double *params;               /* [n_params] */
    double *grad;                 /* [n_params] dLoss/dparams */
    double *adam_m;               /* [n_params] */
    double *adam_v;               /* [n_params] */
    long adam_t;                  /* steps done */
    double *mask[IM_MAX_SOURCES]; /* [n_out][n_in[i]] or NULL */

    const double *in[IM_MAX_SOURCES]; /* inputs of the last forward (borrowed or own_in) */
    double *own_in;                   /* [n_max][n_out] copy of this layer's own output */
    double *theta_tile;               /* [SAMPLE_TILE][n_out] im_layer_sample's work */
    double *x;                        /* [k][n_out][n_max], block i dense [n_out][n] */
    double *sig;                      /* [k-1][n_out][n_max] inner sigmoids s1, s2 (or s) */
    double *dth;                      /* [n_out][n_max] d theta / d u, 0 where clamped */
    double *dx;                       /* [k][n_out][n_max] dLoss / d x_i */
    double *theta;                    /* [n_out][n_max] */
    double *dtheta;                   /* [n_out][n_max] work: dLoss / d theta */
    double *y;                        /* [n_max][n_out] */
    uint16_t *bins;                   /* [n_out][k][n_max], dense [n_out][k][n] */
    int n;                            /* batch of the last forward, 0 before */
    int n_binned;                     /* batch size of the last bin, 0 before */
    int fwd_valid; /* x_i match the current parameters (a forward since the last step) */

    /* IM_PRODUCTS_SINGLE only, NULL otherwise: the float operands of the products */
    float *in_f;                        /* [n_max][sum of n_in], source i dense [n][n_in[i]] */
    size_t off_in[IM_MAX_SOURCES];      /* offsets of the sources into in_f */
    const float *in_fp[IM_MAX_SOURCES]; /* source i's float input of the last forward:
                                           in_f's block or the caller's, NULL for zeros */
    float *w_f;                         /* [n_out][max n_in] W_i, or the product dW_i */
    float *x_f;                         /* [n_out][n_max] the product W_i in_i^T, or dx_i */

    im_pid *pid;
    double gemm_s, pid_s;
};

/* ---- activation ---------------------------------------------------------- */

/*
 * One sample's activation in pieces, so that the forward pass computes only
 * theta and what the gradient needs later, and the backward pass the rest.
 * Trivariate: s1 = sig(w1 f c), s2 = sig(w2 f l), g = (1 - c1 - c2) + c1 s1
 * + c2 s2; bivariate: s = sig(k2 f c), g = k1 + (1 - k1) 2 s; theta =
 * sig(f g) clamped. Branch-free and inlined into the row loops below, which
 * the compiler vectorises; im_activation_eval composes the same functions, so
 * both agree bit for bit.
 */
static inline double act_clamp(double u, double *dth)
{
    const double th = im_sigmoid(u);
    double d = th * (1.0 - th), out = th;
    d = th < IM_THETA_MIN ? 0.0 : d;
    d = th > 1.0 - IM_THETA_MIN ? 0.0 : d;
    out = th < IM_THETA_MIN ? IM_THETA_MIN : out;
    out = th > 1.0 - IM_THETA_MIN ? 1.0 - IM_THETA_MIN : out;
    *dth = d;
    return out;
}

static inline double tri_g(const im_activation *a, double s1, double s2)
{
    return (1.0 - a->c1 - a->c2) + a->c1 * s1 + a->c2 * s2;
}

static inline double bi_g(const im_activation *a, double s)
{
    return a->k1 + (1.0 - a->k1) * 2.0 * s;
}

/* d theta / d (f, c, l) from the kept pieces. */
static inline void tri_grad(const im_activation *a, double f, double c, double l, double s1,
                            double s2, double dth, double *df, double *dc, double *dl)
{
    const double e1 = a->c1 * s1 * (1.0 - s1) * a->w1; /* d(c1 s1)/d(f c) */
    const double e2 = a->c2 * s2 * (1.0 - s2) * a->w2;
    const double g = tri_g(a, s1, s2);
    *df = dth * (g + f * (e1 * c + e2 * l));
    *dc = dth * (f * f * e1);
    *dl = dth * (f * f * e2);
}

static inline void bi_grad(const im_activation *a, double f, double c, double s, double dth,
                           double *df, double *dc)
{
    const double e = (1.0 - a->k1) * 2.0 * s * (1.0 - s) * a->k2;
    const double g = bi_g(a, s);
    *df = dth * (g + f * e * c);
    *dc = dth * (f * f * e);
}

/* theta(x) clamped, and d theta / d x_i (zero where clamped). x [k], d [k]. */
static double act_eval(const im_activation *a, int k, const double *x, double *d)
{
    double dth, th, dd[IM_MAX_SOURCES];
    if (a->kind == IM_ACT_TRIVARIATE) {
        const double s1 = im_sigmoid(a->w1 * x[0] * x[1]), s2 = im_sigmoid(a->w2 * x[0] * x[2]);
        th = act_clamp(x[0] * tri_g(a, s1, s2), &dth);
        tri_grad(a, x[0], x[1], x[2], s1, s2, dth, &dd[0], &dd[1], &dd[2]);
    } else {
        const double s = im_sigmoid(a->k2 * x[0] * x[1]);
        th = act_clamp(x[0] * bi_g(a, s), &dth);
        bi_grad(a, x[0], x[1], s, dth, &dd[0], &dd[1]);
    }
    if (d)
        for (int i = 0; i < k; i++) d[i] = dd[i];
    return th;
}

im_activation im_activation_trivariate(void)
{
    im_activation a = {.kind = IM_ACT_TRIVARIATE, .c1 = 0.1, .c2 = 0.1, .w1 = 2.0, .w2 = 2.0};
    return a;
}

im_activation im_activation_bivariate(double k1, double k2)
{
    im_activation a = {.kind = IM_ACT_BIVARIATE, .k1 = k1, .k2 = k2};
    return a;
}

double im_activation_eval(const im_activation *a, int k, const double *x, double *dtheta_dx)
{
    return act_eval(a, k, x, dtheta_dx);
}

/* ---- creation ------------------------------------------------------------ */

static int spec_check(const im_layer_spec *s, im_error *err)
{
    if (s->k != 2 && s->k != 3)
        return im_error_set(err, IM_EINVAL, "layer: k must be 2 or 3, not %d", s->k);
    if (s->n_out < 1) return im_error_set(err, IM_EINVAL, "layer: n_out must be >= 1");
    if (s->n_max < 1) return im_error_set(err, IM_EINVAL, "layer: n_max must be >= 1");
    if (s->act.kind == IM_ACT_TRIVARIATE && s->k != 3)
        return im_error_set(err, IM_EINVAL, "layer: the trivariate activation needs k = 3");
    if (s->act.kind == IM_ACT_BIVARIATE && s->k != 2)
        return im_error_set(err, IM_EINVAL, "layer: the bivariate activation needs k = 2");
    if (s->act.kind != IM_ACT_TRIVARIATE && s->act.kind != IM_ACT_BIVARIATE)
        return im_error_set(err, IM_EINVAL, "layer: unknown activation %d", (int)s->act.kind);
    if (!isfinite(s->lr) || s->lr < 0 || !isfinite(s->wd) || s->wd < 0)
        return im_error_set(err, IM_EINVAL, "layer: lr and wd must be finite and >= 0");
    int n_terms = s->k == 2 ? 5 : 19;
    for (int j = 0; j < n_terms; j++)
        if (!isfinite(s->gamma[j]))
            return im_error_set(err, IM_EINVAL, "layer: gamma[%d] is not finite", j);
    for (int i = 0; i < s->k; i++) {
        const im_source_spec *src = &s->src[i];
        if (src->n_in < 1)
            return im_error_set(err, IM_EINVAL, "layer: source %d: n_in must be >= 1", i);
        int rc = im_binning_check(&src->binning, err);
        if (rc) return rc;
        if (src->mask != IM_MASK_NONE && src->mask != IM_MASK_NO_SELF &&
            src->mask != IM_MASK_SPARSE)
            return im_error_set(err, IM_EINVAL, "layer: source %d: unknown mask %d", i,
                                (int)src->mask);
        if ((src->mask != IM_MASK_NONE || src->fixed_identity) && src->n_in != s->n_out)
            return im_error_set(err, IM_EINVAL,
                                "layer: source %d: a mask or fixed identity needs n_in == n_out",
                                i);
        if (src->mask == IM_MASK_SPARSE && (src->max_lateral < 1 || src->max_lateral >= s->n_out))
            return im_error_set(err, IM_EINVAL,
                                "layer: source %d: max_lateral must be in 1..%d, not %d", i,
                                s->n_out - 1, src->max_lateral);
        if (src->mask != IM_MASK_NONE && src->fixed_identity)
            return im_error_set(err, IM_EINVAL,
                                "layer: source %d: a fixed identity cannot be masked", i);
    }
    if (s->products != IM_PRODUCTS_DOUBLE && s->products != IM_PRODUCTS_SINGLE)
        return im_error_set(err, IM_EINVAL, "layer: unknown products precision %d",
                            (int)s->products);
    return 0;
}

/* The float operands of single-precision products (see the file comment).
 * Returns 0, or -1 when an allocation failed (the caller frees the layer). */
static int single_alloc(im_layer *l)
{
    if (l->spec.products != IM_PRODUCTS_SINGLE) return 0;
    size_t in_sum = 0, in_max = 0;
    for (int i = 0; i < l->k; i++) {
        l->off_in[i] = (size_t)l->n_max * in_sum;
        in_sum += (size_t)l->n_in[i];
        if ((size_t)l->n_in[i] > in_max) in_max = (size_t)l->n_in[i];
    }
    l->in_f = im_try_malloc_array((size_t)l->n_max * in_sum, sizeof(float));
    l->w_f = im_try_malloc_array((size_t)l->n_out * in_max, sizeof(float));
    l->x_f = im_try_malloc_array((size_t)l->n_out * (size_t)l->n_max, sizeof(float));
    return l->in_f && l->w_f && l->x_f ? 0 : -1;
}

static double *layer_w(const im_layer *l, int i)
{
    return l->params + l->off_w[i];
}

static double *layer_b(const im_layer *l, int i)
{
    return l->params + l->off_b[i];
}

/* Neuron j's partners: a uniform random subset of size m of the others,
 * by a partial Fisher-Yates shuffle of idx [n_out]. */
static void sparse_mask(double *mask, int n_out, int m, im_rng *rng, uint32_t *idx)
{
    for (int j = 0; j < n_out; j++) {
        double *row = mask + (size_t)j * (size_t)n_out;
        int n_other = 0;
        for (int q = 0; q < n_out; q++)
            if (q != j) idx[n_other++] = (uint32_t)q;
        for (int r = 0; r < m; r++) {
            int pick = r + (int)im_rng_below(rng, (uint64_t)(n_other - r));
            uint32_t tmp = idx[r];
            idx[r] = idx[pick];
            idx[pick] = tmp;
        }
        for (int q = 0; q < n_out; q++) row[q] = 0.0;
        for (int r = 0; r < m; r++) row[idx[r]] = 1.0;
    }
}

im_layer *im_layer_new(const im_layer_spec *spec, im_rng *rng, im_error *err)
{
    if (spec_check(spec, err)) return NULL;
    im_layer *l = im_try_calloc(1, sizeof *l);
    uint32_t *idx = NULL;
    if (!l) goto oom;
    l->spec = *spec;
    l->k = spec->k;
    l->n_out = spec->n_out;
    l->n_max = spec->n_max;
    l->n_terms = spec->k == 2 ? 5 : 19;

    int bins[IM_MAX_SOURCES];
    size_t off = 0;
    for (int i = 0; i < l->k; i++) {
        l->n_in[i] = spec->src[i].n_in;
        bins[i] = spec->src[i].binning.bins;
        l->off_w[i] = off;
        off += (size_t)l->n_out * (size_t)l->n_in[i];
        l->off_b[i] = off;
        off += (size_t)l->n_out;
    }
    l->n_params = off;
    l->params = im_try_calloc(off, sizeof(double));
    l->grad = im_try_calloc(off, sizeof(double));
    l->adam_m = im_try_calloc(off, sizeof(double));
    l->adam_v = im_try_calloc(off, sizeof(double));
    if (!l->params || !l->grad || !l->adam_m || !l->adam_v) goto oom;

    size_t nb = (size_t)l->n_out * (size_t)l->n_max; /* one neuron-major buffer */
    l->own_in = im_try_malloc_array(nb, sizeof(double));
    l->theta_tile = im_try_malloc_array((size_t)SAMPLE_TILE * (size_t)l->n_out, sizeof(double));
    l->x = im_try_calloc(nb * (size_t)l->k, sizeof(double));
    l->sig = im_try_calloc(nb * (size_t)(l->k - 1), sizeof(double));
    l->dth = im_try_calloc(nb, sizeof(double));
    l->dx = im_try_calloc(nb * (size_t)l->k, sizeof(double));
    l->theta = im_try_calloc(nb, sizeof(double));
    l->dtheta = im_try_calloc(nb, sizeof(double));
    l->y = im_try_calloc(nb, sizeof(double));
    l->bins = im_try_calloc(nb * (size_t)l->k, sizeof(uint16_t));
    if (!l->own_in || !l->theta_tile || !l->x || !l->sig || !l->dth || !l->dx || !l->theta ||
        !l->dtheta || !l->y || !l->bins || single_alloc(l) != 0)
        goto oom;

    l->pid = im_pid_new(l->k, bins, l->n_max, err);
    if (!l->pid) {
        im_layer_free(&l);
        return NULL;
    }

    /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)) per source: W_i, then b_i */
    for (int i = 0; i < l->k; i++) {
        double a = 1.0 / sqrt((double)l->n_in[i]);
        double *w = layer_w(l, i), *b = layer_b(l, i);
        for (size_t q = 0; q < (size_t)l->n_out * (size_t)l->n_in[i]; q++)
            w[q] = im_rng_range(rng, -a, a);
        for (int j = 0; j < l->n_out; j++) b[j] = im_rng_range(rng, -a, a);
    }
    idx = im_try_malloc_array((size_t)l->n_out, sizeof(uint32_t));
    if (!idx) goto oom;
    for (int i = 0; i < l->k; i++) {
        const im_source_spec *src = &spec->src[i];
        if (src->mask == IM_MASK_NONE) continue;
        size_t nm = (size_t)l->n_out * (size_t)l->n_out;
        l->mask[i] = im_try_malloc_array(nm, sizeof(double));
        if (!l->mask[i]) goto oom;
        if (src->mask == IM_MASK_NO_SELF) {
            for (size_t q = 0; q < nm; q++) l->mask[i][q] = 1.0;
            for (int j = 0; j < l->n_out; j++) l->mask[i][(size_t)j * (size_t)l->n_out + j] = 0.0;
        } else {
            sparse_mask(l->mask[i], l->n_out, src->max_lateral, rng, idx);
        }
    }
    free(idx);
    im_layer_constrain(l);
    return l;

oom:
    free(idx);
    im_layer_free(&l);
    im_error_set(err, IM_ENOMEM, "layer: out of memory for %d neurons with %d inputs, batch %d",
                 spec->n_out, spec->src[0].n_in, spec->n_max);
    return NULL;
}

void im_layer_free(im_layer **lp)
{
    if (!lp || !*lp) return;
    im_layer *l = *lp;
    im_pid_free(&l->pid);
    for (int i = 0; i < IM_MAX_SOURCES; i++) free(l->mask[i]);
    free(l->params);
    free(l->grad);
    free(l->adam_m);
    free(l->adam_v);
    free(l->own_in);
    free(l->theta_tile);
    free(l->x);
    free(l->sig);
    free(l->dth);
    free(l->dx);
    free(l->theta);
    free(l->dtheta);
    free(l->y);
    free(l->bins);
    free(l->in_f);
    free(l->w_f);
    free(l->x_f);
    free(l);
    *lp = NULL;
}

void im_layer_constrain(im_layer *l)
{
    l->fwd_valid = 0;
    for (int i = 0; i < l->k; i++) {
        double *w = layer_w(l, i);
        size_t nw = (size_t)l->n_out * (size_t)l->n_in[i];
        if (l->mask[i])
            for (size_t q = 0; q < nw; q++) w[q] *= l->mask[i][q];
        if (l->spec.src[i].fixed_identity) {
            memset(w, 0, nw * sizeof(double));
            for (int j = 0; j < l->n_out; j++) w[(size_t)j * (size_t)l->n_out + j] = 1.0;
        }
    }
}

/* ---- batch path: no allocation below this line ---------------------------- */

/* y [m] = x rounded to float. */
IM_VECTOR_FN static void to_float(size_t m, const double *restrict x, float *restrict y)
{
    for (size_t q = 0; q < m; q++) y[q] = (float)x[q];
}

/* x [n] = b + p, a float product added to the bias in double. */
IM_VECTOR_FN static void bias_plus(int n, double b, const float *restrict p, double *restrict x)
{
    for (int t = 0; t < n; t++) x[t] = b + (double)p[t];
}

/* g [m] = p, or g += p with accumulate: a float gradient into the double one. */
IM_VECTOR_FN static void grad_from_float(size_t m, int accumulate, const float *restrict p,
                                         double *restrict g)
{
    if (accumulate)
        for (size_t q = 0; q < m; q++) g[q] += (double)p[q];
    else
        for (size_t q = 0; q < m; q++) g[q] = (double)p[q];
}

/* x_i [n_out][n] = b_i + W_i in_i^T with float products: the input is the
 * caller's float src_f, else src rounded into in_f (one of them non-NULL). */
static void source_preact_single(im_layer *l, int i, const double *src, const float *src_f,
                                 double *xi)
{
    const int n = l->n, n_out = l->n_out, n_in = l->n_in[i];
    const float *in_f = src_f; /* [n][n_in] */
    if (!in_f) {
        to_float((size_t)n * (size_t)n_in, src, l->in_f + l->off_in[i]);
        in_f = l->in_f + l->off_in[i];
    }
    l->in_fp[i] = in_f;
    to_float((size_t)n_out * (size_t)n_in, layer_w(l, i), l->w_f);
    /* x_f [n_out][n] = W_i [n_out][n_in] . in_i^T */
    im_sgemm(IM_NO_TRANS, IM_TRANS, n_out, n, n_in, 1.0f, l->w_f, in_f, 0.0f, l->x_f, &l->gemm_s);
    const double *b = layer_b(l, i);
    for (int j = 0; j < n_out; j++)
        bias_plus(n, b[j], l->x_f + (size_t)j * (size_t)n, xi + (size_t)j * (size_t)n);
}

/* x_i [n_out][n] of the current batch size from in_i, or from its float form
 * src_f (single products only; NULL, NULL: all zeros). */
static void source_preact(im_layer *l, int i, const double *src, const float *src_f)
{
    const int n = l->n, n_out = l->n_out;
    if (src && src == l->y) {
        /* sample() would overwrite it before the backward pass needs it */
        memcpy(l->own_in, l->y, (size_t)n * (size_t)n_out * sizeof(double));
        src = l->own_in;
    }
    l->in[i] = src;
    l->in_fp[i] = NULL;
    double *xi = l->x + (size_t)i * (size_t)n_out * (size_t)l->n_max;
    if ((src || src_f) && l->spec.products == IM_PRODUCTS_SINGLE) {
        source_preact_single(l, i, src, src_f, xi);
        return;
    }
    const double *b = layer_b(l, i);
    for (int j = 0; j < n_out; j++) {
        double *row = xi + (size_t)j * (size_t)n;
        for (int t = 0; t < n; t++) row[t] = b[j];
    }
    /* x_i^T [n_out][n] = W_i [n_out][n_in] . in_i^T (in_i stored [n][n_in]) + b_i */
    if (src)
        im_gemm(IM_NO_TRANS, IM_TRANS, n_out, n, l->n_in[i], 1.0, layer_w(l, i), src, 1.0, xi,
                &l->gemm_s);
}

/* The row loops stay functions of their own (IM_VECTOR_FN, vmath.h): inlined
 * into activate(), their restrict qualifiers would be lost and the vectoriser
 * would give up on the run-time alias checks of seven arrays. */

/* s [n] = sig(w f c), one inner sigmoid of a neuron's batch. */
IM_VECTOR_FN static void sig_row(int n, double w, const double *restrict f,
                                 const double *restrict c, double *restrict s)
{
    for (int t = 0; t < n; t++) s[t] = im_sigmoid(w * f[t] * c[t]);
}

/* theta and dth [n] of a neuron's batch from f and the inner sigmoids
 * (s2 unused by the bivariate activation). */
IM_VECTOR_FN static void theta_row(const im_activation *a, int n, const double *restrict f,
                                   const double *restrict s1, const double *restrict s2,
                                   double *restrict th, double *restrict dth)
{
    const im_activation act = *a;
    if (act.kind == IM_ACT_TRIVARIATE)
        for (int t = 0; t < n; t++) th[t] = act_clamp(f[t] * tri_g(&act, s1[t], s2[t]), &dth[t]);
    else
        for (int t = 0; t < n; t++) th[t] = act_clamp(f[t] * bi_g(&act, s1[t]), &dth[t]);
}

/* dx_i [n] = dtheta * d theta / d x_i of a neuron's batch, trivariate. */
IM_VECTOR_FN static void grad_row_trivariate(const im_activation *a, int n,
                                             const double *restrict f, const double *restrict c,
                                             const double *restrict lat, const double *restrict s1,
                                             const double *restrict s2, const double *restrict dth,
                                             const double *restrict dtheta, double *restrict dx0,
                                             double *restrict dx1, double *restrict dx2)
{
    const im_activation act = *a;
    for (int t = 0; t < n; t++) {
        double df, dc, dl;
        tri_grad(&act, f[t], c[t], lat[t], s1[t], s2[t], dth[t], &df, &dc, &dl);
        dx0[t] = dtheta[t] * df;
        dx1[t] = dtheta[t] * dc;
        dx2[t] = dtheta[t] * dl;
    }
}

IM_VECTOR_FN static void grad_row_bivariate(const im_activation *a, int n, const double *restrict f,
                                            const double *restrict c, const double *restrict s,
                                            const double *restrict dth,
                                            const double *restrict dtheta, double *restrict dx0,
                                            double *restrict dx1)
{
    const im_activation act = *a;
    for (int t = 0; t < n; t++) {
        double df, dc;
        bi_grad(&act, f[t], c[t], s[t], dth[t], &df, &dc);
        dx0[t] = dtheta[t] * df;
        dx1[t] = dtheta[t] * dc;
    }
}

/*
 * theta and dth from the x_i of the current batch. changed: the source whose
 * x_i is new (forward_source), or -1 after a full forward: only the inner
 * sigmoids that involve it are recomputed (trivariate: s1 needs f and c, s2
 * needs f and l; bivariate: s needs f and c).
 */
static int activate(im_layer *l, int changed, im_error *err)
{
    const int n_out = l->n_out, n = l->n, k = l->k;
    const size_t nb = (size_t)n_out * (size_t)l->n_max;
    const im_activation *a = &l->spec.act;
    const int tri = a->kind == IM_ACT_TRIVARIATE;
    const int new_s1 = changed != 2, new_s2 = tri && changed != 1;
    const double w1 = tri ? a->w1 : a->k2, w2 = a->w2;
    for (int j = 0; j < n_out; j++) {
        const size_t r = (size_t)j * (size_t)n;
        const double *x = l->x + r;
        int bad = 0; /* the other sources' rows were checked when they were set */
        for (int i = 0; i < k; i++)
            if (changed < 0 || changed == i) bad |= im_any_not_finite(x + (size_t)i * nb, n);
        if (bad) {
            l->n = 0;
            l->fwd_valid = 0;
            return im_error_set(err, IM_ENUMERIC, "layer: non-finite pre-activation (neuron %d)",
                                j);
        }
        double *s1 = l->sig + r, *s2 = tri ? s1 + nb : NULL;
        if (new_s1) sig_row(n, w1, x, x + nb, s1);
        if (new_s2) sig_row(n, w2, x, x + 2 * nb, s2);
        theta_row(a, n, x, s1, s2, l->theta + r, l->dth + r);
    }
    l->fwd_valid = 1;
    return 0;
}

/* Both forwards: source 0 from in0_f when non-NULL, else from in[0]. */
static int forward_all(im_layer *l, int n, const float *in0_f, const double *const *in,
                       im_error *err)
{
    if (n < 1 || n > l->n_max)
        return im_error_set(err, IM_EINVAL, "layer: batch of %d samples, allowed 1..%d", n,
                            l->n_max);
    l->n = n; /* the bins stay: goal at frozen bins after a new forward */
    for (int i = 0; i < l->k; i++)
        source_preact(l, i, in && !(i == 0 && in0_f) ? in[i] : NULL, i == 0 ? in0_f : NULL);
    return activate(l, -1, err);
}

int im_layer_forward(im_layer *l, int n, const double *const *in, im_error *err)
{
    return forward_all(l, n, NULL, in, err);
}

int im_layer_forward_float(im_layer *l, int n, const float *in0, const double *const *in,
                           im_error *err)
{
    if (l->spec.products != IM_PRODUCTS_SINGLE)
        return im_error_set(err, IM_EINVAL, "layer: a float input needs single products");
    return forward_all(l, n, in0, in, err);
}

int im_layer_forward_source(im_layer *l, int i, const double *in_i, im_error *err)
{
    if (i < 0 || i >= l->k)
        return im_error_set(err, IM_EINVAL, "layer: no source %d (k = %d)", i, l->k);
    if (!l->fwd_valid || l->n < 1)
        return im_error_set(err, IM_EINVAL,
                            "layer: forward_source needs a full forward since the last step");
    source_preact(l, i, in_i, NULL);
    return activate(l, i, err);
}

/* y [m] = +1 where u < th, else -1, in place over u = y: a select the
 * compiler vectorises. */
IM_VECTOR_FN static void sample_rows(int m, double *restrict y, const double *restrict th)
{
    for (int q = 0; q < m; q++) y[q] = y[q] < th[q] ? 1.0 : -1.0;
}

void im_layer_sample(im_layer *l, im_rng *rng)
{
    const int n = l->n, n_out = l->n_out;
    /* the uniforms in the documented order (sample-major, as y); theta is
     * neuron-major, so a tile of samples of it is transposed into theta_tile
     * (a cache line per neuron, instead of one per value), then compared */
    im_rng_uniform_fill(rng, l->y, (size_t)n * (size_t)n_out);
    for (int t0 = 0; t0 < n; t0 += SAMPLE_TILE) {
        const int m = t0 + SAMPLE_TILE < n ? SAMPLE_TILE : n - t0;
        for (int j = 0; j < n_out; j++) {
            const double *th = l->theta + (size_t)j * (size_t)n + t0;
            for (int t = 0; t < m; t++) l->theta_tile[(size_t)t * (size_t)n_out + j] = th[t];
        }
        sample_rows(m * n_out, l->y + (size_t)t0 * (size_t)n_out, l->theta_tile);
    }
}

int im_layer_bin(im_layer *l, im_error *err)
{
    const int n = l->n, k = l->k;
    if (n < 1) return im_error_set(err, IM_EINVAL, "layer: bin before forward");
    const size_t nb = (size_t)l->n_out * (size_t)l->n_max;
    for (int i = 0; i < k; i++) {
        /* source i of neuron j goes to bins[(j*k + i)*n .. +n) */
        int rc = im_bin_neuron_major(&l->spec.src[i].binning, l->bins + (size_t)i * (size_t)n,
                                     k * n, l->x + (size_t)i * nb, n, l->n_out, n);
        if (rc) return im_error_set(err, rc, "layer: non-finite value binning source %d", i);
    }
    l->n_binned = n;
    return 0;
}

int im_layer_goal(im_layer *l, double *terms, double *goal, im_error *err)
{
    int rc = im_layer_goal_terms(l, terms, goal, err);
    if (rc) return rc;
    im_layer_backward(l, l->dtheta, 0);
    return 0;
}

int im_layer_goal_terms(im_layer *l, double *terms, double *goal, im_error *err)
{
    const int n = l->n, k = l->k, n_out = l->n_out, nt = l->n_terms;
    if (n < 1 || l->n_binned != n)
        return im_error_set(err, IM_EINVAL, "layer: goal needs a forward and a bin of the batch");
    double acc[IM_MAX_TERMS] = {0}, t_j[IM_MAX_TERMS], g_sum = 0.0;
    double t0 = im_clock();
    for (int j = 0; j < n_out; j++) {
        double g;
        size_t r = (size_t)j * (size_t)n;
        int rc = im_pid_neuron(l->pid, n, l->bins + r * (size_t)k, l->theta + r, l->spec.gamma, t_j,
                               &g, l->dtheta + r, err);
        if (rc) {
            l->pid_s += im_clock() - t0;
            return rc;
        }
        for (int q = 0; q < nt; q++) acc[q] += t_j[q];
        g_sum += g;
    }
    l->pid_s += im_clock() - t0;
    if (!isfinite(g_sum)) return im_error_set(err, IM_ENUMERIC, "layer: the goal is not finite");
    /* loss = -sum_j G_j */
    for (size_t q = 0; q < (size_t)n_out * (size_t)n; q++) l->dtheta[q] = -l->dtheta[q];
    if (terms)
        for (int q = 0; q < nt; q++) terms[q] = acc[q] / n_out;
    if (goal) *goal = g_sum / n_out;
    return 0;
}

/* sum of x [n] in 8 interleaved partial sums added in a fixed order: the
 * same bits at every vector width, and no chain of n dependent additions. */
static double row_sum(const double *x, int n)
{
    enum { LANES = 8 };
    double acc[LANES] = {0};
    int t = 0;
    for (; t + LANES <= n; t += LANES)
        for (int q = 0; q < LANES; q++) acc[q] += x[t + q];
    for (int q = 0; t < n; t++, q++) acc[q] += x[t];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void im_layer_backward(im_layer *l, const double *dtheta, int accumulate)
{
    const int n = l->n, n_out = l->n_out;
    const size_t nb = (size_t)n_out * (size_t)l->n_max;
    const im_activation *a = &l->spec.act;
    for (int j = 0; j < n_out; j++) {
        const size_t r = (size_t)j * (size_t)n;
        const double *x = l->x + r, *s = l->sig + r;
        double *dx = l->dx + r;
        if (a->kind == IM_ACT_TRIVARIATE)
            grad_row_trivariate(a, n, x, x + nb, x + 2 * nb, s, s + nb, l->dth + r, dtheta + r, dx,
                                dx + nb, dx + 2 * nb);
        else
            grad_row_bivariate(a, n, x, x + nb, s, l->dth + r, dtheta + r, dx, dx + nb);
    }
    for (int i = 0; i < l->k; i++) {
        double *dxi = l->dx + (size_t)i * nb;

        double *gb = l->grad + l->off_b[i];
        for (int j = 0; j < n_out; j++) {
            double s = row_sum(dxi + (size_t)j * (size_t)n, n);
            gb[j] = accumulate ? gb[j] + s : s;
        }

        double *gw = l->grad + l->off_w[i];
        size_t nw = (size_t)n_out * (size_t)l->n_in[i];
        const int single = l->spec.products == IM_PRODUCTS_SINGLE;
        if (l->spec.src[i].fixed_identity || (single ? !l->in_fp[i] : !l->in[i])) {
            /* not trained, or an all-zero input: no weight gradient */
            if (!accumulate) memset(gw, 0, nw * sizeof(double));
            continue;
        }
        /* dW_i [n_out][n_in] = dx_i [n_out][n] . in_i [n][n_in] */
        if (single) {
            to_float((size_t)n_out * (size_t)n, dxi, l->x_f);
            im_sgemm(IM_NO_TRANS, IM_NO_TRANS, n_out, l->n_in[i], n, 1.0f, l->x_f, l->in_fp[i],
                     0.0f, l->w_f, &l->gemm_s);
            grad_from_float(nw, accumulate, l->w_f, gw);
        } else {
            im_gemm(IM_NO_TRANS, IM_NO_TRANS, n_out, l->n_in[i], n, 1.0, dxi, l->in[i],
                    accumulate ? 1.0 : 0.0, gw, &l->gemm_s);
        }
        if (l->mask[i])
            for (size_t q = 0; q < nw; q++) gw[q] *= l->mask[i][q];
    }
}

void im_layer_input_grad(im_layer *l, int i, double *din)
{
    const size_t nb = (size_t)l->n_out * (size_t)l->n_max;
    /* din [n][n_in] = dx_i^T (dx_i stored [n_out][n]) . W_i [n_out][n_in] */
    im_gemm(IM_TRANS, IM_NO_TRANS, l->n, l->n_in[i], l->n_out, 1.0, l->dx + (size_t)i * nb,
            layer_w(l, i), 0.0, din, &l->gemm_s);
}

/* PyTorch's single-tensor Adam with L2 weight decay, on params [lo, hi). */
IM_VECTOR_FN static void adam_range(im_layer *l, size_t lo, size_t hi, double step_size,
                                    double bc2_sqrt)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = l->spec.wd;
    double *p = l->params, *g = l->grad, *m = l->adam_m, *v = l->adam_v;
    for (size_t q = lo; q < hi; q++) {
        double gq = g[q] + wd * p[q];
        m[q] += (1.0 - b1) * (gq - m[q]); /* torch.lerp_(grad, 1 - beta1) */
        v[q] = v[q] * b2 + (1.0 - b2) * gq * gq;
        double denom = sqrt(v[q]) / bc2_sqrt + eps;
        p[q] += -step_size * (m[q] / denom);
    }
}

void im_layer_step(im_layer *l)
{
    l->adam_t++;
    const double bc1 = 1.0 - pow(0.9, (double)l->adam_t);
    const double bc2 = 1.0 - pow(0.999, (double)l->adam_t);
    const double step_size = l->spec.lr / bc1, bc2_sqrt = sqrt(bc2);
    for (int i = 0; i < l->k; i++) {
        size_t lo = l->spec.src[i].fixed_identity ? l->off_b[i] : l->off_w[i];
        adam_range(l, lo, l->off_b[i] + (size_t)l->n_out, step_size, bc2_sqrt);
    }
    im_layer_constrain(l);
}

/* ---- accessors ------------------------------------------------------------ */

const im_layer_spec *im_layer_get_spec(const im_layer *l)
{
    return &l->spec;
}

int im_layer_k(const im_layer *l)
{
    return l->k;
}

int im_layer_n_out(const im_layer *l)
{
    return l->n_out;
}

int im_layer_n_in(const im_layer *l, int i)
{
    return l->n_in[i];
}

int im_layer_batch(const im_layer *l)
{
    return l->n;
}

double *im_layer_weights(im_layer *l, int i)
{
    return layer_w(l, i);
}

double *im_layer_bias(im_layer *l, int i)
{
    return layer_b(l, i);
}

double *im_layer_grad_weights(im_layer *l, int i)
{
    return l->grad + l->off_w[i];
}

double *im_layer_grad_bias(im_layer *l, int i)
{
    return l->grad + l->off_b[i];
}

const double *im_layer_mask(const im_layer *l, int i)
{
    return l->mask[i];
}

const double *im_layer_x(const im_layer *l, int i)
{
    return l->x + (size_t)i * (size_t)l->n_out * (size_t)l->n_max;
}

const double *im_layer_theta(const im_layer *l)
{
    return l->theta;
}

const double *im_layer_output(const im_layer *l)
{
    return l->y;
}

const uint16_t *im_layer_bins(const im_layer *l)
{
    return l->bins;
}

void im_layer_theta_sample_major(const im_layer *l, double *out)
{
    for (int t = 0; t < l->n; t++)
        for (int j = 0; j < l->n_out; j++)
            out[(size_t)t * (size_t)l->n_out + j] = l->theta[(size_t)j * (size_t)l->n + t];
}

double *im_layer_params(im_layer *l, size_t *count)
{
    if (count) *count = l->n_params;
    return l->params;
}

void im_layer_timing(const im_layer *l, double *gemm_s, double *pid_s)
{
    if (gemm_s) *gemm_s = l->gemm_s;
    if (pid_s) *pid_s = l->pid_s;
}
