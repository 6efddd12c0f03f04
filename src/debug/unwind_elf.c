/*
 * unwind_elf.c - hand .eh_frame data to the unwinder of the process, on ELF
 * platforms (Linux, the BSDs).
 *
 * Two unwinders are in use there and they take different things:
 *
 *   LLVM libunwind  __unw_add_dynamic_fde(fde) / __unw_remove_dynamic_fde:
 *                   one FDE (its CIE is found through the CIE pointer)
 *   libgcc          __register_frame(begin) / __deregister_frame(begin):
 *                   a whole .eh_frame section, zero-terminated; libgcc
 *                   allocates its own bookkeeping object, so deregistering
 *                   a begin it does not know aborts - we only ever hand it
 *                   back what it took. Functions go to it in groups (below).
 *
 * Which one unwinds is decided by what the program links, so it is looked
 * up once at run time in the global scope (dlsym RTLD_DEFAULT): libunwind's
 * own entry first (libunwind also defines __register_frame, with one-FDE
 * semantics on some versions), then libgcc's. A C program that has not
 * loaded libgcc_s yet (glibc loads it lazily, for backtrace() or thread
 * cancellation) gets it loaded here: that is the copy glibc loads later.
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#if !defined(_WIN32) && !defined(__APPLE__) && (defined(__x86_64__) || defined(__i386__))

#include <dlfcn.h>
#include <string.h>
#include <pthread.h>

typedef void (*frame_fn)(const void *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static frame_fn add_fn, remove_fn;
static const char *kind; /* "libunwind", "libgcc" or NULL */
static int per_fde;

static frame_fn sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    frame_fn f;
    memcpy(&f, &p, sizeof f); /* object to function pointer, as POSIX allows */
    return f;
}

static void detect(void)
{
    void *h;
    add_fn = sym(RTLD_DEFAULT, "__unw_add_dynamic_fde");
    remove_fn = sym(RTLD_DEFAULT, "__unw_remove_dynamic_fde");
    if (add_fn && remove_fn) {
        kind = "libunwind";
        per_fde = 1;
        return;
    }
    add_fn = sym(RTLD_DEFAULT, "__register_frame");
    remove_fn = sym(RTLD_DEFAULT, "__deregister_frame");
    if (!add_fn || !remove_fn) {
        h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL);
        if (h) {
            add_fn = sym(h, "__register_frame");
            remove_fn = sym(h, "__deregister_frame");
        }
    }
    if (add_fn && remove_fn)
        kind = "libgcc";
}

const char *jk__unwind_name(void)
{
    pthread_once(&once, detect);
    return kind;
}

int jk__unwind_wants_eh_frame(void)
{
    return jk__unwind_name() != NULL;
}

/* -- libgcc: functions in groups ---------------------------------------------
 * libgcc before GCC 13 keeps registered objects in a list that every
 * lookup walks (for any frame, JIT or not) and every deregistration
 * searches. One object per function makes both O(n). So functions are
 * registered in groups of up to GROUP_MAX: one .eh_frame per group (one
 * CIE, the members' FDEs), rebuilt when a member joins or leaves - the new
 * one is registered before the old one is deregistered, so a concurrent
 * unwind always finds the FDE. Each group keeps two buffers, the
 * registered one and a spare at least as large, so leaving a group never
 * allocates (unregistering cannot fail). A join or leave costs O(GROUP_MAX)
 * here plus libgcc's O(groups) search; lookups walk n/GROUP_MAX objects. */

#define GROUP_MAX 64u

typedef struct group {
    struct group *prev, *next;  /* groups with room, most recent first */
    jk__dbg_fn *fns[GROUP_MAX];
    unsigned n;
    uint8_t *buf[2];            /* buf[live] is registered (when n > 0) */
    size_t cap;                 /* capacity of each buffer */
    int live, registered;
} group;

static pthread_mutex_t group_lock = PTHREAD_MUTEX_INITIALIZER;
static group *with_room;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A member's FDE as jk_cfi_eh_frame wrote it into f->eh. */
typedef struct fde_view {
    const uint8_t *ins;   /* instructions (with their padding) */
    size_t ins_len;
    uint64_t range;
} fde_view;

static size_t cie_bytes(const jk__dbg_fn *f)
{
    return 4 + rd32(f->eh);
}

static fde_view view_of(const jk__dbg_fn *f)
{
    const uint8_t *fde = f->eh + cie_bytes(f);
    size_t field = (f->eh[16] & 0x0f) == 0x0c ? 8 : 4; /* sdata8 / sdata4 */
    fde_view v;
    v.ins = fde + 8 + 2 * field + 1;
    v.ins_len = (size_t)(fde + 4 + rd32(fde) - v.ins);
    v.range = field == 8 ? (uint64_t)rd32(fde + 16) | (uint64_t)rd32(fde + 20) << 32
                         : rd32(fde + 12);
    return v;
}

/* Group FDEs use an 8-byte pc-relative field on 64-bit hosts (any
   distance), 4 bytes on 32-bit ones. */
#define FIELD (sizeof(void *) == 8 ? 8u : 4u)

