/*
 * jitkit/x86.h - the x86 assembler: typed operands, one generic emit entry,
 * per-mnemonic helpers, labels, data, finish and install.
 *
 *     jk_x86_asm *a;
 *     jk_x86_new(&a, JK_X86_MODE64, NULL);
 *     jk_label done = jk_x86_label(a, "done");
 *     jk_x86_mov(a, JK_EAX, JK_EDI);
 *     jk_x86_add(a, JK_EAX, jk_imm(1));
 *     jk_x86_jz(a, jk_lbl(done));          relaxed to rel8 or rel32 at finish
 *     jk_x86_bind(a, done);
 *     jk_x86_ret(a);
 *     void *fn; jk_mem *m;
 *     if (jk_x86_install(a, NULL, &m, &fn) != JK_OK) ... jk_x86_error(a)->message
 *
 * Pipeline of one instruction (see docs/x86.md):
 *
 *     operands --classify--> class bits --match forms of the mnemonic-->
 *     first form whose masks accept every operand --build--> prefixes, REX/VEX,
 *     opcode, ModRM/SIB, displacement, immediates --> code buffer (+ fix-up)
 *
 * The forms come from isa/x86.txt through tools/gen_x86.py; their order
 * reproduces GNU as's default encoding choices.
 *
 * Errors are sticky: the first failure is recorded with the index of the
 * instruction, the code offset and a message ("add: no form takes (m64, m64)");
 * every later call returns that status and does nothing. Check once, at
 * finish/install, or after any call.
 *
 * Operands are small plain values (16 bytes) built by the inline constructors
 * below; nothing here allocates per instruction.
 *
 * Thread safety: an assembler must be used by one thread at a time; distinct
 * assemblers are independent.
 */
#ifndef JITKIT_X86_H
#define JITKIT_X86_H

#include "jitkit/status.h"
#include "jitkit/mem.h"
#include "jitkit/heap.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- Operands ------------------------------------------------------------ */

typedef enum jk_x86_opkind {
    JK_X86_OP_NONE,
    JK_X86_OP_REG,
    JK_X86_OP_MEM,
    JK_X86_OP_IMM,
    JK_X86_OP_LABEL,   /* branch target or label address */
    JK_X86_OP_KIND_COUNT
} jk_x86_opkind;

/* Register classes (jk_x86_op.rclass). */
typedef enum jk_x86_rclass {
    JK_X86_RC_NONE,
    JK_X86_RC_GP8,     /* al cl dl bl spl bpl sil dil r8b..r15b */
    JK_X86_RC_GP8HI,   /* ah ch dh bh (numbers 4..7; never with REX) */
    JK_X86_RC_GP16,
    JK_X86_RC_GP32,
    JK_X86_RC_GP64,
    JK_X86_RC_SEG,     /* es cs ss ds fs gs */
    JK_X86_RC_IP,      /* rip (number 0) / eip (number 1): memory base only */
    JK_X86_RC_XMM,
    JK_X86_RC_YMM,
    JK_X86_RC_ZMM,
    JK_X86_RC_K,
    JK_X86_RC_MM,
    JK_X86_RC_ST,
    JK_X86_RC_INVALID, /* marks a malformed operand; rejected by emit */
    JK_X86_RC_COUNT
} jk_x86_rclass;

/* Memory operand flags (jk_x86_op.flags, low 3 bits = segment override). */
#define JK_X86_MEM_SEG_MASK 0x07u /* 0 none, else 1 + segment number (es=1 ... gs=6) */
#define JK_X86_MEM_LABEL    0x08u /* displacement is relative to a label */
#define JK_X86_MEM_BADSCALE 0x10u /* scale was not 1, 2, 4 or 8 */
#define JK_X86_MEM_ABS      0x20u /* with JK_X86_MEM_LABEL: the label's absolute address
                                     is the displacement (base/index allowed), not RIP */
/* Label operand flags: force the long (rel32) form of a relaxable branch;
 * an address immediate (jk_x86_imm_label: value = label | addend << 32). */
#define JK_X86_LBL_NEAR     0x01u
#define JK_X86_LBL_IMM      0x02u

#define JK_X86_NOREGNUM 0xffu

/*
 * One operand. Fill it with the constructors below, not by hand.
 *   REG:   rclass, reg (number 0..31), size (bytes)
 *   MEM:   size (access size in bytes, 0 = unsized; 6 = fword), rclass (class of the
 *          address registers: GP32, GP64, IP, or NONE for an absolute
 *          address), reg (base number or JK_X86_NOREGNUM), iclass/index
 *          (index register), scale (log2), flags (segment, label),
 *          value (displacement; with JK_X86_MEM_LABEL: label id in the high
 *          32 bits, signed 32-bit displacement in the low 32 bits)
 *   IMM:   value
 *   LABEL: value (label id), flags (JK_X86_LBL_NEAR)
 */
