/*
 * test_cfi.c - jk_cfi: the verbs' DWARF encoding, checked byte for byte
 * against GNU as assembling the same .cfi_* directives (when JK_AS and
 * JK_OBJCOPY are set by ctest), the .eh_frame layout, and the errors.
 */
#include "jt.h"

#include "jitkit/debug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One scripted verb: applied to jk_cfi and printed as a GNU as directive. */
typedef struct verb {
    uint32_t at;
    const char *name;
    int nargs;
    int a, b;
} verb;

static const verb script64[] = {
    {1, "def_cfa_offset", 1, 16, 0},
    {1, "offset", 2, 6, -16},
    {4, "def_cfa_register", 1, 6, 0},
    {5, "offset", 2, 3, -24},
    {7, "rel_offset", 2, 12, -32},    /* CFA is rbp+16: saved at CFA-48 */
    {70, "remember_state", 0, 0, 0},  /* advance_loc1 */
    {71, "def_cfa", 2, 7, 8},
    {71, "restore", 1, 6, 0},
    {72, "restore_state", 0, 0, 0},
    {400, "undefined", 1, 16, 0},     /* advance_loc2 */
    {401, "same_value", 1, 3, 0},
    {402, "offset", 2, 17, 16},       /* a positive save offset: offset_extended_sf */
    {403, "restore", 1, 17, 0},
    {70000, "def_cfa", 2, 7, 8},      /* advance_loc4 */
    {70001, "adjust_cfa_offset", 1, 8, 0},
    {70002, "adjust_cfa_offset", 1, -8, 0},
    {70003, "offset", 2, 80, -8},     /* register >= 64: offset_extended */
    {70004, "restore", 1, 80, 0},
};

static const verb script32[] = {
    {1, "def_cfa_offset", 1, 8, 0},
    {1, "offset", 2, 5, -8},
    {3, "def_cfa_register", 1, 5, 0},
    {4, "offset", 2, 3, -12},
    {20, "def_cfa", 2, 4, 4},
    {20, "restore", 1, 5, 0},
};

static jk_status apply(jk_cfi *c, const verb *v)
{
    const char *n = v->name;
    if (!strcmp(n, "def_cfa_offset"))
        return jk_cfi_def_cfa_offset(c, v->at, v->a);
    if (!strcmp(n, "offset"))
        return jk_cfi_offset(c, v->at, (unsigned)v->a, v->b);
    if (!strcmp(n, "rel_offset"))
        return jk_cfi_rel_offset(c, v->at, (unsigned)v->a, v->b);
    if (!strcmp(n, "def_cfa_register"))
        return jk_cfi_def_cfa_register(c, v->at, (unsigned)v->a);
    if (!strcmp(n, "def_cfa"))
        return jk_cfi_def_cfa(c, v->at, (unsigned)v->a, v->b);
    if (!strcmp(n, "adjust_cfa_offset"))
        return jk_cfi_adjust_cfa_offset(c, v->at, v->a);
    if (!strcmp(n, "restore"))
        return jk_cfi_restore(c, v->at, (unsigned)v->a);
    if (!strcmp(n, "remember_state"))
        return jk_cfi_remember_state(c, v->at);
    if (!strcmp(n, "restore_state"))
        return jk_cfi_restore_state(c, v->at);
    if (!strcmp(n, "undefined"))
        return jk_cfi_undefined(c, v->at, (unsigned)v->a);
    if (!strcmp(n, "same_value"))
        return jk_cfi_same_value(c, v->at, (unsigned)v->a);
    return JK_EINVAL;
}

