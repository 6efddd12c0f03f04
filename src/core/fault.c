/*
 * fault.c - the fault-injection countdown (see fault.h) and the metadata
 * allocator wrappers that honour it.
 */
#include "core/fault.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_long fault_countdown; /* 0: disarmed */
static atomic_long fault_calls;

void jk__fault_arm(long n)
{
    atomic_store(&fault_calls, 0);
    atomic_store(&fault_countdown, n);
}

long jk__fault_calls(void)
{
    return atomic_load(&fault_calls);
}

int jk__fault_hit(void)
{
    long n;
    atomic_fetch_add_explicit(&fault_calls, 1, memory_order_relaxed);
    n = atomic_load_explicit(&fault_countdown, memory_order_relaxed);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &n, n - 1))
            return n == 1;
    }
    return 0;
}

void *jk__malloc(size_t size)
{
    return jk__fault_hit() ? NULL : malloc(size);
}

void *jk__calloc(size_t n, size_t size)
{
    return jk__fault_hit() ? NULL : calloc(n, size);
}

void jk__free(void *p)
{
    free(p);
}
