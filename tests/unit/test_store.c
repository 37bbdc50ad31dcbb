/*
 * test_store: the trial store on a real SQLite file in a temporary directory.
 * Migrations from an empty file and from every earlier version (data
 * survives), a newer or foreign file refused untouched, the write API
 * (campaigns, trials, attempts lost/requeued/done, epochs, atoms, workers,
 * events), atomicity of each call inside a transaction, foreign keys, the
 * resume queries, the JSON queries, the views read as a person would (a
 * second connection), and the README's example queries as printed there.
 */
#include "store.h"
#include "test.h"
#include "test_util.h"

#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* An epoch record with the figures the store keeps. */
static im_epoch_stats epoch_rec(int epoch, double train_acc, double val_acc, double test_acc,
                                double goal_hidden, double goal_out, double seconds)
{
    return (im_epoch_stats){.epoch = epoch,
                            .train_acc = train_acc,
                            .val_acc = val_acc,
                            .test_acc = test_acc,
                            .goal_hidden = goal_hidden,
                            .goal_out = goal_out,
                            .seconds = seconds};
}

static char dir[256];

static void db_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

/* A new store at dir/name (an old file of that name removed first), its
 * path into path[size]. NULL, after a failed check, if it does not open. */
static store *open_fresh(char *path, size_t size, const char *name)
{
    db_path(path, size, name);
    test_remove_db(path);
    store *s = NULL;
    im_error e = {0};
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s: %s", name, e.msg);
    return s;
}

/* ---- a second, plain connection: what a person with sqlite3 sees ---- */

