/*
 * cfi.c - call frame information: the .cfi_* verbs turned into DWARF call
 * frame instructions as they come (GNU as's encoding choices), and the
 * .eh_frame writer.
 *
 * The description tracks the CFA rule (register + offset) and a stack of
 * remembered rules, because two verbs are relative to it: rel_offset (a save
 * relative to the CFA register) and adjust_cfa_offset. Each verb is also
 * kept as a resolved step (offset, verb, register, CFA rule after it) for
 * the Win64 translation, which needs the rule at every point.
 *
 * One .eh_frame per function (the unwinders are given its FDE, which points
 * back to its CIE):
 *
 *     CIE   length | id 0 | version 1 | "zR" | code align 1 | data align -8
 *           | RA column | aug. length 1 | FDE encoding | initial rule:
 *           def_cfa rsp+8, offset RA at cfa-8 | nops to the pointer size
 *     FDE   length | CIE pointer | pc_begin (pcrel) | pc_range | aug. length 0
 *           | the recorded instructions | nops to the pointer size
 *     0     terminator
 *
 * pc_begin is pc-relative sdata4 when the code lies within +-2 GiB of the
 * FDE, which is the normal case, else pc-relative sdata8 (64-bit only), so
 * the unwind data can live in ordinary malloc memory wherever that is.
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#include <string.h>

/* DWARF call frame instruction opcodes (DWARF 4, 6.4.2). */
enum {
    DW_CFA_nop = 0x00,
    DW_CFA_advance_loc1 = 0x02,
    DW_CFA_advance_loc2 = 0x03,
    DW_CFA_advance_loc4 = 0x04,
    DW_CFA_offset_extended = 0x05,
    DW_CFA_restore_extended = 0x06,
    DW_CFA_undefined = 0x07,
    DW_CFA_same_value = 0x08,
    DW_CFA_remember_state = 0x0a,
    DW_CFA_restore_state = 0x0b,
    DW_CFA_def_cfa = 0x0c,
    DW_CFA_def_cfa_register = 0x0d,
    DW_CFA_def_cfa_offset = 0x0e,
    DW_CFA_offset_extended_sf = 0x11,
    DW_CFA_advance_loc = 0x40,
    DW_CFA_offset = 0x80,
    DW_CFA_restore = 0xc0
};

/* Pointer encodings (LSB core spec, .eh_frame). */
enum { DW_EH_PE_sdata4 = 0x0b, DW_EH_PE_sdata8 = 0x0c, DW_EH_PE_pcrel = 0x10 };

#define CFI_MAX_REG 127u

static const jk__cfi_arch_info arch_info[JK_CFI_ARCH_COUNT] = {
    {0, 0, 0, 0, 0},                                 /* HOST: resolved first */
    {8, -8, JK_DW_X64_RA, JK_DW_X64_RSP, 62},        /* EM_X86_64 */
    {4, -4, JK_DW_X86_RA, JK_DW_X86_ESP, 3},         /* EM_386 */
};

jk_cfi_arch jk__cfi_host_arch(void)
{
#if defined(__x86_64__) || defined(_M_X64)
    return JK_CFI_X86_64;
#elif defined(__i386__) || defined(_M_IX86)
    return JK_CFI_X86_32;
#else
    return JK_CFI_HOST; /* no description for this CPU yet */
#endif
}

const jk__cfi_arch_info *jk__cfi_arch(jk_cfi_arch arch)
{
    if (arch == JK_CFI_HOST)
        arch = jk__cfi_host_arch();
    return arch > JK_CFI_HOST && arch < JK_CFI_ARCH_COUNT ? &arch_info[arch] : NULL;
}

/* -- Register names ------------------------------------------------------------ */

static int lower_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char c = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (c != *b)
            return 0;
    }
    return *a == *b;
}

