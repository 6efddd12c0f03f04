/*
 * core/code_p.h - the architecture-neutral half of an assembler: code
 * buffer, symbols (labels, absolute addresses, external names), fix-ups,
 * relaxable branches, alignment, constant pool, layout and relocation.
 * Private; an architecture back end (src/x86/) embeds a jk__code and feeds
 * it. Nothing here knows an instruction set: the back end describes a
 * relaxable branch by its short and long byte forms and supplies the
 * padding filler.
 *
 * Two coordinate systems:
 *
 *   raw   offsets in the buffer as emitted: relaxable branches in their
 *         short form, alignment padding absent
 *   final offsets in the finished code, after layout
 *
 * Variable-size spots are "items" (a branch that may grow, an alignment
 * pad). Everything between two items keeps its shape, so a raw offset maps
 * to a final one by adding the growth of the items before it:
 *
 *     raw:    [ code ][jmp8][ code ][align][ code ]
 *     final:  [ code ][jmp  32][ code ][pad ][ code ]
 *                              ^ shift = +3   ^ shift = +3 + pad
 *
 * Layout starts with every branch short and lengthens any branch that does
 * not reach, repeating until nothing changes (GNU as does the same). Sizes
 * only grow, so it terminates.
 *
 * Errors are sticky: jk__code_fail records the first one with the index of
 * the instruction and the raw offset; later calls are no-ops.
 */
#ifndef JK_CORE_CODE_P_H
#define JK_CORE_CODE_P_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { JK__SYM_LOCAL, JK__SYM_ABS, JK__SYM_EXTERN };
/* ABS32: any 32-bit address (32-bit code); ABS32S / ABS32U: the address
 * must fit a sign- / zero-extended 32-bit field (64-bit code). */
enum { JK__FIX_REL8, JK__FIX_REL32, JK__FIX_ABS32, JK__FIX_ABS64, JK__FIX_ABS32S, JK__FIX_ABS32U,
       JK__FIX_ARCH /* a field inside an instruction word, patched by the back end's
                       jk__arch_ops.patch; raw is the instruction's offset */ };
/* JK__ITEM_FAR: a rel32 call/jmp/jcc to a symbol outside the code (an
 * absolute address, an external name) whose reach is known only at copy:
 * near (the opcode and rel32 as emitted) or, once a copy found it out of
 * reach, far - the back end's indirect form through an 8-byte slot placed
 * after the code (jk__far_fn). is_long means far. */
enum { JK__ITEM_BRANCH, JK__ITEM_ALIGN, JK__ITEM_FAR };

typedef struct jk__sym {
    uint8_t kind;
    uint8_t bound;
    uint8_t used;
    uint8_t derived;  /* JK__SYM_LOCAL standing `addend` bytes from label `base`;
                         bound from it at finish */
    union {
        uint32_t item;  /* number of items emitted before the bind */
        uint32_t base;  /* derived, until bound: the label it is measured from */
    };
    size_t raw;       /* raw offset of the bind */
    size_t fin;       /* final offset (after layout) */
    union {
        uint64_t addr;  /* JK__SYM_ABS: the address */
        int64_t addend; /* derived / JK__SYM_EXTERN: bytes past the base / the symbol */
    };
    char *name;       /* owned; may be NULL */
} jk__sym;

typedef struct jk__fix {
    size_t raw;       /* raw offset of the field */
    size_t end;       /* raw offset a relative field is measured from */
    uint32_t item;    /* items before the instruction */
    uint32_t sym;
    uint32_t insn;    /* instruction index, for messages */
    uint8_t kind;     /* JK__FIX_* */
    int64_t addend;
} jk__fix;

typedef struct jk__item jk__item;
struct jk__item {
    size_t raw;         /* raw offset */
    ptrdiff_t shift;    /* total growth up to and including this item (layout) */
    union {
        uint32_t sym;   /* JK__ITEM_BRANCH: the target */
        uint32_t align; /* JK__ITEM_ALIGN: the alignment */
    };
    uint32_t insn;
    uint8_t kind;
    uint8_t raw_len;    /* short form length (branch) / 0 (align) */
    uint8_t size;       /* current size in the layout */
    uint8_t is_long;
    uint8_t long_form[4]; /* long form: opcode length (<= 3), opcode bytes
                             (JK__ITEM_FAR: the near form's) */
};

