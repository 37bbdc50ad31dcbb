/*
 * campaign_spec.h: the campaign spec (what to search), JSON <-> struct, with
 * validation that names the offending field (ARCHITECTURE.md, "Campaigns").
 *
 * A campaign file has "name" and "kind" (required), "backend" ("builtin",
 * the default: the built-in trainer; or "exec": the workers' own command),
 * "objective" (the result's key that is optimised, "val_acc" by default,
 * any key for exec campaigns), "direction" ("maximize", the default, or
 * "minimize"), "train" (a trial spec without "gamma" and "seed", both set
 * per trial; built-in campaigns only), "seeds_per_point", "priority",
 * "pruner", "user" (every kind), and the keys of its kind: a key of another
 * kind is refused. An exec campaign's parameters are named and typed
 * (sampler.h's param_space, in `params`): its kind reads them ("space" of
 * a search, "points" by name of a fixed campaign); a kind that varies the
 * gamma components only (ablation) refuses backend "exec". The kinds, samplers and pruners are
 * plug-ins, each listed once in its table (kinds.c, samplers.c, pruners.c)
 * and each parsing, validating and writing its own keys in its own file
 * (kind_search.c, kind_fixed.c, kind_ablation.c, sampler_random.c,
 * sampler_tpe.c, pruner_percentile.c); this module runs the common keys and
 * hands the rest to them. The kind, sampler and pruner enums below are
 * positions in those tables. Gammas (space names, points, base) are read
 * for the k of train.setup; kinds that vary gamma refuse the setup
 * "backprop". Messages start with "campaign: " and name the field.
 *
 * Ownership: an im_campaign_spec owns `points`, `point_presets`, `params`
 * and `user`;
 * im_campaign_spec_release frees them. Not thread-safe to modify; read-only
 * use from several threads is safe.
 */
#ifndef IM_CAMPAIGN_SPEC_H
#define IM_CAMPAIGN_SPEC_H

#include "im.h"
#include "lattice.h"
#include "spec_json.h"

#include <jansson.h>
#include <stdint.h>

/* Positions in the kind table (kinds.c). */
typedef enum {
    IM_CAMPAIGN_SEARCH = 0, /* "search": a sampler proposes `budget` points in `space` */
    IM_CAMPAIGN_FIXED,      /* "fixed": the listed `points` */
    IM_CAMPAIGN_ABLATION    /* "ablation": components of `base` set to 0, then successively */
} im_campaign_kind;

/* Positions in the sampler table (samplers.c). */
typedef enum {
    IM_SAMPLER_RANDOM = 0, /* "random": uniform in the space */
    IM_SAMPLER_TPE         /* "tpe": tree-structured Parzen estimator (SAMPLERS.md) */
} im_sampler_kind;

/* The options of sampler "tpe" (sampler_tpe.c). */
typedef struct im_tpe_options {
    int n_startup_trials;   /* 10: finished trials sampled at random before the model, >= 0 */
    int n_ei_candidates;    /* 24: candidates drawn from l(x) per proposal, >= 1 */
    int multivariate;       /* 1: one mixture of product kernels */
    int constant_liar;      /* 1: running trials count in the bad group */
    double prior_weight;    /* 1.0: weight of the prior component, >= 0 */
    int consider_endpoints; /* 0 */
} im_tpe_options;

/* Positions in the pruner table (pruners.c). */
typedef enum {
    IM_PRUNER_NONE = 0,  /* "none" */
    IM_PRUNER_MEDIAN,    /* "median": stop a trial below the median of earlier ones */
    IM_PRUNER_PERCENTILE /* "percentile": below the percentile keeping a given share */
} im_pruner_kind;

typedef struct im_pruner_spec {
    im_pruner_kind kind;  /* IM_PRUNER_NONE */
    int n_startup_trials; /* median: 5, finished trials before any pruning */
    int n_warmup_epochs;  /* median: half the trial's epochs (rounded down), epochs of a
                           * trial before it may be pruned; -1 until the campaign sets it */
    double percentile;    /* percentile: 90, the share of trials kept, in (0, 100] */
} im_pruner_spec;

#define IM_CAMPAIGN_NAME_MAX   64
#define IM_CAMPAIGN_MAX_PARAMS 32 /* named parameters of an exec campaign */
#define IM_OBJECTIVE_MAX       64

/* What runs a campaign's trials: the worker backend it needs. */
typedef enum {
    IM_BACKEND_BUILTIN = 0, /* "builtin": the built-in trainer, gammas */
    IM_BACKEND_EXEC         /* "exec": the workers' command, named parameters */
} im_campaign_backend;

struct param_space; /* sampler.h */
/* The longest "user" object (compact JSON): every JOB carries it, and a JOB
 * (spec, user and a few numbers) stays far below IM_MSG_MAX_BYTES. */
#define IM_CAMPAIGN_USER_MAX (64 * 1024)

