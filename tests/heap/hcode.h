/*
 * hcode.h - helpers for the code heap tests: tiny hand-encoded functions per
 * CPU, a thread shim (pthreads / Win32), and function-pointer casts.
 *
 *   emit_ret        return a constant
 *   emit_ret_var    return a 32-bit constant stored at an aligned offset, so
 *                   jk_heap_patch32 can change it atomically
 *   emit_branch     a trampoline "jump to T" whose 32-bit branch field sits at
 *                   an aligned offset (x86: jmp rel32, AArch64: b imm26)
 *   emit_abs_jump   "jump through an aligned 8-byte literal" (patch64)
 *   emit_host_jmp   jump / call into a host C function with a rel32 (x86) or
 *                   ADRP+ADD (AArch64, +-4 GiB) sequence
 */
#ifndef HCODE_H
#define HCODE_H

#include "jitkit/heap.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#else
#  include <pthread.h>
#  include <sched.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#  define HC_X86 1
#  define HC_64 1
#elif defined(__i386__) || defined(_M_IX86)
#  define HC_X86 1
#  define HC_64 0
#elif defined(__aarch64__)
#  define HC_A64 1
#  define HC_64 1
#else
#  error "no test code for this CPU"
#endif

typedef int (*hc_fn)(void);

static inline hc_fn hc_as_fn(void *p)
{
    hc_fn f;
    memcpy(&f, &p, sizeof f);
    return f;
}

static inline void *hc_fn_ptr(hc_fn f)
{
    void *p;
    memcpy(&p, &f, sizeof p);
    return p;
}

static inline size_t put32(uint8_t *b, size_t at, uint32_t v)
{
    memcpy(b + at, &v, 4);
    return at + 4;
}

#if HC_A64
static inline uint32_t a64_movz_w0(uint32_t imm16, unsigned hw)
{
    return 0x52800000u | (hw << 21) | ((imm16 & 0xffffu) << 5);
}
static inline uint32_t a64_movk_w0(uint32_t imm16, unsigned hw)
{
    return 0x72800000u | (hw << 21) | ((imm16 & 0xffffu) << 5);
}
#  define A64_RET 0xd65f03c0u
#endif

/* return v; at most 16 bytes */
static inline size_t emit_ret(uint8_t *b, uint32_t v)
{
#if HC_X86
    b[0] = 0xb8;
    memcpy(b + 1, &v, 4);
    b[5] = 0xc3;
    return 6;
#else
    size_t n = put32(b, 0, a64_movz_w0(v & 0xffff, 0));
    n = put32(b, n, a64_movk_w0(v >> 16, 1));
    return put32(b, n, A64_RET);
#endif
}

/* Count `iters` down in a loop, then return 7: a function that stays on
 * its page for a while. */
static inline size_t emit_spin(uint8_t *b, uint32_t iters)
{
#if HC_X86
    static const uint8_t tail[] = {0xff, 0xc9, 0x75, 0xfc, /* L: dec ecx; jnz L */
                                   0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3};
    b[0] = 0xb9; /* mov ecx, iters */
    memcpy(b + 1, &iters, 4);
    memcpy(b + 5, tail, sizeof tail);
    return 5 + sizeof tail;
#else
    size_t n = put32(b, 0, 0x52800009u | ((iters & 0xffffu) << 5)); /* movz w9 */
    n = put32(b, n, 0x72a00009u | ((iters >> 16) << 5));            /* movk w9, lsl 16 */
    n = put32(b, n, 0x71000529u);                                  /* L: subs w9, w9, #1 */
    n = put32(b, n, 0x54ffffe1u);                                  /* b.ne L */
    n = put32(b, n, 0x528000e0u);                                  /* mov w0, #7 */
    return put32(b, n, A64_RET);
#endif
}

/* return v, with v at aligned offset *off (function start 16-aligned) */
static inline size_t emit_ret_var(uint8_t *b, uint32_t v, size_t *off)
{
#if HC_X86
    b[0] = b[1] = b[2] = 0x90; /* nop x3 */
    b[3] = 0xb8;               /* mov eax, imm32 (imm at 4) */
    memcpy(b + 4, &v, 4);
    b[8] = 0xc3;
    *off = 4;
    return 9;
#else
    put32(b, 0, 0x18000040u); /* ldr w0, [pc, #8] */
    put32(b, 4, A64_RET);
    put32(b, 8, v);
    *off = 8;
    return 12;
#endif
}

