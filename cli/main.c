/*
 * jitkit - the command-line tool.
 *
 *     jitkit asm [-m32|-m64] [--syntax=gnu|nasm] [-o out.bin] [--listing [--dis]] FILE|-
 *     jitkit run [-m32] [--args 1 2.5 ...] [--ret int|double] FILE | - | -e TEXT | --hex "b8 .."
 *     jitkit dis [-m32] [--base ADDR] FILE | --hex "b8 78 56 34 12 c3"
 *     jitkit --version | --help
 *
 * Subcommands live in one table (name, summary, handler). Exit codes: 0
 * success, 1 the operation failed (bad code, OS refusal), 2 usage error,
 * 3 the generated code crashed. See docs/cli.md.
 */
#include <jitkit/jitkit.h>

#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#  include <setjmp.h>
#  include <signal.h>
#  include <unistd.h>
#  include <dlfcn.h>
#  if defined(__linux__)
#    include <ucontext.h>
#  endif
#endif

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    const char *summary;
    cmd_fn run;
} command;

const char *prog = "jitkit";

int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return EXIT_USAGE;
}

char *read_file(const char *path, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 65536, n = 0;
    char *buf;
    if (!f) {
        fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path, strerror(errno));
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f)) {
                fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
        cap *= 2;
        {
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", prog, path);
        return NULL;
    }
    buf[n] = '\0';
    *size = n;
    return buf;
}
/* -- Hex input ---------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse "b8 78 56 34 12 c3", "b878563412c3", "0xb8,0x78", "\xb8\x78".
 * Returns the byte count, or -1 with a message naming the column. */
long parse_hex(const char *s, unsigned char **out)
{
    size_t cap = strlen(s) / 2 + 1, n = 0;
    unsigned char *buf = malloc(cap);
    const char *p = s;

    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    while (*p) {
        const char *tok;
        if (isspace((unsigned char)*p) || *p == ',' || *p == ';') {
            p++;
            continue;
        }
        if ((p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) || (p[0] == '\\' && p[1] == 'x'))
            p += 2;
        tok = p;
        while (hexval((unsigned char)*p) >= 0)
            p++;
        if (p == tok || (*p && !isspace((unsigned char)*p) && *p != ',' && *p != ';' &&
                         *p != '\\')) {
            fprintf(stderr, "%s: --hex: column %zu: '%c' is not a hex digit\n", prog,
                    (size_t)(p - s) + 1, *p ? *p : '?');
            free(buf);
            return -1;
        }
        if ((p - tok) % 2) {
            fprintf(stderr, "%s: --hex: column %zu: odd number of hex digits in '%.*s'\n",
                    prog, (size_t)(tok - s) + 1, (int)(p - tok), tok);
            free(buf);
            return -1;
        }
        for (; tok < p; tok += 2)
            buf[n++] = (unsigned char)(hexval((unsigned char)tok[0]) * 16 +
                                       hexval((unsigned char)tok[1]));
    }
    if (n == 0) {
        fprintf(stderr, "%s: --hex: no bytes given\n", prog);
        free(buf);
        return -1;
    }
    *out = buf;
    return (long)n;
}

/* -- Text input -------------------------------------------------------------- */

typedef struct text_opts {
    jk_x86_mode mode;
    int mode_set;
    jk_asm_syntax syntax;
    uint64_t base;
} text_opts;

static jk_x86_mode host_mode(void)
{
    return sizeof(void *) == 8 ? JK_X86_MODE64 : JK_X86_MODE32;
}

/* Options common to asm/run/dis; returns 1 if argv[*i] was one, -1 on a
 * usage error (printed), 0 if not ours. */
