/*
 * mem.c - page-granular executable memory on top of the OS contract in
 * mem/os.h. This file is OS-independent: it owns the W^X state machine,
 * strategy selection (AUTO probes once per process) and near placement.
 *
 *     alloc ----> WRITABLE --commit--> COMMITTED --reopen--> WRITABLE ...
 *
 * The current state is remembered so a redundant commit or reopen costs no
 * system call. Metadata (struct jk_mem) lives in malloc'd memory, never in
 * the executable pages.
 */
#include "jitkit/mem.h"

#include "core/error.h"
#include "core/fault.h"
#include "mem/os.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct jk_mem {
    jk__os_map map;
    int committed;        /* 1: RX (exec view live), 0: writable */
};

/* AUTO resolution, process-wide: 0 unknown, 1 FLIP allowed, 2 refused. */
static atomic_int flip_policy;

size_t jk_mem_page_size(void)
{
    return jk__os_page_size();
}

const char *jk_mem_strategy_name(jk_mem_strategy s)
{
    switch (s) {
    case JK_MEM_AUTO:    return "auto";
    case JK_MEM_FLIP:    return "flip";
    case JK_MEM_DUAL:    return "dual";
    case JK_MEM_MAP_JIT: return "map-jit";
    default:             return "?";
    }
}

int jk_mem_strategy_available(jk_mem_strategy s)
{
    if (s == JK_MEM_AUTO)
        return 1;
    return jk__os_has(s);
}

jk_mem_strategy jk_mem_auto_strategy(void)
{
    int policy = atomic_load(&flip_policy);
    if (jk__os_has(JK_MEM_MAP_JIT))
        return JK_MEM_MAP_JIT;
    if (policy == 0) {
        int probe = jk__os_probe_flip();
        if (probe < 0)
            return JK_MEM_FLIP; /* could not tell; try the cheap way */
        policy = probe ? 1 : 2;
        atomic_store(&flip_policy, policy);
    }
    return policy == 1 ? JK_MEM_FLIP : JK_MEM_DUAL;
}

/* -- Placement ---------------------------------------------------------------- */

/* Largest distance between `target` and any byte of [p, p+size) that a rel32
 * displacement (measured from the end of a 5..15-byte instruction) reaches,
 * kept conservative: 2 GiB minus 64 KiB. */
#define NEAR_REACH ((uint64_t)0x7fff0000u)

static int is_near(const void *p, size_t size, const void *target)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + size, n = (uintptr_t)target;
    uint64_t d1 = lo > n ? (uint64_t)(lo - n) : (uint64_t)(n - lo);
    uint64_t d2 = hi > n ? (uint64_t)(hi - n) : (uint64_t)(n - hi);
    return d1 <= NEAR_REACH && d2 <= NEAR_REACH;
}

/* Map within reach of `target`: ask for hints at growing distances on both sides; the OS
 * treats them as hints, so each result is checked and discarded if far. */
static jk_status map_near(jk__os_map *map, size_t size, jk_mem_strategy s, const void *target,
                          jk_error *err)
{
    const uintptr_t gran = jk__os_granularity();
    const uintptr_t step = (uintptr_t)32 << 20; /* 32 MiB */
    uintptr_t n = (uintptr_t)target & ~(gran - 1);
    jk_status st;

    if (sizeof(void *) == 4 || size >= NEAR_REACH) {
        /* The whole 32-bit space is within reach of rel32. */
        if (size >= NEAR_REACH && sizeof(void *) == 8)
            return jk__fail(err, JK_ENOTNEAR, "%zu bytes cannot all lie within 2 GiB of %p",
                            size, target);
        return jk__os_map_new(map, size, s, NULL, err);
    }
    for (uintptr_t k = 1; k * step < NEAR_REACH; k++) {
        for (int side = 0; side < 2; side++) {
            uintptr_t hint;
            if (side == 0) {
                if (n < k * step + size)
                    continue;
                hint = n - k * step;
            } else {
                if (UINTPTR_MAX - n < k * step + size)
                    continue;
                hint = n + k * step - size;
                hint &= ~(gran - 1);
            }
            st = jk__os_map_new(map, size, s, (const void *)hint, err);
            if (st != JK_OK)
                return st;
            if (is_near(map->rx, size, target))
                return JK_OK;
            jk__os_unmap(map, NULL);
        }
    }
    return jk__fail(err, JK_ENOTNEAR,
                    "no free address range of %zu bytes within 2 GiB of %p", size, target);
}

