/*
 * campaign_spec.c: campaign files, JSON <-> im_campaign_spec.
 *
 * Parsing checks every key against the known ones first (a typo is reported
 * as such, with a suggestion), then reads "name" and "kind", refuses a key
 * of another kind, reads "train", hands the kind's own keys to the kind
 * (kind.h) and reads the keys every kind has last; the pruner and the
 * sampler parse their own options (pruner.h, sampler.h). All parsing works
 * on a copy and stores it only on success.
 *
 * Workload: one parse per submitted campaign and per campaign resumed.
 */
#include "campaign_spec.h"

#include "kind.h"
#include "options.h"
#include "pruner.h"
#include "sampler.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS    1000
#define MAX_PRIORITY 1000000

/* The keys every kind has; the kinds' own keys come from the table. */
static const char *const head_keys[] = {"name",      "kind",  "backend", "objective",
                                        "direction", "train", NULL};
static const char *const tail_keys[] = {"seeds_per_point", "priority", "pruner", "user", NULL};

const char *im_campaign_kind_name(im_campaign_kind kind)
{
    const kind_def *k = kind_def_at((int)kind);
    return k ? k->name : "unknown";
}

json_t *im_number_list(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(x[i]));
    return a;
}

void im_campaign_spec_release(im_campaign_spec *spec)
{
    if (!spec) return;
    free(spec->points);
    free(spec->point_presets);
    json_decref(spec->user);
    free(spec->params);
    spec->params = NULL;
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
    for (int i = 0; sampler_def_at(i); i++)
        if (sampler_def_at(i)->defaults) sampler_def_at(i)->defaults(c);
    c->pruner.kind = IM_PRUNER_NONE;
    for (int i = 0; pruner_def_at(i); i++)
        if (pruner_def_at(i)->defaults) pruner_def_at(i)->defaults(&c->pruner);
    c->seeds_per_point = 1;
    c->backend = IM_BACKEND_BUILTIN;
    snprintf(c->objective, sizeof c->objective, "val_acc");
}

const char *im_backend_name(im_campaign_backend b)
{
    return b == IM_BACKEND_EXEC ? "exec" : "builtin";
}

int im_campaign_n_values(const im_campaign_spec *spec)
{
    return spec->backend == IM_BACKEND_EXEC ? (spec->params ? spec->params->n : 0) : spec->n_terms;
}

int im_campaign_points_stride(const im_campaign_spec *spec)
{
    return spec->backend == IM_BACKEND_EXEC ? IM_CAMPAIGN_MAX_PARAMS : IM_MAX_TERMS;
}

/* Every key a campaign object may have, in file order, into keys[max]. */
static void known_keys(const char **keys, int max)
{
    int n = 0;
    for (int i = 0; head_keys[i]; i++) keys[n++] = head_keys[i];
    for (int k = 0; kind_def_at(k); k++)
        for (int i = 0; kind_def_at(k)->keys[i] && n < max - 8; i++)
            keys[n++] = kind_def_at(k)->keys[i];
    for (int i = 0; tail_keys[i]; i++) keys[n++] = tail_keys[i];
    keys[n] = NULL;
}

/* A string value in messages: 'x' for a string, else its JSON kind. */
#define QUOTED(v)                                                                                  \
    json_is_string(v) ? "'" : "", json_is_string(v) ? json_string_value(v) : im_json_kind(v),      \
        json_is_string(v) ? "'" : ""

/* "name" and "kind"; *kind gets the kind's table entry. */
static int parse_name_kind(im_campaign_spec *c, const json_t *obj, const kind_def **kind,
                           im_error *err)
{
    const json_t *v = json_object_get(obj, "name");
    if (!v) return im_error_set(err, IM_EFORMAT, "campaign: 'name' is required");
    if (!json_is_string(v) || !im_spec_name_valid(json_string_value(v), IM_CAMPAIGN_NAME_MAX))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'name' must be 1..%d characters of [A-Za-z0-9._-] (got "
                            "%s%.80s%s)",
                            IM_CAMPAIGN_NAME_MAX, QUOTED(v));
    /* The command reads a selector of digits as an id and one starting with
     * '-' as an option: such a name could not be addressed by name. */
    const char *name = json_string_value(v);
    if (name[0] == '-' || strspn(name, "0123456789") == strlen(name))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'name' must not be all digits (the command reads them as "
                            "an id) nor start with '-' (got '%s')",
                            name);
    snprintf(c->name, sizeof c->name, "%s", name);

    char names[128] = "";
    size_t used = 0;
    for (int i = 0; kind_def_at(i); i++) {
        const char *sep = i == 0 ? "" : kind_def_at(i + 1) ? ", " : " or ";
        used +=
            (size_t)snprintf(names + used, sizeof names - used, "%s%s", sep, kind_def_at(i)->name);
        if (used >= sizeof names) break;
    }
    v = json_object_get(obj, "kind");
    if (!v) return im_error_set(err, IM_EFORMAT, "campaign: 'kind' is required (%s)", names);
    for (int i = 0; kind_def_at(i) && json_is_string(v); i++) {
        if (strcmp(json_string_value(v), kind_def_at(i)->name)) continue;
        c->kind = (im_campaign_kind)i;
        *kind = kind_def_at(i);
        return 0;
    }
    return im_error_set(err, IM_EFORMAT, "campaign: 'kind' must be %s (got %s%.80s%s)", names,
                        QUOTED(v));
}

