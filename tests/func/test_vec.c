/*
 * tests/func/test_vec.c - vector parameters and returns (JK_TYPE_V128,
 * JK_TYPE_V256), executed: JIT code calling C functions that take and
 * return __m128i / __m256i, and C calling JIT functions with vector
 * parameters that pass them on to C (so the parameters' locations and the
 * outgoing marshalling are both checked against the C compiler's own
 * calls). The host functions hash their arguments lane by lane in order, so
 * an argument in the wrong place shows.
 *
 * Where the rules are: System V in xmm0-7 / ymm0-7, then 16/32-byte aligned
 * stack slots; i386 (gcc) xmm0-2 / ymm0-2, then aligned stack slots; Win64
 * by reference. Built with -msse2 (the i386 build has no SSE by default);
 * the __m256i side is vec_avx.c (-mavx), run only when the CPU has AVX.
 */
#include "jt.h"

#include "jitkit/jitkit.h"
#include "jitkit/func.h"

#include <emmintrin.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define M64 1
#  define W 8u
#else
#  define M64 0
#  define W 4u
#endif
#define MODE (M64 ? JK_X86_MODE64 : JK_X86_MODE32)
#define BITS (W * 8)
#if M64 && defined(_WIN32)
#  define WIN64 1
#else
#  define WIN64 0
#endif

static __m128i step4(__m128i h, __m128i a)
{
    return _mm_add_epi32(_mm_add_epi32(h, _mm_add_epi32(h, h)), a);
}

static __m128i hv3(intptr_t k, __m128i x, __m128i y)
{
    return _mm_add_epi32(step4(x, y), _mm_set1_epi32((int)k));
}

static __m128i hv10(__m128i a0, __m128i a1, __m128i a2, __m128i a3, __m128i a4, __m128i a5,
                    __m128i a6, __m128i a7, __m128i a8, __m128i a9)
{
    __m128i h = _mm_setzero_si128();
    h = step4(h, a0); h = step4(h, a1); h = step4(h, a2); h = step4(h, a3); h = step4(h, a4);
    h = step4(h, a5); h = step4(h, a6); h = step4(h, a7); h = step4(h, a8); h = step4(h, a9);
    return h;
}

void avx_hw9(void);
void avx_ref_hw9(int32_t *out, const int32_t *in);
int avx_run_jw9(void *jit, const int32_t *in);
#if !WIN64
void avx_hwr(void);
int avx_run_jr(void *jit, const int32_t *in);
#endif

static int32_t g_in[80];

static jk_x86_op R(unsigned n) { return jk_x86_reg(M64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, n); }
static jk_x86_op X(jk_type t, unsigned n)
{
    return jk_x86_reg(t == JK_TYPE_V256 ? JK_X86_RC_YMM : JK_X86_RC_XMM, n);
}
static const char *umov(jk_type t) { return t == JK_TYPE_V256 ? "vmovups" : "movups"; }

static void emit2(jk_x86_asm *a, const char *m, jk_x86_op d, jk_x86_op s)
{
    jk_x86_op o[2];
    o[0] = d;
    o[1] = s;
    jk_x86_emit_name(a, m, 2, o);
}

static jk_sig vsig(jk_type ret, unsigned nlead, unsigned nv, jk_type t)
{
    jk_sig s;
    unsigned i;
    jk_sig_init(&s, JK_ABI_HOST, ret);
    for (i = 0; i < nlead; i++)
        jk_sig_add(&s, JK_TYPE_PTR);
    for (i = 0; i < nv; i++)
        jk_sig_add(&s, t);
    return s;
}

/* Parameter i of f as a call source: its register or stack slot; a Win64
 * by-reference vector is copied into local slot i first (through rax and
 * xmm5/ymm5, which hold no parameter there). */
