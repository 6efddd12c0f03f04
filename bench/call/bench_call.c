/*
 * bench_call.c - from source to callable, one function at a time:
 *
 *   jitkit       jk_x86_new, mov eax, 42; ret, jk_x86_install_heap, call,
 *                jk_heap_free, jk_x86_free
 *   jitkit text  jk_asm_load_heap("mov eax, 42; ret"), call, jk_heap_free
 *   asmjit       CodeHolder + x86::Assembler + JitRuntime::add, call,
 *                JitRuntime::release (bench_call_asmjit.cpp)
 *
 * Medians of 7 interleaved rounds, in ns per function. The floor of any
 * such loop is the CPU's cost of running freshly written code, measured in
 * the same run with no assembler and no allocator: the six bytes written
 * into the next 16-byte slot of one dual-mapped block and called (the
 * heap's benchmark, docs/heap.md, studies it).
 *
 *   BENCH call.floor_write_call_ns   ns
 *
 *   BENCH call.callable_ns.jitkit | call.callable_ns.asmjit |
 *         call.text_callable_ns.jitkit   ns
 */
#define _POSIX_C_SOURCE 200809L
#include <jitkit/jitkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef JK_BENCH_ASMJIT
double jk_bench_call_asmjit_ns(long iters, long *sink);
#endif

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double api_ns(jk_heap *h, long iters, long *sink)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        jk_x86_asm *a;
        void *p;
        if (jk_x86_new(&a, JK_X86_MODE64, NULL) != JK_OK)
            return -1;
        jk_x86_mov(a, JK_EAX, jk_imm(42));
        jk_x86_ret(a);
        if (jk_x86_install_heap(a, h, &p) != JK_OK) {
            fprintf(stderr, "install: %s\n", jk_x86_error(a)->message);
            return -1;
        }
        *sink += ((int (*)(void))(uintptr_t)p)();
        jk_heap_free(h, p, NULL);
        jk_x86_free(a);
    }
    return (now_ns() - t0) / (double)iters;
}

static double text_ns(jk_heap *h, long iters, long *sink)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        void *p;
        jk_error e;
        if (jk_asm_load_heap("mov eax, 42; ret", JK_X86_MODE64, h, &p, &e) != JK_OK) {
            fprintf(stderr, "load: %s\n", e.message);
            return -1;
        }
        *sink += ((int (*)(void))(uintptr_t)p)();
        jk_heap_free(h, p, NULL);
    }
    return (now_ns() - t0) / (double)iters;
}

static double floor_ns(long iters, long *sink)
{
    static const uint8_t code[] = {0xb8, 42, 0, 0, 0, 0xc3};
    jk_mem_options o = {JK_MEM_DUAL, NULL};
    jk_mem *m;
    uint8_t *w, *x;
    double t0, t;
    if (jk_mem_alloc(&m, (size_t)iters * 16 + 4096, &o, NULL) != JK_OK)
        return -1;
    w = jk_mem_writable(m);
    x = jk_mem_exec(m);
    memset(w, 0xcc, jk_mem_size(m));
    if (jk_mem_commit(m, NULL) != JK_OK)
        return -1;
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        memcpy(w + (size_t)i * 16, code, sizeof code);
        *sink += ((int (*)(void))(uintptr_t)(x + (size_t)i * 16))();
    }
    t = (now_ns() - t0) / (double)iters;
    jk_mem_free(m, NULL);
    return t;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    enum { ROUNDS = 7 };
    long iters = argc > 1 ? atol(argv[1]) : 100000, sink = 0;
    double v[5][ROUNDS];
    jk_heap *h, *hn;
    jk_heap_options no_trap;
    memset(&no_trap, 0, sizeof no_trap);
    no_trap.flags = JK_HEAP_NO_TRAP_FILL;
    if (jk_heap_default(&h, NULL) != JK_OK || jk_heap_new(&hn, &no_trap, NULL) != JK_OK)
        return 1;
    for (int r = 0; r < ROUNDS; r++) {
        v[0][r] = api_ns(h, iters, &sink);
        v[1][r] = text_ns(h, iters, &sink);
        v[3][r] = floor_ns(iters, &sink);
        v[4][r] = api_ns(hn, iters, &sink);
#ifdef JK_BENCH_ASMJIT
        v[2][r] = jk_bench_call_asmjit_ns(iters, &sink);
#else
        v[2][r] = 0;
#endif
    }
    for (int k = 0; k < 5; k++)
        qsort(v[k], ROUNDS, sizeof v[k][0], cmp);
    printf("source to callable, ns per function (median of %d rounds of %ld)\n", ROUNDS, iters);
    printf("  jitkit C API  %8.1f\n  jitkit text   %8.1f\n", v[0][ROUNDS / 2], v[1][ROUNDS / 2]);
    printf("  jitkit C API  %8.1f   (heap with JK_HEAP_NO_TRAP_FILL: frees write nothing)\n",
           v[4][ROUNDS / 2]);
    printf("  floor         %8.1f   (write + call, no assembler, no allocator)\n",
           v[3][ROUNDS / 2]);
    printf("BENCH call.callable_ns.jitkit %.1f ns\n", v[0][ROUNDS / 2]);
    printf("BENCH call.floor_write_call_ns %.1f ns\n", v[3][ROUNDS / 2]);
    printf("BENCH call.callable_ns.jitkit_no_trap_fill %.1f ns\n", v[4][ROUNDS / 2]);
    printf("BENCH call.text_callable_ns.jitkit %.1f ns\n", v[1][ROUNDS / 2]);
#ifdef JK_BENCH_ASMJIT
    printf("  asmjit        %8.1f   (%.2fx jitkit)\n", v[2][ROUNDS / 2],
           v[2][ROUNDS / 2] / v[0][ROUNDS / 2]);
    printf("BENCH call.callable_ns.asmjit %.1f ns\n", v[2][ROUNDS / 2]);
#endif
    return sink > 0 ? 0 : 1;
}
