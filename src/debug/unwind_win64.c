/*
 * unwind_win64.c - Windows: no unwind registration yet; JK_DEBUG_UNWIND is
 * cleared by jk_debug_new, names still go to gdb.
 */
#include "debug/debug_p.h"

#include "core/error.h"

#if defined(_WIN32)

const char *jk__unwind_name(void)
{
    return NULL;
}

int jk__unwind_wants_eh_frame(void)
{
    return 0;
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    (void)f;
    (void)cfi;
    return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: no unwinder support here");
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    (void)f;
}

#endif
