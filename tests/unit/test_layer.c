/*
 * test_layer.c: one infomorphic layer. The forward pass against a naive
 * loop, the activation's derivatives and the whole layer's gradient (of a
 * linear functional of theta, and of the real PID goal at frozen bins)
 * against central finite differences, masks and fixed identities through
 * Adam steps, Adam against a hand computation, the sampling frequency, and
 * argument errors. All of it with double products (IM_PRODUCTS_DOUBLE, the
 * spec's default); single-precision products against the naive loop within
 * the error bound of a float dot product, and against the double layer.
 */
#include "layer.h"
#include "pid.h"
#include "rng.h"
#include "test.h"

#include <stdint.h>

static double *random_matrix(im_rng *r, int rows, int cols, double lo, double hi)
{
    double *m = im_xmalloc_array((size_t)rows * (size_t)cols, sizeof(double));
    for (int q = 0; q < rows * cols; q++) m[q] = im_rng_range(r, lo, hi);
    return m;
}

static double *random_spins(im_rng *r, int rows, int cols)
{
    double *m = im_xmalloc_array((size_t)rows * (size_t)cols, sizeof(double));
    for (int q = 0; q < rows * cols; q++) m[q] = im_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
    return m;
}

/* A small layer spec: trivariate (k = 3) or bivariate (k = 2); the last source
 * is lateral (n_in = n_out) with the given mask. */
static im_layer_spec small_spec(int k, int n_out, int n_f, int n_c, int n_max,
                                im_mask_kind lat_mask, int max_lateral, im_rng *r)
{
    im_layer_spec s;
    memset(&s, 0, sizeof s);
    s.k = k;
    s.n_out = n_out;
    s.n_max = n_max;
    s.act = k == 3 ? im_activation_trivariate() : im_activation_bivariate(0.5, 2.0);
    s.lr = 0.002;
    s.wd = 0.00035;
    int nt = k == 3 ? 19 : 5;
    for (int q = 0; q < nt; q++) s.gamma[q] = im_rng_range(r, -1.0, 1.0);
    im_binning fixed = {IM_BIN_FIXED, 5, -2.0, 2.0};
    s.src[0] = (im_source_spec){.n_in = n_f, .binning = fixed};
    s.src[1] = (im_source_spec){.n_in = n_c, .binning = {IM_BIN_FIXED, 4, -1.5, 1.5}};
    if (k == 3)
        s.src[2] = (im_source_spec){.n_in = n_out,
                                    .binning = {IM_BIN_ADAPTIVE, 3, 0, 0},
                                    .mask = lat_mask,
                                    .max_lateral = max_lateral};
    return s;
}

/* ---- the activation ------------------------------------------------------ */

static void test_activation(void)
{
    im_activation acts[3] = {im_activation_trivariate(), im_activation_bivariate(0.5, 2.0),
                             im_activation_bivariate(1.0, 2.0)};
    int ks[3] = {3, 2, 2};
    im_rng r;
    im_rng_seed(&r, 3, 0);
    for (int a = 0; a < 3; a++) {
        for (int trial = 0; trial < 50; trial++) {
            double x[3], d[3];
            for (int i = 0; i < 3; i++) x[i] = im_rng_range(&r, -3.0, 3.0);
            double th = im_activation_eval(&acts[a], ks[a], x, d);
            CHECK(th > 0.0 && th < 1.0);
            for (int i = 0; i < ks[a]; i++) {
                double h = 1e-6, xp[3], xm[3];
                memcpy(xp, x, sizeof x);
                memcpy(xm, x, sizeof x);
                xp[i] += h;
                xm[i] -= h;
                double fd = (im_activation_eval(&acts[a], ks[a], xp, NULL) -
                             im_activation_eval(&acts[a], ks[a], xm, NULL)) /
                            (2 * h);
                CHECK_NEAR(d[i], fd, 1e-8 + 1e-6 * fabs(fd));
            }
        }
    }
    /* the formulas themselves at one point */
    double x3[3] = {0.7, -1.2, 0.4}, x2[2] = {0.7, -1.2};
    double sg1 = 1 / (1 + exp(-2 * 0.7 * -1.2)), sg2 = 1 / (1 + exp(-2 * 0.7 * 0.4));
    double want3 = 1 / (1 + exp(-0.7 * (0.8 + 0.1 * sg1 + 0.1 * sg2)));
    double want2 = 1 / (1 + exp(-0.7 * (0.5 + 0.5 * 2 * sg1)));
    CHECK_NEAR(im_activation_eval(&acts[0], 3, x3, NULL), want3, 1e-15);
    CHECK_NEAR(im_activation_eval(&acts[1], 2, x2, NULL), want2, 1e-15);
    CHECK_NEAR(im_activation_eval(&acts[2], 2, x2, NULL), 1 / (1 + exp(-0.7)), 1e-15);
    /* the clamp: theta at the bound, gradient zero */
    double big[3] = {40.0, 1.0, 1.0}, small[3] = {-40.0, 1.0, 1.0}, d[3];
    CHECK(im_activation_eval(&acts[0], 3, big, d) == 1.0 - IM_THETA_MIN);
    CHECK(d[0] == 0.0 && d[1] == 0.0 && d[2] == 0.0);
    CHECK(im_activation_eval(&acts[1], 2, small, d) == IM_THETA_MIN);
    CHECK(d[0] == 0.0 && d[1] == 0.0);
}

/* ---- forward against a naive loop ---------------------------------------- */

