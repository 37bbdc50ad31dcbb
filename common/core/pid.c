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
 *     open-addressing hash table with the same reset. The keys are computed
 *     first, the masses summed after the insertion, each in its own loop.
 *
 *  2. Forward. With W the total mass and logs in base 2,
 *        I_sx(alpha) = H(T) + (1/W) sum_s sum_t p(s,t) [log u(s,t) - log v(s)]
 *     where u = sum_B coef_B q_B(s_B, t) is the inclusion-exclusion sum of
 *     the antichain (coefficients of equal unions merged) and v = u(+) + u(-).
 *     u and v depend on s only through s_U, U the union of the antichain's
 *     collections, so the sum runs over the groups of U with the group's mass
 *     for p: {F}{C} over the (F, C) cells, {F} over the F bins, and only the
 *     antichains with U = all sources over the joint cells. The groups of U
 *     are taken CHUNK at a time, one lane each, and every step (gather the
 *     q's, the u's, their logs, the sums, the gradient below) is a loop over
 *     the lanes of contiguous rows, which the compiler vectorises.
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
 * antichain and group, about 12 500 per neuron below), and they take about
 * 40 % of the time.
 *
 * Workload: the hidden layer of the paper (k = 3, 20 bins, batch 1024). A
 * training batch occupies few joint cells per neuron: 8.5 at initialisation,
 * 10 to 35 as training goes on; a neuron then takes about 7 us with the
 * gradient, mostly the O(n) passes over the samples (keys, grouping, masses).
 * Drawn correlated input (about 580 cells) is the stress case: about 90 us
 * for the atoms and 110 us with the gradient (tests/bench/bench_pid.c).
 * Workspace memory is O(n_max) plus the direct tables (at most 4 MiB each).
 */
#include "pid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_MAX    8                   /* source subsets are the masks 1..7 */
#define DIRECT_MAX ((uint64_t)1 << 20) /* largest direct-address table, entries */
#define LN2        0.69314718055994530942
#define CHUNK      64 /* groups per chunk in eval_union */

/* One antichain, evaluated on the groups of the union U of its collections.
 * The entries past n_terms are 0 (mask 0 and coefficient 0, a zero term). */
typedef struct pid_plan {
    int a;                /* antichain index */
    int n_terms;          /* inclusion-exclusion terms, equal unions merged */
    uint8_t sub[SUB_MAX]; /* [n_terms] union B(beta), a submask of U */
    double coef[SUB_MAX]; /* [n_terms] sum of (-1)^(|beta|+1) over the betas with that union */
} pid_plan;

/* eval_union's buffers for one chunk of gn <= CHUNK groups of a union U, one
 * lane per group, so that every step is a loop over the lanes. Rows are gn
 * apart, so that x, u, lu and lv are contiguous arrays; the rows of x for
 * the empty mask 0 stay 0 (the padding terms of the plans). */
typedef struct pid_chunk {
    double x[SUB_MAX * 2 * CHUNK];            /* [B][t][gn] masses q_B(s_B, t), B a submask of U */
    int32_t h[SUB_MAX][CHUNK];                /* [b][gn] the group of subof[U][b] they come from */
    double u[IM_MAX_ANTICHAINS * 2 * CHUNK];  /* [plan][t][gn] u(s, t) */
    double lu[IM_MAX_ANTICHAINS * 2 * CHUNK]; /* [plan][t][gn] log2 u */
    double lv[IM_MAX_ANTICHAINS * CHUNK];     /* [plan][gn] log2 v */
    double sum[IM_MAX_ANTICHAINS][CHUNK];     /* [plan][CHUNK] running sum of p (log u - log v) */
    double dr[IM_MAX_ANTICHAINS][CHUNK];      /* [active plan][gn] R(s, +) - R(s, -) */
    double adj[SUB_MAX][CHUNK];               /* [b][gn] D contribution of each group of B */
} pid_chunk;

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
    int32_t *first;               /* [n_max] first sample of each joint cell */
    uint64_t *key;                /* [n_max] grouping key of each sample or joint cell */
    uint16_t *cbin;               /* [k][n_max] bins of each joint cell */
    uint64_t *slot;               /* [n_max] table slot of each group */
    double *dcell;                /* [n_max] D per joint cell */
    double *lg;                   /* [n_max + 1] log2 of 0..n_max */
    pid_chunk *chunk;             /* eval_union's buffers */
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

