/*
 * client.c: one request, one reply to the coordinator's client endpoint
 * (see client.h). Replies are decoded by the wire module (protocol.h):
 * anything but a valid OK or ERROR is reported as a protocol error.
 */
#include "client.h"

#include "protocol.h"
#include "transport.h"

#define CLI_REPLY_MAX ((size_t)1 << 30) /* replies may be large (EXPORT): 1 GiB */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

const char *cli_endpoint(const char *flag)
{
    if (flag) return flag;
    const char *env = getenv("INFOMORPH_CONNECT");
    return env && *env ? env : CLI_DEFAULT_CONNECT;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int no_answer(const char *endpoint, char *err, size_t errlen)
{
    snprintf(err, errlen, "no coordinator answering at %s: is infomorph-coordinator running?",
             endpoint);
    return IM_ENET;
}

/* Wait for one reply and decode it into *m. Returns 0, or IM_ENET / IM_EPROTO
 * with err set. */
static int receive_reply(void *sock, const char *endpoint, int timeout_ms, im_msg *m, char *err,
                         size_t errlen)
{
    double deadline = mono_ms() + timeout_ms;
    for (;;) {
        double left = deadline - mono_ms();
        if (left <= 0) return no_answer(endpoint, err, errlen);
        zmq_pollitem_t item = {.socket = sock, .fd = -1, .events = ZMQ_POLLIN};
        int n = zmq_poll(&item, 1, (long)left + 1);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            snprintf(err, errlen, "unable to wait for %s: %s", endpoint, zmq_strerror(zmq_errno()));
            return IM_ENET;
        }
        if (n == 0) continue;
        im_error e = {0};
        int rc = im_wire_recv(sock, ZMQ_DONTWAIT, CLI_REPLY_MAX, NULL, m, &e);
        if (rc == IM_ENET && errno == EAGAIN) continue;
        if (rc == 0) return 0;
        snprintf(err, errlen, "bad reply from %s: %s", endpoint, e.msg);
        return rc == IM_EPROTO ? IM_EPROTO : IM_ENET;
    }
}

static const char *g_server_key, *g_curve_secret;

void cli_set_curve_files(const char *server_key, const char *curve_secret)
{
    g_server_key = server_key;
    g_curve_secret = curve_secret;
}

int cli_request(const char *endpoint, const char *type, const json_t *fields, int timeout_ms,
                json_t **reply, char *err, size_t errlen)
{
    *reply = NULL;
    im_curve_key key;
    char server[IM_CURVE_KEY_Z85 + 1];
    int curve = 0;
    im_error kerr = {0};
    if (im_curve_client_keys(g_server_key, g_curve_secret, &key, server, &curve, &kerr) != 0) {
        snprintf(err, errlen, "%s", kerr.msg);
        return IM_EINVAL;
    }
    void *ctx = zmq_ctx_new();
    if (!ctx) {
        snprintf(err, errlen, "unable to create a ZeroMQ context");
        return IM_ENET;
    }
    /* replies may be large (EXPORT pages): the limit is CLI_REPLY_MAX */
    im_transport_opts o = {.max_msg_bytes = (int64_t)CLI_REPLY_MAX,
                           .curve = curve ? &key : NULL,
                           .server_key = server};
    im_error e = {0};
    void *sock = NULL;
    int rc = 0;
    im_msg m = {0};
    char *text = NULL;
    if (im_transport_connect_dealer(ctx, endpoint, &o, &sock, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        zmq_ctx_term(ctx);
        return IM_ENET;
    }

    json_t *req = json_object();
    if (fields) json_object_update(req, (json_t *)fields);
    json_object_set_new(req, "type", json_string(type));
    json_object_set_new(req, "v", json_integer(IM_PROTOCOL_VERSION));
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) {
        snprintf(err, errlen, "unable to encode the %s request", type);
        rc = IM_EPROTO;
        goto done;
    }
    if (zmq_send(sock, text, strlen(text), 0) < 0) {
        snprintf(err, errlen, "unable to send to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        rc = IM_ENET;
        goto done;
    }
    rc = receive_reply(sock, endpoint, timeout_ms, &m, err, errlen);
    if (rc == IM_ENET && curve) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n,
                 " (with CurveZMQ keys: is the key among its --client-keys, and --server-key "
                 "its public key?)");
    }
    if (rc) goto done;
    if (m.type == IM_MSG_OK) {
        *reply = json_incref(m.body);
    } else if (m.type == IM_MSG_ERROR) {
        snprintf(err, errlen, "%s", m.error.message);
        rc = IM_EREFUSED;
    } else {
        snprintf(err, errlen, "unexpected reply %s from %s", im_msg_type_name(m.type), endpoint);
        rc = IM_EPROTO;
    }
done:
    free(text);
    im_msg_release(&m);
    im_transport_close(&sock);
    zmq_ctx_term(ctx);
    explicit_bzero(&key, sizeof key);
    return rc;
}
