/*
 * tests/fuzz/fuzz_x86.c - fuzz target for the x86 assembler API.
 *
 * The input drives a sequence of API calls: emits with random mnemonic ids,
 * operand counts and operands (well-formed and malformed: bad classes,
 * register numbers, sizes, scales, segment bits, labels that do not
 * exist; RIP-relative and absolute label memory operands
 * [base + index*scale + label], VSIB memory with an xmm / ymm index, label addresses as
 * immediates), label creation and binding, prefixes (lock, rep, REX, xacquire / xrelease,
 * pseudo-prefixes), alignment, data, constants,
 * finish and copies into small buffers. Invariants:
 *   - nothing crashes or reads/writes out of bounds (run under ASan/UBSan);
 *   - an accepted instruction adds 1..15 bytes, and encoding the same
 *     operands again in a fresh assembler gives the same bytes;
 *   - errors are sticky: after a failure every call returns that status.
 *
 * Built two ways:
 *   clang -fsanitize=fuzzer,address (JITKIT_FUZZ=ON): LLVMFuzzerTestOneInput
 *   otherwise: a standalone driver feeding N pseudo-random inputs (ctest
 *   x86_fuzz_smoke; `test_x86_fuzz_smoke 1000000` for a longer run by hand).
 *   With `--gas as objcopy nm tmpdir` the standalone driver also writes every
 *   accepted random instruction in GNU syntax, assembles them all with GNU as
 *   and requires identical bytes: accepted means the same instruction.
 *   Instructions with label operands (branches, [label], [... + label]
 *   absolute, offset-label immediates) carry an item or a fix-up and are
 *   checked by the determinism rule only.
 */
#include "x86/x86_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static unsigned u8(rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(rd *r)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | u8(r);
    return v;
}

static const int64_t interesting[] = {0, 1, -1, 3, 127, 128, -128, -129, 255, 256, 32767, 32768,
                                      -32768, 65535, 65536, 0x7fffffff, 0x80000000ll,
                                      -0x80000000ll, 0xffffffffll, 0x100000000ll, INT64_MAX,
                                      INT64_MIN, 0x1122334455667788ll};

static int64_t value(rd *r)
{
    unsigned k = u8(r);
    if (k < 200)
        return interesting[k % (sizeof interesting / sizeof interesting[0])];
    return (int64_t)u64(r);
}

static jk_x86_op reg(rd *r)
{
    unsigned rc = u8(r) % (JK_X86_RC_COUNT + 2);
    unsigned num = u8(r) % 20;
    jk_x86_op o = jk_x86_reg((jk_x86_rclass)(rc % JK_X86_RC_COUNT), num);
    if (rc >= JK_X86_RC_COUNT)
        o.rclass = (uint8_t)rc; /* out of range on purpose */
    return o;
}

static jk_x86_op operand(rd *r, uint32_t nlabels)
{
    static const unsigned sizes[] = {0, 1, 2, 4, 8, 10, 16, 32, 64, 3, 200};
    static const unsigned scales[] = {1, 2, 4, 8, 3, 0};
    jk_x86_op o;
    switch (u8(r) % 7) {
    case 0:
        return JK_NOREG;
    case 1:
    case 2:
        return reg(r);
    case 3: {
        unsigned k = u8(r);
        jk_x86_op b = (k & 1) ? reg(r) : JK_NOREG;
        jk_x86_op i = (k & 2) ? reg(r) : JK_NOREG;
        if (k & 4) { /* a plausible address register, most of the time */
            b = jk_x86_reg((k & 8) ? JK_X86_RC_GP32 : JK_X86_RC_GP64, u8(r) % 16);
            if (k & 16)
                b = jk_x86_reg(JK_X86_RC_IP, (k >> 5) & 1);
        }
        o = jk_x86_mem(sizes[u8(r) % (sizeof sizes / sizeof sizes[0])], b, i,
                       scales[u8(r) % (sizeof scales / sizeof scales[0])], value(r));
        if (k & 64)
            o.flags = (uint8_t)(o.flags | (u8(r) & 7u));
        if (k & 128) {
            jk_label l = (jk_label)(u8(r) % (nlabels + 2));
            if (u8(r) & 1) /* absolute: base and index kept (jump tables) */
                o = jk_x86_mem_label_abs(o.size, b, i,
                                         scales[u8(r) % (sizeof scales / sizeof scales[0])], l,
                                         (int32_t)value(r));
            else
                o = jk_x86_mem_label(o.size, l, (int32_t)value(r));
        }
        return o;
    }
    case 4:
        if (u8(r) < 64) { /* a label's address as an immediate */
            o = jk_x86_imm_label((jk_label)(u8(r) % (nlabels + 2)), (int32_t)value(r));
            if (u8(r) == 0xff)
                o.flags = (uint8_t)u8(r); /* garbage flags */
            return o;
        }
        return jk_x86_imm(value(r));
    case 5:
        return jk_x86_imm(value(r));
    default:
        o = jk_x86_lbl((jk_label)(u8(r) % (nlabels + 2)));
        if (u8(r) & 1)
            o.flags = JK_X86_LBL_NEAR;
        if (u8(r) == 0xff)
            o.kind = (uint8_t)u8(r); /* garbage kind */
        return o;
    }
}

