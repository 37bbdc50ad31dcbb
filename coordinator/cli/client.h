/*
 * client.h: the `infomorph` command's side of the client wire: one request
 * to the coordinator's client endpoint, one reply, with a timeout.
 *
 * Each request opens a DEALER socket, sends one single-frame JSON message
 * {"type": ..., "v": 1, ...} on a fresh context and waits for {"type": "OK", ...} or
 * {"type": "ERROR", "message": ...}. A new socket per request means a late
 * reply to a timed-out request can never be taken for the answer to the
 * next one. Workload: a handful of requests per command (one every few
 * seconds for `status --watch`), each with a context of its own; thread-safe
 * but for cli_set_curve_files.
 *
 * CurveZMQ: with the coordinator's public key and a secret key (the files
 * given to cli_set_curve_files, else $INFOMORPH_SERVER_KEY and
 * $INFOMORPH_CURVE_SECRET), every request is encrypted and authenticated; a
 * coordinator that does not allow the key never answers (the request times
 * out with a message that says keys may be the cause).
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

/* The key files of the requests to come (NULL: the environment's); the
 * strings are borrowed until the next call. Not thread-safe. */
void cli_set_curve_files(const char *server_key, const char *curve_secret);

/* Send a request of the given type with the members of fields (borrowed, may
 * be NULL) to endpoint and wait up to timeout_ms for the reply.
 * Returns 0 and sets *reply to the OK message (caller owns it), or an im.h
 * code: IM_ENET (no answer in time, or a transport error), IM_EREFUSED (the
 * coordinator answered ERROR), IM_EPROTO (the answer was not a valid reply),
 * IM_EINVAL (the key files cannot be used),
 * with a lowercase message in err (errlen bytes), e.g.
 * "no coordinator answering at tcp://127.0.0.1:5556: is infomorph-coordinator
 * running?" or the coordinator's own ERROR text. */
int cli_request(const char *endpoint, const char *type, const json_t *fields, int timeout_ms,
                json_t **reply, char *err, size_t errlen);

#endif /* IM_CLIENT_H */
