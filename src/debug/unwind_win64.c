/*
 * unwind_win64.c - Windows x64: the CFI description translated into
 * UNWIND_INFO and registered with RtlAddFunctionTable.
 *
 * Windows does not read DWARF: its unwinder replays a list of prologue
 * operations backwards (push a register, allocate, set the frame register,
 * save a register with mov) and recognises epilogues by looking at the
 * code (add/lea rsp, pops, ret). The translation walks the recorded steps
 * of the prologue - up to the first step that undoes something (a restore,
 * a smaller CFA offset, remember/restore_state), which is where the
 * epilogues start:
 *
 *   CFA offset grows by 8 and a register is saved at the new stack top
 *                              -> UWOP_PUSH_NONVOL
 *   CFA offset grows otherwise -> UWOP_ALLOC_SMALL / UWOP_ALLOC_LARGE
 *   CFA moves to another register (mov/lea rbp, [rsp+n])
 *                              -> UWOP_SET_FPREG, frame offset n
 *   a register saved elsewhere -> UWOP_SAVE_NONVOL / UWOP_SAVE_XMM128,
 *                                 relative to the frame base
 *
 * each at the step's code offset (the end of the instruction, as Windows
 * wants it). Limits, checked with an error naming the step: the prologue
 * ends within 255 bytes, the frame offset is a multiple of 16 up to 240,
 * nothing is pushed or allocated after the frame register is set (DWARF
 * does not describe rsp once the CFA is rbp-based, so Windows could not
 * be told - set the frame register last, as MSVC does), saves lie above
 * the frame base. Epilogues must be the canonical form (not checked).
 *
 * RUNTIME_FUNCTION holds 32-bit offsets from a base address that is at or
 * below both the code and the unwind data, so the data must lie within
 * 4 GiB of the code: malloc memory when it does, else a slot in a region
 * mapped near the code (below); JK_ENOTNEAR when neither can be had.
 */
#include "debug/debug_p.h"

#include "core/error.h"
#include "core/fault.h"

#if defined(_WIN32)

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <string.h>

#if defined(_M_X64) || defined(__x86_64__)

enum {
    UWOP_PUSH_NONVOL = 0,
    UWOP_ALLOC_LARGE = 1,
    UWOP_ALLOC_SMALL = 2,
    UWOP_SET_FPREG = 3,
    UWOP_SAVE_NONVOL = 4,
    UWOP_SAVE_NONVOL_FAR = 5,
    UWOP_SAVE_XMM128 = 8,
    UWOP_SAVE_XMM128_FAR = 9
};

#define MAX_SLOTS 64

/* One operation, in prologue order; slots are filled in at the end. */
typedef struct uw_op {
    uint8_t at, op, info, dw;
    uint32_t arg;     /* size (alloc) or offset (saves) */
    int32_t cfa_off;  /* saves: CFA-relative slot, made base-relative later */
} uw_op;

typedef struct win_fn {
    RUNTIME_FUNCTION rf;
    uint8_t info[4 + 2 * MAX_SLOTS];
    struct win_fn *next_free; /* pool slots only */
    int pooled;
} win_fn;

/* -- Unwind data near the code ----------------------------------------------
 * When malloc memory is more than 4 GiB from the code (the code heap places
 * code near the program image, the C heap may be elsewhere), the records
 * come from 64 KiB regions mapped near the code, carved into slots. Regions
 * are few (one per 400-odd functions per area of the address space) and
 * kept for the life of the process. */

#define REGION_SIZE 0x10000u

typedef struct region {
    struct region *next;
    uint8_t *mem;
    size_t used;
    win_fn *free;
} region;

static region *regions;
static SRWLOCK pool_lock = SRWLOCK_INIT;

static int reaches(uintptr_t mem, size_t mem_size, uintptr_t code, size_t code_size)
{
    uintptr_t lo = mem < code ? mem : code;
    uintptr_t hi = mem + mem_size > code + code_size ? mem + mem_size : code + code_size;
    return hi - lo <= 0xffffffffu;
}

