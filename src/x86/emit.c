/*
 * x86/emit.c - the generic encoder: classify operands, match them against
 * the forms of the mnemonic, build the bytes.
 *
 *   classify   one 64-bit class word per operand (tables_p.h), computed once;
 *              malformed operands (rsp as index, r8 in 32-bit mode) fail here
 *   match      forms of the mnemonic in table order; the first whose masks
 *              accept every operand and whose extra conditions hold wins
 *   build      prefixes (seg, 67, 66, F2/F3, F0 - GNU as's order), REX or
 *              VEX, opcode, ModRM/SIB/displacement, moffs, immediates,
 *              branch displacement; fix-ups for labels
 *
 * The hot path does no allocation and no string work: strings are only
 * formatted when an error is recorded.
 */
#include "x86/x86_p.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MISMATCH (-1)

#if defined(__GNUC__)
#  define JK__ALWAYS_INLINE __attribute__((always_inline))
#  define JK__NOINLINE __attribute__((noinline))
#  define JK__COLD __attribute__((noinline, cold))
#else
#  define JK__COLD
#  define JK__ALWAYS_INLINE
#  define JK__NOINLINE
#endif /* build() refuses this form; try the next one */

/* -- Register names (for messages) --------------------------------------- */

static const char *const names8[16] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                       "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b",
                                       "r15b"};
static const char *const names8hi[4] = {"ah", "ch", "dh", "bh"};
static const char *const names16[16] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                        "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w",
                                        "r15w"};
static const char *const names32[16] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                        "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d",
                                        "r15d"};
static const char *const names64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const names_seg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
static const char *const names_st[8] = {"st(0)", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
                                        "st(6)", "st(7)"};
static const char *const names_mm[8] = {"mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7"};
static const char *const names_xmm[16] = {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                                          "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                                          "xmm12", "xmm13", "xmm14", "xmm15"};
static const char *const names_ymm[16] = {"ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5",
                                          "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", "ymm11",
                                          "ymm12", "ymm13", "ymm14", "ymm15"};

static const char *reg_name(unsigned rc, unsigned n)
{
    if (n < 16) {
        switch (rc) {
        case JK_X86_RC_GP8: return names8[n];
        case JK_X86_RC_GP8HI: return n >= 4 && n < 8 ? names8hi[n - 4] : "?";
        case JK_X86_RC_GP16: return names16[n];
        case JK_X86_RC_GP32: return names32[n];
        case JK_X86_RC_GP64: return names64[n];
        case JK_X86_RC_SEG: return n < 6 ? names_seg[n] : "?";
        case JK_X86_RC_IP: return n == 0 ? "rip" : n == 1 ? "eip" : "?";
        case JK_X86_RC_XMM: return names_xmm[n];
        case JK_X86_RC_YMM: return names_ymm[n];
        case JK_X86_RC_ST: return n < 8 ? names_st[n] : "?";
        case JK_X86_RC_MM: return n < 8 ? names_mm[n] : "?";
        default: break;
        }
    }
    return "register";
}

static const char *mnem(unsigned id)
{
    return id < JK_X86_MNEM_COUNT ? jk__x86_mnem_names[id] : "?";
}

/* -- Classification ------------------------------------------------------- */

static int fits8(int64_t v) { return v >= -128 && v <= 127; }

#define JK__C_SMALL (JK__C_I8 | JK__C_I8S | JK__C_I8S16 | JK__C_I8S32 | JK__C_I16 | JK__C_I32 | \
                     JK__C_I32S | JK__C_I64)

static inline uint64_t imm_class(int64_t v)
{
    uint64_t c = JK__C_I64;
    if ((uint64_t)v + 128u < 256u) /* -128..127: the common case */
        return JK__C_SMALL | (v == 1 ? JK__C_ONE : 0) | (v == 3 ? JK__C_THREE : 0);
    if ((uint64_t)v + 0x80000000u <= 0xFFFFFFFFu) {
        /* other signed 32-bit values: the general code below, specialised
         * (no I8S32/I8S, no 1 or 3) */
        c |= JK__C_I32 | JK__C_I32S;
        if ((uint64_t)v + 32768u < 98304u) { /* -32768..65535 */
            c |= JK__C_I16;
            if (v >= 128 && v <= 255)
                c |= JK__C_I8;
            else if (v >= 65408)
                c |= JK__C_I8S16;
        }
        return c;
    }
    if (v >= INT32_MIN && v <= (int64_t)UINT32_MAX) {
        int32_t t32 = (int32_t)(uint32_t)v;
        c |= JK__C_I32;
        if (v <= INT32_MAX)
            c |= JK__C_I32S;
        if (t32 >= -128 && t32 <= 127)
            c |= JK__C_I8S32;
        if (v >= -32768 && v <= 65535) {
            int16_t t16 = (int16_t)(uint16_t)v;
            c |= JK__C_I16;
            if (t16 >= -128 && t16 <= 127)
                c |= JK__C_I8S16;
            if (v >= -128 && v <= 255) {
                c |= JK__C_I8;
                if (v <= 127)
                    c |= JK__C_I8S;
                if (v == 1)
                    c |= JK__C_ONE;
                if (v == 3)
                    c |= JK__C_THREE;
            }
        }
    }
    return c;
}

/* The lookup signature of an immediate (tools/gen_x86.py: IMM_SIGS). */
static inline unsigned imm_sig(int64_t v)
{
    if ((uint64_t)v + 128u < 256u)
        return v == 1 ? JK__SIG_IMM1 : JK__SIG_IMM8;
    return v >= INT32_MIN && v <= INT32_MAX ? JK__SIG_IMM32 : JK__SIG_IMM;
}

/* Memory class and signature by access size (0 = unsized); 0 = bad size. */
static const uint64_t mem_cls[65] = {
    [0] = JK__C_MX, [1] = JK__C_M8, [2] = JK__C_M16, [4] = JK__C_M32, [6] = JK__C_M48,
    [8] = JK__C_M64, [10] = JK__C_M80, [16] = JK__C_M128, [32] = JK__C_M256, [64] = JK__C_M512,
};
static const uint8_t mem_sig[65] = {
    [0] = JK__SIG_MX, [1] = JK__SIG_M8, [2] = JK__SIG_M16, [4] = JK__SIG_M32, [6] = JK__SIG_M48,
    [8] = JK__SIG_M64, [10] = JK__SIG_M80, [16] = JK__SIG_M128, [32] = JK__SIG_M256, [64] = JK__SIG_M512,
};

static uint64_t fail0(jk_x86_asm *a, jk_status s, const char *fmt, const char *m, const char *r)
{
    jk__code_fail(&a->code, s, fmt, m, r);
    return 0;
}

static uint64_t check_mem(jk_x86_asm *a, const jk_x86_op *o, const char *m)
{
    unsigned bc = o->rclass, ic = o->iclass;
    int m32 = a->mode == JK_X86_MODE32;
    if ((o->flags & JK_X86_MEM_BADSCALE) || o->scale > 3)
        return fail0(a, JK_EOPERAND, "%s: scale must be 1, 2, 4 or 8%s", m, "");
    if ((o->flags & JK_X86_MEM_SEG_MASK) == 7)
        return fail0(a, JK_EOPERAND, "%s: invalid segment override%s", m, "");
    if (o->flags & ~(JK_X86_MEM_SEG_MASK | JK_X86_MEM_LABEL | JK_X86_MEM_BADSCALE |
                     JK_X86_MEM_ABS))
        return fail0(a, JK_EOPERAND, "%s: unknown memory operand flags%s", m, "");
    if ((o->flags & (JK_X86_MEM_LABEL | JK_X86_MEM_ABS)) == JK_X86_MEM_ABS)
        return fail0(a, JK_EOPERAND, "%s: an absolute memory operand flag without a label%s", m,
                     "");
    if (bc == JK_X86_RC_INVALID || ic == JK_X86_RC_INVALID)
        return fail0(a, JK_EOPERAND, "%s: malformed memory operand%s", m, "");
    if (o->flags & JK_X86_MEM_LABEL) {
        if (!(o->flags & JK_X86_MEM_ABS) && (bc != JK_X86_RC_NONE || ic != JK_X86_RC_NONE))
            return fail0(a, JK_EOPERAND, "%s: a label operand cannot have a base or index%s", m, "");
        if (bc == JK_X86_RC_IP)
            return fail0(a, JK_EOPERAND,
                         "%s: an absolute label address cannot be %s-relative", m,
                         o->reg == 1 ? "eip" : "rip");
        if (jk__code_check_sym(&a->code, (uint32_t)((uint64_t)o->value >> 32), m))
            return 0;
        if (!(o->flags & JK_X86_MEM_ABS))
            return 1;
    }
    if (bc != JK_X86_RC_NONE) {
        if (bc == JK_X86_RC_IP) {
            if (o->reg > 1)
                return fail0(a, JK_EOPERAND, "%s: bad IP register%s", m, "");
            if (m32)
                return fail0(a, JK_EOPERAND, "%s: %s-relative addressing needs 64-bit mode", m,
                             reg_name(bc, o->reg));
            if (ic != JK_X86_RC_NONE)
                return fail0(a, JK_EOPERAND, "%s: %s cannot be used with an index", m,
                             reg_name(bc, o->reg));
        } else if (bc == JK_X86_RC_GP32 || bc == JK_X86_RC_GP64) {
            if (o->reg > 15)
                return fail0(a, JK_EOPERAND, "%s: bad base register%s", m, "");
        } else {
            return fail0(a, JK_EOPERAND, "%s: %s cannot be a base register", m,
                         reg_name(bc, o->reg));
        }
    }
    if (ic == JK_X86_RC_XMM || ic == JK_X86_RC_YMM) {
        /* VSIB (the gathers): any vector register, xmm4 too; the base, if
         * any, sets the address size */
        if (o->index > 15)
            return fail0(a, JK_EOPERAND, "%s: bad index register%s", m, "");
        if (m32 && (bc == JK_X86_RC_GP64 || o->index > 7 || (bc != JK_X86_RC_NONE && o->reg > 7)))
            return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m,
                         o->index > 7 ? reg_name(ic, o->index) : reg_name(bc, o->reg));
        return 1;
    }
    if (ic != JK_X86_RC_NONE) {
        if (ic != JK_X86_RC_GP32 && ic != JK_X86_RC_GP64)
            return fail0(a, JK_EOPERAND, "%s: %s cannot be an index", m, reg_name(ic, o->index));
        if (o->index > 15)
            return fail0(a, JK_EOPERAND, "%s: bad index register%s", m, "");
        if (o->index == 4)
            return fail0(a, JK_EOPERAND, "%s: %s cannot be an index", m, reg_name(ic, 4));
        if (bc != JK_X86_RC_NONE && bc != ic)
            return fail0(a, JK_EOPERAND, "%s: base and index differ in size (%s)", m,
                         reg_name(ic, o->index));
    }
    if (m32) {
        if (bc == JK_X86_RC_GP64 || ic == JK_X86_RC_GP64)
            return fail0(a, JK_EOPERAND, "%s: %s cannot address memory in 32-bit mode", m,
                         bc == JK_X86_RC_GP64 ? reg_name(bc, o->reg) : reg_name(ic, o->index));
        if ((bc != JK_X86_RC_NONE && o->reg > 7) || (ic != JK_X86_RC_NONE && o->index > 7))
            return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m,
                         o->reg > 7 && bc != JK_X86_RC_NONE ? reg_name(bc, o->reg)
                                                              : reg_name(ic, o->index));
    }
    return 1;
}

