/*
 * lines.c - source line tables: checked and copied at registration, built
 * from the text assembler's statements, and written as DWARF 4 for gdb.
 *
 * A table is (offset, line) rows sorted by offset over one file. For gdb
 * each function with a table gets, in its in-memory object:
 *
 *   .debug_line    one line-number program unit: the header (version 4,
 *                  no include directories, the one file with directory
 *                  index 0 = the compile directory), then
 *                  DW_LNE_set_address(code), per row advance_line /
 *                  advance_pc / copy, advance_pc to the end,
 *                  DW_LNE_end_sequence
 *   .debug_info    one compile unit DIE without children, as GNU as -g
 *                  writes for assembler source: name, comp_dir, producer,
 *                  language Mips_Assembler, low_pc, high_pc (a length),
 *                  stmt_list
 *   .debug_abbrev  the one abbreviation that DIE uses
 *
 * gdb needs the compile unit to find the line program for a pc (it maps
 * [low_pc, high_pc) to the unit); the function's name still comes from
 * the ELF symbol. The standard opcodes are used rather than special ones:
 * tables are small and a line program's size is not worth optimizing.
 */
#include "debug/debug_p.h"

#include "jitkit/asm.h"

#include "core/error.h"
#include "core/fault.h"

#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#  include <direct.h>
static int cwd_of(char *buf, size_t cap)
{
    return _getcwd(buf, (int)cap) != NULL;
}
#else
#  include <unistd.h>
static int cwd_of(char *buf, size_t cap)
{
    return getcwd(buf, cap) != NULL;
}
#endif

/* -- Checking and copying --------------------------------------------------------- */

jk_status jk__lines_copy(jk__dbg_fn *f, const jk_debug_src *src, jk_error *err)
{
    size_t flen, dlen, bytes;
    const char *dir;
    char *mem;
    if (!src->file || !*src->file)
        return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: the line table has no file name");
    if (!src->lines || src->nlines == 0)
        return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: the line table has no rows");
    dir = src->comp_dir ? src->comp_dir : "";
    if (strpbrk(src->file, "\n\r") || strpbrk(dir, "\n\r"))
        return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: a line break in the file or "
                                        "directory name of the line table");
    for (size_t i = 0; i < src->nlines; i++) {
        const jk_debug_line *r = &src->lines[i];
        if (r->line == 0)
            return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: row %zu (offset %u) has "
                                            "line 0 (lines start at 1)", i, (unsigned)r->offset);
        if (r->offset >= f->size)
            return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: row %zu: offset %u is not "
                            "below the code size %zu", i, (unsigned)r->offset, f->size);
        if (i && r->offset <= src->lines[i - 1].offset)
            return jk__fail(err, JK_EINVAL, "jk_debug_register_ex: row %zu: offset %u after %u "
                            "(rows must be sorted by increasing offset)", i,
                            (unsigned)r->offset, (unsigned)src->lines[i - 1].offset);
    }
    flen = strlen(src->file) + 1;
    dlen = strlen(dir) + 1;
    if (src->nlines > (SIZE_MAX - flen - dlen) / sizeof(jk_debug_line))
        return jk__fail(err, JK_ENOMEM, "jk_debug_register_ex: out of memory");
    bytes = src->nlines * sizeof(jk_debug_line) + flen + dlen;
    mem = jk__malloc(bytes);
    if (!mem)
        return jk__fail(err, JK_ENOMEM, "jk_debug_register_ex: out of memory");
    f->lines = (jk_debug_line *)(void *)mem;
    memcpy(f->lines, src->lines, src->nlines * sizeof(jk_debug_line));
    f->nlines = src->nlines;
    mem += src->nlines * sizeof(jk_debug_line);
    memcpy(mem, src->file, flen);
    f->src_file = mem;
    memcpy(mem + flen, dir, dlen);
    f->src_dir = mem + flen;
    return JK_OK;
}

/* -- From the text assembler ---------------------------------------------------------- */

