/*
 * test_campaign: a campaign's points and their seeds on a real (temporary)
 * store: points are created lazily, a point is pending until every seed has
 * ended, a lost attempt goes back to the front of the queue, the campaign is
 * done when its last trial ends; a point's value is the mean of its done
 * seeds, a pruned point's the best last report (point_aggregate); a TPE
 * search proposes the same points across a restart; an ablation plans its
 * successive stage from the individual effects, also across a restart; a
 * chained ablation is "waiting" until its base campaign is done.
 */
#include "campaign.h"
#include "lifecycle.h"
#include "test.h"
#include "test_util.h"
#include "train.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_aggregate(void)
{
    double v = 0;
    point_tally n = {.ended = 3, .done = 2, .pruned = 1, .sum = 1.5};
    CHECK_INT(point_aggregate(&n, &v), POINT_COMPLETE);
    CHECK_NEAR(v, 0.75, 1e-15);
    n = (point_tally){.ended = 2, .done = 0, .pruned = 1};
    CHECK_INT(point_aggregate(&n, &v), POINT_PRUNED);
    CHECK(isnan(v));
    /* a pruned point is valued by the best last report of its pruned seeds */
    n = (point_tally){.ended = 3, .pruned = 2, .pruned_valued = 2, .pruned_best = 0.4};
    CHECK_INT(point_aggregate(&n, &v), POINT_PRUNED);
    CHECK_NEAR(v, 0.4, 0);
    n = (point_tally){.ended = 2};
    CHECK_INT(point_aggregate(&n, &v), POINT_FAILED);
    CHECK(isnan(v));
}

static trial *hand_out(campaign_set *cs, store *st)
{
    trial *t = NULL;
    im_error err = {0};
    CHECK_INT(lifecycle_hand_out(cs, st, "w1", NULL, NULL, -1, 0, 60, &t, &err), 0);
    return t;
}

static int finish(campaign_set *cs, store *st, trial *t, double val_acc)
{
    im_error err = {0};
    store_trial_result r = {
        .status = STORE_TRIAL_DONE, .val_acc = val_acc, .test_acc = NAN, .wall_s = 1};
    int rc = campaign_trial_finish(cs, st, t, &r, NULL, 0, &err);
    CHECK_MSG(rc == 0, "finish: %s", err.msg);
    return rc;
}

/* Submit the campaign of JSON text to cs; the campaign, NULL (a failed
 * check) if it was refused. */
static campaign *submit(campaign_set *cs, store *st, const char *text)
{
    im_error err = {0};
    json_t *obj = json_loads(text, 0, NULL);
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    return c;
}

static void test_points(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    campaign *c = submit(&cs, st,
                         "{\"name\": \"f\", \"kind\": \"fixed\", \"seeds_per_point\": 2, "
                         "\"points\": [\"paper-optimized\", \"paper-heuristic\"]}");
    if (!c) return;
    const sampler_point *pending = NULL;
    CHECK_INT(campaign_pending(c, &pending), 0);

    trial *a = hand_out(&cs, st), *b = hand_out(&cs, st);
    CHECK_INT(campaign_pending(c, &pending), 1); /* one point, two seeds out */
    trial *d = hand_out(&cs, st);                /* point 1 is created now */
    if (!a || !b || !d) return;
    CHECK_INT(campaign_pending(c, &pending), 2);
    CHECK_INT(a->point, 0);
    CHECK_INT(d->point, 1);
    CHECK_INT(pending[1].point, 1);
    CHECK_NEAR(pending[0].v[0], a->gamma[0], 0);

    finish(&cs, st, a, 0.5);
    CHECK_INT(campaign_pending(c, &pending), 2); /* a seed of point 0 is still out */
    finish(&cs, st, b, 0.7);
    CHECK_INT(campaign_pending(c, &pending), 1);
    CHECK_INT(pending[0].point, 1);

    /* d's worker gives it up: queued again, first in line, still pending */
    CHECK_INT(lifecycle_lost(&cs, st, d, "gone", 0, &err), 0);
    CHECK_INT(campaign_pending(c, &pending), 1);
    trial *d2 = hand_out(&cs, st), *e = hand_out(&cs, st);
    if (!d2 || !e) return;
    CHECK(d2 == d);
    CHECK_INT(d2->attempt, 2);
    CHECK(hand_out(&cs, st) == NULL); /* nothing left to create */
    finish(&cs, st, d2, 0.6);
    CHECK(campaign_set_find(&cs, "f", 0) == c);
    finish(&cs, st, e, 0.8);
    CHECK(campaign_set_find(&cs, "f", 0) == NULL); /* done, out of memory */

    store_campaign sc = {0};
    CHECK_INT(store_campaign_find(st, "f", &sc, &err), 0);
    CHECK_INT(sc.status, STORE_CAMPAIGN_DONE);
    store_campaign_release(&sc);
    campaign_set_release(&cs);
}

