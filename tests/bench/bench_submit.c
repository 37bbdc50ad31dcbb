/*
 * bench_submit: the coordinator's loop while it takes a large `fixed`
 * campaign. One DEALER sends a SUBMIT of N points (lists of 5 numbers with
 * four decimals, as a script writes them); another sends LIST after LIST
 * until the SUBMIT's reply is there, so the longest LIST round trip is the
 * longest stall of the loop. Reported: the size of the SUBMIT, the time to
 * its reply, the longest and the median LIST round trip during it, the CPU
 * time the coordinator spent on it (all its threads: less noisy than wall
 * time on a shared machine), the trials in the database right after (they
 * are created as workers ask, so none), and the time a restarted
 * coordinator takes until it answers (it parses the stored campaign again).
 * Figures only: it fails when something does not answer, never on time.
 *
 *   bench_submit COORDINATOR [points] [dir]
 *   defaults: 100000 points, the current directory
 */
#include "test_util.h"

#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* CPU seconds (user + system, all threads) of pid so far, -1 if unknown. */
static double cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    size_t len = 0;
    char *text = test_read_file(path, &len);
    char *p = text ? strrchr(text, ')') : NULL; /* after the command name */
    unsigned long long ut = 0, st = 0;
    int ok =
        p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2;
    free(text);
    return ok ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : -1;
}

/* Wait up to timeout_ms for a message on sock; its length, or -1. */
static long recv_reply(void *sock, int timeout_ms)
{
    zmq_pollitem_t it = {.socket = sock, .fd = -1, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0) return -1;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    long n = zmq_msg_recv(&msg, sock, 0);
    zmq_msg_close(&msg);
    return n;
}

/* The SUBMIT text of a fixed campaign of n points. Caller frees it. */
static char *submit_text(long n)
{
    json_t *points = json_array();
    unsigned long long x = 88172645463325252ull; /* xorshift64: the same points every run */
    for (long i = 0; i < n; i++) {
        json_t *g = json_array();
        for (int j = 0; j < 5; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            json_array_append_new(g, json_real((double)(long)(x % 20001) / 1e4 - 1));
        }
        json_array_append_new(points, g);
    }
    json_t *m = json_pack("{s:s, s:i, s:{s:s, s:s, s:{s:s, s:s, s:i, s:i}, s:o, s:i}}", "type",
                          "SUBMIT", "v", 1, "campaign", "name", "bench-submit", "kind", "fixed",
                          "train", "dataset", "mnist10k", "setup", "bivariate-lateral", "hidden", 8,
                          "epochs", 1, "points", points, "seeds_per_point", 1);
    char *text = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(m);
    return text;
}

static long long count_trials(const char *db)
{
    sqlite3 *h = NULL;
    long long n = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM trials", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Send SUBMIT on c and LIST after LIST on p until the SUBMIT's reply. */
static int measure_submit(void *c, void *p, pid_t pid, const char *text)
{
    static const char list[] = "{\"type\":\"LIST\",\"v\":1}";
    size_t cap = 4096, n = 0;
    double *rt = malloc(cap * sizeof *rt), cpu0 = cpu_s(pid), t0 = test_now_s();
    if (zmq_send(c, text, strlen(text), 0) < 0) return -1;
    long got = -1;
    while (got < 0 && test_now_s() - t0 < 120) {
        double t1 = test_now_s();
        if (zmq_send(p, list, sizeof list - 1, 0) < 0 || recv_reply(p, 120000) < 0) break;
        if (n == cap) rt = realloc(rt, (cap *= 2) * sizeof *rt);
        rt[n++] = (test_now_s() - t1) * 1e3;
        got = recv_reply(c, 0);
    }
    if (got < 0) got = recv_reply(c, 1000);
    double wall = test_now_s() - t0, cpu = cpu_s(pid) - cpu0;
    qsort(rt, n, sizeof *rt, cmp_double);
    printf("SUBMIT: %zu bytes, reply (%ld bytes) in %.0f ms, coordinator CPU %.0f ms\n",
           strlen(text), got, wall * 1e3, cpu * 1e3);
    printf("LIST during it: %zu answered, longest %.0f ms, median %.1f ms\n", n,
           n ? rt[n - 1] : 0.0, n ? rt[n / 2] : 0.0);
    free(rt);
    return got < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_submit COORDINATOR [points] [dir]\n");
        return 2;
    }
    long points = argc > 2 ? atol(argv[2]) : 100000;
    char dir[512], db[700], epfile[700];
    if (test_mkdtemp(dir, sizeof dir, argc > 3 ? argv[3] : ".", "bench_submit") != 0) return 1;
    snprintf(db, sizeof db, "%s/trials.db", dir);
    snprintf(epfile, sizeof epfile, "%s/endpoints", dir);
    char *text = submit_text(points);
    pid_t pid = test_spawn_coordinator(argv[1], db, epfile, NULL, "error", NULL);
    char wep[256] = "", cep[256] = "";
    if (!text || test_wait_endpoints(&pid, epfile, 20, wep, cep) != 0) {
        fprintf(stderr, "the coordinator did not start\n");
        if (pid > 0) kill(pid, SIGKILL);
        free(text);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *c = zmq_socket(ctx, ZMQ_DEALER), *p = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(p, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(c, cep);
    zmq_connect(p, cep);
    static const char list[] = "{\"type\":\"LIST\",\"v\":1}";
    int rc = zmq_send(p, list, sizeof list - 1, 0) < 0 || recv_reply(p, 10000) < 0;
    printf("points %ld\n", points);
    if (rc == 0) rc = measure_submit(c, p, pid, text) != 0;
    printf("trials in the database after the SUBMIT: %lld\n", count_trials(db));
    free(text);
    zmq_close(c);

    /* a restart: the stored campaign is parsed again before the loop runs */
    kill(pid, SIGTERM);
    test_wait_timeout(pid, 30);
    double t0 = test_now_s();
    pid = test_spawn_coordinator(argv[1], db, epfile, NULL, "error", NULL);
    if (rc == 0 && test_wait_endpoints(&pid, epfile, 60, wep, cep) == 0) {
        void *r = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
        zmq_connect(r, cep);
        long n = zmq_send(r, list, sizeof list - 1, 0) < 0 ? -1 : recv_reply(r, 60000);
        printf("restart: answers LIST after %.0f ms\n", (test_now_s() - t0) * 1e3);
        rc = n < 0;
        zmq_close(r);
    } else {
        rc = 1;
    }
    zmq_close(p);
    zmq_ctx_term(ctx);
    if (pid > 0) {
        kill(pid, SIGTERM);
        test_wait_timeout(pid, 30);
    }
    test_rm_tree(dir);
    return rc;
}
