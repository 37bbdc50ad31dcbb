/*
 * curve_key.h: CurveZMQ key files, as `infomorph keygen` writes them and the
 * coordinator, the worker and the command read them: czmq's certificate
 * format (ZPL, ZeroMQ RFC 4), so that czmq's tools read ours and ours read
 * theirs:
 *
 *   #   infomorph CurveZMQ secret key: keep it private (mode 0600)
 *   metadata
 *   curve
 *       public-key = "<40 Z85 characters>"
 *       secret-key = "<40 Z85 characters>"
 *
 * A public key file (NAME.pub) has no secret-key line. Keys are Z85 (ZeroMQ
 * RFC 32: 40 characters for 32 bytes), the form libzmq's ZMQ_CURVE_*KEY
 * options take. A secret file without a public-key line gets it derived
 * (zmq_curve_public). Thread-safe (no global state).
 */
#ifndef IM_CURVE_KEY_H
#define IM_CURVE_KEY_H

#include "im.h"

#include <stddef.h>

#define IM_CURVE_KEY_Z85  40   /* characters of a key in Z85 */
#define IM_CURVE_FILE_MAX 4096 /* a longer key file is refused */

typedef struct im_curve_key {
    char public_z85[IM_CURVE_KEY_Z85 + 1]; /* always set after a successful read */
    char secret_z85[IM_CURVE_KEY_Z85 + 1]; /* "" when the file held only the public key */
} im_curve_key;

/* Parse key file text (len bytes, need not be NUL-terminated) into *key.
 * Returns 0, or IM_EFORMAT with err naming the problem (no key, a key that
 * is not 40 valid Z85 characters, a public key that does not belong to the
 * secret one). On failure *key is zeroed. */
int im_curve_key_parse(im_curve_key *key, const char *text, size_t len, im_error *err);

/* Read a key file. want_secret: 1 if the file must hold a secret key (a
 * NAME.key); such a file must not be readable by group or others (IM_EINVAL
 * otherwise: chmod 600 it). Returns 0, IM_ENOTFOUND, IM_EIO, IM_EFORMAT or
 * IM_EINVAL with err naming the file. On failure *key is zeroed. */
int im_curve_key_read(im_curve_key *key, const char *path, int want_secret, im_error *err);

/* The text of a key file for key into buf (size bytes, at least 512): the
 * secret file when with_secret, else the public one. Returns 0 or IM_ERANGE
 * (buf too small). */
int im_curve_key_format(const im_curve_key *key, int with_secret, char *buf, size_t size);

/* The keys of a worker or a client: server_path (the coordinator's public
 * key file) and secret_path (this side's secret key file), each NULL or ""
 * meaning $INFOMORPH_SERVER_KEY and $INFOMORPH_CURVE_SECRET. Both or neither
 * must be given. Returns 0 with *have = 1, *key and server (the server's
 * public key, IM_CURVE_KEY_Z85 + 1 bytes) filled, or 0 with *have = 0 when
 * neither is given (plain TCP); else an error of im_curve_key_read, or
 * IM_EINVAL when only one is given. Not thread-safe (getenv). */
int im_curve_client_keys(const char *server_path, const char *secret_path, im_curve_key *key,
                         char *server, int *have, im_error *err);

#endif /* IM_CURVE_KEY_H */
