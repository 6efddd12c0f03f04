/*
 * tests/x86/exec_simd.c - SIMD and bit-manipulation code built with the C
 * API runs and agrees with C: dot products in SSE, AVX, AVX2 (integer) and
 * FMA, a byte search with pshufb/pcmpeqb/pmovmskb, CRC32C against a bitwise
 * C implementation, popcnt/lzcnt/tzcnt/pdep/pext against C loops, AES-128
 * (aesenc/aesenclast, legacy and VEX) against the FIPS-197 vector and a C
 * round built from first principles, x87 fsqrt/fsin/fyl2x/fild/fistp against
 * libm and C. In 64-bit mode the code also uses
 * xmm8..15 / ymm8..15.
 *
 * A test whose extension the CPU lacks (jk_x86_cpu_features) says so -
 * "SKIPPED test_x: the CPU lacks AVX2" - and passes without running code.
 * Also checks jk_x86_cpu_features against /proc/cpuinfo on Linux and the
 * feature-set restriction (jk_x86_set_features).
 *
 * Runs in the mode of the host build (64-bit, or 32-bit with -m32, cdecl;
 * Windows x64: xmm6..15 are saved and restored as that ABI wants).
 */
#include "jt.h"

#include "jitkit/jitkit.h"
#include "jitkit/x86.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define M64 1
#else
#  define M64 0
#endif
#if M64 && defined(_WIN32)
#  define WIN64 1
#else
#  define WIN64 0
#endif

typedef intptr_t (*fn2)(intptr_t, intptr_t);

static jk_x86_asm *a;
static jk_mem *mem;
static jk_mem *kept[8]; /* functions kept alive together (test_bits) */
static unsigned nkept;
static uint32_t cpu;

static void keep(void)
{
    if (mem && nkept < 8)
        kept[nkept++] = mem;
    mem = NULL;
}

#define RA (M64 ? JK_RAX : JK_EAX)
#define RC (M64 ? JK_RCX : JK_ECX)
#define RD (M64 ? JK_RDX : JK_EDX)
#define NX (M64 ? 16u : 8u) /* vector registers in the mode */

static jk_x86_op X(unsigned n) { return jk_x86_reg(JK_X86_RC_XMM, n); }
static jk_x86_op Y(unsigned n) { return jk_x86_reg(JK_X86_RC_YMM, n); }
static jk_x86_op XW(jk_x86_op base, int64_t d) { return jk_x86_mem(16, base, JK_NOREG, 1, d); }
static jk_x86_op YW(jk_x86_op base, int64_t d) { return jk_x86_mem(32, base, JK_NOREG, 1, d); }

static int need(uint32_t feats, const char *test)
{
    uint32_t miss = feats & ~cpu;
    if (!miss)
        return 1;
    printf("SKIPPED %s: the CPU lacks %s\n", test, jk_x86_feature_name(miss & (0u - miss)));
    return 0;
}

/* Start a function f(p, q): p in RC, q in RD (all ABIs), xmm6..15 saved on
 * Windows x64. */
static void begin(void)
{
    if (mem)
        jk_mem_free(mem, NULL);
    mem = NULL;
    jk_x86_free(a);
    a = NULL;
    jk_x86_new(&a, M64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL);
    if (WIN64) {
        unsigned k;
        jk_x86_sub(a, JK_RSP, jk_imm(168));
        for (k = 6; k < 16; k++)
            jk_x86_movdqu(a, XW(JK_RSP, 16 * (k - 6)), X(k));
    } else if (M64) {
        jk_x86_mov(a, JK_RCX, JK_RDI);
        jk_x86_mov(a, JK_RDX, JK_RSI);
    } else {
        jk_x86_mov(a, JK_ECX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 4));
        jk_x86_mov(a, JK_EDX, jk_x86_mem(4, JK_ESP, JK_NOREG, 1, 8));
    }
}

