/*
 * tests/func/test_func.c - the frame builder, ABI layouts, call marshalling
 * and CET, executed.
 *
 * Every built function is called through a harness written directly with
 * the x86 C API (not with the builder): it loads sentinels into every
 * register the callee's ABI says survives a call, passes the arguments by
 * hand under that ABI, records the stack pointer around the call and the
 * registers after it. Host functions are reached through a JIT stub that
 * records the stack pointer at their entry (the alignment at the call, read
 * from the machine rather than from C) and, for Win64 callees, scribbles
 * over the 32 bytes of shadow space the callee owns, then jumps (not
 * calls) to the C function. Host functions mix their arguments with a hash
 * so order, count and width errors all show.
 *
 * Runs natively (System V x86-64; Win64 through ms_abi host functions), in
 * the -m32 build (cdecl, stdcall, fastcall) and in the mingw build under
 * wine (Win64; System V through sysv_abi).
 */
#include "jt.h"

#include "jitkit/jitkit.h"
#include "jitkit/func.h"

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
#  define HOST_ABI JK_ABI_WIN64
#  define OTHER_ABI JK_ABI_SYSV64
#  define OTHER_CC __attribute__((sysv_abi))
#elif M64
#  define HOST_ABI JK_ABI_SYSV64
#  define OTHER_ABI JK_ABI_WIN64
#  define OTHER_CC __attribute__((ms_abi))
#else
#  define HOST_ABI JK_ABI_CDECL
#  define STD_CC __attribute__((stdcall))
#  define FAST_CC __attribute__((fastcall))
#endif

/* -- Host functions ---------------------------------------------------------- */

static volatile uintptr_t g_entry_sp; /* stack pointer at a host function's entry */
#include "hostfns.h"

DEFALL(, hf)
static const uintptr_t host_fns[17] = TABLE(hf);
#if M64
/* in their own file: mingw gcc 12 -O2 fails with an internal error when
 * sysv_abi definitions share a file with this one */
extern const uintptr_t other_fns[17];
static const jk_abi abis[2] = {HOST_ABI, OTHER_ABI};
#define NABIS 2
#else
DEFALL(STD_CC, sf)
DEFALL(FAST_CC, ff)
static const uintptr_t std_fns[17] = TABLE(sf);
static const uintptr_t fast_fns[17] = TABLE(ff);
static const jk_abi abis[3] = {JK_ABI_CDECL, JK_ABI_STDCALL, JK_ABI_FASTCALL};
#define NABIS 3
#endif

static uintptr_t host_fn(jk_abi abi, unsigned n)
{
#if M64
    return abi == HOST_ABI ? host_fns[n] : other_fns[n];
#else
    return abi == JK_ABI_CDECL ? host_fns[n] : abi == JK_ABI_STDCALL ? std_fns[n] : fast_fns[n];
#endif
}

/* -- The harness ------------------------------------------------------------- */

static uintptr_t h_args[16], h_ret, h_sp0, h_sp1, h_spcall, h_saved[16];
static uintptr_t h_fn;

static jk_x86_op R(unsigned n) { return jk_x86_reg(M64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, n); }
static jk_x86_op SP(void) { return R(4); }
static jk_x86_op at(uintptr_t addr)
{
    return jk_x86_mem_abs(W, (uint64_t)addr);
}

static uintptr_t sentinel(unsigned k)
{
    return (uintptr_t)(M64 ? 0x5e5e5e5e00000000ull : 0x5e5e0000ull) | (k << 8) | 0xa5u;
}

/* Registers a function of this ABI must preserve (the stack pointer aside). */
static unsigned callee_saved(jk_abi abi, unsigned *regs)
{
    static const unsigned sysv[6] = {3, 5, 12, 13, 14, 15}, win[8] = {3, 5, 6, 7, 12, 13, 14, 15},
                          x32[4] = {3, 5, 6, 7};
    const unsigned *p = abi == JK_ABI_SYSV64 ? sysv : abi == JK_ABI_WIN64 ? win : x32;
    unsigned n = abi == JK_ABI_SYSV64 ? 6u : abi == JK_ABI_WIN64 ? 8u : 4u, i;
    for (i = 0; i < n; i++)
        regs[i] = p[i];
    return n;
}

/* Store a register into a global (64-bit: through r11; not for r11). */
static void store_global(jk_x86_asm *a, uintptr_t addr, jk_x86_op r)
{
    if (M64) {
        jk_x86_mov(a, JK_R11, jk_imm((int64_t)addr));
        jk_x86_mov(a, jk_qword(JK_R11, 0), r);
    } else {
        jk_x86_mov(a, at(addr), r);
    }
}

typedef void (*voidfn)(void);
static jk_mem *harness_mem[JK_ABI_COUNT][17];
static voidfn harness_fn[JK_ABI_COUNT][17];

/* A host-callable function with no arguments that calls h_fn (of `abi`,
 * n pointer-sized arguments from h_args) and records everything. */
static voidfn harness(jk_abi abi, unsigned n)
{
    static const unsigned all64[8] = {3, 5, 6, 7, 12, 13, 14, 15}, all32[4] = {3, 5, 6, 7};
    const unsigned *all = M64 ? all64 : all32;
    unsigned nall = M64 ? 8u : 4u, cs[8], ncs, i, k;
    uint32_t X = M64 ? 168u : 76u, pops = 0;
    jk_x86_asm *a;
    void *entry;
    if (harness_fn[abi][n])
        return harness_fn[abi][n];
    jk_x86_new(&a, MODE, NULL);
    for (i = 0; i < nall; i++)
        jk_x86_push(a, R(all[i]));
    store_global(a, (uintptr_t)&h_sp0, SP());
    ncs = callee_saved(abi, cs);
    for (i = 0; i < ncs; i++)
        jk_x86_mov(a, R(cs[i]), jk_imm((int64_t)sentinel(cs[i])));
    jk_x86_sub(a, SP(), jk_imm(X));
    if (M64) {
        static const unsigned sysv[6] = {7, 6, 2, 1, 8, 9}, win[4] = {1, 2, 8, 9};
        unsigned nreg = abi == JK_ABI_SYSV64 ? 6u : 4u;
        const unsigned *regs = abi == JK_ABI_SYSV64 ? sysv : win;
        uint32_t base = abi == JK_ABI_SYSV64 ? 0u : 32u;
        jk_x86_mov(a, JK_RAX, jk_imm((int64_t)(uintptr_t)h_args));
        for (i = nreg; i < n; i++) {
            jk_x86_mov(a, JK_R10, jk_qword(JK_RAX, 8 * i));
            jk_x86_mov(a, jk_qword(JK_RSP, base + 8 * (i - nreg)), JK_R10);
        }
        for (i = 0; i < n && i < nreg; i++)
            jk_x86_mov(a, R(regs[i]), jk_qword(JK_RAX, 8 * i));
    } else {
        unsigned first = abi == JK_ABI_FASTCALL ? (n < 2 ? n : 2u) : 0u;
        for (i = first, k = 0; i < n; i++, k++) {
            jk_x86_mov(a, JK_EAX, at((uintptr_t)&h_args[i]));
            jk_x86_mov(a, jk_dword(JK_ESP, 4 * k), JK_EAX);
        }
        if (first > 0)
            jk_x86_mov(a, JK_ECX, at((uintptr_t)&h_args[0]));
        if (first > 1)
            jk_x86_mov(a, JK_EDX, at((uintptr_t)&h_args[1]));
        if (abi != JK_ABI_CDECL)
            pops = 4 * k;
    }
    store_global(a, (uintptr_t)&h_spcall, SP());
    if (M64) {
        jk_x86_mov(a, JK_R11, jk_imm((int64_t)(uintptr_t)&h_fn));
        jk_x86_call(a, jk_qword(JK_R11, 0));
    } else {
        jk_x86_call(a, at((uintptr_t)&h_fn));
        if (pops)
            jk_x86_sub(a, SP(), jk_imm(pops));
    }
    jk_x86_add(a, SP(), jk_imm(X));
    store_global(a, (uintptr_t)&h_sp1, SP());
    store_global(a, (uintptr_t)&h_ret, R(0));
    for (i = 0; i < nall; i++)
        store_global(a, (uintptr_t)&h_saved[all[i]], R(all[i]));
    for (i = nall; i-- > 0;)
        jk_x86_pop(a, R(all[i]));
    jk_x86_ret(a);
    if (jk_x86_install(a, NULL, &harness_mem[abi][n], &entry) != JK_OK) {
        fprintf(stderr, "harness: %s\n", jk_x86_error(a)->message);
        jk_x86_free(a);
        return NULL;
    }
    jk_x86_free(a);
    harness_fn[abi][n] = (voidfn)(uintptr_t)entry;
    return harness_fn[abi][n];
}

/* Call fn (abi, n arguments from args) through the harness; checks the
 * callee-saved registers and the stack pointer. 0 on success. */
static int run(jk_abi abi, void *fn, unsigned n, const uintptr_t *args, uintptr_t *ret)
{
    voidfn h = harness(abi, n);
    unsigned cs[8], ncs, i;
    if (!h)
        return -1;
    memset(h_saved, 0, sizeof h_saved);
    for (i = 0; i < n; i++)
        h_args[i] = args[i];
    h_fn = (uintptr_t)fn;
    h();
    *ret = h_ret;
    if (h_sp0 != h_sp1) {
        fprintf(stderr, "stack pointer moved: %#lx -> %#lx\n", (unsigned long)h_sp0,
                (unsigned long)h_sp1);
        return -2;
    }
    if (h_spcall % 16) {
        fprintf(stderr, "harness misaligned\n");
        return -3;
    }
    ncs = callee_saved(abi, cs);
    for (i = 0; i < ncs; i++)
        if (h_saved[cs[i]] != sentinel(cs[i])) {
            fprintf(stderr, "register %u not preserved: %#lx\n", cs[i],
                    (unsigned long)h_saved[cs[i]]);
            return -4;
        }
    return 0;
}

