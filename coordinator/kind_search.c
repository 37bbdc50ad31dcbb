/*
 * kind_search.c: kind "search", a sampler proposes `budget` points in a box
 * of gammas.
 *
 * Keys:
 *   space    object by atom short name: a number (that component fixed) or
 *            [low, high]; default: atoms in [-1, 1], h_res fixed at 0. At
 *            least one component must vary.
 *   sampler  a sampler name or {"name": ..., options} (sampler.h; "seed"
 *            may be given there too, and must then agree with "seed");
 *            default "random"
 *   budget   points to propose, 1..1000000, required
 *   seed     the sampler's seed, integer >= 0, default 0
 * The space becomes the sampler's parameters: one float per component,
 * named by its short name (search_space).
 *
 * With backend "exec" the space names any parameters, typed as Optuna's
 * distributions (sampler.h, param_from_json): {"lr": {"float": [1e-4,
 * 0.1], "log": true}, "layers": {"int": [1, 4]}, "act": {"categorical":
 * ["relu", "tanh"]}, "dropout": [0, 0.5], "wd": 0}; it is required and at
 * least one parameter must vary.
 */
#include "kind.h"

#include "campaign.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define MAX_BUDGET 1000000

static const char *const search_keys[] = {"space", "sampler", "budget", "seed", NULL};

/* "space": per name a number (fixed) or [low, high], over the default. */
static int parse_space(im_campaign_spec *c, const json_t *v, const im_lattice *lat, im_error *err)
{
    if (!json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'space' must be an object by atom name, not %s",
                            im_json_kind(v));
    int seen[IM_MAX_TERMS] = {0};
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        int i = im_lattice_find(lat, key);
        if (i < 0)
            return im_error_set(err, IM_EFORMAT, "campaign: 'space': unknown atom '%s' (k = %d)",
                                key, lat->k);
        const char *name = lat->short_name[i];
        if (seen[i])
            return im_error_set(err, IM_EFORMAT, "campaign: 'space': atom '%s' is given twice",
                                name);
        seen[i] = 1;
        double lo, hi;
        if (json_is_number(x)) {
            lo = hi = json_number_value(x);
        } else if (json_is_array(x) && json_array_size(x) == 2 &&
                   json_is_number(json_array_get(x, 0)) && json_is_number(json_array_get(x, 1))) {
            lo = json_number_value(json_array_get(x, 0));
            hi = json_number_value(json_array_get(x, 1));
        } else {
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'space.%s' must be a number (fixed) or [low, high] (two "
                                "numbers), not %s",
                                name, im_json_kind(x));
        }
        if (!isfinite(lo) || !isfinite(hi))
            return im_error_set(err, IM_ERANGE, "campaign: 'space.%s' must be finite", name);
        if (lo > hi)
            return im_error_set(err, IM_ERANGE, "campaign: 'space.%s': low %g > high %g", name, lo,
                                hi);
        c->space_low[i] = lo;
        c->space_high[i] = hi;
    }
    return 0;
}

/* "sampler.seed": the campaign's seed, given a second time. */
static int sampler_seed(void *target, const char *key, const json_t *v, const char *field,
                        im_error *err)
{
    (void)key;
    sampler_parse *sp = target;
    long long seed;
    int rc = im_json_read_int(v, "campaign", field, 0, LLONG_MAX, &seed, err);
    if (rc) return rc;
    if (sp->seed_given && sp->spec->seed != (uint64_t)seed)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'sampler.seed' (%lld) contradicts 'seed' (%llu)", seed,
                            (unsigned long long)sp->spec->seed);
    sp->spec->seed = (uint64_t)seed;
    sp->seed_given = 1;
    return 0;
}

/* An exec campaign's "space": named, typed parameters into c->params. */
static int parse_params(im_campaign_spec *c, const json_t *v, im_error *err)
{
    if (!v)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'space' is required for backend \"exec\" (its "
                            "parameters by name)");
    if (!json_is_object(v) || json_object_size(v) == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'space' must be a non-empty object by parameter name, not "
                            "%s",
                            im_json_kind(v));
    c->params = im_xcalloc(1, sizeof *c->params);
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        char field[96];
        snprintf(field, sizeof field, "space.%.60s", key);
        param_def p;
        int rc = param_from_json(&p, key, x, field, err);
        if (rc) return rc;
        if (c->params->n >= SAMPLER_MAX_PARAMS)
            return im_error_set(err, IM_ERANGE, "campaign: 'space' has more than %d parameters",
                                SAMPLER_MAX_PARAMS);
        c->params->p[c->params->n++] = p;
    }
    return 0;
}

