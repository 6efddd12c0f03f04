// bench_heap_asmjit.cpp - the asmjit side of bench_heap: install + call +
// free of one function through asmjit's JitRuntime (asmjit 1.9 API).
//
//   alloc: rt.allocator()->alloc(rx, rw, size), copy through rw, call rx,
//          rt.allocator()->release(rx) - the pure install path, the same
//          work jk_heap_install does;
//   add:   the usual API path: CodeHolder + embed the bytes + rt.add() +
//          call + rt.release().
// do_call = 0 leaves out the call (allocator cost alone).
// dual = 1 uses JitAllocatorOptions::kUseDualMapping (W^X), 0 asmjit's
// default (one RWX mapping).
#include <asmjit/core.h>
#include <asmjit/x86.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

static double now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef int (*fn_t)(void);

extern "C" double jk_bench_asmjit_ns(const unsigned char *code, size_t size, long iters,
                                     int dual, int use_add, int do_call, long *sink)
{
    using namespace asmjit;
    JitAllocator::CreateParams p{};
    if (dual)
        p.options = JitAllocatorOptions::kUseDualMapping | JitAllocatorOptions::kFillUnusedMemory;
    JitRuntime rt(&p);
    long s = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        void *rx = nullptr, *rw = nullptr;
        if (use_add) {
            CodeHolder ch;
            ch.init(rt.environment());
            x86::Assembler a(&ch);
            a.embed(code, size);
            fn_t f;
            if (rt.add(&f, &ch) != kErrorOk)
                return -1.0;
            s += f();
            rt.release(f);
        } else {
            if (rt.allocator()->alloc(&rx, &rw, size) != kErrorOk)
                return -1.0;
            memcpy(rw, code, size);
            fn_t f;
            memcpy(&f, &rx, sizeof f);
            if (do_call)
                s += f();
            rt.allocator()->release(rx);
        }
    }
    double t1 = now_ns();
    *sink += s;
    return (t1 - t0) / (double)iters;
}
