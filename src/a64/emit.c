/*
 * a64/emit.c - the A64 encoder: match the operands against the forms of a
 * mnemonic (generated from isa/a64.txt), fill the fields, emit the word.
 *
 *     ops --for each form of the mnemonic with n operands, in order-->
 *         put(slot, op): check the operand against the slot's type and OR
 *         its fields into the base word --first form that takes all-->
 *         4 bytes + a fix-up (b, bl, adr, adrp, ldr literal) or a relaxable
 *         branch item (b.cond, cbz, cbnz, tbz, tbnz) for a label operand
 *
 * One put() per operand type, none per mnemonic. When no form takes the
 * operands the message comes from the form that accepted the most of them
 * (its refusal says why: the range, sp where xzr is meant ...), or lists
 * the operand kinds when no form has the right shape.
 *
 * The pc-relative fields are filled in by the core at finish / copy
 * through jk__a64_arch (bottom of this file): it measures, range-checks
 * and encodes imm26 / imm19 / imm14 / adr / adrp fields and writes a
 * relaxed branch's long form (the inverted branch over a b).
 */
#include "a64/a64_p.h"

#include <stdio.h>
#include <string.h>

/* -- Logical immediates --------------------------------------------------- */

static uint64_t ror64(uint64_t v, unsigned r, unsigned e)
{
    uint64_t m = e == 64 ? ~0ull : (1ull << e) - 1;
    r %= e;
    v &= m;
    if (r == 0)
        return v;
    return ((v >> r) | (v << (e - r))) & m;
}

int jk_a64_logical_imm(uint64_t v, unsigned width, uint32_t *nimms)
{
    unsigned e = 64, s, r;
    uint64_t x, ones;
    if (width == 32) {
        v &= 0xFFFFFFFFu;
        v |= v << 32;
    } else if (width != 64) {
        return 0;
    }
    if (v == 0 || v == ~0ull)
        return 0;
    /* the smallest element that repeats to v */
    while (e > 2 && ror64(v, e / 2, 64) == v)
        e /= 2;
    x = e == 64 ? v : v & ((1ull << e) - 1);
    s = 0;
    for (ones = x; ones; ones &= ones - 1)
        s++;
    ones = (1ull << s) - 1; /* s < e <= 64 */
    /* the element is a run of s ones rotated right by immr */
    for (r = 0; r < e; r++) {
        if (ror64(ones, r, e) == x) {
            uint32_t imms = (uint32_t)(0x3Fu & ~(2u * e - 1u)) | (s - 1u);
            if (nimms)
                *nimms = (e == 64 ? 1u << 12 : 0u) | r << 6 | imms;
            return 1;
        }
    }
    return 0;
}

/* -- Operand types ----------------------------------------------------------- */

enum { PUT_OK, PUT_KIND, PUT_REFUSE };

typedef struct enc {
    uint32_t w;
    int64_t lsb;          /* bitfield lsb taken by the previous operand */
    uint32_t label;       /* label operand, 0 if none */
    unsigned ltype;       /* its slot type */
    int varr;             /* arrangement of the first vector operand, -1 before */
    int vwide;            /* the wide arrangement of a widening/narrowing form, -1 */
    unsigned vbytes;      /* bytes of the register list (post-index amount) */
    unsigned ebytes;      /* bytes of one element of each list register (ld1r..) */
    jk_status st;         /* status of a refusal */
    char why[112];        /* reason of a refusal */
} enc;

static int refuse(enc *e, jk_status st, const char *fmt, ...) JK_PRINTF(3, 4);

#include <stdarg.h>
static int refuse(enc *e, jk_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
    e->st = st;
    return PUT_REFUSE;
}

static const char *const mod_names[JK_A64_MOD_COUNT] = {
    "", "lsl", "lsr", "asr", "ror", "uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx",
    "msl"};

/* A plain register of class X (or W); sp_ok: number 31 is sp (the operand
 * must be JK_SP / JK_WSP), else it is xzr / wzr. */
static int put_gp(enc *e, const jk_a64_op *o, int w32, int sp_ok, unsigned pos)
{
    unsigned rc = w32 ? JK_A64_RC_W : JK_A64_RC_X, rsp = w32 ? JK_A64_RC_WSP : JK_A64_RC_SP;
    if (o->kind != JK_A64_OP_REG || (o->rclass != rc && o->rclass != rsp))
        return PUT_KIND;
    if (o->mod != JK_A64_MOD_NONE)
        return refuse(e, JK_EOPERAND, "a plain register is expected, not one with %s",
                      mod_names[o->mod]);
    if (o->rclass == rsp && !sp_ok)
        return refuse(e, JK_EOPERAND, "%s is not allowed here (register 31 is %s in this position)",
                      w32 ? "wsp" : "sp", w32 ? "wzr" : "xzr");
    if (o->rclass == rc && o->reg == 31 && sp_ok)
        return refuse(e, JK_EOPERAND, "%s is not allowed here (register 31 is %s in this position)",
                      w32 ? "wzr" : "xzr", w32 ? "wsp" : "sp");
    e->w |= (uint32_t)o->reg << pos;
    return PUT_OK;
}

static int put_shifted(enc *e, const jk_a64_op *o, int w32, int ror_ok, unsigned pos)
{
    unsigned t;
    unsigned max = w32 ? 31 : 63;
    if (o->kind != JK_A64_OP_REG || o->rclass != (w32 ? JK_A64_RC_W : JK_A64_RC_X))
        return o->kind == JK_A64_OP_REG && (o->rclass == JK_A64_RC_SP || o->rclass == JK_A64_RC_WSP)
                   ? refuse(e, JK_EOPERAND, "sp cannot be a shifted register")
                   : PUT_KIND;
    switch (o->mod) {
    case JK_A64_MOD_NONE: t = 0; break;
    case JK_A64_MOD_LSL: t = 0; break;
    case JK_A64_MOD_LSR: t = 1; break;
    case JK_A64_MOD_ASR: t = 2; break;
    case JK_A64_MOD_ROR:
        if (!ror_ok)
            return refuse(e, JK_EOPERAND, "ror is not a shift of this instruction");
        t = 3;
        break;
    default:
        return refuse(e, JK_EOPERAND, "%s is not a shift (lsl, lsr, asr%s)", mod_names[o->mod],
                      ror_ok ? ", ror" : "");
    }
    if (o->amount > max)
        return refuse(e, JK_ERANGE, "shift amount %u is not 0..%u", o->amount, max);
    e->w |= (uint32_t)o->reg << pos | t << 22 | (uint32_t)o->amount << 10;
    return PUT_OK;
}