/* "backend", "objective", "direction": what runs the trials and what is
 * optimised, before the kind reads its keys (an exec campaign's are named
 * parameters). */
static int parse_backend(im_campaign_spec *c, const json_t *obj, const kind_def *kind,
                         im_error *err)
{
    const json_t *v = json_object_get(obj, "backend");
    if (v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), "exec"))
            c->backend = IM_BACKEND_EXEC;
        else if (!json_is_string(v) || strcmp(json_string_value(v), "builtin"))
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'backend' must be \"builtin\" or \"exec\" (got "
                                "%s%.80s%s)",
                                QUOTED(v));
    }
    if (c->backend == IM_BACKEND_EXEC && !kind->runs_exec)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: kind '%s' varies the gamma of the built-in trainer; it "
                            "cannot run with backend \"exec\"",
                            kind->name);
    if ((v = json_object_get(obj, "objective"))) {
        if (!json_is_string(v) || !json_string_length(v) ||
            json_string_length(v) > IM_OBJECTIVE_MAX)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'objective' must be a key of the result, 1..%d "
                                "characters (got %s%.80s%s)",
                                IM_OBJECTIVE_MAX, QUOTED(v));
        snprintf(c->objective, sizeof c->objective, "%s", json_string_value(v));
    }
    if ((v = json_object_get(obj, "direction"))) {
        if (json_is_string(v) && !strcmp(json_string_value(v), "minimize"))
            c->minimize = 1;
        else if (!json_is_string(v) || strcmp(json_string_value(v), "maximize"))
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'direction' must be \"maximize\" or \"minimize\" "
                                "(got %s%.80s%s)",
                                QUOTED(v));
    }
    if (c->backend == IM_BACKEND_BUILTIN && (strcmp(c->objective, "val_acc") || c->minimize))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: the built-in trainer maximises 'val_acc'; 'objective' and "
                            "'direction' are for backend \"exec\"");
    if (c->backend == IM_BACKEND_EXEC && json_object_get(obj, "train"))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'train' is the built-in trainer's; an exec campaign's "
                            "command gets its parameters and 'user'");
    return 0;
}

/* A key that another kind owns is refused. */
static int check_kind_keys(const json_t *obj, const kind_def *kind, im_error *err)
{
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)obj, key, x)
    {
        const kind_def *owner = kind_owning(key);
        if (owner && owner != kind)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s' is not used by kind '%s' (only by '%s')", key,
                                kind->name, owner->name);
    }
    return 0;
}

/* "train": a trial spec without the keys set per trial. */
static int parse_train(im_campaign_spec *c, const json_t *obj, const kind_def *kind, im_error *err)
{
    const json_t *v = json_object_get(obj, "train");
    if (v && json_is_object(v) && json_object_get(v, "gamma"))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'train.gamma' is set per trial (from 'space', 'points' "
                            "or 'base'); remove it");
    if (v && json_is_object(v) && json_object_get(v, "seed"))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'train.seed' is set per trial (seeds 1..'seeds_per_"
                            "point'); remove it");
    int rc = v ? im_train_spec_parse(&c->train, v, "campaign: 'train'", err) : 0;
    if (rc) return rc;
    c->n_terms = im_setup_terms(c->train.setup);
    if (c->train.setup == IM_SETUP_BACKPROP && kind->varies_gamma)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: kind '%s' varies gamma, which setup 'backprop' ignores; use "
                            "kind 'fixed'",
                            kind->name);
    return 0;
}

