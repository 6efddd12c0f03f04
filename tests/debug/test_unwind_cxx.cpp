/*
 * test_unwind_cxx.cpp - C++ exceptions and backtraces through JIT code.
 *
 * The JIT function (jitfn.h: frame pointer, a saved rbx, a call through a
 * register) calls a host callback. With its unwind rules registered:
 *   - an exception thrown in the callback is caught in the C++ caller of
 *     the JIT function, and the caller's callee-saved state survives;
 *   - _Unwind_Backtrace and glibc backtrace() called in the callback list
 *     the JIT frame, then jt_caller, then main;
 *   - the same through 1000 functions in a code heap (the 500th one);
 * and, as the control that proves the registration is what matters, the
 * same throw through an unregistered copy terminates the process (checked
 * in a forked child).
 */
#include "jitfn.h"
#include "jt.h"

#include <stdexcept>
#include <string>

#include <unwind.h>
#if defined(__GLIBC__)
#  include <execinfo.h>
#endif
#if !defined(_WIN32)
#  include <dlfcn.h>
#  include <signal.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

static jk_debug *dbg;
static void *jit_code;
static size_t jit_size;
static void *trace[64];
static int ntrace;

static long cb_throw(long v)
{
    throw std::runtime_error("from the callback " + std::to_string(v));
}

static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *)
{
    if (ntrace < 64)
        trace[ntrace++] = (void *)_Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}

static long cb_unwind_trace(long v)
{
    ntrace = 0;
    _Unwind_Backtrace(collect, nullptr);
    return 2 * v;
}

#if defined(__GLIBC__)
static long cb_glibc_trace(long v)
{
    ntrace = backtrace(trace, 64);
    return 3 * v;
}
#endif

/* A real frame between the test and the JIT function (no tail call). */
extern "C" __attribute__((noinline)) long jt_caller(jf_outer f, jf_cb cb, long v)
{
    volatile long r = f(cb, v);
    return r;
}

static int in_jit(void *pc, void *code, size_t size)
{
    /* return addresses point after the call: pc - 1 is inside */
    uintptr_t p = (uintptr_t)pc - 1, c = (uintptr_t)code;
    return p >= c && p < c + size;
}

extern "C" long jt_caller(jf_outer f, jf_cb cb, long v);

static const char *sym_of(void *pc)
{
#if !defined(_WIN32)
    Dl_info info;
    if (dladdr((void *)((uintptr_t)pc - 1), &info) && info.dli_sname)
        return info.dli_sname;
#else
    /* no dladdr: jt_caller is a few dozen bytes; main stays unnamed */
    uintptr_t p = (uintptr_t)pc - 1, c = (uintptr_t)(void *)jt_caller;
    if (p >= c && p < c + 128)
        return "jt_caller";
#endif
    return "?";
}

/* The trace holds the JIT frame, then jt_caller right after it, then main
 * (or, below it, libc's entry). */
static int check_trace(void *code, size_t size, char *why, size_t n)
{
    int i, j;
    for (i = 0; i < ntrace; i++)
        if (in_jit(trace[i], code, size))
            break;
    if (i == ntrace) {
        snprintf(why, n, "no JIT frame among %d frames", ntrace);
        return 0;
    }
    if (i + 1 >= ntrace || strcmp(sym_of(trace[i + 1]), "jt_caller") != 0) {
        snprintf(why, n, "frame after the JIT one is %s", i + 1 < ntrace ? sym_of(trace[i + 1]) : "missing");
        return 0;
    }
#if defined(_WIN32)
    if (ntrace > i + 3)
        return 1; /* and beyond: main and the C runtime's entry */
#endif
    for (j = i + 1; j < ntrace; j++) /* main may have inlined the test */
        if (strcmp(sym_of(trace[j]), "main") == 0 ||
            strcmp(sym_of(trace[j]), "__libc_start_main") == 0)
            return 1; /* main itself may be split (main.cold has no export) */
    snprintf(why, n, "main not reached (%d frames:", ntrace);
    for (j = 0; j < ntrace; j++) {
        size_t l = strlen(why);
        snprintf(why + l, n - l, " %s", in_jit(trace[j], code, size) ? "JIT" : sym_of(trace[j]));
    }
    if (strlen(why) + 1 < n)
        strcat(why, ")");
    return 0;
}

