/*
 * x86/func.c - calling conventions, frames, call marshalling and CET for
 * x86 (see include/jitkit/func.h for the contract).
 *
 * Layout of a frame (64-bit; 32-bit is the same with 4-byte words):
 *
 *     CFA + 8*i        Win64 home slot i (caller's shadow space), stack params
 *     CFA - 8          return address                  <- entry rsp
 *     CFA - 16         saved rbp (JK_FRAME_FP)         <- rbp
 *                      saved registers, ascending register numbers
 *                      [padding] (and rsp, -A with JK_FRAME_REALIGN)
 *     sp + locals_off  locals (aligned to local_align)
 *     sp + 0           outgoing arguments (Win64: 32 bytes shadow first)
 *                                                       <- rsp in the body
 *     sp - 1 .. -128   System V red zone: locals of a leaf when they fit
 *
 * The frame is fixed: the body's rsp is 16-byte aligned (the CFA is, by
 * every ABI here: System V i386 psABI included) and the outgoing area is
 * reserved once, so a call needs no adjustment and rsp-relative operands
 * stay valid across it. Unwind facts are recorded as CFA steps while
 * emitting, with offsets relative to the entry (prologue) or the epilogue's
 * start; neither contains a relaxable item, so the raw offsets are final.
 *
 * Call marshalling is a parallel move: each argument becomes a move from a
 * source operand to a location. Stack stores go first (they write no
 * register but the scratch), then register moves in an order where no move
 * overwrites a register a pending move still reads (as source or address);
 * a cycle is broken by copying one blocked destination into a scratch
 * register and rewriting its readers. Scratch registers are caller-saved
 * non-argument registers no source mentions (r11, r10, rax; eax, edx, ecx).
 */
#include "x86/x86_p.h"
#include "jitkit/func.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* -- Types and ABIs ------------------------------------------------------- */

static unsigned type_size(jk_type t, unsigned word)
{
    switch (t) {
    case JK_TYPE_I8: case JK_TYPE_U8: return 1;
    case JK_TYPE_I16: case JK_TYPE_U16: return 2;
    case JK_TYPE_I32: case JK_TYPE_U32: case JK_TYPE_F32: return 4;
    case JK_TYPE_I64: case JK_TYPE_U64: case JK_TYPE_F64: return 8;
    case JK_TYPE_PTR: return word;
    case JK_TYPE_V128: return 16;
    case JK_TYPE_V256: return 32;
    default: return 0;
    }
}

static int is_float(jk_type t) { return t == JK_TYPE_F32 || t == JK_TYPE_F64; }

static int is_vec(jk_type t) { return t == JK_TYPE_V128 || t == JK_TYPE_V256; }

static int is_signed(jk_type t)
{
    return t == JK_TYPE_I8 || t == JK_TYPE_I16 || t == JK_TYPE_I32 || t == JK_TYPE_I64;
}

static const char *type_name(jk_type t)
{
    static const char *const names[JK_TYPE_COUNT] = {
        "void", "int8", "uint8", "int16", "uint16", "int32", "uint32",
        "int64", "uint64", "pointer", "float", "double", "v128", "v256"};
    return (unsigned)t < JK_TYPE_COUNT ? names[t] : "?";
}

jk_abi jk_abi_host(unsigned bits)
{
    if (bits == 32)
        return JK_ABI_CDECL;
#if defined(_WIN32)
    return JK_ABI_WIN64;
#else
    return JK_ABI_SYSV64;
#endif
}

const char *jk_abi_name(jk_abi abi)
{
    static const char *const names[JK_ABI_COUNT] = {"host", "sysv64", "win64", "cdecl",
                                                    "stdcall", "fastcall"};
    return (unsigned)abi < JK_ABI_COUNT ? names[abi] : "?";
}

