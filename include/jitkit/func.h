/*
 * jitkit/func.h - functions: calling conventions, frames, calls, CET.
 *
 * Three layers, the first architecture-neutral in its types:
 *
 *   jk_sig + jk_abi_layout    where each argument and the return value of a
 *                             signature live under an ABI (register class and
 *                             number, or a stack offset) - pure computation
 *   jk_x86_prologue/epilogue  a frame described by jk_frame_desc: callee-saved
 *                             registers, locals, an outgoing-argument area,
 *                             frame pointer, red zone, Win64 home slots,
 *                             endbr; records what it emitted (jk_frame_record)
 *   jk_x86_call_abi           marshal the arguments of a call (jk_x86_op
 *                             sources) into the callee's locations and call
 *
 *     jk_frame_desc d = {0};
 *     jk_sig_init(&d.sig, JK_ABI_HOST, JK_TYPE_I64);
 *     jk_sig_add(&d.sig, JK_TYPE_I64);
 *     d.saved = 1u << 3;                           rbx
 *     jk_frame_reserve_call(&d, 64, &host_sig, NULL);   room for its stack args
 *     jk_x86_frame f;
 *     jk_x86_prologue(a, &f, &d);
 *     jk_x86_op p0; jk_x86_frame_param(&f, 0, &p0);
 *     jk_x86_op args[2] = {p0, jk_imm(7)};
 *     jk_x86_call_abi(a, &f, &host_sig, jk_imm((int64_t)(uintptr_t)host), 2, args);
 *     jk_x86_epilogue(a, &f);                      restores, ret (ret n for stdcall)
 *
 * The frame is fixed: the prologue reserves the largest outgoing argument
 * area the body needs (jk_frame_desc.call_args, Win64's 32-byte shadow
 * space included) and keeps the stack pointer 16-byte aligned, so every call
 * made through jk_x86_call_abi is aligned and stack-pointer-relative operands
 * (parameters, locals) stay valid across calls. Code between the prologue
 * and the epilogue must not leave the stack pointer moved at a call.
 *
 * Calls and returns stay paired (call ... ret, never push+ret or a jump to
 * a return address), so the code runs under a CET shadow stack; endbr64 /
 * endbr32 is put at function entries and at jk_x86_bind_target labels when
 * requested or when the process runs with indirect-branch tracking.
 *
 * Floating-point arguments (JK_TYPE_F32/F64) and vectors (JK_TYPE_V128,
 * JK_TYPE_V256: __m128*, __m256*) are located under every ABI and moved
 * with the SSE / AVX moves (movsd, movss, movaps, movups; vmovaps, vmovups
 * for V256, which needs AVX at run time). Win64 passes vectors by
 * reference (JK_LOC_BYREF: the caller's 16-byte aligned copy).
 *
 * Win64 frames with a frame pointer set it last (push rbp, pushes, sub,
 * xmm saves, lea rbp, [rsp+k]) and leave through lea rsp, [rbp+d], the
 * order and forms Windows' unwinder describes and recognises.
 *
 * Thread safety: all functions here are pure or act on one assembler, which
 * must be used by one thread at a time; jk_cet_features is thread-safe.
 */
#ifndef JITKIT_FUNC_H
#define JITKIT_FUNC_H

#include "jitkit/status.h"
#include "jitkit/x86.h"

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- Signatures (architecture-neutral) ------------------------------------ */

typedef enum jk_abi {
    JK_ABI_HOST,      /* the C convention of this host for the code's word size:
                         SYSV64 or WIN64 for 64-bit code, CDECL for 32-bit */
    JK_ABI_SYSV64,    /* System V AMD64 (Linux, BSD, macOS) */
    JK_ABI_WIN64,     /* Microsoft x64 */
    JK_ABI_CDECL,     /* i386 cdecl (System V i386 psABI: 16-byte aligned calls) */
    JK_ABI_STDCALL,   /* i386 stdcall: the callee pops its arguments */
    JK_ABI_FASTCALL,  /* i386 fastcall as GCC implements it: the first two argument
                         words in ecx, edx when they are <= 32-bit integers (a 64-bit
                         integer uses them up, on the stack); the callee pops the rest */
    JK_ABI_COUNT
} jk_abi;

