/*
 * protocol.c: JSON <-> im_msg for every wire message, and the multipart
 * send/receive around it. Decoding checks every field it reads (type, range,
 * length) and reports the first problem by the field's name; it allocates
 * only the curve and atoms arrays of a RESULT, sized from the input and
 * bounded by the message size limit.
 */
#include "protocol.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static const char *const type_names[IM_MSG_COUNT_] = {
    [IM_MSG_READY] = "READY",
    [IM_MSG_PROGRESS] = "PROGRESS",
    [IM_MSG_HEARTBEAT] = "HEARTBEAT",
    [IM_MSG_RESULT] = "RESULT",
    [IM_MSG_BYE] = "BYE",
    [IM_MSG_JOB] = "JOB",
    [IM_MSG_NOJOB] = "NOJOB",
    [IM_MSG_CONTINUE] = "CONTINUE",
    [IM_MSG_STOP] = "STOP",
    [IM_MSG_ACK] = "ACK",
    [IM_MSG_SUBMIT] = "SUBMIT",
    [IM_MSG_LIST] = "LIST",
    [IM_MSG_STATUS] = "STATUS",
    [IM_MSG_BEST] = "BEST",
    [IM_MSG_TRIALS] = "TRIALS",
    [IM_MSG_CANCEL] = "CANCEL",
    [IM_MSG_EXPORT] = "EXPORT",
    [IM_MSG_WORKERS] = "WORKERS",
    [IM_MSG_BACKUP] = "BACKUP",
    [IM_MSG_OK] = "OK",
    [IM_MSG_ERROR] = "ERROR",
};

static const char *const result_names[] = {"done", "failed", "interrupted", "stopped"};

static const char *const stop_reasons[] = {"pruned", "cancelled", "lost", "unknown"};

double im_result_curve_value(const im_trial_result *r, size_t i)
{
    const json_t *x =
        r->extra ? json_array_get(json_object_get(r->extra, "curve_values"), i) : NULL;
    return json_is_number(x) ? json_number_value(x) : NAN;
}

const char *im_msg_type_name(im_msg_type t)
{
    if ((int)t < 0 || t >= IM_MSG_COUNT_) return NULL;
    return type_names[t];
}

int im_msg_type_parse(const char *name, im_msg_type *out)
{
    for (int i = 0; i < IM_MSG_COUNT_; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *out = (im_msg_type)i;
            return 0;
        }
    return IM_ENOTFOUND;
}

const char *im_result_status_name(im_result_status s)
{
    if ((int)s < 0 || (int)s > IM_RESULT_STOPPED) return "?";
    return result_names[s];
}

/* ---- decoding helpers: each returns 0 or IM_EPROTO with err set ---- */

static int bad(im_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(im_error *err, const char *fmt, ...)
{
    if (err) {
        char buf[IM_ERROR_MAX - 16];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        im_error_set(err, IM_EPROTO, "message: %s", buf);
    }
    return IM_EPROTO;
}

/* An integer in [lo, hi]; absent: required -> error, else *out = dflt. */
static int get_int(const json_t *o, const char *key, int required, int64_t lo, int64_t hi,
                   int64_t dflt, int64_t *out, im_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) return bad(err, "'%s' is missing", key);
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bad(err, "'%s' must be an integer in [%lld, %lld]", key, (long long)lo,
                   (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

/* A number in [lo, hi] or null (-> NAN); absent -> NAN. Integers are
 * accepted as numbers. The ranges are protocol.h's: a number out of its
 * range would be stored, ranked and printed as if it were real. */
static int get_num(const json_t *o, const char *key, double lo, double hi, double *out,
                   im_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v)) return bad(err, "'%s' must be a number or null", key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) return bad(err, "'%s' must be in [%g, %g] or null", key, lo, hi);
    *out = x;
    return 0;
}

/* 1 if s[0..n) holds an ASCII control character (below 0x20, or DEL). */
static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 1;
    return 0;
}

/* A string of 1..max bytes; absent (or null when nullable) -> NULL unless required. */
static int get_str(const json_t *o, const char *key, int required, size_t max, const char **out,
                   im_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required) return bad(err, "'%s' is missing", key);
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) return bad(err, "'%s' must be a string", key);
    size_t n = json_string_length(v);
    if (n == 0 || n > max) return bad(err, "'%s' must be a string of 1 to %zu bytes", key, max);
    if (memchr(json_string_value(v), '\0', n)) return bad(err, "'%s' contains a NUL byte", key);
    *out = json_string_value(v);
    return 0;
}

