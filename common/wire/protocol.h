/*
 * protocol.h: the wire messages between the coordinator, its workers and the
 * `infomorph` command: JSON bodies over ZeroMQ, their encoding, decoding,
 * size limit and version check. All decoding of network data happens here;
 * the decoder never crashes and never asserts on bad bytes: it returns
 * IM_EPROTO with a message naming what is wrong.
 *
 * ## Transport
 *
 * One message = one ZeroMQ frame holding one JSON object (UTF-8, at most
 * IM_MSG_MAX_BYTES) with "type" (a string below) and "v" (the protocol
 * version, IM_PROTOCOL_VERSION; any other version is refused with ERROR).
 * Unknown keys are ignored (so a later minor addition does not break older
 * peers); known keys of the wrong type or out of range are errors.
 * The coordinator binds a ROUTER for workers (default tcp://127.0.0.1:5555)
 * and a ROUTER for clients (default tcp://127.0.0.1:5556). Workers and the
 * `infomorph` command use DEALER sockets and send single-frame messages; the
 * ROUTER sees [identity][body]. (A REQ socket also works: every frame before
 * the last is an envelope that the reply repeats.) Every request gets exactly
 * one reply, so a peer that waits longer than its timeout for a reply may
 * assume the coordinator is gone and reconnect. Malformed, oversized or
 * unknown messages get {"type": "ERROR", "message": ...}; the coordinator
 * logs them and keeps serving.
 *
 * Identifiers: "trial" is the trial's id in the database (an integer >= 1,
 * unique over all campaigns); "attempt" counts the hand-outs of that trial
 * (1, 2, ...). A number that is unknown or not finite is sent as null
 * (decoded as NAN). Every number is checked against its range, and one out
 * of range is refused with an ERROR naming the field: accuracies (train_acc,
 * val_acc, test_acc) are fractions in [0, 1]; seconds and wall_s are in
 * [0, IM_WIRE_SECONDS_MAX]; goal_hidden, goal_out and the atoms are bits in
 * [-IM_WIRE_BITS_MAX, IM_WIRE_BITS_MAX]; epoch is in [0, IM_SPEC_MAX_EPOCHS].
 * Names (worker, host, version, campaign, reason, note, db, the entries of
 * backends and datasets) never contain control characters (bytes below 0x20
 * and 0x7f); free-form texts (error, message) may, and are escaped wherever
 * they are printed or logged.
 *
 * ## Worker -> coordinator (each answered by exactly one reply)
 *
 * READY {worker, host, pid, backends, threads, version, datasets, max_memory}
 *     The worker is free and asks for one trial. worker (required): the
 *     worker's unique name, e.g. "host:pid"; host, version: strings; pid,
 *     threads: integers >= 0; backends: list of strings ("builtin", "exec");
 *     datasets: list of the dataset folder names it has; when present, only
 *     trials whose spec's "dataset" is listed are handed to it (absent = any).
 *     A worker that gets NOJOB while a campaign with work waits for a
 *     dataset it lacks is logged (a warning) and recorded as an event
 *     "dataset_missing" once per worker and dataset; STATUS says why such a
 *     campaign waits. max_memory: the most memory (bytes, an integer >= 0)
 *     a trial may take on this worker (its --max-memory, by default half of
 *     the machine's memory divided by its --share); when present, only
 *     trials of the built-in trainer whose estimated need (the coordinator's
 *     im_train_spec_memory_bytes of the campaign's train spec) is at most
 *     max_memory are handed to it (absent = no cap known: any trial);
 *     exec trials are not estimated and go to any worker of their backend.
 *     A worker that gets NOJOB while a campaign with work needs more is
 *     logged (a warning) and recorded as an event "memory_short" once per
 *     worker and campaign; STATUS's "waiting" says "needs N GB, the largest
 *     worker offers M GB".
 *   -> JOB {trial, attempt, db, lease_s, campaign, number, spec, user, params}
 *     trial, attempt, db: what to echo in every later message about it;
 *     db: the identity of the coordinator's database (a string of 1 to
 *     IM_WIRE_DB_MAX bytes, today 32 hex characters: a random id the
 *     database keeps, made once when it was created; a backup of it has the
 *     same). Trial ids and attempt numbers mean something only in one
 *     database: a coordinator restarted on the same endpoints with another
 *     database must not take a worker's report about a trial of the first
 *     one for its own trial of that id;
 *     lease_s: the lease in seconds: send PROGRESS or HEARTBEAT at least
 *     every lease_s / 3, or the attempt is declared lost and the trial is
 *     handed to another worker; campaign: the campaign's name; number: the
 *     trial's 0-based number in its campaign; spec: the trial spec object
 *     (spec.h's JSON, gamma and seed set for this trial); user: the
 *     campaign's "user" object, or absent; params: the trial's parameters
 *     by name (a finite number or a string each), or absent. A trial for
 *     the external-command backend has spec {"backend": "exec", "seed": S,
 *     "objective": KEY} (the key of its result line that holds the
 *     objective); a spec without "backend" is the built-in trainer's.
 *   -> NOJOB {retry_ms}: nothing to do now; send READY again after retry_ms.
 *
 * PROGRESS {trial, attempt, db, worker, epoch, train_acc, val_acc, test_acc,
 *           goal_hidden, goal_out, seconds}
 *     After each epoch (epoch 0 is the untrained network); everything but
 *     trial, attempt, db and epoch may be null or absent. db: the JOB's,
 *     echoed; worker: the sender's name, as in its READY (so that the
 *     coordinator knows who speaks even on a connection that sent no READY,
 *     e.g. after the coordinator restarted). The coordinator records
 *     the epoch and renews the lease. An exec trial may add "value", its
 *     objective at this epoch (any finite number, or null): the pruner of a
 *     campaign with another objective than val_acc reads it. Its RESULT
 *     then adds "curve_values", the objective by curve entry.
 * HEARTBEAT {trial, attempt, db, worker}
 *     Renews the lease during a long epoch (trial 0 = idle, just alive: no
 *     db needed). db and worker as in PROGRESS.
 *   -> CONTINUE {trial, attempt}: go on.
 *   -> STOP {trial, attempt, reason}: stop this trial now. reason:
 *     "pruned" (the pruner stopped it), "cancelled" (its campaign was
 *     cancelled), "lost" (the lease ran out and the trial went to another
 *     worker), "unknown" (no such trial or attempt, or it has ended, or the
 *     message's db is absent or not the coordinator's database, or the
 *     attempt is not the sender's: drop the trial and send READY).
 *     For "pruned" and "cancelled" send a RESULT with status "stopped" and
 *     the curve so far; for "lost" and "unknown" a RESULT is not needed.
 *     An attempt that was given up (its lease ran out, or the coordinator
 *     restarted) while no other worker took the trial is not wasted: its
 *     next PROGRESS, HEARTBEAT or RESULT resumes the lease (the database
 *     records a new attempt; the worker goes on using its attempt number),
 *     but only when it comes from the worker the attempt was handed to (the
 *     message's "worker", else the name of the connection's READY); from
 *     any other worker it gets STOP "unknown" (a RESULT: ACK "superseded").
 *
 * Trial messages without the right db: a PROGRESS, HEARTBEAT (trial >= 1)
 * or RESULT whose db is absent (a worker older than this field) or differs
 * from the coordinator's database is refused and changes nothing: STOP
 * "unknown", or for a RESULT ACK accepted=false, note "other database" (the
 * worker drops the result and asks for work again). The coordinator logs it
 * once per worker and records an event "other_database".
 *
 * RESULT {trial, attempt, db, worker, status, val_acc, test_acc, curve, atoms,
 *         wall_s, error}
 *     db, worker: as in PROGRESS.
 *     status: "done" (trained), "failed" (the run failed, error says why:
 *     the trial is recorded as failed with its error and not retried, since
 *     the same spec fails again; a worker that lacks a dataset must not
 *     list it in READY), "interrupted" (the worker was told to shut down:
 *     the trial is queued again at once), "stopped" (after STOP: recorded as
 *     pruned or cancelled; a trial stopped unasked is queued again). curve: list of per-epoch
 * objects with the keys of PROGRESS (epoch required); atoms: {"hidden": {short name: bits},
 *     "output": {short name: bits}} at the end of training; wall_s: seconds
 *     of training; error: string or null. curve and atoms may be absent.
 *     Other keys (a backend's own) are kept as they came in the decoded
 *     result's extra slot and not interpreted here. The exec backend adds
 *     "value" (the objective's value, a finite number, or null) and
 *     "output" (the command's result object).
 *   -> ACK {trial, attempt, accepted, note}: the result is committed to the
 *     database (or deliberately ignored); the worker may forget it. The
 *     commit survives a crash of the coordinator; it survives a power cut
 *     only when the coordinator runs with --sync-full (by default the last
 *     results acknowledged before a power cut may be lost). accepted: true
 *     the first time; false for a duplicate ("duplicate"), a result for an
 *     attempt replaced by another worker's ("superseded": recorded in the
 *     event log, the trial's data is not overwritten), an unknown trial
 *     ("unknown") or a result about another database's trial ("other
 *     database": nothing is recorded but an event). A worker that lost the coordinator resends its
 *     RESULT until it is ACKed: that is safe.
 *
 * BYE {worker}
 *     The worker is shutting down (after reporting its trial, if any); a
 *     trial it still holds is queued again at once, without waiting for its
 *     lease to run out.
 *   -> ACK {trial: 0, attempt: 0, accepted: true}
 *
 * ## Client (the `infomorph` command) -> coordinator
 *
 * Replies are {"type": "OK", "v": 1, "re": REQUEST TYPE, ...payload} or
 * {"type": "ERROR", "v": 1, "re": REQUEST TYPE, "message": "..."}. A
 * campaign selector ("campaign") is the campaign's name (string) or id
 * (integer); an unknown one gives ERROR "no campaign 'x'". A campaign
 * object below is {"id", "name", "kind", "status", "priority", "budget",
 * "seeds_per_point", "created_at", "started_at", "finished_at", "trials",
 * "queued", "running", "done", "failed", "pruned", "cancelled",
 * "best_val_acc", "best_trial", "done_fraction"} (trials = created so far;
 * null where unknown). In LIST and STATUS, a campaign waiting for another
 * one to be done (an ablation with "base": {"campaign": NAME}) has status
 * "waiting" (as in the database) and "waiting_for": NAME. Trial fields are
 * those of the database's trials table, "trial" being its id, plus "gamma":
 * {short name: value}.
 *
 * SUBMIT {campaign: {the campaign file's object}}
 *   -> OK {campaign_id, name, planned}  planned: trials the campaign will run
 *   -> ERROR {message}: the spec is refused, naming the field
 *      ("campaign: 'budget' must be an integer >= 1"), or the name is taken.
 * LIST {} -> OK {campaigns: [campaign object, ...]}  in submission order
 * STATUS {campaign (optional)}
 *   -> OK {campaigns: [campaign object plus "planned", "best" (the best
 *      trial as in BEST, or null), "trials_per_hour" (done since the coordinator
 *      started, per hour of running; null if unknown), "eta_s" (null if
 *      unknown), "waiting" (why a campaign with trials to hand out gets no
 *      worker, or null: "no connected worker has dataset 'x' (workers: w1
 *      has mnist10k)", or "needs 0.4 GB, the largest worker offers 0.1 GB
 *      (w1)" when the workers with its dataset offer too little memory
 *      (READY's max_memory), appended after "; " to the dataset's reason
 *      when both hold)], workers: [as WORKERS]}  all campaigns when none is
 *      named
 * BEST {campaign (optional: all campaigns), n (default 10, 1..1000)}
 *   -> OK {trials: [{"rank", "trial", "campaign" (name), "campaign_id",
 *      "number", "point", "seed", "label", "val_acc", "test_acc", "wall_s",
 *      "worker", "gamma"}]}  done trials by val_acc, best first
 * TRIALS {campaign, from, limit}
 *     Paged like EXPORT, so that a campaign of a million trials never holds
 *     up the coordinator: one page is the trials numbered from "from"
 *     (default 0) on, at most "limit" of them (1..IM_TRIALS_PAGE_MAX,
 *     default IM_TRIALS_PAGE_DEFAULT), by number.
 *   -> OK {trials: [{"trial", "number", "point", "seed", "label", "stage"
 *      (null, or in an ablation "base", "individual" or "successive"),
 *      "status", "attempt", "worker", "val_acc", "test_acc", "wall_s",
 *      "error", "created_at", "started_at", "finished_at", "gamma"}], next: the
 *      "from" of the next page, or null after the last page}
 *     As with EXPORT, a request without "limit" gets ERROR when the campaign
 *     does not fit in one page, never a silently short list.
 * CANCEL {campaign}
 *   -> OK {campaign, cancelled}  queued trials are cancelled at once
 *      (cancelled = how many); running ones get STOP "cancelled" at their
 *      next PROGRESS or HEARTBEAT. Cancelling a finished campaign is an ERROR.
 * EXPORT {campaign, from, limit}
 *     Paged, so that no reply is large and no request holds up the
 *     coordinator for long: one page is the trials numbered from "from"
 *     (default 0) on, at most "limit" of them (1..IM_EXPORT_PAGE_MAX,
 *     default IM_EXPORT_PAGE_DEFAULT), by number.
 *   -> OK {campaign: campaign object (on the page from 0 only), trials: [as
 *      TRIALS plus "spec", "epochs": [{"epoch", "train_acc", "val_acc",
 *      "test_acc", "goal_hidden", "goal_out", "seconds", and for an exec
 *      trial "value", its objective at that epoch}], "atoms":
 *      {"hidden": {...}, "output": {...}}, "attempts": [{"attempt",
 *      "worker", "status", "started_at", "ended_at", "error"}]], next: the
 *      "from" of the next page, or null after the last page}
 *     Trials created while a running campaign is exported show up on a
 *     later page; none is sent twice. A request without "limit" (an older
 *     client that expects the whole campaign in one reply) gets ERROR when
 *     the campaign does not fit in one page, never a silently short export.
 * WORKERS {} -> OK {workers: the 1000 workers seen last (so that the reply
 *      stays small however many names ever sent READY; STATUS's "workers"
 *      likewise), by name: [{"name", "host", "pid", "threads", "backends",
 *      "first_seen", "last_seen", "status" ("alive", "lost" or "gone"),
 *      "trials_done", "state" ("idle", "busy" or "away": not connected to
 *      this coordinator run), "trial" (the running trial or null),
 *      "last_seen_s_ago" (null if away), "datasets" (the list of its last
 *      READY in this run; null if away or if it sent none, i.e. it takes
 *      any)}]}
 *
 * BACKUP {backup, from, limit}
 *     A consistent copy of the database, streamed: the coordinator copies it
 *     with SQLite's online backup into memory, a few hundred pages per pass
 *     of its loop (it keeps serving meanwhile), and hands the copy out in
 *     chunks; nothing is written on its side. One backup at a time; one left
 *     idle for IM_BACKUP_IDLE_S is dropped. backup: the id of the backup
 *     being fetched (0 or absent: start one); from: the byte offset wanted
 *     (default 0); limit: the most bytes wanted (1..IM_BACKUP_CHUNK, the
 *     default).
 *   -> OK {backup, ready: false, pages_done, pages_total}  still copying: ask
 *      again (same backup) a little later
 *   -> OK {backup, ready: true, size, from, data, next}  data: the bytes from
 *      "from" on (at most limit), base64; next: the next offset,
 *      or null after the last chunk (the backup is then dropped)
 *   -> ERROR {message}: another backup is running, or this one was dropped
 *
 * ## This module
 *
 * An im_msg is the decoded form of any message: the type, the fields of that
 * type, and `body`, the whole JSON object. Strings and JSON values in the
 * fields are borrowed from body (valid until im_msg_release); curve and
 * atoms arrays are owned by the message. Thread-safe: no global state.
 */
