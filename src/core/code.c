/*
 * core/code.c - code buffer, symbols, fix-ups, branch relaxation, constant
 * pool, final image and relocation. Architecture-neutral: see code_p.h for
 * the model (raw vs final offsets, items, fixed-point layout).
 */
#include "core/code_p.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- Errors ------------------------------------------------------------- */

jk_status jk__code_fail(jk__code *c, jk_status s, const char *fmt, ...)
{
    va_list ap;
    if (c->err.status != JK_OK)
        return c->err.status;
    c->err.status = s;
    c->qlim = 0;
    c->err.os_error = 0;
    va_start(ap, fmt);
    vsnprintf(c->err.message, sizeof c->err.message, fmt, ap);
    va_end(ap);
    if (!c->err.message[0])
        snprintf(c->err.message, sizeof c->err.message, "%s", jk_status_str(s));
    c->err_insn = c->insn;
    c->err_off = c->len;
    return s;
}

/* -- Lifetime ------------------------------------------------------------ */

void jk__code_init(jk__code *c, unsigned addr_bytes)
{
    memset(c, 0, offsetof(jk__code, ibuf)); /* the inline storage needs no zeroes */
    c->addr_bytes = addr_bytes;
    c->nsyms = 1;
    c->buf = c->ibuf;
    c->cap = sizeof c->ibuf;
    jk__code_regate(c);
}

static void free_results(jk__code *c)
{
    if (c->out != c->iout)
        free(c->out);
    if (c->relocs != c->irel)
        free(c->relocs);
    c->out = NULL;
    c->relocs = NULL;
    c->out_len = 0;
    c->nrelocs = 0;
}

void jk__code_reset(jk__code *c)
{
    uint32_t i;
    for (i = 1; i < c->nsyms; i++)
        if (c->syms[i].name)
            free(c->syms[i].name);
    free_results(c);
    c->len = 0;
    c->nsyms = 1;
    c->nfixes = 0;
    c->nitems = 0;
    c->naligns = 0;
    c->nlong = 0;
    c->nderived = 0;
    c->nfar = 0;
    c->keep_long = NULL;
    c->nkeep = 0;
    c->pool_len = 0;
    c->pool_align = 0;
    c->npents = 0;
    c->finished = 0;
    c->insn = 0;
    c->err_insn = c->err_off = 0;
    memset(&c->err, 0, sizeof c->err);
    c->hold = 0;
    jk__code_regate(c);
}

void jk__code_free(jk__code *c)
{
    uint32_t i;
    for (i = 1; i < c->nsyms; i++)
        free(c->syms[i].name);
    free_results(c);
    if (c->buf != c->ibuf)
        free(c->buf);
    free(c->syms);
    free(c->fixes);
    free(c->items);
    free(c->pool);
    free(c->pents);
}

/* Grow *p (an array of *cap elements of `size`) to hold `need` elements:
 * by 4 from 16 KiB to 4 MiB, so a large assembly reallocates (and copies)
 * a third of what doubling would; doubling below and above. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;
    if (need <= *cap)
        return 1;
    while (n < need) {
        unsigned f = n * size < 16384 || n * size >= 4194304 ? 2u : 4u;
        if (n > ((size_t)-1) / f / size)
            return 0;
        n *= f;
    }
    q = realloc(*p, n * size);
    if (!q)
        return 0;
    *p = q;
    *cap = n;
    return 1;
}

jk_status jk__code_reserve_slow(jk__code *c, size_t need)
{
    if (c->err.status)
        return c->err.status;
    if (c->buf == c->ibuf) { /* out of the inline buffer */
        void *p = NULL;
        size_t cap = sizeof c->ibuf;
        if (need > ((size_t)-1) - c->len || !grow(&p, &cap, c->len + need, 1))
            return jk__code_fail(c, JK_ENOMEM,
                                 "out of memory growing the code buffer to %zu bytes",
                                 c->len + need);
        memcpy(p, c->ibuf, c->len);
        c->buf = p;
        c->cap = cap;
    } else if (need > ((size_t)-1) - c->len ||
               !grow((void **)&c->buf, &c->cap, c->len + need, 1)) {
        return jk__code_fail(c, JK_ENOMEM, "out of memory growing the code buffer to %zu bytes",
                             c->len + need);
    }
    jk__code_regate(c);
    return JK_OK;
}

/* -- Symbols ------------------------------------------------------------ */

static uint32_t new_sym(jk__code *c, uint8_t kind, const char *name)
{
    size_t cap = c->capsyms;
    jk__sym *s;
    if (c->err.status)
        return 0;
    if (c->finished) {
        jk__code_fail(c, JK_ESTATE, "cannot create labels after finish");
        return 0;
    }
    if (c->nsyms == UINT32_MAX || !grow((void **)&c->syms, &cap, (size_t)c->nsyms + 1, sizeof *s)) {
        jk__code_fail(c, JK_ENOMEM, "out of memory creating a label");
        return 0;
    }
    c->capsyms = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    s = &c->syms[c->nsyms];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (name) {
        size_t n = strlen(name);
        s->name = malloc(n + 1);
        if (!s->name) {
            jk__code_fail(c, JK_ENOMEM, "out of memory creating a label");
            return 0;
        }
        memcpy(s->name, name, n + 1);
    }
    return c->nsyms++;
}

uint32_t jk__code_label(jk__code *c, const char *name)
{
    jk__sym *s;
    if (name || c->nsyms >= c->capsyms || c->err.status || c->finished)
        return new_sym(c, JK__SYM_LOCAL, name);
    s = &c->syms[c->nsyms]; /* an unnamed label with room: no checks left */
    memset(s, 0, sizeof *s);
    s->kind = JK__SYM_LOCAL;
    return c->nsyms++;
}