/* extended register: option (uxtb 0 .. sxtx 7) and amount 0..4 */
static int put_extended(enc *e, const jk_a64_op *o, int w32, unsigned pos)
{
    unsigned opt;
    if (o->kind != JK_A64_OP_REG || (o->rclass != JK_A64_RC_X && o->rclass != JK_A64_RC_W))
        return PUT_KIND;
    if (w32 && o->rclass != JK_A64_RC_W)
        return PUT_KIND;
    if (o->mod == JK_A64_MOD_NONE || o->mod == JK_A64_MOD_LSL) {
        if (o->rclass == JK_A64_RC_W && !w32)
            return refuse(e, JK_EOPERAND, "a w register index needs an extend (uxtw, sxtw ...)");
        opt = w32 ? 2 : 3;
    } else if (o->mod >= JK_A64_MOD_UXTB && o->mod <= JK_A64_MOD_SXTX) {
        opt = o->mod >= JK_A64_MOD_SXTB ? 4u + (o->mod - JK_A64_MOD_SXTB)
                                        : (unsigned)(o->mod - JK_A64_MOD_UXTB);
        /* uxtx/sxtx take an x register (a w one too, as GNU as and llvm-mc
         * agree); the others a w register */
        if (!w32 && (opt & 3) != 3 && o->rclass == JK_A64_RC_X)
            return refuse(e, JK_EOPERAND, "%s takes a w register", mod_names[o->mod]);
    } else {
        return refuse(e, JK_EOPERAND, "%s is not an extend", mod_names[o->mod]);
    }
    if (o->amount > 4)
        return refuse(e, JK_ERANGE, "extend amount %u is not 0..4", o->amount);
    e->w |= (uint32_t)o->reg << pos | opt << 13 | (uint32_t)o->amount << 10;
    return PUT_OK;
}

static int plain_imm(const jk_a64_op *o)
{
    return o->kind == JK_A64_OP_IMM && o->mod == JK_A64_MOD_NONE;
}

/* value of a 32-bit immediate: -2^31 .. 2^32-1 accepted, low 32 bits kept */
static int imm32(enc *e, int64_t v, uint64_t *out)
{
    if (v < INT32_MIN || v > (int64_t)UINT32_MAX)
        return refuse(e, JK_ERANGE, "immediate %lld does not fit 32 bits", (long long)v);
    *out = (uint64_t)v & 0xFFFFFFFFu;
    return PUT_OK;
}

/* hw and imm16 of v as one 16-bit chunk (v == 0: hw 0) */
static int one_chunk(uint64_t v, unsigned nchunks, uint32_t *hw, uint32_t *imm)
{
    unsigned i;
    for (i = 0; i < nchunks; i++) {
        if ((v & ~(0xFFFFull << (16 * i))) == 0) {
            *hw = i;
            *imm = (uint32_t)(v >> (16 * i)) & 0xFFFFu;
            return 1;
        }
    }
    return 0;
}

static int put_mem_base(enc *e, const jk_a64_op *o, unsigned mode)
{
    if (o->kind != JK_A64_OP_MEM)
        return PUT_KIND;
    if ((o->flags & JK_A64_MEM_MODE) != mode)
        return PUT_KIND;
    if (o->rclass != JK_A64_RC_X && o->rclass != JK_A64_RC_SP)
        return refuse(e, JK_EOPERAND, "the base must be an x register or sp");
    if (o->rclass == JK_A64_RC_X && o->reg == 31)
        return refuse(e, JK_EOPERAND, "xzr cannot be a base register");
    e->w |= (uint32_t)o->reg << 5;
    return PUT_OK;
}

/* fmov's 8-bit immediate: the double equal to +-(16 + efgh)/16 * 2^n, n in
 * -3..4 (VFPExpandImm: n = cd - 3 when b, cd + 1 when not). -1 if none. */
static int fimm8(int64_t bits)
{
    union { double d; int64_t i; } u;
    unsigned k;
    u.i = bits;
    for (k = 0; k < 256; k++) {
        double m = (16.0 + (k & 15)) / 16.0;
        int n = (k & 0x40) ? (int)((k >> 4) & 3) - 3 : (int)((k >> 4) & 3) + 1;
        for (; n > 0; n--)
            m *= 2.0;
        for (; n < 0; n++)
            m /= 2.0;
        if ((k & 0x80 ? -m : m) == u.d)
            return (int)k;
    }
    return -1;
}

static int put_fp(enc *e, const jk_a64_op *o, unsigned rc, unsigned pos)
{
    if (o->kind != JK_A64_OP_REG || o->rclass != rc)
        return PUT_KIND;
    if (o->mod != JK_A64_MOD_NONE)
        return refuse(e, JK_EOPERAND, "a plain register is expected, not one with %s",
                      mod_names[o->mod]);
    e->w |= (uint32_t)o->reg << pos;
    return PUT_OK;
}

static const char *const arr_names[JK_A64_ARR_COUNT] = {
    "8b", "16b", "4h", "8h", "2s", "4s", "1d", "2d", "b[]", "h[]", "s[]", "d[]"};

/* A vector operand's arrangement: in the form's set, and the same as the
 * first vector operand's (which writes the shared Q / size fields). */
static int put_varr(enc *e, const jk_a64_op *o, unsigned mask, uint32_t shared)
{
    unsigned arr = o->iclass;
    if (arr > JK_A64_2D)
        return refuse(e, JK_EOPERAND, "an element (%s) where a vector is expected", arr_names[arr]);
    if (!(mask & (1u << arr)))
        return refuse(e, JK_EOPERAND, "arrangement .%s is not one this instruction takes",
                      arr_names[arr]);
    if (e->varr < 0) {
        e->varr = (int)arr;
        e->w |= shared;
    } else if ((unsigned)e->varr != arr) {
        return refuse(e, JK_EOPERAND, "arrangement .%s differs from the first operand's .%s",
                      arr_names[arr], arr_names[e->varr]);
    }
    return PUT_OK;
}

/* The 64-bit byte mask immediate (movi 2d / d): every byte 0x00 or 0xff;
 * abcdefgh = one bit per byte. -1 if not. */
static int bytemask8(uint64_t v)
{
    unsigned i, k = 0;
    for (i = 0; i < 8; i++) {
        unsigned b = (unsigned)(v >> (8 * i)) & 0xFF;
        if (b != 0 && b != 0xFF)
            return -1;
        k |= (b & 1u) << i;
    }
    return (int)k;
}

