/*
 * a64/asm.c - the A64 assembler object around the encoder: life cycle,
 * mnemonic names, labels, data, alignment with nops, constant pool,
 * constant materialization, finish, copy and install. The layout work is
 * done by the architecture-neutral core (core/code.c) through the
 * jk__arch_ops of emit.c; this file adds what is A64: word-sized code, the
 * nop filler, movz/movn/movk sequences.
 */
#include "a64/a64_p.h"

#include <stdlib.h>
#include <string.h>

/* -- Filler ----------------------------------------------------------------- */

void jk__a64_fill(uint8_t *dst, size_t n)
{
    while (n % 4) {
        *dst++ = 0;
        n--;
    }
    for (; n; n -= 4, dst += 4)
        jk__put_le32(dst, 0xD503201Fu);
}

/* -- Life cycle ------------------------------------------------------------ */

jk_status jk_a64_new(jk_a64_asm **out, jk_error *err)
{
    jk_a64_asm *a;
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_a64_new: NULL out");
    *out = NULL;
    a = calloc(1, sizeof *a);
    if (!a)
        return jk__fail(err, JK_ENOMEM, "jk_a64_new: out of memory");
    jk__code_init(&a->code, 8);
    a->code.arch = &jk__a64_arch;
    if (jk__code_reserve(&a->code, 256)) {
        jk__code_free(&a->code);
        free(a);
        return jk__fail(err, JK_ENOMEM, "jk_a64_new: out of memory");
    }
    *out = a;
    return JK_OK;
}

void jk_a64_free(jk_a64_asm *a)
{
    if (!a)
        return;
    jk__code_free(&a->code);
    free(a);
}

void jk_a64_reset(jk_a64_asm *a)
{
    if (!a)
        return;
    jk__code_reset(&a->code);
}

/* -- Mnemonics ------------------------------------------------------------- */