static void test_forward(void)
{
    im_rng r;
    im_rng_seed(&r, 5, 0);
    enum { NO = 6, NF = 9, NC = 4, N = 13 };
    im_layer_spec s = small_spec(3, NO, NF, NC, 20, IM_MASK_NO_SELF, 0, &r);
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -1, 1), *in1 = random_spins(&r, N, NC);
    const double *in[3] = {in0, in1, NULL}; /* lateral all zeros */
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    CHECK_INT(im_layer_batch(l), N);
    int bad = 0;
    for (int j = 0; j < NO; j++)
        for (int t = 0; t < N; t++) {
            double x[3];
            for (int i = 0; i < 3; i++) {
                int ni = im_layer_n_in(l, i);
                const double *w = im_layer_weights(l, i) + j * ni;
                x[i] = im_layer_bias(l, i)[j];
                if (in[i])
                    for (int c = 0; c < ni; c++) x[i] += w[c] * in[i][t * ni + c];
                bad += fabs(im_layer_x(l, i)[j * N + t] - x[i]) > 1e-13;
            }
            bad +=
                fabs(im_layer_theta(l)[j * N + t] - im_activation_eval(&s.act, 3, x, NULL)) > 1e-14;
        }
    CHECK_INT(bad, 0);
    double th_sm[N * NO];
    im_layer_theta_sample_major(l, th_sm);
    bad = 0;
    for (int j = 0; j < NO; j++)
        for (int t = 0; t < N; t++) bad += th_sm[t * NO + j] != im_layer_theta(l)[j * N + t];
    CHECK_INT(bad, 0);
    /* initialisation: within U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    for (int i = 0; i < 3; i++) {
        int ni = im_layer_n_in(l, i);
        double a = 1 / sqrt((double)ni), mx = 0;
        for (int q = 0; q < NO * ni; q++) mx = fmax(mx, fabs(im_layer_weights(l, i)[q]));
        for (int q = 0; q < NO; q++) mx = fmax(mx, fabs(im_layer_bias(l, i)[q]));
        CHECK(mx <= a && mx > 0.3 * a);
    }
    free(in0);
    free(in1);
    im_layer_free(&l);
    CHECK(l == NULL);
}

/* ---- gradients against finite differences --------------------------------- */

/* Is parameter q (flat index) trained and unmasked? */
static int param_free(im_layer *l, size_t q)
{
    size_t base = 0;
    for (int i = 0; i < im_layer_k(l); i++) {
        size_t nw = (size_t)im_layer_n_out(l) * (size_t)im_layer_n_in(l, i);
        if (q < base + nw) {
            if (im_layer_get_spec(l)->src[i].fixed_identity) return 0;
            const double *m = im_layer_mask(l, i);
            return !m || m[q - base] != 0.0;
        }
        base += nw + (size_t)im_layer_n_out(l);
        if (q < base) return 1;
    }
    return 0;
}

/* Flat gradient vector in the parameters' order. */
static void flat_grad(im_layer *l, double *g)
{
    size_t o = 0;
    for (int i = 0; i < im_layer_k(l); i++) {
        size_t nw = (size_t)im_layer_n_out(l) * (size_t)im_layer_n_in(l, i);
        memcpy(g + o, im_layer_grad_weights(l, i), nw * sizeof(double));
        o += nw;
        memcpy(g + o, im_layer_grad_bias(l, i), (size_t)im_layer_n_out(l) * sizeof(double));
        o += (size_t)im_layer_n_out(l);
    }
}

static double linear_loss(im_layer *l, const double *r, int n)
{
    double s = 0;
    for (int q = 0; q < im_layer_n_out(l) * n; q++) s += r[q] * im_layer_theta(l)[q];
    return s;
}

/* the loss of the goal at the frozen bins: -sum_j G_j */
static double goal_loss(im_layer *l)
{
    double g = NAN;
    int rc = im_layer_goal(l, NULL, &g, NULL);
    CHECK_INT(rc, 0);
    return -g * im_layer_n_out(l);
}

/* Compare the analytic gradient ga [n_params] with central differences of
 * loss(l) over every free parameter; masked / fixed ones must have 0. */
static void check_fd(im_layer *l, const double *const *in, int n, const double *ga,
                     double (*loss)(im_layer *, const double *, int), const double *r,
                     const char *what)
{
    size_t np;
    double *p = im_layer_params(l, &np);
    int bad = 0, checked = 0;
    double worst = 0;
    for (size_t q = 0; q < np; q++) {
        if (!param_free(l, q)) {
            bad += ga[q] != 0.0;
            continue;
        }
        double v = p[q], h = 1e-5;
        p[q] = v + h;
        im_layer_forward(l, n, in, NULL);
        double lp = loss ? loss(l, r, n) : goal_loss(l);
        p[q] = v - h;
        im_layer_forward(l, n, in, NULL);
        double lm = loss ? loss(l, r, n) : goal_loss(l);
        p[q] = v;
        double fd = (lp - lm) / (2 * h);
        double err = fabs(fd - ga[q]) / (fabs(fd) + fabs(ga[q]) + 1e-6);
        if (err > worst) worst = err;
        if (err > 1e-5) {
            bad++;
            fprintf(stderr, "%s: param %zu: analytic %.10g, fd %.10g\n", what, q, ga[q], fd);
        }
        checked++;
    }
    CHECK_MSG(bad == 0, "%s: %d of %d parameters off (worst rel %.3g)", what, bad, checked, worst);
    fprintf(stderr, "%s: %d parameters, worst relative difference %.2g\n", what, checked, worst);
    CHECK(checked > 10);
    im_layer_forward(l, n, in, NULL);
}

