/*
 * test_expr.c - the expression example's compiled code against C.
 *
 *   table     the expressions of EXPR_TABLE, each also compiled here as C
 *             (c_<name>): the scalar entry and the interpreter must give
 *             the C value bit for bit (EXACT rows: + - * / sqrt, comparisons,
 *             min/max/abs/floor, ?:, folding), or within 1 ulp (LIBM rows:
 *             sin cos tan exp log pow), over a grid of ordinary and special
 *             inputs (signed zeros, a subnormal, huge values, infinities,
 *             NaN) and random ones; NaN matches any NaN. Every CPU feature
 *             set this machine can run: what it has (AVX where present),
 *             SSE2 + SSE4.1, SSE2 alone (floor through libm, 2-lane kernel)
 *   batch     the batch entry equals the scalar entry bit for bit for every
 *             row and feature set, over arrays of random inputs of lengths
 *             0..17, 33 and 1001 (not multiples of the width), unaligned
 *   special   NaN and infinity propagation, division by zero, signed zero
 *   spill     expressions holding more live values than there are xmm
 *             registers (in the table too: deep, deep_calls)
 *   random    random expressions of the non-libm subset against the
 *             interpreter (tree-walking, unfolded), bit for bit
 *   errors    messages and columns of bad input
 *   fuzz      mutated and random strings: never a crash; an error names a
 *             column inside the input, a success evaluates
 *
 * argv[1]: run only this test.
 */
#include "jt.h"

#include "expr.h"

#include <jitkit/jitkit.h>

#include <math.h>

/* -- The table --------------------------------------------------------------- */

#define PI 3.14159265358979323846
#define E_ 2.71828182845904523536
#define LT(a, b) ((a) < (b) ? 1.0 : 0.0)
#define LE(a, b) ((a) <= (b) ? 1.0 : 0.0)
#define GT(a, b) ((a) > (b) ? 1.0 : 0.0)
#define GE(a, b) ((a) >= (b) ? 1.0 : 0.0)
#define EQ(a, b) ((a) == (b) ? 1.0 : 0.0)
#define NE(a, b) ((a) != (b) ? 1.0 : 0.0)
#define T_(c) ((c) != 0) /* a double as a condition, spelled out */
static double jmin(double a, double b) { return a < b ? a : b; }
static double jmax(double a, double b) { return a > b ? a : b; }

enum { EXACT, LIBM };

