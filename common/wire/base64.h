/*
 * base64.h: RFC 4648 base64 (standard alphabet, with padding), for binary
 * data inside the wire's JSON messages (the BACKUP chunks). Thread-safe.
 */
#ifndef IM_BASE64_H
#define IM_BASE64_H

#include <stddef.h>

/* Characters needed to encode n bytes, with the NUL. */
size_t im_base64_encoded_size(size_t n);

/* Encode n bytes of in into out (im_base64_encoded_size(n) bytes, NUL
 * terminated). Returns the length without the NUL. */
size_t im_base64_encode(const void *in, size_t n, char *out);

/* Decode len characters of in into out (at least len / 4 * 3 bytes). Returns
 * the number of bytes, or -1 if in is not base64 (a bad character, a length
 * that is not a multiple of 4, padding in the middle). */
long im_base64_decode(const char *in, size_t len, unsigned char *out);

#endif /* IM_BASE64_H */