JK__NOINLINE static uint64_t classify(jk_x86_asm *a, const jk_x86_op *o, const char *m, unsigned *sig)
{
    unsigned n = o->reg;
    int m32 = a->mode == JK_X86_MODE32;
    switch (o->kind) {
    case JK_X86_OP_REG:
        switch (o->rclass) {
        case JK_X86_RC_GP8:
            if (n > 15)
                break;
            if (m32 && n >= 4)
                return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m, names8[n]);
            *sig = JK__SIG_R8;
            return JK__C_R8 | (n == 0 ? JK__C_AL : 0) | (n == 1 ? JK__C_CL : 0);
        case JK_X86_RC_GP8HI:
            if (n < 4 || n > 7)
                break;
            *sig = JK__SIG_R8HI;
            return JK__C_R8HI;
        case JK_X86_RC_GP16:
            if (n > 15)
                break;
            if (m32 && n >= 8)
                return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m, names16[n]);
            *sig = JK__SIG_R16;
            return JK__C_R16 | (n == 0 ? JK__C_AX : 0) | (n == 2 ? JK__C_DX : 0);
        case JK_X86_RC_GP32:
            if (n > 15)
                break;
            if (m32 && n >= 8)
                return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m, names32[n]);
            *sig = JK__SIG_R32;
            return JK__C_R32 | (n == 0 ? JK__C_EAX : 0);
        case JK_X86_RC_GP64:
            if (n > 15)
                break;
            if (m32)
                return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m, names64[n]);
            *sig = JK__SIG_R64;
            return JK__C_R64 | (n == 0 ? JK__C_RAX : 0);
        case JK_X86_RC_SEG:
            if (n > 5)
                break;
            *sig = JK__SIG_SREG;
            return JK__C_SREG | (JK__C_ES << n);
        case JK_X86_RC_IP:
            return fail0(a, JK_EOPERAND, "%s: %s can only be a memory base", m, reg_name(JK_X86_RC_IP, n));
        case JK_X86_RC_ST:
            if (n > 7)
                break;
            *sig = JK__SIG_ST;
            return JK__C_ST | (n == 0 ? JK__C_ST0 : 0);
        case JK_X86_RC_MM:
            if (n > 7)
                break;
            *sig = JK__SIG_MM;
            return JK__C_MM;
        case JK_X86_RC_XMM:
        case JK_X86_RC_YMM:
            if (n > 15)
                break;
            if (m32 && n >= 8)
                return fail0(a, JK_EOPERAND, "%s: %s requires 64-bit mode", m,
                             reg_name(o->rclass, n));
            if (o->rclass == JK_X86_RC_YMM) {
                *sig = JK__SIG_YMM;
                return JK__C_YMM;
            }
            *sig = JK__SIG_XMM;
            return JK__C_XMM | (n == 0 ? JK__C_XMM0 : 0);
        default:
            break;
        }
        return fail0(a, JK_EOPERAND, "%s: invalid register operand%s", m, "");
    case JK_X86_OP_MEM:
        if (!check_mem(a, o, m))
            return 0;
        if (o->iclass == JK_X86_RC_XMM || o->iclass == JK_X86_RC_YMM) {
            /* VSIB: the element size (dword / qword ptr) or none */
            int y = o->iclass == JK_X86_RC_YMM;
            *sig = y ? JK__SIG_VMY : JK__SIG_VMX;
            if (o->size == 0)
                return y ? JK__C_VM32Y | JK__C_VM64Y : JK__C_VM32X | JK__C_VM64X;
            if (o->size == 4)
                return y ? JK__C_VM32Y : JK__C_VM32X;
            if (o->size == 8)
                return y ? JK__C_VM64Y : JK__C_VM64X;
            return JK__C_VMBAD;
        }
        switch (o->size) {
        case 0: *sig = JK__SIG_MX; return JK__C_MX;
        case 1: *sig = JK__SIG_M8; return JK__C_M8;
        case 2: *sig = JK__SIG_M16; return JK__C_M16;
        case 4: *sig = JK__SIG_M32; return JK__C_M32;
        case 6: *sig = JK__SIG_M48; return JK__C_M48;
        case 8: *sig = JK__SIG_M64; return JK__C_M64;
        case 10: *sig = JK__SIG_M80; return JK__C_M80;
        case 16: *sig = JK__SIG_M128; return JK__C_M128;
        case 32: *sig = JK__SIG_M256; return JK__C_M256;
        case 64: *sig = JK__SIG_M512; return JK__C_M512;
        default: break;
        }
        return fail0(a, JK_EOPERAND, "%s: memory size must be 1, 2, 4, 6, 8, 10, 16, 32 or 64%s", m, "");
    case JK_X86_OP_IMM:
        *sig = imm_sig(o->value);
        return imm_class(o->value);
    case JK_X86_OP_LABEL:
        if (o->flags & ~(JK_X86_LBL_NEAR | JK_X86_LBL_IMM))
            return fail0(a, JK_EOPERAND, "%s: unknown label operand flags%s", m, "");
        if (o->flags & JK_X86_LBL_IMM) {
            /* an address immediate (offset label+addend): every imm32 form, and imm64 */
            if (jk__code_check_sym(&a->code, (uint32_t)o->value, m))
                return 0;
            *sig = JK__SIG_LIMM;
            return JK__C_I32 | JK__C_I32S | (m32 ? 0 : JK__C_I64);
        }
        if ((uint64_t)o->value > UINT32_MAX)
            return fail0(a, JK_ELABEL, "%s: bad label%s", m, "");
        if (jk__code_check_sym(&a->code, (uint32_t)o->value, m))
            return 0;
        *sig = JK__SIG_LABEL;
        return JK__C_REL | (m32 ? JK__C_I32 : JK__C_I64);
    default:
        break;
    }
    return fail0(a, JK_EOPERAND, "%s: missing or malformed operand%s", m, "");
}

/* -- Build ------------------------------------------------------------- */

static const uint8_t seg_prefix[7] = {0, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65};

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static inline uint8_t *put_imm(uint8_t *p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1:
        p[0] = (uint8_t)v;
        return p + 1;
    case 2:
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        return p + 2;
    case 4:
        return put32(p, (uint32_t)v);
    default:
        put32(p, (uint32_t)v);
        put32(p + 4, (uint32_t)(v >> 32));
        return p + 8;
    }
}

/* ModRM (+ SIB + displacement) for memory operand mop; disp is the
 * displacement already checked and normalised; *dispp receives where a
 * label's disp32 goes. */
static inline uint8_t *enc_mem(uint8_t *p, unsigned regf, const jk_x86_op *mop, int64_t disp,
                               int m64, uint8_t **dispp, unsigned force)
{
    if ((mop->flags & (JK_X86_MEM_LABEL | JK_X86_MEM_ABS)) == JK_X86_MEM_LABEL ||
        mop->rclass == JK_X86_RC_IP) {
        *p++ = (uint8_t)(0x05 | (regf << 3));
        *dispp = p;
        return put32(p, (uint32_t)(mop->flags & JK_X86_MEM_LABEL ? 0 : disp));
    } else {
        unsigned lab = (mop->flags & JK_X86_MEM_ABS) != 0; /* disp32 = a label's address */
        unsigned has_base = mop->rclass != JK_X86_RC_NONE;
        unsigned has_index = mop->iclass != JK_X86_RC_NONE;
        unsigned idx = has_index ? (mop->index & 7u) : 4u;
        unsigned sc = has_index ? mop->scale : 0u;
        if (!has_base) {
            if (!has_index && !m64) {
                *p++ = (uint8_t)(0x05 | (regf << 3));
            } else {
                *p++ = (uint8_t)(0x04 | (regf << 3));
                *p++ = (uint8_t)((sc << 6) | (idx << 3) | 5u);
            }
            *dispp = p;
            return put32(p, (uint32_t)disp);
        } else {
            unsigned b = mop->reg & 7u;
            /* force: {disp8} (1) / {disp32} (2) with a base */
            unsigned mod = lab || force == 2u ? 2u : (disp == 0 && b != 5 && !force) ? 0u
                         : fits8(disp) ? 1u : 2u;
            if (has_index || b == 4) {
                *p++ = (uint8_t)((mod << 6) | (regf << 3) | 4u);
                *p++ = (uint8_t)((sc << 6) | (idx << 3) | b);
            } else {
                *p++ = (uint8_t)((mod << 6) | (regf << 3) | b);
            }
            *dispp = p;
            if (mod == 1)
                *p++ = (uint8_t)disp;
            else if (mod == 2)
                p = put32(p, (uint32_t)disp);
            return p;
        }
    }
}

/* Memory operand checks shared by both builders: the displacement (range
 * and 32-bit wrap-around), the 0x67 prefix. Returns 0 or MISMATCH. */
static inline int mem_disp(jk_x86_asm *a, const jk_x86_op *mop, int m64, int64_t *disp,
                           unsigned *addr32, unsigned a32)
{
    int64_t d = mop->value;
    *addr32 = m64 && (a32 || mop->rclass == JK_X86_RC_GP32 || mop->iclass == JK_X86_RC_GP32 ||
                      (mop->rclass == JK_X86_RC_IP && mop->reg == 1));
    if (mop->flags & JK_X86_MEM_LABEL) {
        *disp = 0;
        return 0;
    }
    if (*addr32 || !m64) {
        if (d < INT32_MIN || d > (int64_t)UINT32_MAX) {
            if (!a->why)
                a->why = "displacement does not fit 32 bits";
            return MISMATCH;
        }
        d = (int32_t)(uint32_t)d;
    } else if (d < INT32_MIN || d > INT32_MAX) {
        if (!a->why)
            a->why = "displacement does not fit a signed 32-bit field";
        return MISMATCH;
    }
    *disp = d;
    return 0;
}

/* The segment override, unless it names the default segment (GNU as drops
 * ss: with an (e/r)sp or (e/r)bp base and ds: otherwise). */
static inline uint8_t *seg_override(uint8_t *p, const jk_x86_op *memop)
{
    unsigned seg = memop->flags & JK_X86_MEM_SEG_MASK;
    if (seg) {
        unsigned dflt = (memop->rclass == JK_X86_RC_GP32 || memop->rclass == JK_X86_RC_GP64) &&
                                (memop->reg == 4 || memop->reg == 5)
                            ? 3u : 4u;
        if (seg != dflt)
            *p++ = seg_prefix[seg];
    }
    return p;
}

/* The fix-up of a label memory operand's disp32: RIP-relative, or the
 * absolute address (any 32-bit one in 32-bit code; in 64-bit code it must
 * fit the field sign-extended, zero-extended with 32-bit addressing). */
static unsigned mem_fix_kind(const jk_x86_op *mop, int m64, unsigned addr32)
{
    if (!m64)
        return JK__FIX_ABS32;
    if (!(mop->flags & JK_X86_MEM_ABS))
        return JK__FIX_REL32;
    return addr32 ? JK__FIX_ABS32U : JK__FIX_ABS32S;
}

/* The fix-up of a label immediate (operand k of form f, size bytes). */
static unsigned imm_fix_kind(const jk__x86_form *f, unsigned k, unsigned size, int m64)
{
    if (size == 8)
        return JK__FIX_ABS64;
    if (!m64)
        return JK__FIX_ABS32;
    return (f->ops[k] & JK__C_I32) ? JK__FIX_ABS32U : JK__FIX_ABS32S;
}

/* The addend of a label immediate (jk_x86_imm_label). */
static int64_t lbl_addend(const jk_x86_op *o)
{
    return (o->flags & JK_X86_LBL_IMM) ? (int32_t)(uint32_t)((uint64_t)o->value >> 32) : 0;
}

/* call rel32, jmp rel32 and jcc rel32 have far forms (x86/asm.c, far_form)
 * for targets out of reach: what a call or jump to an address or an
 * external symbol becomes in 64-bit mode. */
static int far_opcode(const jk__x86_form *f)
{
    return (f->opc_len == 1 && (f->opc[0] == 0xE8 || f->opc[0] == 0xE9)) ||
           (f->opc_len == 2 && f->opc[0] == 0x0F && (f->opc[1] & 0xF0) == 0x80);
}

static int check_pending(jk_x86_asm *a, const jk__x86_form *f, unsigned n, const jk_x86_op *ops,
                         const char *m)
{
    unsigned pd = a->pending;
    if (pd & JK__PEND_LOCK) {
        if (!(f->flags & JK__F_LOCK))
            return jk__code_fail(&a->code, JK_EOPERAND, "lock: %s is not lockable", m);
        if (n == 0 || (ops[0].kind != JK_X86_OP_MEM &&
                       !((f->flags & JK__F_HLE) && n > 1 && ops[1].kind == JK_X86_OP_MEM)))
            return jk__code_fail(&a->code, JK_EOPERAND,
                                 "lock: %s needs a memory destination to be locked", m);
    }
    if (pd & (JK__PEND_XACQ | JK__PEND_XREL)) {
        const char *p = pd & JK__PEND_XACQ ? "xacquire" : "xrelease";
        if (f->flags & JK__F_NOHLE)
            return jk__code_fail(&a->code, JK_EOPERAND, "%s: not with %s", p, m);
        if ((pd & JK__PEND_LOCK) || (f->flags & JK__F_HLE) || /* xchg: registers too (GNU as) */
            ((pd & JK__PEND_XREL) && (f->flags & JK__F_HLEREL) && n &&
             ops[0].kind == JK_X86_OP_MEM))
            ; /* lock was checked above */
        else if (f->flags & JK__F_HLEREL)
            return jk__code_fail(&a->code, JK_EOPERAND, pd & JK__PEND_XREL
                                 ? "%s: %s needs a memory destination" : "%s: not with %s", p, m);
        else if ((f->flags & JK__F_LOCK) && !(f->flags & JK__F_HLE))
            return jk__code_fail(&a->code, JK_EOPERAND, "%s: %s needs lock", p, m);
        else
            return jk__code_fail(&a->code, JK_EOPERAND, "%s: not with %s", p, m);
    }
    if (pd & (JK__PEND_REP | JK__PEND_REPNE)) {
        const char *p = pd & JK__PEND_REPNE ? "repne" : pd & JK__PEND_REPE ? "repe" : "rep";
        if (!(f->flags & (JK__F_REP | JK__F_REPCC)))
            return jk__code_fail(&a->code, JK_EOPERAND, "%s: %s is not a string instruction", p, m);
        if ((pd & (JK__PEND_REPNE | JK__PEND_REPE)) && !(f->flags & JK__F_REPCC))
            return jk__code_fail(&a->code, JK_EOPERAND, "%s: %s takes rep, not %s", p, m, p);
    }
    return 0;
}

/* {disp8} / {disp32} as enc_mem's force argument. */
static unsigned hint_disp(unsigned h)
{
    return h & JK_X86_HINT_DISP32 ? 2u : h & JK_X86_HINT_DISP8 ? 1u : 0u;
}

