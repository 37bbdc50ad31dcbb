/*
 * bench_ready_names: the coordinator under a flood of READYs, each with a
 * name it has not seen (a hostile or broken peer). One DEALER sends them one
 * after the other and waits for each reply (NOJOB: there is no campaign), so
 * the time per READY is the coordinator's loop latency. Reported per block
 * of 10,000 names: mean and largest latency, and the coordinator's resident
 * memory (VmRSS); at the end the size and time of a WORKERS reply. With the
 * worker registry hashed by name and bounded in memory, and the WORKERS
 * reply bounded, all of them stay flat as names accumulate.
 *
 *   bench_ready_names COORDINATOR [names] [dir]
 *   defaults: 100000 names, the current directory
 */
#include "protocol.h"
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* The resident memory of pid in MB, -1 if unknown. */
static double rss_mb(pid_t pid)
{
    long kib = test_rss_kib(pid);
    return kib < 0 ? -1 : kib / 1024.0;
}

/* Send text on sock and wait up to 10 s for the reply; its length, or -1. */
static long round_trip(void *sock, const char *text)
{
    if (zmq_send(sock, text, strlen(text), 0) < 0) return -1;
    zmq_pollitem_t it = {.socket = sock, .fd = -1, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, 10000) <= 0) return -1;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    long n = zmq_msg_recv(&msg, sock, 0);
    zmq_msg_close(&msg);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ready_names COORDINATOR [names] [dir]\n");
        return 2;
    }
    long names = argc > 2 ? atol(argv[2]) : 100000;
    char dir[512], db[700], epfile[700];
    if (test_mkdtemp(dir, sizeof dir, argc > 3 ? argv[3] : ".", "bench_ready_names") != 0) return 1;
    snprintf(db, sizeof db, "%s/trials.db", dir);
    snprintf(epfile, sizeof epfile, "%s/endpoints", dir);
    pid_t pid = test_spawn_coordinator(argv[1], db, epfile, NULL, "error", NULL);
    char wep[256] = "", cep[256] = "";
    if (test_wait_endpoints(&pid, epfile, 20, wep, cep) != 0) {
        fprintf(stderr, "the coordinator did not start\n");
        if (pid > 0) kill(pid, SIGKILL);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *w = zmq_socket(ctx, ZMQ_DEALER), *c = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(w, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(w, wep);
    zmq_connect(c, cep);

    printf("%8s %12s %12s %10s\n", "names", "mean_ms", "max_ms", "rss_mb");
    double block_sum = 0, block_max = 0;
    int rc = 0;
    for (long i = 1; i <= names; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"type\":\"READY\",\"v\":1,\"worker\":\"flood-%ld\",\"host\":\"h\",\"pid\":%ld,"
                 "\"backends\":[\"builtin\"]}",
                 i, i);
        double t0 = test_now_s();
        if (round_trip(w, text) < 0) {
            fprintf(stderr, "no reply to READY %ld\n", i);
            rc = 1;
            break;
        }
        double ms = (test_now_s() - t0) * 1e3;
        block_sum += ms;
        if (ms > block_max) block_max = ms;
        if (i % 10000 == 0) {
            printf("%8ld %12.3f %12.3f %10.1f\n", i, block_sum / 10000, block_max, rss_mb(pid));
            fflush(stdout);
            block_sum = block_max = 0;
        }
    }
    double t0 = test_now_s();
    long n = round_trip(c, "{\"type\":\"WORKERS\",\"v\":1}");
    printf("WORKERS reply: %ld bytes in %.1f ms\n", n, (test_now_s() - t0) * 1e3);
    t0 = test_now_s();
    n = round_trip(c, "{\"type\":\"STATUS\",\"v\":1}");
    printf("STATUS reply: %ld bytes in %.1f ms\n", n, (test_now_s() - t0) * 1e3);

    zmq_close(w);
    zmq_close(c);
    zmq_ctx_term(ctx);
    kill(pid, SIGTERM);
    test_wait_timeout(pid, 30);
    test_rm_tree(dir);
    return rc;
}
