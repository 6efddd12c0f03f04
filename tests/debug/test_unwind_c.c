/*
 * test_unwind_c.c - _Unwind_Backtrace, called in a host callback that JIT
 * code called, walks through the JIT frame into its C caller and beyond.
 * Plain C, so it also runs where no C++ runtime is installed (x86-32 here);
 * without the registration the walk stops at the JIT frame (checked too).
 */
#include "jitfn.h"
#include "jt.h"

#include <unwind.h>

static void *trace[64];
static int ntrace;

static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
    (void)arg;
    if (ntrace < 64)
        trace[ntrace++] = (void *)_Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}

static long cb_trace(long v)
{
    ntrace = 0;
    _Unwind_Backtrace(collect, NULL);
    return v + 100;
}

/* A real frame below the JIT one (no tail call). */
__attribute__((noinline)) long caller(jf_outer f, long v);
__attribute__((noinline)) long caller(jf_outer f, long v)
{
    volatile long r = f(cb_trace, v);
    return r;
}

static int in_range(void *pc, const void *start, size_t size)
{
    uintptr_t p = (uintptr_t)pc - 1, s = (uintptr_t)start;
    return p >= s && p < s + size;
}

/* index of the JIT frame, or -1 */
static int jit_frame(const void *code, size_t size)
{
    for (int i = 0; i < ntrace; i++)
        if (in_range(trace[i], code, size))
            return i;
    return -1;
}

static jf_code code;
static jk_cfi *cfi;

static void test_walks_through(void)
{
    jk_debug *d;
    jk_mem *m;
    jk_error err;
    void *p;
    int i;
    long (*fcaller)(jf_outer, long) = caller;
    void *caller_addr;
    memcpy(&caller_addr, &fcaller, sizeof caller_addr);
    JT_OK(jk_mem_load(&m, code.bytes, code.size, NULL, &err), &err);
    p = jk_mem_exec(m);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_OK(jk_debug_register(d, p, code.size, "jit_outer", cfi, &err), &err);
    JT_EQ_I64(caller(jf_as_outer(p), 1), 102);
    i = jit_frame(p, code.size);
    JT_CHECK_MSG(i >= 0, "no JIT frame among %d", ntrace);
    JT_CHECK_MSG(i + 1 < ntrace && in_range(trace[i + 1], caller_addr, 256),
                 "the frame after the JIT one (%p) is not in caller (%p)",
                 i + 1 < ntrace ? trace[i + 1] : NULL, caller_addr);
    JT_CHECK_MSG(ntrace >= i + 4, "only %d frames after the JIT one", ntrace - i - 1);
    printf("%d frames, the JIT one at %d\n", ntrace, i);

    /* unregistered, the walk cannot get past the JIT frame */
    JT_OK(jk_debug_unregister(d, p, &err), &err);
    JT_EQ_I64(caller(jf_as_outer(p), 1), 102);
    i = jit_frame(p, code.size);
    JT_CHECK_MSG(i < 0 || i + 1 >= ntrace || !in_range(trace[i + 1], caller_addr, 256),
                 "walked through unregistered code (%d frames)", ntrace);
    jk_debug_destroy(d, NULL);
    jk_mem_free(m, NULL);
}

int main(int argc, char **argv)
{
    jk_error err;
    if (argc > 1)
        jt_only = argv[1];
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0)
        return 1;
    printf("unwinder: %s\n", jk_debug_unwinder());
    JT_RUN(test_walks_through);
    jk_cfi_free(cfi);
    return jt_finish();
}