/* X(name, class, text, the same in C over x, y, z, w) */
#define EXPR_TABLE(X) \
    X(add, EXACT, "x + y", x + y) \
    X(sub, EXACT, "x - y", x - y) \
    X(mul, EXACT, "x * y", x * y) \
    X(div, EXACT, "x / y", x / y) \
    X(neg, EXACT, "-x", -x) \
    X(prec, EXACT, "x + y * z - w / 2", x + y * z - w / 2) \
    X(negpow, EXACT, "-x^2 + y", -(x * x) + y) \
    X(sqrt, EXACT, "sqrt(x)", sqrt(x)) \
    X(abs, EXACT, "abs(x - y)", fabs(x - y)) \
    X(floor, EXACT, "floor(x * 3.5)", floor(x * 3.5)) \
    X(min, EXACT, "min(x, y)", jmin(x, y)) \
    X(max, EXACT, "max(x, y)", jmax(x, y)) \
    X(lt, EXACT, "x < y", LT(x, y)) \
    X(le, EXACT, "x <= y", LE(x, y)) \
    X(gt, EXACT, "x > y", GT(x, y)) \
    X(ge, EXACT, "x >= y", GE(x, y)) \
    X(eq, EXACT, "x == y", EQ(x, y)) \
    X(ne, EXACT, "x != y", NE(x, y)) \
    X(cond, EXACT, "x < y ? x : y", T_(LT(x, y)) ? x : y) \
    X(cond_nan, EXACT, "z ? x : y", T_(z) ? x : y) \
    X(cond_cmp, EXACT, "(x <= y ? 1 : 2) + (x == y ? 4 : 8) + (x != y ? 16 : 32) + (x >= y ? 64 : w)", \
      (T_(LE(x, y)) ? 1 : 2) + (T_(EQ(x, y)) ? 4 : 8) + (T_(NE(x, y)) ? 16 : 32) + (T_(GE(x, y)) ? 64 : w)) \
    X(cond_nest, EXACT, "x > 0 ? (y > 0 ? 1 : 2) : (y > 0 ? 3 : 4) + w", \
      T_(GT(x, 0)) ? (T_(GT(y, 0)) ? 1 : 2) : (T_(GT(y, 0)) ? 3 : 4) + w) \
    X(consts, EXACT, "pi * x + e", PI * x + E_) \
    X(fold, EXACT, "2 * 3 + 4 / 8 - x + (1 < 2) * sqrt(16)", \
      2.0 * 3.0 + 4.0 / 8.0 - x + LT(1.0, 2.0) * sqrt(16.0)) \
    X(fold_cond, EXACT, "(2 > 1 ? x : y) + (0 ? y : 0.25)", x + 0.25) \
    X(divzero, EXACT, "x / 0 + y / -0", x / 0.0 + y / -0.0) \
    X(nan, EXACT, "0 / 0 + x", 0.0 / 0.0 + x) \
    X(inf, EXACT, "1e308 * 10 - x", 1e308 * 10.0 - x) \
    X(sqr, EXACT, "x^2 + y^2", x * x + y * y) \
    X(cmp_chain, EXACT, "(x < y) + (y <= z) * 2 + (z == w) * 4 + (w != x) * 8", \
      LT(x, y) + LE(y, z) * 2 + EQ(z, w) * 4 + NE(w, x) * 8) \
    X(unary, EXACT, "abs(-x) - -y + +z - -(-w)", fabs(-x) - -y + +z - -(-w)) \
    X(minmax, EXACT, "max(min(x, z), min(w, y)) - min(max(x, y), -z)", \
      jmax(jmin(x, z), jmin(w, y)) - jmin(jmax(x, y), -z)) \
    X(balanced, EXACT, "(x + y) * (z + w) - (x - y) * (z - w) + (x * y) / (z * w)", \
      (x + y) * (z + w) - (x - y) * (z - w) + (x * y) / (z * w)) \
    X(deep, EXACT, \
      "y*(x-(w+(z*(y-(x+(w*(z-(y+(x*(w-(z+(y*(x-(w+(z*(y-(y+z/(w-x))))))))))))))))))", \
      y*(x-(w+(z*(y-(x+(w*(z-(y+(x*(w-(z+(y*(x-(w+(z*(y-(y+z/(w-x))))))))))))))))))) \
    X(deep_cond, EXACT, \
      "x+(y<z?w-(z+(y*(x-(w+(z*(y-(x+(w*(z-(y+(x*(x-y)))))))))))):max(z,w+(x*(y-(z+w)))))", \
      x+(T_(LT(y,z)) ?w-(z+(y*(x-(w+(z*(y-(x+(w*(z-(y+(x*(x-y)))))))))))):jmax(z,w+(x*(y-(z+w)))))) \
    X(sin, LIBM, "sin(x)", sin(x)) \
    X(cos, LIBM, "cos(x) * y", cos(x) * y) \
    X(tan, LIBM, "tan(x / 4)", tan(x / 4)) \
    X(exp, LIBM, "exp(x) - 1", exp(x) - 1) \
    X(log, LIBM, "log(abs(x) + 1)", log(fabs(x) + 1)) \
    X(pow, LIBM, "pow(abs(x), y)", pow(fabs(x), y)) \
    X(powop, LIBM, "x ^ 3 + 2 ^ -y", pow(x, 3) + pow(2, -y)) \
    X(pow2, LIBM, "pow(x, 2)", x * x) \
    X(trig, LIBM, "sin(x)^2 + cos(y)^2", sin(x) * sin(x) + cos(y) * cos(y)) \
    X(cond_libm, LIBM, "x > 0 ? log(x) : exp(x)", T_(GT(x, 0)) ? log(x) : exp(x)) \
    X(floor_libm, LIBM, "floor(sin(x) * 10) + floor(y)", floor(sin(x) * 10) + floor(y)) \
    X(deep_calls, LIBM, \
      "y*(x+(w-(z*(y+(x-(w*(z+(y-(x*(w+(z-(y*(x+(sin(w-(x*cos(y+exp(z/8))))))))))))))))))", \
      y*(x+(w-(z*(y+(x-(w*(z+(y-(x*(w+(z-(y*(x+(sin(w-(x*cos(y+exp(z/8))))))))))))))))))) \
    X(mixed, LIBM, "sqrt(x*x + y*y) * sin(z) + pow(abs(w), 0.5) - log(abs(x*y) + 1e-9)", \
      sqrt(x*x + y*y) * sin(z) + pow(fabs(w), 0.5) - log(fabs(x*y) + 1e-9))

