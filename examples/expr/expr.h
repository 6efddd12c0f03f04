/*
 * expr.h - the expression example: a string over doubles compiled by
 * jitkit's x86 assembler into a function, plus the tree-walking
 * interpreter the compiled code is checked against.
 *
 *     text --parse--> tree (kept, for expr_interp)
 *                      |
 *                    fold (constants, with the interpreter's own C
 *                      |   operations, so folded results are bit-identical)
 *                      |
 *          +-----------+------------------+
 *     scalar entry                    batch kernel
 *     double f(const double *vars)    void k(const double *const *vars,
 *     SSE2 sd / AVX VEX forms                double *out, size_t n)
 *                                     packed: AVX ymm (4 lanes) or SSE2 (2)
 *
 * The language (whitespace anywhere between tokens):
 *
 *     cond     := equality ['?' cond ':' cond]   right-associative
 *     equality := relation (('==' | '!=') relation)*
 *     relation := sum (('<' | '<=' | '>' | '>=') sum)*
 *     sum      := term (('+' | '-') term)*
 *     term     := unary (('*' | '/') unary)*
 *     unary    := '-' unary | '+' unary | power
 *     power    := atom ['^' unary]              right-associative
 *     atom     := number | name | name '(' cond {',' cond} ')' | '(' cond ')'
 *
 * `^` binds tighter than unary minus on its left and takes a signed operand
 * on its right: -2^2 is -(2^2) = -4, 2^-1 is 0.5, 2^3^2 is 2^9 (the
 * mathematical convention; C has no operator, pow(a, b) is what it means).
 * Comparisons give 1.0 or 0.0 and are false for NaN except `!=`; `c ? a :
 * b` takes a when c != 0 (so when c is NaN), as C does. Names are the
 * variables given to expr_compile, then the constants pi and e; functions:
 * sin cos tan exp log sqrt abs floor (one argument), pow min max (two).
 * min(a, b) is `a < b ? a : b` and max(a, b) `a > b ? a : b` - exactly what
 * minsd / maxsd compute, NaN and signed zeros included (not fmin/fmax).
 *
 * Every value is what the same expression written in C computes with
 * SSE2 double arithmetic (FLT_EVAL_METHOD 0): + - * / sqrt, comparisons,
 * min, max, abs, floor and ?: bit for bit; sin cos tan exp log pow are
 * calls of the C library's functions, so they give what the program's own
 * calls give. x^2 is x*x (as gcc compiles pow(x, 2.0)).
 */
#ifndef EXPR_H
#define EXPR_H

#include <stddef.h>
#include <stdint.h>

#define EXPR_MAX_VARS 64
#define EXPR_MAX_DEPTH 1000   /* highest tree accepted (a chain a+b+c+... of 1000 terms) */
#define EXPR_MAX_NEST 200     /* deepest nesting of parentheses, signs and ?: */

typedef struct expr expr;

typedef struct expr_error {
    unsigned column;          /* 1-based column of the problem; 0 when none */
    char message[160];        /* "unknown identifier 'q'", ... */
} expr_error;

typedef double (*expr_fn)(const double *vars);
/* The batch kernel: n must be a multiple of expr_batch_width;
 * expr_eval_batch takes any n. vars[j] points to n values of variable j. */
typedef void (*expr_kernel_fn)(const double *const *vars, double *out, size_t n);

/* Compile `text` over the variables names[0..nvars-1] (nvars up to
 * EXPR_MAX_VARS; variables come before the constants pi and e). features:
 * the x86 extensions the code may use (jk_x86_feature bits; 0 = this CPU's,
 * jk_x86_cpu_features()): AVX selects VEX forms and the 4-lane batch kernel,
 * SSE4.1 inline floor (roundsd), otherwise SSE2 only. Returns 0 and *out, or
 * -1 with *err filled (column and message): bad syntax, unbalanced
 * parentheses, unknown identifiers, wrong argument counts, too deep
 * nesting, out of memory, an assembler or code heap failure. */
int expr_compile(const char *text, const char *const *names, unsigned nvars,
                 uint32_t features, expr **out, expr_error *err);

/* Parse only (no code): for expr_interp. Same errors as expr_compile. */
int expr_parse(const char *text, const char *const *names, unsigned nvars, expr **out,
               expr_error *err);

/* The compiled scalar function (NULL for a parse-only expr). */
expr_fn expr_scalar(const expr *e);

/* The batch kernel and the number of lanes it handles per step (4 AVX,
 * 2 SSE2); NULL / 0 for a parse-only expr. */
expr_kernel_fn expr_kernel(const expr *e);
unsigned expr_batch_width(const expr *e);

/* out[i] = f(vars[0][i], vars[1][i], ...) for i < n: the kernel over the
 * whole multiple of the width, then the tail through padded copies. */
void expr_eval_batch(const expr *e, const double *const *vars, double *out, size_t n);

/* Evaluate the parsed (unfolded) tree with C operations. */
double expr_interp(const expr *e, const double *vars);

/* What the code was built for ("avx, sse4.1" ...) and its size in bytes. */
const char *expr_isa(const expr *e);
size_t expr_code_size(const expr *e);

void expr_free(expr *e);

#endif