/* Encode form f. Returns JK_OK, MISMATCH (with a->why set), or an error. */
JK__NOINLINE static int build(jk_x86_asm *a, const jk__x86_form *f, unsigned n, const jk_x86_op *ops,
                 const char *m)
{
    jk__code *c = &a->code;
    const jk_x86_op *rop = NULL, *mop = NULL, *vop = NULL, *oop = NULL, *aop = NULL, *dop = NULL;
    const jk_x86_op *imm[2] = {NULL, NULL}, *memop = NULL, *hi8 = NULL;
    unsigned i, nimm = 0, rex = 0, need_rex = 0, addr32 = 0;
    uint8_t *start, *p, *dispp = NULL, *immp[2] = {NULL, NULL};
    int m64 = a->mode == JK_X86_MODE64;
    int64_t disp = 0;

    {
        uint32_t sl = f->slots;
        unsigned k;
        if ((k = sl & 15u) != 15u)
            rop = &ops[k];
        if ((k = (sl >> 4) & 15u) != 15u)
            mop = &ops[k];
        if ((k = (sl >> 12) & 15u) != 15u)
            oop = &ops[k];
        if ((k = (sl >> 16) & 15u) != 15u) {
            imm[0] = &ops[k];
            nimm = 1;
            if ((k = (sl >> 20) & 15u) != 15u) {
                imm[1] = &ops[k];
                nimm = 2;
            }
        }
        if (f->flags & JK__F_SLOW) {
            if ((k = (sl >> 8) & 15u) != 15u)
                vop = &ops[k];
            if ((k = (sl >> 24) & 15u) != 15u)
                dop = &ops[k];
            if ((k = (sl >> 28) & 15u) != 15u)
                aop = &ops[k];
            /* moffs: an absolute address; in 32-bit mode also a label (absolute,
             * relocated), as GNU as chooses A0-A3 for [label] there */
            if (aop && (aop->rclass != JK_X86_RC_NONE || aop->iclass != JK_X86_RC_NONE ||
                        ((aop->flags & JK_X86_MEM_LABEL) && m64))) {
                if (!a->why)
                    a->why = "moffs needs an absolute address";
                return MISMATCH;
            }
            if (aop && (a->pending & (JK__PEND_XACQ | JK__PEND_XREL)))
                return MISMATCH; /* HLE: the ModRM form (GNU as), the CPU ignores it on A2/A3 */
            if ((f->flags & JK__F_NOX64R0) && m64 && oop->reg == 0)
                return MISMATCH; /* xchg eax, eax is 87 C0 in 64-bit mode: 90 is a pure nop */
            /* a VEX load form whose registers would set only VEX.B: the store
             * form after it swaps rm and reg, so the 2-byte VEX does (GNU as) */
            if ((f->flags & JK__F_VSWAP) && mop->kind == JK_X86_OP_REG && (mop->reg & 8u) &&
                !(rop->reg & 8u) &&
                !((a->pending & JK__PEND_HINT) &&
                  (a->pend_hint & (JK_X86_HINT_VEX3 | JK_X86_HINT_LOAD | JK_X86_HINT_STORE |
                                   JK_X86_HINT_SWAP))))
                return MISMATCH;
            /* GNU as's default for these is the AVX-512 form: refused, so
             * the default never means other bytes than GNU as's (nor
             * changes when EVEX arrives); {vex} picks the VEX form */
            if ((f->flags & JK__F_EVEXDEF) &&
                !((a->pending & JK__PEND_HINT) &&
                  (a->pend_hint & (JK_X86_HINT_VEX | JK_X86_HINT_VEX3))))
                return jk__code_fail(c, JK_EUNSUPPORTED,
                                     "%s: GNU as encodes this with EVEX (AVX-512), which is not "
                                     "supported; {vex} (JK_X86_HINT_VEX) selects the VEX form", m);
            if (f->flags & JK__F_VSIB) {
                /* GNU as warns (an EVEX gather: errors) when a gather's
                 * registers overlap - the CPU raises #UD; refused here */
                unsigned d = rop->reg, xi = mop->index, mk = vop->reg;
                const char *what = d == xi ? "destination and the index"
                                   : d == mk ? "destination and the mask"
                                   : xi == mk ? "index and the mask" : NULL;
                if (what)
                    return jk__code_fail(c, JK_EOPERAND,
                                         "%s: the destination, index and mask registers must "
                                         "differ (%s is both the %s)", m,
                                         d == xi || d == mk ? reg_name(rop->rclass, d)
                                                           : reg_name(vop->rclass, mk), what);
            }
            if (dop) {
                uint32_t sym = (uint32_t)dop->value;
                if (f->relax &&
                    ((dop->flags & JK_X86_LBL_NEAR) || c->syms[sym].kind != JK__SYM_LOCAL ||
                     ((a->pending & JK__PEND_HINT) && (a->pend_hint & JK_X86_HINT_DISP32))))
                    f += f->relax;
                else if (!f->relax && f->immsz[0] == 1 && c->syms[sym].kind != JK__SYM_LOCAL)
                    return jk__code_fail(c, JK_ELABEL,
                                         "%s: rel8 target must be a label in this code", m);
            }
        }
    }
    if (a->pending && check_pending(a, f, n, ops, m))
        return c->err.status;
    if ((a->pending & JK__PEND_HINT) && (a->pend_hint & (JK_X86_HINT_VEX | JK_X86_HINT_VEX3)) &&
        f->enc != JK__ENC_VEX)
        return jk__code_fail(c, JK_EOPERAND, "{%s}: %s is not VEX-encoded",
                             a->pend_hint & JK_X86_HINT_VEX3 ? "vex3" : "vex", m);

    /* REX bits */
    if (f->pfx & JK__P_REXW)
        rex = 8;
    if (rop) {
        rex |= (rop->reg & 8u) >> 1;
        if (rop->rclass == JK_X86_RC_GP8 && rop->reg >= 4)
            need_rex = 1;
        else if (rop->rclass == JK_X86_RC_GP8HI)
            hi8 = rop;
    }
    if (mop) {
        if (mop->kind == JK_X86_OP_REG) {
            rex |= (mop->reg & 8u) >> 3;
            if (mop->rclass == JK_X86_RC_GP8 && mop->reg >= 4)
                need_rex = 1;
            else if (mop->rclass == JK_X86_RC_GP8HI)
                hi8 = mop;
        } else {
            memop = mop;
            if (mop->rclass == JK_X86_RC_GP32 || mop->rclass == JK_X86_RC_GP64)
                rex |= (mop->reg & 8u) >> 3;
            if (mop->iclass != JK_X86_RC_NONE)
                rex |= (mop->index & 8u) >> 2;
        }
    }
    if (oop) {
        rex |= (oop->reg & 8u) >> 3;
        if (oop->rclass == JK_X86_RC_GP8 && oop->reg >= 4)
            need_rex = 1;
        else if (oop->rclass == JK_X86_RC_GP8HI)
            hi8 = oop;
    }
    if (aop)
        memop = aop;
    if (a->pending & JK__PEND_REX) { /* an explicit REX prefix (jk_x86_rex) */
        unsigned both = rex & a->pend_rex;
        if (f->enc != JK__ENC_LEGACY)
            return jk__code_fail(c, JK_EOPERAND, "%s: a REX prefix cannot go with a VEX-encoded "
                                 "instruction", m);
        if (both) /* GNU as: "same type of prefix used twice" */
            return jk__code_fail(c, JK_EOPERAND, "%s: the instruction sets REX.%s%s%s%s itself", m,
                                 both & 8 ? "W" : "", both & 4 ? "R" : "", both & 2 ? "X" : "",
                                 both & 1 ? "B" : "");
        rex |= a->pend_rex;
        need_rex = 1;
    }
    if (hi8 && (rex || need_rex))
        return jk__code_fail(c, JK_EOPERAND, "%s: %s cannot be encoded with REX", m,
                             reg_name(hi8->rclass, hi8->reg));
    if (a->pending & JK__PEND_A32) {
        /* addr32: GNU as refuses 64-bit address registers and rip with it */
        const jk_x86_op *am = memop ? memop : NULL;
        if (am && ((am->flags & JK_X86_MEM_LABEL) || am->rclass == JK_X86_RC_GP64 ||
                   am->iclass == JK_X86_RC_GP64 || am->rclass == JK_X86_RC_IP))
            return jk__code_fail(c, JK_EOPERAND, "addr32: %s cannot address memory with 32 bits",
                                 (am->flags & JK_X86_MEM_LABEL) ? "a label"
                                 : am->rclass == JK_X86_RC_GP64 || am->rclass == JK_X86_RC_IP
                                     ? reg_name(am->rclass, am->reg)
                                     : reg_name(am->iclass, am->index));
        addr32 = 1;
    }
    if (mop && mop->kind == JK_X86_OP_MEM &&
        mem_disp(a, mop, m64, &disp, &addr32, (a->pending & JK__PEND_A32) != 0))
        return MISMATCH;
    if (aop && m64 &&
        (aop->rclass == JK_X86_RC_GP32 || aop->iclass == JK_X86_RC_GP32))
        addr32 = 1;

    start = p = c->buf + c->len;
    if (f->pfx & JK__P_FWAIT)
        *p++ = 0x9B;
    if (memop)
        p = seg_override(p, memop);
    if (addr32 || (f->pfx & JK__P_67))
        *p++ = 0x67;
    if (f->enc == JK__ENC_LEGACY) {
        if (f->pfx & JK__P_66)
            *p++ = 0x66;
        if (f->pfx & JK__P_F2)
            *p++ = 0xF2;
        if (f->pfx & JK__P_F3)
            *p++ = 0xF3;
        if (a->pending & (JK__PEND_REPNE | JK__PEND_XACQ))
            *p++ = 0xF2;
        if (a->pending & (JK__PEND_REP | JK__PEND_XREL))
            *p++ = 0xF3;
        if (a->pending & JK__PEND_LOCK)
            *p++ = 0xF0;
        if (rex || need_rex)
            *p++ = (uint8_t)(0x40 | rex);
        p[0] = f->opc[0]; /* the buffer has room: copy all three, keep opc_len */
        p[1] = f->opc[1];
        p[2] = f->opc[2];
        p += f->opc_len;
        if (oop)
            p[-1] = (uint8_t)(p[-1] + (oop->reg & 7u));
    } else {
        unsigned v = f->vex, vvvv = vop ? vop->reg : 0u;
        unsigned w = JK__VEX_W(v), l = JK__VEX_L(v), pp = JK__VEX_PP(v), map = JK__VEX_MAP(v);
        if (a->pending & JK__PEND_LOCK)
            *p++ = 0xF0;
        if (map == 1 && !w && !(rex & 3u) &&
            !((a->pending & JK__PEND_HINT) && (a->pend_hint & JK_X86_HINT_VEX3))) {
            *p++ = 0xC5;
            *p++ = (uint8_t)((((~rex >> 2) & 1u) << 7) | ((~vvvv & 15u) << 3) | (l << 2) | pp);
        } else {
            *p++ = 0xC4;
            *p++ = (uint8_t)(((~rex & 7u) << 5) | map);
            *p++ = (uint8_t)((w << 7) | ((~vvvv & 15u) << 3) | (l << 2) | pp);
        }
        *p++ = f->opc[0];
    }

    if (f->flags & JK__F_MODRM) {
        unsigned regf = (rop ? rop->reg : f->modrm) & 7u;
        if (mop->kind == JK_X86_OP_REG) {
            *p++ = (uint8_t)(0xC0 | (regf << 3) | (mop->reg & 7u));
        } else {
            p = enc_mem(p, regf, mop, disp, m64, &dispp,
                        (a->pending & JK__PEND_HINT) ? hint_disp(a->pend_hint) : 0u);
        }
    }
    if (aop && (aop->flags & JK_X86_MEM_LABEL)) {
        dispp = p;
        p = put32(p, 0);
    } else if (aop) {
        uint64_t addr = (uint64_t)aop->value;
        if (m64 && (a->pending & JK__PEND_A32)) {
            if (addr > UINT32_MAX) {
                if (!a->why)
                    a->why = "address does not fit 32 bits (addr32)";
                return MISMATCH;
            }
            p = put32(p, (uint32_t)addr);
        } else if (m64) {
            p = put_imm(p, addr, 8);
        } else {
            if (addr > UINT32_MAX && (aop->value < INT32_MIN || aop->value >= 0)) {
                if (!a->why)
                    a->why = "address does not fit 32 bits";
                return MISMATCH;
            }
            p = put32(p, (uint32_t)addr);
        }
    }
    if (f->flags & JK__F_FIMM)
        *p++ = f->fimm;
    for (i = 0; i < nimm; i++) {
        immp[i] = p;
        if (imm[i]->kind == JK_X86_OP_REG) /* /is4: the register in bits 7..4 */
            *p++ = (uint8_t)(imm[i]->reg << 4);
        else
            p = put_imm(p, (uint64_t)imm[i]->value, f->immsz[i]);
    }
    if (dop) {
        uint32_t sym = (uint32_t)dop->value;
        size_t at = (size_t)(start - c->buf);
        if (f->immsz[0] == 1) {
            *p++ = 0;
            c->len = (size_t)(p - c->buf);
            if (f->relax && (rex || need_rex)) { /* the long form keeps the REX byte */
                uint8_t lo[3] = {(uint8_t)(0x40 | rex), f[f->relax].opc[0], f[f->relax].opc[1]};
                return jk__code_branch(c, at, (unsigned)(p - start), sym, lo,
                                       f[f->relax].opc_len + 1u);
            }
            if (f->relax)
                return jk__code_branch(c, at, (unsigned)(p - start), sym, f[f->relax].opc,
                                       f[f->relax].opc_len);
            return jk__code_fix(c, JK__FIX_REL8, c->len - 1, c->len, sym, 0);
        }
        p = put32(p, 0);
        c->len = (size_t)(p - c->buf);
        if (c->far_fn && !(dop->flags & JK_X86_LBL_NEAR) && !rex && !need_rex &&
            c->syms[sym].kind != JK__SYM_LOCAL && far_opcode(f))
            return jk__code_far(c, c->len - 4 - f->opc_len, sym, f->opc, f->opc_len);
        return jk__code_fix(c, JK__FIX_REL32, c->len - 4, c->len, sym, 0);
    }
    c->len = (size_t)(p - c->buf);
    if (dispp && (memop->flags & JK_X86_MEM_LABEL)) {
        uint32_t sym = (uint32_t)((uint64_t)memop->value >> 32);
        int64_t add = (int32_t)(uint32_t)memop->value;
        if (jk__code_fix(c, mem_fix_kind(memop, m64, addr32), (size_t)(dispp - c->buf), c->len,
                         sym, add))
            return c->err.status;
    }
    for (i = 0; i < nimm; i++) {
        if (imm[i]->kind == JK_X86_OP_LABEL) {
            put_imm(immp[i], 0, f->immsz[i]);
            if (jk__code_fix(c, imm_fix_kind(f, (unsigned)(imm[i] - ops), f->immsz[i], m64),
                             (size_t)(immp[i] - c->buf), c->len, (uint32_t)imm[i]->value,
                             lbl_addend(imm[i])))
                return c->err.status;
        }
    }
    return JK_OK;
}