static fn2 end(void)
{
    void *entry = NULL;
    if (WIN64) {
        unsigned k;
        for (k = 6; k < 16; k++)
            jk_x86_movdqu(a, X(k), XW(JK_RSP, 16 * (k - 6)));
        jk_x86_add(a, JK_RSP, jk_imm(168));
    }
    jk_x86_ret(a);
    if (jk_x86_install(a, NULL, &mem, &entry) != JK_OK) {
        fprintf(stderr, "install: %s\n", jk_x86_error(a)->message);
        return NULL;
    }
    return (fn2)(uintptr_t)entry;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Integer-valued inputs: every product and partial sum is exact, so any
 * summation order gives the C result bit for bit. */
static float fa[64], fb[64];
static int32_t ia[64], ib[64];
static float fdot(unsigned n)
{
    float s = 0;
    unsigned i;
    for (i = 0; i < n; i++)
        s += fa[i] * fb[i];
    return s;
}
static void fill(void)
{
    unsigned i;
    for (i = 0; i < 64; i++) {
        fa[i] = (float)(i % 7) - 3.0f;
        fb[i] = (float)(i % 5) + 1.0f;
        ia[i] = (int32_t)(i * 37 % 101) - 50;
        ib[i] = (int32_t)(i * 13 % 29) - 14;
    }
}

/* Sum xmm0's four floats into its low lane; result bits in eax. */
static void hsum_sse(void)
{
    jk_x86_movhlps(a, X(1), X(0));
    jk_x86_addps(a, X(0), X(1));
    jk_x86_movaps(a, X(1), X(0));
    jk_x86_shufps(a, X(1), X(1), jk_imm(0x55));
    jk_x86_addss(a, X(0), X(1));
    jk_x86_movd(a, JK_EAX, X(0));
}

static void test_dot_sse(void)
{
    fn2 f;
    unsigned i, k;
    if (!need(JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2, "test_dot_sse"))
        return;
    begin();
    /* 64 floats: four accumulators (xmm0, xmm2, and xmm8/xmm12 in 64-bit mode) */
    jk_x86_xorps(a, X(0), X(0));
    jk_x86_xorps(a, X(2), X(2));
    for (i = 0; i < 64; i += 8) {
        unsigned acc = (i / 8) % 2 ? 2u : 0u, t = M64 ? 8u + (i / 8) % 8 : 3u;
        for (k = 0; k < 8; k += 4) {
            unsigned t2 = M64 ? 15u - t + 8u : 4u;
            jk_x86_movups(a, X(t), XW(RC, 4 * (i + k)));
            jk_x86_movups(a, X(t2), XW(RD, 4 * (i + k)));
            jk_x86_mulps(a, X(t), X(t2));
            jk_x86_addps(a, X(acc), X(t));
        }
    }
    jk_x86_addps(a, X(0), X(2));
    hsum_sse();
    f = end();
    JT_CHECK(f != NULL);
    if (f)
        JT_EQ_U64((uint32_t)f((intptr_t)fa, (intptr_t)fb), fbits(fdot(64)));
}

/* Sum ymm0's eight floats: result bits in eax. */
static void hsum_avx(void)
{
    jk_x86_vextractf128(a, X(1), Y(0), jk_imm(1));
    jk_x86_vaddps(a, X(0), X(0), X(1));
    jk_x86_vhaddps(a, X(0), X(0), X(0));
    jk_x86_vhaddps(a, X(0), X(0), X(0));
    jk_x86_vmovd(a, JK_EAX, X(0));
    jk_x86_vzeroupper(a);
}

static void test_dot_avx(void)
{
    fn2 f;
    unsigned i;
    if (!need(JK_X86_FEAT_AVX, "test_dot_avx"))
        return;
    begin();
    jk_x86_vxorps(a, Y(0), Y(0), Y(0));
    for (i = 0; i < 64; i += 8) {
        unsigned t = M64 ? 8u + (i / 8) : 2u + (i / 8) % 6;
        jk_x86_vmovups(a, Y(t), YW(RC, 4 * i));
        jk_x86_vmulps(a, Y(t), Y(t), YW(RD, 4 * i));
        jk_x86_vaddps(a, Y(0), Y(0), Y(t));
    }
    hsum_avx();
    f = end();
    JT_CHECK(f != NULL);
    if (f)
        JT_EQ_U64((uint32_t)f((intptr_t)fa, (intptr_t)fb), fbits(fdot(64)));
}

static void test_dot_fma(void)
{
    fn2 f;
    unsigned i;
    if (!need(JK_X86_FEAT_AVX | JK_X86_FEAT_FMA, "test_dot_fma"))
        return;
    begin();
    jk_x86_vxorps(a, Y(0), Y(0), Y(0));
    jk_x86_vxorps(a, Y(NX - 1), Y(NX - 1), Y(NX - 1));
    for (i = 0; i < 64; i += 8) {
        unsigned t = M64 ? 8u + (i / 8) % 7 : 2u + (i / 8) % 5;
        unsigned acc = (i / 8) % 2 ? NX - 1 : 0u;
        jk_x86_vmovups(a, Y(t), YW(RC, 4 * i));
        jk_x86_vfmadd231ps(a, Y(acc), Y(t), jk_x86_mem(32, RD, JK_NOREG, 1, 4 * i));
    }
    jk_x86_vaddps(a, Y(0), Y(0), Y(NX - 1));
    hsum_avx();
    f = end();
    JT_CHECK(f != NULL);
    if (f)
        JT_EQ_U64((uint32_t)f((intptr_t)fa, (intptr_t)fb), fbits(fdot(64)));
}

static void test_dot_avx2_int(void)
{
    fn2 f;
    unsigned i;
    int32_t want = 0;
    if (!need(JK_X86_FEAT_AVX2, "test_dot_avx2_int"))
        return;
    for (i = 0; i < 64; i++)
        want += ia[i] * ib[i];
    begin();
    jk_x86_vpxor(a, Y(0), Y(0), Y(0));
    for (i = 0; i < 64; i += 8) {
        unsigned t = M64 ? 15u - (i / 8) : 1u + (i / 8) % 7;
        jk_x86_vmovdqu(a, Y(t), YW(RC, 4 * i));
        jk_x86_vpmulld(a, Y(t), Y(t), YW(RD, 4 * i));
        jk_x86_vpaddd(a, Y(0), Y(0), Y(t));
    }
    jk_x86_vextracti128(a, X(1), Y(0), jk_imm(1));
    jk_x86_vpaddd(a, X(0), X(0), X(1));
    jk_x86_vphaddd(a, X(0), X(0), X(0));
    jk_x86_vphaddd(a, X(0), X(0), X(0));
    jk_x86_vmovd(a, JK_EAX, X(0));
    jk_x86_vzeroupper(a);
    f = end();
    JT_CHECK(f != NULL);
    if (f)
        JT_EQ_I64((int32_t)f((intptr_t)ia, (intptr_t)ib), want);
}

/* AVX2 gathers (VSIB memory): f(tbl, idx) gathers from tbl through the
 * indices at idx with several index widths, scales, displacements and a
 * partial mask (lanes whose mask is 0 keep the destination), storing each
 * result after the table; C checks every lane. */
static void test_gather(void)
{
    static int32_t tbl[64 + 32];         /* the table, then the results */
    static int32_t idx[8 + 8 + 4 + 4 + 4]; /* i32[8], i64[4] (as 8 int32), mask, old */
    int64_t *i64 = (int64_t *)(void *)&idx[8];
    int32_t *out = &tbl[64], *mask = &idx[16], *old = &idx[20];
    const int64_t *t64 = (const int64_t *)(const void *)tbl;
    const int64_t *o64 = (const int64_t *)(const void *)&out[12];
    fn2 f;
    unsigned i;
    unsigned d0 = M64 ? 12u : 0u, ix = M64 ? 9u : 1u, mk = M64 ? 14u : 2u;
    if (!need(JK_X86_FEAT_AVX2, "test_gather"))
        return;
    for (i = 0; i < 64; i++)
        tbl[i] = (int32_t)(i * 2654435761u >> 7);
    for (i = 0; i < 32; i++)
        tbl[64 + i] = 0;
    for (i = 0; i < 8; i++)
        idx[i] = (int32_t)((i * 23 + 5) % 60);
    for (i = 0; i < 4; i++) {
        i64[i] = (int64_t)((i * 11 + 3) % 30);
        mask[i] = i & 1 ? 0 : -1;
        old[i] = -7 - (int32_t)i;
    }
    begin();
    /* vpgatherdd ymm, [tbl + ymm*4]: all eight lanes */
    jk_x86_vmovdqu(a, Y(ix), YW(RD, 0));
    jk_x86_vpcmpeqd(a, Y(mk), Y(mk), Y(mk));
    jk_x86_vpgatherdd(a, Y(d0), jk_x86_mem(0, RC, Y(ix), 4, 0), Y(mk));
    jk_x86_vmovdqu(a, YW(RC, 256), Y(d0));
    /* vgatherdps xmm, dword ptr [tbl + xmm*4 + 16], half mask, old values kept */
    jk_x86_vmovdqu(a, X(3), XW(RD, 80));
    jk_x86_vmovdqu(a, X(4), XW(RD, 64));
    jk_x86_vgatherdps(a, X(3), jk_x86_mem(4, RC, X(ix), 4, 16), X(4));
    jk_x86_vmovdqu(a, XW(RC, 288), X(3));
    /* vpgatherqq ymm, [tbl + ymm*8] with 64-bit indices */
    jk_x86_vmovdqu(a, Y(6), YW(RD, 32));
    jk_x86_vpcmpeqd(a, Y(7), Y(7), Y(7));
    jk_x86_vpgatherqq(a, Y(5), jk_x86_mem(8, RC, Y(6), 8, 0), Y(7));
    jk_x86_vmovdqu(a, YW(RC, 304), Y(5));
    /* vgatherqps xmm, [tbl + ymm*4]: 64-bit indices, 32-bit elements */
    jk_x86_vpcmpeqd(a, X(7), X(7), X(7));
    jk_x86_vgatherqps(a, X(d0), jk_x86_mem(0, RC, Y(6), 4, 0), X(7));
    jk_x86_vmovdqu(a, XW(RC, 336), X(d0));
    /* vpgatherdd xmm, [tbl + xmm*1 - 8] with byte offsets (index * 4 + 8) */
    jk_x86_vmovdqu(a, X(ix), XW(RD, 0));
    jk_x86_vpslld(a, X(ix), X(ix), jk_imm(2));
    jk_x86_vpaddd(a, X(ix), X(ix), XW(RD, 96));
    jk_x86_vpcmpeqd(a, X(mk), X(mk), X(mk));
    jk_x86_vpgatherdd(a, X(0), jk_x86_mem(4, RC, X(ix), 1, -8), X(mk));
    jk_x86_vmovdqu(a, XW(RC, 352), X(0));
    jk_x86_vzeroupper(a);
    jk_x86_xor(a, JK_EAX, JK_EAX);
    for (i = 0; i < 4; i++)
        idx[24 + i] = 8;
    f = end();
    JT_CHECK(f != NULL);
    if (!f)
        return;
    f((intptr_t)tbl, (intptr_t)idx);
    for (i = 0; i < 8; i++)
        JT_EQ_I64(out[i], tbl[idx[i]]);
    for (i = 0; i < 4; i++)
        JT_EQ_I64(out[8 + i], mask[i] ? tbl[idx[i] + 4] : old[i]);
    for (i = 0; i < 4; i++)
        JT_EQ_I64(o64[i], t64[i64[i]]);
    for (i = 0; i < 4; i++)
        JT_EQ_I64(out[20 + i], tbl[i64[i]]);
    for (i = 0; i < 4; i++)
        JT_EQ_I64(out[24 + i], tbl[idx[i]]);
}

/* AVX-VNNI vpdpbusd ({vex}): 8 dword lanes, each adding four u8 * s8
 * products to the accumulator, against C. */
static void test_vnni(void)
{
    static uint8_t u[32];
    static int8_t v[32];
    static int32_t acc[8], out[8];
    fn2 f;
    unsigned i, k;
    if (!need(JK_X86_FEAT_AVXVNNI, "test_vnni"))
        return;
    for (i = 0; i < 32; i++) {
        u[i] = (uint8_t)(i * 37 + 200);
        v[i] = (int8_t)(i * 29 - 100);
    }
    for (i = 0; i < 8; i++)
        acc[i] = (int32_t)(i * 1000) - 3000;
    begin();
    jk_x86_vmovdqu(a, Y(0), YW(RC, 0));           /* acc */
    jk_x86_vmovdqu(a, Y(1), YW(RD, 0));           /* u8 */
    jk_x86_hint(a, JK_X86_HINT_VEX);
    jk_x86_vpdpbusd(a, Y(0), Y(1), YW(RD, 32));   /* s8 */
    jk_x86_vmovdqu(a, YW(RC, 32), Y(0));
    jk_x86_vzeroupper(a);
    f = end();
    JT_CHECK(f != NULL);
    if (!f)
        return;
    {
        static uint8_t buf[64], src[64];
        memcpy(buf, acc, 32);
        memcpy(src, u, 32);
        memcpy(src + 32, v, 32);
        f((intptr_t)buf, (intptr_t)src);
        memcpy(out, buf + 32, 32);
    }
    for (i = 0; i < 8; i++) {
        int32_t w = acc[i];
        for (k = 0; k < 4; k++)
            w += (int32_t)u[4 * i + k] * (int32_t)v[4 * i + k];
        JT_EQ_I64(out[i], w);
    }
}

/* Index of the first byte equal to c in 16 bytes at p, 16 if none:
 * broadcast with pshufb, compare, pmovmskb, bsf. */
static void test_byte_search(void)
{
    static const char hay[17] = "jitkit: x86 simd";
    static const char needles[] = "jtk:8s dz";
    fn2 f;
    unsigned i;
    if (!need(JK_X86_FEAT_SSSE3, "test_byte_search"))
        return;
    begin();
    jk_x86_movd(a, X(1), JK_EDX);
    jk_x86_pxor(a, X(2), X(2));
    jk_x86_pshufb(a, X(1), X(2));
    jk_x86_movdqu(a, X(0), XW(RC, 0));
    jk_x86_pcmpeqb(a, X(0), X(1));
    jk_x86_pmovmskb(a, JK_EAX, X(0));
    jk_x86_mov(a, JK_EDX, jk_imm(16));
    jk_x86_bsf(a, JK_EAX, JK_EAX);
    jk_x86_cmovz(a, JK_EAX, JK_EDX);
    f = end();
    JT_CHECK(f != NULL);
    for (i = 0; f && needles[i]; i++) {
        const char *hit = memchr(hay, needles[i], 16);
        JT_EQ_I64(f((intptr_t)hay, needles[i]), hit ? hit - hay : 16);
    }
}

/* CRC32C (Castagnoli), bitwise, reflected polynomial 0x82F63B78. */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc;
}

