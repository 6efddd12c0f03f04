/* gp_jitkit.c - the GP mix (gp_mix.h) through jitkit's typed C API. */
#include "gp_mix.h"

#include <jitkit/x86.h>

#include <stdio.h>

static jk_x86_op r64(unsigned n)
{
    return jk_x86_reg(JK_X86_RC_GP64, n);
}

static jk_x86_op r32(unsigned n)
{
    return jk_x86_reg(JK_X86_RC_GP32, n);
}

unsigned long gp_jitkit(unsigned blocks)
{
    jk_x86_asm *a;
    jk_error err;
    size_t size = 0;

    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        fprintf(stderr, "jitkit: %s\n", err.message);
        return 0;
    }
    for (unsigned b = 0; b < blocks; b++) {
        jk_label top = jk_x86_label(a, NULL), fwd = jk_x86_label(a, NULL),
                 end = jk_x86_label(a, NULL);
        jk_x86_bind(a, top);
        jk_x86_push(a, JK_RBX);
        jk_x86_push(a, JK_RBP);
        jk_x86_push(a, JK_R12);
        jk_x86_push(a, JK_R13);
        for (unsigned k = 0; k < 8; k++) {
            unsigned x, y, z;
            gp_pick(b, k, &x, &y, &z);
            jk_x86_mov(a, r64(x), r64(y));
            jk_x86_add(a, r64(x), r64(y));
            jk_x86_sub(a, r32(x), r32(y));
            jk_x86_xor(a, r64(x), r64(z));
            jk_x86_imul2(a, r64(x), r64(y));
            jk_x86_lea(a, r64(x), jk_x86_mem(8, r64(y), r64(z), 4, 16));
            jk_x86_shl(a, r64(x), jk_x86_imm(3));
            jk_x86_add(a, r64(x), jk_x86_imm(8));
            jk_x86_and(a, r64(x), jk_x86_imm(0x12345));
            if (k & 1)
                jk_x86_mov(a, jk_x86_mem(8, r64(y), r64(z), 2, 0x1000), r64(x));
            else
                jk_x86_mov(a, r64(x), jk_x86_mem(8, r64(y), r64(z), 8, 0x40));
            jk_x86_cmp(a, r64(x), r64(y));
            if (k & 1)
                jk_x86_jl(a, jk_x86_lbl(top));
            else
                jk_x86_jne(a, jk_x86_lbl(fwd));
        }
        jk_x86_call(a, jk_x86_lbl(top));
        jk_x86_jmp(a, jk_x86_lbl(end));
        jk_x86_bind(a, fwd);
        jk_x86_pop(a, JK_R13);
        jk_x86_pop(a, JK_R12);
        jk_x86_pop(a, JK_RBP);
        jk_x86_pop(a, JK_RBX);
        jk_x86_bind(a, end);
        jk_x86_ret(a);
    }
    if (jk_x86_finish(a, &size) != JK_OK) {
        fprintf(stderr, "jitkit: %s\n", jk_x86_error(a)->message);
        size = 0;
    }
    jk_x86_free(a);
    return (unsigned long)size;
}
