/*
 * debug.c - the registry: which functions are registered, with which
 * consumers, and taking them back.
 *
 * Every registered function is one jk__dbg_fn (name inline), found by its
 * address through an open-addressing hash (linear probing, tombstones,
 * rebuilt at 1/2 load) and linked newest-first into a list, so register and
 * unregister are O(1) in the number of functions and destroy takes them
 * back newest first. A registration runs the consumers in a fixed order -
 * unwinder, gdb, perf - and a failure undoes the ones already done;
 * unregistering undoes them in reverse order. The lock is one mutex per
 * registry (registration is not a hot path: the unwinder and gdb take
 * locks of their own).
 *
 * The process-wide locks of the consumers (gdb's list, the perf files, the
 * unwinder's groups) are taken around fork() so a child never inherits one
 * held by another thread; a registry's own lock is not (as with any
 * object: do not fork while another thread is inside a call on it, if the
 * child is to use it).
 *
 * Per function one allocation holds what the consumers read: the
 * unwinder's .eh_frame, then (GDB) a copy of the CFI instructions that
 * gdb's objects are written from; a line table is one more. gdb's objects
 * (gdb.c) are per registration, or per batch: between batch_begin and
 * batch_end new functions wait on the registry's pending list and objects
 * that lose members are marked dirty; the outermost end retires the dirty
 * objects (their remaining members join the pending list) and publishes
 * the pending list as few objects.
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
typedef SRWLOCK dbg_lock;
#  define LOCK_INIT(l) InitializeSRWLock(l)
#  define LOCK(l) AcquireSRWLockExclusive(l)
#  define UNLOCK(l) ReleaseSRWLockExclusive(l)
#  define LOCK_FINI(l) ((void)(l))
#else
#  include <pthread.h>
typedef pthread_mutex_t dbg_lock;
#  define LOCK_INIT(l) pthread_mutex_init(l, NULL)
#  define LOCK(l) pthread_mutex_lock(l)
#  define UNLOCK(l) pthread_mutex_unlock(l)
#  define LOCK_FINI(l) pthread_mutex_destroy(l)
#endif

#define ALL_FLAGS (JK_DEBUG_UNWIND | JK_DEBUG_GDB | JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP)
#define TOMB ((jk__dbg_fn *)(uintptr_t)1)

struct jk_debug {
    dbg_lock lock;
    unsigned flags;
    char *jitdump_dir;
    jk__dbg_fn **slots;      /* hash: NULL empty, TOMB deleted */
    size_t nslots, used, live;
    jk__dbg_fn *newest;
    unsigned long perf_pid;  /* process that wrote our perf records */
    jk__gdb_obj pending;     /* gdb: registered, not yet in an object */
    unsigned batch;          /* jk_debug_batch_begin depth */
    jk__gdb_obj *dirty;      /* objects a member left during the batch */
};

/* -- Environment ------------------------------------------------------------- */

static unsigned env_flags(void)
{
    unsigned f = 0;
    const char *g = getenv("JITKIT_GDB");
    const char *p = getenv("JITKIT_PERF");
    if (g && strcmp(g, "1") == 0)
        f |= JK_DEBUG_GDB;
    if (p) {
        if (strstr(p, "map"))
            f |= JK_DEBUG_PERF_MAP;
        if (strstr(p, "jitdump"))
            f |= JK_DEBUG_JITDUMP;
    }
    return f;
}

/* -- fork() ------------------------------------------------------------------------ */

#if !defined(_WIN32)
static void fork_prepare(void)
{
    jk__unwind_fork(0);
    jk__gdb_fork(0);
    jk__perf_fork(0);
}