static uint32_t round_up32(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

static void loc_gp(jk_loc *l, unsigned reg, unsigned size)
{
    l->kind = JK_LOC_GP;
    l->reg = (uint8_t)reg;
    l->size = (uint8_t)size;
}

static void loc_stack(jk_loc *l, uint32_t off, unsigned size)
{
    l->kind = JK_LOC_STACK;
    l->offset = (int32_t)off;
    l->size = (uint8_t)size;
}

jk_status jk_abi_layout(const jk_sig *sig, unsigned bits, jk_call_layout *out, jk_error *err)
{
    static const uint8_t sysv_gp[6] = {7, 6, 2, 1, 8, 9}; /* rdi rsi rdx rcx r8 r9 */
    static const uint8_t win_gp[4] = {1, 2, 8, 9};        /* rcx rdx r8 r9 */
    jk_abi abi;
    unsigned i, n, nfixed, word, ngp = 0, nvec = 0, nbyref = 0;
    uint32_t stack = 0;
    if (!sig || !out)
        return jk__fail(err, JK_EINVAL, "abi layout: NULL signature or output");
    if (bits != 32 && bits != 64)
        return jk__fail(err, JK_EINVAL, "abi layout: %u-bit code (32 or 64)", bits);
    abi = sig->abi == JK_ABI_HOST ? jk_abi_host(bits) : sig->abi;
    if ((unsigned)abi >= JK_ABI_COUNT)
        return jk__fail(err, JK_EINVAL, "abi layout: unknown ABI %d", (int)sig->abi);
    if ((abi == JK_ABI_SYSV64 || abi == JK_ABI_WIN64) != (bits == 64))
        return jk__fail(err, JK_EINVAL, "the %s ABI needs %d-bit code, not %u-bit",
                        jk_abi_name(abi), bits == 64 ? 32 : 64, bits);
    n = sig->nparams;
    if (n > JK_SIG_MAX_PARAMS)
        return jk__fail(err, JK_EINVAL, "%u parameters: at most %d", n, JK_SIG_MAX_PARAMS);
    nfixed = sig->varargs ? sig->nfixed : n;
    if (nfixed > n)
        return jk__fail(err, JK_EINVAL, "%u fixed parameters of %u", nfixed, n);
    if (sig->varargs && (abi == JK_ABI_STDCALL || abi == JK_ABI_FASTCALL))
        return jk__fail(err, JK_EINVAL, "a %s function cannot be variadic (its callee pops a "
                        "fixed argument size)", jk_abi_name(abi));
    if ((unsigned)sig->ret >= JK_TYPE_COUNT)
        return jk__fail(err, JK_EINVAL, "invalid return type %d", (int)sig->ret);
    for (i = 0; i < n; i++)
        if (sig->params[i] == JK_TYPE_VOID || (unsigned)sig->params[i] >= JK_TYPE_COUNT)
            return jk__fail(err, JK_EINVAL, "parameter %u: invalid type %d", i,
                            (int)sig->params[i]);

    memset(out, 0, sizeof *out);
    out->abi = abi;
    word = bits / 8;
    out->word = word;

    /* return value */
    if (is_vec(sig->ret) && abi == JK_ABI_WIN64 && sig->ret == JK_TYPE_V256)
        return jk__fail(err, JK_EINVAL, "a win64 function cannot return v256 here: GCC returns "
                        "__m256 through a hidden pointer (MSVC has no agreed convention "
                        "outside __vectorcall); return it through a pointer parameter");
    for (i = nfixed; i < n; i++)
        if (is_vec(sig->params[i]))
            return jk__fail(err, JK_EINVAL, "parameter %u: vectors (%s) in the variadic part are "
                            "not supported", i, type_name(sig->params[i]));
    out->stack_align = 16;
    if (sig->ret == JK_TYPE_VOID) {
        out->ret.kind = JK_LOC_NONE;
    } else if (is_vec(sig->ret)) {
        out->ret.kind = JK_LOC_VEC; /* xmm0 / ymm0 under every ABI here */
        out->ret.size = (uint8_t)type_size(sig->ret, word);
    } else if (is_float(sig->ret)) {
        out->ret.kind = bits == 64 ? JK_LOC_VEC : JK_LOC_X87;
        out->ret.size = (uint8_t)type_size(sig->ret, word);
    } else if (type_size(sig->ret, word) > word) {
        out->ret.kind = JK_LOC_GP_PAIR; /* edx:eax */
        out->ret.reg = 0;
        out->ret.reg2 = 2;
        out->ret.size = 8;
    } else {
        loc_gp(&out->ret, 0, type_size(sig->ret, word));
    }

    for (i = 0; i < n; i++) {
        jk_type t = sig->params[i];
        unsigned sz = type_size(t, word);
        jk_loc *l = &out->params[i];
        if (is_vec(t) && abi != JK_ABI_WIN64) {
            /* System V: xmm0-7 / ymm0-7, shared with floats; i386 (GCC, all
             * three conventions): xmm0-2 / ymm0-2; then the stack, aligned
             * to the vector's size */
            if (nvec < (abi == JK_ABI_SYSV64 ? 8u : 3u)) {
                l->kind = JK_LOC_VEC;
                l->reg = (uint8_t)nvec++;
                l->size = (uint8_t)sz;
            } else {
                stack = round_up32(stack, sz);
                loc_stack(l, stack, sz);
                stack += sz;
                if (sz > out->stack_align)
                    out->stack_align = sz;
            }
            continue;
        }
        switch (abi) {
        case JK_ABI_SYSV64:
            if (is_float(t) && nvec < 8) {
                l->kind = JK_LOC_VEC;
                l->reg = (uint8_t)nvec++;
                l->size = (uint8_t)sz;
            } else if (!is_float(t) && ngp < 6) {
                loc_gp(l, sysv_gp[ngp++], sz);
            } else {
                loc_stack(l, stack, sz);
                stack += 8;
            }
            break;
        case JK_ABI_WIN64:
            if (is_vec(t)) {
                /* by reference: a pointer where an integer would go */
                if (i < 4) {
                    loc_gp(l, win_gp[i], sz);
                    l->flags |= JK_LOC_HOME;
                    l->offset = (int32_t)(8 * i);
                } else {
                    loc_stack(l, 8 * i, sz);
                }
                l->flags |= JK_LOC_BYREF;
                nbyref++;
                break;
            }
            if (i < 4) {
                if (is_float(t)) {
                    l->kind = JK_LOC_VEC;
                    l->reg = (uint8_t)i;
                    l->size = (uint8_t)sz;
                    nvec++;
                    if (i >= nfixed) {
                        l->flags |= JK_LOC_DUP_GP;
                        l->reg2 = win_gp[i];
                    }
                } else {
                    loc_gp(l, win_gp[i], sz);
                }
                l->flags |= JK_LOC_HOME;
                l->offset = (int32_t)(8 * i);
            } else {
                loc_stack(l, 8 * i, sz);
            }
            break;
        case JK_ABI_FASTCALL:
            /* As GCC does it: ecx and edx are handed out by position to
             * integers of at most 32 bits; a 64-bit integer goes on the
             * stack but uses up two register words (so "long long, int"
             * passes both on the stack); floats take none. MSVC instead
             * gives the first two small integers wherever they are. */
            if (!is_float(t) && sz <= 4 && ngp < 2) {
                loc_gp(l, ngp++ ? 2u : 1u, sz);
                break;
            }
            if (!is_float(t))
                ngp = 2;
            /* fall through */
        default: /* cdecl, stdcall */
            loc_stack(l, stack, sz);
            stack += sz > 4 ? 8u : 4u;
            break;
        }
    }
    if (abi == JK_ABI_WIN64) {
        stack = 8 * (n > 4 ? n : 4); /* shadow space is always there */
        if (nbyref) {
            /* the copies of by-reference vectors, 16-byte aligned, after
             * the argument slots */
            stack = round_up32(stack, 16);
            for (i = 0; i < n; i++)
                if (out->params[i].flags & JK_LOC_BYREF) {
                    out->params[i].copy = (int32_t)stack;
                    stack += out->params[i].size;
                }
        }
    }
    out->stack_bytes = stack;
    out->vec_count = nvec;
    if (abi == JK_ABI_STDCALL || abi == JK_ABI_FASTCALL)
        out->callee_pops = stack;
    return JK_OK;
}

/* What a System V callee may clobber that a Win64 caller must keep. */
#define WIN_OVER_SYSV (1u << 6 | 1u << 7)
#define WIN_OVER_SYSV_VEC 0xffc0u

jk_status jk_frame_reserve_call(jk_frame_desc *d, unsigned bits, const jk_sig *callee,
                                jk_error *err)
{
    jk_call_layout l;
    jk_status s;
    uint32_t need;
    if (!d)
        return jk__fail(err, JK_EINVAL, "reserve call: NULL frame description");
    s = jk_abi_layout(callee, bits, &l, err);
    if (s != JK_OK)
        return s;
    need = l.stack_bytes;
    if (need > d->call_args)
        d->call_args = need;
    if (l.abi == JK_ABI_SYSV64 &&
        (d->sig.abi == JK_ABI_WIN64 || (d->sig.abi == JK_ABI_HOST && jk_abi_host(bits) == JK_ABI_WIN64))) {
        d->saved |= WIN_OVER_SYSV;
        d->saved_vec |= WIN_OVER_SYSV_VEC;
    }
    return JK_OK;
}

/* -- Operands -------------------------------------------------------------- */

static jk_x86_op gpr(unsigned n, unsigned size)
{
    jk_x86_rclass rc = size == 1 ? JK_X86_RC_GP8
                     : size == 2 ? JK_X86_RC_GP16
                     : size == 4 ? JK_X86_RC_GP32 : JK_X86_RC_GP64;
    return jk_x86_reg(rc, n);
}

static jk_x86_op xmm(unsigned n) { return jk_x86_reg(JK_X86_RC_XMM, n); }

static unsigned wordof(const jk_x86_asm *a) { return a->mode == JK_X86_MODE64 ? 8u : 4u; }

static jk_x86_op spr(const jk_x86_asm *a) { return gpr(4, wordof(a)); }
static jk_x86_op bpr(const jk_x86_asm *a) { return gpr(5, wordof(a)); }

static jk_x86_op mem_sp(const jk_x86_asm *a, int64_t off, unsigned size)
{
    return jk_x86_mem(size, spr(a), JK_NOREG, 1, off);
}

/* The same memory operand `delta` bytes further (label displacements live
 * in the low 32 bits). */
static jk_x86_op mem_plus(jk_x86_op m, int32_t delta, unsigned size)
{
    if (m.flags & JK_X86_MEM_LABEL)
        m.value = (int64_t)(((uint64_t)m.value & ~(uint64_t)0xffffffffu) |
                            (uint32_t)((int32_t)(uint32_t)m.value + delta));
    else
        m.value += delta;
    m.size = (uint8_t)size;
    return m;
}

static jk_status emit2(jk_x86_asm *a, jk_x86_mnem id, jk_x86_op d, jk_x86_op s)
{
    jk_x86_op ops[2];
    ops[0] = d;
    ops[1] = s;
    return jk_x86_emit(a, id, 2, ops);
}

/* SSE moves go by name: they start working when the table has the forms
 * (until then the assembler reports the unknown mnemonic or missing form). */
static jk_status emit2n(jk_x86_asm *a, const char *name, jk_x86_op d, jk_x86_op s)
{
    jk_x86_op ops[2];
    ops[0] = d;
    ops[1] = s;
    return jk_x86_emit_name(a, name, 2, ops);
}

jk_status jk_x86_loc_op(jk_x86_mode m, const jk_loc *l, jk_x86_op *where)
{
    unsigned word = m == JK_X86_MODE64 ? 8u : 4u;
    if (!l || !where || (unsigned)m >= JK_X86_MODE_COUNT)
        return JK_EINVAL;
    if (l->flags & JK_LOC_BYREF) { /* the pointer */
        if (l->kind == JK_LOC_GP)
            *where = gpr(l->reg, word);
        else if (l->kind == JK_LOC_STACK)
            *where = jk_x86_mem(word, gpr(4, word), JK_NOREG, 1, l->offset);
        else
            return JK_EINVAL;
        return JK_OK;
    }
    switch (l->kind) {
    case JK_LOC_GP:
        *where = gpr(l->reg, l->size);
        return JK_OK;
    case JK_LOC_GP_PAIR:
        *where = gpr(l->reg, 4);
        return JK_OK;
    case JK_LOC_VEC:
        *where = l->size == 32 ? jk_x86_reg(JK_X86_RC_YMM, l->reg) : xmm(l->reg);
        return JK_OK;
    case JK_LOC_STACK:
        *where = jk_x86_mem(l->size, gpr(4, word), JK_NOREG, 1, l->offset);
        return JK_OK;
    case JK_LOC_X87:
        *where = jk_x86_reg(JK_X86_RC_ST, 0);
        return JK_OK;
    default:
        return JK_EINVAL;
    }
}

/* -- CET ------------------------------------------------------------------- */

#define CET_READ 0x80000000u
static atomic_uint cet_cache;

/* The CET words of an "x86_Thread_features:" line's value (Linux 6.6+),
 * e.g. "\tshstk wrss\n", up to the end of the line. */
static unsigned cet_words(const char *p)
{
    unsigned v = 0;
    while (*p && *p != '\n') {
        size_t len;
        while (*p == ' ' || *p == '\t')
            p++;
        len = strcspn(p, " \t\n"); /* no strtok: not thread-safe */
        if (len == 5 && strncmp(p, "shstk", 5) == 0)
            v |= JK_CET_SHSTK;
        else if (len == 3 && strncmp(p, "ibt", 3) == 0)
            v |= JK_CET_IBT;
        p += len;
    }
    return v;
}

#define CET_KEY "x86_Thread_features:"

/* The CET bits of a whole /proc/self/status text (the _locked line that
 * follows the features has another name). Shared-private so the tests can
 * feed it samples. */
unsigned jk__cet_parse_status(const char *text);
unsigned jk__cet_parse_status(const char *text)
{
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, CET_KEY, sizeof CET_KEY - 1) == 0)
            return cet_words(p + sizeof CET_KEY - 1);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

