/*
 * test_spec: trial specs (defaults, presets, gamma forms, --set, round trip,
 * k = 2 vs k = 3) and campaign specs; refused inputs come from data folders
 * (tests/data/specs/bad, tests/data/campaigns/{bad,good}): NAME.json with the
 * expected message fragment in NAME.err, so adding a case needs no code.
 */
#include "campaign_spec.h"
#include "spec_json.h"
#include "test.h"

#include <dirent.h>
#include <limits.h>

/* The paper's optimised goal, typed independently of train_spec.c. */
static const double optimized[19] = {
    0.3307283306516516,   0.9780761799548087,   -0.9935002057481923,  0.40173303106031233,
    0.2427806207519021,   0.6255375402143335,   0.47128370476190684,  0.02120506738070921,
    0.06053998481721795,  -0.9469786302806626,  -0.01985334149032275, -0.9676614963177035,
    -0.6924498112774857,  0.42701490050101726,  0.9736446648870112,   0.7369645864450716,
    -0.12183291675207343, -0.21512478790202927, 0.035001249394734923,
};

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    CHECK_MSG(j != NULL, "bad test JSON '%s': %s", text, jerr.text);
    return j;
}

/* Parse text over the defaults; returns the code, err gets the message. */
static int spec_from_text(im_train_spec *s, const char *text, im_error *err)
{
    im_train_spec_default(s);
    json_t *j = parse(text);
    if (!j) return -100;
    int rc = im_train_spec_from_json(s, j, err);
    json_decref(j);
    return rc;
}

/* The first line of a file, without the newline; "" if missing. */
static void read_first_line(const char *path, char *out, size_t size)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(out, (int)size, f)) out[0] = 0;
    fclose(f);
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
}

/* Calls fn(path_of_json, path_of_err, user) for every NAME.json in dir;
 * returns the number of files. */
typedef void (*case_fn)(const char *json_path, const char *name, void *user);
static int for_each_json(const char *dir, case_fn fn, void *user)
{
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open test folder '%s'", dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        char path[PATH_MAX];
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(w > 0 && (size_t)w < sizeof path);
        if (w <= 0 || (size_t)w >= sizeof path) continue;
        fn(path, e->d_name, user);
        n++;
    }
    closedir(d);
    return n;
}

static void expected_error(const char *json_path, char *out, size_t size)
{
    char err_path[PATH_MAX];
    size_t len = strlen(json_path);
    snprintf(err_path, sizeof err_path, "%.*s.err", (int)(len - 5), json_path);
    read_first_line(err_path, out, size);
    CHECK_MSG(out[0] != 0, "missing or empty '%s'", err_path);
}

/* ---- trial spec ---------------------------------------------------------- */

static void test_defaults(void)
{
    im_train_spec s;
    im_train_spec_default(&s);
    CHECK_STR(s.dataset, "mnist10k");
    CHECK_INT(s.setup, IM_SETUP_TRIVARIATE);
    CHECK_INT(s.hidden, 100);
    CHECK_INT(s.max_lateral, 0);
    CHECK_INT(s.epochs, 10);
    CHECK_INT(s.batch, 1024);
    CHECK_INT(s.seed, 1);
    CHECK_INT(s.n_gamma, 19);
    CHECK_STR(s.gamma_preset, "paper-heuristic");
    for (int i = 0; i < 19; i++) CHECK_NEAR(s.gamma[i], i == 1 ? 1.0 : 0.0, 0); /* f_c */
    const double gout[5] = {-0.2, 0.1, 1.0, 0.1, 0};
    for (int i = 0; i < 5; i++) CHECK_NEAR(s.gamma_out[i], gout[i], 0);
    CHECK_NEAR(s.lr_hidden, 0.002, 0);
    CHECK_NEAR(s.wd_hidden, 0.00035, 0);
    CHECK_NEAR(s.lr_out, 0.003, 0);
    CHECK_NEAR(s.wd_out, 0.00015, 0);
    CHECK_INT(s.bins, 20);
    CHECK_NEAR(s.bin_range, 20, 0);
    CHECK_INT(s.threads, 1);
    CHECK_INT(s.train_limit, 0);
    CHECK_INT(s.eval_limit, 0);

    /* an empty object is the defaults */
    im_train_spec t;
    im_error err = {0};
    CHECK_INT(spec_from_text(&t, "{}", &err), 0);
    CHECK(im_train_spec_equal(&s, &t));
}

static void test_setups(void)
{
    const char *names[] = {"bivariate-context", "bivariate-lateral",   "trivariate",
                           "trivariate-sparse", "trivariate-feedback", "backprop"};
    const int k[] = {2, 2, 3, 3, 3, 3};
    for (int i = 0; i < 6; i++) {
        im_setup st = (im_setup)-1;
        CHECK_INT(im_setup_parse(names[i], &st), 0);
        CHECK_INT(st, i);
        CHECK_STR(im_setup_name(st), names[i]);
        CHECK_INT(im_setup_sources(st), k[i]);
        CHECK_INT(im_setup_terms(st), k[i] == 2 ? 5 : 19);
    }
    im_setup st;
    CHECK_INT(im_setup_parse("trivariate-dense", &st), IM_ENOTFOUND);
    CHECK_INT(im_setup_parse("", &st), IM_ENOTFOUND);
}

