/*
 * cli_pid.c: `infomorph pid TABLE.json`, the PID atoms of a joint
 * distribution given as a JSON table.
 */
#include "cli.h"

#include <stdio.h>

int cli_pid_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "infomorph pid: not available yet\n");
    return CLI_ERROR;
}