#ifndef IM_PROTOCOL_H
#define IM_PROTOCOL_H

#include "im.h"
#include "train.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define IM_PROTOCOL_VERSION    1
#define IM_MSG_MAX_BYTES       (16u << 20) /* larger messages are refused with ERROR */
#define IM_WIRE_NAME_MAX       128         /* longest worker name, host, reason, ... */
#define IM_WIRE_DB_MAX         64          /* longest database identity ("db") */
#define IM_ENVELOPE_MAX        4           /* most routing frames kept for a reply */
#define IM_EXPORT_PAGE_MAX     1000        /* most trials in one EXPORT page */
#define IM_EXPORT_PAGE_DEFAULT 100         /* trials in an EXPORT page without "limit" */
#define IM_BACKUP_CHUNK        (4u << 20)  /* bytes of the database in one BACKUP reply */
#define IM_BACKUP_IDLE_S       60          /* a backup nobody asked about that long is dropped */
#define IM_TRIALS_PAGE_MAX     5000        /* most trials in one TRIALS page */
#define IM_TRIALS_PAGE_DEFAULT 1000        /* trials in a TRIALS page without "limit" */
#define IM_WIRE_SECONDS_MAX    1e8         /* largest seconds, wall_s (about three years) */
#define IM_WIRE_BITS_MAX       1e6         /* largest |goal_hidden|, |goal_out|, |atom| */

