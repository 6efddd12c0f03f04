/*
 * x86/tables_p.h - the shape of the generated instruction tables.
 *
 * tools/gen_x86.py reads isa/x86.txt and writes src/x86/tables.c (the forms)
 * and include/jitkit/x86_insn.h (mnemonic ids and helpers). This header is
 * the contract between the two: operand class bits, form layout, flags.
 *
 * Matching is a bitmask test: emit computes one class word per operand
 * (e.g. eax -> R32|EAX, dword [rax] -> M32, imm 5 -> I8|I8S|...|I64) and a
 * form accepts the operands when (form.ops[i] & cls[i]) != 0 for every i.
 * Conditions a single bit cannot express (moffs needs an absolute address,
 * displacement range, ah with REX) are checked while building.
 */
#ifndef JK_X86_TABLES_P_H
#define JK_X86_TABLES_P_H

#include <stdint.h>

#include "jitkit/x86.h"

/* -- Operand class bits ----------------------------------------------------- */
#define JK__C_R8     (1ull << 0)  /* al..dil, r8b..r15b */
#define JK__C_R8HI   (1ull << 1)  /* ah ch dh bh */
#define JK__C_R16    (1ull << 2)
#define JK__C_R32    (1ull << 3)
#define JK__C_R64    (1ull << 4)
#define JK__C_AL     (1ull << 5)
#define JK__C_AX     (1ull << 6)
#define JK__C_EAX    (1ull << 7)
#define JK__C_RAX    (1ull << 8)
#define JK__C_CL     (1ull << 9)
#define JK__C_DX     (1ull << 10)
#define JK__C_SREG   (1ull << 11)
#define JK__C_ES     (1ull << 12)
#define JK__C_CS     (1ull << 13)
#define JK__C_SS     (1ull << 14)
#define JK__C_DS     (1ull << 15)
#define JK__C_FS     (1ull << 16)
#define JK__C_GS     (1ull << 17)
#define JK__C_M8     (1ull << 18)
#define JK__C_M16    (1ull << 19)
#define JK__C_M32    (1ull << 20)
#define JK__C_M64    (1ull << 21)
#define JK__C_M80    (1ull << 22)
#define JK__C_M128   (1ull << 23)
#define JK__C_M256   (1ull << 24)
#define JK__C_M512   (1ull << 25)
#define JK__C_MX     (1ull << 26) /* memory without a size */
#define JK__C_I8     (1ull << 27) /* -128..255 */
#define JK__C_I8S    (1ull << 28) /* -128..127 */
#define JK__C_I8S16  (1ull << 29) /* a 16-bit value whose low 16 bits sign-extend from 8 */
#define JK__C_I8S32  (1ull << 30) /* a 32-bit value whose low 32 bits sign-extend from 8 */
#define JK__C_I16    (1ull << 31) /* -32768..65535 */
#define JK__C_I32    (1ull << 32) /* -2^31..2^32-1 */
#define JK__C_I32S   (1ull << 33) /* -2^31..2^31-1 */
#define JK__C_I64    (1ull << 34)
#define JK__C_ONE    (1ull << 35) /* the literal 1 (shift by one) */
#define JK__C_THREE  (1ull << 36) /* the literal 3 (int 3) */
#define JK__C_REL    (1ull << 37) /* label / absolute target */
#define JK__C_XMM    (1ull << 38)
#define JK__C_YMM    (1ull << 39)
#define JK__C_ZMM    (1ull << 40)
#define JK__C_K      (1ull << 41)
#define JK__C_MM     (1ull << 42)
#define JK__C_ST     (1ull << 43)
#define JK__C_ST0    (1ull << 44)
/* bits 45, 46: the quick path's REX flags (JK__Q_REX, JK__Q_NOREX) */
#define JK__C_XMM0   (1ull << 47) /* xmm0 as the implicit operand (blendvps ..., xmm0) */
/* VSIB memory (the gathers): an xmm or ymm index, elements of 32 or 64 bits;
 * unsized VSIB memory has both size bits of its index class */
