/*
 * bf_jit.c - two Brainfuck compilers on jitkit's x86 assembler, and the
 * run-time support they share (host calls, the fault handler).
 *
 * Generated function:  int run(bf_ctx *ctx, unsigned char *cell0)
 * returns 0 at the end of the program, 1 when it touched a guard page.
 *
 *   register   x86-64 (SysV, Win64)   x86-32 (cdecl)
 *   pointer    rbx                    ebx      the current cell
 *   context    r12                    esi      bf_ctx: host functions, output
 *   scratch    rax rcx rdx            eax ecx edx
 *
 * The frame (prologue, epilogue, the host calls' argument passing) comes
 * from jitkit's frame builder (jitkit/func.h). The host is reached only
 * through function pointers in the context (jk_x86_call_abi with the
 * target [r12 + offset]: loaded into a scratch register, called), so the
 * code works wherever the heap puts it, however far from the executable.
 *
 * NAIVE emits one fixed sequence per command; brackets become a compare and
 * a conditional branch to a label, relaxed to rel8 where it reaches.
 *
 * OPT works on straight-line *regions* (code between loop brackets): it
 * keeps the pointer movement as a compile-time offset (`cur`), so a region
 * has no pointer updates inside, only `add byte [rbx+off], n` / `mov byte
 * [rbx+off], n`, one per touched cell (runs and repeated visits folded),
 * and a single `lea` before the next bracket. Loops whose body only adds and
 * moves are recognised: net move 0 and the loop cell stepping by 1 is a
 * clear (`[-]`, a store) or a move/multiply loop (`[->+>++<<]`, straight
 * code, run speculatively: see try_mul); a body of moves only is a scan
 * (`[>]`, a tight loop). The cell a loop ended on is known to be 0: adds to
 * it become stores, a loop starting on it is dropped. Output goes into a buffer in the context, inline; the host is
 * called when it is full. Accesses are reordered only within the stretch
 * between two I/O commands, so the output a program produces before a
 * fault is the same as the interpreter's.
 *
 * Out-of-tape accesses fault on the guard pages (bf.h); the signal handler
 * (POSIX) or vectored exception handler (Windows) checks that the fault is
 * an access to a guard from the generated code, and if so resumes it at the
 * function's fault exit, which returns 1 through the normal epilogue - or,
 * for a speculative move/multiply stretch whose count is 0, right after the
 * stretch. Only Linux and Windows have the handler; elsewhere a stray
 * access ends the process with the OS's fault.
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* REG_RIP / REG_EIP in <ucontext.h> */
#endif
#include "bf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#elif defined(__linux__)
#include <signal.h>
#include <ucontext.h>
#define BF_HAVE_SIGNALS 1
#endif
#if defined(_WIN32) || defined(BF_HAVE_SIGNALS)
#define BF_HAVE_FAULT_HANDLER 1 /* else no speculation: every stretch careful */
#endif

/* What the generated code sees of the host. */
typedef struct bf_ctx {
    void (*put)(struct bf_ctx *c, int byte);
    void (*flush)(struct bf_ctx *c);
    int (*get)(struct bf_ctx *c);
    uint32_t outlen;
    const bf_io *io;
    unsigned char out[BF_OUTBUF];
    unsigned char careful[]; /* per speculative stretch: 1 once it faulted */
} bf_ctx;

struct bf_jit {
    jk_heap *heap;
    void *exec;
    size_t size;
    uintptr_t fault_exit;
    uintptr_t *spec; /* start, end exec address of each speculative stretch */
    size_t nspec;
};

/* -- Host functions (called from the generated code) ---------------------- */

static void host_flush(bf_ctx *c)
{
    if (c->outlen)
        c->io->write(c->io->user, c->out, c->outlen);
    c->outlen = 0;
}

static void host_put(bf_ctx *c, int byte)
{
    c->out[c->outlen++] = (unsigned char)byte;
    if (c->outlen == BF_OUTBUF)
        host_flush(c);
}

static int host_get(bf_ctx *c)
{
    host_flush(c); /* a prompt is visible before the program waits */
    int ch = c->io->read(c->io->user);
    return ch < 0 ? 0 : ch;
}

/* -- Code generation state --------------------------------------------------- */

/* A pending cell update of the current region: add val, or store it. */
typedef struct pend {
    long off;
    int set;
    int val;
} pend;

