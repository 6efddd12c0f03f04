/*
 * bf_prog.c - loading a Brainfuck program, the guarded tape, and the
 * reference interpreter every JIT is checked against.
 *
 * The interpreter is deliberately plain: it folds runs of `+ - < >` into one
 * step with a count (the only change from reading the commands one by one)
 * and checks every cell access against the tape's bounds.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include "bf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

/* -- Loading ------------------------------------------------------------- */

void bf_program_free(bf_program *p)
{
    free(p->cmd);
    free(p->match);
    free(p->line);
    free(p->col);
    memset(p, 0, sizeof *p);
}

int bf_load(bf_program *p, const char *src, size_t len, char *msg, size_t msgsz)
{
    size_t n = 0, depth = 0;
    uint32_t line = 1, col = 0;
    uint32_t *stack;

    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < len; i++)
        if (strchr("+-<>.,[]", src[i]) && src[i] != '\0')
            n++;
    if (n > UINT32_MAX - 1) {
        snprintf(msg, msgsz, "program too long (%zu commands)", n);
        return -1;
    }
    p->cmd = malloc(n + 1);
    p->match = calloc(n + 1, sizeof *p->match);
    p->line = malloc((n + 1) * sizeof *p->line);
    p->col = malloc((n + 1) * sizeof *p->col);
    stack = malloc((n + 1) * sizeof *stack);
    if (!p->cmd || !p->match || !p->line || !p->col || !stack) {
        free(stack);
        bf_program_free(p);
        snprintf(msg, msgsz, "out of memory for %zu commands", n);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
            continue;
        }
        if (c == '\0' || !strchr("+-<>.,[]", c))
            continue;
        p->line[p->n] = line;
        p->col[p->n] = col;
        if (c == '[') {
            stack[depth++] = (uint32_t)p->n;
        } else if (c == ']') {
            if (depth == 0) {
                snprintf(msg, msgsz, "unmatched ']' at line %u, column %u", (unsigned)line,
                         (unsigned)col);
                free(stack);
                bf_program_free(p);
                return -1;
            }
            uint32_t open = stack[--depth];
            p->match[open] = (uint32_t)p->n;
            p->match[p->n] = open;
        }
        p->cmd[p->n++] = c;
    }
    p->cmd[p->n] = '\0';
    if (depth != 0) {
        uint32_t open = stack[depth - 1];
        snprintf(msg, msgsz, "unmatched '[' at line %u, column %u", (unsigned)p->line[open],
                 (unsigned)p->col[open]);
        free(stack);
        bf_program_free(p);
        return -1;
    }
    free(stack);
    return 0;
}

/* -- The tape ---------------------------------------------------------------- */

int bf_tape_new(bf_tape *t, char *msg, size_t msgsz)
{
    jk_mem_options opt = {JK_MEM_AUTO, NULL};
    jk_error err;

    /* The tape is data: one plain mapping (FLIP) where the platform has it,
     * so the guard pages are simply inaccessible pages of that mapping. */
    if (jk_mem_strategy_available(JK_MEM_FLIP))
        opt.strategy = JK_MEM_FLIP;
    t->mem = NULL;
    t->cells = NULL;
    if (jk_mem_alloc(&t->mem, BF_GUARD_BYTES + BF_TAPE_CELLS + BF_GUARD_BYTES, &opt, &err) !=
            JK_OK ||
        jk_mem_protect(t->mem, 0, BF_GUARD_BYTES, JK_ACCESS_NONE, &err) != JK_OK ||
        jk_mem_protect(t->mem, BF_GUARD_BYTES + BF_TAPE_CELLS, BF_GUARD_BYTES, JK_ACCESS_NONE,
                       &err) != JK_OK) {
        snprintf(msg, msgsz, "tape: %s", err.message);
        jk_mem_free(t->mem, NULL);
        t->mem = NULL;
        return -1;
    }
    t->cells = (unsigned char *)jk_mem_writable(t->mem) + BF_GUARD_BYTES;
    bf_tape_clear(t);
    return 0;
}

void bf_tape_clear(bf_tape *t)
{
    memset(t->cells, 0, BF_TAPE_CELLS);
}

void bf_tape_free(bf_tape *t)
{
    jk_mem_free(t->mem, NULL);
    t->mem = NULL;
    t->cells = NULL;
}

double bf_now(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
}

/* -- The interpreter ------------------------------------------------------------ */

/* One folded step: a command and its count (run length, or for brackets the
 * index of the partner step). */
typedef struct step {
    char op;
    int32_t arg;
} step;

bf_outcome bf_interp(const bf_program *p, bf_tape *t, const bf_io *io)
{
    step *code = malloc((p->n + 1) * sizeof *code);
    uint32_t *at = malloc((p->n + 1) * sizeof *at); /* command -> step */
    unsigned char out[BF_OUTBUF];
    size_t nout = 0, ns = 0;
    unsigned char *cell = t->cells;
    long ptr = 0;
    bf_outcome result = BF_DONE;

    if (!code || !at) {
        free(code);
        free(at);
        return BF_FAILED;
    }
    for (size_t i = 0; i < p->n;) {
        char c = p->cmd[i];
        at[i] = (uint32_t)ns;
        if (c == '+' || c == '-' || c == '<' || c == '>') {
            char inc = c == '+' ? '+' : c == '-' ? '-' : c;
            char dec = c == '+' ? '-' : c == '-' ? '+' : c == '<' ? '>' : '<';
            int32_t count = 0;
            /* Fold a run of one pair (+- or <>) into a signed count. */
            while (i < p->n && (p->cmd[i] == inc || p->cmd[i] == dec)) {
                count += p->cmd[i] == inc ? 1 : -1;
                i++;
            }
            code[ns].op = (c == '+' || c == '-') ? '+' : '>';
            code[ns].arg = (c == '-' || c == '<') ? -count : count;
            ns++;
            continue;
        }
        code[ns].op = c;
        code[ns].arg = 0;
        if (c == ']') {
            uint32_t open = at[p->match[i]];
            code[ns].arg = (int32_t)open;
            code[open].arg = (int32_t)ns;
        }
        ns++;
        i++;
    }
    code[ns].op = 0;

#define CHECK_CELL()                                                   \
    if (ptr < 0 || ptr >= (long)BF_TAPE_CELLS) {                       \
        result = BF_FAULT;                                             \
        goto done;                                                     \
    }
    for (size_t pc = 0; pc < ns; pc++) {
        const step *s = &code[pc];
        switch (s->op) {
        case '+':
            CHECK_CELL();
            cell[ptr] = (unsigned char)(cell[ptr] + s->arg);
            break;
        case '>':
            ptr += s->arg;
            break;
        case '.':
            CHECK_CELL();
            out[nout++] = cell[ptr];
            if (nout == sizeof out) {
                io->write(io->user, out, nout);
                nout = 0;
            }
            break;
        case ',': {
            CHECK_CELL();
            if (nout) {
                io->write(io->user, out, nout);
                nout = 0;
            }
            int ch = io->read(io->user);
            cell[ptr] = (unsigned char)(ch < 0 ? 0 : ch);
            break;
        }
        case '[':
            CHECK_CELL();
            if (cell[ptr] == 0)
                pc = (size_t)s->arg;
            break;
        case ']':
            CHECK_CELL();
            if (cell[ptr] != 0)
                pc = (size_t)s->arg;
            break;
        default:
            break;
        }
    }
#undef CHECK_CELL
done:
    if (nout)
        io->write(io->user, out, nout);
    free(code);
    free(at);
    return result;
}