#define JK__C_VM32X  (1ull << 48)
#define JK__C_VM32Y  (1ull << 49)
#define JK__C_VM64X  (1ull << 50)
#define JK__C_VM64Y  (1ull << 51)
#define JK__C_VMBAD  (1ull << 52) /* VSIB memory of another size: no form takes it */
#define JK__C_M48    (1ull << 53) /* fword: a far pointer (16-bit selector : 32-bit offset) */

#define JK__C_ANY (~0ull) /* mask of an absent operand */
#define JK__C_MEM (JK__C_M8 | JK__C_M16 | JK__C_M32 | JK__C_M48 | JK__C_M64 | JK__C_M80 | \
                   JK__C_M128 | JK__C_M256 | JK__C_M512 | JK__C_MX)
#define JK__C_IMM (JK__C_I8 | JK__C_I8S | JK__C_I8S16 | JK__C_I8S32 | JK__C_I16 | \
                   JK__C_I32 | JK__C_I32S | JK__C_I64 | JK__C_ONE | JK__C_THREE)

/* -- Operand roles (where an operand is encoded) ---------------------------- */
enum {
    JK__RO_NONE,
    JK__RO_R,  /* ModRM.reg */
    JK__RO_M,  /* ModRM.rm (register or memory) */
    JK__RO_B,  /* both ModRM.reg and ModRM.rm (imul r, imm) */
    JK__RO_V,  /* VEX.vvvv */
    JK__RO_O,  /* low 3 bits of the last opcode byte */
    JK__RO_I,  /* immediate */
    JK__RO_D,  /* relative branch displacement */
    JK__RO_A,  /* absolute address (moffs) */
    JK__RO_Z,  /* implicit: not encoded */
    JK__RO_L,  /* a vector register in bits 7..4 of the immediate byte (/is4) */
    JK__RO_COUNT
};

/* -- Form flags ----------------------------------------------------------------- */
#define JK__F_X64     0x0001u /* 64-bit mode only */
#define JK__F_X86     0x0002u /* 32-bit mode only */
#define JK__F_LOCK    0x0004u /* lock prefix allowed */
#define JK__F_REP     0x0008u /* rep allowed */
#define JK__F_REPCC   0x0010u /* repe/repne allowed */
#define JK__F_NOX64R0 0x0020u /* O operand may not be register 0 in 64-bit mode */
#define JK__F_MODRM   0x0040u /* has a ModRM byte */
#define JK__F_SLOW    0x0080u /* VEX, branch, moffs, 0x67, /is4, 9B, a constant imm8 or nox64r0:
                                 the general builder */
#define JK__F_FIMM    0x0200u /* a constant immediate byte follows (comparison
                                 pseudo-mnemonics: cmpltps = cmpps ..., 1) */
#define JK__F_VSIB    0x0400u /* VSIB memory (gathers): destination, index and mask must
                                 differ; built by build() only */
#define JK__F_EVEXDEF 0x0800u /* GNU as encodes the mnemonic with EVEX unless {vex} is given:
                                 refused without JK_X86_HINT_VEX; built by build() only */
#define JK__F_HLE     0x1000u /* xacquire / xrelease without lock (xchg with memory) */
#define JK__F_HLEREL  0x2000u /* xrelease without lock (mov to memory) */
#define JK__F_NOHLE   0x4000u /* lockable, but no xacquire / xrelease (GNU as: cmpxchg16b) */
#define JK__F_VSWAP   0x0100u /* VEX load form: with registers only, when only VEX.B would be
                                 set, refuse so the store form that follows (rm and reg
                                 swapped) gets the 2-byte VEX, as GNU as does */

/* Prefix bits (jk__x86_form.pfx). */
#define JK__P_66   0x01u
#define JK__P_F2   0x02u
#define JK__P_F3   0x04u
#define JK__P_67   0x08u
#define JK__P_REXW 0x10u
#define JK__P_FWAIT 0x20u /* 9B first (fstcw = fwait; fnstcw), before any other prefix */

