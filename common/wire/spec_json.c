/*
 * spec_json.c: the trial spec and the training result as JSON (spec_json.h).
 *
 * Parsing is a two-pass affair: first every key of the object is checked
 * against the known keys (so a typo is reported as such, with a suggestion),
 * then each known key is read in a fixed order, then the rules that involve
 * several keys (max_lateral against setup and hidden, gamma against the
 * setup's k) are checked last, by the core's rules of a filled spec
 * (train_spec.h), so the order of keys in a file never matters. All parsing
 * works on a copy and stores it only on success.
 *
 * Messages start with "spec: " (or the caller's prefix, "campaign: 'train'")
 * and name the field in quotes. Wrong types and unknown names give
 * IM_EFORMAT, values out of their range IM_ERANGE.
 *
 * Workload: a few specs and one result per trial; nothing here is
 * performance-critical.
 */
#include "spec_json.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* ---- small JSON readers ------------------------------------------------- */

/* A short description of a JSON value for messages ("got ..."). */
const char *im_json_kind(const json_t *v)
{
    if (!v) return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* Edit distance, for "did you mean" (short strings only). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40) return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            int m = sub < del ? sub : del;
            d[i][j] = m < ins ? m : ins;
        }
    }
    return d[la][lb];
}

/* Refuse the first key of obj that is not in known (NULL-terminated). */
int im_json_check_keys(const json_t *obj, const char *const *known, const char *prefix,
                       im_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int found = 0, best = 3;
        const char *hint = NULL;
        for (int i = 0; known[i]; i++) {
            if (strcmp(key, known[i]) == 0) found = 1;
            int d = edit_distance(key, known[i]);
            if (d < best) best = d, hint = known[i];
        }
        if (found) continue;
        for (int i = 0; known[i] && !hint; i++) { /* or a long common prefix */
            size_t p = 0;
            while (key[p] && key[p] == known[i][p]) p++;
            if (p >= 6) hint = known[i];
        }
        if (hint)
            return im_error_set(err, IM_EFORMAT, "%s: unknown key '%s' (did you mean '%s'?)",
                                prefix, key, hint);
        return im_error_set(err, IM_EFORMAT, "%s: unknown key '%s'", prefix, key);
    }
    return 0;
}

/* An integer in lo..hi. */
int im_json_read_int(const json_t *v, const char *prefix, const char *field, long long lo,
                     long long hi, long long *out, im_error *err)
{
    if (!json_is_integer(v)) {
        if (hi == LLONG_MAX || hi == INT_MAX)
            return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer >= %lld, not %s",
                                prefix, field, lo, im_json_kind(v));
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer in %lld..%lld, not %s",
                            prefix, field, lo, hi, im_json_kind(v));
    }
    long long x = (long long)json_integer_value(v);
    if (x < lo || x > hi) {
        if (hi == LLONG_MAX || hi == INT_MAX)
            return im_error_set(err, IM_ERANGE, "%s: '%s' must be an integer >= %lld (got %lld)",
                                prefix, field, lo, x);
        return im_error_set(err, IM_ERANGE, "%s: '%s' must be an integer in %lld..%lld (got %lld)",
                            prefix, field, lo, hi, x);
    }
    *out = x;
    return 0;
}

int im_json_read_int32(const json_t *v, const char *prefix, const char *field, long long lo,
                       long long hi, int *out, im_error *err)
{
    long long x = 0;
    int rc = im_json_read_int(v, prefix, field, lo, hi, &x, err);
    if (rc == 0) *out = (int)x;
    return rc;
}

