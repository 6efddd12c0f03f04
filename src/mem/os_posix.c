/*
 * os_posix.c - the OS contract of mem/os.h for Linux, the BSDs and macOS.
 *
 *   FLIP     mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON), then mprotect.
 *   DUAL     one shared memory object mapped twice (MAP_SHARED): an RW view
 *            and an RX view. The object is memfd_create where it exists,
 *            else shm_open with a random name unlinked at once, else an
 *            unlinked file from mkstemp in $TMPDIR or /tmp. The descriptor
 *            is closed after mapping; the views keep the pages alive. On
 *            Linux the RW view is MADV_DONTFORK: a forked child gets no
 *            writable view of its parent's code.
 *   MAP_JIT  macOS on arm64 only (Apple's hardened runtime): written from
 *            Apple's documentation and NOT exercised by our CI.
 */
#include "mem/os.h"

#include "core/error.h"
#include "core/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#  include <sys/syscall.h>
#endif
#if defined(__APPLE__)
#  include <libkern/OSCacheControl.h>
#  include <pthread.h>
#endif

#if defined(__APPLE__) && defined(__aarch64__) && defined(MAP_JIT)
#  define JK_HAVE_MAP_JIT 1
#else
#  define JK_HAVE_MAP_JIT 0
#endif

#ifndef MAP_ANONYMOUS
#  define MAP_ANONYMOUS MAP_ANON
#endif

static const char *os_text(int e, char *buf, size_t n)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, n);
#else
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
#endif
}

/* Fail with errno's text; maps policy refusals to JK_EPOLICY. */
static jk_status fail_errno(jk_error *err, int e, const char *what, const void *p, size_t size,
                            const char *prot)
{
    char buf[128];
    jk_status st = (e == ENOMEM) ? JK_ENOMEM
                 : (e == EACCES || e == EPERM) ? JK_EPOLICY : JK_EOS;
    return jk__fail_os(err, st, e, os_text(e, buf, sizeof buf), "%s(%p, %zu, %s)", what, p,
                       size, prot);
}

static const char *prot_name(jk__prot prot)
{
    switch (prot) {
    case JK__PROT_NONE: return "NONE";
    case JK__PROT_R:    return "READ";
    case JK__PROT_RW:   return "READ|WRITE";
    case JK__PROT_RX:   return "READ|EXEC";
    }
    return "?";
}

static int prot_bits(jk__prot prot)
{
    switch (prot) {
    case JK__PROT_NONE: return PROT_NONE;
    case JK__PROT_R:    return PROT_READ;
    case JK__PROT_RW:   return PROT_READ | PROT_WRITE;
    case JK__PROT_RX:   return PROT_READ | PROT_EXEC;
    }
    return PROT_NONE;
}

size_t jk__os_page_size(void)
{
    static size_t cached;
    if (!cached) {
        long n = sysconf(_SC_PAGESIZE);
        cached = n > 0 ? (size_t)n : 4096;
    }
    return cached;
}

size_t jk__os_granularity(void)
{
    return jk__os_page_size();
}

int jk__os_has(jk_mem_strategy s)
{
    switch (s) {
    case JK_MEM_FLIP:
        /* Apple silicon refuses executable mappings without MAP_JIT in a
         * hardened process, but allows them in plain ones: keep FLIP. */
        return 1;
    case JK_MEM_DUAL:
        return 1;
    case JK_MEM_MAP_JIT:
        return JK_HAVE_MAP_JIT;
    default:
        return 0;
    }
}

/* -- Mapping ---------------------------------------------------------------- */

static void *do_mmap(void *hint, size_t size, int prot, int flags, int fd, int *e)
{
    void *p;
    if (jk__fault_hit()) {
        *e = ENOMEM;
        return MAP_FAILED;
    }
    p = mmap(hint, size, prot, flags, fd, 0);
    *e = p == MAP_FAILED ? errno : 0;
    return p;
}

static int do_munmap(void *p, size_t size)
{
    if (jk__fault_hit()) {
        errno = EINVAL;
        return -1;
    }
    return munmap(p, size);
}

/* Which object backs a dual mapping; tests force each in turn. */
int jk__os_dual_backend;

