/*
 * tests/x86/exec.c - generated code runs and returns the right results:
 * arithmetic across all registers, loops with labels, forward and backward
 * branches across the rel8 boundary (so both forms run), calls into C and
 * back (absolute label, external symbol, register), the constant pool,
 * jump tables through label data, alignment padding executed as NOPs.
 *
 * Runs in the mode of the host build (64-bit, or 32-bit with -m32, cdecl).
 */
#include "jt.h"

#include "jitkit/jitkit.h"
#include "jitkit/x86.h"

#if defined(__x86_64__) || defined(_M_X64)
#  define M64 1
#else
#  define M64 0
#endif
#if M64 && defined(_WIN32)
#  define WIN64 1 /* Microsoft x64: args in rcx, rdx; 32 bytes of shadow space */
#else
#  define WIN64 0
#endif

typedef intptr_t (*fn2)(intptr_t, intptr_t);

static jk_x86_asm *a;
static jk_mem *mem;

static void begin(void)
{
    if (mem)
        jk_mem_free(mem, NULL);
    mem = NULL;
    jk_x86_free(a);
    a = NULL;
    jk_x86_new(&a, M64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL);
}

static fn2 install(const jk_mem_options *opt)
{
    void *entry = NULL;
    if (jk_x86_install(a, opt, &mem, &entry) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_x86_error(a)->message);
        return NULL;
    }
    return (fn2)(uintptr_t)entry;
}

/* Native-width register operands for the tests. */
#define RA  (M64 ? JK_RAX : JK_EAX)
#define RC  (M64 ? JK_RCX : JK_ECX)
#define RD  (M64 ? JK_RDX : JK_EDX)
#define RSP (M64 ? JK_RSP : JK_ESP)
static jk_x86_op gpr(unsigned n) { return jk_x86_reg(M64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, n); }
static unsigned W(void) { return M64 ? 8u : 4u; }

/* Load the two arguments into a and b (SysV: rdi, rsi; cdecl: stack). */
static void args(jk_x86_op ra, jk_x86_op rb)
{
    if (WIN64) {
        jk_x86_mov(a, ra, JK_RCX);
        jk_x86_mov(a, rb, JK_RDX);
    } else if (M64) {
        jk_x86_mov(a, ra, JK_RDI);
        jk_x86_mov(a, rb, JK_RSI);
    } else {
        jk_x86_mov(a, ra, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 4));
        jk_x86_mov(a, rb, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 8));
    }
}

/* (x + y) * 3 - 1, computed in register r, for every register. */
static void test_all_registers(void)
{
    unsigned r;
    for (r = 0; r < (M64 ? 16u : 8u); r++) {
        jk_x86_op R = gpr(r), T = gpr(r == 1 ? 2 : 1);
        fn2 f;
        if (r == 4)
            continue; /* the stack pointer */
        begin();
        jk_x86_push(a, gpr(3));
        jk_x86_push(a, gpr(5));
        jk_x86_push(a, gpr(6));
        jk_x86_push(a, gpr(7));
        if (M64) {
            unsigned k;
            for (k = 12; k < 16; k++)
                jk_x86_push(a, gpr(k));
        }
        /* args are read before anything is clobbered: rdi/rsi or stack */
        if (WIN64) {
            jk_x86_mov(a, JK_RAX, JK_RCX);
        } else if (M64) {
            jk_x86_mov(a, JK_RAX, JK_RDI);
            jk_x86_mov(a, JK_RDX, JK_RSI);
        } else {
            unsigned off = 4 + 4 * 4;
            jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, off));
            jk_x86_mov(a, JK_EDX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, off + 4));
        }
        jk_x86_push(a, RD);
        jk_x86_mov(a, R, RA);
        jk_x86_pop(a, T);
        jk_x86_add(a, R, T);
        jk_x86_imul3(a, R, R, jk_imm(3));
        jk_x86_sub(a, R, jk_imm(1));
        jk_x86_mov(a, RA, R);
        if (M64) {
            int k;
            for (k = 15; k >= 12; k--)
                jk_x86_pop(a, gpr((unsigned)k));
        }
        jk_x86_pop(a, gpr(7));
        jk_x86_pop(a, gpr(6));
        jk_x86_pop(a, gpr(5));
        jk_x86_pop(a, gpr(3));
        jk_x86_ret(a);
        f = install(NULL);
        JT_CHECK(f != NULL);
        JT_EQ_I64(f(20, 22), 125);
        JT_EQ_I64(f(-5, 2), -10);
    }
}