static jk_x86_op vec_src(jk_x86_asm *a, const jk_x86_frame *f, unsigned i, jk_type t)
{
    jk_x86_op p, l;
    jk_x86_frame_param(f, i, &p);
    if (!(f->layout.params[i].flags & JK_LOC_BYREF))
        return p;
    jk_x86_mov(a, R(0), p);
    emit2(a, umov(t), X(t, 5), jk_x86_mem(0, R(0), JK_NOREG, 1, 0));
    jk_x86_frame_local(f, 32 * i, t == JK_TYPE_V256 ? 32 : 16, &l);
    emit2(a, umov(t), l, X(t, 5));
    return l;
}

static void *install(jk_x86_asm *a, jk_mem **mem)
{
    void *fn = NULL;
    if (jk_x86_install(a, NULL, mem, &fn) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_x86_error(a)->message);
        return NULL;
    }
    return fn;
}

/* JIT: void f(int32_t *out, const int32_t *in) { *out = callee(in vectors) }
 * with memory sources ([in + size*k]) or, for the first three, registers
 * loaded in reverse (xmm2, xmm1, xmm0: a cycle where they are the argument
 * registers). nlead leading pointer arguments of the callee get out. */
static void *build_caller(jk_x86_asm *a, jk_mem **mem, const jk_sig *callee, uintptr_t target,
                          unsigned nlead, jk_type t, int regs, int ret_vec)
{
    jk_frame_desc d;
    jk_x86_frame f;
    jk_x86_op p0, p1, args[JK_SIG_MAX_PARAMS];
    jk_error e;
    unsigned k, sz = t == JK_TYPE_V256 ? 32u : 16u, nv = callee->nparams - nlead;
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_VOID);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    d.saved = 1u << 3 | 1u << (M64 ? 12 : 6); /* rbx: out, r12 / esi: in */
    d.flags = JK_FRAME_FP;
    if (t == JK_TYPE_V256) {
        d.local_align = 32; /* v256 stack arguments need a 32-byte aligned call */
        d.flags |= JK_FRAME_REALIGN;
    }
    if (jk_frame_reserve_call(&d, BITS, callee, &e) != JK_OK)
        return NULL;
    jk_x86_prologue(a, &f, &d);
    jk_x86_frame_param(&f, 0, &p0);
    jk_x86_frame_param(&f, 1, &p1);
    jk_x86_mov(a, R(3), p0);
    jk_x86_mov(a, R(M64 ? 12 : 6), p1);
    for (k = 0; k < nlead; k++)
        args[k] = R(3);
    for (k = 0; k < nv; k++)
        args[nlead + k] = jk_x86_mem(0, R(M64 ? 12 : 6), JK_NOREG, 1, (int64_t)(sz * k));
    if (regs)
        for (k = 0; k < 3 && k < nv; k++) {
            emit2(a, umov(t), X(t, 2 - k), args[nlead + k]);
            args[nlead + k] = X(t, 2 - k);
        }
    jk_x86_call_abi(a, &f, callee, jk_imm((int64_t)target), callee->nparams, args);
    if (ret_vec)
        emit2(a, umov(t), jk_x86_mem(0, R(3), JK_NOREG, 1, 0), X(t, 0));
    jk_x86_epilogue(a, &f);
    return install(a, mem);
}

static void fill_in(unsigned seed)
{
    unsigned k;
    for (k = 0; k < 80; k++)
        g_in[k] = (int32_t)(k * 7919u + seed * 104729u + 1u);
}

static __m128i ld(unsigned k) { return _mm_loadu_si128((const __m128i *)(const void *)(g_in + 4 * k)); }