static int text_option(int argc, char **argv, int *i, text_opts *t)
{
    const char *a = argv[*i];
    if (strcmp(a, "-m32") == 0 || strcmp(a, "-m64") == 0) {
        t->mode = a[2] == '3' ? JK_X86_MODE32 : JK_X86_MODE64;
        t->mode_set = 1;
        return 1;
    }
    if (strncmp(a, "--syntax", 8) == 0 && (a[8] == '=' || a[8] == '\0')) {
        const char *v = a[8] == '=' ? a + 9 : (*i + 1 < argc ? argv[++*i] : "");
        if (strcmp(v, "gnu") == 0 || strcmp(v, "intel") == 0)
            t->syntax = JK_ASM_SYNTAX_GNU;
        else if (strcmp(v, "nasm") == 0)
            t->syntax = JK_ASM_SYNTAX_NASM;
        else {
            usage_error("unknown syntax '%s' (gnu, nasm)", v);
            return -1;
        }
        return 1;
    }
    if (strncmp(a, "--base", 6) == 0 && (a[6] == '=' || a[6] == '\0')) {
        const char *v = a[6] == '=' ? a + 7 : (*i + 1 < argc ? argv[++*i] : "");
        char *end;
        errno = 0;
        t->base = strtoull(v, &end, 0);
        if (!*v || *end || errno) {
            usage_error("bad address '%s'", v);
            return -1;
        }
        return 1;
    }
    return 0;
}

#if !defined(_WIN32)
#  define RUN_EXTERN JK_ASM_EXTERN
/* External names in `run` text (call puts) are looked up in the process.
 * The first one found is where the code is placed near, so that rel32
 * calls reach it. */
static const void *extern_near;

/* run --far: an address the code is placed near that is out of rel32
 * reach of p (16 GiB below it, or above it in the low half of the address
 * space), so that calls to p go through slots. */
static const void *far_from(const void *p)
{
    const uint64_t d = (uint64_t)1 << 34, u = (uint64_t)(uintptr_t)p;
    if (sizeof(void *) < 8)
        return p; /* rel32 reaches everything */
    return (const void *)(uintptr_t)(u > d + ((uint64_t)1 << 32) ? u - d : u + d);
}

static uint64_t resolve_dl(void *ctx, const char *name, int *found)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    (void)ctx;
    *found = p != NULL;
    if (p && !extern_near)
        extern_near = p;
    return (uint64_t)(uintptr_t)p;
}
#else
#  define RUN_EXTERN 0u
#endif

/* Assemble text; print every diagnostic. Returns the handle or NULL. */
static jk_asm *assemble_text(const char *text, size_t len, const char *name, const text_opts *t,
                             unsigned flags)
{
    jk_asm *as;
    jk_asm_options o = JK_ASM_OPTIONS_INIT;
    jk_error err;
    size_t nd;
    o.mode = t->mode;
    o.syntax = t->syntax;
    o.filename = name;
    o.flags = flags;
    o.base = t->base;
    if (jk_asm_new(&as, &o, &err) != JK_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        return NULL;
    }
#if !defined(_WIN32)
    if (flags & JK_ASM_EXTERN)
        jk_asm_set_resolver(as, resolve_dl, NULL);
#endif
    jk_asm_assemble(as, text, len);
    nd = jk_asm_diag_count(as);
    for (size_t i = 0; i < nd; i++)
        fputs(jk_asm_diag_text(as, i), stderr);
    if (nd) {
        fprintf(stderr, "%zu error%s generated.\n", nd, nd == 1 ? "" : "s");
        jk_asm_free(as);
        return NULL;
    }
    return as;
}

static void print_hex_lines(FILE *out, const uint8_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x%s", c[i], (i % 16 == 15 || i + 1 == n) ? "\n" : " ");
}

/* -- Crash reporting ------------------------------------------------------- */

#if !defined(_WIN32)
static uintptr_t code_lo, code_hi;
/* what report_crash needs, kept out of cmd_run's locals (longjmp) */
static jk_asm *crash_as;
static const uint8_t *crash_code;
static size_t crash_n;
static sigjmp_buf crash_jmp;
static volatile sig_atomic_t crash_sig;
static volatile uintptr_t crash_addr, crash_pc;