/* A vector immediate: op, cmode and abcdefgh for the arrangement. */
static int put_vimm(enc *e, const jk_a64_op *o, unsigned t)
{
    unsigned arr = e->varr < 0 ? 0 : (unsigned)e->varr, op = 0, cmode, imm8, shifts;
    if (t == JK__A_VMOVID)
        arr = JK_A64_1D;
    if (t == JK__A_VFMOVI) {
        int k;
        if (o->kind != JK_A64_OP_FIMM)
            return PUT_KIND;
        k = fimm8(o->value);
        if (k < 0)
            return refuse(e, JK_ERANGE, "the value is not an fmov immediate "
                                        "(+-n/16 * 2^e, n 16..31, e -3..4)");
        if (arr == JK_A64_2D) {
            op = 1;
        }
        cmode = 15;
        imm8 = (unsigned)k;
    } else {
        if (o->kind != JK_A64_OP_IMM)
            return PUT_KIND;
        if (arr == JK_A64_2D || arr == JK_A64_1D) { /* byte mask, no shift */
            int k = bytemask8((uint64_t)o->value);
            if (o->mod != JK_A64_MOD_NONE)
                return refuse(e, JK_EOPERAND, "a 64-bit immediate takes no shift");
            if (k < 0)
                return refuse(e, JK_ERANGE, "0x%llx: every byte must be 0x00 or 0xff",
                              (unsigned long long)o->value);
            op = 1;
            cmode = 14;
            imm8 = (unsigned)k;
        } else {
            unsigned sh = o->mod == JK_A64_MOD_LSL ? o->amount : 0;
            if (o->mod == JK_A64_MOD_MSL) {
                /* movi/mvni .2s/.4s, #imm8, msl #8 / #16: cmode 110x */
                if ((t != JK__A_VMOVI && t != JK__A_VMVNI) || arr < JK_A64_2S)
                    return refuse(e, JK_EOPERAND, "msl is only for movi/mvni .2s/.4s");
                if (o->amount != 8 && o->amount != 16)
                    return refuse(e, JK_EOPERAND, "the shift must be msl #8 or #16");
                if (o->value < 0 || o->value > 255)
                    return refuse(e, JK_ERANGE, "immediate %lld is not 0..255", (long long)o->value);
                imm8 = (unsigned)o->value;
                cmode = 12u | (o->amount == 16);
                op = t == JK__A_VMVNI;
                e->w |= op << 29 | (imm8 >> 5) << 16 | cmode << 12 | (imm8 & 31u) << 5;
                return PUT_OK;
            }
            if (o->mod != JK_A64_MOD_NONE && o->mod != JK_A64_MOD_LSL)
                return refuse(e, JK_EOPERAND, "the shift must be lsl");
            if (o->value < 0 || o->value > 255)
                return refuse(e, JK_ERANGE, "immediate %lld is not 0..255 (a shift is lsl #n)",
                              (long long)o->value);
            imm8 = (unsigned)o->value;
            if (arr <= JK_A64_16B) {            /* 8-bit: movi only */
                if (sh)
                    return refuse(e, JK_EOPERAND, "an 8-bit element takes no shift");
                cmode = 14;
            } else {
                shifts = arr <= JK_A64_8H ? 2 : 4; /* 16-bit: lsl 0, 8; 32-bit: 0 .. 24 */
                if (sh % 8 || sh / 8 >= shifts)
                    return refuse(e, JK_EOPERAND, "the shift must be lsl #0%s",
                                  shifts == 2 ? " or #8" : ", #8, #16 or #24");
                cmode = (arr <= JK_A64_8H ? 8u : 0u) | (sh / 8) << 1;
                if (t == JK__A_VORRI || t == JK__A_VBICI)
                    cmode |= 1;
                op = t == JK__A_VMVNI || t == JK__A_VBICI;
            }
        }
    }
    e->w |= op << 29 | (imm8 >> 5) << 16 | cmode << 12 | (imm8 & 31u) << 5;
    return PUT_OK;
}