static sqlite3 *reader(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static sqlite3 *writer(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* First column of the first row as a double (NAN if no row or NULL). */
static double q_real(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    double v = NAN;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql error in '%s': %s\n", sql, sqlite3_errmsg(db));
        return NAN;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long q_int(sqlite3 *db, const char *sql)
{
    double v = q_real(db, sql);
    return isnan(v) ? -999999 : (long long)llround(v);
}

/* First column of the first row as text into a static buffer ("" if none). */
static const char *q_text(sqlite3 *db, const char *sql)
{
    static char buf[1024];
    sqlite3_stmt *st;
    buf[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql error in '%s': %s\n", sql, sqlite3_errmsg(db));
        return buf;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "sql error in '%s': %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return rc;
}

/* ---- building data with the store's API ---- */

static int64_t add_campaign(store *s, const char *name, const char *kind, int64_t budget, int seeds)
{
    store_campaign_new c = {.name = name,
                            .kind = kind,
                            .spec_json = "{\"name\": \"x\"}",
                            .sampler = strcmp(kind, "search") == 0 ? "tpe" : NULL,
                            .priority = 1,
                            .budget = budget,
                            .seeds_per_point = seeds,
                            .seed = 7};
    int64_t id = 0;
    im_error e = {0};
    int rc = store_campaign_insert(s, &c, &id, &e);
    CHECK_MSG(rc == 0, "campaign '%s': %s", name, e.msg);
    return id;
}

/* A trial with a k = 3 gamma: component j is base + j / 100, and the one named
 * `zero` (may be NULL) set to 0. */
static int64_t add_trial_staged(store *s, int64_t campaign, int number, int point, uint64_t seed,
                                const char *label, const char *stage, double base, const char *zero)
{
    store_param p[19];
    for (int j = 0; j < 19; j++) {
        snprintf(p[j].name, sizeof p[j].name, "%s", test_gamma3_names[j]);
        p[j].value = zero && strcmp(zero, test_gamma3_names[j]) == 0 ? 0.0 : base + j / 100.0;
    }
    store_trial_new t = {.campaign_id = campaign,
                         .number = number,
                         .point = point,
                         .seed = seed,
                         .spec_json = "{\"hidden\": 100, \"epochs\": 10}",
                         .label = label,
                         .stage = stage,
                         .params = p,
                         .n_params = 19};
    int64_t id = 0;
    im_error e = {0};
    int rc = store_trial_insert(s, &t, &id, &e);
    CHECK_MSG(rc == 0, "trial %d: %s", number, e.msg);
    return id;
}

static int64_t add_trial(store *s, int64_t campaign, int number, int point, uint64_t seed,
                         const char *label, double base, const char *zero)
{
    return add_trial_staged(s, campaign, number, point, seed, label, NULL, base, zero);
}

static void add_curve_and_atoms(store *s, int64_t trial, double val_acc)
{
    im_epoch_stats ep[10];
    for (int k = 0; k < 10; k++)
        ep[k] = epoch_rec(k, val_acc * k / 9, val_acc * k / 9, val_acc * k / 9 - 0.01, 0.1 * k,
                          0.2 * k, 1.5);
    im_trial_atom at[24];
    for (int j = 0; j < 19; j++) at[j] = (im_trial_atom){"hidden", test_gamma3_names[j], 0.01 * j};
    const char *out_names[5] = {"f", "c", "f_c", "fc", "h_res"};
    for (int j = 0; j < 5; j++) at[19 + j] = (im_trial_atom){"output", out_names[j], 0.1 * j};
    im_error e = {0};
    CHECK_MSG(store_epochs_insert(s, trial, ep, 10, &e) == 0, "%s", e.msg);
    CHECK_MSG(store_atoms_insert(s, trial, at, 24, &e) == 0, "%s", e.msg);
}

/* Start a trial on a worker and finish it with a status and accuracy. */
static void run_trial(store *s, int64_t trial, const char *worker, store_trial_status status,
                      double val_acc)
{
    int attempt = 0;
    im_error e = {0};
    CHECK_MSG(store_trial_start(s, trial, worker, &attempt, &e) == 0, "%s", e.msg);
    if (status == STORE_TRIAL_DONE) add_curve_and_atoms(s, trial, val_acc);
    store_trial_result r = {status, val_acc, isnan(val_acc) ? NAN : val_acc - 0.01, 12.5,
                            status == STORE_TRIAL_FAILED ? "diverged" : NULL};
    CHECK_MSG(store_trial_finish(s, trial, attempt, &r, &e) == 0, "%s", e.msg);
}

/* The README's example database: a search campaign 'tpe-mnist' and an
 * ablation campaign 'ablation-optimized' with known accuracies. */
typedef struct populated {
    int64_t search, ablation, best_trial, lost_trial, running_trial, queued_trial;
} populated;

static populated populate(store *s)
{
    populated p = {0};
    im_error e = {0};
    store_worker_info w1 = {"w1", "node1", 101, 4, "builtin"}, w2 = {"w2", "node2", 202, 8, NULL};
    CHECK(store_worker_seen(s, &w1, &e) == 0);
    CHECK(store_worker_seen(s, &w2, &e) == 0);

    CHECK(store_begin(s, &e) == 0);
    p.search = add_campaign(s, "tpe-mnist", "search", 10, 1);
    CHECK(store_campaign_set_status(s, p.search, STORE_CAMPAIGN_RUNNING, &e) == 0);
    /* numbers 0..3 done with 0.90, 0.95, 0.85, 0.93; 4 lost then done 0.91;
     * 5 running; 6 queued; 7 failed */
    const double acc[4] = {0.90, 0.95, 0.85, 0.93};
    for (int i = 0; i < 4; i++) {
        int64_t t = add_trial(s, p.search, i, i, (uint64_t)i + 1, NULL, 0.1 * i, NULL);
        run_trial(s, t, i % 2 ? "w2" : "w1", STORE_TRIAL_DONE, acc[i]);
        if (i == 1) p.best_trial = t;
    }
    p.lost_trial = add_trial(s, p.search, 4, 4, 5, NULL, 0.4, NULL);
    int attempt = 0;
    CHECK(store_trial_start(s, p.lost_trial, "w2", &attempt, &e) == 0);
    CHECK_INT(attempt, 1);
    add_curve_and_atoms(s, p.lost_trial, 0.2); /* partial curve of the lost attempt */
    CHECK_MSG(store_trial_lost(s, p.lost_trial, 1, "lease expired", 1, &e) == 0, "%s", e.msg);
    run_trial(s, p.lost_trial, "w1", STORE_TRIAL_DONE, 0.91);
    p.running_trial = add_trial(s, p.search, 5, 5, 6, NULL, 0.5, NULL);
    CHECK(store_trial_start(s, p.running_trial, "w2", &attempt, &e) == 0);
    p.queued_trial = add_trial(s, p.search, 6, 6, 7, NULL, 0.6, NULL);
    int64_t failed = add_trial(s, p.search, 7, 7, 8, NULL, 0.7, NULL);
    run_trial(s, failed, "w2", STORE_TRIAL_FAILED, NAN);

    /* ablation: base 0.90 0.92 0.94; f_c 0.50 0.55 0.60; fl 0.93 0.91 0.92
     * (+ one failed); successive, first step (f_c removed, labelled as the
     * individual f_c) 0.40 0.45 */
    p.ablation = add_campaign(s, "ablation-optimized", "ablation", -1, 3);
    struct {
        const char *label, *stage;
        double acc[3];
        int n;
    } groups[4] = {{"base", "base", {0.90, 0.92, 0.94}, 3},
                   {"f_c", "individual", {0.50, 0.55, 0.60}, 3},
                   {"fl", "individual", {0.93, 0.91, 0.92}, 3},
                   {"f_c", "successive", {0.40, 0.45, 0}, 2}};
    int number = 0;
    for (int g = 0; g < 4; g++) {
        for (int r = 0; r < groups[g].n; r++) {
            const char *zero = strcmp(groups[g].label, "base") == 0 ? NULL : "f_c";
            int64_t t = add_trial_staged(s, p.ablation, number++, g, (uint64_t)r + 1,
                                         groups[g].label, groups[g].stage, 0.3, zero);
            run_trial(s, t, "w1", STORE_TRIAL_DONE, groups[g].acc[r]);
        }
    }
    int64_t t = add_trial_staged(s, p.ablation, number++, 2, 4, "fl", "individual", 0.3, "fl");
    run_trial(s, t, "w2", STORE_TRIAL_FAILED, NAN);
    CHECK_MSG(store_commit(s, &e) == 0, "%s", e.msg);
    return p;
}

/* ---- the tests ---- */

static void test_fresh_and_reopen(void)
{
    char path[400];
    store *s = open_fresh(path, sizeof path, "fresh.db");
    if (!s) return;
    im_error e = {0};
    CHECK_INT(store_version(s), store_schema_latest());
    CHECK(store_schema_latest() >= 2);
    store_close(&s);
    CHECK(s == NULL);
    store_close(&s); /* no-op */

    sqlite3 *db = reader(path);
    CHECK_INT(q_int(db, "PRAGMA user_version"), store_schema_latest());
    CHECK_STR(q_text(db, "PRAGMA journal_mode"), "wal");
    const char *tables[] = {"campaigns",         "trials",
                            "trial_attempts",    "trial_params",
                            "trial_epochs",      "trial_atoms",
                            "workers",           "events",
                            "best_trials",       "trial_gamma_wide",
                            "campaign_progress", "ablation_effects",
                            "point_summary",     "ablation_successive"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE name = '%s'",
                 tables[i]);
        CHECK_MSG(q_int(db, sql) == 1, "missing table or view %s", tables[i]);
    }
    sqlite3_close(db);

    /* reopening an up-to-date file changes nothing; FULL sync is accepted */
    store_options opt = {.sync = STORE_SYNC_FULL, .busy_timeout_ms = 100};
    CHECK_MSG(store_open(&s, path, &opt, &e) == 0, "%s", e.msg);
    if (s) CHECK_INT(store_version(s), store_schema_latest());
    store_close(&s);
}

/* Rows as an older program would have written them (0001's tables). */
static void insert_v1_rows(const char *path)
{
    sqlite3 *db = writer(path);
    CHECK(exec(db,
               "INSERT INTO campaigns (name, kind, spec, created_at) "
               "VALUES ('old', 'fixed', '{}', '2026-01-01T00:00:00.000Z');"
               "INSERT INTO trials (campaign_id, number, point, seed, status, val_acc, spec, "
               "created_at) VALUES (1, 0, 0, 3, 'done', 0.8, '{}', "
               "'2026-01-01T00:00:00.000Z');"
               "INSERT INTO trial_params VALUES (1, 'f_c', 1.0), (1, 'h_res', 0.0);") == SQLITE_OK);
    sqlite3_close(db);
}

/* An ablation written before trials had a stage (schema 2) gets its stage
 * from its labels: 'base', else 'individual'; other kinds' trials none. */
static void test_stage_backfill(void)
{
    char path[400];
    db_path(path, sizeof path, "stage.db");
    test_remove_db(path);
    im_error e = {0};
    CHECK_MSG(store__create_at_version(path, 2, &e) == 0, "%s", e.msg);
    sqlite3 *db = writer(path);
    CHECK(exec(db, "INSERT INTO campaigns (name, kind, spec, created_at) VALUES "
                   "('abl', 'ablation', '{}', '2026-01-01T00:00:00.000Z'), "
                   "('fix', 'fixed', '{}', '2026-01-01T00:00:00.000Z');"
                   "INSERT INTO trials (campaign_id, number, point, seed, label, status, val_acc, "
                   "spec, created_at) VALUES "
                   "(1, 0, 0, 1, 'base', 'done', 0.9, '{}', '2026-01-01T00:00:00.000Z'), "
                   "(1, 1, 1, 1, 'f_c', 'done', 0.5, '{}', '2026-01-01T00:00:00.000Z'), "
                   "(2, 0, 0, 1, 'base', 'done', 0.5, '{}', '2026-01-01T00:00:00.000Z');") ==
          SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s", e.msg);
    store_close(&s);
    db = reader(path);
    CHECK_STR(q_text(db, "SELECT group_concat(coalesce(stage, '-'), ' ') FROM "
                         "(SELECT stage FROM trials ORDER BY id)"),
              "base individual -");
    CHECK_NEAR(q_real(db, "SELECT mean_delta_val FROM ablation_effects WHERE ablated = 'f_c'"),
               -0.4, 1e-12);
    CHECK_INT(q_int(db, "SELECT count(*) FROM ablation_successive"), 0);
    sqlite3_close(db);
    test_remove_db(path);
}

/* Which attempt of its worker a resumed attempt continues: read from the
 * 'lease_resumed' events of a database made before the column (schema 7),
 * and recorded by store_attempt_resumes since; store_trial_late then takes
 * a late result of the resumed worker attempt for a resend, not a
 * superseded one. */
static void test_attempt_resumes(void)
{
    char path[400];
    db_path(path, sizeof path, "resumes.db");
    test_remove_db(path);
    im_error e = {0};
    CHECK_MSG(store__create_at_version(path, 7, &e) == 0, "%s", e.msg);
    sqlite3 *db = writer(path);
    CHECK(exec(db, "INSERT INTO campaigns (name, kind, spec, created_at) VALUES "
                   "('c', 'fixed', '{}', '2026-01-01T00:00:00.000Z');"
                   "INSERT INTO trials (campaign_id, number, point, seed, status, attempt, "
                   "val_acc, spec, created_at) VALUES "
                   "(1, 0, 0, 1, 'done', 2, 0.9, '{}', '2026-01-01T00:00:00.000Z'), "
                   "(1, 1, 1, 1, 'done', 13, 0.9, '{}', '2026-01-01T00:00:00.000Z');"
                   "INSERT INTO trial_attempts (trial_id, attempt, worker, status, started_at) "
                   "VALUES (1, 1, 'w', 'interrupted', 'x'), (1, 2, 'w', 'done', 'x'), "
                   "(2, 12, 'w', 'lost', 'x'), (2, 13, 'v', 'done', 'x');"
                   "INSERT INTO events (at, kind, campaign_id, trial_id, worker, detail) VALUES "
                   "('x', 'lease_resumed', 1, 1, 'w', "
                   "'attempt 1 of the worker continues as attempt 2'), "
                   "('x', 'lease_resumed', 1, 2, 'w', "
                   "'attempt 3 of the worker continues as attempt 3');") == SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s", e.msg);
    db = reader(path);
    CHECK_STR(q_text(db, "SELECT group_concat(trial_id || ':' || attempt || ':' || "
                         "coalesce(resumes, '-'), ' ') FROM (SELECT * FROM trial_attempts "
                         "ORDER BY trial_id, attempt)"),
              "1:1:- 1:2:1 2:12:- 2:13:-");
    sqlite3_close(db);
    int sup = -1;
    if (s) {
        /* trial 1: attempt 2 resumed the worker's attempt 1: a resend */
        CHECK_INT(store_trial_late(s, 1, 1, &sup, &e), 0);
        CHECK_INT(sup, 0);
        /* trial 2: attempt 13 resumed nothing: the worker's 12 was replaced */
        CHECK_INT(store_trial_late(s, 2, 12, &sup, &e), 0);
        CHECK_INT(sup, 1);
        CHECK_INT(store_attempt_resumes(s, 2, 13, 12, &e), 0);
        CHECK_INT(store_trial_late(s, 2, 12, &sup, &e), 0);
        CHECK_INT(sup, 0);
        CHECK_INT(store_attempt_resumes(s, 2, 14, 12, &e), IM_ENOTFOUND);
        CHECK_INT(store_attempt_resumes(s, 2, 13, 0, &e), IM_EINVAL);
    }
    store_close(&s);
    test_remove_db(path);
}

/* 1 if id is STORE_DATABASE_ID_LEN lowercase hex characters. */
static int is_db_id(const char *id)
{
    if (strlen(id) != STORE_DATABASE_ID_LEN) return 0;
    return strspn(id, "0123456789abcdef") == STORE_DATABASE_ID_LEN;
}

/* The database's identity: made once, kept across reopening, different in
 * another new database, made at the upgrade of a database of schema 4, never
 * changed by SQL; and the worker named in an attempt. */
static void test_database_id(void)
{
    char path[400], other[400], old[400], id[STORE_DATABASE_ID_LEN + 1];
    im_error e = {0};
    store *s = open_fresh(path, sizeof path, "ida.db");
    if (!s) return;
    snprintf(id, sizeof id, "%s", store_database_id(s));
    CHECK_MSG(is_db_id(id), "id '%s'", id);
    int64_t c = add_campaign(s, "idc", "fixed", 1, 1);
    int64_t t = add_trial(s, c, 0, 0, 1, NULL, 0.1, NULL);
    int attempt = 0;
    CHECK_MSG(store_trial_start(s, t, "w-named", &attempt, &e) == 0, "%s", e.msg);
    char holder[IM_WIRE_NAME_MAX + 1] = "x";
    CHECK_INT(store_attempt_worker(s, t, 1, holder, sizeof holder, &e), 0);
    CHECK_STR(holder, "w-named");
    CHECK_INT(store_attempt_worker(s, t, 2, holder, sizeof holder, &e), IM_ENOTFOUND);
    store_close(&s);
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s", e.msg);
    if (s) CHECK_STR(store_database_id(s), id);
    store_close(&s);
    sqlite3 *db = writer(path);
    CHECK_STR(q_text(db, "SELECT id FROM database_identity"), id);
    /* the triggers keep it as it is */
    CHECK(exec(db, "UPDATE database_identity SET id = lower(hex(randomblob(16)))") != SQLITE_OK);
    CHECK(exec(db, "DELETE FROM database_identity") != SQLITE_OK);
    CHECK(exec(db, "INSERT OR REPLACE INTO database_identity VALUES (1, "
                   "'00000000000000000000000000000000', 'now')") != SQLITE_OK);
    CHECK_STR(q_text(db, "SELECT id FROM database_identity"), id);
    CHECK_INT(q_int(db, "SELECT count(*) FROM database_identity"), 1);
    sqlite3_close(db);

    s = open_fresh(other, sizeof other, "idb.db");
    if (s) {
        CHECK_MSG(is_db_id(store_database_id(s)), "id '%s'", store_database_id(s));
        CHECK_MSG(strcmp(store_database_id(s), id) != 0, "two new databases share id %s", id);
    }
    store_close(&s);

    /* a database of the schema before the identity gets one at the upgrade */
    db_path(old, sizeof old, "idold.db");
    test_remove_db(old);
    CHECK_MSG(store__create_at_version(old, 4, &e) == 0, "%s", e.msg);
    insert_v1_rows(old);
    CHECK_MSG(store_open(&s, old, NULL, &e) == 0, "%s", e.msg);
    if (s) {
        snprintf(id, sizeof id, "%s", store_database_id(s));
        CHECK_MSG(is_db_id(id), "id '%s' after the upgrade", id);
    }
    store_close(&s);
    CHECK_MSG(store_open(&s, old, NULL, &e) == 0, "%s", e.msg);
    if (s) CHECK_STR(store_database_id(s), id);
    store_close(&s);
    test_remove_db(path);
    test_remove_db(other);
    test_remove_db(old);
}

static void test_upgrade_from_each_version(void)
{
    for (int v = 0; v < store_schema_latest(); v++) {
        char path[400], name[64];
        snprintf(name, sizeof name, "v%d.db", v);
        db_path(path, sizeof path, name);
        test_remove_db(path);
        im_error e = {0};
        CHECK_MSG(store__create_at_version(path, v, &e) == 0, "version %d: %s", v, e.msg);
        sqlite3 *db = reader(path);
        CHECK_INT(q_int(db, "PRAGMA user_version"), v);
        sqlite3_close(db);
        if (v >= 1) insert_v1_rows(path);

        store *s = NULL;
        CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "from version %d: %s", v, e.msg);
        if (!s) continue;
        CHECK_INT(store_version(s), store_schema_latest());
        if (v >= 1) {
            store_campaign c;
            CHECK_MSG(store_campaign_find(s, "old", &c, &e) == 0, "%s", e.msg);
            CHECK_STR(c.kind, "fixed");
            store_campaign_release(&c);
            store_trial *t = NULL;
            size_t n = 0;
            CHECK(store_trial_list(s, 0, 0, STORE_WITH_PARAMS, &t, &n, &e) == 0);
            CHECK_INT(n, 1);
            if (n == 1) {
                CHECK_NEAR(t[0].val_acc, 0.8, 0);
                CHECK_INT(t[0].n_params, 2);
                CHECK_STR(t[0].params[0].name, "f_c");
            }
            store_trials_free(&t, n);
            /* the views of later migrations see the old rows */
            json_t *best = store_best_json(s, 0, 5, &e);
            CHECK_INT(json_array_size(best), 1);
            json_decref(best);
        }
        store_close(&s);
        db = reader(path);
        CHECK_INT(q_int(db, "PRAGMA user_version"), store_schema_latest());
        if (v >= 1)
            CHECK_NEAR(q_real(db, "SELECT f_c FROM trial_gamma_wide WHERE trial = 1"), 1.0, 0);
        sqlite3_close(db);
    }
    /* a migration that fails is rolled back whole: the file stays at the last
     * version that applied (here 0002 meets a table named like its first view) */
    char path_fail[400];
    db_path(path_fail, sizeof path_fail, "fail.db");
    test_remove_db(path_fail);
    im_error ef = {0};
    CHECK(store__create_at_version(path_fail, 1, &ef) == 0);
    sqlite3 *w = writer(path_fail);
    CHECK(exec(w, "CREATE TABLE best_trials (x)") == SQLITE_OK);
    sqlite3_close(w);
    store *sf = NULL;
    CHECK_INT(store_open(&sf, path_fail, NULL, &ef), IM_EDB);
    CHECK(sf == NULL);
    CHECK_CONTAINS(ef.msg, "to schema version 2 (0002_views.sql)");
    CHECK_CONTAINS(ef.msg, "best_trials");
    w = reader(path_fail);
    CHECK_INT(q_int(w, "PRAGMA user_version"), 1);
    CHECK_INT(q_int(w, "SELECT count(*) FROM sqlite_schema WHERE type = 'view'"), 0);
    sqlite3_close(w);

    /* an out-of-range version for the helper */
    im_error e = {0};
    char path[400];
    db_path(path, sizeof path, "bad-version.db");
    CHECK_INT(store__create_at_version(path, store_schema_latest() + 1, &e), IM_ERANGE);
}

/* The number of the migration that added campaigns.status 'waiting'. */
static int waiting_migration(void)
{
    for (int v = 1; v <= store__migration_count; v++)
        if (strstr(store__migration_name[v - 1], "_waiting.sql")) return v;
    return -1;
}

/* The migration that rebuilds campaigns (for status 'waiting') keeps every
 * campaign and trial row with its id, every foreign key and the cascade
 * from campaigns to trials, and the views read the new table; a chained
 * ablation that waits (queued, no trial, its base not done) becomes
 * 'waiting', the other campaigns keep their status. */
static void test_waiting_migration(void)
{
    int v = waiting_migration();
    CHECK(v > 1);
    if (v <= 1) return;
    char path[400];
    db_path(path, sizeof path, "waiting.db");
    test_remove_db(path);
    im_error e = {0};
    CHECK_MSG(store__create_at_version(path, v - 1, &e) == 0, "%s", e.msg);
    sqlite3 *db = writer(path);
    const char *t0 = "'2026-01-01T00:00:00.000Z'";
    char sql[4096];
    snprintf(
        sql, sizeof sql,
        "INSERT INTO campaigns (id, name, kind, status, spec, created_at, finished_at) VALUES "
        "(3, 'base-done', 'search', 'done', '{}', %s, %s), "
        "(5, 'base-running', 'search', 'running', '{}', %s, NULL), "
        "(7, 'waits', 'ablation', 'queued', '{\"base\": {\"campaign\": "
        "\"base-running\"}}', %s, NULL), "
        "(8, 'ready', 'ablation', 'queued', '{\"base\": {\"campaign\": \"base-done\"}}', "
        "%s, NULL), "
        "(9, 'has-trials', 'ablation', 'queued', '{\"base\": {\"campaign\": "
        "\"base-running\"}}', %s, NULL), "
        "(11, 'plain', 'ablation', 'queued', '{\"base\": [1, 0, 0, 0, 0]}', %s, NULL);"
        "INSERT INTO trials (id, campaign_id, number, point, seed, status, val_acc, value, spec, "
        "created_at) VALUES (21, 3, 0, 0, 1, 'done', 0.8, 0.8, '{}', %s), "
        "(22, 5, 0, 0, 1, 'running', NULL, NULL, '{}', %s), "
        "(23, 9, 0, 0, 1, 'queued', NULL, NULL, '{}', %s);"
        "INSERT INTO trial_params VALUES (21, 'f_c', 1.0), (22, 'f_c', 0.5), (23, 'f', 0);"
        "INSERT INTO trial_attempts (trial_id, attempt, status, started_at) VALUES "
        "(21, 1, 'done', %s), (22, 1, 'running', %s);"
        "INSERT INTO trial_epochs (trial_id, epoch, val_acc) VALUES (21, 0, 0.1), (21, 1, 0.8);"
        "INSERT INTO trial_atoms VALUES (21, 'hidden', 'f', 0.25);",
        t0, t0, t0, t0, t0, t0, t0, t0, t0, t0, t0, t0);
    CHECK(exec(db, sql) == SQLITE_OK);
    sqlite3_close(db);

    store *s = NULL;
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s", e.msg);
    store_close(&s);
    db = writer(path);
    sqlite3_extended_result_codes(db, 1);
    CHECK_INT(q_int(db, "PRAGMA user_version"), store_schema_latest());
    CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
    CHECK_INT(q_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    CHECK_STR(q_text(db, "SELECT group_concat(id || ':' || name || ':' || status, ' ') FROM "
                         "(SELECT * FROM campaigns ORDER BY id)"),
              "3:base-done:done 5:base-running:running 7:waits:waiting 8:ready:queued "
              "9:has-trials:queued 11:plain:queued");
    CHECK_STR(q_text(db, "SELECT finished_at FROM campaigns WHERE id = 3"),
              "2026-01-01T00:00:00.000Z");
    CHECK_STR(q_text(db, "SELECT group_concat(id || ':' || campaign_id, ' ') FROM "
                         "(SELECT * FROM trials ORDER BY id)"),
              "21:3 22:5 23:9");
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params"), 3);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_attempts"), 2);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_epochs"), 2);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_atoms"), 1);
    CHECK_INT(q_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'campaigns_new' OR "
                        "sql LIKE '%campaigns_new%'"),
              0);
    CHECK_STR(q_text(db, "SELECT \"table\" || ' ' || on_delete FROM "
                         "pragma_foreign_key_list('trials')"),
              "campaigns CASCADE");
    /* every view still reads the campaigns */
    CHECK_STR(q_text(db, "SELECT status FROM campaign_progress WHERE campaign = 'waits'"),
              "waiting");
    CHECK_INT(q_int(db, "SELECT count(*) FROM best_trials"), 1);
    CHECK_INT(q_int(db, "SELECT count(*) FROM point_summary"), 1);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_gamma_wide"), 3);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params_json"), 3);
    CHECK_INT(q_int(db, "SELECT count(*) FROM ablation_effects"), 0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM ablation_successive"), 0);
    /* the new CHECK: 'waiting' is a status, a made-up one is not */
    CHECK(exec(db, "UPDATE campaigns SET status = 'waiting' WHERE id = 11") == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE campaigns SET status = 'sleeping' WHERE id = 11", NULL, NULL,
                       NULL) == SQLITE_CONSTRAINT_CHECK);
    /* the foreign key holds and cascades as before */
    CHECK(exec(db, "PRAGMA foreign_keys = ON") == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO trials (campaign_id, number, point, seed, spec, "
                       "created_at) VALUES (99, 0, 0, 1, '{}', 'x')",
                       NULL, NULL, NULL) == SQLITE_CONSTRAINT_FOREIGNKEY);
    CHECK(exec(db, "DELETE FROM campaigns WHERE id = 3") == SQLITE_OK);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trials WHERE id = 21"), 0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_params WHERE trial_id = 21"), 0);
    sqlite3_close(db);
    test_remove_db(path);
}

