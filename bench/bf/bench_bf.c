/*
 * bench_bf.c - Brainfuck on mandelbrot.b (Erik Bosman's public benchmark
 * program): the reference interpreter, the naive and the optimizing JIT,
 * against the same program translated to C one statement per command and
 * compiled by the system's gcc -O2, run as its own process.
 *
 * The input is read from the shared bench-inputs folder next to the source
 * tree (JITKIT_BENCH_INPUTS at build time, or the environment variable of
 * the same name); it is never copied into the project. Without it the
 * benchmark prints a message and exits 0. Every run's output must have the
 * known md5, else the benchmark fails.
 *
 * Times are CPU seconds (user + system) of the run: this process's clock
 * for the in-process modes, the child's rusage for the gcc-built program,
 * so other load on the machine does not count. Each is the best of a few
 * runs (1 for the interpreter, 3 for the naive JIT, 5 for the optimizing
 * JIT and the gcc-built program); the JIT times include compiling.
 */
#define _GNU_SOURCE
#include "bf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPECTED_MD5 "5024283fa65866ddd347b877798e84d8"

/* -- MD5 (RFC 1321) ------------------------------------------------------- */

typedef struct md5 {
    uint32_t h[4];
    uint64_t len;
    unsigned char buf[64];
    size_t nbuf;
} md5;

static uint32_t md5_k[64];
static const unsigned md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_init(md5 *m)
{
    /* K[i] = floor(2^32 * |sin(i + 1)|), as the RFC defines the table. */
    for (int i = 0; i < 64; i++)
        md5_k[i] = (uint32_t)floor(fabs(sin((double)i + 1.0)) * 4294967296.0);
    m->h[0] = 0x67452301u;
    m->h[1] = 0xefcdab89u;
    m->h[2] = 0x98badcfeu;
    m->h[3] = 0x10325476u;
    m->len = 0;
    m->nbuf = 0;
}

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void md5_block(md5 *m, const unsigned char *p)
{
    uint32_t w[16], a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + md5_k[i] + w[g], md5_r[i]);
        a = t;
    }
    m->h[0] += a;
    m->h[1] += b;
    m->h[2] += c;
    m->h[3] += d;
}

static void md5_add(md5 *m, const unsigned char *p, size_t n)
{
    m->len += n;
    while (n--) {
        m->buf[m->nbuf++] = *p++;
        if (m->nbuf == 64) {
            md5_block(m, m->buf);
            m->nbuf = 0;
        }
    }
}

static void md5_hex(md5 *m, char out[33])
{
    uint64_t bits = m->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    md5_add(m, &pad, 1);
    while (m->nbuf != 56)
        md5_add(m, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (8 * i));
    md5_add(m, lenb, 8);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned)(m->h[i / 4] >> (8 * (i % 4))) & 0xffu);
}

/* -- Runs ---------------------------------------------------------------------- */

static void sink_write(void *user, const unsigned char *data, size_t n)
{
    md5_add(user, data, n);
}

