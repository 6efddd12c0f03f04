/*
 * bench_expr.c - the expression example against muparser and gcc -O2, in
 * one run, over the expressions of exprs.h (short, long, libm-heavy,
 * branchy) and 1024 random points:
 *
 *   per evaluation   jitkit: the compiled scalar entry, f(&point[i]);
 *                    gcc_O2: the same expression as C (bench_expr_c.c, -O2),
 *                    called through a function-pointer table from here;
 *                    muparser: the point copied into its bound variables,
 *                    Eval(). Best of 5 interleaved rounds, ns per
 *                    evaluation, then the geometric mean over the set.
 *   batch            jitkit: expr_eval_batch over the arrays (AVX: 4 lanes,
 *                    SSE2: 2); muparser: its bulk mode Eval(out, n), one
 *                    thread. Evaluations per second, geometric mean.
 *   compile          jitkit: expr_compile (parse, fold, both entries
 *                    assembled and installed in the code heap) + expr_free;
 *                    muparser: SetExpr + the first Eval (which builds its
 *                    bytecode). Microseconds, geometric mean.
 *
 *   BENCH expr.ns_per_eval.{jitkit,gcc_O2,muparser}        ns
 *   BENCH expr.batch_evals_per_s.{jitkit,muparser}        evals/s
 *   BENCH expr.compile_us.{jitkit,muparser}               us
 *   BENCH expr.ratio.jitkit_over_gcc_O2, expr.ratio.muparser_over_jitkit  x
 */
#define _POSIX_C_SOURCE 200809L
#include "expr.h"
#include "exprs.h"

#include <jitkit/jitkit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const bench_c_fn bench_c_fns[BENCH_EXPR_COUNT];

#ifdef JK_BENCH_MUPARSER
void *jk_bench_mup_new(const char *text, char *err, size_t errsz);
void *jk_bench_mup_new_bulk(const char *text, double *const *cols, char *err, size_t errsz);
double jk_bench_mup_eval(void *h, const double *v);
void jk_bench_mup_bulk(void *h, double *out, int n);
double jk_bench_mup_recompile(void *h, const char *text);
void jk_bench_mup_free(void *h);
#endif

static const struct {
    const char *name, *text;
} exprs[BENCH_EXPR_COUNT] = {
#define X(name, text, c) {#name, text},
    BENCH_EXPRS(X)
#undef X
};

#define NPTS 1024
#define REPS 100
#define ROUNDS 5
enum { JIT, GCC, MUP, NENG };
static const char *const engine[NENG] = {"jitkit", "gcc_O2", "muparser"};

static double pts[NPTS][4];
static double colv[4][NPTS];
static double outv[NPTS];
static volatile double sink;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rs = 0x2545f4914f6cdd1dull;
static double urand(double lo, double hi)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return lo + (hi - lo) * (double)(rs >> 11) / 9007199254740992.0;
}

static double geomean(const double *v, int n)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > 0) {
            s += log(v[i]);
            k++;
        }
    return k ? exp(s / k) : 0;
}

