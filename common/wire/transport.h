/*
 * transport.h: every ZeroMQ socket of the three programs is created,
 * configured and bound or connected here: the coordinator's two ROUTERs (one
 * for workers, one for clients), the worker's DEALER and the `infomorph`
 * command's DEALER. What a socket carries (one JSON message per frame) is
 * protocol.h's business; how it is set up is this module's.
 *
 * Invariants:
 *  - Every socket has a receive size limit (ZMQ_MAXMSGSIZE): ZeroMQ drops the
 *    connection of a peer that sends a larger message, so a peer can never
 *    make a program allocate more than the limit for one message.
 *  - Every socket has a finite linger; the dealers reconnect on their own
 *    after a lost connection (ZMQ_RECONNECT_IVL, backing off to
 *    ZMQ_RECONNECT_IVL_MAX) and send ZMTP heartbeats
 *    (ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL), so a connection whose peer vanished
 *    without a TCP reset is noticed and re-established.
 *  - The loopback-only rule: a ROUTER binds only to an endpoint that reaches
 *    this machine alone (im_transport_is_loopback) unless the caller allows
 *    remote peers explicitly (the coordinator's --insecure).
 *
 * CurveZMQ (ZeroMQ RFC 26): when peers are authenticated, the keys are
 * applied here and nowhere else: in bind_router (ZMQ_CURVE_SERVER = 1,
 * ZMQ_CURVE_SECRETKEY and ZMQ_ZAP_DOMAIN, with the ZAP handler below on
 * inproc://zeromq.zap.01 deciding which client keys each domain allows) and
 * in connect_dealer (ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY and
 * ZMQ_CURVE_SECRETKEY), all set before zmq_bind / zmq_connect. Traffic on
 * such a socket is encrypted; a peer without an allowed key never completes
 * the handshake, so it can send and receive nothing. The loopback-only rule
 * is lifted for a ROUTER with keys.
 *
 * Errors: functions return 0 or a negative IM_E* code (im.h): IM_ENET when
 * ZeroMQ fails (the message names the endpoint and ZeroMQ's reason),
 * IM_EINVAL for a refused endpoint or bad arguments.
 *
 * Thread-safety: the functions keep no state; the sockets they return belong
 * to the calling thread, as every ZeroMQ socket does.
 */
#ifndef IM_TRANSPORT_H
#define IM_TRANSPORT_H

#include "curve_key.h"
#include "im.h"
#include "protocol.h"

#include <stddef.h>
#include <stdint.h>

/* A socket's settings; zero values mean the role's default. */
typedef struct im_transport_opts {
    int64_t max_msg_bytes; /* receive limit; 0: the role's default (below) */
    int linger_ms;         /* 0: the role's default; < 0: 0 (drop unsent messages) */
    int hwm;               /* send and receive high-water marks; 0: ZeroMQ's default */
    int allow_remote;      /* bind_router only: non-zero allows a non-loopback endpoint */
    /* CurveZMQ; NULL: none (plain TCP, loopback only for a ROUTER). */
    const im_curve_key *curve; /* this side's key pair (the secret half is required) */
    const char *server_key;    /* connect_dealer with curve: the server's public key (Z85) */
    struct im_zap *zap;        /* bind_router with curve: the handler that decides (required) */
    const char *zap_domain;    /* bind_router with curve: its allow-list ("workers", ...) */
} im_transport_opts;

/* The default receive limits. A ROUTER's limit is larger than the protocol's
 * IM_MSG_MAX_BYTES so that a message a little too large still arrives and is
 * answered with ERROR; far beyond, the sender is disconnected. */
#define IM_TRANSPORT_MSG_MAX    ((int64_t)IM_MSG_MAX_BYTES)
#define IM_TRANSPORT_ROUTER_MAX ((int64_t)IM_MSG_MAX_BYTES * 4)

/* 1 if a ZeroMQ endpoint only reaches this machine: tcp://127.0.0.1 (any
 * 127.x.y.z), tcp://localhost, tcp://[::1], ipc:// and inproc://. Anything
 * else (a wildcard "*" host, tcp://0.0.0.0, an interface or a public
 * address) is 0. NULL is 0. */