typedef struct cg {
    jk_x86_asm *a;
    const bf_program *prog;
    bf_stats *st;
    int m64;
    jk_x86_op P, C; /* pointer and context registers (pointer-sized) */
    jk_x86_frame frame;
    jk_sig put_sig, get_sig, flush_sig;
    jk_label exit, fault;
    char *msg;
    size_t msgsz;
    int failed;
    /* OPT region state: offsets relative to the pointer register. */
    pend *pend;
    size_t npend, cappend;
    long cur;  /* where the program's pointer is */
    long last; /* the last cell accessed, in source order */
    /* kz_valid: the cell at offset kz is known to be 0 (a loop just ended
     * on it) and has no pending update. */
    int kz_valid;
    long kz;
    /* Start and end labels of the speculative stretches (move/multiply
     * loops), in code order. */
    jk_label *spec;
    size_t nspec, capspec;
} cg;

static jk_x86_op cell(const cg *g, long off)
{
    return jk_byte(g->P, off);
}

/* -- ABI: prologue, epilogue, host calls -------------------------------------
 * All the calling-convention knowledge is jitkit's frame builder
 * (jitkit/func.h): the function is int run(bf_ctx *, unsigned char *) in
 * the host's C convention, keeping the pointer and the context in
 * callee-saved registers; the frame is fixed with room for the host calls'
 * arguments (Win64: the shadow space), 16-byte aligned, so host calls need
 * no stack adjustment and the fault exit can return through the normal
 * epilogue from anywhere in the body. */

static void emit_prologue(cg *g)
{
    jk_frame_desc d;
    memset(&d, 0, sizeof d);
    jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_I32);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    jk_sig_add(&d.sig, JK_TYPE_PTR);
    d.saved = g->m64 ? (1u << 3 | 1u << 12) : (1u << 3 | 1u << 6); /* rbx r12 / ebx esi */
    jk_sig_init(&g->put_sig, JK_ABI_HOST, JK_TYPE_VOID);  /* void put(bf_ctx *, int) */
    jk_sig_add(&g->put_sig, JK_TYPE_PTR);
    jk_sig_add(&g->put_sig, JK_TYPE_I32);
    jk_sig_init(&g->get_sig, JK_ABI_HOST, JK_TYPE_I32);   /* int get(bf_ctx *) */
    jk_sig_add(&g->get_sig, JK_TYPE_PTR);
    jk_sig_init(&g->flush_sig, JK_ABI_HOST, JK_TYPE_VOID); /* void flush(bf_ctx *) */
    jk_sig_add(&g->flush_sig, JK_TYPE_PTR);
    unsigned bits = g->m64 ? 64 : 32;
    jk_frame_reserve_call(&d, bits, &g->put_sig, NULL);
    jk_x86_prologue(g->a, &g->frame, &d);
    jk_x86_op ctx, cells;
    jk_x86_frame_param(&g->frame, 0, &ctx);
    jk_x86_frame_param(&g->frame, 1, &cells);
    jk_x86_mov(g->a, g->C, ctx);
    jk_x86_mov(g->a, g->P, cells);
}

static void emit_epilogue(cg *g)
{
    jk_x86_epilogue(g->a, &g->frame);
}

/* Call the host function at `slot` in the context with the context as first
 * argument and, if with_arg, eax as second. The target is the function
 * pointer in the context ([r12 + slot]), so the code reaches the host
 * wherever the heap puts it. Clobbers the caller-saved registers. */
static void emit_host_call(cg *g, size_t slot, int with_arg)
{
    const jk_sig *sig = with_arg ? &g->put_sig
                        : slot == offsetof(bf_ctx, get) ? &g->get_sig : &g->flush_sig;
    jk_x86_op args[2] = {g->C, JK_EAX};
    jk_x86_op target = jk_x86_mem(g->m64 ? 8 : 4, g->C, JK_NOREG, 1, (int64_t)slot);
    jk_x86_call_abi(g->a, &g->frame, sig, target, with_arg ? 2 : 1, args);
}

/* A pointer move by n cells (flags untouched). */
static void emit_move(cg *g, long n)
{
    if (n != 0)
        jk_x86_lea(g->a, g->P, jk_x86_mem(0, g->P, JK_NOREG, 1, n));
}

static void fail_at(cg *g, size_t i, const char *what)
{
    if (!g->failed)
        snprintf(g->msg, g->msgsz, "%s at line %u, column %u", what, (unsigned)g->prog->line[i],
                 (unsigned)g->prog->col[i]);
    g->failed = 1;
}

