/*
 * test.h: the checks of infomorph's unit tests. Each failed check prints
 * file, line, the expression and both values, and the test goes on; main()
 * ends with `return TEST_END();`, which prints a summary and returns non-zero
 * if any check failed. Header-only, one test program per module.
 */
#ifndef IM_TEST_H
#define IM_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks_, test_failures_;

#define TEST_FAIL_(...)                                                                            \
    do {                                                                                           \
        test_failures_++;                                                                          \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks_++;                                                                            \
        if (!(cond)) TEST_FAIL_("%s", #cond);                                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        test_checks_++;                                                                            \
        if (!(cond)) TEST_FAIL_(__VA_ARGS__);                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        test_checks_++;                                                                            \
        if (a_ != b_) TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                        \
    } while (0)

/* |a - b| <= tol, NaN never passes */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                             \
        test_checks_++;                                                                            \
        if (!(fabs(a_ - b_) <= t_))                                                                \
            TEST_FAIL_("%s ~ %s: %.17g vs %.17g (diff %.3g > %.3g)", #a, #b, a_, b_,               \
                       fabs(a_ - b_), t_);                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        test_checks_++;                                                                            \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",                   \
                       b_ ? b_ : "(null)");                                                        \
    } while (0)

/* substring */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        test_checks_++;                                                                            \
        if (!h_ || !strstr(h_, n_))                                                                \
            TEST_FAIL_("%s contains %s: \"%s\" lacks \"%s\"", #hay, #needle, h_ ? h_ : "(null)",   \
                       n_);                                                                        \
    } while (0)

#define TEST_END()                                                                                 \
    (fprintf(stderr, "%d checks, %d failed\n", test_checks_, test_failures_),                      \
     test_failures_ ? 1 : (test_checks_ ? 0 : (fprintf(stderr, "no checks ran\n"), 1)))

/* The directory of the tests' data files (set by ctest's environment). */
static inline const char *test_data_dir(void)
{
    const char *d = getenv("IM_TEST_DATA");
    return d ? d : "tests/data";
}

#endif /* IM_TEST_H */
