/*
 * heap_os_windows.c - the code heap's per-OS helpers (mem/heap_p.h) for
 * Windows. There is no fork(), so the fork hooks do nothing. The build
 * compiles every src/ file, so this one guards itself.
 */
#if defined(_WIN32)

#include "mem/heap_p.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

void jk__heap_os_yield(void)
{
    SwitchToThread();
}

const void *jk__heap_os_host_code(void)
{
    /* The executable's image base: its code follows within megabytes. */
    HMODULE exe = GetModuleHandleW(NULL);
    return exe ? (const void *)exe : (const void *)(uintptr_t)&jk_heap_new;
}

void jk__heap_os_fork_init(void)
{
}

int jk__heap_os_fork_fix(char *rx, char *rw, size_t size, size_t guard, int copy)
{
    (void)rx;
    (void)rw;
    (void)size;
    (void)guard;
    (void)copy;
    return 0;
}

#else
typedef int jk__heap_os_windows_empty; /* ISO C: no empty translation units */
#endif
