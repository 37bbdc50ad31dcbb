/*
 * spec.c: trial specs and campaign specs, JSON <-> structs.
 *
 * Parsing is a two-pass affair: first every key of the object is checked
 * against the known keys (so a typo is reported as such, with a suggestion),
 * then each known key is read in a fixed order, then the rules that involve
 * several keys (gamma against the setup's k, max_lateral against setup and
 * hidden) are checked last, so the order of keys in a file never matters.
 * All parsing works on a copy and stores it only on success.
 *
 * Messages start with "spec: " (or "campaign: " / "campaign: 'train': ") and
 * name the field in quotes. Wrong types and unknown names give IM_EFORMAT,
 * values out of their range IM_ERANGE.
 *
 * Workload: a few specs per trial; nothing here is performance-critical.
 */
#include "spec.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- setups ------------------------------------------------------------- */

static const char *const setup_names[] = {
    "bivariate-context", "bivariate-lateral",   "trivariate",
    "trivariate-sparse", "trivariate-feedback", "backprop",
};
#define N_SETUPS ((int)(sizeof setup_names / sizeof setup_names[0]))

int im_setup_sources(im_setup setup)
{
    return setup == IM_SETUP_BIVARIATE_CONTEXT || setup == IM_SETUP_BIVARIATE_LATERAL ? 2 : 3;
}

int im_setup_terms(im_setup setup)
{
    return im_setup_sources(setup) == 2 ? 5 : 19;
}

const char *im_setup_name(im_setup setup)
{
    if ((int)setup < 0 || (int)setup >= N_SETUPS) return "unknown";
    return setup_names[setup];
}

int im_setup_parse(const char *name, im_setup *out)
{
    for (int i = 0; i < N_SETUPS; i++) {
        if (strcmp(name, setup_names[i]) == 0) {
            *out = (im_setup)i;
            return 0;
        }
    }
    return IM_ENOTFOUND;
}

/* ---- gamma presets ------------------------------------------------------ */

const char *const im_gamma_preset_names[] = {"paper-heuristic", "paper-optimized", NULL};

/* The goal found by the paper's hyperparameter optimisation (TPE over the 18
 * atoms in [-1, 1]), canonical order, h_res last, as in the published config
 * (whose h_res entry is 0.035, not 0). */
static const double paper_optimized[19] = {
    0.3307283306516516,   0.9780761799548087,   -0.9935002057481923,  0.40173303106031233,
    0.2427806207519021,   0.6255375402143335,   0.47128370476190684,  0.02120506738070921,
    0.06053998481721795,  -0.9469786302806626,  -0.01985334149032275, -0.9676614963177035,
    -0.6924498112774857,  0.42701490050101726,  0.9736446648870112,   0.7369645864450716,
    -0.12183291675207343, -0.21512478790202927, 0.035001249394734923,
};

static int terms_of_k(int k)
{
    return k == 2 ? 5 : 19;
}

int im_gamma_preset(const char *name, int k, double *out)
{
    if (k != 2 && k != 3) return IM_ENOTFOUND;
    int n = terms_of_k(k);
    if (strcmp(name, "paper-heuristic") == 0) {
        /* maximise the redundancy {F}{C} only */
        im_lattice lat;
        if (im_lattice_init(&lat, k, NULL)) return IM_ENOTFOUND;
        int i = im_lattice_find(&lat, "f_c");
        if (i < 0) return IM_ENOTFOUND;
        for (int j = 0; j < n; j++) out[j] = 0;
        out[i] = 1;
        return 0;
    }
    if (strcmp(name, "paper-optimized") == 0 && k == 3) {
        memcpy(out, paper_optimized, sizeof paper_optimized);
        return 0;
    }
    return IM_ENOTFOUND;
}

/* The preset that gamma[0..n) equals exactly, or NULL. */
static const char *gamma_recognise(const double *gamma, int k)
{
    double p[IM_MAX_TERMS];
    for (int i = 0; im_gamma_preset_names[i]; i++) {
        if (im_gamma_preset(im_gamma_preset_names[i], k, p)) continue;
        int same = 1;
        for (int j = 0; j < terms_of_k(k); j++) same &= p[j] == gamma[j];
        if (same) return im_gamma_preset_names[i];
    }
    return NULL;
}

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* ---- small JSON readers ------------------------------------------------- */

