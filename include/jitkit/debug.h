/*
 * jitkit/debug.h - make JIT code visible: unwind tables (C++ exceptions,
 * backtraces, crash handlers), gdb, perf.
 *
 * Two objects:
 *
 *   jk_cfi    a description of how one function's prologue and epilogues
 *             change the stack, in the verbs of GNU as's .cfi_* directives,
 *             each at a code offset:
 *
 *                 jk_cfi_startproc(c);
 *                 jk_cfi_def_cfa_offset(c, 1, 16);        after push rbp
 *                 jk_cfi_offset(c, 1, JK_DW_X64_RBP, -16);
 *                 jk_cfi_def_cfa_register(c, 4, JK_DW_X64_RBP); after mov rbp, rsp
 *                 ...
 *                 jk_cfi_endproc(c, size);
 *
 *   jk_debug  a registry: given a function's address, size, name and jk_cfi
 *             it tells every consumer that is switched on, and takes it back
 *             again when the function is freed:
 *
 *       UNWIND   the system unwinder. ELF platforms: a CIE and an FDE
 *                (.eh_frame format) per function, handed to libgcc (a
 *                __register_frame_table object per group of functions) or
 *                to LLVM libunwind's __unw_add_dynamic_fde when that is the
 *                unwinder of the process (found at run time). Windows x64: UNWIND_INFO
 *                + RUNTIME_FUNCTION through RtlAddFunctionTable.
 *       GDB      the GDB JIT interface: an in-memory ELF object per function
 *                or per batch (.text at the code's address, a .symtab
 *                naming it, the .eh_frame, the DWARF line program of a
 *                line table) linked into __jit_debug_descriptor. gdb then
 *                names the function in backtraces, resolves breakpoints on
 *                it by name (also pending ones), `info symbol`, `disassemble`.
 *       PERF_MAP /tmp/perf-<pid>.map: one "start size name" line per function.
 *       JITDUMP  <dir>/jit-<pid>.dump in perf's jitdump format (a code-load
 *                record with the code bytes per function), for
 *                `perf record -k 1` + `perf inject -j`.
 *
 * The environment can switch consumers on for a registry that did not ask
 * for them (unless JK_DEBUG_NO_ENV): JITKIT_GDB=1, JITKIT_PERF=map or
 * JITKIT_PERF=jitdump (also "map,jitdump"). JITKIT_UNWIND_GROUPS=0 makes
 * the libgcc path register one object per function (see Costs).
 *
 * Costs: jitkit's bookkeeping is O(1) per function (an address hash and a
 * list). libgcc before GCC 13 walks a list of registered objects for every
 * frame it unwinds, so with libgcc functions are registered in groups of 64
 * (one __register_frame_table object per group, re-registered when a member
 * joins or leaves): with 10,000 registered functions an unwinder lookup
 * costs a few us instead of 80 (docs/debugging.md, bench/debug). gdb re-reads its JIT objects on
 * every registration, which is why it is opt-in, and why batches
 * (jk_debug_batch_begin/_end) put many functions into one object.
 *
 * Threads: a registry may be used from any number of threads (it has a
 * lock); a jk_cfi by one thread at a time, and it may be shared read-only
 * by concurrent registrations once ended.
 *
 * The code heap and jk_mem know nothing of this module: register after
 * install and unregister before free (jk_debug_heap_install / _free do both
 * in one call), so the heap's install path costs nothing extra when the
 * feature is not used.
 */
#ifndef JITKIT_DEBUG_H
#define JITKIT_DEBUG_H

#include "jitkit/heap.h"
#include "jitkit/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- DWARF register numbers ------------------------------------------------
 * jk_cfi takes registers in DWARF numbering (as .cfi_* directives do). */

/* x86-64 (System V psABI numbering, also used for Win64 here) */
#define JK_DW_X64_RAX 0u
#define JK_DW_X64_RDX 1u
#define JK_DW_X64_RCX 2u
#define JK_DW_X64_RBX 3u
#define JK_DW_X64_RSI 4u
#define JK_DW_X64_RDI 5u
#define JK_DW_X64_RBP 6u
#define JK_DW_X64_RSP 7u
#define JK_DW_X64_R(n) (unsigned)(n) /* r8..r15: 8..15 */
#define JK_DW_X64_RA  16u            /* return address column */
#define JK_DW_X64_XMM(n) (17u + (unsigned)(n))

/* x86-32 (i386 psABI numbering) */
#define JK_DW_X86_EAX 0u
#define JK_DW_X86_ECX 1u
#define JK_DW_X86_EDX 2u
#define JK_DW_X86_EBX 3u
#define JK_DW_X86_ESP 4u
#define JK_DW_X86_EBP 5u
#define JK_DW_X86_ESI 6u
#define JK_DW_X86_EDI 7u
#define JK_DW_X86_RA  8u