uint32_t jk__code_label_abs(jk__code *c, uint64_t addr)
{
    uint32_t s = new_sym(c, JK__SYM_ABS, NULL);
    if (s)
        c->syms[s].addr = addr;
    return s;
}

uint32_t jk__code_label_extern(jk__code *c, const char *name)
{
    if (!name || !*name) {
        jk__code_fail(c, JK_EINVAL, "external symbol needs a name");
        return 0;
    }
    return new_sym(c, JK__SYM_EXTERN, name);
}

uint32_t jk__code_label_plus(jk__code *c, uint32_t base, int64_t addend)
{
    jk__sym *b;
    uint32_t s;
    if (c->err.status)
        return 0;
    if (c->finished) {
        jk__code_fail(c, JK_ESTATE, "cannot create labels after finish");
        return 0;
    }
    if (base == 0 || base >= c->nsyms) {
        jk__code_fail(c, JK_ELABEL, "label plus offset: label #%u does not exist",
                      (unsigned)base);
        return 0;
    }
    b = &c->syms[base];
    if (b->derived) { /* (x + a) + b = x + (a + b) */
        addend = (int64_t)((uint64_t)addend + (uint64_t)b->addend);
        base = b->base;
    }
    /* new_sym may move the array: no pointer into it across the call */
    switch (c->syms[base].kind) {
    case JK__SYM_ABS:
        return jk__code_label_abs(c, c->syms[base].addr + (uint64_t)addend);
    case JK__SYM_EXTERN:
        s = new_sym(c, JK__SYM_EXTERN, c->syms[base].name);
        break;
    default:
        s = new_sym(c, JK__SYM_LOCAL, c->syms[base].name);
        if (s) {
            c->syms[s].derived = 1;
            c->syms[s].base = base;
            c->nderived++;
        }
        break;
    }
    if (s)
        c->syms[s].addend = (int64_t)((uint64_t)c->syms[base].addend + (uint64_t)addend);
    return s;
}

/* Bind the derived labels from their bases (finish, after every bind). A
 * raw offset before the start of the code wraps; final offsets are computed
 * in ptrdiff_t arithmetic and distances in int64_t, so it still measures
 * right (a target before the code is legal for a relative branch). */
static jk_status bind_derived(jk__code *c)
{
    char tmp[80];
    uint32_t i;
    for (i = 1; i < c->nsyms; i++) {
        jk__sym *s = &c->syms[i];
        const jk__sym *b;
        if (!s->derived || s->bound) /* bound by an earlier layout of this code */
            continue;
        b = &c->syms[s->base];
        if (!b->bound) {
            if (!s->used)
                continue;
            return jk__code_fail(c, JK_ELABEL, "label %s never bound",
                                 jk__code_sym_name(c, s->base, tmp, sizeof tmp));
        }
        s->bound = 1;
        s->raw = (size_t)((uint64_t)b->raw + (uint64_t)s->addend);
        s->item = b->item; /* replaces base */
    }
    return JK_OK;
}

const char *jk__code_sym_name(const jk__code *c, uint32_t sym, char *tmp, size_t n)
{
    if (sym && sym < c->nsyms && c->syms[sym].name) {
        snprintf(tmp, n, "'%s'", c->syms[sym].name);
    } else {
        snprintf(tmp, n, "#%u", (unsigned)sym);
    }
    return tmp;
}

jk_status jk__code_check_sym(jk__code *c, uint32_t sym, const char *what)
{
    if (sym == 0 || sym >= c->nsyms)
        return jk__code_fail(c, JK_ELABEL, "%s: label #%u does not exist", what, (unsigned)sym);
    c->syms[sym].used = 1;
    return JK_OK;
}

jk_status jk__code_bind(jk__code *c, uint32_t sym)
{
    char tmp[80];
    jk__sym *s;
    if (c->err.status)
        return c->err.status;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot bind labels after finish");
    if (sym == 0 || sym >= c->nsyms)
        return jk__code_fail(c, JK_ELABEL, "bind: label #%u does not exist", (unsigned)sym);
    s = &c->syms[sym];
    if (s->kind != JK__SYM_LOCAL || s->derived)
        return jk__code_fail(c, JK_ELABEL, "bind: label %s is not a local label",
                             jk__code_sym_name(c, sym, tmp, sizeof tmp));
    if (s->bound)
        return jk__code_fail(c, JK_ELABEL, "bind: label %s is already bound",
                             jk__code_sym_name(c, sym, tmp, sizeof tmp));
    s->bound = 1;
    s->raw = c->len;
    s->item = c->nitems;
    return JK_OK;
}

/* -- Fix-ups and items ---------------------------------------------------- */

jk_status jk__code_fix(jk__code *c, unsigned kind, size_t field, size_t end, uint32_t sym,
                       int64_t addend)
{
    if (c->err.status)
        return c->err.status;
    if (!grow((void **)&c->fixes, &c->capfixes, c->nfixes + 1, sizeof(jk__fix)))
        return jk__code_fail(c, JK_ENOMEM, "out of memory recording a fix-up");
    jk__code_fix_put(c, kind, field, end, sym, addend);
    return JK_OK;
}