/* A direct table of range entries, or a hash table for 2 * n_max keys.
 * Returns 0, or IM_ENOMEM (what was allocated stays for im_pid_free). */
static int alloc_table(im_pid *w, int B, uint64_t range)
{
    size_t size;
    if (range <= DIRECT_MAX) {
        size = (size_t)range;
    } else {
        int hb = 4;
        while ((1ull << hb) < 2 * (uint64_t)w->n_max) hb++;
        w->hbits[B] = hb;
        size = (size_t)1 << hb;
        w->hkey[B] = im_try_malloc_array(size, sizeof(uint64_t));
        if (!w->hkey[B]) return IM_ENOMEM;
    }
    w->table[B] = im_try_malloc_array(size, sizeof(int32_t));
    if (!w->table[B]) return IM_ENOMEM;
    memset(w->table[B], 0xff, size * sizeof(int32_t));
    return 0;
}

/* The plans: per antichain, inclusion-exclusion over its non-empty
 * sub-collections beta, (-1)^(|beta|+1), merged by the union B(beta); the
 * antichain goes to the plans of the union of all its collections. Then per
 * union U its non-empty submasks and the dense coefficients ct[U]. */
static void make_plans(im_pid *w)
{
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
}

/* The grouping tables and the per-group and per-sample buffers. The joint
 * cells are keyed by the bins; a proper subset by its bin (one source) or by
 * the groups of lo and hi, so at most mmax[B] = min(n_max, prod bins of B)
 * groups each. Returns 0, or IM_ENOMEM (what was allocated stays for
 * im_pid_free). */
static int alloc_buffers(im_pid *w)
{
    uint64_t mmax[SUB_MAX] = {0}, prod = 1;
    size_t nm = (size_t)w->n_max;
    for (int i = 0; i < w->k; i++) prod = sat_mul(prod, (uint64_t)w->bins[i]);
    for (int B = 1; B <= w->full; B++) {
        uint64_t range;
        if (B == w->full) {
            range = prod;
        } else if (popcount((unsigned)B) == 1) {
            range = (uint64_t)w->bins[lowest_bit((unsigned)B)];
        } else {
            int hi = 31 - __builtin_clz((unsigned)B);
            w->hi[B] = 1 << hi;
            w->lo[B] = B & ~(1 << hi);
            range = sat_mul(mmax[w->lo[B]], mmax[w->hi[B]]);
        }
        mmax[B] = min_u64(range, (uint64_t)w->n_max);
        if (alloc_table(w, B, range)) return IM_ENOMEM;
        w->gcell[B] = im_try_malloc_array(nm, sizeof(int32_t));
        w->repc[B] = im_try_malloc_array(nm, sizeof(int32_t));
        w->q[B] = im_try_malloc_array(2 * nm, sizeof(double));
        w->dg[B] = im_try_malloc_array(nm, sizeof(double));
        if (!w->gcell[B] || !w->repc[B] || !w->q[B] || !w->dg[B]) return IM_ENOMEM;
    }
    w->cell = im_try_malloc_array(nm, sizeof(int32_t));
    w->first = im_try_malloc_array(nm, sizeof(int32_t));
    w->key = im_try_malloc_array(nm, sizeof(uint64_t));
    w->cbin = im_try_malloc_array(nm * (size_t)w->k, sizeof(uint16_t));
    w->slot = im_try_malloc_array(nm, sizeof(uint64_t));
    w->dcell = im_try_malloc_array(nm, sizeof(double));
    w->lg = im_try_malloc_array(nm + 1, sizeof(double));
    w->chunk = im_try_calloc(1, sizeof(pid_chunk)); /* the rows of x for mask 0 stay 0 */
    if (!w->cell || !w->first || !w->key || !w->cbin || !w->slot || !w->dcell || !w->lg ||
        !w->chunk)
        return IM_ENOMEM;
    w->lg[0] = 0.0; /* only ever multiplied by a zero mass */
    for (size_t i = 1; i <= nm; i++) w->lg[i] = log2((double)i);
    return 0;
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
    im_pid *w = im_try_calloc(1, sizeof *w);
    if (!w) {
        im_error_set(err, IM_ENOMEM, "pid: out of memory for the workspace");
        return NULL;
    }
    if (im_lattice_init(&w->lat, k, err) != 0) {
        free(w);
        return NULL;
    }
    w->k = k;
    w->full = (1 << k) - 1;
    w->n_max = n_max;
    for (int i = 0; i < k; i++) w->bins[i] = bins[i];
    make_plans(w);
    if (alloc_buffers(w)) {
        im_pid_free(&w);
        im_error_set(err, IM_ENOMEM, "pid: out of memory for the workspace of batch %d", n_max);
        return NULL;
    }
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
    free(w->first);
    free(w->key);
    free(w->cbin);
    free(w->slot);
    free(w->dcell);
    free(w->lg);
    free(w->chunk);
    free(w);
    *pw = NULL;
}

