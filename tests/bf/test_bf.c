/*
 * test_bf.c - the Brainfuck example's three modes against expected text and
 * against each other.
 *
 *   programs   the .b files of this folder (hello world, wrap-around, nested
 *              loops, echo of an input file, tape-edge faults, zero-count
 *              move loops at both edges): each mode must print exactly the
 *              .out file and end as expected (done or fault)
 *   random     a few hundred random programs (fixed seed) with loops of the
 *              shapes the optimizer recognises and general ones, run by a
 *              plain step-limited interpreter written here (the oracle);
 *              those that finish within the limit must give the oracle's
 *              output and outcome in all three modes
 *   errors     unmatched brackets name their position; a pointer jump the
 *              guard pages cannot cover is refused by both JITs, naming it
 *
 * argv[1]: the folder holding the programs; argv[2]: run only this test.
 */
#include "jt.h"

#include "bf.h"

static const char *dir = ".";
static jk_heap *heap;
static bf_tape tape;

typedef struct buf {
    unsigned char *data;
    size_t n, cap;
    const unsigned char *in;
    size_t nin, pos;
} buf;

static void buf_write(void *user, const unsigned char *data, size_t n)
{
    buf *b = user;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2 + 64;
        unsigned char *nd = realloc(b->data, cap);
        if (!nd)
            return;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, n);
    b->n += n;
}

static int buf_read(void *user)
{
    buf *b = user;
    return b->pos < b->nin ? b->in[b->pos++] : -1;
}

static char *slurp(const char *name, const char *ext, size_t *len)
{
    char path[1024];
    FILE *f;
    char *data = NULL;
    long n;
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)n + 1);
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        if (data) {
            data[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(f);
    return data;
}

/* Run p in mode (-1 interpreter, else a bf_jit_kind) on in[0..nin). */
static bf_outcome run_mode(const bf_program *p, int mode, const void *in, size_t nin, buf *out,
                           char *msg, size_t msgsz)
{
    bf_io io = {buf_write, buf_read, out};
    bf_jit *j;
    bf_outcome r;
    memset(out, 0, sizeof *out);
    out->in = in;
    out->nin = nin;
    bf_tape_clear(&tape);
    if (mode < 0)
        return bf_interp(p, &tape, &io);
    if (bf_jit_compile(p, (bf_jit_kind)mode, heap, &j, NULL, msg, msgsz) != 0)
        return BF_FAILED;
    r = bf_jit_run(j, &tape, &io, msg, msgsz);
    bf_jit_free(j);
    return r;
}

static const char *mode_name(int mode)
{
    return mode < 0 ? "interp" : mode == BF_JIT_NAIVE ? "naive" : "opt";
}

static void check_program(const char *name, bf_outcome want)
{
    size_t len = 0, nexp = 0, nin = 0;
    char *src = slurp(name, ".b", &len);
    char *exp = slurp(name, ".out", &nexp);
    char *in = slurp(name, ".in", &nin);
    char msg[256] = "";
    bf_program p;
    JT_CHECK_MSG(src && exp, "cannot read %s/%s.b or .out", dir, name);
    JT_CHECK_MSG(bf_load(&p, src, len, msg, sizeof msg) == 0, "%s: %s", name, msg);
    for (int mode = -1; mode < BF_JIT_KIND_COUNT; mode++) {
        buf out;
        bf_outcome r = run_mode(&p, mode, in, in ? nin : 0, &out, msg, sizeof msg);
        int same = out.n == nexp && (nexp == 0 || memcmp(out.data, exp, nexp) == 0);
        free(out.data);
        JT_CHECK_MSG(r == want, "%s --%s: outcome %d, expected %d (%s)", name, mode_name(mode),
                     (int)r, (int)want, msg);
        JT_CHECK_MSG(same, "%s --%s: %zu bytes of output differ from %s.out (%zu bytes)", name,
                     mode_name(mode), out.n, name, nexp);
    }
    bf_program_free(&p);
    free(src);
    free(exp);
    free(in);
}

static void test_hello(void) { check_program("hello", BF_DONE); }
static void test_wrap(void) { check_program("wrap", BF_DONE); }
static void test_nested(void) { check_program("nested", BF_DONE); }
static void test_echo(void) { check_program("echo", BF_DONE); }
static void test_edge_left(void) { check_program("edge_left", BF_FAULT); }
static void test_edge_right(void) { check_program("edge_right", BF_FAULT); }
static void test_edge_mul(void) { check_program("edge_mul", BF_FAULT); }
static void test_edge_skip(void) { check_program("edge_skip", BF_DONE); }

/* -- The oracle: one command at a time, with a step limit ----------------- */

static int oracle(const char *code, const unsigned char *in, size_t nin, buf *out,
                  long max_steps)
{
    static unsigned char t[BF_TAPE_CELLS];
    long ptr = 0, steps = 0;
    size_t n = strlen(code), pos = 0;
    memset(t, 0, sizeof t);
    memset(out, 0, sizeof *out);
    for (size_t pc = 0; pc < n; pc++) {
        char c = code[pc];
        if (++steps > max_steps)
            return -1;
        if (c != '<' && c != '>' && (ptr < 0 || ptr >= (long)BF_TAPE_CELLS))
            return BF_FAULT;
        switch (c) {
        case '+': t[ptr]++; break;
        case '-': t[ptr]--; break;
        case '>': ptr++; break;
        case '<': ptr--; break;
        case '.': buf_write(out, &t[ptr], 1); break;
        case ',': t[ptr] = pos < nin ? in[pos++] : 0; break;
        case '[':
            if (t[ptr] == 0)
                for (int d = 1; d; )
                    d += code[++pc] == '[' ? 1 : code[pc] == ']' ? -1 : 0;
            break;
        case ']':
            if (t[ptr] != 0)
                for (int d = 1; d; )
                    d += code[--pc] == ']' ? 1 : code[pc] == '[' ? -1 : 0;
            break;
        default: break;
        }
    }
    return BF_DONE;
}

static uint32_t rng = 12345u;
static unsigned rnd(unsigned n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) % n;
}