/* DWARF number of the general register with hardware number `hw` (the
 * .reg of JK_RAX ... JK_R15 in x86.h), 64-bit or 32-bit mode. */
static inline unsigned jk_dw_x86_gpr(unsigned hw, int mode64)
{
    static const unsigned char x64[16] = {0, 2, 1, 3, 7, 6, 4, 5,
                                          8, 9, 10, 11, 12, 13, 14, 15};
    return mode64 ? x64[hw & 15u] : (hw & 7u);
}

/* DWARF number of a register named as GNU as's .cfi_* directives take it:
 * "rbp" or "%rbp", r8..r15 (also r8d...: the same register), "rip" (the
 * return address column), xmm0..xmm15 in 64-bit mode; eax..edi, "eip" in
 * 32-bit mode; case-insensitive. -1 if unknown. For the text front end. */
JK_API int jk_dw_reg_find(int mode64, const char *name);

/* -- Call frame information ------------------------------------------------ */

typedef enum jk_cfi_arch {
    JK_CFI_HOST,    /* the architecture this library was built for */
    JK_CFI_X86_64,
    JK_CFI_X86_32,
    JK_CFI_ARCH_COUNT
} jk_cfi_arch;

typedef struct jk_cfi jk_cfi;

/* Create an empty description for code of architecture `arch`. On success
 * *out owns it (jk_cfi_free). JK_EINVAL (bad arch, NULL out),
 * JK_EUNSUPPORTED (JK_CFI_HOST on a CPU without a description), JK_ENOMEM. */
JK_API jk_status jk_cfi_new(jk_cfi **out, jk_cfi_arch arch, jk_error *err);

/* Free a description (NULL accepted). Registrations made with it keep
 * their own copies and stay valid. */
JK_API void jk_cfi_free(jk_cfi *c);

/* Forget everything recorded, errors included, for the next function. */
JK_API void jk_cfi_reset(jk_cfi *c);

/*
 * The verbs. Each applies from code offset `at` (bytes from the function's
 * start, i.e. the address given to jk_debug_register) onwards; offsets must
 * not decrease from one call to the next. Offsets are bytes, registers are
 * DWARF numbers, `offset` of jk_cfi_offset is from the CFA (negative: below
 * it), as in GNU as.
 *
 * At startproc the rule is the architecture's state at a call's target:
 * CFA = rsp+8 (esp+4), return address at CFA-8 (CFA-4).
 *
 * Errors are sticky, as in the assembler: the first bad call records
 * JK_ESTATE (a verb before startproc or after endproc, restore_state with
 * nothing remembered, rel_offset/adjust_cfa_offset while the CFA is not
 * register+offset), JK_EINVAL (a decreasing offset, a register outside
 * 0..127, a save offset that is not a multiple of the slot size) with a
 * message naming the verb and its offset; every later call returns it.
 */
/* Begin the function (code offset 0) with the call-target rule. */
JK_API jk_status jk_cfi_startproc(jk_cfi *c);
/* End it. `size`: the function's length in bytes, not before the last
 * verb; registration checks that the code given to jk_debug_register is
 * at least that long. */
JK_API jk_status jk_cfi_endproc(jk_cfi *c, uint32_t size);
/* CFA = reg + offset (offset >= 0). */
JK_API jk_status jk_cfi_def_cfa(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset);
/* CFA = (same register) + offset, e.g. 16 after a push at entry. */
JK_API jk_status jk_cfi_def_cfa_offset(jk_cfi *c, uint32_t at, int32_t offset);
/* CFA = reg + (same offset), e.g. rbp after mov rbp, rsp. */
JK_API jk_status jk_cfi_def_cfa_register(jk_cfi *c, uint32_t at, unsigned reg);
/* CFA offset += delta (a push: +8; encoded as def_cfa_offset). */
JK_API jk_status jk_cfi_adjust_cfa_offset(jk_cfi *c, uint32_t at, int32_t delta);
/* reg's caller value is saved at CFA + offset (a multiple of the slot
 * size: 8 on x86-64, 4 on x86-32). */
JK_API jk_status jk_cfi_offset(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset);
/* Saved at `offset` from the current CFA register (not from the CFA). */
JK_API jk_status jk_cfi_rel_offset(jk_cfi *c, uint32_t at, unsigned reg, int32_t offset);
/* reg holds its caller's value again (as at startproc). */
JK_API jk_status jk_cfi_restore(jk_cfi *c, uint32_t at, unsigned reg);
/* Push the whole rule set / pop it back (an epilogue in the middle of the
 * function: remember before it, restore after its ret). */
