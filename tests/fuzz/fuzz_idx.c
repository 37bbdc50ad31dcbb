/*
 * fuzz_idx.c: libFuzzer target for the IDX reader (im_idx_read), plain or
 * gzip. The first byte picks the expected number of dimensions (1 to 3); the
 * rest is the file, written to a temporary file that is removed at exit.
 */
#include "dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
    if (path[0]) unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/fuzz_idx.XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    if (fclose(f) != 0) abort();

    uint8_t ndim = (uint8_t)(1 + data[0] % 3);
    uint32_t dims[3] = {0, 0, 0};
    uint8_t *pixels = NULL;
    im_error err = {0};
    if (im_idx_read(path, ndim, dims, &pixels, &err) == 0) {
        size_t n = 1;
        for (unsigned i = 0; i < ndim; i++) n *= dims[i];
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) sum ^= pixels[i]; /* every byte must be readable */
        (void)sum;
        free(pixels);
    } else if (pixels != NULL || err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
