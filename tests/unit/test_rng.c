/* test_rng: the generator is reproducible, uniform enough and unbiased. */
#include "rng.h"
#include "test.h"

#include <stdint.h>

int main(void)
{
    im_rng a, b, c;
    im_rng_seed(&a, 42, 0);
    im_rng_seed(&b, 42, 0);
    im_rng_seed(&c, 42, 1);
    int same_stream = 1, other_stream_differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = im_rng_u64(&a), y = im_rng_u64(&b), z = im_rng_u64(&c);
        if (x != y) same_stream = 0;
        if (x != z) other_stream_differs = 1;
    }
    CHECK(same_stream);
    CHECK(other_stream_differs);

    /* uniform: mean 1/2, variance 1/12; in [0, 1) */
    im_rng_seed(&a, 7, 0);
    double s = 0, s2 = 0;
    int in_range = 1;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = im_rng_uniform(&a);
        if (!(u >= 0.0 && u < 1.0)) in_range = 0;
        s += u;
        s2 += u * u;
    }
    CHECK(in_range);
    CHECK_NEAR(s / n, 0.5, 0.005);
    CHECK_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);

    /* uniform_fill: the same numbers as successive uniform calls, and the
     * generator left in the same state */
    double fill[1001];
    im_rng_seed(&b, 9, 2);
    im_rng_seed(&c, 9, 2);
    im_rng_uniform_fill(&b, fill, 1001);
    int same_fill = 1;
    for (int i = 0; i < 1001; i++) same_fill &= fill[i] == im_rng_uniform(&c);
    CHECK(same_fill);
    CHECK(im_rng_u64(&b) == im_rng_u64(&c));

    /* below(n): every value hit, roughly equally */
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) counts[im_rng_below(&a, 7)]++;
    for (int k = 0; k < 7; k++) CHECK_NEAR(counts[k], 10000, 500);

    /* normal: mean 0, variance 1 */
    s = s2 = 0;
    for (int i = 0; i < n; i++) {
        double z = im_rng_normal(&a);
        s += z;
        s2 += z * z;
    }
    CHECK_NEAR(s / n, 0.0, 0.01);
    CHECK_NEAR(s2 / n, 1.0, 0.02);

    /* shuffle is a permutation */
    uint32_t idx[100], seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++) idx[i] = i;
    im_rng_shuffle(&a, idx, 100);
    int moved = 0;
    for (uint32_t i = 0; i < 100; i++) {
        seen[idx[i]]++;
        if (idx[i] != i) moved++;
    }
    for (int i = 0; i < 100; i++) CHECK_INT(seen[i], 1);
    CHECK(moved > 50);
    return TEST_END();
}