/* An operand of a kind form mask m accepts (random register number,
 * address, value): most random instructions are then valid ones. */
static jk_x86_op operand_for(rd *r, uint64_t m, int m64, uint32_t nlabels)
{
    static const uint64_t regbits[] = {JK__C_R8, JK__C_R8HI, JK__C_R16, JK__C_R32, JK__C_R64,
                                       JK__C_XMM, JK__C_YMM, JK__C_MM, JK__C_ST};
    static const jk_x86_rclass regrc[] = {JK_X86_RC_GP8, JK_X86_RC_GP8HI, JK_X86_RC_GP16,
                                          JK_X86_RC_GP32, JK_X86_RC_GP64, JK_X86_RC_XMM,
                                          JK_X86_RC_YMM, JK_X86_RC_MM, JK_X86_RC_ST};
    static const uint64_t membits[] = {JK__C_M8, JK__C_M16, JK__C_M32, JK__C_M64, JK__C_M128,
                                       JK__C_M256};
    static const unsigned memsz[] = {1, 2, 4, 8, 16, 32};
    unsigned k = u8(r), i, nreg = m64 ? 16u : 8u;
    for (i = 0; i < 9; i++) {
        unsigned j = (i + k) % 9;
        if ((m & regbits[j]) && (k & 0x80)) {
            unsigned num = regrc[j] == JK_X86_RC_GP8HI ? 4 + u8(r) % 4
                         : regrc[j] == JK_X86_RC_GP8 && !m64 ? u8(r) % 4
                         : j >= 7 ? u8(r) % 8u : u8(r) % nreg;
            return jk_x86_reg(regrc[j], num);
        }
    }
    if ((m & (JK__C_VM32X | JK__C_VM32Y | JK__C_VM64X | JK__C_VM64Y)) && !(k & 0x80)) {
        /* VSIB: an xmm / ymm index (any number, xmm4 too), base or none,
         * the element size or none (sometimes a wrong one) */
        static const unsigned vsz[] = {0, 4, 8, 16};
        jk_x86_rclass arc = m64 && !(k & 0x40) ? JK_X86_RC_GP64 : JK_X86_RC_GP32;
        jk_x86_op base = (k & 1) ? JK_NOREG : jk_x86_reg(arc, u8(r) % nreg);
        jk_x86_op idx = jk_x86_reg((m & (JK__C_VM32Y | JK__C_VM64Y)) ? JK_X86_RC_YMM
                                                                      : JK_X86_RC_XMM,
                                   u8(r) % nreg);
        int64_t d = (k & 4) ? (int8_t)u8(r) : (k & 8) ? (int32_t)(u64(r) >> 32) : 0;
        return jk_x86_mem(vsz[(k >> 4) & 3], base, idx, 1u << (u8(r) % 4), d);
    }
    for (i = 0; i < 6; i++) {
        unsigned j = (i + k) % 6;
        if (m & membits[j]) {
            jk_x86_rclass arc = m64 && !(k & 0x40) ? JK_X86_RC_GP64 : JK_X86_RC_GP32;
            unsigned b = u8(r) % nreg, x = u8(r) % nreg;
            jk_x86_op base = (k & 1) ? JK_NOREG : jk_x86_reg(arc, b);
            jk_x86_op idx = (k & 2) && x != 4 ? jk_x86_reg(arc, x) : JK_NOREG;
            int64_t d = (k & 4) ? (int8_t)u8(r) : (k & 8) ? (int32_t)(u64(r) >> 32) : 0;
            if (base.kind == JK_X86_OP_NONE && idx.kind == JK_X86_OP_NONE)
                d &= 0x7fffffff;
            if ((k & 0x30) == 0x30) /* [base + index*scale + label]: absolute */
                return jk_x86_mem_label_abs(memsz[j], base, idx, 1u << (u8(r) % 4),
                                            (jk_label)(u8(r) % (nlabels + 1)), (int32_t)d);
            return jk_x86_mem(memsz[j], base, idx, 1u << (u8(r) % 4), d);
        }
    }
    for (i = 0; i < 9; i++)
        if (m & regbits[i])
            return jk_x86_reg(regrc[i], regrc[i] == JK_X86_RC_GP8HI ? 4u : u8(r) % 4);
    if (m & JK__C_XMM0) return JK_XMM0;
    if (m & JK__C_ST0) return JK_ST0;
    if (m & JK__C_AL) return JK_AL;
    if (m & JK__C_AX) return JK_AX;
    if (m & JK__C_EAX) return JK_EAX;
    if (m & JK__C_RAX) return JK_RAX;
    if (m & JK__C_CL) return JK_CL;
    if (m & JK__C_DX) return JK_DX;
    if (m & JK__C_SREG) return jk_x86_reg(JK_X86_RC_SEG, u8(r) % 6);
    if (m & JK__C_FS) return JK_FS;
    if (m & JK__C_GS) return JK_GS;
    if ((k & 0x30) == 0x30) /* a label's address as an immediate */
        return jk_x86_imm_label((jk_label)(u8(r) % (nlabels + 1)), (int32_t)value(r));
    return jk_x86_imm(value(r));
}

