/*
 * tpe.h: the Tree-structured Parzen Estimator (TPE), the estimator behind the
 * `tpe` sampler, as a pure function of a search space, options and a history.
 *
 * What it does (the behaviour of Optuna's TPESampler, written anew):
 * - Start-up: while fewer than n_startup_trials points are finished
 *   (complete or pruned), a proposal is uniform in the space (in log space for
 *   log parameters).
 * - Split: of the n finished points, the best gamma(n) (default
 *   min(ceil(0.1 n), 25)) form the good group l(x), the rest the bad group
 *   g(x). Complete points rank by value; pruned points rank below every
 *   complete point, among themselves by value. With constant liar, pending
 *   points (handed out, no result yet) join the bad group and do not count
 *   in n, so that workers asking at the same moment get different points.
 * - Weights: within a group, in history order (oldest first, pending last),
 *   weights(n_group) (default: all 1 below 25 members, otherwise a ramp from
 *   1/n to 1 for the older ones and 1 for the newest 25), plus one prior
 *   component of weight prior_weight; normalised.
 * - Kernels: a truncated normal per observation and parameter on the
 *   parameter's range (log range for log parameters, widened by half a step
 *   for integers, whose kernels give the mass of the integer's cell); the
 *   prior is centred with sigma = the range. Bandwidth, clipped to
 *   [range / min(100, n_group + 2), range] (the "magic clip"):
 *   univariate: the larger gap to the neighbouring centres (prior centre
 *   included; the range ends pad the list; with consider_endpoints off the
 *   outermost centres use their inner gap only), as Optuna does;
 *   multivariate: one bandwidth per group and parameter, Scott's rule
 *   0.7 sd n_group^(-1/(d+4)) with sd the standard deviation of the group's
 *   centres in that parameter (range / sqrt 12 below two centres) and d the
 *   number of modelled parameters. Optuna 3.1 puts the constant
 *   0.2 (high - low) where we put 0.7 sd; with normalised kernels its rule
 *   found worse points in 18 dimensions (see bench_tpe), and the group's own
 *   spread lets the kernels narrow as the search converges.
 *   Categorical kernels put prior_weight / (n_group + 1) on every choice plus
 *   1 on the observed one, normalised; the prior is uniform.
 * - Acquisition: n_ei_candidates points drawn from l(x); the one with the
 *   largest log l(x) - log g(x) is proposed (the first on ties).
 *   Multivariate: one mixture of product kernels over all parameters (a
 *   candidate's component is shared by its coordinates). Univariate: every
 *   parameter is an independent one-dimensional TPE.
 * - A fixed parameter is not modelled; its value is proposed as is.
 *
 * Representation: a point is n_params doubles in the space's order: the
 * number itself for FLOAT and INT (an INT is integral), the choice index
 * 0..n_choices-1 for CATEGORICAL, the fixed value for a fixed parameter.
 *
 * Determinism: a proposal depends only on the arguments of tpe_suggest (the
 * generator is seeded with (options seed, stream)): the same history, pending
 * points and stream give the same point. The generator is the same on every
 * machine; exp, log and erfc come from the C library, so another libm could
 * in rare cases rank two candidates differently.
 *
 * Workload: one call per proposal, hundreds to a few thousand finished
 * points, about 20 parameters. Cost per call: O(D N) for the bandwidths
 * (univariate: a radix sort of the centres of each parameter), O(C N D) to
 * score C candidates against N kernels, a few allocations of O(N D)
 * doubles in all (none per candidate); no state survives the call. About
 * 1.6 ms at 1,000 points in 18 dimensions with the defaults, 8 ms at 5,000
 * (one core of a busy machine).
 * Thread-safety: the functions keep no global state; concurrent calls are
 * safe as long as they write to different outputs.
 */
#ifndef IM_TPE_H
#define IM_TPE_H

#include "im.h"

#include <stdint.h>

typedef enum tpe_type {
    TPE_FLOAT = 0,      /* a real number in [low, high] */
    TPE_INT = 1,        /* an integer in [low, high] (integral bounds) */
    TPE_CATEGORICAL = 2 /* one of n_choices, by index */
} tpe_type;

/* One parameter of the space. A FLOAT or INT with low == high, a
 * CATEGORICAL with one choice, or any parameter with `fixed` set is fixed. */
typedef struct tpe_param {
    const char *name; /* for error messages only; may be NULL; borrowed */
    tpe_type type;    /* FLOAT, INT or CATEGORICAL */
    double low, high; /* FLOAT, INT: the bounds, low <= high */
    int log;          /* FLOAT, INT: 1 = sample in log space (low > 0) */
    int n_choices;    /* CATEGORICAL: number of choices, >= 1 */
    int fixed;        /* 1 = always propose `value` */
    double value;     /* the fixed value, internal representation */
} tpe_param;

