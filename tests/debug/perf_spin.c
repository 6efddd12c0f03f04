/*
 * perf_spin.c - the program perf_record.sh profiles: a JIT function named
 * jit_spin_loop that counts down from argv[1] (default 300 million),
 * registered for perf's map file and jitdump (in $JK_JITDUMP_DIR).
 */
#include "jitkit/jitkit.h"
#include "jitkit/debug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    jk_debug_options opt = {JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP | JK_DEBUG_NO_ENV, NULL};
    long n = argc > 1 ? atol(argv[1]) : 300000000L;
    unsigned char code[64];
    jk_x86_asm *a;
    jk_debug *d;
    jk_mem *m;
    jk_error err;
    size_t size;
    void *p;
    long (*fn)(long);
    jk_label top;
    opt.jitdump_dir = getenv("JK_JITDUMP_DIR");
    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK)
        return 1;
    top = jk_x86_label(a, "top");
    jk_x86_mov(a, JK_RAX, jk_x86_imm(n));
    jk_x86_bind(a, top);
    jk_x86_dec(a, JK_RAX);
    jk_x86_jnz(a, jk_x86_lbl(top));
    jk_x86_ret(a);
    if (jk_x86_finish(a, &size) != JK_OK || jk_x86_copy(a, code, sizeof code, 0) != JK_OK)
        return 1;
    jk_x86_free(a);
    if (jk_debug_new(&d, &opt, &err) != JK_OK || jk_mem_load(&m, code, size, NULL, &err) != JK_OK ||
        jk_debug_register(d, jk_mem_exec(m), size, "jit_spin_loop", NULL, &err) != JK_OK) {
        fprintf(stderr, "perf_spin: %s\n", err.message);
        return 1;
    }
    p = jk_mem_exec(m);
    memcpy(&fn, &p, sizeof p);
    printf("jit_spin_loop returned %ld\n", fn(0));
    jk_debug_destroy(d, NULL);
    jk_mem_free(m, NULL);
    return 0;
}
