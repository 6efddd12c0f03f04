/*
 * heap.c - the code heap (see include/jitkit/heap.h for the contract).
 *
 *   jk_heap
 *    +- arenas[0..n)     each: lock, ring of chunks, rotating current index,
 *    |                   counters. A thread prefers arena (its slot % n) and
 *    |                   moves to the next free one when that is busy.
 *    +- chunk table      sorted [exec_lo, exec_hi) -> chunk, read lock-free
 *    |                   (seqlock over atomics; grown arrays are retired,
 *    |                   not freed, until the heap goes)
 *    +- registry link    for the fork handlers
 *
 *   chunk = one jk_mem block:  [guard][ granule 0 | granule 1 | ... ][guard]
 *     used  bit map   1 = granule belongs to a function
 *     start bit map   1 = first granule of a function (free finds the size by
 *                     scanning to the next start or free granule)
 *     cursor          next-fit position: allocation searches from here to
 *                     the end, and only then from the start (FIFO reuse)
 *     FLIP only, per page: state (W = writable, unpublished / X = published),
 *                     live granule count, owning window id
 *
 * Locks: an arena lock protects its chunks' metadata; the table lock
 * protects table updates and is only taken inside an arena lock; the
 * registry lock is outermost. The fork "prepare" handler takes all of them
 * in that order.
 */
#include "mem/heap_p.h"

#include "core/error.h"
#include "core/fault.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GRANULE       16u
#define GRANULE_SHIFT 4u
#define DEFAULT_CHUNK ((size_t)256 * 1024)
#define DEFAULT_ARENAS 8u
#define MAX_ARENAS    64u
#define NONE32        UINT32_MAX
#define DEFAULT_FREE_BATCH 256u
#define QUARANTINE_BYTES ((size_t)64 * 1024) /* > a typical 32 KiB L1i */
#define NEAR_REACH    ((uint64_t)0x7fff0000u) /* rel32 reach, a little slack */

enum { PAGE_W = 0, PAGE_X = 1 };

typedef struct arena arena;

typedef struct chunk {
    void *meta_base;        /* the one allocation holding all of the below */
    jk_mem *mem;
    char *rx, *rw;          /* usable area (after the leading guard page) */
    size_t size;            /* usable bytes */
    size_t map_size;        /* whole block */
    size_t guard;           /* guard bytes at each end (0 or a page) */
    size_t meta_bytes;
    arena *arena;
    uint32_t ngran, nfree, cursor, live, npages, pins;
    uint32_t gpp;           /* granules per page */
    uint64_t *used, *start; /* ngran bits each */
    uint64_t *pend;         /* start granules of frees not yet processed */
    uint32_t *page_live;    /* FLIP */
    uint32_t *page_owner;   /* FLIP */
    uint8_t *page_state;    /* FLIP */
    unsigned is_near : 1, sealed : 1, dedicated : 1;
} chunk;

typedef struct pend_ent {
    chunk *c;
    uint32_t g, e;
} pend_ent;

struct arena {
    jk__heap_lock lock;
    jk_heap *heap;
    chunk **ring;
    uint32_t n, cap, cur, nempty;
    pend_ent *pend;  /* quarantine: a ring of free_batch accepted frees */
    uint32_t npend, phead;
    size_t pend_bytes; /* code bytes waiting in the quarantine */
    int near_failed; /* PREFER: the last near placement failed */
    /* counters, under the lock */
    uint64_t in_use_gran, installs, frees, os_calls;
    size_t reserved, meta;
    char pad[64];
};

typedef struct tbl_entry {
    _Atomic uintptr_t lo, hi;
    _Atomic(chunk *) c;
} tbl_entry;

typedef struct tbl_array {
    struct tbl_array *retired_next;
    uint32_t cap;
    tbl_entry e[];
} tbl_array;

struct jk_heap {
    jk_mem_strategy strategy;
    int flip;
    unsigned flags;
    jk_heap_near near_mode;
    const void *near_to;
    size_t page, chunk_size, align, max_spare;
    uint32_t free_batch;
    unsigned narenas;
    arena *arenas;

    jk__heap_lock tbl_lock;
    atomic_uint tbl_seq;
    _Atomic(tbl_array *) tbl;
    atomic_uint tbl_n;
    tbl_array *retired;
    size_t tbl_bytes; /* current and retired arrays, under tbl_lock */

    atomic_uint next_wid;
    atomic_ullong patches;

    jk_heap *reg_prev, *reg_next;
};

/* A window's record of one contiguous allocation range in one chunk. */
typedef struct win_rec {
    chunk *c;
    uint32_t lo, hi; /* granules */
} win_rec;

struct jk_heap_window {
    jk_heap *h;
    uint32_t wid;
    uint32_t n, cap;
    win_rec *recs;
    win_rec inline_recs[4];
    int on_heap;
};

/* -- Small helpers ------------------------------------------------------- */

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static int is_pow2(size_t x)
{
    return x && !(x & (x - 1));
}

static unsigned ctz64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

/* First granule in [from, limit) whose bit in (bm XOR invert) is 1, or limit. */
static uint32_t bm_scan(const uint64_t *bm, uint64_t invert, uint32_t from, uint32_t limit)
{
    uint32_t w, i = from;
    uint64_t bits;
    if (i >= limit)
        return limit;
    w = i >> 6;
    bits = (bm[w] ^ invert) & (~(uint64_t)0 << (i & 63));
    for (;;) {
        if (bits) {
            uint32_t r = (w << 6) + ctz64(bits);
            return r < limit ? r : limit;
        }
        w++;
        if ((w << 6) >= limit)
            return limit;
        bits = bm[w] ^ invert;
    }
}

static uint32_t next_used(const uint64_t *bm, uint32_t from, uint32_t limit)
{
    return bm_scan(bm, 0, from, limit);
}

static uint32_t next_free(const uint64_t *bm, uint32_t from, uint32_t limit)
{
    return bm_scan(bm, ~(uint64_t)0, from, limit);
}

static inline void bm_set_range(uint64_t *bm, uint32_t lo, uint32_t hi, int on)
{
    if (hi - lo < 64 && (lo >> 6) == ((hi - 1) >> 6)) { /* the usual case */
        uint64_t mask = (((uint64_t)1 << (hi - lo)) - 1) << (lo & 63);
        if (on)
            bm[lo >> 6] |= mask;
        else
            bm[lo >> 6] &= ~mask;
        return;
    }
    while (lo < hi) {
        uint32_t w = lo >> 6, b = lo & 63;
        uint32_t cnt = 64 - b < hi - lo ? 64 - b : hi - lo;
        uint64_t mask = (cnt == 64 ? ~(uint64_t)0 : (((uint64_t)1 << cnt) - 1)) << b;
        if (on)
            bm[w] |= mask;
        else
            bm[w] &= ~mask;
        lo += cnt;
    }
}

static int bm_get(const uint64_t *bm, uint32_t i)
{
    return (int)((bm[i >> 6] >> (i & 63)) & 1);
}

static void bm_set1(uint64_t *bm, uint32_t i)
{
    bm[i >> 6] |= (uint64_t)1 << (i & 63);
}

