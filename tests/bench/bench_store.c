/*
 * bench_store: how many completed trials per second the trial store records
 * on disk. One completed trial is what the coordinator writes for a trial's
 * life: the trial with its 19 params, the start of an attempt, 10 epochs,
 * 24 atoms and the result (about 56 rows). Measured with one transaction per
 * trial and with several trials per transaction (the coordinator groups one
 * pass of its loop), with synchronous=NORMAL (the default) and FULL.
 * The broker's target is >= 2,000 completed trials/s.
 *
 *   bench_store [trials] [dir]      defaults: 5000 trials, the current directory
 */
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const names[19] = {"f_c_l", "f_c", "f_l", "c_l",      "f_cl",  "c_fl",  "l_fc",
                                      "f",     "c",   "l",   "fc_fl_cl", "fc_fl", "fc_cl", "fl_cl",
                                      "fc",    "fl",  "cl",  "fcl",      "h_res"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void remove_db(const char *path)
{
    char p[1100];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* Write one completed trial. Returns 0 or an IM_E* code. */
static int complete_trial(store *s, int64_t campaign, int number, im_error *err)
{
    store_param p[19];
    for (int j = 0; j < 19; j++) {
        snprintf(p[j].name, sizeof p[j].name, "%s", names[j]);
        p[j].value = sin(number * 0.7 + j);
    }
    store_trial_new t = {.campaign_id = campaign,
                         .number = number,
                         .point = number,
                         .seed = (uint64_t)number + 1,
                         .spec_json = "{\"dataset\": \"mnist10k\", \"setup\": \"trivariate\", "
                                      "\"hidden\": 100, \"epochs\": 10, \"batch\": 1024}",
                         .params = p,
                         .n_params = 19};
    int64_t id;
    int attempt, rc;
    if ((rc = store_trial_insert(s, &t, &id, err))) return rc;
    if ((rc = store_trial_start(s, id, "bench-worker", &attempt, err))) return rc;
    store_epoch e[10];
    for (int k = 0; k < 10; k++)
        e[k] = (store_epoch){k, 0.09 * k, 0.09 * k, 0.09 * k, 0.01 * k, 0.02 * k, 1.25};
    if ((rc = store_epochs_insert(s, id, e, 10, err))) return rc;
    store_atom a[24];
    for (int j = 0; j < 19; j++) a[j] = (store_atom){"hidden", names[j], 0.001 * j};
    const char *out[5] = {"f", "c", "f_c", "fc", "h_res"};
    for (int j = 0; j < 5; j++) a[19 + j] = (store_atom){"output", out[j], 0.01 * j};
    if ((rc = store_atoms_insert(s, id, a, 24, err))) return rc;
    store_trial_result r = {STORE_TRIAL_DONE, 0.9, 0.89, 12.5, NULL};
    return store_trial_finish(s, id, attempt, &r, err);
}

/* Record n trials, `batch` per transaction; returns trials per second or -1. */
static double run(const char *dir, int n, int batch, store_sync sync)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_store.db", dir);
    remove_db(path);
    store *s = NULL;
    im_error err = {0};
    store_options opt = {.sync = sync};
    if (store_open(&s, path, &opt, &err)) {
        fprintf(stderr, "bench_store: %s\n", err.msg);
        return -1;
    }
    store_campaign_new c = {
        .name = "bench", .kind = "search", .spec_json = "{}", .seeds_per_point = 1, .budget = n};
    int64_t campaign;
    store_worker_info w = {"bench-worker", "localhost", 1, 1, "builtin"};
    if (store_campaign_insert(s, &c, &campaign, &err) || store_worker_seen(s, &w, &err)) {
        fprintf(stderr, "bench_store: %s\n", err.msg);
        store_close(&s);
        return -1;
    }
    double t0 = now_s();
    for (int i = 0; i < n; i += batch) {
        int rc = store_begin(s, &err);
        for (int j = i; rc == 0 && j < i + batch && j < n; j++)
            rc = complete_trial(s, campaign, j, &err);
        if (rc == 0) rc = store_commit(s, &err);
        if (rc) {
            fprintf(stderr, "bench_store: %s\n", err.msg);
            store_close(&s);
            return -1;
        }
    }
    double dt = now_s() - t0;
    store_close(&s);
    remove_db(path);
    return n / dt;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    const char *dir = argc > 2 ? argv[2] : ".";
    if (n < 1) {
        fprintf(stderr, "usage: bench_store [trials] [dir]\n");
        return 2;
    }
    printf("completed trials (trial + 19 params + start + 10 epochs + 24 atoms + finish), "
           "%d per run, WAL, in %s\n",
           n, dir);
    const struct {
        int batch;
        store_sync sync;
        const char *name;
    } cases[] = {{1, STORE_SYNC_NORMAL, "NORMAL"},
                 {64, STORE_SYNC_NORMAL, "NORMAL"},
                 {1, STORE_SYNC_FULL, "FULL"},
                 {64, STORE_SYNC_FULL, "FULL"}};
    int status = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* FULL with one trial per transaction is fsync-bound: fewer trials */
        int m = cases[i].sync == STORE_SYNC_FULL && cases[i].batch == 1 && n > 1000 ? 1000 : n;
        double rate = run(dir, m, cases[i].batch, cases[i].sync);
        if (rate < 0) {
            status = 1;
            continue;
        }
        printf("  synchronous=%-6s %3d trial(s)/transaction: %9.0f trials/s (%d trials)\n",
               cases[i].name, cases[i].batch, rate, m);
    }
    return status;
}
