/*
 * expr_jit.c - the expression example's code generator: a lowered tree
 * (constants folded, x^2 as x*x, a > b as b < a) to x86 code, twice - the
 * scalar entry and the batch kernel - through one generator parameterised
 * by the vector shape.
 *
 *     entry    shape                 registers   memory operands
 *     scalar   SSE2 `sd` forms       xmm         m64
 *              (AVX: VEX `vaddsd d, d, s`)
 *     kernel   SSE2 `pd`, 2 lanes    xmm         m128 (aligned: loads
 *                                                  from the inputs go
 *                                                  through movupd)
 *              AVX  `vpd`, 4 lanes   ymm         m256
 *
 * Values live in *slots*, a stack indexed by evaluation depth: a node's
 * result goes to slot d, its operands to d and d+1 (and d+2 for ?: in the
 * kernel). Slot k is register k while k < nregs (14 in 64-bit code, 6 in
 * 32-bit), otherwise a frame local (its *home*); two more registers after
 * the slots in use are scratch (S0, S1) for operands in memory. A leaf
 * right operand (a variable, a constant) is used straight from memory
 * (`addsd xmm0, [rdi + 8]`, `mulsd xmm1, [rip + c]`), so it takes no slot.
 * How many slots an expression needs is computed before the prologue
 * (need()), so the frame is fixed: locals for every home, the lane buffers
 * of the kernel's calls, the x87 return slot on i386.
 *
 * Inline: + - * / (sd/pd), unary minus (xorpd with the sign bit), abs
 * (andpd), sqrt (sqrtsd), min/max (minsd/maxsd: `a < b ? a : b`, exactly),
 * floor (roundsd with SSE4.1, else a libm call), comparisons (cmpsd with an
 * ordered predicate, or NEQ_UQ for !=, and'ed with 1.0), and ?: - branches
 * in scalar code (only the side taken runs; a comparison as the condition
 * branches on ucomisd's flags), a blend in the kernel (both sides
 * computed, vblendvpd or and/andn/or on SSE2, a comparison's mask used
 * as it is).
 *
 * Calls (sin cos tan exp log pow, floor without SSE4.1) go through the
 * frame builder: jk_x86_call_abi puts the arguments where the C ABI wants
 * them (xmm0/xmm1, or the stack on i386) and takes the result from xmm0 -
 * or, where jk_abi_layout says the return is JK_LOC_X87 (i386), from st0
 * through `fstp qword [local]`. Every xmm register is caller-saved (under
 * Win64 xmm6-15 are not, so the frame saves those it uses), so the slots in
 * registers below the call's are stored to their homes before and loaded
 * after. The kernel calls libm once per lane: the argument vectors are
 * stored to a lane buffer, each lane's double passed from memory, each
 * result stored back, the vector reloaded (with vzeroupper before the SSE
 * code of libm).
 *
 * The vars pointer stays in rdi/rcx (eax on i386) in code without calls, in
 * rbx / ebx (saved by the frame) otherwise. The kernel keeps vars, out, the
 * index and n in rbx, r12, r13, r14 (ebx, esi, edi and n on the stack on
 * i386) and loads each input's pointer before use (`mov rax, [rbx + 8*j]`).
 */
#include "expr_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct cg {
    jk_x86_asm *a;
    const expr_tree *t;
    int m64, avx, sse41, packed, calls;
    int x87_ret;               /* the callees return in st0 (i386) */
    unsigned W, vb;            /* lanes per value; bytes per value */
    unsigned nregs, nslots, used;
    jk_x86_op S0, S1;
    jk_x86_frame f;
    jk_x86_op vars, idx, n, gtmp;
    uint32_t home_off, buf_off, ret_off;
    jk_sig sig1, sig2;
} cg;

/* -- Emission helpers ----------------------------------------------------- */

static jk_x86_op vreg(const cg *g, unsigned n)
{
    return jk_x86_reg(g->packed && g->avx ? JK_X86_RC_YMM : JK_X86_RC_XMM, n);
}