static void bm_clear1(uint64_t *bm, uint32_t i)
{
    bm[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* 1 if no bit of [lo, hi) is set. */
static int bm_range_clear(const uint64_t *bm, uint32_t lo, uint32_t hi)
{
    while (lo < hi) {
        uint32_t w = lo >> 6, b = lo & 63;
        uint32_t cnt = 64 - b < hi - lo ? 64 - b : hi - lo;
        uint64_t mask = (cnt == 64 ? ~(uint64_t)0 : (((uint64_t)1 << cnt) - 1)) << b;
        if (bm[w] & mask)
            return 0;
        lo += cnt;
    }
    return 1;
}

/* Fill code memory with trap instructions. */
static void trap_fill(void *p, size_t n)
{
#if defined(__i386__) || defined(__x86_64__) || defined(_M_IX86) || defined(_M_X64)
    if (n <= 64) { /* functions are granule multiples: 16-byte steps */
        static const uint64_t cc = 0xccccccccccccccccull;
        char *q = p;
        for (size_t i = 0; i + 8 <= n; i += 8)
            memcpy(q + i, &cc, 8);
        return;
    }
    memset(p, 0xCC, n); /* int3 */
#elif defined(__aarch64__) || defined(_M_ARM64)
    uint32_t brk = 0xd4200000u; /* brk #0 */
    char *q = p;
    for (size_t i = 0; i + 4 <= n; i += 4)
        memcpy(q + i, &brk, 4);
#else
    memset(p, 0, n);
#endif
}

/* Instruction-cache maintenance after writing code: x86 keeps fetch coherent
 * with stores (also through the DUAL alias), so nothing to call there. */
static void flush_code(const void *p, size_t n)
{
#if defined(__i386__) || defined(__x86_64__) || defined(_M_IX86) || defined(_M_X64)
    (void)p;
    (void)n;
#else
    jk_mem_flush_icache(p, n);
#endif
}

static int reach_ok(const jk_heap *h, uintptr_t lo, uintptr_t hi)
{
    uintptr_t t = (uintptr_t)h->near_to;
    if (sizeof(void *) < 8)
        return 1; /* rel32 wraps around the whole address space */
    if (lo <= t && t <= hi)
        return (uint64_t)(hi - lo) <= NEAR_REACH;
    if (hi < t)
        return (uint64_t)(t - lo) <= NEAR_REACH;
    return (uint64_t)(hi - t) <= NEAR_REACH;
}

/* -- Thread slots and arenas ------------------------------------------------ */

static atomic_uint next_thread_slot;
static _Thread_local unsigned thread_slot;

static unsigned my_slot(void)
{
    unsigned s = thread_slot;
    if (!s) {
        s = atomic_fetch_add_explicit(&next_thread_slot, 1, memory_order_relaxed) + 1;
        if (!s)
            s = 1;
        thread_slot = s;
    }
    return s - 1;
}

/* Lock and return an arena: this thread's own if free, else any free one,
 * else wait for its own. */
static arena *arena_pick(jk_heap *h)
{
    unsigned n = h->narenas, slot = my_slot();
    /* Threads created one after another get distinct arenas; no division
     * for the usual power-of-two count. */
    unsigned i = (n & (n - 1)) == 0 ? slot & (n - 1) : slot % n;
    for (unsigned k = 0; k < n; k++) {
        arena *a = &h->arenas[(i + k) % n];
        if (jk__heap_lock_try(&a->lock))
            return a;
    }
    jk__heap_lock_acquire(&h->arenas[i].lock);
    return &h->arenas[i];
}

/* -- Chunk table (lock-free lookup) ------------------------------------------ */

static void tbl_write_begin(jk_heap *h)
{
    unsigned s = atomic_load_explicit(&h->tbl_seq, memory_order_relaxed);
    atomic_store_explicit(&h->tbl_seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void tbl_write_end(jk_heap *h)
{
    unsigned s = atomic_load_explicit(&h->tbl_seq, memory_order_relaxed);
    atomic_store_explicit(&h->tbl_seq, s + 1, memory_order_release);
}

static void entry_copy(tbl_entry *dst, tbl_entry *src)
{
    atomic_store_explicit(&dst->lo, atomic_load_explicit(&src->lo, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&dst->hi, atomic_load_explicit(&src->hi, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&dst->c, atomic_load_explicit(&src->c, memory_order_relaxed),
                          memory_order_relaxed);
}

/* Insert c; the caller holds c's arena lock. JK_ENOMEM if the table could
 * not grow. */
static jk_status tbl_insert(jk_heap *h, chunk *c, jk_error *err)
{
    tbl_array *t;
    uint32_t n, pos;
    uintptr_t lo = (uintptr_t)c->rx;

    jk__heap_lock_acquire(&h->tbl_lock);
    t = atomic_load_explicit(&h->tbl, memory_order_relaxed);
    n = atomic_load_explicit(&h->tbl_n, memory_order_relaxed);
    if (!t || n == t->cap) {
        uint32_t cap = t ? t->cap * 2 : 16;
        tbl_array *nt = jk__malloc(sizeof *nt + cap * sizeof(tbl_entry));
        if (!nt) {
            jk__heap_lock_release(&h->tbl_lock);
            return jk__fail(err, JK_ENOMEM, "code heap: cannot grow the chunk table");
        }
        nt->cap = cap;
        nt->retired_next = NULL;
        for (uint32_t i = 0; i < n; i++)
            entry_copy(&nt->e[i], &t->e[i]);
        /* Readers may still be searching the old array: keep it. */
        if (t) {
            t->retired_next = h->retired;
            h->retired = t;
        }
        h->tbl_bytes += sizeof *nt + cap * sizeof(tbl_entry);
        atomic_store_explicit(&h->tbl, nt, memory_order_release);
        t = nt;
    }
    for (pos = 0; pos < n; pos++)
        if (atomic_load_explicit(&t->e[pos].lo, memory_order_relaxed) > lo)
            break;
    tbl_write_begin(h);
    for (uint32_t i = n; i > pos; i--)
        entry_copy(&t->e[i], &t->e[i - 1]);
    atomic_store_explicit(&t->e[pos].lo, lo, memory_order_relaxed);
    atomic_store_explicit(&t->e[pos].hi, lo + c->size, memory_order_relaxed);
    atomic_store_explicit(&t->e[pos].c, c, memory_order_relaxed);
    atomic_store_explicit(&h->tbl_n, n + 1, memory_order_relaxed);
    tbl_write_end(h);
    jk__heap_lock_release(&h->tbl_lock);
    return JK_OK;
}

static void tbl_remove(jk_heap *h, chunk *c)
{
    tbl_array *t;
    uint32_t n, pos;

    jk__heap_lock_acquire(&h->tbl_lock);
    t = atomic_load_explicit(&h->tbl, memory_order_relaxed);
    n = atomic_load_explicit(&h->tbl_n, memory_order_relaxed);
    for (pos = 0; pos < n; pos++)
        if (atomic_load_explicit(&t->e[pos].c, memory_order_relaxed) == c)
            break;
    if (pos < n) {
        tbl_write_begin(h);
        for (uint32_t i = pos; i + 1 < n; i++)
            entry_copy(&t->e[i], &t->e[i + 1]);
        atomic_store_explicit(&h->tbl_n, n - 1, memory_order_relaxed);
        tbl_write_end(h);
    }
    jk__heap_lock_release(&h->tbl_lock);
}

/* The chunk whose usable area contains p, or NULL. Lock-free. */
static chunk *tbl_find(jk_heap *h, const void *p)
{
    uintptr_t x = (uintptr_t)p;
    for (;;) {
        unsigned s = atomic_load_explicit(&h->tbl_seq, memory_order_acquire);
        tbl_array *t;
        uint32_t lo = 0, hi;
        chunk *found = NULL;

        if (s & 1) {
            jk__heap_cpu_relax();
            continue;
        }
        t = atomic_load_explicit(&h->tbl, memory_order_acquire);
        hi = atomic_load_explicit(&h->tbl_n, memory_order_relaxed);
        if (t && hi <= t->cap) {
            /* last entry with entry.lo <= x */
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (atomic_load_explicit(&t->e[mid].lo, memory_order_relaxed) <= x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo > 0 && x < atomic_load_explicit(&t->e[lo - 1].hi, memory_order_relaxed))
                found = atomic_load_explicit(&t->e[lo - 1].c, memory_order_relaxed);
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&h->tbl_seq, memory_order_relaxed) == s)
            return found;
    }
}

/* -- Chunks ------------------------------------------------------------------- */

static void chunk_free_meta(chunk *c)
{
    jk__free(c->meta_base);
}

/* All metadata of a chunk in one allocation, aligned and padded to cache
 * lines so that no two arenas' hot metadata ever share a line. */
static chunk *chunk_meta_new(size_t ngran, size_t npages, int flip)
{
    const size_t line = 64;
    size_t words = (ngran + 63) / 64;
    size_t cs = round_up(sizeof(chunk), line), bm = round_up(words * sizeof(uint64_t), line);
    size_t pl = flip ? round_up(npages * sizeof(uint32_t), line) : 0;
    size_t ps = flip ? round_up(npages, line) : 0;
    size_t total = line + cs + 3 * bm + 2 * pl + ps + line;
    char *base = jk__calloc(1, total), *p;
    chunk *c;
    if (!base)
        return NULL;
    p = (char *)round_up((size_t)(uintptr_t)base, line);
    c = (chunk *)(void *)p;
    c->meta_base = base;
    c->meta_bytes = total;
    p += cs;
    c->used = (uint64_t *)(void *)p;
    c->start = (uint64_t *)(void *)(p + bm);
    c->pend = (uint64_t *)(void *)(p + 2 * bm);
    p += 3 * bm;
    if (flip) {
        c->page_live = (uint32_t *)(void *)p;
        c->page_owner = (uint32_t *)(void *)(p + pl);
        c->page_state = (uint8_t *)(p + 2 * pl);
    }
    return c;
}

/* Map a chunk of at least `min_bytes` usable bytes for arena a (locked) and
 * add it to the ring and the table. want_near: place it near h->near_to. */
static jk_status chunk_new(jk_heap *h, arena *a, size_t min_bytes, int want_near, chunk **out,
                           jk_error *err)
{
    size_t usable = h->chunk_size, guard = (h->flags & JK_HEAP_GUARD_PAGES) ? h->page : 0;
    size_t map_size;
    jk_mem_options mo;
    chunk *c;
    jk_status st;

    if (min_bytes > usable) {
        if (min_bytes > (size_t)UINT32_MAX / 2 * GRANULE)
            return jk__fail(err, JK_ENOMEM, "code heap: a function of %zu bytes is too large",
                            min_bytes);
        usable = round_up(min_bytes, h->page);
    }
    map_size = usable + 2 * guard;

    c = chunk_meta_new(usable / GRANULE, usable / h->page, h->flip);
    if (!c)
        return jk__fail(err, JK_ENOMEM, "code heap: out of memory for chunk metadata");
    c->size = usable;
    c->map_size = map_size;
    c->guard = guard;
    c->arena = a;
    c->ngran = (uint32_t)(usable / GRANULE);
    c->nfree = c->ngran;
    c->gpp = (uint32_t)(h->page / GRANULE);
    c->npages = (uint32_t)(usable / h->page);
    c->dedicated = usable > h->chunk_size;
    if (a->n == a->cap) {
        uint32_t cap = a->cap ? a->cap * 2 : 8;
        chunk **ring = jk__malloc(cap * sizeof *ring);
        if (!ring) {
            chunk_free_meta(c);
            return jk__fail(err, JK_ENOMEM, "code heap: out of memory for the chunk list");
        }
        if (a->n)
            memcpy(ring, a->ring, a->n * sizeof *ring);
        jk__free(a->ring);
        a->ring = ring;
        a->meta += (cap - a->cap) * sizeof *ring;
        a->cap = cap;
    }

    mo.strategy = h->strategy;
    mo.near_to = (want_near && sizeof(void *) >= 8) ? h->near_to : NULL;
    a->os_calls++;
    st = jk_mem_alloc(&c->mem, map_size, &mo, err);
    if (st != JK_OK) {
        chunk_free_meta(c);
        return st;
    }
    c->rx = (char *)jk_mem_exec(c->mem) + guard;
    c->rw = (char *)jk_mem_writable(c->mem) + guard;
    /* New memory holds traps, not zeros that decode as code. It is RW now
     * (FLIP: W state, unpublished) or written through the RW view (DUAL). */
    trap_fill(c->rw, usable);
    if (guard) {
        a->os_calls += 2;
        st = jk_mem_protect(c->mem, 0, guard, JK_ACCESS_NONE, err);
        if (st == JK_OK)
            st = jk_mem_protect(c->mem, map_size - guard, guard, JK_ACCESS_NONE, err);
    }
    if (st == JK_OK && !h->flip) {
        /* DUAL: the exec view is RX; commit flushes the icache. */
        st = jk_mem_commit(c->mem, err);
    }
    if (st == JK_OK)
        st = tbl_insert(h, c, err);
    if (st != JK_OK) {
        a->os_calls++;
        (void)jk_mem_free(c->mem, NULL);
        chunk_free_meta(c);
        return st;
    }
    c->is_near = reach_ok(h, (uintptr_t)c->rx, (uintptr_t)c->rx + usable) ? 1u : 0u;
    a->ring[a->n++] = c;
    a->nempty++;
    a->reserved += map_size;
    a->meta += c->meta_bytes;
    *out = c;
    return JK_OK;
}

/* Unmap c and drop it from its arena (locked) and the table. */
static jk_status chunk_release(jk_heap *h, chunk *c, jk_error *err)
{
    arena *a = c->arena;
    jk_status st;
    uint32_t i;

    for (i = 0; i < a->n; i++)
        if (a->ring[i] == c)
            break;
    if (i < a->n) {
        memmove(&a->ring[i], &a->ring[i + 1], (a->n - i - 1) * sizeof *a->ring);
        a->n--;
        if (a->cur > i || a->cur >= a->n)
            a->cur = a->cur > 0 ? a->cur - 1 : 0;
    }
    tbl_remove(h, c);
    if (c->live == 0)
        a->nempty--;
    a->reserved -= c->map_size;
    a->meta -= c->meta_bytes;
    a->os_calls++;
    st = jk_mem_free(c->mem, err);
    chunk_free_meta(c);
    return st;
}

/* c just became empty (or was unpinned while empty): keep it as a spare or
 * return it to the OS. Arena locked. */
static void chunk_maybe_release(jk_heap *h, chunk *c)
{
    arena *a = c->arena;
    if (c->live || c->pins)
        return;
    if (c->dedicated || c->sealed || a->nempty > h->max_spare)
        (void)chunk_release(h, c, NULL);
}

/* -- FLIP page states --------------------------------------------------------- */

/* May window `wid` place code on page p? */
static int page_ok(const chunk *c, uint32_t p, uint32_t wid)
{
    if (c->page_state[p] == PAGE_X)
        return c->page_live[p] == 0;
    return c->page_owner[p] == 0 || c->page_owner[p] == wid;
}

/* Set pages [p0, p1] of c to state `to` (RX for X, RW for W) with one call
 * per run of pages not already there; only_live: skip pages without live
 * code. Arena locked. */
static jk_status pages_protect(arena *a, chunk *c, uint32_t p0, uint32_t p1, uint8_t to,
                               int only_live, jk_error *err)
{
    size_t pg = c->gpp * (size_t)GRANULE;
    uint32_t p = p0;
    while (p <= p1) {
        uint32_t q;
        if (c->page_state[p] == to || (only_live && c->page_live[p] == 0)) {
            p++;
            continue;
        }
        q = p;
        while (q + 1 <= p1 && c->page_state[q + 1] != to &&
               !(only_live && c->page_live[q + 1] == 0))
            q++;
        a->os_calls++;
        jk_status st = jk_mem_protect(c->mem, c->guard + p * pg, (q - p + 1) * pg,
                                      to == PAGE_X ? JK_ACCESS_RX : JK_ACCESS_RW, err);
        if (st != JK_OK)
            return st;
        for (uint32_t i = p; i <= q; i++)
            c->page_state[i] = to;
        p = q + 1;
    }
    return JK_OK;
}

/* -- Allocation ------------------------------------------------------------- */

/* Next fit in c from granule `from`: n granules aligned to ag; NONE32 if
 * nothing fits before the end. */
static uint32_t chunk_find(const jk_heap *h, const chunk *c, uint32_t from, uint32_t n,
                           uint32_t ag, uint32_t wid)
{
    uint32_t g = from;
    for (;;) {
        uint32_t e;
        g = next_free(c->used, g, c->ngran);
        g = (g + ag - 1) & ~(ag - 1);
        if (g >= c->ngran || n > c->ngran - g)
            return NONE32;
        e = next_used(c->used, g, g + n);
        if (e < g + n) {
            g = e + 1;
            continue;
        }
        if (h->flip) {
            uint32_t p0 = g / c->gpp, p1 = (g + n - 1) / c->gpp, p;
            for (p = p0; p <= p1; p++)
                if (!page_ok(c, p, wid))
                    break;
            if (p <= p1) {
                g = (p + 1) * c->gpp;
                continue;
            }
        }
        return g;
    }
}

static jk_status win_record(jk_heap_window *w, chunk *c, uint32_t lo, uint32_t hi,
                            jk_error *err)
{
    if (w->n) {
        win_rec *r = &w->recs[w->n - 1];
        if (r->c == c && r->hi == lo) {
            r->hi = hi;
            return JK_OK;
        }
    }
    if (w->n == w->cap) {
        uint32_t cap = w->cap * 2;
        win_rec *nr = jk__malloc(cap * sizeof *nr);
        if (!nr)
            return jk__fail(err, JK_ENOMEM, "code heap: out of memory for a window record");
        memcpy(nr, w->recs, w->n * sizeof *nr);
        if (w->recs != w->inline_recs)
            jk__free(w->recs);
        w->recs = nr;
        w->cap = cap;
    }
    w->recs[w->n].c = c;
    w->recs[w->n].lo = lo;
    w->recs[w->n].hi = hi;
    w->n++;
    c->pins++;
    return JK_OK;
}

/* The bookkeeping of taking granules [g, g+n) of c. Arena locked. */
static inline void take_plain(arena *a, chunk *c, uint32_t g, uint32_t n)
{
    bm_set_range(c->used, g, g + n, 1);
    bm_set1(c->start, g);
    c->nfree -= n;
    c->cursor = g + n;
    if (c->live++ == 0)
        a->nempty--;
    a->in_use_gran += n;
    a->installs++;
}

/* Take granules [g, g+n) of c for window w (NULL: DUAL one-shot). */
static jk_status chunk_take(jk_heap *h, chunk *c, uint32_t g, uint32_t n, jk_heap_window *w,
                            jk_error *err)
{
    arena *a = c->arena;
    if (h->flip) {
        uint32_t p0 = g / c->gpp, p1 = (g + n - 1) / c->gpp;
        size_t pg = c->gpp * (size_t)GRANULE;
        /* Pages that were published but hold no live code (their flip at
         * free time failed or was skipped) go back to RW, stale code on them
         * overwritten. Rare: one call per page is fine. */
        for (uint32_t p = p0; p <= p1; p++) {
            if (c->page_state[p] != PAGE_X)
                continue;
            jk_status st = pages_protect(a, c, p, p, PAGE_W, 0, err);
            if (st != JK_OK)
                return st;
            trap_fill(c->rw + p * pg, pg);
        }
        for (uint32_t p = p0; p <= p1; p++) {
            uint32_t lo = p * c->gpp > g ? p * c->gpp : g;
            uint32_t hi = (p + 1) * c->gpp < g + n ? (p + 1) * c->gpp : g + n;
            c->page_live[p] += hi - lo;
            c->page_owner[p] = w ? w->wid : 0;
        }
    }
    if (w) {
        jk_status st = win_record(w, c, g, g + n, err);
        if (st != JK_OK) {
            if (h->flip)
                for (uint32_t p = g / c->gpp; p <= (g + n - 1) / c->gpp; p++) {
                    uint32_t lo = p * c->gpp > g ? p * c->gpp : g;
                    uint32_t hi = (p + 1) * c->gpp < g + n ? (p + 1) * c->gpp : g + n;
                    c->page_live[p] -= hi - lo;
                }
            return st;
        }
    }
    take_plain(a, c, g, n);
    return JK_OK;
}

/* Traps over granules [g, e) of c, unless c is sealed (fork child). */
static void fill_traps(chunk *c, uint32_t g, uint32_t e)
{
    if (c && !c->sealed) {
        trap_fill(c->rw + (size_t)g * GRANULE, (size_t)(e - g) * GRANULE);
        flush_code(c->rx + (size_t)g * GRANULE, (size_t)(e - g) * GRANULE);
    }
}

/* Really free granules [g, e) of c (a function whose free was accepted):
 * overwrite with traps, make reusable, unpublish emptied FLIP pages, and
 * let go of the chunk if it is empty. Arena locked. */
static void release_range(jk_heap *h, chunk *c, uint32_t g, uint32_t e, int filled)
{
    arena *a = c->arena;
    bm_set_range(c->used, g, e, 0);
    bm_clear1(c->start, g);
    c->nfree += e - g;
    if (!h->flip) {
        if (!(h->flags & JK_HEAP_NO_TRAP_FILL) && !filled)
            fill_traps(c, g, e);
    } else {
        uint32_t p0 = g / c->gpp, p1 = (e - 1) / c->gpp;
        size_t pg = c->gpp * (size_t)GRANULE;
        for (uint32_t p = p0; p <= p1; p++) {
            uint32_t lo = p * c->gpp > g ? p * c->gpp : g;
            uint32_t hi = (p + 1) * c->gpp < e ? (p + 1) * c->gpp : e;
            c->page_live[p] -= hi - lo;
            if (c->page_state[p] == PAGE_W) {
                if (!(h->flags & JK_HEAP_NO_TRAP_FILL))
                    trap_fill(c->rw + (size_t)lo * GRANULE, (size_t)(hi - lo) * GRANULE);
                if (c->page_live[p] == 0)
                    c->page_owner[p] = 0;
            } else if (c->page_live[p] == 0 && !c->sealed &&
                       !(h->flags & JK_HEAP_NO_TRAP_FILL)) {
                /* The page holds no live code now: unpublish it and
                 * overwrite the stale code. If that fails the page stays
                 * published (and is unpublished when next allocated). */
                if (pages_protect(a, c, p, p, PAGE_W, 0, NULL) == JK_OK) {
                    trap_fill(c->rw + p * pg, pg);
                    c->page_owner[p] = 0;
                }
            }
        }
    }
    if (--c->live == 0) {
        a->nempty++;
        chunk_maybe_release(h, c);
    }
}

/* Take the oldest pending free out of arena a's quarantine (locked). */
static pend_ent pend_pop(jk_heap *h, arena *a)
{
    pend_ent p = a->pend[a->phead];
    a->phead = a->phead + 1 == h->free_batch ? 0 : a->phead + 1;
    a->npend--;
    a->pend_bytes -= (size_t)(p.e - p.g) * GRANULE;
    bm_clear1(p.c->pend, p.g);
    return p;
}

/* Process the oldest pending free of arena a (locked). */
static void arena_drain_one(jk_heap *h, arena *a)
{
    pend_ent p = pend_pop(h, a);
    release_range(h, p.c, p.g, p.e, 0);
}

/* Process the k oldest pending frees of arena a (locked, DUAL). Their traps
 * are written first, one write per run of adjacent functions: frees arrive
 * mostly in install order, so a batch is a few runs, and the CPU's penalty
 * for storing into code it executed not long ago is paid per run rather
 * than per function (measured in docs/heap.md). Then the bookkeeping, which
 * may return an emptied chunk to the OS. */
static void arena_drain_batch(jk_heap *h, arena *a, uint32_t k)
{
    uint32_t i = a->phead, left = k;
    if (!(h->flags & JK_HEAP_NO_TRAP_FILL)) {
        chunk *rc = NULL;
        uint32_t rg = 0, re = 0;
        for (; left; left--) {
            pend_ent *p = &a->pend[i];
            i = i + 1 == h->free_batch ? 0 : i + 1;
            if (p->c == rc && p->g == re) {
                re = p->e;
                continue;
            }
            fill_traps(rc, rg, re);
            rc = p->c;
            rg = p->g;
            re = p->e;
        }
        fill_traps(rc, rg, re);
    }
    while (k--) {
        pend_ent p = pend_pop(h, a);
        release_range(h, p.c, p.g, p.e, 1);
    }
}

/* Process every pending free of arena a (locked). */
static void arena_drain(jk_heap *h, arena *a)
{
    while (a->npend)
        arena_drain_one(h, a);
}

/* Search the arena's chunks; near_only: only chunks near the target. */
static chunk *arena_search(jk_heap *h, arena *a, uint32_t n, uint32_t ag, uint32_t wid,
                           int near_only, uint32_t *gout)
{
    int lifo = (h->flags & JK_HEAP_REUSE_LIFO) != 0;
    for (int pass = lifo ? 1 : 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < a->n; k++) {
            uint32_t idx = lifo ? k : (a->cur + k) % a->n;
            chunk *c = a->ring[idx];
            uint32_t g;
            if (c->sealed || c->nfree < n || (near_only && !c->is_near))
                continue;
            g = chunk_find(h, c, pass == 0 ? c->cursor : 0, n, ag, wid);
            if (g != NONE32) {
                a->cur = idx;
                *gout = g;
                return c;
            }
        }
    }
    return NULL;
}

/* Allocate in arena a (locked). */
/* Map a new chunk for arena a (locked) in the heap's near mode. PREFER:
 * near if possible, else anywhere, remembering the failure so that later
 * allocations use far chunks without trying again until the next chunk is
 * needed. REQUIRE: near or JK_ENOTNEAR. */
static jk_status arena_grow(jk_heap *h, arena *a, size_t bytes, chunk **out, jk_error *err)
{
    jk_status st;
    if (h->near_mode == JK_HEAP_NEAR_ANY)
        return chunk_new(h, a, bytes, 0, out, err);
    st = chunk_new(h, a, bytes, 1, out, err);
    if (st == JK_OK && !(*out)->is_near) {
        if (h->near_mode == JK_HEAP_NEAR_REQUIRE) {
            (void)chunk_release(h, *out, NULL);
            return jk__fail(err, JK_ENOTNEAR, "code heap: no memory within +-2 GiB of %p",
                            h->near_to);
        }
        a->near_failed = 1;
        return JK_OK;
    }
    if (st == JK_OK) {
        a->near_failed = 0;
        return JK_OK;
    }
    if (st != JK_ENOTNEAR || h->near_mode == JK_HEAP_NEAR_REQUIRE)
        return st;
    a->near_failed = 1;
    return chunk_new(h, a, bytes, 0, out, err);
}

/* Allocate in arena a (locked). */
static jk_status arena_alloc(jk_heap *h, arena *a, size_t size, size_t align, jk_heap_window *w,
                             chunk **cout, uint32_t *gout, jk_error *err)
{
    uint32_t n = (uint32_t)(round_up(size, GRANULE) / GRANULE);
    uint32_t ag = (uint32_t)(align / GRANULE), wid = w ? w->wid : 0, g = 0;
    chunk *c = NULL;
    jk_status st;
    int near_only = h->near_mode == JK_HEAP_NEAR_REQUIRE ||
                    (h->near_mode == JK_HEAP_NEAR_PREFER && !a->near_failed);

    /* Fast path: bump at the current chunk's cursor (DUAL, FIFO). */
    if (!h->flip && a->n && !(h->flags & JK_HEAP_REUSE_LIFO)) {
        chunk *cc = a->ring[a->cur];
        uint32_t gg = (cc->cursor + ag - 1) & ~(ag - 1);
        if (!cc->sealed && (cc->is_near || !near_only) && gg < cc->ngran &&
            n <= cc->ngran - gg && bm_range_clear(cc->used, gg, gg + n)) {
            st = chunk_take(h, cc, gg, n, w, err);
            if (st != JK_OK)
                return st;
            *cout = cc;
            *gout = gg;
            return JK_OK;
        }
    }
    c = arena_search(h, a, n, ag, wid, near_only, &g);
    if (!c && a->npend) {
        /* Finish the pending frees before mapping more memory. */
        arena_drain(h, a);
        c = arena_search(h, a, n, ag, wid, near_only, &g);
    }
    if (!c) {
        st = arena_grow(h, a, round_up(size, GRANULE), &c, err);
        if (st != JK_OK)
            return st;
        a->cur = a->n - 1;
        g = chunk_find(h, c, 0, n, ag, wid);
    }
    if (g == NONE32) {
        JK_ASSERT(0);
        return jk__fail(err, JK_ENOMEM, "code heap: internal error: fresh chunk too small");
    }
    st = chunk_take(h, c, g, n, w, err);
    if (st != JK_OK) {
        chunk_maybe_release(h, c);
        return st;
    }
    *cout = c;
    *gout = g;
    return JK_OK;
}

static jk_status check_align(const jk_heap *h, size_t *align, jk_error *err)
{
    size_t al = *align ? *align : h->align;
    if (!is_pow2(al) || al > h->page)
        return jk__fail(err, JK_EINVAL,
                        "code heap: alignment %zu is not a power of two up to the page size",
                        al);
    *align = al < GRANULE ? GRANULE : al;
    return JK_OK;
}

/* -- Windows -------------------------------------------------------------------- */

static void win_init(jk_heap *h, jk_heap_window *w)
{
    unsigned id;
    memset(w, 0, sizeof *w);
    w->h = h;
    do
        id = atomic_fetch_add_explicit(&h->next_wid, 1, memory_order_relaxed) + 1;
    while (id == 0);
    w->wid = id;
    w->recs = w->inline_recs;
    w->cap = (uint32_t)(sizeof w->inline_recs / sizeof w->inline_recs[0]);
}

static jk_status win_alloc(jk_heap_window *w, size_t size, size_t align, jk_heap_slot *out,
                           jk_error *err)
{
    jk_heap *h = w->h;
    arena *a;
    chunk *c;
    uint32_t g;
    jk_status st;

    if (size == 0)
        return jk__fail(err, JK_EINVAL, "code heap: allocation of 0 bytes");
    if (size > SIZE_MAX / 2)
        return jk__fail(err, JK_ENOMEM, "code heap: allocation of %zu bytes", size);
    st = check_align(h, &align, err);
    if (st != JK_OK)
        return st;
    a = arena_pick(h);
    st = arena_alloc(h, a, size, align, w, &c, &g, err);
    jk__heap_lock_release(&a->lock);
    if (st != JK_OK)
        return st;
    out->write = c->rw + (size_t)g * GRANULE;
    out->exec = c->rx + (size_t)g * GRANULE;
    out->size = round_up(size, GRANULE);
    out->is_near = reach_ok(h, (uintptr_t)out->exec, (uintptr_t)out->exec + out->size);
    return JK_OK;
}

static jk_status win_commit(jk_heap_window *w, jk_error *err)
{
    jk_heap *h = w->h;
    jk_status first = JK_OK;

    for (uint32_t i = 0; i < w->n; i++) {
        win_rec *r = &w->recs[i];
        chunk *c = r->c;
        arena *a = c->arena;
        jk__heap_lock_acquire(&a->lock);
        if (h->flip) {
            uint32_t p0 = r->lo / c->gpp, p1 = (r->hi - 1) / c->gpp;
            /* Only pages this window still owns; others were committed by an
             * earlier record of this window or emptied meanwhile. */
            for (uint32_t p = p0; p <= p1; p++) {
                uint32_t q = p;
                if (c->page_owner[p] != w->wid || c->page_state[p] != PAGE_W)
                    continue;
                while (q + 1 <= p1 && c->page_owner[q + 1] == w->wid &&
                       c->page_state[q + 1] == PAGE_W)
                    q++;
                jk_status st = pages_protect(a, c, p, q, PAGE_X, 1,
                                             first == JK_OK ? err : NULL);
                if (st != JK_OK && first == JK_OK)
                    first = st;
                /* Published pages, and owned pages left without code, are
                 * nobody's now. */
                for (uint32_t k = p; k <= q; k++)
                    c->page_owner[k] = 0;
                p = q;
            }
        } else {
            flush_code(c->rx + (size_t)r->lo * GRANULE, (size_t)(r->hi - r->lo) * GRANULE);
        }
        c->pins--;
        chunk_maybe_release(h, c);
        jk__heap_lock_release(&a->lock);
    }
    atomic_thread_fence(memory_order_release);
    if (w->recs != w->inline_recs)
        jk__free(w->recs);
    return first;
}

/* -- Public API ------------------------------------------------------------------ */

static jk__heap_lock reg_lock;
static jk_heap *reg_head;

jk_status jk_heap_new(jk_heap **out, const jk_heap_options *opt, jk_error *err)
{
    jk_heap_options o;
    jk_heap *h;
    size_t page = jk_mem_page_size();

    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_heap_new: out is NULL");
    *out = NULL;
    if (opt)
        o = *opt;
    else
        memset(&o, 0, sizeof o);
    if (o.strategy == JK_MEM_AUTO) {
        /* DUAL where it exists - except under gdb's JIT interface
         * (JITKIT_GDB=1): a debugger writes its breakpoints with ptrace,
         * which cannot write a shared read+execute mapping, the one DUAL
         * executes from; FLIP's private pages take them */
        const char *g = getenv("JITKIT_GDB");
        int gdb = g && strcmp(g, "1") == 0;
        o.strategy = !gdb && jk_mem_strategy_available(JK_MEM_DUAL) ? JK_MEM_DUAL
                                                                   : jk_mem_auto_strategy();
    }
    if (o.strategy != JK_MEM_FLIP && o.strategy != JK_MEM_DUAL) {
        if (o.strategy == JK_MEM_MAP_JIT)
            return jk__fail(err, JK_EUNSUPPORTED, "code heap: the MAP_JIT strategy is not "
                                                  "supported by the heap");
        return jk__fail(err, JK_EINVAL, "code heap: bad strategy %d", (int)o.strategy);
    }
    if (!jk_mem_strategy_available(o.strategy))
        return jk__fail(err, JK_EUNSUPPORTED, "code heap: strategy '%s' not available here",
                        jk_mem_strategy_name(o.strategy));
    if (o.align && (!is_pow2(o.align) || o.align > page))
        return jk__fail(err, JK_EINVAL,
                        "code heap: alignment %zu is not a power of two up to the page size",
                        o.align);
    if (o.arenas > MAX_ARENAS)
        return jk__fail(err, JK_EINVAL, "code heap: %u arenas (at most %u)", o.arenas,
                        MAX_ARENAS);
    if ((unsigned)o.near_mode >= JK_HEAP_NEAR_COUNT)
        return jk__fail(err, JK_EINVAL, "code heap: bad near mode %d", (int)o.near_mode);
    if (o.flags & ~(JK_HEAP_GUARD_PAGES | JK_HEAP_NO_TRAP_FILL | JK_HEAP_REUSE_LIFO |
                    JK_HEAP_FORK_NO_COPY))
        return jk__fail(err, JK_EINVAL, "code heap: unknown flags 0x%x", o.flags);
    if (o.free_batch > 4096)
        return jk__fail(err, JK_EINVAL, "code heap: free batch %u too large (4096 at most)",
                        o.free_batch);
    if (o.chunk_size > ((size_t)1 << 30))
        return jk__fail(err, JK_EINVAL, "code heap: chunk size %zu too large (1 GiB at most)",
                        o.chunk_size);

    h = jk__calloc(1, sizeof *h);
    if (!h)
        return jk__fail(err, JK_ENOMEM, "code heap: out of memory");
    h->strategy = o.strategy;
    h->flip = o.strategy == JK_MEM_FLIP;
    h->flags = o.flags;
    h->near_mode = o.near_mode;
    h->near_to = o.near_to ? o.near_to : jk__heap_os_host_code();
    h->page = page;
    h->chunk_size = round_up(o.chunk_size ? o.chunk_size : DEFAULT_CHUNK, page);
    h->align = o.align ? (o.align < GRANULE ? GRANULE : o.align) : GRANULE;
    h->max_spare = o.max_spare ? o.max_spare : 1;
    h->free_batch = (o.flags & JK_HEAP_REUSE_LIFO) ? 1
                    : o.free_batch                 ? o.free_batch
                                                   : DEFAULT_FREE_BATCH;
    h->narenas = o.arenas ? o.arenas : DEFAULT_ARENAS;
    h->arenas = jk__calloc(h->narenas, sizeof(arena));
    if (!h->arenas) {
        jk__free(h);
        return jk__fail(err, JK_ENOMEM, "code heap: out of memory");
    }
    for (unsigned i = 0; i < h->narenas; i++)
        h->arenas[i].heap = h;

    jk__heap_os_fork_init();
    jk__heap_lock_acquire(&reg_lock);
    h->reg_next = reg_head;
    if (reg_head)
        reg_head->reg_prev = h;
    reg_head = h;
    jk__heap_lock_release(&reg_lock);
    *out = h;
    return JK_OK;
}

static _Atomic(jk_heap *) default_heap;

jk_status jk_heap_default(jk_heap **out, jk_error *err)
{
    jk_heap *h, *none = NULL;
    jk_status st;
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_heap_default: NULL out");
    h = atomic_load_explicit(&default_heap, memory_order_acquire);
    if (h) {
        *out = h;
        return JK_OK;
    }
    st = jk_heap_new(&h, NULL, err);
    if (st != JK_OK) {
        *out = NULL;
        return st;
    }
    /* two threads may race here: the first one's heap wins */
    if (!atomic_compare_exchange_strong_explicit(&default_heap, &none, h, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        jk_heap_destroy(h, NULL);
        h = none;
    }
    *out = h;
    return JK_OK;
}

jk_status jk_heap_destroy(jk_heap *h, jk_error *err)
{
    jk_status first = JK_OK;
    tbl_array *t;

    if (!h)
        return JK_OK;
    jk__heap_lock_acquire(&reg_lock);
    if (h->reg_prev)
        h->reg_prev->reg_next = h->reg_next;
    else
        reg_head = h->reg_next;
    if (h->reg_next)
        h->reg_next->reg_prev = h->reg_prev;
    jk__heap_lock_release(&reg_lock);

    for (unsigned i = 0; i < h->narenas; i++) {
        arena *a = &h->arenas[i];
        for (uint32_t k = 0; k < a->n; k++) {
            chunk *c = a->ring[k];
            jk_status st = jk_mem_free(c->mem, first == JK_OK ? err : NULL);
            if (st != JK_OK && first == JK_OK)
                first = st;
            chunk_free_meta(c);
        }
        jk__free(a->ring);
        if (a->pend)
            jk__free((char *)a->pend - 64);
    }
    jk__free(h->arenas);
    t = atomic_load_explicit(&h->tbl, memory_order_relaxed);
    jk__free(t);
    while (h->retired) {
        t = h->retired;
        h->retired = t->retired_next;
        jk__free(t);
    }
    jk__free(h);
    return first;
}

jk_mem_strategy jk_heap_strategy(const jk_heap *h)
{
    return h->strategy;
}

jk_status jk_heap_window_begin(jk_heap *h, jk_heap_window **out, jk_error *err)
{
    jk_heap_window *w;
    if (!h || !out)
        return jk__fail(err, JK_EINVAL, "jk_heap_window_begin: NULL argument");
    w = jk__malloc(sizeof *w);
    if (!w)
        return jk__fail(err, JK_ENOMEM, "code heap: out of memory for a window");
    win_init(h, w);
    w->on_heap = 1;
    *out = w;
    return JK_OK;
}

jk_status jk_heap_alloc(jk_heap_window *w, size_t size, size_t align, jk_heap_slot *out,
                        jk_error *err)
{
    if (!w || !out)
        return jk__fail(err, JK_EINVAL, "jk_heap_alloc: NULL argument");
    return win_alloc(w, size, align, out, err);
}

jk_status jk_heap_window_commit(jk_heap_window *w, jk_error *err)
{
    jk_status st;
    if (!w)
        return jk__fail(err, JK_EINVAL, "jk_heap_window_commit: NULL window");
    st = win_commit(w, err);
    jk__free(w);
    return st;
}

/* One allocation, written by `write`, published (see jk__heap_install_with,
 * which retries once when the code turns out larger). */
static jk_status install_once(jk_heap *h, size_t size, jk__heap_write_fn write, void *ctx,
                              void **exec, size_t *need, jk_error *err)
{
    jk_status st;
    if (size == 0)
        return jk__fail(err, JK_EINVAL, "code heap: allocation of 0 bytes");
    if (size > SIZE_MAX / 2)
        return jk__fail(err, JK_ENOMEM, "code heap: allocation of %zu bytes", size);
    if (!h->flip) {
        /* DUAL fast path: no window, no protection change. */
        arena *a = arena_pick(h);
        chunk *c = a->n ? a->ring[a->cur] : NULL;
        uint32_t n = (uint32_t)((size + GRANULE - 1) / GRANULE), ag = (uint32_t)(h->align / GRANULE);
        uint32_t g = c ? (c->cursor + ag - 1) & ~(ag - 1) : 0;
        void *ex;
        if (c && !c->sealed && !(h->flags & JK_HEAP_REUSE_LIFO) &&
            (c->is_near || h->near_mode == JK_HEAP_NEAR_ANY || a->near_failed) &&
            g < c->ngran && n <= c->ngran - g && bm_range_clear(c->used, g, g + n)) {
            take_plain(a, c, g, n); /* bump at the cursor */
        } else {
            st = arena_alloc(h, a, size, h->align, NULL, &c, &g, err);
            if (st != JK_OK) {
                jk__heap_lock_release(&a->lock);
                return st;
            }
        }
        jk__heap_lock_release(&a->lock);
        ex = c->rx + (size_t)g * GRANULE;
        st = write(ctx, c->rw + (size_t)g * GRANULE, ex, (size_t)n * GRANULE, need);
        if (st != JK_OK) {
            (void)jk_heap_free(h, ex, NULL);
            return st;
        }
        flush_code(ex, size);
        atomic_thread_fence(memory_order_release);
        *exec = ex;
        return JK_OK;
    } else {
        jk_heap_window w;
        jk_heap_slot s;
        s.exec = NULL;
        win_init(h, &w);
        st = win_alloc(&w, size, 0, &s, err);
        if (st == JK_OK)
            st = write(ctx, s.write, s.exec, s.size, need);
        if (st == JK_OK) {
            st = win_commit(&w, err);
            if (st == JK_OK)
                *exec = s.exec;
            else
                (void)jk_heap_free(h, s.exec, NULL);
        } else {
            (void)win_commit(&w, NULL);
            if (s.exec)
                (void)jk_heap_free(h, s.exec, NULL);
        }
        return st;
    }
}

jk_status jk__heap_install_with(jk_heap *h, size_t size, jk__heap_write_fn write, void *ctx,
                                void **exec, jk_error *err)
{
    size_t need = 0;
    jk_status st;
    *exec = NULL;
    st = install_once(h, size, write, ctx, exec, &need, err);
    /* larger each time (a writer's code only grows), so this ends */
    while (st == JK_ENOSPACE && need > size) {
        size = need;
        st = install_once(h, size, write, ctx, exec, &need, err);
    }
    return st;
}

static jk_status copy_code(void *ctx, void *wr, void *ex, size_t cap, size_t *need)
{
    const jk_heap_slot *src = ctx; /* .write: the bytes, .size: their count */
    (void)ex;
    (void)cap;
    (void)need;
    memcpy(wr, src->write, src->size);
    return JK_OK;
}

jk_status jk_heap_install(jk_heap *h, const void *code, size_t size, void **exec,
                          jk_error *err)
{
    jk_heap_slot src;
    if (!h || !exec || (!code && size))
        return jk__fail(err, JK_EINVAL, "jk_heap_install: NULL argument");
    src.write = (void *)(uintptr_t)code;
    src.size = size;
    return jk__heap_install_with(h, size, copy_code, &src, exec, err);
}

/* Find the live function containing [p, p+n): chunk, start granule and
 * extent. The caller holds the chunk's arena lock after success. */
static jk_status locate(jk_heap *h, const void *p, size_t n, int must_start, chunk **cout,
                        uint32_t *g0, uint32_t *g1, jk_error *err)
{
    chunk *c = tbl_find(h, p);
    uint32_t g, s, e;
    size_t off;

    if (!c)
        return jk__fail(err, JK_EINVAL, "code heap: %p is not in this heap", p);
    jk__heap_lock_acquire(&c->arena->lock);
    off = (size_t)((const char *)p - c->rx);
    g = (uint32_t)(off / GRANULE);
    if (must_start &&
        (off % GRANULE || !bm_get(c->start, g) || !bm_get(c->used, g) || bm_get(c->pend, g))) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_EINVAL, "code heap: %p is not the start of a live function",
                        p);
    }
    if (!bm_get(c->used, g)) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_EINVAL, "code heap: %p is not inside a live function", p);
    }
    /* start: the last start bit at or before g */
    s = g;
    while (!bm_get(c->start, s))
        s--;
    if (bm_get(c->pend, s)) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_EINVAL, "code heap: %p lies in a freed function", p);
    }
    /* end: next start bit or free granule after s */
    e = s + 1;
    while (e < c->ngran && bm_get(c->used, e) && !bm_get(c->start, e)) {
        uint32_t nu = next_free(c->used, e, c->ngran);
        uint32_t ns = next_used(c->start, e, c->ngran);
        e = nu < ns ? nu : ns;
    }
    if (!must_start && off + n > (size_t)e * GRANULE) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_EINVAL,
                        "code heap: [%p, +%zu) does not lie inside one live function", p, n);
    }
    *cout = c;
    *g0 = s;
    *g1 = e;
    return JK_OK;
}