/* gas mode: accepted instructions to compare with GNU as (standalone only) */
static FILE *gas_out;
static size_t gas_count;
static uint8_t *gas_bytes;
static size_t gas_len, gas_cap;
static void gas_record(jk_x86_asm *a, jk_x86_mnem id, unsigned n, const jk_x86_op *ops);

static int run(const uint8_t *data, size_t size)
{
    rd r = {data, size};
    jk_x86_asm *a = NULL, *b = NULL;
    jk_label labels[64];
    uint32_t nlabels = 0;
    jk_status first = JK_OK;
    unsigned steps = 0;
    if (jk_x86_new(&a, (u8(&r) & 1) ? JK_X86_MODE32 : JK_X86_MODE64, NULL) != JK_OK)
        return 0;
    if (jk_x86_new(&b, jk_x86_mode_of(a), NULL) != JK_OK) {
        jk_x86_free(a);
        return 0;
    }
    while (r.n && steps++ < 400) {
        unsigned what = u8(&r) % 16;
        jk_status s = JK_OK;
        if (what < 10) {
            jk_x86_op ops[4];
            unsigned n = u8(&r) % 5, i, k;
            jk_x86_mnem id = (jk_x86_mnem)((u8(&r) << 8 | u8(&r)) % (JK_X86_MNEM_COUNT + 3));
            size_t before = a->code.len;
            unsigned pending = a->pending;
            if ((k = u8(&r)) < 192 && (unsigned)id < JK_X86_MNEM_COUNT) {
                /* usually: operands shaped after one of the mnemonic's forms */
                unsigned nf = jk__x86_mnem_first[id + 1] - jk__x86_mnem_first[id];
                const jk__x86_form *f = &jk__x86_forms[jk__x86_mnem_first[id] + k % nf];
                n = f->nops;
                for (i = 0; i < n; i++)
                    ops[i] = (f->ops[i] & JK__C_REL) ? jk_x86_lbl((jk_label)(u8(&r) % (nlabels + 1)))
                                                     : operand_for(&r, f->ops[i], a->mode == JK_X86_MODE64,
                                                                   nlabels);
            } else {
                for (i = 0; i < n; i++)
                    ops[i] = operand(&r, nlabels);
            }
            s = jk_x86_emit(a, id, n, ops);
            if (s == JK_OK) {
                size_t len = a->code.len - before;
                if (len < 1 || len > 15) {
                    fprintf(stderr, "fuzz: %s with %u operands added %zu bytes\n",
                            jk_x86_mnem_name(id), n, len);
                    abort();
                }
                /* determinism: the same instruction alone, same bytes
                 * (prefixes given through the API are not repeated here) */
                if (pending)
                    continue;
                jk_x86_reset(b);
                for (i = 0; i < nlabels + 1; i++)
                    jk_x86_label(b, NULL);
                if (jk_x86_emit(b, id, n, ops) != JK_OK || b->code.len != len ||
                    memcmp(b->code.buf, a->code.buf + before, len) != 0)
                    abort();
                if (gas_out)
                    gas_record(b, id, n, ops);
            }
        } else if (what == 10 && nlabels < 64) {
            labels[nlabels] = jk_x86_label(a, (u8(&r) & 1) ? "l" : NULL);
            if (labels[nlabels])
                nlabels++;
        } else if (what == 11) {
            s = jk_x86_bind(a, (jk_label)(u8(&r) % (nlabels + 2)));
        } else if (what == 12) {
            switch (u8(&r) % 8) {
            case 0: s = jk_x86_lock(a); break;
            case 1: s = jk_x86_rep(a); break;
            case 2: s = jk_x86_repe(a); break;
            case 3: s = jk_x86_rex(a, u8(&r) % 17); break;
            case 4: s = jk_x86_xacquire(a); break;
            case 5: s = jk_x86_xrelease(a); break;
            case 6: s = jk_x86_hint(a, u8(&r) & 0xffu); break; /* pseudo-prefixes, bad bits too */
            default: s = jk_x86_repne(a); break;
            }
        } else if (what == 13) {
            unsigned k = u8(&r);
            if (k & 1)
                s = jk_x86_align(a, 1u << (u8(&r) % 14));
            else if (k & 2)
                s = jk_x86_nops(a, u8(&r) % 40);
            else
                s = jk_x86_dlabel(a, (jk_label)(u8(&r) % (nlabels + 2)), value(&r));
        } else if (what == 14) {
            uint8_t buf[32];
            unsigned k = u8(&r) % 32;
            memset(buf, (int)u8(&r), sizeof buf);
            if (u8(&r) & 1) {
                s = jk_x86_db(a, buf, k);
            } else {
                jk_label c = jk_x86_const(a, buf, k, 1u << (u8(&r) % 8));
                if (c && nlabels < 64)
                    labels[nlabels++] = c;
                s = jk_x86_status(a);
            }
        } else {
            size_t sz = 0;
            uint8_t out[64];
            s = jk_x86_finish(a, &sz);
            if (s == JK_OK)
                s = jk_x86_copy(a, out, u8(&r) % sizeof out, u64(&r));
        }
        /* sticky: once failed, the first status stays */
        if (first == JK_OK && jk_x86_status(a) != JK_OK)
            first = jk_x86_status(a);
        if (first != JK_OK && (jk_x86_status(a) != first || (s != JK_OK && s != first)))
            abort();
        (void)labels;
    }
    {
        size_t sz = 0;
        if (jk_x86_finish(a, &sz) == JK_OK) {
            uint8_t *out = malloc(sz + 1);
            if (out) {
                jk_x86_copy(a, out, sz, 0x400000);
                free(out);
            }
        }
    }
    jk_x86_free(a);
    jk_x86_free(b);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return run(data, size);
}

