/*
 * test_lifecycle: the transition table is whole and consistent (one rule per
 * event, trials move only between the statuses the store knows), and the
 * decisions: which event a RESULT or a lost attempt is, how a message's
 * attempt matches a trial, lease renewal and expiry. The store-side effects
 * are covered by test_coordinator and the integration tests.
 */
#include "lifecycle.h"
#include "test.h"

#include <math.h>

static void test_table(void)
{
    for (int e = 0; e < LC_N_EVENTS; e++) {
        const lc_rule *r = lifecycle_rule((lc_event)e);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(r->event, e);
        CHECK(r->from == STORE_TRIAL_QUEUED || r->from == STORE_TRIAL_RUNNING);
        CHECK(r->to != r->from || r->to == STORE_TRIAL_QUEUED); /* a move, or a requeue */
        if (r->from == STORE_TRIAL_RUNNING && r->event != LC_RESTART)
            CHECK_MSG(r->attempt != STORE_ATTEMPT_RUNNING, "%s leaves the attempt running",
                      lifecycle_event_name(r->event));
    }
    CHECK(lifecycle_rule(LC_N_EVENTS) == NULL);
    CHECK_STR(lifecycle_event_name(LC_HAND_OUT), "HAND_OUT");
    CHECK_INT(lifecycle_rule(LC_HAND_OUT)->to, STORE_TRIAL_RUNNING);
    CHECK_INT(lifecycle_rule(LC_EXPIRED)->to, STORE_TRIAL_QUEUED);
    CHECK_INT(lifecycle_rule(LC_EXPIRED)->attempt, STORE_ATTEMPT_LOST);
    CHECK_INT(lifecycle_rule(LC_EXPIRED_LAST)->to, STORE_TRIAL_FAILED);
    CHECK_INT(lifecycle_rule(LC_PRUNED)->to, STORE_TRIAL_PRUNED);
    CHECK_INT(lifecycle_rule(LC_CANCEL)->attempt, -1);
    CHECK_INT(lifecycle_rule(LC_RESTART)->attempt, STORE_ATTEMPT_INTERRUPTED);
}

static void test_decisions(void)
{
    campaign c = {.status = STORE_CAMPAIGN_RUNNING};
    trial t = {.id = 1, .c = &c, .attempt = 2, .wire_attempt = 2, .state = TRIAL_RUNNING};

    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_DONE), LC_DONE);
    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_FAILED), LC_FAILED);
    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_STOPPED), LC_GIVEN_UP); /* unasked */
    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_INTERRUPTED), LC_GIVEN_UP);
    CHECK(lifecycle_keeps_result(LC_DONE) && lifecycle_keeps_result(LC_PRUNED));
    CHECK(!lifecycle_keeps_result(LC_GIVEN_UP) && !lifecycle_keeps_result(LC_EXPIRED));

    CHECK_INT(lifecycle_lost_event(&t, 0), LC_GIVEN_UP);
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_EXPIRED);
    /* only lost attempts count toward LIFECYCLE_MAX_ATTEMPTS: two coordinator
     * restarts (interrupted attempts) and one lost lease leave attempts */
    t.attempt = LIFECYCLE_MAX_ATTEMPTS;
    t.n_interrupted = 2;
    t.n_lost = 0;
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_EXPIRED);
    t.n_lost = LIFECYCLE_MAX_ATTEMPTS - 2;
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_EXPIRED);
    t.n_lost = LIFECYCLE_MAX_ATTEMPTS - 1; /* this lost attempt is the last one */
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_EXPIRED_LAST);
    CHECK_INT(lifecycle_lost_event(&t, 0), LC_GIVEN_UP); /* a shut-down does not count */
    /* interrupted attempts have their own, larger cap */
    t.attempt = 40;
    t.n_interrupted = LIFECYCLE_MAX_INTERRUPTED - 2;
    CHECK_INT(lifecycle_lost_event(&t, 0), LC_GIVEN_UP);
    t.n_interrupted = LIFECYCLE_MAX_INTERRUPTED - 1;
    CHECK_INT(lifecycle_lost_event(&t, 0), LC_GIVEN_UP_LAST);
    CHECK_INT(lifecycle_rule(LC_GIVEN_UP_LAST)->to, STORE_TRIAL_FAILED);
    CHECK_INT(lifecycle_rule(LC_GIVEN_UP)->attempt, STORE_ATTEMPT_INTERRUPTED);
    t.n_interrupted = 0;

    c.status = STORE_CAMPAIGN_CANCELLED;
    t.stop_reason = "cancelled";
    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_STOPPED), LC_CANCELLED);
    CHECK_INT(lifecycle_lost_event(&t, 0), LC_LOST_CANCELLED);
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_EXPIRED_LAST); /* out of attempts first */

    t.stop_reason = "pruned"; /* told to stop for the pruner: pruned, whatever came after */
    CHECK_INT(lifecycle_result_event(&t, IM_RESULT_STOPPED), LC_PRUNED);
    CHECK_INT(lifecycle_lost_event(&t, 1), LC_PRUNED);
    CHECK_STR(lifecycle_stop_reason(&t), "pruned");
}

static void test_match_and_lease(void)
{
    campaign c = {.status = STORE_CAMPAIGN_RUNNING};
    trial t = {.id = 1, .c = &c, .attempt = 3, .wire_attempt = 2, .state = TRIAL_RUNNING};
    CHECK_INT(lifecycle_match(&t, 2), LC_MATCH_CURRENT); /* the worker's number counts */
    CHECK_INT(lifecycle_match(&t, 3), LC_MATCH_STALE);
    CHECK_INT(lifecycle_match(&t, 1), LC_MATCH_STALE);

    lifecycle_renew(&t, 100, 60);
    CHECK_NEAR(lifecycle_deadline(&t), 160, 0);
    CHECK(!lifecycle_expired(&t, 159.9));
    CHECK(lifecycle_expired(&t, 160));

    t.state = TRIAL_QUEUED; /* given up, waiting */
    CHECK_INT(lifecycle_match(&t, 1), LC_MATCH_RELET);
    CHECK_INT(lifecycle_match(&t, 3), LC_MATCH_RELET);
    CHECK_INT(lifecycle_match(&t, 4), LC_MATCH_STALE);
    CHECK_INT(lifecycle_match(&t, 0), LC_MATCH_STALE);
    CHECK(isinf(lifecycle_deadline(&t)));
    CHECK(!lifecycle_expired(&t, 1e9));
    lifecycle_renew(&t, 200, 60); /* not running: no lease to renew */
    CHECK(isinf(lifecycle_deadline(&t)));
    CHECK(lifecycle_late_give_up(&t, 2, IM_RESULT_INTERRUPTED));
    CHECK(lifecycle_late_give_up(&t, 3, IM_RESULT_STOPPED));
    CHECK(!lifecycle_late_give_up(&t, 3, IM_RESULT_DONE));
    CHECK(!lifecycle_late_give_up(&t, 4, IM_RESULT_STOPPED));
}

int main(void)
{
    test_table();
    test_decisions();
    test_match_and_lease();
    return TEST_END();
}
