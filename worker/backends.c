/*
 * backends.c: the worker's backend table. A new backend is one file with
 * its wk_backend plus one line in `table` below.
 */
#include "backend.h"

#include <string.h>

extern const wk_backend wk_backend_builtin; /* backend_builtin.c */
extern const wk_backend wk_backend_exec;    /* backend_exec.c */

/* The first entry runs the trials that name no backend. */
static const wk_backend *const table[] = {
    &wk_backend_builtin,
    &wk_backend_exec,
};
#define N_BACKENDS ((int)(sizeof table / sizeof table[0]))

const wk_backend *wk_backend_at(int i)
{
    return i >= 0 && i < N_BACKENDS ? table[i] : NULL;
}

const wk_backend *wk_backend_for(const json_t *spec)
{
    const json_t *name = json_object_get(spec, "backend");
    if (!name) return table[0];
    for (int i = 0; i < N_BACKENDS && json_is_string(name); i++)
        if (!strcmp(json_string_value(name), table[i]->name)) return table[i];
    return NULL;
}

const wk_backend *wk_backend_of_worker(int with_command)
{
    for (int i = 0; i < N_BACKENDS; i++)
        if (table[i]->needs_command == (with_command != 0)) return table[i];
    return table[0];
}

json_t *wk_backend_names(int with_command)
{
    json_t *names = json_array();
    json_array_append_new(names, json_string(wk_backend_of_worker(with_command)->name));
    return names;
}
