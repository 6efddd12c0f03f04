/*
 * jitkit/mem.h - executable memory at page granularity.
 *
 * The contract is W^X: no page is ever writable and executable at the same
 * time. A block goes through a small transaction:
 *
 *     jk_mem_alloc      ->  writable (RW), not executable
 *     write code through jk_mem_writable(m)
 *     jk_mem_commit     ->  executable (RX), icache flushed; call jk_mem_exec(m)
 *     jk_mem_reopen     ->  writable again for patching (then commit again)
 *     jk_mem_free
 *
 * How the transaction is carried out is the block's *strategy*:
 *
 *   FLIP     one mapping whose protection is switched RW <-> RX (mprotect,
 *            VirtualProtect). Two system calls per transaction; the exec
 *            address equals the write address.
 *   DUAL     the same physical pages mapped twice: an RW view and an RX view
 *            (memfd_create / shm_open / unlinked temporary file on POSIX, a
 *            pagefile-backed section on Windows). Works where policy refuses
 *            to make once-writable memory executable (SELinux execmem, PaX
 *            MPROTECT, OpenBSD-style W^X); commit and reopen need no system
 *            call. Code must be written through jk_mem_writable() and run
 *            through jk_mem_exec(): the two addresses differ.
 *   MAP_JIT  Apple silicon: one MAP_JIT mapping; the calling thread toggles
 *            it between writable and executable (pthread_jit_write_protect_np)
 *            and the icache is invalidated with sys_icache_invalidate.
 *            Compiled on macOS/arm64 only and untested by our CI.
 *   AUTO     FLIP when the OS allows it (probed once per process with a
 *            throw-away page), otherwise DUAL. If the policy changes later
 *            (a sandbox installed after the probe) a refused commit reports
 *            JK_EPOLICY and later AUTO allocations use DUAL.
 *
 * Errors: every function returns a status; on failure the optional jk_error
 * names the step and carries the OS's own text. Nothing here prints, aborts
 * or exits. Allocation metadata lives in ordinary heap memory, never in the
 * executable pages.
 *
 * Thread safety: distinct blocks may be used from different threads freely.
 * One block must not be committed/reopened/freed concurrently with itself.
 */
#ifndef JITKIT_MEM_H
#define JITKIT_MEM_H

#include "jitkit/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jk_mem_strategy {
    JK_MEM_AUTO,
    JK_MEM_FLIP,
    JK_MEM_DUAL,
    JK_MEM_MAP_JIT,
    JK_MEM_STRATEGY_COUNT
} jk_mem_strategy;

/* Per-page access for jk_mem_protect(). Never WRITE together with EXEC. */
typedef enum jk_mem_access {
    JK_ACCESS_NONE,  /* guard: any access faults */
    JK_ACCESS_RW,    /* read + write */
    JK_ACCESS_RX,    /* read + execute (icache flushed) */
    JK_ACCESS_COUNT
} jk_mem_access;

typedef struct jk_mem_options {
    jk_mem_strategy strategy;  /* JK_MEM_AUTO when zero-initialised */
    const void *near_to;       /* if non-NULL: the exec view must lie within
                                  +-2 GiB (minus the block size) of it, so
                                  rel32 branches reach it; JK_ENOTNEAR if no
                                  such place could be found */
} jk_mem_options;

typedef struct jk_mem jk_mem;

/* Size of a page (the unit of protection). */
JK_API size_t jk_mem_page_size(void);

/* Allocate `size` bytes (rounded up to whole pages) of writable memory that
 * can later be made executable. opt may be NULL (AUTO, anywhere).
 * On success *out owns the block: release it with jk_mem_free().
 * Returns JK_EINVAL (size 0, bad strategy), JK_ENOMEM, JK_EOS, JK_EPOLICY,
 * JK_EUNSUPPORTED (strategy not available here), JK_ENOTNEAR. */
JK_API jk_status jk_mem_alloc(jk_mem **out, size_t size, const jk_mem_options *opt,
                              jk_error *err);

/* Allocate, copy `code` in, commit: the classic recipe in one call. */
JK_API jk_status jk_mem_load(jk_mem **out, const void *code, size_t size,
                             const jk_mem_options *opt, jk_error *err);

/* Address to write code at. With FLIP and MAP_JIT it is only writable
 * between alloc/reopen and commit; with DUAL it stays writable. */
JK_API void *jk_mem_writable(const jk_mem *m);

/* Address to execute code at (differs from the writable one under DUAL). */
JK_API void *jk_mem_exec(const jk_mem *m);

/* Usable size in bytes (whole pages). */
JK_API size_t jk_mem_size(const jk_mem *m);

/* The strategy this block actually uses (never JK_MEM_AUTO). */
JK_API jk_mem_strategy jk_mem_strategy_of(const jk_mem *m);

/* Make the whole block executable (read+execute) and flush the icache.
 * A no-op when it is already committed. JK_EPOLICY if the OS refuses. */
JK_API jk_status jk_mem_commit(jk_mem *m, jk_error *err);

/* Make the whole block writable again (for patching). Under FLIP the code
 * cannot run until the next commit; under DUAL it keeps running. */
JK_API jk_status jk_mem_reopen(jk_mem *m, jk_error *err);

/* Set the access of pages [offset, offset+len) of the block; offset and len
 * must be page multiples. For building allocators on top of a block (the
 * code heap uses it for guard pages and partial commits). Under DUAL, NONE
 * makes both views inaccessible and RW or RX restores both (write view RW,
 * exec view RX). Under MAP_JIT only NONE is supported. RX flushes the icache
 * of the range. Does not change the block's commit state. */
JK_API jk_status jk_mem_protect(jk_mem *m, size_t offset, size_t len, jk_mem_access access,
                                jk_error *err);

/* Release the block. NULL is accepted. Returns JK_EOS if the OS refused to
 * unmap (the handle is freed regardless). */
JK_API jk_status jk_mem_free(jk_mem *m, jk_error *err);

/* Flush the instruction cache for [p, p+size): needed after writing code on
 * CPUs without coherent icaches (AArch64). jk_mem_commit does it for you. */
JK_API void jk_mem_flush_icache(const void *p, size_t size);

/* What JK_MEM_AUTO resolves to in this process now (may probe the OS once). */
JK_API jk_mem_strategy jk_mem_auto_strategy(void);

/* Whether the strategy can be used on this platform/build at all. */
JK_API int jk_mem_strategy_available(jk_mem_strategy s);

/* "auto", "flip", "dual", "map-jit"; "?" for bad values. */
JK_API const char *jk_mem_strategy_name(jk_mem_strategy s);

#ifdef __cplusplus
}
#endif
#endif
