/*
 * tests/func/hostfns.h - host functions with 0..16 pointer-sized arguments
 * that hash them (order, count and width errors all show), defined once
 * per calling convention by DEFALL(attribute, prefix).
 */
#ifndef JK_TESTS_FUNC_HOSTFNS_H
#define JK_TESTS_FUNC_HOSTFNS_H

#include <stdint.h>

static inline uintptr_t mix(unsigned n, const uintptr_t *v)
{
    uintptr_t h = 0x9e37u + n;
    unsigned i;
    for (i = 0; i < n; i++)
        h = (h * 1000003u) ^ (v[i] + i);
    return h;
}

#define PL0 void
#define PL1 uintptr_t a0
#define PL2 PL1, uintptr_t a1
#define PL3 PL2, uintptr_t a2
#define PL4 PL3, uintptr_t a3
#define PL5 PL4, uintptr_t a4
#define PL6 PL5, uintptr_t a5
#define PL7 PL6, uintptr_t a6
#define PL8 PL7, uintptr_t a7
#define PL9 PL8, uintptr_t a8
#define PL10 PL9, uintptr_t a9
#define PL11 PL10, uintptr_t a10
#define PL12 PL11, uintptr_t a11
#define PL13 PL12, uintptr_t a12
#define PL14 PL13, uintptr_t a13
#define PL15 PL14, uintptr_t a14
#define PL16 PL15, uintptr_t a15
#define AL0
#define AL1 a0
#define AL2 AL1, a1
#define AL3 AL2, a2
#define AL4 AL3, a3
#define AL5 AL4, a4
#define AL6 AL5, a5
#define AL7 AL6, a6
#define AL8 AL7, a7
#define AL9 AL8, a8
#define AL10 AL9, a9
#define AL11 AL10, a10
#define AL12 AL11, a11
#define AL13 AL12, a12
#define AL14 AL13, a13
#define AL15 AL14, a14
#define AL16 AL15, a15
#define DEFN(cc, pre, n)                                                      \
    static uintptr_t cc pre##n(PL##n)                                         \
    {                                                                         \
        uintptr_t v[17] = {0, AL##n};                                         \
        return mix(n, v + 1);                                                 \
    }
#define DEFALL(cc, pre)                                                       \
    DEFN(cc, pre, 0) DEFN(cc, pre, 1) DEFN(cc, pre, 2) DEFN(cc, pre, 3)       \
    DEFN(cc, pre, 4) DEFN(cc, pre, 5) DEFN(cc, pre, 6) DEFN(cc, pre, 7)       \
    DEFN(cc, pre, 8) DEFN(cc, pre, 9) DEFN(cc, pre, 10) DEFN(cc, pre, 11)     \
    DEFN(cc, pre, 12) DEFN(cc, pre, 13) DEFN(cc, pre, 14) DEFN(cc, pre, 15)   \
    DEFN(cc, pre, 16)
#define TABLE(pre)                                                            \
    {(uintptr_t)pre##0, (uintptr_t)pre##1, (uintptr_t)pre##2,                 \
     (uintptr_t)pre##3, (uintptr_t)pre##4, (uintptr_t)pre##5,                 \
     (uintptr_t)pre##6, (uintptr_t)pre##7, (uintptr_t)pre##8,                 \
     (uintptr_t)pre##9, (uintptr_t)pre##10, (uintptr_t)pre##11,              \
     (uintptr_t)pre##12, (uintptr_t)pre##13, (uintptr_t)pre##14,             \
     (uintptr_t)pre##15, (uintptr_t)pre##16}

#endif
