/*
 * pid.c: sparse I_sx PID of one neuron and its gradient (INFOMORPHIC.md,
 * sections 2-4).
 *
 * Algorithm, per neuron and batch (all O(n), independent of the bin counts):
 *
 *  1. Grouping. For every non-empty source subset B (masks 1..7 for k = 3,
 *     1..3 for k = 2) each sample gets the index of its marginal cell s_B
 *     among the distinct cells of this batch (gid[B]), and per marginal cell
 *     we accumulate the mass with T = +1 (qp), with T = -1 (qm) and in total
 *     (cnt). Single sources are keyed by their bin; a composite subset
 *     B = lo | hi by (group of lo, group of hi), so its key range is bounded
 *     by the numbers of groups, not of bins. Keys map to groups through a
 *     direct-address table (allocated once, all -1, and reset after use by
 *     walking the groups just made) or, when the key range would be too large
 *     for that, through an open-addressing hash table with the same reset.
 *     The groups of the full set are the occupied joint cells.
 *
 *  2. Forward. With W the total mass and logs in base 2,
 *        I_sx(alpha) = H(T) + (1/W) sum_{cells s} sum_t p(s,t) [log u_alpha(s,t) - log v_alpha(s)]
 *     where u = sum_B coef_B qp/qm_B(s_B) and v = sum_B coef_B cnt_B(s_B) are the
 *     inclusion-exclusion sums of the antichain (coefficients of equal unions
 *     merged). For an antichain of one collection {B}, u and v are constant on
 *     the marginal cells of B, so its sum runs over those groups instead of
 *     the joint cells (the top {FCL} is the case B = all, over the cells).
 *     Atoms Pi = M I, H_res = H(T) - I_sx(top). 0 log 0 = 0.
 *
 *  3. Backward (section 4). c = M^T gamma, c_top -= gamma_res. Per cell,
 *        D(s) = sum_alpha c_alpha [log u(s,+) - log u(s,-)]
 *             + (1/ln 2) sum_B A_B(s_B)
 *             - (sum_alpha c_alpha + gamma_res) [log P_T(+) - log P_T(-)]
 *     with the adjoint A_B(s_B) = sum_alpha c_alpha coef_B sum_{s in s_B} (R(s,+) - R(s,-)),
 *     R = p / u. For a one-collection antichain {B} the inner sum is 1 - 1 = 0
 *     (it is +-1 only where one of its masses is 0, and then the log ratio is
 *     already infinite), so only the multi-collection antichains are visited
 *     per cell. dG/dtheta_j = D(s_j) / N; it is infinite where theta = 0 or 1
 *     leaves a needed mass at 0.
 *
 * For unit sample weights (im_pid_neuron) every count and every v is an
 * integer, so their logs come from a table of log2(0..n_max); only the u's
 * need log2() calls (2 per cell and multi-collection antichain).
 */
#include "pid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_MAX    8                   /* source subsets are the masks 1..7 */
#define DIRECT_MAX ((uint64_t)1 << 20) /* largest direct-address table, entries */
#define LN2        0.69314718055994530942

struct im_pid {
    im_lattice lat;
    int k, full, n_max; /* full = the mask of all sources */
    int bins[IM_MAX_SOURCES];

    /* inclusion-exclusion plans of the antichains with two or more collections */
    int n_multi;
    int multi[IM_MAX_ANTICHAINS];                 /* their antichain indices */
    int n_terms[IM_MAX_ANTICHAINS];               /* [n_multi] */
    uint8_t term_sub[IM_MAX_ANTICHAINS][SUB_MAX]; /* [n_multi][n_terms] union mask */
    double term_coef[IM_MAX_ANTICHAINS][SUB_MAX]; /* [n_multi][n_terms] merged sign */
    int single[SUB_MAX];                          /* antichain {B} of subset B */

