/*
 * spec.c: trial specs, JSON <-> structs (campaign specs, which embed one,
 * are the coordinator's: coordinator/campaign_spec.c).
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

int im_gamma_parse_as(const json_t *g, int k, const char *prefix, const char *field, double *out,
                      char *preset_out, im_error *err)
{
    return gamma_parse(g, k, prefix, field, out, preset_out, err);
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

int im_train_spec_from_json_as(im_train_spec *s, const json_t *obj, const char *prefix,
                               im_error *err)
{
    return train_parse(s, obj, prefix, err);
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