typedef struct jk_x86_op {
    uint8_t kind;
    uint8_t size;
    uint8_t rclass;
    uint8_t reg;
    uint8_t iclass;
    uint8_t index;
    uint8_t scale;
    uint8_t flags;
    int64_t value;
} jk_x86_op;

/* A label (or external symbol / absolute address used like one). 0 is never
 * a valid label. */
typedef uint32_t jk_label;

static inline jk_x86_op jk_x86_reg(jk_x86_rclass rc, unsigned num)
{
    static const uint8_t sz[JK_X86_RC_COUNT] = {0, 1, 1, 2, 4, 8, 2, 8, 16, 32, 64, 8, 8, 10, 0};
    jk_x86_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    o.kind = JK_X86_OP_REG;
    o.rclass = (uint8_t)((unsigned)rc < JK_X86_RC_COUNT ? rc : JK_X86_RC_INVALID);
    o.reg = (uint8_t)(num & 31u);
    o.size = sz[o.rclass];
    return o;
}

static inline jk_x86_op jk_x86_imm(int64_t v)
{
    jk_x86_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    o.kind = JK_X86_OP_IMM;
    o.value = v;
    return o;
}

/* Branch target / label address. */
static inline jk_x86_op jk_x86_lbl(jk_label l)
{
    jk_x86_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    o.kind = JK_X86_OP_LABEL;
    o.value = (int64_t)l;
    return o;
}

/* As jk_x86_lbl, but the branch keeps its long (rel32) form. */
static inline jk_x86_op jk_x86_lbl_near(jk_label l)
{
    jk_x86_op o = jk_x86_lbl(l);
    o.flags = JK_X86_LBL_NEAR;
    return o;
}

/* Memory [base + index*scale + disp] of `size` bytes (1, 2, 4, 6, 8, 10, 16,
 * 32, 64; 0 = let the other operands decide). base and index are register
 * operands (JK_RAX ...) or JK_NOREG; base may be JK_RIP / JK_EIP. 32-bit
 * address registers in 64-bit mode give the 0x67 prefix. Malformed input
 * (non-register base, bad scale) is caught by emit, not here.
 *
 * An xmm or ymm index makes a VSIB operand, the memory operand of the AVX2
 * gathers: jk_x86_vpgatherdd(a, JK_YMM0, jk_x86_mem(0, JK_RAX, JK_YMM2, 4, 8),
 * JK_YMM3) is `vpgatherdd ymm0, [rax+ymm2*4+8], ymm3`. Any vector register
 * can be the index (xmm4 too), the base may be absent, a 32-bit base gives
 * 0x67, rip cannot be the base; size is the element size (4 or 8, as GNU
 * as's dword / qword ptr) or 0. The destination, index and mask registers
 * must differ (the CPU raises #UD otherwise; emit fails with JK_EOPERAND).
 * Only the gathers take VSIB memory. */
static inline jk_x86_op jk_x86_mem(unsigned size, jk_x86_op base, jk_x86_op index,
                                   unsigned scale, int64_t disp)
{
    jk_x86_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    o.kind = JK_X86_OP_MEM;
    o.size = (uint8_t)(size <= 255 ? size : 255);
    o.reg = JK_X86_NOREGNUM;
    o.index = JK_X86_NOREGNUM;
    if (base.kind == JK_X86_OP_REG) {
        o.rclass = base.rclass;
        o.reg = base.reg;
    } else if (base.kind != JK_X86_OP_NONE) {
        o.rclass = JK_X86_RC_INVALID;
    }
    if (index.kind == JK_X86_OP_REG) {
        o.iclass = index.rclass;
        o.index = index.reg;
    } else if (index.kind != JK_X86_OP_NONE) {
        o.iclass = JK_X86_RC_INVALID;
    }
    switch (scale) {
    case 0: case 1: o.scale = 0; break;
    case 2: o.scale = 1; break;
    case 4: o.scale = 2; break;
    case 8: o.scale = 3; break;
    default: o.flags |= JK_X86_MEM_BADSCALE; break;
    }
    o.value = disp;
    return o;
}

/* Absolute address [addr] (moffs / disp32 form; needs a size). */
static inline jk_x86_op jk_x86_mem_abs(unsigned size, uint64_t addr)
{
    jk_x86_op none = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    return jk_x86_mem(size, none, none, 1, (int64_t)addr);
}

/* [label + disp]: RIP-relative in 64-bit mode, absolute (relocated at
 * install) in 32-bit mode. */
static inline jk_x86_op jk_x86_mem_label(unsigned size, jk_label l, int32_t disp)
{
    jk_x86_op none = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    jk_x86_op o = jk_x86_mem(size, none, none, 1, 0);
    o.flags |= JK_X86_MEM_LABEL;
    o.value = (int64_t)(((uint64_t)l << 32) | (uint32_t)disp);
    return o;
}