/* A name (worker, host, version, campaign, reason, ...): as get_str, and
 * without control characters, so that a peer cannot forge log lines or send
 * escape sequences to an operator's terminal through it. */
static int get_name(const json_t *o, const char *key, int required, size_t max, const char **out,
                    im_error *err)
{
    if (get_str(o, key, required, max, out, err)) return IM_EPROTO;
    if (*out && has_control(*out, strlen(*out)))
        return bad(err, "'%s' contains a control character", key);
    return 0;
}

static int get_string_list(const json_t *o, const char *key, const json_t **out, im_error *err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v) || json_array_size(v) > 1024)
        return bad(err, "'%s' must be a list of at most 1024 strings", key);
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x) || json_string_length(x) > IM_WIRE_NAME_MAX)
            return bad(err, "'%s' must be a list of strings of at most %d bytes", key,
                       IM_WIRE_NAME_MAX);
        if (has_control(json_string_value(x), json_string_length(x)))
            return bad(err, "'%s[%zu]' contains a control character", key, i);
    }
    *out = v;
    return 0;
}

static int get_trial_attempt(const json_t *o, int64_t min_trial, int64_t *trial, int *attempt,
                             im_error *err)
{
    int64_t a = 0;
    if (get_int(o, "trial", 1, min_trial, INT64_MAX, 0, trial, err)) return IM_EPROTO;
    if (get_int(o, "attempt", 1, *trial == 0 ? 0 : 1, 1000000, 0, &a, err)) return IM_EPROTO;
    *attempt = (int)a;
    return 0;
}

/* The optional "db" (the database's identity, echoed by the worker) and
 * "worker" (the sender's name) of a trial message. */
static int get_db_worker(const json_t *o, const char **db, const char **worker, im_error *err)
{
    if (get_name(o, "db", 0, IM_WIRE_DB_MAX, db, err)) return IM_EPROTO;
    if (worker && get_name(o, "worker", 0, IM_WIRE_NAME_MAX, worker, err)) return IM_EPROTO;
    return 0;
}

static int get_epoch(const json_t *o, im_epoch_stats *e, im_error *err)
{
    int64_t ep = 0;
    memset(e, 0, sizeof *e); /* no atoms on the wire: n_terms_hidden 0 */
    if (get_int(o, "epoch", 1, 0, IM_SPEC_MAX_EPOCHS, 0, &ep, err)) return IM_EPROTO;
    e->epoch = (int)ep;
    if (get_num(o, "train_acc", 0, 1, &e->train_acc, err) ||
        get_num(o, "val_acc", 0, 1, &e->val_acc, err) ||
        get_num(o, "test_acc", 0, 1, &e->test_acc, err) ||
        get_num(o, "goal_hidden", -IM_WIRE_BITS_MAX, IM_WIRE_BITS_MAX, &e->goal_hidden, err) ||
        get_num(o, "goal_out", -IM_WIRE_BITS_MAX, IM_WIRE_BITS_MAX, &e->goal_out, err) ||
        get_num(o, "seconds", 0, IM_WIRE_SECONDS_MAX, &e->seconds, err))
        return IM_EPROTO;
    return 0;
}

static int get_campaign_ref(const json_t *o, int required, im_wire_campaign_ref *ref, im_error *err)
{
    const json_t *v = json_object_get(o, "campaign");
    ref->name = NULL;
    ref->id = 0;
    if (!v || json_is_null(v)) {
        if (required) return bad(err, "'campaign' is missing");
        return 0;
    }
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 1) return bad(err, "'campaign' id must be >= 1");
        ref->id = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= 64 &&
        !memchr(json_string_value(v), '\0', json_string_length(v))) {
        if (has_control(json_string_value(v), json_string_length(v)))
            return bad(err, "'campaign' contains a control character");
        ref->name = json_string_value(v);
        return 0;
    }
    return bad(err, "'campaign' must be a name (1 to 64 bytes) or an id");
}

/* The keys of a RESULT beyond those decode_result reads: into
 * m->result.extra (NULL when there are none). */
static int result_extra(im_msg *m, const json_t *o)
{
    static const char *const known[] = {"type",   "v",      "trial",   "attempt",  "db",
                                        "worker", "status", "val_acc", "test_acc", "curve",
                                        "atoms",  "wall_s", "error"};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        int is_known = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known && !is_known; i++)
            is_known = strcmp(key, known[i]) == 0;
        if (is_known) continue;
        if (!m->result.extra) m->result.extra = json_object();
        json_object_set(m->result.extra, key, (json_t *)v);
    }
    return 0;
}