static int sink_read(void *user)
{
    (void)user;
    return -1;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double child_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int check_md5(const char *what, md5 *m)
{
    char hex[33];
    md5_hex(m, hex);
    if (strcmp(hex, EXPECTED_MD5) != 0) {
        fprintf(stderr, "bench_bf: %s printed output with md5 %s, expected %s\n", what, hex,
                EXPECTED_MD5);
        return -1;
    }
    return 0;
}

/* One in-process run: kind < 0 is the interpreter. Returns the CPU time or
 * -1; *compile_s receives the JIT's compile time. */
static double run_once(const bf_program *p, int kind, jk_heap *heap, bf_tape *t,
                       double *compile_s)
{
    md5 m;
    bf_io io = {sink_write, sink_read, &m};
    char msg[256];
    bf_outcome r;
    double t0;
    const char *name = kind < 0 ? "interp" : kind == BF_JIT_NAIVE ? "jit_naive" : "jit_opt";

    md5_init(&m);
    bf_tape_clear(t);
    t0 = cpu_now();
    if (kind < 0) {
        r = bf_interp(p, t, &io);
    } else {
        bf_jit *j;
        bf_stats st;
        if (bf_jit_compile(p, (bf_jit_kind)kind, heap, &j, &st, msg, sizeof msg) != 0) {
            fprintf(stderr, "bench_bf: %s: %s\n", name, msg);
            return -1;
        }
        *compile_s = st.compile_s;
        r = bf_jit_run(j, t, &io, msg, sizeof msg);
        bf_jit_free(j);
    }
    double dt = cpu_now() - t0;
    if (r != BF_DONE) {
        fprintf(stderr, "bench_bf: %s: the run did not finish\n", name);
        return -1;
    }
    return check_md5(name, &m) == 0 ? dt : -1;
}

/* The program as C, one statement per command. */
static int write_c(const bf_program *p, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "#include <stdio.h>\nstatic unsigned char tape[%u];\n"
               "int main(void)\n{\n    unsigned char *p = tape;\n",
            BF_TAPE_CELLS);
    for (size_t i = 0; i < p->n; i++) {
        switch (p->cmd[i]) {
        case '+': fputs("++*p;\n", f); break;
        case '-': fputs("--*p;\n", f); break;
        case '>': fputs("++p;\n", f); break;
        case '<': fputs("--p;\n", f); break;
        case '.': fputs("putchar(*p);\n", f); break;
        case ',': fputs("{ int c = getchar(); *p = (unsigned char)(c == EOF ? 0 : c); }\n", f); break;
        case '[': fputs("while (*p) {\n", f); break;
        case ']': fputs("}\n", f); break;
        default: break;
        }
    }
    fputs("    return 0;\n}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* Run argv as a child with stdout to out_path; returns its CPU time or -1. */
static double run_child(char *const argv[], const char *out_path)
{
    double before = child_cpu();
    pid_t pid = fork();
    int st;
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (out_path && !freopen(out_path, "w", stdout))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return child_cpu() - before;
}

static double md5_file_check(const char *path)
{
    size_t n = 0;
    char *data = read_all(path, &n);
    md5 m;
    if (!data)
        return -1;
    md5_init(&m);
    md5_add(&m, (unsigned char *)data, n);
    free(data);
    return check_md5("gcc_O2", &m);
}

static double gcc_bench(const bf_program *p, int reps, double *compile_s)
{
    char dir[] = "/tmp/jk_bench_bf_XXXXXX", csrc[64], exe[64], out[64];
    double best = -1;
    if (!mkdtemp(dir))
        return -1;
    snprintf(csrc, sizeof csrc, "%s/bf.c", dir);
    snprintf(exe, sizeof exe, "%s/bf", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    if (write_c(p, csrc) == 0) {
        char *cc[] = {"gcc", "-O2", "-o", exe, csrc, NULL};
        char *run[] = {exe, NULL};
        *compile_s = run_child(cc, NULL);
        for (int i = 0; *compile_s >= 0 && i < reps; i++) {
            double t = run_child(run, out);
            if (t < 0 || md5_file_check(out) != 0) {
                best = -1;
                break;
            }
            if (best < 0 || t < best)
                best = t;
        }
        if (*compile_s < 0)
            fprintf(stderr, "bench_bf: gcc -O2 failed to build the translated program\n");
    }
    remove(out);
    remove(exe);
    remove(csrc);
    rmdir(dir);
    return best;
}

int main(void)
{
    const char *dir = getenv("JITKIT_BENCH_INPUTS");
    char path[1024], msg[256];
    size_t len = 0;
    char *src;
    bf_program prog;
    bf_tape tape;
    jk_heap *heap;
    jk_error err;
    int reps = 5, status = 0;

    if (!dir || !*dir)
        dir = JITKIT_BENCH_INPUTS;
    snprintf(path, sizeof path, "%s/mandelbrot.b", dir);
    src = read_all(path, &len);
    if (!src) {
        printf("bench_bf: %s not found; Brainfuck benchmark skipped\n", path);
        return 0;
    }
    if (bf_load(&prog, src, len, msg, sizeof msg) != 0 || bf_tape_new(&tape, msg, sizeof msg)) {
        fprintf(stderr, "bench_bf: %s\n", msg);
        return 1;
    }
    free(src);
    if (jk_heap_new(&heap, NULL, &err) != JK_OK) {
        fprintf(stderr, "bench_bf: %s\n", err.message);
        return 1;
    }

    double best[3] = {-1, -1, -1}, comp[3] = {0, 0, 0};
    for (int kind = -1; kind <= BF_JIT_OPT; kind++) {
        /* the interpreter and the naive JIT are slow: fewer runs */
        int n = kind < 0 ? 1 : kind == BF_JIT_NAIVE ? 3 : reps;
        for (int i = 0; i < n; i++) {
            double c = 0, t = run_once(&prog, kind, heap, &tape, &c);
            if (t < 0) {
                status = 1;
                break;
            }
            if (best[kind + 1] < 0 || t < best[kind + 1])
                best[kind + 1] = t;
            if (i == 0 || c < comp[kind + 1])
                comp[kind + 1] = c;
        }
    }
    double gcc_compile = 0, gcc = gcc_bench(&prog, reps, &gcc_compile);

    if (best[0] >= 0)
        printf("BENCH bf.mandelbrot.interp_s %.3f s\n", best[0]);
    if (best[1] >= 0) {
        printf("BENCH bf.mandelbrot.jit_naive_s %.3f s\n", best[1]);
        printf("BENCH bf.mandelbrot.jit_naive_compile_ms %.3f ms\n", comp[1] * 1e3);
    }
    if (best[2] >= 0) {
        printf("BENCH bf.mandelbrot.jit_opt_s %.3f s\n", best[2]);
        printf("BENCH bf.mandelbrot.jit_opt_compile_ms %.3f ms\n", comp[2] * 1e3);
    }
    if (gcc >= 0) {
        printf("BENCH bf.mandelbrot.gcc_O2_s %.3f s\n", gcc);
        printf("BENCH bf.mandelbrot.gcc_O2_compile_s %.3f s\n", gcc_compile);
        if (best[2] >= 0)
            printf("BENCH bf.mandelbrot.jit_opt_vs_gcc_O2 %.3f x\n", best[2] / gcc);
    } else {
        printf("bench_bf: gcc -O2 comparison not available (gcc missing or failed)\n");
    }
    bf_tape_free(&tape);
    bf_program_free(&prog);
    jk_heap_destroy(heap, NULL);
    return status;
}
