/*
 * report.c: `infomorph report CAMPAIGN [--html FILE] [--db FILE]`: a
 * campaign's report, as text tables or as one self-contained HTML page,
 * from the coordinator (EXPORT) or, read-only, from a database file.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_HTML = CLI_OPT_LONG, OPT_DB };

typedef struct report_opts {
    const char *html; /* --html FILE, or NULL: text on standard output */
    const char *db;   /* --db FILE, or NULL: ask the coordinator */
} report_opts;

static int report_option(int c, int argc, char **argv, void *user)
{
    report_opts *o = user;
    (void)argc, (void)argv;
    if (c == OPT_HTML)
        o->html = optarg;
    else
        o->db = optarg;
    return CLI_CONTINUE;
}

/* Write the HTML page to path (removed again on failure). */
static int write_html(const report *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "infomorph report: unable to open '%s': %s\n", path, strerror(errno));
        return CLI_ERROR;
    }
    int failed = report_html(f, r) != 0;
    failed |= ferror(f) != 0;
    failed |= fclose(f) != 0;
    if (failed) {
        fprintf(stderr, "infomorph report: unable to write '%s'\n", path);
        remove(path);
        return CLI_ERROR;
    }
    return CLI_OK;
}

int cli_report_main(int argc, char **argv)
{
    cli_args a = {.verb = "report"};
    report_opts o = {0};
    static const struct option longopts[] = {{"html", required_argument, NULL, OPT_HTML},
                                             {"db", required_argument, NULL, OPT_DB},
                                             CLI_CLIENT_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    static const cli_syntax syntax = {
        .help = "usage: infomorph report CAMPAIGN [--html FILE] [--db FILE] "
                "[--connect ENDPOINT]\n\n"
                "A campaign's report: the summary, the best trials, parameter importance\n"
                "and, for ablation campaigns, the effect of each ablated component.\n"
                "With --html, one self-contained HTML file with the plots (optimisation\n"
                "history, best goals, importance, learning curves, PID atom profiles,\n"
                "ablation stages), each beside a table of its numbers.\n\n"
                "  --html FILE         write the HTML report to FILE\n"
                "  --db FILE           read the trial database FILE (read-only) instead of\n"
                "                      asking the coordinator\n",
        .optstring = CLI_CLIENT_SHORTOPTS,
        .longopts = longopts,
        .option = report_option,
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    int rc = cli_parse(&a, &syntax, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;

    json_t *campaign = NULL, *trials = NULL;
    if (o.db) {
        im_error err = {0};
        int e = report_fetch_db(o.db, a.pos[0], &campaign, &trials, &err);
        if (e) {
            fprintf(stderr, "infomorph report: %s\n", err.msg);
            return CLI_ERROR;
        }
    } else if ((rc = report_fetch_export(&a, &campaign, &trials))) {
        return rc;
    }
    report r;
    im_error err = {0};
    if (report_build(&r, campaign, trials, &err)) {
        fprintf(stderr, "infomorph report: %s\n", err.msg);
        rc = CLI_ERROR;
    } else {
        if (o.html) {
            rc = write_html(&r, o.html);
        } else {
            report_text(stdout, &r);
            rc = fflush(stdout) ? CLI_ERROR : CLI_OK;
        }
        report_release(&r);
    }
    json_decref(campaign);
    json_decref(trials);
    return rc;
}