static void test_newer_and_foreign_refused(void)
{
    char path[400], expect[600];
    im_error e = {0};
    db_path(path, sizeof path, "newer.db");
    test_remove_db(path);
    CHECK(store__create_at_version(path, store_schema_latest(), &e) == 0);
    sqlite3 *db = writer(path);
    int newer = store_schema_latest() + 3;
    char sql[100];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = DELETE; PRAGMA user_version = %d", newer);
    CHECK(exec(db, sql) == SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    int rc = store_open(&s, path, NULL, &e);
    CHECK_INT(rc, IM_EPROTO);
    CHECK(s == NULL);
    snprintf(expect, sizeof expect,
             "'%s' has schema version %d, this infomorph knows up to %d: upgrade infomorph", path,
             newer, store_schema_latest());
    CHECK_STR(e.msg, expect);
    db = reader(path); /* untouched: still the newer version, still not WAL */
    CHECK_INT(q_int(db, "PRAGMA user_version"), newer);
    CHECK_STR(q_text(db, "PRAGMA journal_mode"), "delete");
    sqlite3_close(db);

    /* an existing empty file (a truncated database, a wrong path): refused
     * and left as it is, never initialised as a new database */
    db_path(path, sizeof path, "empty.db");
    test_remove_db(path);
    FILE *ef = fopen(path, "w");
    CHECK(ef != NULL);
    if (ef) fclose(ef);
    CHECK_INT(store_open(&s, path, NULL, &e), IM_EFORMAT);
    CHECK(s == NULL);
    CHECK_CONTAINS(e.msg, "exists but is empty (0 bytes)");
    struct stat est;
    CHECK(stat(path, &est) == 0 && est.st_size == 0);

    /* another program's SQLite database */
    db_path(path, sizeof path, "other.db");
    test_remove_db(path);
    db = writer(path);
    CHECK(exec(db, "CREATE TABLE t (x)") == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_open(&s, path, NULL, &e), IM_EFORMAT);
    CHECK_CONTAINS(e.msg, "is not an infomorph trial database");

    /* not SQLite at all */
    db_path(path, sizeof path, "text.db");
    FILE *f = fopen(path, "w");
    if (f) {
        for (int i = 0; i < 100; i++) fputs("this is not a database\n", f);
        fclose(f);
    }
    CHECK_INT(store_open(&s, path, NULL, &e), IM_EFORMAT);
    CHECK_CONTAINS(e.msg, "is not an SQLite database");
    CHECK(s == NULL);

    CHECK_INT(store_open(&s, "", NULL, &e), IM_EINVAL);
}

static void test_writes_attempts_and_errors(store *s, const char *store_path)
{
    im_error e = {0};
    int64_t c = add_campaign(s, "api", "search", 3, 1);
    CHECK(c > 0);

    /* names, kinds and fields */
    store_campaign_new dup = {
        .name = "api", .kind = "search", .spec_json = "{}", .seeds_per_point = 1};
    CHECK_INT(store_campaign_insert(s, &dup, NULL, &e), IM_EINVAL);
    CHECK_STR(e.msg, "a campaign named 'api' exists already");
    store_campaign_new bad = {.name = "k", .kind = "grid", .spec_json = "{}", .seeds_per_point = 1};
    CHECK_INT(store_campaign_insert(s, &bad, NULL, &e), IM_EINVAL);
    CHECK_CONTAINS(e.msg, "CHECK constraint failed");
    bad = (store_campaign_new){
        .name = "j", .kind = "fixed", .spec_json = "{not json", .seeds_per_point = 1};
    CHECK_INT(store_campaign_insert(s, &bad, NULL, &e), IM_EINVAL);

    /* status changes and their timestamps */
    store_campaign got;
    CHECK(store_campaign_get(s, c, &got, &e) == 0);
    CHECK_INT(got.status, STORE_CAMPAIGN_QUEUED);
    CHECK_STR(got.sampler, "tpe");
    CHECK_INT(got.budget, 3);
    CHECK_INT(got.seed, 7);
    CHECK_STR(got.started_at, "");
    CHECK_INT(strlen(got.created_at), 24); /* 2026-11-30T11:13:50.123Z */
    CHECK(got.created_at[10] == 'T' && got.created_at[23] == 'Z');
    store_campaign_release(&got);
    CHECK(store_campaign_set_status(s, c, STORE_CAMPAIGN_RUNNING, &e) == 0);
    CHECK(store_campaign_get(s, c, &got, &e) == 0);
    CHECK_INT(got.status, STORE_CAMPAIGN_RUNNING);
    CHECK(got.started_at[0] != 0);
    CHECK_STR(got.finished_at, "");
    store_campaign_release(&got);
    CHECK_INT(store_campaign_set_status(s, 999, STORE_CAMPAIGN_DONE, &e), IM_ENOTFOUND);
    CHECK_INT(store_campaign_get(s, 999, &got, &e), IM_ENOTFOUND);
    CHECK_INT(store_campaign_find(s, "nope", &got, &e), IM_ENOTFOUND);

    /* foreign keys: no trial without its campaign, no rows without their trial */
    store_trial_new orphan = {.campaign_id = 999, .spec_json = "{}"};
    CHECK_INT(store_trial_insert(s, &orphan, NULL, &e), IM_ENOTFOUND);
    CHECK_STR(e.msg, "no campaign 999");
    im_epoch_stats ep = epoch_rec(0, 0.1, 0.1, 0.1, 0, 0, 1);
    CHECK_INT(store_epochs_insert(s, 999, &ep, 1, &e), IM_ENOTFOUND);
    im_trial_atom at = {"hidden", "f_c", 0.1};
    CHECK_INT(store_atoms_insert(s, 999, &at, 1, &e), IM_ENOTFOUND);
    at.layer = "middle";
    CHECK_INT(store_atoms_insert(s, 999, &at, 1, &e), IM_EINVAL);

    /* an atomic call: duplicate params leave no trial behind */
    store_param twice[2] = {{"f_c", 1}, {"f_c", 2}};
    store_trial_new t2 = {
        .campaign_id = c, .number = 0, .spec_json = "{}", .params = twice, .n_params = 2};
    CHECK_INT(store_trial_insert(s, &t2, NULL, &e), IM_EINVAL);
    CHECK_STR(e.msg, "trial parameter 'f_c' given twice");
    store_counts cnt;
    CHECK(store_campaign_counts(s, c, &cnt, &e) == 0);
    CHECK_INT(cnt.total, 0);
    CHECK(isnan(cnt.best_val_acc));
    twice[1].value = NAN;
    snprintf(twice[1].name, sizeof twice[1].name, "fc");
    CHECK_INT(store_trial_insert(s, &t2, NULL, &e), IM_EINVAL);

    /* inside a transaction a failed call rolls back only itself */
    CHECK(store_begin(s, &e) == 0);
    CHECK(store_begin(s, &e) == 0); /* nests */
    int64_t a = add_trial(s, c, 0, 0, 1, NULL, 0.1, NULL);
    store_trial_new same = {.campaign_id = c, .number = 0, .spec_json = "{}"};
    CHECK_INT(store_trial_insert(s, &same, NULL, &e), IM_EINVAL);
    CHECK_STR(e.msg, "campaign 1 already has a trial number 0");
    int64_t b = add_trial(s, c, 1, 1, 2, NULL, 0.2, NULL);
    CHECK(store_commit(s, &e) == 0); /* inner: nothing yet */
    CHECK(store_commit(s, &e) == 0);
    CHECK_INT(store_commit(s, &e), IM_EINVAL);
    CHECK(store_campaign_counts(s, c, &cnt, &e) == 0);
    CHECK_INT(cnt.total, 2);
    CHECK_INT(cnt.next_number, 2);
    CHECK_INT(cnt.by_status[STORE_TRIAL_QUEUED], 2);

    /* rollback drops everything since store_begin */
    CHECK(store_begin(s, &e) == 0);
    add_trial(s, c, 2, 2, 3, NULL, 0.3, NULL);
    store_rollback(s);
    CHECK(store_campaign_counts(s, c, &cnt, &e) == 0);
    CHECK_INT(cnt.total, 2);

    /* attempts: lost and requeued, then done; a late result of the lost
     * attempt and a duplicate result are refused and change nothing */
    int att = 0;
    CHECK(store_trial_start(s, a, "w1", &att, &e) == 0);
    CHECK_INT(att, 1);
    CHECK_INT(store_trial_start(s, a, "w1", &att, &e), IM_EINVAL);
    CHECK_STR(e.msg, "trial 1 is running (attempt 1), not queued");
    im_epoch_stats curve[3] = {epoch_rec(0, 0.1, 0.1, 0.1, 0, 0, 1),
                               epoch_rec(1, 0.2, 0.2, 0.2, 0, 0, 1),
                               epoch_rec(2, 0.3, 0.3, 0.3, 0, 0, 1)};
    CHECK(store_epochs_insert(s, a, curve, 3, &e) == 0);
    CHECK(store_epochs_insert(s, a, curve + 1, 1, &e) == 0); /* the same epoch again: replaced */
    CHECK(store_trial_lost(s, a, 1, "lease expired", 1, &e) == 0);
    CHECK_INT(store_trial_lost(s, a, 1, "again", 1, &e), IM_EINVAL);
    CHECK(store_trial_start(s, a, "w2", &att, &e) == 0);
    CHECK_INT(att, 2);
    store_trial_result late = {STORE_TRIAL_DONE, 0.5, 0.5, 1, NULL};
    CHECK_INT(store_trial_finish(s, a, 1, &late, &e), IM_EINVAL);
    CHECK_STR(e.msg, "trial 1 is running (attempt 2), not running attempt 1");
    /* an exec trial's objective by epoch: kept when the same epoch comes
     * again without one (a result's curve after the PROGRESS), replaced by
     * a new one; the last one that is given is the trial's last value */
    double last = 0;
    CHECK_INT(store_trial_last_value(s, a, &last, &e), 0);
    CHECK(isnan(last));
    const double values[2] = {4.5, NAN};
    CHECK(store_epochs_insert_values(s, a, curve, values, 2, &e) == 0);
    CHECK_INT(store_trial_last_value(s, a, &last, &e), 0);
    CHECK_NEAR(last, 4.5, 0);
    const double later[1] = {3.25};
    CHECK(store_epochs_insert_values(s, a, curve + 1, later, 1, &e) == 0);
    CHECK_INT(store_trial_last_value(s, a, &last, &e), 0);
    CHECK_NEAR(last, 3.25, 0);
    CHECK(store_epochs_insert(s, a, curve, 2, &e) == 0);
    CHECK_INT(store_trial_last_value(s, a, &last, &e), 0);
    CHECK_NEAR(last, 3.25, 0);
    store_trial_result ok = {STORE_TRIAL_DONE, 0.875, 0.86, 33.0, NULL};
    CHECK_MSG(store_trial_finish(s, a, 2, &ok, &e) == 0, "%s", e.msg);
    CHECK_INT(store_trial_finish(s, a, 2, &ok, &e), IM_EINVAL);
    CHECK_INT(store_trial_finish(s, 999, 1, &ok, &e), IM_ENOTFOUND);
    store_trial_result queued = {STORE_TRIAL_QUEUED, NAN, NAN, NAN, NULL};
    CHECK_INT(store_trial_finish(s, b, 1, &queued, &e), IM_EINVAL);

    json_t *ex = store_export_json(s, c, &e);
    json_t *first = json_array_get(ex, 0);
    CHECK_INT(json_integer_value(json_object_get(first, "attempt")), 2);
    CHECK_STR(json_string_value(json_object_get(first, "status")), "done");
    json_t *attempts = json_object_get(first, "attempts");
    CHECK_INT(json_array_size(attempts), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(attempts, 0), "status")), "lost");
    CHECK_STR(json_string_value(json_object_get(json_array_get(attempts, 0), "error")),
              "lease expired");
    CHECK_STR(json_string_value(json_object_get(json_array_get(attempts, 0), "worker")), "w1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(attempts, 1), "status")), "done");
    CHECK_STR(json_string_value(json_object_get(json_array_get(attempts, 1), "worker")), "w2");
    /* the second attempt's curve only: epochs 0 and 1, not the lost attempt's 2;
     * "value" only where an objective was given */
    json_t *curve_json = json_object_get(first, "epochs");
    CHECK_INT(json_array_size(curve_json), 2);
    CHECK_NEAR(json_number_value(json_object_get(json_array_get(curve_json, 0), "value")), 4.5, 0);
    CHECK_NEAR(json_number_value(json_object_get(json_array_get(curve_json, 1), "value")), 3.25, 0);
    CHECK_NEAR(json_real_value(json_object_get(first, "val_acc")), 0.875, 0);
    CHECK(json_is_object(json_object_get(first, "spec")));
    json_decref(ex);

    /* lost without requeue: the trial fails with the reason */
    CHECK(store_trial_start(s, b, "w1", &att, &e) == 0);
    CHECK(store_trial_lost(s, b, 1, "attempts exhausted", 0, &e) == 0);
    store_trial *list = NULL;
    size_t n = 0;
    CHECK(store_trial_list(s, c, STORE_MASK(STORE_TRIAL_FAILED), 0, &list, &n, &e) == 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(list[0].id, b);
        CHECK_STR(list[0].worker, "w1");
        CHECK(list[0].spec_json == NULL && list[0].params == NULL);
    }
    store_trials_free(&list, n);
    CHECK(list == NULL);

    /* cancel the queued ones */
    int64_t q1 = add_trial(s, c, 2, 2, 3, NULL, 0.3, NULL);
    add_trial(s, c, 3, 3, 4, NULL, 0.4, NULL);
    CHECK(store_trial_start(s, q1, "w1", &att, &e) == 0);
    int64_t ncancel = 0;
    CHECK(store_campaign_cancel_queued(s, c, &ncancel, &e) == 0);
    CHECK_INT(ncancel, 1);
    store_trial_result stop = {STORE_TRIAL_CANCELLED, NAN, NAN, 2.0, "cancelled"};
    CHECK(store_trial_finish(s, q1, 1, &stop, &e) == 0);
    CHECK(store_campaign_counts(s, c, &cnt, &e) == 0);
    CHECK_INT(cnt.by_status[STORE_TRIAL_CANCELLED], 2);
    CHECK_INT(cnt.by_status[STORE_TRIAL_DONE], 1);
    CHECK_INT(cnt.by_status[STORE_TRIAL_FAILED], 1);
    CHECK_INT(cnt.total, 4);
    CHECK_INT(cnt.best_trial, a);
    CHECK_NEAR(cnt.best_val_acc, 0.875, 0);
    CHECK_INT(store_campaign_counts(s, 999, &cnt, &e), IM_ENOTFOUND);

    /* params of a list: a trial without any between trials with 19 */
    store_trial_new bare = {.campaign_id = c, .number = 9, .point = 9, .spec_json = "{}"};
    int64_t bare_id = 0;
    CHECK(store_trial_insert(s, &bare, &bare_id, &e) == 0);
    add_trial(s, c, 10, 10, 11, NULL, 1.1, "f_c");
    CHECK(store_trial_list(s, c, 0, STORE_WITH_PARAMS, &list, &n, &e) == 0);
    CHECK_INT(n, 6);
    for (size_t i = 0; i < n; i++) {
        if (list[i].id == bare_id) {
            CHECK_INT(list[i].n_params, 0);
            CHECK(list[i].params == NULL);
            continue;
        }
        CHECK_INT(list[i].n_params, 19);
        if (list[i].n_params != 19) continue;
        /* sorted by name: "c" (index 8 of the canonical order) first, "l_fc" last */
        CHECK_STR(list[i].params[0].name, "c");
        CHECK_NEAR(list[i].params[0].value, 0.1 * (list[i].number + 1) + 0.08, 1e-12);
        CHECK_STR(list[i].params[18].name, "l_fc");
    }
    store_trials_free(&list, n);

    /* WAL: a person reading in the middle of a transaction does not block the
     * writer, and keeps seeing the snapshot the read started from */
    sqlite3 *rd = reader(store_path);
    CHECK(exec(rd, "BEGIN") == SQLITE_OK);
    long long before = q_int(rd, "SELECT count(*) FROM trials");
    CHECK(before > 0);
    add_trial(s, c, 11, 11, 12, NULL, 0.1, NULL);
    CHECK_INT(q_int(rd, "SELECT count(*) FROM trials"), before);
    CHECK(exec(rd, "COMMIT") == SQLITE_OK);
    CHECK_INT(q_int(rd, "SELECT count(*) FROM trials"), before + 1);
    sqlite3_close(rd);

    /* workers and events */
    store_worker_info w = {"wx", "hostx", 42, 2, "builtin"};
    CHECK(store_worker_seen(s, &w, &e) == 0);
    w.threads = 16;
    CHECK(store_worker_seen(s, &w, &e) == 0); /* update, not a second row */
    CHECK(store_worker_touch(s, "wx", &e) == 0);
    CHECK_INT(store_worker_touch(s, "nobody", &e), IM_ENOTFOUND);
    CHECK(store_worker_set_status(s, "wx", "lost", &e) == 0);
    CHECK_INT(store_worker_set_status(s, "wx", "sleepy", &e), IM_EINVAL);
    CHECK_INT(store_worker_set_status(s, "nobody", "gone", &e), IM_ENOTFOUND);
    store_worker_info anon = {0};
    CHECK_INT(store_worker_seen(s, &anon, &e), IM_EINVAL);
    json_t *ws = store_workers_json(s, &e);
    CHECK_INT(json_array_size(ws), 1);
    json_t *wj = json_array_get(ws, 0);
    CHECK_STR(json_string_value(json_object_get(wj, "status")), "lost");
    CHECK_INT(json_integer_value(json_object_get(wj, "threads")), 16);
    CHECK_INT(json_integer_value(json_object_get(wj, "trials_done")), 0);
    json_decref(ws);
    CHECK(store_event(s, "trial_lost", c, a, "w1", "lease expired", &e) == 0);
    CHECK(store_event(s, "bad_result", 0, 12345, NULL, NULL, &e) == 0); /* unknown trial: logged */
    CHECK_INT(store_event(s, NULL, 0, 0, NULL, NULL, &e), IM_EINVAL);

    /* attempts counted by how they ended: lost (a lease ran out) apart from
     * interrupted (a worker that shut down, a coordinator restart) */
    int lost = -1, interrupted = -1;
    CHECK(store_trial_attempt_counts(s, a, &lost, &interrupted, &e) == 0);
    CHECK_INT(lost, 1);
    CHECK_INT(interrupted, 0);
    int64_t r = add_trial(s, c, 40, 40, 41, NULL, 0.4, NULL);
    CHECK(store_trial_start(s, r, "w1", &att, &e) == 0);
    CHECK(store_trial_interrupted(s, r, att, "interrupted: the worker shut down", 1, &e) == 0);
    CHECK(store_trial_start(s, r, "w2", &att, &e) == 0);
    CHECK(store_requeue_running(s, NULL, &e) == 0);
    CHECK(store_trial_start(s, r, "w2", &att, &e) == 0);
    CHECK(store_trial_lost(s, r, att, "lease expired", 1, &e) == 0);
    CHECK(store_trial_attempt_counts(s, r, &lost, &interrupted, &e) == 0);
    CHECK_INT(lost, 1);
    CHECK_INT(interrupted, 2);
}

