/*
 * test_text.c - the text assembler through its API: bytes for typical
 * statements, both dialects, expressions, labels, passes, listings, and
 * the diagnostics (position, message, caret, several per run).
 */
#include "jt.h"

#include <jitkit/jitkit.h>

/* white-box (not in the amalgamation's build): the handle's memory stays
 * bounded */
#if defined(__has_include)
#  if __has_include("text/text_p.h")
#    include "text/text_p.h"
#    define JK_TEXT_WHITEBOX 1
#  endif
#endif

static jk_asm *as_;

/* Assemble and compare with the expected bytes as hex ("b8 78 56 34 12"). */
static int asm_hex(jk_x86_mode mode, jk_asm_syntax syn, const char *src, char *out, size_t cap)
{
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    size_t n, pos = 0;
    const uint8_t *c;
    o.mode = mode;
    o.syntax = syn;
    o.flags = JK_ASM_LISTING;
    jk_asm_free(as_);
    as_ = NULL;
    if (jk_asm_new(&as_, &o, NULL) != JK_OK)
        return -1;
    if (jk_asm_assemble(as_, src, (size_t)-1) != JK_OK) {
        snprintf(out, cap, "ERR %s", jk_asm_diag_count(as_) ? jk_asm_diag_at(as_, 0)->message : "?");
        return 0;
    }
    c = jk_asm_code(as_, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 4 < cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, i ? " %02x" : "%02x", c[i]);
    return 1;
}

#define HEX64(src, want)                                                      \
    do {                                                                      \
        char b_[4096];                                                        \
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, src, b_, sizeof b_);        \
        JT_EQ_STR(b_, want);                                                  \
    } while (0)
#define HEX32(src, want)                                                      \
    do {                                                                      \
        char b_[4096];                                                        \
        asm_hex(JK_X86_MODE32, JK_ASM_SYNTAX_GNU, src, b_, sizeof b_);        \
        JT_EQ_STR(b_, want);                                                  \
    } while (0)
#define ASM64(src)                                                            \
    do {                                                                      \
        char b_[8192];                                                        \
        JT_EQ_U64(asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, src, b_, sizeof b_), 1); \
    } while (0)
#define HEXN(src, want)                                                       \
    do {                                                                      \
        char b_[4096];                                                        \
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_NASM, src, b_, sizeof b_);       \
        JT_EQ_STR(b_, want);                                                  \
    } while (0)

static void test_seed(void)
{
    HEX64("mov eax, 12345678h; ret", "b8 78 56 34 12 c3");
    HEX64("mov eax, 0x12345678\nret\n", "b8 78 56 34 12 c3");
    HEX32("mov eax, 12345678h; ret", "b8 78 56 34 12 c3");
    HEXN("mov eax, 12345678h ; a comment\nret", "b8 78 56 34 12 c3");
}


static void test_gnu_dialect(void)
{
    /* bytes from GNU as 2.40 for the same text */
    HEX64(".set N, 4*(3+2) << 1 | 1\nmov eax, N\nadd rax, [rbx+rcx*8+N-0x10]",
          "b8 29 00 00 00 48 03 44 cb 19");
    HEX64("lock cmpxchg QWORD PTR [rdi], rsi\nrep stosb\nrepne scas al, BYTE PTR es:[rdi]\n"
          "rep movs QWORD PTR es:[rdi], QWORD PTR ds:[rsi]",
          "f0 48 0f b1 37 f3 aa f2 ae f3 48 a5");
    HEX64("mov rax, QWORD PTR fs:0x28\nmov eax, gs:[rbx+4]",
          "64 48 8b 04 25 28 00 00 00 65 8b 43 04");
    HEX64("movabs rax, 0x1122334455667788\nmovzx eax, BYTE PTR [rsi]\n"
          "movsxd rax, DWORD PTR [rdi+4]\nimul eax, ecx, 100\nshl eax, 1\nsar rdx, cl\n"
          "xchg ax, ax",
          "48 b8 88 77 66 55 44 33 22 11 0f b6 06 48 63 47 04 6b c1 64 d1 e0 48 d3 fa 66 90");
    /* what objdump prints, annotations and all */
    HEX64("mov    rax,QWORD PTR [rip+0x2ee3]        # 404010 <x>", "48 8b 05 e3 2e 00 00");
    HEX64("cs nop WORD PTR [rax+rax*1+0x0]", "2e 66 0f 1f 04 00");
    HEX64("data16 cs nop WORD PTR [rax+rax*1+0x0]", "66 2e 66 0f 1f 04 00");
    HEX64("# only a comment\n\n   \t\n", "");
    HEX64("nop # comment; not a separator", "90");
    HEX64("nop // also a comment", "90");
    HEX64("NOP\nMOV EAX, 1\nRet", "90 b8 01 00 00 00 c3");
    HEX64(".intel_syntax noprefix\n.text\n.globl f\n.type f, @function\nf: ret\n.size f, .-f",
          "c3");
    /* explicit REX prefixes join the instruction's REX right before the
     * opcode, whatever the source order (GNU as 2.40's bytes) */
    HEX64("rep rex.W ins DWORD PTR es:[rdi],dx\nrex.W rep insd\nrex.W insd",
          "f3 48 6d f3 48 6d 48 6d");
    HEX64("rex.W lock add [rax], eax\nlock rex.W add [rax], eax",
          "f0 48 01 00 f0 48 01 00");
    HEX64("rex.W fs mov eax, [rax]\nfs rex.W mov eax, [rax]", "64 48 8b 00 64 48 8b 00");
    HEX64("rex.W add eax, 1\nrex.W add r8d, 1\nrex.WRXB mov eax, ebx\nrex mov al, 1\n"
          "rex.B mov eax, 1\nrex rex.W nop\nrex.W",
          "48 83 c0 01 49 83 c0 01 4f 89 d8 40 b0 01 41 b8 01 00 00 00 48 90 48");
    /* a relaxable branch keeps its REX in both forms */
    ASM64("rex.W jmp l1\nrex.W je l1\nl1: rex.W jmp l2\n.fill 200, 1, 0x90\nl2: ret");
    {
        static const uint8_t want[] = {0x48, 0xeb, 0x03, 0x48, 0x74, 0x00,
                                       0x48, 0xe9, 0xc8, 0x00, 0x00, 0x00};
        size_t n;
        const uint8_t *c = jk_asm_code(as_, &n);
        JT_EQ_U64(n, sizeof want + 200 + 1);
        JT_CHECK(c && memcmp(c, want, sizeof want) == 0);
    }
}