static uintptr_t context_pc(void *uc)
{
#if defined(__linux__) && defined(__x86_64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__linux__) && defined(__i386__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_EIP];
#elif defined(__linux__) && defined(__aarch64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* Record the fault and leave the generated code: the report is printed by
 * cmd_run, outside the handler. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
    crash_sig = sig;
    crash_addr = (uintptr_t)si->si_addr;
    crash_pc = context_pc(uc);
    siglongjmp(crash_jmp, 1);
}

static void install_crash_handler(const void *code, size_t size)
{
    static char altstack[64 * 1024];
    stack_t ss;
    struct sigaction sa;
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};

    code_lo = (uintptr_t)code;
    code_hi = code_lo + size;
    ss.ss_sp = altstack;
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0;
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static const char *sig_name(int sig)
{
    return sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGILL ? "SIGILL"
         : sig == SIGFPE ? "SIGFPE" : sig == SIGTRAP ? "SIGTRAP" : "signal";
}

/* Print what crashed: signal, addresses, code offset, the instruction (from
 * the source statement when there is one, else disassembled). */
static void report_crash(const uint8_t *code, size_t n, jk_asm *as)
{
    uintptr_t pc = crash_pc;
    int sig = crash_sig;
    fprintf(stderr, "%s: generated code crashed: %s", prog, sig_name(sig));
    if (sig == SIGSEGV || sig == SIGBUS)
        fprintf(stderr, " accessing address 0x%" PRIxPTR, (uintptr_t)crash_addr);
    if (pc)
        fprintf(stderr, " at pc 0x%" PRIxPTR, pc);
    fputc('\n', stderr);
    /* int3 and other traps report the address after the instruction */
    if (sig == SIGTRAP && pc > code_lo && pc - 1 < code_hi && code[pc - 1 - code_lo] == 0xcc)
        pc--;
    if (pc >= code_lo && pc < code_hi) {
        size_t off = pc - code_lo;
        char text[160] = "";
        if (as) {
            for (size_t i = 0; i < jk_asm_stmt_count(as); i++) {
                const jk_asm_stmt *s = jk_asm_stmt_at(as, i);
                if (off >= s->offset && off < s->offset + s->size) {
                    snprintf(text, sizeof text, "%.*s  (line %u)", (int)s->text_len, s->text,
                             s->line);
                    break;
                }
            }
        }
        if (!text[0] && !dis_one(code, n, off, 0, sizeof(void *) == 8, text, sizeof text))
            snprintf(text, sizeof text, "?");
        fprintf(stderr, "%s:   at code offset 0x%zx: %s\n", prog, off, text);
    } else if (pc) {
        fprintf(stderr, "%s:   the pc is outside the generated code (0x%" PRIxPTR "..0x%" PRIxPTR
                ")\n", prog, code_lo, code_hi);
    }
}
#endif

/* -- run ------------------------------------------------------------------- */

static int parse_strategy(const char *s, jk_mem_strategy *out)
{
    for (int i = 0; i < JK_MEM_STRATEGY_COUNT; i++) {
        if (strcmp(s, jk_mem_strategy_name((jk_mem_strategy)i)) == 0) {
            *out = (jk_mem_strategy)i;
            return 1;
        }
    }
    return 0;
}

static int parse_int_arg(const char *s, intptr_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, 0);
        if (errno || *end || v < INTPTR_MIN)
            return 0;
        *out = (intptr_t)v;
    } else {
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || *end || !*s || v > UINTPTR_MAX)
            return 0;
        *out = (intptr_t)(uintptr_t)v;
    }
    return 1;
}

static int lower_eq(const char *s, const char *word)
{
    for (; *word; s++, word++)
        if (tolower((unsigned char)*s) != *word)
            return 0;
    return *s == '\0';
}

/* A double argument: decimal with '.' or an exponent (1.5, -2e3, .5, 0.0),
 * or inf/infinity/nan with an optional sign. Hex stays integer. The
 * special values are recognised here, not by strtod (msvcrt's lacks them). */
