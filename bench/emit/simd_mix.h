/*
 * simd_mix.h - the SIMD instruction mix of the emitter benchmark (jitkit,
 * asmjit and xbyak encode exactly the same instructions).
 *
 * One block (97 instructions), repeated with a fresh label:
 *
 *   top:  8 groups, x1..x3 drawn from xmm0..15 / ymm0..15, b and i from the
 *         GP registers other than rsp:
 *           movups x1,x2; addps x1,x2; mulps x1,x3
 *           vaddps y1,y2,y3; vfmadd231ps y1,y2,y3;
 *           vfmadd231ps y1,y2,[b+i*4+0x400]; vpxor y1,y2,y3;
 *           vmovups y1,[b+i*4+0x400]; vmulps y1,y2,y3
 *           add b,0x12345; sub i32,8; jnz top
 *         ret
 */
#ifndef SIMD_MIX_H
#define SIMD_MIX_H

#define SIMD_BLOCK_INSNS 97u

/* Vector registers of group k (0..7) of block b, and the GP base and index. */
static inline void simd_pick(unsigned b, unsigned k, unsigned *v1, unsigned *v2, unsigned *v3,
                             unsigned *gb, unsigned *gi)
{
    static const unsigned gp[15] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    *v1 = (b + k) % 16;
    *v2 = (b * 7 + k * 3 + 1) % 16;
    *v3 = (b * 11 + k * 5 + 2) % 16;
    *gb = gp[(b + k * 2) % 15];
    *gi = gp[(b * 3 + k + 5) % 15];
}

#ifdef __cplusplus
extern "C" {
#endif
/* Encode `blocks` blocks with jitkit; the code size in bytes (0 on error). */
unsigned long simd_jitkit(unsigned blocks);
#ifdef __cplusplus
}
#endif

#endif
