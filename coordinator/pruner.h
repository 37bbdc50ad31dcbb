/*
 * pruner.h: stopping unpromising trials early, behind one interface, and
 * the pruner table (the campaign file's "pruner"). A pruner is one file
 * (pruner_percentile.c, ...) that defines a pruner_def (its name, options with
 * defaults, parsing and JSON, and its constructor) plus one line in
 * pruners.c. "none" is the table's entry without a constructor.
 *
 * The coordinator adds the learning curve of every completed (done) trial
 * of the campaign and asks, at every PROGRESS of a running trial, whether
 * it should stop; at restart it rebuilds the pruner by adding the done
 * trials' curves from the database.
 *
 * Not thread-safe; one pruner per campaign; pruner_free releases it.
 */
#ifndef IM_PRUNER_H
#define IM_PRUNER_H

#include "campaign_spec.h"
#include "options.h"

typedef struct pruner pruner;

typedef struct pruner_ops {
    /* A trial completed with val_acc[e] at epochs e = 0..n-1 (NAN: not
     * reported). */
    void (*add)(pruner *p, const double *val_acc, int n);
    /* 1 if a trial whose best validation accuracy up to `epoch` is `best`
     * should stop now. */
    int (*should_stop)(const pruner *p, int epoch, double best);
    /* The reference it compares with at epoch e (for the median pruner,
     * the median), NAN if none. */
    double (*reference)(const pruner *p, int epoch);
    void (*destroy)(pruner *p);
} pruner_ops;

/* The common head of every pruner; implementations embed it first. */
struct pruner {
    const pruner_ops *ops;
    im_pruner_spec spec;
    int completed; /* trials added */
};

typedef struct pruner_def {
    opt_member opt; /* its name and option keys */
    /* Set its options' defaults in p (every pruner's are set). May be NULL. */
    void (*defaults)(im_pruner_spec *p);
    int (*set_option)(im_pruner_spec *p, const char *key, const json_t *v, const char *field,
                      im_error *err);
    void (*options_to_json)(const im_pruner_spec *p, json_t *obj); /* may be NULL */
    /* After parsing: the defaults that depend on the campaign (its epochs
     * per trial), for the options the file did not give. May be NULL. */
    void (*campaign_defaults)(im_pruner_spec *p, int epochs);
    /* A new pruner, owned by the caller; NULL for a table entry that never
     * prunes ("none"). */
    pruner *(*create)(const im_pruner_spec *spec);
} pruner_def;

/* The i-th pruner of the table (pruners.c), NULL past the end. */
const pruner_def *pruner_def_at(int i);

/* The family for opt_parse_named ("pruner"; null means "none"); target is
 * the im_pruner_spec. */
void pruner_family(opt_family *fam);

/* The pruner of spec, or NULL when it never prunes. Caller owns the result. */
pruner *pruner_new(const im_pruner_spec *spec);

/* A trial completed with val_acc[e] at epochs e = 0..n-1; NULL p is a no-op. */
void pruner_add(pruner *p, const double *val_acc, int n);

/* Completed trials so far (0 for NULL). */
int pruner_completed(const pruner *p);

/* 1 if the trial should stop now, else 0 (always 0 for NULL). */
int pruner_should_stop(const pruner *p, int epoch, double best);

/* What a trial's best so far is compared with at epoch e (the median
 * pruner: the median of the completed trials' val_acc at epoch e), NAN if
 * none (or NULL p). */
double pruner_reference(const pruner *p, int epoch);

/* Free p and set *p to NULL; NULL-safe. */
void pruner_free(pruner **p);

#endif /* IM_PRUNER_H */
