/*
 * bench_report: how long `infomorph report --db FILE --html` takes on a big
 * campaign, and how large the page is. Writes a campaign of n trials with
 * the trial store (each: 19 params, 10 epochs, 24 atoms; one in 17 failed,
 * one in 23 pruned, the rest done with varied accuracies), then times the
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write one finished trial number i. Returns 0 or an IM_E* code. */
static int one_trial(store *s, int64_t campaign, int i, im_error *err)
{
    store_param p[19];
    for (int j = 0; j < 19; j++) {
        snprintf(p[j].name, sizeof p[j].name, "%s", test_gamma3_names[j]);
        p[j].value = j == 18 ? 0 : sin(i * 0.7 + j * 1.3);
    }
    store_trial_new t = {.campaign_id = campaign,
                         .number = i,
                         .point = i,
                         .seed = (uint64_t)i + 1,
                         .spec_json = "{\"dataset\": \"mnist10k\", \"setup\": \"trivariate\", "
                                      "\"hidden\": 100, \"epochs\": 10, \"gamma\": [0]}",
                         .params = p,
                         .n_params = 19};
    int64_t id;
    int attempt, rc;
    char worker[32];
    snprintf(worker, sizeof worker, "bench-worker-%d", i % 4);
    if ((rc = store_trial_insert(s, &t, &id, err))) return rc;
    if ((rc = store_trial_start(s, id, worker, &attempt, err))) return rc;
    double val = 0.5 + 0.3 * (0.5 + 0.5 * sin(i * 0.37)) * (0.5 + 0.5 * p[1].value);
    store_trial_result r = {STORE_TRIAL_DONE, val, val - 0.01, 12.5, NULL};
    if (i % 17 == 5) {
        r = (store_trial_result){STORE_TRIAL_FAILED, NAN, NAN, 1.0, "bench failure"};
    } else {
        int n_ep = i % 23 == 7 ? 3 : 11;
        store_epoch e[11];
        for (int k = 0; k < n_ep; k++)
            e[k] = (store_epoch){k, val * k / 10, val * k / 10, NAN, 0.01 * k, 0.02 * k, 1.25};
        if ((rc = store_epochs_insert(s, id, e, (size_t)n_ep, err))) return rc;
        if (n_ep == 3) {
            r = (store_trial_result){STORE_TRIAL_PRUNED, val * 0.2, NAN, 3.0, NULL};
        } else {
            store_atom a[24];
            for (int j = 0; j < 19; j++)
                a[j] = (store_atom){"hidden", test_gamma3_names[j], 0.001 * j + val / 100};
            const char *out[5] = {"f", "c", "f_c", "fc", "h_res"};
            for (int j = 0; j < 5; j++) a[19 + j] = (store_atom){"output", out[j], 0.01 * j};
            if ((rc = store_atoms_insert(s, id, a, 24, err))) return rc;
        }
    }
    return store_trial_finish(s, id, attempt, &r, err);
}

static int make_db(const char *path, int n)
{
    store *s = NULL;
    im_error err = {0};
    test_remove_db(path);
    if (store_open(&s, path, NULL, &err)) goto fail;
    store_campaign_new c = {.name = "bench",
                            .kind = "search",
                            .spec_json = "{}",
                            .sampler = "random",
                            .seeds_per_point = 1,
                            .budget = n};
    int64_t campaign;
    if (store_campaign_insert(s, &c, &campaign, &err)) goto fail;
    for (int i = 0; i < n; i += 500) {
        int rc = store_begin(s, &err);
        for (int j = i; rc == 0 && j < i + 500 && j < n; j++) rc = one_trial(s, campaign, j, &err);
        if (rc == 0) rc = store_commit(s, &err);
        if (rc) goto fail;
    }
    store_close(&s);
    return 0;
fail:
    fprintf(stderr, "bench_report: %s\n", err.msg);
    store_close(&s);
    return -1;
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
