/*
 * bench_heap.c - the code heap against the classic recipe and asmjit.
 *
 * Each figure is "install + call + free" of one function, in ns, measured
 * in this one run (median of 5 rounds):
 *
 *   seed          mmap RW, copy, mprotect RX, call, munmap (one page each)
 *   jitkit        jk_heap_install, call, jk_heap_free (default heap: DUAL)
 *   jitkit_lifo   the same with JK_HEAP_REUSE_LIFO: the slot just freed (and
 *                 just executed) is reused at once - what rotation avoids
 *   jitkit_batch64  default heap, 64 functions per window: write 64, call
 *                 64, free 64 (per-function figure)
 *   jitkit_flip64 FLIP heap, installs batched 64 per window
 *   floor         no allocator at all: copy 16 bytes into a fresh slot of a
 *                 raw memfd dual mapping and call it at once. This is what
 *                 the CPU charges for running code right after writing it
 *                 (a pipeline flush per write->execute transition); every
 *                 one-at-a-time install + call pays it, whoever allocates
 *   floor_spread512  the same, consecutive slots a page apart through 512
 *                 pages (2 MiB): the cheapest placement measured for the
 *                 write->execute transition on the test machine
 *   asmjit_dual   asmjit JitRuntime's allocator with dual mapping:
 *                 alloc, copy through the RW view, call, release
 *   asmjit_dual_add  the same through CodeHolder + JitRuntime::add/release
 *   asmjit_rwx    asmjit's default (RWX) allocator, for reference
 *   *_nocall      install + free without the call: the allocators alone
 *
 * plus the memory overhead of 100,000 live 16-byte functions and the install
 * rate with 1 and 2 threads (install + call + free, and without the call). Output: `BENCH <metric> <value> <unit>` lines,
 * then the ratios.
 */
#include "jitkit/heap.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(_WIN32)
#  include <pthread.h>
#  include <sys/mman.h>
#  include <unistd.h>
#endif
#if defined(__linux__)
#  include <sys/syscall.h>
#endif

#if defined(JK_BENCH_ASMJIT)
double jk_bench_asmjit_ns(const unsigned char *code, size_t size, long iters, int dual,
                          int use_add, int do_call, long *sink);
#endif

typedef int (*fn_t)(void);

static long sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static fn_t as_fn(void *p)
{
    fn_t f;
    memcpy(&f, &p, sizeof f);
    return f;
}

/* A function of `size` bytes: "return 7" followed by traps. */
static unsigned char *make_code(size_t size)
{
    unsigned char *c = malloc(size);
    if (!c)
        exit(1);
#if defined(__x86_64__) || defined(__i386__)
    memset(c, 0xcc, size);
    c[0] = 0xb8;
    c[1] = 7;
    c[2] = c[3] = c[4] = 0;
    c[5] = 0xc3;
#elif defined(__aarch64__)
    {
        uint32_t ins[2] = {0x528000e0u /* mov w0, #7 */, 0xd65f03c0u /* ret */};
        memset(c, 0, size);
        memcpy(c, ins, 8);
    }
#else
#  error "no benchmark code for this CPU"
#endif
    return c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median5(double *v)
{
    qsort(v, 5, sizeof *v, cmp_double);
    return v[2];
}

/* -- The contestants ------------------------------------------------------ */

static double run_seed(const unsigned char *code, size_t size, long iters)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            exit(2);
        memcpy(p, code, size);
        if (mprotect(p, size, PROT_READ | PROT_EXEC) != 0)
            exit(2);
        sink += as_fn(p)();
        munmap(p, size);
    }
    return (now_ns() - t0) / (double)iters;
}

static double run_heap_call(jk_heap *h, const unsigned char *code, size_t size, long iters,
                            int do_call)
{
    jk_error e;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        void *f;
        if (jk_heap_install(h, code, size, &f, &e) != JK_OK) {
            fprintf(stderr, "install: %s\n", e.message);
            exit(3);
        }
        if (do_call)
            sink += as_fn(f)();
        jk_heap_free(h, f, NULL);
    }
    return (now_ns() - t0) / (double)iters;
}

