/*
 * test_heap_fork.c - the code heap across fork() (POSIX only).
 *
 *   isolation  The child keeps calling a function it inherited while the
 *              parent frees it and installs a different function at the very
 *              same address (LIFO reuse forces that): the child must still
 *              see its own code, hold no writable mapping of the parent's
 *              code, be able to install new code, and get JK_ESTATE when it
 *              patches inherited code. The parent's heap keeps working.
 *   busy       fork() while another thread installs and frees non-stop: the
 *              children must find every heap lock free and work normally.
 */
#include "jitkit/heap.h"
#include "hcode.h"
#include "jt.h"
#include "mem/wx_audit.h"

#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit codes of the child, so the parent can say what went wrong. */
enum {
    C_OK = 0,
    C_CALL_BEFORE = 10,
    C_WRITABLE_VIEW,
    C_CALL_AFTER,
    C_INSTALL,
    C_PATCH_STATE,
    C_FREE,
    C_WX,
    C_DESTROY
};

/* 1 if some writable mapping of this process covers p (Linux). */
static int writable_at(const void *p)
{
#if defined(__linux__)
    char line[512];
    int w = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && (uintptr_t)p >= lo &&
            (uintptr_t)p < hi && perms[1] == 'w')
            w = 1;
    }
    fclose(f);
    return w;
#else
    (void)p;
    return 0;
#endif
}

static int child_isolation(jk_heap *h, jk_heap_slot s, int dual, int go_fd)
{
    jk_error e;
    char c;
    void *g;
    uint8_t code[16];
    char wx[600];

    if (hc_as_fn(s.exec)() != 111)
        return C_CALL_BEFORE;
    if (dual && writable_at(s.write))
        return C_WRITABLE_VIEW;
    if (read(go_fd, &c, 1) != 1)
        return C_CALL_AFTER;
    if (hc_as_fn(s.exec)() != 111) /* the parent has replaced it by now */
        return C_CALL_AFTER;
    if (jk_heap_install(h, code, emit_ret(code, 333), &g, &e) != JK_OK ||
        hc_as_fn(g)() != 333)
        return C_INSTALL;
    if (dual && jk_heap_patch(h, s.exec, code, 6, &e) != JK_ESTATE)
        return C_PATCH_STATE;
    if (jk_heap_free(h, s.exec, &e) != JK_OK || jk_heap_free(h, g, &e) != JK_OK)
        return C_FREE;
    if (wx_audit(wx, sizeof wx) > 0)
        return C_WX;
    if (jk_heap_destroy(h, &e) != JK_OK)
        return C_DESTROY;
    return C_OK;
}

static void run_isolation(jk_mem_strategy strat)
{
    jk_heap_options o;
    jk_heap *h;
    jk_heap_window *w;
    jk_heap_slot s;
    jk_error e;
    int fds[2], status = 0;
    pid_t pid;
    void *again;
    uint8_t code[16];

    memset(&o, 0, sizeof o);
    o.strategy = strat;
    o.flags = JK_HEAP_REUSE_LIFO;
    o.arenas = 1;
    JT_OK(jk_heap_new(&h, &o, &e), &e);
    JT_OK(jk_heap_window_begin(h, &w, &e), &e);
    JT_OK(jk_heap_alloc(w, 16, 0, &s, &e), &e);
    emit_ret(s.write, 111);
    JT_OK(jk_heap_window_commit(w, &e), &e);
    JT_EQ_U64(hc_as_fn(s.exec)(), 111);
    JT_CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid = fork();
    JT_CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        _exit(child_isolation(h, s, strat == JK_MEM_DUAL, fds[0]));
    }
    close(fds[0]);
    /* Parent: replace the function at the same address. */
    JT_OK(jk_heap_free(h, s.exec, &e), &e);
    JT_OK(jk_heap_install(h, code, emit_ret(code, 222), &again, &e), &e);
    JT_CHECK(again == s.exec);
    if (strat == JK_MEM_FLIP || hc_dual_coherent())
        JT_EQ_U64(hc_as_fn(again)(), 222);
    JT_CHECK(write(fds[1], "g", 1) == 1);
    close(fds[1]);
    JT_CHECK(waitpid(pid, &status, 0) == pid);
    JT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "child: status 0x%x (exit code %d)", status,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* The parent's heap is untouched. */
    if (strat == JK_MEM_FLIP || hc_dual_coherent())
        JT_EQ_U64(hc_as_fn(again)(), 222);
    for (int i = 0; i < 1000; i++) {
        void *f;
        JT_OK(jk_heap_install(h, code, emit_ret(code, (uint32_t)i), &f, &e), &e);
        if (strat == JK_MEM_FLIP || hc_dual_coherent())
            JT_EQ_U64(hc_as_fn(f)(), i);
        else
            (void)hc_as_fn(f)();
    }
    if (strat == JK_MEM_DUAL)
        JT_OK(jk_heap_patch(h, again, code, emit_ret(code, 5), &e), &e);
    JT_OK(jk_heap_destroy(h, &e), &e);
}

