/*
 * bench_expr_c.c - the benchmark's expressions as C, compiled with -O2
 * (the gcc_O2 figures). Reached only through bench_c_fns, from another
 * translation unit, so each evaluation is a call through a function
 * pointer, as it is for the JIT-compiled code.
 */
#include "exprs.h"

#include <math.h>

#define X(name, text, cexpr)                                  \
    static double c_##name(const double *v)                   \
    {                                                         \
        double x = v[0], y = v[1], z = v[2], w = v[3];        \
        (void)x; (void)y; (void)z; (void)w;                   \
        return (cexpr);                                       \
    }
BENCH_EXPRS(X)
#undef X

extern const bench_c_fn bench_c_fns[BENCH_EXPR_COUNT];
const bench_c_fn bench_c_fns[BENCH_EXPR_COUNT] = {
#define X(name, text, cexpr) c_##name,
    BENCH_EXPRS(X)
#undef X
};