static int parse_dbl_arg(const char *s, double *out)
{
    const char *p = s + (*s == '-' || *s == '+');
    char *end;
    int digits = 0, mark = 0;
    if (lower_eq(p, "inf") || lower_eq(p, "infinity")) {
        *out = *s == '-' ? -HUGE_VAL : HUGE_VAL;
        return 1;
    }
    if (lower_eq(p, "nan")) {
        *out = *s == '-' ? -NAN : NAN;
        return 1;
    }
    for (const char *q = p; *q; q++) {
        if (*q >= '0' && *q <= '9')
            digits = 1;
        else if (*q == '.' || *q == 'e' || *q == 'E')
            mark = 1;
        else if (*q != '+' && *q != '-')
            return 0;
    }
    if (!digits || !mark)
        return 0;
    errno = 0;
    *out = strtod(s, &end);
    /* underflow to a denormal or zero is fine; overflow is not */
    return !*end && end != s && !(errno == ERANGE && (*out == HUGE_VAL || *out == -HUGE_VAL));
}

/* The shortest "%.Ng" that reads back as the same double, with the
 * exponent in C's two-digit form (msvcrt prints three) and inf/nan spelt
 * the same on every C library. */
static void format_double(double d, char *buf, size_t cap)
{
    char *e;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    if (d != d) {
        snprintf(buf, cap, "%snan", bits >> 63 ? "-" : "");
        return;
    }
    if (d == HUGE_VAL || d == -HUGE_VAL) {
        snprintf(buf, cap, "%sinf", d < 0 ? "-" : "");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    e = strchr(buf, 'e');
    if (e && (e[1] == '+' || e[1] == '-')) {
        char *dig = e + 2;
        while (dig[0] == '0' && strlen(dig) > 2)
            memmove(dig, dig + 1, strlen(dig));
    }
}

static int host_is_x86(void)
{
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
    return 1;
#else
    return 0;
#endif
}

/* Call the code; a crash ends the process with a report (exit code 3).
 * Kept apart from cmd_run so no local of it lives across sigsetjmp. */
static int call_guarded(void *code, const run_args *args, jk_debug *dbg, run_result *r)
{
#if !defined(_WIN32)
    if (sigsetjmp(crash_jmp, 1)) {
        report_crash(crash_code, crash_n, crash_as);
        fflush(stderr);
        _exit(EXIT_CRASH);
    }
#endif
    return run_call(code, args, dbg, r);
}

static int cmd_run(int argc, char **argv)
{
    const char *hex = NULL, *expr = NULL, *file = NULL;
    jk_mem_options opt = {JK_MEM_AUTO, NULL};
    run_args args;
    int verbose = 0, place_far = 0;
    unsigned char *code = NULL;
    size_t n = 0;
    jk_asm *as = NULL;
    jk_mem *mem;
    jk_error err;
    void *entry;
    run_result result;
    text_opts t = {JK_X86_MODE64, 0, JK_ASM_SYNTAX_GNU, 0};
    jk_debug_options dopt = {0, NULL};
    jk_debug *dbg = NULL;
    jk_debug_src *src = NULL;
    t.mode = host_mode();
    memset(&args, 0, sizeof args);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = text_option(argc, argv, &i, &t);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "--hex") == 0 && i + 1 < argc) {
            hex = argv[++i];
        } else if (strncmp(a, "--hex=", 6) == 0) {
            hex = a + 6;
        } else if (strcmp(a, "-e") == 0 && i + 1 < argc) {
            expr = argv[++i];
        } else if (strcmp(a, "--strategy") == 0 && i + 1 < argc) {
            if (!parse_strategy(argv[++i], &opt.strategy))
                return usage_error("unknown memory strategy '%s' (auto, flip, dual, map-jit)",
                                   argv[i]);
        } else if (strcmp(a, "--args") == 0) {
            /* the values that follow, as long as they read as numbers */
            while (i + 1 < argc) {
                run_arg v = {0, 0, 0.0};
                if (!parse_int_arg(argv[i + 1], &v.i)) {
                    if (!parse_dbl_arg(argv[i + 1], &v.d))
                        break;
                    v.dbl = 1;
                }
                if (args.n == run_max_args())
                    return usage_error(run_max_args() == RUN_MAX_ARGS
                                           ? "at most 32 arguments ('%s')"
                                           : "at most 14 arguments ('%s')", argv[i + 1]);
                if (run_max_args() < RUN_MAX_ARGS &&
                    (v.dbl ? args.ndbl == RUN_MAX_DBL_ARGS : args.nint == RUN_MAX_INT_ARGS))
                    return usage_error(v.dbl ? "at most 8 double arguments ('%s')"
                                             : "at most 6 integer arguments ('%s')",
                                       argv[i + 1]);
                *(v.dbl ? &args.ndbl : &args.nint) += 1;
                args.a[args.n++] = v;
                i++;
            }
        } else if (strcmp(a, "--ret") == 0 || strncmp(a, "--ret=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : "");
            if (strcmp(v, "double") == 0)
                args.ret_dbl = 1;
            else if (strcmp(v, "int") == 0)
                args.ret_dbl = 0;
            else
                return usage_error("run: --ret takes int or double, not '%s'", v);
        } else if (strcmp(a, "--far") == 0) {
            place_far = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(a, "--gdb") == 0) {
            dopt.flags |= JK_DEBUG_GDB;
        } else if (strncmp(a, "--perf=", 7) == 0) {
            if (strcmp(a + 7, "map") == 0)
                dopt.flags |= JK_DEBUG_PERF_MAP;
            else if (strcmp(a + 7, "jitdump") == 0)
                dopt.flags |= JK_DEBUG_JITDUMP;
            else
                return usage_error("run: --perf takes map or jitdump, not '%s'", a + 7);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: %s run [-m32|-m64] [--syntax=gnu|nasm] [--args N...] [--ret int|double]\n"
                   "                  [--strategy S] [--far] [--gdb] [--perf=map|jitdump] [-v]\n"
                   "                  (FILE | - | -e 'TEXT' | --hex \"BYTES\")\n"
                   "  Assemble (or take) machine code, call it as a function, print its result.\n"
                   "  FILE, -         Intel-syntax source (- = standard input)\n"
                   "  -e TEXT         source on the command line: -e 'mov eax, 12345678h; ret'\n"
                   "  --hex BYTES     raw code, e.g. \"b8 78 56 34 12 c3\"\n"
                   "  --args N...     integer (42, 0x2a, -1) and double (1.5, -2e3, inf, nan)\n"
                   "                  arguments in any order (up to 32 on x86), passed as the C\n"
                   "                  ABI passes them to a function of those parameter types\n"
                   "  --ret T         int (default): result = 0x2a (42); double: result = 2.5\n"
                   "  --strategy S    auto (default), flip, dual\n"
                   "  --far           place the code out of rel32 reach of the functions it calls\n"
                   "                  by name (calls go through slots; 64-bit)\n"
                   "  --gdb           register the code with gdb (also JITKIT_GDB=1): the\n"
                   "                  functions the text names (.type, .cfi_*), or jit:main\n"
                   "  --perf=map|jitdump  name it for perf the same way (also JITKIT_PERF=...)\n"
                   "  -v, --verbose   also print the memory strategy and code address\n"
                   "  A crash in the code is reported with signal, address, code offset and\n"
                   "  instruction (exit code 3).\n",
                   prog);
            return 0;
        } else if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (file)
                return usage_error("run: more than one input ('%s')", a);
            file = a;
        } else {
            return usage_error("run: unexpected argument '%s'", a);
        }
    }
    if ((hex != NULL) + (expr != NULL) + (file != NULL) > 1)
        return usage_error("run: give only one of FILE, -e and --hex%s", "");
    if (!hex && !expr && !file)
        return usage_error("run: no code given (use -e 'mov eax, 1; ret', FILE or --hex)%s", "");
    if (hex) {
        long r = parse_hex(hex, &code);
        if (r < 0)
            return EXIT_FAILED;
        n = (size_t)r;
    } else {
        size_t len;
        char *text = expr ? NULL : read_file(file, &len);
        if (!expr && !text)
            return EXIT_FAILED;
        as = assemble_text(expr ? expr : text, expr ? strlen(expr) : len,
                           expr ? "<command line>" : strcmp(file, "-") == 0 ? "<stdin>" : file,
                           &t, JK_ASM_LISTING | RUN_EXTERN);
        free(text);
        if (!as)
            return EXIT_FAILED;
        if (t.mode != host_mode() || !host_is_x86()) {
            jk_asm_free(as);
            fprintf(stderr, "%s: run: this process cannot execute %s x86 code%s\n", prog,
                    t.mode == JK_X86_MODE64 ? "64-bit" : "32-bit",
                    host_is_x86() ? "" : " (not an x86 CPU); use 'jitkit asm'");
            return EXIT_FAILED;
        }
        n = jk_asm_size(as);
        if (n == 0) {
            fprintf(stderr, "%s: run: the code is empty\n", prog);
            jk_asm_free(as);
            return EXIT_FAILED;
        }
    }

    if (as) {
#if !defined(_WIN32)
        if (!opt.near_to && extern_near)
            opt.near_to = place_far ? far_from(extern_near) : extern_near;
#else
        (void)place_far; /* no names resolve in the process */
#endif
        if (jk_asm_install(as, &opt, &mem, &entry) != JK_OK) {
            fprintf(stderr, "%s: cannot install the code: %s\n", prog, jk_asm_x86_error(as)->message);
            jk_asm_free(as);
            return EXIT_FAILED;
        }
        /* the crash report wants the bytes as installed (with any slots) */
        n = jk_asm_installed_size(as);
        code = malloc(n);
        if (!code) {
            fprintf(stderr, "%s: out of memory\n", prog);
            jk_asm_free(as);
            jk_mem_free(mem, NULL);
            return EXIT_FAILED;
        }
        memcpy(code, jk_mem_exec(mem), n);
    } else if (jk_mem_load(&mem, code, n, &opt, &err) != JK_OK) {
        fprintf(stderr, "%s: cannot install the code: %s\n", prog, err.message);
        free(code);
        return EXIT_FAILED;
    }
    if (verbose) {
        fprintf(stderr, "%s: %zu bytes at %p, memory strategy %s\n", prog, n, jk_mem_exec(mem),
                jk_mem_strategy_name(jk_mem_strategy_of(mem)));
        fprintf(stderr, "%s: code:", prog);
        for (size_t k = 0; k < n && k < 64; k++)
            fprintf(stderr, " %02x", code[k]);
        fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
    }