static jf_code code;

/* The catch right in the JIT function's caller. */
__attribute__((noinline)) static int direct_catch(jf_outer f)
{
    try {
        f(cb_throw, 3);
    } catch (const std::runtime_error &e) {
        return strcmp(e.what(), "from the callback 3") == 0 ? 1 : 2;
    }
    return 0;
}

static void test_exception_caught(void)
{
    JT_EQ_I64(direct_catch(jf_as_outer(jit_code)), 1);
    int caught = 0;
    std::string what;
    try {
        jt_caller(jf_as_outer(jit_code), cb_throw, 41);
    } catch (const std::runtime_error &e) {
        caught = 1;
        what = e.what();
    }
    JT_CHECK(caught);
    JT_EQ_STR(what.c_str(), "from the callback 41");
    /* and the code still works normally afterwards */
    JT_EQ_I64(jt_caller(jf_as_outer(jit_code), cb_unwind_trace, 5), 11);
}

static void test_exception_callee_saved(void)
{
    /* values live in callee-saved registers across the throw must survive:
       the unwinder restores rbx from the JIT frame's save slot */
    volatile long sum = 0;
    for (long i = 0; i < 50; i++) {
        try {
            jt_caller(jf_as_outer(jit_code), cb_throw, i);
        } catch (const std::exception &) {
            sum += i;
        }
    }
    JT_EQ_I64(sum, 49 * 50 / 2);
}

static void test_unwind_backtrace(void)
{
    char why[512] = "";
    JT_EQ_I64(jt_caller(jf_as_outer(jit_code), cb_unwind_trace, 20), 41);
    JT_CHECK_MSG(check_trace(jit_code, jit_size, why, sizeof why), "%s", why);
}

static void test_glibc_backtrace(void)
{
#if defined(__GLIBC__)
    char why[512] = "";
    JT_EQ_I64(jt_caller(jf_as_outer(jit_code), cb_glibc_trace, 20), 61);
    JT_CHECK_MSG(check_trace(jit_code, jit_size, why, sizeof why), "%s", why);
#else
    printf("skip glibc backtrace(): not glibc\n");
#endif
}

static void test_many_in_heap(void)
{
    jk_heap *h;
    jk_error err;
    static void *fns[1000];
    jk_cfi *cfi;
    int caught = 0;
    char why[512] = "";
    JT_OK(jk_heap_new(&h, NULL, &err), &err);
    JT_OK(jk_cfi_new(&cfi, JK_CFI_HOST, &err), &err);
    JT_CHECK(jf_build(&code, cfi) == 0);
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "jit_many_%d", i);
        JT_OK(jk_debug_heap_install(dbg, h, code.bytes, code.size, name, cfi, &fns[i], &err),
              &err);
    }
    JT_EQ_U64(jk_debug_count(dbg), 1001);
    try {
        jt_caller(jf_as_outer(fns[500]), cb_throw, 7);
    } catch (const std::runtime_error &) {
        caught = 1;
    }
    JT_CHECK(caught);
    JT_EQ_I64(jt_caller(jf_as_outer(fns[999]), cb_unwind_trace, 1), 3);
    JT_CHECK_MSG(check_trace(fns[999], code.size, why, sizeof why), "%s", why);
    /* free every other one; the rest keep working */
    for (int i = 0; i < 1000; i += 2)
        JT_OK(jk_debug_heap_free(dbg, h, fns[i], &err), &err);
    caught = 0;
    try {
        jt_caller(jf_as_outer(fns[501]), cb_throw, 7);
    } catch (const std::runtime_error &) {
        caught = 1;
    }
    JT_CHECK(caught);
    for (int i = 1; i < 1000; i += 2)
        JT_OK(jk_debug_heap_free(dbg, h, fns[i], &err), &err);
    JT_EQ_U64(jk_debug_count(dbg), 1);
    jk_cfi_free(cfi);
    JT_OK(jk_heap_destroy(h, &err), &err);
}