static jk__item *new_item(jk__code *c)
{
    size_t cap = c->capitems;
    jk__item *it;
    if (c->nitems == UINT32_MAX || !grow((void **)&c->items, &cap, (size_t)c->nitems + 1, sizeof *it)) {
        jk__code_fail(c, JK_ENOMEM, "out of memory recording a branch");
        return NULL;
    }
    c->capitems = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    it = &c->items[c->nitems++];
    memset(it, 0, sizeof *it);
    it->insn = c->insn;
    return it;
}

jk_status jk__code_branch(jk__code *c, size_t at, unsigned raw_len, uint32_t sym,
                          const uint8_t *long_opc, unsigned long_opc_len)
{
    jk__item *it;
    if (c->err.status)
        return c->err.status;
    if (long_opc_len > sizeof it->long_form - 1 || raw_len < 2)
        return jk__code_fail(c, JK_EINVAL, "internal: bad relaxable branch");
    it = new_item(c);
    if (!it)
        return c->err.status;
    it->kind = JK__ITEM_BRANCH;
    it->raw = at;
    it->raw_len = (uint8_t)raw_len;
    it->sym = sym;
    it->long_form[0] = (uint8_t)long_opc_len;
    memcpy(it->long_form + 1, long_opc, long_opc_len);
    /* A target outside this code is never known to be near. */
    it->is_long = c->syms[sym].kind != JK__SYM_LOCAL;
    c->nlong += it->is_long;
    return JK_OK;
}

jk_status jk__code_far(jk__code *c, size_t at, uint32_t sym, const uint8_t *long_opc,
                       unsigned long_opc_len)
{
    jk__item *it;
    if (c->err.status)
        return c->err.status;
    if (!c->far_fn || long_opc_len > sizeof it->long_form - 1)
        return jk__code_fail(c, JK_EINVAL, "internal: bad far branch");
    it = new_item(c);
    if (!it)
        return c->err.status;
    it->kind = JK__ITEM_FAR;
    it->raw = at;
    it->raw_len = (uint8_t)(long_opc_len + 4u);
    it->sym = sym;
    it->long_form[0] = (uint8_t)long_opc_len;
    memcpy(it->long_form + 1, long_opc, long_opc_len);
    c->nfar++;
    return JK_OK;
}

jk_status jk__code_branch_arch(jk__code *c, size_t at, unsigned raw_len, unsigned long_len,
                               uint32_t sym, uint8_t tag)
{
    jk__item *it;
    if (c->err.status)
        return c->err.status;
    if (!c->arch || raw_len == 0 || long_len < 4 || long_len - 4 > 255 || long_len <= raw_len)
        return jk__code_fail(c, JK_EINVAL, "internal: bad relaxable branch");
    it = new_item(c);
    if (!it)
        return c->err.status;
    it->kind = JK__ITEM_BRANCH;
    it->raw = at;
    it->raw_len = (uint8_t)raw_len;
    it->sym = sym;
    it->long_form[0] = (uint8_t)(long_len - 4);
    it->long_form[1] = tag;
    it->is_long = c->syms[sym].kind != JK__SYM_LOCAL;
    c->nlong += it->is_long;
    return JK_OK;
}

/* Write the items of a jk__arch_ops back end (see code_p.h) into the final
 * image: the stretch before each item, then the item itself. */

/* Padding an alignment item puts at offset `at`: to the next multiple of
 * its alignment, or none when that is more than its maximum skip. */
static size_t align_pad(const jk__item *it, size_t at)
{
    size_t pad = (size_t)(-at & (it->align - 1u));
    if (it->is_long && pad > (size_t)(it->long_form[0] | it->long_form[1] << 8))
        return 0;
    return pad;
}

/* Write an alignment item's padding: its fill byte, or the code filler. */
static void align_fill(const jk__item *it, jk__fill_fn fill, uint8_t *out, size_t n)
{
    if (it->long_form[2])
        memset(out, it->long_form[3], n);
    else
        fill(out, n);
}

static jk_status arch_items(jk__code *c, jk__fill_fn fill, size_t *psrc, size_t *pdst)
{
    char why[160], tmp[80];
    size_t src = 0, dst = 0;
    uint32_t i;
    for (i = 0; i < c->nitems; i++) {
        jk__item *it = &c->items[i];
        const jk__sym *s;
        size_t n = it->raw - src;
        int r;
        memcpy(c->out + dst, c->buf + src, n);
        dst += n;
        src = it->raw;
        if (it->kind == JK__ITEM_ALIGN) {
            size_t pad = align_pad(it, dst);
            align_fill(it, fill, c->out + dst, pad);
            dst += pad;
            continue;
        }
        s = &c->syms[it->sym];
        why[0] = 0;
        r = c->arch->item(c->out + dst, c->buf + it->raw, it, s->kind == JK__SYM_LOCAL,
                          s->kind == JK__SYM_LOCAL ? (int64_t)s->fin - (int64_t)dst : 0, why,
                          sizeof why);
        if (r < 0) {
            c->insn = it->insn;
            c->len = it->raw;
            return jk__code_fail(c, JK_ERANGE, "label %s: %s",
                                 jk__code_sym_name(c, it->sym, tmp, sizeof tmp), why);
        }
        if (r > 0) {
            jk__reloc *rl = &c->relocs[c->nrelocs++];
            rl->off = dst + (size_t)r;
            rl->end = rl->off;
            rl->sym = it->sym;
            rl->insn = it->insn;
            rl->kind = JK__FIX_ARCH;
            rl->far_item = 0;
            rl->addend = 0;
        }
        dst += it->size;
        src += it->raw_len;
    }
    *psrc = src;
    *pdst = dst;
    return JK_OK;
}

jk_status jk__code_align(jk__code *c, unsigned align)
{
    return jk__code_align_ex(c, align, JK__ALIGN_ANY, -1);
}

