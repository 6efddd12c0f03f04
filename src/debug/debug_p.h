/*
 * debug/debug_p.h - what the parts of the debug module share: the recorded
 * CFI, one registered function, and the per-consumer contracts.
 *
 *   cfi.c          jk_cfi: the verbs -> DWARF call frame instructions (and
 *                  a list of resolved steps for the Win64 translation);
 *                  the .eh_frame writer (CIE + FDE + terminator)
 *   debug.c        the registry: address hash, newest-first list, lock,
 *                  options and environment; calls the consumers below in
 *                  order and takes them back in reverse order
 *   unwind_elf.c   ELF unwinders, found at run time: libgcc (groups of
 *                  functions as frame tables before GCC 13, else one
 *                  .eh_frame each) or LLVM libunwind __unw_add_dynamic_fde
 *   unwind_win64.c RtlAddFunctionTable with UNWIND_INFO translated from CFI
 *   gdb.c          the GDB JIT interface and the in-memory ELF writer
 *   lines.c        line tables: checking and copying them, the text
 *                  assembler's statements as one, the DWARF line program
 *   perf.c         /tmp/perf-<pid>.map and jit-<pid>.dump (Linux)
 *
 * Each consumer file compiles to its portable stub where its OS part does
 * not apply, so the build adds every file.
 */
#ifndef JK_DEBUG_DEBUG_P_H
#define JK_DEBUG_DEBUG_P_H

#include "jitkit/debug.h"

#include <stddef.h>
#include <stdint.h>

/* One verb as applied, with the CFA rule in force after it. */
typedef enum cfi_verb {
    CFI_DEF_CFA,         /* reg, off = new CFA offset */
    CFI_DEF_CFA_OFFSET,  /* off = new CFA offset */
    CFI_DEF_CFA_REGISTER,/* reg */
    CFI_OFFSET,          /* reg saved at CFA + off */
    CFI_RESTORE,
    CFI_REMEMBER,
    CFI_RESTORE_STATE,
    CFI_UNDEFINED,
    CFI_SAME_VALUE,
    CFI_VERB_COUNT
} cfi_verb;

typedef struct jk__cfi_step {
    uint32_t at;
    uint8_t verb;     /* cfi_verb */
    uint8_t reg;
    uint8_t cfa_reg;  /* CFA rule after the step */
    int32_t off;
    int32_t cfa_off;
} jk__cfi_step;

typedef struct cfi_state {
    unsigned cfa_reg;
    int32_t cfa_off;
} cfi_state;

struct jk_cfi {
    jk_cfi_arch arch;    /* resolved, never HOST */
    int started, ended;
    uint32_t loc;        /* offset the instructions have advanced to */
    uint32_t last_at;
    uint32_t size;       /* from endproc */
    cfi_state cur;
    cfi_state *stack;    /* remember_state */
    size_t depth, stack_cap;
    uint8_t *ins;        /* DWARF call frame instructions */
    size_t len, cap;
    jk__cfi_step *steps;
    size_t nsteps, steps_cap;
    jk_error error;      /* sticky first error */
};

/* Architecture parameters of the CIE. */
typedef struct jk__cfi_arch_info {
    unsigned ptr_size;   /* 4 or 8 */
    int data_align;      /* -4 / -8 */
    unsigned ra_reg;
    unsigned sp_reg;
    unsigned elf_machine;
} jk__cfi_arch_info;

const jk__cfi_arch_info *jk__cfi_arch(jk_cfi_arch arch);
jk_cfi_arch jk__cfi_host_arch(void);

/* Size of the .eh_frame jk_cfi_eh_frame writes for c (any address). */
size_t jk__eh_frame_size(const jk_cfi *c);

/* -- A registered function ---------------------------------------------------- */

typedef struct jk__dbg_fn {
    const void *code;
    size_t size;
    struct jk__dbg_fn *prev, *next; /* registry list, newest first */
    unsigned done;        /* JK_DEBUG_* consumers that accepted it */
    jk_cfi_arch arch;
    uint8_t *blob;        /* the unwinder's .eh_frame, then (GDB) a copy of
                             the CFI instructions */
    uint8_t *eh;          /* the .eh_frame inside blob; NULL without CFI */
    size_t eh_size;
    void *unwind;         /* the unwinder's handle (FDE, group, function table) */
    unsigned unwind_idx;  /* place in its group (libgcc) */
    struct jk__gdb_obj *gobj;           /* gdb: the object it is in, or the
                                           registry's pending list */
    struct jk__dbg_fn *gnext, *gprev;   /* the other members */
    int has_cfi;          /* gdb: cfi_ins/cfi_len/cfi_size describe it */
    uint8_t *cfi_ins;
    size_t cfi_len;
    uint32_t cfi_size;
    jk_debug_line *lines; /* the line table (one allocation with the two
                             strings below), NULL without one */
    size_t nlines;
    const char *src_file; /* as given */
    const char *src_dir;  /* comp_dir, "" when none */
    char name[];
} jk__dbg_fn;