#define X(name, cls, text, cexpr)                                   \
    static double c_##name(const double *v)                          \
    {                                                                \
        double x = v[0], y = v[1], z = v[2], w = v[3];               \
        (void)x; (void)y; (void)z; (void)w;                          \
        return (cexpr);                                              \
    }
EXPR_TABLE(X)
#undef X

typedef struct row {
    const char *name;
    int cls;
    const char *text;
    double (*c)(const double *);
} row;

static const row rows[] = {
#define X(name, cls, text, cexpr) {#name, cls, text, c_##name},
    EXPR_TABLE(X)
#undef X
};
#define NROWS (sizeof rows / sizeof rows[0])

static const char *const names[4] = {"x", "y", "z", "w"};

/* -- Helpers ------------------------------------------------------------------ */

static uint64_t bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* Own NaN and infinity tests: mingw's isnan/isinf macros trip
 * -Wfloat-conversion. */
static int is_nan(double a) { return a != a; }
static int is_inf(double a) { return !is_nan(a) && is_nan(a - a); }

/* Same value: identical bits, or both NaN. */
static int same(double a, double b) { return bits(a) == bits(b) || (is_nan(a) && is_nan(b)); }

/* Within one ulp (NaN with NaN, infinities exactly). */
static int near1(double a, double b)
{
    if (same(a, b))
        return 1;
    if (is_nan(a) || is_nan(b) || is_inf(a) || is_inf(b))
        return 0;
    if ((a < 0) != (b < 0))
        return a == b; /* +0 / -0 */
    uint64_t x = bits(fabs(a)), y = bits(fabs(b));
    return (x > y ? x - y : y - x) <= 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

static const double specials[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 7.25, 2.0, 1e-310,
                                  1e300, -1e300, INFINITY, -INFINITY, NAN, 100.0};
#define NSPEC (sizeof specials / sizeof specials[0])

static double rnd_value(void)
{
    switch (rndn(8)) {
    case 0: return specials[rndn(NSPEC)];
    case 1: return (double)(int)rndn(21) - 10.0;
    default: return ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) * 20.0;
    }
}

/* The feature sets this CPU can run. */
static uint32_t feats[3];
static unsigned nfeats;

static void setup_features(void)
{
    uint32_t cpu = jk_x86_cpu_features();
    feats[nfeats++] = cpu;
    if (cpu & JK_X86_FEAT_AVX)
        if (cpu & JK_X86_FEAT_SSE41)
            feats[nfeats++] = JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2 | JK_X86_FEAT_SSE41;
    if (cpu & (JK_X86_FEAT_AVX | JK_X86_FEAT_SSE41))
        feats[nfeats++] = JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2;
}

/* The input tuples of the table test: the specials pairwise for (x, y) with
 * a few (z, w), then random ones. */
#define NTUPLES (NSPEC * NSPEC * 4 + 2000)
static double tuples[NTUPLES][4];

