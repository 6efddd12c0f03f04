/*
 * test_mem_faults.c - W^X is enforced by the hardware, not just promised:
 * writing to committed code faults, and so does executing memory that was
 * never made executable. Each case runs in a child process (fork on POSIX,
 * the same executable re-launched with the case name on Windows) and the
 * parent checks the child died of an access violation.
 */
#include "jt.h"
#include "snippets.h"

#include "jitkit/jitkit.h"

#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#else
#  include <signal.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

static const char *self_path;

/* -- The cases (run in the child) --------------------------------------- */

static jk_mem_strategy case_strategy(const char *name)
{
    return strstr(name, "dual") ? JK_MEM_DUAL : JK_MEM_FLIP;
}

/* Returns only if the forbidden access did NOT fault. */
static int child_case(const char *name)
{
    jk_mem_options opt = {case_strategy(name), NULL};
    jk_error err;
    jk_mem *m;
    volatile unsigned char *p;

    if (jk_mem_load(&m, seed_code, sizeof seed_code, &opt, &err) != JK_OK) {
        fprintf(stderr, "child: %s\n", err.message);
        return 2;
    }
    if (strncmp(name, "write-exec-view", 15) == 0) {
        /* committed code, written through the address it runs at */
        p = jk_mem_exec(m);
        p[0] = 0xc3;
    } else if (strncmp(name, "write-committed", 15) == 0) {
        /* FLIP: the only view is read+execute after commit */
        p = jk_mem_writable(m);
        p[0] = 0xc3;
    } else if (strncmp(name, "exec-writable", 13) == 0) {
        /* reopened (writable) memory must not execute */
        if (jk_mem_reopen(m, &err) != JK_OK)
            return 2;
        (void)as_fn0(jk_mem_writable(m))();
    } else if (strncmp(name, "exec-dual-write-view", 20) == 0) {
        (void)as_fn0(jk_mem_writable(m))();
    } else if (strncmp(name, "exec-heap", 9) == 0) {
        static unsigned char data[64];
        memcpy(data, seed_code, sizeof seed_code);
        (void)as_fn0(data)();
    } else {
        return 3;
    }
    return 0; /* survived: the test fails */
}

/* -- Parent side -------------------------------------------------------------- */

/* 1 if the child died of an access violation. */
static int child_faulted(const char *name, char *how, size_t n)
{
#if defined(_WIN32)
    char cmd[1024];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 0;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    snprintf(cmd, sizeof cmd, "\"%s\" --child %s", self_path, name);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        snprintf(how, n, "CreateProcess failed: %lu", (unsigned long)GetLastError());
        return 0;
    }
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    snprintf(how, n, "exit code 0x%lx", (unsigned long)code);
    return code == 0xC0000005u; /* STATUS_ACCESS_VIOLATION */
#else
    int status;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        /* no core files for the expected crash */
        signal(SIGSEGV, SIG_DFL);
        _exit(child_case(name) + 100);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        snprintf(how, n, "fork/wait failed");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        snprintf(how, n, "signal %d", WTERMSIG(status));
        return WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS;
    }
    snprintf(how, n, "exit %d", WEXITSTATUS(status));
    return 0;
#endif
}

#define EXPECT_FAULT(name)                                                       \
    do {                                                                         \
        char how_[64];                                                           \
        int f_ = child_faulted(name, how_, sizeof how_);                         \
        printf("     %-22s -> %s\n", name, how_);                                \
        JT_CHECK_MSG(f_, "'%s' did not fault (%s)", name, how_);                 \
    } while (0)

static void test_write_to_committed_code_faults(void)
{
    EXPECT_FAULT("write-committed-flip");
    EXPECT_FAULT("write-exec-view-flip");
    EXPECT_FAULT("write-exec-view-dual");
}

static void test_executing_writable_memory_faults(void)
{
    EXPECT_FAULT("exec-writable-flip");
    EXPECT_FAULT("exec-dual-write-view");
    EXPECT_FAULT("exec-heap");
}

#if defined(__linux__)
/* A dual block made before fork(): the child has the exec view (the code
 * keeps running) but no write view, so it cannot modify its parent's code;
 * the parent's block keeps working afterwards. */
static void test_fork_child_has_no_write_view(void)
{
    jk_mem_options opt = {JK_MEM_DUAL, NULL};
    jk_error err;
    jk_mem *m;
    int status;
    pid_t pid;

    JT_OK(jk_mem_load(&m, seed_code, sizeof seed_code, &opt, &err), &err);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        volatile unsigned char *w = jk_mem_writable(m);
        signal(SIGSEGV, SIG_DFL); /* sanitizers must not catch it */
        if (as_fn0(jk_mem_exec(m))() != 0x12345678)
            _exit(10);
#if defined(JK_TEST_UNDER_QEMU_USER)
        /* qemu-user accepts MADV_DONTFORK but does not implement it: the
         * child keeps the view. Real kernels drop it (checked natively). */
        printf("     qemu-user: write-view inheritance not checked\n");
        fflush(stdout);
        raise(SIGSEGV);
#endif
        w[0] = 0xc3; /* must fault: the write view is not inherited */
        _exit(11);
    }
    JT_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    JT_CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                 "child %s %d", WIFSIGNALED(status) ? "signal" : "exit",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    /* the parent still writes and runs */
    JT_OK(jk_mem_reopen(m, &err), &err);
    patch_seed_to_0x42(jk_mem_writable(m));
    JT_OK(jk_mem_commit(m, &err), &err);
#if !defined(JK_TEST_UNDER_QEMU_USER) /* see test_patch_after_reopen */
    JT_EQ_U64(as_fn0(jk_mem_exec(m))(), 0x42);
#endif
    JT_OK(jk_mem_free(m, &err), &err);
}
#endif

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 2 && strcmp(argv[1], "--child") == 0)
        return child_case(argv[2]) + 100;
    jt_only = argc > 1 ? argv[1] : NULL;
    JT_RUN(test_write_to_committed_code_faults);
    JT_RUN(test_executing_writable_memory_faults);
#if defined(__linux__)
    JT_RUN(test_fork_child_has_no_write_view);
#endif
    return jt_finish();
}