static const char reach_msg[] =
    "the pointer moves more than 32768 cells between two cell accesses (the guard pages "
    "cannot cover that)";

/* -- NAIVE ----------------------------------------------------------------------- */

static void compile_naive(cg *g, jk_label *open_lbl, jk_label *close_lbl)
{
    jk_x86_asm *a = g->a;
    const bf_program *p = g->prog;
    long run = 0; /* net pointer move since the last access */

    for (size_t i = 0; i < p->n && !g->failed; i++) {
        char c = p->cmd[i];
        if (c == '<' || c == '>') {
            run += c == '>' ? 1 : -1;
        } else {
            if (run > BF_MAX_REACH || run < -BF_MAX_REACH)
                fail_at(g, i, reach_msg);
            run = 0;
        }
        switch (c) {
        case '+': jk_x86_add(a, cell(g, 0), jk_imm(1)); break;
        case '-': jk_x86_sub(a, cell(g, 0), jk_imm(1)); break;
        case '>': jk_x86_add(a, g->P, jk_imm(1)); break;
        case '<': jk_x86_sub(a, g->P, jk_imm(1)); break;
        case '.':
            jk_x86_movzx(a, JK_EAX, cell(g, 0));
            emit_host_call(g, offsetof(bf_ctx, put), 1);
            break;
        case ',':
            emit_host_call(g, offsetof(bf_ctx, get), 0);
            jk_x86_mov(a, cell(g, 0), JK_AL);
            break;
        case '[':
            open_lbl[i] = jk_x86_label(a, NULL);
            close_lbl[i] = jk_x86_label(a, NULL);
            jk_x86_cmp(a, cell(g, 0), jk_imm(0));
            jk_x86_je(a, jk_lbl(close_lbl[i]));
            jk_x86_bind(a, open_lbl[i]);
            break;
        case ']':
            jk_x86_cmp(a, cell(g, 0), jk_imm(0));
            jk_x86_jne(a, jk_lbl(open_lbl[p->match[i]]));
            jk_x86_bind(a, close_lbl[p->match[i]]);
            break;
        default: break;
        }
    }
}

/* -- OPT: regions ------------------------------------------------------------------- */

static pend *pend_find(cg *g, long off)
{
    for (size_t k = g->npend; k-- > 0;)
        if (g->pend[k].off == off)
            return &g->pend[k];
    return NULL;
}

static int flush(cg *g, const long *zf_off);

/* Pending updates kept at most; more are emitted early, so that finding a
 * cell's entry stays cheap in huge straight-line stretches. */
#define MAX_PEND 256

static void pend_put(cg *g, long off, int set, int val)
{
    pend *q = pend_find(g, off);
    if (g->kz_valid && off == g->kz) {
        /* An add to a cell known to be 0 is a store (no load). */
        set = 1;
        g->kz_valid = 0;
    }
    if (q) {
        if (set) {
            q->set = 1;
            q->val = val;
        } else {
            q->val += val;
        }
        q->val &= 255;
        return;
    }
    if (g->npend == MAX_PEND)
        flush(g, NULL);
    if (g->npend == g->cappend) {
        size_t cap = g->cappend ? 2 * g->cappend : 64;
        pend *np = realloc(g->pend, cap * sizeof *np);
        if (!np) {
            snprintf(g->msg, g->msgsz, "out of memory");
            g->failed = 1;
            return;
        }
        g->pend = np;
        g->cappend = cap;
    }
    g->pend[g->npend].off = off;
    g->pend[g->npend].set = set;
    g->pend[g->npend].val = val & 255;
    g->npend++;
}

static void emit_pend(cg *g, const pend *q)
{
    int8_t v = (int8_t)(uint8_t)q->val;
    if (q->set)
        jk_x86_mov(g->a, cell(g, q->off), jk_imm(v));
    else if (v == 0) /* a net-zero update still touches the cell */
        jk_x86_cmp(g->a, cell(g, q->off), jk_imm(0));
    else
        jk_x86_add(g->a, cell(g, q->off), jk_imm(v));
}

/* Emit the pending updates. When zf_off names a cell with a pending add, that
 * add goes last and 1 is returned: the zero flag then tells whether the cell
 * is 0, and the loop test can use it. */
static int flush(cg *g, const long *zf_off)
{
    pend *z = zf_off ? pend_find(g, *zf_off) : NULL;
    if (z && z->set)
        z = NULL;
    for (size_t k = 0; k < g->npend; k++)
        if (&g->pend[k] != z)
            emit_pend(g, &g->pend[k]);
    if (z)
        emit_pend(g, z);
    g->npend = 0;
    return z != NULL;
}

