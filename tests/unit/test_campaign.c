/*
 * test_campaign: a campaign's points and their seeds on a real (temporary)
 * store: points are created lazily, a point is pending until every seed has
 * ended, a lost attempt goes back to the front of the queue, the campaign is
 * done when its last trial ends; and a point's value is the mean of its done
 * seeds (point_aggregate).
 */
#include "campaign.h"
#include "lifecycle.h"
#include "test.h"
#include "test_util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

static void test_aggregate(void)
{
    double v = 0;
    point_tally n = {.ended = 3, .done = 2, .pruned = 1, .sum = 1.5};
    CHECK_INT(point_aggregate(&n, &v), POINT_COMPLETE);
    CHECK_NEAR(v, 0.75, 1e-15);
    n = (point_tally){.ended = 2, .done = 0, .pruned = 1};
    CHECK_INT(point_aggregate(&n, &v), POINT_PRUNED);
    CHECK(isnan(v));
    n = (point_tally){.ended = 2};
    CHECK_INT(point_aggregate(&n, &v), POINT_FAILED);
    CHECK(isnan(v));
}

static trial *hand_out(campaign_set *cs, store *st)
{
    trial *t = NULL;
    im_error err = {0};
    CHECK_INT(lifecycle_hand_out(cs, st, "w1", NULL, NULL, 0, 60, &t, &err), 0);
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

static void test_points(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads("{\"name\": \"f\", \"kind\": \"fixed\", \"seeds_per_point\": 2, "
                             "\"points\": [\"paper-optimized\", \"paper-heuristic\"]}",
                             0, NULL);
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
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
    store_close(&st);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[PATH_MAX + 32];
        snprintf(f, sizeof f, "%s%s", path, suffix[i]);
        remove(f);
    }
    remove(dir);
    return TEST_END();
}
