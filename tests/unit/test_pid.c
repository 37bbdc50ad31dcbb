/*
 * test_pid: the sparse I_sx PID and its gradient.
 *
 *  - the reference test vectors (tests/data/pid2.json, pid3.json): atoms and
 *    H_res, and D per source cell;
 *  - the analytic k = 2 tables of the specification (copy, XOR, T = S1);
 *  - identities on random tables, k = 2 and 3;
 *  - the gradient against central finite differences of the goal;
 *  - the sparse evaluation against a dense oracle written here (plain loops
 *    over every cell), terms and gradient;
 *  - the hashed grouping path against the direct one, workspace reuse, and
 *    the refusal of bad arguments.
 */
#include "lattice.h"
#include "pid.h"
#include "rng.h"
#include "test.h"

#include <jansson.h>
#include <stdint.h>

#define LN2 0.69314718055994530942

/* ---- the dense oracle ------------------------------------------------- */

/* Index of cell s's marginal cell over the sources in mask B: the sources
 * outside B are set to bin 0 (so marginal tables share the joint indexing). */
static int project(int k, const int *bins, int s, int B)
{
    int coord[3], r = s;
    for (int i = k - 1; i >= 0; i--) {
        coord[i] = r % bins[i];
        r /= bins[i];
    }
    int idx = 0;
    for (int i = 0; i < k; i++) idx = idx * bins[i] + ((B >> i) & 1 ? coord[i] : 0);
    return idx;
}

/*
 * Dense evaluation of section 3 and section 4, straight from the formulas:
 * P [ncell][2] (normalised), gamma [n+1] (may be NULL). terms [n+1]; D
 * [ncell] (D for cells with mass, may be NULL).
 */
static void dense_pid(int k, const int *bins, const double *P, const double *gamma, double *terms,
                      double *D)
{
    im_lattice lat;
    im_lattice_init(&lat, k, NULL);
    const int n = lat.n, full = (1 << k) - 1;
    int ncell = 1;
    for (int i = 0; i < k; i++) ncell *= bins[i];
    double *mt = calloc((size_t)(full + 1) * (size_t)ncell * 2, sizeof(double));
    double *m = calloc((size_t)(full + 1) * (size_t)ncell, sizeof(double));
    double *U = calloc((size_t)n * (size_t)ncell * 2, sizeof(double));
    double pt[2] = {0, 0};
    for (int s = 0; s < ncell; s++)
        for (int t = 0; t < 2; t++) {
            pt[t] += P[2 * s + t];
            for (int B = 1; B <= full; B++) {
                int q = project(k, bins, s, B);
                mt[((size_t)B * ncell + q) * 2 + t] += P[2 * s + t];
                m[(size_t)B * ncell + q] += P[2 * s + t];
            }
        }
    double h = 0;
    for (int t = 0; t < 2; t++)
        if (pt[t] > 0) h -= pt[t] * log2(pt[t]);

    double I[IM_MAX_ANTICHAINS] = {0};
    for (int a = 0; a < n; a++) {
        int mc = lat.n_coll[a];
        for (int s = 0; s < ncell; s++) {
            double u[2] = {0, 0}, v = 0;
            for (int beta = 1; beta < (1 << mc); beta++) {
                int B = 0, size = 0;
                for (int j = 0; j < mc; j++)
                    if (beta >> j & 1) B |= lat.coll[a][j], size++;
                double sign = size % 2 ? 1 : -1;
                int q = project(k, bins, s, B);
                for (int t = 0; t < 2; t++) u[t] += sign * mt[((size_t)B * ncell + q) * 2 + t];
                v += sign * m[(size_t)B * ncell + q];
            }
            for (int t = 0; t < 2; t++) {
                U[((size_t)a * ncell + s) * 2 + t] = u[t];
                if (P[2 * s + t] > 0) I[a] += P[2 * s + t] * log2(u[t] / (v * pt[t]));
            }
        }
    }
    for (int a = 0; a < n; a++) {
        terms[a] = 0;
        for (int b = 0; b < n; b++) terms[a] += lat.moebius[a][b] * I[b];
    }
    terms[n] = h - I[n - 1];

    if (D) {
        double c[IM_MAX_ANTICHAINS] = {0}, csum = gamma[n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) c[a] += lat.moebius[b][a] * gamma[b];
        c[n - 1] -= gamma[n];
        for (int a = 0; a < n; a++) csum += c[a];
        for (int s1 = 0; s1 < ncell; s1++) {
            D[s1] = 0;
            if (P[2 * s1] + P[2 * s1 + 1] <= 0) continue;
            double d = -csum * (log2(pt[1]) - log2(pt[0]));
            for (int a = 0; a < n; a++) {
                const double *u1 = &U[((size_t)a * ncell + s1) * 2];
                double da = log2(u1[1]) - log2(u1[0]);
                int mc = lat.n_coll[a];
                for (int beta = 1; beta < (1 << mc); beta++) {
                    int B = 0, size = 0;
                    for (int j = 0; j < mc; j++)
                        if (beta >> j & 1) B |= lat.coll[a][j], size++;
                    double sign = size % 2 ? 1 : -1;
                    int q1 = project(k, bins, s1, B);
                    for (int s = 0; s < ncell; s++) {
                        if (project(k, bins, s, B) != q1) continue;
                        const double *u = &U[((size_t)a * ncell + s) * 2];
                        double rp = P[2 * s + 1] > 0 ? P[2 * s + 1] / u[1] : 0;
                        double rm = P[2 * s] > 0 ? P[2 * s] / u[0] : 0;
                        da += sign * (rp - rm) / LN2;
                    }
                }
                d += c[a] * da;
            }
            D[s1] = d;
        }
    }
    free(mt);
    free(m);
    free(U);
}