JK_API jk_status jk_cfi_remember_state(jk_cfi *c, uint32_t at);
JK_API jk_status jk_cfi_restore_state(jk_cfi *c, uint32_t at);
/* reg's caller value cannot be recovered (undefined return address: the
 * outermost frame) / reg is not changed by this function. */
JK_API jk_status jk_cfi_undefined(jk_cfi *c, uint32_t at, unsigned reg);
JK_API jk_status jk_cfi_same_value(jk_cfi *c, uint32_t at, unsigned reg);

/* JK_OK or the first error, and its message (empty when none). */
JK_API jk_status jk_cfi_status(const jk_cfi *c);
JK_API const jk_error *jk_cfi_error(const jk_cfi *c);

/* The DWARF call frame instructions recorded so far (the body of the FDE,
 * without padding): *size receives their length. For tests and tools. */
JK_API const uint8_t *jk_cfi_bytes(const jk_cfi *c, size_t *size);

/* Write a complete .eh_frame section for one function - CIE, FDE, zero
 * terminator - as if it were placed at address `eh_addr` and described
 * code at `code_addr` of `code_size` bytes: pc-relative sdata4 addresses
 * when the code is within +-2 GiB of eh_addr, pc-relative sdata8 otherwise.
 * *size receives the length; JK_ENOSPACE (with *size set) if cap is too
 * small. The description must be ended. For tests, tools and custom
 * object writers; jk_debug_register does this itself. */
JK_API jk_status jk_cfi_eh_frame(const jk_cfi *c, uint64_t eh_addr, uint64_t code_addr,
                                 uint64_t code_size, void *dst, size_t cap, size_t *size,
                                 jk_error *err);

/* -- The registry ------------------------------------------------------------ */

#define JK_DEBUG_UNWIND   0x01u /* the system unwinder (C++ exceptions, backtraces) */
#define JK_DEBUG_GDB      0x02u /* the GDB JIT interface */
#define JK_DEBUG_PERF_MAP 0x04u /* /tmp/perf-<pid>.map */
#define JK_DEBUG_JITDUMP  0x08u /* jit-<pid>.dump */
#define JK_DEBUG_NO_ENV   0x100u /* ignore JITKIT_GDB / JITKIT_PERF */

typedef struct jk_debug_options {
    unsigned flags;          /* JK_DEBUG_*; 0 means JK_DEBUG_UNWIND */
    const char *jitdump_dir; /* where jit-<pid>.dump goes; NULL: $JITDUMPDIR,
                                else /tmp. The first registration that
                                writes the process's jitdump decides. */
} jk_debug_options;

typedef struct jk_debug jk_debug;

/* Create a registry. opt may be NULL (unwind info only, plus what the
 * environment asks for). The files of PERF_MAP and JITDUMP are opened at
 * the first registration that needs them (one of each per process, shared
 * by all registries; after fork() the child opens its own and writes the
 * functions it inherited into them). JK_EINVAL (unknown flags), JK_ENOMEM. */
JK_API jk_status jk_debug_new(jk_debug **out, const jk_debug_options *opt, jk_error *err);

/* Unregister every function still registered (newest first) and free the
 * registry. NULL accepted. Returns the first failure; frees regardless. */
JK_API jk_status jk_debug_destroy(jk_debug *d, jk_error *err);

/* The consumers this registry feeds (JK_DEBUG_* bits, environment applied;
 * UNWIND is cleared where the platform has no supported unwinder). */
JK_API unsigned jk_debug_flags(const jk_debug *d);

/* Which system unwinder registrations go to: "libgcc", "libunwind",
 * "win64" or "none". Thread-safe; the first call may look it up. */
JK_API const char *jk_debug_unwinder(void);

/* Register the function at [code, code+size) under `name` (copied; NULL or
 * "" gives "jit_<address>") with the unwind rules `cfi` (ended with
 * jk_cfi_endproc; NULL: no unwind info, only names for gdb and perf).
 * The code must already be installed: JITDUMP copies its bytes.
 * JK_EINVAL (size 0, a line break in the name, code already registered in
 * this registry, cfi not ended or failed or longer than `size`, cfi for
 * another architecture than the process's when UNWIND is on),
 * JK_ENOTNEAR (Windows: no memory for the unwind data within 4 GiB of the
 * code), JK_ERANGE (Windows limits: a prologue step beyond 255 bytes, a
 * frame-register offset above 240 or not a multiple of 16, a push after
 * the frame register is set, a save UNWIND_INFO cannot express - the
 * message says which), JK_ENOMEM, JK_EOS (opening or writing a perf file;
 * a map line already written stays). On failure nothing stays registered.
 * Thread-safe. */
JK_API jk_status jk_debug_register(jk_debug *d, const void *code, size_t size,
                                   const char *name, const jk_cfi *cfi, jk_error *err);

