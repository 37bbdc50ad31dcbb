/*
 * sampler.h: the interface every sampler implements, and the sampler table.
 * A sampler is one file (sampler_random.c; sampler_tpe.c, ...) that defines
 * a sampler_def (its name, its options with their defaults, parsing and
 * JSON, and its constructor) and one line in samplers.c.
 *
 * Parameters are typed and named: a param_space lists uniform floats, log
 * floats, integers, categorical choices and fixed values. A campaign kind
 * builds the space (a gamma search: one float per atom, named by its short
 * name, the fixed components fixed; kind_search.c). A sampler proposes a
 * sampler_point: one value per parameter of the space, in its order (an
 * integer as an integral double, a categorical one as the choice's index, a
 * fixed one as its value).
 *
 * Points are numbered 0, 1, 2, ... in the order the campaign creates them.
 * suggest() gets the pending points (handed out, no value yet), observe()
 * one value per POINT: the campaign aggregates the point's seeds (the mean
 * val_acc of its done trials; for a pruned point the best of its pruned
 * seeds' last reported val_acc) and says whether the point completed, was
 * pruned (no seed done, one pruned) or failed.
 *
 * Reproducible and restart-proof: a proposal depends only on the space, the
 * campaign's seed and options, the point number, the pending points and the
 * history given to observe(). After a restart the coordinator replays the
 * ended points from the database into observe(), so point N is the same
 * whether or not the coordinator restarted in between. The history lives in
 * the sampler's memory: a proposal never reads the database.
 *
 * Ownership: sampler_free releases everything; constructors copy the space
 * and the spec (a sampler keeps no pointer into them).
 * Thread-safety: one sampler is used by one thread (the coordinator's loop);
 * the table is static and read-only.
 */
#ifndef IM_SAMPLER_H
#define IM_SAMPLER_H

#include "campaign_spec.h"
#include "im.h"
#include "options.h"

#define SAMPLER_MAX_PARAMS  IM_CAMPAIGN_MAX_PARAMS
#define SAMPLER_MAX_CHOICES 16
#define SAMPLER_NAME_MAX    32

typedef enum {
    PARAM_FLOAT = 0,   /* uniform in [low, high] */
    PARAM_LOG_FLOAT,   /* log-uniform in [low, high], 0 < low */
    PARAM_INT,         /* an integer in [low, high] (integral bounds) */
    PARAM_CATEGORICAL, /* one of choices[0..n_choices) */
    PARAM_FIXED        /* always `value` */
} param_type;

typedef struct param_def {
    char name[SAMPLER_NAME_MAX]; /* "f_c", "lr" */
    param_type type;
    double low, high; /* float, log float, int */
    double value;     /* fixed */
    int n_choices;    /* categorical: 1..SAMPLER_MAX_CHOICES */
    char choices[SAMPLER_MAX_CHOICES][SAMPLER_NAME_MAX];
} param_def;

typedef struct param_space {
    int n;                           /* parameters, 0..SAMPLER_MAX_PARAMS */
    param_def p[SAMPLER_MAX_PARAMS]; /* [n] */
} param_space;

typedef struct sampler_point {
    int point;                    /* the point's number */
    double v[SAMPLER_MAX_PARAMS]; /* [space.n], by parameter position */
} sampler_point;

typedef enum {
    POINT_COMPLETE = 0, /* at least one seed done: value is their mean val_acc */
    POINT_PRUNED,       /* none done, one pruned: value = best last report, or NAN */
    POINT_FAILED        /* every seed failed (or was cancelled): value NAN */
} point_state;

/* The position of parameter `name` in s, or -1. */
int param_space_find(const param_space *s, const char *name);

/* Add a parameter; returns 0 or IM_EINVAL (space full, empty range, log
 * float with low <= 0, a name too long). */
int param_space_add(param_space *s, const param_def *p, im_error *err);

/* 1 if x is a valid value of p (in range, integral, a choice), else 0. */
int param_valid(const param_def *p, double x);

/* A named, typed parameter from the campaign file (Optuna's distributions):
 * a number (fixed), [low, high] (a uniform float), {"float": [low, high],
 * "log": true|false}, {"int": [low, high]} or {"categorical": [strings]}.
 * field names it in messages ("space.lr"). Returns 0, or IM_EFORMAT /
 * IM_ERANGE with err set. */