static void test_backward_linear(int k)
{
    im_rng r;
    im_rng_seed(&r, 100 + (uint64_t)k, 0);
    enum { NO = 5, NF = 7, NC = 3, N = 11 };
    im_layer_spec s = small_spec(k, NO, NF, NC, N, IM_MASK_NO_SELF, 0, &r);
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -1.5, 1.5), *in1 = random_spins(&r, N, NC);
    double *in2 = random_spins(&r, N, NO);
    const double *in[3] = {in0, in1, in2};
    double *rr = random_matrix(&r, NO, N, -1, 1); /* dL/dtheta */
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    im_layer_backward(l, rr, 0);
    size_t np;
    im_layer_params(l, &np);
    double *ga = im_xmalloc_array(np, sizeof(double)), *gb = im_xmalloc_array(np, sizeof(double));
    flat_grad(l, ga);

    /* the gradient with respect to the inputs of source 0 */
    double din[N * NF];
    im_layer_input_grad(l, 0, din);
    int bad = 0;
    for (int q = 0; q < N * NF; q++) {
        double v = in0[q], h = 1e-6;
        in0[q] = v + h;
        im_layer_forward(l, N, in, NULL);
        double lp = linear_loss(l, rr, N);
        in0[q] = v - h;
        im_layer_forward(l, N, in, NULL);
        double lm = linear_loss(l, rr, N);
        in0[q] = v;
        double fd = (lp - lm) / (2 * h);
        bad += fabs(fd - din[q]) > 1e-7 + 1e-6 * fabs(fd);
    }
    CHECK_MSG(bad == 0, "k=%d: %d input gradients off", k, bad);
    im_layer_forward(l, N, in, NULL);

    check_fd(l, in, N, ga, linear_loss, rr, k == 3 ? "linear k=3" : "linear k=2");

    /* accumulate adds; a NULL input has no weight gradient */
    im_layer_backward(l, rr, 0);
    im_layer_backward(l, rr, 1);
    flat_grad(l, gb);
    bad = 0;
    for (size_t q = 0; q < np; q++) bad += fabs(gb[q] - 2 * ga[q]) > 1e-14 * (1 + fabs(ga[q]));
    CHECK_INT(bad, 0);
    const double *in_null[3] = {in0, NULL, k == 3 ? in2 : NULL};
    CHECK_INT(im_layer_forward(l, N, in_null, NULL), 0);
    im_layer_backward(l, rr, 0);
    double gw_max = 0, gb_abs = 0;
    for (int q = 0; q < NO * NC; q++) gw_max = fmax(gw_max, fabs(im_layer_grad_weights(l, 1)[q]));
    for (int q = 0; q < NO; q++) gb_abs += fabs(im_layer_grad_bias(l, 1)[q]);
    CHECK(gw_max == 0.0);
    CHECK(gb_abs > 0.0);
    free(ga);
    free(gb);
    free(rr);
    free(in0);
    free(in1);
    free(in2);
    im_layer_free(&l);
}

/* The layer's goal (real PID) at frozen bins against central differences. */
static void test_goal_gradient(int k, im_mask_kind mask, int adaptive_f)
{
    im_rng r;
    im_rng_seed(&r, 200 + (uint64_t)k, 0);
    enum { NO = 4, NF = 6, NC = 3, N = 40 };
    im_layer_spec s = small_spec(k, NO, NF, NC, 64, mask, 2, &r);
    if (adaptive_f) s.src[0].binning = (im_binning){IM_BIN_ADAPTIVE, 6, 0, 0};
    im_error err = {0};
    im_layer *l = im_layer_new(&s, &r, &err);
    CHECK_MSG(l != NULL, "layer: %s", err.msg);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    double *in2 = random_spins(&r, N, NO);
    const double *in[3] = {in0, in1, in2};
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    CHECK_INT(im_layer_bin(l, NULL), 0);
    double terms[IM_MAX_TERMS], goal = NAN;
    CHECK_INT(im_layer_goal(l, terms, &goal, &err), 0);
    int nt = k == 3 ? 19 : 5;
    double dot = 0;
    for (int q = 0; q < nt; q++) dot += s.gamma[q] * terms[q];
    CHECK_NEAR(goal, dot, 1e-12); /* the mean of G is gamma . mean of the atoms */
    double hsum = 0;              /* atoms + H_res = H(T) <= 1 bit */
    for (int q = 0; q < nt; q++) hsum += terms[q];
    CHECK(hsum > 0.0 && hsum <= 1.0 + 1e-12);

    /* the bins are the per-source binning of x, in the [n_out][k][n] layout, and
     * terms / goal are the means of im_pid_neuron over the neurons */
    int bins_k[3] = {s.src[0].binning.bins, s.src[1].binning.bins,
                     k == 3 ? s.src[2].binning.bins : 0};
    im_pid *pid = im_pid_new(k, bins_k, N, NULL);
    CHECK(pid != NULL);
    double mean[IM_MAX_TERMS] = {0}, gmean = 0;
    int bad = 0;
    for (int j = 0; j < NO; j++) {
        uint16_t own[3 * N];
        for (int i = 0; i < k; i++) {
            CHECK_INT(im_bin_vector(&s.src[i].binning, own + i * N, im_layer_x(l, i) + j * N, N),
                      0);
        }
        bad += memcmp(own, im_layer_bins(l) + j * k * N, (size_t)(k * N) * sizeof(uint16_t)) != 0;
        double tj[IM_MAX_TERMS], gj;
        CHECK_INT(
            im_pid_neuron(pid, N, own, im_layer_theta(l) + j * N, s.gamma, tj, &gj, NULL, NULL), 0);
        for (int q = 0; q < nt; q++) mean[q] += tj[q] / NO;
        gmean += gj / NO;
    }
    CHECK_INT(bad, 0);
    for (int q = 0; q < nt; q++) CHECK_NEAR(terms[q], mean[q], 1e-13);
    CHECK_NEAR(goal, gmean, 1e-13);
    im_pid_free(&pid);

    size_t np;
    im_layer_params(l, &np);
    double *ga = im_xmalloc_array(np, sizeof(double));
    flat_grad(l, ga);
    double gnorm = 0;
    for (size_t q = 0; q < np; q++) gnorm += fabs(ga[q]);
    CHECK(gnorm > 1e-6);
    char what[64];
    snprintf(what, sizeof what, "goal k=%d mask=%d adaptive=%d", k, (int)mask, adaptive_f);
    check_fd(l, in, N, ga, NULL, NULL, what);
    free(ga);
    free(in0);
    free(in1);
    free(in2);
    im_layer_free(&l);
}

