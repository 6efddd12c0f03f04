/*
 * asm_sum.c - step 2 of the tutorial: generate the bytes instead of writing
 * them by hand. The x86 assembler builds
 *
 *     long sum(long n) { long s = 0; do s += n; while (--n); return s; }
 *
 * (first argument in rdi on System V, rcx on Windows), relaxes the loop's
 * branch to its shortest form, and the code heap installs it next to other
 * functions in shared pages. Step 3 writes the same thing as text.
 */
#include <jitkit/jitkit.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
#if defined(_WIN32)
    const jk_x86_op arg = JK_RCX;
#else
    const jk_x86_op arg = JK_RDI;
#endif
    jk_x86_asm *a;
    jk_heap *heap;
    jk_error err;
    unsigned char buf[64];
    size_t size;
    void *exec;
    long (*sum)(long);

    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        fprintf(stderr, "asm_sum: %s\n", err.message);
        return 1;
    }
    jk_label loop = jk_x86_label(a, "loop");
    jk_x86_xor(a, JK_EAX, JK_EAX);
    jk_x86_bind(a, loop);
    jk_x86_add(a, JK_RAX, arg);
    jk_x86_dec(a, arg);
    jk_x86_jnz(a, jk_lbl(loop));
    jk_x86_ret(a);
    /* One check for the whole sequence: errors are sticky. */
    if (jk_x86_finish(a, &size) != JK_OK || jk_x86_copy(a, buf, sizeof buf, 0) != JK_OK) {
        fprintf(stderr, "asm_sum: %s\n", jk_x86_error(a)->message);
        jk_x86_free(a);
        return 1;
    }
    jk_x86_free(a);

    printf("%zu bytes:", size);
    for (size_t i = 0; i < size; i++)
        printf(" %02x", buf[i]);
    printf("\n");

    /* The code has no absolute addresses, so it can be copied anywhere. */
    if (jk_heap_new(&heap, NULL, &err) != JK_OK ||
        jk_heap_install(heap, buf, size, &exec, &err) != JK_OK) {
        fprintf(stderr, "asm_sum: %s\n", err.message);
        return 1;
    }
    memcpy(&sum, &exec, sizeof sum);
    printf("sum(100) = %ld (strategy %s)\n", sum(100),
           jk_mem_strategy_name(jk_heap_strategy(heap)));
    jk_heap_free(heap, exec, NULL);
    jk_heap_destroy(heap, NULL);
    return 0;
}