static void test_crc32(void)
{
    uint8_t buf[64];
    fn2 f;
    unsigned i;
    if (!need(JK_X86_FEAT_SSE42, "test_crc32"))
        return;
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 151 + 7);
    /* f(p, n): ~crc32c(~0, p, 61): 15 dwords, then a word's worth of bytes */
    begin();
    jk_x86_mov(a, JK_EAX, jk_imm(-1));
    for (i = 0; i < 60; i += 4)
        jk_x86_crc32(a, JK_EAX, jk_x86_mem(4, RC, JK_NOREG, 1, i));
    jk_x86_crc32(a, JK_EAX, jk_x86_mem(1, RC, JK_NOREG, 1, 60));
    jk_x86_not(a, JK_EAX);
    f = end();
    JT_CHECK(f != NULL);
    if (f)
        JT_EQ_U64((uint32_t)f((intptr_t)buf, 0), ~crc32c(0xFFFFFFFFu, buf, 61));
}

static uint32_t c_pdep(uint32_t x, uint32_t m)
{
    uint32_t r = 0, bit = 1;
    for (; m; m &= m - 1, bit <<= 1)
        if (x & bit)
            r |= m & (0u - m);
    return r;
}
static uint32_t c_pext(uint32_t x, uint32_t m)
{
    uint32_t r = 0, bit = 1;
    for (; m; m &= m - 1, bit <<= 1)
        if (x & m & (0u - m))
            r |= bit;
    return r;
}
static uint32_t c_popcnt(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}
static uint32_t c_lzcnt(uint32_t x)
{
    uint32_t n = 0;
    while (n < 32 && !(x & (0x80000000u >> n)))
        n++;
    return n;
}
static uint32_t c_tzcnt(uint32_t x)
{
    uint32_t n = 0;
    while (n < 32 && !(x & (1u << n)))
        n++;
    return n;
}

