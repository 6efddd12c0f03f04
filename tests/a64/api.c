/*
 * tests/a64/api.c - the A64 assembler API without host tools: logical
 * immediates (all 5,334 64-bit and 1,302 32-bit patterns against the Arm
 * ARM's DecodeBitMasks), constant materialization checked by a small
 * interpreter of movz/movn/movk/orr, argument checks, sticky errors with
 * their place and message, labels, relaxation at every reach boundary,
 * fix-up range errors, relocations at copy. Expected words are those GNU as
 * produces (the differential test checks the encoder at large).
 */
#include "jt.h"

#include "a64/a64_p.h"

#include <string.h>

/* -- DecodeBitMasks (Arm ARM, shared pseudocode), written from the spec ---- */

static uint64_t ones(unsigned n) { return n >= 64 ? ~0ull : (1ull << n) - 1; }

static uint64_t rorw(uint64_t x, unsigned r, unsigned e)
{
    x &= ones(e);
    r %= e;
    return r ? ((x >> r) | (x << (e - r))) & ones(e) : x;
}

/* 1 and *out when N:immr:imms is a valid bitmask for datasize m */
static int decode_bitmask(unsigned n, unsigned immr, unsigned imms, unsigned m, uint64_t *out)
{
    unsigned v = (n << 6) | (~imms & 0x3F), len = 0, e, s, r, i;
    uint64_t el, x = 0;
    for (i = 0; i < 7; i++)
        if (v & (1u << i))
            len = i;
    if (v == 0 || len < 1)
        return 0;
    e = 1u << len;
    if (e > m)
        return 0;
    s = imms & (e - 1);
    r = immr & (e - 1);
    if (s == e - 1)
        return 0; /* all ones is reserved */
    el = rorw(ones(s + 1), r, e);
    for (i = 0; i < m; i += e)
        x |= el << i;
    *out = x;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check_width(unsigned m, size_t want)
{
    uint64_t *vals = malloc(8192 * sizeof *vals);
    size_t nv = 0, i, distinct = 0;
    unsigned k;
    JT_CHECK(vals != NULL);
    for (k = 0; k < 8192; k++) {
        unsigned n = k >> 12, immr = (k >> 6) & 63, imms = k & 63;
        uint64_t x;
        uint32_t enc;
        if (m == 32 && (n || immr >= 32))
            continue;
        if (!decode_bitmask(n, immr, imms, m, &x))
            continue;
        vals[nv++] = x;
        /* jitkit encodes it, and its encoding decodes back to the value */
        JT_CHECK_MSG(jk_a64_logical_imm(x, m, &enc), "0x%llx (width %u) refused",
                     (unsigned long long)x, m);
        {
            uint64_t y;
            JT_CHECK(decode_bitmask(enc >> 12, (enc >> 6) & 63, enc & 63, m, &y));
            JT_EQ_U64(y, x);
        }
    }
    qsort(vals, nv, sizeof *vals, cmp_u64);
    for (i = 0; i < nv; i++)
        distinct += i == 0 || vals[i] != vals[i - 1];
    JT_EQ_U64(distinct, want);
    /* values that are not bitmasks are refused: neighbours of every pattern */
    for (i = 0; i < nv; i++) {
        uint64_t c[2] = {vals[i] ^ 0x10000, vals[i] + 1};
        unsigned j;
        for (j = 0; j < 2; j++) {
            uint64_t y = m == 32 ? c[j] & 0xFFFFFFFFu : c[j];
            int member = bsearch(&y, vals, nv, sizeof *vals, cmp_u64) != NULL;
            JT_EQ_U64(jk_a64_logical_imm(y, m, NULL), member);
        }
    }
    free(vals);
}

static void test_logical_imm_all(void)
{
    check_width(64, 5334);
    check_width(32, 1302);
    JT_EQ_U64(jk_a64_logical_imm(0, 64, NULL), 0);
    JT_EQ_U64(jk_a64_logical_imm(~0ull, 64, NULL), 0);
    JT_EQ_U64(jk_a64_logical_imm(0xFFFFFFFFu, 32, NULL), 0);
    JT_EQ_U64(jk_a64_logical_imm(0x5555, 48, NULL), 0);
}

/* -- Helpers --------------------------------------------------------------------- */

static jk_a64_asm *new_asm(void)
{
    jk_a64_asm *a = NULL;
    jk_a64_new(&a, NULL);
    return a;
}

/* finish + copy at rt; returns malloc'd words */
static uint32_t *words(jk_a64_asm *a, size_t *nw, uint64_t rt)
{
    size_t n;
    uint8_t *b;
    uint32_t *w;
    size_t i;
    if (jk_a64_finish(a, &n) != JK_OK)
        return NULL;
    b = malloc(n + 4);
    w = malloc(n + 4);
    if (jk_a64_copy(a, b, n, rt) != JK_OK) {
        free(b);
        free(w);
        return NULL;
    }
    for (i = 0; i < n / 4; i++)
        w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    free(b);
    *nw = n / 4;
    return w;
}

/* -- Constant materialization ------------------------------------------------------ */

/* Run movz/movn/movk/orr-immediate words on one register. */
static int interp(const uint32_t *w, size_t n, unsigned reg, uint64_t *out)
{
    uint64_t x = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t v = w[i];
        unsigned sf = v >> 31, hw = (v >> 21) & 3, rd = v & 31;
        uint64_t imm = (v >> 5) & 0xFFFF, m = sf ? ~0ull : 0xFFFFFFFFu;
        if (rd != reg)
            return 0;
        switch ((v >> 23) & 0xFF) {
        case 0xA5: x = (imm << (16 * hw)) & m; break;                  /* movz */
        case 0x25: x = ~(imm << (16 * hw)) & m; break;                 /* movn */
        case 0xE5: x = ((x & ~(0xFFFFull << (16 * hw))) | imm << (16 * hw)) & m; break; /* movk */
        case 0x64: {                                                   /* orr imm */
            uint64_t b;
            if (((v >> 5) & 31) != 31 ||
                !decode_bitmask((v >> 22) & 1, (v >> 16) & 63, (v >> 10) & 63, sf ? 64 : 32, &b))
                return 0;
            x = b;
            break;
        }
        default: return 0;
        }
    }
    *out = x;
    return 1;
}