unsigned jk_cet_features(void)
{
    unsigned v = atomic_load_explicit(&cet_cache, memory_order_relaxed);
    if (v)
        return v & ~CET_READ;
#if defined(__CET__)
    if (__CET__ & 1)
        v |= JK_CET_BUILD_IBT;
    if (__CET__ & 2)
        v |= JK_CET_BUILD_SHSTK;
#endif
#if defined(__linux__)
    {
        FILE *fp = fopen("/proc/self/status", "r");
        char line[512];
        if (fp) {
            while (fgets(line, sizeof line, fp))
                if (strncmp(line, CET_KEY, sizeof CET_KEY - 1) == 0)
                    v |= cet_words(line + sizeof CET_KEY - 1);
            fclose(fp);
        }
    }
#endif
    atomic_store_explicit(&cet_cache, v | CET_READ, memory_order_relaxed);
    return v;
}

int jk_cet_want_endbr(void)
{
    return (jk_cet_features() & (JK_CET_IBT | JK_CET_BUILD_IBT)) != 0;
}

static int want_endbr(jk_cet_mode m)
{
    return m == JK_CET_ON || (m == JK_CET_AUTO && jk_cet_want_endbr());
}

jk_status jk_x86_endbr(jk_x86_asm *a, jk_cet_mode mode)
{
    if (!a)
        return JK_EINVAL;
    if ((unsigned)mode >= JK_CET_MODE_COUNT)
        return jk__code_fail(&a->code, JK_EINVAL, "endbr: invalid CET mode %d", (int)mode);
    if (!want_endbr(mode))
        return jk_x86_status(a);
    return a->mode == JK_X86_MODE64 ? jk_x86_endbr64(a) : jk_x86_endbr32(a);
}

jk_status jk_x86_bind_target(jk_x86_asm *a, jk_label l, jk_cet_mode mode)
{
    jk_status s = jk_x86_bind(a, l);
    if (s != JK_OK)
        return s;
    return jk_x86_endbr(a, mode);
}

/* -- Frames ---------------------------------------------------------------- */

static uint32_t round_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

#define FRAME_FLAGS (JK_FRAME_FP | JK_FRAME_LEAF | JK_FRAME_NO_REDZONE | JK_FRAME_HOME | \
                     JK_FRAME_REALIGN | JK_FRAME_ENDBR | JK_FRAME_NO_ENDBR)
#define FRAME_MAX (16u << 20)

/* Append a CFA step (the arrays hold the most a frame can produce). */
static void step_(jk_cfa_step *steps, uint32_t *n, uint32_t cap, uint32_t off, jk_cfa_kind k,
                  unsigned reg, int32_t v)
{
    if (*n < cap) {
        steps[*n].offset = off;
        steps[*n].kind = (uint8_t)k;
        steps[*n].reg = (uint8_t)reg;
        steps[*n].off = v;
        (*n)++;
    }
}

#define step(steps, n, off, k, reg, v) \
    step_(steps, n, (uint32_t)(sizeof(steps) / sizeof(steps)[0]), off, k, reg, v)

static uint32_t since(const jk_x86_asm *a, size_t start)
{
    return (uint32_t)(jk_x86_offset(a) - start);
}

