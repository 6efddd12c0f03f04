/*
 * jitkit/heap.h - a code heap: thousands of small functions in shared pages.
 *
 * jk_mem (mem.h) hands out whole pages; installing a 16-byte function that
 * way costs a page and three system calls. The heap packs functions of any
 * size into shared *chunks* (256 KiB by default) and installs them with no
 * system call at all in the common case:
 *
 *     chunk (exec view)   |f1|f2|..|f3|  free  |f4|   ...never RWX
 *                          ^16-byte granules; metadata (bit maps, page
 *                           states, owners) lives in ordinary malloc memory
 *
 * Use:
 *
 *     jk_heap *h;  jk_heap_new(&h, NULL, &err);
 *     void *fn;    jk_heap_install(h, code, len, &fn, &err);   // one shot
 *     ((int (*)(void))fn)();
 *     jk_heap_free(h, fn, &err);
 *     jk_heap_destroy(h, &err);
 *
 * or, to install many functions with one protection change, a write window:
 *
 *     jk_heap_window *w;  jk_heap_window_begin(h, &w, &err);
 *     jk_heap_slot s;     jk_heap_alloc(w, len, 0, &s, &err);
 *     memcpy(s.write, code, len);                    // ... more allocs
 *     jk_heap_window_commit(w, &err);                // s.exec now callable
 *
 * -- W^X, per strategy ---------------------------------------------------
 * No page is ever writable and executable at the same time, in any mapping.
 *
 *   DUAL  (the default wherever the OS offers it) every chunk is mapped
 *         twice: RW and RX views of the same pages. Code is written through
 *         slot.write and runs at slot.exec; installs, frees, trap fills and
 *         patches never change a protection, so they never disturb code
 *         running anywhere in the heap. The RW view sits at an unrelated
 *         address (and, on Linux, is not inherited across fork()).
 *   FLIP  one mapping per chunk; pages are switched RW <-> RX. THE RULE:
 *         the heap only ever makes a page writable when no live published
 *         function lies on it. New code goes to pages that are still
 *         unpublished (owned by exactly one open window) or completely free;
 *         a window's commit turns its pages RX with one mprotect per run of
 *         pages. Hence a function running in a chunk never faults because
 *         another function is installed, committed or freed next to it.
 *         Costs of the rule: code freed on a page that still holds live code
 *         is overwritten with traps only once the whole page is free (the
 *         page is then made non-executable at once); a one-shot install
 *         publishes a page for itself (batch installs in windows under
 *         FLIP); patching published code needs the page writable, see the
 *         patch functions.
 *   MAP_JIT is not supported by the heap (JK_EUNSUPPORTED).
 *
 * -- Hardening -------------------------------------------------------------
 * Freed code is overwritten with trap instructions (int3 on x86, brk #0 on
 * AArch64), as are new chunks, so a stale pointer traps instead of running
 * someone else's code. Frees pass through a small quarantine (free_batch,
 * 256 frees or 64 KiB of code per arena by default): a freed function's old
 * code stays in place, and its memory is not reused, until later frees have
 * pushed it out; then it is overwritten. jk_heap_trim() finishes all pending frees. Writing
 * traps over code the CPU has only just executed makes it flush its
 * pipeline (~200-300 ns per free measured); the quarantine avoids that. Set
 * free_batch = 1 to overwrite at once. Nor is freed space handed out again
 * at once: each chunk allocates next-fit from a rotating cursor, so memory
 * that was just executed is reused only after the cursor has gone round the
 * chunk (FIFO). Optional guard pages (JK_HEAP_GUARD_PAGES) bracket every
 * chunk.
 *
 * -- Emulators ----------------------------------------------------------------
 * qemu-user does not see code rewritten through the DUAL write view at an
 * address it has already translated: under it, reusing or patching code
 * that has run keeps running the old code. Use FLIP there (docs/heap.md).
 *
 * -- fork() (POSIX) ---------------------------------------------------------
 * In the child of a fork() every DUAL chunk is given a private copy of its
 * code at the same address and its write view is replaced by an inaccessible
 * placeholder: the child can keep calling the functions it inherited, the
 * parent's later installs, frees and patches do not change them, and the
 * child holds no writable view of the parent's code. Inherited chunks are
 * sealed in the child (no new code is placed there; patching them reports
 * JK_ESTATE; freeing is accepted); new installs in the child get new chunks.
 * The copy is made in the child's fork handler while the parent waits for
 * it (holding the heap's locks), so fork() costs time proportional to the
 * code in DUAL heaps; a process that only forks to exec can skip the copy
 * and the wait with JK_HEAP_FORK_NO_COPY (its child must then not run heap
 * code: the parent may change it). posix_spawn/vfork run no fork handlers.
 * The parent's heap is untouched and keeps working.
 *
 * -- Threads ----------------------------------------------------------------
 * Every function may be called from any thread. The heap is split into
 * arenas, each with its own lock and chunks; a thread prefers its own arena
 * and moves on to another if that one is busy, so concurrent installs do not
 * queue on one global lock. Finding the chunk of a pointer (free, patch) is
 * lock-free. What the caller must guarantee:
 *   - a function is freed only when no thread can still call it, and only
 *     once; its exec pointer reaches other threads through the caller's own
 *     synchronisation (a mutex, or an atomic store-release/load-acquire);
 *   - one window is used by one thread at a time;
 *   - a function being freed is not patched at the same time.
 *
 * Errors: every fallible call returns a jk_status and fills the optional
 * jk_error. The heap never prints, aborts or exits.
 */