jk_status jk_heap_free(jk_heap *h, void *exec, jk_error *err)
{
    chunk *c;
    arena *a;
    uint32_t g, e;

    if (!h)
        return jk__fail(err, JK_EINVAL, "jk_heap_free: NULL heap");
    if (!exec)
        return JK_OK;
    c = tbl_find(h, exec);
    if (!c)
        return jk__fail(err, JK_EINVAL, "code heap: %p is not in this heap", exec);
    a = c->arena;
    jk__heap_lock_acquire(&a->lock);
    {
        size_t off = (size_t)((const char *)exec - c->rx);
        g = (uint32_t)(off / GRANULE);
        if (off % GRANULE || !bm_get(c->start, g) || !bm_get(c->used, g) ||
            bm_get(c->pend, g)) {
            jk__heap_lock_release(&a->lock);
            return jk__fail(err, JK_EINVAL,
                            "code heap: %p is not the start of a live function", exec);
        }
        /* end: the next start or free granule */
        e = g + 1;
        if (e < c->ngran && bm_get(c->used, e) && !bm_get(c->start, e)) {
            uint32_t nu = next_free(c->used, e, c->ngran);
            uint32_t ns = next_used(c->start, e, c->ngran);
            e = nu < ns ? nu : ns;
        }
    }
    a->in_use_gran -= e - g;
    a->frees++;
    if (h->free_batch > 1 && !a->pend) {
        /* a cache line of padding on both sides: arenas never share one */
        size_t bytes = h->free_batch * sizeof *a->pend + 128;
        char *raw = jk__malloc(bytes);
        if (raw) {
            a->pend = (pend_ent *)(void *)(raw + 64);
            a->meta += bytes;
        }
    }
    if (h->free_batch <= 1 || !a->pend) {
        release_range(h, c, g, e, 0);
    } else {
        /* Quarantined: the code stays (unreachable for the caller) until
         * free_batch later frees have pushed it out of the ring, long
         * after the CPU last ran it. */
        uint32_t slot;
        if (a->npend == h->free_batch) {
            if (h->flip)
                arena_drain_one(h, a);
            else
                arena_drain_batch(h, a, h->free_batch / 4 ? h->free_batch / 4 : 1);
        }
        while (a->npend && a->pend_bytes + (size_t)(e - g) * GRANULE > QUARANTINE_BYTES)
            arena_drain_one(h, a); /* large functions: bound the held memory */
        slot = a->phead + a->npend;
        if (slot >= h->free_batch)
            slot -= h->free_batch;
        bm_set1(c->pend, g);
        a->pend[slot].c = c;
        a->pend[slot].g = g;
        a->pend[slot].e = e;
        a->npend++;
        a->pend_bytes += (size_t)(e - g) * GRANULE;
    }
    jk__heap_lock_release(&a->lock);
    return JK_OK;
}

