/*
 * spec_load.h: a campaign spec from JSON text, checked, for the unit tests
 * of the samplers. Include after test.h (it checks with CHECK_MSG).
 */
#ifndef IM_TEST_SPEC_LOAD_H
#define IM_TEST_SPEC_LOAD_H

#include "campaign_spec.h"

#include <jansson.h>

/* text into *c; 0, or non-zero (a failed check) if it was refused. */
static inline int load(im_campaign_spec *c, const char *text)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    im_error err = {0};
    int rc = o ? im_campaign_spec_from_json(c, o, &err) : -1;
    json_decref(o);
    CHECK_MSG(rc == 0, "spec refused: %s", err.msg);
    return rc;
}

#endif /* IM_TEST_SPEC_LOAD_H */
