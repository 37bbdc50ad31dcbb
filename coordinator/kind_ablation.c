/*
 * kind_ablation.c: kind "ablation". Its first stage is the base point,
 * labelled "base", then the base with each non-zero component set to 0
 * individually, labelled with that component's short name. The successive
 * stage (components removed one after another, ordered by their individual
 * effects) is not generated yet: on_stage_end is where it goes, so the
 * campaign is done after the first stage.
 *
 * Keys:
 *   base  a gamma (preset name, list or object by atom name), or
 *         {"trial": ID}: the gamma of that done trial, resolved at
 *         submission and stored as the gamma it stands for; required
 * Default seeds_per_point: 10.
 */
#include "kind.h"

#include "campaign.h"
#include "log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

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
    json_object_set_new(o, "base",
                        c->base_trial > 0 ? json_pack("{s:I}", "trial", (json_int_t)c->base_trial)
                                          : im_number_list(c->base, c->n_terms));
}

/* A base {"trial": ID}: that trial's gamma becomes spec->base (so the
 * stored spec says what was used). Reads the done trials once, at
 * submission. Returns 0, IM_ENOTFOUND / IM_EINVAL naming the trial, IM_EDB. */
static int ablation_submit(store *st, im_campaign_spec *spec, im_error *err)
{
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

/* The first stage: the base, then each non-zero component of the base set
 * to 0, in canonical order. */
static int ablation_plan(campaign *c, store *st, im_error *err)
{
    (void)st;
    if (c->spec.base_trial > 0) /* NEVER: resolved by ablation_submit */
        return im_error_set(err, IM_EINVAL, "campaign: 'base' trial %lld was not resolved",
                            (long long)c->spec.base_trial);
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
    im_log(IM_LOG_INFO,
           "campaign %s: ablation, first stage (%d points: the base and each non-zero component "
           "set to 0); the successive stage is not generated yet",
           c->name, c->n_points);
    return 0;
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
};