/* The builder for the common case: legacy encoding, no branch, no moffs,
 * no pending prefix (forms without JK__F_SLOW). info[] holds the byte
 * register flags of each operand (index 15 = none = 0). */
JK__ALWAYS_INLINE static inline int build_fast(jk_x86_asm *a, const jk__x86_form *f, const jk_x86_op *ops,
                      const uint8_t *info, const char *m)
{
    jk__code *c = &a->code;
    unsigned ri = f->ri, mi = f->mi, oi = f->oi, i0 = f->i0, i1 = f->i1;
    unsigned rex = f->rexw, bx = info[ri] | info[mi] | info[oi];
    unsigned regf = f->modrm & 7u, addr32 = 0;
    uint8_t *p = c->buf + c->len, *dispp = NULL;
    const jk_x86_op *mop = NULL;
    int64_t disp = 0;
    int m64 = a->mode == JK_X86_MODE64;
    if (ri != 15u) {
        regf = ops[ri].reg & 7u;
        rex |= (ops[ri].reg & 8u) >> 1;
    }
    if (oi != 15u)
        rex |= (ops[oi].reg & 8u) >> 3;
    if (mi != 15u) {
        mop = &ops[mi];
        if (mop->kind == JK_X86_OP_REG) {
            rex |= (mop->reg & 8u) >> 3;
        } else {
            if (mem_disp(a, mop, m64, &disp, &addr32, 0))
                return MISMATCH;
            if (mop->rclass == JK_X86_RC_GP32 || mop->rclass == JK_X86_RC_GP64)
                rex |= (mop->reg & 8u) >> 3;
            if (mop->iclass != JK_X86_RC_NONE)
                rex |= (mop->index & 8u) >> 2;
            if (mop->flags & JK_X86_MEM_SEG_MASK)
                p = seg_override(p, mop);
            if (addr32)
                *p++ = 0x67;
        }
    }
    if ((bx & 2u) && (rex || (bx & 1u))) {
        unsigned k;
        for (k = 0; ops[k].rclass != JK_X86_RC_GP8HI || ops[k].kind != JK_X86_OP_REG; k++)
            ;
        return jk__code_fail(c, JK_EOPERAND, "%s: %s cannot be encoded with REX", m,
                             reg_name(JK_X86_RC_GP8HI, ops[k].reg));
    }
    p[0] = f->lpfx[0];
    p[1] = f->lpfx[1];
    p += f->nlpfx;
    if (rex | (bx & 1u))
        *p++ = (uint8_t)(0x40 | rex);
    p[0] = f->opc[0];
    p[1] = f->opc[1];
    p[2] = f->opc[2];
    p += f->opc_len;
    if (oi != 15u)
        p[-1] = (uint8_t)(p[-1] + (ops[oi].reg & 7u));
    if (f->flags & JK__F_MODRM) {
        if (mop->kind == JK_X86_OP_REG)
            *p++ = (uint8_t)(0xC0 | (regf << 3) | (mop->reg & 7u));
        else
            p = enc_mem(p, regf, mop, disp, m64, &dispp, 0);
    }
    if (i0 != 15u) {
        uint8_t *ip = p;
        p = put_imm(p, (uint64_t)ops[i0].value, f->immsz[0]);
        if (i1 != 15u)
            p = put_imm(p, (uint64_t)ops[i1].value, f->immsz[1]);
        c->len = (size_t)(p - c->buf);
        if (ops[i0].kind == JK_X86_OP_LABEL) {
            put_imm(ip, 0, f->immsz[0]);
            if (jk__code_fix(c, imm_fix_kind(f, i0, f->immsz[0], m64), (size_t)(ip - c->buf),
                             c->len, (uint32_t)ops[i0].value, lbl_addend(&ops[i0])))
                return c->err.status;
        }
    } else {
        c->len = (size_t)(p - c->buf);
    }
    if (dispp && (mop->flags & JK_X86_MEM_LABEL)) {
        if (jk__code_fix(c, mem_fix_kind(mop, m64, addr32), (size_t)(dispp - c->buf), c->len,
                         (uint32_t)((uint64_t)mop->value >> 32),
                         (int32_t)(uint32_t)mop->value))
            return c->err.status;
    }
    return JK_OK;
}

/* The builder for VEX forms with a ModRM byte and no pending prefix: the
 * common SIMD case, without build()'s branch, moffs and prefix logic.
 * Returns VEX_GENERAL when the operands need build() (a label in memory or
 * as the immediate). */
#define VEX_GENERAL (-2)
JK__ALWAYS_INLINE static inline int build_vex(jk_x86_asm *a, const jk__x86_form *f,
                                              const jk_x86_op *ops)
{
    jk__code *c = &a->code;
    uint32_t sl = f->slots;
    unsigned ri = sl & 15u, mi = (sl >> 4) & 15u, vi = (sl >> 8) & 15u, i0 = (sl >> 16) & 15u;
    const jk_x86_op *mop = &ops[mi];
    unsigned regf = ri != 15u ? ops[ri].reg : f->modrm, vvvv = vi != 15u ? ops[vi].reg : 0u;
    unsigned rex = (regf & 8u) >> 1, addr32 = 0;
    unsigned v = f->vex, w = JK__VEX_W(v), l = JK__VEX_L(v), pp = JK__VEX_PP(v);
    unsigned map = JK__VEX_MAP(v);
    uint8_t *p = c->buf + c->len, *dispp = NULL;
    int64_t disp = 0;
    int m64 = a->mode == JK_X86_MODE64;
    if (i0 != 15u && ops[i0].kind == JK_X86_OP_LABEL)
        return VEX_GENERAL;
    if (mop->kind == JK_X86_OP_REG) {
        rex |= (mop->reg & 8u) >> 3;
        /* the store twin gives the 2-byte VEX (see JK__F_VSWAP) */
        if ((f->flags & JK__F_VSWAP) && (mop->reg & 8u) && !(regf & 8u))
            return MISMATCH;
    } else {
        if (mop->flags & JK_X86_MEM_LABEL)
            return VEX_GENERAL;
        if (mem_disp(a, mop, m64, &disp, &addr32, 0))
            return MISMATCH;
        if (mop->rclass == JK_X86_RC_GP32 || mop->rclass == JK_X86_RC_GP64)
            rex |= (mop->reg & 8u) >> 3;
        if (mop->iclass != JK_X86_RC_NONE)
            rex |= (mop->index & 8u) >> 2;
        if (mop->flags & JK_X86_MEM_SEG_MASK)
            p = seg_override(p, mop);
        if (addr32)
            *p++ = 0x67;
    }
    if (map == 1 && !w && !(rex & 3u)) {
        p[0] = 0xC5;
        p[1] = (uint8_t)((((~rex >> 2) & 1u) << 7) | ((~vvvv & 15u) << 3) | (l << 2) | pp);
        p[2] = f->opc[0];
        p += 3;
    } else {
        p[0] = 0xC4;
        p[1] = (uint8_t)(((~rex & 7u) << 5) | map);
        p[2] = (uint8_t)((w << 7) | ((~vvvv & 15u) << 3) | (l << 2) | pp);
        p[3] = f->opc[0];
        p += 4;
    }
    if (mop->kind == JK_X86_OP_REG)
        *p++ = (uint8_t)(0xC0 | ((regf & 7u) << 3) | (mop->reg & 7u));
    else
        p = enc_mem(p, regf & 7u, mop, disp, m64, &dispp, 0);
    if (f->flags & JK__F_FIMM)
        *p++ = f->fimm;
    if (i0 != 15u)
        *p++ = ops[i0].kind == JK_X86_OP_REG ? (uint8_t)(ops[i0].reg << 4) : (uint8_t)ops[i0].value;
    c->len = (size_t)(p - c->buf);
    return JK_OK;
}

/* -- Diagnostics ---------------------------------------------------------- */

static void describe(const jk_x86_op *o, char *buf, size_t n)
{
    switch (o->kind) {
    case JK_X86_OP_REG:
        switch (o->rclass) {
        case JK_X86_RC_GP8: case JK_X86_RC_GP8HI: snprintf(buf, n, "r8"); return;
        case JK_X86_RC_GP16: snprintf(buf, n, "r16"); return;
        case JK_X86_RC_GP32: snprintf(buf, n, "r32"); return;
        case JK_X86_RC_GP64: snprintf(buf, n, "r64"); return;
        case JK_X86_RC_SEG: snprintf(buf, n, "sreg"); return;
        case JK_X86_RC_XMM: snprintf(buf, n, "xmm"); return;
        case JK_X86_RC_ST: snprintf(buf, n, "st"); return;
        case JK_X86_RC_MM: snprintf(buf, n, "mm"); return;
        case JK_X86_RC_YMM: snprintf(buf, n, "ymm"); return;
        default: snprintf(buf, n, "reg"); return;
        }
    case JK_X86_OP_MEM:
        if (o->iclass == JK_X86_RC_XMM || o->iclass == JK_X86_RC_YMM) /* VSIB: vm32x ... */
            snprintf(buf, n, "vm%.0u%s", 8u * o->size, o->iclass == JK_X86_RC_XMM ? "x" : "y");
        else if (o->size)
            snprintf(buf, n, "m%u", 8u * o->size);
        else
            snprintf(buf, n, "m");
        return;
    case JK_X86_OP_IMM: snprintf(buf, n, "imm"); return;
    case JK_X86_OP_LABEL: snprintf(buf, n, o->flags & JK_X86_LBL_IMM ? "imm" : "label"); return;
    default: snprintf(buf, n, "?"); return;
    }
}

static int forms_match(const jk__x86_form *f, unsigned n, const uint64_t *cls)
{
    unsigned i;
    if (f->nops != n)
        return 0;
    for (i = 0; i < n; i++)
        if (!(f->ops[i] & cls[i]))
            return 0;
    return 1;
}

