/*
 * trials.c: `infomorph trials CAMPAIGN`: every trial of a campaign.
 */
#include "cli.h"
#include "protocol.h"

#include <stdio.h>

/* Print one page of trials; returns how many. */
static long long print_page(const json_t *trials)
{
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
    return (long long)json_array_size(trials);
}

int cli_trials_main(int argc, char **argv)
{
    cli_args a = {.verb = "trials"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph trials CAMPAIGN [--connect ENDPOINT]\n\n"
                "Every trial of a campaign in order: id, number, status, val and\n"
                "test accuracy, seed, wall time and the worker that ran it.\n\n",
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    int rc = cli_parse(&a, &syntax, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    /* page by page (TRIALS with from/limit): each request stays small */
    long long from = 0, n = 0;
    for (;;) {
        json_t *fields = cli_campaign_fields(&a), *reply;
        json_object_set_new(fields, "from", json_integer(from));
        json_object_set_new(fields, "limit", json_integer(IM_TRIALS_PAGE_DEFAULT));
        if ((rc = cli_call(&a, "TRIALS", fields, &reply, CLI_ERROR))) return rc;
        if (from == 0)
            printf("%-7s %-6s %-10s %-7s %-7s %-5s %8s  %s\n", "TRIAL", "NUMBER", "STATUS", "VAL",
                   "TEST", "SEED", "WALL_S", "WORKER");
        n += print_page(json_object_get(reply, "trials"));
        json_t *next = json_object_get(reply, "next");
        long long to = json_is_integer(next) ? (long long)json_integer_value(next) : -1;
        json_decref(reply);
        if (to < 0) break; /* the last page */
        if (to <= from) {
            fprintf(stderr,
                    "infomorph trials: the coordinator's next page (%lld) does not follow "
                    "page %lld\n",
                    to, from);
            return CLI_ERROR;
        }
        from = to;
    }
    printf("%lld trials\n", n);
    return CLI_OK;
}
