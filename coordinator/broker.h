/*
 * broker.h: the coordinator's event loop (ARCHITECTURE.md, "The wire").
 *
 * One thread around zmq_poll on three things: the workers' ROUTER, the
 * clients' ROUTER and the read end of a self-pipe that the signal handlers
 * write to. The poll timeout is the time to the earliest deadline (a lease
 * running out, a silent worker to forget) on the monotonic clock, at most a
 * second. Each pass of the loop reads every waiting message (up to a batch
 * limit), handles each with the handler of its type, expires leases, and
 * commits all the store's writes of the pass in one transaction; only then
 * are the replies sent. So a JOB leaves only after its trial and hand-out
 * are durable, and an ACK only after its result is.
 *
 * A database failure is fatal: the pass is rolled back, no reply of it is
 * sent, and broker_run returns IM_EDB (a restart resumes from the database).
 * Anything a peer sends is checked by protocol.c; a bad message gets an
 * ERROR reply and a log line.
 *
 * Not thread-safe: one broker per thread; the broker owns its ZeroMQ
 * context, sockets and store.
 */
#ifndef IM_BROKER_H
#define IM_BROKER_H

#include "curve_key.h"
#include "im.h"

typedef struct broker broker;

typedef struct broker_options {
    const char *db_path;          /* required */
    const char *workers_endpoint; /* required, e.g. "tcp://127.0.0.1:5555" */
    const char *clients_endpoint; /* required, e.g. "tcp://127.0.0.1:5556" */
    double lease_s;               /* > 0: a trial's lease */
    int retry_ms;                 /* NOJOB's retry; 0 = min(1000, lease_s * 1000 / 3) */
    const char *endpoints_file;   /* NULL, or a file to write the bound endpoints to:
                                     "workers ENDPOINT\nclients ENDPOINT\n" (written
                                     once the broker serves; useful with port "*") */
    int sync_full;                /* non-zero: fsync every commit (STORE_SYNC_FULL) */
    int insecure;                 /* non-zero: allow non-loopback endpoints (transport.h) */
    /* CurveZMQ: with curve (the coordinator's key pair), both endpoints
     * accept only peers whose public key is a *.pub file in worker_keys or
     * client_keys (both required; may be the same directory), re-read by
     * broker_reload_keys. NULL: plain TCP. */
    const im_curve_key *curve;
    const char *worker_keys, *client_keys;
    double max_trial_memory_gb; /* campaigns whose trials need more are refused; 0 = 16 */
} broker_options;

/* Open the store (migrating it), resume every campaign, bind both sockets.
 * On success *out is a new broker owned by the caller (broker_free). Returns
 * 0, IM_EDB / IM_EPROTO / IM_EFORMAT (the database), IM_ENET (a bind
 * failed: the message names the endpoint), IM_EINVAL (bad options, or an
 * endpoint that is not loopback without opt->insecure). */
int broker_new(broker **out, const broker_options *opt, im_error *err);

/* Re-read the allowed public keys (opt->worker_keys and client_keys); a
 * directory that cannot be read keeps its old list (logged). No-op without
 * CurveZMQ. broker_run calls it on SIGHUP (im_sigpipe_catch_hup). */
void broker_reload_keys(broker *b);

/* Serve until stop_fd (the read end of the self-pipe; -1 for none) becomes
 * readable, then commit, and return 0. Returns IM_EDB after a database
 * failure (a full disk, a read-only or failing filesystem; the message names
 * the database file and SQLite's reason), IM_ENET if polling fails. */
int broker_run(broker *b, int stop_fd, im_error *err);

/* Close the sockets and the store; *b becomes NULL. NULL-safe. */
void broker_free(broker **b);

#endif /* IM_BROKER_H */