/* A short description of a JSON value for messages ("got ..."). */
static const char *json_kind(const json_t *v)
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
static int check_keys(const json_t *obj, const char *const *known, const char *prefix,
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
static int read_int(const json_t *v, const char *prefix, const char *field, long long lo,
                    long long hi, long long *out, im_error *err)
{
    if (!json_is_integer(v)) {
        if (hi == LLONG_MAX || hi == INT_MAX)
            return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer >= %lld, not %s",
                                prefix, field, lo, json_kind(v));
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer in %lld..%lld, not %s",
                            prefix, field, lo, hi, json_kind(v));
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

static int read_int32(const json_t *v, const char *prefix, const char *field, long long lo,
                      long long hi, int *out, im_error *err)
{
    long long x = 0;
    int rc = read_int(v, prefix, field, lo, hi, &x, err);
    if (rc == 0) *out = (int)x;
    return rc;
}

/* A finite number (integer or real); positive = 1: > 0, 0: >= 0, -1: any. */
static int read_number(const json_t *v, const char *prefix, const char *field, int positive,
                       double *out, im_error *err)
{
    const char *what = positive > 0 ? " > 0" : positive == 0 ? " >= 0" : "";
    if (!json_is_number(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be a number%s, not %s", prefix, field,
                            what, json_kind(v));
    double x = json_number_value(v);
    if (!isfinite(x) || (positive > 0 && !(x > 0)) || (positive == 0 && !(x >= 0)))
        return im_error_set(err, IM_ERANGE, "%s: '%s' must be a finite number%s (got %g)", prefix,
                            field, what, x);
    *out = x;
    return 0;
}

static int read_bool(const json_t *v, const char *prefix, const char *field, int *out,
                     im_error *err)
{
    if (!json_is_boolean(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be true or false, not %s", prefix,
                            field, json_kind(v));
    *out = json_is_true(v);
    return 0;
}

/* ---- gamma -------------------------------------------------------------- */

/* im_gamma_parse with a message prefix ("spec", "campaign"). */
static int gamma_parse(const json_t *g, int k, const char *prefix, const char *field, double *out,
                       char *preset_out, im_error *err)
{
    if (k != 2 && k != 3)
        return im_error_set(err, IM_EINVAL, "%s: '%s': k must be 2 or 3, not %d", prefix, field, k);
    im_lattice lat;
    im_error lerr;
    if (im_lattice_init(&lat, k, &lerr))
        return im_error_set(err, lerr.code, "%s: '%s': %s", prefix, field, lerr.msg);
    int n = lat.n + 1;
    double v[IM_MAX_TERMS] = {0};
    const char *preset = NULL;

    if (json_is_string(g)) {
        const char *name = json_string_value(g);
        if (im_gamma_preset(name, k, v) == 0) {
            preset = name;
        } else {
            double tmp[IM_MAX_TERMS];
            int other_k = im_gamma_preset(name, 5 - k, tmp) == 0;
            if (other_k)
                return im_error_set(err, IM_EFORMAT,
                                    "%s: '%s': preset '%s' is not defined for k = %d", prefix,
                                    field, name, k);
            return im_error_set(err, IM_EFORMAT,
                                "%s: '%s': unknown preset '%s' (known: paper-heuristic, "
                                "paper-optimized)",
                                prefix, field, name);
        }
    } else if (json_is_array(g)) {
        size_t len = json_array_size(g);
        if (len != (size_t)n)
            return im_error_set(err, IM_EFORMAT,
                                "%s: '%s' has %zu numbers, expected %d (k = %d: the %d atoms in "
                                "canonical order, then h_res)",
                                prefix, field, len, n, k, lat.n);
        for (int i = 0; i < n; i++) {
            const json_t *x = json_array_get(g, (size_t)i);
            if (!json_is_number(x))
                return im_error_set(err, IM_EFORMAT, "%s: '%s'[%d] (%s) must be a number, not %s",
                                    prefix, field, i, lat.short_name[i], json_kind(x));
            v[i] = json_number_value(x);
            if (!isfinite(v[i]))
                return im_error_set(err, IM_ERANGE, "%s: '%s'[%d] (%s) must be finite", prefix,
                                    field, i, lat.short_name[i]);
        }
    } else if (json_is_object(g)) {
        int seen[IM_MAX_TERMS] = {0};
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)g, key, x)
        {
            int i = im_lattice_find(&lat, key);
            if (i < 0)
                return im_error_set(err, IM_EFORMAT, "%s: '%s': unknown atom '%s' (k = %d)", prefix,
                                    field, key, k);
            if (seen[i])
                return im_error_set(err, IM_EFORMAT, "%s: '%s': atom '%s' is given twice", prefix,
                                    field, lat.short_name[i]);
            seen[i] = 1;
            if (!json_is_number(x))
                return im_error_set(err, IM_EFORMAT, "%s: '%s': '%s' must be a number, not %s",
                                    prefix, field, key, json_kind(x));
            v[i] = json_number_value(x);
            if (!isfinite(v[i]))
                return im_error_set(err, IM_ERANGE, "%s: '%s': '%s' must be finite", prefix, field,
                                    key);
        }
    } else {
        return im_error_set(err, IM_EFORMAT,
                            "%s: '%s' must be a preset name, a list of %d numbers or an object "
                            "by atom name, not %s",
                            prefix, field, n, json_kind(g));
    }
    if (!preset) preset = gamma_recognise(v, k);
    memcpy(out, v, sizeof(double) * (size_t)n);
    if (preset_out) copy_name(preset_out, 32, preset ? preset : "");
    return 0;
}

int im_gamma_parse(const json_t *g, int k, const char *field, double *out, char *preset_out,
                   im_error *err)
{
    return gamma_parse(g, k, "spec", field ? field : "gamma", out, preset_out, err);
}

/* ---- trial spec --------------------------------------------------------- */

static const char *const train_keys[] = {
    "dataset",   "setup",     "hidden",      "max_lateral", "epochs", "batch",  "seed",
    "gamma",     "gamma_out", "lr_hidden",   "wd_hidden",   "lr_out", "wd_out", "bins",
    "bin_range", "threads",   "train_limit", "eval_limit",  NULL,
};

#define MAX_HIDDEN  100000
#define MAX_EPOCHS  100000
#define MAX_BATCH   1000000
#define MAX_THREADS 256

void im_train_spec_default(im_train_spec *s)
{
    static const double gamma_out[5] = {-0.2, 0.1, 1.0, 0.1, 0};
    memset(s, 0, sizeof *s);
    copy_name(s->dataset, sizeof s->dataset, "mnist10k");
    s->setup = IM_SETUP_TRIVARIATE;
    s->hidden = 100;
    s->max_lateral = 0;
    s->epochs = 10;
    s->batch = 1024;
    s->seed = 1;
    s->n_gamma = 19;
    im_gamma_preset("paper-heuristic", 3, s->gamma);
    copy_name(s->gamma_preset, sizeof s->gamma_preset, "paper-heuristic");
    memcpy(s->gamma_out, gamma_out, sizeof gamma_out);
    s->lr_hidden = 0.002;
    s->wd_hidden = 0.00035;
    s->lr_out = 0.003;
    s->wd_out = 0.00015;
    s->bins = 20;
    s->bin_range = 20;
    s->threads = 1;
    s->train_limit = 0;
    s->eval_limit = 0;
}

/* A folder name: [A-Za-z0-9._-], not starting with '.', so never a path. */
static int valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Read an optional count where null and 0 both mean "none". */
static int read_limit(const json_t *v, const char *prefix, const char *field, int *out,
                      im_error *err)
{
    if (json_is_null(v)) {
        *out = 0;
        return 0;
    }
    return read_int32(v, prefix, field, 0, INT_MAX, out, err);
}

/* The trial-spec parser behind from_json, set and the campaign's "train".
 * prefix starts messages. *s is changed only on success. */
static int train_parse(im_train_spec *s, const json_t *obj, const char *prefix, im_error *err)
{
    im_train_spec t = *s;
    const json_t *v;
    int rc;

    if (!json_is_object(obj))
        return im_error_set(err, IM_EFORMAT, "%s: expected a JSON object, not %s", prefix,
                            json_kind(obj));
    if ((rc = check_keys(obj, train_keys, prefix, err))) return rc;

    if ((v = json_object_get(obj, "dataset"))) {
        if (!json_is_string(v))
            return im_error_set(err, IM_EFORMAT, "%s: 'dataset' must be a string, not %s", prefix,
                                json_kind(v));
        const char *name = json_string_value(v);
        if (!valid_name(name, sizeof t.dataset - 1) || name[0] == '.')
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'dataset' must be a folder name of 1..%zu characters "
                                "[A-Za-z0-9._-], not starting with '.' (got '%.80s')",
                                prefix, sizeof t.dataset - 1, name);
        copy_name(t.dataset, sizeof t.dataset, name);
    }
    if ((v = json_object_get(obj, "setup"))) {
        if (!json_is_string(v) || im_setup_parse(json_string_value(v), &t.setup))
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'setup' must be one of bivariate-context, bivariate-lateral, "
                                "trivariate, trivariate-sparse, trivariate-feedback, backprop "
                                "(got %s%s%s)",
                                prefix, json_is_string(v) ? "'" : "",
                                json_is_string(v) ? json_string_value(v) : json_kind(v),
                                json_is_string(v) ? "'" : "");
    }
    if ((v = json_object_get(obj, "hidden")) &&
        (rc = read_int32(v, prefix, "hidden", 1, MAX_HIDDEN, &t.hidden, err)))
        return rc;
    if ((v = json_object_get(obj, "max_lateral"))) {
        if (json_is_null(v))
            t.max_lateral = 0;
        else if ((rc = read_int32(v, prefix, "max_lateral", 1, MAX_HIDDEN, &t.max_lateral, err)))
            return rc;
    }
    if ((v = json_object_get(obj, "epochs")) &&
        (rc = read_int32(v, prefix, "epochs", 0, MAX_EPOCHS, &t.epochs, err)))
        return rc;
    if ((v = json_object_get(obj, "batch")) &&
        (rc = read_int32(v, prefix, "batch", 1, MAX_BATCH, &t.batch, err)))
        return rc;
    if ((v = json_object_get(obj, "seed"))) {
        long long seed;
        if ((rc = read_int(v, prefix, "seed", 0, LLONG_MAX, &seed, err))) return rc;
        t.seed = (uint64_t)seed;
    }
    if ((v = json_object_get(obj, "gamma_out")) &&
        (rc = gamma_parse(v, 2, prefix, "gamma_out", t.gamma_out, NULL, err)))
        return rc;
    if ((v = json_object_get(obj, "lr_hidden")) &&
        (rc = read_number(v, prefix, "lr_hidden", 1, &t.lr_hidden, err)))
        return rc;
    if ((v = json_object_get(obj, "wd_hidden")) &&
        (rc = read_number(v, prefix, "wd_hidden", 0, &t.wd_hidden, err)))
        return rc;
    if ((v = json_object_get(obj, "lr_out")) &&
        (rc = read_number(v, prefix, "lr_out", 1, &t.lr_out, err)))
        return rc;
    if ((v = json_object_get(obj, "wd_out")) &&
        (rc = read_number(v, prefix, "wd_out", 0, &t.wd_out, err)))
        return rc;
    if ((v = json_object_get(obj, "bins")) &&
        (rc = read_int32(v, prefix, "bins", 2, 1000, &t.bins, err)))
        return rc;
    if ((v = json_object_get(obj, "bin_range")) &&
        (rc = read_number(v, prefix, "bin_range", 1, &t.bin_range, err)))
        return rc;
    if ((v = json_object_get(obj, "threads")) &&
        (rc = read_int32(v, prefix, "threads", 1, MAX_THREADS, &t.threads, err)))
        return rc;
    if ((v = json_object_get(obj, "train_limit")) &&
        (rc = read_limit(v, prefix, "train_limit", &t.train_limit, err)))
        return rc;
    if ((v = json_object_get(obj, "eval_limit")) &&
        (rc = read_limit(v, prefix, "eval_limit", &t.eval_limit, err)))
        return rc;

    /* rules across keys, now that every key is known */
    if (t.setup == IM_SETUP_TRIVARIATE_SPARSE) {
        if (t.max_lateral == 0)
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'max_lateral' is required for setup 'trivariate-sparse' (an "
                                "integer in 1..%d)",
                                prefix, t.hidden - 1);
        if (t.max_lateral >= t.hidden)
            return im_error_set(err, IM_ERANGE,
                                "%s: 'max_lateral' must be less than 'hidden' (%d), got %d", prefix,
                                t.hidden, t.max_lateral);
    } else if (t.max_lateral != 0) {
        return im_error_set(err, IM_EFORMAT,
                            "%s: 'max_lateral' is only used by setup 'trivariate-sparse', not "
                            "'%s' (leave it null)",
                            prefix, im_setup_name(t.setup));
    }

    int k = im_setup_sources(t.setup), n = im_setup_terms(t.setup);
    if ((v = json_object_get(obj, "gamma"))) {
        if ((rc = gamma_parse(v, k, prefix, "gamma", t.gamma, t.gamma_preset, err))) return rc;
    } else if (t.gamma_preset[0]) {
        if (im_gamma_preset(t.gamma_preset, k, t.gamma))
            return im_error_set(err, IM_EFORMAT,
                                "%s: 'gamma': preset '%s' is not defined for setup '%s' (k = %d); "
                                "give 'gamma'",
                                prefix, t.gamma_preset, im_setup_name(t.setup), k);
    } else if (t.n_gamma != n) {
        return im_error_set(err, IM_EFORMAT,
                            "%s: 'gamma' has %d numbers but setup '%s' needs %d (k = %d); give "
                            "'gamma' again",
                            prefix, t.n_gamma, im_setup_name(t.setup), n, k);
    }
    t.n_gamma = n;
    *s = t;
    return 0;
}

