/*
 * spec.c: campaign specs, JSON <-> struct (spec.h). The trial spec inside a
 * campaign ("train") and the gammas are read by spec_json.c's readers.
 *
 * Parsing is a two-pass affair: first every key of the object is checked
 * against the known keys (so a typo is reported as such, with a suggestion),
 * then each known key is read in a fixed order, then the rules that involve
 * several keys are checked last, so the order of keys in a file never
 * matters. All parsing works on a copy and stores it only on success.
 *
 * Messages start with "campaign: " (or "campaign: 'train': ") and name the
 * field in quotes. Wrong types and unknown names give IM_EFORMAT, values out
 * of their range IM_ERANGE.
 *
 * Workload: a few specs per campaign; nothing here is performance-critical.
 */
#include "spec.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* ---- campaign spec ------------------------------------------------------ */

static const char *const campaign_keys[] = {
    "name", "kind", "train",           "space",    "sampler", "budget", "points",
    "base", "seed", "seeds_per_point", "priority", "pruner",  "user",   NULL,
};

static const char *const kind_names[] = {"search", "fixed", "ablation"};
static const char *const sampler_names[] = {"random", "tpe"};
static const char *const pruner_names[] = {"none", "median"};

#define MAX_BUDGET   1000000
#define MAX_POINTS   100000
#define MAX_SEEDS    1000
#define MAX_PRIORITY 1000000

const char *im_campaign_kind_name(im_campaign_kind kind)
{
    return (unsigned)kind < 3 ? kind_names[kind] : "unknown";
}

const char *im_sampler_name(im_sampler_kind sampler)
{
    return (unsigned)sampler < 2 ? sampler_names[sampler] : "unknown";
}

const char *im_pruner_name(im_pruner_kind pruner)
{
    return (unsigned)pruner < 2 ? pruner_names[pruner] : "unknown";
}

/* Which kind uses a kind-specific key; -1 for keys every kind accepts. */
static int key_kind(const char *key)
{
    if (!strcmp(key, "space") || !strcmp(key, "sampler") || !strcmp(key, "budget") ||
        !strcmp(key, "seed"))
        return IM_CAMPAIGN_SEARCH;
    if (!strcmp(key, "points")) return IM_CAMPAIGN_FIXED;
    if (!strcmp(key, "base")) return IM_CAMPAIGN_ABLATION;
    return -1;
}

void im_campaign_spec_release(im_campaign_spec *spec)
{
    if (!spec) return;
    free(spec->points);
    free(spec->point_presets);
    json_decref(spec->user);
    spec->points = NULL;
    spec->point_presets = NULL;
    spec->user = NULL;
    spec->n_points = 0;
}

static void campaign_defaults(im_campaign_spec *c)
{
    memset(c, 0, sizeof *c);
    im_train_spec_default(&c->train);
    c->sampler = IM_SAMPLER_RANDOM;
    c->tpe.n_startup_trials = 10;
    c->tpe.n_ei_candidates = 24;
    c->tpe.multivariate = 1;
    c->tpe.constant_liar = 1;
    c->tpe.consider_endpoints = 0;
    c->pruner.kind = IM_PRUNER_NONE;
    c->pruner.n_startup_trials = 5;
    c->pruner.n_warmup_epochs = 0;
    c->seeds_per_point = 1;
}

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

static const char *const tpe_keys[] = {
    "name",         "seed",          "n_startup_trials",   "n_ei_candidates",
    "multivariate", "constant_liar", "consider_endpoints", NULL,
};

/* "sampler": "random" | "tpe" | {"name": ..., options}. sampler.seed is the
 * campaign's seed (*seed_given tells whether one was given). */