/* A relocation left for install time (address-dependent). */
typedef struct jk__reloc {
    size_t off;       /* final offset of the field */
    size_t end;       /* final offset a relative field is measured from */
    uint32_t sym;
    uint32_t insn;    /* instruction index, for messages */
    uint8_t kind;
    uint32_t far_item; /* 1 + index of the JK__ITEM_FAR this rel32 belongs to, or 0 */
    int64_t addend;
} jk__reloc;

typedef void (*jk__fill_fn)(uint8_t *dst, size_t n);
/* The far form of a JK__ITEM_FAR whose near form is long_form: written at
 * dst (when not NULL) with a zero 32-bit slot displacement as its last four
 * bytes, relative to the end of the form; returns its length. */
typedef unsigned (*jk__far_fn)(uint8_t *dst, const uint8_t *long_form);

/*
 * A back end whose pc-relative fields are bit fields of a fixed-width
 * instruction word (A64) describes them through these callbacks instead of
 * rel8/rel32 bytes. With c->arch set, every JK__ITEM_BRANCH item is such a
 * branch: raw_len bytes short (one instruction), long_form[0] + 4 bytes
 * long, long_form[1..3] free for the back end; layout goes through the
 * general relaxation loop with `reach` deciding. Distances are measured
 * from the start of the item / instruction.
 *
 *   reach  does the short form of `it` reach d bytes?
 *   item   write `it` at out (short if !it->is_long, else long); raw is the
 *          short form as emitted; local: the target is in this code, d =
 *          target - out (else d is 0);
 *          returns 0, or the offset in the long form of a JK__FIX_ARCH
 *          field left for copy (a target outside), or -1 when the long form
 *          does not reach either (message in why)
 *   patch  fill the JK__FIX_ARCH field of the instruction at p for a target
 *          at `target` seen from `pc`. `absolute` is 0 at finish (offsets in
 *          the code: only differences are meaningful) and 1 at copy (real
 *          addresses). Returns 0 done, 1 needs real addresses (keep for
 *          copy), -1 out of reach (message in why).
 */
typedef struct jk__arch_ops {
    int (*reach)(const jk__item *it, int64_t d);
    int (*item)(uint8_t *out, const uint8_t *raw, const jk__item *it, int local, int64_t d,
                char *why, size_t n);
    int (*patch)(uint8_t *p, uint64_t target, uint64_t pc, int absolute, char *why, size_t n);
} jk__arch_ops;
typedef uint64_t (*jk__resolve_fn)(void *ctx, const char *name, int *found);

typedef struct jk__code {
    uint8_t *buf;
    size_t len, cap;
    jk__sym *syms;          /* index 0 unused: label 0 is invalid */
    uint32_t nsyms, capsyms;
    jk__fix *fixes;
    size_t nfixes, capfixes;
    jk__item *items;
    uint32_t nitems, capitems;
    uint32_t naligns;       /* alignment items among them */
    uint32_t nderived;      /* derived labels (bound at finish) */
    uint32_t nfar;          /* JK__ITEM_FAR items */
    jk__far_fn far_fn;      /* set by a back end that has far forms (not `far`:
                               Windows headers define it away) */
    /* finish keeps what it needs to lay out again when a copy turns far
     * items far: the code's extent before the pool, the filler */
    size_t code_len;
    uint32_t code_items, code_naligns;
    size_t slot_raw;        /* raw offset of the far slots (8 bytes each) */
    jk__fill_fn fill;
    /* relaxable branches to start long at finish (bit k: the k-th
     * JK__ITEM_BRANCH); the caller's array, cleared by reset */
    const uint8_t *keep_long;
    size_t nkeep;
    uint32_t nlong;         /* branches long from the start (a target outside) */
    /* constant pool (placed at finish) */
    uint8_t *pool;
    size_t pool_len, pool_cap;
    uint32_t pool_align;
    struct jk__pool_ent { size_t off, size; uint32_t sym; } *pents;
    size_t npents, cappents;
    /* result */
    uint8_t *out;
    size_t out_len;
    jk__reloc *relocs;
    size_t nrelocs;
    int finished;
    /* resolver for external symbols */
    jk__resolve_fn resolve;
    void *resolve_ctx;
    /* sticky error */
    jk_error err;
    size_t err_insn, err_off;
    uint32_t insn;          /* index of the current instruction/directive */
    unsigned addr_bytes;    /* size of an address: 8 or 4 (data labels) */
    /* Gate of the back end's quick path: it may write up to 32 bytes without
     * any other check while len < qlim. 0 (closed) after an error, after
     * finish and while `hold` (set by the back end, e.g. a pending prefix);
     * jk__code_regate recomputes it whenever one of these or cap changes. */
    size_t qlim;
    uint8_t hold;
    /* fixed-width back ends (A64): see jk__arch_ops; NULL for x86 */
    const jk__arch_ops *arch;
    /* Small code needs no allocation: the buffer, the final image and the
     * relocations start inside the object (buf == ibuf, out == iout, relocs
     * == irel) and move to the heap when they outgrow it. Last: init and
     * free zero only what comes before. Sized so that an assembler object
     * stays a small allocation (glibc's per-thread cache takes up to 1 KiB). */
    uint8_t ibuf[64];
    uint8_t iout[64];
    jk__reloc irel[1];
} jk__code;

