/*
 * expr.c - the expression example's front half: a recursive-descent parser
 * into a node array, the C operations, constant folding, the
 * tree-walking interpreter, and the public entry points.
 *
 * Every error names the 1-based column of the token at fault. Recursion
 * is bounded: the parser counts its nesting and every node records the
 * height of its subtree, so no input (however long or deep) can exhaust the
 * stack of the parser, the interpreter or the code generator.
 */
#include "expr_impl.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned char expr_arity[EXPR_OP_COUNT] = {
#define X(name, arity) arity,
    EXPR_OPS(X)
#undef X
};

/* -- C operations ---------------------------------------------------------- */

static double op_abs(double a) { return fabs(a); }
static double op_sqrt(double a) { return sqrt(a); }
static double op_floor(double a) { return floor(a); }

expr_libm1 expr_libm_unary(expr_op op)
{
    switch (op) {
    case EXPR_SIN: return sin;
    case EXPR_COS: return cos;
    case EXPR_TAN: return tan;
    case EXPR_EXP: return exp;
    case EXPR_LOG: return log;
    case EXPR_FLOOR: return floor;
    default: return NULL;
    }
}

double expr_apply(expr_op op, double a, double b, double c)
{
    switch (op) {
    case EXPR_NEG: return -a;
    case EXPR_ABS: return op_abs(a);
    case EXPR_SQRT: return op_sqrt(a);
    case EXPR_FLOOR: return op_floor(a);
    case EXPR_SQR: return a * a;
    case EXPR_SIN: return sin(a);
    case EXPR_COS: return cos(a);
    case EXPR_TAN: return tan(a);
    case EXPR_EXP: return exp(a);
    case EXPR_LOG: return log(a);
    case EXPR_ADD: return a + b;
    case EXPR_SUB: return a - b;
    case EXPR_MUL: return a * b;
    case EXPR_DIV: return a / b;
    case EXPR_MIN: return a < b ? a : b;
    case EXPR_MAX: return a > b ? a : b;
    case EXPR_POW: return pow(a, b);
    case EXPR_LT: return a < b ? 1.0 : 0.0;
    case EXPR_LE: return a <= b ? 1.0 : 0.0;
    case EXPR_GT: return a > b ? 1.0 : 0.0;
    case EXPR_GE: return a >= b ? 1.0 : 0.0;
    case EXPR_EQ: return a == b ? 1.0 : 0.0;
    case EXPR_NE: return a != b ? 1.0 : 0.0;
    case EXPR_COND: return a != 0 ? b : c;
    default: return 0.0;
    }
}

/* -- Trees ------------------------------------------------------------------- */

void expr_tree_free(expr_tree *t)
{
    free(t->n);
    memset(t, 0, sizeof *t);
}

/* Append a node; returns its index or UINT32_MAX when out of memory. */
static uint32_t tree_add(expr_tree *t, const expr_node *nd)
{
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 32;
        if (cap > (1u << 26))
            return UINT32_MAX;
        expr_node *n = realloc(t->n, cap * sizeof *n);
        if (!n)
            return UINT32_MAX;
        t->n = n;
        t->cap = cap;
    }
    t->n[t->count] = *nd;
    return t->count++;
}

/* -- Parser ------------------------------------------------------------------ */

typedef struct parser {
    const char *s;
    size_t pos;
    const char *const *names;
    unsigned nvars;
    expr_tree *t;
    uint16_t *height;         /* per node: height of its subtree */
    uint32_t hcap;
    unsigned nest;
    int failed;
    expr_error *err;
} parser;

#define NO_NODE UINT32_MAX

static void fail_at(parser *p, size_t pos, const char *fmt, const char *arg)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (p->err) {
        p->err->column = (unsigned)(pos + 1);
        snprintf(p->err->message, sizeof p->err->message, fmt, arg ? arg : "");
    }
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Describe the token at pos for messages ("')'", "end of input"). */
static const char *tok_desc(parser *p, size_t pos, char *buf, size_t n)
{
    char c = p->s[pos];
    if (c == '\0')
        return "end of input";
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(buf, n, "byte 0x%02x", (unsigned char)c);
    else
        snprintf(buf, n, "'%c'", c);
    return buf;
}

