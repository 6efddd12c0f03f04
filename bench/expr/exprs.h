/*
 * exprs.h - the benchmark's expressions, each as text (jitkit, muparser)
 * and as C (compiled by gcc -O2 in bench_expr_c.c): short, long,
 * libm-heavy and branchy ones, over x, y in [0.1, 2] and z, w in [-1, 1].
 *
 * X(name, text, C expression over x, y, z, w)
 */
#ifndef BENCH_EXPRS_H
#define BENCH_EXPRS_H

#define BENCH_EXPRS(X) \
    X(add, "x + y", x + y) \
    X(muladd, "x * y - z", x * y - z) \
    X(ratio, "(x + 1) / (y + 2)", (x + 1) / (y + 2)) \
    X(squares, "x * x + y * y", x * x + y * y) \
    X(absqrt, "abs(z) + sqrt(x)", fabs(z) + sqrt(x)) \
    X(poly4, "x*y + y*z + z*w + w*x - x*z - y*w + 0.5*x*y*z*w", \
      x*y + y*z + z*w + w*x - x*z - y*w + 0.5*x*y*z*w) \
    X(rational, "((x + y) * (z - w) + (x - y) * (z + w)) / (1 + x*x + y*y)", \
      ((x + y) * (z - w) + (x - y) * (z + w)) / (1 + x*x + y*y)) \
    X(horner, "((3*x - 2)*x + 1)*x - 5 + y*(y*(4*y - 1))", \
      ((3*x - 2)*x + 1)*x - 5 + y*(y*(4*y - 1))) \
    X(minmax, "min(max(x, y), max(z, w)) + max(min(x, z), min(y, w))", \
      BMIN(BMAX(x, y), BMAX(z, w)) + BMAX(BMIN(x, z), BMIN(y, w))) \
    X(divs, "x/(y+1) + y/(z+2) + z/(w+3) + w/(x+4)", x/(y+1) + y/(z+2) + z/(w+3) + w/(x+4)) \
    X(sincos, "sin(x) * cos(y)", sin(x) * cos(y)) \
    X(gauss, "exp(-x*x) * cos(z)", exp(-x*x) * cos(z)) \
    X(logsqrt, "log(x + y) + sqrt(x*y)", log(x + y) + sqrt(x*y)) \
    X(pow, "pow(x, y) + pow(y, 0.5)", pow(x, y) + pow(y, 0.5)) \
    X(tansin, "tan(z * 0.5) + sin(w)", tan(z * 0.5) + sin(w)) \
    X(trig, "sqrt(sin(x)*sin(x) + cos(y)*cos(y)) * exp(z)", \
      sqrt(sin(x)*sin(x) + cos(y)*cos(y)) * exp(z)) \
    X(select, "x < y ? x : y", x < y ? x : y) \
    X(branch, "z > 0 ? x * z : y * w", z > 0 ? x * z : y * w) \
    X(branch2, "x > 1 ? (y > 1 ? x + y : x - y) : (z > 0 ? z : -z)", \
      x > 1 ? (y > 1 ? x + y : x - y) : (z > 0 ? z : -z)) \
    X(cmps, "(x < y) * 2 + (z <= w) * 3 + (x == y)", \
      (x < y ? 1.0 : 0.0) * 2 + (z <= w ? 1.0 : 0.0) * 3 + (x == y ? 1.0 : 0.0)) \
    X(floors, "floor(x * 4) + floor(y * 2.5)", floor(x * 4) + floor(y * 2.5)) \
    X(mixbranch, "abs(z - w) < 0.5 ? sqrt(x) : log(y)", fabs(z - w) < 0.5 ? sqrt(x) : log(y))

#define BMIN(a, b) ((a) < (b) ? (a) : (b))
#define BMAX(a, b) ((a) > (b) ? (a) : (b))

typedef double (*bench_c_fn)(const double *v);

enum {
#define X(name, text, c) BENCH_EXPR_##name,
    BENCH_EXPRS(X)
#undef X
    BENCH_EXPR_COUNT
};

#endif
