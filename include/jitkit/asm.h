/*
 * jitkit/asm.h - the Intel-syntax text assembler: source text in, machine
 * code out, through the same instruction tables as the C API (jitkit/x86.h).
 *
 *     jk_asm *as;
 *     jk_asm_options o = JK_ASM_OPTIONS_INIT;       64-bit, GNU dialect
 *     jk_asm_new(&as, &o, NULL);
 *     if (jk_asm_assemble(as, "mov eax, 12345678h; ret", (size_t)-1) != JK_OK)
 *         for (size_t i = 0; i < jk_asm_diag_count(as); i++)
 *             fputs(jk_asm_diag_text(as, i), stderr);
 *     jk_asm_install(as, NULL, &mem, &entry);
 *     jk_asm_free(as);
 *
 * Pipeline (see docs/text.md):
 *
 *     text --split--> statements --lex/parse--> operands (jk_x86_op)
 *          --jk_x86_emit--> x86 assembler --finish--> bytes
 *
 * The source is read in passes. The first pass usually suffices; when an
 * expression depends on the layout (label differences, '.' used as a
 * number, forward references in .set) the text is assembled again with the
 * offsets of the previous pass until they no longer change.
 *
 * Dialects. JK_ASM_SYNTAX_GNU (the default) is what `objdump -M intel`
 * prints and GNU as reads after `.intel_syntax noprefix`: ';' separates
 * statements, '#' starts a comment, '.' is the current address. NASM habits
 * that do not conflict are accepted too (`qword [rax]`, 12345678h, db/dd,
 * times, align, '$'). JK_ASM_SYNTAX_NASM makes ';' a comment and `.name` a
 * local label of the last ordinary label.
 *
 * Errors are collected, not just the first: every problem becomes a
 * diagnostic with file, line, column, a message, the source line and a
 * caret, formatted as compilers print them:
 *
 *     in.s:3:10: error: unknown register or symbol 'rxa'
 *         mov rax, rxa
 *                  ^~~
 *
 * The handle owns the diagnostics, a copy of the source and the code.
 * Thread safety: one handle per thread; distinct handles are independent.
 */
#ifndef JITKIT_ASM_H
#define JITKIT_ASM_H

#include "jitkit/status.h"
#include "jitkit/mem.h"
#include "jitkit/x86.h"
#include "jitkit/debug.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jk_asm_syntax {
    JK_ASM_SYNTAX_GNU,   /* GNU as .intel_syntax noprefix / objdump -M intel */
    JK_ASM_SYNTAX_NASM,  /* ';' comments, NASM local labels */
    JK_ASM_SYNTAX_COUNT
} jk_asm_syntax;

/* Option flags (jk_asm_options.flags). */
#define JK_ASM_LISTING 0x01u /* record each statement's offset and size */
#define JK_ASM_EXTERN  0x02u /* undefined names become external symbols
                                resolved through jk_asm_set_resolver */

typedef struct jk_asm_options {
    jk_x86_mode mode;       /* JK_X86_MODE64 (default) or JK_X86_MODE32 */
    jk_asm_syntax syntax;   /* JK_ASM_SYNTAX_GNU (default) */
    const char *filename;   /* used in messages; NULL means "<input>" */
    unsigned max_errors;    /* stop after this many diagnostics; 0 means 20 */
    unsigned flags;         /* JK_ASM_* */
    uint64_t base;          /* address the code is assumed to run at for
                               jk_asm_code (absolute branch targets) */
} jk_asm_options;

#define JK_ASM_OPTIONS_INIT {JK_X86_MODE64, JK_ASM_SYNTAX_GNU, NULL, 0, 0, 0}

typedef struct jk_asm jk_asm;

/* One diagnostic. Strings are owned by the handle and live until the next
 * jk_asm_assemble or jk_asm_free. line and col are 1-based; col counts
 * bytes; len is the length of the offending token (at least 1). */
typedef struct jk_asm_diag {
    jk_status status;       /* JK_ESYNTAX, JK_ENOFORM, JK_ERANGE, JK_ELABEL ... */
    const char *file;
    unsigned line, col, len;
    const char *message;    /* without position or "error:" */
    const char *source;     /* the source line, not NUL-terminated */
    size_t source_len;
} jk_asm_diag;