static void fork_after(void)
{
    jk__perf_fork(1);
    jk__gdb_fork(1);
    jk__unwind_fork(1);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void install_fork_handlers(void)
{
    (void)pthread_atfork(fork_prepare, fork_after, fork_after);
}
#endif

/* -- Life cycle ----------------------------------------------------------------- */

jk_status jk_debug_new(jk_debug **out, const jk_debug_options *opt, jk_error *err)
{
    jk_debug *d;
    unsigned flags = opt ? opt->flags : 0;
    const char *dir = opt ? opt->jitdump_dir : NULL;
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_debug_new: out is NULL");
    *out = NULL;
    if (flags & ~(ALL_FLAGS | JK_DEBUG_NO_ENV))
        return jk__fail(err, JK_EINVAL, "jk_debug_new: unknown flags 0x%x",
                        flags & ~(ALL_FLAGS | JK_DEBUG_NO_ENV));
    if ((flags & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP)) && !jk__perf_supported())
        return jk__fail(err, JK_EUNSUPPORTED,
                        "jk_debug_new: perf map and jitdump files are written on Linux only");
    if (!(flags & ALL_FLAGS))
        flags |= JK_DEBUG_UNWIND;
    if (!(flags & JK_DEBUG_NO_ENV)) {
        unsigned e = env_flags();
        if (!jk__perf_supported())
            e &= ~(unsigned)(JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP);
        flags |= e;
    }
    flags &= ALL_FLAGS;
    if (!jk__unwind_name())
        flags &= ~JK_DEBUG_UNWIND;
    d = jk__calloc(1, sizeof *d);
    if (!d)
        return jk__fail(err, JK_ENOMEM, "jk_debug_new: out of memory");
#if !defined(_WIN32)
    pthread_once(&fork_once, install_fork_handlers);
#endif
    if (!dir)
        dir = getenv("JITDUMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    d->jitdump_dir = jk__malloc(strlen(dir) + 1);
    if (!d->jitdump_dir) {
        jk__free(d);
        return jk__fail(err, JK_ENOMEM, "jk_debug_new: out of memory");
    }
    strcpy(d->jitdump_dir, dir);
    d->flags = flags;
    LOCK_INIT(&d->lock);
    *out = d;
    return JK_OK;
}

unsigned jk_debug_flags(const jk_debug *d)
{
    return d ? d->flags : 0;
}

const char *jk_debug_unwinder(void)
{
    const char *n = jk__unwind_name();
    return n ? n : "none";
}

size_t jk_debug_count(jk_debug *d)
{
    size_t n;
    if (!d)
        return 0;
    LOCK(&d->lock);
    n = d->live;
    UNLOCK(&d->lock);
    return n;
}

/* -- Hash ----------------------------------------------------------------------- */

static size_t hash_of(const void *code, size_t nslots)
{
    uint64_t k = (uint64_t)(uintptr_t)code;
    k ^= k >> 29;
    k *= 0x9e3779b97f4a7c15ull;
    return (size_t)(k >> 17) & (nslots - 1);
}

/* Slot holding code, or (when absent) NULL with *free_slot the first
 * reusable one. */
static jk__dbg_fn **lookup(jk_debug *d, const void *code, jk__dbg_fn ***free_slot)
{
    size_t i;
    if (free_slot)
        *free_slot = NULL;
    if (!d->nslots)
        return NULL;
    for (i = hash_of(code, d->nslots);; i = (i + 1) & (d->nslots - 1)) {
        jk__dbg_fn *f = d->slots[i];
        if (!f) {
            if (free_slot && !*free_slot)
                *free_slot = &d->slots[i];
            return NULL;
        }
        if (f == TOMB) {
            if (free_slot && !*free_slot)
                *free_slot = &d->slots[i];
        } else if (f->code == code) {
            return &d->slots[i];
        }
    }
}

/* Make room for one more entry (rebuild without tombstones, doubling when
 * half full). */
static int reserve_slot(jk_debug *d)
{
    size_t n = d->nslots ? d->nslots : 64;
    jk__dbg_fn **s;
    if ((d->used + 1) * 2 <= d->nslots)
        return 1;
    while ((d->live + 1) * 2 > n)
        n *= 2;
    s = jk__calloc(n, sizeof *s);
    if (!s)
        return 0;
    for (size_t i = 0; i < d->nslots; i++) {
        jk__dbg_fn *f = d->slots[i];
        if (f && f != TOMB) {
            size_t j = hash_of(f->code, n);
            while (s[j])
                j = (j + 1) & (n - 1);
            s[j] = f;
        }
    }
    jk__free(d->slots);
    d->slots = s;
    d->nslots = n;
    d->used = d->live;
    return 1;
}

/* -- Consumers ---------------------------------------------------------------- */

/* Take f out of gdb's view: out of the pending list, or out of its object,
 * which is rebuilt without it (at the end of the batch, if one is open). */
static void gdb_take_back(jk_debug *d, jk__dbg_fn *f)
{
    jk__gdb_obj *o = f->gobj;
    if (!o)
        return;
    jk__gdb_unlink(f);
    if (o == &d->pending)
        return;
    if (d->batch) {
        if (!o->dirty) {
            o->dirty = 1;
            o->dirty_next = d->dirty;
            d->dirty = o;
        }
        return;
    }
    jk__gdb_retire(o, &d->pending);
    /* the other members in a new object; if that fails they stay pending
       until the next publish (they are invisible to gdb meanwhile) */
    (void)jk__gdb_publish(&d->pending, NULL);
}

static void take_back(jk_debug *d, jk__dbg_fn *f)
{
    /* perf records are history: nothing to take back */
    if (f->done & JK_DEBUG_GDB)
        gdb_take_back(d, f);
    if (f->done & JK_DEBUG_UNWIND)
        jk__unwind_remove(f);
    f->done = 0;
}

static void free_fn(jk__dbg_fn *f)
{
    jk__free(f->lines);
    jk__free(f->blob);
    jk__free(f);
}

/* Re-send the perf records of every live function after a fork (oldest
 * first), when this process writes perf files for the first time. */
static jk_status perf_catch_up(jk_debug *d, jk_error *err)
{
    jk__dbg_fn *f, *last = NULL;
    unsigned pf = d->flags & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP);
    if (!jk__perf_pid_changed(&d->perf_pid))
        return JK_OK;
    for (f = d->newest; f; f = f->next)
        last = f;
    for (f = last; f; f = f->prev) {
        jk_status s = jk__perf_add(f, pf, d->jitdump_dir, err);
        if (s != JK_OK) {
            d->perf_pid = 0; /* try again next time */
            return s;
        }
    }
    return JK_OK;
}

