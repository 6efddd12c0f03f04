/* Runs the six seed bytes through an installed jitkit. */
#include <jitkit/jitkit.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    static const unsigned char code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3};
    jk_error err;
    jk_mem *m;
    int (*fn)(void);
    void *p;
    if (jk_mem_load(&m, code, sizeof code, NULL, &err) != JK_OK) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    p = jk_mem_exec(m);
    memcpy(&fn, &p, sizeof fn);
    printf("result = 0x%x (jitkit %s)\n", (unsigned)fn(), jk_version());
    jk_mem_free(m, NULL);
    return 0;
}