static unsigned min_wide(uint64_t v, unsigned nch)
{
    unsigned i, z = 0, f = 0;
    for (i = 0; i < nch; i++) {
        uint16_t c = (uint16_t)(v >> (16 * i));
        z += c != 0;
        f += c != 0xFFFF;
    }
    z = z ? z : 1;
    f = f ? f : 1;
    return z < f ? z : f;
}

static void test_mov_imm(void)
{
    static const uint64_t vals[] = {0, 1, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000ull,
                                    ~0ull, ~1ull, 0x123456789ABCDEF0ull, 0x5555555555555555ull,
                                    0xFFFF0000FFFF0000ull, 0x00FF00FF00FF00FFull,
                                    0x8000000000000000ull, 0xFFFFFFFF00000000ull, 0x1234FFFF5678FFFFull,
                                    0xDEADBEEFull, 0xFFFFFFFFFFFF1234ull, 0x0000123400005678ull};
    size_t i;
    uint64_t seed = 88172645463325252ull;
    for (i = 0; i < 2000 + sizeof vals / sizeof vals[0]; i++) {
        uint64_t v, got;
        unsigned wreg;
        for (wreg = 0; wreg < 2; wreg++) {
            jk_a64_asm *a = new_asm();
            uint32_t *w;
            size_t n;
            uint32_t f;
            if (i < sizeof vals / sizeof vals[0]) {
                v = vals[i];
            } else {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v = seed;
                if (i & 1) /* sparse chunks: more movz/movn shapes */
                    v &= 0xFFFF0000FFFF0000ull >> (i & 16);
                if (i & 2)
                    v = ~v;
            }
            if (wreg)
                v &= 0xFFFFFFFFu;
            JT_EQ_U64(jk_a64_mov_imm(a, wreg ? JK_W7 : JK_X7, v), JK_OK);
            w = words(a, &n, 0);
            JT_CHECK(w != NULL);
            JT_CHECK_MSG(interp(w, n, 7, &got), "unexpected instruction for 0x%llx",
                         (unsigned long long)v);
            JT_EQ_U64(got, v);
            /* never longer than the best movz/movn + movk sequence; one when
             * a logical immediate does it */
            JT_CHECK(n <= min_wide(v, wreg ? 2 : 4));
            if (jk_a64_logical_imm(v, wreg ? 32 : 64, &f))
                JT_EQ_U64(n, 1);
            free(w);
            jk_a64_free(a);
        }
    }
}