/* Counts of workers' done trials need the worker row to exist first. */
static void test_views_and_queries(const char *path)
{
    store *s = NULL;
    im_error e = {0};
    test_remove_db(path);
    CHECK_MSG(store_open(&s, path, NULL, &e) == 0, "%s", e.msg);
    if (!s) return;
    populated p = populate(s);

    /* resume: the coordinator restarts */
    store_campaign *camps = NULL;
    size_t nc = 0;
    CHECK(store_campaign_set_status(s, p.ablation, STORE_CAMPAIGN_DONE, &e) == 0);
    CHECK(store_campaign_list(
              s, STORE_MASK(STORE_CAMPAIGN_QUEUED) | STORE_MASK(STORE_CAMPAIGN_RUNNING), &camps,
              &nc, &e) == 0);
    CHECK_INT(nc, 1);
    if (nc == 1) {
        CHECK_STR(camps[0].name, "tpe-mnist");
        CHECK_CONTAINS(camps[0].spec_json, "\"name\"");
    }
    store_campaigns_free(&camps, nc);
    CHECK(store_campaign_list(s, 0, &camps, &nc, &e) == 0);
    CHECK_INT(nc, 2);
    store_campaigns_free(&camps, nc);

    store_trial *pend = NULL;
    size_t np = 0;
    unsigned pending = STORE_MASK(STORE_TRIAL_QUEUED) | STORE_MASK(STORE_TRIAL_RUNNING);
    CHECK(store_trial_list(s, p.search, pending, STORE_WITH_SPEC, &pend, &np, &e) == 0);
    CHECK_INT(np, 2);
    if (np == 2) {
        CHECK_INT(pend[0].id, p.running_trial);
        CHECK_INT(pend[0].status, STORE_TRIAL_RUNNING);
        CHECK_INT(pend[0].attempt, 1);
        CHECK_STR(pend[0].worker, "w2");
        CHECK_CONTAINS(pend[0].spec_json, "hidden");
        CHECK_INT(pend[1].id, p.queued_trial);
        CHECK_INT(pend[1].status, STORE_TRIAL_QUEUED);
    }
    store_trials_free(&pend, np);

    int64_t nreq = 0;
    CHECK(store_requeue_running(s, &nreq, &e) == 0);
    CHECK_INT(nreq, 1);
    CHECK(store_trial_list(s, 0, STORE_MASK(STORE_TRIAL_RUNNING), 0, &pend, &np, &e) == 0);
    CHECK_INT(np, 0);
    CHECK(pend == NULL);
    CHECK(store_trial_list(s, p.search, STORE_MASK(STORE_TRIAL_QUEUED), 0, &pend, &np, &e) == 0);
    CHECK_INT(np, 2);
    store_trials_free(&pend, np);

    store_trial *hist = NULL;
    size_t nh = 0;
    unsigned finished = STORE_MASK(STORE_TRIAL_DONE) | STORE_MASK(STORE_TRIAL_FAILED) |
                        STORE_MASK(STORE_TRIAL_PRUNED);
    CHECK(store_trial_list(s, p.search, finished, STORE_WITH_PARAMS, &hist, &nh, &e) == 0);
    CHECK_INT(nh, 6); /* numbers 0..4 done, 7 failed */
    if (nh == 6) {
        CHECK_INT(hist[1].number, 1);
        CHECK_NEAR(hist[1].val_acc, 0.95, 0);
        CHECK_INT(hist[1].n_params, 19);
        /* sorted by name: c, c_fl, c_l, cl, f, ... */
        CHECK_STR(hist[1].params[0].name, "c");
        CHECK_NEAR(hist[1].params[0].value, 0.1 + 8 / 100.0, 1e-12);
        CHECK_INT(hist[5].status, STORE_TRIAL_FAILED);
        CHECK(isnan(hist[5].val_acc));
    }
    store_trials_free(&hist, nh);
    store_counts cnt;
    CHECK(store_campaign_counts(s, p.search, &cnt, &e) == 0);
    CHECK_INT(cnt.next_number, 8);
    CHECK_INT(cnt.next_point, 8);
    CHECK_INT(cnt.best_trial, p.best_trial);

    /* JSON for the client verbs */
    json_t *best = store_best_json(s, p.search, 3, &e);
    CHECK_INT(json_array_size(best), 3);
    const double order[3] = {0.95, 0.93, 0.91};
    for (int i = 0; i < 3; i++) {
        json_t *o = json_array_get(best, (size_t)i);
        CHECK_INT(json_integer_value(json_object_get(o, "rank")), i + 1);
        CHECK_NEAR(json_real_value(json_object_get(o, "val_acc")), order[i], 0);
        CHECK_INT(json_object_size(json_object_get(o, "gamma")), 19);
    }
    CHECK_INT(json_integer_value(json_object_get(json_array_get(best, 0), "trial")), p.best_trial);
    json_decref(best);
    best = store_best_json(s, 0, 100, &e); /* over all campaigns: 5 + 11 done */
    CHECK_INT(json_array_size(best), 16);
    json_decref(best);

    json_t *prog = store_progress_json(s, p.search, &e);
    CHECK_INT(json_array_size(prog), 1);
    json_t *pr = json_array_get(prog, 0);
    CHECK_STR(json_string_value(json_object_get(pr, "name")), "tpe-mnist");
    CHECK_INT(json_integer_value(json_object_get(pr, "done")), 5);
    CHECK_INT(json_integer_value(json_object_get(pr, "queued")), 2);
    CHECK_INT(json_integer_value(json_object_get(pr, "failed")), 1);
    CHECK_INT(json_integer_value(json_object_get(pr, "trials")), 8);
    CHECK_INT(json_integer_value(json_object_get(pr, "best_trial")), p.best_trial);
    CHECK_NEAR(json_real_value(json_object_get(pr, "done_fraction")), 6.0 / 10.0, 1e-12);
    json_decref(prog);
    prog = store_progress_json(s, 0, &e);
    CHECK_INT(json_array_size(prog), 2);
    json_decref(prog);

    json_t *trials = store_trials_json(s, p.search, &e);
    CHECK_INT(json_array_size(trials), 8);
    CHECK(json_object_get(json_array_get(trials, 0), "spec") == NULL);
    json_t *g2 = json_object_get(json_array_get(trials, 2), "gamma");
    CHECK_INT(json_object_size(g2), 19);
    CHECK_NEAR(json_real_value(json_object_get(g2, "f_c_l")), 0.2, 1e-12);
    CHECK_NEAR(json_real_value(json_object_get(g2, "h_res")), 0.38, 1e-12);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(trials, 2), "number")), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(trials, 7), "error")), "diverged");

    /* the same trials page by page: each once, in order, with its gamma */
    int64_t from = 0, next = 0;
    size_t seen = 0;
    for (int pages = 0; from >= 0 && pages < 10; pages++) {
        json_t *page = store_trials_page_json(s, p.search, from, 3, &next, &e);
        CHECK_MSG(page != NULL, "%s", e.msg);
        if (!page) break;
        CHECK(json_array_size(page) <= 3);
        size_t i;
        json_t *o;
        json_array_foreach(page, i, o)
        {
            json_t *all = json_array_get(trials, seen++);
            CHECK_INT(json_integer_value(json_object_get(o, "trial")),
                      json_integer_value(json_object_get(all, "trial")));
            CHECK(json_equal(json_object_get(o, "gamma"), json_object_get(all, "gamma")));
        }
        CHECK_INT(next, json_array_size(page) == 3 && seen < 8 ? (int64_t)seen : -1);
        json_decref(page);
        from = next;
    }
    CHECK_INT(seen, 8);
    json_decref(trials);

    json_t *ex = store_export_json(s, p.search, &e);
    json_t *t1 = json_array_get(ex, 1);
    CHECK_INT(json_array_size(json_object_get(t1, "epochs")), 10);
    CHECK_INT(json_object_size(json_object_get(json_object_get(t1, "atoms"), "hidden")), 19);
    CHECK_INT(json_object_size(json_object_get(json_object_get(t1, "atoms"), "output")), 5);
    CHECK_NEAR(json_real_value(
                   json_object_get(json_object_get(json_object_get(t1, "atoms"), "output"), "fc")),
               0.3, 1e-12);
    json_decref(ex);

    json_t *ws = store_workers_json(s, &e);
    CHECK_INT(json_array_size(ws), 2);
    /* w1: search 0, 2, 4 (second attempt) + 11 ablation = 14; w2: 1, 3 */
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ws, 0), "trials_done")), 14);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ws, 1), "trials_done")), 2);
    json_decref(ws);
    store_close(&s);

    /* the views, read as a person would, while nothing holds the store */
    sqlite3 *db = reader(path);
    char sql[512];
    /* best_trials: per campaign, rank 1.. by val_acc */
    snprintf(sql, sizeof sql,
             "SELECT group_concat(val_acc, ' ') FROM (SELECT val_acc FROM best_trials "
             "WHERE campaign = 'tpe-mnist' ORDER BY rank)");
    CHECK_STR(q_text(db, sql), "0.95 0.93 0.91 0.9 0.85");
    CHECK_INT(q_int(db, "SELECT trial FROM best_trials WHERE campaign = 'tpe-mnist' AND rank = 1"),
              p.best_trial);
    CHECK_INT(q_int(db, "SELECT count(*) FROM best_trials WHERE rank = 1"), 2);
    CHECK_NEAR(q_real(db, "SELECT val_acc FROM best_trials WHERE campaign = 'ablation-optimized' "
                          "AND rank = 1"),
               0.94, 0);

    /* trial_gamma_wide: 10 leading columns, then the 19 short names in order */
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT * FROM trial_gamma_wide", -1, &st, NULL) == SQLITE_OK);
    CHECK_INT(sqlite3_column_count(st), 10 + 19);
    for (int j = 0; j < 19 && sqlite3_column_count(st) == 29; j++)
        CHECK_STR(sqlite3_column_name(st, 10 + j), test_gamma3_names[j]);
    CHECK_STR(sqlite3_column_name(st, 0), "trial");
    sqlite3_finalize(st);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_gamma_wide"), 8 + 12);
    snprintf(sql, sizeof sql,
             "SELECT f_c_l || ' ' || fc || ' ' || h_res FROM trial_gamma_wide "
             "WHERE campaign = 'tpe-mnist' AND number = 2");
    CHECK_STR(q_text(db, sql), "0.2 0.34 0.38");
    CHECK_NEAR(q_real(db, "SELECT f_c FROM trial_gamma_wide WHERE label = 'f_c' LIMIT 1"), 0, 0);

    /* campaign_progress */
    CHECK_INT(q_int(db, "SELECT done FROM campaign_progress WHERE campaign = 'ablation-optimized'"),
              11);
    CHECK_INT(q_int(db, "SELECT failed FROM campaign_progress "
                        "WHERE campaign = 'ablation-optimized'"),
              1);
    CHECK_NEAR(q_real(db, "SELECT done_fraction FROM campaign_progress "
                          "WHERE campaign = 'ablation-optimized'"),
               1.0, 1e-12);
    CHECK_NEAR(q_real(db, "SELECT best_val_acc FROM campaign_progress "
                          "WHERE campaign = 'tpe-mnist'"),
               0.95, 0);
    CHECK_INT(q_int(db, "SELECT queued FROM campaign_progress WHERE campaign = 'tpe-mnist'"), 2);
    CHECK_INT(q_int(db, "SELECT running FROM campaign_progress WHERE campaign = 'tpe-mnist'"), 0);

    /* ablation_effects: base mean 0.92; f_c: -0.42 -0.37 -0.32; fl: 0.01 -0.01 0;
     * successive step 1 (f_c): -0.52 -0.47; the stage tells the individual
     * f_c from the successive one */