static void setup_tuples(void)
{
    size_t k = 0;
    for (size_t i = 0; i < NSPEC; i++)
        for (size_t j = 0; j < NSPEC; j++)
            for (size_t m = 0; m < 4; m++, k++) {
                tuples[k][0] = specials[i];
                tuples[k][1] = specials[j];
                tuples[k][2] = specials[(i + 3 * m) % NSPEC];
                tuples[k][3] = specials[(j + 5 * m + 1) % NSPEC];
            }
    for (; k < NTUPLES; k++)
        for (unsigned v = 0; v < 4; v++)
            tuples[k][v] = rnd_value();
}

/* -- Tests ----------------------------------------------------------------------- */

static void test_table(void)
{
    JT_CHECK(NROWS >= 30);
    for (unsigned fi = 0; fi < nfeats; fi++)
        for (size_t r = 0; r < NROWS; r++) {
            expr *e;
            expr_error err;
            JT_OK(expr_compile(rows[r].text, names, 4, feats[fi], &e, &err), &err);
            expr_fn f = expr_scalar(e);
            for (size_t k = 0; k < NTUPLES; k++) {
                const double *v = tuples[k];
                double want = rows[r].c(v), got = f(v), in = expr_interp(e, v);
                int ok = rows[r].cls == EXACT ? same(got, want) : near1(got, want);
                int ok_in = rows[r].cls == EXACT ? same(in, want) : near1(in, want);
                if (!ok || !ok_in)
                    expr_free(e);
                JT_CHECK_MSG(ok, "%s [%s] (%s) at (%g, %g, %g, %g): jit %.17g (%016llx), C %.17g (%016llx)",
                             rows[r].name, rows[r].text, expr_isa(e), v[0], v[1], v[2], v[3], got,
                             (unsigned long long)bits(got), want, (unsigned long long)bits(want));
                JT_CHECK_MSG(ok_in, "%s [%s] at (%g, %g, %g, %g): interpreter %.17g, C %.17g",
                             rows[r].name, rows[r].text, v[0], v[1], v[2], v[3], in, want);
            }
            expr_free(e);
        }
}

/* The batch entry against the scalar one over arrays of `n` starting one
 * element past malloc's alignment. */
static int batch_matches(expr *e, size_t n, char *why, size_t whysz)
{
    double *in = malloc((4 * (n + 1) + 1) * sizeof *in);
    double *out = malloc((n + 2) * sizeof *out);
    if (!in || !out) {
        free(in);
        free(out);
        snprintf(why, whysz, "out of memory");
        return 0;
    }
    const double *cols[4];
    for (unsigned j = 0; j < 4; j++) {
        double *c = in + 1 + j * (n + 1);
        for (size_t i = 0; i < n; i++)
            c[i] = rnd_value();
        cols[j] = c;
    }
    out[n + 1] = 12345.0; /* nothing written past out[n] */
    expr_eval_batch(e, cols, out + 1, n);
    int ok = out[n + 1] == 12345.0;
    if (!ok)
        snprintf(why, whysz, "wrote past the end (n %zu)", n);
    expr_fn f = expr_scalar(e);
    for (size_t i = 0; ok && i < n; i++) {
        double v[4] = {cols[0][i], cols[1][i], cols[2][i], cols[3][i]};
        double s = f(v);
        if (!same(s, out[1 + i])) {
            snprintf(why, whysz, "n %zu, element %zu at (%g, %g, %g, %g): batch %.17g, scalar %.17g",
                     n, i, v[0], v[1], v[2], v[3], out[1 + i], s);
            ok = 0;
        }
    }
    free(in);
    free(out);
    return ok;
}

static void test_batch(void)
{
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33, 1001};
    for (unsigned fi = 0; fi < nfeats; fi++)
        for (size_t r = 0; r < NROWS; r++) {
            expr *e;
            expr_error err;
            JT_OK(expr_compile(rows[r].text, names, 4, feats[fi], &e, &err), &err);
            unsigned w = expr_batch_width(e);
            JT_CHECK(w == ((feats[fi] & JK_X86_FEAT_AVX) ? 4u : 2u));
            for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
                char why[256];
                int ok = batch_matches(e, lens[k], why, sizeof why);
                if (!ok)
                    expr_free(e);
                JT_CHECK_MSG(ok, "%s [%s] (%s): %s", rows[r].name, rows[r].text,
                             fi == 0 ? "cpu" : "reduced", why);
            }
            expr_free(e);
        }
}