static uint32_t node(parser *p, expr_op op, size_t pos, uint32_t a, uint32_t b, uint32_t c)
{
    if (p->failed)
        return NO_NODE;
    expr_node nd;
    memset(&nd, 0, sizeof nd);
    nd.op = (uint8_t)op;
    nd.kid[0] = a;
    nd.kid[1] = b;
    nd.kid[2] = c;
    nd.col = (uint32_t)(pos + 1);
    unsigned h = 0;
    for (unsigned k = 0; k < expr_arity[op]; k++)
        if (p->height[nd.kid[k]] > h)
            h = p->height[nd.kid[k]];
    if (h + 1 > EXPR_MAX_DEPTH) {
        fail_at(p, pos, "expression too deep (a tree of more than %s levels)", "1000");
        return NO_NODE;
    }
    uint32_t i = tree_add(p->t, &nd);
    if (i == NO_NODE) {
        fail_at(p, pos, "out of memory%s", NULL);
        return NO_NODE;
    }
    if (i >= p->hcap) {
        uint32_t cap = p->t->cap;
        uint16_t *hh = realloc(p->height, cap * sizeof *hh);
        if (!hh) {
            fail_at(p, pos, "out of memory%s", NULL);
            return NO_NODE;
        }
        p->height = hh;
        p->hcap = cap;
    }
    p->height[i] = (uint16_t)(h + 1);
    return i;
}

static uint32_t parse_cond(parser *p);
static uint32_t parse_unary(parser *p);

static const struct {
    const char *name;
    expr_op op;
    unsigned args;
} funcs[] = {
    {"sin", EXPR_SIN, 1}, {"cos", EXPR_COS, 1}, {"tan", EXPR_TAN, 1},
    {"exp", EXPR_EXP, 1}, {"log", EXPR_LOG, 1}, {"sqrt", EXPR_SQRT, 1},
    {"abs", EXPR_ABS, 1}, {"floor", EXPR_FLOOR, 1}, {"pow", EXPR_POW, 2},
    {"min", EXPR_MIN, 2}, {"max", EXPR_MAX, 2},
};

static uint32_t parse_number(parser *p)
{
    size_t start = p->pos, i = p->pos;
    while (is_digit(p->s[i]))
        i++;
    if (p->s[i] == '.') {
        i++;
        while (is_digit(p->s[i]))
            i++;
    }
    if (i == start + 1 && p->s[start] == '.') {
        fail_at(p, start, "a number needs digits around '.'%s", NULL);
        return NO_NODE;
    }
    if (p->s[i] == 'e' || p->s[i] == 'E') {
        size_t j = i + 1;
        if (p->s[j] == '+' || p->s[j] == '-')
            j++;
        if (!is_digit(p->s[j])) {
            fail_at(p, i, "the exponent of a number needs digits%s", NULL);
            return NO_NODE;
        }
        while (is_digit(p->s[j]))
            j++;
        i = j;
    }
    if (is_alpha(p->s[i])) {
        fail_at(p, i, "unexpected letter after a number%s", NULL);
        return NO_NODE;
    }
    /* strtod on a copy: it reads exactly the span checked above (no hex,
     * inf or nan spellings, whatever the C library accepts). */
    char buf[128];
    size_t len = i - start;
    if (len >= sizeof buf) {
        fail_at(p, start, "number too long%s", NULL);
        return NO_NODE;
    }
    memcpy(buf, p->s + start, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    p->pos = i;
    uint32_t k = node(p, EXPR_NUM, start, 0, 0, 0);
    if (k != NO_NODE)
        p->t->n[k].num = v;
    return k;
}

static uint32_t parse_call(parser *p, size_t start, const char *name, size_t len)
{
    unsigned f = 0;
    while (f < sizeof funcs / sizeof funcs[0] &&
           !(strlen(funcs[f].name) == len && memcmp(funcs[f].name, name, len) == 0))
        f++;
    char nm[40];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < 32 ? len : 32), name);
    if (f == sizeof funcs / sizeof funcs[0]) {
        fail_at(p, start, "unknown function '%s'", nm);
        return NO_NODE;
    }
    size_t open = p->pos;
    p->pos++; /* '(' */
    uint32_t args[3] = {0, 0, 0};
    unsigned n = 0;
    skip_ws(p);
    if (p->s[p->pos] != ')') {
        for (;;) {
            uint32_t a = parse_cond(p);
            if (p->failed)
                return NO_NODE;
            if (n < 3)
                args[n] = a;
            n++;
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            break;
        }
    }
    if (p->s[p->pos] != ')') {
        char b[16];
        if (p->s[p->pos] == '\0')
            fail_at(p, open, "unbalanced parentheses: '(' is never closed%s", NULL);
        else
            fail_at(p, p->pos, "expected ',' or ')' in the arguments, found %s",
                    tok_desc(p, p->pos, b, sizeof b));
        return NO_NODE;
    }
    if (n != funcs[f].args) {
        char msg[80];
        snprintf(msg, sizeof msg, "%s takes %u argument%s, given %u", nm, funcs[f].args,
                 funcs[f].args == 1 ? "" : "s", n);
        fail_at(p, start, "%s", msg);
        return NO_NODE;
    }
    p->pos++;
    return node(p, funcs[f].op, start, args[0], args[1], 0);
}

