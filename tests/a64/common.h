/*
 * tests/a64/common.h - helpers shared by the A64 tests: print an operand or
 * instruction in GNU syntax, run a host tool, read files.
 */
#ifndef JK_TESTS_A64_COMMON_H
#define JK_TESTS_A64_COMMON_H

#include "a64/a64_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tc_cond[16] = {"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc",
                                        "hi", "ls", "ge", "lt", "gt", "le", "al", "nv"};
static const char *const tc_mod[JK_A64_MOD_COUNT] = {
    "", "lsl", "lsr", "asr", "ror", "uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx",
    "msl"};

static const char *const tc_arr[JK_A64_ARR_COUNT] = {"8b", "16b", "4h", "8h", "2s", "4s",
                                                     "1d", "2d", "b", "h", "s", "d"};

static inline void tc_regname(char *buf, size_t n, unsigned rc, unsigned r)
{
    switch (rc) {
    case JK_A64_RC_X: r == 31 ? snprintf(buf, n, "xzr") : snprintf(buf, n, "x%u", r); break;
    case JK_A64_RC_W: r == 31 ? snprintf(buf, n, "wzr") : snprintf(buf, n, "w%u", r); break;
    case JK_A64_RC_SP: snprintf(buf, n, "sp"); break;
    case JK_A64_RC_WSP: snprintf(buf, n, "wsp"); break;
    case JK_A64_RC_B: snprintf(buf, n, "b%u", r); break;
    case JK_A64_RC_H: snprintf(buf, n, "h%u", r); break;
    case JK_A64_RC_S: snprintf(buf, n, "s%u", r); break;
    case JK_A64_RC_D: snprintf(buf, n, "d%u", r); break;
    case JK_A64_RC_Q: snprintf(buf, n, "q%u", r); break;
    default: snprintf(buf, n, "?"); break;
    }
}

static inline const char *tc_sysop(int64_t v)
{
    switch (v) {
    case 1 << 14 | 3 << 11 | 7 << 7 | 4 << 3 | 1: return "zva";
    case 1 << 14 | 3 << 11 | 7 << 7 | 10 << 3 | 1: return "cvac";
    case 1 << 14 | 3 << 11 | 7 << 7 | 11 << 3 | 1: return "cvau";
    case 1 << 14 | 3 << 11 | 7 << 7 | 14 << 3 | 1: return "civac";
    case 1 << 14 | 3 << 11 | 7 << 7 | 5 << 3 | 1: return "ivau";
    default: return "?";
    }
}

/* Print operand o (slot type t) in GNU syntax; label operands print as
 * .L<value>. */
