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
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: infomorph submit FILE [--connect ENDPOINT]\n\n"
                   "Queue the campaign described by the JSON file FILE (see the README's\n"
                   "campaign keys). Prints the new campaign's id and name. A file that is not\n"
                   "JSON or that the coordinator refuses exits with status 2 and names the\n"
                   "offending field.\n\n%s",
                   cli_connect_help);
            return CLI_OK;
        }
        int c = cli_common_option(&a, argc, argv, &i);
        if (c < 0 || (c == 0 && cli_add_positional(&a, argv[i], 1) < 0)) return CLI_USAGE;
    }
    if (a.n_pos != 1) {
        fprintf(stderr, "infomorph submit: which campaign file? usage: infomorph submit FILE\n");
        return CLI_USAGE;
    }
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
    int rc = cli_call(&a, "SUBMIT", fields, &reply, CLI_USAGE);
    if (rc) return rc;
    printf("submitted campaign %s (id %lld, %lld trials planned)\n", cli_str(reply, "name"),
           cli_int(reply, "campaign_id", -1), cli_int(reply, "planned", 0));
    json_decref(reply);
    return CLI_OK;
}