static jk_x86_op local(const cg *g, uint32_t off, unsigned size)
{
    jk_x86_op m = jk_x86_noreg();
    jk_x86_frame_local(&g->f, off, size, &m); /* in range by construction */
    return m;
}

static int in_reg(const cg *g, unsigned s) { return s < g->nregs; }

static jk_x86_op home(const cg *g, unsigned s) { return local(g, g->home_off + s * g->vb, g->vb); }

static jk_x86_op slot(const cg *g, unsigned s) { return in_reg(g, s) ? vreg(g, s) : home(g, s); }

/* Emit "[v]<base><suffix>": suffix "sd" in scalar code, "pd" in the kernel
 * (or a fixed one when suf is given). */
static void ins(cg *g, const char *base, const char *suf, unsigned nops, jk_x86_op o0,
                jk_x86_op o1, jk_x86_op o2, jk_x86_op o3)
{
    char name[24];
    const char *parts[3] = {g->avx ? "v" : "", base, suf ? suf : (g->packed ? "pd" : "sd")};
    size_t n = 0;
    for (unsigned k = 0; k < 3; k++)
        for (const char *c = parts[k]; *c && n + 1 < sizeof name; c++)
            name[n++] = *c;
    name[n] = '\0';
    jk_x86_op ops[4] = {o0, o1, o2, o3};
    jk_x86_emit_name(g->a, name, nops, ops);
}

static const jk_x86_op NONE_OP = {0, 0, 0, 0, 0, 0, 0, 0, 0};

static void load(cg *g, jk_x86_op r, jk_x86_op m)
{
    ins(g, "mov", g->packed ? "upd" : "sd", 2, r, m, NONE_OP, NONE_OP);
}

static void store(cg *g, jk_x86_op m, jk_x86_op r)
{
    ins(g, "mov", g->packed ? "upd" : "sd", 2, m, r, NONE_OP, NONE_OP);
}

static void move(cg *g, jk_x86_op d, jk_x86_op s)
{
    if (d.reg != s.reg)
        ins(g, "mov", "apd", 2, d, s, NONE_OP, NONE_OP);
}

/* Slot s's value in a register: its own, or loaded into r. */
static jk_x86_op slot_in(cg *g, unsigned s, jk_x86_op r)
{
    if (in_reg(g, s))
        return vreg(g, s);
    load(g, r, home(g, s));
    return r;
}

static void to_slot(cg *g, unsigned s, jk_x86_op r)
{
    if (in_reg(g, s))
        move(g, vreg(g, s), r);
    else
        store(g, home(g, s), r);
}

static void slot_from_mem(cg *g, unsigned s, jk_x86_op m)
{
    if (in_reg(g, s)) {
        load(g, vreg(g, s), m);
    } else {
        load(g, g->S0, m);
        store(g, home(g, s), g->S0);
    }
}

/* A constant replicated over the lanes, `size` bytes (at least one value). */
static jk_x86_op constant(cg *g, uint64_t bits, unsigned size)
{
    uint64_t v[8];
    for (unsigned k = 0; k < size / 8; k++)
        v[k] = bits;
    jk_label l = jk_x86_const(g->a, v, size, size);
    return jk_x86_mem_label(size, l, 0);
}

static jk_x86_op const_value(cg *g, double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return constant(g, b, g->vb);
}

/* andpd/xorpd masks: whole registers (16 bytes in scalar code). */
static jk_x86_op const_mask(cg *g, uint64_t bits) { return constant(g, bits, g->vb < 16 ? 16 : g->vb); }

/* slot s = slot s <op> src (src a register or memory; imm >= 0 adds an
 * immediate, the cmp predicate). */
static void arith(cg *g, const char *base, const char *suf, unsigned s, jk_x86_op src, int imm)
{
    jk_x86_op d = slot_in(g, s, g->S0);
    unsigned n = 2;
    jk_x86_op o[4] = {d, src, NONE_OP, NONE_OP};
    if (g->avx) {
        o[1] = d;
        o[2] = src;
        n = 3;
    }
    if (imm >= 0)
        o[n++] = jk_x86_imm(imm);
    ins(g, base, suf, n, o[0], o[1], o[2], o[3]);
    if (!in_reg(g, s))
        store(g, home(g, s), g->S0);
}

