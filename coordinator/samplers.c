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

/* ---- parameters in the campaign file ---- */

int param_valid_name(const char *name)
{
    return im_spec_name_valid(name, SAMPLER_NAME_MAX - 1);
}

/* [low, high]: two finite numbers with low <= high. */
static int read_range(const json_t *v, const char *field, double *lo, double *hi, im_error *err)
{
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        return im_error_set(err, IM_EFORMAT, "campaign: '%s' must be [low, high] (two numbers)",
                            field);
    *lo = json_number_value(json_array_get(v, 0));
    *hi = json_number_value(json_array_get(v, 1));
    if (!isfinite(*lo) || !isfinite(*hi))
        return im_error_set(err, IM_ERANGE, "campaign: '%s' must be finite", field);
    if (*lo > *hi)
        return im_error_set(err, IM_ERANGE, "campaign: '%s': low %g > high %g", field, *lo, *hi);
    return 0;
}

/* {"float": [low, high]}, optionally on a log scale. */
static int read_float_param(param_def *p, const json_t *f, int log_scale, const char *field,
                            im_error *err)
{
    char sub[160];
    snprintf(sub, sizeof sub, "%s.float", field);
    p->type = log_scale ? PARAM_LOG_FLOAT : PARAM_FLOAT;
    int rc = read_range(f, sub, &p->low, &p->high, err);
    if (rc) return rc;
    if (log_scale && !(p->low > 0))
        return im_error_set(err, IM_ERANGE, "campaign: '%s': a log range needs low > 0", field);
    return 0;
}

/* {"int": [low, high]}: integer bounds no larger than 1e15 in magnitude. */
static int read_int_param(param_def *p, const json_t *i, const char *field, im_error *err)
{
    char sub[160];
    snprintf(sub, sizeof sub, "%s.int", field);
    p->type = PARAM_INT;
    int rc = read_range(i, sub, &p->low, &p->high, err);
    if (rc) return rc;
    if (p->low != floor(p->low) || p->high != floor(p->high) || fabs(p->low) > 1e15 ||
        fabs(p->high) > 1e15)
        return im_error_set(err, IM_ERANGE, "campaign: '%s' must have integer bounds", sub);
    return 0;
}

/* {"categorical": [...]}: 1..SAMPLER_MAX_CHOICES distinct non-empty names. */
static int read_categorical_param(param_def *p, const json_t *c, const char *field, im_error *err)
{
    p->type = PARAM_CATEGORICAL;
    if (!json_is_array(c) || json_array_size(c) < 1 || json_array_size(c) > SAMPLER_MAX_CHOICES)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: '%s.categorical' must be a list of 1..%d choices", field,
                            SAMPLER_MAX_CHOICES);
    size_t k;
    const json_t *x;
    json_array_foreach(c, k, x)
    {
        if (!json_is_string(x) || !json_string_length(x) ||
            json_string_length(x) >= SAMPLER_NAME_MAX)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s.categorical[%zu]' must be a string of 1..%d "
                                "characters",
                                field, k, SAMPLER_NAME_MAX - 1);
        for (size_t j = 0; j < k; j++)
            if (!strcmp(p->choices[j], json_string_value(x)))
                return im_error_set(err, IM_EFORMAT,
                                    "campaign: '%s.categorical': '%s' is listed twice", field,
                                    json_string_value(x));
        snprintf(p->choices[k], sizeof p->choices[k], "%s", json_string_value(x));
    }
    p->n_choices = (int)json_array_size(c);
    return 0;
}

/* The object form: exactly one of float, int and categorical, plus 'log'. */
static int param_from_object(param_def *p, const json_t *v, const char *field, im_error *err)
{
    const json_t *f = json_object_get(v, "float"), *i = json_object_get(v, "int"),
                 *c = json_object_get(v, "categorical"), *lg = json_object_get(v, "log");
    const char *key;
    const json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (strcmp(key, "float") && strcmp(key, "int") && strcmp(key, "categorical") &&
            strcmp(key, "log"))
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s': unknown key '%s' (float, int, categorical, log)",
                                field, key);
    }
    if ((f != NULL) + (i != NULL) + (c != NULL) != 1)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: '%s' must have exactly one of 'float', 'int' and "
                            "'categorical'",
                            field);
    int log_scale = 0;
    if (lg) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s.log", field);
        int rc = im_json_read_bool(lg, "campaign", sub, &log_scale, err);
        if (rc) return rc;
        if (!f && log_scale)
            return im_error_set(err, IM_EFORMAT, "campaign: '%s': 'log' is for 'float' only",
                                field);
    }
    if (f) return read_float_param(p, f, log_scale, field, err);
    if (i) return read_int_param(p, i, field, err);
    return read_categorical_param(p, c, field, err);
}

int param_from_json(param_def *p, const char *name, const json_t *v, const char *field,
                    im_error *err)
{
    memset(p, 0, sizeof *p);
    if (!param_valid_name(name))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: '%s': a parameter's name must be 1..%d characters of "
                            "[A-Za-z0-9._-]",
                            field, SAMPLER_NAME_MAX - 1);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (json_is_number(v)) {
        p->type = PARAM_FIXED;
        p->value = p->low = p->high = json_number_value(v);
        if (!isfinite(p->value))
            return im_error_set(err, IM_ERANGE, "campaign: '%s' must be finite", field);
        return 0;
    }
    if (json_is_array(v)) {
        p->type = PARAM_FLOAT;
        return read_range(v, field, &p->low, &p->high, err);
    }
    if (!json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: '%s' must be a number (fixed), [low, high], {\"float\": "
                            "[low, high], \"log\": true}, {\"int\": [low, high]} or "
                            "{\"categorical\": [...]}, not %s",
                            field, im_json_kind(v));
    return param_from_object(p, v, field, err);
}

json_t *param_to_json(const param_def *p)
{
    switch (p->type) {
    case PARAM_FIXED: return json_real(p->value);
    case PARAM_FLOAT: return json_pack("{s:[f, f]}", "float", p->low, p->high);
    case PARAM_LOG_FLOAT: return json_pack("{s:[f, f], s:b}", "float", p->low, p->high, "log", 1);
    case PARAM_INT: return json_pack("{s:[I, I]}", "int", (json_int_t)p->low, (json_int_t)p->high);
    case PARAM_CATEGORICAL: {
        json_t *a = json_array();
        for (int i = 0; i < p->n_choices; i++) json_array_append_new(a, json_string(p->choices[i]));
        return json_pack("{s:o}", "categorical", a);
    }
    }
    return json_null();
}

json_t *param_value_json(const param_def *p, double x)
{
    if (p->type == PARAM_INT && fabs(x) < 9e15) return json_integer((json_int_t)x);
    if (p->type == PARAM_CATEGORICAL) {
        int k = (int)x;
        return json_string(k >= 0 && k < p->n_choices ? p->choices[k] : "");
    }
    return json_real(x);
}