static inline void tc_op(char *buf, size_t n, const jk_a64_op *o, unsigned t)
{
    char r[16], r2[16];
    switch (o->kind) {
    case JK_A64_OP_VLIST: {
        size_t k = 0;
        unsigned i;
        for (i = 0; i < o->amount && k + 1 < n; i++)
            k += (size_t)snprintf(buf + k, n - k, "%sv%u.%s", i ? ", " : "{", (o->reg + i) & 31,
                                  tc_arr[o->iclass % JK_A64_ARR_COUNT]);
        if (k + 1 < n)
            snprintf(buf + k, n - k, "}");
        return;
    }
    case JK_A64_OP_REG:
        if (o->rclass == JK_A64_RC_V) {
            if (o->iclass >= JK_A64_EB)
                snprintf(buf, n, "v%u.%s[%u]", o->reg, tc_arr[o->iclass % JK_A64_ARR_COUNT], o->index);
            else
                snprintf(buf, n, "v%u.%s", o->reg, tc_arr[o->iclass % JK_A64_ARR_COUNT]);
            return;
        }
        tc_regname(r, sizeof r, o->rclass, o->reg);
        if (o->mod && (o->flags & JK_A64_F_AMOUNT))
            snprintf(buf, n, "%s, %s #%u", r, tc_mod[o->mod], o->amount);
        else if (o->mod)
            snprintf(buf, n, "%s, %s", r, tc_mod[o->mod]);
        else
            snprintf(buf, n, "%s", r);
        return;
    case JK_A64_OP_IMM: {
        char v[40];
        if (t == JK__A_BTI) {
            snprintf(buf, n, "%s", o->value == 1 ? "c" : o->value == 2 ? "j" : o->value == 3 ? "jc" : "#4");
            return;
        }
        if (t == JK__A_LIMW || t == JK__A_MOVZW || t == JK__A_MOVNW)
            snprintf(v, sizeof v, "#0x%llx", (unsigned long long)(uint32_t)o->value);
        else if (o->value < 0 && t != JK__A_LIMX && t != JK__A_MOVZX && t != JK__A_MOVNX)
            snprintf(v, sizeof v, "#%lld", (long long)o->value);
        else
            snprintf(v, sizeof v, "#0x%llx", (unsigned long long)o->value);
        if (o->mod)
            snprintf(buf, n, "%s, %s #%u", v, tc_mod[o->mod], o->amount);
        else
            snprintf(buf, n, "%s", v);
        return;
    }
    case JK_A64_OP_MEM:
        tc_regname(r, sizeof r, o->rclass, o->reg);
        switch (o->flags & JK_A64_MEM_MODE) {
        case JK_A64_MEM_OFF:
            if (o->value)
                snprintf(buf, n, "[%s, #%lld]", r, (long long)o->value);
            else
                snprintf(buf, n, "[%s]", r);
            return;
        case JK_A64_MEM_PRE: snprintf(buf, n, "[%s, #%lld]!", r, (long long)o->value); return;
        case JK_A64_MEM_POST: snprintf(buf, n, "[%s], #%lld", r, (long long)o->value); return;
        default:
            tc_regname(r2, sizeof r2, o->iclass, o->index);
            if (o->flags & JK_A64_F_POSTIDX)
                snprintf(buf, n, "[%s], %s", r, r2);
            else if (o->mod && (o->flags & JK_A64_F_AMOUNT))
                snprintf(buf, n, "[%s, %s, %s #%u]", r, r2, tc_mod[o->mod], o->amount);
            else if (o->mod)
                snprintf(buf, n, "[%s, %s, %s]", r, r2, tc_mod[o->mod]);
            else
                snprintf(buf, n, "[%s, %s]", r, r2);
            return;
        }
    case JK_A64_OP_LABEL: snprintf(buf, n, ".L%lld", (long long)o->value); return;
    case JK_A64_OP_FIMM: {
        union { double d; int64_t i; } u;
        u.i = o->value;
        snprintf(buf, n, "#%.17g", u.d);
        if (!strchr(buf, '.') && !strchr(buf, 'e') && n > strlen(buf) + 2)
            strcat(buf, ".0");
        return;
    }
    case JK_A64_OP_COND: snprintf(buf, n, "%s", tc_cond[o->value & 15]); return;
    case JK_A64_OP_SYSREG:
        if (t == JK__A_DCOP || t == JK__A_ICOP) {
            snprintf(buf, n, "%s", tc_sysop(o->value));
        } else {
            uint64_t v = (uint64_t)o->value;
            snprintf(buf, n, "s%u_%u_c%u_c%u_%u", (unsigned)(v >> 14) & 3, (unsigned)(v >> 11) & 7,
                     (unsigned)(v >> 7) & 15, (unsigned)(v >> 3) & 15, (unsigned)v & 7);
        }
        return;
    default: snprintf(buf, n, "?"); return;
    }
}

/* One instruction: "mnemonic op, op". */
static inline void tc_insn(char *buf, size_t n, unsigned form, unsigned nops, const jk_a64_op *ops)
{
    const jk__a64_form *f = &jk__a64_forms[form];
    unsigned m = 0, i;
    size_t k;
    while (jk__a64_mnem_first[m + 1] <= form)
        m++;
    k = (size_t)snprintf(buf, n, "%s", jk__a64_mnem_names[m]);
    for (i = 0; i < nops && k < n; i++) {
        char o[96];
        tc_op(o, sizeof o, &ops[i], JK__A64_SLOT_TYPE(f->ops[i]));
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : " ", o);
    }
}

static inline unsigned tc_form_mnem(unsigned form)
{
    unsigned m = 0;
    while (jk__a64_mnem_first[m + 1] <= form)
        m++;
    return m;
}

static inline int tc_run(const char *cmd)
{
    int r = system(cmd);
    return r;
}

static inline uint8_t *tc_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    long len;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[len] = 0;
        *n = (size_t)len;
    }
    return b;
}

static inline int tc_exists(const char *p)
{
    FILE *f;
    if (!p || !*p || strstr(p, "NOTFOUND"))
        return 0;
    f = fopen(p, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

#endif