static void test_bits(void)
{
    static const uint32_t xs[] = {0, 1, 0x80000000u, 0xF0F0F0F0u, 0x12345678u, 0xFFFFFFFFu,
                                  0x00010000u, 0xDEADBEEFu};
    static const uint32_t ms[] = {0xFF00FF00u, 0x0000FFFFu, 0xAAAAAAAAu, 0x80000001u};
    fn2 fp, fl, ft, fd, fx;
    unsigned i, j;
    if (!need(JK_X86_FEAT_POPCNT | JK_X86_FEAT_LZCNT | JK_X86_FEAT_BMI1 | JK_X86_FEAT_BMI2,
              "test_bits"))
        return;
    begin();
    jk_x86_popcnt(a, JK_EAX, JK_ECX);
    fp = end();
    keep();
    begin();
    jk_x86_lzcnt(a, JK_EAX, JK_ECX);
    fl = end();
    keep();
    begin();
    jk_x86_tzcnt(a, JK_EAX, JK_ECX);
    ft = end();
    keep();
    begin();
    jk_x86_pdep(a, JK_EAX, JK_ECX, JK_EDX);
    fd = end();
    keep();
    begin();
    jk_x86_pext(a, JK_EAX, JK_ECX, JK_EDX);
    fx = end();
    JT_CHECK(fp && fl && ft && fd && fx);
    if (!(fp && fl && ft && fd && fx))
        return;
    for (i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        intptr_t x = (intptr_t)(int32_t)xs[i];
        JT_EQ_U64((uint32_t)fp(x, 0), c_popcnt(xs[i]));
        JT_EQ_U64((uint32_t)fl(x, 0), c_lzcnt(xs[i]));
        JT_EQ_U64((uint32_t)ft(x, 0), c_tzcnt(xs[i]));
        for (j = 0; j < sizeof ms / sizeof ms[0]; j++) {
            intptr_t m = (intptr_t)(int32_t)ms[j];
            JT_EQ_U64((uint32_t)fd(x, m), c_pdep(xs[i], ms[j]));
            JT_EQ_U64((uint32_t)fx(x, m), c_pext(xs[i], ms[j]));
        }
    }
}