/* The wire functions return 0 or an im.h code: IM_ENET when ZeroMQ failed
 * (errno says why; EAGAIN: nothing to read), IM_EPROTO when bytes arrived but
 * are not a valid message, IM_EINVAL when a message to send cannot be
 * encoded. */

typedef enum {
    /* worker -> coordinator */
    IM_MSG_READY = 0,
    IM_MSG_PROGRESS,
    IM_MSG_HEARTBEAT,
    IM_MSG_RESULT,
    IM_MSG_BYE,
    /* coordinator -> worker */
    IM_MSG_JOB,
    IM_MSG_NOJOB,
    IM_MSG_CONTINUE,
    IM_MSG_STOP,
    IM_MSG_ACK,
    /* client -> coordinator */
    IM_MSG_SUBMIT,
    IM_MSG_LIST,
    IM_MSG_STATUS,
    IM_MSG_BEST,
    IM_MSG_TRIALS,
    IM_MSG_CANCEL,
    IM_MSG_EXPORT,
    IM_MSG_WORKERS,
    IM_MSG_BACKUP,
    /* coordinator -> client, and ERROR to anyone */
    IM_MSG_OK,
    IM_MSG_ERROR,
    IM_MSG_COUNT_
} im_msg_type;

/* "READY", ...; NULL for a value out of range. Static strings. */
const char *im_msg_type_name(im_msg_type t);
/* 0 and *out, or IM_ENOTFOUND. */
int im_msg_type_parse(const char *name, im_msg_type *out);

