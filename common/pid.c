/*
 * pid.c: sparse I_sx PID of one neuron and its gradient (INFOMORPHIC.md,
 * sections 2-4).
 *
 * Algorithm, per neuron and batch (all O(n), independent of the bin counts):
 *
 *  1. Grouping. The samples are grouped into the occupied joint cells, and the
 *     joint cells into the occupied marginal cells of every proper source
 *     subset B (masks 1..6 for k = 3, 1..2 for k = 2); per group we keep the
 *     mass with T = +1 and with T = -1 (q, interleaved). Joint cells
 *     are keyed by their bins, a single source by its bin, a composite subset
 *     B = lo | hi by (group of lo, group of hi), so that its key range is
 *     bounded by numbers of groups, not of bins. Keys map to groups through a
 *     direct-address table (allocated once, all -1, reset after use by walking
 *     the groups just made) or, when the key range is too large for that, an
 *     open-addressing hash table with the same reset.
 *
 *  2. Forward. With W the total mass and logs in base 2,
 *        I_sx(alpha) = H(T) + (1/W) sum_s sum_t p(s,t) [log u(s,t) - log v(s)]
 *     where u = sum_B coef_B q_B(s_B, t) is the inclusion-exclusion sum of
 *     the antichain (coefficients of equal unions merged) and v = u(+) + u(-).
 *     u and v depend on s only through s_U, U the union of the antichain's
 *     collections, so the sum runs over the groups of U with the group's mass
 *     for p: {F}{C} over the (F, C) cells, {F} over the F bins, and only the
 *     antichains with U = all sources over the joint cells.
 *     Atoms Pi = M I, H_res = H(T) - I_sx(top), 0 log 0 = 0.
 *
 *  3. Backward (section 4). c = M^T gamma, c_top -= gamma_res. Per cell,
 *        D(s) = sum_alpha c_alpha [log u(s,+) - log u(s,-)]
 *             + (1/ln 2) sum_B A_B(s_B)
 *             - (sum_alpha c_alpha + gamma_res) [log P_T(+) - log P_T(-)]
 *     with the adjoint A_B(s_B) = sum_alpha c_alpha coef_B sum_{s in s_B} (R(s,+) - R(s,-)),
 *     R = p / u, again summed per group of U. Each group of each subset B
 *     collects its share of D (dg[B]); D(s) adds them up over the subsets of
 *     s. dG/dtheta_j = D(s_j) / N; it is infinite where theta = 0 or 1 leaves
 *     a needed mass at 0.
 *
 * For unit sample weights (im_pid_neuron) every v is a count, so its log
 * comes from a table of log2(0..n_max); only the u's need log2() calls (2 per
 * antichain and group), and they dominate the cost.
 *
 * Workload: the hidden layer of the paper (k = 3, 20 bins, batch 1024) has a
 * few hundred occupied joint cells per neuron; a neuron then takes about
 * 0.1 ms with the gradient (tests/bench/bench_pid.c). Workspace memory is
 * O(n_max) plus the direct tables (at most 4 MiB each).
 */
#include "pid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_MAX    8                   /* source subsets are the masks 1..7 */
#define DIRECT_MAX ((uint64_t)1 << 20) /* largest direct-address table, entries */
#define LN2        0.69314718055994530942
#define CHUNK      64 /* groups per chunk in eval_union */

/* One antichain, evaluated on the groups of the union U of its collections. */
typedef struct pid_plan {
    int a;                /* antichain index */
    int n_terms;          /* inclusion-exclusion terms, equal unions merged */
    uint8_t sub[SUB_MAX]; /* [n_terms] union B(beta), a submask of U */
    double coef[SUB_MAX]; /* [n_terms] sum of (-1)^(|beta|+1) over the betas with that union */
} pid_plan;

struct im_pid {
    im_lattice lat;
    int k, full, n_max; /* full = the mask of all sources */
    int bins[IM_MAX_SOURCES];

    /* the antichains by the union U of their collections ("plans" of U), and
     * the same terms as a dense matrix: ct[U][b][i] is the coefficient of
     * plan i on the submask subof[U][b] (0 if none) */
    int n_plan[SUB_MAX];
    pid_plan plan[SUB_MAX][IM_MAX_ANTICHAINS];
    int n_subof[SUB_MAX];
    uint8_t subof[SUB_MAX][SUB_MAX];                /* non-empty submasks of U */
    double ct[SUB_MAX][SUB_MAX][IM_MAX_ANTICHAINS]; /* [U][b][plan], b indexes subof[U] */

