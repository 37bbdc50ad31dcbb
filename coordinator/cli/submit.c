/*
 * submit.c: `infomorph submit FILE...`: queue the campaigns JSON files
 * describe, in order (so a search and the ablation chained to it go in one
 * command).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES ((int)(sizeof((cli_args *)0)->pos / sizeof(((cli_args *)0)->pos[0])))

/* The campaign object of file `path`, or NULL with *status set (message
 * printed): CLI_ERROR (unreadable) or CLI_USAGE (not JSON, not an object). */
static json_t *load(const char *path, int *status)
{
    json_error_t jerr;
    json_t *campaign = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!campaign) {
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "infomorph submit: unable to read '%s': %s\n", path, strerror(errno));
            *status = CLI_ERROR;
            return NULL;
        }
        fprintf(stderr, "infomorph submit: %s:%d:%d: %s\n", path, jerr.line, jerr.column,
                jerr.text);
        *status = CLI_USAGE;
        return NULL;
    }
    if (!json_is_object(campaign)) {
        fprintf(stderr, "infomorph submit: %s: a campaign file holds one JSON object\n", path);
        json_decref(campaign);
        *status = CLI_USAGE;
        return NULL;
    }
    return campaign;
}

int cli_submit_main(int argc, char **argv)
{
    cli_args a = {.verb = "submit"};
    static const cli_syntax syntax = {
        .help = "usage: infomorph submit FILE... [--connect ENDPOINT]\n\n"
                "Queue the campaigns described by the JSON files FILE... (see the README's\n"
                "campaign keys), in the order given, so that a later file may chain on an\n"
                "earlier one (an ablation with \"base\": {\"campaign\": NAME}). Prints each new\n"
                "campaign's id and name. Every file is read first: one that is not JSON\n"
                "exits with status 2 before anything is submitted. A file the coordinator\n"
                "refuses exits with status 2, naming the offending field; the files before\n"
                "it stay submitted, the ones after it are not sent.\n\n",
        .operands = MAX_FILES,
        .min_operands = 1,
        .missing = "which campaign file? usage: infomorph submit FILE..."};
    int rc = cli_parse(&a, &syntax, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    json_t *campaigns[MAX_FILES];
    for (int i = 0; i < a.n_pos; i++) {
        int status = CLI_OK;
        campaigns[i] = load(a.pos[i], &status);
        if (!campaigns[i]) {
            for (int k = 0; k < i; k++) json_decref(campaigns[k]);
            return status;
        }
    }
    rc = CLI_OK;
    for (int i = 0; i < a.n_pos; i++) {
        if (rc != CLI_OK) {
            json_decref(campaigns[i]);
            continue;
        }
        json_t *fields = json_object();
        json_object_set_new(fields, "campaign", campaigns[i]);
        json_t *reply;
        if ((rc = cli_call(&a, "SUBMIT", fields, &reply, CLI_USAGE))) {
            if (i > 0)
                fprintf(stderr, "infomorph submit: %s not submitted (nor the files after it)\n",
                        a.pos[i]);
            continue;
        }
        printf("submitted campaign %s (id %lld, %lld trials planned)\n", cli_str(reply, "name"),
               cli_int(reply, "campaign_id", -1), cli_int(reply, "planned", 0));
        json_decref(reply);
    }
    return rc;
}
