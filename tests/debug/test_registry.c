/*
 * test_registry.c - jk_debug: argument and state errors, the unwinder
 * finding (and, after unregistering, no longer finding) the FDE of a JIT
 * pc, gdb's descriptor list and batches, the environment switches, many functions,
 * and concurrent registrations from several threads.
 */
#include "jitfn.h"
#include "jt.h"

#include "debug/debug_p.h"

#include <stdlib.h>

#if !defined(_WIN32)
#  include <dlfcn.h>
#  include <pthread.h>
#else
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#endif

/* gdb's view: the descriptor is a global of the library. */
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

static jf_code code;
static jk_cfi *cfi;

/* libgcc's lookup: the FDE covering pc, or NULL. */
typedef const void *(*find_fde_fn)(void *pc, void *bases);
static find_fde_fn find_fde;

static const void *fde_of(const void *pc)
{
    void *bases[3];
    return find_fde ? find_fde((void *)(uintptr_t)pc, bases) : NULL;
}

/* The start address the FDE found for pc describes: pc-relative, sdata4
 * or sdata8 as its CIE (jitkit's layout: the encoding is byte 16) says. */
static uintptr_t fde_begin(const void *pc)
{
    const unsigned char *fde = fde_of(pc), *cie;
    uint32_t back;
    int64_t rel = 0;
    int32_t rel4;
    if (!fde)
        return 0;
    memcpy(&back, fde + 4, 4);
    cie = fde + 4 - back;
    if ((cie[16] & 0x0f) == 0x0c) {
        memcpy(&rel, fde + 8, 8);
    } else {
        memcpy(&rel4, fde + 8, 4);
        rel = rel4;
    }
    return (uintptr_t)(fde + 8) + (uintptr_t)rel;
}

static size_t gdb_entries(void)
{
    size_t n = 0;
    for (struct jit_code_entry *e = __jit_debug_descriptor.first_entry; e; e = e->next_entry)
        n++;
    return n;
}

