/*
 * bf.h - the Brainfuck example's parts: loading a program, the tape, the
 * reference interpreter and the two JITs built on jitkit's x86 assembler.
 *
 *     source --bf_load--> bf_program (commands, bracket partners, positions)
 *                             |
 *          +------------------+--------------------+
 *          |                  |                    |
 *     bf_interp          bf_jit_compile(NAIVE)  bf_jit_compile(OPT)
 *     (checks every      one instruction        folded runs and offsets,
 *      access)           sequence per command   recognised loops
 *          \                  |                    /
 *           +-------- bf_tape (cells between guard pages) ---+
 *
 * Semantics shared by every mode: BF_TAPE_CELLS cells of 8 bits that wrap
 * around, the pointer starts at cell 0, `,` stores 0 at end of input.
 * Accessing a cell outside the tape stops the program with BF_FAULT, after
 * all output that came before the access. The interpreter checks each
 * access; the JITs check nothing and let the guard pages on both sides of
 * the tape fault. For that to catch every stray access, the pointer may move
 * at most BF_MAX_REACH cells between two cell accesses in JIT-compiled code
 * (the guards are larger than that); a program that moves farther in one
 * stretch of `<`/`>` is refused by the JITs at compile time, naming the spot.
 *
 * Single-threaded: one JIT run at a time per process (the fault handler
 * finds the running program through a static).
 */
#ifndef BF_H
#define BF_H

#include <jitkit/jitkit.h>

#include <stddef.h>
#include <stdint.h>

#define BF_TAPE_CELLS 65536u
#define BF_GUARD_BYTES 65536u
#define BF_MAX_REACH 32768
#define BF_OUTBUF 4096u

/* -- Programs ----------------------------------------------------------- */

typedef struct bf_program {
    char *cmd;       /* the eight commands only, in order */
    size_t n;        /* number of commands */
    uint32_t *match; /* for `[` and `]`: index of the partner */
    uint32_t *line;  /* source line (1-based) of each command */
    uint32_t *col;   /* source column (1-based) of each command */
} bf_program;

/* Parse `len` bytes of source (everything but the eight commands is a
 * comment). Returns 0, or -1 with a message in msg ("unmatched '[' at line
 * 3, column 7", "out of memory"). */
int bf_load(bf_program *p, const char *src, size_t len, char *msg, size_t msgsz);
void bf_program_free(bf_program *p);

/* -- I/O and the tape ------------------------------------------------------ */

typedef struct bf_io {
    /* Receives output in batches of up to BF_OUTBUF bytes. */
    void (*write)(void *user, const unsigned char *data, size_t n);
    /* Returns the next input byte or -1 at the end of input. */
    int (*read)(void *user);
    void *user;
} bf_io;

/* BF_TAPE_CELLS cells with BF_GUARD_BYTES of inaccessible pages on each
 * side, all from jitkit's memory layer (jk_mem_alloc + jk_mem_protect). */
typedef struct bf_tape {
    jk_mem *mem;
    unsigned char *cells;
} bf_tape;

/* Returns 0, or -1 with the memory layer's message. */
int bf_tape_new(bf_tape *t, char *msg, size_t msgsz);
/* All cells back to 0. */
void bf_tape_clear(bf_tape *t);
void bf_tape_free(bf_tape *t);

/* How a run ended. */
typedef enum bf_outcome {
    BF_DONE,  /* the program ran to its end */
    BF_FAULT, /* it accessed a cell outside the tape */
    BF_FAILED /* the run could not be started (message given) */
} bf_outcome;

/* -- Running --------------------------------------------------------------- */

/* The reference interpreter. */
bf_outcome bf_interp(const bf_program *p, bf_tape *t, const bf_io *io);

typedef enum bf_jit_kind {
    BF_JIT_NAIVE,
    BF_JIT_OPT,
    BF_JIT_KIND_COUNT
} bf_jit_kind;

typedef struct bf_stats {
    size_t commands;   /* commands in the program */
    size_t code_bytes; /* machine code generated */
    size_t clears;     /* [-] style loops turned into a store */
    size_t muls;       /* move/multiply loops turned into straight code */
    size_t scans;      /* [>] style loops turned into a scan */
    size_t loops;      /* loops left as loops */
    double compile_s;  /* parse to installed code, seconds */
} bf_stats;

typedef struct bf_jit bf_jit;

/* Compile p for the host CPU (x86-64 or x86-32, System V or Win64 ABI) and
 * install it in heap h. stats may be NULL. Returns 0, or -1 with a message
 * (the assembler's or the heap's error, or a pointer move the guard pages
 * cannot cover). */
int bf_jit_compile(const bf_program *p, bf_jit_kind kind, jk_heap *h, bf_jit **out,
                   bf_stats *stats, char *msg, size_t msgsz);

/* Run compiled code on tape t (which it does not clear). BF_FAILED (with a
 * message) when the fault handler could not be installed. */
bf_outcome bf_jit_run(bf_jit *j, bf_tape *t, const bf_io *io, char *msg, size_t msgsz);

void bf_jit_free(bf_jit *j);

/* Seconds from a monotonic clock. */
double bf_now(void);

#endif