/* slot s = op(slot s) for one-operand forms (sqrt, round), imm >= 0 appended. */
static void unary(cg *g, const char *base, unsigned s, int imm)
{
    jk_x86_op d = slot_in(g, s, g->S0);
    unsigned n = 2;
    jk_x86_op o[4] = {d, d, d, NONE_OP};
    if (g->avx && !g->packed)
        n = 3; /* vsqrtsd xmm, xmm, xmm: the upper half from the second operand */
    if (imm >= 0)
        o[n++] = jk_x86_imm(imm);
    ins(g, base, NULL, n, o[0], o[1], o[2], o[3]);
    if (!in_reg(g, s))
        store(g, home(g, s), g->S0);
}

/* -- Leaves ------------------------------------------------------------------ */

static int is_leaf(const cg *g, uint32_t i)
{
    return g->t->n[i].op == EXPR_NUM || g->t->n[i].op == EXPR_VAR;
}

/* Variable j's value(s) as a memory operand (the kernel: of element idx). */
static jk_x86_op var_mem(cg *g, uint32_t j)
{
    if (!g->packed)
        return jk_x86_mem(8, g->vars, JK_NOREG, 1, 8 * (int64_t)j);
    unsigned w = g->m64 ? 8 : 4;
    jk_x86_mov(g->a, g->gtmp, jk_x86_mem(w, g->vars, JK_NOREG, 1, (int64_t)(w * j)));
    return jk_x86_mem(g->vb, g->gtmp, g->idx, 8, 0);
}

/* A leaf as an operand of an arithmetic instruction: memory, or S1 where
 * legacy SSE would need the memory aligned (inputs in the kernel). */
static jk_x86_op leaf_src(cg *g, uint32_t i)
{
    const expr_node *nd = &g->t->n[i];
    if (nd->op == EXPR_NUM)
        return const_value(g, nd->num);
    jk_x86_op m = var_mem(g, nd->var);
    if (g->packed && !g->avx) {
        load(g, g->S1, m);
        return g->S1;
    }
    return m;
}

/* -- Slots needed -------------------------------------------------------------- */

static unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }

static int is_call(const cg *g, expr_op op)
{
    return (op >= EXPR_SIN && op <= EXPR_LOG) || op == EXPR_POW ||
           (op == EXPR_FLOOR && !g->sse41);
}

static unsigned need(cg *g, uint32_t i)
{
    const expr_node *nd = &g->t->n[i];
    expr_op op = (expr_op)nd->op;
    if (is_call(g, op))
        g->calls = 1;
    switch (expr_arity[op]) {
    case 0:
        return 1;
    case 1:
        return need(g, nd->kid[0]);
    case 2:
        if (op != EXPR_POW && is_leaf(g, nd->kid[1]))
            return need(g, nd->kid[0]);
        return umax(need(g, nd->kid[0]), 1 + need(g, nd->kid[1]));
    default: /* ?: */
        if (g->packed)
            return umax(need(g, nd->kid[0]),
                        umax(1 + need(g, nd->kid[1]), 2 + need(g, nd->kid[2])));
        return umax(need(g, nd->kid[0]), umax(need(g, nd->kid[1]), need(g, nd->kid[2])));
    }
}

/* -- Calls ------------------------------------------------------------------- */

/* Store the result of the call just made (xmm0 or st0) to memory m. */
static void result_to_mem(cg *g, jk_x86_op m)
{
    if (g->x87_ret)
        jk_x86_fstp(g->a, m);
    else
        jk_x86_emit_name(g->a, "movsd", 2, (jk_x86_op[]){m, JK_XMM0});
}