/* A finite number (integer or real); positive = 1: > 0, 0: >= 0, -1: any. */
int im_json_read_number(const json_t *v, const char *prefix, const char *field, int positive,
                        double *out, im_error *err)
{
    const char *what = positive > 0 ? " > 0" : positive == 0 ? " >= 0" : "";
    if (!json_is_number(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be a number%s, not %s", prefix, field,
                            what, im_json_kind(v));
    double x = json_number_value(v);
    if (!isfinite(x) || (positive > 0 && !(x > 0)) || (positive == 0 && !(x >= 0)))
        return im_error_set(err, IM_ERANGE, "%s: '%s' must be a finite number%s (got %g)", prefix,
                            field, what, x);
    *out = x;
    return 0;
}

int im_json_read_bool(const json_t *v, const char *prefix, const char *field, int *out,
                      im_error *err)
{
    if (!json_is_boolean(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be true or false, not %s", prefix,
                            field, im_json_kind(v));
    *out = json_is_true(v);
    return 0;
}

/* ---- gamma -------------------------------------------------------------- */

/* A preset name for k sources into v; *preset gets the name. */
static int gamma_from_name(const json_t *g, int k, const char *prefix, const char *field, double *v,
                           const char **preset, im_error *err)
{
    const char *name = json_string_value(g);
    if (im_gamma_preset(name, k, v) == 0) {
        *preset = name;
        return 0;
    }
    double tmp[IM_MAX_TERMS];
    int other_k = im_gamma_preset(name, 5 - k, tmp) == 0;
    if (other_k)
        return im_error_set(err, IM_EFORMAT, "%s: '%s': preset '%s' is not defined for k = %d",
                            prefix, field, name, k);
    return im_error_set(err, IM_EFORMAT,
                        "%s: '%s': unknown preset '%s' (known: paper-heuristic, "
                        "paper-optimized)",
                        prefix, field, name);
}

/* A list of lat->n + 1 finite numbers into v. */
static int gamma_from_list(const json_t *g, const im_lattice *lat, const char *prefix,
                           const char *field, double *v, im_error *err)
{
    int n = lat->n + 1;
    size_t len = json_array_size(g);
    if (len != (size_t)n)
        return im_error_set(err, IM_EFORMAT,
                            "%s: '%s' has %zu numbers, expected %d (k = %d: the %d atoms in "
                            "canonical order, then h_res)",
                            prefix, field, len, n, lat->k, lat->n);
    for (int i = 0; i < n; i++) {
        const json_t *x = json_array_get(g, (size_t)i);
        if (!json_is_number(x))
            return im_error_set(err, IM_EFORMAT, "%s: '%s'[%d] (%s) must be a number, not %s",
                                prefix, field, i, lat->short_name[i], im_json_kind(x));
        v[i] = json_number_value(x);
        if (!isfinite(v[i]))
            return im_error_set(err, IM_ERANGE, "%s: '%s'[%d] (%s) must be finite", prefix, field,
                                i, lat->short_name[i]);
    }
    return 0;
}

/* An object of finite numbers by atom name into v (v zeroed by the caller). */
static int gamma_from_object(const json_t *g, const im_lattice *lat, const char *prefix,
                             const char *field, double *v, im_error *err)
{
    int seen[IM_MAX_TERMS] = {0};
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)g, key, x)
    {
        int i = im_lattice_find(lat, key);
        if (i < 0)
            return im_error_set(err, IM_EFORMAT, "%s: '%s': unknown atom '%s' (k = %d)", prefix,
                                field, key, lat->k);
        if (seen[i])
            return im_error_set(err, IM_EFORMAT, "%s: '%s': atom '%s' is given twice", prefix,
                                field, lat->short_name[i]);
        seen[i] = 1;
        if (!json_is_number(x))
            return im_error_set(err, IM_EFORMAT, "%s: '%s': '%s' must be a number, not %s", prefix,
                                field, key, im_json_kind(x));
        v[i] = json_number_value(x);
        if (!isfinite(v[i]))
            return im_error_set(err, IM_ERANGE, "%s: '%s': '%s' must be finite", prefix, field,
                                key);
    }
    return 0;
}

