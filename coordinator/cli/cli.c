/*
 * cli.c: `infomorph`, the command for people. Dispatches to one function per
 * verb (cli_<verb>.c); this file only knows the table of verbs.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cli_verb;

static const cli_verb verbs[] = {
    {"pid", cli_pid_main, "compute the PID atoms of a joint distribution given as JSON"},
    {"train", cli_train_main, "train one network from a trial spec on this machine"},
    {"submit", cli_submit_main, "queue a campaign from a JSON file"},
    {"status", cli_status_main, "progress of a campaign (or all); --watch to follow it"},
    {"ls", cli_ls_main, "list the campaigns"},
    {"best", cli_best_main, "the best trials of a campaign with their gamma"},
    {"trials", cli_trials_main, "every trial of a campaign"},
    {"cancel", cli_cancel_main, "cancel a campaign"},
    {"export", cli_export_main, "a campaign's trials as CSV or JSON"},
    {"workers", cli_workers_main, "the workers the coordinator knows"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: infomorph VERB [options]   (infomorph VERB --help for details)\n\n"
                 "infomorph optimises the goal functions of infomorphic neurons.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("infomorph %s\n", IM_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name)) return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "infomorph: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