static int parse_sampler(im_campaign_spec *c, const json_t *v, int *seed_given, im_error *err)
{
    const json_t *name = json_is_string(v) ? v : NULL;
    if (!name && !json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'sampler' must be an object {\"name\": ...} or a sampler "
                            "name, not %s",
                            im_json_kind(v));
    if (json_is_object(v)) {
        int rc = im_json_check_keys(v, tpe_keys, "campaign: 'sampler'", err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'sampler.name' is required (random or tpe)");
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: 'sampler.name' must be a string, not %s",
                            im_json_kind(name));
    const char *s = json_string_value(name);
    if (!strcmp(s, "random"))
        c->sampler = IM_SAMPLER_RANDOM;
    else if (!strcmp(s, "tpe"))
        c->sampler = IM_SAMPLER_TPE;
    else
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'sampler': unknown sampler '%s' (known: random, tpe)", s);
    if (!json_is_object(v)) return 0;

    const char *key;
    json_t *x;
    int rc;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!strcmp(key, "name")) continue;
        if (!strcmp(key, "seed")) {
            long long seed;
            if ((rc = im_json_read_int(x, "campaign", "sampler.seed", 0, LLONG_MAX, &seed, err)))
                return rc;
            if (*seed_given && c->seed != (uint64_t)seed)
                return im_error_set(err, IM_EFORMAT,
                                    "campaign: 'sampler.seed' (%lld) contradicts 'seed' (%llu)",
                                    seed, (unsigned long long)c->seed);
            c->seed = (uint64_t)seed;
            *seed_given = 1;
            continue;
        }
        char field[64];
        snprintf(field, sizeof field, "sampler.%s", key);
        if (c->sampler != IM_SAMPLER_TPE)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s' is an option of sampler 'tpe', not '%s'", field, s);
        if (!strcmp(key, "n_startup_trials"))
            rc = im_json_read_int32(x, "campaign", field, 0, MAX_BUDGET, &c->tpe.n_startup_trials,
                                    err);
        else if (!strcmp(key, "n_ei_candidates"))
            rc = im_json_read_int32(x, "campaign", field, 1, 100000, &c->tpe.n_ei_candidates, err);
        else if (!strcmp(key, "multivariate"))
            rc = im_json_read_bool(x, "campaign", field, &c->tpe.multivariate, err);
        else if (!strcmp(key, "constant_liar"))
            rc = im_json_read_bool(x, "campaign", field, &c->tpe.constant_liar, err);
        else
            rc = im_json_read_bool(x, "campaign", field, &c->tpe.consider_endpoints, err);
        if (rc) return rc;
    }
    return 0;
}

static const char *const pruner_keys[] = {"name", "n_startup_trials", "n_warmup_epochs", NULL};

/* "pruner": null | "none" | "median" | {"name": ..., options}. */
static int parse_pruner(im_pruner_spec *p, const json_t *v, im_error *err)
{
    if (json_is_null(v)) {
        p->kind = IM_PRUNER_NONE;
        return 0;
    }
    const json_t *name = json_is_string(v) ? v : NULL;
    if (!name && !json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'pruner' must be an object {\"name\": ...}, a pruner name "
                            "or null, not %s",
                            im_json_kind(v));
    if (json_is_object(v)) {
        int rc = im_json_check_keys(v, pruner_keys, "campaign: 'pruner'", err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'pruner.name' is required (none or median)");
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: 'pruner.name' must be a string, not %s",
                            im_json_kind(name));
    const char *s = json_string_value(name);
    if (!strcmp(s, "none"))
        p->kind = IM_PRUNER_NONE;
    else if (!strcmp(s, "median"))
        p->kind = IM_PRUNER_MEDIAN;
    else
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'pruner': unknown pruner '%s' (known: none, median)", s);
    if (!json_is_object(v)) return 0;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!strcmp(key, "name")) continue;
        char field[64];
        snprintf(field, sizeof field, "pruner.%s", key);
        if (p->kind != IM_PRUNER_MEDIAN)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s' is an option of pruner 'median', not '%s'", field,
                                s);
        int rc = im_json_read_int32(
            x, "campaign", field, 0, IM_SPEC_MAX_EPOCHS,
            !strcmp(key, "n_startup_trials") ? &p->n_startup_trials : &p->n_warmup_epochs, err);
        if (rc) return rc;
    }
    return 0;
}