#ifdef JK_FUZZ_LIBFUZZER
static void gas_record(jk_x86_asm *a, jk_x86_mnem id, unsigned n, const jk_x86_op *ops)
{
    (void)a;
    (void)id;
    (void)n;
    (void)ops;
}
#else
/* -- Standalone driver ------------------------------------------------------ */

#include "../x86/common.h"

static int gas_mode64;
static size_t *gas_off, gas_ocap;

static void gas_record(jk_x86_asm *a, jk_x86_mnem id, unsigned n, const jk_x86_op *ops)
{
    char text[256];
    unsigned i;
    /* only what GNU syntax can express without context: no labels, one mode */
    if ((a->mode == JK_X86_MODE64) != gas_mode64 || a->code.nitems || a->code.nfixes)
        return;
    for (i = 0; i < n; i++)
        if (ops[i].kind == JK_X86_OP_LABEL || (ops[i].kind == JK_X86_OP_MEM &&
                                               (ops[i].flags & JK_X86_MEM_LABEL)))
            return;
    tc_insn(text, sizeof text, NULL, jk_x86_mnem_name(id), n, ops);
    if (gas_len + a->code.len > gas_cap) {
        gas_cap = (gas_cap + a->code.len) * 2;
        gas_bytes = realloc(gas_bytes, gas_cap);
    }
    memcpy(gas_bytes + gas_len, a->code.buf, a->code.len);
    gas_len += a->code.len;
    if (gas_count + 1 >= gas_ocap) {
        gas_ocap = (gas_ocap + 1) * 2;
        gas_off = realloc(gas_off, gas_ocap * sizeof *gas_off);
    }
    gas_off[gas_count] = gas_len - a->code.len;
    fprintf(gas_out, "I%zu: %s\n", gas_count, text);
    gas_count++;
}