int im_train_spec_from_json(im_train_spec *s, const json_t *obj, im_error *err)
{
    return train_parse(s, obj, "spec", err);
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
    if (rc == 0) rc = train_parse(s, obj, "spec", err);
    json_decref(obj);
    return rc;
}

int im_train_spec_set(im_train_spec *s, const char *assignment, im_error *err)
{
    return im_train_spec_set_many(s, 1, &assignment, err);
}

/* Load a JSON object from a file; prefix starts messages. */
static json_t *load_json_file(const char *path, const char *prefix, im_error *err)
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
    json_t *root = load_json_file(path, "spec", err);
    if (!root) return err ? err->code : IM_EFORMAT;
    int rc = train_parse(s, root, "spec", err);
    json_decref(root);
    return rc;
}

static json_t *number_list(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(x[i]));
    return a;
}

/* The trial spec as JSON; with_trial = 0 leaves out gamma and seed (the keys
 * a campaign sets per trial). */
static json_t *train_to_json(const im_train_spec *s, int with_trial)
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
        json_object_set_new(o, "gamma", number_list(s->gamma, s->n_gamma));
    }
    json_object_set_new(o, "gamma_out", number_list(s->gamma_out, 5));
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
    return train_to_json(s, 1);
}

int im_train_spec_set_gamma(im_train_spec *s, const double *gamma, int n, im_error *err)
{
    if (n != s->n_gamma)
        return im_error_set(err, IM_EINVAL, "spec: 'gamma' has %d numbers, setup '%s' needs %d", n,
                            im_setup_name(s->setup), s->n_gamma);
    for (int i = 0; i < n; i++)
        if (!isfinite(gamma[i]))
            return im_error_set(err, IM_EINVAL, "spec: 'gamma'[%d] must be finite", i);
    memcpy(s->gamma, gamma, sizeof(double) * (size_t)n);
    const char *preset = gamma_recognise(gamma, n == 5 ? 2 : 3);
    copy_name(s->gamma_preset, sizeof s->gamma_preset, preset ? preset : "");
    return 0;
}