static int put(enc *e, uint32_t slot, const jk_a64_op *o)
{
    unsigned t = JK__A64_SLOT_TYPE(slot), pos = JK__A64_SLOT_POS(slot),
             par = JK__A64_SLOT_PAR(slot);
    int r;
    switch (t) {
    case JK__A_X: return put_gp(e, o, 0, 0, pos);
    case JK__A_W: return put_gp(e, o, 1, 0, pos);
    case JK__A_XSP: return put_gp(e, o, 0, 1, pos);
    case JK__A_WSP: return put_gp(e, o, 1, 1, pos);
    case JK__A_X2:
    case JK__A_W2:
        r = put_gp(e, o, t == JK__A_W2, 0, pos);
        if (r == PUT_OK)
            e->w |= (uint32_t)o->reg << par;
        return r;
    case JK__A_XSH: return put_shifted(e, o, 0, 0, pos);
    case JK__A_WSH: return put_shifted(e, o, 1, 0, pos);
    case JK__A_XSHR: return put_shifted(e, o, 0, 1, pos);
    case JK__A_WSHR: return put_shifted(e, o, 1, 1, pos);
    case JK__A_XEXT: return put_extended(e, o, 0, pos);
    case JK__A_WEXT: return put_extended(e, o, 1, pos);
    case JK__A_AIMM:
    case JK__A_NAIMM: {
        int64_t v = o->value;
        if (o->kind != JK_A64_OP_IMM)
            return PUT_KIND;
        /* naimm: the form of the opposite operation takes -v */
        if (t == JK__A_NAIMM) {
            if (v >= 0 || v < -0xFFF000)
                return refuse(e, JK_ERANGE,
                              "immediate %lld is not 0..4095 or a multiple of 4096 up to 0xfff000",
                              (long long)v);
            v = -v;
        }
        if (o->mod == JK_A64_MOD_LSL && (o->amount == 0 || o->amount == 12)) {
            if (v < 0 || v > 4095)
                return refuse(e, JK_ERANGE, "immediate %lld is not 0..4095", (long long)v);
            e->w |= (uint32_t)v << 10 | (o->amount == 12 ? 1u << 22 : 0u);
            return PUT_OK;
        }
        if (o->mod != JK_A64_MOD_NONE)
            return refuse(e, JK_EOPERAND, "the immediate's shift must be lsl #0 or lsl #12");
        if (v >= 0 && v <= 4095) {
            e->w |= (uint32_t)v << 10;
            return PUT_OK;
        }
        if (v > 0 && (v & 0xFFF) == 0 && (v >> 12) <= 4095) {
            e->w |= (uint32_t)(v >> 12) << 10 | 1u << 22;
            return PUT_OK;
        }
        return refuse(e, JK_ERANGE,
                      "immediate %lld is not 0..4095 or a multiple of 4096 up to 0xfff000",
                      (long long)v);
    }
    case JK__A_LIMX:
    case JK__A_LIMW: {
        uint64_t v = (uint64_t)o->value;
        uint32_t f;
        if (!plain_imm(o))
            return o->kind == JK_A64_OP_IMM ? refuse(e, JK_EOPERAND, "a logical immediate takes no shift")
                                            : PUT_KIND;
        if (t == JK__A_LIMW && imm32(e, o->value, &v))
            return PUT_REFUSE;
        if (!jk_a64_logical_imm(v, t == JK__A_LIMW ? 32 : 64, &f))
            return refuse(e, JK_ERANGE,
                          "0x%llx is not a logical immediate (a rotated run of ones repeated "
                          "in 2..%u-bit elements)",
                          (unsigned long long)v, t == JK__A_LIMW ? 32 : 64);
        e->w |= f << 10;
        return PUT_OK;
    }
    case JK__A_U:
    case JK__A_S: {
        int64_t v = o->value, lo = 0, hi = (1ll << par) - 1;
        if (!plain_imm(o))
            return o->kind == JK_A64_OP_IMM ? refuse(e, JK_EOPERAND, "this immediate takes no shift")
                                            : PUT_KIND;
        if (t == JK__A_S) {
            lo = -(1ll << (par - 1));
            hi = (1ll << (par - 1)) - 1;
        }
        if (v < lo || v > hi)
            return refuse(e, JK_ERANGE, "immediate %lld is not %lld..%lld", (long long)v,
                          (long long)lo, (long long)hi);
        e->w |= ((uint32_t)(uint64_t)v & (uint32_t)((1ull << par) - 1)) << pos;
        return PUT_OK;
    }
    case JK__A_MWX:
    case JK__A_MWW: {
        unsigned n = t == JK__A_MWX ? 4 : 2;
        if (o->kind != JK_A64_OP_IMM)
            return PUT_KIND;
        if (o->mod == JK_A64_MOD_LSL) {
            if (o->amount % 16 || o->amount / 16 >= n)
                return refuse(e, JK_EOPERAND, "the shift must be lsl #0, #16%s",
                              n == 4 ? ", #32 or #48" : "");
            if (o->value < 0 || o->value > 0xFFFF)
                return refuse(e, JK_ERANGE, "immediate %lld is not 0..65535", (long long)o->value);
            e->w |= (uint32_t)o->value << 5 | (uint32_t)(o->amount / 16) << 21;
            return PUT_OK;
        }
        if (o->mod != JK_A64_MOD_NONE)
            return refuse(e, JK_EOPERAND, "the shift must be lsl");
        if (o->value < 0 || o->value > 0xFFFF)
            return refuse(e, JK_ERANGE, "immediate %lld is not 0..65535 (a shift is lsl #16 ...)",
                          (long long)o->value);
        e->w |= (uint32_t)o->value << 5;
        return PUT_OK;
    }
    case JK__A_MOVZX:
    case JK__A_MOVNX:
    case JK__A_MOVZW:
    case JK__A_MOVNW: {
        int w32 = t == JK__A_MOVZW || t == JK__A_MOVNW, inv = t == JK__A_MOVNX || t == JK__A_MOVNW;
        uint64_t v = (uint64_t)o->value;
        uint32_t hw, imm;
        if (!plain_imm(o))
            return o->kind == JK_A64_OP_IMM ? refuse(e, JK_EOPERAND, "mov takes no shifted immediate")
                                            : PUT_KIND;
        if (w32 && imm32(e, o->value, &v))
            return PUT_REFUSE;
        if (inv)
            v = w32 ? ~v & 0xFFFFFFFFu : ~v;
        if (!one_chunk(v, w32 ? 2 : 4, &hw, &imm))
            return refuse(e, JK_ERANGE,
                          "immediate 0x%llx needs more than one instruction (see jk_a64_mov_imm)",
                          (unsigned long long)(uint64_t)o->value);
        /* movn of 0xffff in the high half is what movz does: GNU as's choice */
        if (inv && w32 && imm == 0xFFFF && hw == 1)
            return refuse(e, JK_ERANGE, "not a movn value");
        e->w |= imm << 5 | hw << 21;
        return PUT_OK;
    }
    case JK__A_COND:
    case JK__A_NCOND:
        if (o->kind != JK_A64_OP_COND)
            return PUT_KIND;
        if (o->value < 0 || o->value > 15)
            return refuse(e, JK_EOPERAND, "condition %lld is not 0..15", (long long)o->value);
        if (t == JK__A_NCOND && o->value >= 14)
            return refuse(e, JK_EOPERAND, "the condition cannot be al or nv here");
        e->w |= (uint32_t)(t == JK__A_NCOND ? o->value ^ 1 : o->value) << pos;
        return PUT_OK;
    case JK__A_LSLX:
    case JK__A_LSLW: {
        int64_t m = t == JK__A_LSLX ? 63 : 31, v = o->value;
        if (!plain_imm(o))
            return o->kind == JK_A64_OP_IMM ? refuse(e, JK_EOPERAND, "shift amount takes no shift")
                                            : PUT_KIND;
        if (v < 0 || v > m)
            return refuse(e, JK_ERANGE, "shift amount %lld is not 0..%lld", (long long)v,
                          (long long)m);
        e->w |= (uint32_t)((m + 1 - v) & m) << 16 | (uint32_t)(m - v) << 10;
        return PUT_OK;
    }
    case JK__A_BFXLX:
    case JK__A_BFXLW:
    case JK__A_BFILX:
    case JK__A_BFILW: {
        int64_t m = (t == JK__A_BFXLX || t == JK__A_BFILX) ? 63 : 31, v = o->value;
        if (!plain_imm(o))
            return PUT_KIND;
        if (v < 0 || v > m)
            return refuse(e, JK_ERANGE, "lsb %lld is not 0..%lld", (long long)v, (long long)m);
        e->lsb = v;
        if (t == JK__A_BFILX || t == JK__A_BFILW)
            v = (m + 1 - v) & m;
        e->w |= (uint32_t)v << 16;
        return PUT_OK;
    }
    case JK__A_BFXWX:
    case JK__A_BFXWW:
    case JK__A_BFIWX:
    case JK__A_BFIWW: {
        int64_t size = (t == JK__A_BFXWX || t == JK__A_BFIWX) ? 64 : 32, v = o->value;
        if (!plain_imm(o))
            return PUT_KIND;
        if (v < 1 || v > size - e->lsb)
            return refuse(e, JK_ERANGE, "width %lld is not 1..%lld (lsb %lld)", (long long)v,
                          (long long)(size - e->lsb), (long long)e->lsb);
        if (t == JK__A_BFXWX || t == JK__A_BFXWW)
            v = e->lsb + v - 1;
        else
            v = v - 1;
        e->w |= (uint32_t)v << 10;
        return PUT_OK;
    }
    case JK__A_TBX:
    case JK__A_TBW: {
        int64_t m = t == JK__A_TBX ? 63 : 31, v = o->value;
        if (!plain_imm(o))
            return PUT_KIND;
        if (v < 0 || v > m)
            return refuse(e, JK_ERANGE, "bit number %lld is not 0..%lld", (long long)v,
                          (long long)m);
        e->w |= (uint32_t)(v >> 5) << 31 | (uint32_t)(v & 31) << 19;
        return PUT_OK;
    }
    case JK__A_REL26:
    case JK__A_REL19:
    case JK__A_REL14:
    case JK__A_ADR:
    case JK__A_ADRP:
    case JK__A_LIT19:
        if (o->kind != JK_A64_OP_LABEL)
            return PUT_KIND;
        if (o->value <= 0 || o->value > (int64_t)UINT32_MAX)
            return refuse(e, JK_ELABEL, "label #%lld does not exist", (long long)o->value);
        e->label = (uint32_t)o->value;
        e->ltype = t;
        return PUT_OK;
    case JK__A_MU: {
        int64_t v = o->value;
        if ((r = put_mem_base(e, o, JK_A64_MEM_OFF)) != PUT_OK)
            return r;
        if (v < 0 || (v & ((1ll << par) - 1)) || (v >> par) > 4095)
            return refuse(e, JK_ERANGE, "offset %lld is not a multiple of %d in 0..%d",
                          (long long)v, 1 << par, 4095 << par);
        e->w |= (uint32_t)(v >> par) << 10;
        return PUT_OK;
    }
    case JK__A_MS9:
    case JK__A_MPRE:
    case JK__A_MPOST: {
        int64_t v = o->value;
        unsigned mode = t == JK__A_MS9 ? JK_A64_MEM_OFF : t == JK__A_MPRE ? JK_A64_MEM_PRE
                                                                          : JK_A64_MEM_POST;
        if ((r = put_mem_base(e, o, mode)) != PUT_OK)
            return r;
        if (v < -256 || v > 255)
            return refuse(e, JK_ERANGE, "offset %lld is not -256..255", (long long)v);
        e->w |= ((uint32_t)(uint64_t)v & 0x1FFu) << 12;
        return PUT_OK;
    }
    case JK__A_MP:
    case JK__A_MPPRE:
    case JK__A_MPPOST: {
        int64_t v = o->value;
        unsigned mode = t == JK__A_MP ? JK_A64_MEM_OFF : t == JK__A_MPPRE ? JK_A64_MEM_PRE
                                                                          : JK_A64_MEM_POST;
        if ((r = put_mem_base(e, o, mode)) != PUT_OK)
            return r;
        if ((v & ((1ll << par) - 1)) || v < -(64ll << par) || v > (63ll << par))
            return refuse(e, JK_ERANGE, "offset %lld is not a multiple of %d in %d..%d",
                          (long long)v, 1 << par, -(64 << par), 63 << par);
        e->w |= ((uint32_t)(uint64_t)(v >> par) & 0x7Fu) << 15;
        return PUT_OK;
    }
    case JK__A_M0:
        if ((r = put_mem_base(e, o, JK_A64_MEM_OFF)) != PUT_OK)
            return r;
        if (o->value != 0)
            return refuse(e, JK_ERANGE, "this instruction takes no offset (%lld)",
                          (long long)o->value);
        return PUT_OK;
    case JK__A_MR: {
        unsigned opt, s = 0;
        if (o->flags & JK_A64_F_POSTIDX)
            return PUT_KIND;
        if ((r = put_mem_base(e, o, JK_A64_MEM_REG)) != PUT_OK)
            return r;
        if (o->iclass == JK_A64_RC_X) {
            if (o->mod == JK_A64_MOD_NONE || o->mod == JK_A64_MOD_LSL)
                opt = 3;
            else if (o->mod == JK_A64_MOD_SXTX)
                opt = 7;
            else
                return refuse(e, JK_EOPERAND, "an x index takes lsl or sxtx, not %s",
                              mod_names[o->mod]);
            if (o->mod == JK_A64_MOD_LSL && !(o->flags & JK_A64_F_AMOUNT))
                return refuse(e, JK_EOPERAND, "lsl needs an amount");
        } else if (o->iclass == JK_A64_RC_W) {
            if (o->mod == JK_A64_MOD_UXTW)
                opt = 2;
            else if (o->mod == JK_A64_MOD_SXTW)
                opt = 6;
            else
                return refuse(e, JK_EOPERAND, "a w index needs uxtw or sxtw");
        } else {
            return refuse(e, JK_EOPERAND, "the index must be an x or w register");
        }
        if (o->flags & JK_A64_F_AMOUNT) {
            if (o->amount != 0 && o->amount != par)
                return refuse(e, JK_ERANGE, "index shift %u is not 0 or %u", o->amount, par);
            s = par == 0 ? 1u : o->amount == par;
        }
        e->w |= (uint32_t)o->index << 16 | opt << 13 | s << 12;
        return PUT_OK;
    }
    case JK__A_SYSREG:
    case JK__A_DCOP:
    case JK__A_ICOP: {
        uint64_t v = (uint64_t)o->value;
        unsigned crn = (unsigned)(v >> 7) & 15, crm = (unsigned)(v >> 3) & 15;
        if (o->kind != JK_A64_OP_SYSREG)
            return PUT_KIND;
        /* dc and ic share the encoding space: an ic operation given to dc
         * (or the reverse) would silently be the other instruction */
        if (t != JK__A_SYSREG &&
            ((v >> 14) != 1 || crn != 7 || (t == JK__A_ICOP) != (crm == 1 || crm == 5)))
            return refuse(e, JK_EOPERAND, "not a%s operation",
                          t == JK__A_DCOP ? " dc (data cache)" : "n ic (instruction cache)");
        e->w |= (uint32_t)(t == JK__A_SYSREG ? v & 0xFFFF : v & 0x3FFF) << 5;
        return PUT_OK;
    }
    case JK__A_BTI:
        if (!plain_imm(o))
            return PUT_KIND;
        if (o->value < 1 || o->value > 3)
            return refuse(e, JK_ERANGE, "bti target %lld is not c (1), j (2) or jc (3)",
                          (long long)o->value);
        e->w |= (uint32_t)o->value << 6;
        return PUT_OK;
    case JK__A_FB: return put_fp(e, o, JK_A64_RC_B, pos);
    case JK__A_FH: return put_fp(e, o, JK_A64_RC_H, pos);
    case JK__A_FS: return put_fp(e, o, JK_A64_RC_S, pos);
    case JK__A_FD: return put_fp(e, o, JK_A64_RC_D, pos);
    case JK__A_FQ: return put_fp(e, o, JK_A64_RC_Q, pos);
    case JK__A_FIMMS:
    case JK__A_FIMMD: {
        int k;
        if (o->kind != JK_A64_OP_FIMM)
            return PUT_KIND;
        k = fimm8(o->value);
        if (k < 0)
            return refuse(e, JK_ERANGE, "the value is not an fmov immediate "
                                        "(+-n/16 * 2^e, n 16..31, e -3..4)");
        e->w |= (uint32_t)k << 13;
        return PUT_OK;
    }
    case JK__A_FZERO:
        if (o->kind == JK_A64_OP_IMM && o->mod == JK_A64_MOD_NONE && o->value == 0)
            return PUT_OK;
        if (o->kind != JK_A64_OP_FIMM)
            return PUT_KIND;
        if (o->value != 0)
            return refuse(e, JK_ERANGE, "only #0.0 can be compared with");
        return PUT_OK;
    case JK__A_VI:
    case JK__A_VF:
    case JK__A_VB:
    case JK__A_VB2:
    case JK__A_VQ:
    case JK__A_VDUP: {
        unsigned arr = o->iclass, mask = t == JK__A_VB || t == JK__A_VB2 ? 3u : par;
        uint32_t sh = (arr & 1u) << 30;
        if (o->kind != JK_A64_OP_REG || o->rclass != JK_A64_RC_V)
            return PUT_KIND;
        if (arr > JK_A64_2D)
            return put_varr(e, o, mask, 0); /* the refusal */
        if (t == JK__A_VI)
            sh |= (arr >> 1) << 22;
        else if (t == JK__A_VF)
            sh |= (arr == JK_A64_2D ? 1u : 0u) << 22;
        else if (t == JK__A_VDUP)
            sh |= (1u << (arr >> 1)) << 16;
        if ((r = put_varr(e, o, mask, sh)) != PUT_OK)
            return r;
        e->w |= (uint32_t)o->reg << pos;
        if (t == JK__A_VB2)
            e->w |= (uint32_t)o->reg << par;
        return PUT_OK;
    }
    case JK__A_VEB:
    case JK__A_VEH:
    case JK__A_VES:
    case JK__A_VED: {
        unsigned sz = t - JK__A_VEB, idx = o->index;
        if (o->kind != JK_A64_OP_REG || o->rclass != JK_A64_RC_V ||
            o->iclass != JK_A64_EB + sz)
            return PUT_KIND;
        if (idx >= 16u >> sz)
            return refuse(e, JK_ERANGE, "element index %u is not 0..%u", idx, (16u >> sz) - 1);
        if (e->varr >= 0 && ((unsigned)e->varr >> 1) != sz) /* dup vd.4s, vn.s[i] */
            return refuse(e, JK_EOPERAND, "a .%s element does not fill .%s", arr_names[o->iclass],
                          arr_names[e->varr]);
        e->w |= (uint32_t)o->reg << pos | ((idx << (sz + 1)) | (1u << sz)) << 16;
        return PUT_OK;
    }
    case JK__A_VLIST:
    case JK__A_VLISTN: {
        unsigned arr = o->iclass;
        if (o->kind != JK_A64_OP_VLIST)
            return PUT_KIND;
        if (o->amount != par)
            return refuse(e, JK_EOPERAND, "a list of %u registers, not %u", par, o->amount);
        if (arr > JK_A64_2D)
            return refuse(e, JK_EOPERAND, "a list of vectors is expected");
        if (t == JK__A_VLISTN && arr == JK_A64_1D)
            return refuse(e, JK_EOPERAND, ".1d is not an arrangement of this instruction");
        e->vbytes = par * ((arr & 1u) ? 16u : 8u);
        e->ebytes = par * (1u << (arr >> 1));
        e->w |= (uint32_t)o->reg | (arr & 1u) << 30 | (arr >> 1) << 10;
        return PUT_OK;
    }
    case JK__A_VSHL:
    case JK__A_VSHR:
    case JK__A_DSHL:
    case JK__A_DSHR: {
        int64_t es, v = o->value;
        int left = t == JK__A_VSHL || t == JK__A_DSHL;
        if (!plain_imm(o))
            return PUT_KIND;
        if (t == JK__A_DSHL || t == JK__A_DSHR) {
            es = 64; /* scalar d: shl d0, d1, #n */
            if (v < (left ? 0 : 1) || v > (left ? 63 : 64))
                return refuse(e, JK_ERANGE, "shift %lld is not %d..%d for d", (long long)v,
                              left ? 0 : 1, left ? 63 : 64);
            e->w |= (uint32_t)(left ? 64 + v : 128 - v) << 16;
            return PUT_OK;
        }
        if (e->varr < 0)
            return refuse(e, JK_EINVAL, "internal: shift before its vector");
        es = 8ll << (e->varr >> 1);
        if (t == JK__A_VSHL ? v < 0 || v >= es : v < 1 || v > es)
            return refuse(e, JK_ERANGE, "shift %lld is not %d..%lld for .%s", (long long)v,
                          t == JK__A_VSHL ? 0 : 1, (long long)(t == JK__A_VSHL ? es - 1 : es),
                          arr_names[e->varr]);
        e->w |= (uint32_t)(t == JK__A_VSHL ? es + v : 2 * es - v) << 16;
        return PUT_OK;
    }
    case JK__A_VEL: {
        unsigned sz = (unsigned)o->iclass - JK_A64_EB, idx = o->index;
        if (o->kind != JK_A64_OP_REG || o->rclass != JK_A64_RC_V || o->iclass < JK_A64_EB)
            return PUT_KIND;
        if (e->varr < 0 || sz != ((unsigned)e->varr >> 1))
            return refuse(e, JK_EOPERAND, "the element must be a .%s of the vectors' size",
                          e->varr < 0 ? "?" : arr_names[JK_A64_EB + ((unsigned)e->varr >> 1)]);
        if (sz == 1) {
            if (o->reg > 15)
                return refuse(e, JK_EOPERAND, "an h element must be in v0..v15");
            if (idx > 7)
                return refuse(e, JK_ERANGE, "element index %u is not 0..7", idx);
            e->w |= (uint32_t)o->reg << pos | (idx >> 2) << 11 | ((idx >> 1) & 1u) << 21 |
                    (idx & 1u) << 20;
        } else if (sz == 2) {
            if (idx > 3)
                return refuse(e, JK_ERANGE, "element index %u is not 0..3", idx);
            e->w |= (uint32_t)o->reg << pos | (idx >> 1) << 11 | (idx & 1u) << 21;
        } else if (sz == 3) {
            if (idx > 1)
                return refuse(e, JK_ERANGE, "element index %u is not 0..1", idx);
            e->w |= (uint32_t)o->reg << pos | idx << 11;
        } else {
            return refuse(e, JK_EOPERAND, "no by-element form for b elements");
        }
        return PUT_OK;
    }
    case JK__A_VMOVI:
    case JK__A_VMOVID:
    case JK__A_VMVNI:
    case JK__A_VORRI:
    case JK__A_VBICI:
    case JK__A_VFMOVI:
        return put_vimm(e, o, t);
    case JK__A_VEXT: {
        unsigned nb = e->varr == JK_A64_16B ? 16 : 8;
        if (!plain_imm(o))
            return PUT_KIND;
        if (o->value < 0 || o->value >= (int64_t)nb)
            return refuse(e, JK_ERANGE, "index %lld is not 0..%u", (long long)o->value, nb - 1);
        e->w |= (uint32_t)o->value << 11;
        return PUT_OK;
    }
    case JK__A_VWIDE:
    case JK__A_VNAR:
    case JK__A_VNSH:
    case JK__A_VNSH0: {
        unsigned arr = o->iclass;
        if (o->kind != JK_A64_OP_REG || o->rclass != JK_A64_RC_V)
            return PUT_KIND;
        if (arr > JK_A64_2D)
            return refuse(e, JK_EOPERAND, "an element where a vector is expected");
        if (t == JK__A_VWIDE) {
            if (arr != JK_A64_8H && arr != JK_A64_4S && arr != JK_A64_2D)
                return refuse(e, JK_EOPERAND, "the wide vector must be .8h, .4s or .2d, not .%s",
                              arr_names[arr]);
            e->vwide = (int)arr;
        } else {
            if ((arr & 1u) != par || arr >= JK_A64_1D)
                return refuse(e, JK_EOPERAND, "the narrow vector must be .%s, .%s or .%s, not .%s",
                              arr_names[par], arr_names[2 + par], arr_names[4 + par],
                              arr_names[arr]);
            if (e->varr >= 0 && (unsigned)e->varr != arr)
                return refuse(e, JK_EOPERAND, "arrangement .%s differs from .%s", arr_names[arr],
                              arr_names[e->varr]);
            if (e->varr < 0) {
                e->varr = (int)arr;
                e->w |= (arr & 1u) << 30;
                if (t == JK__A_VNAR)
                    e->w |= (arr >> 1) << 22;
                else if (t == JK__A_VNSH0)
                    e->w |= (8u << (arr >> 1)) << 16;
            }
        }
        /* the wide element is twice the narrow one */
        if (e->vwide >= 0 && e->varr >= 0 &&
            (unsigned)e->vwide != ((((unsigned)e->varr >> 1) + 1) << 1 | 1u))
            return refuse(e, JK_EOPERAND, ".%s is not the widened .%s", arr_names[e->vwide],
                          arr_names[e->varr]);
        e->w |= (uint32_t)o->reg << pos;
        return PUT_OK;
    }
    case JK__A_VTL:
        if (o->kind != JK_A64_OP_VLIST)
            return PUT_KIND;
        if (o->amount != par || o->iclass != JK_A64_16B)
            return refuse(e, JK_EOPERAND, "the table is %u .16b registers", par);
        e->w |= (uint32_t)o->reg << 5;
        return PUT_OK;
    case JK__A_FBW:
    case JK__A_FBX: {
        int64_t m = t == JK__A_FBW ? 32 : 64, v = o->value;
        if (!plain_imm(o))
            return PUT_KIND;
        if (v < 1 || v > m)
            return refuse(e, JK_ERANGE, "fraction bits %lld are not 1..%lld", (long long)v,
                          (long long)m);
        e->w |= (uint32_t)(64 - v) << 10;
        return PUT_OK;
    }
    case JK__A_MLPOSTR:
        if (!(o->flags & JK_A64_F_POSTIDX))
            return PUT_KIND;
        if ((r = put_mem_base(e, o, JK_A64_MEM_REG)) != PUT_OK)
            return r;
        if (o->iclass != JK_A64_RC_X || o->mod != JK_A64_MOD_NONE)
            return refuse(e, JK_EOPERAND, "the post-index register must be a plain x register");
        if (o->index == 31)
            return refuse(e, JK_EOPERAND, "xzr as the post-index register is the immediate form "
                                          "(give the byte count)");
        e->w |= (uint32_t)o->index << 16;
        return PUT_OK;
    case JK__A_MLPOST:
    case JK__A_MRPOST: {
        unsigned want = t == JK__A_MLPOST ? e->vbytes : e->ebytes;
        if ((r = put_mem_base(e, o, JK_A64_MEM_POST)) != PUT_OK)
            return r;
        if (o->value != (int64_t)want)
            return refuse(e, JK_ERANGE, "the post-index amount must be the %u bytes loaded, not %lld",
                          want, (long long)o->value);
        return PUT_OK;
    }
    default:
        return refuse(e, JK_EINVAL, "internal: operand type %u", t);
    }
}

