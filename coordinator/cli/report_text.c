/*
 * report_text.c: `infomorph report CAMPAIGN` without --html: the report as
 * plain-text tables (report.h), for a terminal or a mail.
 */
#include "report.h"

#include <math.h>
#include <string.h>

static const char *num(char *buf, size_t n, double x, int digits)
{
    return cli_fmt_num(buf, n, x, digits);
}

static void summary(FILE *f, const report *r)
{
    char b[64];
    fprintf(f, "campaign %s (id %lld, %s, %s)\n", r->name, r->id, r->kind, r->status);
    if (*r->dataset)
        fprintf(f, "training: dataset %s, setup %s, hidden %lld, epochs %lld\n", r->dataset,
                *r->setup ? r->setup : "-", r->hidden, r->epochs);
    fprintf(f, "trials: %zu", r->n_trials);
    for (int s = 0; s < REPORT_N_STATUSES; s++)
        if (r->count[s]) fprintf(f, ", %s %lld", report_statuses[s], r->count[s]);
    fprintf(f, "\ncompute: %s of training on %d worker%s\n",
            cli_fmt_duration(b, sizeof b, r->compute_s), r->n_workers,
            r->n_workers == 1 ? "" : "s");
    fprintf(f, "time span: created %s, started %s, finished %s\n",
            *r->created_at ? r->created_at : "-", *r->started_at ? r->started_at : "-",
            *r->finished_at ? r->finished_at : "-");
}

/* The width of parameter p's column: its name, at least 7. */
static int col_width(const report *r, int p)
{
    int n = (int)strlen(r->param[p]);
    return n > 7 ? n : 7;
}

static void best(FILE *f, const report *r)
{
    char b1[32], b2[32];
    fprintf(f, "\nbest trials (validation accuracy)\n");
    if (!r->n_ranked) {
        fprintf(f, "no finished trials yet\n");
        return;
    }
    fprintf(f, "%-5s %-7s %-7s %-7s", "RANK", "TRIAL", "VAL", "TEST");
    for (int p = 0; p < r->n_params; p++) fprintf(f, " %*s", col_width(r, p), r->param[p]);
    fprintf(f, "\n");
    for (size_t i = 0; i < r->n_ranked && i < REPORT_BEST_ROWS; i++) {
        const report_trial *t = &r->trials[r->ranked[i]];
        fprintf(f, "%-5zu %-7lld %-7s %-7s", i + 1, t->number, num(b1, sizeof b1, t->val, 4),
                num(b2, sizeof b2, t->test, 4));
        for (int p = 0; p < r->n_params; p++)
            fprintf(f, " %*s", col_width(r, p), num(b1, sizeof b1, t->param[p], 3));
        fprintf(f, "\n");
    }
}

static void importance(FILE *f, const report *r)
{
    char b1[32], b2[32];
    if (!r->imp_n || !strcmp(r->kind, "ablation")) return; /* see the stages instead */
    fprintf(f,
            "\nparameter importance (eta^2 of validation accuracy over %d quantile bins of each "
            "parameter, %zu done trials; noise alone gives about %.3f)\n",
            r->imp_bins, r->imp_n, (double)(r->imp_bins - 1) / (double)(r->imp_n - 1));
    fprintf(f, "%-10s %-14s %-7s %-7s\n", "PARAM", "ATOM", "ETA2", "SHARE");
    for (int p = 0; p < r->n_params; p++)
        fprintf(f, "%-10s %-14s %-7s %-7s\n", r->param[p], r->param_label[p],
                num(b1, sizeof b1, r->eta2[p], 3), num(b2, sizeof b2, r->imp[p], 3));
}

static void ablation(FILE *f, const report *r)
{
    char b1[32], b2[32], b3[32], b4[32];
    if (strcmp(r->kind, "ablation")) return;
    fprintf(f,
            "\nablation stage 1: change of validation accuracy against the base (mean %s, "
            "sd %s, n %d)\n",
            num(b1, sizeof b1, r->base_mean, 4), num(b2, sizeof b2, r->base_sd, 4), r->base_n);
    if (!r->n_ablations) {
        fprintf(f, "no finished ablation trials yet\n");
    } else {
        fprintf(f, "%-10s %-14s %-9s %-8s %-9s %-9s %s\n", "ABLATED", "ATOM", "MEAN", "SD", "MIN",
                "MAX", "N");
        for (int g = 0; g < r->n_ablations; g++) {
            const report_ablation *a = &r->ablations[g];
            fprintf(f, "%-10s %-14s %-9s %-8s %-9s %-9s %d\n", a->label, a->braced,
                    num(b1, sizeof b1, a->mean, 4), num(b2, sizeof b2, a->sd, 4),
                    num(b3, sizeof b3, a->min, 4), num(b4, sizeof b4, a->max, 4), a->n);
        }
    }
    if (!r->n_steps) return;
    fprintf(f, "\nablation stage 2: validation accuracy as components are removed cumulatively\n");
    fprintf(f, "%-8s %-9s %-9s %-9s %-4s %s\n", "REMOVED", "MEAN", "MIN", "MAX", "N", "WHICH");
    for (int s = 0; s < r->n_steps; s++) {
        const report_step *st = &r->steps[s];
        fprintf(f, "%-8d %-9s %-9s %-9s %-4d %s\n", st->removed, num(b1, sizeof b1, st->mean, 4),
                num(b2, sizeof b2, st->min, 4), num(b3, sizeof b3, st->max, 4), st->n, st->label);
    }
}

void report_text(FILE *f, const report *r)
{
    summary(f, r);
    best(f, r);
    importance(f, r);
    ablation(f, r);
}
