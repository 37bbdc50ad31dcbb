/*
 * test_sampler: the random sampler stays in the space box, keeps fixed
 * components fixed, is uniform enough, and proposes point N the same way
 * whatever was proposed before (restart-proof); another seed gives other
 * points. Only search campaigns get a sampler.
 */
#include "kind.h"
#include "sampler.h"
#include "spec_json.h"
#include "test.h"
#include "spec_load.h"

#include "rng.h"

#include <math.h>

/* Point p of s as a gamma of campaign c (the search kind's mapping). */
static int suggest_gamma(sampler *s, const im_campaign_spec *c, int p, double *gamma, im_error *err)
{
    sampler_point x;
    int rc = sampler_suggest(s, p, NULL, 0, &x, err);
    if (rc == 0) search_gamma(c, &x, gamma);
    return rc;
}

/* The draws of a gamma search are the same as before typed parameters: point
 * N of seed S takes, for each free component in canonical order, one
 * im_rng_range from stream N + 1 (the oracle, typed independently). */
static void test_same_draws(const im_campaign_spec *c)
{
    sampler *s = NULL;
    im_error err = {0};
    CHECK_INT(sampler_new(&s, c, &err), 0);
    if (!s) return;
    int same = 1;
    for (int p = 0; p < 50; p++) {
        double g[IM_MAX_TERMS];
        CHECK_INT(suggest_gamma(s, c, p, g, &err), 0);
        im_rng r;
        im_rng_seed(&r, c->seed, (uint64_t)p + 1);
        for (int i = 0; i < c->n_terms; i++) {
            double want = c->space_low[i] == c->space_high[i]
                              ? c->space_low[i]
                              : im_rng_range(&r, c->space_low[i], c->space_high[i]);
            same &= g[i] == want;
        }
    }
    CHECK(same);
    /* the space is named by the atoms' short names, h_res last */
    CHECK_INT(s->space.n, c->n_terms);
    CHECK_INT(param_space_find(&s->space, "f_c") >= 0, 1);
    CHECK_INT(param_space_find(&s->space, "h_res"), c->n_terms - 1);
    CHECK_INT(s->space.p[c->n_terms - 1].type, PARAM_FIXED);
    sampler_free(&s);
}

/* Typed parameters: log floats, integers, categorical choices, fixed. */
static void test_typed(void)
{
    param_space sp = {0};
    im_error err = {0};
    param_def lr = {.name = "lr", .type = PARAM_LOG_FLOAT, .low = 1e-4, .high = 1e-1};
    param_def hidden = {.name = "hidden", .type = PARAM_INT, .low = 3, .high = 6};
    param_def act = {.name = "act", .type = PARAM_CATEGORICAL, .n_choices = 3};
    param_def k = {.name = "k", .type = PARAM_FIXED, .value = 3};
    CHECK_INT(param_space_add(&sp, &lr, &err), 0);
    CHECK_INT(param_space_add(&sp, &hidden, &err), 0);
    CHECK_INT(param_space_add(&sp, &act, &err), 0);
    CHECK_INT(param_space_add(&sp, &k, &err), 0);
    CHECK(param_space_add(&sp, &k, &err) != 0); /* the name again */
    param_def bad = {.name = "b", .type = PARAM_LOG_FLOAT, .low = 0, .high = 1};
    CHECK(param_space_add(&sp, &bad, &err) != 0);
    bad = (param_def){.name = "b", .type = PARAM_INT, .low = 1.5, .high = 3};
    CHECK(param_space_add(&sp, &bad, &err) != 0);
    bad = (param_def){.name = "b", .type = PARAM_FLOAT, .low = 2, .high = 1};
    CHECK(param_space_add(&sp, &bad, &err) != 0);
    CHECK_INT(sp.n, 4);

    sampler *s = NULL;
    CHECK_INT(sampler_random_create(&s, &sp, 11, &err), 0);
    if (!s) return;
    int seen_int[4] = {0}, seen_cat[3] = {0}, valid = 1, below = 0;
    for (int p = 0; p < 2000; p++) {
        sampler_point x;
        CHECK_INT(sampler_suggest(s, p, NULL, 0, &x, &err), 0);
        CHECK_INT(x.point, p);
        for (int i = 0; i < sp.n; i++) valid &= param_valid(&sp.p[i], x.v[i]);
        if (x.v[1] >= 3 && x.v[1] <= 6) seen_int[(int)x.v[1] - 3]++;
        if (x.v[2] >= 0 && x.v[2] < 3) seen_cat[(int)x.v[2]]++;
        below += x.v[0] < 1e-2; /* log-uniform: 2 of 3 decades */
    }
    CHECK(valid);
    for (int i = 0; i < 4; i++) CHECK(seen_int[i] > 350);
    for (int i = 0; i < 3; i++) CHECK(seen_cat[i] > 500);
    CHECK_NEAR(below / 2000.0, 2.0 / 3.0, 0.05);
    sampler_free(&s);
}

