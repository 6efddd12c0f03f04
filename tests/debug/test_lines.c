/*
 * test_lines.c - line tables: the text assembler's statements as a table
 * (tests/debug/lines.s, the file named by the first argument), the checks
 * of jk_debug_register_ex, and the DWARF that gdb's object gets for it:
 * written out and decoded by objdump --dwarf=decodedline (JK_OBJDUMP),
 * compared row for row with what GNU as -g writes for the same file
 * (JK_AS, JK_TMP) - the oracle for the line program and compile unit.
 */
#include "jt.h"

#include "jitkit/asm.h"
#include "jitkit/debug.h"

#include <stdlib.h>
#include <string.h>

struct jit_code_entry {
    struct jit_code_entry *next_entry, *prev_entry;
    const char *symfile_addr;
    uint64_t symfile_size;
};
struct jit_descriptor {
    uint32_t version, action_flag;
    struct jit_code_entry *relevant_entry, *first_entry;
};
extern struct jit_descriptor __jit_debug_descriptor;

static const char *path;
static char text[4096];
static size_t text_len;

/* lines.s: offset -> line of every statement with bytes (the nop shares
 * line 9 with mov eax, 42) */
static const jk_debug_line want[] = {{0, 5}, {1, 6}, {4, 7}, {6, 8}, {7, 9}, {13, 10},
                                     {14, 11}};
enum { NWANT = sizeof want / sizeof want[0], CODE_SIZE = 15 };

static jk_asm *assemble(void)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    o.flags = JK_ASM_LISTING;
    o.filename = path;
    if (jk_asm_new(&as, &o, &err) != JK_OK)
        return NULL;
    if (jk_asm_assemble(as, text, text_len) != JK_OK) {
        printf("%s\n", jk_asm_diag_text(as, 0));
        jk_asm_free(as);
        return NULL;
    }
    return as;
}

static void test_from_asm(void)
{
    jk_asm *as = assemble();
    jk_asm *bare;
    jk_debug_src *src;
    jk_error err;
    JT_CHECK(as != NULL);
    if (!as)
        return;
    JT_EQ_U64(jk_asm_size(as), CODE_SIZE);
    JT_OK(jk_debug_lines_from_asm(as, "lines.s", &src, &err), &err);
    JT_EQ_U64(src->nlines, NWANT);
    for (size_t i = 0; i < src->nlines && i < NWANT; i++) {
        JT_EQ_U64(src->lines[i].offset, want[i].offset);
        JT_EQ_U64(src->lines[i].line, want[i].line);
    }
    JT_CHECK(strcmp(src->file, "lines.s") == 0);
    /* a relative name is relative to the current directory */
    JT_CHECK(src->comp_dir != NULL && src->comp_dir[0] != 0);
    jk_debug_lines_free(src);
    JT_OK(jk_debug_lines_from_asm(as, "/abs/lines.s", &src, &err), &err);
    JT_CHECK(src->comp_dir == NULL);
    jk_debug_lines_free(src);
    jk_debug_lines_free(NULL);
    JT_EQ_I64(jk_debug_lines_from_asm(as, NULL, &src, &err), JK_EINVAL);
    JT_CHECK(src == NULL);
    JT_EQ_I64(jk_debug_lines_from_asm(NULL, "x.s", &src, &err), JK_EINVAL);
    /* without JK_ASM_LISTING there are no statements */
    JT_OK(jk_asm_new(&bare, NULL, &err), &err);
    JT_OK(jk_asm_assemble(bare, "nop\nret\n", (size_t)-1), &err);
    JT_EQ_I64(jk_debug_lines_from_asm(bare, "x.s", &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "JK_ASM_LISTING");
    jk_asm_free(bare);
    jk_asm_free(as);
}

static void test_register_errors(void)
{
    jk_debug *d;
    jk_error err;
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    unsigned char code[16] = {0xc3};
    jk_debug_line rows[3] = {{0, 1}, {4, 2}, {8, 3}};
    jk_debug_src src = {"f.s", NULL, rows, 3};
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    rows[1].offset = 0;
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "row 1: offset 0 after 0");
    rows[1].offset = 4;
    rows[2].offset = 16;
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "row 2: offset 16 is not below the code size 16");
    rows[2].offset = 8;
    rows[0].line = 0;
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "row 0 (offset 0) has line 0");
    rows[0].line = 1;
    src.file = "";
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "no file name");
    src.file = "a\nb.s";
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "line break");
    src.file = "f.s";
    src.nlines = 0;
    JT_EQ_I64(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "no rows");
    JT_EQ_U64(jk_debug_count(d), 0);
    src.nlines = 3;
    JT_OK(jk_debug_register_ex(d, code, 16, "f", NULL, &src, &err), &err);
    JT_EQ_U64(jk_debug_count(d), 1);
    JT_OK(jk_debug_destroy(d, &err), &err);
}

