/*
 * backend_builtin.c: the worker's built-in backend: parses the trial spec,
 * trains with libinfomorph (im_train_run) in the calling thread and turns the
 * outcome into the body of a RESULT message. Nothing here prints or touches
 * the network; failures become a "failed" body with the error text.
 */
#include "backend.h"

#include "spec.h"
#include "train.h"

#include <math.h>
#include <stdio.h>

json_t *wk_json_number(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *wk_epoch_to_json(const im_epoch_stats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "epoch", json_integer(s->epoch));
    json_object_set_new(o, "train_acc", wk_json_number(s->train_acc));
    json_object_set_new(o, "val_acc", wk_json_number(s->val_acc));
    json_object_set_new(o, "test_acc", wk_json_number(s->test_acc));
    json_object_set_new(o, "goal_hidden", wk_json_number(s->goal_hidden));
    json_object_set_new(o, "goal_out", wk_json_number(s->goal_out));
    json_object_set_new(o, "seconds", wk_json_number(s->seconds));
    return o;
}

/* A "failed" body with a message and no figures. */
static json_t *failed_body(const char *message, double wall_s)
{
    json_t *b = json_object();
    json_object_set_new(b, "status", json_string("failed"));
    json_object_set_new(b, "val_acc", json_null());
    json_object_set_new(b, "test_acc", json_null());
    json_object_set_new(b, "curve", json_array());
    json_object_set_new(b, "atoms", json_object());
    json_object_set_new(b, "wall_s", wk_json_number(wall_s));
    json_object_set_new(b, "error", json_string(message));
    return b;
}

json_t *wk_builtin_run(const json_t *spec_json, const wk_run_options *opt)
{
    im_error err = {0};
    im_train_spec spec;
    im_train_spec_default(&spec);
    if (!json_is_object(spec_json)) return failed_body("the trial spec is not a JSON object", 0);
    if (im_train_spec_from_json(&spec, spec_json, &err) != 0) {
        char msg[IM_ERROR_MAX + 32];
        snprintf(msg, sizeof msg, "bad trial spec: %s", err.msg);
        return failed_body(msg, 0);
    }

    im_train_options topt = {
        .data_dir = opt->data_dir, .on_epoch = opt->on_epoch, .user = opt->user, .stop = opt->stop};
    im_train_result res = {0};
    int rc = im_train_run(&spec, &topt, &res, &err);
    json_t *body;
    if (rc != 0 && rc != IM_ESTOPPED) {
        body = failed_body(err.msg[0] ? err.msg : im_strerror(rc), res.wall_s);
    } else {
        body = json_object();
        json_object_set_new(body, "status", json_string(rc == 0 ? "done" : "stopped"));
        json_t *curve = json_array();
        for (int i = 0; i < res.n_epochs; i++)
            json_array_append_new(curve, wk_epoch_to_json(&res.curve[i]));
        json_t *atoms = NULL;
        json_t *full = res.n_epochs > 0 ? im_train_result_to_json(&spec, &res) : NULL;
        if (full) atoms = json_incref(json_object_get(full, "atoms"));
        json_decref(full);
        json_object_set_new(body, "val_acc", wk_json_number(res.n_epochs ? res.val_acc : NAN));
        json_object_set_new(body, "test_acc", wk_json_number(res.n_epochs ? res.test_acc : NAN));
        json_object_set_new(body, "curve", curve);
        json_object_set_new(body, "atoms", atoms ? atoms : json_object());
        json_object_set_new(body, "wall_s", wk_json_number(res.wall_s));
        json_object_set_new(body, "error", json_null());
    }
    im_train_result_release(&res);
    return body;
}

const wk_backend wk_backend_builtin = {.name = "builtin", .run = wk_builtin_run};