static double run_heap(jk_heap *h, const unsigned char *code, size_t size, long iters)
{
    return run_heap_call(h, code, size, iters, 1);
}

/* FLIP, 64 functions per window: install 64, call 64, free 64. */
static double run_flip_batch(jk_heap *h, const unsigned char *code, size_t size, long iters)
{
    jk_error e;
    void *f[64];
    double t0 = now_ns();
    for (long i = 0; i < iters; i += 64) {
        jk_heap_window *w;
        jk_heap_window_begin(h, &w, &e);
        for (int k = 0; k < 64; k++) {
            jk_heap_slot s;
            if (jk_heap_alloc(w, size, 0, &s, &e) != JK_OK) {
                fprintf(stderr, "alloc: %s\n", e.message);
                exit(3);
            }
            memcpy(s.write, code, size);
            f[k] = s.exec;
        }
        if (jk_heap_window_commit(w, &e) != JK_OK)
            exit(3);
        for (int k = 0; k < 64; k++)
            sink += as_fn(f[k])();
        for (int k = 0; k < 64; k++)
            jk_heap_free(h, f[k], NULL);
    }
    return (now_ns() - t0) / (double)iters;
}

/* The hardware floor: raw dual mapping, write 16 bytes, call, next slot.
 * spread = 0: the next slot is the next 16 bytes; else consecutive slots
 * are a page apart, cycling through `spread` pages (the best placement
 * found, docs/heap.md). */
static double run_floor(const unsigned char *code, size_t size, long iters, long spread)
{
#if defined(__linux__) && defined(SYS_memfd_create)
    size_t span = ((size_t)iters * 16 > (size_t)spread * 4096 ? (size_t)iters * 16
                                                                : (size_t)spread * 4096) + 4096;
    int fd = (int)syscall(SYS_memfd_create, "bench-floor", 0);
    char *rx, *rw;
    double t0, t;
    if (fd < 0 || ftruncate(fd, (off_t)span) != 0)
        return -1;
    rx = mmap(NULL, span, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    rw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (rx == MAP_FAILED || rw == MAP_FAILED)
        return -1;
    memset(rw, 0xcc, span);
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        size_t off = spread ? (size_t)(i % spread) * 4096 + (size_t)(i / spread) * 16
                            : (size_t)i * 16;
        memcpy(rw + off, code, size < 16 ? size : 16);
        sink += as_fn(rx + off)();
    }
    t = (now_ns() - t0) / (double)iters;
    munmap(rx, span);
    munmap(rw, span);
    return t;
#else
    (void)code;
    (void)size;
    (void)iters;
    return -1;
#endif
}

static jk_heap *new_heap(jk_mem_strategy s, unsigned flags)
{
    jk_heap_options o;
    jk_heap *h;
    jk_error e;
    memset(&o, 0, sizeof o);
    o.strategy = s;
    o.flags = flags;
    if (jk_heap_new(&h, &o, &e) != JK_OK) {
        fprintf(stderr, "jk_heap_new: %s\n", e.message);
        exit(3);
    }
    return h;
}

/* -- Threads ---------------------------------------------------------------- */

typedef struct mt_arg {
    jk_heap *h;
    const unsigned char *code;
    atomic_int *go;
    long n;
    int call;
} mt_arg;

static void *mt_main(void *p)
{
    mt_arg *a = p;
    jk_error e;
    long s = 0;
    while (!atomic_load(a->go))
        ;
    for (long i = 0; i < a->n; i++) {
        void *f;
        if (jk_heap_install(a->h, a->code, 16, &f, &e) != JK_OK)
            exit(4);
        if (a->call)
            s += as_fn(f)();
        jk_heap_free(a->h, f, NULL);
    }
    a->n = s;
    return NULL;
}