/* -- AES from first principles (FIPS-197): S-box from the GF(2^8) inverse
 * and the affine map, key expansion, one round. */
static uint8_t sbox[256];
static uint8_t gmul(uint8_t x, uint8_t y)
{
    uint8_t r = 0;
    while (y) {
        if (y & 1)
            r ^= x;
        x = (uint8_t)((x << 1) ^ (x & 0x80 ? 0x1B : 0));
        y >>= 1;
    }
    return r;
}
static void make_sbox(void)
{
    unsigned x;
    for (x = 0; x < 256; x++) {
        uint8_t inv = 0, b;
        unsigned y;
        for (y = 1; y < 256 && x; y++)
            if (gmul((uint8_t)x, (uint8_t)y) == 1)
                inv = (uint8_t)y;
        b = inv;
        sbox[x] = (uint8_t)(b ^ (uint8_t)(b << 1 | b >> 7) ^ (uint8_t)(b << 2 | b >> 6) ^
                            (uint8_t)(b << 3 | b >> 5) ^ (uint8_t)(b << 4 | b >> 4) ^ 0x63);
    }
}
/* state and keys as bytes, column-major (byte 4c + r is row r, column c) */
static void c_round(uint8_t s[16], const uint8_t k[16], int last)
{
    uint8_t t[16];
    unsigned r, c;
    for (c = 0; c < 4; c++)
        for (r = 0; r < 4; r++)
            t[4 * c + r] = sbox[s[4 * ((c + r) % 4) + r]];
    for (c = 0; c < 4 && !last; c++) {
        uint8_t a0 = t[4 * c], a1 = t[4 * c + 1], a2 = t[4 * c + 2], a3 = t[4 * c + 3];
        t[4 * c] = (uint8_t)(gmul(a0, 2) ^ gmul(a1, 3) ^ a2 ^ a3);
        t[4 * c + 1] = (uint8_t)(a0 ^ gmul(a1, 2) ^ gmul(a2, 3) ^ a3);
        t[4 * c + 2] = (uint8_t)(a0 ^ a1 ^ gmul(a2, 2) ^ gmul(a3, 3));
        t[4 * c + 3] = (uint8_t)(gmul(a0, 3) ^ a1 ^ a2 ^ gmul(a3, 2));
    }
    for (r = 0; r < 16; r++)
        s[r] = t[r] ^ k[r];
}
static void expand(const uint8_t key[16], uint8_t rk[11][16])
{
    uint8_t w[44][4], rcon = 1;
    unsigned i, j;
    for (i = 0; i < 4; i++)
        memcpy(w[i], key + 4 * i, 4);
    for (i = 4; i < 44; i++) {
        uint8_t t[4];
        memcpy(t, w[i - 1], 4);
        if (i % 4 == 0) {
            uint8_t t0 = t[0];
            t[0] = (uint8_t)(sbox[t[1]] ^ rcon);
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[t0];
            rcon = gmul(rcon, 2);
        }
        for (j = 0; j < 4; j++)
            w[i][j] = (uint8_t)(w[i - 4][j] ^ t[j]);
    }
    for (i = 0; i < 11; i++)
        for (j = 0; j < 4; j++)
            memcpy(rk[i] + 4 * j, w[4 * i + j], 4);
}

