/*
 * ls.c: `infomorph ls`: the campaigns, one line each.
 */
#include "cli.h"

#include <stdio.h>

int cli_ls_main(int argc, char **argv)
{
    cli_args a = {.verb = "ls"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph ls [--connect ENDPOINT]\n\n"
                "List every campaign: id, name, kind, status, priority, trials done of the\n"
                "total, running and failed trials, best validation accuracy.\n\n",
        .operands = 0};
    json_t *reply;
    int rc = cli_parse_request(&a, &syntax, argc, argv, "LIST", &reply);
    if (rc != CLI_CONTINUE) return rc;
    json_t *list = json_object_get(reply, "campaigns");
    if (!json_array_size(list)) {
        printf("no campaigns\n");
    } else {
        printf("%-5s %-24s %-9s %-10s %5s %11s %8s %7s %9s\n", "ID", "NAME", "KIND", "STATUS",
               "PRIO", "DONE/TOTAL", "RUNNING", "FAILED", "BEST VAL");
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            char done[32], best[32];
            snprintf(done, sizeof done, "%lld/%lld", cli_int(c, "done", 0), cli_total_of(c));
            printf("%-5lld %-24s %-9s %-10s %5lld %11s %8lld %7lld %9s\n", cli_int(c, "id", -1),
                   cli_str(c, "name"), cli_str(c, "kind"), cli_str(c, "status"),
                   cli_int(c, "priority", 0), done, cli_int(c, "running", 0),
                   cli_int(c, "failed", 0),
                   cli_fmt_num(best, sizeof best, cli_num(c, "best_val_acc"), 4));
        }
    }
    json_decref(reply);
    return CLI_OK;
}