/* "points": a non-empty list of gammas. */
static int parse_points(im_campaign_spec *c, const json_t *v, int k, im_error *err)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'points' must be a non-empty list of gammas (preset "
                            "names, lists or objects), not %s",
                            json_is_array(v) ? "an empty list" : im_json_kind(v));
    size_t n = json_array_size(v);
    if (n > MAX_POINTS)
        return im_error_set(err, IM_ERANGE, "campaign: 'points' has %zu entries, at most %d", n,
                            MAX_POINTS);
    c->points = im_xcalloc(n, sizeof(double) * IM_MAX_TERMS);
    c->point_presets = im_xcalloc(n, sizeof *c->point_presets);
    c->n_points = (int)n;
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "points[%zu]", i);
        int rc = im_gamma_from_json(json_array_get(v, i), k, "campaign", field,
                                    c->points + i * IM_MAX_TERMS, c->point_presets[i], err);
        if (rc) return rc;
    }
    return 0;
}

/* "base": a gamma, or {"trial": ID}. */
static int parse_base(im_campaign_spec *c, const json_t *v, int k, im_error *err)
{
    const json_t *trial = json_is_object(v) ? json_object_get(v, "trial") : NULL;
    if (trial) {
        if (json_object_size(v) != 1)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'base' is either {\"trial\": ID} or a gamma, not both");
        long long id;
        int rc = im_json_read_int(trial, "campaign", "base.trial", 1, LLONG_MAX, &id, err);
        if (rc) return rc;
        c->base_trial = (int64_t)id;
        return 0;
    }
    return im_gamma_from_json(v, k, "campaign", "base", c->base, c->base_preset, err);
}

