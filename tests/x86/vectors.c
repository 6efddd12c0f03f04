/*
 * tests/x86/vectors.c - byte vectors: lines "bytes  instruction" (GNU as
 * Intel syntax, bytes from GNU as) parsed into operands and encoded through
 * jk_x86_emit_name, and the same text through the text assembler
 * (jk_asm_assemble); the bytes must match both times. Needs no host tools,
 * so it also runs in cross builds under the emulator.
 *
 *     test_x86_vectors vectors64.txt vectors32.txt
 */
#include "jt.h"
#include "common.h"

#include "jitkit/asm.h"

#include <ctype.h>

static const char *VEC[2];

static int parse_reg(const char *s, size_t n, jk_x86_op *o)
{
    static const struct { const char *const *names; unsigned count; jk_x86_rclass rc; unsigned base; } t[] = {
        {tc_r8, 16, JK_X86_RC_GP8, 0}, {tc_r8hi, 4, JK_X86_RC_GP8HI, 4},
        {tc_r16, 16, JK_X86_RC_GP16, 0}, {tc_r32, 16, JK_X86_RC_GP32, 0},
        {tc_r64, 16, JK_X86_RC_GP64, 0}, {tc_seg, 6, JK_X86_RC_SEG, 0},
        {tc_xmm, 16, JK_X86_RC_XMM, 0}, {tc_ymm, 16, JK_X86_RC_YMM, 0},
        {tc_st, 8, JK_X86_RC_ST, 0}, {tc_mm, 8, JK_X86_RC_MM, 0},
    };
    unsigned i, k;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        for (k = 0; k < t[i].count; k++)
            if (strlen(t[i].names[k]) == n && !strncmp(t[i].names[k], s, n)) {
                *o = jk_x86_reg(t[i].rc, t[i].base + k);
                return 1;
            }
    if (n == 3 && !strncmp(s, "rip", 3)) {
        *o = JK_RIP;
        return 1;
    }
    if (n == 3 && !strncmp(s, "eip", 3)) {
        *o = JK_EIP;
        return 1;
    }
    return 0;
}

static int64_t parse_num(const char **pp)
{
    const char *p = *pp;
    int neg = 0;
    uint64_t v;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    v = strtoull(p, (char **)&p, 16);
    *pp = p;
    return neg ? (int64_t)(0 - v) : (int64_t)v;
}

static int parse_op(const char *s, jk_x86_op *o)
{
    static const struct { const char *name; unsigned size; } sizes[] = {
        {"byte ptr ", 1}, {"word ptr ", 2}, {"dword ptr ", 4}, {"qword ptr ", 8},
        {"fword ptr ", 6}, {"tbyte ptr ", 10}, {"xmmword ptr ", 16}, {"ymmword ptr ", 32}, {"zmmword ptr ", 64}};
    unsigned size = 0, i;
    jk_x86_op base = JK_NOREG, index = JK_NOREG, seg = JK_NOREG;
    unsigned scale = 1;
    int64_t disp = 0;
    const char *p = s;
    if (parse_reg(s, strlen(s), o))
        return 1;
    if (*s == '-' || (s[0] == '0' && s[1] == 'x')) {
        if (*p != '-')
            p += 2;
        else if (p[1] == '0' && p[2] == 'x') {
            /* "-0x.." */
            uint64_t v = strtoull(p + 3, NULL, 16);
            *o = jk_x86_imm((int64_t)(0 - v));
            return 1;
        }
        *o = jk_x86_imm((int64_t)strtoull(p, NULL, 16));
        return 1;
    }
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (!strncmp(p, sizes[i].name, strlen(sizes[i].name))) {
            size = sizes[i].size;
            p += strlen(sizes[i].name);
        }
    if (p[0] && p[1] == 's' && p[2] == ':') {
        if (!parse_reg(p, 2, &seg))
            return 0;
        p += 3;
    }
    if (*p++ != '[')
        return 0;
    while (*p && *p != ']') {
        int neg = 0;
        if (*p == '+')
            p++;
        else if (*p == '-') {
            neg = 1;
            p++;
        }
        if (p[0] == '0' && p[1] == 'x') {
            const char *q = p + 2;
            int64_t v = parse_num(&q);
            disp = neg ? -v : v;
            p = q;
        } else {
            const char *q = p;
            jk_x86_op r;
            while (isalnum((unsigned char)*q))
                q++;
            if (!parse_reg(p, (size_t)(q - p), &r))
                return 0;
            if (*q == '*') {
                index = r;
                scale = (unsigned)(q[1] - '0');
                q += 2;
            } else {
                base = r;
            }
            p = q;
        }
    }
    *o = jk_x86_mem(size, base, index, scale, disp);
    if (seg.kind == JK_X86_OP_REG)
        *o = jk_x86_seg(*o, seg);
    return 1;
}

