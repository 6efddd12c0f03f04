/*
 * wx_audit.h - "is any page of this process writable and executable?"
 *
 * Linux: every line of /proc/self/maps. Windows: every region VirtualQuery
 * reports. Elsewhere the audit is unavailable and says so.
 * Returns the number of W+X regions found (0 is the only good answer), or
 * -1 if the audit cannot run; `where` receives a description of the first.
 */
#ifndef WX_AUDIT_H
#define WX_AUDIT_H

#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#endif

static inline int wx_audit(char *where, size_t n)
{
    int found = 0;
#if defined(__linux__)
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char perms[8] = {0};
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w' && perms[2] == 'x') {
            if (!found++)
                snprintf(where, n, "%.*s", (int)(n > 1 ? n - 1 : 0), line);
        }
    }
    fclose(f);
#elif defined(_WIN32)
    MEMORY_BASIC_INFORMATION mbi;
    unsigned char *p = NULL;
    while (VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi) {
        DWORD prot = mbi.Protect & 0xff;
        if (mbi.State == MEM_COMMIT &&
            (prot == PAGE_EXECUTE_READWRITE || prot == PAGE_EXECUTE_WRITECOPY)) {
            if (!found++)
                snprintf(where, n, "%p +%zu protect 0x%lx type 0x%lx", mbi.BaseAddress,
                         (size_t)mbi.RegionSize, (unsigned long)mbi.Protect,
                         (unsigned long)mbi.Type);
        }
        p = (unsigned char *)mbi.BaseAddress + mbi.RegionSize;
        if ((uintptr_t)p < (uintptr_t)mbi.BaseAddress)
            break;
    }
#else
    (void)where;
    (void)n;
    return -1;
#endif
    return found;
}

/* Sanitizer runtimes map shadow memory as the test runs: map counts are
 * meaningless there (SANITIZED is 1). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#  define SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#    define SANITIZED 1
#  endif
#endif
#ifndef SANITIZED
#  define SANITIZED 0
#endif

/* Number of mappings in the process (Linux), for leak checks; -1 elsewhere. */
static inline int map_count(void)
{
#if defined(__linux__)
    int c, lines = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
#else
    return -1;
#endif
}

#endif