/* ---- single-precision products ------------------------------------------- */

/*
 * A layer with IM_PRODUCTS_SINGLE against the naive double loop and against
 * the same layer with double products. A float dot product of m terms, its
 * factors rounded to float first, is within (m + 2) u sum |a_q b_q| of the
 * exact one (u = 2^-24, the unit roundoff of float; Higham, Accuracy and
 * Stability, 3.1): x_i is checked against that bound, and must differ from
 * the double result somewhere (the float path ran). The weight gradients,
 * whose dx_i carry the activation's response to those errors as well, agree
 * with the double layer's within 1e-5 of the largest.
 */
static void test_single_products(void)
{
    enum { NO = 8, NF = 200, NC = 10, N = 300 };
    im_rng r, r2;
    im_rng_seed(&r, 900, 0);
    im_layer_spec s = small_spec(3, NO, NF, NC, N, IM_MASK_NO_SELF, 0, &r);
    im_layer_spec sd = s;
    s.products = IM_PRODUCTS_SINGLE;
    r2 = r; /* the same weights in both layers */
    im_layer *l = im_layer_new(&s, &r, NULL), *ld = im_layer_new(&sd, &r2, NULL);
    CHECK(l != NULL && ld != NULL);
    if (!l || !ld) goto done;
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    double *in2 = random_spins(&r, N, NO), *dtheta = random_matrix(&r, NO, N, -1, 1);
    const double *in[3] = {in0, in1, in2};
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    CHECK_INT(im_layer_forward(ld, N, in, NULL), 0);
    int bad = 0, differ = 0;
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        int ni = im_layer_n_in(l, i);
        for (int j = 0; j < NO; j++)
            for (int t = 0; t < N; t++) {
                const double *w = im_layer_weights(l, i) + j * ni;
                double x = im_layer_bias(l, i)[j], sum_abs = 0;
                for (int c = 0; c < ni; c++) {
                    x += w[c] * in[i][t * ni + c];
                    sum_abs += fabs(w[c] * in[i][t * ni + c]);
                }
                double e = fabs(im_layer_x(l, i)[j * N + t] - x);
                double bound = (ni + 2) * 0x1p-24 * sum_abs + 1e-15 * fabs(x);
                bad += e > bound;
                worst = e / bound > worst ? e / bound : worst;
                differ += im_layer_x(l, i)[j * N + t] != im_layer_x(ld, i)[j * N + t];
            }
    }
    CHECK_MSG(bad == 0, "%d pre-activations beyond the float bound (worst %.2f of it)", bad, worst);
    CHECK(differ > 0);

    /* the input given in float: the same pre-activations and weight gradients,
     * bit for bit; refused by a layer with double products */
    im_layer *lf = im_layer_new(&s, &r2, NULL), *lr = im_layer_new(&s, &r2, NULL);
    CHECK(lf != NULL && lr != NULL);
    float *in0f = im_xmalloc_array((size_t)N * NF, sizeof(float));
    for (int q = 0; q < N * NF; q++) in0f[q] = (float)in0[q];
    if (lf && lr) {
        size_t np;
        const double *pl = im_layer_params(l, &np);
        memcpy(im_layer_params(lf, NULL), pl, np * sizeof(double));
        memcpy(im_layer_params(lr, NULL), pl, np * sizeof(double));
        const double *in_no0[3] = {NULL, in1, in2};
        CHECK_INT(im_layer_forward_float(lf, N, in0f, in_no0, NULL), 0);
        CHECK_INT(im_layer_forward(lr, N, in, NULL), 0);
        for (int i = 0; i < 3; i++)
            CHECK(!memcmp(im_layer_x(lf, i), im_layer_x(lr, i), sizeof(double) * NO * N));
        im_layer_backward(lf, dtheta, 0);
        im_layer_backward(lr, dtheta, 0);
        for (int i = 0; i < 3; i++)
            CHECK(!memcmp(im_layer_grad_weights(lf, i), im_layer_grad_weights(lr, i),
                          sizeof(double) * NO * (size_t)im_layer_n_in(lf, i)));
        im_error e2 = {0};
        CHECK_INT(im_layer_forward_float(ld, N, in0f, in_no0, &e2), IM_EINVAL);
    }
    free(in0f);
    im_layer_free(&lf);
    im_layer_free(&lr);

    /* weight gradients, then accumulated once more: twice as much */
    for (int pass = 0; pass < 2; pass++) {
        im_layer_backward(l, dtheta, pass);
        im_layer_backward(ld, dtheta, pass);
        double gmax = 0, emax = 0;
        for (int i = 0; i < 3; i++) {
            size_t nw = (size_t)NO * (size_t)im_layer_n_in(l, i);
            const double *gs = im_layer_grad_weights(l, i), *gd = im_layer_grad_weights(ld, i);
            for (size_t q = 0; q < nw; q++) {
                gmax = fabs(gd[q]) > gmax ? fabs(gd[q]) : gmax;
                emax = fabs(gs[q] - gd[q]) > emax ? fabs(gs[q] - gd[q]) : emax;
            }
            bad = 0;
            for (int j = 0; j < NO; j++) bad += im_layer_grad_weights(l, 2)[j * NO + j] != 0.0;
            CHECK_INT(bad, 0); /* the mask holds */
        }
        CHECK(gmax > 0);
        CHECK_MSG(emax <= 1e-5 * gmax, "pass %d: weight gradients differ by %g (largest %g)", pass,
                  emax, gmax);
    }
    free(in0);
    free(in1);
    free(in2);
    free(dtheta);

    /* an unknown precision is refused */
    s.products = (im_products)2;
    im_error err = {0};
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_INT(err.code, IM_EINVAL);
done:
    im_layer_free(&l);
    im_layer_free(&ld);
}