typedef enum jk_type {
    JK_TYPE_VOID,     /* return type only */
    JK_TYPE_I8, JK_TYPE_U8, JK_TYPE_I16, JK_TYPE_U16,
    JK_TYPE_I32, JK_TYPE_U32, JK_TYPE_I64, JK_TYPE_U64,
    JK_TYPE_PTR,      /* pointer-sized integer */
    JK_TYPE_F32, JK_TYPE_F64,
    JK_TYPE_V128,     /* __m128 / __m128d / __m128i: xmm registers, 16-byte stack slots;
                         Win64: by reference (a pointer to the caller's copy) */
    JK_TYPE_V256,     /* __m256 / __m256d / __m256i (AVX): ymm registers, 32-byte aligned
                         stack slots; Win64: by reference; not a Win64 return type */
    JK_TYPE_COUNT
} jk_type;

#define JK_SIG_MAX_PARAMS 32

/* A function type. nfixed < nparams marks the parameters from nfixed on as
 * the variadic part ("..."); nfixed == nparams otherwise. */
typedef struct jk_sig {
    jk_abi abi;
    jk_type ret;
    unsigned nparams;
    unsigned nfixed;
    unsigned varargs;          /* nonzero: the function is variadic */
    jk_type params[JK_SIG_MAX_PARAMS];
} jk_sig;

static inline void jk_sig_init(jk_sig *s, jk_abi abi, jk_type ret)
{
    memset(s, 0, sizeof *s);
    s->abi = abi;
    s->ret = ret;
}

/* Append a parameter (fixed, or variadic after jk_sig_varargs). Past
 * JK_SIG_MAX_PARAMS the count still grows, so jk_abi_layout reports it. */
static inline void jk_sig_add(jk_sig *s, jk_type t)
{
    if (s->nparams < JK_SIG_MAX_PARAMS)
        s->params[s->nparams] = t;
    s->nparams++;
    if (!s->varargs)
        s->nfixed = s->nparams;
}

/* Everything added from now on is the variadic part. */
static inline void jk_sig_varargs(jk_sig *s) { s->varargs = 1; s->nfixed = s->nparams; }

/* Where one value lives at the call (for parameters: at the callee's entry). */
typedef enum jk_loc_kind {
    JK_LOC_NONE,      /* void return */
    JK_LOC_GP,        /* integer register `reg` (x86: 0 = rax/eax ... 15 = r15) */
    JK_LOC_VEC,       /* vector register `reg` (x86: xmm0 ...) */
    JK_LOC_STACK,     /* `offset` bytes above the stack pointer at the call
                         (= above the callee's CFA) */
    JK_LOC_GP_PAIR,   /* two integer registers: low half `reg`, high half `reg2`
                         (i386 64-bit returns: eax, edx) */
    JK_LOC_X87,       /* the x87 stack top (i386 float returns) */
    JK_LOC_KIND_COUNT
} jk_loc_kind;

#define JK_LOC_DUP_GP 0x01u   /* also passed in integer register reg2 (Win64 variadic floats) */
#define JK_LOC_HOME   0x02u   /* Win64: the register has a home slot at `offset` above the CFA */
#define JK_LOC_BYREF  0x04u   /* Win64 vectors: the location (a general register or an 8-byte
                                 stack slot) holds a pointer to the value; the caller's
                                 16-byte aligned copy is at [sp + copy] at the call */

typedef struct jk_loc {
    uint8_t kind;     /* jk_loc_kind */
    uint8_t reg;
    uint8_t reg2;
    uint8_t size;     /* bytes of the value */
    uint8_t flags;    /* JK_LOC_DUP_GP, JK_LOC_HOME */
    int32_t offset;   /* JK_LOC_STACK: offset; JK_LOC_HOME: home slot offset */
    int32_t copy;     /* JK_LOC_BYREF: offset of the caller's copy above sp at the call */
} jk_loc;