#if !defined(_WIN32)
    install_crash_handler(jk_mem_exec(mem), n);
    crash_as = as;
    crash_code = code;
    crash_n = n;
#endif
    entry = jk_mem_exec(mem);
    /* names for gdb and perf, and the text's source lines: the functions
       the text names (.type, .cfi_startproc; with their unwind rules), or
       the whole code as jit:main (no unwind rules: its frame is unknown) */
    if (jk_debug_new(&dbg, &dopt, &err) != JK_OK ||
        (as && jk_asm_func_count(as)
             ? jk_asm_debug_register(as, dbg, entry, &err) != JK_OK
             : ((as && jk_debug_lines_from_asm(as, expr ? "<command line>"
                                                   : strcmp(file, "-") == 0 ? "<stdin>" : file,
                                               &src, &err) != JK_OK) ||
                jk_debug_register_ex(dbg, entry, n, "jit:main", NULL, src, &err) != JK_OK))) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        jk_debug_lines_free(src);
        jk_debug_destroy(dbg, NULL);
        free(code);
        jk_asm_free(as);
        jk_mem_free(mem, NULL);
        return EXIT_FAILED;
    }
    jk_debug_lines_free(src);
    if (call_guarded(entry, &args, dbg, &result) != 0) {
        jk_debug_destroy(dbg, NULL);
        free(code);
        jk_asm_free(as);
        jk_mem_free(mem, NULL);
        return EXIT_FAILED;
    }
    jk_debug_destroy(dbg, NULL);
    if (args.ret_dbl) {
        char num[64];
        format_double(result.d, num, sizeof num);
        printf("result = %s\n", num);
    } else {
        printf("result = 0x%" PRIxPTR " (%" PRIdPTR ")\n", (uintptr_t)result.i, result.i);
    }
    free(code);
    jk_asm_free(as);
    if (jk_mem_free(mem, &err) != JK_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        return EXIT_FAILED;
    }
    return 0;
}

