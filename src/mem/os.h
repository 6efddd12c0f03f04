/*
 * mem/os.h - the contract between the portable memory layer (mem.c, the code
 * heap) and the per-OS files. Exactly one of os_posix.c / os_windows.c is
 * compiled, chosen by the build system; each fills this contract and nothing
 * else:
 *
 *   page size      jk__os_page_size, jk__os_granularity
 *   reserve        jk__os_map_new     (one view, or a dual RW+RX pair)
 *   release        jk__os_unmap
 *   protect        jk__os_protect     (never WRITE together with EXEC)
 *   flush icache   jk__os_flush_icache
 *   capabilities   jk__os_has, jk__os_probe_flip
 *   Apple JIT      jk__os_jit_write   (per-thread MAP_JIT toggle)
 *
 * Every function here that can fail first asks jk__fault_hit() (core/fault.h)
 * so tests can make the n-th OS call fail; failures are reported through
 * jk_error with the failed call, its arguments and the OS's own text.
 */
#ifndef JK_MEM_OS_H
#define JK_MEM_OS_H

#include "jitkit/mem.h"

typedef enum jk__prot {
    JK__PROT_NONE,
    JK__PROT_R,
    JK__PROT_RW,
    JK__PROT_RX
} jk__prot;

/* A mapping as the OS layer made it. For FLIP and MAP_JIT rw == rx. */
typedef struct jk__os_map {
    char *rw;
    char *rx;
    size_t size;               /* page multiple */
    jk_mem_strategy strategy;  /* FLIP, DUAL or MAP_JIT */
} jk__os_map;

size_t jk__os_page_size(void);

/* Alignment of addresses the OS hands out (page size on POSIX, 64 KiB on
 * Windows); near-allocation hints are rounded to it. */
size_t jk__os_granularity(void);

/* Whether the strategy is compiled in and usable on this OS at all. */
int jk__os_has(jk_mem_strategy s);

/* Map `size` bytes (page multiple) for strategy s (not AUTO). The memory
 * starts writable: FLIP maps RW, DUAL maps an RW view and an RX view of the
 * same pages, MAP_JIT maps a JIT region and makes it writable for the
 * calling thread. `hint` is a preferred address for the exec view, which the
 * OS may ignore (callers check). */
jk_status jk__os_map_new(jk__os_map *map, size_t size, jk_mem_strategy s, const void *hint,
                         jk_error *err);

/* Unmap both views. The struct is cleared even on failure. */
jk_status jk__os_unmap(jk__os_map *map, jk_error *err);

/* Change the protection of [p, p+size) (page aligned). */
jk_status jk__os_protect(void *p, size_t size, jk__prot prot, jk_error *err);

void jk__os_flush_icache(const void *p, size_t size);

/* Returns 1 if this process may turn a writable anonymous page executable
 * (the FLIP strategy), 0 if the OS refuses (policy), -1 if the probe itself
 * could not run (e.g. out of memory). Not cached here. */
int jk__os_probe_flip(void);

/* MAP_JIT: make JIT regions writable (1) or executable (0) for the calling
 * thread. No-op on systems without MAP_JIT. */
void jk__os_jit_write(int writable);

/* POSIX only, for tests: force the object behind DUAL mappings
 * (0 = first that works, 1 = memfd_create, 2 = shm_open, 3 = temp file). */
extern int jk__os_dual_backend;

#endif
