/*
 * tests/x86/branch_as.c - labels, fix-ups and branch relaxation against
 * GNU as.
 *
 * Random programs (fixed seeds): labels bound between runs of filler
 * instructions of various lengths, branches (jmp, every jcc, call, loop,
 * loopcc, jrcxz/jecxz) forward and backward to random labels, label
 * addresses through RIP-relative memory (64-bit) or absolute
 * displacements (32-bit) and label data; branches to a label plus or
 * minus a few bytes (jk_x86_label_plus, `jmp L3-1`) and to `.`-relative
 * targets (`jmp .+40`: a label bound right there, plus the distance); runs
 * of one branch replicated many times (NASM's `times 600 jmp x-1`, GNU's
 * `.rept`), and alignment between branches. Distances straddle the rel8
 * boundary, so relaxation has to reach GNU as's fixed point. The whole
 * program must come out byte-identical, from the C API and from the same
 * program as text through the text assembler.
 *
 *     test_x86_branch_as <as> <objcopy> <tmpdir>
 */
#include "jt.h"
#include "common.h"

#include <jitkit/asm.h>

static const char *AS, *OBJCOPY, *TMP;

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#define NL 48

typedef struct prog {
    char *text;
    size_t len, cap;
} prog;

static void out(prog *p, const char *s)
{
    size_t n = strlen(s);
    if (p->len + n + 2 > p->cap) {
        p->cap = (p->cap + n + 2) * 2;
        p->text = realloc(p->text, p->cap);
    }
    memcpy(p->text + p->len, s, n);
    p->len += n;
    p->text[p->len++] = '\n';
    p->text[p->len] = 0;
}

static void emit_txt(prog *p, jk_x86_asm *a, unsigned id, unsigned n, jk_x86_op o0, jk_x86_op o1)
{
    jk_x86_op ops[2];
    char t[200];
    ops[0] = o0;
    ops[1] = o1;
    tc_insn(t, sizeof t, NULL, jk_x86_mnem_name((jk_x86_mnem)id), n, ops);
    out(p, t);
    jk_x86_emit(a, (jk_x86_mnem)id, n, ops);
}