static win_fn *pool_alloc(uintptr_t code, size_t size)
{
    region *r;
    win_fn *w = NULL;
    AcquireSRWLockExclusive(&pool_lock);
    for (r = regions; r; r = r->next)
        if (reaches((uintptr_t)r->mem, REGION_SIZE, code, size) &&
            (r->free || r->used + sizeof(win_fn) <= REGION_SIZE))
            break;
    if (!r && (r = jk__calloc(1, sizeof *r)) != NULL) {
        /* 16 MiB steps on both sides of the code, within +-2 GiB */
        uintptr_t at = code & ~(uintptr_t)(REGION_SIZE - 1);
        for (uintptr_t d = 1; d <= 120 && !r->mem; d++) {
            for (int side = 0; side < 2 && !r->mem; side++) {
                uintptr_t hint = side ? at + size + d * 0x1000000u : at - d * 0x1000000u;
                void *p;
                if ((side == 0 && hint > at) || jk__fault_hit())
                    continue;
                p = VirtualAlloc((void *)hint, REGION_SIZE, MEM_RESERVE | MEM_COMMIT,
                                 PAGE_READWRITE);
                if (p && reaches((uintptr_t)p, REGION_SIZE, code, size))
                    r->mem = p;
                else if (p)
                    VirtualFree(p, 0, MEM_RELEASE);
            }
        }
        if (r->mem) {
            r->next = regions;
            regions = r;
        } else {
            jk__free(r);
            r = NULL;
        }
    }
    if (r) {
        if (r->free) {
            w = r->free;
            r->free = w->next_free;
        } else {
            w = (win_fn *)(void *)(r->mem + r->used);
            r->used += sizeof(win_fn);
        }
        memset(w, 0, sizeof *w);
        w->pooled = 1;
    }
    ReleaseSRWLockExclusive(&pool_lock);
    return w;
}

static void pool_free(win_fn *w)
{
    region *r;
    AcquireSRWLockExclusive(&pool_lock);
    for (r = regions; r; r = r->next)
        if ((uint8_t *)w >= r->mem && (uint8_t *)w < r->mem + REGION_SIZE) {
            w->next_free = r->free;
            r->free = w;
            break;
        }
    ReleaseSRWLockExclusive(&pool_lock);
}

static void free_rec(win_fn *w)
{
    if (w->pooled)
        pool_free(w);
    else
        jk__free(w);
}

const char *jk__unwind_name(void)
{
    return "win64";
}

int jk__unwind_wants_eh_frame(void)
{
    return 0;
}

/* DWARF register -> Windows register number (0..15), -1 if not a GPR. */
static int win_gpr(unsigned dw)
{
    static const int8_t map[16] = {0, 2, 1, 3, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
    return dw < 16 ? map[dw] : -1;
}

static const char *dw_name(unsigned dw)
{
    static const char *const names[17] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi",
                                          "rbp", "rsp", "r8",  "r9",  "r10", "r11",
                                          "r12", "r13", "r14", "r15", "rip"};
    return dw < 17 ? names[dw] : "xmm";
}

static size_t slots_of(const uw_op *o)
{
    switch (o->op) {
    case UWOP_ALLOC_LARGE: return o->info ? 3 : 2;
    case UWOP_SAVE_NONVOL: case UWOP_SAVE_XMM128: return 2;
    case UWOP_SAVE_NONVOL_FAR: case UWOP_SAVE_XMM128_FAR: return 3;
    default: return 1;
    }
}