jk_status jk_heap_trim(jk_heap *h, jk_error *err)
{
    jk_status first = JK_OK;
    if (!h)
        return jk__fail(err, JK_EINVAL, "jk_heap_trim: NULL heap");
    for (unsigned i = 0; i < h->narenas; i++) {
        arena *a = &h->arenas[i];
        jk__heap_lock_acquire(&a->lock);
        arena_drain(h, a);
        for (uint32_t k = a->n; k-- > 0;) {
            chunk *c = a->ring[k];
            if (c->live == 0 && c->pins == 0) {
                jk_status st = chunk_release(h, c, first == JK_OK ? err : NULL);
                if (st != JK_OK && first == JK_OK)
                    first = st;
            }
        }
        jk__heap_lock_release(&a->lock);
    }
    return first;
}

/* -- Patching ------------------------------------------------------------------ */

static jk_status patch_atomic(jk_heap *h, void *exec, uint64_t value, unsigned width,
                              jk_error *err)
{
    chunk *c;
    uint32_t g, e, p;
    char *w;
    jk_status st;

    if (!h || !exec)
        return jk__fail(err, JK_EINVAL, "jk_heap_patch%u: NULL argument", width * 8);
    if ((uintptr_t)exec % width)
        return jk__fail(err, JK_EINVAL, "jk_heap_patch%u: %p is not %u-byte aligned",
                        width * 8, exec, width);
    st = locate(h, exec, width, 0, &c, &g, &e, err);
    if (st != JK_OK)
        return st;
    if (c->sealed) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_ESTATE, "code heap: %p was inherited across fork() and is "
                                        "read-only here", exec);
    }
    w = c->rw + ((char *)exec - c->rx);
    p = (uint32_t)(((char *)exec - c->rx) / (ptrdiff_t)(c->gpp * GRANULE));
    if (h->flip && c->page_state[p] == PAGE_X) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_EUNSUPPORTED,
                        "code heap: atomic patching of published code needs the DUAL strategy "
                        "(under FLIP the page would have to be made writable, faulting the "
                        "threads running on it)");
    }
    if (width == 4)
        __atomic_store_n((uint32_t *)(void *)w, (uint32_t)value, __ATOMIC_SEQ_CST);
    else
        __atomic_store_n((uint64_t *)(void *)w, value, __ATOMIC_SEQ_CST);
    flush_code(exec, width);
    jk__heap_lock_release(&c->arena->lock);
    atomic_fetch_add_explicit(&h->patches, 1, memory_order_relaxed);
    return JK_OK;
}

