/*
 * test_heap_mt.c - the code heap under concurrency.
 *
 *   stress   2 runner threads sit in spinning functions and 4 caller
 *            threads run long-lived functions non-stop while 4
 *            mutator threads install (windows and one-shots), call, hand
 *            over and free functions in the same chunks, and (DUAL) a
 *            patcher rewrites the long-lived functions' return values with
 *            jk_heap_patch32. Functions installed by one thread are called
 *            and freed by another through a hand-over table. The main thread
 *            audits the process for W+X mappings meanwhile. A function that
 *            faulted would kill the process; a wrong result fails the test.
 *            Run with 8 arenas and with one shared arena (all threads' code
 *            then lands on the same chunks, next to running code).
 *   retarget 3 threads call a trampoline in a loop while the main thread
 *            retargets it 20,000 times with an atomic 4-byte patch (a rel32 /
 *            b imm26 field) and an 8-byte patch (an absolute literal).
 *   one-call (x86 hosts) 8 threads each assemble functions with the x86
 *            assembler, install them into one heap with jk_x86_install_heap
 *            (and the text one-liner jk_asm_load_heap), call them, hand them
 *            over and free the ones the others handed over.
 *
 * Run it under ThreadSanitizer too (see docs/heap.md).
 */
#include "jitkit/heap.h"
#include "jitkit/asm.h"
#include "hcode.h"
#include "jt.h"
#include "mem/wx_audit.h"

#include <stdatomic.h>
#include <stdlib.h>

#define NLONG 256
#define NCALLERS 4
#define NMUT 4
#define NHAND 64
#define STRESS_MS 1000

typedef struct stress {
    jk_heap *h;
    void *spin[2];
    int dual;
    int check_new; /* value checks of new code (off on incoherent emulators) */
    void *longf[NLONG];
    size_t var_off;
    _Atomic(void *) hand[NHAND];
    atomic_int stop;
    atomic_int failed;
    atomic_ullong calls, installs, frees, patches;
    char msg[512];
} stress;

static uint32_t self_value(const void *exec)
{
    return ((uint32_t)(uintptr_t)exec ^ 0x5a5a5a5au) & 0x7fffffffu;
}

static void fail(stress *S, const char *what, long a, long b)
{
    if (atomic_exchange(&S->failed, 1) == 0) {
        char nums[64];
        snprintf(nums, sizeof nums, " (%ld vs %ld)", a, b);
        S->msg[0] = 0;
        strncat(S->msg, what, 300);
        strcat(S->msg, nums);
    }
}

static void *caller_main(void *arg)
{
    stress *S = arg;
    uint64_t rng = (uint64_t)(uintptr_t)&rng;
    unsigned long long n = 0;
    while (!atomic_load_explicit(&S->stop, memory_order_relaxed)) {
        uint32_t i = hc_rand(&rng) % NLONG;
        int r = hc_as_fn(S->longf[i])();
        if ((uint32_t)r != i * 1000 && (uint32_t)r != i * 1000 + 1)
            fail(S, "long-lived function returned a wrong value", r, (long)i * 1000);
        n++;
    }
    atomic_fetch_add(&S->calls, n);
    return NULL;
}

static void *runner_main(void *arg)
{
    stress *S = arg;
    unsigned long long n = 0;
    void *f = S->spin[atomic_fetch_add(&S->calls, 1) & 1];
    while (!atomic_load_explicit(&S->stop, memory_order_relaxed)) {
        int r = hc_as_fn(f)();
        if (r != 7)
            fail(S, "spinning function returned a wrong value", r, 7);
        n++;
    }
    atomic_fetch_add(&S->calls, n);
    return NULL;
}

static void *patcher_main(void *arg)
{
    stress *S = arg;
    uint64_t rng = 99;
    unsigned long long n = 0;
    jk_error e;
    while (!atomic_load_explicit(&S->stop, memory_order_relaxed)) {
        uint32_t i = hc_rand(&rng) % NLONG;
        if (jk_heap_patch32(S->h, (char *)S->longf[i] + S->var_off,
                            i * 1000 + (hc_rand(&rng) & 1), &e) != JK_OK)
            fail(S, e.message, 0, 0);
        n++;
    }
    atomic_fetch_add(&S->patches, n);
    return NULL;
}

/* Take what is in a hand-over slot, check it runs, free it. */
static void take_and_free(stress *S, void *f, unsigned long long *frees)
{
    jk_error e;
    int r = hc_as_fn(f)();
    if ((uint32_t)r != self_value(f) && S->check_new)
        fail(S, "handed-over function returned a wrong value", r, (long)self_value(f));
    if (jk_heap_free(S->h, f, &e) != JK_OK)
        fail(S, e.message, 0, 0);
    (*frees)++;
}