/* -- Blocks ---------------------------------------------------------------- */

jk_status jk_mem_alloc(jk_mem **out, size_t size, const jk_mem_options *opt, jk_error *err)
{
    static const jk_mem_options defaults;
    size_t page = jk__os_page_size(), rounded;
    jk_mem_strategy s;
    jk_mem *m;
    jk_status st;

    jk__error_clear(err);
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_mem_alloc: out is NULL");
    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (size == 0)
        return jk__fail(err, JK_EINVAL, "jk_mem_alloc: size is 0");
    if (size > SIZE_MAX - page)
        return jk__fail(err, JK_ENOMEM, "jk_mem_alloc: size %zu is too large", size);
    if ((unsigned)opt->strategy >= (unsigned)JK_MEM_STRATEGY_COUNT)
        return jk__fail(err, JK_EINVAL, "jk_mem_alloc: unknown strategy %d", (int)opt->strategy);
    s = opt->strategy == JK_MEM_AUTO ? jk_mem_auto_strategy() : opt->strategy;
    if (!jk__os_has(s))
        return jk__fail(err, JK_EUNSUPPORTED, "memory strategy '%s' is not available on this "
                        "platform", jk_mem_strategy_name(s));
    rounded = (size + page - 1) & ~(page - 1);

    m = jk__calloc(1, sizeof *m);
    if (!m)
        return jk__fail(err, JK_ENOMEM, "jk_mem_alloc: out of memory for the block handle");
    if (opt->near_to)
        st = map_near(&m->map, rounded, s, opt->near_to, err);
    else
        st = jk__os_map_new(&m->map, rounded, s, NULL, err);
    if (st != JK_OK) {
        jk__free(m);
        return st;
    }
    *out = m;
    return JK_OK;
}

void *jk_mem_writable(const jk_mem *m)
{
    return m ? m->map.rw : NULL;
}

void *jk_mem_exec(const jk_mem *m)
{
    return m ? m->map.rx : NULL;
}

size_t jk_mem_size(const jk_mem *m)
{
    return m ? m->map.size : 0;
}

jk_mem_strategy jk_mem_strategy_of(const jk_mem *m)
{
    return m ? m->map.strategy : JK_MEM_AUTO;
}

jk_status jk_mem_commit(jk_mem *m, jk_error *err)
{
    jk_status st = JK_OK;

    if (!m)
        return jk__fail(err, JK_EINVAL, "jk_mem_commit: block is NULL");
    if (m->committed)
        return JK_OK;
    switch (m->map.strategy) {
    case JK_MEM_FLIP:
        st = jk__os_protect(m->map.rx, m->map.size, JK__PROT_RX, err);
        if (st == JK_EPOLICY) {
            /* A sandbox went up after AUTO was probed: later AUTO blocks
             * take the dual mapping. */
            atomic_store(&flip_policy, 2);
        }
        break;
    case JK_MEM_MAP_JIT:
        jk__os_jit_write(0);
        break;
    default:
        break; /* DUAL: the exec view is RX from the start */
    }
    if (st != JK_OK)
        return st;
    jk__os_flush_icache(m->map.rx, m->map.size);
    m->committed = 1;
    return JK_OK;
}