/* Record an access to cell cur+0 ... at offset o in source order (command i)
 * and return its offset, rebasing the region first when o is farther from
 * the pointer register than the guards cover. */
static long access_at(cg *g, long o, size_t i)
{
    if (o - g->last > BF_MAX_REACH || g->last - o > BF_MAX_REACH) {
        fail_at(g, i, reach_msg);
        return o;
    }
    if (o > BF_MAX_REACH || o < -BF_MAX_REACH) {
        /* The last accessed cell becomes the new base: it was checked by
         * then (it faulted if outside the tape). */
        long b = g->last;
        flush(g, NULL);
        emit_move(g, b);
        g->cur -= b;
        g->kz -= b;
        o -= b;
        g->last = 0;
    }
    g->last = o;
    return o;
}

/* Make the region's pointer offset real (at a loop bracket). */
static void commit_pointer(cg *g)
{
    emit_move(g, g->cur);
    g->cur = 0;
    g->last = 0;
    g->kz_valid = 0;
}

/* Whether the cell at offset o is known to be 0 (after access_at). */
static int known_zero(const cg *g, long o)
{
    return g->kz_valid && g->kz == o;
}

static void emit_out(cg *g, long off)
{
    jk_x86_asm *a = g->a;
    jk_label done = jk_x86_label(a, NULL);
    jk_x86_op cnt = jk_dword(g->C, (int64_t)offsetof(bf_ctx, outlen));
    jk_x86_op slot = jk_x86_mem(1, g->C, g->m64 ? JK_RCX : JK_ECX, 1,
                                (int64_t)offsetof(bf_ctx, out));
    jk_x86_mov(a, JK_ECX, cnt);
    jk_x86_movzx(a, JK_EAX, cell(g, off));
    jk_x86_mov(a, slot, JK_AL);
    jk_x86_add(a, JK_ECX, jk_imm(1));
    jk_x86_mov(a, cnt, JK_ECX);
    jk_x86_cmp(a, JK_ECX, jk_imm(BF_OUTBUF));
    jk_x86_jne(a, jk_lbl(done));
    emit_host_call(g, offsetof(bf_ctx, flush), 0);
    jk_x86_bind(a, done);
}

/* The shape of a loop body made of + - < > only. */
typedef struct body {
    long net;     /* net pointer move */
    int adds;     /* any + or - */
    size_t ncell; /* distinct cells touched, in first-touch order */
    long off[64];
    int delta[64];
    long reach;   /* largest |offset| */
} body;

/* Fill b for the loop at command i; 0 if the body is not that simple or
 * touches too many cells, or if the accesses would step farther than the
 * guards cover (then the general path reports it). */
static int simple_body(const cg *g, size_t i, body *b)
{
    const bf_program *p = g->prog;
    size_t end = p->match[i];
    long off = 0, last = 0;
    memset(b, 0, sizeof *b);
    for (size_t k = i + 1; k < end; k++) {
        char c = p->cmd[k];
        if (c == '>' || c == '<') {
            off += c == '>' ? 1 : -1;
            continue;
        }
        if (c != '+' && c != '-')
            return 0;
        if (off - last > BF_MAX_REACH || last - off > BF_MAX_REACH)
            return 0;
        last = off;
        size_t j = 0;
        while (j < b->ncell && b->off[j] != off)
            j++;
        if (j == b->ncell) {
            if (b->ncell == 64)
                return 0;
            b->off[b->ncell] = off;
            b->delta[b->ncell++] = 0;
        }
        b->delta[j] += c == '+' ? 1 : -1;
        b->adds = 1;
        if (off > b->reach || -off > b->reach)
            b->reach = off < 0 ? -off : off;
    }
    b->net = off;
    if (off - last > BF_MAX_REACH || last - off > BF_MAX_REACH)
        return 0;
    return 1;
}

/* Emit the pending updates of the cells a move/multiply loop at base reads
 * or writes; the others stay pending. */
static void flush_body(cg *g, long base, const body *b)
{
    size_t keep = 0;
    for (size_t k = 0; k < g->npend; k++) {
        pend q = g->pend[k];
        int hit = 0;
        for (size_t c = 0; c < b->ncell && !hit; c++)
            hit = q.off == base + b->off[c];
        if (hit)
            emit_pend(g, &q);
        else
            g->pend[keep++] = q;
    }
    g->npend = keep;
}