static void test_errors(void)
{
    jk_debug *d;
    jk_error err;
    jk_debug_options opt = {0x80u, NULL};
    jk_cfi *open;
    unsigned char bytes[16] = {0xc3};
    JT_EQ_I64(jk_debug_new(NULL, NULL, &err), JK_EINVAL);
    JT_EQ_I64(jk_debug_new(&d, &opt, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "unknown flags 0x80");
    opt.flags = JK_DEBUG_UNWIND | JK_DEBUG_NO_ENV;
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    JT_EQ_I64(jk_debug_register(d, bytes, 0, "f", NULL, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "size is 0");
    JT_EQ_I64(jk_debug_register(d, NULL, 4, "f", NULL, &err), JK_EINVAL);
    JT_OK(jk_cfi_new(&open, JK_CFI_HOST, &err), &err);
    jk_cfi_startproc(open);
    JT_EQ_I64(jk_debug_register(d, bytes, 16, "f", open, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "not ended");
    jk_cfi_endproc(open, 32);
    JT_EQ_I64(jk_debug_register(d, bytes, 16, "f", open, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "covers 32 bytes, the code has 16");
    jk_cfi_free(open);
    JT_EQ_I64(jk_debug_register(d, bytes, 16, "two\nlines", NULL, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "line break");
    JT_OK(jk_debug_register(d, bytes, 16, "f", NULL, &err), &err);
    JT_EQ_I64(jk_debug_register(d, bytes, 16, "g", NULL, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "already registered");
    JT_EQ_I64(jk_debug_unregister(d, bytes + 1, &err), JK_EINVAL);
    JT_CONTAINS(err.message, "is not registered");
    JT_EQ_U64(jk_debug_count(d), 1);
    JT_OK(jk_debug_unregister(d, bytes, &err), &err);
    JT_EQ_U64(jk_debug_count(d), 0);
    JT_OK(jk_debug_destroy(d, &err), &err);
    JT_OK(jk_debug_destroy(NULL, &err), &err);
}

static void test_unwinder_finds_fde(void)
{
    jk_debug *d;
    jk_error err;
    jk_mem *m;
    void *p;
    if (!find_fde) {
        printf("skip: _Unwind_Find_FDE not available (unwinder %s)\n", jk_debug_unwinder());
        return;
    }
    JT_OK(jk_mem_load(&m, code.bytes, code.size, NULL, &err), &err);
    p = jk_mem_exec(m);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_CHECK(jk_debug_flags(d) & JK_DEBUG_UNWIND);
    JT_CHECK(fde_of(p) == NULL);
    JT_OK(jk_debug_register(d, p, code.size, "jit_outer", cfi, &err), &err);
    JT_CHECK(fde_of(p) != NULL);
    JT_CHECK(fde_of((char *)p + code.size - 1) != NULL);
    JT_OK(jk_debug_unregister(d, p, &err), &err);
    JT_CHECK(fde_of(p) == NULL);
    /* destroy takes back what is still registered */
    JT_OK(jk_debug_register(d, p, code.size, "jit_outer", cfi, &err), &err);
    JT_OK(jk_debug_destroy(d, &err), &err);
    JT_CHECK(fde_of(p) == NULL);
    jk_mem_free(m, NULL);
}

static void test_gdb_list(void)
{
    jk_debug *d;
    jk_error err;
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    unsigned char bytes[3][128];
    size_t before = gdb_entries();
    const unsigned char *img;
    JT_EQ_U64(__jit_debug_descriptor.version, 1);
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    JT_EQ_U64(jk_debug_flags(d), JK_DEBUG_GDB);
    for (int i = 0; i < 3; i++)
        JT_OK(jk_debug_register(d, bytes[i], 128, i == 1 ? "middle" : NULL, cfi, &err),
              &err);
    JT_EQ_U64(gdb_entries(), before + 3);
    img = (const unsigned char *)__jit_debug_descriptor.first_entry->symfile_addr;
    JT_CHECK(memcmp(img, "\177ELF", 4) == 0);
    JT_OK(jk_debug_unregister(d, bytes[1], &err), &err); /* from the middle */
    JT_EQ_U64(gdb_entries(), before + 2);
    JT_EQ_U64(__jit_debug_descriptor.action_flag, 0);
    JT_OK(jk_debug_destroy(d, &err), &err);
    JT_EQ_U64(gdb_entries(), before);
}

/* e_shnum of a gdb object: 1 + one .text per function + 4 (+ 3 with lines) */
static unsigned obj_sections(const struct jit_code_entry *e)
{
    const unsigned char *img = (const unsigned char *)e->symfile_addr;
    return sizeof(void *) == 8 ? (unsigned)(img[60] | img[61] << 8)
                               : (unsigned)(img[48] | img[49] << 8);
}

static void test_gdb_batch(void)
{
    jk_debug *d;
    jk_error err;
    jk_debug_options opt = {JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    static unsigned char bytes[5][128];
    jk_debug_line rows[2] = {{0, 1}, {8, 2}};
    jk_debug_src src = {"b.s", NULL, rows, 2};
    size_t before = gdb_entries();
    JT_OK(jk_debug_new(&d, &opt, &err), &err);
    JT_EQ_I64(jk_debug_batch_end(d, &err), JK_ESTATE);
    JT_CONTAINS(err.message, "no batch is open");
    jk_debug_batch_begin(d);
    jk_debug_batch_begin(d); /* nested: the outer end publishes */
    for (int i = 0; i < 5; i++)
        JT_OK(jk_debug_register_ex(d, bytes[i], 128, NULL, i == 2 ? NULL : cfi,
                                   i == 4 ? &src : NULL, &err), &err);
    JT_OK(jk_debug_unregister(d, bytes[3], &err), &err); /* never reaches gdb */
    JT_OK(jk_debug_batch_end(d, &err), &err);
    JT_EQ_U64(gdb_entries(), before);
    JT_OK(jk_debug_batch_end(d, &err), &err);
    JT_EQ_U64(gdb_entries(), before + 1);
    JT_EQ_U64(obj_sections(__jit_debug_descriptor.first_entry), 1 + 4 + 4 + 3);
    JT_EQ_U64(jk_debug_count(d), 4);
    /* one member leaves outside a batch: the object is rebuilt without it */
    JT_OK(jk_debug_unregister(d, bytes[4], &err), &err);
    JT_EQ_U64(gdb_entries(), before + 1);
    JT_EQ_U64(obj_sections(__jit_debug_descriptor.first_entry), 1 + 3 + 4);
    /* a new function outside a batch: an object of its own */
    JT_OK(jk_debug_register(d, bytes[4], 128, "alone", cfi, &err), &err);
    JT_EQ_U64(gdb_entries(), before + 2);
    /* the rest leave in a batch: both objects go at its end */
    jk_debug_batch_begin(d);
    for (int i = 0; i < 5; i++)
        if (i != 3)
            JT_OK(jk_debug_unregister(d, bytes[i], &err), &err);
    JT_EQ_U64(gdb_entries(), before + 2);
    JT_OK(jk_debug_batch_end(d, &err), &err);
    JT_EQ_U64(gdb_entries(), before);
    /* destroy inside an open batch takes everything back */
    jk_debug_batch_begin(d);
    JT_OK(jk_debug_register(d, bytes[0], 128, "x", cfi, &err), &err);
    JT_OK(jk_debug_batch_end(d, &err), &err);
    jk_debug_batch_begin(d);
    JT_OK(jk_debug_register(d, bytes[1], 128, "y", cfi, &err), &err);
    JT_OK(jk_debug_unregister(d, bytes[0], &err), &err);
    JT_OK(jk_debug_destroy(d, &err), &err);
    JT_EQ_U64(gdb_entries(), before);
}

static void test_env(void)
{
    jk_debug *d;
    jk_error err;
    jk_debug_options noenv = {JK_DEBUG_NO_ENV, NULL};
#if defined(_WIN32)
    _putenv("JITKIT_GDB=1");
#else
    setenv("JITKIT_GDB", "1", 1);
#endif
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_CHECK(jk_debug_flags(d) & JK_DEBUG_GDB);
    jk_debug_destroy(d, NULL);
    JT_OK(jk_debug_new(&d, &noenv, &err), &err);
    JT_CHECK(!(jk_debug_flags(d) & JK_DEBUG_GDB));
    jk_debug_destroy(d, NULL);
#if defined(_WIN32)
    _putenv("JITKIT_GDB=");
#else
    unsetenv("JITKIT_GDB");
#endif
}

static void test_many(void)
{
    enum { N = 10000 };
    jk_debug *d;
    jk_heap *h;
    jk_error err;
    jk_cfi *longer;
    static void *fns[N];
    /* every third function has a much longer description, so the groups'
       buffers grow while they fill */
    JT_OK(jk_cfi_new(&longer, JK_CFI_HOST, &err), &err);
    jk_cfi_startproc(longer);
    for (uint32_t i = 0; i < 24; i++) {
        jk_cfi_remember_state(longer, i);
        jk_cfi_def_cfa_offset(longer, i, 16 + 8 * (int32_t)i);
        jk_cfi_restore_state(longer, i + 1);
    }
    JT_OK(jk_cfi_endproc(longer, (uint32_t)code.size), jk_cfi_error(longer));
    JT_OK(jk_heap_new(&h, NULL, &err), &err);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    for (int i = 0; i < N; i++)
        JT_OK(jk_debug_heap_install(d, h, code.bytes, code.size, "many", i % 3 ? cfi : longer,
                                    &fns[i], &err), &err);
    if (find_fde) {
        int missing = 0;
        for (int i = 0; i < N; i++)
            missing += fde_begin((char *)fns[i] + 3) != (uintptr_t)fns[i];
        JT_EQ_I64(missing, 0);
        /* take out every fifth, oldest first: the rest stay found */
        for (int i = 0; i < N; i += 5)
            JT_OK(jk_debug_heap_free(d, h, fns[i], &err), &err);
        for (int i = 0; i < N; i++)
            missing += i % 5 ? fde_begin(fns[i]) != (uintptr_t)fns[i] : fde_of(fns[i]) != NULL;
        JT_EQ_I64(missing, 0);
        for (int i = 0; i < N; i += 5)
            JT_OK(jk_debug_heap_install(d, h, code.bytes, code.size, "again", longer, &fns[i],
                                        &err), &err);
    }
    jk_cfi_free(longer);
    JT_EQ_U64(jk_debug_count(d), N);
    if (find_fde) {
        JT_CHECK(fde_of(fns[0]) != NULL);
        JT_CHECK(fde_of(fns[N - 1]) != NULL);
    }
    /* newest first, the order libgcc finds fastest */
    for (int i = N - 1; i >= N / 2; i--)
        JT_OK(jk_debug_heap_free(d, h, fns[i], &err), &err);
    if (find_fde)
        JT_CHECK(fde_of(fns[N - 1]) == NULL);
    JT_EQ_U64(jk_debug_count(d), N / 2);
    JT_OK(jk_debug_destroy(d, &err), &err); /* the rest */
    if (find_fde)
        JT_CHECK(fde_of(fns[0]) == NULL);
    JT_OK(jk_heap_destroy(h, &err), &err);
}

#if !defined(_WIN32)
static jk_debug *shared;
static jk_heap *shared_heap;
static int thread_failures;

static void *worker(void *arg)
{
    jk_error err;
    void *fns[200];
    (void)arg;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++)
            if (jk_debug_heap_install(shared, shared_heap, code.bytes, code.size, "mt", cfi,
                                      &fns[i], &err) != JK_OK)
                __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < 200; i++)
            if (jk_debug_heap_free(shared, shared_heap, fns[i], &err) != JK_OK)
                __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}
#endif

static void test_threads(void)
{
#if !defined(_WIN32)
    pthread_t t[4];
    jk_error err;
    jk_debug_options opt = {JK_DEBUG_UNWIND | JK_DEBUG_GDB | JK_DEBUG_NO_ENV, NULL};
    JT_OK(jk_heap_new(&shared_heap, NULL, &err), &err);
    JT_OK(jk_debug_new(&shared, &opt, &err), &err);
    for (int i = 0; i < 4; i++)
        JT_CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    JT_EQ_I64(thread_failures, 0);
    JT_EQ_U64(jk_debug_count(shared), 0);
    JT_OK(jk_debug_destroy(shared, &err), &err);
    JT_OK(jk_heap_destroy(shared_heap, &err), &err);
#endif
}

/* Win64: the UNWIND_INFO of the test function, and the limits. */
static void test_win64(void)
{
#if defined(_WIN32) && JF_64
    jk_debug *d;
    jk_error err;
    jk_mem *m;
    jk_cfi *c;
    DWORD64 base = 0;
    PRUNTIME_FUNCTION rf;
    const uint8_t *ui;
    unsigned char fake[512];
    JT_OK(jk_mem_load(&m, code.bytes, code.size, NULL, &err), &err);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_OK(jk_debug_register(d, jk_mem_exec(m), code.size, "w", cfi, &err), &err);
    rf = RtlLookupFunctionEntry((DWORD64)(uintptr_t)jk_mem_exec(m) + 12, &base, NULL);
    JT_CHECK(rf != NULL);
    JT_EQ_U64(base + rf->BeginAddress, (uintptr_t)jk_mem_exec(m));
    JT_EQ_U64(rf->EndAddress - rf->BeginAddress, code.size);
    ui = (const uint8_t *)(uintptr_t)(base + rf->UnwindData);
    /* push rbp @1, push rbx @2, sub rsp, 40 @6, lea rbp, [rsp+32] @11 */
    JT_EQ_U64(ui[0], 1);    /* version 1, no flags */
    JT_EQ_U64(ui[1], 11);   /* prologue size */
    JT_EQ_U64(ui[2], 4);    /* codes */
    JT_EQ_U64(ui[3], 0x25); /* rbp, frame offset 2*16 */
    JT_EQ_U64(ui[4], 11); JT_EQ_U64(ui[5], 0x03);        /* SET_FPREG */
    JT_EQ_U64(ui[6], 6);  JT_EQ_U64(ui[7], 0x02 | 4 << 4); /* ALLOC_SMALL 40 */
    JT_EQ_U64(ui[8], 2);  JT_EQ_U64(ui[9], 0x00 | 3 << 4); /* PUSH rbx */
    JT_EQ_U64(ui[10], 1); JT_EQ_U64(ui[11], 0x00 | 5 << 4); /* PUSH rbp */
    JT_OK(jk_debug_unregister(d, jk_mem_exec(m), &err), &err);
    JT_CHECK(RtlLookupFunctionEntry((DWORD64)(uintptr_t)jk_mem_exec(m) + 12, &base, NULL) == NULL);

    /* a push after the frame register is set */
    JT_OK(jk_cfi_new(&c, JK_CFI_X86_64, &err), &err);
    jk_cfi_startproc(c);
    jk_cfi_def_cfa_offset(c, 1, 16);
    jk_cfi_offset(c, 1, JK_DW_X64_RBP, -16);
    jk_cfi_def_cfa_register(c, 4, JK_DW_X64_RBP);
    jk_cfi_offset(c, 5, JK_DW_X64_RBX, -24);
    jk_cfi_endproc(c, 16);
    JT_EQ_I64(jk_debug_register(d, fake, 16, "f", c, &err), JK_ERANGE);
    JT_CONTAINS(err.message, "rbx is saved at 5 below the frame base");
    /* a frame offset Windows cannot express */
    jk_cfi_reset(c);
    jk_cfi_startproc(c);
    jk_cfi_def_cfa_offset(c, 1, 16);
    jk_cfi_def_cfa(c, 5, JK_DW_X64_RBP, 8);
    jk_cfi_endproc(c, 16);
    JT_EQ_I64(jk_debug_register(d, fake, 16, "f", c, &err), JK_ERANGE);
    JT_CONTAINS(err.message, "frame register rbp at 5 is rsp+8");
    /* a prologue longer than 255 bytes */
    jk_cfi_reset(c);
    jk_cfi_startproc(c);
    jk_cfi_def_cfa_offset(c, 300, 16);
    jk_cfi_endproc(c, 400);
    JT_EQ_I64(jk_debug_register(d, fake, 400, "f", c, &err), JK_ERANGE);
    JT_CONTAINS(err.message, "beyond 255 bytes");
    JT_EQ_U64(jk_debug_count(d), 0);
    jk_cfi_free(c);
    jk_debug_destroy(d, NULL);
    jk_mem_free(m, NULL);
#endif
}

int main(int argc, char **argv)
{
    jk_error err;
    if (argc > 1)
        jt_only = argv[1];
    if (jk_cfi_new(&cfi, JK_CFI_HOST, &err) != JK_OK || jf_build(&code, cfi) != 0)
        return 1;
#if !defined(_WIN32)
    {
        /* after the lookup, which may load libgcc_s */
        int gcc = strcmp(jk_debug_unwinder(), "libgcc") == 0;
        void *p = dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE");
        if (gcc && p)
            memcpy(&find_fde, &p, sizeof p);
    }
#endif
    printf("unwinder: %s\n", jk_debug_unwinder());
    JT_RUN(test_errors);
    JT_RUN(test_unwinder_finds_fde);
    JT_RUN(test_gdb_list);
    JT_RUN(test_gdb_batch);
    JT_RUN(test_env);
    JT_RUN(test_many);
    JT_RUN(test_threads);
    JT_RUN(test_win64);
    jk_cfi_free(cfi);
    return jt_finish();
}
