/*
 * test_coordinator: the real infomorph-coordinator program on loopback
 * (ports picked by the system), driven by this test as a client and as a
 * fake worker over DEALER sockets, with its SQLite file checked directly:
 *  - submissions: a fixed campaign is accepted, a bad one refused naming
 *    the field, a duplicate name refused; priorities order the hand-out;
 *  - a trial's life: JOB, PROGRESS -> CONTINUE, RESULT -> ACK, rows in the
 *    database; a duplicate RESULT is acked and changes nothing;
 *  - malformed messages get ERROR and the coordinator keeps serving;
 *  - leases (--lease 1): an expired attempt is recorded as lost and the
 *    trial queued again; its worker coming back in time resumes the lease,
 *    after another worker took it gets STOP and its result is "superseded";
 *    a lease running out on the third attempt fails the trial;
 *  - cancel: queued trials cancelled, the running one told STOP;
 *  - ablation (first stage) from a preset and from a done trial's gamma;
 *  - the median pruner stops a trial below the median, also after a restart;
 *  - kill -9 mid-campaign and restart on the same database: the work of the
 *    trials that were out is kept (late result accepted, lease resumed; the
 *    trials are held back for their workers for a lease), the campaign
 *    completes with every trial exactly once, and a search campaign proposes
 *    the same points as an identical campaign that ran without a crash;
 *  - a worker that reconnects while training stays alive and busy through
 *    the heartbeats of its trial;
 *  - SIGTERM stops it cleanly (exit 0).
 * The program's path comes from IM_COORDINATOR (set by ctest).
 */
#include "protocol.h"
#include "test.h"
#include "test_util.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static void *g_ctx;
static char g_dir[512];

typedef struct coord {
    pid_t pid;
    char wep[256], cep[256];
} coord;

/* Start the coordinator on db with the given lease; wait for its endpoints. */
static int coord_start(coord *c, const char *db, const char *lease)
{
    const char *prog = getenv("IM_COORDINATOR");
    if (!prog) {
        fprintf(stderr, "IM_COORDINATOR is not set\n");
        return -1;
    }
    char epfile[600];
    snprintf(epfile, sizeof epfile, "%s/endpoints", g_dir);
    c->pid = test_spawn_coordinator(prog, db, epfile, lease, "warn", NULL);
    if (c->pid < 0) return -1;
    return test_wait_endpoints(&c->pid, epfile, 10, c->wep, c->cep);
}

/* Send sig and wait for the exit; returns the wait status. */
static int coord_stop(coord *c, int sig)
{
    int status = -1;
    if (c->pid <= 0) return -1;
    kill(c->pid, sig);
    waitpid(c->pid, &status, 0);
    c->pid = -1;
    return status;
}

static void *dealer(const char *ep)
{
    void *s = zmq_socket(g_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, ep);
    return s;
}

/* Start a coordinator on g_dir/name (its path into db) with the given lease
 * and connect a client socket *cl and a worker socket *w to it. Returns 0, or
 * -1 if it did not start (a check failed). */
static int coord_open(coord *c, char *db, size_t size, const char *name, const char *lease,
                      void **cl, void **w)
{
    snprintf(db, size, "%s/%s", g_dir, name);
    CHECK_INT(coord_start(c, db, lease), 0);
    if (c->pid <= 0) return -1;
    *cl = dealer(c->cep);
    *w = dealer(c->wep);
    return 0;
}

static int send_text(void *s, const char *text)
{
    return zmq_send(s, text, strlen(text), 0) < 0 ? -1 : 0;
}

/* Wait up to 5 s for one message and decode it into *m. */
static int recv_msg(void *s, im_msg *m)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 5000) != 1) {
        fprintf(stderr, "no reply within 5 s\n");
        return -1;
    }
    im_error err = {0};
    int rc = im_wire_recv(s, 0, 1u << 30, NULL, m, &err);
    if (rc) fprintf(stderr, "bad reply: %s\n", err.msg);
    return rc;
}

/* Send a JSON text, receive the reply. */
static int request(void *s, const char *text, im_msg *reply)
{
    if (send_text(s, text)) return -1;
    return recv_msg(s, reply);
}

/* Send text on socket s: the reply must be ERROR with frag in its message.
 * Macros, so that a failed check names the caller's line. */
#define CHECK_ERROR_REPLY(s, text, frag)                                                           \
    do {                                                                                           \
        im_msg r_;                                                                                 \
        CHECK_INT(request((s), (text), &r_), 0);                                                   \
        CHECK_INT(r_.type, IM_MSG_ERROR);                                                          \
        CHECK_CONTAINS(r_.error.message, (frag));                                                  \
        im_msg_release(&r_);                                                                       \
    } while (0)

/* Send a RESULT (see send_result): the reply must be an ACK that accepts it. */
#define CHECK_RESULT_ACCEPTED(w, trial, attempt, status, val)                                      \
    do {                                                                                           \
        im_msg r_;                                                                                 \
        CHECK_INT(send_result((w), (trial), (attempt), (status), (val), &r_), 0);                  \
        CHECK_INT(r_.type, IM_MSG_ACK);                                                            \
        CHECK_INT(r_.ack.accepted, 1);                                                             \
        im_msg_release(&r_);                                                                       \
    } while (0)

/* The same, but the ACK must not accept it, giving reason as its note. */
#define CHECK_RESULT_REFUSED(w, trial, attempt, status, val, reason)                               \
    do {                                                                                           \
        im_msg r_;                                                                                 \
        CHECK_INT(send_result((w), (trial), (attempt), (status), (val), &r_), 0);                  \
        CHECK_INT(r_.type, IM_MSG_ACK);                                                            \
        CHECK_INT(r_.ack.accepted, 0);                                                             \
        CHECK_STR(r_.ack.note, (reason));                                                          \
        im_msg_release(&r_);                                                                       \
    } while (0)

static long long q_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        else
            fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(h));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

