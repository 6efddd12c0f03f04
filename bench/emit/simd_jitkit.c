/* simd_jitkit.c - the SIMD mix (simd_mix.h) through jitkit's typed C API. */
#include "simd_mix.h"

#include <jitkit/x86.h>

#include <stdio.h>

static jk_x86_op xr(unsigned n) { return jk_x86_reg(JK_X86_RC_XMM, n); }
static jk_x86_op yr(unsigned n) { return jk_x86_reg(JK_X86_RC_YMM, n); }
static jk_x86_op gq(unsigned n) { return jk_x86_reg(JK_X86_RC_GP64, n); }
static jk_x86_op gd(unsigned n) { return jk_x86_reg(JK_X86_RC_GP32, n); }

unsigned long simd_jitkit(unsigned blocks)
{
    jk_x86_asm *a;
    jk_error err;
    size_t size = 0;

    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        fprintf(stderr, "jitkit: %s\n", err.message);
        return 0;
    }
    for (unsigned b = 0; b < blocks; b++) {
        jk_label top = jk_x86_label(a, NULL);
        jk_x86_bind(a, top);
        for (unsigned k = 0; k < 8; k++) {
            unsigned v1, v2, v3, gb, gi;
            simd_pick(b, k, &v1, &v2, &v3, &gb, &gi);
            jk_x86_op m = jk_x86_mem(32, gq(gb), gq(gi), 4, 0x400);
            jk_x86_movups(a, xr(v1), xr(v2));
            jk_x86_addps(a, xr(v1), xr(v2));
            jk_x86_mulps(a, xr(v1), xr(v3));
            jk_x86_vaddps(a, yr(v1), yr(v2), yr(v3));
            jk_x86_vfmadd231ps(a, yr(v1), yr(v2), yr(v3));
            jk_x86_vfmadd231ps(a, yr(v1), yr(v2), m);
            jk_x86_vpxor(a, yr(v1), yr(v2), yr(v3));
            jk_x86_vmovups(a, yr(v1), m);
            jk_x86_vmulps(a, yr(v1), yr(v2), yr(v3));
            jk_x86_add(a, gq(gb), jk_x86_imm(0x12345));
            jk_x86_sub(a, gd(gi), jk_x86_imm(8));
            jk_x86_jnz(a, jk_x86_lbl(top));
        }
        jk_x86_ret(a);
    }
    if (jk_x86_finish(a, &size) != JK_OK) {
        fprintf(stderr, "jitkit: %s\n", jk_x86_error(a)->message);
        size = 0;
    }
    jk_x86_free(a);
    return (unsigned long)size;
}
