/*
 * bench_store: how many completed trials per second the trial store records
 * on disk. One completed trial is what the coordinator writes for a trial's
 * life: the trial with its 19 params, the start of an attempt, 10 epochs,
 * 24 atoms and the result (about 56 rows). Measured with one transaction per
 * trial and with several trials per transaction (the coordinator groups one
 * pass of its loop), with synchronous=NORMAL (the default) and FULL.
 * The broker's target is >= 2,000 completed trials/s. Then the reads of
 * resume and of the client verbs, and the views, on 10,000 completed trials.
 *
 *   bench_store [trials] [dir]      defaults: 5000 trials, the current directory
 */
#include "store.h"
#include "test_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write one completed trial. Returns 0 or an IM_E* code. */
/* An epoch record with the figures the store keeps. */
static im_epoch_stats epoch_rec(int epoch, double train_acc, double val_acc, double test_acc,
                                double goal_hidden, double goal_out, double seconds)
{
    return (im_epoch_stats){.epoch = epoch,
                            .train_acc = train_acc,
                            .val_acc = val_acc,
                            .test_acc = test_acc,
                            .goal_hidden = goal_hidden,
                            .goal_out = goal_out,
                            .seconds = seconds};
}

static int complete_trial(store *s, int64_t campaign, int number, im_error *err)
{
    store_param p[19];
    for (int j = 0; j < 19; j++) {
        snprintf(p[j].name, sizeof p[j].name, "%s", test_gamma3_names[j]);
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
    im_epoch_stats e[10];
    for (int k = 0; k < 10; k++)
        e[k] = epoch_rec(k, 0.09 * k, 0.09 * k, 0.09 * k, 0.01 * k, 0.02 * k, 1.25);
    if ((rc = store_epochs_insert(s, id, e, 10, err))) return rc;
    im_trial_atom a[24];
    for (int j = 0; j < 19; j++) a[j] = (im_trial_atom){"hidden", test_gamma3_names[j], 0.001 * j};
    const char *out[5] = {"f", "c", "f_c", "fc", "h_res"};
    for (int j = 0; j < 5; j++) a[19 + j] = (im_trial_atom){"output", out[j], 0.01 * j};
    if ((rc = store_atoms_insert(s, id, a, 24, err))) return rc;
    store_trial_result r = {STORE_TRIAL_DONE, 0.9, 0.89, 12.5, NULL};
    return store_trial_finish(s, id, attempt, &r, err);
}

/* Record n trials, `batch` per transaction; returns trials per second or -1.
 * With keep set, the database stays for the read measurements. */
static double run(const char *dir, int n, int batch, store_sync sync, int keep)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_store.db", dir);
    test_remove_db(path);
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
    double t0 = test_now_s();
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
    double dt = test_now_s() - t0;
    store_close(&s);
    if (!keep) test_remove_db(path);
    return n / dt;
}

/* Seconds of one read query of the client verbs or of resume. */
static double time_json(store *s, json_t *(*query)(store *, int64_t, im_error *), int64_t id)
{
    im_error err = {0};
    double t0 = test_now_s();
    json_t *j = query(s, id, &err);
    double dt = test_now_s() - t0;
    if (!j) fprintf(stderr, "bench_store: %s\n", err.msg);
    json_decref(j);
    return dt;
}

static json_t *best10(store *s, int64_t id, im_error *err)
{
    return store_best_json(s, id, 10, err);
}

/* Seconds to run a view query to its end with a plain connection. */
static double time_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    double t0 = test_now_s();
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_store: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NAN;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return test_now_s() - t0;
}

/* The reads on the database of n completed trials that run() kept. */
static int reads(const char *dir, int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_store.db", dir);
    store *s = NULL;
    im_error err = {0};
    if (store_open(&s, path, NULL, &err)) {
        fprintf(stderr, "bench_store: %s\n", err.msg);
        return 1;
    }
    printf("reads on %d completed trials (milliseconds):\n", n);
    store_trial *t = NULL;
    size_t nt = 0;
    double t0 = test_now_s();
    int rc = store_trial_list(s, 1, STORE_MASK(STORE_TRIAL_DONE), STORE_WITH_PARAMS, &t, &nt, &err);
    printf("  resume: history with params   %8.1f\n", 1e3 * (test_now_s() - t0));
    store_trials_free(&t, nt);
    if (rc) fprintf(stderr, "bench_store: %s\n", err.msg);
    printf("  status (store_progress_json)  %8.1f\n", 1e3 * time_json(s, store_progress_json, 1));
    printf("  best 10 (store_best_json)     %8.1f\n", 1e3 * time_json(s, best10, 1));
    printf("  ls trials (store_trials_json) %8.1f\n", 1e3 * time_json(s, store_trials_json, 1));
    printf("  export (store_export_json)    %8.1f\n", 1e3 * time_json(s, store_export_json, 1));
    store_close(&s);
    printf("  view best_trials, top 10      %8.1f\n",
           1e3 * time_sql(path, "SELECT * FROM best_trials WHERE rank <= 10"));
    printf("  view trial_gamma_wide, all    %8.1f\n",
           1e3 * time_sql(path, "SELECT * FROM trial_gamma_wide"));
    printf("  view campaign_progress        %8.1f\n",
           1e3 * time_sql(path, "SELECT * FROM campaign_progress"));
    test_remove_db(path);
    return rc != 0;
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
        double rate = run(dir, m, cases[i].batch, cases[i].sync, 0);
        if (rate < 0) {
            status = 1;
            continue;
        }
        printf("  synchronous=%-6s %3d trial(s)/transaction: %9.0f trials/s (%d trials)\n",
               cases[i].name, cases[i].batch, rate, m);
    }
    /* a database of 10,000 completed trials (or n, if larger) for the reads */
    int nr = n > 10000 ? n : 10000;
    if (run(dir, nr, 256, STORE_SYNC_NORMAL, 1) < 0 || reads(dir, nr)) status = 1;
    return status;
}