static double installs_per_s(int nthreads, const unsigned char *code, long per_thread,
                             int call)
{
    jk_heap *h = new_heap(JK_MEM_AUTO, 0);
    pthread_t th[8];
    mt_arg arg[8];
    atomic_int go = 0;
    double t0, t1;
    for (int i = 0; i < nthreads; i++) {
        arg[i].h = h;
        arg[i].code = code;
        arg[i].go = &go;
        arg[i].n = per_thread;
        arg[i].call = call;
        pthread_create(&th[i], NULL, mt_main, &arg[i]);
    }
    t0 = now_ns();
    atomic_store(&go, 1);
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        sink += arg[i].n;
    }
    t1 = now_ns();
    jk_heap_destroy(h, NULL);
    return (double)nthreads * (double)per_thread / ((t1 - t0) / 1e9);
}

/* -- Main ----------------------------------------------------------------------- */

typedef struct row {
    const char *name;
    double ns;
} row;

static void bench_size(const char *tag, size_t size, long iters, long seed_iters, row *out)
{
    unsigned char *code = make_code(size);
    double v[12][5];
    jk_heap *dual = new_heap(JK_MEM_AUTO, 0), *lifo = new_heap(JK_MEM_AUTO, JK_HEAP_REUSE_LIFO);
    jk_heap *flip = new_heap(JK_MEM_FLIP, 0);

    /* warm up: map the chunks */
    run_heap(dual, code, size, iters / 10);
    run_heap(lifo, code, size, iters / 10);
    run_flip_batch(flip, code, size, 64);
    for (int r = 0; r < 5; r++) {
        v[0][r] = run_seed(code, size, seed_iters);
        v[1][r] = run_heap(dual, code, size, iters);
        v[2][r] = run_heap(lifo, code, size, iters);
        v[3][r] = run_flip_batch(flip, code, size, iters);
        v[7][r] = run_flip_batch(dual, code, size, iters);
        v[8][r] = size == 16 ? run_floor(code, size, iters, 0) : -1;
        v[11][r] = size == 16 ? run_floor(code, size, iters, 512) : -1;
#if defined(JK_BENCH_ASMJIT)
        v[4][r] = jk_bench_asmjit_ns(code, size, iters, 1, 0, 1, &sink);
        v[5][r] = jk_bench_asmjit_ns(code, size, iters / 4, 1, 1, 1, &sink);
        v[6][r] = jk_bench_asmjit_ns(code, size, iters, 0, 0, 1, &sink);
        v[10][r] = jk_bench_asmjit_ns(code, size, iters, 1, 0, 0, &sink);
#else
        v[4][r] = v[5][r] = v[6][r] = v[10][r] = -1;
#endif
        v[9][r] = run_heap_call(dual, code, size, iters, 0);
    }
    {
        static const char *names[12] = {
            "seed",          "jitkit",           "jitkit_lifo",     "jitkit_flip64",
            "asmjit_dual",   "asmjit_dual_add",  "asmjit_rwx",      "jitkit_batch64",
            "floor_write_call", "jitkit_nocall", "asmjit_dual_nocall", "floor_spread512"};
        for (int k = 0; k < 12; k++) {
            out[k].name = names[k];
            out[k].ns = median5(v[k]);
            if (out[k].ns >= 0)
                printf("BENCH heap.%s.%s %.1f ns\n", tag, names[k], out[k].ns);
        }
    }
    jk_heap_destroy(dual, NULL);
    jk_heap_destroy(lifo, NULL);
    jk_heap_destroy(flip, NULL);
    free(code);
}

static double overhead_100k(jk_heap_stats *st)
{
    enum { N = 100000 };
    static void *fn[N];
    unsigned char *code = make_code(16);
    jk_heap *h = new_heap(JK_MEM_AUTO, 0);
    jk_error e;
    double r;
    for (int i = 0; i < N; i++)
        if (jk_heap_install(h, code, 16, &fn[i], &e) != JK_OK)
            exit(5);
    jk_heap_stats_get(h, st);
    r = (double)st->bytes_reserved / (16.0 * N);
    jk_heap_destroy(h, NULL);
    free(code);
    return r;
}