static void test_nasm_habits(void)
{
    HEX64("mov eax, 0FFh", "b8 ff 00 00 00");
    HEX64("mov eax, 0b101\nmov ecx, 0o17\nmov edx, 'AB'",
          "b8 05 00 00 00 b9 0f 00 00 00 ba 41 42 00 00");
    HEX64("mov rax, qword [rax]\nmov byte [rbx+4], 1", "48 8b 00 c6 43 04 01");
    HEX64("x: jmp $\njmp $+2", "eb fe eb 00");
    HEX64("db 1, 'ab', 0\ndw 0x1234\ndd 1\ndq -1", "01 61 62 00 34 12 01 00 00 00 ff ff ff ff ff ff ff ff");
    HEX64("times 3 nop\ntimes 2 db 7", "90 90 90 07 07");
    HEXN("mov eax, 1 ; comment\nret ; done", "b8 01 00 00 00 c3");
    HEXN("f: mov ecx, 3\n.l: dec ecx\njnz .l\ng: jmp .l\n.l: ret",
         "b9 03 00 00 00 ff c9 75 fc eb 00 c3");
    HEXN("mov eax, 010", "b8 0a 00 00 00");     /* NASM: decimal */
    HEX64("mov eax, 010", "b8 08 00 00 00");    /* GNU: octal */
    HEXN("times 4-($-$$) db 0x90\nret", "90 90 90 90 c3");
    HEXN("bits 64\ndefault rel\nsection .text\nglobal f\nf: ret", "c3");
    HEXN("[bits 64]\nret", "c3");
    HEXN("N equ 5\nmov eax, N", "b8 05 00 00 00");
}

static void test_labels_and_layout(void)
{
    HEX64("1: dec ecx\njnz 1b\njmp 1f\nnop\n1: ret", "ff c9 75 fc eb 01 90 c3");
    HEX64("start: jmp end\n.byte 1,2,3\n.word 0x1234, -1\n.long end - start\nend: ret",
          "eb 0b 01 02 03 34 12 ff ff 0d 00 00 00 c3");
    JT_EQ_U64(jk_asm_passes(as_), 2);
    /* a label difference that grows a branch: needs the layout to settle */
    ASM64("a: jmp b\n.fill 120, 1, 0x90\nb: .byte b - a");
    {
        size_t n;
        const uint8_t *c = jk_asm_code(as_, &n);
        JT_EQ_U64(n, 2 + 120 + 1);
        JT_EQ_U64(c[0], 0xeb);
        JT_EQ_U64(c[n - 1], 122);
    }
    ASM64("a: jmp b\n.fill 200, 1, 0x90\nb: .byte b - a");
    {
        size_t n;
        const uint8_t *c = jk_asm_code(as_, &n);
        JT_EQ_U64(n, 5 + 200 + 1);
        JT_EQ_U64(c[0], 0xe9);
        JT_EQ_U64(c[n - 1], 205);
    }
    /* forward .set, '.' in data */
    HEX64("mov eax, K\n.set K, 7", "b8 07 00 00 00");
    HEX64("nop\nx: .long . - x", "90 00 00 00 00");
    HEX64("jmp .+0x12\njne .-0x80\ncall .+0x1000\nloop .+2",
          "eb 10 0f 85 7a ff ff ff e8 fb 0f 00 00 e2 00");
    HEX64("lea rax, [rip+data]\ndata: .quad 0",
          "48 8d 05 00 00 00 00 00 00 00 00 00 00 00 00");
    HEX64("lea rax, [data+8]\nret\ndata: .quad 0",
          "48 8d 05 09 00 00 00 c3 00 00 00 00 00 00 00 00");
    {
        size_t off;
        HEX64("nop\nhere: ret", "90 c3");
        JT_CHECK(jk_asm_label_offset(as_, "here", &off) == JK_OK);
        JT_EQ_U64(off, 1);
        JT_CHECK(jk_asm_label_offset(as_, "nothere", &off) == JK_ELABEL);
    }
}

/* Replicated branches to a label minus one (NASM's `times`): every copy is
 * relaxed by the x86 assembler like any branch, so the layout settles in
 * one pass. The bytes are GNU as's for `.rept 100` / `jmp x-1` / `.endr`
 * / `x:` (also what nasm -f bin writes). A reproducer of a use-after-free
 * (the symbol array grew under a pointer) and of a layout that did not
 * settle; the ASan build runs it. */
static void test_relax_replicated(void)
{
    static const char gnu100[] =
        "e9 2b 01 00 00 e9 26 01 00 00 e9 21 01 00 00 e9 1c 01 00 00 e9 17 01 00 00 e9 12 01 00 00 e9 0d "
        "01 00 00 e9 08 01 00 00 e9 03 01 00 00 e9 fe 00 00 00 e9 f9 00 00 00 e9 f4 00 00 00 e9 ef 00 00 "
        "00 e9 ea 00 00 00 e9 e5 00 00 00 e9 e0 00 00 00 e9 db 00 00 00 e9 d6 00 00 00 e9 d1 00 00 00 e9 "
        "cc 00 00 00 e9 c7 00 00 00 e9 c2 00 00 00 e9 bd 00 00 00 e9 b8 00 00 00 e9 b3 00 00 00 e9 ae 00 "
        "00 00 e9 a9 00 00 00 e9 a4 00 00 00 e9 9f 00 00 00 e9 9a 00 00 00 e9 95 00 00 00 e9 90 00 00 00 "
        "e9 8b 00 00 00 e9 86 00 00 00 e9 81 00 00 00 eb 7f eb 7d eb 7b eb 79 eb 77 eb 75 eb 73 eb 71 eb "
        "6f eb 6d eb 6b eb 69 eb 67 eb 65 eb 63 eb 61 eb 5f eb 5d eb 5b eb 59 eb 57 eb 55 eb 53 eb 51 eb "
        "4f eb 4d eb 4b eb 49 eb 47 eb 45 eb 43 eb 41 eb 3f eb 3d eb 3b eb 39 eb 37 eb 35 eb 33 eb 31 eb "
        "2f eb 2d eb 2b eb 29 eb 27 eb 25 eb 23 eb 21 eb 1f eb 1d eb 1b eb 19 eb 17 eb 15 eb 13 eb 11 eb "
        "0f eb 0d eb 0b eb 09 eb 07 eb 05 eb 03 eb 01 eb ff";
    char b[4096];
    size_t n;
    const uint8_t *c;
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_NASM, "times 100 jmp x-1\nx:", b, sizeof b);
    JT_EQ_STR(b, gnu100);
    JT_EQ_U64(jk_asm_passes(as_), 1);
    /* 600 copies: each lands on x-1 */
    JT_EQ_U64(asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_NASM, "times 600 jmp x-1\nx:", b, sizeof b),
              1);
    c = jk_asm_code(as_, &n);
    JT_EQ_U64(n, 2805);
    for (size_t k = 0; k < n;) {
        int64_t to;
        if (c[k] == 0xeb) {
            to = (int64_t)k + 2 + (int8_t)c[k + 1];
            k += 2;
        } else {
            int32_t d;
            JT_EQ_U64(c[k], 0xe9);
            memcpy(&d, c + k + 1, 4);
            to = (int64_t)k + 5 + d;
            k += 5;
        }
        JT_EQ_I64(to, (int64_t)n - 1);
    }
    /* the fuzzer's minimised input: a clean error for the undefined name */
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_NASM, "times 569 jp Q-\"a\"", b, sizeof b);
    JT_EQ_STR(b, "ERR undefined symbol 'Q'");
    /* '.'-relative and label+k copies mixed, alignment between them */
    ASM64("a: jmp b-2\n.p2align 4\njne .+100\njmp a+1\n.p2align 5\n.fill 150,1,0x90\nb: ret");
    c = jk_asm_code(as_, &n);
    JT_EQ_U64(c[0], 0xe9); /* b-2 is out of rel8 reach */
}

