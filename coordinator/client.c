/*
 * client.c: one request, one reply to the coordinator's client endpoint
 * (see client.h). Replies are untrusted input: anything but a single-frame
 * JSON object with a known type is reported as a protocol error.
 */
#include "client.h"

#include "protocol.h"

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
    return CLI_REQ_NET;
}

/* Wait for one single-frame message; returns its JSON text parsed, or NULL
 * with rc set. */
static json_t *receive_reply(void *sock, const char *endpoint, int timeout_ms, int *rc, char *err,
                             size_t errlen)
{
    double deadline = mono_ms() + timeout_ms;
    for (;;) {
        double left = deadline - mono_ms();
        if (left <= 0) {
            *rc = no_answer(endpoint, err, errlen);
            return NULL;
        }
        zmq_pollitem_t item = {.socket = sock, .fd = -1, .events = ZMQ_POLLIN};
        int n = zmq_poll(&item, 1, (long)left + 1);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            snprintf(err, errlen, "unable to wait for %s: %s", endpoint, zmq_strerror(zmq_errno()));
            *rc = CLI_REQ_NET;
            return NULL;
        }
        if (n == 0) continue;
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            continue;
        }
        int more = zmq_msg_more(&part);
        json_error_t jerr;
        json_t *msg = more ? NULL : json_loadb(zmq_msg_data(&part), zmq_msg_size(&part), 0, &jerr);
        zmq_msg_close(&part);
        if (more || !json_is_object(msg)) {
            snprintf(err, errlen, "malformed reply from %s: %s", endpoint,
                     more  ? "several frames"
                     : msg ? "not a JSON object"
                           : jerr.text);
            json_decref(msg);
            *rc = CLI_REQ_PROTO;
            return NULL;
        }
        return msg;
    }
}

int cli_request(const char *endpoint, const char *type, const json_t *fields, int timeout_ms,
                json_t **reply, char *err, size_t errlen)
{
    *reply = NULL;
    void *ctx = zmq_ctx_new();
    if (!ctx) {
        snprintf(err, errlen, "unable to create a ZeroMQ context");
        return CLI_REQ_NET;
    }
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!sock) {
        snprintf(err, errlen, "unable to create a socket: %s", zmq_strerror(zmq_errno()));
        zmq_ctx_term(ctx);
        return CLI_REQ_NET;
    }
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = 0;
    json_t *msg = NULL;
    char *text = NULL;
    if (zmq_connect(sock, endpoint) != 0) {
        snprintf(err, errlen, "unable to connect to '%s': %s", endpoint, zmq_strerror(zmq_errno()));
        rc = CLI_REQ_NET;
        goto done;
    }

    json_t *req = json_object();
    if (fields) json_object_update(req, (json_t *)fields);
    json_object_set_new(req, "type", json_string(type));
    json_object_set_new(req, "v", json_integer(IM_PROTOCOL_VERSION));
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) {
        snprintf(err, errlen, "unable to encode the %s request", type);
        rc = CLI_REQ_PROTO;
        goto done;
    }
    if (zmq_send(sock, text, strlen(text), 0) < 0) {
        snprintf(err, errlen, "unable to send to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        rc = CLI_REQ_NET;
        goto done;
    }
    msg = receive_reply(sock, endpoint, timeout_ms, &rc, err, errlen);
    if (!msg) goto done;
    const char *rtype = json_string_value(json_object_get(msg, "type"));
    if (rtype && !strcmp(rtype, "OK")) {
        *reply = msg;
        msg = NULL;
    } else if (rtype && !strcmp(rtype, "ERROR")) {
        const char *m = json_string_value(json_object_get(msg, "message"));
        snprintf(err, errlen, "%s", m ? m : "the coordinator refused the request");
        rc = CLI_REQ_REFUSED;
    } else {
        snprintf(err, errlen, "unexpected reply '%s' from %s", rtype ? rtype : "(no type)",
                 endpoint);
        rc = CLI_REQ_PROTO;
    }
done:
    free(text);
    json_decref(msg);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