static double eval1(const char *text, double x, double y, uint32_t f)
{
    expr *e;
    expr_error err;
    if (expr_compile(text, names, 4, f, &e, &err) != 0) {
        fprintf(stderr, "compile '%s': %s\n", text, err.message);
        return -12345.0;
    }
    double v[4] = {x, y, 0, 0};
    double r = expr_scalar(e)(v);
    expr_free(e);
    return r;
}

static void test_special(void)
{
    for (unsigned fi = 0; fi < nfeats; fi++) {
        uint32_t f = feats[fi];
        JT_CHECK(is_nan(eval1("x + y", NAN, 1, f)));
        JT_CHECK(is_nan(eval1("sqrt(x)", -1, 0, f)));
        JT_CHECK(is_nan(eval1("x * y", INFINITY, 0, f)));
        JT_CHECK(is_nan(eval1("x - y", INFINITY, INFINITY, f)));
        JT_CHECK(eval1("x / y", 1, 0, f) == INFINITY);
        JT_CHECK(eval1("x / y", -1, 0, f) == -INFINITY);
        JT_CHECK(eval1("x / y", 1, -0.0, f) == -INFINITY);
        JT_CHECK(is_nan(eval1("x / y", 0, 0, f)));
        JT_CHECK(eval1("x < y", NAN, 1, f) == 0.0);
        JT_CHECK(eval1("x >= y", NAN, 1, f) == 0.0);
        JT_CHECK(eval1("x == y", NAN, NAN, f) == 0.0);
        JT_CHECK(eval1("x != y", NAN, NAN, f) == 1.0);
        JT_CHECK(eval1("min(x, y)", NAN, 1, f) == 1.0);   /* a < b false: b */
        JT_CHECK(is_nan(eval1("min(x, y)", 1, NAN, f)));
        JT_CHECK(eval1("x ? 1 : 2", NAN, 0, f) == 1.0);  /* NaN != 0 */
        JT_CHECK(eval1("x ? 1 : 2", -0.0, 0, f) == 2.0);
        JT_CHECK(bits(eval1("-x", 0, 0, f)) == bits(-0.0));
        JT_CHECK(bits(eval1("abs(x)", -0.0, 0, f)) == bits(0.0));
        JT_CHECK(bits(eval1("floor(x)", -0.5, 0, f)) == bits(-1.0));
        JT_CHECK(bits(eval1("floor(x)", -0.0, 0, f)) == bits(-0.0));
        JT_CHECK(eval1("floor(x)", -INFINITY, 0, f) == -INFINITY);
        JT_CHECK(eval1("exp(x)", INFINITY, 0, f) == INFINITY);
        JT_CHECK(eval1("log(x)", 0, 0, f) == -INFINITY);
        JT_CHECK(is_nan(eval1("log(x)", -1, 0, f)));
        JT_CHECK(eval1("x^2", 3, 0, f) == 9.0);
        JT_CHECK(eval1("-2^2", 0, 0, f) == -4.0);
        JT_CHECK(eval1("2^3^2", 0, 0, f) == 512.0);
        JT_CHECK(eval1("2^-1", 0, 0, f) == 0.5);
    }
}