static int search_parse(im_campaign_spec *c, const json_t *obj, const im_lattice *lat,
                        im_error *err)
{
    const json_t *v;
    int rc;
    for (int i = 0; i < c->n_terms - 1; i++) c->space_low[i] = -1, c->space_high[i] = 1;
    int free_dims = 0;
    if (c->backend == IM_BACKEND_EXEC) {
        if ((rc = parse_params(c, json_object_get(obj, "space"), err))) return rc;
        for (int i = 0; i < c->params->n; i++) free_dims += c->params->p[i].type != PARAM_FIXED;
    } else {
        if ((v = json_object_get(obj, "space")) && (rc = parse_space(c, v, lat, err))) return rc;
        for (int i = 0; i < c->n_terms; i++) free_dims += c->space_low[i] < c->space_high[i];
    }
    if (free_dims == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'space' fixes every component; there is nothing to search");
    sampler_parse sp = {.spec = c, .seed_given = 0};
    if ((v = json_object_get(obj, "seed"))) {
        long long seed;
        if ((rc = im_json_read_int(v, "campaign", "seed", 0, LLONG_MAX, &seed, err))) return rc;
        c->seed = (uint64_t)seed;
        sp.seed_given = 1;
    }
    if ((v = json_object_get(obj, "sampler"))) {
        opt_family fam;
        int index = 0;
        sampler_family(&fam, sampler_seed);
        if ((rc = opt_parse_named(&fam, v, &sp, &index, err))) return rc;
        c->sampler = (im_sampler_kind)index;
    }
    v = json_object_get(obj, "budget");
    if (!v)
        return im_error_set(err, IM_EFORMAT, "campaign: 'budget' is required for kind 'search'");
    return im_json_read_int32(v, "campaign", "budget", 1, MAX_BUDGET, &c->budget, err);
}

static void search_to_json(const im_campaign_spec *c, const im_lattice *lat, json_t *o)
{
    json_t *space = json_object();
    for (int i = 0; c->params && i < c->params->n; i++)
        json_object_set_new(space, c->params->p[i].name, param_to_json(&c->params->p[i]));
    for (int i = 0; !c->params && i < c->n_terms; i++) {
        json_t *x = c->space_low[i] == c->space_high[i]
                        ? json_real(c->space_low[i])
                        : json_pack("[f, f]", c->space_low[i], c->space_high[i]);
        json_object_set_new(space, lat->short_name[i], x);
    }
    json_object_set_new(o, "space", space);
    json_t *smp = json_pack("{s:s}", "name", im_sampler_name(c->sampler));
    const sampler_def *d = sampler_def_at((int)c->sampler);
    if (d && d->options_to_json) d->options_to_json(c, smp);
    json_object_set_new(o, "sampler", smp);
    json_object_set_new(o, "budget", json_integer(c->budget));
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
}

static const char *search_sampler_name(const im_campaign_spec *c)
{
    return im_sampler_name(c->sampler);
}

int search_space(const im_campaign_spec *c, param_space *out, im_error *err)
{
    memset(out, 0, sizeof *out);
    if (c->backend == IM_BACKEND_EXEC) {
        if (!c->params) return im_error_set(err, IM_EINVAL, "sampler: no parameters");
        for (int i = 0; i < c->params->n; i++) {
            int rc = param_space_add(out, &c->params->p[i], err);
            if (rc) return rc;
        }
        return 0;
    }
    im_lattice lat;
    int rc = im_lattice_init(&lat, c->n_terms == 5 ? 2 : 3, err);
    if (rc) return rc;
    if (c->n_terms != lat.n + 1)
        return im_error_set(err, IM_EINVAL, "sampler: %d gamma terms", c->n_terms);
    for (int i = 0; i < c->n_terms; i++) {
        if (!(c->space_low[i] <= c->space_high[i]))
            return im_error_set(err, IM_EINVAL, "sampler: space component %d has low > high", i);
        param_def p = {.type = c->space_low[i] == c->space_high[i] ? PARAM_FIXED : PARAM_FLOAT,
                       .low = c->space_low[i],
                       .high = c->space_high[i],
                       .value = c->space_low[i]};
        snprintf(p.name, sizeof p.name, "%s", lat.short_name[i]);
        if ((rc = param_space_add(out, &p, err))) return rc;
    }
    return 0;
}

void search_gamma(const im_campaign_spec *c, const sampler_point *x, double *gamma)
{
    int n = im_campaign_n_values(c);
    for (int i = 0; i < n; i++) gamma[i] = x->v[i];
}

static int search_plan(campaign *c, store *st, im_error *err)
{
    (void)st;
    int rc = sampler_new(&c->smp, &c->spec, err);
    if (rc) return rc;
    c->n_points = c->spec.budget;
    return 0;
}

static int search_point(campaign *c, int p, double *gamma, char *label, im_error *err)
{
    sampler_point x;
    const sampler_point *pending = NULL;
    int n_pending = campaign_pending(c, &pending);
    int rc = sampler_suggest(c->smp, p, pending, n_pending, &x, err);
    if (rc) return rc;
    search_gamma(&c->spec, &x, gamma);
    label[0] = '\0';
    return 0;
}

static int search_wants_history(const campaign *c)
{
    return c->smp && sampler_wants_history(c->smp);
}

static void search_point_end(campaign *c, const sampler_point *x, double value, point_state state)
{
    sampler_observe(c->smp, x, value, state);
}

const kind_def kind_search = {
    .name = "search",
    .keys = search_keys,
    .varies_gamma = 1,
    .runs_exec = 1,
    .parse = search_parse,
    .to_json = search_to_json,
    .sampler_name = search_sampler_name,
    .plan = search_plan,
    .point = search_point,
    .wants_history = search_wants_history,
    .on_point_end = search_point_end,
};
