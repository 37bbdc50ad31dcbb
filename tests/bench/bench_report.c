/*
 * bench_report: how long `infomorph report --db FILE --html` takes on a big
 * campaign, and how large the page is. Writes a campaign of n trials into a
 * database of the store's schema, in SQL (each: 19 params, 11 epochs, 24
 * atoms; one in 17 failed, one in 23 pruned, the rest done with varied
 * accuracies), then times the
 * steps of the report: reading the document from the database (read-only),
 * building the model, writing the HTML page and the text form. The target:
 * 10,000 trials in under 2 s, the page under 10 MB.
 *
 *   bench_report [trials] [dir] [keep]   defaults: 10000 trials, the current
 *                                        directory; "keep" leaves the database
 *                                        (to time `infomorph report` on it)
 */
#include "report.h"
#include "store.h"
#include "test_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The campaign in SQL, as the coordinator would have left it: trials
 * 0..?1-1; one in 17 failed, one in 23 pruned after 3 epochs, the rest done
 * with 11 epochs and 24 atoms; 19 params per trial, 4 workers. */
static const char fill_sql[] =
    "INSERT INTO campaigns (id, name, kind, status, spec, sampler, budget, created_at) "
    "VALUES (1, 'bench', 'search', 'done', '{}', 'random', ?1, '2026-01-01T00:00:00.000Z');"
    "CREATE TEMP TABLE n AS WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r "
    "WHERE i < ?1 - 1) SELECT i FROM r;"
    "CREATE TEMP TABLE v AS SELECT i, 0.5 + 0.3 * (0.5 + 0.5 * sin(i * 0.37)) * "
    "(0.5 + 0.5 * sin(i * 0.7 + 1.3)) AS val FROM n;"
    "INSERT INTO trials (campaign_id, number, point, seed, status, attempt, worker, val_acc, "
    "test_acc, wall_s, error, spec, created_at, started_at, finished_at) "
    "SELECT 1, i, i, i + 1, CASE WHEN i % 17 = 5 THEN 'failed' WHEN i % 23 = 7 THEN 'pruned' "
    "ELSE 'done' END, 1, 'bench-worker-' || (i % 4), CASE WHEN i % 17 = 5 THEN NULL "
    "WHEN i % 23 = 7 THEN val * 0.2 ELSE val END, CASE WHEN i % 17 = 5 OR i % 23 = 7 THEN NULL "
    "ELSE val - 0.01 END, 12.5, CASE WHEN i % 17 = 5 THEN 'bench failure' END, "
    "'{\"dataset\": \"mnist10k\", \"setup\": \"trivariate\", \"hidden\": 100, "
    "\"epochs\": 10, \"gamma\": [0]}', '2026-01-01T00:00:00.000Z', "
    "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z' FROM v;"
    "INSERT INTO trial_attempts (trial_id, attempt, worker, status, started_at, ended_at) "
    "SELECT id, 1, worker, status, started_at, finished_at FROM trials;"
    "INSERT INTO trial_params (trial_id, name, value) SELECT t.id, p.name, "
    "CASE WHEN p.name = 'h_res' THEN 0 ELSE sin(t.number * 0.7 + p.k * 1.3) END "
    "FROM trials AS t, params AS p;"
    "INSERT INTO trial_epochs (trial_id, epoch, train_acc, val_acc, goal_hidden, goal_out, "
    "seconds) SELECT t.id, e.i, t.val_acc * e.i / 10, t.val_acc * e.i / 10, 0.01 * e.i, "
    "0.02 * e.i, 1.25 FROM trials AS t JOIN (SELECT i FROM n WHERE i <= 10) AS e "
    "ON e.i <= CASE WHEN t.status = 'pruned' THEN 2 ELSE 10 END WHERE t.status <> 'failed';"
    "INSERT INTO trial_atoms (trial_id, layer, name, value) SELECT t.id, 'hidden', p.name, "
    "0.001 * p.k + t.val_acc / 100 FROM trials AS t, params AS p WHERE t.status = 'done';"
    "INSERT INTO trial_atoms (trial_id, layer, name, value) SELECT t.id, 'output', o.name, "
    "0.01 * o.k FROM trials AS t, (SELECT 'f' AS name, 0 AS k UNION ALL SELECT 'c', 1 "
    "UNION ALL SELECT 'f_c', 2 UNION ALL SELECT 'fc', 3 UNION ALL SELECT 'h_res', 4) AS o "
    "WHERE t.status = 'done';";