JK__NOINLINE static jk_status no_form(jk_x86_asm *a, unsigned id, unsigned n, const jk_x86_op *ops,
                         uint64_t *cls)
{
    const jk__x86_form *f = jk__x86_forms + jk__x86_mnem_first[id];
    const jk__x86_form *end = jk__x86_forms + jk__x86_mnem_first[id + 1];
    const char *m = mnem(id);
    char desc[64], one[16];
    unsigned i;
    size_t len = 0;
    uint64_t wide[4];
    if (a->why)
        return jk__code_fail(&a->code, JK_ERANGE, "%s: %s", m, a->why);
    /* an immediate out of range: widen immediates and retry */
    for (i = 0; i < n; i++)
        wide[i] = ops[i].kind == JK_X86_OP_IMM ? (cls[i] | JK__C_IMM) : cls[i];
    for (f = jk__x86_forms + jk__x86_mnem_first[id]; f < end; f++) {
        if (!(f->flags & a->mode_excl) && forms_match(f, n, wide)) {
            unsigned k, ni = 0;
            for (k = 0; k < n; k++) {
                if (f->roles[k] == JK__RO_I) {
                    if (!(f->ops[k] & cls[k]))
                        return jk__code_fail(&a->code, JK_ERANGE, "%s: imm %lld does not fit imm%u",
                                             m, (long long)ops[k].value, 8u * f->immsz[ni]);
                    ni++;
                }
            }
        }
    }
    /* unsized memory that some size would make valid (cvtsi2sd xmm0, [rax]:
     * m32 or m64): ambiguous, as GNU as says */
    for (i = 0; i < n; i++) {
        if (ops[i].kind == JK_X86_OP_MEM && ops[i].size == 0 &&
            ops[i].iclass != JK_X86_RC_XMM && ops[i].iclass != JK_X86_RC_YMM) {
            memcpy(wide, cls, sizeof wide);
            wide[i] = JK__C_MEM & ~JK__C_MX;
            for (f = jk__x86_forms + jk__x86_mnem_first[id]; f < end; f++)
                if (!(f->flags & a->mode_excl) && forms_match(f, n, wide))
                    return jk__code_fail(&a->code, JK_ENOFORM,
                                         "%s: ambiguous operand size: the memory operand needs "
                                         "a size (dword ptr, qword ptr, ...)", m);
        }
    }
    /* a gather with a general index register */
    for (i = 0; i < n; i++)
        if (ops[i].kind == JK_X86_OP_MEM && ops[i].iclass != JK_X86_RC_XMM &&
            ops[i].iclass != JK_X86_RC_YMM)
            for (f = jk__x86_forms + jk__x86_mnem_first[id]; f < end; f++)
                if ((f->flags & JK__F_VSIB) && f->nops == n && !(f->ops[i] & JK__C_MEM) &&
                    (f->ops[i] & (JK__C_VM32X | JK__C_VM32Y | JK__C_VM64X | JK__C_VM64Y)))
                    return jk__code_fail(&a->code, JK_ENOFORM,
                                         "%s: the memory operand needs an xmm or ymm index "
                                         "(VSIB)", m);
    /* a form exists in the other mode */
    for (f = jk__x86_forms + jk__x86_mnem_first[id]; f < end; f++)
        if (forms_match(f, n, cls))
            return jk__code_fail(&a->code, JK_ENOFORM, "%s: not available in %s-bit mode", m,
                                 a->mode == JK_X86_MODE64 ? "64" : "32");
    desc[0] = 0;
    for (i = 0; i < n; i++) {
        describe(&ops[i], one, sizeof one);
        len += (size_t)snprintf(desc + len, sizeof desc - len, "%s%s", i ? ", " : "", one);
        if (len >= sizeof desc)
            break;
    }
    return jk__code_fail(&a->code, JK_ENOFORM, "%s: no form takes (%s)", m, desc);
}

/* -- Entry ---------------------------------------------------------------- */

/* The direction of a register form: 1 store (operand 0 in ModRM.rm), 2 load
 * (operand 0 in ModRM.reg, a later one in rm), 0 neither. */
static unsigned form_dir(const jk__x86_form *f)
{
    unsigned i;
    if (f->roles[0] == JK__RO_M)
        return 1;
    if (f->roles[0] == JK__RO_R)
        for (i = 1; i < f->nops; i++)
            if (f->roles[i] == JK__RO_M)
                return 2;
    return 0;
}

/* GNU as refuses {store} and .s on `fadd st(0), st(i)` and the other x87
 * forms with a reversed twin (`fadd st(i), st(0)`, DC C0+i): 1 for those. */
static int x87_twin(jk_x86_mnem id, unsigned n, const jk_x86_op *ops)
{
    const jk__x86_form *f = jk__x86_forms + jk__x86_mnem_first[id];
    const jk__x86_form *end = jk__x86_forms + jk__x86_mnem_first[id + 1];
    if (n != 2 || ops[0].kind != JK_X86_OP_REG || ops[0].rclass != JK_X86_RC_ST ||
        ops[0].reg != 0 || ops[1].kind != JK_X86_OP_REG || ops[1].rclass != JK_X86_RC_ST)
        return 0;
    for (; f < end; f++)
        if (f->nops == 2 && f->roles[0] == JK__RO_O && f->roles[1] == JK__RO_Z &&
            (f->ops[0] & JK__C_ST))
            return ops[1].reg != 0; /* st(0), st(0) is the twin's own */
    return 0;
}

/* {load} / {store} / .s: when every operand is a register and the default
 * candidate (the first that matches) has a direction other than the wanted
 * one, the first candidate of the wanted direction; else NULL (the usual
 * order decides, as GNU as ignores the hint). For .s the wanted direction
 * is the other one than the default's. */
static const jk__x86_form *prefer_dir(const jk_x86_asm *a, const jk__x86_slot *slot,
                                      const uint64_t *cls, unsigned n, const jk_x86_op *ops)
{
    const uint16_t *cand = jk__x86_cand + slot->first, *cend = cand + slot->count;
    unsigned i, dflt = 0, want = a->pend_hint & JK_X86_HINT_STORE ? 1u
                              : a->pend_hint & JK_X86_HINT_LOAD ? 2u : 0u;
    if (n < 2)
        return NULL;
    for (i = 0; i < n; i++)
        if (ops[i].kind != JK_X86_OP_REG)
            return NULL;
    for (; cand < cend; cand++) {
        const jk__x86_form *f = &jk__x86_forms[*cand & 0x7FFFu];
        unsigned d;
        if (!forms_match(f, n, cls) ||
            (f->feature && !((a->features >> (f->feature - 1u)) & 1u)))
            continue;
        d = form_dir(f);
        if (!dflt) { /* the default candidate. One of neither direction
                      * (xchg's 90+r) stays, except (GNU as) with the
                      * accumulator first and not second: {store} takes the
                      * store form, .s the load form */
            dflt = 1;
            if ((want && d == want) ||
                (!d && (want == 2u || f->roles[0] != JK__RO_Z || ops[1].reg == 0)))
                return NULL;
            if (!want) /* .s: the other direction */
                want = d ? 3u - d : 2u;
            continue;
        }
        if (d == want)
            return f;
    }
    return NULL;
}

JK__NOINLINE static jk_status emit_general(jk_x86_asm *a, jk_x86_mnem id, unsigned n,
                                           const jk_x86_op *ops)
{
    jk__code *c;
    uint64_t cls[4];
    uint8_t info[16];
    const uint64_t *regcls;
    const jk__x86_slot *slot;
    const uint16_t *cand, *cend;
    const jk__x86_form *lacks = NULL;
    unsigned i, h, sig, mask, pass;
    uint32_t key;
    int r;
    if (!a)
        return JK_EINVAL;
    c = &a->code;
    if (c->err.status)
        return c->err.status;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot emit after finish");
    if ((unsigned)id >= JK_X86_MNEM_COUNT)
        return jk__code_fail(c, JK_EINVAL, "emit: unknown mnemonic id %u", (unsigned)id);
    if (n > 4 || (n && !ops))
        return jk__code_fail(c, JK_EINVAL, "%s: bad operand count or NULL operands",
                             jk__x86_mnem_names[id]);
    if (jk__code_reserve(c, 32))
        return c->err.status;
    regcls = &jk__x86_regcls[a->mode][0][0];
    key = ((uint32_t)id * 2u + (uint32_t)a->mode) << (4 * JK__SIG_BITS);
    memset(info, 0, sizeof info);
    cls[0] = cls[1] = cls[2] = cls[3] = 1; /* absent operands: forms accept anything */
    for (i = 0; i < n; i++) {
        const jk_x86_op *o = &ops[i];
        uint64_t cl = 0;
        /* fast paths: registers by table, immediates, plain memory */
        if (o->kind == JK_X86_OP_REG) {
            unsigned ix = (unsigned)o->rclass * 16u + o->reg;
            if (ix < 256u && o->reg < 16u) {
                cl = regcls[ix];
                sig = jk__x86_regsig[o->rclass];
                info[i] = (&jk__x86_reginfo[0][0])[ix];
            }
        } else if (o->kind == JK_X86_OP_IMM) {
            cl = imm_class(o->value);
            sig = imm_sig(o->value);
        } else if (o->kind == JK_X86_OP_MEM && o->flags == 0 && o->size <= 64 &&
                   o->rclass == a->addr_rc && o->reg < a->nregs &&
                   (o->iclass == JK_X86_RC_NONE ||
                    (o->iclass == o->rclass && o->index < a->nregs && o->index != 4 && o->scale <= 3))) {
            /* [base + index*scale + disp] in the mode's address size */
            cl = mem_cls[o->size];
            sig = mem_sig[o->size];
        }
        if (!cl) {
            sig = 0;
            cl = classify(a, o, jk__x86_mnem_names[id], &sig);
            if (!cl)
                return c->err.status;
        }
        cls[i] = cl;
        key |= (uint32_t)sig << (JK__SIG_BITS * i);
    }
    /* (mode, mnemonic, operand kinds) -> candidate forms in table order */
    mask = (1u << jk__x86_lookup_bits) - 1u;
    h = (uint32_t)(key * JK__X86_HASH_MUL) >> (32 - jk__x86_lookup_bits);
    for (;;) {
        slot = &jk__x86_lookup[h];
        if (slot->key == key)
            break;
        if (slot->key == 0xFFFFFFFFu)
            goto nomatch;
        h = (h + 1) & mask;
    }
    a->why = NULL;
    if ((a->pending & JK__PEND_HINT) &&
        (a->pend_hint & (JK_X86_HINT_LOAD | JK_X86_HINT_STORE | JK_X86_HINT_SWAP))) {
        const jk__x86_form *pf;
        if ((a->pend_hint & (JK_X86_HINT_STORE | JK_X86_HINT_SWAP)) && x87_twin(id, n, ops)) {
            jk__x86_set_pending(a, 0);
            return jk__code_fail(c, JK_EOPERAND, "%s: %s does not apply to st(0), st(i)",
                                 jk__x86_mnem_names[id],
                                 a->pend_hint & JK_X86_HINT_STORE ? "{store}" : ".s");
        }
        pf = prefer_dir(a, slot, cls, n, ops);
        if (pf) {
            r = build(a, pf, n, ops, jk__x86_mnem_names[id]);
            if (r != MISMATCH) {
                jk__x86_set_pending(a, 0);
                a->last = JK__K_OF_FORM(pf - jk__x86_forms);
                c->insn++;
                return (jk_status)r;
            }
        }
    }
    /* with addr32 the moffs forms come first (GNU as: 67 a0 + 4 bytes), and
     * with {disp32} in 64-bit mode */
    pass = (a->pending & JK__PEND_A32) ||
                   ((a->pending & JK__PEND_HINT) && (a->pend_hint & JK_X86_HINT_DISP32) &&
                    a->mode == JK_X86_MODE64)
               ? 0u : 1u; /* GNU as: {disp32} mov al, [0x1000] is a0 + 8 bytes */
again:
    cand = jk__x86_cand + slot->first;
    cend = cand + slot->count;
    for (; cand < cend; cand++) {
        const jk__x86_form *f = &jk__x86_forms[*cand & 0x7FFFu];
        if (!(*cand & 0x8000u) && (!(f->ops[0] & cls[0]) | !(f->ops[1] & cls[1]) |
                                   !(f->ops[2] & cls[2]) | !(f->ops[3] & cls[3])))
            continue;
        if (!pass && (f->slots >> 28) == 15u)
            continue; /* no moffs operand */
        if (f->feature && !((a->features >> (f->feature - 1u)) & 1u)) {
            if (!lacks) /* a later candidate may need less (pextrw r32: SSE2 before SSE4.1) */
                lacks = f;
            continue;
        }
        if (!(f->flags & JK__F_SLOW) && !a->pending)
            r = build_fast(a, f, ops, info, jk__x86_mnem_names[id]);
        else if (f->enc == JK__ENC_VEX &&
                 (f->flags & (JK__F_MODRM | JK__F_VSIB | JK__F_EVEXDEF)) == JK__F_MODRM &&
                 !a->pending &&
                 (r = build_vex(a, f, ops)) != VEX_GENERAL)
            ;
        else
            r = build(a, f, n, ops, jk__x86_mnem_names[id]);
        if (r == MISMATCH)
            continue;
        if (a->pending)
            jk__x86_set_pending(a, 0);
        a->last = JK__K_OF_FORM(f - jk__x86_forms);
        c->insn++;
        return (jk_status)r;
    }
    if (!pass++)
        goto again;
nomatch:
    if (a->pending)
        jk__x86_set_pending(a, 0);
    if (lacks)
        return jk__code_fail(c, JK_ENOFORM, "%s: needs %s, which the target feature set lacks",
                             jk__x86_mnem_names[id], jk__x86_feature_names[lacks->feature]);
    return no_form(a, id, n, ops, cls);
}

/* -- The quick path ------------------------------------------------------------
 * Up to two operands that are general registers, immediates, plain
 * [base + index*scale + disp] memory or labels, no pending prefix, room in
 * the buffer (the code's gate, jk__code.qlim, says all of that but the
 * operands in one compare), and a candidate the quick encoders handle:
 * classify inline (a register is one load of its class word), one probe,
 * encode. Anything else - and any doubt - goes to emit_general, which redoes
 * the work with every check and explains failures, so the quick path never
 * decides an error. Operands come by value (jk_x86_emit0/1/2): the helpers
 * pass them in registers and nothing is copied. */

