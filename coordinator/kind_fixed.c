/*
 * kind_fixed.c: kind "fixed", the listed points.
 *
 * Keys:
 *   points  a non-empty list (at most 100000) of gammas: preset names,
 *           lists of 5 or 19 numbers, or objects by atom name; required.
 *           With backend "exec": objects by parameter name, every one with
 *           the same names, each a number or a string (a choice); the
 *           parameters are typed from them (a name with a string anywhere
 *           is categorical over the strings listed, else a float).
 *
 * Workload: a campaign of 100,000 points is parsed and checked whole at
 * submission (a bad point is refused, by its index), with one lattice for
 * all points; its trials are created a point at a time as workers ask
 * (campaign.c), from the parsed values, which are not copied.
 */
#include "kind.h"

#include "campaign.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 100000

static const char *const fixed_keys[] = {"points", NULL};

/* The parameters of an exec campaign's points, named by points[0]'s keys;
 * floats with an empty range until the points are read. */
static int named_params(im_campaign_spec *c, const json_t *first, im_error *err)
{
    if (!json_is_object(first) || json_object_size(first) == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'points[0]' must be an object by parameter name (backend "
                            "\"exec\")");
    param_space *ps = c->params = im_xcalloc(1, sizeof *c->params);
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)first, key, x)
    {
        if (ps->n >= SAMPLER_MAX_PARAMS)
            return im_error_set(err, IM_ERANGE, "campaign: a point has more than %d parameters",
                                SAMPLER_MAX_PARAMS);
        param_def *p = &ps->p[ps->n++];
        if (!param_valid_name(key))
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'points[0].%.60s': a parameter's name must be 1..%d "
                                "characters of [A-Za-z0-9._-]",
                                key, SAMPLER_NAME_MAX - 1);
        snprintf(p->name, sizeof p->name, "%s", key);
        p->type = PARAM_FLOAT;
        p->low = INFINITY;
        p->high = -INFINITY;
    }
    return 0;
}

/* Point i's value pv of parameter p into *dst. Pass 0 only types p (a string
 * makes it categorical and adds a choice); pass 1 stores the value, a
 * number widening p's range, a string as the index of its choice. */
static int named_value(param_def *p, const json_t *pv, int pass, size_t i, double *dst,
                       im_error *err)
{
    if (json_is_number(pv) && isfinite(json_number_value(pv))) {
        if (pass == 0) return 0;
        if (p->type == PARAM_CATEGORICAL)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'points[%zu].%s' must be a string, as in "
                                "the other points",
                                i, p->name);
        *dst = json_number_value(pv);
        if (*dst < p->low) p->low = *dst;
        if (*dst > p->high) p->high = *dst;
        return 0;
    }
    if (!json_is_string(pv) || !json_string_length(pv) ||
        json_string_length(pv) >= SAMPLER_NAME_MAX)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'points[%zu].%s' must be a finite number or a "
                            "string of 1..%d characters",
                            i, p->name, SAMPLER_NAME_MAX - 1);
    int j = 0;
    while (j < p->n_choices && strcmp(p->choices[j], json_string_value(pv))) j++;
    if (pass == 1) {
        *dst = j;
        return 0;
    }
    p->type = PARAM_CATEGORICAL;
    if (j < p->n_choices) return 0;
    if (p->n_choices == SAMPLER_MAX_CHOICES)
        return im_error_set(err, IM_ERANGE,
                            "campaign: 'points': parameter '%s' has more "
                            "than %d choices",
                            p->name, SAMPLER_MAX_CHOICES);
    snprintf(p->choices[p->n_choices++], SAMPLER_NAME_MAX, "%s", json_string_value(pv));
    return 0;
}

/* One pass over the points (see named_value). */
static int named_pass(im_campaign_spec *c, const json_t *v, int pass, im_error *err)
{
    param_space *ps = c->params;
    for (size_t i = 0; i < (size_t)c->n_points; i++) {
        const json_t *o = json_array_get(v, i);
        if (!json_is_object(o) || json_object_size(o) != (size_t)ps->n)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'points[%zu]' must be an object with the %d "
                                "parameters of points[0]",
                                i, ps->n);
        for (int k = 0; k < ps->n; k++) {
            param_def *p = &ps->p[k];
            const json_t *pv = json_object_get(o, p->name);
            if (!pv)
                return im_error_set(err, IM_EFORMAT,
                                    "campaign: 'points[%zu]' must be an object with the %d "
                                    "parameters of points[0] (no '%s')",
                                    i, ps->n, p->name);
            int rc = named_value(p, pv, pass, i, c->points + i * IM_CAMPAIGN_MAX_PARAMS + k, err);
            if (rc) return rc;
        }
    }
    return 0;
}