/* RESULT's "status", one of result_names. */
static int decode_status(im_trial_result *r, const json_t *o, im_error *err)
{
    const char *status;
    if (get_str(o, "status", 1, 32, &status, err)) return IM_EPROTO;
    for (int i = 0; i <= IM_RESULT_STOPPED; i++)
        if (strcmp(status, result_names[i]) == 0) {
            r->status = (im_result_status)i;
            return 0;
        }
    return bad(err, "'status' must be \"done\", \"failed\", \"interrupted\" or \"stopped\"");
}

/* RESULT's optional "curve": a list of epochs, into r->curve. */
static int decode_curve(im_trial_result *r, const json_t *o, im_error *err)
{
    const json_t *curve = json_object_get(o, "curve");
    if (!curve || json_is_null(curve)) return 0;
    if (!json_is_array(curve) || json_array_size(curve) > 100000)
        return bad(err, "'curve' must be a list of at most 100000 epochs");
    size_t n = json_array_size(curve);
    r->curve = n ? im_xmalloc_array(n, sizeof *r->curve) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(curve, i);
        if (!json_is_object(e)) return bad(err, "'curve[%zu]' must be an object", i);
        if (get_epoch(e, &r->curve[i], err)) {
            if (err) {
                char inner[IM_ERROR_MAX];
                snprintf(inner, sizeof inner, "%s", err->msg + strlen("message: "));
                bad(err, "'curve[%zu]': %s", i, inner);
            }
            return IM_EPROTO;
        }
        r->n_curve = i + 1;
    }
    return 0;
}

/* The atoms of one layer ("hidden" or "output"), appended to r->atoms. */
static int decode_layer_atoms(im_trial_result *r, const char *layer, const json_t *lv,
                              im_error *err)
{
    const char *name;
    const json_t *x;
    json_object_foreach((json_t *)lv, name, x)
    {
        size_t len = strlen(name);
        if (len == 0 || len > 31)
            return bad(err, "'atoms.%s' has a name of %zu bytes (1 to 31)", layer, len);
        if (has_control(name, len))
            return bad(err, "'atoms.%s' has a name with a control character", layer);
        if (!json_is_number(x) || !(fabs(json_number_value(x)) <= IM_WIRE_BITS_MAX))
            return bad(err, "'atoms.%s.%s' must be a finite number in [%g, %g]", layer, name,
                       -IM_WIRE_BITS_MAX, IM_WIRE_BITS_MAX);
        im_trial_atom *a = &r->atoms[r->n_atoms++];
        a->layer = strcmp(layer, "hidden") == 0 ? "hidden" : "output";
        a->name = name;
        a->value = json_number_value(x);
    }
    return 0;
}

/* RESULT's optional "atoms": {"hidden": {name: bits}, "output": {...}},
 * into r->atoms. The layers are checked and counted first, so that one
 * allocation holds them all. */
static int decode_atoms(im_trial_result *r, const json_t *o, im_error *err)
{
    const json_t *atoms = json_object_get(o, "atoms");
    if (!atoms || json_is_null(atoms)) return 0;
    if (!json_is_object(atoms)) return bad(err, "'atoms' must be an object");
    size_t total = 0;
    const char *layer;
    const json_t *lv;
    json_object_foreach((json_t *)atoms, layer, lv)
    {
        if (strcmp(layer, "hidden") != 0 && strcmp(layer, "output") != 0)
            return bad(err, "'atoms' has layer '%.32s': only \"hidden\" and \"output\"", layer);
        if (!json_is_object(lv) || json_object_size(lv) > 64)
            return bad(err, "'atoms.%s' must be an object of at most 64 atoms", layer);
        total += json_object_size(lv);
    }
    r->atoms = total ? im_xmalloc_array(total, sizeof *r->atoms) : NULL;
    json_object_foreach((json_t *)atoms, layer, lv)
    {
        if (decode_layer_atoms(r, layer, lv, err)) return IM_EPROTO;
    }
    return 0;
}

static int decode_result(im_msg *m, const json_t *o, im_error *err)
{
    im_trial_result *r = &m->result;
    if (get_trial_attempt(o, 1, &r->trial, &r->attempt, err) ||
        get_db_worker(o, &r->db, &r->worker, err) || decode_status(r, o, err) ||
        get_num(o, "val_acc", 0, 1, &r->val_acc, err) ||
        get_num(o, "test_acc", 0, 1, &r->test_acc, err) ||
        get_num(o, "wall_s", 0, IM_WIRE_SECONDS_MAX, &r->wall_s, err) ||
        get_str(o, "error", 0, 65536, &r->error, err) || decode_curve(r, o, err) ||
        decode_atoms(r, o, err))
        return IM_EPROTO;
    return result_extra(m, o);
}

