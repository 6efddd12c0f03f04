/*
 * text/asm.c - the Intel-syntax text assembler.
 *
 * Contract: any byte sequence is valid input; bad input becomes
 * diagnostics, never a crash, an abort or an unbounded allocation (output
 * is capped at JK_TEXT_MAX_OUTPUT bytes, `times` and `.fill` counts too).
 *
 * Design. The source is copied once and read in passes. A pass walks the
 * statements (split at newlines and, in the GNU dialect, at ';'), lexes
 * each one on the fly and calls the x86 assembler directly: no syntax tree,
 * no per-statement allocation. Names live in one hash table; registers,
 * mnemonics, prefixes and directives in another (case-insensitive), built
 * once per process from the x86 tables so the two front ends cannot drift.
 *
 *     statement := { label ':' } [ prefix... ] mnemonic operand {',' operand}
 *                | directive args | name '=' expr | name 'equ' expr
 *     operand   := [size ['ptr']] ( reg | [seg ':'] '[' addr ']' | expr
 *                | seg ':' expr )
 *     addr      := term { ('+'|'-') term },  term := reg | reg '*' n
 *                | n '*' reg | expr
 *
 * Branches to a plain label go through the x86 assembler, which relaxes
 * them. Branches whose target is `.`-relative (what objdump prints once
 * addresses are made relative: `jmp .+0x12`) are encoded here: the
 * distance from the start of the statement is known, so the short/long
 * choice is local and matches GNU as (short when the rel8 reaches).
 *
 * Errors: every statement that fails gets one diagnostic; after the first
 * the x86 assembler is reset and the pass goes on only to find more errors
 * (capped by max_errors). Nothing after a failed pass is installed.
 */
#include "text/text_p.h"
#include "x86/x86_front.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS            4
#define MAX_PASSES         8
#define NUMLBL_MAX         1000
#define JK_TEXT_MAX_OUTPUT ((size_t)64 << 20)
#define TIMES_MAX          ((size_t)1 << 20)
#define FILL_MAX           ((uint64_t)1 << 24) /* bytes per .zero/.fill */
#define JK_TEXT_MAX_EXPANSION (16 << 20)       /* .irp/.irpc text a pass */

#if defined(__GNUC__)
#  define JK_ALWAYS_INLINE inline __attribute__((always_inline))
#  define JK_NOINLINE __attribute__((noinline))
#else
#  define JK_ALWAYS_INLINE inline
#  define JK_NOINLINE
#endif

/* -- Tables ------------------------------------------------------------- */

/* Lexer character classes (jk_asm.cls). */
#define C_WS   0x01u
#define C_ID0  0x02u /* may start an identifier */
#define C_ID   0x04u /* may continue one */
#define C_DIG  0x08u
#define C_STOP 0x10u /* may end a statement: quotes, ';', '#', '/' */
#define C_ALNUM 0x20u /* letters, digits, '_' (numbers) */
#define C_PUNCT 0x40u /* one-character punctuation: , [ ] + - * : ( ) { } = */

enum { PFX_LOCK = 1, PFX_REP, PFX_REPE, PFX_REPNE, PFX_RAW, PFX_HLE };

enum {
    D_BYTE = 1, D_WORD, D_LONG, D_QUAD, D_ASCII, D_ASCIZ, D_ZERO, D_FILL, D_ALIGN,
    D_P2ALIGN, D_SET, D_EQUIV, D_INTEL, D_ATT, D_CODE32, D_CODE64, D_BITS, D_IGNORE,
    D_NOPS, D_TIMES, D_DEFAULT, D_NALIGN, D_SECTION, D_TEXT, D_DATA, D_BSS, D_PREVIOUS,
    D_PUSHSECTION, D_POPSECTION, D_CFI, D_TYPE, D_SIZE, D_COUNT
};

/* Sections: code first, then the data sections in this order. S_OTHER is
 * a section that is not placed (.note.GNU-stack, .comment...): statements
 * in it are refused. */
enum { S_TEXT, S_RODATA, S_DATA, S_BSS, S_OTHER };

enum {
    W_OFFSET = 1, W_SHORT, W_NEAR, W_FAR, W_REL, W_ABS, W_STRICT, W_EQU, W_STR, W_RIZ,
    W_COUNT
};

/* Mnemonic info bits (minfo). */
enum { MI_JMP = 1, MI_JCC, MI_CALL, MI_LOOP, MI_JCXZ, MI_JECXZ, MI_JRCXZ, MI_XBEGIN };
#define MI_BRANCH_MASK 0x0fu
#define MI_STRING      0x10u

static const char *const gp8[] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"};
static const char *const gp16[] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
static const char *const gp32[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
static const char *const gp64[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"};
static const char *const segs[] = {"es", "cs", "ss", "ds", "fs", "gs"};
static const char *const hi8[] = {"ah", "ch", "dh", "bh"};

static const struct { const char *n; uint8_t a; } sizes[] = {
    {"byte", 1}, {"word", 2}, {"dword", 4}, {"qword", 8}, {"tbyte", 10}, {"tword", 10},
    {"xmmword", 16}, {"oword", 16}, {"ymmword", 32}, {"zmmword", 64}, {"fword", 6},
};

static const struct { const char *n; uint8_t a, b; } prefixes[] = {
    {"lock", PFX_LOCK, 0},  {"rep", PFX_REP, 0},     {"repe", PFX_REPE, 0},
    {"repz", PFX_REPE, 0},  {"repne", PFX_REPNE, 0}, {"repnz", PFX_REPNE, 0},
    {"data16", PFX_RAW, 0x66}, {"addr32", PFX_RAW, 0x67}, {"data32", PFX_RAW, 0x66},
    {"addr16", PFX_RAW, 0x67}, {"notrack", PFX_RAW, 0x3e}, {"bnd", PFX_RAW, 0xf2},
    {"xacquire", PFX_HLE, 0xf2}, {"xrelease", PFX_HLE, 0xf3},
};

static const struct { const char *n; uint8_t a; } directives[] = {
    {".byte", D_BYTE},   {"db", D_BYTE},       {".word", D_WORD},     {".short", D_WORD},
    {".value", D_WORD},  {".hword", D_WORD},   {".2byte", D_WORD},    {"dw", D_WORD},
    {".long", D_LONG},   {".int", D_LONG},     {".4byte", D_LONG},    {"dd", D_LONG},
    {".quad", D_QUAD},   {".8byte", D_QUAD},   {"dq", D_QUAD},        {".ascii", D_ASCII},
    {".asciz", D_ASCIZ}, {".string", D_ASCIZ}, {".zero", D_ZERO},     {".skip", D_ZERO},
    {".space", D_ZERO},  {".fill", D_FILL},    {".align", D_ALIGN},   {".balign", D_ALIGN},
    {".p2align", D_P2ALIGN}, {"align", D_NALIGN}, {".set", D_SET},    {".equ", D_SET},
    {".equiv", D_EQUIV}, {".intel_syntax", D_INTEL}, {".att_syntax", D_ATT},
    {".code32", D_CODE32}, {".code64", D_CODE64}, {"bits", D_BITS}, {".nops", D_NOPS},
    {"times", D_TIMES},  {"default", D_DEFAULT},
    {".text", D_TEXT}, {".data", D_DATA},  {".section", D_SECTION}, {".globl", D_IGNORE},
    {".bss", D_BSS},
    {".global", D_IGNORE}, {".type", D_TYPE}, {".size", D_SIZE}, {".file", D_IGNORE},
    {".ident", D_IGNORE}, {".loc", D_IGNORE},  {".local", D_IGNORE}, {".weak", D_IGNORE},
    {".hidden", D_IGNORE}, {".protected", D_IGNORE}, {".arch", D_IGNORE},
    {".cfi_startproc", D_CFI}, {".cfi_endproc", D_CFI}, {".cfi_def_cfa_offset", D_CFI},
    {".cfi_offset", D_CFI}, {".cfi_def_cfa_register", D_CFI}, {".cfi_def_cfa", D_CFI},
    {".cfi_restore", D_CFI}, {".cfi_remember_state", D_CFI}, {".cfi_restore_state", D_CFI},
    {".cfi_adjust_cfa_offset", D_CFI}, {".cfi_rel_offset", D_CFI}, {".cfi_undefined", D_CFI},
    {".cfi_same_value", D_CFI}, {".cfi_personality", D_CFI}, {".cfi_lsda", D_CFI},
    {".cfi_escape", D_CFI}, {".cfi_register", D_CFI}, {".cfi_return_column", D_CFI},
    {".cfi_signal_frame", D_CFI}, {".cfi_window_save", D_CFI}, {".cfi_val_offset", D_CFI},
    {".cfi_sections", D_IGNORE}, {".previous", D_PREVIOUS},
    {".pushsection", D_PUSHSECTION}, {".popsection", D_POPSECTION}, {".rodata", D_SECTION},
    {"section", D_SECTION}, {"segment", D_SECTION}, {"global", D_IGNORE}, {"extern", D_IGNORE},
};

static const struct { const char *n; uint8_t a; uint8_t b; } words[] = {
    {"offset", W_OFFSET, 0}, {"short", W_SHORT, 0}, {"near", W_NEAR, 0}, {"far", W_FAR, 0},
    {"rel", W_REL, 0},       {"abs", W_ABS, 0},     {"strict", W_STRICT, 0},
    {"equ", W_EQU, 0},       {"movs", W_STR, 0},    {"cmps", W_STR, 1}, {"scas", W_STR, 2},
    {"lods", W_STR, 3},      {"stos", W_STR, 4},    {"ins", W_STR, 5},  {"outs", W_STR, 6},
    {"riz", W_RIZ, 0},       {"eiz", W_RIZ, 0},
};
static const char *const str_base[] = {"movs", "cmps", "scas", "lods", "stos", "ins", "outs"};

static const struct { const char *n; uint8_t cc; } conds[] = {
    {"o", 0},  {"no", 1},  {"b", 2},   {"c", 2},   {"nae", 2}, {"ae", 3}, {"nb", 3},
    {"nc", 3}, {"e", 4},   {"z", 4},   {"ne", 5},  {"nz", 5},  {"be", 6}, {"na", 6},
    {"a", 7},  {"nbe", 7}, {"s", 8},   {"ns", 9},  {"p", 10},  {"pe", 10}, {"np", 11},
    {"po", 11}, {"l", 12}, {"nge", 12}, {"ge", 13}, {"nl", 13}, {"le", 14}, {"ng", 14},
    {"g", 15}, {"nle", 15},
};

/* Keywords are looked up by their first 16 characters, lower-cased and
 * packed into two words (the lexer builds them while scanning), so a probe
 * is two compares; longer names also compare the rest. */
static void kw_pack(const uint8_t *low, const char *s, size_t n, uint64_t *w0, uint64_t *w1)
{
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i < n && i < 16; i++) {
        uint64_t c = low[(uint8_t)s[i]];
        if (i < 8)
            a |= c << (8 * i);
        else
            b |= c << (8 * (i - 8));
    }
    *w0 = a;
    *w1 = b;
}

/* The first 16 characters as they are (symbol names are case-sensitive),
 * zero-padded: the lexer's words for names near the end of the text. */
static void raw_pack(const char *s, size_t n, uint64_t *w0, uint64_t *w1)
{
    unsigned char b[16] = {0};
    memcpy(b, s, n < 16 ? n : 16);
    memcpy(w0, b, 8);
    memcpy(w1, b + 8, 8);
}

static uint32_t kw_hash(uint64_t w0, uint64_t w1, size_t n)
{
    uint64_t h = (w0 * 0x9e3779b97f4a7c15ull) ^ (w1 * 0xc2b2ae3d27d4eb4full) ^ n;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static uint32_t hash_exact(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int eq_lower(const char *s, size_t n, const char *lower, size_t ln)
{
    if (n != ln)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != (unsigned char)lower[i])
            return 0;
    }
    return 1;
}

static inline const kw *kw_find_w(const jk_asm *A, const char *s, size_t n, uint64_t w0, uint64_t w1)
{
    uint32_t i;
    if (n - 1 > 30) /* n == 0 or n > 31: no keyword */
        return NULL;
    i = kw_hash(w0, w1, n) & A->kwmask;
    while (A->kws[i].name) {
        const kw *k = &A->kws[i];
        if (k->w0 == w0 && k->w1 == w1 && k->len == n &&
            (n <= 16 || eq_lower(s, n, k->name, k->len)))
            return k;
        i = (i + 1) & A->kwmask;
    }
    return NULL;
}


/* Insert unless present (the first kind given for a name wins). */
static void kw_add(jk_asm *A, const char *name, uint8_t kind, unsigned a, unsigned b)
{
    size_t n = strlen(name);
    uint32_t i;
    if (n == 0 || n > 31)
        return;
    uint64_t w0, w1;
    kw_pack(A->low, name, n, &w0, &w1);
    i = kw_hash(w0, w1, n) & A->kwmask;
    while (A->kws[i].name) {
        if (eq_lower(name, n, A->kws[i].name, A->kws[i].len))
            return;
        i = (i + 1) & A->kwmask;
    }
    A->kws[i].name = name;
    A->kws[i].w0 = w0;
    A->kws[i].w1 = w1;
    A->kws[i].len = (uint8_t)n;
    A->kws[i].kind = kind;
    A->kws[i].a = (uint16_t)a;
    A->kws[i].b = (uint16_t)b;
}

/* Register names r8..r31 need storage: one static table, filled on first
 * use is racy, so they are built from string literals here. */
static const char *const rnames[16][4] = {
    {"r0b", "r0w", "r0d", "r0"}, {"r1b", "r1w", "r1d", "r1"}, {"r2b", "r2w", "r2d", "r2"},
    {"r3b", "r3w", "r3d", "r3"}, {"r4b", "r4w", "r4d", "r4"}, {"r5b", "r5w", "r5d", "r5"},
    {"r6b", "r6w", "r6d", "r6"}, {"r7b", "r7w", "r7d", "r7"}, {"r8b", "r8w", "r8d", "r8"},
    {"r9b", "r9w", "r9d", "r9"}, {"r10b", "r10w", "r10d", "r10"},
    {"r11b", "r11w", "r11d", "r11"}, {"r12b", "r12w", "r12d", "r12"},
    {"r13b", "r13w", "r13d", "r13"}, {"r14b", "r14w", "r14d", "r14"},
    {"r15b", "r15w", "r15d", "r15"},
};
static const char *const rlnames[8] = {"r8l", "r9l", "r10l", "r11l", "r12l", "r13l", "r14l",
                                       "r15l"};
static const char *const vnames[3][32] = {
    {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
     "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",
     "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28",
     "xmm29", "xmm30", "xmm31"},
    {"ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10",
     "ymm11", "ymm12", "ymm13", "ymm14", "ymm15", "ymm16", "ymm17", "ymm18", "ymm19",
     "ymm20", "ymm21", "ymm22", "ymm23", "ymm24", "ymm25", "ymm26", "ymm27", "ymm28",
     "ymm29", "ymm30", "ymm31"},
    {"zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10",
     "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19",
     "zmm20", "zmm21", "zmm22", "zmm23", "zmm24", "zmm25", "zmm26", "zmm27", "zmm28",
     "zmm29", "zmm30", "zmm31"},
};
static const char *const knames[8] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};
static const char *const mmnames[8] = {"mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7"};
static const char *const stnames[8] = {"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"};

static int build_tables(jk_asm *A)
{
    unsigned nm = (unsigned)JK_X86_MNEM_COUNT;
    size_t cap = 1;
    while (cap < (nm + 600u) * 8u)
        cap <<= 1;
    A->kws = calloc(cap, sizeof *A->kws);
    A->minfo = calloc(nm + 1u, 1);
    A->mcc = calloc(nm + 1u, 1);
    if (!A->kws || !A->minfo || !A->mcc)
        return 0;
    A->kwmask = (uint32_t)(cap - 1);
    for (unsigned c = 0; c < 256; c++) {
        uint8_t k = 0;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
            k |= C_WS;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
            c == '$' || c == '@' || c == '?')
            k |= C_ID0 | C_ID;
        if (c >= '0' && c <= '9')
            k |= C_ID | C_DIG;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '_')
            k |= C_ALNUM;
        if (c && strchr(",[]+-*:(){}=", (int)c))
            k |= C_PUNCT;
        if (c == '"' || c == '\'' || c == '`' || c == ';' || c == '#' || c == '/')
            k |= C_STOP;
        A->cls[c] = k;
        A->low[c] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }

    for (unsigned i = 0; i < 8; i++) {
        kw_add(A, gp8[i], KW_REG, JK_X86_RC_GP8, i);
        kw_add(A, gp16[i], KW_REG, JK_X86_RC_GP16, i);
        kw_add(A, gp32[i], KW_REG, JK_X86_RC_GP32, i);
        kw_add(A, gp64[i], KW_REG, JK_X86_RC_GP64, i);
        kw_add(A, knames[i], KW_REG, JK_X86_RC_K, i);
        kw_add(A, mmnames[i], KW_REG, JK_X86_RC_MM, i);
        kw_add(A, stnames[i], KW_REG, JK_X86_RC_ST, i);
        kw_add(A, rlnames[i], KW_REG, JK_X86_RC_GP8, i + 8);
    }
    for (unsigned i = 8; i < 16; i++) {
        kw_add(A, rnames[i][0], KW_REG, JK_X86_RC_GP8, i);
        kw_add(A, rnames[i][1], KW_REG, JK_X86_RC_GP16, i);
        kw_add(A, rnames[i][2], KW_REG, JK_X86_RC_GP32, i);
        kw_add(A, rnames[i][3], KW_REG, JK_X86_RC_GP64, i);
    }
    for (unsigned i = 0; i < 4; i++)
        kw_add(A, hi8[i], KW_REG, JK_X86_RC_GP8HI, i + 4);
    for (unsigned i = 0; i < 6; i++)
        kw_add(A, segs[i], KW_REG, JK_X86_RC_SEG, i);
    for (unsigned i = 0; i < 32; i++) {
        kw_add(A, vnames[0][i], KW_REG, JK_X86_RC_XMM, i);
        kw_add(A, vnames[1][i], KW_REG, JK_X86_RC_YMM, i);
        kw_add(A, vnames[2][i], KW_REG, JK_X86_RC_ZMM, i);
    }
    kw_add(A, "st", KW_REG, JK_X86_RC_ST, 0);
    kw_add(A, "rip", KW_REG, JK_X86_RC_IP, 8);
    kw_add(A, "eip", KW_REG, JK_X86_RC_IP, 4);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        kw_add(A, sizes[i].n, KW_SIZE, sizes[i].a, 0);
    kw_add(A, "ptr", KW_PTR, 0, 0);
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        kw_add(A, prefixes[i].n, KW_PREFIX, prefixes[i].a, prefixes[i].b);
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
        kw_add(A, directives[i].n, KW_DIR, directives[i].a, 0);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        kw_add(A, words[i].n, KW_WORD, words[i].a, words[i].b);

    for (unsigned i = 0; i < nm; i++) {
        const char *n = jk_x86_mnem_name((jk_x86_mnem)i);
        size_t len = strlen(n);
        uint8_t info = 0;
        kw_add(A, n, KW_MNEM, i, 0);
        if (strcmp(n, "jmp") == 0) info = MI_JMP;
        else if (strcmp(n, "call") == 0) info = MI_CALL;
        else if (strcmp(n, "jcxz") == 0) info = MI_JCXZ;
        else if (strcmp(n, "jecxz") == 0) info = MI_JECXZ;
        else if (strcmp(n, "jrcxz") == 0) info = MI_JRCXZ;
        else if (strcmp(n, "xbegin") == 0) info = MI_XBEGIN;
        else if (strncmp(n, "loop", 4) == 0) {
            info = MI_LOOP;
            A->mcc[i] = (uint8_t)(len == 4 ? 0xe2 : (n[4] == 'e' || n[4] == 'z') ? 0xe1 : 0xe0);
        } else if (n[0] == 'j') {
            for (size_t c = 0; c < sizeof conds / sizeof conds[0]; c++)
                if (strcmp(n + 1, conds[c].n) == 0) {
                    info = MI_JCC;
                    A->mcc[i] = conds[c].cc;
                }
        }
        for (size_t s = 0; s < sizeof str_base / sizeof str_base[0]; s++)
            if (len == strlen(str_base[s]) + 1 && strncmp(n, str_base[s], len - 1) == 0 &&
                strchr("bwdq", n[len - 1]))
                info |= MI_STRING;
        A->minfo[i] = info;
    }
    {
        jk_x86_mnem mov = jk_x86_mnem_find("mov"), shl = jk_x86_mnem_find("shl");
        jk_x86_mnem xl = jk_x86_mnem_find("xlatb");
        A->mov_id = (unsigned)mov;
        A->movabs_id = (unsigned)jk_x86_mnem_find("movabs");
        A->xlat_id = (unsigned)xl;
        A->push_id = (unsigned)jk_x86_mnem_find("push");
        A->pop_id = (unsigned)jk_x86_mnem_find("pop");
        if (mov != JK_X86_MNEM_COUNT)
            kw_add(A, "movabs", KW_MNEM, (unsigned)mov, 0);
        if (shl != JK_X86_MNEM_COUNT)
            kw_add(A, "sal", KW_MNEM, (unsigned)shl, 0);
        if (xl != JK_X86_MNEM_COUNT)
            kw_add(A, "xlat", KW_MNEM, (unsigned)xl, 0);
    }
    /* upper-case twins of the names of up to 8 characters (QWORD PTR, as
     * objdump writes them): the lexer probes a name's words as written
     * first and lower-cases them only when that misses */
    {
        const uint64_t ones = 0x0101010101010101ull, hi = 0x8080808080808080ull;
        for (uint32_t j = 0; j <= A->kwmask; j++) {
            const kw *k = &A->kws[j];
            uint64_t up;
            uint32_t i;
            if (!k->name || k->twin || k->len > 8)
                continue;
            /* 'a'..'z' -> 'A'..'Z' in every byte */
            up = k->w0 & ~((((k->w0 + 0x1f * ones) & ~(k->w0 + 0x05 * ones)) & hi) >> 2);
            if (up == k->w0)
                continue;
            i = kw_hash(up, 0, k->len) & A->kwmask;
            while (A->kws[i].name && !(A->kws[i].w0 == up && A->kws[i].w1 == 0 &&
                                       A->kws[i].len == k->len))
                i = (i + 1) & A->kwmask;
            if (A->kws[i].name)
                continue;
            A->kws[i] = *k;
            A->kws[i].w0 = up;
            A->kws[i].twin = 1;
        }
    }
    return 1;
}

/* The tables are the same for every handle: built once per process into
 * `proto` (only its table fields are used) and then shared read-only, so
 * a handle costs no table building. */
static jk_asm proto;
static atomic_int proto_state; /* 0 not built, 1 being built, 2 built */

static int tables_once(void)
{
    int st = atomic_load_explicit(&proto_state, memory_order_acquire);
    while (st != 2) {
        int expect = 0;
        if (st == 0 && atomic_compare_exchange_strong_explicit(
                           &proto_state, &expect, 1, memory_order_acquire, memory_order_relaxed)) {
            if (!build_tables(&proto)) {
                free(proto.kws);
                free(proto.minfo);
                free(proto.mcc);
                proto.kws = NULL;
                proto.minfo = proto.mcc = NULL;
                atomic_store_explicit(&proto_state, 0, memory_order_release);
                return 0;
            }
            atomic_store_explicit(&proto_state, 2, memory_order_release);
            return 1;
        }
        /* another thread is building them (well under a millisecond) */
        st = atomic_load_explicit(&proto_state, memory_order_acquire);
    }
    return 1;
}

static void use_tables(jk_asm *A)
{
    A->kws = proto.kws;
    A->kwmask = proto.kwmask;
    A->minfo = proto.minfo;
    A->mcc = proto.mcc;
    A->mov_id = proto.mov_id;
    A->movabs_id = proto.movabs_id;
    A->xlat_id = proto.xlat_id;
    A->push_id = proto.push_id;
    A->pop_id = proto.pop_id;
    memcpy(A->cls, proto.cls, sizeof A->cls);
    memcpy(A->low, proto.low, sizeof A->low);
}

/* -- Diagnostics ----------------------------------------------------------- */

static const char *line_end(const jk_asm *A, const char *ls)
{
    const char *end = A->src + A->srclen;
    const char *nl = memchr(ls, '\n', (size_t)(end - ls));
    const char *e = nl ? nl : end;
    if (e > ls && e[-1] == '\r')
        e--;
    return e;
}

static void add_diag(jk_asm *A, const char *ls, unsigned line, const char *at, size_t n,
                     jk_status st, const char *msg)
{
    diag_rec *r;
    const char *le;
    size_t ml;
    if (A->ndiags == A->capdiags) {
        size_t nc = A->capdiags ? A->capdiags * 2 : 8;
        diag_rec *nd = realloc(A->diags, nc * sizeof *nd);
        if (!nd) {
            A->stop = 1;
            return;
        }
        A->diags = nd;
        A->capdiags = nc;
    }
    ml = strlen(msg);
    r = &A->diags[A->ndiags];
    le = ls ? line_end(A, ls) : NULL;
    if (at && ls && (at < ls || at > le))
        at = ls;
    if (at && le && at + n > le)
        n = (size_t)(le - at);
    /* message and a copy of the source line: the text is the caller's */
    r->msg = malloc(ml + 1 + (ls ? (size_t)(le - ls) : 0) + 1);
    if (!r->msg) {
        A->stop = 1;
        return;
    }
    memcpy(r->msg, msg, ml + 1);
    for (size_t i = 0; i < ml; i++) /* control bytes from the input */
        if ((unsigned char)r->msg[i] < 0x20)
            r->msg[i] = '?';
    if (ls) {
        char *copy = r->msg + ml + 1;
        memcpy(copy, ls, (size_t)(le - ls));
        copy[le - ls] = '\0';
        for (size_t i = 0; i < (size_t)(le - ls); i++)
            if ((unsigned char)copy[i] < 0x20 && copy[i] != '\t')
                copy[i] = '?';
        at = at ? copy + (at - ls) : NULL;
        le = copy + (le - ls);
        ls = copy;
    }
    r->d.status = st;
    r->d.file = A->fname;
    r->d.line = line;
    r->d.col = (at && ls) ? (unsigned)(at - ls) + 1u : 0u;
    r->d.len = n ? (unsigned)n : 1u;
    r->d.message = r->msg;
    r->d.source = ls;
    r->d.source_len = ls ? (size_t)(le - ls) : 0;
    A->ndiags++;
    if (A->ndiags >= A->maxerr)
        A->stop = 1;
}

