/*
 * workers.c: `infomorph workers`: the workers the coordinator knows.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_workers_main(int argc, char **argv)
{
    cli_args a = {.verb = "workers"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph workers [--connect ENDPOINT]\n\n"
                "The workers the coordinator knows: name, host, pid, BLAS threads, status\n"
                "(alive, lost or gone), state (idle, busy, or away: not connected to this\n"
                "coordinator run), the trial it runs, seconds since it was last heard, the\n"
                "trials it has finished and the datasets it has (\"any\": it did not say;\n"
                "\"-\": not known while it is away).\n\n",
        .operands = 0};
    json_t *reply;
    int rc = cli_parse_request(&a, &syntax, argc, argv, "WORKERS", &reply);
    if (rc != CLI_CONTINUE) return rc;
    json_t *list = json_object_get(reply, "workers");
    if (!json_array_size(list)) {
        printf("no workers\n");
    } else {
        printf("%-24s %-16s %7s %7s %-6s %-5s %7s %9s %5s  %s\n", "NAME", "HOST", "PID", "THREADS",
               "STATUS", "STATE", "TRIAL", "LAST_SEEN", "DONE", "DATASETS");
        size_t i;
        json_t *w;
        json_array_foreach(list, i, w)
        {
            char trial[32], seen[32];
            long long t = cli_int(w, "trial", -1);
            if (t >= 0)
                snprintf(trial, sizeof trial, "%lld", t);
            else
                snprintf(trial, sizeof trial, "-");
            cli_fmt_num(seen, sizeof seen, cli_num(w, "last_seen_s_ago"), 0);
            char datasets[512] = "";
            json_t *ds = json_object_get(w, "datasets"), *d;
            size_t k;
            json_array_foreach(ds, k, d)
            {
                size_t used = strlen(datasets);
                snprintf(datasets + used, sizeof datasets - used, "%s%s", k ? "," : "",
                         json_string_value(d) ? json_string_value(d) : "?");
            }
            if (!json_is_array(ds))
                snprintf(datasets, sizeof datasets, "%s",
                         strcmp(cli_str(w, "state"), "away") ? "any" : "-");
            else if (!json_array_size(ds))
                snprintf(datasets, sizeof datasets, "none");
            printf("%-24s %-16s %7lld %7lld %-6s %-5s %7s %8ss %5lld  %s\n", cli_str(w, "name"),
                   cli_str(w, "host"), cli_int(w, "pid", -1), cli_int(w, "threads", -1),
                   cli_str(w, "status"), cli_str(w, "state"), trial, seen,
                   cli_int(w, "trials_done", 0), datasets);
        }
    }
    json_decref(reply);
    return CLI_OK;
}