/* A TPE search driven with two trials out at a time, the oldest finishing
 * first except every third step (every third point pruned with its last report); with restart_at
 * >= 0 the coordinator "restarts" (the set is rebuilt from the store) after
 * that many results. The gamma of each point goes to g[point][n_terms]. */
static void run_tpe(store *st, int restart_at, double (*g)[IM_MAX_TERMS], int n_points)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\": \"tpe\", \"kind\": \"search\", \"budget\": %d, \"seed\": 3, "
             "\"sampler\": {\"name\": \"tpe\", \"n_startup_trials\": 4}}",
             n_points);
    campaign *c = submit(&cs, st, text);
    if (!c) return;
    int n_terms = c->spec.n_terms;
    trial *out[2] = {hand_out(&cs, st), hand_out(&cs, st)};
    for (int step = 0; out[0]; step++) {
        if (step % 3 == 1 && out[1]) { /* results out of point order */
            trial *x = out[0];
            out[0] = out[1];
            out[1] = x;
        }
        trial *t = out[0];
        memcpy(g[t->point], t->gamma, sizeof g[0]);
        double f = 0; /* best near 0.3 everywhere */
        for (int i = 0; i < n_terms - 1; i++) f += (t->gamma[i] - 0.3) * (t->gamma[i] - 0.3);
        store_trial_result r = {.status = t->point % 3 == 2 ? STORE_TRIAL_PRUNED : STORE_TRIAL_DONE,
                                .val_acc = 1 / (1 + f),
                                .test_acc = NAN,
                                .wall_s = 1};
        int rc = campaign_trial_finish(&cs, st, t, &r, NULL, 0, &err);
        CHECK_MSG(rc == 0, "finish: %s", err.msg);
        if (rc) break;
        if (step == restart_at) {
            int64_t running = out[1] ? out[1]->id : 0;
            campaign_set_release(&cs);
            campaign_set_init(&cs);
            int64_t n_re = 0;
            CHECK_MSG(campaign_set_resume(&cs, st, 0, 0, &n_re, &err) == 0, "%s", err.msg);
            CHECK_INT(n_re, running ? 1 : 0);
            out[1] = running ? hand_out(&cs, st) : NULL; /* the requeued trial again */
            if (running) CHECK(out[1] && out[1]->id == running);
        }
        out[0] = out[1];
        out[1] = hand_out(&cs, st);
    }
    campaign_set_release(&cs);
}

/* A TPE campaign proposes the same points whether or not the coordinator
 * restarted in between (history rebuilt from the store, pending points
 * known again), and its proposals leave the random start-up. */
static void test_tpe_restart(const char *dir)
{
    enum { N = 40 };
    static double a[N][IM_MAX_TERMS], b[N][IM_MAX_TERMS];
    for (int run = 0; run < 2; run++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/tpe%d.db", dir, run);
        store *st = NULL;
        im_error err = {0};
        CHECK_MSG(store_open(&st, path, NULL, &err) == 0, "%s", err.msg);
        if (!st) return;
        run_tpe(st, run ? 27 : -1, run ? b : a, N);
        store_close(&st);
        test_remove_db(path);
    }
    int same = 1, differ = 0;
    for (int p = 0; p < N; p++) {
        same &= memcmp(a[p], b[p], sizeof a[p]) == 0;
        if (p) differ |= memcmp(a[p], a[p - 1], sizeof a[p]) != 0;
    }
    CHECK(same);
    CHECK(differ);
    CHECK(a[N - 1][0] >= -1 && a[N - 1][0] <= 1);
}

/* An ablation of a base with nonzero components a, b, c: stage 1 gives
 * individual effects, stage 2 removes them cumulatively, least harmful
 * first; a restart in the middle of stage 2 keeps the plan. */