static int open_memfd(void)
{
#if defined(__linux__) && defined(SYS_memfd_create)
    return (int)syscall(SYS_memfd_create, "jitkit-code", 1u /* MFD_CLOEXEC */);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static int open_shm(void)
{
#if defined(SHM_ANON)
    return shm_open(SHM_ANON, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
#elif defined(__ANDROID__)
    errno = ENOSYS;
    return -1;
#else
    /* A random name, unlinked at once: the object lives only through fd. */
    char name[64];
    uint64_t r = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&name;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 8; tries++) {
        r = r * 6364136223846793005u + 1442695040888963407u;
        snprintf(name, sizeof name, "/jitkit-%ld-%llx", (long)getpid(), (unsigned long long)r);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0)
            shm_unlink(name);
        else if (errno != EEXIST)
            break;
    }
    return fd;
#endif
}

static int open_tmpfile(void)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    int fd;
    if (!dir || !*dir || strlen(dir) > 400)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/jitkit-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0) {
        unlink(path);
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    return fd;
}

/* Open an anonymous shared-memory object of `size` bytes: memfd_create,
 * else shm_open, else an unlinked temporary file (jk__os_dual_backend 1..3
 * forces one). Returns -1 with *e set and *step naming the failed call. */
static int open_shared_object(size_t size, int *e, const char **step)
{
    static const struct {
        const char *name;
        int (*open)(void);
    } backends[] = {{"memfd_create", open_memfd}, {"shm_open", open_shm},
                    {"mkstemp", open_tmpfile}};
    int fd = -1;

    *step = backends[0].name;
    if (jk__fault_hit()) {
        *e = EMFILE;
        return -1;
    }
    for (int i = 0; i < 3 && fd < 0; i++) {
        if (jk__os_dual_backend && jk__os_dual_backend != i + 1)
            continue;
        *step = backends[i].name;
        fd = backends[i].open();
    }
    if (fd < 0) {
        *e = errno;
        return -1;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        *e = errno;
        *step = "ftruncate";
        close(fd);
        return -1;
    }
    return fd;
}

static jk_status map_flip(jk__os_map *map, size_t size, const void *hint, jk_error *err)
{
    int e;
    void *p = do_mmap((void *)hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, &e);
    if (p == MAP_FAILED)
        return fail_errno(err, e, "mmap", hint, size, "READ|WRITE, PRIVATE|ANONYMOUS");
    map->rw = map->rx = p;
    return JK_OK;
}

static jk_status map_dual(jk__os_map *map, size_t size, const void *hint, jk_error *err)
{
    const char *step = "memfd_create";
    int e = 0, fd;
    void *rw, *rx;
    char buf[128];

    fd = open_shared_object(size, &e, &step);
    if (fd < 0)
        return jk__fail_os(err, e == ENOMEM ? JK_ENOMEM : JK_EOS, e,
                           os_text(e, buf, sizeof buf),
                           "%s: cannot create the shared memory object for dual mapping",
                           step);
    rx = do_mmap((void *)hint, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, &e);
    if (rx == MAP_FAILED) {
        close(fd);
        return fail_errno(err, e, "mmap", hint, size, "READ|EXEC, SHARED (dual exec view)");
    }
    rw = do_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, &e);
    close(fd);
    if (rw == MAP_FAILED) {
        munmap(rx, size);
        return fail_errno(err, e, "mmap", NULL, size, "READ|WRITE, SHARED (dual write view)");
    }
#if defined(__linux__) && defined(MADV_DONTFORK)
    /* A forked child must not be able to write its parent's code. */
    (void)madvise(rw, size, MADV_DONTFORK);
#endif
    map->rw = rw;
    map->rx = rx;
    return JK_OK;
}

#if JK_HAVE_MAP_JIT
static jk_status map_jit(jk__os_map *map, size_t size, const void *hint, jk_error *err)
{
    int e;
    /* MAP_JIT regions are mapped with all three permissions by design; the
     * hardware enforces W^X per thread through pthread_jit_write_protect_np,
     * so no thread ever sees the region writable and executable at once. */
    void *p = do_mmap((void *)hint, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_JIT, -1, &e);
    if (p == MAP_FAILED)
        return fail_errno(err, e, "mmap", hint, size, "MAP_JIT");
    pthread_jit_write_protect_np(0);
    map->rw = map->rx = p;
    return JK_OK;
}
#endif

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
#if JK_HAVE_MAP_JIT
    case JK_MEM_MAP_JIT:
        return map_jit(map, size, hint, err);
