/*
 * cli/call.c - how `jitkit run` calls the code it was given.
 *
 * The code's signature is known only at run time: the types of --args in
 * their order and --ret. A C call through a function pointer needs one
 * prototype per signature, so on x86 the call is made by generated code:
 * a small function built with the frame builder (include/jitkit/func.h),
 *
 *     void call_into(run_block *b);
 *
 * whose body loads b->v[0..n-1] where the host's C convention puts the
 * arguments of a function of that signature (registers, stack slots,
 * Win64's positional registers and shadow space, cdecl's stack image),
 * calls the code, and stores its result in b->ret. It lives in the code
 * heap (one call: jk_x86_install_heap) and is freed after the call. The
 * code is reached by `call rel32` when it is near, otherwise through a
 * slot; the builder keeps the stack aligned for it.
 *
 * Other hosts (AArch64) have no frame builder yet: there the call is a C
 * call with integer and floating-point arguments counted apart, which is
 * what AAPCS64 (like System V) does with them.
 */
#include <jitkit/jitkit.h>

#include "cli.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#  define HOST_X86 1
#  if defined(__x86_64__) || defined(_M_X64)
#    define HOST_MODE JK_X86_MODE64
#    define HOST_BITS 64u
#  else
#    define HOST_MODE JK_X86_MODE32
#    define HOST_BITS 32u
#  endif
#else
#  define HOST_X86 0
#endif

/* What the generated caller reads and writes: each value in an 8-byte
 * slot (an integer's low 4 bytes on x86-32 are the integer). */
typedef struct run_block {
    uint64_t v[RUN_MAX_ARGS];
    uint64_t ret;
} run_block;

int run_max_args(void)
{
    return HOST_X86 ? RUN_MAX_ARGS : RUN_MAX_INT_ARGS + RUN_MAX_DBL_ARGS;
}

#if HOST_X86
/* Build call_into for the signature of a. Returns the assembler's status
 * (its error says what went wrong), or -1 with err set when the signature
 * cannot be laid out. */
static int build_caller(jk_x86_asm *x, jk_x86_frame *f, const run_args *a, uint64_t target,
                        jk_error *err)
{
    const unsigned word = HOST_BITS / 8;
    const jk_x86_rclass gp = HOST_BITS == 64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32;
    const jk_x86_op blk = jk_x86_reg(gp, 3); /* rbx / ebx: callee-saved in every host ABI */
    jk_sig callee;
    jk_frame_desc d;
    jk_x86_op ops[RUN_MAX_ARGS], p0;
    jk_call_layout lay;
    const int32_t ret_off = (int32_t)offsetof(run_block, ret);

    jk_sig_init(&callee, JK_ABI_HOST, a->ret_dbl ? JK_TYPE_F64 : JK_TYPE_PTR);
    for (int k = 0; k < a->n; k++) {
        jk_sig_add(&callee, a->a[k].dbl ? JK_TYPE_F64 : JK_TYPE_PTR);
        ops[k] = jk_x86_mem(a->a[k].dbl ? 8u : word, blk, JK_NOREG, 1, 8 * k);
    }
    if (jk_abi_layout(&callee, HOST_BITS, &lay, err) != JK_OK)
        return -1;

    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_VOID);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    d.saved = 1u << 3;
    if (jk_frame_reserve_call(&d, HOST_BITS, &callee, err) != JK_OK)
        return -1;

    jk_x86_prologue(x, f, &d);
    jk_x86_frame_param(f, 0, &p0);
    jk_x86_mov(x, blk, p0);
    jk_x86_call_abi(x, f, &callee, jk_x86_imm((int64_t)target), (unsigned)a->n, ops);
    switch (lay.ret.kind) {
    case JK_LOC_VEC:
        jk_x86_movsd2(x, jk_qword(blk, ret_off), jk_x86_reg(JK_X86_RC_XMM, lay.ret.reg));
        break;
    case JK_LOC_X87:
        jk_x86_fstp(x, jk_qword(blk, ret_off));
        break;
    default:
        jk_x86_mov(x, jk_x86_mem(word, blk, JK_NOREG, 1, ret_off), jk_x86_reg(gp, lay.ret.reg));
        break;
    }
    return (int)jk_x86_epilogue(x, f);
}