typedef struct jk_call_layout {
    jk_abi abi;               /* resolved (never JK_ABI_HOST) */
    unsigned word;            /* 4 or 8: stack slot unit */
    jk_loc params[JK_SIG_MAX_PARAMS];
    jk_loc ret;
    uint32_t stack_bytes;     /* bytes of the argument area at the call, incl. Win64 shadow space
                                 and the copies of by-reference vectors */
    uint32_t stack_align;     /* alignment the stack pointer needs at the call: 16, or 32 when
                                 a JK_TYPE_V256 argument is passed on the stack */
    uint32_t callee_pops;     /* bytes the callee pops on return (stdcall, fastcall) */
    unsigned vec_count;       /* vector registers used (System V: al for variadic calls) */
} jk_call_layout;

/* The ABI JK_ABI_HOST stands for in code of `bits` (32 or 64) bits. */
JK_API jk_abi jk_abi_host(unsigned bits);

/* Name of an ABI ("sysv64", "win64", "cdecl", "stdcall", "fastcall", "host"). */
JK_API const char *jk_abi_name(jk_abi abi);

/* Lay out sig under its ABI for code of `bits` bits (JK_ABI_HOST resolves
 * with jk_abi_host). JK_EINVAL: bad type or count, varargs with stdcall or
 * fastcall, an ABI of the other word size ("win64 needs 64-bit code"). */
JK_API jk_status jk_abi_layout(const jk_sig *sig, unsigned bits, jk_call_layout *out,
                               jk_error *err);

/* IEEE bit patterns of a float or double as an immediate (float arguments
 * from constants). */
static inline jk_x86_op jk_x86_imm_f64(double v)
{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return jk_x86_imm(b);
}
static inline jk_x86_op jk_x86_imm_f32(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return jk_x86_imm((int64_t)b);
}

/* -- Frames ---------------------------------------------------------------- */

#define JK_FRAME_FP         0x01u /* keep a frame pointer (rbp / ebp); Win64: rbp = the body's
                                     rsp + min(allocation, 128), set after the allocation */
#define JK_FRAME_LEAF       0x02u /* makes no calls: no call area; System V may use the red zone */
#define JK_FRAME_NO_REDZONE 0x04u /* never use the System V red zone */
#define JK_FRAME_HOME       0x08u /* Win64: store register parameters in their home slots */
#define JK_FRAME_REALIGN    0x10u /* realign the stack at entry (needs JK_FRAME_FP): for callers
                                     that only guarantee word alignment (Win32); implied by
                                     local_align > 16 */
#define JK_FRAME_ENDBR      0x20u /* endbr64/endbr32 at the entry, always */
#define JK_FRAME_NO_ENDBR   0x40u /* no endbr at the entry, even under IBT */

typedef struct jk_frame_desc {
    jk_sig sig;               /* the function's own signature (its ABI) */
    uint32_t saved;           /* bit n: general register n is used by the body and restored
                                 at the epilogue (normally the ABI's callee-saved ones) */
    uint32_t saved_vec;       /* bit n: xmm n is saved and restored (Win64: xmm6-xmm15 are
                                 callee-saved); 16 bytes each above the locals, movaps */
    uint32_t local_size;      /* bytes of locals (up to 16 MiB) */
    uint32_t local_align;     /* power of two up to 4096; 0 = the word size */
    uint32_t call_args;       /* largest stack-argument area of a call the body makes, Win64
                                 shadow space included (jk_frame_reserve_call); a Win64
                                 frame that is not a leaf reserves at least 32 */
    uint32_t flags;           /* JK_FRAME_* */
} jk_frame_desc;

/* Raise d->call_args to fit a call of `callee` from code of `bits` bits,
 * and for a Win64 function calling a System V one add the registers the
 * callee may clobber but the caller must preserve (rsi, rdi to saved,
 * xmm6-xmm15 to saved_vec). JK_EINVAL as jk_abi_layout. */
