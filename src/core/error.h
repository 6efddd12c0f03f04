/*
 * core/error.h - private helpers for filling a jk_error, and the internal
 * assert. Private to the library: not installed.
 */
#ifndef JK_CORE_ERROR_H
#define JK_CORE_ERROR_H

#include "jitkit/status.h"

#if defined(__MINGW32__)
#  define JK_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#  define JK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define JK_PRINTF(f, a)
#endif

/* Record `status` with a formatted message in err (if non-NULL); returns
 * status so callers can write `return jk__fail(err, JK_EINVAL, "...")`. */
jk_status jk__fail(jk_error *err, jk_status status, const char *fmt, ...)
    JK_PRINTF(3, 4);

/* As jk__fail, appending ": <os_text>" and recording os_error. */
jk_status jk__fail_os(jk_error *err, jk_status status, int os_error,
                      const char *os_text, const char *fmt, ...) JK_PRINTF(5, 6);

void jk__error_clear(jk_error *err);

/* Internal invariants only; compiled away in release builds. The library
 * never aborts because of its caller's input. */
#ifdef JITKIT_DEBUG
#  include <assert.h>
#  define JK_ASSERT(x) assert(x)
#else
#  define JK_ASSERT(x) ((void)0)
#endif

#endif
