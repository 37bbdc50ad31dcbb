/*
 * pruners.c: the pruner table and the calls every pruner shares. A new
 * pruner is one file with its pruner_def plus one line in `table` below.
 */
#include "pruner.h"

#include <math.h>
#include <stddef.h>

extern const pruner_def pruner_median_def;     /* pruner_percentile.c */
extern const pruner_def pruner_percentile_def; /* pruner_percentile.c */

/* "none": never prunes; no options. */
static const pruner_def pruner_none_def = {.opt = {.name = "none", .keys = NULL}};

/* In the order of im_pruner_kind. */
static const pruner_def *const table[] = {
    &pruner_none_def,
    &pruner_median_def,
    &pruner_percentile_def,
};
#define N_PRUNERS ((int)(sizeof table / sizeof table[0]))

const pruner_def *pruner_def_at(int i)
{
    return i >= 0 && i < N_PRUNERS ? table[i] : NULL;
}

const char *im_pruner_name(im_pruner_kind kind)
{
    const pruner_def *d = pruner_def_at((int)kind);
    return d ? d->opt.name : "unknown";
}

static const opt_member *member(int i)
{
    const pruner_def *d = pruner_def_at(i);
    return d ? &d->opt : NULL;
}

static int set(void *target, int i, const char *key, const json_t *v, const char *field,
               im_error *err)
{
    return pruner_def_at(i)->set_option(target, key, v, field, err);
}

void pruner_family(opt_family *fam)
{
    *fam = (opt_family){.field = "pruner",
                        .forms = "an object {\"name\": ...}, a pruner name or null",
                        .null_name = "none",
                        .member = member,
                        .set = set};
}

pruner *pruner_new(const im_pruner_spec *spec)
{
    const pruner_def *d = pruner_def_at((int)spec->kind);
    return d && d->create ? d->create(spec) : NULL;
}

void pruner_add(pruner *p, const double *val_acc, int n)
{
    if (!p) return;
    p->ops->add(p, val_acc, n);
    p->completed++;
}

int pruner_completed(const pruner *p)
{
    return p ? p->completed : 0;
}

int pruner_should_stop(const pruner *p, int epoch, double best)
{
    return p ? p->ops->should_stop(p, epoch, best) : 0;
}

double pruner_reference(const pruner *p, int epoch)
{
    return p && p->ops->reference ? p->ops->reference(p, epoch) : NAN;
}

void pruner_free(pruner **pp)
{
    if (!pp || !*pp) return;
    (*pp)->ops->destroy(*pp);
    *pp = NULL;
}