/* JIT code calling C with __m128i arguments, returning __m128i. */
static void test_call_host_v128(void)
{
    int regs;
    for (regs = 0; regs < 2; regs++) {
        jk_x86_asm *a;
        jk_mem *mem = NULL;
        jk_error e;
        jk_sig s10 = vsig(JK_TYPE_V128, 0, 10, JK_TYPE_V128);
        jk_sig s3 = vsig(JK_TYPE_V128, 0, 2, JK_TYPE_V128);
        void (*f)(int32_t *, const int32_t *);
        void *fn;
        int32_t got[4], want[4];
        __m128i r;
        jk_sig_init(&s3, JK_ABI_HOST, JK_TYPE_V128); /* hv3(intptr_t, v128, v128) */
        jk_sig_add(&s3, JK_TYPE_PTR);
        jk_sig_add(&s3, JK_TYPE_V128);
        jk_sig_add(&s3, JK_TYPE_V128);
        fill_in((unsigned)regs);
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        fn = build_caller(a, &mem, &s10, (uintptr_t)hv10, 0, JK_TYPE_V128, regs, 1);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (!fn) {
            jk_x86_free(a);
            return;
        }
        memcpy(&f, &fn, sizeof f);
        f(got, g_in);
        r = hv10(ld(0), ld(1), ld(2), ld(3), ld(4), ld(5), ld(6), ld(7), ld(8), ld(9));
        _mm_storeu_si128((__m128i *)(void *)want, r);
        JT_CHECK_MSG(memcmp(got, want, sizeof got) == 0, "hv10 from JIT, regs %d", regs);
        jk_mem_free(mem, NULL);
        jk_x86_free(a);

        /* the leading pointer is `out` itself: hv3((intptr_t)out, ...) */
        mem = NULL;
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        fn = build_caller(a, &mem, &s3, (uintptr_t)hv3, 1, JK_TYPE_V128, regs, 1);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (fn) {
            memcpy(&f, &fn, sizeof f);
            f(got, g_in);
            _mm_storeu_si128((__m128i *)(void *)want, hv3((intptr_t)got, ld(0), ld(1)));
            JT_CHECK_MSG(memcmp(got, want, sizeof got) == 0, "hv3 from JIT, regs %d", regs);
            jk_mem_free(mem, NULL);
        }
        jk_x86_free(a);
    }
}

/* C calling JIT functions with __m128i parameters, which pass them on to
 * C: __m128i jf(a0..a9) { return hv10(a0..a9); } and the same with
 * (intptr_t, v128, v128) -> hv3. */
static void test_jit_params_v128(void)
{
    unsigned which;
    for (which = 0; which < 2; which++) {
        jk_x86_asm *a;
        jk_mem *mem = NULL;
        jk_error e;
        jk_frame_desc d;
        jk_x86_frame f;
        jk_x86_op args[10];
        unsigned k, n = which ? 3u : 10u;
        void *fn;
        int32_t got[4], want[4];
        memset(&d, 0, sizeof d);
        if (which) {
            jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_V128);
            jk_sig_add(&d.sig, JK_TYPE_PTR);
            jk_sig_add(&d.sig, JK_TYPE_V128);
            jk_sig_add(&d.sig, JK_TYPE_V128);
        } else {
            d.sig = vsig(JK_TYPE_V128, 0, 10, JK_TYPE_V128);
        }
        d.local_size = 32 * 10;
        d.local_align = 16;
        d.flags = which ? JK_FRAME_FP : 0u;
        JT_OK(jk_frame_reserve_call(&d, BITS, &d.sig, &e), &e);
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        jk_x86_prologue(a, &f, &d);
        for (k = 0; k < n; k++)
            args[k] = which && k == 0 ? (jk_x86_frame_param(&f, 0, &args[0]), args[0])
                                      : vec_src(a, &f, k, JK_TYPE_V128);
        jk_x86_call_abi(a, &f, &d.sig, jk_imm((int64_t)(uintptr_t)(which ? (void *)hv3
                                                                           : (void *)hv10)),
                        n, args);
        jk_x86_epilogue(a, &f);
        fn = install(a, &mem);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (fn) {
            fill_in(which + 5);
            if (which) {
                __m128i (*jf)(intptr_t, __m128i, __m128i);
                memcpy(&jf, &fn, sizeof jf);
                _mm_storeu_si128((__m128i *)(void *)got, jf(77, ld(3), ld(4)));
                _mm_storeu_si128((__m128i *)(void *)want, hv3(77, ld(3), ld(4)));
            } else {
                __m128i (*jf)(__m128i, __m128i, __m128i, __m128i, __m128i, __m128i, __m128i,
                              __m128i, __m128i, __m128i);
                memcpy(&jf, &fn, sizeof jf);
                _mm_storeu_si128((__m128i *)(void *)got, jf(ld(0), ld(1), ld(2), ld(3), ld(4),
                                                             ld(5), ld(6), ld(7), ld(8), ld(9)));
                _mm_storeu_si128((__m128i *)(void *)want, hv10(ld(0), ld(1), ld(2), ld(3),
                                                               ld(4), ld(5), ld(6), ld(7),
                                                               ld(8), ld(9)));
            }
            JT_CHECK_MSG(memcmp(got, want, sizeof got) == 0, "JIT with v128 params, %u", which);
            jk_mem_free(mem, NULL);
        }
        jk_x86_free(a);
    }
}