static char *q_text(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    char *v = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            v = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

/* The text of a one-value query equals want. */
#define CHECK_Q(args, want)                                                                        \
    do {                                                                                           \
        char *q_ = q_text args;                                                                    \
        CHECK_STR(q_, want);                                                                       \
        free(q_);                                                                                  \
    } while (0)

/* A fingerprint of everything a result can change. */
static char *db_fingerprint(const char *db)
{
    return q_text(db,
                  "SELECT (SELECT group_concat(id || status || attempt || "
                  "coalesce(val_acc, '-') || coalesce(finished_at, '-'), ';') FROM trials) || '|' "
                  "|| (SELECT count(*) FROM trial_attempts) || '|' || "
                  "(SELECT group_concat(status, ',') FROM trial_attempts) || '|' || "
                  "(SELECT count(*) FROM trial_epochs) || '|' || "
                  "(SELECT count(*) FROM trial_atoms) || '|' || (SELECT count(*) FROM events)");
}

static const char *ready_text(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"READY\",\"v\":1,\"worker\":\"%s\",\"host\":\"test\",\"pid\":1,"
             "\"backends\":[\"builtin\"],\"threads\":1,\"version\":\"test\","
             "\"datasets\":[\"mnist10k\"]}",
             name);
    return buf;
}

/* What a worker echoes in its messages about a trial: the database of the
 * last JOB, and the name that took each trial (the last 256 trials). */
static char g_db_id[IM_WIRE_DB_MAX + 1];
static struct {
    int64_t trial;
    char name[64];
} g_holders[256];
static size_t g_n_holders;

static void holder_set(int64_t trial, const char *name)
{
    size_t i = g_n_holders++ % (sizeof g_holders / sizeof *g_holders);
    g_holders[i].trial = trial;
    snprintf(g_holders[i].name, sizeof g_holders[i].name, "%s", name);
}

/* The keys a worker adds to a message about trial: ,"db":...,"worker":...
 * (a static buffer: one use per message). */
static const char *tk(int64_t trial)
{
    static char buf[256];
    const char *name = "nobody";
    for (size_t i = 0; i < g_n_holders && i < sizeof g_holders / sizeof *g_holders; i++)
        if (g_holders[i].trial == trial) name = g_holders[i].name;
    snprintf(buf, sizeof buf, ",\"db\":\"%s\",\"worker\":\"%s\"", g_db_id, name);
    return buf;
}

/* READY -> JOB; returns 0 and the trial/attempt, 1 for NOJOB, -1 otherwise. */
static int take_job(void *w, const char *name, int64_t *trial, int *attempt, json_t **spec)
{
    im_msg m;
    if (request(w, ready_text(name), &m)) return -1;
    int rc = -1;
    if (m.type == IM_MSG_JOB) {
        *trial = m.job.trial;
        *attempt = m.job.attempt;
        snprintf(g_db_id, sizeof g_db_id, "%s", m.job.db ? m.job.db : "");
        holder_set(m.job.trial, name);
        if (spec) *spec = json_incref((json_t *)m.job.spec);
        rc = 0;
    } else if (m.type == IM_MSG_NOJOB) {
        rc = 1;
    } else {
        fprintf(stderr, "READY got %s\n", im_msg_type_name(m.type));
    }
    im_msg_release(&m);
    return rc;
}

static int send_result(void *w, int64_t trial, int attempt, const char *status, double val,
                       im_msg *ack)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"type\":\"RESULT\",\"v\":1%s,\"trial\":%lld,\"attempt\":%d,\"status\":\"%s\","
             "\"val_acc\":%.6f,\"test_acc\":%.6f,\"wall_s\":1.5,\"error\":null,"
             "\"curve\":[{\"epoch\":0,\"val_acc\":0.1},{\"epoch\":1,\"val_acc\":%.6f,"
             "\"train_acc\":0.5}],"
             "\"atoms\":{\"hidden\":{\"f_c\":0.25,\"h_res\":1.0},\"output\":{\"fc\":0.5}}}",
             tk(trial), (long long)trial, attempt, status, val, val - 0.01, val);
    return request(w, buf, ack);
}

/* Take and complete one job; returns 0, 1 if NOJOB, -1 on error. */
static int complete_one(void *w, const char *name, double val)
{
    int64_t trial;
    int attempt;
    int rc = take_job(w, name, &trial, &attempt, NULL);
    if (rc) return rc;
    im_msg ack;
    if (send_result(w, trial, attempt, "done", val, &ack)) return -1;
    rc = ack.type == IM_MSG_ACK && ack.ack.accepted ? 0 : -1;
    im_msg_release(&ack);
    return rc;
}

static const char *fixed_campaign(const char *name, int priority, int seeds)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"%s\",\"kind\":\"fixed\","
             "\"train\":{\"dataset\":\"mnist10k\",\"epochs\":1},"
             "\"points\":[\"paper-heuristic\",\"paper-optimized\"],\"seeds_per_point\":%d,"
             "\"priority\":%d}}",
             name, seeds, priority);
    return buf;
}