/* A clear or move/multiply loop at the region offset cur: b->net == 0 and
 * the loop cell changes by +1 or -1 per iteration. */
static int try_mul(cg *g, size_t i, const body *b)
{
    jk_x86_asm *a = g->a;
    int d0 = 0;
    size_t nt = 0;
    if (b->net != 0 || !b->adds)
        return 0;
    for (size_t k = 0; k < b->ncell; k++) {
        if (b->off[k] == 0)
            d0 = b->delta[k] & 255;
        else
            nt++;
    }
    if (d0 != 1 && d0 != 255)
        return 0;
    long base = access_at(g, g->cur, i);
    if (known_zero(g, base)) /* the loop never runs */
        return 1;
    if (nt == 0) { /* [-] or [+]: the cell becomes 0 */
        pend_put(g, base, 1, 0);
        g->st->clears++;
        return 1;
    }
    if (base + b->reach > BF_MAX_REACH || base - b->reach < -BF_MAX_REACH) {
        flush(g, NULL);
        commit_pointer(g);
        base = 0;
    }
    /* The body runs cell times (or 256 - cell times when it counts up):
     * every other cell gains count * its delta. The stretch from `spec` to
     * `done` runs speculatively: with a count of 0 it adds 0, although the
     * loop would not have touched those cells, as a test would have skipped
     * it - but that test is a data-dependent branch that mispredicts often
     * (mandelbrot.b: 0.60 s with it, 0.46 s without). Near a tape edge the adds of 0
     * can touch a guard: the handler sees al == 0 in the stretch, resumes at
     * `done` and marks the stretch careful, which turns the test back on
     * for it (a well predicted compare of its flag in the context). A fault
     * with a count other than 0 is the program's, as in the loop. */
    if (g->nspec == g->capspec) {
        size_t cap = g->capspec ? 2 * g->capspec : 64;
        jk_label *nl = realloc(g->spec, 2 * cap * sizeof *nl);
        if (!nl) {
            snprintf(g->msg, g->msgsz, "out of memory");
            g->failed = 1;
            return 1;
        }
        g->spec = nl;
        g->capspec = cap;
    }
    jk_label spec = jk_x86_label(a, NULL), done = jk_x86_label(a, NULL);
    g->spec[2 * g->nspec] = spec;
    g->spec[2 * g->nspec + 1] = done;
    g->nspec++;
    flush_body(g, base, b);
    jk_x86_movzx(a, JK_EAX, cell(g, base));
    if (d0 == 1)
        jk_x86_neg(a, JK_EAX);
#if defined(BF_HAVE_FAULT_HANDLER)
    jk_x86_cmp(a, jk_byte(g->C, (int64_t)(offsetof(bf_ctx, careful) + g->nspec - 1)), jk_imm(0));
    jk_x86_je(a, jk_lbl(spec));
#endif
    jk_x86_test(a, JK_EAX, JK_EAX);
    jk_x86_jz(a, jk_lbl(done));
    jk_x86_bind(a, spec);
    for (size_t k = 0; k < b->ncell; k++) {
        long off = base + b->off[k];
        int8_t f = (int8_t)(uint8_t)(b->delta[k] & 255);
        jk_x86_op m = cell(g, off);
        if (b->off[k] == 0)
            continue;
        if (f == 0)
            jk_x86_cmp(a, m, jk_imm(0));
        else if (f == 1)
            jk_x86_add(a, m, JK_AL);
        else if (f == -1)
            jk_x86_sub(a, m, JK_AL);
        else {
            jk_x86_imul3(a, JK_EDX, JK_EAX, jk_imm(f));
            jk_x86_add(a, m, JK_DL);
        }
    }
    jk_x86_bind(a, done);
    for (size_t k = 0; k < b->ncell; k++)
        if (known_zero(g, base + b->off[k]))
            g->kz_valid = 0;
    /* The loop cell ends at 0: a pending store, which a following `+`
     * merges with. */
    pend_put(g, base, 1, 0);
    g->last = base;
    g->st->muls++;
    return 1;
}