/* Decoded rows "line offset" of objdump --dwarf=decodedline on `obj`, the
 * addresses made relative to `base`; the end-of-sequence row ends them. */
static size_t decoded(const char *objdump, const char *obj, uint64_t base, jk_debug_line *out,
                      size_t cap)
{
    char cmd[2048], line[512];
    size_t n = 0;
    FILE *p;
    snprintf(cmd, sizeof cmd, "%s --dwarf=decodedline %s", objdump, obj);
    p = popen(cmd, "r");
    if (!p)
        return 0;
    while (fgets(line, sizeof line, p)) {
        char file[256];
        unsigned long ln;
        unsigned long long addr;
        if (sscanf(line, "%255s %lu %llx", file, &ln, &addr) == 3 && strstr(file, "lines.s") &&
            n < cap) {
            out[n].offset = (uint32_t)(addr - base);
            out[n].line = (uint32_t)ln;
            n++;
        }
    }
    pclose(p);
    return n;
}

static void test_dwarf_oracle(void)
{
    const char *objdump = getenv("JK_OBJDUMP"), *gas = getenv("JK_AS"), *tmp = getenv("JK_TMP");
    jk_debug *d;
    jk_error err;
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    jk_asm *as = assemble();
    jk_debug_src *src;
    const uint8_t *code;
    size_t size;
    char img_path[1024], obj_path[1024], cmd[4096];
    jk_debug_line ours[32], theirs[32];
    size_t n_ours, n_theirs;
    FILE *f;
    const struct jit_code_entry *e;
    JT_CHECK(as != NULL);
    if (!as)
        return;
    if (!objdump || !gas || !tmp || sizeof(void *) != 8) {
        /* lines.s is 64-bit code, which GNU as --32 does not take */
        printf("skip: the DWARF comparison needs JK_OBJDUMP, JK_AS, JK_TMP and a 64-bit "
               "process\n");
        jk_asm_free(as);
        return;
    }
    code = jk_asm_code(as, &size);
    JT_OK(jk_debug_lines_from_asm(as, path, &src, &err), &err);
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    /* the object describes the code where it is; nothing runs it here */
    JT_OK(jk_debug_register_ex(d, code, size, "jit_lines", NULL, src, &err), &err);
    jk_debug_lines_free(src);
    e = __jit_debug_descriptor.first_entry;
    JT_CHECK(e != NULL);
    snprintf(img_path, sizeof img_path, "%s/lines_jit.elf", tmp);
    snprintf(obj_path, sizeof obj_path, "%s/lines_gas.o", tmp);
    f = fopen(img_path, "wb");
    JT_CHECK(f != NULL);
    if (f && e) {
        fwrite(e->symfile_addr, 1, (size_t)e->symfile_size, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "%s -g --%d -o %s %s", gas, (int)(8 * sizeof(void *)), obj_path,
             path);
    JT_EQ_I64(system(cmd), 0);
    n_ours = decoded(objdump, img_path, (uint64_t)(uintptr_t)code, ours, 32);
    n_theirs = decoded(objdump, obj_path, 0, theirs, 32);
    printf("objdump decodes %zu rows from jitkit's object, %zu from GNU as -g\n", n_ours,
           n_theirs);
    JT_EQ_U64(n_ours, NWANT);
    JT_EQ_U64(n_ours, n_theirs);
    for (size_t i = 0; i < n_ours && i < n_theirs; i++) {
        JT_EQ_U64(ours[i].offset, theirs[i].offset);
        JT_EQ_U64(ours[i].line, theirs[i].line);
    }
    JT_OK(jk_debug_destroy(d, &err), &err);
    jk_asm_free(as);
}

int main(int argc, char **argv)
{
    FILE *f;
    if (argc < 2) {
        fprintf(stderr, "usage: %s lines.s [test]\n", argv[0]);
        return 2;
    }
    path = argv[1];
    if (argc > 2)
        jt_only = argv[2];
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    text_len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    JT_RUN(test_from_asm);
    JT_RUN(test_register_errors);
    JT_RUN(test_dwarf_oracle);
    return jt_finish();
}
