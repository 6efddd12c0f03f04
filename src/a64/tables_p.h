/*
 * a64/tables_p.h - the shape of the generated A64 instruction tables.
 *
 * tools/gen_a64.py reads isa/a64.txt and writes src/a64/tables.c (the forms)
 * and include/jitkit/a64_insn.h (mnemonic ids and helpers). This header is
 * the contract between the two: the operand types and the form layout.
 *
 * A form is a 32-bit base word (every fixed bit) and up to four operand
 * slots. A slot names an operand type and the bit position of its main
 * field (plus one parameter: a second register field, an immediate's
 * width, an access size):
 *
 *     slot = type | position << 8 | parameter << 16
 *
 *     add x:0, x:5, xsh:16 = 8b000000
 *         31      24 23 22 21 20  16 15     10 9     5 4     0
 *        [ 10001011 | shift | 0 |  Rm  |  imm6  |  Rn  |  Rd  ]
 *                   xsh:16 ^^^^    ^^^^   ^^^^    x:5     x:0
 *
 * The encoder (emit.c) tries the forms of a mnemonic in order; each slot's
 * type checks its operand and ORs the fields into the word. The generator
 * has checked that the fields are zero in the base and disjoint.
 */
#ifndef JK_A64_TABLES_P_H
#define JK_A64_TABLES_P_H

#include <stdint.h>

#include "jitkit/a64.h"

/* Operand types: the names of isa/a64.txt in upper case. */
enum {
    JK__A_NONE,
    JK__A_X, JK__A_W, JK__A_XSP, JK__A_WSP, JK__A_X2, JK__A_W2,
    JK__A_XSH, JK__A_WSH, JK__A_XSHR, JK__A_WSHR, JK__A_XEXT, JK__A_WEXT,
    JK__A_AIMM, JK__A_NAIMM, JK__A_LIMX, JK__A_LIMW, JK__A_U, JK__A_S,
    JK__A_MWX, JK__A_MWW, JK__A_MOVZX, JK__A_MOVZW, JK__A_MOVNX, JK__A_MOVNW,
    JK__A_COND, JK__A_NCOND, JK__A_LSLX, JK__A_LSLW,
    JK__A_BFXLX, JK__A_BFXWX, JK__A_BFXLW, JK__A_BFXWW,
    JK__A_BFILX, JK__A_BFIWX, JK__A_BFILW, JK__A_BFIWW,
    JK__A_TBX, JK__A_TBW,
    JK__A_REL26, JK__A_REL19, JK__A_REL14, JK__A_ADR, JK__A_ADRP, JK__A_LIT19,
    JK__A_MU, JK__A_MS9, JK__A_MPRE, JK__A_MPOST, JK__A_MR, JK__A_MP, JK__A_MPPRE,
    JK__A_MPPOST, JK__A_M0, JK__A_SYSREG, JK__A_DCOP, JK__A_ICOP, JK__A_BTI,
    JK__A_FB, JK__A_FH, JK__A_FS, JK__A_FD, JK__A_FQ, JK__A_FIMMS, JK__A_FIMMD, JK__A_FZERO,
    JK__A_VI, JK__A_VF, JK__A_VB, JK__A_VB2, JK__A_VDUP, JK__A_VEB, JK__A_VEH, JK__A_VES, JK__A_VED,
    JK__A_VLIST, JK__A_MLPOST, JK__A_VQ, JK__A_VSHL, JK__A_VSHR, JK__A_VEL,
    JK__A_VMOVI, JK__A_VMOVID, JK__A_VMVNI, JK__A_VORRI, JK__A_VBICI, JK__A_VFMOVI, JK__A_VEXT,
    JK__A_VWIDE, JK__A_VNAR, JK__A_VNSH, JK__A_VNSH0, JK__A_VTL, JK__A_VLISTN, JK__A_MRPOST, JK__A_FBW, JK__A_FBX, JK__A_MLPOSTR, JK__A_DSHL, JK__A_DSHR,
    JK__A_COUNT
};

#define JK__A64_SLOT(type, pos, par) ((uint32_t)(type) | (uint32_t)(pos) << 8 | (uint32_t)(par) << 16)
#define JK__A64_SLOT_TYPE(s) ((s) & 0xFFu)
#define JK__A64_SLOT_POS(s) (((s) >> 8) & 0xFFu)
#define JK__A64_SLOT_PAR(s) (((s) >> 16) & 0xFFu)

typedef struct jk__a64_form {
    uint32_t base;
    uint8_t nops;
    uint32_t ops[4];
} jk__a64_form;

extern const jk__a64_form jk__a64_forms[];
/* forms of mnemonic m: jk__a64_forms[first[m] .. first[m + 1]) */
extern const uint16_t jk__a64_mnem_first[JK_A64_MNEM_COUNT + 1];
extern const char *const jk__a64_mnem_names[JK_A64_MNEM_COUNT];

#endif