/* [>] [<<] ...: move by b->net until a zero cell. */
static void emit_scan(cg *g, size_t i, long step)
{
    jk_x86_asm *a = g->a;
    jk_label top = jk_x86_label(a, NULL), done = jk_x86_label(a, NULL);
    long here = access_at(g, g->cur, i); /* == cur, after a possible rebase */
    if (known_zero(g, here))
        return;
    int zf = flush(g, &here);
    commit_pointer(g);
    if (!zf)
        jk_x86_cmp(a, cell(g, 0), jk_imm(0));
    jk_x86_je(a, jk_lbl(done));
    jk_x86_bind(a, top);
    emit_move(g, step);
    jk_x86_cmp(a, cell(g, 0), jk_imm(0));
    jk_x86_jne(a, jk_lbl(top));
    jk_x86_bind(a, done);
    g->kz_valid = 1;
    g->kz = 0;
    g->st->scans++;
}

/* The loop test at a bracket: the region ends, the pointer becomes real. */
static int loop_test(cg *g, size_t i)
{
    long here = access_at(g, g->cur, i);
    int zf = flush(g, &here);
    commit_pointer(g);
    if (!zf)
        jk_x86_cmp(g->a, cell(g, 0), jk_imm(0));
    return zf;
}

static void compile_opt(cg *g, jk_label *open_lbl, jk_label *close_lbl)
{
    jk_x86_asm *a = g->a;
    const bf_program *p = g->prog;
    size_t i = 0;

    g->cur = 0;
    g->last = 0;
    while (i < p->n && !g->failed) {
        char c = p->cmd[i];
        switch (c) {
        case '+':
        case '-': {
            int v = 0;
            size_t first = i;
            while (i < p->n && (p->cmd[i] == '+' || p->cmd[i] == '-'))
                v += p->cmd[i++] == '+' ? 1 : -1;
            pend_put(g, access_at(g, g->cur, first), 0, v);
            continue;
        }
        case '>':
        case '<':
            while (i < p->n && (p->cmd[i] == '>' || p->cmd[i] == '<'))
                g->cur += p->cmd[i++] == '>' ? 1 : -1;
            if (g->cur > (1L << 30) || g->cur < -(1L << 30)) /* only moves: never reached */
                fail_at(g, i - 1, reach_msg);
            continue;
        case '.': {
            long o = access_at(g, g->cur, i);
            flush(g, NULL);
            emit_out(g, o);
            break;
        }
        case ',': {
            long o = access_at(g, g->cur, i);
            flush(g, NULL);
            emit_host_call(g, offsetof(bf_ctx, get), 0);
            jk_x86_mov(a, cell(g, o), JK_AL);
            if (known_zero(g, o))
                g->kz_valid = 0;
            break;
        }
        case '[': {
            body b;
            if (simple_body(g, i, &b)) {
                if (try_mul(g, i, &b)) {
                    i = p->match[i] + 1;
                    continue;
                }
                if (!b.adds && b.net != 0) {
                    emit_scan(g, i, b.net);
                    i = p->match[i] + 1;
                    continue;
                }
            }
            if (known_zero(g, access_at(g, g->cur, i)) && !pend_find(g, g->cur)) {
                i = p->match[i] + 1; /* never entered */
                continue;
            }
            open_lbl[i] = jk_x86_label(a, NULL);
            close_lbl[i] = jk_x86_label(a, NULL);
            loop_test(g, i);
            jk_x86_je(a, jk_lbl(close_lbl[i]));
            jk_x86_bind(a, open_lbl[i]);
            g->st->loops++;
            break;
        }
        case ']':
            loop_test(g, i);
            jk_x86_jne(a, jk_lbl(open_lbl[p->match[i]]));
            jk_x86_bind(a, close_lbl[p->match[i]]);
            g->kz_valid = 1;
            g->kz = 0;
            break;
        default:
            break;
        }
        i++;
    }
    flush(g, NULL); /* the last updates still touch their cells */
}

/* -- Compile and install ---------------------------------------------------------- */

