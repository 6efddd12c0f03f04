/*
 * text/text_p.h - private state of the text assembler (src/text/asm.c).
 *
 * The parser never builds a syntax tree: each pass re-reads the source and
 * turns every statement straight into jk_x86_emit / jk_x86_db calls. What
 * survives between passes is only what the layout needs: the symbol table
 * (labels with their final offsets from the previous pass, .set values) and
 * the hidden labels that stand for '.' in the statements that use it.
 *
 *   pass k:  source --statements--> x86 assembler --finish--> offsets(k)
 *   repeat while some expression used offsets and offsets(k) != offsets(k-1)
 */
#ifndef JK_TEXT_TEXT_P_H
#define JK_TEXT_TEXT_P_H

#include "jitkit/asm.h"
#include "jitkit/debug.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* -- Keywords: registers, mnemonics, directives, prefixes ------------------ */
enum {
    KW_NONE,
    KW_MNEM,    /* a = mnemonic id */
    KW_REG,     /* a = register class, b = number */
    KW_SIZE,    /* a = bytes */
    KW_PTR,
    KW_PREFIX,  /* a = PFX_* , b = raw byte */
    KW_DIR,     /* a = D_* */
    KW_WORD,    /* a = W_* */
    KW_KIND_COUNT
};

typedef struct kw {
    const char *name;
    uint64_t w0, w1;      /* the first 16 characters, lower case, packed */
    uint8_t len, kind;
    uint16_t a;
    uint16_t b;
    uint8_t twin;         /* the upper-case twin of a short name (w0 upper case) */
} kw;

/* -- Values ------------------------------------------------------------------ */
/* k + address(sym); sym 0 means a plain number. prov: computed from an
 * offset that is only an estimate (first pass), so range checks wait. */
typedef struct val {
    int64_t k;
    uint32_t sym;
    uint8_t prov;
} val;

enum { SYM_UNDEF, SYM_LABEL, SYM_CONST, SYM_EXTERN, SYM_KIND_COUNT };

typedef struct sym {
    const char *name;      /* owned (arena); display name */
    uint32_t len, hash;
    uint32_t next;         /* hash chain */
    uint64_t w0, w1;       /* the first 16 characters, packed (sym_get_w) */
    uint8_t kind;
    uint8_t has_off;       /* off is the final offset of an earlier pass */
    uint8_t has_val;       /* SYM_CONST: val holds a value */
    uint8_t as_label;      /* used as a branch target/memory label this pass */
    unsigned def_pass, ref_pass;
    jk_label lbl;
    uint32_t gen;          /* assembler generation lbl belongs to */
    size_t raw;            /* raw offset at the bind in this pass (estimate) */
    size_t off;            /* final offset from the previous pass */
    val v;                 /* SYM_CONST */
    const char *ref_at;    /* first reference this pass (for "undefined") */
    unsigned ref_line;
    const char *ref_line_start;
} sym;

typedef struct diag_rec {
    jk_asm_diag d;
    char *msg;
} diag_rec;

typedef struct stmt_rec {
    jk_label lbl;
    jk_asm_stmt s;
} stmt_rec;

typedef struct where_rec {
    size_t raw;             /* code offset (raw) when the statement began */
    size_t insn;            /* the x86 instruction index it began with */
    const char *at;
    const char *line_start;
    unsigned line, col;     /* kept as numbers: copy/install may outlive the text */
} where_rec;

struct jk_asm {
    jk_asm_options opt;
    jk_x86_mode mode;
    jk_x86_asm *x;
    jk_x86_resolver res_fn;
    void *res_ctx;

    kw *kws;
    uint32_t kwmask;
    uint8_t *minfo;            /* per mnemonic id: MI_* */
    uint8_t *mcc;              /* condition code for jcc */
    unsigned mov_id;           /* id of 'mov' */
    unsigned movabs_id, xlat_id, push_id, pop_id;
    uint8_t cls[256];          /* lexer character classes (C_*) */
    uint8_t low[256];          /* ASCII lower case */

