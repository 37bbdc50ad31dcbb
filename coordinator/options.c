/*
 * options.c: the parser of a plug-in chosen by name, behind campaign files'
 * "sampler" and "pruner" (the value readers are spec_json's).
 * Workload: a few objects per submitted campaign; nothing here is hot.
 */
#include "options.h"

#include <stdio.h>
#include <string.h>

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
                            fam->forms, im_json_kind(v));
    if (json_is_object(v)) {
        const char *keys[64];
        all_keys(fam, keys, 64);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "campaign: '%s'", fam->field);
        int rc = im_json_check_keys(v, keys, prefix, err);
        if (rc) return rc;
        name = json_object_get(v, "name");
        if (!name)
            return im_error_set(err, IM_EFORMAT, "campaign: '%s.name' is required (%s)", fam->field,
                                opt_member_names(fam, " or ", names, sizeof names));
    }
    if (!json_is_string(name))
        return im_error_set(err, IM_EFORMAT, "campaign: '%s.name' must be a string, not %s",
                            fam->field, im_json_kind(name));
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
