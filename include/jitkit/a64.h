/*
 * jitkit/a64.h - the AArch64 (A64) assembler: typed operands, one generic
 * emit entry, per-mnemonic helpers, labels, data, finish and install.
 *
 *     jk_a64_asm *a;
 *     jk_a64_new(&a, NULL);
 *     jk_label done = jk_a64_label(a, "done");
 *     jk_a64_add(a, JK_X0, JK_X0, JK_X1);
 *     jk_a64_cbz(a, JK_X2, jk_a64_lbl(done));   relaxed at finish if far
 *     jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_XSP, 16));
 *     jk_a64_bind(a, done);
 *     jk_a64_ret(a);
 *     void *fn; jk_mem *m;
 *     if (jk_a64_install(a, NULL, &m, &fn) != JK_OK) ... jk_a64_error(a)->message
 *
 * Pipeline of one instruction (see docs/a64.md):
 *
 *     mnemonic id + operands --forms of the mnemonic, in table order-->
 *     first form whose operand types accept every operand --> base word
 *     with each operand's fields filled in --> code buffer (+ fix-up or
 *     relaxable branch for a label)
 *
 * The forms come from isa/a64.txt through tools/gen_a64.py; their order
 * reproduces GNU as's choices (ldr #8 scaled, ldr #-8 as ldur; mov #imm as
 * movz, movn or orr). Registers: JK_X0..JK_X30, JK_XZR, JK_XSP, JK_W0..JK_W30,
 * JK_WZR, JK_WSP. Register number 31 is xzr or sp depending on the
 * instruction and position; the operand says which one is meant and a form
 * that has the other in that position refuses it.
 *
 * Errors are sticky: the first failure is recorded with the index of the
 * instruction, the code offset and a message ("add: operand 3: immediate
 * 4097 is not 0..4095 or a multiple of 4096 up to 0xfff000"); every later
 * call returns that status and does nothing.
 *
 * Thread safety: an assembler must be used by one thread at a time.
 */
#ifndef JITKIT_A64_H
#define JITKIT_A64_H

#include "jitkit/status.h"
#include "jitkit/mem.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- Operands ------------------------------------------------------------ */

typedef enum jk_a64_opkind {
    JK_A64_OP_NONE,
    JK_A64_OP_REG,
    JK_A64_OP_IMM,
    JK_A64_OP_MEM,
    JK_A64_OP_LABEL,   /* branch / adr / literal target */
    JK_A64_OP_COND,    /* condition code eq..nv (value 0..15) */
    JK_A64_OP_SYSREG,  /* system register / dc-ic operation (value: op0:op1:CRn:CRm:op2) */
    JK_A64_OP_FIMM,    /* floating-point immediate (value: the bits of a double) */
    JK_A64_OP_VLIST,   /* register list {vN.T, ...}: reg first, amount count, iclass arrangement */
    JK_A64_OP_KIND_COUNT
} jk_a64_opkind;

typedef enum jk_a64_rclass {
    JK_A64_RC_NONE,
    JK_A64_RC_X,       /* x0..x30, 31 = xzr */
    JK_A64_RC_W,       /* w0..w30, 31 = wzr */
    JK_A64_RC_SP,      /* sp (number 31) */
    JK_A64_RC_WSP,     /* wsp (number 31) */
    JK_A64_RC_B,       /* b0..b31: the low 8 bits of v0..v31 */
    JK_A64_RC_H,       /* h0..h31 (16 bits) */
    JK_A64_RC_S,       /* s0..s31 (single) */
    JK_A64_RC_D,       /* d0..d31 (double) */
    JK_A64_RC_Q,       /* q0..q31 (128 bits) */
    JK_A64_RC_V,       /* v0..v31 with an arrangement or an element (iclass, index) */
    JK_A64_RC_INVALID, /* marks a malformed operand; rejected by emit */
    JK_A64_RC_COUNT
} jk_a64_rclass;

/* Shift / extend applied to a register or immediate operand (jk_a64_op.mod);
 * for a register-offset memory operand, the index's. */
typedef enum jk_a64_mod {
    JK_A64_MOD_NONE,
    JK_A64_MOD_LSL, JK_A64_MOD_LSR, JK_A64_MOD_ASR, JK_A64_MOD_ROR,
    JK_A64_MOD_UXTB, JK_A64_MOD_UXTH, JK_A64_MOD_UXTW, JK_A64_MOD_UXTX,
    JK_A64_MOD_SXTB, JK_A64_MOD_SXTH, JK_A64_MOD_SXTW, JK_A64_MOD_SXTX,
    JK_A64_MOD_MSL,    /* shifting ones in: movi/mvni .2s/.4s, #imm, msl #8 / #16 */
    JK_A64_MOD_COUNT
} jk_a64_mod;