static int one_program(int m64, unsigned seed, unsigned nblocks, int *stats)
{
    jk_x86_asm *a = NULL;
    jk_label L[NL];
    unsigned i, k, nl = nblocks < NL ? nblocks : NL;
    prog p = {NULL, 0, 0};
    char path[512], obj[512], bin[512], cmd[4096], t[200];
    size_t size = 0, glen = 0;
    uint8_t *mine, *g;
    int bad = 0;
    jk_x86_op N = JK_NOREG;
    static const unsigned jcc[] = {JK_X86_JO, JK_X86_JNO, JK_X86_JB, JK_X86_JAE, JK_X86_JE,
                                   JK_X86_JNE, JK_X86_JBE, JK_X86_JA, JK_X86_JS, JK_X86_JNS,
                                   JK_X86_JP, JK_X86_JNP, JK_X86_JL, JK_X86_JGE, JK_X86_JLE,
                                   JK_X86_JG, JK_X86_JZ, JK_X86_JNZ, JK_X86_JC, JK_X86_JNAE};
    rng = 0x9E3779B97F4A7C15ull ^ (seed * 0x100000001B3ull) ^ (uint64_t)m64;
    if (jk_x86_new(&a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL))
        return 1;
    out(&p, ".intel_syntax noprefix");
    for (i = 0; i < nl; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "L%u", i + 1);
        L[i] = jk_x86_label(a, nm);
    }
    for (i = 0; i < nl; i++) {
        unsigned nfill = rnd(4) == 0 ? 20 + rnd(30) : rnd(6);
        int far = 0; /* the block has grown past rel8 reach of its label */
        snprintf(t, sizeof t, "L%u:", (unsigned)L[i]);
        out(&p, t);
        jk_x86_bind(a, L[i]);
        for (k = 0; k < nfill; k++) {
            switch (rnd(5)) {
            case 0: emit_txt(&p, a, JK_X86_NOP, 0, N, N); break;
            case 1: emit_txt(&p, a, JK_X86_MOV, 2, JK_EAX, jk_imm(0x12345678)); break;
            case 2: emit_txt(&p, a, JK_X86_ADD, 2, JK_ECX, JK_EDX); break;
            case 3: emit_txt(&p, a, JK_X86_LEA, 2, JK_EAX,
                             jk_x86_mem(0, m64 ? JK_RSP : JK_ESP, N, 1, 0x1000)); break;
            default: emit_txt(&p, a, JK_X86_IMUL, 2, JK_EBX, jk_imm(1000)); break;
            }
        }
        /* a few branches and label uses */
        for (k = rnd(3); k > 0; k--) {
            unsigned tgt = rnd(nl);
            unsigned what = rnd(16);
            jk_x86_op lo = jk_lbl(L[tgt]);
            if (what >= 12) {
                /* label + addend, '.' + distance, replicated, aligned */
                static const unsigned br[] = {JK_X86_JMP, JK_X86_JNE, JK_X86_JA, JK_X86_CALL};
                unsigned id = br[rnd(4)], reps = rnd(3) == 0 ? 20 + rnd(140) : 1, r;
                int add = (int)rnd(7) - 3;
                const char *mn = jk_x86_mnem_name((jk_x86_mnem)id);
                if (what == 15) {
                    static const unsigned al[] = {2, 4, 8, 16, 32};
                    unsigned a2 = al[rnd(5)], kind = rnd(4);
                    if (kind == 0) {
                        snprintf(t, sizeof t, ".balign %u", a2);
                        jk_x86_align(a, a2);
                    } else {
                        /* with a maximum skip (padding or none, by where it
                         * lands) and/or a fill byte */
                        unsigned mx = rnd(a2), fill = kind == 1 ? 0x90 : 0xcc;
                        snprintf(t, sizeof t, ".balign %u, %s, %u", a2,
                                 kind == 3 ? "" : fill == 0x90 ? "0x90" : "0xcc", mx);
                        jk_x86_align_fill(a, a2, mx ? mx : JK_X86_ALIGN_ANY,
                                          kind == 3 || fill == 0x90 ? JK_X86_ALIGN_NOPS
                                                                    : (int)fill);
                    }
                    out(&p, t);
                    stats[5]++;
                    far = 1;
                    continue;
                }
                for (r = 0; r < reps; r++) {
                    if (what == 14) { /* '.'-relative: a fresh label here */
                        int dist = (int)rnd(400) - 200;
                        jk_label here = jk_x86_label(a, NULL);
                        jk_x86_bind(a, here);
                        snprintf(t, sizeof t, "%s .%+d", mn, dist);
                        out(&p, t);
                        jk_x86_emit(a, (jk_x86_mnem)id, 1,
                                    (jk_x86_op[]){jk_lbl(jk_x86_label_plus(a, here, dist))});
                    } else {
                        snprintf(t, sizeof t, "%s L%u%+d", mn, (unsigned)L[tgt], add);
                        out(&p, t);
                        jk_x86_emit(a, (jk_x86_mnem)id, 1,
                                    (jk_x86_op[]){jk_lbl(add ? jk_x86_label_plus(a, L[tgt], add)
                                                             : L[tgt])});
                    }
                }
                stats[4] += (int)reps;
                far |= reps > 1;
                continue;
            }
            if (what < 4) {
                emit_txt(&p, a, JK_X86_JMP, 1, lo, N);
                stats[0]++;
            } else if (what < 8) {
                emit_txt(&p, a, jcc[rnd(20)], 1, lo, N);
                stats[0]++;
            } else if (what == 8) {
                emit_txt(&p, a, JK_X86_CALL, 1, lo, N);
                stats[1]++;
            } else if (what == 9) {
                /* rel8-only: only to a label that is certainly near */
                tgt = i;
                lo = jk_lbl(L[tgt]);
                {
                    static const unsigned loops[] = {JK_X86_LOOP, JK_X86_LOOPE, JK_X86_LOOPNE,
                                                     JK_X86_JECXZ, JK_X86_LOOPZ};
                    unsigned id = loops[rnd(5)];
                    if (m64 && rnd(2))
                        id = JK_X86_JRCXZ;
                    if (nfill < 10 && !far) {
                        emit_txt(&p, a, id, 1, lo, N);
                        stats[2]++;
                    }
                }
            } else if (m64) {
                jk_x86_op mem = jk_x86_mem_label(4, L[tgt], (int32_t)rnd(16));
                snprintf(t, sizeof t, "mov eax, dword ptr [rip+L%u+%d]", (unsigned)L[tgt],
                         (int)(uint32_t)mem.value);
                out(&p, t);
                jk_x86_mov(a, JK_EAX, mem);
                stats[3]++;
            } else {
                jk_x86_op mem = jk_x86_mem_label(4, L[tgt], (int32_t)rnd(16));
                snprintf(t, sizeof t, "mov eax, dword ptr [L%u+%d]", (unsigned)L[tgt],
                         (int)(uint32_t)mem.value);
                out(&p, t);
                jk_x86_mov(a, JK_EAX, mem);
                snprintf(t, sizeof t, ".long L%u+3", (unsigned)L[tgt]);
                out(&p, t);
                jk_x86_dlabel(a, L[tgt], 3);
                stats[3]++;
            }
        }
    }
    if (jk_x86_finish(a, &size) != JK_OK) {
        fprintf(stderr, "seed %u: finish: %s\n", seed, jk_x86_error(a)->message);
        jk_x86_free(a);
        free(p.text);
        return 1;
    }
    mine = malloc(size + 1);
    if (jk_x86_copy(a, mine, size, 0) != JK_OK) {
        fprintf(stderr, "seed %u: copy: %s\n", seed, jk_x86_error(a)->message);
        bad = 1;
    }
    snprintf(path, sizeof path, "%s/br%d_%u.s", TMP, m64 ? 64 : 32, seed);
    snprintf(obj, sizeof obj, "%s/br%d_%u.o", TMP, m64 ? 64 : 32, seed);
    snprintf(bin, sizeof bin, "%s/br%d_%u.bin", TMP, m64 ? 64 : 32, seed);
    {
        FILE *f = fopen(path, "w");
        fputs(p.text, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "'%s' --%d -o '%s' '%s' && '%s' -O binary -j .text '%s' '%s'", AS,
             m64 ? 64 : 32, obj, path, OBJCOPY, obj, bin);
    if (tc_run(cmd) != 0) {
        fprintf(stderr, "seed %u: GNU as failed on %s\n", seed, path);
        bad = 1;
    } else {
        g = tc_read_file(bin, &glen);
        if (!g || glen != size || memcmp(g, mine, size) != 0) {
            size_t j = 0;
            while (g && j < size && j < glen && g[j] == mine[j])
                j++;
            fprintf(stderr, "seed %u (%d-bit): differs from GNU as: sizes %zu vs %zu, first "
                            "difference at 0x%zx (%s)\n",
                    seed, m64 ? 64 : 32, size, glen, j, path);
            bad = 1;
        }
        /* the same program through the text assembler */
        if (g && !bad) {
            jk_asm *ta = NULL;
            jk_asm_options o = JK_ASM_OPTIONS_INIT;
            size_t tlen = 0;
            const uint8_t *tc;
            o.mode = m64 ? JK_X86_MODE64 : JK_X86_MODE32;
            if (jk_asm_new(&ta, &o, NULL) != JK_OK ||
                jk_asm_assemble(ta, p.text, p.len) != JK_OK) {
                fprintf(stderr, "seed %u (%d-bit): text assembler failed on %s: %s", seed,
                        m64 ? 64 : 32, path, ta ? jk_asm_diag_text(ta, 0) : "no handle\n");
                bad = 1;
            } else if (!(tc = jk_asm_code(ta, &tlen)) || tlen != glen ||
                       memcmp(tc, g, glen) != 0) {
                fprintf(stderr, "seed %u (%d-bit): text assembler differs from GNU as (%s)\n",
                        seed, m64 ? 64 : 32, path);
                bad = 1;
            }
            jk_asm_free(ta);
        }
        free(g);
    }
    free(mine);
    free(p.text);
    jk_x86_free(a);
    return bad;
}