/* Record an error at [at, at+n) of the current statement (one per
 * statement); returns 0 so parsers can `return err(...)`. */
#if defined(__GNUC__)
#  define JK_COLD __attribute__((cold, noinline))
#else
#  define JK_COLD
#endif

static int err(jk_asm *A, const char *at, size_t n, jk_status st, const char *fmt, ...)
    JK_PRINTF(5, 6) JK_COLD;

static void go_dead(jk_asm *A)
{
    if (A->x)
        jk_x86_reset(A->x);
    A->gen++;
    A->dead = 1;
}

static int err(jk_asm *A, const char *at, size_t n, jk_status st, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    if (A->st_failed)
        return 0;
    A->st_failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_diag(A, A->line_start, A->line, at, n, st, msg);
    go_dead(A);
    return 0;
}

/* -- Symbols ------------------------------------------------------------------- */

/* n bytes in the arena (they live until the next jk_asm_assemble; the
 * file name, copied first, as long as the handle). */
static char *arena_alloc(jk_asm *A, size_t n)
{
    char *r;
    if (n > A->aleft) {
        size_t bs = n > 16384 ? n : 16384;
        char **na = realloc(A->arena, (A->narena + 1) * sizeof *na);
        if (!na)
            return NULL;
        A->arena = na;
        na[A->narena] = malloc(bs);
        if (!na[A->narena])
            return NULL;
        A->apos = na[A->narena++];
        A->aleft = bs;
    }
    r = A->apos;
    A->apos += n;
    A->aleft -= n;
    return r;
}

static char *arena_copy(jk_asm *A, const char *s, size_t n)
{
    char *r = arena_alloc(A, n + 1);
    if (!r)
        return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

static int sym_grow_hash(jk_asm *A)
{
    uint32_t nsize = A->symmask ? (A->symmask + 1) * 2 : 64;
    uint32_t *nh = calloc(nsize, sizeof *nh);
    if (!nh)
        return 0;
    free(A->symhash);
    A->symhash = nh;
    A->symmask = nsize - 1;
    for (uint32_t i = 1; i < A->nsyms; i++) {
        if (!A->syms[i].name)
            continue;
        uint32_t b = A->syms[i].hash & A->symmask;
        A->syms[i].next = nh[b];
        nh[b] = i;
    }
    return 1;
}

/* New symbol (name may be NULL for hidden ones); 0 when out of memory. */
static JK_NOINLINE uint32_t sym_new(jk_asm *A, const char *name, size_t n, uint32_t h, uint64_t w0,
                        uint64_t w1)
{
    sym *s;
    if (A->nsyms >= A->capsyms) {
        uint32_t nc = A->capsyms ? A->capsyms * 2 : 256;
        if (nc <= A->nsyms)
            nc = A->nsyms + 256;
        sym *ns = realloc(A->syms, nc * sizeof *ns);
        if (!ns)
            return 0;
        A->syms = ns;
        A->capsyms = nc;
    }
    if (name && A->nsyms * 2 >= A->symmask && !sym_grow_hash(A))
        return 0;
    s = &A->syms[A->nsyms];
    memset(s, 0, sizeof *s);
    if (name) {
        s->name = arena_copy(A, name, n);
        if (!s->name)
            return 0;
        s->len = (uint32_t)n;
        s->hash = h;
        s->w0 = w0;
        s->w1 = w1;
        s->next = A->symhash[h & A->symmask];
        A->symhash[h & A->symmask] = A->nsyms;
    }
    return A->nsyms++;
}

/* Names of up to 16 characters hash and compare as two words (the lexer
 * packs them while scanning); longer ones by their bytes. */
static JK_ALWAYS_INLINE uint32_t sym_hash(const char *name, size_t n, uint64_t w0, uint64_t w1)
{
    return n <= 16 ? kw_hash(w0, w1, n) : hash_exact(name, n);
}

static JK_ALWAYS_INLINE uint32_t sym_lookup(const jk_asm *A, const char *name, size_t n,
                                            uint32_t h, uint64_t w0, uint64_t w1)
{
    if (!A->symhash)
        return 0;
    for (uint32_t i = A->symhash[h & A->symmask]; i; i = A->syms[i].next) {
        const sym *s = &A->syms[i];
        if (s->hash == h && s->len == n &&
            (n <= 16 ? s->w0 == w0 && s->w1 == w1 : memcmp(s->name, name, n) == 0))
            return i;
    }
    return 0;
}

/* The symbol named name[0..n), created if new; w0/w1 are the name packed
 * by raw_pack (when n <= 16). */
static uint32_t sym_get_w(jk_asm *A, const char *name, size_t n, uint64_t w0, uint64_t w1)
{
    uint32_t h = sym_hash(name, n, w0, w1), i;
    if (!A->symhash && !sym_grow_hash(A))
        return 0;
    i = sym_lookup(A, name, n, h, w0, w1);
    return i ? i : sym_new(A, name, n, h, w0, w1);
}

static uint32_t sym_get(jk_asm *A, const char *name, size_t n)
{
    uint64_t w0, w1;
    raw_pack(name, n, &w0, &w1);
    return sym_get_w(A, name, n, w0, w1);
}

/* The x86 label of a symbol in the current assembler generation. Adds no
 * text symbols (only x86 ones), so callers may hold a sym pointer across
 * it; cur_dot and sym_get/sym_new may grow A->syms and move it. */
static jk_label sym_label(jk_asm *A, uint32_t i)
{
    sym *s = &A->syms[i];
    if (s->gen != A->gen || !s->lbl) {
        /* local labels go unnamed (the x86 assembler would copy every
         * name); a finish-time message that names one ("#12") gets the
         * text's name back in end_pass */
        if (s->kind == SYM_EXTERN)
            s->lbl = jk_x86_label_extern(A->x, s->name ? s->name : "?");
        else
            s->lbl = jk_x86_label(A->x, NULL);
        s->gen = A->gen;
    }
    return s->lbl;
}

/* -- Lexer --------------------------------------------------------------------- */


enum { T_EOS, T_ID, T_NUM, T_STR, T_P, T_NUMLBL, T_BAD };

typedef struct tok {
    const char *s;   /* token text */
    size_t n;
    const kw *kw;    /* T_ID: the keyword, if it is one; NULL for other tokens */
    union {
        uint64_t v;  /* T_NUM value; T_NUMLBL number; T_BAD: 1 = overflow */
        uint64_t w0; /* T_ID of at most 16 characters: the name packed as is */
    };               /* (w0, w1: symbol hash and compare, see sym_get_w) */
    uint64_t w1;
    int t;
    char c;          /* T_P character; T_NUMLBL 'b'/'f'; T_STR quote */
} tok;

typedef struct lx {
    jk_asm *A;
    const char *p, *e;
    tok k;
    unsigned depth; /* expression nesting, bounded so the stack is */
} lx;

#define EXPR_DEPTH_MAX 200

/* Digit values: 0..35 for 0-9 a-z A-Z, 99 otherwise. */
static const uint8_t digit_tab[256] = {
#define D99_8 99, 99, 99, 99, 99, 99, 99, 99
#define D99_16 D99_8, D99_8
    D99_16, D99_16, D99_16,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99, 99, 99, 99, 99, 99,
    99, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 99, 99, 99, 99, 99,
    99, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 99, 99, 99, 99, 99,
    D99_16, D99_16, D99_16, D99_16, D99_16, D99_16, D99_16, D99_16,
#undef D99_16
#undef D99_8
};

static int digit_val(int c) { return digit_tab[(uint8_t)c]; }

/* Convert s[0..n) in base; 0 on a bad digit, -1 on overflow. */
static int conv(const char *s, size_t n, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    /* short enough that no value overflows and no '_': one table lookup a
     * digit (a '_' or a bad digit takes the careful loop below) */
    if (n - 1 < (base == 16 ? 15u : base == 10 ? 19u : base == 8 ? 21u : 63u)) {
        size_t i = 0;
        for (; i < n; i++) {
            unsigned d = digit_tab[(uint8_t)s[i]];
            if (d >= base)
                break;
            v = v * base + d;
        }
        if (i == n) {
            *out = v;
            return 1;
        }
        v = 0;
    }
    const uint64_t lim = base == 16 ? UINT64_MAX / 16 : base == 10 ? UINT64_MAX / 10
                       : base == 8 ? UINT64_MAX / 8 : UINT64_MAX / 2;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        uint64_t nv;
        if (s[i] == '_')
            continue;
        d = digit_val((unsigned char)s[i]);
        if (d >= (int)base)
            return 0;
        if (v > lim)
            return -1;
        nv = v * base + (unsigned)d;
        if (nv < v * base)
            return -1;
        v = nv;
    }
    *out = v;
    return 1;
}

static void lex_number(lx *L, const char *s)
{
    jk_asm *A = L->A;
    const char *p = s;
    size_t n;
    int r;
    uint64_t v = 0;
    char last;
    if (p + 2 < L->e && p[0] == '0' && (p[1] | 0x20) == 'x' && digit_tab[(uint8_t)p[2]] < 16) {
        /* 0x1f, the usual form (objdump): scan and convert at once; anything
         * unusual (a '_', a suffix, more than 15 digits) takes the full path */
        const char *q = p + 2;
        unsigned d;
        while (q < L->e && (d = digit_tab[(uint8_t)*q]) < 16) {
            v = v * 16 + d;
            q++;
        }
        if (q - p <= 17 && (q == L->e || !(A->cls[(uint8_t)*q] & C_ALNUM)) &&
            !(q < L->e && *q == '.')) {
            L->p = q;
            L->k.s = s;
            L->k.n = (size_t)(q - s);
            L->k.t = T_NUM;
            L->k.v = v;
            return;
        }
        v = 0;
    }
    while (p < L->e && (A->cls[(uint8_t)*p] & C_ALNUM))
        p++;
    n = (size_t)(p - s);
    L->p = p;
    L->k.s = s;
    L->k.n = n;
    L->k.t = T_NUM;
    if (p < L->e && *p == '.' && p + 1 < L->e && p[1] >= '0' && p[1] <= '9') {
        L->k.t = T_BAD;
        return;
    }
    last = (char)(s[n - 1] | 0x20);
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        r = conv(s + 2, n - 2, 16, &v);
    else if (n >= 3 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        r = conv(s + 2, n - 2, 2, &v);
    else if (n >= 3 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O' || s[1] == 'q' || s[1] == 'Q'))
        r = conv(s + 2, n - 2, 8, &v);
    else if (n >= 2 && (last == 'b' || last == 'f') && A->opt.syntax == JK_ASM_SYNTAX_GNU &&
             conv(s, n - 1, 10, &v) == 1) {
        L->k.t = T_NUMLBL;
        L->k.v = v;
        L->k.c = last;
        return;
    } else if (n >= 2 && last == 'h')
        r = conv(s, n - 1, 16, &v);
    else if (n >= 2 && (last == 'b' || last == 'y'))
        r = conv(s, n - 1, 2, &v);
    else if (n >= 2 && (last == 'o' || last == 'q'))
        r = conv(s, n - 1, 8, &v);
    else if (n >= 2 && (last == 'd' || last == 't'))
        r = conv(s, n - 1, 10, &v);
    else if (n >= 2 && s[0] == '0' && A->opt.syntax == JK_ASM_SYNTAX_GNU)
        r = conv(s + 1, n - 1, 8, &v);
    else
        r = conv(s, n, 10, &v);
    if (r != 1) {
        L->k.t = T_BAD;
        L->k.v = r < 0; /* 1: overflow */
        return;
    }
    L->k.v = v;
}

/* Rare tokens: numbers, strings, statement ends, punctuation. */
static void next_slow(lx *L, const char *p)
{
    const char *e = L->e;
    jk_asm *A = L->A;
    uint8_t k = A->cls[(uint8_t)*p];
    if (k & C_DIG) {
        lex_number(L, p);
        return;
    }
    if (*p == '"' || *p == '\'' || *p == '`') {
        char q = *p;
        const char *s = p++;
        while (p < e && *p != q) {
            if (*p == '\\' && q != '\'' && p + 1 < e)
                p++;
            p++;
        }
        if (p >= e) {
            L->k.t = T_BAD;
            L->k.n = (size_t)(p - s);
            L->k.c = q;
            L->p = p;
            return;
        }
        p++;
        L->k.t = T_STR;
        L->k.c = q;
        L->k.n = (size_t)(p - s);
        L->p = p;
        return;
    }
    /* end of statement: ';' separator (GNU) or comment (NASM), '#', '//' */
    if (*p == ';' || *p == '#' || (*p == '/' && p + 1 < e && p[1] == '/')) {
        L->k.t = T_EOS;
        if (e == A->cur_le && !A->eos_at) {
            A->eos_at = p;
            A->eos_comment = *p != ';' || A->opt.syntax == JK_ASM_SYNTAX_NASM;
        }
        return;
    }
    L->k.t = T_P;
    L->k.c = *p;
    L->k.n = 1;
    if (p + 1 < e && ((p[0] == '<' && p[1] == '<') || (p[0] == '>' && p[1] == '>'))) {
        L->k.n = 2;
        L->k.c = p[0] == '<' ? 'L' : 'R';
    }
    L->p = p + L->k.n;
}

/* The next token: whitespace and identifiers (with their keyword) here,
 * the rest in next_slow. */

static JK_ALWAYS_INLINE void next(lx *L)
{
    const char *p = L->p, *e = L->e;
    const uint8_t *cls = L->A->cls;
    while (p < e && (cls[(uint8_t)*p] & C_WS))
        p++;
    L->p = p;
    L->k.s = p;
    /* each path sets what its token type defines (kw is NULL for all but
     * identifiers: the statement parser looks at it without the type) */
    if (p >= e) {
        L->k.t = T_EOS;
        L->k.n = 0;
        L->k.c = 0;
        L->k.kw = NULL;
        if (e == L->A->cur_le && !L->A->eos_at) {
            L->A->eos_at = p;
            L->A->eos_comment = 0;
        }
        return;
    }
    if (cls[(uint8_t)*p] & C_ID0) {
        const char *s = p;
        uint64_t w0, w1;
        size_t n;
        L->k.t = T_ID;
        p++;
        while (p < e && (cls[(uint8_t)*p] & C_ID))
            p++;
        n = (size_t)(p - s);
        L->k.n = n;
        L->p = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (n <= 16 && s + 16 <= L->A->src_end) {
            /* 16 bytes at once, masked to the name, ASCII upper -> lower */
            const uint64_t ones = 0x0101010101010101ull, hi = 0x8080808080808080ull;
            memcpy(&w0, s, 8);
            if (n <= 8) {
                const kw *k;
                uint64_t up;
                w0 &= ~(uint64_t)0 >> (64 - 8 * n);
                L->k.w0 = w0;
                L->k.w1 = 0;
                /* as written (all lower or all upper case: the table has
                 * both), then lower-cased if it has upper-case letters */
                k = kw_find_w(L->A, s, n, w0, 0);
                if (!k && (up = ((w0 + 0x3f * ones) & ~(w0 + 0x25 * ones)) & hi) != 0)
                    k = kw_find_w(L->A, s, n, w0 | up >> 2, 0);
                L->k.kw = k;
                return;
            } else {
                memcpy(&w1, s + 8, 8);
                w1 &= ~(uint64_t)0 >> (128 - 8 * n);
                L->k.w0 = w0;
                L->k.w1 = w1;
                w1 |= (((w1 + 0x3f * ones) & ~(w1 + 0x25 * ones)) & hi) >> 2;
            }
            w0 |= (((w0 + 0x3f * ones) & ~(w0 + 0x25 * ones)) & hi) >> 2;
        } else
#endif
        {
            raw_pack(s, n, &L->k.w0, &L->k.w1);
            kw_pack(L->A->low, s, n, &w0, &w1);
        }
        L->k.kw = kw_find_w(L->A, s, n, w0, w1);
        return;
    }
    L->k.kw = NULL;
    if (cls[(uint8_t)*p] & C_PUNCT) {
        L->k.t = T_P;
        L->k.c = *p;
        L->k.n = 1;
        L->p = p + 1;
        return;
    }
    L->k.n = 0;
    L->k.c = 0;
    L->k.v = 0;
    next_slow(L, p);
}

static int is_p(const lx *L, char c) { return L->k.t == T_P && L->k.c == c; }

/* The first character after the current token, skipping blanks (0 at the
 * end): a cheap look-ahead that does not lex. */
static char peek_char(const lx *L)
{
    const char *p = L->p;
    while (p < L->e && (L->A->cls[(uint8_t)*p] & C_WS))
        p++;
    return p < L->e ? *p : 0;
}

static const kw *tok_kw(const lx *L)
{
    return L->k.t == T_ID ? L->k.kw : NULL;
}

/* Decode a string literal's body into buf (at most cap bytes); returns the
 * length or -1 with an error recorded. */
static long decode_str(lx *L, const tok *t, uint8_t *buf, size_t cap)
{
    const char *p = t->s + 1, *e = t->s + t->n - 1;
    size_t n = 0;
    while (p < e) {
        unsigned c = (unsigned char)*p++;
        if (c == '\\' && t->c != '\'' && p < e) {
            unsigned d = (unsigned char)*p++;
            switch (d) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'v': c = '\v'; break;
            case 'a': c = '\a'; break;
            case 'e': c = 27; break;
            case 'x': case 'X':
                c = 0;
                while (p < e && digit_val((unsigned char)*p) < 16) {
                    c = (c * 16 + (unsigned)digit_val((unsigned char)*p++)) & 0xffu;
                }
                break;
            default:
                if (d >= '0' && d <= '7') {
                    c = d - '0';
                    for (int k = 0; k < 2 && p < e && *p >= '0' && *p <= '7'; k++)
                        c = (c * 8 + (unsigned)(*p++ - '0')) & 0xffu;
                } else {
                    c = d;
                }
            }
        }
        if (n == cap) {
            err(L->A, t->s, t->n, JK_ERANGE, "string too long");
            return -1;
        }
        buf[n++] = (uint8_t)c;
    }
    return (long)n;
}

/* -- Expressions ----------------------------------------------------------------- */

static JK_COLD int bad_tok(lx *L, const char *what)
{
    jk_asm *A = L->A;
    if (L->k.t == T_EOS)
        return err(A, L->k.s, 1, JK_ESYNTAX, "expected %s at end of statement", what);
    if (L->k.t == T_BAD) {
        if (L->k.n && (L->k.s[0] == '"' || L->k.s[0] == '\'' || L->k.s[0] == '`'))
            return err(A, L->k.s, 1, JK_ESYNTAX, "missing terminating %c character", L->k.c);
        if (L->k.v)
            return err(A, L->k.s, L->k.n, JK_ERANGE, "number '%.*s' does not fit in 64 bits",
                       (int)L->k.n, L->k.s);
        return err(A, L->k.s, L->k.n, JK_ESYNTAX, "invalid number '%.*s'", (int)L->k.n,
                   L->k.s);
    }
    return err(A, L->k.s, L->k.n ? L->k.n : 1, JK_ESYNTAX, "expected %s, found '%.*s'", what,
               (int)(L->k.n ? L->k.n : 1), L->k.s);
}

/* Offset of a label for arithmetic: the final offset of the previous pass,
 * or (first pass) the raw offset of an earlier bind / 0, marked provisional. */
static int64_t sym_off(jk_asm *A, uint32_t i, uint8_t *prov)
{
    sym *s = &A->syms[i];
    A->layout_used = 1;
    if (s->has_off)
        return (int64_t)s->off;
    *prov = 1;
    return s->def_pass == A->pass ? (int64_t)s->raw : 0;
}

/* The hidden label that stands for '.' in the current statement. */
static uint32_t cur_dot(jk_asm *A)
{
    uint32_t i;
    if (A->st_dot)
        return A->st_dot;
    if (A->ndots == A->capdots) {
        size_t nc = A->capdots ? A->capdots * 2 : 64;
        uint32_t *nd = realloc(A->dots, nc * sizeof *nd);
        if (!nd)
            return 0;
        memset(nd + A->capdots, 0, (nc - A->capdots) * sizeof *nd);
        A->dots = nd;
        A->capdots = nc;
    }
    i = A->dots[A->ndots];
    if (!i) {
        i = sym_new(A, NULL, 0, 0, 0, 0);
        if (!i)
            return 0;
        A->dots[A->ndots] = i;
        A->syms[i].kind = SYM_LABEL;
    }
    A->ndots++;
    A->syms[i].def_pass = A->pass;
    A->syms[i].raw = jk_x86_offset(A->x);
    jk_x86_bind(A->x, sym_label(A, i));
    A->st_dot = i;
    return i;
}

static val vnum(int64_t k)
{
    val v;
    v.k = k;
    v.sym = 0;
    v.prov = 0;
    return v;
}

static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }

static int v_add(lx *L, const char *at, val *a, val b)
{
    if (a->sym && b.sym)
        return err(L->A, at, 1, JK_ESYNTAX, "cannot add two addresses");
    a->k = wrap_add(a->k, b.k);
    if (!a->sym)
        a->sym = b.sym;
    a->prov |= b.prov;
    return 1;
}

static int v_sub(lx *L, const char *at, val *a, val b)
{
    if (b.sym) {
        if (!a->sym)
            return err(L->A, at, 1, JK_ESYNTAX, "cannot subtract an address from a number");
        if (a->sym != b.sym) {
            uint8_t prov = 0;
            int64_t d = wrap_sub(sym_off(L->A, a->sym, &prov), sym_off(L->A, b.sym, &prov));
            a->k = wrap_add(a->k, d);
            a->prov |= prov;
        }
        a->sym = 0;
    }
    a->k = wrap_sub(a->k, b.k);
    a->prov |= b.prov;
    return 1;
}

static int expr(lx *L, int minprec, val *out);

static int numlbl_ref(lx *L, val *out)
{
    jk_asm *A = L->A;
    char name[48];
    uint64_t num = L->k.v;
    long inst;
    uint32_t i;
    if (num >= NUMLBL_MAX)
        return err(A, L->k.s, L->k.n, JK_ERANGE, "numeric label %llu too large (max %d)",
                   (unsigned long long)num, NUMLBL_MAX - 1);
    inst = (long)(A->numcnt ? A->numcnt[num] : 0) - (L->k.c == 'b' ? 1 : 0);
    if (inst < 0)
        return err(A, L->k.s, L->k.n, JK_ELABEL, "no earlier definition of label '%llu'",
                   (unsigned long long)num);
    snprintf(name, sizeof name, "%llu\x01%ld", (unsigned long long)num, inst);
    i = sym_get(A, name, strlen(name));
    if (!i)
        return err(A, L->k.s, L->k.n, JK_ENOMEM, "out of memory");
    if (A->syms[i].ref_pass != A->pass) {
        A->syms[i].ref_pass = A->pass;
        A->syms[i].ref_at = L->k.s;
        A->syms[i].ref_line = A->line;
        A->syms[i].ref_line_start = A->line_start;
    }
    out->k = 0;
    out->sym = i;
    out->prov = 0;
    next(L);
    return 1;
}

/* NASM's .local, the name of the last global label prefixed (out of line:
 * its buffer would cost every reference a bigger stack frame). */
static JK_NOINLINE uint32_t sym_get_local(jk_asm *A, const char *name, size_t n)
{
    char buf[256];
    memcpy(buf, A->last_global, A->last_global_len);
    memcpy(buf + A->last_global_len, name, n);
    return sym_get(A, buf, n + A->last_global_len);
}

static int sym_ref(lx *L, const char *name, size_t n, val *out)
{
    jk_asm *A = L->A;
    uint32_t i;
    sym *s;
    if (A->opt.syntax == JK_ASM_SYNTAX_NASM && n > 1 && name[0] == '.' && name[1] != '.' &&
        A->last_global_len + n < 256)
        i = sym_get_local(A, name, n);
    else
        i = sym_get_w(A, name, n, L->k.w0, L->k.w1); /* name is the current token */
    if (!i)
        return err(A, L->k.s, L->k.n, JK_ENOMEM, "out of memory");
    s = &A->syms[i];
    if (s->ref_pass != A->pass) {
        s->ref_pass = A->pass;
        s->ref_at = L->k.s;
        s->ref_line = A->line;
        s->ref_line_start = A->line_start;
    }
    if (s->kind == SYM_CONST) {
        if (s->has_val) {
            *out = s->v;
            if (s->def_pass != A->pass) /* defined further down, value of an earlier pass */
                A->layout_used = 1;
        } else {
            *out = vnum(0);
            out->prov = 1;
            A->layout_used = 1;
        }
        return 1;
    }
    out->k = 0;
    out->sym = i;
    out->prov = 0;
    return 1;
}

static int primary(lx *L, val *out)
{
    jk_asm *A = L->A;
    const char *at = L->k.s;
    switch (L->k.t) {
    case T_NUM:
        *out = vnum((int64_t)L->k.v);
        next(L);
        return 1;
    case T_NUMLBL:
        return numlbl_ref(L, out);
    case T_STR: {
        uint8_t b[8];
        long n = decode_str(L, &L->k, b, sizeof b);
        uint64_t v = 0;
        if (n < 0)
            return 0;
        for (long i = n - 1; i >= 0; i--)
            v = (v << 8) | b[i];
        *out = vnum((int64_t)v);
        next(L);
        return 1;
    }
    case T_ID: {
        const kw *k;
        if (L->k.n == 1 && (L->k.s[0] == '.' || L->k.s[0] == '$')) {
            uint32_t d = cur_dot(A);
            if (!d)
                return err(A, at, 1, JK_ENOMEM, "out of memory");
            out->k = 0;
            out->sym = d;
            out->prov = 0;
            next(L);
            return 1;
        }
        if (L->k.n == 2 && L->k.s[0] == '$' && L->k.s[1] == '$') {
            out->k = 0;
            out->sym = A->start_sym;
            out->prov = 0;
            next(L);
            return 1;
        }
        k = tok_kw(L);
        if (k && k->kind == KW_REG)
            return err(A, at, L->k.n, JK_ESYNTAX, "register '%.*s' cannot be used here",
                       (int)L->k.n, L->k.s);
        if (k && k->kind == KW_WORD && k->a == W_RIZ)
            return err(A, at, L->k.n, JK_EOPERAND, "'%.*s' (SIB without index) is not supported",
                       (int)L->k.n, L->k.s);
        if (!sym_ref(L, L->k.s, L->k.n, out))
            return 0;
        next(L);
        return 1;
    }
    case T_P:
        if (L->k.c == '(') {
            int ok;
            if (L->depth >= EXPR_DEPTH_MAX)
                return err(A, at, 1, JK_ESYNTAX, "expression nested too deeply");
            next(L);
            L->depth++;
            ok = expr(L, 0, out);
            L->depth--;
            if (!ok)
                return 0;
            if (!is_p(L, ')'))
                return bad_tok(L, "')'");
            next(L);
            return 1;
        }
        if (L->k.c == '-' || L->k.c == '+' || L->k.c == '~' || L->k.c == '!') {
            char op = L->k.c;
            int ok;
            if (L->depth >= EXPR_DEPTH_MAX)
                return err(A, at, 1, JK_ESYNTAX, "expression nested too deeply");
            next(L);
            L->depth++;
            ok = primary(L, out);
            L->depth--;
            if (!ok)
                return 0;
            if (op == '+')
                return 1;
            if (out->sym)
                return err(A, at, 1, JK_ESYNTAX, "cannot apply '%c' to an address", op);
            if (op == '-')
                out->k = wrap_sub(0, out->k);
            else if (op == '~')
                out->k = (int64_t)~(uint64_t)out->k;
            else
                out->k = out->k == 0;
            return 1;
        }
        break;
    default:
        break;
    }
    return bad_tok(L, "an expression");
}