/* Vector arrangements (jk_a64_op.iclass of a JK_A64_RC_V register): bit 0 is
 * Q (128 bits), bits 1..2 the element size. Elements (vN.s[i]) use the
 * JK_A64_E* codes with the index in jk_a64_op.index. */
typedef enum jk_a64_arr {
    JK_A64_8B, JK_A64_16B, JK_A64_4H, JK_A64_8H, JK_A64_2S, JK_A64_4S, JK_A64_1D, JK_A64_2D,
    JK_A64_EB, JK_A64_EH, JK_A64_ES, JK_A64_ED,
    JK_A64_ARR_COUNT
} jk_a64_arr;

/* Memory addressing modes (low two bits of jk_a64_op.flags for MEM). */
#define JK_A64_MEM_OFF   0u /* [base, #imm] */
#define JK_A64_MEM_PRE   1u /* [base, #imm]! */
#define JK_A64_MEM_POST  2u /* [base], #imm */
#define JK_A64_MEM_REG   3u /* [base, index{, extend #amount}] */
#define JK_A64_MEM_MODE  3u
/* An amount was written (`uxtw #0` differs from `uxtw` for byte accesses). */
#define JK_A64_F_AMOUNT  0x04u
/* With JK_A64_MEM_REG: [base], xm - post-index by a register (ld1 .. st4). */
#define JK_A64_F_POSTIDX 0x08u

/*
 * One operand. Fill it with the constructors below, not by hand.
 *   REG:    rclass, reg (0..31), mod/amount (shift or extend), flags
 *   IMM:    value, mod/amount (lsl #12 of add, lsl #16 of movz ...)
 *   MEM:    rclass/reg (base: X or SP), flags (mode), value (offset);
 *           JK_A64_MEM_REG: iclass/index (X or W), mod/amount (extend)
 *   LABEL:  value (label id)
 *   COND:   value (0..15)
 *   SYSREG: value (op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 | op2)
 *   FIMM:   value (the bits of a double: fmov #imm, fcmp #0.0)
 */
typedef struct jk_a64_op {
    uint8_t kind;
    uint8_t rclass;
    uint8_t reg;
    uint8_t mod;
    uint8_t amount;
    uint8_t flags;
    uint8_t iclass;
    uint8_t index;
    int64_t value;
} jk_a64_op;

/* A label (0 is never valid); the same type as jk_label of jitkit/x86.h. */
typedef uint32_t jk_label;

static inline jk_a64_op jk_a64_none(void)
{
    jk_a64_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    return o;
}

static inline jk_a64_op jk_a64_reg(jk_a64_rclass rc, unsigned num)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_REG;
    o.rclass = (uint8_t)((unsigned)rc < JK_A64_RC_COUNT ? rc : JK_A64_RC_INVALID);
    if (num > 31 || ((rc == JK_A64_RC_SP || rc == JK_A64_RC_WSP) && num != 31))
        o.rclass = JK_A64_RC_INVALID;
    o.reg = (uint8_t)(num & 31u);
    return o;
}

static inline jk_a64_op jk_a64_imm(int64_t v)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_IMM;
    o.value = v;
    return o;
}

/* A register or immediate with a shift or extend and its amount:
 * jk_a64_shift(JK_X2, JK_A64_MOD_LSL, 3) is `x2, lsl #3`;
 * jk_a64_shift(JK_W1, JK_A64_MOD_SXTW, 0) is `w1, sxtw #0`. */
static inline jk_a64_op jk_a64_shift(jk_a64_op r, jk_a64_mod mod, unsigned amount)
{
    if ((unsigned)mod >= JK_A64_MOD_COUNT || amount > 255 || r.mod != JK_A64_MOD_NONE ||
        (r.kind != JK_A64_OP_REG && r.kind != JK_A64_OP_IMM))
        r.rclass = JK_A64_RC_INVALID, r.kind = JK_A64_OP_REG;
    r.mod = (uint8_t)mod;
    r.amount = (uint8_t)amount;
    r.flags |= JK_A64_F_AMOUNT;
    return r;
}