/* Memory class words by access size (0 = unsized); 0 = not quick. */
#define QM(c, s) ((c) | (uint64_t)(s) << JK__Q_SIG_SHIFT)
static const uint64_t mem_q[65] = {
    [0] = QM(JK__C_MX, JK__SIG_MX), [1] = QM(JK__C_M8, JK__SIG_M8), [2] = QM(JK__C_M16, JK__SIG_M16),
    [4] = QM(JK__C_M32, JK__SIG_M32), [8] = QM(JK__C_M64, JK__SIG_M64),
    [10] = QM(JK__C_M80, JK__SIG_M80), [16] = QM(JK__C_M128, JK__SIG_M128),
    [32] = QM(JK__C_M256, JK__SIG_M256), [64] = QM(JK__C_M512, JK__SIG_M512),
};
#undef QM

_Static_assert((int)JK__SIG_R8 == (int)JK_X86_RC_GP8 && (int)JK__SIG_R8HI == (int)JK_X86_RC_GP8HI &&
                   (int)JK__SIG_R16 == (int)JK_X86_RC_GP16 && (int)JK__SIG_R32 == (int)JK_X86_RC_GP32 &&
                   (int)JK__SIG_R64 == (int)JK_X86_RC_GP64,
               "register signatures are the register classes");
_Static_assert(JK__C_ST0 < JK__Q_REX && JK__SIG_COUNT <= 32,
               "class bits stay below the quick-path flags and signature");

/* The quick word of one operand (class | signature | REX flags), 0 when the
 * general path must handle it. */
JK__ALWAYS_INLINE static inline uint64_t qword(const jk_x86_asm *a, const jk_x86_op *o)
{
    if (o->kind == JK_X86_OP_REG) {
        if ((o->rclass | (o->reg >> 1u)) > 7u) /* rclass > 7 or reg > 15 */
            return 0;
        return a->qreg[(unsigned)o->rclass * 16u + o->reg];
    }
    if (o->kind == JK_X86_OP_IMM)
        return imm_class(o->value) | (uint64_t)imm_sig(o->value) << JK__Q_SIG_SHIFT;
    if (o->kind == JK_X86_OP_MEM) {
        if (o->flags == 0 && o->size <= 64 && o->rclass == a->addr_rc && o->reg < a->nregs &&
            (o->iclass == JK_X86_RC_NONE ||
             (o->iclass == o->rclass && o->index < a->nregs && o->index != 4 && o->scale <= 3)))
            return mem_q[o->size];
        return 0;
    }
    if (o->kind == JK_X86_OP_LABEL) {
        if ((uint64_t)o->value - 1u >= (uint64_t)a->code.nsyms - 1u || (o->flags & ~JK_X86_LBL_NEAR))
            return 0;
        return a->qlabel;
    }
    return 0;
}

#define QSIG(w) ((uint32_t)((w) >> JK__Q_SIG_SHIFT))

JK__COLD static jk_status slow2(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op o0, jk_x86_op o1)
{
    jk_x86_op ops[2];
    ops[0] = o0;
    ops[1] = o1;
    return emit_general(a, id, 2, ops);
}

JK__COLD static jk_status slow1(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op o0)
{
    return emit_general(a, id, 1, &o0);
}

JK__COLD static jk_status slow0(jk_x86_asm *a, jk_x86_mnem id)
{
    return emit_general(a, id, 0, NULL);
}

/* With few enough arguments to stay a tail call. */
#define SLOW() (n == 2 ? slow2(a, id, o0, o1) : n == 1 ? slow1(a, id, o0) : slow0(a, id))

/* Forms for the fast builder (no dedicated encoder): cold enough to keep
 * the operand array out of the quick path. */
JK__NOINLINE static jk_status quick_gen(jk_x86_asm *a, jk_x86_mnem id, unsigned n,
                                        const jk__x86_form *f, jk_x86_op o0, jk_x86_op o1,
                                        uint64_t c0, uint64_t c1)
{
    jk_x86_op ops[2];
    uint8_t info[16];
    int r;
    ops[0] = o0;
    ops[1] = o1;
    memset(info, 0, sizeof info);
    info[0] = (uint8_t)((c0 >> JK__Q_FLAG_SHIFT) & 3u);
    info[1] = (uint8_t)((c1 >> JK__Q_FLAG_SHIFT) & 3u);
    a->why = NULL;
    r = build_fast(a, f, ops, info, jk__x86_mnem_names[id]);
    if (r == MISMATCH)
        return emit_general(a, id, n, ops);
    if (r == JK_OK) {
        a->last = JK__K_OF_FORM(f - jk__x86_forms);
        a->code.insn++;
    }
    return (jk_status)r;
}

/* A branch to a label: the short jmp/jcc (relaxed at finish) or a rel32
 * call/jmp/jcc, the target a label of this code (or, for rel32, any). */
/* A branch form's opcode as an item's long form (jk__code_branch_quick). */
static uint32_t long_form(const jk__x86_form *f)
{
    return f->opc_len | (uint32_t)f->opc[0] << 8 | (uint32_t)f->opc[1] << 16 |
           (uint32_t)f->opc[2] << 24;
}

JK__NOINLINE static jk_status quick_branch(jk_x86_asm *a, jk_x86_mnem id,
                                           const jk__x86_form *f, jk_x86_op o0)
{
    jk__code *c = &a->code;
    uint32_t sym = (uint32_t)o0.value;
    uint8_t *p = c->buf + c->len;
    size_t at = c->len;
    jk_status r;
    if (o0.kind != JK_X86_OP_LABEL || f->pfx || !f->immsz[0])
        return slow1(a, id, o0);
    if (f->relax && !o0.flags && c->syms[sym].kind == JK__SYM_LOCAL) {
        p[0] = f->opc[0];
        p[1] = f->opc[1];
        p[f->opc_len] = 0;
        c->len += f->opc_len + 1u;
        c->syms[sym].used = 1;
        r = jk__code_branch_quick(c, at, f->opc_len + 1u, sym, long_form(f + f->relax));
    } else {
        if (f->relax) /* a long branch: the rel32 sibling */
            f += f->relax;
        if (f->immsz[0] != 4)
            return slow1(a, id, o0);
        p[0] = f->opc[0];
        p[1] = f->opc[1];
        p += f->opc_len;
        p = put32(p, 0);
        c->len = (size_t)(p - c->buf);
        c->syms[sym].used = 1;
        if (c->far_fn && !o0.flags && c->syms[sym].kind != JK__SYM_LOCAL && far_opcode(f))
            r = jk__code_far(c, at, sym, f->opc, f->opc_len);
        else
            r = jk__code_fix_quick(c, JK__FIX_REL32, c->len - 4, c->len, sym, 0);
    }
    if (r == JK_OK) {
        a->last = JK__K_OF_FORM(f - jk__x86_forms);
        c->insn++;
    }
    return r;
}

