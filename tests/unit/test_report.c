/*
 * test_report: the report's model from small documents with known values
 * (ranks and their ties, counts, workers, names and their order, eta
 * squared, ablation stages, paper-optimized by value, refused documents), and
 * its renderers: the same model gives the same bytes, the page has its
 * Content-Security-Policy and one marker per trial.
 */
#include "lattice.h"
#include "report.h"
#include "train_spec.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fprintf(stderr, "test_report: bad test JSON: %s (line %d)\n", e.text, e.line);
    return j;
}

/* occurrences of needle in hay */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* The page or the text of r in a new string (caller frees). */
static char *render(const report *r, int html)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (html)
        CHECK_INT(report_html(f, r), 0);
    else
        report_text(f, r);
    fclose(f);
    return buf;
}

static void test_search(void)
{
    /* numbers 0..5: 1 and 3 tie on val (3 has the better test), 4 ties with
     * 0 on val and lacks a test, 2 failed, 5 pruned; "lr" is no PID atom */
    json_t *c = parse("{\"id\": 3, \"name\": \"s<&\\u0001>\", \"kind\": \"search\", "
                      "\"status\": \"done\"}");
    json_t *t = parse(
        "[{\"number\": 0, \"status\": \"done\", \"val_acc\": 0.5, \"test_acc\": 0.4,"
        "  \"wall_s\": 1.5, \"worker\": \"w2\", \"gamma\": {\"h_res\": 0, \"f_c\": 1, \"lr\": 3},"
        "  \"epochs\": [{\"epoch\": 0, \"val_acc\": 0.1}, {\"epoch\": 2, \"val_acc\": 0.5}],"
        "  \"attempts\": [{\"worker\": \"w9\"}, {\"worker\": \"w2\"}]},"
        " {\"number\": 1, \"status\": \"done\", \"val_acc\": 0.7, \"test_acc\": 0.6,"
        "  \"wall_s\": 2, \"worker\": \"w1\", \"gamma\": {\"f_c_l\": -1, \"f_c\": 0.5}},"
        " {\"number\": 2, \"status\": \"failed\", \"wall_s\": null, \"worker\": \"w1\"},"
        " {\"number\": 3, \"status\": \"done\", \"val_acc\": 0.7, \"test_acc\": 0.65},"
        " {\"number\": 4, \"status\": \"done\", \"val_acc\": 0.5, \"test_acc\": null},"
        " {\"number\": 5, \"status\": \"pruned\", \"val_acc\": 0.2}]");
    report r;
    im_error err = {0};
    CHECK_INT(report_build(&r, c, t, &err), 0);
    CHECK_INT(r.id, 3);
    CHECK_INT(r.n_trials, 6);
    CHECK_INT(r.count[REPORT_DONE], 4);
    CHECK_INT(r.count[REPORT_FAILED], 1);
    CHECK_INT(r.count[REPORT_PRUNED], 1);
    CHECK_NEAR(r.compute_s, 3.5, 1e-12);
    CHECK_INT(r.n_workers, 3);
    if (r.n_workers == 3) {
        CHECK_STR(r.workers[0], "w1");
        CHECK_STR(r.workers[2], "w9");
    }
    /* canonical order, braced names; a name of no lattice stays as it is */
    CHECK_INT(r.n_params, 4);
    if (r.n_params == 4) {
        CHECK_STR(r.param[0], "f_c_l");
        CHECK_STR(r.param[1], "f_c");
        CHECK_STR(r.param[2], "h_res");
        CHECK_STR(r.param[3], "lr");
        CHECK_STR(r.param_label[1], "{F}{C}");
        CHECK_STR(r.param_label[2], "H_res");
        CHECK_STR(r.param_label[3], "lr");
    }
    CHECK(isnan(r.trials[1].param[2])); /* trial 1 has no h_res */
    CHECK_INT(r.n_atoms, 0);
    /* ranks: 3 (test 0.65), 1, 0 (test 0.4), 4 (no test) */
    CHECK_INT(r.n_ranked, 4);
    if (r.n_ranked == 4) {
        CHECK_INT(r.trials[r.ranked[0]].number, 3);
        CHECK_INT(r.trials[r.ranked[1]].number, 1);
        CHECK_INT(r.trials[r.ranked[2]].number, 0);
        CHECK_INT(r.trials[r.ranked[3]].number, 4);
    }
    /* the curve by epoch number, a missing epoch NAN */
    CHECK_INT(r.trials[0].n_epochs, 3);
    CHECK(isnan(r.trials[0].epoch_val[1]));
    CHECK_NEAR(r.trials[0].epoch_val[2], 0.5, 0);
    CHECK_INT(r.max_epoch, 2);
    CHECK_INT(r.imp_n, 0); /* too few for importance */

    /* the same model, the same bytes; one history marker per drawn trial */
    char *a = render(&r, 1), *b = render(&r, 1);
    CHECK_STR(a, b);
    CHECK_CONTAINS(a, "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"");
    CHECK_INT(count(a, "class=\"pt done\""), 4);
    CHECK_INT(count(a, "class=\"pt pruned\""), 1);
    CHECK_INT(count(a, "class=\"pt failed\""), 1);
    CHECK(!strstr(a, "<script"));
    CHECK_CONTAINS(a, "<h1>s&lt;&amp;&gt;<small>"); /* escaped, the control character left out */
    free(a), free(b);
    char *text = render(&r, 0);
    CHECK_CONTAINS(text, "trials: 6, done 4, failed 1, pruned 1");
    free(text);
    report_release(&r);
    json_decref(c);
    json_decref(t);
}

/* eta squared: a parameter that splits the accuracy in two explains all of
 * its variance, a constant one none of it. */
static void test_importance(void)
{
    json_t *c = parse("{\"name\": \"imp\", \"kind\": \"search\"}");
    json_t *t = json_array();
    for (int i = 0; i < 20; i++)
        json_array_append_new(t,
                              json_pack("{s:i, s:s, s:f, s:{s:f, s:f, s:f}}", "number", i, "status",
                                        "done", "val_acc", i < 10 ? 0.5 : 0.7, "gamma", "f_c",
                                        (double)i, "h_res", 0.0, "fc", (double)((i * 7) % 20)));
    report r;
    CHECK_INT(report_build(&r, c, t, NULL), 0);
    CHECK_INT(r.imp_n, 20);
    CHECK_INT(r.imp_bins, 4);
    int fc = -1, f_c = -1, h = -1;
    for (int p = 0; p < r.n_params; p++) {
        if (!strcmp(r.param[p], "f_c")) f_c = p;
        if (!strcmp(r.param[p], "fc")) fc = p;
        if (!strcmp(r.param[p], "h_res")) h = p;
    }
    CHECK(f_c >= 0 && fc >= 0 && h >= 0);
    if (f_c >= 0 && fc >= 0 && h >= 0) {
        CHECK_NEAR(r.eta2[f_c], 1, 1e-12);
        CHECK_NEAR(r.eta2[h], 0, 0);
        /* fc = 7i mod 20 in 4 bins of 5 values: 1, 2, 4 and 3 trials of
         * 0.7 in them, bin means 0.54, 0.58, 0.66, 0.62 around 0.6:
         * 5 (0.06^2 + 0.02^2 + 0.06^2 + 0.02^2) / (20 * 0.1^2) = 0.2 */
        CHECK_NEAR(r.eta2[fc], 0.2, 1e-12);
        CHECK_NEAR(r.imp[f_c] + r.imp[h] + r.imp[fc], 1, 1e-12);
    }
    report_release(&r);
    json_decref(c);
    json_decref(t);
}

static void test_ablation(void)
{
    /* base 0.8, 0.9; f_c 0.6 alone (sd unknown); c_l 0.85, 0.95; a
     * comma label without a stage is neither stage 1 nor stage 2 */
    json_t *c = parse("{\"name\": \"abl\", \"kind\": \"ablation\"}");
    json_t *t =
        parse("["
              "{\"number\": 0, \"status\": \"done\", \"label\": \"base\", \"val_acc\": 0.8},"
              "{\"number\": 1, \"status\": \"done\", \"label\": \"base\", \"val_acc\": 0.9},"
              "{\"number\": 2, \"status\": \"done\", \"label\": \"f_c\", \"val_acc\": 0.6},"
              "{\"number\": 3, \"status\": \"done\", \"label\": \"c_l\", \"val_acc\": 0.85},"
              "{\"number\": 4, \"status\": \"done\", \"label\": \"c_l\", \"val_acc\": 0.95},"
              "{\"number\": 5, \"status\": \"failed\", \"label\": \"f\"},"
              "{\"number\": 6, \"status\": \"done\", \"label\": \"c_l,f\", \"val_acc\": 0.5}]");
    report r;
    CHECK_INT(report_build(&r, c, t, NULL), 0);
    CHECK_INT(r.base_n, 2);
    CHECK_NEAR(r.base_mean, 0.85, 1e-12);
    CHECK_NEAR(r.base_sd, sqrt(0.005), 1e-12);
    CHECK_INT(r.n_ablations, 2);
    if (r.n_ablations == 2) {
        CHECK_STR(r.ablations[0].label, "f_c"); /* the most harmful first */
        CHECK_STR(r.ablations[0].braced, "{F}{C}");
        CHECK_NEAR(r.ablations[0].mean, -0.25, 1e-12);
        CHECK(isnan(r.ablations[0].sd));
        CHECK_INT(r.ablations[0].n, 1);
        CHECK_STR(r.ablations[1].label, "c_l");
        CHECK_NEAR(r.ablations[1].mean, 0.05, 1e-12);
        CHECK_NEAR(r.ablations[1].min, 0.0, 1e-12);
        CHECK_NEAR(r.ablations[1].max, 0.1, 1e-12);
        CHECK_NEAR(r.ablations[1].sd, sqrt(0.005), 1e-12);
    }
    CHECK_INT(r.has_stage, 0);
    CHECK_INT(r.n_steps, 0);
    char *text = render(&r, 0);
    CHECK(strstr(text, "f_c        {F}{C}") < strstr(text, "c_l        {C}{L}"));
    CHECK(!strstr(text, "stage 2"));
    free(text);
    report_release(&r);
    json_decref(t);

    /* with stages: one removed (c_l, point 5), then two (c_l,f: point 6 adds
     * f), by the stage field; steps go in point order, whatever the trials' */
    t = parse("["
              "{\"number\": 0, \"point\": 0, \"status\": \"done\", \"label\": \"base\","
              " \"stage\": \"base\", \"val_acc\": 0.8},"
              "{\"number\": 1, \"point\": 6, \"status\": \"done\", \"label\": \"f\","
              " \"stage\": \"successive\", \"val_acc\": 0.5},"
              "{\"number\": 2, \"point\": 5, \"status\": \"done\", \"label\": \"c_l\","
              " \"stage\": \"successive\", \"val_acc\": 0.7},"
              "{\"number\": 3, \"point\": 1, \"status\": \"done\", \"label\": \"c_l\","
              " \"stage\": \"individual\", \"val_acc\": 0.75},"
              "{\"number\": 4, \"point\": 5, \"status\": \"done\", \"label\": \"c_l\","
              " \"stage\": \"successive\", \"val_acc\": 0.76}]");
    CHECK_INT(report_build(&r, c, t, NULL), 0);
    CHECK_INT(r.has_stage, 1);
    CHECK_INT(r.n_ablations, 1);
    CHECK_INT(r.n_steps, 2);
    if (r.n_steps == 2) {
        CHECK_INT(r.steps[0].removed, 1);
        CHECK_STR(r.steps[0].label, "c_l");
        CHECK_NEAR(r.steps[0].mean, 0.73, 1e-12);
        CHECK_NEAR(r.steps[0].min, 0.7, 1e-12);
        CHECK_NEAR(r.steps[0].max, 0.76, 1e-12);
        CHECK_INT(r.steps[0].n, 2);
        CHECK_INT(r.steps[1].removed, 2);
        CHECK_STR(r.steps[1].label, "c_l,f");
        CHECK_NEAR(r.steps[1].mean, 0.5, 1e-12);
    }
    char *page = render(&r, 1);
    CHECK_CONTAINS(page, "id=\"plot-successive\"");
    CHECK_INT(count(page, "class=\"band\""), 1);
    free(page);
    report_release(&r);
    json_decref(t);
    json_decref(c);
}

/* paper-optimized by name (a spec's gamma) or by its 19 values */
static void test_paper(void)
{
    im_lattice lat;
    double p[IM_MAX_TERMS];
    CHECK_INT(im_lattice_init(&lat, 3, NULL), 0);
    CHECK_INT(im_gamma_preset("paper-optimized", 3, p), 0);
    json_t *g = json_object(), *g2 = json_object();
    for (int i = 0; i < lat.n + 1; i++) {
        json_object_set_new(g, lat.short_name[i], json_real(p[i]));
        json_object_set_new(g2, lat.short_name[i], json_real(i == 3 ? 0 : p[i]));
    }
    json_t *atoms = parse("{\"hidden\": {\"f_c\": 0.5, \"h_res\": 1}, \"output\": {\"f\": 0.25}}");
    json_t *t = json_pack("[{s:i, s:s, s:f, s:O, s:O}, {s:i, s:s, s:f, s:O, s:O},"
                          " {s:i, s:s, s:f, s:O, s:{s:s}}]",
                          "number", 0, "status", "done", "val_acc", 0.8, "gamma", g, "atoms", atoms,
                          "number", 1, "status", "done", "val_acc", 0.7, "gamma", g2, "atoms",
                          atoms, "number", 2, "status", "done", "val_acc", 0.6, "gamma", g2, "spec",
                          "gamma", "paper-optimized");
    json_t *c = parse("{\"name\": \"p\", \"kind\": \"fixed\"}");
    report r;
    CHECK_INT(report_build(&r, c, t, NULL), 0);
    CHECK_INT(r.trials[0].paper, 1);
    CHECK_INT(r.trials[1].paper, 0);
    CHECK_INT(r.trials[2].paper, 1);
    CHECK_INT(r.n_paper, 2);
    CHECK_INT(r.n_atoms, 3); /* f_c, f, h_res */
    int a = -1;
    for (int k = 0; k < r.n_atoms; k++)
        if (!strcmp(r.atom[k], "f_c")) a = k;
    CHECK(a >= 0);
    if (a >= 0) CHECK_NEAR(r.paper_atoms[a], 0.5, 1e-12); /* trial 2 has no atoms */
    report_release(&r);
    json_decref(t), json_decref(c), json_decref(g), json_decref(g2), json_decref(atoms);
}

static void test_refused(void)
{
    report r;
    im_error err = {0};
    json_t *arr = json_array(), *obj = json_object();
    CHECK_INT(report_build(&r, arr, arr, &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "campaign document");
    CHECK_INT(report_build(&r, obj, obj, NULL), IM_EFORMAT);
    /* trials of the wrong shape are read as far as they go, never trusted */
    json_t *t = parse("[1, {\"number\": \"x\", \"status\": 7, \"gamma\": [1],"
                      " \"epochs\": {\"epoch\": 1}, \"atoms\": 3},"
                      " {\"status\": \"done\", \"val_acc\": 0.5}]");
    CHECK_INT(report_build(&r, obj, t, NULL), 0);
    CHECK_INT(r.n_trials, 3);
    CHECK_INT(r.n_ranked, 1);
    char *page = render(&r, 1);
    /* no zero-span axis: no nan or inf among the coordinates */
    CHECK(!strstr(page, "nan"));
    CHECK_INT(count(page, "inf"), count(page, "infomorph"));
    free(page);
    report_release(&r);
    json_decref(t), json_decref(arr), json_decref(obj);
}

int main(void)
{
    test_search();
    test_importance();
    test_ablation();
    test_paper();
    test_refused();
    return TEST_END();
}