    /* grouping, per subset mask B */
    int lo[SUB_MAX], hi[SUB_MAX]; /* composite B = lo | hi, hi a single source */
    int hbits[SUB_MAX];           /* 0: direct table; else log2 of the hash size */
    int32_t *table[SUB_MAX];      /* direct [key range] or hash values [1 << hbits]; -1 = empty */
    uint64_t *hkey[SUB_MAX];      /* hash keys [1 << hbits], NULL for direct */
    int m[SUB_MAX];               /* number of groups in the current call */
    int32_t *gcell[SUB_MAX];      /* [n_max] group of B of each joint cell */
    int32_t *repc[SUB_MAX];       /* [n_max] first joint cell of each group */
    double *q[SUB_MAX];           /* [n_max][2] mass per group with T = +1, T = -1 */
    double *dg[SUB_MAX];          /* [n_max] D contribution per group */
    int32_t *cell;                /* [n_max] joint cell of each sample */
    uint16_t *cbin;               /* [k][n_max] bins of each joint cell */
    uint64_t *slot;               /* [n_max] table slot of each group */
    double *dcell;                /* [n_max] D per joint cell */
    double *lg;                   /* [n_max + 1] log2 of 0..n_max */
    double *buf; /* [5][CHUNK][IM_MAX_ANTICHAINS]: u(+-), their logs, log v (eval_union) */
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

/* A direct table of range entries, or a hash table for 2 * n_max keys. */
static void alloc_table(im_pid *w, int B, uint64_t range)
{
    size_t size;
    if (range <= DIRECT_MAX) {
        size = (size_t)range;
    } else {
        int hb = 4;
        while ((1ull << hb) < 2 * (uint64_t)w->n_max) hb++;
        w->hbits[B] = hb;
        size = (size_t)1 << hb;
        w->hkey[B] = im_xmalloc_array(size, sizeof(uint64_t));
    }
    w->table[B] = im_xmalloc_array(size, sizeof(int32_t));
    memset(w->table[B], 0xff, size * sizeof(int32_t));
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
        const int mc = lat->n_coll[a];
        double coef[SUB_MAX] = {0};
        unsigned all = 0;
        for (unsigned beta = 1; beta < (1u << mc); beta++) {
            unsigned u = 0;
            for (int j = 0; j < mc; j++)
                if (beta & (1u << j)) u |= lat->coll[a][j];
            coef[u] += popcount(beta) % 2 ? 1.0 : -1.0;
            all |= u;
        }
        pid_plan *p = &w->plan[all][w->n_plan[all]++];
        p->a = a;
        for (int B = 1; B <= w->full; B++)
            if (coef[B] != 0.0) {
                p->sub[p->n_terms] = (uint8_t)B;
                p->coef[p->n_terms] = coef[B];
                p->n_terms++;
            }
    }
    for (int U = 1; U <= w->full; U++) {
        for (int B = 1; B <= U; B++)
            if ((B & U) == B) w->subof[U][w->n_subof[U]++] = (uint8_t)B;
        for (int i = 0; i < w->n_plan[U]; i++)
            for (int t = 0; t < w->plan[U][i].n_terms; t++)
                for (int b = 0; b < w->n_subof[U]; b++)
                    if (w->subof[U][b] == w->plan[U][i].sub[t])
                        w->ct[U][b][i] = w->plan[U][i].coef[t];
    }