/* A function built with the frame builder (frame pointer, saved registers,
 * locals) installed and registered in one call (jk_x86_install_heap_debug):
 * the exception from the callback crosses it and is caught here, and the
 * callee-saved registers it used are restored on the way. */
#include "jitkit/func.h"

static void test_frame_builder_install_debug(void)
{
#if defined(__x86_64__) || defined(_M_X64)
    const jk_x86_mode mode = JK_X86_MODE64;
    const unsigned bits = 64, word_rc = JK_X86_RC_GP64;
    const uint32_t saved = 1u << 3 | 1u << 12 | 1u << 13; /* rbx, r12, r13 */
#else
    const jk_x86_mode mode = JK_X86_MODE32;
    const unsigned bits = 32, word_rc = JK_X86_RC_GP32;
    const uint32_t saved = 1u << 3 | 1u << 6 | 1u << 7; /* ebx, esi, edi */
#endif
    for (unsigned variant = 0; variant < 2; variant++) {
        jk_x86_asm *a;
        jk_error err;
        jk_heap *h;
        jk_frame_desc d;
        jk_x86_frame f;
        jk_sig cb;
        jk_x86_op p0, p1, arg;
        jk_x86_op keep = jk_x86_reg((jk_x86_rclass)word_rc, 3);
        jk_x86_op acc = jk_x86_reg((jk_x86_rclass)word_rc, 0);
        void *fn = NULL;
        int caught = 0;
        size_t before = jk_debug_count(dbg);
        memset(&d, 0, sizeof d);
        jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_PTR);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        jk_sig_init(&cb, JK_ABI_HOST, JK_TYPE_PTR);
        jk_sig_add(&cb, JK_TYPE_PTR);
        d.saved = saved;
        d.local_size = 40;
        d.flags = JK_FRAME_FP | (variant ? JK_FRAME_REALIGN : 0u);
        d.local_align = variant ? 32 : 0;
        JT_OK(jk_frame_reserve_call(&d, bits, &cb, &err), &err);
        JT_OK(jk_x86_new(&a, mode, &err), &err);
        jk_x86_prologue(a, &f, &d);
        jk_x86_frame_param(&f, 0, &p0);
        jk_x86_frame_param(&f, 1, &p1);
        jk_x86_mov(a, keep, p0);
        /* clobber the other saved registers: the unwinder must restore them */
        for (unsigned r = 4; r < 16; r++)
            if (saved >> r & 1u)
                jk_x86_mov(a, jk_x86_reg((jk_x86_rclass)word_rc, r), jk_imm(-1));
        arg = p1;
        jk_x86_call_abi(a, &f, &cb, keep, 1, &arg);
        jk_x86_add(a, acc, jk_imm(1));
        jk_x86_epilogue(a, &f);
        JT_OK(jk_heap_default(&h, &err), &err);
        JT_OK(jk_x86_install_heap_debug(a, h, dbg, "jit_frame_builder", &f, &fn, &err), &err);
        JT_EQ_U64(jk_debug_count(dbg), before + 1);
        JT_EQ_I64(jt_caller(jf_as_outer(fn), cb_unwind_trace, 4), 9);
        try {
            jt_caller(jf_as_outer(fn), cb_throw, 9);
        } catch (const std::runtime_error &e) {
            caught = strcmp(e.what(), "from the callback 9") == 0 ? 1 : 2;
        }
        JT_EQ_I64(caught, 1);
        {
            /* values in callee-saved registers in this frame survive */
            volatile long sum = 0;
            for (long i = 0; i < 20; i++) {
                try {
                    jt_caller(jf_as_outer(fn), cb_throw, i);
                } catch (const std::exception &) {
                    sum += i;
                }
            }
            JT_EQ_I64(sum, 19 * 20 / 2);
        }
        JT_OK(jk_debug_heap_free(dbg, h, fn, &err), &err);
        JT_EQ_U64(jk_debug_count(dbg), before);
        /* the refusals leave nothing behind */
        JT_EQ_U64(jk_x86_install_heap_debug(a, NULL, dbg, "x", &f, &fn, &err), JK_EINVAL);
        JT_CHECK(fn == NULL);
        jk_x86_free(a);
    }
}