jk_status jk__code_align_ex(jk__code *c, unsigned align, unsigned max_skip, int fill)
{
    jk__item *it;
    if (c->err.status)
        return c->err.status;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot emit after finish");
    if (align == 0 || align > 4096 || (align & (align - 1)))
        return jk__code_fail(c, JK_EINVAL, "align: %u is not a power of two in 1..4096", align);
    if (align == 1)
        return JK_OK;
    it = new_item(c);
    if (!it)
        return c->err.status;
    it->kind = JK__ITEM_ALIGN;
    c->naligns++;
    it->raw = c->len;
    it->align = align;
    /* the other fields of an alignment item: long_form[0..1] the maximum
     * skip (is_long: there is one), [2] 1 for a byte fill, [3] the byte */
    if (max_skip < align) {
        it->is_long = 1;
        it->long_form[0] = (uint8_t)max_skip;
        it->long_form[1] = (uint8_t)(max_skip >> 8);
    }
    if (fill >= 0) {
        it->long_form[2] = 1;
        it->long_form[3] = (uint8_t)fill;
    }
    return JK_OK;
}

jk_status jk__code_bytes(jk__code *c, const void *data, size_t n)
{
    if (c->err.status)
        return c->err.status;
    if (c->finished)
        return jk__code_fail(c, JK_ESTATE, "cannot emit after finish");
    if (n && !data)
        return jk__code_fail(c, JK_EINVAL, "data: NULL pointer");
    if (jk__code_reserve(c, n))
        return c->err.status;
    if (n)
        memcpy(c->buf + c->len, data, n);
    c->len += n;
    return JK_OK;
}

/* -- Constant pool --------------------------------------------------------- */

uint32_t jk__code_const(jk__code *c, const void *data, size_t size, unsigned align)
{
    size_t i, off;
    uint32_t sym;
    if (c->err.status)
        return 0;
    if (c->finished) {
        jk__code_fail(c, JK_ESTATE, "cannot add constants after finish");
        return 0;
    }
    if (!data || size == 0 || size > (1u << 20)) {
        jk__code_fail(c, JK_EINVAL, "const: needs 1..1048576 bytes of data");
        return 0;
    }
    if (align == 0 || align > 64 || (align & (align - 1))) {
        jk__code_fail(c, JK_EINVAL, "const: alignment %u is not a power of two in 1..64", align);
        return 0;
    }
    for (i = 0; i < c->npents; i++) {
        struct jk__pool_ent *e = &c->pents[i];
        if (e->size == size && (e->off & (align - 1)) == 0 &&
            memcmp(c->pool + e->off, data, size) == 0)
            return e->sym;
    }
    off = (c->pool_len + align - 1) & ~(size_t)(align - 1);
    if (!grow((void **)&c->pool, &c->pool_cap, off + size, 1) ||
        !grow((void **)&c->pents, &c->cappents, c->npents + 1, sizeof *c->pents)) {
        jk__code_fail(c, JK_ENOMEM, "out of memory in the constant pool");
        return 0;
    }
    sym = jk__code_label(c, NULL);
    if (!sym)
        return 0;
    memset(c->pool + c->pool_len, 0, off - c->pool_len);
    memcpy(c->pool + off, data, size);
    c->pool_len = off + size;
    if (align > c->pool_align)
        c->pool_align = align;
    c->pents[c->npents].off = off;
    c->pents[c->npents].size = size;
    c->pents[c->npents].sym = sym;
    c->npents++;
    return sym;
}

/* -- Layout ------------------------------------------------------------- */

static ptrdiff_t shift_before(const jk__code *c, uint32_t item)
{
    return item ? c->items[item - 1].shift : 0;
}

static size_t sym_final(const jk__code *c, uint32_t sym)
{
    const jk__sym *s = &c->syms[sym];
    return (size_t)((ptrdiff_t)s->raw + shift_before(c, s->item));
}

static int fits8(int64_t v) { return v >= -128 && v <= 127; }
static int fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* One pass: sizes from the current branch states; returns final length. */
static size_t layout_pass(jk__code *c)
{
    ptrdiff_t shift = 0;
    uint32_t i;
    for (i = 0; i < c->nitems; i++) {
        jk__item *it = &c->items[i];
        size_t size, fin = (size_t)((ptrdiff_t)it->raw + shift);
        if (it->kind == JK__ITEM_ALIGN)
            size = align_pad(it, fin);
        else if (it->kind == JK__ITEM_FAR)
            size = it->is_long ? c->far_fn(NULL, it->long_form) : it->raw_len;
        else
            size = it->is_long ? (size_t)it->long_form[0] + 4u : it->raw_len;
        it->size = (uint8_t)(it->kind != JK__ITEM_ALIGN ? size : 0);
        shift += (ptrdiff_t)size - (ptrdiff_t)it->raw_len;
        it->shift = shift;
    }
    return (size_t)((ptrdiff_t)c->len + shift);
}

/* Without alignment items, one pass lays out and relaxes at once. Items go
 * in order; a backward target's final offset is exact (every item before it
 * is placed in this pass); a forward target's offset is taken under the
 * current sizes (placed items as decided now, the rest as in the last pass)
 * - sizes only grow, so a branch that does not reach with it never will. A
 * short forward branch stays "open" until its target: each later growth in
 * between eats its slack, and if one runs out the pass is not final
 * (*dirty). A pass that lengthens nothing, or whose decisions all still
 * hold, is final: fin/shift/size are then exact. The result is the same
 * fixed point as repeating layout_pass + check (the least one). */