static void gen(char *s, size_t *n, size_t cap, int depth)
{
    unsigned len = 2 + rnd(12);
    for (unsigned k = 0; k < len && *n + 40 < cap; k++) {
        static const char *shapes[] = {"[-]", "[->+<]", "[-<<+>>]", "[->++>---<<]", "[+>-<]",
                                       "[>]", "[<]", "[>>]", "[-<+>>+<]", "[->>+<<]"};
        unsigned r = rnd(20);
        const char *piece = NULL;
        char one[2] = {0, 0};
        if (r < 4)
            one[0] = '+';
        else if (r < 6)
            one[0] = '-';
        else if (r < 9)
            one[0] = '>';
        else if (r < 11)
            one[0] = '<';
        else if (r < 13)
            one[0] = '.';
        else if (r < 14)
            one[0] = ',';
        else if (r < 17)
            piece = shapes[rnd(sizeof shapes / sizeof shapes[0])];
        else if (depth < 3) {
            s[(*n)++] = '[';
            gen(s, n, cap, depth + 1);
            s[(*n)++] = rnd(2) ? '-' : '+';
            s[(*n)++] = ']';
            continue;
        } else
            one[0] = '+';
        if (!piece)
            piece = one;
        size_t m = strlen(piece);
        memcpy(s + *n, piece, m);
        *n += m;
    }
}