#endif
    default:
        return jk__fail(err, JK_EUNSUPPORTED, "memory strategy '%s' is not available here",
                        jk_mem_strategy_name(s));
    }
}

jk_status jk__os_unmap(jk__os_map *map, jk_error *err)
{
    jk_status st = JK_OK;
    char buf[128];

    if (map->rx && do_munmap(map->rx, map->size) != 0) {
        int e = errno;
        st = jk__fail_os(err, JK_EOS, e, os_text(e, buf, sizeof buf), "munmap(%p, %zu)",
                         (void *)map->rx, map->size);
    }
    if (map->rw && map->rw != map->rx && munmap(map->rw, map->size) != 0 && st == JK_OK) {
        int e = errno;
        st = jk__fail_os(err, JK_EOS, e, os_text(e, buf, sizeof buf), "munmap(%p, %zu)",
                         (void *)map->rw, map->size);
    }
    memset(map, 0, sizeof *map);
    return st;
}

jk_status jk__os_protect(void *p, size_t size, jk__prot prot, jk_error *err)
{
    int e;
    if (jk__fault_hit())
        e = ENOMEM;
    else if (mprotect(p, size, prot_bits(prot)) == 0)
        return JK_OK;
    else
        e = errno;
    return fail_errno(err, e, "mprotect", p, size, prot_name(prot));
}

#if defined(__aarch64__) && defined(__GNUC__) && !defined(__APPLE__)
/* AArch64 (Arm ARM, "Concurrent modification and execution of instructions"):
 * clean the data cache to the point of unification line by line, DSB ISH,
 * invalidate the instruction cache line by line, DSB ISH, ISB. The line
 * sizes come from CTR_EL0 (DminLine 19:16, IminLine 3:0, log2 of words);
 * CTR_EL0.IDC (28) says the clean is not needed, .DIC (29) the invalidate.
 * Linux lets EL0 read CTR_EL0 and run DC CVAU / IC IVAU. */
static void a64_sync_icache(const void *p, size_t size)
{
    uint64_t ctr;
    uintptr_t a, end = (uintptr_t)p + size, dline, iline;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    dline = (uintptr_t)4 << ((ctr >> 16) & 15);
    iline = (uintptr_t)4 << (ctr & 15);
    if (!((ctr >> 28) & 1))
        for (a = (uintptr_t)p & ~(dline - 1); a < end; a += dline)
            __asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
    __asm__ volatile("dsb ish" : : : "memory");
    if (!((ctr >> 29) & 1)) {
        for (a = (uintptr_t)p & ~(iline - 1); a < end; a += iline)
            __asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
        __asm__ volatile("dsb ish" : : : "memory");
    }
    __asm__ volatile("isb" : : : "memory");
}
#endif

void jk__os_flush_icache(const void *p, size_t size)
{
#if defined(__APPLE__)
    sys_icache_invalidate((void *)p, size);
#elif defined(__i386__) || defined(__x86_64__)
    /* x86 keeps instruction fetch coherent with stores; a new mapping or a
     * protection change also serialises. Nothing to do. */
    (void)p;
    (void)size;
#elif defined(__aarch64__) && defined(__GNUC__)
    a64_sync_icache(p, size);
#elif defined(__GNUC__)
    __builtin___clear_cache((char *)p, (char *)p + size);
#else
#  error "no instruction cache flush for this compiler"
#endif
}

int jk__os_probe_flip(void)
{
    size_t n = jk__os_page_size();
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int ok;
    if (p == MAP_FAILED)
        return -1;
    ok = mprotect(p, n, PROT_READ | PROT_EXEC) == 0;
    munmap(p, n);
    return ok;
}

void jk__os_jit_write(int writable)
{
#if JK_HAVE_MAP_JIT
    pthread_jit_write_protect_np(writable ? 0 : 1);
#else
    (void)writable;
#endif
}
