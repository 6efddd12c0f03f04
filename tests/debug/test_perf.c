/*
 * test_perf.c - the perf files, read back without perf: /tmp/perf-<pid>.map
 * lines, jit-<pid>.dump (header, one JIT_CODE_LOAD record per function with
 * the installed bytes, CLOCK_MONOTONIC timestamps, the read+exec marker
 * mapping of the file), a fork()ed child writing files of its own that
 * also list the functions it inherited, and the JIT_CODE_DEBUG_INFO record
 * before the code load of a function with a line table.
 */
#include "jitfn.h"
#include "jt.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static jf_code code;
static jk_cfi *cfi;
static const char *dir = ".";

static uint64_t rd(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f)
        return 0;
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

typedef struct fn {
    void *exec;
    char name[32];
} fn;

/* The map file of pid lists exactly fns[0..n) in order. */
static int check_map(long pid, const fn *fns, int n, char *why, size_t wn)
{
    char path[64], want[4096] = "";
    static unsigned char got[8192];
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", pid);
    if (!slurp(path, got, sizeof got)) {
        snprintf(why, wn, "%s missing or empty", path);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t l = strlen(want);
        snprintf(want + l, sizeof want - l, "%llx %zx %s\n",
                 (unsigned long long)(uintptr_t)fns[i].exec, code.size, fns[i].name);
    }
    if (strcmp((char *)got, want) != 0) {
        snprintf(why, wn, "%s is\n%.2000s\nwanted\n%.2000s", path, (char *)got, want);
        return 0;
    }
    return 1;
}

/* The jitdump of pid holds code-load records for fns[0..n) in order. */
static int check_dump(long pid, const fn *fns, int n, uint64_t t0, char *why, size_t wn)
{
    char path[512];
    static unsigned char d[1 << 16];
    size_t len, at = 40;
    uint64_t last;
    snprintf(path, sizeof path, "%s/jit-%ld.dump", dir, pid);
    len = slurp(path, d, sizeof d);
    if (len < 40) {
        snprintf(why, wn, "%s: %zu bytes", path, len);
        return 0;
    }
    if (rd(d, 4) != 0x4A695444u || rd(d + 4, 4) != 1 || rd(d + 8, 4) != 40 ||
        rd(d + 12, 4) != (JF_64 ? 62u : 3u) || rd(d + 20, 4) != (uint64_t)pid ||
        rd(d + 32, 8) != 0) {
        snprintf(why, wn, "%s: bad header", path);
        return 0;
    }
    last = rd(d + 24, 8);
    if (last < t0 || last > now_ns()) {
        snprintf(why, wn, "%s: header time %llu not in [%llu, now]", path,
                 (unsigned long long)last, (unsigned long long)t0);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(fns[i].name) + 1, total = 56 + nl + code.size;
        const unsigned char *r = d + at;
        if (at + total > len || rd(r, 4) != 0 || rd(r + 4, 4) != total) {
            snprintf(why, wn, "%s: record %d: bad prefix", path, i);
            return 0;
        }
        if (rd(r + 8, 8) < last || rd(r + 8, 8) > now_ns()) {
            snprintf(why, wn, "%s: record %d: timestamp goes back", path, i);
            return 0;
        }
        last = rd(r + 8, 8);
        if (rd(r + 16, 4) != (uint64_t)pid || rd(r + 24, 8) != (uintptr_t)fns[i].exec ||
            rd(r + 32, 8) != (uintptr_t)fns[i].exec || rd(r + 40, 8) != code.size ||
            rd(r + 48, 8) != (uint64_t)i) {
            snprintf(why, wn, "%s: record %d: bad fields", path, i);
            return 0;
        }
        if (memcmp(r + 56, fns[i].name, nl) != 0 ||
            memcmp(r + 56 + nl, fns[i].exec, code.size) != 0) {
            snprintf(why, wn, "%s: record %d: name or code bytes differ", path, i);
            return 0;
        }
        at += total;
    }
    if (at != len) {
        snprintf(why, wn, "%s: %zu bytes after the last record", path, len - at);
        return 0;
    }
    return 1;
}

static int marker_mapped(long pid)
{
    char want[64], line[1024];
    FILE *f = fopen("/proc/self/maps", "r");
    int found = 0;
    snprintf(want, sizeof want, "jit-%ld.dump", pid);
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, want) && strstr(line, " r-xp "))
            found = 1;
    if (f)
        fclose(f);
    return found;
}

