/*
 * report.h: `infomorph report`, a campaign drawn for people. One in-memory
 * model (report) built from one JSON document of the campaign and its
 * trials, whichever source filled it: the coordinator's EXPORT pages or a
 * copied database opened read-only (report_source.c). The model carries the
 * trials and everything derived from them (ranks, importance, ablation
 * stages, atom profiles: report_model.c); the renderers only read it: text
 * tables (report_text.c) and one self-contained HTML page with inline SVG
 * (report_html.c, which also holds the small SVG plotting kit).
 *
 * Invariants: trials are in number order; every derived figure is a pure
 * function of the document, so both sources give byte-identical output.
 * Workload: up to some 10^4 trials, everything in memory (O(trials x
 * params)). Not thread-safe (the command has one thread).
 */
#ifndef IM_REPORT_H
#define IM_REPORT_H

#include "cli.h"
#include "im.h"

#include <jansson.h>
#include <stdio.h>

#define REPORT_TOP        5  /* trials in the "best trials" plots */
#define REPORT_BEST_ROWS  10 /* rows of the best-trials table */
#define REPORT_LAYERS     2  /* hidden, output */
#define REPORT_IMP_MIN    10 /* done trials needed for parameter importance */
#define REPORT_IMP_BINS   10 /* most quantile bins per parameter */
#define REPORT_N_STATUSES 6

/* Trial statuses, indices into report_statuses. */
enum { REPORT_QUEUED, REPORT_RUNNING, REPORT_DONE, REPORT_FAILED, REPORT_PRUNED, REPORT_CANCELLED };
extern const char *const report_statuses[REPORT_N_STATUSES]; /* "queued" ... "cancelled" */
extern const char *const report_layers[REPORT_LAYERS];       /* "hidden", "output" */

typedef struct report_trial {
    long long id, number, point, seed;
    int status;        /* index into report_statuses, -1 if unknown */
    char *label;       /* ablation label ("base", "f_c", "f_c,fl"), or NULL; owned */
    char *stage;       /* "base", "individual", "successive" if trials carry it; owned */
    char *worker;      /* owned, NULL if none */
    double val, test;  /* accuracies in [0, 1], NAN if unknown */
    double wall_s;     /* training seconds, NAN if unknown */
    int paper;         /* its gamma is the preset "paper-optimized" (by name or by value) */
    double *param;     /* [n_params], NAN where the trial lacks one; owned */
    double *atoms;     /* [REPORT_LAYERS][n_atoms] bits, NAN if missing; owned */
    int n_epochs;      /* entries of epoch_val */
    double *epoch_val; /* [n_epochs] validation accuracy at epoch i, NAN if missing */
} report_trial;

/* Stage 1 of an ablation: one ablated component against the base. */
typedef struct report_ablation {
    int param;         /* index into params, -1 if the label is no parameter */
    const char *label; /* borrowed from a trial */
    char braced[24];   /* the PID atom's braced name ("{F}{C}"), or the label */
    double mean, sd;   /* change of validation accuracy vs the base mean; sd NAN if n < 2 */
    double min, max;
    int n;
} report_ablation;

/* Stage 2 of an ablation: after removing the first `removed` components. */
typedef struct report_step {
    long long point;       /* the step's point: steps run in point order */
    int removed;           /* components removed so far (1, 2, ...) */
    const char *last;      /* the component this step adds (its trials' label); borrowed */
    char *label;           /* which, comma-separated short names, in order; owned */
    double mean, min, max; /* validation accuracy over the step's done trials */
    int n;
} report_step;

typedef struct report {
    /* the campaign (from the document's campaign object) */
    long long id, budget, seeds_per_point;                              /* budget -1 if none */
    char *name, *kind, *status, *created_at, *started_at, *finished_at; /* owned, "" if none */
    /* the training setup, from the first trial's spec ("" / -1 when absent) */
    char *dataset, *setup;
    long long hidden, epochs;

    size_t n_trials;
    report_trial *trials; /* [n_trials] by number */

    int n_params;
    char **param;       /* [n_params] short names, canonical order */
    char **param_label; /* [n_params] braced names ("{F}{C}"), or the name itself */
    int n_atoms;
    char **atom;       /* [n_atoms] short names of PID atoms */
    char **atom_label; /* [n_atoms] braced names */

    /* summary */
    long long count[REPORT_N_STATUSES];
    double compute_s; /* sum of wall_s */
    int n_workers;
    char **workers;      /* [n_workers] sorted, owned */
    long long max_epoch; /* longest learning curve - 1, -1 if none */

    /* done trials with an accuracy, best first (val desc, test desc, number) */
    size_t n_ranked;
    size_t *ranked; /* [n_ranked] indices into trials */

    /* parameter importance: eta^2 of validation accuracy per parameter */
    size_t imp_n; /* done trials used (0: not computed) */
    int imp_bins; /* quantile bins per parameter */
    double *eta2; /* [n_params] share of variance explained by the bin means */
    double *imp;  /* [n_params] eta2 normalised to sum 1 */

    /* atom profile of paper-optimized trials: mean over them */
    int n_paper;         /* done paper-optimized trials */
    double *paper_atoms; /* [REPORT_LAYERS][n_atoms] */

    /* ablation */
    int base_n;
    double base_mean, base_sd;
    int n_ablations;
    report_ablation *ablations; /* stage 1, most harmful first */
    int has_stage;              /* the trials carry "stage" */
    int n_steps;
    report_step *steps; /* stage 2, by removed */
} report;

/* ---------- report_source.c: the document ---------- */

/* The campaign object and all its trials (EXPORT format, trials by number)
 * from the coordinator a->connect, page by page. Returns 0 or the exit status
 * (message printed). Caller owns *campaign and *trials. */
int report_fetch_export(const cli_args *a, json_t **campaign, json_t **trials);

/* The same document from the SQLite file path, opened read-only, for the
 * campaign given by name or id. Returns 0, IM_ENOTFOUND (no such campaign) or
 * IM_EDB with err set. Caller owns *campaign and *trials. */
int report_fetch_db(const char *path, const char *campaign_ref, json_t **campaign, json_t **trials,
                    im_error *err);

/* ---------- report_model.c ---------- */

/* Build r from the document (borrowed). Returns 0 or IM_EFORMAT with err set
 * (campaign not an object, trials not an array). On failure r is released. */
int report_build(report *r, const json_t *campaign, const json_t *trials, im_error *err);
void report_release(report *r);

/* ---------- report_text.c / report_html.c ---------- */

/* The text form: summary, best trials, importance, ablation stages. */
void report_text(FILE *f, const report *r);
/* The HTML page. Returns 0, or IM_EIO if writing failed. */
int report_html(FILE *f, const report *r);

#endif /* IM_REPORT_H */
