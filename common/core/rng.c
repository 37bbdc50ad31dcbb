/* rng.c: xoshiro256** with splitmix64 seeding. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void im_rng_seed(im_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t im_rng_u64(im_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double im_rng_uniform(im_rng *r)
{
    return (double)(im_rng_u64(r) >> 11) * 0x1.0p-53;
}

void im_rng_uniform_fill(im_rng *r, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (double)(im_rng_u64(r) >> 11) * 0x1.0p-53;
}

double im_rng_range(im_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * im_rng_uniform(r);
}

uint64_t im_rng_below(im_rng *r, uint64_t n)
{
    uint64_t limit = -n % n; /* 2^64 mod n */
    for (;;) {
        uint64_t x = im_rng_u64(r);
        if (x >= limit) return x % n;
    }
}

double im_rng_normal(im_rng *r)
{
    double u1 = 1.0 - im_rng_uniform(r); /* (0, 1] */
    double u2 = im_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void im_rng_shuffle(im_rng *r, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)im_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