static void remove_files(long pid)
{
    char p[512];
    snprintf(p, sizeof p, "/tmp/perf-%ld.map", pid);
    unlink(p);
    snprintf(p, sizeof p, "%s/jit-%ld.dump", dir, pid);
    unlink(p);
}

static void test_files_and_fork(void)
{
    jk_debug_options opt = {JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP | JK_DEBUG_NO_ENV, NULL};
    jk_debug *d;
    jk_heap *h;
    jk_error err;
    fn fns[6];
    char why[8192];
    long self = (long)getpid(), child;
    uint64_t t0 = now_ns();
    int status;
    opt.jitdump_dir = dir;
    JT_OK(jk_heap_new(&h, NULL, &err), &err);
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    JT_EQ_U64(jk_debug_flags(d), JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP);
    for (int i = 0; i < 3; i++) {
        snprintf(fns[i].name, sizeof fns[i].name, "jit perf %d", i);
        JT_OK(jk_debug_heap_install(d, h, code.bytes, code.size, fns[i].name, NULL,
                                    &fns[i].exec, &err), &err);
    }
    JT_CHECK_MSG(check_map(self, fns, 3, why, sizeof why), "%s", why);
    JT_CHECK_MSG(check_dump(self, fns, 3, t0, why, sizeof why), "%s", why);
    JT_CHECK(marker_mapped(self));

    fflush(stdout);
    child = (long)fork();
    JT_CHECK(child >= 0);
    if (child == 0) {
        fn mine[4];
        memcpy(mine, fns, sizeof mine);
        strcpy(mine[3].name, "child_fn");
        if (jk_debug_heap_install(d, h, code.bytes, code.size, mine[3].name, NULL,
                                  &mine[3].exec, &err) != JK_OK) {
            fprintf(stderr, "child: %s\n", err.message);
            _exit(2);
        }
        /* the child's files: the inherited functions, then its own */
        if (!check_map((long)getpid(), mine, 4, why, sizeof why) ||
            !check_dump((long)getpid(), mine, 4, t0, why, sizeof why) ||
            !marker_mapped((long)getpid())) {
            fprintf(stderr, "child: %s\n", why);
            _exit(3);
        }
        _exit(0);
    }
    JT_CHECK(waitpid((pid_t)child, &status, 0) == (pid_t)child);
    remove_files(child);
    JT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    /* the parent's files did not get the child's function */
    JT_CHECK_MSG(check_map(self, fns, 3, why, sizeof why), "%s", why);
    JT_CHECK_MSG(check_dump(self, fns, 3, t0, why, sizeof why), "%s", why);
    /* an unnamed function gets jit_<address> */
    JT_OK(jk_debug_heap_install(d, h, code.bytes, code.size, NULL, NULL, &fns[3].exec, &err),
          &err);
    snprintf(fns[3].name, sizeof fns[3].name, "jit_%llx",
             (unsigned long long)(uintptr_t)fns[3].exec);
    JT_CHECK_MSG(check_map(self, fns, 4, why, sizeof why), "%s", why);
    JT_CHECK_MSG(check_dump(self, fns, 4, t0, why, sizeof why), "%s", why);
    JT_OK(jk_debug_destroy(d, &err), &err);
    JT_OK(jk_heap_destroy(h, &err), &err);
    remove_files(self);
}

/* The child's jitdump for a function with a line table: the header, a
 * JIT_CODE_DEBUG_INFO record (code address, 2 rows: address, line,
 * discriminator 0, the file's full path), then the function's
 * JIT_CODE_LOAD, no earlier in time. Returns "" or what is wrong. */
