/*
 * lifecycle.h: a trial's life, decided in one place. The broker routes each
 * worker message here (hand-out, lease renewal, progress, result, a lost
 * or interrupted attempt, cancellation); this module decides the event from
 * the message, the trial's state and its campaign's, finds the transition in
 * the table below, and has campaign.c (queues, memory) and the store
 * (rows) carry it out. The broker never reads a trial's state or writes its
 * lease; campaign.c keeps the queue bookkeeping that goes with each move.
 *
 * A trial is queued, running, done, failed, pruned or cancelled; each
 * hand-out is an attempt: running, done, lost, failed, interrupted, pruned
 * or cancelled (the statuses of store.h, and of the schema's CHECK lists in
 * schema/0001_init.sql, the one place the database names them).
 *
 * The transitions are LIFECYCLE_TABLE below: (trial from, event, trial to,
 * the attempt's status after). A new event is one line there and its case
 * in lifecycle.c's deciding functions.
 *
 * Not thread-safe: the coordinator's loop is the only user. Errors as
 * campaign.h (IM_EDB: roll back and stop).
 */
#ifndef IM_LIFECYCLE_H
#define IM_LIFECYCLE_H

#include "campaign.h"
#include "im.h"
#include "protocol.h"
#include "store.h"

/* A trial whose lease runs out for the LIFECYCLE_MAX_ATTEMPTS-th time (its
 * worker went silent: lost attempts) fails instead of being queued again.
 * Interrupted attempts (the coordinator restarted, the worker was told to
 * shut down, e.g. by a job's time limit) do not count there: they have their
 * own, larger cap, LIFECYCLE_MAX_INTERRUPTED, so that a trial longer than a
 * job's time limit cannot loop for ever. Failed trials are not retried. */
#define LIFECYCLE_MAX_ATTEMPTS    3
#define LIFECYCLE_MAX_INTERRUPTED 10

/* X(trial from, event, trial to, attempt after): the whole table. */
#define LIFECYCLE_TABLE(X)                                                                         \
    /* a worker asks for work and gets the trial: a new attempt */                                 \
    X(QUEUED, HAND_OUT, RUNNING, RUNNING)                                                          \
    /* a worker speaks for an attempt given up that no one else took */                            \
    X(QUEUED, RELET, RUNNING, RUNNING)                                                             \
    /* RESULT "done" / "failed" */                                                                 \
    X(RUNNING, DONE, DONE, DONE)                                                                   \
    X(RUNNING, FAILED, FAILED, FAILED)                                                             \
    /* RESULT "stopped" (or the attempt lost) after STOP "pruned" */                               \
    X(RUNNING, PRUNED, PRUNED, PRUNED)                                                             \
    /* RESULT "stopped" after STOP "cancelled" */                                                  \
    X(RUNNING, CANCELLED, CANCELLED, CANCELLED)                                                    \
    /* RESULT "interrupted", "stopped" unasked, BYE: the worker gave it up */                      \
    X(RUNNING, GIVEN_UP, QUEUED, INTERRUPTED)                                                      \
    X(RUNNING, GIVEN_UP_LAST, FAILED, INTERRUPTED)                                                 \
    /* no PROGRESS or HEARTBEAT for a lease, attempts left / none left */                          \
    X(RUNNING, EXPIRED, QUEUED, LOST)                                                              \
    X(RUNNING, EXPIRED_LAST, FAILED, LOST)                                                         \
    /* lost or given up while its campaign is cancelled */                                         \
    X(RUNNING, LOST_CANCELLED, CANCELLED, LOST)                                                    \
    /* its campaign is cancelled while it waits */                                                 \
    X(QUEUED, CANCEL, CANCELLED, NONE)                                                             \
    /* the coordinator restarts while it runs (store_requeue_running) */                           \
    X(RUNNING, RESTART, QUEUED, INTERRUPTED)

typedef enum {
#define LC_EVENT_ENUM(from, ev, to, att) LC_##ev,
    LIFECYCLE_TABLE(LC_EVENT_ENUM)
#undef LC_EVENT_ENUM
        LC_N_EVENTS
} lc_event;

typedef struct lc_rule {
    store_trial_status from;
    lc_event event;
    store_trial_status to;
    int attempt; /* store_attempt_status after, or -1 (no attempt involved) */
} lc_rule;