static void test_presets(void)
{
    double g[IM_MAX_TERMS];
    CHECK_INT(im_gamma_preset("paper-optimized", 3, g), 0);
    for (int i = 0; i < 19; i++) CHECK_NEAR(g[i], optimized[i], 0);
    CHECK_INT(im_gamma_preset("paper-heuristic", 3, g), 0);
    for (int i = 0; i < 19; i++) CHECK_NEAR(g[i], i == 1 ? 1.0 : 0.0, 0);
    CHECK_INT(im_gamma_preset("paper-heuristic", 2, g), 0);
    for (int i = 0; i < 5; i++) CHECK_NEAR(g[i], i == 2 ? 1.0 : 0.0, 0); /* {F}{C} */
    CHECK_INT(im_gamma_preset("paper-optimized", 2, g), IM_ENOTFOUND);
    CHECK_INT(im_gamma_preset("paper-best", 3, g), IM_ENOTFOUND);
    CHECK_INT(im_gamma_preset("paper-heuristic", 4, g), IM_ENOTFOUND);
    int n = 0;
    for (int i = 0; im_gamma_preset_names[i]; i++) {
        CHECK_INT(im_gamma_preset(im_gamma_preset_names[i], 3, g), 0);
        n++;
    }
    CHECK_INT(n, 2);

    /* a preset by name in a spec */
    im_train_spec s;
    im_error err = {0};
    CHECK_INT(spec_from_text(&s, "{\"gamma\": \"paper-optimized\"}", &err), 0);
    CHECK_STR(s.gamma_preset, "paper-optimized");
    for (int i = 0; i < 19; i++) CHECK_NEAR(s.gamma[i], optimized[i], 0);
}

static void test_gamma_forms(void)
{
    im_error err = {0};
    double a[IM_MAX_TERMS], b[IM_MAX_TERMS], c[IM_MAX_TERMS];
    char preset[32];

    /* k = 3: list, object by short name, object by braced name */
    json_t *list = parse("[0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0.25]");
    json_t *obj = parse("{\"f_c\": 0.5, \"fcl\": -1, \"h_res\": 0.25}");
    json_t *braced = parse("{\"{F}{C}\": 0.5, \"{FCL}\": -1, \"H_res\": 0.25}");
    CHECK_INT(im_gamma_parse(list, 3, "gamma", a, preset, &err), 0);
    CHECK_STR(preset, "");
    CHECK_INT(im_gamma_parse(obj, 3, "gamma", b, NULL, &err), 0);
    CHECK_INT(im_gamma_parse(braced, 3, "gamma", c, NULL, &err), 0);
    for (int i = 0; i < 19; i++) {
        CHECK_NEAR(a[i], b[i], 0);
        CHECK_NEAR(a[i], c[i], 0);
    }
    CHECK_NEAR(b[17], -1, 0);
    CHECK_NEAR(b[18], 0.25, 0);
    json_decref(list);
    json_decref(obj);
    json_decref(braced);

    /* k = 2: the same for the four atoms and h_res */
    list = parse("[0.1, -0.2, 1, 0.3, 0.5]");
    obj = parse("{\"fc\": 0.3, \"f\": 0.1, \"c\": -0.2, \"f_c\": 1, \"h_res\": 0.5}");
    CHECK_INT(im_gamma_parse(list, 2, "gamma", a, NULL, &err), 0);
    CHECK_INT(im_gamma_parse(obj, 2, "gamma", b, NULL, &err), 0);
    for (int i = 0; i < 5; i++) CHECK_NEAR(a[i], b[i], 0);
    CHECK_NEAR(a[3], 0.3, 0);
    json_decref(list);
    json_decref(obj);

    /* a vector equal to a preset is recognised as that preset */
    obj = parse("{\"f_c\": 1}");
    CHECK_INT(im_gamma_parse(obj, 3, "gamma", a, preset, &err), 0);
    CHECK_STR(preset, "paper-heuristic");
    CHECK_INT(im_gamma_parse(obj, 2, "gamma", a, preset, &err), 0);
    CHECK_STR(preset, "paper-heuristic");
    CHECK_NEAR(a[2], 1, 0);
    json_decref(obj);

    /* the field name appears in messages */
    obj = parse("[1, 2]");
    CHECK_INT(im_gamma_parse(obj, 2, "points[3]", a, NULL, &err), IM_EFORMAT);
    CHECK_STR(err.msg, "spec: 'points[3]' has 2 numbers, expected 5 (k = 2: the 4 atoms in "
                       "canonical order, then h_res)");
    CHECK_INT(err.code, IM_EFORMAT);
    json_decref(obj);
}