/* The absolute address of label l plus addend as an immediate - GNU as's
 * `offset l+addend` - relocated when the code is copied / installed. The
 * form is the one GNU as picks for the same operands:
 *
 *   64-bit mode  mov r64, imm      REX.W C7 /0 id  imm32 sign-extended
 *                movabs r64, imm   REX.W B8+r io   imm64
 *                mov r32, imm      B8+r id         imm32 zero-extended
 *                push imm          68 id           imm32 sign-extended
 *                (and any other form with an imm32: add/cmp/... r/m64, imm)
 *   32-bit mode  mov r32, imm (B8+r id), push imm (68 id), ... imm32
 *
 * A 32-bit field is checked at copy/install time: when the final address
 * does not fit (sign-extended for 64-bit operands, zero-extended for 32-bit
 * ones) jk_x86_copy / jk_x86_install fail with JK_ERANGE and a message
 * naming the label ("label 'table' address 0x7f... does not fit a
 * sign-extended imm32/disp32"); use movabs for code placed anywhere. Not a
 * branch target (use jk_x86_lbl). Compare jk_x86_lbl(l) used as an
 * immediate: the full address, imm64 only (movabs) in 64-bit mode. */
static inline jk_x86_op jk_x86_imm_label(jk_label l, int32_t addend)
{
    jk_x86_op o = jk_x86_lbl(l);
    o.flags = JK_X86_LBL_IMM;
    o.value = (int64_t)(((uint64_t)(uint32_t)addend << 32) | l);
    return o;
}

/* [base + index*scale + label + disp] with the label's absolute address as
 * a disp32 (relocated at copy / install) - the jump-table idiom
 * `jmp dword ptr [table + eax*4]`. base and index may be JK_NOREG. In 32-bit
 * mode every address fits. In 64-bit mode RIP-relative addressing cannot
 * take an index, so this is the absolute disp32 form (SIB with no base when
 * there is no base register); the final address must fit a sign-extended
 * disp32 (zero-extended with 32-bit address registers), else copy / install
 * fail with JK_ERANGE naming the label. jk_x86_mem_label stays
 * RIP-relative in 64-bit mode. */
static inline jk_x86_op jk_x86_mem_label_abs(unsigned size, jk_x86_op base, jk_x86_op index,
                                             unsigned scale, jk_label l, int32_t disp)
{
    jk_x86_op o = jk_x86_mem(size, base, index, scale, 0);
    o.flags |= JK_X86_MEM_LABEL | JK_X86_MEM_ABS;
    o.value = (int64_t)(((uint64_t)l << 32) | (uint32_t)disp);
    return o;
}

/* Segment override: es=0 cs=1 ss=2 ds=3 fs=4 gs=5 (pass JK_FS etc.). */
static inline jk_x86_op jk_x86_seg(jk_x86_op mem, jk_x86_op sreg)
{
    if (mem.kind == JK_X86_OP_MEM && sreg.kind == JK_X86_OP_REG &&
        sreg.rclass == JK_X86_RC_SEG && sreg.reg < 6)
        mem.flags = (uint8_t)((mem.flags & ~JK_X86_MEM_SEG_MASK) | (sreg.reg + 1u));
    else
        mem.rclass = JK_X86_RC_INVALID;
    return mem;
}

/* -- Assembler ----------------------------------------------------------- */

typedef enum jk_x86_mode {
    JK_X86_MODE64,
    JK_X86_MODE32,
    JK_X86_MODE_COUNT
} jk_x86_mode;

typedef struct jk_x86_asm jk_x86_asm;

#include "jitkit/x86_insn.h" /* generated: jk_x86_mnem ids and helpers */

/* Create an assembler for 64-bit or 32-bit code. *out receives the handle
 * (free it with jk_x86_free). JK_EINVAL (bad mode / NULL out), JK_ENOMEM. */
JK_API jk_status jk_x86_new(jk_x86_asm **out, jk_x86_mode mode, jk_error *err);

/* Free the assembler (NULL accepted). Installed code is not affected. */
JK_API void jk_x86_free(jk_x86_asm *a);

/* Forget all code, labels and the error; keep the mode and the buffers. */
JK_API void jk_x86_reset(jk_x86_asm *a);

JK_API jk_x86_mode jk_x86_mode_of(const jk_x86_asm *a);

/* -- CPU extensions ----------------------------------------------------------
 * Every form of the table records the extension it needs (SSE4.1, AVX2,
 * FMA, BMI2, ...: the jk_x86_feature bits in x86_insn.h; 0 for the base
 * instruction set). */

/* The extensions this CPU and OS support, from CPUID and, for the
 * VEX-encoded ones (AVX, AVX2, FMA, F16C), XGETBV: the OS must save the YMM
 * state. 0 on a host that is not x86. Detected at the first call and
 * cached (thread-safe): cheap to call per function. */
JK_API uint32_t jk_x86_cpu_features(void);