static const char *check_debug_info(void)
{
    jk_debug_options opt = {JK_DEBUG_JITDUMP | JK_DEBUG_NO_ENV, NULL};
    jk_debug_line rows[2] = {{0, 3}, {4, 5}};
    jk_debug_src src = {"f.s", "/src", rows, 2};
    static const char path_want[] = "/src/f.s";
    static unsigned char d[1 << 16];
    static char why[256];
    char path[512];
    jk_debug *dbg;
    jk_heap *h;
    jk_error err;
    void *exec;
    size_t len, at = 40, entry = 16 + sizeof path_want;
    const unsigned char *r;
    opt.jitdump_dir = dir;
    if (jk_heap_new(&h, NULL, &err) != JK_OK || jk_debug_new(&dbg, &opt, &err) != JK_OK ||
        jk_heap_install(h, code.bytes, code.size, &exec, &err) != JK_OK ||
        jk_debug_register_ex(dbg, exec, code.size, "jit_lines", NULL, &src, &err) != JK_OK) {
        snprintf(why, sizeof why, "%s", err.message);
        return why;
    }
    snprintf(path, sizeof path, "%s/jit-%ld.dump", dir, (long)getpid());
    len = slurp(path, d, sizeof d);
    r = d + at;
    if (len < at + 32 + 2 * entry)
        return "the dump is too short for a debug-info record";
    if (rd(r, 4) != 2 || rd(r + 4, 4) != 32 + 2 * entry || rd(r + 16, 8) != (uintptr_t)exec ||
        rd(r + 24, 8) != 2)
        return "bad JIT_CODE_DEBUG_INFO header";
    for (int i = 0; i < 2; i++) {
        const unsigned char *e = r + 32 + (size_t)i * entry;
        if (rd(e, 8) != (uintptr_t)exec + rows[i].offset || rd(e + 8, 4) != rows[i].line ||
            rd(e + 12, 4) != 0 || memcmp(e + 16, path_want, sizeof path_want) != 0) {
            snprintf(why, sizeof why, "debug entry %d: address, line or name differ", i);
            return why;
        }
    }
    at += 32 + 2 * entry;
    if (len < at + 56 || rd(d + at, 4) != 0 || rd(d + at + 24, 8) != (uintptr_t)exec)
        return "no JIT_CODE_LOAD after the debug-info record";
    if (rd(d + at + 8, 8) < rd(r + 8, 8))
        return "the code load is older than its debug info";
    if (at + rd(d + at + 4, 4) != len)
        return "more records than wanted";
    jk_debug_destroy(dbg, NULL);
    jk_heap_destroy(h, NULL);
    return "";
}

static void test_debug_info(void)
{
    long child;
    int status;
    fflush(stdout);
    child = (long)fork();
    JT_CHECK(child >= 0);
    if (child == 0) {
        /* a process of its own, so its dump holds only this function */
        const char *why = check_debug_info();
        if (*why) {
            fprintf(stderr, "child: %s\n", why);
            _exit(1);
        }
        _exit(0);
    }
    JT_CHECK(waitpid((pid_t)child, &status, 0) == (pid_t)child);
    remove_files(child);
    JT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
}

static void test_env_switch(void)
{
    jk_debug *d;
    jk_error err;
    setenv("JITKIT_PERF", "map", 1);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_EQ_U64(jk_debug_flags(d) & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP), JK_DEBUG_PERF_MAP);
    jk_debug_destroy(d, NULL);
    setenv("JITKIT_PERF", "jitdump", 1);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_EQ_U64(jk_debug_flags(d) & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP), JK_DEBUG_JITDUMP);
    jk_debug_destroy(d, NULL);
    unsetenv("JITKIT_PERF");
}

static void test_bad_dir(void)
{
    jk_debug_options opt = {JK_DEBUG_JITDUMP | JK_DEBUG_NO_ENV, "/nonexistent/dir"};
    jk_debug *d;
    jk_error err;
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    JT_EQ_I64(jk_debug_register(d, code.bytes, code.size, "f", NULL, &err), JK_EOS);
    JT_CONTAINS(err.message, "/nonexistent/dir/jit-");
    JT_CONTAINS(err.message, "No such file or directory");
    JT_EQ_U64(jk_debug_count(d), 0);
    jk_debug_destroy(d, NULL);
}

int main(int argc, char **argv)
{
    jk_error err;
    if (argc > 1)
        jt_only = argv[1];
    if (getenv("JK_JITDUMP_DIR"))
        dir = getenv("JK_JITDUMP_DIR");
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0)
        return 1;
    JT_RUN(test_bad_dir); /* first: the first jitdump opened decides the directory */
    JT_RUN(test_files_and_fork);
    JT_RUN(test_debug_info);
    JT_RUN(test_env_switch);
    jk_cfi_free(cfi);
    return jt_finish();
}