/* Trampoline at exec address `at` jumping to `to`; *off: the 32-bit field. */
static inline size_t emit_branch(uint8_t *b, const void *at, const void *to, size_t *off)
{
    uint32_t field;
#if HC_X86
    b[0] = b[1] = b[2] = 0x90;
    b[3] = 0xe9;
    field = (uint32_t)((intptr_t)to - ((intptr_t)at + 8));
    memcpy(b + 4, &field, 4);
    b[8] = 0xcc;
    *off = 4;
    return 9;
#else
    field = 0x14000000u | ((uint32_t)(((intptr_t)to - (intptr_t)at) >> 2) & 0x3ffffffu);
    put32(b, 0, field);
    *off = 0;
    return 4;
#endif
}

/* The 32-bit field value for a trampoline at `at` jumping to `to`. */
static inline uint32_t branch_field(const void *at, const void *to)
{
#if HC_X86
    return (uint32_t)((intptr_t)to - ((intptr_t)at + 8));
#else
    return 0x14000000u | ((uint32_t)(((intptr_t)to - (intptr_t)at) >> 2) & 0x3ffffffu);
#endif
}

/* Jump through the 8-byte literal at offset 8 (value = target address). */
static inline size_t emit_abs_jump(uint8_t *b, const void *at, const void *to)
{
    uint64_t lit = (uint64_t)(uintptr_t)to;
#if HC_X86 && HC_64
    static const uint8_t j[] = {0xff, 0x25, 0x02, 0x00, 0x00, 0x00, 0xcc, 0xcc};
    (void)at;
    memcpy(b, j, 8); /* jmp [rip+2] */
#elif HC_X86
    uint32_t litaddr = (uint32_t)(uintptr_t)at + 8;
    b[0] = 0xff;
    b[1] = 0x25; /* jmp [abs32] */
    memcpy(b + 2, &litaddr, 4);
    b[6] = b[7] = 0xcc;
#else
    (void)at;
    put32(b, 0, 0x58000050u); /* ldr x16, [pc, #8] */
    put32(b, 4, 0xd61f0200u); /* br x16 */
#endif
    memcpy(b + 8, &lit, 8);
    return 16;
}

/* Jump (call = 0) or call-and-return (call = 1) from exec address `at` into
 * host function `to`. Returns 0 if `to` is out of reach of this encoding. */
static inline size_t emit_host(uint8_t *b, const void *at, const void *to, int call)
{
#if HC_X86
    intptr_t base = (intptr_t)at;
    size_t n = 0, site;
    int64_t d;
    if (call) {
#  if HC_64
        static const uint8_t pro[] = {0x48, 0x83, 0xec, 0x28}; /* sub rsp, 40 */
        memcpy(b, pro, 4);
        n = 4;
#  else
        static const uint8_t pro[] = {0x83, 0xec, 0x0c}; /* sub esp, 12 */
        memcpy(b, pro, 3);
        n = 3;
#  endif
    }
    b[n] = call ? 0xe8 : 0xe9;
    site = n + 5;
    d = (int64_t)((intptr_t)to - (base + (intptr_t)site));
    if (HC_64 && (d > INT32_MAX || d < INT32_MIN))
        return 0;
    {
        uint32_t r = (uint32_t)d;
        memcpy(b + n + 1, &r, 4);
    }
    n = site;
    if (call) {
#  if HC_64
        static const uint8_t epi[] = {0x48, 0x83, 0xc4, 0x28, 0xc3};
        memcpy(b + n, epi, 5);
        n += 5;
#  else
        static const uint8_t epi[] = {0x83, 0xc4, 0x0c, 0xc3};
        memcpy(b + n, epi, 4);
        n += 4;
#  endif
    }
    return n;
#else
    size_t n = 0, p;
    int64_t pages;
    uint32_t lo12, immlo, immhi;
    if (call)
        n = put32(b, n, 0xa9bf7bfdu); /* stp x29, x30, [sp, #-16]! */
    p = n;
    pages = ((int64_t)(uintptr_t)to >> 12) - ((int64_t)((uintptr_t)at + p) >> 12);
    if (pages > 0xfffff || pages < -0x100000)
        return 0;
    immlo = (uint32_t)pages & 3u;
    immhi = ((uint32_t)pages >> 2) & 0x7ffffu;
    lo12 = (uint32_t)(uintptr_t)to & 0xfffu;
    n = put32(b, n, 0x90000000u | (immlo << 29) | (immhi << 5) | 16u); /* adrp x16 */
    n = put32(b, n, 0x91000000u | (lo12 << 10) | (16u << 5) | 16u);  /* add x16 */
    if (call) {
        n = put32(b, n, 0xd63f0200u); /* blr x16 */
        n = put32(b, n, 0xa8c17bfdu); /* ldp x29, x30, [sp], #16 */
        n = put32(b, n, A64_RET);
    } else {
        n = put32(b, n, 0xd61f0200u); /* br x16 */
    }
    return n;
#endif
}