jk_a64_mnem jk_a64_mnem_find(const char *name)
{
    size_t lo = 0, hi = JK_A64_MNEM_COUNT;
    if (!name)
        return JK_A64_MNEM_COUNT;
    /* the names are generated in sorted order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(jk__a64_mnem_names[mid], name);
        if (c == 0)
            return (jk_a64_mnem)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return JK_A64_MNEM_COUNT;
}

const char *jk_a64_mnem_name(jk_a64_mnem id)
{
    return (unsigned)id < JK_A64_MNEM_COUNT ? jk__a64_mnem_names[id] : "?";
}

jk_status jk_a64_emit_name(jk_a64_asm *a, const char *mnemonic, unsigned n, const jk_a64_op *ops)
{
    jk_a64_mnem id;
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    if (!mnemonic)
        return jk__code_fail(&a->code, JK_EINVAL, "emit: NULL mnemonic");
    id = jk_a64_mnem_find(mnemonic);
    if (id == JK_A64_MNEM_COUNT)
        return jk__code_fail(&a->code, JK_ENOFORM, "unknown mnemonic '%.40s'", mnemonic);
    return jk_a64_emit(a, id, n, ops);
}

/* -- Constants ------------------------------------------------------------------ */

/* Instructions movz/movn + movk need for v (n chunks of 16 bits). */
static unsigned wide_count(uint64_t v, unsigned n, uint16_t skip)
{
    unsigned i, k = 0;
    for (i = 0; i < n; i++)
        k += (uint16_t)(v >> (16 * i)) != skip;
    return k ? k : 1;
}

jk_status jk_a64_mov_imm(jk_a64_asm *a, jk_a64_op rd, uint64_t v)
{
    jk__code *c;
    unsigned n, i, nz, nf;
    uint32_t f;
    int w32;
    uint16_t skip;
    int first = 1;
    if (!a)
        return JK_EINVAL;
    c = &a->code;
    if (c->err.status)
        return c->err.status;
    if (rd.kind != JK_A64_OP_REG || (rd.rclass != JK_A64_RC_X && rd.rclass != JK_A64_RC_W) ||
        rd.mod != JK_A64_MOD_NONE)
        return jk__code_fail(c, JK_EOPERAND, "mov_imm: the destination must be an x or w register");
    w32 = rd.rclass == JK_A64_RC_W;
    n = w32 ? 2 : 4;
    if (w32)
        v &= 0xFFFFFFFFu;
    nz = wide_count(v, n, 0);
    nf = wide_count(v, n, 0xFFFF);
    /* one instruction: mov picks movz, movn or orr as GNU as does */
    if (nz == 1 || nf == 1 || jk_a64_logical_imm(v, w32 ? 32 : 64, &f))
        return jk_a64_emit2(a, JK_A64_MOV, rd, jk_a64_imm(w32 ? (int64_t)(uint32_t)v : (int64_t)v));
    /* movz (skip zero chunks) or movn (skip 0xffff chunks), then movk */
    skip = nf < nz ? 0xFFFF : 0;
    for (i = 0; i < n; i++) {
        uint16_t ch = (uint16_t)(v >> (16 * i));
        jk_status s;
        if (ch == skip)
            continue;
        if (first)
            s = jk_a64_emit2(a, skip ? JK_A64_MOVN : JK_A64_MOVZ, rd,
                             jk_a64_op_lsl(jk_a64_imm(skip ? (uint16_t)~ch : ch), 16 * i));
        else
            s = jk_a64_emit2(a, JK_A64_MOVK, rd, jk_a64_op_lsl(jk_a64_imm(ch), 16 * i));
        if (s)
            return s;
        first = 0;
    }
    return JK_OK;
}

jk_status jk_a64_call_abs(jk_a64_asm *a, jk_a64_op scratch, uint64_t address)
{
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (scratch.kind != JK_A64_OP_REG || scratch.rclass != JK_A64_RC_X || scratch.reg == 31)
        return jk__code_fail(&a->code, JK_EOPERAND, "call_abs: the scratch must be x0..x30");
    s = jk_a64_mov_imm(a, scratch, address);
    if (s)
        return s;
    return jk_a64_emit1(a, JK_A64_BLR, scratch);
}

jk_status jk_a64_adrl(jk_a64_asm *a, jk_a64_op xd, jk_label l)
{
    jk__code *c;
    size_t at;
    jk_status s;
    if (!a)
        return JK_EINVAL;
    c = &a->code;
    if (c->err.status)
        return c->err.status;
    if (xd.kind != JK_A64_OP_REG || xd.rclass != JK_A64_RC_X || xd.reg == 31 ||
        xd.mod != JK_A64_MOD_NONE)
        return jk__code_fail(c, JK_EOPERAND, "adrl: the destination must be x0..x30");
    s = jk_a64_emit2(a, JK_A64_ADRP, xd, jk_a64_lbl(l));
    if (s)
        return s;
    /* add xd, xd, #0 whose imm12 becomes the low 12 bits of the address */
    at = c->len;
    s = jk_a64_emit3(a, JK_A64_ADD, xd, xd, jk_a64_imm(0));
    if (s)
        return s;
    c->insn--; /* the fix-up belongs to the add */
    s = jk__code_fix(c, JK__FIX_ARCH, at, at, l, 0);
    c->insn++;
    return s;
}

/* -- Labels ---------------------------------------------------------------- */

jk_label jk_a64_label(jk_a64_asm *a, const char *name)
{
    return a ? jk__code_label(&a->code, name) : 0;
}

jk_status jk_a64_bind(jk_a64_asm *a, jk_label l)
{
    return a ? jk__code_bind(&a->code, l) : JK_EINVAL;
}

jk_label jk_a64_label_abs(jk_a64_asm *a, uint64_t address)
{
    return a ? jk__code_label_abs(&a->code, address) : 0;
}

jk_label jk_a64_label_extern(jk_a64_asm *a, const char *name)
{
    return a ? jk__code_label_extern(&a->code, name) : 0;
}

jk_status jk_a64_set_resolver(jk_a64_asm *a, jk_a64_resolver fn, void *ctx)
{
    if (!a)
        return JK_EINVAL;
    a->code.resolve = fn;
    a->code.resolve_ctx = ctx;
    return JK_OK;
}

/* -- Data -------------------------------------------------------------------- */

/* Data keeps the code word aligned: zero bytes up to the next multiple of 4. */
static jk_status data(jk_a64_asm *a, const void *p, size_t n)
{
    static const uint8_t zero[4] = {0, 0, 0, 0};
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    s = jk__code_bytes(&a->code, p, n);
    if (s == JK_OK && n % 4)
        s = jk__code_bytes(&a->code, zero, 4 - n % 4);
    if (s == JK_OK)
        a->code.insn++;
    return s;
}

jk_status jk_a64_db(jk_a64_asm *a, const void *p, size_t size) { return data(a, p, size); }

jk_status jk_a64_dd(jk_a64_asm *a, uint32_t v)
{
    uint8_t b[4];
    jk__put_le32(b, v);
    return data(a, b, 4);
}

jk_status jk_a64_dq(jk_a64_asm *a, uint64_t v)
{
    uint8_t b[8];
    jk__put_le32(b, (uint32_t)v);
    jk__put_le32(b + 4, (uint32_t)(v >> 32));
    return data(a, b, 8);
}

jk_status jk_a64_dlabel(jk_a64_asm *a, jk_label l, int64_t addend)
{
    jk__code *c;
    size_t at;
    if (!a)
        return JK_EINVAL;
    c = &a->code;
    if (c->err.status)
        return c->err.status;
    if (jk__code_check_sym(c, l, "dlabel"))
        return c->err.status;
    at = c->len;
    if (jk__code_bytes(c, "\0\0\0\0\0\0\0\0", 8))
        return c->err.status;
    if (jk__code_fix(c, JK__FIX_ABS64, at, at + 8, l, addend))
        return c->err.status;
    c->insn++;
    return JK_OK;
}

jk_status jk_a64_align(jk_a64_asm *a, unsigned align)
{
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (a->code.err.status)
        return a->code.err.status;
    s = jk__code_align(&a->code, align < 4 && align && !(align & (align - 1)) ? 1 : align);
    if (s == JK_OK)
        a->code.insn++;
    return s;
}

jk_label jk_a64_const(jk_a64_asm *a, const void *p, size_t size, unsigned align)
{
    return a ? jk__code_const(&a->code, p, size, align) : 0;
}

/* -- Finish and install ----------------------------------------------------- */

jk_status jk_a64_finish(jk_a64_asm *a, size_t *size)
{
    if (!a)
        return JK_EINVAL;
    return jk__code_finish(&a->code, jk__a64_fill, size);
}

jk_status jk_a64_copy(jk_a64_asm *a, void *dst, size_t cap, uint64_t runtime_addr)
{
    jk_status s;
    if (!a)
        return JK_EINVAL;
    s = jk_a64_finish(a, NULL);
    if (s)
        return s;
    if (runtime_addr & 3)
        return jk__code_fail(&a->code, JK_EINVAL, "copy: runtime address 0x%llx is not a multiple of 4",
                             (unsigned long long)runtime_addr);
    return jk__code_copy(&a->code, dst, cap, runtime_addr);
}

jk_status jk_a64_install(jk_a64_asm *a, const jk_mem_options *opt, jk_mem **mem, void **entry)
{
    jk_mem *m = NULL;
    jk_error e;
    size_t size;
    jk_status s;
    if (!a)
        return JK_EINVAL;
    if (!mem || !entry)
        return jk__code_fail(&a->code, JK_EINVAL, "install: NULL mem or entry");
    *mem = NULL;
    *entry = NULL;
    s = jk_a64_finish(a, &size);
    if (s)
        return s;
    s = jk_mem_alloc(&m, size ? size : 1, opt, &e);
    if (s)
        return jk__code_fail(&a->code, s, "install: %s", e.message);
    s = jk__code_copy(&a->code, jk_mem_writable(m), jk_mem_size(m),
                      (uint64_t)(uintptr_t)jk_mem_exec(m));
    if (s) {
        jk_mem_free(m, NULL);
        return s;
    }
    s = jk_mem_commit(m, &e);
    if (s) {
        jk_mem_free(m, NULL);
        return jk__code_fail(&a->code, s, "install: %s", e.message);
    }
    *mem = m;
    *entry = jk_mem_exec(m);
    return JK_OK;
}

jk_status jk_a64_label_offset(const jk_a64_asm *a, jk_label l, size_t *offset)
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

size_t jk_a64_offset(const jk_a64_asm *a)
{
    return a ? a->code.len : 0;
}

/* -- Errors ------------------------------------------------------------------ */

jk_status jk_a64_status(const jk_a64_asm *a)
{
    return a ? a->code.err.status : JK_EINVAL;
}

const jk_error *jk_a64_error(const jk_a64_asm *a)
{
    static const jk_error none = {JK_EINVAL, 0, "NULL assembler"};
    return a ? &a->code.err : &none;
}

void jk_a64_error_where(const jk_a64_asm *a, size_t *index, size_t *offset)
{
    if (index)
        *index = a ? a->code.err_insn : 0;
    if (offset)
        *offset = a ? a->code.err_off : 0;
}

size_t jk_a64_insn_index(const jk_a64_asm *a)
{
    return a ? a->code.insn : 0;
}
