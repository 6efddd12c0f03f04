/*
 * perf.c - tell Linux perf about JIT code: /tmp/perf-<pid>.map and the
 * jitdump file (tools/perf/Documentation/jitdump-specification.txt).
 *
 *   map      one text line per function, "START SIZE name" in hex; perf
 *            report reads it for samples in anonymous executable memory.
 *            Lines are never removed (perf reads the file after the run).
 *   jitdump  <dir>/jit-<pid>.dump: a 40-byte header (magic 0x4A695444,
 *            version 1, ELF machine, pid, CLOCK_MONOTONIC time) followed by
 *            one JIT_CODE_LOAD record per function (pid, tid, address,
 *            size, a running index, the name and a copy of the code bytes),
 *            preceded by a JIT_CODE_DEBUG_INFO record (address, line and
 *            file per row) when the function has a line table.
 *            The file is also mapped read+exec once: that mmap is the
 *            event perf record sees and perf inject -j follows to the file,
 *            so it must stay mapped. Record with `perf record -k 1` so the
 *            sample clock is CLOCK_MONOTONIC, like our timestamps.
 *
 * Both files are per process and shared by every registry (one lock).
 * They are opened by the first registration that needs them; a process
 * that finds its files were opened by another pid (it is a fork()ed child)
 * opens its own, and each registry re-sends the functions it holds.
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#if defined(__linux__)

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define JITDUMP_MAGIC 0x4A695444u
#define JIT_CODE_LOAD 0u
#define JIT_CODE_DEBUG_INFO 2u

static pthread_mutex_t perf_lock = PTHREAD_MUTEX_INITIALIZER;
static int map_fd = -1, dump_fd = -1;
static pid_t map_pid, dump_pid;
static void *marker;
static size_t marker_len;
static uint64_t code_index;

int jk__perf_supported(void)
{
    return 1;
}

void jk__perf_fork(int phase)
{
    if (phase == 0)
        pthread_mutex_lock(&perf_lock);
    else
        pthread_mutex_unlock(&perf_lock);
}

int jk__perf_pid_changed(unsigned long *pid_seen)
{
    unsigned long now = (unsigned long)getpid();
    if (*pid_seen == now)
        return 0;
    *pid_seen = now;
    return 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* write() all of iov or fail with errno */
static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w;
        if (jk__fault_hit()) {
            errno = ENOSPC;
            return -1;
        }
        w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* The JIT_CODE_DEBUG_INFO record of f (which has lines): code address,
 * count, then per row {address, line, discriminator 0, file name}. The
 * name is the full path when the table has a directory, so perf finds
 * the file for annotate. */
static jk_status write_debug_info(const jk__dbg_fn *f, jk_error *err)
{
    int rel = f->src_dir[0] && f->src_file[0] != '/';
    size_t dl = rel ? strlen(f->src_dir) + 1 : 0, fl = strlen(f->src_file) + 1;
    size_t entry = 16 + dl + fl, total;
    uint8_t *rec, *p;
    struct iovec iov;
    jk_status s = JK_OK;
    if (f->nlines > (UINT32_MAX - 32) / entry)
        return jk__fail(err, JK_EINVAL, "jitdump: the line table of %s is too large for a "
                                        "record", f->name);
    total = 32 + f->nlines * entry;
    rec = jk__malloc(total);
    if (!rec)
        return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
    le(rec, JIT_CODE_DEBUG_INFO, 4);
    le(rec + 4, total, 4);
    le(rec + 8, now_ns(), 8);
    le(rec + 16, (uint64_t)(uintptr_t)f->code, 8);
    le(rec + 24, f->nlines, 8);
    p = rec + 32;
    for (size_t i = 0; i < f->nlines; i++) {
        le(p, (uint64_t)(uintptr_t)f->code + f->lines[i].offset, 8);
        le(p + 8, f->lines[i].line, 4);
        le(p + 12, 0, 4);
        p += 16;
        if (rel) {
            memcpy(p, f->src_dir, dl - 1);
            p[dl - 1] = '/';
            p += dl;
        }
        memcpy(p, f->src_file, fl);
        p += fl;
    }
    iov.iov_base = rec;
    iov.iov_len = total;
    if (write_all(dump_fd, &iov, 1) != 0)
        s = jk__fail_os(err, JK_EOS, errno, strerror(errno), "write(jit-%ld.dump)",
                        (long)dump_pid);
    jk__free(rec);
    return s;
}

static jk_status open_map(jk_error *err)
{
    char path[64];
    pid_t pid = getpid();
    if (map_fd >= 0 && map_pid == pid)
        return JK_OK;
    if (map_fd >= 0)
        close(map_fd); /* the parent's, inherited through fork */
    map_fd = -1;
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)pid);
    if (jk__fault_hit()) {
        errno = EMFILE;
        return jk__fail_os(err, JK_EOS, errno, strerror(errno), "open(%s)", path);
    }
    map_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (map_fd < 0)
        return jk__fail_os(err, JK_EOS, errno, strerror(errno), "open(%s)", path);
    map_pid = pid;
    return JK_OK;
}

