/*
 * mem/heap_p.h - private parts of the code heap shared between the portable
 * core (heap.c) and its per-OS helpers (heap_os_posix.c, heap_os_windows.c).
 *
 * The per-OS contract is small:
 *
 *   jk__heap_os_yield        give the CPU away while waiting for a lock
 *   jk__heap_os_host_code    an address inside the host program's code
 *   jk__heap_os_fork_init    register the fork handlers once (POSIX)
 *   jk__heap_os_fork_fix     in a fork child: give a DUAL chunk a private
 *                            copy of its code, drop its write view
 *
 * and the fork handlers it calls back (jk__heap_fork_*) live in heap.c.
 */
#ifndef JK_MEM_HEAP_P_H
#define JK_MEM_HEAP_P_H

#include "jitkit/heap.h"

#include <stdatomic.h>
#include <stddef.h>

/* jk_heap_install for code whose bytes depend on where it lands (an
 * assembler's relocations): `write` fills the `cap` bytes at `wr`, which run
 * at `ex`, and returns JK_OK or a status; with JK_ENOSPACE it sets *need
 * (larger than before: a writer's code only grows) and the install is tried
 * again with that size. On any failure the memory is freed and the status
 * returned. */
typedef jk_status (*jk__heap_write_fn)(void *ctx, void *wr, void *ex, size_t cap, size_t *need);
jk_status jk__heap_install_with(jk_heap *h, size_t size, jk__heap_write_fn write, void *ctx,
                                void **exec, jk_error *err);

/* -- A small lock ---------------------------------------------------------
 * Held for a few hundred nanoseconds at most in the DUAL fast path, so a
 * test-and-test-and-set lock beats a mutex (its release is a plain store).
 * Waiters spin briefly, then yield the CPU so an oversubscribed machine does
 * not burn the holder's time slice. */
typedef struct jk__heap_lock {
    atomic_int v;
} jk__heap_lock;

void jk__heap_os_yield(void);

static inline void jk__heap_cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__i386__) || defined(__x86_64__))
    __builtin_ia32_pause();
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline int jk__heap_lock_try(jk__heap_lock *l)
{
    int expected = 0;
    return atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
           atomic_compare_exchange_strong_explicit(&l->v, &expected, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void jk__heap_lock_acquire(jk__heap_lock *l)
{
    unsigned spins = 0;
    while (!jk__heap_lock_try(l)) {
        if (++spins < 100)
            jk__heap_cpu_relax();
        else
            jk__heap_os_yield();
    }
}

static inline void jk__heap_lock_release(jk__heap_lock *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* -- Per-OS helpers -------------------------------------------------------- */

/* An address inside the host program's code (the main executable), used as
 * the default near target. Never NULL. */
const void *jk__heap_os_host_code(void);

/* Register jk__heap_fork_prepare/parent/child with the OS once per process.
 * No-op where there is no fork(). */
void jk__heap_os_fork_init(void);

/* In a fork child: [rx, rx+size) is the exec view of a DUAL chunk and
 * [rw, rw+size) its write view (the latter possibly already gone, see
 * MADV_DONTFORK). Replace the write view with an inaccessible placeholder of
 * the same size (so a later unmap of it cannot hit anything else). If `copy`,
 * replace the exec view's pages [guard, size-guard) with a private copy of
 * their contents (RW while copying, then RX; never both) and its guard pages
 * with inaccessible private pages. Best effort: returns 0 on success, -1 if
 * some step failed (the write view is dropped first in any case). */
int jk__heap_os_fork_fix(char *rx, char *rw, size_t size, size_t guard, int copy);

/* Fork handlers (heap.c). needs_sync (called after prepare): nonzero if the
 * child will copy DUAL chunks, so the parent must wait for it. */
void jk__heap_fork_prepare(void);
int jk__heap_fork_needs_sync(void);
void jk__heap_fork_parent(void);
void jk__heap_fork_child(void);

#endif