/* An extend written without an amount (`w1, uxtw`). */
static inline jk_a64_op jk_a64_extend(jk_a64_op r, jk_a64_mod mod)
{
    r = jk_a64_shift(r, mod, 0);
    r.flags = (uint8_t)(r.flags & ~JK_A64_F_AMOUNT);
    return r;
}

static inline jk_a64_op jk_a64_op_lsl(jk_a64_op r, unsigned n) { return jk_a64_shift(r, JK_A64_MOD_LSL, n); }
static inline jk_a64_op jk_a64_op_lsr(jk_a64_op r, unsigned n) { return jk_a64_shift(r, JK_A64_MOD_LSR, n); }
static inline jk_a64_op jk_a64_op_asr(jk_a64_op r, unsigned n) { return jk_a64_shift(r, JK_A64_MOD_ASR, n); }
static inline jk_a64_op jk_a64_op_ror(jk_a64_op r, unsigned n) { return jk_a64_shift(r, JK_A64_MOD_ROR, n); }

static inline jk_a64_op jk_a64_lbl(jk_label l)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_LABEL;
    o.value = (int64_t)l;
    return o;
}

/* vN.T: a vector register with an arrangement (JK_A64_4S ...). */
static inline jk_a64_op jk_a64_v(unsigned n, jk_a64_arr arr)
{
    jk_a64_op o = jk_a64_reg(JK_A64_RC_V, n);
    o.iclass = (uint8_t)arr;
    if ((unsigned)arr > JK_A64_2D)
        o.rclass = JK_A64_RC_INVALID;
    return o;
}

/* vN.T[i]: one element (esize JK_A64_EB, EH, ES or ED). */
static inline jk_a64_op jk_a64_velem(unsigned n, jk_a64_arr esize, unsigned i)
{
    jk_a64_op o = jk_a64_reg(JK_A64_RC_V, n);
    o.iclass = (uint8_t)esize;
    o.index = (uint8_t)i;
    if ((unsigned)esize < JK_A64_EB || (unsigned)esize > JK_A64_ED || i > 15)
        o.rclass = JK_A64_RC_INVALID;
    return o;
}

/* {vN.T, vN+1.T, ...}: count (1..4) consecutive registers (modulo 32). */
static inline jk_a64_op jk_a64_vlist(unsigned first, unsigned count, jk_a64_arr arr)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_VLIST;
    o.reg = (uint8_t)(first & 31u);
    o.amount = (uint8_t)count;
    o.iclass = (uint8_t)arr;
    if (first > 31 || count < 1 || count > 4 || (unsigned)arr > JK_A64_2D)
        o.kind = JK_A64_OP_REG, o.rclass = JK_A64_RC_INVALID;
    return o;
}

/* A floating-point immediate (fmov s0, #1.5; fcmp d0, #0.0). */
static inline jk_a64_op jk_a64_fimm(double v)
{
    union { double d; int64_t i; } u;
    jk_a64_op o = jk_a64_none();
    u.d = v;
    o.kind = JK_A64_OP_FIMM;
    o.value = u.i;
    return o;
}

static inline jk_a64_op jk_a64_cond(unsigned cc)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_COND;
    o.value = (int64_t)cc;
    if (cc > 15)
        o.kind = JK_A64_OP_REG, o.rclass = JK_A64_RC_INVALID;
    return o;
}

static inline jk_a64_op jk_a64_sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm,
                                      unsigned op2)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_SYSREG;
    o.value = (int64_t)((op0 & 3u) << 14 | (op1 & 7u) << 11 | (crn & 15u) << 7 |
                        (crm & 15u) << 3 | (op2 & 7u));
    if (op0 > 3 || op1 > 7 || crn > 15 || crm > 15 || op2 > 7)
        o.kind = JK_A64_OP_REG, o.rclass = JK_A64_RC_INVALID;
    return o;
}

static inline jk_a64_op jk_a64_mem_mode_(jk_a64_op base, int64_t off, unsigned mode)
{
    jk_a64_op o = jk_a64_none();
    o.kind = JK_A64_OP_MEM;
    o.flags = (uint8_t)mode;
    o.value = off;
    if (base.kind == JK_A64_OP_REG && base.mod == JK_A64_MOD_NONE) {
        o.rclass = base.rclass;
        o.reg = base.reg;
    } else {
        o.rclass = JK_A64_RC_INVALID;
    }
    return o;
}

/* [base, #off] (base: an X register or JK_XSP). The form decides whether the
 * offset is scaled (ldr x0, [x1, #8]) or unscaled (ldur for #-8 or #1). */