int im_train_spec_equal(const im_train_spec *a, const im_train_spec *b)
{
    if (strcmp(a->dataset, b->dataset) || a->setup != b->setup || a->hidden != b->hidden ||
        a->max_lateral != b->max_lateral || a->epochs != b->epochs || a->batch != b->batch ||
        a->seed != b->seed || a->n_gamma != b->n_gamma || strcmp(a->gamma_preset, b->gamma_preset))
        return 0;
    if (a->n_gamma < 0 || a->n_gamma > IM_MAX_TERMS) return 0;
    for (int i = 0; i < a->n_gamma; i++)
        if (a->gamma[i] != b->gamma[i]) return 0;
    for (int i = 0; i < 5; i++)
        if (a->gamma_out[i] != b->gamma_out[i]) return 0;
    return a->lr_hidden == b->lr_hidden && a->wd_hidden == b->wd_hidden && a->lr_out == b->lr_out &&
           a->wd_out == b->wd_out && a->bins == b->bins && a->bin_range == b->bin_range &&
           a->threads == b->threads && a->train_limit == b->train_limit &&
           a->eval_limit == b->eval_limit;
}

/* ---- campaign spec ------------------------------------------------------ */

static const char *const campaign_keys[] = {
    "name", "kind", "train",           "space",    "sampler", "budget", "points",
    "base", "seed", "seeds_per_point", "priority", "pruner",  "user",   NULL,
};