static int have_avx(void)
{
#if defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx");
#else
    return 0;
#endif
}

/* The same with __m256i: JIT calling C (9 vectors: the stack part needs
 * the 32-byte aligned frame), C calling a JIT function that passes its 9
 * vector parameters on, and (not Win64) a v256 return through ymm0 with
 * the arguments swapped (a ymm cycle). */
static void test_v256(void)
{
    jk_x86_asm *a;
    jk_mem *mem = NULL;
    jk_error e;
    jk_sig s9 = vsig(JK_TYPE_VOID, 1, 9, JK_TYPE_V256);
    void (*f)(int32_t *, const int32_t *);
    void *fn;
    int32_t got[8], want[8];
    int regs;
    if (!have_avx()) {
        printf("     SKIP: the CPU has no AVX\n");
        return;
    }
    for (regs = 0; regs < 2; regs++) {
        fill_in((unsigned)regs + 11);
        mem = NULL;
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        fn = build_caller(a, &mem, &s9, (uintptr_t)avx_hw9, 1, JK_TYPE_V256, regs, 0);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (fn) {
            memcpy(&f, &fn, sizeof f);
            f(got, g_in);
            avx_ref_hw9(want, g_in);
            JT_CHECK_MSG(memcmp(got, want, sizeof got) == 0, "hw9 from JIT, regs %d", regs);
            jk_mem_free(mem, NULL);
        }
        jk_x86_free(a);
    }
    {
        jk_frame_desc d;
        jk_x86_frame fr;
        jk_x86_op args[10];
        unsigned k;
        memset(&d, 0, sizeof d);
        d.sig = s9;
        d.local_size = 32 * 10;
        d.local_align = 32;
        d.flags = JK_FRAME_FP;
        JT_OK(jk_frame_reserve_call(&d, BITS, &s9, &e), &e);
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        jk_x86_prologue(a, &fr, &d);
        jk_x86_frame_param(&fr, 0, &args[0]);
        for (k = 1; k < 10; k++)
            args[k] = vec_src(a, &fr, k, JK_TYPE_V256);
        jk_x86_call_abi(a, &fr, &s9, jk_imm((int64_t)(uintptr_t)avx_hw9), 10, args);
        jk_x86_epilogue(a, &fr);
        mem = NULL;
        fn = install(a, &mem);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (fn) {
            JT_CHECK_MSG(avx_run_jw9(fn, g_in) == 0, "C -> JIT(9 x v256) -> C");
            jk_mem_free(mem, NULL);
        }
        jk_x86_free(a);
    }
#if !WIN64
    {
        jk_frame_desc d;
        jk_x86_frame fr;
        jk_x86_op args[2];
        memset(&d, 0, sizeof d);
        d.sig = vsig(JK_TYPE_V256, 0, 2, JK_TYPE_V256);
        JT_OK(jk_frame_reserve_call(&d, BITS, &d.sig, &e), &e);
        JT_OK(jk_x86_new(&a, MODE, &e), &e);
        jk_x86_prologue(a, &fr, &d);
        jk_x86_frame_param(&fr, 1, &args[0]);
        jk_x86_frame_param(&fr, 0, &args[1]);
        JT_EQ_U64(args[0].rclass, JK_X86_RC_YMM);
        jk_x86_call_abi(a, &fr, &d.sig, jk_imm((int64_t)(uintptr_t)avx_hwr), 2, args);
        jk_x86_epilogue(a, &fr);
        mem = NULL;
        fn = install(a, &mem);
        JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(a)->message);
        if (fn) {
            JT_CHECK_MSG(avx_run_jr(fn, g_in) == 0, "v256 return");
            jk_mem_free(mem, NULL);
        }
        jk_x86_free(a);
    }
