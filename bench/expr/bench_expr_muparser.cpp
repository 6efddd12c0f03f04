/*
 * bench_expr_muparser.cpp - muparser's side of bench_expr (Debian's
 * libmuparser-dev), behind a C interface. Each parser has the variables
 * x, y, z, w bound to its own storage (or, for bulk mode, to the input
 * arrays), the constants pi and e, and pow and floor as functions (muparser
 * spells the first `^` and lacks the second).
 *
 * Debian builds muparser with OpenMP; its bulk mode would use every core,
 * so the bulk parser is limited to one thread, as the other engines run.
 */
#include <muParser.h>

#include <cmath>
#include <cstdio>
#include <cstring>

extern "C" void omp_set_num_threads(int);

namespace {

double f_pow(double a, double b) { return std::pow(a, b); }
double f_floor(double a) { return std::floor(a); }

struct mup {
    mu::Parser p;
    double vars[4];
};

bool setup(mup *m, const char *text, double *const *bind, char *err, size_t errsz)
{
    try {
        static const char *const names[4] = {"x", "y", "z", "w"};
        for (int j = 0; j < 4; j++)
            m->p.DefineVar(names[j], bind ? bind[j] : &m->vars[j]);
        m->p.DefineConst("pi", 3.14159265358979323846);
        m->p.DefineConst("e", 2.71828182845904523536);
        m->p.DefineFun("pow", f_pow);
        m->p.DefineFun("floor", f_floor);
        m->p.SetExpr(text);
        m->p.Eval();
    } catch (mu::Parser::exception_type &ex) {
        std::snprintf(err, errsz, "%s", ex.GetMsg().c_str());
        return false;
    }
    return true;
}

} // namespace

extern "C" {

void *jk_bench_mup_new(const char *text, char *err, size_t errsz)
{
    mup *m = new mup();
    if (!setup(m, text, nullptr, err, errsz)) {
        delete m;
        return nullptr;
    }
    return m;
}

/* Bulk mode: variable j is read from cols[j][i] for evaluation i. */
void *jk_bench_mup_new_bulk(const char *text, double *const *cols, char *err, size_t errsz)
{
    omp_set_num_threads(1);
    mup *m = new mup();
    if (!setup(m, text, cols, err, errsz)) {
        delete m;
        return nullptr;
    }
    return m;
}

double jk_bench_mup_eval(void *h, const double *v)
{
    mup *m = static_cast<mup *>(h);
    std::memcpy(m->vars, v, sizeof m->vars);
    return m->p.Eval();
}

void jk_bench_mup_bulk(void *h, double *out, int n)
{
    static_cast<mup *>(h)->p.Eval(out, n);
}

/* Parse `text` again and evaluate once (muparser builds its bytecode on
 * the first evaluation). */
double jk_bench_mup_recompile(void *h, const char *text)
{
    mup *m = static_cast<mup *>(h);
    m->p.SetExpr(text);
    return m->p.Eval();
}

void jk_bench_mup_free(void *h) { delete static_cast<mup *>(h); }

} // extern "C"