/* Mutual information I(T; S_B) of a dense table, straight from the definition. */
static double dense_mi(int k, const int *bins, const double *P, int B)
{
    int ncell = 1;
    for (int i = 0; i < k; i++) ncell *= bins[i];
    double *mt = calloc((size_t)ncell * 2, sizeof(double)), pt[2] = {0, 0};
    for (int s = 0; s < ncell; s++)
        for (int t = 0; t < 2; t++) {
            mt[project(k, bins, s, B) * 2 + t] += P[2 * s + t];
            pt[t] += P[2 * s + t];
        }
    double mi = 0;
    for (int q = 0; q < ncell; q++) {
        double ms = mt[2 * q] + mt[2 * q + 1];
        for (int t = 0; t < 2; t++)
            if (mt[2 * q + t] > 0) mi += mt[2 * q + t] * log2(mt[2 * q + t] / (ms * pt[t]));
    }
    free(mt);
    return mi;
}

/* ---- the test vectors ------------------------------------------------- */

static double *json_doubles(json_t *a, size_t *len)
{
    *len = json_array_size(a);
    double *x = malloc((*len + 1) * sizeof(double));
    for (size_t i = 0; i < *len; i++) x[i] = json_number_value(json_array_get(a, i));
    return x;
}

static void test_vectors(const char *file, int k)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_data_dir(), file);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
    if (!root) return;
    CHECK_INT(json_integer_value(json_object_get(root, "n_sources")), k);
    size_t ng;
    double *g = json_doubles(json_object_get(root, "g"), &ng);
    const int nterms = k == 2 ? 5 : 19;
    CHECK_INT(ng, nterms);
    json_t *cases = json_object_get(root, "cases");
    size_t i;
    json_t *cs;
    int n_random = 0, n_gate = 0;
    json_array_foreach(cases, i, cs)
    {
        const char *name = json_string_value(json_object_get(cs, "name"));
        int shape[4], ncell = 1;
        for (int a = 0; a < k; a++) {
            shape[a] = (int)json_integer_value(json_array_get(json_object_get(cs, "shape"), a));
            ncell *= shape[a];
        }
        size_t np, nt;
        double *p = json_doubles(json_object_get(cs, "p"), &np);
        double *want = json_doubles(json_object_get(cs, "terms_exact_no_safeguards"), &nt);
        CHECK_INT(np, 2 * ncell);
        CHECK_INT(nt, nterms);
        double terms[IM_MAX_TERMS], goal = 0;
        double *dcell = calloc((size_t)ncell, sizeof(double));
        im_error err = {0};
        int rc = im_pid_table(k, shape, p, g, terms, &goal, dcell, &err);
        CHECK_MSG(rc == 0, "%s: %s", name, err.msg);
        double gdot = 0;
        for (int a = 0; a < nterms; a++) {
            CHECK_MSG(fabs(terms[a] - want[a]) <= 1e-6, "%s term %d: %.12g vs %.12g", name, a,
                      terms[a], want[a]);
            gdot += g[a] * want[a];
        }
        CHECK_NEAR(goal, gdot, 1e-6);
        double mi = json_number_value(json_object_get(cs, "mutual_information_I_T_S"));
        double atoms = 0;
        for (int a = 0; a < nterms - 1; a++) atoms += terms[a];
        CHECK_NEAR(atoms, mi, 1e-6);
        json_t *jd = json_object_get(cs, "dt_grad_ref");
        if (jd) {
            size_t nd;
            double *d = json_doubles(jd, &nd);
            CHECK_INT(nd, ncell);
            for (int s = 0; s < ncell && s < (int)nd; s++)
                CHECK_MSG(fabs(dcell[s] - d[s]) <= 1e-6 * fmax(1, fabs(d[s])),
                          "%s D[%d]: %.12g vs %.12g", name, s, dcell[s], d[s]);
            free(d);
            n_random++;
        } else {
            n_gate++;
        }
        free(dcell);
        free(p);
        free(want);
    }
    CHECK(n_random >= 10);
    CHECK(n_gate >= 3);
    free(g);
    json_decref(root);
}

