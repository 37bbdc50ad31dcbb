/*
 * lattice.c: the redundancy lattice for k = 2 or 3 sources.
 *
 * The antichains are generated (every set of non-empty source collections in
 * which no collection contains another), named, and then put into the
 * canonical order, which is the order of the published goal vectors and is
 * given below as a list of short names. The partial order follows from the
 * definition, and the Moebius matrix is the inverse of the zeta matrix,
 * computed here by Gauss-Jordan elimination (the zeta matrix is unitriangular
 * in a linear extension of the order, so every pivot is 1 and the elimination
 * is exact on these small integers).
 */
#include "lattice.h"

#include <math.h>
#include <string.h>

static const char *const order2[] = {"f", "c", "f_c", "fc"};
static const char *const order3[] = {"f_c_l", "f_c",   "f_l", "c_l", "f_cl",     "c_fl",
                                     "l_fc",  "f",     "c",   "l",   "fc_fl_cl", "fc_fl",
                                     "fc_cl", "fl_cl", "fc",  "fl",  "cl",       "fcl"};

static int popcount3(unsigned m)
{
    return (int)(m & 1u) + (int)((m >> 1) & 1u) + (int)((m >> 2) & 1u);
}

/* Collections inside an antichain: smaller first, then by bitmask. */
static int coll_before(uint8_t a, uint8_t b)
{
    int pa = popcount3(a), pb = popcount3(b);
    return pa != pb ? pa < pb : a < b;
}

/* "f_cl" and "{F}{CL}" for the collections c[0..m). */
static void name_antichain(const uint8_t *c, int m, char *short_name, size_t short_size,
                           char *braced, size_t braced_size)
{
    static const char lower[] = "fcl", upper[] = "FCL";
    size_t s = 0, b = 0;
    for (int j = 0; j < m; j++) {
        if (j > 0 && s + 1 < short_size) short_name[s++] = '_';
        if (b + 1 < braced_size) braced[b++] = '{';
        for (int i = 0; i < IM_MAX_SOURCES; i++) {
            if (!(c[j] & (1u << i))) continue;
            if (s + 1 < short_size) short_name[s++] = lower[i];
            if (b + 1 < braced_size) braced[b++] = upper[i];
        }
        if (b + 1 < braced_size) braced[b++] = '}';
    }
    short_name[s] = '\0';
    braced[b] = '\0';
}

/* b <= a iff every collection of a contains some collection of b. */
static int antichain_leq(const im_lattice *lat, int b, int a)
{
    for (int i = 0; i < lat->n_coll[a]; i++) {
        int covered = 0;
        for (int j = 0; j < lat->n_coll[b]; j++)
            if ((lat->coll[b][j] & lat->coll[a][i]) == lat->coll[b][j]) covered = 1;
        if (!covered) return 0;
    }
    return 1;
}

/* Invert the n x n matrix a into inv by Gauss-Jordan with partial pivoting.
 * Returns 0, or -1 if a is singular. a is destroyed. */
static int invert(double a[IM_MAX_ANTICHAINS][IM_MAX_ANTICHAINS], int n,
                  double inv[IM_MAX_ANTICHAINS][IM_MAX_ANTICHAINS])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) inv[i][j] = i == j;
    for (int col = 0; col < n; col++) {
        int piv = col;
        for (int r = col + 1; r < n; r++)
            if (fabs(a[r][col]) > fabs(a[piv][col])) piv = r;
        if (a[piv][col] == 0.0) return -1;
        for (int j = 0; j < n; j++) {
            double t = a[col][j];
            a[col][j] = a[piv][j];
            a[piv][j] = t;
            t = inv[col][j];
            inv[col][j] = inv[piv][j];
            inv[piv][j] = t;
        }
        double d = a[col][col];
        for (int j = 0; j < n; j++) {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for (int r = 0; r < n; r++) {
            if (r == col || a[r][col] == 0.0) continue;
            double f = a[r][col];
            for (int j = 0; j < n; j++) {
                a[r][j] -= f * a[col][j];
                inv[r][j] -= f * inv[col][j];
            }
        }
    }
    return 0;
}

int im_lattice_init(im_lattice *lat, int k, im_error *err)
{
    if (k != 2 && k != 3)
        return im_error_set(err, IM_EINVAL, "lattice: %d sources (2 or 3 supported)", k);
    memset(lat, 0, sizeof *lat);
    lat->k = k;
    const char *const *order = k == 2 ? order2 : order3;
    const int n_expected = k == 2 ? 4 : 18;
    const unsigned n_colls = (1u << k) - 1; /* collections are the masks 1..n_colls */

    /* Generate: every non-empty set of collections (a bitmask over masks
     * 1..n_colls) in which no collection contains another. */
    int n = 0;
    for (unsigned set = 1; set < (1u << n_colls); set++) {
        uint8_t c[IM_MAX_SOURCES * 3];
        int m = 0, anti = 1;
        for (unsigned x = 1; x <= n_colls; x++)
            if (set & (1u << (x - 1))) c[m++] = (uint8_t)x;
        for (int i = 0; i < m && anti; i++)
            for (int j = 0; j < m && anti; j++)
                if (i != j && (c[i] & c[j]) == c[i]) anti = 0;
        if (!anti) continue;
        if (m > IM_MAX_SOURCES || n >= n_expected)
            return im_error_set(err, IM_EINVAL, "lattice: unexpected antichain count");
        /* sort the collections (insertion sort, m <= 3) */
        for (int i = 1; i < m; i++)
            for (int j = i; j > 0 && coll_before(c[j], c[j - 1]); j--) {
                uint8_t t = c[j];
                c[j] = c[j - 1];
                c[j - 1] = t;
            }
        char sname[16], bname[24];
        name_antichain(c, m, sname, sizeof sname, bname, sizeof bname);
        int pos = -1;
        for (int a = 0; a < n_expected; a++)
            if (!strcmp(order[a], sname)) pos = a;
        if (pos < 0 || lat->n_coll[pos] != 0)
            return im_error_set(err, IM_EINVAL, "lattice: antichain %s not in the order", sname);
        lat->n_coll[pos] = m;
        memcpy(lat->coll[pos], c, (size_t)m);
        memcpy(lat->short_name[pos], sname, sizeof sname);
        memcpy(lat->braced[pos], bname, sizeof bname);
        n++;
    }
    if (n != n_expected)
        return im_error_set(err, IM_EINVAL, "lattice: %d antichains, expected %d", n, n_expected);
    lat->n = n;
    strcpy(lat->short_name[n], "h_res");
    strcpy(lat->braced[n], "H_res");

    double zeta[IM_MAX_ANTICHAINS][IM_MAX_ANTICHAINS];
    for (int b = 0; b < n; b++)
        for (int a = 0; a < n; a++) lat->leq[b][a] = (uint8_t)antichain_leq(lat, b, a);
    /* I_sx(a) = sum_{b <= a} Pi(b): zeta[a][b] = leq[b][a] */
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) zeta[a][b] = lat->leq[b][a];
    if (invert(zeta, n, lat->moebius) != 0)
        return im_error_set(err, IM_EINVAL, "lattice: singular zeta matrix");
    /* the inverse is an integer matrix; remove rounding residue, if any */
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) lat->moebius[a][b] = nearbyint(lat->moebius[a][b]) + 0.0;
    return 0;
}

int im_lattice_find(const im_lattice *lat, const char *name)
{
    if (!name) return -1;
    for (int a = 0; a <= lat->n; a++)
        if (!strcmp(lat->short_name[a], name) || !strcmp(lat->braced[a], name)) return a;
    return -1;
}
