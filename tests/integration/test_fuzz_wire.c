/*
 * test_fuzz_wire: a smoke test of the coordinator against a hostile peer.
 * For a bounded time (IM_FUZZ_SECONDS, default 15) it sends, on both the
 * workers' and the clients' sockets, seeded random messages: valid messages
 * of every type with random field values (out of range, wrong types, control
 * characters, huge numbers), byte mutations of them (flips, cuts, inserts),
 * random bytes, and multipart envelopes with too many or too long frames,
 * while a campaign is running. Then the coordinator must still be alive,
 * answer STATUS, stop cleanly, and its database must pass PRAGMA
 * integrity_check. Run in the release and the sanitizer passes (under the
 * sanitizers a crash or a report is the failure this test is for).
 *
 * Usage: test_fuzz_wire   (IM_COORDINATOR: the program; IM_FUZZ_SEED: seed)
 */
#include "protocol.h"
#include "test.h"
#include "test_util.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static uint64_t g_state;

static uint64_t rnd(void)
{
    /* splitmix64: seeded, so a failure can be replayed with IM_FUZZ_SEED */
    uint64_t z = (g_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *pick(const char *const *v, size_t n)
{
    return v[rnd() % n];
}

/* A JSON value of a random kind, often odd. */
static void rand_value(char *out, size_t n)
{
    static const char *const vals[] = {"0",
                                       "1",
                                       "-1",
                                       "2.0",
                                       "1e308",
                                       "-1e308",
                                       "0.5",
                                       "null",
                                       "true",
                                       "\"\"",
                                       "\"x\"",
                                       "[]",
                                       "{}",
                                       "[1,2]",
                                       "{\"a\":1}",
                                       "\"w\\u001b[31m\"",
                                       "\"a\\nb\"",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "1000000",
                                       "100001",
                                       "\"\\u0000\"",
                                       "0.1",
                                       "86400",
                                       "[\"mnist10k\"]",
                                       "{\"hidden\":{\"f\":1}}",
                                       "[{\"epoch\":0,\"val_acc\":2}]",
                                       "\"done\"",
                                       "\"failed\"",
                                       "\"interrupted\"",
                                       "\"stopped\""};
    snprintf(out, n, "%s", pick(vals, sizeof vals / sizeof *vals));
}

static size_t make_message(char *buf, size_t cap)
{
    static const char *const types[] = {
        "READY",    "PROGRESS", "HEARTBEAT", "RESULT",  "BYE",  "JOB",    "NOJOB",
        "CONTINUE", "STOP",     "ACK",       "SUBMIT",  "LIST", "STATUS", "BEST",
        "TRIALS",   "CANCEL",   "EXPORT",    "WORKERS", "OK",   "ERROR",  "NOPE"};
    static const char *const keys[] = {"worker",   "host",     "pid",     "threads",  "backends",
                                       "datasets", "trial",    "attempt", "epoch",    "train_acc",
                                       "val_acc",  "test_acc", "seconds", "wall_s",   "status",
                                       "curve",    "atoms",    "error",   "campaign", "n",
                                       "from",     "limit",    "reason",  "note",     "goal_out",
                                       "lease_s",  "spec",     "user",    "retry_ms", "message"};
    size_t len =
        (size_t)snprintf(buf, cap, "{\"type\":\"%s\",\"v\":%s",
                         pick(types, sizeof types / sizeof *types), rnd() % 10 ? "1" : "2");
    int nkeys = (int)(rnd() % 8);
    for (int i = 0; i < nkeys && len + 300 < cap; i++) {
        char v[128];
        rand_value(v, sizeof v);
        const char *k = pick(keys, sizeof keys / sizeof *keys);
        if (strcmp(k, "trial") == 0 && rnd() % 2) snprintf(v, sizeof v, "%d", (int)(rnd() % 8));
        if (strcmp(k, "attempt") == 0 && rnd() % 2) snprintf(v, sizeof v, "%d", (int)(rnd() % 4));
        if (strcmp(k, "worker") == 0 && rnd() % 2)
            snprintf(v, sizeof v, "\"fz%d\"", (int)(rnd() % 16));
        len += (size_t)snprintf(buf + len, cap - len, ",\"%s\":%s", k, v);
    }
    len += (size_t)snprintf(buf + len, cap - len, "}");
    /* mutate a third of them */
    if (rnd() % 3 == 0) {
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: buf[at] = (char)(rnd() & 0xff); break;
            case 1: len = at; break;
            default:
                if (len + 1 < cap) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (char)(rnd() & 0xff);
                    len++;
                }
            }
        }
    }
    if (rnd() % 20 == 0) { /* random bytes */
        len = rnd() % 64;
        for (size_t i = 0; i < len; i++) buf[i] = (char)(rnd() & 0xff);
    }
    return len;
}