int im_transport_is_loopback(const char *endpoint);

/* Create a ROUTER on ctx, configure it (opts may be NULL: defaults: limit
 * IM_TRANSPORT_ROUTER_MAX, linger 1000 ms) and bind it to endpoint. On
 * success *out is the socket (the caller closes it with
 * im_transport_close) and bound (bound_len bytes, may be NULL) holds the
 * endpoint actually bound (the port chosen for "tcp://127.0.0.1:*"). On
 * failure *out is NULL: IM_EINVAL when the endpoint is not loopback and
 * opts->allow_remote is 0, IM_ENET when ZeroMQ fails. */
int im_transport_bind_router(void *ctx, const char *endpoint, const im_transport_opts *opts,
                             void **out, char *bound, size_t bound_len, im_error *err);

/* Create a DEALER on ctx, configure it (opts may be NULL: defaults: limit
 * IM_TRANSPORT_MSG_MAX, linger 0, reconnect 100 ms backing off to 5 s,
 * heartbeats every 5 s, the connection dropped after 30 s of silence) and connect it to
 * endpoint. On success *out is the socket (close it with
 * im_transport_close); on failure *out is NULL and IM_ENET is returned. */
int im_transport_connect_dealer(void *ctx, const char *endpoint, const im_transport_opts *opts,
                                void **out, im_error *err);

/* Close *sock (NULL-safe) and set it to NULL. */
void im_transport_close(void **sock);

/* ---- the ZAP handler (ZeroMQ RFC 27) ----
 *
 * One per context, bound to inproc://zeromq.zap.01 before any CURVE ROUTER
 * of that context (libzmq asks it about every CURVE handshake). It keeps
 * one allow-list of public keys per domain; a request from a domain it does
 * not know, with another mechanism than CURVE, or with a key not on the
 * domain's list is refused (status 400), and the refusal is logged once per
 * key and domain (im_log, warn) with the peer's address and its key in Z85
 * (its fingerprint: the line of its .pub file), up to IM_ZAP_LOGGED_MAX
 * keys. It runs in the thread that polls its socket (the
 * coordinator's loop: im_zap_socket among the poll items, im_zap_handle
 * when it is readable); its lists are replaced by im_zap_load_dir, e.g.
 * after SIGHUP, between two calls of im_zap_handle. Not thread-safe.
 */
typedef struct im_zap im_zap;

#define IM_ZAP_MAX_KEYS   100000 /* keys in one domain's list; more are refused */
#define IM_ZAP_LOGGED_MAX 4096   /* refused keys remembered so as to log each once */

/* Bind a new handler on ctx. Returns 0 and *out (free it with im_zap_free
 * before the context is terminated), or IM_ENET (another handler is bound
 * already, or ZeroMQ failed). */
int im_zap_new(im_zap **out, void *ctx, im_error *err);

/* Replace the allow-list of domain (1..31 bytes) with the public keys of
 * every *.pub file in dir (curve_key.h's format; other files are ignored).
 * A .pub file that does not parse is skipped with a warning logged. On
 * success returns 0 and *n_keys (may be NULL) the keys now allowed; on
 * failure (IM_ENOTFOUND / IM_EIO: dir cannot be read; IM_ERANGE: too many
 * keys; IM_EINVAL: a bad domain) the old list stays. */
int im_zap_load_dir(im_zap *z, const char *domain, const char *dir, int *n_keys, im_error *err);

/* Allow one public key (Z85) in domain, in addition to the list. Returns 0,
 * IM_EINVAL (not a key, a bad domain) or IM_ERANGE (too many keys). */
int im_zap_allow(im_zap *z, const char *domain, const char *public_z85, im_error *err);

/* The handler's socket, to poll for ZMQ_POLLIN. */
void *im_zap_socket(im_zap *z);

/* Answer every request waiting on the socket, without blocking. Returns the
 * number answered (>= 0). */
int im_zap_handle(im_zap *z);

/* How many requests were refused since im_zap_new. */
long im_zap_refused(const im_zap *z);

/* Close the socket, free the lists; *z becomes NULL. NULL-safe. */
void im_zap_free(im_zap **z);

#endif /* IM_TRANSPORT_H */