/* The mnemonic of form f (for the late fall-backs, which no longer hold it). */
static jk_x86_mnem mnem_of(const jk__x86_form *f)
{
    unsigned i = (unsigned)(f - jk__x86_forms), lo = 0, hi = JK_X86_MNEM_COUNT;
    while (hi - lo > 1) { /* last mnemonic whose first form is <= i */
        unsigned mid = (lo + hi) / 2;
        if (jk__x86_mnem_first[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return (jk_x86_mnem)lo;
}

JK__COLD static jk_status late2(jk_x86_asm *a, const jk__x86_form *f, jk_x86_op o0,
                                    jk_x86_op o1)
{
    return slow2(a, mnem_of(f), o0, o1);
}

JK__COLD static jk_status late1(jk_x86_asm *a, const jk__x86_form *f, jk_x86_op o0)
{
    return slow1(a, mnem_of(f), o0);
}

/* After the lookup: the form decides, the mnemonic id is not kept. */
#define LATE() (n == 2 ? late2(a, f, o0, o1) : n == 1 ? late1(a, f, o0) : slow0(a, mnem_of(f)))

/* want: the shapes (1 << JK__SH_*) this instance encodes itself; the others
 * go to `other` (the generic quick path). The per-kind entries below pass a
 * constant operand kind and the shapes it can have, so the compiler drops
 * the kind dispatch and every other encoder. */
#define SH_ALL 0xFFu
#define SH(x) (1u << JK__SH_##x)

static jk_status quick_other(jk_x86_asm *a, jk_x86_mnem id, unsigned n, jk_x86_op o0,
                             jk_x86_op o1);

JK__ALWAYS_INLINE static inline jk_status quick(jk_x86_asm *a, jk_x86_mnem id, unsigned n,
                                                jk_x86_op o0, jk_x86_op o1, unsigned want)
{
    jk__code *c;
    const jk__x86_slot *slot;
    const jk__x86_form *f;
    uint64_t c0 = 1, c1 = 1, bx;
    unsigned h, cand, sh;
    uint32_t key;
    uint8_t *p;
    if (!a || (unsigned)id >= JK_X86_MNEM_COUNT || a->code.len >= a->code.qlim)
        return SLOW();
    c = &a->code;
    if (n > 0 && !(c0 = qword(a, &o0)))
        return SLOW();
    if (n > 1 && !(c1 = qword(a, &o1)))
        return SLOW();
    key = a->qkey | ((uint32_t)id << (4 * JK__SIG_BITS + 1)) | QSIG(c0) | (QSIG(c1) << JK__SIG_BITS);
    h = (uint32_t)(key * JK__X86_HASH_MUL) >> (32 - JK__X86_LOOKUP_BITS);
    for (;;) {
        slot = &jk__x86_lookup[h];
        if (slot->key == key)
            break;
        if (slot->key == 0xFFFFFFFFu)
            return SLOW();
        h = (h + 1) & ((1u << JK__X86_LOOKUP_BITS) - 1u);
    }
    cand = slot->cand0;
    sh = slot->shape0;
    f = &jk__x86_forms[cand & 0x7FFFu];
    if (!(cand & 0x8000u) && !((f->ops[0] & c0) && (f->ops[1] & c1))) {
        unsigned k = slot->first, end = k + slot->count;
        for (k++;; k++) {
            if (k == end)
                return SLOW();
            cand = jk__x86_cand[k];
            f = &jk__x86_forms[cand & 0x7FFFu];
            if ((cand & 0x8000u) || ((f->ops[0] & c0) && (f->ops[1] & c1)))
                break;
        }
        sh = jk__x86_cand_shape[k];
    }
    if (!((want >> sh) & 1u))
        return quick_other(a, id, n, o0, o1);
    if (sh == JK__SH_GEN) {
        if (f->flags & JK__F_SLOW)
            return n == 1 ? quick_branch(a, id, f, o0) : SLOW();
        return quick_gen(a, id, n, f, o0, o1, c0, c1);
    }
    bx = ((c0 | c1) >> JK__Q_FLAG_SHIFT) & 3u; /* bit 0: a byte register needs REX, bit 1: ah..bh */
    p = c->buf + c->len;
    if (sh == JK__SH_OZ && (want & SH(OZ))) {
        /* prefixes, REX, opcode (+ register), maybe one immediate */
        unsigned oi = f->oi, i0 = f->i0;
        unsigned rr = oi != 15u ? (oi ? o1.reg : o0.reg) : 0u;
        unsigned rex = f->rexw | ((rr & 8u) >> 3);
        if ((bx & 2u) && (rex | (bx & 1u)))
            return LATE(); /* ah with REX: let it explain */
        memcpy(p, f->lpfx, 2);
        p += f->nlpfx;
        *p = (uint8_t)(0x40 | rex);
        p += (rex | (bx & 1u)) != 0;
        memcpy(p, f->opc, 3);
        p += f->opc_len;
        p[-1] = (uint8_t)(p[-1] + (rr & 7u));
        if (i0 != 15u)
            p = put_imm(p, (uint64_t)(i0 ? o1.value : o0.value), f->immsz[0]);
    } else {
        /* ModRM with a register or a plain [base + index*scale + disp] (the
         * quick classification guarantees a base of the mode's address size,
         * no segment, no label), maybe one immediate */
        const jk_x86_op *mo = f->mi ? &o1 : &o0;
        unsigned ri = f->ri;
        unsigned rr = ri != 15u ? (ri ? o1.reg : o0.reg) : f->modrm;
        unsigned mm = mo->reg;
        unsigned rex = f->rexw | ((rr & 8u) >> 1) | ((mm & 8u) >> 3);
        int64_t d = 0;
        if (sh >= JK__SH_MR && (want & (SH(MR) | SH(MRI)))) {
            d = mo->value;
            if (a->mode == JK_X86_MODE64) {
                if (d < INT32_MIN || d > INT32_MAX)
                    return LATE();
            } else {
                if (d < INT32_MIN || d > (int64_t)UINT32_MAX)
                    return LATE();
                d = (int32_t)(uint32_t)d;
            }
            if (mo->iclass != JK_X86_RC_NONE)
                rex |= (mo->index & 8u) >> 2;
        }
        if ((bx & 2u) && (rex | (bx & 1u)))
            return LATE(); /* ah with REX: let it explain */
        memcpy(p, f->lpfx, 2);
        p += f->nlpfx;
        *p = (uint8_t)(0x40 | rex);
        p += (rex | (bx & 1u)) != 0;
        memcpy(p, f->opc, 3);
        p += f->opc_len;
        if (sh < JK__SH_MR || !(want & (SH(MR) | SH(MRI)))) {
            *p++ = (uint8_t)(0xC0 | ((rr & 7u) << 3) | (mm & 7u));
        } else {
            unsigned b = mm & 7u, mod = (d == 0 && b != 5u) ? 0u : fits8(d) ? 1u : 2u;
            if (mo->iclass != JK_X86_RC_NONE || b == 4u) {
                unsigned x = mo->iclass != JK_X86_RC_NONE ? (mo->index & 7u) | (unsigned)mo->scale << 3 : 4u;
                p[0] = (uint8_t)((mod << 6) | ((rr & 7u) << 3) | 4u);
                p[1] = (uint8_t)((x << 3) | b);
                p += 2;
            } else {
                *p++ = (uint8_t)((mod << 6) | ((rr & 7u) << 3) | b);
            }
            if (mod == 1u)
                *p++ = (uint8_t)d;
            else if (mod == 2u)
                p = put32(p, (uint32_t)d);
        }
        if ((want & (SH(RI) | SH(MRI))) && (sh == JK__SH_RI || sh == JK__SH_MRI))
            p = put_imm(p, (uint64_t)(f->i0 ? o1.value : o0.value), f->immsz[0]);
    }
    c->len = (size_t)(p - c->buf);
    a->last = JK__K_OF_FORM(f - jk__x86_forms);
    c->insn++;
    return JK_OK;
}

static jk_status quick_other(jk_x86_asm *a, jk_x86_mnem id, unsigned n, jk_x86_op o0,
                             jk_x86_op o1)
{
    return n == 2 ? jk_x86_emit2(a, id, o0, o1) : n == 1 ? jk_x86_emit1(a, id, o0)
                                                         : jk_x86_emit0(a, id);
}

static jk_status emit0_quick(jk_x86_asm *a, jk_x86_mnem id)
{
    jk_x86_op none = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    return quick(a, id, 0, none, none, SH_ALL);
}

jk_status jk_x86_emit1(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op o0)
{
    jk_x86_op none = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    return quick(a, id, 1, o0, none, SH_ALL);
}

jk_status jk_x86_emit2(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op o0, jk_x86_op o1)
{
    return quick(a, id, 2, o0, o1, SH_ALL);
}

/* -- Entries by operand kind ------------------------------------------------
 * The generated helpers call these when the operand kinds are compile-time
 * constants (x86_insn.h); jk_x86_emit picks them at run time. A register
 * travels as rclass << 8 | number (JK__X86_RW), so no struct is built. Each
 * entry does only what its kinds need - gate, one table load per register,
 * one probe, the encoder of the one shape it expects - and hands anything
 * else (another shape, a non-exact candidate, ah with REX, an odd memory
 * operand) to jk_x86_emit1/2 with the operands rebuilt, so errors are still
 * decided and explained by the general path only. */

static inline jk_x86_op reg_op(uint32_t w)
{
    jk_x86_op o = {JK_X86_OP_REG, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t sz[8] = {0, 1, 1, 2, 4, 8, 2, 8};
    o.rclass = (uint8_t)(w >> 8);
    o.reg = (uint8_t)w;
    o.size = sz[(w >> 8) & 7u];
    return o;
}

static inline jk_x86_op imm_op(int64_t v)
{
    jk_x86_op o = {JK_X86_OP_IMM, 0, 0, 0, 0, 0, 0, 0, 0};
    o.value = v;
    return o;
}

JK__COLD static jk_status k_r(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0)
{
    return jk_x86_emit1(a, id, reg_op(w0));
}

JK__COLD static jk_status k_rr(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, uint32_t w1)
{
    return jk_x86_emit2(a, id, reg_op(w0), reg_op(w1));
}

JK__COLD static jk_status k_ri(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, int64_t v)
{
    return jk_x86_emit2(a, id, reg_op(w0), imm_op(v));
}

JK__COLD static jk_status k_rm(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, const jk_x86_op *m,
                               int rev)
{
    return rev ? jk_x86_emit2(a, id, *m, reg_op(w0)) : jk_x86_emit2(a, id, reg_op(w0), *m);
}

/* The row of mnemonic id in the assembler's mode's array of a kind (row 0
 * is all empty). */
#define KROW(kind, id) (a->k##kind + jk__x86_krow_##kind[id])

static inline void store_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    unsigned i;
    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

/* ModRM and REX bits of a register pair, by [swap][byte][r0][r1] (bits 9
 * and 8 of the entry's high word): bits 0..7 the ModRM byte (mod 3, rm =
 * r0, reg = r1; swapped for the forms that take operand 1 in rm), bits 8..15
 * the REX bits R and B, plus 0x40 when a byte register spl..dil needs an
 * (empty) REX prefix. The one-register entries look up (r0, 0) or (r0, r0). */
#define KX_RG(s, i) ((s) ? (i) >> 4 : (i) & 15)
#define KX_RM(s, i) ((s) ? (i) & 15 : (i) >> 4)
#define KX_SPL(r) (((r) & 0xC) == 4)
#define KX(s, c, i) \
    (uint16_t)(0xC0 | (KX_RG(s, i) & 7) << 3 | (KX_RM(s, i) & 7) | \
               ((KX_RG(s, i) & 8) >> 1 | (KX_RM(s, i) & 8) >> 3) << 8 | \
               ((c) == JK_X86_RC_GP8 && (KX_SPL(KX_RG(s, i)) || KX_SPL(KX_RM(s, i))) ? 0x4000 : 0))
#define KX4(s, c, i) KX(s, c, i), KX(s, c, (i) + 1), KX(s, c, (i) + 2), KX(s, c, (i) + 3)
#define KX16(s, c, i) KX4(s, c, i), KX4(s, c, (i) + 4), KX4(s, c, (i) + 8), KX4(s, c, (i) + 12)
#define KX64(s, c, i) KX16(s, c, i), KX16(s, c, (i) + 16), KX16(s, c, (i) + 32), KX16(s, c, (i) + 48)
#define KX256(s, c) KX64(s, c, 0), KX64(s, c, 64), KX64(s, c, 128), KX64(s, c, 192)
static const uint16_t kx_rr[4 * 256] = {KX256(0, 0), KX256(0, JK_X86_RC_GP8), KX256(1, 0),
                                        KX256(1, JK_X86_RC_GP8)};
_Static_assert(JK__KH_BYTE == 1u << 8 && JK__KH_SWAP == 1u << 9,
               "kx_rr is indexed by the byte and swap bits of the entry's high word");

/* The same for one register r of an entry whose high word has bits 6..8
 * (DIGIT, MODRM, BYTE) = g: index g << 4 | r. Without ModRM (+r) the low 3
 * bits of r and REX.B; with ModRM and a /digit C0 | rm and REX.B; with ModRM
 * and no /digit (imul r, r, imm) the register in both fields. */
#define KX1(g, r) \
    (uint16_t)(((g) & 2 ? 0xC0 | ((g) & 1 ? 0 : ((r) & 7) << 3 | ((r) & 8) << 7) : 0) | ((r) & 7) | \
               ((r) & 8) << 5 | ((g) & 4 && KX_SPL(r) ? 0x4000 : 0))
#define KX1_4(g, r) KX1(g, r), KX1(g, (r) + 1), KX1(g, (r) + 2), KX1(g, (r) + 3)
#define KX1_16(g) KX1_4(g, 0), KX1_4(g, 4), KX1_4(g, 8), KX1_4(g, 12)
static const uint16_t kx1[8 * 16] = {KX1_16(0), KX1_16(1), KX1_16(2), KX1_16(3),
                                     KX1_16(4), KX1_16(5), KX1_16(6), KX1_16(7)};
_Static_assert(JK__KH_DIGIT == 1u << 6 && JK__KH_MODRM == 1u << 7,
               "kx1 is indexed by the digit, ModRM and byte bits of the entry's high word");

/* Insert REX byte rex after the npfx legacy prefixes of t (npfx > 0). */
JK__COLD static uint64_t k_rex_after_pfx(uint64_t t, unsigned npfx, unsigned rex)
{
    unsigned pos = 8 * npfx;
    uint64_t lo = t & ((1ull << pos) - 1u);
    return lo | (uint64_t)rex << pos | (t - lo) << 8;
}

/* A 32-bit mode entry (high word h) refuses registers r (the numbers ORed)
 * that would need a REX byte: r8.., and spl..dil for byte entries; the
 * general path says why. Tested before anything is built, so the general
 * path needs nothing built here. */
#define K_LEGACY(h, r) (((h) & JK__KH_LEGACY) && (r) >= ((h) & JK__KH_BYTE ? 4u : 8u))

/* The head of an instruction of entry e (high word h): its bytes with x
 * (ModRM, or the register of +r) added to the last one, and the REX bits
 * rex (R, X, B in the low 4 bits; 0x40: spl..dil need an empty REX) ORed
 * into byte 0 when the bytes carry REX.W, else a REX byte inserted after
 * the legacy prefixes; *n gets the length. */
JK__ALWAYS_INLINE static inline uint64_t k_head(uint64_t e, uint32_t h, unsigned x, unsigned rex,
                                                unsigned *n)
{
    uint64_t t;
    *n = h & JK__KH_LEN;
    t = (uint32_t)e + ((uint64_t)x << (8 * *n - 8));
    rex |= h & JK__KH_REXW;
    if (JK__KH_REXIN(h)) {
        t |= rex & 15u;
    } else if (rex) {
        unsigned b = 0x40u | (rex & 15u);
        t = JK__KH_NPFX(h) ? k_rex_after_pfx(t, JK__KH_NPFX(h), b) : t << 8 | b;
        ++*n;
    }
    return t;
}

/* Account for an instruction of entry e that ends n bytes on: the gate
 * left 32 bytes of room, so the 8-byte stores before were safe. */
JK__ALWAYS_INLINE static inline jk_status k_done(jk_x86_asm *a, uint64_t e, size_t n)
{
    a->code.len += n;
    a->last = e;
    a->code.insn++;
    return JK_OK;
}

/* The gate of a register word w: a usable assembler, the quick path open,
 * a class below 8 (the per-kind columns) and a number below 16. A 32-bit
 * mode entry refuses the numbers 8.. (and spl..dil) itself (K_LEGACY). */
#define K_GATE(a, id, w) \
    (!(a) || (unsigned)(id) >= JK_X86_MNEM_COUNT || ((w) & ~0x70Fu) || \
     (a)->code.len >= (a)->code.qlim)

/* No operands: the opcode bytes from the per-kind table (no ModRM, no
 * immediate), REX.W inserted when the entry asks for it. */
jk_status jk_x86_emit0(jk_x86_asm *a, jk_x86_mnem id)
{
    uint64_t e, t;
    uint32_t h;
    unsigned n;
    if (!a || (unsigned)id >= JK_X86_MNEM_COUNT || a->code.len >= a->code.qlim ||
        !(e = KROW(z, id)[0]))
        return emit0_quick(a, id);
    h = JK__K_HI(e);
    t = k_head(e, h, 0, 0, &n); /* no REX.W in 32-bit mode */
    store_le64(a->code.buf + a->code.len, t);
    return k_done(a, e, n);
}

/* One register: in ModRM.rm (with a /digit) or added to the opcode (+r). */
jk_status jk__x86_r(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0)
{
    uint64_t e, t;
    uint32_t h;
    unsigned r0 = w0 & 15u, v, n;
    if (K_GATE(a, id, w0))
        return k_r(a, id, w0);
    e = KROW(r, id)[w0 >> 8];
    h = JK__K_HI(e);
    if (!e || ((h & (JK__KH_SPECIALS | JK__KH_LEGACY)) &&
               (JK__KH_SPECIAL0(h, r0) || K_LEGACY(h, r0))))
        return k_r(a, id, w0);
    v = kx1[(h >> 2 & 0x70u) | r0];
    t = k_head(e, h, v & 0xFFu, v >> 8, &n);
    store_le64(a->code.buf + a->code.len, t);
    return k_done(a, e, n);
}

jk_status jk__x86_rr(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, uint32_t w1)
{
    uint64_t e, t;
    uint32_t h;
    unsigned v, n;
    /* both registers of one class below 8, numbers below 16 */
    if (!a || (unsigned)id >= JK_X86_MNEM_COUNT || ((w0 | w1) & ~0x70Fu) || ((w0 ^ w1) & 0x700u) ||
        a->code.len >= a->code.qlim)
        return k_rr(a, id, w0, w1);
    e = KROW(rr, id)[w0 >> 8];
    h = JK__K_HI(e);
    /* accumulator / cl / dx forms: registers 0..2 take the general path */
    if (!e || ((h & (JK__KH_SPECIALS | JK__KH_LEGACY)) &&
               (((h & JK__KH_SPECIALS) && ((w0 & 15u) < 3u || (w1 & 15u) < 3u)) ||
                K_LEGACY(h, (w0 | w1) & 15u))))
        return k_rr(a, id, w0, w1);
    v = kx_rr[(h & (JK__KH_SWAP | JK__KH_BYTE)) | ((w0 << 4 | w1) & 0xFFu)];
    t = k_head(e, h, v & 0xFFu, v >> 8, &n);
    store_le64(a->code.buf + a->code.len, t);
    return k_done(a, e, n);
}

jk_status jk__x86_ri(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, int64_t v)
{
    uint64_t e, t;
    uint32_t h;
    unsigned r0 = w0 & 15u, s, col, x, n;
    uint8_t *p;
    if ((uint64_t)v + 128u < 256u)
        s = v == 1;
    else if ((uint64_t)v + 0x80000000u <= 0xFFFFFFFFu)
        s = 2;
    else
        return k_ri(a, id, w0, v);
    if (K_GATE(a, id, w0))
        return k_ri(a, id, w0, v);
    col = (w0 >> 8) * 3u + s;
    e = KROW(ri, id)[col];
    h = JK__K_HI(e);
    if (!e)
        return k_ri(a, id, w0, v);
    if (h & (JK__KH_SPECIALS | JK__KH_LEGACY)) {
        if (JK__KH_SPECIAL0(h, r0)) {
            /* the accumulator forms (and al/ax/eax/rax, imm: no ModRM) */
            if (r0 != 0u || !(e = KROW(ri0, id)[col]))
                return k_ri(a, id, w0, v);
            h = JK__K_HI(e);
        }
        if (K_LEGACY(h, r0))
            return k_ri(a, id, w0, v);
    }
    x = kx1[(h >> 2 & 0x70u) | r0];
    t = k_head(e, h, x & 0xFFu, x >> 8, &n);
    p = a->code.buf + a->code.len;
    store_le64(p, t);
    store_le64(p + n, (uint64_t)v);
    return k_done(a, e, n + JK__KH_IMM(h));
}

/* Memory size -> column of the rm/mr tables (5: not quick). */
static const uint8_t msz_col[16] = {4, 0, 1, 5, 2, 5, 5, 5, 3, 5, 5, 5, 5, 5, 5, 5};

/* The first 8 bytes of an operand (kind .. flags) as a little-endian word. */
static inline uint64_t op_head(const jk_x86_op *o)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t h;
    memcpy(&h, o, 8);
    return h;
#else
    return (uint64_t)o->kind | (uint64_t)o->size << 8 | (uint64_t)o->rclass << 16 |
           (uint64_t)o->reg << 24 | (uint64_t)o->iclass << 32 | (uint64_t)o->index << 40 |
           (uint64_t)o->scale << 48 | (uint64_t)o->flags << 56;
#endif
}
_Static_assert(offsetof(jk_x86_op, kind) == 0 && offsetof(jk_x86_op, size) == 1 &&
                   offsetof(jk_x86_op, rclass) == 2 && offsetof(jk_x86_op, reg) == 3 &&
                   offsetof(jk_x86_op, iclass) == 4 && offsetof(jk_x86_op, index) == 5 &&
                   offsetof(jk_x86_op, scale) == 6 && offsetof(jk_x86_op, flags) == 7,
               "op_head reads the operand header as laid out in x86.h");

/* The base register's part of a plain memory operand, by [index?]
 * [displacement class (0: none, 1: disp8, 2: disp32)][base number]: bits
 * 0..7 ModRM mod and rm (rm 4 with an index, or for an rsp/r12 base: SIB
 * follows; an rbp/r13 base never takes mod 0), 8..15 the SIB's base bits
 * (0x24 for rsp/r12 without an index), 16..18 displacement bytes, 19 a SIB
 * byte, 20 REX.B. */
#define KMB_MOD(c, b) ((c) == 0 && ((b) & 7) == 5 ? 1 : (c))
#define KMB_SIB(x, b) ((x) || ((b) & 7) == 4)
#define KMB(x, c, b) \
    ((uint32_t)(KMB_MOD(c, b) << 6 | (KMB_SIB(x, b) ? 4 : (b) & 7)) | \
     (KMB_SIB(x, b) ? (uint32_t)((x) ? (b) & 7 : 0x24) << 8 | 1u << 19 : 0u) | \
     (uint32_t)(KMB_MOD(c, b) == 0 ? 0 : KMB_MOD(c, b) == 1 ? 1 : 4) << 16 | (uint32_t)((b) >> 3) << 20)
#define KMB4(x, c, b) KMB(x, c, b), KMB(x, c, (b) + 1), KMB(x, c, (b) + 2), KMB(x, c, (b) + 3)
#define KMB16(x, c) KMB4(x, c, 0), KMB4(x, c, 4), KMB4(x, c, 8), KMB4(x, c, 12)
#define KMB64(x) KMB16(x, 0), KMB16(x, 1), KMB16(x, 2), KMB16(x, 3)
static const uint32_t kmb[2 * 64] = {KMB64(0), KMB64(1)}; /* [x][c][b]: c = 3 unused */

/* The index's part by [index?][scale][index number]: bits 0..7 the SIB's
 * scale and index bits, 8..15 REX.X; 0 without an index. */
#define KMI(x, s, i) ((x) ? (uint16_t)((s) << 6 | ((i) & 7) << 3 | ((i) & 8) << 6) : 0)
#define KMI4(x, s, i) KMI(x, s, i), KMI(x, s, (i) + 1), KMI(x, s, (i) + 2), KMI(x, s, (i) + 3)
#define KMI16(x, s) KMI4(x, s, 0), KMI4(x, s, 4), KMI4(x, s, 8), KMI4(x, s, 12)
#define KMI64(x) KMI16(x, 0), KMI16(x, 1), KMI16(x, 2), KMI16(x, 3)
static const uint16_t kmi[2 * 64] = {KMI64(0), KMI64(1)};

/* The register's part by [byte][digit][number] (bits 8 and 6 of the entry's
 * high word, as 0x40 and 0x10): bits 0..7 ModRM.reg, 8..15 REX.R, plus 0x40
 * when spl..dil need an empty REX; nothing for a /digit. */
#define KRG(g, r) \
    ((g) & 1 ? (uint16_t)0 : (uint16_t)(((r) & 7) << 3 | ((r) & 8) << 7 | ((g) & 4 && KX_SPL(r) ? 0x4000 : 0)))
#define KRG4(g, r) KRG(g, r), KRG(g, (r) + 1), KRG(g, (r) + 2), KRG(g, (r) + 3)
#define KRG16(g) KRG4(g, 0), KRG4(g, 4), KRG4(g, 8), KRG4(g, 12)
static const uint16_t krg[0x60] = {KRG16(0), KRG16(1), KRG16(2), KRG16(3), KRG16(4), KRG16(5)};
_Static_assert(JK__KH_DIGIT == 1u << 6 && JK__KH_BYTE == 1u << 8,
               "krg is indexed by the digit and byte bits of the entry's high word");

/* Build the instruction of entry e (high word h) with register r0 and the
 * memory operand whose head word is mh and displacement d: every check is
 * done. Out of line, so the checks' values do not crowd its registers. */
JK__NOINLINE static jk_status k_mem_put(jk_x86_asm *a, uint64_t e, unsigned r0, uint64_t mh,
                                        int64_t d)
{
    uint32_t h = JK__K_HI(e);
    unsigned hx = (mh & 0xFF00000000ull) != 0; /* an index */
    unsigned dcl = (uint64_t)d + 128u >= 256u ? 2u : d != 0;
    uint32_t mb = kmb[hx << 6 | dcl << 4 | ((unsigned)(mh >> 24) & 15u)];
    unsigned ix = kmi[hx << 6 | ((unsigned)(mh >> 44) & 0x30u) | ((unsigned)(mh >> 40) & 15u)];
    unsigned g = krg[(h >> 2 & 0x50u) | r0], n;
    uint64_t t = k_head(e, h, (mb | g) & 0xFFu, g >> 8 | ix >> 8 | mb >> 20, &n);
    uint8_t *p;
    t |= (uint64_t)((mb >> 8 | ix) & 0xFFu) << (8 * n); /* n <= 5; 0 without a SIB byte */
    n += mb >> 19 & 1u;
    p = a->code.buf + a->code.len;
    store_le64(p, t);
    store_le64(p + n, (uint64_t)d);
    return k_done(a, e, n + (mb >> 16 & 7u));
}

/* [base + index*scale + disp] with the mode's address registers, no
 * segment, no label (else the general path): every check, then k_mem_put. */
JK__ALWAYS_INLINE static inline jk_status k_mem(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0,
                                                const jk_x86_op *m, int rev)
{
    uint64_t e, mh = op_head(m);
    int64_t d = m->value;
    uint32_t h;
    unsigned r0 = w0 & 15u, col;
    /* a disp32 (64-bit mode), or any 32-bit value wrapped (32-bit mode);
     * an index that is not rsp, of the base's class, scale below 4 */
    if (K_GATE(a, id, w0) || (mh & a->kmask) != a->kwant ||
        (col = msz_col[(mh >> 8) & 15u]) >= 5u || (uint64_t)d + 0x80000000u > a->kdlim ||
        ((mh & 0xFF00000000ull) &&
         ((mh & a->kxmask) != a->kxwant || (mh & 0xF0000000000ull) == 0x40000000000ull)))
        return k_rm(a, id, w0, m, rev);
    col += (w0 >> 8) * JK__K_MSZ;
    e = rev ? KROW(mr, id)[col] : KROW(rm, id)[col];
    h = JK__K_HI(e);
    /* 32-bit mode: no r8.., no spl..dil */
    if (!e || ((h & (JK__KH_SPECIALS | JK__KH_LEGACY)) &&
               (JK__KH_SPECIAL0(h, r0) || K_LEGACY(h, r0))))
        return k_rm(a, id, w0, m, rev);
    return k_mem_put(a, e, r0, mh, (int32_t)(uint32_t)d);
}

jk_status jk__x86_rm(jk_x86_asm *a, jk_x86_mnem id, uint32_t w0, const jk_x86_op *m)
{
    return k_mem(a, id, w0, m, 0);
}

jk_status jk__x86_mr(jk_x86_asm *a, jk_x86_mnem id, const jk_x86_op *m, uint32_t w1)
{
    return k_mem(a, id, w1, m, 1);
}

/* A branch to a label of this code (jmp/jcc short, relaxed at finish; call,
 * jmp/jcc near): the per-kind word gives the short opcode and the long form,
 * no probe, no form record read. */
jk_status jk__x86_l(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op l)
{
    jk__code *c;
    jk__sym *s;
    uint64_t w;
    uint32_t sym = (uint32_t)l.value;
    size_t at;
    unsigned n;
    if (!a || (unsigned)id >= JK_X86_MNEM_COUNT || l.kind != JK_X86_OP_LABEL ||
        (l.flags & ~JK_X86_LBL_NEAR) || a->code.len >= a->code.qlim ||
        (uint64_t)l.value - 1u >= (uint64_t)a->code.nsyms - 1u || !(w = KROW(l, id)[0]))
        return jk_x86_emit1(a, id, l);
    c = &a->code;
    s = &c->syms[sym];
    if (!(w & JK__KL_RELAX) || (l.flags & JK_X86_LBL_NEAR) || s->kind != JK__SYM_LOCAL)
        return quick_branch(a, id, &jk__x86_forms[JK__K_FORM(w)], l);
    /* the opcode and a zero rel8 (the gate leaves room for 4 bytes) */
    at = c->len;
    n = JK__KL_LEN(w) + 1u;
    jk__put_le32(c->buf + at, (uint32_t)w & 0xFFFFu);
    c->len = at + n;
    s->used = 1;
    if (jk__code_branch_quick(c, at, n, sym, JK__KL_LONG(w)))
        return c->err.status;
    a->last = w;
    c->insn++;
    return JK_OK;
}

#define RW(o) ((uint32_t)(o).rclass << 8 | (o).reg)

jk_status jk_x86_emit(jk_x86_asm *a, jk_x86_mnem id, unsigned n, const jk_x86_op *ops)
{
    if (n && !ops)
        return emit_general(a, id, n, ops);
    switch (n) {
    case 0: return jk_x86_emit0(a, id);
    case 1:
        if (ops[0].kind == JK_X86_OP_REG)
            return jk__x86_r(a, id, RW(ops[0]));
        if (ops[0].kind == JK_X86_OP_LABEL)
            return jk__x86_l(a, id, ops[0]);
        return jk_x86_emit1(a, id, ops[0]);
    case 2:
        if (ops[0].kind == JK_X86_OP_REG) {
            if (ops[1].kind == JK_X86_OP_REG)
                return jk__x86_rr(a, id, RW(ops[0]), RW(ops[1]));
            if (ops[1].kind == JK_X86_OP_IMM)
                return jk__x86_ri(a, id, RW(ops[0]), ops[1].value);
            if (ops[1].kind == JK_X86_OP_MEM)
                return jk__x86_rm(a, id, RW(ops[0]), &ops[1]);
        } else if (ops[0].kind == JK_X86_OP_MEM && ops[1].kind == JK_X86_OP_REG) {
            return jk__x86_mr(a, id, &ops[0], RW(ops[1]));
        }
        return jk_x86_emit2(a, id, ops[0], ops[1]);
    default: return emit_general(a, id, n, ops);
    }
}