static inline jk_a64_op jk_a64_mem(jk_a64_op base, int64_t off) { return jk_a64_mem_mode_(base, off, JK_A64_MEM_OFF); }
/* [base, #off]! */
static inline jk_a64_op jk_a64_mem_pre(jk_a64_op base, int64_t off) { return jk_a64_mem_mode_(base, off, JK_A64_MEM_PRE); }
/* [base], #off */
static inline jk_a64_op jk_a64_mem_post(jk_a64_op base, int64_t off) { return jk_a64_mem_mode_(base, off, JK_A64_MEM_POST); }

/* [base, index{, mod #amount}]: index is an X register (mod NONE, LSL or
 * SXTX) or a W register (UXTW or SXTW); index may carry the modifier
 * itself (jk_a64_mem_idx(JK_X1, jk_a64_op_lsl(JK_X2, 3))). */
static inline jk_a64_op jk_a64_mem_idx(jk_a64_op base, jk_a64_op index)
{
    jk_a64_op o = jk_a64_mem_mode_(base, 0, JK_A64_MEM_REG);
    if (index.kind == JK_A64_OP_REG) {
        o.iclass = index.rclass;
        o.index = index.reg;
        o.mod = index.mod;
        o.amount = index.amount;
        o.flags |= (uint8_t)(index.flags & JK_A64_F_AMOUNT);
    } else {
        o.rclass = JK_A64_RC_INVALID;
    }
    return o;
}

/* [base], xm: structure loads and stores post-indexed by a register. */
static inline jk_a64_op jk_a64_mem_post_reg(jk_a64_op base, jk_a64_op xm)
{
    jk_a64_op o = jk_a64_mem_idx(base, xm);
    o.flags |= JK_A64_F_POSTIDX;
    return o;
}

/* -- Assembler ----------------------------------------------------------- */

typedef struct jk_a64_asm jk_a64_asm;

#include "jitkit/a64_insn.h" /* generated: jk_a64_mnem ids and helpers */

/* Create an assembler. *out receives the handle (free with jk_a64_free).
 * JK_EINVAL (NULL out), JK_ENOMEM. */
JK_API jk_status jk_a64_new(jk_a64_asm **out, jk_error *err);

/* Free the assembler (NULL accepted). Installed code is not affected. */
JK_API void jk_a64_free(jk_a64_asm *a);

/* Forget all code, labels and the error; keep the buffers. */
JK_API void jk_a64_reset(jk_a64_asm *a);

/* Encode one instruction: mnemonic id (JK_A64_ADD ...), n operands (0..4).
 * The helpers jk_a64_add(a, ...) call this through jk_a64_emit0..4. Returns
 * JK_OK or the sticky error: JK_ENOFORM (no form takes the operands: the
 * message names the operand kinds, or the reason the closest form refused
 * an operand), JK_EOPERAND (malformed operand), JK_ERANGE (an immediate or
 * offset a form of the right shape cannot encode), JK_ELABEL, JK_EINVAL,
 * JK_ENOMEM, JK_ESTATE (already finished). A text front end drives the
 * encoder through this entry with jk_a64_mnem_find. */
JK_API jk_status jk_a64_emit(jk_a64_asm *a, jk_a64_mnem id, unsigned n, const jk_a64_op *ops);

/* Same, by name ("add", "b.eq"); JK_ENOFORM for unknown names. */
JK_API jk_status jk_a64_emit_name(jk_a64_asm *a, const char *mnemonic, unsigned n,
                                  const jk_a64_op *ops);

/* Mnemonic id for a lower-case name, or JK_A64_MNEM_COUNT if unknown. */
JK_API jk_a64_mnem jk_a64_mnem_find(const char *name);
/* Name of a mnemonic id ("?" when out of range). */
JK_API const char *jk_a64_mnem_name(jk_a64_mnem id);

/* Load the 64-bit (x register) or 32-bit (w register: the low 32 bits of v)
 * constant v into rd: one mov (movz, movn or orr with a logical immediate)
 * when one does it, else movz or movn followed by a movk for each remaining
 * 16-bit chunk (at most four instructions), whichever start needs fewer.
 * rd must not be sp. */
JK_API jk_status jk_a64_mov_imm(jk_a64_asm *a, jk_a64_op rd, uint64_t v);

/* Encode a logical immediate: for an element of `width` 32 or 64 bits,
 * *nimms receives N:immr:imms (13 bits: N << 12 | immr << 6 | imms) and
 * 1 is returned; 0 when v is not a logical immediate (all zeros, all ones,
 * or not a rotated run of ones repeated in 2, 4, ..., 64-bit elements). For
 * width 32 only the low 32 bits of v count. */