const im_lattice *im_pid_lattice(const im_pid *w)
{
    return &w->lat;
}

/*
 * The distinct keys among key[0..n) through subset B's table, in order of
 * first appearance: grp[j] is item j's group, first[g] group g's first item.
 * Returns the number of groups and leaves the table empty. few: the caller
 * expects few groups for many items (see group_samples); both ways give the
 * same groups.
 */
static int group_keys(im_pid *w, int B, int n, const uint64_t *restrict key, int32_t *restrict grp,
                      int32_t *restrict first, int few)
{
    int32_t *restrict tab = w->table[B];
    uint64_t *restrict hkey = w->hkey[B], *restrict slot = w->slot;
    const int hb = w->hbits[B];
    const uint64_t mask = hb ? (1ull << hb) - 1 : 0;
    int m = 0;
    if (few && !hb) {
        /* Few groups (a training batch: 10 to 35 joint cells for 1024
         * samples): new groups are rare, so the branch predicts well, and
         * an existing group is only read, which keeps the items independent
         * instead of chaining them through a store and a reload of the same
         * slot. */
        for (int j = 0; j < n; j++) {
            const uint64_t s = key[j];
            int32_t g = tab[s];
            if (g < 0) {
                g = m++;
                tab[s] = g;
                slot[g] = s;
                first[g] = j;
            }
            grp[j] = g;
        }
        for (int g = 0; g < m; g++) tab[slot[g]] = -1;
        return m;
    }
    /* Branch-free insertion: with many groups about half of the items open a
     * new group, at random, so a branch there would mispredict; the writes at
     * index m are overwritten by the next new group when the item's group
     * exists. */
    for (int j = 0; j < n; j++) {
        uint64_t s = key[j];
        if (hb) { /* hashed, linear probing; the key is stored in its slot */
            s = (key[j] * 0x9E3779B97F4A7C15ull) >> (64 - hb);
            while (tab[s] >= 0 && hkey[s] != key[j]) s = (s + 1) & mask;
            hkey[s] = key[j];
        }
        int32_t g = tab[s];
        const int32_t fresh = g < 0;
        g ^= (g ^ m) & -fresh; /* g < 0 ? m : g, as arithmetic: compilers turn ?: into a branch */
        tab[s] = g;
        slot[m] = s;
        first[m] = j;
        m += fresh;
        grp[j] = g;
    }
    for (int g = 0; g < m; g++) tab[slot[g]] = -1;
    return m;
}

/*
 * Step 1a: the samples into joint cells (the groups of the full set), with
 * their masses. Unit weights when tm is NULL (tp = theta, mass of T = -1 is
 * 1 - theta); otherwise sample j has masses tp[j] (T = +1) and tm[j] (T = -1).
 */
