/*
 * fuzz_campaign_spec.c: libFuzzer target for the campaign spec parser
 * (im_campaign_spec_from_json) from JSON text. A spec it accepts must give
 * canonical JSON that parses again, and its fixed points (if any) must be
 * computable.
 */
#include "campaign_spec.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!obj) return 0;
    im_campaign_spec c = {0}, back = {0};
    im_error err = {0};
    if (im_campaign_spec_from_json(&c, obj, &err) == 0) {
        json_t *j = im_campaign_spec_to_json(&c);
        if (!j || im_campaign_spec_from_json(&back, j, &err) != 0) abort();
        json_decref(j);
        im_campaign_spec_release(&back);
        /* every point of a fixed campaign is there, its values readable */
        double buf[IM_CAMPAIGN_MAX_PARAMS > IM_MAX_TERMS ? IM_CAMPAIGN_MAX_PARAMS : IM_MAX_TERMS];
        size_t nv = (size_t)im_campaign_n_values(&c);
        for (int p = 0; p < c.n_points; p++) {
            const double *v = im_campaign_spec_point(&c, p);
            if (!v || nv > sizeof buf / sizeof *buf) abort();
            memcpy(buf, v, nv * sizeof *v);
        }
    } else if (err.msg[0] == '\0') {
        abort();
    }
    im_campaign_spec_release(&c);
    json_decref(obj);
    return 0;
}