    /* grouping, per subset mask B */
    int lo[SUB_MAX], hi[SUB_MAX]; /* composite B = lo | hi, hi a single source */
    int hbits[SUB_MAX];           /* 0: direct table; else log2 of the hash size */
    int32_t *table[SUB_MAX];      /* direct [key range] or hash values [1 << hbits]; -1 = empty */
    uint64_t *hkey[SUB_MAX];      /* hash keys [1 << hbits], NULL for direct */
    int32_t *gid[SUB_MAX];        /* [n_max] group of each sample */
    int m[SUB_MAX];               /* number of groups in the current call */
    double *cnt[SUB_MAX], *qp[SUB_MAX], *qm[SUB_MAX]; /* [n_max] mass per group */
    double *lqp[SUB_MAX], *lqm[SUB_MAX];              /* [n_max] log2 qp, log2 qm */
    double *dg[SUB_MAX];                              /* [n_max] D contribution per group */
    uint64_t *slot;                                   /* [n_max] table slot of each group */
    int32_t *rep;                                     /* [n_max] first sample of each cell */
    double *dcell;                                    /* [n_max] D per cell */
    double *lg;                                       /* [n_max + 1] log2 of 0..n_max */
};

static int popcount(unsigned m)
{
    int c = 0;
    for (; m; m &= m - 1) c++;
    return c;
}

