/*
 * cancel.c: `infomorph cancel CAMPAIGN`: cancel a campaign.
 */
#include "cli.h"

#include <stdio.h>

int cli_cancel_main(int argc, char **argv)
{
    cli_args a = {.verb = "cancel"};
    int rc = cli_verb_args(&a, argc, argv, 1, NULL,
                           "usage: infomorph cancel CAMPAIGN [--connect ENDPOINT]\n\n"
                           "Cancel a campaign: its queued trials are cancelled and its\n"
                           "running trials are stopped at their next progress report.\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    json_t *reply;
    if ((rc = cli_call(&a, "CANCEL", cli_campaign_fields(&a), &reply, CLI_ERROR))) return rc;
    printf("cancelled campaign %s: %lld queued trials cancelled\n", a.pos[0],
           cli_int(reply, "cancelled", 0));
    json_decref(reply);
    return CLI_OK;
}