    /* grouping tables. The joint cells are keyed by the bins; a proper subset
     * by its bin (one source) or by the groups of lo and hi, so at most
     * mmax[B] = min(n_max, prod bins of B) groups each */
    uint64_t mmax[SUB_MAX] = {0}, prod = 1;
    size_t nm = (size_t)n_max;
    for (int i = 0; i < k; i++) prod = sat_mul(prod, (uint64_t)bins[i]);
    for (int B = 1; B <= w->full; B++) {
        uint64_t range;
        if (B == w->full) {
            range = prod;
        } else if (popcount((unsigned)B) == 1) {
            range = (uint64_t)bins[lowest_bit((unsigned)B)];
        } else {
            int hi = 31 - __builtin_clz((unsigned)B);
            w->hi[B] = 1 << hi;
            w->lo[B] = B & ~(1 << hi);
            range = sat_mul(mmax[w->lo[B]], mmax[w->hi[B]]);
        }
        mmax[B] = min_u64(range, (uint64_t)n_max);
        alloc_table(w, B, range);
        w->gcell[B] = im_xmalloc_array(nm, sizeof(int32_t));
        w->repc[B] = im_xmalloc_array(nm, sizeof(int32_t));
        w->q[B] = im_xmalloc_array(2 * nm, sizeof(double));
        w->dg[B] = im_xmalloc_array(nm, sizeof(double));
    }
    w->cell = im_xmalloc_array(nm, sizeof(int32_t));
    w->cbin = im_xmalloc_array(nm * (size_t)k, sizeof(uint16_t));
    w->slot = im_xmalloc_array(nm, sizeof(uint64_t));
    w->dcell = im_xmalloc_array(nm, sizeof(double));
    w->lg = im_xmalloc_array(nm + 1, sizeof(double));
    w->buf = im_xmalloc_array(5 * CHUNK * IM_MAX_ANTICHAINS, sizeof(double));
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
        free(w->gcell[B]);
        free(w->repc[B]);
        free(w->q[B]);
        free(w->dg[B]);
    }
    free(w->cell);
    free(w->cbin);
    free(w->slot);
    free(w->dcell);
    free(w->lg);
    free(w->buf);
    free(w);
    *pw = NULL;
}

const im_lattice *im_pid_lattice(const im_pid *w)
{
    return &w->lat;
}

/* Slot of key in subset B's table (direct, or hashed with linear probing;
 * a hashed key is stored in its slot). */
static inline uint64_t table_slot(const im_pid *w, int B, uint64_t key)
{
    const int hb = w->hbits[B];
    if (!hb) return key;
    const uint64_t mask = (1ull << hb) - 1;
    uint64_t s = (key * 0x9E3779B97F4A7C15ull) >> (64 - hb);
    while (w->table[B][s] >= 0 && w->hkey[B][s] != key) s = (s + 1) & mask;
    w->hkey[B][s] = key;
    return s;
}

/*
 * Step 1a: the samples into joint cells (the groups of the full set), with
 * their masses. Unit weights when tm is NULL (tp = theta, mass of T = -1 is
 * 1 - theta); otherwise sample j has masses tp[j] (T = +1) and tm[j] (T = -1).
 */
static void group_samples(im_pid *w, int n, const uint16_t *bins, const double *tp,
                          const double *tm)
{
    const int B = w->full, k = w->k;
    int32_t *restrict tab = w->table[B], *restrict cell = w->cell;
    int32_t *restrict gc = w->gcell[B], *restrict rc = w->repc[B];
    double *restrict q = w->q[B];
    double *restrict dg = w->dg[B];
    const uint16_t *b0 = bins, *b1 = bins + n, *b2 = k == 3 ? bins + 2 * (size_t)n : NULL;
    const uint64_t n1 = (uint64_t)w->bins[1], n2 = k == 3 ? (uint64_t)w->bins[2] : 1;
    const size_t nm = (size_t)w->n_max;
    /* Branch-free insertion: about half of the samples open a new cell, at
     * random, so a branch there would mispredict; the writes at index m are
     * overwritten by the next new group when the sample's group exists. */
    memset(q, 0, 2 * (size_t)n * sizeof(double));
    int m = 0;
    for (int j = 0; j < n; j++) {
        uint64_t key = ((uint64_t)b0[j] * n1 + b1[j]) * n2 + (b2 ? b2[j] : 0);
        uint64_t s = table_slot(w, B, key);
        int32_t g = tab[s];
        const int fresh = g < 0;
        g = fresh ? m : g;
        tab[s] = g;
        w->slot[m] = s;
        for (int i = 0; i < k; i++) w->cbin[(size_t)i * nm + (size_t)m] = bins[(size_t)i * n + j];
        m += fresh;
        cell[j] = g;
        if (tm) {
            q[2 * g] += tp[j];
            q[2 * g + 1] += tm[j];
        } else {
            q[2 * g] += tp[j];
            q[2 * g + 1] += 1.0 - tp[j];
        }
    }
    for (int g = 0; g < m; g++) {
        gc[g] = rc[g] = g;
        dg[g] = 0.0;
    }
    for (int g = 0; g < m; g++) tab[w->slot[g]] = -1;
    w->m[B] = m;
}