JK_API jk_status jk_frame_reserve_call(jk_frame_desc *d, unsigned bits, const jk_sig *callee,
                                       jk_error *err);

/* What the prologue and epilogues did, for unwind tables. Register numbers
 * are the x86 ones (4 = rsp/esp, 5 = rbp/ebp; 16 + n = xmm n). The CFA is the stack pointer
 * before the call that entered the function (entry stack pointer + word). */
typedef enum jk_cfa_kind {
    JK_CFA_DEF,       /* from here: CFA = reg + off */
    JK_CFA_SAVE,      /* from here: reg is saved at CFA + off */
    JK_CFA_RESTORE,   /* from here: reg holds its caller's value again */
    JK_CFA_KIND_COUNT
} jk_cfa_kind;

typedef struct jk_cfa_step {
    uint32_t offset;  /* bytes after the start of the sequence (entry / epilogue) */
    uint8_t kind;     /* jk_cfa_kind */
    uint8_t reg;
    int32_t off;
} jk_cfa_step;

#define JK_FRAME_MAX_STEPS 80
#define JK_FRAME_MAX_EPI_STEPS 48
#define JK_FRAME_MAX_EPILOGUES 8

typedef struct jk_frame_epilogue {
    jk_label start;           /* bound at its first byte */
    uint32_t size;            /* bytes, through the ret */
    uint32_t nsteps;
    jk_cfa_step steps[JK_FRAME_MAX_EPI_STEPS];
} jk_frame_epilogue;

typedef struct jk_frame_record {
    jk_label entry;           /* bound at the function's first byte (before endbr) */
    uint32_t endbr;           /* bytes of endbr at the entry (0 or 4) */
    uint32_t prologue_size;   /* bytes from entry to the first byte of the body */
    uint8_t body_cfa_reg;     /* CFA rule in the body: CFA = body_cfa_reg + body_cfa_off */
    int32_t body_cfa_off;
    uint32_t nsaved;
    struct { uint8_t reg; int32_t off; } saved[33]; /* slots at CFA + off */
    uint32_t nsteps;          /* prologue steps, offsets from entry */
    jk_cfa_step steps[JK_FRAME_MAX_STEPS];
    uint32_t nepilogues;      /* after an epilogue's ret the body rule applies again */
    jk_frame_epilogue epilogues[JK_FRAME_MAX_EPILOGUES];
} jk_frame_record;

/* A frame being built; filled by jk_x86_prologue, read-only for the caller
 * except through the functions below. */
typedef struct jk_x86_frame {
    jk_frame_desc desc;       /* the description, sig.abi resolved */
    jk_call_layout layout;    /* where the parameters arrive */
    jk_x86_mode mode;
    unsigned word;            /* 8 or 4 */
    unsigned fp, redzone, realign, leaf;
    uint32_t push_bytes;      /* pushed by the prologue (frame pointer and saved registers) */
    uint32_t alloc;           /* sub rsp amount */
    uint32_t frame_size;      /* CFA - stack pointer in the body (not meaningful with realign) */
    int32_t fp_cfa;           /* CFA - frame pointer in the body (JK_FRAME_FP): 2 words, except
                                 for Win64, whose frame pointer is set after the allocation */
    int32_t locals_off;       /* locals at [sp + locals_off] (negative: red zone) */
    uint32_t call_area;       /* outgoing arguments at [sp + 0], incl. Win64 shadow space */
    uint32_t nsaved;
    uint8_t saved_regs[16];   /* pushed after the frame pointer, in this order */
    uint32_t vec_off;         /* saved xmm registers at [sp + vec_off], 16 bytes each */
    uint32_t nvec;
    uint8_t saved_vecs[16];
    unsigned started;         /* prologue emitted */
    jk_frame_record rec;
} jk_x86_frame;