static int by_offset(const void *a, const void *b)
{
    const jk_debug_line *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int is_absolute(const char *p)
{
#if defined(_WIN32)
    if (p[0] && p[1] == ':')
        return 1;
    if (p[0] == '\\')
        return 1;
#endif
    return p[0] == '/';
}

jk_status jk_debug_lines_from_asm(const struct jk_asm *as, const char *file,
                                  jk_debug_src **out, jk_error *err)
{
    size_t n, rows = 0, flen, dlen = 0, head;
    char cwd[4096];
    jk_debug_line *t;
    jk_debug_src *s;
    char *mem;
    if (!out)
        return jk__fail(err, JK_EINVAL, "jk_debug_lines_from_asm: out is NULL");
    *out = NULL;
    if (!as || !file || !*file)
        return jk__fail(err, JK_EINVAL, "jk_debug_lines_from_asm: %s",
                        !as ? "the handle is NULL" : "no file name");
    n = jk_asm_stmt_count(as);
    if (n == 0)
        return jk__fail(err, JK_EINVAL, "jk_debug_lines_from_asm: no statements (the text "
                        "produced no bytes, or the handle was made without JK_ASM_LISTING)");
    cwd[0] = 0;
    if (!is_absolute(file) && file[0] != '<' && cwd_of(cwd, sizeof cwd))
        dlen = strlen(cwd) + 1;
    flen = strlen(file) + 1;
    if (n > (SIZE_MAX - sizeof *s - flen - dlen - 8) / sizeof *t)
        return jk__fail(err, JK_ENOMEM, "jk_debug_lines_from_asm: out of memory");
    head = (sizeof *s + 7) & ~(size_t)7;
    mem = jk__malloc(head + n * sizeof *t + flen + dlen);
    if (!mem)
        return jk__fail(err, JK_ENOMEM, "jk_debug_lines_from_asm: out of memory");
    s = (jk_debug_src *)(void *)mem;
    t = (jk_debug_line *)(void *)(mem + head);
    for (size_t i = 0; i < n; i++) {
        const jk_asm_stmt *st = jk_asm_stmt_at(as, i);
        if (!st || st->size == 0 || st->offset > UINT32_MAX)
            continue;
        t[rows].offset = (uint32_t)st->offset;
        t[rows].line = st->line ? st->line : 1;
        rows++;
    }
    /* data placed after the code (.section .data) comes in text order */
    qsort(t, rows, sizeof *t, by_offset);
    {
        size_t w = 0;
        for (size_t i = 0; i < rows; i++)
            if (w == 0 || t[w - 1].line != t[i].line)
                t[w++] = t[i];
        rows = w;
    }
    if (rows == 0) {
        jk__free(s);
        return jk__fail(err, JK_EINVAL, "jk_debug_lines_from_asm: no statement produced bytes");
    }
    mem += head + n * sizeof *t;
    memcpy(mem, file, flen);
    s->file = mem;
    s->comp_dir = NULL;
    if (dlen) {
        memcpy(mem + flen, cwd, dlen);
        s->comp_dir = mem + flen;
    }
    s->lines = t;
    s->nlines = rows;
    *out = s;
    return JK_OK;
}

void jk_debug_lines_free(jk_debug_src *src)
{
    jk__free(src);
}

/* -- DWARF ------------------------------------------------------------------------ */

enum {
    DW_LNS_copy = 1,
    DW_LNS_advance_pc = 2,
    DW_LNS_advance_line = 3,
    DW_LNE_end_sequence = 1,
    DW_LNE_set_address = 2,
    OPCODE_BASE = 13
};

/* A byte sink that only counts when p is NULL. */
typedef struct sink {
    uint8_t *p;
    size_t n;
} sink;

static void put(sink *s, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++, s->n++)
        if (s->p)
            s->p[s->n] = (uint8_t)(v >> (8 * i));
}

static void uleb(sink *s, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        put(s, v ? (uint8_t)(b | 0x80) : b, 1);
    } while (v);
}

static void sleb(sink *s, int64_t v)
{
    for (;;) {
        uint8_t b = (uint8_t)((uint64_t)v & 0x7f);
        int64_t rest = v >> 7; /* arithmetic on the compilers we build with */
        int done = (rest == 0 && !(b & 0x40)) || (rest == -1 && (b & 0x40));
        put(s, done ? b : (uint8_t)(b | 0x80), 1);
        if (done)
            return;
        v = rest;
    }
}

static void str(sink *s, const char *t)
{
    size_t n = strlen(t) + 1;
    if (s->p)
        memcpy(s->p + s->n, t, n);
    s->n += n;
}