/* The statement through the text assembler. */
static int one_text(jk_asm *as, const char *text, const uint8_t *want, size_t nb)
{
    char src[600];
    const uint8_t *got;
    size_t len = 0, k;
    int n = snprintf(src, sizeof src, ".intel_syntax noprefix\n%s\n", text);
    if (jk_asm_assemble(as, src, (size_t)n) != JK_OK) {
        fprintf(stderr, "text '%s': %s\n", text,
                jk_asm_diag_count(as) ? jk_asm_diag_at(as, 0)->message : "failed");
        return 1;
    }
    got = jk_asm_code(as, &len);
    if (!got || len != nb || memcmp(got, want, nb) != 0) {
        fprintf(stderr, "text '%s': got", text);
        for (k = 0; got && k < len; k++)
            fprintf(stderr, " %02x", got[k]);
        fprintf(stderr, "\n");
        return 1;
    }
    return 0;
}

static int n_addr32_nomem;

static int has_mem(const jk_x86_op *ops, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (ops[i].kind == JK_X86_OP_MEM)
            return 1;
    return 0;
}

static int one(jk_x86_asm *a, jk_asm *as, char *line, int *parsed)
{
    char full[512];
    uint8_t want[16];
    size_t nb = 0, k;
    char *p = line, *text, *ops_text, *mn;
    jk_x86_op ops[4];
    unsigned n = 0;
    const char *pfx = NULL, *pfxw[4];
    unsigned npfx = 0, hint = 0;
    size_t ml;
    while (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) && nb < 16) {
        want[nb++] = (uint8_t)strtoul(p, NULL, 16);
        p += 2;
        if (*p == ' ' && p[1] != ' ')
            p++;
    }
    while (*p == ' ')
        p++;
    text = p;
    p[strcspn(p, "\r\n")] = 0;
    snprintf(full, sizeof full, "%s", text);
    /* prefix words (lock, rep.., addr32, xacquire/xrelease, {vex} ...) */
    while (!strncmp(p, "lock ", 5) || !strncmp(p, "rep ", 4) || !strncmp(p, "repe ", 5) ||
           !strncmp(p, "repne ", 6) || !strncmp(p, "addr32 ", 7) ||
           !strncmp(p, "xacquire ", 9) || !strncmp(p, "xrelease ", 9) || p[0] == '{') {
        if (npfx < 4)
            pfxw[npfx++] = p;
        p = strchr(p, ' ');
        *p++ = 0;
    }
    if (npfx)
        pfx = pfxw[npfx - 1];
    mn = p;
    ops_text = strchr(p, ' ');
    if (ops_text) {
        *ops_text++ = 0;
        while (ops_text && *ops_text) {
            char *comma = strstr(ops_text, ", ");
            if (comma)
                *comma = 0;
            if (n == 4 || !parse_op(ops_text, &ops[n++])) {
                fprintf(stderr, "cannot parse operand '%s' in '%s'\n", ops_text, text);
                return 1;
            }
            ops_text = comma ? comma + 2 : NULL;
        }
    }
    (*parsed)++;
    jk_x86_reset(a);
    ml = strlen(mn);
    if (ml > 2 && !strcmp(mn + ml - 2, ".s")) { /* mov.s: the swapped register form */
        mn[ml - 2] = 0;
        hint |= JK_X86_HINT_SWAP;
    }
    for (k = 0; k < npfx; k++) {
        const char *w = pfxw[k];
        if (!strcmp(w, "lock")) jk_x86_lock(a);
        else if (!strcmp(w, "rep")) jk_x86_rep(a);
        else if (!strcmp(w, "repe")) jk_x86_repe(a);
        else if (!strcmp(w, "repne")) jk_x86_repne(a);
        else if (!strcmp(w, "addr32")) jk_x86_addr32(a);
        else if (!strcmp(w, "xacquire")) jk_x86_xacquire(a);
        else if (!strcmp(w, "xrelease")) jk_x86_xrelease(a);
        else if (!strcmp(w, "{vex}")) hint |= JK_X86_HINT_VEX;
        else if (!strcmp(w, "{vex3}")) hint |= JK_X86_HINT_VEX3;
        else if (!strcmp(w, "{load}")) hint |= JK_X86_HINT_LOAD;
        else if (!strcmp(w, "{store}")) hint |= JK_X86_HINT_STORE;
        else if (!strcmp(w, "{disp8}")) hint |= JK_X86_HINT_DISP8;
        else if (!strcmp(w, "{disp32}")) hint |= JK_X86_HINT_DISP32;
    }
    if (hint)
        jk_x86_hint(a, hint);
    if (jk_x86_emit_name(a, mn, n, ops) != JK_OK) {
        fprintf(stderr, "'%s %s': %s\n", pfx ? pfx : "", mn, jk_x86_error(a)->message);
        return 1;
    }
    if (a->code.len != nb || memcmp(a->code.buf, want, nb) != 0) {
        fprintf(stderr, "'%s': got", mn);
        for (k = 0; k < a->code.len; k++)
            fprintf(stderr, " %02x", a->code.buf[k]);
        fprintf(stderr, "\n");
        return 1;
    }
    /* addr32 before an instruction without memory stays a byte in the
     * text, in source order (objdump's view), where the C API's
     * jk_x86_addr32 puts it after a wait byte (addr32 fclex: 9b 67 db e2) */
    if (pfx && !strcmp(pfx, "addr32") && !has_mem(ops, n)) {
        n_addr32_nomem++;
        return 0;
    }
    return one_text(as, full, want, nb);
}

