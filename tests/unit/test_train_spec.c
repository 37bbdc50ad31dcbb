/*
 * test_train_spec: the trial spec's plain part (train_spec.h), without JSON:
 * the rules of a filled spec (im_train_spec_validate), fitting gamma to a
 * changed setup, setting gamma from numbers, preset recognition and names.
 * Linked against the core alone. The JSON forms are tested in test_spec.
 */
#include "lattice.h"
#include "test.h"
#include "train_spec.h"

#include <math.h>
#include <string.h>

/* validate(s) fails with code and a message containing needle. */
static void check_refused(const im_train_spec *s, int code, const char *needle)
{
    im_error err = {0};
    CHECK_INT(im_train_spec_validate(s, "spec", &err), code);
    CHECK_CONTAINS(err.msg, needle);
}

static void test_validate(void)
{
    im_train_spec d, s;
    im_error err = {0};
    im_train_spec_default(&d);
    CHECK_INT(im_train_spec_validate(&d, "spec", &err), 0);

    s = d, s.hidden = 0;
    check_refused(&s, IM_ERANGE, "spec: 'hidden' must be an integer in 1..100000 (got 0)");
    s = d, s.epochs = -1;
    check_refused(&s, IM_ERANGE, "'epochs'");
    s = d, s.batch = IM_SPEC_MAX_BATCH + 1;
    check_refused(&s, IM_ERANGE, "'batch'");
    s = d, s.bins = 1;
    check_refused(&s, IM_ERANGE, "'bins' must be an integer in 2..1000");
    s = d, s.threads = 0;
    check_refused(&s, IM_ERANGE, "'threads'");
    s = d, s.train_limit = -5;
    check_refused(&s, IM_ERANGE, "'train_limit' must be an integer >= 0 (got -5)");
    s = d, s.lr_hidden = 0;
    check_refused(&s, IM_ERANGE, "'lr_hidden' must be a finite number > 0");
    s = d, s.wd_out = NAN;
    check_refused(&s, IM_ERANGE, "'wd_out' must be a finite number >= 0");
    s = d, s.bin_range = INFINITY;
    check_refused(&s, IM_ERANGE, "'bin_range'");
    s = d, s.gamma_out[3] = NAN;
    check_refused(&s, IM_ERANGE, "'gamma_out'[3] must be finite");
    s = d, strcpy(s.dataset, "../etc");
    check_refused(&s, IM_EFORMAT, "'dataset' must be a folder name");
    s = d, s.dataset[0] = 0;
    check_refused(&s, IM_EFORMAT, "'dataset'");

    /* max_lateral against setup and hidden, with the parser's messages */
    s = d, s.setup = IM_SETUP_TRIVARIATE_SPARSE;
    check_refused(&s, IM_EFORMAT, "'max_lateral' is required for setup 'trivariate-sparse'");
    s.max_lateral = 100;
    check_refused(&s, IM_ERANGE, "'max_lateral' must be less than 'hidden' (100), got 100");
    s.max_lateral = -3;
    check_refused(&s, IM_ERANGE, "'max_lateral' must be an integer in 1..");
    s.max_lateral = 99;
    CHECK_INT(im_train_spec_validate(&s, "spec", &err), 0);
    s.setup = IM_SETUP_TRIVARIATE;
    check_refused(&s, IM_EFORMAT, "only used by setup 'trivariate-sparse', not 'trivariate'");

    /* the prefix starts the message */
    s = d, s.hidden = 0;
    CHECK_INT(im_train_spec_validate(&s, "campaign: 'train'", &err), IM_ERANGE);
    CHECK_CONTAINS(err.msg, "campaign: 'train': 'hidden'");
}