static void *mutator_main(void *arg)
{
    stress *S = arg;
    uint64_t rng = (uint64_t)(uintptr_t)&rng * 2654435761u;
    unsigned long long ins = 0, frees = 0;
    void *mine[64];
    int nmine = 0;
    jk_error e;

    while (!atomic_load_explicit(&S->stop, memory_order_relaxed)) {
        uint32_t k = 1 + hc_rand(&rng) % 12;
        void *got[12];
        if (hc_rand(&rng) % 4 == 0) {
            /* one-shot installs */
            for (uint32_t i = 0; i < k; i++) {
                uint8_t code[16];
                /* value unknown before placement: install, then patch */
                emit_ret(code, 0);
                if (jk_heap_install(S->h, code, 16, &got[i], &e) != JK_OK) {
                    fail(S, e.message, 0, 0);
                    return NULL;
                }
                {
                    uint8_t fix[16];
                    size_t n = emit_ret(fix, self_value(got[i]));
                    if (S->dual && jk_heap_patch(S->h, got[i], fix, n, &e) != JK_OK)
                        fail(S, e.message, 0, 0);
                    if (!S->dual) {
                        /* FLIP: patching published code would need the
                         * page writable; install the real code instead */
                        (void)jk_heap_free(S->h, got[i], &e);
                        frees++;
                        got[i] = NULL;
                    }
                }
            }
        } else {
            jk_heap_window *w;
            if (jk_heap_window_begin(S->h, &w, &e) != JK_OK) {
                fail(S, e.message, 0, 0);
                return NULL;
            }
            for (uint32_t i = 0; i < k; i++) {
                jk_heap_slot s;
                size_t size = 16 + (hc_rand(&rng) % 32) * 16;
                if (jk_heap_alloc(w, size, 0, &s, &e) != JK_OK) {
                    fail(S, e.message, 0, 0);
                    (void)jk_heap_window_commit(w, NULL);
                    return NULL;
                }
                memset(s.write, 0xcc, size);
                emit_ret(s.write, self_value(s.exec));
                got[i] = s.exec;
            }
            if (jk_heap_window_commit(w, &e) != JK_OK)
                fail(S, e.message, 0, 0);
        }
        for (uint32_t i = 0; i < k; i++) {
            void *f = got[i];
            int r;
            if (!f)
                continue;
            ins++;
            r = hc_as_fn(f)();
            if ((uint32_t)r != self_value(f) && S->check_new)
                fail(S, "new function returned a wrong value", r, (long)self_value(f));
            switch (hc_rand(&rng) % 3) {
            case 0: /* free at once */
                if (jk_heap_free(S->h, f, &e) != JK_OK)
                    fail(S, e.message, 0, 0);
                frees++;
                break;
            case 1: /* hand over to another thread */
            {
                void *old = atomic_exchange_explicit(&S->hand[hc_rand(&rng) % NHAND], f,
                                                     memory_order_acq_rel);
                if (old)
                    take_and_free(S, old, &frees);
                break;
            }
            default: /* keep a while */
                if (nmine == 64) {
                    uint32_t j = hc_rand(&rng) % 64;
                    take_and_free(S, mine[j], &frees);
                    mine[j] = f;
                } else {
                    mine[nmine++] = f;
                }
            }
        }
    }
    for (int i = 0; i < nmine; i++)
        take_and_free(S, mine[i], &frees);
    atomic_fetch_add(&S->installs, ins);
    atomic_fetch_add(&S->frees, frees);
    return NULL;
}

