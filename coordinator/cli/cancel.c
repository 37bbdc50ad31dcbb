/*
 * cancel.c: `infomorph cancel CAMPAIGN`: cancel a campaign.
 */
#include "cli.h"

#include <stdio.h>

int cli_cancel_main(int argc, char **argv)
{
    cli_args a = {.verb = "cancel"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph cancel CAMPAIGN [--connect ENDPOINT]\n\n"
                "Cancel a campaign: its queued trials are cancelled and its\n"
                "running trials are stopped at their next progress report.\n\n",
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    json_t *reply;
    int rc = cli_parse_request(&a, &syntax, argc, argv, "CANCEL", &reply);
    if (rc != CLI_CONTINUE) return rc;
    printf("cancelled campaign %s: %lld queued trials cancelled\n", a.pos[0],
           cli_int(reply, "cancelled", 0));
    json_decref(reply);
    return CLI_OK;
}