/* JOB's optional "params": an object of finite numbers and strings. */
static int decode_job_params(im_msg *m, const json_t *o, im_error *err)
{
    m->job.params = json_object_get(o, "params");
    if (m->job.params && json_is_null(m->job.params)) m->job.params = NULL;
    if (!m->job.params) return 0;
    if (!json_is_object(m->job.params)) return bad(err, "'params' must be an object");
    const char *name;
    const json_t *pv;
    json_object_foreach((json_t *)m->job.params, name, pv)
    {
        if (!json_is_string(pv) && !(json_is_number(pv) && isfinite(json_number_value(pv))))
            return bad(err, "'params.%.64s' must be a finite number or a string", name);
    }
    return 0;
}

/* PROGRESS's optional "value" (an exec trial's objective), NAN if absent. */
static int decode_progress_value(im_msg *m, const json_t *o, im_error *err)
{
    const json_t *pv = json_object_get(o, "value");
    m->progress.value = NAN;
    if (!pv || json_is_null(pv)) return 0;
    if (!json_is_number(pv) || !isfinite(json_number_value(pv)))
        return bad(err, "'value' must be a finite number or null");
    m->progress.value = json_number_value(pv);
    return 0;
}

static int decode_ready(im_msg *m, const json_t *o, im_error *err)
{
    int64_t x = 0;
    if (get_name(o, "worker", 1, IM_WIRE_NAME_MAX, &m->ready.worker, err) ||
        get_name(o, "host", 0, 255, &m->ready.host, err) ||
        get_name(o, "version", 0, 64, &m->ready.version, err) ||
        get_int(o, "pid", 0, 0, INT64_MAX, 0, &m->ready.pid, err) ||
        get_int(o, "threads", 0, 0, 65536, 0, &x, err) ||
        get_string_list(o, "backends", &m->ready.backends, err) ||
        get_string_list(o, "datasets", &m->ready.datasets, err) ||
        get_int(o, "max_memory", 0, 0, INT64_MAX, -1, &m->ready.max_memory, err))
        return IM_EPROTO;
    m->ready.threads = (int)x;
    m->ready.has_max_memory = m->ready.max_memory >= 0;
    if (!m->ready.has_max_memory) m->ready.max_memory = 0;
    return 0;
}

static int decode_job(im_msg *m, const json_t *o, im_error *err)
{
    int64_t x = 0;
    if (get_trial_attempt(o, 1, &m->job.trial, &m->job.attempt, err) ||
        get_db_worker(o, &m->job.db, NULL, err) ||
        get_name(o, "campaign", 0, 64, &m->job.campaign, err) ||
        get_int(o, "number", 0, 0, INT32_MAX, -1, &x, err))
        return IM_EPROTO;
    m->job.number = (int)x;
    const json_t *l = json_object_get(o, "lease_s");
    if (!l || !json_is_number(l) || !(json_number_value(l) > 0) || !isfinite(json_number_value(l)))
        return bad(err, "'lease_s' must be a number > 0");
    m->job.lease_s = json_number_value(l);
    m->job.spec = json_object_get(o, "spec");
    if (!json_is_object(m->job.spec)) return bad(err, "'spec' must be an object");
    m->job.user = json_object_get(o, "user");
    if (m->job.user && json_is_null(m->job.user)) m->job.user = NULL;
    if (m->job.user && !json_is_object(m->job.user)) return bad(err, "'user' must be an object");
    return decode_job_params(m, o, err);
}

static int decode_stop(im_msg *m, const json_t *o, im_error *err)
{
    if (get_trial_attempt(o, 0, &m->stop.trial, &m->stop.attempt, err) ||
        get_name(o, "reason", 1, 32, &m->stop.reason, err))
        return IM_EPROTO;
    for (size_t i = 0; i < sizeof stop_reasons / sizeof stop_reasons[0]; i++)
        if (strcmp(m->stop.reason, stop_reasons[i]) == 0) return 0;
    return bad(err, "'reason' must be \"pruned\", \"cancelled\", \"lost\" or \"unknown\"");
}

static int decode_ack(im_msg *m, const json_t *o, im_error *err)
{
    if (get_trial_attempt(o, 0, &m->ack.trial, &m->ack.attempt, err) ||
        get_name(o, "note", 0, 32, &m->ack.note, err))
        return IM_EPROTO;
    const json_t *a = json_object_get(o, "accepted");
    if (a && !json_is_boolean(a)) return bad(err, "'accepted' must be true or false");
    m->ack.accepted = a ? json_is_true(a) : 1;
    return 0;
}