    const char *src;           /* the text being assembled */
    size_t srclen;
    char *own_src;             /* copy kept for listings (JK_ASM_LISTING) */
    const char *fname;

    sym *syms;                 /* index 0 unused */
    uint32_t nsyms, capsyms;
    uint32_t *symhash;
    uint32_t symmask;
    char **arena;              /* blocks for names */
    size_t narena;
    char *apos;
    size_t aleft;
    char *arena_mark;          /* in the first block, after the file name */
    size_t arena_mark_left;

    diag_rec *diags;
    size_t ndiags, capdiags;
    char *fmt;

    stmt_rec *stmts;
    size_t nstmts, capstmts;
    where_rec *where;
    size_t nwhere, capwhere;

    uint32_t *dots;            /* sym index of the '.' label of the k-th user */
    size_t ndots, capdots;
    uint32_t start_sym;        /* '$$' */

    uint8_t *code;
    size_t codesize;
    jk_error x86err;           /* jk_asm_x86_error: the x86 error, label names put back */
    int ok;

    unsigned pass, passes;
    uint32_t gen;
    int layout_used, changed, dead, stop, skip_finish;
    size_t maxerr;

    /* current statement */
    const char *line_start;
    unsigned line;
    const char *st_s, *st_e;
    const char *cur_le;        /* end of the current line */
    const char *src_end;       /* end of the text (the lexer may read ahead to it) */
    const char *eos_at;        /* where the lexer found the statement's end */
    int eos_comment;           /* ... and the rest of the line is a comment */
    uint32_t st_dot;           /* sym of '.', 0 before first use */
    int st_failed;
    int in_times;              /* inside a `times` repetition */
    int emitted;               /* something was emitted this pass */
    char last_global[128];
    size_t last_global_len;
    uint32_t *numcnt;          /* numeric labels: definitions so far, per number
                                  (allocated at the first definition) */
    size_t numhi;              /* numbers below this were counted this pass */
    char **xarena;             /* this pass's .irp/.irpc expansions (freed by the next) */
    size_t nxarena, capxarena, xbytes; /* blocks; bytes this pass (bounded) */
    uint8_t *grown;            /* relaxable branches long in a pass from the second on */
    size_t ngrown;             /* bytes of grown */
    size_t times_budget;
    struct macro_def *macros;  /* .macro definitions of this pass (into the text) */
    size_t nmacros, capmacros;
    unsigned macro_runs;       /* \@: macros expanded so far this pass */
    int macro_depth;           /* expansions being run */
    int exitm;                 /* .exitm seen: leave the innermost expansion */
    size_t macro_stmts;        /* statements up to here came from expansions */
    /* sections: statements outside .text are deferred and run after the
     * code, section by section (.rodata, .data, .bss) */
    uint8_t sect;              /* current section (S_* in asm.c) */
    uint8_t prev_sect;         /* for .previous */
    uint8_t sstack[16];        /* .pushsection */
    unsigned nsstack;
    const char *sect_name;     /* name of the current unplaced section */
    size_t sect_name_len;
    struct defer_rec *defer;   /* deferred statements of this pass */
    size_t ndefer, capdefer;
    int deferring;             /* running deferred statements */
    uint8_t run_sect;          /* ... of this section */
    uint16_t sect_align[4];    /* each data section's start alignment (last pass) */
    uint16_t sect_align_now[4]; /* ... the largest .align in it this pass */
    /* functions: .cfi_* verbs and .type/.size of this pass; the result
     * (funcs, with a jk_cfi each that had CFI) after a good assembly */
    struct cfi_op *cfi_ops;
    size_t ncfi, capcfi;
    int in_proc;               /* inside .cfi_startproc */
    struct fn_rec *fnrecs;
    size_t nfnrecs, capfnrecs;
    jk_asm_func *funcs;
    struct jk_cfi **func_cfi;
    size_t nfuncs;
    uint16_t *numlog;          /* numeric label definitions of this pass, in source
                                  order (deferred statements count where they stand) */
    size_t nnumlog, capnumlog;
};

#endif
