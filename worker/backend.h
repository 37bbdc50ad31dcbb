/*
 * backend.h: how infomorph-worker runs one trial. A backend takes the trial
 * spec as the coordinator sent it (JSON), trains, reports every epoch through
 * a callback and returns the trial's result as a struct (protocol.h's
 * im_trial_result: status, accuracies, the trainer's curve, the atoms,
 * wall_s, error, and an opaque slot for extra JSON a backend wants to send
 * along). The worker fills in trial and attempt and encodes it once, as the
 * RESULT message. A backend runs in the worker's training thread; it never
 * touches the socket. Workload: one call per trial, minutes of numerics each.
 */
#ifndef IM_WORKER_BACKEND_H
#define IM_WORKER_BACKEND_H

#include "im.h"
#include "protocol.h"
#include "train.h"

#include <jansson.h>
#include <stdatomic.h>

typedef struct wk_run_options {
    const char *data_dir;   /* the worker's data directory */
    im_epoch_fn on_epoch;   /* called after each epoch in the training thread; may be NULL */
    void *user;             /* passed to on_epoch */
    const atomic_int *stop; /* set by another thread to stop at the next batch; may be NULL */
} wk_run_options;

/* A backend's outcome: a trial result that owns everything it points to.
 * Free with wk_result_free. */
typedef struct wk_result {
    im_trial_result r;                     /* trial and attempt 0: the worker's to set */
    char *error;                           /* r.error points here; NULL if none */
    char atom_names[2 * IM_MAX_TERMS][16]; /* r.atoms[i].name point here */
} wk_result;

/* Train the trial spec `spec` (a JSON object; borrowed, only read) with
 * libinfomorph. Always returns a new result owned by the caller: a bad spec,
 * a missing dataset or a numerical failure give status IM_RESULT_FAILED with
 * the error text; a run stopped through opt->stop or the callback gives
 * IM_RESULT_STOPPED with the epochs done. Thread-safe for distinct calls. */
wk_result *wk_builtin_run(const json_t *spec, const wk_run_options *opt);

/* A new IM_RESULT_FAILED result with message (copied) and wall_s, no
 * figures. Caller owns it. */
wk_result *wk_result_failed(const char *message, double wall_s);

/* Free *res and what it owns (r.extra too) and set *res to NULL. NULL-safe. */
void wk_result_free(wk_result **res);

#endif /* IM_WORKER_BACKEND_H */