static void test_ablation_stages(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/abl.db", dir);
    store *st = NULL;
    im_error err = {0};
    CHECK_MSG(store_open(&st, path, NULL, &err) == 0, "%s", err.msg);
    if (!st) return;
    campaign_set cs;
    campaign_set_init(&cs);
    /* f_c 0.5, fl -0.25, c_fl 0.125; the rest 0 */
    campaign *c = submit(&cs, st,
                         "{\"name\": \"abl\", \"kind\": \"ablation\", \"seeds_per_point\": 1, "
                         "\"base\": {\"f_c\": 0.5, \"fl\": -0.25, \"c_fl\": 0.125}}");
    if (!c) goto out;
    CHECK_INT(c->n_points, 4);
    int i_fc = im_lattice_find(&c->lat, "f_c"), i_fl = im_lattice_find(&c->lat, "fl"),
        i_cfl = im_lattice_find(&c->lat, "c_fl");
    /* individual effects: f_c -0.3, fl -0.05, c_fl -0.5 against a base of 0.8 */
    for (int k = 0; k < 4; k++) {
        trial *t = hand_out(&cs, st);
        if (!t) goto out;
        double v = t->point == 0         ? 0.8
                   : t->gamma[i_fc] == 0 ? 0.5
                   : t->gamma[i_fl] == 0 ? 0.75
                                         : 0.3;
        finish(&cs, st, t, v);
    }
    CHECK_INT(c->n_points, 7); /* stage 2: fl, then f_c, then c_fl */
    trial *t = hand_out(&cs, st);
    if (!t) goto out;
    CHECK_INT(t->point, 4);
    CHECK(t->gamma[i_fl] == 0 && t->gamma[i_fc] == 0.5 && t->gamma[i_cfl] == 0.125);
    finish(&cs, st, t, 0.7);
    t = hand_out(&cs, st); /* point 5 out when the coordinator restarts */
    if (!t) goto out;
    CHECK(t->gamma[i_fl] == 0 && t->gamma[i_fc] == 0 && t->gamma[i_cfl] == 0.125);
    campaign_set_release(&cs);
    campaign_set_init(&cs);
    CHECK_MSG(campaign_set_resume(&cs, st, 0, 0, NULL, &err) == 0, "%s", err.msg);
    t = hand_out(&cs, st);
    if (!t) goto out;
    CHECK_INT(t->point, 5);
    finish(&cs, st, t, 0.6);
    t = hand_out(&cs, st);
    if (!t) goto out;
    CHECK_INT(t->point, 6);
    CHECK(t->gamma[i_fl] == 0 && t->gamma[i_fc] == 0 && t->gamma[i_cfl] == 0);
    finish(&cs, st, t, 0.1);
    CHECK(hand_out(&cs, st) == NULL);
    store_campaign sc = {0};
    CHECK_INT(store_campaign_find(st, "abl", &sc, &err), 0);
    CHECK_INT(sc.status, STORE_CAMPAIGN_DONE);
    store_campaign_release(&sc);
    store_trial *tr = NULL;
    size_t n = 0;
    CHECK_INT(store_trial_list(st, 0, 0, 0, &tr, &n, &err), 0);
    CHECK_INT(n, 7);
    const char *labels[] = {"base", "f_c", "c_fl", "fl", "fl", "f_c", "c_fl"};
    for (size_t i = 0; i < n && i < 7; i++) CHECK_STR(tr[i].label, labels[i]);
    store_trials_free(&tr, n);
out:
    campaign_set_release(&cs);
    store_close(&st);
    test_remove_db(path);
}

/* A worker gets only trials whose estimated memory fits the cap of its
 * READY: none below the estimate, one at it, one with no cap known. */
static void test_memory_filter(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    campaign *c = submit(&cs, st,
                         "{\"name\": \"m\", \"kind\": \"search\", \"budget\": 4, \"seed\": 3, "
                         "\"sampler\": {\"name\": \"random\"}, \"train\": {\"hidden\": 100, "
                         "\"batch\": 16384}}");
    if (c) {
        im_train_spec s;
        im_train_spec_default(&s);
        s.hidden = 100;
        s.batch = 16384;
        uint64_t need = im_train_spec_memory_bytes(&s, IM_MEMORY_N_IN, IM_MEMORY_N_CLASSES,
                                                   IM_MEMORY_N_SAMPLES);
        CHECK_INT(c->need_bytes, need);
        CHECK(need > 300000000); /* about 0.4 GB: the batch's buffers */
        CHECK(!campaign_fits_memory(c, 100000000));
        CHECK(campaign_fits_memory(c, (int64_t)need));
        CHECK(campaign_fits_memory(c, -1));
        trial *t = NULL;
        im_error err = {0};
        CHECK_INT(lifecycle_hand_out(&cs, st, "w1", NULL, NULL, 100000000, 0, 60, &t, &err), 0);
        CHECK(t == NULL);
        CHECK_INT(c->next_point, 0); /* nothing was created for the small worker */
        CHECK_INT(lifecycle_hand_out(&cs, st, "w1", NULL, NULL, (int64_t)need, 0, 60, &t, &err), 0);
        CHECK(t != NULL);
        t = NULL;
        CHECK_INT(lifecycle_hand_out(&cs, st, "w2", NULL, NULL, -1, 0, 60, &t, &err), 0);
        CHECK(t != NULL);
    }
    campaign_set_release(&cs);
}