static void test_service(void)
{
    char db[600];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "service.db", "1", &cl, &w)) return;
    im_msg m;

    /* submissions */
    CHECK_INT(request(cl, fixed_campaign("alpha", 0, 2), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK_STR(m.ok.re, "SUBMIT");
    CHECK_INT(json_integer_value(json_object_get(m.body, "planned")), 4);
    im_msg_release(&m);
    CHECK_ERROR_REPLY(cl, fixed_campaign("alpha", 0, 1), "alpha");
    CHECK_ERROR_REPLY(cl,
                      "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"bad\","
                      "\"kind\":\"fixed\",\"points\":[\"paper-heuristic\"],\"budget\":-3}}",
                      "budget");
    CHECK_INT(q_int(db, "SELECT count(*) FROM campaigns"), 1);

    /* a worker without the dataset gets nothing */
    CHECK_INT(request(w,
                      "{\"type\":\"READY\",\"v\":1,\"worker\":\"w-nodata\","
                      "\"datasets\":[\"other\"]}",
                      &m),
              0);
    CHECK_INT(m.type, IM_MSG_NOJOB);
    im_msg_release(&m);

    /* one trial's life */
    int64_t trial;
    int attempt;
    json_t *spec = NULL;
    CHECK_INT(take_job(w, "w1", &trial, &attempt, &spec), 0);
    CHECK_INT(attempt, 1);
    CHECK_INT(json_integer_value(json_object_get(spec, "seed")), 1);
    CHECK_INT(json_array_size(json_object_get(spec, "gamma")), 19);
    CHECK_STR(json_string_value(json_object_get(spec, "dataset")), "mnist10k");
    json_decref(spec);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)trial);
    char *st = q_text(db, sql);
    CHECK_STR(st, "running");
    free(st);
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'alpha'"), "running");
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"PROGRESS\",\"v\":1%s,\"trial\":%lld,\"attempt\":1,\"epoch\":0,"
             "\"val_acc\":0.11}",
             tk(trial), (long long)trial);
    CHECK_INT(request(w, buf, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trial_epochs WHERE trial_id = %lld",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 1);
    CHECK_RESULT_ACCEPTED(w, trial, 1, "done", 0.9);
    snprintf(sql, sizeof sql,
             "SELECT status || ' ' || printf('%%.2f', val_acc) || ' ' || attempt FROM trials "
             "WHERE id = %lld",
             (long long)trial);
    st = q_text(db, sql);
    CHECK_STR(st, "done 0.90 1");
    free(st);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trial_epochs WHERE trial_id = %lld",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 2);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trial_atoms WHERE trial_id = %lld",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 3);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trial_attempts WHERE trial_id = %lld AND status = 'done'",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 1);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params WHERE trial_id = "
                        "(SELECT min(id) FROM trials)"),
              19);

    /* a duplicate result: acked, nothing changes */
    char *before = db_fingerprint(db);
    CHECK_RESULT_REFUSED(w, trial, 1, "done", 0.5, "duplicate");
    char *after = db_fingerprint(db);
    CHECK(before && after);
    CHECK_STR(after, before);
    free(before);
    free(after);

    /* malformed messages: ERROR, and the coordinator keeps serving */
    CHECK_ERROR_REPLY(w, "this is not json", "not JSON");
    CHECK_ERROR_REPLY(w, "{\"type\":\"RESULT\",\"v\":1,\"trial\":-5}", "'trial'");
    CHECK_ERROR_REPLY(w, "{\"type\":\"READY\",\"v\":99,\"worker\":\"x\"}", "protocol version 99");
    CHECK_ERROR_REPLY(w, "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{}}",
                      "not a message a worker sends");
    CHECK_INT(request(cl, "[]", &m), 0);
    CHECK_INT(m.type, IM_MSG_ERROR);
    im_msg_release(&m);
    /* oversized (17 MiB): refused with ERROR, not read as JSON */
    size_t big_len = (size_t)17 << 20;
    char *big = malloc(big_len + 1);
    memset(big, 'x', big_len);
    const char *head = "{\"type\":\"LIST\",\"v\":1,\"pad\":\"";
    memcpy(big, head, strlen(head));
    memcpy(big + big_len - 2, "\"}", 2);
    big[big_len] = '\0';
    CHECK_INT(request(cl, big, &m), 0);
    free(big);
    CHECK_INT(m.type, IM_MSG_ERROR);
    CHECK_CONTAINS(m.error.message, "more than the limit");
    im_msg_release(&m);
    /* a multi-frame message with too many routing frames: dropped, no crash */
    for (int i = 0; i < 8; i++) zmq_send(w, "x", 1, ZMQ_SNDMORE);
    zmq_send(w, "{}", 2, 0);
    /* a result for a trial that does not exist */
    CHECK_RESULT_REFUSED(w, 999999, 1, "done", 0.5, "unknown");

    /* leases: take a job and go silent for longer than the lease */
    CHECK_INT(take_job(w, "w1", &trial, &attempt, NULL), 0);
    CHECK_INT(attempt, 1);
    /* a heartbeat renews the lease */
    for (int i = 0; i < 4; i++) {
        test_sleep_ms(400);
        snprintf(buf, sizeof buf, "{\"type\":\"HEARTBEAT\",\"v\":1%s,\"trial\":%lld,\"attempt\":1}",
                 tk(trial), (long long)trial);
        CHECK_INT(request(w, buf, &m), 0);
        CHECK_INT(m.type, IM_MSG_CONTINUE);
        im_msg_release(&m);
    }
    test_sleep_ms(1600);
    snprintf(sql, sizeof sql,
             "SELECT status FROM trial_attempts WHERE trial_id = %lld AND attempt = 1",
             (long long)trial);
    st = q_text(db, sql);
    CHECK_STR(st, "lost");
    free(st);
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)trial);
    st = q_text(db, sql);
    CHECK_STR(st, "queued");
    free(st);
    /* the silent worker comes back before anyone else took the trial: its
     * lease is resumed (attempt 2 in the database) instead of wasting it */
    snprintf(buf, sizeof buf,
             "{\"type\":\"PROGRESS\",\"v\":1%s,\"trial\":%lld,\"attempt\":1,\"epoch\":1}",
             tk(trial), (long long)trial);
    CHECK_INT(request(w, buf, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    CHECK_INT(m.cont.attempt, 1);
    im_msg_release(&m);
    snprintf(sql, sizeof sql, "SELECT attempt || ' ' || status FROM trials WHERE id = %lld",
             (long long)trial);
    st = q_text(db, sql);
    CHECK_STR(st, "2 running");
    free(st);
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'lease_resumed'"), 1);
    /* silent again: attempt 2 is lost, and this time another worker takes it */
    test_sleep_ms(1600);
    int64_t again;
    CHECK_INT(take_job(w, "w2", &again, &attempt, NULL), 0);
    CHECK_INT(again, trial);
    CHECK_INT(attempt, 3);
    /* the first worker is now told its attempt is lost ... */
    CHECK_INT(request(w, buf, &m), 0);
    CHECK_INT(m.type, IM_MSG_STOP);
    CHECK_STR(m.stop.reason, "lost");
    im_msg_release(&m);
    /* ... and its late result is superseded and recorded as such */
    CHECK_RESULT_REFUSED(w, trial, 1, "done", 0.7, "superseded");
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'result_superseded'"), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE id = %lld AND val_acc IS NULL",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 1);
    /* attempt 3 is lost too: the trial fails */
    test_sleep_ms(1600);
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)trial);
    CHECK_Q((db, sql), "failed");
    /* after the end, a late result of an earlier attempt (a worker cut off
     * by a partition) is still recorded as superseded and not counted; one
     * of the last attempt is a duplicate and changes nothing */
    CHECK_RESULT_REFUSED(w, trial, 1, "done", 0.7, "superseded");
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'result_superseded'"), 2);
    CHECK_RESULT_REFUSED(w, trial, 3, "done", 0.7, "duplicate");
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'result_superseded'"), 2);
    snprintf(sql, sizeof sql,
             "SELECT status || ' ' || coalesce(val_acc, '-') FROM trials WHERE id = %lld",
             (long long)trial);
    CHECK_Q((db, sql), "failed -");
    /* priorities: a later campaign with a higher priority goes first */
    CHECK_INT(request(cl, fixed_campaign("urgent", 5, 1), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    int64_t urgent_id = json_integer_value(json_object_get(m.body, "campaign_id"));
    im_msg_release(&m);
    CHECK_INT(take_job(w, "w1", &trial, &attempt, NULL), 0);
    snprintf(sql, sizeof sql, "SELECT campaign_id FROM trials WHERE id = %lld", (long long)trial);
    CHECK_INT(q_int(db, sql), urgent_id);

    /* cancel "urgent": its other trial is cancelled, the running one stopped */
    CHECK_INT(request(cl, "{\"type\":\"CANCEL\",\"v\":1,\"campaign\":\"urgent\"}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK_INT(json_integer_value(json_object_get(m.body, "cancelled")), 0); /* not created yet */
    im_msg_release(&m);
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'urgent'"), "cancelled");
    snprintf(buf, sizeof buf, "{\"type\":\"HEARTBEAT\",\"v\":1%s,\"trial\":%lld,\"attempt\":%d}",
             tk(trial), (long long)trial, attempt);
    CHECK_INT(request(w, buf, &m), 0);
    CHECK_INT(m.type, IM_MSG_STOP);
    CHECK_STR(m.stop.reason, "cancelled");
    im_msg_release(&m);
    CHECK_RESULT_ACCEPTED(w, trial, attempt, "stopped", 0.2);
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)trial);
    st = q_text(db, sql);
    CHECK_STR(st, "cancelled");
    free(st);
    CHECK_ERROR_REPLY(cl, "{\"type\":\"CANCEL\",\"v\":1,\"campaign\":\"urgent\"}",
                      "already cancelled");
    CHECK_ERROR_REPLY(cl, "{\"type\":\"CANCEL\",\"v\":1,\"campaign\":\"nope\"}",
                      "no campaign 'nope'");

    /* finish alpha: 4 trials, one failed above, two more to do */
    int done = 0, rc;
    while ((rc = complete_one(w, "w1", 0.8)) == 0) done++;
    CHECK_INT(rc, 1);
    CHECK_INT(done, 2);
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'alpha'"), "done");

    /* client verbs */
    CHECK_INT(request(cl, "{\"type\":\"LIST\",\"v\":1}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK_INT(json_array_size(json_object_get(m.body, "campaigns")), 2);
    im_msg_release(&m);
    CHECK_INT(request(cl, "{\"type\":\"STATUS\",\"v\":1,\"campaign\":\"alpha\"}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    json_t *camp = json_array_get(json_object_get(m.body, "campaigns"), 0);
    CHECK_STR(json_string_value(json_object_get(camp, "status")), "done");
    CHECK_INT(json_integer_value(json_object_get(camp, "done")), 3);
    CHECK_INT(json_integer_value(json_object_get(camp, "failed")), 1);
    CHECK(json_is_object(json_object_get(camp, "best")));
    CHECK(json_is_array(json_object_get(m.body, "workers")));
    im_msg_release(&m);
    CHECK_INT(request(cl, "{\"type\":\"BEST\",\"v\":1,\"campaign\":\"alpha\",\"n\":2}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    json_t *best = json_object_get(m.body, "trials");
    CHECK_INT(json_array_size(best), 2);
    CHECK_NEAR(json_real_value(json_object_get(json_array_get(best, 0), "val_acc")), 0.9, 1e-9);
    im_msg_release(&m);
    CHECK_INT(request(cl, "{\"type\":\"TRIALS\",\"v\":1,\"campaign\":\"alpha\"}", &m), 0);
    CHECK_INT(json_array_size(json_object_get(m.body, "trials")), 4);
    im_msg_release(&m);
    /* TRIALS paged: pages of 3 list the 4 trials once each */
    CHECK_INT(request(cl, "{\"type\":\"TRIALS\",\"v\":1,\"campaign\":\"alpha\",\"limit\":3}", &m),
              0);
    CHECK_INT(m.type, IM_MSG_OK);
    json_t *page1 = json_incref(json_object_get(m.body, "trials"));
    json_t *next = json_object_get(m.body, "next");
    CHECK_INT(json_array_size(page1), 3);
    CHECK(json_is_integer(next));
    char req[160];
    snprintf(req, sizeof req,
             "{\"type\":\"TRIALS\",\"v\":1,\"campaign\":\"alpha\",\"from\":%lld,\"limit\":3}",
             (long long)json_integer_value(next));
    im_msg_release(&m);
    CHECK_INT(request(cl, req, &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    json_t *page2 = json_object_get(m.body, "trials");
    CHECK_INT(json_array_size(page2), 1);
    CHECK(json_is_null(json_object_get(m.body, "next")));
    json_t *ids = json_object(); /* the trial ids seen, as keys */
    json_t *pages[2] = {page1, page2};
    for (int k = 0; k < 2; k++) {
        size_t pi;
        json_t *po;
        json_array_foreach(pages[k], pi, po)
        {
            char key[32];
            snprintf(key, sizeof key, "%lld",
                     (long long)json_integer_value(json_object_get(po, "trial")));
            json_object_set_new(ids, key, json_true());
        }
    }
    CHECK_INT(json_object_size(ids), 4);
    json_decref(ids);
    json_decref(page1);
    im_msg_release(&m);
    CHECK_INT(request(cl, "{\"type\":\"EXPORT\",\"v\":1,\"campaign\":\"alpha\"}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK_INT(json_array_size(json_object_get(m.body, "trials")), 4);
    im_msg_release(&m);
    CHECK_INT(request(cl, "{\"type\":\"WORKERS\",\"v\":1}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK(json_array_size(json_object_get(m.body, "workers")) >= 2);
    im_msg_release(&m);
    CHECK_INT(request(w, "{\"type\":\"BYE\",\"v\":1,\"worker\":\"w1\"}", &m), 0);
    CHECK_INT(m.type, IM_MSG_ACK);
    im_msg_release(&m);
    CHECK_Q((db, "SELECT status FROM workers WHERE name = 'w1'"), "gone");
    CHECK_INT(take_job(w, "w9", &trial, &attempt, NULL), 1); /* alive, idle */

    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGTERM);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: exit status %d", status);

    /* a worker alive at the stop that never comes back is recorded as lost
     * after the liveness time (3 leases, at least 3 s) */
    CHECK_INT(coord_start(&c, db, "1"), 0);
    if (c.pid <= 0) return;
    CHECK_Q((db, "SELECT status FROM workers WHERE name = 'w9'"), "alive");
    test_sleep_ms(3600);
    CHECK_Q((db, "SELECT status FROM workers WHERE name = 'w9'"), "lost");
    status = coord_stop(&c, SIGTERM);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A worker that reconnects while training (a new ROUTER identity: its
 * replies were late, or the network dropped) goes on with HEARTBEATs for its
 * trial and never says READY in between: it must stay known and alive, not
 * be recorded as "lost" after the liveness time while its lease is renewed. */
static void test_reconnect_liveness(void)
{
    char db[600];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "relive.db", "1", &cl, &w)) return;
    im_msg m;
    CHECK_INT(request(cl, fixed_campaign("relive", 0, 1), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    im_msg_release(&m);
    int64_t trial;
    int attempt;
    CHECK_INT(take_job(w, "wr", &trial, &attempt, NULL), 0);
    zmq_close(w);
    w = dealer(c.wep); /* the same worker, a new connection */
    char buf[256];
    snprintf(buf, sizeof buf, "{\"type\":\"HEARTBEAT\",\"v\":1%s,\"trial\":%lld,\"attempt\":%d}",
             tk(trial), (long long)trial, attempt);
    /* 4.4 s of heartbeats: more than the liveness time (3 leases, at least 3 s) */
    for (int i = 0; i < 11; i++) {
        CHECK_INT(request(w, buf, &m), 0);
        CHECK_INT(m.type, IM_MSG_CONTINUE);
        im_msg_release(&m);
        test_sleep_ms(400);
    }
    CHECK_Q((db, "SELECT status FROM workers WHERE name = 'wr'"), "alive");
    CHECK_INT(request(cl, "{\"type\":\"WORKERS\",\"v\":1}", &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    json_t *wo = json_array_get(json_object_get(m.body, "workers"), 0);
    CHECK_STR(json_string_value(json_object_get(wo, "name")), "wr");
    CHECK_STR(json_string_value(json_object_get(wo, "state")), "busy");
    im_msg_release(&m);
    CHECK_RESULT_ACCEPTED(w, trial, attempt, "done", 0.5);
    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGTERM);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: exit status %d", status);
}

/* A trial message (PROGRESS, HEARTBEAT, RESULT) about (trial, attempt)
 * with the given db and worker (each may be NULL: left out); rest: the
 * type's other keys, from a comma on ("" for none). */
static int trial_msg(void *w, const char *type, int64_t trial, int attempt, const char *db,
                     const char *worker, const char *rest, im_msg *reply)
{
    char buf[1024], dbk[128] = "", wk[128] = "";
    if (db) snprintf(dbk, sizeof dbk, ",\"db\":\"%s\"", db);
    if (worker) snprintf(wk, sizeof wk, ",\"worker\":\"%s\"", worker);
    snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"v\":1,\"trial\":%lld,\"attempt\":%d%s%s%s}", type,
             (long long)trial, attempt, dbk, wk, rest);
    return request(w, buf, reply);
}

/* The reply to a trial message must be STOP with reason. */
#define CHECK_STOPPED(w_, type_, trial_, attempt_, db_, worker_, rest_, reason_)                   \
    do {                                                                                           \
        im_msg r_;                                                                                 \
        CHECK_INT(trial_msg((w_), (type_), (trial_), (attempt_), (db_), (worker_), (rest_), &r_),  \
                  0);                                                                              \
        CHECK_INT(r_.type, IM_MSG_STOP);                                                           \
        if (r_.type == IM_MSG_STOP) CHECK_STR(r_.stop.reason, (reason_));                          \
        im_msg_release(&r_);                                                                       \
    } while (0)

/* The reply to a RESULT must be an ACK with accepted and note. */
#define CHECK_ACKED(w_, trial_, attempt_, db_, worker_, accepted_, note_)                          \
    do {                                                                                           \
        im_msg r_;                                                                                 \
        CHECK_INT(trial_msg((w_), "RESULT", (trial_), (attempt_), (db_), (worker_),                \
                            ",\"status\":\"done\",\"val_acc\":0.75", &r_),                         \
                  0);                                                                              \
        CHECK_INT(r_.type, IM_MSG_ACK);                                                            \
        CHECK_INT(r_.ack.accepted, (accepted_));                                                   \
        CHECK_STR(r_.ack.note, (note_));                                                           \
        im_msg_release(&r_);                                                                       \
    } while (0)

/* Trial messages about another database, or without one, change nothing;
 * an attempt given up is resumed only by the worker it was handed to, not
 * by another that knows its trial and attempt numbers. */
static void test_db_and_named_resume(void)
{
    char db[600], sql[256];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "named.db", "1", &cl, &w)) return;
    im_msg m;
    CHECK_INT(request(cl, fixed_campaign("named", 0, 1), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    im_msg_release(&m);
    int64_t trial;
    int attempt;
    CHECK_INT(take_job(w, "wa", &trial, &attempt, NULL), 0);
    char ours[IM_WIRE_DB_MAX + 1];
    snprintf(ours, sizeof ours, "%s", g_db_id);
    CHECK_Q((db, "SELECT id FROM database_identity"), ours);
    const char *theirs = "0123456789abcdef0123456789abcdef";
    const char *ep = ",\"epoch\":0,\"val_acc\":0.5";

    /* another database's trial of the same id, or no db at all: refused */
    CHECK_STOPPED(w, "PROGRESS", trial, attempt, theirs, "wa", ep, "unknown");
    CHECK_STOPPED(w, "HEARTBEAT", trial, attempt, theirs, "wa", "", "unknown");
    CHECK_STOPPED(w, "PROGRESS", trial, attempt, NULL, "wa", ep, "unknown");
    CHECK_ACKED(w, trial, attempt, theirs, "wa", 0, "other database");
    CHECK_ACKED(w, trial, attempt, NULL, "wa", 0, "other database");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trial_epochs WHERE trial_id = %lld",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 0);
    snprintf(sql, sizeof sql,
             "SELECT status || ' ' || coalesce(val_acc, '-') FROM trials "
             "WHERE id = %lld",
             (long long)trial);
    CHECK_Q((db, sql), "running -");
    /* logged once per worker: one event for "wa" */
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'other_database'"), 1);
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'other_database' AND "
                        "worker = 'wa' AND detail LIKE '%0123456789abcdef0123456789abcdef%'"),
              1);

    /* the attempt's lease runs out; no one else took the trial */
    test_sleep_ms(1600);
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)trial);
    CHECK_Q((db, sql), "queued");
    /* another worker with the right numbers, on its own connection: not resumed */
    void *other = dealer(c.wep);
    CHECK_STOPPED(other, "PROGRESS", trial, attempt, ours, "wb", ep, "unknown");
    CHECK_STOPPED(other, "HEARTBEAT", trial, attempt, ours, "wb", "", "unknown");
    CHECK_ACKED(other, trial, attempt, ours, "wb", 0, "superseded");
    /* nor on the named worker's own connection when it names another */
    CHECK_STOPPED(w, "PROGRESS", trial, attempt, ours, "wb", ep, "unknown");
    CHECK_Q((db, sql), "queued");
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'lease_resumed'"), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trial_epochs WHERE trial_id = %lld",
             (long long)trial);
    CHECK_INT(q_int(db, sql), 0);
    /* the worker it was handed to, on a new connection (no READY): resumed */
    void *back = dealer(c.wep);
    im_msg r;
    CHECK_INT(trial_msg(back, "PROGRESS", trial, attempt, ours, "wa", ep, &r), 0);
    CHECK_INT(r.type, IM_MSG_CONTINUE);
    im_msg_release(&r);
    snprintf(sql, sizeof sql,
             "SELECT attempt || ' ' || status || ' ' || worker FROM trials "
             "WHERE id = %lld",
             (long long)trial);
    CHECK_Q((db, sql), "2 running wa");
    CHECK_INT(q_int(db, "SELECT count(*) FROM events WHERE kind = 'lease_resumed'"), 1);
    CHECK_ACKED(back, trial, attempt, ours, "wa", 1, "accepted");
    snprintf(sql, sizeof sql, "SELECT status || ' ' || val_acc FROM trials WHERE id = %lld",
             (long long)trial);
    CHECK_Q((db, sql), "done 0.75");
    zmq_close(back);
    zmq_close(other);
    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGTERM);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: exit status %d", status);
}

static const char *search_campaign(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"%s\",\"kind\":\"search\","
             "\"train\":{\"epochs\":1},\"space\":{\"h_res\":0,\"f_c\":[-0.5,0.5]},"
             "\"sampler\":{\"name\":\"random\"},\"budget\":12,\"seeds_per_point\":2,"
             "\"seed\":77}}",
             name);
    return buf;
}

static void test_kill9_resume(void)
{
    char db[600];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "crash.db", "30", &cl, &w)) return;
    im_msg m;
    CHECK_INT(request(cl, search_campaign("crashy"), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    im_msg_release(&m);
    for (int i = 0; i < 7; i++) CHECK_INT(complete_one(w, "w1", 0.5 + 0.01 * i), 0);
    /* three trials out when the coordinator dies */
    int64_t t1, t2, t3;
    int a1, a2, a3;
    CHECK_INT(take_job(w, "w1", &t1, &a1, NULL), 0);
    CHECK_INT(take_job(w, "w2", &t2, &a2, NULL), 0);
    CHECK_INT(take_job(w, "w4", &t3, &a3, NULL), 0);
    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGKILL);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    /* restarted with a lease of 2 s: the trials that were out are held 2 s
     * for their workers */
    CHECK_INT(coord_start(&c, db, "2"), 0);
    if (c.pid <= 0) return;
    cl = dealer(c.cep);
    w = dealer(c.wep);
    /* work that went on during the crash is not wasted: the result of an
     * attempt from before it is accepted, and progress resumes the lease */
    CHECK_RESULT_ACCEPTED(w, t1, a1, "done", 0.99);
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"type\":\"PROGRESS\",\"v\":1%s,\"trial\":%lld,\"attempt\":%d,\"epoch\":0}", tk(t2),
             (long long)t2, a2);
    CHECK_INT(request(w, buf, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);
    CHECK_RESULT_ACCEPTED(w, t2, a2, "done", 0.98);
    /* a duplicate of it is still only acknowledged */
    CHECK_INT(send_result(w, t2, a2, "done", 0.98, &m), 0);
    CHECK_INT(m.ack.accepted, 0);
    CHECK_STR(m.ack.note, "duplicate");
    im_msg_release(&m);
    /* t3's worker does not come back: another worker gets it only once the
     * hold is over, then first */
    int64_t tx;
    int ax;
    CHECK_INT(take_job(w, "w3", &tx, &ax, NULL), 0);
    CHECK(tx != t3);
    CHECK_INT(send_result(w, tx, ax, "done", 0.6, &m), 0);
    im_msg_release(&m);
    test_sleep_ms(2300);
    CHECK_INT(take_job(w, "w3", &tx, &ax, NULL), 0);
    CHECK_INT(tx, t3);
    CHECK_INT(ax, 2);
    CHECK_INT(send_result(w, tx, ax, "done", 0.6, &m), 0);
    im_msg_release(&m);
    int done = 0, rc;
    while ((rc = complete_one(w, "w3", 0.6)) == 0) done++;
    CHECK_INT(rc, 1);
    CHECK_INT(done, 24 - 7 - 4);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE val_acc > 0.97"), 2);
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'crashy'"), "done");
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials"), 24);
    CHECK_INT(q_int(db, "SELECT count(DISTINCT number) FROM trials"), 24);
    CHECK_INT(q_int(db, "SELECT max(number) FROM trials"), 23);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE status = 'done'"), 24);
    CHECK_INT(q_int(db, "SELECT count(DISTINCT point) FROM trials"), 12);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_attempts WHERE status = 'interrupted'"), 3);
    CHECK_INT(q_int(db, "SELECT count(*) FROM (SELECT point FROM trials GROUP BY point "
                        "HAVING count(*) = 2 AND min(seed) = 1 AND max(seed) = 2)"),
              12);
    /* fixed components stay fixed, ranges are respected */
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params WHERE name = 'h_res' AND value != 0"),
              0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params WHERE name = 'f_c' AND "
                        "(value < -0.5 OR value > 0.5)"),
              0);
    CHECK_INT(q_int(db, "SELECT count(DISTINCT value) FROM trial_params WHERE name = 'f_c'"), 12);

    /* the same campaign without a crash proposes the same points */
    CHECK_INT(request(cl, search_campaign("calm"), &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    im_msg_release(&m);
    while (complete_one(w, "w3", 0.6) == 0) {
    }
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials t JOIN campaigns c ON c.id = t.campaign_id "
                        "WHERE c.name = 'calm' AND t.status = 'done'"),
              24);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params p1 JOIN trials t1 ON t1.id = "
                        "p1.trial_id JOIN campaigns c1 ON c1.id = t1.campaign_id AND c1.name = "
                        "'crashy' JOIN trials t2 ON t2.number = t1.number JOIN campaigns c2 ON "
                        "c2.id = t2.campaign_id AND c2.name = 'calm' JOIN trial_params p2 ON "
                        "p2.trial_id = t2.id AND p2.name = p1.name AND p2.value = p1.value"),
              24 * 19);
    zmq_close(cl);
    zmq_close(w);
    status = coord_stop(&c, SIGINT);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGINT: exit status %d", status);
}

/* Ablation, first stage: the base and each non-zero component zeroed, from a
 * preset and from a done trial's gamma. */
static void test_ablation(void)
{
    char db[600], sql[1024];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "ablation.db", "30", &cl, &w)) return;
    im_msg m;
    CHECK_INT(request(cl,
                      "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"abl\","
                      "\"kind\":\"ablation\",\"train\":{\"epochs\":1},"
                      "\"base\":\"paper-optimized\",\"seeds_per_point\":2}}",
                      &m),
              0);
    CHECK_INT(m.type, IM_MSG_OK);
    int64_t planned = json_integer_value(json_object_get(m.body, "planned"));
    im_msg_release(&m);
    /* stage 1, then stage 2 (planned when stage 1 ended): the components
     * removed cumulatively, all equally harmful here, so in canonical order */
    int done = 0;
    while (complete_one(w, "w1", 0.7) == 0) done++;
    CHECK_INT(done, planned + planned - 2);
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'abl'"), "done");
    /* points: the base and one per non-zero component of the base */
    const char *base_nonzero = "SELECT count(*) FROM trial_params p JOIN trials t ON t.id = "
                               "p.trial_id WHERE t.label = 'base' AND t.seed = 1 AND p.value != 0";
    long long nonzero = q_int(db, base_nonzero);
    CHECK(nonzero >= 5);
    CHECK_INT(planned, 2 * (1 + nonzero));
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE label = 'base'"), 2);
    CHECK_INT(q_int(db, "SELECT count(DISTINCT label) FROM trials"), 1 + nonzero);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE stage = 'base'"), 2);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE stage = 'individual'"), 2 * nonzero);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE stage = 'successive'"), 2 * nonzero);
    /* successive step k (points 1 + nonzero + k - 1) zeroes k components,
     * the last one the step's label, and keeps the others the base's */
    CHECK_INT(q_int(db, "SELECT count(*) FROM (SELECT t.id, t.point, count(*) AS z FROM trials t "
                        "JOIN trial_params p ON p.trial_id = t.id AND p.value = 0 "
                        "JOIN trials b ON b.label = 'base' AND b.seed = 1 "
                        "JOIN trial_params q ON q.trial_id = b.id AND q.name = p.name "
                        "AND q.value != 0 WHERE t.stage = 'successive' GROUP BY t.id) "
                        "WHERE z != point - (SELECT max(point) FROM trials WHERE stage = "
                        "'individual')"),
              0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials t JOIN trial_params p ON p.trial_id = t.id "
                        "AND p.name = t.label WHERE t.stage = 'successive' AND p.value != 0"),
              0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM ablation_successive"), 1 + nonzero);
    CHECK_INT(q_int(db, "SELECT n FROM ablation_successive WHERE n_removed = 1"), 2);
    /* in the trial labelled X, X is 0 and every other component is the base's */
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials t JOIN trial_params p ON p.trial_id = t.id "
                        "JOIN trials b ON b.label = 'base' AND b.seed = t.seed AND "
                        "b.campaign_id = t.campaign_id JOIN trial_params q ON q.trial_id = b.id "
                        "AND q.name = p.name WHERE t.stage = 'individual' AND "
                        "((p.name = t.label AND p.value != 0) OR "
                        "(p.name != t.label AND p.value != q.value))"),
              0);
    /* the base from a done trial: the stored spec names its gamma */
    long long base_id =
        q_int(db, "SELECT id FROM trials WHERE label = 'f_c' AND seed = 1 ORDER BY id LIMIT 1");
    snprintf(sql, sizeof sql,
             "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"abl2\","
             "\"kind\":\"ablation\",\"train\":{\"epochs\":1},\"base\":{\"trial\":%lld},"
             "\"seeds_per_point\":1}}",
             base_id);
    CHECK_INT(request(cl, sql, &m), 0);
    CHECK_INT(m.type, IM_MSG_OK);
    CHECK_INT(json_integer_value(json_object_get(m.body, "planned")), nonzero);
    im_msg_release(&m);
    CHECK_ERROR_REPLY(cl,
                      "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"abl3\","
                      "\"kind\":\"ablation\",\"base\":{\"trial\":987654}}}",
                      "987654");
    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGTERM);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: exit status %d", status);
}

