/*
 * main.c - example_bf: run a Brainfuck program with the reference
 * interpreter or one of the two JITs.
 *
 *     example_bf [--interp|--naive|--opt] [--stats] FILE
 *
 * Input comes from stdin, output goes to stdout (binary on Windows, so the
 * bytes are the program's). --stats prints the compiler's counts and times
 * to stderr. Exit status: 0 when the program ran to its end, 1 for an error
 * (unreadable file, unmatched bracket, compile failure), 2 when the program
 * accessed a cell outside the tape, 64 for bad usage.
 */
#include "bf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#endif

static void write_stdout(void *user, const unsigned char *data, size_t n)
{
    (void)user;
    fwrite(data, 1, n, stdout);
}

static int read_stdin(void *user)
{
    (void)user;
    fflush(stdout);
    int c = getchar();
    return c == EOF ? -1 : c;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *mode = "opt", *path = NULL;
    int stats = 0, status = 1;
    char msg[256];
    size_t len = 0;
    char *src;
    bf_program prog;
    bf_tape tape;
    bf_outcome r;
    bf_io io = {write_stdout, read_stdin, NULL};

    int bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--interp") || !strcmp(argv[i], "--naive") ||
            !strcmp(argv[i], "--opt"))
            mode = argv[i] + 2;
        else if (!strcmp(argv[i], "--stats"))
            stats = 1;
        else if ((argv[i][0] == '-' && argv[i][1] != '\0') || path)
            bad = 1; /* an unknown option or a second file */
        else
            path = argv[i];
    }
    if (!path || bad) {
        fprintf(stderr, "usage: example_bf [--interp|--naive|--opt] [--stats] FILE\n");
        return 64;
    }
#if defined(_WIN32)
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stdin), _O_BINARY);
#endif
    src = read_file(path, &len);
    if (!src) {
        fprintf(stderr, "example_bf: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (bf_load(&prog, src, len, msg, sizeof msg) != 0) {
        fprintf(stderr, "example_bf: %s: %s\n", path, msg);
        free(src);
        return 1;
    }
    free(src);
    if (bf_tape_new(&tape, msg, sizeof msg) != 0) {
        fprintf(stderr, "example_bf: %s\n", msg);
        bf_program_free(&prog);
        return 1;
    }

    if (!strcmp(mode, "interp")) {
        double t0 = bf_now();
        r = bf_interp(&prog, &tape, &io);
        if (stats)
            fprintf(stderr, "interp: %zu commands, ran in %.3f s\n", prog.n, bf_now() - t0);
    } else {
        jk_heap *heap = NULL;
        jk_error err;
        bf_jit *jit = NULL;
        bf_stats st;
        if (jk_heap_new(&heap, NULL, &err) != JK_OK) {
            fprintf(stderr, "example_bf: code heap: %s\n", err.message);
            goto out;
        }
        if (bf_jit_compile(&prog, strcmp(mode, "naive") ? BF_JIT_OPT : BF_JIT_NAIVE, heap, &jit,
                           &st, msg, sizeof msg) != 0) {
            fprintf(stderr, "example_bf: %s: %s\n", path, msg);
            jk_heap_destroy(heap, NULL);
            goto out;
        }
        double t0 = bf_now();
        r = bf_jit_run(jit, &tape, &io, msg, sizeof msg);
        if (stats && !strcmp(mode, "naive"))
            fprintf(stderr, "naive: %zu commands -> %zu bytes of code in %.3f ms; ran in %.3f s\n",
                    st.commands, st.code_bytes, st.compile_s * 1e3, bf_now() - t0);
        else if (stats)
            fprintf(stderr,
                    "opt: %zu commands -> %zu bytes of code in %.3f ms; %zu clear, %zu "
                    "move/multiply, %zu scan loops recognised, %zu loops left; ran in %.3f s\n",
                    st.commands, st.code_bytes, st.compile_s * 1e3, st.clears, st.muls,
                    st.scans, st.loops, bf_now() - t0);
        bf_jit_free(jit);
        jk_heap_destroy(heap, NULL);
        if (r == BF_FAILED) {
            fprintf(stderr, "example_bf: %s\n", msg);
            goto out;
        }
    }
    fflush(stdout);
    if (r == BF_FAULT) {
        fprintf(stderr, "example_bf: %s: the program accessed a cell outside the tape "
                        "(cells 0 to %u)\n",
                path, BF_TAPE_CELLS - 1);
        status = 2;
    } else if (r == BF_FAILED) {
        fprintf(stderr, "example_bf: out of memory\n");
    } else {
        status = ferror(stdout) ? 1 : 0;
    }
out:
    bf_tape_free(&tape);
    bf_program_free(&prog);
    return status;
}
