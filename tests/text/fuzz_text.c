/*
 * fuzz_text.c - fuzz target for the text assembler (parser + encoder +
 * layout): any input must give either code or diagnostics, never a crash,
 * a sanitizer report or a hang.
 *
 * The first byte picks mode, dialect and listing; the rest is the source.
 * Built with clang -fsanitize=fuzzer,address,undefined when available
 * (tests/text/CMakeLists.txt: fuzz_text, ctest text_fuzz_smoke); without
 * libFuzzer the same file becomes a replayer that runs every file named on
 * the command line (or in a directory given) once (ctest text_fuzz_replay).
 *
 *   ./fuzz_text -max_total_time=3600 new_units/ tests/text/corpus/
 */
#include <jitkit/jitkit.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const jk_asm *as, int ok)
{
    /* invariants: diagnostics are well formed; the listing tiles the code */
    size_t n = jk_asm_diag_count(as), size = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        const jk_asm_diag *d = jk_asm_diag_at(as, i);
        if (!d || !d->message || !d->message[0] || d->len == 0)
            abort();
    }
    if (ok != (n == 0))
        abort();
    if (ok) {
        jk_asm_code((jk_asm *)as, &size);
        for (size_t i = 0; i < jk_asm_stmt_count(as); i++) {
            const jk_asm_stmt *s = jk_asm_stmt_at(as, i);
            if (s->offset != sum && s->size)
                abort();
            sum += s->size;
        }
        if (jk_asm_stmt_count(as) && sum != size)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jk_asm *as[8];
    unsigned sel;
    jk_status st;
    if (size == 0)
        return 0;
    sel = data[0] & 7u;
    if (!as[sel]) {
        jk_asm_options o = JK_ASM_OPTIONS_INIT;
        o.mode = (sel & 1) ? JK_X86_MODE32 : JK_X86_MODE64;
        o.syntax = (sel & 2) ? JK_ASM_SYNTAX_NASM : JK_ASM_SYNTAX_GNU;
        o.flags = (sel & 4) ? JK_ASM_LISTING : 0;
        o.max_errors = 50;
        if (jk_asm_new(&as[sel], &o, NULL) != JK_OK)
            abort();
    }
    st = jk_asm_assemble(as[sel], (const char *)data + 1, size - 1);
    for (size_t i = 0; i < jk_asm_diag_count(as[sel]); i++)
        if (!jk_asm_diag_text(as[sel], i))
            abort();
    check(as[sel], st == JK_OK);
    return 0;
}

#ifndef JK_LIBFUZZER
#  if !defined(_WIN32)
#    include <dirent.h>
#  endif
static int replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        return 0;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    /* and the same text under every mode/dialect */
    for (uint8_t s = 0; s < 8 && n > 0; s++) {
        buf[0] = (uint8_t)((buf[0] & ~7u) | s);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
    }
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    int runs = 0;
    for (int i = 1; i < argc; i++) {
#  if !defined(_WIN32)
        DIR *d = opendir(argv[i]);
        if (d) {
            struct dirent *e;
            char path[4096];
            while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                runs += replay(path);
            }
            closedir(d);
            continue;
        }
#  endif
        runs += replay(argv[i]);
    }
    printf("replayed %d inputs\n%d passed, 0 failed\n", runs, runs);
    return runs ? 0 : 1;
}
#endif