/* Build UNWIND_INFO into out (4 + 2*slots bytes); *len receives the size. */
static jk_status translate(const jk_cfi *c, uint8_t *out, size_t *len, jk_error *err)
{
    uw_op ops[MAX_SLOTS];
    size_t nops = 0, nslots = 0, k = 0;
    int32_t cur = 8, base = 0; /* CFA - rsp */
    int fp_set = 0, frame_reg = 0, frame_off = 0;
    uint32_t prolog_end = 0;
    unsigned char consumed[256];
    size_t i;
    if (c->arch != JK_CFI_X86_64)
        return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: Win64 unwind info needs "
                                              "an x86-64 description");
    memset(consumed, 0, sizeof consumed);
    memset(ops, 0, sizeof ops);
    for (i = 0; i < c->nsteps && nops < MAX_SLOTS; i++) {
        const jk__cfi_step *s = &c->steps[i];
        if (i < sizeof consumed && consumed[i])
            continue;
        switch (s->verb) {
        case CFI_DEF_CFA:
        case CFI_DEF_CFA_OFFSET:
        case CFI_DEF_CFA_REGISTER:
            if (s->cfa_reg == JK_DW_X64_RSP) {
                int32_t delta = s->cfa_off - cur;
                size_t j;
                int found;
                if (fp_set || delta < 0)
                    goto epilogue; /* back to rsp, or popping: the epilogue */
                if (delta == 0)
                    continue;
                if (delta % 8)
                    return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: stack "
                                    "adjustment of %d bytes at %u is not a multiple of 8",
                                    (int)delta, (unsigned)s->at);
                /* a push: a register saved at the new stack top, same offset */
                found = 0;
                for (j = i + 1; delta == 8 && j < c->nsteps && c->steps[j].at == s->at; j++)
                    if (c->steps[j].verb == CFI_OFFSET && c->steps[j].off == -s->cfa_off &&
                        win_gpr(c->steps[j].reg) >= 0 && j < sizeof consumed) {
                        found = 1;
                        break;
                    }
                if (found) {
                    consumed[j] = 1;
                    ops[nops].op = UWOP_PUSH_NONVOL;
                    ops[nops].info = (uint8_t)win_gpr(c->steps[j].reg);
                } else if (delta <= 128) {
                    ops[nops].op = UWOP_ALLOC_SMALL;
                    ops[nops].info = (uint8_t)(delta / 8 - 1);
                } else {
                    ops[nops].op = UWOP_ALLOC_LARGE;
                    ops[nops].info = (uint8_t)(delta / 8 <= 0xffff ? 0 : 1);
                    ops[nops].arg = (uint32_t)(ops[nops].info ? delta : delta / 8);
                }
                ops[nops++].at = (uint8_t)s->at;
                cur = s->cfa_off;
            } else {
                int32_t fo = cur - s->cfa_off; /* frame register - rsp */
                if (fp_set)
                    goto epilogue;
                if (win_gpr(s->cfa_reg) < 0)
                    return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: CFA register "
                                    "%u at %u is not a general register",
                                    (unsigned)s->cfa_reg, (unsigned)s->at);
                if (fo < 0 || fo > 240 || fo % 16)
                    return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: frame register "
                                    "%s at %u is rsp%+d; UNWIND_INFO needs an offset from 0 to "
                                    "240 in steps of 16", dw_name(s->cfa_reg), (unsigned)s->at,
                                    (int)fo);
                fp_set = 1;
                frame_reg = win_gpr(s->cfa_reg);
                frame_off = fo / 16;
                base = cur;
                ops[nops].op = UWOP_SET_FPREG;
                ops[nops].info = 0;
                ops[nops++].at = (uint8_t)s->at;
            }
            break;
        case CFI_OFFSET: {
            int gpr = win_gpr(s->reg);
            int xmm = s->reg >= 17 && s->reg < 33;
            if (s->reg == JK_DW_X64_RA)
                continue; /* the return address is where Windows expects it */
            if (gpr < 0 && !xmm)
                return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: the save of DWARF "
                                "register %u at %u has no UNWIND_INFO code", (unsigned)s->reg,
                                (unsigned)s->at);
            ops[nops].op = (uint8_t)(xmm ? UWOP_SAVE_XMM128 : UWOP_SAVE_NONVOL);
            ops[nops].info = (uint8_t)(xmm ? (int)s->reg - 17 : gpr);
            ops[nops].cfa_off = s->off;
            ops[nops].dw = s->reg;
            ops[nops++].at = (uint8_t)s->at;
            break;
        }
        case CFI_UNDEFINED:
        case CFI_SAME_VALUE:
            continue; /* nothing Windows can express */
        default:
            goto epilogue;
        }
        if (s->at > 255)
            return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: the prologue step at "
                            "offset %u lies beyond 255 bytes (the UNWIND_INFO limit)",
                            (unsigned)s->at);
        prolog_end = s->at;
    }