#ifndef JITKIT_HEAP_H
#define JITKIT_HEAP_H

#include "jitkit/mem.h"
#include "jitkit/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jk_heap jk_heap;
typedef struct jk_heap_window jk_heap_window;

/* Where chunks are placed relative to the near target. */
typedef enum jk_heap_near {
    JK_HEAP_NEAR_PREFER,  /* try within +-2 GiB of the target, else anywhere
                             (slot.is_near / jk_heap_is_near tell); after a
                             refusal near placement is tried again only when
                             a new chunk is needed - default */
    JK_HEAP_NEAR_REQUIRE, /* only within +-2 GiB: allocations that cannot be
                             placed there fail with JK_ENOTNEAR */
    JK_HEAP_NEAR_ANY,     /* no placement wish */
    JK_HEAP_NEAR_COUNT
} jk_heap_near;

/* Option flags (jk_heap_options.flags). */
#define JK_HEAP_GUARD_PAGES   0x01u /* an inaccessible page before and after
                                       every chunk */
#define JK_HEAP_NO_TRAP_FILL  0x02u /* leave freed code in place (faster frees,
                                       weaker hardening) */
#define JK_HEAP_REUSE_LIFO    0x04u /* hand out the lowest free address first,
                                       i.e. re-use just-freed code at once
                                       (implies free_batch 1); for
                                       measurements only - it makes the CPU
                                       flush its pipeline on every install */
#define JK_HEAP_FORK_NO_COPY  0x08u /* see "fork()" above */

typedef struct jk_heap_options {
    jk_mem_strategy strategy; /* AUTO: DUAL where available, else FLIP; FLIP
                                 under JITKIT_GDB=1 (gdb cannot write its
                                 breakpoints into DUAL's shared exec view) */
    size_t chunk_size;        /* bytes per chunk, rounded up to pages;
                                 0: 256 KiB. Larger functions get a chunk of
                                 their own. */
    size_t align;             /* default alignment of functions, a power of
                                 two from 16 to the page size; 0: 16 */
    const void *near_to;      /* target of near placement; NULL: the host
                                 program's code */
    jk_heap_near near_mode;   /* default JK_HEAP_NEAR_PREFER */
    unsigned arenas;          /* independent arenas (1..64); 0: 8 */
    unsigned max_spare;       /* empty chunks each arena keeps mapped before
                                 returning them to the OS; 0: 1 */
    unsigned free_batch;      /* quarantine depth: when this many frees
                                 wait in an arena, the oldest quarter of
                                 them is processed (traps written, memory
                                 made reusable), so each free waits for
                                 3/4 to all of free_batch later frees, or
                                 less when the arena's quarantine holds 64
                                 KiB of code; 0: 256, 1: at once, max 4096.
                                 Under FLIP one at a time, on the
                                 free_batch-th later free */
    unsigned flags;           /* JK_HEAP_* flags */
} jk_heap_options;