jk_status jk_heap_patch32(jk_heap *h, void *exec, uint32_t value, jk_error *err)
{
    return patch_atomic(h, exec, value, 4, err);
}

jk_status jk_heap_patch64(jk_heap *h, void *exec, uint64_t value, jk_error *err)
{
    return patch_atomic(h, exec, value, 8, err);
}

jk_status jk_heap_patch(jk_heap *h, void *exec, const void *src, size_t n, jk_error *err)
{
    chunk *c;
    uint32_t g, e;
    jk_status st = JK_OK;
    size_t off;

    if (!h || !exec || (!src && n))
        return jk__fail(err, JK_EINVAL, "jk_heap_patch: NULL argument");
    if (n == 0)
        return JK_OK;
    st = locate(h, exec, n, 0, &c, &g, &e, err);
    if (st != JK_OK)
        return st;
    if (c->sealed) {
        jk__heap_lock_release(&c->arena->lock);
        return jk__fail(err, JK_ESTATE, "code heap: %p was inherited across fork() and is "
                                        "read-only here", exec);
    }
    off = (size_t)((char *)exec - c->rx);
    if (!h->flip) {
        memcpy(c->rw + off, src, n);
    } else {
        size_t pg = c->gpp * (size_t)GRANULE;
        uint32_t p0 = (uint32_t)(off / pg), p1 = (uint32_t)((off + n - 1) / pg);
        uint32_t nx = 0, reprotect;
        for (uint32_t p = p0; p <= p1; p++)
            nx += c->page_state[p] == PAGE_X;
        reprotect = nx != 0;
        if (nx && nx != p1 - p0 + 1) {
            jk__heap_lock_release(&c->arena->lock);
            return jk__fail(err, JK_ESTATE, "code heap: [%p, +%zu) is partly published", exec,
                            n);
        }
        if (reprotect)
            st = pages_protect(c->arena, c, p0, p1, PAGE_W, 0, err);
        if (st == JK_OK) {
            memcpy(c->rw + off, src, n);
            if (reprotect)
                st = pages_protect(c->arena, c, p0, p1, PAGE_X, 0, err);
        }
    }
    if (st == JK_OK)
        flush_code(exec, n);
    jk__heap_lock_release(&c->arena->lock);
    atomic_fetch_add_explicit(&h->patches, 1, memory_order_relaxed);
    return st;
}