typedef struct im_campaign_spec {
    char name[IM_CAMPAIGN_NAME_MAX + 1]; /* [A-Za-z0-9._-]{1,64}, not all digits, no '-' first */
    im_campaign_kind kind;
    im_train_spec train; /* train.gamma and train.seed are placeholders: set per trial */
    int n_terms;         /* gamma length of train.setup: 5 or 19 */

    /* search (kind_search.c) */
    double space_low[IM_MAX_TERMS];  /* [n_terms]; default atoms -1, h_res 0 */
    double space_high[IM_MAX_TERMS]; /* [n_terms]; default atoms 1, h_res 0; low == high: fixed */
    im_sampler_kind sampler;         /* IM_SAMPLER_RANDOM */
    im_tpe_options tpe;              /* defaults also when sampler is random */
    int budget;                      /* points to propose, >= 1 (0 for other kinds) */
    uint64_t seed;                   /* the sampler's seed, 0 */

    /* fixed (kind_fixed.c) */
    int n_points;              /* >= 1 for fixed, else 0 */
    double *points;            /* [n_points][IM_MAX_TERMS] (n_terms used), owned; exec:
                                  [n_points][IM_CAMPAIGN_MAX_PARAMS] by params' order */
    char (*point_presets)[32]; /* [n_points]: the preset a point equals, or "", owned */

    /* ablation (kind_ablation.c) */
    int64_t base_trial; /* > 0: the base is that trial's gamma; 0: `base` below */
    char base_campaign[IM_CAMPAIGN_NAME_MAX + 1]; /* "" or: the base is that campaign's
                                                   * best point, once it is done */
    double base[IM_MAX_TERMS];                    /* [n_terms], when base_trial == 0 */
    char base_preset[32];                         /* the preset base equals, or "" */

    /* every kind */
    int seeds_per_point; /* trials per point with seeds 1..R: default 1, ablations 10 */
    int priority;        /* queue order, higher first; 0 */
    im_pruner_spec pruner;
    json_t *user;                /* any JSON object for external-command workers, or NULL; owned */
    im_campaign_backend backend; /* IM_BACKEND_BUILTIN */
    char objective[IM_OBJECTIVE_MAX + 1]; /* "val_acc" */
    int minimize;                         /* "direction": 0 maximize, 1 minimize */
    struct param_space *params;           /* exec: the named parameters, owned; else NULL */
} im_campaign_spec;

/* "builtin", "exec". */
const char *im_backend_name(im_campaign_backend b);

/* The values of one point: an exec campaign's parameters (params->n), else
 * the gamma components (n_terms). */
int im_campaign_n_values(const im_campaign_spec *spec);

/* The stride of spec->points: IM_CAMPAIGN_MAX_PARAMS for exec campaigns,
 * else IM_MAX_TERMS. */
int im_campaign_points_stride(const im_campaign_spec *spec);

/* Names from the tables; "unknown" for a value outside them. */
const char *im_campaign_kind_name(im_campaign_kind kind);
const char *im_sampler_name(im_sampler_kind kind);
const char *im_pruner_name(im_pruner_kind kind);

/* Parse a campaign object into *spec (overwritten, not released first: pass
 * fresh or released storage; obj is only read, "user" is deep-copied).
 * Returns 0, or IM_EFORMAT / IM_ERANGE with err naming the field; on failure
 * *spec owns nothing (releasing it is harmless). */
int im_campaign_spec_from_json(im_campaign_spec *spec, const json_t *obj, im_error *err);

/* Read a campaign file (JSON). As from_json, plus IM_EIO when the file cannot
 * be opened and IM_EFORMAT with line and column for invalid JSON. */
int im_campaign_spec_load_file(im_campaign_spec *spec, const char *path, im_error *err);

/* Free what spec owns and reset those pointers; NULL-safe, idempotent. */
void im_campaign_spec_release(im_campaign_spec *spec);

/* Canonical JSON for storing: every key of the kind with its value filled in
 * (gammas as lists, the whole space, all sampler/pruner options).
 * from_json(to_json(c)) gives c again. Caller owns the new reference. */
json_t *im_campaign_spec_to_json(const im_campaign_spec *spec);

/* Point p (0-based) of a fixed campaign: its im_campaign_n_values(spec)
 * values, borrowed from spec->points; NULL when spec has no point p (not a
 * fixed campaign, or p out of range). */
const double *im_campaign_spec_point(const im_campaign_spec *spec, int p);

/* The trial spec of one trial: spec->train with gamma (spec->n_terms numbers)
 * and seed. Returns 0 or IM_EINVAL (a non-finite gamma). */
int im_campaign_trial_spec(const im_campaign_spec *spec, const double *gamma, uint64_t seed,
                           im_train_spec *out, im_error *err);

/* A list of n numbers as JSON reals. Caller owns the new reference. */
json_t *im_number_list(const double *x, int n);

#endif /* IM_CAMPAIGN_SPEC_H */
