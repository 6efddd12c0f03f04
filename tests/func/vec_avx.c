/*
 * tests/func/vec_avx.c - the AVX side of test_vec.c, built with -mavx: host
 * functions taking and returning __m256i, and the C calls into JIT
 * functions with __m256i parameters. Only called when the CPU has AVX.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* h = 3h + a_k per 32-bit lane: order and count errors show */
/* (lane arithmetic in scalar code: 256-bit integer adds are AVX2) */
static __m256i step8(__m256i h, __m256i a)
{
    int32_t x[8], y[8];
    unsigned k;
    _mm256_storeu_si256((__m256i *)(void *)x, h);
    _mm256_storeu_si256((__m256i *)(void *)y, a);
    for (k = 0; k < 8; k++)
        x[k] = (int32_t)((uint32_t)x[k] * 3u + (uint32_t)y[k]);
    return _mm256_loadu_si256((const __m256i *)(const void *)x);
}

void avx_hw9(int32_t *out, __m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i a4,
             __m256i a5, __m256i a6, __m256i a7, __m256i a8);
void avx_hw9(int32_t *out, __m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i a4,
             __m256i a5, __m256i a6, __m256i a7, __m256i a8)
{
    __m256i h = _mm256_setzero_si256();
    h = step8(h, a0); h = step8(h, a1); h = step8(h, a2); h = step8(h, a3);
    h = step8(h, a4); h = step8(h, a5); h = step8(h, a6); h = step8(h, a7);
    h = step8(h, a8);
    _mm256_storeu_si256((__m256i *)(void *)out, h);
}

#if !defined(_WIN32)
/* returned in ymm0 (System V, i386) */
__m256i avx_hwr(__m256i x, __m256i y);
__m256i avx_hwr(__m256i x, __m256i y)
{
    return step8(step8(x, y), x);
}
#endif

static __m256i ld(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }

/* hw9 on the vectors in[0..8] (8 lanes each) */
void avx_ref_hw9(int32_t *out, const int32_t *in);
void avx_ref_hw9(int32_t *out, const int32_t *in)
{
    avx_hw9(out, ld(in), ld(in + 8), ld(in + 16), ld(in + 24), ld(in + 32), ld(in + 40),
            ld(in + 48), ld(in + 56), ld(in + 64));
}

typedef void (*jw9_fn)(int32_t *, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i,
                       __m256i, __m256i, __m256i);

/* Call a JIT function of hw9's type; 0 when it computed what hw9 does. */
int avx_run_jw9(void *jit, const int32_t *in);
int avx_run_jw9(void *jit, const int32_t *in)
{
    jw9_fn f;
    int32_t got[8], want[8];
    memcpy(&f, &jit, sizeof f);
    f(got, ld(in), ld(in + 8), ld(in + 16), ld(in + 24), ld(in + 32), ld(in + 40), ld(in + 48),
      ld(in + 56), ld(in + 64));
    avx_ref_hw9(want, in);
    return memcmp(got, want, sizeof got) != 0;
}

#if !defined(_WIN32)
/* A JIT function __m256i f(__m256i x, __m256i y) that returns hwr(y, x). */
int avx_run_jr(void *jit, const int32_t *in);
int avx_run_jr(void *jit, const int32_t *in)
{
    __m256i (*f)(__m256i, __m256i);
    int32_t got[8], want[8];
    memcpy(&f, &jit, sizeof f);
    _mm256_storeu_si256((__m256i *)(void *)got, f(ld(in), ld(in + 8)));
    _mm256_storeu_si256((__m256i *)(void *)want, avx_hwr(ld(in + 8), ld(in)));
    return memcmp(got, want, sizeof got) != 0;
}
#endif
