/*
 * tests/a64/exec.c - A64 code generated with the C API and executed (on an
 * AArch64 host, or under qemu-user in the aarch64 matrix build): results of
 * arithmetic, flags, bitfields, multiply/divide, loads and stores in every
 * addressing mode, exclusives from several threads, branches relaxed across
 * every reach boundary, literal pools, adr/adrp, system registers, constant
 * materialization, calls into C and back; each checked against C.
 */
#include "jt.h"

#include "jitkit/a64.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

typedef uint64_t (*fn2)(uint64_t, uint64_t);
typedef uint64_t (*fn1)(uint64_t);
typedef uint64_t (*fn0)(void);

static jk_mem *g_mem[64];
static unsigned g_nmem;

/* install a's code; the memory is freed at the end of main */
static void *install(jk_a64_asm *a)
{
    jk_mem *m = NULL;
    void *entry = NULL;
    if (g_nmem == 64) { /* the tests only call the latest few functions */
        unsigned k;
        for (k = 0; k < 60; k++)
            jk_mem_free(g_mem[k], NULL);
        memmove(g_mem, g_mem + 60, 4 * sizeof g_mem[0]);
        g_nmem = 4;
    }
    if (jk_a64_install(a, NULL, &m, &entry) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_a64_error(a)->message);
        return NULL;
    }
    if (g_nmem < 64)
        g_mem[g_nmem++] = m;
    return entry;
}

static jk_a64_asm *new_asm(void)
{
    jk_a64_asm *a = NULL;
    jk_a64_new(&a, NULL);
    return a;
}

static void test_arith(void)
{
    jk_a64_asm *a = new_asm();
    fn2 f;
    uint64_t x, y;
    static const uint64_t v[] = {0, 1, 2, 7, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x123456789ull,
                                 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, ~0ull, 12345};
    unsigned i, j, k;
    /* x0 = ((x + (y << 3)) ^ (y >> 1)) - (x & 0xff) ; then * 3 via madd */
    jk_a64_add(a, JK_X2, JK_X0, jk_a64_op_lsl(JK_X1, 3));
    jk_a64_eor(a, JK_X2, JK_X2, jk_a64_op_lsr(JK_X1, 1));
    jk_a64_and(a, JK_X3, JK_X0, jk_a64_imm(0xFF));
    jk_a64_sub(a, JK_X2, JK_X2, JK_X3);
    jk_a64_mov(a, JK_X4, jk_a64_imm(3));
    jk_a64_madd(a, JK_X0, JK_X2, JK_X4, JK_XZR);
    jk_a64_ret(a);
    f = (fn2)install(a);
    JT_CHECK(f != NULL);
    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        for (j = 0; j < sizeof v / sizeof v[0]; j++) {
            x = v[i];
            y = v[j];
            JT_EQ_U64(f(x, y), (((x + (y << 3)) ^ (y >> 1)) - (x & 0xFF)) * 3);
        }
    /* a table of two-operand operations, each one function */
    for (k = 0; k < 12; k++) {
        jk_a64_reset(a);
        switch (k) {
        case 0: jk_a64_udiv(a, JK_X0, JK_X0, JK_X1); break;
        case 1: jk_a64_sdiv(a, JK_X0, JK_X0, JK_X1); break;
        case 2: jk_a64_umulh(a, JK_X0, JK_X0, JK_X1); break;
        case 3: jk_a64_lsl(a, JK_X0, JK_X0, JK_X1); break;
        case 4: jk_a64_asr(a, JK_X0, JK_X0, JK_X1); break;
        case 5: jk_a64_ror(a, JK_X0, JK_X0, JK_X1); break;
        case 6: jk_a64_clz(a, JK_X0, JK_X0); break;
        case 7: jk_a64_rbit(a, JK_X0, JK_X0); break;
        case 8: jk_a64_rev(a, JK_X0, JK_X0); break;
        case 9: jk_a64_ubfx(a, JK_X0, JK_X0, jk_a64_imm(4), jk_a64_imm(12)); break;
        case 10: jk_a64_sbfx(a, JK_X0, JK_X0, jk_a64_imm(4), jk_a64_imm(12)); break;
        case 11: jk_a64_add(a, JK_W0, JK_W0, JK_W1); break; /* 32-bit: upper half cleared */
        }
        jk_a64_ret(a);
        f = (fn2)install(a);
        JT_CHECK(f != NULL);
        for (i = 0; i < sizeof v / sizeof v[0]; i++)
            for (j = 0; j < sizeof v / sizeof v[0]; j++) {
                uint64_t r = 0, got;
                unsigned s;
                x = v[i];
                y = v[j];
                switch (k) {
                case 0: r = y ? x / y : 0; break;
                case 1:
                    r = y == 0 ? 0 : ((int64_t)x == INT64_MIN && (int64_t)y == -1)
                                         ? x : (uint64_t)((int64_t)x / (int64_t)y);
                    break;
                case 2: r = (uint64_t)(((unsigned __int128)x * y) >> 64); break;
                case 3: r = x << (y & 63); break;
                case 4: r = (uint64_t)((int64_t)x >> (y & 63)); break;
                case 5: s = (unsigned)(y & 63); r = s ? (x >> s) | (x << (64 - s)) : x; break;
                case 6: r = x ? (uint64_t)__builtin_clzll(x) : 64; break;
                case 7:
                    for (s = 0, r = 0; s < 64; s++)
                        r |= ((x >> s) & 1) << (63 - s);
                    break;
                case 8: r = __builtin_bswap64(x); break;
                case 9: r = (x >> 4) & 0xFFF; break;
                case 10: r = (uint64_t)((int64_t)(x << 48) >> 52); break;
                case 11: r = (uint32_t)(x + y); break;
                }
                got = f(x, y);
                JT_CHECK_MSG(got == r, "op %u (%llx, %llx): %llx, want %llx", k,
                             (unsigned long long)x, (unsigned long long)y,
                             (unsigned long long)got, (unsigned long long)r);
            }
    }
    jk_a64_free(a);
}

