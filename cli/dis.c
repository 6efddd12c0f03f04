/*
 * cli/dis.c - disassembly for `jitkit dis` and for crash reports.
 *
 * Two back ends, chosen at build time:
 *   - libzydis (JK_HAVE_ZYDIS, found by cli/CMakeLists.txt): in process;
 *   - otherwise objdump as a subprocess on a temporary file
 *     (objdump -D -b binary -m i386[:x86-64] -M intel -w).
 * The listing says which one produced it. JITKIT_DIS=objdump in the
 * environment picks objdump even when libzydis is there.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#ifdef JK_HAVE_ZYDIS
#  include <Zydis/Zydis.h>
#endif
#if !defined(_WIN32)
#  include <unistd.h>
#endif

#ifdef JK_HAVE_ZYDIS

static void put_bytes(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

static const char *zy_engine(void)
{
    static char name[48];
    if (!name[0]) {
        ZyanU64 v = ZydisGetVersion();
        snprintf(name, sizeof name, "zydis %u.%u.%u", (unsigned)ZYDIS_VERSION_MAJOR(v),
                 (unsigned)ZYDIS_VERSION_MINOR(v), (unsigned)ZYDIS_VERSION_PATCH(v));
    }
    return name;
}

static size_t zy_one(const uint8_t *code, size_t n, size_t off, uint64_t base, int mode64, char *buf,
               size_t cap)
{
    ZydisDisassembledInstruction insn;
    if (off >= n || cap == 0)
        return 0;
    if (!ZYAN_SUCCESS(ZydisDisassembleIntel(mode64 ? ZYDIS_MACHINE_MODE_LONG_64
                                                   : ZYDIS_MACHINE_MODE_LEGACY_32,
                                            base + off, code + off, n - off, &insn)))
        return 0;
    snprintf(buf, cap, "%s", insn.text);
    return insn.info.length;
}

static int zy_listing(FILE *out, const uint8_t *code, size_t n, uint64_t base, int mode64)
{
    size_t off = 0;
    char text[128];
    fprintf(out, "# disassembled by %s\n", zy_engine());
    while (off < n) {
        size_t len = zy_one(code, n, off, base, mode64, text, sizeof text);
        if (len == 0) {
            len = 1;
            snprintf(text, sizeof text, "(bad)");
        }
        fprintf(out, "%zx\t", (size_t)(base + off));
        put_bytes(out, code + off, len);
        fprintf(out, "\t%s\n", text);
        off += len;
    }
    return 0;
}

static int zy_each(const uint8_t *code, size_t n, uint64_t base, int mode64, dis_fn fn, void *ctx)
{
    size_t off = 0;
    char text[128];
    while (off < n) {
        size_t len = zy_one(code, n, off, base, mode64, text, sizeof text);
        if (len == 0) {
            len = 1;
            snprintf(text, sizeof text, "(bad)");
        }
        if (fn(ctx, base + off, len, text))
            break;
        off += len;
    }
    return 0;
}

#endif

/* -- objdump ---------------------------------------------------------------- */

#if defined(_WIN32)
static int od_listing(FILE *out, const uint8_t *code, size_t n, uint64_t base, int mode64)
{
    (void)out; (void)code; (void)n; (void)base; (void)mode64;
    fprintf(stderr, "%s: dis: this build has no disassembler (build with libzydis)\n", prog);
    return -1;
}

static size_t od_one(const uint8_t *code, size_t n, size_t off, uint64_t base, int mode64,
                     char *buf, size_t cap)
{
    (void)code; (void)n; (void)off; (void)base; (void)mode64; (void)buf; (void)cap;
    return 0;
}

static int od_each(const uint8_t *code, size_t n, uint64_t base, int mode64, dis_fn fn, void *ctx)
{
    (void)code; (void)n; (void)base; (void)mode64; (void)fn; (void)ctx;
    fprintf(stderr, "%s: dis: this build has no disassembler (build with libzydis)\n", prog);
    return -1;
}
#else

/* Run objdump on the bytes; call fn for each decoded line. */
typedef int (*line_fn)(void *ctx, uint64_t addr, const char *hex, const char *text);

