/*
 * tests/a64/diff_as.c - differential test of the A64 encoder against GNU as
 * and llvm-mc, generated from the table.
 *
 * For every form of isa/a64.txt (except adrp, which needs a relocation in
 * an object file) instances are generated from the slot types: every
 * register by position (x0..x30 and, at 31, xzr or sp as the position
 * means), immediate boundaries, every shift and extend, logical immediates
 * of every element size and several runs and rotations, every addressing
 * mode with its offset limits, conditions, labels a few instructions away.
 * Each instance is printed in GNU syntax and encoded by jitkit; the text is
 * assembled by both oracles and the words compared. Then the jitkit bytes
 * are disassembled with objdump and the listing assembled again with GNU
 * as: it must give the same words (read-back). Negatives: values just
 * beyond each slot's limits and registers in the wrong position; jitkit
 * must refuse them, and an instance both oracles accept is a failure (an
 * instance only one accepts is counted as disputed).
 *
 *   test_a64_diff_as AS OBJCOPY OBJDUMP LLVM-MC TMPDIR
 * Exits 77 (skipped) when AS, OBJCOPY or OBJDUMP is missing; llvm-mc is
 * optional (reported when absent).
 */
#include "jt.h"

#include "common.h"

static const char *g_as, *g_objcopy, *g_objdump, *g_mc, *g_tmp;
static int g_have_mc;

/* -- Instances ------------------------------------------------------------------ */

typedef struct inst {
    uint16_t form;
    uint8_t n;
    jk_a64_op ops[4];
} inst;

static inst *g_pos, *g_neg;
static size_t g_npos, g_nneg, g_cpos, g_cneg;

static void push(inst **v, size_t *n, size_t *cap, const inst *x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v)
            abort();
    }
    (*v)[(*n)++] = *x;
}

#define MAXV 160

static jk_a64_op R(unsigned rc, unsigned r) { return jk_a64_reg((jk_a64_rclass)rc, r); }
static jk_a64_op I(int64_t v) { return jk_a64_imm(v); }
static jk_a64_op SH(jk_a64_op r, unsigned m, unsigned a) { return jk_a64_shift(r, (jk_a64_mod)m, a); }
static jk_a64_op EX(jk_a64_op r, unsigned m) { return jk_a64_extend(r, (jk_a64_mod)m); }

static int add_regs(jk_a64_op *v, int k, unsigned rc, int sp31, int neg, unsigned def)
{
    unsigned r, other = rc == JK_A64_RC_X ? JK_A64_RC_SP : JK_A64_RC_WSP;
    if (neg) {
        v[k++] = sp31 ? R(rc, 31) : R(other, 31);
        return k;
    }
    v[k++] = R(rc, def); /* default first */
    for (r = 0; r < 31; r++)
        if (r != def)
            v[k++] = R(rc, r);
    v[k++] = sp31 ? R(other, 31) : R(rc, 31);
    return k;
}

/* Logical immediates: every element size, runs of 1, 2, half, e-1 ones,
 * rotations 0, 1, e-1. */
static int add_limm(jk_a64_op *v, int k, unsigned width, int neg)
{
    unsigned e, si, ri;
    if (neg) {
        v[k++] = I(0);
        v[k++] = width == 64 ? I(-1) : I(0xFFFFFFFF);
        v[k++] = I(5);
        v[k++] = I(0x1234);
        return k;
    }
    v[k++] = I(0xFF);
    for (e = 2; e <= width; e *= 2) {
        unsigned ss[4] = {1, 2, e / 2, e - 1};
        for (si = 0; si < 4; si++) {
            unsigned s = ss[si], rr[3] = {0, 1, e - 1};
            if (s == 0 || s >= e || (si > 0 && ss[si] == ss[si - 1]))
                continue;
            for (ri = 0; ri < 3; ri++) {
                uint64_t el = ((1ull << s) - 1), x = 0;
                unsigned r = rr[ri], j;
                if (ri > 0 && rr[ri] == rr[ri - 1])
                    continue;
                el = r ? ((el >> r) | (el << (e - r))) & (e == 64 ? ~0ull : (1ull << e) - 1) : el;
                for (j = 0; j < 64; j += e)
                    x |= el << j;
                if (width == 32)
                    x &= 0xFFFFFFFFu;
                if (k < MAXV)
                    v[k++] = I((int64_t)x);
            }
        }
    }
    return k;
}