static void test_lengths(void)
{
    im_train_spec s;
    im_error err = {0};
    char text[512];
    /* five numbers for k = 2 setups, nineteen for k = 3 ones and backprop */
    const char *five = "[0.1, 0.2, 0.3, 0.4, 0.5]";
    const char *nineteen = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]";
    const char *setups[] = {"bivariate-context", "bivariate-lateral", "trivariate",
                            "trivariate-feedback", "backprop"};
    for (int i = 0; i < 5; i++) {
        int k2 = i < 2;
        snprintf(text, sizeof text, "{\"setup\": \"%s\", \"gamma\": %s}", setups[i],
                 k2 ? five : nineteen);
        CHECK_INT(spec_from_text(&s, text, &err), 0);
        CHECK_INT(s.n_gamma, k2 ? 5 : 19);
        CHECK_NEAR(s.gamma[s.n_gamma - 1], k2 ? 0.5 : 19, 0);
        snprintf(text, sizeof text, "{\"gamma\": %s, \"setup\": \"%s\"}", k2 ? nineteen : five,
                 setups[i]);
        CHECK_INT(spec_from_text(&s, text, &err), IM_EFORMAT);
        CHECK_CONTAINS(err.msg, k2 ? "has 19 numbers, expected 5 (k = 2"
                                   : "has 5 numbers, expected 19 (k = 3");
    }
    /* the setup given after gamma still decides k */
    CHECK_INT(
        spec_from_text(&s, "{\"gamma\": {\"fc\": 1}, \"setup\": \"bivariate-context\"}", &err), 0);
    CHECK_INT(s.n_gamma, 5);
    CHECK_NEAR(s.gamma[3], 1, 0);
    CHECK_INT(spec_from_text(&s, "{\"gamma\": {\"fc\": 1}}", &err), 0);
    CHECK_NEAR(s.gamma[14], 1, 0);
}