jk_status jk_x86_prologue(jk_x86_asm *a, jk_x86_frame *f, const jk_frame_desc *d)
{
    jk_error e;
    unsigned W, n, nregs, fl, A, i;
    uint32_t base, cur;
    size_t start;
    jk_frame_record *r;
    jk_label entry;
    int win, cfa_sp = 1; /* cfa_sp: the CFA is still rsp-based */
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (!f || !d)
        return jk__code_fail(&a->code, JK_EINVAL, "prologue: NULL frame or description");
    memset(f, 0, sizeof *f);
    W = wordof(a);
    nregs = a->nregs;
    if (jk_abi_layout(&d->sig, W * 8, &f->layout, &e) != JK_OK)
        return jk__code_fail(&a->code, JK_EINVAL, "prologue: %s", e.message);
    f->desc = *d;
    f->desc.sig.abi = f->layout.abi;
    f->mode = a->mode;
    f->word = W;
    fl = d->flags;
    if (fl & ~FRAME_FLAGS)
        return jk__code_fail(&a->code, JK_EINVAL, "prologue: unknown flags 0x%x",
                             fl & ~FRAME_FLAGS);
    f->fp = (fl & JK_FRAME_FP) != 0;
    win = f->layout.abi == JK_ABI_WIN64;
    f->leaf = (fl & JK_FRAME_LEAF) != 0;
    A = d->local_align ? d->local_align : W;
    if (A & (A - 1) || A > 4096)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: local_align %u is not a power of two up to 4096", A);
    if (A < W)
        A = W;
    if (d->saved & (1u << 4))
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: the stack pointer cannot be a saved register");
    if (d->saved >> nregs)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: saved registers 0x%x: %d-bit code has %u general "
                             "registers", d->saved, (int)W * 8, nregs);
    if (d->saved_vec && (W == 4 || d->saved_vec >> 16))
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: saved_vec 0x%x: xmm0-xmm15 in 64-bit code only",
                             d->saved_vec);
    if (d->local_size > FRAME_MAX || d->call_args > FRAME_MAX)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: local_size %u / call_args %u: at most 16 MiB each",
                             d->local_size, d->call_args);
    if ((fl & JK_FRAME_HOME) && f->layout.abi != JK_ABI_WIN64)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: JK_FRAME_HOME needs the win64 ABI (home slots), not %s",
                             jk_abi_name(f->layout.abi));
    if (f->leaf && d->call_args)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: a leaf frame (JK_FRAME_LEAF) makes no calls, but "
                             "call_args is %u", d->call_args);
    if ((fl & JK_FRAME_ENDBR) && (fl & JK_FRAME_NO_ENDBR))
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: JK_FRAME_ENDBR and JK_FRAME_NO_ENDBR together");
    f->realign = (fl & JK_FRAME_REALIGN) || A > 16;
    if (f->realign && !f->fp)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: %s needs a frame pointer (JK_FRAME_FP): the realigned "
                             "stack is left through it",
                             A > 16 ? "local_align above 16" : "JK_FRAME_REALIGN");
    if (d->saved_vec && f->realign)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "prologue: saved_vec in a realigned frame is not supported");
    for (n = 0; n < nregs; n++)
        if ((d->saved >> n & 1u) && !(f->fp && n == 5))
            f->saved_regs[f->nsaved++] = (uint8_t)n;
    for (n = 0; n < 16; n++)
        if (d->saved_vec >> n & 1u)
            f->saved_vecs[f->nvec++] = (uint8_t)n;
    f->push_bytes = W * (f->fp + f->nsaved);
    f->call_area = f->leaf ? 0
                 : round_up(f->layout.abi == JK_ABI_WIN64 && d->call_args < 32 ? 32u
                                                                                : d->call_args, 16);
    base = W + f->push_bytes;
    if (f->realign) {
        uint32_t A16 = A > 16 ? A : 16;
        uint32_t lo = round_up(f->call_area, A16);
        f->locals_off = (int32_t)lo;
        f->alloc = round_up(lo + d->local_size, A16);
    } else if (f->nvec) {
        /* [call area][locals][xmm saves], the saves 16-byte aligned */
        f->locals_off = (int32_t)f->call_area;
        f->vec_off = round_up(f->call_area + d->local_size, 16);
        f->alloc = round_up(base + f->vec_off + 16 * f->nvec, 16) - base;
    } else if (f->layout.abi == JK_ABI_SYSV64 && f->leaf && !(fl & JK_FRAME_NO_REDZONE) &&
               d->local_size && round_up(base + d->local_size, A) - base <= 128) {
        /* the 128 bytes below rsp belong to a System V function that calls
         * nothing: no allocation at all */
        f->redzone = 1;
        f->locals_off = -(int32_t)(round_up(base + d->local_size, A) - base);
    } else if (f->leaf) {
        f->alloc = d->local_size ? round_up(base + d->local_size, A) - base : 0;
    } else {
        f->alloc = round_up(base + f->call_area + d->local_size, 16) - base;
        f->locals_off = (int32_t)f->call_area;
    }
    f->frame_size = base + f->alloc;

    /* emit */
    r = &f->rec;
    entry = jk_x86_label(a, NULL);
    jk_x86_bind(a, entry);
    start = jk_x86_offset(a);
    r->entry = entry;
    if (want_endbr((fl & JK_FRAME_ENDBR) ? JK_CET_ON
                   : (fl & JK_FRAME_NO_ENDBR) ? JK_CET_OFF : JK_CET_AUTO)) {
        jk_x86_endbr(a, JK_CET_ON);
        r->endbr = since(a, start);
    }
    if (fl & JK_FRAME_HOME) {
        /* home slot i is [rsp + 8 + 8i] at entry; variadic functions store
         * all four (their variadic floats are duplicated there) */
        static const uint8_t win_gp[4] = {1, 2, 8, 9};
        const jk_sig *s = &f->desc.sig;
        for (i = 0; i < 4; i++) {
            jk_x86_op slot = mem_sp(a, 8 + 8 * i, 8);
            if (i < s->nparams && is_float(s->params[i]) && i < s->nfixed)
                emit2n(a, s->params[i] == JK_TYPE_F64 ? "movsd" : "movss",
                       mem_plus(slot, 0, type_size(s->params[i], 8)), xmm(i));
            else if (i < s->nparams || s->varargs)
                jk_x86_mov(a, slot, gpr(win_gp[i], 8));
        }
    }
    cur = W;
    if (f->fp) {
        jk_x86_push(a, bpr(a));
        cur += W;
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)cur);
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_SAVE, 5, -(int32_t)cur);
        r->saved[r->nsaved].reg = 5;
        r->saved[r->nsaved++].off = -(int32_t)cur;
    }
    /* Win64: rbp is pushed like any saved register; the frame register is
     * set after the pushes (UNWIND_INFO cannot describe a push or an
     * allocation after UWOP_SET_FPREG unless the frame register alone
     * recovers rsp, as with realignment) */
    if (f->fp && !win) {
        jk_x86_mov(a, bpr(a), spr(a));
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 5, (int32_t)cur);
        f->fp_cfa = (int32_t)cur;
        cfa_sp = 0;
    }
    for (i = 0; i < f->nsaved; i++) {
        unsigned reg = f->saved_regs[i];
        jk_x86_push(a, gpr(reg, W));
        cur += W;
        if (cfa_sp)
            step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)cur);
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_SAVE, reg, -(int32_t)cur);
        r->saved[r->nsaved].reg = (uint8_t)reg;
        r->saved[r->nsaved++].off = -(int32_t)cur;
    }
    if (f->realign && win) {
        /* rbp = rsp after the pushes (frame offset 0): the unwinder gets
         * rsp back from rbp whatever the and and the sub did below */
        jk_x86_mov(a, bpr(a), spr(a));
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 5, (int32_t)cur);
        f->fp_cfa = (int32_t)cur;
        cfa_sp = 0;
    }
    if (f->realign)
        jk_x86_and(a, spr(a), jk_imm(-(int64_t)(A > 16 ? A : 16)));
    if (f->alloc) {
        uint32_t k;
        /* touch every page on the way down, in order, so a guard page is
         * never skipped (Windows grows its stacks through it) */
        for (k = 4096; k < f->alloc; k += 4096)
            jk_x86_test(a, mem_sp(a, -(int64_t)k, W), spr(a));
        jk_x86_sub(a, spr(a), jk_imm(f->alloc));
        if (cfa_sp)
            step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)(cur + f->alloc));
    }
    for (i = 0; i < f->nvec; i++) {
        int32_t slot = (int32_t)(f->vec_off + 16 * i);
        int32_t rel = slot - (int32_t)(cur + f->alloc); /* CFA-relative */
        emit2n(a, "movaps", mem_sp(a, slot, 16), xmm(f->saved_vecs[i]));
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_SAVE, 16u + f->saved_vecs[i], rel);
        r->saved[r->nsaved].reg = (uint8_t)(16u + f->saved_vecs[i]);
        r->saved[r->nsaved++].off = rel;
    }
    if (f->fp && win && !f->realign) {
        /* Win64 sets the frame register last, as rsp + k: k is a multiple
         * of 16 up to 240 (UNWIND_INFO's FrameOffset); 128 into the fixed
         * allocation as in Microsoft's prologue example, so rbp +- 127
         * covers its first 256 bytes with 8-bit displacements; rbp at the
         * top of a smaller allocation, nearest the parameters */
        uint32_t k = f->alloc & ~15u;
        if (k > 128)
            k = 128;
        if (k)
            jk_x86_lea(a, bpr(a), mem_sp(a, (int64_t)k, 0));
        else
            jk_x86_mov(a, bpr(a), spr(a));
        f->fp_cfa = (int32_t)(cur + f->alloc - k);
        step(r->steps, &r->nsteps, since(a, start), JK_CFA_DEF, 5, f->fp_cfa);
    }
    r->prologue_size = since(a, start);
    r->body_cfa_reg = f->fp ? 5 : 4;
    r->body_cfa_off = f->fp ? f->fp_cfa : (int32_t)f->frame_size;
    f->started = jk_x86_status(a) == JK_OK;
    return jk_x86_status(a);
}