/* -- Constrained unpredictable register combinations --------------------------------- */

/* The Arm ARM leaves these register combinations CONSTRAINED UNPREDICTABLE
 * (llvm-mc refuses them, GNU as warns): a load pair into one register,
 * write-back to a base that is also transferred, a store-exclusive status
 * register that is also the data or the base. jitkit refuses them, so the
 * result is never a guess. Returns NULL or the reason. */
static const char *unpredictable(uint32_t w)
{
    unsigned rt = w & 31, rn = (w >> 5) & 31, rt2 = (w >> 10) & 31, rs = (w >> 16) & 31;
    unsigned v = (w >> 26) & 1; /* fp/simd registers: never the base */
    if ((w & 0x3A000000u) == 0x28000000u) { /* load/store pair */
        unsigned wb = (w >> 23) & 3, load = (w >> 22) & 1;
        if (load && rt == rt2)
            return "a load pair into one register is unpredictable";
        if (!v && (wb == 1 || wb == 3) && rn != 31 && (rn == rt || rn == rt2))
            return "write-back to a base register that is also transferred is unpredictable";
        return NULL;
    }
    if ((w & 0x3B200000u) == 0x38000000u) { /* load/store register, imm9 forms */
        unsigned mode = (w >> 10) & 3;
        if (!v && (mode == 1 || mode == 3) && rn != 31 && rn == rt)
            return "write-back to a base register that is also transferred is unpredictable";
        return NULL;
    }
    if ((w & 0x3F000000u) == 0x08000000u) { /* exclusives, acquire/release */
        unsigned load = (w >> 22) & 1, pair = (w >> 21) & 1, o2 = (w >> 23) & 1;
        if (load && pair && !o2 && rt == rt2)
            return "a load pair into one register is unpredictable";
        if (!load && !o2 && (rs == rt || (pair && rs == rt2) || (rs == rn && rn != 31)))
            return "the status register of a store-exclusive must differ from the data and "
                   "base registers";
    }
    return NULL;
}

