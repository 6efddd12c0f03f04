/*
 * bench_debug.c - what registering JIT functions with the debug module
 * costs: 10,000 functions (the tests' JIT function, with its unwind rules)
 * installed in a code heap, registered, looked up by the unwinder, then
 * unregistered newest first and oldest first, per consumer set:
 *
 *   unwind          the system unwinder only (the default)
 *   unwind_gdb      plus the GDB JIT interface (no gdb attached)
 *   perf_map        the map file only
 *   jitdump         the jitdump file only (in /tmp)
 *
 * Figures per function: register and unregister time (ns), heap memory
 * the registration allocates (bytes: glibc's mallinfo2 before and after,
 * so the unwinder's own bookkeeping counts too), and with libgcc the first
 * _Unwind_Find_FDE after registering (libgcc sorts newly registered
 * objects then) and the following ones. Output: BENCH lines.
 *
 * `bench_debug gdb [N]` instead measures gdb registration with gdb
 * attached: run it as gdb -batch -ex run --args bench_debug gdb.
 */
#include "debug/jitfn.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { N = 10000 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

typedef const void *(*find_fde_fn)(void *pc, void *bases);

static void run(const char *tag, unsigned flags, jk_cfi *cfi, const jf_code *code,
                find_fde_fn find_fde, int oldest_first)
{
    jk_debug_options opt = {flags | JK_DEBUG_NO_ENV, "/tmp"};
    static void *fns[N];
    jk_debug *d;
    jk_heap *h;
    jk_error err;
    double t0, t1, t2, t3, t4;
    size_t m0, m1;
    void *bases[3];
    if (jk_heap_new(&h, NULL, &err) != JK_OK || jk_debug_new(&d, &opt, &err) != JK_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    for (int i = 0; i < N; i++)
        if (jk_heap_install(h, code->bytes, code->size, &fns[i], &err) != JK_OK) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
    m0 = heap_bytes();
    t0 = now();
    for (int i = 0; i < N; i++)
        if (jk_debug_register(d, fns[i], code->size, "bench_fn", cfi, &err) != JK_OK) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
    t1 = now();
    m1 = heap_bytes();
    if (find_fde && (flags & JK_DEBUG_UNWIND)) {
        find_fde((char *)fns[N / 2] + 1, bases);
        t2 = now();
        for (int i = 0; i < N; i++)
            find_fde((char *)fns[(i * 7919) % N] + 1, bases);
        t3 = now();
        printf("BENCH debug.%s.first_lookup_after_%d %.0f ns\n", tag, N, t2 - t1);
        printf("BENCH debug.%s.lookup %.1f ns\n", tag, (t3 - t2) / N);
    }
    t3 = now();
    for (int i = 0; i < N; i++)
        jk_debug_unregister(d, fns[oldest_first ? i : N - 1 - i], NULL);
    t4 = now();
    printf("BENCH debug.%s.register %.1f ns\n", tag, (t1 - t0) / N);
    printf("BENCH debug.%s.unregister_%s %.1f ns\n", tag,
           oldest_first ? "oldest_first" : "newest_first", (t4 - t3) / N);
    printf("BENCH debug.%s.memory %.1f bytes\n", tag, (double)(m1 - m0) / N);
    jk_debug_destroy(d, NULL);
    jk_heap_destroy(h, NULL);
}

/* Is a debugger attached (TracerPid in /proc/self/status)? */
static int traced(void)
{
    char line[256];
    int pid = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "TracerPid: %d", &pid) == 1)
            break;
    if (f)
        fclose(f);
    return pid != 0;
}

/* `bench_debug gdb [N]`, meant to run under gdb (gdb -batch -ex run --args
 * bench_debug gdb): N functions (default 1000) registered for gdb one
 * object each, then the same in one batch (one object), and taken back
 * the same way. */
static int run_gdb(int n, jk_cfi *cfi, const jf_code *code)
{
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    void **fns = calloc((size_t)n, sizeof *fns);
    const char *tag = traced() ? "gdb_attached" : "gdb_detached";
    jk_debug *d;
    jk_heap *h;
    jk_error err;
    if (!fns || jk_heap_new(&h, NULL, &err) != JK_OK || jk_debug_new(&d, &opt, &err) != JK_OK)
        return 1;
    printf("%s: %d functions\n", tag, n);
    for (int i = 0; i < n; i++)
        if (jk_heap_install(h, code->bytes, code->size, &fns[i], &err) != JK_OK)
            return 1;
    for (int batched = 0; batched < 2; batched++) {
        double t0, t1, t2;
        t0 = now();
        if (batched)
            jk_debug_batch_begin(d);
        for (int i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "bench_fn_%d", i);
            if (jk_debug_register(d, fns[i], code->size, name, cfi, &err) != JK_OK) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
        }
        if (batched && jk_debug_batch_end(d, &err) != JK_OK)
            return 1;
        t1 = now();
        if (batched)
            jk_debug_batch_begin(d);
        for (int i = 0; i < n; i++)
            jk_debug_unregister(d, fns[n - 1 - i], NULL);
        if (batched && jk_debug_batch_end(d, &err) != JK_OK)
            return 1;
        t2 = now();
        printf("BENCH debug.%s.register_%d_%s %.1f ms\n", tag, n,
               batched ? "batched" : "one_object_each", (t1 - t0) / 1e6);
        printf("BENCH debug.%s.unregister_%d_%s %.1f ms\n", tag, n,
               batched ? "batched" : "one_object_each", (t2 - t1) / 1e6);
    }
    jk_debug_destroy(d, NULL);
    jk_heap_destroy(h, NULL);
    free(fns);
    return 0;
}

int main(int argc, char **argv)
{
    jk_cfi *cfi;
    jf_code code;
    jk_error err;
    find_fde_fn find_fde = NULL;
    char path[64];
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "gdb") == 0) {
        int r = run_gdb(argc > 2 ? atoi(argv[2]) : 1000, cfi, &code);
        jk_cfi_free(cfi);
        return r;
    }
    printf("unwinder: %s, %d functions of %zu bytes\n", jk_debug_unwinder(), N, code.size);
    if (strcmp(jk_debug_unwinder(), "libgcc") == 0) {
        void *p = dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE");
        memcpy(&find_fde, &p, sizeof p);
    }
    run("unwind", JK_DEBUG_UNWIND, cfi, &code, find_fde, 0);
    run("unwind", JK_DEBUG_UNWIND, cfi, &code, find_fde, 1);
    run("unwind_gdb", JK_DEBUG_UNWIND | JK_DEBUG_GDB, cfi, &code, find_fde, 0);
    run("perf_map", JK_DEBUG_PERF_MAP, NULL, &code, NULL, 0);
    run("jitdump", JK_DEBUG_JITDUMP, NULL, &code, NULL, 0);
    jk_cfi_free(cfi);
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
    unlink(path);
    snprintf(path, sizeof path, "/tmp/jit-%ld.dump", (long)getpid());
    unlink(path);
    return 0;
}
