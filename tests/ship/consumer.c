/*
 * consumer.c - a program built on the amalgamation alone: dist/jitkit.c
 * compiled beside it, #include "jitkit.h". Runs a function returning
 * 0x12345678 and checks that the version it was compiled against is the
 * one it runs.
 */
#include "jitkit.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    static const unsigned char code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3};
#elif defined(__aarch64__)
    /* movz w0, #0x5678; movk w0, #0x1234, lsl 16; ret */
    static const unsigned char code[] = {0x00, 0xcf, 0x8a, 0x52, 0x80, 0x46, 0xa2, 0x72,
                                         0xc0, 0x03, 0x5f, 0xd6};
#else
#  error "consumer.c has machine code for x86 and AArch64 only"
#endif
    jk_error err;
    jk_mem *m;
    int (*fn)(void);
    void *p;
    if (strcmp(jk_version(), JK_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: header %s, library %s\n", JK_VERSION_STRING, jk_version());
        return 1;
    }
    if (jk_mem_load(&m, code, sizeof code, NULL, &err) != JK_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    p = jk_mem_exec(m);
    memcpy(&fn, &p, sizeof fn);
    printf("result = 0x%x (jitkit %s)\n", (unsigned)fn(), jk_version());
    return jk_mem_free(m, NULL) == JK_OK ? 0 : 1;
}
