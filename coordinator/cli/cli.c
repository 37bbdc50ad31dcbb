/*
 * cli.c: `infomorph`, the command for people. Takes the global options (those
 * before the verb) and dispatches to one function per verb (VERB.c); this
 * file only knows the table of verbs.
 *
 * A global option means the same as after the verb: `infomorph --connect EP
 * status` runs `status --connect EP`, so each verb's own parser stays the one
 * place that reads it (and a --connect after the verb wins).
 */
#include "cli.h"
#include "client.h"
#include "im.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    int remote; /* talks to a coordinator: takes --connect */
    const char *summary;
} cli_verb;

static const cli_verb verbs[] = {
    {"pid", cli_pid_main, 0, "compute the PID atoms of a joint distribution given as JSON"},
    {"train", cli_train_main, 0, "train one network from a trial spec on this machine"},
    {"keygen", cli_keygen_main, 0, "write a CurveZMQ key pair NAME.key and NAME.pub"},
    {"submit", cli_submit_main, 1, "queue a campaign from a JSON file"},
    {"status", cli_status_main, 1, "progress of a campaign (or all); --watch to follow it"},
    {"ls", cli_ls_main, 1, "list the campaigns"},
    {"best", cli_best_main, 1, "the best trials of a campaign with their gamma"},
    {"trials", cli_trials_main, 1, "every trial of a campaign"},
    {"cancel", cli_cancel_main, 1, "cancel a campaign"},
    {"export", cli_export_main, 1, "a campaign's trials as CSV or JSON"},
    {"report", cli_report_main, 1, "a campaign's report as text, or --html with plots"},
    {"workers", cli_workers_main, 1, "the workers the coordinator knows"},
    {"backup", cli_backup_main, 1, "write a consistent copy of the coordinator's database"},
};

enum { OPT_VERSION = CLI_OPT_LONG };

static void usage(FILE *out)
{
    fprintf(out, "usage: infomorph [--connect ENDPOINT] VERB [options]   (infomorph VERB --help "
                 "for details)\n\n"
                 "infomorph optimises the goal functions of infomorphic neurons.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nglobal options (before the verb; --connect also after it):\n"
                 "  --connect ENDPOINT  the coordinator's client endpoint, for the verbs that\n"
                 "                      talk to one (default $INFOMORPH_CONNECT, else\n"
                 "                      " CLI_DEFAULT_CONNECT ")\n"
                 "  -h, --help          this text\n"
                 "  --version           the version of infomorph\n");
}

static const cli_verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(name, verbs[i].name)) return &verbs[i];
    return NULL;
}

/* Run verb v on argv[0..argc-1] (argv[0] the verb), with "--connect
 * connect" first among its options if connect is not NULL. */
static int run_verb(const cli_verb *v, int argc, char **argv, char *connect)
{
    if (!connect) return v->fn(argc, argv);
    if (!v->remote) {
        fprintf(stderr,
                "infomorph: --connect is for the verbs that talk to a coordinator, not %s\n",
                v->name);
        return CLI_USAGE;
    }
    char **args = im_xmalloc_array((size_t)argc + 3, sizeof *args);
    args[0] = argv[0];
    args[1] = "--connect";
    args[2] = connect;
    memcpy(args + 3, argv + 1, (size_t)argc * sizeof *args); /* argv[argc] is NULL */
    int rc = v->fn(argc + 2, args);
    free(args);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"connect", required_argument, NULL, CLI_OPT_CONNECT},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, OPT_VERSION},
                                             {NULL, 0, NULL, 0}};
    char *connect = NULL;
    int c;
    opterr = 0;
    /* '+': stop at the verb; what follows it is the verb's */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (c == CLI_OPT_CONNECT) {
            connect = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return CLI_OK;
        } else if (c == OPT_VERSION) {
            printf("infomorph %s\n", IM_VERSION);
            return CLI_OK;
        } else {
            cli_bad_option(NULL, c, argv);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[optind], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    const cli_verb *v = find_verb(argv[optind]);
    if (!v) {
        fprintf(stderr, "infomorph: unknown verb '%s'\n", argv[optind]);
        usage(stderr);
        return CLI_USAGE;
    }
    return run_verb(v, argc - optind, argv + optind, connect);
}