static jk_status attach(jk_debug *d, jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    jk_status s = JK_OK;
    int want_eh = cfi && (d->flags & JK_DEBUG_UNWIND) && jk__unwind_wants_eh_frame();
    int want_ins = cfi && (d->flags & JK_DEBUG_GDB);
    size_t cap = want_eh ? jk__eh_frame_size(cfi) : 0;
    if (want_eh || want_ins) {
        /* the unwinder's .eh_frame, then the instructions gdb's objects
           are written from (they are rebuilt when members leave) */
        f->blob = jk__malloc(cap + (want_ins ? cfi->len + 1 : 0));
        if (!f->blob)
            return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
    }
    if (want_eh) {
        s = jk_cfi_eh_frame(cfi, (uint64_t)(uintptr_t)f->blob, (uint64_t)(uintptr_t)f->code,
                            f->size, f->blob, cap, &f->eh_size, err);
        if (s != JK_OK)
            return s;
        f->eh = f->blob;
    }
    if (want_ins) {
        if (cfi->len)
            memcpy(f->blob + cap, cfi->ins, cfi->len);
        f->cfi_ins = f->blob + cap;
        f->cfi_len = cfi->len;
        f->cfi_size = cfi->size;
        f->has_cfi = 1;
    }
    if (cfi && (d->flags & JK_DEBUG_UNWIND)) {
        s = jk__unwind_add(f, cfi, err);
        if (s != JK_OK)
            return s;
        f->done |= JK_DEBUG_UNWIND;
    }
    if (d->flags & JK_DEBUG_GDB) {
        jk__gdb_link(&d->pending, f);
        f->done |= JK_DEBUG_GDB;
        if (!d->batch) {
            s = jk__gdb_publish(&d->pending, err);
            if (s != JK_OK)
                return s;
        }
    }
    if (d->flags & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP)) {
        s = perf_catch_up(d, err);
        if (s == JK_OK)
            s = jk__perf_add(f, d->flags & (JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP),
                             d->jitdump_dir, err);
    }
    return s;
}

jk_status jk_debug_register(jk_debug *d, const void *code, size_t size, const char *name,
                            const jk_cfi *cfi, jk_error *err)
{
    return jk_debug_register_ex(d, code, size, name, cfi, NULL, err);
}

jk_status jk_debug_register_ex(jk_debug *d, const void *code, size_t size, const char *name,
                               const jk_cfi *cfi, const jk_debug_src *src, jk_error *err)
{
    jk__dbg_fn *f, **slot;
    char autoname[32];
    size_t nlen;
    jk_status s;
    if (!d || !code || size == 0)
        return jk__fail(err, JK_EINVAL, "jk_debug_register: %s",
                        !d ? "registry is NULL" : !code ? "code is NULL" : "size is 0");
    if (cfi) {
        if (cfi->error.status != JK_OK)
            return jk__fail(err, JK_EINVAL, "jk_debug_register: the unwind description "
                                            "failed: %s", cfi->error.message);
        if (!cfi->ended)
            return jk__fail(err, JK_EINVAL, "jk_debug_register: the unwind description is "
                                            "not ended (jk_cfi_endproc)");
        if (cfi->size > size)
            return jk__fail(err, JK_EINVAL, "jk_debug_register: the unwind description "
                            "covers %u bytes, the code has %zu", (unsigned)cfi->size, size);
    }
    if (name && strpbrk(name, "\n\r"))
        return jk__fail(err, JK_EINVAL, "jk_debug_register: the name contains a line break "
                                        "(perf's map file is one line per function)");
    if (!name || !*name) {
        snprintf(autoname, sizeof autoname, "jit_%llx", (unsigned long long)(uintptr_t)code);
        name = autoname;
    }
    nlen = strlen(name);
    f = jk__calloc(1, sizeof *f + nlen + 1);
    if (!f)
        return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
    f->code = code;
    f->size = size;
    f->arch = cfi ? cfi->arch : jk__cfi_host_arch();
    memcpy(f->name, name, nlen + 1);
    if (src) {
        s = jk__lines_copy(f, src, err);
        if (s != JK_OK) {
            free_fn(f);
            return s;
        }
    }

    LOCK(&d->lock);
    if (lookup(d, code, NULL)) {
        UNLOCK(&d->lock);
        free_fn(f);
        return jk__fail(err, JK_EINVAL, "jk_debug_register: %p (%s) is already registered",
                        code, name);
    }
    if (!reserve_slot(d)) {
        UNLOCK(&d->lock);
        free_fn(f);
        return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
    }
    s = attach(d, f, cfi, err);
    if (s != JK_OK) {
        take_back(d, f);
        UNLOCK(&d->lock);
        free_fn(f);
        return s;
    }
    lookup(d, code, &slot);
    if (*slot == NULL)
        d->used++;
    *slot = f;
    d->live++;
    f->next = d->newest;
    if (d->newest)
        d->newest->prev = f;
    d->newest = f;
    UNLOCK(&d->lock);
    return JK_OK;
}

