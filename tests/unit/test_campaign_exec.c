/*
 * test_campaign_exec: campaigns for the external-command backend. The
 * campaign file's keys (backend, objective, direction, a typed space, fixed
 * points by name) and their errors, naming the field; the canonical JSON
 * round trip; random points over every parameter type; and on a real
 * (temporary) store: exec trials go only to exec workers, carry their
 * params by name (choices as text), and are ranked by their objective in
 * the campaign's direction, which also sets the sign of the points' values;
 * after a restart the pruner is rebuilt from the stored objective by epoch
 * and a pruned trial keeps its last reported objective.
 */
#include "campaign.h"
#include "lifecycle.h"
#include "pruner.h"
#include "test.h"
#include "test_util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

static const char *SEARCH =
    "{\"name\": \"x\", \"kind\": \"search\", \"backend\": \"exec\", \"objective\": \"loss\", "
    "\"direction\": \"minimize\", \"budget\": 6, \"seed\": 5, \"user\": {\"a\": 1}, "
    "\"space\": {\"lr\": {\"float\": [1e-4, 0.1], \"log\": true}, \"layers\": {\"int\": [1, 4]}, "
    "\"act\": {\"categorical\": [\"relu\", \"tanh\"]}, \"dropout\": [0, 0.5], \"wd\": 0}}";

static int parse(const char *text, im_campaign_spec *spec, im_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    CHECK_MSG(obj != NULL, "bad test JSON: %s: %s", text, jerr.text);
    int rc = im_campaign_spec_from_json(spec, obj, err);
    json_decref(obj);
    return rc;
}

static void test_parse(void)
{
    im_campaign_spec s;
    im_error err = {0};
    CHECK_MSG(parse(SEARCH, &s, &err) == 0, "%s", err.msg);
    CHECK_INT(s.backend, IM_BACKEND_EXEC);
    CHECK_STR(s.objective, "loss");
    CHECK_INT(s.minimize, 1);
    CHECK_INT(im_campaign_n_values(&s), 5);
    if (s.params && s.params->n == 5) {
        static const param_type types[] = {PARAM_LOG_FLOAT, PARAM_INT, PARAM_CATEGORICAL,
                                           PARAM_FLOAT, PARAM_FIXED};
        static const char *names[] = {"lr", "layers", "act", "dropout", "wd"};
        for (int i = 0; i < 5; i++) {
            CHECK_STR(s.params->p[i].name, names[i]);
            CHECK_INT(s.params->p[i].type, types[i]);
        }
        CHECK_STR(s.params->p[2].choices[1], "tanh");
        CHECK_NEAR(s.params->p[0].low, 1e-4, 0);
    }
    /* the canonical JSON parses to the same canonical JSON */
    json_t *canon = im_campaign_spec_to_json(&s);
    CHECK(json_object_get(canon, "train") == NULL);
    im_campaign_spec s2;
    CHECK_MSG(im_campaign_spec_from_json(&s2, canon, &err) == 0, "%s", err.msg);
    json_t *canon2 = im_campaign_spec_to_json(&s2);
    CHECK(json_equal(canon, canon2));
    json_decref(canon);
    json_decref(canon2);
    im_campaign_spec_release(&s2);

    /* random points are valid for every type */
    sampler *smp = NULL;
    CHECK_MSG(sampler_new(&smp, &s, &err) == 0, "%s", err.msg);
    int seen[2] = {0, 0};
    for (int p = 0; smp && p < 200; p++) {
        sampler_point x;
        CHECK_INT(sampler_suggest(smp, p, NULL, 0, &x, &err), 0);
        for (int i = 0; i < s.params->n; i++)
            CHECK_MSG(param_valid(&s.params->p[i], x.v[i]), "point %d param %s = %g", p,
                      s.params->p[i].name, x.v[i]);
        seen[(int)x.v[2]]++;
    }
    CHECK(seen[0] > 50 && seen[1] > 50);
    sampler_free(&smp);
    im_campaign_spec_release(&s);

    /* a fixed campaign by name: integers, floats and choices */
    CHECK_MSG(parse("{\"name\": \"f\", \"kind\": \"fixed\", \"backend\": \"exec\", \"points\": "
                    "[{\"n\": 1, \"x\": 0.5, \"m\": \"a\"}, {\"n\": 3, \"x\": 1, \"m\": \"b\"}]}",
                    &s, &err) == 0,
              "%s", err.msg);
    CHECK_INT(s.n_points, 2);
    if (s.params && s.params->n == 3) {
        CHECK_INT(s.params->p[0].type, PARAM_INT);
        CHECK_INT(s.params->p[1].type, PARAM_FLOAT);
        CHECK_INT(s.params->p[2].type, PARAM_CATEGORICAL);
        CHECK_NEAR(s.points[IM_CAMPAIGN_MAX_PARAMS + 2], 1, 0); /* "b" */
        CHECK_NEAR(s.points[IM_CAMPAIGN_MAX_PARAMS + 0], 3, 0);
    }
    im_campaign_spec_release(&s);
}

