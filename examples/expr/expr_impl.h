/*
 * expr_impl.h - what the parser (expr.c) and the code generator
 * (expr_jit.c) share: the tree and the C operations both the interpreter
 * and constant folding use.
 *
 * A tree is an array of nodes; children are indices into it, always lower
 * than their parent's (the root is last).
 */
#ifndef EXPR_IMPL_H
#define EXPR_IMPL_H

#include "expr.h"

#include <jitkit/jitkit.h>

/* Node kinds. The calls (EXPR_SIN .. EXPR_POW) are libm functions; the
 * rest is computed inline. EXPR_SQR (x*x) and EXPR_GT/GE swapped into
 * LT/LE appear only in the compiled tree. */
#define EXPR_OPS(X) \
    X(NUM, 0) X(VAR, 0) \
    X(NEG, 1) X(ABS, 1) X(SQRT, 1) X(FLOOR, 1) X(SQR, 1) \
    X(SIN, 1) X(COS, 1) X(TAN, 1) X(EXP, 1) X(LOG, 1) \
    X(ADD, 2) X(SUB, 2) X(MUL, 2) X(DIV, 2) X(MIN, 2) X(MAX, 2) X(POW, 2) \
    X(LT, 2) X(LE, 2) X(GT, 2) X(GE, 2) X(EQ, 2) X(NE, 2) \
    X(COND, 3)

typedef enum expr_op {
#define X(name, arity) EXPR_##name,
    EXPR_OPS(X)
#undef X
    EXPR_OP_COUNT
} expr_op;

typedef struct expr_node {
    uint8_t op;               /* expr_op */
    uint32_t kid[3];          /* children (arity of the op) */
    uint32_t var;             /* EXPR_VAR: index */
    uint32_t col;             /* 1-based column of the token */
    double num;               /* EXPR_NUM */
} expr_node;

typedef struct expr_tree {
    expr_node *n;
    uint32_t count, cap;
    uint32_t root;
} expr_tree;

struct expr {
    expr_tree tree;           /* as parsed */
    unsigned nvars;
    uint32_t features;        /* what the code was built for */
    void *scalar;             /* in the code heap; NULL for parse-only */
    void *kernel;
    unsigned width;
    size_t code_size;
    char isa[64];
};

extern const unsigned char expr_arity[EXPR_OP_COUNT];

/* The C operation of a node kind (the interpreter's and folding's). */
double expr_apply(expr_op op, double a, double b, double c);

/* libm entry points the generated code calls (1- or 2-argument). */
typedef double (*expr_libm1)(double);
typedef double (*expr_libm2)(double, double);
expr_libm1 expr_libm_unary(expr_op op);

/* Fold constants and rewrite for code generation (x^2 -> SQR, a > b -> b
 * < a) into a new tree. Returns 0 or -1 (out of memory). */
int expr_lower(const expr_tree *in, expr_tree *out);
void expr_tree_free(expr_tree *t);

/* expr_jit.c: build both entries of e from the lowered tree. */
int expr_jit_build(expr *e, const expr_tree *t, uint32_t features, expr_error *err);
void expr_jit_release(expr *e);

#endif