int param_from_json(param_def *p, const char *name, const json_t *v, const char *field,
                    im_error *err);

/* p in the canonical form of param_from_json. Caller owns the reference. */
json_t *param_to_json(const param_def *p);

/* Value x of p as JSON for the trial's "params": an integer for int, the
 * choice's name for categorical, a real otherwise. Caller owns it. */
json_t *param_value_json(const param_def *p, double x);

/* A name of a parameter: 1..SAMPLER_NAME_MAX - 1 characters of
 * [A-Za-z0-9_.-]. */
int param_valid_name(const char *name);

typedef struct sampler sampler;

typedef struct sampler_ops {
    const char *name; /* as in the campaign file */
    /* Propose point `point` into out (out->point = point), given the
     * pending points pending[0..n_pending). Returns 0 or an IM_E* code with
     * err set. */
    int (*suggest)(sampler *s, int point, const sampler_point *pending, int n_pending,
                   sampler_point *out, im_error *err);
    /* Every seed of point x ended: its value and state. May be NULL for a
     * sampler that ignores history (the coordinator then skips the replay). */
    void (*observe)(sampler *s, const sampler_point *x, double value, point_state state);
    void (*destroy)(sampler *s);
} sampler_ops;

/* The common head of every sampler; implementations embed it first. */
struct sampler {
    const sampler_ops *ops;
    param_space space; /* a copy */
    uint64_t seed;     /* the campaign's seed */
};

/* A sampler as the table lists it. */
typedef struct sampler_def {
    opt_member opt; /* its name and option keys ("seed" is the campaign's, common to all) */
    /* Set its options' defaults in c (every sampler's are set). May be NULL. */
    void (*defaults)(im_campaign_spec *c);
    /* Read option `key` (one of opt.keys; field "sampler.key" for messages). */
    int (*set_option)(im_campaign_spec *c, const char *key, const json_t *v, const char *field,
                      im_error *err);
    /* Add its options to the canonical "sampler" object. May be NULL. */
    void (*options_to_json)(const im_campaign_spec *c, json_t *obj);
    /* A new sampler over space for campaign c, or NULL when this coordinator
     * cannot run it yet. On success *out is owned by the caller. */
    int (*create)(sampler **out, const param_space *space, const im_campaign_spec *c,
                  im_error *err);
} sampler_def;

/* The i-th sampler of the table (samplers.c), NULL past the end. */
const sampler_def *sampler_def_at(int i);

/* What opt_parse_named's target is for the sampler family: the spec the
 * options go into, and whether the campaign's "seed" was given (the common
 * key "seed" must agree with it). */
typedef struct sampler_parse {
    im_campaign_spec *spec;
    int seed_given;
} sampler_parse;

/* The family for opt_parse_named: "sampler" with the common key "seed";
 * target is a sampler_parse, `common` is the caller's. */
void sampler_family(opt_family *fam, int (*common)(void *target, const char *key, const json_t *v,
                                                   const char *field, im_error *err));

/* The sampler of search campaign spec over its gamma space (kind_search.c
 * builds it), from the table entry spec->sampler. On success *out is a new
 * sampler owned by the caller. Returns 0, or IM_EINVAL (not a search
 * campaign, a sampler this coordinator cannot run, a bad space). */
int sampler_new(sampler **out, const im_campaign_spec *spec, im_error *err);

/* The random sampler over space with seed: point N is uniform in the
 * space, drawn from a generator seeded with (seed, N + 1), so it needs no
 * history. Returns 0 or IM_EINVAL (an invalid space). */
int sampler_random_create(sampler **out, const param_space *space, uint64_t seed, im_error *err);

static inline int sampler_suggest(sampler *s, int point, const sampler_point *pending,
                                  int n_pending, sampler_point *out, im_error *err)
{
    return s->ops->suggest(s, point, pending, n_pending, out, err);
}

/* 1 if the sampler wants the history replayed into observe(). */
static inline int sampler_wants_history(const sampler *s)
{
    return s->ops->observe != NULL;
}

static inline void sampler_observe(sampler *s, const sampler_point *x, double value,
                                   point_state state)
{
    if (s->ops->observe) s->ops->observe(s, x, value, state);
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
