/*
 * hello.c - the classic recipe, on jitkit: six bytes of x86 machine code,
 *
 *     b8 78 56 34 12    mov eax, 0x12345678
 *     c3                ret
 *
 * copied into freshly allocated memory, made executable (never writable and
 * executable at once), called through a function pointer, and released.
 * The next steps of the tutorial are listed in examples/README.md.
 */
#include <jitkit/jitkit.h>

#include <stdio.h>
#include <string.h>

typedef int (*fn_int)(void);

int main(void)
{
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    static const unsigned char code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3};
#elif defined(__aarch64__)
    /* The same function for AArch64: movz w0, #0x5678; movk w0, #0x1234, lsl 16; ret */
    static const unsigned char code[] = {0x00, 0xcf, 0x8a, 0x52, 0x80, 0x46, 0xa2, 0x72,
                                         0xc0, 0x03, 0x5f, 0xd6};
#else
#  error "hello.c has machine code for x86 and AArch64 only"
#endif
    jk_error err;
    jk_mem *mem;
    fn_int fn;
    int result;

    /* 1. writable memory; 2. copy the bytes; 3. make it read+execute. */
    if (jk_mem_alloc(&mem, sizeof code, NULL, &err) != JK_OK) {
        fprintf(stderr, "hello: %s\n", err.message);
        return 1;
    }
    memcpy(jk_mem_writable(mem), code, sizeof code);
    if (jk_mem_commit(mem, &err) != JK_OK) {
        fprintf(stderr, "hello: %s\n", err.message);
        jk_mem_free(mem, NULL);
        return 1;
    }

    /* 4. call it. Converting an object pointer to a function pointer is
     * what every JIT does; ISO C leaves it to the platform (POSIX and
     * Windows define it), so go through memcpy to keep compilers quiet. */
    {
        void *p = jk_mem_exec(mem);
        memcpy(&fn, &p, sizeof fn);
    }
    result = fn();
    printf("result = 0x%x\n", (unsigned)result);
    printf("memory strategy: %s\n", jk_mem_strategy_name(jk_mem_strategy_of(mem)));

    /* 5. release. */
    jk_mem_free(mem, NULL);
    return result == 0x12345678 ? 0 : 1;
}
