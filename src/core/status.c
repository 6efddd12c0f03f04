/*
 * status.c - status strings and the error-recording helpers every module
 * uses. The strings come from JK_STATUS_MAP, as the enum does.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_text[] = {
#define TEXT_(name, text) text,
    JK_STATUS_MAP(TEXT_)
#undef TEXT_
};

static const char *const status_name[] = {
#define NAME_(name, text) "JK_" #name,
    JK_STATUS_MAP(NAME_)
#undef NAME_
};

_Static_assert(sizeof status_text / sizeof status_text[0] == JK_STATUS_COUNT,
               "status table out of sync with the enum");

const char *jk_status_str(jk_status status)
{
    if ((unsigned)status >= (unsigned)JK_STATUS_COUNT)
        return "unknown status";
    return status_text[status];
}

const char *jk_status_name(jk_status status)
{
    if ((unsigned)status >= (unsigned)JK_STATUS_COUNT)
        return "JK_UNKNOWN";
    return status_name[status];
}

const char *jk_version(void)
{
#define STR2_(x) #x
#define STR_(x) STR2_(x)
    return STR_(JITKIT_VERSION_MAJOR) "." STR_(JITKIT_VERSION_MINOR) "." STR_(
        JITKIT_VERSION_PATCH);
#undef STR_
#undef STR2_
}

jk_status jk__fail(jk_error *err, jk_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->status = status;
        err->os_error = 0;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        if (!err->message[0])
            snprintf(err->message, sizeof err->message, "%s", jk_status_str(status));
    }
    return status;
}

jk_status jk__fail_os(jk_error *err, jk_status status, int os_error,
                      const char *os_text, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        size_t n;
        err->status = status;
        err->os_error = os_error;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        n = strlen(err->message);
        if (os_text && n + 2 < sizeof err->message)
            snprintf(err->message + n, sizeof err->message - n, ": %s", os_text);
    }
    return status;
}

void jk__error_clear(jk_error *err)
{
    if (err) {
        err->status = JK_OK;
        err->os_error = 0;
        err->message[0] = '\0';
    }
}