static void line_unit(const jk__dbg_fn *f, unsigned ptr_size, sink *s)
{
    static const uint8_t lengths[OPCODE_BASE - 1] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
    size_t start = s->n, hdr;
    uint32_t line = 1, at = 0;
    put(s, 0, 4);                 /* unit_length, patched below */
    put(s, 4, 2);                 /* version */
    put(s, 0, 4);                 /* header_length, patched below */
    hdr = s->n;
    put(s, 1, 1);                 /* minimum_instruction_length */
    put(s, 1, 1);                 /* maximum_operations_per_instruction */
    put(s, 1, 1);                 /* default_is_stmt */
    put(s, (uint8_t)-5, 1);       /* line_base */
    put(s, 14, 1);                /* line_range */
    put(s, OPCODE_BASE, 1);
    for (size_t i = 0; i < sizeof lengths; i++)
        put(s, lengths[i], 1);
    put(s, 0, 1);                 /* no include_directories */
    str(s, f->src_file);          /* file 1 */
    uleb(s, 0);                   /* directory: the compile directory */
    uleb(s, 0);                   /* mtime */
    uleb(s, 0);                   /* length */
    put(s, 0, 1);                 /* end of file_names */
    if (s->p)
        put(&(sink){s->p, hdr - 4}, s->n - hdr, 4);
    put(s, 0, 1);                 /* DW_LNE_set_address */
    uleb(s, 1 + ptr_size);
    put(s, DW_LNE_set_address, 1);
    put(s, (uint64_t)(uintptr_t)f->code, ptr_size);
    for (size_t i = 0; i < f->nlines; i++) {
        const jk_debug_line *r = &f->lines[i];
        if (r->line != line) {
            put(s, DW_LNS_advance_line, 1);
            sleb(s, (int64_t)r->line - (int64_t)line);
            line = r->line;
        }
        if (r->offset != at) {
            put(s, DW_LNS_advance_pc, 1);
            uleb(s, r->offset - at);
            at = r->offset;
        }
        put(s, DW_LNS_copy, 1);
    }
    put(s, DW_LNS_advance_pc, 1);
    uleb(s, f->size - at);
    put(s, 0, 1);                 /* DW_LNE_end_sequence */
    uleb(s, 1);
    put(s, DW_LNE_end_sequence, 1);
    if (s->p)
        put(&(sink){s->p, start}, s->n - start - 4, 4);
}

size_t jk__dwarf_line_size(const jk__dbg_fn *f, unsigned ptr_size)
{
    sink s = {NULL, 0};
    line_unit(f, ptr_size, &s);
    return s.n;
}

void jk__dwarf_line_write(const jk__dbg_fn *f, unsigned ptr_size, uint8_t *dst)
{
    sink s = {dst, 0};
    line_unit(f, ptr_size, &s);
}

/* abbreviation 1: DW_TAG_compile_unit, no children */
const uint8_t jk__dwarf_abbrev[] = {
    1, 0x11, 0,
    0x03, 0x08,  /* DW_AT_name       DW_FORM_string */
    0x1b, 0x08,  /* DW_AT_comp_dir   DW_FORM_string */
    0x25, 0x08,  /* DW_AT_producer   DW_FORM_string */
    0x13, 0x05,  /* DW_AT_language   DW_FORM_data2 */
    0x11, 0x01,  /* DW_AT_low_pc     DW_FORM_addr */
    0x12, 0x07,  /* DW_AT_high_pc    DW_FORM_data8 (a length, DWARF 4) */
    0x10, 0x17,  /* DW_AT_stmt_list  DW_FORM_sec_offset */
    0, 0,
    0
};
const size_t jk__dwarf_abbrev_size = sizeof jk__dwarf_abbrev;

static void info_unit(const jk__dbg_fn *f, unsigned ptr_size, uint32_t line_off, sink *s)
{
    put(s, 0, 4);                 /* unit_length, patched below */
    put(s, 4, 2);                 /* version */
    put(s, 0, 4);                 /* debug_abbrev_offset */
    put(s, ptr_size, 1);
    uleb(s, 1);
    str(s, f->src_file);
    str(s, f->src_dir);
    str(s, "jitkit");
    put(s, 0x8001, 2);            /* DW_LANG_Mips_Assembler, as GNU as -g */
    put(s, (uint64_t)(uintptr_t)f->code, ptr_size);
    put(s, f->size, 8);
    put(s, line_off, 4);
    if (s->p)
        put(&(sink){s->p, 0}, s->n - 4, 4);
}

size_t jk__dwarf_info_size(const jk__dbg_fn *f, unsigned ptr_size)
{
    sink s = {NULL, 0};
    info_unit(f, ptr_size, 0, &s);
    return s.n;
}

void jk__dwarf_info_write(const jk__dbg_fn *f, unsigned ptr_size, uint32_t line_off,
                          uint8_t *dst)
{
    sink s = {dst, 0};
    info_unit(f, ptr_size, line_off, &s);
}
