/*
 * campaign.h: the campaigns of the coordinator and their life cycle, in
 * memory, mirrored in the trial store (ARCHITECTURE.md, "Campaigns").
 *
 * Kinds are plug-ins (kind.h: `search`, `fixed`, `ablation`): a kind plans
 * the points, gives each point's gamma and label, hears when a point or a
 * stage ends and when another campaign ends. Every point runs
 * seeds_per_point trials with training seeds 1..R; when every seed of a
 * point has ended, the point's value (the mean objective of its done
 * seeds, in the campaign's direction: negated when it minimises, so that
 * higher is better for the kind and its sampler) and state go to the kind
 * (a search's sampler), and until then the point is pending
 * (campaign_pending).
 *
 * A campaign with backend "exec" has named, typed parameters instead of a
 * gamma (spec.params): a trial's values are those parameters in their
 * order, its JOB carries them by name ("params") and its spec is
 * {"backend": "exec", "seed": S, "objective": KEY}; only workers that run
 * that backend get its trials.
 *
 * Life cycle: a campaign is "queued" when submitted ("waiting" instead, in
 * memory and in the store, while it waits for another campaign: a chained
 * ablation; "queued" when that one is done), "running" from its first
 * hand-out, "done" when every planned trial has ended, or "cancelled".
 * A trial is created in the database (status "queued") before it is handed
 * out; the points of a campaign are created lazily, one point (its R trials)
 * at a time, when a worker asks for work and no created trial is queued.
 * Point N of a search is the sampler's proposal N, which depends only on the
 * campaign seed, N and the history, so a restart continues the same
 * sequence. Hand-out order: campaigns by priority (higher first), then by
 * submission (id); within a campaign, trials queued again after a lost
 * attempt first, then by number; after a restart, the trials that were out
 * are held for a lease (their workers may resume them) and then go first.
 *
 * Invariants (between loop passes, after a commit):
 *  - the set holds every campaign that is queued, running or waiting, plus cancelled
 *    ones while they still have running trials; finished campaigns are only
 *    in the database;
 *  - every trial that is queued or running in the database is in the set's
 *    map, and in its campaign's queue or held list (queued) or in `running`
 *    (running), nowhere else; ended trials are freed.
 * Errors: functions return 0 or an IM_E* code with err set. IM_EDB means the
 * database failed and memory may no longer match it: the caller must roll
 * back and stop (a restart resumes from the database).
 * Not thread-safe: the coordinator's loop is the only user.
 */
#ifndef IM_CAMPAIGN_H
#define IM_CAMPAIGN_H

#include "campaign_spec.h"
#include "im.h"
#include "kind.h"
#include "lattice.h"
#include "protocol.h"
#include "pruner.h"
#include "sampler.h"
#include "store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct campaign campaign;

/* A trial in memory is queued or running; lifecycle.h decides the moves
 * between the two and out of memory. */
typedef enum { TRIAL_QUEUED = 0, TRIAL_RUNNING } trial_state;

/* The seeds of an open point that have ended so far. */
typedef struct point_tally {
    int ended, done, pruned;
    double sum;         /* of the done seeds' values (val_acc for built-in campaigns) */
    int pruned_valued;  /* pruned seeds with a last reported value */
    double pruned_best; /* the best of those in the campaign's direction, negated when it
                           minimises (valid when pruned_valued > 0) */
} point_tally;

typedef struct trial {
    int64_t id; /* trials.id */
    campaign *c;
    int number, point;
    uint64_t seed;
    int attempt;       /* the current (last) attempt in the store; 0 = never handed out */
    int wire_attempt;  /* the attempt number the worker knows (differs after a re-lease) */
    int n_lost;        /* attempts that ended "lost" (a lease ran out) */
    int n_interrupted; /* attempts that ended "interrupted" (restart, worker shut down) */
    trial_state state;
    json_t *spec;                      /* the trial spec object sent in JOB, owned */
    json_t *params;                    /* exec: the JOB's "params" by name, owned; else NULL */
    double gamma[SAMPLER_MAX_PARAMS];  /* [im_campaign_n_values]: the gamma, or the params */
    char worker[IM_WIRE_NAME_MAX + 1]; /* the worker of the last attempt, "" if none */
    /* while running */
    double deadline;         /* monotonic seconds at which the lease runs out */
    double best_val;         /* best val_acc reported in PROGRESS, NAN if none */
    const char *stop_reason; /* NULL, or the STOP reason for the next PROGRESS/HEARTBEAT */
    size_t slot;             /* index in the set's running array */
    /* the objective of the RESULT being recorded (campaign_trial_result) */
    double value; /* NAN = unknown */
    char *output; /* an exec result line as JSON text, owned; NULL */
} trial;

