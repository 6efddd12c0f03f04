/*
 * rt_tool.c - assemble a corpus of single statements, one per line, each on
 * its own, through the text API.
 *
 *   test_text_rt_tool [-m32] --check FILE   compare with the expected bytes
 *   test_text_rt_tool [-m32] --dump FILE    print OK<TAB>hex or ERR<TAB>message
 *
 * FILE lines: "hexbytes<TAB>statement"; '#' lines are comments. The corpus
 * files tests/text/rt64.txt and rt32.txt are made by roundtrip.py from real
 * libraries (objdump -d -M intel, branch targets made '.'-relative) and keep
 * only lines whose bytes GNU as or the original agree with; --check runs
 * them everywhere, without binutils (ctest text_corpus64/32).
 */
#include <jitkit/jitkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv)
{
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    const char *file = NULL;
    int check = 0, passed = 0, failed = 0;
    char line[4096];
    FILE *f;
    jk_asm *as;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m32") == 0)
            o.mode = JK_X86_MODE32;
        else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc)
            check = 1, file = argv[++i];
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            file = argv[++i];
    }
    if (!file) {
        fprintf(stderr, "usage: %s [-m32] (--check|--dump) FILE\n", argv[0]);
        return 2;
    }
    f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    o.max_errors = 1;
    if (jk_asm_new(&as, &o, NULL) != JK_OK)
        return 2;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), *text, want[64];
        size_t len = strlen(line), n, wn = 0;
        const uint8_t *c;
        char got[64 * 2 + 1];
        if (line[0] == '#' || !tab)
            continue;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        *tab = '\0';
        text = tab + 1;
        for (char *p = line; *p && wn + 1 < sizeof want; p++)
            if (hexval((unsigned char)*p) >= 0)
                want[wn++] = (char)(*p | 0x20);
        want[wn] = '\0';
        if (jk_asm_assemble(as, text, strlen(text)) != JK_OK) {
            const jk_asm_diag *d = jk_asm_diag_at(as, 0);
            if (check) {
                failed++;
                printf("FAIL %s: %s\n", text, d ? d->message : "?");
            } else {
                printf("ERR\t%s\n", d ? d->message : "?");
            }
            continue;
        }
        c = jk_asm_code(as, &n);
        got[0] = '\0';
        for (size_t i = 0; i < n && i < 64; i++)
            snprintf(got + 2 * i, 3, "%02x", c[i]);
        if (!check) {
            printf("OK\t%s\n", got);
        } else if (strcmp(got, want) == 0) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: got %s, want %s\n", text, got, want);
        }
    }
    fclose(f);
    jk_asm_free(as);
    if (check)
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
