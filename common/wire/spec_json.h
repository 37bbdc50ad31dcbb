/*
 * spec_json.h: the JSON form of the trial spec and of a training result, at
 * the edge of the core (ARCHITECTURE.md, "The two specs"). The structs and
 * their rules are the core's (train_spec.h, train.h); this module reads and
 * writes them as JSON for files, --set, the wire and the store.
 *
 * Every key of a trial spec is optional and defaults to the paper's setting;
 * unknown keys, wrong types, out-of-range values, a gamma of the wrong length
 * or an unknown atom name are refused with IM_EFORMAT / IM_ERANGE and a
 * message such as "spec: 'hidden' must be an integer >= 1".
 *
 * Resolution order. A JSON object may give "gamma" before "setup", and a later
 * --set may change the setup (and so k) after gamma was given. Therefore the
 * cross-field rules are checked after all keys are read: gamma is parsed for
 * the final setup's k; a gamma that came from a preset (gamma_preset != "") is
 * re-resolved for the new k; a gamma given as numbers whose length does not
 * match the new k is refused ("give 'gamma' again"). A vector given as numbers
 * that equals a preset exactly is recorded as that preset, which makes
 * from_json(to_json(s)) reproduce gamma_preset as well.
 *
 * max_lateral: required (1 <= max_lateral < hidden) for "trivariate-sparse",
 * refused (must be null) for every other setup. Because "--set setup=..." and
 * "--set max_lateral=..." depend on each other, a command line should apply
 * all its assignments at once with im_train_spec_set_many.
 *
 * backprop ignores gamma; it is stored and validated for k = 3.
 *
 * Every parsing function leaves *s unchanged when it fails. No function here
 * keeps global state: all are thread-safe on distinct structs. JSON values
 * passed in are only read (borrowed); returned json_t * are new references
 * the caller owns.
 */
#ifndef IM_SPEC_JSON_H
#define IM_SPEC_JSON_H

#include "im.h"
#include "train.h"
#include "train_spec.h"

#include <jansson.h>

/* Parse a JSON object over *s (keys not given keep their value, so pass the
 * defaults for a fresh spec). Returns 0 or an IM_E* code with err naming the
 * field. */
int im_train_spec_from_json(im_train_spec *s, const json_t *obj, im_error *err);

/* Apply one "key=value" (--set): the value is parsed as JSON if it parses,
 * otherwise taken as a string. Re-validates the whole spec. */
int im_train_spec_set(im_train_spec *s, const char *assignment, im_error *err);

/* Like im_train_spec_set, for n assignments applied together and validated
 * once (later assignments of the same key win). Returns 0 or an IM_E* code;
 * *s unchanged on failure. Thread-safe for distinct s. */
int im_train_spec_set_many(im_train_spec *s, int n, const char *const *assignments, im_error *err);

/* Read a trial spec from a JSON file over *s. Returns 0, IM_EIO (cannot open),
 * IM_EFORMAT (invalid JSON: the message gives line and column; or a refused
 * key) or IM_ERANGE. *s unchanged on failure. */
int im_train_spec_load_file(im_train_spec *s, const char *path, im_error *err);

/* The spec as a JSON object with every key (gamma as a list of numbers).
 * Caller owns the new reference. */
json_t *im_train_spec_to_json(const im_train_spec *s);

/* Parse a gamma for k sources: a preset name, a list of 5 (k = 2) or 19 (k = 3)
 * numbers, or an object keyed by short names (missing names are 0).
 * out has room for IM_MAX_TERMS. preset_out (may be NULL, 32 bytes) gets the
 * preset name or "". field names the key in messages ("gamma"). */
int im_gamma_parse(const json_t *g, int k, const char *field, double *out, char *preset_out,
                   im_error *err);

/* The result of a run as JSON: {"spec": ..., "val_acc", "test_acc",
 * "epochs_done", "complete", "curve": [...], "atoms": {"hidden": {short:
 * bits}, "output": {...}}, "timings": {...}}; non-finite numbers are null.
 * Returns NULL only if the spec's setup has no lattice. Caller owns the new
 * reference. */
json_t *im_train_result_to_json(const im_train_spec *spec, const im_train_result *result);

/* ---- the readers the campaign spec shares ---------------------------------
 *
 * prefix starts every message ("spec", "campaign", "campaign: 'train'"),
 * field names the key in quotes. Wrong JSON types give IM_EFORMAT, values
 * out of their range IM_ERANGE. */

/* The trial-spec parser behind from_json, set and a campaign's "train"; *s
 * is changed only on success. */
int im_train_spec_parse(im_train_spec *s, const json_t *obj, const char *prefix, im_error *err);

/* The trial spec as JSON; with_trial = 0 leaves out gamma and seed (the keys
 * a campaign sets per trial). Caller owns the new reference. */
json_t *im_train_spec_to_json_fields(const im_train_spec *s, int with_trial);

/* im_gamma_parse with a message prefix. */
int im_gamma_from_json(const json_t *g, int k, const char *prefix, const char *field, double *out,
                       char *preset_out, im_error *err);

/* im_gamma_from_json with the lattice of k sources already built (by
 * im_lattice_init): for a list of many gammas, such as a fixed campaign's
 * points, which would otherwise build it once per gamma. */
int im_gamma_from_json_lat(const json_t *g, const im_lattice *lat, const char *prefix,
                           const char *field, double *out, char *preset_out, im_error *err);

/* A short description of a JSON value for messages ("a list"); static. */
const char *im_json_kind(const json_t *v);

/* Refuse the first key of obj that is not in known (NULL-terminated), with a
 * "did you mean" for a near miss. Returns 0 or IM_EFORMAT. */
int im_json_check_keys(const json_t *obj, const char *const *known, const char *prefix,
                       im_error *err);

/* An integer in lo..hi (hi LLONG_MAX or INT_MAX: no upper bound). */
int im_json_read_int(const json_t *v, const char *prefix, const char *field, long long lo,
                     long long hi, long long *out, im_error *err);
int im_json_read_int32(const json_t *v, const char *prefix, const char *field, long long lo,
                       long long hi, int *out, im_error *err);

/* A finite number (an integer or a real); positive = 1: > 0, 0: >= 0,
 * -1: any. */
int im_json_read_number(const json_t *v, const char *prefix, const char *field, int positive,
                        double *out, im_error *err);

/* true or false, as 1 or 0. */
int im_json_read_bool(const json_t *v, const char *prefix, const char *field, int *out,
                      im_error *err);

/* Load a JSON file (duplicate keys refused). Returns a new reference, or NULL
 * with err: IM_EIO (cannot open) or IM_EFORMAT (line and column). */
json_t *im_json_load_file(const char *path, const char *prefix, im_error *err);

/* x[0..n) as a list of reals. Caller owns the new reference. */
json_t *im_json_number_list(const double *x, int n);

#endif /* IM_SPEC_JSON_H */