/* One statement that produced bytes (JK_ASM_LISTING). text/text_len is the
 * statement as written, without comment. */
typedef struct jk_asm_stmt {
    size_t offset, size;    /* in the finished code */
    unsigned line, col;
    const char *text;
    size_t text_len;
} jk_asm_stmt;

/* Create a text assembler (opt may be NULL for the defaults). JK_EINVAL for
 * a bad mode or syntax, JK_ENOMEM. */
JK_API jk_status jk_asm_new(jk_asm **out, const jk_asm_options *opt, jk_error *err);

/* Free the handle, its diagnostics and code (NULL accepted). Code installed
 * with jk_asm_install is not affected. */
JK_API void jk_asm_free(jk_asm *as);

/* Assemble text (len bytes, or NUL-terminated when len is (size_t)-1).
 * The text need not outlive the call (diagnostics keep a copy of their line;
 * with JK_ASM_LISTING the handle keeps a copy for the statement texts).
 * Previous code and diagnostics are discarded. Returns
 * JK_OK, or the status of the first diagnostic (JK_ESYNTAX for syntax,
 * encoder statuses for operands that no form takes, JK_ELABEL for undefined
 * or duplicate labels, JK_ENOMEM). */
JK_API jk_status jk_asm_assemble(jk_asm *as, const char *text, size_t len);

/* Number of diagnostics of the last jk_asm_assemble. */
JK_API size_t jk_asm_diag_count(const jk_asm *as);

/* Diagnostic i (NULL when out of range); valid until the next
 * jk_asm_assemble or jk_asm_free. */
JK_API const jk_asm_diag *jk_asm_diag_at(const jk_asm *as, size_t i);

/* Diagnostic i formatted as "file:line:col: error: message\n<line>\n<caret>\n"
 * (NUL-terminated, owned by the handle, valid until the next call of this
 * function or jk_asm_assemble). "" when out of range. */
JK_API const char *jk_asm_diag_text(jk_asm *as, size_t i);

/* The finished code (as if run at options.base) and its size; NULL with
 * size 0 after a failed assembly, and when the code calls external symbols
 * (JK_ASM_EXTERN: they are resolved by jk_asm_install). Owned by the
 * handle. */
JK_API const uint8_t *jk_asm_code(jk_asm *as, size_t *size);

/* Size of the finished code (0 after a failed assembly). */
JK_API size_t jk_asm_size(const jk_asm *as);

/* Size of the code as the last jk_asm_install, jk_asm_install_heap or
 * jk_asm_copy laid it out: jk_asm_size, plus the slots of calls and jumps
 * that could not reach their targets from where the code went (0 after a
 * failed assembly). */
JK_API size_t jk_asm_installed_size(const jk_asm *as);

/* Copy the code, relocated for runtime_addr, into dst (cap bytes):
 * JK_ENOSPACE if too small, JK_ESTATE if the last assembly failed. */
JK_API jk_status jk_asm_copy(jk_asm *as, void *dst, size_t cap, uint64_t runtime_addr);

/* Allocate executable memory (opt may be NULL), copy, commit. *mem owns the
 * code (jk_mem_free); *entry is its first byte. JK_ESTATE if the last
 * assembly failed; otherwise the statuses of jk_x86_install. */
JK_API jk_status jk_asm_install(jk_asm *as, const jk_mem_options *opt, jk_mem **mem,
                                void **entry);

/* The x86 assembler's error after jk_asm_install or jk_asm_copy failed
 * (e.g. "external symbol 'foo' not resolved (line 3, column 5)": a
 * relocation's error names the statement by number, as the text may be gone
 * by then); status JK_OK and an empty message when there is none. Never NULL
 * for a valid handle. */
JK_API const jk_error *jk_asm_x86_error(const jk_asm *as);

/* Statements with bytes (only with JK_ASM_LISTING). */
JK_API size_t jk_asm_stmt_count(const jk_asm *as);
/* Statement i (NULL when out of range); valid until the next
 * jk_asm_assemble or jk_asm_free. */
JK_API const jk_asm_stmt *jk_asm_stmt_at(const jk_asm *as, size_t i);