/* STATUS, BEST, TRIALS, CANCEL, EXPORT: a campaign and the paging keys. */
static int decode_query(im_msg *m, const json_t *o, im_error *err)
{
    int64_t x = 0;
    int required = m->type != IM_MSG_STATUS && m->type != IM_MSG_BEST;
    if (get_campaign_ref(o, required, &m->query.campaign, err)) return IM_EPROTO;
    if (get_int(o, "n", 0, 1, 1000, 10, &x, err)) return IM_EPROTO;
    m->query.n = (int)x;
    if (get_int(o, "from", 0, 0, INT32_MAX, 0, &m->query.from, err)) return IM_EPROTO;
    int max = m->type == IM_MSG_TRIALS ? IM_TRIALS_PAGE_MAX : IM_EXPORT_PAGE_MAX;
    if (get_int(o, "limit", 0, 1, max, 0, &x, err)) return IM_EPROTO;
    m->query.limit = (int)x;
    return 0;
}

static int decode_fields(im_msg *m, const json_t *o, im_error *err)
{
    int64_t x = 0;
    switch (m->type) {
    case IM_MSG_READY: return decode_ready(m, o, err);
    case IM_MSG_PROGRESS:
        if (get_trial_attempt(o, 1, &m->progress.trial, &m->progress.attempt, err) ||
            get_db_worker(o, &m->progress.db, &m->progress.worker, err) ||
            decode_progress_value(m, o, err))
            break;
        return get_epoch(o, &m->progress.e, err);
    case IM_MSG_HEARTBEAT:
        if (get_trial_attempt(o, 0, &m->heartbeat.trial, &m->heartbeat.attempt, err)) break;
        return get_db_worker(o, &m->heartbeat.db, &m->heartbeat.worker, err);
    case IM_MSG_CONTINUE: return get_trial_attempt(o, 0, &m->cont.trial, &m->cont.attempt, err);
    case IM_MSG_RESULT: return decode_result(m, o, err);
    case IM_MSG_BYE: return get_name(o, "worker", 1, IM_WIRE_NAME_MAX, &m->bye.worker, err);
    case IM_MSG_JOB: return decode_job(m, o, err);
    case IM_MSG_NOJOB:
        if (get_int(o, "retry_ms", 0, 0, 86400000, 1000, &x, err)) break;
        m->nojob.retry_ms = (int)x;
        return 0;
    case IM_MSG_STOP: return decode_stop(m, o, err);
    case IM_MSG_ACK: return decode_ack(m, o, err);
    case IM_MSG_SUBMIT:
        m->submit.campaign = json_object_get(o, "campaign");
        if (!m->submit.campaign) return bad(err, "'campaign' is missing");
        if (!json_is_object(m->submit.campaign))
            return bad(err, "'campaign' must be an object (the campaign file)");
        return 0;
    case IM_MSG_LIST:
    case IM_MSG_WORKERS: return 0;
    case IM_MSG_BACKUP:
        if (get_int(o, "backup", 0, 1, INT64_MAX, 0, &m->query.backup, err) ||
            get_int(o, "from", 0, 0, INT64_MAX, 0, &m->query.from, err) ||
            get_int(o, "limit", 0, 1, IM_BACKUP_CHUNK, 0, &x, err))
            break;
        m->query.limit = (int)x;
        return 0;
    case IM_MSG_STATUS:
    case IM_MSG_BEST:
    case IM_MSG_TRIALS:
    case IM_MSG_CANCEL:
    case IM_MSG_EXPORT: return decode_query(m, o, err);
    case IM_MSG_OK: return get_str(o, "re", 0, 32, &m->ok.re, err);
    case IM_MSG_ERROR:
        if (get_str(o, "re", 0, 32, &m->error.re, err) ||
            get_str(o, "message", 1, 65536, &m->error.message, err))
            return IM_EPROTO;
        return 0;
    case IM_MSG_COUNT_: break;
    }
    return IM_EPROTO;
}