/* ---- masks, fixed identity and Adam ---------------------------------------- */

/* A few recurrent training steps: lateral 0, then the layer's own output. */
static void train_steps(im_layer *l, int steps, int n, const double *in0, const double *in1,
                        im_rng *r)
{
    for (int step = 0; step < steps; step++) {
        const double *a[3] = {in0, in1, NULL};
        CHECK_INT(im_layer_forward(l, n, a, NULL), 0);
        im_layer_sample(l, r);
        if (im_layer_k(l) == 3) {
            const double *b[3] = {in0, in1, im_layer_output(l)};
            CHECK_INT(im_layer_forward(l, n, b, NULL), 0);
            im_layer_sample(l, r);
        }
        CHECK_INT(im_layer_bin(l, NULL), 0);
        CHECK_INT(im_layer_goal(l, NULL, NULL, NULL), 0);
        im_layer_step(l);
    }
}

static void test_masks(void)
{
    im_rng r;
    im_rng_seed(&r, 300, 0);
    enum { NO = 9, NF = 8, NC = 3, N = 50, ML = 3 };
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    for (int sparse = 0; sparse < 2; sparse++) {
        im_layer_spec s =
            small_spec(3, NO, NF, NC, N, sparse ? IM_MASK_SPARSE : IM_MASK_NO_SELF, ML, &r);
        s.lr = 0.05; /* large steps: masked entries would show */
        im_layer *l = im_layer_new(&s, &r, NULL);
        CHECK(l != NULL);
        if (!l) continue;
        const double *m = im_layer_mask(l, 2);
        CHECK(m != NULL && im_layer_mask(l, 0) == NULL && im_layer_mask(l, 1) == NULL);
        int bad = 0;
        for (int j = 0; j < NO; j++) {
            int partners = 0;
            for (int q = 0; q < NO; q++) {
                bad += m[j * NO + q] != 0.0 && m[j * NO + q] != 1.0;
                partners += m[j * NO + q] == 1.0;
            }
            bad += m[j * NO + j] != 0.0;
            bad += partners != (sparse ? ML : NO - 1);
        }
        CHECK_INT(bad, 0);
        double w0[NO * NO];
        memcpy(w0, im_layer_weights(l, 2), sizeof w0);
        train_steps(l, 6, N, in0, in1, &r);
        const double *w = im_layer_weights(l, 2);
        int nonzero_masked = 0, moved = 0;
        for (int q = 0; q < NO * NO; q++) {
            if (m[q] == 0.0)
                nonzero_masked += w[q] != 0.0 || w0[q] != 0.0;
            else
                moved += w[q] != w0[q];
        }
        CHECK_INT(nonzero_masked, 0);
        CHECK_INT(moved, sparse ? NO * ML : NO * (NO - 1));
        im_layer_free(&l);
    }
    /* different neurons get different partners (seeded, so this is deterministic) */
    im_layer_spec s = small_spec(3, 30, NF, NC, N, IM_MASK_SPARSE, 4, &r);
    im_layer *l = im_layer_new(&s, &r, NULL);
    const double *m = im_layer_mask(l, 2);
    int used[30] = {0}, n_used = 0;
    for (int j = 0; j < 30; j++)
        for (int q = 0; q < 30; q++) used[q] |= m[j * 30 + q] == 1.0;
    for (int q = 0; q < 30; q++) n_used += used[q];
    CHECK(n_used > 20);
    im_layer_free(&l);
    free(in0);
    free(in1);
}