/* sum of 1..n with a backward loop, padded so the branch is rel8 or rel32 */
static void test_loop_sum(void)
{
    unsigned pad;
    for (pad = 100; pad <= 140; pad += 4) {
        jk_label top, done;
        fn2 f;
        size_t size;
        begin();
        top = jk_x86_label(a, "top");
        done = jk_x86_label(a, "done");
        args(RC, RD);
        jk_x86_xor(a, JK_EAX, JK_EAX);
        jk_x86_test(a, RC, RC);
        jk_x86_jz(a, jk_lbl(done));
        jk_x86_bind(a, top);
        jk_x86_add(a, RA, RC);
        jk_x86_nops(a, pad);
        jk_x86_dec(a, RC);
        jk_x86_jnz(a, jk_lbl(top));
        jk_x86_bind(a, done);
        jk_x86_ret(a);
        JT_OK(jk_x86_finish(a, &size), jk_x86_error(a));
        f = install(NULL);
        JT_CHECK(f != NULL);
        JT_EQ_I64(f(100, 0), 5050);
        JT_EQ_I64(f(0, 0), 0);
    }
}

/* forward branches over 0..200 bytes: taken and not taken */
static void test_forward_branches(void)
{
    unsigned pad;
    for (pad = 0; pad <= 200; pad += 25) {
        jk_label big, out;
        fn2 f;
        begin();
        big = jk_x86_label(a, "big");
        out = jk_x86_label(a, "out");
        args(RC, RD);
        jk_x86_cmp(a, RC, RD);
        jk_x86_jg(a, jk_lbl(big));
        jk_x86_mov(a, RA, RD);
        jk_x86_jmp(a, jk_lbl(out));
        jk_x86_nops(a, pad);
        jk_x86_ud2(a);
        jk_x86_bind(a, big);
        jk_x86_mov(a, RA, RC);
        jk_x86_nops(a, pad);
        jk_x86_bind(a, out);
        jk_x86_ret(a);
        f = install(NULL);
        JT_CHECK(f != NULL);
        JT_EQ_I64(f(7, 3), 7);
        JT_EQ_I64(f(3, 7), 7);
        JT_EQ_I64(f(-3, -7), -3);
    }
}

static intptr_t c_callee(intptr_t x, intptr_t y) { return x * 10 + y; }

static uint64_t resolve(void *ctx, const char *name, int *found)
{
    (void)ctx;
    *found = strcmp(name, "c_callee") == 0;
    return *found ? (uint64_t)(uintptr_t)&c_callee : 0;
}

/* Call C through a register, an absolute label (rel32 from code placed
 * near it) and an external symbol; C calls us (we are called). */
