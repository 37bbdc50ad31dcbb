/*
 * best.c: `infomorph best CAMPAIGN [-n N]`: the best trials of a campaign with
 * their gamma.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define BEST_MAX 1000 /* most trials in one BEST reply (protocol.h) */

/* -n N into *(long *)user: the wire's range for BEST (protocol.h), since
 * beyond it the coordinator would refuse, and that is a usage error, not 1. */
static int best_option(int c, int argc, char **argv, void *user)
{
    long *n = user;
    char *end;
    (void)c, (void)argc, (void)argv;
    errno = 0;
    *n = strtol(optarg, &end, 10);
    if (errno || end == optarg || *end || *n < 1 || *n > BEST_MAX) {
        fprintf(stderr, "infomorph best: -n needs an integer in 1..%d\n", BEST_MAX);
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_best_main(int argc, char **argv)
{
    cli_args a = {.verb = "best"};
    long n = 10;
    static const struct option longopts[] = {
        {"number", required_argument, NULL, 'n'}, CLI_CLIENT_LONGOPTS, {NULL, 0, NULL, 0}};
    static const cli_syntax syntax = {
        .help = "usage: infomorph best CAMPAIGN [-n N] [--connect ENDPOINT]\n\n"
                "The N best trials of a campaign (default 10) by validation\n"
                "accuracy: rank, trial, val, test, seed and the gamma by short\n"
                "name.\n\n"
                "  -n, --number N      how many trials to show (1..1000)\n",
        .optstring = CLI_CLIENT_SHORTOPTS "n:",
        .longopts = longopts,
        .option = best_option,
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    int rc = cli_parse(&a, &syntax, argc, argv, &n);
    if (rc != CLI_CONTINUE) return rc;
    json_t *fields = cli_campaign_fields(&a);
    json_object_set_new(fields, "n", json_integer(n));
    json_t *reply;
    if ((rc = cli_call(&a, "BEST", fields, &reply, CLI_ERROR))) return rc;
    json_t *trials = json_object_get(reply, "trials");
    if (!json_array_size(trials)) {
        printf("no finished trials yet\n");
        json_decref(reply);
        return CLI_OK;
    }
    json_t *names = cli_gamma_names(trials);
    int exec = cli_is_exec(json_array_get(trials, 0)); /* one campaign: the objective too */
    printf("%-5s %-7s %-7s %-7s %-5s", "RANK", "TRIAL", "VAL", "TEST", "SEED");
    if (exec)
        printf(" %10.10s",
               json_string_value(json_object_get(json_array_get(trials, 0), "objective")));
    size_t i, j;
    json_t *t, *nm;
    json_array_foreach(names, j, nm) printf(" %7s", json_string_value(nm));
    printf("\n");
    json_array_foreach(trials, i, t)
    {
        char b1[32], b2[32];
        printf("%-5lld %-7lld %-7s %-7s %-5lld", cli_int(t, "rank", (long long)i + 1),
               cli_int(t, "trial", -1), cli_fmt_num(b1, sizeof b1, cli_num(t, "val_acc"), 4),
               cli_fmt_num(b2, sizeof b2, cli_num(t, "test_acc"), 4), cli_int(t, "seed", -1));
        json_t *gamma = json_object_get(t, "gamma");
        if (exec && cli_is_exec(t))
            printf(" %10s", cli_fmt_param(b1, sizeof b1, json_object_get(t, "value")));
        else if (exec)
            printf(" %10s", "-");
        json_array_foreach(names, j, nm)
        {
            if (exec)
                printf(" %7s",
                       cli_fmt_param(b1, sizeof b1, json_object_get(gamma, json_string_value(nm))));
            else
                printf(" %7s",
                       cli_fmt_num(b1, sizeof b1, cli_num(gamma, json_string_value(nm)), 3));
        }
        printf("\n");
    }
    json_decref(names);
    json_decref(reply);
    return CLI_OK;
}