/* More live values than registers, with and without calls between them. */
static void test_spill(void)
{
    char text[4096];
    for (unsigned depth = 1; depth < 40; depth += 3)
        for (int calls = 0; calls < 2; calls++) {
            /* x1+(x2*(x3-(x4+ ... ))) with the variables cycling: every
             * right operand is an open parenthesis, so depth values are live. */
            size_t n = 0;
            const char *ops = "+*-+";
            for (unsigned k = 0; k < depth; k++)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%s%c(",
                                      calls && k % 5 == 2 ? "sin(" : "", names[k % 4], ops[k % 4]);
            n += (size_t)snprintf(text + n, sizeof text - n, "x");
            for (unsigned k = 0; k < depth; k++) {
                unsigned kk = depth - 1 - k;
                n += (size_t)snprintf(text + n, sizeof text - n, ")%s", calls && kk % 5 == 2 ? ")" : "");
            }
            for (unsigned fi = 0; fi < nfeats; fi++) {
                expr *e;
                expr_error err;
                JT_OK(expr_compile(text, names, 4, feats[fi], &e, &err), &err);
                for (unsigned t = 0; t < 50; t++) {
                    double v[4] = {rnd_value(), rnd_value(), rnd_value(), rnd_value()};
                    double got = expr_scalar(e)(v), want = expr_interp(e, v);
                    if (!same(got, want))
                        expr_free(e);
                    JT_CHECK_MSG(same(got, want), "depth %u%s: jit %.17g, interpreter %.17g (%s)",
                                 depth, calls ? " with calls" : "", got, want, text);
                }
                char why[256];
                int ok = batch_matches(e, 23, why, sizeof why);
                expr_free(e);
                JT_CHECK_MSG(ok, "depth %u batch: %s", depth, why);
            }
        }
}

/* -- Random expressions -------------------------------------------------------------- */

typedef struct sbuf {
    char s[8192];
    size_t n;
} sbuf;

static void put(sbuf *b, const char *t)
{
    size_t l = strlen(t);
    if (b->n + l < sizeof b->s) {
        memcpy(b->s + b->n, t, l);
        b->n += l;
        b->s[b->n] = '\0';
    }
}

static void space(sbuf *b)
{
    if (rndn(4) == 0)
        put(b, rndn(2) ? " " : "  ");
}

/* A random expression of the non-libm subset, fully parenthesised at
 * random (the parse, not the parentheses, is what both sides share). */
static void gen_expr(sbuf *b, unsigned depth)
{
    static const char *const nums[] = {"0", "1", "2", "0.5", "3.25", "1e-3", "2.5e2", "10", "0.1", "7"};
    static const char *const bin[] = {"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="};
    static const char *const fn1[] = {"abs", "sqrt", "floor"};
    static const char *const fn2[] = {"min", "max"};
    unsigned pick = depth == 0 ? rndn(3) : rndn(12);
    space(b);
    switch (pick) {
    case 0: put(b, names[rndn(4)]); break;
    case 1: put(b, nums[rndn(10)]); break;
    case 2: put(b, rndn(2) ? "pi" : "e"); break;
    case 3: put(b, "-"); gen_expr(b, depth - 1); break;
    case 4: case 5: case 6: case 7: {
        int paren = rndn(3) != 0;
        if (paren) put(b, "(");
        gen_expr(b, depth - 1);
        space(b);
        put(b, bin[rndn(10)]);
        gen_expr(b, depth - 1);
        if (paren) put(b, ")");
        break;
    }
    case 8:
        put(b, "(");
        gen_expr(b, depth - 1);
        put(b, " ? ");
        gen_expr(b, depth - 1);
        put(b, " : ");
        gen_expr(b, depth - 1);
        put(b, ")");
        break;
    case 9:
        put(b, fn1[rndn(3)]);
        put(b, "(");
        gen_expr(b, depth - 1);
        put(b, ")");
        break;
    case 10:
        put(b, fn2[rndn(2)]);
        put(b, "(");
        gen_expr(b, depth - 1);
        put(b, ",");
        gen_expr(b, depth - 1);
        put(b, ")");
        break;
    default:
        put(b, "(");
        gen_expr(b, depth - 1);
        put(b, ")");
        break;
    }
}