static void group_samples(im_pid *w, int n, const uint16_t *bins, const double *tp,
                          const double *tm)
{
    const int F = w->full, k = w->k;
    const size_t nm = (size_t)w->n_max;
    uint64_t *restrict key = w->key;
    int32_t *restrict cell = w->cell, *restrict first = w->first;
    int32_t *restrict gc = w->gcell[F], *restrict rc = w->repc[F];
    double *restrict q = w->q[F];
    const uint16_t *b0 = bins, *b1 = bins + n, *b2 = bins + 2 * (size_t)n;
    const uint64_t n1 = (uint64_t)w->bins[1];
    if (k == 3) {
        const uint64_t n2 = (uint64_t)w->bins[2];
        for (int j = 0; j < n; j++) key[j] = ((uint64_t)b0[j] * n1 + b1[j]) * n2 + b2[j];
    } else {
        for (int j = 0; j < n; j++) key[j] = (uint64_t)b0[j] * n1 + b1[j];
    }
    /* few groups if the previous call of this workspace (the previous neuron
     * of the layer) had few */
    const int m = group_keys(w, F, n, key, cell, first, w->m[F] <= n / 8);
    for (int i = 0; i < k; i++)
        for (int g = 0; g < m; g++)
            w->cbin[(size_t)i * nm + (size_t)g] = bins[(size_t)i * n + (size_t)first[g]];
    for (int g = 0; g < m; g++) gc[g] = rc[g] = g;
    memset(q, 0, 2 * (size_t)m * sizeof(double));
    memset(w->dg[F], 0, (size_t)m * sizeof(double));
    if (tm)
        for (int j = 0; j < n; j++) {
            q[2 * cell[j]] += tp[j];
            q[2 * cell[j] + 1] += tm[j];
        }
    else
        for (int j = 0; j < n; j++) {
            q[2 * cell[j]] += tp[j];
            q[2 * cell[j] + 1] += 1.0 - tp[j];
        }
    w->m[F] = m;
}

/* Step 1b: the joint cells into the groups of a proper subset B, with masses. */
static void group_cells(im_pid *w, int B)
{
    const int F = w->full, mc = w->m[F];
    uint64_t *restrict key = w->key;
    int32_t *restrict gc = w->gcell[B];
    double *restrict q = w->q[B];
    const double *restrict cq = w->q[F];
    if (popcount((unsigned)B) == 1) {
        const uint16_t *cb = w->cbin + (size_t)lowest_bit((unsigned)B) * (size_t)w->n_max;
        for (int c = 0; c < mc; c++) key[c] = cb[c];
    } else {
        const int32_t *glo = w->gcell[w->lo[B]], *ghi = w->gcell[w->hi[B]];
        const uint64_t mhi = (uint64_t)w->m[w->hi[B]];
        for (int c = 0; c < mc; c++) key[c] = (uint64_t)glo[c] * mhi + (uint64_t)ghi[c];
    }
    const int m = group_keys(w, B, mc, key, gc, w->repc[B], 0);
    memset(q, 0, 2 * (size_t)m * sizeof(double));
    memset(w->dg[B], 0, (size_t)m * sizeof(double));
    for (int c = 0; c < mc; c++) {
        q[2 * gc[c]] += cq[2 * c];
        q[2 * gc[c] + 1] += cq[2 * c + 1];
    }
    w->m[B] = m;
}

/* x log2 x with 0 log 0 = 0, given lx = log2 x */
static inline double xlx(double x, double lx)
{
    return x * (x > 0.0 ? lx : 0.0); /* a select, not a branch: loops over it vectorise */
}

/* The gradient's plans of U, those with c != 0: act[j] is the plan of active
 * plan j, cp[j] its c, and ca[b][j] = ct * c / ln 2 its adjoint coefficient
 * on submask b. Returns their number. */
static int active_plans(const im_pid *w, int U, const double *c, int *act, double *cp,
                        double ca[SUB_MAX][IM_MAX_ANTICHAINS])
{
    int na = 0;
    for (int i = 0; i < w->n_plan[U]; i++)
        if (c[w->plan[U][i].a] != 0.0) {
            cp[na] = c[w->plan[U][i].a];
            for (int b = 0; b < w->n_subof[U]; b++) ca[b][na] = w->ct[U][b][i] * (cp[na] / LN2);
            act[na++] = i;
        }
    return na;
}

/* Gather the masses of the groups g0..g0+gn of U for every submask B of U
 * into the chunk (x, and h: the group of B each lane comes from). */