static size_t fde_bytes(const jk__dbg_fn *f)
{
    size_t n = 4 + 4 + 2 * FIELD + 1 + view_of(f).ins_len;
    return (n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

static size_t group_bytes(const group *g, const jk__dbg_fn *extra)
{
    size_t n = cie_bytes(g->n ? g->fns[0] : extra) + 4;
    for (unsigned i = 0; i < g->n; i++)
        n += fde_bytes(g->fns[i]);
    return extra ? n + fde_bytes(extra) : n;
}

/* Write the group's .eh_frame into the spare buffer, register it, then
   deregister the old one. */
static void publish(group *g)
{
    int spare = !g->live;
    uint8_t *p = g->buf[spare];
    size_t at, cs;
    if (g->n == 0) {
        if (g->registered)
            remove_fn(g->buf[g->live]);
        g->registered = 0;
        return;
    }
    cs = cie_bytes(g->fns[0]);
    memcpy(p, g->fns[0]->eh, cs);
    p[16] = (uint8_t)(0x10 | (FIELD == 8 ? 0x0c : 0x0b)); /* pcrel | sdata8/4 */
    at = cs;
    for (unsigned i = 0; i < g->n; i++) {
        const jk__dbg_fn *f = g->fns[i];
        fde_view v = view_of(f);
        size_t fs = fde_bytes(f);
        memset(p + at, 0, fs); /* DW_CFA_nop padding */
        wr(p + at, fs - 4, 4);
        wr(p + at + 4, at + 4, 4);
        wr(p + at + 8, (uint64_t)((uintptr_t)f->code - (uintptr_t)(p + at + 8)), FIELD);
        wr(p + at + 8 + FIELD, v.range, FIELD);
        memcpy(p + at + 9 + 2 * FIELD, v.ins, v.ins_len);
        at += fs;
    }
    wr(p + at, 0, 4);
    add_fn(p);
    if (g->registered)
        remove_fn(g->buf[g->live]);
    g->live = spare;
    g->registered = 1;
}

static void unlink_group(group *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else if (with_room == g)
        with_room = g->next;
    if (g->next)
        g->next->prev = g->prev;
    g->prev = g->next = NULL;
}

static jk_status group_add(jk__dbg_fn *f, jk_error *err)
{
    group *g;
    size_t need;
    uint8_t *a = NULL, *b = NULL;
    int fresh = 0;
    pthread_mutex_lock(&group_lock);
    g = with_room;
    if (!g) {
        g = jk__calloc(1, sizeof *g);
        if (!g) {
            pthread_mutex_unlock(&group_lock);
            return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
        }
        fresh = 1;
    }
    need = group_bytes(g, f);
    if (need > g->cap) {
        /* two new buffers first, so nothing can fail once we start */
        size_t cap = need > 2 * g->cap ? need : 2 * g->cap;
        a = jk__malloc(cap);
        b = a ? jk__malloc(cap) : NULL;
        if (!b) {
            jk__free(a);
            if (fresh)
                jk__free(g);
            pthread_mutex_unlock(&group_lock);
            return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
        }
        jk__free(g->buf[!g->live]); /* the spare: not registered */
        g->buf[!g->live] = a;
        g->cap = cap;
    }
    g->fns[g->n++] = f;
    f->unwind = g;
    f->unwind_idx = g->n - 1;
    publish(g);
    if (b) {
        /* the buffer publish just retired becomes a large spare */
        jk__free(g->buf[!g->live]);
        g->buf[!g->live] = b;
    }
    if (fresh) {
        g->next = with_room;
        if (with_room)
            with_room->prev = g;
        with_room = g;
    }
    if (g->n == GROUP_MAX)
        unlink_group(g);
    pthread_mutex_unlock(&group_lock);
    return JK_OK;
}

static void group_remove(jk__dbg_fn *f)
{
    group *g = f->unwind;
    unsigned i = f->unwind_idx;
    int was_full;
    pthread_mutex_lock(&group_lock);
    was_full = g->n == GROUP_MAX;
    g->fns[i] = g->fns[--g->n];
    g->fns[i]->unwind_idx = i;
    g->fns[g->n] = NULL;
    publish(g); /* fits: the spare is as large as the live buffer */
    if (g->n == 0) {
        unlink_group(g);
        jk__free(g->buf[0]);
        jk__free(g->buf[1]);
        jk__free(g);
    } else if (was_full) {
        g->next = with_room;
        if (with_room)
            with_room->prev = g;
        with_room = g;
    }
    pthread_mutex_unlock(&group_lock);
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    if (!jk__unwind_name() || !f->eh)
        return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: no unwinder in this process");
    if (cfi->arch != jk__cfi_host_arch())
        return jk__fail(err, JK_EINVAL, "jk_debug_register: the unwind description is for "
                                        "another architecture than this process");
    if (!per_fde)
        return group_add(f, err);
    /* libunwind takes the FDE, which follows the CIE */
    f->unwind = f->eh + cie_bytes(f);
    add_fn(f->unwind);
    return JK_OK;
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    if (!f->unwind)
        return;
    if (per_fde)
        remove_fn(f->unwind);
    else
        group_remove(f);
    f->unwind = NULL;
}

#elif !defined(_WIN32)

/* No unwinder we know how to feed (macOS has its own dynamic-FDE entry,
 * AArch64 needs a CIE of its own: not done yet). */
const char *jk__unwind_name(void)
{
    return NULL;
}

int jk__unwind_wants_eh_frame(void)
{
    return 0;
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    (void)f;
    (void)cfi;
    return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: no unwinder support here");
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    (void)f;
}

#endif
