/*
 * test_unwind_text.c - a function written as text with GNU as's .type,
 * .size and .cfi_* directives, registered with jk_asm_debug_register: its
 * name and unwind rules come from the text alone. _Unwind_Backtrace in the
 * host callback it calls walks through it into its C caller; without the
 * registration the walk cannot (checked too). Also the refusals.
 *
 *     intptr_t outer(intptr_t (*cb)(intptr_t), intptr_t v) { return cb(v) + 1; }
 */
#include "jitkit/jitkit.h"
#include "jitkit/debug.h"
#include "jt.h"

#include "text_outer.h"
#include "walk.h"

typedef walk_outer outer_fn;

#define MODE TEXT_OUTER_MODE
#define src TEXT_OUTER

static void test_text_cfi_unwinds(void)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    jk_mem *m;
    void *entry;
    jk_debug *d;
    const jk_asm_func *f;
    outer_fn outer;
    o.mode = MODE;
    JT_OK(jk_asm_new(&as, &o, &err), &err);
    JT_CHECK_MSG(jk_asm_assemble(as, src, (size_t)-1) == JK_OK, "%s", jk_asm_diag_text(as, 0));
    JT_EQ_U64(jk_asm_func_count(as), 1);
    f = jk_asm_func_at(as, 0);
    JT_EQ_STR(f->name, "outer");
    JT_EQ_U64(f->offset, 0);
    JT_EQ_U64(f->size, jk_asm_size(as));
    JT_CHECK(f->cfi != NULL);
    JT_CHECK(jk_asm_install(as, NULL, &m, &entry) == JK_OK);
    memcpy(&outer, &entry, sizeof entry);
    JT_OK(jk_debug_new(&d, NULL, &err), &err);
    JT_OK(jk_asm_debug_register(as, d, entry, &err), &err);
    JT_EQ_U64(jk_debug_count(d), 1);
    JT_EQ_I64(walk_caller(outer, 1), 102);
    JT_CHECK_MSG(walk_through(entry, f->size), "no walk through the text function (%d frames)",
                 walk_n);
    JT_OK(jk_asm_debug_unregister(as, d, entry, &err), &err);
    JT_EQ_U64(jk_debug_count(d), 0);
    JT_EQ_I64(walk_caller(outer, 1), 102);
    JT_CHECK_MSG(!walk_through(entry, f->size), "walked through unregistered code");
    jk_debug_destroy(d, NULL);
    jk_mem_free(m, NULL);
    jk_asm_free(as);
}

/* Several functions: named by .type or by the label at a CFI range's
 * start; sizes from .size, the range, or up to the next function. */
static void test_text_functions(void)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    const jk_asm_func *f;
    o.mode = MODE;
    JT_OK(jk_asm_new(&as, &o, &err), &err);
    JT_CHECK(jk_asm_assemble(as,
                             "a: .cfi_startproc\nnop\nret\n.cfi_endproc\n"
                             ".type b, @function\nb: ret\nret\n"
                             ".type c, %function\nc: nop\n.size c, 1\nud2\n",
                             (size_t)-1) == JK_OK);
    JT_EQ_U64(jk_asm_func_count(as), 3);
    f = jk_asm_func_at(as, 0);
    JT_CHECK(f->name && strcmp(f->name, "a") == 0 && f->offset == 0 && f->size == 2 && f->cfi);
    f = jk_asm_func_at(as, 1);
    JT_CHECK(f->name && strcmp(f->name, "b") == 0 && f->offset == 2 && f->size == 2 && !f->cfi);
    f = jk_asm_func_at(as, 2);
    JT_CHECK(f->name && strcmp(f->name, "c") == 0 && f->offset == 4 && f->size == 1);
    jk_asm_free(as);
}

static void refused(const char *text, const char *msg)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    o.mode = MODE;
    JT_OK(jk_asm_new(&as, &o, &err), &err);
    JT_CHECK_MSG(jk_asm_assemble(as, text, (size_t)-1) != JK_OK, "accepted: %s", text);
    {
        size_t i, n = jk_asm_diag_count(as);
        for (i = 0; i < n && !strstr(jk_asm_diag_text(as, i), msg); i++)
            ;
        JT_CHECK_MSG(i < n, "no diagnostic with \"%s\" (first: %s)", msg,
                     n ? jk_asm_diag_text(as, 0) : "none");
    }
    jk_asm_free(as);
}

static void test_text_cfi_refusals(void)
{
    refused(".cfi_def_cfa_offset 16\n", "outside '.cfi_startproc' ... '.cfi_endproc'");
    refused(".cfi_startproc\nnop\n", "'.cfi_startproc' without '.cfi_endproc'");
    refused(".cfi_startproc\n.cfi_startproc\n", "before the '.cfi_endproc' of the last");
    refused(".cfi_startproc\n.cfi_personality 0x9b, p\n.cfi_endproc\n", "is not supported");
    refused(".cfi_startproc\n.cfi_offset nosuchreg, -8\n.cfi_endproc\n",
            "'nosuchreg' is not a register the unwind rules can name");
    refused(".cfi_startproc\n.cfi_restore_state\n.cfi_endproc\n", "restore_state");
    refused(".cfi_startproc simple\n.cfi_endproc\n", "'.cfi_startproc simple' is not supported");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    printf("unwinder: %s\n", jk_debug_unwinder());
    JT_RUN(test_text_cfi_unwinds);
    JT_RUN(test_text_functions);
    JT_RUN(test_text_cfi_refusals);
    return jt_finish();
}