/* An exec campaign's points: objects by parameter name. */
static int parse_named_points(im_campaign_spec *c, const json_t *v, im_error *err)
{
    size_t n = json_array_size(v);
    int rc = named_params(c, json_array_get(v, 0), err);
    if (rc) return rc;
    param_space *ps = c->params;
    c->points = im_xcalloc(n, sizeof(double) * IM_CAMPAIGN_MAX_PARAMS);
    c->point_presets = im_xcalloc(n, sizeof *c->point_presets);
    c->n_points = (int)n;
    /* the types first (a string anywhere makes a choice), then the values */
    for (int pass = 0; pass < 2; pass++)
        if ((rc = named_pass(c, v, pass, err))) return rc;
    /* numbers that are all integers are an integer parameter (sent as such) */
    for (int k = 0; k < ps->n; k++) {
        int integral = ps->p[k].type == PARAM_FLOAT;
        for (size_t i = 0; integral && i < n; i++) {
            double y = c->points[i * IM_CAMPAIGN_MAX_PARAMS + (size_t)k];
            integral = y == floor(y) && fabs(y) < 1e15;
        }
        if (integral) ps->p[k].type = PARAM_INT;
    }
    return 0;
}

static int fixed_parse(im_campaign_spec *c, const json_t *obj, const im_lattice *lat, im_error *err)
{
    const json_t *v = json_object_get(obj, "points");
    if (!v) return im_error_set(err, IM_EFORMAT, "campaign: 'points' is required for kind 'fixed'");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'points' must be a non-empty list of gammas (preset "
                            "names, lists or objects), not %s",
                            json_is_array(v) ? "an empty list" : im_json_kind(v));
    size_t n = json_array_size(v);
    if (n > MAX_POINTS)
        return im_error_set(err, IM_ERANGE, "campaign: 'points' has %zu entries, at most %d", n,
                            MAX_POINTS);
    if (c->backend == IM_BACKEND_EXEC) return parse_named_points(c, v, err);
    c->points = im_xcalloc(n, sizeof(double) * IM_MAX_TERMS);
    c->point_presets = im_xcalloc(n, sizeof *c->point_presets);
    c->n_points = (int)n;
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "points[%zu]", i);
        int rc = im_gamma_from_json_lat(json_array_get(v, i), lat, "campaign", field,
                                        c->points + i * IM_MAX_TERMS, c->point_presets[i], err);
        if (rc) return rc;
    }
    return 0;
}

static void fixed_to_json(const im_campaign_spec *c, const im_lattice *lat, json_t *o)
{
    (void)lat;
    json_t *points = json_array();
    for (int i = 0; c->params && i < c->n_points; i++) {
        json_t *pt = json_object();
        for (int k = 0; k < c->params->n; k++)
            json_object_set_new(
                pt, c->params->p[k].name,
                param_value_json(&c->params->p[k],
                                 c->points[(size_t)i * IM_CAMPAIGN_MAX_PARAMS + k]));
        json_array_append_new(points, pt);
    }
    for (int i = 0; !c->params && i < c->n_points; i++)
        json_array_append_new(points,
                              im_number_list(c->points + (size_t)i * IM_MAX_TERMS, c->n_terms));
    json_object_set_new(o, "points", points);
}

/* Every listed point is planned; none is copied: point() reads the parsed
 * spec's values when the campaign creates that point (at a hand-out). */
static int fixed_plan(campaign *c, store *st, im_error *err)
{
    (void)st;
    if (c->spec.n_points < 1 || !c->spec.points) /* NEVER: fixed_parse requires points */
        return im_error_set(err, IM_EINVAL, "campaign: '%s' has no points", c->name);
    c->n_points = c->spec.n_points;
    return 0;
}

/* Point p's values, from the spec's points; no label. */
static int fixed_point(campaign *c, int p, double *gamma, char *label, im_error *err)
{
    const double *v = im_campaign_spec_point(&c->spec, p);
    if (!v) return im_error_set(err, IM_EINVAL, "campaign '%s': no point %d", c->name, p);
    memcpy(gamma, v, (size_t)im_campaign_n_values(&c->spec) * sizeof *gamma);
    label[0] = '\0';
    return 0;
}

const kind_def kind_fixed = {
    .name = "fixed",
    .keys = fixed_keys,
    .varies_gamma = 0,
    .runs_exec = 1,
    .parse = fixed_parse,
    .to_json = fixed_to_json,
    .plan = fixed_plan,
    .point = fixed_point,
};
