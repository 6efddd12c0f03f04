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
 * jit_outer keeps a frame pointer; its prologue is described for the
 * unwinder with the jk_cfi verbs, the C version of GNU as's .cfi_*
 * directives:
 *
 *     push rbp          .cfi_def_cfa_offset 16 / .cfi_offset rbp, -16
 *     mov rbp, rsp      .cfi_def_cfa_register rbp
 *     (sub rsp, 32      Win64 shadow space)
 *     mov rax, host_callback
 *     call rax
 *     (add rsp, 32)
 *     pop rbp           .cfi_def_cfa rsp, 8
 *     ret
 */
#include <jitkit/jitkit.h>
#include <jitkit/debug.h>

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
#if defined(_WIN32)
    const jk_x86_op arg = JK_RCX;
    const int shadow = 32;
#else
    const jk_x86_op arg = JK_RDI;
    const int shadow = 0;
#endif
    long (*cb)(long) = host_callback;
    long (*jit_outer)(long);
    uint64_t cb_addr;
    unsigned char code[64];
    uint32_t after_push, after_mov, after_pop;
    size_t size;
    jk_debug_options dopt = {JK_DEBUG_UNWIND | JK_DEBUG_GDB, NULL};
    jk_x86_asm *a;
    jk_cfi *cfi;
    jk_debug *dbg;
    jk_mem *mem;
    jk_error err;
    void *entry;
    long r;

    memcpy(&cb_addr, &cb, sizeof cb < sizeof cb_addr ? sizeof cb : sizeof cb_addr);
    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    jk_x86_push(a, JK_RBP);
    after_push = (uint32_t)jk_x86_offset(a);
    jk_x86_mov(a, JK_RBP, JK_RSP);
    after_mov = (uint32_t)jk_x86_offset(a);
    if (shadow)
        jk_x86_sub(a, JK_RSP, jk_x86_imm(shadow));
    (void)arg; /* the argument stays where it is: host_callback takes it */
    jk_x86_mov(a, JK_RAX, jk_x86_imm((int64_t)cb_addr));
    jk_x86_call(a, JK_RAX);
    if (shadow)
        jk_x86_add(a, JK_RSP, jk_x86_imm(shadow));
    jk_x86_pop(a, JK_RBP);
    after_pop = (uint32_t)jk_x86_offset(a);
    jk_x86_ret(a);
    if (jk_x86_finish(a, &size) != JK_OK || jk_x86_copy(a, code, sizeof code, 0) != JK_OK) {
        fprintf(stderr, "visible: %s\n", jk_x86_error(a)->message);
        return 1;
    }
    jk_x86_free(a);

    /* the unwind rules, at the offsets the assembler reported */
    if (jk_cfi_new(&cfi, JK_CFI_X86_64, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    jk_cfi_startproc(cfi);
    jk_cfi_def_cfa_offset(cfi, after_push, 16);
    jk_cfi_offset(cfi, after_push, JK_DW_X64_RBP, -16);
    jk_cfi_def_cfa_register(cfi, after_mov, JK_DW_X64_RBP);
    jk_cfi_def_cfa(cfi, after_pop, JK_DW_X64_RSP, 8);
    if (jk_cfi_endproc(cfi, (uint32_t)size) != JK_OK) {
        fprintf(stderr, "visible: %s\n", jk_cfi_error(cfi)->message);
        return 1;
    }

#if defined(__linux__)
    dopt.flags |= JK_DEBUG_PERF_MAP;
#endif
    if (jk_debug_new(&dbg, &dopt, &err) != JK_OK ||
        jk_mem_load(&mem, code, size, NULL, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    entry = jk_mem_exec(mem);
    if (jk_debug_register(dbg, entry, size, "jit_outer", cfi, &err) != JK_OK) {
        fprintf(stderr, "visible: %s\n", err.message);
        return 1;
    }
    printf("jit_outer at %p (%zu bytes), unwinder %s\n", entry, size, jk_debug_unwinder());
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
    jk_cfi_free(cfi);
    return r == 41 ? 0 : 1;
}