static void test_fixed_identity(void)
{
    im_rng r;
    im_rng_seed(&r, 400, 0);
    enum { NO = 10, NF = 12, N = 60 };
    im_layer_spec s;
    memset(&s, 0, sizeof s);
    s.k = 2;
    s.n_out = NO;
    s.n_max = N;
    s.act = im_activation_bivariate(1.0, 2.0);
    s.lr = 0.05;
    s.wd = 0.00015;
    double g[5] = {-0.2, 0.1, 1.0, 0.1, 0.0};
    memcpy(s.gamma, g, sizeof g);
    s.src[0] = (im_source_spec){.n_in = NF, .binning = {IM_BIN_ADAPTIVE, 20, 0, 0}};
    s.src[1] =
        (im_source_spec){.n_in = NO, .binning = {IM_BIN_ADAPTIVE, 20, 0, 0}, .fixed_identity = 1};
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_spins(&r, N, NF);
    double *lab = im_xcalloc((size_t)N * NO, sizeof(double));
    for (int t = 0; t < N; t++) lab[t * NO + (int)im_rng_below(&r, NO)] = 1.0;
    double b0[NO];
    memcpy(b0, im_layer_bias(l, 1), sizeof b0);
    train_steps(l, 5, N, in0, lab, &r);
    const double *w = im_layer_weights(l, 1);
    int bad = 0, moved = 0;
    for (int j = 0; j < NO; j++)
        for (int q = 0; q < NO; q++) bad += w[j * NO + q] != (j == q ? 1.0 : 0.0);
    for (int j = 0; j < NO; j++) moved += im_layer_bias(l, 1)[j] != b0[j];
    CHECK_INT(bad, 0);
    CHECK_INT(moved, NO);
    /* no weight gradient for a fixed source */
    double gmax = 0;
    for (int q = 0; q < NO * NO; q++) gmax = fmax(gmax, fabs(im_layer_grad_weights(l, 1)[q]));
    CHECK(gmax == 0.0);
    /* with a fixed identity the context pre-activation is label + bias */
    const double *a[2] = {in0, lab};
    CHECK_INT(im_layer_forward(l, N, a, NULL), 0);
    bad = 0;
    for (int j = 0; j < NO; j++)
        for (int t = 0; t < N; t++)
            bad += fabs(im_layer_x(l, 1)[j * N + t] - (lab[t * NO + j] + im_layer_bias(l, 1)[j])) >
                   1e-15;
    CHECK_INT(bad, 0);
    free(in0);
    free(lab);
    im_layer_free(&l);
}

static void test_adam(void)
{
    im_rng r;
    im_rng_seed(&r, 500, 0);
    im_layer_spec s = small_spec(2, 2, 3, 2, 4, IM_MASK_NONE, 0, &r);
    s.lr = 0.01;
    s.wd = 0.1;
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    size_t np;
    double *p = im_layer_params(l, &np);
    CHECK_INT(np, 2 * 3 + 2 + 2 * 2 + 2);
    double p0[16], m[16] = {0}, v[16] = {0}, want[16];
    memcpy(p0, p, np * sizeof(double));
    memcpy(want, p, np * sizeof(double));
    double grads[2][16];
    for (int step = 0; step < 2; step++)
        for (size_t q = 0; q < np; q++) grads[step][q] = im_rng_range(&r, -1, 1);
    for (int step = 1; step <= 2; step++) {
        /* gradient in, as a goal would leave it */
        size_t o = 0;
        for (int i = 0; i < 2; i++) {
            int nw = 2 * im_layer_n_in(l, i);
            memcpy(im_layer_grad_weights(l, i), grads[step - 1] + o, (size_t)nw * sizeof(double));
            o += (size_t)nw;
            memcpy(im_layer_grad_bias(l, i), grads[step - 1] + o, 2 * sizeof(double));
            o += 2;
        }
        im_layer_step(l);
        /* textbook Adam with L2 decay in the gradient */
        for (size_t q = 0; q < np; q++) {
            double g = grads[step - 1][q] + s.wd * want[q];
            m[q] = 0.9 * m[q] + 0.1 * g;
            v[q] = 0.999 * v[q] + 0.001 * g * g;
            double mh = m[q] / (1 - pow(0.9, step)), vh = v[q] / (1 - pow(0.999, step));
            want[q] -= s.lr * mh / (sqrt(vh) + 1e-8);
        }
        int bad = 0;
        for (size_t q = 0; q < np; q++) bad += fabs(p[q] - want[q]) > 1e-15 * (1 + fabs(want[q]));
        CHECK_MSG(bad == 0, "adam step %d: %d parameters off", step, bad);
        if (step == 1) /* the first step moves every parameter by lr in the gradient's sign */
            for (size_t q = 0; q < np; q++) {
                double g = grads[0][q] + s.wd * p0[q];
                CHECK_NEAR(p[q], p0[q] - s.lr * (g > 0 ? 1 : -1), 1e-12 + 1.01e-8 * s.lr / fabs(g));
            }
    }
    im_layer_free(&l);
}

/* ---- sampling ------------------------------------------------------------- */