static jk_status check_frame(jk_x86_asm *a, const jk_x86_frame *f, const char *what)
{
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (!f || !f->started)
        return jk__code_fail(&a->code, JK_EINVAL, "%s: no prologue was emitted for this frame",
                             what);
    if (f->mode != a->mode)
        return jk__code_fail(&a->code, JK_EINVAL, "%s: the frame is for %d-bit code", what,
                             f->mode == JK_X86_MODE64 ? 64 : 32);
    return JK_OK;
}

jk_status jk_x86_epilogue(jk_x86_asm *a, jk_x86_frame *f)
{
    jk_status s = check_frame(a, f, "epilogue");
    jk_frame_epilogue scratch, *ep;
    unsigned W, i;
    uint32_t cur;
    size_t start;
    if (s != JK_OK)
        return s;
    if (f->rec.nepilogues >= JK_FRAME_MAX_EPILOGUES)
        return jk__code_fail(&a->code, JK_ERANGE,
                             "epilogue: more than %d epilogues in one frame (branch to one)",
                             JK_FRAME_MAX_EPILOGUES);
    ep = &f->rec.epilogues[f->rec.nepilogues];
    memset(&scratch, 0, sizeof scratch);
    W = f->word;
    scratch.start = jk_x86_label(a, NULL);
    jk_x86_bind(a, scratch.start);
    start = jk_x86_offset(a);
    cur = W + f->push_bytes;
    for (i = 0; i < f->nvec; i++) {
        emit2n(a, "movaps", xmm(f->saved_vecs[i]), mem_sp(a, f->vec_off + 16 * i, 16));
        step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_RESTORE,
             16u + f->saved_vecs[i], 0);
    }
    if (f->realign || (f->fp && f->layout.abi == JK_ABI_WIN64)) {
        /* rsp back to the pushes through the frame pointer: lea rsp,
         * [rbp + d] is also the form Windows recognises as the start of an
         * epilogue in a function with a frame register */
        jk_x86_lea(a, spr(a), jk_x86_mem(0, bpr(a), JK_NOREG, 1,
                                         (int64_t)f->fp_cfa - (int64_t)cur));
    } else if (f->alloc) {
        jk_x86_add(a, spr(a), jk_imm(f->alloc));
        if (!f->fp)
            step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)cur);
    }
    for (i = f->nsaved; i-- > 0;) {
        unsigned reg = f->saved_regs[i];
        jk_x86_pop(a, gpr(reg, W));
        cur -= W;
        if (!f->fp)
            step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)cur);
        step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_RESTORE, reg, 0);
    }
    if (f->fp) {
        jk_x86_pop(a, bpr(a));
        step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_DEF, 4, (int32_t)W);
        step(scratch.steps, &scratch.nsteps, since(a, start), JK_CFA_RESTORE, 5, 0);
    }
    if (f->layout.callee_pops)
        jk_x86_ret1(a, jk_imm(f->layout.callee_pops));
    else
        jk_x86_ret(a);
    scratch.size = since(a, start);
    s = jk_x86_status(a);
    if (s == JK_OK) {
        *ep = scratch;
        f->rec.nepilogues++;
    }
    return s;
}

/* CFA + off as the body sees it. */
static jk_x86_op cfa_mem(const jk_x86_frame *f, int32_t off, unsigned size)
{
    unsigned W = f->word;
    if (f->fp)
        return jk_x86_mem(size, gpr(5, W), JK_NOREG, 1, (int64_t)f->fp_cfa + off);
    return jk_x86_mem(size, gpr(4, W), JK_NOREG, 1, (int64_t)f->frame_size + off);
}

jk_status jk_x86_frame_param(const jk_x86_frame *f, unsigned i, jk_x86_op *where)
{
    const jk_loc *l;
    if (!f || !where || !f->started || i >= f->desc.sig.nparams)
        return JK_EINVAL;
    l = &f->layout.params[i];
    if (l->kind == JK_LOC_STACK) {
        *where = cfa_mem(f, l->offset, l->flags & JK_LOC_BYREF ? f->word : l->size);
        return JK_OK;
    }
    return jk_x86_loc_op(f->mode, l, where);
}

jk_status jk_x86_frame_home(const jk_x86_frame *f, unsigned i, jk_x86_op *where)
{
    if (!f || !where || !f->started || i >= f->desc.sig.nparams ||
        !(f->layout.params[i].flags & JK_LOC_HOME))
        return JK_EINVAL;
    *where = cfa_mem(f, f->layout.params[i].offset, 8);
    return JK_OK;
}

jk_status jk_x86_frame_local(const jk_x86_frame *f, uint32_t off, unsigned size,
                             jk_x86_op *where)
{
    if (!f || !where || !f->started)
        return JK_EINVAL;
    if (off > f->desc.local_size || size > f->desc.local_size - off)
        return JK_ERANGE;
    *where = jk_x86_mem(size, gpr(4, f->word), JK_NOREG, 1, (int64_t)f->locals_off + off);
    return JK_OK;
}

/* -- Calls ------------------------------------------------------------------- */

/* A location in the register file of a move: 0..15 general, 16..31 xmm. */
#define LOC_XMM 16u

typedef struct move {
    jk_x86_op src;
    uint8_t dst;      /* location */
    uint8_t type;     /* jk_type of the argument */
    uint8_t dup;      /* Win64 variadic float copied into a general register */
    uint8_t lea;      /* the address of src (Win64 by-reference vectors) */
    uint8_t done;
} move;

static int is_gp_class(unsigned rc)
{
    return rc == JK_X86_RC_GP8 || rc == JK_X86_RC_GP8HI || rc == JK_X86_RC_GP16 ||
           rc == JK_X86_RC_GP32 || rc == JK_X86_RC_GP64;
}

/* Locations an operand reads (bit mask over 0..31). */
static uint32_t reads(const jk_x86_op *o)
{
    uint32_t m = 0;
    if (o->kind == JK_X86_OP_REG) {
        if (is_gp_class(o->rclass))
            m |= 1u << (o->reg & 15);
        else if ((o->rclass == JK_X86_RC_XMM || o->rclass == JK_X86_RC_YMM) && o->reg < 16)
            m |= 1u << (LOC_XMM + o->reg);
    } else if (o->kind == JK_X86_OP_MEM) {
        if (o->reg != JK_X86_NOREGNUM && is_gp_class(o->rclass))
            m |= 1u << (o->reg & 15);
        if (o->index != JK_X86_NOREGNUM && is_gp_class(o->iclass))
            m |= 1u << (o->index & 15);
    }
    return m;
}

/* Replace location `from` by `to` in what the operand reads. */
static void rewrite(jk_x86_op *o, unsigned from, unsigned to)
{
    if (o->kind == JK_X86_OP_REG) {
        if (from >= LOC_XMM) {
            if ((o->rclass == JK_X86_RC_XMM || o->rclass == JK_X86_RC_YMM) &&
                o->reg == from - LOC_XMM)
                o->reg = (uint8_t)(to - LOC_XMM);
        } else if (is_gp_class(o->rclass) && o->reg == from) {
            o->reg = (uint8_t)to;
        }
    } else if (o->kind == JK_X86_OP_MEM && from < LOC_XMM) {
        if (o->reg == from && is_gp_class(o->rclass))
            o->reg = (uint8_t)to;
        if (o->index == from && is_gp_class(o->iclass))
            o->index = (uint8_t)to;
    }
}