static int build(jk_cfi *c, const verb *s, size_t n, uint32_t size)
{
    jk_cfi_reset(c);
    if (jk_cfi_startproc(c) != JK_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (apply(c, &s[i]) != JK_OK) {
            fprintf(stderr, "%s\n", jk_cfi_error(c)->message);
            return 0;
        }
    return jk_cfi_endproc(c, size) == JK_OK;
}

static void write_gas(FILE *f, const verb *s, size_t n, uint32_t size)
{
    uint32_t at = 0;
    fprintf(f, ".text\n.globl f\nf:\n.cfi_startproc\n");
    for (size_t i = 0; i < n; i++) {
        if (s[i].at > at)
            fprintf(f, ".skip %u, 0x90\n", (unsigned)(s[i].at - at));
        at = s[i].at;
        fprintf(f, ".cfi_%s", s[i].name);
        if (s[i].nargs >= 1)
            fprintf(f, " %d", s[i].a);
        if (s[i].nargs == 2)
            fprintf(f, ", %d", s[i].b);
        fputc('\n', f);
    }
    fprintf(f, ".skip %u, 0x90\n.cfi_endproc\n", (unsigned)(size - at));
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Compare our .eh_frame with GNU as's for the same script: the CIE byte
 * for byte, the FDE's pc_range, and its instructions (without the
 * trailing padding nops, whose count depends on the address field size). */
static void against_gas(const verb *s, size_t n, uint32_t size, int is64)
{
    const char *as = getenv("JK_AS"), *objcopy = getenv("JK_OBJCOPY"), *tmp = getenv("JK_TMP");
    char src[512], obj[512], bin[512], cmd[4096];
    unsigned char gas[4096], ours[4096];
    size_t glen, olen, ilen;
    const uint8_t *ins;
    uint32_t cie_len, fde_len;
    jk_error err;
    jk_cfi *c;
    FILE *f;
    if (!as || !objcopy || !tmp) {
        printf("skip: GNU as / objcopy not configured (JK_AS, JK_OBJCOPY, JK_TMP)\n");
        return;
    }
    snprintf(src, sizeof src, "%s/cfi%d.s", tmp, is64 ? 64 : 32);
    snprintf(obj, sizeof obj, "%s/cfi%d.o", tmp, is64 ? 64 : 32);
    snprintf(bin, sizeof bin, "%s/cfi%d.bin", tmp, is64 ? 64 : 32);
    f = fopen(src, "w");
    JT_CHECK(f != NULL);
    write_gas(f, s, n, size);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s -o %s %s && %s -O binary --only-section=.eh_frame %s %s",
             as, is64 ? "--64" : "--32", obj, src, objcopy, obj, bin);
    JT_CHECK_MSG(system(cmd) == 0, "%s", cmd);
    f = fopen(bin, "rb");
    JT_CHECK(f != NULL);
    glen = fread(gas, 1, sizeof gas, f);
    fclose(f);

    JT_OK(jk_cfi_new(&c, is64 ? JK_CFI_X86_64 : JK_CFI_X86_32, &err), &err);
    JT_CHECK(build(c, s, n, size));
    JT_OK(jk_cfi_eh_frame(c, 0x10000, 0x10100, size, ours, sizeof ours, &olen, &err), &err);
    cie_len = rd32(gas);
    JT_EQ_U64(rd32(ours), cie_len);
    JT_CHECK_MSG(memcmp(gas, ours, 4 + cie_len) == 0, "CIE differs from GNU as's");
    fde_len = rd32(gas + 4 + cie_len);
    JT_CHECK(4 + cie_len + 4 + fde_len <= glen);
    /* FDE: length, CIE pointer, pc_begin (4), pc_range (4), aug length */
    JT_EQ_U64(rd32(gas + 4 + cie_len + 12), size);
    JT_EQ_U64(rd32(ours + 4 + cie_len + 12), size);
    ins = jk_cfi_bytes(c, &ilen);
    {
        const unsigned char *g = gas + 4 + cie_len + 17;
        size_t gl = 4 + fde_len - 17;
        while (gl > 0 && g[gl - 1] == 0)
            gl--;
        JT_EQ_U64(ilen, gl);
        for (size_t i = 0; i < ilen; i++)
            JT_CHECK_MSG(ins[i] == g[i], "instruction byte %zu: ours 0x%02x, GNU as 0x%02x", i,
                         ins[i], g[i]);
        /* ours, inside our own .eh_frame */
        JT_CHECK(memcmp(ours + 4 + cie_len + 17, ins, ilen) == 0);
    }
    jk_cfi_free(c);
}