/* ---- analytic tables -------------------------------------------------- */

static void test_analytic(void)
{
    const int shape[2] = {2, 2};
    /* p[s1][s2][t] */
    double copy[8] = {0}, xr[8] = {0}, t_s1[8] = {0};
    copy[(0 * 2 + 0) * 2 + 0] = 0.5;
    copy[(1 * 2 + 1) * 2 + 1] = 0.5;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            xr[(a * 2 + b) * 2 + (a ^ b)] = 0.25;
            t_s1[(a * 2 + b) * 2 + a] = 0.25;
        }
    /* canonical order: f, c, f_c, fc, h_res */
    const double l3 = log2(3.0);
    const double want[3][5] = {
        {0, 0, 1, 0, 0},
        {log2(1.5), log2(1.5), log2(2.0 / 3), 2 - l3, 0},
        {l3 - 1, -log2(4.0 / 3), log2(4.0 / 3), log2(4.0 / 3), 0},
    };
    const double *tabs[3] = {copy, xr, t_s1};
    for (int c = 0; c < 3; c++) {
        double terms[5];
        CHECK_INT(im_pid_table(2, shape, tabs[c], NULL, terms, NULL, NULL, NULL), 0);
        for (int a = 0; a < 5; a++) CHECK_NEAR(terms[a], want[c][a], 1e-12);
    }
    /* one cell only: no information, H_res = H(T) */
    double one[2] = {0.25, 0.75}, terms[5];
    const int shape1[2] = {1, 1};
    CHECK_INT(im_pid_table(2, shape1, one, NULL, terms, NULL, NULL, NULL), 0);
    for (int a = 0; a < 4; a++) CHECK_NEAR(terms[a], 0, 1e-15);
    CHECK_NEAR(terms[4], -(0.25 * log2(0.25) + 0.75 * log2(0.75)), 1e-14);
}

/* ---- identities on random tables -------------------------------------- */

static void random_table(im_rng *r, int ncell, double *p, double zero_frac)
{
    double s = 0;
    for (int i = 0; i < 2 * ncell; i++) {
        double u = im_rng_uniform(r);
        p[i] = im_rng_uniform(r) < zero_frac ? 0.0 : u * u;
        s += p[i];
    }
    for (int i = 0; i < 2 * ncell; i++) p[i] /= s;
}

