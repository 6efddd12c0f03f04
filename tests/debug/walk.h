/*
 * walk.h - the stack walk the unwind tests share: a host callback that
 * records _Unwind_Backtrace's frames, called by JIT code of the shape
 *
 *     intptr_t outer(intptr_t (*cb)(intptr_t), intptr_t v) { return cb(v) + 1; }
 *
 * from a real C frame (walk_caller), and whether the walk went from a JIT
 * range into that caller.
 */
#ifndef WALK_H
#define WALK_H

#include <stdint.h>
#include <string.h>
#include <unwind.h>

typedef intptr_t (*walk_cb)(intptr_t);
typedef intptr_t (*walk_outer)(walk_cb, intptr_t);

static void *walk_trace[64];
static int walk_n;

static _Unwind_Reason_Code walk_collect(struct _Unwind_Context *ctx, void *arg)
{
    (void)arg;
    if (walk_n < 64)
        walk_trace[walk_n++] = (void *)_Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}

/* The callback: walks the stack, returns v + 100. */
static intptr_t walk_cb_trace(intptr_t v)
{
    walk_n = 0;
    _Unwind_Backtrace(walk_collect, NULL);
    return v + 100;
}

/* A real frame below the JIT one (no tail call). */
__attribute__((noinline)) intptr_t walk_caller(walk_outer f, intptr_t v);
__attribute__((noinline)) intptr_t walk_caller(walk_outer f, intptr_t v)
{
    volatile intptr_t r = f(walk_cb_trace, v);
    return r;
}

static int walk_in(void *pc, const void *start, size_t size)
{
    uintptr_t p = (uintptr_t)pc - 1, s = (uintptr_t)start;
    return p >= s && p < s + size;
}

/* Index of the first frame in [code, code+size), or -1. */
static int walk_find(const void *code, size_t size)
{
    for (int i = 0; i < walk_n; i++)
        if (walk_in(walk_trace[i], code, size))
            return i;
    return -1;
}

/* Did the last walk go from the JIT range into walk_caller? */
static int walk_through(const void *code, size_t size)
{
    intptr_t (*fc)(walk_outer, intptr_t) = walk_caller;
    void *c;
    int i = walk_find(code, size);
    memcpy(&c, &fc, sizeof c);
    return i >= 0 && i + 1 < walk_n && walk_in(walk_trace[i + 1], c, 256);
}

#endif
