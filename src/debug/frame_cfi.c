/*
 * src/debug/frame_cfi.c - unwind rules from what the frame builder did.
 *
 * jk_x86_prologue and jk_x86_epilogue record each change they make to the
 * stack (jk_frame_record: CFA definitions, register saves and restores, at
 * byte offsets into the prologue or the epilogue) in x86 register numbers.
 * This file replays that record into a jk_cfi in DWARF numbers, with the
 * offsets made function-relative through the labels the record keeps, so a
 * function built with the builder is registered for unwinding, gdb and
 * perf without a single hand-written .cfi verb.
 *
 * An epilogue in the middle of the function is bracketed by
 * remember_state / restore_state: after its ret the body's rule applies
 * again to the code that follows (other paths of the same function).
 */
#include "jitkit/debug.h"
#include "jitkit/func.h"

#include "../core/error.h"

/* DWARF number of a register as the record numbers it: 0..15 general
 * registers (hardware numbers), 16 + n xmm n. */
static unsigned dw_reg(unsigned reg, int mode64)
{
    if (reg >= 16)
        return mode64 ? JK_DW_X64_XMM(reg - 16) : 21u + (reg - 16); /* i386: xmm0 is 21 */
    return jk_dw_x86_gpr(reg, mode64);
}

static jk_status replay(jk_cfi *c, const jk_cfa_step *steps, uint32_t n, uint32_t base,
                        int mode64)
{
    for (uint32_t i = 0; i < n; i++) {
        const jk_cfa_step *s = &steps[i];
        uint32_t at = base + s->offset;
        unsigned reg = dw_reg(s->reg, mode64);
        jk_status st;
        switch (s->kind) {
        case JK_CFA_DEF:
            st = jk_cfi_def_cfa(c, at, reg, s->off);
            break;
        case JK_CFA_SAVE:
            st = jk_cfi_offset(c, at, reg, s->off);
            break;
        default:
            st = jk_cfi_restore(c, at, reg);
            break;
        }
        if (st != JK_OK)
            return st;
    }
    return JK_OK;
}

jk_status jk_x86_frame_cfi(jk_cfi *c, const jk_x86_asm *a, const jk_x86_frame *f,
                           uint32_t size, jk_error *err)
{
    const jk_frame_record *r;
    size_t entry, at;
    int mode64;
    jk_status st;
    if (!c || !a || !f)
        return jk__fail(err, JK_EINVAL, "frame cfi: NULL argument");
    if (!f->started)
        return jk__fail(err, JK_EINVAL, "frame cfi: no prologue was emitted for this frame");
    r = &f->rec;
    mode64 = f->mode == JK_X86_MODE64;
    if (jk_x86_label_offset(a, r->entry, &entry) != JK_OK)
        return jk__fail(err, JK_ESTATE, "frame cfi: the code is not finished");
    jk_cfi_startproc(c);
    replay(c, r->steps, r->nsteps, 0, mode64);
    for (uint32_t i = 0; i < r->nepilogues; i++) {
        const jk_frame_epilogue *e = &r->epilogues[i];
        uint32_t start;
        if (jk_x86_label_offset(a, e->start, &at) != JK_OK || at < entry)
            return jk__fail(err, JK_EINVAL, "frame cfi: epilogue %u is not in the function", i);
        start = (uint32_t)(at - entry);
        if (start + e->size < size)
            jk_cfi_remember_state(c, start);
        replay(c, e->steps, e->nsteps, start, mode64);
        if (start + e->size < size)
            jk_cfi_restore_state(c, start + e->size);
    }
    jk_cfi_endproc(c, size);
    st = jk_cfi_status(c);
    if (st != JK_OK)
        return jk__fail(err, st, "%s", jk_cfi_error(c)->message);
    return JK_OK;
}

jk_status jk_x86_install_heap_debug(jk_x86_asm *a, jk_heap *h, jk_debug *d, const char *name,
                                    const jk_x86_frame *f, void **fn, jk_error *err)
{
    jk_cfi *cfi = NULL;
    size_t size = 0, entry = 0;
    void *exec = NULL;
    jk_status st;
    if (fn)
        *fn = NULL;
    if (!a || !h || !d || !f || !fn)
        return jk__fail(err, JK_EINVAL, "install heap debug: NULL argument");
    if (!f->started)
        return jk__fail(err, JK_EINVAL, "install heap debug: no prologue was emitted for "
                                        "this frame");
    if (jk_x86_install_heap(a, h, &exec) != JK_OK) {
        const jk_error *ae = jk_x86_error(a);
        return jk__fail(err, ae->status, "%s", ae->message);
    }
    /* already finished: this gives the size; the function runs from its
     * entry label (code before it, e.g. constants, is not described) */
    st = jk_x86_finish(a, &size);
    if (st == JK_OK)
        st = jk_x86_label_offset(a, f->rec.entry, &entry);
    if (st != JK_OK || entry >= size)
        st = jk__fail(err, st != JK_OK ? st : JK_EINVAL, "install heap debug: %s",
                      st != JK_OK ? jk_x86_error(a)->message : "the frame's entry is not in the code");
    if (st == JK_OK)
        st = jk_cfi_new(&cfi, f->mode == JK_X86_MODE64 ? JK_CFI_X86_64 : JK_CFI_X86_32, err);
    if (st == JK_OK)
        st = jk_x86_frame_cfi(cfi, a, f, (uint32_t)(size - entry), err);
    if (st == JK_OK)
        st = jk_debug_register(d, (char *)exec + entry, size - entry, name, cfi, err);
    jk_cfi_free(cfi);
    if (st != JK_OK) {
        jk_heap_free(h, exec, NULL);
        return st;
    }
    *fn = exec;
    return JK_OK;
}