static uint32_t parse_atom(parser *p)
{
    skip_ws(p);
    size_t start = p->pos;
    char c = p->s[start];
    if (is_digit(c) || (c == '.' && is_digit(p->s[start + 1])))
        return parse_number(p);
    if (is_alpha(c)) {
        size_t i = start;
        while (is_alpha(p->s[i]) || is_digit(p->s[i]))
            i++;
        const char *name = p->s + start;
        size_t len = i - start;
        p->pos = i;
        skip_ws(p);
        if (p->s[p->pos] == '(')
            return parse_call(p, start, name, len);
        for (unsigned f = 0; f < sizeof funcs / sizeof funcs[0]; f++)
            if (strlen(funcs[f].name) == len && memcmp(funcs[f].name, name, len) == 0) {
                fail_at(p, start, "function '%s' needs its arguments in parentheses",
                        funcs[f].name);
                return NO_NODE;
            }
        for (unsigned v = 0; v < p->nvars; v++)
            if (strlen(p->names[v]) == len && memcmp(p->names[v], name, len) == 0) {
                uint32_t k = node(p, EXPR_VAR, start, 0, 0, 0);
                if (k != NO_NODE)
                    p->t->n[k].var = v;
                return k;
            }
        double cv = 0;
        int known = 1;
        if (len == 2 && memcmp(name, "pi", 2) == 0)
            cv = 3.14159265358979323846;
        else if (len == 1 && name[0] == 'e')
            cv = 2.71828182845904523536;
        else
            known = 0;
        if (known) {
            uint32_t k = node(p, EXPR_NUM, start, 0, 0, 0);
            if (k != NO_NODE)
                p->t->n[k].num = cv;
            return k;
        }
        char nm[40];
        snprintf(nm, sizeof nm, "%.*s", (int)(len < 32 ? len : 32), name);
        fail_at(p, start, "unknown identifier '%s'", nm);
        return NO_NODE;
    }
    if (c == '(') {
        p->pos++;
        uint32_t k = parse_cond(p);
        if (p->failed)
            return NO_NODE;
        skip_ws(p);
        if (p->s[p->pos] != ')') {
            char b[16];
            if (p->s[p->pos] == '\0')
                fail_at(p, start, "unbalanced parentheses: '(' is never closed%s", NULL);
            else
                fail_at(p, p->pos, "expected ')', found %s", tok_desc(p, p->pos, b, sizeof b));
            return NO_NODE;
        }
        p->pos++;
        return k;
    }
    char b[16];
    if (c == ')')
        fail_at(p, start, "unbalanced parentheses: ')' without '('%s", NULL);
    else
        fail_at(p, start, "expected a number, a name or '(', found %s",
                tok_desc(p, start, b, sizeof b));
    return NO_NODE;
}

static uint32_t parse_power(parser *p)
{
    uint32_t a = parse_atom(p);
    if (p->failed)
        return NO_NODE;
    skip_ws(p);
    if (p->s[p->pos] == '^') {
        size_t at = p->pos++;
        if (++p->nest > EXPR_MAX_NEST) {
            fail_at(p, at, "expression nested too deeply (more than %s levels)", "200");
            return NO_NODE;
        }
        uint32_t b = parse_unary(p);
        p->nest--;
        return node(p, EXPR_POW, at, a, b, 0);
    }
    return a;
}

static uint32_t parse_unary(parser *p)
{
    skip_ws(p);
    if (p->s[p->pos] == '-' || p->s[p->pos] == '+') {
        size_t at = p->pos;
        int neg = p->s[p->pos] == '-';
        p->pos++;
        if (++p->nest > EXPR_MAX_NEST) {
            fail_at(p, at, "expression nested too deeply (more than %s levels)", "200");
            return NO_NODE;
        }
        uint32_t a = parse_unary(p);
        p->nest--;
        return neg ? node(p, EXPR_NEG, at, a, 0, 0) : a;
    }
    return parse_power(p);
}