typedef enum {
    IM_RESULT_DONE = 0,    /* "done" */
    IM_RESULT_FAILED,      /* "failed" */
    IM_RESULT_INTERRUPTED, /* "interrupted" */
    IM_RESULT_STOPPED      /* "stopped" */
} im_result_status;

const char *im_result_status_name(im_result_status s);

/* An epoch of a learning curve (PROGRESS, and the entries of RESULT's curve)
 * is the trainer's own record, im_epoch_stats (train.h), from the trainer to
 * the store. The wire carries epoch, train_acc, val_acc, test_acc,
 * goal_hidden, goal_out and seconds (NAN = null); the per-epoch atoms are not
 * sent: a decoded epoch has n_terms_hidden 0 and its atom arrays zero. */

/* One PID atom of RESULT's atoms. */
typedef struct im_trial_atom {
    const char *layer; /* "hidden" or "output" */
    const char *name;  /* short name, 1..31 bytes */
    double value;      /* finite */
} im_trial_atom;

/* A trial's result: what RESULT carries, decoded once and written by the
 * store from this struct (store_trial_data_insert). Decoded: strings are
 * borrowed from the message's body, curve, atoms and extra are owned by the
 * message. Encoding: everything is borrowed. */
typedef struct im_trial_result {
    int64_t trial;
    int attempt;
    const char *db;     /* the JOB's database identity, echoed; NULL if absent */
    const char *worker; /* the sender's worker name; NULL if absent */
    im_result_status status;
    double val_acc, test_acc, wall_s; /* NAN = null */
    const char *error;                /* NULL if absent or null */
    im_epoch_stats *curve;            /* [n_curve] */
    size_t n_curve;
    im_trial_atom *atoms; /* [n_atoms] */
    size_t n_atoms;
    /* The RESULT's other keys, whatever a backend adds (an object, or NULL
     * when there are none): opaque here, passed on as they came. Encoding:
     * merged into the message. */
    json_t *extra;
} im_trial_result;