/* The search space: params[n_params], borrowed (not copied, not freed). */
typedef struct tpe_space {
    int n_params;
    const tpe_param *params; /* [n_params] */
} tpe_space;

/* The options, with Optuna's names; tpe_options_default gives its defaults. */
typedef struct tpe_options {
    int n_startup_trials;   /* 10: finished points before TPE takes over */
    int n_ei_candidates;    /* 24: candidates drawn from l(x), >= 1 */
    int multivariate;       /* 1: one joint mixture; 0: per parameter */
    int constant_liar;      /* 1: pending points join the bad group */
    double prior_weight;    /* 1.0: weight of the prior component, >= 0 */
    int consider_endpoints; /* 0: outermost centres use their inner gap */
    int maximize;           /* 0: lower values are better (Optuna's default) */
    /* Size of the good group for n finished points; NULL = tpe_gamma_default.
     * The result is clipped to [0, n]. Must be deterministic. */
    int (*gamma)(int n);
    /* Weights of a group of n observations, oldest first, into w[n]; NULL =
     * tpe_weights_default. Non-negative, finite, not all zero when n > 0.
     * Must be deterministic. */
    void (*weights)(int n, double *w);
    uint64_t seed; /* 0: the generator's seed (with tpe_suggest's stream) */
} tpe_options;

/* Fill *o with Optuna's defaults (above). Thread-safe. */
void tpe_options_default(tpe_options *o);

/* Optuna's default gamma: min(ceil(0.1 n), 25). */
int tpe_gamma_default(int n);

/* Optuna's default weights into w[n]: all 1 when n < 25, otherwise
 * n - 25 values rising linearly from 1/n to 1, then 25 ones. */
void tpe_weights_default(int n, double *w);

typedef enum tpe_state {
    TPE_COMPLETE = 0, /* finished with a value */
    TPE_PRUNED = 1    /* stopped early; value = its best last report */
} tpe_state;

/* One finished point of the history. A NaN value ranks below every number of
 * the same state. Failed points are not part of the history. */
typedef struct tpe_obs {
    const double *x; /* [n_params] the point; borrowed */
    double value;    /* the objective */
    tpe_state state; /* COMPLETE or PRUNED */
} tpe_obs;

/* Check a space. Returns 0, or IM_EINVAL with err naming the parameter: no
 * parameters, low > high or a non-finite bound, log with low <= 0, INT
 * bounds not integral, no choices, a fixed value not finite, not integral for
 * INT or not a choice index for CATEGORICAL, a range wider than a double
 * holds. Thread-safe. */
int tpe_space_check(const tpe_space *space, im_error *err);

/* Check options. Returns 0, or IM_EINVAL with err naming the option:
 * n_startup_trials < 0, n_ei_candidates < 1, prior_weight negative or not
 * finite. Thread-safe. */
int tpe_options_check(const tpe_options *opt, im_error *err);

/* Propose the next point into out[n_params].
 *
 * hist[n_hist]: the finished points, oldest first (the order sets the
 * weights). pending[n_pending * n_params]: the points handed out without a
 * result yet, row-major, oldest first; may be NULL when n_pending == 0;
 * ignored when constant_liar is off. The coordinates of fixed parameters in
 * hist and pending are not read. stream: any number that differs between
 * proposals of one campaign, e.g. the point number.
 *
 * Returns 0, or IM_EINVAL with err set (a bad space or options, a negative
 * count, a point outside the space or not finite, a weights function that
 * returned negative, non-finite or all-zero weights); out is then
 * unspecified. Borrows all inputs. Thread-safe (see above).
 * Cost: see the header; O(N D) memory, freed before return. */
int tpe_suggest(const tpe_space *space, const tpe_options *opt, const tpe_obs *hist, int n_hist,
                const double *pending, int n_pending, uint64_t stream, double *out, im_error *err);

/* The good group of a history: the indices into hist[n_hist] of the best
 * gamma(n_finished) points, in history order, into below[] (room for n_hist),
 * their number in *n_below. Pending points never belong to it. Returns 0 or
 * IM_EINVAL (negative n_hist). Thread-safe. */
int tpe_split(const tpe_options *opt, const tpe_obs *hist, int n_hist, int *below, int *n_below,
              im_error *err);

/* The acquisition score log l(x) - log g(x) of point x[n_params] for the
 * given history, as tpe_suggest computes it for its candidates (in the
 * multivariate model when opt->multivariate, else the sum of the
 * per-parameter scores). Meant for tests and diagnostics. Returns 0 and sets
 * *score, or IM_EINVAL as tpe_suggest (also for an x outside the space).
 * Thread-safe. */
int tpe_score(const tpe_space *space, const tpe_options *opt, const tpe_obs *hist, int n_hist,
              const double *pending, int n_pending, const double *x, double *score, im_error *err);

#endif /* IM_TPE_H */
