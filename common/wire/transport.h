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
 * CurveZMQ: when peers are authenticated, the keys are applied here and
 * nowhere else: in bind_router (ZMQ_CURVE_SERVER = 1 and ZMQ_CURVE_SECRETKEY,
 * with a ZAP handler on inproc://zeromq.zap.01 deciding which client keys
 * are allowed) and in connect_dealer (ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY
 * and ZMQ_CURVE_SECRETKEY), all set before zmq_bind / zmq_connect. The
 * loopback-only rule is then lifted for sockets that have keys.
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

#endif /* IM_TRANSPORT_H */