int im_gamma_from_json(const json_t *g, int k, const char *prefix, const char *field, double *out,
                       char *preset_out, im_error *err)
{
    if (k != 2 && k != 3)
        return im_error_set(err, IM_EINVAL, "%s: '%s': k must be 2 or 3, not %d", prefix, field, k);
    im_lattice lat;
    im_error lerr;
    if (im_lattice_init(&lat, k, &lerr))
        return im_error_set(err, lerr.code, "%s: '%s': %s", prefix, field, lerr.msg);
    return im_gamma_from_json_lat(g, &lat, prefix, field, out, preset_out, err);
}

int im_gamma_from_json_lat(const json_t *g, const im_lattice *lat, const char *prefix,
                           const char *field, double *out, char *preset_out, im_error *err)
{
    int k = lat->k, n = lat->n + 1, rc;
    double v[IM_MAX_TERMS] = {0};
    const char *preset = NULL;

    if (json_is_string(g))
        rc = gamma_from_name(g, k, prefix, field, v, &preset, err);
    else if (json_is_array(g))
        rc = gamma_from_list(g, lat, prefix, field, v, err);
    else if (json_is_object(g))
        rc = gamma_from_object(g, lat, prefix, field, v, err);
    else
        rc = im_error_set(err, IM_EFORMAT,
                          "%s: '%s' must be a preset name, a list of %d numbers or an object "
                          "by atom name, not %s",
                          prefix, field, n, im_json_kind(g));
    if (rc) return rc;
    if (!preset) preset = im_gamma_recognise(v, k);
    memcpy(out, v, sizeof(double) * (size_t)n);
    if (preset_out) copy_name(preset_out, 32, preset ? preset : "");
    return 0;
}

int im_gamma_parse(const json_t *g, int k, const char *field, double *out, char *preset_out,
                   im_error *err)
{
    return im_gamma_from_json(g, k, "spec", field ? field : "gamma", out, preset_out, err);
}

/* ---- trial spec --------------------------------------------------------- */

static const char *const train_keys[] = {
    "dataset",   "setup",     "hidden",      "max_lateral", "epochs", "batch",  "seed",
    "gamma",     "gamma_out", "lr_hidden",   "wd_hidden",   "lr_out", "wd_out", "bins",
    "bin_range", "threads",   "train_limit", "eval_limit",  NULL,
};

/* A plain numeric key of the spec: an int in lo..hi (F_INT_OR_NULL: or
 * null, read as 0), or a finite double (positive as for
 * im_json_read_number). Read in the table's order, so the first bad key of
 * an object is the one reported. */
typedef struct spec_field {
    const char *key;
    size_t off; /* of the int or double in im_train_spec */
    enum { F_INT, F_INT_OR_NULL, F_NUMBER } kind;
    int lo, hi;   /* F_INT, F_INT_OR_NULL */
    int positive; /* F_NUMBER */
} spec_field;

static const spec_field size_fields[] = {
    {"hidden", offsetof(im_train_spec, hidden), F_INT, 1, IM_SPEC_MAX_HIDDEN, 0},
    {"max_lateral", offsetof(im_train_spec, max_lateral), F_INT_OR_NULL, 1, IM_SPEC_MAX_HIDDEN, 0},
    {"epochs", offsetof(im_train_spec, epochs), F_INT, 0, IM_SPEC_MAX_EPOCHS, 0},
    {"batch", offsetof(im_train_spec, batch), F_INT, 1, IM_SPEC_MAX_BATCH, 0},
};

static const spec_field learning_fields[] = {
    {"lr_hidden", offsetof(im_train_spec, lr_hidden), F_NUMBER, 0, 0, 1},
    {"wd_hidden", offsetof(im_train_spec, wd_hidden), F_NUMBER, 0, 0, 0},
    {"lr_out", offsetof(im_train_spec, lr_out), F_NUMBER, 0, 0, 1},
    {"wd_out", offsetof(im_train_spec, wd_out), F_NUMBER, 0, 0, 0},
    {"bins", offsetof(im_train_spec, bins), F_INT, IM_SPEC_MIN_BINS, IM_SPEC_MAX_BINS, 0},
    {"bin_range", offsetof(im_train_spec, bin_range), F_NUMBER, 0, 0, 1},
    {"threads", offsetof(im_train_spec, threads), F_INT, 1, IM_SPEC_MAX_THREADS, 0},
    {"train_limit", offsetof(im_train_spec, train_limit), F_INT_OR_NULL, 0, INT_MAX, 0},
    {"eval_limit", offsetof(im_train_spec, eval_limit), F_INT_OR_NULL, 0, INT_MAX, 0},
};