/* Restrict emission to a feature set (e.g. jk_x86_cpu_features(), or the
 * features of the machine the code is for): an instruction whose only
 * matching forms need an extension outside the set fails with JK_ENOFORM,
 * "vfmadd231ps: needs FMA, which the target feature set lacks". The default,
 * JK_X86_FEAT_ALL, allows everything; a restricted set sends every
 * instruction through the checked (general) path, so it costs encoding
 * speed. Kept across jk_x86_reset. JK_EINVAL for NULL. */
JK_API jk_status jk_x86_set_features(jk_x86_asm *a, uint32_t features);

/* The feature set in force (JK_X86_FEAT_ALL unless restricted); 0 for NULL. */
JK_API uint32_t jk_x86_features_of(const jk_x86_asm *a);

/* The name of one feature bit ("SSE4.1", "AVX2", "FMA"); NULL if not
 * exactly one known bit. */
JK_API const char *jk_x86_feature_name(uint32_t feature);

/* Encode one instruction: mnemonic id (JK_X86_ADD ...), n operands (0..4).
 * The helpers jk_x86_add(a, ...) etc. call this. Returns JK_OK or the sticky
 * error: JK_ENOFORM (no form takes the operands), JK_EOPERAND (malformed
 * operand, e.g. "rsp cannot be an index"), JK_ERANGE (immediate/displacement
 * out of range), JK_ELABEL (bad label), JK_EINVAL, JK_ENOMEM, JK_ESTATE
 * (already finished). jk_x86_emit0/1/2 (declared in x86_insn.h) do the same
 * with the operands passed by value; the helpers use them. */
JK_API jk_status jk_x86_emit(jk_x86_asm *a, jk_x86_mnem id, unsigned n, const jk_x86_op *ops);

/* Same, by name ("add", "cmovne"); JK_ENOFORM for unknown names. */
JK_API jk_status jk_x86_emit_name(jk_x86_asm *a, const char *mnemonic, unsigned n,
                                  const jk_x86_op *ops);

/* Mnemonic id for a lower-case name, or JK_X86_MNEM_COUNT if unknown. */
JK_API jk_x86_mnem jk_x86_mnem_find(const char *name);
/* Name of a mnemonic id ("?" when out of range). */
JK_API const char *jk_x86_mnem_name(jk_x86_mnem id);

/* Prefixes for the next instruction only. lock needs a lockable instruction
 * with a memory destination; rep/repe/repne need a string instruction. */
JK_API jk_status jk_x86_lock(jk_x86_asm *a);
JK_API jk_status jk_x86_rep(jk_x86_asm *a);
JK_API jk_status jk_x86_repe(jk_x86_asm *a);
JK_API jk_status jk_x86_repne(jk_x86_asm *a);
/* Hardware lock elision (HLE) prefixes for the next instruction, GNU as's
 * xacquire (F2) and xrelease (F3): with lock on a lockable instruction, on
 * xchg with memory, and (xrelease only) on mov to memory. Emitted where GNU
 * as puts them (after segment, 0x67 and 0x66, before lock and REX); in
 * 32-bit mode `xrelease mov [abs], eax` takes the ModRM form (F3 89 05), not
 * the moffs store on which the CPU ignores the hint. Misuse fails as in GNU
 * as ("xacquire: add needs lock", "xrelease: mov needs a memory
 * destination"). */
JK_API jk_status jk_x86_xacquire(jk_x86_asm *a);
JK_API jk_status jk_x86_xrelease(jk_x86_asm *a);
/* An explicit REX prefix for the next instruction (GNU as's rex, rex.W,
 * rex.WRXB ...): wrxb (W 8, R 4, X 2, B 1; 0 for a plain 0x40) is ORed into
 * the REX byte the instruction has or gets, which stays right before the
 * opcode (after the legacy prefixes). A bit the instruction sets itself is
 * an error (as in GNU as); 64-bit mode only; not for VEX-encoded
 * instructions; rex with ah..bh is refused as any REX is. */
JK_API jk_status jk_x86_rex(jk_x86_asm *a, unsigned wrxb);
/* GNU as's addr32 for the next instruction (64-bit mode): 0x67, so memory is
 * addressed with 32 bits - an absolute address is zero-extended from 32
 * bits, and the accumulator moves to and from an absolute address take the
 * moffs forms with a 4-byte address (`addr32 mov al, ds:0x600898` is
 * 67 a0 98 08 60 00), as GNU as picks. 64-bit address registers and labels
 * (RIP-relative) are refused with it; 32-bit registers give 0x67 anyway. In
 * 32-bit mode it is an error ("redundant"), as in GNU as. */
JK_API jk_status jk_x86_addr32(jk_x86_asm *a);