int main(void)
{
    static const char *const names[4] = {"x", "y", "z", "w"};
    expr *e[BENCH_EXPR_COUNT];
    void *mup[BENCH_EXPR_COUNT], *mupb[BENCH_EXPR_COUNT];
    double ns[NENG][BENCH_EXPR_COUNT], batch[2][BENCH_EXPR_COUNT], comp[2][BENCH_EXPR_COUNT];
    int have_mup = 0;
    for (int i = 0; i < NPTS; i++) {
        pts[i][0] = urand(0.1, 2.0);
        pts[i][1] = urand(0.1, 2.0);
        pts[i][2] = urand(-1.0, 1.0);
        pts[i][3] = urand(-1.0, 1.0);
        for (int j = 0; j < 4; j++)
            colv[j][i] = pts[i][j];
    }
    const double *cols[4] = {colv[0], colv[1], colv[2], colv[3]};
    double *mcols[4] = {colv[0], colv[1], colv[2], colv[3]};
#ifdef JK_BENCH_MUPARSER
    have_mup = 1;
#endif
    for (int k = 0; k < BENCH_EXPR_COUNT; k++) {
        expr_error err;
        if (expr_compile(exprs[k].text, names, 4, 0, &e[k], &err) != 0) {
            fprintf(stderr, "bench_expr: %s: column %u: %s\n", exprs[k].text, err.column,
                    err.message);
            return 1;
        }
        mup[k] = mupb[k] = NULL;
#ifdef JK_BENCH_MUPARSER
        char msg[256];
        mup[k] = jk_bench_mup_new(exprs[k].text, msg, sizeof msg);
        mupb[k] = jk_bench_mup_new_bulk(exprs[k].text, mcols, msg, sizeof msg);
        if (!mup[k] || !mupb[k]) {
            fprintf(stderr, "bench_expr: muparser: %s: %s\n", exprs[k].text, msg);
            return 1;
        }
#else
        (void)mcols;
#endif
    }
    if (!have_mup)
        printf("bench_expr: muparser not built in (libmuparser-dev missing); its figures are left out\n");
    printf("bench_expr: %d expressions, %s\n", BENCH_EXPR_COUNT, expr_isa(e[0]));

    /* The three agree (muparser's libm calls may round differently). */
    for (int k = 0; k < BENCH_EXPR_COUNT; k++)
        for (int i = 0; i < 64; i++) {
            double a = expr_scalar(e[k])(pts[i]), b = bench_c_fns[k](pts[i]);
            double c = b;
#ifdef JK_BENCH_MUPARSER
            c = jk_bench_mup_eval(mup[k], pts[i]);
#endif
            if (a != b || fabs(c - b) > 1e-12 * fabs(b) + 1e-300) {
                printf("WARNING: %s at point %d: jitkit %.17g, gcc %.17g, muparser %.17g\n",
                       exprs[k].name, i, a, b, c);
                break;
            }
        }

    for (int g = 0; g < NENG; g++)
        for (int k = 0; k < BENCH_EXPR_COUNT; k++)
            ns[g][k] = 1e30;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < BENCH_EXPR_COUNT; k++)
            for (int g = 0; g < NENG; g++) {
                if (g == MUP && !have_mup)
                    continue;
                expr_fn f = expr_scalar(e[k]);
                bench_c_fn c = bench_c_fns[k];
                double s = 0, t0 = now_ns();
                for (int rep = 0; rep < (g == MUP ? REPS / 10 : REPS); rep++)
                    for (int i = 0; i < NPTS; i++) {
                        if (g == JIT)
                            s += f(pts[i]);
                        else if (g == GCC)
                            s += c(pts[i]);
#ifdef JK_BENCH_MUPARSER
                        else
                            s += jk_bench_mup_eval(mup[k], pts[i]);
#endif
                    }
                double t = (now_ns() - t0) / ((double)NPTS * (g == MUP ? REPS / 10 : REPS));
                sink += s;
                if (t < ns[g][k])
                    ns[g][k] = t;
            }

    /* Batch. */
    for (int k = 0; k < BENCH_EXPR_COUNT; k++) {
        batch[0][k] = batch[1][k] = 0;
        for (int r = 0; r < ROUNDS; r++)
            for (int g = 0; g < 2; g++) {
                if (g == 1 && !have_mup)
                    continue;
                int reps = g == 0 ? REPS : REPS / 10;
                double t0 = now_ns();
                for (int rep = 0; rep < reps; rep++) {
                    if (g == 0)
                        expr_eval_batch(e[k], cols, outv, NPTS);
#ifdef JK_BENCH_MUPARSER
                    else
                        jk_bench_mup_bulk(mupb[k], outv, NPTS);
#endif
                    sink += outv[rep % NPTS];
                }
                double eps = (double)NPTS * reps / ((now_ns() - t0) * 1e-9);
                if (eps > batch[g][k])
                    batch[g][k] = eps;
            }
    }

    /* Compile. */
    for (int k = 0; k < BENCH_EXPR_COUNT; k++) {
        comp[0][k] = comp[1][k] = 1e30;
        for (int r = 0; r < ROUNDS; r++) {
            const int n = 50;
            double t0 = now_ns();
            for (int i = 0; i < n; i++) {
                expr *x;
                expr_error err;
                if (expr_compile(exprs[k].text, names, 4, 0, &x, &err) == 0) {
                    sink += expr_scalar(x)(pts[i]);
                    expr_free(x);
                }
            }
            double t = (now_ns() - t0) / n / 1e3;
            if (t < comp[0][k])
                comp[0][k] = t;
#ifdef JK_BENCH_MUPARSER
            t0 = now_ns();
            for (int i = 0; i < n; i++)
                sink += jk_bench_mup_recompile(mup[k], exprs[k].text);
            t = (now_ns() - t0) / n / 1e3;
            if (t < comp[1][k])
                comp[1][k] = t;
#endif
        }
    }

    printf("%-10s %9s %9s %9s %8s %8s %12s %12s %8s %8s\n", "expr", "jit ns", "gcc ns",
           "mup ns", "jit/gcc", "mup/jit", "jit batch/s", "mup batch/s", "jit us", "mup us");
    for (int k = 0; k < BENCH_EXPR_COUNT; k++)
        printf("%-10s %9.2f %9.2f %9.2f %8.2f %8.2f %12.3g %12.3g %8.2f %8.2f\n", exprs[k].name,
               ns[JIT][k], ns[GCC][k], have_mup ? ns[MUP][k] : 0.0, ns[JIT][k] / ns[GCC][k],
               have_mup ? ns[MUP][k] / ns[JIT][k] : 0.0, batch[0][k], batch[1][k], comp[0][k],
               have_mup ? comp[1][k] : 0.0);
    double g[NENG];
    for (int x = 0; x < NENG; x++)
        g[x] = geomean(ns[x], BENCH_EXPR_COUNT);
    printf("%-10s %9.2f %9.2f %9.2f %8.2f %8.2f %12.3g %12.3g %8.2f %8.2f\n", "geomean", g[JIT],
           g[GCC], have_mup ? g[MUP] : 0.0, g[JIT] / g[GCC], have_mup ? g[MUP] / g[JIT] : 0.0,
           geomean(batch[0], BENCH_EXPR_COUNT), geomean(batch[1], BENCH_EXPR_COUNT),
           geomean(comp[0], BENCH_EXPR_COUNT), have_mup ? geomean(comp[1], BENCH_EXPR_COUNT) : 0.0);
    for (int x = 0; x < NENG; x++)
        if (x != MUP || have_mup)
            printf("BENCH expr.ns_per_eval.%s %.2f ns\n", engine[x], g[x]);
    printf("BENCH expr.batch_evals_per_s.jitkit %.4g evals/s\n", geomean(batch[0], BENCH_EXPR_COUNT));
    if (have_mup)
        printf("BENCH expr.batch_evals_per_s.muparser %.4g evals/s\n",
               geomean(batch[1], BENCH_EXPR_COUNT));
    printf("BENCH expr.compile_us.jitkit %.2f us\n", geomean(comp[0], BENCH_EXPR_COUNT));
    if (have_mup)
        printf("BENCH expr.compile_us.muparser %.2f us\n", geomean(comp[1], BENCH_EXPR_COUNT));
    printf("BENCH expr.ratio.jitkit_over_gcc_O2 %.2f x\n", g[JIT] / g[GCC]);
    if (have_mup)
        printf("BENCH expr.ratio.muparser_over_jitkit %.2f x\n", g[MUP] / g[JIT]);
    for (int k = 0; k < BENCH_EXPR_COUNT; k++) {
        expr_free(e[k]);
#ifdef JK_BENCH_MUPARSER
        jk_bench_mup_free(mup[k]);
        jk_bench_mup_free(mupb[k]);
#endif
    }
    return 0;
}