/* A database with the schema of the store (store_open creates it) and the
 * campaign of n trials written in SQL. Returns 0 or -1 (message printed). */
static int make_db(const char *path, int n)
{
    store *s = NULL;
    im_error err = {0};
    test_remove_db(path);
    if (store_open(&s, path, NULL, &err)) {
        fprintf(stderr, "bench_report: %s\n", err.msg);
        return -1;
    }
    store_close(&s);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db) != SQLITE_OK ||
             sqlite3_exec(db, "BEGIN; CREATE TEMP TABLE params (name TEXT, k INTEGER)", NULL, NULL,
                          NULL) != SQLITE_OK;
    for (int j = 0; !rc && j < 19; j++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO params VALUES ('%s', %d)", test_gamma3_names[j], j);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
    }
    /* ?1 is n: the statements one by one, each bound */
    const char *tail = fill_sql;
    while (!rc && *tail) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
            rc = 1;
            break;
        }
        if (!st) break;
        if (sqlite3_bind_parameter_count(st)) sqlite3_bind_int(st, 1, n);
        rc = sqlite3_step(st) != SQLITE_DONE;
        sqlite3_finalize(st);
    }
    if (!rc) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
    if (rc) fprintf(stderr, "bench_report: unable to fill '%s': %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *dir = argc > 2 ? argv[2] : ".";
    char path[1024], html[1024];
    snprintf(path, sizeof path, "%s/bench_report.db", dir);
    snprintf(html, sizeof html, "%s/bench_report.html", dir);
    if (n < 1) {
        fprintf(stderr, "usage: bench_report [trials >= 1] [dir]\n");
        return 2;
    }
    printf("writing a campaign of %d trials to %s ...\n", n, path);
    if (make_db(path, n)) return 1;

    im_error err = {0};
    json_t *campaign = NULL, *trials = NULL;
    double t0 = test_now_s();
    if (report_fetch_db(path, "bench", &campaign, &trials, &err)) {
        fprintf(stderr, "bench_report: %s\n", err.msg);
        return 1;
    }
    double t1 = test_now_s();
    report r;
    if (report_build(&r, campaign, trials, &err)) {
        fprintf(stderr, "bench_report: %s\n", err.msg);
        return 1;
    }
    double t2 = test_now_s();
    FILE *f = fopen(html, "w");
    if (!f || report_html(f, &r)) {
        fprintf(stderr, "bench_report: unable to write '%s'\n", html);
        return 1;
    }
    long size = ftell(f);
    fclose(f);
    double t3 = test_now_s();
    FILE *null = fopen("/dev/null", "w");
    report_text(null ? null : stdout, &r);
    if (null) fclose(null);
    double t4 = test_now_s();

    printf("trials %zu (done %lld, failed %lld, pruned %lld), params %d, atoms %d\n", r.n_trials,
           r.count[REPORT_DONE], r.count[REPORT_FAILED], r.count[REPORT_PRUNED], r.n_params,
           r.n_atoms);
    printf("read the database   %7.3f s\n", t1 - t0);
    printf("build the model     %7.3f s\n", t2 - t1);
    printf("write the HTML      %7.3f s  (%.2f MB: %s)\n", t3 - t2, size / 1e6, html);
    printf("write the text      %7.3f s\n", t4 - t3);
    printf("total --html        %7.3f s  (target < 2 s, < 10 MB)\n", t3 - t0);
    report_release(&r);
    json_decref(campaign);
    json_decref(trials);
    if (argc > 3 && !strcmp(argv[3], "keep"))
        printf("kept %s (campaign \"bench\")\n", path);
    else
        test_remove_db(path);
    return 0;
}