/* Step 1b: the joint cells into the groups of a proper subset B, with masses. */
static void group_cells(im_pid *w, int B)
{
    const int F = w->full, mc = w->m[F];
    int32_t *restrict tab = w->table[B], *restrict gc = w->gcell[B], *restrict rc = w->repc[B];
    double *restrict q = w->q[B];
    double *restrict dg = w->dg[B];
    const double *cq = w->q[F];
    const int single = popcount((unsigned)B) == 1;
    const uint16_t *cb =
        single ? w->cbin + (size_t)lowest_bit((unsigned)B) * (size_t)w->n_max : NULL;
    const int32_t *glo = single ? NULL : w->gcell[w->lo[B]];
    const int32_t *ghi = single ? NULL : w->gcell[w->hi[B]];
    const uint64_t mhi = single ? 0 : (uint64_t)w->m[w->hi[B]];
    /* branch-free insertion, as in group_samples */
    memset(q, 0, 2 * (size_t)mc * sizeof(double));
    memset(dg, 0, (size_t)mc * sizeof(double));
    int m = 0;
    for (int c = 0; c < mc; c++) {
        uint64_t key = single ? cb[c] : (uint64_t)glo[c] * mhi + (uint64_t)ghi[c];
        uint64_t s = table_slot(w, B, key);
        int32_t g = tab[s];
        const int fresh = g < 0;
        g = fresh ? m : g;
        tab[s] = g;
        w->slot[m] = s;
        rc[m] = c;
        m += fresh;
        gc[c] = g;
        q[2 * g] += cq[2 * c];
        q[2 * g + 1] += cq[2 * c + 1];
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
 * Steps 2 and 3 for the antichains whose collections unite to U, over the
 * groups of U: adds sum p (log u - log v) to acc[a], and with c non-NULL the
 * D contributions (log ratio and adjoint) to dg of U and of its submasks.
 * Works in chunks of CHUNK groups: the u's first, then all their logs in one
 * tight loop (log2 is the dominant cost; nothing is live across the calls),
 * then the sums.
 */
static void eval_union(im_pid *w, int U, int weighted, const double *c, double *acc)
{
    const int np = w->n_plan[U], ns = w->n_subof[U], mu = w->m[U];
    const pid_plan *plan = w->plan[U];
    int self = -1; /* the plan of the antichain {U} */
    for (int i = 0; i < np; i++)
        if (plan[i].n_terms == 1 && plan[i].sub[0] == U) self = i;
    const uint8_t *subs = w->subof[U];
    const int32_t *rep = w->repc[U];
    const double *qu = w->q[U];
    double *restrict ub = w->buf, *restrict lb = w->buf + 2 * CHUNK * IM_MAX_ANTICHAINS;
    double *restrict lvb = w->buf + 4 * CHUNK * IM_MAX_ANTICHAINS;
    double cp[IM_MAX_ANTICHAINS], cr[IM_MAX_ANTICHAINS], accl[IM_MAX_ANTICHAINS] = {0};
    for (int i = 0; i < np; i++) {
        cp[i] = c ? c[plan[i].a] : 0.0;
        cr[i] = cp[i] / LN2;
    }
    for (int g0 = 0; g0 < mu; g0 += CHUNK) {
        const int gn = mu - g0 < CHUNK ? mu - g0 : CHUNK;
        /* u(+), u(-) interleaved in ub, v in lvb: [gn][np] */
        for (int g = 0; g < gn; g++) {
            const int rc = rep[g0 + g];
            double x[SUB_MAX][2];
            for (int b = 0; b < ns; b++) {
                const int B = subs[b];
                const int32_t h = w->gcell[B][rc];
                x[B][0] = w->q[B][2 * h];
                x[B][1] = w->q[B][2 * h + 1];
            }
            for (int i = 0; i < np; i++) {
                const pid_plan *p = &plan[i];
                double up = 0.0, um = 0.0;
                for (int t = 0; t < p->n_terms; t++) {
                    up += p->coef[t] * x[p->sub[t]][0];
                    um += p->coef[t] * x[p->sub[t]][1];
                }
                ub[2 * (g * np + i)] = up;
                ub[2 * (g * np + i) + 1] = um;
                lvb[g * np + i] = up + um; /* v, its log below */
            }
        }
        for (int q = 0; q < 2 * gn * np; q++) lb[q] = log2(ub[q]);
        /* with unit weights v is a count (up to rounding far below 1/2) */
        if (weighted)
            for (int q = 0; q < gn * np; q++) lvb[q] = log2(lvb[q]);
        else
            for (int q = 0; q < gn * np; q++) lvb[q] = w->lg[(int)(lvb[q] + 0.5)];
        for (int g = 0; g < gn; g++) {
            const double pp = qu[2 * (g0 + g)], pm = qu[2 * (g0 + g) + 1];
            for (int i = 0; i < np; i++) {
                const int q = g * np + i;
                accl[i] += xlx(pp, lb[2 * q]) + xlx(pm, lb[2 * q + 1]) - (pp + pm) * lvb[q];
            }
        }
        if (!c) continue;
        for (int g = 0; g < gn; g++) {
            const double pp = qu[2 * (g0 + g)], pm = qu[2 * (g0 + g) + 1];
            double direct = 0.0, dr[IM_MAX_ANTICHAINS];
            for (int i = 0; i < np; i++) {
                const int q = g * np + i;
                dr[i] = 0.0;
                if (cp[i] == 0.0) continue;
                direct += cp[i] * (lb[2 * q] - lb[2 * q + 1]);
                const double up = ub[2 * q], um = ub[2 * q + 1];
                if (pp > 0.0 && pm > 0.0) {
                    /* pp/up - pm/um with one division; 0 for {U} itself (u = p) */
                    if (i != self) dr[i] = cr[i] * (pp * um - pm * up) / (up * um);
                } else {
                    dr[i] = cr[i] * ((pp > 0.0 ? pp / up : 0.0) - (pm > 0.0 ? pm / um : 0.0));
                }
            }
            w->dg[U][g0 + g] += direct;
            const int rc = rep[g0 + g];
            for (int b = 0; b < ns; b++) {
                const int B = subs[b];
                const double *ct = w->ct[U][b];
                double sum = 0.0;
                for (int i = 0; i < np; i++) sum += ct[i] * dr[i];
                w->dg[B][w->gcell[B][rc]] += sum;
            }
        }
    }
    for (int i = 0; i < np; i++) acc[plan[i].a] += accl[i];
}

/*
 * The whole evaluation on the samples (bins [k][n], masses as in
 * group_samples). terms [n_terms] and goal may be NULL; goal and the gradient
 * need gamma. With want_grad, dcell[c] ends up holding D for each joint cell.
 * Returns 0 or IM_ENUMERIC.
 */
static int pid_eval(im_pid *w, int n, const uint16_t *bins, const double *tp, const double *tm,
                    const double *gamma, double *terms, double *goal, int want_grad, im_error *err)
{
    const im_lattice *lat = &w->lat;
    const int full = w->full, na = lat->n, top = na - 1;
    group_samples(w, n, bins, tp, tm);
    for (int B = 1; B < full; B++) group_cells(w, B);

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
        ptp += w->q[1][2 * g];
        ptm += w->q[1][2 * g + 1];
    }
    const double wt = ptp + ptm;
    const double lptp = log2(ptp), lptm = log2(ptm);
    const double h_t = log2(wt) - (xlx(ptp, lptp) + xlx(ptm, lptm)) / wt;

    double acc[IM_MAX_ANTICHAINS] = {0}; /* sum p (log u - log v), per antichain */
    for (int U = 1; U <= full; U++) eval_union(w, U, tm != NULL, want_grad ? c : NULL, acc);

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

    double csum = gres;
    for (int a = 0; a < na; a++) csum += c[a];
    const double kconst = -csum * (lptp - lptm);
    const int mc = w->m[full];
    for (int cell = 0; cell < mc; cell++) {
        double d = kconst + w->dg[full][cell];
        for (int B = 1; B < full; B++) d += w->dg[B][w->gcell[B][cell]];
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
    int bad_theta = 0; /* a flag first: this loop vectorises, the search below does not */
    for (int j = 0; j < n; j++) bad_theta |= !(theta[j] >= 0.0 && theta[j] <= 1.0);
    if (bad_theta)
        for (int j = 0; j < n; j++)
            if (!(theta[j] >= 0.0 && theta[j] <= 1.0))
                return im_error_set(err, IM_ERANGE, "pid: sample %d: theta %g outside [0, 1]", j,
                                    theta[j]);
    int rc = pid_eval(w, n, bins, theta, NULL, gamma, terms, goal, dtheta != NULL, err);
    if (rc != 0 || !dtheta) return rc;
    const int32_t *cell = w->cell;
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
        for (j = 0; j < occupied; j++) dcell[where[j]] = w->dcell[w->cell[j]];
    }
    free(bins);
    free(tp);
    free(tm);
    free(where);
    im_pid_free(&w);
    return rc;
}
