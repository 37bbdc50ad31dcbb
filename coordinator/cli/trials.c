/*
 * trials.c: `infomorph trials CAMPAIGN`: every trial of a campaign.
 */
#include "cli.h"

#include <stdio.h>

int cli_trials_main(int argc, char **argv)
{
    cli_args a = {.verb = "trials"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph trials CAMPAIGN [--connect ENDPOINT]\n\n"
                "Every trial of a campaign in order: id, number, status, val and\n"
                "test accuracy, seed, wall time and the worker that ran it.\n\n",
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    json_t *reply;
    int rc = cli_parse_request(&a, &syntax, argc, argv, "TRIALS", &reply);
    if (rc != CLI_CONTINUE) return rc;
    json_t *trials = json_object_get(reply, "trials");
    printf("%-7s %-6s %-10s %-7s %-7s %-5s %8s  %s\n", "TRIAL", "NUMBER", "STATUS", "VAL", "TEST",
           "SEED", "WALL_S", "WORKER");
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        char b1[32], b2[32], b3[32];
        printf("%-7lld %-6lld %-10s %-7s %-7s %-5lld %8s  %s\n", cli_int(t, "trial", -1),
               cli_int(t, "number", -1), cli_str(t, "status"),
               cli_fmt_num(b1, sizeof b1, cli_num(t, "val_acc"), 4),
               cli_fmt_num(b2, sizeof b2, cli_num(t, "test_acc"), 4), cli_int(t, "seed", -1),
               cli_fmt_num(b3, sizeof b3, cli_num(t, "wall_s"), 1), cli_str(t, "worker"));
    }
    printf("%zu trials\n", json_array_size(trials));
    json_decref(reply);
    return CLI_OK;
}
