/*
 * kind_ablation.c: kind "ablation", the paper's two-stage ablation study.
 *
 * Stage 1 (trials.stage "base" and "individual"): the base point, labelled
 * "base", then the base with each non-zero component set to 0 individually,
 * labelled with that component's short name.
 * Stage 2 ("successive"), planned when every stage 1 trial has ended: the
 * components set to 0 cumulatively, in the order of increasing individual
 * effect (the least harmful first: the largest mean change of validation
 * accuracy against the base's mean), step k zeroing the first k of them,
 * k = 1 .. all; a step is labelled with the component it adds (the view
 * ablation_successive lists the components removed so far). An individual
 * ablation with no done seed ranks last (its effect is unknown); ties keep
 * the canonical order. Every point runs seeds_per_point seeds.
 *
 * Stage 2 is computed from the stored results of stage 1, which are final
 * once it starts, so a restart during stage 2 plans the same points again
 * (the points already created keep their trials).
 *
 * Chained: with "base": {"campaign": NAME} the ablation waits (its status,
 * also in the store, is "waiting") until campaign NAME is done, then takes its best point
 * (the largest mean val_acc over the point's done seeds; the lower point
 * number on ties) as the base. If NAME is cancelled or ends with no done
 * trial, the ablation is cancelled, saying why. NAME must exist at
 * submission. The stored spec keeps {"campaign": NAME}; at a restart the
 * base is taken again from NAME's stored results, which are final.
 *
 * Keys:
 *   base  a gamma (preset name, list or object by atom name), or
 *         {"trial": ID}: the gamma of that done trial, resolved at
 *         submission and stored as the gamma it stands for, or
 *         {"campaign": NAME}: that campaign's best point, once it is done;
 *         required
 * Default seeds_per_point: 10.
 */
#include "kind.h"

#include "campaign.h"
#include "log.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kind's state (c->kind_data). */
typedef struct ablation_state {
    int n_first; /* points of stage 1: the base and the individual ablations */
    int waiting; /* 1: for spec.base_campaign to be done (no points yet) */
} ablation_state;

static const char *const ablation_keys[] = {"base", NULL};

static void ablation_defaults(im_campaign_spec *c)
{
    c->seeds_per_point = 10;
}

static int ablation_parse(im_campaign_spec *c, const json_t *obj, const im_lattice *lat,
                          im_error *err)
{
    const json_t *v = json_object_get(obj, "base");
    if (!v)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'base' is required for kind 'ablation' (a gamma or "
                            "{\"trial\": ID})");
    const json_t *by_campaign = json_is_object(v) ? json_object_get(v, "campaign") : NULL;
    if (by_campaign) {
        const char *name = json_string_value(by_campaign);
        if (json_object_size(v) != 1)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'base' is one of {\"campaign\": NAME}, {\"trial\": ID} "
                                "or a gamma");
        if (!name || !im_spec_name_valid(name, IM_CAMPAIGN_NAME_MAX))
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'base.campaign' must be a campaign name, not %s",
                                name ? "an invalid name" : im_json_kind(by_campaign));
        snprintf(c->base_campaign, sizeof c->base_campaign, "%s", name);
        return 0;
    }
    const json_t *by_trial = json_is_object(v) ? json_object_get(v, "trial") : NULL;
    if (by_trial) {
        if (json_object_size(v) != 1)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'base' is either {\"trial\": ID} or a gamma, not both");
        long long id;
        int rc = im_json_read_int(by_trial, "campaign", "base.trial", 1, LLONG_MAX, &id, err);
        if (rc) return rc;
        c->base_trial = (int64_t)id;
        return 0;
    }
    return im_gamma_from_json(v, lat->k, "campaign", "base", c->base, c->base_preset, err);
}

static void ablation_to_json(const im_campaign_spec *c, const im_lattice *lat, json_t *o)
{
    (void)lat;
    json_t *base = c->base_campaign[0] ? json_pack("{s:s}", "campaign", c->base_campaign)
                   : c->base_trial > 0 ? json_pack("{s:I}", "trial", (json_int_t)c->base_trial)
                                       : im_number_list(c->base, c->n_terms);
    json_object_set_new(o, "base", base);
}

/* A base {"trial": ID}: that trial's gamma becomes spec->base (so the
 * stored spec says what was used). Reads the done trials once, at
 * submission. Returns 0, IM_ENOTFOUND / IM_EINVAL naming the trial, IM_EDB. */
