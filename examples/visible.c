/*
 * visible.c - JIT code that debuggers, profilers and unwinders can see.
 *
 * main installs a JIT function named jit_outer that calls the host
 * function host_callback, and registers it with a jk_debug registry that
 * has gdb (and, on Linux, perf map) registration switched on. Run it as it
 * is under gdb - no other setting needed:
 *
 *     $ gdb -batch -ex 'break host_callback' -ex run -ex bt ./example_visible
 *     #0  host_callback (v=20) at visible.c:...
 *     #1  0x00007ffff7fc2010 in jit_outer ()
 *     #2  0x0000555555555234 in main () at visible.c:...
 *
 * A breakpoint on the JIT function by name works too, also set before the
 * program runs ("break jit_outer", answered with a pending breakpoint),
 * and so do `info symbol $pc`, `disassemble jit_outer` and `perf report`
 * (the function appears as jit_outer in /tmp/perf-<pid>.map).
 *
 * jit_outer is built with the frame builder (include/jitkit/func.h): a
 * frame pointer, the host's ABI (System V or Win64, whose shadow space the
 * builder reserves), the call to host_callback marshalled by
 * jk_x86_call_abi. Its unwind rules are not written by hand: the builder
 * records what its prologue and epilogue do and jk_x86_frame_cfi turns
 * that into the rules jk_debug_register takes (jk_x86_install_heap_debug
 * does install and registration in one call for code-heap functions). The
 * same rules could be written as .cfi_* directives in text (docs/text.md).
 */
#include <jitkit/jitkit.h>
#include <jitkit/debug.h>
#include <jitkit/func.h>

#include <stdio.h>
#include <string.h>
#if defined(__linux__)
#  include <unistd.h>
#endif

#if defined(_MSC_VER)
#  define NOINLINE __declspec(noinline)
#else
#  define NOINLINE __attribute__((noinline))
#endif

NOINLINE long host_callback(long v);

NOINLINE long host_callback(long v)
{
    printf("host_callback(%ld) called from JIT code\n", v);
    return 2 * v + 1;
}

int main(void)
{
    long (*cb)(long) = host_callback;
    long (*jit_outer)(long);
    uint64_t cb_addr;
    jk_debug_options dopt = {JK_DEBUG_UNWIND | JK_DEBUG_GDB, NULL};
    jk_frame_desc d;
    jk_x86_frame f;
    jk_sig host;
    jk_x86_op v;
    jk_x86_asm *a;
    jk_debug *dbg;
    jk_mem *mem;
    jk_cfi *cfi;
    size_t size;
    jk_error err;
    void *entry;
    long r;

    memcpy(&cb_addr, &cb, sizeof cb < sizeof cb_addr ? sizeof cb : sizeof cb_addr);
#if defined(__linux__)
    dopt.flags |= JK_DEBUG_PERF_MAP;
#endif
    if (jk_debug_new(&dbg, &dopt, &err) != JK_OK || jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    /* long jit_outer(long v) { return host_callback(v); } with a frame pointer */
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_PTR);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    jk_sig_init(&host, JK_ABI_HOST, JK_TYPE_PTR);
    jk_sig_add(&host, JK_TYPE_PTR);
    d.flags = JK_FRAME_FP;
    jk_frame_reserve_call(&d, 64, &host, NULL);
    jk_x86_prologue(a, &f, &d);
    jk_x86_frame_param(&f, 0, &v);
    jk_x86_call_abi(a, &f, &host, jk_x86_imm((int64_t)cb_addr), 1, &v);
    jk_x86_epilogue(a, &f);
    if (jk_x86_install(a, NULL, &mem, &entry) != JK_OK) {
        fprintf(stderr, "visible: %s\n", jk_x86_error(a)->message);
        return 1;
    }
    /* the rules from the builder's record; then register */
    jk_x86_finish(a, &size);
    if (jk_cfi_new(&cfi, JK_CFI_X86_64, &err) != JK_OK ||
        jk_x86_frame_cfi(cfi, a, &f, (uint32_t)size, &err) != JK_OK ||
        jk_debug_register(dbg, entry, size, "jit_outer", cfi, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    jk_cfi_free(cfi);
    jk_x86_free(a);
    printf("jit_outer at %p, unwinder %s\n", entry, jk_debug_unwinder());
#if defined(__linux__)
    printf("perf map: /tmp/perf-%ld.map\n", (long)getpid());
    fflush(stdout);
#endif

    memcpy(&jit_outer, &entry, sizeof entry);
    r = jit_outer(20);
    printf("jit_outer(20) = %ld\n", r);

    /* unregister before the memory goes away */
    jk_debug_unregister(dbg, entry, NULL);
    jk_mem_free(mem, NULL);
    jk_debug_destroy(dbg, NULL);
    return r == 41 ? 0 : 1;
}