/* -- Errors ---------------------------------------------------------------------- */

static void test_errors(void)
{
    jk_a64_asm *a = new_asm();
    size_t idx, off;
    JT_EQ_U64(jk_a64_add(a, JK_X0, JK_X1, JK_X2), JK_OK);
    JT_EQ_U64(jk_a64_add(a, JK_X0, JK_X1, jk_a64_imm(4097)), JK_ERANGE);
    JT_CONTAINS(jk_a64_error(a)->message,
                "add: operand 3: immediate 4097 is not 0..4095 or a multiple of 4096");
    jk_a64_error_where(a, &idx, &off);
    JT_EQ_U64(idx, 1);
    JT_EQ_U64(off, 4);
    /* sticky */
    JT_EQ_U64(jk_a64_nop(a), JK_ERANGE);
    JT_EQ_U64(jk_a64_finish(a, NULL), JK_ERANGE);
    jk_a64_reset(a);

    JT_EQ_U64(jk_a64_add(a, JK_X0, JK_XZR, jk_a64_imm(1)), JK_EOPERAND);
    JT_CONTAINS(jk_a64_error(a)->message, "xzr is not allowed here (register 31 is sp");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_orr(a, JK_X0, JK_XSP, JK_X1), JK_EOPERAND);
    JT_CONTAINS(jk_a64_error(a)->message, "sp is not allowed here");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_and(a, JK_X0, JK_X1, jk_a64_imm(5)), JK_ERANGE);
    JT_CONTAINS(jk_a64_error(a)->message, "0x5 is not a logical immediate");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_add(a, JK_X0, JK_W1, JK_X2), JK_ENOFORM);
    JT_CONTAINS(jk_a64_error(a)->message, "add: no form takes (x, w, x)");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_emit(a, JK_A64_ADD, 1, (jk_a64_op[]){JK_X0}), JK_ENOFORM);
    JT_CONTAINS(jk_a64_error(a)->message, "add: no form takes 1 operand");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_X1, 32761)), JK_ERANGE);
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_ldp(a, JK_X1, JK_X1, jk_a64_mem(JK_X2, 0)), JK_EOPERAND);
    JT_CONTAINS(jk_a64_error(a)->message, "unpredictable");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_W1, 0)), JK_EOPERAND);
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_emit_name(a, "frob", 0, NULL), JK_ENOFORM);
    JT_CONTAINS(jk_a64_error(a)->message, "unknown mnemonic 'frob'");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_emit(a, JK_A64_MNEM_COUNT, 0, NULL), JK_EINVAL);
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_add(a, JK_X0, JK_X1, jk_a64_reg(JK_A64_RC_SP, 3)), JK_EOPERAND);
    JT_CONTAINS(jk_a64_error(a)->message, "malformed");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_mov_imm(a, JK_XSP, 5), JK_EOPERAND);
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_dc(a, JK_A64_IC_IVAU, JK_X0), JK_EOPERAND);
    JT_CONTAINS(jk_a64_error(a)->message, "dc: operand 1: not a dc (data cache) operation");
    jk_a64_reset(a);
    JT_EQ_U64(jk_a64_ic(a, JK_A64_DC_ZVA, JK_X0), JK_EOPERAND);
    jk_a64_free(a);
    JT_EQ_U64(jk_a64_new(NULL, NULL), JK_EINVAL);
    JT_EQ_U64(jk_a64_emit(NULL, JK_A64_NOP, 0, NULL), JK_EINVAL);
    JT_EQ_U64(jk_a64_mnem_find("b.eq"), JK_A64_B_EQ);
    JT_EQ_STR(jk_a64_mnem_name(JK_A64_LDAXR), "ldaxr");
}

/* -- Encodings through the typed helpers (words from GNU as) ------------------- */