static int ablation_submit(store *st, im_campaign_spec *spec, im_error *err)
{
    if (spec->base_campaign[0]) {
        store_campaign sc;
        int rc = store_campaign_find(st, spec->base_campaign, &sc, err);
        if (rc == IM_ENOTFOUND)
            return im_error_set(err, IM_ENOTFOUND,
                                "campaign: 'base.campaign' '%s' does not exist (submit it first)",
                                spec->base_campaign);
        if (rc) return rc;
        int cancelled = sc.status == STORE_CAMPAIGN_CANCELLED || sc.status == STORE_CAMPAIGN_FAILED;
        store_campaign_release(&sc);
        if (cancelled)
            return im_error_set(
                err, IM_EINVAL,
                "campaign: 'base.campaign' '%s' was cancelled: it has no best point "
                "to ablate",
                spec->base_campaign);
        if (!strcmp(spec->base_campaign, spec->name))
            return im_error_set(err, IM_EINVAL, "campaign: 'base.campaign' names itself");
        return 0;
    }
    if (spec->base_trial <= 0) return 0;
    store_trial *tr = NULL;
    size_t n = 0;
    int rc = store_trial_list(st, 0, STORE_MASK(STORE_TRIAL_DONE), STORE_WITH_PARAMS, &tr, &n, err);
    if (rc) return rc;
    const store_trial *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (tr[i].id == spec->base_trial) found = &tr[i];
    im_lattice lat;
    if (!found) {
        rc = im_error_set(err, IM_ENOTFOUND, "campaign: 'base.trial' %lld is not a done trial",
                          (long long)spec->base_trial);
    } else if ((rc = im_lattice_init(&lat, spec->n_terms == 5 ? 2 : 3, err)) == 0) {
        for (int i = 0; i < spec->n_terms; i++) spec->base[i] = 0;
        size_t matched = 0;
        for (size_t i = 0; i < found->n_params; i++) {
            int k = im_lattice_find(&lat, found->params[i].name);
            if (k >= 0 && k < spec->n_terms) {
                spec->base[k] = found->params[i].value;
                matched++;
            }
        }
        if (matched != found->n_params || (int)matched != spec->n_terms)
            rc = im_error_set(err, IM_EINVAL,
                              "campaign: 'base.trial' %lld has %zu gamma components, this "
                              "campaign's setup needs %d",
                              (long long)spec->base_trial, found->n_params, spec->n_terms);
        spec->base_trial = 0;
        spec->base_preset[0] = '\0';
    }
    store_trials_free(&tr, n);
    return rc;
}

/* The best point of the done campaign `id` into c->spec.base: 0, 1 when it
 * has no done trial (err says so), or IM_EDB. */
static int best_point(campaign *c, store *st, int64_t id, im_error *err)
{
    store_trial *tr = NULL;
    size_t n = 0;
    int rc =
        store_trial_list(st, id, STORE_MASK(STORE_TRIAL_DONE), STORE_WITH_PARAMS, &tr, &n, err);
    if (rc) return rc;
    /* trials by number; a point's seeds need not be adjacent: sum per point */
    int best = -1, max_point = -1;
    for (size_t i = 0; i < n; i++)
        if (tr[i].point > max_point) max_point = tr[i].point;
    double *sum = im_xcalloc((size_t)max_point + 1, sizeof *sum);
    int *cnt = im_xcalloc((size_t)max_point + 1, sizeof *cnt);
    size_t *first = im_xcalloc((size_t)max_point + 1, sizeof *first);
    for (size_t i = 0; i < n; i++) {
        if (tr[i].point < 0 || !isfinite(tr[i].val_acc)) continue;
        if (!cnt[tr[i].point]) first[tr[i].point] = i;
        sum[tr[i].point] += tr[i].val_acc;
        cnt[tr[i].point]++;
    }
    for (int p = 0; p <= max_point; p++)
        if (cnt[p] && (best < 0 || sum[p] / cnt[p] > sum[best] / cnt[best])) best = p;
    if (best < 0) {
        rc = 1;
        im_error_set(err, IM_EINVAL, "its base campaign '%s' ended with no done trial",
                     c->spec.base_campaign);
    } else {
        const store_trial *t = &tr[first[best]];
        size_t matched = 0;
        for (int i = 0; i < c->spec.n_terms; i++) c->spec.base[i] = 0;
        for (size_t i = 0; i < t->n_params; i++) {
            int k = im_lattice_find(&c->lat, t->params[i].name);
            if (k >= 0 && k < c->spec.n_terms) {
                c->spec.base[k] = t->params[i].value;
                matched++;
            }
        }
        if ((int)matched != c->spec.n_terms) {
            rc = 1;
            im_error_set(err, IM_EINVAL,
                         "the best point of its base campaign '%s' has %zu gamma components, this "
                         "campaign's setup needs %d",
                         c->spec.base_campaign, matched, c->spec.n_terms);
        } else {
            im_log(IM_LOG_INFO,
                   "campaign %s: the base is point %d of campaign %s (mean val_acc %.4f over %d "
                   "seeds)",
                   c->name, best, c->spec.base_campaign, sum[best] / cnt[best], cnt[best]);
        }
    }
    free(sum);
    free(cnt);
    free(first);
    store_trials_free(&tr, n);
    return rc;
}