static void call_c(int how)
{
    fn2 f;
    jk_mem_options opt = {JK_MEM_AUTO, NULL};
    void *p = NULL;
    jk_heap *h = NULL;
    begin();
    if (WIN64) {
        jk_x86_sub(a, JK_RSP, jk_imm(40)); /* shadow space, 16-byte alignment */
        jk_x86_add(a, JK_RDX, jk_imm(1));
    } else if (M64) {
        jk_x86_sub(a, JK_RSP, jk_imm(8)); /* keep the stack 16-byte aligned */
        jk_x86_add(a, JK_RSI, jk_imm(1));
    } else {
        jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 4));
        jk_x86_mov(a, JK_ECX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 8));
        jk_x86_add(a, JK_ECX, jk_imm(1));
        jk_x86_sub(a, JK_ESP, jk_imm(4));
        jk_x86_push(a, JK_ECX);
        jk_x86_push(a, JK_EAX);
    }
    if (how == 0) {
        if (M64)
            jk_x86_mov(a, JK_RAX, jk_imm((int64_t)(uintptr_t)&c_callee));
        else
            jk_x86_mov(a, JK_EAX, jk_imm((int64_t)(uintptr_t)&c_callee));
        jk_x86_call(a, RA);
    } else if (how == 1 || how == 3) {
        jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, (uint64_t)(uintptr_t)&c_callee)));
        opt.near_to = (const void *)(uintptr_t)&c_callee;
    } else {
        jk_x86_set_resolver(a, resolve, NULL);
        jk_x86_call(a, jk_lbl(jk_x86_label_extern(a, "c_callee")));
        opt.near_to = (const void *)(uintptr_t)&c_callee;
    }
    jk_x86_add(a, RSP, jk_imm(WIN64 ? 40 : M64 ? 8 : 12));
    jk_x86_ret(a);
    if (how == 3) {
        /* one call into the default heap, which is placed near the host */
        JT_EQ_I64(jk_x86_install_heap(a, NULL, &p), JK_OK);
        JT_CHECK(p != NULL);
        f = (fn2)(uintptr_t)p;
        JT_EQ_I64(f(4, 1), 42);
        JT_EQ_I64(jk_heap_default(&h, NULL), JK_OK);
        JT_EQ_I64(jk_heap_free(h, p, NULL), JK_OK);
        return;
    }
    f = install(&opt);
    JT_CHECK(f != NULL);
    JT_EQ_I64(f(4, 1), 42);
}

static void test_call_register(void) { call_c(0); }
static void test_call_abs_label(void) { call_c(1); }
static void test_call_extern(void) { call_c(2); }
/* A host call from code placed anywhere: a tail jump and a call to C
 * through an absolute label, installed in a heap with no placement wish.
 * Where the code lands more than 2 GiB from the host function (mmap's
 * region vs a position-independent executable), the bytes must be the slot
 * forms; nearer, rel32. Either way the calls must work. */
static void test_far_host_call(void)
{
    jk_heap *h = NULL;
    jk_heap_options o;
    void *p = NULL;
    int64_t dist;
    int far;
    memset(&o, 0, sizeof o);
    o.near_mode = JK_HEAP_NEAR_ANY;
    JT_EQ_I64(jk_heap_new(&h, &o, NULL), JK_OK);
    begin();
    jk_x86_jmp(a, jk_lbl(jk_x86_label_abs(a, (uint64_t)(uintptr_t)&c_callee)));
    JT_EQ_I64(jk_x86_install_heap(a, h, &p), JK_OK);
    dist = (int64_t)((uintptr_t)&c_callee - (uintptr_t)p);
    far = M64 && (dist > INT32_MAX || dist < INT32_MIN);
    printf("    code at %p, host function at %p: %s\n", p, (void *)(uintptr_t)&c_callee,
           far ? "more than 2 GiB apart (slot form)" : "within rel32 reach");
    JT_EQ_U64(((const uint8_t *)p)[0], far ? 0xff : 0xe9);
    JT_EQ_I64(((fn2)(uintptr_t)p)(4, 2), 42);
    JT_EQ_I64(jk_heap_free(h, p, NULL), JK_OK);
    /* a call and a return through the slot, from a frame of our own */
    begin();
    if (WIN64)
        jk_x86_sub(a, JK_RSP, jk_imm(40));
    else if (M64)
        jk_x86_sub(a, JK_RSP, jk_imm(8));
    else {
        jk_x86_push(a, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 8));
        jk_x86_push(a, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 8));
    }
    jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, (uint64_t)(uintptr_t)&c_callee)));
    jk_x86_add(a, RA, jk_imm(1));
    jk_x86_add(a, RSP, jk_imm(WIN64 ? 40 : M64 ? 8 : 8));
    jk_x86_ret(a);
    JT_EQ_I64(jk_x86_install_heap(a, h, &p), JK_OK);
    JT_EQ_I64(((fn2)(uintptr_t)p)(4, 1), 42);
    JT_EQ_I64(jk_heap_free(h, p, NULL), JK_OK);
    if (M64 && !far)
        printf("    (no far placement here: only the near form was executed)\n");
    JT_EQ_I64(jk_heap_destroy(h, NULL), JK_OK);
}

