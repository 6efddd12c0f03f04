/*
 * jt.h - the tiny test harness used by every jitkit test program.
 *
 *     static void test_something(void) { JT_EQ_U64(f(), 42); }
 *     int main(int argc, char **argv) {
 *         JT_RUN(test_something);
 *         return jt_finish();
 *     }
 *
 * A failed check prints file:line, the expression and both values, marks the
 * current test failed and returns from it. jt_finish() prints the closing
 * line "N passed, N failed" and returns the exit status.
 */
#ifndef JT_H
#define JT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int jt_passed, jt_failed, jt_cur_failed;
static const char *jt_only; /* run just this test when set (argv[1]) */

#define JT_FAIL_(fmt, ...)                                                    \
    do {                                                                      \
        fprintf(stderr, "%s:%d: check failed: " fmt "\n", __FILE__, __LINE__, \
                __VA_ARGS__);                                                 \
        jt_cur_failed = 1;                                                    \
        return;                                                               \
    } while (0)

#define JT_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond))                                                          \
            JT_FAIL_("%s", #cond);                                            \
    } while (0)

#define JT_CHECK_MSG(cond, ...)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            jt_cur_failed = 1;                                                \
            return;                                                           \
        }                                                                     \
    } while (0)

#define JT_EQ_U64(a, b)                                                       \
    do {                                                                      \
        uint64_t jt_a_ = (uint64_t)(a), jt_b_ = (uint64_t)(b);                \
        if (jt_a_ != jt_b_)                                                   \
            JT_FAIL_("%s == %s (0x%" PRIx64 " vs 0x%" PRIx64 ")", #a, #b,     \
                     jt_a_, jt_b_);                                           \
    } while (0)

#define JT_EQ_I64(a, b)                                                       \
    do {                                                                      \
        int64_t jt_a_ = (int64_t)(a), jt_b_ = (int64_t)(b);                   \
        if (jt_a_ != jt_b_)                                                   \
            JT_FAIL_("%s == %s (%" PRId64 " vs %" PRId64 ")", #a, #b, jt_a_,  \
                     jt_b_);                                                  \
    } while (0)

#define JT_EQ_STR(a, b)                                                       \
    do {                                                                      \
        const char *jt_a_ = (a), *jt_b_ = (b);                                \
        if (!jt_a_ || !jt_b_ || strcmp(jt_a_, jt_b_) != 0)                    \
            JT_FAIL_("%s == %s (\"%s\" vs \"%s\")", #a, #b,                   \
                     jt_a_ ? jt_a_ : "(null)", jt_b_ ? jt_b_ : "(null)");     \
    } while (0)

#define JT_CONTAINS(hay, needle)                                              \
    do {                                                                      \
        const char *jt_h_ = (hay), *jt_n_ = (needle);                         \
        if (!jt_h_ || !strstr(jt_h_, jt_n_))                                  \
            JT_FAIL_("%s contains \"%s\" (got \"%s\")", #hay, jt_n_,          \
                     jt_h_ ? jt_h_ : "(null)");                               \
    } while (0)

/* Status check: expr must return 0 (JK_OK); prints errp->message if not. */
#define JT_OK(expr, errp)                                                     \
    do {                                                                      \
        int jt_s_ = (int)(expr);                                              \
        if (jt_s_ != 0)                                                       \
            JT_FAIL_("%s returned %d (%s)", #expr, jt_s_, (errp)->message);   \
    } while (0)

#define JT_RUN(fn)                                                            \
    do {                                                                      \
        if (jt_only && strcmp(jt_only, #fn) != 0)                             \
            break;                                                            \
        jt_cur_failed = 0;                                                    \
        fn();                                                                 \
        if (jt_cur_failed) {                                                  \
            jt_failed++;                                                      \
            printf("FAIL %s\n", #fn);                                         \
        } else {                                                              \
            jt_passed++;                                                      \
            printf("ok   %s\n", #fn);                                         \
        }                                                                     \
        fflush(stdout);                                                       \
    } while (0)

static int jt_finish(void)
{
    printf("%d passed, %d failed\n", jt_passed, jt_failed);
    return jt_failed || !jt_passed ? 1 : 0;
}

#endif