int main(int argc, char **argv)
{
    unsigned long iters = argc > 1 && argv[1][0] != '-' ? strtoul(argv[1], NULL, 10) : 20000;
    uint64_t x = 0x243F6A8885A308D3ull;
    unsigned long it;
    uint8_t buf[512];
    const char *as = NULL, *objcopy = NULL, *nm = NULL, *tmp = NULL;
    int i, bad = 0;
    size_t ix2;
    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--gas") && i + 4 < argc) {
            as = argv[i + 1];
            objcopy = argv[i + 2];
            nm = argv[i + 3];
            tmp = argv[i + 4];
        }
    for (gas_mode64 = 1; gas_mode64 >= 0; gas_mode64--) {
        char path[512], obj[600], bin[600], cmd[4096];
        if (as) {
            snprintf(path, sizeof path, "%s/fuzz%d.s", tmp, gas_mode64 ? 64 : 32);
            gas_out = fopen(path, "w");
            if (!gas_out)
                return 2;
            fprintf(gas_out, ".intel_syntax noprefix\n");
            gas_count = gas_len = 0;
        }
        for (it = 0; it < iters; it++) {
            size_t k, n = 16 + (size_t)(x % (sizeof buf - 16));
            for (k = 0; k < n; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf[k] = (uint8_t)x;
            }
            run(buf, n);
        }
        if (as) {
            size_t glen = 0;
            uint8_t *g;
            fclose(gas_out);
            gas_out = NULL;
            snprintf(obj, sizeof obj, "%s.o", path);
            snprintf(bin, sizeof bin, "%s.bin", path);
            snprintf(cmd, sizeof cmd, "'%s' --%d -o '%s' '%s' 2>'%s.err' && '%s' -O binary -j .text '%s' '%s'",
                     as, gas_mode64 ? 64 : 32, obj, path, path, objcopy, obj, bin);
            if (tc_run(cmd) != 0) {
                fprintf(stderr, "GNU as rejected accepted random instructions: see %s.err\n", path);
                bad = 1;
                continue;
            }
            g = tc_read_file(bin, &glen);
            if (!g || glen != gas_len || memcmp(g, gas_bytes, glen) != 0) {
                /* find the instructions: GNU's addresses of the I<n> labels */
                char nmf[700], *txt, *q;
                size_t nl = 0, shown = 0, *ga = calloc(gas_count + 1, sizeof *ga);
                snprintf(nmf, sizeof nmf, "%s.nm", path);
                snprintf(cmd, sizeof cmd, "'%s' '%s' > '%s'", nm, obj, nmf);
                tc_run(cmd);
                txt = (char *)tc_read_file(nmf, &nl);
                for (q = txt; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL) {
                    unsigned long long ad;
                    char ty;
                    size_t ix;
                    if (sscanf(q, "%llx %c I%zu", &ad, &ty, &ix) == 3 && ix < gas_count)
                        ga[ix] = (size_t)ad;
                }
                gas_off[gas_count] = gas_len;
                ga[gas_count] = glen;
                for (ix2 = 0; ix2 < gas_count && shown < 20; ix2++) {
                    size_t l1 = gas_off[ix2 + 1] - gas_off[ix2], l2 = ga[ix2 + 1] - ga[ix2], q2;
                    if (l1 == l2 && ga[ix2] + l2 <= glen &&
                        !memcmp(g + ga[ix2], gas_bytes + gas_off[ix2], l1))
                        continue;
                    shown++;
                    fprintf(stderr, "differs: line %zu of %s (at 0x%zx / GNU 0x%zx)\n  jitkit:", ix2 + 2, path, gas_off[ix2], ga[ix2]);
                    for (q2 = 0; q2 < l1; q2++)
                        fprintf(stderr, " %02x", gas_bytes[gas_off[ix2] + q2]);
                    fprintf(stderr, "\n  GNU as:");
                    for (q2 = 0; q2 < l2 && ga[ix2] + q2 < glen; q2++)
                        fprintf(stderr, " %02x", g[ga[ix2] + q2]);
                    fprintf(stderr, "\n");
                }
                free(txt);
                free(ga);
                bad = 1;
            }
            printf("%d-bit: %zu accepted random instructions, identical to GNU as: %s\n",
                   gas_mode64 ? 64 : 32, gas_count, bad ? "no" : "yes");
            free(g);
        }
    }
    printf("%lu inputs per mode, no crash%s\n", iters, bad ? ", MISMATCH" : "");
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad);
    free(gas_bytes);
    return bad;
}
#endif
