/*
 * bench_soak: the real infomorph-coordinator under a long, rough load. W
 * simulated workers (default 200; no training: each "trains" 20-120 ms, sends
 * one PROGRESS and a RESULT) pull trials of one big random search over
 * loopback TCP, all served by one thread of this process. Every second or so
 * a busy worker is killed (its socket closed without a word: its lease runs
 * out and the trial is queued again) and replaced by a new one; halfway the
 * coordinator is killed (SIGKILL) and started again on the same database.
 * A simulated worker behaves as the real one: a request without a reply for
 * 3 s makes it reconnect and send the same message again (so results are
 * resent until acknowledged).
 *
 * Reported: trials completed (done in the database), trials lost (a result
 * the coordinator acknowledged as accepted whose trial is not done in the
 * database; must be 0), trials run again after a kill (more than one
 * attempt), trials counted twice (more than one done attempt, or two accepted
 * results for one trial; must be 0), the coordinator's resident memory a few
 * seconds after the start and at the end (VmRSS of the restarted process,
 * compared at the same point after its start and at the end; and every 15 s,
 * to see it level off: the daemon keeps up to 64 MiB of freed heap, see
 * coordinator.c), and the p50 / p99 hand-out latency (READY sent to JOB
 * received).
 *
 *   bench_soak [--seconds N] [--workers N] [--coordinator PATH] [--dir DIR]
 *   defaults: 600 s, 200 workers, $IM_COORDINATOR or ./infomorph-coordinator,
 *   a fresh directory under $TMPDIR (removed at the end)
 * Exit status: 0 when nothing was lost or counted twice, 1 otherwise.
 */
#include "protocol.h"
#include "test_util.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define REPLY_TIMEOUT_S 3.0
#define LEASE_S         "2"

typedef enum { W_IDLE, W_WAIT_READY, W_TRAIN, W_WAIT_PROGRESS, W_WAIT_RESULT, W_DEAD } wstate;

typedef struct sim {
    void *sock;
    char name[32];
    wstate st;
    double due;     /* W_IDLE / W_TRAIN: when to act; waits: the reply deadline */
    double sent_at; /* when the READY went out */
    int64_t trial;
    int attempt;
    char db[IM_WIRE_DB_MAX + 1]; /* the JOB's database identity, echoed */
    char last[512];              /* the last request, resent after a reconnect */
} sim;

static void *g_ctx;
static char g_wep[256], g_cep[256], g_coord[4200], g_db[4300], g_log[4300];
static pid_t g_pid;
static unsigned g_rng = 12345;

static double frand(void)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return ((g_rng >> 8) & 0xffffff) / (double)0x1000000;
}

static pid_t coord_start(const char *wep, const char *cep)
{
    char epf[4400];
    snprintf(epf, sizeof epf, "%s.endpoints", g_db);
    unlink(epf);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(g_log, "a", stderr);
        (void)f;
        execl(g_coord, g_coord, "--db", g_db, "--workers-endpoint", wep, "--clients-endpoint", cep,
              "--lease", LEASE_S, "--log-level", "warn", "--endpoints-file", epf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        char *text = test_read_file(epf, NULL);
        if (text) {
            sscanf(text, "workers %255s\nclients %255s", g_wep, g_cep);
            free(text);
            return pid;
        }
        test_sleep_ms(50);
    }
    fprintf(stderr, "bench_soak: the coordinator did not start (log: %s)\n", g_log);
    return -1;
}

