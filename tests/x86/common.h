/*
 * tests/x86/common.h - helpers shared by the x86 tests: print an operand
 * or instruction in GNU as Intel syntax, run a host tool, read files.
 */
#ifndef JK_TESTS_X86_COMMON_H
#define JK_TESTS_X86_COMMON_H

#include "x86/x86_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tc_r8[16] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                      "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
static const char *const tc_r8hi[4] = {"ah", "ch", "dh", "bh"};
static const char *const tc_r16[16] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                       "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
static const char *const tc_r32[16] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                       "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
static const char *const tc_r64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const tc_seg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
static const char *const tc_mm[8] = {"mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7"};
static const char *const tc_st[8] = {"st(0)", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
                                     "st(6)", "st(7)"};
static const char *const tc_xmm[16] = {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                                       "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                                       "xmm14", "xmm15"};
static const char *const tc_ymm[16] = {"ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6",
                                       "ymm7", "ymm8", "ymm9", "ymm10", "ymm11", "ymm12", "ymm13",
                                       "ymm14", "ymm15"};

static inline const char *tc_reg(unsigned rc, unsigned n)
{
    switch (rc) {
    case JK_X86_RC_GP8: return tc_r8[n & 15];
    case JK_X86_RC_GP8HI: return tc_r8hi[(n - 4) & 3];
    case JK_X86_RC_GP16: return tc_r16[n & 15];
    case JK_X86_RC_GP32: return tc_r32[n & 15];
    case JK_X86_RC_GP64: return tc_r64[n & 15];
    case JK_X86_RC_SEG: return tc_seg[n % 6];
    case JK_X86_RC_IP: return n ? "eip" : "rip";
    case JK_X86_RC_XMM: return tc_xmm[n & 15];
    case JK_X86_RC_ST: return tc_st[n & 7];
    case JK_X86_RC_MM: return tc_mm[n & 7];
    case JK_X86_RC_YMM: return tc_ymm[n & 15];
    default: return "?";
    }
}

static inline const char *tc_ptr(unsigned size)
{
    switch (size) {
    case 1: return "byte ptr ";
    case 2: return "word ptr ";
    case 4: return "dword ptr ";
    case 8: return "qword ptr ";
    case 6: return "fword ptr ";
    case 10: return "tbyte ptr ";
    case 16: return "xmmword ptr ";
    case 32: return "ymmword ptr ";
    case 64: return "zmmword ptr ";
    default: return "";
    }
}

/* Print one operand in GNU as Intel syntax. Labels print as L<id>. */
static inline void tc_op(char *buf, size_t n, const jk_x86_op *o)
{
    switch (o->kind) {
    case JK_X86_OP_REG:
        snprintf(buf, n, "%s", tc_reg(o->rclass, o->reg));
        return;
    case JK_X86_OP_IMM:
        if (o->value < 0)
            snprintf(buf, n, "-0x%llx", (unsigned long long)(-(uint64_t)o->value));
        else
            snprintf(buf, n, "0x%llx", (unsigned long long)o->value);
        return;
    case JK_X86_OP_LABEL:
        snprintf(buf, n, "L%u", (unsigned)o->value);
        return;
    case JK_X86_OP_MEM: {
        char inner[96];
        size_t k = 0;
        int64_t d = o->value;
        unsigned sg = o->flags & JK_X86_MEM_SEG_MASK;
        const char *seg = sg ? (sg <= 6 ? tc_seg[sg - 1] : "bad") : NULL;
        if (o->flags & JK_X86_MEM_LABEL) {
            int32_t ld = (int32_t)(uint32_t)o->value;
            snprintf(inner, sizeof inner, "L%u%+d", (unsigned)((uint64_t)o->value >> 32), ld);
            snprintf(buf, n, "%s[%s]", tc_ptr(o->size), inner);
            return;
        }
        inner[0] = 0;
        if (o->rclass != JK_X86_RC_NONE)
            k += (size_t)snprintf(inner + k, sizeof inner - k, "%s", tc_reg(o->rclass, o->reg));
        if (o->iclass != JK_X86_RC_NONE)
            k += (size_t)snprintf(inner + k, sizeof inner - k, "%s%s*%u", k ? "+" : "",
                                  tc_reg(o->iclass, o->index), 1u << o->scale);
        if (d || !k) {
            if (d < 0 && k)
                k += (size_t)snprintf(inner + k, sizeof inner - k, "-0x%llx",
                                      (unsigned long long)(-(uint64_t)d));
            else
                k += (size_t)snprintf(inner + k, sizeof inner - k, "%s0x%llx", k ? "+" : "",
                                      (unsigned long long)d);
        }
        snprintf(buf, n, "%s%s%s[%s]", tc_ptr(o->size), seg ? seg : "", seg ? ":" : "", inner);
        return;
    }
    default:
        snprintf(buf, n, "?");
    }
}

static inline void tc_insn(char *buf, size_t n, const char *prefix, const char *mn, unsigned nops,
                    const jk_x86_op *ops)
{
    size_t k = (size_t)snprintf(buf, n, "%s%s%s", prefix ? prefix : "", prefix ? " " : "", mn);
    unsigned i;
    for (i = 0; i < nops && k < n; i++) {
        char one[128];
        tc_op(one, sizeof one, &ops[i]);
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : " ", one);
    }
}

static inline uint8_t *tc_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long sz;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    if (b)
        b[sz] = 0;
    fclose(f);
    *len = (size_t)sz;
    return b;
}

static inline int tc_run(const char *cmd)
{
    int r = system(cmd);
    return r;
}

#endif