static int plan_first_stage(campaign *c, im_error *err);

/* The first stage, or, for a chained ablation whose base campaign is not
 * done yet, nothing (it waits). */
static int ablation_plan(campaign *c, store *st, im_error *err)
{
    if (c->spec.base_trial > 0) /* NEVER: resolved by ablation_submit */
        return im_error_set(err, IM_EINVAL, "campaign: 'base' trial %lld was not resolved",
                            (long long)c->spec.base_trial);
    ablation_state *as = im_xcalloc(1, sizeof *as);
    c->kind_data = as;
    if (c->spec.base_campaign[0]) {
        store_campaign sc;
        int rc = store_campaign_find(st, c->spec.base_campaign, &sc, err);
        if (rc) return rc == IM_ENOTFOUND ? IM_EINVAL : rc;
        store_campaign_status status = sc.status;
        int64_t id = sc.id;
        store_campaign_release(&sc);
        if (status != STORE_CAMPAIGN_DONE) { /* queued, running; cancelled: NEVER */
            as->waiting = 1;
            c->n_points = 0;
            im_log(IM_LOG_INFO, "campaign %s: waiting for campaign %s to be done", c->name,
                   c->spec.base_campaign);
            return 0;
        }
        rc = best_point(c, st, id, err);
        if (rc) return rc == 1 ? IM_EINVAL : rc;
    }
    return plan_first_stage(c, err);
}

static int plan_first_stage(campaign *c, im_error *err)
{
    (void)err;
    ablation_state *as = c->kind_data;
    int nt = c->spec.n_terms;
    c->points = im_xmalloc_array((size_t)nt + 1, (size_t)nt * sizeof *c->points);
    c->labels = im_xcalloc((size_t)nt + 1, sizeof *c->labels);
    memcpy(c->points, c->spec.base, (size_t)nt * sizeof *c->points);
    snprintf(c->labels[0], sizeof c->labels[0], "base");
    int n = 1;
    for (int i = 0; i < nt; i++) {
        if (c->spec.base[i] == 0) continue; /* zeroing it would repeat the base */
        double *g = c->points + (size_t)n * nt;
        memcpy(g, c->spec.base, (size_t)nt * sizeof *g);
        g[i] = 0;
        snprintf(c->labels[n], sizeof c->labels[n], "%s", c->lat.short_name[i]);
        n++;
    }
    c->n_points = n;
    as->n_first = n;
    as->waiting = 0;
    im_log(IM_LOG_INFO,
           "campaign %s: ablation, first stage (%d points: the base and each non-zero component "
           "set to 0)",
           c->name, c->n_points);
    return 0;
}

static const char *ablation_stage(const campaign *c, int p)
{
    const ablation_state *as = c->kind_data;
    if (p == 0) return "base";
    return !as || p < as->n_first ? "individual" : "successive";
}

typedef struct effect {
    int point; /* stage 1 point (1 .. n_first-1) */
    int comp;  /* the component it zeroes */
    int n;     /* done seeds */
    double mean;
} effect;

/* Least harmful first: the larger mean first, unknown effects last, then the
 * canonical order. */
static int cmp_effect(const void *a, const void *b)
{
    const effect *x = a, *y = b;
    if (x->n && y->n && x->mean != y->mean) return x->mean > y->mean ? -1 : 1;
    if (!x->n != !y->n) return x->n ? -1 : 1;
    return (x->comp > y->comp) - (x->comp < y->comp);
}

/* Stage 1 ended: plan stage 2 (returns 1), or, when it was planned (and
 * is now over), the campaign is done (0). */
