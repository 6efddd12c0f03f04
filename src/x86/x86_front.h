/*
 * x86/x86_front.h - what a front end that assembles one text in several
 * passes needs from the x86 assembler beyond the public API: the states of
 * the relaxable branches, so branches only grow from pass to pass (see
 * jk__code_long_branches in core/code_p.h).
 */
#ifndef JK_X86_X86_FRONT_H
#define JK_X86_X86_FRONT_H

#include "jitkit/x86.h"

#include <stddef.h>
#include <stdint.h>

/* After finish: OR a bit into bits (nbytes long) for each long relaxable
 * branch, in emission order; returns how many relaxable branches there are. */
size_t jk__x86_long_branches(const jk_x86_asm *a, uint8_t *bits, size_t nbytes);

/* After reset, before finish: the branches whose bits are set start long
 * (bits stays the caller's and must live until finish). */
void jk__x86_keep_long(jk_x86_asm *a, const uint8_t *bits, size_t nbytes);

#endif
