/*
 * test_text.c - the text assembler through its API: bytes for typical
 * statements, both dialects, expressions, labels, passes, listings, and
 * the diagnostics (position, message, caret, several per run).
 */
#include "jt.h"

#include <jitkit/jitkit.h>

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

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    JT_RUN(test_seed);
    jk_asm_free(as_);
    return jt_finish();
}
