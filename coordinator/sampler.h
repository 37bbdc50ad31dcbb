/*
 * sampler.h: the interface every sampler of a `search` campaign implements
 * (sampler_random.c today; sampler_tpe.c and others later, one file each).
 *
 * A sampler proposes points (gamma vectors of n_terms numbers, canonical
 * order, h_res last) inside the campaign's space box: space_low[i] <=
 * gamma[i] <= space_high[i], and exactly space_low[i] where low == high (a
 * fixed component). Points are numbered 0, 1, 2, ... in the order the
 * campaign creates them.
 *
 * Reproducible and restart-proof: a proposal depends only on the campaign
 * spec (space, seed, options), the point number and the history given to
 * observe(). The coordinator rebuilds a sampler after a restart by replaying
 * the finished trials from the database into observe(), so point N is the
 * same whether or not the coordinator restarted in between. The history
 * lives in the sampler's memory: a proposal never reads the database.
 *
 * Ownership: sampler_free releases everything; the campaign spec passed to a
 * constructor is copied (the sampler keeps no pointer into it).
 * Thread-safety: one sampler is used by one thread (the coordinator's loop).
 */
#ifndef IM_SAMPLER_H
#define IM_SAMPLER_H

#include "im.h"
#include "spec.h"

typedef struct sampler sampler;

typedef struct sampler_ops {
    const char *name; /* "random", "tpe", ... as in the campaign file */
    /* Propose point `point` into gamma[n_terms]. Returns 0 or an IM_E* code
     * with err set. */
    int (*suggest)(sampler *s, int point, double *gamma, im_error *err);
    /* One trial of `point` finished: value is its val_acc (NAN when the trial
     * failed or has no accuracy); gamma is the point. May be NULL for a
     * sampler that ignores history (then the coordinator skips the replay). */
    void (*observe)(sampler *s, int point, const double *gamma, double value);
    void (*destroy)(sampler *s);
} sampler_ops;

/* The common head of every sampler; implementations embed it first. */
struct sampler {
    const sampler_ops *ops;
    int n_terms;               /* 5 or 19 */
    double low[IM_MAX_TERMS];  /* [n_terms] */
    double high[IM_MAX_TERMS]; /* [n_terms] */
    uint64_t seed;             /* the campaign's seed */
};

/* The random sampler: point N is uniform in the box, drawn from a generator
 * seeded with (campaign seed, N), so it needs no history. On success *out is
 * a new sampler owned by the caller. Returns 0, or IM_EINVAL (not a search
 * campaign, or a box with low > high). */
int sampler_random_new(sampler **out, const im_campaign_spec *spec, im_error *err);

static inline int sampler_suggest(sampler *s, int point, double *gamma, im_error *err)
{
    return s->ops->suggest(s, point, gamma, err);
}

/* 1 if the sampler wants the history replayed into observe(). */
static inline int sampler_wants_history(const sampler *s)
{
    return s->ops->observe != NULL;
}

static inline void sampler_observe(sampler *s, int point, const double *gamma, double value)
{
    if (s->ops->observe) s->ops->observe(s, point, gamma, value);
}

/* Free the sampler and set *s to NULL; NULL or *s == NULL is a no-op. */
static inline void sampler_free(sampler **s)
{
    if (s && *s) {
        (*s)->ops->destroy(*s);
        *s = NULL;
    }
}

#endif /* IM_SAMPLER_H */
