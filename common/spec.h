/*
 * spec.h: the trial spec (how to train one network) and the campaign spec
 * (what to search), as JSON <-> structs with validation that names the
 * offending field (ARCHITECTURE.md, "The two specs").
 *
 * Every key of a trial spec is optional and defaults to the paper's setting;
 * unknown keys, wrong types, out-of-range values, a gamma of the wrong length
 * or an unknown atom name are refused with IM_EFORMAT / IM_ERANGE and a
 * message such as "spec: 'hidden' must be an integer >= 1".
 * Structs are plain caller-owned storage unless a _release function exists.
 */
#ifndef IM_SPEC_H
#define IM_SPEC_H

#include "im.h"
#include "lattice.h"

#include <jansson.h>
#include <stdint.h>

typedef enum {
    IM_SETUP_BIVARIATE_CONTEXT = 0, /* "bivariate-context" */
    IM_SETUP_BIVARIATE_LATERAL,     /* "bivariate-lateral" */
    IM_SETUP_TRIVARIATE,            /* "trivariate" (setup 1, dense lateral) */
    IM_SETUP_TRIVARIATE_SPARSE,     /* "trivariate-sparse" (setup 2) */
    IM_SETUP_TRIVARIATE_FEEDBACK,   /* "trivariate-feedback" (setup 3) */
    IM_SETUP_BACKPROP               /* "backprop" */
} im_setup;

typedef struct im_train_spec {
    char dataset[64];           /* folder name in the data directory, "mnist10k" */
    im_setup setup;             /* IM_SETUP_TRIVARIATE */
    int hidden;                 /* 100 */
    int max_lateral;            /* 0 = null (dense); for trivariate-sparse */
    int epochs;                 /* 10, training epochs after epoch 0 */
    int batch;                  /* 1024 */
    uint64_t seed;              /* 1 */
    int n_gamma;                /* 5 (k = 2) or 19 (k = 3); derived from setup */
    double gamma[IM_MAX_TERMS]; /* hidden layer goal, canonical order, h_res last */
    char gamma_preset[32];      /* preset name it came from, "" if given as numbers */
    double gamma_out[5];        /* [-0.2, 0.1, 1.0, 0.1, 0] */
    double lr_hidden, wd_hidden, lr_out, wd_out; /* 0.002, 0.00035, 0.003, 0.00015 */
    int bins;                                    /* 20 */
    double bin_range;                            /* 20 */
    int threads;                                 /* 1 */
    int train_limit; /* 0 = all; else use only the first N training samples */
    int eval_limit;  /* 0 = all; else evaluate on at most N validation/test samples */
} im_train_spec;

/* Number of sources of the hidden neurons of a setup (2 or 3). */
int im_setup_sources(im_setup setup);
const char *im_setup_name(im_setup setup);
int im_setup_parse(const char *name, im_setup *out); /* 0 or IM_ENOTFOUND */

/* Fill s with the paper's defaults. */
void im_train_spec_default(im_train_spec *s);

/* Parse a JSON object over the defaults (keys not given keep their default).
 * Returns 0 or an IM_E* code with err naming the field. */
int im_train_spec_from_json(im_train_spec *s, const json_t *obj, im_error *err);

/* Apply one "key=value" (--set): the value is parsed as JSON if it parses,
 * otherwise taken as a string. Re-validates the whole spec. */
int im_train_spec_set(im_train_spec *s, const char *assignment, im_error *err);

/* The spec as a JSON object with every key (gamma as a list of numbers).
 * Caller owns the new reference. */
json_t *im_train_spec_to_json(const im_train_spec *s);

/* Parse a gamma for k sources: a preset name, a list of 5 (k = 2) or 19 (k = 3)
 * numbers, or an object keyed by short names (missing names are 0).
 * out has room for IM_MAX_TERMS. preset_out (may be NULL, 32 bytes) gets the
 * preset name or "". field names the key in messages ("gamma"). */
