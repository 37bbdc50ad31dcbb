/*
 * sampler_random.c: uniform random search in the space. Point N draws from
 * a generator seeded with (campaign seed, stream N + 1), one draw per free
 * parameter in the space's order, so proposals are independent of the
 * order in which results arrive, of the pending points and of restarts.
 * Options: none.
 */
#include "sampler.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>

static int random_suggest(sampler *s, int point, const sampler_point *pending, int n_pending,
                          sampler_point *out, im_error *err)
{
    (void)pending;
    (void)n_pending;
    if (point < 0) return im_error_set(err, IM_EINVAL, "sampler: point %d < 0", point);
    im_rng r;
    im_rng_seed(&r, s->seed, (uint64_t)point + 1);
    out->point = point;
    for (int i = 0; i < s->space.n; i++) {
        const param_def *p = &s->space.p[i];
        double x = p->value;
        switch (p->type) {
        case PARAM_FLOAT: x = p->low == p->high ? p->low : im_rng_range(&r, p->low, p->high); break;
        case PARAM_LOG_FLOAT:
            x = p->low == p->high ? p->low : exp(im_rng_range(&r, log(p->low), log(p->high)));
            if (x < p->low) x = p->low; /* rounding at the ends */
            if (x > p->high) x = p->high;
            break;
        case PARAM_INT:
            x = p->low + (double)im_rng_below(&r, (uint64_t)(p->high - p->low) + 1);
            break;
        case PARAM_CATEGORICAL: x = (double)im_rng_below(&r, (uint64_t)p->n_choices); break;
        case PARAM_FIXED: break;
        }
        out->v[i] = x;
    }
    return 0;
}

static void random_destroy(sampler *s)
{
    free(s);
}

static const sampler_ops random_ops = {
    .name = "random", .suggest = random_suggest, .observe = NULL, .destroy = random_destroy};

int sampler_random_create(sampler **out, const param_space *space, uint64_t seed, im_error *err)
{
    *out = NULL;
    param_space check = {0};
    for (int i = 0; i < space->n; i++) {
        int rc = param_space_add(&check, &space->p[i], err);
        if (rc) return rc;
    }
    sampler *s = im_xcalloc(1, sizeof *s);
    s->ops = &random_ops;
    s->space = *space;
    s->seed = seed;
    *out = s;
    return 0;
}

static int random_create(sampler **out, const param_space *space, const im_campaign_spec *c,
                         im_error *err)
{
    return sampler_random_create(out, space, c->seed, err);
}

const sampler_def sampler_random_def = {
    .opt = {.name = "random", .keys = NULL},
    .create = random_create,
};
