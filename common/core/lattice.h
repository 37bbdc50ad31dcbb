/*
 * lattice.h: the redundancy lattice of partial information decomposition for
 * k = 2 or k = 3 sources (INFOMORPHIC.md, section 3).
 *
 * A source set is a bitmask: bit 0 = F (feedforward), bit 1 = C (context),
 * bit 2 = L (lateral); for k = 2 the second source is called C. An antichain is
 * a list of such collections, none containing another. Antichains are kept in
 * the canonical order (the order of a goal vector gamma; h_res follows the
 * last antichain). The Moebius matrix is computed as the inverse of the zeta
 * matrix at init, never typed in.
 *
 * An im_lattice is plain caller-owned storage: init fills it, nothing to free.
 * Thread-safe once initialised (read-only).
 */
#ifndef IM_LATTICE_H
#define IM_LATTICE_H

#include "im.h"

#include <stdint.h>

#define IM_MAX_SOURCES    3
#define IM_MAX_ANTICHAINS 18
#define IM_MAX_TERMS      (IM_MAX_ANTICHAINS + 1) /* atoms + h_res */

typedef struct im_lattice {
    int k;                                                /* number of sources, 2 or 3 */
    int n;                                                /* number of antichains, 4 or 18 */
    int n_coll[IM_MAX_ANTICHAINS];                        /* collections in antichain a */
    uint8_t coll[IM_MAX_ANTICHAINS][IM_MAX_SOURCES];      /* the collections, as source bitmasks */
    uint8_t leq[IM_MAX_ANTICHAINS][IM_MAX_ANTICHAINS];    /* leq[b][a] = 1 iff b <= a */
    double moebius[IM_MAX_ANTICHAINS][IM_MAX_ANTICHAINS]; /* Pi = moebius * I_sx, [n][n] */
    char short_name[IM_MAX_TERMS][16];                    /* "f_c", ..., "h_res" at index n */
    char braced[IM_MAX_TERMS][24];                        /* "{F}{C}", ..., "H_res" at index n */
} im_lattice;

/* Fill lat for k sources (2 or 3). Returns 0, or IM_EINVAL for another k. */
int im_lattice_init(im_lattice *lat, int k, im_error *err);

/* Index of a term by short name ("f_c", "h_res") or braced name ("{F}{C}",
 * "H_res"): 0..n (n is h_res), or -1 if unknown. */
int im_lattice_find(const im_lattice *lat, const char *name);

#endif /* IM_LATTICE_H */