/* Random programs whose branch targets are label differences
 * (`jmp L3 + (L7 - L5)`), '.'-relative or label+k, with replicated runs
 * (`times`), fills and alignment between them: the layout must settle,
 * and every branch must land where its expression says in the final code
 * (read back from the listing and the label offsets). GNU as reaches a
 * fixed point of its own for label differences, not always the same one,
 * so this checks meaning, not bytes. */
static uint64_t lrng;
static unsigned lrnd(unsigned n)
{
    lrng ^= lrng << 13;
    lrng ^= lrng >> 7;
    lrng ^= lrng << 17;
    return (unsigned)(lrng % n);
}

typedef struct { int kind; unsigned a, b, c; int k; } ltgt; /* 0 plain+k, 1 diff, 2 '.'+k */

static void test_relax_label_differences(void)
{
    unsigned seeds = 200, settled = 0, branches = 0;
    const char *dump = getenv("JK_LDIFF_DUMP"); /* write seed N's program to stdout */
    for (unsigned seed = 1; seed <= seeds; seed++) {
        char *src = malloc(1 << 16);
        ltgt *t = malloc(4096 * sizeof *t);
        unsigned nl = 4 + seed % 20, nt = 0, len = 0, bad = 0;
        jk_asm_options o = JK_ASM_OPTIONS_INIT;
        size_t n;
        const uint8_t *c;
        lrng = 0x9E3779B97F4A7C15ull * seed;
        o.syntax = seed % 3 == 0 ? JK_ASM_SYNTAX_NASM : JK_ASM_SYNTAX_GNU;
        o.flags = JK_ASM_LISTING;
        for (unsigned i = 0; i < nl; i++) {
            len += (unsigned)sprintf(src + len, "L%u:\n", i);
            for (unsigned k = lrnd(5); k > 0; k--) {
                unsigned r = lrnd(10), reps = lrnd(4) == 0 ? 2 + lrnd(60) : 1;
                ltgt x = {0, lrnd(nl), lrnd(nl), lrnd(nl), (int)lrnd(9) - 4};
                const char *mn = lrnd(2) ? "jmp" : "jne";
                if (r < 2) {
                    len += (unsigned)sprintf(src + len, "nop\n");
                    continue;
                }
                if (r < 4) {
                    len += (unsigned)sprintf(src + len, o.syntax == JK_ASM_SYNTAX_NASM
                                                            ? "times %u nop\n"
                                                            : ".fill %u, 1, 0x90\n",
                                             1 + lrnd(90));
                    continue;
                }
                if (r == 4) {
                    len += (unsigned)sprintf(src + len, o.syntax == JK_ASM_SYNTAX_NASM
                                                            ? "align %u\n" : ".balign %u\n",
                                             1u << (1 + lrnd(5)));
                    continue;
                }
                x.kind = r < 7 ? 1 : r < 9 ? 0 : 2;
                if (nt + reps > 4096)
                    break;
                for (unsigned q = 0; q < reps; q++)
                    t[nt++] = x;
                if (reps > 1)
                    len += (unsigned)sprintf(src + len, "%s ", o.syntax == JK_ASM_SYNTAX_NASM
                                                                 ? "times" : "");
                if (reps > 1 && o.syntax != JK_ASM_SYNTAX_NASM) { /* GNU: spelled out */
                    len -= 1;
                    for (unsigned q = 0; q + 1 < reps; q++)
                        len += (unsigned)(x.kind == 1 ? sprintf(src + len, "%s L%u + (L%u - L%u)\n", mn, x.a, x.b, x.c)
                                          : x.kind == 0 ? sprintf(src + len, "%s L%u%+d\n", mn, x.a, x.k)
                                                        : sprintf(src + len, "%s .%+d\n", mn, x.k * 37));
                } else if (reps > 1) {
                    len += (unsigned)sprintf(src + len, "%u ", reps);
                }
                len += (unsigned)(x.kind == 1 ? sprintf(src + len, "%s L%u + (L%u - L%u)\n", mn, x.a, x.b, x.c)
                                  : x.kind == 0 ? sprintf(src + len, "%s L%u%+d\n", mn, x.a, x.k)
                                  : sprintf(src + len, "%s %s%+d\n", mn,
                                            o.syntax == JK_ASM_SYNTAX_NASM ? "$" : ".", x.k * 37));
            }
        }
        jk_asm_free(as_);
        as_ = NULL;
        if (dump && (unsigned)atoi(dump) == seed)
            fwrite(src, 1, len, stdout);
        JT_EQ_I64(jk_asm_new(&as_, &o, NULL), JK_OK);
        if (jk_asm_assemble(as_, src, len) != JK_OK) {
            fprintf(stderr, "seed %u: %s\n%s", seed, jk_asm_diag_text(as_, 0), src);
            bad = 1;
        } else {
            size_t off[64], k = 0;
            settled++;
            for (unsigned i = 0; i < nl; i++) {
                char nm[16];
                snprintf(nm, sizeof nm, "L%u", i);
                JT_EQ_I64(jk_asm_label_offset(as_, nm, &off[i]), JK_OK);
            }
            c = jk_asm_code(as_, &n);
            /* walk the statements that are branches, in order */
            for (size_t i = 0; i < jk_asm_stmt_count(as_) && !bad; i++) {
                const jk_asm_stmt *st = jk_asm_stmt_at(as_, i);
                const uint8_t *b = c + st->offset;
                int64_t at, want;
                if (!st->size || !(b[0] == 0xeb || b[0] == 0xe9 || b[0] == 0x75 ||
                                   (b[0] == 0x0f && b[1] == 0x85)) ||
                    st->text[0] == 'n' || st->text[0] == '.' || st->text[0] == 't' ||
                    st->text[0] == 'a')
                    continue;
                while (k < nt && 0) {}
                if (st->size == 2)
                    at = (int64_t)st->offset + 2 + (int8_t)b[1];
                else {
                    int32_t d;
                    memcpy(&d, b + st->size - 4, 4);
                    at = (int64_t)(st->offset + st->size) + d;
                }
                if (k >= nt) {
                    bad = 1;
                    break;
                }
                want = t[k].kind == 1 ? (int64_t)off[t[k].a] + (int64_t)off[t[k].b] - (int64_t)off[t[k].c]
                       : t[k].kind == 0 ? (int64_t)off[t[k].a] + t[k].k
                                        : (int64_t)st->offset + t[k].k * 37;
                if (at != want) {
                    fprintf(stderr, "seed %u: '%.*s' at 0x%zx lands at 0x%llx, not 0x%llx\n",
                            seed, (int)st->text_len, st->text, st->offset, (long long)at,
                            (long long)want);
                    bad = 1;
                }
                k++;
                branches++;
            }
            if (!bad && k != nt) {
                fprintf(stderr, "seed %u: %zu branches read back, %u written\n", seed, k, nt);
                bad = 1;
            }
        }
        JT_EQ_U64(bad, 0);
        free(src);
        free(t);
    }
    printf("    %u of %u programs settled, %u branches land where their expressions say\n",
           settled, seeds, branches);
}

