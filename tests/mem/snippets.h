/*
 * snippets.h - hand-encoded machine code for the memory tests, per CPU and
 * calling convention (encodings checked with objdump when written).
 *
 *   seed: return 0x12345678           add2: return a + b (two int args)
 */
#ifndef SNIPPETS_H
#define SNIPPETS_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
static const unsigned char seed_code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3};
#  if defined(_WIN32)
/* Win64: a in ecx, b in edx.  lea eax, [rcx+rdx]; ret */
static const unsigned char add2_code[] = {0x8d, 0x04, 0x11, 0xc3};
#    define ABI_NAME "win64"
#  else
/* System V: a in edi, b in esi.  lea eax, [rdi+rsi]; ret */
static const unsigned char add2_code[] = {0x8d, 0x04, 0x37, 0xc3};
#    define ABI_NAME "sysv-x86-64"
#  endif
#elif defined(__i386__) || defined(_M_IX86)
static const unsigned char seed_code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3};
/* cdecl: args on the stack.  mov eax, [esp+4]; add eax, [esp+8]; ret */
static const unsigned char add2_code[] = {0x8b, 0x44, 0x24, 0x04, 0x03, 0x44, 0x24, 0x08, 0xc3};
#  define ABI_NAME "i386-cdecl"
#elif defined(__aarch64__)
/* movz w0, #0x5678; movk w0, #0x1234, lsl #16; ret */
static const unsigned char seed_code[] = {0x00, 0xcf, 0x8a, 0x52, 0x80, 0x46, 0xa2, 0x72,
                                          0xc0, 0x03, 0x5f, 0xd6};
/* AAPCS64: add w0, w0, w1; ret */
static const unsigned char add2_code[] = {0x00, 0x00, 0x01, 0x0b, 0xc0, 0x03, 0x5f, 0xd6};
#  define ABI_NAME "aapcs64"
#else
#  error "no test snippets for this CPU"
#endif

/* Rewrite seed_code in place (at w) so that it returns 0x42 instead. */
static inline void patch_seed_to_0x42(unsigned char *w)
{
#if defined(__aarch64__)
    memcpy(w, "\x40\x08\x80\x52\x00\x00\xa0\x72", 8); /* movz w0,#0x42; movk w0,#0,lsl 16 */
#else
    memcpy(w + 1, "\x42\x00\x00\x00", 4); /* the imm32 of mov eax, imm32 */
#endif
}

typedef int (*fn0_t)(void);
typedef int (*fn2_t)(int, int);

/* Object pointer -> function pointer, as every JIT must. */
static inline fn0_t as_fn0(void *p)
{
    fn0_t f;
    memcpy(&f, &p, sizeof f);
    return f;
}

static inline fn2_t as_fn2(void *p)
{
    fn2_t f;
    memcpy(&f, &p, sizeof f);
    return f;
}

#endif