static void test_fit_gamma(void)
{
    im_train_spec s;
    im_error err = {0};

    /* a preset follows the setup's k */
    im_train_spec_default(&s);
    s.setup = IM_SETUP_BIVARIATE_CONTEXT;
    CHECK_INT(im_train_spec_fit_gamma(&s, "spec", &err), 0);
    CHECK_INT(s.n_gamma, 5);
    CHECK_STR(s.gamma_preset, "paper-heuristic");
    double g2[5];
    CHECK_INT(im_gamma_preset("paper-heuristic", 2, g2), 0);
    for (int i = 0; i < 5; i++) CHECK_NEAR(s.gamma[i], g2[i], 0);

    /* a preset without a k = 2 form is refused, the spec unchanged */
    im_train_spec_default(&s);
    double opt[19];
    CHECK_INT(im_gamma_preset("paper-optimized", 3, opt), 0);
    CHECK_INT(im_train_spec_set_gamma(&s, opt, 19, &err), 0);
    CHECK_STR(s.gamma_preset, "paper-optimized");
    s.setup = IM_SETUP_BIVARIATE_LATERAL;
    im_train_spec before = s;
    CHECK_INT(im_train_spec_fit_gamma(&s, "spec", &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "preset 'paper-optimized' is not defined for setup "
                            "'bivariate-lateral' (k = 2); give 'gamma'");
    CHECK(im_train_spec_equal(&s, &before));

    /* numbers of the wrong length are refused; of the right length kept */
    im_train_spec_default(&s);
    double g[19] = {0.5, -0.25};
    CHECK_INT(im_train_spec_set_gamma(&s, g, 19, &err), 0);
    CHECK_STR(s.gamma_preset, "");
    s.setup = IM_SETUP_BIVARIATE_CONTEXT;
    CHECK_INT(im_train_spec_fit_gamma(&s, "spec", &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "'gamma' has 19 numbers but setup 'bivariate-context' needs 5");
    s.setup = IM_SETUP_BACKPROP;
    CHECK_INT(im_train_spec_fit_gamma(&s, "spec", &err), 0);
    CHECK_INT(s.n_gamma, 19);
    CHECK_NEAR(s.gamma[0], 0.5, 0);
    CHECK_NEAR(s.gamma[1], -0.25, 0);
}

static void test_set_gamma(void)
{
    im_train_spec s;
    im_error err = {0};
    im_train_spec_default(&s);
    double g[19] = {0};
    CHECK_INT(im_train_spec_set_gamma(&s, g, 5, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "spec: 'gamma' has 5 numbers, setup 'trivariate' needs 19");
    g[7] = INFINITY;
    CHECK_INT(im_train_spec_set_gamma(&s, g, 19, &err), IM_EINVAL);
    CHECK_CONTAINS(err.msg, "spec: 'gamma'[7] must be finite");
    CHECK_STR(s.gamma_preset, "paper-heuristic"); /* unchanged */

    /* numbers equal to a preset are recorded as that preset */
    CHECK_INT(im_gamma_preset("paper-heuristic", 3, g), 0);
    CHECK_STR(im_gamma_recognise(g, 3), "paper-heuristic");
    g[0] = 1e-300;
    CHECK(im_gamma_recognise(g, 3) == NULL);
    CHECK_INT(im_train_spec_set_gamma(&s, g, 19, &err), 0);
    CHECK_STR(s.gamma_preset, "");
    CHECK_INT(im_gamma_preset("paper-nothing", 3, g), IM_ENOTFOUND);
    CHECK_INT(im_gamma_preset("paper-heuristic", 4, g), IM_ENOTFOUND);
    /* paper-heuristic is f_c = 1 alone, for k = 2 and 3 */
    for (int k = 2; k <= 3; k++) {
        im_lattice lat;
        CHECK_INT(im_lattice_init(&lat, k, NULL), 0);
        CHECK_INT(im_gamma_preset("paper-heuristic", k, g), 0);
        int f_c = im_lattice_find(&lat, "f_c");
        for (int i = 0; i <= lat.n; i++) CHECK_NEAR(g[i], i == f_c ? 1 : 0, 0);
    }
}

static void test_names(void)
{
    CHECK(im_spec_name_valid("mnist10k", 63));
    CHECK(im_spec_name_valid("a.b_c-D9", 8));
    CHECK(!im_spec_name_valid("a.b_c-D9", 7));
    CHECK(!im_spec_name_valid("", 63));
    CHECK(!im_spec_name_valid("a/b", 63));
    CHECK(!im_spec_name_valid("a b", 63));
    CHECK_STR(im_setup_name((im_setup)42), "unknown");
}

int main(void)
{
    test_validate();
    test_fit_gamma();
    test_set_gamma();
    test_names();
    return TEST_END();
}
