/*
 * fuzz_pid_table.c: libFuzzer target for the table reader of `infomorph pid`
 * (cli_pid_parse_table in coordinator/cli/pid.c) from JSON text, and the
 * decomposition of a table it accepts.
 */
#include "cli.h"
#include "lattice.h"
#include "pid.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!root) return 0;
    int k = 0, shape[IM_MAX_SOURCES];
    double *p = NULL;
    char msg[256] = "";
    if (cli_pid_parse_table(root, &k, shape, &p, msg, sizeof msg) == 0) {
        im_lattice lat;
        im_error err = {0};
        double terms[IM_MAX_TERMS];
        if (im_lattice_init(&lat, k, &err) == 0)
            (void)im_pid_table(k, shape, p, NULL, terms, NULL, NULL, &err);
        free(p);
    } else if (msg[0] == '\0' || p != NULL) {
        abort();
    }
    json_decref(root);
    return 0;
}