/* slot s = fn(slot s [, slot s+1]). */
static void call(cg *g, uint64_t fn, unsigned s, unsigned nargs)
{
    unsigned live = s < g->nregs ? s : g->nregs;
    const jk_sig *sig = nargs == 1 ? &g->sig1 : &g->sig2;
    jk_x86_op target = jk_x86_imm((int64_t)fn);
    for (unsigned k = 0; k < live; k++)
        store(g, home(g, k), vreg(g, k));
    if (g->packed) {
        for (unsigned k = 0; k < nargs; k++) {
            jk_x86_op r = slot_in(g, s + k, g->S0);
            store(g, local(g, g->buf_off + k * g->vb, g->vb), r);
        }
        if (g->avx)
            jk_x86_vzeroupper(g->a);
        for (unsigned l = 0; l < g->W; l++) {
            jk_x86_op args[2];
            for (unsigned k = 0; k < nargs; k++)
                args[k] = local(g, g->buf_off + k * g->vb + 8 * l, 8);
            jk_x86_call_abi(g->a, &g->f, sig, target, nargs, args);
            result_to_mem(g, local(g, g->buf_off + 8 * l, 8));
        }
        slot_from_mem(g, s, local(g, g->buf_off, g->vb));
    } else {
        jk_x86_op args[2] = {slot(g, s), slot(g, s + 1)};
        jk_x86_call_abi(g->a, &g->f, sig, target, nargs, args);
        if (g->x87_ret) {
            jk_x86_op r = local(g, g->ret_off, 8);
            result_to_mem(g, r);
            slot_from_mem(g, s, r);
        } else {
            to_slot(g, s, JK_XMM0);
        }
    }
    for (unsigned k = 0; k < live; k++)
        load(g, vreg(g, k), home(g, k));
}

static uint64_t libm_addr(expr_op op)
{
    if (op == EXPR_POW) {
        expr_libm2 f = pow;
        return (uint64_t)(uintptr_t)f;
    }
    return (uint64_t)(uintptr_t)expr_libm_unary(op);
}

/* -- The generator -------------------------------------------------------------- */

#define SIGN_BIT 0x8000000000000000ull
#define ABS_MASK 0x7fffffffffffffffull
#define ONE_BITS 0x3ff0000000000000ull

/* cmpsd predicates: ordered (false for NaN) except NEQ_UQ, as C's. */
static int cmp_pred(expr_op op)
{
    switch (op) {
    case EXPR_EQ: return 0;  /* EQ_OQ */
    case EXPR_LT: return 1;  /* LT_OS */
    case EXPR_LE: return 2;  /* LE_OS */
    default: return 4;       /* NEQ_UQ */
    }
}

static void gen(cg *g, uint32_t i, unsigned s);

/* The operands of a two-operand node: the left one in slot s, the right
 * one returned (memory for a leaf, else slot s+1). */
static jk_x86_op operands(cg *g, const expr_node *nd, unsigned s)
{
    gen(g, nd->kid[0], s);
    if (is_leaf(g, nd->kid[1]))
        return leaf_src(g, nd->kid[1]);
    gen(g, nd->kid[1], s + 1);
    return slot(g, s + 1);
}

static int is_cmp(expr_op op)
{
    return op == EXPR_LT || op == EXPR_LE || op == EXPR_EQ || op == EXPR_NE;
}

/* c ? a : b. A comparison as the condition is not turned into 1.0 / 0.0
 * first: scalar code branches on ucomisd's flags (PF set: unordered, so
 * false but for !=), the kernel blends with cmppd's mask. */