int im_campaign_spec_from_json(im_campaign_spec *spec, const json_t *obj, im_error *err)
{
    im_campaign_spec c;
    campaign_defaults(&c);
    memset(spec, 0, sizeof *spec);
    const json_t *v;
    int rc, seed_given = 0;

    if (!json_is_object(obj)) {
        rc = im_error_set(err, IM_EFORMAT, "campaign: expected a JSON object, not %s",
                          im_json_kind(obj));
        goto fail;
    }
    if ((rc = im_json_check_keys(obj, campaign_keys, "campaign", err))) goto fail;

    v = json_object_get(obj, "name");
    if (!v) {
        rc = im_error_set(err, IM_EFORMAT, "campaign: 'name' is required");
        goto fail;
    }
    if (!json_is_string(v) || !im_spec_name_valid(json_string_value(v), IM_CAMPAIGN_NAME_MAX)) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: 'name' must be 1..%d characters of [A-Za-z0-9._-] (got "
                          "%s%.80s%s)",
                          IM_CAMPAIGN_NAME_MAX, json_is_string(v) ? "'" : "",
                          json_is_string(v) ? json_string_value(v) : im_json_kind(v),
                          json_is_string(v) ? "'" : "");
        goto fail;
    }
    copy_name(c.name, sizeof c.name, json_string_value(v));

    v = json_object_get(obj, "kind");
    if (!v) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: 'kind' is required (search, fixed or ablation)");
        goto fail;
    }
    {
        int found = -1;
        for (int i = 0; i < 3 && json_is_string(v); i++)
            if (!strcmp(json_string_value(v), kind_names[i])) found = i;
        if (found < 0) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'kind' must be search, fixed or ablation (got %s%.80s%s)",
                              json_is_string(v) ? "'" : "",
                              json_is_string(v) ? json_string_value(v) : im_json_kind(v),
                              json_is_string(v) ? "'" : "");
            goto fail;
        }
        c.kind = (im_campaign_kind)found;
    }
    if (c.kind == IM_CAMPAIGN_ABLATION) c.seeds_per_point = 10;

    /* keys of another kind */
    {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)obj, key, x)
        {
            int kk = key_kind(key);
            if (kk >= 0 && kk != (int)c.kind) {
                rc = im_error_set(err, IM_EFORMAT,
                                  "campaign: '%s' is not used by kind '%s' (only by '%s')", key,
                                  kind_names[c.kind], kind_names[kk]);
                goto fail;
            }
        }
    }

    if ((v = json_object_get(obj, "train"))) {
        if (json_is_object(v) && json_object_get(v, "gamma")) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'train.gamma' is set per trial (from 'space', 'points' "
                              "or 'base'); remove it");
            goto fail;
        }
        if (json_is_object(v) && json_object_get(v, "seed")) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'train.seed' is set per trial (seeds 1..'seeds_per_"
                              "point'); remove it");
            goto fail;
        }
        if ((rc = im_train_spec_parse(&c.train, v, "campaign: 'train'", err))) goto fail;
    }
    c.n_terms = im_setup_terms(c.train.setup);
    int k = im_setup_sources(c.train.setup);
    if (c.train.setup == IM_SETUP_BACKPROP && c.kind != IM_CAMPAIGN_FIXED) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: kind '%s' varies gamma, which setup 'backprop' ignores; use "
                          "kind 'fixed'",
                          kind_names[c.kind]);
        goto fail;
    }
    im_lattice lat;
    if ((rc = im_lattice_init(&lat, k, err))) goto fail;

    if (c.kind == IM_CAMPAIGN_SEARCH) {
        for (int i = 0; i < c.n_terms - 1; i++) c.space_low[i] = -1, c.space_high[i] = 1;
        if ((v = json_object_get(obj, "space")) && (rc = parse_space(&c, v, &lat, err))) goto fail;
        int free_dims = 0;
        for (int i = 0; i < c.n_terms; i++) free_dims += c.space_low[i] < c.space_high[i];
        if (free_dims == 0) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'space' fixes every component; there is nothing to "
                              "search");
            goto fail;
        }
        if ((v = json_object_get(obj, "seed"))) {
            long long seed;
            if ((rc = im_json_read_int(v, "campaign", "seed", 0, LLONG_MAX, &seed, err))) goto fail;
            c.seed = (uint64_t)seed;
            seed_given = 1;
        }
        if ((v = json_object_get(obj, "sampler")) && (rc = parse_sampler(&c, v, &seed_given, err)))
            goto fail;
        v = json_object_get(obj, "budget");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'budget' is required for kind 'search'");
            goto fail;
        }
        if ((rc = im_json_read_int32(v, "campaign", "budget", 1, MAX_BUDGET, &c.budget, err)))
            goto fail;
    } else if (c.kind == IM_CAMPAIGN_FIXED) {
        v = json_object_get(obj, "points");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'points' is required for kind 'fixed'");
            goto fail;
        }
        if ((rc = parse_points(&c, v, k, err))) goto fail;
    } else {
        v = json_object_get(obj, "base");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'base' is required for kind 'ablation' (a gamma or "
                              "{\"trial\": ID})");
            goto fail;
        }
        if ((rc = parse_base(&c, v, k, err))) goto fail;
    }

    if ((v = json_object_get(obj, "seeds_per_point")) &&
        (rc = im_json_read_int32(v, "campaign", "seeds_per_point", 1, MAX_SEEDS, &c.seeds_per_point,
                                 err)))
        goto fail;
    if ((v = json_object_get(obj, "priority")) &&
        (rc = im_json_read_int32(v, "campaign", "priority", -MAX_PRIORITY, MAX_PRIORITY,
                                 &c.priority, err)))
        goto fail;
    if ((v = json_object_get(obj, "pruner")) && (rc = parse_pruner(&c.pruner, v, err))) goto fail;
    if ((v = json_object_get(obj, "user")) && !json_is_null(v)) {
        if (!json_is_object(v)) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'user' must be an object, not %s",
                              im_json_kind(v));
            goto fail;
        }
        c.user = json_deep_copy(v);
    }
    *spec = c;
    return 0;

fail:
    im_campaign_spec_release(&c);
    return rc;
}

int im_campaign_spec_load_file(im_campaign_spec *spec, const char *path, im_error *err)
{
    memset(spec, 0, sizeof *spec);
    json_t *root = im_json_load_file(path, "campaign", err);
    if (!root) return err ? err->code : IM_EFORMAT;
    int rc = im_campaign_spec_from_json(spec, root, err);
    json_decref(root);
    return rc;
}

