/*
 * os_windows.c - the OS contract of mem/os.h for Windows.
 *
 *   FLIP   VirtualAlloc(PAGE_READWRITE), VirtualProtect(PAGE_EXECUTE_READ),
 *          FlushInstructionCache after every change to executable code.
 *   DUAL   a pagefile-backed section mapped twice with MapViewOfFileEx: a
 *          FILE_MAP_WRITE view and a FILE_MAP_READ|FILE_MAP_EXECUTE view.
 *          The section object itself must be created with a maximum
 *          protection that admits both views; no single view is ever both
 *          writable and executable. This is what Windows offers for W^X JITs
 *          under Arbitrary Code Guard-like policies.
 */
#include "mem/os.h"

#include "core/error.h"
#include "core/fault.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <string.h>

#ifndef ERROR_DYNAMIC_CODE_BLOCKED
#  define ERROR_DYNAMIC_CODE_BLOCKED 1655L /* process policy forbids dynamic code */
#endif

static const char *os_text(DWORD code, char *buf, DWORD n)
{
    DWORD len = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                               code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), buf, n, NULL);
    if (len == 0) {
        snprintf(buf, n, "Windows error %lu", (unsigned long)code);
        return buf;
    }
    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n' || buf[len - 1] == '.'))
        buf[--len] = '\0';
    return buf;
}

static jk_status fail_win(jk_error *err, DWORD code, const char *what, const void *p,
                          size_t size, const char *prot)
{
    char buf[160];
    jk_status st = (code == ERROR_NOT_ENOUGH_MEMORY || code == ERROR_COMMITMENT_LIMIT)
                       ? JK_ENOMEM
                   : (code == ERROR_ACCESS_DENIED || code == ERROR_DYNAMIC_CODE_BLOCKED)
                       ? JK_EPOLICY
                       : JK_EOS;
    return jk__fail_os(err, st, (int)code, os_text(code, buf, sizeof buf), "%s(%p, %zu, %s)",
                       what, p, size, prot);
}

/* Consult the fault injector; on a hit, pretend the OS ran out of memory. */
static int injected(void)
{
    if (jk__fault_hit()) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return 1;
    }
    return 0;
}

size_t jk__os_page_size(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}

size_t jk__os_granularity(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwAllocationGranularity;
}

int jk__os_has(jk_mem_strategy s)
{
    return s == JK_MEM_FLIP || s == JK_MEM_DUAL;
}

static DWORD prot_bits(jk__prot prot)
{
    switch (prot) {
    case JK__PROT_NONE: return PAGE_NOACCESS;
    case JK__PROT_R:    return PAGE_READONLY;
    case JK__PROT_RW:   return PAGE_READWRITE;
    case JK__PROT_RX:   return PAGE_EXECUTE_READ;
    }
    return PAGE_NOACCESS;
}

static const char *prot_name(jk__prot prot)
{
    switch (prot) {
    case JK__PROT_NONE: return "PAGE_NOACCESS";
    case JK__PROT_R:    return "PAGE_READONLY";
    case JK__PROT_RW:   return "PAGE_READWRITE";
    case JK__PROT_RX:   return "PAGE_EXECUTE_READ";
    }
    return "?";
}

static jk_status map_flip(jk__os_map *map, size_t size, const void *hint, jk_error *err)
{
    void *p = injected() ? NULL
                         : VirtualAlloc((void *)hint, size, MEM_RESERVE | MEM_COMMIT,
                                        PAGE_READWRITE);
    if (!p && hint) /* the hint is a demand on Windows: retry anywhere */
        p = injected() ? NULL
                       : VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!p)
        return fail_win(err, GetLastError(), "VirtualAlloc", hint, size, "PAGE_READWRITE");
    map->rw = map->rx = p;
    return JK_OK;
}

