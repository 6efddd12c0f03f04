/*
 * unwind_elf.c - hand .eh_frame data to the unwinder of the process, on ELF
 * platforms (Linux, the BSDs).
 *
 * Two unwinders are in use there and they take different things:
 *
 *   LLVM libunwind  __unw_add_dynamic_fde(fde) / __unw_remove_dynamic_fde:
 *                   one FDE (its CIE is found through the CIE pointer)
 *   libgcc          __register_frame(begin) / __deregister_frame(begin):
 *                   a whole .eh_frame section, zero-terminated; libgcc
 *                   allocates its own bookkeeping object, so deregistering
 *                   a begin it does not know aborts - we only ever hand it
 *                   back what it took
 *
 * Which one unwinds is decided by what the program links, so it is looked
 * up once at run time in the global scope (dlsym RTLD_DEFAULT): libunwind's
 * own entry first (libunwind also defines __register_frame, with one-FDE
 * semantics on some versions), then libgcc's. A C program that has not
 * loaded libgcc_s yet (glibc loads it lazily, for backtrace() or thread
 * cancellation) gets it loaded here: that is the copy glibc loads later.
 */
#include "debug/debug_p.h"

#include "core/error.h"

#if !defined(_WIN32) && !defined(__APPLE__) && (defined(__x86_64__) || defined(__i386__))

#include <dlfcn.h>
#include <string.h>
#include <pthread.h>

typedef void (*frame_fn)(const void *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static frame_fn add_fn, remove_fn;
static const char *kind; /* "libunwind", "libgcc" or NULL */
static int per_fde;

static frame_fn sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    frame_fn f;
    memcpy(&f, &p, sizeof f); /* object to function pointer, as POSIX allows */
    return f;
}

static void detect(void)
{
    void *h;
    add_fn = sym(RTLD_DEFAULT, "__unw_add_dynamic_fde");
    remove_fn = sym(RTLD_DEFAULT, "__unw_remove_dynamic_fde");
    if (add_fn && remove_fn) {
        kind = "libunwind";
        per_fde = 1;
        return;
    }
    add_fn = sym(RTLD_DEFAULT, "__register_frame");
    remove_fn = sym(RTLD_DEFAULT, "__deregister_frame");
    if (!add_fn || !remove_fn) {
        h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL);
        if (h) {
            add_fn = sym(h, "__register_frame");
            remove_fn = sym(h, "__deregister_frame");
        }
    }
    if (add_fn && remove_fn)
        kind = "libgcc";
}

const char *jk__unwind_name(void)
{
    pthread_once(&once, detect);
    return kind;
}

int jk__unwind_wants_eh_frame(void)
{
    return jk__unwind_name() != NULL;
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    (void)cfi;
    if (!jk__unwind_name() || !f->eh)
        return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: no unwinder in this process");
    /* the FDE follows the CIE; its size is in the CIE's length field */
    f->unwind = per_fde ? f->eh + 4 + (f->eh[0] | (unsigned)f->eh[1] << 8) : f->eh;
    add_fn(f->unwind);
    return JK_OK;
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    if (f->unwind)
        remove_fn(f->unwind);
    f->unwind = NULL;
}

#elif !defined(_WIN32)

/* No unwinder we know how to feed (macOS has its own dynamic-FDE entry,
 * AArch64 needs a CIE of its own: not done yet). */
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