static void test_random(void)
{
    unsigned compiled = 0;
    for (unsigned it = 0; it < 600; it++) {
        sbuf b;
        b.n = 0;
        b.s[0] = '\0';
        gen_expr(&b, 1 + rndn(it % 10 == 9 ? 14 : 7));
        uint32_t f = feats[it % nfeats];
        expr *e;
        expr_error err;
        JT_CHECK_MSG(expr_compile(b.s, names, 4, f, &e, &err) == 0, "'%s': column %u: %s", b.s,
                     err.column, err.message);
        compiled++;
        for (unsigned t = 0; t < 40; t++) {
            double v[4];
            for (unsigned j = 0; j < 4; j++)
                v[j] = rnd_value();
            double got = expr_scalar(e)(v), want = expr_interp(e, v);
            if (!same(got, want))
                expr_free(e);
            JT_CHECK_MSG(same(got, want), "'%s' at (%g, %g, %g, %g): jit %.17g, interpreter %.17g",
                         b.s, v[0], v[1], v[2], v[3], got, want);
        }
        char why[256];
        int ok = batch_matches(e, 1 + rndn(20), why, sizeof why);
        expr_free(e);
        JT_CHECK_MSG(ok, "'%s': %s", b.s, why);
    }
    JT_CHECK(compiled == 600);
}

/* -- Errors ---------------------------------------------------------------------------- */

static void check_error(const char *text, unsigned col, const char *msg)
{
    expr *e = NULL;
    expr_error err;
    int rc = expr_compile(text, names, 4, 0, &e, &err);
    if (rc == 0)
        expr_free(e);
    JT_CHECK_MSG(rc != 0, "'%s' compiled", text);
    JT_CHECK_MSG(e == NULL, "'%s': handle left", text);
    JT_CHECK_MSG(err.column == col, "'%s': column %u, want %u (%s)", text, err.column, col,
                 err.message);
    JT_CHECK_MSG(strstr(err.message, msg) != NULL, "'%s': message '%s', want '%s'", text,
                 err.message, msg);
}

static int errors_failed;
#define ERR(text, col, msg)                  \
    do {                                     \
        int f0 = jt_cur_failed;              \
        jt_cur_failed = 0;                   \
        check_error(text, col, msg);         \
        if (jt_cur_failed)                   \
            errors_failed = 1;               \
        jt_cur_failed = f0 || jt_cur_failed; \
    } while (0)

static void test_errors(void)
{
    ERR("", 1, "expected a number, a name or '('");
    ERR("x + foo", 5, "unknown identifier 'foo'");
    ERR("x + foo(1)", 5, "unknown function 'foo'");
    ERR("sin(x", 4, "unbalanced parentheses: '(' is never closed");
    ERR("(x + (y)", 1, "'(' is never closed");
    ERR("x + y)", 6, "')' without '('");
    ERR(")", 1, "')' without '('");
    ERR("min(x)", 1, "min takes 2 arguments, given 1");
    ERR("sin(x, y)", 1, "sin takes 1 argument, given 2");
    ERR("pow()", 1, "pow takes 2 arguments, given 0");
    ERR("x +", 4, "found end of input");
    ERR("x y", 3, "unexpected 'y' after the expression");
    ERR("x * * y", 5, "expected a number");
    ERR("1..2", 3, "unexpected '.'");
    ERR("2e+", 2, "exponent");
    ERR("3x", 2, "letter after a number");
    ERR("x = y", 3, "'=' is not an operator");
    ERR("!x", 1, "found '!'");
    ERR("x ? y", 6, "expected ':'");
    ERR("min(x y)", 7, "expected ',' or ')'");
    ERR("x # y", 3, "unexpected '#'");
    ERR("x \x01", 3, "byte 0x01");
    ERR("sin x", 1, "function 'sin' needs its arguments in parentheses");
    ERR("x + (1 ? 2)", 11, "expected ':'");
    {
        char deep[600];
        memset(deep, '(', 300);
        deep[300] = 'x';
        memset(deep + 301, ')', 299);
        deep[600 - 1] = '\0';
        ERR(deep, 201, "nested too deeply");
    }
    {
        /* A chain of 1000 additions is too high a tree; 900 compile. */
        static char chain[4100];
        size_t n = 0;
        chain[n++] = 'x';
        for (unsigned k = 0; k < 1000; k++) {
            chain[n++] = '+';
            chain[n++] = 'y';
        }
        chain[n] = '\0';
        ERR(chain, 2 * 1000, "too deep");
        chain[1 + 2 * 900] = '\0';
        expr *e;
        expr_error err;
        JT_OK(expr_compile(chain, names, 4, 0, &e, &err), &err);
        double v[4] = {1, 2, 0, 0};
        JT_CHECK(expr_scalar(e)(v) == 1801.0);
        JT_CHECK(expr_interp(e, v) == 1801.0);
        expr_free(e);
    }
    {
        expr *e;
        expr_error err;
        const char *bad[] = {"x", "2y"};
        JT_CHECK(expr_compile("x", bad, 2, 0, &e, &err) != 0);
        JT_CONTAINS(err.message, "not an identifier");
    }
    JT_CHECK(!errors_failed);
}