/* -- Unwinder (unwind_elf.c / unwind_win64.c) ------------------------------------ */

/* "libgcc", "libunwind", "win64", or NULL when there is none. */
const char *jk__unwind_name(void);
/* Register f's unwind data (f->eh on ELF; built from cfi on Windows). */
jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err);
void jk__unwind_remove(jk__dbg_fn *f);
/* 1 if the unwinder reads .eh_frame (then debug.c builds f->eh). */
int jk__unwind_wants_eh_frame(void);

/* -- Line tables (lines.c) ---------------------------------------------------- */

/* Check src against a function of `size` bytes and copy it into f. */
jk_status jk__lines_copy(jk__dbg_fn *f, const jk_debug_src *src, jk_error *err);
/* Size of the DWARF 4 .debug_line unit / .debug_info compile unit for f
 * (addresses of ptr_size bytes), and writing them (dst of that size);
 * the abbreviation table the compile unit uses. */
size_t jk__dwarf_line_size(const jk__dbg_fn *f, unsigned ptr_size);
void jk__dwarf_line_write(const jk__dbg_fn *f, unsigned ptr_size, uint8_t *dst);
size_t jk__dwarf_info_size(const jk__dbg_fn *f, unsigned ptr_size);
void jk__dwarf_info_write(const jk__dbg_fn *f, unsigned ptr_size, uint32_t line_off,
                          uint8_t *dst);
extern const uint8_t jk__dwarf_abbrev[];
extern const size_t jk__dwarf_abbrev_size;

/* -- GDB (gdb.c) ------------------------------------------------------------- */

/* One in-memory ELF object in gdb's list and the functions it describes;
 * a registry's pending list (functions registered during a batch, not yet
 * in an object) is one without entry. */
typedef struct jk__gdb_obj {
    jk__dbg_fn *first;    /* members, linked through gnext/gprev */
    size_t n;
    void *entry;          /* the jit_code_entry; NULL for a pending list */
    uint8_t *image;
    struct jk__gdb_obj *dirty_next; /* a member left during a batch */
    int dirty;
} jk__gdb_obj;

/* Functions per object at most (one .text section each; ELF section
 * numbers stay below SHN_LORESERVE). */
#define JK__GDB_OBJ_MAX 4096u

/* Make f a member of o / take it out of its object or list. */
void jk__gdb_link(jk__gdb_obj *o, jk__dbg_fn *f);
void jk__gdb_unlink(jk__dbg_fn *f);
/* Build objects of up to JK__GDB_OBJ_MAX members from the pending list and
 * register each with gdb (one __jit_debug_register_code call per object).
 * On failure (JK_ENOMEM) the functions not yet in an object stay pending. */
jk_status jk__gdb_publish(jk__gdb_obj *pending, jk_error *err);
/* Unregister o from gdb and free it; its remaining members move to
 * `pending` (NULL: they are just unlinked). */
void jk__gdb_retire(jk__gdb_obj *o, jk__gdb_obj *pending);

/* -- perf (perf.c) ------------------------------------------------------------ */

int jk__perf_supported(void);
/* Write f's map line and/or code-load record (flags: PERF_MAP, JITDUMP). */
jk_status jk__perf_add(const jk__dbg_fn *f, unsigned flags, const char *jitdump_dir,
                       jk_error *err);
/* 1 if this process has not written perf files yet since it was forked. */
int jk__perf_pid_changed(unsigned long *pid_seen);

/* fork() (POSIX): each file's process-wide lock, taken before a fork and
 * released after it in both processes, so the child never inherits one
 * held by a thread that does not exist there (phase 0 lock, 1 unlock). */
void jk__gdb_fork(int phase);
void jk__perf_fork(int phase);
void jk__unwind_fork(int phase);

/* The GDB JIT interface symbols (their names are gdb's). */
struct jit_code_entry;
struct jit_descriptor;
JK_API void __jit_debug_register_code(void);

#endif