static void sim_open(sim *w)
{
    w->sock = zmq_socket(g_ctx, ZMQ_DEALER);
    int zero = 0, ivl = 100;
    zmq_setsockopt(w->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_connect(w->sock, g_wep);
}

static void sim_send(sim *w, double now, wstate wait_state)
{
    zmq_send(w->sock, w->last, strlen(w->last), ZMQ_DONTWAIT);
    w->st = wait_state;
    w->due = now + REPLY_TIMEOUT_S;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Trials whose result was accepted (from the ACKs), to find losses and
 * double counting. */
static int64_t *g_accepted;
static size_t g_n_accepted, g_cap_accepted;

static void accepted_add(int64_t trial)
{
    if (g_n_accepted == g_cap_accepted)
        g_accepted =
            realloc(g_accepted, (g_cap_accepted = g_cap_accepted ? 2 * g_cap_accepted : 4096) *
                                    sizeof *g_accepted);
    g_accepted[g_n_accepted++] = trial;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int submit(void)
{
    void *c = zmq_socket(g_ctx, ZMQ_DEALER);
    int zero = 0, tmo = 10000;
    zmq_setsockopt(c, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_connect(c, g_cep);
    const char *req =
        "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"soak\",\"kind\":\"search\","
        "\"train\":{\"dataset\":\"mnist10k\",\"hidden\":8,\"epochs\":1},"
        "\"sampler\":{\"name\":\"random\"},\"budget\":1000000,\"seed\":7}}";
    zmq_send(c, req, strlen(req), 0);
    char buf[4096];
    int n = zmq_recv(c, buf, sizeof buf - 1, 0);
    zmq_close(c);
    if (n < 0) return -1;
    buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
    if (!strstr(buf, "\"OK\"")) {
        fprintf(stderr, "bench_soak: submit refused: %s\n", buf);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 600;
    int n_workers = 200;
    const char *dir_arg = NULL, *coord = getenv("IM_COORDINATOR");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            n_workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--coordinator") && i + 1 < argc)
            coord = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir_arg = argv[++i];
        else {
            fprintf(stderr, "usage: bench_soak [--seconds N] [--workers N] [--coordinator PATH] "
                            "[--dir DIR]\n");
            return 2;
        }
    }
    if (!(seconds >= 10) || n_workers < 1 || n_workers > 900) {
        fprintf(stderr, "bench_soak: --seconds >= 10 and --workers in 1..900\n");
        return 2;
    }
    snprintf(g_coord, sizeof g_coord, "%s", coord ? coord : "./infomorph-coordinator");
    char dir[4096];
    if (dir_arg)
        snprintf(dir, sizeof dir, "%s", dir_arg);
    else if (test_mkdtemp(dir, sizeof dir, NULL, "bench-soak") != 0)
        return 1;
    snprintf(g_db, sizeof g_db, "%s/soak.db", dir);
    snprintf(g_log, sizeof g_log, "%s/coordinator.log", dir);
    signal(SIGPIPE, SIG_IGN);

    g_ctx = zmq_ctx_new();
    int max_sockets = 2048;
    zmq_ctx_set(g_ctx, ZMQ_MAX_SOCKETS, max_sockets);
    if ((g_pid = coord_start("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")) < 0) return 1;
    char wep[256], cep[256];
    snprintf(wep, sizeof wep, "%s", g_wep);
    snprintf(cep, sizeof cep, "%s", g_cep);
    if (submit() != 0) return 1;

    sim *ws = calloc((size_t)n_workers, sizeof *ws);
    zmq_pollitem_t *items = calloc((size_t)n_workers, sizeof *items);
    int next_name = 0;
    for (int i = 0; i < n_workers; i++) {
        snprintf(ws[i].name, sizeof ws[i].name, "sim-%d", next_name++);
        sim_open(&ws[i]);
        ws[i].st = W_IDLE;
        ws[i].due = 0;
    }
    size_t cap_lat = 1 << 16, n_lat = 0;
    double *lat = malloc(cap_lat * sizeof *lat);
    long kills = 0, double_ack = 0, resends = 0;
    double t0 = test_now_s(), end = t0 + seconds, next_kill = t0 + 1, restart_at = t0 + seconds / 2;
    int restarted = 0;
    long rss_start = -1, rss_end = -1, rss_after_restart = -1;
    double rss_at = t0 + 5, rss2_at = 0, next_sample = t0 + 15;
    char samples[2048] = "";

    while (test_now_s() < end) {
        double now = test_now_s();
        if (rss_start < 0 && now >= rss_at) rss_start = test_rss_kib(g_pid);
        if (now >= next_sample) { /* the memory every 15 s, to see whether it levels off */
            size_t len = strlen(samples);
            if (len + 32 < sizeof samples)
                snprintf(samples + len, sizeof samples - len, " %.0fs:%ld", now - t0,
                         test_rss_kib(g_pid));
            next_sample += 15;
        }
        if (restarted && rss_after_restart < 0 && now >= rss2_at)
            rss_after_restart = test_rss_kib(g_pid);
        if (!restarted && now >= restart_at) {
            kill(g_pid, SIGKILL);
            waitpid(g_pid, NULL, 0);
            if ((g_pid = coord_start(wep, cep)) < 0) return 1;
            restarted = 1;
            rss2_at = test_now_s() + 5;
            fprintf(stderr, "bench_soak: coordinator killed and restarted at %.0f s\n", now - t0);
        }
        if (now >= next_kill) {
            next_kill = now + 0.5 + frand();
            for (int tries = 0; tries < 20; tries++) {
                sim *w = &ws[(int)(frand() * n_workers) % n_workers];
                if (w->st != W_TRAIN && w->st != W_WAIT_PROGRESS) continue;
                zmq_close(w->sock); /* gone without a word */
                snprintf(w->name, sizeof w->name, "sim-%d", next_name++);
                sim_open(w);
                w->st = W_IDLE;
                w->due = now + 0.5;
                kills++;
                break;
            }
        }
        for (int i = 0; i < n_workers; i++) {
            sim *w = &ws[i];
            if (w->st == W_IDLE && now >= w->due) {
                snprintf(
                    w->last, sizeof w->last,
                    "{\"type\":\"READY\",\"v\":1,\"worker\":\"%s\",\"host\":\"soak\",\"pid\":1,"
                    "\"threads\":1,\"datasets\":[\"mnist10k\"]}",
                    w->name);
                w->sent_at = now;
                sim_send(w, now, W_WAIT_READY);
            } else if (w->st == W_TRAIN && now >= w->due) {
                double acc = 0.1 + 0.8 * frand();
                snprintf(w->last, sizeof w->last,
                         "{\"type\":\"RESULT\",\"v\":1,\"db\":\"%s\",\"worker\":\"%s\","
                         "\"trial\":%lld,\"attempt\":%d,\"status\":"
                         "\"done\",\"val_acc\":%.4f,\"test_acc\":%.4f,\"wall_s\":0.1,\"curve\":"
                         "[{\"epoch\":0,\"val_acc\":0.1},{\"epoch\":1,\"val_acc\":%.4f}]}",
                         w->db, w->name, (long long)w->trial, w->attempt, acc, acc, acc);
                sim_send(w, now, W_WAIT_RESULT);
            } else if (w->st != W_IDLE && w->st != W_TRAIN && now >= w->due) {
                /* no reply in time: reconnect and send the same again */
                zmq_close(w->sock);
                sim_open(w);
                zmq_send(w->sock, w->last, strlen(w->last), ZMQ_DONTWAIT);
                w->due = now + REPLY_TIMEOUT_S;
                resends++;
            }
            items[i] = (zmq_pollitem_t){w->sock, 0, ZMQ_POLLIN, 0};
        }
        zmq_poll(items, n_workers, 5);
        now = test_now_s();
        for (int i = 0; i < n_workers; i++) {
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            sim *w = &ws[i];
            char buf[65536];
            int n = zmq_recv(w->sock, buf, sizeof buf, ZMQ_DONTWAIT);
            if (n < 0 || n >= (int)sizeof buf) continue;
            im_msg m;
            if (im_msg_decode(&m, buf, (size_t)n, NULL) != 0) continue;
            if (w->st == W_WAIT_READY && m.type == IM_MSG_JOB) {
                if (n_lat == cap_lat) lat = realloc(lat, (cap_lat *= 2) * sizeof *lat);
                lat[n_lat++] = now - w->sent_at;
                w->trial = m.job.trial;
                w->attempt = m.job.attempt;
                snprintf(w->db, sizeof w->db, "%s", m.job.db ? m.job.db : "");
                /* one PROGRESS halfway, then the RESULT */
                snprintf(w->last, sizeof w->last,
                         "{\"type\":\"PROGRESS\",\"v\":1,\"db\":\"%s\",\"worker\":\"%s\","
                         "\"trial\":%lld,\"attempt\":%d,\"epoch\":0,\"val_acc\":0.1}",
                         w->db, w->name, (long long)w->trial, w->attempt);
                sim_send(w, now, W_WAIT_PROGRESS);
            } else if (w->st == W_WAIT_READY && m.type == IM_MSG_NOJOB) {
                w->st = W_IDLE;
                w->due = now + m.nojob.retry_ms / 1000.0;
            } else if (w->st == W_WAIT_PROGRESS &&
                       (m.type == IM_MSG_CONTINUE || m.type == IM_MSG_STOP)) {
                if (m.type == IM_MSG_STOP) {
                    w->st = W_IDLE;
                    w->due = now;
                } else {
                    w->st = W_TRAIN;
                    w->due = now + 0.02 + 0.1 * frand();
                }
            } else if (w->st == W_WAIT_RESULT && m.type == IM_MSG_ACK && m.ack.trial == w->trial) {
                if (m.ack.accepted) accepted_add(w->trial);
                w->st = W_IDLE;
                w->due = now;
            }
            im_msg_release(&m);
        }
    }
    rss_end = test_rss_kib(g_pid);
    for (int i = 0; i < n_workers; i++) zmq_close(ws[i].sock);
    kill(g_pid, SIGTERM);
    waitpid(g_pid, NULL, 0);
    zmq_ctx_term(g_ctx);

    qsort(g_accepted, g_n_accepted, sizeof *g_accepted, cmp_i64);
    for (size_t i = 1; i < g_n_accepted; i++)
        if (g_accepted[i] == g_accepted[i - 1]) double_ack++;
    sqlite3 *db;
    if (sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return 1;
    int64_t done = q_int(db, "SELECT count(*) FROM trials WHERE status = 'done'");
    int64_t rerun = q_int(db, "SELECT count(*) FROM (SELECT trial_id FROM trial_attempts GROUP BY "
                              "trial_id HAVING count(*) > 1)");
    int64_t twice = q_int(db, "SELECT count(*) FROM (SELECT trial_id FROM trial_attempts WHERE "
                              "status = 'done' GROUP BY trial_id HAVING count(*) > 1)");
    long lost = 0;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT status = 'done' FROM trials WHERE id = ?", -1, &st, NULL);
    for (size_t i = 0; i < g_n_accepted; i++) {
        sqlite3_bind_int64(st, 1, g_accepted[i]);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) lost++;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);

    qsort(lat, n_lat, sizeof *lat, cmp_double);
    double p50 = n_lat ? lat[n_lat / 2] : NAN, p99 = n_lat ? lat[(size_t)(n_lat * 0.99)] : NAN;
    printf("soak: %.0f s, %d simulated workers, %ld killed, coordinator killed and restarted "
           "once\n",
           seconds, n_workers, kills);
    printf("  trials completed:        %lld (%.1f per second)\n", (long long)done, done / seconds);
    printf(
        "  trials lost:             %ld (accepted results not done in the database; must be 0)\n",
        lost);
    printf("  trials run again:        %lld (more than one attempt, after a kill or the restart)\n",
           (long long)rerun);
    printf("  trials counted twice:    %lld done attempts, %ld accepted results (must be 0)\n",
           (long long)twice, double_ack);
    printf("  requests resent:         %ld (no reply within %.0f s: reconnect and resend)\n",
           resends, REPLY_TIMEOUT_S);
    printf("  coordinator memory:      %ld KiB at 5 s, %ld KiB 5 s after the restart, %ld KiB at "
           "the end\n",
           rss_start, rss_after_restart, rss_end);
    printf("  memory every 15 s (KiB):%s\n", samples);
    printf("  hand-out latency:        p50 %.2f ms, p99 %.2f ms (READY to JOB, %zu jobs)\n",
           p50 * 1e3, p99 * 1e3, n_lat);
    free(lat);
    free(ws);
    free(items);
    free(g_accepted);
    if (!dir_arg) test_rm_tree(dir);
    return lost == 0 && twice == 0 && double_ack == 0 ? 0 : 1;
}