static void test_words(void)
{
    jk_a64_asm *a = new_asm();
    uint32_t *w;
    size_t n;
    static const uint32_t want[] = {
        0x8b020c20, /* add x0, x1, x2, lsl #3 */
        0x8b22c3e0, /* add x0, sp, w2, sxtw */
        0xf9400420, /* ldr x0, [x1, #8] */
        0xf85f8020, /* ldur x0, [x1, #-8] */
        0xf8408c20, /* ldr x0, [x1, #8]! */
        0xf8408420, /* ldr x0, [x1], #8 */
        0xf8627820, /* ldr x0, [x1, x2, lsl #3] */
        0xb8a2d820, /* ldrsw x0, [x1, w2, sxtw #2] */
        0xa9bf7bfd, /* stp x29, x30, [sp, #-16]! */
        0xa8c17bfd, /* ldp x29, x30, [sp], #16 */
        0xd2a00020, /* mov x0, #0x10000 */
        0x92800000, /* mov x0, #-1 */
        0xb200c3e0, /* mov x0, #0x0101010101010101 */
        0xd37ef420, /* lsl x0, x1, #2 */
        0xd3441c20, /* ubfx x0, x1, #4, #4 */
        0x9a9f17e0, /* cset x0, eq */
        0xd53bd040, /* mrs x0, tpidr_el0 */
        0xd51b4400, /* msr fpcr, x0 */
        0xd5033bbf, /* dmb ish */
        0xd503245f, /* bti c */
        0xd50b7b20, /* dc cvau, x0 */
        0xd65f03c0, /* ret */
    };
    size_t i;
    jk_a64_add(a, JK_X0, JK_X1, jk_a64_op_lsl(JK_X2, 3));
    jk_a64_add(a, JK_X0, JK_XSP, jk_a64_extend(JK_W2, JK_A64_MOD_SXTW));
    jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_X1, 8));
    jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_X1, -8));
    jk_a64_ldr(a, JK_X0, jk_a64_mem_pre(JK_X1, 8));
    jk_a64_ldr(a, JK_X0, jk_a64_mem_post(JK_X1, 8));
    jk_a64_ldr(a, JK_X0, jk_a64_mem_idx(JK_X1, jk_a64_op_lsl(JK_X2, 3)));
    jk_a64_ldrsw(a, JK_X0, jk_a64_mem_idx(JK_X1, jk_a64_shift(JK_W2, JK_A64_MOD_SXTW, 2)));
    jk_a64_stp(a, JK_FP, JK_LR, jk_a64_mem_pre(JK_XSP, -16));
    jk_a64_ldp(a, JK_FP, JK_LR, jk_a64_mem_post(JK_XSP, 16));
    jk_a64_mov(a, JK_X0, jk_a64_imm(0x10000));
    jk_a64_mov(a, JK_X0, jk_a64_imm(-1));
    jk_a64_mov(a, JK_X0, jk_a64_imm(0x0101010101010101ll));
    jk_a64_lsl(a, JK_X0, JK_X1, jk_a64_imm(2));
    jk_a64_ubfx(a, JK_X0, JK_X1, jk_a64_imm(4), jk_a64_imm(4));
    jk_a64_cset(a, JK_X0, jk_a64_cond(JK_A64_EQ));
    jk_a64_mrs(a, JK_X0, JK_A64_TPIDR_EL0);
    jk_a64_msr(a, JK_A64_FPCR, JK_X0);
    jk_a64_dmb(a, jk_a64_imm(JK_A64_ISH));
    jk_a64_bti1(a, jk_a64_imm(JK_A64_BTI_C));
    jk_a64_dc(a, JK_A64_DC_CVAU, JK_X0);
    jk_a64_ret(a);
    JT_EQ_U64(jk_a64_status(a), JK_OK);
    w = words(a, &n, 0);
    JT_CHECK(w != NULL);
    JT_EQ_U64(n, sizeof want / sizeof want[0]);
    for (i = 0; i < n; i++)
        JT_CHECK_MSG(w[i] == want[i], "word %zu: %08x, want %08x", i, w[i], want[i]);
    free(w);
    jk_a64_free(a);
}

/* -- Labels and relaxation ----------------------------------------------------------- */

/* A conditional branch over `gap` nops to a label (forward, or backward
 * when gap < 0): short iff within reach. Returns the words. */
