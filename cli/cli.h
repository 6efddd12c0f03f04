/*
 * cli/cli.h - pieces of the jitkit command shared between its files.
 */
#ifndef JK_CLI_H
#define JK_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jitkit/debug.h>

#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define EXIT_CRASH  3

extern const char *prog;

int usage_error(const char *fmt, const char *arg);

/* Read a whole file ("-" = standard input) into a NUL-terminated buffer.
 * Returns NULL (message printed) on failure. */
char *read_file(const char *path, size_t *size);

/* Parse "b8 78 56 34 12 c3" / "b878563412c3" / "0xb8,0x78" / "\xb8\x78".
 * Returns the byte count, or -1 with a message printed. */
long parse_hex(const char *s, unsigned char **out);

/* -- Calling the code (cli/call.c) ----------------------------------------- */

#define RUN_MAX_ARGS     32  /* x86: any mix (the frame builder's limit) */
#define RUN_MAX_INT_ARGS 6   /* other hosts: integers and doubles counted apart */
#define RUN_MAX_DBL_ARGS 8

typedef struct run_arg {
    int dbl;              /* 1: a double */
    intptr_t i;
    double d;
} run_arg;

typedef struct run_args {
    run_arg a[RUN_MAX_ARGS];
    int n, nint, ndbl;
    int ret_dbl;          /* --ret double */
} run_args;

typedef union run_result {
    intptr_t i;
    double d;
} run_result;

/* How many arguments run_call can pass on this host. */
int run_max_args(void);

/* Call code with the arguments in a, as the host's C convention passes
 * them to a function of that signature (each integer an intptr_t, each
 * double a double, returning intptr_t or double). The code that makes the
 * call is registered with dbg while it runs (named jit:call). Returns 0,
 * or -1 with a message printed. */
int run_call(void *code, const run_args *a, jk_debug *dbg, run_result *r);

/* -- Disassembly (cli/dis.c) ------------------------------------------------ */

/* Name of the disassembler that dis_* use: "zydis X.Y.Z" when jitkit was
 * built with libzydis, else "objdump". */
const char *dis_engine(void);

/* Print a listing "offset<TAB>bytes<TAB>instruction" of code (as if loaded
 * at base) to out. Returns 0, or -1 with a message printed. */
int dis_listing(FILE *out, const uint8_t *code, size_t n, uint64_t base, int mode64);

/* Disassemble the instruction at code[off]: text into buf. Returns its
 * length, or 0 when it cannot be decoded. */
size_t dis_one(const uint8_t *code, size_t n, size_t off, uint64_t base, int mode64, char *buf,
               size_t cap);

/* Disassemble the whole of code, calling fn for each instruction (address,
 * length, text) in order; fn returns nonzero to stop. Undecodable bytes are
 * reported as "(bad)". Returns 0, or -1 with a message printed. */
typedef int (*dis_fn)(void *ctx, uint64_t addr, size_t len, const char *text);
int dis_each(const uint8_t *code, size_t n, uint64_t base, int mode64, dis_fn fn, void *ctx);

#endif