int main(void)
{
    row small[12], big[12];
    jk_heap_stats st;
    double ov, mt1, mt2;
    unsigned char *code16 = make_code(16);
    {
        jk_heap *h = new_heap(JK_MEM_AUTO, 0);
        char load[64] = "?";
        FILE *f = fopen("/proc/loadavg", "r");
        if (f) {
            if (!fgets(load, sizeof load, f))
                strcpy(load, "?");
            fclose(f);
            load[strcspn(load, "\n")] = 0;
        }
        printf("# code heap strategy: %s; 5 rounds, medians; load average: %s\n",
               jk_mem_strategy_name(jk_heap_strategy(h)), load);
        jk_heap_destroy(h, NULL);
    }
    bench_size("small", 16, 200000, 4000, small);
    bench_size("4k", 4096, 20000, 2000, big);
    ov = overhead_100k(&st);
    printf("BENCH heap.overhead_100k_small %.3f ratio\n", ov);
    printf("BENCH heap.overhead_100k_small_with_metadata %.3f ratio\n", st.overhead);
    mt1 = installs_per_s(1, code16, 1000000, 1);
    mt2 = installs_per_s(2, code16, 1000000, 1);
    printf("BENCH heap.mt1.jitkit %.0f installs/s\n", mt1);
    printf("BENCH heap.mt2.jitkit %.0f installs/s\n", mt2);
    /* The same without calling the new code: the allocator's own scaling
     * (write->execute flushes do not overlap across this test machine's
     * vCPUs even in a raw loop without any allocator). */
    printf("BENCH heap.mt1.jitkit_nocall %.0f installs/s\n",
           installs_per_s(1, code16, 2000000, 0));
    printf("BENCH heap.mt2.jitkit_nocall %.0f installs/s\n",
           installs_per_s(2, code16, 2000000, 0));

    printf("\n%-18s %12s %12s   (-1: not measured)\n", "ns per function", "16 B", "4 KiB");
    for (int k = 0; k < 12; k++)
        printf("%-18s %12.1f %12.1f\n", small[k].name, small[k].ns, big[k].ns);
    printf("\nratios (same run):\n");
    printf("BENCH heap.small.speedup_vs_seed %.1f x\n", small[0].ns / small[1].ns);
    printf("BENCH heap.4k.speedup_vs_seed %.1f x\n", big[0].ns / big[1].ns);
    if (small[4].ns > 0) {
        printf("BENCH heap.small.speedup_vs_asmjit_dual %.2f x\n", small[4].ns / small[1].ns);
        printf("BENCH heap.4k.speedup_vs_asmjit_dual %.2f x\n", big[4].ns / big[1].ns);
        printf("BENCH heap.small.speedup_vs_asmjit_dual_add %.2f x\n",
               small[5].ns / small[1].ns);
    }
    if (small[8].ns > 0)
        printf("BENCH heap.small.jitkit_minus_floor %.1f ns\n", small[1].ns - small[8].ns);
    printf("BENCH heap.small.batch64_speedup_vs_seed %.1f x\n", small[0].ns / small[7].ns);
    if (small[4].ns > 0)
        printf("BENCH heap.small.batch64_speedup_vs_asmjit_dual %.2f x\n",
               small[4].ns / small[7].ns);
    if (small[10].ns > 0) {
        printf("BENCH heap.small.nocall_speedup_vs_asmjit_dual %.2f x\n",
               small[10].ns / small[9].ns);
        printf("BENCH heap.4k.nocall_speedup_vs_asmjit_dual %.2f x\n", big[10].ns / big[9].ns);
    }
    printf("BENCH heap.small.fifo_gain_vs_lifo %.2f x\n", small[2].ns / small[1].ns);
    printf("BENCH heap.4k.fifo_gain_vs_lifo %.2f x\n", big[2].ns / big[1].ns);
    printf("BENCH heap.mt2_vs_mt1 %.2f x\n", mt2 / mt1);
    printf("(sink %ld)\n", sink % 10);
    free(code16);
    return 0;
}
