/*
 * test_zap.c: CurveZMQ through transport.h over real TCP on loopback, with
 * the ZAP handler polled in this thread as the coordinator does: a DEALER
 * with an allowed key talks to the ROUTER; one with a key that is not
 * allowed, one with a key allowed only in the other domain, one that does
 * not know the server's key and one without keys get nothing through (and
 * the refusals are counted); a key directory replaces the list, and
 * reloading it lets a new key in and shuts out a removed one for new
 * connections. Also: what bind_router and connect_dealer refuse.
 */
#include "curve_key.h"
#include "test.h"
#include "test_util.h"
#include "transport.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static void *ctx;
static im_zap *zap;
static void *router;
static char endpoint[256], dir_workers[4096];

static im_curve_key new_key(void)
{
    im_curve_key k;
    memset(&k, 0, sizeof k);
    zmq_curve_keypair(k.public_z85, k.secret_z85);
    return k;
}

/* Poll the router and the ZAP handler for up to ms; returns 1 and the
 * message's body in body (cap bytes) if one arrived, else 0. */
static int router_recv(int ms, char *body, size_t cap)
{
    double end = test_now_s() + ms / 1000.0;
    while (test_now_s() < end) {
        zmq_pollitem_t items[2] = {{router, 0, ZMQ_POLLIN, 0},
                                   {im_zap_socket(zap), 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, 20);
        if (items[1].revents & ZMQ_POLLIN) im_zap_handle(zap);
        if (items[0].revents & ZMQ_POLLIN) {
            char id[256];
            int n = zmq_recv(router, id, sizeof id, 0);
            if (n < 0) return 0;
            n = zmq_recv(router, body, cap - 1, 0);
            if (n < 0) return 0;
            body[(size_t)n < cap - 1 ? (size_t)n : cap - 1] = '\0';
            return 1;
        }
    }
    return 0;
}

/* A DEALER with key (NULL: none) and server key, sending text; 1 if the
 * router got it. */
static int try_peer(const im_curve_key *key, const char *server, const char *text)
{
    void *d = NULL;
    im_error err = {0};
    im_transport_opts o = {.curve = key, .server_key = server};
    if (im_transport_connect_dealer(ctx, endpoint, &o, &d, &err) != 0) {
        fprintf(stderr, "connect: %s\n", err.msg);
        return -1;
    }
    zmq_send(d, text, strlen(text), ZMQ_DONTWAIT);
    char body[256] = "";
    int got = router_recv(1500, body, sizeof body);
    im_transport_close(&d);
    return got && strcmp(body, text) == 0;
}

/* Write a file in dir: k's public key file, or text when k is NULL. */
static int write_pub(const char *dir, const char *name, const im_curve_key *k, const char *text)
{
    char path[4300], buf[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (k) {
        im_curve_key_format(k, 0, buf, sizeof buf);
        text = buf;
    }
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

int main(void)
{
    if (!zmq_has("curve")) {
        fprintf(stderr, "libzmq without CURVE: skipped\n");
        return 77;
    }
    im_error err = {0};
    ctx = zmq_ctx_new();
    if (test_mkdtemp(dir_workers, sizeof dir_workers, NULL, "zap") != 0) return 1;
    im_curve_key server = new_key(), good = new_key(), bad = new_key(), client = new_key(),
                 later = new_key();

    CHECK_INT(write_pub(dir_workers, "good.pub", &good, NULL), 0);
    CHECK_INT(write_pub(dir_workers, "README", &bad, NULL), 0); /* not *.pub: ignored */
    CHECK_INT(write_pub(dir_workers, "broken.pub", NULL, "public-key = \"short\"\n"), 0);

    CHECK_INT(im_zap_new(&zap, ctx, &err), 0);
    im_zap *second = NULL;
    CHECK_INT(im_zap_new(&second, ctx, &err), IM_ENET); /* one handler per context */
    CHECK(second == NULL);
    int n = -1;
    CHECK_INT(im_zap_load_dir(zap, "workers", dir_workers, &n, &err), 0);
    CHECK_INT(n, 1); /* broken.pub skipped, README ignored */
    CHECK_INT(im_zap_allow(zap, "clients", client.public_z85, &err), 0);
    CHECK_INT(im_zap_allow(zap, "clients", "not a key", &err), IM_EINVAL);
    CHECK_INT(im_zap_load_dir(zap, "workers", "/nonexistent/keys", &n, &err), IM_ENOTFOUND);

    /* what bind_router refuses */
    void *s = NULL;
    im_curve_key pub_only = server;
    pub_only.secret_z85[0] = '\0';
    im_transport_opts bad_opts = {.curve = &pub_only, .zap = zap, .zap_domain = "workers"};
    CHECK_INT(im_transport_bind_router(ctx, "tcp://127.0.0.1:*", &bad_opts, &s, NULL, 0, &err),
              IM_EINVAL);
    bad_opts = (im_transport_opts){.curve = &server, .zap = NULL, .zap_domain = "workers"};
    CHECK_INT(im_transport_bind_router(ctx, "tcp://127.0.0.1:*", &bad_opts, &s, NULL, 0, &err),
              IM_EINVAL);
    /* with keys, a non-loopback address may be bound (checked on 0.0.0.0
     * without listening long: closed at once) */
    im_transport_opts o = {.curve = &server, .zap = zap, .zap_domain = "workers"};
    CHECK_INT(im_transport_bind_router(ctx, "tcp://0.0.0.0:*", &o, &s, NULL, 0, &err), 0);
    im_transport_close(&s);
    /* a dealer with keys but without the server's key */
    im_transport_opts no_server = {.curve = &good, .server_key = NULL};
    CHECK_INT(im_transport_connect_dealer(ctx, "tcp://127.0.0.1:1", &no_server, &s, &err),
              IM_EINVAL);

    CHECK_INT(im_transport_bind_router(ctx, "tcp://127.0.0.1:*", &o, &router, endpoint,
                                       sizeof endpoint, &err),
              0);

    CHECK_INT(try_peer(&good, server.public_z85, "hello from good"), 1);
    long refused = im_zap_refused(zap);
    CHECK_INT(try_peer(&bad, server.public_z85, "hello from bad"), 0);
    CHECK(im_zap_refused(zap) > refused);
    refused = im_zap_refused(zap);
    CHECK_INT(try_peer(&client, server.public_z85, "a client key on the workers' socket"), 0);
    CHECK(im_zap_refused(zap) > refused);
    CHECK_INT(try_peer(NULL, NULL, "no keys at all"), 0);
    CHECK_INT(try_peer(&good, bad.public_z85, "the wrong server key"), 0);

    /* reload: later joins, good leaves */
    char path[4300];
    snprintf(path, sizeof path, "%s/good.pub", dir_workers);
    CHECK_INT(unlink(path), 0);
    CHECK_INT(write_pub(dir_workers, "later.pub", &later, NULL), 0);
    CHECK_INT(im_zap_load_dir(zap, "workers", dir_workers, &n, &err), 0);
    CHECK_INT(n, 1);
    CHECK_INT(try_peer(&later, server.public_z85, "hello from later"), 1);
    CHECK_INT(try_peer(&good, server.public_z85, "good again"), 0);

    im_transport_close(&router);
    im_zap_free(&zap);
    CHECK(zap == NULL);
    im_zap_free(&zap); /* NULL-safe */
    zmq_ctx_term(ctx);
    test_rm_tree(dir_workers);
    return TEST_END();
}
