/*
 * samplers.c: the sampler table, and what every sampler shares (parameter
 * spaces, the "sampler" object of a campaign file). A new sampler is one
 * file with its sampler_def plus one line in `table` below.
 */
#include "kind.h"
#include "sampler.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

extern const sampler_def sampler_random_def; /* sampler_random.c */
extern const sampler_def sampler_tpe_def;    /* sampler_tpe.c */

/* In the order of im_sampler_kind. */
static const sampler_def *const table[] = {
    &sampler_random_def,
    &sampler_tpe_def,
};
#define N_SAMPLERS ((int)(sizeof table / sizeof table[0]))

const sampler_def *sampler_def_at(int i)
{
    return i >= 0 && i < N_SAMPLERS ? table[i] : NULL;
}

const char *im_sampler_name(im_sampler_kind kind)
{
    const sampler_def *d = sampler_def_at((int)kind);
    return d ? d->opt.name : "unknown";
}

static const opt_member *member(int i)
{
    const sampler_def *d = sampler_def_at(i);
    return d ? &d->opt : NULL;
}

static int set(void *target, int i, const char *key, const json_t *v, const char *field,
               im_error *err)
{
    sampler_parse *sp = target;
    return sampler_def_at(i)->set_option(sp->spec, key, v, field, err);
}

void sampler_family(opt_family *fam, int (*common)(void *target, const char *key, const json_t *v,
                                                   const char *field, im_error *err))
{
    static const char *const common_keys[] = {"seed", NULL};
    *fam = (opt_family){.field = "sampler",
                        .forms = "an object {\"name\": ...} or a sampler name",
                        .null_name = NULL,
                        .common_keys = common_keys,
                        .member = member,
                        .set = set,
                        .common = common};
}

int sampler_new(sampler **out, const im_campaign_spec *spec, im_error *err)
{
    *out = NULL;
    const kind_def *kind = kind_def_at((int)spec->kind);
    if (!kind || !kind->sampler_name) /* only a kind that names a sampler has one */
        return im_error_set(err, IM_EINVAL, "sampler: campaign '%s' is not a search", spec->name);
    const sampler_def *d = sampler_def_at((int)spec->sampler);
    if (!d || !d->create)
        return im_error_set(err, IM_EINVAL,
                            "campaign: 'sampler' \"%s\" is not supported by this coordinator "
                            "yet (use \"random\")",
                            im_sampler_name(spec->sampler));
    param_space space;
    int rc = search_space(spec, &space, err);
    if (rc) return rc;
    return d->create(out, &space, spec, err);
}

/* ---- parameter spaces ---- */

int param_space_find(const param_space *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->p[i].name, name)) return i;
    return -1;
}

int param_valid(const param_def *p, double x)
{
    switch (p->type) {
    case PARAM_FLOAT:
    case PARAM_LOG_FLOAT: return x >= p->low && x <= p->high;
    case PARAM_INT: return x >= p->low && x <= p->high && x == floor(x);
    case PARAM_CATEGORICAL: return x >= 0 && x < p->n_choices && x == floor(x);
    case PARAM_FIXED: return x == p->value;
    }
    return 0;
}

int param_space_add(param_space *s, const param_def *p, im_error *err)
{
    if (s->n >= SAMPLER_MAX_PARAMS)
        return im_error_set(err, IM_EINVAL, "sampler: more than %d parameters", SAMPLER_MAX_PARAMS);
    if (!p->name[0] || param_space_find(s, p->name) >= 0)
        return im_error_set(err, IM_EINVAL, "sampler: parameter '%s' is empty or given twice",
                            p->name);
    int ok = 1;
    switch (p->type) {
    case PARAM_FLOAT: ok = isfinite(p->low) && isfinite(p->high) && p->low <= p->high; break;
    case PARAM_LOG_FLOAT: ok = isfinite(p->high) && p->low > 0 && p->low <= p->high; break;
    case PARAM_INT:
        ok = isfinite(p->low) && isfinite(p->high) && p->low <= p->high &&
             p->low == floor(p->low) && p->high == floor(p->high);
        break;
    case PARAM_CATEGORICAL: ok = p->n_choices >= 1 && p->n_choices <= SAMPLER_MAX_CHOICES; break;
    case PARAM_FIXED: ok = isfinite(p->value); break;
    }
    if (!ok)
        return im_error_set(err, IM_EINVAL, "sampler: parameter '%s' has an empty range", p->name);
    s->p[s->n++] = *p;
    return 0;
}
