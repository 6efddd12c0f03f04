/*
 * jitfn.h - the JIT function the debug tests unwind through, built with the
 * x86 C API and described with jk_cfi from the offsets the assembler
 * reports after each prologue/epilogue instruction:
 *
 *     long outer(long (*cb)(long), long arg) { return cb(arg) + 1; }
 *
 *   x86-64 System V              Win64                  i386 cdecl
 *   push rbp                     push rbp               push ebp
 *   mov rbp, rsp                 push rbx               mov ebp, esp
 *   push rbx                     sub rsp, 40            push ebx
 *   sub rsp, 8                   lea rbp, [rsp+32]      sub esp, 20
 *   mov rbx, rdi                 mov rbx, rcx           mov eax, [ebp+12]
 *   mov rdi, rsi                 mov rcx, rdx           mov [esp], eax
 *   call rbx                     call rbx               call [ebp+8]
 *   add rax, 1 / add rsp, n / pop rbx / pop rbp / ret (the same, 32-bit)
 *
 * (Win64 sets the frame register last, the order UNWIND_INFO can express.)
 *
 * The frame pointer, a saved callee-saved register and an aligned call make
 * an unwinder that ignores the description fail.
 */
#ifndef JITFN_H
#define JITFN_H

#include "jitkit/jitkit.h"
#include "jitkit/debug.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define JF_64 1
#else
#  define JF_64 0
#endif
#if defined(_WIN32)
#  define JF_FRAME 40 /* 32 bytes of shadow space + alignment */
#else
#  define JF_FRAME 8
#endif

typedef long (*jf_cb)(long);
typedef long (*jf_outer)(jf_cb, long);

typedef struct jf_code {
    unsigned char bytes[128];
    size_t size;
} jf_code;

/* Assemble the function into out->bytes and describe it in cfi (reset
 * first). 0 on success. */
