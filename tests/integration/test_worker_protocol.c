/*
 * test_worker_protocol.c: the real infomorph-worker against a scripted
 * coordinator (a ROUTER socket in this test) that misbehaves on purpose:
 * garbage, a wrong protocol version and multi-frame replies; a JOB for a
 * dataset the worker lacks; STOP "pruned" and STOP "lost"; an ACK that never
 * comes (the worker must reconnect and send its result again); an ACK "other
 * database" (the result is dropped); the JOB's "db" echoed; SIGTERM while
 * idle and while training. The worker must survive all of it, keep to the
 * protocol (protocol.h) and exit 0 when told to stop.
 *
 * Usage: test_worker_protocol WORKER   (IM_DATA_DIR: the data with mnist10k)
 */
#include "protocol.h"
#include "test.h"
#include "test_util.h"

#include <signal.h>
#include <unistd.h>
#include <zmq.h>

static void *g_router;
static const char *g_worker_path, *g_data_dir;
static char g_endpoint[256];

/* A tiny trial: a fraction of a second per epoch even with sanitizers. */
static const char *TINY = "{\"dataset\": \"mnist10k\", \"hidden\": 8, \"epochs\": %d, "
                          "\"train_limit\": 500, \"eval_limit\": 300, \"batch\": 256}";

/* Receive the next message within timeout_s: 0 with *m and *env filled, -1
 * on timeout, -2 if it did not decode (err printed). */
static int recv_msg(double timeout_s, im_envelope *env, im_msg *m)
{
    double end = test_now_s() + timeout_s;
    for (;;) {
        double left = end - test_now_s();
        if (left <= 0) return -1;
        zmq_pollitem_t it = {.socket = g_router, .fd = -1, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, (long)(left * 1000) + 1) <= 0) continue;
        im_error err = {0};
        int rc = im_wire_recv(g_router, ZMQ_DONTWAIT, IM_MSG_MAX_BYTES, env, m, &err);
        if (rc == IM_ENET) continue;
        if (rc == IM_EPROTO) {
            fprintf(stderr, "test: the worker sent a malformed message: %s\n", err.msg);
            return -2;
        }
        return 0;
    }
}

/* Receive a message of the given type (others are answered as a coordinator
 * would, so the worker keeps going: CONTINUE to PROGRESS and HEARTBEAT, ACK
 * to BYE). Returns 0 with *m filled, or -1 (a check failed). */
static int expect(im_msg_type type, double timeout_s, im_envelope *env, im_msg *m)
{
    double end = test_now_s() + timeout_s;
    for (;;) {
        int rc = recv_msg(end - test_now_s(), env, m);
        if (rc != 0) {
            CHECK_MSG(0, "expected %s within %.0f s: %s", im_msg_type_name(type), timeout_s,
                      rc == -1 ? "nothing came" : "malformed");
            return -1;
        }
        if (m->type == type) return 0;
        im_msg reply = {.type = IM_MSG_CONTINUE};
        if (m->type == IM_MSG_PROGRESS || m->type == IM_MSG_HEARTBEAT) {
            reply.cont.trial = m->type == IM_MSG_PROGRESS ? m->progress.trial : m->heartbeat.trial;
            reply.cont.attempt =
                m->type == IM_MSG_PROGRESS ? m->progress.attempt : m->heartbeat.attempt;
            im_wire_send(g_router, env, &reply, NULL);
        } else if (m->type == IM_MSG_BYE) {
            reply.type = IM_MSG_ACK;
            reply.ack.accepted = 1;
            im_wire_send(g_router, env, &reply, NULL);
        } else {
            CHECK_MSG(0, "expected %s, got %s", im_msg_type_name(type), im_msg_type_name(m->type));
            im_msg_release(m);
            return -1;
        }
        im_msg_release(m);
    }
}

static void send_raw(const im_envelope *env, const char *text, int extra_frame)
{
    for (int i = 0; i < env->n; i++) zmq_send(g_router, env->frame[i], env->len[i], ZMQ_SNDMORE);
    if (extra_frame) zmq_send(g_router, "x", 1, ZMQ_SNDMORE);
    zmq_send(g_router, text, strlen(text), 0);
}

/* The database identity this scripted coordinator sends in JOB: the
 * worker must echo it in every message about the trial. */