/* Byte that freed code must hold (first byte of the trap pattern). */
static inline int is_trap(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
#if HC_X86
        if (p[i] != 0xcc)
            return 0;
#else
        static const uint8_t brk[4] = {0x00, 0x00, 0x20, 0xd4};
        if (p[i] != brk[i % 4])
            return 0;
#endif
    }
    return 1;
}

/* 1 if code rewritten through a DUAL heap's write view at an address that
 * has already run is seen when it runs again. Always so on hardware (the
 * heap flushes the icache); qemu-user keeps its stale translation, because
 * it only notices writes through the mapping it translated from (see
 * docs/heap.md). Tests skip value checks after such rewrites then. */
static inline int hc_dual_coherent(void)
{
    static int cached = -1;
    if (cached < 0) {
        jk_heap_options o;
        jk_heap *h;
        void *f;
        uint8_t c[16];
        int a, b;
        memset(&o, 0, sizeof o);
        o.strategy = JK_MEM_DUAL;
        if (jk_heap_new(&h, &o, NULL) != JK_OK)
            return cached = 1;
        if (jk_heap_install(h, c, emit_ret(c, 1), &f, NULL) != JK_OK) {
            jk_heap_destroy(h, NULL);
            return cached = 1;
        }
        a = hc_as_fn(f)();
        jk_heap_patch(h, f, c, emit_ret(c, 2), NULL);
        b = hc_as_fn(f)();
        cached = a == 1 && b == 2;
        if (!cached)
            printf("  (this CPU emulator does not see code rewritten through a second "
                   "mapping: value checks after rewrites are skipped)\n");
        jk_heap_destroy(h, NULL);
    }
    return cached;
}

/* -- Threads ------------------------------------------------------------- */

#if defined(_WIN32)
typedef HANDLE hc_thread;
typedef struct hc_tramp {
    void *(*fn)(void *);
    void *arg;
} hc_tramp;
static DWORD WINAPI hc_thread_main(LPVOID p)
{
    hc_tramp t = *(hc_tramp *)p;
    free(p);
    t.fn(t.arg);
    return 0;
}
static inline int hc_thread_start(hc_thread *t, void *(*fn)(void *), void *arg)
{
    hc_tramp *tr = malloc(sizeof *tr);
    if (!tr)
        return -1;
    tr->fn = fn;
    tr->arg = arg;
    *t = CreateThread(NULL, 0, hc_thread_main, tr, 0, NULL);
    return *t ? 0 : -1;
}
static inline void hc_thread_join(hc_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
static inline void hc_yield(void)
{
    SwitchToThread();
}
static inline void hc_sleep_ms(unsigned ms)
{
    Sleep(ms);
}
#else
#  include <time.h>
typedef pthread_t hc_thread;
static inline int hc_thread_start(hc_thread *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}
static inline void hc_thread_join(hc_thread t)
{
    pthread_join(t, NULL);
}
static inline void hc_yield(void)
{
    sched_yield();
}
static inline void hc_sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}
#endif

/* Small deterministic PRNG per thread. */
static inline uint32_t hc_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

#endif
