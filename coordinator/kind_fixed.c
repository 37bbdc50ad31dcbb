/*
 * kind_fixed.c: kind "fixed", the listed points.
 *
 * Keys:
 *   points  a non-empty list (at most 100000) of gammas: preset names,
 *           lists of 5 or 19 numbers, or objects by atom name; required
 */
#include "kind.h"

#include "campaign.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_POINTS 100000

static const char *const fixed_keys[] = {"points", NULL};

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
    c->points = im_xcalloc(n, sizeof(double) * IM_MAX_TERMS);
    c->point_presets = im_xcalloc(n, sizeof *c->point_presets);
    c->n_points = (int)n;
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "points[%zu]", i);
        int rc = im_gamma_from_json(json_array_get(v, i), lat->k, "campaign", field,
                                    c->points + i * IM_MAX_TERMS, c->point_presets[i], err);
        if (rc) return rc;
    }
    return 0;
}

static void fixed_to_json(const im_campaign_spec *c, const im_lattice *lat, json_t *o)
{
    (void)lat;
    json_t *points = json_array();
    for (int i = 0; i < c->n_points; i++)
        json_array_append_new(points,
                              im_number_list(c->points + (size_t)i * IM_MAX_TERMS, c->n_terms));
    json_object_set_new(o, "points", points);
}

static int fixed_plan(campaign *c, store *st, im_error *err)
{
    (void)st;
    return im_campaign_spec_fixed_gammas(&c->spec, &c->points, &c->n_points, err);
}

const kind_def kind_fixed = {
    .name = "fixed",
    .keys = fixed_keys,
    .varies_gamma = 0,
    .parse = fixed_parse,
    .to_json = fixed_to_json,
    .plan = fixed_plan,
    .point = kind_point_from_list,
};