static JK_ALWAYS_INLINE int binprec(const lx *L)
{
    if (L->k.t != T_P)
        return -1;
    switch (L->k.c) {
    case '*': case '/': case '%': return 10;
    case '+': case '-': return 9;
    case 'L': case 'R': return 8;
    case '&': return 7;
    case '^': return 6;
    case '|': return 5;
    default: return -1;
    }
}

static int expr_tail(lx *L, int minprec, val *out);

static int expr(lx *L, int minprec, val *out)
{
    if (!primary(L, out))
        return 0;
    return binprec(L) < minprec ? 1 : expr_tail(L, minprec, out);
}

/* The binary operators after the first operand (out). */
static int expr_tail(lx *L, int minprec, val *out)
{
    jk_asm *A = L->A;
    for (;;) {
        int prec = binprec(L);
        char op = L->k.c;
        const char *at = L->k.s;
        val r;
        if (prec < 0 || prec < minprec)
            return 1;
        next(L);
        if (!expr(L, prec + 1, &r))
            return 0;
        if (op == '+') {
            if (!v_add(L, at, out, r))
                return 0;
            continue;
        }
        if (op == '-') {
            if (!v_sub(L, at, out, r))
                return 0;
            continue;
        }
        if (out->sym || r.sym)
            return err(A, at, 1, JK_ESYNTAX,
                       "an address can only be added to or subtracted from");
        out->prov |= r.prov;
        {
            uint64_t a = (uint64_t)out->k, b = (uint64_t)r.k;
            switch (op) {
            case '*': a = a * b; break;
            case '/': case '%':
                if (b == 0) {
                    if (out->prov)
                        { a = 0; break; }
                    return err(A, at, 1, JK_ERANGE, "division by zero");
                }
                if (out->k == INT64_MIN && r.k == -1)
                    a = op == '/' ? a : 0;
                else
                    a = (uint64_t)(op == '/' ? out->k / r.k : out->k % r.k);
                break;
            case 'L': a = b >= 64 ? 0 : a << b; break;
            case 'R': a = b >= 64 ? (out->k < 0 ? UINT64_MAX : 0)
                                  : (uint64_t)(out->k >> b); break;
            case '&': a &= b; break;
            case '^': a ^= b; break;
            case '|': a |= b; break;
            default: break;
            }
            out->k = (int64_t)a;
        }
    }
}

/* An expression that must be a plain number. */
static int const_expr(lx *L, val *v, const char *what)
{
    const char *at = L->k.s;
    if (!expr(L, 0, v))
        return 0;
    if (v->sym)
        return err(L->A, at, (size_t)(L->k.s - at), JK_ESYNTAX, "%s must be a number, not an address",
                   what);
    return 1;
}

/* -- Operands --------------------------------------------------------------------- */

enum { O_REG = 1, O_MEM, O_EXPR };

typedef struct opnd {
    int kind;
    jk_x86_op op;
    val v;                /* O_EXPR: value; O_MEM: displacement */
    unsigned size;
    int seg;              /* -1 none */
    uint8_t nearkw, shortkw, offsetkw, bare, relkw, abskw, brackets;
    uint8_t base_rc, base, idx_rc, idx, scale;
    const char *s;
    size_t n;
} opnd;