static void gen_cond(cg *g, const expr_node *nd, unsigned s)
{
    const expr_node *c = &g->t->n[nd->kid[0]];
    expr_op cop = (expr_op)c->op;
    if (!g->packed) {
        jk_label yes = jk_x86_label(g->a, NULL), end = jk_x86_label(g->a, NULL);
        jk_label no = jk_x86_label(g->a, NULL);
        jk_x86_op r, src;
        if (is_cmp(cop)) {
            src = operands(g, c, s);
            r = slot_in(g, s, g->S0);
        } else {
            gen(g, nd->kid[0], s);
            r = slot_in(g, s, g->S0);
            src = const_value(g, 0.0);
            cop = EXPR_NE; /* c != 0, true for NaN */
        }
        ins(g, "ucomisd", "", 2, r, src, NONE_OP, NONE_OP);
        switch (cop) {
        case EXPR_LT: jk_x86_jp(g->a, jk_lbl(no)); jk_x86_jb(g->a, jk_lbl(yes)); break;
        case EXPR_LE: jk_x86_jp(g->a, jk_lbl(no)); jk_x86_jbe(g->a, jk_lbl(yes)); break;
        case EXPR_EQ: jk_x86_jp(g->a, jk_lbl(no)); jk_x86_je(g->a, jk_lbl(yes)); break;
        default: jk_x86_jp(g->a, jk_lbl(yes)); jk_x86_jne(g->a, jk_lbl(yes)); break;
        }
        jk_x86_bind(g->a, no);
        gen(g, nd->kid[2], s);
        jk_x86_jmp(g->a, jk_lbl(end));
        jk_x86_bind(g->a, yes);
        gen(g, nd->kid[1], s);
        jk_x86_bind(g->a, end);
        return;
    }
    if (is_cmp(cop)) {
        jk_x86_op src = operands(g, c, s);
        arith(g, "cmp", NULL, s, src, cmp_pred(cop));
    } else {
        gen(g, nd->kid[0], s);
        arith(g, "cmp", NULL, s, const_value(g, 0.0), 4); /* mask: c != 0 (NaN too) */
    }
    gen(g, nd->kid[1], s + 1);
    gen(g, nd->kid[2], s + 2);
    if (g->avx) {
        jk_x86_op rb = slot_in(g, s + 2, g->S0);
        jk_x86_op rm = slot_in(g, s, g->S1);
        jk_x86_op d = in_reg(g, s) ? vreg(g, s) : g->S0;
        jk_x86_emit_name(g->a, "vblendvpd", 4, (jk_x86_op[]){d, rb, slot(g, s + 1), rm});
        if (!in_reg(g, s))
            store(g, home(g, s), g->S0);
        return;
    }
    jk_x86_op m0 = slot_in(g, s, g->S0);
    move(g, g->S0, m0);
    jk_x86_emit_name(g->a, "andpd", 2, (jk_x86_op[]){g->S0, slot(g, s + 1)});
    jk_x86_op m1 = slot_in(g, s, g->S1);
    move(g, g->S1, m1);
    jk_x86_emit_name(g->a, "andnpd", 2, (jk_x86_op[]){g->S1, slot(g, s + 2)});
    jk_x86_emit_name(g->a, "orpd", 2, (jk_x86_op[]){g->S0, g->S1});
    to_slot(g, s, g->S0);
}

static void gen(cg *g, uint32_t i, unsigned s)
{
    const expr_node *nd = &g->t->n[i];
    expr_op op = (expr_op)nd->op;
    if (jk_x86_status(g->a) != JK_OK)
        return;
    switch (op) {
    case EXPR_NUM: {
        uint64_t b;
        memcpy(&b, &nd->num, sizeof b);
        if (b == 0) {
            jk_x86_op r = in_reg(g, s) ? vreg(g, s) : g->S0;
            if (g->avx)
                jk_x86_emit_name(g->a, "vxorpd", 3, (jk_x86_op[]){r, r, r});
            else
                jk_x86_emit_name(g->a, "xorpd", 2, (jk_x86_op[]){r, r});
            if (!in_reg(g, s))
                store(g, home(g, s), r);
        } else {
            slot_from_mem(g, s, const_value(g, nd->num));
        }
        return;
    }
    case EXPR_VAR:
        slot_from_mem(g, s, var_mem(g, nd->var));
        return;
    case EXPR_COND:
        gen_cond(g, nd, s);
        return;
    default:
        break;
    }
    if (is_call(g, op)) {
        gen(g, nd->kid[0], s);
        if (op == EXPR_POW)
            gen(g, nd->kid[1], s + 1);
        call(g, libm_addr(op), s, op == EXPR_POW ? 2 : 1);
        return;
    }
    if (expr_arity[op] == 1) {
        gen(g, nd->kid[0], s);
        switch (op) {
        case EXPR_NEG: arith(g, "xor", "pd", s, const_mask(g, SIGN_BIT), -1); break;
        case EXPR_ABS: arith(g, "and", "pd", s, const_mask(g, ABS_MASK), -1); break;
        case EXPR_SQRT: unary(g, "sqrt", s, -1); break;
        case EXPR_FLOOR: unary(g, "round", s, 9); break; /* toward -inf, no inexact */
        case EXPR_SQR: {
            jk_x86_op r = slot_in(g, s, g->S0);
            arith(g, "mul", NULL, s, r, -1);
            break;
        }
        default: break;
        }
        return;
    }
    /* Two operands: the right one from memory when it is a leaf. */
    jk_x86_op src = operands(g, nd, s);
    switch (op) {
    case EXPR_ADD: arith(g, "add", NULL, s, src, -1); break;
    case EXPR_SUB: arith(g, "sub", NULL, s, src, -1); break;
    case EXPR_MUL: arith(g, "mul", NULL, s, src, -1); break;
    case EXPR_DIV: arith(g, "div", NULL, s, src, -1); break;
    case EXPR_MIN: arith(g, "min", NULL, s, src, -1); break;
    case EXPR_MAX: arith(g, "max", NULL, s, src, -1); break;
    default: /* LT LE EQ NE (GT, GE were swapped by expr_lower) */
        arith(g, "cmp", NULL, s, src, cmp_pred(op));
        arith(g, "and", "pd", s, const_mask(g, ONE_BITS), -1);
        break;
    }
}