/* The keys of fields[n] that obj gives, in the table's order, into t. */
static int read_fields(im_train_spec *t, const spec_field *fields, size_t n, const json_t *obj,
                       const char *prefix, im_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const spec_field *f = &fields[i];
        const json_t *v = json_object_get(obj, f->key);
        if (!v) continue;
        char *at = (char *)t + f->off;
        int rc = 0;
        if (f->kind == F_NUMBER)
            rc = im_json_read_number(v, prefix, f->key, f->positive, (double *)(void *)at, err);
        else if (f->kind == F_INT_OR_NULL && json_is_null(v))
            *(int *)(void *)at = 0;
        else
            rc = im_json_read_int32(v, prefix, f->key, f->lo, f->hi, (int *)(void *)at, err);
        if (rc) return rc;
    }
    return 0;
}

/* "dataset" and "setup" of obj into t. */
static int train_read_names(im_train_spec *t, const json_t *obj, const char *prefix, im_error *err)
{
    const json_t *v;
    if ((v = json_object_get(obj, "dataset"))) {
        if (!json_is_string(v))
            return im_error_set(err, IM_EFORMAT, "%s: 'dataset' must be a string, not %s", prefix,
                                im_json_kind(v));
        const char *name = json_string_value(v);
        if (!im_spec_name_valid(name, sizeof t->dataset - 1) || name[0] == '.')
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'dataset' must be a folder name of 1..%zu characters "
                                "[A-Za-z0-9._-], not starting with '.' (got '%.80s')",
                                prefix, sizeof t->dataset - 1, name);
        copy_name(t->dataset, sizeof t->dataset, name);
    }
    if ((v = json_object_get(obj, "setup"))) {
        if (!json_is_string(v) || im_setup_parse(json_string_value(v), &t->setup))
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'setup' must be one of bivariate-context, bivariate-lateral, "
                                "trivariate, trivariate-sparse, trivariate-feedback, backprop "
                                "(got %s%s%s)",
                                prefix, json_is_string(v) ? "'" : "",
                                json_is_string(v) ? json_string_value(v) : im_json_kind(v),
                                json_is_string(v) ? "'" : "");
    }
    return 0;
}

/* The network's and the run's sizes of obj into t: hidden, max_lateral,
 * epochs, batch, seed. */
static int train_read_sizes(im_train_spec *t, const json_t *obj, const char *prefix, im_error *err)
{
    const json_t *v;
    int rc;
    if ((rc = read_fields(t, size_fields, sizeof size_fields / sizeof *size_fields, obj, prefix,
                          err)))
        return rc;
    if ((v = json_object_get(obj, "seed"))) {
        long long seed;
        if ((rc = im_json_read_int(v, prefix, "seed", 0, LLONG_MAX, &seed, err))) return rc;
        t->seed = (uint64_t)seed;
    }
    return 0;
}

/* The learning settings of obj into t: gamma_out, rates, binning, threads
 * and the sample limits. */
static int train_read_learning(im_train_spec *t, const json_t *obj, const char *prefix,
                               im_error *err)
{
    const json_t *v;
    int rc;
    if ((v = json_object_get(obj, "gamma_out")) &&
        (rc = im_gamma_from_json(v, 2, prefix, "gamma_out", t->gamma_out, NULL, err)))
        return rc;
    return read_fields(t, learning_fields, sizeof learning_fields / sizeof *learning_fields, obj,
                       prefix, err);
}