#endif
}

/* Layouts against what gcc -S shows for the same C prototypes, and the
 * refusals. */
static void test_vec_layout(void)
{
    jk_sig s;
    jk_call_layout L;
    jk_error e;
    unsigned i;
    /* System V: f(int, v128 x8, int, v128, v256): xmm0-7, then CFA+0 (16),
     * CFA+32 (v256, 32-aligned) */
    jk_sig_init(&s, JK_ABI_SYSV64, JK_TYPE_V256);
    jk_sig_add(&s, JK_TYPE_I32);
    for (i = 0; i < 8; i++)
        jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_V256);
    JT_OK(jk_abi_layout(&s, 64, &L, &e), &e);
    JT_EQ_U64(L.params[1].kind, JK_LOC_VEC);
    JT_EQ_U64(L.params[8].reg, 7);
    JT_EQ_U64(L.params[9].kind, JK_LOC_GP);
    JT_EQ_U64(L.params[10].kind, JK_LOC_STACK);
    JT_EQ_I64(L.params[10].offset, 0);
    JT_EQ_I64(L.params[11].offset, 32);
    JT_EQ_U64(L.stack_bytes, 64);
    JT_EQ_U64(L.stack_align, 32);
    JT_EQ_U64(L.ret.kind, JK_LOC_VEC);
    JT_EQ_U64(L.ret.size, 32);
    /* Win64: f(int, v128, double, v128, v128): pointers in rdx, r9, [CFA+32];
     * copies after the 40 bytes of slots, from 48 */
    jk_sig_init(&s, JK_ABI_WIN64, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_F64);
    jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_V128);
    JT_OK(jk_abi_layout(&s, 64, &L, &e), &e);
    JT_EQ_U64(L.params[1].kind, JK_LOC_GP);
    JT_EQ_U64(L.params[1].reg, 2);
    JT_EQ_U64(L.params[1].flags & JK_LOC_BYREF, JK_LOC_BYREF);
    JT_EQ_U64(L.params[3].reg, 9);
    JT_EQ_U64(L.params[4].kind, JK_LOC_STACK);
    JT_EQ_I64(L.params[4].offset, 32);
    JT_EQ_I64(L.params[1].copy, 48);
    JT_EQ_I64(L.params[3].copy, 64);
    JT_EQ_I64(L.params[4].copy, 80);
    JT_EQ_U64(L.stack_bytes, 96);
    JT_EQ_U64(L.ret.kind, JK_LOC_VEC);
    /* i386 (gcc -m32): f(v128, v128, v128, int, v128, int, v128): xmm0-2,
     * then CFA+0 (int), +16, +32 (int), +48 */
    jk_sig_init(&s, JK_ABI_CDECL, JK_TYPE_V128);
    for (i = 0; i < 3; i++)
        jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_V128);
    JT_OK(jk_abi_layout(&s, 32, &L, &e), &e);
    JT_EQ_U64(L.params[2].kind, JK_LOC_VEC);
    JT_EQ_U64(L.params[2].reg, 2);
    JT_EQ_I64(L.params[4].offset, 16);
    JT_EQ_I64(L.params[5].offset, 32);
    JT_EQ_I64(L.params[6].offset, 48);
    /* stdcall pops them too: s(int, v128 x4) pops 32 (gcc: ret $32) */
    jk_sig_init(&s, JK_ABI_STDCALL, JK_TYPE_V128);
    jk_sig_add(&s, JK_TYPE_I32);
    for (i = 0; i < 4; i++)
        jk_sig_add(&s, JK_TYPE_V128);
    JT_OK(jk_abi_layout(&s, 32, &L, &e), &e);
    JT_EQ_U64(L.callee_pops, 32);
    /* i386 v256: g(v256 x3, int, v256): ymm0-2, CFA+0, CFA+32 */
    jk_sig_init(&s, JK_ABI_CDECL, JK_TYPE_V256);
    for (i = 0; i < 3; i++)
        jk_sig_add(&s, JK_TYPE_V256);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_V256);
    JT_OK(jk_abi_layout(&s, 32, &L, &e), &e);
    JT_EQ_I64(L.params[4].offset, 32);
    JT_EQ_U64(L.stack_align, 32);
    /* refusals */
    jk_sig_init(&s, JK_ABI_WIN64, JK_TYPE_V256);
    JT_EQ_U64(jk_abi_layout(&s, 64, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "hidden pointer");
    jk_sig_init(&s, JK_ABI_SYSV64, JK_TYPE_VOID);
    jk_sig_add(&s, JK_TYPE_PTR);
    jk_sig_varargs(&s);
    jk_sig_add(&s, JK_TYPE_V128);
    JT_EQ_U64(jk_abi_layout(&s, 64, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "variadic");
}

/* A v256 stack argument from a frame that is not 32-byte aligned, and
 * wrong sources, are refused with a message. */
static void test_vec_errors(void)
{
    jk_x86_asm *a;
    jk_error e;
    jk_frame_desc d;
    jk_x86_frame f;
    jk_x86_op args[10];
    jk_sig s9 = vsig(JK_TYPE_VOID, 1, 9, JK_TYPE_V256), s1 = vsig(JK_TYPE_V128, 0, 1,
                                                                  JK_TYPE_V128);
    unsigned k;
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_VOID);
    JT_OK(jk_frame_reserve_call(&d, BITS, &s9, &e), &e);
    JT_OK(jk_x86_new(&a, MODE, &e), &e);
    JT_OK(jk_x86_prologue(a, &f, &d), jk_x86_error(a));
    args[0] = R(3);
    for (k = 1; k < 10; k++)
        args[k] = X(JK_TYPE_V256, k % 3);
#if !WIN64
    JT_EQ_U64(jk_x86_call_abi(a, &f, &s9, jk_imm(0x1000), 10, args), JK_EINVAL);
    JT_CONTAINS(jk_x86_error(a)->message, "32-byte aligned");
#endif
    jk_x86_free(a);
    JT_OK(jk_x86_new(&a, MODE, &e), &e);
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_VOID);
    JT_OK(jk_frame_reserve_call(&d, BITS, &s1, &e), &e);
    JT_OK(jk_x86_prologue(a, &f, &d), jk_x86_error(a));
    args[0] = jk_imm(5);
    JT_EQ_U64(jk_x86_call_abi(a, &f, &s1, jk_imm(0x1000), 1, args), JK_EINVAL);
    JT_CONTAINS(jk_x86_error(a)->message, "needs an xmm register or a 16-byte memory operand");
    jk_x86_free(a);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    JT_RUN(test_vec_layout);
    JT_RUN(test_vec_errors);
    JT_RUN(test_call_host_v128);
    JT_RUN(test_jit_params_v128);
    JT_RUN(test_v256);
    return jt_finish();
}