/* GNU as's block directives: .rept / .irp / .irpc ... .endr (nested),
 * .if / .elseif / .else / .endif, .ifdef / .ifndef (defined earlier in the
 * pass); the bytes are GNU as's for the same text. */
static void test_blocks(void)
{
    static const char src[] =
        ".rept 3\n"
        "  nop\n"
        "  .rept 2\n"
        "    inc eax\n"
        "  .endr\n"
        ".endr\n"
        ".irp r, eax, ebx, ecx\n"
        "  mov \\r, 1\n"
        "  add \\r, \\r\n"
        ".endr\n"
        ".irpc c, 123\n"
        "  add eax, \\c\n"
        ".endr\n"
        ".set FLAG, 1\n"
        ".if FLAG\n"
        "  mov edx, 7\n"
        ".elseif 2\n"
        "  mov edx, 8\n"
        ".else\n"
        "  mov edx, 9\n"
        ".endif\n"
        ".if 0\n"
        "  ud2\n"
        ".elseif FLAG - 1\n"
        "  ud2\n"
        ".else\n"
        "  int3\n"
        ".endif\n"
        ".ifdef FLAG\n"
        "  push rax\n"
        ".endif\n"
        ".ifndef NOPE\n"
        "  pop rax\n"
        ".endif\n"
        ".ifdef later\n"
        "  ud2\n"
        ".endif\n"
        "later:\n"
        ".rept 0\n"
        "  ud2\n"
        ".endr\n";
    HEX64(src, "90 ff c0 ff c0 90 ff c0 ff c0 90 ff c0 ff c0 b8 01 00 00 00 01 c0 bb 01 00 00 00 01 db b9 01 00 00 00 01 c9 83 c0 01 83 c0 02 83 c0 03 ba 07 00 00 00 cc 50 58");
    HEX64(".rept 2\nnop\n", "ERR '.rept' without '.endr'");
    HEX64("nop\n.endif\n", "ERR '.endif' without its opening block");
    HEX64(".rept -1\nnop\n.endr\n", "ERR negative count");
    HEX64(".if 1\n.rept 2\nnop\n.endr\n.else\nud2\n.endif\n", "90 90");
    HEX64(".irp x\nnop\n.endr\n", "90"); /* no values: once, empty, as GNU as */
    {
        /* expansions are bounded per pass and freed by the next one: the
         * same handle assembling repeated blocks again does not grow */
        static char big[8192];
        size_t n = (size_t)snprintf(big, sizeof big, ".rept 8000\n.irp r, 1\n# \\r");
        memset(big + n, 'x', 6000); /* a 6 KB body: the bound is hit after ~2,800 copies */
        n += 6000;
        snprintf(big + n, sizeof big - n, "\n.endr\n.endr\n");
        HEX64(big, "ERR repeated blocks too large (limit 16 MiB a pass)");
        for (int i = 0; i < 50; i++)
            ASM64(".irp r, 1, 2, 3\n.byte \\r\n.endr\n");
    }
    HEX64(".irpc x,\nnop\n.endr\n", "90");
    /* alignment with a fill byte and a maximum skip (more: tests/text/gas) */
    HEX64("nop\n.balign 4, 0xcc\nret\n.p2align 3,,2\nret\n", "90 cc cc cc c3 c3");
    HEX64(".balign 4, 300\n", "ERR fill value 300 does not fit in a byte");
    HEX64(".balign 4,, -1\n", "ERR negative maximum skip");
    {
        /* nested too deeply: a clean error, not a deep stack */
        char deep[4096];
        size_t n = 0;
        for (int i = 0; i < 40; i++)
            n += (size_t)snprintf(deep + n, sizeof deep - n, ".rept 1\n");
        n += (size_t)snprintf(deep + n, sizeof deep - n, "nop\n");
        for (int i = 0; i < 40; i++)
            n += (size_t)snprintf(deep + n, sizeof deep - n, ".endr\n");
        HEX64(deep, "ERR blocks nested too deeply (limit 32)");
    }
}