/* The keys every kind has, after the kind's own. */
static int parse_tail(im_campaign_spec *c, const json_t *obj, im_error *err)
{
    const json_t *v;
    int rc, index = 0;
    if ((v = json_object_get(obj, "seeds_per_point")) &&
        (rc = im_json_read_int32(v, "campaign", "seeds_per_point", 1, MAX_SEEDS,
                                 &c->seeds_per_point, err)))
        return rc;
    if ((v = json_object_get(obj, "priority")) &&
        (rc = im_json_read_int32(v, "campaign", "priority", -MAX_PRIORITY, MAX_PRIORITY,
                                 &c->priority, err)))
        return rc;
    if ((v = json_object_get(obj, "pruner"))) {
        opt_family fam;
        pruner_family(&fam);
        if ((rc = opt_parse_named(&fam, v, &c->pruner, &index, err))) return rc;
        c->pruner.kind = (im_pruner_kind)index;
    }
    /* an exec campaign's command says nothing of its epochs beforehand: its
     * pruner's defaults see 0 epochs (the warm-up is then the file's, else 0) */
    int epochs = c->backend == IM_BACKEND_EXEC ? 0 : c->train.epochs;
    for (int i = 0; pruner_def_at(i); i++)
        if (pruner_def_at(i)->campaign_defaults)
            pruner_def_at(i)->campaign_defaults(&c->pruner, epochs);
    if ((v = json_object_get(obj, "user")) && !json_is_null(v)) {
        if (!json_is_object(v))
            return im_error_set(err, IM_EFORMAT, "campaign: 'user' must be an object, not %s",
                                im_json_kind(v));
        /* Bounded so that every JOB, which carries it, fits the wire's
         * message limit by construction. */
        char *text = json_dumps(v, JSON_COMPACT);
        size_t len = text ? strlen(text) : SIZE_MAX;
        free(text);
        if (len > IM_CAMPAIGN_USER_MAX)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'user' must be at most %d bytes as compact JSON "
                                "(got %zu)",
                                IM_CAMPAIGN_USER_MAX, len);
        c->user = json_deep_copy(v);
    }
    return 0;
}

int im_campaign_spec_from_json(im_campaign_spec *spec, const json_t *obj, im_error *err)
{
    im_campaign_spec c;
    campaign_defaults(&c);
    memset(spec, 0, sizeof *spec);
    const kind_def *kind = NULL;
    const char *keys[64];
    im_lattice lat;
    int rc;

    if (!json_is_object(obj)) {
        rc = im_error_set(err, IM_EFORMAT, "campaign: expected a JSON object, not %s",
                          im_json_kind(obj));
        goto fail;
    }
    known_keys(keys, 64);
    if ((rc = im_json_check_keys(obj, keys, "campaign", err))) goto fail;
    if ((rc = parse_name_kind(&c, obj, &kind, err))) goto fail;
    if (kind->defaults) kind->defaults(&c);
    if ((rc = check_kind_keys(obj, kind, err))) goto fail;
    if ((rc = parse_backend(&c, obj, kind, err))) goto fail;
    if ((rc = parse_train(&c, obj, kind, err))) goto fail;
    if ((rc = im_lattice_init(&lat, im_setup_sources(c.train.setup), err))) goto fail;
    if ((rc = kind->parse(&c, obj, &lat, err))) goto fail;
    if ((rc = parse_tail(&c, obj, err))) goto fail;
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
    if (c->backend == IM_BACKEND_EXEC) { /* a built-in campaign's JSON stays as it was */
        json_object_set_new(o, "backend", json_string(im_backend_name(c->backend)));
        json_object_set_new(o, "objective", json_string(c->objective));
        json_object_set_new(o, "direction", json_string(c->minimize ? "minimize" : "maximize"));
    }
    if (c->backend != IM_BACKEND_EXEC) { /* an exec campaign has no "train" */
        json_t *train = im_train_spec_to_json(&c->train);
        json_object_del(train, "seed"); /* set per trial */
        json_object_del(train, "gamma");
        json_object_set_new(o, "train", train);
    }
    im_lattice lat;
    const kind_def *kind = kind_def_at((int)c->kind);
    if (kind && im_lattice_init(&lat, c->n_terms == 5 ? 2 : 3, NULL) == 0)
        kind->to_json(c, &lat, o);
    json_object_set_new(o, "seeds_per_point", json_integer(c->seeds_per_point));
    json_object_set_new(o, "priority", json_integer(c->priority));
    json_t *prn = json_pack("{s:s}", "name", im_pruner_name(c->pruner.kind));
    const pruner_def *pd = pruner_def_at((int)c->pruner.kind);
    if (pd && pd->options_to_json) pd->options_to_json(&c->pruner, prn);
    json_object_set_new(o, "pruner", prn);
    if (c->user) json_object_set_new(o, "user", json_deep_copy(c->user));
    return o;
}

const double *im_campaign_spec_point(const im_campaign_spec *spec, int p)
{
    if (!spec->points || p < 0 || p >= spec->n_points) return NULL; /* only kind_fixed has them */
    return spec->points + (size_t)p * (size_t)im_campaign_points_stride(spec);
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