/* Offset of a label defined in the text (JK_ELABEL if unknown, JK_ESTATE
 * if the last assembly failed). */
JK_API jk_status jk_asm_label_offset(const jk_asm *as, const char *name, size_t *offset);

/* -- Functions (names and unwind rules for debuggers and profilers) ---------
 *
 * The text describes functions the way GNU as sources do:
 *
 *     .type f, @function          f is a function (also %function, STT_FUNC)
 *   f: .cfi_startproc             its unwind rules start here ...
 *     push rbp
 *     .cfi_def_cfa_offset 16      ... the .cfi_* verbs of include/jitkit/debug.h
 *     ...
 *     .cfi_endproc                ... and end here
 *     .size f, . - f              its size
 *
 * Each .cfi_startproc ... .cfi_endproc range is a function (named by the
 * label at its start, if any), and so is each `.type name, @function`
 * symbol (its size from .size, else its CFI range, else up to the next
 * function or the end of the code). Supported verbs: def_cfa,
 * def_cfa_offset, def_cfa_register, adjust_cfa_offset, offset, rel_offset,
 * restore, remember_state, restore_state, undefined, same_value (and
 * .cfi_sections, ignored); .cfi_personality, .cfi_lsda, .cfi_escape and
 * the others are refused (their meaning would be lost). */
typedef struct jk_asm_func {
    const char *name;      /* NUL-terminated; NULL when nothing names it */
    size_t offset, size;   /* in the code */
    const jk_cfi *cfi;     /* its unwind rules (offsets from the function's
                              start), NULL without .cfi_startproc */
} jk_asm_func;

/* Number of functions of the last (successful) assembly, and function i
 * (NULL when out of range), in the order of their offsets; valid until the
 * next jk_asm_assemble or jk_asm_free. */
JK_API size_t jk_asm_func_count(const jk_asm *as);
JK_API const jk_asm_func *jk_asm_func_at(const jk_asm *as, size_t i);

/* Register every function with d (jk_debug_register: names for gdb and
 * perf, unwind rules for the unwinder, and with JK_ASM_LISTING the source
 * lines of its statements), the code installed at exec; on a
 * failure nothing stays registered. Unregister with jk_asm_debug_unregister
 * (or jk_debug_unregister at each function's address) before the code is
 * freed. JK_ESTATE when the last assembly failed; the registry's errors. */
JK_API jk_status jk_asm_debug_register(const jk_asm *as, jk_debug *d, const void *exec,
                                       jk_error *err);
JK_API jk_status jk_asm_debug_unregister(const jk_asm *as, jk_debug *d, const void *exec,
                                         jk_error *err);

/* Resolver for external names (with JK_ASM_EXTERN), passed on to the x86
 * assembler; see jk_x86_set_resolver. */
JK_API jk_status jk_asm_set_resolver(jk_asm *as, jk_x86_resolver fn, void *ctx);

/* Number of passes the last assembly needed (1 when no expression depended
 * on the layout). */
JK_API unsigned jk_asm_passes(const jk_asm *as);

/* One-shot convenience: assemble and install. On failure err (may be NULL)
 * receives the first diagnostic, formatted "file:line:col: message". */
/* jk_x86_install_heap for the assembled code: place it in heap h (NULL:
 * the process-wide default heap) and publish it; *fn is the address to
 * call, freed with jk_heap_free. JK_ESTATE unless the last assemble
 * succeeded; install errors as for jk_asm_install. */
JK_API jk_status jk_asm_install_heap(jk_asm *as, jk_heap *h, void **fn);

/* One call from text to callable: assemble `text` (NUL-terminated, GNU
 * dialect) in `mode` and install it in heap h (NULL: the default heap).
 * The keyword tables are built once per process, so this allocates only
 * the handle's small state. Free *fn with jk_heap_free (jk_heap_default
 * gives the default heap). Errors as for jk_asm_load. */
JK_API jk_status jk_asm_load_heap(const char *text, jk_x86_mode mode, jk_heap *h, void **fn,
                                  jk_error *err);

JK_API jk_status jk_asm_load(const char *text, jk_x86_mode mode, jk_mem **mem, void **entry,
                             jk_error *err);

#ifdef __cplusplus
}
#endif
#endif