static const char *const kind_names[] = {"search", "fixed", "ablation"};
static const char *const sampler_names[] = {"random", "tpe"};
static const char *const pruner_names[] = {"none", "median"};

#define MAX_BUDGET   1000000
#define MAX_POINTS   100000
#define MAX_SEEDS    1000
#define MAX_PRIORITY 1000000

const char *im_campaign_kind_name(im_campaign_kind kind)
{
    return (unsigned)kind < 3 ? kind_names[kind] : "unknown";
}

const char *im_sampler_name(im_sampler_kind sampler)
{
    return (unsigned)sampler < 2 ? sampler_names[sampler] : "unknown";
}

const char *im_pruner_name(im_pruner_kind pruner)
{
    return (unsigned)pruner < 2 ? pruner_names[pruner] : "unknown";
}

/* Which kind uses a kind-specific key; -1 for keys every kind accepts. */
static int key_kind(const char *key)
{
    if (!strcmp(key, "space") || !strcmp(key, "sampler") || !strcmp(key, "budget") ||
        !strcmp(key, "seed"))
        return IM_CAMPAIGN_SEARCH;
    if (!strcmp(key, "points")) return IM_CAMPAIGN_FIXED;
    if (!strcmp(key, "base")) return IM_CAMPAIGN_ABLATION;
    return -1;
}

void im_campaign_spec_release(im_campaign_spec *spec)
{
    if (!spec) return;
    free(spec->points);
    free(spec->point_presets);
    json_decref(spec->user);
    spec->points = NULL;
    spec->point_presets = NULL;
    spec->user = NULL;
    spec->n_points = 0;
}

static void campaign_defaults(im_campaign_spec *c)
{
    memset(c, 0, sizeof *c);
    im_train_spec_default(&c->train);
    c->sampler = IM_SAMPLER_RANDOM;
    c->tpe.n_startup_trials = 10;
    c->tpe.n_ei_candidates = 24;
    c->tpe.multivariate = 1;
    c->tpe.constant_liar = 1;
    c->tpe.consider_endpoints = 0;
    c->pruner.kind = IM_PRUNER_NONE;
    c->pruner.n_startup_trials = 5;
    c->pruner.n_warmup_epochs = 0;
    c->seeds_per_point = 1;
}

/* "space": per name a number (fixed) or [low, high], over the default. */
static int parse_space(im_campaign_spec *c, const json_t *v, const im_lattice *lat, im_error *err)
{
    if (!json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'space' must be an object by atom name, not %s",
                            json_kind(v));
    int seen[IM_MAX_TERMS] = {0};
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        int i = im_lattice_find(lat, key);
        if (i < 0)
            return im_error_set(err, IM_EFORMAT, "campaign: 'space': unknown atom '%s' (k = %d)",
                                key, lat->k);
        const char *name = lat->short_name[i];
        if (seen[i])
            return im_error_set(err, IM_EFORMAT, "campaign: 'space': atom '%s' is given twice",
                                name);
        seen[i] = 1;
        double lo, hi;
        if (json_is_number(x)) {
            lo = hi = json_number_value(x);
        } else if (json_is_array(x) && json_array_size(x) == 2 &&
                   json_is_number(json_array_get(x, 0)) && json_is_number(json_array_get(x, 1))) {
            lo = json_number_value(json_array_get(x, 0));
            hi = json_number_value(json_array_get(x, 1));
        } else {
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'space.%s' must be a number (fixed) or [low, high] (two "
                                "numbers), not %s",
                                name, json_kind(x));
        }
        if (!isfinite(lo) || !isfinite(hi))
            return im_error_set(err, IM_ERANGE, "campaign: 'space.%s' must be finite", name);
        if (lo > hi)
            return im_error_set(err, IM_ERANGE, "campaign: 'space.%s': low %g > high %g", name, lo,
                                hi);
        c->space_low[i] = lo;
        c->space_high[i] = hi;
    }
    return 0;
}

static const char *const tpe_keys[] = {
    "name",         "seed",          "n_startup_trials",   "n_ei_candidates",
    "multivariate", "constant_liar", "consider_endpoints", NULL,
};

/* "sampler": "random" | "tpe" | {"name": ..., options}. sampler.seed is the
 * campaign's seed (*seed_given tells whether one was given). */