int im_msg_decode(im_msg *m, const void *data, size_t len, im_error *err)
{
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    json_t *o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) return bad(err, "not JSON: %s at byte %d", jerr.text, jerr.position);
    if (!json_is_object(o)) {
        json_decref(o);
        return bad(err, "must be a JSON object");
    }
    m->body = o;
    const json_t *t = json_object_get(o, "type");
    if (!t) {
        im_msg_release(m);
        return bad(err, "'type' is missing");
    }
    if (!json_is_string(t) || im_msg_type_parse(json_string_value(t), &m->type) != 0) {
        char shown[40] = "";
        if (json_is_string(t)) snprintf(shown, sizeof shown, " '%.32s'", json_string_value(t));
        im_msg_release(m);
        return bad(err, "unknown type%s", shown);
    }
    const json_t *v = json_object_get(o, "v");
    if (!v) {
        im_msg_release(m);
        return bad(err, "'v' (the protocol version) is missing");
    }
    if (!json_is_integer(v) || json_integer_value(v) != IM_PROTOCOL_VERSION) {
        long long got = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
        im_msg_release(m);
        if (got < 0) return bad(err, "'v' must be the protocol version %d", IM_PROTOCOL_VERSION);
        return bad(err, "protocol version %lld, this program speaks %d", got, IM_PROTOCOL_VERSION);
    }
    if (decode_fields(m, o, err) != 0) {
        im_msg_release(m);
        return IM_EPROTO;
    }
    return 0;
}

void im_msg_release(im_msg *m)
{
    if (!m) return;
    if (m->body && m->type == IM_MSG_RESULT) {
        free(m->result.curve);
        free(m->result.atoms);
        json_decref(m->result.extra);
    }
    json_decref(m->body);
    memset(m, 0, sizeof *m);
}

/* ---- encoding ---- */

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
    /* json_object_set_new takes v even on failure; a NULL v (invalid UTF-8 in
     * a string) leaves the key out. */
    if (v) json_object_set_new(o, key, v);
}

static void put_epoch(json_t *o, const im_epoch_stats *e)
{
    set(o, "epoch", json_integer(e->epoch));
    set(o, "train_acc", num(e->train_acc));
    set(o, "val_acc", num(e->val_acc));
    set(o, "test_acc", num(e->test_acc));
    set(o, "goal_hidden", num(e->goal_hidden));
    set(o, "goal_out", num(e->goal_out));
    set(o, "seconds", num(e->seconds));
}

static void put_ta(json_t *o, int64_t trial, int attempt)
{
    set(o, "trial", json_integer(trial));
    set(o, "attempt", json_integer(attempt));
}

/* A trial message's "db" and "worker", when set. */
static void put_db_worker(json_t *o, const char *db, const char *worker)
{
    if (db) set(o, "db", json_string(db));
    if (worker) set(o, "worker", json_string(worker));
}

static json_t *campaign_ref_json(const im_wire_campaign_ref *r)
{
    if (r->name) return json_string(r->name);
    if (r->id > 0) return json_integer(r->id);
    return NULL;
}

static void put_ready(json_t *o, const im_msg *m)
{
    set(o, "worker", json_string(m->ready.worker));
    if (m->ready.host) set(o, "host", json_string(m->ready.host));
    if (m->ready.version) set(o, "version", json_string(m->ready.version));
    set(o, "pid", json_integer(m->ready.pid));
    set(o, "threads", json_integer(m->ready.threads));
    if (m->ready.backends) set(o, "backends", json_deep_copy(m->ready.backends));
    if (m->ready.datasets) set(o, "datasets", json_deep_copy(m->ready.datasets));
    if (m->ready.has_max_memory && m->ready.max_memory >= 0)
        set(o, "max_memory", json_integer(m->ready.max_memory));
}

/* r->atoms as {"hidden": {name: bits}, "output": {...}}. */
static json_t *atoms_json(const im_trial_result *r)
{
    json_t *a = json_object();
    for (size_t i = 0; i < r->n_atoms; i++) {
        const im_trial_atom *at = &r->atoms[i];
        if (!at->layer || !at->name) continue;
        json_t *l = json_object_get(a, at->layer);
        if (!l) {
            l = json_object();
            json_object_set_new(a, at->layer, l);
        }
        set(l, at->name, num(at->value));
    }
    return a;
}

static void put_result(json_t *o, const im_trial_result *r)
{
    if (json_is_object(r->extra)) json_object_update(o, r->extra);
    put_ta(o, r->trial, r->attempt);
    put_db_worker(o, r->db, r->worker);
    set(o, "status", json_string(im_result_status_name(r->status)));
    set(o, "val_acc", num(r->val_acc));
    set(o, "test_acc", num(r->test_acc));
    set(o, "wall_s", num(r->wall_s));
    set(o, "error", str_or_null(r->error));
    if (r->n_curve) {
        json_t *c = json_array();
        for (size_t i = 0; i < r->n_curve; i++) {
            json_t *e = json_object();
            put_epoch(e, &r->curve[i]);
            json_array_append_new(c, e);
        }
        set(o, "curve", c);
    }
    if (r->n_atoms) set(o, "atoms", atoms_json(r));
}

