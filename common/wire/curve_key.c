/*
 * curve_key.c: CurveZMQ key files (see curve_key.h).
 */
#include "curve_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

/* Whether s (IM_CURVE_KEY_Z85 characters) decodes as Z85; the 32 bytes into bin. */
static int z85_ok(const char *s, unsigned char bin[32])
{
    char z[IM_CURVE_KEY_Z85 + 1];
    memcpy(z, s, IM_CURVE_KEY_Z85);
    z[IM_CURVE_KEY_Z85] = '\0';
    return zmq_z85_decode(bin, z) != NULL;
}

/* The quoted (or bare) value of `name = "value"` on the line [p, end) into
 * out (IM_CURVE_KEY_Z85 + 1 bytes). Returns 1 found and valid, 0 not this
 * name, -1 this name but a bad value. */
static int key_line(const char *p, const char *end, const char *name, char *out)
{
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    size_t n = strlen(name);
    if ((size_t)(end - p) < n || memcmp(p, name, n) != 0) return 0;
    p += n;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p == end || *p != '=') return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    if (end - p >= 2 && (*p == '"' || *p == '\'') && end[-1] == *p) {
        p++;
        end--;
    }
    unsigned char bin[32];
    if (end - p != IM_CURVE_KEY_Z85 || !z85_ok(p, bin)) return -1;
    memcpy(out, p, IM_CURVE_KEY_Z85);
    out[IM_CURVE_KEY_Z85] = '\0';
    return 1;
}

int im_curve_key_parse(im_curve_key *key, const char *text, size_t len, im_error *err)
{
    memset(key, 0, sizeof *key);
    const char *p = text, *end = text + len;
    int line = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        line++;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            memset(key, 0, sizeof *key);
            return im_error_set(err, IM_EFORMAT, "line %d: a NUL byte (not a key file)", line);
        }
        int r = key_line(p, eol, "public-key", key->public_z85);
        if (r == 0) r = key_line(p, eol, "secret-key", key->secret_z85);
        if (r < 0) {
            memset(key, 0, sizeof *key);
            return im_error_set(err, IM_EFORMAT, "line %d: a key must be %d Z85 characters", line,
                                IM_CURVE_KEY_Z85);
        }
        p = eol + 1;
    }
    if (key->secret_z85[0]) {
        char derived[IM_CURVE_KEY_Z85 + 1];
        if (zmq_curve_public(derived, key->secret_z85) != 0) {
            memset(key, 0, sizeof *key);
            return im_error_set(err, IM_EFORMAT,
                                "the secret key is not usable (libzmq without "
                                "CURVE?)");
        }
        if (key->public_z85[0] && strcmp(derived, key->public_z85) != 0) {
            memset(key, 0, sizeof *key);
            return im_error_set(err, IM_EFORMAT,
                                "the public key does not belong to the secret key");
        }
        memcpy(key->public_z85, derived, sizeof derived);
    }
    if (!key->public_z85[0])
        return im_error_set(err, IM_EFORMAT, "no public-key or secret-key line");
    return 0;
}

int im_curve_key_read(im_curve_key *key, const char *path, int want_secret, im_error *err)
{
    memset(key, 0, sizeof *key);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return im_error_set(err, e == ENOENT ? IM_ENOTFOUND : IM_EIO,
                            "unable to open key file '%s': %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return im_error_set(err, IM_EIO, "key file '%s' is not a regular file", path);
    }
    if (want_secret && (st.st_mode & 077)) {
        close(fd);
        return im_error_set(err, IM_EINVAL,
                            "secret key file '%s' is readable by others (mode %03o): chmod 600 it",
                            path, (unsigned)(st.st_mode & 0777));
    }
    char buf[IM_CURVE_FILE_MAX + 1];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            explicit_bzero(buf, sizeof buf);
            return im_error_set(err, IM_EIO, "unable to read key file '%s': %s", path, strerror(e));
        }
        if (n == 0) break;
        have += (size_t)n;
        if (have == sizeof buf) break;
    }
    close(fd);
    int rc;
    if (have > IM_CURVE_FILE_MAX) {
        rc = im_error_set(err, IM_EFORMAT, "key file '%s' is larger than %d bytes", path,
                          IM_CURVE_FILE_MAX);
    } else {
        im_error perr = {0};
        rc = im_curve_key_parse(key, buf, have, &perr);
        if (rc == 0 && want_secret && !key->secret_z85[0])
            rc = im_error_set(&perr, IM_EFORMAT, "no secret-key line (is it a .pub file?)");
        if (rc != 0) {
            memset(key, 0, sizeof *key);
            im_error_set(err, rc, "key file '%s': %s", path, perr.msg);
        }
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

int im_curve_key_format(const im_curve_key *key, int with_secret, char *buf, size_t size)
{
    int n;
    if (with_secret)
        n = snprintf(buf, size,
                     "#   infomorph CurveZMQ secret key: keep it private (mode 0600)\n"
                     "#   the public half is in the .pub file beside it\n"
                     "metadata\n"
                     "curve\n"
                     "    public-key = \"%s\"\n"
                     "    secret-key = \"%s\"\n",
                     key->public_z85, key->secret_z85);
    else
        n = snprintf(buf, size,
                     "#   infomorph CurveZMQ public key\n"
                     "metadata\n"
                     "curve\n"
                     "    public-key = \"%s\"\n",
                     key->public_z85);
    return n < 0 || (size_t)n >= size ? IM_ERANGE : 0;
}

int im_curve_client_keys(const char *server_path, const char *secret_path, im_curve_key *key,
                         char *server, int *have, im_error *err)
{
    *have = 0;
    server[0] = '\0';
    if (!server_path || !*server_path) server_path = getenv("INFOMORPH_SERVER_KEY");
    if (!secret_path || !*secret_path) secret_path = getenv("INFOMORPH_CURVE_SECRET");
    int has_server = server_path && *server_path, has_secret = secret_path && *secret_path;
    if (!has_server && !has_secret) return 0;
    if (!has_server || !has_secret)
        return im_error_set(err, IM_EINVAL,
                            "CurveZMQ needs both the server's public key (--server-key, "
                            "INFOMORPH_SERVER_KEY) and a secret key (--curve-secret, "
                            "INFOMORPH_CURVE_SECRET); only the %s was given",
                            has_server ? "server's key" : "secret key");
    im_curve_key srv;
    int rc = im_curve_key_read(&srv, server_path, 0, err);
    if (rc == 0) rc = im_curve_key_read(key, secret_path, 1, err);
    if (rc) return rc;
    memcpy(server, srv.public_z85, IM_CURVE_KEY_Z85 + 1);
    *have = 1;
    return 0;
}