/* The exec backend's objective at curve entry i of r (extra's
 * "curve_values"[i]), NAN when r does not give it as a number. */
double im_result_curve_value(const im_trial_result *r, size_t i);

/* A campaign selector: a name or an id (exactly one is set). */
typedef struct im_wire_campaign_ref {
    const char *name; /* NULL when id is given */
    int64_t id;       /* 0 when name is given (and when none was given at all) */
} im_wire_campaign_ref;

typedef struct im_msg {
    im_msg_type type;
    /* Decoded: the whole message, owned (a reference). Encoding: extra keys
     * merged into the message (borrowed; may be NULL): the payload of OK,
     * anything else a sender wants to add. */
    json_t *body;
    union {
        struct {
            const char *worker;     /* required, 1..IM_WIRE_NAME_MAX bytes */
            const char *host;       /* NULL if absent */
            const char *version;    /* NULL if absent */
            int64_t pid;            /* 0 if absent */
            int threads;            /* 0 if absent */
            const json_t *backends; /* array of strings, or NULL */
            const json_t *datasets; /* array of strings, or NULL (= any) */
            int has_max_memory;     /* 0: absent (no cap known), 1: max_memory is set */
            int64_t max_memory;     /* bytes >= 0 when has_max_memory */
        } ready;
        struct {
            int64_t trial;
            int attempt;
            const char *db;       /* the database's identity, NULL if absent */
            double lease_s;       /* > 0 */
            const char *campaign; /* NULL if absent */
            int number;           /* -1 if absent */
            const json_t *spec;   /* object, required */
            const json_t *user;   /* object or NULL */
            const json_t *params; /* object (name -> number or string) or NULL */
        } job;
        struct {
            int retry_ms; /* >= 0 */
        } nojob;
        struct {
            int64_t trial;
            int attempt;
            const char *db;     /* the JOB's "db", echoed; NULL if absent */
            const char *worker; /* the sender's worker name; NULL if absent */
            im_epoch_stats e;
            double value; /* the objective at this epoch (exec trials), NAN if absent */
        } progress;
        struct {
            int64_t trial; /* 0 = idle */
            int attempt;
            const char *db;     /* the JOB's "db", echoed (not for trial 0); NULL if absent */
            const char *worker; /* the sender's worker name; NULL if absent */
        } heartbeat;
        struct {
            int64_t trial;
            int attempt;
        } cont; /* CONTINUE */
        struct {
            int64_t trial;
            int attempt;
            const char *reason; /* "pruned", "cancelled", "lost", "unknown" */
        } stop;
        im_trial_result result;
        struct {
            const char *worker;
        } bye;
        struct {
            int64_t trial;
            int attempt;
            int accepted;     /* 0 or 1 */
            const char *note; /* "accepted", "duplicate", "superseded", "unknown",
                                 "other database"; may be NULL */
        } ack;
        struct {
            const json_t *campaign; /* object, required */
        } submit;
        struct {
            im_wire_campaign_ref campaign; /* required for TRIALS, CANCEL, EXPORT */
            int n;                         /* BEST only: 10 if absent, 1..1000 */
            int64_t from;                  /* EXPORT, TRIALS: 0 if absent, 0..INT32_MAX */
            int limit;                     /* EXPORT, TRIALS: 0 if absent, else 1..IM_*_PAGE_MAX */
            int64_t backup;                /* BACKUP: 0 if absent, else >= 1 (from: the offset) */
        } query; /* LIST, STATUS, BEST, TRIALS, CANCEL, EXPORT, WORKERS, BACKUP */
        struct {
            const char *re; /* the request type, NULL if absent */
        } ok;
        struct {
            const char *re;      /* the request type it answers, NULL if unknown */
            const char *message; /* required */
        } error;
    };
} im_msg;