static uint32_t parse_term(parser *p)
{
    uint32_t a = parse_unary(p);
    for (;;) {
        if (p->failed)
            return NO_NODE;
        skip_ws(p);
        char c = p->s[p->pos];
        if (c != '*' && c != '/')
            return a;
        size_t at = p->pos++;
        uint32_t b = parse_unary(p);
        a = node(p, c == '*' ? EXPR_MUL : EXPR_DIV, at, a, b, 0);
    }
}

static uint32_t parse_sum(parser *p)
{
    uint32_t a = parse_term(p);
    for (;;) {
        if (p->failed)
            return NO_NODE;
        skip_ws(p);
        char c = p->s[p->pos];
        if (c != '+' && c != '-')
            return a;
        size_t at = p->pos++;
        uint32_t b = parse_term(p);
        a = node(p, c == '+' ? EXPR_ADD : EXPR_SUB, at, a, b, 0);
    }
}

static uint32_t parse_relation(parser *p)
{
    uint32_t a = parse_sum(p);
    for (;;) {
        if (p->failed)
            return NO_NODE;
        skip_ws(p);
        char c = p->s[p->pos];
        if (c != '<' && c != '>')
            return a;
        size_t at = p->pos++;
        int eq = p->s[p->pos] == '=';
        if (eq)
            p->pos++;
        uint32_t b = parse_sum(p);
        expr_op op = c == '<' ? (eq ? EXPR_LE : EXPR_LT) : (eq ? EXPR_GE : EXPR_GT);
        a = node(p, op, at, a, b, 0);
    }
}

static uint32_t parse_equality(parser *p)
{
    uint32_t a = parse_relation(p);
    for (;;) {
        if (p->failed)
            return NO_NODE;
        skip_ws(p);
        char c = p->s[p->pos];
        if ((c != '=' && c != '!') || p->s[p->pos + 1] != '=') {
            if (c == '=' || c == '!') {
                fail_at(p, p->pos, c == '=' ? "'=' is not an operator (comparison is '==')%s"
                                            : "'!' is not an operator (did you mean '!=')%s",
                        NULL);
                return NO_NODE;
            }
            return a;
        }
        size_t at = p->pos;
        p->pos += 2;
        uint32_t b = parse_relation(p);
        a = node(p, c == '=' ? EXPR_EQ : EXPR_NE, at, a, b, 0);
    }
}

static uint32_t parse_cond(parser *p)
{
    if (++p->nest > EXPR_MAX_NEST) {
        fail_at(p, p->pos, "expression nested too deeply (more than %s levels)", "200");
        return NO_NODE;
    }
    uint32_t c = parse_equality(p);
    if (!p->failed) {
        skip_ws(p);
        if (p->s[p->pos] == '?') {
            size_t at = p->pos++;
            uint32_t a = parse_cond(p);
            if (!p->failed) {
                skip_ws(p);
                if (p->s[p->pos] != ':') {
                    char b[16];
                    fail_at(p, p->pos, "expected ':' of '?', found %s",
                            tok_desc(p, p->pos, b, sizeof b));
                } else {
                    p->pos++;
                    uint32_t b = parse_cond(p);
                    c = node(p, EXPR_COND, at, c, a, b);
                }
            }
        }
    }
    p->nest--;
    return p->failed ? NO_NODE : c;
}

static int parse_into(const char *text, const char *const *names, unsigned nvars,
                      expr_tree *t, expr_error *err)
{
    if (err) {
        err->column = 0;
        err->message[0] = '\0';
    }
    memset(t, 0, sizeof *t);
    parser p;
    memset(&p, 0, sizeof p);
    p.s = text ? text : "";
    p.names = names;
    p.nvars = nvars;
    p.t = t;
    p.err = err;
    if (nvars > EXPR_MAX_VARS) {
        fail_at(&p, 0, "too many variables (at most %s)", "64");
        return -1;
    }
    for (unsigned v = 0; v < nvars; v++) {
        const char *nm = names[v];
        int ok = nm && is_alpha(nm[0]);
        for (size_t i = 0; ok && nm[i]; i++)
            ok = is_alpha(nm[i]) || is_digit(nm[i]);
        if (!ok) {
            fail_at(&p, 0, "variable name '%s' is not an identifier", nm ? nm : "(null)");
            return -1;
        }
    }
    uint32_t root = parse_cond(&p);
    if (!p.failed) {
        skip_ws(&p);
        if (p.s[p.pos] != '\0') {
            char b[16];
            if (p.s[p.pos] == ')')
                fail_at(&p, p.pos, "unbalanced parentheses: ')' without '('%s", NULL);
            else
                fail_at(&p, p.pos, "unexpected %s after the expression",
                        tok_desc(&p, p.pos, b, sizeof b));
        }
    }
    free(p.height);
    if (p.failed) {
        expr_tree_free(t);
        return -1;
    }
    t->root = root;
    return 0;
}

