/* test_lattice: the antichains, their canonical order and names, the partial
 * order and the Moebius matrix for k = 2 and k = 3. */
#include "lattice.h"
#include "test.h"

static const char *const short2[] = {"f", "c", "f_c", "fc", "h_res"};
static const char *const braced2[] = {"{F}", "{C}", "{F}{C}", "{FC}", "H_res"};
static const char *const short3[] = {"f_c_l", "f_c", "f_l", "c_l",      "f_cl",  "c_fl",  "l_fc",
                                     "f",     "c",   "l",   "fc_fl_cl", "fc_fl", "fc_cl", "fl_cl",
                                     "fc",    "fl",  "cl",  "fcl",      "h_res"};
static const char *const braced3[] = {"{F}{C}{L}",    "{F}{C}",   "{F}{L}",   "{C}{L}",   "{F}{CL}",
                                      "{C}{FL}",      "{L}{FC}",  "{F}",      "{C}",      "{L}",
                                      "{FC}{FL}{CL}", "{FC}{FL}", "{FC}{CL}", "{FL}{CL}", "{FC}",
                                      "{FL}",         "{CL}",     "{FCL}",    "H_res"};

/* The properties every lattice must have, whatever k. */
static void check_lattice(const im_lattice *lat, const char *const *shorts,
                          const char *const *braced)
{
    int n = lat->n;
    for (int a = 0; a <= n; a++) {
        CHECK_STR(lat->short_name[a], shorts[a]);
        CHECK_STR(lat->braced[a], braced[a]);
        CHECK_INT(im_lattice_find(lat, shorts[a]), a);
        CHECK_INT(im_lattice_find(lat, braced[a]), a);
    }
    CHECK_INT(im_lattice_find(lat, "nonsense"), -1);
    CHECK_INT(im_lattice_find(lat, ""), -1);
    CHECK_INT(im_lattice_find(lat, NULL), -1);

    /* antichains: non-empty, no collection contains another, all distinct */
    for (int a = 0; a < n; a++) {
        CHECK(lat->n_coll[a] >= 1 && lat->n_coll[a] <= lat->k);
        for (int i = 0; i < lat->n_coll[a]; i++) {
            CHECK(lat->coll[a][i] != 0 && lat->coll[a][i] < (1u << lat->k));
            for (int j = 0; j < lat->n_coll[a]; j++)
                if (i != j) CHECK((lat->coll[a][i] & lat->coll[a][j]) != lat->coll[a][i]);
        }
    }

    /* partial order: reflexive, antisymmetric, transitive; bottom and top */
    int bottom = im_lattice_find(lat, lat->k == 2 ? "f_c" : "f_c_l"), top = n - 1;
    for (int a = 0; a < n; a++) {
        CHECK_INT(lat->leq[a][a], 1);
        CHECK_INT(lat->leq[bottom][a], 1);
        CHECK_INT(lat->leq[a][top], 1);
        for (int b = 0; b < n; b++) {
            if (a != b) CHECK(!(lat->leq[a][b] && lat->leq[b][a]));
            for (int c = 0; c < n; c++)
                if (lat->leq[a][b] && lat->leq[b][c]) CHECK_INT(lat->leq[a][c], 1);
        }
    }

    /* Moebius matrix inverts the zeta matrix: sum_b M[a][b] zeta[b][c] = [a == c] */
    for (int a = 0; a < n; a++)
        for (int c = 0; c < n; c++) {
            double s = 0;
            for (int b = 0; b < n; b++) s += lat->moebius[a][b] * lat->leq[c][b];
            CHECK_NEAR(s, a == c, 1e-12);
        }
}

int main(void)
{
    im_lattice lat;
    im_error err = {0};

    CHECK_INT(im_lattice_init(&lat, 2, &err), 0);
    CHECK_INT(lat.k, 2);
    CHECK_INT(lat.n, 4);
    check_lattice(&lat, short2, braced2);
    /* k = 2: {F} = unique F + redundancy, {FC} = everything */
    CHECK_INT(lat.leq[2][0], 1);
    CHECK_INT(lat.leq[2][1], 1);
    CHECK_INT(lat.leq[0][1], 0);
    CHECK_INT(lat.leq[1][0], 0);
    CHECK_INT(lat.leq[3][0], 0);
    /* Pi(fc) = I(fc) - I(f) - I(c) + I(f_c); Pi(f) = I(f) - I(f_c) */
    const double m_fc[4] = {-1, -1, 1, 1}, m_f[4] = {1, 0, -1, 0};
    for (int b = 0; b < 4; b++) {
        CHECK_NEAR(lat.moebius[3][b], m_fc[b], 0);
        CHECK_NEAR(lat.moebius[0][b], m_f[b], 0);
    }
    /* collections as bitmasks: bit 0 = F, bit 1 = C */
    CHECK_INT(lat.n_coll[2], 2);
    CHECK_INT(lat.coll[2][0], 1);
    CHECK_INT(lat.coll[2][1], 2);
    CHECK_INT(lat.coll[3][0], 3);

    CHECK_INT(im_lattice_init(&lat, 3, &err), 0);
    CHECK_INT(lat.k, 3);
    CHECK_INT(lat.n, 18);
    check_lattice(&lat, short3, braced3);
    int f = im_lattice_find(&lat, "f"), l_fc = im_lattice_find(&lat, "l_fc");
    int f_cl = im_lattice_find(&lat, "f_cl"), fc_fl = im_lattice_find(&lat, "fc_fl");
    int c_l = im_lattice_find(&lat, "c_l"), fc = im_lattice_find(&lat, "{FC}");
    int fc_fl_cl = im_lattice_find(&lat, "fc_fl_cl"), cl = im_lattice_find(&lat, "cl");
    CHECK_INT(lat.leq[f_cl][fc_fl], 1); /* F is inside FC and FL */
    CHECK_INT(lat.leq[c_l][f], 0);
    CHECK_INT(lat.leq[f][fc], 1);
    CHECK_INT(lat.leq[l_fc][fc], 1);
    CHECK_INT(lat.leq[fc][l_fc], 0);
    CHECK_INT(lat.leq[fc_fl_cl][cl], 1);
    CHECK_INT(lat.leq[f][fc_fl_cl], 0);
    CHECK_INT(lat.n_coll[fc_fl_cl], 3);
    CHECK_INT(lat.coll[fc_fl_cl][0], 3);
    CHECK_INT(lat.coll[fc_fl_cl][1], 5);
    CHECK_INT(lat.coll[fc_fl_cl][2], 6);
    CHECK_INT(lat.coll[l_fc][0], 4);
    CHECK_INT(lat.coll[l_fc][1], 3);
    /* Moebius of the top for k = 3 (the interval [{FC}{FL}{CL}, {FCL}] is a cube):
     * Pi(fcl) = I(fcl) - I(fc) - I(fl) - I(cl) + I(fc_fl) + I(fc_cl) + I(fl_cl) - I(fc_fl_cl) */
    const double m_top[18] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1, 1, 1, -1, -1, -1, 1};
    for (int b = 0; b < 18; b++) CHECK_NEAR(lat.moebius[17][b], m_top[b], 0);
    CHECK_INT(im_lattice_init(&lat, 4, &err), IM_EINVAL);
    CHECK_INT(err.code, IM_EINVAL);
    CHECK_CONTAINS(err.msg, "sources");
    CHECK_INT(im_lattice_init(&lat, 1, NULL), IM_EINVAL);
    return TEST_END();
}