/* -- Queries --------------------------------------------------------------------- */

int jk_heap_is_near(const jk_heap *h, const void *exec, size_t size)
{
    return h && reach_ok(h, (uintptr_t)exec, (uintptr_t)exec + size);
}

const void *jk_heap_near_target(const jk_heap *h)
{
    return h ? h->near_to : NULL;
}

void jk_heap_stats_get(jk_heap *h, jk_heap_stats *out)
{
    uint64_t gran = 0;
    size_t meta;

    memset(out, 0, sizeof *out);
    if (!h)
        return;
    meta = sizeof *h + h->narenas * sizeof(arena);
    for (unsigned i = 0; i < h->narenas; i++) {
        arena *a = &h->arenas[i];
        jk__heap_lock_acquire(&a->lock);
        gran += a->in_use_gran;
        out->bytes_reserved += a->reserved;
        meta += a->meta;
        out->chunks += a->n;
        out->empty_chunks += a->nempty;
        out->os_calls += a->os_calls;
        out->installs += a->installs;
        out->frees += a->frees;
        for (uint32_t k = 0; k < a->n; k++)
            out->functions += a->ring[k]->live;
        out->functions -= a->npend;
        jk__heap_lock_release(&a->lock);
    }
    jk__heap_lock_acquire(&h->tbl_lock);
    meta += h->tbl_bytes;
    jk__heap_lock_release(&h->tbl_lock);
    out->bytes_in_use = (size_t)gran * GRANULE;
    out->bytes_metadata = meta;
    out->patches = atomic_load_explicit(&h->patches, memory_order_relaxed);
    if (out->bytes_in_use)
        out->overhead = (double)(out->bytes_reserved + out->bytes_metadata) /
                        (double)out->bytes_in_use;
}