static void run_stress(jk_mem_strategy strat, unsigned arenas)
{
    static stress S;
    jk_heap_options o;
    jk_error e;
    hc_thread th[NCALLERS + NMUT + 3];
    int nth = 0, audits = 0;
    jk_heap_stats st;
    char wx[600] = "";

    memset(&S, 0, sizeof S);
    memset(&o, 0, sizeof o);
    o.strategy = strat;
    o.chunk_size = 64 * 1024; /* more chunk churn */
    o.arenas = arenas;
    JT_OK(jk_heap_new(&S.h, &o, &e), &e);
    S.dual = strat == JK_MEM_DUAL;
    S.check_new = !S.dual || hc_dual_coherent();
    for (uint32_t i = 0; i < NLONG; i++) {
        uint8_t code[16];
        size_t n = emit_ret_var(code, i * 1000, &S.var_off);
        JT_OK(jk_heap_install(S.h, code, n, &S.longf[i], &e), &e);
    }
    for (int i = 0; i < 2; i++) {
        uint8_t code[32];
        JT_OK(jk_heap_install(S.h, code, emit_spin(code, 200000), &S.spin[i], &e), &e);
        JT_EQ_U64(hc_as_fn(S.spin[i])(), 7);
    }
    for (int i = 0; i < 2; i++)
        JT_CHECK(hc_thread_start(&th[nth++], runner_main, &S) == 0);
    for (int i = 0; i < NCALLERS; i++)
        JT_CHECK(hc_thread_start(&th[nth++], caller_main, &S) == 0);
    for (int i = 0; i < NMUT; i++)
        JT_CHECK(hc_thread_start(&th[nth++], mutator_main, &S) == 0);
    if (S.dual)
        JT_CHECK(hc_thread_start(&th[nth++], patcher_main, &S) == 0);
    for (int t = 0; t < STRESS_MS / 50; t++) {
        hc_sleep_ms(50);
        if (wx_audit(wx, sizeof wx) > 0)
            fail(&S, "W+X mapping seen during the stress run", 0, 0);
        audits++;
    }
    atomic_store(&S.stop, 1);
    for (int i = 0; i < nth; i++)
        hc_thread_join(th[i]);
    for (int i = 0; i < NHAND; i++) {
        void *f = atomic_exchange(&S.hand[i], NULL);
        unsigned long long fr = 0;
        if (f)
            take_and_free(&S, f, &fr);
    }
    printf("  %s, %u arena(s): %d threads, %llu calls, %llu installs, %llu frees, "
           "%llu patches, %d W^X audits\n",
           jk_mem_strategy_name(strat), arenas, nth, (unsigned long long)S.calls,
           (unsigned long long)S.installs, (unsigned long long)S.frees,
           (unsigned long long)S.patches, audits);
    JT_CHECK_MSG(!S.failed, "%s", S.msg);
    JT_CHECK(S.installs > 1000);
    for (uint32_t i = 0; i < NLONG; i++)
        JT_OK(jk_heap_free(S.h, S.longf[i], &e), &e);
    JT_OK(jk_heap_free(S.h, S.spin[0], &e), &e);
    JT_OK(jk_heap_free(S.h, S.spin[1], &e), &e);
    jk_heap_stats_get(S.h, &st);
    JT_EQ_U64(st.functions, 0);
    JT_EQ_U64(st.bytes_in_use, 0);
    JT_OK(jk_heap_destroy(S.h, &e), &e);
}

static void test_stress_dual(void)
{
    run_stress(JK_MEM_DUAL, 8);
}

static void test_stress_flip(void)
{
    run_stress(JK_MEM_FLIP, 8);
}

static void test_stress_dual_shared(void)
{
    run_stress(JK_MEM_DUAL, 1);
}

static void test_stress_flip_shared(void)
{
    run_stress(JK_MEM_FLIP, 1);
}

/* -- Retargeting while running ------------------------------------------------ */

typedef struct retarget {
    void *tramp;
    atomic_int stop, bad;
    atomic_ullong seen[3];
} retarget;

static void *retarget_caller(void *arg)
{
    retarget *R = arg;
    unsigned long long seen[3] = {0, 0, 0};
    while (!atomic_load_explicit(&R->stop, memory_order_relaxed)) {
        int r = hc_as_fn(R->tramp)();
        if (r == 1 || r == 2)
            seen[r]++;
        else
            atomic_store(&R->bad, r ? r : -1);
    }
    atomic_fetch_add(&R->seen[1], seen[1]);
    atomic_fetch_add(&R->seen[2], seen[2]);
    return NULL;
}

