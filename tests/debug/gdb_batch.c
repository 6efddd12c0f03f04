/*
 * gdb_batch.c - the program of the gdb_batch test: tests/debug/lines.s
 * (argv[1]) installed three times as jit_f0, jit_f1, jit_f2, registered
 * with its line table in one batch (one gdb object), jit_f0 taken back in
 * a second batch (the object is rebuilt with the other two), then jit_f1
 * called: it stops at its int3, where gdb must name it, show its line and
 * resolve jit_f2 and its lines from the same object.
 */
#include "jitkit/jitkit.h"
#include "jitkit/debug.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    static char text[4096];
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    jk_asm_options ao = JK_ASM_OPTIONS_INIT;
    jk_debug_src *src;
    jk_debug *d;
    jk_asm *as;
    jk_error err;
    void *fn[3];
    size_t len;
    long (*f1)(void);
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (!f)
        return 2;
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    ao.flags = JK_ASM_LISTING;
    ao.filename = argv[1];
    if (jk_asm_new(&as, &ao, &err) != JK_OK || jk_asm_assemble(as, text, len) != JK_OK ||
        jk_debug_lines_from_asm(as, argv[1], &src, &err) != JK_OK ||
        jk_debug_new(&d, &opt, &err) != JK_OK)
        return 1;
    jk_debug_batch_begin(d);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "jit_f%d", i);
        if (jk_asm_install_heap(as, NULL, &fn[i]) != JK_OK ||
            jk_debug_register_ex(d, fn[i], jk_asm_installed_size(as), name, NULL, src,
                                 &err) != JK_OK) {
            fprintf(stderr, "gdb_batch: %s\n", err.message);
            return 1;
        }
    }
    if (jk_debug_batch_end(d, &err) != JK_OK)
        return 1;
    jk_debug_batch_begin(d);
    if (jk_debug_unregister(d, fn[0], &err) != JK_OK || jk_debug_batch_end(d, &err) != JK_OK)
        return 1;
    jk_debug_lines_free(src);
    memcpy(&f1, &fn[1], sizeof f1);
    printf("jit_f1() = %ld\n", f1());
    jk_debug_destroy(d, NULL);
    jk_asm_free(as);
    return 0;
}
