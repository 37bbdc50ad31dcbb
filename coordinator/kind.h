/*
 * kind.h: what a campaign kind is, and the kind table. A kind is one file
 * (kind_search.c, kind_fixed.c, kind_ablation.c; a chained or staged kind
 * later) that defines a kind_def plus one line in kinds.c, in the order of
 * im_campaign_kind. Nothing else switches on a kind.
 *
 * A kind owns, for the campaign file, its own keys (parse, defaults,
 * canonical JSON; a key of another kind is refused by campaign_spec.c), and,
 * for the running campaign, how its points are planned, what happens when
 * one of its trials or points ends, when a stage ends (plan another stage,
 * or be done), and what it does when another campaign ends (a chained
 * campaign waiting for its base).
 *
 * The campaign (campaign.c) keeps the queues and the store in step and calls
 * these hooks; a hook never writes the store's trial rows itself. Hooks run
 * in the coordinator's loop: not thread-safe. Errors: 0 or an IM_E* code
 * with err set; IM_EDB means the database failed (the caller rolls back).
 */
#ifndef IM_KIND_H
#define IM_KIND_H

#include "campaign_spec.h"
#include "im.h"
#include "lattice.h"
#include "sampler.h"
#include "store.h"

#include <jansson.h>

struct campaign;
struct trial;

typedef struct kind_def {
    const char *name;        /* as in the campaign file */
    const char *const *keys; /* its own keys of the campaign object, NULL-terminated */
    int varies_gamma;        /* 1: refuses setup "backprop", which ignores gamma */
    int runs_exec;           /* 1: also runs backend "exec" (named, typed parameters) */

    /* ---- the campaign file ---- */
    /* Defaults of the keys every kind has, before they are read (ablation:
     * seeds_per_point 10). May be NULL. */
    void (*defaults)(im_campaign_spec *c);
    /* Read its keys from obj (after "train": lat is the setup's lattice).
     * Returns 0, IM_EFORMAT, IM_ERANGE. */
    int (*parse)(im_campaign_spec *c, const json_t *obj, const im_lattice *lat, im_error *err);
    /* Add its keys to the canonical JSON o. */
    void (*to_json)(const im_campaign_spec *c, const im_lattice *lat, json_t *o);
    /* The sampler named in the store's campaigns row, or NULL. May be NULL. */
    const char *(*sampler_name)(const im_campaign_spec *c);

    /* ---- the running campaign ---- */
    /* At submission, before the campaign is built: resolve references to
     * the store (an ablation's {"trial": ID}). May be NULL. */
    int (*submit)(store *st, im_campaign_spec *spec, im_error *err);
    /* Plan the first stage: set c->n_points (and whatever point() needs:
     * c->points and c->labels, or c->smp); also at resume, with the store
     * to read. 0 points is allowed only for a kind that can wait for
     * another campaign (on_campaign_ended). Returns 0, IM_EINVAL, IM_EDB. */
    int (*plan)(struct campaign *c, store *st, im_error *err);
    /* The gamma (c->spec.n_terms numbers) of point p < c->n_points, and its
     * label (STORE_NAME_MAX bytes, "" for none). */
    int (*point)(struct campaign *c, int p, double *gamma, char *label, im_error *err);
    /* The stage of point p as the store's trials.stage records it ("base",
     * "individual", "successive"), or NULL. May be NULL (none). */
    const char *(*stage)(const struct campaign *c, int p);
    /* 1 if on_point_end must hear every point's end, also those before a
     * restart: then the ended points are replayed at resume (and the pending
     * points of before the restart are known again). May be NULL (no). */
    int (*wants_history)(const struct campaign *c);
    /* Trial t of the campaign ended with status (val_acc NAN unless done),
     * before its point's tally. May be NULL. */
    void (*on_trial_end)(struct campaign *c, const struct trial *t, store_trial_status status,
                         double val_acc);
    /* Every seed of point x ended, with the aggregate value and state. May
     * be NULL. Also called at resume for the points that had ended. */
    void (*on_point_end)(struct campaign *c, const sampler_point *x, double value,
                         point_state state);
    /* Every planned point has ended. Return 1 when the campaign is not
     * done (it planned more points: c->n_points grew, the next stage; or it
     * waits for another campaign), 0 when it is done, or an IM_E* code.
     * May be NULL (done). */
    int (*on_stage_end)(struct campaign *c, store *st, im_error *err);
    /* Another campaign (`name`, id) ended with `status` (done or
     * cancelled): a campaign chained to it may plan its points now
     * (c->n_points grows). Returns 0, 1 when this campaign must be
     * cancelled (err->msg says why), or an IM_E* code. May be NULL. */
    int (*on_campaign_ended)(struct campaign *c, store *st, const char *name, int64_t id,
                             store_campaign_status status, im_error *err);
    /* The name of the campaign this one waits for (campaign.c makes its
     * status "waiting", in memory and in the store), or NULL. May be NULL
     * (never waits). */
    const char *(*waiting_for)(const struct campaign *c);
    /* Free what plan() allocated beyond c->points, c->labels and c->smp,
     * which campaign.c frees. May be NULL. */
    void (*release)(struct campaign *c);
} kind_def;

/* The i-th kind of the table (kinds.c), NULL past the end. */
const kind_def *kind_def_at(int i);

/* The kind that has `key` among its own keys, or NULL. */
const kind_def *kind_owning(const char *key);

/* ---- shared by the kinds ---- */

/* The gamma space of a search campaign as sampler parameters: one float per
 * component, in canonical order, named by its short name (h_res last); a
 * component with low == high is fixed. Returns 0 or IM_EINVAL. */
int search_space(const im_campaign_spec *c, param_space *out, im_error *err);

/* The values of a point of search_space(c) (im_campaign_n_values of them:
 * the gamma, or an exec campaign's parameters). */
void search_gamma(const im_campaign_spec *c, const sampler_point *x, double *gamma);

/* Gamma lists owned by the campaign (c->points [n][n_terms], c->labels
 * [n]), such as an ablation's stages: the point() that reads them. */
int kind_point_from_list(struct campaign *c, int p, double *gamma, char *label, im_error *err);

#endif /* IM_KIND_H */