JK_API int jk_a64_logical_imm(uint64_t v, unsigned width, uint32_t *nimms);

/* xd = the address of label l (+-4 GiB): adrp xd, l; add xd, xd, #:lo12:l -
 * both filled in at copy/install, when the address is known. */
JK_API jk_status jk_a64_adrl(jk_a64_asm *a, jk_a64_op xd, jk_label l);

/* -- Labels -------------------------------------------------------------- */

/* New unbound label; name (may be NULL, copied) is used in error messages.
 * Returns 0 after an error (the error is sticky). */
JK_API jk_label jk_a64_label(jk_a64_asm *a, const char *name);

/* Bind the label to the current position. JK_ELABEL if already bound. */
JK_API jk_status jk_a64_bind(jk_a64_asm *a, jk_label l);

/* A label standing for an absolute address (a C function): b/bl/adr/adrp
 * to it are filled in at copy/install (JK_ENOTNEAR there when out of
 * reach: b/bl +-128 MiB, adr +-1 MiB, adrp +-4 GiB). For a call at any
 * distance use jk_a64_call_abs. */
JK_API jk_label jk_a64_label_abs(jk_a64_asm *a, uint64_t address);

/* A label for a named external symbol, resolved at copy/install through the
 * resolver given to jk_a64_set_resolver. */
JK_API jk_label jk_a64_label_extern(jk_a64_asm *a, const char *name);

typedef uint64_t (*jk_a64_resolver)(void *ctx, const char *name, int *found);
JK_API jk_status jk_a64_set_resolver(jk_a64_asm *a, jk_a64_resolver fn, void *ctx);

/* Call the function at `address` wherever it is: the address is
 * materialized in `scratch` (an x register, usually JK_X16 or JK_X17, the
 * intra-procedure-call registers) with jk_a64_mov_imm, then blr scratch. */
JK_API jk_status jk_a64_call_abs(jk_a64_asm *a, jk_a64_op scratch, uint64_t address);

/* -- Data and alignment --------------------------------------------------- */

/* Data in the code. Each call is padded with zero bytes to a multiple of 4
 * so instructions stay word aligned. */
JK_API jk_status jk_a64_db(jk_a64_asm *a, const void *data, size_t size);
JK_API jk_status jk_a64_dd(jk_a64_asm *a, uint32_t v);
JK_API jk_status jk_a64_dq(jk_a64_asm *a, uint64_t v);
/* The absolute address of a label (+ addend), 8 bytes, filled in at copy. */
JK_API jk_status jk_a64_dlabel(jk_a64_asm *a, jk_label l, int64_t addend);

/* Pad with nop instructions to a multiple of `align` (a power of two,
 * 4..4096; 1 and 2 are accepted and do nothing since code stays word
 * aligned). */
JK_API jk_status jk_a64_align(jk_a64_asm *a, unsigned align);

/* A constant in the pool placed after the code (aligned to `align`, a power
 * of two up to 64; identical constants are shared). Load it with
 * jk_a64_ldr(a, JK_X0, jk_a64_lbl(l)) (ldr literal, +-1 MiB) or take its
 * address with adr. Returns 0 after an error. */
JK_API jk_label jk_a64_const(jk_a64_asm *a, const void *data, size_t size, unsigned align);

/* -- Finish and install ---------------------------------------------------- */

/* Lay out the code: place the constant pool, relax branches (b.cond, cbz,
 * cbnz, tbz, tbnz whose target is out of reach become the inverted branch
 * over a b, to a fixed point), resolve label fix-ups. JK_ELABEL ("label
 * 'loop' never bound"), JK_ERANGE (a field that cannot reach: b/bl beyond
 * +-128 MiB, adr or ldr literal beyond +-1 MiB). */
JK_API jk_status jk_a64_finish(jk_a64_asm *a, size_t *size);

/* Copy the finished code into dst (cap bytes; JK_ENOSPACE if too small),
 * resolving address-dependent fields (adrp, targets outside the code) as if
 * the code ran at runtime_addr (a multiple of 4). Finishes first if needed. */
JK_API jk_status jk_a64_copy(jk_a64_asm *a, void *dst, size_t cap, uint64_t runtime_addr);

/* Finish, allocate executable memory (opt may be NULL), copy, commit (which
 * makes the instruction cache coherent). *mem owns the code (jk_mem_free);
 * *entry is the start address. */