/* Encodings. */
enum { JK__ENC_LEGACY, JK__ENC_VEX, JK__ENC_EVEX };

/* ModRM field: 0..7 = /digit, JK__MODRM_R = /r, JK__MODRM_NONE = no ModRM. */
#define JK__MODRM_R    0x10u
#define JK__MODRM_NONE 0xffu

/* VEX field: map (1 = 0F, 2 = 0F38, 3 = 0F3A) | pp << 2 | L << 4 | W << 5. */
#define JK__VEX_MAP(v) ((v) & 3u)
#define JK__VEX_PP(v)  (((v) >> 2) & 3u)
#define JK__VEX_L(v)   (((v) >> 4) & 1u)
#define JK__VEX_W(v)   (((v) >> 5) & 1u)

typedef struct jk__x86_form {
    uint64_t ops[4];    /* accepted operand classes */
    uint32_t slots;     /* operand index per role, 4 bits each (15 = none):
                           R, M, V, O, I0, I1, D, A from bit 0 up */
    uint16_t flags;     /* JK__F_* */
    uint8_t nops;
    uint8_t enc;        /* JK__ENC_* */
    uint8_t pfx;        /* JK__P_* */
    uint8_t opc_len;    /* opcode bytes (legacy: including 0F / 0F 38 / 0F 3A) */
    uint8_t opc[3];
    uint8_t modrm;      /* JK__MODRM_* or digit */
    uint8_t roles[4];   /* JK__RO_* per operand */
    uint8_t immsz[2];   /* bytes of the first/second immediate; for D: disp size */
    uint8_t vex;        /* JK__VEX_* packing */
    uint8_t relax;      /* rel8 branch: distance to its rel32 sibling (0 none) */
    uint8_t opsize;     /* operand size in bits (8/16/32/64), for messages and tests */
    uint8_t lpfx[2];    /* legacy 66/F2/F3 prefix bytes in emission order */
    uint8_t nlpfx;
    uint8_t rexw;       /* 8 when REX.W, else 0 (the REX bit, ready to OR) */
    uint8_t ri, mi, oi, i0, i1; /* the slots above unpacked for the fast builder */
    uint8_t feature;    /* the CPU extension it needs: 0 none, else bit (feature - 1) of
                           jk_x86_feature */
    uint8_t fimm;       /* JK__F_FIMM: the constant immediate byte (cmpltps: 1) */
} jk__x86_form;

extern const uint64_t jk__x86_regcls[2][16][16];
extern const uint8_t jk__x86_reginfo[16][16];
extern const uint8_t jk__x86_regsig[16];

/* The quick path's operand word: class bits (bits 0..44), the signature and
 * the byte-register REX constraints in the spare high bits, so one load
 * classifies a register. Form masks never have these bits set. */
#define JK__Q_SIG_SHIFT 59       /* the top 5 bits: no mask needed to extract it */
#define JK__Q_FLAG_SHIFT 45
#define JK__Q_REX   (1ull << 45) /* spl..dil: needs a REX prefix */
#define JK__Q_NOREX (1ull << 46) /* ah..bh: cannot take one */
extern const uint64_t jk__x86_qreg[2][128];