static int parse_sampler(im_campaign_spec *c, const json_t *v, int *seed_given, im_error *err)
{
    const json_t *name = json_is_string(v) ? v : NULL;
    if (!name && !json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'sampler' must be an object {\"name\": ...} or a sampler "
                            "name, not %s",
                            json_kind(v));
    if (json_is_object(v)) {
        int rc = check_keys(v, tpe_keys, "campaign: 'sampler'", err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'sampler.name' is required (random or tpe)");
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: 'sampler.name' must be a string, not %s",
                            json_kind(name));
    const char *s = json_string_value(name);
    if (!strcmp(s, "random"))
        c->sampler = IM_SAMPLER_RANDOM;
    else if (!strcmp(s, "tpe"))
        c->sampler = IM_SAMPLER_TPE;
    else
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'sampler': unknown sampler '%s' (known: random, tpe)", s);
    if (!json_is_object(v)) return 0;

    const char *key;
    json_t *x;
    int rc;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!strcmp(key, "name")) continue;
        if (!strcmp(key, "seed")) {
            long long seed;
            if ((rc = read_int(x, "campaign", "sampler.seed", 0, LLONG_MAX, &seed, err))) return rc;
            if (*seed_given && c->seed != (uint64_t)seed)
                return im_error_set(err, IM_EFORMAT,
                                    "campaign: 'sampler.seed' (%lld) contradicts 'seed' (%llu)",
                                    seed, (unsigned long long)c->seed);
            c->seed = (uint64_t)seed;
            *seed_given = 1;
            continue;
        }
        char field[64];
        snprintf(field, sizeof field, "sampler.%s", key);
        if (c->sampler != IM_SAMPLER_TPE)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s' is an option of sampler 'tpe', not '%s'", field, s);
        if (!strcmp(key, "n_startup_trials"))
            rc = read_int32(x, "campaign", field, 0, MAX_BUDGET, &c->tpe.n_startup_trials, err);
        else if (!strcmp(key, "n_ei_candidates"))
            rc = read_int32(x, "campaign", field, 1, 100000, &c->tpe.n_ei_candidates, err);
        else if (!strcmp(key, "multivariate"))
            rc = read_bool(x, "campaign", field, &c->tpe.multivariate, err);
        else if (!strcmp(key, "constant_liar"))
            rc = read_bool(x, "campaign", field, &c->tpe.constant_liar, err);
        else
            rc = read_bool(x, "campaign", field, &c->tpe.consider_endpoints, err);
        if (rc) return rc;
    }
    return 0;
}

static const char *const pruner_keys[] = {"name", "n_startup_trials", "n_warmup_epochs", NULL};

/* "pruner": null | "none" | "median" | {"name": ..., options}. */
static int parse_pruner(im_pruner_spec *p, const json_t *v, im_error *err)
{
    if (json_is_null(v)) {
        p->kind = IM_PRUNER_NONE;
        return 0;
    }
    const json_t *name = json_is_string(v) ? v : NULL;
    if (!name && !json_is_object(v))
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'pruner' must be an object {\"name\": ...}, a pruner name "
                            "or null, not %s",
                            json_kind(v));
    if (json_is_object(v)) {
        int rc = check_keys(v, pruner_keys, "campaign: 'pruner'", err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'pruner.name' is required (none or median)");
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: 'pruner.name' must be a string, not %s",
                            json_kind(name));
    const char *s = json_string_value(name);
    if (!strcmp(s, "none"))
        p->kind = IM_PRUNER_NONE;
    else if (!strcmp(s, "median"))
        p->kind = IM_PRUNER_MEDIAN;
    else
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'pruner': unknown pruner '%s' (known: none, median)", s);
    if (!json_is_object(v)) return 0;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!strcmp(key, "name")) continue;
        char field[64];
        snprintf(field, sizeof field, "pruner.%s", key);
        if (p->kind != IM_PRUNER_MEDIAN)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: '%s' is an option of pruner 'median', not '%s'", field,
                                s);
        int rc = read_int32(
            x, "campaign", field, 0, MAX_EPOCHS,
            !strcmp(key, "n_startup_trials") ? &p->n_startup_trials : &p->n_warmup_epochs, err);
        if (rc) return rc;
    }
    return 0;
}

/* "points": a non-empty list of gammas. */
static int parse_points(im_campaign_spec *c, const json_t *v, int k, im_error *err)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return im_error_set(err, IM_EFORMAT,
                            "campaign: 'points' must be a non-empty list of gammas (preset "
                            "names, lists or objects), not %s",
                            json_is_array(v) ? "an empty list" : json_kind(v));
    size_t n = json_array_size(v);
    if (n > MAX_POINTS)
        return im_error_set(err, IM_ERANGE, "campaign: 'points' has %zu entries, at most %d", n,
                            MAX_POINTS);
    c->points = im_xcalloc(n, sizeof(double) * IM_MAX_TERMS);
    c->point_presets = im_xcalloc(n, sizeof *c->point_presets);
    c->n_points = (int)n;
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "points[%zu]", i);
        int rc = gamma_parse(json_array_get(v, i), k, "campaign", field,
                             c->points + i * IM_MAX_TERMS, c->point_presets[i], err);
        if (rc) return rc;
    }
    return 0;
}

/* "base": a gamma, or {"trial": ID}. */
static int parse_base(im_campaign_spec *c, const json_t *v, int k, im_error *err)
{
    const json_t *trial = json_is_object(v) ? json_object_get(v, "trial") : NULL;
    if (trial) {
        if (json_object_size(v) != 1)
            return im_error_set(err, IM_EFORMAT,
                                "campaign: 'base' is either {\"trial\": ID} or a gamma, not both");
        long long id;
        int rc = read_int(trial, "campaign", "base.trial", 1, LLONG_MAX, &id, err);
        if (rc) return rc;
        c->base_trial = (int64_t)id;
        return 0;
    }
    return gamma_parse(v, k, "campaign", "base", c->base, c->base_preset, err);
}

