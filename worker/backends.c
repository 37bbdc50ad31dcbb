/*
 * backends.c: the worker's backend table. A new backend is one file with
 * its wk_backend plus one line in `table` below.
 */
#include "backend.h"

extern const wk_backend wk_backend_builtin; /* backend_builtin.c */

/* The first entry runs the trials that name no backend. */
static const wk_backend *const table[] = {
    &wk_backend_builtin,
};
#define N_BACKENDS ((int)(sizeof table / sizeof table[0]))

const wk_backend *wk_backend_at(int i)
{
    return i >= 0 && i < N_BACKENDS ? table[i] : NULL;
}

const wk_backend *wk_backend_for(const json_t *spec)
{
    (void)spec;
    return table[0];
}

json_t *wk_backend_names(void)
{
    json_t *names = json_array();
    for (int i = 0; i < N_BACKENDS; i++) json_array_append_new(names, json_string(table[i]->name));
    return names;
}
