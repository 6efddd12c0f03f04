/*
 * x86/cpu.c - which of the extensions the instruction table knows this CPU
 * (and its operating system) supports: CPUID leaves 1, 7 (subleaves 0 and
 * 1) and 0x80000001,
 * and for the VEX-encoded extensions XGETBV, because AVX code faults unless
 * the OS saves the YMM state (XCR0 bits 1 and 2, enabled when CPUID.1:ECX
 * says OSXSAVE). On a host that is not x86, or a compiler without a way to
 * run CPUID, the answer is 0 (nothing known).
 */
#include "x86/x86_p.h"

#include <stdatomic.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define JK__HAVE_CPUID 1
static int cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    if ((unsigned)__get_cpuid_max(leaf & 0x80000000u, NULL) < leaf)
        return 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    return 1;
}
static uint64_t xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#define JK__HAVE_CPUID 1
static int cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    int v[4];
    __cpuid(v, (int)(leaf & 0x80000000u));
    if ((unsigned)v[0] < leaf)
        return 0;
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0];
    r[1] = (unsigned)v[1];
    r[2] = (unsigned)v[2];
    r[3] = (unsigned)v[3];
    return 1;
}
static uint64_t xgetbv0(void) { return _xgetbv(0); }
#endif

static uint32_t detect(void)
{
    uint32_t f = 0;
#ifdef JK__HAVE_CPUID
    unsigned r[4] = {0, 0, 0, 0}; /* eax ebx ecx edx */
    int ymm = 0;
    if (cpuid(1, 0, r)) {
        unsigned c = r[2], d = r[3];
        f |= (d >> 23 & 1u) ? JK_X86_FEAT_MMX : 0;
        f |= (d >> 25 & 1u) ? JK_X86_FEAT_SSE : 0;
        f |= (d >> 26 & 1u) ? JK_X86_FEAT_SSE2 : 0;
        f |= (c & 1u) ? JK_X86_FEAT_SSE3 : 0;
        f |= (c >> 1 & 1u) ? JK_X86_FEAT_PCLMUL : 0;
        f |= (c >> 9 & 1u) ? JK_X86_FEAT_SSSE3 : 0;
        f |= (c >> 19 & 1u) ? JK_X86_FEAT_SSE41 : 0;
        f |= (c >> 20 & 1u) ? JK_X86_FEAT_SSE42 : 0;
        f |= (c >> 22 & 1u) ? JK_X86_FEAT_MOVBE : 0;
        f |= (c >> 23 & 1u) ? JK_X86_FEAT_POPCNT : 0;
        f |= (c >> 25 & 1u) ? JK_X86_FEAT_AES : 0;
        f |= (c >> 30 & 1u) ? JK_X86_FEAT_RDRAND : 0;
        /* OSXSAVE and AVX, then the OS must save XMM and YMM state */
        if ((c >> 27 & 1u) && (c >> 28 & 1u) && (xgetbv0() & 6u) == 6u)
            ymm = 1;
        if (ymm) {
            f |= JK_X86_FEAT_AVX;
            f |= (c >> 12 & 1u) ? JK_X86_FEAT_FMA : 0;
            f |= (c >> 29 & 1u) ? JK_X86_FEAT_F16C : 0;
        }
    }
    if (cpuid(7, 0, r)) {
        unsigned b = r[1], sub = r[0];
        f |= (b >> 3 & 1u) ? JK_X86_FEAT_BMI1 : 0;
        f |= (ymm && (b >> 5 & 1u)) ? JK_X86_FEAT_AVX2 : 0;
        f |= (b >> 8 & 1u) ? JK_X86_FEAT_BMI2 : 0;
        f |= (b >> 18 & 1u) ? JK_X86_FEAT_RDSEED : 0;
        f |= (b >> 19 & 1u) ? JK_X86_FEAT_ADX : 0;
        f |= (b >> 29 & 1u) ? JK_X86_FEAT_SHA : 0;
        f |= (r[2] >> 8 & 1u) ? JK_X86_FEAT_GFNI : 0;
        f |= (ymm && (r[2] >> 9 & 1u)) ? JK_X86_FEAT_VAES : 0;
        f |= (ymm && (r[2] >> 10 & 1u)) ? JK_X86_FEAT_VPCLMULQDQ : 0;
        /* subleaf 1 (when leaf 7 has it): the VEX forms of VNNI, IFMA and
         * the new conversions, all needing the YMM state */
        if (sub >= 1 && ymm) {
            cpuid(7, 1, r);
            f |= (r[0] >> 4 & 1u) ? JK_X86_FEAT_AVXVNNI : 0;
            f |= (r[0] >> 23 & 1u) ? JK_X86_FEAT_AVXIFMA : 0;
            f |= (r[3] >> 4 & 1u) ? JK_X86_FEAT_AVXVNNIINT8 : 0;
            f |= (r[3] >> 5 & 1u) ? JK_X86_FEAT_AVXNECONVERT : 0;
        }
    }
    if (cpuid(0x80000001u, 0, r)) {
        f |= (r[2] >> 5 & 1u) ? JK_X86_FEAT_LZCNT : 0;
        f |= (ymm && (r[2] >> 16 & 1u)) ? JK_X86_FEAT_FMA4 : 0;
    }
#endif
    return f;
}

/* Detected once: CPUID is slow in a VM (a trap to the hypervisor, tens of
 * microseconds), and code generators ask per function. Threads that race
 * at the first call compute the same value. */
uint32_t jk_x86_cpu_features(void)
{
    static atomic_uint ready;
    static atomic_uint_least32_t value;
    uint32_t f;
    if (atomic_load_explicit(&ready, memory_order_acquire))
        return (uint32_t)atomic_load_explicit(&value, memory_order_relaxed);
    f = detect();
    atomic_store_explicit(&value, f, memory_order_relaxed);
    atomic_store_explicit(&ready, 1u, memory_order_release);
    return f;
}

const char *jk_x86_feature_name(uint32_t feature)
{
    unsigned i;
    for (i = 0; i < 32; i++)
        if (feature == 1u << i)
            return (i + 1u) < (unsigned)JK__X86_NFEATURES ? jk__x86_feature_names[i + 1u] : NULL;
    return NULL;
}