static void test_install_heap(void)
{
    jk_heap *h = NULL, *d1 = NULL, *d2 = NULL;
    void *p = NULL;
    jk_error e;
    call_c(3);
    /* an explicit heap; the text one-liner into it; the default heap is one */
    JT_EQ_I64(jk_heap_new(&h, NULL, NULL), JK_OK);
    JT_EQ_I64(jk_asm_load_heap("mov eax, 42; ret", M64 ? JK_X86_MODE64 : JK_X86_MODE32, h, &p,
                               &e), JK_OK);
    JT_EQ_I64(((int (*)(void))(uintptr_t)p)(), 42);
    JT_EQ_I64(jk_heap_free(h, p, NULL), JK_OK);
    JT_EQ_I64(jk_asm_load_heap("mov eax, nothere; ret", JK_X86_MODE64, h, &p, &e), JK_ELABEL);
    JT_CHECK(p == NULL);
    JT_CONTAINS(e.message, "nothere");
    JT_EQ_I64(jk_heap_default(&d1, NULL), JK_OK);
    JT_EQ_I64(jk_heap_default(&d2, NULL), JK_OK);
    JT_CHECK(d1 == d2 && d1 != NULL);
    /* errors are sticky and leave nothing allocated */
    begin();
    jk_x86_jmp(a, jk_lbl(jk_x86_label(a, "never")));
    JT_EQ_I64(jk_x86_install_heap(a, h, &p), JK_ELABEL);
    JT_CHECK(p == NULL);
    JT_EQ_I64(jk_heap_destroy(h, NULL), JK_OK);
}

/* constants from the pool, addressed RIP-relative (absolute in 32-bit) */
static void test_const_pool(void)
{
    static const uint32_t k1 = 0x11111111u, k2 = 0x22222222u;
    jk_label c1, c2, c3;
    fn2 f;
    begin();
    c1 = jk_x86_const(a, &k1, 4, 4);
    c2 = jk_x86_const(a, &k2, 4, 16);
    c3 = jk_x86_const(a, &k1, 4, 4); /* shared with c1 */
    JT_EQ_U64(c1, c3);
    jk_x86_mov(a, JK_EAX, jk_x86_mem_label(4, c1, 0));
    jk_x86_add(a, JK_EAX, jk_x86_mem_label(4, c2, 0));
    jk_x86_ret(a);
    f = install(NULL);
    JT_CHECK(f != NULL);
    JT_EQ_U64((uint32_t)f(0, 0), 0x33333333u);
}

/* switch through a jump table of label addresses */
static void test_jump_table(void)
{
    jk_label table, cases[3];
    fn2 f;
    int i;
    begin();
    table = jk_x86_label(a, "table");
    for (i = 0; i < 3; i++)
        cases[i] = jk_x86_label(a, NULL);
    args(RC, RD);
    if (M64) {
        jk_x86_lea(a, JK_RAX, jk_x86_mem_label(0, table, 0));
        jk_x86_jmp(a, jk_x86_mem(8, JK_RAX, JK_RCX, 8, 0));
    } else {
        jk_x86_mov(a, JK_EAX, jk_lbl(table));
        jk_x86_jmp(a, jk_x86_mem(4, JK_EAX, JK_ECX, 4, 0));
    }
    for (i = 0; i < 3; i++) {
        jk_x86_bind(a, cases[i]);
        jk_x86_mov(a, JK_EAX, jk_imm(100 + i));
        jk_x86_ret(a);
    }
    jk_x86_align(a, W());
    jk_x86_bind(a, table);
    for (i = 0; i < 3; i++)
        jk_x86_dlabel(a, cases[i], 0);
    f = install(NULL);
    JT_CHECK(f != NULL);
    JT_EQ_I64(f(0, 0), 100);
    JT_EQ_I64(f(2, 0), 102);
    JT_EQ_I64(f(1, 0), 101);
}