static void test_identities(int k)
{
    im_rng r;
    im_rng_seed(&r, 1000 + (uint64_t)k, 0);
    im_lattice lat;
    im_lattice_init(&lat, k, NULL);
    const int n = lat.n, full = (1 << k) - 1;
    for (int rep = 0; rep < 20; rep++) {
        int bins[3], ncell = 1;
        for (int i = 0; i < k; i++) ncell *= bins[i] = 1 + (int)im_rng_below(&r, 4);
        double p[2 * 64], terms[IM_MAX_TERMS];
        random_table(&r, ncell, p, rep % 2 ? 0.3 : 0.0);
        CHECK_INT(im_pid_table(k, bins, p, NULL, terms, NULL, NULL, NULL), 0);
        double atoms = 0;
        for (int a = 0; a < n; a++) atoms += terms[a];
        double mi = dense_mi(k, bins, p, full), pt1 = 0;
        for (int s = 0; s < ncell; s++) pt1 += p[2 * s + 1];
        double h = 0;
        if (pt1 > 0) h -= pt1 * log2(pt1);
        if (pt1 < 1) h -= (1 - pt1) * log2(1 - pt1);
        CHECK_NEAR(atoms, mi, 1e-12);
        CHECK_NEAR(atoms + terms[n], h, 1e-12);
        /* everything below the one-collection antichain {B} adds up to I(T; S_B) */
        for (int a = 0; a < n; a++) {
            if (lat.n_coll[a] != 1) continue;
            double below = 0;
            for (int b = 0; b < n; b++)
                if (lat.leq[b][a]) below += terms[b];
            CHECK_MSG(fabs(below - dense_mi(k, bins, p, lat.coll[a][0])) <= 1e-12,
                      "k=%d rep %d: atoms below %s", k, rep, lat.short_name[a]);
        }
    }
}

/* ---- batches: sparse vs dense, finite differences ---------------------- */

typedef struct batch {
    int k, n, bins[3];
    uint16_t b[3 * 512]; /* [k][n] */
    double theta[512];
} batch;

static void random_batch(im_rng *r, batch *bt, int k, int n, int maxbins)
{
    bt->k = k;
    bt->n = n;
    for (int i = 0; i < k; i++) bt->bins[i] = 1 + (int)im_rng_below(r, (uint64_t)maxbins);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < n; j++)
            bt->b[i * n + j] = (uint16_t)im_rng_below(r, (uint64_t)bt->bins[i]);
    for (int j = 0; j < n; j++) bt->theta[j] = 0.02 + 0.96 * im_rng_uniform(r);
}

static void random_gamma(im_rng *r, int nterms, double *gamma)
{
    for (int a = 0; a < nterms; a++) gamma[a] = im_rng_range(r, -1, 1);
}

