/*
 * gdb.c - the GDB JIT interface: in-memory ELF objects, each describing
 * one function or a batch of them, linked into the list gdb reads from
 * __jit_debug_descriptor.
 *
 * The protocol (GDB manual, "JIT Compilation Interface"): the process
 * exports a descriptor {version 1, action, relevant entry, first entry} and
 * a function __jit_debug_register_code that gdb puts a breakpoint on. To
 * add an object, link its entry into the doubly-linked list, set action =
 * REGISTER and relevant = the entry, call the function; to remove one,
 * unlink it, set relevant = it and action = UNREGISTER, call. gdb reads
 * the object from our memory when it stops there. One global lock guards
 * the list for every registry in the process.
 *
 * The object of n functions is an ELF executable without program
 * headers, as gdb's BFD reads it:
 *
 *     ELF header | .eh_frame | .symtab | .strtab | .shstrtab | [DWARF] | section headers
 *     sections: [1..n]  .text       NOBITS, ALLOC+EXEC, addr = function i's
 *                                   code, its size (one each: the functions
 *                                   lie anywhere, and gdb maps a pc to a
 *                                   symbol through the section holding it)
 *               [n+1]   .eh_frame   PROGBITS, ALLOC, addr = where these bytes
 *                                   are; CIE + FDE per function with CFI,
 *                                   pc-relative addresses written for that
 *                                   place from the registry's copy of the
 *                                   instructions
 *               [n+2]   .symtab     null symbol + GLOBAL FUNC per function
 *               [n+3]   .strtab, [n+4] .shstrtab
 *               when a function has a line table also (lines.c)
 *               [n+5]   .debug_line, [n+6] .debug_info, [n+7] .debug_abbrev
 *
 * .text has no contents: gdb disassembles and sets breakpoints in the live
 * process's memory. Objects are never edited: when a member leaves, the
 * registry retires the object (its other members go back to the pending
 * list) and publishes a new one (debug.c decides when: at once, or at the
 * end of a batch).
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#include <string.h>

#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
static SRWLOCK gdb_lock = SRWLOCK_INIT;
#  define GDB_LOCK() AcquireSRWLockExclusive(&gdb_lock)
#  define GDB_UNLOCK() ReleaseSRWLockExclusive(&gdb_lock)
#else
#  include <pthread.h>
static pthread_mutex_t gdb_lock = PTHREAD_MUTEX_INITIALIZER;
#  define GDB_LOCK() pthread_mutex_lock(&gdb_lock)
#  define GDB_UNLOCK() pthread_mutex_unlock(&gdb_lock)
#endif

/* -- The interface (names and layout are gdb's) --------------------------------- */

enum { JIT_NOACTION = 0, JIT_REGISTER_FN = 1, JIT_UNREGISTER_FN = 2 };

struct jit_code_entry {
    struct jit_code_entry *next_entry;
    struct jit_code_entry *prev_entry;
    const char *symfile_addr;
    uint64_t symfile_size;
};

struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;
    struct jit_code_entry *relevant_entry;
    struct jit_code_entry *first_entry;
};

JK_API extern struct jit_descriptor __jit_debug_descriptor;
JK_API struct jit_descriptor __jit_debug_descriptor = {1, JIT_NOACTION, NULL, NULL};