/* .macro / .endm: parameters, defaults, :req, :vararg, keyword arguments,
 * \@, \(), .exitm, .purgem, recursion (bytes checked against GNU as in
 * tests/text/gas/macros.s); the refusals. */
static void test_macros(void)
{
    HEX64(".macro m a, b=2\nmov eax, \\a + \\b\n.endm\nm 1\nm 1, 5\nm b=7, a=1\n",
          "b8 03 00 00 00 b8 06 00 00 00 b8 08 00 00 00");
    HEX64(".macro j n\nL\\n\\()x\\@: jmp L\\n\\()x\\@\n.endm\nj 1\nj 1\n", "eb fe eb fe");
    HEX64(".macro r n\n.if \\n\nnop\nr \"(\\n-1)\"\n.endif\n.endm\nr 3\n", "90 90 90");
    HEX64(".macro e\nnop\n.exitm\nud2\n.endm\ne\ne\n", "90 90");
    HEX64(".macro v a, r:vararg\n.byte \\a, \\r\n.endm\nv 1, 2, 3\n", "01 02 03");
    HEX64(".macro MOV a\n.byte \\a\n.endm\nmov 9\n", "09"); /* over instructions, any case */
    HEX64(".macro m\n.endm\n.purgem m\nm\n", "ERR unknown instruction 'm'");
    HEX64(".macro m\nnop\n", "ERR '.macro' without '.endm'");
    HEX64(".endm\n", "ERR '.endm' without its opening block");
    HEX64(".exitm\n", "ERR '.exitm' outside a macro");
    HEX64(".macro m a\n.endm\nm 1, 2\n", "ERR too many arguments for macro 'm' (1 parameter)");
    HEX64(".macro m a:req\n.endm\nm\n", "ERR missing value for parameter 'a' of macro 'm'");
    HEX64(".macro m a:x\n.endm\n", "ERR unknown parameter qualifier 'x' (req or vararg)");
    HEX64(".macro m a, a\n.endm\n", "ERR parameter 'a' given twice");
    HEX64(".macro m\n.endm\n.macro M\n.endm\n", "ERR macro 'M' is already defined");
    HEX64(".macro m\nm\n.endm\nm\n", "ERR macros nested too deeply (limit 32)");
    HEX64(".purgem q\n", "ERR no macro named 'q'");
    {
        /* a macro whose expansion doubles at each level hits the budget,
         * not the memory */
        static const char bomb[] = ".macro b n\n.if \\n\nb \"(\\n-1)\"\nb \"(\\n-1)\"\n.endif\n.endm\nb 30\n";
        char out[512];
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, bomb, out, sizeof out);
        JT_CONTAINS(out, "too large");
    }
}

/* Sections: data after the code (more against GNU as in tests/text/gas). */
static void test_sections(void)
{
    /* .rodata from 16, .data from the next 16, .bss after it */
    HEX64(".data\nd: .byte 2\n.text\nnop\n.section .rodata\n.byte 1\n.bss\n.zero 2\n.text\nret\n",
          "90 c3 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 "
          "00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    /* a section asking for more alignment starts there (another pass) */
    HEX64("nop\n.data\n.p2align 5\n.byte 7\n",
          "90 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
          "00 00 00 07");
    HEX64(".section .note.GNU-stack,\"\",@progbits\n.text\nret\n", "c3");
    HEX64(".section .init\nnop\n",
          "ERR section '.init' is not placed (only .text, .rodata, .data and .bss are)");
    HEX64(".popsection\n", "ERR '.popsection' without '.pushsection'");
    HEX64(".section\n", "ERR expected a section name");
}

/* A handle used again and again keeps no memory of earlier texts: names
 * (labels, undefined symbols, macros, sections, CFI) of one text are gone
 * at the next, so a long-lived handle fed text with fresh names does not
 * grow (found by a long fuzz run as an out-of-memory across inputs). */
#ifdef JK_TEXT_WHITEBOX
static void test_handle_reuse(void)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    char buf[512];
    size_t blocks = 0, caps = 0;
    jk_error e;
    JT_OK(jk_asm_new(&as, &o, &e), &e);
    for (int i = 0; i < 20000; i++) {
        snprintf(buf, sizeof buf,
                 "label_with_a_long_name_%d: jmp label_with_a_long_name_%d\n"
                 "mov eax, undefined_name_%d\n.macro mac_%d\nnop\n.endm\nmac_%d\n"
                 ".data\nd%d: .byte 1\n.text\n.cfi_startproc\n.cfi_endproc\n"
                 ".type f%d, @function\nf%d: ret\n.irp r, %d\n.byte \\r\n.endr\n",
                 i, i, i, i, i, i, i, i, i % 200);
        jk_asm_assemble(as, buf, (size_t)-1);
        if (i == 999) {
            blocks = as->narena;
            caps = as->capsyms + as->capmacros + as->capdefer + as->capcfi + as->capfnrecs +
                   as->capxarena;
        }
    }
    JT_EQ_U64(as->narena, blocks);
    JT_EQ_U64(as->capsyms + as->capmacros + as->capdefer + as->capcfi + as->capfnrecs +
                  as->capxarena, caps);
    JT_CHECK(as->narena <= 2);
    jk_asm_free(as);
}
#endif

static void test_x86_32(void)
{
    HEX32("push ebp\nmov ebp, esp\nmov eax, [ebp+8]\njecxz .+4\nmov eax, ds:0x10\nleave\nret",
          "55 89 e5 8b 45 08 e3 02 a1 10 00 00 00 c9 c3");
    HEX32("inc eax", "40");
    HEX32(".code64\nret", "c3");
    HEX64("bits 32\ninc eax", "40");
    {
        char b[512];
        asm_hex(JK_X86_MODE32, JK_ASM_SYNTAX_GNU, "rex.W inc eax", b, sizeof b);
        JT_CONTAINS(b, "rex.W: a REX prefix needs 64-bit mode");
    }
}

static void test_listing(void)
{
    const jk_asm_stmt *s;
    ASM64("x: mov eax, 1 # one\n  nop; ret\n.align 8\n.byte 1");
    JT_EQ_U64(jk_asm_stmt_count(as_), 5);
    s = jk_asm_stmt_at(as_, 0);
    JT_EQ_U64(s->offset, 0);
    JT_EQ_U64(s->size, 5);
    JT_EQ_U64(s->line, 1);
    JT_EQ_U64(s->col, 4);
    JT_CHECK(s->text_len == 10 && memcmp(s->text, "mov eax, 1", 10) == 0);
    s = jk_asm_stmt_at(as_, 2);
    JT_CHECK(s->text_len == 3 && memcmp(s->text, "ret", 3) == 0);
    JT_EQ_U64(s->offset, 6);
    s = jk_asm_stmt_at(as_, 3);
    JT_EQ_U64(s->offset, 7);
    JT_EQ_U64(s->size, 1);
    s = jk_asm_stmt_at(as_, 4);
    JT_EQ_U64(s->offset, 8);
    JT_CHECK(jk_asm_stmt_at(as_, 5) == NULL);
}