/* The status of campaign `name` in the store (-1 if not found). */
static int stored_status(store *st, const char *name)
{
    store_campaign sc = {0};
    im_error err = {0};
    if (store_campaign_find(st, name, &sc, &err) != 0) return -1;
    int status = (int)sc.status;
    store_campaign_release(&sc);
    return status;
}

/* A chained ablation is "waiting", in memory and in the store, until its
 * base campaign is done, also across a restart; it can be cancelled while
 * it waits; then it is "queued" and runs. */
static void test_chained_waiting(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/chain.db", dir);
    store *st = NULL;
    im_error err = {0};
    CHECK_MSG(store_open(&st, path, NULL, &err) == 0, "%s", err.msg);
    if (!st) return;
    campaign_set cs;
    campaign_set_init(&cs);
    campaign *a = submit(
        &cs, st, "{\"name\": \"a\", \"kind\": \"fixed\", \"points\": [\"paper-optimized\"]}");
    campaign *b = submit(&cs, st,
                         "{\"name\": \"b\", \"kind\": \"ablation\", \"seeds_per_point\": 1, "
                         "\"base\": {\"campaign\": \"a\"}}");
    campaign *c = submit(&cs, st,
                         "{\"name\": \"c\", \"kind\": \"ablation\", \"seeds_per_point\": 1, "
                         "\"base\": {\"campaign\": \"a\"}}");
    if (!a || !b || !c) goto out;
    CHECK_INT(a->status, STORE_CAMPAIGN_QUEUED);
    CHECK_INT(b->status, STORE_CAMPAIGN_WAITING);
    CHECK(campaign_is_active(b));
    CHECK_INT(stored_status(st, "a"), STORE_CAMPAIGN_QUEUED);
    CHECK_INT(stored_status(st, "b"), STORE_CAMPAIGN_WAITING);
    CHECK_INT(campaign_cancel(&cs, st, c, NULL, &err), 0); /* frees c */
    CHECK_INT(stored_status(st, "c"), STORE_CAMPAIGN_CANCELLED);

    campaign_set_release(&cs);
    campaign_set_init(&cs);
    CHECK_MSG(campaign_set_resume(&cs, st, 0, 0, NULL, &err) == 0, "%s", err.msg);
    b = campaign_set_find(&cs, "b", 0);
    CHECK(b != NULL);
    if (!b) goto out;
    CHECK_INT(b->status, STORE_CAMPAIGN_WAITING);
    CHECK_INT(stored_status(st, "b"), STORE_CAMPAIGN_WAITING);
    CHECK(campaign_set_find(&cs, "c", 0) == NULL);

    trial *t = hand_out(&cs, st);
    if (!t) goto out;
    CHECK_STR(t->c->name, "a");
    finish(&cs, st, t, 0.5);
    CHECK_INT(stored_status(st, "a"), STORE_CAMPAIGN_DONE);
    CHECK_INT(b->status, STORE_CAMPAIGN_QUEUED);
    CHECK_INT(stored_status(st, "b"), STORE_CAMPAIGN_QUEUED);
    CHECK(b->n_points > 1);
    t = hand_out(&cs, st);
    if (!t) goto out;
    CHECK_STR(t->c->name, "b");
    CHECK_INT(stored_status(st, "b"), STORE_CAMPAIGN_RUNNING);
out:
    campaign_set_release(&cs);
    store_close(&st);
    test_remove_db(path);
}

int main(void)
{
    test_aggregate();
    char dir[PATH_MAX], path[PATH_MAX + 16];
    if (test_mkdtemp(dir, sizeof dir, NULL, "test_campaign") != 0) return 1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    store *st = NULL;
    im_error err = {0};
    CHECK_MSG(store_open(&st, path, NULL, &err) == 0, "%s", err.msg);
    if (st) test_points(st);
    if (st) test_memory_filter(st);
    store_close(&st);
    test_tpe_restart(dir);
    test_ablation_stages(dir);
    test_chained_waiting(dir);
    test_remove_db(path);
    remove(dir);
    return TEST_END();
}
