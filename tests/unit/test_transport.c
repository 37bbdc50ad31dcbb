/*
 * test_transport.c: the sockets of transport.h over real ZeroMQ: the
 * loopback-only rule, a round trip between a bound ROUTER and a connected
 * DEALER, and the receive size limit (a larger message never arrives on a
 * client socket; the connection is dropped and made again, and a message
 * within the limit gets through).
 */
#include "test.h"
#include "transport.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

static void test_loopback(void)
{
    static const char *yes[] = {"tcp://127.0.0.1:5555", "tcp://127.1.2.3:1", "tcp://localhost:80",
                                "tcp://[::1]:5555",     "ipc:///tmp/x.sock", "inproc://a",
                                "tcp://127.0.0.1:*"};
    static const char *no[] = {"tcp://*:5555",        "tcp://0.0.0.0:5555",
                               "tcp://10.0.0.1:5555", "tcp://127.0.0.1.evil:1",
                               "tcp://127.0.1:5555",  "tcp://eth0:5555",
                               "tcp://127.0.0.x:1",   "udp://127.0.0.1:1",
                               "tcp://127.0.0.1",     ""};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        CHECK_MSG(im_transport_is_loopback(yes[i]) == 1, "%s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        CHECK_MSG(im_transport_is_loopback(no[i]) == 0, "%s", no[i]);
    CHECK_INT(im_transport_is_loopback(NULL), 0);

    /* binding refuses a non-loopback endpoint unless allowed */
    void *ctx = zmq_ctx_new(), *sock = (void *)1;
    im_error err = {0};
    CHECK_INT(im_transport_bind_router(ctx, "tcp://0.0.0.0:0", NULL, &sock, NULL, 0, &err),
              IM_EINVAL);
    CHECK(sock == NULL);
    CHECK_CONTAINS(err.msg, "refusing to bind 'tcp://0.0.0.0:0'");
    im_transport_opts remote = {.allow_remote = 1};
    CHECK_INT(im_transport_bind_router(ctx, "tcp://0.0.0.0:*", &remote, &sock, NULL, 0, &err), 0);
    CHECK(sock != NULL);
    im_transport_close(&sock);
    CHECK(sock == NULL);
    im_transport_close(&sock); /* NULL-safe */
    /* a bind failure names the endpoint */
    CHECK_INT(im_transport_bind_router(ctx, "tcp://127.0.0.1:nope", NULL, &sock, NULL, 0, &err),
              IM_ENET);
    CHECK_CONTAINS(err.msg, "unable to bind 'tcp://127.0.0.1:nope'");
    CHECK_INT(im_transport_connect_dealer(ctx, "bogus://x", NULL, &sock, &err), IM_ENET);
    CHECK(sock == NULL);
    zmq_ctx_term(ctx);
}

/* Wait up to ms for a message on sock; its length, or -1 if none came. */
static int recv_within(void *sock, char *buf, size_t len, int ms)
{
    zmq_pollitem_t item = {.socket = sock, .fd = -1, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, ms) != 1) return -1;
    return zmq_recv(sock, buf, len, 0);
}

/* Read and drop every frame that arrives on sock within ms. */
static void drain(void *sock, int ms)
{
    char buf[64];
    while (recv_within(sock, buf, sizeof buf, ms) >= 0) {
    }
}

/* The dealer says hello until the router hears it; the router's reply goes
 * to the identity it heard from. Returns the identity's length. */
static int hello(void *router, void *dealer, unsigned char id[256])
{
    for (int i = 0; i < 50; i++) {
        zmq_send(dealer, "hello", 5, 0);
        int n = recv_within(router, (char *)id, 256, 100);
        if (n > 0) {
            char body[16];
            zmq_recv(router, body, sizeof body, 0);
            return n;
        }
    }
    return -1;
}

static void test_size_limit(void)
{
    void *ctx = zmq_ctx_new(), *router = NULL, *dealer = NULL;
    im_error err = {0};
    char bound[256];
    CHECK_INT(im_transport_bind_router(ctx, "tcp://127.0.0.1:*", NULL, &router, bound, sizeof bound,
                                       &err),
              0);
    CHECK_MSG(strncmp(bound, "tcp://127.0.0.1:", 16) == 0 && strcmp(bound, "tcp://127.0.0.1:*"),
              "bound %s", bound);
    enum { LIMIT = 1000 };
    im_transport_opts o = {.max_msg_bytes = LIMIT};
    CHECK_INT(im_transport_connect_dealer(ctx, bound, &o, &dealer, &err), 0);

    static char big[LIMIT + 1], buf[2 * LIMIT];
    memset(big, 'x', sizeof big);
    unsigned char id[256];
    int id_len = hello(router, dealer, id);
    CHECK(id_len > 0);

    /* exactly the limit: received */
    zmq_send(router, id, (size_t)id_len, ZMQ_SNDMORE);
    zmq_send(router, big, LIMIT, 0);
    CHECK_INT(recv_within(dealer, buf, sizeof buf, 2000), LIMIT);

    /* one byte over: refused, never delivered; ZeroMQ drops the connection
     * as a protocol error and does not make it again (a worker's own
     * reconnection opens a new socket), so the dealer has no peer left */
    zmq_send(router, id, (size_t)id_len, ZMQ_SNDMORE);
    zmq_send(router, big, LIMIT + 1, 0);
    CHECK_INT(recv_within(dealer, buf, sizeof buf, 500), -1);
    int dropped = 0;
    for (int i = 0; i < 50 && !dropped; i++) {
        if (zmq_send(dealer, "hello", 5, ZMQ_DONTWAIT) < 0 && zmq_errno() == EAGAIN)
            dropped = 1;
        else
            drain(router, 50);
    }
    CHECK(dropped);

    /* a new socket gets through with a message within the limit */
    im_transport_close(&dealer);
    CHECK_INT(im_transport_connect_dealer(ctx, bound, &o, &dealer, &err), 0);
    id_len = hello(router, dealer, id);
    CHECK(id_len > 0);
    zmq_send(router, id, (size_t)id_len, ZMQ_SNDMORE);
    zmq_send(router, "small", 5, 0);
    CHECK_INT(recv_within(dealer, buf, sizeof buf, 2000), 5);
    CHECK(memcmp(buf, "small", 5) == 0);

    /* the limits as set; by default a dealer's is the protocol's */
    int64_t max = 0;
    size_t len = sizeof max;
    CHECK_INT(zmq_getsockopt(dealer, ZMQ_MAXMSGSIZE, &max, &len), 0);
    CHECK_INT(max, LIMIT);
    void *plain = NULL;
    CHECK_INT(im_transport_connect_dealer(ctx, bound, NULL, &plain, &err), 0);
    len = sizeof max;
    CHECK_INT(zmq_getsockopt(plain, ZMQ_MAXMSGSIZE, &max, &len), 0);
    CHECK_INT(max, (int64_t)IM_MSG_MAX_BYTES);
    len = sizeof max;
    CHECK_INT(zmq_getsockopt(router, ZMQ_MAXMSGSIZE, &max, &len), 0);
    CHECK_INT(max, IM_TRANSPORT_ROUTER_MAX);

    im_transport_close(&plain);
    im_transport_close(&dealer);
    im_transport_close(&router);
    zmq_ctx_term(ctx);
}

int main(void)
{
    test_loopback();
    test_size_limit();
    return TEST_END();
}
