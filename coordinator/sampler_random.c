/*
 * sampler_random.c: uniform random search in the space box. Point N draws
 * from a generator seeded with (campaign seed, stream N + 1), so proposals
 * are independent of the order in which results arrive and of restarts.
 */
#include "sampler.h"

#include "rng.h"

#include <stdlib.h>

static int random_suggest(sampler *s, int point, double *gamma, im_error *err)
{
    if (point < 0) return im_error_set(err, IM_EINVAL, "sampler: point %d < 0", point);
    im_rng r;
    im_rng_seed(&r, s->seed, (uint64_t)point + 1);
    for (int i = 0; i < s->n_terms; i++)
        gamma[i] = s->low[i] == s->high[i] ? s->low[i] : im_rng_range(&r, s->low[i], s->high[i]);
    return 0;
}

static void random_destroy(sampler *s)
{
    free(s);
}

static const sampler_ops random_ops = {
    .name = "random", .suggest = random_suggest, .observe = NULL, .destroy = random_destroy};

static int init_head(sampler *s, const im_campaign_spec *spec, im_error *err)
{
    if (spec->kind != IM_CAMPAIGN_SEARCH)
        return im_error_set(err, IM_EINVAL, "sampler: campaign '%s' is not a search", spec->name);
    if (spec->n_terms < 1 || spec->n_terms > IM_MAX_TERMS)
        return im_error_set(err, IM_EINVAL, "sampler: %d gamma terms", spec->n_terms);
    s->n_terms = spec->n_terms;
    s->seed = spec->seed;
    for (int i = 0; i < spec->n_terms; i++) {
        if (!(spec->space_low[i] <= spec->space_high[i]))
            return im_error_set(err, IM_EINVAL, "sampler: space component %d has low > high", i);
        s->low[i] = spec->space_low[i];
        s->high[i] = spec->space_high[i];
    }
    return 0;
}

int sampler_random_new(sampler **out, const im_campaign_spec *spec, im_error *err)
{
    *out = NULL;
    sampler *s = im_xcalloc(1, sizeof *s);
    s->ops = &random_ops;
    int rc = init_head(s, spec, err);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}