int main(void)
{
    im_campaign_spec c;
    if (load(&c, "{\"name\":\"s\",\"kind\":\"search\",\"budget\":10,\"seed\":5,"
                 "\"space\":{\"f_c\":[-0.5,0.25],\"fl\":0.75,\"h_res\":0}}"))
        return TEST_END();
    im_lattice lat;
    im_lattice_init(&lat, 3, NULL);
    int i_fc = im_lattice_find(&lat, "f_c"), i_fl = im_lattice_find(&lat, "fl"),
        i_hres = im_lattice_find(&lat, "h_res");
    CHECK(i_fc >= 0 && i_fl >= 0 && i_hres >= 0);

    sampler *s = NULL;
    im_error err = {0};
    CHECK_INT(sampler_new(&s, &c, &err), 0);
    if (!s) return TEST_END();
    CHECK_STR(s->ops->name, "random");
    CHECK(!sampler_wants_history(s));

    /* in the box, fixed components fixed, roughly uniform */
    const int n = 4000;
    double g[IM_MAX_TERMS], sum_fc = 0, lo_fc = 1, hi_fc = -1;
    int in_box = 1, fixed_ok = 1;
    for (int p = 0; p < n; p++) {
        CHECK_INT(suggest_gamma(s, &c, p, g, &err), 0);
        for (int i = 0; i < c.n_terms; i++)
            if (g[i] < c.space_low[i] || g[i] > c.space_high[i]) in_box = 0;
        if (g[i_fl] != 0.75 || g[i_hres] != 0) fixed_ok = 0;
        sum_fc += g[i_fc];
        if (g[i_fc] < lo_fc) lo_fc = g[i_fc];
        if (g[i_fc] > hi_fc) hi_fc = g[i_fc];
    }
    CHECK(in_box);
    CHECK(fixed_ok);
    CHECK_NEAR(sum_fc / n, -0.125, 0.01);
    CHECK(lo_fc < -0.49 && hi_fc > 0.24);

    /* point N does not depend on what came before */
    double a[IM_MAX_TERMS], b[IM_MAX_TERMS];
    sampler *fresh = NULL;
    CHECK_INT(sampler_new(&fresh, &c, &err), 0);
    CHECK_INT(suggest_gamma(fresh, &c, 137, a, &err), 0);
    CHECK_INT(suggest_gamma(s, &c, 137, b, &err), 0);
    CHECK(memcmp(a, b, sizeof(double) * (size_t)c.n_terms) == 0);
    CHECK_INT(suggest_gamma(s, &c, 138, b, &err), 0);
    CHECK(memcmp(a, b, sizeof(double) * (size_t)c.n_terms) != 0);
    CHECK(suggest_gamma(s, &c, -1, b, &err) != 0);
    sampler_free(&fresh);

    /* another campaign seed, other points */
    c.seed = 6;
    CHECK_INT(sampler_new(&fresh, &c, &err), 0);
    CHECK_INT(suggest_gamma(fresh, &c, 137, b, &err), 0);
    CHECK(b[i_fc] != a[i_fc]);
    sampler_free(&fresh);
    sampler_free(&s);
    CHECK(s == NULL);
    sampler_free(&s); /* NULL is a no-op */
    im_campaign_spec_release(&c);

    test_typed();

    /* the same draws as the gamma box sampler had */
    if (load(&c, "{\"name\":\"d\",\"kind\":\"search\",\"budget\":3,\"seed\":5,"
                 "\"space\":{\"f_c\":[-0.5,0.25],\"fl\":0.75}}") == 0) {
        test_same_draws(&c);
        im_campaign_spec_release(&c);
    }

    /* tpe is in the table and wants the history (test_sampler_tpe) */
    if (load(&c, "{\"name\":\"t\",\"kind\":\"search\",\"budget\":3,\"sampler\":\"tpe\"}") == 0) {
        CHECK_INT(sampler_new(&s, &c, &err), 0);
        CHECK(s != NULL);
        if (s) {
            CHECK_STR(s->ops->name, "tpe");
            CHECK(sampler_wants_history(s));
        }
        sampler_free(&s);
        im_campaign_spec_release(&c);
    }

    /* a fixed campaign has no sampler */
    if (load(&c, "{\"name\":\"f\",\"kind\":\"fixed\",\"points\":[\"paper-optimized\"]}") == 0) {
        CHECK(sampler_new(&s, &c, &err) != 0);
        CHECK(s == NULL);
        CHECK_CONTAINS(err.msg, "not a search");
        im_campaign_spec_release(&c);
    }
    return TEST_END();
}