/* Register the caller with dbg as jit:call, with the unwind rules of its
 * frame (so backtraces from the code pass through it to run_call). */
static int name_caller(jk_debug *dbg, const jk_x86_asm *x, const jk_x86_frame *f, void *fn,
                       jk_error *err)
{
    jk_cfi *cfi;
    size_t size;
    int ok;
    jk_x86_finish((jk_x86_asm *)x, &size);
    if (jk_cfi_new(&cfi, JK_CFI_HOST, err) != JK_OK)
        return 0;
    ok = jk_x86_frame_cfi(cfi, x, f, (uint32_t)size, err) == JK_OK &&
         jk_debug_register(dbg, fn, size, "jit:call", cfi, err) == JK_OK;
    jk_cfi_free(cfi);
    return ok;
}
#endif

int run_call(void *code, const run_args *a, jk_debug *dbg, run_result *r)
{
#if HOST_X86
    jk_x86_asm *x;
    jk_x86_frame f;
    jk_error err;
    jk_heap *heap;
    void *fn;
    void (*call_into)(run_block *);
    run_block b;
    int st;

    memset(&b, 0, sizeof b);
    for (int k = 0; k < a->n; k++) {
        if (a->a[k].dbl)
            memcpy(&b.v[k], &a->a[k].d, sizeof(double));
        else
            b.v[k] = (uint64_t)(int64_t)a->a[k].i;
    }
    if (jk_x86_new(&x, HOST_MODE, &err) != JK_OK) {
        fprintf(stderr, "%s: run: %s\n", prog, err.message);
        return -1;
    }
    st = build_caller(x, &f, a, (uint64_t)(uintptr_t)code, &err);
    if (st < 0) {
        fprintf(stderr, "%s: run: %s\n", prog, err.message);
        jk_x86_free(x);
        return -1;
    }
    if (st == JK_OK && jk_heap_default(&heap, &err) != JK_OK) {
        fprintf(stderr, "%s: run: %s\n", prog, err.message);
        jk_x86_free(x);
        return -1;
    }
    if (st == JK_OK)
        st = (int)jk_x86_install_heap(x, heap, &fn);
    if (st != JK_OK) {
        fprintf(stderr, "%s: run: cannot build the call: %s\n", prog, jk_x86_error(x)->message);
        jk_x86_free(x);
        return -1;
    }
    if (!name_caller(dbg, x, &f, fn, &err)) {
        fprintf(stderr, "%s: run: %s\n", prog, err.message);
        jk_x86_free(x);
        jk_heap_free(heap, fn, NULL);
        return -1;
    }
    jk_x86_free(x);
    memcpy(&call_into, &fn, sizeof fn);
    call_into(&b);
    if (a->ret_dbl)
        memcpy(&r->d, &b.ret, sizeof(double));
    else
        r->i = (intptr_t)b.ret;
    if (jk_debug_unregister(dbg, fn, &err) != JK_OK || jk_heap_free(heap, fn, &err) != JK_OK) {
        fprintf(stderr, "%s: run: %s\n", prog, err.message);
        return -1;
    }
    return 0;
#else
    intptr_t iv[RUN_MAX_INT_ARGS] = {0};
    (void)dbg;
    double dv[RUN_MAX_DBL_ARGS] = {0};
    int ni = 0, nd = 0;
    for (int k = 0; k < a->n; k++) {
        if (a->a[k].dbl)
            dv[nd++] = a->a[k].d;
        else
            iv[ni++] = a->a[k].i;
    }
    if (a->ret_dbl) {
        double (*f)(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, double, double,
                    double, double, double, double, double, double);
        memcpy(&f, &code, sizeof f);
        r->d = f(iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], dv[0], dv[1], dv[2], dv[3], dv[4],
                 dv[5], dv[6], dv[7]);
    } else {
        intptr_t (*f)(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, double,
                      double, double, double, double, double, double, double);
        memcpy(&f, &code, sizeof f);
        r->i = f(iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], dv[0], dv[1], dv[2], dv[3], dv[4],
                 dv[5], dv[6], dv[7]);
    }
    return 0;
#endif
}