static void check_refused(const char *text, const char *message)
{
    im_campaign_spec s;
    im_error err = {0};
    int rc = parse(text, &s, &err);
    CHECK_MSG(rc != 0, "accepted: %s", text);
    CHECK_MSG(strstr(err.msg, message) != NULL, "%s: message '%s', expected '%s'", text, err.msg,
              message);
    im_campaign_spec_release(&s);
}

static void test_errors(void)
{
#define EXEC_SEARCH(space)                                                                         \
    "{\"name\": \"x\", \"kind\": \"search\", \"backend\": \"exec\", \"budget\": 2, "               \
    "\"space\": " space "}"
    check_refused("{\"name\": \"x\", \"kind\": \"fixed\", \"backend\": \"gpu\", \"points\": "
                  "[\"paper-optimized\"]}",
                  "campaign: 'backend' must be \"builtin\" or \"exec\" (got 'gpu')");
    check_refused("{\"name\": \"x\", \"kind\": \"ablation\", \"backend\": \"exec\", \"base\": "
                  "\"paper-optimized\"}",
                  "kind 'ablation' varies the gamma");
    check_refused("{\"name\": \"x\", \"kind\": \"search\", \"budget\": 2, \"objective\": "
                  "\"loss\"}",
                  "the built-in trainer maximises 'val_acc'");
    check_refused("{\"name\": \"x\", \"kind\": \"search\", \"budget\": 2, \"direction\": "
                  "\"down\"}",
                  "'direction' must be \"maximize\" or \"minimize\"");
    check_refused("{\"name\": \"x\", \"kind\": \"search\", \"backend\": \"exec\", \"budget\": 2, "
                  "\"train\": {}, \"space\": {\"a\": [0, 1]}}",
                  "'train' is the built-in trainer's");
    check_refused("{\"name\": \"x\", \"kind\": \"search\", \"backend\": \"exec\", \"budget\": 2}",
                  "'space' is required for backend \"exec\"");
    check_refused(EXEC_SEARCH("{\"a\": 1}"), "fixes every component");
    check_refused(EXEC_SEARCH("{\"a\": [1, 0]}"), "'space.a': low 1 > high 0");
    check_refused(EXEC_SEARCH("{\"a\": {\"float\": [0, 1], \"log\": true}}"),
                  "'space.a': a log range needs low > 0");
    check_refused(EXEC_SEARCH("{\"a\": {\"int\": [0.5, 2]}}"),
                  "'space.a.int' must have integer bounds");
    check_refused(EXEC_SEARCH("{\"a\": {\"int\": [1, 2], \"log\": true}}"),
                  "'space.a': 'log' is for 'float' only");
    check_refused(EXEC_SEARCH("{\"a\": {\"categorical\": []}}"),
                  "'space.a.categorical' must be a list of 1..16 choices");
    check_refused(EXEC_SEARCH("{\"a\": {\"categorical\": [\"u\", \"u\"]}}"),
                  "'space.a.categorical': 'u' is listed twice");
    check_refused(EXEC_SEARCH("{\"a\": {\"categorical\": [1]}}"),
                  "'space.a.categorical[0]' must be a string");
    check_refused(EXEC_SEARCH("{\"a\": {\"int\": [1, 2], \"float\": [0, 1]}}"),
                  "exactly one of 'float', 'int' and 'categorical'");
    check_refused(EXEC_SEARCH("{\"a\": {\"range\": [1, 2]}}"), "unknown key 'range'");
    check_refused(EXEC_SEARCH("{\"a b\": [0, 1]}"), "a parameter's name must be");
    check_refused(EXEC_SEARCH("{\"a\": \"x\"}"), "'space.a' must be a number (fixed)");
    check_refused("{\"name\": \"f\", \"kind\": \"fixed\", \"backend\": \"exec\", \"points\": "
                  "[{\"n\": 1}, {\"m\": 2}]}",
                  "'points[1]' must be an object with the 1 parameters of points[0]");
    check_refused("{\"name\": \"f\", \"kind\": \"fixed\", \"backend\": \"exec\", \"points\": "
                  "[{\"n\": 1}, {\"n\": [2]}]}",
                  "'points[1].n' must be a finite number or a string");
#undef EXEC_SEARCH
}

