/*
 * pid.h: the I_sx partial information decomposition of one neuron's output
 * with its k sources, estimated from one batch, and the gradient of the goal
 * G = gamma . (Pi, H_res) with respect to each sample's output probability
 * (INFOMORPHIC.md, sections 2-4).
 *
 * The joint distribution is P(s, t) = (1/N) sum_n [s_n == s] theta_n(t). Only
 * occupied cells are visited: cost O(N) per neuron, independent of the number
 * of bins. Accumulation is in double. An im_pid is a workspace for one layer
 * (k, bins per source, a maximal batch size); it is allocated once and reused
 * for every neuron and batch, so the hot path allocates nothing.
 * Not thread-safe: one workspace per thread.
 */
#ifndef IM_PID_H
#define IM_PID_H

#include "im.h"
#include "lattice.h"

#include <stdint.h>

typedef struct im_pid im_pid;

/* A workspace for k sources (2 or 3) with bins[i] bins for source i (each
 * 1..65535) and batches of at most n_max samples. Returns NULL and fills err
 * on invalid arguments (IM_EINVAL) or when its buffers cannot be allocated
 * (IM_ENOMEM, nothing left allocated). Caller owns the result and frees it
 * with im_pid_free. */
im_pid *im_pid_new(int k, const int *bins, int n_max, im_error *err);

/* Free a workspace and set *w to NULL; NULL-safe. */
void im_pid_free(im_pid **w);

/* The lattice of this workspace (owned by the workspace). */
const im_lattice *im_pid_lattice(const im_pid *w);

/*
 * One neuron, one batch of n samples (1 <= n <= n_max).
 *   bins   [k][n]  source-major bin indices: bins[i*n + j] is sample j's bin for source i
 *   theta  [n]     P(Y = +1) per sample, in (0, 1)
 *   gamma  [n_terms] goal weights in canonical order, h_res last (5 or 19); may be
 *                  NULL when neither goal nor gradient is wanted
 * Outputs (each may be NULL):
 *   terms  [n_terms] the atoms Pi in canonical order, then H_res (bits)
 *   goal   G = gamma . terms (bits)
 *   dtheta [n]     dG/dtheta_j for every sample (needs gamma); infinite where a theta of
 *                  exactly 0 or 1 leaves a probability the goal takes the log of at 0
 * Returns 0, or IM_ERANGE for a bin index out of range / theta outside [0, 1],
 * or IM_EINVAL for n out of range; err gets the detail.
 */
int im_pid_neuron(im_pid *w, int n, const uint16_t *bins, const double *theta, const double *gamma,
                  double *terms, double *goal, double *dtheta, im_error *err);

/*
 * The same for a whole joint table instead of a batch (the CLI, the tests):
 *   shape  [k]                     bins per source (each 1..65535)
 *   p      [shape[0]]..[shape[k-1]][2]  row-major, the last axis is T with index 0 for
 *                                  Y = -1 and 1 for Y = +1; entries >= 0 and finite,
 *                                  normalised here by their sum (which must be > 0)
 *   gamma  [n_terms] as above; may be NULL when neither goal nor dcell is wanted
 * Outputs (each may be NULL):
 *   terms  [n_terms] atoms then H_res (bits); goal = gamma . terms
 *   dcell  [prod shape] D(s) = dG/dP(s, +1) - dG/dP(s, -1) per source cell (section 4);
 *          0 for a source cell without mass, +-inf where a needed mass is 0
 * Allocates its own workspace (not for hot loops). Returns 0, IM_EINVAL for a bad
 * k, shape or an empty table, IM_ERANGE for a negative or non-finite entry or a
 * table too large; err gets the detail. Thread-safe (no shared state).
 */
int im_pid_table(int k, const int *shape, const double *p, const double *gamma, double *terms,
                 double *goal, double *dcell, im_error *err);

#endif /* IM_PID_H */
