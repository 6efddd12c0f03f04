/*
 * gp_mix.h - the general-purpose instruction mix every emitter benchmark
 * encodes, so jitkit, asmjit and xbyak do exactly the same work.
 *
 * One block (107 instructions), repeated with fresh labels:
 *
 *   top:  push rbx; push rbp; push r12; push r13
 *         8 times, r1 r2 r3 drawn from the 15 GP registers other than rsp:
 *           mov r1,r2; add r1,r2; sub r1d,r2d; xor r1,r3; imul r1,r2;
 *           lea r1,[r2+r3*4+16]; shl r1,3; add r1,8; and r1,0x12345;
 *           mov r1,[r2+r3*8+0x40]   | mov [r2+r3*2+0x1000],r1   (alternately)
 *           cmp r1,r2
 *           jne fwd                 | jl top                    (alternately)
 *         call top; jmp end
 *   fwd:  pop r13; pop r12; pop rbp; pop rbx
 *   end:  ret
 */
#ifndef GP_MIX_H
#define GP_MIX_H

#define GP_BLOCK_INSNS 107u
#define GP_TARGET_BYTES ((size_t)16 << 20)

/* Register numbers (x86 encoding order) other than rsp (4). */
static const unsigned gp_regs[15] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The registers of step k (0..7) of block b. */
static inline void gp_pick(unsigned b, unsigned k, unsigned *r1, unsigned *r2, unsigned *r3)
{
    *r1 = gp_regs[(b + k) % 15];
    *r2 = gp_regs[(b * 7 + k * 3 + 1) % 15];
    *r3 = gp_regs[(b * 11 + k * 5 + 2) % 15];
}

#ifdef __cplusplus
extern "C" {
#endif
/* Encode `blocks` blocks with jitkit; returns the code size in bytes (0 on
 * error, with the message printed). */
unsigned long gp_jitkit(unsigned blocks);
#ifdef __cplusplus
}
#endif

#endif