static uint32_t *branch_over(jk_a64_mnem m, long gap, size_t *n)
{
    jk_a64_asm *a = new_asm();
    jk_label l = jk_a64_label(a, "target");
    long i;
    uint32_t *w;
    jk_a64_op ops[3];
    unsigned k = 0;
    if (gap < 0) {
        jk_a64_bind(a, l);
        for (i = 0; i < -gap; i++)
            jk_a64_nop(a);
    }
    if (m == JK_A64_CBZ || m == JK_A64_CBNZ) {
        ops[k++] = JK_X3;
    } else if (m == JK_A64_TBZ || m == JK_A64_TBNZ) {
        ops[k++] = JK_X3;
        ops[k++] = jk_a64_imm(33);
    }
    ops[k++] = jk_a64_lbl(l);
    jk_a64_emit(a, m, k, ops);
    if (gap >= 0) {
        for (i = 0; i < gap; i++)
            jk_a64_nop(a);
        jk_a64_bind(a, l);
    }
    jk_a64_nop(a);
    w = words(a, n, 0x400000);
    jk_a64_free(a);
    return w;
}

static void check_branch(jk_a64_mnem m, uint32_t shortw, unsigned bits)
{
    long lim = 1l << (bits - 1); /* words */
    /* forward: the target is gap + 1 words ahead */
    long cases[4] = {lim - 2, lim - 1, -lim + 0, -lim - 1};
    unsigned c;
    for (c = 0; c < 4; c++) {
        long gap = cases[c];
        size_t n;
        uint32_t *w = branch_over(m, gap, &n);
        long d = gap >= 0 ? gap + 1 : gap; /* words from the branch to the target */
        int fits = d >= -lim && d < lim;
        size_t at = gap >= 0 ? 0 : (size_t)-gap;
        JT_CHECK(w != NULL);
        if (fits) {
            uint32_t imm = (uint32_t)d & (uint32_t)((1ul << bits) - 1);
            JT_EQ_U64(n, (size_t)labs(gap) + 2);
            JT_EQ_U64(w[at], shortw | imm << 5);
        } else {
            /* inverted branch over a b */
            long db = gap >= 0 ? d : d - 1; /* from the b */
            JT_EQ_U64(n, (size_t)labs(gap) + 3);
            if ((shortw & 0xFF000000u) == 0x54000000u)
                JT_EQ_U64(w[at], (shortw ^ 1u) | 2u << 5);
            else
                JT_EQ_U64(w[at], (shortw ^ (1u << 24)) | 2u << 5);
            JT_EQ_U64(w[at + 1], 0x14000000u | ((uint32_t)db & 0x3FFFFFFu));
        }
        free(w);
    }
}

static void test_relax(void)
{
    check_branch(JK_A64_B_EQ, 0x54000000u, 19);
    check_branch(JK_A64_B_GT, 0x5400000Cu, 19);
    check_branch(JK_A64_CBZ, 0xB4000003u, 19);
    check_branch(JK_A64_CBNZ, 0xB5000003u, 19);
    check_branch(JK_A64_TBZ, 0xB6080003u, 14);  /* tbz x3, #33 */
    check_branch(JK_A64_TBNZ, 0xB7080003u, 14);
}

/* A relaxed branch moves everything after it: a chain where the last
 * branch is one word beyond its reach and every other one exactly at its
 * limit with its target past the next branch, so each lengthening pushes the
 * one before it over (one round each, to the fixed point). */
static void test_relax_chain(void)
{
    enum { NB = 5 };
    jk_a64_asm *a = new_asm();
    jk_label l[NB];
    long lim = 1l << 13; /* tbz reach in words: -lim .. lim-1 */
    long g = lim / 2 + 16, p[NB], t[NB], w, end;
    size_t n, i;
    uint32_t *words_;
    for (i = 0; i < NB; i++) {
        l[i] = jk_a64_label(a, NULL);
        p[i] = (long)i * g;
        t[i] = p[i] + lim - 1 + (i == NB - 1);
    }
    end = t[NB - 1] + 1;
    for (w = 0; w < end; w++) {
        int br = -1;
        for (i = 0; i < NB; i++) {
            if (t[i] == w)
                jk_a64_bind(a, l[i]);
            if (p[i] == w)
                br = (int)i;
        }
        if (br >= 0)
            jk_a64_tbz(a, JK_X0, jk_a64_imm(0), jk_a64_lbl(l[br]));
        else
            jk_a64_nop(a);
    }
    words_ = words(a, &n, 0);
    JT_CHECK(words_ != NULL);
    JT_EQ_U64(n, (size_t)end + NB);
    for (i = 0; i < NB; i++) {
        size_t at = (size_t)p[i] + i, off;
        JT_EQ_U64(words_[at], 0x37000040u); /* tbnz x0, #0, .+8 */
        JT_EQ_U64(words_[at + 1] & 0xFC000000u, 0x14000000u);
        JT_EQ_U64(jk_a64_label_offset(a, l[i], &off), JK_OK);
        JT_EQ_U64(4 * (at + 1 + (words_[at + 1] & 0x3FFFFFFu)), off);
    }
    free(words_);
    jk_a64_free(a);
}