static void test_against_gas64(void)
{
    against_gas(script64, sizeof script64 / sizeof *script64, 70010, 1);
}

static void test_against_gas32(void)
{
    against_gas(script32, sizeof script32 / sizeof *script32, 24, 0);
}

static void test_known_bytes(void)
{
    /* push rbp; mov rbp, rsp: the classic prologue */
    static const uint8_t want[] = {0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06};
    jk_cfi *c;
    jk_error err;
    size_t n;
    const uint8_t *b;
    JT_OK(jk_cfi_new(&c, JK_CFI_X86_64, &err), &err);
    JT_OK(jk_cfi_startproc(c), jk_cfi_error(c));
    jk_cfi_def_cfa_offset(c, 1, 16);
    jk_cfi_offset(c, 1, JK_DW_X64_RBP, -16);
    jk_cfi_def_cfa_register(c, 4, JK_DW_X64_RBP);
    JT_OK(jk_cfi_endproc(c, 16), jk_cfi_error(c));
    b = jk_cfi_bytes(c, &n);
    JT_EQ_U64(n, sizeof want);
    JT_CHECK(memcmp(b, want, n) == 0);
    jk_cfi_free(c);
}

static void test_eh_frame_far(void)
{
    /* code more than 2 GiB from the data: pc-relative sdata8 */
    jk_cfi *c;
    jk_error err;
    uint8_t buf[128];
    size_t n, near_n;
    JT_OK(jk_cfi_new(&c, JK_CFI_X86_64, &err), &err);
    jk_cfi_startproc(c);
    JT_OK(jk_cfi_endproc(c, 8), jk_cfi_error(c));
    JT_OK(jk_cfi_eh_frame(c, 0x1000, 0x2000, 8, buf, sizeof buf, &near_n, &err), &err);
    JT_EQ_U64(buf[16], 0x1b); /* pcrel | sdata4 */
    JT_EQ_I64((int32_t)rd32(buf + 24 + 8), 0x2000 - (0x1000 + 24 + 8));
    JT_OK(jk_cfi_eh_frame(c, 0x1000, 0x7f0000000000ull, 8, buf, sizeof buf, &n, &err), &err);
    JT_EQ_U64(buf[16], 0x1c); /* pcrel | sdata8 */
    JT_CHECK(n > near_n);
    JT_EQ_U64(rd32(buf + n - 4), 0); /* terminator */
    JT_EQ_U64(n % 8, 4);
    /* too small */
    JT_EQ_I64(jk_cfi_eh_frame(c, 0x1000, 0x2000, 8, buf, 10, &n, &err), JK_ENOSPACE);
    JT_EQ_U64(n, near_n);
    /* code shorter than the description */
    JT_EQ_I64(jk_cfi_eh_frame(c, 0x1000, 0x2000, 4, buf, sizeof buf, &n, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "covers 8 bytes");
    jk_cfi_free(c);
}

static void test_errors(void)
{
    jk_cfi *c;
    jk_error err;
    JT_EQ_I64(jk_cfi_new(NULL, JK_CFI_X86_64, &err), JK_EINVAL);
    JT_EQ_I64(jk_cfi_new(&c, JK_CFI_ARCH_COUNT, &err), JK_EINVAL);
    JT_OK(jk_cfi_new(&c, JK_CFI_X86_64, &err), &err);

    JT_EQ_I64(jk_cfi_offset(c, 0, 6, -16), JK_ESTATE);
    JT_CONTAINS(jk_cfi_error(c)->message, "cfi offset at 0: before startproc");
    JT_EQ_I64(jk_cfi_startproc(c), JK_ESTATE); /* sticky */
    jk_cfi_reset(c);
    JT_EQ_I64(jk_cfi_status(c), JK_OK);

    jk_cfi_startproc(c);
    jk_cfi_def_cfa_offset(c, 8, 16);
    JT_EQ_I64(jk_cfi_def_cfa_offset(c, 4, 24), JK_EINVAL);
    JT_CONTAINS(jk_cfi_error(c)->message, "offset goes back (the previous verb was at 8)");
    jk_cfi_reset(c);

    jk_cfi_startproc(c);
    JT_EQ_I64(jk_cfi_offset(c, 1, 6, -12), JK_EINVAL);
    JT_CONTAINS(jk_cfi_error(c)->message, "not a multiple of 8");
    jk_cfi_reset(c);

    jk_cfi_startproc(c);
    JT_EQ_I64(jk_cfi_restore_state(c, 1), JK_ESTATE);
    JT_CONTAINS(jk_cfi_error(c)->message, "no state remembered");
    jk_cfi_reset(c);

    jk_cfi_startproc(c);
    JT_EQ_I64(jk_cfi_same_value(c, 1, 200), JK_EINVAL);
    JT_CONTAINS(jk_cfi_error(c)->message, "register 200 out of range");
    jk_cfi_reset(c);

    jk_cfi_startproc(c);
    JT_EQ_I64(jk_cfi_def_cfa(c, 1, 7, -8), JK_EINVAL);
    JT_CONTAINS(jk_cfi_error(c)->message, "negative CFA offset");
    jk_cfi_reset(c);

    jk_cfi_startproc(c);
    JT_OK(jk_cfi_endproc(c, 4), jk_cfi_error(c));
    JT_EQ_I64(jk_cfi_offset(c, 4, 6, -16), JK_ESTATE);
    JT_CONTAINS(jk_cfi_error(c)->message, "after endproc");
    jk_cfi_free(c);
    jk_cfi_free(NULL);
}

static void test_register_names(void)
{
    JT_EQ_I64(jk_dw_reg_find(1, "rbp"), JK_DW_X64_RBP);
    JT_EQ_I64(jk_dw_reg_find(1, "%RSP"), JK_DW_X64_RSP);
    JT_EQ_I64(jk_dw_reg_find(1, "rdx"), JK_DW_X64_RDX);
    JT_EQ_I64(jk_dw_reg_find(1, "r13"), 13);
    JT_EQ_I64(jk_dw_reg_find(1, "r13d"), 13);
    JT_EQ_I64(jk_dw_reg_find(1, "rip"), JK_DW_X64_RA);
    JT_EQ_I64(jk_dw_reg_find(1, "xmm15"), JK_DW_X64_XMM(15));
    JT_EQ_I64(jk_dw_reg_find(1, "xmm16"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, "xmm1x"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, "eax"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, ""), -1);
    JT_EQ_I64(jk_dw_reg_find(1, "x"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, "%"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, "r8long"), -1);
    JT_EQ_I64(jk_dw_reg_find(1, NULL), -1);
    JT_EQ_I64(jk_dw_reg_find(0, "ebp"), JK_DW_X86_EBP);
    JT_EQ_I64(jk_dw_reg_find(0, "%esp"), JK_DW_X86_ESP);
    JT_EQ_I64(jk_dw_reg_find(0, "eip"), JK_DW_X86_RA);
    JT_EQ_I64(jk_dw_reg_find(0, "rbp"), -1);
    /* the same numbers as jk_dw_x86_gpr for the hardware numbering */
    JT_EQ_I64(jk_dw_x86_gpr(5, 1), JK_DW_X64_RBP);
    JT_EQ_I64(jk_dw_x86_gpr(4, 1), JK_DW_X64_RSP);
    JT_EQ_I64(jk_dw_x86_gpr(2, 1), JK_DW_X64_RDX);
    JT_EQ_I64(jk_dw_x86_gpr(5, 0), JK_DW_X86_EBP);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    JT_RUN(test_known_bytes);
    JT_RUN(test_against_gas64);
    JT_RUN(test_against_gas32);
    JT_RUN(test_eh_frame_far);
    JT_RUN(test_errors);
    JT_RUN(test_register_names);
    return jt_finish();
}