/* Absolute label operands: a jump table through [table + index*scale]
 * (jk_x86_mem_label_abs) and `offset data+4` loads (jk_x86_imm_label). In
 * 64-bit mode the disp32 / imm32 forms need the code below 2 GiB: on Linux
 * it is copied into MAP_32BIT memory; a normal install (usually higher) must
 * then fail with the range error instead of truncating. movabs works
 * anywhere. */
static void build_abs(int wide)
{
    jk_label table = jk_x86_label(a, "table"), data = jk_x86_label(a, "data"), other, cases[3];
    int i;
    other = jk_x86_label(a, NULL);
    for (i = 0; i < 3; i++)
        cases[i] = jk_x86_label(a, NULL);
    args(RC, RD);
    /* f(i, 0): jump-table case i returns 100 + i + data[1] (= 7);
     * f(i, 1): returns data[i] + offset-loaded data[1] */
    jk_x86_test(a, RD, RD);
    jk_x86_jnz(a, jk_lbl(other));
    if (wide) {
        jk_x86_movabs(a, JK_RAX, jk_x86_imm_label(table, 0));
        jk_x86_jmp(a, jk_x86_mem(8, JK_RAX, JK_RCX, 8, 0));
    } else {
        jk_x86_jmp(a, jk_x86_mem_label_abs(W(), JK_NOREG, RC, W(), table, 0));
    }
    for (i = 0; i < 3; i++) {
        jk_x86_bind(a, cases[i]);
        if (wide)
            jk_x86_movabs(a, JK_RDX, jk_x86_imm_label(data, 4));
        else
            jk_x86_mov(a, RD, jk_x86_imm_label(data, 4));
        jk_x86_mov(a, JK_EAX, jk_x86_mem(4, RD, JK_NOREG, 1, 0));
        jk_x86_add(a, JK_EAX, jk_imm(100 + i));
        jk_x86_ret(a);
    }
    jk_x86_bind(a, other);
    if (wide) {
        jk_x86_movabs(a, JK_RDX, jk_x86_imm_label(data, 0));
        jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_RDX, JK_RCX, 4, 0));
        jk_x86_movabs(a, JK_RDX, jk_x86_imm_label(data, 4));
        jk_x86_add(a, JK_EAX, jk_x86_mem(4, JK_RDX, JK_NOREG, 1, 0));
    } else {
        jk_x86_mov(a, JK_EAX, jk_x86_mem_label_abs(4, JK_NOREG, RC, 4, data, 0));
        jk_x86_push(a, jk_x86_imm_label(data, 4));
        jk_x86_pop(a, RD);
        jk_x86_add(a, JK_EAX, jk_x86_mem(4, RD, JK_NOREG, 1, 0));
    }
    jk_x86_ret(a);
    jk_x86_align(a, 8);
    jk_x86_bind(a, table);
    for (i = 0; i < 3; i++)
        jk_x86_dlabel(a, cases[i], 0);
    jk_x86_bind(a, data);
    jk_x86_dd(a, 5);
    jk_x86_dd(a, 7);
    jk_x86_dd(a, 11);
}

static void check_abs(fn2 f)
{
    JT_EQ_I64(f(0, 0), 107);
    JT_EQ_I64(f(2, 0), 109);
    JT_EQ_I64(f(1, 0), 108);
    JT_EQ_I64(f(0, 1), 12);
    JT_EQ_I64(f(2, 1), 18);
}

#if M64 && defined(__linux__)
#  include <sys/mman.h>
#  define HAVE_LOW_MAP 1
#else
#  define HAVE_LOW_MAP 0
#endif

