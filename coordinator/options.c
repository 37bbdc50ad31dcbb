/*
 * options.c: the readers behind campaign files and their plug-ins' options.
 * Workload: a few objects per submitted campaign; nothing here is hot.
 */
#include "options.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *opt_json_kind(const json_t *v)
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

int opt_check_keys(const json_t *obj, const char *const *known, const char *prefix, im_error *err)
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

int opt_read_int(const json_t *v, const char *prefix, const char *field, long long lo, long long hi,
                 long long *out, im_error *err)
{
    if (!json_is_integer(v)) {
        if (hi == LLONG_MAX || hi == INT_MAX)
            return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer >= %lld, not %s",
                                prefix, field, lo, opt_json_kind(v));
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be an integer in %lld..%lld, not %s",
                            prefix, field, lo, hi, opt_json_kind(v));
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

int opt_read_int32(const json_t *v, const char *prefix, const char *field, long long lo,
                   long long hi, int *out, im_error *err)
{
    long long x = 0;
    int rc = opt_read_int(v, prefix, field, lo, hi, &x, err);
    if (rc == 0) *out = (int)x;
    return rc;
}

int opt_read_number(const json_t *v, const char *prefix, const char *field, int positive,
                    double *out, im_error *err)
{
    const char *what = positive > 0 ? " > 0" : positive == 0 ? " >= 0" : "";
    if (!json_is_number(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be a number%s, not %s", prefix, field,
                            what, opt_json_kind(v));
    double x = json_number_value(v);
    if (!isfinite(x) || (positive > 0 && !(x > 0)) || (positive == 0 && !(x >= 0)))
        return im_error_set(err, IM_ERANGE, "%s: '%s' must be a finite number%s (got %g)", prefix,
                            field, what, x);
    *out = x;
    return 0;
}

int opt_read_bool(const json_t *v, const char *prefix, const char *field, int *out, im_error *err)
{
    if (!json_is_boolean(v))
        return im_error_set(err, IM_EFORMAT, "%s: '%s' must be true or false, not %s", prefix,
                            field, opt_json_kind(v));
    *out = json_is_true(v);
    return 0;
}

int opt_valid_name(const char *s, size_t max)
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

json_t *opt_load_file(const char *path, const char *prefix, im_error *err)
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

/* ---- a plug-in chosen by name ---- */

const char *opt_member_names(const opt_family *fam, const char *last_sep, char *buf, size_t len)
{
    size_t used = 0;
    int n = 0;
    while (fam->member(n)) n++;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? last_sep : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, fam->member(i)->name);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

static int in_list(const char *const *list, const char *key)
{
    for (int i = 0; list && list[i]; i++)
        if (!strcmp(list[i], key)) return 1;
    return 0;
}

/* Every key any member takes, plus "name" and the common keys, into keys
 * (room for max, NULL-terminated). */
static void all_keys(const opt_family *fam, const char **keys, int max)
{
    int n = 0;
    keys[n++] = "name";
    for (int i = 0; fam->common_keys && fam->common_keys[i] && n < max - 1; i++)
        keys[n++] = fam->common_keys[i];
    for (int m = 0; fam->member(m); m++) {
        const char *const *k = fam->member(m)->keys;
        for (int i = 0; k && k[i] && n < max - 1; i++) {
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= !strcmp(keys[j], k[i]);
            if (!dup) keys[n++] = k[i];
        }
    }
    keys[n] = NULL;
}

/* The member named s, or -1. */
static int member_find(const opt_family *fam, const char *s)
{
    for (int i = 0; fam->member(i); i++)
        if (!strcmp(fam->member(i)->name, s)) return i;
    return -1;
}

/* The name of v: v itself or its "name" (after the keys were checked). */
static int named_name(const opt_family *fam, const json_t *v, const char **out, im_error *err)
{
    char names[256];
    const json_t *name = json_is_string(v) ? v : NULL;
    if (!name && !json_is_object(v))
        return im_error_set(err, IM_EFORMAT, "campaign: '%s' must be %s, not %s", fam->field,
                            fam->forms, opt_json_kind(v));
    if (json_is_object(v)) {
        const char *keys[64];
        all_keys(fam, keys, 64);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "campaign: '%s'", fam->field);
        int rc = opt_check_keys(v, keys, prefix, err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT, "campaign: '%s.name' is required (%s)", fam->field,
                                opt_member_names(fam, " or ", names, sizeof names));
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: '%s.name' must be a string, not %s",
                            fam->field, opt_json_kind(name));
    *out = json_string_value(name);
    return 0;
}

int opt_parse_named(const opt_family *fam, const json_t *v, void *target, int *index, im_error *err)
{
    char names[256];
    const char *s = fam->null_name;
    int rc;
    if (!(json_is_null(v) && s) && (rc = named_name(fam, v, &s, err))) return rc;
    int m = member_find(fam, s);
    if (m < 0)
        return im_error_set(err, IM_EFORMAT, "campaign: '%s': unknown %s '%s' (known: %s)",
                            fam->field, fam->field, s,
                            opt_member_names(fam, ", ", names, sizeof names));
    *index = m;
    if (!json_is_object(v)) return 0;
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!strcmp(key, "name")) continue;
        char field[64];
        snprintf(field, sizeof field, "%s.%s", fam->field, key);
        if (in_list(fam->common_keys, key)) {
            if ((rc = fam->common(target, key, x, field, err))) return rc;
            continue;
        }
        if (!in_list(fam->member(m)->keys, key)) {
            int owner = 0;
            while (fam->member(owner) && !in_list(fam->member(owner)->keys, key)) owner++;
            return im_error_set(err, IM_EFORMAT, "campaign: '%s' is an option of %s '%s', not '%s'",
                                field, fam->field,
                                fam->member(owner) ? fam->member(owner)->name : "?", s);
        }
        if ((rc = fam->set(target, m, key, x, field, err))) return rc;
    }
    return 0;
}