/* -- fork() ------------------------------------------------------------------------ */

void jk__heap_fork_prepare(void)
{
    jk__heap_lock_acquire(&reg_lock);
    for (jk_heap *h = reg_head; h; h = h->reg_next) {
        for (unsigned i = 0; i < h->narenas; i++)
            jk__heap_lock_acquire(&h->arenas[i].lock);
        jk__heap_lock_acquire(&h->tbl_lock);
    }
}

int jk__heap_fork_needs_sync(void)
{
    for (jk_heap *h = reg_head; h; h = h->reg_next) {
        if (h->flip || (h->flags & JK_HEAP_FORK_NO_COPY))
            continue;
        for (unsigned i = 0; i < h->narenas; i++)
            if (h->arenas[i].n)
                return 1;
    }
    return 0;
}

static void unlock_all(void)
{
    for (jk_heap *h = reg_head; h; h = h->reg_next) {
        jk__heap_lock_release(&h->tbl_lock);
        for (unsigned i = 0; i < h->narenas; i++)
            jk__heap_lock_release(&h->arenas[i].lock);
    }
    jk__heap_lock_release(&reg_lock);
}

void jk__heap_fork_parent(void)
{
    unlock_all();
}

void jk__heap_fork_child(void)
{
    for (jk_heap *h = reg_head; h; h = h->reg_next) {
        if (h->flip)
            continue; /* private mappings: the child has its own copy already */
        for (unsigned i = 0; i < h->narenas; i++) {
            arena *a = &h->arenas[i];
            for (uint32_t k = 0; k < a->n; k++) {
                chunk *c = a->ring[k];
                if (c->sealed)
                    continue;
                (void)jk__heap_os_fork_fix(c->rx - c->guard, c->rw - c->guard, c->map_size,
                                           c->guard, !(h->flags & JK_HEAP_FORK_NO_COPY));
                c->sealed = 1;
            }
        }
    }
    unlock_all();
    /* Inherited chunks without code are of no use any more. The child runs
     * one thread now, but take the locks anyway for the invariants. */
    for (jk_heap *h = reg_head; h; h = h->reg_next) {
        for (unsigned i = 0; i < h->narenas; i++) {
            arena *a = &h->arenas[i];
            jk__heap_lock_acquire(&a->lock);
            for (uint32_t k = a->n; k-- > 0;) {
                chunk *c = a->ring[k];
                if (c->sealed && c->live == 0 && c->pins == 0)
                    (void)chunk_release(h, c, NULL);
            }
            jk__heap_lock_release(&a->lock);
        }
    }
}