#if defined(__GNUC__)
__attribute__((noinline, used))
#elif defined(_MSC_VER)
__declspec(noinline)
#endif
void __jit_debug_register_code(void)
{
    /* gdb's breakpoint lands here; the asm keeps the call from being
       folded away */
#if defined(__GNUC__)
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* -- The ELF image ------------------------------------------------------------------ */

static const char shstrtab[] =
    "\0.text\0.eh_frame\0.symtab\0.strtab\0.shstrtab\0.debug_line\0.debug_info\0.debug_abbrev";
enum {
    SH_TEXT = 1, SH_EH = 7, SH_SYMTAB = 17, SH_STRTAB = 25, SH_SHSTRTAB = 33,
    SH_LINE = 43, SH_INFO = 55, SH_ABBREV = 67
};

/* The members' CFI as a description jk_cfi_eh_frame can write (the
 * registry keeps a copy of the instructions, not the caller's jk_cfi). */
static void member_cfi(const jk__dbg_fn *f, jk_cfi *c)
{
    memset(c, 0, sizeof *c);
    c->arch = f->arch;
    c->started = c->ended = 1;
    c->size = f->cfi_size;
    c->ins = f->cfi_ins;
    c->len = f->cfi_len;
}

typedef struct layout {
    int is64;
    unsigned ps;           /* address size */
    size_t n;              /* members */
    int lines;             /* any member has a line table */
    unsigned nsect;
    size_t ehdr, shent, syment;
    size_t eh_cap, str_size, line_size, info_size;
    size_t off_eh, off_sym, off_str, off_shstr, off_line, off_info, off_abbrev, off_sh, total;
} layout;

static size_t al8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void make_layout(layout *l, const jk__dbg_fn *first, size_t n)
{
    const jk__cfi_arch_info *ai = jk__cfi_arch(first->arch);
    const jk__dbg_fn *f = first;
    l->is64 = ai ? ai->ptr_size == 8 : sizeof(void *) == 8;
    l->ps = l->is64 ? 8 : 4;
    l->n = n;
    l->ehdr = l->is64 ? 64 : 52;
    l->shent = l->is64 ? 64 : 40;
    l->syment = l->is64 ? 24 : 16;
    l->lines = 0;
    l->eh_cap = l->line_size = l->info_size = 0;
    l->str_size = 1;
    for (size_t i = 0; i < n; i++, f = f->gnext) {
        if (f->has_cfi) {
            jk_cfi c;
            member_cfi(f, &c);
            l->eh_cap += jk__eh_frame_size(&c);
        }
        l->str_size += strlen(f->name) + 1;
        if (f->lines) {
            l->lines = 1;
            l->line_size += jk__dwarf_line_size(f, l->ps);
            l->info_size += jk__dwarf_info_size(f, l->ps);
        }
    }
    l->nsect = (unsigned)(1 + n + 4 + (l->lines ? 3 : 0));
    l->off_eh = al8(l->ehdr);
    l->off_sym = al8(l->off_eh + l->eh_cap);
    l->off_str = l->off_sym + (n + 1) * l->syment;
    l->off_shstr = l->off_str + l->str_size;
    l->off_line = l->off_shstr + sizeof shstrtab;
    l->off_info = l->off_line + l->line_size;
    l->off_abbrev = l->off_info + l->info_size;
    l->off_sh = al8(l->off_abbrev + (l->lines ? jk__dwarf_abbrev_size : 0));
    l->total = l->off_sh + l->nsect * l->shent;
}

static void le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An address-sized field (Elf64_Addr/Off/Xword or their 32-bit forms). */
static void word(const layout *l, uint8_t *p, uint64_t v)
{
    le(p, v, l->is64 ? 8 : 4);
}

static void section(const layout *l, uint8_t *img, size_t idx, unsigned name, unsigned type,
                    uint64_t flags, uint64_t addr, uint64_t off, uint64_t size, size_t link,
                    unsigned info, uint64_t align, uint64_t entsize)
{
    uint8_t *s = img + l->off_sh + idx * l->shent;
    size_t w = l->is64 ? 8 : 4;
    le(s, name, 4);
    le(s + 4, type, 4);
    word(l, s + 8, flags);
    word(l, s + 8 + w, addr);
    word(l, s + 8 + 2 * w, off);
    word(l, s + 8 + 3 * w, size);
    le(s + 8 + 4 * w, link, 4);
    le(s + 12 + 4 * w, info, 4);
    word(l, s + 16 + 4 * w, align);
    word(l, s + 16 + 5 * w, entsize);
}

static unsigned host_machine(void)
{
#if defined(__aarch64__)
    return 183; /* EM_AARCH64 */
#elif defined(__x86_64__) || defined(_M_X64)
    return 62;
#else
    return 3;
#endif
}

/* Write the object of the n members from `first` (linked through gnext)
 * into img (l->total bytes). */
static void image_write(const layout *l, const jk__dbg_fn *first, uint8_t *img)
{
    const jk__cfi_arch_info *ai = jk__cfi_arch(first->arch);
    const jk__dbg_fn *f = first;
    size_t n = l->n, eh_at = 0, str_at = 1, line_at = 0, info_at = 0;
    size_t s_eh = n + 1, s_sym = n + 2, s_str = n + 3, s_shstr = n + 4;
    memset(img, 0, l->total);
    /* ELF header */
    memcpy(img, "\177ELF", 4);
    img[4] = (uint8_t)(l->is64 ? 2 : 1); /* ELFCLASS64 / 32 */
    img[5] = 1;                          /* little-endian */
    img[6] = 1;                          /* EV_CURRENT */
    le(img + 16, 2, 2);                  /* ET_EXEC */
    le(img + 18, ai ? ai->elf_machine : host_machine(), 2);
    le(img + 20, 1, 4);
    if (l->is64) {
        le(img + 40, l->off_sh, 8); /* e_shoff; e_entry, e_phoff 0 */
        le(img + 52, l->ehdr, 2);
        le(img + 58, l->shent, 2);
        le(img + 60, l->nsect, 2);
        le(img + 62, s_shstr, 2);
    } else {
        le(img + 32, l->off_sh, 4);
        le(img + 40, l->ehdr, 2);
        le(img + 46, l->shent, 2);
        le(img + 48, l->nsect, 2);
        le(img + 50, s_shstr, 2);
    }
    for (size_t i = 0; i < n; i++, f = f->gnext) {
        uint64_t code = (uint64_t)(uintptr_t)f->code;
        uint8_t *sym = img + l->off_sym + (i + 1) * l->syment;
        size_t nlen = strlen(f->name);
        /* .eh_frame: CIE + FDE per member, each written for the address
           it has here; the next one overwrites the terminator */
        if (f->has_cfi) {
            jk_cfi c;
            size_t sz = 0;
            member_cfi(f, &c);
            if (jk_cfi_eh_frame(&c, (uint64_t)(uintptr_t)(img + l->off_eh + eh_at), code,
                                f->size, img + l->off_eh + eh_at, l->eh_cap - eh_at, &sz,
                                NULL) == JK_OK)
                eh_at += sz - 4;
        }
        /* the symbol, in its own .text section */
        le(sym, str_at, 4);
        if (l->is64) {
            sym[4] = 0x12; /* STB_GLOBAL << 4 | STT_FUNC */
            le(sym + 6, i + 1, 2);
            le(sym + 8, code, 8);
            le(sym + 16, f->size, 8);
        } else {
            le(sym + 4, code, 4);
            le(sym + 8, f->size, 4);
            sym[12] = 0x12;
            le(sym + 14, i + 1, 2);
        }
        memcpy(img + l->off_str + str_at, f->name, nlen + 1);
        str_at += nlen + 1;
        section(l, img, i + 1, SH_TEXT, 8 /* NOBITS */, 0x6 /* ALLOC|EXECINSTR */, code,
                l->off_eh, f->size, 0, 0, 16, 0);
        if (f->lines) {
            jk__dwarf_line_write(f, l->ps, img + l->off_line + line_at);
            jk__dwarf_info_write(f, l->ps, (uint32_t)line_at, img + l->off_info + info_at);
            line_at += jk__dwarf_line_size(f, l->ps);
            info_at += jk__dwarf_info_size(f, l->ps);
        }
    }
    if (eh_at)
        eh_at += 4; /* the last terminator */
    memcpy(img + l->off_shstr, shstrtab, sizeof shstrtab);
    section(l, img, s_eh, SH_EH, 1 /* PROGBITS */, 0x2 /* ALLOC */,
            (uint64_t)(uintptr_t)(img + l->off_eh), l->off_eh, eh_at, 0, 0, 8, 0);
    section(l, img, s_sym, SH_SYMTAB, 2 /* SYMTAB */, 0, 0, l->off_sym, (n + 1) * l->syment,
            s_str, 1, 8, l->syment);
    section(l, img, s_str, SH_STRTAB, 3 /* STRTAB */, 0, 0, l->off_str, l->str_size, 0, 0, 1, 0);
    section(l, img, s_shstr, SH_SHSTRTAB, 3, 0, 0, l->off_shstr, sizeof shstrtab, 0, 0, 1, 0);
    if (l->lines) {
        memcpy(img + l->off_abbrev, jk__dwarf_abbrev, jk__dwarf_abbrev_size);
        section(l, img, n + 5, SH_LINE, 1, 0, 0, l->off_line, l->line_size, 0, 0, 1, 0);
        section(l, img, n + 6, SH_INFO, 1, 0, 0, l->off_info, l->info_size, 0, 0, 1, 0);
        section(l, img, n + 7, SH_ABBREV, 1, 0, 0, l->off_abbrev, jk__dwarf_abbrev_size, 0, 0,
                1, 0);
    }
}

/* -- Objects and their members ---------------------------------------------------- */

void jk__gdb_fork(int phase)
{
    if (phase == 0)
        GDB_LOCK();
    else
        GDB_UNLOCK();
}

void jk__gdb_link(jk__gdb_obj *o, jk__dbg_fn *f)
{
    f->gobj = o;
    f->gprev = NULL;
    f->gnext = o->first;
    if (o->first)
        o->first->gprev = f;
    o->first = f;
    o->n++;
}

void jk__gdb_unlink(jk__dbg_fn *f)
{
    jk__gdb_obj *o = f->gobj;
    if (!o)
        return;
    if (f->gprev)
        f->gprev->gnext = f->gnext;
    else
        o->first = f->gnext;
    if (f->gnext)
        f->gnext->gprev = f->gprev;
    f->gobj = NULL;
    f->gnext = f->gprev = NULL;
    o->n--;
}

static void notify(struct jit_code_entry *e, uint32_t action)
{
    __jit_debug_descriptor.relevant_entry = e;
    __jit_debug_descriptor.action_flag = action;
    __jit_debug_register_code();
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
}

/* Build and register one object from the first n members of `pending`.
 * Its members move from pending to it. */
static jk_status publish_one(jk__gdb_obj *pending, size_t n, jk_error *err)
{
    layout l;
    jk__gdb_obj *o;
    struct jit_code_entry *e;
    uint8_t *img;
    jk__dbg_fn *f = pending->first;
    make_layout(&l, pending->first, n);
    o = jk__calloc(1, sizeof *o);
    e = jk__calloc(1, sizeof *e);
    img = jk__malloc(l.total);
    if (!o || !e || !img) {
        jk__free(o);
        jk__free(e);
        jk__free(img);
        return jk__fail(err, JK_ENOMEM, "gdb: out of memory for the object of %zu function%s",
                        n, n == 1 ? "" : "s");
    }
    image_write(&l, pending->first, img);
    for (size_t i = 0; i < n; i++) {
        jk__dbg_fn *next = f->gnext;
        jk__gdb_unlink(f);
        jk__gdb_link(o, f);
        f = next;
    }
    o->entry = e;
    o->image = img;
    e->symfile_addr = (const char *)img;
    e->symfile_size = l.total;
    GDB_LOCK();
    e->next_entry = __jit_debug_descriptor.first_entry;
    if (e->next_entry)
        e->next_entry->prev_entry = e;
    __jit_debug_descriptor.first_entry = e;
    notify(e, JIT_REGISTER_FN);
    GDB_UNLOCK();
    return JK_OK;
}

jk_status jk__gdb_publish(jk__gdb_obj *pending, jk_error *err)
{
    while (pending->n) {
        /* one architecture per object (its ELF class and machine) */
        const jk__dbg_fn *f = pending->first;
        size_t n = 1;
        jk_status s;
        while (n < JK__GDB_OBJ_MAX && f->gnext && f->gnext->arch == f->arch) {
            f = f->gnext;
            n++;
        }
        s = publish_one(pending, n, err);
        if (s != JK_OK)
            return s;
    }
    return JK_OK;
}

void jk__gdb_retire(jk__gdb_obj *o, jk__gdb_obj *pending)
{
    struct jit_code_entry *e = o->entry;
    GDB_LOCK();
    /* unlink first, then tell gdb which entry went away */
    if (e->prev_entry)
        e->prev_entry->next_entry = e->next_entry;
    else
        __jit_debug_descriptor.first_entry = e->next_entry;
    if (e->next_entry)
        e->next_entry->prev_entry = e->prev_entry;
    notify(e, JIT_UNREGISTER_FN);
    __jit_debug_descriptor.relevant_entry = NULL;
    GDB_UNLOCK();
    while (o->first) {
        jk__dbg_fn *f = o->first;
        jk__gdb_unlink(f);
        if (pending)
            jk__gdb_link(pending, f);
    }
    jk__free(e);
    jk__free(o->image);
    jk__free(o);
}
