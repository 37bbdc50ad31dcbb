/*
 * backend.h: how infomorph-worker runs one trial, and the backend table. A
 * backend is one file (backend_builtin.c, backend_exec.c) that defines a wk_backend plus one line
 * in backends.c. A backend takes the trial spec as the coordinator sent it (JSON), trains, reports
 * every epoch through a callback and returns the trial's result as a struct (protocol.h's
 * im_trial_result: status, accuracies, the trainer's curve, the atoms,
 * wall_s, error, and an opaque slot for extra JSON a backend wants to send
 * along). The worker fills in trial and attempt and encodes it once, as the
 * RESULT message. A backend runs in the worker's training thread; it never
 * touches the socket. Workload: one call per trial, minutes of numerics each.
 *
 * The external-command backend ("exec") runs the operator's command (from
 * the worker's own command line, never from the wire) once per trial in its
 * own process group: the trial goes to its stdin as one JSON object, its
 * stdout's JSON lines are progress and, the last one, the result. It needs
 * SIGPIPE ignored in the process (sigpipe.h does that), so that a command
 * that never reads its stdin cannot kill the worker.
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
    /* the exec backend's: */
    int64_t trial;               /* the trial's id and attempt, passed to the command */
    int attempt;                 /* */
    const json_t *params;        /* the JOB's params (borrowed), or NULL */
    const json_t *campaign_user; /* the campaign's user object (borrowed), or NULL */
    char *const *exec_argv;      /* the command and its arguments, NULL-terminated; NULL: none */
    double trial_timeout_s;      /* the limit per trial in seconds, 0 = none */
    /* exec: called for each progress line instead of on_epoch when set, with
     * the objective's value on that line (NAN if it has none); returns as
     * on_epoch. May be NULL. */
    int (*on_epoch_value)(const im_epoch_stats *s, double value, void *user);
} wk_run_options;

/* A backend's outcome: a trial result that owns everything it points to.
 * Free with wk_result_free. */
typedef struct wk_result {
    im_trial_result r;                     /* trial and attempt 0: the worker's to set */
    char *error;                           /* r.error points here; NULL if none */
    char atom_names[2 * IM_MAX_TERMS][16]; /* r.atoms[i].name point here */
} wk_result;

/* A backend as the table lists it. run() always returns a new result owned
 * by the caller (a failure is IM_RESULT_FAILED with the error text); it must
 * be thread-safe for distinct calls. */
typedef struct wk_backend {
    const char *name;  /* announced in READY's "backends": "builtin", "exec" */
    int needs_command; /* 1: runs only in a worker given a command (--exec) */
    int needs_data;    /* 1: its trials name a dataset of the data directory */
    wk_result *(*run)(const json_t *spec, const wk_run_options *opt);
} wk_backend;

/* The i-th backend of the table, NULL past the end. Thread-safe. */
const wk_backend *wk_backend_at(int i);

/* The backend for a trial spec: the one its "backend" names, the first
 * entry ("builtin") when it names none; NULL for a name not in the table.
 * Thread-safe. */
const wk_backend *wk_backend_for(const json_t *spec);

/* The backend a worker runs: "exec" when it was given a command, else
 * "builtin". Never NULL. Thread-safe. */
const wk_backend *wk_backend_of_worker(int with_command);

/* The names of the backends a worker runs (with_command: whether it was
 * given a command) as a JSON list, for READY. Caller owns the new
 * reference. */
json_t *wk_backend_names(int with_command);

/* Train the trial spec `spec` (a JSON object; borrowed, only read) with
 * libinfomorph. Always returns a new result owned by the caller: a bad spec,
 * a missing dataset or a numerical failure give status IM_RESULT_FAILED with
 * the error text; a run stopped through opt->stop or the callback gives
 * IM_RESULT_STOPPED with the epochs done. Thread-safe for distinct calls. */
wk_result *wk_builtin_run(const json_t *spec, const wk_run_options *opt);

/* Run the trial through the command opt->exec_argv (backend_exec.c).
 * spec: {"backend": "exec", "seed": S, "objective": KEY}; KEY defaults to
 * "val_acc". Always returns a new result owned by the caller: FAILED with
 * the reason and the tail of the command's stderr (a non-zero exit, a
 * signal, the timeout, no result line, invalid JSON, no finite objective,
 * an accuracy outside [0, 1]), STOPPED after opt->stop or the callback,
 * DONE with r.extra {"value": objective, "output": the result line,
 * "curve_values": the objective by curve entry (null where a progress line
 * had none)}. The
 * command's process group is always ended and reaped before it returns.
 * Thread-safe for distinct calls. */
wk_result *wk_exec_run(const json_t *spec, const wk_run_options *opt);

/* Split a command line into words as a POSIX shell would, without running
 * a shell or expanding anything: blanks separate words; '...' keeps
 * everything literally; "..." keeps everything but a backslash before
 * one of $ ` " \ or a newline; a backslash outside quotes keeps the next
 * character. On success *argv_out is a new NULL-terminated array (free it
 * with wk_exec_argv_free) of at least one word. Returns 0, or IM_EFORMAT
 * (an unterminated quote, a trailing backslash, no word) with err set. */
int wk_exec_split(const char *line, char ***argv_out, im_error *err);

/* Free an array of wk_exec_split and set *argv to NULL. NULL-safe. */
void wk_exec_argv_free(char ***argv);

/* A new IM_RESULT_FAILED result with message (copied) and wall_s, no
 * figures. Caller owns it. */
wk_result *wk_result_failed(const char *message, double wall_s);

/* Free *res and what it owns (r.extra too) and set *res to NULL. NULL-safe. */
void wk_result_free(wk_result **res);

#endif /* IM_WORKER_BACKEND_H */