static _Alignas(16) uint8_t rk[11][16];

static void aes_case(int vex)
{
    static const uint8_t key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static const uint8_t ct[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                   0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
    uint8_t s[16], c[16];
    fn2 f;
    unsigned r;
    make_sbox();
    expand(key, rk);
    /* the C reference against FIPS-197 C.1 */
    memcpy(c, pt, 16);
    for (r = 0; r < 16; r++)
        c[r] ^= rk[0][r];
    for (r = 1; r <= 10; r++)
        c_round(c, rk[r], r == 10);
    JT_CHECK(memcmp(c, ct, 16) == 0);
    /* f(state, keys): AES-128 in place; rounds 1..7 from registers (xmm8..
     * in 64-bit mode), the rest from memory */
    begin();
    if (!vex) {
        jk_x86_movdqu(a, X(0), XW(RC, 0));
        jk_x86_pxor(a, X(0), XW(RD, 0));
        for (r = 1; r <= 9; r++) {
            if (r <= 7) {
                unsigned k = M64 ? 7u + r : 1u + r % 7;
                jk_x86_movdqa(a, X(k), XW(RD, 16 * r));
                jk_x86_aesenc(a, X(0), X(k));
            } else {
                jk_x86_aesenc(a, X(0), XW(RD, 16 * r));
            }
        }
        jk_x86_aesenclast(a, X(0), XW(RD, 160));
        jk_x86_movdqu(a, XW(RC, 0), X(0));
    } else {
        jk_x86_vmovdqu(a, X(1), XW(RC, 0));
        jk_x86_vpxor(a, X(1), X(1), XW(RD, 0));
        for (r = 1; r <= 9; r++) {
            unsigned k = M64 ? 8u + r % 8 : 2u + r % 6;
            jk_x86_vmovdqa(a, X(k), XW(RD, 16 * r));
            jk_x86_vaesenc(a, X(1), X(1), X(k));
        }
        jk_x86_vaesenclast(a, X(1), X(1), XW(RD, 160));
        jk_x86_vmovdqu(a, XW(RC, 0), X(1));
    }
    f = end();
    JT_CHECK(f != NULL);
    if (!f)
        return;
    memcpy(s, pt, 16);
    f((intptr_t)s, (intptr_t)rk);
    JT_CHECK(memcmp(s, ct, 16) == 0);
    /* one aesenc round on other data, against the C round */
    begin();
    jk_x86_movdqu(a, X(0), XW(RC, 0));
    jk_x86_movdqu(a, X(NX - 1), XW(RD, 0));
    jk_x86_aesenc(a, X(0), X(NX - 1));
    jk_x86_movdqu(a, XW(RC, 0), X(0));
    f = end();
    JT_CHECK(f != NULL);
    if (!f)
        return;
    for (r = 0; r < 16; r++) {
        s[r] = (uint8_t)(r * 29 + 3);
        c[r] = s[r];
    }
    f((intptr_t)s, (intptr_t)rk[3]);
    c_round(c, rk[3], 0);
    JT_CHECK(memcmp(s, c, 16) == 0);
}

static void test_aes(void)
{
    if (need(JK_X86_FEAT_AES | JK_X86_FEAT_SSE2, "test_aes"))
        aes_case(0);
}

static void test_aes_vex(void)
{
    if (need(JK_X86_FEAT_AES | JK_X86_FEAT_AVX, "test_aes_vex"))
        aes_case(1);
}

/* MMX: saturating byte add and word multiply-add on mm registers, then emms. */
static void test_mmx(void)
{
    uint8_t x[8] = {1, 100, 200, 250, 0, 255, 128, 7}, y[8] = {2, 100, 100, 10, 0, 1, 127, 9};
    int16_t w[4] = {3, -4, 1000, -32768}, v[4] = {5, 6, -7, -32768};
    int32_t md[2];
    uint8_t out[16];
    fn2 f;
    unsigned i;
    if (!need(JK_X86_FEAT_MMX, "test_mmx"))
        return;
    begin();
    jk_x86_movq(a, JK_MM0, jk_x86_mem(8, RC, JK_NOREG, 1, 0));
    jk_x86_paddusb(a, JK_MM0, jk_x86_mem(8, RD, JK_NOREG, 1, 0));
    jk_x86_movq(a, JK_MM7, jk_x86_mem(8, RC, JK_NOREG, 1, 8));
    jk_x86_pmaddwd(a, JK_MM7, jk_x86_mem(8, RD, JK_NOREG, 1, 8));
    jk_x86_movq(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0), JK_MM0);
    jk_x86_movq(a, jk_x86_mem(8, RC, JK_NOREG, 1, 8), JK_MM7);
    jk_x86_emms(a);
    f = end();
    JT_CHECK(f != NULL);
    if (!f)
        return;
    {
        uint8_t in2[16];
        memcpy(out, x, 8);
        memcpy(out + 8, w, 8);
        memcpy(in2, y, 8);
        memcpy(in2 + 8, v, 8);
        f((intptr_t)out, (intptr_t)in2);
    }
    for (i = 0; i < 8; i++)
        JT_EQ_U64(out[i], x[i] + y[i] > 255 ? 255u : (unsigned)(x[i] + y[i]));
    memcpy(md, out + 8, 8);
    JT_EQ_I64(md[0], (int32_t)w[0] * v[0] + (int32_t)w[1] * v[1]);
    /* the sum of the two products, modulo 2^32 (-32768 * -32768 = 2^30 fits) */
    JT_EQ_I64(md[1], (int32_t)((uint32_t)((int32_t)w[2] * v[2]) + (uint32_t)((int32_t)w[3] * v[3])));
}