static void test_sampling(void)
{
    im_rng r;
    im_rng_seed(&r, 600, 0);
    enum { NO = 4, N = 20000 };
    im_layer_spec s = small_spec(2, NO, 3, 2, N, IM_MASK_NONE, 0, &r);
    s.act = im_activation_bivariate(1.0, 2.0); /* theta = sigmoid(f) */
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double want[NO] = {0.1, 0.5, 0.8, 1.0 - IM_THETA_MIN};
    double *b = im_layer_bias(l, 0);
    for (int j = 0; j < NO - 1; j++) b[j] = log(want[j] / (1 - want[j]));
    b[NO - 1] = 50.0; /* clamped */
    const double *in[2] = {NULL, NULL};
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    for (int j = 0; j < NO; j++) CHECK_NEAR(im_layer_theta(l)[j * N + 7], want[j], 1e-12);
    im_rng rs, rs2;
    im_rng_seed(&rs, 42, 1);
    im_layer_sample(l, &rs);
    const double *y = im_layer_output(l);
    int odd = 0;
    double count[NO] = {0};
    for (int t = 0; t < N; t++)
        for (int j = 0; j < NO; j++) {
            odd += y[t * NO + j] != 1.0 && y[t * NO + j] != -1.0;
            count[j] += y[t * NO + j] == 1.0;
        }
    CHECK_INT(odd, 0);
    for (int j = 0; j < NO; j++) {
        double sd = sqrt(want[j] * (1 - want[j]) / N);
        CHECK_NEAR(count[j] / N, want[j], 4.5 * sd + 1.0 / N);
    }
    /* the documented order: one uniform per value, sample-major, +1 iff u < theta */
    im_rng_seed(&rs2, 42, 1);
    int bad = 0;
    for (int t = 0; t < 100; t++)
        for (int j = 0; j < NO; j++)
            bad += y[t * NO + j] != (im_rng_uniform(&rs2) < want[j] ? 1.0 : -1.0);
    CHECK_INT(bad, 0);
    im_layer_free(&l);
}

/* The layer's own output as lateral input is copied at forward: the gradient
 * after resampling is that of the input actually used. */
static void test_own_output(void)
{
    im_rng r;
    im_rng_seed(&r, 700, 0);
    enum { NO = 5, NF = 4, NC = 2, N = 30 };
    im_layer_spec s = small_spec(3, NO, NF, NC, N, IM_MASK_NO_SELF, 0, &r);
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    double *rr = random_matrix(&r, NO, N, -1, 1), y1[N * NO];
    const double *a[3] = {in0, in1, NULL};
    CHECK_INT(im_layer_forward(l, N, a, NULL), 0);
    im_layer_sample(l, &r);
    memcpy(y1, im_layer_output(l), sizeof y1);
    const double *b[3] = {in0, in1, im_layer_output(l)};
    CHECK_INT(im_layer_forward(l, N, b, NULL), 0);
    im_layer_sample(l, &r);
    CHECK(memcmp(y1, im_layer_output(l), sizeof y1) != 0);
    im_layer_backward(l, rr, 0);
    double g1[NO * NO];
    memcpy(g1, im_layer_grad_weights(l, 2), sizeof g1);
    const double *c[3] = {in0, in1, y1};
    CHECK_INT(im_layer_forward(l, N, c, NULL), 0);
    im_layer_backward(l, rr, 0);
    CHECK(memcmp(g1, im_layer_grad_weights(l, 2), sizeof g1) == 0);
    free(in0);
    free(in1);
    free(rr);
    im_layer_free(&l);
}

