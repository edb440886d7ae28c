#ifndef RETORT_TEST_H
#define RETORT_TEST_H
/* A tiny test harness: CHECK keeps going after a failure so one run shows every
 * broken case; the program exits nonzero if any check failed. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int test_failures, test_checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        test_checks++;                                                           \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        test_checks++;                                                           \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                          \
    do {                                                                         \
        const char *a_ = (a), *b_ = (b);                                         \
        test_checks++;                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                 \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: %s == %s: got '%s', want '%s'\n", __FILE__, __LINE__, \
                    #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
        }                                                                        \
    } while (0)

static inline int test_report(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#endif