static void test_retarget(void)
{
    for (int width = 4; width <= 8; width += 4) {
        jk_heap *h;
        jk_heap_options o;
        jk_heap_window *w;
        jk_heap_slot a, b, t;
        jk_error e;
        size_t off = 8;
        static retarget R;
        hc_thread th[3];
        memset(&o, 0, sizeof o);
        o.strategy = JK_MEM_DUAL;
        memset(&R, 0, sizeof R);
        JT_OK(jk_heap_new(&h, &o, &e), &e);
        JT_OK(jk_heap_window_begin(h, &w, &e), &e);
        JT_OK(jk_heap_alloc(w, 16, 0, &a, &e), &e);
        JT_OK(jk_heap_alloc(w, 16, 0, &b, &e), &e);
        JT_OK(jk_heap_alloc(w, 16, 0, &t, &e), &e);
        emit_ret(a.write, 1);
        emit_ret(b.write, 2);
        if (width == 4)
            emit_branch(t.write, t.exec, a.exec, &off);
        else
            emit_abs_jump(t.write, t.exec, a.exec);
        JT_OK(jk_heap_window_commit(w, &e), &e);
        R.tramp = t.exec;
        JT_EQ_U64(hc_as_fn(t.exec)(), 1);
        for (int i = 0; i < 3; i++)
            JT_CHECK(hc_thread_start(&th[i], retarget_caller, &R) == 0);
        for (int i = 0; i < 20000; i++) {
            void *to = (i & 1) ? a.exec : b.exec;
            if (width == 4)
                JT_OK(jk_heap_patch32(h, (char *)t.exec + off, branch_field(t.exec, to), &e),
                      &e);
            else
                JT_OK(jk_heap_patch64(h, (char *)t.exec + 8, (uint64_t)(uintptr_t)to, &e),
                      &e);
            if (i % 64 == 0)
                hc_yield();
        }
        atomic_store(&R.stop, 1);
        for (int i = 0; i < 3; i++)
            hc_thread_join(th[i]);
        printf("  patch%d: %llu calls reached A, %llu reached B\n", width * 8,
               (unsigned long long)R.seen[1], (unsigned long long)R.seen[2]);
        JT_EQ_I64(R.bad, 0);
        JT_EQ_U64(hc_as_fn(t.exec)(), 1); /* the last patch pointed at A */
        JT_OK(jk_heap_destroy(h, &e), &e);
    }
}

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define ONECALL_THREADS 8
#define ONECALL_ITERS 1500

typedef struct onecall {
    jk_heap *h;
    _Atomic(void *) hand[NHAND];
    atomic_int bad;
    atomic_ullong calls;
} onecall;

static void *onecall_main(void *arg)
{
    onecall *O = arg;
    static atomic_uint next_id;
    unsigned id = atomic_fetch_add(&next_id, 1);
    uint64_t rs = 0x9E3779B97F4A7C15ull * (id + 1);
    jk_x86_mode mode = sizeof(void *) == 8 ? JK_X86_MODE64 : JK_X86_MODE32;
    for (unsigned i = 0; i < ONECALL_ITERS; i++) {
        int32_t k = (int32_t)(id * 100000 + i);
        void *f = NULL, *old;
        if (i % 8 == 7) {
            char text[64];
            snprintf(text, sizeof text, "mov eax, %d; ret", (int)k);
            if (jk_asm_load_heap(text, mode, O->h, &f, NULL) != JK_OK)
                atomic_fetch_add(&O->bad, 1);
        } else {
            jk_x86_asm *a = NULL;
            if (jk_x86_new(&a, mode, NULL) != JK_OK)
                atomic_fetch_add(&O->bad, 1);
            jk_x86_mov(a, JK_EAX, jk_imm(k));
            jk_x86_ret(a);
            if (jk_x86_install_heap(a, O->h, &f) != JK_OK)
                atomic_fetch_add(&O->bad, 1);
            jk_x86_free(a);
        }
        if (!f)
            continue;
        if (((int32_t (*)(void))(uintptr_t)f)() != k)
            atomic_fetch_add(&O->bad, 1);
        atomic_fetch_add(&O->calls, 1);
        /* hand it over; free what another thread left there */
        old = atomic_exchange(&O->hand[hc_rand(&rs) % NHAND], f);
        if (old && jk_heap_free(O->h, old, NULL) != JK_OK)
            atomic_fetch_add(&O->bad, 1);
    }
    return NULL;
}

static void test_one_call_install(void)
{
    onecall O;
    hc_thread t[ONECALL_THREADS];
    jk_error e;
    memset(&O, 0, sizeof O);
    JT_OK(jk_heap_new(&O.h, NULL, &e), &e);
    for (int i = 0; i < ONECALL_THREADS; i++)
        JT_EQ_I64(hc_thread_start(&t[i], onecall_main, &O), 0);
    for (int i = 0; i < ONECALL_THREADS; i++)
        hc_thread_join(t[i]);
    for (int i = 0; i < NHAND; i++) {
        void *f = atomic_load(&O.hand[i]);
        if (f)
            JT_OK(jk_heap_free(O.h, f, &e), &e);
    }
    printf("    %llu functions installed, called and freed by %d threads\n",
           (unsigned long long)atomic_load(&O.calls), ONECALL_THREADS);
    JT_EQ_I64(atomic_load(&O.bad), 0);
    JT_EQ_U64(atomic_load(&O.calls), (uint64_t)ONECALL_THREADS * ONECALL_ITERS);
    JT_OK(jk_heap_destroy(O.h, &e), &e);
}
#endif

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    (void)map_count;
    JT_RUN(test_stress_dual);
    JT_RUN(test_stress_flip);
    JT_RUN(test_stress_dual_shared);
    JT_RUN(test_stress_flip_shared);
    JT_RUN(test_retarget);
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
    JT_RUN(test_one_call_install);
#endif
    return jt_finish();
}