int bf_jit_compile(const bf_program *p, bf_jit_kind kind, jk_heap *h, bf_jit **out,
                   bf_stats *stats, char *msg, size_t msgsz)
{
    double t0 = bf_now();
    bf_stats dummy;
    cg g;
    jk_error err;
    jk_label *lbl;
    bf_jit *j;
    size_t size = 0, fault_off = 0;

    *out = NULL;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    stats->commands = p->n;
    memset(&g, 0, sizeof g);
    g.prog = p;
    g.st = stats;
    g.msg = msg;
    g.msgsz = msgsz;
    g.m64 = sizeof(void *) == 8;
    g.P = g.m64 ? JK_RBX : JK_EBX;
    g.C = g.m64 ? JK_R12 : JK_ESI;
    if (kind < 0 || kind >= BF_JIT_KIND_COUNT) {
        snprintf(msg, msgsz, "unknown JIT kind %d", (int)kind);
        return -1;
    }
    lbl = calloc(2 * (p->n + 1), sizeof *lbl);
    j = calloc(1, sizeof *j);
    if (!lbl || !j || jk_x86_new(&g.a, g.m64 ? JK_X86_MODE64 : JK_X86_MODE32, &err) != JK_OK) {
        snprintf(msg, msgsz, "%s", lbl && j ? err.message : "out of memory");
        free(lbl);
        free(j);
        return -1;
    }
    g.exit = jk_x86_label(g.a, "exit");
    g.fault = jk_x86_label(g.a, "fault");

    emit_prologue(&g);
    if (kind == BF_JIT_NAIVE)
        compile_naive(&g, lbl, lbl + p->n + 1);
    else
        compile_opt(&g, lbl, lbl + p->n + 1);
    jk_x86_xor(g.a, JK_EAX, JK_EAX);
    jk_x86_bind(g.a, g.exit);
    emit_epilogue(&g);
    /* Where the fault handler resumes a program that touched a guard. */
    jk_x86_bind(g.a, g.fault);
    jk_x86_mov(g.a, JK_EAX, jk_imm(1));
    jk_x86_jmp(g.a, jk_lbl(g.exit));
    free(lbl);
    free(g.pend);

    if (g.failed)
        goto fail;
    if (jk_x86_finish(g.a, &size) != JK_OK ||
        jk_x86_label_offset(g.a, g.fault, &fault_off) != JK_OK) {
        snprintf(msg, msgsz, "assembler: %s", jk_x86_error(g.a)->message);
        goto fail;
    }
    {
        jk_heap_window *w;
        jk_heap_slot slot;
        if (jk_heap_window_begin(h, &w, &err) != JK_OK) {
            snprintf(msg, msgsz, "code heap: %s", err.message);
            goto fail;
        }
        if (jk_heap_alloc(w, size, 0, &slot, &err) != JK_OK) {
            jk_heap_window_commit(w, NULL);
            snprintf(msg, msgsz, "code heap: %s", err.message);
            goto fail;
        }
        jk_status cs = jk_x86_copy(g.a, slot.write, slot.size, (uint64_t)(uintptr_t)slot.exec);
        jk_status ws = jk_heap_window_commit(w, &err);
        if (cs != JK_OK || ws != JK_OK) {
            snprintf(msg, msgsz, "%s",
                     cs != JK_OK ? jk_x86_error(g.a)->message : err.message);
            jk_heap_free(h, slot.exec, NULL);
            goto fail;
        }
        j->heap = h;
        j->exec = slot.exec;
        j->size = size;
        j->fault_exit = (uintptr_t)slot.exec + fault_off;
        j->spec = malloc((2 * g.nspec + 1) * sizeof *j->spec);
        if (!j->spec) {
            jk_heap_free(h, slot.exec, NULL);
            snprintf(msg, msgsz, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < 2 * g.nspec; k++) {
            size_t off = 0;
            jk_x86_label_offset(g.a, g.spec[k], &off);
            j->spec[k] = (uintptr_t)slot.exec + off;
        }
        j->nspec = g.nspec;
    }
    free(g.spec);
    jk_x86_free(g.a);
    stats->code_bytes = size;
    stats->compile_s = bf_now() - t0;
    *out = j;
    return 0;
fail:
    jk_x86_free(g.a);
    free(g.spec);
    free(j);
    return -1;
}

void bf_jit_free(bf_jit *j)
{
    if (!j)
        return;
    jk_heap_free(j->heap, j->exec, NULL);
    free(j->spec);
    free(j);
}

/* -- Running, and the fault handler ----------------------------------------------- */

static struct {
    volatile int active;
    volatile int faulted;
    uintptr_t code_lo, code_hi, fault_exit;
    uintptr_t tape_lo, tape_hi; /* the cells */
    const uintptr_t *spec;
    size_t nspec;
    unsigned char *careful;
} run_state;

/* Where to resume after a fault at pc touching addr, with al as given; 0 if
 * the fault is not ours (not from the generated code, or not in a guard).
 * A fault in a speculative stretch with a zero count is skipped; any other
 * is the program's and goes to the fault exit. */
static uintptr_t resume_at(uintptr_t pc, uintptr_t addr, unsigned al)
{
    if (!run_state.active || pc < run_state.code_lo || pc >= run_state.code_hi)
        return 0;
    if (!((addr >= run_state.tape_lo - BF_GUARD_BYTES && addr < run_state.tape_lo) ||
          (addr >= run_state.tape_hi && addr < run_state.tape_hi + BF_GUARD_BYTES)))
        return 0;
    size_t lo = 0, hi = run_state.nspec; /* last stretch starting at or before pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (run_state.spec[2 * mid] <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && pc < run_state.spec[2 * (lo - 1) + 1] && (al & 0xffu) == 0) {
        run_state.careful[lo - 1] = 1;
        return run_state.spec[2 * (lo - 1) + 1]; }
    run_state.faulted = 1;
    return run_state.fault_exit;
}

#if defined(_WIN32)
static LONG CALLBACK on_fault(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *r = ep->ExceptionRecord;
    if (r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || r->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
#if defined(_WIN64)
    uintptr_t to = resume_at((uintptr_t)ep->ContextRecord->Rip,
                             (uintptr_t)r->ExceptionInformation[1],
                             (unsigned)ep->ContextRecord->Rax);
    if (to)
        ep->ContextRecord->Rip = (DWORD64)to;
#else
    uintptr_t to = resume_at((uintptr_t)ep->ContextRecord->Eip,
                             (uintptr_t)r->ExceptionInformation[1],
                             (unsigned)ep->ContextRecord->Eax);
    if (to)
        ep->ContextRecord->Eip = (DWORD)to;
#endif
    return to ? EXCEPTION_CONTINUE_EXECUTION : EXCEPTION_CONTINUE_SEARCH;
}
#elif defined(BF_HAVE_SIGNALS)
static struct sigaction old_segv;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
#if defined(__x86_64__)
    greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];
    unsigned al = (unsigned)uc->uc_mcontext.gregs[REG_RAX];
#else
    greg_t *ip = &uc->uc_mcontext.gregs[REG_EIP];
    unsigned al = (unsigned)uc->uc_mcontext.gregs[REG_EAX];
#endif
    uintptr_t to = resume_at((uintptr_t)*ip, (uintptr_t)si->si_addr, al);
    (void)sig;
    if (to) {
        *ip = (greg_t)to;
        return;
    }
    /* Not ours: put the previous handler back; the access faults again. */
    sigaction(SIGSEGV, &old_segv, NULL);
}
#endif

bf_outcome bf_jit_run(bf_jit *j, bf_tape *t, const bf_io *io, char *msg, size_t msgsz)
{
    bf_ctx *ctx = calloc(1, sizeof *ctx + j->nspec);
    int (*fn)(bf_ctx *, unsigned char *);
    int rc;

    if (!ctx) {
        snprintf(msg, msgsz, "out of memory");
        return BF_FAILED;
    }
    ctx->put = host_put;
    ctx->flush = host_flush;
    ctx->get = host_get;
    ctx->io = io;
    run_state.code_lo = (uintptr_t)j->exec;
    run_state.code_hi = (uintptr_t)j->exec + j->size;
    run_state.fault_exit = j->fault_exit;
    run_state.spec = j->spec;
    run_state.nspec = j->nspec;
    run_state.careful = ctx->careful;
    run_state.tape_lo = (uintptr_t)t->cells;
    run_state.tape_hi = (uintptr_t)t->cells + BF_TAPE_CELLS;
    run_state.faulted = 0;
#if defined(_WIN32)
    void *veh = AddVectoredExceptionHandler(1, on_fault);
    if (!veh) {
        snprintf(msg, msgsz, "AddVectoredExceptionHandler failed (error %lu)",
                 (unsigned long)GetLastError());
        free(ctx);
        return BF_FAILED;
    }
#elif defined(BF_HAVE_SIGNALS)
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) != 0) {
        snprintf(msg, msgsz, "sigaction(SIGSEGV) failed");
        free(ctx);
        return BF_FAILED;
    }
#endif
    run_state.active = 1;
    memcpy(&fn, &j->exec, sizeof fn);
    rc = fn(ctx, t->cells);
    run_state.active = 0;
#if defined(_WIN32)
    RemoveVectoredExceptionHandler(veh);
#elif defined(BF_HAVE_SIGNALS)
    sigaction(SIGSEGV, &old_segv, NULL);
#endif
    host_flush(ctx);
    free(ctx);
    (void)msg;
    return rc == 0 ? BF_DONE : BF_FAULT;
}