static int ablation_stage_end(campaign *c, store *st, im_error *err)
{
    ablation_state *as = c->kind_data;
    if (as && as->waiting) return 1;                /* for its base campaign */
    if (!as || c->n_points > as->n_first) return 0; /* stage 2 is over */
    int nt = c->spec.n_terms, n_ind = as->n_first - 1;
    if (n_ind < 1) return 0; /* a base of zeros: nothing to remove */
    store_trial *tr = NULL;
    size_t n = 0;
    int rc = store_trial_list(st, c->id, STORE_MASK(STORE_TRIAL_DONE), 0, &tr, &n, err);
    if (rc) return rc;
    double sum[IM_MAX_TERMS + 1] = {0};
    int cnt[IM_MAX_TERMS + 1] = {0};
    for (size_t i = 0; i < n; i++)
        if (tr[i].point >= 0 && tr[i].point < as->n_first && isfinite(tr[i].val_acc)) {
            sum[tr[i].point] += tr[i].val_acc;
            cnt[tr[i].point]++;
        }
    store_trials_free(&tr, n);
    effect e[IM_MAX_TERMS];
    for (int p = 1; p <= n_ind; p++) {
        const double *g = c->points + (size_t)p * nt;
        int comp = 0;
        while (comp < nt && g[comp] == c->spec.base[comp]) comp++;
        e[p - 1] = (effect){
            .point = p, .comp = comp, .n = cnt[p], .mean = cnt[p] ? sum[p] / cnt[p] : (double)NAN};
    }
    qsort(e, (size_t)n_ind, sizeof *e, cmp_effect);
    int total = as->n_first + n_ind;
    c->points = im_xrealloc(c->points, (size_t)total * (size_t)nt * sizeof *c->points);
    c->labels = im_xrealloc(c->labels, (size_t)total * sizeof *c->labels);
    double g[IM_MAX_TERMS];
    memcpy(g, c->spec.base, (size_t)nt * sizeof *g);
    char order[512] = "";
    for (int k = 0; k < n_ind; k++) {
        int comp = e[k].comp < nt ? e[k].comp : 0; /* NEVER: each zeroes one */
        g[comp] = 0;
        int p = as->n_first + k;
        memcpy(c->points + (size_t)p * nt, g, (size_t)nt * sizeof *g);
        snprintf(c->labels[p], sizeof c->labels[p], "%s", c->lat.short_name[comp]);
        size_t len = strlen(order);
        snprintf(order + len, sizeof order - len, "%s%s", k ? ", " : "", c->lat.short_name[comp]);
    }
    c->n_points = total;
    if (c->next_point >= c->n_points) return 0; /* created and ended before a restart */
    im_log(IM_LOG_INFO,
           "campaign %s: ablation, successive stage (%d points, components set to 0 in this "
           "order: %s)",
           c->name, n_ind, order);
    return 1;
}

/* Campaign `name` ended: if it is this one's base, take its best point and
 * plan the first stage, or ask to be cancelled. */
static int ablation_campaign_ended(campaign *c, store *st, const char *name, int64_t id,
                                   store_campaign_status status, im_error *err)
{
    ablation_state *as = c->kind_data;
    if (!as || !as->waiting || strcmp(name, c->spec.base_campaign) != 0) return 0;
    if (status != STORE_CAMPAIGN_DONE) {
        im_error_set(err, IM_EINVAL, "its base campaign '%s' was %s", name,
                     store_campaign_status_name(status));
        return 1;
    }
    int rc = best_point(c, st, id, err);
    if (rc) return rc;
    rc = plan_first_stage(c, err);
    if (rc) return rc;
    char detail[160];
    snprintf(detail, sizeof detail, "base: the best point of campaign %s", name);
    return store_event(st, "campaign_base", c->id, 0, NULL, detail, err);
}

static const char *ablation_waiting_for(const campaign *c)
{
    const ablation_state *as = c->kind_data;
    return as && as->waiting ? c->spec.base_campaign : NULL;
}

static void ablation_release(campaign *c)
{
    free(c->kind_data);
    c->kind_data = NULL;
}

const kind_def kind_ablation = {
    .name = "ablation",
    .keys = ablation_keys,
    .varies_gamma = 1,
    .defaults = ablation_defaults,
    .parse = ablation_parse,
    .to_json = ablation_to_json,
    .submit = ablation_submit,
    .plan = ablation_plan,
    .point = kind_point_from_list,
    .stage = ablation_stage,
    .on_stage_end = ablation_stage_end,
    .on_campaign_ended = ablation_campaign_ended,
    .waiting_for = ablation_waiting_for,
    .release = ablation_release,
};
