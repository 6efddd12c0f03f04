/*
 * heap_os_posix.c - the code heap's per-OS helpers (mem/heap_p.h) for Linux,
 * the BSDs and macOS: yielding, finding the host program, and fork().
 *
 * The build compiles every src/ file, so this one guards itself.
 *
 * fork(): the handlers take every heap lock before the fork (so the child
 * inherits consistent metadata and no lock held by a thread that does not
 * exist there), release them in the parent, and in the child turn each DUAL
 * chunk into a private copy without a write view (jk__heap_os_fork_fix):
 *
 *   parent:  RW view --\                      child:  (placeholder, no access)
 *                       >-- shared pages               RX view -> private copy
 *            RX view --/
 */
#if !defined(_WIN32)

#include "mem/heap_p.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__linux__)
#  include <sys/auxv.h>
#endif

#ifndef MAP_ANONYMOUS
#  define MAP_ANONYMOUS MAP_ANON
#endif

void jk__heap_os_yield(void)
{
    sched_yield();
}

const void *jk__heap_os_host_code(void)
{
#if defined(__linux__) && defined(AT_PHDR)
    /* The main executable's program headers lie at the start of its image,
     * a few pages from its code. */
    unsigned long ph = getauxval(AT_PHDR);
    if (ph)
        return (const void *)(uintptr_t)ph;
#endif
    /* Elsewhere: this library's own code (right for static linking). */
    return (const void *)(uintptr_t)&jk_heap_new;
}

/* The child copies inherited DUAL chunks in its fork handler, but the
 * parent runs on meanwhile: until the copy is done the parent must not
 * change code the child inherited. The parent's handler therefore waits on
 * a pipe for the child before it releases the heap locks (every change to
 * published code takes them). Without DUAL heaps to copy there is no pipe
 * and no wait. */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int fork_pipe[2] = {-1, -1};

static void on_prepare(void)
{
    jk__heap_fork_prepare();
    fork_pipe[0] = fork_pipe[1] = -1;
    if (jk__heap_fork_needs_sync() && pipe(fork_pipe) != 0)
        fork_pipe[0] = fork_pipe[1] = -1; /* best effort: no wait */
}

static void on_parent(void)
{
    if (fork_pipe[0] >= 0) {
        char c;
        close(fork_pipe[1]);
        /* 1 byte when the child is done, 0 if it died first */
        while (read(fork_pipe[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(fork_pipe[0]);
    }
    jk__heap_fork_parent();
}

static void on_child(void)
{
    if (fork_pipe[0] >= 0)
        close(fork_pipe[0]);
    jk__heap_fork_child();
    if (fork_pipe[1] >= 0) {
        while (write(fork_pipe[1], "k", 1) < 0 && errno == EINTR)
            ;
        close(fork_pipe[1]);
    }
}

static void fork_register(void)
{
    (void)pthread_atfork(on_prepare, on_parent, on_child);
}

void jk__heap_os_fork_init(void)
{
    (void)pthread_once(&fork_once, fork_register);
}

static int map_none(char *p, size_t n)
{
    void *q = mmap(p, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return q == MAP_FAILED ? -1 : 0;
}

int jk__heap_os_fork_fix(char *rx, char *rw, size_t size, size_t guard, int copy)
{
    size_t usable = size - 2 * guard;
    char *tmp, *code = rx + guard;
    int rc = 0;

    /* No writable view of the parent's code in the child. (On Linux it is
     * not even inherited; the placeholder keeps the range reserved so that
     * unmapping the block later cannot hit a stranger's mapping.) */
    if (rw != rx && map_none(rw, size) != 0)
        rc = -1;
    if (!copy)
        return rc;
    /* Private copy of the code at the same address; never RWX. */
    tmp = mmap(NULL, usable, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tmp == MAP_FAILED)
        return -1;
    memcpy(tmp, code, usable);
    if (mmap(code, usable, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
             0) == MAP_FAILED) {
        munmap(tmp, usable);
        return -1;
    }
    memcpy(code, tmp, usable);
    munmap(tmp, usable);
    if (mprotect(code, usable, PROT_READ | PROT_EXEC) != 0)
        rc = -1;
    if (guard && (map_none(rx, guard) != 0 || map_none(rx + size - guard, guard) != 0))
        rc = -1;
    return rc;
}

#else
typedef int jk__heap_os_posix_empty; /* ISO C: no empty translation units */
#endif