JK_API jk_status jk_a64_install(jk_a64_asm *a, const jk_mem_options *opt, jk_mem **mem,
                                void **entry);

/* Offset of a bound label in the finished code. JK_ESTATE before finish. */
JK_API jk_status jk_a64_label_offset(const jk_a64_asm *a, jk_label l, size_t *offset);

/* Current size of the code emitted so far (before relaxation). */
JK_API size_t jk_a64_offset(const jk_a64_asm *a);

/* -- Errors ------------------------------------------------------------ */

JK_API jk_status jk_a64_status(const jk_a64_asm *a);
JK_API const jk_error *jk_a64_error(const jk_a64_asm *a);
/* Where the first error happened: index of the instruction/directive and
 * the code offset (for errors found at copy: the field's final offset). */
JK_API void jk_a64_error_where(const jk_a64_asm *a, size_t *index, size_t *offset);
/* The index the next instruction or directive gets. 0 for NULL. */
JK_API size_t jk_a64_insn_index(const jk_a64_asm *a);

/* -- Registers and named constants ------------------------------------------ */

#define JK_A64_X_(n) jk_a64_reg(JK_A64_RC_X, n)
#define JK_A64_W_(n) jk_a64_reg(JK_A64_RC_W, n)
#define JK_X0 JK_A64_X_(0)
#define JK_X1 JK_A64_X_(1)
#define JK_X2 JK_A64_X_(2)
#define JK_X3 JK_A64_X_(3)
#define JK_X4 JK_A64_X_(4)
#define JK_X5 JK_A64_X_(5)
#define JK_X6 JK_A64_X_(6)
#define JK_X7 JK_A64_X_(7)
#define JK_X8 JK_A64_X_(8)
#define JK_X9 JK_A64_X_(9)
#define JK_X10 JK_A64_X_(10)
#define JK_X11 JK_A64_X_(11)
#define JK_X12 JK_A64_X_(12)
#define JK_X13 JK_A64_X_(13)
#define JK_X14 JK_A64_X_(14)
#define JK_X15 JK_A64_X_(15)
#define JK_X16 JK_A64_X_(16)
#define JK_X17 JK_A64_X_(17)
#define JK_X18 JK_A64_X_(18)
#define JK_X19 JK_A64_X_(19)
#define JK_X20 JK_A64_X_(20)
#define JK_X21 JK_A64_X_(21)
#define JK_X22 JK_A64_X_(22)
#define JK_X23 JK_A64_X_(23)
#define JK_X24 JK_A64_X_(24)
#define JK_X25 JK_A64_X_(25)
#define JK_X26 JK_A64_X_(26)
#define JK_X27 JK_A64_X_(27)
#define JK_X28 JK_A64_X_(28)
#define JK_X29 JK_A64_X_(29)
#define JK_X30 JK_A64_X_(30)
#define JK_XZR JK_A64_X_(31)
#define JK_FP JK_X29
#define JK_LR JK_X30
#define JK_XSP jk_a64_reg(JK_A64_RC_SP, 31)
#define JK_W0 JK_A64_W_(0)
#define JK_W1 JK_A64_W_(1)
#define JK_W2 JK_A64_W_(2)
#define JK_W3 JK_A64_W_(3)
#define JK_W4 JK_A64_W_(4)
#define JK_W5 JK_A64_W_(5)
#define JK_W6 JK_A64_W_(6)
#define JK_W7 JK_A64_W_(7)
#define JK_W8 JK_A64_W_(8)
#define JK_W9 JK_A64_W_(9)
#define JK_W10 JK_A64_W_(10)
#define JK_W11 JK_A64_W_(11)
#define JK_W12 JK_A64_W_(12)
#define JK_W13 JK_A64_W_(13)
#define JK_W14 JK_A64_W_(14)
#define JK_W15 JK_A64_W_(15)
#define JK_W16 JK_A64_W_(16)
#define JK_W17 JK_A64_W_(17)
#define JK_W18 JK_A64_W_(18)
#define JK_W19 JK_A64_W_(19)
#define JK_W20 JK_A64_W_(20)
#define JK_W21 JK_A64_W_(21)
#define JK_W22 JK_A64_W_(22)
#define JK_W23 JK_A64_W_(23)
#define JK_W24 JK_A64_W_(24)
#define JK_W25 JK_A64_W_(25)
#define JK_W26 JK_A64_W_(26)
#define JK_W27 JK_A64_W_(27)
#define JK_W28 JK_A64_W_(28)
#define JK_W29 JK_A64_W_(29)
#define JK_W30 JK_A64_W_(30)
#define JK_WZR JK_A64_W_(31)
#define JK_WSP jk_a64_reg(JK_A64_RC_WSP, 31)

