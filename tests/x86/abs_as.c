/*
 * tests/x86/abs_as.c - absolute label operands against GNU as + ld.
 *
 * jk_x86_imm_label (`offset T+k`) and jk_x86_mem_label_abs
 * (`[T + base + index*scale + k]`, the jump-table idiom) in both modes,
 * every register as base / index / destination, every scale, 32-bit
 * address registers in 64-bit mode. The same program goes through GNU as,
 * is linked by ld at 0x10000000 (relocations resolved) and compared with
 * jitkit's image copied for the same address. Then the copy-time range
 * checks: an address that does not fit the field is an error naming the
 * label.
 *
 *     test_x86_abs_as <as> <ld> <objcopy> <tmpdir>
 */
#include "jt.h"
#include "common.h"

#include <stdarg.h>

static const char *AS, *LD, *OBJCOPY, *TMP;

#define BASE 0x10000000u

typedef struct prog {
    char *text;
    size_t len, cap;
} prog;

static void out(prog *p, const char *fmt, ...) JK_PRINTF(2, 3);
static void out(prog *p, const char *fmt, ...)
{
    char t[300];
    size_t n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    n = strlen(t);
    if (p->len + n + 2 > p->cap) {
        p->cap = (p->cap + n + 2) * 2;
        p->text = realloc(p->text, p->cap);
    }
    memcpy(p->text + p->len, t, n);
    p->len += n;
    p->text[p->len++] = '\n';
    p->text[p->len] = 0;
}

static const char *rn(int m64, unsigned n)
{
    return m64 ? tc_r64[n] : tc_r32[n];
}

static jk_x86_op rr(int m64, unsigned n)
{
    return jk_x86_reg(m64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, n);
}

/* [T + base + index*scale + k] in GNU as syntax (base/index 16 = none) */
static void memtxt(char *b, size_t n, int m64, int a32, unsigned base, unsigned index,
                   unsigned scale, int k)
{
    const char *(*nm)(int, unsigned) = rn;
    size_t l = (size_t)snprintf(b, n, "[T");
    if (base < 16)
        l += (size_t)snprintf(b + l, n - l, " + %s", a32 ? tc_r32[base] : nm(m64, base));
    if (index < 16)
        l += (size_t)snprintf(b + l, n - l, " + %s*%u", a32 ? tc_r32[index] : nm(m64, index),
                              scale);
    snprintf(b + l, n - l, " + %d]", k);
}

static jk_x86_op memop(unsigned size, int m64, int a32, unsigned base, unsigned index,
                       unsigned scale, jk_label T, int k)
{
    jk_x86_op b = JK_NOREG, x = JK_NOREG;
    int w = m64 && !a32;
    if (base < 16)
        b = rr(w, base);
    if (index < 16)
        x = rr(w, index);
    return jk_x86_mem_label_abs(size, b, x, scale, T, k);
}

