/*
 * x86/asm.c - the x86 assembler object around the generic encoder: life
 * cycle, prefixes, labels, data, alignment with multi-byte NOPs, constant
 * pool, finish, copy and install. The layout work is done by the
 * architecture-neutral core (core/code.c); this file adds what is x86:
 * the NOP filler and the mode.
 */
#include "x86/x86_p.h"
#include "x86/x86_front.h"
#include "mem/heap_p.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* -- NOPs --------------------------------------------------------------- */

/* Padding as GNU as 2.40 writes it (its default tuning), so aligned code
 * comes out byte-identical. 64-bit mode: the SDM's recommended NOPs of 1..9
 * bytes and GNU's 10- and 11-byte ones (66 / 66 66 2e before the 9-byte
 * form's 0f 1f 84); 32-bit mode: its i386 sequences of at most 7 bytes
 * (lea esi, [esi+eiz*1+0]...). Long pads are NOPs of the longest size,
 * then one of the remainder; a pad that would need more than `maxnops`
 * longest NOPs starts with a jmp over the rest (rel8, else rel32). */
static const uint8_t nop64[11 * 11] = { /* row k-1: the k-byte NOP */
    0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x66, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x0F, 0x1F, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
    0x0F, 0x1F, 0x40, 0x00, 0, 0, 0, 0, 0, 0, 0,
    0x0F, 0x1F, 0x44, 0x00, 0x00, 0, 0, 0, 0, 0, 0,
    0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00, 0, 0, 0, 0, 0,
    0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0,
    0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0, 0,
    0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0,
    0x66, 0x2E, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0,
    0x66, 0x66, 0x2E, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t nop32[7 * 7] = { /* row k-1: the k-byte NOP */
    0x90, 0, 0, 0, 0, 0, 0,
    0x66, 0x90, 0, 0, 0, 0, 0,
    0x8D, 0x76, 0x00, 0, 0, 0, 0,
    0x8D, 0x74, 0x26, 0x00, 0, 0, 0,
    0x8D, 0x74, 0x26, 0x00, 0x90, 0, 0,
    0x8D, 0xB6, 0x00, 0x00, 0x00, 0x00, 0,
    0x8D, 0xB4, 0x26, 0x00, 0x00, 0x00, 0x00,
};

static void fill_nops(uint8_t *dst, size_t n, const uint8_t *seq, size_t maxlen, size_t maxnops)
{
    if (n / maxlen > maxnops) {
        size_t skip = n - 2 <= 127 ? n - 2 : n - 5;
        if (n - 2 <= 127) {
            *dst++ = 0xEB;
            *dst++ = (uint8_t)skip;
        } else {
            *dst++ = 0xE9;
            jk__put_le32(dst, (uint32_t)skip);
            dst += 4;
        }
        n = skip;
    }
    while (n) {
        size_t k = n > maxlen ? maxlen : n;
        memcpy(dst, seq + (k - 1) * maxlen, k);
        dst += k;
        n -= k;
    }
}

static void fill_nops64(uint8_t *dst, size_t n) { fill_nops(dst, n, nop64, 11, 7); }
static void fill_nops32(uint8_t *dst, size_t n) { fill_nops(dst, n, nop32, 7, 2); }

static void fill_nops_mode(const jk_x86_asm *a, uint8_t *dst, size_t n)
{
    (a->mode == JK_X86_MODE64 ? fill_nops64 : fill_nops32)(dst, n);
}

/* -- Far calls -------------------------------------------------------------- */

/* The far form of a call, jmp or jcc rel32 whose target a copy found out of
 * reach: through an 8-byte slot after the code that holds the address.
 *     call rel32  ->  call [rip+slot]        FF 15 disp32
 *     jmp rel32   ->  jmp [rip+slot]         FF 25 disp32
 *     jcc rel32   ->  j!cc +6; jmp [rip+slot]  7x 06 FF 25 disp32 */
static unsigned far_form(uint8_t *dst, const uint8_t *lf)
{
    uint8_t b[8];
    unsigned n = 0;
    if (lf[0] == 2) { /* 0F 8x: the short jcc of the opposite condition */
        b[n++] = (uint8_t)(0x70 | ((lf[2] & 15u) ^ 1u));
        b[n++] = 6;
    }
    b[n++] = 0xFF;
    b[n++] = lf[0] == 1 && lf[1] == 0xE8 ? 0x15 : 0x25;
    memset(b + n, 0, 4);
    n += 4;
    if (dst)
        memcpy(dst, b, n);
    return n;
}

/* -- Life cycle ------------------------------------------------------------ */

_Static_assert(offsetof(jk_x86_asm, code) == 0, "jk_x86_new zeroes what follows the code");

jk_status jk_x86_new(jk_x86_asm **out, jk_x86_mode mode, jk_error *err)
{
    jk_x86_asm *a;
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_x86_new: NULL out");
    *out = NULL;
    if ((unsigned)mode >= JK_X86_MODE_COUNT)
        return jk__fail(err, JK_EINVAL, "jk_x86_new: bad mode %d", (int)mode);
    a = malloc(sizeof *a); /* code first: its init zeroes what it needs */
    if (!a)
        return jk__fail(err, JK_ENOMEM, "jk_x86_new: out of memory");
    jk__code_init(&a->code, mode == JK_X86_MODE64 ? 8u : 4u);
    memset((char *)a + sizeof a->code, 0, sizeof *a - sizeof a->code);
    a->mode = mode;
    if (mode == JK_X86_MODE64)
        a->code.far_fn = far_form; /* rel32 always reaches in 32-bit code */
    a->mode_excl = mode == JK_X86_MODE64 ? JK__F_X86 : JK__F_X64;
    a->addr_rc = mode == JK_X86_MODE64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32;
    a->nregs = mode == JK_X86_MODE64 ? 16 : 8;
    a->qkey = (uint32_t)mode << (4 * JK__SIG_BITS);
    a->qlabel = JK__C_REL | (mode == JK_X86_MODE32 ? JK__C_I32 : JK__C_I64) |
                (uint64_t)JK__SIG_LABEL << JK__Q_SIG_SHIFT;
    a->qreg = jk__x86_qreg[mode];
    a->features = JK_X86_FEAT_ALL;
    {
        int x64 = mode == JK_X86_MODE64;
        a->kz = x64 ? jk__x86_kz_x64 : jk__x86_kz_x86;
        a->kr = x64 ? jk__x86_kr_x64 : jk__x86_kr_x86;
        a->krr = x64 ? jk__x86_krr_x64 : jk__x86_krr_x86;
        a->kri = x64 ? jk__x86_kri_x64 : jk__x86_kri_x86;
        a->kri0 = x64 ? jk__x86_kri0_x64 : jk__x86_kri0_x86;
        a->krm = x64 ? jk__x86_krm_x64 : jk__x86_krm_x86;
        a->kmr = x64 ? jk__x86_kmr_x64 : jk__x86_kmr_x86;
        a->kl = x64 ? jk__x86_kl_x64 : jk__x86_kl_x86;
        /* disp32 in 64-bit mode; any 32-bit value, signed or not, in 32-bit mode */
        a->kdlim = mode == JK_X86_MODE64 ? 0xFFFFFFFFu : 0x17FFFFFFFu;
        uint64_t hi = (uint64_t)(0xFFu & ~(a->nregs - 1u)); /* number bits beyond the mode */
        a->kmask = 0xFFu | 0xF0u << 8 | 0xFFull << 16 | hi << 24 | 0xFFull << 56;
        a->kwant = JK_X86_OP_MEM | (uint64_t)a->addr_rc << 16;
        a->kxmask = 0xFFull << 32 | hi << 40 | 0xFCull << 48;
        a->kxwant = (uint64_t)a->addr_rc << 32;
    }
    if (jk__code_reserve(&a->code, 32)) { /* the quick path's gate needs 32 */
        jk__code_free(&a->code);
        free(a);
        return jk__fail(err, JK_ENOMEM, "jk_x86_new: out of memory");
    }
    *out = a;
    return JK_OK;
}

void jk_x86_free(jk_x86_asm *a)
{
    if (!a)
        return;
    jk__code_free(&a->code);
    free(a);
}

void jk_x86_reset(jk_x86_asm *a)
{
    if (!a)
        return;
    jk__code_reset(&a->code);
    jk__x86_set_pending(a, 0);
    a->why = NULL;
}

jk_status jk_x86_set_features(jk_x86_asm *a, uint32_t features)
{
    if (!a)
        return JK_EINVAL;
    a->features = features & JK_X86_FEAT_ALL;
    a->feat_hold = a->features != JK_X86_FEAT_ALL;
    jk__x86_set_pending(a, a->pending);
    return JK_OK;
}

uint32_t jk_x86_features_of(const jk_x86_asm *a)
{
    return a ? a->features : 0;
}

jk_x86_mode jk_x86_mode_of(const jk_x86_asm *a)
{
    return a ? a->mode : JK_X86_MODE_COUNT;
}

/* -- Mnemonics ------------------------------------------------------------- */

jk_x86_mnem jk_x86_mnem_find(const char *name)
{
    size_t lo = 0, hi = JK_X86_MNEM_COUNT;
    if (!name)
        return JK_X86_MNEM_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(jk__x86_mnem_names[jk__x86_mnem_sorted[mid]], name);
        if (c == 0)
            return (jk_x86_mnem)jk__x86_mnem_sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return JK_X86_MNEM_COUNT;
}

const char *jk_x86_mnem_name(jk_x86_mnem id)
{
    return (unsigned)id < JK_X86_MNEM_COUNT ? jk__x86_mnem_names[id] : "?";
}

jk_status jk_x86_emit_name(jk_x86_asm *a, const char *mnemonic, unsigned n, const jk_x86_op *ops)
{
    jk_x86_mnem id;
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (!mnemonic)
        return jk__code_fail(&a->code, JK_EINVAL, "emit: NULL mnemonic");
    id = jk_x86_mnem_find(mnemonic);
    if (id == JK_X86_MNEM_COUNT)
        return jk__code_fail(&a->code, JK_ENOFORM, "unknown mnemonic '%.40s'", mnemonic);
    return jk_x86_emit(a, id, n, ops);
}

/* -- Prefixes -------------------------------------------------------------- */

static jk_status pend(jk_x86_asm *a, unsigned bits, const char *name)
{
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (a->pending & bits & JK__PEND_LOCK)
        return jk__code_fail(&a->code, JK_EOPERAND, "%s: given twice", name);
    if ((bits & (JK__PEND_REP | JK__PEND_REPNE)) &&
        (a->pending & (JK__PEND_REP | JK__PEND_REPNE)))
        return jk__code_fail(&a->code, JK_EOPERAND, "%s: only one rep prefix per instruction", name);
    jk__x86_set_pending(a, a->pending | bits);
    return JK_OK;
}

jk_status jk_x86_lock(jk_x86_asm *a) { return pend(a, JK__PEND_LOCK, "lock"); }
jk_status jk_x86_rep(jk_x86_asm *a) { return pend(a, JK__PEND_REP, "rep"); }
jk_status jk_x86_repe(jk_x86_asm *a) { return pend(a, JK__PEND_REP | JK__PEND_REPE, "repe"); }
jk_status jk_x86_repne(jk_x86_asm *a) { return pend(a, JK__PEND_REPNE, "repne"); }

jk_status jk_x86_xacquire(jk_x86_asm *a)
{
    if (a && (a->pending & (JK__PEND_XACQ | JK__PEND_XREL)) && !a->code.err.status)
        return jk__code_fail(&a->code, JK_EOPERAND, "xacquire: only one HLE prefix");
    return pend(a, JK__PEND_XACQ, "xacquire");
}

jk_status jk_x86_xrelease(jk_x86_asm *a)
{
    if (a && (a->pending & (JK__PEND_XACQ | JK__PEND_XREL)) && !a->code.err.status)
        return jk__code_fail(&a->code, JK_EOPERAND, "xrelease: only one HLE prefix");
    return pend(a, JK__PEND_XREL, "xrelease");
}

jk_status jk_x86_addr32(jk_x86_asm *a)
{
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (a->mode != JK_X86_MODE64)
        return jk__code_fail(&a->code, JK_EOPERAND, "addr32: redundant in 32-bit mode");
    if (a->pending & JK__PEND_A32)
        return jk__code_fail(&a->code, JK_EOPERAND, "addr32: given twice");
    jk__x86_set_pending(a, a->pending | JK__PEND_A32);
    return JK_OK;
}

jk_status jk_x86_rex(jk_x86_asm *a, unsigned wrxb)
{
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (wrxb > 15)
        return jk__code_fail(&a->code, JK_EINVAL, "rex: bits 0x%x beyond W, R, X, B", wrxb);
    if (a->mode != JK_X86_MODE64)
        return jk__code_fail(&a->code, JK_EOPERAND, "rex: a REX prefix needs 64-bit mode");
    if (a->pending & JK__PEND_REX)
        return jk__code_fail(&a->code, JK_EOPERAND, "rex: only one REX prefix per instruction");
    jk__x86_set_pending(a, a->pending | JK__PEND_REX);
    a->pend_rex = (uint8_t)wrxb;
    return JK_OK;
}

jk_status jk_x86_hint(jk_x86_asm *a, unsigned hints)
{
    unsigned all = a ? a->pend_hint | hints : 0;
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (hints & ~(unsigned)JK_X86_HINT_ALL)
        return jk__code_fail(&a->code, JK_EINVAL, "hint: unknown bits 0x%x", hints);
    if (a->pend_hint & hints)
        return jk__code_fail(&a->code, JK_EOPERAND, "hint: a pseudo-prefix given twice");
    if ((all & JK_X86_HINT_VEX) && (all & JK_X86_HINT_VEX3))
        return jk__code_fail(&a->code, JK_EOPERAND, "hint: {vex} and {vex3} together");
    if ((all & JK_X86_HINT_DISP8) && (all & JK_X86_HINT_DISP32))
        return jk__code_fail(&a->code, JK_EOPERAND, "hint: {disp8} and {disp32} together");
    if (((all & JK_X86_HINT_LOAD) != 0) + ((all & JK_X86_HINT_STORE) != 0) +
            ((all & JK_X86_HINT_SWAP) != 0) > 1)
        return jk__code_fail(&a->code, JK_EOPERAND,
                             "hint: only one of {load}, {store} and the .s suffix");
    if (!hints)
        return JK_OK;
    jk__x86_set_pending(a, a->pending | JK__PEND_HINT);
    a->pend_hint = (uint8_t)all;
    return JK_OK;
}

/* -- Labels ---------------------------------------------------------------- */

jk_label jk_x86_label(jk_x86_asm *a, const char *name)
{
    return a ? jk__code_label(&a->code, name) : 0;
}

jk_status jk_x86_bind(jk_x86_asm *a, jk_label l)
{
    if (!a)
        return JK_EINVAL;
    if (a->pending)
        return jk__code_fail(&a->code, JK_ESTATE, "bind: a prefix is waiting for its instruction");
    return jk__code_bind(&a->code, l);
}

jk_label jk_x86_label_abs(jk_x86_asm *a, uint64_t address)
{
    return a ? jk__code_label_abs(&a->code, address) : 0;
}

jk_label jk_x86_label_extern(jk_x86_asm *a, const char *name)
{
    return a ? jk__code_label_extern(&a->code, name) : 0;
}

jk_label jk_x86_label_plus(jk_x86_asm *a, jk_label l, int64_t addend)
{
    return a ? jk__code_label_plus(&a->code, l, addend) : 0;
}

size_t jk__x86_long_branches(const jk_x86_asm *a, uint8_t *bits, size_t nbytes)
{
    return jk__code_long_branches(&a->code, bits, nbytes);
}

void jk__x86_keep_long(jk_x86_asm *a, const uint8_t *bits, size_t nbytes)
{
    jk__code_keep_long(&a->code, bits, nbytes);
}

jk_status jk_x86_set_resolver(jk_x86_asm *a, jk_x86_resolver fn, void *ctx)
{
    if (!a)
        return JK_EINVAL;
    a->code.resolve = fn;
    a->code.resolve_ctx = ctx;
    return JK_OK;
}

/* -- Data -------------------------------------------------------------------- */

static jk_status data_begin(jk_x86_asm *a)
{
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (a->pending)
        return jk__code_fail(&a->code, JK_ESTATE, "data: a prefix is waiting for its instruction");
    return JK_OK;
}

static jk_status data_end(jk_x86_asm *a, jk_status s)
{
    if (s == JK_OK)
        a->code.insn++;
    return s;
}

static jk_status put_le(jk_x86_asm *a, uint64_t v, unsigned n)
{
    uint8_t b[8];
    unsigned i;
    jk_status s = data_begin(a);
    if (s)
        return s;
    for (i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return data_end(a, jk__code_bytes(&a->code, b, n));
}

jk_status jk_x86_db(jk_x86_asm *a, const void *data, size_t size)
{
    jk_status s = data_begin(a);
    if (s)
        return s;
    return data_end(a, jk__code_bytes(&a->code, data, size));
}

jk_status jk_x86_dw(jk_x86_asm *a, uint16_t v) { return put_le(a, v, 2); }
jk_status jk_x86_dd(jk_x86_asm *a, uint32_t v) { return put_le(a, v, 4); }
jk_status jk_x86_dq(jk_x86_asm *a, uint64_t v) { return put_le(a, v, 8); }

jk_status jk_x86_dlabel(jk_x86_asm *a, jk_label l, int64_t addend)
{
    jk__code *c;
    unsigned n;
    size_t at;
    jk_status s = data_begin(a);
    if (s)
        return s;
    c = &a->code;
    if (jk__code_check_sym(c, l, "dlabel"))
        return c->err.status;
    n = c->addr_bytes;
    at = c->len;
    if (jk__code_bytes(c, "\0\0\0\0\0\0\0\0", n))
        return c->err.status;
    return data_end(a, jk__code_fix(c, n == 8 ? JK__FIX_ABS64 : JK__FIX_ABS32, at, at + n, l,
                                    addend));
}

jk_status jk_x86_align(jk_x86_asm *a, unsigned align)
{
    jk_status s = data_begin(a);
    if (s)
        return s;
    return data_end(a, jk__code_align(&a->code, align));
}

jk_status jk_x86_align_fill(jk_x86_asm *a, unsigned align, unsigned max_skip, int fill)
{
    jk_status s = data_begin(a);
    if (s)
        return s;
    if (fill < JK_X86_ALIGN_NOPS || fill > 255)
        return data_end(a, jk__code_fail(&a->code, JK_EINVAL,
                                         "align: fill %d is not a byte (0..255)", fill));
    if (max_skip > JK_X86_ALIGN_ANY)
        max_skip = JK_X86_ALIGN_ANY;
    return data_end(a, jk__code_align_ex(&a->code, align, max_skip, fill));
}

jk_status jk_x86_nops(jk_x86_asm *a, unsigned n)
{
    jk__code *c;
    jk_status s = data_begin(a);
    if (s)
        return s;
    c = &a->code;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot emit after finish");
    if (n > 4096)
        return jk__code_fail(c, JK_EINVAL, "nops: %u bytes is more than 4096", n);
    if (jk__code_reserve(c, n))
        return c->err.status;
    fill_nops_mode(a, c->buf + c->len, n);
    c->len += n;
    return data_end(a, JK_OK);
}

jk_label jk_x86_const(jk_x86_asm *a, const void *data, size_t size, unsigned align)
{
    return a ? jk__code_const(&a->code, data, size, align) : 0;
}

/* -- Finish and install ----------------------------------------------------- */

jk_status jk_x86_finish(jk_x86_asm *a, size_t *size)
{
    if (!a)
        return JK_EINVAL;
    if (a->pending && !a->code.err.status)
        return jk__code_fail(&a->code, JK_ESTATE, "finish: a prefix is waiting for its instruction");
    return jk__code_finish(&a->code, a->mode == JK_X86_MODE64 ? fill_nops64 : fill_nops32,
                           size);
}

jk_status jk_x86_copy(jk_x86_asm *a, void *dst, size_t cap, uint64_t runtime_addr)
{
    jk_status s;
    if (!a)
        return JK_EINVAL;
    s = jk_x86_finish(a, NULL);
    if (s)
        return s;
    return jk__code_copy(&a->code, dst, cap, runtime_addr);
}

jk_status jk_x86_install(jk_x86_asm *a, const jk_mem_options *opt, jk_mem **mem, void **entry)
{
    jk_mem *m = NULL;
    jk_error e;
    size_t size, need = 0;
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (!mem || !entry)
        return jk__code_fail(&a->code, JK_EINVAL, "install: NULL mem or entry");
    *mem = NULL;
    *entry = NULL;
    s = jk_x86_finish(a, &size);
    if (s)
        return s;
    /* a far call that does not reach from where the code lands grows it:
     * then again in a larger block (far items stay far, so this ends) */
    do {
        s = jk_mem_alloc(&m, need > size ? need : size ? size : 1, opt, &e);
        if (s)
            return jk__code_fail(&a->code, s, "install: %s", e.message);
        s = jk__code_copy_fit(&a->code, jk_mem_writable(m), jk_mem_size(m),
                              (uint64_t)(uintptr_t)jk_mem_exec(m), &need);
        if (s) {
            jk_mem_free(m, NULL);
            m = NULL;
        }
    } while (s == JK_ENOSPACE);
    if (s)
        return s;
    s = jk_mem_commit(m, &e);
    if (s) {
        jk_mem_free(m, NULL);
        return jk__code_fail(&a->code, s, "install: %s", e.message);
    }
    *mem = m;
    *entry = jk_mem_exec(m);
    return JK_OK;
}

/* jk__heap_install_with's writer: the image with its relocations for where
 * it lands (JK_ENOSPACE with *need when a far call grew it). */
static jk_status heap_write(void *ctx, void *wr, void *ex, size_t cap, size_t *need)
{
    jk_x86_asm *a = ctx;
    return jk__code_copy_fit(&a->code, wr, cap, (uint64_t)(uintptr_t)ex, need);
}

jk_status jk_x86_install_heap(jk_x86_asm *a, jk_heap *h, void **fn)
{
    jk_error e;
    size_t size;
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (!fn)
        return jk__code_fail(&a->code, JK_EINVAL, "install: NULL fn");
    *fn = NULL;
    s = jk_x86_finish(a, &size);
    if (s)
        return s;
    if (!h && (s = jk_heap_default(&h, &e)) != JK_OK)
        return jk__code_fail(&a->code, s, "install: %s", e.message);
    e.message[0] = '\0';
    s = jk__heap_install_with(h, size ? size : 1, heap_write, a, fn, &e);
    if (s != JK_OK && !a->code.err.status) /* the heap's error, not the copy's */
        return jk__code_fail(&a->code, s, "install: %s",
                             e.message[0] ? e.message : jk_status_str(s));
    return s;
}

jk_status jk_x86_label_offset(const jk_x86_asm *a, jk_label l, size_t *offset)
{
    if (!a || !offset)
        return JK_EINVAL;
    if (!a->code.finished)
        return JK_ESTATE;
    if (l == 0 || l >= a->code.nsyms || a->code.syms[l].kind != JK__SYM_LOCAL ||
        !a->code.syms[l].bound)
        return JK_ELABEL;
    *offset = a->code.syms[l].fin;
    return JK_OK;
}

size_t jk_x86_offset(const jk_x86_asm *a)
{
    return a ? a->code.len : 0;
}

/* -- Errors ------------------------------------------------------------------ */

jk_status jk_x86_status(const jk_x86_asm *a)
{
    return a ? a->code.err.status : JK_EINVAL;
}

const jk_error *jk_x86_error(const jk_x86_asm *a)
{
    static const jk_error none = {JK_EINVAL, 0, "NULL assembler"};
    return a ? &a->code.err : &none;
}

void jk_x86_error_where(const jk_x86_asm *a, size_t *index, size_t *offset)
{
    if (index)
        *index = a ? a->code.err_insn : 0;
    if (offset)
        *offset = a ? a->code.err_off : 0;
}

size_t jk_x86_insn_index(const jk_x86_asm *a)
{
    return a ? a->code.insn : 0;
}