/* The same with the rules written as .cfi_* directives in text and
 * registered with jk_asm_debug_register. */
#include "text_outer.h"

static void test_text_cfi_exception(void)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    jk_mem *m;
    void *entry;
    int caught = 0;
    std::string what;
    o.mode = TEXT_OUTER_MODE;
    JT_OK(jk_asm_new(&as, &o, &err), &err);
    JT_CHECK_MSG(jk_asm_assemble(as, TEXT_OUTER, (size_t)-1) == JK_OK, "%s",
                 jk_asm_diag_text(as, 0));
    JT_CHECK(jk_asm_install(as, NULL, &m, &entry) == JK_OK);
    JT_OK(jk_asm_debug_register(as, dbg, entry, &err), &err);
    try {
        jt_caller(jf_as_outer(entry), cb_throw, 7);
    } catch (const std::runtime_error &e) {
        caught = 1;
        what = e.what();
    }
    JT_CHECK(caught);
    JT_EQ_STR(what.c_str(), "from the callback 7");
    JT_EQ_I64(jt_caller(jf_as_outer(entry), cb_unwind_trace, 5), 11);
    JT_OK(jk_asm_debug_unregister(as, dbg, entry, &err), &err);
    jk_mem_free(m, NULL);
    jk_asm_free(as);
}

static void test_unregistered_terminates(void)
{
#if !defined(_WIN32)
    /* the control: the same code, not registered, cannot be unwound */
    jk_mem *m;
    jk_error err;
    int status = 0;
    pid_t pid;
    fflush(stdout);
    JT_OK(jk_mem_load(&m, code.bytes, code.size, NULL, &err), &err);
    pid = fork();
    JT_CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        try {
            jt_caller(jf_as_outer(jk_mem_exec(m)), cb_throw, 1);
        } catch (...) {
            _exit(0); /* caught: the unwinder got through without help */
        }
        _exit(3);
    }
    JT_CHECK(waitpid(pid, &status, 0) == pid);
    JT_CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                 "child status 0x%x: expected std::terminate (SIGABRT)", status);
    jk_mem_free(m, NULL);
#endif
}

int main(int argc, char **argv)
{
    jk_error err;
    jk_cfi *cfi;
    jk_mem *m;
    if (argc > 1)
        jt_only = argv[1];
    printf("unwinder: %s\n", jk_debug_unwinder());
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0 ||
        jk_mem_load(&m, code.bytes, code.size, NULL, &err) != JK_OK ||
        jk_debug_new(&dbg, NULL, &err) != JK_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    jit_code = jk_mem_exec(m);
    jit_size = code.size;
    if (jk_debug_register(dbg, jit_code, jit_size, "jit_outer", cfi, &err) != JK_OK) {
        fprintf(stderr, "register: %s\n", err.message);
        return 1;
    }
    JT_RUN(test_exception_caught);
    JT_RUN(test_exception_callee_saved);
    JT_RUN(test_unwind_backtrace);
    JT_RUN(test_glibc_backtrace);
    JT_RUN(test_many_in_heap);
    JT_RUN(test_frame_builder_install_debug);
    JT_RUN(test_text_cfi_exception);
    JT_RUN(test_unregistered_terminates);
    jk_debug_unregister(dbg, jit_code, NULL);
    jk_debug_destroy(dbg, NULL);
    jk_mem_free(m, NULL);
    jk_cfi_free(cfi);
    return jt_finish();
}
