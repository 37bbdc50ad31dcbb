/*
 * submit.c: `infomorph submit FILE`: queue the campaign a JSON file describes.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_submit_main(int argc, char **argv)
{
    cli_args a = {.verb = "submit"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph submit FILE [--connect ENDPOINT]\n\n"
                "Queue the campaign described by the JSON file FILE (see the README's\n"
                "campaign keys). Prints the new campaign's id and name. A file that is not\n"
                "JSON or that the coordinator refuses exits with status 2 and names the\n"
                "offending field.\n\n",
        .operands = 1,
        .missing = "which campaign file? usage: infomorph submit FILE"};
    int rc = cli_parse(&a, &syntax, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    json_error_t jerr;
    json_t *campaign = json_load_file(a.pos[0], JSON_REJECT_DUPLICATES, &jerr);
    if (!campaign) {
        if (access(a.pos[0], R_OK) != 0) {
            fprintf(stderr, "infomorph submit: unable to read '%s': %s\n", a.pos[0],
                    strerror(errno));
            return CLI_ERROR;
        }
        fprintf(stderr, "infomorph submit: %s:%d:%d: %s\n", a.pos[0], jerr.line, jerr.column,
                jerr.text);
        return CLI_USAGE;
    }
    if (!json_is_object(campaign)) {
        fprintf(stderr, "infomorph submit: %s: a campaign file holds one JSON object\n", a.pos[0]);
        json_decref(campaign);
        return CLI_USAGE;
    }
    json_t *fields = json_object();
    json_object_set_new(fields, "campaign", campaign);
    json_t *reply;
    if ((rc = cli_call(&a, "SUBMIT", fields, &reply, CLI_USAGE))) return rc;
    printf("submitted campaign %s (id %lld, %lld trials planned)\n", cli_str(reply, "name"),
           cli_int(reply, "campaign_id", -1), cli_int(reply, "planned", 0));
    json_decref(reply);
    return CLI_OK;
}