/* Store v at p, little-endian, any alignment (one store on little-endian
 * hosts). */
static inline void jk__put_le32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
#endif
}

/* Recompute qlim (see above). */
static inline void jk__code_regate(jk__code *c)
{
    c->qlim = (c->err.status || c->finished || c->hold || c->cap < 32) ? 0 : c->cap - 31;
}

void jk__code_init(jk__code *c, unsigned addr_bytes);
/* Release everything; c is unusable afterwards (the object holding it is
 * about to go). */
void jk__code_free(jk__code *c);
void jk__code_reset(jk__code *c);

/* Record the first error (sticky); returns the status in effect. */
jk_status jk__code_fail(jk__code *c, jk_status s, const char *fmt, ...) JK_PRINTF(3, 4);

/* Make room for `need` more bytes (slow path of the emitters). */
jk_status jk__code_reserve_slow(jk__code *c, size_t need);

static inline jk_status jk__code_reserve(jk__code *c, size_t need)
{
    if (c->cap - c->len >= need)
        return JK_OK;
    return jk__code_reserve_slow(c, need);
}

uint32_t jk__code_label(jk__code *c, const char *name);
uint32_t jk__code_label_abs(jk__code *c, uint64_t addr);
uint32_t jk__code_label_extern(jk__code *c, const char *name);
/* A label `addend` bytes from label `base` in the final code (target of
 * `jmp x-1`): local bases give a label bound at finish, so relaxation sees
 * it as an ordinary target; absolute and external ones give a symbol of the
 * same kind whose address carries the addend. */
uint32_t jk__code_label_plus(jk__code *c, uint32_t base, int64_t addend);
jk_status jk__code_bind(jk__code *c, uint32_t sym);
/* Validate a symbol reference; marks it used. */
jk_status jk__code_check_sym(jk__code *c, uint32_t sym, const char *what);
const char *jk__code_sym_name(const jk__code *c, uint32_t sym, char *tmp, size_t n);

/* A fix-up of the field at raw offset `field` (relative fields are measured
 * from raw offset `end`). */
jk_status jk__code_fix(jk__code *c, unsigned kind, size_t field, size_t end, uint32_t sym,
                       int64_t addend);

/* The short form of a relaxable branch (raw_len bytes ending in a rel8) has
 * just been written at raw offset `at`; its long form is long_opc followed by
 * a rel32. */
jk_status jk__code_branch(jk__code *c, size_t at, unsigned raw_len, uint32_t sym,
                          const uint8_t *long_opc, unsigned long_opc_len);

/* The same for a back end's quick path, which has already checked the state
 * (no error, not finished) and that sym is a local label, and passes table
 * data: long_form = opcode length (<= 3), then the opcode bytes (4 bytes in
 * all). Appends in place while there is room; fin, shift and size are only
 * written by the layout. */