static int lowest_bit(unsigned m)
{
    int i = 0;
    while (!(m & 1u)) m >>= 1, i++;
    return i;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return (a != 0 && b > UINT64_MAX / a) ? UINT64_MAX : a * b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

im_pid *im_pid_new(int k, const int *bins, int n_max, im_error *err)
{
    if (k != 2 && k != 3) {
        im_error_set(err, IM_EINVAL, "pid: %d sources (2 or 3 supported)", k);
        return NULL;
    }
    if (!bins) {
        im_error_set(err, IM_EINVAL, "pid: no bin counts");
        return NULL;
    }
    for (int i = 0; i < k; i++)
        if (bins[i] < 1 || bins[i] > 65535) {
            im_error_set(err, IM_EINVAL, "pid: source %d has %d bins (1..65535 allowed)", i,
                         bins[i]);
            return NULL;
        }
    if (n_max < 1 || n_max > INT32_MAX / 2) {
        im_error_set(err, IM_EINVAL, "pid: maximal batch size %d out of range", n_max);
        return NULL;
    }
    im_pid *w = im_xcalloc(1, sizeof *w);
    if (im_lattice_init(&w->lat, k, err) != 0) {
        free(w);
        return NULL;
    }
    w->k = k;
    w->full = (1 << k) - 1;
    w->n_max = n_max;
    for (int i = 0; i < k; i++) w->bins[i] = bins[i];

    /* plans: inclusion-exclusion over the non-empty sub-collections beta of
     * each antichain, (-1)^(|beta|+1), merged by the union B(beta) */
    const im_lattice *lat = &w->lat;
    for (int a = 0; a < lat->n; a++) {
        int mc = lat->n_coll[a];
        if (mc == 1) {
            w->single[lat->coll[a][0]] = a;
            continue;
        }
        double coef[SUB_MAX] = {0};
        for (unsigned beta = 1; beta < (1u << mc); beta++) {
            unsigned u = 0;
            for (int j = 0; j < mc; j++)
                if (beta & (1u << j)) u |= lat->coll[a][j];
            coef[u] += popcount(beta) % 2 ? 1.0 : -1.0;
        }
        int i = w->n_multi++, t = 0;
        w->multi[i] = a;
        for (int B = 1; B <= w->full; B++)
            if (coef[B] != 0.0) {
                w->term_sub[i][t] = (uint8_t)B;
                w->term_coef[i][t] = coef[B];
                t++;
            }
        w->n_terms[i] = t;
    }

    /* grouping tables: the number of groups of B is at most
     * mmax[B] = min(n_max, prod bins of B) */
    uint64_t mmax[SUB_MAX] = {0};
    size_t nm = (size_t)n_max;
    for (int B = 1; B <= w->full; B++) {
        uint64_t range;
        if (popcount((unsigned)B) == 1) {
            range = (uint64_t)bins[lowest_bit((unsigned)B)];
            mmax[B] = min_u64(range, (uint64_t)n_max);
        } else {
            int hi = 31 - __builtin_clz((unsigned)B);
            w->hi[B] = 1 << hi;
            w->lo[B] = B & ~(1 << hi);
            range = sat_mul(mmax[w->lo[B]], mmax[w->hi[B]]);
            mmax[B] = min_u64(range, (uint64_t)n_max);
        }
        if (range <= DIRECT_MAX) {
            w->table[B] = im_xmalloc_array((size_t)range, sizeof(int32_t));
            memset(w->table[B], 0xff, (size_t)range * sizeof(int32_t));
        } else {
            int hb = 4;
            while ((1ull << hb) < 2 * (uint64_t)n_max) hb++;
            w->hbits[B] = hb;
            w->table[B] = im_xmalloc_array((size_t)1 << hb, sizeof(int32_t));
            memset(w->table[B], 0xff, ((size_t)1 << hb) * sizeof(int32_t));
            w->hkey[B] = im_xmalloc_array((size_t)1 << hb, sizeof(uint64_t));
        }
        w->gid[B] = im_xmalloc_array(nm, sizeof(int32_t));
        w->cnt[B] = im_xmalloc_array(nm, sizeof(double));
        w->qp[B] = im_xmalloc_array(nm, sizeof(double));
        w->qm[B] = im_xmalloc_array(nm, sizeof(double));
        w->lqp[B] = im_xmalloc_array(nm, sizeof(double));
        w->lqm[B] = im_xmalloc_array(nm, sizeof(double));
        w->dg[B] = im_xmalloc_array(nm, sizeof(double));
    }
    w->slot = im_xmalloc_array(nm, sizeof(uint64_t));
    w->rep = im_xmalloc_array(nm, sizeof(int32_t));
    w->dcell = im_xmalloc_array(nm, sizeof(double));
    w->lg = im_xmalloc_array(nm + 1, sizeof(double));
    w->lg[0] = 0.0; /* only ever multiplied by a zero mass */
    for (size_t i = 1; i <= nm; i++) w->lg[i] = log2((double)i);
    return w;
}

void im_pid_free(im_pid **pw)
{
    if (!pw || !*pw) return;
    im_pid *w = *pw;
    for (int B = 1; B < SUB_MAX; B++) {
        free(w->table[B]);
        free(w->hkey[B]);
        free(w->gid[B]);
        free(w->cnt[B]);
        free(w->qp[B]);
        free(w->qm[B]);
        free(w->lqp[B]);
        free(w->lqm[B]);
        free(w->dg[B]);
    }
    free(w->slot);
    free(w->rep);
    free(w->dcell);
    free(w->lg);
    free(w);
    *pw = NULL;
}

const im_lattice *im_pid_lattice(const im_pid *w)
{
    return &w->lat;
}

/* Table slot of key in subset B's hash table, inserting the key if absent. */
static inline uint64_t hash_slot(const im_pid *w, int B, uint64_t key)
{
    const int hb = w->hbits[B];
    const uint64_t mask = (1ull << hb) - 1;
    uint64_t s = (key * 0x9E3779B97F4A7C15ull) >> (64 - hb);
    while (w->table[B][s] >= 0 && w->hkey[B][s] != key) s = (s + 1) & mask;
    w->hkey[B][s] = key;
    return s;
}

/*
 * Step 1 for subset B: gid[B][j], m[B] and the masses per group. Unit weights
 * when tm is NULL (tp = theta, mass of T = -1 is 1 - theta); otherwise the
 * masses of sample j are tp[j] (T = +1) and tm[j] (T = -1).
 */
static void group_subset(im_pid *w, int B, int n, const uint16_t *bins, const double *tp,
                         const double *tm)
{
    int32_t *restrict gid = w->gid[B], *restrict tab = w->table[B];
    double *restrict cnt = w->cnt[B], *restrict qp = w->qp[B], *restrict qm = w->qm[B];
    double *restrict dg = w->dg[B];
    const int single = popcount((unsigned)B) == 1, hashed = w->hbits[B] != 0;
    const uint16_t *b = single ? bins + (size_t)lowest_bit((unsigned)B) * (size_t)n : NULL;
    const int32_t *glo = single ? NULL : w->gid[w->lo[B]];
    const int32_t *ghi = single ? NULL : w->gid[w->hi[B]];
    const uint64_t mhi = single ? 0 : (uint64_t)w->m[w->hi[B]];
    const int is_full = B == w->full;
    int m = 0;
    for (int j = 0; j < n; j++) {
        uint64_t key = single ? b[j] : (uint64_t)glo[j] * mhi + (uint64_t)ghi[j];
        uint64_t s = hashed ? hash_slot(w, B, key) : key;
        int32_t g = tab[s];
        if (g < 0) {
            g = m++;
            tab[s] = g;
            w->slot[g] = s;
            cnt[g] = qp[g] = qm[g] = dg[g] = 0.0;
            if (is_full) w->rep[g] = j;
        }
        gid[j] = g;
        if (tm) {
            cnt[g] += tp[j] + tm[j];
            qp[g] += tp[j];
            qm[g] += tm[j];
        } else {
            cnt[g] += 1.0;
            qp[g] += tp[j];
            qm[g] += 1.0 - tp[j];
        }
    }
    for (int g = 0; g < m; g++) tab[w->slot[g]] = -1;
    w->m[B] = m;
}

/* x log2 x with 0 log 0 = 0, given lx = log2 x */
static inline double xlx(double x, double lx)
{
    return x > 0.0 ? x * lx : 0.0;
}

/*
 * Steps 2 and 3 on the samples (bins [k][n], masses as in group_subset).
 * terms [n_terms] and goal may be NULL; goal and the gradient need gamma.
 * With want_grad, dcell[c] ends up holding D for each joint cell c (the
 * groups of the full set). Returns 0 or IM_ENUMERIC.
 */
static int pid_eval(im_pid *w, int n, const uint16_t *bins, const double *tp, const double *tm,
                    const double *gamma, double *terms, double *goal, int want_grad, im_error *err)
{
    const im_lattice *lat = &w->lat;
    const int full = w->full, na = lat->n, top = na - 1;
    const int weighted = tm != NULL;
    for (int B = 1; B <= full; B++) group_subset(w, B, n, bins, tp, tm);

    /* c = M^T gamma, with -gamma_res * I(T;S) folded into the top */
    double c[IM_MAX_ANTICHAINS] = {0}, gres = 0.0;
    if (gamma) {
        for (int a = 0; a < na; a++)
            for (int b = 0; b < na; b++) c[a] += lat->moebius[b][a] * gamma[b];
        gres = gamma[na];
        c[top] -= gres;
    }

    /* P_T and H(T), from the groups of source F */
    double ptp = 0.0, ptm = 0.0;
    for (int g = 0; g < w->m[1]; g++) {
        ptp += w->qp[1][g];
        ptm += w->qm[1][g];
    }
    const double wt = ptp + ptm;
    const double lptp = log2(ptp), lptm = log2(ptm);
    const double h_t = log2(wt) - (xlx(ptp, lptp) + xlx(ptm, lptm)) / wt;

    double acc[IM_MAX_ANTICHAINS] = {0}; /* sum p (log u - log v), per antichain */

    /* one-collection antichains {B}: sums over the groups of B */
    for (int B = 1; B <= full; B++) {
        const int m = w->m[B];
        const double *qp = w->qp[B], *qm = w->qm[B], *cnt = w->cnt[B];
        double *lqp = w->lqp[B], *lqm = w->lqm[B];
        double s = 0.0;
        for (int g = 0; g < m; g++) {
            lqp[g] = log2(qp[g]);
            lqm[g] = log2(qm[g]);
            double lc = weighted ? log2(cnt[g]) : w->lg[(size_t)cnt[g]];
            s += xlx(qp[g], lqp[g]) + xlx(qm[g], lqm[g]) - (qp[g] + qm[g]) * lc;
        }
        acc[w->single[B]] = s;
    }

    /* multi-collection antichains: per joint cell */
    const int mc = w->m[full];
    double cm[IM_MAX_ANTICHAINS];
    for (int i = 0; i < w->n_multi; i++) cm[i] = c[w->multi[i]] / LN2;
    for (int cell = 0; cell < mc; cell++) {
        const int r = w->rep[cell];
        double xp[SUB_MAX], xm[SUB_MAX], xc[SUB_MAX];
        int32_t gr[SUB_MAX];
        for (int B = 1; B <= full; B++) {
            int32_t g = w->gid[B][r];
            gr[B] = g;
            xp[B] = w->qp[B][g];
            xm[B] = w->qm[B][g];
            xc[B] = w->cnt[B][g];
        }
        const double pp = xp[full], pm = xm[full];
        double direct = 0.0, adj[SUB_MAX] = {0};
        for (int i = 0; i < w->n_multi; i++) {
            const int nt = w->n_terms[i];
            const uint8_t *sub = w->term_sub[i];
            const double *coef = w->term_coef[i];
            double up = 0.0, um = 0.0, v = 0.0;
            for (int t = 0; t < nt; t++) {
                up += coef[t] * xp[sub[t]];
                um += coef[t] * xm[sub[t]];
                v += coef[t] * xc[sub[t]];
            }
            const double lup = log2(up), lum = log2(um);
            const double lv = weighted ? log2(v) : w->lg[(size_t)v];
            acc[w->multi[i]] += xlx(pp, lup) + xlx(pm, lum) - (pp + pm) * lv;
            if (want_grad && cm[i] != 0.0) {
                direct += c[w->multi[i]] * (lup - lum);
                const double dr = cm[i] * ((pp > 0.0 ? pp / up : 0.0) - (pm > 0.0 ? pm / um : 0.0));
                for (int t = 0; t < nt; t++) adj[sub[t]] += coef[t] * dr;
            }
        }
        if (want_grad) {
            w->dcell[cell] = direct;
            for (int B = 1; B <= full; B++) w->dg[B][gr[B]] += adj[B];
        }
    }

    double isx[IM_MAX_ANTICHAINS] = {0};
    for (int a = 0; a < na; a++) isx[a] = h_t + acc[a] / wt;
    double t_out[IM_MAX_TERMS];
    for (int a = 0; a < na; a++) {
        double s = 0.0;
        for (int b = 0; b < na; b++) s += lat->moebius[a][b] * isx[b];
        t_out[a] = s;
    }
    t_out[na] = h_t - isx[top];
    for (int a = 0; a <= na; a++)
        if (!isfinite(t_out[a]))
            return im_error_set(err, IM_ENUMERIC, "pid: non-finite %s", lat->short_name[a]);
    if (terms) memcpy(terms, t_out, (size_t)(na + 1) * sizeof(double));
    if (goal) {
        double gsum = 0.0;
        for (int a = 0; a <= na; a++) gsum += gamma[a] * t_out[a];
        *goal = gsum;
    }
    if (!want_grad) return 0;

    /* per group: the one-collection antichain's log ratio (its adjoint is
     * 1 - 1 = 0, or +-1 next to an infinite log ratio when a mass is 0) */
    for (int B = 1; B <= full; B++) {
        const double cb = c[w->single[B]];
        const double *lqp = w->lqp[B], *lqm = w->lqm[B];
        double *dg = w->dg[B];
        if (cb != 0.0)
            for (int g = 0; g < w->m[B]; g++) dg[g] += cb * (lqp[g] - lqm[g]);
    }
    double csum = gres;
    for (int a = 0; a < na; a++) csum += c[a];
    const double kconst = -csum * (lptp - lptm);
    for (int cell = 0; cell < mc; cell++) {
        const int r = w->rep[cell];
        double d = w->dcell[cell] + kconst;
        for (int B = 1; B <= full; B++) d += w->dg[B][w->gid[B][r]];
        w->dcell[cell] = d;
    }
    return 0;
}

int im_pid_neuron(im_pid *w, int n, const uint16_t *bins, const double *theta, const double *gamma,
                  double *terms, double *goal, double *dtheta, im_error *err)
{
    if (n < 1 || n > w->n_max)
        return im_error_set(err, IM_EINVAL, "pid: batch of %d samples (1..%d allowed)", n,
                            w->n_max);
    if (!bins || !theta) return im_error_set(err, IM_EINVAL, "pid: no samples");
    if ((goal || dtheta) && !gamma)
        return im_error_set(err, IM_EINVAL, "pid: goal and gradient need gamma");
    for (int i = 0; i < w->k; i++) {
        const uint16_t *b = bins + (size_t)i * (size_t)n;
        uint16_t lim = (uint16_t)w->bins[i], bad = 0;
        for (int j = 0; j < n; j++) bad |= (uint16_t)(b[j] >= lim);
        if (bad)
            for (int j = 0; j < n; j++)
                if (b[j] >= lim)
                    return im_error_set(
                        err, IM_ERANGE,
                        "pid: sample %d: bin %d of source %d out of range (%d bins)", j, b[j], i,
                        w->bins[i]);
    }
    for (int j = 0; j < n; j++)
        if (!(theta[j] >= 0.0 && theta[j] <= 1.0))
            return im_error_set(err, IM_ERANGE, "pid: sample %d: theta %g outside [0, 1]", j,
                                theta[j]);
    int rc = pid_eval(w, n, bins, theta, NULL, gamma, terms, goal, dtheta != NULL, err);
    if (rc != 0 || !dtheta) return rc;
    const int32_t *cell = w->gid[w->full];
    const double inv_n = 1.0 / n;
    for (int j = 0; j < n; j++) dtheta[j] = w->dcell[cell[j]] * inv_n;
    return 0;
}

int im_pid_table(int k, const int *shape, const double *p, const double *gamma, double *terms,
                 double *goal, double *dcell, im_error *err)
{
    if (k != 2 && k != 3) return im_error_set(err, IM_EINVAL, "pid: %d sources (2 or 3)", k);
    if (!shape || !p) return im_error_set(err, IM_EINVAL, "pid: no table");
    if ((goal || dcell) && !gamma)
        return im_error_set(err, IM_EINVAL, "pid: goal and gradient need gamma");
    size_t ncell = 1;
    for (int i = 0; i < k; i++) {
        if (shape[i] < 1 || shape[i] > 65535)
            return im_error_set(err, IM_EINVAL, "pid: source %d has %d bins (1..65535 allowed)", i,
                                shape[i]);
        if (im_size_mul(ncell, (size_t)shape[i], &ncell) != 0 || ncell > (size_t)INT32_MAX / 4)
            return im_error_set(err, IM_ERANGE, "pid: table too large");
    }
    size_t occupied = 0;
    for (size_t s = 0; s < ncell; s++) {
        double a = p[2 * s], b = p[2 * s + 1];
        if (!(a >= 0.0 && b >= 0.0 && isfinite(a) && isfinite(b)))
            return im_error_set(err, IM_ERANGE, "pid: entry %zu is negative or not finite",
                                a >= 0.0 && isfinite(a) ? 2 * s + 1 : 2 * s);
        if (a + b > 0.0) occupied++;
    }
    if (occupied == 0) return im_error_set(err, IM_EINVAL, "pid: the table has no mass");

    im_pid *w = im_pid_new(k, shape, (int)occupied, err);
    if (!w) return err ? err->code : IM_EINVAL;
    uint16_t *bins = im_xmalloc_array((size_t)k * occupied, sizeof(uint16_t));
    double *tp = im_xmalloc_array(occupied, sizeof(double));
    double *tm = im_xmalloc_array(occupied, sizeof(double));
    size_t *where = im_xmalloc_array(occupied, sizeof(size_t));
    size_t j = 0;
    for (size_t s = 0; s < ncell; s++) {
        if (p[2 * s] + p[2 * s + 1] <= 0.0) continue;
        size_t rest = s;
        for (int i = k - 1; i >= 0; i--) {
            bins[(size_t)i * occupied + j] = (uint16_t)(rest % (size_t)shape[i]);
            rest /= (size_t)shape[i];
        }
        tm[j] = p[2 * s];
        tp[j] = p[2 * s + 1];
        where[j] = s;
        j++;
    }
    int rc = pid_eval(w, (int)occupied, bins, tp, tm, gamma, terms, goal, dcell != NULL, err);
    if (rc == 0 && dcell) {
        memset(dcell, 0, ncell * sizeof(double));
        for (j = 0; j < occupied; j++) dcell[where[j]] = w->dcell[w->gid[w->full][j]];
    }
    free(bins);
    free(tp);
    free(tm);
    free(where);
    im_pid_free(&w);
    return rc;
}