struct campaign {
    int64_t id;
    char name[IM_CAMPAIGN_NAME_MAX + 1];
    im_campaign_spec spec; /* owned */
    const kind_def *kind;  /* its entry in the kind table */
    im_lattice lat;        /* for the gamma components' short names */
    store_campaign_status status;
    int n_points;                   /* points planned */
    int next_point;                 /* the next point to create */
    int next_number;                /* the next trial number */
    double *points;                 /* ablation: [n_points][spec.n_terms], owned; else NULL */
    char (*labels)[STORE_NAME_MAX]; /* ablation: [n_points] trial labels, owned; else NULL */
    sampler *smp;                   /* search: owned; NULL otherwise */
    void *kind_data;                /* the kind's own state, freed by its release hook */
    pruner *prn;                    /* the campaign's pruner, owned; NULL for none */
    /* a built-in trial's estimated memory in bytes (from the train spec, at
     * submission or resume); 0 for exec, whose command's memory is unknown */
    uint64_t need_bytes;
    /* the points created whose seeds have not all ended (after a restart,
     * those of before only when the kind wants history and they were
     * replayed): open_x[i] holds the gamma; O(points in flight) */
    sampler_point *open_x; /* [n_open] */
    point_tally *open_n;   /* [n_open] */
    size_t n_open, open_cap;
    trial **queue; /* ring of queued trials */
    size_t q_head, q_len, q_cap;
    trial **held;      /* queued trials kept for their last worker after a restart */
    size_t n_held;     /* (they join the queue's front at hold_until) */
    double hold_until; /* monotonic seconds */
    int64_t n_running;
    /* for STATUS: progress during this run of the coordinator */
    double first_handout; /* monotonic seconds, 0 = none yet */
    int64_t ended_this_run;
};

typedef struct campaign_set {
    campaign **v; /* active campaigns, by priority (higher first), then id */
    size_t n, cap;
    trial **map; /* open addressing by trial id, map_cap a power of two */
    size_t map_n, map_cap;
    trial **running; /* trials out on workers, any order */
    size_t n_running, running_cap;
    /* 0, or the most memory a trial may need (im_train_spec_memory_bytes):
     * campaigns whose trials need more are refused at submission */
    uint64_t max_trial_bytes;
} campaign_set;

void campaign_set_init(campaign_set *cs);

/* Free every campaign and trial in memory (the database is not touched). */
void campaign_set_release(campaign_set *cs);

/* Resume after a start: mark every running attempt interrupted (its trial
 * queued again), then load every queued, running or waiting campaign, its queued
 * trials and (for samplers and pruners that learn) its history. Trials that
 * were handed out before are held back until now + hold_s, so that the
 * workers still running them can resume their leases (campaign_trial_relet)
 * before anyone else gets them. *n_requeued (may be NULL) gets the number of
 * trials that were running. A campaign whose stored spec no longer parses
 * is logged and left alone. Returns 0, IM_EDB. */
int campaign_set_resume(campaign_set *cs, store *st, double now, double hold_s, int64_t *n_requeued,
                        im_error *err);

/* Move held trials whose time has come to the front of their queues.
 * Returns the earliest hold still pending (monotonic seconds), or INFINITY. */
double campaign_set_release_holds(campaign_set *cs, double now);

/* Validate and insert a new campaign from a campaign file's JSON object.
 * Returns 0 and *out (owned by the set), IM_EFORMAT / IM_ERANGE / IM_EINVAL
 * with err naming the field or saying the name is taken, IM_EDB. */
int campaign_submit(campaign_set *cs, store *st, const json_t *obj, campaign **out, im_error *err);

/* As campaign_submit, but idempotent: when a campaign of that name exists
 * with the very same (canonical) spec and has not ended, *out is that
 * campaign, *existed 1 and nothing is inserted, so that a client that
 * retries a SUBMIT whose reply it missed gets the same answer. A different
 * spec under a taken name is refused as before. */
int campaign_submit_or_find(campaign_set *cs, store *st, const json_t *obj, campaign **out,
                            int *existed, im_error *err);

/* The pending points of c (created, not every seed ended yet): *out points
 * into c's memory (valid until c changes). Returns their number. After a
 * restart the points created before it count only for a kind that wants
 * history (kind_def.wants_history), whose ended points are replayed. */
int campaign_pending(const campaign *c, const sampler_point **out);

/* A point's value and state from its seeds' tally: POINT_COMPLETE when one
 * seed was done, valued by the mean val_acc of the done seeds; else
 * POINT_PRUNED when one was pruned, valued by the best last reported val_acc
 * of the pruned seeds (NAN when none reported one); else POINT_FAILED, NAN. */
point_state point_aggregate(const point_tally *n, double *value);

/* Trials the campaign runs in all (points x seeds_per_point). */
int64_t campaign_planned(const campaign *c);

/* 1 if c has not ended: queued, running, or waiting for another campaign. */
int campaign_is_active(const campaign *c);