static trial *hand_out(campaign_set *cs, store *st, const char *backends)
{
    trial *t = NULL;
    im_error err = {0};
    json_t *b = backends ? json_loads(backends, 0, NULL) : NULL;
    CHECK_INT(lifecycle_hand_out(cs, st, "w1", b, NULL, -1, 0, 60, &t, &err), 0);
    json_decref(b);
    return t;
}

/* The sampler's view of the points: what on_point_end heard. */
static double g_point_value[8];
static int g_points_heard;
static point_state g_point_state[8];

static void test_store(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads(SEARCH, 0, NULL);
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    if (!c) return;
    CHECK(hand_out(&cs, st, NULL) == NULL); /* a worker that names no backend: builtin */
    CHECK(hand_out(&cs, st, "[\"builtin\"]") == NULL);
    CHECK(campaign_runs_on(c, NULL, NULL) == 0);
    /* a command's memory is unknown: an exec trial fits any worker's cap */
    CHECK_INT(c->need_bytes, 0);
    CHECK(campaign_fits_memory(c, 0));
    static const double loss[] = {3, 1, 2};
    int64_t ids[3] = {0};
    for (int i = 0; i < 3; i++) {
        trial *t = hand_out(&cs, st, "[\"exec\"]");
        CHECK(t != NULL);
        if (!t) return;
        ids[i] = t->id;
        CHECK_STR(json_string_value(json_object_get(t->spec, "backend")), "exec");
        CHECK_STR(json_string_value(json_object_get(t->spec, "objective")), "loss");
        CHECK_INT(json_integer_value(json_object_get(t->spec, "seed")), 1);
        const char *act = json_string_value(json_object_get(t->params, "act"));
        CHECK(act && (!strcmp(act, "relu") || !strcmp(act, "tanh")));
        CHECK(json_is_integer(json_object_get(t->params, "layers")));
        CHECK_NEAR(json_number_value(json_object_get(t->params, "wd")), 0, 0);
        im_trial_result r = {.status = IM_RESULT_DONE, .val_acc = NAN, .test_acc = NAN};
        r.extra = json_pack("{s:f, s:{s:f, s:s}}", "value", loss[i], "output", "loss", loss[i],
                            "note", "ok");
        campaign_trial_take_result(t, &r);
        json_decref(r.extra);
        store_trial_result sr = {
            .status = STORE_TRIAL_DONE, .val_acc = NAN, .test_acc = NAN, .wall_s = 1};
        CHECK_INT(campaign_trial_finish(&cs, st, t, &sr, NULL, 0, &err), 0);
    }
    json_t *best = store_best_json(st, c->id, 3, &err);
    CHECK_INT((long long)json_array_size(best), 3);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(best, 0), "trial")), ids[1]);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(best, 2), "trial")), ids[0]);
    CHECK_NEAR(json_number_value(json_object_get(json_array_get(best, 0), "value")), 1, 0);
    const char *act = json_string_value(
        json_object_get(json_object_get(json_array_get(best, 0), "gamma"), "act"));
    CHECK(act && (!strcmp(act, "relu") || !strcmp(act, "tanh")));
    json_decref(best);
    store_counts counts;
    CHECK_INT(store_campaign_counts(st, c->id, &counts, &err), 0);
    CHECK_INT(counts.best_trial, ids[1]);

    /* read back: values and choices as stored */
    store_trial *tr = NULL;
    size_t n = 0;
    CHECK_INT(
        store_trial_list(st, c->id, STORE_MASK(STORE_TRIAL_DONE), STORE_WITH_PARAMS, &tr, &n, &err),
        0);
    CHECK_INT((long long)n, 3);
    for (size_t i = 0; i < n; i++) {
        CHECK_NEAR(tr[i].value, loss[i], 0);
        int texts = 0;
        for (size_t k = 0; k < tr[i].n_params; k++)
            if (tr[i].param_texts && tr[i].param_texts[k]) {
                texts++;
                CHECK_STR(tr[i].params[k].name, "act");
                CHECK(isnan(tr[i].params[k].value));
            }
        CHECK_INT(texts, 1);
    }
    store_trials_free(&tr, n);
    campaign_set_release(&cs);
}

/* A kind's on_point_end through a fixed exec campaign that minimises: the
 * point values are negated (higher is better for the sampler). */
static void spy_point_end(campaign *c, const sampler_point *x, double value, point_state state)
{
    (void)c;
    if (x->point >= 0 && x->point < 8) {
        g_point_value[x->point] = value;
        g_point_state[x->point] = state;
    }
    g_points_heard++;
}

