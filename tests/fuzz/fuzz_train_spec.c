/*
 * fuzz_train_spec.c: libFuzzer target for the trial spec parser
 * (im_train_spec_from_json) from JSON text. A spec it accepts must survive
 * to_json and from_json unchanged.
 */
#include "spec_json.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!obj) return 0;
    im_train_spec s, back;
    im_error err = {0};
    im_train_spec_default(&s);
    if (im_train_spec_from_json(&s, obj, &err) == 0) {
        json_t *j = im_train_spec_to_json(&s);
        im_train_spec_default(&back);
        if (!j || im_train_spec_from_json(&back, j, &err) != 0 || !im_train_spec_equal(&s, &back))
            abort();
        json_decref(j);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    json_decref(obj);
    return 0;
}
