/*
 * unwind_elf.c - hand .eh_frame data to the unwinder of the process, on ELF
 * platforms (Linux, the BSDs).
 *
 * Two unwinders are in use there and they take different things:
 *
 *   LLVM libunwind  __unw_add_dynamic_fde(fde) / __unw_remove_dynamic_fde:
 *                   one FDE (its CIE is found through the CIE pointer)
 *   libgcc          __register_frame(begin) takes a whole .eh_frame,
 *                   zero-terminated, __register_frame_table(table) a
 *                   NULL-terminated table of FDE pointers;
 *                   __deregister_frame(begin) takes either back (tables
 *                   only before GCC 13). libgcc allocates its own
 *                   bookkeeping object, so deregistering a begin it does
 *                   not know aborts - we only ever hand it back what it
 *                   took. Before GCC 13 functions go to it in groups of
 *                   64 (below), from GCC 13 on one .eh_frame each.
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
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef void (*frame_fn)(const void *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static frame_fn add_fn, remove_fn; /* libunwind: per FDE; libgcc: per .eh_frame */
static frame_fn add_table_fn;      /* libgcc: groups */
static const char *kind; /* "libunwind", "libgcc" or NULL */
static enum { PER_FDE, PER_EH_FRAME, GROUPS } mode;

static frame_fn find_fn(void *h, const char *name)
{
    void *p = dlsym(h, name);
    frame_fn f;
    memcpy(&f, &p, sizeof f); /* object to function pointer, as POSIX allows */
    return f;
}

/* 1 if h is a libgcc_s from GCC 13 or later: its version script defines
 * GCC_13.0.0 (on x86, for the bfloat16 conversions). Those keep registered
 * frames in a B-tree - and their __deregister_frame cannot take back a
 * __register_frame_table object (it reads the table as an .eh_frame). */
#if defined(__GLIBC__)
static int libgcc_13_or_later(void *h)
{
    static const char *const probes[] = {"__truncsfbf2", "__truncdfbf2", "__extendbfsf2"};
    static const char *const versions[] = {"GCC_13.0.0", "GCC_14.0.0", "GCC_15.0.0"};
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++)
        for (size_t j = 0; j < sizeof versions / sizeof *versions; j++)
            if (dlvsym(h, probes[i], versions[j]))
                return 1;
    return 0;
}
#endif

/* JITKIT_UNWIND_GROUPS=0: one libgcc object per function even where
 * groups would be used (for comparisons, and to test that path). */
static int env_says_no_groups(void)
{
    const char *e = getenv("JITKIT_UNWIND_GROUPS");
    return e && strcmp(e, "0") == 0;
}

static void detect(void)
{
    void *h;
    add_fn = find_fn(RTLD_DEFAULT, "__unw_add_dynamic_fde");
    remove_fn = find_fn(RTLD_DEFAULT, "__unw_remove_dynamic_fde");
    if (add_fn && remove_fn) {
        kind = "libunwind";
        mode = PER_FDE;
        return;
    }
    /* libgcc_s: already loaded (C++ programs, or glibc loaded it), else
       loaded now - the copy glibc's backtrace() would load later */
    h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    if (!h)
        h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL);
    add_fn = find_fn(RTLD_DEFAULT, "__register_frame");
    remove_fn = find_fn(RTLD_DEFAULT, "__deregister_frame");
    add_table_fn = find_fn(RTLD_DEFAULT, "__register_frame_table");
    if (!add_fn || !remove_fn)
        return;
    kind = "libgcc";
    /* Groups only where they are known to be needed and to work: the
       list-based libgcc_s before GCC 13 (the symbols found must be its
       own, not a static libgcc's in the program). */
    mode = PER_EH_FRAME;
#if defined(__GLIBC__)
    if (h && add_table_fn && !libgcc_13_or_later(h) && !env_says_no_groups()) {
        void *t = dlvsym(h, "__register_frame_table", "GCC_3.0");
        frame_fn tf;
        memcpy(&tf, &t, sizeof tf);
        if (t && tf == add_table_fn)
            mode = GROUPS;
    }
#endif
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
 * registered in groups of up to GROUP_MAX, each group one object made with
 * __register_frame_table: a NULL-terminated table of pointers to the
 * members' FDEs, which stay in the members' own .eh_frame (CIE + FDE)
 * until they leave. When a member joins or leaves, the new table is
 * registered before the old one is deregistered, so a concurrent unwind
 * always finds the FDE; libgcc reads a table only while it holds its
 * object lock (to sort the FDE pointers into its own array), and an FDE
 * it has handed out is never moved or rewritten, so rewriting the retired
 * table at the next change is safe. Two tables per group, fixed size:
 * joining and leaving never allocate, beyond a new group. A change costs
 * O(GROUP_MAX) here plus libgcc's search over n/GROUP_MAX objects, and a
 * lookup walks n/GROUP_MAX objects and sorts a changed group once. */

#define GROUP_MAX 64u

typedef struct group {
    struct group *prev, *next;  /* groups with room, most recent first */
    jk__dbg_fn *fns[GROUP_MAX];
    unsigned n;
    const void *table[2][GROUP_MAX + 1];
    int live, registered;       /* table[live] is registered */
} group;

static pthread_mutex_t group_lock = PTHREAD_MUTEX_INITIALIZER;
static group *with_room;

void jk__unwind_fork(int phase)
{
    if (phase == 0)
        pthread_mutex_lock(&group_lock);
    else
        pthread_mutex_unlock(&group_lock);
}

static size_t cie_bytes(const jk__dbg_fn *f)
{
    return 4 + ((size_t)f->eh[0] | (size_t)f->eh[1] << 8 | (size_t)f->eh[2] << 16 |
                (size_t)f->eh[3] << 24);
}

/* Register the group's current members as a new table, then retire the
   old table. */
static void publish(group *g)
{
    int spare = !g->live;
    if (g->n) {
        const void **t = g->table[spare];
        for (unsigned i = 0; i < g->n; i++)
            t[i] = g->fns[i]->eh + cie_bytes(g->fns[i]);
        t[g->n] = NULL;
        add_table_fn(t);
    }
    if (g->registered)
        remove_fn(g->table[g->live]);
    g->registered = g->n != 0;
    g->live = spare;
}

static void push_room(group *g)
{
    g->prev = NULL;
    g->next = with_room;
    if (with_room)
        with_room->prev = g;
    with_room = g;
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
    pthread_mutex_lock(&group_lock);
    g = with_room;
    if (!g) {
        g = jk__calloc(1, sizeof *g);
        if (!g) {
            pthread_mutex_unlock(&group_lock);
            return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
        }
        push_room(g);
    }
    f->unwind = g;
    f->unwind_idx = g->n;
    g->fns[g->n++] = f;
    publish(g);
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
    publish(g);
    if (g->n == 0) {
        if (!was_full)
            unlink_group(g);
        jk__free(g);
    } else if (was_full) {
        push_room(g);
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
    if (mode == GROUPS)
        return group_add(f, err);
    /* libunwind takes the FDE (it follows the CIE), libgcc the .eh_frame */
    f->unwind = mode == PER_FDE ? f->eh + cie_bytes(f) : f->eh;
    add_fn(f->unwind);
    return JK_OK;
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    if (!f->unwind)
        return;
    if (mode == GROUPS)
        group_remove(f);
    else
        remove_fn(f->unwind);
    f->unwind = NULL;
}

#elif !defined(_WIN32)

void jk__unwind_fork(int phase)
{
    (void)phase;
}

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