/* x87: f(in, out) with in = {x, y}: out = {sqrt x, sin x, y * log2 x,
 * (double)(int)x rounded by fistp, x + y * 2 via fild} */
static void test_x87(void)
{
    static const double xs[] = {2.0, 0.5, 10.0, 1e-3, 12345.678, 3.0};
    double in[2], out[5];
    fn2 f;
    unsigned i;
    int32_t two = 2;
    begin();
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0));
    jk_x86_fsqrt(a);
    jk_x86_fstp(a, jk_x86_mem(8, RD, JK_NOREG, 1, 0));
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0));
    jk_x86_fsin(a);
    jk_x86_fstp(a, jk_x86_mem(8, RD, JK_NOREG, 1, 8));
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 8)); /* y */
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0)); /* x */
    jk_x86_fyl2x(a);
    jk_x86_fstp(a, jk_x86_mem(8, RD, JK_NOREG, 1, 16));
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0));
    jk_x86_fistp(a, jk_x86_mem(4, RD, JK_NOREG, 1, 24)); /* round to nearest even */
    jk_x86_fild(a, jk_x86_mem(4, RD, JK_NOREG, 1, 32));   /* the int 2 placed there */
    jk_x86_fmul(a, jk_x86_mem(8, RC, JK_NOREG, 1, 8));   /* st0 = 2y */
    jk_x86_fld(a, jk_x86_mem(8, RC, JK_NOREG, 1, 0));
    jk_x86_faddp2(a, JK_ST1, JK_ST0);                    /* st0 = x + 2y */
    jk_x86_fstp(a, jk_x86_mem(8, RD, JK_NOREG, 1, 32));
    f = end();
    JT_CHECK(f != NULL);
    for (i = 0; f && i < sizeof xs / sizeof xs[0]; i++) {
        volatile double want;
        int32_t r;
        in[0] = xs[i];
        in[1] = 1.5 + i;
        memset(out, 0, sizeof out);
        memcpy(&out[4], &two, 4);
        f((intptr_t)in, (intptr_t)out);
        JT_CHECK(out[0] == sqrt(xs[i]));
        JT_CHECK_MSG(fabs(out[1] - sin(xs[i])) <= 4e-16 * fabs(sin(xs[i])) + 1e-300,
                     "fsin(%g) = %.17g, libm %.17g", xs[i], out[1], sin(xs[i]));
        JT_CHECK_MSG(fabs(out[2] - in[1] * log2(xs[i])) <= 1e-15 * fabs(in[1] * log2(xs[i])),
                     "fyl2x(%g) = %.17g, libm %.17g", xs[i], out[2], in[1] * log2(xs[i]));
        memcpy(&r, &out[3], 4);
        JT_EQ_I64(r, (int32_t)nearbyint(xs[i]));
        want = xs[i] + 2.0 * in[1]; /* rounded to double once, as fstp does (-m32: x87) */
        JT_CHECK(out[4] == want);
    }
}