static void test_abs_labels(void)
{
    fn2 f;
    begin();
    build_abs(0);
    if (!M64) {
        f = install(NULL);
        JT_CHECK(f != NULL);
        check_abs(f);
        return;
    }
#if HAVE_LOW_MAP
    {
        size_t n = 0;
        void *p;
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (p != MAP_FAILED) {
            JT_OK(jk_x86_copy(a, p, n, (uint64_t)(uintptr_t)p), jk_x86_error(a));
            JT_CHECK(mprotect(p, n, PROT_READ | PROT_EXEC) == 0);
            check_abs((fn2)(uintptr_t)p);
            munmap(p, n);
        }
    }
#endif
    /* a normal install: runs if it landed below 2 GiB, else the range error */
    {
        void *entry = NULL;
        jk_status st = jk_x86_install(a, NULL, &mem, &entry);
        if (st == JK_OK) {
            check_abs((fn2)(uintptr_t)entry);
        } else {
            JT_EQ_U64(st, JK_ERANGE);
            JT_CONTAINS(jk_x86_error(a)->message, "does not fit a sign-extended imm32/disp32");
        }
    }
    /* movabs: anywhere */
    begin();
    build_abs(1);
    f = install(NULL);
    JT_CHECK(f != NULL);
    check_abs(f);
}

/* alignment: the label lands on the boundary, the padding runs as NOPs */
static void test_align_runs(void)
{
    unsigned pre, al;
    for (al = 2; al <= 64; al *= 2) {
        for (pre = 0; pre < 20; pre += 3) {
            jk_label l;
            size_t off = 0;
            fn2 f;
            begin();
            l = jk_x86_label(a, NULL);
            jk_x86_mov(a, JK_EAX, jk_imm(7));
            jk_x86_nops(a, pre);
            jk_x86_align(a, al);
            jk_x86_bind(a, l);
            jk_x86_add(a, JK_EAX, jk_imm(1));
            jk_x86_ret(a);
            f = install(NULL);
            JT_CHECK(f != NULL);
            JT_OK(jk_x86_label_offset(a, l, &off), (jk_error *)NULL);
            JT_EQ_U64(off % al, 0);
            JT_CHECK(off < 5 + pre + al);
            JT_EQ_I64(f(0, 0), 8);
        }
    }
}

/* a few more instruction families executed */
static void test_misc_families(void)
{
    fn2 f;
    begin();
    /* popcnt-free bit tricks: bsr, bswap, setcc, cmov, shld, xadd, cqo/idiv */
    args(RC, RD);
    jk_x86_bsr(a, JK_EAX, JK_ECX);         /* eax = floor(log2(c)) */
    jk_x86_bswap(a, JK_EDX);               /* edx = bswap(d) */
    jk_x86_xor(a, JK_EDX, jk_imm(0x01000000)); /* undo d = 1 -> 0 */
    jk_x86_add(a, JK_EAX, JK_EDX);
    jk_x86_cmp(a, JK_ECX, jk_imm(1000));
    jk_x86_setg(a, JK_DL);
    jk_x86_movzx(a, JK_EDX, JK_DL);
    jk_x86_shl(a, JK_EDX, jk_imm(8));
    jk_x86_add(a, JK_EAX, JK_EDX);
    jk_x86_ret(a);
    f = install(NULL);
    JT_CHECK(f != NULL);
    JT_EQ_I64(f(1024, 1), 10 + 256);
    JT_EQ_I64(f(5, 1), 2);

    begin();
    args(RA, RC);
    jk_x86_cdq(a);
    jk_x86_idiv(a, JK_ECX);
    jk_x86_imul3(a, JK_EAX, JK_EAX, jk_imm(100));
    jk_x86_add(a, JK_EAX, JK_EDX);
    jk_x86_ret(a);
    f = install(NULL);
    JT_CHECK(f != NULL);
    JT_EQ_I64((int32_t)f(47, 5), 902);
    JT_EQ_I64((int32_t)f(-47, 5), -902);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    JT_RUN(test_all_registers);
    JT_RUN(test_loop_sum);
    JT_RUN(test_forward_branches);
    JT_RUN(test_call_register);
    JT_RUN(test_call_abs_label);
    JT_RUN(test_call_extern);
    JT_RUN(test_install_heap);
    JT_RUN(test_far_host_call);
    JT_RUN(test_const_pool);
    JT_RUN(test_jump_table);
    JT_RUN(test_abs_labels);
    JT_RUN(test_align_runs);
    JT_RUN(test_misc_families);
    if (mem)
        jk_mem_free(mem, NULL);
    jk_x86_free(a);
    return jt_finish();
}