/* -- Fuzz ------------------------------------------------------------------------------ */

static void test_fuzz(void)
{
    static const char alphabet[] = "xyzw0123456789.e+-*/^<>=!?:(),  sincoptaxlgqrbfmd\t#";
    static const char *const seeds[] = {
        "sin(x)*y + 1", "x < y ? min(x, z) : max(y, w) ^ 2", "floor(x * 3.5) - abs(-y)",
        "((x + y) * (z - w)) / sqrt(x*x + 1)", "pow(x, y) + exp(-z) - log(w)", "2^-x^2 != e",
    };
    unsigned ok_count = 0, err_count = 0;
    for (unsigned it = 0; it < 3000; it++) {
        char s[256];
        size_t n;
        if (it % 4 == 3) {
            n = rndn(40);
            for (size_t k = 0; k < n; k++)
                s[k] = (char)(rndn(4) == 0 ? (int)(rnd() & 0xff) : alphabet[rndn(sizeof alphabet - 1)]);
            s[n] = '\0';
            for (size_t k = 0; k < n; k++)
                if (s[k] == '\0')
                    s[k] = ' ';
        } else {
            snprintf(s, sizeof s, "%s", seeds[rndn(sizeof seeds / sizeof seeds[0])]);
            n = strlen(s);
            for (unsigned m = 1 + rndn(4); m > 0; m--) {
                size_t at = rndn((unsigned)n + 1);
                switch (rndn(3)) {
                case 0: /* delete */
                    if (at < n) {
                        memmove(s + at, s + at + 1, n - at);
                        n--;
                    }
                    break;
                case 1: /* insert */
                    if (n + 1 < sizeof s) {
                        memmove(s + at + 1, s + at, n - at + 1);
                        s[at] = alphabet[rndn(sizeof alphabet - 1)];
                        n++;
                    }
                    break;
                default: /* replace */
                    if (at < n)
                        s[at] = alphabet[rndn(sizeof alphabet - 1)];
                    break;
                }
            }
        }
        expr *e = NULL;
        expr_error err;
        if (expr_compile(s, names, 4, feats[it % nfeats], &e, &err) == 0) {
            double v[4] = {rnd_value(), rnd_value(), rnd_value(), rnd_value()};
            double got = expr_scalar(e)(v), want = expr_interp(e, v);
            int good = near1(got, want) || (is_nan(got) && is_nan(want));
            expr_free(e);
            JT_CHECK_MSG(good, "'%s': jit %.17g, interpreter %.17g", s, got, want);
            ok_count++;
        } else {
            JT_CHECK_MSG(err.column >= 1 && err.column <= n + 1 && err.message[0],
                         "'%s': column %u of %zu, '%s'", s, err.column, n, err.message);
            err_count++;
        }
    }
    printf("  fuzz: %u compiled, %u refused\n", ok_count, err_count);
    JT_CHECK(ok_count > 100 && err_count > 100);
}

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    setup_features();
    setup_tuples();
    printf("  feature sets: %u (cpu: %s)\n", nfeats,
           (feats[0] & JK_X86_FEAT_AVX) ? "avx" : "sse2");
    JT_RUN(test_table);
    JT_RUN(test_batch);
    JT_RUN(test_special);
    JT_RUN(test_spill);
    JT_RUN(test_random);
    JT_RUN(test_errors);
    JT_RUN(test_fuzz);
    return jt_finish();
}