int jk_dw_reg_find(int mode64, const char *name)
{
    static const char *const gpr64[17] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi",
                                          "rbp", "rsp", "r8",  "r9",  "r10", "r11",
                                          "r12", "r13", "r14", "r15", "rip"};
    static const char *const gpr32[9] = {"eax", "ecx", "edx", "ebx", "esp",
                                         "ebp", "esi", "edi", "eip"};
    char buf[8];
    size_t n;
    if (!name)
        return -1;
    if (*name == '%')
        name++;
    n = strlen(name);
    if (n == 0 || n >= sizeof buf)
        return -1;
    if (mode64) {
        for (int i = 0; i < 17; i++)
            if (lower_eq(name, gpr64[i]))
                return i;
        /* r8d / r8w / r8b name the same register as r8 */
        memcpy(buf, name, n + 1);
        if (n >= 3 && (buf[n - 1] == 'd' || buf[n - 1] == 'w' || buf[n - 1] == 'b' ||
                       buf[n - 1] == 'D' || buf[n - 1] == 'W' || buf[n - 1] == 'B')) {
            buf[n - 1] = 0;
            for (int i = 8; i < 16; i++)
                if (lower_eq(buf, gpr64[i]))
                    return i;
        }
        if (n == 4 || n == 5) {
            memcpy(buf, name, 3);
            buf[3] = 0;
        }
        if ((n == 4 || n == 5) && lower_eq(buf, "xmm")) {
            int v = 0;
            for (const char *p = name + 3; *p; p++) {
                if (*p < '0' || *p > '9')
                    return -1;
                v = v * 10 + (*p - '0');
            }
            return v < 16 ? (int)JK_DW_X64_XMM(v) : -1;
        }
        return -1;
    }
    for (int i = 0; i < 9; i++)
        if (lower_eq(name, gpr32[i]))
            return i;
    return -1;
}

/* -- Building ---------------------------------------------------------------- */

static void initial_state(jk_cfi *c)
{
    const jk__cfi_arch_info *ai = &arch_info[c->arch];
    c->cur.cfa_reg = ai->sp_reg;
    c->cur.cfa_off = (int32_t)ai->ptr_size;
}

jk_status jk_cfi_new(jk_cfi **out, jk_cfi_arch arch, jk_error *err)
{
    jk_cfi *c;
    if (!out || (unsigned)arch >= JK_CFI_ARCH_COUNT)
        return jk__fail(err, JK_EINVAL, "jk_cfi_new: %s", out ? "unknown architecture" : "out is NULL");
    *out = NULL;
    if (arch == JK_CFI_HOST) {
        arch = jk__cfi_host_arch();
        if (arch == JK_CFI_HOST)
            return jk__fail(err, JK_EUNSUPPORTED,
                            "jk_cfi_new: no call frame description for this CPU");
    }
    c = jk__calloc(1, sizeof *c);
    if (!c)
        return jk__fail(err, JK_ENOMEM, "jk_cfi_new: out of memory");
    c->arch = arch;
    initial_state(c);
    *out = c;
    return JK_OK;
}

void jk_cfi_free(jk_cfi *c)
{
    if (!c)
        return;
    jk__free(c->stack);
    jk__free(c->ins);
    jk__free(c->steps);
    jk__free(c);
}

void jk_cfi_reset(jk_cfi *c)
{
    if (!c)
        return;
    c->started = c->ended = 0;
    c->loc = c->last_at = c->size = 0;
    c->depth = c->len = c->nsteps = 0;
    initial_state(c);
    jk__error_clear(&c->error);
}

jk_status jk_cfi_status(const jk_cfi *c)
{
    return c ? c->error.status : JK_EINVAL;
}

const jk_error *jk_cfi_error(const jk_cfi *c)
{
    return c ? &c->error : NULL;
}

const uint8_t *jk_cfi_bytes(const jk_cfi *c, size_t *size)
{
    if (size)
        *size = c ? c->len : 0;
    return c ? c->ins : NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n;
    void *q;
    if (need <= *cap)
        return 1;
    n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    q = jk__malloc(n * elem);
    if (!q)
        return 0;
    if (*p)
        memcpy(q, *p, *cap * elem);
    jk__free(*p);
    *p = q;
    *cap = n;
    return 1;
}