static void run(int m64)
{
    FILE *f = fopen(VEC[m64 ? 0 : 1], "r");
    char line[512];
    jk_x86_asm *a = NULL;
    jk_asm *as = NULL;
    jk_asm_options opt = JK_ASM_OPTIONS_INIT;
    int bad = 0, parsed = 0;
    JT_CHECK_MSG(f != NULL, "cannot open %s", VEC[m64 ? 0 : 1]);
    JT_OK(jk_x86_new(&a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL), (jk_error *)NULL);
    opt.mode = m64 ? JK_X86_MODE64 : JK_X86_MODE32;
    JT_OK(jk_asm_new(&as, &opt, NULL), (jk_error *)NULL);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        bad += one(a, as, line, &parsed);
    }
    fclose(f);
    jk_x86_free(a);
    jk_asm_free(as);
    printf("%d-bit: %d vectors (C API and text; %d addr32 ones without memory C API only), "
           "%d wrong\n", m64 ? 64 : 32, parsed, n_addr32_nomem, bad);
    n_addr32_nomem = 0;
    JT_CHECK(parsed > 100);
    JT_EQ_U64(bad, 0);
}

static void test_vectors64(void) { run(1); }
static void test_vectors32(void) { run(0); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s vectors64.txt vectors32.txt\n", argv[0]);
        return 2;
    }
    VEC[0] = argv[1];
    VEC[1] = argv[2];
    JT_RUN(test_vectors64);
    JT_RUN(test_vectors32);
    return jt_finish();
}