/* A function's source lines: the code from `offset` (bytes from the
 * function's start) up to the next row's offset, or to the function's end,
 * comes from source line `line` (1-based) of the table's file. */
typedef struct jk_debug_line {
    uint32_t offset;
    uint32_t line;
} jk_debug_line;

typedef struct jk_debug_src {
    const char *file;            /* the source file's name, as debuggers are to
                                    show it ("stub.s", "/src/stub.s") */
    const char *comp_dir;        /* the directory a relative `file` is in (gdb
                                    looks for the file there for `list`);
                                    NULL or "": none */
    const jk_debug_line *lines;  /* rows sorted by offset, each offset greater
                                    than the one before and below the size */
    size_t nlines;
} jk_debug_src;

/* jk_debug_register with a line table: `src` (NULL: none, the same as
 * jk_debug_register) maps the code to source lines. Everything is copied.
 * gdb gets a DWARF 4 line program and compile unit in the function's
 * object (backtraces, `info line`, `list`, `break file.s:LINE`); jitdump
 * gets a JIT_CODE_DEBUG_INFO record before the function's JIT_CODE_LOAD
 * (perf inject -j turns it into the .debug_line of the function's
 * jitted-*.so). The unwinder and the map file do not use lines.
 * Errors as for jk_debug_register, plus JK_EINVAL for a table with no file
 * name, no rows, a line break in a name (perf's records are text), a
 * line 0, offsets not increasing or not below `size` (the message names
 * the row). Thread-safe. */
JK_API jk_status jk_debug_register_ex(jk_debug *d, const void *code, size_t size,
                                      const char *name, const jk_cfi *cfi,
                                      const jk_debug_src *src, jk_error *err);

/* The line table of the text assembler's last assembly (the handle must
 * have been created with JK_ASM_LISTING): one row per statement that
 * produced bytes, sorted by offset, consecutive statements of one line
 * merged. `file` is the name to record (the jk_asm_options.filename the
 * text was assembled with, typically); when it is a relative path the
 * current directory becomes comp_dir. On success *out is one allocation
 * owned by the caller (jk_debug_lines_free); register it with
 * jk_debug_register_ex for code installed from that assembly (offsets are
 * those of jk_asm_code, so they hold for jk_asm_install and
 * jk_asm_install_heap at any address). JK_EINVAL (NULL arguments, a
 * handle without JK_ASM_LISTING or without statements), JK_ENOMEM. */
struct jk_asm;
JK_API jk_status jk_debug_lines_from_asm(const struct jk_asm *as, const char *file,
                                         jk_debug_src **out, jk_error *err);

/* Free a table from jk_debug_lines_from_asm (NULL accepted). */
JK_API void jk_debug_lines_free(jk_debug_src *src);

/* Take back everything registered for the function starting at `code`, in
 * the reverse order of registration. Call it before the memory is freed or
 * reused. JK_EINVAL if code is not registered here. Thread-safe. */
JK_API jk_status jk_debug_unregister(jk_debug *d, const void *code, jk_error *err);

/* Batches for gdb. gdb reads a new in-memory object at every
 * registration (and slows down with the number of objects), so one object
 * per function makes registering many functions under gdb slow. Between
 * jk_debug_batch_begin and jk_debug_batch_end, registrations and
 * unregistrations reach gdb only at the end: the functions registered
 * meanwhile go into one object (one __jit_debug_register_code call; up to
 * 4096 functions per object), and objects that lost members meanwhile are
 * rebuilt without them. The unwinder and perf are told at once, as
 * always. Outside a batch every registration makes an object of its own;
 * unregistering one member of a batch's object rebuilds the object with
 * the others (two calls), so free a batch's functions in a batch too.
 * Batches nest (the outermost end publishes) and cover all threads using
 * the registry. end: JK_ESTATE without a begin; JK_ENOMEM if an object
 * could not be built - its functions stay registered but unknown to gdb
 * until the next end or registration publishes them. Thread-safe. */
JK_API void jk_debug_batch_begin(jk_debug *d);
JK_API jk_status jk_debug_batch_end(jk_debug *d, jk_error *err);

/* Number of functions registered now. */
JK_API size_t jk_debug_count(jk_debug *d);

/* jk_heap_install followed by jk_debug_register; on a registration failure
 * the code is freed again and *exec is NULL. */
JK_API jk_status jk_debug_heap_install(jk_debug *d, jk_heap *h, const void *code, size_t size,
                                       const char *name, const jk_cfi *cfi, void **exec,
                                       jk_error *err);

/* jk_debug_unregister followed by jk_heap_free. */
JK_API jk_status jk_debug_heap_free(jk_debug *d, jk_heap *h, void *exec, jk_error *err);

#ifdef __cplusplus
}
#endif
#endif
