/*
 * backend_builtin.c: the worker's built-in backend: parses the trial spec,
 * trains with libinfomorph (im_train_run) in the calling thread and turns the
 * outcome into a trial result (backend.h). Nothing here prints or touches the
 * network; failures become a failed result with the error text.
 */
#include "backend.h"

#include "lattice.h"
#include "spec.h"
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

wk_result *wk_result_failed(const char *message, double wall_s)
{
    wk_result *res = im_xcalloc(1, sizeof *res);
    res->error = im_xstrdup(message ? message : "unknown failure");
    res->r = (im_trial_result){.status = IM_RESULT_FAILED,
                               .val_acc = NAN,
                               .test_acc = NAN,
                               .wall_s = wall_s,
                               .error = res->error};
    return res;
}

void wk_result_free(wk_result **res)
{
    if (!res || !*res) return;
    free((*res)->r.curve);
    free((*res)->r.atoms);
    json_decref((*res)->r.extra);
    free((*res)->error);
    free(*res);
    *res = NULL;
}

/* The atoms of a layer's lattice (its terms, H_res last) as named atoms. */
static void add_atoms(wk_result *res, const im_lattice *lat, const char *layer, const double *terms)
{
    for (int i = 0; i <= lat->n; i++) {
        size_t k = res->r.n_atoms++;
        snprintf(res->atom_names[k], sizeof res->atom_names[k], "%s", lat->short_name[i]);
        res->r.atoms[k] = (im_trial_atom){layer, res->atom_names[k], terms[i]};
    }
}

/* A finished or stopped run as a result: the trainer's curve is taken over,
 * the atoms are those of the last epoch. */
static wk_result *result_of_run(const im_train_spec *spec, im_train_result *run, int stopped)
{
    wk_result *res = im_xcalloc(1, sizeof *res);
    res->r.status = stopped ? IM_RESULT_STOPPED : IM_RESULT_DONE;
    res->r.val_acc = run->n_epochs ? run->val_acc : NAN;
    res->r.test_acc = run->n_epochs ? run->test_acc : NAN;
    res->r.wall_s = run->wall_s;
    res->r.curve = run->curve; /* taken over */
    res->r.n_curve = (size_t)run->n_epochs;
    run->curve = NULL;
    run->n_epochs = 0;
    im_lattice lat_h, lat_o;
    if (res->r.n_curve && im_lattice_init(&lat_h, im_setup_sources(spec->setup), NULL) == 0 &&
        im_lattice_init(&lat_o, 2, NULL) == 0) {
        const im_epoch_stats *last = &res->r.curve[res->r.n_curve - 1];
        res->r.atoms = im_xmalloc_array(2 * IM_MAX_TERMS, sizeof *res->r.atoms);
        add_atoms(res, &lat_h, "hidden", last->atoms_hidden);
        add_atoms(res, &lat_o, "output", last->atoms_out);
    }
    return res;
}

wk_result *wk_builtin_run(const json_t *spec_json, const wk_run_options *opt)
{
    im_error err = {0};
    im_train_spec spec;
    im_train_spec_default(&spec);
    if (!json_is_object(spec_json))
        return wk_result_failed("the trial spec is not a JSON object", 0);
    if (im_train_spec_from_json(&spec, spec_json, &err) != 0) {
        char msg[IM_ERROR_MAX + 32];
        snprintf(msg, sizeof msg, "bad trial spec: %s", err.msg);
        return wk_result_failed(msg, 0);
    }

    im_train_options topt = {
        .data_dir = opt->data_dir, .on_epoch = opt->on_epoch, .user = opt->user, .stop = opt->stop};
    im_train_result run = {0};
    int rc = im_train_run(&spec, &topt, &run, &err);
    wk_result *res;
    if (rc != 0 && rc != IM_ESTOPPED)
        res = wk_result_failed(err.msg[0] ? err.msg : im_strerror(rc), run.wall_s);
    else
        res = result_of_run(&spec, &run, rc == IM_ESTOPPED);
    im_train_result_release(&run);
    return res;
}