/* -- asm -------------------------------------------------------------------- */

/* asm --listing --dis: the whole code is disassembled once (one objdump run,
 * not one per statement) and each decoded instruction is shown beside the
 * statement in which it starts, so what was written and what a decoder
 * reads back sit on one line. */
typedef struct dis_insn {
    uint64_t addr;
    size_t len;
    char text[112];
} dis_insn;

typedef struct dis_list {
    dis_insn *v;
    size_t n, cap;
    int oom;
} dis_list;

static int collect_insn(void *ctx, uint64_t addr, size_t len, const char *text)
{
    dis_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        dis_insn *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].addr = addr;
    l->v[l->n].len = len;
    snprintf(l->v[l->n].text, sizeof l->v[l->n].text, "%s", text);
    l->n++;
    return 0;
}

static int print_listing(jk_asm *as, const uint8_t *code, size_t n, const text_opts *t, int dis)
{
    dis_list l = {NULL, 0, 0, 0};
    size_t k = 0;
    if (dis) {
        if (dis_each(code, n, t->base, t->mode == JK_X86_MODE64, collect_insn, &l) != 0) {
            free(l.v);
            return EXIT_FAILED;
        }
        if (l.oom) {
            fprintf(stderr, "%s: asm: out of memory for the disassembly\n", prog);
            free(l.v);
            return EXIT_FAILED;
        }
        printf("# disassembled by %s\n", dis_engine());
    }
    for (size_t i = 0; i < jk_asm_stmt_count(as); i++) {
        const jk_asm_stmt *s = jk_asm_stmt_at(as, i);
        if (!s->size)
            continue;
        printf("%zx\t", s->offset);
        for (size_t j = 0; j < s->size; j++)
            printf("%02x", code[s->offset + j]);
        printf("\t%.*s", (int)s->text_len, s->text);
        if (dis) {
            const char *sep = "\t";
            /* instructions that start inside this statement */
            while (k < l.n && l.v[k].addr - t->base < s->offset + s->size) {
                if (l.v[k].addr - t->base >= s->offset) {
                    printf("%s%s", sep, l.v[k].text);
                    sep = "; ";
                }
                k++;
            }
        }
        putchar('\n');
    }
    free(l.v);
    return 0;
}

