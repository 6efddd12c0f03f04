/*
 * test_debug_faults.c - fault injection on the registration paths: the
 * n-th metadata allocation or OS call (open, write, mmap of the perf files)
 * fails, for every n until a registration gets through. Each failure must
 * be a clean error (JK_ENOMEM / JK_EOS with a message) that leaves nothing
 * registered: no function counted, no FDE the unwinder finds, no entry in
 * gdb's list. Registrations carry a line table. Also jk_debug_new and the
 * jk_cfi verbs under allocation failures.
 */
#include "jitfn.h"
#include "jt.h"

#include "core/fault.h"

#include <stdlib.h>

#if !defined(_WIN32)
#  include <dlfcn.h>
#  include <unistd.h>
#endif

struct jit_code_entry {
    struct jit_code_entry *next_entry, *prev_entry;
    const char *symfile_addr;
    uint64_t symfile_size;
};
struct jit_descriptor {
    uint32_t version, action_flag;
    struct jit_code_entry *relevant_entry, *first_entry;
};
extern struct jit_descriptor __jit_debug_descriptor;

typedef const void *(*find_fde_fn)(void *pc, void *bases);
static find_fde_fn find_fde;
static jf_code code;
static jk_cfi *cfi;

static int fde_found(const void *pc)
{
    void *bases[3];
    return find_fde && find_fde((void *)(uintptr_t)pc, bases) != NULL;
}

static void run_config(unsigned flags)
{
    jk_debug_options opt = {flags | JK_DEBUG_NO_ENV, getenv("JK_JITDUMP_DIR")};
    jk_debug *d;
    jk_mem *m;
    jk_error err;
    void *p;
    int failures = 0, done = 0;
    /* with a line table: its copy, gdb's DWARF and jitdump's record too */
    jk_debug_line rows[2] = {{0, 1}, {4, 2}};
    jk_debug_src src = {"faulty.s", "/src", rows, 2};
    JT_OK(jk_mem_load(&m, code.bytes, code.size, NULL, &err), &err);
    p = jk_mem_exec(m);
    for (long n = 1; n < 500 && !done; n++) {
        jk_status s;
        long calls;
        struct jit_code_entry *first = __jit_debug_descriptor.first_entry;
        /* a fresh registry each time, so the n-th call is the same one */
        JT_OK(jk_debug_new(&d, &opt, &err), &err);
        jk__fault_arm(n);
        s = jk_debug_register_ex(d, p, code.size, "jit_faulty", cfi, &src, &err);
        calls = jk__fault_calls();
        jk__fault_arm(0);
        if (s == JK_OK) {
            JT_EQ_U64(jk_debug_count(d), 1);
            if (find_fde && (flags & JK_DEBUG_UNWIND))
                JT_CHECK(fde_found(p));
            JT_OK(jk_debug_unregister(d, p, &err), &err);
            done = n > calls; /* the fault was never reached: all paths seen */
            JT_OK(jk_debug_destroy(d, &err), &err);
            continue;
        }
        failures++;
        JT_CHECK_MSG(s == JK_ENOMEM || s == JK_EOS, "n=%ld: status %d (%s)", n, (int)s,
                     err.message);
        JT_CHECK(err.message[0] != 0);
        JT_EQ_U64(jk_debug_count(d), 0);
        JT_CHECK_MSG(!fde_found(p), "n=%ld: FDE left registered after '%s'", n, err.message);
        JT_CHECK_MSG(__jit_debug_descriptor.first_entry == first,
                     "n=%ld: gdb entry left after '%s'", n, err.message);
        JT_OK(jk_debug_destroy(d, &err), &err);
    }
    JT_CHECK(done);
    JT_CHECK(failures > 0);
    printf("flags 0x%x: %d injected failures, all clean\n", flags, failures);
    jk_mem_free(m, NULL);
}

static void test_register_unwind(void)
{
    run_config(JK_DEBUG_UNWIND);
}

static void test_register_gdb(void)
{
    run_config(JK_DEBUG_UNWIND | JK_DEBUG_GDB);
}

static void test_register_all(void)
{
#if defined(__linux__)
    run_config(JK_DEBUG_UNWIND | JK_DEBUG_GDB | JK_DEBUG_PERF_MAP | JK_DEBUG_JITDUMP);
#endif
}

static void test_new_and_cfi(void)
{
    jk_error err;
    int failures = 0;
    for (long n = 1; n < 50; n++) {
        jk_debug *d = NULL;
        jk_status s;
        jk__fault_arm(n);
        s = jk_debug_new(&d, NULL, &err);
        jk__fault_arm(0);
        if (s == JK_OK) {
            jk_debug_destroy(d, NULL);
            break;
        }
        failures++;
        JT_EQ_I64(s, JK_ENOMEM);
        JT_CHECK(d == NULL);
    }
    for (long n = 1; n < 50; n++) {
        jk_cfi *c = NULL;
        jk_status s;
        jk__fault_arm(n);
        s = jk_cfi_new(&c, JK_CFI_HOST, &err);
        if (s == JK_OK) {
            /* enough verbs to grow every buffer a few times */
            jk_cfi_startproc(c);
            for (uint32_t i = 0; i < 40; i++) {
                jk_cfi_offset(c, i * 4, i % 16, -8 * (int32_t)(i + 1));
                jk_cfi_remember_state(c, i * 4 + 1);
            }
            s = jk_cfi_endproc(c, 400);
        }
        jk__fault_arm(0);
        if (s == JK_OK) {
            jk_cfi_free(c);
            break;
        }
        failures++;
        JT_EQ_I64(s, JK_ENOMEM);
        if (c) {
            JT_EQ_I64(jk_cfi_status(c), JK_ENOMEM);
            JT_CONTAINS(jk_cfi_error(c)->message, "out of memory");
            jk_cfi_free(c);
        }
    }
    JT_CHECK(failures > 0);
}

int main(int argc, char **argv)
{
    jk_error err;
    if (argc > 1)
        jt_only = argv[1];
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0)
        return 1;
#if !defined(_WIN32)
    if (strcmp(jk_debug_unwinder(), "libgcc") == 0) {
        void *p = dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE");
        memcpy(&find_fde, &p, sizeof p);
    }
#endif
    JT_RUN(test_register_unwind);
    JT_RUN(test_register_gdb);
    JT_RUN(test_register_all);
    JT_RUN(test_new_and_cfi);
    jk_cfi_free(cfi);
#if defined(__linux__)
    {
        char path[512];
        snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
        unlink(path);
        snprintf(path, sizeof path, "%s/jit-%ld.dump",
                 getenv("JK_JITDUMP_DIR") ? getenv("JK_JITDUMP_DIR") : "/tmp", (long)getpid());
        unlink(path);
    }
#endif
    return jt_finish();
}
