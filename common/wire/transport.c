/*
 * transport.c: creating, configuring and binding or connecting the ZeroMQ
 * sockets (see transport.h).
 */
#include "transport.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

static int domain_ok(const char *domain);

int im_transport_bind_router(void *ctx, const char *endpoint, const im_transport_opts *opts,
                             void **out, char *bound, size_t bound_len, im_error *err)
{
    *out = NULL;
    if (!endpoint) return im_error_set(err, IM_EINVAL, "no endpoint to bind");
    const int curve = opts && opts->curve;
    if (curve && (!opts->curve->secret_z85[0] || !opts->zap || !domain_ok(opts->zap_domain)))
        return im_error_set(err, IM_EINVAL,
                            "a CurveZMQ ROUTER needs a secret key, a ZAP handler and a domain");
    if (!curve && !im_transport_is_loopback(endpoint) && !(opts && opts->allow_remote))
        return im_error_set(err, IM_EINVAL,
                            "refusing to bind '%s': it is not a loopback address and no "
                            "CurveZMQ keys authenticate the peers",
                            endpoint);
    void *sock = new_socket(ctx, ZMQ_ROUTER, err);
    if (!sock) return IM_ENET;
    int rc = set_common(sock, opts, IM_TRANSPORT_ROUTER_MAX, ROUTER_LINGER_MS, err);
    if (rc == 0 && curve) {
        /* the domain first: libzmq asks the ZAP handler about every handshake */
        rc = set_opt(sock, ZMQ_ZAP_DOMAIN, opts->zap_domain, strlen(opts->zap_domain),
                     "ZMQ_ZAP_DOMAIN", err);
        if (rc == 0) rc = SET_INT(sock, ZMQ_CURVE_SERVER, 1, err);
        if (rc == 0)
            rc = set_opt(sock, ZMQ_CURVE_SECRETKEY, opts->curve->secret_z85, IM_CURVE_KEY_Z85,
                         "ZMQ_CURVE_SECRETKEY", err);
    }
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
    if (rc == 0 && opts && opts->curve) {
        if (!opts->curve->secret_z85[0] || !opts->server_key ||
            strlen(opts->server_key) != IM_CURVE_KEY_Z85)
            rc = im_error_set(err, IM_EINVAL,
                              "a CurveZMQ connection needs a secret key and the server's key");
        if (rc == 0)
            rc = set_opt(sock, ZMQ_CURVE_SERVERKEY, opts->server_key, IM_CURVE_KEY_Z85,
                         "ZMQ_CURVE_SERVERKEY", err);
        if (rc == 0)
            rc = set_opt(sock, ZMQ_CURVE_PUBLICKEY, opts->curve->public_z85, IM_CURVE_KEY_Z85,
                         "ZMQ_CURVE_PUBLICKEY", err);
        if (rc == 0)
            rc = set_opt(sock, ZMQ_CURVE_SECRETKEY, opts->curve->secret_z85, IM_CURVE_KEY_Z85,
                         "ZMQ_CURVE_SECRETKEY", err);
    }
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

/* ---- the ZAP handler ---- */

#define ZAP_ENDPOINT    "inproc://zeromq.zap.01"
#define ZAP_DOMAINS_MAX 8
#define ZAP_DOMAIN_MAX  32

typedef struct zap_domain {
    char name[ZAP_DOMAIN_MAX];
    unsigned char (*keys)[32]; /* [n], sorted by memcmp */
    size_t n;
} zap_domain;

struct im_zap {
    void *sock; /* REP on ZAP_ENDPOINT */
    zap_domain dom[ZAP_DOMAINS_MAX];
    int n_dom;
    unsigned char (*logged)[33]; /* [n_logged]: domain index, then the key; sorted */
    size_t n_logged;
    long refused;
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int logged_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 33);
}

