/*
 * test_heap_faults.c - out of memory and OS failures in the code heap.
 *
 * core/fault.h makes the n-th fallible call (metadata malloc, mmap,
 * mprotect, memfd_create, ...) fail. For every n that hits something during
 * heap creation, a first install (a chunk is mapped), a FLIP window commit
 * and a chunk release, the heap must report a clean error (no crash, no
 * leak, no W+X page) and keep working once the fault is gone.
 */
#include "core/fault.h"
#include "jitkit/heap.h"
#include "hcode.h"
#include "jt.h"
#include "mem/wx_audit.h"

static int is_clean_error(jk_status st, const jk_error *e)
{
    return (st == JK_ENOMEM || st == JK_EOS || st == JK_EPOLICY) && e->status == st &&
           e->message[0] != 0;
}

static void test_new_and_first_install(void)
{
    for (int si = 0; si < 2; si++) {
        jk_heap_options o;
        int maps_before = map_count(), failures = 0;
        memset(&o, 0, sizeof o);
        o.strategy = si ? JK_MEM_FLIP : JK_MEM_DUAL;
        o.flags = JK_HEAP_GUARD_PAGES;
        for (long n = 1; n < 60; n++) {
            jk_heap *h = NULL;
            jk_error e;
            jk_status st;
            void *f = NULL;
            uint8_t code[16];
            size_t len = emit_ret(code, 42);

            memset(&e, 0, sizeof e);
            jk__fault_arm(n);
            st = jk_heap_new(&h, &o, &e);
            if (st == JK_OK) {
                st = jk_heap_install(h, code, len, &f, &e);
                if (st == JK_OK) {
                    JT_EQ_U64(hc_as_fn(f)(), 42);
                    st = jk_heap_free(h, f, &e);
                }
            }
            jk__fault_arm(0);
            if (st != JK_OK) {
                failures++;
                JT_CHECK_MSG(is_clean_error(st, &e), "n=%ld: status %d, message '%s'", n,
                             (int)st, e.message);
            }
            if (h) {
                /* after the fault: the same heap works */
                JT_OK(jk_heap_install(h, code, len, &f, &e), &e);
                JT_EQ_U64(hc_as_fn(f)(), 42);
                JT_OK(jk_heap_destroy(h, &e), &e);
            }
            if (st == JK_OK && n > 40)
                break; /* past every fallible call of this path */
        }
        JT_CHECK(failures >= 5);
        if (maps_before >= 0 && !SANITIZED)
            JT_EQ_I64(map_count(), maps_before);
        {
            char wx[600];
            JT_CHECK(wx_audit(wx, sizeof wx) <= 0);
        }
    }
}

/* FLIP: a failing commit leaves the slots allocated, not executable. */
static void test_flip_commit_failure(void)
{
    jk_heap_options o;
    jk_heap *h;
    jk_heap_window *w;
    jk_heap_slot s;
    jk_error e;
    jk_status st;
    memset(&o, 0, sizeof o);
    o.strategy = JK_MEM_FLIP;
    JT_OK(jk_heap_new(&h, &o, &e), &e);
    JT_OK(jk_heap_window_begin(h, &w, &e), &e);
    JT_OK(jk_heap_alloc(w, 16, 0, &s, &e), &e);
    emit_ret(s.write, 1);
    jk__fault_arm(1);
    st = jk_heap_window_commit(w, &e);
    jk__fault_arm(0);
    JT_CHECK_MSG(is_clean_error(st, &e), "status %d '%s'", (int)st, e.message);
#if defined(_WIN32)
    JT_CONTAINS(e.message, "VirtualProtect");
#else
    JT_CONTAINS(e.message, "mprotect");
#endif
    JT_OK(jk_heap_free(h, s.exec, &e), &e);
    /* and the heap goes on */
    {
        void *f;
        uint8_t code[16];
        JT_OK(jk_heap_install(h, code, emit_ret(code, 2), &f, &e), &e);
        JT_EQ_U64(hc_as_fn(f)(), 2);
    }
    JT_OK(jk_heap_destroy(h, &e), &e);
}

/* A failing window allocation (table, ring, record growth) in a busy heap. */
static void test_many_allocs_under_faults(void)
{
    jk_heap_options o;
    jk_heap *h;
    jk_error e;
    static void *fn[4000];
    int ok = 0, bad = 0;
    memset(&o, 0, sizeof o);
    o.strategy = JK_MEM_DUAL;
    o.chunk_size = 16 * 1024;
    o.arenas = 1;
    JT_OK(jk_heap_new(&h, &o, &e), &e);
    for (int i = 0; i < 4000; i++) {
        uint8_t code[64] = {0};
        jk_status st;
        emit_ret(code, (uint32_t)i);
        jk__fault_arm(i % 7 == 0 ? 1 + i % 5 : 0);
        st = jk_heap_install(h, code, 64, &fn[i], &e);
        jk__fault_arm(0);
        if (st == JK_OK) {
            ok++;
            JT_EQ_U64(hc_as_fn(fn[i])(), i);
        } else {
            bad++;
            fn[i] = NULL;
            JT_CHECK_MSG(is_clean_error(st, &e), "i=%d: %d '%s'", i, (int)st, e.message);
        }
    }
    for (int i = 0; i < 4000; i++)
        if (fn[i])
            JT_OK(jk_heap_free(h, fn[i], &e), &e);
    printf("  %d installs succeeded, %d failed cleanly\n", ok, bad);
    JT_CHECK(bad > 0);
    {
        jk_heap_stats st;
        jk_heap_stats_get(h, &st);
        JT_EQ_U64(st.functions, 0);
        JT_EQ_U64(st.bytes_in_use, 0);
    }
    JT_OK(jk_heap_destroy(h, &e), &e);
}

int main(int argc, char **argv)
{
    jt_only = argc > 1 ? argv[1] : NULL;
    JT_RUN(test_new_and_first_install);
    JT_RUN(test_flip_commit_failure);
    JT_RUN(test_many_allocs_under_faults);
    return jt_finish();
}
