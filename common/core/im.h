/*
 * im.h: what every module of libinfomorph shares: the error codes and their
 * messages, the optional error detail, and the allocator that aborts on
 * out-of-memory.
 *
 * Conventions (see the project's style guide): functions return 0 or a negative
 * IM_E* code; when the caller passes a non-NULL im_error *, the function writes
 * a lowercase message naming what failed into it. Library code never prints
 * and never exits, except im_xmalloc & co, which abort on out-of-memory.
 * Those keep the programs' own state (a daemon's tables, small strings);
 * the buffers of a training run, whose size comes from a trial's spec, are
 * allocated with im_try_* instead, so that a trial too big for the machine
 * fails with IM_ENOMEM and the process that ran it goes on.
 */
#ifndef IM_IM_H
#define IM_IM_H

#include <stddef.h>

enum {
    IM_OK = 0,
    IM_EINVAL = -1,    /* invalid argument or input data */
    IM_ENOMEM = -2,    /* allocation failed (only where not aborting) */
    IM_EIO = -3,       /* a file could not be read or written */
    IM_EFORMAT = -4,   /* malformed input: a file, a message, a spec */
    IM_ERANGE = -5,    /* a value out of its allowed range */
    IM_ENOTFOUND = -6, /* a named thing does not exist */
    IM_EPROTO = -7,    /* protocol violation or version mismatch */
    IM_EDB = -8,       /* database error */
    IM_ESTOPPED = -9,  /* the operation was stopped on request */
    IM_ENET = -10,     /* network/transport error */
    IM_ENUMERIC = -11, /* a non-finite value appeared in a computation */
    IM_EREFUSED = -12  /* the peer refused the request (the coordinator answered ERROR) */
};

/* Text of an IM_E* code; never NULL; a static string. Thread-safe. */
const char *im_strerror(int code);

#define IM_ERROR_MAX 512

/* Optional detail of a failure, filled by the failing function. */
typedef struct im_error {
    int code;               /* the IM_E* code returned */
    char msg[IM_ERROR_MAX]; /* lowercase, names what failed */
} im_error;

/* Set err (if non-NULL) to code and a printf-formatted message; returns code,
 * so that `return im_error_set(err, IM_EINVAL, "...")` reads naturally. */
int im_error_set(im_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that aborts the process with a message on out-of-memory.
 * Sizes are checked for overflow (im_xmalloc_array). Caller owns the result
 * and frees it with free(). */
void *im_xmalloc(size_t size);
void *im_xcalloc(size_t n, size_t size);
void *im_xrealloc(void *p, size_t size);
void *im_xmalloc_array(size_t n, size_t size);
char *im_xstrdup(const char *s);

/* Allocation that may fail: NULL on out-of-memory or when n * size
 * overflows, never an abort. im_try_calloc zeroes the memory. A zero size
 * allocates one byte (so NULL always means failure). Caller owns the result
 * and frees it with free(). Thread-safe. */
void *im_try_malloc_array(size_t n, size_t size);
void *im_try_calloc(size_t n, size_t size);

/* Multiply two sizes; returns 0 and sets *out, or IM_ERANGE on overflow. */
int im_size_mul(size_t a, size_t b, size_t *out);

#endif /* IM_IM_H */
