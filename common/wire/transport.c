/*
 * transport.c: creating, configuring and binding or connecting the ZeroMQ
 * sockets (see transport.h).
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* The dealers' defaults. */
#define DEALER_RECONNECT_MS     100
#define DEALER_RECONNECT_MAX_MS 5000
#define HEARTBEAT_IVL_MS        5000
#define HEARTBEAT_TIMEOUT_MS    30000
#define ROUTER_LINGER_MS        1000

int im_transport_is_loopback(const char *ep)
{
    if (!ep) return 0;
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9)) return 1;
    if (strncmp(ep, "tcp://", 6) != 0) return 0;
    const char *h = ep + 6;
    if (!strncmp(h, "localhost:", 10) || !strncmp(h, "[::1]:", 6)) return 1;
    if (strncmp(h, "127.", 4) != 0) return 0;
    /* 127.a.b.c: digits and dots up to the port */
    int dots = 0;
    for (h += 4; *h && *h != ':'; h++) {
        if (*h == '.')
            dots++;
        else if (*h < '0' || *h > '9')
            return 0;
    }
    return *h == ':' && dots == 2;
}

/* Set one option; IM_ENET naming it on failure. */
static int set_opt(void *sock, int option, const void *value, size_t len, const char *name,
                   im_error *err)
{
    if (zmq_setsockopt(sock, option, value, len) == 0) return 0;
    return im_error_set(err, IM_ENET, "unable to set %s on a socket: %s", name,
                        zmq_strerror(zmq_errno()));
}

#define SET_INT(sock, opt, v, err) set_opt((sock), (opt), &(int){(v)}, sizeof(int), #opt, (err))

/* The options every socket gets: the receive limit, linger and high-water
 * marks. */
static int set_common(void *sock, const im_transport_opts *o, int64_t max_default,
                      int linger_default, im_error *err)
{
    int64_t max = o && o->max_msg_bytes > 0 ? o->max_msg_bytes : max_default;
    int linger = !o || o->linger_ms == 0 ? linger_default : o->linger_ms < 0 ? 0 : o->linger_ms;
    int rc = set_opt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max, "ZMQ_MAXMSGSIZE", err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_LINGER, linger, err);
    if (rc == 0 && o && o->hwm > 0) rc = SET_INT(sock, ZMQ_SNDHWM, o->hwm, err);
    if (rc == 0 && o && o->hwm > 0) rc = SET_INT(sock, ZMQ_RCVHWM, o->hwm, err);
    return rc;
}

static void *new_socket(void *ctx, int type, im_error *err)
{
    void *sock = ctx ? zmq_socket(ctx, type) : NULL;
    if (!sock)
        im_error_set(err, IM_ENET, "unable to create a socket: %s",
                     ctx ? zmq_strerror(zmq_errno()) : "no context");
    return sock;
}

int im_transport_bind_router(void *ctx, const char *endpoint, const im_transport_opts *opts,
                             void **out, char *bound, size_t bound_len, im_error *err)
{
    *out = NULL;
    if (!endpoint) return im_error_set(err, IM_EINVAL, "no endpoint to bind");
    if (!im_transport_is_loopback(endpoint) && !(opts && opts->allow_remote))
        return im_error_set(err, IM_EINVAL,
                            "refusing to bind '%s': it is not a loopback address, and "
                            "authenticating peers with CurveZMQ keys is not implemented yet",
                            endpoint);
    void *sock = new_socket(ctx, ZMQ_ROUTER, err);
    if (!sock) return IM_ENET;
    int rc = set_common(sock, opts, IM_TRANSPORT_ROUTER_MAX, ROUTER_LINGER_MS, err);
    /* (CurveZMQ: ZMQ_CURVE_SERVER and ZMQ_CURVE_SECRETKEY go here.) */
    if (rc == 0 && zmq_bind(sock, endpoint) != 0)
        rc = im_error_set(err, IM_ENET, "unable to bind '%s': %s", endpoint,
                          zmq_strerror(zmq_errno()));
    if (rc) {
        im_transport_close(&sock);
        return rc;
    }
    if (bound && bound_len) {
        size_t len = bound_len;
        if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &len) != 0)
            snprintf(bound, bound_len, "%s", endpoint);
    }
    *out = sock;
    return 0;
}

int im_transport_connect_dealer(void *ctx, const char *endpoint, const im_transport_opts *opts,
                                void **out, im_error *err)
{
    *out = NULL;
    if (!endpoint) return im_error_set(err, IM_EINVAL, "no endpoint to connect to");
    void *sock = new_socket(ctx, ZMQ_DEALER, err);
    if (!sock) return IM_ENET;
    int rc = set_common(sock, opts, IM_TRANSPORT_MSG_MAX, 0, err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_RECONNECT_IVL, DEALER_RECONNECT_MS, err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_RECONNECT_IVL_MAX, DEALER_RECONNECT_MAX_MS, err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_HEARTBEAT_IVL, HEARTBEAT_IVL_MS, err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS, err);
    if (rc == 0) rc = SET_INT(sock, ZMQ_HEARTBEAT_TTL, HEARTBEAT_TIMEOUT_MS, err);
    /* (CurveZMQ: ZMQ_CURVE_SERVERKEY, _PUBLICKEY and _SECRETKEY go here.) */
    if (rc == 0 && zmq_connect(sock, endpoint) != 0)
        rc = im_error_set(err, IM_ENET, "unable to connect to '%s': %s", endpoint,
                          zmq_strerror(zmq_errno()));
    if (rc) {
        im_transport_close(&sock);
        return rc;
    }
    *out = sock;
    return 0;
}

void im_transport_close(void **sock)
{
    if (!sock || !*sock) return;
    zmq_close(*sock);
    *sock = NULL;
}