#define RELAX_OPEN 64
static size_t relax_pass(jk__code *c, int first, int *changed, int *dirty)
{
    struct { uint32_t item; int32_t slack; } open[RELAX_OPEN];
    unsigned nopen = 0;
    ptrdiff_t shift = 0, prev = 0; /* prev: last pass's shift before item i */
    uint32_t i, n = c->nitems;
    *changed = *dirty = 0;
    for (i = 0; i < n; i++) {
        jk__item *it = &c->items[i];
        ptrdiff_t old = first ? 0 : it->shift;
        size_t size = it->raw_len, fin = (size_t)((ptrdiff_t)it->raw + shift);
        if (it->is_long) {
            size = (size_t)it->long_form[0] + 4u;
        } else {
            const jk__sym *s = &c->syms[it->sym];
            uint32_t t = s->item;
            ptrdiff_t tsh;
            int64_t d;
            if (t <= i) /* backward (or at this item): placed in this pass */
                tsh = t ? c->items[t - 1].shift : 0;
            else
                tsh = shift + (first ? 0 : c->items[t - 1].shift - prev);
            d = (int64_t)((ptrdiff_t)s->raw + tsh) - (int64_t)(fin + it->raw_len);
            if (d < -128 || d > 127) {
                unsigned g;
                it->is_long = 1;
                *changed = 1;
                size = (size_t)it->long_form[0] + 4u;
                g = (unsigned)(size - it->raw_len);
                if (!*dirty) {
                    unsigned k, m = 0;
                    for (k = 0; k < nopen; k++) {
                        if (open[k].item <= i)
                            continue; /* its target is behind: closed */
                        open[k].slack -= (int32_t)g;
                        if (open[k].slack < 0)
                            *dirty = 1;
                        open[m++] = open[k];
                    }
                    nopen = m;
                }
            } else if (t > i && !*dirty) {
                if (nopen == RELAX_OPEN) {
                    unsigned k, m = 0;
                    for (k = 0; k < nopen; k++)
                        if (open[k].item > i)
                            open[m++] = open[k];
                    nopen = m;
                }
                if (nopen == RELAX_OPEN) {
                    *dirty = 1;
                } else {
                    open[nopen].item = t;
                    open[nopen].slack = (int32_t)(127 - d);
                    nopen++;
                }
            }
        }
        it->size = (uint8_t)size;
        shift += (ptrdiff_t)size - (ptrdiff_t)it->raw_len;
        prev = old;
        it->shift = shift;
    }
    return (size_t)((ptrdiff_t)c->len + shift);
}

/* With alignment items (and with far items, whose size is decided at
 * copy), relaxation follows GNU as's order so that it
 * reaches the same fixed point (with padding, sizes are not monotone in
 * the branch states, so different orders can settle differently). The
 * first estimate is every branch short, padding computed from it. Each
 * pass then walks the items in order; `stretch` is how far this pass has
 * moved the current item from where the last pass put it. A target
 * already placed in this pass is exact; a later one is assumed to move by
 * the stretch as well - unless the stretch is positive and an alignment
 * lies in between, which is assumed to absorb it (then the target keeps
 * its last place, or, if that is behind the branch, follows the branch).
 * Padding is recomputed from its new place; branches only grow. Passes
 * repeat until one moves nothing. Returns 0 on out of memory. */
static int relax_aligned(jk__code *c, size_t *total)
{
    uint32_t *aligns; /* aligns[k]: alignment items among items[0..k-1] */
    uint32_t i, n = c->nitems;
    int changed;
    ptrdiff_t shift = 0;
    aligns = malloc(((size_t)n + 1) * sizeof *aligns);
    if (!aligns) {
        jk__code_fail(c, JK_ENOMEM, "out of memory laying out the code");
        return 0;
    }
    aligns[0] = 0;
    for (i = 0; i < n; i++)
        aligns[i + 1] = aligns[i] + (c->items[i].kind == JK__ITEM_ALIGN);
    layout_pass(c);
    do {
        ptrdiff_t prev = 0; /* the last pass's shift before item i */
        shift = 0;
        changed = 0;
        for (i = 0; i < n; i++) {
            jk__item *it = &c->items[i];
            ptrdiff_t old = it->shift, stretch = shift - prev;
            size_t size, fin = (size_t)((ptrdiff_t)it->raw + shift);
            if (it->kind == JK__ITEM_ALIGN) {
                size = align_pad(it, fin);
            } else if (it->kind == JK__ITEM_FAR) {
                size = it->is_long ? c->far_fn(NULL, it->long_form) : it->raw_len;
            } else if (it->is_long) {
                size = (size_t)it->long_form[0] + 4u;
            } else {
                const jk__sym *s = &c->syms[it->sym];
                uint32_t t = s->item;
                int64_t target, d;
                if (t <= i) {
                    target = (int64_t)((ptrdiff_t)s->raw + (t ? c->items[t - 1].shift : 0));
                } else {
                    target = (int64_t)((ptrdiff_t)s->raw + c->items[t - 1].shift);
                    if (stretch == 0)
                        ;
                    else if (stretch < 0 || aligns[t] == aligns[i + 1])
                        target += stretch;
                    else if (target < (int64_t)fin)
                        target = (int64_t)((ptrdiff_t)it->raw + it->raw_len + old) + stretch;
                }
                d = target - (int64_t)(fin + it->raw_len);
                size = it->raw_len;
                if (c->arch ? !c->arch->reach(it, d + it->raw_len) : !fits8(d)) {
                    it->is_long = 1;
                    size = (size_t)it->long_form[0] + 4u;
                }
                it->size = (uint8_t)size;
            }
            shift += (ptrdiff_t)size - (ptrdiff_t)it->raw_len;
            if (shift != old)
                changed = 1;
            prev = old;
            it->shift = shift;
        }
    } while (changed);
    free(aligns);
    *total = (size_t)((ptrdiff_t)c->len + shift);
    return 1;
}