static void chunk_gather(im_pid *w, int U, int g0, int gn)
{
    const int32_t *rep = w->repc[U];
    pid_chunk *restrict ck = w->chunk;
    for (int b = 0; b < w->n_subof[U]; b++) {
        const int B = w->subof[U][b];
        const int32_t *restrict gc = w->gcell[B];
        const double *restrict q = w->q[B];
        double *restrict xp = ck->x + 2 * B * gn, *restrict xm = xp + gn;
        for (int g = 0; g < gn; g++) {
            const int32_t h = gc[rep[g0 + g]];
            ck->h[b][g] = h;
            xp[g] = q[2 * h];
            xm[g] = q[2 * h + 1];
        }
    }
}

/* Step 2 on a chunk: u = sum_B coef_B q_B over the terms in plan order, four
 * at a time (padded with zero terms, which leave the sums as they are), all
 * the logs of u in one loop (the dominant cost), log v, and the running sums
 * of p (log u - log v) per plan. */
static void chunk_forward(im_pid *w, int U, int gn, int weighted)
{
    const int np = w->n_plan[U];
    const pid_plan *plan = w->plan[U];
    pid_chunk *restrict ck = w->chunk;
    for (int i = 0; i < np; i++) {
        const pid_plan *p = &plan[i];
        double *restrict u = ck->u + 2 * i * gn;
        for (int j = 0; j < p->n_terms; j += 4) {
            const double *restrict x0 = ck->x + 2 * p->sub[j] * gn;
            const double *restrict x1 = ck->x + 2 * p->sub[j + 1] * gn;
            const double *restrict x2 = ck->x + 2 * p->sub[j + 2] * gn;
            const double *restrict x3 = ck->x + 2 * p->sub[j + 3] * gn;
            const double c0 = p->coef[j], c1 = p->coef[j + 1], c2 = p->coef[j + 2],
                         c3 = p->coef[j + 3];
            if (j == 0)
                for (int q = 0; q < 2 * gn; q++)
                    u[q] = c0 * x0[q] + c1 * x1[q] + c2 * x2[q] + c3 * x3[q];
            else
                for (int q = 0; q < 2 * gn; q++)
                    u[q] = u[q] + c0 * x0[q] + c1 * x1[q] + c2 * x2[q] + c3 * x3[q];
        }
    }
    /* all the logs in one loop: the dominant cost */
    for (int q = 0; q < 2 * np * gn; q++) ck->lu[q] = log2(ck->u[q]);
    /* v = u(+) + u(-); with unit weights a count (up to rounding far below 1/2) */
    for (int i = 0; i < np; i++) {
        const double *restrict up = ck->u + 2 * i * gn, *restrict um = up + gn;
        double *restrict lv = ck->lv + i * gn;
        if (weighted)
            for (int g = 0; g < gn; g++) lv[g] = log2(up[g] + um[g]);
        else
            for (int g = 0; g < gn; g++) lv[g] = w->lg[(int)(up[g] + um[g] + 0.5)];
    }
    const double *restrict pp = ck->x + 2 * U * gn, *restrict pm = pp + gn;
    for (int i = 0; i < np; i++) {
        const double *restrict lp = ck->lu + 2 * i * gn, *restrict lm = lp + gn;
        const double *restrict lv = ck->lv + i * gn;
        double *restrict sum = ck->sum[i];
        for (int g = 0; g < gn; g++)
            sum[g] += xlx(pp[g], lp[g]) + xlx(pm[g], lm[g]) - (pp[g] + pm[g]) * lv[g];
    }
}

/* Step 3 on a chunk, for the na active plans act[]: R(+) - R(-) per plan,
 * then the adjoint of each submask, plus the log ratio on U itself, into dg
 * of that submask. */