/* Decode one message body of len bytes (not NUL-terminated). On success
 * returns 0 and fills *m (release it with im_msg_release). On failure
 * returns IM_EPROTO, leaves *m released (nothing to free) and, if
 * err is non-NULL, writes a message naming the problem, e.g. "message:
 * 'attempt' must be an integer >= 1" or "message: protocol version 2, this
 * program speaks 1". Never reads past data + len. */
int im_msg_decode(im_msg *m, const void *data, size_t len, im_error *err);

/* Free what a decoded message owns and zero *m. NULL is a no-op; calling it
 * twice is harmless. Do not call it on a message built for encoding unless
 * its body is a reference the caller gave away to it. */
void im_msg_release(im_msg *m);

/* The message as a new JSON object (caller owns the reference); body's keys
 * (if any) are copied into it. NAN and infinities become null. Returns NULL
 * with err set if a required field is missing (e.g. a JOB without a spec). */
json_t *im_msg_to_json(const im_msg *m, im_error *err);

/* The message as compact JSON text (malloc'd, NUL-terminated; caller frees
 * with free()), *len_out (may be NULL) set to its length without the NUL.
 * Returns NULL with err set on failure (as im_msg_to_json). */
char *im_msg_encode(const im_msg *m, size_t *len_out, im_error *err);