/* Operand signatures (coarse operand kinds) for the lookup key. */
enum {
    JK__SIG_NONE, JK__SIG_R8, JK__SIG_R8HI, JK__SIG_R16, JK__SIG_R32, JK__SIG_R64,
    JK__SIG_SREG, JK__SIG_M8, JK__SIG_M16, JK__SIG_M32, JK__SIG_M64, JK__SIG_M80,
    JK__SIG_M128, JK__SIG_M256, JK__SIG_M512, JK__SIG_MX,
    JK__SIG_IMM,   /* an immediate outside the signed 32-bit range */
    JK__SIG_LABEL,
    JK__SIG_IMM8,  /* -128..127 except 1 */
    JK__SIG_IMM1,  /* 1 (shift by one) */
    JK__SIG_IMM32, /* other signed 32-bit values */
    JK__SIG_LIMM,  /* a label's address as an immediate (jk_x86_imm_label) */
    JK__SIG_XMM, JK__SIG_YMM,
    JK__SIG_ST,    /* st(0)..st(7) */
    JK__SIG_MM,    /* mm0..mm7 */
    JK__SIG_VMX,   /* VSIB memory with an xmm index */
    JK__SIG_VMY,   /* VSIB memory with a ymm index */
    JK__SIG_M48,   /* fword memory */
    JK__SIG_COUNT
};
#define JK__SIG_BITS 5
_Static_assert(JK__SIG_COUNT <= (1 << JK__SIG_BITS), "signature does not fit its key field");
_Static_assert(JK__SIG_R8 == 1 && JK__SIG_SREG == 6 && JK__SIG_IMM == 16 && JK__SIG_LABEL == 17 &&
                   JK__SIG_IMM8 == 18 && JK__SIG_IMM1 == 19 && JK__SIG_IMM32 == 20 &&
                   JK__SIG_LIMM == 21 && JK__SIG_XMM == 22 && JK__SIG_YMM == 23 &&
                   JK__SIG_ST == 24 && JK__SIG_MM == 25 && JK__SIG_VMX == 26 &&
                   JK__SIG_VMY == 27 && JK__SIG_M48 == 28,
               "signature numbers are shared with tools/gen_x86.py");
_Static_assert(JK_X86_MNEM_COUNT * 2 < (1 << (32 - 4 * JK__SIG_BITS)), "mnemonic field too small");

typedef struct jk__x86_slot {
    uint32_t key;      /* 0xFFFFFFFF = empty */
    uint16_t cand0;    /* the first candidate (as jk__x86_cand[first]) */
    uint16_t first;    /* index into jk__x86_cand */
    uint8_t count;
    uint8_t shape0;    /* jk__x86_cand_shape[first] */
} jk__x86_slot;

#define JK__X86_HASH_MUL 2082737481u /* searched by tools/gen_x86.py */

extern const unsigned jk__x86_lookup_bits;
/* The same as a constant for the quick path (tables.c asserts they agree). */
#define JK__X86_LOOKUP_BITS 15
extern const jk__x86_slot jk__x86_lookup[];
extern const uint16_t jk__x86_cand[]; /* form index; bit 15: no mask test needed */
extern const uint8_t jk__x86_cand_shape[]; /* JK__SH_* per candidate */

/* Encoder shapes chosen by the generator for a (form, operand kinds) pair. */
enum { JK__SH_GEN, JK__SH_RR, JK__SH_RI, JK__SH_MR, JK__SH_MRI, JK__SH_OZ };

/* -- Per-kind entry tables (jk__x86_r, _rr, _ri, _rm, _mr, _l in emit.c) ------
 * krow_<kind>[mnemonic] is the first index of a row of k<kind>_<mode> (row
 * 0: all empty), one array per mode. A row holds, per register class
 * (none, al..r15b, ah..bh, ax.., eax.., rax.., segment, ip: 0..7, so the
 * entries index by class) [and immediate signature
 * (imm8, 1, imm32) or memory size (1, 2, 4, 8, 0)], the form the general
 * matcher picks for *every* operand of those kinds, as one word that says
 * how to encode it (0 = none: the general path decides), see gen_kind in
 * tools/gen_x86.py. Classes none, ah..bh, segment and ip, and rax.. in
 * 32-bit mode, have no entries.
 *
 *   bits  0..31  the bytes without REX: legacy prefixes, opcode, then for
 *                ModRM forms the ModRM byte with its /digit
 * The rest is the high word h = e >> 32, laid out so the hot tests are one
 * AND each:
 *   h bits 0..2  byte count (1..4)       bit  3   REX.W (to insert): h & 8
 *         4..5   prefix count (REX goes after them)
 *         6      ModRM.reg holds no register (a /digit, or +r)
 *                                        bit  7   has a ModRM byte (else +r)
 *         8      byte registers (spl..dil need REX)
 *         9      rr entries: the rm register is operand 1 (8..9 index kx_rr)
 *         9..11  ri entries: the immediate's size in bytes (1, 2, 4)
 *         12..17 register n (0..2: the accumulator, cl, dx) of operand 0
 *                (12+n) / 1 (15+n) picks another form: general path
 *         18     a 32-bit mode entry: any REX byte means a register the
 *                mode lacks (r8.., spl..dil): general path
 *         19..30 form index (forms beyond 4095 get no entry)
 *         31     the bytes start with REX.W (0x48; REX.W forms without
 *                legacy prefixes and with room): OR R, X, B into byte 0
 * l rows hold per mode a word for the label (branch) form:
 *   bits  0..15  the short form's opcode bytes (the rel8 follows them)
 *   bits 16..17  their count - 1         bit 18   relaxable (a rel32 sibling)
 *   bits 19..50  the sibling's opcode as an item's long form: count, 3 bytes
 *   bits 51..62  form index, as above */