static void test_sparse_vs_dense(int k)
{
    im_rng r;
    im_rng_seed(&r, 2000 + (uint64_t)k, 0);
    const int nterms = k == 2 ? 5 : 19;
    for (int rep = 0; rep < 30; rep++) {
        batch bt;
        random_batch(&r, &bt, k, 1 + (int)im_rng_below(&r, 300), rep < 10 ? 3 : 6);
        if (rep % 5 == 0) /* some samples at the limits 0 and 1 */
            for (int j = 0; j < bt.n; j += 7) bt.theta[j] = j % 2 ? 1.0 : 0.0;
        int ncell = 1;
        for (int i = 0; i < k; i++) ncell *= bt.bins[i];
        double *P = calloc((size_t)ncell * 2, sizeof(double));
        double *D = calloc((size_t)ncell, sizeof(double));
        int *cell = malloc((size_t)bt.n * sizeof(int));
        for (int j = 0; j < bt.n; j++) {
            int s = 0;
            for (int i = 0; i < k; i++) s = s * bt.bins[i] + bt.b[i * bt.n + j];
            cell[j] = s;
            P[2 * s + 1] += bt.theta[j] / bt.n;
            P[2 * s] += (1 - bt.theta[j]) / bt.n;
        }
        double gamma[IM_MAX_TERMS], want[IM_MAX_TERMS], terms[IM_MAX_TERMS], dtheta[512], goal;
        random_gamma(&r, nterms, gamma);
        dense_pid(k, bt.bins, P, gamma, want, D);
        im_error err = {0};
        im_pid *w = im_pid_new(k, bt.bins, 512, &err);
        CHECK(w != NULL);
        int rc = im_pid_neuron(w, bt.n, bt.b, bt.theta, gamma, terms, &goal, dtheta, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        double gd = 0;
        for (int a = 0; a < nterms; a++) {
            CHECK_MSG(fabs(terms[a] - want[a]) <= 1e-10, "k=%d rep %d term %d: %.15g vs %.15g", k,
                      rep, a, terms[a], want[a]);
            gd += gamma[a] * want[a];
        }
        CHECK_NEAR(goal, gd, 1e-10);
        if (rep % 5 != 0) /* with theta in {0, 1} some D are infinite */
            for (int j = 0; j < bt.n; j++) {
                double d = D[cell[j]];
                CHECK_MSG(fabs(dtheta[j] * bt.n - d) <= 1e-9 * fmax(1, fabs(d)),
                          "k=%d rep %d sample %d: D %.15g vs %.15g", k, rep, j, dtheta[j] * bt.n,
                          d);
            }
        /* atoms only: same terms, gradient not needed */
        double t2[IM_MAX_TERMS];
        CHECK_INT(im_pid_neuron(w, bt.n, bt.b, bt.theta, NULL, t2, NULL, NULL, NULL), 0);
        for (int a = 0; a < nterms; a++) CHECK_NEAR(t2[a], terms[a], 0);
        /* the dense-table entry point agrees */
        double *dc = calloc((size_t)ncell, sizeof(double));
        CHECK_INT(im_pid_table(k, bt.bins, P, gamma, t2, NULL, dc, NULL), 0);
        for (int a = 0; a < nterms; a++) CHECK_NEAR(t2[a], want[a], 1e-10);
        if (rep % 5 != 0)
            for (int s = 0; s < ncell; s++) CHECK_NEAR(dc[s], D[s], 1e-9 * fmax(1, fabs(D[s])));
        free(dc);
        im_pid_free(&w);
        CHECK(w == NULL);
        free(P);
        free(D);
        free(cell);
    }
}

static void test_finite_differences(int k)
{
    im_rng r;
    im_rng_seed(&r, 3000 + (uint64_t)k, 0);
    const int nterms = k == 2 ? 5 : 19;
    for (int rep = 0; rep < 6; rep++) {
        batch bt;
        random_batch(&r, &bt, k, 20 + (int)im_rng_below(&r, 60), 4);
        double gamma[IM_MAX_TERMS], dtheta[512], g0;
        random_gamma(&r, nterms, gamma);
        im_pid *w = im_pid_new(k, bt.bins, bt.n, NULL);
        CHECK_INT(im_pid_neuron(w, bt.n, bt.b, bt.theta, gamma, NULL, &g0, dtheta, NULL), 0);
        const double h = 1e-5;
        for (int j = 0; j < bt.n; j++) {
            double th = bt.theta[j], gp, gm;
            bt.theta[j] = th + h;
            im_pid_neuron(w, bt.n, bt.b, bt.theta, gamma, NULL, &gp, NULL, NULL);
            bt.theta[j] = th - h;
            im_pid_neuron(w, bt.n, bt.b, bt.theta, gamma, NULL, &gm, NULL, NULL);
            bt.theta[j] = th;
            double fd = (gp - gm) / (2 * h);
            CHECK_MSG(fabs(fd - dtheta[j]) <= 1e-6 * fmax(1, fabs(fd)),
                      "k=%d rep %d sample %d: analytic %.12g vs fd %.12g", k, rep, j, dtheta[j],
                      fd);
        }
        im_pid_free(&w);
    }
}

/* Large bin counts force the hashed grouping; the result depends only on
 * which samples share a bin, so relabelling into few bins must agree. */
static void test_hashed_grouping(void)
{
    im_rng r;
    im_rng_seed(&r, 4000, 0);
    const int big[3] = {60000, 50000, 65535}, n = 400;
    const int nterms = 19;
    int small[3] = {5, 4, 6};
    static uint16_t bb[3 * 400], bs[3 * 400];
    double theta[400], gamma[19], t1[19], t2[19], d1[400], d2[400], g1, g2;
    uint16_t label[3][6];
    for (int i = 0; i < 3; i++)
        for (int v = 0; v < small[i]; v++)
            label[i][v] = (uint16_t)(v * 9973 % big[i]); /* distinct, scattered */
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < 3; i++) {
            int v = (int)im_rng_below(&r, (uint64_t)small[i]);
            bs[i * n + j] = (uint16_t)v;
            bb[i * n + j] = label[i][v];
        }
        theta[j] = im_rng_range(&r, 0.01, 0.99);
    }
    random_gamma(&r, nterms, gamma);
    im_pid *wb = im_pid_new(3, big, 5000, NULL), *ws = im_pid_new(3, small, n, NULL);
    CHECK(wb && ws);
    CHECK_INT(im_pid_neuron(wb, n, bb, theta, gamma, t1, &g1, d1, NULL), 0);
    CHECK_INT(im_pid_neuron(ws, n, bs, theta, gamma, t2, &g2, d2, NULL), 0);
    for (int a = 0; a < nterms; a++) CHECK_NEAR(t1[a], t2[a], 1e-12);
    CHECK_NEAR(g1, g2, 1e-12);
    for (int j = 0; j < n; j++) CHECK_NEAR(d1[j], d2[j], 1e-10 * fmax(1, fabs(d2[j])));
    /* reuse after another batch: the tables were reset */
    CHECK_INT(im_pid_neuron(wb, n / 2, bb, theta, gamma, t2, NULL, NULL, NULL), 0);
    CHECK_INT(im_pid_neuron(wb, n, bb, theta, gamma, t2, &g2, d2, NULL), 0);
    for (int a = 0; a < nterms; a++) CHECK_NEAR(t1[a], t2[a], 0);
    for (int j = 0; j < n; j++) CHECK_NEAR(d1[j], d2[j], 0);
    im_pid_free(&wb);
    im_pid_free(&ws);
}

