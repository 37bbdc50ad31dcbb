/*
 * kinds.c: the campaign kind table. A new kind is one file with its
 * kind_def plus one line in `table` below (and, because the schema's
 * campaigns.kind CHECK lists the kinds, a migration that adds its name).
 */
#include "kind.h"

#include "campaign.h"

#include <stdio.h>
#include <string.h>

extern const kind_def kind_search;   /* kind_search.c */
extern const kind_def kind_fixed;    /* kind_fixed.c */
extern const kind_def kind_ablation; /* kind_ablation.c */

/* In the order of im_campaign_kind. */
static const kind_def *const table[] = {
    &kind_search,
    &kind_fixed,
    &kind_ablation,
};
#define N_KINDS ((int)(sizeof table / sizeof table[0]))

const kind_def *kind_def_at(int i)
{
    return i >= 0 && i < N_KINDS ? table[i] : NULL;
}

const kind_def *kind_owning(const char *key)
{
    for (int k = 0; k < N_KINDS; k++)
        for (int i = 0; table[k]->keys[i]; i++)
            if (!strcmp(table[k]->keys[i], key)) return table[k];
    return NULL;
}

int kind_point_from_list(campaign *c, int p, double *gamma, char *label, im_error *err)
{
    if (!c->points || p < 0 || p >= c->n_points)
        return im_error_set(err, IM_EINVAL, "campaign '%s': no point %d", c->name, p);
    size_t nv = (size_t)im_campaign_n_values(&c->spec);
    memcpy(gamma, c->points + (size_t)p * nv, nv * sizeof *gamma);
    snprintf(label, STORE_NAME_MAX, "%s", c->labels ? c->labels[p] : "");
    return 0;
}
