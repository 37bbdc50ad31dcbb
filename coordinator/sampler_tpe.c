/*
 * sampler_tpe.c: the tree-structured Parzen estimator (SAMPLERS.md): its
 * options, their defaults, parsing and canonical JSON. The estimator itself
 * is not in this coordinator yet (create is NULL, so a "tpe" campaign is
 * refused at submission with a message saying so); it goes here, behind
 * sampler_ops, using the pending points and the point values it gets.
 *
 * Options ("sampler": {"name": "tpe", ...}):
 *   n_startup_trials   integer >= 0, default 10: points sampled at random
 *                      before the model is used
 *   n_ei_candidates    integer >= 1, default 24: candidates drawn from l(x)
 *                      per proposal
 *   multivariate       boolean, default true: one mixture of product kernels
 *   constant_liar      boolean, default true: pending points count as bad
 *   consider_endpoints boolean, default false
 */
#include "sampler.h"

#include <string.h>

#define MAX_STARTUP    1000000
#define MAX_CANDIDATES 100000

static const char *const tpe_keys[] = {
    "n_startup_trials", "n_ei_candidates",    "multivariate",
    "constant_liar",    "consider_endpoints", NULL,
};

static void tpe_defaults(im_campaign_spec *c)
{
    c->tpe.n_startup_trials = 10;
    c->tpe.n_ei_candidates = 24;
    c->tpe.multivariate = 1;
    c->tpe.constant_liar = 1;
    c->tpe.consider_endpoints = 0;
}

static int tpe_set_option(im_campaign_spec *c, const char *key, const json_t *v, const char *field,
                          im_error *err)
{
    im_tpe_options *o = &c->tpe;
    if (!strcmp(key, "n_startup_trials"))
        return im_json_read_int32(v, "campaign", field, 0, MAX_STARTUP, &o->n_startup_trials, err);
    if (!strcmp(key, "n_ei_candidates"))
        return im_json_read_int32(v, "campaign", field, 1, MAX_CANDIDATES, &o->n_ei_candidates,
                                  err);
    if (!strcmp(key, "multivariate"))
        return im_json_read_bool(v, "campaign", field, &o->multivariate, err);
    if (!strcmp(key, "constant_liar"))
        return im_json_read_bool(v, "campaign", field, &o->constant_liar, err);
    return im_json_read_bool(v, "campaign", field, &o->consider_endpoints, err);
}

static void tpe_to_json(const im_campaign_spec *c, json_t *obj)
{
    json_object_set_new(obj, "n_startup_trials", json_integer(c->tpe.n_startup_trials));
    json_object_set_new(obj, "n_ei_candidates", json_integer(c->tpe.n_ei_candidates));
    json_object_set_new(obj, "multivariate", json_boolean(c->tpe.multivariate));
    json_object_set_new(obj, "constant_liar", json_boolean(c->tpe.constant_liar));
    json_object_set_new(obj, "consider_endpoints", json_boolean(c->tpe.consider_endpoints));
}

const sampler_def sampler_tpe_def = {
    .opt = {.name = "tpe", .keys = tpe_keys},
    .defaults = tpe_defaults,
    .set_option = tpe_set_option,
    .options_to_json = tpe_to_json,
    .create = NULL,
};