/* The domain named name; created if create (NULL if there is no room). */
static zap_domain *zap_domain_get(im_zap *z, const char *name, int create)
{
    for (int i = 0; i < z->n_dom; i++)
        if (!strcmp(z->dom[i].name, name)) return &z->dom[i];
    if (!create || z->n_dom == ZAP_DOMAINS_MAX) return NULL;
    zap_domain *d = &z->dom[z->n_dom++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    return d;
}

static int domain_ok(const char *domain)
{
    return domain && domain[0] && strlen(domain) < ZAP_DOMAIN_MAX;
}

int im_zap_new(im_zap **out, void *ctx, im_error *err)
{
    *out = NULL;
    void *sock = new_socket(ctx, ZMQ_REP, err);
    if (!sock) return IM_ENET;
    int rc = SET_INT(sock, ZMQ_LINGER, 0, err);
    if (rc == 0 && zmq_bind(sock, ZAP_ENDPOINT) != 0)
        rc = im_error_set(err, IM_ENET, "unable to bind the ZAP handler on %s: %s", ZAP_ENDPOINT,
                          zmq_strerror(zmq_errno()));
    if (rc) {
        im_transport_close(&sock);
        return rc;
    }
    im_zap *z = im_xcalloc(1, sizeof *z);
    z->sock = sock;
    *out = z;
    return 0;
}

/* Sort keys[0..n) and drop duplicates; returns the new n. */
static size_t keys_sort_unique(unsigned char (*keys)[32], size_t n)
{
    if (n == 0) return 0;
    qsort(keys, n, 32, key_cmp);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (memcmp(keys[i], keys[m - 1], 32) != 0) memcpy(keys[m++], keys[i], 32);
    return m;
}

int im_zap_load_dir(im_zap *z, const char *domain, const char *dir, int *n_keys, im_error *err)
{
    if (!domain_ok(domain))
        return im_error_set(err, IM_EINVAL, "a ZAP domain is 1 to %d bytes", ZAP_DOMAIN_MAX - 1);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        return im_error_set(err, e == ENOENT ? IM_ENOTFOUND : IM_EIO,
                            "unable to read the key directory '%s': %s", dir, strerror(e));
    }
    unsigned char(*keys)[32] = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0 || de->d_name[0] == '.') continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
        im_curve_key k;
        im_error kerr = {0};
        if (im_curve_key_read(&k, path, 0, &kerr) != 0) {
            im_log(IM_LOG_WARN, "%s keys: skipping %s", domain, kerr.msg);
            continue;
        }
        if (n == IM_ZAP_MAX_KEYS) {
            rc = im_error_set(err, IM_ERANGE, "'%s': more than %d keys", dir, IM_ZAP_MAX_KEYS);
            break;
        }
        if (n == cap) keys = im_xrealloc(keys, (cap = cap ? 2 * cap : 16) * 32);
        zmq_z85_decode(keys[n++], k.public_z85);
    }
    closedir(d);
    if (rc) {
        free(keys);
        return rc;
    }
    zap_domain *dm = zap_domain_get(z, domain, 1);
    if (!dm) {
        free(keys);
        return im_error_set(err, IM_ERANGE, "more than %d ZAP domains", ZAP_DOMAINS_MAX);
    }
    free(dm->keys);
    dm->keys = keys;
    dm->n = keys_sort_unique(keys, n);
    if (n_keys) *n_keys = (int)dm->n;
    return 0;
}

int im_zap_allow(im_zap *z, const char *domain, const char *public_z85, im_error *err)
{
    unsigned char bin[32];
    if (!domain_ok(domain) || !public_z85 || strlen(public_z85) != IM_CURVE_KEY_Z85 ||
        !zmq_z85_decode(bin, public_z85))
        return im_error_set(err, IM_EINVAL, "not a domain and a Z85 public key");
    zap_domain *dm = zap_domain_get(z, domain, 1);
    if (!dm) return im_error_set(err, IM_ERANGE, "more than %d ZAP domains", ZAP_DOMAINS_MAX);
    if (dm->n == IM_ZAP_MAX_KEYS)
        return im_error_set(err, IM_ERANGE, "more than %d keys in %s", IM_ZAP_MAX_KEYS, domain);
    dm->keys = im_xrealloc(dm->keys, (dm->n + 1) * 32);
    memcpy(dm->keys[dm->n++], bin, 32);
    dm->n = keys_sort_unique(dm->keys, dm->n);
    return 0;
}

void *im_zap_socket(im_zap *z)
{
    return z ? z->sock : NULL;
}

long im_zap_refused(const im_zap *z)
{
    return z ? z->refused : 0;
}