static void unlink_fn(jk_debug *d, jk__dbg_fn **slot)
{
    jk__dbg_fn *f = *slot;
    *slot = TOMB;
    d->live--;
    if (f->prev)
        f->prev->next = f->next;
    else
        d->newest = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

jk_status jk_debug_unregister(jk_debug *d, const void *code, jk_error *err)
{
    jk__dbg_fn **slot, *f;
    if (!d)
        return jk__fail(err, JK_EINVAL, "jk_debug_unregister: registry is NULL");
    LOCK(&d->lock);
    slot = lookup(d, code, NULL);
    if (!slot) {
        UNLOCK(&d->lock);
        return jk__fail(err, JK_EINVAL, "jk_debug_unregister: %p is not registered", code);
    }
    f = *slot;
    unlink_fn(d, slot);
    take_back(d, f);
    UNLOCK(&d->lock);
    free_fn(f);
    return JK_OK;
}

jk_status jk_debug_destroy(jk_debug *d, jk_error *err)
{
    (void)err;
    if (!d)
        return JK_OK;
    d->batch++; /* every object goes at once */
    while (d->newest) {
        jk__dbg_fn *f = d->newest;
        d->newest = f->next;
        take_back(d, f);
        free_fn(f);
    }
    while (d->dirty) {
        jk__gdb_obj *o = d->dirty;
        d->dirty = o->dirty_next;
        jk__gdb_retire(o, NULL);
    }
    jk__free(d->slots);
    jk__free(d->jitdump_dir);
    LOCK_FINI(&d->lock);
    jk__free(d);
    return JK_OK;
}

/* -- Batches ------------------------------------------------------------------------ */

void jk_debug_batch_begin(jk_debug *d)
{
    if (!d)
        return;
    LOCK(&d->lock);
    d->batch++;
    UNLOCK(&d->lock);
}

jk_status jk_debug_batch_end(jk_debug *d, jk_error *err)
{
    jk_status s = JK_OK;
    if (!d)
        return jk__fail(err, JK_EINVAL, "jk_debug_batch_end: registry is NULL");
    LOCK(&d->lock);
    if (d->batch == 0) {
        UNLOCK(&d->lock);
        return jk__fail(err, JK_ESTATE, "jk_debug_batch_end: no batch is open "
                                        "(jk_debug_batch_begin)");
    }
    if (--d->batch == 0) {
        /* objects that lost members: their remaining members join the new
           functions, and all of them go into as few objects as fit */
        while (d->dirty) {
            jk__gdb_obj *o = d->dirty;
            d->dirty = o->dirty_next;
            jk__gdb_retire(o, &d->pending);
        }
        s = jk__gdb_publish(&d->pending, err);
    }
    UNLOCK(&d->lock);
    return s;
}

/* -- With the code heap ------------------------------------------------------------- */

jk_status jk_debug_heap_install(jk_debug *d, jk_heap *h, const void *code, size_t size,
                                const char *name, const jk_cfi *cfi, void **exec,
                                jk_error *err)
{
    jk_status s;
    void *p = NULL;
    if (!exec)
        return jk__fail(err, JK_EINVAL, "jk_debug_heap_install: exec is NULL");
    *exec = NULL;
    if (!d)
        return jk__fail(err, JK_EINVAL, "jk_debug_heap_install: registry is NULL");
    s = jk_heap_install(h, code, size, &p, err);
    if (s != JK_OK)
        return s;
    s = jk_debug_register(d, p, size, name, cfi, err);
    if (s != JK_OK) {
        (void)jk_heap_free(h, p, NULL);
        return s;
    }
    *exec = p;
    return JK_OK;
}

jk_status jk_debug_heap_free(jk_debug *d, jk_heap *h, void *exec, jk_error *err)
{
    jk_status s = jk_debug_unregister(d, exec, err);
    if (s != JK_OK)
        return s;
    return jk_heap_free(h, exec, err);
}
