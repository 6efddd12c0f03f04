/*
 * jitkit - the command-line tool.
 *
 *     jitkit run --hex "b8 78 56 34 12 c3" [--args N ...] [--strategy S]
 *     jitkit --version | --help
 *
 * Subcommands live in one table (name, summary, handler); the assembler and
 * disassembler plug in as further rows. Exit codes: 0 success, 1 the
 * operation failed (bad code, OS refusal), 2 usage error, 3 the generated
 * code crashed.
 */
#include <jitkit/jitkit.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#  include <signal.h>
#  include <unistd.h>
#endif

#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define EXIT_CRASH  3
#define MAX_ARGS    6

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    const char *summary;
    cmd_fn run;
} command;

static const char *prog = "jitkit";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return EXIT_USAGE;
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
static long parse_hex(const char *s, unsigned char **out)
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

/* -- Crash reporting ------------------------------------------------------- */

#if !defined(_WIN32)
static uintptr_t code_lo, code_hi;

static void write_str(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static void write_hex(uintptr_t v)
{
    char buf[2 + 2 * sizeof v + 1];
    int i = (int)sizeof buf - 1;
    buf[i] = '\0';
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v && i > 2);
    buf[--i] = 'x';
    buf[--i] = '0';
    write_str(buf + i);
}

/* Async-signal-safe report of a fault inside (or caused by) generated code. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    (void)uc;
    write_str("jitkit: generated code crashed: ");
    write_str(sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGILL ? "SIGILL"
              : sig == SIGFPE ? "SIGFPE" : sig == SIGTRAP ? "SIGTRAP" : "signal");
    write_str(" at address ");
    write_hex(addr);
    if (addr >= code_lo && addr < code_hi) {
        write_str(" (code offset ");
        write_hex(addr - code_lo);
        write_str(")");
    }
    write_str("\n");
    _exit(EXIT_CRASH);
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
#else
static void install_crash_handler(const void *code, size_t size)
{
    (void)code;
    (void)size;
}
#endif

/* -- run ------------------------------------------------------------------- */

typedef intptr_t (*fn6)(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t);

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

static int cmd_run(int argc, char **argv)
{
    const char *hex = NULL;
    jk_mem_options opt = {JK_MEM_AUTO, NULL};
    intptr_t args[MAX_ARGS] = {0};
    int nargs = 0, verbose = 0;
    unsigned char *code;
    long n;
    jk_mem *mem;
    jk_error err;
    fn6 fn;
    intptr_t result;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--hex") == 0 && i + 1 < argc) {
            hex = argv[++i];
        } else if (strncmp(a, "--hex=", 6) == 0) {
            hex = a + 6;
        } else if (strcmp(a, "--strategy") == 0 && i + 1 < argc) {
            if (!parse_strategy(argv[++i], &opt.strategy))
                return usage_error("unknown memory strategy '%s' (auto, flip, dual, map-jit)",
                                   argv[i]);
        } else if (strcmp(a, "--args") == 0) {
            intptr_t v;
            while (i + 1 < argc && parse_int_arg(argv[i + 1], &v)) {
                if (nargs == MAX_ARGS)
                    return usage_error("at most 6 integer arguments%s", "");
                args[nargs++] = v;
                i++;
            }
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: %s run --hex \"BYTES\" [--args N...] [--strategy S] [-v]\n"
                   "  Execute machine code bytes as a function and print its integer result.\n"
                   "  --hex BYTES     the code, e.g. \"b8 78 56 34 12 c3\"\n"
                   "  --args N...     up to 6 integer arguments (decimal, 0x hex, negative)\n"
                   "  --strategy S    auto (default), flip, dual\n"
                   "  -v, --verbose   also print the memory strategy and code address\n",
                   prog);
            return 0;
        } else {
            return usage_error("run: unexpected argument '%s'", a);
        }
    }
    if (!hex)
        return usage_error("run: no code given (use --hex \"b8 78 56 34 12 c3\")%s", "");
    n = parse_hex(hex, &code);
    if (n < 0)
        return EXIT_FAILED;

    if (jk_mem_load(&mem, code, (size_t)n, &opt, &err) != JK_OK) {
        fprintf(stderr, "%s: cannot install the code: %s\n", prog, err.message);
        free(code);
        return EXIT_FAILED;
    }
    free(code);
    if (verbose)
        fprintf(stderr, "%s: %ld bytes at %p, memory strategy %s\n", prog, n, jk_mem_exec(mem),
                jk_mem_strategy_name(jk_mem_strategy_of(mem)));
    install_crash_handler(jk_mem_exec(mem), (size_t)n);
    {
        void *p = jk_mem_exec(mem);
        memcpy(&fn, &p, sizeof fn);
    }
    result = fn(args[0], args[1], args[2], args[3], args[4], args[5]);
    printf("result = 0x%" PRIxPTR " (%" PRIdPTR ")\n", (uintptr_t)result, result);
    if (jk_mem_free(mem, &err) != JK_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        return EXIT_FAILED;
    }
    return 0;
}

/* -- Dispatch -------------------------------------------------------------- */

static const command commands[] = {
    {"run", "execute machine code bytes and print the result", cmd_run},
};

static void print_help(void)
{
    printf("jitkit %s - generate machine code at run time and execute it safely\n\n"
           "usage: %s COMMAND [OPTIONS]\n\ncommands:\n", jk_version(), prog);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-6s %s\n", commands[i].name, commands[i].summary);
    printf("\noptions:\n  --help      this text (COMMAND --help for a command's options)\n"
           "  --version   print the version\n\n"
           "example:\n  %s run --hex \"b8 78 56 34 12 c3\"     # mov eax, 0x12345678; ret\n"
           "\nexit codes: 0 ok, 1 failed, 2 usage error, 3 the generated code crashed\n",
           prog);
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