/* -- Emit ------------------------------------------------------------------- */

static const char *kind_name(const jk_a64_op *o)
{
    switch (o->kind) {
    case JK_A64_OP_REG:
        switch (o->rclass) {
        case JK_A64_RC_X: return o->mod ? "x+shift" : "x";
        case JK_A64_RC_W: return o->mod ? "w+extend" : "w";
        case JK_A64_RC_SP: return "sp";
        case JK_A64_RC_WSP: return "wsp";
        case JK_A64_RC_B: return "b";
        case JK_A64_RC_H: return "h";
        case JK_A64_RC_S: return "s";
        case JK_A64_RC_D: return "d";
        case JK_A64_RC_Q: return "q";
        case JK_A64_RC_V: return o->iclass >= JK_A64_EB ? "v[i]" : "v";
        default: return "reg?";
        }
    case JK_A64_OP_IMM: return "imm";
    case JK_A64_OP_MEM:
        switch (o->flags & JK_A64_MEM_MODE) {
        case JK_A64_MEM_PRE: return "mem!";
        case JK_A64_MEM_POST: return "mem-post";
        case JK_A64_MEM_REG: return "mem-reg";
        default: return "mem";
        }
    case JK_A64_OP_LABEL: return "label";
    case JK_A64_OP_COND: return "cond";
    case JK_A64_OP_SYSREG: return "sysreg";
    case JK_A64_OP_FIMM: return "fimm";
    case JK_A64_OP_VLIST: return "vlist";
    default: return "?";
    }
}