int im_gamma_parse(const json_t *g, int k, const char *field, double *out, char *preset_out,
                   im_error *err);

/* Named goals: "paper-optimized" and "paper-heuristic" (k = 3). Returns 0 and
 * fills out[19], or IM_ENOTFOUND. */
int im_gamma_preset(const char *name, int k, double *out);

/* ---- additions to the trial spec ------------------------------------------
 *
 * Resolution order. A JSON object may give "gamma" before "setup", and a later
 * --set may change the setup (and so k) after gamma was given. Therefore the
 * cross-field rules are checked after all keys are read: gamma is parsed for
 * the final setup's k; a gamma that came from a preset (gamma_preset != "") is
 * re-resolved for the new k; a gamma given as numbers whose length does not
 * match the new k is refused ("give 'gamma' again"). A vector given as numbers
 * that equals a preset exactly is recorded as that preset, which makes
 * from_json(to_json(s)) reproduce gamma_preset as well.
 *
 * max_lateral: required (1 <= max_lateral < hidden) for "trivariate-sparse",
 * refused (must be null) for every other setup. Because "--set setup=..." and
 * "--set max_lateral=..." depend on each other, a command line should apply
 * all its assignments at once with im_train_spec_set_many.
 *
 * backprop ignores gamma; it is stored and validated for k = 3.
 *
 * Every parsing function leaves *s unchanged when it fails. No function here
 * keeps global state: all are thread-safe on distinct structs. */

/* The gamma length of a setup: 5 (k = 2) or 19 (k = 3, also backprop). */
int im_setup_terms(im_setup setup);

/* Like im_train_spec_set, for n assignments applied together and validated
 * once (later assignments of the same key win). Returns 0 or an IM_E* code;
 * *s unchanged on failure. Thread-safe for distinct s. */
int im_train_spec_set_many(im_train_spec *s, int n, const char *const *assignments, im_error *err);

/* Read a trial spec from a JSON file over *s. Returns 0, IM_EIO (cannot open),
 * IM_EFORMAT (invalid JSON: the message gives line and column; or a refused
 * key) or IM_ERANGE. *s unchanged on failure. */
int im_train_spec_load_file(im_train_spec *s, const char *path, im_error *err);

/* Set the hidden layer's gamma from numbers (n must equal s->n_gamma, every
 * value finite); gamma_preset becomes the preset it equals, or "". For code
 * that fills a spec per trial (the coordinator). Returns 0 or IM_EINVAL. */
int im_train_spec_set_gamma(im_train_spec *s, const double *gamma, int n, im_error *err);

/* 1 if a and b describe the same spec (every field, gamma up to n_gamma,
 * exact double comparison), else 0. */
int im_train_spec_equal(const im_train_spec *a, const im_train_spec *b);

/* Names of the gamma presets, NULL-terminated, static. */
extern const char *const im_gamma_preset_names[];

/* ---- campaign spec ---------------------------------------------------------
 *
 * A campaign file says what to search (ARCHITECTURE.md, "Campaigns"):
 * "name" and "kind" are required; "train" is a trial spec without "gamma"
 * and "seed" (both are set per trial); the kind decides which of "space",
 * "sampler", "budget", "seed" (search), "points" (fixed) and "base"
 * (ablation) are allowed, and a key of another kind is refused. Gammas
 * (space names, points, base) are read for the k of train.setup; "search"
 * and "ablation" refuse the setup "backprop", which has no goal to vary.
 * Messages start with "campaign: " and name the field.
 *
 * Ownership: an im_campaign_spec owns `points`, `point_presets` and `user`;
 * im_campaign_spec_release frees them. Not thread-safe to modify; read-only
 * use from several threads is safe.
 */
typedef enum {
    IM_CAMPAIGN_SEARCH = 0, /* "search": a sampler proposes `budget` points in `space` */
    IM_CAMPAIGN_FIXED,      /* "fixed": the listed `points` */
    IM_CAMPAIGN_ABLATION    /* "ablation": components of `base` set to 0, then successively */
} im_campaign_kind;

