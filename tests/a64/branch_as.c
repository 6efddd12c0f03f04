/*
 * tests/a64/branch_as.c - relaxable branches at their reach boundaries
 * against GNU as. GNU as does not relax: within reach, jitkit must produce
 * exactly GNU as's bytes for `b.eq 1f; .rept N; nop; .endr; 1:` (and the
 * backward case); one word beyond, jitkit's relaxed code must equal GNU
 * as's bytes for the hand-written long form `b.ne 2f; b 1f; 2: ...` (the
 * inverted branch over a b).
 *
 *   test_a64_branch_as AS OBJCOPY TMPDIR      (exit 77 when AS is absent)
 */
#include "jt.h"

#include "common.h"

static const char *g_as, *g_objcopy, *g_tmp;

typedef struct bk {
    const char *text;     /* the branch without its target */
    const char *inverse;  /* the inverted branch */
    jk_a64_mnem m;
    unsigned bits;
} bk;

static const bk kinds[] = {
    {"b.eq", "b.ne", JK_A64_B_EQ, 19},
    {"b.gt", "b.le", JK_A64_B_GT, 19},
    {"cbz x3,", "cbnz x3,", JK_A64_CBZ, 19},
    {"cbnz w3,", "cbz w3,", JK_A64_CBNZ, 19},
    {"tbz x3, #33,", "tbnz x3, #33,", JK_A64_TBZ, 14},
    {"tbnz w3, #7,", "tbz w3, #7,", JK_A64_TBNZ, 14},
};

static uint8_t *ours(const bk *k, long gap, size_t *n)
{
    jk_a64_asm *a = NULL;
    jk_label l;
    jk_a64_op ops[3];
    unsigned c = 0;
    long i;
    uint8_t *b;
    jk_a64_new(&a, NULL);
    l = jk_a64_label(a, NULL);
    if (k->m == JK_A64_CBZ || k->m == JK_A64_TBZ)
        ops[c++] = JK_X3;
    else if (k->m != JK_A64_B_EQ && k->m != JK_A64_B_GT)
        ops[c++] = JK_W3;
    if (k->m == JK_A64_TBZ)
        ops[c++] = jk_a64_imm(33);
    else if (k->m == JK_A64_TBNZ)
        ops[c++] = jk_a64_imm(7);
    ops[c++] = jk_a64_lbl(l);
    if (gap < 0) {
        jk_a64_bind(a, l);
        for (i = 0; i < -gap; i++)
            jk_a64_nop(a);
    }
    jk_a64_emit(a, k->m, c, ops);
    if (gap >= 0) {
        for (i = 0; i < gap; i++)
            jk_a64_nop(a);
        jk_a64_bind(a, l);
    }
    jk_a64_ret(a);
    if (jk_a64_finish(a, n)) {
        fprintf(stderr, "%s\n", jk_a64_error(a)->message);
        jk_a64_free(a);
        return NULL;
    }
    b = malloc(*n);
    jk_a64_copy(a, b, *n, 0);
    jk_a64_free(a);
    return b;
}

static uint8_t *theirs(const bk *k, long gap, int relaxed, size_t *n)
{
    char src[512], obj[512], bin[512], cmd[4096];
    FILE *f;
    uint8_t *b;
    snprintf(src, sizeof src, "%s/br.s", g_tmp);
    snprintf(obj, sizeof obj, "%s/br.o", g_tmp);
    snprintf(bin, sizeof bin, "%s/br.bin", g_tmp);
    f = fopen(src, "w");
    if (gap < 0)
        fprintf(f, "1:\n.rept %ld\nnop\n.endr\n", -gap);
    if (relaxed)
        fprintf(f, "%s 2f\nb 1%c\n2:\n", k->inverse, gap < 0 ? 'b' : 'f');
    else
        fprintf(f, "%s 1%c\n", k->text, gap < 0 ? 'b' : 'f');
    if (gap >= 0)
        fprintf(f, ".rept %ld\nnop\n.endr\n1:\n", gap);
    fprintf(f, "ret\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -o %s %s && %s -O binary -j .text %s %s", g_as, obj, src,
             g_objcopy, obj, bin);
    if (tc_run(cmd) != 0)
        return NULL;
    b = tc_read(bin, n);
    return b;
}

static void test_boundaries(void)
{
    unsigned k, c, checked = 0;
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        long lim = 1l << (kinds[k].bits - 1); /* reach in words: -lim .. lim-1 */
        /* gap in nops: forward distance gap + 1 words, backward -gap */
        long gaps[4] = {lim - 2, lim - 1, -lim, -lim - 1};
        for (c = 0; c < 4; c++) {
            long d = gaps[c] >= 0 ? gaps[c] + 1 : gaps[c];
            int relaxed = d < -lim || d >= lim;
            size_t n1, n2;
            uint8_t *x = ours(&kinds[k], gaps[c], &n1), *y = theirs(&kinds[k], gaps[c], relaxed, &n2);
            JT_CHECK(x != NULL);
            JT_CHECK_MSG(y != NULL, "GNU as failed on %s over %ld nops", kinds[k].text, gaps[c]);
            JT_CHECK_MSG(n1 == n2 && memcmp(x, y, n1) == 0, "%s over %ld nops (%s): bytes differ",
                         kinds[k].text, gaps[c], relaxed ? "relaxed" : "short");
            free(x);
            free(y);
            checked++;
        }
    }
    printf("%u boundary cases identical to GNU as\n", checked);
}

int main(int argc, char **argv)
{
    if (argc < 4 || !tc_exists(argv[1]) || !tc_exists(argv[2])) {
        printf("SKIP: needs aarch64-linux-gnu-as and -objcopy (Debian binutils-aarch64-linux-gnu)\n");
        return 77;
    }
    g_as = argv[1];
    g_objcopy = argv[2];
    g_tmp = argv[3];
    JT_RUN(test_boundaries);
    return jt_finish();
}
