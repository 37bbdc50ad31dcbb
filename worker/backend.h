/*
 * backend.h: how infomorph-worker runs one trial, and the backend table. A
 * backend is one file (backend_builtin.c; backend_exec.c later) that defines
 * a wk_backend plus one line in backends.c. A backend takes the trial spec
 * as the coordinator sent it (JSON), trains, reports every epoch through a
 * callback and returns the body of the RESULT message:
 *
 *   {"status": "done"|"stopped"|"failed", "val_acc", "test_acc",
 *    "curve": [epoch objects], "atoms": {"hidden": {...}, "output": {...}},
 *    "wall_s", "error": string or null}
 *
 * The worker adds the message type, version, trial and attempt. A backend
 * runs in the worker's training thread; it never touches the socket.
 * Workload: one call per trial, minutes of numerics each.
 */
#ifndef IM_WORKER_BACKEND_H
#define IM_WORKER_BACKEND_H

#include "im.h"
#include "train.h"

#include <jansson.h>
#include <stdatomic.h>

typedef struct wk_run_options {
    const char *data_dir;   /* the worker's data directory */
    im_epoch_fn on_epoch;   /* called after each epoch in the training thread; may be NULL */
    void *user;             /* passed to on_epoch */
    const atomic_int *stop; /* set by another thread to stop at the next batch; may be NULL */
} wk_run_options;

/* A backend as the table lists it. run() always returns a new RESULT body
 * owned by the caller (a failure is status "failed" with the error text);
 * it must be thread-safe for distinct calls. */
typedef struct wk_backend {
    const char *name; /* announced in READY's "backends": "builtin" */
    json_t *(*run)(const json_t *spec, const wk_run_options *opt);
} wk_backend;

/* The i-th backend of the table, NULL past the end. Thread-safe. */
const wk_backend *wk_backend_at(int i);

/* The backend for a trial spec: today every spec goes to the first entry
 * ("builtin"). Never NULL. Thread-safe. */
const wk_backend *wk_backend_for(const json_t *spec);

/* The names of the table's backends as a JSON list, for READY. Caller owns
 * the new reference. */
json_t *wk_backend_names(void);

/* Train the trial spec `spec` (a JSON object; borrowed, only read) with
 * libinfomorph. Always returns a new RESULT body owned by the caller: a bad
 * spec, a missing dataset or a numerical failure give status "failed" with
 * the error text; a run stopped through opt->stop or the callback gives
 * "stopped" with the epochs done. Thread-safe for distinct calls. */
json_t *wk_builtin_run(const json_t *spec, const wk_run_options *opt);

/* One epoch's figures as a JSON object {epoch, train_acc, val_acc, test_acc,
 * goal_hidden, goal_out, seconds}; non-finite numbers become null.
 * Caller owns the new reference. Thread-safe. */
json_t *wk_epoch_to_json(const im_epoch_stats *s);

/* A finite number as a JSON real, anything else as null. New reference. */
json_t *wk_json_number(double x);

#endif /* IM_WORKER_BACKEND_H */