static void test_errors(void)
{
    im_error err = {0};
    int bins[3] = {3, 3, 3}, bad[3] = {3, 0, 3};
    CHECK(im_pid_new(4, bins, 10, &err) == NULL);
    CHECK_INT(err.code, IM_EINVAL);
    CHECK(im_pid_new(3, bad, 10, &err) == NULL);
    CHECK_CONTAINS(err.msg, "bins");
    CHECK(im_pid_new(2, bins, 0, &err) == NULL);
    im_pid *w = im_pid_new(3, bins, 4, &err);
    CHECK(w != NULL);
    CHECK_INT(im_pid_lattice(w)->n, 18);
    uint16_t b[12] = {0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0};
    double theta[4] = {0.5, 0.2, 0.9, 0.4}, terms[19], gamma[19] = {0}, d[4];
    CHECK_INT(im_pid_neuron(w, 4, b, theta, NULL, terms, NULL, NULL, &err), 0);
    CHECK_INT(im_pid_neuron(w, 5, b, theta, NULL, terms, NULL, NULL, &err), IM_EINVAL);
    CHECK_INT(im_pid_neuron(w, 0, b, theta, NULL, terms, NULL, NULL, &err), IM_EINVAL);
    CHECK_INT(im_pid_neuron(w, 4, b, theta, NULL, terms, NULL, d, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "gamma");
    b[5] = 3;
    CHECK_INT(im_pid_neuron(w, 4, b, theta, gamma, terms, NULL, d, &err), IM_ERANGE);
    CHECK_CONTAINS(err.msg, "source 1");
    b[5] = 1;
    theta[2] = 1.5;
    CHECK_INT(im_pid_neuron(w, 4, b, theta, gamma, terms, NULL, d, &err), IM_ERANGE);
    CHECK_CONTAINS(err.msg, "theta");
    theta[2] = NAN;
    CHECK_INT(im_pid_neuron(w, 4, b, theta, gamma, terms, NULL, d, &err), IM_ERANGE);
    im_pid_free(&w);
    im_pid_free(&w); /* NULL-safe */
    im_pid_free(NULL);

    const int shape[2] = {2, 1};
    double p[4] = {0.5, 0.5, 0, 0}, neg[4] = {0.5, 0.6, -0.1, 0}, zero[4] = {0};
    CHECK_INT(im_pid_table(2, shape, p, NULL, terms, NULL, NULL, &err), 0);
    CHECK_INT(im_pid_table(2, shape, neg, NULL, terms, NULL, NULL, &err), IM_ERANGE);
    CHECK_INT(im_pid_table(2, shape, zero, NULL, terms, NULL, NULL, &err), IM_EINVAL);
    CHECK_INT(im_pid_table(1, shape, p, NULL, terms, NULL, NULL, &err), IM_EINVAL);
}

/* The samples are grouped one of two ways, picked by the previous call's
 * number of joint cells (few: a predicted branch; many: branch-free). Both
 * must give the same groups, so the same bits: a workspace runs a dense and
 * a sparse batch twice each, in an order that takes each batch through both
 * ways, and the results are compared exactly. */
static void test_grouping_ways(void)
{
    enum { N = 512 };
    const int k = 3, bins[3] = {6, 6, 6};
    im_rng r;
    im_rng_seed(&r, 4242, 0);
    static batch dense, sparse;
    random_batch(&r, &dense, k, N, 1); /* bins drawn below, all 216 cells */
    random_batch(&r, &sparse, k, N, 1);
    for (int i = 0; i < k; i++) {
        dense.bins[i] = sparse.bins[i] = bins[i];
        for (int j = 0; j < N; j++) {
            dense.b[i * N + j] = (uint16_t)((j / (i == 0 ? 1 : i == 1 ? 6 : 36)) % 6);
            sparse.b[i * N + j] = (uint16_t)im_rng_below(&r, 2); /* at most 8 cells */
        }
    }
    double gamma[IM_MAX_TERMS];
    random_gamma(&r, 19, gamma);
    im_pid *w = im_pid_new(k, bins, N, NULL);
    CHECK(w != NULL);
    if (!w) return;
    /* dense (after none: few), dense (many), sparse (many), sparse (few) */
    const batch *order[4] = {&dense, &dense, &sparse, &sparse};
    double terms[4][IM_MAX_TERMS], dtheta[4][N], goal[4];
    for (int c = 0; c < 4; c++)
        CHECK_INT(im_pid_neuron(w, N, order[c]->b, order[c]->theta, gamma, terms[c], &goal[c],
                                dtheta[c], NULL),
                  0);
    for (int c = 0; c < 4; c += 2) {
        CHECK_MSG(memcmp(terms[c], terms[c + 1], sizeof terms[c]) == 0, "batch %d: terms differ",
                  c / 2);
        CHECK_MSG(memcmp(dtheta[c], dtheta[c + 1], sizeof dtheta[c]) == 0,
                  "batch %d: gradients differ", c / 2);
        CHECK(goal[c] == goal[c + 1]);
    }
    im_pid_free(&w);
}

int main(void)
{
    test_vectors("pid2.json", 2);
    test_vectors("pid3.json", 3);
    test_analytic();
    test_identities(2);
    test_identities(3);
    test_sparse_vs_dense(2);
    test_sparse_vs_dense(3);
    test_finite_differences(2);
    test_finite_differences(3);
    test_hashed_grouping();
    test_grouping_ways();
    test_errors();
    return TEST_END();
}