/* Emit the prologue of the function described by d at the current position
 * and fill *f. Errors (sticky, in the assembler's error with a message):
 * JK_EINVAL for descriptions that cannot be built - the wrong ABI for the
 * mode, saving the stack pointer, saved_vec in 32-bit code or with
 * realignment, local_align not a power of two or
 * above 16 without JK_FRAME_FP, JK_FRAME_HOME outside Win64, JK_FRAME_LEAF
 * with call_args, sizes beyond 16 MiB - and the emit errors. Frames larger
 * than a page probe each page on the way down (Windows guard pages, stack
 * clash). */
JK_API jk_status jk_x86_prologue(jk_x86_asm *a, jk_x86_frame *f, const jk_frame_desc *d);

/* Emit an epilogue (restore, ret; ret n for stdcall/fastcall with stack
 * parameters). Any number of epilogues may follow one prologue; the record
 * keeps the first JK_FRAME_MAX_EPILOGUES (more is JK_ERANGE). */
JK_API jk_status jk_x86_epilogue(jk_x86_asm *a, jk_x86_frame *f);

/* Where parameter i is in the body: its register (at the type's width;
 * integers narrower than 32 bits are not extended; xmm / ymm for vectors;
 * for a Win64 by-reference vector, the pointer: its register or 8-byte
 * stack slot) or a memory operand of
 * the type's size, frame-pointer-relative with JK_FRAME_FP, else
 * stack-pointer-relative. JK_EINVAL for i out of range or no prologue. */
JK_API jk_status jk_x86_frame_param(const jk_x86_frame *f, unsigned i, jk_x86_op *where);

/* Win64 home slot of register parameter i (JK_EINVAL when it has none). The
 * prologue fills it with JK_FRAME_HOME; otherwise the body may use it. */
JK_API jk_status jk_x86_frame_home(const jk_x86_frame *f, unsigned i, jk_x86_op *where);

/* Memory operand of `size` bytes at byte `off` of the locals area.
 * JK_ERANGE when [off, off + size) is not inside it. */
JK_API jk_status jk_x86_frame_local(const jk_x86_frame *f, uint32_t off, unsigned size,
                                    jk_x86_op *where);

/* The operand a jk_loc stands for in code of mode m: a register of the
 * location's size (JK_LOC_GP_PAIR: the low half's), xmm n, st0, or for
 * stack locations [sp + offset] as at the call. */
JK_API jk_status jk_x86_loc_op(jk_x86_mode m, const jk_loc *l, jk_x86_op *where);

/* -- Unwind rules ------------------------------------------------------------ */

typedef struct jk_cfi jk_cfi; /* include/jitkit/debug.h */

/* Describe frame f's prologue and epilogues to c (jitkit/debug.h): from
 * startproc to endproc(size), size being the function's length in bytes
 * from its entry (the record's entry label). Call after jk_x86_finish (the
 * labels give the offsets); register the result with jk_debug_register at
 * the entry's address. An epilogue followed by more code is bracketed by
 * remember/restore_state, so the body's rule holds after its ret.
 * JK_EINVAL (no prologue, NULL), JK_ESTATE (not finished), or c's error
 * (e.g. a size shorter than the last epilogue). */
JK_API jk_status jk_x86_frame_cfi(jk_cfi *c, const jk_x86_asm *a, const jk_x86_frame *f,
                                  uint32_t size, jk_error *err);

typedef struct jk_debug jk_debug; /* include/jitkit/debug.h */
typedef struct jk_heap jk_heap;   /* include/jitkit/heap.h */

/* One call from a finished frame-builder function to a callable that
 * unwinds: jk_x86_install_heap, jk_x86_frame_cfi from the frame's entry to
 * the end of the code, and jk_debug_register of that range under `name`
 * (NULL: "jit_<address>"). *fn is the code's start, as jk_x86_install_heap
 * gives it; free with jk_debug_heap_free(d, h, *fn, ...) when the entry is
 * the first byte (the usual case; else unregister the entry's address and
 * jk_heap_free *fn). The code should hold this one function. On failure nothing stays installed or registered, *fn is NULL
 * and err says why (the assembler's message for install errors).
 * JK_EINVAL for NULL arguments (h included: the free needs it) or a frame
 * without a prologue; otherwise the errors of the three steps. */