static void run(int m64)
{
    unsigned seed, nseeds = 40;
    int bad = 0, stats[6] = {0, 0, 0, 0, 0, 0};
    const char *env = getenv("JK_BRANCH_SEEDS"); /* more programs by hand */
    if (env && atoi(env) > 0)
        nseeds = (unsigned)atoi(env);
    for (seed = 1; seed <= nseeds; seed++)
        bad += one_program(m64, seed, 8 + seed % 60, stats);
    printf("%d-bit: %u programs, %d jmp/jcc, %d call, %d loop/jrcxz, %d label data/memory, "
           "%d to label+k or .+k (replicated runs included), %d alignments: %d differ\n",
           m64 ? 64 : 32, nseeds, stats[0], stats[1], stats[2], stats[3], stats[4], stats[5],
           bad);
    JT_EQ_U64(bad, 0);
}

/* Padding: jk_x86_nops (and so alignment, which uses the same filler)
 * against GNU as's .nops for every length up to 300, both modes. */
static void nops(int m64)
{
    char path[512], obj[512], bin[512], cmd[4096];
    unsigned n, bad = 0;
    for (n = 1; n <= 300; n++) {
        jk_x86_asm *a = NULL;
        uint8_t mine[512];
        uint8_t *g;
        size_t size = 0, glen = 0;
        FILE *f;
        snprintf(path, sizeof path, "%s/nops%d.s", TMP, m64 ? 64 : 32);
        snprintf(obj, sizeof obj, "%s/nops%d.o", TMP, m64 ? 64 : 32);
        snprintf(bin, sizeof bin, "%s/nops%d.bin", TMP, m64 ? 64 : 32);
        f = fopen(path, "w");
        fprintf(f, ".nops %u\n", n);
        fclose(f);
        snprintf(cmd, sizeof cmd, "'%s' --%d -o '%s' '%s' && '%s' -O binary -j .text '%s' '%s'",
                 AS, m64 ? 64 : 32, obj, path, OBJCOPY, obj, bin);
        JT_EQ_I64(tc_run(cmd), 0);
        g = tc_read_file(bin, &glen);
        JT_EQ_I64(jk_x86_new(&a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL), JK_OK);
        jk_x86_nops(a, n);
        JT_EQ_I64(jk_x86_finish(a, &size), JK_OK);
        JT_EQ_I64(jk_x86_copy(a, mine, sizeof mine, 0), JK_OK);
        if (!g || glen != size || memcmp(g, mine, size) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "%d-bit: %u bytes of NOPs differ from GNU as\n", m64 ? 64 : 32,
                        n);
        }
        free(g);
        jk_x86_free(a);
    }
    printf("%d-bit: NOP padding of 1..300 bytes: %u differ from GNU as\n", m64 ? 64 : 32, bad);
    JT_EQ_U64(bad, 0);
}

static void test_nops64(void) { nops(1); }
static void test_nops32(void) { nops(0); }

static void test_branch64(void) { run(1); }
static void test_branch32(void) { run(0); }

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s as objcopy tmpdir\n", argv[0]);
        return 2;
    }
    AS = argv[1];
    OBJCOPY = argv[2];
    TMP = argv[3];
    JT_RUN(test_nops64);
    JT_RUN(test_nops32);
    JT_RUN(test_branch64);
    JT_RUN(test_branch32);
    return jt_finish();
}