/* -- Entries ---------------------------------------------------------------------- */

/* Build one entry (scalar or kernel) into *fn. */
static int build(expr *e, const expr_tree *t, uint32_t features, int m64, int packed,
                 void **fn, expr_error *err)
{
    cg g;
    memset(&g, 0, sizeof g);
    g.t = t;
    g.m64 = m64;
    g.packed = packed;
    g.avx = (features & JK_X86_FEAT_AVX) != 0;
    g.sse41 = (features & JK_X86_FEAT_SSE41) != 0;
    g.W = packed ? (g.avx ? 4 : 2) : 1;
    g.vb = 8 * g.W;
    g.nregs = m64 ? 14 : 6;
    g.nslots = need(&g, t->root);
    g.used = g.nslots < g.nregs ? g.nslots : g.nregs;
    g.S0 = vreg(&g, g.used);
    g.S1 = vreg(&g, g.used + 1);
    g.gtmp = m64 ? JK_RAX : JK_EAX;
    jk_sig_init(&g.sig1, JK_ABI_HOST, JK_TYPE_F64);
    jk_sig_add(&g.sig1, JK_TYPE_F64);
    jk_sig_init(&g.sig2, JK_ABI_HOST, JK_TYPE_F64);
    jk_sig_add(&g.sig2, JK_TYPE_F64);
    jk_sig_add(&g.sig2, JK_TYPE_F64);
    unsigned bits = m64 ? 64 : 32;
    jk_call_layout lay;
    if (jk_abi_layout(&g.sig1, bits, &lay, NULL) != JK_OK) {
        snprintf(err->message, sizeof err->message, "no C ABI for %u-bit code", bits);
        return -1;
    }
    g.x87_ret = lay.ret.kind == JK_LOC_X87;

    if (jk_x86_new(&g.a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL) != JK_OK) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    jk_frame_desc d;
    memset(&d, 0, sizeof d);
    if (packed) {
        jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_VOID);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        d.saved = m64 ? (1u << 3 | 1u << 12 | 1u << 13 | 1u << 14) : (1u << 3 | 1u << 6 | 1u << 7);
    } else {
        jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_F64);
        jk_sig_add(&d.sig, JK_TYPE_PTR);
        d.saved = g.calls ? 1u << 3 : 0;
    }
    /* Locals: the homes, two lane buffers, the x87 return slot. */
    g.home_off = 0;
    g.buf_off = (g.nslots * g.vb + 15u) & ~15u;
    g.ret_off = g.buf_off + 2 * g.vb;
    d.local_size = g.ret_off + 16;
    d.local_align = 16;
    if (g.calls) {
        jk_error fe;
        jk_frame_reserve_call(&d, bits, &g.sig2, &fe);
    } else {
        d.flags |= JK_FRAME_LEAF;
    }
    if (jk_abi_host(bits) == JK_ABI_WIN64)
        for (unsigned r = 6; r < g.used + 2; r++)
            d.saved_vec |= 1u << r; /* callee-saved under Win64 */
    jk_x86_prologue(g.a, &g.f, &d);

    jk_x86_op p[3];
    for (unsigned k = 0; k < d.sig.nparams; k++)
        jk_x86_frame_param(&g.f, k, &p[k]);
    jk_x86_asm *a = g.a;
    if (packed) {
        g.vars = m64 ? JK_RBX : JK_EBX;
        jk_x86_op out = m64 ? JK_R12 : JK_ESI;
        g.idx = m64 ? JK_R13 : JK_EDI;
        g.n = m64 ? JK_R14 : p[2];
        jk_x86_mov(a, g.vars, p[0]);
        jk_x86_mov(a, out, p[1]);
        if (m64)
            jk_x86_mov(a, g.n, p[2]);
        jk_x86_xor(a, g.idx, g.idx);
        jk_label top = jk_x86_label(a, NULL), done = jk_x86_label(a, NULL);
        jk_x86_bind(a, top);
        jk_x86_cmp(a, g.idx, g.n);
        jk_x86_jae(a, jk_lbl(done));
        gen(&g, t->root, 0);
        store(&g, jk_x86_mem(g.vb, out, g.idx, 8, 0), vreg(&g, 0));
        jk_x86_add(a, g.idx, jk_x86_imm(g.W));
        jk_x86_jmp(a, jk_lbl(top));
        jk_x86_bind(a, done);
        if (g.avx)
            jk_x86_vzeroupper(a);
    } else {
        if (m64) {
            g.vars = g.calls ? JK_RBX : p[0];
            if (g.calls)
                jk_x86_mov(a, g.vars, p[0]);
        } else {
            g.vars = g.calls ? JK_EBX : JK_EAX;
            jk_x86_mov(a, g.vars, p[0]);
        }
        gen(&g, t->root, 0);
        if (g.f.layout.ret.kind == JK_LOC_X87) {
            jk_x86_op r = local(&g, g.ret_off, 8);
            store(&g, r, JK_XMM0);
            jk_x86_fld(a, r);
        }
    }
    jk_x86_epilogue(a, &g.f);
    size_t size = 0;
    if (jk_x86_finish(a, &size) != JK_OK || jk_x86_install_heap(a, NULL, fn) != JK_OK) {
        snprintf(err->message, sizeof err->message, "assembler: %.140s", jk_x86_error(a)->message);
        jk_x86_free(a);
        return -1;
    }
    jk_x86_finish(a, &size); /* the installed size (calls through slots grow it) */
    e->code_size += size;
    jk_x86_free(a);
    return 0;
}

