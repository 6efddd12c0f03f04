/*
 * bench_text.c - how fast the text assembler reads realistic code, next to
 * GNU as and llvm-mc on the same file.
 *
 * The input is built from tests/text/rt64.txt (instructions sampled from
 * libc and zlib by objdump, every one verified): shuffled, with a label
 * every 8 lines and the branches aimed at nearby labels, repeated to
 * JK_BENCH_LINES lines (default 1,000,000). Statements that GNU as or
 * llvm-mc reject are dropped first, so all three read the same text.
 *
 *   jitkit      in process: jk_asm_assemble on the text in memory
 *   jitkit_cli  whole process: jitkit asm -o /dev/null FILE
 *   gas         whole process: as --64 -o /dev/null FILE
 *   llvm_mc     whole process: llvm-mc -filetype=obj -o /dev/null FILE
 *
 * The four are timed in turn, round after round (JK_BENCH_ROUNDS, default
 * 5), and each keeps its best round, so a burst of load from other
 * processes hits all of them alike. Two clocks: wall time (BENCH
 * text.lines_per_s.<tool>, text.speedup_*) and CPU time, user + system of
 * this process or of the child (text.cpu_lines_per_s.<tool>,
 * text.cpu_speedup_*), which leaves out the time spent waiting for a CPU
 * on a loaded machine.
 */
#include <jitkit/jitkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
int main(void)
{
    puts("bench_text: needs a POSIX system (GNU as, llvm-mc); skipped");
    return 0;
}
#else
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void push(lines *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            exit(1);
    }
    l->v[l->n++] = s;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned long long rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* "jne .+0x12" -> mnemonic kind: 0 not a branch, 1 rel8-only, 2 normal */
static int branch_kind(const char *s, char *mn, size_t cap)
{
    const char *sp = strchr(s, ' ');
    size_t n = sp ? (size_t)(sp - s) : strlen(s);
    if (!sp || !strstr(s, " .") || n + 1 > cap)
        return 0;
    memcpy(mn, s, n);
    mn[n] = '\0';
    if (strncmp(mn, "loop", 4) == 0 || strstr(mn, "cxz"))
        return 1;
    return mn[0] == 'j' || strcmp(mn, "call") == 0 ? 2 : 0;
}

/* Line numbers (1-based, in a file with one header line) that a tool
 * rejects; marks them in bad[]. */
static void reject(const char *cmd, const char *path, char *bad, size_t n)
{
    char buf[1024], line[4096];
    FILE *p;
    snprintf(buf, sizeof buf, "%s %s 2>&1", cmd, path);
    p = popen(buf, "r");
    if (!p)
        return;
    while (fgets(line, sizeof line, p)) {
        const char *c = strstr(line, path);
        unsigned long ln;
        if (!c)
            continue;
        c += strlen(path);
        if (*c != ':' || sscanf(c + 1, "%lu", &ln) != 1)
            continue;
        if (strstr(line, "rror") && ln >= 2 && ln - 2 < n)
            bad[ln - 2] = 1;
    }
    pclose(p);
}

static double tv(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec * 1e-6; }