static jk_status oom(jk_cfi *c, const char *verb)
{
    return jk__fail(&c->error, JK_ENOMEM, "cfi %s: out of memory", verb);
}

static int put(jk_cfi *c, const uint8_t *b, size_t n)
{
    void *p = c->ins;
    if (!grow(&p, &c->cap, c->len + n, 1))
        return 0;
    c->ins = p;
    memcpy(c->ins + c->len, b, n);
    c->len += n;
    return 1;
}

static size_t uleb(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        b[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t sleb(uint8_t *b, int64_t v)
{
    size_t n = 0;
    for (;;) {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7; /* arithmetic shift on every compiler we support */
        if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
            b[n++] = byte;
            return n;
        }
        b[n++] = (uint8_t)(byte | 0x80);
    }
}

/* Common entry of every verb: sticky error, state, order, register, and
 * the advance to `at`. Returns JK_OK to go on. */
static jk_status enter(jk_cfi *c, const char *verb, uint32_t at, unsigned reg, int has_reg)
{
    uint8_t b[5];
    uint32_t delta;
    size_t n = 0;
    if (!c)
        return JK_EINVAL;
    if (c->error.status != JK_OK)
        return c->error.status;
    if (!c->started || c->ended)
        return jk__fail(&c->error, JK_ESTATE, "cfi %s at %u: %s", verb, (unsigned)at,
                        c->ended ? "after endproc" : "before startproc");
    if (at < c->last_at)
        return jk__fail(&c->error, JK_EINVAL,
                        "cfi %s at %u: offset goes back (the previous verb was at %u)", verb,
                        (unsigned)at, (unsigned)c->last_at);
    if (has_reg && reg > CFI_MAX_REG)
        return jk__fail(&c->error, JK_EINVAL, "cfi %s at %u: register %u out of range (0..%u)",
                        verb, (unsigned)at, reg, CFI_MAX_REG);
    c->last_at = at;
    delta = at - c->loc; /* code alignment factor 1 */
    if (delta == 0)
        return JK_OK;
    if (delta < 64) {
        b[n++] = (uint8_t)(DW_CFA_advance_loc | delta);
    } else if (delta <= 0xff) {
        b[n++] = DW_CFA_advance_loc1;
        b[n++] = (uint8_t)delta;
    } else if (delta <= 0xffff) {
        b[n++] = DW_CFA_advance_loc2;
        b[n++] = (uint8_t)delta;
        b[n++] = (uint8_t)(delta >> 8);
    } else {
        b[n++] = DW_CFA_advance_loc4;
        b[n++] = (uint8_t)delta;
        b[n++] = (uint8_t)(delta >> 8);
        b[n++] = (uint8_t)(delta >> 16);
        b[n++] = (uint8_t)(delta >> 24);
    }
    if (!put(c, b, n))
        return oom(c, verb);
    c->loc = at;
    return JK_OK;
}

static jk_status step(jk_cfi *c, const char *verb, uint32_t at, cfi_verb v, unsigned reg,
                      int32_t off)
{
    void *p = c->steps;
    jk__cfi_step *s;
    if (!grow(&p, &c->steps_cap, c->nsteps + 1, sizeof *c->steps))
        return oom(c, verb);
    c->steps = p;
    s = &c->steps[c->nsteps++];
    s->at = at;
    s->verb = (uint8_t)v;
    s->reg = (uint8_t)reg;
    s->off = off;
    s->cfa_reg = (uint8_t)c->cur.cfa_reg;
    s->cfa_off = c->cur.cfa_off;
    return JK_OK;
}

jk_status jk_cfi_startproc(jk_cfi *c)
{
    if (!c)
        return JK_EINVAL;
    if (c->error.status != JK_OK)
        return c->error.status;
    if (c->started)
        return jk__fail(&c->error, JK_ESTATE, "cfi startproc: %s",
                        c->ended ? "the description is ended (jk_cfi_reset first)"
                                 : "already inside startproc");
    c->started = 1;
    initial_state(c);
    return JK_OK;
}

jk_status jk_cfi_endproc(jk_cfi *c, uint32_t size)
{
    if (!c)
        return JK_EINVAL;
    if (c->error.status != JK_OK)
        return c->error.status;
    if (!c->started || c->ended)
        return jk__fail(&c->error, JK_ESTATE, "cfi endproc: %s",
                        c->ended ? "already ended" : "before startproc");
    if (size < c->last_at)
        return jk__fail(&c->error, JK_EINVAL,
                        "cfi endproc: size %u is before the last verb (at %u)", (unsigned)size,
                        (unsigned)c->last_at);
    /* no advance: the rules hold to the end of the function */
    c->size = size;
    c->ended = 1;
    return JK_OK;
}

static jk_status set_cfa(jk_cfi *c, const char *verb, uint32_t at, unsigned reg, int32_t off,
                         int reg_changes, int off_changes)
{
    uint8_t b[12];
    size_t n = 0;
    cfi_verb v;
    if (off < 0)
        return jk__fail(&c->error, JK_EINVAL, "cfi %s at %u: negative CFA offset %d", verb,
                        (unsigned)at, (int)off);
    if (reg_changes && off_changes) {
        b[n++] = DW_CFA_def_cfa;
        n += uleb(b + n, reg);
        n += uleb(b + n, (uint64_t)off);
        v = CFI_DEF_CFA;
    } else if (reg_changes) {
        b[n++] = DW_CFA_def_cfa_register;
        n += uleb(b + n, reg);
        v = CFI_DEF_CFA_REGISTER;
    } else {
        b[n++] = DW_CFA_def_cfa_offset;
        n += uleb(b + n, (uint64_t)off);
        v = CFI_DEF_CFA_OFFSET;
    }
    if (!put(c, b, n))
        return oom(c, verb);
    c->cur.cfa_reg = reg;
    c->cur.cfa_off = off;
    return step(c, verb, at, v, reg, off);
}

jk_status jk_cfi_def_cfa(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset)
{
    jk_status s = enter(c, "def_cfa", at, reg, 1);
    return s != JK_OK ? s : set_cfa(c, "def_cfa", at, reg, offset, 1, 1);
}

jk_status jk_cfi_def_cfa_offset(jk_cfi *c, uint32_t at, int32_t offset)
{
    jk_status s = enter(c, "def_cfa_offset", at, 0, 0);
    return s != JK_OK ? s : set_cfa(c, "def_cfa_offset", at, c->cur.cfa_reg, offset, 0, 1);
}

jk_status jk_cfi_def_cfa_register(jk_cfi *c, uint32_t at, unsigned reg)
{
    jk_status s = enter(c, "def_cfa_register", at, reg, 1);
    return s != JK_OK ? s : set_cfa(c, "def_cfa_register", at, reg, c->cur.cfa_off, 1, 0);
}

jk_status jk_cfi_adjust_cfa_offset(jk_cfi *c, uint32_t at, int32_t delta)
{
    int64_t off;
    jk_status s = enter(c, "adjust_cfa_offset", at, 0, 0);
    if (s != JK_OK)
        return s;
    off = (int64_t)c->cur.cfa_off + delta;
    if (off > INT32_MAX || off < INT32_MIN)
        return jk__fail(&c->error, JK_EINVAL, "cfi adjust_cfa_offset at %u: offset overflows",
                        (unsigned)at);
    return set_cfa(c, "adjust_cfa_offset", at, c->cur.cfa_reg, (int32_t)off, 0, 1);
}

static jk_status save_at(jk_cfi *c, const char *verb, uint32_t at, unsigned reg, int64_t off)
{
    const jk__cfi_arch_info *ai = &arch_info[c->arch];
    uint8_t b[16];
    size_t n = 0;
    int64_t f;
    if (off > INT32_MAX || off < INT32_MIN || off % ai->data_align != 0)
        return jk__fail(&c->error, JK_EINVAL,
                        "cfi %s at %u: save offset %lld from the CFA is not a multiple of %d",
                        verb, (unsigned)at, (long long)off, -ai->data_align);
    f = off / ai->data_align;
    if (f >= 0 && reg < 64) {
        b[n++] = (uint8_t)(DW_CFA_offset | reg);
        n += uleb(b + n, (uint64_t)f);
    } else if (f >= 0) {
        b[n++] = DW_CFA_offset_extended;
        n += uleb(b + n, reg);
        n += uleb(b + n, (uint64_t)f);
    } else {
        b[n++] = DW_CFA_offset_extended_sf;
        n += uleb(b + n, reg);
        n += sleb(b + n, f);
    }
    if (!put(c, b, n))
        return oom(c, verb);
    return step(c, verb, at, CFI_OFFSET, reg, (int32_t)off);
}

jk_status jk_cfi_offset(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset)
{
    jk_status s = enter(c, "offset", at, reg, 1);
    return s != JK_OK ? s : save_at(c, "offset", at, reg, offset);
}

jk_status jk_cfi_rel_offset(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset)
{
    jk_status s = enter(c, "rel_offset", at, reg, 1);
    /* CFA = cfa_reg + cfa_off, so cfa_reg + offset = CFA + offset - cfa_off */
    return s != JK_OK ? s
                      : save_at(c, "rel_offset", at, reg, (int64_t)offset - c->cur.cfa_off);
}

static jk_status simple(jk_cfi *c, const char *verb, uint32_t at, unsigned reg, int has_reg,
                        cfi_verb v)
{
    uint8_t b[4];
    size_t n = 0;
    jk_status s = enter(c, verb, at, reg, has_reg);
    if (s != JK_OK)
        return s;
    switch (v) {
    case CFI_RESTORE:
        if (reg < 64) {
            b[n++] = (uint8_t)(DW_CFA_restore | reg);
        } else {
            b[n++] = DW_CFA_restore_extended;
            n += uleb(b + n, reg);
        }
        break;
    case CFI_UNDEFINED:
        b[n++] = DW_CFA_undefined;
        n += uleb(b + n, reg);
        break;
    case CFI_SAME_VALUE:
        b[n++] = DW_CFA_same_value;
        n += uleb(b + n, reg);
        break;
    case CFI_REMEMBER: {
        void *p = c->stack;
        if (!grow(&p, &c->stack_cap, c->depth + 1, sizeof *c->stack))
            return oom(c, verb);
        c->stack = p;
        c->stack[c->depth++] = c->cur;
        b[n++] = DW_CFA_remember_state;
        break;
    }
    case CFI_RESTORE_STATE:
        if (c->depth == 0)
            return jk__fail(&c->error, JK_ESTATE,
                            "cfi restore_state at %u: no state remembered", (unsigned)at);
        c->cur = c->stack[--c->depth];
        b[n++] = DW_CFA_restore_state;
        break;
    default:
        return JK_EINVAL;
    }
    if (!put(c, b, n))
        return oom(c, verb);
    return step(c, verb, at, v, reg, 0);
}

jk_status jk_cfi_restore(jk_cfi *c, uint32_t at, unsigned reg)
{
    return simple(c, "restore", at, reg, 1, CFI_RESTORE);
}

jk_status jk_cfi_remember_state(jk_cfi *c, uint32_t at)
{
    return simple(c, "remember_state", at, 0, 0, CFI_REMEMBER);
}

jk_status jk_cfi_restore_state(jk_cfi *c, uint32_t at)
{
    return simple(c, "restore_state", at, 0, 0, CFI_RESTORE_STATE);
}

jk_status jk_cfi_undefined(jk_cfi *c, uint32_t at, unsigned reg)
{
    return simple(c, "undefined", at, reg, 1, CFI_UNDEFINED);
}

jk_status jk_cfi_same_value(jk_cfi *c, uint32_t at, unsigned reg)
{
    return simple(c, "same_value", at, reg, 1, CFI_SAME_VALUE);
}

/* -- .eh_frame ------------------------------------------------------------------ */

#define CIE_BODY 18u /* id .. initial instructions, without padding */

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

static size_t cie_size(const jk__cfi_arch_info *ai)
{
    return align_up(4 + CIE_BODY, ai->ptr_size);
}

/* FDE with an address field of `field` bytes (4 or 8). */
static size_t fde_size(const jk_cfi *c, const jk__cfi_arch_info *ai, size_t field)
{
    return align_up(4 + 4 + 2 * field + 1 + c->len, ai->ptr_size);
}

size_t jk__eh_frame_size(const jk_cfi *c)
{
    const jk__cfi_arch_info *ai = &arch_info[c->arch];
    /* the larger (sdata8) form, so a caller can allocate before it knows
       where the data will be */
    return cie_size(ai) + fde_size(c, ai, ai->ptr_size == 8 ? 8 : 4) + 4;
}

static void le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

jk_status jk_cfi_eh_frame(const jk_cfi *c, uint64_t eh_addr, uint64_t code_addr,
                          uint64_t code_size, void *dst, size_t cap, size_t *size,
                          jk_error *err)
{
    const jk__cfi_arch_info *ai;
    uint8_t *p = dst;
    size_t cs, fs, field, at, total;
    int64_t rel;
    if (!c || !size)
        return jk__fail(err, JK_EINVAL, "jk_cfi_eh_frame: NULL argument");
    if (c->error.status != JK_OK)
        return jk__fail(err, JK_EINVAL, "jk_cfi_eh_frame: the description failed: %s",
                        c->error.message);
    if (!c->ended)
        return jk__fail(err, JK_EINVAL, "jk_cfi_eh_frame: the description is not ended "
                                        "(jk_cfi_endproc)");
    if (code_size < c->size)
        return jk__fail(err, JK_EINVAL,
                        "jk_cfi_eh_frame: the description covers %u bytes, the code has %llu",
                        (unsigned)c->size, (unsigned long long)code_size);
    ai = &arch_info[c->arch];
    cs = cie_size(ai);
    /* pc_begin is relative to its own field, 8 bytes into the FDE */
    rel = (int64_t)(code_addr - (eh_addr + cs + 8));
    field = 4;
    if (ai->ptr_size == 8 && (rel > INT32_MAX || rel < INT32_MIN))
        field = 8;
    if (ai->ptr_size == 4)
        code_size &= 0xffffffffu;
    fs = fde_size(c, ai, field);
    total = cs + fs + 4;
    *size = total;
    if (!dst || cap < total)
        return jk__fail(err, JK_ENOSPACE, "jk_cfi_eh_frame: needs %zu bytes, %zu given",
                        total, cap);
    memset(p, DW_CFA_nop, total);
    /* CIE */
    le(p, cs - 4, 4);
    le(p + 4, 0, 4);
    p[8] = 1;                                   /* version */
    memcpy(p + 9, "zR", 3);                     /* augmentation, NUL included */
    p[12] = 1;                                  /* code alignment factor */
    p[13] = (uint8_t)(ai->data_align & 0x7f);   /* SLEB of -8 / -4 */
    p[14] = (uint8_t)ai->ra_reg;                /* version 1: one byte */
    p[15] = 1;                                  /* augmentation data length */
    p[16] = (uint8_t)(DW_EH_PE_pcrel | (field == 4 ? DW_EH_PE_sdata4 : DW_EH_PE_sdata8));
    p[17] = DW_CFA_def_cfa;
    p[18] = (uint8_t)ai->sp_reg;
    p[19] = (uint8_t)ai->ptr_size;
    p[20] = (uint8_t)(DW_CFA_offset | ai->ra_reg);
    p[21] = 1;                                  /* RA at CFA - ptr_size */
    /* FDE */
    at = cs;
    le(p + at, fs - 4, 4);
    le(p + at + 4, at + 4, 4);                  /* back to the CIE */
    le(p + at + 8, (uint64_t)rel, field);
    le(p + at + 8 + field, code_size, field);
    p[at + 8 + 2 * field] = 0;                  /* augmentation data length */
    if (c->len)
        memcpy(p + at + 9 + 2 * field, c->ins, c->len);
    le(p + cs + fs, 0, 4);                      /* terminator */
    return JK_OK;
}