/* Integer value of an immediate as the type sees it (sign- or zero-extended
 * from its width); 0 when it does not fit. */
static int imm_fits(jk_type t, unsigned size, int64_t v, int64_t *out)
{
    if (size >= 8) {
        *out = v;
        return 1;
    } else {
        unsigned bits = size * 8;
        int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << bits) - 1;
        uint64_t mask = ((uint64_t)1 << bits) - 1, u;
        if (v < lo || v > hi)
            return 0;
        u = (uint64_t)v & mask;
        if (is_signed(t) && (u >> (bits - 1)))
            u |= ~mask;
        *out = (int64_t)u;
        return 1;
    }
}

/* The 32-bit immediate of a value already extended to its type. */
static jk_x86_op imm32(int64_t v) { return jk_x86_imm((int64_t)(int32_t)(uint32_t)v); }

/* Check and normalize argument i's source for type t (in place). */
static jk_status check_src(jk_x86_asm *a, unsigned i, jk_type t, jk_x86_op *o)
{
    unsigned W = wordof(a), sz = type_size(t, W);
    const char *tn = type_name(t);
    if (is_vec(t)) {
        jk_x86_rclass rc = t == JK_TYPE_V256 ? JK_X86_RC_YMM : JK_X86_RC_XMM;
        if (o->kind == JK_X86_OP_REG && o->rclass == rc && o->reg < a->nregs)
            return JK_OK;
        if (o->kind == JK_X86_OP_MEM) {
            if (o->size == 0)
                o->size = (uint8_t)sz;
            if (o->size == sz)
                return JK_OK;
        }
        return jk__code_fail(&a->code, JK_EINVAL,
                             "call: argument %u (%s) needs %s register or a %u-byte memory "
                             "operand", i, tn, t == JK_TYPE_V256 ? "a ymm" : "an xmm", sz);
    }
    switch (o->kind) {
    case JK_X86_OP_REG:
        if (is_float(t)) {
            if (o->rclass != JK_X86_RC_XMM || o->reg >= 16)
                return jk__code_fail(&a->code, JK_EINVAL,
                                     "call: argument %u (%s) needs an xmm register, memory or "
                                     "an immediate bit pattern", i, tn);
            return JK_OK;
        }
        if (o->rclass == JK_X86_RC_GP8HI)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): ah..bh cannot be argument sources", i,
                                 tn);
        if (!is_gp_class(o->rclass))
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s) needs a general register of at least "
                                 "%u bytes, memory, an immediate or a label", i, tn, sz);
        if (o->reg >= a->nregs)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): register number %u in %d-bit code", i,
                                 tn, (unsigned)o->reg, (int)W * 8);
        if (o->size < sz)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): the register has %u bytes, the type "
                                 "needs %u", i, tn, (unsigned)o->size, sz);
        if (sz > W)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s) in 32-bit code needs a memory or "
                                 "immediate source", i, tn);
        if (sz == 1 && W == 4 && o->reg >= 4)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): the low byte of register %u has no "
                                 "name in 32-bit code", i, tn, (unsigned)o->reg);
        *o = gpr(o->reg, sz);
        return JK_OK;
    case JK_X86_OP_MEM:
        if (o->size == 0)
            o->size = (uint8_t)sz;
        if (o->size != sz)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): a %u-byte memory operand for a "
                                 "%u-byte type", i, tn, (unsigned)o->size, sz);
        return JK_OK;
    case JK_X86_OP_IMM: {
        int64_t v = o->value;
        if (is_float(t) ? (sz == 4 && (v < 0 || v > 0xffffffffLL)) : !imm_fits(t, sz, v, &v))
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): immediate %lld does not fit", i, tn,
                                 (long long)o->value);
        if (!is_float(t))
            o->value = v;
        return JK_OK;
    }
    case JK_X86_OP_LABEL:
        if (is_float(t) || sz != W)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u (%s): a label address needs a "
                                 "pointer-sized integer type", i, tn);
        return JK_OK;
    default:
        return jk__code_fail(&a->code, JK_EINVAL, "call: argument %u (%s): no operand", i, tn);
    }
}

/* Load an integer source into general register r (32-bit for types up to
 * 4 bytes, extended; else the word). */
static void load_gp(jk_x86_asm *a, unsigned r, jk_type t, const jk_x86_op *src)
{
    unsigned sz = type_size(t, wordof(a));
    if (src->kind == JK_X86_OP_IMM) {
        if (sz <= 4)
            jk_x86_mov(a, gpr(r, 4), imm32(src->value));
        else
            jk_x86_mov(a, gpr(r, 8), *src);
    } else if (sz < 4) {
        emit2(a, is_signed(t) ? JK_X86_MOVSX : JK_X86_MOVZX, gpr(r, 4), *src);
    } else if (src->kind == JK_X86_OP_REG && src->reg == r) {
        /* already there */
    } else {
        jk_x86_mov(a, gpr(r, sz <= 4 ? 4 : sz), *src);
    }
}

/* Load a float source's bits into general register r (Win64 variadic
 * duplicates, memory-to-stack copies). */
static void load_gp_bits(jk_x86_asm *a, unsigned r, jk_type t, const jk_x86_op *src)
{
    unsigned sz = t == JK_TYPE_F32 ? 4u : 8u;
    if (src->kind == JK_X86_OP_REG)
        emit2n(a, sz == 4 ? "movd" : "movq", gpr(r, sz), *src);
    else
        jk_x86_mov(a, gpr(r, sz), *src);
}

static void load_xmm(jk_x86_asm *a, unsigned x, jk_type t, const jk_x86_op *src)
{
    const char *mn = t == JK_TYPE_F32 ? "movss" : "movsd";
    unsigned sz = t == JK_TYPE_F32 ? 4u : 8u;
    if (src->kind == JK_X86_OP_IMM) {
        uint8_t bits[8];
        uint64_t v = (uint64_t)src->value;
        unsigned k;
        jk_label c;
        for (k = 0; k < 8; k++)
            bits[k] = (uint8_t)(v >> (8 * k));
        c = jk_x86_const(a, bits, sz, sz);
        if (c)
            emit2n(a, mn, xmm(x), jk_x86_mem_label(sz, c, 0));
    } else if (src->kind == JK_X86_OP_REG && src->reg == x) {
        /* already there */
    } else {
        emit2n(a, mn, xmm(x), *src);
    }
}

/* Vector moves: whole registers aligned, memory unaligned (a source's
 * alignment is not known; the psABIs align only the stack slots). V128
 * uses the SSE forms, so it needs no AVX. */
static void vec_move(jk_x86_asm *a, jk_type t, jk_x86_op d, jk_x86_op s)
{
    int y = t == JK_TYPE_V256;
    int regs = d.kind == JK_X86_OP_REG && s.kind == JK_X86_OP_REG;
    if (regs && d.reg == s.reg)
        return;
    emit2n(a, y ? (regs ? "vmovaps" : "vmovups") : (regs ? "movaps" : "movups"), d, s);
}

static jk_x86_op vreg(jk_type t, unsigned n)
{
    return jk_x86_reg(t == JK_TYPE_V256 ? JK_X86_RC_YMM : JK_X86_RC_XMM, n);
}

/* A vector argument to [sp + off] (a stack slot or a Win64 copy); vscr is
 * a free vector register for memory sources. */
static void store_vec(jk_x86_asm *a, jk_type t, const jk_x86_op *src, int32_t off, unsigned vscr)
{
    unsigned sz = type_size(t, wordof(a));
    jk_x86_op slot = mem_sp(a, off, sz);
    if (src->kind == JK_X86_OP_REG) {
        vec_move(a, t, slot, *src);
    } else {
        vec_move(a, t, vreg(t, vscr), *src);
        vec_move(a, t, slot, vreg(t, vscr));
    }
}