int expr_jit_build(expr *e, const expr_tree *t, uint32_t features, expr_error *err)
{
    expr_error dummy;
    if (!err)
        err = &dummy;
    err->column = 0;
    err->message[0] = '\0';
    if (!(features & JK_X86_FEAT_SSE2)) {
        snprintf(err->message, sizeof err->message, "the code needs SSE2, which the CPU lacks");
        return -1;
    }
    int m64 = sizeof(void *) == 8;
    if (build(e, t, features, m64, 0, &e->scalar, err) != 0 ||
        build(e, t, features, m64, 1, &e->kernel, err) != 0) {
        expr_jit_release(e);
        return -1;
    }
    e->features = features;
    e->width = (features & JK_X86_FEAT_AVX) ? 4 : 2;
    snprintf(e->isa, sizeof e->isa, "%s%s, batch %u lanes",
             (features & JK_X86_FEAT_AVX) ? "avx" : "sse2",
             (features & JK_X86_FEAT_SSE41) ? " sse4.1" : "", e->width);
    return 0;
}

void expr_jit_release(expr *e)
{
    jk_heap *h = NULL;
    if ((e->scalar || e->kernel) && jk_heap_default(&h, NULL) == JK_OK) {
        if (e->scalar)
            jk_heap_free(h, e->scalar, NULL);
        if (e->kernel)
            jk_heap_free(h, e->kernel, NULL);
    }
    e->scalar = e->kernel = NULL;
}