/* Diagnostics: position, caret, several per run, sorted by line. */
static void test_errors(void)
{
    char b[4096];
    const jk_asm_diag *d;
    const char *txt;
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU,
            "mov eax, 1\nlea eax, [rbx+rcx*3]\nmvo eax, 3\njmp nowhere\n"
            "add qword [rax], qword [rbx]\n.byte 300\nmov eax, (1+2\n", b, sizeof b);
    JT_EQ_U64(jk_asm_diag_count(as_), 6);
    d = jk_asm_diag_at(as_, 0);
    JT_EQ_U64(d->line, 2);
    JT_EQ_U64(d->col, 19);
    JT_EQ_U64(d->status, JK_EOPERAND);
    JT_EQ_STR(d->message, "scale must be 1, 2, 4 or 8");
    JT_EQ_STR(d->file, "<input>");
    d = jk_asm_diag_at(as_, 1);
    JT_EQ_U64(d->line, 3);
    JT_EQ_STR(d->message, "unknown instruction 'mvo'");
    d = jk_asm_diag_at(as_, 2);
    JT_EQ_U64(d->line, 4);
    JT_EQ_U64(d->col, 5);
    JT_EQ_U64(d->len, 7);
    JT_EQ_U64(d->status, JK_ELABEL);
    JT_EQ_STR(d->message, "undefined symbol 'nowhere'");
    d = jk_asm_diag_at(as_, 3);
    JT_EQ_U64(d->status, JK_ENOFORM);
    JT_CONTAINS(d->message, "no form takes");
    d = jk_asm_diag_at(as_, 4);
    JT_EQ_U64(d->status, JK_ERANGE);
    JT_EQ_STR(d->message, "value 300 does not fit in 1 byte");
    d = jk_asm_diag_at(as_, 5);
    JT_EQ_U64(d->status, JK_ESYNTAX);
    txt = jk_asm_diag_text(as_, 2);
    JT_EQ_STR(txt, "<input>:4:5: error: undefined symbol 'nowhere'\njmp nowhere\n    ^~~~~~~\n");
    JT_CHECK(jk_asm_code(as_, NULL) == NULL);
    JT_EQ_STR(jk_asm_diag_text(as_, 99), "");

    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "\tfoo: nop\nfoo: ret", b, sizeof b);
    JT_EQ_STR(jk_asm_diag_text(as_, 0),
              "<input>:2:1: error: symbol 'foo' is already defined\nfoo: ret\n^~~\n");
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "\tmov eax, rxa", b, sizeof b);
    /* tabs are kept so the caret lines up */
    JT_EQ_STR(jk_asm_diag_text(as_, 0),
              "<input>:1:11: error: undefined symbol 'rxa'\n\tmov eax, rxa\n\t         ^~~\n");
}

static void test_error_messages(void)
{
#define ERR64(src, msg)                                                       \
    do {                                                                      \
        char b_[512];                                                         \
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, src, b_, sizeof b_);         \
        JT_CONTAINS(b_, msg);                                                 \
    } while (0)
    ERR64("mov al, 0x123456789abcdef0123", "does not fit in 64 bits");
    /* GNU as emits 40 b4 01 here, which is mov spl, 1 */
    ERR64("rex mov ah, 1", "ah cannot be encoded with REX");
    ERR64("rex.Q nop", "bad prefix 'rex.Q'");
    /* a bit the instruction sets itself (GNU as: "same type of prefix used
     * twice"); objdump prints rex.WXB sub rbp,r14 for 4b 2b ee */
    ERR64("rex.WXB sub rbp,r14", "sub: the instruction sets REX.W itself");
    ERR64("rex.B push r8", "push: the instruction sets REX.B itself");
    ERR64("rex.X mov eax, [rax+r8]", "mov: the instruction sets REX.X itself");
    ERR64("mov eax, 1/0", "division by zero");
    ERR64(".ascii \"abc", "missing terminating \" character");
    ERR64("mov eax, [rax+rbx+rcx]", "too many registers");
    ERR64("mov eax, [ax]", "16-bit addressing");
    ERR64("mov eax, [-rax]", "cannot be subtracted");
    ERR64("mov eax, [rax*3]", "scale must be");
    ERR64("mov eax, [rip+x+rbx]\nx: ret", "cannot be rip-relative");
    ERR64(".att_syntax", "AT&T syntax is not supported");
    ERR64("mov eax, 1 2", "expected ',' or end of statement");
    ERR64("loop x\n.fill 200, 1, 0x90\nx: ret", "");
    ERR64("jmp short .+1000", "short branch target out of range");
    ERR64("loop .+1000", "rel8 only");
    ERR64(".p2align 20", "out of range");
    /* finish-time errors name the label as written (the x86 labels are unnamed) */
    ERR64("loop away\n.fill 300, 1, 0x90\naway: ret", "label 'away' is 300 bytes away");
    ERR64("1: loop 1f\n.zero 200\n1: ret", "label '1' is 200 bytes away");
    ERR64("lock lock", "");
    ERR64("nop\n.code32\n", "cannot switch");
    ERR64(".fill 100000000, 1, 0", "fill too large");
    ERR64("times 100000000 nop", "times count too large");
    ERR64("mov eax, 1b", "no earlier definition");
    ERR64("a = 1\n.equiv a, 2", "already defined");
    ERR64("x: nop\nx = 3", "already a label");
    ERR64("vaddps zmm0{k1}, zmm1, zmm2", "");
    ERR64("mov eax, [rax", "expected '+', '-' or ']'");
    ERR64("jrcxz .+2\n.code32", "");
#undef ERR64
}

/* Encoder errors point at the operand they are about. */
static void test_error_operand(void)
{
    char b[512];
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "mov eax, [rbx+rsp*2]", b, sizeof b);
    JT_EQ_U64(jk_asm_diag_at(as_, 0)->col, 15);
    JT_EQ_U64(jk_asm_diag_at(as_, 0)->len, 3);
    asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "add qword [rax], qword [rbx]", b, sizeof b);
    JT_EQ_U64(jk_asm_diag_at(as_, 0)->col, 1);
}

