/*
 * rng.h: a small, seedable, reproducible generator (xoshiro256**, seeded
 * through splitmix64). Every random decision in infomorph draws from an
 * im_rng passed in explicitly, seeded from the trial's or campaign's seed, so
 * the same seed gives the same numbers on every machine. Not thread-safe: one
 * generator per thread or per purpose. Streams derived with im_rng_seed's
 * `stream` argument are independent for practical purposes.
 */
#ifndef IM_RNG_H
#define IM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct im_rng {
    uint64_t s[4];
} im_rng;

/* Seed from a 64-bit seed and a stream number (e.g. 0 for init, 1 for sampling). */
void im_rng_seed(im_rng *r, uint64_t seed, uint64_t stream);
uint64_t im_rng_u64(im_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double im_rng_uniform(im_rng *r);
/* out[0..n) = n successive im_rng_uniform values (the same numbers, in
 * order), without a call per value. */
void im_rng_uniform_fill(im_rng *r, double *out, size_t n);
/* Uniform in [lo, hi). */
double im_rng_range(im_rng *r, double lo, double hi);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t im_rng_below(im_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached state). */
double im_rng_normal(im_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void im_rng_shuffle(im_rng *r, uint32_t *idx, uint32_t n);

#endif /* IM_RNG_H */
