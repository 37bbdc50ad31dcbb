/*
 * spec.h: the trial spec (how to train one network), as JSON <-> structs
 * with validation that names the offending field (ARCHITECTURE.md, "The two
 * specs"). The campaign spec, which embeds one, is the coordinator's
 * (campaign_spec.h).
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

/* im_train_spec_from_json and im_gamma_parse with messages that start with
 * `prefix` instead of "spec" (a campaign's "campaign: 'train'"). */
int im_train_spec_from_json_as(im_train_spec *s, const json_t *obj, const char *prefix,
                               im_error *err);
int im_gamma_parse_as(const json_t *g, int k, const char *prefix, const char *field, double *out,
                      char *preset_out, im_error *err);

/* Names of the gamma presets, NULL-terminated, static. */
extern const char *const im_gamma_preset_names[];

#endif /* IM_SPEC_H */