static void test_fix_ranges(void)
{
    jk_a64_asm *a = new_asm();
    jk_label l = jk_a64_label(a, "far"), c;
    size_t i, n;
    uint32_t *w;
    uint64_t k = 0x1122334455667788ull;
    /* adr beyond +-1 MiB: an error at finish that names the label */
    jk_a64_adr(a, JK_X0, jk_a64_lbl(l));
    for (i = 0; i < (1u << 18); i++)
        jk_a64_nop(a);
    jk_a64_bind(a, l);
    JT_EQ_U64(jk_a64_finish(a, &n), JK_ERANGE);
    JT_CONTAINS(jk_a64_error(a)->message, "label 'far'");
    JT_CONTAINS(jk_a64_error(a)->message, "+-1 MiB of adr");
    jk_a64_reset(a);
    /* the last adr that reaches */
    l = jk_a64_label(a, "far");
    jk_a64_adr(a, JK_X0, jk_a64_lbl(l));
    for (i = 0; i < (1u << 18) - 2; i++)
        jk_a64_nop(a);
    jk_a64_bind(a, l);
    w = words(a, &n, 0);
    JT_CHECK(w != NULL);
    JT_EQ_U64(w[0], 0x107FFFE0u); /* adr x0, .+0xffffc */
    free(w);
    jk_a64_reset(a);
    /* ldr literal from the constant pool; adrp at copy */
    c = jk_a64_const(a, &k, 8, 8);
    jk_a64_ldr(a, JK_X1, jk_a64_lbl(c));
    jk_a64_adrp(a, JK_X2, jk_a64_lbl(c));
    jk_a64_ret(a);
    w = words(a, &n, 0x12345000);
    JT_CHECK(w != NULL);
    JT_EQ_U64(n, 6);
    JT_EQ_U64(w[0], 0x58000000u | 4u << 5 | 1); /* ldr x1, .+16 */
    JT_EQ_U64(w[1], 0x90000002u);              /* adrp x2, same page */
    JT_EQ_U64(w[4], 0x55667788u);
    free(w);
    /* adrp to an absolute address */
    jk_a64_reset(a);
    l = jk_a64_label_abs(a, 0x7FFF12345678ull);
    jk_a64_adrp(a, JK_X0, jk_a64_lbl(l));
    jk_a64_bl(a, jk_a64_lbl(l));
    w = words(a, &n, 0x7FFF10000000ull);
    JT_CHECK(w != NULL);
    /* page delta 0x2345: immlo 1, immhi 0x8d1 */
    JT_EQ_U64(w[0], 0x90000000u | 1u << 29 | 0x8D1u << 5);
    JT_EQ_U64(w[1], 0x94000000u | (0x2345678u - 4u) / 4u);
    free(w);
    /* adrl: adrp + add of the low 12 bits */
    jk_a64_reset(a);
    l = jk_a64_label_abs(a, 0x7FFF12345678ull);
    JT_EQ_U64(jk_a64_adrl(a, JK_X5, l), JK_OK);
    w = words(a, &n, 0x7FFF10000000ull);
    JT_CHECK(w != NULL);
    JT_EQ_U64(n, 2);
    JT_EQ_U64(w[0], 0x90000005u | 1u << 29 | 0x8D1u << 5);
    JT_EQ_U64(w[1], 0x910000A5u | 0x678u << 10); /* add x5, x5, #0x678 */
    free(w);
    /* bl out of reach of an absolute target: an error at copy */
    jk_a64_reset(a);
    l = jk_a64_label_abs(a, 0x100000000ull);
    jk_a64_bl(a, jk_a64_lbl(l));
    JT_EQ_U64(jk_a64_finish(a, &n), JK_OK);
    {
        uint8_t buf[8];
        JT_EQ_U64(jk_a64_copy(a, buf, sizeof buf, 0x10000), JK_ENOTNEAR);
        JT_CONTAINS(jk_a64_error(a)->message, "+-128 MiB of bl");
    }
    /* a never-bound label */
    jk_a64_reset(a);
    l = jk_a64_label(a, "nowhere");
    jk_a64_b(a, jk_a64_lbl(l));
    JT_EQ_U64(jk_a64_finish(a, &n), JK_ELABEL);
    JT_CONTAINS(jk_a64_error(a)->message, "'nowhere' never bound");
    /* an external target of a conditional branch: long form, relocated */
    jk_a64_reset(a);
    l = jk_a64_label_abs(a, 0x400100);
    jk_a64_b_ne(a, jk_a64_lbl(l));
    w = words(a, &n, 0x400000);
    JT_CHECK(w != NULL);
    JT_EQ_U64(n, 2);
    JT_EQ_U64(w[0], 0x54000040u); /* b.eq .+8 */
    JT_EQ_U64(w[1], 0x14000000u | (0x100u - 4u) / 4u);
    free(w);
    jk_a64_free(a);
}