/* jk_x86_cpu_features against the kernel's view. */
static void test_cpu_features(void)
{
#if defined(__linux__)
    static const struct { const char *flag; uint32_t bit; } map[] = {
        {"sse", JK_X86_FEAT_SSE},       {"sse2", JK_X86_FEAT_SSE2},
        {"pni", JK_X86_FEAT_SSE3},      {"ssse3", JK_X86_FEAT_SSSE3},
        {"sse4_1", JK_X86_FEAT_SSE41},  {"sse4_2", JK_X86_FEAT_SSE42},
        {"avx", JK_X86_FEAT_AVX},       {"avx2", JK_X86_FEAT_AVX2},
        {"fma", JK_X86_FEAT_FMA},       {"f16c", JK_X86_FEAT_F16C},
        {"aes", JK_X86_FEAT_AES},       {"pclmulqdq", JK_X86_FEAT_PCLMUL},
        {"bmi1", JK_X86_FEAT_BMI1},     {"bmi2", JK_X86_FEAT_BMI2},
        {"adx", JK_X86_FEAT_ADX},       {"abm", JK_X86_FEAT_LZCNT},
        {"popcnt", JK_X86_FEAT_POPCNT}, {"movbe", JK_X86_FEAT_MOVBE},
        {"rdrand", JK_X86_FEAT_RDRAND}, {"rdseed", JK_X86_FEAT_RDSEED},
        {"fma4", JK_X86_FEAT_FMA4},     {"sha_ni", JK_X86_FEAT_SHA},
        {"gfni", JK_X86_FEAT_GFNI},     {"vaes", JK_X86_FEAT_VAES},
        {"vpclmulqdq", JK_X86_FEAT_VPCLMULQDQ}, {"mmx", JK_X86_FEAT_MMX},
        {"avx_vnni", JK_X86_FEAT_AVXVNNI}, {"avx_ifma", JK_X86_FEAT_AVXIFMA},
    };
    /* AVX-VNNI-INT8 and AVX-NE-CONVERT (CPUID 7.1:EDX) have no cpuinfo flag */
    uint32_t unlisted = JK_X86_FEAT_AVXVNNIINT8 | JK_X86_FEAT_AVXNECONVERT;
    char line[8192];
    FILE *f = fopen("/proc/cpuinfo", "r");
    uint32_t want = 0;
    unsigned i;
    if (!f) {
        printf("SKIPPED test_cpu_features: no /proc/cpuinfo\n");
        return;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (i = 0; i < sizeof map / sizeof map[0]; i++) {
            char pat[32];
            size_t n = (size_t)snprintf(pat, sizeof pat, " %s", map[i].flag);
            const char *p = line;
            while ((p = strstr(p, pat)) != NULL) {
                if (p[n] == ' ' || p[n] == '\n' || p[n] == 0) {
                    want |= map[i].bit;
                    break;
                }
                p += n;
            }
        }
        break;
    }
    fclose(f);
    JT_EQ_U64(cpu & ~unlisted, want);
    printf("cpu features: 0x%05x\n", (unsigned)cpu);
#else
    printf("SKIPPED test_cpu_features: no /proc/cpuinfo to compare with (features 0x%x)\n",
           (unsigned)cpu);
#endif
}

/* A restricted feature set refuses forms outside it, names the extension,
 * and falls back to a form the set allows. */
static void test_feature_restriction(void)
{
    jk_x86_asm *b = NULL;
    JT_OK(jk_x86_new(&b, JK_X86_MODE64, NULL), (jk_error *)NULL);
    JT_EQ_U64(jk_x86_features_of(b), JK_X86_FEAT_ALL);
    JT_EQ_U64(jk_x86_set_features(b, JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2 | JK_X86_FEAT_AVX), JK_OK);
    JT_EQ_U64(jk_x86_addps(b, JK_XMM1, JK_XMM9), JK_OK);
    JT_EQ_U64(jk_x86_add(b, JK_EAX, jk_imm(1)), JK_OK);
    JT_EQ_U64(jk_x86_pextrw(b, JK_EAX, JK_XMM1, jk_imm(3)), JK_OK); /* the SSE2 form C5 */
    JT_EQ_U64(jk_x86_offset(b), 4u + 3u + 5u);
    JT_EQ_U64(jk_x86_vfmadd231ps(b, JK_YMM0, JK_YMM1, JK_YMM2), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(b)->message,
              "vfmadd231ps: needs FMA, which the target feature set lacks");
    jk_x86_reset(b);
    JT_EQ_U64(jk_x86_features_of(b), JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2 | JK_X86_FEAT_AVX);
    JT_EQ_U64(jk_x86_popcnt(b, JK_EAX, JK_ECX), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(b)->message, "popcnt: needs POPCNT, which the target feature set lacks");
    jk_x86_reset(b);
    JT_EQ_U64(jk_x86_set_features(b, JK_X86_FEAT_ALL), JK_OK);
    JT_EQ_U64(jk_x86_popcnt(b, JK_EAX, JK_ECX), JK_OK);
    JT_EQ_U64(jk_x86_set_features(NULL, 0), JK_EINVAL);
    JT_EQ_STR(jk_x86_feature_name(JK_X86_FEAT_SSE41), "SSE4.1");
    JT_CHECK(jk_x86_feature_name(JK_X86_FEAT_SSE | JK_X86_FEAT_AVX) == NULL);
    jk_x86_free(b);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    cpu = jk_x86_cpu_features();
    fill();
    JT_RUN(test_cpu_features);
    JT_RUN(test_feature_restriction);
    JT_RUN(test_dot_sse);
    JT_RUN(test_dot_avx);
    JT_RUN(test_dot_fma);
    JT_RUN(test_dot_avx2_int);
    JT_RUN(test_gather);
    JT_RUN(test_vnni);
    JT_RUN(test_byte_search);
    JT_RUN(test_crc32);
    JT_RUN(test_bits);
    JT_RUN(test_aes);
    JT_RUN(test_aes_vex);
    JT_RUN(test_x87);
    JT_RUN(test_mmx);
    if (mem)
        jk_mem_free(mem, NULL);
    while (nkept)
        jk_mem_free(kept[--nkept], NULL);
    jk_x86_free(a);
    return jt_finish();
}