#define IND   "stage = 'individual' AND "
#define SUCC2 "stage = 'successive' AND n_ablated = 1"
    CHECK_INT(q_int(db, "SELECT count(*) FROM ablation_effects"), 3);
    CHECK_STR(q_text(db, "SELECT group_concat(ablated || n_ablated, ' ') FROM ablation_effects"),
              "f_c1 fl1 f_c1");
    CHECK_NEAR(q_real(db, "SELECT base_val_acc FROM ablation_effects WHERE " IND "ablated = 'f_c'"),
               0.92, 1e-12);
    CHECK_INT(q_int(db, "SELECT base_n FROM ablation_effects WHERE " IND "ablated = 'f_c'"), 3);
    CHECK_NEAR(
        q_real(db, "SELECT mean_delta_val FROM ablation_effects WHERE " IND "ablated = 'f_c'"),
        -0.37, 1e-12);
    CHECK_NEAR(q_real(db, "SELECT sd_delta_val FROM ablation_effects WHERE " IND "ablated = 'f_c'"),
               0.05, 1e-12);
    CHECK_NEAR(
        q_real(db, "SELECT min_delta_val FROM ablation_effects WHERE " IND "ablated = 'f_c'"),
        -0.42, 1e-12);
    CHECK_NEAR(
        q_real(db, "SELECT mean_delta_val FROM ablation_effects WHERE " IND "ablated = 'fl'"), 0.0,
        1e-12);
    CHECK_NEAR(q_real(db, "SELECT sd_delta_val FROM ablation_effects WHERE " IND "ablated = 'fl'"),
               0.01, 1e-12);
    CHECK_INT(q_int(db, "SELECT n FROM ablation_effects WHERE " IND "ablated = 'fl'"),
              3); /* not failed */
    CHECK_STR(q_text(db, "SELECT ablated FROM ablation_effects WHERE " SUCC2), "f_c");
    CHECK_NEAR(q_real(db, "SELECT mean_delta_val FROM ablation_effects WHERE " SUCC2), -0.495,
               1e-12);
    CHECK_NEAR(q_real(db, "SELECT sd_delta_val FROM ablation_effects WHERE " SUCC2),
               0.05 / sqrt(2.0), 1e-12);
    /* test accuracies are val - 0.01 throughout, so the test deltas equal the val deltas */
    CHECK_NEAR(
        q_real(db, "SELECT mean_delta_test FROM ablation_effects WHERE " IND "ablated = 'f_c'"),
        -0.37, 1e-12);

    /* ablation_successive: the base, then f_c removed */
    CHECK_STR(q_text(db, "SELECT group_concat(n_removed || ':' || removed || ':' || n, ' ') FROM "
                         "ablation_successive WHERE campaign = 'ablation-optimized'"),
              "0::3 1:f_c:2");
    CHECK_NEAR(q_real(db, "SELECT mean_val_acc FROM ablation_successive WHERE n_removed = 1"),
               0.425, 1e-12);
    CHECK_NEAR(q_real(db, "SELECT min_val_acc FROM ablation_successive WHERE n_removed = 1"), 0.40,
               1e-12);
    CHECK_NEAR(q_real(db, "SELECT max_val_acc FROM ablation_successive WHERE n_removed = 0"), 0.94,
               1e-12);
    CHECK_STR(q_text(db, "SELECT last FROM ablation_successive WHERE n_removed = 1"), "f_c");