/* -- Folding and lowering ----------------------------------------------------- */

/* Structurally equal subtrees (the same value: every operation is pure
 * and deterministic). Depth is bounded by the tree's height. */
static int same_tree(const expr_tree *t, uint32_t a, uint32_t b)
{
    if (a == b)
        return 1;
    const expr_node *x = &t->n[a], *y = &t->n[b];
    if (x->op != y->op)
        return 0;
    if (x->op == EXPR_NUM)
        return memcmp(&x->num, &y->num, sizeof x->num) == 0;
    if (x->op == EXPR_VAR)
        return x->var == y->var;
    for (unsigned k = 0; k < expr_arity[x->op]; k++)
        if (!same_tree(t, x->kid[k], y->kid[k]))
            return 0;
    return 1;
}

int expr_lower(const expr_tree *in, expr_tree *out)
{
    memset(out, 0, sizeof *out);
    if (!in->count)
        return -1;
    uint32_t *map = malloc(in->count * sizeof *map);
    if (!map)
        return -1;
    /* Children precede parents, so one pass in order sees folded kids. */
    for (uint32_t i = 0; i < in->count; i++) {
        expr_node nd = in->n[i];
        unsigned ar = expr_arity[nd.op];
        int all_const = ar > 0;
        for (unsigned k = 0; k < ar; k++) {
            nd.kid[k] = map[nd.kid[k]];
            if (out->n[nd.kid[k]].op != EXPR_NUM)
                all_const = 0;
        }
        /* x^2 with a literal 2 is x*x, in the interpreter too (gcc's
         * reading of pow(x, 2.0); the C library's pow may differ by an ulp). */
        if (nd.op == EXPR_POW && in->n[in->n[i].kid[1]].op == EXPR_NUM &&
            in->n[in->n[i].kid[1]].num == 2.0) {
            nd.op = EXPR_SQR;
            ar = 1;
            all_const = out->n[nd.kid[0]].op == EXPR_NUM;
        }
        if (all_const) {
            double a = out->n[nd.kid[0]].num;
            double b = ar > 1 ? out->n[nd.kid[1]].num : 0;
            double c = ar > 2 ? out->n[nd.kid[2]].num : 0;
            nd.num = expr_apply((expr_op)nd.op, a, b, c);
            nd.op = EXPR_NUM;
        } else if (nd.op == EXPR_COND && out->n[nd.kid[0]].op == EXPR_NUM) {
            /* A constant condition picks its side. */
            map[i] = out->n[nd.kid[0]].num != 0 ? nd.kid[1] : nd.kid[2];
            continue;
        } else if (nd.op == EXPR_MUL && same_tree(out, nd.kid[0], nd.kid[1])) {
            nd.op = EXPR_SQR; /* sin(x)*sin(x): one call, as gcc's CSE makes it */
        } else if (nd.op == EXPR_GT || nd.op == EXPR_GE) {
            uint32_t t = nd.kid[0];
            nd.kid[0] = nd.kid[1];
            nd.kid[1] = t;
            nd.op = nd.op == EXPR_GT ? EXPR_LT : EXPR_LE;
        }
        if (nd.op == EXPR_NUM || nd.op == EXPR_VAR)
            memset(nd.kid, 0, sizeof nd.kid);
        uint32_t k = tree_add(out, &nd);
        if (k == NO_NODE) {
            free(map);
            expr_tree_free(out);
            return -1;
        }
        map[i] = k;
    }
    out->root = map[in->root];
    free(map);
    return 0;
}

/* -- Interpreter -------------------------------------------------------------- */

