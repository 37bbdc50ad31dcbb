/* im.c: error codes, error detail, the aborting allocator and the one that
 * may fail. */
#include "im.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *im_strerror(int code)
{
    switch (code) {
    case IM_OK: return "success";
    case IM_EINVAL: return "invalid argument";
    case IM_ENOMEM: return "out of memory";
    case IM_EIO: return "input/output error";
    case IM_EFORMAT: return "malformed input";
    case IM_ERANGE: return "value out of range";
    case IM_ENOTFOUND: return "not found";
    case IM_EPROTO: return "protocol error";
    case IM_EDB: return "database error";
    case IM_ESTOPPED: return "stopped";
    case IM_ENET: return "network error";
    case IM_ENUMERIC: return "non-finite value";
    case IM_EREFUSED: return "the coordinator refused the request";
    default: return "unknown error";
    }
}

int im_error_set(im_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

static void oom(size_t size)
{
    fprintf(stderr, "infomorph: out of memory (allocating %zu bytes)\n", size);
    abort();
}

void *im_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    return p;
}

void *im_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *im_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) oom(size);
    return q;
}

int im_size_mul(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) return IM_ERANGE;
    *out = a * b;
    return 0;
}

void *im_xmalloc_array(size_t n, size_t size)
{
    size_t total;
    if (im_size_mul(n, size, &total)) oom(SIZE_MAX);
    return im_xmalloc(total);
}

void *im_try_malloc_array(size_t n, size_t size)
{
    size_t total;
    if (im_size_mul(n, size, &total)) return NULL;
    return malloc(total ? total : 1);
}

void *im_try_calloc(size_t n, size_t size)
{
    size_t total;
    if (im_size_mul(n, size, &total)) return NULL;
    return calloc(total ? n : 1, total ? size : 1);
}

char *im_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = im_xmalloc(n);
    memcpy(d, s, n);
    return d;
}