/* A piece of code memory handed out inside a window. */
typedef struct jk_heap_slot {
    void *write;  /* write the code here; writable until the window commits
                     (under DUAL it stays writable, but use the patch
                     functions for changes after the commit) */
    void *exec;   /* call it here once the window has committed */
    size_t size;  /* usable bytes: the request rounded up to 16 */
    int is_near;  /* 1 if the whole slot lies within +-2 GiB of the near
                     target (always 1 on 32-bit targets: rel32 wraps) */
} jk_heap_slot;

typedef struct jk_heap_stats {
    size_t bytes_in_use;     /* live functions, rounded up to 16 bytes */
    size_t bytes_reserved;   /* code memory mapped, guard pages included */
    size_t bytes_metadata;   /* allocator bookkeeping in ordinary memory */
    size_t functions;        /* live functions */
    size_t chunks;           /* chunks mapped */
    size_t empty_chunks;     /* of those, holding no function */
    uint64_t os_calls;       /* jk_mem operations that reach the OS so far
                                (map, unmap, protect; a DUAL map is a few
                                system calls) */
    uint64_t installs;       /* allocations so far */
    uint64_t frees;          /* frees so far */
    uint64_t patches;        /* patch calls so far */
    double overhead;         /* (reserved + metadata) / in_use; 0 if empty */
} jk_heap_stats;

/* -- Life cycle -------------------------------------------------------- */

/* Create a heap. opt may be NULL (all defaults). No memory is mapped until
 * the first allocation. On success *out owns the heap.
 * JK_EINVAL (bad alignment, chunk size, arena count, near mode, flags),
 * JK_EUNSUPPORTED (strategy not available, MAP_JIT), JK_ENOMEM. */
JK_API jk_status jk_heap_new(jk_heap **out, const jk_heap_options *opt, jk_error *err);

/* Unmap every chunk and free the heap. Every function in it becomes
 * invalid; no thread may use the heap or its code any more. Open windows
 * must have been committed. NULL is accepted. Returns the first unmap
 * failure (JK_EOS); the heap is freed regardless. */
JK_API jk_status jk_heap_destroy(jk_heap *h, jk_error *err);

/* The process-wide default heap (all default options), created on first
 * use; thread-safe. It lives until the process ends: never destroy it.
 * The one-call install paths use it when given no heap. Fails like
 * jk_heap_new (JK_ENOMEM, JK_EUNSUPPORTED) and then tries again next time. */
JK_API jk_status jk_heap_default(jk_heap **out, jk_error *err);

/* The strategy the heap's chunks use: JK_MEM_DUAL or JK_MEM_FLIP. */
JK_API jk_mem_strategy jk_heap_strategy(const jk_heap *h);

/* -- Installing code ---------------------------------------------------- */

/* Copy `size` bytes of code into the heap and publish them: *exec receives
 * the address to call. Needs no system call under DUAL (unless a chunk must
 * be mapped); under FLIP it is one window (two protection changes).
 * JK_EINVAL (size 0), JK_ENOMEM, JK_EOS, JK_EPOLICY, JK_ENOTNEAR (near mode
 * REQUIRE and no reachable memory). Thread-safe. */
JK_API jk_status jk_heap_install(jk_heap *h, const void *code, size_t size, void **exec,
                                 jk_error *err);