/* -- Building functions ---------------------------------------------------------- */

static jk_x86_asm *A;
static jk_mem *MEM;

static void begin(void)
{
    if (MEM)
        jk_mem_free(MEM, NULL);
    MEM = NULL;
    jk_x86_free(A);
    A = NULL;
    jk_x86_new(&A, MODE, NULL);
}

static void *install(void)
{
    void *entry = NULL;
    if (jk_x86_install(A, NULL, &MEM, &entry) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_x86_error(A)->message);
        return NULL;
    }
    return entry;
}

/* Install near `p` (so RIP-relative operands reach the host's data). */
static void *install_near(const void *p)
{
    jk_mem_options o = {JK_MEM_AUTO, NULL};
    void *entry = NULL;
    o.near_to = p;
    if (jk_x86_install(A, &o, &MEM, &entry) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_x86_error(A)->message);
        return NULL;
    }
    return entry;
}

/* [p], the host's data: RIP-relative in 64-bit code (installed near it, a
 * 64-bit absolute address fits no memory operand but mov's moffs), absolute
 * in 32-bit code. */
static jk_x86_op data_mem(unsigned size, const void *p)
{
    return M64 ? jk_x86_mem_label(size, jk_x86_label_abs(A, (uint64_t)(uintptr_t)p), 0)
               : jk_x86_mem_abs(size, (uint64_t)(uintptr_t)p);
}

static jk_sig ptr_sig(jk_abi abi, unsigned n)
{
    jk_sig s;
    unsigned i;
    jk_sig_init(&s, abi, JK_TYPE_PTR);
    for (i = 0; i < n; i++)
        jk_sig_add(&s, JK_TYPE_PTR);
    return s;
}

/* The entry stub of a host function of `abi` (see the file comment). */
static void emit_stub(jk_label l, jk_abi abi, uintptr_t host)
{
    jk_x86_bind(A, l);
    store_global(A, (uintptr_t)&g_entry_sp, SP());
    if (M64) {
        unsigned k;
        if (abi == JK_ABI_WIN64) {
            jk_x86_mov(A, JK_R11, jk_imm((int64_t)0xdeadbeefdeadbeefull));
            for (k = 1; k <= 4; k++)
                jk_x86_mov(A, jk_qword(JK_RSP, 8 * k), JK_R11);
        }
        jk_x86_mov(A, JK_R11, jk_imm((int64_t)host));
        jk_x86_jmp(A, JK_R11);
    } else {
        jk_x86_jmp(A, jk_lbl(jk_x86_label_abs(A, (uint64_t)host)));
    }
}

static int entry_aligned(void) { return (g_entry_sp + W) % 16 == 0; }

/* A function of abi_self with n pointer parameters that writes a pattern
 * over its locals, clobbers its saved registers, calls a host function of
 * abi_callee with m arguments taken from its parameters in reverse order
 * (immediates and a local for the rest), checks its locals afterwards
 * (returning -1 if they changed) and returns the host's result. */
static void *build_caller(jk_abi abi_self, unsigned n, jk_abi abi_callee, unsigned m,
                          uint32_t flags, uint32_t saved, uint32_t local_size,
                          uint32_t local_align, jk_frame_desc *out_desc, jk_x86_frame *f)
{
    jk_frame_desc d;
    jk_sig callee = ptr_sig(abi_callee, m);
    jk_x86_op args[16], p;
    jk_label stub, bad;
    unsigned i, k, nloc = local_size / W;
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(abi_self, n);
    d.saved = saved;
    d.local_size = local_size;
    d.local_align = local_align;
    d.flags = flags;
    if (jk_frame_reserve_call(&d, BITS, &callee, NULL) != JK_OK)
        return NULL;
    if (out_desc)
        *out_desc = d;
    begin();
    stub = jk_x86_label(A, "stub");
    bad = jk_x86_label(A, "bad");
    if (jk_x86_prologue(A, f, &d) != JK_OK)
        return NULL;
    for (k = 0; k < 16; k++)
        if ((saved >> k & 1u) && k != 4 && !(k == 5 && f->fp))
            jk_x86_mov(A, R(k), jk_imm((int64_t)(0x1234567u * (k + 1))));
    for (k = 0; k < nloc; k++) {
        jk_x86_frame_local(f, W * k, W, &p);
        jk_x86_mov(A, p, jk_imm((int64_t)(0x51 + k)));
    }
    for (i = 0; i < m; i++) {
        if (i < n)
            jk_x86_frame_param(f, n - 1 - i, &args[i]);
        else if (i == n && nloc)
            jk_x86_frame_local(f, 0, W, &args[i]); /* holds 0x51 */
        else
            args[i] = jk_imm((int64_t)(0x1000 + i));
    }
    jk_x86_call_abi(A, f, &callee, jk_lbl(stub), m, args);
    for (k = 0; k < nloc; k++) {
        jk_x86_frame_local(f, W * k, W, &p);
        jk_x86_cmp(A, p, jk_imm((int64_t)(0x51 + k)));
        jk_x86_jne(A, jk_lbl(bad));
    }
    jk_x86_epilogue(A, f);
    jk_x86_bind(A, bad);
    jk_x86_mov(A, R(0), jk_imm(-1));
    jk_x86_epilogue(A, f);
    emit_stub(stub, abi_callee, host_fn(abi_callee, m));
    return install();
}

static uintptr_t expect_caller(unsigned n, unsigned m, const uintptr_t *args, unsigned nloc)
{
    uintptr_t v[16];
    unsigned i;
    for (i = 0; i < m; i++)
        v[i] = i < n ? args[n - 1 - i] : (i == n && nloc) ? 0x51u : (uintptr_t)(0x1000 + i);
    return mix(m, v);
}

static void fill_args(uintptr_t *args, unsigned n, unsigned salt)
{
    unsigned i;
    for (i = 0; i < n; i++)
        args[i] = (uintptr_t)(0x10101010u * (i + 1) + salt) ^ (M64 ? (uintptr_t)0x7000000000000000ull : 0u);
}

/* -- Layouts ----------------------------------------------------------------- */

static void test_layout_sysv(void)
{
    jk_sig s;
    jk_call_layout L;
    unsigned i;
    jk_sig_init(&s, JK_ABI_SYSV64, JK_TYPE_F64);
    /* i d i d ... 8 ints, 10 doubles interleaved */
    for (i = 0; i < 18; i++)
        jk_sig_add(&s, (i % 2 && i < 18) || i >= 16 ? JK_TYPE_F64 : JK_TYPE_I32);
    JT_OK(jk_abi_layout(&s, 64, &L, NULL), &(jk_error){0});
    {
        /* ints: i = 0,2,..14 -> rdi rsi rdx rcx r8 r9, then stack; doubles: xmm0..7, stack */
        static const uint8_t gp[6] = {7, 6, 2, 1, 8, 9};
        unsigned ng = 0, nv = 0, off = 0;
        for (i = 0; i < 18; i++) {
            const jk_loc *l = &L.params[i];
            if (s.params[i] == JK_TYPE_I32 && ng < 6) {
                JT_EQ_U64(l->kind, JK_LOC_GP);
                JT_EQ_U64(l->reg, gp[ng++]);
                JT_EQ_U64(l->size, 4);
            } else if (s.params[i] == JK_TYPE_F64 && nv < 8) {
                JT_EQ_U64(l->kind, JK_LOC_VEC);
                JT_EQ_U64(l->reg, nv++);
            } else {
                JT_EQ_U64(l->kind, JK_LOC_STACK);
                JT_EQ_U64(l->offset, off);
                off += 8;
            }
        }
        JT_EQ_U64(L.stack_bytes, off);
        JT_EQ_U64(off, 32); /* int 7, 8 and doubles 9, 10 */
    }
    JT_EQ_U64(L.vec_count, 8);
    JT_EQ_U64(L.ret.kind, JK_LOC_VEC);
    JT_EQ_U64(L.callee_pops, 0);
}