typedef enum {
    IM_SAMPLER_RANDOM = 0, /* "random": uniform in the space */
    IM_SAMPLER_TPE         /* "tpe": tree-structured Parzen estimator (SAMPLERS.md) */
} im_sampler_kind;

typedef struct im_tpe_options {
    int n_startup_trials;   /* 10: finished trials sampled at random before the model, >= 0 */
    int n_ei_candidates;    /* 24: candidates drawn from l(x) per proposal, >= 1 */
    int multivariate;       /* 1: one mixture of product kernels */
    int constant_liar;      /* 1: running trials count in the bad group */
    int consider_endpoints; /* 0 */
} im_tpe_options;

typedef enum {
    IM_PRUNER_NONE = 0, /* "none" */
    IM_PRUNER_MEDIAN    /* "median": stop a trial below the median of earlier ones */
} im_pruner_kind;

typedef struct im_pruner_spec {
    im_pruner_kind kind;  /* IM_PRUNER_NONE */
    int n_startup_trials; /* median: 5, finished trials before any pruning */
    int n_warmup_epochs;  /* median: 0, epochs of a trial before it may be pruned */
} im_pruner_spec;

#define IM_CAMPAIGN_NAME_MAX 64

typedef struct im_campaign_spec {
    char name[IM_CAMPAIGN_NAME_MAX + 1]; /* [A-Za-z0-9._-]{1,64} */
    im_campaign_kind kind;
    im_train_spec train; /* train.gamma and train.seed are placeholders: set per trial */
    int n_terms;         /* gamma length of train.setup: 5 or 19 */

    /* search */
    double space_low[IM_MAX_TERMS];  /* [n_terms]; default atoms -1, h_res 0 */
    double space_high[IM_MAX_TERMS]; /* [n_terms]; default atoms 1, h_res 0; low == high: fixed */
    im_sampler_kind sampler;         /* IM_SAMPLER_RANDOM */
    im_tpe_options tpe;              /* defaults also when sampler is random */
    int budget;                      /* points to propose, >= 1 (0 for other kinds) */
    uint64_t seed;                   /* the sampler's seed, 0 */

    /* fixed */
    int n_points;              /* >= 1 for fixed, else 0 */
    double *points;            /* [n_points][IM_MAX_TERMS] (n_terms used), owned */
    char (*point_presets)[32]; /* [n_points]: the preset a point equals, or "", owned */

    /* ablation */
    int64_t base_trial;        /* > 0: the base is that trial's gamma; 0: `base` below */
    double base[IM_MAX_TERMS]; /* [n_terms], when base_trial == 0 */
    char base_preset[32];      /* the preset base equals, or "" */

    /* every kind */
    int seeds_per_point; /* trials per point with seeds 1..R: default 1, ablations 10 */
    int priority;        /* queue order, higher first; 0 */
    im_pruner_spec pruner;
    json_t *user; /* any JSON object for external-command workers, or NULL; owned */
} im_campaign_spec;

const char *im_campaign_kind_name(im_campaign_kind kind);
const char *im_sampler_name(im_sampler_kind sampler);
const char *im_pruner_name(im_pruner_kind pruner);

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

/* A fixed campaign's points as gamma vectors: *out gets a new array
 * [*n][spec->n_terms] (caller frees it with free()). Returns 0, or IM_EINVAL
 * (not a fixed campaign). */
int im_campaign_spec_fixed_gammas(const im_campaign_spec *spec, double **out, int *n,
                                  im_error *err);

/* The trial spec of one trial: spec->train with gamma (spec->n_terms numbers)
 * and seed. Returns 0 or IM_EINVAL (a non-finite gamma). */
int im_campaign_trial_spec(const im_campaign_spec *spec, const double *gamma, uint64_t seed,
                           im_train_spec *out, im_error *err);

#endif /* IM_SPEC_H */