/* Store argument source to the stack slot at [sp + off]; scr is a free
 * general register. */
static void store_stack(jk_x86_asm *a, jk_type t, const jk_x86_op *src, int32_t off,
                        unsigned scr)
{
    unsigned W = wordof(a), sz = type_size(t, W);
    jk_x86_op slot = mem_sp(a, off, sz <= 4 ? 4 : sz);
    if (is_float(t)) {
        if (src->kind == JK_X86_OP_REG) {
            emit2n(a, t == JK_TYPE_F32 ? "movss" : "movsd", mem_sp(a, off, sz), *src);
        } else if (src->kind == JK_X86_OP_IMM) {
            uint64_t v = (uint64_t)src->value;
            jk_x86_mov(a, mem_sp(a, off, 4), imm32((int64_t)(uint32_t)v));
            if (sz == 8)
                jk_x86_mov(a, mem_sp(a, off + 4, 4), imm32((int64_t)(uint32_t)(v >> 32)));
        } else if (sz == 8 && W == 8) {
            jk_x86_mov(a, gpr(scr, 8), *src);
            jk_x86_mov(a, slot, gpr(scr, 8));
        } else {
            unsigned k;
            for (k = 0; k < sz; k += 4) {
                jk_x86_mov(a, gpr(scr, 4), mem_plus(*src, (int32_t)k, 4));
                jk_x86_mov(a, mem_sp(a, off + (int32_t)k, 4), gpr(scr, 4));
            }
        }
        return;
    }
    if (sz > W) { /* 64-bit integer in 32-bit code: immediate or memory */
        if (src->kind == JK_X86_OP_IMM) {
            uint64_t v = (uint64_t)src->value;
            jk_x86_mov(a, mem_sp(a, off, 4), imm32((int64_t)(uint32_t)v));
            jk_x86_mov(a, mem_sp(a, off + 4, 4), imm32((int64_t)(uint32_t)(v >> 32)));
        } else {
            jk_x86_mov(a, gpr(scr, 4), mem_plus(*src, 0, 4));
            jk_x86_mov(a, mem_sp(a, off, 4), gpr(scr, 4));
            jk_x86_mov(a, gpr(scr, 4), mem_plus(*src, 4, 4));
            jk_x86_mov(a, mem_sp(a, off + 4, 4), gpr(scr, 4));
        }
        return;
    }
    if (src->kind == JK_X86_OP_REG && sz >= 4) {
        jk_x86_mov(a, slot, *src);
    } else if (src->kind == JK_X86_OP_IMM && (sz <= 4 || src->value == (int32_t)src->value)) {
        jk_x86_mov(a, slot, sz <= 4 ? imm32(src->value) : *src);
    } else {
        load_gp(a, scr, t, src);
        jk_x86_mov(a, slot, gpr(scr, sz <= 4 ? 4 : sz));
    }
}

/* Whether store_stack needs its scratch register for this source. */
static int stack_needs_scratch(jk_type t, const jk_x86_op *src, unsigned W)
{
    switch (src->kind) {
    case JK_X86_OP_MEM:
    case JK_X86_OP_LABEL:
        return 1;
    case JK_X86_OP_REG:
        return !is_float(t) && type_size(t, W) < 4;
    case JK_X86_OP_IMM:
        return !is_float(t) && type_size(t, W) == 8 && W == 8 &&
               src->value != (int32_t)src->value;
    default:
        return 0;
    }
}

static void emit_move(jk_x86_asm *a, const move *m)
{
    jk_type t = (jk_type)m->type;
    if (m->lea)
        jk_x86_lea(a, gpr(m->dst, wordof(a)), m->src);
    else if (m->dst >= LOC_XMM && is_vec(t))
        vec_move(a, t, vreg(t, m->dst - LOC_XMM), m->src);
    else if (m->dst >= LOC_XMM)
        load_xmm(a, m->dst - LOC_XMM, t, &m->src);
    else if (m->dup)
        load_gp_bits(a, m->dst, t, &m->src);
    else
        load_gp(a, m->dst, t, &m->src);
}

/* First register of cand[] (general locations) not in busy; 0xff if none. */
static unsigned pick(const uint8_t *cand, unsigned n, uint32_t busy)
{
    unsigned k;
    for (k = 0; k < n; k++)
        if (!(busy >> cand[k] & 1u))
            return cand[k];
    return 0xffu;
}