static void test_fork_dual(void)
{
    run_isolation(JK_MEM_DUAL);
}

static void test_fork_flip(void)
{
    run_isolation(JK_MEM_FLIP);
}

/* JK_HEAP_FORK_NO_COPY: no copy, but still no writable view in the child. */
static void test_fork_no_copy(void)
{
    jk_heap_options o;
    jk_heap *h;
    jk_heap_window *w;
    jk_heap_slot s;
    jk_error e;
    int status = 0;
    pid_t pid;

    memset(&o, 0, sizeof o);
    o.strategy = JK_MEM_DUAL;
    o.flags = JK_HEAP_FORK_NO_COPY;
    JT_OK(jk_heap_new(&h, &o, &e), &e);
    JT_OK(jk_heap_window_begin(h, &w, &e), &e);
    JT_OK(jk_heap_alloc(w, 16, 0, &s, &e), &e);
    emit_ret(s.write, 7);
    JT_OK(jk_heap_window_commit(w, &e), &e);
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(writable_at(s.write) ? 1 : hc_as_fn(s.exec)() == 7 ? 0 : 2);
    JT_CHECK(waitpid(pid, &status, 0) == pid);
    JT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    JT_OK(jk_heap_destroy(h, &e), &e);
}

/* fork() in the middle of concurrent heap traffic. */
typedef struct busy {
    jk_heap *h;
    int check;
    atomic_int stop, bad;
} busy;

static void *busy_main(void *arg)
{
    busy *B = arg;
    jk_error e;
    while (!atomic_load(&B->stop)) {
        void *f;
        uint8_t code[16];
        if (jk_heap_install(B->h, code, emit_ret(code, 3), &f, &e) != JK_OK ||
            (hc_as_fn(f)() != 3 && B->check) || jk_heap_free(B->h, f, &e) != JK_OK)
            atomic_store(&B->bad, 1);
    }
    return NULL;
}

static void test_fork_busy(void)
{
    int coherent = hc_dual_coherent();
    for (int si = 0; si < 2; si++) {
        static busy B;
        jk_heap_options o;
        jk_error e;
        hc_thread th[2];
        memset(&o, 0, sizeof o);
        memset(&B, 0, sizeof B);
        o.strategy = si ? JK_MEM_FLIP : JK_MEM_DUAL;
        B.check = si || coherent;
        JT_OK(jk_heap_new(&B.h, &o, &e), &e);
        JT_CHECK(hc_thread_start(&th[0], busy_main, &B) == 0);
        JT_CHECK(hc_thread_start(&th[1], busy_main, &B) == 0);
        for (int k = 0; k < 20; k++) {
            int status = 0;
            pid_t pid;
            hc_sleep_ms(5);
            fflush(stdout);
            pid = fork();
            if (pid == 0) {
                int rc = 0;
                for (int i = 0; i < 100 && !rc; i++) {
                    void *f;
                    uint8_t code[16];
                    if (jk_heap_install(B.h, code, emit_ret(code, (uint32_t)i), &f, &e) !=
                            JK_OK ||
                        (hc_as_fn(f)() != i && (si || coherent)) ||
                        jk_heap_free(B.h, f, &e) != JK_OK)
                        rc = 1;
                }
                _exit(rc);
            }
            JT_CHECK(pid > 0);
            JT_CHECK(waitpid(pid, &status, 0) == pid);
            JT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                         "child %d status 0x%x", k, status);
        }
        atomic_store(&B.stop, 1);
        hc_thread_join(th[0]);
        hc_thread_join(th[1]);
        JT_EQ_I64(B.bad, 0);
        JT_OK(jk_heap_destroy(B.h, &e), &e);
    }
}

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    (void)map_count;
    JT_RUN(test_fork_dual);
    JT_RUN(test_fork_flip);
    JT_RUN(test_fork_no_copy);
    JT_RUN(test_fork_busy);
    return jt_finish();
}