static inline jk_status jk__code_branch_quick(jk__code *c, size_t at, unsigned raw_len,
                                              uint32_t sym, uint32_t long_form)
{
    jk__item *it;
    if (c->nitems >= c->capitems) {
        const uint8_t opc[3] = {(uint8_t)(long_form >> 8), (uint8_t)(long_form >> 16),
                                (uint8_t)(long_form >> 24)};
        return jk__code_branch(c, at, raw_len, sym, opc, long_form & 0xFFu);
    }
    it = &c->items[c->nitems++];
    it->raw = at;
    it->sym = sym;
    it->insn = c->insn;
    it->kind = JK__ITEM_BRANCH;
    it->raw_len = (uint8_t)raw_len;
    it->is_long = 0;
    jk__put_le32(it->long_form, long_form);
    return JK_OK;
}

/* Append a fix-up record; the array has room. */
static inline void jk__code_fix_put(jk__code *c, unsigned kind, size_t field, size_t end,
                                    uint32_t sym, int64_t addend)
{
    jk__fix *f = &c->fixes[c->nfixes++];
    f->raw = field;
    f->end = end;
    f->item = c->nitems;
    f->sym = sym;
    f->insn = c->insn;
    f->kind = (uint8_t)kind;
    f->addend = addend;
}

/* jk__code_fix for a quick path (state already checked). */
static inline jk_status jk__code_fix_quick(jk__code *c, unsigned kind, size_t field, size_t end,
                                           uint32_t sym, int64_t addend)
{
    if (c->nfixes >= c->capfixes)
        return jk__code_fix(c, kind, field, end, sym, addend);
    jk__code_fix_put(c, kind, field, end, sym, addend);
    return JK_OK;
}

/* A relaxable branch of a jk__arch_ops back end: its short form (raw_len
 * bytes) is at raw offset `at`, its long form is long_len bytes; `tag` goes
 * to long_form[1] for the back end. */
jk_status jk__code_branch_arch(jk__code *c, size_t at, unsigned raw_len, unsigned long_len,
                               uint32_t sym, uint8_t tag);

jk_status jk__code_align(jk__code *c, unsigned align);
/* Alignment that skips at most max_skip bytes (JK__ALIGN_ANY: any), not
 * aligning at all when more are needed; fill: the padding byte, or -1 for
 * the code filler (NOPs). */
#define JK__ALIGN_ANY 0xFFFFu
jk_status jk__code_align_ex(jk__code *c, unsigned align, unsigned max_skip, int fill);
jk_status jk__code_bytes(jk__code *c, const void *data, size_t n);
uint32_t jk__code_const(jk__code *c, const void *data, size_t size, unsigned align);

/* Layout, fix-ups, the final image; `fill` writes n bytes of padding. */
jk_status jk__code_finish(jk__code *c, jk__fill_fn fill, size_t *size);

/* A rel32 call/jmp/jcc to a symbol outside the code: near_len bytes (the
 * opcode long_opc and a zero rel32) have just been written at raw offset
 * `at`. Needs c->far_fn. */
jk_status jk__code_far(jk__code *c, size_t at, uint32_t sym, const uint8_t *long_opc,
                       unsigned long_opc_len);

/* A front end that assembles the same text in several passes keeps the
 * layout converging by letting branches only grow from pass to pass: after
 * finish, jk__code_long_branches ORs bit k of `bits` (nbytes long) for
 * each k-th relaxable branch that is long and returns how many there are;
 * jk__code_keep_long (after reset, before finish) makes the branches whose
 * bits are set start long. */
size_t jk__code_long_branches(const jk__code *c, uint8_t *bits, size_t nbytes);
void jk__code_keep_long(jk__code *c, const uint8_t *bits, size_t nbytes);

/* Copy the final image to dst and apply relocations for runtime address.
 * A far item a rel32 cannot reach from there turns far, which lays the code
 * out again and may make it longer: when it then no longer fits cap,
 * jk__code_copy_fit returns JK_ENOSPACE with *need set, without recording
 * an error, so the caller can copy to a larger buffer (far items stay far);
 * jk__code_copy records it. */
jk_status jk__code_copy_fit(jk__code *c, void *dst, size_t cap, uint64_t runtime, size_t *need);
jk_status jk__code_copy(jk__code *c, void *dst, size_t cap, uint64_t runtime);

#endif