static void test_random(void)
{
    static const unsigned char input[] = "random input \x01\x80\xff";
    int compared = 0, faults = 0;
    for (int iter = 0; iter < 600; iter++) {
        char code[2048], msg[256] = "";
        size_t n = 0;
        buf want;
        bf_program p;
        /* Start a few cells in, so that some programs fault and some not. */
        for (unsigned k = rnd(4); k > 0; k--)
            code[n++] = '>';
        gen(code, &n, sizeof code - 8, 0);
        code[n] = '\0';
        int r = oracle(code, input, sizeof input - 1, &want, 200000);
        if (r < 0) {
            free(want.data);
            continue;
        }
        JT_CHECK_MSG(bf_load(&p, code, n, msg, sizeof msg) == 0, "%s", msg);
        for (int mode = -1; mode < BF_JIT_KIND_COUNT; mode++) {
            buf got;
            bf_outcome o = run_mode(&p, mode, input, sizeof input - 1, &got, msg, sizeof msg);
            int same = got.n == want.n && (want.n == 0 || memcmp(got.data, want.data, want.n) == 0);
            free(got.data);
            if ((int)o != r || !same) {
                free(want.data);
                bf_program_free(&p);
                JT_CHECK_MSG(0, "program %s --%s: outcome %d (oracle %d), output %s", code,
                             mode_name(mode), (int)o, r, same ? "same" : "differs");
            }
        }
        faults += r == BF_FAULT;
        compared++;
        free(want.data);
        bf_program_free(&p);
    }
    printf("random: %d programs compared in all modes (%d of them fault)\n", compared, faults);
    JT_CHECK(compared > 300 && faults > 10 && faults < compared - 100);
}

static void test_errors(void)
{
    char msg[256];
    bf_program p;
    bf_jit *j;
    JT_CHECK(bf_load(&p, "+[\n  ++[-]", 10, msg, sizeof msg) != 0);
    JT_CHECK_MSG(strstr(msg, "unmatched '[' at line 1, column 2") != NULL, "%s", msg);
    JT_CHECK(bf_load(&p, "+\n-]", 4, msg, sizeof msg) != 0);
    JT_CHECK_MSG(strstr(msg, "unmatched ']' at line 2, column 2") != NULL, "%s", msg);

    /* 40000 moves without touching a cell: farther than the guards cover. */
    size_t n = 40000 + 3;
    char *src = malloc(n + 1);
    JT_CHECK(src != NULL);
    memset(src, '>', 40000);
    memcpy(src + 40000, "\n+.", 4);
    JT_CHECK(bf_load(&p, src, n, msg, sizeof msg) == 0);
    free(src);
    for (int k = 0; k < BF_JIT_KIND_COUNT; k++) {
        int rc = bf_jit_compile(&p, (bf_jit_kind)k, heap, &j, NULL, msg, sizeof msg);
        if (rc == 0)
            bf_jit_free(j);
        JT_CHECK_MSG(rc != 0, "kind %d compiled a 40000-cell jump", k);
        JT_CHECK_MSG(strstr(msg, "more than 32768 cells") && strstr(msg, "line 2, column 1"),
                     "%s", msg);
    }
    /* The interpreter runs it: cell 40000 is on the tape. */
    buf out;
    JT_EQ_U64(run_mode(&p, -1, NULL, 0, &out, msg, sizeof msg), BF_DONE);
    JT_EQ_U64(out.n, 1);
    free(out.data);
    bf_program_free(&p);
}

int main(int argc, char **argv)
{
    char msg[256];
    jk_error err;
    if (argc > 1)
        dir = argv[1];
    jt_only = argc > 2 ? argv[2] : NULL;
    if (jk_heap_new(&heap, NULL, &err) != JK_OK || bf_tape_new(&tape, msg, sizeof msg) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    JT_RUN(test_hello);
    JT_RUN(test_wrap);
    JT_RUN(test_nested);
    JT_RUN(test_echo);
    JT_RUN(test_edge_left);
    JT_RUN(test_edge_right);
    JT_RUN(test_edge_mul);
    JT_RUN(test_edge_skip);
    JT_RUN(test_random);
    JT_RUN(test_errors);
    bf_tape_free(&tape);
    jk_heap_destroy(heap, NULL);
    return jt_finish();
}