size_t jk__code_long_branches(const jk__code *c, uint8_t *bits, size_t nbytes)
{
    size_t k = 0;
    uint32_t i;
    for (i = 0; i < c->nitems; i++) {
        const jk__item *it = &c->items[i];
        if (it->kind != JK__ITEM_BRANCH)
            continue;
        if (it->is_long && k / 8 < nbytes)
            bits[k / 8] |= (uint8_t)(1u << (k % 8));
        k++;
    }
    return k;
}

void jk__code_keep_long(jk__code *c, const uint8_t *bits, size_t nbytes)
{
    c->keep_long = bits;
    c->nkeep = nbytes;
}

/* Copy n bytes in 32-byte pieces: may write up to 31 bytes past dst + n and
 * read as far past src + n (both buffers keep that slack). */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t n)
{
    while (n > 32) {
        memcpy(dst, src, 32);
        dst += 32;
        src += 32;
        n -= 32;
    }
    memcpy(dst, src, 32);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static jk_status lay_out(jk__code *c, size_t *size);

jk_status jk__code_finish(jk__code *c, jk__fill_fn fill, size_t *size)
{
    if (c->err.status)
        return c->err.status;
    if (c->finished) {
        if (size)
            *size = c->out_len;
        return JK_OK;
    }
    c->code_len = c->len;
    c->code_items = c->nitems;
    c->code_naligns = c->naligns;
    c->fill = fill;
    return lay_out(c, size);
}

/* A copy turned far items far: back to the code's extent before the pool
 * and its slots, and lay it out again with the items' current states. */
static jk_status relay_out(jk__code *c)
{
    c->len = c->code_len;
    c->nitems = c->code_items;
    c->naligns = c->code_naligns;
    c->finished = 0;
    return lay_out(c, NULL);
}

/* Place the pool and the far slots, relax, build the image. */
static jk_status lay_out(jk__code *c, size_t *size)
{
    char tmp[80];
    uint32_t i, nslots = 0, slot = 0;
    size_t k, total, src, dst, slots_fin = 0;
    int changed;
    /* Place the constant pool after the code. */
    if (c->npents) {
        size_t base;
        if (jk__code_align(c, c->pool_align < 8 ? 8 : c->pool_align))
            return c->err.status;
        base = c->len;
        if (jk__code_bytes(c, c->pool, c->pool_len))
            return c->err.status;
        for (k = 0; k < c->npents; k++) {
            jk__sym *s = &c->syms[c->pents[k].sym];
            s->bound = 1;
            s->raw = base + c->pents[k].off;
            s->item = c->nitems;
        }
    }
    /* After the pool: an 8-byte slot for each far item that is far */
    for (i = 0; c->nfar && i < c->nitems; i++)
        nslots += c->items[i].kind == JK__ITEM_FAR && c->items[i].is_long;
    if (nslots) {
        static const uint8_t zero8[8];
        if (jk__code_align(c, 8))
            return c->err.status;
        c->slot_raw = c->len;
        for (i = 0; i < nslots; i++)
            if (jk__code_bytes(c, zero8, 8))
                return c->err.status;
    }
    if (c->nderived && bind_derived(c))
        return c->err.status;
    /* Referenced local labels must be bound. */
    for (i = 1; i < c->nsyms; i++) {
        if (c->syms[i].used && c->syms[i].kind == JK__SYM_LOCAL && !c->syms[i].bound)
            return jk__code_fail(c, JK_ELABEL, "label %s never bound",
                                 jk__code_sym_name(c, i, tmp, sizeof tmp));
    }
    if (c->keep_long) { /* branches long in an earlier pass of the front end */
        size_t nb = 0;
        for (i = 0; i < c->nitems && nb < 8 * c->nkeep; i++) {
            jk__item *it = &c->items[i];
            if (it->kind != JK__ITEM_BRANCH)
                continue;
            if (!it->is_long && (c->keep_long[nb / 8] >> (nb % 8) & 1u)) {
                it->is_long = 1;
                c->nlong++;
            }
            nb++;
        }
    }
    /* Relax to a fixed point: short first, lengthen what does not reach. */
    if (c->naligns == 0 && c->nfar == 0 && !c->arch) {
        /* a target outside (long from the start): the first pass needs shifts */
        int first = c->nlong == 0, dirty;
        if (!first)
            layout_pass(c);
        do {
            total = relax_pass(c, first, &changed, &dirty);
            first = 0;
        } while (changed && dirty);
    } else if (!relax_aligned(c, &total)) {
        return c->err.status;
    }
    for (i = 1; i < c->nsyms; i++)
        if (c->syms[i].kind == JK__SYM_LOCAL && c->syms[i].bound)
            c->syms[i].fin = sym_final(c, i);
    if (nslots)
        slots_fin = (size_t)((ptrdiff_t)c->slot_raw + c->items[c->nitems - 1].shift);

    free_results(c);
    /* 32 bytes of slack behind both buffers for copy_run */
    if (jk__code_reserve(c, 32))
        return c->err.status;
    c->out = total + 32 <= sizeof c->iout ? c->iout : malloc(total + 32);
    c->relocs = c->nfixes + c->nitems + 1 <= sizeof c->irel / sizeof c->irel[0]
                    ? c->irel
                    : malloc((c->nfixes + c->nitems + 1) * sizeof *c->relocs);
    if (!c->out || !c->relocs) {
        free_results(c);
        return jk__code_fail(c, JK_ENOMEM, "out of memory for the final code (%zu bytes)", total);
    }
    /* Copy the stretches between items and write the items: a short
     * branch goes with the stretch before it, then gets its rel8. */
    src = dst = 0;
    if (c->arch && arch_items(c, c->fill, &src, &dst)) {
        free_results(c);
        return c->err.status;
    }
    for (i = 0; !c->arch && i < c->nitems; i++) {
        jk__item *it = &c->items[i];
        size_t n = it->raw - src;
        if (it->kind == JK__ITEM_BRANCH && !it->is_long) {
            n += it->raw_len;
            copy_run(c->out + dst, c->buf + src, n);
            dst += n;
            src += n;
            c->out[dst - 1] = (uint8_t)((int64_t)c->syms[it->sym].fin - (int64_t)dst);
            continue;
        }
        copy_run(c->out + dst, c->buf + src, n);
        dst += n;
        src = it->raw;
        if (it->kind == JK__ITEM_ALIGN) {
            size_t pad = align_pad(it, dst);
            align_fill(it, c->fill, c->out + dst, pad);
            dst += pad;
        } else if (it->kind == JK__ITEM_FAR) {
            jk__reloc *r = &c->relocs[c->nrelocs++];
            r->sym = it->sym;
            r->insn = it->insn;
            r->addend = 0;
            if (!it->is_long) { /* near: a rel32 that copy checks */
                unsigned ol = it->long_form[0];
                memcpy(c->out + dst, it->long_form + 1, 3);
                r->off = dst + ol;
                r->end = dst + ol + 4u;
                r->kind = JK__FIX_REL32;
                r->far_item = i + 1;
                jk__put_le32(c->out + r->off, 0);
                dst += ol + 4u;
            } else { /* far: through its slot, which holds the address */
                unsigned fl = c->far_fn(c->out + dst, it->long_form);
                size_t at = slots_fin + 8u * slot++;
                jk__put_le32(c->out + dst + fl - 4, (uint32_t)(at - (dst + fl)));
                r->off = at;
                r->end = at + 8u;
                r->kind = JK__FIX_ABS64;
                r->far_item = 0;
                dst += fl;
            }
            src += it->raw_len;
        } else {
            unsigned ol = it->long_form[0];
            size_t end = dst + ol + 4u;
            memcpy(c->out + dst, it->long_form + 1, 3); /* the slack covers ol < 3 */
            if (c->syms[it->sym].kind == JK__SYM_LOCAL) {
                jk__put_le32(c->out + dst + ol,
                         (uint32_t)((int64_t)c->syms[it->sym].fin - (int64_t)end));
            } else {
                jk__reloc *r = &c->relocs[c->nrelocs++];
                r->off = dst + ol;
                r->end = end;
                r->sym = it->sym;
                r->insn = it->insn;
                r->kind = JK__FIX_REL32;
                r->far_item = 0;
                r->addend = 0;
                jk__put_le32(c->out + r->off, 0);
            }
            dst = end;
            src += it->raw_len;
        }
    }
    memcpy(c->out + dst, c->buf + src, c->len - src);
    dst += c->len - src;
    JK_ASSERT(dst == total);
    c->out_len = total;

    /* Resolve fix-ups against local labels; keep the rest as relocations. */
    for (k = 0; k < c->nfixes; k++) {
        const jk__fix *f = &c->fixes[k];
        const jk__sym *s = &c->syms[f->sym];
        ptrdiff_t sh = shift_before(c, f->item);
        size_t off = (size_t)((ptrdiff_t)f->raw + sh);
        size_t end = (size_t)((ptrdiff_t)f->end + sh);
        int rel = f->kind == JK__FIX_REL8 || f->kind == JK__FIX_REL32;
        if (f->kind == JK__FIX_ARCH && s->kind == JK__SYM_LOCAL) {
            char why[160];
            int r;
            why[0] = 0;
            r = c->arch->patch(c->out + off, s->fin + (uint64_t)f->addend, off, 0, why,
                               sizeof why);
            if (r < 0) {
                c->insn = f->insn;
                c->len = f->raw;
                free_results(c);
                return jk__code_fail(c, JK_ERANGE, "label %s: %s",
                                     jk__code_sym_name(c, f->sym, tmp, sizeof tmp), why);
            }
            if (r == 0)
                continue;
        }
        if (rel && s->kind == JK__SYM_LOCAL) {
            int64_t d = (int64_t)s->fin + f->addend - (int64_t)end;
            if (f->kind == JK__FIX_REL8 && !fits8(d)) {
                c->insn = f->insn;
                c->len = f->raw;
                return jk__code_fail(c, JK_ERANGE,
                                     "label %s is %lld bytes away: out of rel8 range",
                                     jk__code_sym_name(c, f->sym, tmp, sizeof tmp), (long long)d);
            }
            if (!fits32(d)) {
                c->insn = f->insn;
                return jk__code_fail(c, JK_ERANGE, "label %s out of rel32 range",
                                     jk__code_sym_name(c, f->sym, tmp, sizeof tmp));
            }
            put_le(c->out + off, (uint64_t)d, f->kind == JK__FIX_REL8 ? 1 : 4);
        } else {
            jk__reloc *r = &c->relocs[c->nrelocs++];
            r->off = off;
            r->end = end;
            r->sym = f->sym;
            r->insn = f->insn;
            r->kind = f->kind;
            r->far_item = 0;
            r->addend = f->addend;
        }
    }
    c->finished = 1;
    jk__code_regate(c);
    if (size)
        *size = total;
    return JK_OK;
}

/* The image at out with its relocations applied for runtime; a far item's
 * rel32 that does not reach turns the item far (*grew) instead of failing. */
static jk_status apply_relocs(jk__code *c, uint8_t *out, uint64_t runtime, int *grew)
{
    char tmp[80];
    size_t k;
    const jk__reloc *r = NULL;
    jk_status st;
    memcpy(out, c->out, c->out_len);
    for (k = 0; k < c->nrelocs; k++) {
        const jk__sym *s;
        uint64_t target;
        r = &c->relocs[k];
        s = &c->syms[r->sym];
        if (s->kind == JK__SYM_LOCAL) {
            target = runtime + s->fin;
        } else if (s->kind == JK__SYM_ABS) {
            target = s->addr;
        } else {
            int found = 0;
            target = c->resolve ? c->resolve(c->resolve_ctx, s->name, &found) : 0;
            if (!found) {
                st = jk__code_fail(c, JK_ELABEL, "external symbol %s not resolved",
                                   jk__code_sym_name(c, r->sym, tmp, sizeof tmp));
                goto fail;
            }
            target += (uint64_t)s->addend;
        }
        target += (uint64_t)r->addend;
        switch (r->kind) {
        case JK__FIX_REL32: {
            int64_t d = (int64_t)(target - (runtime + r->end));
            /* with 32-bit addresses every target is in reach: the sum wraps */
            if (c->addr_bytes == 4)
                d = (int32_t)(uint32_t)(uint64_t)d;
            if (!fits32(d) && r->far_item) {
                c->items[r->far_item - 1].is_long = 1;
                *grew = 1;
                break;
            }
            if (!fits32(d)) {
                st = jk__code_fail(c, JK_ENOTNEAR,
                                   "%s at 0x%llx is out of rel32 reach of the code at 0x%llx",
                                   jk__code_sym_name(c, r->sym, tmp, sizeof tmp),
                                   (unsigned long long)target, (unsigned long long)runtime);
                goto fail;
            }
            put_le(out + r->off, (uint64_t)d, 4);
            break;
        }
        case JK__FIX_ABS32:
            if (target > UINT32_MAX && !((int64_t)target < 0 && (int64_t)target >= INT32_MIN)) {
                st = jk__code_fail(c, JK_ERANGE, "address of %s does not fit 32 bits",
                                   jk__code_sym_name(c, r->sym, tmp, sizeof tmp));
                goto fail;
            }
            put_le(out + r->off, target, 4);
            break;
        case JK__FIX_ABS64:
            put_le(out + r->off, target, 8);
            break;
        case JK__FIX_ARCH: {
            char why[160];
            why[0] = 0;
            if (c->arch->patch(out + r->off, target, runtime + r->off, 1, why, sizeof why)) {
                st = jk__code_fail(c, JK_ENOTNEAR, "%s at 0x%llx: %s",
                                   jk__code_sym_name(c, r->sym, tmp, sizeof tmp),
                                   (unsigned long long)target, why);
                goto fail;
            }
            break;
        }
        case JK__FIX_ABS32S:
        case JK__FIX_ABS32U: {
            int sx = r->kind == JK__FIX_ABS32S;
            if (sx ? (int64_t)target < INT32_MIN || (int64_t)target > INT32_MAX
                   : target > UINT32_MAX) {
                st = jk__code_fail(c, JK_ERANGE,
                                   "label %s address 0x%llx does not fit a %s-extended "
                                   "imm32/disp32",
                                   jk__code_sym_name(c, r->sym, tmp, sizeof tmp),
                                   (unsigned long long)target, sx ? "sign" : "zero");
                goto fail;
            }
            put_le(out + r->off, target, 4);
            break;
        }
        default:
            st = jk__code_fail(c, JK_ERANGE, "%s: rel8 to a symbol outside the code",
                               jk__code_sym_name(c, r->sym, tmp, sizeof tmp));
            goto fail;
        }
    }
    return JK_OK;
fail:
    /* the error belongs to the relocation's instruction, at its field's
     * final offset */
    c->err_insn = r->insn;
    c->err_off = r->off;
    return st;
}

jk_status jk__code_copy_fit(jk__code *c, void *dst, size_t cap, uint64_t runtime, size_t *need)
{
    jk_status st;
    *need = 0;
    if (c->err.status)
        return c->err.status;
    if (!c->finished)
        return jk__code_fail(c, JK_ESTATE, "copy: not finished");
    if (!dst)
        return jk__code_fail(c, JK_EINVAL, "copy: NULL destination");
    /* each round turns at least one more far item far, which stays far */
    for (;;) {
        int grew = 0;
        if (cap < c->out_len) {
            *need = c->out_len;
            return JK_ENOSPACE;
        }
        st = apply_relocs(c, dst, runtime, &grew);
        if (st || !grew)
            return st;
        if ((st = relay_out(c)) != JK_OK)
            return st;
    }
}

jk_status jk__code_copy(jk__code *c, void *dst, size_t cap, uint64_t runtime)
{
    size_t need;
    jk_status st = jk__code_copy_fit(c, dst, cap, runtime, &need);
    if (st == JK_ENOSPACE)
        return jk__code_fail(c, JK_ENOSPACE, "copy: %zu bytes needed, %zu available", need, cap);
    return st;
}
