/*
 * jitkit/status.h - status codes, error records and the export macro.
 *
 * Every fallible jitkit function returns a jk_status. Functions that can fail
 * for reasons worth explaining also take an optional jk_error * (NULL is
 * fine): on failure it receives the status, the OS's own error number and a
 * message naming the step that failed, e.g.
 *
 *     "mprotect(0x7f3a12000000, 4096, READ|EXEC): Permission denied"
 *
 * The status list below is the single source of truth: the enum and
 * jk_status_str() are both generated from it, so they cannot drift apart.
 */
#ifndef JITKIT_STATUS_H
#define JITKIT_STATUS_H

#include <stddef.h>

#include "jitkit/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(JITKIT_SHARED)
#  ifdef JITKIT_BUILDING
#    define JK_API __declspec(dllexport)
#  else
#    define JK_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && defined(JITKIT_BUILDING)
#  define JK_API __attribute__((visibility("default")))
#else
#  define JK_API
#endif

/* X(NAME, "description"): append only, so numeric values stay stable. */
#define JK_STATUS_MAP(X)                                                      \
    X(OK,          "success")                                                 \
    X(EINVAL,      "invalid argument")                                        \
    X(ENOMEM,      "out of memory")                                           \
    X(EOS,         "operating system call failed")                            \
    X(EPOLICY,     "refused by the system's memory protection policy")        \
    X(EUNSUPPORTED,"not supported on this platform or build")                 \
    X(ERANGE,      "value out of range")                                      \
    X(ESTATE,      "operation not valid in the object's current state")       \
    X(ENOSPACE,    "buffer or region too small")                              \
    X(ENOTNEAR,    "no memory could be placed within reach of the address")   \
    X(ENOFORM,     "no instruction form takes these operands")                \
    X(EOPERAND,    "invalid operand")                                         \
    X(ELABEL,      "label error")                                             \
    X(ESYNTAX,     "syntax error")                                            \
    X(EPARSE,      "malformed input")

typedef enum jk_status {
#define JK_STATUS_ENUM_(name, text) JK_##name,
    JK_STATUS_MAP(JK_STATUS_ENUM_)
#undef JK_STATUS_ENUM_
    JK_STATUS_COUNT
} jk_status;

/* A failure explained: filled by functions that take a jk_error *. */
typedef struct jk_error {
    jk_status status;     /* same value the function returned */
    int os_error;         /* errno or GetLastError(); 0 when not an OS failure */
    char message[256];    /* NUL-terminated, never empty on failure */
} jk_error;

/* Short English description of a status ("out of memory"); never NULL,
 * "unknown status" for values outside the list. Thread-safe. */
JK_API const char *jk_status_str(jk_status status);

/* Symbolic name of a status ("JK_ENOMEM"); never NULL. Thread-safe. */
JK_API const char *jk_status_name(jk_status status);

/* The version of the library linked in, "MAJOR.MINOR.PATCH" (static
 * storage, never NULL); JK_VERSION_STRING in jitkit/version.h is the one
 * compiled against. Thread-safe. */
JK_API const char *jk_version(void);

#ifdef __cplusplus
}
#endif
#endif