/* GNU as's pseudo-prefixes for the next instruction (OR them; one call or
 * several): they choose among encodings of the same instruction.
 *   JK_X86_HINT_VEX     {vex}: the VEX form. Required by the mnemonics GNU
 *                       as encodes with EVEX (AVX-512) unless told {vex} -
 *                       AVX-VNNI vpdpbusd & co., AVX-IFMA vpmadd52luq/huq,
 *                       vcvtneps2bf16 - which jitkit has only as VEX: without
 *                       it they fail (JK_EUNSUPPORTED), so the default never
 *                       means other bytes than GNU as's
 *   JK_X86_HINT_VEX3    {vex3}: the 3-byte VEX (c4) even where c5 would do
 *   JK_X86_HINT_LOAD    {load}: with two registers, the form whose ModRM.rm
 *                       is the source (mov eax, ebx: 8b c3, not 89 d8)
 *   JK_X86_HINT_STORE   {store}: the form whose ModRM.rm is the destination
 *   JK_X86_HINT_SWAP    the `.s` suffix objdump prints (mov.s, vmovaps.s):
 *                       the other of the two register forms than the default
 *   JK_X86_HINT_DISP8   {disp8}: a based address takes a disp8 even when 0
 *                       (a displacement that does not fit keeps disp32)
 *   JK_X86_HINT_DISP32  {disp32}: a based address takes a disp32; a branch
 *                       to a label keeps its rel32 form
 * Where the instruction has no such choice the hint changes nothing (as in
 * GNU as), except {vex} / {vex3} on a legacy-encoded instruction: an error.
 * JK_EINVAL for unknown bits; JK_EOPERAND for a contradiction ({load} with
 * {store}, {disp8} with {disp32}, {vex} with {vex3}) or a repeat. */
#define JK_X86_HINT_VEX    0x01u
#define JK_X86_HINT_VEX3   0x02u
#define JK_X86_HINT_LOAD   0x04u
#define JK_X86_HINT_STORE  0x08u
#define JK_X86_HINT_SWAP   0x10u
#define JK_X86_HINT_DISP8  0x20u
#define JK_X86_HINT_DISP32 0x40u
#define JK_X86_HINT_ALL    0x7Fu
JK_API jk_status jk_x86_hint(jk_x86_asm *a, unsigned hints);

/* -- Labels -------------------------------------------------------------- */

/* New unbound label; name (may be NULL, copied) is used in error messages.
 * Returns 0 after an error (the error is sticky). */
JK_API jk_label jk_x86_label(jk_x86_asm *a, const char *name);

/* Bind the label to the current position. JK_ELABEL if already bound or
 * not a local label. */
JK_API jk_status jk_x86_bind(jk_x86_asm *a, jk_label l);

/* A label standing for an absolute address (a C function, a global):
 * branches and RIP-relative operands to it are relocated at install time
 * (JK_ENOTNEAR at install if a rel32 cannot reach). */
JK_API jk_label jk_x86_label_abs(jk_x86_asm *a, uint64_t address);

/* A label for a named external symbol, resolved at install time through the
 * resolver given to jk_x86_set_resolver. */
JK_API jk_label jk_x86_label_extern(jk_x86_asm *a, const char *name);

/* A label `addend` bytes from label l in the final code: the target of
 * GNU as's `jmp l-1` or `call l+16`. Usable wherever a label is (branches
 * relax to it like to any label, fix-ups, [label + disp]); it cannot be
 * bound. From an absolute or external label it is the address plus addend.
 * Returns 0 after an error (sticky): JK_ELABEL when l does not exist. */
JK_API jk_label jk_x86_label_plus(jk_x86_asm *a, jk_label l, int64_t addend);

typedef uint64_t (*jk_x86_resolver)(void *ctx, const char *name, int *found);
JK_API jk_status jk_x86_set_resolver(jk_x86_asm *a, jk_x86_resolver fn, void *ctx);

/* -- Data and alignment --------------------------------------------------- */

JK_API jk_status jk_x86_db(jk_x86_asm *a, const void *data, size_t size);
JK_API jk_status jk_x86_dw(jk_x86_asm *a, uint16_t v);
JK_API jk_status jk_x86_dd(jk_x86_asm *a, uint32_t v);
JK_API jk_status jk_x86_dq(jk_x86_asm *a, uint64_t v);
/* The absolute address of a label (+ addend), 8 bytes (4 in 32-bit mode);
 * filled in at install. For jump tables. */
JK_API jk_status jk_x86_dlabel(jk_x86_asm *a, jk_label l, int64_t addend);

/* Pad with the recommended multi-byte NOPs to a multiple of `align`
 * (a power of two, 1..4096). */
JK_API jk_status jk_x86_align(jk_x86_asm *a, unsigned align);

/* Alignment as GNU as's .balign align, fill, max_skip: pad to a multiple of
 * `align` unless that takes more than max_skip bytes (then no padding;
 * JK_X86_ALIGN_ANY: no limit), with the byte `fill` (0..255) or, for fill
 * JK_X86_ALIGN_NOPS, the NOPs of jk_x86_align. */