static void test_data_align(void)
{
    jk_a64_asm *a = new_asm();
    uint32_t *w;
    size_t n;
    jk_a64_db(a, "abc", 3);
    jk_a64_align(a, 16);
    jk_a64_ret(a);
    w = words(a, &n, 0);
    JT_CHECK(w != NULL);
    JT_EQ_U64(n, 5);
    JT_EQ_U64(w[0], 0x00636261u);
    JT_EQ_U64(w[1], 0xD503201Fu);
    JT_EQ_U64(w[3], 0xD503201Fu);
    JT_EQ_U64(w[4], 0xD65F03C0u);
    free(w);
    jk_a64_free(a);
}

/* Random operands for every mnemonic and operand count: accepted or a clean
 * error, never a crash (run under ASan/UBSan in the matrix); an accepted
 * instruction is one word. */
static void test_random_operands(void)
{
    jk_a64_asm *a = new_asm();
    uint64_t seed = 0x243F6A8885A308D3ull;
    unsigned iter, ok = 0;
    for (iter = 0; iter < 200000; iter++) {
        jk_a64_op ops[4];
        unsigned n, i;
        jk_a64_mnem m;
        jk_status st;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        m = (jk_a64_mnem)(seed % JK_A64_MNEM_COUNT);
        n = (unsigned)(seed >> 20) % 5;
        for (i = 0; i < n; i++) {
            uint64_t r;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            r = seed;
            memset(&ops[i], 0, sizeof ops[i]);
            ops[i].kind = (uint8_t)(r % (JK_A64_OP_KIND_COUNT + 1));
            ops[i].rclass = (uint8_t)((r >> 8) % (JK_A64_RC_COUNT + 1));
            ops[i].reg = (uint8_t)((r >> 16) % 34);
            ops[i].mod = (uint8_t)((r >> 24) % (JK_A64_MOD_COUNT + 1));
            ops[i].amount = (uint8_t)((r >> 28) % 70);
            ops[i].flags = (uint8_t)(r >> 36);
            ops[i].iclass = (uint8_t)((r >> 44) % 14);
            ops[i].index = (uint8_t)((r >> 48) % 34);
            ops[i].value = (r >> 56) & 1 ? (int64_t)(seed * 0x9E3779B97F4A7C15ull)
                                         : (int64_t)((r >> 40) % 9000) - 4500;
            if (ops[i].kind == JK_A64_OP_LABEL)
                ops[i].value = (int64_t)(r % 3);
        }
        jk_a64_reset(a);
        jk_a64_label(a, NULL);
        jk_a64_label(a, NULL);
        st = jk_a64_emit(a, m, n, ops);
        if (st == JK_OK) {
            ok++;
            JT_EQ_U64(jk_a64_offset(a), 4);
        } else {
            JT_CHECK(jk_a64_error(a)->message[0] != 0);
        }
    }
    printf("random operands: %u of 200000 accepted\n", ok);
    jk_a64_free(a);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    JT_RUN(test_logical_imm_all);
    JT_RUN(test_mov_imm);
    JT_RUN(test_errors);
    JT_RUN(test_words);
    JT_RUN(test_relax);
    JT_RUN(test_relax_chain);
    JT_RUN(test_fix_ranges);
    JT_RUN(test_data_align);
    JT_RUN(test_random_operands);
    return jt_finish();
}