static int progress(void *w, int64_t trial, int attempt, int epoch, double val, im_msg *reply)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"type\":\"PROGRESS\",\"v\":1%s,\"trial\":%lld,\"attempt\":%d,\"epoch\":%d,"
             "\"val_acc\":%.4f}",
             tk(trial), (long long)trial, attempt, epoch, val);
    return request(w, buf, reply);
}

/* The median pruner stops a trial below the completed trials' median, and
 * still does after a restart (its history rebuilt from the database). */
static void test_pruning(void)
{
    char db[600];
    coord c;
    void *cl, *w;
    if (coord_open(&c, db, sizeof db, "prune.db", "30", &cl, &w)) return;
    im_msg m;
    CHECK_INT(request(cl,
                      "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"pr\","
                      "\"kind\":\"fixed\",\"train\":{\"epochs\":1},"
                      "\"points\":[\"paper-heuristic\",\"paper-optimized\"],"
                      "\"seeds_per_point\":3,\"pruner\":{\"name\":\"median\","
                      "\"n_startup_trials\":2,\"n_warmup_epochs\":1}}}",
                      &m),
              0);
    CHECK_INT(m.type, IM_MSG_OK);
    im_msg_release(&m);
    int64_t t;
    int a;
    /* start-up: two completed trials reach 0.8 at epoch 1; the first is
     * never pruned, whatever it reports */
    CHECK_INT(take_job(w, "w1", &t, &a, NULL), 0);
    CHECK_INT(progress(w, t, a, 1, 0.01, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);
    CHECK_INT(send_result(w, t, a, "done", 0.8, &m), 0);
    im_msg_release(&m);
    CHECK_INT(complete_one(w, "w1", 0.8), 0);
    /* below the median at epoch 1: STOP pruned; epoch 0 never prunes */
    CHECK_INT(take_job(w, "w1", &t, &a, NULL), 0);
    CHECK_INT(progress(w, t, a, 0, 0.01, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);
    CHECK_INT(progress(w, t, a, 1, 0.5, &m), 0);
    CHECK_INT(m.type, IM_MSG_STOP);
    CHECK_STR(m.stop.reason, "pruned");
    im_msg_release(&m);
    CHECK_INT(send_result(w, t, a, "stopped", 0.5, &m), 0);
    CHECK_INT(m.ack.accepted, 1);
    im_msg_release(&m);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT status FROM trials WHERE id = %lld", (long long)t);
    CHECK_Q((db, sql), "pruned");
    /* above it: goes on */
    CHECK_INT(take_job(w, "w1", &t, &a, NULL), 0);
    CHECK_INT(progress(w, t, a, 1, 0.9, &m), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);
    CHECK_INT(send_result(w, t, a, "done", 0.9, &m), 0);
    im_msg_release(&m);
    zmq_close(cl);
    zmq_close(w);
    int status = coord_stop(&c, SIGTERM);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* after a restart the pruner remembers (median of 0.8, 0.8, 0.9) */
    CHECK_INT(coord_start(&c, db, "30"), 0);
    if (c.pid <= 0) return;
    w = dealer(c.wep);
    CHECK_INT(take_job(w, "w1", &t, &a, NULL), 0);
    CHECK_INT(progress(w, t, a, 1, 0.79, &m), 0);
    CHECK_INT(m.type, IM_MSG_STOP);
    CHECK_STR(m.stop.reason, "pruned");
    im_msg_release(&m);
    /* it reports the stop: the trial ends pruned */
    CHECK_INT(send_result(w, t, a, "stopped", 0.79, &m), 0);
    im_msg_release(&m);
    CHECK_INT(complete_one(w, "w1", 0.85), 0);
    CHECK_INT(complete_one(w, "w1", 0.85), 1); /* NOJOB: all six ended */
    CHECK_Q((db, "SELECT status FROM campaigns WHERE name = 'pr'"), "done");
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE status = 'pruned'"), 2);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE status = 'done'"), 4);
    zmq_close(w);
    status = coord_stop(&c, SIGTERM);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Run the coordinator with the given arguments; its exit status, and the
 * first line of its stderr in *err_line (or its stdout in *out when out is
 * not NULL; the caller frees it). */
static int run_coord(char **argv, char *err_line, size_t size, char **out)
{
    char *o = NULL, *e = NULL;
    int status = test_run(argv, NULL, &o, &e);
    snprintf(err_line, size, "%.*s", e ? (int)strcspn(e, "\n") : 0, e ? e : "");
    free(e);
    if (out)
        *out = o;
    else
        free(o);
    return status;
}

static void test_refusals(void)
{
    char *prog = getenv("IM_COORDINATOR");
    if (!prog) return;
    char db[600], line[1024], *help = NULL;
    snprintf(db, sizeof db, "%s/x.db", g_dir);
    char *not_loopback[] = {prog, "--workers-endpoint", "tcp://0.0.0.0:5999", "--db", db, NULL};
    CHECK_INT(run_coord(not_loopback, line, sizeof line, NULL), 2);
    CHECK_CONTAINS(line, "not a loopback address");
    CHECK_CONTAINS(line, "--insecure");
    char *localhost[] = {prog, "--clients-endpoint", "tcp://localhost:5998", "--db", db, NULL};
    CHECK_INT(run_coord(localhost, line, sizeof line, NULL), 2);
    CHECK_CONTAINS(line, "use tcp://127.0.0.1:5998");
    char *bad_lease[] = {prog, "--lease", "zero", NULL};
    CHECK_INT(run_coord(bad_lease, line, sizeof line, NULL), 2);
    char *bad_option[] = {prog, "--no-such-option", NULL};
    CHECK_INT(run_coord(bad_option, line, sizeof line, NULL), 2);
    char *want_help[] = {prog, "--help", NULL};
    CHECK_INT(run_coord(want_help, line, sizeof line, &help), 0);
    CHECK_CONTAINS(help, "--workers-endpoint");
    CHECK_CONTAINS(help, "--lease SECONDS");
    free(help);
}

/* READYs from 1,500 names the coordinator has never seen: each answered,
 * and WORKERS lists at most the 1,000 seen last, so that its reply stays
 * small however many names arrive (tests/bench/bench_ready_names measures
 * memory and latency with 100,000). */
static void test_many_names(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/names.db", g_dir);
    coord c;
    if (coord_start(&c, db, "30") != 0) {
        CHECK_MSG(0, "the coordinator did not start");
        return;
    }
    void *w = dealer(c.wep), *cl = dealer(c.cep);
    im_msg m;
    int answered = 0;
    for (int i = 0; i < 1500; i++) {
        char buf[200];
        snprintf(buf, sizeof buf, "{\"type\":\"READY\",\"v\":1,\"worker\":\"many-%d\"}", i);
        if (request(w, buf, &m) != 0) break;
        answered += m.type == IM_MSG_NOJOB;
        im_msg_release(&m);
    }
    CHECK_INT(answered, 1500);
    if (request(cl, "{\"type\":\"WORKERS\",\"v\":1}", &m) == 0) {
        const json_t *list = json_object_get(m.body, "workers");
        CHECK_INT(json_array_size(list), 1000);
        /* the last one seen is among them */
        int has_last = 0;
        for (size_t i = 0; i < json_array_size(list); i++)
            has_last |= strcmp(json_string_value(json_object_get(json_array_get(list, i), "name")),
                               "many-1499") == 0;
        CHECK(has_last);
        im_msg_release(&m);
    } else {
        CHECK_MSG(0, "no reply to WORKERS");
    }
    zmq_close(w);
    zmq_close(cl);
    CHECK_INT(coord_stop(&c, SIGTERM), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* a scratch directory in the working directory (ctest's: the build tree) */
    if (test_mkdtemp(g_dir, sizeof g_dir, ".", "im-coord") != 0) return 1;
    g_ctx = zmq_ctx_new();
    test_refusals();
    test_service();
    test_reconnect_liveness();
    test_db_and_named_resume();
    test_kill9_resume();
    test_ablation();
    test_pruning();
    test_many_names();
    zmq_ctx_term(g_ctx);
    int rc = TEST_END();
    if (rc == 0) {
        if (test_rm_tree(g_dir) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    } else {
        fprintf(stderr, "files kept in %s\n", g_dir);
    }
    return rc;
}