static int cmd_asm(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    int listing = 0, dis = 0, rc = 0;
    text_opts t = {JK_X86_MODE64, 0, JK_ASM_SYNTAX_GNU, 0};
    size_t len, n;
    char *text;
    const uint8_t *code;
    jk_asm *as;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = text_option(argc, argv, &i, &t);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--listing") == 0 || strcmp(a, "-l") == 0) {
            listing = 1;
        } else if (strcmp(a, "--dis") == 0) {
            listing = dis = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: %s asm [-m32|-m64] [--syntax=gnu|nasm] [--base ADDR] [-o OUT]\n"
                   "                  [--listing [--dis]] FILE|-\n"
                   "  Assemble Intel-syntax text into raw machine code.\n"
                   "  -m32, -m64      32- or 64-bit code (default 64)\n"
                   "  --syntax=S      gnu (default: GNU as / objdump -M intel) or nasm\n"
                   "  --base ADDR     address the code will run at (absolute targets)\n"
                   "  -o OUT          write the bytes to OUT\n"
                   "  --listing       per statement: offset<TAB>bytes<TAB>statement\n"
                   "  --dis           listing plus <TAB>the bytes disassembled by %s\n"
                   "  Without -o and --listing the bytes are printed in hex.\n",
                   prog, dis_engine());
            return 0;
        } else if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (file)
                return usage_error("asm: more than one input ('%s')", a);
            file = a;
        } else {
            return usage_error("asm: unexpected argument '%s'", a);
        }
    }
    if (!file)
        return usage_error("asm: no input file (use - for standard input)%s", "");
    text = read_file(file, &len);
    if (!text)
        return EXIT_FAILED;
    as = assemble_text(text, len, strcmp(file, "-") == 0 ? "<stdin>" : file, &t,
                       listing ? JK_ASM_LISTING : 0);
    if (!as) {
        free(text);
        return EXIT_FAILED;
    }
    code = jk_asm_code(as, &n);
    if (out) {
        FILE *f = fopen(out, "wb");
        if (!f || (n && fwrite(code, 1, n, f) != n) || fclose(f) != 0) {
            fprintf(stderr, "%s: cannot write '%s': %s\n", prog, out, strerror(errno));
            rc = EXIT_FAILED;
        }
    }
    if (listing) {
        int lrc = print_listing(as, code, n, &t, dis);
        if (lrc)
            rc = lrc;
    } else if (!out) {
        print_hex_lines(stdout, code, n);
    }
    jk_asm_free(as);
    free(text);
    return rc;
}

