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
    int rc = cli_parse(&a, &syntax, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    json_t *reply;
    if ((rc = cli_call(&a, "CANCEL", cli_campaign_fields(&a), &reply, CLI_ERROR))) return rc;
    printf("cancelled campaign %s: %lld queued trials cancelled\n", a.pos[0],
           cli_int(reply, "cancelled", 0));
    json_decref(reply);
    return CLI_OK;
}