static int build(int m64, prog *p, jk_x86_asm **out_a)
{
    jk_x86_asm *a = NULL;
    jk_label T;
    unsigned nregs = m64 ? 16 : 8, r, b, x, s;
    char m[120];
    int k = 0;
    if (jk_x86_new(&a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL))
        return 1;
    T = jk_x86_label(a, "T");
    out(p, ".intel_syntax noprefix");
    out(p, ".text");
    for (r = 0; r < nregs; r++, k += 4) {
        /* offset T+k into every register, each width */
        out(p, "mov %s, offset T+%d", rn(m64, r), k);
        jk_x86_mov(a, rr(m64, r), jk_x86_imm_label(T, k));
        out(p, "mov %s, offset T+%d", tc_r32[r], k + 1);
        jk_x86_mov(a, jk_x86_reg(JK_X86_RC_GP32, r), jk_x86_imm_label(T, k + 1));
        if (m64) {
            out(p, "movabs %s, offset T+%d", tc_r64[r], k - 3);
            jk_x86_movabs(a, rr(1, r), jk_x86_imm_label(T, k - 3));
        }
        out(p, "add %s, offset T", rn(m64, r));
        jk_x86_add(a, rr(m64, r), jk_x86_imm_label(T, 0));
        out(p, "cmp %s, offset T+%d", tc_r32[r], k);
        jk_x86_cmp(a, jk_x86_reg(JK_X86_RC_GP32, r), jk_x86_imm_label(T, k));
    }
    out(p, "push offset T+8");
    jk_x86_push(a, jk_x86_imm_label(T, 8));
    out(p, "push offset T-8");
    jk_x86_push(a, jk_x86_imm_label(T, -8));
    /* memory: every base, index, scale */
    for (b = 0; b <= 16; b++) {
        for (x = 0; x <= 16; x++) {
            if (x == 4 || (b < 16 && b >= nregs) || (x < 16 && x >= nregs))
                continue;
            for (s = 1; s <= 8; s *= 2) {
                if (x == 16 && s > 1)
                    break;
                k = (int)(b * 3 + x + s) - 20;
                memtxt(m, sizeof m, m64, 0, b, x, s, k);
                out(p, "mov %s, dword ptr %s", tc_r32[(b + x) % nregs], m);
                jk_x86_mov(a, jk_x86_reg(JK_X86_RC_GP32, (b + x) % nregs),
                           memop(4, m64, 0, b, x, s, T, k));
            }
        }
    }
    /* the jump-table idiom, stores, lea, an immediate after the displacement */
    memtxt(m, sizeof m, m64, 0, 16, 0, m64 ? 8 : 4, 0);
    out(p, "jmp %s %s", m64 ? "qword ptr" : "dword ptr", m);
    jk_x86_jmp(a, memop(m64 ? 8 : 4, m64, 0, 16, 0, m64 ? 8 : 4, T, 0));
    memtxt(m, sizeof m, m64, 0, 16, 1, m64 ? 8 : 4, 8);
    out(p, "call %s %s", m64 ? "qword ptr" : "dword ptr", m);
    jk_x86_call(a, memop(m64 ? 8 : 4, m64, 0, 16, 1, m64 ? 8 : 4, T, 8));
    memtxt(m, sizeof m, m64, 0, 3, 6, 4, 12);
    out(p, "lea %s, %s", rn(m64, 2), m);
    jk_x86_lea(a, rr(m64, 2), memop(0, m64, 0, 3, 6, 4, T, 12));
    memtxt(m, sizeof m, m64, 0, 5, 16, 1, 4);
    out(p, "mov dword ptr %s, 0x12345", m);
    jk_x86_mov(a, memop(4, m64, 0, 5, 16, 1, T, 4), jk_imm(0x12345));
    memtxt(m, sizeof m, m64, 0, 16, 7, 2, 2);
    out(p, "mov byte ptr %s, cl", m);
    jk_x86_mov(a, memop(1, m64, 0, 16, 7, 2, T, 2), JK_CL);
    if (m64) {
        /* 32-bit address registers: 0x67, zero-extended disp32 */
        memtxt(m, sizeof m, m64, 1, 1, 2, 4, 16);
        out(p, "mov eax, dword ptr %s", m);
        jk_x86_mov(a, JK_EAX, memop(4, m64, 1, 1, 2, 4, T, 16));
    }
    out(p, "ret");
    jk_x86_ret(a);
    out(p, "T:");
    jk_x86_bind(a, T);
    out(p, ".long 1, 2, 3, 4");
    jk_x86_dd(a, 1);
    jk_x86_dd(a, 2);
    jk_x86_dd(a, 3);
    jk_x86_dd(a, 4);
    *out_a = a;
    return jk_x86_status(a) != JK_OK;
}

static void run(int m64)
{
    prog p = {NULL, 0, 0};
    jk_x86_asm *a = NULL;
    char path[512], obj[512], elf[512], bin[512], cmd[4096];
    size_t size = 0, glen = 0;
    uint8_t *mine = NULL, *g = NULL;
    int bits = m64 ? 64 : 32;
    JT_CHECK_MSG(build(m64, &p, &a) == 0, "%s", a ? jk_x86_error(a)->message : "new");
    JT_EQ_U64(jk_x86_finish(a, &size), JK_OK);
    mine = malloc(size + 1);
    JT_EQ_U64(jk_x86_copy(a, mine, size, BASE), JK_OK);
    snprintf(path, sizeof path, "%s/abs%d.s", TMP, bits);
    snprintf(obj, sizeof obj, "%s/abs%d.o", TMP, bits);
    snprintf(elf, sizeof elf, "%s/abs%d.elf", TMP, bits);
    snprintf(bin, sizeof bin, "%s/abs%d.bin", TMP, bits);
    {
        FILE *f = fopen(path, "w");
        JT_CHECK(f != NULL);
        fputs(p.text, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd,
             "'%s' --%d -o '%s' '%s' && '%s' -m %s -Ttext=0x%x -e 0x%x -o '%s' '%s' && "
             "'%s' -O binary -j .text '%s' '%s'",
             AS, bits, obj, path, LD, m64 ? "elf_x86_64" : "elf_i386", BASE, BASE, elf, obj,
             OBJCOPY, elf, bin);
    JT_CHECK_MSG(tc_run(cmd) == 0, "GNU as / ld failed on %s", path);
    g = tc_read_file(bin, &glen);
    JT_CHECK(g != NULL);
    if (glen != size || memcmp(g, mine, size) != 0) {
        size_t j = 0;
        while (j < size && j < glen && g[j] == mine[j])
            j++;
        JT_CHECK_MSG(0, "%d-bit: differs from GNU as + ld: sizes %zu vs %zu, first difference "
                        "at 0x%zx (%s)",
                     bits, size, glen, j, path);
    }
    printf("%d-bit: %zu bytes identical to GNU as + ld at 0x%x\n", bits, size, BASE);
    free(g);
    free(mine);
    free(p.text);
    jk_x86_free(a);
}

static void test_abs64(void) { run(1); }
static void test_abs32(void) { run(0); }

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s as ld objcopy tmpdir\n", argv[0]);
        return 2;
    }
    AS = argv[1];
    LD = argv[2];
    OBJCOPY = argv[3];
    TMP = argv[4];
    JT_RUN(test_abs64);
    JT_RUN(test_abs32);
    return jt_finish();
}