/* Open a write window: allocations made in it stay writable and
 * unpublished until jk_heap_window_commit(), which must be called (it also
 * frees the handle). Allocates a small handle: JK_ENOMEM. A window belongs
 * to one thread at a time; any number of windows may be open at once (each
 * gets pages of its own under FLIP). */
JK_API jk_status jk_heap_window_begin(jk_heap *h, jk_heap_window **out, jk_error *err);

/* Reserve `size` bytes in window w, aligned to `align` (0: the heap's
 * default; a power of two up to the page size). Write the code at
 * out->write; it may be called at out->exec after the commit.
 * JK_EINVAL, JK_ENOMEM, JK_EOS, JK_EPOLICY, JK_ENOTNEAR. */
JK_API jk_status jk_heap_alloc(jk_heap_window *w, size_t size, size_t align, jk_heap_slot *out,
                               jk_error *err);

/* Publish everything allocated in w (FLIP: one protection change per run
 * of pages; DUAL: only an instruction-cache flush) and free the handle,
 * also on failure. On failure (JK_EOS, JK_EPOLICY) the slots stay allocated
 * but are not executable: free them. */
JK_API jk_status jk_heap_window_commit(jk_heap_window *w, jk_error *err);

/* Free the function starting at `exec` (as returned by install or alloc).
 * The memory is overwritten with traps (see above) and reused later.
 * JK_EINVAL if exec is not the start of a live function of this heap
 * (double frees are caught while the memory is not reused). */
JK_API jk_status jk_heap_free(jk_heap *h, void *exec, jk_error *err);

/* Finish all pending frees (see free_batch), then return every empty chunk
 * to the OS now, ignoring max_spare. */
JK_API jk_status jk_heap_trim(jk_heap *h, jk_error *err);

/* -- Patching ---------------------------------------------------------------
 * All patch functions take exec addresses inside one live function and
 * flush the instruction cache of the range they change. */

/* Atomically replace the aligned 4- or 8-byte value at `exec` (a call
 * target, a rel32 displacement, a literal-pool entry): threads running the
 * code see the old or the new value, never a mix, and are never stopped.
 * Needs the DUAL strategy once the function is published (JK_EUNSUPPORTED
 * under FLIP: making the page writable would fault threads running on it;
 * unpublished slots may be patched under both strategies).
 * JK_EINVAL if exec is misaligned or not inside a live function. */
JK_API jk_status jk_heap_patch32(jk_heap *h, void *exec, uint32_t value, jk_error *err);
JK_API jk_status jk_heap_patch64(jk_heap *h, void *exec, uint64_t value, jk_error *err);

/* Copy n bytes to `exec` inside one live function. Not atomic: no thread
 * may run the changed bytes meanwhile. Under FLIP a published page is made
 * writable for the copy, so no thread may run code on the same page(s)
 * during the call; under DUAL other code keeps running.
 * JK_EINVAL (range not inside one live function), JK_ESTATE (chunk sealed
 * by fork), JK_EOS, JK_EPOLICY. */
JK_API jk_status jk_heap_patch(jk_heap *h, void *exec, const void *src, size_t n,
                               jk_error *err);

/* -- Queries ---------------------------------------------------------------- */

/* 1 if [exec, exec+size) lies within +-2 GiB of the heap's near target,
 * i.e. a rel32 branch between them reaches. Always 1 on 32-bit targets. */
JK_API int jk_heap_is_near(const jk_heap *h, const void *exec, size_t size);

/* The near target in use (the host program's code unless set). */
JK_API const void *jk_heap_near_target(const jk_heap *h);

/* Snapshot of the counters; exact when no other thread uses the heap,
 * otherwise each field is a recent value. Thread-safe. */
JK_API void jk_heap_stats_get(jk_heap *h, jk_heap_stats *out);

#ifdef __cplusplus
}
#endif
#endif