jk_status jk_x86_call_abi(jk_x86_asm *a, const jk_x86_frame *f, const jk_sig *sig,
                          jk_x86_op target, unsigned nargs, const jk_x86_op *args)
{
    static const uint8_t cand64[3] = {11, 10, 0}, cand32[3] = {0, 2, 1};
    static const uint8_t xcand_sysv[8] = {15, 14, 13, 12, 11, 10, 9, 8}, xcand_win[2] = {5, 4};
    static const uint8_t xcand_32[5] = {7, 6, 5, 4, 3};
    jk_status s = check_frame(a, f, "call");
    jk_call_layout L;
    jk_error e;
    move mv[2 * JK_SIG_MAX_PARAMS];
    jk_x86_op src[JK_SIG_MAX_PARAMS];
    unsigned nmv = 0, i, W, bits, tscr = 0xffu, scr, vscr = 0xffu, wide = 0;
    uint32_t busy = 0, dests = 0, need;
    const uint8_t *cand;
    int direct_target = 0;
    if (s != JK_OK)
        return s;
    W = f->word;
    bits = W * 8;
    cand = W == 8 ? cand64 : cand32;
    if (f->leaf)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "call: the frame was described as a leaf (JK_FRAME_LEAF)");
    if (jk_abi_layout(sig, bits, &L, &e) != JK_OK)
        return jk__code_fail(&a->code, JK_EINVAL, "call: %s", e.message);
    if (nargs != sig->nparams || (nargs && !args))
        return jk__code_fail(&a->code, JK_EINVAL, "call: %u arguments for %u parameters",
                             nargs, sig->nparams);
    if (f->layout.abi == JK_ABI_WIN64 && L.abi == JK_ABI_SYSV64 &&
        ((f->desc.saved & WIN_OVER_SYSV) != WIN_OVER_SYSV ||
         (f->desc.saved_vec & WIN_OVER_SYSV_VEC) != WIN_OVER_SYSV_VEC))
        return jk__code_fail(&a->code, JK_EINVAL,
                             "call: a sysv64 callee may clobber rsi, rdi and xmm6-xmm15, which "
                             "this win64 function must preserve: add them to jk_frame_desc.saved "
                             "and saved_vec (jk_frame_reserve_call does)");
    need = L.stack_bytes;
    if (need > f->call_area)
        return jk__code_fail(&a->code, JK_EINVAL,
                             "call: needs %u bytes of stack arguments%s; the frame reserves %u: "
                             "raise jk_frame_desc.call_args (jk_frame_reserve_call)",
                             need, L.abi == JK_ABI_WIN64 ? " (with shadow space)" : "",
                             f->call_area);
    if (L.stack_align > 16 && !(f->realign && f->desc.local_align >= L.stack_align))
        return jk__code_fail(&a->code, JK_EINVAL,
                             "call: a v256 argument on the stack needs the stack pointer "
                             "%u-byte aligned at the call: give the frame local_align %u "
                             "(with JK_FRAME_FP)", L.stack_align, L.stack_align);
    for (i = 0; i < nargs; i++) {
        if (sig->params[i] == JK_TYPE_V256)
            wide = 1; /* cycles are broken with whole-ymm copies */
        src[i] = args[i];
        s = check_src(a, i, sig->params[i], &src[i]);
        if (s != JK_OK)
            return s;
        busy |= reads(&src[i]);
        if (L.params[i].kind == JK_LOC_GP)
            dests |= 1u << L.params[i].reg;
        else if (L.params[i].kind == JK_LOC_VEC)
            dests |= 1u << (LOC_XMM + L.params[i].reg);
        if (L.params[i].flags & JK_LOC_DUP_GP)
            dests |= 1u << L.params[i].reg2;
    }

    /* the target: direct (label, immediate) or through a register that no
     * argument move can overwrite */
    if (L.abi == JK_ABI_SYSV64 && sig->varargs)
        dests |= 1u; /* al is set after the moves */
    if (target.kind == JK_X86_OP_REG) {
        uint32_t r = reads(&target);
        if (!is_gp_class(target.rclass) || target.size != W)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: the target register must be a %u-byte general register",
                                 W);
        direct_target = !(r & dests);
        if (direct_target)
            busy |= r;
    } else if (target.kind == JK_X86_OP_MEM) {
        if (target.size && target.size != W)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: the target memory operand must be %u bytes", W);
        target.size = (uint8_t)W;
    } else if (target.kind != JK_X86_OP_LABEL && target.kind != JK_X86_OP_IMM) {
        return jk__code_fail(&a->code, JK_EINVAL, "call: no target");
    }
    if ((target.kind == JK_X86_OP_REG && !direct_target) || target.kind == JK_X86_OP_MEM) {
        tscr = pick(cand, 3, busy | dests);
        if (tscr == 0xffu)
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: no free scratch register for the target (the "
                                 "arguments use all of %s)", W == 8 ? "r11, r10, rax"
                                                                    : "eax, edx, ecx");
        jk_x86_mov(a, gpr(tscr, W), target);
        busy |= 1u << tscr;
    }

    /* stack arguments and Win64's vector copies: they write no register
     * but the scratch ones */
    scr = pick(cand, 3, busy | dests);
    for (i = 0; i < nargs; i++) {
        jk_type t = sig->params[i];
        const jk_loc *l = &L.params[i];
        if (is_vec(t) && (l->kind == JK_LOC_STACK || (l->flags & JK_LOC_BYREF))) {
            if (src[i].kind == JK_X86_OP_MEM && vscr == 0xffu) {
                uint32_t xb = (busy | dests) >> LOC_XMM;
                vscr = L.abi == JK_ABI_WIN64 ? pick(xcand_win, 2, xb)
                     : W == 8 ? pick(xcand_sysv, 8, xb) : pick(xcand_32, 5, xb);
                if (vscr == 0xffu)
                    return jk__code_fail(&a->code, JK_EINVAL,
                                         "call: argument %u: no free vector scratch register to "
                                         "copy it to the stack", i);
            }
            if (!(l->flags & JK_LOC_BYREF)) {
                store_vec(a, t, &src[i], l->offset, vscr);
                continue;
            }
            store_vec(a, t, &src[i], l->copy, vscr);
            if (l->kind == JK_LOC_STACK) {
                if (scr == 0xffu)
                    return jk__code_fail(&a->code, JK_EINVAL,
                                         "call: argument %u: no free scratch register for its "
                                         "address", i);
                jk_x86_lea(a, gpr(scr, W), mem_sp(a, l->copy, 0));
                jk_x86_mov(a, mem_sp(a, l->offset, W), gpr(scr, W));
            }
            continue;
        }
        if (l->kind != JK_LOC_STACK)
            continue;
        if (scr == 0xffu && stack_needs_scratch(sig->params[i], &src[i], W))
            return jk__code_fail(&a->code, JK_EINVAL,
                                 "call: argument %u: no free scratch register to copy it to "
                                 "the stack", i);
        store_stack(a, sig->params[i], &src[i], L.params[i].offset, scr);
    }

    /* register arguments: a parallel move */
    for (i = 0; i < nargs; i++) {
        const jk_loc *l = &L.params[i];
        if (l->kind == JK_LOC_STACK)
            continue;
        mv[nmv].src = src[i];
        mv[nmv].type = (uint8_t)sig->params[i];
        mv[nmv].dup = 0;
        mv[nmv].lea = 0;
        mv[nmv].done = 0;
        if (l->flags & JK_LOC_BYREF) { /* lea reg, [rsp + copy] */
            mv[nmv].src = mem_sp(a, l->copy, 0);
            mv[nmv].lea = 1;
        }
        mv[nmv++].dst = (uint8_t)(l->kind == JK_LOC_VEC ? LOC_XMM + l->reg : l->reg);
        if (l->flags & JK_LOC_DUP_GP) {
            mv[nmv] = mv[nmv - 1];
            mv[nmv].dup = 1;
            mv[nmv++].dst = l->reg2;
        }
    }
    {
        unsigned left = nmv;
        uint32_t scratch_busy = busy | dests;
        while (left && jk_x86_status(a) == JK_OK) {
            unsigned k, j, progress = 0;
            for (k = 0; k < nmv; k++) {
                uint32_t readers = 0;
                if (mv[k].done)
                    continue;
                for (j = 0; j < nmv; j++)
                    if (j != k && !mv[j].done)
                        readers |= reads(&mv[j].src);
                if (readers >> mv[k].dst & 1u)
                    continue;
                emit_move(a, &mv[k]);
                mv[k].done = 1;
                left--;
                progress = 1;
            }
            if (!progress) {
                /* a cycle: free the first pending destination */
                unsigned d = 0, sreg;
                for (k = 0; k < nmv; k++)
                    if (!mv[k].done) {
                        d = mv[k].dst;
                        break;
                    }
                if (d >= LOC_XMM) {
                    uint32_t xb = scratch_busy >> LOC_XMM;
                    sreg = L.abi == JK_ABI_WIN64 ? pick(xcand_win, 2, xb)
                         : W == 8 ? pick(xcand_sysv, 8, xb) : pick(xcand_32, 5, xb);
                    if (sreg == 0xffu)
                        return jk__code_fail(&a->code, JK_EINVAL,
                                             "call: no free xmm scratch register to break a "
                                             "cycle of argument moves");
                    if (wide)
                        emit2n(a, "vmovaps", jk_x86_reg(JK_X86_RC_YMM, sreg),
                               jk_x86_reg(JK_X86_RC_YMM, d - LOC_XMM));
                    else
                        emit2n(a, "movaps", xmm(sreg), xmm(d - LOC_XMM));
                    sreg += LOC_XMM;
                } else {
                    sreg = pick(cand, 3, scratch_busy);
                    if (sreg == 0xffu)
                        return jk__code_fail(&a->code, JK_EINVAL,
                                             "call: no free scratch register to break a cycle "
                                             "of argument moves");
                    jk_x86_mov(a, gpr(sreg, W), gpr(d, W));
                }
                scratch_busy |= 1u << sreg;
                for (j = 0; j < nmv; j++)
                    if (!mv[j].done && j != k)
                        rewrite(&mv[j].src, d, sreg);
            }
        }
    }

    if (L.abi == JK_ABI_SYSV64 && sig->varargs)
        jk_x86_mov(a, JK_EAX, jk_imm(L.vec_count));

    if (tscr != 0xffu) {
        jk_x86_call(a, gpr(tscr, W));
    } else if (target.kind == JK_X86_OP_IMM) {
        /* a host address: call rel32 where the code lands within reach,
         * else through a slot after the code (decided at install) */
        jk_label l = jk_x86_label_abs(a, W == 8 ? (uint64_t)target.value
                                                : (uint64_t)(uint32_t)target.value);
        if (l)
            jk_x86_call(a, jk_lbl(l));
    } else {
        jk_x86_call(a, target);
    }
    if (L.callee_pops)
        jk_x86_sub(a, spr(a), jk_imm(L.callee_pops));
    return jk_x86_status(a);
}