int im_train_spec_parse(im_train_spec *s, const json_t *obj, const char *prefix, im_error *err)
{
    im_train_spec t = *s;
    const json_t *v;
    int rc;

    if (!json_is_object(obj))
        return im_error_set(err, IM_EFORMAT, "%s: expected a JSON object, not %s", prefix,
                            im_json_kind(obj));
    if ((rc = im_json_check_keys(obj, train_keys, prefix, err)) ||
        (rc = train_read_names(&t, obj, prefix, err)) ||
        (rc = train_read_sizes(&t, obj, prefix, err)) ||
        (rc = train_read_learning(&t, obj, prefix, err)))
        return rc;

    /* rules across keys, now that every key is known */
    if ((rc = im_train_spec_validate(&t, prefix, err))) return rc;
    if ((v = json_object_get(obj, "gamma"))) {
        int k = im_setup_sources(t.setup);
        if ((rc = im_gamma_from_json(v, k, prefix, "gamma", t.gamma, t.gamma_preset, err)))
            return rc;
        t.n_gamma = im_setup_terms(t.setup);
    } else if ((rc = im_train_spec_fit_gamma(&t, prefix, err))) {
        return rc;
    }
    *s = t;
    return 0;
}

int im_train_spec_from_json(im_train_spec *s, const json_t *obj, im_error *err)
{
    return im_train_spec_parse(s, obj, "spec", err);
}

/* Split "key=value" and add it to obj: the value as JSON if it parses, else
 * as a string. */
static int assignment_add(json_t *obj, const char *assignment, im_error *err)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment)
        return im_error_set(err, IM_EFORMAT, "spec: expected key=value, got '%.200s'",
                            assignment ? assignment : "(null)");
    size_t klen = (size_t)(eq - assignment);
    char *key = im_xmalloc(klen + 1);
    memcpy(key, assignment, klen);
    key[klen] = 0;
    json_t *value = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!value) value = json_string(eq + 1);
    if (!value) { /* not valid UTF-8 */
        free(key);
        return im_error_set(err, IM_EFORMAT, "spec: the value of '%.64s' is not valid UTF-8",
                            assignment);
    }
    json_object_set_new(obj, key, value);
    free(key);
    return 0;
}

int im_train_spec_set_many(im_train_spec *s, int n, const char *const *assignments, im_error *err)
{
    json_t *obj = json_object();
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = assignment_add(obj, assignments[i], err);
    if (rc == 0) rc = im_train_spec_parse(s, obj, "spec", err);
    json_decref(obj);
    return rc;
}

int im_train_spec_set(im_train_spec *s, const char *assignment, im_error *err)
{
    return im_train_spec_set_many(s, 1, &assignment, err);
}

/* Load a JSON object from a file; prefix starts messages. */
json_t *im_json_load_file(const char *path, const char *prefix, im_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_cannot_open_file)
            im_error_set(err, IM_EIO, "%s: %s", prefix, jerr.text);
        else
            im_error_set(err, IM_EFORMAT, "%s: '%s': line %d, column %d: %s", prefix, path,
                         jerr.line, jerr.column, jerr.text);
    }
    return root;
}

int im_train_spec_load_file(im_train_spec *s, const char *path, im_error *err)
{
    json_t *root = im_json_load_file(path, "spec", err);
    if (!root) return err ? err->code : IM_EFORMAT;
    int rc = im_train_spec_parse(s, root, "spec", err);
    json_decref(root);
    return rc;
}

json_t *im_json_number_list(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(x[i]));
    return a;
}

/* The trial spec as JSON; with_trial = 0 leaves out gamma and seed (the keys
 * a campaign sets per trial). */