#define JK_X86_ALIGN_ANY  0xFFFFu
#define JK_X86_ALIGN_NOPS (-1)
JK_API jk_status jk_x86_align_fill(jk_x86_asm *a, unsigned align, unsigned max_skip, int fill);

/* Emit the recommended NOP sequence of exactly n bytes. */
JK_API jk_status jk_x86_nops(jk_x86_asm *a, unsigned n);

/* A constant in the pool placed after the code (aligned to `align`, a power
 * of two up to 64; identical constants are shared). Use the returned label
 * with jk_x86_mem_label. Returns 0 after an error. */
JK_API jk_label jk_x86_const(jk_x86_asm *a, const void *data, size_t size, unsigned align);

/* -- Finish and install ---------------------------------------------------- */

/* Lay out the code: place the constant pool, relax branches to the shortest
 * form that reaches (iterating to a fixed point), resolve label fix-ups.
 * *size receives the final size in bytes. After finish, no more code can be
 * emitted (JK_ESTATE). Fails with JK_ELABEL ("label 'loop' never bound"),
 * JK_ERANGE (a rel8-only branch cannot reach). Calling it again just
 * reports the size - after a copy, as that copy laid the code out (calls
 * and jumps that went through slots make it larger). */
JK_API jk_status jk_x86_finish(jk_x86_asm *a, size_t *size);

/* Copy the finished code into dst (cap bytes; JK_ENOSPACE if too small),
 * resolving address-dependent relocations as if the code ran at runtime_addr.
 * This is the seam for custom allocators (code heaps): allocate, copy with
 * the executable address, commit. Finishes first if needed. */
JK_API jk_status jk_x86_copy(jk_x86_asm *a, void *dst, size_t cap, uint64_t runtime_addr);

/* Finish, allocate executable memory (opt may be NULL), copy, commit.
 * *mem owns the code (jk_mem_free); *entry is the start address. */
JK_API jk_status jk_x86_install(jk_x86_asm *a, const jk_mem_options *opt, jk_mem **mem,
                                void **entry);

/* One call from assembler to callable: finish, place the code in heap h
 * (NULL: the process-wide default heap, jk_heap_default), resolve
 * relocations for its address and publish it. *fn is the address to call;
 * free it with jk_heap_free(h, *fn, ...). The heap places code near the host
 * program by default, so rel32 calls into it reach. Errors as for
 * jk_x86_install and jk_heap_alloc, recorded in the assembler (sticky);
 * nothing stays allocated on failure. Thread-safe with respect to the heap
 * (the assembler itself belongs to one thread). */
JK_API jk_status jk_x86_install_heap(jk_x86_asm *a, jk_heap *h, void **fn);

/* Offset of a bound label in the finished code. JK_ESTATE before finish. */
JK_API jk_status jk_x86_label_offset(const jk_x86_asm *a, jk_label l, size_t *offset);

/* Current size of the code emitted so far (before relaxation). */
JK_API size_t jk_x86_offset(const jk_x86_asm *a);

/* -- Errors ------------------------------------------------------------ */

/* JK_OK or the first error. */
JK_API jk_status jk_x86_status(const jk_x86_asm *a);
/* The first error (status JK_OK and empty message when none). */
JK_API const jk_error *jk_x86_error(const jk_x86_asm *a);
/* Where the first error happened: index of the instruction/directive (0-based)
 * and the code offset at that point. For an error found by jk_x86_copy or an
 * install (an address out of reach of its field), the instruction holding
 * the field and the field's offset in the final code. */
JK_API void jk_x86_error_where(const jk_x86_asm *a, size_t *index, size_t *offset);
/* The index the next instruction or directive gets (the count so far), as
 * jk_x86_error_where reports it: lets a front end map an error back to its
 * own statement. 0 for NULL. */
JK_API size_t jk_x86_insn_index(const jk_x86_asm *a);

/* -- Register operands ----------------------------------------------------- */

/* "No register" (for an absent base or index). */
static inline jk_x86_op jk_x86_noreg(void)
{
    jk_x86_op o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    return o;
}
#define JK_NOREG jk_x86_noreg()
#define JK_X86_GPR_(rc, n) jk_x86_reg(JK_X86_RC_##rc, n)

#define JK_AL   JK_X86_GPR_(GP8, 0)
#define JK_CL   JK_X86_GPR_(GP8, 1)
#define JK_DL   JK_X86_GPR_(GP8, 2)
#define JK_BL   JK_X86_GPR_(GP8, 3)
#define JK_SPL  JK_X86_GPR_(GP8, 4)
#define JK_BPL  JK_X86_GPR_(GP8, 5)
#define JK_SIL  JK_X86_GPR_(GP8, 6)
#define JK_DIL  JK_X86_GPR_(GP8, 7)
#define JK_R8B  JK_X86_GPR_(GP8, 8)
#define JK_R9B  JK_X86_GPR_(GP8, 9)
#define JK_R10B JK_X86_GPR_(GP8, 10)
#define JK_R11B JK_X86_GPR_(GP8, 11)
#define JK_R12B JK_X86_GPR_(GP8, 12)
#define JK_R13B JK_X86_GPR_(GP8, 13)
#define JK_R14B JK_X86_GPR_(GP8, 14)
#define JK_R15B JK_X86_GPR_(GP8, 15)
#define JK_AH   JK_X86_GPR_(GP8HI, 4)
#define JK_CH   JK_X86_GPR_(GP8HI, 5)
#define JK_DH   JK_X86_GPR_(GP8HI, 6)
#define JK_BH   JK_X86_GPR_(GP8HI, 7)