static void test_set(void)
{
    im_train_spec s, before;
    im_error err = {0};
    im_train_spec_default(&s);

    CHECK_INT(im_train_spec_set(&s, "hidden=200", &err), 0);
    CHECK_INT(s.hidden, 200);
    CHECK_INT(im_train_spec_set(&s, "lr_hidden=1e-3", &err), 0);
    CHECK_NEAR(s.lr_hidden, 1e-3, 0);
    CHECK_INT(im_train_spec_set(&s, "bin_range=10", &err), 0); /* an integer for a number */
    CHECK_NEAR(s.bin_range, 10, 0);
    CHECK_INT(im_train_spec_set(&s, "dataset=cifar10", &err), 0); /* a plain string */
    CHECK_STR(s.dataset, "cifar10");
    CHECK_INT(im_train_spec_set(&s, "dataset=\"mnist\"", &err), 0); /* a JSON string */
    CHECK_STR(s.dataset, "mnist");
    CHECK_INT(im_train_spec_set(&s, "train_limit=2000", &err), 0);
    CHECK_INT(s.train_limit, 2000);
    CHECK_INT(im_train_spec_set(&s, "train_limit=null", &err), 0);
    CHECK_INT(s.train_limit, 0);
    CHECK_INT(im_train_spec_set(&s, "seed=9007199254740993", &err), 0); /* 2^53 + 1 */
    CHECK(s.seed == 9007199254740993ULL);

    /* the preset follows a change of setup (k = 3 -> 2 -> 3) */
    CHECK_INT(im_train_spec_set(&s, "setup=bivariate-context", &err), 0);
    CHECK_INT(s.n_gamma, 5);
    CHECK_STR(s.gamma_preset, "paper-heuristic");
    CHECK_NEAR(s.gamma[2], 1, 0);
    CHECK_NEAR(s.gamma[1], 0, 0);
    CHECK_INT(im_train_spec_set(&s, "setup=trivariate", &err), 0);
    CHECK_INT(s.n_gamma, 19);
    CHECK_NEAR(s.gamma[1], 1, 0);

    /* gamma as a preset, a list, an object */
    CHECK_INT(im_train_spec_set(&s, "gamma=paper-optimized", &err), 0);
    CHECK_STR(s.gamma_preset, "paper-optimized");
    CHECK_NEAR(s.gamma[9], optimized[9], 0);
    before = s;
    CHECK_INT(im_train_spec_set(&s, "setup=bivariate-context", &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "spec: 'gamma': preset 'paper-optimized' is not defined for setup "
                            "'bivariate-context' (k = 2)");
    CHECK(im_train_spec_equal(&s, &before)); /* unchanged on failure */
    CHECK_INT(im_train_spec_set(&s, "gamma={\"f_c\": 0.5, \"fl\": 1}", &err), 0);
    CHECK_STR(s.gamma_preset, "");
    CHECK_NEAR(s.gamma[1], 0.5, 0);
    CHECK_NEAR(s.gamma[15], 1, 0);
    /* numbers of the wrong length after a change of setup */
    before = s;
    CHECK_INT(im_train_spec_set(&s, "setup=bivariate-lateral", &err), IM_EFORMAT);
    CHECK_STR(err.msg, "spec: 'gamma' has 19 numbers but setup 'bivariate-lateral' needs 5 (k = "
                       "2); give 'gamma' again");
    CHECK(im_train_spec_equal(&s, &before));
    /* ... which works when both come together */
    const char *both[] = {"setup=bivariate-lateral", "gamma=[0, 0, 0, 1, 0]"};
    CHECK_INT(im_train_spec_set_many(&s, 2, both, &err), 0);
    CHECK_INT(s.setup, IM_SETUP_BIVARIATE_LATERAL);
    CHECK_NEAR(s.gamma[3], 1, 0);
    CHECK_INT(im_train_spec_set(&s, "gamma=[0,0,1,0,0]", &err), 0);
    CHECK_STR(s.gamma_preset, "paper-heuristic");

    /* max_lateral and setup depend on each other: one by one fails, together works */
    im_train_spec_default(&s);
    CHECK_INT(im_train_spec_set(&s, "setup=trivariate-sparse", &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "'max_lateral' is required for setup 'trivariate-sparse'");
    CHECK_INT(im_train_spec_set(&s, "max_lateral=10", &err), IM_EFORMAT);
    CHECK_CONTAINS(err.msg, "'max_lateral' is only used by setup 'trivariate-sparse'");
    const char *sparse[] = {"setup=trivariate-sparse", "max_lateral=10"};
    CHECK_INT(im_train_spec_set_many(&s, 2, sparse, &err), 0);
    CHECK_INT(s.max_lateral, 10);
    CHECK_INT(im_train_spec_set(&s, "hidden=10", &err), IM_ERANGE);
    CHECK_CONTAINS(err.msg, "'max_lateral' must be less than 'hidden' (10)");
    const char *back[] = {"max_lateral=null", "setup=trivariate"};
    CHECK_INT(im_train_spec_set_many(&s, 2, back, &err), 0);
    CHECK_INT(s.max_lateral, 0);
    /* later assignments of a key win */
    const char *twice[] = {"epochs=3", "epochs=4"};
    CHECK_INT(im_train_spec_set_many(&s, 2, twice, &err), 0);
    CHECK_INT(s.epochs, 4);

    /* refused assignments, spec unchanged */
    struct {
        const char *assignment, *message;
        int code;
    } bad[] = {
        {"hidden", "spec: expected key=value, got 'hidden'", IM_EFORMAT},
        {"=5", "spec: expected key=value, got '=5'", IM_EFORMAT},
        {"hiden=5", "spec: unknown key 'hiden' (did you mean 'hidden'?)", IM_EFORMAT},
        {"hidden=", "spec: 'hidden' must be an integer in 1..100000, not a string", IM_EFORMAT},
        {"hidden=abc", "'hidden' must be an integer in 1..100000, not a string", IM_EFORMAT},
        {"hidden=0", "'hidden' must be an integer in 1..100000 (got 0)", IM_ERANGE},
        {"hidden=1e400", "'hidden' must be an integer", IM_EFORMAT},
        {"dataset=123", "spec: 'dataset' must be a string, not an integer", IM_EFORMAT},
        {"dataset=true", "'dataset' must be a string, not a boolean", IM_EFORMAT},
        {"setup=null", "'setup' must be one of", IM_EFORMAT},
        {"seed=-3", "'seed' must be an integer >= 0 (got -3)", IM_ERANGE},
        {"gamma=[1,2,3]", "'gamma' has 3 numbers, expected 19", IM_EFORMAT},
        {"gamma={\"f_x\": 1}", "spec: 'gamma': unknown atom 'f_x'", IM_EFORMAT},
        {"gamma=heuristic", "spec: 'gamma': unknown preset 'heuristic'", IM_EFORMAT},
        {"threads=1000", "'threads' must be an integer in 1..256 (got 1000)", IM_ERANGE},
        {NULL, "spec: expected key=value", IM_EFORMAT},
    };
    im_train_spec_default(&s);
    before = s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = im_train_spec_set(&s, bad[i].assignment, &err);
        CHECK_MSG(rc == bad[i].code, "set '%s': rc %d, expected %d", bad[i].assignment, rc,
                  bad[i].code);
        CHECK_INT(err.code, rc);
        CHECK_CONTAINS(err.msg, bad[i].message);
        CHECK(im_train_spec_equal(&s, &before));
    }
    CHECK_INT(im_train_spec_set(&s, "epochs=0", NULL), 0); /* err may be NULL */
    CHECK_INT(im_train_spec_set(&s, "epochs=-1", NULL), IM_ERANGE);
}

/* from_json(to_json(s)) == s, also through text. */
static void check_round_trip(const im_train_spec *s)
{
    im_error err = {0};
    json_t *j = im_train_spec_to_json(s);
    CHECK(j != NULL);
    if (!j) return;
    CHECK_INT(json_object_size(j), 18); /* every key */
    CHECK(json_is_array(json_object_get(j, "gamma")));
    im_train_spec t;
    memset(&t, 0x5a, sizeof t); /* whatever was there must not matter ... */
    im_train_spec_default(&t);  /* ... except through the defaults */
    CHECK_INT(im_train_spec_from_json(&t, j, &err), 0);
    CHECK_MSG(im_train_spec_equal(s, &t), "round trip differs (%s)", err.msg);

    char *text = json_dumps(j, JSON_COMPACT);
    json_t *k = parse(text);
    im_train_spec u;
    im_train_spec_default(&u);
    CHECK_INT(im_train_spec_from_json(&u, k, &err), 0);
    CHECK_MSG(im_train_spec_equal(s, &u), "text round trip differs: %s", text);
    free(text);
    json_decref(k);
    json_decref(j);
}

static void test_round_trip(void)
{
    im_train_spec s;
    im_error err = {0};
    im_train_spec_default(&s);
    check_round_trip(&s);

    CHECK_INT(spec_from_text(&s,
                             "{\"dataset\": \"cifar10\", \"setup\": \"trivariate-sparse\", "
                             "\"max_lateral\": 7, \"hidden\": 33, \"epochs\": 0, \"batch\": 3, "
                             "\"seed\": 123456789012, \"lr_hidden\": 0.30000000000000004, "
                             "\"wd_hidden\": 0, \"lr_out\": 1e-300, \"wd_out\": 5e-324, "
                             "\"bins\": 1000, \"bin_range\": 0.1, \"threads\": 256, "
                             "\"train_limit\": 100, \"eval_limit\": 50, "
                             "\"gamma_out\": {\"f_c\": 2}}",
                             &err),
              0);
    double g[19];
    for (int i = 0; i < 19; i++) g[i] = (i % 3 ? -1.0 : 1.0) / (i + 3.0);
    CHECK_INT(im_train_spec_set_gamma(&s, g, 19, &err), 0);
    CHECK_STR(s.gamma_preset, "");
    check_round_trip(&s);
    json_t *j = im_train_spec_to_json(&s);
    CHECK_INT(json_integer_value(json_object_get(j, "max_lateral")), 7);
    CHECK_STR(json_string_value(json_object_get(j, "setup")), "trivariate-sparse");
    json_decref(j);

    CHECK_INT(
        spec_from_text(&s, "{\"setup\": \"bivariate-lateral\", \"gamma\": [1, 2, 3, 4, 5]}", &err),
        0);
    check_round_trip(&s);
    j = im_train_spec_to_json(&s);
    CHECK_INT(json_array_size(json_object_get(j, "gamma")), 5);
    CHECK(json_is_null(json_object_get(j, "max_lateral")));
    json_decref(j);

    CHECK_INT(spec_from_text(&s, "{\"gamma\": \"paper-optimized\", \"setup\": \"backprop\"}", &err),
              0);
    check_round_trip(&s); /* the preset name survives as a recognised vector */

    /* set_gamma: length and finiteness */
    im_train_spec_default(&s);
    CHECK_INT(im_train_spec_set_gamma(&s, g, 5, &err), IM_EINVAL);
    g[4] = NAN;
    CHECK_INT(im_train_spec_set_gamma(&s, g, 19, &err), IM_EINVAL);
    CHECK_INT(im_train_spec_set_gamma(&s, optimized, 19, &err), 0);
    CHECK_STR(s.gamma_preset, "paper-optimized");

    /* equal notices each kind of difference */
    im_train_spec a, b;
    im_train_spec_default(&a);
    b = a;
    b.gamma[18] = 1e-300;
    CHECK(!im_train_spec_equal(&a, &b));
    b = a;
    b.eval_limit = 1;
    CHECK(!im_train_spec_equal(&a, &b));
    b = a;
    b.gamma_preset[0] = 0;
    CHECK(!im_train_spec_equal(&a, &b));
    b = a;
    b.dataset[0] = 'M';
    CHECK(!im_train_spec_equal(&a, &b));
}

static void bad_spec_case(const char *path, const char *name, void *user)
{
    (void)user;
    char expected[1024];
    expected_error(path, expected, sizeof expected);
    im_train_spec s, d;
    im_train_spec_default(&s);
    d = s;
    im_error err = {0};
    int rc = im_train_spec_load_file(&s, path, &err);
    CHECK_MSG(rc < 0, "%s: accepted", name);
    CHECK_MSG(err.code == rc, "%s: err.code %d, rc %d", name, err.code, rc);
    CHECK_MSG(rc != IM_EIO, "%s: could not be read", name);
    CHECK_MSG(strstr(err.msg, expected) != NULL, "%s: message \"%s\" lacks \"%s\"", name, err.msg,
              expected);
    CHECK_MSG(im_train_spec_equal(&s, &d), "%s: spec changed on failure", name);
}

static void test_bad_specs(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/specs/bad", test_data_dir());
    int n = for_each_json(dir, bad_spec_case, NULL);
    CHECK_MSG(n >= 25, "only %d bad spec cases in %s", n, dir);

    im_train_spec s;
    im_error err = {0};
    im_train_spec_default(&s);
    snprintf(dir, sizeof dir, "%s/specs/no-such-file.json", test_data_dir());
    CHECK_INT(im_train_spec_load_file(&s, dir, &err), IM_EIO);
    CHECK_CONTAINS(err.msg, "no-such-file.json");
    CHECK_INT(im_train_spec_from_json(&s, NULL, &err), IM_EFORMAT);
}

/* ---- campaign spec ------------------------------------------------------- */

/* Parse, check the canonical JSON round trip; returns the code. */
static int campaign_round_trip(im_campaign_spec *c, const char *what)
{
    json_t *j = im_campaign_spec_to_json(c);
    CHECK(j != NULL);
    if (!j) return -1;
    im_campaign_spec d;
    im_error err = {0};
    char *text = json_dumps(j, JSON_COMPACT);
    json_t *reparsed = parse(text);
    int rc = im_campaign_spec_from_json(&d, reparsed, &err);
    CHECK_MSG(rc == 0, "%s: canonical JSON refused: %s\n%s", what, err.msg, text);
    if (rc == 0) {
        json_t *j2 = im_campaign_spec_to_json(&d);
        CHECK_MSG(json_equal(j, j2), "%s: round trip differs", what);
        CHECK_STR(d.name, c->name);
        CHECK_INT(d.n_points, c->n_points);
        for (int i = 0; i < c->n_points; i++) CHECK_STR(d.point_presets[i], c->point_presets[i]);
        CHECK_STR(d.base_preset, c->base_preset);
        CHECK(im_train_spec_equal(&d.train, &c->train));
        json_decref(j2);
    }
    im_campaign_spec_release(&d);
    json_decref(reparsed);
    free(text);
    json_decref(j);
    return rc;
}

static void good_campaign_case(const char *path, const char *name, void *user)
{
    (void)user;
    im_campaign_spec c;
    im_error err = {0};
    int rc = im_campaign_spec_load_file(&c, path, &err);
    CHECK_MSG(rc == 0, "%s: refused: %s", name, err.msg);
    if (rc == 0) campaign_round_trip(&c, name);
    im_campaign_spec_release(&c);
}

static void bad_campaign_case(const char *path, const char *name, void *user)
{
    (void)user;
    char expected[1024];
    expected_error(path, expected, sizeof expected);
    im_campaign_spec c;
    im_error err = {0};
    int rc = im_campaign_spec_load_file(&c, path, &err);
    CHECK_MSG(rc < 0, "%s: accepted", name);
    CHECK_MSG(err.code == rc, "%s: err.code %d, rc %d", name, err.code, rc);
    CHECK_MSG(rc != IM_EIO, "%s: could not be read", name);
    CHECK_MSG(strstr(err.msg, expected) != NULL, "%s: message \"%s\" lacks \"%s\"", name, err.msg,
              expected);
    CHECK_MSG(c.points == NULL && c.user == NULL, "%s: owns memory after failure", name);
    im_campaign_spec_release(&c);
}

static void test_campaign_folders(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/campaigns/bad", test_data_dir());
    int n = for_each_json(dir, bad_campaign_case, NULL);
    CHECK_MSG(n >= 25, "only %d bad campaign cases in %s", n, dir);
    snprintf(dir, sizeof dir, "%s/campaigns/good", test_data_dir());
    n = for_each_json(dir, good_campaign_case, NULL);
    CHECK_MSG(n >= 5, "only %d good campaign cases in %s", n, dir);
    /* the example campaigns shipped in deploy/ */
    snprintf(dir, sizeof dir, "%s/../../deploy/campaigns", test_data_dir());
    n = for_each_json(dir, good_campaign_case, NULL);
    CHECK_MSG(n >= 3, "only %d example campaigns in %s", n, dir);

    im_campaign_spec c;
    im_error err = {0};
    snprintf(dir, sizeof dir, "%s/campaigns/no-such-file.json", test_data_dir());
    CHECK_INT(im_campaign_spec_load_file(&c, dir, &err), IM_EIO);
    CHECK_CONTAINS(err.msg, "campaign: ");
    CHECK_CONTAINS(err.msg, "no-such-file.json");
    im_campaign_spec_release(&c);
    CHECK_INT(im_campaign_spec_from_json(&c, NULL, &err), IM_EFORMAT);
    im_campaign_spec_release(&c);
    im_campaign_spec_release(NULL);
}

static int campaign_from_text(im_campaign_spec *c, const char *text, im_error *err)
{
    json_t *j = parse(text);
    if (!j) {
        memset(c, 0, sizeof *c);
        return -100;
    }
    int rc = im_campaign_spec_from_json(c, j, err);
    json_decref(j);
    return rc;
}

static void test_campaign_defaults(void)
{
    im_campaign_spec c;
    im_error err = {0};
    im_train_spec d;
    im_train_spec_default(&d);

    CHECK_INT(
        campaign_from_text(&c, "{\"name\": \"s\", \"kind\": \"search\", \"budget\": 3}", &err), 0);
    CHECK_STR(c.name, "s");
    CHECK_INT(c.kind, IM_CAMPAIGN_SEARCH);
    CHECK(im_train_spec_equal(&c.train, &d));
    CHECK_INT(c.n_terms, 19);
    for (int i = 0; i < 18; i++) {
        CHECK_NEAR(c.space_low[i], -1, 0);
        CHECK_NEAR(c.space_high[i], 1, 0);
    }
    CHECK_NEAR(c.space_low[18], 0, 0); /* h_res fixed at 0 */
    CHECK_NEAR(c.space_high[18], 0, 0);
    CHECK_INT(c.sampler, IM_SAMPLER_RANDOM);
    CHECK_INT(c.tpe.n_startup_trials, 10);
    CHECK_INT(c.tpe.n_ei_candidates, 24);
    CHECK_INT(c.tpe.multivariate, 1);
    CHECK_INT(c.tpe.constant_liar, 1);
    CHECK_INT(c.tpe.consider_endpoints, 0);
    CHECK_INT(c.budget, 3);
    CHECK_INT(c.seed, 0);
    CHECK_INT(c.seeds_per_point, 1);
    CHECK_INT(c.priority, 0);
    CHECK_INT(c.pruner.kind, IM_PRUNER_NONE);
    CHECK(c.user == NULL);
    CHECK(c.points == NULL);
    json_t *j = im_campaign_spec_to_json(&c);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "sampler"), "name")), "random");
    CHECK(json_is_array(json_object_get(json_object_get(j, "space"), "f_c")));
    CHECK_NEAR(json_number_value(json_object_get(json_object_get(j, "space"), "h_res")), 0, 0);
    CHECK(json_object_get(json_object_get(j, "train"), "gamma") == NULL);
    CHECK(json_object_get(json_object_get(j, "train"), "seed") == NULL);
    CHECK(json_object_get(j, "points") == NULL);
    json_decref(j);
    im_campaign_spec_release(&c);

    /* tpe and median defaults; the space overrides the default per name */
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"sampler\": {\"name\": \"tpe\", \"seed\": 9}, \"pruner\": "
                                 "{\"name\": \"median\"}, \"space\": {\"{F}{C}\": [0, 0.5], "
                                 "\"fcl\": 0.3, \"h_res\": [-1, 1]}}",
                                 &err),
              0);
    CHECK_INT(c.sampler, IM_SAMPLER_TPE);
    CHECK_INT(c.tpe.n_startup_trials, 10);
    CHECK_INT(c.tpe.n_ei_candidates, 24);
    CHECK_INT(c.seed, 9);
    CHECK_INT(c.pruner.kind, IM_PRUNER_MEDIAN);
    CHECK_INT(c.pruner.n_startup_trials, 5);
    CHECK_INT(c.pruner.n_warmup_epochs, 5); /* half the default 10 epochs */
    CHECK_NEAR(c.space_low[1], 0, 0);
    CHECK_NEAR(c.space_high[1], 0.5, 0);
    CHECK_NEAR(c.space_low[17], 0.3, 0);
    CHECK_NEAR(c.space_high[17], 0.3, 0);
    CHECK_NEAR(c.space_low[18], -1, 0);
    CHECK_NEAR(c.space_low[0], -1, 0);
    CHECK_NEAR(c.space_high[0], 1, 0);
    campaign_round_trip(&c, "tpe defaults");
    im_campaign_spec_release(&c);

    /* the median pruner's warm-up: half the epochs, rounded down, unless given */
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"train\": {\"epochs\": 7}, \"pruner\": \"median\"}",
                                 &err),
              0);
    CHECK_INT(c.pruner.n_warmup_epochs, 3);
    campaign_round_trip(&c, "median warm-up");
    im_campaign_spec_release(&c);
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"train\": {\"epochs\": 7}, \"pruner\": {\"name\": \"median\", "
                                 "\"n_warmup_epochs\": 0}}",
                                 &err),
              0);
    CHECK_INT(c.pruner.n_warmup_epochs, 0);
    im_campaign_spec_release(&c);

    /* the percentile pruner: keeps 90 % unless told, its own warm-up rule;
     * the share kept must lie in (0, 100]; the median has no such key */
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"train\": {\"epochs\": 10}, \"pruner\": \"percentile\"}",
                                 &err),
              0);
    CHECK_INT(c.pruner.kind, IM_PRUNER_PERCENTILE);
    CHECK_NEAR(c.pruner.percentile, 90, 0);
    CHECK_INT(c.pruner.n_warmup_epochs, 5);
    campaign_round_trip(&c, "percentile defaults");
    im_campaign_spec_release(&c);
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"pruner\": {\"name\": \"percentile\", \"percentile\": 25.5, "
                                 "\"n_warmup_epochs\": 2}}",
                                 &err),
              0);
    CHECK_NEAR(c.pruner.percentile, 25.5, 0);
    CHECK_INT(c.pruner.n_warmup_epochs, 2);
    campaign_round_trip(&c, "percentile 25.5");
    im_campaign_spec_release(&c);
    const char *bad_keep[] = {"0", "-5", "100.5", "\"90\"", "null"};
    for (size_t i = 0; i < sizeof bad_keep / sizeof *bad_keep; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, \"pruner\": "
                 "{\"name\": \"percentile\", \"percentile\": %s}}",
                 bad_keep[i]);
        int rc = campaign_from_text(&c, text, &err);
        CHECK(rc == IM_EFORMAT || rc == IM_ERANGE);
        CHECK(strstr(err.msg, "percentile") != NULL);
        im_campaign_spec_release(&c);
    }
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"pruner\": {\"name\": \"median\", \"percentile\": 90}}",
                                 &err),
              IM_EFORMAT);
    im_campaign_spec_release(&c);

    /* the same seed in both places is fine */
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"t\", \"kind\": \"search\", \"budget\": 3, "
                                 "\"seed\": 4, \"sampler\": {\"name\": \"tpe\", \"seed\": 4}}",
                                 &err),
              0);
    CHECK_INT(c.seed, 4);
    im_campaign_spec_release(&c);

    /* ablation: 10 seeds per point by default; the base as a preset */
    CHECK_INT(
        campaign_from_text(
            &c, "{\"name\": \"a\", \"kind\": \"ablation\", \"base\": \"paper-optimized\"}", &err),
        0);
    CHECK_INT(c.seeds_per_point, 10);
    CHECK_INT(c.base_trial, 0);
    CHECK_STR(c.base_preset, "paper-optimized");
    for (int i = 0; i < 19; i++) CHECK_NEAR(c.base[i], optimized[i], 0);
    campaign_round_trip(&c, "ablation preset");
    im_campaign_spec_release(&c);
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"a\", \"kind\": \"ablation\", \"base\": {\"trial\": "
                                 "77}, \"seeds_per_point\": 4}",
                                 &err),
              0);
    CHECK_INT(c.base_trial, 77);
    CHECK_INT(c.seeds_per_point, 4);
    im_campaign_spec_release(&c);
}