json_t *im_campaign_spec_to_json(const im_campaign_spec *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "kind", json_string(im_campaign_kind_name(c->kind)));
    json_object_set_new(o, "train", im_train_spec_to_json_fields(&c->train, 0));
    im_lattice lat;
    int have_lat = im_lattice_init(&lat, c->n_terms == 5 ? 2 : 3, NULL) == 0;

    if (c->kind == IM_CAMPAIGN_SEARCH && have_lat) {
        json_t *space = json_object();
        for (int i = 0; i < c->n_terms; i++) {
            json_t *x = c->space_low[i] == c->space_high[i]
                            ? json_real(c->space_low[i])
                            : json_pack("[f, f]", c->space_low[i], c->space_high[i]);
            json_object_set_new(space, lat.short_name[i], x);
        }
        json_object_set_new(o, "space", space);
        json_t *sampler = json_pack("{s:s}", "name", im_sampler_name(c->sampler));
        if (c->sampler == IM_SAMPLER_TPE) {
            json_object_set_new(sampler, "n_startup_trials", json_integer(c->tpe.n_startup_trials));
            json_object_set_new(sampler, "n_ei_candidates", json_integer(c->tpe.n_ei_candidates));
            json_object_set_new(sampler, "multivariate", json_boolean(c->tpe.multivariate));
            json_object_set_new(sampler, "constant_liar", json_boolean(c->tpe.constant_liar));
            json_object_set_new(sampler, "consider_endpoints",
                                json_boolean(c->tpe.consider_endpoints));
        }
        json_object_set_new(o, "sampler", sampler);
        json_object_set_new(o, "budget", json_integer(c->budget));
        json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    } else if (c->kind == IM_CAMPAIGN_FIXED) {
        json_t *points = json_array();
        for (int i = 0; i < c->n_points; i++)
            json_array_append_new(
                points, im_json_number_list(c->points + (size_t)i * IM_MAX_TERMS, c->n_terms));
        json_object_set_new(o, "points", points);
    } else if (c->kind == IM_CAMPAIGN_ABLATION) {
        json_object_set_new(o, "base",
                            c->base_trial > 0
                                ? json_pack("{s:I}", "trial", (json_int_t)c->base_trial)
                                : im_json_number_list(c->base, c->n_terms));
    }
    json_object_set_new(o, "seeds_per_point", json_integer(c->seeds_per_point));
    json_object_set_new(o, "priority", json_integer(c->priority));
    json_t *pruner = json_pack("{s:s}", "name", im_pruner_name(c->pruner.kind));
    if (c->pruner.kind == IM_PRUNER_MEDIAN) {
        json_object_set_new(pruner, "n_startup_trials", json_integer(c->pruner.n_startup_trials));
        json_object_set_new(pruner, "n_warmup_epochs", json_integer(c->pruner.n_warmup_epochs));
    }
    json_object_set_new(o, "pruner", pruner);
    if (c->user) json_object_set_new(o, "user", json_deep_copy(c->user));
    return o;
}

int im_campaign_spec_fixed_gammas(const im_campaign_spec *spec, double **out, int *n, im_error *err)
{
    *out = NULL;
    *n = 0;
    if (spec->kind != IM_CAMPAIGN_FIXED || spec->n_points < 1 || !spec->points)
        return im_error_set(err, IM_EINVAL, "campaign: '%s' is not a fixed campaign with points",
                            spec->name);
    double *g = im_xmalloc_array((size_t)spec->n_points * (size_t)spec->n_terms, sizeof *g);
    for (int i = 0; i < spec->n_points; i++)
        memcpy(g + (size_t)i * (size_t)spec->n_terms, spec->points + (size_t)i * IM_MAX_TERMS,
               sizeof *g * (size_t)spec->n_terms);
    *out = g;
    *n = spec->n_points;
    return 0;
}

int im_campaign_trial_spec(const im_campaign_spec *spec, const double *gamma, uint64_t seed,
                           im_train_spec *out, im_error *err)
{
    im_train_spec t = spec->train;
    int rc = im_train_spec_set_gamma(&t, gamma, spec->n_terms, err);
    if (rc) return rc;
    t.seed = seed;
    *out = t;
    return 0;
}