/* Hand one trial to worker `worker`: the first campaign (in hand-out order)
 * that is queued or running, that runs on a worker with `backends` and
 * `datasets` (campaign_runs_on) whose trials fit in max_memory bytes
 * (campaign_fits_memory; -1: no cap known), and that has a queued trial or
 * a point left to create. The trial is
 * started in the store (attempt + 1) and moved to `running` with deadline
 * now + lease_s. Returns 0 with *out the trial, or 0 with *out NULL when
 * nothing can be handed out; IM_EDB. */
int campaign_hand_out(campaign_set *cs, store *st, const char *worker, const json_t *backends,
                      const json_t *datasets, int64_t max_memory, double now, double lease_s,
                      trial **out, im_error *err);

/* 1 if c's trials fit a worker that offers max_memory bytes: -1 (no cap
 * known) fits all; exec trials (not estimated, need_bytes 0) fit any. */
int campaign_fits_memory(const campaign *c, int64_t max_memory);

/* 1 if c's trials may go to a worker that runs `backends` (NULL: a worker
 * that says nothing runs "builtin") and has `datasets` (NULL = any): its
 * backend is listed and, for the built-in trainer, its train spec's
 * dataset. */
int campaign_runs_on(const campaign *c, const json_t *backends, const json_t *datasets);

/* 1 if a worker with `backends` (as campaign_runs_on) runs c's backend. */
int campaign_backend_fits(const campaign *c, const json_t *backends);

/* Take what a RESULT says about the objective into t (t->value and
 * t->output), before lifecycle_result records it: val_acc for built-in
 * campaigns; for exec ones the worker's "value" and "output" (protocol.h). */
void campaign_trial_take_result(trial *t, const im_trial_result *r);

/* 1 if c is queued or running and has a trial to hand out now: a queued one
 * (not held) or a point left to create. */
int campaign_has_work(const campaign *c);

/* The running or queued trial with this id, or NULL. */
trial *campaign_set_trial(const campaign_set *cs, int64_t id);

/* The active campaign with this name / id, or NULL. */
campaign *campaign_set_find(const campaign_set *cs, const char *name, int64_t id);

/* The running attempt of t ended with a result (r->status as lifecycle.h
 * decided): record it (store_trial_finish with r), tally its point, tell
 * (a done trial, with its val_acc by epoch val_by_epoch[0..n_epochs), may be
 * NULL) the pruner, free t and end the stage when nothing is left. t is freed in every case but
 * IM_EDB. Returns 0, IM_EINVAL (t is not running), IM_EDB. */
int campaign_trial_finish(campaign_set *cs, store *st, trial *t, const store_trial_result *r,
                          const double *val_by_epoch, int n_epochs, im_error *err);

/* A PROGRESS of running t: keep its best score (campaign_progress_score)
 * and ask the campaign's pruner; when it says stop, t->stop_reason becomes
 * "pruned" (sent as STOP in the reply). */
void campaign_trial_progress(trial *t, int epoch, double val_acc);

/* What the pruner compares for an epoch of t (higher is better): val_acc
 * for built-in campaigns; an exec campaign's objective `value` (NAN:
 * unknown), negated when the campaign minimises. */
double campaign_progress_score(const trial *t, double val_acc, double value);

/* The running attempt of t was lost (lease expiry, a worker that shut down
 * or gave the trial up): the attempt is recorded as `attempt`
 * (STORE_ATTEMPT_LOST or STORE_ATTEMPT_INTERRUPTED, counted in t->n_lost or
 * t->n_interrupted) with `reason`, and t becomes `to` as lifecycle.h
 * decided: STORE_TRIAL_QUEUED (ahead of the others), STORE_TRIAL_FAILED (no
 * attempts left) or STORE_TRIAL_CANCELLED (its campaign was cancelled); an
 * ended t is freed. Returns 0, IM_EINVAL (t is not running, another `to`),
 * IM_EDB. */
int campaign_trial_lost(campaign_set *cs, store *st, trial *t, const char *reason,
                        store_trial_status to, store_attempt_status attempt, im_error *err);

/* Re-lease: a worker reports progress or a result for an attempt of t that
 * was given up (its lease ran out, or the coordinator restarted), and no one
 * else holds t: rather than waste that work, t is started again for
 * `worker` (a new attempt in the store; the worker keeps using
 * wire_attempt) and an event "lease_resumed" is recorded. Returns 0,
 * IM_EINVAL (t is not queued, or its campaign is not active), IM_EDB. */
int campaign_trial_relet(campaign_set *cs, store *st, trial *t, const char *worker,
                         int wire_attempt, double now, double lease_s, im_error *err);

/* Cancel c: its queued trials are cancelled in the store and freed, the
 * campaign becomes "cancelled", its running trials get stop_reason
 * "cancelled". *n_cancelled (may be NULL) gets the number of queued trials
 * cancelled. Returns 0, IM_EDB. */
int campaign_cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, im_error *err);

#endif /* IM_CAMPAIGN_H */