int im_campaign_spec_from_json(im_campaign_spec *spec, const json_t *obj, im_error *err)
{
    im_campaign_spec c;
    campaign_defaults(&c);
    memset(spec, 0, sizeof *spec);
    const json_t *v;
    int rc, seed_given = 0;

    if (!json_is_object(obj)) {
        rc = im_error_set(err, IM_EFORMAT, "campaign: expected a JSON object, not %s",
                          json_kind(obj));
        goto fail;
    }
    if ((rc = check_keys(obj, campaign_keys, "campaign", err))) goto fail;

    v = json_object_get(obj, "name");
    if (!v) {
        rc = im_error_set(err, IM_EFORMAT, "campaign: 'name' is required");
        goto fail;
    }
    if (!json_is_string(v) || !valid_name(json_string_value(v), IM_CAMPAIGN_NAME_MAX)) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: 'name' must be 1..%d characters of [A-Za-z0-9._-] (got "
                          "%s%.80s%s)",
                          IM_CAMPAIGN_NAME_MAX, json_is_string(v) ? "'" : "",
                          json_is_string(v) ? json_string_value(v) : json_kind(v),
                          json_is_string(v) ? "'" : "");
        goto fail;
    }
    copy_name(c.name, sizeof c.name, json_string_value(v));

    v = json_object_get(obj, "kind");
    if (!v) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: 'kind' is required (search, fixed or ablation)");
        goto fail;
    }
    {
        int found = -1;
        for (int i = 0; i < 3 && json_is_string(v); i++)
            if (!strcmp(json_string_value(v), kind_names[i])) found = i;
        if (found < 0) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'kind' must be search, fixed or ablation (got %s%.80s%s)",
                              json_is_string(v) ? "'" : "",
                              json_is_string(v) ? json_string_value(v) : json_kind(v),
                              json_is_string(v) ? "'" : "");
            goto fail;
        }
        c.kind = (im_campaign_kind)found;
    }
    if (c.kind == IM_CAMPAIGN_ABLATION) c.seeds_per_point = 10;

    /* keys of another kind */
    {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)obj, key, x)
        {
            int kk = key_kind(key);
            if (kk >= 0 && kk != (int)c.kind) {
                rc = im_error_set(err, IM_EFORMAT,
                                  "campaign: '%s' is not used by kind '%s' (only by '%s')", key,
                                  kind_names[c.kind], kind_names[kk]);
                goto fail;
            }
        }
    }

    if ((v = json_object_get(obj, "train"))) {
        if (json_is_object(v) && json_object_get(v, "gamma")) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'train.gamma' is set per trial (from 'space', 'points' "
                              "or 'base'); remove it");
            goto fail;
        }
        if (json_is_object(v) && json_object_get(v, "seed")) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'train.seed' is set per trial (seeds 1..'seeds_per_"
                              "point'); remove it");
            goto fail;
        }
        if ((rc = train_parse(&c.train, v, "campaign: 'train'", err))) goto fail;
    }
    c.n_terms = im_setup_terms(c.train.setup);
    int k = im_setup_sources(c.train.setup);
    if (c.train.setup == IM_SETUP_BACKPROP && c.kind != IM_CAMPAIGN_FIXED) {
        rc = im_error_set(err, IM_EFORMAT,
                          "campaign: kind '%s' varies gamma, which setup 'backprop' ignores; use "
                          "kind 'fixed'",
                          kind_names[c.kind]);
        goto fail;
    }
    im_lattice lat;
    if ((rc = im_lattice_init(&lat, k, err))) goto fail;

    if (c.kind == IM_CAMPAIGN_SEARCH) {
        for (int i = 0; i < c.n_terms - 1; i++) c.space_low[i] = -1, c.space_high[i] = 1;
        if ((v = json_object_get(obj, "space")) && (rc = parse_space(&c, v, &lat, err))) goto fail;
        int free_dims = 0;
        for (int i = 0; i < c.n_terms; i++) free_dims += c.space_low[i] < c.space_high[i];
        if (free_dims == 0) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'space' fixes every component; there is nothing to "
                              "search");
            goto fail;
        }
        if ((v = json_object_get(obj, "seed"))) {
            long long seed;
            if ((rc = read_int(v, "campaign", "seed", 0, LLONG_MAX, &seed, err))) goto fail;
            c.seed = (uint64_t)seed;
            seed_given = 1;
        }
        if ((v = json_object_get(obj, "sampler")) && (rc = parse_sampler(&c, v, &seed_given, err)))
            goto fail;
        v = json_object_get(obj, "budget");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'budget' is required for kind 'search'");
            goto fail;
        }
        if ((rc = read_int32(v, "campaign", "budget", 1, MAX_BUDGET, &c.budget, err))) goto fail;
    } else if (c.kind == IM_CAMPAIGN_FIXED) {
        v = json_object_get(obj, "points");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'points' is required for kind 'fixed'");
            goto fail;
        }
        if ((rc = parse_points(&c, v, k, err))) goto fail;
    } else {
        v = json_object_get(obj, "base");
        if (!v) {
            rc = im_error_set(err, IM_EFORMAT,
                              "campaign: 'base' is required for kind 'ablation' (a gamma or "
                              "{\"trial\": ID})");
            goto fail;
        }
        if ((rc = parse_base(&c, v, k, err))) goto fail;
    }

    if ((v = json_object_get(obj, "seeds_per_point")) &&
        (rc = read_int32(v, "campaign", "seeds_per_point", 1, MAX_SEEDS, &c.seeds_per_point, err)))
        goto fail;
    if ((v = json_object_get(obj, "priority")) &&
        (rc = read_int32(v, "campaign", "priority", -MAX_PRIORITY, MAX_PRIORITY, &c.priority, err)))
        goto fail;
    if ((v = json_object_get(obj, "pruner")) && (rc = parse_pruner(&c.pruner, v, err))) goto fail;
    if ((v = json_object_get(obj, "user")) && !json_is_null(v)) {
        if (!json_is_object(v)) {
            rc = im_error_set(err, IM_EFORMAT, "campaign: 'user' must be an object, not %s",
                              json_kind(v));
            goto fail;
        }
        c.user = json_deep_copy(v);
    }
    *spec = c;
    return 0;