jk_status jk_mem_reopen(jk_mem *m, jk_error *err)
{
    jk_status st = JK_OK;

    if (!m)
        return jk__fail(err, JK_EINVAL, "jk_mem_reopen: block is NULL");
    if (!m->committed)
        return JK_OK;
    if (m->map.strategy == JK_MEM_FLIP)
        st = jk__os_protect(m->map.rw, m->map.size, JK__PROT_RW, err);
    else if (m->map.strategy == JK_MEM_MAP_JIT)
        jk__os_jit_write(1);
    if (st == JK_OK)
        m->committed = 0;
    return st;
}

jk_status jk_mem_protect(jk_mem *m, size_t offset, size_t len, jk_mem_access access,
                         jk_error *err)
{
    size_t page = jk__os_page_size();
    jk_status st;

    if (!m)
        return jk__fail(err, JK_EINVAL, "jk_mem_protect: block is NULL");
    if ((unsigned)access >= (unsigned)JK_ACCESS_COUNT)
        return jk__fail(err, JK_EINVAL, "jk_mem_protect: unknown access %d", (int)access);
    if ((offset | len) & (page - 1))
        return jk__fail(err, JK_EINVAL, "jk_mem_protect: offset %zu / length %zu are not "
                        "multiples of the page size %zu", offset, len, page);
    if (offset > m->map.size || len > m->map.size - offset)
        return jk__fail(err, JK_ERANGE, "jk_mem_protect: [%zu, +%zu) lies outside the "
                        "%zu-byte block", offset, len, m->map.size);
    if (len == 0)
        return JK_OK;

    switch (m->map.strategy) {
    case JK_MEM_DUAL:
        if (access == JK_ACCESS_NONE) {
            st = jk__os_protect(m->map.rw + offset, len, JK__PROT_NONE, err);
            if (st == JK_OK)
                st = jk__os_protect(m->map.rx + offset, len, JK__PROT_NONE, err);
        } else {
            st = jk__os_protect(m->map.rw + offset, len, JK__PROT_RW, err);
            if (st == JK_OK)
                st = jk__os_protect(m->map.rx + offset, len, JK__PROT_RX, err);
        }
        break;
    case JK_MEM_MAP_JIT:
        /* Protection of a MAP_JIT region cannot change to writable; only
         * guard pages make sense. */
        if (access == JK_ACCESS_NONE)
            st = jk__os_protect(m->map.rx + offset, len, JK__PROT_NONE, err);
        else
            st = jk__fail(err, JK_EUNSUPPORTED, "jk_mem_protect: MAP_JIT regions switch "
                          "writability per thread, not per page");
        break;
    default:
        st = jk__os_protect(m->map.rx + offset, len,
                            access == JK_ACCESS_RW   ? JK__PROT_RW
                            : access == JK_ACCESS_RX ? JK__PROT_RX
                                                     : JK__PROT_NONE,
                            err);
        if (st == JK_EPOLICY && access == JK_ACCESS_RX)
            atomic_store(&flip_policy, 2);
        break;
    }
    if (st == JK_OK && access == JK_ACCESS_RX)
        jk__os_flush_icache(m->map.rx + offset, len);
    return st;
}

jk_status jk_mem_free(jk_mem *m, jk_error *err)
{
    jk_status st;
    if (!m)
        return JK_OK;
    st = jk__os_unmap(&m->map, err);
    jk__free(m);
    return st;
}

jk_status jk_mem_load(jk_mem **out, const void *code, size_t size, const jk_mem_options *opt,
                      jk_error *err)
{
    jk_mem *m;
    jk_status st;

    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_mem_load: out is NULL");
    *out = NULL;
    if (!code && size)
        return jk__fail(err, JK_EINVAL, "jk_mem_load: code is NULL");
    st = jk_mem_alloc(&m, size, opt, err);
    if (st != JK_OK)
        return st;
    memcpy(m->map.rw, code, size);
    st = jk_mem_commit(m, err);
    if (st != JK_OK) {
        jk_mem_free(m, NULL);
        return st;
    }
    *out = m;
    return JK_OK;
}

void jk_mem_flush_icache(const void *p, size_t size)
{
    if (p && size)
        jk__os_flush_icache(p, size);
}