static jk_status open_dump(const char *dir, unsigned machine, jk_error *err)
{
    char path[4096];
    uint8_t h[40];
    struct iovec iov;
    pid_t pid = getpid();
    long page = sysconf(_SC_PAGESIZE);
    int e;
    if (dump_fd >= 0 && dump_pid == pid)
        return JK_OK;
    if (dump_fd >= 0) {
        /* inherited from the parent: its marker mapping and descriptor are
           not ours to write to */
        if (marker)
            munmap(marker, marker_len);
        close(dump_fd);
    }
    marker = NULL;
    dump_fd = -1;
    if ((size_t)snprintf(path, sizeof path, "%s/jit-%ld.dump", dir, (long)pid) >= sizeof path)
        return jk__fail(err, JK_EINVAL, "jitdump: directory name too long");
    if (jk__fault_hit()) {
        errno = EMFILE;
        return jk__fail_os(err, JK_EOS, errno, strerror(errno), "open(%s)", path);
    }
    dump_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (dump_fd < 0)
        return jk__fail_os(err, JK_EOS, errno, strerror(errno), "open(%s)", path);
    memset(h, 0, sizeof h);
    le(h, JITDUMP_MAGIC, 4);
    le(h + 4, 1, 4);           /* version */
    le(h + 8, sizeof h, 4);    /* header size */
    le(h + 12, machine, 4);
    le(h + 20, (uint64_t)pid, 4);
    le(h + 24, now_ns(), 8);   /* flags 0: CLOCK_MONOTONIC timestamps */
    iov.iov_base = h;
    iov.iov_len = sizeof h;
    if (write_all(dump_fd, &iov, 1) != 0)
        goto fail_os;
    marker_len = (size_t)(page > 0 ? page : 4096);
    marker = jk__fault_hit() ? MAP_FAILED
                             : mmap(NULL, marker_len, PROT_READ | PROT_EXEC, MAP_PRIVATE,
                                    dump_fd, 0);
    if (marker == MAP_FAILED) {
        marker = NULL;
        if (!errno)
            errno = ENOMEM;
        goto fail_os;
    }
    dump_pid = pid;
    code_index = 0; /* indices are per file */
    return JK_OK;
fail_os:
    e = errno;
    close(dump_fd);
    dump_fd = -1;
    unlink(path);
    return jk__fail_os(err, e == EACCES || e == EPERM ? JK_EPOLICY : JK_EOS, e, strerror(e),
                       "jitdump %s", path);
}

jk_status jk__perf_add(const jk__dbg_fn *f, unsigned flags, const char *jitdump_dir,
                       jk_error *err)
{
    jk_status s = JK_OK;
    pthread_mutex_lock(&perf_lock);
    if (flags & JK_DEBUG_PERF_MAP) {
        char line[64];
        struct iovec iov[3];
        s = open_map(err);
        if (s == JK_OK) {
            int n = snprintf(line, sizeof line, "%llx %zx ",
                             (unsigned long long)(uintptr_t)f->code, f->size);
            iov[0].iov_base = line;
            iov[0].iov_len = (size_t)n;
            iov[1].iov_base = (void *)(uintptr_t)f->name;
            iov[1].iov_len = strlen(f->name);
            iov[2].iov_base = (void *)"\n";
            iov[2].iov_len = 1;
            if (write_all(map_fd, iov, 3) != 0)
                s = jk__fail_os(err, JK_EOS, errno, strerror(errno), "write(/tmp/perf-%ld.map)",
                                (long)map_pid);
        }
    }
    if (s == JK_OK && (flags & JK_DEBUG_JITDUMP)) {
        const jk__cfi_arch_info *ai = jk__cfi_arch(f->arch);
        uint8_t rec[56];
        struct iovec iov[3];
        size_t nlen = strlen(f->name) + 1;
#if defined(__aarch64__)
        s = open_dump(jitdump_dir, ai ? ai->elf_machine : 183 /* EM_AARCH64 */, err);
#else
        s = open_dump(jitdump_dir, ai ? ai->elf_machine : 0, err);
#endif
        if (s == JK_OK && f->lines)
            s = write_debug_info(f, err); /* before its CODE_LOAD, as perf wants */
        if (s == JK_OK) {
            le(rec, JIT_CODE_LOAD, 4);
            le(rec + 4, sizeof rec + nlen + f->size, 4);
            le(rec + 8, now_ns(), 8);
            le(rec + 16, (uint64_t)getpid(), 4);
            le(rec + 20, (uint64_t)syscall(SYS_gettid), 4);
            le(rec + 24, (uint64_t)(uintptr_t)f->code, 8); /* vma */
            le(rec + 32, (uint64_t)(uintptr_t)f->code, 8); /* code_addr */
            le(rec + 40, f->size, 8);
            le(rec + 48, code_index, 8);
            iov[0].iov_base = rec;
            iov[0].iov_len = sizeof rec;
            iov[1].iov_base = (void *)(uintptr_t)f->name;
            iov[1].iov_len = nlen;
            iov[2].iov_base = (void *)(uintptr_t)f->code;
            iov[2].iov_len = f->size;
            if (write_all(dump_fd, iov, 3) != 0)
                s = jk__fail_os(err, JK_EOS, errno, strerror(errno), "write(jit-%ld.dump)",
                                (long)dump_pid);
            else
                code_index++;
        }
    }
    pthread_mutex_unlock(&perf_lock);
    return s;
}

#else

int jk__perf_supported(void)
{
    return 0;
}

void jk__perf_fork(int phase)
{
    (void)phase;
}

int jk__perf_pid_changed(unsigned long *pid_seen)
{
    (void)pid_seen;
    return 0;
}

jk_status jk__perf_add(const jk__dbg_fn *f, unsigned flags, const char *jitdump_dir,
                       jk_error *err)
{
    (void)f;
    (void)flags;
    (void)jitdump_dir;
    return jk__fail(err, JK_EUNSUPPORTED, "perf files are written on Linux only");
}

#endif
