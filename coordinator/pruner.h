/*
 * pruner.h: stopping unpromising trials early, behind one interface (the
 * campaign file's "pruner"; today "median", as Optuna's MedianPruner).
 *
 * The median rule: a running trial is pruned at epoch e when
 *  - e >= max(1, n_warmup_epochs) (epoch 0 is the untrained network, whose
 *    accuracy says nothing about the goal),
 *  - at least n_startup_trials trials of the campaign have completed, and at
 *    least one of them reported epoch e,
 *  - and the trial's best validation accuracy so far is below the median of
 *    the completed trials' validation accuracies at epoch e (the mean of the
 *    two middle values for an even count).
 * Completed means "done": failed and pruned trials do not count.
 *
 * Workload: one pruner_add per completed trial (O(epochs log n)) and one
 * pruner_should_stop per PROGRESS (O(1): a two-heap running median per
 * epoch), so pruning never re-reads the history. The coordinator rebuilds a
 * pruner at restart by adding the done trials' curves from the database.
 * Not thread-safe; one pruner per campaign; pruner_free releases it.
 */
#ifndef IM_PRUNER_H
#define IM_PRUNER_H

#include "spec.h"

typedef struct pruner pruner;

/* A pruner for spec, or NULL for IM_PRUNER_NONE. Caller owns the result. */
pruner *pruner_new(const im_pruner_spec *spec);

/* A trial completed with val_acc[e] at epochs e = 0..n-1 (NAN: not
 * reported). */
void pruner_add(pruner *p, const double *val_acc, int n);

/* Completed trials so far. */
int pruner_completed(const pruner *p);

/* 1 if a trial whose best validation accuracy up to `epoch` is `best`
 * should stop now, else 0. */
int pruner_should_stop(const pruner *p, int epoch, double best);

/* The median of the completed trials' val_acc at epoch e, NAN if none. */
double pruner_median(const pruner *p, int epoch);

/* Free p and set *p to NULL; NULL-safe. */
void pruner_free(pruner **p);

#endif /* IM_PRUNER_H */