/* Floating-point / SIMD registers by width: JK_S0.. (single), JK_D0..
 * (double), JK_Q0.. (128 bits); b and h registers through JK_A64_B_(n),
 * JK_A64_H_(n). */
#define JK_A64_B_(n) jk_a64_reg(JK_A64_RC_B, n)
#define JK_A64_H_(n) jk_a64_reg(JK_A64_RC_H, n)
#define JK_A64_S_(n) jk_a64_reg(JK_A64_RC_S, n)
#define JK_A64_D_(n) jk_a64_reg(JK_A64_RC_D, n)
#define JK_A64_Q_(n) jk_a64_reg(JK_A64_RC_Q, n)
#define JK_S0 JK_A64_S_(0)
#define JK_S1 JK_A64_S_(1)
#define JK_S2 JK_A64_S_(2)
#define JK_S3 JK_A64_S_(3)
#define JK_S4 JK_A64_S_(4)
#define JK_S5 JK_A64_S_(5)
#define JK_S6 JK_A64_S_(6)
#define JK_S7 JK_A64_S_(7)
#define JK_S8 JK_A64_S_(8)
#define JK_S9 JK_A64_S_(9)
#define JK_S10 JK_A64_S_(10)
#define JK_S11 JK_A64_S_(11)
#define JK_S12 JK_A64_S_(12)
#define JK_S13 JK_A64_S_(13)
#define JK_S14 JK_A64_S_(14)
#define JK_S15 JK_A64_S_(15)
#define JK_S16 JK_A64_S_(16)
#define JK_S17 JK_A64_S_(17)
#define JK_S18 JK_A64_S_(18)
#define JK_S19 JK_A64_S_(19)
#define JK_S20 JK_A64_S_(20)
#define JK_S21 JK_A64_S_(21)
#define JK_S22 JK_A64_S_(22)
#define JK_S23 JK_A64_S_(23)
#define JK_S24 JK_A64_S_(24)
#define JK_S25 JK_A64_S_(25)
#define JK_S26 JK_A64_S_(26)
#define JK_S27 JK_A64_S_(27)
#define JK_S28 JK_A64_S_(28)
#define JK_S29 JK_A64_S_(29)
#define JK_S30 JK_A64_S_(30)
#define JK_S31 JK_A64_S_(31)
#define JK_D0 JK_A64_D_(0)
#define JK_D1 JK_A64_D_(1)
#define JK_D2 JK_A64_D_(2)
#define JK_D3 JK_A64_D_(3)
#define JK_D4 JK_A64_D_(4)
#define JK_D5 JK_A64_D_(5)
#define JK_D6 JK_A64_D_(6)
#define JK_D7 JK_A64_D_(7)
#define JK_D8 JK_A64_D_(8)
#define JK_D9 JK_A64_D_(9)
#define JK_D10 JK_A64_D_(10)
#define JK_D11 JK_A64_D_(11)
#define JK_D12 JK_A64_D_(12)
#define JK_D13 JK_A64_D_(13)
#define JK_D14 JK_A64_D_(14)
#define JK_D15 JK_A64_D_(15)
#define JK_D16 JK_A64_D_(16)
#define JK_D17 JK_A64_D_(17)
#define JK_D18 JK_A64_D_(18)
#define JK_D19 JK_A64_D_(19)
#define JK_D20 JK_A64_D_(20)
#define JK_D21 JK_A64_D_(21)
#define JK_D22 JK_A64_D_(22)
#define JK_D23 JK_A64_D_(23)
#define JK_D24 JK_A64_D_(24)
#define JK_D25 JK_A64_D_(25)
#define JK_D26 JK_A64_D_(26)
#define JK_D27 JK_A64_D_(27)
#define JK_D28 JK_A64_D_(28)
#define JK_D29 JK_A64_D_(29)
#define JK_D30 JK_A64_D_(30)
#define JK_D31 JK_A64_D_(31)
#define JK_Q0 JK_A64_Q_(0)
#define JK_Q1 JK_A64_Q_(1)
#define JK_Q2 JK_A64_Q_(2)
#define JK_Q3 JK_A64_Q_(3)
#define JK_Q4 JK_A64_Q_(4)
#define JK_Q5 JK_A64_Q_(5)
#define JK_Q6 JK_A64_Q_(6)
#define JK_Q7 JK_A64_Q_(7)
#define JK_Q8 JK_A64_Q_(8)
#define JK_Q9 JK_A64_Q_(9)
#define JK_Q10 JK_A64_Q_(10)
#define JK_Q11 JK_A64_Q_(11)
#define JK_Q12 JK_A64_Q_(12)
#define JK_Q13 JK_A64_Q_(13)
#define JK_Q14 JK_A64_Q_(14)
#define JK_Q15 JK_A64_Q_(15)
#define JK_Q16 JK_A64_Q_(16)
#define JK_Q17 JK_A64_Q_(17)
#define JK_Q18 JK_A64_Q_(18)
#define JK_Q19 JK_A64_Q_(19)
#define JK_Q20 JK_A64_Q_(20)
#define JK_Q21 JK_A64_Q_(21)
#define JK_Q22 JK_A64_Q_(22)
#define JK_Q23 JK_A64_Q_(23)
#define JK_Q24 JK_A64_Q_(24)
#define JK_Q25 JK_A64_Q_(25)
#define JK_Q26 JK_A64_Q_(26)
#define JK_Q27 JK_A64_Q_(27)
#define JK_Q28 JK_A64_Q_(28)
#define JK_Q29 JK_A64_Q_(29)
#define JK_Q30 JK_A64_Q_(30)
#define JK_Q31 JK_A64_Q_(31)