/* -- dis -------------------------------------------------------------------- */

static int cmd_dis(int argc, char **argv)
{
    const char *file = NULL, *hex = NULL;
    text_opts t = {JK_X86_MODE64, 0, JK_ASM_SYNTAX_GNU, 0};
    unsigned char *code;
    size_t n;
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = text_option(argc, argv, &i, &t);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "--hex") == 0 && i + 1 < argc) {
            hex = argv[++i];
        } else if (strncmp(a, "--hex=", 6) == 0) {
            hex = a + 6;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: %s dis [-m32|-m64] [--base ADDR] FILE|-|--hex \"BYTES\"\n"
                   "  Disassemble raw machine code: offset<TAB>bytes<TAB>instruction.\n"
                   "  The first line names the disassembler (%s).\n",
                   prog, dis_engine());
            return 0;
        } else if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (file)
                return usage_error("dis: more than one input ('%s')", a);
            file = a;
        } else {
            return usage_error("dis: unexpected argument '%s'", a);
        }
    }
    if (!!file + !!hex != 1)
        return usage_error("dis: give one input: FILE, - or --hex \"BYTES\"%s", "");
    if (hex) {
        long r = parse_hex(hex, &code);
        if (r < 0)
            return EXIT_FAILED;
        n = (size_t)r;
    } else {
        code = (unsigned char *)read_file(file, &n);
        if (!code)
            return EXIT_FAILED;
    }
    rc = dis_listing(stdout, code, n, t.base, t.mode == JK_X86_MODE64) ? EXIT_FAILED : 0;
    free(code);
    return rc;
}

/* -- Dispatch -------------------------------------------------------------- */

static const command commands[] = {
    {"asm", "assemble Intel-syntax text into machine code", cmd_asm},
    {"run", "assemble (or take bytes), execute and print the result", cmd_run},
    {"dis", "disassemble machine code", cmd_dis},
};

static void print_help(void)
{
    printf("jitkit %s - generate machine code at run time and execute it safely\n\n"
           "usage: %s COMMAND [OPTIONS]\n\ncommands:\n", jk_version(), prog);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-6s %s\n", commands[i].name, commands[i].summary);
    printf("\noptions:\n  --help      this text (COMMAND --help for a command's options)\n"
           "  --version   print the version\n\n"
           "examples:\n"
           "  %s run -e 'mov eax, 12345678h; ret'\n"
           "  %s run --hex \"b8 78 56 34 12 c3\"\n"
           "  %s asm --listing code.s        %s dis --hex \"48 01 d8\"\n"
           "\nexit codes: 0 ok, 1 failed, 2 usage error, 3 the generated code crashed\n",
           prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help();
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help();
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("jitkit %s\n", jk_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", argv[1]);
}