static void chunk_backward(im_pid *w, int U, int gn, int na, const int *act, const double *cp,
                           double ca[SUB_MAX][IM_MAX_ANTICHAINS])
{
    pid_chunk *restrict ck = w->chunk;
    const double *restrict pp = ck->x + 2 * U * gn, *restrict pm = pp + gn;
    /* R(+) - R(-) with one division ({U} itself, u = p, gets exactly 0) */
    for (int j = 0; j < na; j++) {
        const double *restrict up = ck->u + 2 * act[j] * gn, *restrict um = up + gn;
        double *restrict dr = ck->dr[j];
        for (int g = 0; g < gn; g++) dr[g] = (pp[g] * um[g] - pm[g] * up[g]) / (up[g] * um[g]);
    }
    /* where a mass p is 0 its R is 0, not the 0/0 above (theta 0 or 1) */
    int zero = 0;
    for (int g = 0; g < gn; g++) zero |= !(pp[g] > 0.0) | !(pm[g] > 0.0);
    if (zero)
        for (int g = 0; g < gn; g++) {
            if (pp[g] > 0.0 && pm[g] > 0.0) continue;
            for (int j = 0; j < na; j++) {
                const double up = ck->u[2 * act[j] * gn + g], um = ck->u[(2 * act[j] + 1) * gn + g];
                ck->dr[j][g] = (pp[g] > 0.0 ? pp[g] / up : 0.0) - (pm[g] > 0.0 ? pm[g] / um : 0.0);
            }
        }
    /* the adjoint of each submask, plus the log ratio on U itself, into dg */
    for (int b = 0; b < w->n_subof[U]; b++) {
        const int B = w->subof[U][b];
        double *restrict ad = ck->adj[b];
        for (int g = 0; g < gn; g++) ad[g] = 0.0;
        if (B == U)
            for (int j = 0; j < na; j++) {
                const double *restrict lp = ck->lu + 2 * act[j] * gn, *restrict lm = lp + gn;
                for (int g = 0; g < gn; g++) ad[g] += cp[j] * (lp[g] - lm[g]);
            }
        for (int j = 0; j < na; j++) {
            const double cj = ca[b][j], *restrict dr = ck->dr[j];
            if (cj == 0.0) continue;
            for (int g = 0; g < gn; g++) ad[g] += cj * dr[g];
        }
        double *restrict dg = w->dg[B];
        const int32_t *restrict h = ck->h[b];
        for (int g = 0; g < gn; g++) dg[h[g]] += ad[g];
    }
}

/*
 * Steps 2 and 3 for the antichains whose collections unite to U, over the
 * groups of U: adds sum p (log u - log v) to acc[a], and with c non-NULL the
 * D contributions (log ratio and adjoint) to dg of U and of its submasks.
 * Works in chunks of CHUNK groups, each step a loop over the groups of the
 * chunk (which the compiler vectorises): gather the masses, the u's, all their
 * logs in one tight loop (log2 is the dominant cost), then the sums.
 */
static void eval_union(im_pid *w, int U, int weighted, const double *c, double *acc)
{
    const int np = w->n_plan[U], mu = w->m[U];
    pid_chunk *restrict ck = w->chunk;
    int act[IM_MAX_ANTICHAINS], na = 0;
    double ca[SUB_MAX][IM_MAX_ANTICHAINS], cp[IM_MAX_ANTICHAINS];
    if (c) na = active_plans(w, U, c, act, cp, ca);
    for (int i = 0; i < np; i++)
        for (int g = 0; g < CHUNK; g++) ck->sum[i][g] = 0.0;
    for (int g0 = 0; g0 < mu; g0 += CHUNK) {
        const int gn = mu - g0 < CHUNK ? mu - g0 : CHUNK;
        chunk_gather(w, U, g0, gn);
        chunk_forward(w, U, gn, weighted);
        if (c) chunk_backward(w, U, gn, na, act, cp, ca);
    }
    for (int i = 0; i < np; i++) {
        double s = 0.0;
        for (int g = 0; g < CHUNK && g < mu; g++) s += ck->sum[i][g];
        acc[w->plan[U][i].a] += s;
    }
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
    /* a count first: this loop vectorises (a sum of doubles; an int flag
     * would not), the search below does not */
    double bad_theta = 0.0;
    for (int j = 0; j < n; j++) bad_theta += theta[j] >= 0.0 && theta[j] <= 1.0 ? 0.0 : 1.0;
    if (bad_theta > 0.0)
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