static void test_layout_win64(void)
{
    jk_sig s;
    jk_call_layout L;
    jk_sig_init(&s, JK_ABI_WIN64, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_PTR);
    jk_sig_add(&s, JK_TYPE_F64);
    jk_sig_varargs(&s);
    jk_sig_add(&s, JK_TYPE_I8);
    jk_sig_add(&s, JK_TYPE_F64);
    jk_sig_add(&s, JK_TYPE_F32);
    JT_OK(jk_abi_layout(&s, 64, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.params[0].kind, JK_LOC_GP);
    JT_EQ_U64(L.params[0].reg, 1);              /* rcx */
    JT_EQ_U64(L.params[1].kind, JK_LOC_VEC);
    JT_EQ_U64(L.params[1].reg, 1);              /* xmm1: positional */
    JT_EQ_U64(L.params[1].flags & JK_LOC_DUP_GP, 0); /* fixed: no duplicate */
    JT_EQ_U64(L.params[2].reg, 8);              /* r8 */
    JT_EQ_U64(L.params[3].kind, JK_LOC_VEC);
    JT_EQ_U64(L.params[3].reg, 3);
    JT_EQ_U64(L.params[3].flags & JK_LOC_DUP_GP, JK_LOC_DUP_GP);
    JT_EQ_U64(L.params[3].reg2, 9);             /* and r9 */
    JT_EQ_U64(L.params[3].flags & JK_LOC_HOME, JK_LOC_HOME);
    JT_EQ_U64(L.params[3].offset, 24);
    JT_EQ_U64(L.params[4].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[4].offset, 32);          /* after the shadow space */
    JT_EQ_U64(L.stack_bytes, 40);
    /* fewer than four: the shadow space is still there */
    jk_sig_init(&s, JK_ABI_WIN64, JK_TYPE_VOID);
    JT_OK(jk_abi_layout(&s, 64, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.stack_bytes, 32);
    JT_EQ_U64(L.ret.kind, JK_LOC_NONE);
}

static void test_layout_i386(void)
{
    jk_sig s;
    jk_call_layout L;
    jk_sig_init(&s, JK_ABI_CDECL, JK_TYPE_I64);
    jk_sig_add(&s, JK_TYPE_I8);
    jk_sig_add(&s, JK_TYPE_F64);
    jk_sig_add(&s, JK_TYPE_I64);
    jk_sig_add(&s, JK_TYPE_F32);
    JT_OK(jk_abi_layout(&s, 32, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.params[0].offset, 0);
    JT_EQ_U64(L.params[1].offset, 4);
    JT_EQ_U64(L.params[2].offset, 12);
    JT_EQ_U64(L.params[3].offset, 20);
    JT_EQ_U64(L.stack_bytes, 24);
    JT_EQ_U64(L.ret.kind, JK_LOC_GP_PAIR);
    JT_EQ_U64(L.callee_pops, 0);
    s.abi = JK_ABI_STDCALL;
    s.ret = JK_TYPE_F64;
    JT_OK(jk_abi_layout(&s, 32, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.callee_pops, 24);
    JT_EQ_U64(L.ret.kind, JK_LOC_X87);
    /* fastcall, checked against gcc -m32's calls: f(int, long long, int)
     * passes ecx, stack, stack; f(char, float, int, int) ecx, stack, edx,
     * stack; a 64-bit first argument uses up both registers */
    jk_sig_init(&s, JK_ABI_FASTCALL, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_I64);
    jk_sig_add(&s, JK_TYPE_I32);
    JT_OK(jk_abi_layout(&s, 32, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.params[0].kind, JK_LOC_GP);
    JT_EQ_U64(L.params[0].reg, 1);              /* ecx */
    JT_EQ_U64(L.params[1].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[1].offset, 0);
    JT_EQ_U64(L.params[2].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[2].offset, 8);
    JT_EQ_U64(L.callee_pops, 12);
    jk_sig_init(&s, JK_ABI_FASTCALL, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_I8);
    jk_sig_add(&s, JK_TYPE_F32);
    jk_sig_add(&s, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_I32);
    JT_OK(jk_abi_layout(&s, 32, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.params[0].reg, 1);
    JT_EQ_U64(L.params[1].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[1].offset, 0);
    JT_EQ_U64(L.params[2].kind, JK_LOC_GP);
    JT_EQ_U64(L.params[2].reg, 2);              /* edx */
    JT_EQ_U64(L.params[3].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[3].offset, 4);
    JT_EQ_U64(L.callee_pops, 8);
    jk_sig_init(&s, JK_ABI_FASTCALL, JK_TYPE_I32);
    jk_sig_add(&s, JK_TYPE_I64);
    jk_sig_add(&s, JK_TYPE_I16);
    JT_OK(jk_abi_layout(&s, 32, &L, NULL), &(jk_error){0});
    JT_EQ_U64(L.params[1].kind, JK_LOC_STACK);
    JT_EQ_U64(L.params[1].offset, 8);
}

static void test_layout_errors(void)
{
    jk_sig s;
    jk_call_layout L;
    jk_error e;
    jk_sig_init(&s, JK_ABI_WIN64, JK_TYPE_VOID);
    JT_EQ_U64(jk_abi_layout(&s, 32, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "the win64 ABI needs 64-bit code");
    s.abi = JK_ABI_STDCALL;
    JT_EQ_U64(jk_abi_layout(&s, 64, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "needs 32-bit code");
    jk_sig_varargs(&s);
    jk_sig_add(&s, JK_TYPE_I32);
    JT_EQ_U64(jk_abi_layout(&s, 32, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "a stdcall function cannot be variadic");
    jk_sig_init(&s, JK_ABI_CDECL, JK_TYPE_VOID);
    jk_sig_add(&s, JK_TYPE_VOID);
    JT_EQ_U64(jk_abi_layout(&s, 32, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "parameter 0: invalid type");
    jk_sig_init(&s, JK_ABI_HOST, JK_TYPE_VOID);
    for (unsigned i = 0; i < 33; i++)
        jk_sig_add(&s, JK_TYPE_I32);
    JT_EQ_U64(jk_abi_layout(&s, 64, &L, &e), JK_EINVAL);
    JT_CONTAINS(e.message, "33 parameters: at most 32");
    JT_EQ_U64(jk_abi_host(32), JK_ABI_CDECL);
    JT_EQ_U64(jk_abi_host(64), M64 ? HOST_ABI : jk_abi_host(64));
}

static int have_simd(void);
static char simd_why[256];

/* -- Calls, executed ------------------------------------------------------------ */

/* JIT functions with 0..16 parameters calling host functions with 0..16
 * arguments, every pair of ABIs of the mode, frame options rotating. */
static void test_calls_matrix(void)
{
    static const uint32_t opts[4] = {0, JK_FRAME_FP, JK_FRAME_NO_REDZONE, JK_FRAME_FP | JK_FRAME_ENDBR};
    unsigned si, ci, n, m, count = 0, skipped = 0;
    for (si = 0; si < NABIS; si++)
        for (ci = 0; ci < NABIS; ci++)
            for (n = 0; n <= 16; n++)
                for (m = 0; m <= 16; m++) {
                    jk_x86_frame f;
                    uintptr_t args[16], ret;
                    uint32_t saved = M64 ? (1u << 3 | 1u << 12 | 1u << 15) : (1u << 3 | 1u << 6);
                    unsigned loc = (n + m) % 3 ? 0u : 24u;
                    void *fn;
                    if (si != ci && n != m && n != 16 && m != 16 && (n + m) % 4)
                        continue; /* mixed-ABI pairs: a sample */
                    fn = build_caller(abis[si], n, abis[ci], m, opts[(n + m) % 4], saved, loc, 0,
                                      NULL, &f);
                    if (!fn && abis[si] == JK_ABI_WIN64 && abis[ci] == JK_ABI_SYSV64 &&
                        !have_simd() && strstr(jk_x86_error(A)->message, "movaps")) {
                        /* the frame must save xmm6-xmm15 (movaps) */
                        snprintf(simd_why, sizeof simd_why, "%s", jk_x86_error(A)->message);
                        skipped++;
                        continue;
                    }
                    JT_CHECK_MSG(fn != NULL, "%s(%u) -> %s(%u): %s", jk_abi_name(abis[si]), n,
                                 jk_abi_name(abis[ci]), m, jk_x86_error(A)->message);
                    fill_args(args, n, n * 17 + m);
                    g_entry_sp = 1;
                    JT_CHECK_MSG(run(abis[si], fn, n, args, &ret) == 0, "%s(%u) -> %s(%u)",
                                 jk_abi_name(abis[si]), n, jk_abi_name(abis[ci]), m);
                    JT_CHECK_MSG(ret == expect_caller(n, m, args, loc / W), "%s(%u) -> %s(%u): "
                                 "result %#lx", jk_abi_name(abis[si]), n, jk_abi_name(abis[ci]), m,
                                 (unsigned long)ret);
                    JT_CHECK_MSG(entry_aligned(), "%s(%u) -> %s(%u): sp at the callee's entry "
                                 "%#lx", jk_abi_name(abis[si]), n, jk_abi_name(abis[ci]), m,
                                 (unsigned long)g_entry_sp);
                    count++;
                }
    printf("     %u caller/callee pairs executed\n", count);
    if (skipped)
        printf("     SKIP %u win64 -> sysv64 pairs: saving xmm6-xmm15 needs movaps (%s)\n",
               skipped, simd_why);
}

/* Every combination of frame options, saved sets, local sizes and alignments:
 * valid ones run (locals intact and aligned, registers preserved, calls
 * aligned), invalid ones are refused with a message. */
static uintptr_t g_local_addr;

static void test_frame_options(void)
{
    static const uint32_t sizes[6] = {0, 4, 40, 120, 200, 9000};
    static const uint32_t aligns[4] = {0, 16, 32, 64};
    uint32_t saved_sets[3];
    unsigned fl, si, li, ai, ran = 0, refused = 0;
    saved_sets[0] = 0;
    saved_sets[1] = M64 ? (1u << 3 | 1u << 5 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15 |
                           (HOST_ABI == JK_ABI_WIN64 ? (1u << 6 | 1u << 7) : 0u))
                        : (1u << 3 | 1u << 5 | 1u << 6 | 1u << 7);
    saved_sets[2] = 1u << 3;
    for (fl = 0; fl < 64; fl++)
        for (si = 0; si < 3; si++)
            for (li = 0; li < 6; li++)
                for (ai = 0; ai < 4; ai++) {
                    uint32_t flags = fl & 0x1fu; /* FP LEAF NO_REDZONE HOME REALIGN */
                    jk_frame_desc d;
                    jk_x86_frame f;
                    jk_x86_op p, q;
                    jk_sig hs = ptr_sig(HOST_ABI, 3);
                    jk_label stub = 0;
                    unsigned k, nloc = sizes[li] / W, leaf, expect_ok;
                    uintptr_t args[3] = {11, 22, 33}, ret;
                    void *fn;
                    if (fl & 0x20u)
                        flags |= JK_FRAME_ENDBR;
                    leaf = (flags & JK_FRAME_LEAF) != 0;
                    memset(&d, 0, sizeof d);
                    d.sig = ptr_sig(HOST_ABI, 3);
                    d.saved = saved_sets[si];
                    d.local_size = sizes[li];
                    d.local_align = aligns[ai];
                    d.flags = flags;
                    if (!leaf)
                        jk_frame_reserve_call(&d, BITS, &hs, NULL);
                    expect_ok = !((flags & JK_FRAME_HOME) && HOST_ABI != JK_ABI_WIN64) &&
                                !(((flags & JK_FRAME_REALIGN) || aligns[ai] > 16) &&
                                  !(flags & JK_FRAME_FP));
                    begin();
                    if (!leaf)
                        stub = jk_x86_label(A, "stub");
                    if (jk_x86_prologue(A, &f, &d) != JK_OK) {
                        JT_CHECK_MSG(!expect_ok, "flags %#x: %s", flags, jk_x86_error(A)->message);
                        JT_CHECK(jk_x86_error(A)->message[0] != 0);
                        refused++;
                        continue;
                    }
                    JT_CHECK_MSG(expect_ok, "flags %#x align %u accepted", flags, aligns[ai]);
                    JT_CHECK(!f.redzone || (HOST_ABI == JK_ABI_SYSV64 && leaf &&
                                            !(flags & JK_FRAME_NO_REDZONE)));
                    for (k = 0; k < 16; k++)
                        if ((d.saved >> k & 1u) && k != 4 && !(k == 5 && f.fp))
                            jk_x86_mov(A, R(k), jk_imm((int64_t)(0x777 * (k + 1))));
                    for (k = 0; k < nloc; k++) {
                        jk_x86_frame_local(&f, W * k, W, &p);
                        jk_x86_mov(A, p, jk_imm((int64_t)(0x51 + k)));
                    }
                    if (nloc) {
                        jk_x86_frame_local(&f, 0, W, &p);
                        jk_x86_lea(A, R(0), p);
                        store_global(A, (uintptr_t)&g_local_addr, R(0));
                    }
                    if (!leaf) {
                        jk_x86_op a3[3];
                        for (k = 0; k < 3; k++)
                            jk_x86_frame_param(&f, 2 - k, &a3[k]);
                        jk_x86_call_abi(A, &f, &hs, jk_lbl(stub), 3, a3);
                    } else {
                        jk_x86_frame_param(&f, 0, &p);
                        jk_x86_frame_param(&f, 1, &q);
                        jk_x86_mov(A, R(0), p);
                        jk_x86_add(A, R(0), q);
                        jk_x86_frame_param(&f, 2, &q);
                        jk_x86_add(A, R(0), q);
                    }
                    /* sum of the locals added in: proves they survived the call */
                    for (k = 0; k < nloc; k++) {
                        jk_x86_frame_local(&f, W * k, W, &p);
                        jk_x86_add(A, R(0), p);
                    }
                    jk_x86_epilogue(A, &f);
                    if (!leaf)
                        emit_stub(stub, HOST_ABI, host_fns[3]);
                    fn = install();
                    JT_CHECK_MSG(fn != NULL, "flags %#x", flags);
                    g_entry_sp = 1;
                    g_local_addr = 0;
                    JT_CHECK_MSG(run(HOST_ABI, fn, 3, args, &ret) == 0, "flags %#x saved %#x "
                                 "locals %u align %u", flags, d.saved, sizes[li], aligns[ai]);
                    {
                        uintptr_t v[3] = {33, 22, 11}, want = leaf ? 66u : mix(3, v);
                        for (k = 0; k < nloc; k++)
                            want += 0x51 + k;
                        JT_CHECK_MSG(ret == want, "flags %#x locals %u: %#lx vs %#lx", flags,
                                     sizes[li], (unsigned long)ret, (unsigned long)want);
                    }
                    if (!leaf)
                        JT_CHECK_MSG(entry_aligned(), "flags %#x locals %u align %u: call "
                                     "misaligned", flags, sizes[li], aligns[ai]);
                    if (nloc)
                        JT_CHECK_MSG(g_local_addr % (aligns[ai] ? aligns[ai] : W) == 0,
                                     "locals at %#lx, align %u", (unsigned long)g_local_addr,
                                     aligns[ai]);
                    ran++;
                }
    printf("     %u frames ran, %u refused\n", ran, refused);
    JT_CHECK(ran > 0 && refused > 0);
}

/* A 1 MiB frame: the prologue probes each page on the way down, which
 * Windows (and wine) need to grow the stack through its guard page. The
 * body writes the lowest and the highest local, then calls the host. */
static void test_big_frame(void)
{
    jk_frame_desc d;
    jk_x86_frame f;
    jk_sig hs = ptr_sig(HOST_ABI, 1);
    jk_x86_op p, args[1];
    jk_label stub;
    uintptr_t a1[1] = {42}, ret, v[1] = {7};
    void *fn;
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 1);
    d.local_size = 1u << 20;
    jk_frame_reserve_call(&d, BITS, &hs, NULL);
    begin();
    stub = jk_x86_label(A, "stub");
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    JT_OK(jk_x86_frame_local(&f, 0, W, &p), jk_x86_error(A));
    jk_x86_mov(A, p, jk_imm(7));
    JT_OK(jk_x86_frame_local(&f, d.local_size - W, W, &p), jk_x86_error(A));
    jk_x86_mov(A, p, jk_imm(8));
    JT_EQ_U64(jk_x86_frame_local(&f, d.local_size - W + 1, W, &p), JK_ERANGE);
    jk_x86_frame_local(&f, 0, W, &args[0]);
    JT_OK(jk_x86_call_abi(A, &f, &hs, jk_lbl(stub), 1, args), jk_x86_error(A));
    jk_x86_epilogue(A, &f);
    emit_stub(stub, HOST_ABI, host_fns[1]);
    fn = install();
    JT_CHECK(fn != NULL);
    JT_EQ_U64(run(HOST_ABI, fn, 1, a1, &ret), 0);
    JT_EQ_U64(ret, mix(1, v));
    JT_CHECK(entry_aligned());
}

/* Up to JK_FRAME_MAX_EPILOGUES epilogues are recorded; one more is refused. */
static void test_epilogues(void)
{
    jk_frame_desc d;
    jk_x86_frame f;
    unsigned i;
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 0);
    d.saved = 1u << 3;
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    for (i = 0; i < JK_FRAME_MAX_EPILOGUES; i++)
        JT_OK(jk_x86_epilogue(A, &f), jk_x86_error(A));
    JT_EQ_U64(f.rec.nepilogues, JK_FRAME_MAX_EPILOGUES);
    JT_EQ_U64(jk_x86_epilogue(A, &f), JK_ERANGE);
    JT_CONTAINS(jk_x86_error(A)->message, "more than 8 epilogues");
}

/* Win64 frames with a frame pointer, byte for byte against GNU as (the
 * text in the comments, assembled with `as` and dumped with objdump): the
 * pushes (rbp first), the allocation, the xmm saves, then lea rbp, [rsp + k]
 * with k = min(allocation, 128) - the order UNWIND_INFO describes; the
 * epilogue lea rsp, [rbp + d] is the form Windows recognises. A realigned
 * frame sets rbp right after the pushes (frame offset 0) and leaves through
 * it. Checked in both modes' builds (the bytes are 64-bit code either way). */
static void test_win64_fp_bytes(void)
{
    static const uint8_t fp_vec[] = {
        0x55,                                     /* push rbp */
        0x53,                                     /* push rbx */
        0x41, 0x54,                               /* push r12 */
        0x48, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00, /* sub rsp, 256 */
        0x0f, 0x29, 0xb4, 0x24, 0xf0, 0, 0, 0,    /* movaps [rsp+240], xmm6 */
        0x48, 0x8d, 0xac, 0x24, 0x80, 0, 0, 0,    /* lea rbp, [rsp+128] */
        0x0f, 0x28, 0xb4, 0x24, 0xf0, 0, 0, 0,    /* movaps xmm6, [rsp+240] */
        0x48, 0x8d, 0xa5, 0x80, 0, 0, 0,          /* lea rsp, [rbp+128] */
        0x41, 0x5c, 0x5b, 0x5d, 0xc3};            /* pop r12; pop rbx; pop rbp; ret */
    static const uint8_t realign[] = {
        0x55, 0x53,                               /* push rbp; push rbx */
        0x48, 0x89, 0xe5,                         /* mov rbp, rsp */
        0x48, 0x83, 0xe4, 0xe0,                   /* and rsp, -32 */
        0x48, 0x83, 0xec, 0x60,                   /* sub rsp, 96 */
        0x48, 0x8d, 0x65, 0x00,                   /* lea rsp, [rbp+0] */
        0x5b, 0x5d, 0xc3};                        /* pop rbx; pop rbp; ret */
    unsigned v;
    for (v = 0; v < 2; v++) {
        jk_x86_asm *a;
        jk_frame_desc d;
        jk_x86_frame f;
        jk_x86_op p;
        uint8_t buf[128];
        size_t size;
        const uint8_t *want = v ? realign : fp_vec;
        size_t nwant = v ? sizeof realign : sizeof fp_vec;
        memset(&d, 0, sizeof d);
        d.sig = ptr_sig(JK_ABI_WIN64, 5);
        d.saved = v ? 1u << 3 : (1u << 3 | 1u << 12);
        d.saved_vec = v ? 0 : 1u << 6;
        d.local_size = v ? 40 : 200;
        d.local_align = v ? 32 : 0;
        d.call_args = 32;
        d.flags = JK_FRAME_FP | JK_FRAME_NO_ENDBR | (v ? JK_FRAME_REALIGN : 0u);
        jk_error e;
        JT_OK(jk_x86_new(&a, JK_X86_MODE64, &e), &e);
        JT_OK(jk_x86_prologue(a, &f, &d), jk_x86_error(a));
        /* the body's rule and the parameters follow the frame pointer */
        JT_EQ_U64(f.rec.body_cfa_reg, 5);
        JT_EQ_I64(f.rec.body_cfa_off, v ? 24 : 160);
        JT_OK(jk_x86_frame_param(&f, 4, &p), jk_x86_error(a));
        JT_EQ_U64(p.kind, JK_X86_OP_MEM);
        JT_EQ_I64(p.value, (v ? 24 : 160) + 32);
        JT_OK(jk_x86_frame_home(&f, 1, &p), jk_x86_error(a));
        JT_EQ_I64(p.value, (v ? 24 : 160) + 8);
        JT_EQ_U64(f.rec.prologue_size, v ? 13u : 27u);
        JT_OK(jk_x86_epilogue(a, &f), jk_x86_error(a));
        JT_OK(jk_x86_finish(a, &size), jk_x86_error(a));
        JT_EQ_U64(size, nwant);
        JT_OK(jk_x86_copy(a, buf, sizeof buf, 0), jk_x86_error(a));
        JT_CHECK_MSG(memcmp(buf, want, nwant) == 0, "variant %u: bytes differ from GNU as", v);
        jk_x86_free(a);
    }
}

/* Win64 home slots: with JK_FRAME_HOME the prologue stores the register
 * parameters there; the body reads them back. */
static void test_home_slots(void)
{
#if M64
    jk_frame_desc d;
    jk_x86_frame f;
    jk_x86_op p;
    uintptr_t args[5] = {5, 6, 7, 8, 9}, ret;
    unsigned fp;
    for (fp = 0; fp < 2; fp++) {
        memset(&d, 0, sizeof d);
        d.sig = ptr_sig(JK_ABI_WIN64, 5);
        d.flags = JK_FRAME_HOME | JK_FRAME_LEAF | (fp ? JK_FRAME_FP : 0u);
        d.saved = 1u << 3;
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        /* clobber the registers: the values must come from the home slots */
        jk_x86_xor(A, JK_ECX, JK_ECX);
        jk_x86_xor(A, JK_EDX, JK_EDX);
        jk_x86_xor(A, JK_R8D, JK_R8D);
        jk_x86_xor(A, JK_R9D, JK_R9D);
        jk_x86_frame_home(&f, 0, &p);
        jk_x86_mov(A, JK_RAX, p);
        for (unsigned i = 1; i < 4; i++) {
            JT_OK(jk_x86_frame_home(&f, i, &p), jk_x86_error(A));
            jk_x86_imul2(A, JK_RAX, p);
        }
        jk_x86_frame_param(&f, 4, &p);
        jk_x86_add(A, JK_RAX, p);
        JT_EQ_U64(jk_x86_frame_home(&f, 4, &p), JK_EINVAL);
        jk_x86_epilogue(A, &f);
        void *fn = install();
        JT_CHECK(fn != NULL);
        JT_EQ_U64(run(JK_ABI_WIN64, fn, 5, args, &ret), 0);
        JT_EQ_U64(ret, 5 * 6 * 7 * 8 + 9);
    }
#else
    printf("     (Win64 only: nothing to run in 32-bit code)\n");
#endif
}

/* A JIT function calling a JIT function (a label in the same code) calling
 * the host. */
static void test_jit_jit_host(void)
{
    jk_frame_desc d1, d2;
    jk_x86_frame f1, f2;
    jk_sig inner = ptr_sig(HOST_ABI, 5), host = ptr_sig(HOST_ABI, 6);
    jk_x86_op args[6], p;
    jk_label in_entry, stub;
    uintptr_t a5[5] = {101, 202, 303, 404, 505}, ret, v[6];
    unsigned i;
    void *fn;
    begin();
    in_entry = jk_x86_label(A, "inner");
    stub = jk_x86_label(A, "stub");
    memset(&d1, 0, sizeof d1);
    d1.sig = ptr_sig(HOST_ABI, 5);
    d1.saved = 1u << 3;
    d1.flags = JK_FRAME_FP;
    jk_frame_reserve_call(&d1, BITS, &inner, NULL);
    JT_OK(jk_x86_prologue(A, &f1, &d1), jk_x86_error(A));
    for (i = 0; i < 5; i++)
        jk_x86_frame_param(&f1, (i + 2) % 5, &args[i]); /* rotate */
    JT_OK(jk_x86_call_abi(A, &f1, &inner, jk_lbl(in_entry), 5, args), jk_x86_error(A));
    jk_x86_add(A, R(0), jk_imm(1));
    jk_x86_epilogue(A, &f1);

    jk_x86_bind(A, in_entry);
    memset(&d2, 0, sizeof d2);
    d2.sig = inner;
    d2.saved = M64 ? 1u << 12 : 1u << 6;
    d2.local_size = 16;
    jk_frame_reserve_call(&d2, BITS, &host, NULL);
    JT_OK(jk_x86_prologue(A, &f2, &d2), jk_x86_error(A));
    for (i = 0; i < 5; i++)
        jk_x86_frame_param(&f2, 4 - i, &args[i]);
    jk_x86_frame_local(&f2, 0, W, &p);
    jk_x86_mov(A, p, jk_imm(77));
    args[5] = p;
    JT_OK(jk_x86_call_abi(A, &f2, &host, jk_lbl(stub), 6, args), jk_x86_error(A));
    jk_x86_epilogue(A, &f2);
    emit_stub(stub, HOST_ABI, host_fns[6]);
    fn = install();
    JT_CHECK(fn != NULL);
    JT_EQ_U64(run(HOST_ABI, fn, 5, a5, &ret), 0);
    /* outer passes a[2], a[3], a[4], a[0], a[1]; inner reverses them */
    v[0] = a5[1]; v[1] = a5[0]; v[2] = a5[4]; v[3] = a5[3]; v[4] = a5[2]; v[5] = 77;
    JT_EQ_U64(ret, mix(6, v) + 1);
    JT_CHECK(entry_aligned());
}

/* Register sources in every permutation class: arguments taken from the
 * argument registers themselves (cycles), from memory based on an argument
 * register, narrow types extended, immediates, a label's address. */
static int32_t g_narrow[4];
static uintptr_t hnarrow(int8_t a, uint16_t b, int32_t c, uintptr_t d, uintptr_t e, int16_t f)
{
    g_narrow[0] = a;
    g_narrow[1] = b;
    g_narrow[2] = c;
    g_narrow[3] = f;
    return d ^ (e << 1);
}

static void test_sources(void)
{
    jk_frame_desc d;
    jk_x86_frame f;
    jk_sig hs;
    jk_x86_op args[6], p0, p1, p2;
    jk_label stub, data;
    static uintptr_t cell[2] = {0xabc, 0xdef};
    uintptr_t a3[3] = {0x1f0, (uintptr_t)-3, (uintptr_t)cell}, ret;
    void *fn;
    jk_sig_init(&hs, HOST_ABI, JK_TYPE_PTR);
    jk_sig_add(&hs, JK_TYPE_I8);
    jk_sig_add(&hs, JK_TYPE_U16);
    jk_sig_add(&hs, JK_TYPE_I32);
    jk_sig_add(&hs, JK_TYPE_PTR);
    jk_sig_add(&hs, JK_TYPE_PTR);
    jk_sig_add(&hs, JK_TYPE_I16);
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 3);
    jk_frame_reserve_call(&d, BITS, &hs, NULL);
    begin();
    stub = jk_x86_label(A, "stub");
    data = jk_x86_label(A, "data");
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    jk_x86_frame_param(&f, 0, &p0);
    jk_x86_frame_param(&f, 1, &p1);
    jk_x86_frame_param(&f, 2, &p2);
    /* in 32-bit code the parameters are stack memory: read their low parts */
    if (p0.kind == JK_X86_OP_MEM)
        p0.size = 1;
    if (p1.kind == JK_X86_OP_MEM)
        p1.size = 2;
    if (p2.kind == JK_X86_OP_MEM)
        p2.size = 4;
    args[0] = p0;                     /* int8 from the low byte of param 0: 0xf0 -> -16 */
    args[1] = p1;                     /* uint16 from -3: 0xfffd */
    args[2] = p2;                     /* int32: the low half of &cell[0] */
    if (p2.kind == JK_X86_OP_REG) {   /* [param 2 + W]: memory through an argument register */
        jk_x86_op base = R(p2.reg);
        args[3] = jk_x86_mem(W, base, JK_NOREG, 1, W);
    } else {
        jk_x86_mov(A, JK_EAX, p2);
        args[3] = jk_x86_mem(W, JK_EAX, JK_NOREG, 1, W);
    }
    args[4] = jk_lbl(data);           /* address of a label */
    args[5] = jk_imm(-2);             /* int16 -2 */
    JT_OK(jk_x86_call_abi(A, &f, &hs, jk_lbl(stub), 6, args), jk_x86_error(A));
    jk_x86_epilogue(A, &f);
    emit_stub(stub, HOST_ABI, (uintptr_t)hnarrow);
    jk_x86_align(A, 8);
    jk_x86_bind(A, data);
    jk_x86_dq(A, 0);
    fn = install();
    JT_CHECK(fn != NULL);
    JT_EQ_U64(run(HOST_ABI, fn, 3, a3, &ret), 0);
    JT_EQ_I64(g_narrow[0], -16);
    JT_EQ_I64(g_narrow[1], 0xfffd);
    JT_EQ_I64(g_narrow[2], (int32_t)(uintptr_t)cell);
    JT_EQ_I64(g_narrow[3], -2);
    {
        size_t off;
        JT_OK(jk_x86_label_offset(A, data, &off), jk_x86_error(A));
        JT_EQ_U64(ret, cell[1] ^ (((uintptr_t)fn + off) << 1));
    }
}

/* Call targets: a register that is also an argument register (moved out of
 * the way first), a register that is not, and a memory operand (a local
 * holding the address). */
static void test_targets(void)
{
#if M64
    jk_abi cabi = HOST_ABI;
    unsigned clash = HOST_ABI == JK_ABI_WIN64 ? 1u : 7u; /* the first argument register */
#else
    jk_abi cabi = JK_ABI_FASTCALL;
    unsigned clash = 1u; /* ecx */
#endif
    unsigned kind;
    for (kind = 0; kind < 3; kind++) {
        jk_frame_desc d;
        jk_x86_frame f;
        jk_sig hs = ptr_sig(cabi, 2);
        jk_x86_op args[2], t;
        uintptr_t a2[2] = {0x4444, 0x5555}, ret, v[2];
        void *fn;
        memset(&d, 0, sizeof d);
        d.sig = ptr_sig(HOST_ABI, 2);
        d.local_size = 2 * W;
        d.saved = 1u << 3;
        jk_frame_reserve_call(&d, BITS, &hs, NULL);
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        jk_x86_frame_param(&f, 1, &args[0]);
        if (args[0].kind == JK_X86_OP_REG && args[0].reg == clash) {
            jk_x86_mov(A, JK_RAX, args[0]);
            args[0] = R(0);
        }
        args[1] = jk_imm(5);
        if (kind == 0) { /* in the register the first argument goes to */
            t = R(clash);
        } else if (kind == 1) {
            t = R(3); /* rbx / ebx: saved, no argument */
        } else {
            JT_OK(jk_x86_frame_local(&f, W, W, &t), jk_x86_error(A));
            jk_x86_mov(A, R(3), jk_imm((int64_t)host_fn(cabi, 2)));
            jk_x86_mov(A, t, R(3));
            jk_x86_xor(A, R(3), R(3));
        }
        if (kind < 2)
            jk_x86_mov(A, t, jk_imm((int64_t)host_fn(cabi, 2)));
        JT_OK(jk_x86_call_abi(A, &f, &hs, t, 2, args), jk_x86_error(A));
        jk_x86_epilogue(A, &f);
        fn = install();
        JT_CHECK(fn != NULL);
        JT_EQ_U64(run(HOST_ABI, fn, 2, a2, &ret), 0);
        v[0] = a2[1];
        v[1] = 5;
        JT_EQ_U64(ret, mix(2, v));
    }
}

/* Variadic host calls: snprintf with integers (System V: al = 0). */
static void test_varargs(void)
{
    unsigned nv;
    for (nv = 0; nv <= 12; nv++) {
        jk_frame_desc d;
        jk_x86_frame f;
        jk_sig hs;
        jk_x86_op args[16], p;
        static char buf[256], fmt[128];
        char want[256];
        uintptr_t a1[1] = {(uintptr_t)buf}, ret;
        unsigned i;
        void *fn;
        int (*sn)(char *, size_t, const char *, ...) = snprintf;
        jk_sig_init(&hs, HOST_ABI, JK_TYPE_I32);
        jk_sig_add(&hs, JK_TYPE_PTR);
        jk_sig_add(&hs, JK_TYPE_PTR);
        jk_sig_add(&hs, JK_TYPE_PTR);
        jk_sig_varargs(&hs);
        fmt[0] = 0;
        want[0] = 0;
        for (i = 0; i < nv; i++) {
            size_t l = strlen(fmt), wl = strlen(want);
            if (i % 2) {
                jk_sig_add(&hs, JK_TYPE_I32);
                snprintf(fmt + l, sizeof fmt - l, "%%d,");
                snprintf(want + wl, sizeof want - wl, "%d,", -(int)(i * 1000 + 7));
            } else {
                jk_sig_add(&hs, JK_TYPE_I64);
                snprintf(fmt + l, sizeof fmt - l, "%%lld,");
                snprintf(want + wl, sizeof want - wl, "%lld,", (long long)i * 0x100000001ll);
            }
        }
        memset(&d, 0, sizeof d);
        d.sig = ptr_sig(HOST_ABI, 1);
        d.flags = nv % 2 ? JK_FRAME_FP : 0u;
        JT_OK(jk_frame_reserve_call(&d, BITS, &hs, NULL), &(jk_error){0});
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        jk_x86_frame_param(&f, 0, &p);
        args[0] = p;
        args[1] = jk_imm(sizeof buf);
        args[2] = jk_imm((int64_t)(uintptr_t)fmt);
        for (i = 0; i < nv; i++)
            args[3 + i] = i % 2 ? jk_imm(-(int64_t)(i * 1000 + 7))
                                : jk_imm((int64_t)i * 0x100000001ll);
        JT_OK(jk_x86_call_abi(A, &f, &hs, jk_imm((int64_t)(uintptr_t)sn), 3 + nv, args),
              jk_x86_error(A));
        jk_x86_epilogue(A, &f);
        fn = install();
        JT_CHECK(fn != NULL);
        buf[0] = 0;
        JT_EQ_U64(run(HOST_ABI, fn, 1, a1, &ret), 0);
        JT_EQ_STR(buf, want);
        JT_EQ_U64((uint32_t)ret, strlen(want));
    }
}

/* -- Floats ---------------------------------------------------------------------- */

/* Whether the assembler encodes movsd xmm, xmm yet (the SSE forms). */
static int have_simd(void)
{
    jk_x86_asm *a;
    jk_x86_op o[2] = {jk_x86_reg(JK_X86_RC_XMM, 0), jk_x86_reg(JK_X86_RC_XMM, 1)};
    int ok;
    jk_x86_new(&a, MODE, NULL);
    ok = jk_x86_emit_name(a, "movsd", 2, o) == JK_OK &&
         jk_x86_emit_name(a, "movss", 2, o) == JK_OK &&
         jk_x86_emit_name(a, "movaps", 2, o) == JK_OK;
    if (!ok)
        snprintf(simd_why, sizeof simd_why, "%s", jk_x86_error(a)->message);
    jk_x86_free(a);
    return ok;
}

static double g_d[8];
static int hdbl(int a, double b, int64_t c, float d, double e, int f, double g)
{
    g_d[0] = a; g_d[1] = b; g_d[2] = (double)c; g_d[3] = d; g_d[4] = e; g_d[5] = f; g_d[6] = g;
    return 5;
}

/* Mixed integer / float arguments from memory and immediates. In 32-bit
 * code they all travel on the stack (integer moves only), so this runs
 * now; in 64-bit code it needs the SSE forms and is skipped until then. */
static void test_float_args(void)
{
    static const double dmem[2] = {2.5, -7.25};
    static const float fmem = 0.75f;
    jk_frame_desc d;
    jk_x86_frame f;
    jk_sig hs;
    jk_x86_op args[7];
    jk_label stub;
    uintptr_t ret;
    void *fn;
    if (M64 && !have_simd()) {
        printf("     SKIP: xmm moves not encodable yet (%s); the locations are checked by "
               "test_layout_*\n", simd_why);
        return;
    }
    jk_sig_init(&hs, HOST_ABI, JK_TYPE_I32);
    jk_sig_add(&hs, JK_TYPE_I32);
    jk_sig_add(&hs, JK_TYPE_F64);
    jk_sig_add(&hs, JK_TYPE_I64);
    jk_sig_add(&hs, JK_TYPE_F32);
    jk_sig_add(&hs, JK_TYPE_F64);
    jk_sig_add(&hs, JK_TYPE_I32);
    jk_sig_add(&hs, JK_TYPE_F64);
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 0);
    jk_frame_reserve_call(&d, BITS, &hs, NULL);
    begin();
    stub = jk_x86_label(A, "stub");
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    args[0] = jk_imm(-4);
    args[1] = data_mem(8, &dmem[0]);
    args[2] = jk_imm(-0x123456789ll);
    args[3] = data_mem(4, &fmem);
    args[4] = jk_x86_imm_f64(1e10);
    args[5] = jk_imm(9);
    args[6] = data_mem(8, &dmem[1]);
    JT_OK(jk_x86_call_abi(A, &f, &hs, jk_lbl(stub), 7, args), jk_x86_error(A));
    jk_x86_epilogue(A, &f);
    emit_stub(stub, HOST_ABI, (uintptr_t)hdbl);
    fn = install_near(dmem);
    JT_CHECK_MSG(fn != NULL, "%s", jk_x86_error(A)->message);
    JT_EQ_U64(run(HOST_ABI, fn, 0, NULL, &ret), 0);
    JT_EQ_U64((uint32_t)ret, 5);
    JT_CHECK(g_d[0] == -4.0 && g_d[1] == 2.5 && g_d[2] == (double)-0x123456789ll);
    JT_CHECK(g_d[3] == 0.75 && g_d[4] == 1e10 && g_d[5] == 9.0 && g_d[6] == -7.25);
    JT_CHECK(entry_aligned());
}

/* i386: stdcall and fastcall host functions with mixed integer, 64-bit and
 * double arguments - gcc's own conventions are the oracle for the layout. */
#if !M64
static double g_sf[6], g_st[3];
static int STD_CC hstd(int64_t a, double b, int c)
{
    g_st[0] = (double)a; g_st[1] = b; g_st[2] = c;
    return 3;
}
static int FAST_CC hfast(int64_t a, short b, double c, int d, int e)
{
    g_sf[0] = (double)a; g_sf[1] = b; g_sf[2] = c; g_sf[3] = d; g_sf[4] = e;
    return 4;
}
#endif

static void test_i386_conventions(void)
{
#if M64
    printf("     (32-bit only)\n");
#else
    static const int64_t big = -0x123456789ll;
    static const double dv = 3.5;
    jk_frame_desc d;
    jk_x86_frame f;
    jk_sig s1, s2;
    jk_x86_op a1[3], a2[5];
    uintptr_t ret;
    void *fn;
    jk_sig_init(&s1, JK_ABI_STDCALL, JK_TYPE_I32);
    jk_sig_add(&s1, JK_TYPE_I64);
    jk_sig_add(&s1, JK_TYPE_F64);
    jk_sig_add(&s1, JK_TYPE_I32);
    jk_sig_init(&s2, JK_ABI_FASTCALL, JK_TYPE_I32);
    jk_sig_add(&s2, JK_TYPE_I64);
    jk_sig_add(&s2, JK_TYPE_I16);
    jk_sig_add(&s2, JK_TYPE_F64);
    jk_sig_add(&s2, JK_TYPE_I32);
    jk_sig_add(&s2, JK_TYPE_I32);
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(JK_ABI_CDECL, 0);
    d.saved = 1u << 3;
    jk_frame_reserve_call(&d, 32, &s1, NULL);
    jk_frame_reserve_call(&d, 32, &s2, NULL);
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    a1[0] = jk_x86_mem_abs(8, (uint64_t)(uintptr_t)&big);
    a1[1] = jk_x86_imm_f64(-1.25);
    a1[2] = jk_imm(77);
    JT_OK(jk_x86_call_abi(A, &f, &s1, jk_imm((int64_t)(uintptr_t)hstd), 3, a1), jk_x86_error(A));
    jk_x86_mov(A, JK_EBX, JK_EAX);
    a2[0] = jk_imm(0x100000005ll);
    a2[1] = jk_imm(-300);
    a2[2] = jk_x86_mem_abs(8, (uint64_t)(uintptr_t)&dv);
    a2[3] = JK_EBX;
    a2[4] = jk_imm(12);
    JT_OK(jk_x86_call_abi(A, &f, &s2, jk_imm((int64_t)(uintptr_t)hfast), 5, a2), jk_x86_error(A));
    jk_x86_imul2(A, JK_EAX, JK_EBX);
    jk_x86_epilogue(A, &f);
    fn = install();
    JT_CHECK(fn != NULL);
    JT_EQ_U64(run(JK_ABI_CDECL, fn, 0, NULL, &ret), 0);
    JT_EQ_U64(ret, 12);
    JT_CHECK(g_sf[0] == (double)0x100000005ll && g_sf[1] == -300 && g_sf[2] == 3.5);
    JT_CHECK(g_sf[3] == 3 && g_sf[4] == 12);
    JT_CHECK(g_st[0] == (double)big && g_st[1] == -1.25 && g_st[2] == 77);
#endif
}

/* -- Record, errors, CET ------------------------------------------------------------ */

static uintptr_t g_body_sp, g_body_bp, g_slots[17];

/* The recorded CFA rule and save slots, checked against the machine: the
 * body stores its sp/bp and the contents of every recorded slot; the CFA
 * must be the harness's sp at the call and each slot must hold the
 * sentinel of its register. The prologue and epilogue steps must end in
 * the body rule and the entry rule. */
static void test_record(void)
{
    unsigned fp, k;
    for (fp = 0; fp < 2; fp++) {
        jk_frame_desc d;
        jk_x86_frame f;
        jk_frame_record *r;
        uintptr_t args[2] = {1, 2}, ret, cfa;
        unsigned cs[8], ncs = callee_saved(HOST_ABI, cs);
        int32_t cur_off;
        unsigned cur_reg;
        void *fn;
        memset(&d, 0, sizeof d);
        d.sig = ptr_sig(HOST_ABI, 2);
        for (k = 0; k < ncs; k++)
            d.saved |= 1u << cs[k];
        d.local_size = 40;
        d.call_args = 16;
        d.flags = fp ? JK_FRAME_FP : 0u;
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        r = &f.rec;
        store_global(A, (uintptr_t)&g_body_sp, SP());
        store_global(A, (uintptr_t)&g_body_bp, R(5));
        for (k = 0; k < r->nsaved; k++) {
            jk_x86_mov(A, R(0), jk_x86_mem(W, R(r->body_cfa_reg), JK_NOREG, 1,
                                           r->body_cfa_off + r->saved[k].off));
            store_global(A, (uintptr_t)&g_slots[k], R(0));
        }
        jk_x86_mov(A, R(0), jk_imm(0));
        JT_OK(jk_x86_epilogue(A, &f), jk_x86_error(A));
        fn = install();
        JT_CHECK(fn != NULL);
        JT_EQ_U64(run(HOST_ABI, fn, 2, args, &ret), 0);
        cfa = (r->body_cfa_reg == 4 ? g_body_sp : g_body_bp) + (uintptr_t)r->body_cfa_off;
        JT_EQ_U64(cfa, h_spcall);
        JT_EQ_U64(r->nsaved, ncs);
        for (k = 0; k < r->nsaved; k++)
            JT_EQ_U64(g_slots[k], sentinel(r->saved[k].reg));
        /* replay the prologue steps from the entry rule (CFA = sp + W) */
        cur_reg = 4;
        cur_off = (int32_t)W;
        for (k = 0; k < r->nsteps; k++) {
            JT_CHECK(r->steps[k].offset <= r->prologue_size);
            JT_CHECK(k == 0 || r->steps[k].offset >= r->steps[k - 1].offset);
            if (r->steps[k].kind == JK_CFA_DEF) {
                cur_reg = r->steps[k].reg;
                cur_off = r->steps[k].off;
            }
        }
        JT_EQ_U64(cur_reg, r->body_cfa_reg);
        JT_EQ_I64(cur_off, r->body_cfa_off);
        JT_EQ_U64(r->nepilogues, 1);
        for (k = 0; k < r->epilogues[0].nsteps; k++)
            if (r->epilogues[0].steps[k].kind == JK_CFA_DEF) {
                cur_reg = r->epilogues[0].steps[k].reg;
                cur_off = r->epilogues[0].steps[k].off;
            }
        JT_EQ_U64(cur_reg, 4);
        JT_EQ_I64(cur_off, (int32_t)W);
        JT_CHECK(r->epilogues[0].size >= 1 + ncs);
    }
}

static void test_errors(void)
{
    /* static: mingw gcc 12 -O2 stops with an internal error on this
     * function's frame otherwise */
    static jk_x86_frame f, g;
    static jk_frame_desc d, e_;
    static jk_sig s, big, n8;
    static jk_x86_op arg, many[12];
    s = ptr_sig(HOST_ABI, 1);
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 0);

#define REFUSED(setup, text)                                                 \
    do {                                                                     \
        e_ = d;                                                              \
        setup;                                                               \
        begin();                                                             \
        JT_EQ_U64(jk_x86_prologue(A, &f, &e_), JK_EINVAL);                   \
        JT_CONTAINS(jk_x86_error(A)->message, text);                         \
    } while (0)
    REFUSED(e_.saved = 1u << 4, "the stack pointer cannot be a saved register");
    REFUSED(e_.saved = 1u << 20, "general registers");
    REFUSED(e_.local_align = 24, "local_align 24 is not a power of two");
    REFUSED(e_.local_align = 32, "local_align above 16 needs a frame pointer (JK_FRAME_FP)");
    REFUSED(e_.flags = JK_FRAME_REALIGN, "JK_FRAME_REALIGN needs a frame pointer");
    REFUSED(e_.flags = JK_FRAME_LEAF; e_.call_args = 8, "a leaf frame (JK_FRAME_LEAF) makes no calls");
    REFUSED(e_.flags = JK_FRAME_ENDBR | JK_FRAME_NO_ENDBR, "JK_FRAME_ENDBR and JK_FRAME_NO_ENDBR");
    REFUSED(e_.flags = 0x1000, "unknown flags 0x1000");
    REFUSED(e_.local_size = 17u << 20, "at most 16 MiB");
    REFUSED(e_.sig.abi = M64 ? JK_ABI_CDECL : JK_ABI_SYSV64, M64 ? "needs 32-bit code" : "needs 64-bit code");
    if (HOST_ABI != JK_ABI_WIN64)
        REFUSED(e_.flags = JK_FRAME_HOME, "JK_FRAME_HOME needs the win64 ABI");

    /* calls */
#define CALL_REFUSED(frame, sig, n, argp, text)                                  \
    do {                                                                     \
        JT_EQ_U64(jk_x86_call_abi(A, frame, sig, jk_imm(0x1000), n, argp), JK_EINVAL); \
        JT_CONTAINS(jk_x86_error(A)->message, text);                         \
    } while (0)
    arg = jk_imm(1);
    begin();
    memset(&g, 0, sizeof g);
    CALL_REFUSED(&g, &s, 1, &arg, "call: no prologue was emitted for this frame");
    begin();
    d.flags = JK_FRAME_LEAF;
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    CALL_REFUSED(&f, &s, 1, &arg, "the frame was described as a leaf");
    d.flags = 0;
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    CALL_REFUSED(&f, &s, 0, &arg, "0 arguments for 1 parameters");
    {
        big = ptr_sig(HOST_ABI, 12);
        for (unsigned i = 0; i < 12; i++)
            many[i] = jk_imm(i);
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        CALL_REFUSED(&f, &big, 12, many, "bytes of stack arguments");
        JT_CONTAINS(jk_x86_error(A)->message, "raise jk_frame_desc.call_args");
    }
    {
        jk_sig_init(&n8, HOST_ABI, JK_TYPE_VOID);
        jk_sig_add(&n8, JK_TYPE_I8);
        begin();
        d.call_args = 64;
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        arg = jk_imm(300);
        CALL_REFUSED(&f, &n8, 1, &arg, "immediate 300 does not fit");
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        arg = JK_AH;
        CALL_REFUSED(&f, &n8, 1, &arg, "ah..bh cannot be argument sources");
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        arg = jk_x86_reg(JK_X86_RC_XMM, 0);
        CALL_REFUSED(&f, &n8, 1, &arg, "needs a general register");
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        arg = jk_x86_mem(2, SP(), JK_NOREG, 1, 0);
        CALL_REFUSED(&f, &n8, 1, &arg, "a 2-byte memory operand for a 1-byte type");
        begin();
        JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
        s = ptr_sig(HOST_ABI, 1);
        s.params[0] = JK_TYPE_I64;
        arg = JK_ECX;
        CALL_REFUSED(&f, &s, 1, &arg, "the register has 4 bytes, the type needs 8");
        d.call_args = 0;
    }
    {
        /* every scratch candidate is a source, and a memory argument must
         * go to the stack */
        jk_frame_desc dd = d;
        unsigned i;
        big = ptr_sig(HOST_ABI, 8);
        for (i = 0; i < 8; i++)
            many[i] = jk_imm(i);
        many[0] = R(M64 ? 11 : 0);
        many[1] = R(M64 ? 10 : 2);
        many[2] = R(M64 ? 0 : 1);
        many[7] = jk_x86_mem(W, R(M64 ? 11 : 0), JK_NOREG, 1, 0);
        JT_OK(jk_frame_reserve_call(&dd, BITS, &big, NULL), &(jk_error){0});
        begin();
        JT_OK(jk_x86_prologue(A, &f, &dd), jk_x86_error(A));
        CALL_REFUSED(&f, &big, 8, many, "argument 7: no free scratch register");
    }
    /* errors are sticky: a later epilogue reports the first */
    JT_EQ_U64(jk_x86_epilogue(A, &f), JK_EINVAL);
    JT_EQ_U64(jk_x86_frame_param(&f, 5, &arg), JK_EINVAL);
    JT_EQ_U64(jk_x86_frame_local(&f, 0, 8, &arg), JK_ERANGE);
}

/* Random descriptions, signatures and operands (well-formed or not):
 * nothing crashes or writes out of bounds (run it under ASan), every
 * refusal has a message, and accepted code assembles. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static jk_x86_op rnd_op(void)
{
    switch (rnd(7)) {
    case 0: return jk_x86_reg((jk_x86_rclass)rnd(JK_X86_RC_COUNT + 1), rnd(32));
    case 1: return R(rnd(M64 ? 16 : 8));
    case 2: return jk_imm((int64_t)rnd(1000) - 500);
    case 3: return jk_imm((int64_t)((uint64_t)rnd(0xffffff) << rnd(40)));
    case 4: return jk_x86_mem(rnd(3) ? W : rnd(20), R(rnd(M64 ? 16 : 8)), rnd(2) ? JK_NOREG : R(rnd(8)),
                              1u << rnd(4), (int64_t)rnd(64));
    case 5: return jk_x86_reg(JK_X86_RC_XMM, rnd(16));
    default: return jk_lbl(rnd(4));
    }
}

static void test_random_inputs(void)
{
    unsigned it, ok = 0, refused = 0;
    for (it = 0; it < 3000; it++) {
        jk_frame_desc d;
        jk_x86_frame f;
        jk_sig cs;
        jk_x86_op args[JK_SIG_MAX_PARAMS];
        unsigned i, n = rnd(20);
        jk_status st;
        size_t size;
        memset(&d, 0, sizeof d);
        jk_sig_init(&d.sig, rnd(4) ? JK_ABI_HOST : (jk_abi)rnd(JK_ABI_COUNT + 1),
                    (jk_type)rnd(JK_TYPE_COUNT + 1));
        for (i = rnd(8); i > 0; i--)
            jk_sig_add(&d.sig, rnd(8) ? JK_TYPE_PTR : (jk_type)rnd(JK_TYPE_COUNT + 1));
        d.saved = rnd(8) ? (uint32_t)rnd(1u << (M64 ? 16 : 8)) & ~(1u << 4)
                         : (uint32_t)rnd(0x7fffffff);
        d.local_size = rnd(8) ? rnd(300) : rnd(0x7fffffff);
        d.local_align = rnd(4) ? 0u : 1u << rnd(14);
        d.flags = rnd(4) ? (uint32_t)rnd(0x80) & (uint32_t)~(JK_FRAME_LEAF | JK_FRAME_HOME |
                                                            JK_FRAME_REALIGN | JK_FRAME_NO_ENDBR)
                         : (uint32_t)rnd(0x200);
        jk_sig_init(&cs, rnd(4) ? JK_ABI_HOST : (jk_abi)rnd(JK_ABI_COUNT + 1), JK_TYPE_PTR);
        if (rnd(3) == 0)
            jk_sig_varargs(&cs);
        for (i = 0; i < n; i++)
            jk_sig_add(&cs, rnd(6) ? JK_TYPE_PTR : (jk_type)(1 + rnd(JK_TYPE_COUNT - 1)));
        for (i = 0; i < n; i++)
            args[i] = rnd(6) ? (rnd(2) ? jk_imm(i) : R(rnd(M64 ? 16 : 8))) : rnd_op();
        if (rnd(2))
            jk_frame_reserve_call(&d, BITS, &cs, NULL);
        begin();
        st = jk_x86_prologue(A, &f, &d);
        if (st == JK_OK) {
            st = jk_x86_call_abi(A, &f, &cs, rnd(2) ? jk_imm(0x1000) : rnd_op(), n, args);
            jk_x86_epilogue(A, &f);
        }
        if (jk_x86_status(A) == JK_OK) {
            JT_OK(jk_x86_finish(A, &size), jk_x86_error(A));
            ok++;
        } else {
            JT_CHECK(jk_x86_error(A)->message[0] != 0);
            refused++;
        }
    }
    printf("     %u accepted, %u refused\n", ok, refused);
}

unsigned jk__cet_parse_status(const char *text); /* src/x86/func.c */

/* The kernel's status line, as Linux 6.6+ writes it. */
static void test_cet_parse(void)
{
    JT_EQ_U64(jk__cet_parse_status("Name:\tx\nx86_Thread_features:\tshstk wrss\n"
                                   "x86_Thread_features_locked:\tshstk ibt\n"), JK_CET_SHSTK);
    JT_EQ_U64(jk__cet_parse_status("\nx86_Thread_features:\tibt shstk\n"), JK_CET_SHSTK | JK_CET_IBT);
    JT_EQ_U64(jk__cet_parse_status("\nx86_Thread_features:\t\nx86_Thread_features_locked:\tshstk\n"), 0);
    JT_EQ_U64(jk__cet_parse_status("\nx86_Thread_features_locked:\tibt\n"), 0);
    JT_EQ_U64(jk__cet_parse_status("\nx86_Thread_features:\tshstkx ibtx\n"), 0);
    JT_EQ_U64(jk__cet_parse_status(NULL), 0);
}

static int has_endbr(const uint8_t *p)
{
    static const uint8_t e64[4] = {0xf3, 0x0f, 0x1e, 0xfa}, e32[4] = {0xf3, 0x0f, 0x1e, 0xfb};
    return memcmp(p, M64 ? e64 : e32, 4) == 0;
}

static void test_cet(void)
{
    jk_frame_desc d;
    jk_x86_frame f;
    jk_label t;
    uint8_t buf[256];
    size_t size, off;
    unsigned feat = jk_cet_features();
    printf("     CET: kernel IBT %s, shadow stack %s; build IBT %s, SHSTK %s\n",
           feat & JK_CET_IBT ? "on" : "off", feat & JK_CET_SHSTK ? "on" : "off",
           feat & JK_CET_BUILD_IBT ? "on" : "off", feat & JK_CET_BUILD_SHSTK ? "on" : "off");
    JT_EQ_U64(jk_cet_want_endbr(), (feat & (JK_CET_IBT | JK_CET_BUILD_IBT)) != 0);
    memset(&d, 0, sizeof d);
    d.sig = ptr_sig(HOST_ABI, 0);
    d.flags = JK_FRAME_ENDBR | JK_FRAME_LEAF;
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    JT_EQ_U64(f.rec.endbr, 4);
    jk_x86_mov(A, JK_EAX, jk_imm(1));
    t = jk_x86_label(A, "target");
    JT_OK(jk_x86_bind_target(A, t, JK_CET_ON), jk_x86_error(A));
    jk_x86_epilogue(A, &f);
    JT_OK(jk_x86_finish(A, &size), jk_x86_error(A));
    JT_OK(jk_x86_copy(A, buf, sizeof buf, 0), jk_x86_error(A));
    JT_CHECK(has_endbr(buf));
    JT_OK(jk_x86_label_offset(A, t, &off), jk_x86_error(A));
    JT_CHECK(has_endbr(buf + off));
    /* by default exactly when the process or the build asks for IBT */
    d.flags = JK_FRAME_LEAF;
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    JT_EQ_U64(f.rec.endbr, jk_cet_want_endbr() ? 4 : 0);
    /* none when refused */
    d.flags = JK_FRAME_NO_ENDBR | JK_FRAME_LEAF;
    begin();
    JT_OK(jk_x86_prologue(A, &f, &d), jk_x86_error(A));
    JT_EQ_U64(f.rec.endbr, 0);
    JT_EQ_U64(f.rec.prologue_size, 0);
    t = jk_x86_label(A, "t2");
    jk_x86_bind_target(A, t, JK_CET_OFF);
    jk_x86_epilogue(A, &f);
    JT_OK(jk_x86_finish(A, &size), jk_x86_error(A));
    JT_EQ_U64(size, 1); /* ret */
    /* code with endbr runs (it is a NOP without IBT) and calls stay paired */
    if (feat & JK_CET_SHSTK)
        printf("     shadow stack active: the call tests above ran under it\n");
    else
        printf("     SKIP shadow-stack run: the kernel reports no shadow stack for this "
               "process (needs a CET CPU, Linux >= 6.6, glibc >= 2.39 and an SHSTK-marked "
               "binary)\n");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    JT_RUN(test_layout_sysv);
    JT_RUN(test_layout_win64);
    JT_RUN(test_layout_i386);
    JT_RUN(test_layout_errors);
    JT_RUN(test_calls_matrix);
    JT_RUN(test_frame_options);
    JT_RUN(test_big_frame);
    JT_RUN(test_epilogues);
    JT_RUN(test_win64_fp_bytes);
    JT_RUN(test_home_slots);
    JT_RUN(test_jit_jit_host);
    JT_RUN(test_sources);
    JT_RUN(test_targets);
    JT_RUN(test_varargs);
    JT_RUN(test_float_args);
    JT_RUN(test_i386_conventions);
    JT_RUN(test_record);
    JT_RUN(test_errors);
    JT_RUN(test_random_inputs);
    JT_RUN(test_cet_parse);
    JT_RUN(test_cet);
    begin();
    jk_x86_free(A);
    if (MEM)
        jk_mem_free(MEM, NULL);
    for (unsigned i = 0; i < JK_ABI_COUNT; i++)
        for (unsigned n = 0; n < 17; n++)
            if (harness_mem[i][n])
                jk_mem_free(harness_mem[i][n], NULL);
    return jt_finish();
}
