/*
 * fuzz_protocol.c: libFuzzer target for the wire message decoder
 * (im_msg_decode): any bytes, as they could arrive in one ZeroMQ frame. The
 * decoder must return 0 or IM_EPROTO, never crash, never leak; a
 * message it accepts must encode again, and that text must decode to the
 * same type.
 */
#include "protocol.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    im_msg m;
    im_error err = {0};
    int rc = im_msg_decode(&m, data, size, &err);
    if (rc != 0) {
        if (rc != IM_EPROTO || err.msg[0] == '\0') abort();
        return 0;
    }
    size_t len = 0;
    char *text = im_msg_encode(&m, &len, &err);
    if (text) {
        im_msg again;
        if (im_msg_decode(&again, text, len, &err) != 0 || again.type != m.type) abort();
        im_msg_release(&again);
        free(text);
    }
    im_msg_release(&m);
    return 0;
}