static jk_status emit_label(jk_a64_asm *a, const enc *e, size_t at)
{
    jk__code *c = &a->code;
    if (jk__code_check_sym(c, e->label, jk__a64_mnem_names[a->cur]))
        return c->err.status;
    if (e->ltype == JK__A_REL19)
        return jk__code_branch_arch(c, at, 4, 8, e->label, JK__A64_REACH19);
    if (e->ltype == JK__A_REL14)
        return jk__code_branch_arch(c, at, 4, 8, e->label, JK__A64_REACH14);
    return jk__code_fix(c, JK__FIX_ARCH, at, at, e->label, 0);
}

jk_status jk_a64_emit(jk_a64_asm *a, jk_a64_mnem id, unsigned n, const jk_a64_op *ops)
{
    jk__code *c;
    enc e, best;
    unsigned f, lo, hi, i, any = 0;
    int best_depth = -1, best_slot = 0;
    if (!a)
        return JK_EINVAL;
    c = &a->code;
    if (c->err.status)
        return c->err.status;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot emit after finish");
    if ((unsigned)id >= JK_A64_MNEM_COUNT)
        return jk__code_fail(c, JK_EINVAL, "emit: bad mnemonic id %d", (int)id);
    if (n > 4 || (n && !ops))
        return jk__code_fail(c, JK_EINVAL, "%s: %u operands (at most 4, non-NULL)",
                             jk__a64_mnem_names[id], n);
    /* operands built by hand: nothing out of its field's range gets in */
    for (i = 0; i < n; i++)
        if (ops[i].rclass >= JK_A64_RC_INVALID || ops[i].kind >= JK_A64_OP_KIND_COUNT ||
            ops[i].kind == JK_A64_OP_NONE || ops[i].reg > 31 || ops[i].mod >= JK_A64_MOD_COUNT ||
            (ops[i].kind == JK_A64_OP_MEM && (ops[i].flags & JK_A64_MEM_MODE) == JK_A64_MEM_REG &&
             (ops[i].iclass >= JK_A64_RC_INVALID || ops[i].index > 31)) ||
            (ops[i].kind == JK_A64_OP_REG && ops[i].rclass == JK_A64_RC_V &&
             ops[i].iclass >= JK_A64_ARR_COUNT) ||
            (ops[i].kind == JK_A64_OP_VLIST && ops[i].iclass >= JK_A64_ARR_COUNT))
            return jk__code_fail(c, JK_EOPERAND, "%s: operand %u is malformed",
                                 jk__a64_mnem_names[id], i + 1);
    memset(&best, 0, sizeof best);
    a->cur = id;
    lo = jk__a64_mnem_first[id];
    hi = jk__a64_mnem_first[id + 1];
    for (f = lo; f < hi; f++) {
        const jk__a64_form *fm = &jk__a64_forms[f];
        int r = PUT_OK;
        if (fm->nops != n)
            continue;
        any = 1;
        e.w = fm->base;
        e.lsb = 0;
        e.varr = -1;
        e.vwide = -1;
        e.vbytes = 0;
        e.label = 0;
        e.why[0] = 0;
        for (i = 0; i < n; i++) {
            r = put(&e, fm->ops[i], &ops[i]);
            if (r != PUT_OK)
                break;
        }
        if (r == PUT_OK) {
            size_t at;
            const char *why = unpredictable(e.w);
            if (why)
                return jk__code_fail(c, JK_EOPERAND, "%s: %s", jk__a64_mnem_names[id], why);
            if (jk__code_reserve(c, 4))
                return c->err.status;
            at = c->len;
            jk__put_le32(c->buf + at, e.w);
            if (e.label && emit_label(a, &e, at))
                return c->err.status;
            c->len = at + 4;
            c->insn++;
            a->last_form = f;
            return JK_OK;
        }
        if (r == PUT_REFUSE && (int)i > best_depth) {
            best_depth = (int)i;
            best_slot = (int)i;
            best = e;
        }
    }
    if (!any)
        return jk__code_fail(c, JK_ENOFORM, "%s: no form takes %u operand%s",
                             jk__a64_mnem_names[id], n, n == 1 ? "" : "s");
    if (best_depth >= 0)
        return jk__code_fail(c, best.st == JK_EOPERAND || best.st == JK_ERANGE ||
                                        best.st == JK_ELABEL ? best.st : JK_ENOFORM,
                             "%s: operand %d: %s", jk__a64_mnem_names[id], best_slot + 1,
                             best.why);
    {
        char sig[96];
        size_t k = 0;
        for (i = 0; i < n && k < sizeof sig; i++) {
            int m = snprintf(sig + k, sizeof sig - k, "%s%s", i ? ", " : "", kind_name(&ops[i]));
            if (m < 0)
                break;
            k += (size_t)m;
        }
        sig[k < sizeof sig ? k : sizeof sig - 1] = 0;
        return jk__code_fail(c, JK_ENOFORM, "%s: no form takes (%s)", jk__a64_mnem_names[id],
                             n ? sig : "");
    }
}