#define TEST_DB "feedfacefeedfacefeedfacefeedface"

static void send_job_lease(const im_envelope *env, int64_t trial, int attempt,
                           const char *spec_text, double lease_s)
{
    json_t *spec = json_loads(spec_text, 0, NULL);
    im_msg job = {.type = IM_MSG_JOB};
    job.job.trial = trial;
    job.job.attempt = attempt;
    job.job.db = TEST_DB;
    job.job.lease_s = lease_s;
    job.job.number = 0;
    job.job.spec = spec;
    CHECK_INT(im_wire_send(g_router, env, &job, NULL), 0);
    json_decref(spec);
}

static void send_job(const im_envelope *env, int64_t trial, int attempt, const char *spec_text)
{
    send_job_lease(env, trial, attempt, spec_text, 30);
}

static void send_ack(const im_envelope *env, int64_t trial, int attempt)
{
    im_msg ack = {.type = IM_MSG_ACK};
    ack.ack.trial = trial;
    ack.ack.attempt = attempt;
    ack.ack.accepted = 1;
    ack.ack.note = "accepted";
    CHECK_INT(im_wire_send(g_router, env, &ack, NULL), 0);
}

static pid_t start_worker(const char *name)
{
    char *argv[] = {(char *)g_worker_path,
                    "--connect",
                    g_endpoint,
                    "--data-dir",
                    (char *)g_data_dir,
                    "--name",
                    (char *)name,
                    "--threads",
                    "1",
                    "--log-level",
                    "debug",
                    NULL};
    return test_spawn(argv, NULL, NULL, NULL);
}

