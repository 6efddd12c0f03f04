/*
 * core/fault.h - fault injection for tests.
 *
 * Every call the library makes into the OS that can fail (mmap, mprotect,
 * VirtualAlloc, memfd_create, ...) and every malloc of library metadata goes
 * through jk__fault_hit() first. Tests arm a countdown with
 * jk__fault_arm(n): the n-th such call from then on fails as if the OS had
 * refused (ENOMEM / ERROR_NOT_ENOUGH_MEMORY). The counter is atomic, so
 * concurrent tests are well-defined; in normal use it is never armed and the
 * check is one relaxed atomic load.
 */
#ifndef JK_CORE_FAULT_H
#define JK_CORE_FAULT_H

#include <stddef.h>

/* Make the n-th (1-based) fallible call from now fail; 0 disarms. */
void jk__fault_arm(long n);

/* Number of fallible calls seen since the last jk__fault_arm(). */
long jk__fault_calls(void);

/* Nonzero if the current call must fail (consumes one count). */
int jk__fault_hit(void);

/* malloc/calloc/free for library metadata, subject to fault injection. */
void *jk__malloc(size_t size);
void *jk__calloc(size_t n, size_t size);
void jk__free(void *p);

#endif