static void test_max_errors(void)
{
    char src[4096];
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(src + n, sizeof src - n, "bad%d\n", i);
    jk_asm_free(as_);
    o.max_errors = 5;
    o.filename = "many.s";
    JT_CHECK(jk_asm_new(&as_, &o, NULL) == JK_OK);
    JT_CHECK(jk_asm_assemble(as_, src, n) == JK_ENOFORM);
    JT_EQ_U64(jk_asm_diag_count(as_), 5);
    JT_EQ_STR(jk_asm_diag_at(as_, 4)->file, "many.s");
    JT_EQ_U64(jk_asm_diag_at(as_, 4)->line, 5);
}

static void test_api(void)
{
    jk_asm *a = NULL;
    jk_error e;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    uint8_t buf[8];
    JT_CHECK(jk_asm_new(NULL, NULL, &e) == JK_EINVAL);
    o.mode = (jk_x86_mode)7;
    JT_CHECK(jk_asm_new(&a, &o, &e) == JK_EINVAL);
    JT_CONTAINS(e.message, "bad mode");
    JT_CHECK(jk_asm_new(&a, NULL, NULL) == JK_OK);
    JT_CHECK(jk_asm_assemble(NULL, "ret", 3) == JK_EINVAL);
    JT_CHECK(jk_asm_copy(a, buf, sizeof buf, 0) == JK_ESTATE);
    JT_CHECK(jk_asm_assemble(a, "ret", (size_t)-1) == JK_OK);
    JT_CHECK(jk_asm_copy(a, buf, sizeof buf, 0) == JK_OK);
    JT_EQ_U64(buf[0], 0xc3);
    /* reuse: a second text forgets the first one's labels */
    JT_CHECK(jk_asm_assemble(a, "x: ret", (size_t)-1) == JK_OK);
    JT_CHECK(jk_asm_assemble(a, "x: jmp x", (size_t)-1) == JK_OK);
    JT_CHECK(jk_asm_assemble(a, "", 0) == JK_OK);
    JT_CHECK(jk_asm_assemble(a, "nop\0nop", 7) != JK_OK); /* a NUL byte is not text */
    jk_asm_free(a);
    jk_asm_free(NULL);
    JT_EQ_U64(jk_asm_diag_count(NULL), 0);
}

/* The text goes through the same encoder and runs. */
/* The text and GNU as + ld (-Ttext=0x1000) give the same bytes. */
static void abs_case(jk_x86_mode mode, jk_asm_syntax syn, const char *src, const char *want)
{
    jk_asm *as = NULL;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    char out[1024];
    size_t n, pos = 0;
    const uint8_t *c;
    o.mode = mode;
    o.syntax = syn;
    o.base = 0x1000;
    JT_CHECK(jk_asm_new(&as, &o, NULL) == JK_OK);
    if (jk_asm_assemble(as, src, (size_t)-1) != JK_OK) {
        JT_EQ_STR(jk_asm_diag_at(as, 0)->message, "");
        jk_asm_free(as);
        return;
    }
    c = jk_asm_code(as, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 4 < sizeof out; i++)
        pos += (size_t)snprintf(out + pos, sizeof out - pos, i ? " %02x" : "%02x", c[i]);
    JT_EQ_STR(out, want);
    jk_asm_free(as);
}

/* offset label, [reg + label], [label + reg*scale]: the label's absolute
 * address (jk_x86_imm_label, jk_x86_mem_label_abs), bytes as GNU as + ld
 * give them at 0x1000 (checked by hand with binutils 2.40). */