#define JK__K_HI(e)      ((uint32_t)((e) >> 32))
#define JK__KH_LEN       7u
#define JK__KH_REXW      8u
#define JK__KH_NPFX(h)   (((h) >> 4) & 3u)
#define JK__KH_DIGIT     (1u << 6)
#define JK__KH_MODRM     (1u << 7)
#define JK__KH_BYTE      (1u << 8)
#define JK__KH_SWAP      (1u << 9)
#define JK__KH_IMM(h)    (((h) >> 9) & 7u)
#define JK__KH_SPECIALS  (0x3Fu << 12)
#define JK__KH_SPECIAL0(h, r) ((r) < 3u && (((h) >> (12 + (r))) & 1u))
#define JK__KH_LEGACY    (1u << 18)
#define JK__KH_REXIN(h)  ((int32_t)(h) < 0)
#define JK__K_FORM(e)    ((unsigned)((e) >> 51) & 0xFFFu)
#define JK__K_OF_FORM(i) ((uint64_t)(i) << 51) /* a word whose JK__K_FORM is i */
#define JK__KL_LEN(w)    ((unsigned)((w) >> 16 & 3u) + 1u)
#define JK__KL_RELAX     (1ull << 18)
#define JK__KL_LONG(w)   ((uint32_t)((w) >> 19))
enum { JK__K_MSZ = 5 }; /* memory sizes 1, 2, 4, 8, 0 */

extern const uint16_t jk__x86_krow_z[], jk__x86_krow_r[], jk__x86_krow_rr[], jk__x86_krow_ri[],
    jk__x86_krow_ri0[], jk__x86_krow_rm[], jk__x86_krow_mr[], jk__x86_krow_l[];
/* one array per kind and mode (x64, x86); krow_<kind>[id] is the row's first index */
extern const uint64_t jk__x86_kz_x64[], jk__x86_kz_x86[], jk__x86_kr_x64[], jk__x86_kr_x86[],
    jk__x86_krr_x64[], jk__x86_krr_x86[], jk__x86_kri_x64[], jk__x86_kri_x86[],
    jk__x86_kri0_x64[], jk__x86_kri0_x86[], jk__x86_krm_x64[], jk__x86_krm_x86[],
    jk__x86_kmr_x64[], jk__x86_kmr_x86[], jk__x86_kl_x64[], jk__x86_kl_x86[];

extern const jk__x86_form jk__x86_forms[];
extern const char *const jk__x86_feature_names[]; /* by feature number (0: "") */
extern const uint16_t jk__x86_mnem_first[]; /* JK_X86_MNEM_COUNT + 1 entries */
extern const char *const jk__x86_mnem_names[];
extern const uint16_t jk__x86_mnem_sorted[]; /* ids sorted by name, for lookup */
extern const unsigned jk__x86_form_count;

#endif
