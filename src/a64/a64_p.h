/*
 * a64/a64_p.h - the A64 assembler object (private).
 */
#ifndef JK_A64_A64_P_H
#define JK_A64_A64_P_H

#include "core/code_p.h"
#include "a64/tables_p.h"

struct jk_a64_asm {
    jk__code code;
    uint32_t last_form;   /* index of the form of the last instruction (tests) */
    jk_a64_mnem cur;      /* mnemonic being encoded (messages) */
};

/* Reach of a relaxable branch's short form: long_form[1] of its item. */
enum { JK__A64_REACH19 = 1, JK__A64_REACH14 = 2 };

extern const jk__arch_ops jk__a64_arch;

/* nop instructions for n bytes (n a multiple of 4; zero bytes before when not). */
void jk__a64_fill(uint8_t *dst, size_t n);

#endif