/* 1 if arr is a JSON array containing the string s, else 0. */
int im_wire_list_has(const json_t *arr, const char *s);

/* ---- transport ---- */

/* The routing frames before the body (ROUTER identity, REQ's empty frame). */
typedef struct im_envelope {
    int n;
    size_t len[IM_ENVELOPE_MAX];
    unsigned char frame[IM_ENVELOPE_MAX][256];
} im_envelope;

/* Receive one multipart message from socket: every frame before the last
 * goes into *env (may be NULL on DEALER sockets, then routing frames are
 * refused), the last is decoded into *m. flags: 0 or ZMQ_DONTWAIT.
 * Returns 0; IM_ENET if zmq_msg_recv failed (errno set; EAGAIN
 * with ZMQ_DONTWAIT means nothing was waiting), *m untouched;
 * IM_EPROTO if the body is larger than max_bytes, the envelope
 * has more than IM_ENVELOPE_MAX frames or a frame longer than 255 bytes,
 * or the body does not decode: the whole multipart message was consumed,
 * *env holds the sender's routing frames when they were valid (env->n ==
 * -1 when they were not, so no reply is possible) and err says why.
 * Not thread-safe for one socket (ZeroMQ sockets are not). */
int im_wire_recv(void *socket, int flags, size_t max_bytes, im_envelope *env, im_msg *m,
                 im_error *err);

/* Send env's frames (env may be NULL or empty) and then m encoded. Returns 0,
 * IM_ENET (errno set; with ZMQ_DONTWAIT semantics on a ROUTER, a
 * peer that has gone away makes the send a silent no-op, as ZeroMQ does),
 * or IM_EINVAL when m cannot be encoded (err set). */
int im_wire_send(void *socket, const im_envelope *env, const im_msg *m, im_error *err);

/* Send ERROR {re, message} to env. re may be NULL. Returns as im_wire_send. */
int im_wire_send_error(void *socket, const im_envelope *env, const char *re, const char *message);

#endif /* IM_PROTOCOL_H */