/* Operand variants of a slot: v[0] is the default (when !neg). */
static int variants(const jk__a64_form *f, unsigned slot, jk_a64_op *v, int neg)
{
    uint32_t s = f->ops[slot];
    unsigned t = JK__A64_SLOT_TYPE(s), par = JK__A64_SLOT_PAR(s);
    int k = 0;
    unsigned i;
    jk_a64_op b1 = R(JK_A64_RC_X, 28), bsp = R(JK_A64_RC_SP, 31);
    switch (t) {
    case JK__A_X: case JK__A_X2: return add_regs(v, 0, JK_A64_RC_X, 0, neg, slot + 1);
    case JK__A_W: case JK__A_W2: return add_regs(v, 0, JK_A64_RC_W, 0, neg, slot + 1);
    case JK__A_XSP: return add_regs(v, 0, JK_A64_RC_X, 1, neg, slot + 1);
    case JK__A_WSP: return add_regs(v, 0, JK_A64_RC_W, 1, neg, slot + 1);
    case JK__A_XSH: case JK__A_WSH: case JK__A_XSHR: case JK__A_WSHR: {
        unsigned rc = (t == JK__A_XSH || t == JK__A_XSHR) ? JK_A64_RC_X : JK_A64_RC_W;
        unsigned mx = rc == JK_A64_RC_X ? 63 : 31, m;
        int ror = t == JK__A_XSHR || t == JK__A_WSHR;
        if (neg) {
            v[k++] = SH(R(rc, 2), JK_A64_MOD_LSL, mx + 1);
            v[k++] = R(rc == JK_A64_RC_X ? JK_A64_RC_SP : JK_A64_RC_WSP, 31);
            if (!ror)
                v[k++] = SH(R(rc, 2), JK_A64_MOD_ROR, 1);
            v[k++] = SH(R(rc, 2), JK_A64_MOD_UXTB, 0);
            return k;
        }
        v[k++] = R(rc, 2);
        v[k++] = R(rc, 31);
        v[k++] = R(rc, 30);
        for (m = JK_A64_MOD_LSL; m <= (ror ? JK_A64_MOD_ROR : JK_A64_MOD_ASR); m++) {
            v[k++] = SH(R(rc, 3), m, 0);
            v[k++] = SH(R(rc, 3), m, 1);
            v[k++] = SH(R(rc, 3), m, mx);
        }
        return k;
    }
    case JK__A_XEXT: case JK__A_WEXT: {
        unsigned m, a;
        if (neg) {
            v[k++] = SH(R(JK_A64_RC_W, 2), JK_A64_MOD_UXTW, 5);
            v[k++] = SH(R(JK_A64_RC_W, 2), JK_A64_MOD_LSR, 1);
            if (t == JK__A_XEXT) {
                v[k++] = SH(R(JK_A64_RC_X, 2), JK_A64_MOD_UXTB, 0);
                v[k++] = SH(R(JK_A64_RC_W, 2), JK_A64_MOD_SXTX, 0);
            }
            v[k++] = SH(R(JK_A64_RC_X, 2), JK_A64_MOD_LSL, 5);
            return k;
        }
        v[k++] = t == JK__A_XEXT ? SH(R(JK_A64_RC_W, 2), JK_A64_MOD_UXTW, 2)
                                 : SH(R(JK_A64_RC_W, 2), JK_A64_MOD_SXTH, 1);
        for (m = JK_A64_MOD_UXTB; m <= JK_A64_MOD_SXTX; m++) {
            int xr = (m == JK_A64_MOD_UXTX || m == JK_A64_MOD_SXTX) && t == JK__A_XEXT;
            unsigned rc = xr ? JK_A64_RC_X : JK_A64_RC_W;
            v[k++] = EX(R(rc, 5), m);
            for (a = 0; a <= 4; a++)
                v[k++] = SH(R(rc, a == 3 ? 31 : 7), m, a);
        }
        if (t == JK__A_XEXT) {
            v[k++] = R(JK_A64_RC_X, 9);
            v[k++] = R(JK_A64_RC_X, 31);
        } else {
            v[k++] = R(JK_A64_RC_W, 9);
        }
        return k;
    }
    case JK__A_AIMM:
        if (neg) {
            v[k++] = I(0x1001000);
            v[k++] = I(4097);
            v[k++] = SH(I(4096), JK_A64_MOD_LSL, 12);
            v[k++] = SH(I(1), JK_A64_MOD_LSL, 4);
            return k;
        }
        v[k++] = I(5);
        v[k++] = I(0);
        v[k++] = I(4095);
        v[k++] = I(4096);
        v[k++] = I(0xFFF000);
        v[k++] = SH(I(1), JK_A64_MOD_LSL, 12);
        v[k++] = SH(I(4095), JK_A64_MOD_LSL, 12);
        v[k++] = SH(I(7), JK_A64_MOD_LSL, 0);
        return k;
    case JK__A_NAIMM:
        if (neg) {
            v[k++] = I(-4097);
            v[k++] = I(-0x1001000);
            return k;
        }
        v[k++] = I(-5);
        v[k++] = I(-1);
        v[k++] = I(-4095);
        v[k++] = I(-4096);
        v[k++] = I(-0xFFF000);
        return k;
    case JK__A_LIMX: return add_limm(v, 0, 64, neg);
    case JK__A_LIMW: return add_limm(v, 0, 32, neg);
    case JK__A_U:
        if (neg) {
            v[k++] = I(1ll << par);
            v[k++] = I(-1);
            return k;
        }
        v[k++] = I(1);
        v[k++] = I(0);
        v[k++] = I((1ll << par) - 1);
        if (par > 2)
            v[k++] = I(1ll << (par - 1));
        return k;
    case JK__A_MWX: case JK__A_MWW: {
        unsigned hw, n = t == JK__A_MWX ? 4 : 2;
        if (neg) {
            v[k++] = I(0x10000);
            v[k++] = SH(I(1), JK_A64_MOD_LSL, 8);
            v[k++] = SH(I(1), JK_A64_MOD_LSL, n * 16);
            v[k++] = I(-1);
            return k;
        }
        v[k++] = I(0x1234);
        v[k++] = I(0);
        v[k++] = I(0xFFFF);
        for (hw = 0; hw < n; hw++) {
            v[k++] = SH(I(0xFFFF), JK_A64_MOD_LSL, hw * 16);
            v[k++] = SH(I(0x8001), JK_A64_MOD_LSL, hw * 16);
        }
        return k;
    }
    case JK__A_MOVZX: case JK__A_MOVNX: case JK__A_MOVZW: case JK__A_MOVNW: {
        int w = t == JK__A_MOVZW || t == JK__A_MOVNW, inv = t == JK__A_MOVNX || t == JK__A_MOVNW;
        unsigned hw, n = w ? 2 : 4;
        uint64_t mask = w ? 0xFFFFFFFFu : ~0ull;
        if (neg) {
            v[k++] = I(0x12345);
            v[k++] = I(w ? 0x10001 : 0x100000001ll);
            return k;
        }
        v[k++] = I((int64_t)((inv ? ~0x1234ull : 0x1234ull) & mask));
        for (hw = 0; hw < n; hw++) {
            uint64_t x = 0xFFFFull << (16 * hw), y = 0x1ull << (16 * hw);
            v[k++] = I((int64_t)((inv ? ~x : x) & mask));
            v[k++] = I((int64_t)((inv ? ~y : y) & mask));
        }
        v[k++] = I((int64_t)((inv ? ~0ull : 0) & mask));
        return k;
    }
    case JK__A_COND: case JK__A_NCOND:
        if (neg) {
            if (t == JK__A_NCOND) {
                v[k++] = jk_a64_cond(14);
                v[k++] = jk_a64_cond(15);
            }
            return k;
        }
        v[k++] = jk_a64_cond(1);
        for (i = 0; i < (t == JK__A_NCOND ? 14u : 16u); i++)
            v[k++] = jk_a64_cond(i);
        return k;
    case JK__A_LSLX: case JK__A_LSLW: {
        int64_t m = t == JK__A_LSLX ? 63 : 31;
        if (neg) {
            v[k++] = I(m + 1);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(0);
        v[k++] = I(1);
        v[k++] = I(m);
        return k;
    }
    case JK__A_BFXLX: case JK__A_BFXLW: case JK__A_BFILX: case JK__A_BFILW: {
        int64_t m = (t == JK__A_BFXLX || t == JK__A_BFILX) ? 63 : 31;
        if (neg) {
            v[k++] = I(m + 1);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(0);
        v[k++] = I(m);
        return k;
    }
    case JK__A_BFXWX: case JK__A_BFXWW: case JK__A_BFIWX: case JK__A_BFIWW: {
        int64_t size = (t == JK__A_BFXWX || t == JK__A_BFIWX) ? 64 : 32;
        if (neg) {
            v[k++] = I(0);
            v[k++] = I(size - 2); /* with the default lsb 3 */
            return k;
        }
        v[k++] = I(1);
        v[k++] = I(2);
        v[k++] = I(size - 3);
        return k;
    }
    case JK__A_TBX: case JK__A_TBW:
        if (neg) {
            v[k++] = I(t == JK__A_TBX ? 64 : 32);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(0);
        v[k++] = I(31);
        if (t == JK__A_TBX) {
            v[k++] = I(32);
            v[k++] = I(63);
        }
        return k;
    case JK__A_REL26: case JK__A_REL19: case JK__A_REL14: case JK__A_ADR: case JK__A_LIT19:
        if (neg)
            return 0;
        /* relative instruction distance, made absolute by the caller */
        v[k++] = jk_a64_lbl(1000002);
        v[k++] = jk_a64_lbl(1000000);
        v[k++] = jk_a64_lbl(999998);
        v[k++] = jk_a64_lbl(1000005);
        return k;
    case JK__A_MU: {
        int64_t sc = 1ll << par;
        if (neg) {
            v[k++] = jk_a64_mem(b1, 4096 * sc);
            v[k++] = jk_a64_mem(R(JK_A64_RC_X, 31), 0);
            if (sc > 1)
                v[k++] = jk_a64_mem(b1, 4096 * sc + 1);
            return k;
        }
        v[k++] = jk_a64_mem(b1, sc);
        v[k++] = jk_a64_mem(b1, 0);
        v[k++] = jk_a64_mem(bsp, 0);
        v[k++] = jk_a64_mem(R(JK_A64_RC_X, 30), 4095 * sc);
        v[k++] = jk_a64_mem(b1, 256 * sc);
        return k;
    }
    case JK__A_MS9: case JK__A_MPRE: case JK__A_MPOST: {
        jk_a64_op (*mk)(jk_a64_op, int64_t) = t == JK__A_MS9 ? jk_a64_mem : t == JK__A_MPRE
                                                                  ? jk_a64_mem_pre : jk_a64_mem_post;
        if (neg) {
            v[k++] = mk(b1, -257);
            if (t != JK__A_MS9)
                v[k++] = mk(b1, 256);
            v[k++] = mk(R(JK_A64_RC_X, 31), 1);
            return k;
        }
        v[k++] = mk(b1, -8);
        v[k++] = mk(b1, -256);
        v[k++] = mk(bsp, 255);
        v[k++] = mk(R(JK_A64_RC_X, 30), 1);
        if (t != JK__A_MS9)
            v[k++] = mk(b1, 0);
        return k;
    }
    case JK__A_MR: {
        unsigned sh = par;
        jk_a64_op x2 = R(JK_A64_RC_X, 2), w2 = R(JK_A64_RC_W, 2);
        if (neg) {
            v[k++] = jk_a64_mem_idx(b1, w2);
            v[k++] = jk_a64_mem_idx(b1, SH(x2, JK_A64_MOD_LSL, sh + 1));
            v[k++] = jk_a64_mem_idx(b1, SH(x2, JK_A64_MOD_UXTX, 0));
            v[k++] = jk_a64_mem_idx(b1, SH(w2, JK_A64_MOD_SXTX, 0));
            return k;
        }
        v[k++] = jk_a64_mem_idx(b1, x2);
        v[k++] = jk_a64_mem_idx(bsp, R(JK_A64_RC_X, 31));
        v[k++] = jk_a64_mem_idx(b1, SH(x2, JK_A64_MOD_LSL, sh));
        if (sh)
            v[k++] = jk_a64_mem_idx(b1, SH(x2, JK_A64_MOD_LSL, 0));
        v[k++] = jk_a64_mem_idx(b1, EX(w2, JK_A64_MOD_UXTW));
        v[k++] = jk_a64_mem_idx(b1, SH(w2, JK_A64_MOD_UXTW, 0));
        v[k++] = jk_a64_mem_idx(b1, SH(w2, JK_A64_MOD_SXTW, sh));
        v[k++] = jk_a64_mem_idx(b1, EX(x2, JK_A64_MOD_SXTX));
        v[k++] = jk_a64_mem_idx(b1, SH(R(JK_A64_RC_X, 30), JK_A64_MOD_SXTX, sh));
        return k;
    }
    case JK__A_MP: case JK__A_MPPRE: case JK__A_MPPOST: {
        int64_t sc = 1ll << par;
        jk_a64_op (*mk)(jk_a64_op, int64_t) = t == JK__A_MP ? jk_a64_mem : t == JK__A_MPPRE
                                                                 ? jk_a64_mem_pre : jk_a64_mem_post;
        if (neg) {
            v[k++] = mk(b1, 64 * sc);
            v[k++] = mk(b1, -65 * sc);
            v[k++] = mk(b1, sc / 2);
            return k;
        }
        v[k++] = mk(b1, 2 * sc);
        v[k++] = mk(b1, -64 * sc);
        v[k++] = mk(bsp, 63 * sc);
        v[k++] = mk(R(JK_A64_RC_X, 30), -sc);
        if (t == JK__A_MP)
            v[k++] = mk(b1, 0);
        return k;
    }
    case JK__A_M0:
        if (neg) {
            v[k++] = jk_a64_mem(b1, 8);
            return k;
        }
        v[k++] = jk_a64_mem(b1, 0);
        v[k++] = jk_a64_mem(bsp, 0);
        v[k++] = jk_a64_mem(R(JK_A64_RC_X, 30), 0);
        return k;
    case JK__A_SYSREG:
        if (neg)
            return 0;
        v[k++] = JK_A64_TPIDR_EL0;
        v[k++] = JK_A64_NZCV;
        v[k++] = JK_A64_FPCR;
        v[k++] = JK_A64_FPSR;
        v[k++] = JK_A64_TPIDRRO_EL0;
        v[k++] = jk_a64_sysreg(3, 3, 15, 2, 0);
        v[k++] = jk_a64_sysreg(2, 0, 0, 2, 2);
        if (tc_form_mnem((unsigned)(f - jk__a64_forms)) == JK_A64_MRS) {
            v[k++] = JK_A64_CNTVCT_EL0;
            v[k++] = JK_A64_CNTFRQ_EL0;
            v[k++] = JK_A64_CTR_EL0;
            v[k++] = JK_A64_DCZID_EL0;
        }
        return k;
    case JK__A_DCOP:
    case JK__A_ICOP:
        if (neg) {
            v[k++] = t == JK__A_DCOP ? JK_A64_IC_IVAU : JK_A64_DC_CVAU;
            return k;
        }
        if (t == JK__A_ICOP) {
            v[k++] = JK_A64_IC_IVAU;
        } else {
            v[k++] = JK_A64_DC_CVAU;
            v[k++] = JK_A64_DC_ZVA;
            v[k++] = JK_A64_DC_CVAC;
            v[k++] = JK_A64_DC_CIVAC;
        }
        return k;
    case JK__A_FB: case JK__A_FH: case JK__A_FS: case JK__A_FD: case JK__A_FQ: {
        unsigned rc = t == JK__A_FB ? JK_A64_RC_B : t == JK__A_FH ? JK_A64_RC_H
                    : t == JK__A_FS ? JK_A64_RC_S : t == JK__A_FD ? JK_A64_RC_D : JK_A64_RC_Q;
        if (neg) {
            v[k++] = R(rc == JK_A64_RC_S ? JK_A64_RC_D : JK_A64_RC_S, 1);
            return k;
        }
        v[k++] = R(rc, slot + 1);
        for (i = 0; i < 32; i++)
            if (i != slot + 1)
                v[k++] = R(rc, i);
        return k;
    }
    case JK__A_FIMMS: case JK__A_FIMMD: {
        static const double ok[] = {1.0, -1.0, 0.125, -0.125, 31.0, -31.0, 1.9375, 2.5, 0.1875,
                                    16.0, 0.5};
        static const double bad[] = {0.1, 32.0, 0.0, 0.0625, 1.03125};
        if (neg) {
            for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
                v[k++] = jk_a64_fimm(bad[i]);
            return k;
        }
        for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
            v[k++] = jk_a64_fimm(ok[i]);
        return k;
    }
    case JK__A_FZERO:
        if (neg) {
            v[k++] = jk_a64_fimm(1.0);
            return k;
        }
        v[k++] = jk_a64_fimm(0.0);
        return k;
    case JK__A_VMOVID:
        if (neg) {
            v[k++] = I(0x1234);
            return k;
        }
        v[k++] = I((int64_t)0xFF00FF00FF00FF00ull);
        v[k++] = I(0);
        v[k++] = I(-1);
        v[k++] = I(0xFF);
        return k;
    case JK__A_VMOVI: case JK__A_VMVNI: case JK__A_VORRI: case JK__A_VBICI: case JK__A_VFMOVI:
        return 0; /* by arrangement: see vimm_instances */
    case JK__A_VEXT:
        if (neg) {
            v[k++] = I(16);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(0);
        v[k++] = I(15);
        return k;
    case JK__A_FBW: case JK__A_FBX:
        if (neg) {
            v[k++] = I(0);
            v[k++] = I(t == JK__A_FBW ? 33 : 65);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(1);
        v[k++] = I(t == JK__A_FBW ? 32 : 64);
        return k;
    case JK__A_VTL:
        if (neg) {
            v[k++] = jk_a64_vlist(0, par, JK_A64_8B);
            return k;
        }
        v[k++] = jk_a64_vlist(4, par, JK_A64_16B);
        for (i = 0; i < 32; i += 3)
            v[k++] = jk_a64_vlist(i, par, JK_A64_16B);
        v[k++] = jk_a64_vlist(31, par, JK_A64_16B);
        return k;
    case JK__A_DSHL: case JK__A_DSHR:
        if (neg) {
            v[k++] = I(t == JK__A_DSHL ? 64 : 0);
            v[k++] = I(t == JK__A_DSHL ? -1 : 65);
            return k;
        }
        v[k++] = I(3);
        v[k++] = I(t == JK__A_DSHL ? 0 : 1);
        v[k++] = I(t == JK__A_DSHL ? 63 : 64);
        return k;
    case JK__A_VSHL: case JK__A_VSHR:
        if (neg) {
            v[k++] = I(t == JK__A_VSHL ? 64 : 0);
            v[k++] = I(t == JK__A_VSHL ? -1 : 65);
            return k;
        }
        v[k++] = I(1);
        v[k++] = I(t == JK__A_VSHL ? 0 : 64);
        v[k++] = I(t == JK__A_VSHL ? 63 : 2);
        return k;
    case JK__A_VEL:
        if (neg) {
            v[k++] = jk_a64_velem(1, JK_A64_EB, 0);
            return k;
        }
        /* the element size follows the vectors' (fix_vec) */
        v[k++] = jk_a64_velem(3, JK_A64_ES, 1);
        for (i = 0; i < 32; i++)
            v[k++] = jk_a64_velem(i, JK_A64_ES, 0);
        for (i = 0; i < 8; i++)
            v[k++] = jk_a64_velem(7, JK_A64_ES, i);
        return k;
    case JK__A_VI: case JK__A_VF: case JK__A_VB: case JK__A_VB2: case JK__A_VDUP: case JK__A_VQ: {
        unsigned mask = (t == JK__A_VB || t == JK__A_VB2) ? 3u : par, a, def = 0;
        for (a = 0; a < 8; a++)
            if (mask & (1u << a))
                def = a; /* the widest taken: 16b / 8h / 4s / 2d */
        if (neg) {
            for (a = 0; a < 8; a++)
                if (!(mask & (1u << a)))
                    v[k++] = jk_a64_v(1, (jk_a64_arr)a);
            if (slot == 0) /* an element is valid last (mul by element) */
                v[k++] = jk_a64_velem(1, JK_A64_ES, 0);
            return k;
        }
        /* every register at the default arrangement; only slot 0 varies the
         * arrangement (the others must match it) */
        v[k++] = jk_a64_v(slot + 1, (jk_a64_arr)def);
        for (i = 0; i < 32; i++)
            if (i != slot + 1)
                v[k++] = jk_a64_v(i, (jk_a64_arr)def);
        return k;
    }
    case JK__A_VEB: case JK__A_VEH: case JK__A_VES: case JK__A_VED: {
        unsigned sz = t - JK__A_VEB, n = 16u >> sz;
        if (neg) {
            v[k++] = jk_a64_velem(1, (jk_a64_arr)(JK_A64_EB + sz), n);
            v[k++] = jk_a64_v(1, JK_A64_4S);
            return k;
        }
        v[k++] = jk_a64_velem(slot + 1, (jk_a64_arr)(JK_A64_EB + sz), 1);
        for (i = 0; i < n; i++)
            v[k++] = jk_a64_velem(30, (jk_a64_arr)(JK_A64_EB + sz), i);
        v[k++] = jk_a64_velem(0, (jk_a64_arr)(JK_A64_EB + sz), 0);
        v[k++] = jk_a64_velem(31, (jk_a64_arr)(JK_A64_EB + sz), n - 1);
        return k;
    }
    case JK__A_VLIST: case JK__A_VLISTN: {
        unsigned a;
        if (neg) {
            v[k++] = jk_a64_vlist(0, par == 4 ? 1 : par + 1, JK_A64_16B);
            return k;
        }
        v[k++] = jk_a64_vlist(2, par, JK_A64_16B);
        for (a = 0; a < 8; a++)
            if (t == JK__A_VLIST || a != JK_A64_1D)
                v[k++] = jk_a64_vlist(a * 4 + 1, par, (jk_a64_arr)a);
        v[k++] = jk_a64_vlist(31, par, JK_A64_4S); /* wraps to v0 */
        return k;
    }
    case JK__A_MLPOSTR:
        if (neg) {
            v[k++] = jk_a64_mem_post_reg(b1, R(JK_A64_RC_X, 31));
            v[k++] = jk_a64_mem_post_reg(b1, R(JK_A64_RC_W, 2));
            return k;
        }
        v[k++] = jk_a64_mem_post_reg(b1, R(JK_A64_RC_X, 2));
        v[k++] = jk_a64_mem_post_reg(bsp, R(JK_A64_RC_X, 0));
        v[k++] = jk_a64_mem_post_reg(R(JK_A64_RC_X, 3), R(JK_A64_RC_X, 30));
        return k;
    case JK__A_MLPOST: case JK__A_MRPOST:
        if (neg) {
            v[k++] = jk_a64_mem_post(b1, 8);
            return k;
        }
        return 0; /* filled from the list by the caller */
    case JK__A_BTI:
        if (neg) {
            v[k++] = I(4);
            return k;
        }
        v[k++] = I(1);
        v[k++] = I(2);
        v[k++] = I(3);
        return k;
    default:
        return 0;
    }
}

static int has_adrp(const jk__a64_form *f)
{
    unsigned i;
    for (i = 0; i < f->nops; i++)
        if (JK__A64_SLOT_TYPE(f->ops[i]) == JK__A_ADRP)
            return 1;
    return 0;
}

/* Encode x alone in a; returns 1 and the word when accepted. Labels are
 * bound right after the instruction. */
static int encode_one(jk_a64_asm *a, const inst *x, uint32_t *w, unsigned *form)
{
    inst y = *x;
    unsigned i;
    jk_label l;
    size_t n;
    uint8_t buf[16];
    jk_a64_reset(a);
    l = jk_a64_label(a, NULL);
    for (i = 0; i < y.n; i++)
        if (y.ops[i].kind == JK_A64_OP_LABEL)
            y.ops[i] = jk_a64_lbl(l);
    if (jk_a64_emit(a, (jk_a64_mnem)tc_form_mnem(y.form), y.n, y.ops) != JK_OK)
        return 0;
    *form = a->last_form;
    jk_a64_bind(a, l);
    if (jk_a64_finish(a, &n) || n != 4 || jk_a64_copy(a, buf, sizeof buf, 0x10000))
        return 0;
    *w = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
    return 1;
}

static int vec_type(unsigned t)
{
    return t == JK__A_VI || t == JK__A_VF || t == JK__A_VB || t == JK__A_VB2 || t == JK__A_VDUP ||
           t == JK__A_VQ;
}

/* vector operands follow slot 0's arrangement; a post-index amount is the
 * list's size */
static void fix_vec(const jk__a64_form *fm, inst *x)
{
    unsigned s;
    for (s = 1; s < fm->nops; s++) {
        unsigned t = JK__A64_SLOT_TYPE(fm->ops[s]);
        if (vec_type(t) && vec_type(JK__A64_SLOT_TYPE(fm->ops[0])))
            x->ops[s].iclass = x->ops[0].iclass;
        if (vec_type(JK__A64_SLOT_TYPE(fm->ops[0])) && x->ops[0].kind == JK_A64_OP_REG) {
            unsigned es = 8u << (x->ops[0].iclass >> 1);
            if (t == JK__A_VSHL && x->ops[s].value >= (int64_t)es)
                x->ops[s].value = es - 1;
            if (t == JK__A_VSHR && x->ops[s].value > (int64_t)es)
                x->ops[s].value = es;
            if (t >= JK__A_VEB && t <= JK__A_VED) {
                /* the element's size is the vector's (dup vd.T, vn.e[i]) */
                unsigned sz = x->ops[0].iclass >> 1, n = 16u >> sz;
                x->ops[s].iclass = (uint8_t)(JK_A64_EB + sz);
                if (x->ops[s].index >= n)
                    x->ops[s].index = (uint8_t)(n - 1);
            }
            if (t == JK__A_VEXT && x->ops[0].iclass == JK_A64_8B && x->ops[s].value > 7)
                x->ops[s].value = 7;
            if (t == JK__A_VEL) {
                unsigned sz = x->ops[0].iclass >> 1, n = 16u >> sz;
                x->ops[s].iclass = (uint8_t)(JK_A64_EB + sz);
                if (x->ops[s].index >= n)
                    x->ops[s].index = (uint8_t)(n - 1);
                if (sz == 1 && x->ops[s].reg > 15)
                    x->ops[s].reg &= 15;
            }
        }
        if (t == JK__A_MLPOST && x->ops[0].kind == JK_A64_OP_VLIST)
            x->ops[s] = jk_a64_mem_post(R(JK_A64_RC_X, 28), (int64_t)x->ops[0].amount *
                                                            ((x->ops[0].iclass & 1) ? 16 : 8));
        if (t == JK__A_MRPOST && x->ops[0].kind == JK_A64_OP_VLIST)
            x->ops[s] = jk_a64_mem_post(R(JK_A64_RC_X, 28),
                                        (int64_t)x->ops[0].amount << (x->ops[0].iclass >> 1));
    }
}

/* Forms with a vector immediate: every arrangement with its immediates and
 * shifts, and the values just beyond. */
static int vimm_instances(const jk__a64_form *fm, unsigned f)
{
    unsigned t, a, mask, i, j;
    if (fm->nops != 2)
        return 0;
    t = JK__A64_SLOT_TYPE(fm->ops[1]);
    if (t != JK__A_VMOVI && t != JK__A_VMVNI && t != JK__A_VORRI && t != JK__A_VBICI &&
        t != JK__A_VFMOVI)
        return 0;
    mask = JK__A64_SLOT_PAR(fm->ops[0]);
    for (a = 0; a < 8; a++) {
        inst x;
        jk_a64_op vals[24], bad[8];
        unsigned nv = 0, nb = 0;
        if (!(mask & (1u << a)))
            continue;
        if (t == JK__A_VFMOVI) {
            vals[nv++] = jk_a64_fimm(1.0);
            vals[nv++] = jk_a64_fimm(-0.125);
            vals[nv++] = jk_a64_fimm(31.0);
            bad[nb++] = jk_a64_fimm(0.1);
        } else if (a <= JK_A64_16B) {
            vals[nv++] = I(0);
            vals[nv++] = I(0xAB);
            vals[nv++] = I(0xFF);
            bad[nb++] = I(256);
            bad[nb++] = SH(I(1), JK_A64_MOD_LSL, 8);
        } else if (a == JK_A64_2D) {
            vals[nv++] = I(0);
            vals[nv++] = I(-1);
            vals[nv++] = I((int64_t)0xFF00FF00FF00FF00ull);
            vals[nv++] = I(0xFFFFFFFF);
            bad[nb++] = I(0x1234);
        } else {
            unsigned nsh = a <= JK_A64_8H ? 2 : 4;
            static const int64_t iv[3] = {0, 0x12, 0xFF};
            for (i = 0; i < 3; i++) {
                vals[nv++] = I(iv[i]);
                for (j = 0; j < nsh; j++)
                    vals[nv++] = SH(I(iv[i]), JK_A64_MOD_LSL, 8 * j);
            }
            bad[nb++] = SH(I(1), JK_A64_MOD_LSL, 8 * nsh);
            bad[nb++] = I(256);
            bad[nb++] = SH(I(1), JK_A64_MOD_LSL, 4);
            if (nsh == 4 && (t == JK__A_VMOVI || t == JK__A_VMVNI)) {
                vals[nv++] = SH(I(0x12), JK_A64_MOD_MSL, 8);
                vals[nv++] = SH(I(0xFF), JK_A64_MOD_MSL, 16);
                bad[nb++] = SH(I(1), JK_A64_MOD_MSL, 24);
            } else {
                bad[nb++] = SH(I(1), JK_A64_MOD_MSL, 8);
            }
        }
        memset(&x, 0, sizeof x);
        x.form = (uint16_t)f;
        x.n = 2;
        for (i = 0; i < nv; i++) {
            x.ops[0] = jk_a64_v(i % 32, (jk_a64_arr)a);
            x.ops[1] = vals[i];
            push(&g_pos, &g_npos, &g_cpos, &x);
        }
        for (i = 0; i < nb; i++) {
            x.ops[0] = jk_a64_v(1, (jk_a64_arr)a);
            x.ops[1] = bad[i];
            push(&g_neg, &g_nneg, &g_cneg, &x);
        }
    }
    return 1;
}

/* Widening / narrowing forms: each narrow arrangement of the form's half
 * with its wide one; every register in each position; shifts at their
 * ends; mismatched pairs as negatives. */
static int widen_instances(const jk__a64_form *fm, unsigned f)
{
    unsigned s, q = 2, a, r, has = 0;
    for (s = 0; s < fm->nops; s++) {
        unsigned t = JK__A64_SLOT_TYPE(fm->ops[s]);
        has |= t == JK__A_VWIDE;
        if (t == JK__A_VNAR || t == JK__A_VNSH || t == JK__A_VNSH0)
            q = JK__A64_SLOT_PAR(fm->ops[s]);
    }
    if (!has)
        return 0;
    for (a = q; a < JK_A64_1D; a += 2) {
        unsigned wide = ((a >> 1) + 1) << 1 | 1u, es = 8u << (a >> 1);
        inst x;
        memset(&x, 0, sizeof x);
        x.form = (uint16_t)f;
        x.n = fm->nops;
        for (r = 0; r < 32; r++) {
            unsigned vs;
            for (vs = 0; vs < fm->nops; vs++) {
                unsigned k;
                for (s = 0; s < fm->nops; s++) {
                    unsigned t = JK__A64_SLOT_TYPE(fm->ops[s]), reg = s == vs ? r : s + 1;
                    x.ops[s] = t == JK__A_VWIDE ? jk_a64_v(reg, (jk_a64_arr)wide)
                             : t == JK__A_VSHL ? I(s == vs ? r % es : 1)
                             : t == JK__A_VSHR ? I(s == vs ? r % es + 1 : 1)
                                               : jk_a64_v(reg, (jk_a64_arr)a);
                }
                push(&g_pos, &g_npos, &g_cpos, &x);
                if (r == 0)
                    for (k = 0; k < fm->nops; k++)
                        if (JK__A64_SLOT_TYPE(fm->ops[k]) == JK__A_VSHL ||
                            JK__A64_SLOT_TYPE(fm->ops[k]) == JK__A_VSHR) {
                            int shr = JK__A64_SLOT_TYPE(fm->ops[k]) == JK__A_VSHR;
                            inst y = x;
                            y.ops[k] = I(shr ? es : es - 1);
                            push(&g_pos, &g_npos, &g_cpos, &y);
                            y.ops[k] = I(shr ? es + 1 : es);
                            push(&g_neg, &g_nneg, &g_cneg, &y);
                            if (shr) {
                                y.ops[k] = I(0);
                                push(&g_neg, &g_nneg, &g_cneg, &y);
                            }
                        }
            }
        }
        /* the wrong wide arrangement, the other half's narrow one */
        for (s = 0; s < fm->nops; s++) {
            unsigned t = JK__A64_SLOT_TYPE(fm->ops[s]), k;
            inst y;
            for (k = 0; k < fm->nops; k++) {
                unsigned tk = JK__A64_SLOT_TYPE(fm->ops[k]);
                x.ops[k] = tk == JK__A_VWIDE ? jk_a64_v(k + 1, (jk_a64_arr)wide)
                         : (tk == JK__A_VSHL || tk == JK__A_VSHR) ? I(1)
                                                                  : jk_a64_v(k + 1, (jk_a64_arr)a);
            }
            y = x;
            if (t == JK__A_VWIDE) {
                y.ops[s].iclass = (uint8_t)(wide == JK_A64_2D ? JK_A64_8H : wide + 2);
                push(&g_neg, &g_nneg, &g_cneg, &y);
            } else if (t != JK__A_VSHL && t != JK__A_VSHR) {
                y.ops[s].iclass = (uint8_t)(a ^ 1u);
                push(&g_neg, &g_nneg, &g_cneg, &y);
            }
        }
    }
    return 1;
}

static void generate(void)
{
    unsigned f, s, k;
    jk_a64_op v[MAXV];
    for (f = 0; f < jk__a64_mnem_first[JK_A64_MNEM_COUNT]; f++) {
        const jk__a64_form *fm;
        inst base;
        fm = &jk__a64_forms[f];
        if (has_adrp(fm) || vimm_instances(fm, f) || widen_instances(fm, f))
            continue;
        memset(&base, 0, sizeof base);
        base.form = (uint16_t)f;
        base.n = fm->nops;
        for (s = 0; s < fm->nops; s++) {
            variants(fm, s, v, 0);
            base.ops[s] = v[0];
        }
        fix_vec(fm, &base);
        push(&g_pos, &g_npos, &g_cpos, &base);
        /* every arrangement the form takes, on all its vector operands */
        if (fm->nops && vec_type(JK__A64_SLOT_TYPE(fm->ops[0]))) {
            unsigned t0 = JK__A64_SLOT_TYPE(fm->ops[0]), a;
            unsigned mask = (t0 == JK__A_VB || t0 == JK__A_VB2) ? 3u : JK__A64_SLOT_PAR(fm->ops[0]);
            for (a = 0; a < 8; a++) {
                inst x = base;
                if (!(mask & (1u << a)))
                    continue;
                for (s = 0; s < fm->nops; s++)
                    if (vec_type(JK__A64_SLOT_TYPE(fm->ops[s])))
                        x.ops[s].iclass = (uint8_t)a;
                fix_vec(fm, &x);
                push(&g_pos, &g_npos, &g_cpos, &x);
            }
        }
        for (s = 0; s < fm->nops; s++) {
            int nv = variants(fm, s, v, 0);
            for (k = 1; k < (unsigned)nv; k++) {
                inst x = base;
                x.ops[s] = v[k];
                fix_vec(fm, &x);
                push(&g_pos, &g_npos, &g_cpos, &x);
            }
            nv = variants(fm, s, v, 1);
            for (k = 0; k < (unsigned)nv; k++) {
                inst x = base;
                x.ops[s] = v[k];
                push(&g_neg, &g_nneg, &g_cneg, &x);
            }
        }
    }
}

/* -- Oracles ---------------------------------------------------------------------- */

/* Assemble path.s with GNU as (mc = 0) or llvm-mc (1) into path.bin; the
 * lines with errors get err[line - 1] = 1. Returns 0 when an object was
 * made. */
static int assemble(const char *src, int mc, const char *bin, unsigned char *err, size_t nlines)
{
    char cmd[3072], log[512], obj[512];
    size_t n;
    char *text, *p;
    int r;
    snprintf(log, sizeof log, "%s/%s.log", g_tmp, mc ? "mc" : "as");
    snprintf(obj, sizeof obj, "%s/%s.o", g_tmp, mc ? "mc" : "as");
    remove(obj);
    if (mc)
        snprintf(cmd, sizeof cmd, "%s -triple=aarch64 -mattr=+v8.5a,+crc,+aes,+sha2,+fullfp16 -filetype=obj -o %s %s 2> %s",
                 g_mc, obj, src, log);
    else
        snprintf(cmd, sizeof cmd, "%s -march=armv8.5-a+crc+crypto+fp16 -o %s %s 2> %s", g_as, obj, src, log);
    r = tc_run(cmd);
    text = (char *)tc_read(log, &n);
    if (text && err) {
        for (p = text; (p = strstr(p, src)) != NULL;) {
            unsigned long line;
            char *q = p + strlen(src);
            p = q;
            if (*q != ':')
                continue;
            line = strtoul(q + 1, &q, 10);
            if (strncmp(q, ": Error", 7) && !(*q == ':' && strstr(q, ": error:") &&
                                               strstr(q, ": error:") < strchr(q, '\n')))
                continue;
            if (line >= 1 && line <= nlines)
                err[line - 1] = 1;
        }
    }
    free(text);
    if (r != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "%s -O binary -j .text %s %s", g_objcopy, obj, bin);
    return tc_run(cmd) == 0 ? 0 : -1;
}

static uint32_t word_at(const uint8_t *b, size_t i)
{
    return (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
           (uint32_t)b[4 * i + 3] << 24;
}

static uint32_t *g_words;
static unsigned *g_forms;
static unsigned char *g_refused;

static void write_pos(const char *path, const unsigned char *asinst)
{
    FILE *f = fopen(path, "w");
    size_t i;
    char line[256];
    for (i = 0; i < g_npos; i++) {
        inst y = g_pos[i];
        unsigned k;
        for (k = 0; k < y.n; k++)
            if (y.ops[k].kind == JK_A64_OP_LABEL) {
                int64_t t = (int64_t)i + (y.ops[k].value - 1000000);
                if (t < 0)
                    t = 0;
                if (t > (int64_t)g_npos)
                    t = (int64_t)g_npos;
                y.ops[k].value = t;
            }
        tc_insn(line, sizeof line, y.form, y.n, y.ops);
        if (g_refused[i] || (asinst && asinst[i]))
            fprintf(f, ".L%zu: .inst 0x%08x\n", i, g_refused[i] ? 0u : g_words[i]);
        else
            fprintf(f, ".L%zu: %s\n", i, line);
    }
    fprintf(f, ".L%zu: nop\n", g_npos);
    fclose(f);
}

/* Emit every accepted instance into one assembler with a label per line. */
static uint8_t *emit_all(size_t *n)
{
    jk_a64_asm *a = NULL;
    jk_label *l = calloc(g_npos + 1, sizeof *l);
    size_t i;
    uint8_t *b;
    jk_a64_new(&a, NULL);
    for (i = 0; i <= g_npos; i++)
        l[i] = jk_a64_label(a, NULL);
    for (i = 0; i < g_npos; i++) {
        inst y = g_pos[i];
        unsigned k;
        jk_a64_bind(a, l[i]);
        if (g_refused[i]) {
            jk_a64_dd(a, 0);
            continue;
        }
        for (k = 0; k < y.n; k++)
            if (y.ops[k].kind == JK_A64_OP_LABEL) {
                int64_t t = (int64_t)i + (y.ops[k].value - 1000000);
                t = t < 0 ? 0 : t > (int64_t)g_npos ? (int64_t)g_npos : t;
                y.ops[k] = jk_a64_lbl(l[t]);
            }
        jk_a64_emit(a, (jk_a64_mnem)tc_form_mnem(y.form), y.n, y.ops);
    }
    jk_a64_bind(a, l[g_npos]);
    jk_a64_nop(a);
    if (jk_a64_finish(a, n) != JK_OK) {
        fprintf(stderr, "emit_all: %s\n", jk_a64_error(a)->message);
        jk_a64_free(a);
        free(l);
        return NULL;
    }
    b = malloc(*n);
    jk_a64_copy(a, b, *n, 0);
    jk_a64_free(a);
    free(l);
    return b;
}

static size_t g_fail_pos, g_fail_neg;

static void compare(const char *who, const uint8_t *ours, size_t n, const char *bin,
                    const unsigned char *err)
{
    size_t m, i, bad = 0;
    uint8_t *theirs = tc_read(bin, &m);
    char line[256];
    if (!theirs || m != n) {
        fprintf(stderr, "%s: %zu bytes, jitkit %zu\n", who, theirs ? m : 0, n);
        g_fail_pos++;
        free(theirs);
        return;
    }
    for (i = 0; i < g_npos; i++) {
        if (g_refused[i] || err[i])
            continue;
        if (word_at(ours, i) != word_at(theirs, i)) {
            if (bad++ < 20) {
                tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                fprintf(stderr, "%s differs: %-44s jitkit %08x, %s %08x\n", who, line,
                        word_at(ours, i), who, word_at(theirs, i));
            }
        }
    }
    g_fail_pos += bad;
    printf("%s: %zu instances compared, %zu differ\n", who, g_npos, bad);
    free(theirs);
}

static void test_positive(void)
{
    char src[512], bin[512];
    unsigned char *aserr = calloc(g_npos + 2, 1), *mcerr = calloc(g_npos + 2, 1);
    size_t unpred = 0;
    size_t i, n, refused = 0, asrej = 0, mcrej = 0, nforms = jk__a64_mnem_first[JK_A64_MNEM_COUNT];
    unsigned char *used = calloc(nforms, 1);
    uint8_t *ours;
    jk_a64_asm *a = NULL;
    char line[256];
    jk_a64_new(&a, NULL);
    g_words = calloc(g_npos, sizeof *g_words);
    g_forms = calloc(g_npos, sizeof *g_forms);
    g_refused = calloc(g_npos + 1, 1);
    for (i = 0; i < g_npos; i++) {
        if (!encode_one(a, &g_pos[i], &g_words[i], &g_forms[i])) {
            g_refused[i] = 1;
            if (refused++ < 30 && !strstr(jk_a64_error(a)->message, "unpredictable")) {
                tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                fprintf(stderr, "jitkit refuses: %-40s (%s)\n", line, jk_a64_error(a)->message);
            }
        } else {
            used[g_forms[i]] = 1;
        }
    }
    jk_a64_free(a);
    snprintf(src, sizeof src, "%s/pos.s", g_tmp);
    write_pos(src, NULL);
    snprintf(bin, sizeof bin, "%s/pos_as.bin", g_tmp);
    if (assemble(src, 0, bin, aserr, g_npos + 1)) {
        for (i = 0; i < g_npos; i++)
            if (aserr[i] && !g_refused[i] && asrej++ < 30) {
                tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                fprintf(stderr, "GNU as refuses what jitkit accepts: %s\n", line);
            }
        write_pos(src, aserr);
        JT_CHECK_MSG(assemble(src, 0, bin, NULL, 0) == 0, "GNU as still fails on %s", src);
    }
    ours = emit_all(&n);
    JT_CHECK(ours != NULL && n == 4 * (g_npos + 1));
    compare("GNU as", ours, n, bin, aserr);
    if (g_have_mc) {
        write_pos(src, NULL);
        snprintf(bin, sizeof bin, "%s/pos_mc.bin", g_tmp);
        if (assemble(src, 1, bin, mcerr, g_npos + 1)) {
            for (i = 0; i < g_npos; i++)
                if (mcerr[i] && !g_refused[i] && mcrej++ < 100000) {
                    tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                    fprintf(stderr, "llvm-mc refuses what jitkit accepts: %s\n", line);
                }
            write_pos(src, mcerr);
            JT_CHECK_MSG(assemble(src, 1, bin, NULL, 0) == 0, "llvm-mc still fails on %s", src);
        }
        compare("llvm-mc", ours, n, bin, mcerr);
    }
    /* refused by us: only a failure when an oracle accepts it */
    {
        size_t gap = 0;
        for (i = 0; i < g_npos; i++)
            if (g_refused[i] && !aserr[i])
                gap++;
        (void)gap;
    }
    {
        size_t unused = 0;
        for (i = 0; i < nforms; i++)
            if (!used[i] && !has_adrp(&jk__a64_forms[i])) {
                if (unused++ < 20)
                    fprintf(stderr, "form %zu (%s) is never chosen\n", i,
                            jk__a64_mnem_names[tc_form_mnem((unsigned)i)]);
            }
        printf("forms: %zu, never chosen: %zu\n", nforms, unused);
        JT_EQ_U64(unused, 0);
    }
    printf("positives: %zu instances, jitkit refuses %zu, GNU as refuses %zu, llvm-mc refuses %zu\n",
           g_npos, refused, asrej, mcrej);
    /* both oracles' refusals of what we accept are failures */
    g_fail_pos += asrej + (g_have_mc ? mcrej : 0);
    /* our refusals are failures when GNU as takes them without an
     * "unpredictable" warning (all in one file: errors and warnings by line) */
    {
        char one[512], logp[512];
        size_t nref = 0, ln;
        char *log, *p;
        unsigned char *flag;
        FILE *f;
        snprintf(one, sizeof one, "%s/refused.s", g_tmp);
        f = fopen(one, "w");
        for (i = 0; i < g_npos; i++)
            if (g_refused[i]) {
                tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                fprintf(f, "%s\n", line);
                nref++;
            }
        fclose(f);
        flag = calloc(nref + 1, 1);
        snprintf(bin, sizeof bin, "%s/refused.bin", g_tmp);
        assemble(one, 0, bin, NULL, 0);
        snprintf(logp, sizeof logp, "%s/as.log", g_tmp);
        log = (char *)tc_read(logp, &ln);
        for (p = log; p && (p = strstr(p, one)) != NULL;) {
            char *q = p + strlen(one);
            unsigned long l;
            p = q;
            if (*q != ':')
                continue;
            l = strtoul(q + 1, &q, 10);
            if (l < 1 || l > nref)
                continue;
            if (!strncmp(q, ": Error", 7))
                flag[l - 1] = 1;
            else if (!strncmp(q, ": Warning: unpredictable", 24))
                flag[l - 1] = 2;
        }
        free(log);
        for (i = 0, ln = 0; i < g_npos; i++)
            if (g_refused[i]) {
                if (flag[ln] == 2) {
                    unpred++;
                } else if (flag[ln] == 0) {
                    tc_insn(line, sizeof line, g_pos[i].form, g_pos[i].n, g_pos[i].ops);
                    fprintf(stderr, "jitkit refuses what GNU as accepts: %s\n", line);
                    g_fail_pos++;
                }
                ln++;
            }
        free(flag);
    }
    printf("refused by jitkit as unpredictable (GNU as warns): %zu\n", unpred);
    free(ours);
    free(aserr);
    free(mcerr);
    free(used);
    JT_EQ_U64(g_fail_pos, 0);
}

/* objdump the jitkit words (no label forms) and assemble the listing again */
static void test_readback(void)
{
    char src[512], bin[512], dis[512], cmd[2048];
    FILE *f;
    size_t i, n, k = 0, bad = 0, count = 0;
    uint32_t *want = calloc(g_npos, sizeof *want);
    uint8_t *b;
    char *text, *p;
    snprintf(bin, sizeof bin, "%s/rb.bin", g_tmp);
    f = fopen(bin, "wb");
    for (i = 0; i < g_npos; i++) {
        unsigned s, lab = 0;
        const jk__a64_form *fm = &jk__a64_forms[g_pos[i].form];
        if (g_refused[i])
            continue;
        for (s = 0; s < fm->nops; s++) {
            unsigned t = JK__A64_SLOT_TYPE(fm->ops[s]);
            lab |= t >= JK__A_REL26 && t <= JK__A_LIT19;
        }
        if (lab)
            continue;
        want[count++] = g_words[i];
        fwrite(&g_words[i], 4, 1, f); /* little-endian host */
    }
    fclose(f);
    snprintf(dis, sizeof dis, "%s/rb.dis", g_tmp);
    snprintf(cmd, sizeof cmd, "%s -D -b binary -m aarch64 %s > %s", g_objdump, bin, dis);
    JT_CHECK(tc_run(cmd) == 0);
    text = (char *)tc_read(dis, &n);
    JT_CHECK(text != NULL);
    snprintf(src, sizeof src, "%s/rb.s", g_tmp);
    f = fopen(src, "w");
    for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char *tab1, *tab2, *end = strchr(p, '\n'), line[256];
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = 0;
        tab1 = strchr(line, '\t');
        if (!tab1 || !strchr(line, ':') || strchr(line, ':') > tab1)
            continue;
        tab2 = strchr(tab1 + 1, '\t');
        if (!tab2)
            continue;
        if (strstr(tab2, "//"))
            *strstr(tab2, "//") = 0;
        fprintf(f, "%s\n", tab2 + 1);
        k++;
    }
    fclose(f);
    free(text);
    JT_EQ_U64(k, count);
    snprintf(bin, sizeof bin, "%s/rb_as.bin", g_tmp);
    JT_CHECK_MSG(assemble(src, 0, bin, NULL, 0) == 0, "GNU as cannot assemble objdump's listing %s",
                 src);
    b = tc_read(bin, &n);
    JT_CHECK(b && n == 4 * count);
    for (i = 0; i < count; i++)
        if (word_at(b, i) != want[i] && bad++ < 20)
            fprintf(stderr, "read-back differs at %zu: jitkit %08x, objdump+as %08x\n", i, want[i],
                    word_at(b, i));
    printf("read-back: %zu words through objdump and GNU as, %zu differ\n", count, bad);
    free(b);
    free(want);
    JT_EQ_U64(bad, 0);
}

static void test_negative(void)
{
    char src[512], bin[512], line[256];
    jk_a64_asm *a = NULL;
    size_t i, kept = 0, both = 0, disputed = 0, weaccept = 0;
    inst *keep = calloc(g_nneg + 1, sizeof *keep);
    unsigned char *e1, *e2;
    FILE *f;
    jk_a64_new(&a, NULL);
    for (i = 0; i < g_nneg; i++) {
        uint32_t w;
        unsigned fm;
        if (encode_one(a, &g_neg[i], &w, &fm)) {
            weaccept++; /* another form takes it: not a negative of the mnemonic */
            continue;
        }
        keep[kept++] = g_neg[i];
    }
    jk_a64_free(a);
    snprintf(src, sizeof src, "%s/neg.s", g_tmp);
    f = fopen(src, "w");
    for (i = 0; i < kept; i++) {
        tc_insn(line, sizeof line, keep[i].form, keep[i].n, keep[i].ops);
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    e1 = calloc(kept + 1, 1);
    e2 = calloc(kept + 1, 1);
    snprintf(bin, sizeof bin, "%s/neg.bin", g_tmp);
    assemble(src, 0, bin, e1, kept);
    if (g_have_mc)
        assemble(src, 1, bin, e2, kept);
    for (i = 0; i < kept; i++) {
        int as_ok = !e1[i], mc_ok = g_have_mc ? !e2[i] : as_ok;
        if (as_ok && mc_ok) {
            tc_insn(line, sizeof line, keep[i].form, keep[i].n, keep[i].ops);
            if (both++ < 30)
                fprintf(stderr, "negative accepted by the oracle%s: %s\n", g_have_mc ? "s" : "",
                        line);
        } else if (as_ok || mc_ok) {
            tc_insn(line, sizeof line, keep[i].form, keep[i].n, keep[i].ops);
            if (disputed++ < 100)
                fprintf(stderr, "disputed (%s accepts): %s\n", as_ok ? "GNU as" : "llvm-mc", line);
        }
    }
    printf("negatives: %zu generated, %zu taken by another form, %zu refused by jitkit: "
           "%zu refused by both oracles, %zu disputed, %zu accepted by both\n",
           g_nneg, weaccept, kept, kept - both - disputed, disputed, both);
    free(keep);
    free(e1);
    free(e2);
    g_fail_neg = both;
    JT_EQ_U64(both, 0);
}

int main(int argc, char **argv)
{
    if (argc < 6 || !tc_exists(argv[1]) || !tc_exists(argv[2]) || !tc_exists(argv[3])) {
        printf("SKIP: needs aarch64-linux-gnu-as, -objcopy and -objdump (Debian "
               "binutils-aarch64-linux-gnu)\n");
        return 77;
    }
    g_as = argv[1];
    g_objcopy = argv[2];
    g_objdump = argv[3];
    g_mc = argv[4];
    g_tmp = argv[5];
    g_have_mc = tc_exists(g_mc);
    if (!g_have_mc)
        printf("note: llvm-mc not found: GNU as only (Debian package llvm)\n");
    generate();
    printf("%zu positive and %zu negative instances from %u forms\n", g_npos, g_nneg,
           (unsigned)jk__a64_mnem_first[JK_A64_MNEM_COUNT]);
    JT_RUN(test_positive);
    JT_RUN(test_readback);
    JT_RUN(test_negative);
    return jt_finish();
}
