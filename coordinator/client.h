/*
 * client.h: the `infomorph` command's side of the client wire: one request
 * to the coordinator's client endpoint, one reply, with a timeout.
 *
 * Each request opens a DEALER socket, sends one single-frame JSON message
 * {"type": ..., "v": 1, ...} on a fresh context and waits for {"type": "OK", ...} or
 * {"type": "ERROR", "message": ...}. A new socket per request means a late
 * reply to a timed-out request can never be taken for the answer to the
 * next one. Workload: a handful of requests per command (one every few
 * seconds for `status --watch`), each with a context of its own: thread-safe.
 */
#ifndef IM_CLIENT_H
#define IM_CLIENT_H

#include "im.h"

#include <jansson.h>

#define CLI_DEFAULT_CONNECT "tcp://127.0.0.1:5556"
#define CLI_TIMEOUT_MS      10000

/* The endpoint to talk to: flag if non-NULL, else $INFOMORPH_CONNECT if set
 * and non-empty, else CLI_DEFAULT_CONNECT. Returns a borrowed string. */
const char *cli_endpoint(const char *flag);

/* Send a request of the given type with the members of fields (borrowed, may
 * be NULL) to endpoint and wait up to timeout_ms for the reply.
 * Returns 0 and sets *reply to the OK message (caller owns it), or an im.h
 * code: IM_ENET (no answer in time, or a transport error), IM_EREFUSED (the
 * coordinator answered ERROR), IM_EPROTO (the answer was not a valid reply),
 * with a lowercase message in err (errlen bytes), e.g.
 * "no coordinator answering at tcp://127.0.0.1:5556: is infomorph-coordinator
 * running?" or the coordinator's own ERROR text. */
int cli_request(const char *endpoint, const char *type, const json_t *fields, int timeout_ms,
                json_t **reply, char *err, size_t errlen);

#endif /* IM_CLIENT_H */