static jk_status map_dual(jk__os_map *map, size_t size, const void *hint, jk_error *err)
{
    HANDLE section;
    void *rw, *rx;
    DWORD code;
    unsigned long long sz = size;

    /* Maximum protection of the section, not of any view (see the top). */
    section = injected() ? NULL
                         : CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
                                              PAGE_EXECUTE_READWRITE | SEC_COMMIT,
                                              (DWORD)(sz >> 32), (DWORD)sz, NULL);
    if (!section)
        return fail_win(err, GetLastError(), "CreateFileMapping", NULL, size,
                        "pagefile section for dual mapping");
    rx = injected() ? NULL
                    : MapViewOfFileEx(section, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, size,
                                      (void *)hint);
    if (!rx && hint)
        rx = injected() ? NULL
                        : MapViewOfFileEx(section, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0,
                                          size, NULL);
    if (!rx) {
        code = GetLastError();
        CloseHandle(section);
        return fail_win(err, code, "MapViewOfFileEx", hint, size,
                        "FILE_MAP_READ|FILE_MAP_EXECUTE (dual exec view)");
    }
    rw = injected() ? NULL : MapViewOfFileEx(section, FILE_MAP_WRITE, 0, 0, size, NULL);
    if (!rw) {
        code = GetLastError();
        UnmapViewOfFile(rx);
        CloseHandle(section);
        return fail_win(err, code, "MapViewOfFileEx", NULL, size,
                        "FILE_MAP_WRITE (dual write view)");
    }
    CloseHandle(section); /* the views keep the section alive */
    map->rw = rw;
    map->rx = rx;
    return JK_OK;
}

jk_status jk__os_map_new(jk__os_map *map, size_t size, jk_mem_strategy s, const void *hint,
                         jk_error *err)
{
    memset(map, 0, sizeof *map);
    map->size = size;
    map->strategy = s;
    switch (s) {
    case JK_MEM_FLIP:
        return map_flip(map, size, hint, err);
    case JK_MEM_DUAL:
        return map_dual(map, size, hint, err);
    default:
        return jk__fail(err, JK_EUNSUPPORTED, "memory strategy '%s' is not available here",
                        jk_mem_strategy_name(s));
    }
}

jk_status jk__os_unmap(jk__os_map *map, jk_error *err)
{
    jk_status st = JK_OK;

    if (map->strategy == JK_MEM_DUAL) {
        if (map->rx && (injected() || !UnmapViewOfFile(map->rx)))
            st = fail_win(err, GetLastError(), "UnmapViewOfFile", map->rx, map->size,
                          "exec view");
        if (map->rw && !UnmapViewOfFile(map->rw) && st == JK_OK)
            st = fail_win(err, GetLastError(), "UnmapViewOfFile", map->rw, map->size,
                          "write view");
    } else if (map->rx && (injected() || !VirtualFree(map->rx, 0, MEM_RELEASE))) {
        st = fail_win(err, GetLastError(), "VirtualFree", map->rx, map->size, "MEM_RELEASE");
    }
    memset(map, 0, sizeof *map);
    return st;
}

jk_status jk__os_protect(void *p, size_t size, jk__prot prot, jk_error *err)
{
    DWORD old;
    if (injected() || !VirtualProtect(p, size, prot_bits(prot), &old))
        return fail_win(err, GetLastError(), "VirtualProtect", p, size, prot_name(prot));
    return JK_OK;
}

void jk__os_flush_icache(const void *p, size_t size)
{
    FlushInstructionCache(GetCurrentProcess(), p, size);
}

int jk__os_probe_flip(void)
{
    DWORD old;
    size_t n = jk__os_page_size();
    void *p = VirtualAlloc(NULL, n, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    int ok;
    if (!p)
        return -1;
    ok = VirtualProtect(p, n, PAGE_EXECUTE_READ, &old) != 0;
    VirtualFree(p, 0, MEM_RELEASE);
    return ok;
}

void jk__os_jit_write(int writable)
{
    (void)writable;
}

int jk__os_dual_backend; /* one backend only on Windows: the pagefile section */