static double interp(const expr_tree *t, uint32_t i, const double *vars)
{
    const expr_node *nd = &t->n[i];
    switch (nd->op) {
    case EXPR_NUM: return nd->num;
    case EXPR_VAR: return vars[nd->var];
    case EXPR_COND:
        /* Only the side taken is evaluated (no side effects either way). */
        return interp(t, nd->kid[0], vars) != 0 ? interp(t, nd->kid[1], vars)
                                                : interp(t, nd->kid[2], vars);
    default: break;
    }
    double a = interp(t, nd->kid[0], vars);
    if (nd->op == EXPR_POW && t->n[nd->kid[1]].op == EXPR_NUM && t->n[nd->kid[1]].num == 2.0)
        return a * a;
    double b = expr_arity[nd->op] > 1 ? interp(t, nd->kid[1], vars) : 0.0;
    return expr_apply((expr_op)nd->op, a, b, 0.0);
}

double expr_interp(const expr *e, const double *vars)
{
    return interp(&e->tree, e->tree.root, vars);
}

/* -- Public entry points ------------------------------------------------------ */

/* jk_x86_cpu_features runs CPUID each time, which a hypervisor may trap
 * (tens of microseconds): read once. Racing first calls store the same
 * value. */
static uint32_t cpu_features(void)
{
    static atomic_uint cached;
    uint32_t f = (uint32_t)atomic_load_explicit(&cached, memory_order_relaxed);
    if (!f) {
        f = jk_x86_cpu_features() | 0x80000000u;
        atomic_store_explicit(&cached, f, memory_order_relaxed);
    }
    return f & ~0x80000000u;
}

int expr_parse(const char *text, const char *const *names, unsigned nvars, expr **out,
               expr_error *err)
{
    *out = NULL;
    expr *e = calloc(1, sizeof *e);
    if (!e) {
        if (err) {
            err->column = 0;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return -1;
    }
    if (parse_into(text, names, nvars, &e->tree, err) != 0) {
        free(e);
        return -1;
    }
    e->nvars = nvars;
    snprintf(e->isa, sizeof e->isa, "interpreter");
    *out = e;
    return 0;
}

int expr_compile(const char *text, const char *const *names, unsigned nvars,
                 uint32_t features, expr **out, expr_error *err)
{
    if (expr_parse(text, names, nvars, out, err) != 0)
        return -1;
    expr *e = *out;
    expr_tree low;
    if (expr_lower(&e->tree, &low) != 0) {
        if (err) {
            err->column = 0;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        expr_free(e);
        *out = NULL;
        return -1;
    }
    if (features == 0)
        features = cpu_features();
    int rc = expr_jit_build(e, &low, features, err);
    expr_tree_free(&low);
    if (rc != 0) {
        expr_free(e);
        *out = NULL;
        return -1;
    }
    return 0;
}

expr_fn expr_scalar(const expr *e)
{
    expr_fn f = NULL;
    if (e && e->scalar)
        memcpy(&f, &e->scalar, sizeof f);
    return f;
}

expr_kernel_fn expr_kernel(const expr *e)
{
    expr_kernel_fn f = NULL;
    if (e && e->kernel)
        memcpy(&f, &e->kernel, sizeof f);
    return f;
}

unsigned expr_batch_width(const expr *e) { return e && e->kernel ? e->width : 0; }

void expr_eval_batch(const expr *e, const double *const *vars, double *out, size_t n)
{
    expr_kernel_fn k = expr_kernel(e);
    if (!k)
        return;
    size_t w = e->width, body = n - n % w;
    if (body)
        k(vars, out, body);
    if (body == n)
        return;
    /* The tail: each variable's last values copied into a full vector
     * (padded with the last value, so the spare lanes compute something
     * ordinary), the kernel run once, the wanted lanes copied out. */
    double pad[EXPR_MAX_VARS][8], res[8];
    const double *ptr[EXPR_MAX_VARS];
    for (unsigned j = 0; j < e->nvars; j++) {
        for (size_t l = 0; l < w; l++)
            pad[j][l] = vars[j][body + (l < n - body ? l : n - body - 1)];
        ptr[j] = pad[j];
    }
    k(ptr, res, w);
    memcpy(out + body, res, (n - body) * sizeof *out);
}

const char *expr_isa(const expr *e) { return e ? e->isa : ""; }
size_t expr_code_size(const expr *e) { return e ? e->code_size : 0; }

void expr_free(expr *e)
{
    if (!e)
        return;
    expr_jit_release(e);
    expr_tree_free(&e->tree);
    free(e);
}