#undef SUCC2

    /* point_summary: the three base seeds */
    CHECK_NEAR(q_real(db, "SELECT mean_val_acc FROM point_summary "
                          "WHERE campaign = 'ablation-optimized' AND point = 0"),
               0.92, 1e-12);
    CHECK_NEAR(q_real(db, "SELECT sd_val_acc FROM point_summary "
                          "WHERE campaign = 'ablation-optimized' AND point = 0"),
               0.02, 1e-12);

    /* attempts and the audit trail of the lost trial */
    snprintf(sql, sizeof sql,
             "SELECT group_concat(status || ':' || worker, ' ') FROM (SELECT status, worker FROM "
             "trial_attempts WHERE trial_id = %lld ORDER BY attempt)",
             (long long)p.lost_trial);
    CHECK_STR(q_text(db, sql), "lost:w2 done:w1");
    snprintf(sql, sizeof sql,
             "SELECT group_concat(status, ' ') FROM (SELECT status FROM trial_attempts "
             "WHERE trial_id = %lld ORDER BY attempt)",
             (long long)p.running_trial);
    CHECK_STR(q_text(db, sql), "interrupted");
    /* the lost attempt's partial curve was replaced by the second attempt's */
    snprintf(sql, sizeof sql, "SELECT max(val_acc) FROM trial_epochs WHERE trial_id = %lld",
             (long long)p.lost_trial);
    CHECK_NEAR(q_real(db, sql), 0.91, 1e-12);
    sqlite3_close(db);
}