#define JK_AX   JK_X86_GPR_(GP16, 0)
#define JK_CX   JK_X86_GPR_(GP16, 1)
#define JK_DX   JK_X86_GPR_(GP16, 2)
#define JK_BX   JK_X86_GPR_(GP16, 3)
#define JK_SP   JK_X86_GPR_(GP16, 4)
#define JK_BP   JK_X86_GPR_(GP16, 5)
#define JK_SI   JK_X86_GPR_(GP16, 6)
#define JK_DI   JK_X86_GPR_(GP16, 7)
#define JK_R8W  JK_X86_GPR_(GP16, 8)
#define JK_R9W  JK_X86_GPR_(GP16, 9)
#define JK_R10W JK_X86_GPR_(GP16, 10)
#define JK_R11W JK_X86_GPR_(GP16, 11)
#define JK_R12W JK_X86_GPR_(GP16, 12)
#define JK_R13W JK_X86_GPR_(GP16, 13)
#define JK_R14W JK_X86_GPR_(GP16, 14)
#define JK_R15W JK_X86_GPR_(GP16, 15)

#define JK_EAX  JK_X86_GPR_(GP32, 0)
#define JK_ECX  JK_X86_GPR_(GP32, 1)
#define JK_EDX  JK_X86_GPR_(GP32, 2)
#define JK_EBX  JK_X86_GPR_(GP32, 3)
#define JK_ESP  JK_X86_GPR_(GP32, 4)
#define JK_EBP  JK_X86_GPR_(GP32, 5)
#define JK_ESI  JK_X86_GPR_(GP32, 6)
#define JK_EDI  JK_X86_GPR_(GP32, 7)
#define JK_R8D  JK_X86_GPR_(GP32, 8)
#define JK_R9D  JK_X86_GPR_(GP32, 9)
#define JK_R10D JK_X86_GPR_(GP32, 10)
#define JK_R11D JK_X86_GPR_(GP32, 11)
#define JK_R12D JK_X86_GPR_(GP32, 12)
#define JK_R13D JK_X86_GPR_(GP32, 13)
#define JK_R14D JK_X86_GPR_(GP32, 14)
#define JK_R15D JK_X86_GPR_(GP32, 15)

#define JK_RAX  JK_X86_GPR_(GP64, 0)
#define JK_RCX  JK_X86_GPR_(GP64, 1)
#define JK_RDX  JK_X86_GPR_(GP64, 2)
#define JK_RBX  JK_X86_GPR_(GP64, 3)
#define JK_RSP  JK_X86_GPR_(GP64, 4)
#define JK_RBP  JK_X86_GPR_(GP64, 5)
#define JK_RSI  JK_X86_GPR_(GP64, 6)
#define JK_RDI  JK_X86_GPR_(GP64, 7)
#define JK_R8   JK_X86_GPR_(GP64, 8)
#define JK_R9   JK_X86_GPR_(GP64, 9)
#define JK_R10  JK_X86_GPR_(GP64, 10)
#define JK_R11  JK_X86_GPR_(GP64, 11)
#define JK_R12  JK_X86_GPR_(GP64, 12)
#define JK_R13  JK_X86_GPR_(GP64, 13)
#define JK_R14  JK_X86_GPR_(GP64, 14)
#define JK_R15  JK_X86_GPR_(GP64, 15)

#define JK_ES   JK_X86_GPR_(SEG, 0)
#define JK_CS   JK_X86_GPR_(SEG, 1)
#define JK_SS   JK_X86_GPR_(SEG, 2)
#define JK_DS   JK_X86_GPR_(SEG, 3)
#define JK_FS   JK_X86_GPR_(SEG, 4)
#define JK_GS   JK_X86_GPR_(SEG, 5)
#define JK_RIP  JK_X86_GPR_(IP, 0)
#define JK_EIP  JK_X86_GPR_(IP, 1)   /* 32-bit IP-relative (0x67) */
/* SSE / AVX vector registers: xmm0..15 (16 bytes), ymm0..15 (32 bytes);
 * xmm8..15 / ymm8..15 need 64-bit mode. */