/* CPU time (user + system) of this process, or of its waited-for children. */
static double cpu_now(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

typedef struct timing {
    double wall, cpu; /* best of the rounds; < 0: not available */
} timing;

static void keep_best(timing *t, double wall, double cpu)
{
    if (t->wall < 0 || wall < t->wall)
        t->wall = wall;
    if (t->cpu < 0 || cpu < t->cpu)
        t->cpu = cpu;
}

/* One whole-process run of a tool; 0 on failure. */
static int run_tool(const char *cmd, const char *path, timing *t)
{
    char buf[1024];
    double t0, c0;
    snprintf(buf, sizeof buf, "%s %s >/dev/null 2>&1", cmd, path);
    c0 = cpu_now(RUSAGE_CHILDREN);
    t0 = now();
    if (system(buf) != 0)
        return 0;
    keep_best(t, now() - t0, cpu_now(RUSAGE_CHILDREN) - c0);
    return 1;
}

/* BENCH lines for one clock ("" wall, "cpu_" CPU time); times < 0 are
 * missing tools. */
static void report(const char *clk, size_t n, double jk, double cli, double gas, double mc)
{
    const char *sp = *clk ? "cpu_speedup" : "speedup";
    printf("BENCH text.%slines_per_s.jitkit %.0f lines/s\n", clk, (double)n / jk);
    if (cli > 0)
        printf("BENCH text.%slines_per_s.jitkit_cli %.0f lines/s\n", clk, (double)n / cli);
    if (gas > 0)
        printf("BENCH text.%slines_per_s.gas %.0f lines/s\n", clk, (double)n / gas);
    if (mc > 0)
        printf("BENCH text.%slines_per_s.llvm_mc %.0f lines/s\n", clk, (double)n / mc);
    if (gas > 0)
        printf("BENCH text.%s_vs_gas %.1f x\n", sp, gas / jk);
    if (gas > 0 && cli > 0)
        printf("BENCH text.%s_cli_vs_gas %.1f x\n", sp, gas / cli);
    if (mc > 0)
        printf("BENCH text.%s_vs_llvm_mc %.1f x\n", sp, mc / jk);
}

static int have(const char *tool)
{
    char buf[256];
    snprintf(buf, sizeof buf, "command -v %s >/dev/null 2>&1", tool);
    return system(buf) == 0;
}

int main(int argc, char **argv)
{
    const char *env = getenv("JK_BENCH_LINES");
    size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : env ? strtoul(env, NULL, 10) : 1000000;
    FILE *f = fopen(JK_BENCH_CORPUS, "r");
    char line[4096], tmp[] = "/tmp/jitkit-bench-XXXXXX.s", mn[32];
    lines ins = {0}, keep = {0};
    char *bad, *text;
    size_t tn = 0, tcap, nlab = 0;
    int fd;
    timing t_jk = {-1, -1}, t_cli = {-1, -1}, t_gas = {-1, -1}, t_mc = {-1, -1};
    const char *renv = getenv("JK_BENCH_ROUNDS");
    int rounds = renv && atoi(renv) > 0 ? atoi(renv) : 5, ok_gas, ok_mc;
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;

    if (!f) {
        perror(JK_BENCH_CORPUS);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        tab[strcspn(tab, "\r\n")] = '\0';
        push(&ins, strdup(tab + 1));
    }
    fclose(f);

    /* drop what the other assemblers reject */
    fd = mkstemps(tmp, 2);
    if (fd < 0)
        return 1;
    f = fdopen(fd, "w");
    fprintf(f, ".intel_syntax noprefix\n");
    for (size_t i = 0; i < ins.n; i++)
        fprintf(f, "%s\n", branch_kind(ins.v[i], mn, sizeof mn) ? "nop" : ins.v[i]);
    fclose(f);
    bad = calloc(ins.n, 1);
    if (have("as"))
        reject("as --64 -o /dev/null", tmp, bad, ins.n);
    if (have("llvm-mc"))
        reject("llvm-mc -filetype=obj -o /dev/null", tmp, bad, ins.n);
    for (size_t i = 0; i < ins.n; i++)
        if (!bad[i])
            push(&keep, ins.v[i]);

    /* the big file */
    tcap = want * 48 + 4096;
    text = malloc(tcap);
    if (!text)
        return 1;
    tn = (size_t)snprintf(text, tcap, ".intel_syntax noprefix\n");
    for (size_t i = 0; i < want; i++) {
        const char *s = keep.v[rnd() % keep.n];
        int bk = branch_kind(s, mn, sizeof mn);
        if (tn + 256 + strlen(s) > tcap) {
            tcap *= 2;
            text = realloc(text, tcap);
            if (!text)
                return 1;
        }
        if (i % 8 == 0)
            tn += (size_t)sprintf(text + tn, "L%zu: ", nlab++);
        if (bk) {
            /* aim at a label at most 40 labels away (1 for rel8-only) */
            size_t span = bk == 1 ? 1 : 40, base = nlab - 1;
            size_t target = base + (size_t)(rnd() % (2 * span + 1));
            target = target < span ? 0 : target - span;
            if (bk == 1 || target >= (want + 7) / 8)
                target = base;
            tn += (size_t)sprintf(text + tn, "%s L%zu\n", mn, target);
        } else {
            tn += (size_t)sprintf(text + tn, "%s\n", s);
        }
    }
    f = fopen(tmp, "w");
    if (!f || fwrite(text, 1, tn, f) != tn || fclose(f) != 0)
        return 1;

    if (jk_asm_new(&as, &o, NULL) != JK_OK)
        return 1;
    ok_gas = have("as");
    ok_mc = have("llvm-mc");
    for (int r = 0; r < rounds; r++) {
        double t0 = now(), c0 = cpu_now(RUSAGE_SELF);
        size_t size;
        if (jk_asm_assemble(as, text, tn) != JK_OK) {
            fprintf(stderr, "bench_text: jitkit failed: %s\n", jk_asm_diag_text(as, 0));
            return 1;
        }
        jk_asm_code(as, &size);
        keep_best(&t_jk, now() - t0, cpu_now(RUSAGE_SELF) - c0);
        if (!run_tool(JK_BENCH_CLI " asm -o /dev/null", tmp, &t_cli))
            t_cli.wall = -1;
        if (ok_gas && !run_tool("as --64 -o /dev/null", tmp, &t_gas))
            ok_gas = 0;
        if (ok_mc && !run_tool("llvm-mc -filetype=obj -o /dev/null", tmp, &t_mc))
            ok_mc = 0;
    }
    printf("# %zu lines (%zu distinct statements from %s), %.1f MB, %u pass(es), best of %d "
           "rounds\n", want, keep.n, JK_BENCH_CORPUS, (double)tn / 1e6, jk_asm_passes(as),
           rounds);
    jk_asm_free(as);
    if (getenv("JK_BENCH_KEEP"))
        printf("# input kept in %s\n", tmp);
    else
        unlink(tmp);

    printf("BENCH text.lines %zu lines\n", want);
    report("", want, t_jk.wall, t_cli.wall, ok_gas ? t_gas.wall : -1, ok_mc ? t_mc.wall : -1);
    report("cpu_", want, t_jk.cpu, t_cli.wall > 0 ? t_cli.cpu : -1, ok_gas ? t_gas.cpu : -1,
           ok_mc ? t_mc.cpu : -1);
    return 0;
}
#endif