/* Log a refusal, once per domain and key (while there is room to remember). */
static void zap_log_refusal(im_zap *z, int dom, const char *domain, const unsigned char *key,
                            const char *address, const char *why)
{
    unsigned char entry[33] = {0};
    entry[0] = (unsigned char)(dom < 0 ? 255 : dom);
    if (key) memcpy(entry + 1, key, 32);
    if (z->n_logged > 0 && bsearch(entry, z->logged, z->n_logged, 33, logged_cmp)) return;
    if (z->n_logged == IM_ZAP_LOGGED_MAX) return;
    z->logged = im_xrealloc(z->logged, (z->n_logged + 1) * 33);
    memcpy(z->logged[z->n_logged++], entry, 33);
    qsort(z->logged, z->n_logged, 33, logged_cmp);
    char z85[IM_CURVE_KEY_Z85 + 1] = "none";
    if (key) zmq_z85_encode(z85, key, 32);
    im_log(IM_LOG_WARN, "refused a peer at %s on %s: %s (key %s)%s", address, domain, why, z85,
           z->n_logged == IM_ZAP_LOGGED_MAX ? "; further refused keys are not logged" : "");
}

/* One frame of at most cap - 1 bytes into buf as a string (longer ones are
 * cut); its real length into *len. Returns 0, or -1 if nothing could be read. */
static int recv_frame(void *sock, char *buf, size_t cap, size_t *len, int *more)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    size_t n = zmq_msg_size(&m);
    *len = n;
    if (n > cap - 1) n = cap - 1;
    memcpy(buf, zmq_msg_data(&m), n);
    buf[n] = '\0';
    *more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    return 0;
}

/* The reply of RFC 27: version, request id, status code and text, user id,
 * metadata. */
static void zap_reply(void *sock, const char *request_id, size_t id_len, const char *code,
                      const char *text, const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, request_id, id_len, ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

int im_zap_handle(im_zap *z)
{
    int answered = 0;
    for (;;) {
        /* version, request id, domain, address, identity, mechanism, credentials... */
        char f[7][256];
        size_t len[7] = {0};
        int more = 0, n = 0;
        if (recv_frame(z->sock, f[0], sizeof f[0], &len[0], &more) != 0) break;
        n = 1;
        while (more) {
            char skip[256];
            size_t skip_len;
            int ok = n < 7 ? recv_frame(z->sock, f[n], sizeof f[n], &len[n], &more)
                           : recv_frame(z->sock, skip, sizeof skip, &skip_len, &more);
            if (ok != 0) break;
            if (n < 7) n++;
        }
        answered++;
        const char *domain = n > 2 ? f[2] : "";
        const char *address = n > 3 ? f[3] : "?";
        if (n < 6 || strcmp(f[0], "1.0") != 0) {
            /* not a ZAP request: answer so that the REP socket can go on */
            zap_reply(z->sock, n > 1 ? f[1] : "", n > 1 ? len[1] : 0, "500",
                      "malformed ZAP request", "");
            continue;
        }
        zap_domain *dm = zap_domain_get(z, domain, 0);
        const unsigned char *key =
            n == 7 && len[6] == 32 && !strcmp(f[5], "CURVE") ? (const unsigned char *)f[6] : NULL;
        const char *why = NULL;
        if (!key)
            why = "not a CURVE handshake";
        else if (!dm)
            why = "no keys are allowed in this domain";
        else if (dm->n == 0 || !bsearch(key, dm->keys, dm->n, 32, key_cmp))
            why = "its public key is not among the allowed ones";
        if (why) {
            z->refused++;
            zap_log_refusal(z, dm ? (int)(dm - z->dom) : -1, domain, key, address, why);
            zap_reply(z->sock, f[1], len[1], "400", why, "");
        } else {
            char user[IM_CURVE_KEY_Z85 + 1];
            zmq_z85_encode(user, key, 32);
            zap_reply(z->sock, f[1], len[1], "200", "OK", user);
        }
    }
    return answered;
}

void im_zap_free(im_zap **zp)
{
    if (!zp || !*zp) return;
    im_zap *z = *zp;
    im_transport_close(&z->sock);
    for (int i = 0; i < z->n_dom; i++) free(z->dom[i].keys);
    free(z->logged);
    free(z);
    *zp = NULL;
}
