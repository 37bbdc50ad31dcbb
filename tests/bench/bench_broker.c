/*
 * bench_broker: the coordinator's throughput with many workers. The broker
 * runs in this process's main thread (the same code as infomorph-coordinator),
 * its store on disk in WAL mode; W simulated workers (a no-op trainer, one
 * DEALER socket each, all served by one forked child process) pull trials
 * of a random search over loopback TCP and answer each JOB at once with a RESULT carrying
 * a realistic curve (11 epochs) and 24 PID atoms, about 56 rows per trial.
 * Reported: completed trials per second (a trial counts when its ACK arrives,
 * i.e. after its commit), the p50 / p99 time from READY to JOB, and the CPU
 * time the coordinator spent per trial (all its threads: the loop, SQLite,
 * ZeroMQ's I/O thread), which says what one core sustains when the workers
 * run elsewhere. At the end every trial is checked to be in the database
 * exactly once, done.
 *
 *   bench_broker [trials] [workers] [dir] [--sync-full]
 *   defaults: 20000 trials, 64 workers, the current directory
 */
#include "broker.h"
#include "log.h"
#include "protocol.h"
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static int g_stop_pipe[2] = {-1, -1};

/* The worker process ended: stop the broker (as SIGTERM does in the daemon). */
static void on_child(int sig)
{
    (void)sig;
    if (write(g_stop_pipe[1], "x", 1) < 0) {
        /* a stop is already pending */
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The curve and atoms of a no-op training: 11 epochs, 19 + 5 atoms. Built
 * once: the simulated workers should cost the machine as little as possible,
 * since they share it with the coordinator under test. */
static char *result_tail(void)
{
    static const char *const out_names[5] = {"f_c", "f", "c", "fc", "h_res"};
    char *buf = malloc(8192);
    int n = snprintf(buf, 8192, "\"curve\":[");
    for (int e = 0; e <= 10; e++)
        n += snprintf(buf + n, 8192 - n,
                      "%s{\"epoch\":%d,\"train_acc\":%.4f,\"val_acc\":%.4f,\"test_acc\":%.4f,"
                      "\"goal_hidden\":0.1,\"goal_out\":0.2,\"seconds\":0.0001}",
                      e ? "," : "", e, 0.08 * e, 0.08 * e, 0.08 * e);
    n += snprintf(buf + n, 8192 - n, "],\"atoms\":{\"hidden\":{");
    for (int i = 0; i < 19; i++)
        n += snprintf(buf + n, 8192 - n, "%s\"%s\":%.3f", i ? "," : "", test_gamma3_names[i],
                      0.01 * i);
    n += snprintf(buf + n, 8192 - n, "},\"output\":{");
    for (int i = 0; i < 5; i++)
        n += snprintf(buf + n, 8192 - n, "%s\"%s\":%.3f", i ? "," : "", out_names[i], 0.1 * i);
    snprintf(buf + n, 8192 - n, "}}}");
    return buf;
}

/* The simulated workers (in the child process): submit the campaign, run
 * until every worker got NOJOB, print the figures. Returns 0 if every trial
 * was acknowledged. */
static int run_workers(const char *epfile, int n_trials, int n_workers)
{
    char wep[256] = "", cep[256] = "";
    for (int tries = 0; tries < 3000; tries++) {
        FILE *f = fopen(epfile, "r");
        int n = f ? fscanf(f, "workers %255s clients %255s", wep, cep) : 0;
        if (f) fclose(f);
        if (n == 2) break;
        usleep(10000);
    }
    if (!wep[0]) {
        fprintf(stderr, "bench_broker: the broker did not start\n");
        return 1;
    }
    void *ctx = zmq_ctx_new();
    int linger = 0;
    void *cl = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(cl, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(cl, cep);
    char submit[512];
    snprintf(submit, sizeof submit,
             "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"bench\",\"kind\":\"search\","
             "\"train\":{\"epochs\":10},\"sampler\":{\"name\":\"random\"},\"budget\":%d,"
             "\"seed\":1}}",
             n_trials);
    zmq_send(cl, submit, strlen(submit), 0);
    im_msg m;
    im_error err = {0};
    if (im_wire_recv(cl, 0, 1 << 20, NULL, &m, &err) != 0 || m.type != IM_MSG_OK) {
        fprintf(stderr, "bench_broker: submission failed: %s\n",
                m.type == IM_MSG_ERROR ? m.error.message : err.msg);
        return 1;
    }
    im_msg_release(&m);

    void **w = calloc((size_t)n_workers, sizeof *w);
    zmq_pollitem_t *items = calloc((size_t)n_workers, sizeof *items);
    double *ready_at = calloc((size_t)n_workers, sizeof *ready_at);
    double *lat = malloc((size_t)n_trials * sizeof *lat);
    size_t n_lat = 0;
    for (int i = 0; i < n_workers; i++) {
        w[i] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(w[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_connect(w[i], wep);
        items[i] = (zmq_pollitem_t){w[i], 0, ZMQ_POLLIN, 0};
    }
    char ready[256];
    char *tail = result_tail(), *res = malloc(16384);
    int acked = 0, idle = 0, errors = 0;
    double t0 = test_now_s();
    for (int i = 0; i < n_workers; i++) {
        snprintf(ready, sizeof ready,
                 "{\"type\":\"READY\",\"v\":1,\"worker\":\"bench-%d\",\"threads\":1}", i);
        ready_at[i] = test_now_s();
        zmq_send(w[i], ready, strlen(ready), 0);
    }
    double t_last = t0;
    while (idle < n_workers) {
        int rc = zmq_poll(items, n_workers, 10000);
        if (rc <= 0) {
            fprintf(stderr, "bench_broker: no reply for 10 s\n");
            break;
        }
        for (int i = 0; i < n_workers; i++) {
            if (!(items[i].revents & ZMQ_POLLIN)) continue;
            if (im_wire_recv(w[i], ZMQ_DONTWAIT, 1 << 20, NULL, &m, &err) != 0) {
                errors++;
                continue;
            }
            if (m.type == IM_MSG_JOB) {
                if (n_lat < (size_t)n_trials) lat[n_lat++] = test_now_s() - ready_at[i];
                int len = snprintf(res, 16384,
                                   "{\"type\":\"RESULT\",\"v\":1,\"db\":\"%s\",\"worker\":"
                                   "\"bench-%d\",\"trial\":%lld,\"attempt\":%d,"
                                   "\"status\":\"done\",\"val_acc\":0.%d,\"test_acc\":0.8,"
                                   "\"wall_s\":0.001,\"error\":null,%s",
                                   m.job.db ? m.job.db : "", i, (long long)m.job.trial,
                                   m.job.attempt, 50 + i % 40, tail);
                zmq_send(w[i], res, (size_t)len, 0);
            } else if (m.type == IM_MSG_ACK) {
                if (m.ack.accepted) acked++;
                t_last = test_now_s();
                snprintf(ready, sizeof ready,
                         "{\"type\":\"READY\",\"v\":1,\"worker\":\"bench-%d\",\"threads\":1}", i);
                ready_at[i] = test_now_s();
                zmq_send(w[i], ready, strlen(ready), 0);
            } else if (m.type == IM_MSG_NOJOB) {
                idle++; /* every trial is out: this worker is done */
            } else {
                errors++;
            }
            im_msg_release(&m);
        }
    }
    double elapsed = t_last - t0;
    qsort(lat, n_lat, sizeof *lat, cmp_double);
    double p50 = n_lat ? lat[n_lat / 2] : 0, p99 = n_lat ? lat[(size_t)(n_lat * 0.99)] : 0;
    printf("  completed trials/s      %.0f  (%d acked in %.2f s)\n", acked / elapsed, acked,
           elapsed);
    printf("  READY -> JOB  p50 %.3f ms   p99 %.3f ms\n", p50 * 1e3, p99 * 1e3);
    fflush(stdout);
    for (int i = 0; i < n_workers; i++) zmq_close(w[i]);
    zmq_close(cl);
    zmq_ctx_term(ctx);
    free(w);
    free(items);
    free(ready_at);
    free(lat);
    free(tail);
    free(res);
    return acked == n_trials && errors == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int n_trials = 20000, n_workers = 64, sync_full = 0;
    const char *dir = ".";
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sync-full"))
            sync_full = 1;
        else if (pos == 0 && ++pos)
            n_trials = atoi(argv[i]);
        else if (pos == 1 && ++pos)
            n_workers = atoi(argv[i]);
        else if (pos == 2 && ++pos)
            dir = argv[i];
    }
    if (n_trials < 1 || n_workers < 1 || n_workers > 1024) {
        fprintf(stderr, "usage: bench_broker [trials] [workers (1..1024)] [dir] [--sync-full]\n");
        return 2;
    }
    im_log_setup(IM_LOG_WARN, "coordinator");
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, 64 << 20); /* as infomorph-coordinator does */
#endif
    char db[1024], epfile[1100];
    snprintf(db, sizeof db, "%s/bench_broker.db", dir);
    snprintf(epfile, sizeof epfile, "%s/bench_broker.endpoints", dir);
    test_remove_db(db);
    unlink(epfile);
    printf("bench_broker: %d workers, %d trials, store %s (WAL, synchronous=%s)\n", n_workers,
           n_trials, db, sync_full ? "FULL" : "NORMAL");
    fflush(stdout);

    if (pipe(g_stop_pipe) != 0) return 1;
    for (int i = 0; i < 2; i++) fcntl(g_stop_pipe[i], F_SETFL, O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) _exit(run_workers(epfile, n_trials, n_workers));

    broker_options opt = {.db_path = db,
                          .workers_endpoint = "tcp://127.0.0.1:*",
                          .clients_endpoint = "tcp://127.0.0.1:*",
                          .lease_s = 60,
                          .endpoints_file = epfile,
                          .sync_full = sync_full};
    im_error err = {0};
    broker *b = NULL;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    int rc = broker_new(&b, &opt, &err);
    if (rc == 0) rc = broker_run(b, g_stop_pipe[0], &err);
    getrusage(RUSAGE_SELF, &ru1);
    if (rc) {
        fprintf(stderr, "bench_broker: %s\n", err.msg);
        kill(child, SIGTERM);
    }
    broker_free(&b);
    int status = 0;
    waitpid(child, &status, 0);
    unlink(epfile);

    /* every trial recorded once, done */
    sqlite3 *h = NULL;
    long long n_done = -1, n_rows = -1, n_distinct = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h,
                               "SELECT (SELECT count(*) FROM trials WHERE status = 'done'), "
                               "(SELECT count(*) FROM trials), "
                               "(SELECT count(DISTINCT number) FROM trials)",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            n_done = sqlite3_column_int64(st, 0);
            n_rows = sqlite3_column_int64(st, 1);
            n_distinct = sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    printf("  database: %lld trials, %lld distinct numbers, %lld done\n", n_rows, n_distinct,
           n_done);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 1e-6 * (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
                                 ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
    printf("  coordinator CPU (all its threads) %.0f us per trial: %.0f trials/s per core\n",
           1e6 * cpu / n_trials, n_trials / cpu);
    int ok = rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && n_done == n_trials &&
             n_rows == n_trials && n_distinct == n_trials;
    if (!ok) fprintf(stderr, "bench_broker: FAILED: not every trial was recorded exactly once\n");
    close(g_stop_pipe[0]);
    close(g_stop_pipe[1]);
    test_remove_db(db);
    return ok ? 0 : 1;
}
