// bench_call_asmjit.cpp - asmjit's path from source to callable, for
// bench_call.c: CodeHolder + x86::Assembler + JitRuntime::add, the call,
// JitRuntime::release. Returns ns per function.
#include <asmjit/x86.h>

#include <time.h>

static double now_ns()
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

extern "C" double jk_bench_call_asmjit_ns(long iters, long *sink)
{
    using namespace asmjit;
    JitRuntime rt;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        CodeHolder code;
        code.init(rt.environment());
        x86::Assembler as(&code);
        as.mov(x86::eax, 42);
        as.ret();
        int (*fn)(void) = nullptr;
        if (rt.add(&fn, &code) != kErrorOk)
            return -1;
        *sink += fn();
        rt.release(fn);
    }
    return (now_ns() - t0) / (double)iters;
}