JK_API jk_status jk_x86_install_heap_debug(jk_x86_asm *a, jk_heap *h, jk_debug *d,
                                           const char *name, const jk_x86_frame *f, void **fn,
                                           jk_error *err);

/* -- Calls ----------------------------------------------------------------- */

/*
 * Call a function of signature sig from inside frame f with the arguments
 * args[0..nargs-1] (nargs == sig->nparams). Each source is a register, a
 * memory operand, an immediate or a label (its address, for pointers):
 * integer registers of at least the type's size (the low part is used),
 * xmm registers or memory for floats, jk_x86_imm_f64/f32 for float
 * constants. Integers narrower than 32 bits are sign- or zero-extended to
 * 32 bits. Sources may be any registers, including the argument registers
 * themselves in any permutation (moves are ordered, cycles broken through a
 * scratch register); memory sources relative to the stack pointer see the
 * body's stack (the fixed frame).
 *
 * target: a label (jk_lbl: a function in this code, jk_x86_label_abs,
 * jk_x86_label_extern - call rel32, placed by the core), an immediate
 * absolute address (an absolute label: call rel32, or in 64-bit code
 * through a slot when the installed code is out of reach), or a register /
 * memory operand (call indirect).
 *
 * Order: stack arguments, then register arguments, then al = number of
 * vector registers for System V variadic calls, then the call; after a
 * stdcall/fastcall callee popped its arguments the stack pointer is lowered
 * again so the frame stays fixed. Clobbers what the ABI lets a call
 * clobber (plus r11 / a free caller-saved register as scratch).
 *
 * A Win64 function calling a System V function must have rsi, rdi and
 * xmm6-xmm15 in its saved sets (the callee may clobber them).
 *
 * JK_EINVAL: no prologue, a leaf frame, a mode/ABI mismatch, a source that
 * does not fit its type, no free scratch register, more stack arguments
 * than the frame reserved ("call needs 48 bytes of stack arguments; the
 * frame reserves 32: raise jk_frame_desc.call_args"). Sticky, in the
 * assembler's error.
 */
JK_API jk_status jk_x86_call_abi(jk_x86_asm *a, const jk_x86_frame *f, const jk_sig *sig,
                                 jk_x86_op target, unsigned nargs, const jk_x86_op *args);

/* -- CET -------------------------------------------------------------------- */

#define JK_CET_IBT         0x01u /* the kernel enabled indirect-branch tracking for this thread */
#define JK_CET_SHSTK       0x02u /* the kernel enabled a shadow stack for this thread */
#define JK_CET_BUILD_IBT   0x04u /* jitkit was built with -fcf-protection=branch (__CET__ & 1) */
#define JK_CET_BUILD_SHSTK 0x08u /* ... =return (__CET__ & 2) */

/* CET state of the process as the kernel reports it (Linux:
 * /proc/self/status "x86_Thread_features") and as jitkit was built. Read
 * once, cached; thread-safe. */
JK_API unsigned jk_cet_features(void);

/* Nonzero when endbr should be emitted by default: JK_CET_IBT or
 * JK_CET_BUILD_IBT. */
JK_API int jk_cet_want_endbr(void);

typedef enum jk_cet_mode {
    JK_CET_AUTO,      /* when jk_cet_want_endbr() */
    JK_CET_ON,
    JK_CET_OFF,
    JK_CET_MODE_COUNT
} jk_cet_mode;

/* Emit endbr64 (64-bit mode) or endbr32 (32-bit) when mode says so. */
JK_API jk_status jk_x86_endbr(jk_x86_asm *a, jk_cet_mode mode);

/* Bind l as a target reached by an indirect jump or call (jump tables,
 * function pointers) and put endbr there when mode says so. */
JK_API jk_status jk_x86_bind_target(jk_x86_asm *a, jk_label l, jk_cet_mode mode);

#ifdef __cplusplus
}
#endif
#endif