static inline int jf_build(jf_code *out, jk_cfi *cfi)
{
    jk_x86_asm *a;
    uint32_t o[8] = {0};
    unsigned bp = JF_64 ? JK_DW_X64_RBP : JK_DW_X86_EBP;
    unsigned bx = JF_64 ? JK_DW_X64_RBX : JK_DW_X86_EBX;
    unsigned sp = JF_64 ? JK_DW_X64_RSP : JK_DW_X86_ESP;
    int w = JF_64 ? 8 : 4;
    if (jk_x86_new(&a, JF_64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL) != JK_OK)
        return -1;
#if JF_64 && defined(_WIN32)
    /* Win64 order: pushes and allocation first, the frame register last
       (UNWIND_INFO cannot describe rsp changes after it) */
    jk_x86_push(a, JK_RBP);
    o[0] = (uint32_t)jk_x86_offset(a);
    jk_x86_push(a, JK_RBX);
    o[1] = (uint32_t)jk_x86_offset(a);
    jk_x86_sub(a, JK_RSP, jk_x86_imm(JF_FRAME));
    o[2] = (uint32_t)jk_x86_offset(a);
    jk_x86_lea(a, JK_RBP, jk_x86_mem(8, JK_RSP, JK_NOREG, 1, 32));
    o[3] = (uint32_t)jk_x86_offset(a);
    jk_x86_mov(a, JK_RBX, JK_RCX);
    jk_x86_mov(a, JK_RCX, JK_RDX);
    jk_x86_call(a, JK_RBX);
    jk_x86_add(a, JK_RAX, jk_x86_imm(1));
    jk_x86_add(a, JK_RSP, jk_x86_imm(JF_FRAME));
    o[4] = (uint32_t)jk_x86_offset(a);
    jk_x86_pop(a, JK_RBX);
    o[5] = (uint32_t)jk_x86_offset(a);
    jk_x86_pop(a, JK_RBP);
    o[6] = (uint32_t)jk_x86_offset(a);
    jk_x86_ret(a);
    if (jk_x86_finish(a, &out->size) != JK_OK ||
        jk_x86_copy(a, out->bytes, sizeof out->bytes, 0) != JK_OK) {
        fprintf(stderr, "jf_build: %s\n", jk_x86_error(a)->message);
        jk_x86_free(a);
        return -1;
    }
    jk_x86_free(a);
    jk_cfi_reset(cfi);
    jk_cfi_startproc(cfi);
    jk_cfi_def_cfa_offset(cfi, o[0], 16);
    jk_cfi_offset(cfi, o[0], bp, -16);
    jk_cfi_def_cfa_offset(cfi, o[1], 24);
    jk_cfi_offset(cfi, o[1], bx, -24);
    jk_cfi_def_cfa_offset(cfi, o[2], 24 + JF_FRAME);
    jk_cfi_def_cfa(cfi, o[3], bp, 24 + JF_FRAME - 32);
    jk_cfi_def_cfa(cfi, o[4], sp, 24);
    jk_cfi_def_cfa_offset(cfi, o[5], 16);
    jk_cfi_restore(cfi, o[5], bx);
    jk_cfi_def_cfa_offset(cfi, o[6], 8);
    jk_cfi_restore(cfi, o[6], bp);
    (void)w;
    if (jk_cfi_endproc(cfi, (uint32_t)out->size) != JK_OK) {
        fprintf(stderr, "jf_build: %s\n", jk_cfi_error(cfi)->message);
        return -1;
    }
    return 0;
#elif JF_64
    jk_x86_push(a, JK_RBP);
    o[0] = (uint32_t)jk_x86_offset(a);
    jk_x86_mov(a, JK_RBP, JK_RSP);
    o[1] = (uint32_t)jk_x86_offset(a);
    jk_x86_push(a, JK_RBX);
    o[2] = (uint32_t)jk_x86_offset(a);
    jk_x86_sub(a, JK_RSP, jk_x86_imm(JF_FRAME));
    jk_x86_mov(a, JK_RBX, JK_RDI);
    jk_x86_mov(a, JK_RDI, JK_RSI);
    jk_x86_call(a, JK_RBX);
    jk_x86_add(a, JK_RAX, jk_x86_imm(1));
    jk_x86_add(a, JK_RSP, jk_x86_imm(JF_FRAME));
    jk_x86_pop(a, JK_RBX);
    o[3] = (uint32_t)jk_x86_offset(a);
    jk_x86_pop(a, JK_RBP);
    o[4] = (uint32_t)jk_x86_offset(a);
#else
    jk_x86_push(a, JK_EBP);
    o[0] = (uint32_t)jk_x86_offset(a);
    jk_x86_mov(a, JK_EBP, JK_ESP);
    o[1] = (uint32_t)jk_x86_offset(a);
    jk_x86_push(a, JK_EBX);
    o[2] = (uint32_t)jk_x86_offset(a);
    jk_x86_sub(a, JK_ESP, jk_x86_imm(20));
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_EBP, JK_NOREG, 1, 12));
    jk_x86_mov(a, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 0), JK_EAX);
    jk_x86_call(a, jk_x86_mem(4, JK_EBP, JK_NOREG, 1, 8));
    jk_x86_add(a, JK_EAX, jk_x86_imm(1));
    jk_x86_add(a, JK_ESP, jk_x86_imm(20));
    jk_x86_pop(a, JK_EBX);
    o[3] = (uint32_t)jk_x86_offset(a);
    jk_x86_pop(a, JK_EBP);
    o[4] = (uint32_t)jk_x86_offset(a);
#endif
    jk_x86_ret(a);
    if (jk_x86_finish(a, &out->size) != JK_OK ||
        jk_x86_copy(a, out->bytes, sizeof out->bytes, 0) != JK_OK) {
        fprintf(stderr, "jf_build: %s\n", jk_x86_error(a)->message);
        jk_x86_free(a);
        return -1;
    }
    jk_x86_free(a);
    jk_cfi_reset(cfi);
    jk_cfi_startproc(cfi);
    jk_cfi_def_cfa_offset(cfi, o[0], 2 * w);
    jk_cfi_offset(cfi, o[0], bp, -2 * w);
    jk_cfi_def_cfa_register(cfi, o[1], bp);
    jk_cfi_offset(cfi, o[2], bx, -3 * w);
    jk_cfi_restore(cfi, o[3], bx);
    jk_cfi_def_cfa(cfi, o[4], sp, w);
    jk_cfi_restore(cfi, o[4], bp);
    if (jk_cfi_endproc(cfi, (uint32_t)out->size) != JK_OK) {
        fprintf(stderr, "jf_build: %s\n", jk_cfi_error(cfi)->message);
        return -1;
    }
    return 0;
}

static inline jf_outer jf_as_outer(void *p)
{
    jf_outer f;
    memcpy(&f, &p, sizeof f);
    return f;
}

#endif