static void put_job(json_t *o, const im_msg *m)
{
    put_ta(o, m->job.trial, m->job.attempt);
    put_db_worker(o, m->job.db, NULL);
    set(o, "lease_s", json_real(m->job.lease_s));
    if (m->job.campaign) set(o, "campaign", json_string(m->job.campaign));
    if (m->job.number >= 0) set(o, "number", json_integer(m->job.number));
    set(o, "spec", json_incref((json_t *)m->job.spec));
    if (m->job.user) set(o, "user", json_incref((json_t *)m->job.user));
    if (m->job.params) set(o, "params", json_incref((json_t *)m->job.params));
}

/* STATUS, BEST, TRIALS, CANCEL, EXPORT. Returns -1 when the campaign is
 * missing where it is required. */
static int put_query(json_t *o, const im_msg *m)
{
    json_t *c = campaign_ref_json(&m->query.campaign);
    if (!c && m->type != IM_MSG_STATUS && m->type != IM_MSG_BEST) return -1;
    if (c) set(o, "campaign", c);
    if (m->type == IM_MSG_BEST && m->query.n > 0) set(o, "n", json_integer(m->query.n));
    int paged = m->type == IM_MSG_EXPORT || m->type == IM_MSG_TRIALS;
    if (paged && m->query.from > 0) set(o, "from", json_integer(m->query.from));
    if (paged && m->query.limit > 0) set(o, "limit", json_integer(m->query.limit));
    return 0;
}

/* The fields of m's type into o. Returns -1 when a required one is
 * missing. */
static int put_fields(json_t *o, const im_msg *m)
{
    switch (m->type) {
    case IM_MSG_READY:
        if (!m->ready.worker) return -1;
        put_ready(o, m);
        return 0;
    case IM_MSG_PROGRESS:
        put_ta(o, m->progress.trial, m->progress.attempt);
        put_db_worker(o, m->progress.db, m->progress.worker);
        put_epoch(o, &m->progress.e);
        if (isfinite(m->progress.value)) set(o, "value", json_real(m->progress.value));
        return 0;
    case IM_MSG_HEARTBEAT:
        put_ta(o, m->heartbeat.trial, m->heartbeat.attempt);
        put_db_worker(o, m->heartbeat.db, m->heartbeat.worker);
        return 0;
    case IM_MSG_CONTINUE: put_ta(o, m->cont.trial, m->cont.attempt); return 0;
    case IM_MSG_RESULT: put_result(o, &m->result); return 0;
    case IM_MSG_BYE:
        if (!m->bye.worker) return -1;
        set(o, "worker", json_string(m->bye.worker));
        return 0;
    case IM_MSG_JOB:
        if (!m->job.spec) return -1;
        put_job(o, m);
        return 0;
    case IM_MSG_NOJOB: set(o, "retry_ms", json_integer(m->nojob.retry_ms)); return 0;
    case IM_MSG_STOP:
        if (!m->stop.reason) return -1;
        put_ta(o, m->stop.trial, m->stop.attempt);
        set(o, "reason", json_string(m->stop.reason));
        return 0;
    case IM_MSG_ACK:
        put_ta(o, m->ack.trial, m->ack.attempt);
        set(o, "accepted", json_boolean(m->ack.accepted));
        if (m->ack.note) set(o, "note", json_string(m->ack.note));
        return 0;
    case IM_MSG_SUBMIT:
        if (!m->submit.campaign) return -1;
        set(o, "campaign", json_incref((json_t *)m->submit.campaign));
        return 0;
    case IM_MSG_LIST:
    case IM_MSG_WORKERS: return 0;
    case IM_MSG_BACKUP:
        if (m->query.backup > 0) set(o, "backup", json_integer(m->query.backup));
        if (m->query.from > 0) set(o, "from", json_integer(m->query.from));
        if (m->query.limit > 0) set(o, "limit", json_integer(m->query.limit));
        return 0;
    case IM_MSG_STATUS:
    case IM_MSG_BEST:
    case IM_MSG_TRIALS:
    case IM_MSG_CANCEL:
    case IM_MSG_EXPORT: return put_query(o, m);
    case IM_MSG_OK:
        if (m->ok.re) set(o, "re", json_string(m->ok.re));
        return 0;
    case IM_MSG_ERROR:
        if (m->error.re) set(o, "re", json_string(m->error.re));
        set(o, "message", json_string(m->error.message ? m->error.message : "error"));
        return 0;
    case IM_MSG_COUNT_: break;
    }
    return -1;
}

