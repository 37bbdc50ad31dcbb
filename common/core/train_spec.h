/*
 * train_spec.h: the trial spec as a plain struct (how to train one network):
 * the setups, the paper's defaults, the gamma presets and the rules a filled
 * spec must keep. Its JSON form (parsing, --set, files, canonical output)
 * lives at the edge, in spec_json.h; nothing here knows JSON.
 *
 * Invariants of a valid spec (im_train_spec_validate): every count and rate
 * in its range (the IM_SPEC_MAX_* limits below), max_lateral in
 * 1..hidden - 1 for "trivariate-sparse" and 0 for every other setup, n_gamma
 * equal to im_setup_terms(setup), every gamma finite, and gamma_preset the
 * name of the preset gamma equals, or "".
 *
 * Workload: a few specs per trial; nothing here is performance-critical.
 * No function keeps global state: all are thread-safe on distinct structs.
 */
#ifndef IM_TRAIN_SPEC_H
#define IM_TRAIN_SPEC_H

#include "im.h"
#include "lattice.h"

#include <stddef.h>
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

/* The ranges of a spec's counts (inclusive). */
#define IM_SPEC_MAX_HIDDEN  100000  /* hidden and max_lateral: 1.. */
#define IM_SPEC_MAX_EPOCHS  100000  /* epochs: 0.. */
#define IM_SPEC_MAX_BATCH   1000000 /* batch: 1.. */
#define IM_SPEC_MIN_BINS    2
#define IM_SPEC_MAX_BINS    1000
#define IM_SPEC_MAX_THREADS 256 /* threads: 1.. */

/* Number of sources of the hidden neurons of a setup (2 or 3). */
int im_setup_sources(im_setup setup);
const char *im_setup_name(im_setup setup);           /* static; "unknown" if out of range */
int im_setup_parse(const char *name, im_setup *out); /* 0 or IM_ENOTFOUND */

/* The gamma length of a setup: 5 (k = 2) or 19 (k = 3, also backprop). */
int im_setup_terms(im_setup setup);

/* Fill s with the paper's defaults. */
void im_train_spec_default(im_train_spec *s);

/* Named goals: "paper-optimized" and "paper-heuristic" (k = 3). Returns 0 and
 * fills out[19], or IM_ENOTFOUND. */
int im_gamma_preset(const char *name, int k, double *out);

/* Names of the gamma presets, NULL-terminated, static. */
extern const char *const im_gamma_preset_names[];

/* The preset whose k-source gamma equals gamma[0..terms) exactly, or NULL
 * (a static string). */
const char *im_gamma_recognise(const double *gamma, int k);

/* 1 if s is a folder or campaign name of 1..max characters [A-Za-z0-9._-],
 * else 0. (A dataset name must also not start with '.'.) */
int im_spec_name_valid(const char *s, size_t max);

/* Check the invariants of a filled spec except those of gamma (see the top of
 * this file): the ranges, the dataset name, and max_lateral against setup and
 * hidden. prefix starts messages ("spec"). Returns 0, IM_EFORMAT or
 * IM_ERANGE with err naming the field; s is not changed. */
int im_train_spec_validate(const im_train_spec *s, const char *prefix, im_error *err);

/* Fit the hidden gamma to the setup after the setup may have changed: a gamma
 * that came from a preset is re-resolved for the setup's k; a gamma given as
 * numbers keeps them if their count fits and is refused ("give 'gamma'
 * again") if not. Then n_gamma = im_setup_terms(setup). Returns 0 or
 * IM_EFORMAT; *s unchanged on failure. prefix starts messages. */
int im_train_spec_fit_gamma(im_train_spec *s, const char *prefix, im_error *err);

/* Set the hidden layer's gamma from numbers (n must equal s->n_gamma, every
 * value finite); gamma_preset becomes the preset it equals, or "". For code
 * that fills a spec per trial (the coordinator). Returns 0 or IM_EINVAL. */
int im_train_spec_set_gamma(im_train_spec *s, const double *gamma, int n, im_error *err);

/* 1 if a and b describe the same spec (every field, gamma up to n_gamma,
 * exact double comparison), else 0. */
int im_train_spec_equal(const im_train_spec *a, const im_train_spec *b);

#endif /* IM_TRAIN_SPEC_H */