static int is_addr_rc(int rc)
{
    return rc == JK_X86_RC_GP32 || rc == JK_X86_RC_GP64 || rc == JK_X86_RC_IP ||
           rc == JK_X86_RC_GP16;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* A register name of at most 8 characters read straight from the text at
 * s (s < e), *end set past it; NULL for anything else. */
static JK_ALWAYS_INLINE const kw *quick_reg(const jk_asm *A, const char *s, const char *e,
                                            const char **end)
{
    const uint64_t ones = 0x0101010101010101ull, hi = 0x8080808080808080ull;
    const char *p = s + 1;
    const kw *k;
    uint64_t w0;
    size_t n;
    if (!(A->cls[(uint8_t)*s] & C_ID0))
        return NULL;
    while (p < e && (A->cls[(uint8_t)*p] & C_ID))
        p++;
    n = (size_t)(p - s);
    if (n > 8 || s + 16 > A->src_end)
        return NULL;
    memcpy(&w0, s, 8);
    w0 &= ~(uint64_t)0 >> (64 - 8 * n);
    w0 |= (((w0 + 0x3f * ones) & ~(w0 + 0x25 * ones)) & hi) >> 2;
    k = kw_find_w(A, s, n, w0, 0);
    if (!k || k->kind != KW_REG)
        return NULL;
    *end = p;
    return k;
}

/* The usual memory operands read straight from the characters after '['
 * (at p, before e), without tokens: [base], [base+index(*scale)], each
 * optionally followed by +/- a hex (0x..) or plain decimal displacement,
 * ']' right after; base a 32/64-bit register or rip/eip, index a 32/64-bit
 * register, no blanks. Returns the position after ']' with o's address
 * fields set, or NULL with nothing changed (the general parser takes it). */
static const char *mem_scan(const jk_asm *A, const char *p, const char *e, opnd *o)
{
    const kw *b, *x = NULL;
    unsigned scale = 0;
    uint64_t d = 0;
    int neg = 0;
    if (o->base_rc || o->idx_rc || o->v.sym || p >= e)
        return NULL;
    b = quick_reg(A, p, e, &p);
    if (!b || (b->a != JK_X86_RC_GP64 && b->a != JK_X86_RC_GP32 && b->a != JK_X86_RC_IP) ||
        p >= e)
        return NULL;
    if (*p == '+' && b->a != JK_X86_RC_IP && p + 1 < e && (A->cls[(uint8_t)p[1]] & C_ID0)) {
        x = quick_reg(A, p + 1, e, &p);
        if (!x || (x->a != JK_X86_RC_GP64 && x->a != JK_X86_RC_GP32) || p >= e)
            return NULL;
        scale = 1;
        if (*p == '*') {
            char c = p + 1 < e ? p[1] : 0;
            if (c != '1' && c != '2' && c != '4' && c != '8')
                return NULL;
            scale = (unsigned)(c - '0');
            p += 2;
            if (p >= e)
                return NULL;
        }
    }
    if (*p == '+' || *p == '-') {
        const char *q, *ds;
        neg = *p == '-';
        p++;
        if (p + 2 < e && p[0] == '0' && (p[1] | 0x20) == 'x') {
            unsigned v;
            ds = q = p + 2;
            while (q < e && (v = digit_tab[(uint8_t)*q]) < 16) {
                d = d * 16 + v;
                q++;
            }
            if (q - ds > 15) /* might not fit: the general parser says so */
                return NULL;
        } else {
            ds = q = p;
            while (q < e && *q >= '0' && *q <= '9') {
                d = d * 10 + (unsigned)(*q - '0');
                q++;
            }
            if (q - ds > 18 || (q - ds > 1 && *ds == '0')) /* too long; 012: octal (GNU) */
                return NULL;
        }
        if (q == ds)
            return NULL;
        p = q;
        if (p >= e)
            return NULL;
    }
    if (*p != ']')
        return NULL;
    o->brackets = 1;
    o->base_rc = (uint8_t)b->a;
    o->base = (uint8_t)b->b;
    if (x) {
        o->idx_rc = (uint8_t)x->a;
        o->idx = (uint8_t)x->b;
        o->scale = (uint8_t)scale;
    }
    o->v.k = neg ? wrap_sub(o->v.k, (int64_t)d) : wrap_add(o->v.k, (int64_t)d);
    return p + 1;
}

static int mem_quick(lx *L, opnd *o)
{
    const char *r = mem_scan(L->A, L->p, L->e, o);
    if (!r)
        return 0;
    L->p = r;
    next(L);
    return 1;
}
#else
static const char *mem_scan(const jk_asm *A, const char *p, const char *e, opnd *o)
{
    (void)A;
    (void)p;
    (void)e;
    (void)o;
    return NULL;
}

static int mem_quick(lx *L, opnd *o)
{
    (void)L;
    (void)o;
    return 0;
}
#endif

static int mem_body(lx *L, opnd *o)
{
    jk_asm *A = L->A;
    int first = 1;
    if (mem_quick(L, o))
        return 1;
    o->brackets = 1;
    next(L); /* '[' */
    for (;;) {
        int neg = 0;
        const char *at = L->k.s;
        const kw *k;
        if (is_p(L, ']')) {
            if (first)
                return err(A, at, 1, JK_ESYNTAX, "empty memory operand");
            next(L);
            return 1;
        }
        if (!first) {
            if (is_p(L, '+'))
                next(L);
            else if (is_p(L, '-')) {
                neg = 1;
                next(L);
            } else
                return bad_tok(L, "'+', '-' or ']'");
        } else if (is_p(L, '-')) {
            neg = 1;
            next(L);
        } else if (is_p(L, '+')) {
            next(L);
        }
        first = 0;
        at = L->k.s;
        k = tok_kw(L);
        if (k && k->kind == KW_WORD && (k->a == W_REL || k->a == W_ABS)) {
            if (k->a == W_REL) o->relkw = 1; else o->abskw = 1;
            next(L);
            first = 1;
            continue;
        }
        if (k && k->kind == KW_REG) {
            int rc = k->a, num = k->b;
            size_t rn = L->k.n;
            next(L);
            if (rc == JK_X86_RC_SEG && is_p(L, ':')) {
                o->seg = num;
                next(L);
                first = 1;
                continue;
            }
            if (!is_addr_rc(rc) && rc != JK_X86_RC_XMM && rc != JK_X86_RC_YMM &&
                rc != JK_X86_RC_ZMM)
                return err(A, at, rn, JK_EOPERAND, "'%.*s' cannot address memory", (int)rn, at);
            if (rc == JK_X86_RC_GP16)
                return err(A, at, rn, JK_EOPERAND, "16-bit addressing is not supported");
            if (neg)
                return err(A, at, rn, JK_EOPERAND, "a register cannot be subtracted");
            if (is_p(L, '*')) {
                val sc;
                const char *sat;
                next(L);
                sat = L->k.s;
                if (!primary(L, &sc))
                    return 0;
                if (sc.sym || (sc.k != 1 && sc.k != 2 && sc.k != 4 && sc.k != 8))
                    return err(A, sat, (size_t)(L->k.s - sat), JK_EOPERAND,
                               "scale must be 1, 2, 4 or 8");
                if (o->idx_rc)
                    return err(A, at, rn, JK_EOPERAND, "more than one index register");
                o->idx_rc = (uint8_t)rc;
                o->idx = (uint8_t)num;
                o->scale = (uint8_t)sc.k;
            } else if (!o->base_rc && rc != JK_X86_RC_XMM && rc != JK_X86_RC_YMM &&
                       rc != JK_X86_RC_ZMM) {
                o->base_rc = (uint8_t)rc;
                o->base = (uint8_t)num;
            } else if (!o->idx_rc) {
                o->idx_rc = (uint8_t)rc;
                o->idx = (uint8_t)num;
                o->scale = 1;
            } else {
                return err(A, at, rn, JK_EOPERAND, "too many registers in memory operand");
            }
            continue;
        }
        if (L->k.t == T_NUM && peek_char(L) != '*') {
            /* a number: the usual displacement */
            val t = vnum((int64_t)L->k.v);
            next(L);
            if (binprec(L) >= 10 && !expr_tail(L, 10, &t))
                return 0;
            if (neg)
                t.k = wrap_sub(0, t.k);
            if (!v_add(L, at, &o->v, t))
                return 0;
            continue;
        }
        if (L->k.t == T_NUM) {
            /* n*reg */
            lx save = *L;
            next(L);
            if (is_p(L, '*')) {
                next(L);
                k = tok_kw(L);
                if (k && k->kind == KW_REG) {
                    uint64_t sc = save.k.v;
                    if (neg || (sc != 1 && sc != 2 && sc != 4 && sc != 8))
                        return err(A, at, save.k.n, JK_EOPERAND, "scale must be 1, 2, 4 or 8");
                    if (o->idx_rc)
                        return err(A, L->k.s, L->k.n, JK_EOPERAND, "more than one index register");
                    if ((!is_addr_rc(k->a) || k->a == JK_X86_RC_IP) && k->a != JK_X86_RC_XMM &&
                        k->a != JK_X86_RC_YMM && k->a != JK_X86_RC_ZMM) /* VSIB: 4*xmm1 */
                        return err(A, L->k.s, L->k.n, JK_EOPERAND, "'%.*s' cannot be an index",
                                   (int)L->k.n, L->k.s);
                    o->idx_rc = (uint8_t)k->a;
                    o->idx = (uint8_t)k->b;
                    o->scale = (uint8_t)sc;
                    next(L);
                    continue;
                }
            }
            *L = save;
        }
        {
            val t;
            if (!expr(L, 10, &t))
                return 0;
            if (neg ? !v_sub(L, at, &o->v, t) : !v_add(L, at, &o->v, t))
                return 0;
        }
    }
}

static int operand(lx *L, opnd *o)
{
    jk_asm *A = L->A;
    const kw *k;
    memset(o, 0, sizeof *o);
    o->seg = -1;
    o->s = L->k.s;
    for (;;) {
        k = tok_kw(L);
        if (!k)
            break;
        if (k->kind == KW_SIZE) {
            /* "word" etc. could also be a symbol name: only a size if an
             * operand follows */
            const char *p = L->p;
            char c;
            if (p + 4 < L->e && p[0] == ' ' && (p[1] | 0x20) == 'p' && (p[2] | 0x20) == 't' &&
                (p[3] | 0x20) == 'r' && !(A->cls[(uint8_t)p[4]] & C_ID)) {
                /* " PTR" as objdump writes it: no token for it */
                o->size = k->a;
                L->p = p + 4;
                next(L);
                continue;
            }
            c = peek_char(L);
            if (c == 0 || c == ',' || c == ';' || c == '#')
                break;
            next(L);
            o->size = k->a;
            if (tok_kw(L) && tok_kw(L)->kind == KW_PTR)
                next(L);
            continue;
        }
        if (k->kind == KW_WORD && (k->a == W_OFFSET || k->a == W_SHORT || k->a == W_NEAR ||
                                   k->a == W_STRICT || k->a == W_FAR)) {
            if (k->a == W_FAR)
                return err(A, L->k.s, L->k.n, JK_EOPERAND, "far branches are not supported");
            if (k->a == W_OFFSET) o->offsetkw = 1;
            if (k->a == W_SHORT) o->shortkw = 1;
            if (k->a == W_NEAR) o->nearkw = 1;
            next(L);
            /* OFFSET FLAT:label, as objdump prints 32-bit code */
            if (k->a == W_OFFSET && L->k.t == T_ID && L->k.n == 4 &&
                eq_lower(L->k.s, 4, "flat", 4) && peek_char(L) == ':') {
                next(L);
                next(L);
            }
            continue;
        }
        break;
    }
    if (is_p(L, '[')) {
        o->kind = O_MEM;
        if (!mem_body(L, o))
            return 0;
        /* gas also accepts [rax]+8 and [rax][rbx] */
        while (is_p(L, '+') || is_p(L, '-') || is_p(L, '[')) {
            if (is_p(L, '[')) {
                if (!mem_body(L, o))
                    return 0;
            } else {
                int neg = is_p(L, '-');
                const char *at = L->k.s;
                val t;
                next(L);
                if (!expr(L, 10, &t))
                    return 0;
                if (neg ? !v_sub(L, at, &o->v, t) : !v_add(L, at, &o->v, t))
                    return 0;
            }
        }
        o->n = (size_t)(L->k.s - o->s);
        return 1;
    }
    if (k && k->kind == KW_REG) {
        int rc = k->a, num = k->b;
        const char *at = L->k.s;
        size_t rn = L->k.n;
        next(L);
        if (rc == JK_X86_RC_SEG && is_p(L, ':')) {
            next(L);
            o->seg = num;
            o->kind = O_MEM;
            if (is_p(L, '[')) {
                if (!mem_body(L, o))
                    return 0;
                while (is_p(L, '+') || is_p(L, '-')) {
                    int neg = is_p(L, '-');
                    const char *pat = L->k.s;
                    val t;
                    next(L);
                    if (!expr(L, 10, &t))
                        return 0;
                    if (neg ? !v_sub(L, pat, &o->v, t) : !v_add(L, pat, &o->v, t))
                        return 0;
                }
            } else {
                o->bare = 1;
                if (!expr(L, 0, &o->v))
                    return 0;
            }
            o->n = (size_t)(L->k.s - o->s);
            return 1;
        }
        if (rc == JK_X86_RC_ST && num == 0 && L->k.s - at == 2 && is_p(L, '(')) {
            val r;
            next(L);
            if (L->k.t != T_NUM || L->k.v > 7)
                return err(A, L->k.s, L->k.n ? L->k.n : 1, JK_EOPERAND,
                           "expected a register number 0..7");
            num = (int)L->k.v;
            next(L);
            if (!is_p(L, ')'))
                return bad_tok(L, "')'");
            next(L);
            (void)r;
        }
        if (rc == JK_X86_RC_IP)
            return err(A, at, (size_t)(L->k.s - at), JK_EOPERAND,
                       "'%.*s' can only be a memory base", (int)rn, at);
        o->kind = O_REG;
        o->op = jk_x86_reg((jk_x86_rclass)rc, (unsigned)num);
        o->n = (size_t)(L->k.s - o->s);
        return 1;
    }
    o->kind = O_EXPR;
    if (L->k.t == T_NUM) {
        /* an immediate: the usual case */
        o->v = vnum((int64_t)L->k.v);
        next(L);
        if (binprec(L) >= 0 && !expr_tail(L, 0, &o->v))
            return 0;
    } else if (!expr(L, 0, &o->v)) {
        return 0;
    }
    if (o->size && !o->offsetkw)
        o->bare = 1; /* DWORD PTR 0x1234 / DWORD PTR sym: memory */
    o->n = (size_t)(L->k.s - o->s);
    return 1;
}

static int fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* Turn a parsed memory operand into a jk_x86_op. */
static int mem_op(jk_asm *A, opnd *o, jk_x86_op *out)
{
    jk_x86_op base = JK_NOREG, index = JK_NOREG;
    unsigned size = o->size;
    if (o->base_rc) {
        base = jk_x86_reg((jk_x86_rclass)o->base_rc, (unsigned)o->base);
        if (o->base_rc == JK_X86_RC_IP && o->base == 4)
            base = jk_x86_eip_();
        else if (o->base_rc == JK_X86_RC_IP)
            base = jk_x86_reg(JK_X86_RC_IP, 0);
    }
    if (o->idx_rc) {
        if (o->idx_rc == JK_X86_RC_IP)
            return err(A, o->s, o->n, JK_EOPERAND, "rip cannot be an index");
        index = jk_x86_reg((jk_x86_rclass)o->idx_rc, (unsigned)o->idx);
    }
    if (o->v.sym) {
        /* safe to hold: nothing below adds text symbols (sym_label makes
         * x86 labels, err adds diagnostics) */
        sym *s = &A->syms[o->v.sym];
        if (o->v.sym == A->start_sym || s->kind == SYM_LABEL || s->kind == SYM_UNDEF ||
            s->kind == SYM_EXTERN) {
            if (!fits32(o->v.k))
                return err(A, o->s, o->n, JK_ERANGE, "displacement out of range");
            s->as_label = 1;
            if (o->idx_rc || (o->base_rc && o->base_rc != JK_X86_RC_IP) ||
                (o->abskw && !o->base_rc)) {
                /* [reg + label], [label + reg*4], [abs label]: the label's
                 * absolute address as the displacement, relocated at install
                 * (range-checked there in 64-bit mode) */
                *out = jk_x86_mem_label_abs(size, base, index, o->scale ? (unsigned)o->scale : 1u,
                                            sym_label(A, o->v.sym), (int32_t)o->v.k);
                if (o->seg >= 0)
                    *out = jk_x86_seg(*out, jk_x86_reg(JK_X86_RC_SEG, (unsigned)o->seg));
                return 1;
            }
            *out = jk_x86_mem_label(size, sym_label(A, o->v.sym), (int32_t)o->v.k);
            if (o->base_rc == JK_X86_RC_IP && o->base == 4 && A->mode == JK_X86_MODE64)
                return err(A, o->s, o->n, JK_EOPERAND, "eip-relative labels are not supported");
        } else {
            return err(A, o->s, o->n, JK_EOPERAND, "bad address expression");
        }
    } else {
        *out = jk_x86_mem(size, base, index, o->scale ? (unsigned)o->scale : 1u, o->v.k);
    }
    if (o->seg >= 0)
        *out = jk_x86_seg(*out, jk_x86_reg(JK_X86_RC_SEG, (unsigned)o->seg));
    return 1;
}

/* -- Emission helpers ---------------------------------------------------------------- */

static int xok(jk_asm *A, jk_status s, const char *at, size_t n)
{
    if (s == JK_OK)
        return 1;
    if (A->dead && A->st_failed)
        return 0;
    {
        const jk_error *e = jk_x86_error(A->x);
        return err(A, at, n, s, "%s", e && e->message[0] ? e->message : jk_status_str(s));
    }
}

/* Start of a statement that emits bytes: listing record. */
static void stmt_begin(jk_asm *A)
{
    stmt_rec *r;
    A->emitted = 1;
    if (!(A->opt.flags & JK_ASM_LISTING) || A->dead)
        return;
    if (A->nstmts == A->capstmts) {
        size_t nc = A->capstmts ? A->capstmts * 2 : 64;
        stmt_rec *ns = realloc(A->stmts, nc * sizeof *ns);
        if (!ns) {
            (void)err(A, A->st_s, 1, JK_ENOMEM, "out of memory (listing)");
            return;
        }
        A->stmts = ns;
        A->capstmts = nc;
    }
    r = &A->stmts[A->nstmts++];
    memset(r, 0, sizeof *r);
    r->lbl = jk_x86_label(A->x, NULL);
    jk_x86_bind(A->x, r->lbl);
    r->s.line = A->line;
    r->s.col = (unsigned)(A->st_s - A->line_start) + 1u;
    r->s.text = A->st_s;
    r->s.text_len = (size_t)(A->st_e - A->st_s);
    while (r->s.text_len && (r->s.text[r->s.text_len - 1] == ' ' ||
                             r->s.text[r->s.text_len - 1] == '\t' ||
                             r->s.text[r->s.text_len - 1] == '\r'))
        r->s.text_len--;
}

/* Remember where a statement that references labels starts, so an error
 * at finish can be mapped back to it. */
static JK_NOINLINE void where_grow(jk_asm *A)
{
    size_t nc = A->capwhere ? A->capwhere * 2 : 64;
    where_rec *nw = realloc(A->where, nc * sizeof *nw);
    if (!nw) { /* without the record a later error would name the wrong statement */
        (void)err(A, A->st_s, 1, JK_ENOMEM, "out of memory (statement positions)");
        return;
    }
    A->where = nw;
    A->capwhere = nc;
}

static JK_ALWAYS_INLINE void where_note(jk_asm *A, const char *at)
{
    where_rec *w;
    if (A->dead)
        return;
    if (A->nwhere == A->capwhere) {
        where_grow(A);
        if (A->nwhere == A->capwhere)
            return;
    }
    w = &A->where[A->nwhere++];
    w->raw = jk_x86_offset(A->x);
    w->insn = jk_x86_insn_index(A->x);
    w->at = at;
    w->line = A->line;
    w->line_start = A->line_start;
    w->col = at && A->line_start ? (unsigned)(at - A->line_start) + 1u : 0u;
}

static int out_budget(jk_asm *A, size_t more, const char *at, size_t n)
{
    if (jk_x86_offset(A->x) + more > JK_TEXT_MAX_OUTPUT || more > JK_TEXT_MAX_OUTPUT)
        return err(A, at, n, JK_ERANGE, "output too large (limit %zu MiB)",
                   JK_TEXT_MAX_OUTPUT >> 20);
    return 1;
}

/* -- Instructions ------------------------------------------------------------------ */

/* Prefix words of a statement, all bytes in source order (raw[]); what[]
 * tells which of them are lock / rep, which go through the x86 API where it
 * validates them (lock on lockable instructions, rep on string ones), and
 * which is an explicit REX (rex, rex.W, ...), which joins the instruction's
 * own REX right before the opcode, as GNU as places it. */
enum { PW_RAW, PW_LOCK, PW_REP, PW_REX, PW_HLE };
typedef struct pfxs {
    uint8_t raw[15];
    uint8_t what[15];
    unsigned nraw;
    int lock, rep;     /* rep: PFX_REP / PFX_REPE / PFX_REPNE */
    const char *rep_at;
    unsigned hints;    /* pseudo-prefixes and the .s suffix: JK_X86_HINT_* */
} pfxs;

static int fits8(int64_t v) { return v >= -128 && v <= 127; }

/* A branch whose distance from the start of the statement is known. */
static int branch_local(jk_asm *A, unsigned info, jk_x86_mnem id, pfxs *px, int64_t rel,
                        int prov, int nearkw, int shortkw, const char *at, size_t n)
{
    uint8_t b[24];
    unsigned p = 0, len;
    int64_t d;
    /* every prefix as a byte, lock and rep too; a REX last, by the opcode */
    for (unsigned i = 0; i < px->nraw; i++)
        if (px->what[i] != PW_REX)
            b[p++] = px->raw[i];
    for (unsigned i = 0; i < px->nraw; i++)
        if (px->what[i] == PW_REX)
            b[p++] = px->raw[i];
    switch (info) {
    case MI_JMP:
    case MI_JCC: {
        unsigned slen = p + 2, llen = p + (info == MI_JMP ? 5u : 6u);
        int64_t ds = wrap_sub(rel, (int64_t)slen);
        if (!nearkw && (fits8(ds) || shortkw)) {
            if (!fits8(ds) && !prov)
                return err(A, at, n, JK_ERANGE, "short branch target out of range (%lld bytes)",
                           (long long)ds);
            b[p++] = info == MI_JMP ? 0xeb : (uint8_t)(0x70 + A->mcc[id]);
            b[p++] = (uint8_t)(ds & 0xff);
        } else {
            d = wrap_sub(rel, (int64_t)llen);
            if (!fits32(d))
                return err(A, at, n, JK_ERANGE, "branch target out of range");
            if (info == MI_JMP) {
                b[p++] = 0xe9;
            } else {
                b[p++] = 0x0f;
                b[p++] = (uint8_t)(0x80 + A->mcc[id]);
            }
            for (int i = 0; i < 4; i++)
                b[p++] = (uint8_t)((uint64_t)d >> (8 * i));
        }
        break;
    }
    case MI_CALL:
    case MI_XBEGIN:
        len = p + (info == MI_CALL ? 5u : 6u);
        d = wrap_sub(rel, (int64_t)len);
        if (!fits32(d))
            return err(A, at, n, JK_ERANGE, "branch target out of range");
        if (info == MI_CALL) {
            b[p++] = 0xe8;
        } else {
            b[p++] = 0xc7;
            b[p++] = 0xf8;
        }
        for (int i = 0; i < 4; i++)
            b[p++] = (uint8_t)((uint64_t)d >> (8 * i));
        break;
    default: /* loop*, j*cxz: rel8 only */
        if ((info == MI_JECXZ && A->mode == JK_X86_MODE64) ||
            (info == MI_JCXZ && A->mode == JK_X86_MODE32))
            b[p++] = 0x67;
        else if ((info == MI_JRCXZ && A->mode != JK_X86_MODE64) ||
                 (info == MI_JCXZ && A->mode == JK_X86_MODE64))
            return err(A, at, n, JK_ENOFORM, "%s is not available in %d-bit mode",
                       jk_x86_mnem_name(id), A->mode == JK_X86_MODE64 ? 64 : 32);
        len = p + 2;
        d = wrap_sub(rel, (int64_t)len);
        if (!fits8(d) && !prov)
            return err(A, at, n, JK_ERANGE, "%s target out of range (%lld bytes, rel8 only)",
                       jk_x86_mnem_name(id), (long long)d);
        b[p++] = info == MI_LOOP ? A->mcc[id] : 0xe3;
        b[p++] = (uint8_t)(d & 0xff);
        break;
    }
    stmt_begin(A);
    return xok(A, jk_x86_db(A->x, b, p), at, n);
}

/* Emit the statement's prefixes before an instruction the x86 API encodes:
 * lock always through the API, rep through it for string instructions
 * (api_rep); the rest as bytes in source order. */
/* GNU as writes a segment (notrack) prefix before F2/F3 (bnd, rep, HLE)
 * and those before lock, whatever the source order (bnd notrack call rax is
 * 3e f2 ff d0). Segment, 66 and 67 keep their source order: objdump's
 * `data16 cs nop` (66 2e 66 0f 1f ..., which GNU as refuses) round-trips. */
static unsigned pfx_rank(uint8_t b)
{
    switch (b) {
    case 0xf2: case 0xf3: return 1;
    case 0xf0: return 2;
    default: return 0;
    }
}

static int emit_prefixes_slow(jk_asm *A, pfxs *px, int api_rep, int api_lock, const char *at,
                              size_t n)
{
    uint8_t b[15];
    unsigned k = 0, rex = 0;
    for (unsigned i = 0; i < px->nraw; i++)
        if (px->what[i] == PW_REX)
            rex = px->raw[i];
        else if (!((px->what[i] == PW_LOCK && api_lock) || (px->what[i] == PW_REP && api_rep) ||
                   (px->what[i] == PW_HLE && api_lock)))
            b[k++] = px->raw[i];
    /* prefix kinds in GNU as's order (pfx_rank; a stable sort) */
    for (unsigned i = 1; i < k; i++)
        for (unsigned j = i; j > 0 && pfx_rank(b[j - 1]) > pfx_rank(b[j]); j--) {
            uint8_t t = b[j];
            b[j] = b[j - 1];
            b[j - 1] = t;
        }
    if (k && !xok(A, jk_x86_db(A->x, b, k), at, n))
        return 0;
    for (unsigned i = 0; i < px->nraw; i++)
        if (px->what[i] == PW_HLE && api_lock &&
            !xok(A, px->raw[i] == 0xf2 ? jk_x86_xacquire(A->x) : jk_x86_xrelease(A->x), at, n))
            return 0;
    if (px->hints && !xok(A, jk_x86_hint(A->x, px->hints), at, n))
        return 0;
    if (rex && !xok(A, jk_x86_rex(A->x, rex & 15u), at, n))
        return 0;
    if (px->rep && api_rep) {
        jk_status s = px->rep == PFX_REP ? jk_x86_rep(A->x)
                    : px->rep == PFX_REPE ? jk_x86_repe(A->x) : jk_x86_repne(A->x);
        if (!xok(A, s, at, n))
            return 0;
    }
    if (px->lock && api_lock && !xok(A, jk_x86_lock(A->x), at, n))
        return 0;
    return 1;
}

static JK_ALWAYS_INLINE int emit_prefixes(jk_asm *A, pfxs *px, int api_rep, int api_lock,
                                          const char *at, size_t n)
{
    return (px->nraw == 0 && !px->hints) || emit_prefixes_slow(A, px, api_rep, api_lock, at, n);
}

/* Prefixes with nothing after them: plain bytes. */
static int emit_prefix_bytes(jk_asm *A, pfxs *px, const char *at, size_t n)
{
    return xok(A, jk_x86_db(A->x, px->raw, px->nraw), at, n);
}

/* movs/cmps/scas/lods/stos/ins/outs with operands: pick the suffixed form
 * from the operand size, turn a non-default segment into a prefix. */
static int string_insn(jk_asm *A, unsigned which, opnd *ops, unsigned nops, pfxs *px,
                       const char *at, size_t n)
{
    unsigned size = 0;
    char name[8];
    jk_x86_mnem id;
    int a32 = 0;
    for (unsigned i = 0; i < nops; i++) {
        if (ops[i].kind == O_MEM) {
            if (ops[i].size)
                size = ops[i].size;
            if (ops[i].seg >= 0 && ops[i].seg != 0 && ops[i].seg != 3 && px->nraw < 14) {
                static const uint8_t segpfx[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
                px->what[px->nraw] = PW_RAW;
                px->raw[px->nraw++] = segpfx[ops[i].seg];
            }
            if (ops[i].base_rc == JK_X86_RC_GP32 && A->mode == JK_X86_MODE64 && px->nraw < 14 &&
                !a32++) {
                px->what[px->nraw] = PW_RAW;
                px->raw[px->nraw++] = 0x67;
            }
        } else if (ops[i].kind == O_REG && ops[i].op.rclass >= JK_X86_RC_GP8 &&
                   ops[i].op.rclass <= JK_X86_RC_GP64 &&
                   !(which >= 5 && ops[i].op.rclass == JK_X86_RC_GP16 && ops[i].op.reg == 2)) {
            if (!size)
                size = ops[i].op.size;
        }
    }
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return err(A, at, n, JK_EOPERAND, "cannot tell the operand size of '%s'",
                   str_base[which]);
    snprintf(name, sizeof name, "%s%c", str_base[which],
             size == 1 ? 'b' : size == 2 ? 'w' : size == 4 ? 'd' : 'q');
    id = jk_x86_mnem_find(name);
    if (id == JK_X86_MNEM_COUNT)
        return err(A, at, n, JK_ENOFORM, "unknown instruction '%s'", name);
    stmt_begin(A);
    if (!emit_prefixes(A, px, 1, 1, at, n))
        return 0;
    return xok(A, jk_x86_emit(A->x, id, 0, NULL), at, n);
}

/* Point an encoder error at the operand it is about: a register the
 * message names ("rsp cannot be an index"), or the immediate ("imm ...").
 * Leaves at and n (the mnemonic) alone when nothing matches. */
static JK_COLD void blame_operand(jk_asm *A, const opnd *ops, unsigned nops, const char **at,
                                  size_t *n)
{
    const char *m = jk_x86_error(A->x)->message;
    const char *w = m;
    while (*w) {
        const char *e = w;
        while ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9'))
            e++;
        if (e > w && (size_t)(e - w) < 8) {
            uint64_t w0, w1;
            const kw *k;
            kw_pack(A->low, w, (size_t)(e - w), &w0, &w1);
            k = kw_find_w(A, w, (size_t)(e - w), w0, w1);
            if (k && k->kind == KW_REG) {
                for (unsigned i = 0; i < nops; i++)
                    for (size_t j = 0; j + (size_t)(e - w) <= ops[i].n; j++)
                        if (eq_lower(ops[i].s + j, (size_t)(e - w), w, (size_t)(e - w)) &&
                            (j == 0 || !(A->cls[(uint8_t)ops[i].s[j - 1]] & C_ID)) &&
                            (j + (size_t)(e - w) == ops[i].n ||
                             !(A->cls[(uint8_t)ops[i].s[j + (size_t)(e - w)]] & C_ID))) {
                            *at = ops[i].s + j;
                            *n = (size_t)(e - w);
                            return;
                        }
            }
        }
        w = *e ? e + 1 : e;
    }
    if (strstr(m, "imm"))
        for (unsigned i = 0; i < nops; i++)
            if (ops[i].kind == O_EXPR) {
                *at = ops[i].s;
                *n = ops[i].n;
                return;
            }
}

/* L is at the mnemonic, or (mt given: the mnemonic token) just past it. */
static int instruction(lx *L, const kw *mk, unsigned strwhich, pfxs *px, const tok *mt)
{
    jk_asm *A = L->A;
    const char *mat = mt ? mt->s : L->k.s;
    size_t mlen = mt ? mt->n : L->k.n;
    opnd ops[MAX_OPS + 1];
    jk_x86_op xo[MAX_OPS];
    memset(xo, 0, sizeof xo); /* the encoder must not see garbage past n */
    unsigned nops = 0, info = 0;
    jk_x86_mnem id = JK_X86_MNEM_COUNT;
    if (!mt)
        next(L);
    if (mk) {
        id = (jk_x86_mnem)mk->a;
        info = A->minfo[id];
    }
    if (L->k.t != T_EOS) {
        for (;;) {
            const kw *rk = L->k.t == T_ID ? L->k.kw : NULL;
            if (nops == MAX_OPS)
                return err(A, L->k.s, 1, JK_ESYNTAX, "too many operands (at most %d)", MAX_OPS);
            if ((info & MI_BRANCH_MASK) && nops == 0 && L->k.t == T_ID && !rk &&
                peek_char(L) == 0 && !(L->k.n == 1 && (L->k.s[0] == '.' || L->k.s[0] == '$')) &&
                !(L->k.n == 2 && L->k.s[0] == '$' && L->k.s[1] == '$')) {
                /* jne name: a branch to a plain name, the most common
                 * operand after registers */
                opnd *o = &ops[nops];
                memset(o, 0, sizeof *o);
                o->kind = O_EXPR;
                o->seg = -1;
                o->s = L->k.s;
                o->n = L->k.n;
                if (!sym_ref(L, L->k.s, L->k.n, &o->v))
                    return 0;
                next(L);
            } else if (rk && rk->kind == KW_REG && rk->a != JK_X86_RC_SEG &&
                       rk->a != JK_X86_RC_ST && rk->a != JK_X86_RC_IP) {
                /* a plain register, the most common operand: only the fields
                 * an O_REG operand is read for */
                opnd *o = &ops[nops];
                o->kind = O_REG;
                o->op = jk_x86_reg((jk_x86_rclass)rk->a, rk->b);
                o->size = 0;
                o->seg = -1;
                o->s = L->k.s;
                o->n = L->k.n;
                next(L);
            } else if (!operand(L, &ops[nops])) {
                return 0;
            }
            nops++;
            if (L->k.t == T_EOS)
                break;
            if (is_p(L, '{'))
                return err(A, L->k.s, (size_t)(L->e - L->k.s), JK_EUNSUPPORTED,
                           "AVX-512 decorators ({k1}, {z}, ...) are not supported yet");
            if (!is_p(L, ','))
                return bad_tok(L, "',' or end of statement");
            next(L);
        }
    }
    if (strwhich) {
        if (nops == 0)
            return err(A, mat, mlen, JK_EOPERAND, "'%.*s' needs operands or a size suffix",
                       (int)mlen, mat);
        return string_insn(A, strwhich - 1, ops, nops, px, mat, mlen);
    }

    /* branches to an expression */
    if ((info & MI_BRANCH_MASK) && nops == 1 && ops[0].kind == O_EXPR && !ops[0].bare) {
        opnd *o = &ops[0];
        unsigned bi = info & MI_BRANCH_MASK;
        if (px->hints & JK_X86_HINT_DISP32) /* {disp32} jmp: the rel32 form, as near */
            o->nearkw = 1;
        if (o->v.sym) {
            /* an index, not a pointer: cur_dot and sym_label below may
             * grow A->syms */
            uint32_t si = o->v.sym;
            uint8_t kind = A->syms[si].kind;
            if (si != A->st_dot && !o->shortkw &&
                (kind == SYM_LABEL || kind == SYM_UNDEF || kind == SYM_EXTERN)) {
                /* label + k: the x86 assembler relaxes it like any branch
                 * (sizes only grow, so the layout always settles) */
                jk_label l = sym_label(A, si);
                jk_x86_op t;
                if (o->v.k)
                    l = jk_x86_label_plus(A->x, l, o->v.k);
                t = o->nearkw ? jk_x86_lbl_near(l) : jk_x86_lbl(l);
                A->syms[si].as_label = 1;
                stmt_begin(A);
                where_note(A, mat);
                if (!emit_prefixes(A, px, 0, 0, mat, mlen))
                    return 0;
                return xok(A, jk_x86_emit(A->x, id, 1, &t), mat, mlen);
            }
            {
                /* '.' + k, or a short branch to label + k: the distance
                 * from this statement decides, and the size is fixed (a
                 * short branch is always 2 bytes) */
                int64_t rel;
                uint8_t prov = o->v.prov;
                if (si == A->st_dot) {
                    rel = o->v.k;
                } else {
                    uint32_t d = cur_dot(A);
                    int64_t to, from;
                    if (!d)
                        return err(A, mat, mlen, JK_ENOMEM, "out of memory");
                    to = sym_off(A, si, &prov);
                    from = sym_off(A, d, &prov);
                    if (A->syms[si].kind == SYM_UNDEF && A->syms[si].def_pass != A->pass)
                        A->syms[si].as_label = 1; /* reported as undefined at the end of the pass */
                    rel = wrap_add(wrap_sub(to, from), o->v.k);
                }
                return branch_local(A, bi, id, px, rel, prov, o->nearkw, o->shortkw, mat, mlen);
            }
        }
        /* absolute address */
        {
            jk_label l = jk_x86_label_abs(A->x, (uint64_t)o->v.k);
            jk_x86_op t = jk_x86_lbl(l);
            stmt_begin(A);
            if (!emit_prefixes(A, px, 0, 0, mat, mlen))
                return 0;
            return xok(A, jk_x86_emit(A->x, id, 1, &t), mat, mlen);
        }
    }

    if (id == JK_X86_MNEM_COUNT)
        return err(A, mat, mlen, JK_ENOFORM, "unknown instruction '%.*s'", (int)mlen, mat);

    for (unsigned i = 0; i < nops; i++) {
        opnd *o = &ops[i];
        switch (o->kind) {
        case O_REG:
            if (o->size && o->size != o->op.size && o->op.rclass <= JK_X86_RC_GP64)
                return err(A, o->s, o->n, JK_EOPERAND, "size keyword does not match register");
            xo[i] = o->op;
            break;
        case O_MEM:
            if (!mem_op(A, o, &xo[i]))
                return 0;
            if (o->v.sym)
                where_note(A, mat);
            break;
        default: /* O_EXPR */
            if (o->v.sym) {
                /* safe to hold: mem_op and sym_label add no text symbols */
                sym *s = &A->syms[o->v.sym];
                int is_label = s->kind != SYM_CONST;
                if (o->bare || (is_label && !o->offsetkw &&
                                A->opt.syntax == JK_ASM_SYNTAX_GNU)) {
                    /* GNU: a bare label is the memory at that label */
                    o->kind = O_MEM;
                    if (!mem_op(A, o, &xo[i]))
                        return 0;
                    where_note(A, mat);
                    break;
                }
                /* offset label (GNU), label (NASM): the address as an
                 * immediate, relocated at install */
                if (!is_label && o->v.sym != A->start_sym)
                    return err(A, o->s, o->n, JK_EOPERAND, "bad address expression");
                if (!fits32(o->v.k))
                    return err(A, o->s, o->n, JK_ERANGE, "address offset out of range");
                s->as_label = 1;
                xo[i] = jk_x86_imm_label(sym_label(A, o->v.sym), (int32_t)o->v.k);
                where_note(A, mat);
                break;
            }
            if (o->bare) {
                o->kind = O_MEM;
                if (!mem_op(A, o, &xo[i]))
                    return 0;
                break;
            }
            xo[i] = jk_x86_imm(o->v.k);
            break;
        }
    }
    /* xlat BYTE PTR ds:[rbx] (objdump): the operand is implicit */
    if ((unsigned)id == A->xlat_id && nops == 1 && ops[0].kind == O_MEM && ops[0].base_rc &&
        ops[0].base == 3 && !ops[0].idx_rc && ops[0].v.k == 0 && !ops[0].v.sym) {
        static const uint8_t segpfx[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
        if (ops[0].seg >= 0 && ops[0].seg != 3 && px->nraw < 14) {
            px->what[px->nraw] = PW_RAW;
            px->raw[px->nraw++] = segpfx[ops[0].seg];
        }
        if (ops[0].base_rc == JK_X86_RC_GP32 && A->mode == JK_X86_MODE64 && px->nraw < 14) {
            px->what[px->nraw] = PW_RAW;
            px->raw[px->nraw++] = 0x67;
        }
        nops = 0;
    }
    /* mov reg, [mem] / mov [mem], reg: the memory has the register's size
     * (lets the encoder pick the moffs form for absolute addresses, as GNU
     * as does for `mov eax, ds:0x10`) */
    if (((unsigned)id == A->mov_id || (unsigned)id == A->movabs_id) && nops == 2) {
        for (unsigned i = 0; i < 2; i++)
            if (xo[i].kind == JK_X86_OP_MEM && xo[i].size == 0 &&
                xo[1 - i].kind == JK_X86_OP_REG && xo[1 - i].rclass >= JK_X86_RC_GP8 &&
                xo[1 - i].rclass <= JK_X86_RC_GP64)
                xo[i].size = xo[1 - i].size;
    }
    /* jmp / call / push / pop [mem]: the mode's word, as GNU as takes it
     * (jmp [table + rax*8]) */
    if (nops == 1 && xo[0].kind == JK_X86_OP_MEM && xo[0].size == 0 &&
        ((info & MI_BRANCH_MASK) == MI_JMP || (info & MI_BRANCH_MASK) == MI_CALL ||
         (unsigned)id == A->push_id || (unsigned)id == A->pop_id))
        xo[0].size = A->mode == JK_X86_MODE64 ? 8 : 4;
    /* addr32 alone (64-bit mode) before an instruction whose memory is an
     * absolute address or 32-bit registers: the encoder's addr32, which
     * makes an absolute address 32 bits wide (the moffs forms take a 4-byte
     * one) and adds no second 0x67 to 32-bit registers. Elsewhere it stays a
     * byte in source order, as objdump prints it. */
    if (A->mode == JK_X86_MODE64 && px->nraw == 1 && px->what[0] == PW_RAW &&
        px->raw[0] == 0x67 && !(info & MI_STRING)) {
        int abs = 0, bad = 0; /* memory the encoder takes addr32 with */
        for (unsigned i = 0; i < nops; i++) {
            if (xo[i].kind != JK_X86_OP_MEM)
                continue;
            abs = 1;
            bad |= (xo[i].flags & JK_X86_MEM_LABEL) ||
                   (xo[i].rclass != JK_X86_RC_NONE && xo[i].rclass != JK_X86_RC_GP32) ||
                   (xo[i].iclass != JK_X86_RC_NONE && xo[i].iclass != JK_X86_RC_GP32 &&
                    xo[i].iclass != JK_X86_RC_XMM && xo[i].iclass != JK_X86_RC_YMM); /* VSIB */
        }
        abs &= !bad;
        for (unsigned i = 0; abs && i < px->nraw; i++) {
            if (px->what[i] == PW_RAW && px->raw[i] == 0x67) {
                memmove(px->raw + i, px->raw + i + 1, px->nraw - i - 1);
                memmove(px->what + i, px->what + i + 1, px->nraw - i - 1);
                px->nraw--;
                stmt_begin(A);
                if (!emit_prefixes(A, px, 0, 1, mat, mlen) ||
                    !xok(A, jk_x86_addr32(A->x), mat, mlen))
                    return 0;
                goto emit;
            }
        }
    }
    stmt_begin(A);
    if (!emit_prefixes(A, px, (info & MI_STRING) != 0, 1, mat, mlen))
        return 0;
emit:
    {
        jk_status st = jk_x86_emit(A->x, id, nops, xo);
        if (st != JK_OK && !A->st_failed)
            blame_operand(A, ops, nops, &mat, &mlen);
        return xok(A, st, mat, mlen);
    }
}

/* -- Directives ------------------------------------------------------------------- */

typedef struct dbuf {
    uint8_t b[512];
    size_t n;
} dbuf;

static int dflush(jk_asm *A, dbuf *d, const char *at, size_t n)
{
    if (!d->n)
        return 1;
    if (!out_budget(A, d->n, at, n))
        return 0;
    if (!xok(A, jk_x86_db(A->x, d->b, d->n), at, n))
        return 0;
    d->n = 0;
    return 1;
}

static int dput(jk_asm *A, dbuf *d, uint64_t v, unsigned size, const char *at, size_t n)
{
    if (d->n + size > sizeof d->b && !dflush(A, d, at, n))
        return 0;
    for (unsigned i = 0; i < size; i++)
        d->b[d->n++] = (uint8_t)(v >> (8 * i));
    return 1;
}

static int data_dir(lx *L, unsigned size, int nasm_style)
{
    jk_asm *A = L->A;
    dbuf d;
    const char *dat = L->k.s;
    d.n = 0;
    next(L);
    stmt_begin(A);
    if (L->k.t == T_EOS)
        return 1;
    for (;;) {
        const char *at = L->k.s;
        if (L->k.t == T_STR && (size == 1 || nasm_style)) {
            uint8_t sb[4096];
            long sn = decode_str(L, &L->k, sb, sizeof sb);
            lx save;
            if (sn < 0)
                return 0;
            save = *L;
            next(L);
            if (L->k.t == T_EOS || is_p(L, ',')) {
                for (long i = 0; i < sn; i++)
                    if (!dput(A, &d, sb[i], 1, at, 1))
                        return 0;
                /* NASM pads strings in dw/dd/dq to the unit size */
                for (size_t pad = (size_t)sn % size ? size - (size_t)sn % size : 0; pad; pad--)
                    if (!dput(A, &d, 0, 1, at, 1))
                        return 0;
                goto sep;
            }
            *L = save;
        }
        {
            val v;
            if (!expr(L, 0, &v))
                return 0;
            if (v.sym) {
                /* safe to hold: dflush, where_note and sym_label add no text
                 * symbols */
                sym *s = &A->syms[v.sym];
                if (size != (A->mode == JK_X86_MODE64 ? 8u : 4u))
                    return err(A, at, (size_t)(L->k.s - at), JK_EOPERAND,
                               "the address of a label needs %u bytes here",
                               A->mode == JK_X86_MODE64 ? 8u : 4u);
                if (!dflush(A, &d, dat, 1))
                    return 0;
                s->as_label = 1;
                where_note(A, at);
                if (!xok(A, jk_x86_dlabel(A->x, sym_label(A, v.sym), v.k), at,
                         (size_t)(L->k.s - at)))
                    return 0;
            } else {
                if (size < 8 && !v.prov) {
                    int64_t lo = -((int64_t)1 << (8 * size - 1));
                    int64_t hi = ((int64_t)1 << (8 * size)) - 1;
                    if (v.k < lo || v.k > hi)
                        return err(A, at, (size_t)(L->k.s - at), JK_ERANGE,
                                   "value %lld does not fit in %u byte%s", (long long)v.k, size,
                                   size > 1 ? "s" : "");
                }
                if (!dput(A, &d, (uint64_t)v.k, size, at, 1))
                    return 0;
            }
        }
    sep:
        if (L->k.t == T_EOS)
            break;
        if (!is_p(L, ','))
            return bad_tok(L, "',' or end of statement");
        next(L);
    }
    return dflush(A, &d, dat, 1);
}

static int ascii_dir(lx *L, int zero)
{
    jk_asm *A = L->A;
    next(L);
    stmt_begin(A);
    for (;;) {
        uint8_t sb[4096];
        long sn;
        if (L->k.t != T_STR)
            return bad_tok(L, "a string");
        sn = decode_str(L, &L->k, sb, sizeof sb - 1);
        if (sn < 0)
            return 0;
        if (zero)
            sb[sn++] = 0;
        if (!out_budget(A, (size_t)sn, L->k.s, L->k.n) ||
            !xok(A, jk_x86_db(A->x, sb, (size_t)sn), L->k.s, L->k.n))
            return 0;
        next(L);
        if (L->k.t == T_EOS)
            return 1;
        if (!is_p(L, ','))
            return bad_tok(L, "',' or end of statement");
        next(L);
    }
}

static int fill_bytes(jk_asm *A, uint64_t count, unsigned size, uint64_t value, const char *at,
                      size_t n)
{
    uint8_t chunk[4096];
    uint64_t total;
    if (count > FILL_MAX || (uint64_t)size * count > FILL_MAX)
        return err(A, at, n, JK_ERANGE, "fill too large (limit %u MiB per directive)",
                   (unsigned)(FILL_MAX >> 20));
    total = count * size;
    if (!out_budget(A, (size_t)total, at, n))
        return 0;
    stmt_begin(A);
    if (A->dead)
        return 1; /* only looking for further errors: no need for the bytes */
    /* a repeating pattern of `size` bytes, written a chunk at a time */
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)(value >> (8 * (i % size)));
    while (total) {
        size_t k = total > sizeof chunk - sizeof chunk % size ? sizeof chunk - sizeof chunk % size
                                                              : (size_t)total;
        if (!xok(A, jk_x86_db(A->x, chunk, k), at, n))
            return 0;
        total -= k;
    }
    return 1;
}

static int set_sym(lx *L, const char *name, size_t n, int equiv)
{
    jk_asm *A = L->A;
    const char *at = L->k.s;
    val v;
    uint32_t i;
    sym *s;
    if (!expr(L, 0, &v))
        return 0;
    if (L->k.t != T_EOS)
        return bad_tok(L, "end of statement");
    i = sym_get(A, name, n);
    if (!i)
        return err(A, at, 1, JK_ENOMEM, "out of memory");
    s = &A->syms[i];
    if (s->kind == SYM_LABEL)
        return err(A, name, n, JK_ELABEL, "'%.*s' is already a label", (int)n, name);
    if (equiv && s->def_pass == A->pass)
        return err(A, name, n, JK_ELABEL, "'%.*s' is already defined", (int)n, name);
    if (v.sym == A->st_dot && v.sym) {
        /* `.set x, .` names this position; keep the hidden label */
    }
    if (s->def_pass != A->pass) {
        if (!s->has_val || s->v.k != v.k || s->v.sym != v.sym)
            A->changed = 1;
    }
    s->kind = SYM_CONST;
    s->has_val = 1;
    s->v = v;
    s->def_pass = A->pass;
    return 1;
}

static int mode_switch(jk_asm *A, jk_x86_mode m, const char *at, size_t n)
{
    if (m == A->mode)
        return 1;
    if (A->emitted)
        return err(A, at, n, JK_EUNSUPPORTED,
                   "cannot switch between 32- and 64-bit mode after code was emitted");
    {
        jk_x86_asm *nx;
        if (jk_x86_new(&nx, m, NULL) != JK_OK)
            return err(A, at, n, JK_ENOMEM, "out of memory");
        jk_x86_free(A->x);
        A->x = nx;
        A->mode = m;
        A->gen++;
        A->nstmts = 0;
        A->nwhere = 0;
        if (A->res_fn)
            jk_x86_set_resolver(A->x, A->res_fn, A->res_ctx);
        /* '$$' must be re-bound in the new assembler */
        A->syms[A->start_sym].def_pass = A->pass;
        jk_x86_bind(A->x, sym_label(A, A->start_sym));
    }
    return 1;
}

static int statement(jk_asm *A, const char *s, const char *e, int depth);
typedef struct macro_def macro_def;
static int numlog_add(jk_asm *A, unsigned v);
static macro_def *macro_find(jk_asm *A, const char *n, size_t nl);
static int macro_call(jk_asm *A, const macro_def *m, const char *at, size_t atn, const char *q,
                      const char *e);
static const char *stmt_end(const jk_asm *A, const char *p, const char *le, int *comment);

/* -- Functions: .cfi_* verbs, .type and .size ------------------------------------
 * Each verb is kept with a label bound where it stands; after the last
 * pass the labels give the offsets and the verbs become a jk_cfi per
 * .cfi_startproc ... .cfi_endproc range (build_funcs). */
enum {
    CF_START, CF_END, CF_DEF_CFA, CF_DEF_OFF, CF_DEF_REG, CF_ADJ, CF_OFFSET, CF_REL_OFFSET,
    CF_RESTORE, CF_REMEMBER, CF_RESTORE_STATE, CF_UNDEF, CF_SAME, CF_UNSUPPORTED
};

typedef struct cfi_op {
    uint8_t verb;
    uint8_t mode64;
    jk_label at;
    unsigned reg;
    int64_t off;
    const char *src, *line_start; /* for a diagnostic after the last pass */
    size_t n;
    unsigned line;
} cfi_op;

typedef struct fn_rec {
    uint32_t sym;
    uint8_t is_func, has_size;
    uint64_t size;
} fn_rec;

/* A register operand of a .cfi verb: a name (rbp, %rbp, xmm3, rip) or a
 * DWARF number. */
static int cfi_reg(lx *L, unsigned *reg)
{
    jk_asm *A = L->A;
    if (L->k.t == T_NUM) {
        if (L->k.v > 127)
            return err(A, L->k.s, L->k.n, JK_ERANGE, "register number %llu out of range (0..127)",
                       (unsigned long long)L->k.v);
        *reg = (unsigned)L->k.v;
        next(L);
        return 1;
    }
    {
        const char *s = L->k.s;
        size_t n = L->k.n;
        char buf[16];
        int r;
        if (is_p(L, '%')) { /* %rbp */
            next(L);
            s = L->k.s - 1;
            n = L->k.n + 1;
        }
        if (L->k.t != T_ID || n >= sizeof buf)
            return bad_tok(L, "a register");
        memcpy(buf, s, n);
        buf[n] = 0;
        r = jk_dw_reg_find(A->mode == JK_X86_MODE64, buf);
        if (r < 0)
            return err(A, s, n, JK_EOPERAND, "'%.*s' is not a register the unwind rules can name",
                       (int)n, s);
        *reg = (unsigned)r;
        next(L);
        return 1;
    }
}

static int cfi_dir(lx *L, const char *at, size_t an)
{
    static const struct { const char *n; uint8_t verb; const char *args; } verbs[] = {
        {".cfi_startproc", CF_START, ""},        {".cfi_endproc", CF_END, ""},
        {".cfi_def_cfa", CF_DEF_CFA, "ro"},      {".cfi_def_cfa_offset", CF_DEF_OFF, "o"},
        {".cfi_def_cfa_register", CF_DEF_REG, "r"}, {".cfi_adjust_cfa_offset", CF_ADJ, "o"},
        {".cfi_offset", CF_OFFSET, "ro"},        {".cfi_rel_offset", CF_REL_OFFSET, "ro"},
        {".cfi_restore", CF_RESTORE, "r"},       {".cfi_remember_state", CF_REMEMBER, ""},
        {".cfi_restore_state", CF_RESTORE_STATE, ""}, {".cfi_undefined", CF_UNDEF, "r"},
        {".cfi_same_value", CF_SAME, "r"},
    };
    jk_asm *A = L->A;
    cfi_op op;
    size_t i;
    memset(&op, 0, sizeof op);
    op.verb = CF_UNSUPPORTED;
    for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (eq_lower(at, an, verbs[i].n, strlen(verbs[i].n))) {
            op.verb = verbs[i].verb;
            break;
        }
    if (op.verb == CF_UNSUPPORTED)
        return err(A, at, an, JK_EUNSUPPORTED,
                   "'%.*s' is not supported (the unwind rules would lose its meaning)", (int)an,
                   at);
    if (A->deferring)
        return err(A, at, an, JK_ESYNTAX, "'%.*s' in a data section", (int)an, at);
    if (op.verb == CF_START && A->in_proc)
        return err(A, at, an, JK_ESYNTAX, "'.cfi_startproc' before the '.cfi_endproc' of the last");
    if (op.verb != CF_START && !A->in_proc)
        return err(A, at, an, JK_ESYNTAX, "'%.*s' outside '.cfi_startproc' ... '.cfi_endproc'",
                   (int)an, at);
    next(L);
    for (const char *g = verbs[i].args; *g; g++) {
        if (g != verbs[i].args) {
            if (!is_p(L, ','))
                return bad_tok(L, "','");
            next(L);
        }
        if (*g == 'r') {
            if (!cfi_reg(L, &op.reg))
                return 0;
        } else {
            val v;
            if (!const_expr(L, &v, "the offset"))
                return 0;
            if (v.k < INT32_MIN || v.k > INT32_MAX)
                return err(A, at, an, JK_ERANGE, "offset %lld out of range", (long long)v.k);
            op.off = v.k;
        }
    }
    if (op.verb == CF_START && L->k.t == T_ID && eq_lower(L->k.s, L->k.n, "simple", 6))
        return err(A, L->k.s, L->k.n, JK_EUNSUPPORTED,
                   "'.cfi_startproc simple' is not supported (the rules start from the call's)");
    if (L->k.t != T_EOS)
        return bad_tok(L, "end of statement");
    A->in_proc = op.verb != CF_END;
    if (A->ncfi == A->capcfi) {
        size_t nc = A->capcfi ? A->capcfi * 2 : 32;
        cfi_op *no = realloc(A->cfi_ops, nc * sizeof *no);
        if (!no)
            return err(A, at, an, JK_ENOMEM, "out of memory");
        A->cfi_ops = no;
        A->capcfi = nc;
    }
    op.mode64 = A->mode == JK_X86_MODE64;
    op.at = jk_x86_label(A->x, NULL);
    if (!op.at || jk_x86_bind(A->x, op.at) != JK_OK)
        return xok(A, jk_x86_status(A->x), at, an);
    op.src = at;
    op.n = an;
    op.line_start = A->line_start;
    op.line = A->line;
    A->cfi_ops[A->ncfi++] = op;
    return 1;
}

/* .type name, @function / .size name, expr */
static int type_size_dir(lx *L, int size, const char *at, size_t an)
{
    jk_asm *A = L->A;
    tok name;
    uint32_t si;
    fn_rec *r = NULL;
    next(L);
    if (L->k.t != T_ID)
        return bad_tok(L, "a symbol name");
    name = L->k;
    next(L);
    if (is_p(L, ','))
        next(L);
    si = sym_get_w(A, name.s, name.n, name.w0, name.w1);
    if (!si)
        return err(A, at, an, JK_ENOMEM, "out of memory");
    for (size_t i = A->nfnrecs; i-- > 0;)
        if (A->fnrecs[i].sym == si) {
            r = &A->fnrecs[i];
            break;
        }
    if (!r) {
        if (A->nfnrecs == A->capfnrecs) {
            size_t nc = A->capfnrecs ? A->capfnrecs * 2 : 16;
            fn_rec *nr = realloc(A->fnrecs, nc * sizeof *nr);
            if (!nr)
                return err(A, at, an, JK_ENOMEM, "out of memory");
            A->fnrecs = nr;
            A->capfnrecs = nc;
        }
        r = &A->fnrecs[A->nfnrecs++];
        memset(r, 0, sizeof *r);
        r->sym = si;
    }
    if (size) {
        val v;
        /* r points into A->fnrecs, which expressions do not grow */
        if (!const_expr(L, &v, "the size"))
            return 0;
        if (v.k < 0 && !v.prov)
            return err(A, at, an, JK_ERANGE, "negative size");
        r->has_size = 1;
        r->size = v.k < 0 ? 0 : (uint64_t)v.k;
    } else {
        /* @function, %function, STT_FUNC, function; other types are only
         * accepted */
        const char *t = L->k.s;
        size_t n = L->k.n;
        if (L->k.t == T_P && (L->k.c == '@' || L->k.c == '%')) {
            next(L);
            t = L->k.s;
            n = L->k.n;
        }
        if (L->k.t == T_STR) {
            t = L->k.s + 1;
            n = L->k.n >= 2 ? L->k.n - 2 : 0;
        } else if (L->k.t != T_ID) {
            return bad_tok(L, "a symbol type (@function, @object...)");
        } else if (n && (*t == '@' || *t == '%')) {
            t++;
            n--;
        }
        r->is_func |= eq_lower(t, n, "function", 8) || eq_lower(t, n, "stt_func", 8) ||
                      eq_lower(t, n, "gnu_indirect_function", 21);
        next(L);
    }
    if (L->k.t != T_EOS)
        return bad_tok(L, "end of statement");
    return 1;
}

/* -- Sections ------------------------------------------------------------------
 * The code and the data sections are laid out one after the other: .text,
 * then .rodata, .data and .bss, each from a multiple of 16 bytes (or of
 * the largest alignment asked for in it), padded with zeros. A statement
 * in a data section is deferred - kept as text - and run after the code
 * in the same pass, so its labels and `.` are where it will be. Block
 * directives and macros still run where they stand (their statements are
 * deferred one by one). Everything is in the one image: the data sections
 * are read-only once installed, like the code. */
typedef struct defer_rec {
    const char *p, *e, *line_start, *le, *src_end;
    const char *sname;          /* S_OTHER: the section's name */
    size_t sname_len;
    unsigned line;
    uint8_t sect;
    uint8_t nres;               /* numeric labels it defines, counted at deferral */
    size_t logpos;              /* numeric label log position before them */
} defer_rec;

/* The section a name stands for. */
static uint8_t section_of(const char *n, size_t len)
{
    static const struct { const char *p; uint8_t len, s; } pre[] = {
        {".text", 5, S_TEXT}, {".rodata", 7, S_RODATA}, {".data", 5, S_DATA},
        {".bss", 4, S_BSS}, {"text", 4, S_TEXT}, {"rodata", 6, S_RODATA},
        {"data", 4, S_DATA}, {"bss", 3, S_BSS},
    };
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (len >= pre[i].len && memcmp(n, pre[i].p, pre[i].len) == 0 &&
            (len == pre[i].len || n[pre[i].len] == '.'))
            return pre[i].s;
    return S_OTHER;
}

static void set_section(jk_asm *A, uint8_t s, const char *n, size_t len)
{
    A->prev_sect = A->sect;
    A->sect = s;
    A->sect_name = n;
    A->sect_name_len = len;
}

/* .section NAME[, flags...] / .text / .data / .bss / .previous /
 * .pushsection NAME / .popsection (and NASM's section / segment NAME). */
static int section_dir(jk_asm *A, unsigned d, const char *at, size_t an, const char *e)
{
    const char *q = at + an, *n;
    size_t len;
    if (A->deferring)
        return err(A, at, an, JK_EUNSUPPORTED,
                   "a section change in a statement run with a data section (a macro invoked "
                   "after a label there)");
    if (d == D_TEXT || d == D_DATA || d == D_BSS) {
        set_section(A, d == D_TEXT ? S_TEXT : d == D_DATA ? S_DATA : S_BSS, at, an);
        return 1;
    }
    if (d == D_PREVIOUS) {
        uint8_t s = A->prev_sect;
        set_section(A, s, at, an);
        return 1;
    }
    if (d == D_POPSECTION) {
        if (!A->nsstack)
            return err(A, at, an, JK_ESYNTAX, "'.popsection' without '.pushsection'");
        set_section(A, A->sstack[--A->nsstack], at, an);
        return 1;
    }
    if (an == 7 && eq_lower(at, an, ".rodata", 7)) {
        set_section(A, S_RODATA, at, an);
        return 1;
    }
    while (q < e && (*q == ' ' || *q == '\t'))
        q++;
    if (q < e && *q == '"')
        q++;
    n = q;
    while (q < e && *q != ',' && *q != ' ' && *q != '\t' && *q != '"' && *q != '\r' &&
           *q != ']')
        q++;
    len = (size_t)(q - n);
    if (!len)
        return err(A, at, an, JK_ESYNTAX, "expected a section name");
    if (d == D_PUSHSECTION) {
        if (A->nsstack == sizeof A->sstack)
            return err(A, at, an, JK_ERANGE, "sections pushed too deeply (limit %zu)",
                       sizeof A->sstack);
        A->sstack[A->nsstack++] = A->sect;
    }
    set_section(A, section_of(n, len), n, len);
    return 1;
}

/* Is the statement [p, e) a section directive? (Those run at once, also in
 * a data section.) */
static int section_word(const char *p, const char *e)
{
    static const char *const w[] = {".section", ".text", ".data", ".bss", ".previous",
                                    ".pushsection", ".popsection", ".rodata", "section",
                                    "segment", "[section", "[segment"};
    const char *q;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    q = p;
    while (q < e && *q != ' ' && *q != '\t' && *q != '\r')
        q++;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (eq_lower(p, (size_t)(q - p), w[i], strlen(w[i])))
            return 1;
    return 0;
}

/* Defer [p, e) of the current line to its section's turn. */
static void defer_stmt(jk_asm *A, const char *p, const char *e)
{
    defer_rec *r;
    if (A->ndefer == A->capdefer) {
        size_t nc = A->capdefer ? A->capdefer * 2 : 64;
        defer_rec *nd = realloc(A->defer, nc * sizeof *nd);
        if (!nd) {
            err(A, p, 1, JK_ENOMEM, "out of memory");
            return;
        }
        A->defer = nd;
        A->capdefer = nc;
    }
    r = &A->defer[A->ndefer++];
    r->p = p;
    r->e = e;
    r->line_start = A->line_start;
    r->le = A->cur_le;
    r->src_end = A->src_end;
    r->line = A->line;
    r->sect = A->sect;
    r->sname = A->sect_name;
    r->sname_len = A->sect_name_len;
    r->logpos = A->nnumlog;
    r->nres = 0;
    /* Numeric labels count in source order: the ones this statement
     * defines (`1:` before it) are counted now, and when it runs the
     * counts are put back as they were here, so `1f` / `1b` in it and
     * around it mean what they mean where it stands. */
    for (const char *q = p;;) {
        uint64_t v = 0;
        const char *d;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        d = q;
        while (q < e && *q >= '0' && *q <= '9' && v < NUMLBL_MAX)
            v = v * 10 + (uint64_t)(*q++ - '0');
        if (q == d || v >= NUMLBL_MAX)
            break;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= e || *q != ':' || r->nres == 255)
            break;
        q++;
        if (!A->numcnt && !(A->numcnt = calloc(NUMLBL_MAX, sizeof *A->numcnt)))
            break;
        A->numcnt[v]++;
        if (v >= A->numhi)
            A->numhi = (size_t)v + 1;
        if (!numlog_add(A, (unsigned)v))
            break;
        r->nres++;
    }
}

static void fix_stmt_texts(jk_asm *A, size_t first, const char *se);

/* Run the deferred statements after the code, section by section. */
static void run_deferred(jk_asm *A)
{
    for (uint8_t s = S_RODATA; s <= S_OTHER && !A->stop; s++) {
        int started = 0;
        size_t t = 0; /* numeric label log replayed up to here */
        if (A->numcnt)
            memset(A->numcnt, 0, A->numhi * sizeof *A->numcnt);
        for (size_t i = 0; i < A->ndefer && !A->stop; i++) {
            /* r stays valid: nothing is deferred while deferring */
            const defer_rec *r = &A->defer[i];
            size_t first = A->nstmts;
            if (r->sect != s)
                continue;
            for (; t < r->logpos; t++)
                A->numcnt[A->numlog[t]]++;
            t = r->logpos + r->nres; /* its own definitions count as it runs */
            A->line = r->line;
            A->line_start = r->line_start;
            A->cur_le = r->le;
            A->src_end = r->src_end;
            A->st_failed = 0;
            A->eos_at = NULL;
            if (s == S_OTHER) {
                const char *q = r->p;
                while (q < r->e && (*q == ' ' || *q == '\t' || *q == '\r'))
                    q++;
                err(A, q, (size_t)(r->e - q) ? (size_t)(r->e - q) : 1, JK_EUNSUPPORTED,
                    "section '%.*s' is not placed (only .text, .rodata, .data and .bss are)",
                    (int)r->sname_len, r->sname);
                continue;
            }
            if (!started) {
                unsigned al = A->sect_align[s] > 16 ? A->sect_align[s] : 16;
                started = 1;
                A->deferring = 1;
                A->run_sect = s;
                jk_x86_align_fill(A->x, al, JK_X86_ALIGN_ANY, 0);
            }
            statement(A, r->p, r->e, 0);
            fix_stmt_texts(A, first, r->e);
        }
        A->deferring = 0;
    }
    /* a section's start alignment comes from the last pass: another pass
     * when it changed */
    for (int s = 0; s < 4; s++) {
        if (A->sect_align_now[s] != A->sect_align[s]) {
            A->sect_align[s] = A->sect_align_now[s];
            A->layout_used = 1;
            A->changed = 1;
        }
        A->sect_align_now[s] = 0;
    }
}

static int directive(lx *L, const kw *k)
{
    jk_asm *A = L->A;
    const char *at = L->k.s;
    size_t an = L->k.n;
    int nasm = at[0] != '.';
    switch (k->a) {
    case D_BYTE: return data_dir(L, 1, nasm);
    case D_WORD: return data_dir(L, 2, nasm);
    case D_LONG: return data_dir(L, 4, nasm);
    case D_QUAD: return data_dir(L, 8, nasm);
    case D_ASCII: return ascii_dir(L, 0);
    case D_ASCIZ: return ascii_dir(L, 1);
    case D_ZERO: case D_FILL: {
        val cnt, sz = vnum(1), fv = vnum(0);
        next(L);
        if (!const_expr(L, &cnt, "the count"))
            return 0;
        if (is_p(L, ',')) {
            next(L);
            if (!const_expr(L, k->a == D_FILL ? &sz : &fv, k->a == D_FILL ? "the size" : "the value"))
                return 0;
            if (k->a == D_FILL && is_p(L, ',')) {
                next(L);
                if (!const_expr(L, &fv, "the value"))
                    return 0;
            }
        }
        if (L->k.t != T_EOS)
            return bad_tok(L, "end of statement");
        if (cnt.k < 0 && !cnt.prov)
            return err(A, at, an, JK_ERANGE, "negative count");
        if (sz.k < 0 || sz.k > 8)
            return err(A, at, an, JK_ERANGE, "fill size must be 0..8");
        if (cnt.k <= 0 || sz.k == 0)
            return 1;
        return fill_bytes(A, (uint64_t)cnt.k, (unsigned)sz.k, (uint64_t)fv.k, at, an);
    }
    case D_ALIGN: case D_P2ALIGN: case D_NALIGN: {
        val v;
        uint64_t al;
        unsigned max_skip = JK_X86_ALIGN_ANY;
        int fill = JK_X86_ALIGN_NOPS, explicit_nop = 0;
        next(L);
        if (!const_expr(L, &v, "the alignment"))
            return 0;
        if (k->a == D_P2ALIGN) {
            if (v.k < 0 || v.k > 12)
                return err(A, at, an, JK_ERANGE, "alignment 2^%lld out of range (max 2^12)",
                           (long long)v.k);
            al = (uint64_t)1 << v.k;
        } else {
            if (v.k <= 0 || v.k > 4096 || (v.k & (v.k - 1)))
                return err(A, at, an, JK_ERANGE, "alignment must be a power of two 1..4096");
            al = (uint64_t)v.k;
        }
        if (is_p(L, ',')) {
            /* fill value (empty: NOPs in code) and max skip */
            next(L);
            if (!is_p(L, ',') && L->k.t != T_EOS) {
                if (k->a == D_NALIGN) {
                    /* NASM: align 16, nop / db 0 */
                    L->k.t = T_EOS;
                } else {
                    val fv;
                    if (!const_expr(L, &fv, "the fill value"))
                        return 0;
                    if (fv.k < -128 || fv.k > 255)
                        return err(A, at, an, JK_ERANGE, "fill value %lld does not fit in a byte",
                                   (long long)fv.k);
                    /* as GNU as: the NOP byte asks for the code filler */
                    fill = (fv.k & 0xff) == 0x90 ? JK_X86_ALIGN_NOPS : (int)(fv.k & 0xff);
                    explicit_nop = fill == JK_X86_ALIGN_NOPS;
                }
            }
            if (is_p(L, ',')) {
                val mx;
                next(L);
                if (!const_expr(L, &mx, "the maximum skip"))
                    return 0;
                if (mx.k < 0)
                    return err(A, at, an, JK_ERANGE, "negative maximum skip");
                /* 0, as in GNU as, sets no limit */
                max_skip = mx.k == 0 || mx.k > JK_X86_ALIGN_ANY ? JK_X86_ALIGN_ANY
                                                                 : (unsigned)mx.k;
            }
        }
        if (L->k.t != T_EOS)
            return bad_tok(L, "end of statement");
        stmt_begin(A);
        if (A->deferring) {
            /* data sections pad with zeros unless told otherwise (and
             * the NOP byte is just a byte there) */
            if (fill == JK_X86_ALIGN_NOPS)
                fill = explicit_nop ? 0x90 : 0;
            if (al > A->sect_align_now[A->run_sect])
                A->sect_align_now[A->run_sect] = (uint16_t)al;
        }
        return xok(A, jk_x86_align_fill(A->x, (unsigned)al, max_skip, fill), at, an);
    }
    case D_NOPS: {
        val v;
        next(L);
        if (!const_expr(L, &v, "the size"))
            return 0;
        if (v.k < 0 || v.k > 4096)
            return err(A, at, an, JK_ERANGE, ".nops size must be 0..4096");
        stmt_begin(A);
        return xok(A, jk_x86_nops(A->x, (unsigned)v.k), at, an);
    }
    case D_SET: case D_EQUIV: {
        const char *name;
        size_t nn;
        next(L);
        if (L->k.t != T_ID)
            return bad_tok(L, "a symbol name");
        name = L->k.s;
        nn = L->k.n;
        next(L);
        if (!is_p(L, ','))
            return bad_tok(L, "','");
        next(L);
        return set_sym(L, name, nn, k->a == D_EQUIV);
    }
    case D_INTEL:
        next(L);
        if (L->k.t == T_ID && (eq_lower(L->k.s, L->k.n, "noprefix", 8)))
            return 1;
        if (L->k.t == T_EOS)
            return 1;
        return err(A, L->k.s, L->k.n, JK_EUNSUPPORTED,
                   "only '.intel_syntax noprefix' is supported");
    case D_ATT:
        return err(A, at, an, JK_EUNSUPPORTED, "AT&T syntax is not supported");
    case D_CODE32:
        return mode_switch(A, JK_X86_MODE32, at, an);
    case D_CODE64:
        return mode_switch(A, JK_X86_MODE64, at, an);
    case D_BITS: {
        val v;
        next(L);
        if (!const_expr(L, &v, "the mode"))
            return 0;
        if (v.k != 32 && v.k != 64)
            return err(A, at, an, JK_EUNSUPPORTED, "only bits 32 and bits 64 are supported");
        return mode_switch(A, v.k == 32 ? JK_X86_MODE32 : JK_X86_MODE64, at, an);
    }
    case D_DEFAULT:
        next(L);
        if (L->k.t == T_ID && (eq_lower(L->k.s, L->k.n, "rel", 3)))
            return 1;
        return err(A, L->k.s, L->k.n ? L->k.n : 1, JK_EUNSUPPORTED,
                   "only 'default rel' is supported (label operands are always rip-relative)");
    case D_TIMES: {
        val v;
        const char *rest;
        next(L);
        if (!const_expr(L, &v, "the count"))
            return 0;
        if (v.k < 0) {
            if (v.prov)
                return 1;
            return err(A, at, an, JK_ERANGE, "negative count");
        }
        if ((uint64_t)v.k > A->times_budget)
            return err(A, at, an, JK_ERANGE, "times count too large (limit %zu in total)",
                       (size_t)TIMES_MAX);
        if (A->in_times)
            return err(A, at, an, JK_ESYNTAX, "'times' cannot repeat 'times'");
        A->times_budget -= (size_t)v.k;
        rest = L->k.s;
        A->in_times = 1;
        for (int64_t i = 0; i < v.k && !A->st_failed && !A->stop; i++) {
            A->st_dot = 0;
            if (!statement(A, rest, L->e, 1)) {
                A->in_times = 0;
                return 0;
            }
        }
        A->in_times = 0;
        return 1;
    }
    case D_CFI:
        return cfi_dir(L, at, an);
    case D_TYPE: case D_SIZE:
        return type_size_dir(L, k->a == D_SIZE, at, an);
    case D_SECTION: case D_TEXT: case D_DATA: case D_BSS: case D_PREVIOUS:
    case D_PUSHSECTION: case D_POPSECTION:
        return section_dir(A, k->a, at, an, L->e);
    default: /* D_IGNORE */
        return 1;
    }
}

/* -- Statements ------------------------------------------------------------------ */

/* t: the name is this identifier token (its packed words are used). */
static int define_label(jk_asm *A, const char *name, size_t n, const char *disp, size_t dn,
                        const tok *t)
{
    uint32_t i = t ? sym_get_w(A, name, n, t->w0, t->w1) : sym_get(A, name, n);
    sym *s;
    if (!i)
        return err(A, disp, dn, JK_ENOMEM, "out of memory");
    s = &A->syms[i];
    if (s->def_pass == A->pass || s->kind == SYM_CONST)
        return err(A, disp, dn, JK_ELABEL, "symbol '%.*s' is already defined", (int)dn, disp);
    s->kind = SYM_LABEL;
    s->def_pass = A->pass;
    s->raw = jk_x86_offset(A->x);
    return xok(A, jk_x86_bind(A->x, sym_label(A, i)), disp, dn);
}

/* Put the lexer back at token t (already lexed once). */
static void unlex(lx *L, const tok *t)
{
    L->k = *t;
    L->p = t->s + t->n;
}

/* Log a numeric label definition (see defer_stmt). */
static int numlog_add(jk_asm *A, unsigned v)
{
    if (A->nnumlog == A->capnumlog) {
        size_t nc = A->capnumlog ? A->capnumlog * 2 : 64;
        uint16_t *nl = realloc(A->numlog, nc * sizeof *nl);
        if (!nl)
            return 0;
        A->numlog = nl;
        A->capnumlog = nc;
    }
    A->numlog[A->nnumlog++] = (uint16_t)v;
    return 1;
}

static int label_def(jk_asm *A, const tok *t)
{
    if (t->t == T_NUM) {
        char name[48];
        if (t->v >= NUMLBL_MAX)
            return err(A, t->s, t->n, JK_ERANGE, "numeric label too large (max %d)",
                       NUMLBL_MAX - 1);
        if (!A->numcnt && !(A->numcnt = calloc(NUMLBL_MAX, sizeof *A->numcnt)))
            return err(A, t->s, t->n, JK_ENOMEM, "out of memory");
        snprintf(name, sizeof name, "%llu\x01%u", (unsigned long long)t->v, A->numcnt[t->v]);
        A->numcnt[t->v]++;
        if (!A->deferring && !numlog_add(A, (unsigned)t->v))
            return err(A, t->s, t->n, JK_ENOMEM, "out of memory");
        if (t->v >= A->numhi)
            A->numhi = (size_t)t->v + 1;
        return define_label(A, name, strlen(name), t->s, t->n, NULL);
    }
    if (A->opt.syntax == JK_ASM_SYNTAX_NASM && t->n > 1 && t->s[0] == '.' && t->s[1] != '.') {
        char buf[256];
        if (A->last_global_len + t->n >= sizeof buf)
            return err(A, t->s, t->n, JK_ERANGE, "label name too long");
        memcpy(buf, A->last_global, A->last_global_len);
        memcpy(buf + A->last_global_len, t->s, t->n);
        return define_label(A, buf, A->last_global_len + t->n, t->s, t->n, NULL);
    }
    if (!define_label(A, t->s, t->n, t->s, t->n, t))
        return 0;
    if (t->n < sizeof A->last_global && !(t->n > 1 && t->s[0] == '.')) {
        memcpy(A->last_global, t->s, t->n);
        A->last_global_len = t->n;
    }
    return 1;
}

/* One statement starting at s on a line ending at e; depth > 0 inside
 * `times`. Each token is lexed once: `cur` is the word being looked at,
 * the lexer L is already at the token after it. */
/* GNU as's pseudo-prefixes ({vex} {vex3} {load} {store} {disp8} {disp32}:
 * jk_x86_hint) from L at '{', while there are any; ORed into *hints. */
static int pseudo_prefixes(lx *L, unsigned *hints)
{
    static const char *const hn[] = {"vex", "vex3", "load", "store", "", "disp8", "disp32"};
    while (is_p(L, '{')) {
        const char *at = L->k.s;
        unsigned h = 0;
        next(L);
        for (unsigned i = 0; L->k.t == T_ID && i < sizeof hn / sizeof hn[0]; i++)
            if (*hn[i] && eq_lower(L->k.s, L->k.n, hn[i], strlen(hn[i])))
                h = 1u << i;
        if (!h && L->k.t == T_ID && eq_lower(L->k.s, L->k.n, "evex", 4))
            return err(L->A, at, (size_t)(L->k.s + L->k.n - at), JK_EUNSUPPORTED,
                       "{evex}: EVEX (AVX-512) encodings are not supported");
        if (!h)
            return err(L->A, at, (size_t)(L->k.s + L->k.n - at), JK_ESYNTAX,
                       "unknown pseudo-prefix (want {vex}, {vex3}, {load}, {store}, {disp8} "
                       "or {disp32})");
        if (*hints & h)
            return err(L->A, at, (size_t)(L->k.s + L->k.n - at), JK_ESYNTAX,
                       "pseudo-prefix given twice");
        *hints |= h;
        next(L);
        if (!is_p(L, '}'))
            return bad_tok(L, "'}'");
        next(L);
    }
    return 1;
}

static int statement(jk_asm *A, const char *s, const char *e, int depth)
{
    lx L;
    const kw *k;
    pfxs px;
    tok cur;
    unsigned hints;
    L.A = A;
    L.p = s;
    L.e = e;
    L.depth = 0;
    A->st_s = s;
    A->st_e = e;
    A->st_dot = 0;
    next(&L);
    if (L.k.t == T_EOS)
        return 1;
    A->st_s = L.k.s;
    hints = 0;
    /* labels */
    for (;;) {
        if (L.k.t != T_ID && L.k.t != T_NUM)
            break;
        cur = L.k;
        next(&L);
        if (is_p(&L, ':') && !(cur.t == T_ID && cur.kw && cur.kw->kind == KW_REG &&
                                cur.kw->a == JK_X86_RC_SEG)) {
            if (depth)
                return err(A, cur.s, cur.n, JK_ESYNTAX, "a label cannot be repeated by 'times'");
            if (!label_def(A, &cur))
                return 0;
            next(&L);
            A->st_s = L.k.s;
            if (L.k.t == T_EOS)
                return 1;
            continue;
        }
        goto have_word;
    }
    /* GNU as's pseudo-prefixes before the instruction: {vex} {vex3} {load}
     * {store} {disp8} {disp32} (jk_x86_hint) */
    if (is_p(&L, '{')) {
        if (!pseudo_prefixes(&L, &hints))
            return 0;
        if (L.k.t != T_ID)
            return bad_tok(&L, "an instruction");
        cur = L.k;
        next(&L);
        goto have_word;
    }
    /* [bits 64] */
    if (is_p(&L, '[')) {
        const char *end = memchr(L.p, ']', (size_t)(e - L.p));
        if (!end)
            return bad_tok(&L, "a directive");
        next(&L);
        k = tok_kw(&L);
        if (!k || k->kind != KW_DIR)
            return bad_tok(&L, "a directive");
        L.e = end;
        return directive(&L, k);
    }
    return bad_tok(&L, "an instruction, directive or label");

have_word:
    if (cur.t != T_ID) {
        unlex(&L, &cur);
        return bad_tok(&L, "an instruction, directive or label");
    }
    /* name = expr, name equ expr */
    if (is_p(&L, '=') || (L.k.kw && L.k.kw->kind == KW_WORD && L.k.kw->a == W_EQU)) {
        next(&L);
        return set_sym(&L, cur.s, cur.n, 0);
    }
    if (A->nmacros) {
        const macro_def *m = macro_find(A, cur.s, cur.n);
        if (m) {
            int c;
            if (depth)
                return err(A, cur.s, cur.n, JK_ESYNTAX, "a macro cannot be repeated by 'times'");
            return macro_call(A, m, cur.s, cur.n, cur.s + cur.n,
                              stmt_end(A, cur.s + cur.n, e, &c));
        }
    }
    px.nraw = 0;
    px.lock = px.rep = 0;
    px.rep_at = NULL;
    px.hints = hints;
    for (;;) {
        k = cur.kw;
        if (k && k->kind == KW_MNEM)
            break;
        if (!k && cur.n > 2 && cur.s[cur.n - 2] == '.' && (cur.s[cur.n - 1] | 0x20) == 's') {
            /* mov.s, vmovaps.s (objdump): the swapped register form */
            uint64_t w0, w1;
            const kw *sk;
            kw_pack(A->low, cur.s, cur.n - 2, &w0, &w1);
            sk = kw_find_w(A, cur.s, cur.n - 2, w0, w1);
            if (sk && sk->kind == KW_MNEM) {
                k = sk;
                px.hints |= JK_X86_HINT_SWAP;
                break;
            }
        }
        if (!k && cur.n >= 3 && eq_lower(cur.s, 3, "rex", 3) && (cur.n == 3 || cur.s[3] == '.')) {
            unsigned b = 0x40;
            for (size_t i = 4; i < cur.n; i++) {
                char c = (char)(cur.s[i] | 0x20);
                b |= c == 'w' ? 8u : c == 'r' ? 4u : c == 'x' ? 2u : c == 'b' ? 1u : 0x100u;
            }
            if (b > 0xff || cur.n == 4 || px.nraw >= 14)
                return err(A, cur.s, cur.n, JK_ESYNTAX, "bad prefix '%.*s'", (int)cur.n, cur.s);
            if (A->mode != JK_X86_MODE64)
                return err(A, cur.s, cur.n, JK_EOPERAND, "%.*s: a REX prefix needs 64-bit mode",
                           (int)cur.n, cur.s);
            {
                unsigned i = 0;
                while (i < px.nraw && px.what[i] != PW_REX)
                    i++;
                if (i < px.nraw) { /* rex rex.W: one REX with both, as GNU as merges them */
                    px.raw[i] |= (uint8_t)b;
                } else {
                    px.what[px.nraw] = PW_REX;
                    px.raw[px.nraw++] = (uint8_t)b;
                }
            }
        } else if (!k) {
            return err(A, cur.s, cur.n, JK_ENOFORM, "unknown instruction '%.*s'", (int)cur.n,
                       cur.s);
        } else if (k->kind == KW_PREFIX || (k->kind == KW_REG && k->a == JK_X86_RC_SEG)) {
            static const uint8_t segpfx[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
            if (k->kind == KW_REG && (L.k.t != T_ID && L.k.t != T_EOS))
                return err(A, cur.s, cur.n, JK_ESYNTAX, "unexpected register '%.*s'",
                           (int)cur.n, cur.s);
            if (px.nraw >= 14)
                return err(A, cur.s, cur.n, JK_ESYNTAX, "too many prefixes");
            px.what[px.nraw] = PW_RAW;
            if (k->kind == KW_REG)
                px.raw[px.nraw++] = segpfx[k->b];
            else if (k->a == PFX_RAW)
                px.raw[px.nraw++] = (uint8_t)k->b;
            else if (k->a == PFX_HLE) { /* xacquire / xrelease: the encoder checks them */
                px.what[px.nraw] = PW_HLE;
                px.raw[px.nraw++] = (uint8_t)k->b;
            }
            else if (k->a == PFX_LOCK) {
                if (px.lock)
                    return err(A, cur.s, cur.n, JK_ESYNTAX, "more than one lock prefix");
                px.lock = 1;
                px.what[px.nraw] = PW_LOCK;
                px.raw[px.nraw++] = 0xf0;
            } else {
                if (px.rep)
                    return err(A, cur.s, cur.n, JK_ESYNTAX, "more than one rep prefix");
                px.rep = k->a;
                px.rep_at = cur.s;
                px.what[px.nraw] = PW_REP;
                px.raw[px.nraw++] = k->a == PFX_REPNE ? 0xf2 : 0xf3;
            }
        } else {
            break;
        }
        if (L.k.t == T_EOS) {
            /* prefixes alone on their line: emit them as bytes */
            if (px.hints)
                return err(A, cur.s, cur.n, JK_ESYNTAX,
                           "a pseudo-prefix must precede an instruction");
            stmt_begin(A);
            return emit_prefix_bytes(A, &px, cur.s, cur.n);
        }
        if (is_p(&L, '{') && !pseudo_prefixes(&L, &px.hints)) /* lock {load} add ... */
            return 0;
        if (L.k.t != T_ID)
            return bad_tok(&L, "an instruction");
        cur = L.k;
        next(&L);
    }
    if (k->kind == KW_MNEM)
        return instruction(&L, k, 0, &px, &cur);
    if (k->kind == KW_WORD && k->a == W_STR)
        return instruction(&L, NULL, (unsigned)k->b + 1u, &px, &cur);
    if (k->kind == KW_DIR) {
        if (px.nraw || px.rep || px.lock || px.hints)
            return err(A, cur.s, cur.n, JK_ESYNTAX, "a prefix must precede an instruction");
        unlex(&L, &cur);
        return directive(&L, k);
    }
    return err(A, cur.s, cur.n, JK_ENOFORM, "unknown instruction '%.*s'", (int)cur.n, cur.s);
}

/* -- Passes ----------------------------------------------------------------------- */

/* End of the statement starting at p on the current line: the position of
 * ';' (GNU), '#' or ';' comment (NASM), or the line end; *comment says
 * whether the rest of the line is a comment. */
static const char *stmt_end(const jk_asm *A, const char *p, const char *le, int *comment)
{
    int nasm = A->opt.syntax == JK_ASM_SYNTAX_NASM;
    *comment = 0;
    while (p < le) {
        char c;
        while (p < le && !(A->cls[(uint8_t)*p] & C_STOP))
            p++;
        if (p >= le)
            break;
        c = *p;
        if (c == '"' || c == '\'' || c == '`') {
            const char *q = p + 1;
            while (q < le && *q != c) {
                if (*q == '\\' && c != '\'' && q + 1 < le)
                    q++;
                q++;
            }
            if (c == '\'' && !nasm && q >= le) {
                p++; /* gas's 'c character constant */
                continue;
            }
            p = q < le ? q + 1 : le;
            continue;
        }
        if (c == ';') {
            *comment = nasm;
            return p;
        }
        if (c == '#' || (c == '/' && p + 1 < le && p[1] == '/')) {
            *comment = 1;
            return p;
        }
        p++;
    }
    return le;
}

static void free_expansions(jk_asm *A)
{
    for (size_t i = 0; i < A->nxarena; i++)
        free(A->xarena[i]);
    A->nxarena = 0;
    A->xbytes = 0;
}

static void pass_reset(jk_asm *A)
{
    free_expansions(A);
    A->gen++;
    jk_x86_reset(A->x);
    if (A->res_fn)
        jk_x86_set_resolver(A->x, A->res_fn, A->res_ctx);
    /* From the third pass on, a branch that was long stays long: the values
     * layout-dependent expressions take then come from complete layouts,
     * and sizes that only grow make the passes converge. */
    if (A->pass >= 3 && A->ngrown)
        jk__x86_keep_long(A->x, A->grown, A->ngrown);
    A->ndots = 0;
    A->nstmts = 0;
    A->nwhere = 0;
    A->layout_used = 0;
    A->changed = 0;
    A->dead = 0;
    A->skip_finish = 0;
    A->emitted = 0;
    A->last_global_len = 0;
    A->times_budget = TIMES_MAX;
    A->in_times = 0;
    A->nmacros = 0;
    A->macro_runs = 0;
    A->macro_depth = 0;
    A->exitm = 0;
    A->macro_stmts = 0;
    A->sect = A->prev_sect = S_TEXT;
    A->nsstack = 0;
    A->ndefer = 0;
    A->deferring = 0;
    A->nnumlog = 0;
    A->ncfi = 0;
    A->in_proc = 0;
    A->nfnrecs = 0;
    if (A->numhi) /* only what the last pass counted */
        memset(A->numcnt, 0, A->numhi * sizeof *A->numcnt);
    A->numhi = 0;
    A->syms[A->start_sym].kind = SYM_LABEL;
    A->syms[A->start_sym].def_pass = A->pass;
    A->syms[A->start_sym].raw = 0;
    jk_x86_bind(A->x, sym_label(A, A->start_sym));
}

/* -- Block directives ---------------------------------------------------------
 * GNU as's repetition and conditional blocks, recognised at the start of a
 * line: .rept N / .irp sym, v... / .irpc sym, chars ... .endr and .if expr /
 * .ifdef sym / .ifndef sym ... .elseif expr / .else ... .endif. A block's
 * body is the range of lines to its matching end (nesting counted); it is
 * run as often as it repeats (.irp/.irpc bodies with `\sym` replaced, in an
 * expansion kept in the arena so diagnostics and listings can point into
 * it), or skipped. Repetitions share the `times` budget. */
enum { B_NONE, B_REPT, B_IRP, B_IRPC, B_ENDR, B_IF, B_IFDEF, B_IFNDEF, B_ELSEIF, B_ELSE,
       B_ENDIF, B_MACRO, B_ENDM, B_EXITM, B_PURGEM };
enum { BK_IF, BK_LOOP, BK_MACRO }; /* block_end: what closes */
#define BLOCK_DEPTH_MAX 32

/* The block directive a line starts with (B_NONE for others); *rest: what
 * follows the word. */
static int block_word(const char *p, const char *le, const char **rest)
{
    static const struct { const char *n; uint8_t len, b; } bw[] = {
        {".rept", 5, B_REPT},   {".irp", 4, B_IRP},     {".irpc", 5, B_IRPC},
        {".endr", 5, B_ENDR},   {".if", 3, B_IF},       {".ifdef", 6, B_IFDEF},
        {".ifndef", 7, B_IFNDEF}, {".elseif", 7, B_ELSEIF}, {".else", 5, B_ELSE},
        {".endif", 6, B_ENDIF}, {".macro", 6, B_MACRO}, {".endm", 5, B_ENDM},
        {".exitm", 6, B_EXITM}, {".purgem", 7, B_PURGEM},
    };
    const char *w;
    size_t n;
    while (p < le && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= le || *p != '.')
        return B_NONE;
    w = p++;
    while (p < le && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        p++;
    n = (size_t)(p - w);
    if (p < le && *p != ' ' && *p != '\t' && *p != '\r' && *p != ';' && *p != '#')
        return B_NONE; /* .rept_x, .if2: other names */
    for (size_t i = 0; i < sizeof bw / sizeof bw[0]; i++) {
        if (bw[i].len != n)
            continue;
        size_t k = 0;
        while (k < n && (w[k] | 0x20) == bw[i].n[k])
            k++;
        if (k == n) {
            *rest = p;
            return bw[i].b;
        }
    }
    return B_NONE;
}

static const char *next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

/* The line that closes the block opened on the line before p: for .rept
 * and .irp* (BK_LOOP) the matching .endr, for .if* (BK_IF) the matching
 * .endif, with the .elseif/.else lines at its level in mid[] (at most
 * nmid), for .macro (BK_MACRO) the matching .endm. Counts lines on the way
 * (*lines). NULL if the text ends first. */
static const char *block_end(const char *p, const char *end, int kind, const char **mid,
                             size_t *nmid, unsigned *lines)
{
    static const uint8_t closer[3] = {B_ENDIF, B_ENDR, B_ENDM};
    unsigned level = 0;
    size_t m = 0;
    const char *rest;
    *lines = 0;
    for (; p < end; p = next_line(p, end), ++*lines) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        int b = block_word(p, le ? le : end, &rest);
        if (kind == BK_LOOP ? (b == B_REPT || b == B_IRP || b == B_IRPC)
            : kind == BK_MACRO ? b == B_MACRO
                               : (b == B_IF || b == B_IFDEF || b == B_IFNDEF)) {
            level++;
        } else if (b == closer[kind]) {
            if (level == 0)
                break;
            level--;
        } else if (kind == BK_IF && level == 0 && (b == B_ELSEIF || b == B_ELSE) && mid &&
                   m < *nmid) {
            mid[m++] = p;
        }
    }
    if (nmid)
        *nmid = m;
    return p < end ? p : NULL;
}

static void run_lines(jk_asm *A, const char *p, const char *end, unsigned line, int depth);

/* A value on a block directive's line: [s, e) as an expression. */
static int line_expr(jk_asm *A, const char *s, const char *e, const char *what, val *v)
{
    lx L;
    L.A = A;
    L.p = s;
    L.e = e;
    L.depth = 0;
    A->st_s = s;
    A->st_e = e;
    next(&L);
    if (!const_expr(&L, v, what))
        return 0;
    if (L.k.t != T_EOS)
        return bad_tok(&L, "end of line");
    return 1;
}

/* The name on a .ifdef / .ifndef line: defined (as a label or with .set)
 * earlier in this pass? */
static int line_defined(jk_asm *A, const char *s, const char *e, int *defined)
{
    const char *n;
    uint32_t i;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    n = s;
    while (s < e && *s != ' ' && *s != '\t' && *s != '\r' && *s != ';' && *s != '#')
        s++;
    if (s == n)
        return err(A, n, 1, JK_ESYNTAX, "expected a symbol name");
    {
        uint64_t w0, w1;
        raw_pack(n, (size_t)(s - n), &w0, &w1);
        i = sym_lookup(A, n, (size_t)(s - n), sym_hash(n, (size_t)(s - n), w0, w1), w0, w1);
    }
    *defined = i && A->syms[i].def_pass == A->pass &&
               (A->syms[i].kind == SYM_LABEL || A->syms[i].kind == SYM_CONST);
    return 1;
}

/* A block of n bytes for an expansion of this pass (NULL: out of memory). */
static char *xarena_alloc(jk_asm *A, size_t n)
{
    char *out;
    if (A->nxarena == A->capxarena) {
        size_t nc = A->capxarena ? A->capxarena * 2 : 16;
        char **nx = realloc(A->xarena, nc * sizeof *nx);
        if (!nx)
            return NULL;
        A->xarena = nx;
        A->capxarena = nc;
    }
    if (!(out = malloc(n)))
        return NULL;
    A->xarena[A->nxarena++] = out;
    A->xbytes += n;
    return out;
}

/* The body of an .irp / .irpc for one value: `\name` replaced by it, in a
 * block that lives until the next pass (listings and diagnostics point into
 * it); a pass's expansions are bounded (NULL with *len = 1 then). */
static const char *expand(jk_asm *A, const char *b, const char *e, const char *name, size_t nl,
                          const char *v, size_t vl, size_t *len)
{
    size_t n = 0, need = 0;
    const char *q;
    char *out;
    for (q = b; q < e; q++) {
        if (*q == '\\' && (size_t)(e - q) > nl && memcmp(q + 1, name, nl) == 0) {
            need += vl;
            q += nl;
        } else {
            need++;
        }
    }
    if (need + 1 > JK_TEXT_MAX_EXPANSION - A->xbytes) {
        *len = 1;
        return NULL;
    }
    if (!(out = xarena_alloc(A, need + 1)))
        return NULL;
    for (q = b; q < e; q++) {
        if (*q == '\\' && (size_t)(e - q) > nl && memcmp(q + 1, name, nl) == 0) {
            memcpy(out + n, v, vl);
            n += vl;
            q += nl;
        } else {
            out[n++] = *q;
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* .rept / .irp / .irpc at the line at p (rest: after the word); returns the
 * line after the .endr. */
static const char *run_loop(jk_asm *A, int b, const char *p, const char *rest, const char *le,
                            const char *end, unsigned *line, int depth)
{
    unsigned nlines;
    const char *body = next_line(p, end);
    const char *close = block_end(body, end, BK_LOOP, NULL, NULL, &nlines);
    unsigned first = *line + 1;
    if (!close) {
        err(A, p, 1, JK_ESYNTAX, "'%s' without '.endr'",
            b == B_REPT ? ".rept" : b == B_IRP ? ".irp" : ".irpc");
        return end;
    }
    if (depth >= BLOCK_DEPTH_MAX) {
        err(A, p, 1, JK_ERANGE, "blocks nested too deeply (limit %d)", BLOCK_DEPTH_MAX);
    } else if (b == B_REPT) {
        val v;
        if (line_expr(A, rest, le, "the count", &v)) {
            if (v.k < 0 && !v.prov)
                err(A, rest, 1, JK_ERANGE, "negative count");
            else if (v.k > 0 && (uint64_t)v.k > A->times_budget)
                err(A, rest, 1, JK_ERANGE, "repeat count too large (limit %zu in total)",
                    (size_t)TIMES_MAX);
            else if (v.k > 0) {
                A->times_budget -= (size_t)v.k;
                for (int64_t i = 0; i < v.k && !A->stop && !A->exitm; i++)
                    run_lines(A, body, close, first, depth + 1);
            }
        }
    } else {
        /* .irp name, v1, v2 ... / .irpc name, chars */
        const char *q = rest, *name, *e2 = le;
        size_t nl;
        while (e2 > q && (e2[-1] == '\r' || e2[-1] == ' ' || e2[-1] == '\t'))
            e2--;
        while (q < e2 && (*q == ' ' || *q == '\t'))
            q++;
        name = q;
        while (q < e2 && *q != ',' && *q != ' ' && *q != '\t')
            q++;
        nl = (size_t)(q - name);
        while (q < e2 && (*q == ' ' || *q == '\t'))
            q++;
        if (nl == 0) {
            err(A, rest, 1, JK_ESYNTAX, "expected a parameter name");
        } else {
            if (q < e2 && *q == ',')
                q++;
            while (q < e2 && (*q == ' ' || *q == '\t'))
                q++;
            for (unsigned runs = 0;; runs++) {
                const char *v = q, *ve;
                size_t len, vl;
                const char *x;
                if (b == B_IRPC) {
                    if (q >= e2 && runs)
                        break;
                    ve = q < e2 ? ++q : q; /* no characters: once, empty (as GNU as) */
                } else {
                    while (q < e2 && *q != ',')
                        q++;
                    ve = q;
                    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                        ve--;
                }
                vl = (size_t)(ve - v);
                if (A->times_budget == 0) {
                    err(A, p, 1, JK_ERANGE, "repeat count too large (limit %zu in total)",
                        (size_t)TIMES_MAX);
                    break;
                }
                A->times_budget--;
                len = 0;
                x = expand(A, body, close, name, nl, v, vl, &len);
                if (!x) {
                    if (len)
                        err(A, p, 1, JK_ERANGE, "repeated blocks too large (limit %d MiB a pass)",
                            JK_TEXT_MAX_EXPANSION >> 20);
                    else
                        err(A, p, 1, JK_ENOMEM, "out of memory");
                    break;
                }
                {
                    const char *se = A->src_end;
                    A->src_end = x + len;
                    run_lines(A, x, x + len, first, depth + 1);
                    A->src_end = se;
                }
                if (b == B_IRP) {
                    if (q >= e2)
                        break;
                    q++; /* the comma */
                    while (q < e2 && (*q == ' ' || *q == '\t'))
                        q++;
                }
                if (A->stop || A->exitm)
                    break;
            }
        }
    }
    *line = first + nlines;
    return next_line(close, end);
}

/* .if / .ifdef / .ifndef at the line at p: runs the branch that holds;
 * returns the line after the .endif. */
static const char *run_if(jk_asm *A, int b, const char *p, const char *rest, const char *le,
                          const char *end, unsigned *line, int depth)
{
    const char *mid[64];
    size_t nmid = 64;
    unsigned nlines;
    const char *body = next_line(p, end);
    const char *close = block_end(body, end, BK_IF, mid, &nmid, &nlines);
    const char *from = body, *to;
    unsigned at = *line + 1;
    int take = 0;
    if (!close) {
        err(A, p, 1, JK_ESYNTAX, "'.if' without '.endif'");
        return end;
    }
    if (depth >= BLOCK_DEPTH_MAX) {
        err(A, p, 1, JK_ERANGE, "blocks nested too deeply (limit %d)", BLOCK_DEPTH_MAX);
        goto done;
    }
    /* the branches: [body, mid0), [mid0+1 line, mid1) ... [.., close) */
    for (size_t k = 0;; k++) {
        if (k == 0) {
            if (b == B_IF) {
                val v;
                if (!line_expr(A, rest, le, "the condition", &v))
                    goto done;
                take = v.k != 0;
            } else {
                int d = 0;
                if (!line_defined(A, rest, le, &d))
                    goto done;
                take = b == B_IFDEF ? d : !d;
            }
        } else {
            const char *ml = mid[k - 1], *mle = memchr(ml, '\n', (size_t)(end - ml)), *mr;
            int mb = block_word(ml, mle ? mle : end, &mr);
            for (const char *c = from; c < ml; c = next_line(c, end))
                at++;
            from = next_line(ml, end);
            at++;
            if (mb == B_ELSE) {
                take = 1;
            } else {
                val v;
                A->line = at - 1;
                A->line_start = ml;
                if (!line_expr(A, mr, mle ? mle : end, "the condition", &v))
                    goto done;
                take = v.k != 0;
            }
        }
        to = k < nmid ? mid[k] : close;
        if (take) {
            run_lines(A, from, to, at, depth + 1);
            break;
        }
        if (k >= nmid)
            break;
    }
done:
    *line = *line + 1 + nlines;
    return next_line(close, end);
}

/* -- Macros --------------------------------------------------------------------
 * .macro name [param[=default][:req|:vararg]]... / body / .endm, as GNU as:
 * parameters separated by commas or blanks; in the body `\param` is the
 * argument, `\@` the number of macros expanded so far in this pass, `\()`
 * nothing (to join a parameter to what follows). An invocation is a
 * statement whose first word names a macro (names are case-insensitive and
 * take precedence over instructions); arguments are positional, split at
 * commas outside parentheses and quotes (at blanks when there is no comma),
 * or `param=value`. The expansion is run like a block, its lines numbered
 * as the body's; .exitm leaves it early. Definitions are made again in
 * every pass, before use as in GNU as. */
#define MACRO_PARAMS_MAX 32

typedef struct macro_param {
    const char *n, *def;
    size_t nl, dl;
    uint8_t req, vararg;
} macro_param;

struct macro_def {
    const char *name;
    size_t nl;
    const char *body, *bend; /* [body, bend): the lines up to .endm */
    unsigned line;           /* line number of the first body line */
    unsigned npar;
    macro_param par[MACRO_PARAMS_MAX];
};

static int is_idc(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
           c == '$' || (!first && c >= '0' && c <= '9');
}

static macro_def *macro_find(jk_asm *A, const char *n, size_t nl)
{
    for (size_t i = A->nmacros; i-- > 0;) {
        macro_def *m = &A->macros[i];
        size_t k = 0;
        if (m->nl != nl)
            continue;
        while (k < nl && A->low[(unsigned char)m->name[k]] == A->low[(unsigned char)n[k]])
            k++;
        if (k == nl)
            return m;
    }
    return NULL;
}

static const char *skip_blank(const char *q, const char *e)
{
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
        q++;
    return q;
}

/* .macro at the line at p (rest: after the word): record the definition;
 * returns the line after the .endm. */
static const char *define_macro(jk_asm *A, const char *p, const char *rest, const char *le,
                                const char *end, unsigned *line)
{
    unsigned nlines;
    const char *body = next_line(p, end);
    const char *close = block_end(body, end, BK_MACRO, NULL, NULL, &nlines);
    const char *q = skip_blank(rest, le), *e = le;
    macro_def m;
    memset(&m, 0, sizeof m);
    m.body = body;
    m.line = *line + 1;
    *line = *line + 1 + nlines;
    if (!close) {
        err(A, p, 1, JK_ESYNTAX, "'.macro' without '.endm'");
        return end;
    }
    m.bend = close;
    while (e > q && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    {
        /* a comment ends the header */
        const char *c = q;
        while (c < e && *c != '#' && !(*c == '/' && c + 1 < e && c[1] == '/'))
            c++;
        e = c;
    }
    m.name = q;
    while (q < e && is_idc(*q, q == m.name))
        q++;
    m.nl = (size_t)(q - m.name);
    if (m.nl == 0) {
        err(A, q < le ? q : rest, 1, JK_ESYNTAX, "expected a macro name");
        return next_line(close, end);
    }
    if (macro_find(A, m.name, m.nl)) {
        err(A, m.name, m.nl, JK_ESYNTAX, "macro '%.*s' is already defined", (int)m.nl, m.name);
        return next_line(close, end);
    }
    for (;;) {
        macro_param *pa;
        q = skip_blank(q, e);
        if (q < e && *q == ',')
            q = skip_blank(q + 1, e);
        if (q >= e)
            break;
        if (m.npar == MACRO_PARAMS_MAX) {
            err(A, q, 1, JK_ERANGE, "too many macro parameters (limit %d)", MACRO_PARAMS_MAX);
            return next_line(close, end);
        }
        if (m.npar && m.par[m.npar - 1].vararg) {
            err(A, q, 1, JK_ESYNTAX, "a ':vararg' parameter must be the last");
            return next_line(close, end);
        }
        pa = &m.par[m.npar];
        pa->n = q;
        while (q < e && is_idc(*q, q == pa->n) && *q != '.' && *q != '$')
            q++;
        pa->nl = (size_t)(q - pa->n);
        if (pa->nl == 0) {
            err(A, q, 1, JK_ESYNTAX, "expected a parameter name");
            return next_line(close, end);
        }
        for (unsigned k = 0; k < m.npar; k++)
            if (m.par[k].nl == pa->nl && memcmp(m.par[k].n, pa->n, pa->nl) == 0) {
                err(A, pa->n, pa->nl, JK_ESYNTAX, "parameter '%.*s' given twice", (int)pa->nl,
                    pa->n);
                return next_line(close, end);
            }
        if (q < e && *q == ':') {
            const char *t = ++q;
            while (q < e && is_idc(*q, 0))
                q++;
            if ((size_t)(q - t) == 3 && eq_lower(t, 3, "req", 3))
                pa->req = 1;
            else if ((size_t)(q - t) == 6 && eq_lower(t, 6, "vararg", 6))
                pa->vararg = 1;
            else {
                err(A, t, (size_t)(q - t) ? (size_t)(q - t) : 1, JK_ESYNTAX,
                    "unknown parameter qualifier '%.*s' (req or vararg)", (int)(q - t), t);
                return next_line(close, end);
            }
        }
        q = skip_blank(q, e);
        if (q < e && *q == '=') {
            q = skip_blank(q + 1, e);
            pa->def = q;
            while (q < e && *q != ',' && *q != ' ' && *q != '\t')
                q++;
            pa->dl = (size_t)(q - pa->def);
        }
        m.npar++;
    }
    if (A->nmacros == A->capmacros) {
        size_t nc = A->capmacros ? A->capmacros * 2 : 8;
        macro_def *nm = realloc(A->macros, nc * sizeof *nm);
        if (!nm) {
            err(A, p, 1, JK_ENOMEM, "out of memory");
            return next_line(close, end);
        }
        A->macros = nm;
        A->capmacros = nc;
    }
    A->macros[A->nmacros++] = m;
    return next_line(close, end);
}

/* .purgem name */
static void purge_macro(jk_asm *A, const char *rest, const char *le)
{
    const char *q = skip_blank(rest, le), *n = q;
    macro_def *m;
    while (q < le && is_idc(*q, q == n))
        q++;
    m = macro_find(A, n, (size_t)(q - n));
    if (!m) {
        err(A, n, q > n ? (size_t)(q - n) : 1, JK_ESYNTAX, "no macro named '%.*s'",
            (int)(q - n), n);
        return;
    }
    A->nmacros--;
    memmove(m, m + 1, (size_t)(A->macros + A->nmacros - m) * sizeof *m);
}

/* One argument [s, e) with its blanks trimmed. */
typedef struct macro_arg {
    const char *s;
    size_t n;
    int set;
} macro_arg;

/* The end of the argument starting at q: a top-level comma, or (when
 * blanks separate) a blank. */
static const char *arg_end(const char *q, const char *e, int blanks)
{
    int depth = 0;
    while (q < e) {
        char c = *q;
        if (c == '"' || c == '\'') {
            const char *t = q + 1;
            while (t < e && *t != c)
                t += *t == '\\' && t + 1 < e ? 2 : 1;
            q = t < e ? t + 1 : e;
            continue;
        }
        if (c == '(' || c == '[')
            depth++;
        else if ((c == ')' || c == ']') && depth)
            depth--;
        else if (depth == 0 && (c == ',' || (blanks && (c == ' ' || c == '\t'))))
            break;
        q++;
    }
    return q;
}

/* Expand macro m for the arguments [q, e) into a block of this pass;
 * NULL after an error (reported). */
static const char *macro_expand(jk_asm *A, const macro_def *m, const char *q, const char *e,
                                const char *at, size_t atn, size_t *len)
{
    macro_arg args[MACRO_PARAMS_MAX];
    unsigned pos = 0;
    int blanks;
    char num[24];
    size_t need = 0, n = 0;
    char *out;
    memset(args, 0, sizeof args);
    while (e > q && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    q = skip_blank(q, e);
    blanks = m->npar > 1 && !memchr(q, ',', (size_t)(e - q));
    while (q < e) {
        const char *ae = arg_end(q, e, blanks), *v = q, *ve = ae;
        unsigned k = pos;
        /* param=value */
        {
            const char *t = q;
            while (t < ae && is_idc(*t, t == q) && *t != '.' && *t != '$')
                t++;
            if (t > q && t < ae && *t == '=') {
                for (k = 0; k < m->npar; k++)
                    if (m->par[k].nl == (size_t)(t - q) && memcmp(m->par[k].n, q, m->par[k].nl) == 0)
                        break;
                if (k == m->npar)
                    k = pos; /* not a parameter: a positional value */
                else
                    v = skip_blank(t + 1, ae);
            }
        }
        if (k == pos) {
            if (pos >= m->npar) {
                err(A, q, (size_t)(ae - q) ? (size_t)(ae - q) : 1, JK_ESYNTAX,
                    "too many arguments for macro '%.*s' (%u parameter%s)", (int)m->nl,
                    m->name, m->npar, m->npar == 1 ? "" : "s");
                return NULL;
            }
            if (m->par[pos].vararg)
                ve = ae = e; /* the rest, commas and all */
            pos++;
        }
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        /* a quoted argument stands for what is inside the quotes */
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"' && arg_end(v, ve, 1) == ve) {
            v++;
            ve--;
        }
        args[k].s = v;
        args[k].n = (size_t)(ve - v);
        args[k].set = 1;
        q = ae;
        if (q < e && *q == ',')
            q++;
        q = skip_blank(q, e);
    }
    for (unsigned k = 0; k < m->npar; k++) {
        if (!args[k].set || args[k].n == 0) {
            if (m->par[k].req) {
                err(A, at, atn, JK_ESYNTAX, "missing value for parameter '%.*s' of macro '%.*s'",
                    (int)m->par[k].nl, m->par[k].n, (int)m->nl, m->name);
                return NULL;
            }
            if (!args[k].set || !args[k].n) {
                args[k].s = m->par[k].def;
                args[k].n = m->par[k].dl;
            }
        }
    }
    snprintf(num, sizeof num, "%u", A->macro_runs);
    /* two rounds: measure, then write */
    for (int write = 0; write < 2; write++) {
        if (write) {
            if (need + 1 > JK_TEXT_MAX_EXPANSION - A->xbytes) {
                err(A, at, atn, JK_ERANGE, "macro expansions too large (limit %d MiB a pass)",
                    JK_TEXT_MAX_EXPANSION >> 20);
                return NULL;
            }
            if (!(out = xarena_alloc(A, need + 1))) {
                err(A, at, atn, JK_ENOMEM, "out of memory");
                return NULL;
            }
        }
        for (const char *b = m->body; b < m->bend; b++) {
            const char *ins = b;
            size_t il = 1;
            if (*b == '\\' && b + 1 < m->bend) {
                const char *t = b + 1;
                if (*t == '@') {
                    ins = num;
                    il = strlen(num);
                    b = t;
                } else if (*t == '(' && t + 1 < m->bend && t[1] == ')') {
                    il = 0;
                    b = t + 1;
                } else {
                    while (t < m->bend && is_idc(*t, t == b + 1) && *t != '.' && *t != '$')
                        t++;
                    for (unsigned k = 0; k < m->npar; k++)
                        if (m->par[k].nl == (size_t)(t - b - 1) &&
                            memcmp(m->par[k].n, b + 1, m->par[k].nl) == 0) {
                            ins = args[k].s;
                            il = args[k].n;
                            b = t - 1;
                            break;
                        }
                }
            }
            if (write) {
                if (il)
                    memcpy(out + n, ins, il);
                n += il;
            } else {
                need += il;
            }
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static void run_lines(jk_asm *A, const char *p, const char *end, unsigned line, int depth);

/* The statement at `at` invokes macro m with arguments [q, e): run it. */
static int macro_call(jk_asm *A, const macro_def *m, const char *at, size_t atn, const char *q,
                      const char *e)
{
    size_t len = 0;
    const char *x;
    if (A->macro_depth >= BLOCK_DEPTH_MAX)
        return err(A, at, atn, JK_ERANGE, "macros nested too deeply (limit %d)", BLOCK_DEPTH_MAX);
    if (A->times_budget == 0)
        return err(A, at, atn, JK_ERANGE, "repeat count too large (limit %zu in total)",
                   (size_t)TIMES_MAX);
    A->times_budget--;
    x = macro_expand(A, m, q, e, at, atn, &len);
    if (!x)
        return 0;
    /* m points into A->macros, which the expansion may grow (a .macro in
     * the body): it is not used once the expansion runs */
    A->macro_runs++;
    {
        /* the expansion runs as lines of its own; the invoking line's
         * state comes back afterwards */
        unsigned line = A->line;
        const char *ls = A->line_start, *le = A->cur_le, *se = A->src_end;
        A->src_end = x + len;
        A->macro_depth++;
        run_lines(A, x, x + len, m->line, A->macro_depth);
        A->macro_depth--;
        A->exitm = 0;
        A->src_end = se;
        A->line = line;
        A->line_start = ls;
        A->cur_le = le;
        A->eos_at = NULL;
        A->macro_stmts = A->nstmts;
    }
    return 1;
}

/* The listing texts of the statements recorded since `first` end at se
 * (those of a macro expansion were measured in it). */
static void fix_stmt_texts(jk_asm *A, size_t first, const char *se)
{
    for (size_t i = first > A->macro_stmts ? first : A->macro_stmts; i < A->nstmts; i++) {
        jk_asm_stmt *st = &A->stmts[i].s;
        size_t n = se > st->text ? (size_t)(se - st->text) : 0;
        while (n && (st->text[n - 1] == ' ' || st->text[n - 1] == '\t' ||
                     st->text[n - 1] == '\r'))
            n--;
        st->text_len = n;
    }
}

/* Does the statement [p, e) start with a macro's name? */
static int macro_word(jk_asm *A, const char *p, const char *e)
{
    const char *q;
    if (!A->nmacros)
        return 0;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    q = p;
    while (q < e && is_idc(*q, q == p))
        q++;
    return q > p && macro_find(A, p, (size_t)(q - p)) != NULL;
}

/* Run the lines in [p, end), the first of them line number `line`. */
static void run_lines(jk_asm *A, const char *p, const char *end, unsigned line, int depth)
{
    A->line = line - 1;
    while (p < end && !A->stop && !A->exitm) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *rest;
        int b;
        A->line++;
        A->line_start = p;
        A->cur_le = le;
        if (*p == '.' || *p == ' ' || *p == '\t') {
            b = block_word(p, le, &rest);
            if (b != B_NONE) {
                unsigned ln = A->line;
                A->st_failed = 0;
                if (b == B_REPT || b == B_IRP || b == B_IRPC) {
                    p = run_loop(A, b, p, rest, le, end, &ln, depth);
                } else if (b == B_IF || b == B_IFDEF || b == B_IFNDEF) {
                    p = run_if(A, b, p, rest, le, end, &ln, depth);
                } else if (b == B_MACRO) {
                    p = define_macro(A, p, rest, le, end, &ln);
                } else if (b == B_EXITM && A->macro_depth) {
                    A->exitm = 1;
                    p = nl ? nl + 1 : end;
                } else if (b == B_PURGEM) {
                    purge_macro(A, rest, le);
                    p = nl ? nl + 1 : end;
                } else {
                    static const char *const names[] = {"", "", "", "", ".endr", "", "", "",
                                                        ".elseif", ".else", ".endif", "",
                                                        ".endm", ".exitm"};
                    if (b == B_EXITM)
                        err(A, p, (size_t)(rest - p), JK_ESYNTAX, "'.exitm' outside a macro");
                    else
                        err(A, p, (size_t)(rest - p), JK_ESYNTAX,
                            "'%s' without its opening block", names[b]);
                    p = nl ? nl + 1 : end;
                }
                A->line = ln;
                continue;
            }
        }
        while (p < le && !A->stop) {
            int comment;
            const char *se;
            size_t first = A->nstmts;
            A->st_failed = 0;
            A->eos_at = NULL;
            if (A->sect != S_TEXT && !A->deferring) {
                /* a data section: keep the statement for after the code,
                 * unless it changes the section or invokes a macro */
                se = stmt_end(A, p, le, &comment);
                if (!section_word(p, se) && !macro_word(A, p, se)) {
                    const char *q = p;
                    while (q < se && (*q == ' ' || *q == '\t' || *q == '\r'))
                        q++;
                    if (q < se)
                        defer_stmt(A, p, se);
                    if (comment || se >= le)
                        break;
                    p = se + 1;
                    continue;
                }
            }
            statement(A, p, le, 0);
            /* the lexer found the end of the statement; after an error the
             * statement may have stopped short of it */
            if (A->eos_at) {
                se = A->eos_at;
                comment = A->eos_comment;
            } else {
                se = stmt_end(A, p, le, &comment);
            }
            fix_stmt_texts(A, first, se);
            if (comment || se >= le)
                break;
            p = se + 1;
        }
        p = nl ? nl + 1 : end;
    }
}

static void run_pass(jk_asm *A)
{
    A->src_end = A->src + A->srclen;
    run_lines(A, A->src, A->src + A->srclen, 1, 0);
    if (A->ndefer)
        run_deferred(A);
    if (A->in_proc) {
        /* the last .cfi_startproc was not closed */
        for (size_t i = A->ncfi; i-- > 0;)
            if (A->cfi_ops[i].verb == CF_START) {
                const cfi_op *o = &A->cfi_ops[i];
                A->line = o->line;
                A->line_start = o->line_start;
                A->st_failed = 0;
                err(A, o->src, o->n, JK_ESYNTAX, "'.cfi_startproc' without '.cfi_endproc'");
                break;
            }
    }
    A->cur_le = NULL;
}

/* Can the resolver (if any) find an external name? Without one, names are
 * left to install time. */
static int resolvable(jk_asm *A, const char *name)
{
    int found = 0;
    if (!A->res_fn)
        return 1;
    A->res_fn(A->res_ctx, name, &found);
    return found;
}

/* An x86 assembler message with the unnamed labels it mentions ("#12")
 * replaced by their names in the text ("'loop'"). */
static const char *label_names(jk_asm *A, const char *msg, char *buf, size_t cap)
{
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < cap; p++) {
        if (*p == '#' && p[1] >= '0' && p[1] <= '9') {
            unsigned long id = strtoul(p + 1, NULL, 10);
            const char *q = p + 1;
            const char *name = NULL;
            for (uint32_t i = 1; i < A->nsyms && !name; i++)
                if (A->syms[i].lbl == id && A->syms[i].gen == A->gen && A->syms[i].name)
                    name = A->syms[i].name;
            while (*q >= '0' && *q <= '9')
                q++;
            if (name) {
                const char *cut = strchr(name, '\x01'); /* numeric label: "1\x01" + k */
                int n = cut ? (int)(cut - name) : (int)strlen(name);
                int w = snprintf(buf + o, cap - o, "'%.*s'", n, name);
                o = w < 0 ? o : o + (size_t)w >= cap ? cap - 1 : o + (size_t)w;
                p = q - 1;
                continue;
            }
        }
        buf[o++] = *p;
    }
    buf[o] = '\0';
    return buf;
}

/* After a pass: undefined names, then finish. Returns 1 when the pass
 * produced code. */
static int end_pass(jk_asm *A)
{
    size_t size;
    jk_status st;
    for (uint32_t i = 1; i < A->nsyms && !A->stop; i++) {
        sym *s = &A->syms[i];
        if (s->kind == SYM_CONST && s->as_label && s->ref_pass == A->pass) {
            A->skip_finish = 1; /* used as a label before its .set: again */
            A->layout_used = 1;
            continue;
        }
        if (s->ref_pass != A->pass || s->def_pass == A->pass || !s->name)
            continue;
        if (s->kind == SYM_CONST && s->has_val) {
            if (s->as_label) {
                A->skip_finish = 1; /* referenced as a label before its .set */
                A->layout_used = 1;
            }
            continue;
        }
        if (s->kind == SYM_EXTERN)
            continue;
        if ((A->opt.flags & JK_ASM_EXTERN) && s->kind == SYM_UNDEF && s->as_label &&
            strchr(s->name, '\x01') == NULL && resolvable(A, s->name)) {
            s->kind = SYM_EXTERN;
            A->skip_finish = 1;
            A->layout_used = 1;
            continue;
        }
        {
            char disp[64];
            const char *nm = s->name;
            const char *cut = strchr(nm, '\x01');
            if (cut) {
                snprintf(disp, sizeof disp, "%.*s", (int)(cut - nm), nm);
                nm = disp;
            }
            A->st_failed = 0;
            A->line = s->ref_line;
            A->line_start = s->ref_line_start;
            err(A, s->ref_at, cut ? strlen(nm) + 1 : strlen(nm), JK_ELABEL,
                "undefined symbol '%s'", nm);
        }
    }
    for (uint32_t i = 1; i < A->nsyms; i++)
        A->syms[i].as_label = 0;
    if (A->dead || A->ndiags)
        return 0;
    if (A->skip_finish) {
        A->changed = 1;
        return 1;
    }
    st = jk_x86_finish(A->x, &size);
    if (st != JK_OK) {
        size_t idx = 0, off = 0, lo = 0, hi = A->nwhere;
        char mb[sizeof jk_x86_error(A->x)->message + 64];
        const char *msg = label_names(A, jk_x86_error(A->x)->message, mb, sizeof mb);
        jk_x86_error_where(A->x, &idx, &off);
        while (lo < hi) { /* last statement starting at or before off */
            size_t mid = (lo + hi) / 2;
            if (A->where[mid].raw <= off) lo = mid + 1; else hi = mid;
        }
        A->st_failed = 0;
        if (lo > 0) {
            A->line = A->where[lo - 1].line;
            A->line_start = A->where[lo - 1].line_start;
            err(A, A->where[lo - 1].at, 1, st, "%s", msg);
        } else {
            A->line = 0;
            A->line_start = NULL;
            err(A, NULL, 0, st, "%s", msg);
        }
        return 0;
    }
    A->codesize = size;
    if (A->pass >= 2 && A->layout_used) {
        size_t n = jk__x86_long_branches(A->x, A->grown, A->ngrown);
        if ((n + 7) / 8 > A->ngrown) {
            uint8_t *g = realloc(A->grown, (n + 7) / 8);
            if (!g)
                return err(A, NULL, 0, JK_ENOMEM, "out of memory"), 0;
            memset(g + A->ngrown, 0, (n + 7) / 8 - A->ngrown);
            A->grown = g;
            A->ngrown = (n + 7) / 8;
            jk__x86_long_branches(A->x, A->grown, A->ngrown);
        }
    }
    /* new offsets */
    for (uint32_t i = 1; i < A->nsyms; i++) {
        sym *s = &A->syms[i];
        size_t off;
        if (s->kind != SYM_LABEL || s->def_pass != A->pass || s->gen != A->gen)
            continue;
        if (jk_x86_label_offset(A->x, s->lbl, &off) != JK_OK)
            continue;
        if (!s->has_off || s->off != off)
            A->changed = 1;
        s->off = off;
        s->has_off = 1;
    }
    return 1;
}

static void clear_result(jk_asm *A)
{
    for (size_t i = 0; i < A->ndiags; i++)
        free(A->diags[i].msg);
    A->ndiags = 0;
    free(A->code);
    A->code = NULL;
    A->codesize = 0;
    A->ok = 0;
    A->nstmts = 0;
    A->stop = 0;
    A->passes = 0;
    A->x86err.status = JK_OK;
    A->x86err.message[0] = '\0';
}

/* Source order (stable), position-less diagnostics last. */
static void sort_diags(jk_asm *A)
{
    for (size_t i = 1; i < A->ndiags; i++) {
        diag_rec r = A->diags[i];
        unsigned l = r.d.line ? r.d.line : ~0u;
        size_t j = i;
        while (j > 0) {
            const jk_asm_diag *p = &A->diags[j - 1].d;
            unsigned pl = p->line ? p->line : ~0u;
            if (pl < l || (pl == l && p->col <= r.d.col))
                break;
            A->diags[j] = A->diags[j - 1];
            j--;
        }
        A->diags[j] = r;
    }
}

/* After a failed copy / install: the x86 error with the text's label names
 * for the unnamed x86 labels ("label 'table' address ... does not fit"). */
static jk_status x86_failed(jk_asm *A, jk_status st)
{
    if (st != JK_OK) {
        const jk_error *e = jk_x86_error(A->x);
        A->x86err = *e;
        label_names(A, e->message, A->x86err.message, sizeof A->x86err.message);
    }
    return st;
}

/* The statement behind a relocation that failed at copy/install (an address
 * out of reach of its field, an unresolved external): the last label-using
 * statement that began at or before the failing instruction; NULL when the
 * error is not one of those. */
static const where_rec *reloc_where(const jk_asm *A, jk_status st)
{
    size_t idx = 0, off = 0, lo = 0, hi = A->nwhere;
    if (st != JK_ERANGE && st != JK_ENOTNEAR && st != JK_ELABEL)
        return NULL;
    jk_x86_error_where(A->x, &idx, &off);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (A->where[mid].insn <= idx) lo = mid + 1; else hi = mid;
    }
    return lo > 0 ? &A->where[lo - 1] : NULL;
}

/* x86_failed for jk_asm_copy / jk_asm_install, after the text may be gone:
 * the statement's line and column go into the message. */
static jk_status x86_failed_late(jk_asm *A, jk_status st)
{
    const where_rec *w;
    if (x86_failed(A, st) != JK_OK && (w = reloc_where(A, st)) != NULL) {
        size_t n = strlen(A->x86err.message);
        snprintf(A->x86err.message + n, sizeof A->x86err.message - n, " (line %u, column %u)",
                 w->line, w->col);
    }
    return st;
}

/* -- The function list ---------------------------------------------------------- */

static void free_funcs(jk_asm *A)
{
    for (size_t i = 0; i < A->nfuncs; i++)
        jk_cfi_free(A->func_cfi[i]);
    free(A->funcs);
    free(A->func_cfi);
    A->funcs = NULL;
    A->func_cfi = NULL;
    A->nfuncs = 0;
}

/* Final offset of symbol i when it is a label of this pass. */
static int sym_offset(jk_asm *A, uint32_t i, size_t *off)
{
    const sym *s = &A->syms[i];
    return s->kind == SYM_LABEL && s->def_pass == A->pass && s->gen == A->gen && s->lbl &&
           jk_x86_label_offset(A->x, s->lbl, off) == JK_OK;
}

typedef struct lbl_at {
    size_t off;
    uint32_t sym;
} lbl_at;

static int cmp_lbl_at(const void *x, const void *y)
{
    const lbl_at *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off ? 1 : a->sym < b->sym ? -1 : a->sym > b->sym;
}

static int cmp_func(const void *x, const void *y)
{
    const jk_asm_func *a = x, *b = y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Report a failed verb after the last pass (the text is still there). */
static int cfi_fail(jk_asm *A, const cfi_op *o, const jk_cfi *c)
{
    A->line = o->line;
    A->line_start = o->line_start;
    A->st_failed = 0;
    return err(A, o->src, o->n, jk_cfi_status(c), "%s", jk_cfi_error(c)->message);
}

/* The functions of a good assembly: CFI ranges and .type'd symbols,
 * merged by start offset, sorted. 0 after an error (reported). */
static int build_funcs(jk_asm *A)
{
    size_t nranges = 0, cap, n = 0, nl = 0;
    lbl_at *labels = NULL;
    jk_asm_func *f;
    jk_cfi **fc;
    if (!A->ncfi && !A->nfnrecs)
        return 1;
    for (size_t i = 0; i < A->ncfi; i++)
        nranges += A->cfi_ops[i].verb == CF_START;
    cap = nranges + A->nfnrecs;
    f = calloc(cap ? cap : 1, sizeof *f);
    fc = calloc(cap ? cap : 1, sizeof *fc);
    labels = malloc((A->nsyms ? A->nsyms : 1) * sizeof *labels);
    if (!f || !fc || !labels) {
        free(f);
        free(fc);
        free(labels);
        return err(A, NULL, 0, JK_ENOMEM, "out of memory");
    }
    A->funcs = f;
    A->func_cfi = fc;
    /* named labels by offset, for naming CFI ranges */
    for (uint32_t i = 1; i < A->nsyms; i++) {
        const sym *s = &A->syms[i];
        size_t off;
        if (s->name && !memchr(s->name, '\x01', s->len) && sym_offset(A, i, &off)) {
            labels[nl].off = off;
            labels[nl++].sym = i;
        }
    }
    qsort(labels, nl, sizeof *labels, cmp_lbl_at);
    /* the CFI ranges */
    for (size_t i = 0; i < A->ncfi; i++) {
        const cfi_op *o = &A->cfi_ops[i];
        size_t start, at, end = 0;
        jk_cfi *c;
        jk_error e;
        size_t j;
        if (o->verb != CF_START)
            continue;
        jk_x86_label_offset(A->x, o->at, &start);
        if (jk_cfi_new(&c, o->mode64 ? JK_CFI_X86_64 : JK_CFI_X86_32, &e) != JK_OK) {
            free(labels);
            return err(A, o->src, o->n, e.status, "%s", e.message);
        }
        fc[n] = c;
        f[n].offset = start;
        jk_cfi_startproc(c);
        for (j = i + 1; j < A->ncfi && A->cfi_ops[j].verb != CF_END; j++) {
            const cfi_op *v = &A->cfi_ops[j];
            uint32_t d;
            jk_x86_label_offset(A->x, v->at, &at);
            d = (uint32_t)(at - start);
            switch (v->verb) {
            case CF_DEF_CFA: jk_cfi_def_cfa(c, d, v->reg, (int32_t)v->off); break;
            case CF_DEF_OFF: jk_cfi_def_cfa_offset(c, d, (int32_t)v->off); break;
            case CF_DEF_REG: jk_cfi_def_cfa_register(c, d, v->reg); break;
            case CF_ADJ: jk_cfi_adjust_cfa_offset(c, d, (int32_t)v->off); break;
            case CF_OFFSET: jk_cfi_offset(c, d, v->reg, (int32_t)v->off); break;
            case CF_REL_OFFSET: jk_cfi_rel_offset(c, d, v->reg, (int32_t)v->off); break;
            case CF_RESTORE: jk_cfi_restore(c, d, v->reg); break;
            case CF_REMEMBER: jk_cfi_remember_state(c, d); break;
            case CF_RESTORE_STATE: jk_cfi_restore_state(c, d); break;
            case CF_UNDEF: jk_cfi_undefined(c, d, v->reg); break;
            default: jk_cfi_same_value(c, d, v->reg); break;
            }
            if (jk_cfi_status(c) != JK_OK) {
                A->nfuncs = n + 1;
                free(labels);
                return cfi_fail(A, v, c);
            }
        }
        if (j < A->ncfi)
            jk_x86_label_offset(A->x, A->cfi_ops[j].at, &end);
        f[n].size = end - start;
        jk_cfi_endproc(c, (uint32_t)f[n].size);
        if (jk_cfi_status(c) != JK_OK) {
            A->nfuncs = n + 1;
            free(labels);
            return cfi_fail(A, j < A->ncfi ? &A->cfi_ops[j] : o, c);
        }
        f[n].cfi = c;
        {
            /* named by a .type'd label at its start, else the first label there */
            size_t lo = 0, hi = nl;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (labels[mid].off < start)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t k = lo; k < nl && labels[k].off == start; k++) {
                int typed = 0;
                for (size_t r = 0; r < A->nfnrecs; r++)
                    typed |= A->fnrecs[r].sym == labels[k].sym && A->fnrecs[r].is_func;
                if (!f[n].name || typed)
                    f[n].name = A->syms[labels[k].sym].name;
                if (typed)
                    break;
            }
        }
        n++;
    }
    A->nfuncs = n;
    /* .type'd symbols: the range that starts there, or a function of their own */
    for (size_t r = 0; r < A->nfnrecs; r++) {
        const fn_rec *fr = &A->fnrecs[r];
        size_t off, k;
        if (!fr->is_func || !sym_offset(A, fr->sym, &off))
            continue;
        for (k = 0; k < n && f[k].offset != off; k++)
            ;
        if (k == n) {
            f[n].offset = off;
            f[n].size = (size_t)-1; /* up to the next function (below) */
            n++;
        }
        f[k].name = A->syms[fr->sym].name;
        if (fr->has_size)
            f[k].size = (size_t)fr->size;
    }
    free(labels);
    A->nfuncs = n;
    {
        /* keep each cfi with its function through the sort */
        for (size_t k = 0; k < n; k++)
            f[k].cfi = fc[k];
        qsort(f, n, sizeof *f, cmp_func);
        for (size_t k = 0; k < n; k++) {
            fc[k] = (jk_cfi *)(uintptr_t)f[k].cfi;
            if (f[k].size == (size_t)-1)
                f[k].size = (k + 1 < n ? f[k + 1].offset : A->codesize) - f[k].offset;
            if (f[k].offset + f[k].size > A->codesize)
                f[k].size = A->codesize - f[k].offset;
        }
    }
    return 1;
}

size_t jk_asm_func_count(const jk_asm *A) { return A && A->ok ? A->nfuncs : 0; }

const jk_asm_func *jk_asm_func_at(const jk_asm *A, size_t i)
{
    return A && A->ok && i < A->nfuncs ? &A->funcs[i] : NULL;
}

jk_status jk_asm_debug_register(const jk_asm *A, jk_debug *d, const void *exec, jk_error *err)
{
    jk_debug_src *all = NULL;
    jk_debug_line *rows = NULL;
    if (!A || !d || !exec)
        return jk__fail(err, JK_EINVAL, "jk_asm_debug_register: NULL argument");
    if (!A->ok)
        return jk__fail(err, JK_ESTATE, "jk_asm_debug_register: the last assembly failed");
    /* with a listing, each function gets the source lines of its range */
    if ((A->opt.flags & JK_ASM_LISTING) &&
        jk_debug_lines_from_asm(A, A->fname, &all, NULL) == JK_OK &&
        !(rows = malloc((all->nlines ? all->nlines : 1) * sizeof *rows))) {
        jk_debug_lines_free(all);
        return jk__fail(err, JK_ENOMEM, "jk_asm_debug_register: out of memory");
    }
    for (size_t i = 0; i < A->nfuncs; i++) {
        const jk_asm_func *f = &A->funcs[i];
        jk_debug_src src, *sp = NULL;
        jk_status st;
        if (!f->size)
            continue;
        if (rows) {
            size_t k = 0;
            for (size_t r = 0; r < all->nlines; r++) {
                size_t off = all->lines[r].offset;
                if (off >= f->offset && off < f->offset + f->size) {
                    rows[k].offset = (uint32_t)(off - f->offset);
                    rows[k++].line = all->lines[r].line;
                } else if (off < f->offset && r + 1 < all->nlines &&
                           all->lines[r + 1].offset > f->offset) {
                    /* a row that began before the function covers its start */
                    rows[k].offset = 0;
                    rows[k++].line = all->lines[r].line;
                }
            }
            src = *all;
            src.lines = rows;
            src.nlines = k;
            sp = k ? &src : NULL;
        }
        st = jk_debug_register_ex(d, (const uint8_t *)exec + f->offset, f->size, f->name,
                                  f->cfi, sp, err);
        if (st != JK_OK) {
            while (i-- > 0)
                if (A->funcs[i].size)
                    jk_debug_unregister(d, (const uint8_t *)exec + A->funcs[i].offset, NULL);
            free(rows);
            jk_debug_lines_free(all);
            return st;
        }
    }
    free(rows);
    jk_debug_lines_free(all);
    return JK_OK;
}

jk_status jk_asm_debug_unregister(const jk_asm *A, jk_debug *d, const void *exec, jk_error *err)
{
    jk_status first = JK_OK;
    if (!A || !d || !exec)
        return jk__fail(err, JK_EINVAL, "jk_asm_debug_unregister: NULL argument");
    for (size_t i = A->ok ? A->nfuncs : 0; i-- > 0;) {
        jk_status st;
        if (!A->funcs[i].size)
            continue;
        st = jk_debug_unregister(d, (const uint8_t *)exec + A->funcs[i].offset,
                                 first == JK_OK ? err : NULL);
        if (first == JK_OK)
            first = st;
    }
    return first;
}

jk_status jk_asm_assemble(jk_asm *as, const char *text, size_t len)
{
    jk_asm *A = as;
    if (!A)
        return JK_EINVAL;
    clear_result(A);
    if (!text && len)
        return JK_EINVAL;
    if (len == (size_t)-1)
        len = text ? strlen(text) : 0;
    free(A->own_src);
    A->own_src = NULL;
    A->src = text ? text : "";
    A->srclen = len;
    if (A->opt.flags & JK_ASM_LISTING) {
        /* statement texts must outlive the call */
        A->own_src = malloc(len + 1);
        if (!A->own_src)
            return JK_ENOMEM;
        if (len)
            memcpy(A->own_src, text, len);
        A->own_src[len] = '\0';
        A->src = A->own_src;
    }
    /* forget symbols of an earlier text, and their names: the first arena
     * block (it holds the file name) is used again, the others go */
    for (size_t i = 1; i < A->narena; i++)
        free(A->arena[i]);
    if (A->narena) {
        A->narena = 1;
        A->apos = A->arena_mark;
        A->aleft = A->arena_mark_left;
    }
    A->nsyms = 1;
    if (A->symhash)
        memset(A->symhash, 0, (A->symmask + 1) * sizeof *A->symhash);
    A->ndots = 0;
    if (A->dots)
        memset(A->dots, 0, A->capdots * sizeof *A->dots);
    A->start_sym = sym_new(A, NULL, 0, 0, 0, 0);
    if (!A->start_sym)
        return JK_ENOMEM;
    if (A->mode != A->opt.mode) {
        jk_x86_free(A->x);
        A->x = NULL;
        A->mode = A->opt.mode;
        if (jk_x86_new(&A->x, A->mode, NULL) != JK_OK)
            return JK_ENOMEM;
    }
    if (A->grown)
        memset(A->grown, 0, A->ngrown);
    free_funcs(A);
    memset(A->sect_align, 0, sizeof A->sect_align);
    memset(A->sect_align_now, 0, sizeof A->sect_align_now);
    for (A->pass = 1; A->pass <= MAX_PASSES; A->pass++) {
        int ok;
        pass_reset(A);
        run_pass(A);
        ok = end_pass(A);
        A->passes = A->pass;
        if (!ok)
            break;
        if (!A->layout_used || !A->changed) {
            A->ok = 1;
            break;
        }
        if (A->pass == MAX_PASSES) {
            A->st_failed = 0;
            A->line_start = NULL;
            A->line = 0;
            err(A, NULL, 0, JK_ERANGE, "the layout did not settle after %d passes",
                MAX_PASSES);
        }
    }
    if (!A->ok) {
        sort_diags(A);
        if (A->ndiags == 0) {
            A->line_start = NULL;
            A->st_failed = 0;
            err(A, NULL, 0, JK_ENOMEM, "out of memory");
        }
        return A->diags[0].d.status;
    }
    /* listing offsets */
    for (size_t i = 0; i < A->nstmts; i++) {
        size_t off = 0;
        jk_x86_label_offset(A->x, A->stmts[i].lbl, &off);
        A->stmts[i].s.offset = off;
    }
    for (size_t i = 0; i < A->nstmts; i++) {
        size_t nextoff = i + 1 < A->nstmts ? A->stmts[i + 1].s.offset : A->codesize;
        A->stmts[i].s.size = nextoff >= A->stmts[i].s.offset ? nextoff - A->stmts[i].s.offset : 0;
    }
    if (!build_funcs(A)) {
        A->ok = 0;
        sort_diags(A);
        return A->diags[0].d.status;
    }
    for (uint32_t i = 1; i < A->nsyms; i++)
        if (A->syms[i].kind == SYM_EXTERN && A->syms[i].ref_pass == A->pass)
            return JK_OK; /* resolved only at install: no jk_asm_code */
    A->code = malloc(A->codesize ? A->codesize : 1);
    if (!A->code) {
        A->ok = 0;
        return JK_ENOMEM;
    }
    {
        jk_status st = x86_failed(A, jk_x86_copy(A->x, A->code, A->codesize, A->opt.base));
        if (st != JK_OK) {
            const where_rec *w = reloc_where(A, st);
            A->ok = 0;
            A->st_failed = 0;
            A->dead = 1;
            if (w) { /* the text is still here: a diagnostic at the statement */
                A->line = w->line;
                A->line_start = w->line_start;
                err(A, w->at, 1, st, "%s", A->x86err.message);
            } else {
                A->line_start = NULL;
                err(A, NULL, 0, st, "%s", A->x86err.message);
            }
            return st;
        }
    }
    return JK_OK;
}

/* -- Handle ------------------------------------------------------------------------ */

jk_status jk_asm_new(jk_asm **out, const jk_asm_options *opt, jk_error *e)
{
    jk_asm *A;
    jk_asm_options def = JK_ASM_OPTIONS_INIT;
    if (!out)
        return jk__fail(e, JK_EINVAL, "jk_asm_new: NULL out");
    *out = NULL;
    if (!opt)
        opt = &def;
    if ((unsigned)opt->mode >= JK_X86_MODE_COUNT)
        return jk__fail(e, JK_EINVAL, "jk_asm_new: bad mode %d", (int)opt->mode);
    if ((unsigned)opt->syntax >= JK_ASM_SYNTAX_COUNT)
        return jk__fail(e, JK_EINVAL, "jk_asm_new: bad syntax %d", (int)opt->syntax);
    A = calloc(1, sizeof *A);
    if (!A)
        return jk__fail(e, JK_ENOMEM, "jk_asm_new: out of memory");
    A->opt = *opt;
    A->mode = opt->mode;
    A->maxerr = opt->max_errors ? opt->max_errors : 20;
    A->fname = arena_copy(A, opt->filename ? opt->filename : "<input>",
                          strlen(opt->filename ? opt->filename : "<input>"));
    A->opt.filename = A->fname;
    A->arena_mark = A->apos; /* what follows the file name is per text */
    A->arena_mark_left = A->aleft;
    A->nsyms = 1;
    if (!A->fname || !tables_once() || !sym_grow_hash(A) ||
        jk_x86_new(&A->x, A->mode, NULL) != JK_OK) {
        jk_asm_free(A);
        return jk__fail(e, JK_ENOMEM, "jk_asm_new: out of memory");
    }
    use_tables(A);
    *out = A;
    return JK_OK;
}

void jk_asm_free(jk_asm *A)
{
    if (!A)
        return;
    clear_result(A);
    jk_x86_free(A->x);
    free(A->own_src);
    free(A->syms);
    free(A->symhash);
    for (size_t i = 0; i < A->narena; i++)
        free(A->arena[i]);
    free(A->arena);
    free_expansions(A);
    free(A->xarena);
    free(A->macros);
    free(A->defer);
    free(A->numlog);
    free(A->cfi_ops);
    free(A->fnrecs);
    free_funcs(A);
    free(A->diags);
    free(A->fmt);
    free(A->stmts);
    free(A->where);
    free(A->dots);
    free(A->numcnt);
    free(A->grown);
    free(A);
}

size_t jk_asm_diag_count(const jk_asm *A) { return A ? A->ndiags : 0; }

const jk_asm_diag *jk_asm_diag_at(const jk_asm *A, size_t i)
{
    return A && i < A->ndiags ? &A->diags[i].d : NULL;
}

const char *jk_asm_diag_text(jk_asm *A, size_t i)
{
    const jk_asm_diag *d;
    size_t need, pos = 0;
    char *b;
    if (!A || i >= A->ndiags)
        return "";
    d = &A->diags[i].d;
    need = strlen(d->file) + strlen(d->message) + 2 * d->source_len + d->col + d->len + 96;
    b = realloc(A->fmt, need);
    if (!b)
        return "";
    A->fmt = b;
    if (d->line)
        pos += (size_t)snprintf(b + pos, need - pos, "%s:%u:%u: error: %s\n", d->file, d->line,
                                d->col ? d->col : 1u, d->message);
    else
        pos += (size_t)snprintf(b + pos, need - pos, "%s: error: %s\n", d->file, d->message);
    if (d->source && d->line) {
        memcpy(b + pos, d->source, d->source_len);
        pos += d->source_len;
        b[pos++] = '\n';
        if (d->col) {
            /* keep tabs so the caret lines up */
            for (unsigned c = 1; c < d->col && c - 1 < d->source_len; c++)
                b[pos++] = d->source[c - 1] == '\t' ? '\t' : ' ';
            b[pos++] = '^';
            for (unsigned c = 1; c < d->len; c++)
                b[pos++] = '~';
            b[pos++] = '\n';
        }
    }
    b[pos] = '\0';
    return b;
}

const uint8_t *jk_asm_code(jk_asm *A, size_t *size)
{
    if (!A || !A->ok || !A->code) {
        if (size)
            *size = 0;
        return NULL;
    }
    if (size)
        *size = A->codesize;
    return A->code;
}

jk_status jk_asm_copy(jk_asm *A, void *dst, size_t cap, uint64_t runtime_addr)
{
    if (!A || !dst)
        return JK_EINVAL;
    if (!A->ok)
        return JK_ESTATE;
    return x86_failed_late(A, jk_x86_copy(A->x, dst, cap, runtime_addr));
}

jk_status jk_asm_install(jk_asm *A, const jk_mem_options *opt, jk_mem **mem, void **entry)
{
    if (!A || !mem || !entry)
        return JK_EINVAL;
    if (!A->ok)
        return JK_ESTATE;
    return x86_failed_late(A, jk_x86_install(A->x, opt, mem, entry));
}

jk_status jk_asm_install_heap(jk_asm *A, jk_heap *h, void **fn)
{
    if (!A || !fn)
        return JK_EINVAL;
    if (!A->ok)
        return JK_ESTATE;
    return x86_failed_late(A, jk_x86_install_heap(A->x, h, fn));
}

size_t jk_asm_stmt_count(const jk_asm *A) { return A && A->ok ? A->nstmts : 0; }

const jk_asm_stmt *jk_asm_stmt_at(const jk_asm *A, size_t i)
{
    return A && A->ok && i < A->nstmts ? &A->stmts[i].s : NULL;
}

jk_status jk_asm_label_offset(const jk_asm *A, const char *name, size_t *offset)
{
    uint32_t i;
    if (!A || !name || !offset)
        return JK_EINVAL;
    if (!A->ok)
        return JK_ESTATE;
    {
        size_t n = strlen(name);
        uint64_t w0, w1;
        raw_pack(name, n, &w0, &w1);
        i = sym_lookup(A, name, n, sym_hash(name, n, w0, w1), w0, w1);
    }
    if (!i || A->syms[i].kind != SYM_LABEL || !A->syms[i].has_off)
        return JK_ELABEL;
    *offset = A->syms[i].off;
    return JK_OK;
}

jk_status jk_asm_set_resolver(jk_asm *A, jk_x86_resolver fn, void *ctx)
{
    if (!A)
        return JK_EINVAL;
    A->res_fn = fn;
    A->res_ctx = ctx;
    return jk_x86_set_resolver(A->x, fn, ctx);
}

unsigned jk_asm_passes(const jk_asm *A) { return A ? A->passes : 0; }

size_t jk_asm_size(const jk_asm *A) { return A && A->ok ? A->codesize : 0; }

size_t jk_asm_installed_size(const jk_asm *A)
{
    size_t size = 0;
    if (!A || !A->ok || jk_x86_finish(A->x, &size) != JK_OK)
        return 0;
    return size;
}

const jk_error *jk_asm_x86_error(const jk_asm *A)
{
    static const jk_error none = {JK_OK, 0, ""};
    if (!A || !A->x)
        return &none;
    return A->x86err.status != JK_OK ? &A->x86err : jk_x86_error(A->x);
}

/* The one-liners' common part: a handle with `text` assembled, or the
 * first diagnostic in *e. */
static jk_status load_text(const char *text, jk_x86_mode mode, jk_asm **out, jk_error *e)
{
    jk_asm *A;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_status st;
    o.mode = mode;
    *out = NULL;
    st = jk_asm_new(&A, &o, e);
    if (st != JK_OK)
        return st;
    st = jk_asm_assemble(A, text, (size_t)-1);
    if (st != JK_OK) {
        const jk_asm_diag *d = jk_asm_diag_at(A, 0);
        if (d)
            jk__fail(e, st, "%s:%u:%u: %s", d->file, d->line, d->col, d->message);
        else
            jk__fail(e, st, "assembly failed");
        jk_asm_free(A);
        return st;
    }
    *out = A;
    return JK_OK;
}

static jk_status load_done(jk_asm *A, jk_status st, jk_error *e)
{
    if (st != JK_OK)
        jk__fail(e, st, "%s", A->x86err.message[0] ? A->x86err.message : jk_status_str(st));
    jk_asm_free(A);
    return st;
}

jk_status jk_asm_load(const char *text, jk_x86_mode mode, jk_mem **mem, void **entry,
                      jk_error *e)
{
    jk_asm *A;
    jk_status st = load_text(text, mode, &A, e);
    if (st != JK_OK)
        return st;
    return load_done(A, jk_asm_install(A, NULL, mem, entry), e);
}

jk_status jk_asm_load_heap(const char *text, jk_x86_mode mode, jk_heap *h, void **fn,
                           jk_error *e)
{
    jk_asm *A;
    jk_status st;
    if (!fn)
        return jk__fail(e, JK_EINVAL, "jk_asm_load_heap: NULL fn");
    *fn = NULL;
    st = load_text(text, mode, &A, e);
    if (st != JK_OK)
        return st;
    return load_done(A, jk_asm_install_heap(A, h, fn), e);
}