static void test_direction(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads("{\"name\": \"m\", \"kind\": \"fixed\", \"backend\": \"exec\", "
                             "\"objective\": \"loss\", \"direction\": \"minimize\", \"points\": "
                             "[{\"x\": 1}, {\"x\": 2}]}",
                             0, NULL);
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    if (!c) return;
    trial probe = {.c = c};
    CHECK_NEAR(campaign_progress_score(&probe, 0.5, 3.0), -3.0, 0); /* minimise: negated */
    kind_def spy = *c->kind; /* the same kind, listening to its points */
    spy.on_point_end = spy_point_end;
    c->kind = &spy;
    for (int i = 0; i < 2; i++) {
        trial *t = hand_out(&cs, st, "[\"exec\"]");
        if (!t) return;
        im_trial_result r = {.status = IM_RESULT_DONE, .val_acc = 0.5, .test_acc = NAN};
        r.extra = json_pack("{s:f}", "value", 10.0 + i);
        campaign_trial_take_result(t, &r);
        json_decref(r.extra);
        store_trial_result sr = {
            .status = STORE_TRIAL_DONE, .val_acc = 0.5, .test_acc = NAN, .wall_s = 1};
        CHECK_INT(campaign_trial_finish(&cs, st, t, &sr, NULL, 0, &err), 0);
    }
    CHECK_INT(g_points_heard, 2);
    CHECK_NEAR(g_point_value[0], -10, 0);
    CHECK_NEAR(g_point_value[1], -11, 0);
    campaign_set_release(&cs);
}

/* A pruned point of a campaign that minimises is valued by its best (lowest)
 * last report, oriented like a done point's: negated, higher is better. */
static void test_direction_pruned(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads("{\"name\": \"mp\", \"kind\": \"fixed\", \"backend\": \"exec\", "
                             "\"objective\": \"loss\", \"direction\": \"minimize\", "
                             "\"seeds_per_point\": 2, \"points\": [{\"x\": 1}]}",
                             0, NULL);
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    if (!c) return;
    kind_def spy = *c->kind;
    spy.on_point_end = spy_point_end;
    c->kind = &spy;
    g_points_heard = 0;
    for (int i = 0; i < 2; i++) { /* both seeds pruned, last reports 7 and 5 */
        trial *t = hand_out(&cs, st, "[\"exec\"]");
        if (!t) return;
        im_trial_result r = {.status = IM_RESULT_STOPPED, .val_acc = NAN, .test_acc = NAN};
        r.extra = json_pack("{s:f}", "value", i ? 5.0 : 7.0);
        campaign_trial_take_result(t, &r);
        json_decref(r.extra);
        store_trial_result sr = {
            .status = STORE_TRIAL_PRUNED, .val_acc = NAN, .test_acc = NAN, .wall_s = 1};
        CHECK_INT(campaign_trial_finish(&cs, st, t, &sr, NULL, 0, &err), 0);
    }
    CHECK_INT(g_points_heard, 1);
    CHECK_INT(g_point_state[0], POINT_PRUNED);
    CHECK_NEAR(g_point_value[0], -5, 0);
    campaign_set_release(&cs);
}

/* After a restart the queued exec trials come back with the same params. */
static void test_resume(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads(SEARCH, 0, NULL);
    json_object_set_new(obj, "name", json_string("r"));
    json_object_set_new(obj, "priority", json_integer(10));
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    trial *t = c ? hand_out(&cs, st, "[\"exec\"]") : NULL;
    if (!t) return;
    int64_t id = t->id;
    char *before = json_dumps(t->params, JSON_SORT_KEYS | JSON_COMPACT);
    campaign_set_release(&cs); /* the coordinator stops */

    campaign_set_init(&cs);
    CHECK_INT(campaign_set_resume(&cs, st, 0, 0, NULL, &err), 0);
    t = hand_out(&cs, st, "[\"exec\"]");
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(t->id, id);
        char *after = json_dumps(t->params, JSON_SORT_KEYS | JSON_COMPACT);
        CHECK_STR(after, before);
        free(after);
        CHECK_STR(json_string_value(json_object_get(t->spec, "backend")), "exec");
    }
    free(before);
    campaign_set_release(&cs);
}

/* One exec trial's result as the broker writes it: the curve with the
 * objective by epoch (curve_values) and the last objective, then the end. */
