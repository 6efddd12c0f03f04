/*
 * test_unwind_frame.c - functions built with the frame builder, described
 * by jk_x86_frame_cfi with no hand-written rule, unwind: _Unwind_Backtrace
 * in a host callback the JIT function called walks through the JIT frame
 * into its C caller, for every combination of frame options the host's
 * unwinder can express, and from a call placed after an epilogue in the
 * middle of the function (the remember/restore_state bracket).
 *
 *     intptr_t outer(intptr_t (*cb)(intptr_t), intptr_t v)
 *     {
 *         if (v == -1) return -5;     (an epilogue before the call: MID)
 *         return cb(v) + 1;
 *     }
 */
#include "jitkit/jitkit.h"
#include "jitkit/debug.h"
#include "jitkit/func.h"
#include "jt.h"

#include "walk.h"

#if defined(__x86_64__) || defined(_M_X64)
#  define MODE JK_X86_MODE64
#  define BITS 64u
#else
#  define MODE JK_X86_MODE32
#  define BITS 32u
#endif

typedef walk_outer outer_fn;

#define MID 0x1000u /* variant bit: an early return before the call */

/* Build outer with frame flags/saved set v; returns the status. */
static jk_status build(jk_x86_asm *a, jk_x86_frame *f, uint32_t flags, uint32_t saved,
                       uint32_t saved_vec, uint32_t locals, int mid)
{
    jk_frame_desc d;
    jk_sig cb;
    jk_error err;
    jk_x86_op p0, p1, arg;
    jk_x86_op keep = jk_x86_reg(BITS == 64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, 3);
    jk_x86_op acc = jk_x86_reg(BITS == 64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, 0);
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_PTR);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    jk_sig_init(&cb, JK_ABI_HOST, JK_TYPE_PTR);
    jk_sig_add(&cb, JK_TYPE_PTR);
    d.saved = saved | (1u << 3);
    d.saved_vec = saved_vec;
    d.local_size = locals;
    d.flags = flags;
    if (jk_frame_reserve_call(&d, BITS, &cb, &err) != JK_OK)
        return err.status;
    jk_x86_prologue(a, f, &d);
    jk_x86_frame_param(f, 0, &p0);
    jk_x86_frame_param(f, 1, &p1);
    jk_x86_mov(a, keep, p0);
    if (mid) {
        jk_label go = jk_x86_label(a, NULL);
        jk_x86_cmp(a, p1, jk_imm(-1));
        jk_x86_jne(a, jk_lbl(go));
        jk_x86_mov(a, acc, jk_imm(-5));
        jk_x86_epilogue(a, f);
        jk_x86_bind(a, go);
    }
    arg = p1;
    jk_x86_call_abi(a, f, &cb, keep, 1, &arg);
    jk_x86_add(a, acc, jk_imm(1));
    return jk_x86_epilogue(a, f);
}

static int variants_run, variants_skipped;

static void check_variant(jk_debug *d, uint32_t flags, uint32_t saved, uint32_t saved_vec,
                          uint32_t locals, int mid)
{
    jk_x86_asm *a;
    jk_x86_frame f;
    jk_cfi *cfi;
    jk_error err;
    jk_heap *h;
    void *fn;
    size_t size;
    jk_status st;
    outer_fn outer;
    JT_OK(jk_x86_new(&a, MODE, &err), &err);
    st = build(a, &f, flags, saved, saved_vec, locals, mid);
    if (st != JK_OK) {
        /* combinations the builder refuses: saved_vec in a realigned frame */
        JT_CHECK_MSG(saved_vec && (flags & JK_FRAME_REALIGN), "flags %#x saved %#x vec %#x: %s",
                     flags, saved, saved_vec, jk_x86_error(a)->message);
        variants_skipped++;
        jk_x86_free(a);
        return;
    }
    JT_OK(jk_heap_default(&h, &err), &err);
    JT_CHECK_MSG(jk_x86_install_heap(a, h, &fn) == JK_OK, "install: %s",
                 jk_x86_error(a)->message);
    jk_x86_finish(a, &size);
    JT_OK(jk_cfi_new(&cfi, JK_CFI_HOST, &err), &err);
    JT_OK(jk_x86_frame_cfi(cfi, a, &f, (uint32_t)size, &err), &err);
    st = jk_debug_register(d, fn, size, "outer", cfi, &err);
    JT_CHECK_MSG(st == JK_OK, "flags %#x saved %#x vec %#x locals %u mid %d: %s", flags, saved,
                 saved_vec, locals, mid, err.message);
    memcpy(&outer, &fn, sizeof fn);
    if (mid)
        JT_EQ_I64(walk_caller(outer, -1), -5);
    JT_EQ_I64(walk_caller(outer, 1), 102);
    JT_CHECK_MSG(walk_find(fn, size) >= 0, "flags %#x saved %#x mid %d: no JIT frame among %d",
                 flags, saved, mid, walk_n);
    JT_CHECK_MSG(walk_through(fn, size),
                 "flags %#x saved %#x vec %#x locals %u mid %d: the frame after the JIT one "
                 "is not in the caller", flags, saved, saved_vec, locals, mid);
    variants_run++;
    JT_OK(jk_debug_unregister(d, fn, &err), &err);
    jk_cfi_free(cfi);
    JT_OK(jk_heap_free(h, fn, &err), &err);
    jk_x86_free(a);
}

static void test_frames_unwind(void)
{
    static const uint32_t flag_sets[] = {
        0, JK_FRAME_FP, JK_FRAME_NO_REDZONE, JK_FRAME_FP | JK_FRAME_REALIGN,
        JK_FRAME_ENDBR, JK_FRAME_FP | JK_FRAME_ENDBR,
#if BITS == 64 && defined(_WIN32)
        JK_FRAME_HOME,
#endif
    };
#if BITS == 64
    static const uint32_t saved_sets[] = {0, (1u << 12) | (1u << 13), 0xf000u | (1u << 5)};
#else
    static const uint32_t saved_sets[] = {0, 1u << 6, (1u << 6) | (1u << 7)};
#endif
    static const uint32_t locals_set[] = {0, 24, 5000};
    jk_debug *d;
    jk_error err;
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    for (size_t fi = 0; fi < sizeof flag_sets / sizeof flag_sets[0]; fi++)
        for (size_t si = 0; si < sizeof saved_sets / sizeof saved_sets[0]; si++)
            for (size_t li = 0; li < 3; li++)
                for (int mid = 0; mid < 2; mid++) {
                    check_variant(d, flag_sets[fi], saved_sets[si], 0, locals_set[li], mid);
#if BITS == 64 && defined(_WIN32)
                    /* xmm6, xmm7 and xmm12 callee-saved */
                    check_variant(d, flag_sets[fi], saved_sets[si], 0x10c0u, locals_set[li],
                                  mid);
#endif
                }
    printf("%d frame variants unwound, %d refused\n", variants_run, variants_skipped);
    JT_CHECK(variants_run >= 36);
    jk_debug_destroy(d, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    printf("unwinder: %s\n", jk_debug_unwinder());
    JT_RUN(test_frames_unwind);
    return jt_finish();
}