fail:
    im_campaign_spec_release(&c);
    return rc;
}

int im_campaign_spec_load_file(im_campaign_spec *spec, const char *path, im_error *err)
{
    memset(spec, 0, sizeof *spec);
    json_t *root = load_json_file(path, "campaign", err);
    if (!root) return err ? err->code : IM_EFORMAT;
    int rc = im_campaign_spec_from_json(spec, root, err);
    json_decref(root);
    return rc;
}

json_t *im_campaign_spec_to_json(const im_campaign_spec *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "kind", json_string(im_campaign_kind_name(c->kind)));
    json_object_set_new(o, "train", train_to_json(&c->train, 0));
    im_lattice lat;
    int have_lat = im_lattice_init(&lat, c->n_terms == 5 ? 2 : 3, NULL) == 0;

    if (c->kind == IM_CAMPAIGN_SEARCH && have_lat) {
        json_t *space = json_object();
        for (int i = 0; i < c->n_terms; i++) {
            json_t *x = c->space_low[i] == c->space_high[i]
                            ? json_real(c->space_low[i])
                            : json_pack("[f, f]", c->space_low[i], c->space_high[i]);
            json_object_set_new(space, lat.short_name[i], x);
        }
        json_object_set_new(o, "space", space);
        json_t *sampler = json_pack("{s:s}", "name", im_sampler_name(c->sampler));
        if (c->sampler == IM_SAMPLER_TPE) {
            json_object_set_new(sampler, "n_startup_trials", json_integer(c->tpe.n_startup_trials));
            json_object_set_new(sampler, "n_ei_candidates", json_integer(c->tpe.n_ei_candidates));
            json_object_set_new(sampler, "multivariate", json_boolean(c->tpe.multivariate));
            json_object_set_new(sampler, "constant_liar", json_boolean(c->tpe.constant_liar));
            json_object_set_new(sampler, "consider_endpoints",
                                json_boolean(c->tpe.consider_endpoints));
        }
        json_object_set_new(o, "sampler", sampler);
        json_object_set_new(o, "budget", json_integer(c->budget));
        json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    } else if (c->kind == IM_CAMPAIGN_FIXED) {
        json_t *points = json_array();
        for (int i = 0; i < c->n_points; i++)
            json_array_append_new(points,
                                  number_list(c->points + (size_t)i * IM_MAX_TERMS, c->n_terms));
        json_object_set_new(o, "points", points);
    } else if (c->kind == IM_CAMPAIGN_ABLATION) {
        json_object_set_new(o, "base",
                            c->base_trial > 0
                                ? json_pack("{s:I}", "trial", (json_int_t)c->base_trial)
                                : number_list(c->base, c->n_terms));
    }
    json_object_set_new(o, "seeds_per_point", json_integer(c->seeds_per_point));
    json_object_set_new(o, "priority", json_integer(c->priority));
    json_t *pruner = json_pack("{s:s}", "name", im_pruner_name(c->pruner.kind));
    if (c->pruner.kind == IM_PRUNER_MEDIAN) {
        json_object_set_new(pruner, "n_startup_trials", json_integer(c->pruner.n_startup_trials));
        json_object_set_new(pruner, "n_warmup_epochs", json_integer(c->pruner.n_warmup_epochs));
    }
    json_object_set_new(o, "pruner", pruner);
    if (c->user) json_object_set_new(o, "user", json_deep_copy(c->user));
    return o;
}

int im_campaign_spec_fixed_gammas(const im_campaign_spec *spec, double **out, int *n, im_error *err)
{
    *out = NULL;
    *n = 0;
    if (spec->kind != IM_CAMPAIGN_FIXED || spec->n_points < 1 || !spec->points)
        return im_error_set(err, IM_EINVAL, "campaign: '%s' is not a fixed campaign with points",
                            spec->name);
    double *g = im_xmalloc_array((size_t)spec->n_points * (size_t)spec->n_terms, sizeof *g);
    for (int i = 0; i < spec->n_points; i++)
        memcpy(g + (size_t)i * (size_t)spec->n_terms, spec->points + (size_t)i * IM_MAX_TERMS,
               sizeof *g * (size_t)spec->n_terms);
    *out = g;
    *n = spec->n_points;
    return 0;
}

int im_campaign_trial_spec(const im_campaign_spec *spec, const double *gamma, uint64_t seed,
                           im_train_spec *out, im_error *err)
{
    im_train_spec t = spec->train;
    int rc = im_train_spec_set_gamma(&t, gamma, spec->n_terms, err);
    if (rc) return rc;
    t.seed = seed;
    *out = t;
    return 0;
}