json_t *im_train_spec_to_json_fields(const im_train_spec *s, int with_trial)
{
    json_t *o = json_object();
    json_object_set_new(o, "dataset", json_string(s->dataset));
    json_object_set_new(o, "setup", json_string(im_setup_name(s->setup)));
    json_object_set_new(o, "hidden", json_integer(s->hidden));
    json_object_set_new(o, "max_lateral",
                        s->max_lateral ? json_integer(s->max_lateral) : json_null());
    json_object_set_new(o, "epochs", json_integer(s->epochs));
    json_object_set_new(o, "batch", json_integer(s->batch));
    if (with_trial) {
        json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
        json_object_set_new(o, "gamma", im_json_number_list(s->gamma, s->n_gamma));
    }
    json_object_set_new(o, "gamma_out", im_json_number_list(s->gamma_out, 5));
    json_object_set_new(o, "lr_hidden", json_real(s->lr_hidden));
    json_object_set_new(o, "wd_hidden", json_real(s->wd_hidden));
    json_object_set_new(o, "lr_out", json_real(s->lr_out));
    json_object_set_new(o, "wd_out", json_real(s->wd_out));
    json_object_set_new(o, "bins", json_integer(s->bins));
    json_object_set_new(o, "bin_range", json_real(s->bin_range));
    json_object_set_new(o, "threads", json_integer(s->threads));
    json_object_set_new(o, "train_limit", json_integer(s->train_limit));
    json_object_set_new(o, "eval_limit", json_integer(s->eval_limit));
    return o;
}

json_t *im_train_spec_to_json(const im_train_spec *s)
{
    return im_train_spec_to_json_fields(s, 1);
}

/* ---- training result ---------------------------------------------------- */

/* A number, or null when it is not finite (JSON has no NaN). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *atoms_object(const im_lattice *lat, const double *terms)
{
    json_t *o = json_object();
    for (int i = 0; i <= lat->n; i++) json_object_set_new(o, lat->short_name[i], num(terms[i]));
    return o;
}

json_t *im_train_result_to_json(const im_train_spec *spec, const im_train_result *result)
{
    im_lattice lat_h, lat_o;
    if (im_lattice_init(&lat_h, im_setup_sources(spec->setup), NULL) ||
        im_lattice_init(&lat_o, 2, NULL))
        return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "spec", im_train_spec_to_json(spec));
    json_object_set_new(root, "val_acc", num(result->val_acc));
    json_object_set_new(root, "test_acc", num(result->test_acc));
    int done = result->n_epochs > 0 ? result->curve[result->n_epochs - 1].epoch : -1;
    json_object_set_new(root, "epochs_done", json_integer(done < 0 ? 0 : done));
    json_object_set_new(root, "complete", json_boolean(done == spec->epochs));
    json_t *curve = json_array();
    for (int e = 0; e < result->n_epochs; e++) {
        const im_epoch_stats *st = &result->curve[e];
        json_t *o = json_object();
        json_object_set_new(o, "epoch", json_integer(st->epoch));
        json_object_set_new(o, "train_acc", num(st->train_acc));
        json_object_set_new(o, "val_acc", num(st->val_acc));
        json_object_set_new(o, "test_acc", num(st->test_acc));
        json_object_set_new(o, "goal_hidden", num(st->goal_hidden));
        json_object_set_new(o, "goal_out", num(st->goal_out));
        json_object_set_new(o, "atoms_hidden", atoms_object(&lat_h, st->atoms_hidden));
        json_object_set_new(o, "atoms_output", atoms_object(&lat_o, st->atoms_out));
        json_object_set_new(o, "seconds", num(st->seconds));
        json_array_append_new(curve, o);
    }
    json_object_set_new(root, "curve", curve);
    json_t *atoms = json_object();
    if (result->n_epochs > 0) {
        const im_epoch_stats *last = &result->curve[result->n_epochs - 1];
        json_object_set_new(atoms, "hidden", atoms_object(&lat_h, last->atoms_hidden));
        json_object_set_new(atoms, "output", atoms_object(&lat_o, last->atoms_out));
    }
    json_object_set_new(root, "atoms", atoms);
    json_t *timings = json_object();
    json_object_set_new(timings, "wall_s", num(result->wall_s));
    json_object_set_new(timings, "gemm_s", num(result->gemm_s));
    json_object_set_new(timings, "pid_s", num(result->pid_s));
    json_object_set_new(root, "timings", timings);
    return root;
}
