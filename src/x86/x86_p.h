/*
 * x86/x86_p.h - the x86 assembler object (private).
 */
#ifndef JK_X86_X86_P_H
#define JK_X86_X86_P_H

#include "core/code_p.h"
#include "x86/tables_p.h"

/* Pending prefixes for the next instruction. */
#define JK__PEND_LOCK  0x01u
#define JK__PEND_REP   0x02u /* rep / repe: F3 */
#define JK__PEND_REPNE 0x04u /* repne: F2 */
#define JK__PEND_REPE  0x08u /* remembered for the message only */
#define JK__PEND_REX   0x10u /* an explicit REX prefix: its bits in pend_rex */
#define JK__PEND_A32   0x20u /* addr32 (64-bit mode): 32-bit addressing, 4-byte moffs */
#define JK__PEND_HINT  0x40u /* pseudo-prefixes ({vex3}, {load}, ...): JK_X86_HINT_* in pend_hint */
#define JK__PEND_XACQ  0x80u /* xacquire: F2 (HLE) */
#define JK__PEND_XREL  0x100u /* xrelease: F3 (HLE) */

struct jk_x86_asm {
    jk__code code;
    jk_x86_mode mode;
    uint16_t mode_excl;     /* form flag that excludes a form in this mode */
    uint16_t pending;       /* JK__PEND_* */
    uint8_t pend_rex;       /* JK__PEND_REX: the W, R, X, B bits to OR in */
    uint8_t pend_hint;      /* JK__PEND_HINT: the JK_X86_HINT_* bits */
    uint8_t feat_hold;      /* a feature set restricts emission: the quick path stays
                               closed, so every form goes through the check */
    uint32_t features;      /* jk_x86_feature bits the target has (jk_x86_set_features) */
    uint8_t addr_rc;        /* address register class of the mode (GP64 / GP32) */
    uint8_t nregs;          /* general registers in the mode (16 / 8) */
    uint32_t qkey;          /* mode << (4 * JK__SIG_BITS): the mode part of a lookup key */
    uint64_t qlabel;        /* quick-path word of a label operand in this mode */
    const uint64_t *qreg;   /* jk__x86_qreg[mode] */
    const char *why;        /* reason the last candidate form was refused */
    uint64_t last;          /* the last instruction's entry word, or JK__K_OF_FORM(its
                               form): JK__K_FORM gives the form (tests, coverage) */
    /* the per-kind entry arrays of the mode (jk__x86_k<kind>_x64 / _x86) */
    const uint64_t *kz, *kr, *krr, *kri, *kri0, *krm, *kmr, *kl;
    uint64_t kdlim;         /* displacements d the kind entries take: d + 2^31 <= kdlim */
    /* A plain memory operand for the kind entries, tested on its first 8
     * bytes (kind .. flags, little-endian): (head & kmask) == kwant checks
     * kind, size < 16, base class, base number, flags; with an index also
     * (head & kxmask) == kxwant: index class, number, scale. */
    uint64_t kmask, kwant, kxmask, kxwant;
    char whybuf[96];
};

/* Set the pending prefixes; the quick path stays closed while any wait. */
static inline void jk__x86_set_pending(jk_x86_asm *a, unsigned pending)
{
    a->pending = (uint16_t)pending;
    if (!(pending & JK__PEND_REX))
        a->pend_rex = 0;
    if (!(pending & JK__PEND_HINT))
        a->pend_hint = 0;
    a->code.hold = pending != 0 || a->feat_hold;
    jk__code_regate(&a->code);
}


#endif
