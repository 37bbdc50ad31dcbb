/*
 * replay_pruner: what the median (or percentile) pruner would have done to an unpruned
 * search, exactly and for free. The done trials of CAMPAIGN in the trial
 * database are replayed in the order they finished: at every epoch from 1
 * to the last but one, the trial's best validation accuracy so far is put
 * to the pruner (as the coordinator does at each PROGRESS; the last epoch's
 * report arrives when the trial is over); a trial the pruner stops counts
 * the epochs it ran and is not added; one that runs to the end is added, as
 * a completed trial is (the median pruner's reference are the completed
 * trials only). Reported per warm-up: trials pruned, the training
 * epochs saved (fraction of the unpruned search's), and how many of the 10
 * best goals (by final validation accuracy) would have been stopped.
 *
 * The sequence of goals is the unpruned search's: a pruned search would
 * also change what the sampler proposes next (TPE sees pruned points), so
 * this measures the rule, not a whole pruned search.
 *
 *   replay_pruner [--keep P] DB CAMPAIGN [n_startup_trials [warmup...]]
 *     defaults: the median pruner (--keep P: the percentile pruner keeping
 *     P %); 5 start-up trials; warm-ups 0 (= 1: epoch 0 never counts), 2, 3
 *     and half the epochs
 */
#include "pruner.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct curve {
    int64_t id;
    double final; /* the trial's val_acc */
    int n;        /* epochs 0..n-1 */
    double *val;  /* [n], NAN where missing */
} curve;

static int load(const char *path, const char *campaign, curve **out, int *n_out, int *epochs)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "replay_pruner: unable to open '%s': %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    const char *sql = "SELECT t.id, t.val_acc, e.epoch, e.val_acc FROM trials t "
                      "JOIN campaigns c ON c.id = t.campaign_id "
                      "JOIN trial_epochs e ON e.trial_id = t.id "
                      "WHERE c.name = ?1 AND t.status = 'done' "
                      "ORDER BY t.finished_at, t.id, e.epoch";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "replay_pruner: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
    curve *v = NULL;
    int n = 0, cap = 0;
    *epochs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int ep = sqlite3_column_int(st, 2);
        if (ep < 0 || ep > 10000) continue;
        if (!n || v[n - 1].id != id) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                v = im_xrealloc(v, (size_t)cap * sizeof *v);
            }
            v[n++] = (curve){.id = id, .final = sqlite3_column_double(st, 1), .n = 0, .val = NULL};
        }
        curve *c = &v[n - 1];
        if (ep >= c->n) {
            c->val = im_xrealloc(c->val, (size_t)(ep + 1) * sizeof *c->val);
            for (int k = c->n; k <= ep; k++) c->val[k] = NAN;
            c->n = ep + 1;
        }
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) c->val[ep] = sqlite3_column_double(st, 3);
        if (c->n - 1 > *epochs) *epochs = c->n - 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    *out = v;
    *n_out = n;
    return 0;
}

static int cmp_final_desc(const void *a, const void *b)
{
    double x = ((const curve *)a)->final, y = ((const curve *)b)->final;
    return (x < y) - (x > y);
}

/* Replay with one warm-up; prints one table row. */
static void replay(const curve *v, int n, int epochs, double keep, int startup, int warmup,
                   const int64_t *top, int n_top)
{
    im_pruner_spec spec = {.kind = keep > 0 ? IM_PRUNER_PERCENTILE : IM_PRUNER_MEDIAN,
                           .n_startup_trials = startup,
                           .n_warmup_epochs = warmup,
                           .percentile = keep};
    pruner *p = pruner_new(&spec);
    long ran = 0, full = 0;
    int pruned = 0, top_pruned = 0;
    char which[256] = "";
    for (int i = 0; i < n; i++) {
        const curve *c = &v[i];
        double best = NAN;
        int stop = 0, e = 1;
        /* the last epoch's report comes when training is over: the trial
         * is done before a STOP could reach it */
        for (; e < c->n - 1; e++) {
            if (isfinite(c->val[e]) && !(best >= c->val[e])) best = c->val[e];
            if ((stop = pruner_should_stop(p, e, best))) break;
        }
        ran += stop ? e : c->n - 1;
        full += c->n - 1;
        if (!stop) {
            pruner_add(p, c->val, c->n);
            continue;
        }
        pruned++;
        for (int k = 0; k < n_top; k++)
            if (top[k] == c->id) {
                top_pruned++;
                size_t len = strlen(which);
                snprintf(which + len, sizeof which - len, "%s#%d (%.3f)", len ? ", " : "", k + 1,
                         c->final);
            }
    }
    printf("| %2d%s | %3d of %d | %5.1f %% | %d%s%s |\n", warmup,
           warmup == epochs / 2 ? " (half)" : "", pruned, n,
           full ? 100.0 * (double)(full - ran) / (double)full : 0.0, top_pruned,
           top_pruned ? ": " : "", which);
    pruner_free(&p);
}

int main(int argc, char **argv)
{
    static const char usage[] = "usage: replay_pruner [--keep P] DB CAMPAIGN [n_startup_trials "
                                "[warmup...]]\n"
                                "  replays the done trials of an unpruned search through the "
                                "median pruner\n"
                                "  (--keep P: the percentile pruner keeping P %%, 0 < P <= 100)\n";
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf(usage);
        return 0;
    }
    double keep = 0; /* 0: the median pruner */
    if (argc > 2 && !strcmp(argv[1], "--keep")) {
        keep = atof(argv[2]);
        if (!(keep > 0 && keep <= 100)) {
            fprintf(stderr, "replay_pruner: --keep must be a share in (0, 100]\n");
            return 2;
        }
        argv += 2;
        argc -= 2;
    }
    if (argc < 3) {
        fprintf(stderr, usage);
        return 2;
    }
    curve *v = NULL;
    int n = 0, epochs = 0;
    if (load(argv[1], argv[2], &v, &n, &epochs) != 0) return 1;
    if (n == 0) {
        fprintf(stderr, "replay_pruner: campaign '%s' has no done trial with a curve\n", argv[2]);
        return 1;
    }
    int startup = argc > 3 ? atoi(argv[3]) : 5;
    /* the 10 best goals of the unpruned search */
    curve *sorted = im_xmalloc_array((size_t)n, sizeof *sorted);
    memcpy(sorted, v, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_final_desc);
    int64_t top[10];
    int n_top = n < 10 ? n : 10;
    for (int k = 0; k < n_top; k++) top[k] = sorted[k].id;
    char rule[64];
    if (keep > 0)
        snprintf(rule, sizeof rule, "percentile pruner keeping %g %%", keep);
    else
        snprintf(rule, sizeof rule, "median pruner");
    printf("campaign %s: %d done trials, %d epochs, %s with %d start-up trials; "
           "best goal %.4f, 10th %.4f\n\n",
           argv[2], n, epochs, rule, startup, sorted[0].final, sorted[n_top - 1].final);
    free(sorted);
    printf("| warm-up | pruned | epochs saved | 10 best goals pruned |\n|---|---|---|---|\n");
    if (argc > 4) {
        for (int i = 4; i < argc; i++)
            replay(v, n, epochs, keep, startup, atoi(argv[i]), top, n_top);
    } else {
        int w[] = {0, 2, 3, epochs / 2};
        for (int i = 0; i < 4; i++)
            if (i < 3 || w[i] > 3) replay(v, n, epochs, keep, startup, w[i], top, n_top);
    }
    for (int i = 0; i < n; i++) free(v[i].val);
    free(v);
    return 0;
}