/* Condition codes (jk_a64_cond(JK_A64_EQ), cset/csel/ccmp operands). */
enum {
    JK_A64_EQ, JK_A64_NE, JK_A64_CS, JK_A64_CC, JK_A64_MI, JK_A64_PL, JK_A64_VS, JK_A64_VC,
    JK_A64_HI, JK_A64_LS, JK_A64_GE, JK_A64_LT, JK_A64_GT, JK_A64_LE, JK_A64_AL, JK_A64_NV,
    JK_A64_HS = JK_A64_CS, JK_A64_LO = JK_A64_CC
};

/* Barrier options (dmb/dsb immediates). */
enum {
    JK_A64_OSHLD = 1, JK_A64_OSHST = 2, JK_A64_OSH = 3, JK_A64_NSHLD = 5, JK_A64_NSHST = 6,
    JK_A64_NSH = 7, JK_A64_ISHLD = 9, JK_A64_ISHST = 10, JK_A64_ISH = 11, JK_A64_LD = 13,
    JK_A64_ST = 14, JK_A64_SY = 15
};

/* bti targets (jk_a64_bti(a, jk_a64_imm(JK_A64_BTI_C))). */
enum { JK_A64_BTI_C = 1, JK_A64_BTI_J = 2, JK_A64_BTI_JC = 3 };

/* System registers for mrs/msr. */
#define JK_A64_NZCV       jk_a64_sysreg(3, 3, 4, 2, 0)
#define JK_A64_FPCR       jk_a64_sysreg(3, 3, 4, 4, 0)
#define JK_A64_FPSR       jk_a64_sysreg(3, 3, 4, 4, 1)
#define JK_A64_TPIDR_EL0  jk_a64_sysreg(3, 3, 13, 0, 2)
#define JK_A64_TPIDRRO_EL0 jk_a64_sysreg(3, 3, 13, 0, 3)
#define JK_A64_CNTVCT_EL0 jk_a64_sysreg(3, 3, 14, 0, 2)
#define JK_A64_CNTFRQ_EL0 jk_a64_sysreg(3, 3, 14, 0, 0)
#define JK_A64_CTR_EL0    jk_a64_sysreg(3, 3, 0, 0, 1)
#define JK_A64_DCZID_EL0  jk_a64_sysreg(3, 3, 0, 0, 7)
/* Cache maintenance operations for dc / ic. */
#define JK_A64_DC_ZVA     jk_a64_sysreg(1, 3, 7, 4, 1)
#define JK_A64_DC_CVAC    jk_a64_sysreg(1, 3, 7, 10, 1)
#define JK_A64_DC_CVAU    jk_a64_sysreg(1, 3, 7, 11, 1)
#define JK_A64_DC_CIVAC   jk_a64_sysreg(1, 3, 7, 14, 1)
#define JK_A64_IC_IVAU    jk_a64_sysreg(1, 3, 7, 5, 1)

#ifdef __cplusplus
}
#endif
#endif
