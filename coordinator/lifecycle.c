/*
 * lifecycle.c: deciding a trial's transitions (lifecycle.h's table) and
 * carrying them out through campaign.c. Workload: a few calls per message.
 */
#include "lifecycle.h"

#include "log.h"

#include <math.h>
#include <string.h>

#define STORE_ATTEMPT_NONE (-1)

static const lc_rule rules[] = {
#define LC_RULE(from, ev, to, att)                                                                 \
    {STORE_TRIAL_##from, LC_##ev, STORE_TRIAL_##to, STORE_ATTEMPT_##att},
    LIFECYCLE_TABLE(LC_RULE)
#undef LC_RULE
};

static const char *const event_names[] = {
#define LC_NAME(from, ev, to, att) #ev,
    LIFECYCLE_TABLE(LC_NAME)
#undef LC_NAME
};

const lc_rule *lifecycle_rule(lc_event event)
{
    return (unsigned)event < LC_N_EVENTS ? &rules[event] : NULL;
}

const char *lifecycle_event_name(lc_event event)
{
    return (unsigned)event < LC_N_EVENTS ? event_names[event] : "unknown";
}

int lifecycle_hand_out(campaign_set *cs, store *st, const char *worker, const json_t *backends,
                       const json_t *datasets, int64_t max_memory, double now, double lease_s,
                       trial **out, im_error *err)
{
    return campaign_hand_out(cs, st, worker, backends, datasets, max_memory, now, lease_s, out,
                             err);
}

lc_match lifecycle_match(const trial *t, int attempt)
{
    if (t->state == TRIAL_RUNNING)
        return t->wire_attempt == attempt ? LC_MATCH_CURRENT : LC_MATCH_STALE;
    return attempt >= 1 && attempt <= t->attempt ? LC_MATCH_RELET : LC_MATCH_STALE;
}

int lifecycle_relet(campaign_set *cs, store *st, trial *t, const char *worker, int wire_attempt,
                    double now, double lease_s, im_error *err)
{
    return campaign_trial_relet(cs, st, t, worker, wire_attempt, now, lease_s, err);
}

void lifecycle_renew(trial *t, double now, double lease_s)
{
    if (t->state == TRIAL_RUNNING) t->deadline = now + lease_s;
}

void lifecycle_progress(trial *t, int epoch, double val_acc)
{
    campaign_trial_progress(t, epoch, val_acc);
}

const char *lifecycle_stop_reason(const trial *t)
{
    return t->stop_reason;
}

int lifecycle_expired(const trial *t, double now)
{
    return t->state == TRIAL_RUNNING && t->deadline <= now;
}

double lifecycle_deadline(const trial *t)
{
    return t->state == TRIAL_RUNNING ? t->deadline : INFINITY;
}

static int told_to_stop(const trial *t, const char *reason)
{
    return t->stop_reason && strcmp(t->stop_reason, reason) == 0;
}

int lifecycle_late_give_up(const trial *t, int attempt, im_result_status status)
{
    return t->state == TRIAL_QUEUED && attempt >= 1 && attempt <= t->attempt &&
           (status == IM_RESULT_INTERRUPTED || status == IM_RESULT_STOPPED);
}

lc_event lifecycle_result_event(const trial *t, im_result_status status)
{
    switch (status) {
    case IM_RESULT_DONE: return LC_DONE;
    case IM_RESULT_FAILED: return LC_FAILED;
    case IM_RESULT_STOPPED:
        if (told_to_stop(t, "pruned")) return LC_PRUNED;
        if (t->c->status == STORE_CAMPAIGN_CANCELLED) return LC_CANCELLED;
        return LC_GIVEN_UP; /* stopped without being asked: as an interruption */
    case IM_RESULT_INTERRUPTED: break;
    }
    return LC_GIVEN_UP;
}

int lifecycle_keeps_result(lc_event event)
{
    return event == LC_DONE || event == LC_FAILED || event == LC_PRUNED || event == LC_CANCELLED;
}

int lifecycle_result(campaign_set *cs, store *st, trial *t, im_result_status status,
                     store_trial_result *r, const double *val_by_epoch, int n_epochs, im_error *err)
{
    lc_event event = lifecycle_result_event(t, status);
    if (!lifecycle_keeps_result(event))
        return lifecycle_lost(cs, st, t,
                              status == IM_RESULT_STOPPED ? "stopped by the worker unasked"
                                                          : "interrupted: the worker shut down",
                              0, err);
    r->status = lifecycle_rule(event)->to;
    if (event == LC_FAILED && !r->error)
        r->error = "the worker reported a failure without a message";
    return campaign_trial_finish(cs, st, t, r, val_by_epoch, n_epochs, err);
}

lc_event lifecycle_lost_event(const trial *t, int expired)
{
    if (told_to_stop(t, "pruned")) return LC_PRUNED;
    if (expired && t->n_lost + 1 >= LIFECYCLE_MAX_ATTEMPTS) return LC_EXPIRED_LAST;
    if (!expired && t->n_interrupted + 1 >= LIFECYCLE_MAX_INTERRUPTED) return LC_GIVEN_UP_LAST;
    if (t->c->status == STORE_CAMPAIGN_CANCELLED) return LC_LOST_CANCELLED;
    return expired ? LC_EXPIRED : LC_GIVEN_UP;
}

int lifecycle_lost(campaign_set *cs, store *st, trial *t, const char *reason, int expired,
                   im_error *err)
{
    if (t->state != TRIAL_RUNNING)
        return im_error_set(err, IM_EINVAL, "trial %lld is not running", (long long)t->id);
    lc_event event = lifecycle_lost_event(t, expired);
    if (event == LC_PRUNED) {
        /* told to stop for the pruner: it ends pruned, whatever came after */
        store_trial_result r = {.status = STORE_TRIAL_PRUNED,
                                .val_acc = NAN,
                                .test_acc = NAN,
                                .wall_s = NAN,
                                .error = reason};
        return campaign_trial_finish(cs, st, t, &r, NULL, 0, err);
    }
    char why[256];
    if (event == LC_EXPIRED_LAST || event == LC_GIVEN_UP_LAST) {
        snprintf(why, sizeof why, "%s (failed after %d %s attempts)", reason,
                 event == LC_EXPIRED_LAST ? LIFECYCLE_MAX_ATTEMPTS : LIFECYCLE_MAX_INTERRUPTED,
                 event == LC_EXPIRED_LAST ? "lost" : "interrupted");
        im_log(IM_LOG_WARN, "trial %lld (campaign %s): failed after %d attempts: %s",
               (long long)t->id, t->c->name, t->attempt, why);
        reason = why;
    }
    const lc_rule *rule = lifecycle_rule(event);
    return campaign_trial_lost(cs, st, t, reason, rule->to, (store_attempt_status)rule->attempt,
                               err);
}

int lifecycle_cancel(campaign_set *cs, store *st, campaign *c, int64_t *n_cancelled, im_error *err)
{
    return campaign_cancel(cs, st, c, n_cancelled, err);
}