epilogue:
    if (nops >= MAX_SLOTS)
        return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: too many prologue steps");
    if (!fp_set)
        base = cur;
    /* saves: offsets from the frame base (rsp at the end of the prologue, or
       at the SET_FPREG); one scaled slot, or two for far ones */
    for (i = 0; i < nops; i++) {
        uw_op *o = &ops[i];
        int64_t off;
        unsigned scale;
        if (o->op != UWOP_SAVE_NONVOL && o->op != UWOP_SAVE_XMM128)
            continue;
        scale = o->op == UWOP_SAVE_XMM128 ? 16 : 8;
        off = (int64_t)o->cfa_off + base;
        if (off < 0)
            return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: %s is saved at %u "
                            "below the frame base (pushed or allocated after the frame register "
                            "is set? set it last)", dw_name(o->dw), (unsigned)o->at);
        if (off % scale)
            return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: save at %u is at frame "
                            "offset %lld, not a multiple of %u", (unsigned)o->at, (long long)off,
                            scale);
        if (off / scale <= 0xffff) {
            o->arg = (uint32_t)(off / scale);
        } else {
            o->op = (uint8_t)(o->op + 1); /* the _FAR form: unscaled 32-bit offset */
            o->arg = (uint32_t)off;
        }
    }
    for (i = 0; i < nops; i++)
        nslots += slots_of(&ops[i]);
    if (nslots > MAX_SLOTS)
        return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: too many unwind codes");
    memset(out, 0, 4 + 2 * MAX_SLOTS);
    out[0] = 1;                    /* version 1, no handler */
    out[1] = (uint8_t)prolog_end;  /* SizeOfProlog */
    out[2] = (uint8_t)nslots;
    out[3] = (uint8_t)(fp_set ? frame_reg | frame_off << 4 : 0);
    /* codes are stored newest first */
    for (i = nops; i-- > 0;) {
        const uw_op *o = &ops[i];
        uint8_t *p = out + 4 + 2 * k;
        p[0] = o->at;
        p[1] = (uint8_t)(o->op | o->info << 4);
        if (slots_of(o) == 2) {
            p[2] = (uint8_t)o->arg;
            p[3] = (uint8_t)(o->arg >> 8);
        } else if (slots_of(o) == 3) {
            memcpy(p + 2, &o->arg, 4);
        }
        k += slots_of(o);
    }
    *len = 4 + 2 * ((nslots + 1) & ~(size_t)1);
    return JK_OK;
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    win_fn *w;
    uint8_t info[sizeof w->info];
    size_t len;
    uintptr_t code = (uintptr_t)f->code, lo;
    jk_status s;
    if (f->size > 0xffffffffu)
        return jk__fail(err, JK_ERANGE, "jk_debug_register: Win64: function larger than 4 GiB");
    s = translate(cfi, info, &len, err);
    if (s != JK_OK)
        return s;
    w = jk__calloc(1, sizeof *w);
    if (!w)
        return jk__fail(err, JK_ENOMEM, "jk_debug_register: out of memory");
    if (!reaches((uintptr_t)w, sizeof *w, code, f->size)) {
        jk__free(w);
        w = pool_alloc(code, f->size);
        if (!w)
            return jk__fail(err, JK_ENOTNEAR, "jk_debug_register: Win64: no memory for the "
                            "unwind data could be placed within 4 GiB of the code at %p",
                            f->code);
    }
    memcpy(w->info, info, sizeof info);
    lo = code < (uintptr_t)w ? code : (uintptr_t)w;
    w->rf.BeginAddress = (DWORD)(code - lo);
    w->rf.EndAddress = (DWORD)(code + f->size - lo);
    w->rf.UnwindData = (DWORD)((uintptr_t)w->info - lo);
    if (jk__fault_hit() || !RtlAddFunctionTable(&w->rf, 1, (DWORD64)lo)) {
        free_rec(w);
        return jk__fail(err, JK_ENOMEM, "jk_debug_register: RtlAddFunctionTable failed");
    }
    f->unwind = w;
    return JK_OK;
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    win_fn *w = f->unwind;
    if (!w)
        return;
    RtlDeleteFunctionTable(&w->rf);
    free_rec(w);
    f->unwind = NULL;
}

#else /* 32-bit Windows: SEH there does not use unwind tables */

const char *jk__unwind_name(void)
{
    return NULL;
}

int jk__unwind_wants_eh_frame(void)
{
    return 0;
}

jk_status jk__unwind_add(jk__dbg_fn *f, const jk_cfi *cfi, jk_error *err)
{
    (void)f;
    (void)cfi;
    return jk__fail(err, JK_EUNSUPPORTED, "jk_debug_register: no unwind tables on 32-bit "
                                          "Windows");
}

void jk__unwind_remove(jk__dbg_fn *f)
{
    (void)f;
}

#endif
#endif