static void test_abs_labels(void)
{
    abs_case(JK_X86_MODE32, JK_ASM_SYNTAX_GNU,
             "mov eax, offset table\n"
             "mov eax, OFFSET FLAT:table+4\n"
             "push offset table\n"
             "push offset table+8\n"
             "mov ecx, offset end - 1\n"
             "jmp dword ptr [table + eax*4]\n"
             "jmp DWORD PTR [eax*4+table]\n"
             "mov eax, [table + ebx*4]\n"
             "mov eax, DWORD PTR [ebx+table+8]\n"
             "lea esi, [table + ecx*8 + 4]\n"
             "mov eax, table\n"
             "mov eax, table+4\n"
             "mov ebx, table\n"
             "cmp ecx, offset table\n"
             "add eax, offset table\n"
             "mov DWORD PTR [esi], offset table\n"
             "mov BYTE PTR [table + esi], 1\n"
             "mov eax, DWORD PTR fs:[table + ebx]\n"
             "table: .long 1, 2, 3\n"
             "end: ret",
             "b8 6a 10 00 00 b8 6e 10 00 00 68 6a 10 00 00 68 72 10 00 00 b9 75 10 00 00 ff 24 "
             "85 6a 10 00 00 ff 24 85 6a 10 00 00 8b 04 9d 6a 10 00 00 8b 83 72 10 00 00 8d 34 "
             "cd 6e 10 00 00 a1 6a 10 00 00 a1 6e 10 00 00 8b 1d 6a 10 00 00 81 f9 6a 10 00 00 "
             "05 6a 10 00 00 c7 06 6a 10 00 00 c6 86 6a 10 00 00 01 64 8b 83 6a 10 00 00 01 00 "
             "00 00 02 00 00 00 03 00 00 00 c3");
    abs_case(JK_X86_MODE64, JK_ASM_SYNTAX_GNU,
             "mov rax, offset table\n"
             "mov eax, offset table\n"
             "mov rcx, offset table+16\n"
             "movabs rax, offset table\n"
             "movabs rdx, offset table-8\n"
             "push offset table\n"
             "jmp QWORD PTR [table + rax*8]\n"
             "mov eax, [table + rbx*4]\n"
             "mov rax, QWORD PTR [rbx+table+8]\n"
             "lea rsi, [table + rcx*8 + 4]\n"
             "mov eax, DWORD PTR [table + r12*4]\n"
             "mov eax, DWORD PTR [r13 + table]\n"
             "mov eax, [table + ebx*4]\n"
             "cmp rcx, offset table\n"
             "mov QWORD PTR [rsi], offset table\n"
             "lea rax, [rip + table]\n"
             "table: .quad 1, 2, 3\n"
             "end: ret",
             "48 c7 c0 75 10 00 00 b8 75 10 00 00 48 c7 c1 85 10 00 00 48 b8 75 10 00 00 00 00 "
             "00 00 48 ba 6d 10 00 00 00 00 00 00 68 75 10 00 00 ff 24 c5 75 10 00 00 8b 04 9d "
             "75 10 00 00 48 8b 83 7d 10 00 00 48 8d 34 cd 79 10 00 00 42 8b 04 a5 75 10 00 00 "
             "41 8b 85 75 10 00 00 67 8b 04 9d 75 10 00 00 48 81 f9 75 10 00 00 48 c7 06 75 10 "
             "00 00 48 8d 05 00 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 03 00 "
             "00 00 00 00 00 00 c3");
    /* NASM: a label in an immediate is its address; [abs label] is absolute */
    abs_case(JK_X86_MODE64, JK_ASM_SYNTAX_NASM, "mov eax, t\nmov eax, [abs t]\nt: dd 1",
             "b8 0c 10 00 00 8b 04 25 0c 10 00 00 01 00 00 00");
    /* a forward label, a .set alias, '.' and an undefined name */
    abs_case(JK_X86_MODE32, JK_ASM_SYNTAX_GNU, ".set alias, t+2\nmov eax, offset alias\n"
             "mov ecx, offset .\nt: ret", "b8 0c 10 00 00 b9 05 10 00 00 c3");
    {
        char b[512];
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "mov eax, offset nowhere", b, sizeof b);
        JT_CONTAINS(b, "undefined symbol 'nowhere'");
        asm_hex(JK_X86_MODE64, JK_ASM_SYNTAX_GNU, "mov eax, [rbx + nowhere]", b, sizeof b);
        JT_CONTAINS(b, "undefined symbol 'nowhere'");
    }
    /* in 64-bit mode the address must fit the 32-bit field where the code runs */
    {
        jk_asm *as = NULL;
        uint8_t buf[64];
        JT_CHECK(jk_asm_new(&as, NULL, NULL) == JK_OK);
        JT_CHECK(jk_asm_assemble(as, "jmp QWORD PTR [table + rax*8]\ntable: .quad 0",
                                 (size_t)-1) == JK_OK);
        JT_EQ_U64(jk_asm_copy(as, buf, sizeof buf, 0x7f0000000000ull), JK_ERANGE);
        JT_CONTAINS(jk_asm_x86_error(as)->message,
                    "label 'table' address 0x7f0000000007 does not fit a sign-extended");
        /* the statement, by number: the text need not outlive assemble */
        JT_CONTAINS(jk_asm_x86_error(as)->message, "imm32/disp32 (line 1, column 1)");
        JT_CHECK(jk_asm_assemble(as, "jmp QWORD PTR [table + rax*8]\ntable: .quad 0",
                                 (size_t)-1) == JK_OK);
        JT_EQ_U64(jk_asm_copy(as, buf, sizeof buf, 0x400000), JK_OK);
        jk_asm_free(as);
    }
    /* the same found by assemble itself (a base address): a diagnostic at
     * the statement */
    {
        jk_asm *as = NULL;
        jk_asm_options o = JK_ASM_OPTIONS_INIT;
        o.base = 0x7f0000000000ull;
        JT_CHECK(jk_asm_new(&as, &o, NULL) == JK_OK);
        JT_EQ_U64(jk_asm_assemble(as, "nop\n  mov eax, ecx\n  jmp QWORD PTR [table + rax*8]\n"
                                      "table: .quad 0", (size_t)-1), JK_ERANGE);
        JT_EQ_U64(jk_asm_diag_count(as), 1);
        JT_EQ_U64(jk_asm_diag_at(as, 0)->line, 3);
        JT_EQ_U64(jk_asm_diag_at(as, 0)->col, 3);
        JT_CONTAINS(jk_asm_diag_at(as, 0)->message, "label 'table' address 0x7f000000000a");
        jk_asm_free(as);
    }
}

static void test_exec(void)
{
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
    jk_mem *m;
    void *entry;
    jk_error e;
    int (*fn)(void);
    jk_x86_mode mode = sizeof(void *) == 8 ? JK_X86_MODE64 : JK_X86_MODE32;
    JT_CHECK(jk_asm_load("mov eax, 12345678h; ret", mode, &m, &entry, &e) == JK_OK);
    memcpy(&fn, &entry, sizeof fn);
    JT_EQ_U64((unsigned)fn(), 0x12345678);
    jk_mem_free(m, NULL);
    JT_CHECK(jk_asm_load("xor eax, eax\nmov ecx, 10\n1: add eax, ecx\nloop 1b\nret", mode, &m,
                         &entry, &e) == JK_OK);
    memcpy(&fn, &entry, sizeof fn);
    JT_EQ_U64((unsigned)fn(), 55);
    jk_mem_free(m, NULL);
    JT_CHECK(jk_asm_load("mov eax, [rip+k]\nret\nk: .long 42", JK_X86_MODE64, &m, &entry, &e) ==
             (mode == JK_X86_MODE64 ? JK_OK : JK_OK));
    if (mode == JK_X86_MODE64) {
        memcpy(&fn, &entry, sizeof fn);
        JT_EQ_U64((unsigned)fn(), 42);
    }
    jk_mem_free(m, NULL);
    JT_CHECK(jk_asm_load("ret\nmvo", mode, &m, &entry, &e) == JK_ENOFORM);
    JT_EQ_STR(e.message, "<input>:2:1: unknown instruction 'mvo'");
#endif
}

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    JT_RUN(test_seed);
    JT_RUN(test_gnu_dialect);
    JT_RUN(test_nasm_habits);
    JT_RUN(test_labels_and_layout);
    JT_RUN(test_relax_replicated);
    JT_RUN(test_relax_label_differences);
    JT_RUN(test_blocks);
    JT_RUN(test_macros);
    JT_RUN(test_sections);
#ifdef JK_TEXT_WHITEBOX
    JT_RUN(test_handle_reuse);
#endif
    JT_RUN(test_x86_32);
    JT_RUN(test_listing);
    JT_RUN(test_errors);
    JT_RUN(test_error_messages);
    JT_RUN(test_error_operand);
    JT_RUN(test_max_errors);
    JT_RUN(test_api);
    JT_RUN(test_abs_labels);
    JT_RUN(test_exec);
    jk_asm_free(as_);
    return jt_finish();
}