static void finish_exec(campaign_set *cs, store *st, trial *t, const double *loss, int n,
                        store_trial_status status)
{
    im_epoch_stats curve[4] = {{0}};
    json_t *values = json_array();
    double score[4];
    for (int e = 0; e < n; e++) {
        curve[e] = (im_epoch_stats){.epoch = e,
                                    .train_acc = NAN,
                                    .val_acc = NAN,
                                    .test_acc = NAN,
                                    .goal_hidden = NAN,
                                    .goal_out = NAN,
                                    .seconds = 1};
        json_array_append_new(values, json_real(loss[e]));
        score[e] = -loss[e]; /* minimised: the pruner's score is its negative */
    }
    im_trial_result r = {.status = status == STORE_TRIAL_DONE ? IM_RESULT_DONE : IM_RESULT_STOPPED,
                         .val_acc = NAN,
                         .test_acc = NAN,
                         .curve = curve,
                         .n_curve = (size_t)n};
    r.extra = json_pack("{s:f, s:o}", "value", loss[n - 1], "curve_values", values);
    im_error err = {0};
    campaign_trial_take_result(t, &r);
    CHECK_MSG(store_trial_data_insert(st, t->id, &r, &err) == 0, "%s", err.msg);
    json_decref(r.extra);
    store_trial_result sr = {.status = status, .val_acc = NAN, .test_acc = NAN, .wall_s = 1};
    CHECK_MSG(campaign_trial_finish(cs, st, t, &sr, status == STORE_TRIAL_DONE ? score : NULL, n,
                                    &err) == 0,
              "%s", err.msg);
}

/* A minimising exec search with a median pruner: three done trials and a
 * pruned one; after a restart the pruner's medians are those it had (from
 * the objective stored by epoch, not val_acc, which the command never
 * gave), and the pruned trial's last objective is in its curve. */
static void test_restart_pruner(store *st)
{
    campaign_set cs;
    campaign_set_init(&cs);
    im_error err = {0};
    json_t *obj = json_loads(SEARCH, 0, NULL);
    json_object_set_new(obj, "name", json_string("rp"));
    json_object_set_new(obj, "budget", json_integer(20));
    json_object_set_new(obj, "priority", json_integer(20));
    json_object_set_new(obj, "pruner",
                        json_pack("{s:s, s:i, s:i}", "name", "median", "n_startup_trials", 1,
                                  "n_warmup_epochs", 0));
    campaign *c = NULL;
    CHECK_MSG(campaign_submit(&cs, st, obj, &c, &err) == 0, "%s", err.msg);
    json_decref(obj);
    if (!c) return;
    static const double loss[3][3] = {{5, 4, 3}, {6, 2, 1}, {7, 6, 5}};
    for (int i = 0; i < 3; i++) {
        trial *t = hand_out(&cs, st, "[\"exec\"]");
        if (!t) return;
        finish_exec(&cs, st, t, loss[i], 3, STORE_TRIAL_DONE);
    }
    trial *t = hand_out(&cs, st, "[\"exec\"]");
    if (!t) return;
    int64_t pruned_id = t->id;
    static const double pruned_loss[2] = {9, 8};
    finish_exec(&cs, st, t, pruned_loss, 2, STORE_TRIAL_PRUNED);
    double before[3];
    for (int e = 0; e < 3; e++) before[e] = pruner_reference(c->prn, e);
    CHECK_NEAR(before[1], -4, 0); /* the median of -4, -2, -6 */
    campaign_set_release(&cs);

    campaign_set_init(&cs);
    CHECK_MSG(campaign_set_resume(&cs, st, 0, 0, NULL, &err) == 0, "%s", err.msg);
    c = campaign_set_find(&cs, "rp", 0);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(pruner_completed(c->prn), 3);
        for (int e = 0; e < 3; e++)
            CHECK_MSG(pruner_reference(c->prn, e) == before[e], "epoch %d: %g after, %g before", e,
                      pruner_reference(c->prn, e), before[e]);
    }
    double last = NAN;
    CHECK_INT(store_trial_last_value(st, pruned_id, &last, &err), 0);
    CHECK_NEAR(last, 8, 0);
    campaign_set_release(&cs);
}

int main(void)
{
    test_parse();
    test_errors();
    char dir[PATH_MAX], path[PATH_MAX + 16];
    if (test_mkdtemp(dir, sizeof dir, NULL, "test_campaign_exec") != 0) return 1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    store *st = NULL;
    im_error err = {0};
    CHECK_MSG(store_open(&st, path, NULL, &err) == 0, "%s", err.msg);
    if (st) test_store(st);
    if (st) test_direction(st);
    if (st) test_direction_pruned(st);
    if (st) test_resume(st);
    if (st) test_restart_pruner(st);
    store_close(&st);
    test_rm_tree(dir);
    return TEST_END();
}