/* flags: for each condition, cset after cmp x0, x1 */
static void test_flags(void)
{
    static const int64_t v[] = {0, 1, -1, 2, INT64_MIN, INT64_MAX, 100, -100};
    unsigned cc, i, j;
    jk_a64_asm *a = new_asm();
    for (cc = 0; cc < 14; cc++) {
        fn2 f;
        jk_a64_reset(a);
        jk_a64_cmp(a, JK_X0, JK_X1);
        jk_a64_cset(a, JK_X0, jk_a64_cond(cc));
        jk_a64_ret(a);
        f = (fn2)install(a);
        JT_CHECK(f != NULL);
        for (i = 0; i < 8; i++)
            for (j = 0; j < 8; j++) {
                int64_t x = v[i], y = v[j];
                uint64_t ux = (uint64_t)x, uy = (uint64_t)y, d = ux - uy;
                int n = (int64_t)d < 0, z = d == 0, c = ux >= uy,
                    vv = ((x < 0) != (y < 0)) && ((int64_t)d < 0) != (x < 0);
                int want = 0;
                switch (cc >> 1) {
                case 0: want = z; break;
                case 1: want = c; break;
                case 2: want = n; break;
                case 3: want = vv; break;
                case 4: want = c && !z; break;
                case 5: want = n == vv; break;
                case 6: want = !z && n == vv; break;
                }
                if (cc & 1)
                    want = !want;
                JT_CHECK_MSG(f(ux, uy) == (uint64_t)want, "cond %u on (%lld, %lld)", cc,
                             (long long)x, (long long)y);
            }
    }
    jk_a64_free(a);
}

/* loads and stores in every addressing mode on a caller's buffer */
static void test_mem(void)
{
    jk_a64_asm *a = new_asm();
    fn1 f;
    uint64_t buf[16], r;
    unsigned i;
    for (i = 0; i < 16; i++)
        buf[i] = 0x1111111111111111ull * i;
    /* x0 = &buf */
    jk_a64_ldr(a, JK_X1, jk_a64_mem(JK_X0, 8));                 /* buf[1] */
    jk_a64_ldur(a, JK_X2, jk_a64_mem(JK_X0, 17));               /* unaligned, unscaled */
    jk_a64_mov(a, JK_X9, JK_X0);
    jk_a64_ldr(a, JK_X3, jk_a64_mem_pre(JK_X9, 16));            /* buf[2], x9 = &buf[2] */
    jk_a64_ldr(a, JK_X4, jk_a64_mem_post(JK_X9, 8));            /* buf[2], x9 = &buf[3] */
    jk_a64_ldr(a, JK_X5, jk_a64_mem(JK_X9, 0));                 /* buf[3] */
    jk_a64_mov(a, JK_W10, jk_a64_imm(-2));
    jk_a64_ldr(a, JK_X6, jk_a64_mem_idx(JK_X9, jk_a64_shift(JK_W10, JK_A64_MOD_SXTW, 3))); /* buf[1] */
    jk_a64_ldp(a, JK_X7, JK_X8, jk_a64_mem(JK_X0, 32));         /* buf[4], buf[5] */
    jk_a64_ldrsb(a, JK_X11, jk_a64_mem(JK_X0, 8 * 15 + 7));     /* top byte of buf[15]: 0xff */
    jk_a64_ldrh(a, JK_W12, jk_a64_mem(JK_X0, 8 * 10));
    jk_a64_ldrsw(a, JK_X13, jk_a64_mem(JK_X0, 8 * 9 + 4));
    /* stores: buf[0] = sum of the above */
    jk_a64_add(a, JK_X1, JK_X1, JK_X2);
    jk_a64_add(a, JK_X1, JK_X1, JK_X3);
    jk_a64_add(a, JK_X1, JK_X1, JK_X4);
    jk_a64_add(a, JK_X1, JK_X1, JK_X5);
    jk_a64_add(a, JK_X1, JK_X1, JK_X6);
    jk_a64_add(a, JK_X1, JK_X1, JK_X7);
    jk_a64_add(a, JK_X1, JK_X1, JK_X8);
    jk_a64_add(a, JK_X1, JK_X1, JK_X11);
    jk_a64_add(a, JK_X1, JK_X1, JK_X12);
    jk_a64_add(a, JK_X1, JK_X1, JK_X13);
    jk_a64_str(a, JK_X1, jk_a64_mem(JK_X0, 0));
    jk_a64_stp(a, JK_X13, JK_X11, jk_a64_mem_pre(JK_X0, 8 * 14)); /* buf[14], buf[15]; x0 += 112 */
    jk_a64_strb(a, JK_WZR, jk_a64_mem(JK_X0, -8 * 14 + 8 * 6));   /* low byte of buf[6] */
    jk_a64_sub(a, JK_X0, JK_X0, jk_a64_imm(8 * 14));
    jk_a64_ret(a);
    f = (fn1)install(a);
    JT_CHECK(f != NULL);
    {
        uint64_t b2;
        uint64_t want, v1 = buf[1], v3 = buf[3], v4 = buf[4], v5 = buf[5];
        int64_t sb = (int8_t)(buf[15] >> 56), sw = (int32_t)(buf[9] >> 32);
        uint64_t h = buf[10] & 0xFFFF;
        memcpy(&b2, (uint8_t *)buf + 17, 8);
        want = v1 + b2 + buf[2] + buf[2] + v3 + v1 + v4 + v5 + (uint64_t)sb + h + (uint64_t)sw;
        r = f((uint64_t)(uintptr_t)buf);
        JT_EQ_U64(r, (uint64_t)(uintptr_t)buf);
        JT_EQ_U64(buf[0], want);
        JT_EQ_U64(buf[14], (uint64_t)sw);
        JT_EQ_U64(buf[15], (uint64_t)sb);
        JT_EQ_U64(buf[6], 0x6666666666666600ull);
    }
    jk_a64_free(a);
}