#define JK_XMM0  JK_X86_GPR_(XMM, 0)
#define JK_XMM1  JK_X86_GPR_(XMM, 1)
#define JK_XMM2  JK_X86_GPR_(XMM, 2)
#define JK_XMM3  JK_X86_GPR_(XMM, 3)
#define JK_XMM4  JK_X86_GPR_(XMM, 4)
#define JK_XMM5  JK_X86_GPR_(XMM, 5)
#define JK_XMM6  JK_X86_GPR_(XMM, 6)
#define JK_XMM7  JK_X86_GPR_(XMM, 7)
#define JK_XMM8  JK_X86_GPR_(XMM, 8)
#define JK_XMM9  JK_X86_GPR_(XMM, 9)
#define JK_XMM10 JK_X86_GPR_(XMM, 10)
#define JK_XMM11 JK_X86_GPR_(XMM, 11)
#define JK_XMM12 JK_X86_GPR_(XMM, 12)
#define JK_XMM13 JK_X86_GPR_(XMM, 13)
#define JK_XMM14 JK_X86_GPR_(XMM, 14)
#define JK_XMM15 JK_X86_GPR_(XMM, 15)
#define JK_YMM0  JK_X86_GPR_(YMM, 0)
#define JK_YMM1  JK_X86_GPR_(YMM, 1)
#define JK_YMM2  JK_X86_GPR_(YMM, 2)
#define JK_YMM3  JK_X86_GPR_(YMM, 3)
#define JK_YMM4  JK_X86_GPR_(YMM, 4)
#define JK_YMM5  JK_X86_GPR_(YMM, 5)
#define JK_YMM6  JK_X86_GPR_(YMM, 6)
#define JK_YMM7  JK_X86_GPR_(YMM, 7)
#define JK_YMM8  JK_X86_GPR_(YMM, 8)
#define JK_YMM9  JK_X86_GPR_(YMM, 9)
#define JK_YMM10 JK_X86_GPR_(YMM, 10)
#define JK_YMM11 JK_X86_GPR_(YMM, 11)
#define JK_YMM12 JK_X86_GPR_(YMM, 12)
#define JK_YMM13 JK_X86_GPR_(YMM, 13)
#define JK_YMM14 JK_X86_GPR_(YMM, 14)
#define JK_YMM15 JK_X86_GPR_(YMM, 15)
/* MMX registers mm0..mm7 */
#define JK_MM0 JK_X86_GPR_(MM, 0)
#define JK_MM1 JK_X86_GPR_(MM, 1)
#define JK_MM2 JK_X86_GPR_(MM, 2)
#define JK_MM3 JK_X86_GPR_(MM, 3)
#define JK_MM4 JK_X86_GPR_(MM, 4)
#define JK_MM5 JK_X86_GPR_(MM, 5)
#define JK_MM6 JK_X86_GPR_(MM, 6)
#define JK_MM7 JK_X86_GPR_(MM, 7)
/* x87 stack registers st(0)..st(7) */
#define JK_ST0 JK_X86_GPR_(ST, 0)
#define JK_ST1 JK_X86_GPR_(ST, 1)
#define JK_ST2 JK_X86_GPR_(ST, 2)
#define JK_ST3 JK_X86_GPR_(ST, 3)
#define JK_ST4 JK_X86_GPR_(ST, 4)
#define JK_ST5 JK_X86_GPR_(ST, 5)
#define JK_ST6 JK_X86_GPR_(ST, 6)
#define JK_ST7 JK_X86_GPR_(ST, 7)
/* Function form of JK_EIP (kept for callers written against it). */
static inline jk_x86_op jk_x86_eip_(void) { return jk_x86_reg(JK_X86_RC_IP, 1); }

/* Short names for operand constructors (define JK_X86_NO_SHORT_NAMES to
 * keep the namespace clean). */
#ifndef JK_X86_NO_SHORT_NAMES
static inline jk_x86_op jk_imm(int64_t v) { return jk_x86_imm(v); }
static inline jk_x86_op jk_lbl(jk_label l) { return jk_x86_lbl(l); }
static inline jk_x86_op jk_byte(jk_x86_op b, int64_t d) { return jk_x86_mem(1, b, JK_NOREG, 1, d); }
static inline jk_x86_op jk_word(jk_x86_op b, int64_t d) { return jk_x86_mem(2, b, JK_NOREG, 1, d); }
static inline jk_x86_op jk_dword(jk_x86_op b, int64_t d) { return jk_x86_mem(4, b, JK_NOREG, 1, d); }
static inline jk_x86_op jk_qword(jk_x86_op b, int64_t d) { return jk_x86_mem(8, b, JK_NOREG, 1, d); }
static inline jk_x86_op jk_xmmword(jk_x86_op b, int64_t d) { return jk_x86_mem(16, b, JK_NOREG, 1, d); }
static inline jk_x86_op jk_ymmword(jk_x86_op b, int64_t d) { return jk_x86_mem(32, b, JK_NOREG, 1, d); }
#endif

#ifdef __cplusplus
}
#endif
#endif