/* ---- the README's example queries ---- */

/* Drop "--" comment lines and collapse whitespace, so the file and the
 * README compare by their SQL alone. Returns a new string. */
static char *normalise(const char *sql, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    int at_line_start = 1, space = 0;
    for (size_t i = 0; i < len; i++) {
        if (at_line_start) {
            size_t j = i;
            while (j < len && (sql[j] == ' ' || sql[j] == '\t')) j++;
            if (j + 1 < len && sql[j] == '-' && sql[j + 1] == '-') {
                while (j < len && sql[j] != '\n') j++;
                i = j;
                continue;
            }
        }
        char c = sql[i];
        at_line_start = c == '\n';
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = 1;
            continue;
        }
        if (space && o) out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    out[o] = 0;
    return out;
}

#define MAX_QUERIES 16

/* The ```sql blocks of the README section "Querying the trial database". */
static int readme_queries(const char *readme, char **q)
{
    const char *sec = strstr(readme, "\n## Querying the trial database");
    if (!sec) return 0;
    const char *end = strstr(sec + 4, "\n## ");
    if (!end) end = sec + strlen(sec);
    int n = 0;
    const char *p = sec;
    while (n < MAX_QUERIES && (p = strstr(p, "```sql\n")) && p < end) {
        p += 7;
        const char *close = strstr(p, "```");
        if (!close || close > end) break;
        q[n++] = normalise(p, (size_t)(close - p));
        p = close + 3;
    }
    return n;
}