/* -- Exclusives from several threads ------------------------------------------------- */

static fn1 g_incr;
static uint64_t g_counter;

static void *incr_thread(void *p)
{
    unsigned i;
    (void)p;
    for (i = 0; i < 20000; i++)
        g_incr((uint64_t)(uintptr_t)&g_counter);
    return NULL;
}

static void test_exclusive(void)
{
    jk_a64_asm *a = new_asm();
    jk_label retry = jk_a64_label(a, "retry");
    pthread_t t[4];
    unsigned i;
    jk_a64_bind(a, retry);
    jk_a64_ldaxr(a, JK_X1, jk_a64_mem(JK_X0, 0));
    jk_a64_add(a, JK_X1, JK_X1, jk_a64_imm(1));
    jk_a64_stlxr(a, JK_W2, JK_X1, jk_a64_mem(JK_X0, 0));
    jk_a64_cbnz(a, JK_W2, jk_a64_lbl(retry));
    jk_a64_mov(a, JK_X0, JK_X1);
    jk_a64_ret(a);
    g_incr = (fn1)install(a);
    JT_CHECK(g_incr != NULL);
    g_counter = 0;
    for (i = 0; i < 4; i++)
        JT_CHECK(pthread_create(&t[i], NULL, incr_thread, NULL) == 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    JT_EQ_U64(g_counter, 80000);
    jk_a64_free(a);
}

/* -- Branches across the reach boundaries -------------------------------------------- */

/* f(x) = x == 0 ? 1 : 2 through a branch over `gap` nops (relaxed when out
 * of reach), for cbz, tbz (bit 0 of x + 1... here bit 63), b.cond. */
static void test_branches(void)
{
    static const long gaps[] = {10, (1l << 13) - 2, (1l << 13) - 1, (1l << 18) - 2, (1l << 18) - 1,
                                (1l << 18) + 100};
    unsigned g, kind;
    for (kind = 0; kind < 3; kind++)
        for (g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
            jk_a64_asm *a = new_asm();
            jk_label yes = jk_a64_label(a, "yes"), back = jk_a64_label(a, "back"),
                     start = jk_a64_label(a, "start");
            long i;
            fn1 f;
            /* a forward branch over the gap, a backward b.eq over it */
            jk_a64_b(a, jk_a64_lbl(start));
            jk_a64_bind(a, back);
            jk_a64_ret(a);
            jk_a64_bind(a, start);
            if (kind == 0)
                jk_a64_cbz(a, JK_X0, jk_a64_lbl(yes));
            else if (kind == 1)
                jk_a64_tbz(a, JK_X0, jk_a64_imm(63), jk_a64_lbl(yes)); /* x >= 0 */
            else {
                jk_a64_cmp(a, JK_X0, jk_a64_imm(0));
                jk_a64_b_eq(a, jk_a64_lbl(yes));
            }
            jk_a64_mov(a, JK_X0, jk_a64_imm(2));
            jk_a64_ret(a);
            for (i = 0; i < gaps[g]; i++)
                jk_a64_nop(a);
            jk_a64_bind(a, yes);
            jk_a64_mov(a, JK_X0, jk_a64_imm(1));
            jk_a64_cmp(a, JK_X0, jk_a64_imm(1));
            jk_a64_b_eq(a, jk_a64_lbl(back)); /* backward over the gap */
            jk_a64_brk(a, jk_a64_imm(1));
            f = (fn1)install(a);
            JT_CHECK(f != NULL);
            if (kind == 1) {
                JT_EQ_U64(f(5), 1);
                JT_EQ_U64(f((uint64_t)-5), 2);
            } else {
                JT_EQ_U64(f(0), 1);
                JT_EQ_U64(f(7), 2);
            }
            jk_a64_free(a);
        }
}

/* -- Literals, adr, adrp, system registers, constants, calls ---------------------------- */

static uint64_t host_fn(uint64_t a, uint64_t b, uint64_t c)
{
    return a * 1000 + b * 10 + c;
}

static void test_literals_calls(void)
{
    jk_a64_asm *a = new_asm();
    uint64_t k1 = 0xCAFEF00DDEADBEEFull, k2 = 42;
    jk_label c1, c2, data;
    fn0 f;
    fn1 g;
    size_t off;
    /* ldr literal from the pool, adr to a pool entry and to data in the code */
    c1 = jk_a64_const(a, &k1, 8, 8);
    c2 = jk_a64_const(a, &k2, 8, 8);
    data = jk_a64_label(a, "data");
    jk_a64_ldr(a, JK_X0, jk_a64_lbl(c1));
    jk_a64_adr(a, JK_X1, jk_a64_lbl(c2));
    jk_a64_ldr(a, JK_X1, jk_a64_mem(JK_X1, 0));
    jk_a64_add(a, JK_X0, JK_X0, JK_X1);
    jk_a64_adr(a, JK_X2, jk_a64_lbl(data));
    jk_a64_ldr(a, JK_W3, jk_a64_mem(JK_X2, 4));
    jk_a64_add(a, JK_X0, JK_X0, JK_X3);
    jk_a64_ret(a);
    jk_a64_bind(a, data);
    jk_a64_dd(a, 1);
    jk_a64_dd(a, 1000);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(f(), k1 + k2 + 1000);

    /* adrp: the 4 KiB page of a label, filled in for the address installed at */
    jk_a64_reset(a);
    data = jk_a64_label(a, "data");
    jk_a64_adrp(a, JK_X0, jk_a64_lbl(data));
    jk_a64_ret(a);
    jk_a64_align(a, 4096);
    jk_a64_nop(a);
    jk_a64_bind(a, data);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(jk_a64_label_offset(a, data, &off), JK_OK);
    JT_EQ_U64(f(), ((uint64_t)(uintptr_t)f + off) & ~0xFFFull);

    /* adrl: the full address of data past a page, loaded through it */
    jk_a64_reset(a);
    data = jk_a64_label(a, "data");
    jk_a64_adrl(a, JK_X1, data);
    jk_a64_ldr(a, JK_X0, jk_a64_mem(JK_X1, 0));
    jk_a64_ret(a);
    jk_a64_align(a, 4096);
    jk_a64_dq(a, 0);
    jk_a64_bind(a, data);
    jk_a64_dq(a, 0x1122334455667788ull);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(f(), 0x1122334455667788ull);

    /* a call into C and back (any distance: mov_imm + blr), frame kept */
    jk_a64_reset(a);
    jk_a64_stp(a, JK_FP, JK_LR, jk_a64_mem_pre(JK_XSP, -16));
    jk_a64_mov(a, JK_FP, JK_XSP);
    jk_a64_mov(a, JK_X2, JK_X0);
    jk_a64_mov(a, JK_X1, jk_a64_imm(5));
    jk_a64_mov_imm(a, JK_X0, 7);
    jk_a64_call_abs(a, JK_X16, (uint64_t)(uintptr_t)host_fn);
    jk_a64_add(a, JK_X0, JK_X0, jk_a64_imm(1));
    jk_a64_ldp(a, JK_FP, JK_LR, jk_a64_mem_post(JK_XSP, 16));
    jk_a64_ret(a);
    g = (fn1)install(a);
    JT_CHECK(g != NULL);
    JT_EQ_U64(g(3), 7053u + 1);
    jk_a64_free(a);
}

static void test_sysregs(void)
{
    jk_a64_asm *a = new_asm();
    fn0 f;
    uint64_t tp, t1, t2;
    jk_a64_mrs(a, JK_X0, JK_A64_TPIDR_EL0);
    jk_a64_ret(a);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    tp = (uint64_t)(uintptr_t)__builtin_thread_pointer();
    JT_EQ_U64(f(), tp);
    jk_a64_reset(a);
    jk_a64_mrs(a, JK_X0, JK_A64_CNTVCT_EL0);
    jk_a64_ret(a);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    t1 = f();
    t2 = f();
    JT_CHECK(t2 >= t1);
    /* nzcv after a compare that sets Z and C */
    jk_a64_reset(a);
    jk_a64_cmp(a, JK_X0, JK_X0);
    jk_a64_mrs(a, JK_X0, JK_A64_NZCV);
    jk_a64_isb(a);
    jk_a64_dmb(a, jk_a64_imm(JK_A64_ISH));
    jk_a64_ret(a);
    f = (fn0)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(f() >> 28, 0x6);
    jk_a64_free(a);
}

static void test_mov_imm_exec(void)
{
    jk_a64_asm *a = new_asm();
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    unsigned i;
    for (i = 0; i < 200; i++) {
        fn0 f;
        uint64_t v;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v = (i & 3) == 0 ? seed : (i & 3) == 1 ? seed & 0xFFFF00000000FFFFull
                                 : (i & 3) == 2 ? ~(seed & 0xFFFF) : seed & 0xFFFFFFFF;
        jk_a64_reset(a);
        jk_a64_mov_imm(a, (i & 7) == 7 ? JK_W0 : JK_X0, v);
        jk_a64_ret(a);
        f = (fn0)install(a);
        JT_CHECK(f != NULL);
        JT_EQ_U64(f(), (i & 7) == 7 ? (uint32_t)v : v);
    }
    jk_a64_free(a);
}

/* -- Scalar floating point against C ---------------------------------------------- */

typedef double (*fnd2)(double, double);
typedef int64_t (*fni_d)(double);
typedef float (*fnf2)(float, float);

static void test_fp(void)
{
    static const double v[] = {0.0, 1.0, -2.5, 3.25, 1e10, -1e-3, 123456.75, 0.1};
    jk_a64_asm *a = new_asm();
    uint64_t kbits;
    double k = 0.75;
    jk_label c;
    fnd2 f;
    fni_d g;
    fnf2 h;
    unsigned i, j;
    /* (a + b) * 1.5 - sqrt(|a|) + fma(a, b, k) / 2, k from the pool */
    memcpy(&kbits, &k, 8);
    c = jk_a64_const(a, &kbits, 8, 8);
    jk_a64_fadd(a, JK_D2, JK_D0, JK_D1);
    jk_a64_fmov(a, JK_D3, jk_a64_fimm(1.5));
    jk_a64_fmul(a, JK_D2, JK_D2, JK_D3);
    jk_a64_fabs(a, JK_D4, JK_D0);
    jk_a64_fsqrt(a, JK_D4, JK_D4);
    jk_a64_fsub(a, JK_D2, JK_D2, JK_D4);
    jk_a64_ldr(a, JK_D5, jk_a64_lbl(c));
    jk_a64_fmadd(a, JK_D6, JK_D0, JK_D1, JK_D5);
    jk_a64_fmov(a, JK_D7, jk_a64_fimm(2.0));
    jk_a64_fdiv(a, JK_D6, JK_D6, JK_D7);
    jk_a64_fadd(a, JK_D0, JK_D2, JK_D6);
    jk_a64_ret(a);
    f = (fnd2)install(a);
    JT_CHECK(f != NULL);
    for (i = 0; i < 8; i++)
        for (j = 0; j < 8; j++) {
            double x = v[i], y = v[j];
            double want = (x + y) * 1.5 - sqrt(fabs(x)) + fma(x, y, 0.75) / 2.0;
            JT_CHECK_MSG(f(x, y) == want, "(%g, %g): %.17g, want %.17g", x, y, f(x, y), want);
        }
    /* max(a, b) via fcmp + fcsel; conversions both ways */
    jk_a64_reset(a);
    jk_a64_fcmp(a, JK_D0, JK_D1);
    jk_a64_fcsel(a, JK_D0, JK_D0, JK_D1, jk_a64_cond(JK_A64_GT));
    jk_a64_ret(a);
    f = (fnd2)install(a);
    JT_CHECK(f != NULL);
    for (i = 0; i < 8; i++)
        for (j = 0; j < 8; j++)
            JT_CHECK(f(v[i], v[j]) == (v[i] > v[j] ? v[i] : v[j]));
    jk_a64_reset(a);
    jk_a64_fcvtzs(a, JK_X0, JK_D0);
    jk_a64_scvtf(a, JK_D1, JK_X0);
    jk_a64_fcmp(a, JK_D1, jk_a64_fimm(0.0));
    jk_a64_cset(a, JK_X1, jk_a64_cond(JK_A64_MI));
    jk_a64_add(a, JK_X0, JK_X0, jk_a64_op_lsl(JK_X1, 32));
    jk_a64_ret(a);
    g = (fni_d)install(a);
    JT_CHECK(g != NULL);
    for (i = 0; i < 8; i++) {
        int64_t t = (int64_t)v[i];
        JT_EQ_I64(g(v[i]), t + ((double)t < 0 ? (1ll << 32) : 0));
    }
    /* single precision through memory: stp/ldp of s registers on the stack */
    jk_a64_reset(a);
    jk_a64_stp(a, JK_S0, JK_S1, jk_a64_mem_pre(JK_XSP, -16));
    jk_a64_ldr(a, JK_S2, jk_a64_mem(JK_XSP, 4));
    jk_a64_ldr(a, JK_S3, jk_a64_mem_post(JK_XSP, 16));
    jk_a64_fnmul(a, JK_S0, JK_S2, JK_S3);
    jk_a64_ret(a);
    h = (fnf2)install(a);
    JT_CHECK(h != NULL);
    JT_CHECK(h(1.5f, -4.0f) == 6.0f);
    /* half precision: (float)(half)x * 2 + (half)y, through h registers */
    jk_a64_reset(a);
    jk_a64_fcvt(a, JK_A64_H_(2), JK_S0);
    jk_a64_fcvt(a, JK_A64_H_(3), JK_S1);
    jk_a64_fadd(a, JK_A64_H_(2), JK_A64_H_(2), JK_A64_H_(2));
    jk_a64_fadd(a, JK_A64_H_(2), JK_A64_H_(2), JK_A64_H_(3));
    jk_a64_fcvt(a, JK_S0, JK_A64_H_(2));
    jk_a64_ret(a);
    h = (fnf2)install(a);
    JT_CHECK(h != NULL);
    JT_CHECK(h(1.5f, 0.25f) == 3.25f);
    JT_CHECK(h(1000.0f, 1.0f) == 2001.0f);
    JT_CHECK(h(1e6f, 0.0f) == __builtin_inff()); /* beyond the half range */
    /* fixed point: x * 2^4 truncated, then back with 4 fraction bits */
    jk_a64_reset(a);
    jk_a64_fcvtzs3(a, JK_W0, JK_S0, jk_a64_imm(4));
    jk_a64_scvtf3(a, JK_S0, JK_W0, jk_a64_imm(4));
    jk_a64_ret(a);
    h = (fnf2)install(a);
    JT_CHECK(h != NULL);
    JT_CHECK(h(3.3f, 0) == 3.25f);
    JT_CHECK(h(-1.97f, 0) == -1.9375f);
    jk_a64_free(a);
}

/* -- Advanced SIMD against C ------------------------------------------------------ */

typedef uint64_t (*fn3)(uint64_t, uint64_t, uint64_t);

static void test_simd(void)
{
    jk_a64_asm *a = new_asm();
    fn3 f;
    uint32_t x[8], y[8], out[8];
    double dx[2] = {1.5, -2.25}, dy[2] = {4.0, 0.5}, dout[2];
    unsigned i;
    for (i = 0; i < 8; i++) {
        x[i] = 0x10000001u * (i + 1);
        y[i] = 0x01234567u ^ (i * 0x1111u);
    }
    /* out = (x + y) * y ^ ~x per lane (two vectors), returns lane 1 of the
     * sum with a w register inserted into lane 3 of it first */
    jk_a64_ld1(a, jk_a64_vlist(0, 2, JK_A64_4S), jk_a64_mem_post(JK_X0, 32)); /* v0, v1 = x */
    jk_a64_ld1(a, jk_a64_vlist(2, 2, JK_A64_4S), jk_a64_mem(JK_X1, 0));       /* v2, v3 = y */
    for (i = 0; i < 2; i++) {
        jk_a64_op xv = jk_a64_v(i, JK_A64_4S), yv = jk_a64_v(2 + i, JK_A64_4S);
        jk_a64_op t = jk_a64_v(4 + i, JK_A64_4S), u = jk_a64_v(6 + i, JK_A64_16B);
        jk_a64_add(a, t, xv, yv);
        jk_a64_mul(a, t, t, yv);
        jk_a64_not(a, u, jk_a64_v(i, JK_A64_16B));
        jk_a64_eor(a, jk_a64_v(4 + i, JK_A64_16B), jk_a64_v(4 + i, JK_A64_16B), u);
    }
    jk_a64_st1(a, jk_a64_vlist(4, 2, JK_A64_4S), jk_a64_mem(JK_X2, 0));
    jk_a64_add(a, jk_a64_v(8, JK_A64_4S), jk_a64_v(0, JK_A64_4S), jk_a64_v(2, JK_A64_4S));
    jk_a64_mov(a, JK_W9, jk_a64_imm(77));
    jk_a64_ins(a, jk_a64_velem(8, JK_A64_ES, 3), JK_W9);
    jk_a64_umov(a, JK_W0, jk_a64_velem(8, JK_A64_ES, 1));
    jk_a64_umov(a, JK_W10, jk_a64_velem(8, JK_A64_ES, 3));
    jk_a64_add(a, JK_X0, JK_X0, jk_a64_op_lsl(JK_X10, 32));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(f((uint64_t)(uintptr_t)x, (uint64_t)(uintptr_t)y, (uint64_t)(uintptr_t)out),
              (uint32_t)(x[1] + y[1]) | 77ull << 32);
    for (i = 0; i < 8; i++)
        JT_EQ_U64(out[i], ((x[i] + y[i]) * y[i]) ^ ~x[i]);
    /* doubles: out = sqrt(|x * y|) - x, dup of a general register */
    jk_a64_reset(a);
    jk_a64_ld1(a, jk_a64_vlist(0, 1, JK_A64_2D), jk_a64_mem(JK_X0, 0));
    jk_a64_ld1(a, jk_a64_vlist(1, 1, JK_A64_2D), jk_a64_mem(JK_X1, 0));
    jk_a64_fmul(a, jk_a64_v(2, JK_A64_2D), jk_a64_v(0, JK_A64_2D), jk_a64_v(1, JK_A64_2D));
    jk_a64_fabs(a, jk_a64_v(2, JK_A64_2D), jk_a64_v(2, JK_A64_2D));
    jk_a64_fsqrt(a, jk_a64_v(2, JK_A64_2D), jk_a64_v(2, JK_A64_2D));
    jk_a64_fsub(a, jk_a64_v(2, JK_A64_2D), jk_a64_v(2, JK_A64_2D), jk_a64_v(0, JK_A64_2D));
    jk_a64_st1(a, jk_a64_vlist(2, 1, JK_A64_2D), jk_a64_mem(JK_X2, 0));
    jk_a64_mov(a, JK_W3, jk_a64_imm(0x55));
    jk_a64_dup(a, jk_a64_v(5, JK_A64_16B), JK_W3);
    jk_a64_umov(a, JK_W0, jk_a64_velem(5, JK_A64_EB, 9));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    JT_EQ_U64(f((uint64_t)(uintptr_t)dx, (uint64_t)(uintptr_t)dy, (uint64_t)(uintptr_t)dout), 0x55);
    for (i = 0; i < 2; i++)
        JT_CHECK(dout[i] == sqrt(fabs(dx[i] * dy[i])) - dx[i]);
    /* shifts by immediate and a multiply by element, three results stored */
    jk_a64_reset(a);
    jk_a64_ld1(a, jk_a64_vlist(0, 1, JK_A64_4S), jk_a64_mem(JK_X0, 0));
    jk_a64_shl(a, jk_a64_v(1, JK_A64_4S), jk_a64_v(0, JK_A64_4S), jk_a64_imm(3));
    jk_a64_sshr(a, jk_a64_v(2, JK_A64_4S), jk_a64_v(0, JK_A64_4S), jk_a64_imm(5));
    jk_a64_mul(a, jk_a64_v(3, JK_A64_4S), jk_a64_v(0, JK_A64_4S), jk_a64_velem(0, JK_A64_ES, 2));
    jk_a64_st1(a, jk_a64_vlist(1, 3, JK_A64_4S), jk_a64_mem(JK_X2, 0));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    {
        uint32_t o12[12];
        x[1] = 0x80000010u;
        f((uint64_t)(uintptr_t)x, 0, (uint64_t)(uintptr_t)o12);
        for (i = 0; i < 4; i++) {
            JT_EQ_U64(o12[i], x[i] << 3);
            JT_EQ_U64(o12[4 + i], (uint32_t)((int32_t)x[i] >> 5));
            JT_EQ_U64(o12[8 + i], x[i] * x[2]);
        }
    }
    /* vector immediates and ext: movi 4s lsl 8, orr 4s, mvni 8h, fmov 2d, ext */
    jk_a64_reset(a);
    jk_a64_movi(a, jk_a64_v(0, JK_A64_4S), jk_a64_op_lsl(jk_a64_imm(0x12), 8));
    jk_a64_orr2(a, jk_a64_v(0, JK_A64_4S), jk_a64_imm(0x34));
    jk_a64_mvni(a, jk_a64_v(1, JK_A64_8H), jk_a64_imm(0x0F));
    jk_a64_fmov(a, jk_a64_v(2, JK_A64_2D), jk_a64_fimm(-2.5));
    jk_a64_movi(a, jk_a64_v(3, JK_A64_2D), jk_a64_imm((int64_t)0xFF0000FF00FF00FFull));
    jk_a64_ext(a, jk_a64_v(3, JK_A64_16B), jk_a64_v(3, JK_A64_16B), jk_a64_v(0, JK_A64_16B),
               jk_a64_imm(8));
    jk_a64_st1(a, jk_a64_vlist(0, 4, JK_A64_2D), jk_a64_mem(JK_X2, 0));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    {
        uint64_t o8[8];
        double d;
        f(0, 0, (uint64_t)(uintptr_t)o8);
        JT_EQ_U64(o8[0], 0x0000123400001234ull);
        JT_EQ_U64(o8[1], 0x0000123400001234ull);
        JT_EQ_U64(o8[2], 0xFFF0FFF0FFF0FFF0ull);
        memcpy(&d, &o8[4], 8);
        JT_CHECK(d == -2.5);
        /* ext #8 of (v3, v0): the high half of v3, then the low half of v0 */
        JT_EQ_U64(o8[6], 0xFF0000FF00FF00FFull);
        JT_EQ_U64(o8[7], 0x0000123400001234ull);
    }
    /* widening, narrowing, across lanes, table lookup on bytes */
    jk_a64_reset(a);
    jk_a64_ld1(a, jk_a64_vlist(0, 1, JK_A64_16B), jk_a64_mem(JK_X0, 0));
    jk_a64_uxtl(a, jk_a64_v(1, JK_A64_8H), jk_a64_v(0, JK_A64_8B));      /* low 8 bytes */
    jk_a64_sxtl2(a, jk_a64_v(2, JK_A64_8H), jk_a64_v(0, JK_A64_16B));    /* high 8 bytes */
    jk_a64_umull(a, jk_a64_v(3, JK_A64_8H), jk_a64_v(0, JK_A64_8B), jk_a64_v(0, JK_A64_8B));
    jk_a64_xtn(a, jk_a64_v(4, JK_A64_8B), jk_a64_v(3, JK_A64_8H));
    jk_a64_addv(a, JK_A64_H_(5), jk_a64_v(1, JK_A64_8H));
    jk_a64_ld1(a, jk_a64_vlist(6, 1, JK_A64_16B), jk_a64_mem(JK_X1, 0));  /* indices */
    jk_a64_tbl(a, jk_a64_v(7, JK_A64_16B), jk_a64_vlist(0, 1, JK_A64_16B), jk_a64_v(6, JK_A64_16B));
    jk_a64_st1(a, jk_a64_vlist(1, 4, JK_A64_16B), jk_a64_mem_post(JK_X2, 64));
    jk_a64_st1(a, jk_a64_vlist(5, 3, JK_A64_16B), jk_a64_mem(JK_X2, 0));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    {
        uint8_t in[16], idx[16], o[112];
        uint16_t h;
        unsigned sum = 0;
        for (i = 0; i < 16; i++) {
            in[i] = (uint8_t)(i * 37 + 200);
            idx[i] = (uint8_t)(i == 5 ? 99 : 15 - i); /* 99: out of the table, 0 */
        }
        f((uint64_t)(uintptr_t)in, (uint64_t)(uintptr_t)idx, (uint64_t)(uintptr_t)o);
        for (i = 0; i < 8; i++) {
            uint16_t u, sx, m;
            memcpy(&u, o + 2 * i, 2);
            memcpy(&sx, o + 16 + 2 * i, 2);
            memcpy(&m, o + 32 + 2 * i, 2);
            JT_EQ_U64(u, in[i]);
            JT_EQ_U64(sx, (uint16_t)(int16_t)(int8_t)in[8 + i]);
            JT_EQ_U64(m, (uint16_t)(in[i] * in[i]));
            JT_EQ_U64(o[48 + i], (uint8_t)(in[i] * in[i]));
            sum += in[i];
        }
        memcpy(&h, o + 64, 2);
        JT_EQ_U64(h, (uint16_t)sum);
        for (i = 0; i < 16; i++)
            JT_EQ_U64(o[96 + i], idx[i] < 16 ? in[idx[i]] : 0);
    }
    /* ld2 de-interleaves, ld1r replicates, aese of zeros is 0x63 per byte */
    jk_a64_reset(a);
    jk_a64_mov(a, JK_X9, jk_a64_imm(16));
    jk_a64_ld2(a, jk_a64_vlist(0, 2, JK_A64_4S), jk_a64_mem_post_reg(JK_X0, JK_X9));
    jk_a64_add(a, JK_X0, JK_X0, jk_a64_imm(16)); /* 16 by register + 16 = 32 */
    jk_a64_ld1r(a, jk_a64_vlist(2, 1, JK_A64_4S), jk_a64_mem(JK_X1, 0));
    jk_a64_movi(a, jk_a64_v(3, JK_A64_2D), jk_a64_imm(0));
    jk_a64_movi(a, jk_a64_v(4, JK_A64_2D), jk_a64_imm(0));
    jk_a64_aese(a, jk_a64_v(3, JK_A64_16B), jk_a64_v(4, JK_A64_16B));
    jk_a64_aesmc(a, jk_a64_v(3, JK_A64_16B), jk_a64_v(3, JK_A64_16B));
    jk_a64_st1(a, jk_a64_vlist(0, 4, JK_A64_4S), jk_a64_mem(JK_X2, 0));
    jk_a64_ret(a);
    f = (fn3)install(a);
    JT_CHECK(f != NULL);
    {
        uint32_t in8[8] = {1, 2, 3, 4, 5, 6, 7, 8}, one = 0xABCD, o16[16];
        JT_EQ_U64(f((uint64_t)(uintptr_t)in8, (uint64_t)(uintptr_t)&one,
                    (uint64_t)(uintptr_t)o16), (uint64_t)(uintptr_t)(in8 + 8));
        for (i = 0; i < 4; i++) {
            JT_EQ_U64(o16[i], in8[2 * i]);
            JT_EQ_U64(o16[4 + i], in8[2 * i + 1]);
            JT_EQ_U64(o16[8 + i], 0xABCD);
            JT_EQ_U64(o16[12 + i], 0x63636363u);
        }
    }
    jk_a64_free(a);
}

int main(int argc, char **argv)
{
    unsigned k;
    (void)argc;
    (void)argv;
    JT_RUN(test_arith);
    JT_RUN(test_flags);
    JT_RUN(test_mem);
    JT_RUN(test_exclusive);
    JT_RUN(test_branches);
    JT_RUN(test_literals_calls);
    JT_RUN(test_sysregs);
    JT_RUN(test_mov_imm_exec);
    JT_RUN(test_fp);
    JT_RUN(test_simd);
    for (k = 0; k < g_nmem; k++)
        jk_mem_free(g_mem[k], NULL);
    return jt_finish();
}