/* forward_source replaces one source's input: the same numbers as a full forward. */
static void test_forward_source(void)
{
    im_rng r;
    im_rng_seed(&r, 750, 0);
    enum { NO = 6, NF = 5, NC = 3, N = 17 };
    im_layer_spec s = small_spec(3, NO, NF, NC, N, IM_MASK_NO_SELF, 0, &r);
    im_layer *l = im_layer_new(&s, &r, NULL);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    double *in2 = random_spins(&r, N, NO), *rr = random_matrix(&r, NO, N, -1, 1);
    double th[NO * N], x2[NO * N], g[NO * NO];
    const double *full[3] = {in0, in1, in2}, *part[3] = {in0, in1, NULL};
    CHECK_INT(im_layer_forward(l, N, full, NULL), 0);
    memcpy(th, im_layer_theta(l), sizeof th);
    memcpy(x2, im_layer_x(l, 2), sizeof x2);
    im_layer_backward(l, rr, 0);
    memcpy(g, im_layer_grad_weights(l, 2), sizeof g);
    CHECK_INT(im_layer_forward(l, N, part, NULL), 0);
    CHECK(memcmp(th, im_layer_theta(l), sizeof th) != 0);
    CHECK_INT(im_layer_forward_source(l, 2, in2, NULL), 0);
    CHECK(memcmp(th, im_layer_theta(l), sizeof th) == 0);
    CHECK(memcmp(x2, im_layer_x(l, 2), sizeof x2) == 0);
    im_layer_backward(l, rr, 0);
    CHECK(memcmp(g, im_layer_grad_weights(l, 2), sizeof g) == 0);
    /* own output, then resampling: the copy is used */
    im_layer_sample(l, &r);
    CHECK_INT(im_layer_forward_source(l, 2, im_layer_output(l), NULL), 0);
    double y[N * NO];
    memcpy(y, im_layer_output(l), sizeof y);
    memcpy(th, im_layer_theta(l), sizeof th);
    im_layer_sample(l, &r);
    const double *own[3] = {in0, in1, y};
    CHECK_INT(im_layer_forward(l, N, own, NULL), 0);
    CHECK(memcmp(th, im_layer_theta(l), sizeof th) == 0);
    /* after a step the other sources' x are stale */
    im_error err;
    im_layer_step(l);
    CHECK_INT(im_layer_forward_source(l, 2, in2, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "full forward");
    CHECK_INT(im_layer_forward(l, N, full, NULL), 0);
    CHECK_INT(im_layer_forward_source(l, 3, in2, NULL), IM_EINVAL);
    free(in0);
    free(in1);
    free(in2);
    free(rr);
    im_layer_free(&l);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_errors(void)
{
    im_rng r;
    im_rng_seed(&r, 800, 0);
    im_error err;
    im_layer_spec ok = small_spec(3, 4, 3, 2, 8, IM_MASK_SPARSE, 2, &r), s;

    s = ok;
    s.k = 4;
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_INT(err.code, IM_EINVAL);
    s = ok;
    s.src[2].n_in = 5;
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_CONTAINS(err.msg, "n_in == n_out");
    s = ok;
    s.src[2].max_lateral = 4;
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_CONTAINS(err.msg, "max_lateral");
    s = ok;
    s.act = im_activation_bivariate(0.5, 2);
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_CONTAINS(err.msg, "bivariate");
    s = ok;
    s.src[0].binning.bins = 0;
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_CONTAINS(err.msg, "bins");
    s = ok;
    s.gamma[3] = NAN;
    CHECK(im_layer_new(&s, &r, &err) == NULL);
    CHECK_CONTAINS(err.msg, "gamma");

    im_layer *l = im_layer_new(&ok, &r, &err);
    CHECK(l != NULL);
    if (!l) return;
    double *in0 = random_matrix(&r, 9, 3, -1, 1);
    const double *in[3] = {in0, NULL, NULL};
    CHECK_INT(im_layer_bin(l, &err), IM_EINVAL);
    CHECK_INT(im_layer_forward(l, 9, in, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "batch");
    CHECK_INT(im_layer_forward(l, 0, in, NULL), IM_EINVAL);
    CHECK_INT(im_layer_forward(l, 8, in, NULL), 0);
    CHECK_INT(im_layer_goal(l, NULL, NULL, &err), IM_EINVAL);
    CHECK_INT(im_layer_bin(l, NULL), 0);
    CHECK_INT(im_layer_forward(l, 7, in, NULL), 0);
    CHECK_INT(im_layer_goal(l, NULL, NULL, NULL), IM_EINVAL); /* bins of another batch size */
    in0[4] = NAN;
    CHECK_INT(im_layer_forward(l, 8, in, &err), IM_ENUMERIC);
    CHECK_CONTAINS(err.msg, "non-finite");
    free(in0);
    im_layer_free(&l);
    im_layer_free(&l); /* NULL-safe */
}

/* Every weight and bias gradient of the layer set to v; the number that differ from v. */
static void grads_fill(im_layer *l, double v)
{
    for (int i = 0; i < im_layer_k(l); i++) {
        size_t nw = (size_t)im_layer_n_out(l) * (size_t)im_layer_n_in(l, i);
        for (size_t q = 0; q < nw; q++) im_layer_grad_weights(l, i)[q] = v;
        for (int j = 0; j < im_layer_n_out(l); j++) im_layer_grad_bias(l, i)[j] = v;
    }
}

static int grads_not(im_layer *l, double v)
{
    int count = 0;
    for (int i = 0; i < im_layer_k(l); i++) {
        size_t nw = (size_t)im_layer_n_out(l) * (size_t)im_layer_n_in(l, i);
        for (size_t q = 0; q < nw; q++) count += im_layer_grad_weights(l, i)[q] != v;
        for (int j = 0; j < im_layer_n_out(l); j++) count += im_layer_grad_bias(l, i)[j] != v;
    }
    return count;
}

/* im_layer_goal_terms: the same terms and goal as im_layer_goal, and the
 * gradient buffers left alone; im_layer_goal afterwards sets them. */
static void test_goal_terms(void)
{
    im_rng r;
    im_rng_seed(&r, 300, 0);
    enum { NO = 4, NF = 6, NC = 3, N = 40 };
    im_layer_spec s = small_spec(3, NO, NF, NC, 64, IM_MASK_NO_SELF, 2, &r);
    im_error err = {0};
    im_layer *l = im_layer_new(&s, &r, &err);
    CHECK_MSG(l != NULL, "layer: %s", err.msg);
    if (!l) return;
    double *in0 = random_matrix(&r, N, NF, -2, 2), *in1 = random_spins(&r, N, NC);
    double *in2 = random_spins(&r, N, NO);
    const double *in[3] = {in0, in1, in2};
    CHECK_INT(im_layer_forward(l, N, in, NULL), 0);
    CHECK_INT(im_layer_bin(l, NULL), 0);
    grads_fill(l, 7.0);
    double t1[IM_MAX_TERMS], t2[IM_MAX_TERMS], g1 = NAN, g2 = NAN;
    CHECK_INT(im_layer_goal_terms(l, t1, &g1, &err), 0);
    CHECK_INT(grads_not(l, 7.0), 0);
    CHECK_INT(im_layer_goal(l, t2, &g2, &err), 0);
    CHECK(g1 == g2);
    for (int q = 0; q < 19; q++) CHECK(t1[q] == t2[q]);
    CHECK(grads_not(l, 7.0) > 0);
    free(in0);
    free(in1);
    free(in2);
    im_layer_free(&l);
}

int main(void)
{
    test_activation();
    test_forward();
    test_backward_linear(2);
    test_backward_linear(3);
    test_goal_gradient(2, IM_MASK_NONE, 0);
    test_goal_gradient(2, IM_MASK_NONE, 1);
    test_goal_gradient(3, IM_MASK_NO_SELF, 0);
    test_goal_gradient(3, IM_MASK_SPARSE, 1);
    test_goal_terms();
    test_single_products();
    test_masks();
    test_fixed_identity();
    test_adam();
    test_sampling();
    test_own_output();
    test_forward_source();
    test_errors();
    return TEST_END();
}
