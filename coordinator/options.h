/*
 * options.h: reading the objects of a campaign file and of its plug-ins
 * (samplers, pruners, campaign kinds), with messages that name the field:
 * "campaign: 'budget' must be an integer in 1..1000000 (got 0)".
 *
 * The value readers are spec_json's (im_json_read_int, im_json_read_number,
 * im_json_check_keys, ...), included from here: each takes the message
 * prefix ("campaign", "campaign: 'sampler'") and the field name, stores its
 * result only on success, and returns 0, IM_EFORMAT (wrong type, unknown
 * key) or IM_ERANGE (value out of range) with err set. opt_parse_named is
 * the one parser of a plug-in choice, `"name"` or `{"name": ..., options}`,
 * shared by samplers and pruners. Nothing here keeps state: all functions
 * are thread-safe.
 */
#ifndef IM_OPTIONS_H
#define IM_OPTIONS_H

#include "im.h"
#include "spec_json.h"

#include <jansson.h>
#include <stddef.h>

/* ---- a plug-in chosen by name --------------------------------------------
 *
 * A family of plug-ins (the samplers, the pruners) is a table of members,
 * each with a name and the option keys it takes. A campaign file names one
 * as "NAME" or {"name": "NAME", option: value, ...} (or null, when the
 * family has a member that null stands for). opt_parse_named checks the
 * keys against every member's, finds the member, and hands each option to
 * `set` (for the chosen member's own keys) or `common` (for the family's
 * common keys, such as a sampler's "seed"); an option of another member is
 * refused naming that member. */
typedef struct opt_member {
    const char *name;        /* "random", "median" */
    const char *const *keys; /* its option keys, NULL-terminated; NULL: none */
} opt_member;

typedef struct opt_family {
    const char *field;              /* "sampler" */
    const char *forms;              /* the accepted forms for the type message */
    const char *null_name;          /* the member null stands for, or NULL (null refused) */
    const char *const *common_keys; /* keys of every member besides "name"; may be NULL */
    /* the i-th member, NULL past the end */
    const opt_member *(*member)(int i);
    /* apply option `key` (field "sampler.key") of member i to target */
    int (*set)(void *target, int i, const char *key, const json_t *v, const char *field,
               im_error *err);
    /* apply a common key; may be NULL when there are none */
    int (*common)(void *target, const char *key, const json_t *v, const char *field, im_error *err);
} opt_family;

/* Parse v as a member of fam: *index gets the member's position. Messages
 * start with "campaign: ". Returns 0, IM_EFORMAT, IM_ERANGE. */
int opt_parse_named(const opt_family *fam, const json_t *v, void *target, int *index,
                    im_error *err);

/* "a, b or c": the members' names for messages, into buf. */
const char *opt_member_names(const opt_family *fam, const char *last_sep, char *buf, size_t len);

#endif /* IM_OPTIONS_H */