/* User + system CPU seconds of a process so far, from /proc; -1 if unknown. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_worker_protocol WORKER\n");
        return 2;
    }
    g_worker_path = argv[1];
    g_data_dir = getenv("IM_DATA_DIR") ? getenv("IM_DATA_DIR") : "data";
    signal(SIGPIPE, SIG_IGN);
    void *ctx = zmq_ctx_new();
    g_router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(g_router, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_INT(zmq_bind(g_router, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof g_endpoint;
    zmq_getsockopt(g_router, ZMQ_LAST_ENDPOINT, g_endpoint, &len);
    char spec1[512], spec3[512], spec_long[512];
    snprintf(spec1, sizeof spec1, TINY, 1);
    snprintf(spec3, sizeof spec3, TINY, 3);
    snprintf(spec_long, sizeof spec_long, TINY, 500);

    pid_t pid = start_worker("wp");
    im_envelope env;
    im_msg m;

    /* READY with what the worker is */
    if (expect(IM_MSG_READY, 10, &env, &m) == 0) {
        CHECK_STR(m.ready.worker, "wp");
        CHECK(im_wire_list_has(m.ready.backends, "builtin"));
        CHECK(im_wire_list_has(m.ready.datasets, "mnist10k"));
        CHECK_INT(m.ready.threads, 1);
        im_msg_release(&m);
    }

    /* garbage, a wrong version, two frames: each ignored, READY again */
    static const char *bad[] = {"this is not JSON", "{\"type\": \"NOJOB\", \"v\": 2}",
                                "{\"type\": \"NOJOB\", \"v\": 1, \"retry_ms\": 10}"};
    for (int i = 0; i < 3; i++) {
        send_raw(&env, bad[i], i == 2);
        if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
    }

    /* a dataset the worker lacks: RESULT failed, naming it */
    send_job(&env, 11, 1, "{\"dataset\": \"no-such-set\", \"hidden\": 8, \"epochs\": 1}");
    if (expect(IM_MSG_RESULT, 10, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 11);
        CHECK_INT(m.result.status, IM_RESULT_FAILED);
        CHECK_CONTAINS(m.result.error, "no-such-set");
        send_ack(&env, 11, 1);
        im_msg_release(&m);
    }

    /* a dataset outside the data directory: refused, nothing opened there */
    static const char *const escapes[] = {"../x", "..", "/etc", "a/../../x", ".hidden"};
    for (int i = 0; i < 5; i++) {
        if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
        char spec[256];
        snprintf(spec, sizeof spec, "{\"dataset\": \"%s\", \"hidden\": 8, \"epochs\": 1}",
                 escapes[i]);
        send_job(&env, 20 + i, 1, spec);
        if (expect(IM_MSG_RESULT, 10, &env, &m) == 0) {
            CHECK_INT(m.result.trial, 20 + i);
            CHECK_INT(m.result.status, IM_RESULT_FAILED);
            CHECK_CONTAINS(m.result.error, "refused: 'dataset' must be a folder name");
            send_ack(&env, 20 + i, 1);
            im_msg_release(&m);
        }
    }

    /* a spec that needs far more memory than the machine has (hidden 100,000:
     * hundreds of GB): RESULT failed saying so, and the worker lives on
     * (it used to abort in im_xcalloc, and the next worker with it) */
    if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
    send_job(&env, 17, 1, "{\"dataset\": \"mnist10k\", \"hidden\": 100000, \"epochs\": 1}");
    if (expect(IM_MSG_RESULT, 10, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 17);
        CHECK_INT(m.result.status, IM_RESULT_FAILED);
        CHECK_CONTAINS(m.result.error, "GB of memory");
        send_ack(&env, 17, 1);
        im_msg_release(&m);
    }

    /* STOP "pruned" after the first PROGRESS: RESULT stopped with the curve so far */
    if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
    send_job(&env, 12, 2, spec_long);
    if (expect(IM_MSG_PROGRESS, 30, &env, &m) == 0) {
        CHECK_INT(m.progress.trial, 12);
        CHECK_INT(m.progress.attempt, 2);
        CHECK_STR(m.progress.db, TEST_DB);
        CHECK_STR(m.progress.worker, "wp");
        CHECK_INT(m.progress.e.epoch, 0);
        im_msg stop = {.type = IM_MSG_STOP};
        stop.stop.trial = 12;
        stop.stop.attempt = 2;
        stop.stop.reason = "pruned";
        im_wire_send(g_router, &env, &stop, NULL);
        im_msg_release(&m);
    }
    if (expect(IM_MSG_RESULT, 30, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 12);
        CHECK_STR(m.result.db, TEST_DB);
        CHECK_STR(m.result.worker, "wp");
        CHECK_INT(m.result.status, IM_RESULT_STOPPED);
        CHECK(m.result.n_curve >= 1 && m.result.n_curve < 500);
        send_ack(&env, 12, 2);
        im_msg_release(&m);
    }

    /* STOP "lost": no RESULT, the next message is READY */
    if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
    send_job(&env, 13, 1, spec_long);
    if (expect(IM_MSG_PROGRESS, 30, &env, &m) == 0) {
        im_msg stop = {.type = IM_MSG_STOP};
        stop.stop.trial = 13;
        stop.stop.attempt = 1;
        stop.stop.reason = "lost";
        im_wire_send(g_router, &env, &stop, NULL);
        im_msg_release(&m);
    }
    if (expect(IM_MSG_READY, 30, &env, &m) == 0) im_msg_release(&m);

    /* a lease of a microsecond: the worker clamps it to 0.1 s and sends at
     * most one HEARTBEAT every 50 ms, not thousands a second */
    send_job_lease(&env, 16, 1,
                   "{\"dataset\": \"mnist10k\", \"hidden\": 200, \"epochs\": 1000, "
                   "\"eval_limit\": 300, \"batch\": 256}",
                   1e-6);
    int beats = 0, stopped = 0;
    double until = test_now_s() + 1.5;
    while (!stopped && recv_msg(30, &env, &m) == 0) {
        if (m.type == IM_MSG_HEARTBEAT && test_now_s() < until) beats++;
        if (m.type == IM_MSG_HEARTBEAT) {
            CHECK_STR(m.heartbeat.db, TEST_DB);
            CHECK_STR(m.heartbeat.worker, "wp");
        }
        if (m.type == IM_MSG_PROGRESS || m.type == IM_MSG_HEARTBEAT) {
            /* each request gets its one reply: CONTINUE, then STOP "lost" */
            im_msg reply = {.type = IM_MSG_CONTINUE};
            reply.cont.trial = 16;
            reply.cont.attempt = 1;
            if (test_now_s() >= until) {
                reply.type = IM_MSG_STOP;
                reply.stop.reason = "lost";
                stopped = 1;
            }
            im_wire_send(g_router, &env, &reply, NULL);
        }
        im_msg_release(&m);
    }
    CHECK(stopped);
    CHECK_MSG(beats >= 1 && beats <= 35, "%d heartbeats in 1.5 s with a lease of 1e-6 s", beats);
    if (expect(IM_MSG_READY, 30, &env, &m) == 0) im_msg_release(&m);

    /* a RESULT never acknowledged: the worker reconnects (a new identity) and
     * sends the same RESULT again */
    send_job(&env, 14, 1, spec3);
    if (expect(IM_MSG_RESULT, 30, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 14);
        CHECK_INT(m.result.status, IM_RESULT_DONE);
        CHECK_INT((long long)m.result.n_curve, 4);
        CHECK(m.result.n_atoms >= 5);
        CHECK(m.result.val_acc >= 0 && m.result.val_acc <= 1);
        im_msg_release(&m);
    }
    im_envelope first = env;
    double t0 = test_now_s();
    if (expect(IM_MSG_RESULT, 20, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 14);
        CHECK_INT(m.result.attempt, 1);
        CHECK_STR(m.result.db, TEST_DB); /* the resent RESULT still names its database */
        CHECK(test_now_s() - t0 >= 3);   /* after the worker's reply timeout, not at once */
        CHECK(env.n != first.n || env.len[0] != first.len[0] ||
              memcmp(env.frame[0], first.frame[0], env.len[0]) != 0);
        send_ack(&env, 14, 1);
        im_msg_release(&m);
    }

    /* ACK "other database" (the coordinator now serves another database):
     * the result is dropped, not resent, and the worker asks for work */
    if (expect(IM_MSG_READY, 5, &env, &m) == 0) im_msg_release(&m);
    send_job(&env, 18, 1, spec3);
    if (expect(IM_MSG_RESULT, 30, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 18);
        im_msg ack = {.type = IM_MSG_ACK};
        ack.ack.trial = 18;
        ack.ack.attempt = 1;
        ack.ack.accepted = 0;
        ack.ack.note = "other database";
        CHECK_INT(im_wire_send(g_router, &env, &ack, NULL), 0);
        im_msg_release(&m);
    }
    if (recv_msg(8, &env, &m) == 0) { /* past the worker's reply timeout: no resend */
        CHECK_MSG(m.type == IM_MSG_READY, "after ACK \"other database\": %s, not READY",
                  im_msg_type_name(m.type));
        im_msg_release(&m);
    } else {
        CHECK_MSG(0, "no READY after ACK \"other database\"");
    }

    /* SIGTERM while training: RESULT interrupted, BYE, exit 0 */
    send_job(&env, 15, 1, spec_long);
    if (expect(IM_MSG_PROGRESS, 30, &env, &m) == 0) {
        im_msg cont = {.type = IM_MSG_CONTINUE};
        cont.cont.trial = 15;
        cont.cont.attempt = 1;
        im_wire_send(g_router, &env, &cont, NULL);
        im_msg_release(&m);
    }
    kill(pid, SIGTERM);
    if (expect(IM_MSG_RESULT, 30, &env, &m) == 0) {
        CHECK_INT(m.result.trial, 15);
        CHECK_INT(m.result.status, IM_RESULT_INTERRUPTED);
        send_ack(&env, 15, 1);
        im_msg_release(&m);
    }
    if (expect(IM_MSG_BYE, 10, &env, &m) == 0) {
        CHECK_STR(m.bye.worker, "wp");
        send_ack(&env, 0, 0);
        im_msg_release(&m);
    }
    CHECK_INT(test_wait_timeout(pid, 10), 0);

    /* waiting for a reply that does not come costs no CPU (no busy loop),
     * then SIGTERM while idle (its READY unanswered): exit 0 within seconds */
    pid = start_worker("wq");
    if (expect(IM_MSG_READY, 10, &env, &m) == 0) im_msg_release(&m);
    double cpu0 = cpu_seconds(pid);
    test_sleep_ms(4000);
    double cpu = cpu_seconds(pid) - cpu0;
    CHECK_MSG(cpu >= 0 && cpu < 0.5, "an idle worker used %.2f s of CPU in 4 s", cpu);
    double t1 = test_now_s();
    kill(pid, SIGTERM);
    CHECK_INT(test_wait_timeout(pid, 10), 0);
    CHECK(test_now_s() - t1 < 5);

    zmq_close(g_router);
    zmq_ctx_term(ctx);
    return TEST_END();
}
