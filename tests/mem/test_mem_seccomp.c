/*
 * test_mem_seccomp.c - under a real restricted policy, AUTO picks the dual
 * mapping and code still runs.
 *
 * A child process installs a seccomp filter that denies (EACCES) every
 * mprotect/pkey_mprotect that asks for PROT_EXEC and every mmap that asks
 * for PROT_EXEC on anonymous memory - what SELinux's execmem denial or PaX
 * MPROTECT amount to for a JIT. File-backed executable mappings stay
 * allowed, which is what the dual mapping uses. In the child:
 *   1. the policy is checked to be in force (raw calls are refused);
 *   2. AUTO probes, chooses DUAL, and the seed code returns 0x12345678;
 *   3. an explicit FLIP block is refused at commit with JK_EPOLICY and a
 *      message naming mprotect and the OS's reason.
 * Exit code 77 (skip) only if the kernel/emulator cannot install a filter.
 */
#include "jt.h"
#include "snippets.h"

#include "jitkit/jitkit.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#  define ARCH_NR AUDIT_ARCH_X86_64
#  define MMAP_NR __NR_mmap
#elif defined(__i386__)
#  define ARCH_NR AUDIT_ARCH_I386
#  define MMAP_NR __NR_mmap2
#elif defined(__aarch64__)
#  define ARCH_NR AUDIT_ARCH_AARCH64
#  define MMAP_NR __NR_mmap
#else
#  error "add the audit arch for this CPU"
#endif
#ifndef __NR_pkey_mprotect
#  define __NR_pkey_mprotect __NR_mprotect
#endif

/* Low 32 bits of syscall argument i (little-endian). */
#define ARG_LO(i) (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i))

static int install_policy(void)
{
    struct sock_filter prog[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 0, 10),
        /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 2, 0),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, 1, 0),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MMAP_NR, 2, 6),
        /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),         /* prot */
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 5, 4),
        /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),         /* prot */
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 2),
        /* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3)),        /* flags */
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 1, 0),
        /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
    };
    struct sock_fprog fprog = {(unsigned short)(sizeof prog / sizeof prog[0]), prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}

/* The child's checks; returns an exit code (0 = all good). */
static int restricted_child(void)
{
    jk_mem_options flip = {JK_MEM_FLIP, NULL};
    jk_error err;
    jk_mem *m;
    void *p;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (install_policy() != 0) {
        printf("     cannot install a seccomp filter here (%s)\n", strerror(errno));
        return 77;
    }
    /* 1. the policy is in force */
    p = mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED || errno != EACCES) {
        printf("     policy not in force: anonymous exec mmap was allowed\n");
        return 77;
    }
    p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p, page, PROT_READ | PROT_EXEC) == 0 || errno != EACCES) {
        printf("     policy not in force: mprotect(READ|EXEC) was allowed\n");
        return 77;
    }
    munmap(p, page);

    /* 2. AUTO chooses DUAL and runs */
    if (jk_mem_auto_strategy() != JK_MEM_DUAL) {
        printf("     AUTO chose %s\n", jk_mem_strategy_name(jk_mem_auto_strategy()));
        return 10;
    }
    if (jk_mem_load(&m, seed_code, sizeof seed_code, NULL, &err) != JK_OK) {
        printf("     AUTO load failed: %s\n", err.message);
        return 11;
    }
    if (jk_mem_strategy_of(m) != JK_MEM_DUAL || as_fn0(jk_mem_exec(m))() != 0x12345678)
        return 12;
    printf("     restricted child: AUTO -> %s, seed returned 0x%x\n",
           jk_mem_strategy_name(jk_mem_strategy_of(m)), (unsigned)as_fn0(jk_mem_exec(m))());
    jk_mem_free(m, NULL);

    /* 3. FLIP is refused at commit with a clear error */
    if (jk_mem_alloc(&m, 64, &flip, &err) != JK_OK) {
        printf("     FLIP alloc failed: %s\n", err.message);
        return 13;
    }
    memcpy(jk_mem_writable(m), seed_code, sizeof seed_code);
    if (jk_mem_commit(m, &err) != JK_EPOLICY || err.os_error != EACCES ||
        !strstr(err.message, "mprotect") || !strstr(err.message, strerror(EACCES))) {
        printf("     FLIP commit: unexpected outcome: %s\n", err.message);
        return 14;
    }
    printf("     FLIP commit refused as expected: %s\n", err.message);
    jk_mem_free(m, NULL);
    return 0;
}

static int skipped;

static void test_auto_picks_dual_under_policy(void)
{
    int status;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int rc = restricted_child();
        fflush(NULL);
        _exit(rc);
    }
    JT_CHECK(pid > 0);
    JT_CHECK(waitpid(pid, &status, 0) == pid);
    JT_CHECK_MSG(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) == 77) {
        skipped = 1;
        return;
    }
    JT_EQ_I64(WEXITSTATUS(status), 0);
}

static void test_unrestricted_parent_unaffected(void)
{
    /* the filter applied to the child only */
    JT_CHECK(jk_mem_auto_strategy() == JK_MEM_FLIP);
}

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    JT_RUN(test_auto_picks_dual_under_policy);
    if (skipped) {
        printf("SKIPPED: seccomp filters are not available here\n");
        return 77;
    }
    JT_RUN(test_unrestricted_parent_unaffected);
    return jt_finish();
}