json_t *im_msg_to_json(const im_msg *m, im_error *err)
{
    const char *tn = im_msg_type_name(m->type);
    if (!tn) {
        im_error_set(err, IM_EINVAL, "message: unknown type %d", (int)m->type);
        return NULL;
    }
    json_t *o = json_object();
    if (m->body && json_is_object(m->body)) json_object_update(o, m->body);
    set(o, "type", json_string(tn));
    set(o, "v", json_integer(IM_PROTOCOL_VERSION));
    if (put_fields(o, m) != 0) {
        json_decref(o);
        im_error_set(err, IM_EINVAL, "message: %s lacks a required field", tn);
        return NULL;
    }
    return o;
}

char *im_msg_encode(const im_msg *m, size_t *len_out, im_error *err)
{
    json_t *o = im_msg_to_json(m, err);
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s) {
        im_error_set(err, IM_EINVAL, "message: cannot serialise %s", im_msg_type_name(m->type));
        return NULL;
    }
    if (len_out) *len_out = strlen(s);
    return s;
}

int im_wire_list_has(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *x;
    if (!json_is_array(arr) || !s) return 0;
    json_array_foreach(arr, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0) return 1;
    }
    return 0;
}

/* ---- transport ---- */

int im_wire_recv(void *socket, int flags, size_t max_bytes, im_envelope *env, im_msg *m,
                 im_error *err)
{
    zmq_msg_t part;
    int n_frames = 0, env_ok = 1, status = 0;
    if (env) env->n = 0;
    char why[128] = "";
    for (;;) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, socket, n_frames == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(&part);
            if (n_frames == 0) {
                errno = e;
                im_error_set(err, IM_ENET, "receive failed: %s", zmq_strerror(e));
                return IM_ENET;
            }
            /* Interrupted in the middle of a multipart message: ZeroMQ
             * delivers parts atomically, so this only happens on shutdown. */
            errno = e;
            im_error_set(err, IM_ENET, "receive failed mid-message: %s", zmq_strerror(e));
            return IM_ENET;
        }
        n_frames++;
        int more = zmq_msg_more(&part);
        if (more) {
            size_t fl = zmq_msg_size(&part);
            if (!env || env->n >= IM_ENVELOPE_MAX || fl > sizeof env->frame[0]) {
                env_ok = 0;
                snprintf(why, sizeof why, "message: too many routing frames or one too long");
            } else {
                memcpy(env->frame[env->n], zmq_msg_data(&part), fl);
                env->len[env->n++] = fl;
            }
            zmq_msg_close(&part);
            continue;
        }
        /* the body */
        if (status == 0 && !env_ok) memset(m, 0, sizeof *m);
        if (!env_ok) {
            if (env) env->n = -1;
            status = IM_EPROTO;
            im_error_set(err, IM_EPROTO, "%s", why);
        } else if (zmq_msg_size(&part) > max_bytes) {
            memset(m, 0, sizeof *m);
            status = IM_EPROTO;
            im_error_set(err, IM_EPROTO, "message: %zu bytes, more than the limit of %zu",
                         zmq_msg_size(&part), max_bytes);
        } else {
            status = im_msg_decode(m, zmq_msg_data(&part), zmq_msg_size(&part), err);
        }
        zmq_msg_close(&part);
        return status;
    }
}

int im_wire_send(void *socket, const im_envelope *env, const im_msg *m, im_error *err)
{
    size_t len;
    char *s = im_msg_encode(m, &len, err);
    if (!s) return IM_EINVAL;
    int n = env && env->n > 0 ? env->n : 0;
    for (int i = 0; i < n; i++)
        if (zmq_send(socket, env->frame[i], env->len[i], ZMQ_SNDMORE) < 0) {
            int e = errno;
            free(s);
            errno = e;
            im_error_set(err, IM_ENET, "send failed: %s", zmq_strerror(e));
            return IM_ENET;
        }
    int rc = zmq_send(socket, s, len, 0);
    int e = errno;
    free(s);
    if (rc < 0) {
        errno = e;
        im_error_set(err, IM_ENET, "send failed: %s", zmq_strerror(e));
        return IM_ENET;
    }
    return 0;
}

int im_wire_send_error(void *socket, const im_envelope *env, const char *re, const char *message)
{
    im_msg m = {.type = IM_MSG_ERROR};
    m.error.re = re;
    m.error.message = message;
    return im_wire_send(socket, env, &m, NULL);
}