static void test_campaign_fixed(void)
{
    im_campaign_spec c;
    im_error err = {0};
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"f\", \"kind\": \"fixed\", \"points\": "
                                 "[\"paper-heuristic\", \"paper-optimized\", {\"fl\": 2}], "
                                 "\"seeds_per_point\": 3, \"user\": {\"a\": [1, 2]}}",
                                 &err),
              0);
    CHECK_INT(c.n_points, 3);
    CHECK_INT(c.seeds_per_point, 3);
    CHECK_STR(c.point_presets[0], "paper-heuristic");
    CHECK_STR(c.point_presets[1], "paper-optimized");
    CHECK_STR(c.point_presets[2], "");
    CHECK(json_is_object(c.user));
    const double *g0 = im_campaign_spec_point(&c, 0), *g1 = im_campaign_spec_point(&c, 1),
                 *g2 = im_campaign_spec_point(&c, 2);
    CHECK(g0 && g1 && g2 && !im_campaign_spec_point(&c, 3) && !im_campaign_spec_point(&c, -1));
    if (g0 && g1 && g2) {
        for (int i = 0; i < 19; i++) {
            CHECK_NEAR(g0[i], i == 1 ? 1 : 0, 0);
            CHECK_NEAR(g1[i], optimized[i], 0);
            CHECK_NEAR(g2[i], i == 15 ? 2 : 0, 0);
        }
        /* one trial's spec: the campaign's train with the point's gamma and a seed */
        im_train_spec t;
        CHECK_INT(im_campaign_trial_spec(&c, g1, 3, &t, &err), 0);
        CHECK_INT(t.seed, 3);
        CHECK_STR(t.gamma_preset, "paper-optimized");
        CHECK_NEAR(t.gamma[5], optimized[5], 0);
        CHECK_INT(t.hidden, 100);
    }
    campaign_round_trip(&c, "fixed");
    im_campaign_spec_release(&c);
    im_campaign_spec_release(&c); /* idempotent */

    /* k = 2: points of five numbers */
    CHECK_INT(campaign_from_text(&c,
                                 "{\"name\": \"f2\", \"kind\": \"fixed\", \"train\": {\"setup\": "
                                 "\"bivariate-lateral\"}, \"points\": [\"paper-heuristic\", [1, "
                                 "2, 3, 4, 5]]}",
                                 &err),
              0);
    CHECK_INT(c.n_terms, 5);
    g0 = im_campaign_spec_point(&c, 0);
    g1 = im_campaign_spec_point(&c, 1);
    CHECK(g0 && g1 && !im_campaign_spec_point(&c, 2));
    if (g0 && g1) {
        CHECK_NEAR(g0[2], 1, 0);
        CHECK_NEAR(g1[4], 5, 0);
    }
    im_campaign_spec_release(&c);

    /* points are for fixed campaigns only */
    CHECK_INT(
        campaign_from_text(&c, "{\"name\": \"s\", \"kind\": \"search\", \"budget\": 3}", &err), 0);
    CHECK(im_campaign_spec_point(&c, 0) == NULL);
    im_campaign_spec_release(&c);
}

int main(void)
{
    test_defaults();
    test_setups();
    test_presets();
    test_gamma_forms();
    test_lengths();
    test_set();
    test_round_trip();
    test_bad_specs();
    test_campaign_defaults();
    test_campaign_fixed();
    test_campaign_folders();
    return TEST_END();
}