/* The statements of tests/data/readme_queries.sql, split where SQLite says a
 * statement is complete. */
static int file_queries(const char *text, char **q)
{
    int n = 0;
    size_t start = 0, len = strlen(text);
    for (size_t i = 0; i < len && n < MAX_QUERIES; i++) {
        if (text[i] != ';') continue;
        char *piece = strndup(text + start, i + 1 - start);
        if (sqlite3_complete(piece)) {
            q[n++] = normalise(piece, strlen(piece));
            start = i + 1;
        }
        free(piece);
    }
    return n;
}

static void test_readme_queries(const char *populated_db)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../../README.md", test_data_dir());
    char *readme = test_read_file(path, NULL);
    CHECK_MSG(readme != NULL, "cannot read %s", path);
    snprintf(path, sizeof path, "%s/readme_queries.sql", test_data_dir());
    char *file = test_read_file(path, NULL);
    CHECK_MSG(file != NULL, "cannot read %s", path);
    if (!readme || !file) {
        free(readme);
        free(file);
        return;
    }
    char *rq[MAX_QUERIES], *fq[MAX_QUERIES];
    int nr = readme_queries(readme, rq), nf = file_queries(file, fq);
    CHECK_INT(nr, 5);
    CHECK_INT(nf, nr);
    for (int i = 0; i < nr && i < nf; i++)
        CHECK_MSG(strcmp(rq[i], fq[i]) == 0, "query %d differs:\nREADME: %s\nfile:   %s", i + 1,
                  rq[i], fq[i]);

    sqlite3 *db = reader(populated_db);
    for (int i = 0; i < nr; i++) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, rq[i], -1, &st, &tail);
        CHECK_MSG(rc == SQLITE_OK, "README query %d: %s\n%s", i + 1, sqlite3_errmsg(db), rq[i]);
        CHECK_MSG(tail && strspn(tail, " \n") == strlen(tail), "query %d is not one statement",
                  i + 1);
        int rows = 0;
        while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) rows++;
        CHECK_MSG(st == NULL || rc == SQLITE_DONE, "README query %d: %s", i + 1,
                  sqlite3_errmsg(db));
        CHECK_MSG(rows > 0, "README query %d returned no rows:\n%s", i + 1, rq[i]);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    for (int i = 0; i < nr; i++) free(rq[i]);
    for (int i = 0; i < nf; i++) free(fq[i]);
    free(readme);
    free(file);
}

static void test_status_names(void)
{
    store_trial_status t;
    store_campaign_status c;
    store_attempt_status a;
    CHECK_STR(store_trial_status_name(STORE_TRIAL_PRUNED), "pruned");
    CHECK_STR(store_campaign_status_name(STORE_CAMPAIGN_CANCELLED), "cancelled");
    CHECK_STR(store_attempt_status_name(STORE_ATTEMPT_INTERRUPTED), "interrupted");
    CHECK_STR(store_trial_status_name((store_trial_status)42), "?");
    CHECK(store_trial_status_parse("cancelled", &t) == 0 && t == STORE_TRIAL_CANCELLED);
    CHECK(store_campaign_status_parse("failed", &c) == 0 && c == STORE_CAMPAIGN_FAILED);
    CHECK(store_campaign_status_parse("waiting", &c) == 0 && c == STORE_CAMPAIGN_WAITING);
    CHECK(store_attempt_status_parse("lost", &a) == 0 && a == STORE_ATTEMPT_LOST);
    CHECK_INT(store_trial_status_parse("lost", &t), IM_ENOTFOUND);
    CHECK_INT(store_campaign_status_parse(NULL, &c), IM_ENOTFOUND);
}

/* A decoded result's curve and atoms are written from the struct, both or
 * neither. */
static void test_trial_data(void)
{
    char path[400];
    store *s = open_fresh(path, sizeof path, "data.db");
    if (!s) return;
    im_error e = {0};
    int64_t c = add_campaign(s, "data", "fixed", -1, 1);
    int64_t id = add_trial(s, c, 0, 0, 1, NULL, 0.5, NULL);
    im_epoch_stats curve[2] = {epoch_rec(0, NAN, 0.1, 0.1, 0.5, 0.25, 0.5),
                               epoch_rec(1, 0.8, 0.75, 0.7, 0.5, 0.25, 2)};
    im_trial_atom atoms[2] = {{"hidden", "f_c", 0.5}, {"output", "h_res", 1.25}};
    im_trial_result r = {.trial = id,
                         .attempt = 1,
                         .status = IM_RESULT_DONE,
                         .curve = curve,
                         .n_curve = 2,
                         .atoms = atoms,
                         .n_atoms = 2};
    CHECK_MSG(store_trial_data_insert(s, id, &r, &e) == 0, "%s", e.msg);
    /* a bad atom: neither the new epoch nor the atom is written */
    im_epoch_stats more = epoch_rec(2, 0.9, 0.8, 0.8, 0.5, 0.25, 2);
    im_trial_atom bad = {"hidden", "f", NAN};
    im_trial_result r2 = {.curve = &more, .n_curve = 1, .atoms = &bad, .n_atoms = 1};
    CHECK_INT(store_trial_data_insert(s, id, &r2, &e), IM_EINVAL);
    store_close(&s);

    sqlite3 *db = reader(path);
    if (!db) return;
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_epochs"), 2);
    CHECK_NEAR(q_real(db, "SELECT val_acc FROM trial_epochs WHERE epoch = 1"), 0.75, 0);
    CHECK(isnan(q_real(db, "SELECT train_acc FROM trial_epochs WHERE epoch = 0")));
    CHECK_NEAR(q_real(db, "SELECT seconds FROM trial_epochs WHERE epoch = 1"), 2, 0);
    CHECK_INT(q_int(db, "SELECT count(*) FROM trial_atoms"), 2);
    CHECK_NEAR(q_real(db, "SELECT value FROM trial_atoms WHERE layer = 'output'"), 1.25, 0);
    sqlite3_close(db);
}

int main(void)
{
    if (test_mkdtemp(dir, sizeof dir, NULL, "test_store") != 0) return 1;

    test_status_names();
    test_fresh_and_reopen();
    test_upgrade_from_each_version();
    test_database_id();
    test_stage_backfill();
    test_attempt_resumes();
    test_waiting_migration();
    test_newer_and_foreign_refused();
    test_trial_data();

    char path[400];
    store *s = open_fresh(path, sizeof path, "api.db");
    if (s) test_writes_attempts_and_errors(s, path);
    store_close(&s);

    db_path(path, sizeof path, "views.db");
    test_views_and_queries(path);
    test_readme_queries(path);

    if (test_rm_tree(dir) != 0) fprintf(stderr, "note: %s left behind\n", dir);
    return TEST_END();
}