jk_status jk_a64_emit0(jk_a64_asm *a, jk_a64_mnem id)
{
    return jk_a64_emit(a, id, 0, NULL);
}

jk_status jk_a64_emit1(jk_a64_asm *a, jk_a64_mnem id, jk_a64_op o0)
{
    return jk_a64_emit(a, id, 1, &o0);
}

jk_status jk_a64_emit2(jk_a64_asm *a, jk_a64_mnem id, jk_a64_op o0, jk_a64_op o1)
{
    jk_a64_op ops[2];
    ops[0] = o0;
    ops[1] = o1;
    return jk_a64_emit(a, id, 2, ops);
}

jk_status jk_a64_emit3(jk_a64_asm *a, jk_a64_mnem id, jk_a64_op o0, jk_a64_op o1, jk_a64_op o2)
{
    jk_a64_op ops[3];
    ops[0] = o0;
    ops[1] = o1;
    ops[2] = o2;
    return jk_a64_emit(a, id, 3, ops);
}

jk_status jk_a64_emit4(jk_a64_asm *a, jk_a64_mnem id, jk_a64_op o0, jk_a64_op o1, jk_a64_op o2,
                       jk_a64_op o3)
{
    jk_a64_op ops[4];
    ops[0] = o0;
    ops[1] = o1;
    ops[2] = o2;
    ops[3] = o3;
    return jk_a64_emit(a, id, 4, ops);
}

/* -- Pc-relative fields (jk__arch_ops) ------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int in_words(int64_t d, unsigned bits)
{
    int64_t lim = (int64_t)1 << (bits + 1); /* bits-bit signed word count, in bytes */
    return (d & 3) == 0 && d >= -lim && d < lim;
}

static int reach(const jk__item *it, int64_t d)
{
    return in_words(d, it->long_form[1] == JK__A64_REACH14 ? 14 : 19);
}

#define NOP 0xD503201Fu

static int item(uint8_t *out, const uint8_t *raw, const jk__item *it, int local, int64_t d,
                char *why, size_t n)
{
    uint32_t w = get32(raw);
    unsigned bits = it->long_form[1] == JK__A64_REACH14 ? 14 : 19;
    if (!it->is_long) {
        uint32_t m = (1u << bits) - 1;
        jk__put_le32(out, w | ((uint32_t)(uint64_t)(d >> 2) & m) << 5);
        return 0;
    }
    /* long: the inverted branch skips the b that follows (b.al/b.nv: a nop) */
    if ((w & 0xFF000010u) == 0x54000000u && (w & 0xFu) >= 14) {
        jk__put_le32(out, NOP);
    } else if ((w & 0xFF000010u) == 0x54000000u) {
        jk__put_le32(out, (w ^ 1u) | 2u << 5);
    } else {
        jk__put_le32(out, (w ^ (1u << 24)) | 2u << 5);
    }
    if (!local) {
        jk__put_le32(out + 4, 0x14000000u); /* relocated at copy */
        return 4;
    }
    d -= 4;
    if (!in_words(d, 26)) {
        snprintf(why, n, "%lld bytes away: beyond the +-128 MiB of b", (long long)d);
        return -1;
    }
    jk__put_le32(out + 4, 0x14000000u | ((uint32_t)(uint64_t)(d >> 2) & 0x3FFFFFFu));
    return 0;
}

static int patch(uint8_t *p, uint64_t target, uint64_t pc, int absolute, char *why, size_t n)
{
    uint32_t w = get32(p);
    int64_t d = (int64_t)(target - pc);
    if ((w & 0x7C000000u) == 0x14000000u) { /* b, bl */
        if (!in_words(d, 26)) {
            snprintf(why, n, "%lld bytes away: beyond the +-128 MiB of %s", (long long)d,
                     w >> 31 ? "bl" : "b");
            return -1;
        }
        w |= (uint32_t)(uint64_t)(d >> 2) & 0x3FFFFFFu;
    } else if ((w & 0x9F000000u) == 0x10000000u) { /* adr */
        if (d < -(1ll << 20) || d >= (1ll << 20)) {
            snprintf(why, n, "%lld bytes away: beyond the +-1 MiB of adr", (long long)d);
            return -1;
        }
        w |= ((uint32_t)(uint64_t)d & 3u) << 29 | ((uint32_t)((uint64_t)d >> 2) & 0x7FFFFu) << 5;
    } else if ((w & 0x9F000000u) == 0x90000000u) { /* adrp */
        int64_t pg;
        if (!absolute)
            return 1;
        pg = (int64_t)((target >> 12) - (pc >> 12));
        if (pg < -(1ll << 20) || pg >= (1ll << 20)) {
            snprintf(why, n, "%lld pages away: beyond the +-4 GiB of adrp", (long long)pg);
            return -1;
        }
        w |= ((uint32_t)(uint64_t)pg & 3u) << 29 | ((uint32_t)((uint64_t)pg >> 2) & 0x7FFFFu) << 5;
    } else if ((w & 0xFFC00000u) == 0x91000000u) { /* add xd, xn, #:lo12:target (adrl) */
        if (!absolute)
            return 1;
        w |= (uint32_t)(target & 0xFFF) << 10;
    } else { /* ldr literal, prfm literal (and the imm19 branches) */
        if (!in_words(d, 19)) {
            snprintf(why, n, (d & 3) ? "%lld bytes away: not a multiple of 4"
                                     : "%lld bytes away: beyond the +-1 MiB of a literal",
                     (long long)d);
            return -1;
        }
        w |= ((uint32_t)(uint64_t)(d >> 2) & 0x7FFFFu) << 5;
    }
    jk__put_le32(p, w);
    return 0;
}

const jk__arch_ops jk__a64_arch = {reach, item, patch};