static int run_objdump(const uint8_t *code, size_t n, uint64_t base, int mode64, line_fn fn,
                       void *ctx)
{
    char path[] = "/tmp/jitkit-dis-XXXXXX";
    char cmd[256], line[1024];
    int fd = mkstemp(path), rc = 0;
    FILE *p;
    if (fd < 0) {
        perror("jitkit: dis: mkstemp");
        return -1;
    }
    if (write(fd, code, n) != (ssize_t)n) {
        perror("jitkit: dis: write");
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    snprintf(cmd, sizeof cmd,
             "objdump -D -b binary -m %s -M intel -w --adjust-vma=0x%llx %s 2>&1",
             mode64 ? "i386:x86-64" : "i386", (unsigned long long)base, path);
    p = popen(cmd, "r");
    if (!p) {
        perror("jitkit: dis: objdump");
        unlink(path);
        return -1;
    }
    while (fgets(line, sizeof line, p)) {
        /* "   10:\tb8 78 56 34 12       \tmov    eax,0x12345678" */
        char *colon = strchr(line, ':'), *tab1, *tab2, *end;
        char hex[512];
        size_t hn = 0;
        unsigned long long addr;
        if (!colon || colon[1] != '\t')
            continue;
        addr = strtoull(line, &end, 16);
        if (end != colon)
            continue;
        tab1 = colon + 2;
        tab2 = strchr(tab1, '\t');
        for (char *q = tab1; *q && q != tab2 && hn + 1 < sizeof hex; q++)
            if (*q != ' ' && *q != '\n')
                hex[hn++] = *q;
        hex[hn] = '\0';
        if (tab2) {
            char *t = tab2 + 1, *w = t;
            size_t len = strlen(t);
            while (len && (t[len - 1] == '\n' || t[len - 1] == ' '))
                t[--len] = '\0';
            /* collapse objdump's column padding after the mnemonic */
            for (char *r = t; *r; r++) {
                if (*r == ' ' && r[1] == ' ')
                    continue;
                *w++ = *r;
            }
            *w = '\0';
            if (fn(ctx, addr, hex, t)) {
                rc = 1;
                break;
            }
        }
    }
    if (pclose(p) != 0 && rc == 0) {
        fprintf(stderr, "%s: dis: objdump failed (is GNU binutils installed?)\n", prog);
        rc = -1;
    }
    unlink(path);
    return rc < 0 ? -1 : 0;
}

static int print_line(void *ctx, uint64_t addr, const char *hex, const char *text)
{
    fprintf((FILE *)ctx, "%llx\t%s\t%s\n", (unsigned long long)addr, hex, text);
    return 0;
}

static int od_listing(FILE *out, const uint8_t *code, size_t n, uint64_t base, int mode64)
{
    fprintf(out, "# disassembled by objdump\n");
    return run_objdump(code, n, base, mode64, print_line, out);
}

typedef struct one_ctx {
    uint64_t want;
    char *buf;
    size_t cap, len;
} one_ctx;

static int find_line(void *ctx, uint64_t addr, const char *hex, const char *text)
{
    one_ctx *c = ctx;
    if (addr != c->want)
        return 0;
    snprintf(c->buf, c->cap, "%s", text);
    c->len = strlen(hex) / 2;
    return 1;
}

static size_t od_one(const uint8_t *code, size_t n, size_t off, uint64_t base, int mode64,
                     char *buf, size_t cap)
{
    one_ctx c;
    if (off >= n || cap == 0)
        return 0;
    c.want = base + off;
    c.buf = buf;
    c.cap = cap;
    c.len = 0;
    /* decode from the start so the instruction boundaries are the real ones */
    if (run_objdump(code, n, base, mode64, find_line, &c) != 0)
        return 0;
    return c.len;
}

typedef struct each_ctx {
    dis_fn fn;
    void *ctx;
} each_ctx;

static int each_line(void *ctx, uint64_t addr, const char *hex, const char *text)
{
    each_ctx *c = ctx;
    return c->fn(c->ctx, addr, strlen(hex) / 2, text);
}

static int od_each(const uint8_t *code, size_t n, uint64_t base, int mode64, dis_fn fn, void *ctx)
{
    each_ctx c;
    c.fn = fn;
    c.ctx = ctx;
    return run_objdump(code, n, base, mode64, each_line, &c);
}
#endif

/* -- Choice -------------------------------------------------------------- */

/* libzydis when built with it, unless JITKIT_DIS=objdump asks for the
 * fallback (tests use that to cover it). */
#ifdef JK_HAVE_ZYDIS
static int use_zydis(void)
{
    const char *e = getenv("JITKIT_DIS");
    return !(e && strcmp(e, "objdump") == 0);
}
#endif

const char *dis_engine(void)
{
#ifdef JK_HAVE_ZYDIS
    if (use_zydis())
        return zy_engine();
#endif
    return "objdump";
}

int dis_listing(FILE *out, const uint8_t *code, size_t n, uint64_t base, int mode64)
{
#ifdef JK_HAVE_ZYDIS
    if (use_zydis())
        return zy_listing(out, code, n, base, mode64);
#endif
    return od_listing(out, code, n, base, mode64);
}

size_t dis_one(const uint8_t *code, size_t n, size_t off, uint64_t base, int mode64, char *buf,
               size_t cap)
{
#ifdef JK_HAVE_ZYDIS
    if (use_zydis())
        return zy_one(code, n, off, base, mode64, buf, cap);
#endif
    return od_one(code, n, off, base, mode64, buf, cap);
}

int dis_each(const uint8_t *code, size_t n, uint64_t base, int mode64, dis_fn fn, void *ctx)
{
#ifdef JK_HAVE_ZYDIS
    if (use_zydis())
        return zy_each(code, n, base, mode64, fn, ctx);
#endif
    return od_each(code, n, base, mode64, fn, ctx);
}