/* The rule of event, from the table. */
const lc_rule *lifecycle_rule(lc_event event);

/* "hand_out", "done", ... */
const char *lifecycle_event_name(lc_event event);

/* ---- what the broker calls ---- */

/* Hand a trial to worker, which runs `backends`, has `datasets` and offers
 * max_memory bytes (-1: no cap known) (campaign_hand_out): HAND_OUT, lease
 * until now + lease_s. *out NULL when there is nothing to hand out.
 * Returns 0, IM_EDB. */
int lifecycle_hand_out(campaign_set *cs, store *st, const char *worker, const json_t *backends,
                       const json_t *datasets, int64_t max_memory, double now, double lease_s,
                       trial **out, im_error *err);

/* How a message about attempt `attempt` of t relates to it. */
typedef enum {
    LC_MATCH_CURRENT = 0, /* t is running that attempt */
    LC_MATCH_RELET,       /* t is queued and had that attempt: it may be leased again */
    LC_MATCH_STALE        /* another attempt runs, or t never had it */
} lc_match;
lc_match lifecycle_match(const trial *t, int attempt);

/* RELET: t (LC_MATCH_RELET) is started again for worker, who keeps its
 * wire_attempt. Returns 0, IM_EINVAL, IM_EDB. */
int lifecycle_relet(campaign_set *cs, store *st, trial *t, const char *worker, int wire_attempt,
                    double now, double lease_s, im_error *err);

/* A PROGRESS or HEARTBEAT of the running t: its lease runs until now + lease_s. */
void lifecycle_renew(trial *t, double now, double lease_s);

/* A PROGRESS: the pruner may decide to stop t (lifecycle_stop_reason). */
void lifecycle_progress(trial *t, int epoch, double val_acc);

/* The STOP reason to send for t ("pruned", "cancelled"), or NULL. */
const char *lifecycle_stop_reason(const trial *t);

/* 1 if t is running and its lease ran out by now. */
int lifecycle_expired(const trial *t, double now);

/* When t's lease runs out (monotonic seconds), INFINITY when not running. */
double lifecycle_deadline(const trial *t);

/* 1 if a RESULT with `status` for attempt `attempt` of t is a late word
 * about an attempt already given up (t queued, the worker interrupted or
 * stopped): accepted, nothing to record. */
int lifecycle_late_give_up(const trial *t, int attempt, im_result_status status);

/* The event a RESULT with `status` is for the running t. */
lc_event lifecycle_result_event(const trial *t, im_result_status status);

/* 1 if event ends t with a result worth its curve and atoms (DONE, FAILED,
 * PRUNED, CANCELLED from a RESULT). */
int lifecycle_keeps_result(lc_event event);

/* Carry out a RESULT with `status` on the running t (the event of
 * lifecycle_result_event): a result ends it with r (r->status is set from
 * the table), a give-up goes through lifecycle_lost; val_by_epoch as
 * campaign_trial_finish. t may be freed. Returns 0, IM_EINVAL, IM_EDB. */
int lifecycle_result(campaign_set *cs, store *st, trial *t, im_result_status status,
                     store_trial_result *r, const double *val_by_epoch, int n_epochs,
                     im_error *err);

/* The event a lost attempt of the running t is (lifecycle_lost). */
lc_event lifecycle_lost_event(const trial *t, int expired);

/* The running attempt of t is lost: `expired` non-zero for a lease that ran
 * out (which counts against LIFECYCLE_MAX_ATTEMPTS), zero for a worker that
 * shut down or gave it up. PRUNED when it was told to stop for the pruner,
 * LOST_CANCELLED when its campaign is cancelled, else EXPIRED(_LAST) or
 * GIVEN_UP. t may be freed. Returns 0, IM_EINVAL, IM_EDB. */
int lifecycle_lost(campaign_set *cs, store *st, trial *t, const char *reason, int expired,
                   im_error *err);

/* CANCEL c's queued trials (campaign_cancel); its running ones get STOP
 * "cancelled" and end CANCELLED or LOST_CANCELLED. Returns 0, IM_EDB. */
int lifecycle_cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, im_error *err);

#endif /* IM_LIFECYCLE_H */