static void *dealer(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, hwm = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect(s, ep);
    return s;
}

/* Drop whatever replies have come. */
static void drain(void *s)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0) {
    }
    zmq_msg_close(&m);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *prog = getenv("IM_COORDINATOR");
    if (!prog) {
        fprintf(stderr, "IM_COORDINATOR is not set\n");
        return 1;
    }
    double seconds = getenv("IM_FUZZ_SECONDS") ? atof(getenv("IM_FUZZ_SECONDS")) : 15;
    g_state = getenv("IM_FUZZ_SEED") ? strtoull(getenv("IM_FUZZ_SEED"), NULL, 10) : 20261206;
    printf("seed %llu, %.0f s\n", (unsigned long long)g_state, seconds);
    char dir[512], db[700], epfile[700], log[700];
    if (test_mkdtemp(dir, sizeof dir, ".", "im-fuzz") != 0) return 1;
    snprintf(db, sizeof db, "%s/trials.db", dir);
    snprintf(epfile, sizeof epfile, "%s/endpoints", dir);
    snprintf(log, sizeof log, "%s/coordinator.log", dir);
    pid_t pid = test_spawn_coordinator(prog, db, epfile, "0.5", "warn", log);
    char wep[256] = "", cep[256] = "";
    if (test_wait_endpoints(&pid, epfile, 30, wep, cep) != 0) cep[0] = '\0';
    CHECK_MSG(cep[0], "the coordinator did not start");
    if (!cep[0]) {
        if (pid > 0) kill(pid, SIGKILL);
        return TEST_END();
    }
    void *ctx = zmq_ctx_new();
    void *cl = dealer(ctx, cep);
    /* a campaign, so that READYs get JOBs and trials run (and expire) */
    const char *submit = "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"fz\",\"kind\":"
                         "\"search\",\"budget\":20,\"train\":{\"dataset\":\"mnist10k\","
                         "\"hidden\":8,\"epochs\":2}}}";
    zmq_send(cl, submit, strlen(submit), 0);

    void *socks[4] = {dealer(ctx, wep), dealer(ctx, wep), cl, dealer(ctx, cep)};
    long sent = 0;
    double end = test_now_s() + seconds;
    char buf[4096];
    while (test_now_s() < end) {
        void *s = socks[rnd() % 4];
        size_t len = make_message(buf, sizeof buf);
        int frames = rnd() % 25 == 0 ? 1 + (int)(rnd() % 6) : 0; /* extra envelope frames */
        for (int f = 0; f < frames; f++) {
            char fr[400];
            size_t fl = rnd() % 2 ? rnd() % 300 : 0;
            memset(fr, 'e', fl);
            zmq_send(s, fr, fl, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        }
        zmq_send(s, buf, len, ZMQ_DONTWAIT);
        sent++;
        if (sent % 64 == 0) {
            for (int k = 0; k < 4; k++) drain(socks[k]);
            test_sleep_ms(1);
        }
        CHECK_MSG(waitpid(pid, NULL, WNOHANG) == 0, "the coordinator died after %ld messages",
                  sent);
        if (waitpid(pid, NULL, WNOHANG) != 0) break;
    }
    printf("%ld messages sent\n", sent);

    /* still serving: a STATUS gets OK */
    void *probe = dealer(ctx, cep);
    const char *status = "{\"type\":\"STATUS\",\"v\":1}";
    zmq_send(probe, status, strlen(status), 0);
    zmq_pollitem_t it = {.socket = probe, .fd = -1, .events = ZMQ_POLLIN};
    int ok = 0;
    if (zmq_poll(&it, 1, 20000) > 0) {
        im_msg m;
        zmq_msg_t zm;
        zmq_msg_init(&zm);
        int n = zmq_msg_recv(&zm, probe, 0);
        if (n >= 0 && im_msg_decode(&m, zmq_msg_data(&zm), (size_t)n, NULL) == 0) {
            ok = m.type == IM_MSG_OK;
            im_msg_release(&m);
        }
        zmq_msg_close(&zm);
    }
    CHECK_MSG(ok, "no OK to STATUS after the fuzzing");
    for (int k = 0; k < 4; k++) zmq_close(socks[k]);
    zmq_close(probe);
    zmq_ctx_term(ctx);

    kill(pid, SIGTERM);
    CHECK_INT(test_wait_timeout(pid, 30), 0);

    sqlite3 *h = NULL;
    CHECK_INT(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (h && sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
    else
        CHECK_MSG(0, "integrity_check did not run");
    sqlite3_finalize(st);
    sqlite3_close(h);
    int rc = TEST_END();
    if (rc == 0)
        test_rm_tree(dir);
    else
        fprintf(stderr, "files kept in %s\n", dir);
    return rc;
}
