/*
 * main.c - example_expr: compile an expression and evaluate it.
 *
 *     example_expr [--interp] [--sse2] 'sin(x)*y + 1' x=0.5 y=2
 *     example_expr --batch N 'x*x + y' x=0 y=1
 *
 * The variables are the names given as name=value. The value is printed
 * with %.17g (enough digits to read back the same double). --batch N
 * evaluates over N points, variable j at point i being value_j + i/N, with
 * the batch kernel, and prints a checksum and the first and last results.
 * --interp evaluates with the tree-walking interpreter instead, --sse2
 * compiles without AVX and SSE4.1. Exit status 1 for a bad expression
 * (with the column marked under it), 2 for bad usage.
 */
#include "expr.h"

#include <jitkit/jitkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: example_expr [--interp] [--sse2] [--batch N] EXPR [name=value ...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int interp = 0, i = 1;
    uint32_t features = 0;
    long batch = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--interp") == 0)
            interp = 1;
        else if (strcmp(argv[i], "--sse2") == 0)
            features = JK_X86_FEAT_SSE | JK_X86_FEAT_SSE2;
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = strtol(argv[++i], NULL, 10);
            if (batch <= 0 || batch > 100000000)
                return usage();
        } else
            return usage();
    }
    if (i >= argc)
        return usage();
    const char *text = argv[i++];
    const char *names[EXPR_MAX_VARS];
    char namebuf[EXPR_MAX_VARS][32];
    double vals[EXPR_MAX_VARS];
    unsigned nv = 0;
    for (; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof namebuf[0] ||
            nv == EXPR_MAX_VARS)
            return usage();
        memcpy(namebuf[nv], argv[i], (size_t)(eq - argv[i]));
        namebuf[nv][eq - argv[i]] = '\0';
        names[nv] = namebuf[nv];
        vals[nv] = strtod(eq + 1, NULL);
        nv++;
    }
    expr *e;
    expr_error err;
    int rc = interp ? expr_parse(text, names, nv, &e, &err)
                    : expr_compile(text, names, nv, features, &e, &err);
    if (rc != 0) {
        fprintf(stderr, "example_expr: column %u: %s\n", err.column, err.message);
        if (err.column) {
            fprintf(stderr, "  %s\n  %*s^\n", text, (int)err.column - 1, "");
        }
        return 1;
    }
    if (batch) {
        size_t n = (size_t)batch;
        double *out = malloc(n * sizeof *out);
        double *in = malloc((nv ? nv : 1) * n * sizeof *in);
        const double *cols[EXPR_MAX_VARS];
        if (!out || !in) {
            fprintf(stderr, "example_expr: out of memory\n");
            return 1;
        }
        for (unsigned j = 0; j < nv; j++) {
            for (size_t k = 0; k < n; k++)
                in[j * n + k] = vals[j] + (double)k / (double)n;
            cols[j] = in + j * n;
        }
        if (interp) {
            double v[EXPR_MAX_VARS];
            for (size_t k = 0; k < n; k++) {
                for (unsigned j = 0; j < nv; j++)
                    v[j] = cols[j][k];
                out[k] = expr_interp(e, v);
            }
        } else {
            expr_eval_batch(e, cols, out, n);
        }
        double sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += out[k];
        printf("batch of %zu (%s): sum %.17g, first %.17g, last %.17g\n", n, expr_isa(e), sum,
               out[0], out[n - 1]);
        free(in);
        free(out);
    } else {
        double r = interp ? expr_interp(e, vals) : expr_scalar(e)(vals);
        printf("%.17g\n", r);
    }
    expr_free(e);
    return 0;
}
