/*
 * tests/x86/diff_as.c - differential test against GNU as, generated from
 * the instruction table.
 *
 * For every form of the table (in 64-bit and 32-bit mode) it builds
 * instances that cover every register of each operand class (r8-r15, spl..dil,
 * ah..bh), every memory special case (rsp/r12 base -> SIB, rbp/r13 base ->
 * disp8 0, no base -> disp32, rip-relative, 32-bit addressing via 0x67,
 * segment overrides, disp8/disp32 boundaries), immediate boundaries and the
 * lock/rep prefixes. Each instance is encoded by jitkit alone, and all of
 * them are written as one .s file (a label before each line) that GNU as
 * assembles in a single run; nm gives where each line starts. The bytes
 * must be identical. Then objdump decodes jitkit's own stream and every
 * instruction must start where jitkit put it, with no "(bad)".
 *
 * Instances jitkit rejects (ah next to a REX register, ...) and a list of
 * hand-written invalid instructions go to a second file: GNU as must reject
 * every line of it too.
 *
 *     test_x86_diff_as <as> <objcopy> <nm> <objdump> <tmpdir>
 */
#include "jt.h"
#include "common.h"

static const char *AS, *OBJCOPY, *NM, *OBJDUMP, *TMP, *VECDIR;

typedef struct inst {
    char text[200];
    size_t off, len;
    const jk__x86_form *form;
} inst;

static inst *insts;
static size_t ninst, capinst;
static uint8_t *stream;
static size_t slen, scap;
static char (*negs)[200];
static size_t nneg, capneg;
static int mode64;

/* -- Text de-duplication ------------------------------------------------ */

static char **seen;
static size_t seen_cap;

static int seen_add(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    const char *p;
    size_t i;
    if (!seen) {
        seen_cap = 1u << 20; /* well above the instances of one mode */
        seen = calloc(seen_cap, sizeof *seen);
    }
    for (p = s; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    for (i = (size_t)h & (seen_cap - 1);; i = (i + 1) & (seen_cap - 1)) {
        if (!seen[i]) {
            seen[i] = malloc(strlen(s) + 1);
            strcpy(seen[i], s);
            return 1;
        }
        if (strcmp(seen[i], s) == 0)
            return 0;
    }
}

static void seen_clear(void)
{
    size_t i;
    for (i = 0; i < seen_cap; i++) {
        free(seen[i]);
        seen[i] = NULL;
    }
}

/* -- Operand variants ------------------------------------------------------- */

#define MAXV 128

typedef struct memv {
    int base_rc, base, index_rc, index, scale, seg;
    int64_t disp;
    int only64, only32;
} memv;

enum { N_ = JK_X86_RC_NONE, G32 = JK_X86_RC_GP32, G64 = JK_X86_RC_GP64, IP = JK_X86_RC_IP };

static const memv mems[] = {
    {G64, 0, N_, 0, 1, 0, 0, 1, 0},             /* [rax] */
    {G64, 1, N_, 0, 1, 0, 8, 1, 0},             /* [rcx+8] */
    {G64, 2, N_, 0, 1, 0, -128, 1, 0},          /* disp8 lower bound */
    {G64, 3, N_, 0, 1, 0, 127, 1, 0},           /* disp8 upper bound */
    {G64, 6, N_, 0, 1, 0, 128, 1, 0},           /* first disp32 */
    {G64, 7, N_, 0, 1, 0, -129, 1, 0},
    {G64, 4, N_, 0, 1, 0, 0, 1, 0},             /* rsp base -> SIB */
    {G64, 4, N_, 0, 1, 0, 16, 1, 0},
    {G64, 5, N_, 0, 1, 0, 0, 1, 0},             /* rbp base -> disp8 0 */
    {G64, 5, N_, 0, 1, 0, 32, 1, 0},
    {G64, 8, N_, 0, 1, 0, 0, 1, 0},
    {G64, 12, N_, 0, 1, 0, 0, 1, 0},            /* r12 base -> SIB */
    {G64, 12, N_, 0, 1, 0, 64, 1, 0},
    {G64, 13, N_, 0, 1, 0, 0, 1, 0},            /* r13 base -> disp8 0 */
    {G64, 13, N_, 0, 1, 0, 256, 1, 0},
    {G64, 15, N_, 0, 1, 0, 0x12345678, 1, 0},
    {G64, 9, N_, 0, 1, 0, INT32_MIN, 1, 0},
    {G64, 0, G64, 1, 1, 0, 0, 1, 0},            /* [rax+rcx*1] */
    {G64, 0, G64, 2, 2, 0, 16, 1, 0},
    {G64, 4, G64, 5, 4, 0, -4, 1, 0},
    {G64, 5, G64, 12, 1, 0, 0, 1, 0},           /* rbp base with index: disp8 0 */
    {G64, 13, G64, 14, 8, 0, INT32_MAX, 1, 0},
    {G64, 8, G64, 0, 8, 0, 0, 1, 0},
    {G64, 12, G64, 13, 2, 0, -0x80, 1, 0},
    {N_, 0, G64, 1, 8, 0, 0x100, 1, 0},         /* no base: SIB base=101 disp32 */
    {N_, 0, G64, 11, 2, 0, 0, 1, 0},
    {N_, 0, G64, 0, 1, 0, 5, 1, 0},             /* [rax*1+5] */
    {N_, 0, N_, 0, 1, 0, 0x1000, 0, 0},         /* absolute */
    {N_, 0, N_, 0, 1, 0, 0x7fffffff, 1, 0},
    {IP, 0, N_, 0, 1, 0, 0x100, 1, 0},          /* rip-relative */
    {IP, 0, N_, 0, 1, 0, -8, 1, 0},
    {IP, 1, N_, 0, 1, 0, 0x40, 1, 0},           /* eip-relative: 0x67 */
    {G32, 0, N_, 0, 1, 0, 0, 0, 0},             /* [eax] (0x67 in 64-bit mode) */
    {G32, 5, G32, 1, 4, 0, 8, 0, 0},
    {G32, 4, N_, 0, 1, 0, 0, 0, 0},             /* [esp] */
    {G32, 5, N_, 0, 1, 0, 0, 0, 0},             /* [ebp] */
    {G32, 6, G32, 7, 8, 0, 0x12, 0, 0},
    {G32, 13, N_, 0, 1, 0, 0, 1, 0},            /* [r13d] */
    {G32, 3, N_, 0, 1, 0, 0xffffff00, 0, 0},    /* 32-bit wrap: disp8 -0x100? no: disp32 */
    {G32, 3, N_, 0, 1, 0, 0xfffffff0, 0, 0},    /* wraps to disp8 -0x10 */
    {N_, 0, G32, 2, 4, 0, 0x40, 0, 0},
    {G64, 0, N_, 0, 1, 5, 8, 1, 0},             /* fs:[rax+8] */
    {N_, 0, N_, 0, 1, 6, 0x10, 0, 0},           /* gs:[0x10] */
    {G64, 3, N_, 0, 1, 1, 0, 1, 0},             /* es:[rbx] */
    {G32, 3, N_, 0, 1, 2, 4, 0, 1},             /* cs:[ebx+4] */
    {G32, 4, N_, 0, 1, 3, 0, 0, 1},             /* ss:[esp] */
    {G32, 0, N_, 0, 1, 4, 0, 0, 1},             /* ds:[eax] */
    {N_, 0, N_, 0, 1, 0, 0x12345678, 0, 1},
    {G64, 0, N_, 0, 1, 4, 0, 1, 0},             /* ds:[rax] (default: dropped) */
    {G64, 4, N_, 0, 1, 3, 0, 1, 0},             /* ss:[rsp] (default: dropped) */
    {G64, 12, N_, 0, 1, 3, 0, 1, 0},            /* ss:[r12] */
    {G64, 13, N_, 0, 1, 4, 0, 1, 0},            /* ds:[r13] */
    {G64, 5, N_, 0, 1, 4, 8, 1, 0},             /* ds:[rbp+8] (kept) */
    {N_, 0, N_, 0, 1, 3, 0x100, 0, 0},          /* ss:[0x100] (kept) */
    {G32, 5, N_, 0, 1, 3, 0, 0, 1},             /* ss:[ebp] (dropped) */
};

static jk_x86_op mk_mem(const memv *v, unsigned size)
{
    jk_x86_op b = JK_NOREG, i = JK_NOREG, o;
    if (v->base_rc != N_)
        b = jk_x86_reg((jk_x86_rclass)v->base_rc, (unsigned)v->base);
    if (v->index_rc != N_)
        i = jk_x86_reg((jk_x86_rclass)v->index_rc, (unsigned)v->index);
    o = jk_x86_mem(size, b, i, (unsigned)v->scale, v->disp);
    if (v->seg)
        o = jk_x86_seg(o, jk_x86_reg(JK_X86_RC_SEG, (unsigned)v->seg - 1));
    return o;
}

static unsigned add_imms(jk_x86_op *out, unsigned n, const int64_t *vals, unsigned k)
{
    unsigned i, j;
    for (i = 0; i < k && n < MAXV; i++) {
        for (j = 0; j < n; j++)
            if (out[j].kind == JK_X86_OP_IMM && out[j].value == vals[i])
                break;
        if (j == n)
            out[n++] = jk_x86_imm(vals[i]);
    }
    return n;
}

#define ADD(arr) n = add_imms(out, n, arr, (unsigned)(sizeof arr / sizeof arr[0]))

/* All variants of an operand accepted by class mask `m` (0 when the form
 * cannot be generated here: branch targets). `role` is the form's role. */
static unsigned variants(uint64_t m, unsigned role, jk_x86_op *out)
{
    static const int64_t i8[] = {0, 1, 3, 127, 128, 255, -1, -128, 0x55};
    static const int64_t i8s[] = {0, 1, 127, -1, -128};
    static const int64_t i8s16[] = {0, 127, -128, 0xff80, 0xffff};
    static const int64_t i8s32[] = {0, 1, 127, -128, 0xffffff80, 0xffffffff};
    static const int64_t i16[] = {0, 128, -129, 255, 32767, -32768, 65535, 0x1234};
    static const int64_t i32[] = {128, -129, 32768, INT32_MAX, INT32_MIN, 0xffffffff, 0x12345678};
    static const int64_t i32s[] = {128, -129, INT32_MAX, INT32_MIN, 0x12345678, -0x10000};
    static const int64_t i64[] = {0x80000000ll, 0x100000000ll, -2147483649ll,
                                  0x123456789abcdef0ll, INT64_MAX, INT64_MIN};
    unsigned n = 0, r, nr = mode64 ? 16 : 8, i;
    if (m & JK__C_REL)
        return 0;
    if (role == JK__RO_A) {
        static const uint64_t a64[] = {0x1000, 0x80000000ull, 0x1122334455667788ull};
        static const uint64_t a32[] = {0x1000, 0x12345678, 0xfffffff0};
        unsigned size = m & JK__C_M8 ? 1 : m & JK__C_M16 ? 2 : m & JK__C_M32 ? 4 : 8;
        for (i = 0; i < 3; i++)
            out[n++] = jk_x86_mem_abs(size, mode64 ? a64[i] : a32[i]);
        return n;
    }
    if (m & JK__C_R8)
        for (r = 0; r < (mode64 ? 16u : 4u); r++)
            out[n++] = jk_x86_reg(JK_X86_RC_GP8, r);
    if (m & JK__C_R8HI)
        for (r = 4; r < 8; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_GP8HI, r);
    if (m & JK__C_R16)
        for (r = 0; r < nr; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_GP16, r);
    if (m & JK__C_R32)
        for (r = 0; r < nr; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_GP32, r);
    if ((m & JK__C_R64) && mode64)
        for (r = 0; r < 16; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_GP64, r);
    if (!(m & (JK__C_R8 | JK__C_R8HI | JK__C_R16 | JK__C_R32 | JK__C_R64))) {
        if (m & JK__C_AL) out[n++] = JK_AL;
        if (m & JK__C_AX) out[n++] = JK_AX;
        if (m & JK__C_EAX) out[n++] = JK_EAX;
        if (m & JK__C_RAX) out[n++] = JK_RAX;
        if (m & JK__C_CL) out[n++] = JK_CL;
        if (m & JK__C_DX) out[n++] = JK_DX;
    }
    if (m & JK__C_XMM)
        for (r = 0; r < nr; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_XMM, r);
    else if (m & JK__C_XMM0)
        out[n++] = jk_x86_reg(JK_X86_RC_XMM, 0);
    if (m & JK__C_YMM)
        for (r = 0; r < nr; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_YMM, r);
    if (m & JK__C_MM)
        for (r = 0; r < 8; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_MM, r);
    if (m & JK__C_ST)
        for (r = 0; r < 8; r++)
            out[n++] = jk_x86_reg(JK_X86_RC_ST, r);
    else if (m & JK__C_ST0)
        out[n++] = jk_x86_reg(JK_X86_RC_ST, 0);
    for (r = 0; r < 6; r++)
        if (m & (JK__C_SREG | (JK__C_ES << r)))
            out[n++] = jk_x86_reg(JK_X86_RC_SEG, r);
    if (m & JK__C_MEM) {
        unsigned size = 0, all = (m & JK__C_MEM) == JK__C_MEM;
        if (!all)
            size = m & JK__C_M8 ? 1 : m & JK__C_M16 ? 2 : m & JK__C_M32 ? 4 : m & JK__C_M48 ? 6
                 : m & JK__C_M64 ? 8
                 : m & JK__C_M80 ? 10 : m & JK__C_M128 ? 16 : m & JK__C_M256 ? 32 : 64;
        for (i = 0; i < sizeof mems / sizeof mems[0] && n < MAXV; i++) {
            if ((mems[i].only64 && !mode64) || (mems[i].only32 && mode64))
                continue;
            out[n++] = mk_mem(&mems[i], size);
        }
        if ((m & JK__C_MX) && !all)
            out[n++] = mk_mem(&mems[mode64 ? 19 : 33], 0); /* size from the register operand */
    }
    if (m & (JK__C_VM32X | JK__C_VM32Y | JK__C_VM64X | JK__C_VM64Y)) {
        /* VSIB: every index register and scale, the base special cases (none,
         * rsp/r12 -> SIB, rbp/r13 -> disp8 0, 32-bit registers -> 0x67),
         * displacement boundaries, a segment, sized (the element) and unsized */
        static const int b64[] = {-1, 0, 4, 5, 12, 13, 15, 8, 3, 7};
        static const int b32[] = {-1, 0, 4, 5, 3, 7, 6, 1};
        static const int64_t dv[] = {0, 8, -128, 127, 128, -129, 0x12345678, INT32_MIN};
        unsigned y = (m & (JK__C_VM32Y | JK__C_VM64Y)) != 0;
        unsigned esz = (m & (JK__C_VM32X | JK__C_VM32Y)) ? 4u : 8u, j;
        unsigned nb = mode64 ? 10u : 8u;
        for (j = 0; j < 48 && n < MAXV; j++) {
            int b = mode64 ? b64[j % nb] : b32[j % nb];
            jk_x86_op base = b < 0 ? JK_NOREG
                           : jk_x86_reg(mode64 && j % 11 == 5 ? JK_X86_RC_GP32
                                        : mode64 ? JK_X86_RC_GP64 : JK_X86_RC_GP32, (unsigned)b);
            jk_x86_op idx = jk_x86_reg(y ? JK_X86_RC_YMM : JK_X86_RC_XMM, (j * 5u + 1u) % nr);
            jk_x86_op o = jk_x86_mem(j % 3 == 2 ? 0 : esz, base, idx, 1u << (j % 4), dv[j % 8]);
            if (j % 13 == 7)
                o = jk_x86_seg(o, j & 1 ? JK_FS : JK_ES);
            out[n++] = o;
        }
    }
    if (m & JK__C_I8) ADD(i8);
    if (m & JK__C_I8S) ADD(i8s);
    if (m & JK__C_I8S16) ADD(i8s16);
    if (m & JK__C_I8S32) ADD(i8s32);
    if (m & JK__C_I16) ADD(i16);
    if (m & JK__C_I32) ADD(i32);
    if (m & JK__C_I32S) ADD(i32s);
    if (m & JK__C_I64) ADD(i64);
    if (m & JK__C_ONE) out[n++] = jk_x86_imm(1);
    if (m & JK__C_THREE) out[n++] = jk_x86_imm(3);
    return n;
}

/* -- Instances ------------------------------------------------------------ */

static void add_neg(const char *text)
{
    if (nneg == capneg) {
        capneg = capneg ? capneg * 2 : 256;
        negs = realloc(negs, capneg * sizeof *negs);
    }
    snprintf(negs[nneg++], sizeof negs[0], "%s", text);
}

static int n_rejected_internal;

/* Encode one instance alone; keep it (positive) or record it as negative. */
static void instance(jk_x86_asm *a, unsigned id, unsigned n, const jk_x86_op *ops,
                     const char *prefix)
{
    char text[200], name[40];
    const char *w;
    jk_status s;
    int swap = prefix && !strcmp(prefix, ".s");
    snprintf(name, sizeof name, "%s%s", jk_x86_mnem_name((jk_x86_mnem)id), swap ? ".s" : "");
    tc_insn(text, sizeof text, swap ? NULL : prefix, name, n, ops);
    if (!seen_add(text))
        return;
    jk_x86_reset(a);
    if (swap)
        jk_x86_hint(a, JK_X86_HINT_SWAP);
    /* the prefix words, each through its API call */
    for (w = swap ? NULL : prefix; w && *w; w += strcspn(w, " "), w += *w == ' ') {
        size_t l = strcspn(w, " ");
#define IS(x) (l == sizeof x - 1 && !strncmp(w, x, l))
        if (IS("lock")) jk_x86_lock(a);
        else if (IS("rep")) jk_x86_rep(a);
        else if (IS("repe")) jk_x86_repe(a);
        else if (IS("repne")) jk_x86_repne(a);
        else if (IS("addr32")) jk_x86_addr32(a);
        else if (IS("xacquire")) jk_x86_xacquire(a);
        else if (IS("xrelease")) jk_x86_xrelease(a);
        else if (IS("{vex}")) jk_x86_hint(a, JK_X86_HINT_VEX);
        else if (IS("{vex3}")) jk_x86_hint(a, JK_X86_HINT_VEX3);
        else if (IS("{load}")) jk_x86_hint(a, JK_X86_HINT_LOAD);
        else if (IS("{store}")) jk_x86_hint(a, JK_X86_HINT_STORE);
        else if (IS("{disp8}")) jk_x86_hint(a, JK_X86_HINT_DISP8);
        else if (IS("{disp32}")) jk_x86_hint(a, JK_X86_HINT_DISP32);
#undef IS
    }
    s = jk_x86_emit(a, (jk_x86_mnem)id, n, ops);
    if (s != JK_OK) {
        if (s == JK_EINVAL || s == JK_ENOMEM) {
            fprintf(stderr, "internal error on '%s': %s\n", text, jk_x86_error(a)->message);
            n_rejected_internal++;
        }
        add_neg(text);
        return;
    }
    if (ninst == capinst) {
        capinst = capinst ? capinst * 2 : 4096;
        insts = realloc(insts, capinst * sizeof *insts);
    }
    if (slen + a->code.len > scap) {
        scap = (scap + a->code.len) * 2;
        stream = realloc(stream, scap);
    }
    memcpy(stream + slen, a->code.buf, a->code.len);
    snprintf(insts[ninst].text, sizeof insts[0].text, "%s", text);
    insts[ninst].off = slen;
    insts[ninst].len = a->code.len;
    insts[ninst].form = &jk__x86_forms[JK__K_FORM(a->last)];
    slen += a->code.len;
    ninst++;
}

static void gen_form(jk_x86_asm *a, unsigned id, const jk__x86_form *f)
{
    static jk_x86_op var[4][MAXV];
    unsigned cnt[4] = {1, 1, 1, 1}, i, k, maxc = 1;
    jk_x86_op ops[4];
    for (i = 0; i < f->nops; i++) {
        cnt[i] = variants(f->ops[i], f->roles[i], var[i]);
        if (!cnt[i])
            return;
        if (cnt[i] > maxc)
            maxc = cnt[i];
    }
    /* GNU as picks EVEX for these unless told {vex} (jk_x86_hint) */
    const char *dflt = (f->flags & JK__F_EVEXDEF) ? "{vex}" : NULL;
    for (k = 0; k < maxc; k++) {
        for (i = 0; i < f->nops; i++)
            ops[i] = var[i][(k + 3 * i) % cnt[i]];
        instance(a, id, f->nops, ops, dflt);
        /* a second pairing, so registers meet different partners */
        if (f->nops >= 2) {
            for (i = 0; i < f->nops; i++)
                ops[i] = var[i][(k * (2 * i + 1) + 5 * i) % cnt[i]];
            instance(a, id, f->nops, ops, dflt);
        }
    }
    /* pseudo-prefixes and the .s suffix on a few instances of every form:
     * {load} / {store} / .s (the register forms' direction), {vex3},
     * {disp8} / {disp32} (a based memory operand) */
    for (k = 0; k < 4 && k < maxc; k++) {
        unsigned regs = 1, mem = 0;
        for (i = 0; i < f->nops; i++) {
            ops[i] = var[i][(k * 5 + 2 * i) % cnt[i]];
            /* x87 registers: GNU as's {store} rules there are its own
             * (faddp, fxch); only st(0), st(i) with a twin is mirrored */
            regs &= ops[i].kind == JK_X86_OP_REG && ops[i].rclass != JK_X86_RC_ST;
            mem |= ops[i].kind == JK_X86_OP_MEM;
        }
        if (regs && f->nops >= 2 && !dflt) {
            instance(a, id, f->nops, ops, "{load}");
            instance(a, id, f->nops, ops, "{store}");
            instance(a, id, f->nops, ops, ".s");
        }
        if (f->enc == JK__ENC_VEX)
            instance(a, id, f->nops, ops, "{vex3}");
        if (mem && !dflt) {
            instance(a, id, f->nops, ops, "{disp8}");
            instance(a, id, f->nops, ops, "{disp32}");
        }
    }
    /* HLE: xacquire / xrelease with lock, on xchg with memory, xrelease on
     * mov to memory (the moffs stores in 32-bit mode are not taken) */
    if (f->nops && (f->flags & (JK__F_LOCK | JK__F_HLEREL))) {
        for (k = 0; k < 3; k++) {
            for (i = 0; i < f->nops; i++)
                ops[i] = var[i][(k * 7 + i) % cnt[i]];
            for (i = 0; i < cnt[0]; i++)
                if (var[0][(i + k * 13) % cnt[0]].kind == JK_X86_OP_MEM) {
                    ops[0] = var[0][(i + k * 13) % cnt[0]];
                    break;
                }
            if (f->flags & JK__F_LOCK) {
                instance(a, id, f->nops, ops, k & 1 ? "xacquire lock" : "xrelease lock");
                if (f->flags & JK__F_HLE)
                    instance(a, id, f->nops, ops, k & 1 ? "xrelease" : "xacquire");
            } else {
                instance(a, id, f->nops, ops, "xrelease");
                if (!k)
                    instance(a, id, f->nops, ops, "xacquire"); /* refused by both */
            }
        }
    }
    /* addr32 (64-bit mode): memory with 32-bit registers or an absolute
     * address (moffs forms with a 4-byte address), and an instance without
     * memory */
    if (mode64) {
        unsigned done = 0;
        for (k = 0; k < maxc && done < 6; k++) {
            unsigned mem = 0, ok = 1;
            for (i = 0; i < f->nops; i++) {
                ops[i] = var[i][(k + 3 * i) % cnt[i]];
                if (ops[i].kind == JK_X86_OP_MEM) {
                    mem = 1;
                    ok &= ops[i].rclass == JK_X86_RC_GP32 || ops[i].rclass == JK_X86_RC_NONE;
                }
            }
            if (ok && (mem || k == 0)) {
                instance(a, id, f->nops, ops, dflt ? "{vex} addr32" : "addr32");
                done++;
            }
        }
    }
    if ((f->flags & JK__F_LOCK) && f->nops && (f->ops[0] & JK__C_MEM)) {
        for (k = 0; k < 3; k++) {
            for (i = 0; i < f->nops; i++)
                ops[i] = var[i][(k * 7 + i) % cnt[i]];
            for (i = 0; i < cnt[0]; i++)
                if (var[0][(i + k * 11) % cnt[0]].kind == JK_X86_OP_MEM) {
                    ops[0] = var[0][(i + k * 11) % cnt[0]];
                    break;
                }
            instance(a, id, f->nops, ops, "lock");
        }
    }
    if (f->flags & JK__F_REP)
        instance(a, id, 0, ops, "rep");
    if (f->flags & JK__F_REPCC) {
        instance(a, id, 0, ops, "repe");
        instance(a, id, 0, ops, "repne");
    }
}

/* -- Hand-written negatives --------------------------------------------- */

typedef struct neg {
    int mode; /* 64, 32 or 0 for both */
    jk_status expect;
    const char *msg;  /* substring of jitkit's message */
} neg;

static jk_x86_op M(unsigned size, jk_x86_op b, jk_x86_op i, unsigned s, int64_t d)
{
    return jk_x86_mem(size, b, i, s, d);
}

/* Each entry: checks jitkit's status and message, and adds the text to the
 * file GNU as must reject. */
static int neg_fail;
static int neg_no_gas; /* GNU as reads this text differently: jitkit check only */

static void neg_one(jk_x86_asm *a, int mode, jk_status expect, const char *msg, const char *pfx,
                    unsigned id, unsigned n, jk_x86_op o0, jk_x86_op o1, jk_x86_op o2)
{
    jk_x86_op ops[3];
    char text[200];
    jk_status s;
    if (mode && mode != (mode64 ? 64 : 32))
        return;
    ops[0] = o0;
    ops[1] = o1;
    ops[2] = o2;
    jk_x86_reset(a);
    if (pfx && !strcmp(pfx, "lock"))
        jk_x86_lock(a);
    if (pfx && !strcmp(pfx, "rep"))
        jk_x86_rep(a);
    if (pfx && !strcmp(pfx, "addr32"))
        jk_x86_addr32(a);
    s = jk_x86_emit(a, (jk_x86_mnem)id, n, ops);
    tc_insn(text, sizeof text, pfx, jk_x86_mnem_name((jk_x86_mnem)id), n, ops);
    if (s != expect || !strstr(jk_x86_error(a)->message, msg)) {
        fprintf(stderr, "negative '%s': got %s \"%s\", want %s \"%s\"\n", text,
                jk_status_name(s), jk_x86_error(a)->message, jk_status_name(expect), msg);
        neg_fail++;
    }
    if (!neg_no_gas)
        add_neg(text);
}

static void negatives(jk_x86_asm *a)
{
    jk_x86_op N = JK_NOREG;
    neg_one(a, 0, JK_ENOFORM, "add: no form takes (m32, m32)", NULL, JK_X86_ADD, 2,
            M(4, JK_EAX, N, 1, 0), M(4, JK_EBX, N, 1, 0), N);
    neg_one(a, 64, JK_ENOFORM, "add: no form takes (m64, m64)", NULL, JK_X86_ADD, 2,
            M(8, JK_RAX, N, 1, 0), M(8, JK_RBX, N, 1, 0), N);
    neg_one(a, 64, JK_EOPERAND, "ah cannot be encoded with REX", NULL, JK_X86_MOV, 2, JK_R8B,
            JK_AH, N);
    neg_one(a, 64, JK_EOPERAND, "bh cannot be encoded with REX", NULL, JK_X86_ADD, 2, JK_BH,
            JK_SIL, N);
    neg_one(a, 64, JK_EOPERAND, "ch cannot be encoded with REX", NULL, JK_X86_MOV, 2, JK_CH,
            M(1, JK_R9, N, 1, 0), N);
    neg_one(a, 64, JK_EOPERAND, "rsp cannot be an index", NULL, JK_X86_MOV, 2, JK_EAX,
            M(4, JK_RAX, JK_RSP, 2, 0), N);
    neg_one(a, 32, JK_EOPERAND, "esp cannot be an index", NULL, JK_X86_MOV, 2, JK_EAX,
            M(4, JK_EAX, JK_ESP, 1, 0), N);
    neg_one(a, 64, JK_EOPERAND, "base and index differ", NULL, JK_X86_MOV, 2, JK_EAX,
            M(4, JK_RAX, JK_ECX, 1, 0), N);
    neg_one(a, 0, JK_ERANGE, "imm 256 does not fit imm8", NULL, JK_X86_SHL, 2, JK_EAX,
            jk_imm(256), N);
    neg_one(a, 0, JK_ERANGE, "imm 300 does not fit imm8", NULL, JK_X86_INT, 1, jk_imm(300), N, N);
    neg_one(a, 0, JK_ERANGE, "does not fit imm16", NULL, JK_X86_RET, 1, jk_imm(65536), N, N);
    neg_one(a, 0, JK_ERANGE, "does not fit imm8", NULL, JK_X86_MOV, 2, JK_AL, jk_imm(256), N);
    neg_one(a, 0, JK_ERANGE, "does not fit", NULL, JK_X86_ADD, 2, JK_AX, jk_imm(65536), N);
    neg_one(a, 64, JK_ERANGE, "does not fit", NULL, JK_X86_ADD, 2, JK_RAX, jk_imm(0xffffffff), N);
    neg_one(a, 64, JK_ERANGE, "does not fit", NULL, JK_X86_PUSH, 1, jk_imm(0x80000000), N, N);
    neg_one(a, 0, JK_ENOFORM, "add: ambiguous operand size", NULL, JK_X86_ADD, 2,
            M(0, mode64 ? JK_RAX : JK_EAX, N, 1, 0), jk_imm(1), N);
    neg_one(a, 0, JK_ENOFORM, "movzx: ambiguous operand size", NULL, JK_X86_MOVZX, 2, JK_EAX,
            M(0, mode64 ? JK_RAX : JK_EAX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "mov: no form takes (r32, r8)", NULL, JK_X86_MOV, 2, JK_EAX,
            JK_BL, N);
    neg_one(a, 0, JK_ENOFORM, "movzx: no form takes (r32, r32)", NULL, JK_X86_MOVZX, 2, JK_EAX,
            JK_EBX, N);
    neg_one(a, 0, JK_ENOFORM, "imul: no form takes (r32, r32, r32)", NULL, JK_X86_IMUL, 3,
            JK_EAX, JK_EBX, JK_ECX);
    neg_one(a, 0, JK_ENOFORM, "lea: no form takes (r32, r32)", NULL, JK_X86_LEA, 2, JK_EAX,
            JK_EBX, N);
    neg_one(a, 0, JK_ENOFORM, "xchg: no form takes (m32, m32)", NULL, JK_X86_XCHG, 2,
            M(4, JK_EAX, N, 1, 0), M(4, JK_EBX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "test: no form takes (imm, r32)", NULL, JK_X86_TEST, 2, jk_imm(1),
            JK_EAX, N);
    neg_one(a, 0, JK_EOPERAND, "lock: mov is not lockable", "lock", JK_X86_MOV, 2,
            M(4, JK_EAX, N, 1, 0), JK_EBX, N);
    neg_one(a, 0, JK_EOPERAND, "lock: add needs a memory destination", "lock", JK_X86_ADD, 2,
            JK_EAX, JK_EBX, N);
    neg_one(a, 32, JK_ENOFORM, "not available in 32-bit mode", NULL, JK_X86_CDQE, 0, N, N, N);
    neg_one(a, 32, JK_EOPERAND, "r8d requires 64-bit mode", NULL, JK_X86_INC, 1, JK_R8D, N, N);
    neg_one(a, 32, JK_EOPERAND, "spl requires 64-bit mode", NULL, JK_X86_INC, 1, JK_SPL, N, N);
    /* the same through each per-kind entry (reg-reg either side, reg-imm,
     * reg-mem, mem-reg, +r, byte registers that would need REX); in 32-bit
     * mode GNU as reads r8d, sil, ... as symbol names, so some of these are
     * memory operands to it and it accepts them */
    neg_no_gas = 1;
    neg_one(a, 32, JK_EOPERAND, "r8d requires 64-bit mode", NULL, JK_X86_ADD, 2, JK_R8D, JK_EAX, N);
    neg_one(a, 32, JK_EOPERAND, "r9d requires 64-bit mode", NULL, JK_X86_ADD, 2, JK_EAX, JK_R9D, N);
    neg_one(a, 32, JK_EOPERAND, "sil requires 64-bit mode", NULL, JK_X86_MOV, 2, JK_AL, JK_SIL, N);
    neg_one(a, 32, JK_EOPERAND, "r13d requires 64-bit mode", NULL, JK_X86_PUSH, 1, JK_R13D, N, N);
    neg_no_gas = 0;
    neg_one(a, 32, JK_EOPERAND, "r10d requires 64-bit mode", NULL, JK_X86_ADD, 2, JK_R10D,
            jk_imm(1), N);
    neg_one(a, 32, JK_EOPERAND, "r11d requires 64-bit mode", NULL, JK_X86_MOV, 2, JK_R11D,
            M(4, JK_EAX, N, 1, 0), N);
    neg_one(a, 32, JK_EOPERAND, "r12d requires 64-bit mode", NULL, JK_X86_MOV, 2,
            M(4, JK_EAX, N, 1, 0), JK_R12D, N);
    neg_one(a, 32, JK_EOPERAND, "dil requires 64-bit mode", NULL, JK_X86_MOV, 2,
            M(1, JK_EAX, N, 1, 0), JK_DIL, N);
    neg_no_gas = 1; /* in 32-bit mode GNU as takes "rip" for a symbol name */
    neg_one(a, 32, JK_EOPERAND, "rip-relative addressing needs 64-bit mode", NULL, JK_X86_MOV, 2,
            JK_EAX, M(4, JK_RIP, N, 1, 0), N);
    neg_no_gas = 0;
    neg_one(a, 64, JK_EOPERAND, "rip cannot be used with an index", NULL, JK_X86_MOV, 2, JK_EAX,
            M(4, JK_RIP, JK_RAX, 1, 0), N);
    neg_one(a, 64, JK_ENOFORM, "not available in 64-bit mode", NULL, JK_X86_AAA, 0, N, N, N);
    neg_one(a, 64, JK_ENOFORM, "not available in 64-bit mode", NULL, JK_X86_PUSH, 1, JK_EAX, N, N);
    neg_one(a, 0, JK_ENOFORM, "no form takes (r8)", NULL, JK_X86_BSWAP, 1, JK_AL, N, N);
    neg_one(a, 0, JK_ENOFORM, "no form takes (r16, r8)", NULL, JK_X86_ADD, 2, JK_AX, JK_AL, N);
    neg_one(a, 0, JK_ENOFORM, "shl: no form takes (r32, r8)", NULL, JK_X86_SHL, 2, JK_EAX, JK_DL,
            N);
    neg_one(a, 0, JK_ENOFORM, "movbe: no form takes (r32, r32)", NULL, JK_X86_MOVBE, 2, JK_EAX,
            JK_EBX, N);
    neg_one(a, 0, JK_ENOFORM, "andn: no form takes (r32, r32, imm)", NULL, JK_X86_ANDN, 3, JK_EAX,
            JK_EBX, jk_imm(1));
    neg_one(a, 0, JK_ENOFORM, "cmpxchg8b: no form takes (r32)", NULL, JK_X86_CMPXCHG8B, 1, JK_EAX,
            N, N);
    /* vector forms */
    neg_one(a, 0, JK_ENOFORM, "addps: no form takes (ymm, ymm)", NULL, JK_X86_ADDPS, 2, JK_YMM0,
            JK_YMM1, N);
    neg_one(a, 0, JK_ENOFORM, "vaddss: no form takes (ymm, ymm, ymm)", NULL, JK_X86_VADDSS, 3,
            JK_YMM0, JK_YMM1, JK_YMM2);
    neg_one(a, 0, JK_ENOFORM, "vaddps: no form takes (xmm, xmm, ymm)", NULL, JK_X86_VADDPS, 3,
            JK_XMM0, JK_XMM1, JK_YMM2);
    neg_one(a, 0, JK_ERANGE, "imm 256 does not fit imm8", NULL, JK_X86_PSHUFD, 3, JK_XMM0,
            JK_XMM1, jk_imm(256));
    neg_one(a, 0, JK_ERANGE, "imm -129 does not fit imm8", NULL, JK_X86_VPSLLD, 3, JK_XMM0,
            JK_XMM1, jk_imm(-129));
    neg_one(a, 0, JK_ENOFORM, "blendvps: no form takes (xmm, xmm, xmm)", NULL, JK_X86_BLENDVPS,
            3, JK_XMM1, JK_XMM2, JK_XMM3);
    neg_one(a, 0, JK_ENOFORM, "movd: no form takes (xmm, r16)", NULL, JK_X86_MOVD, 2, JK_XMM0,
            JK_AX, N);
    neg_one(a, 64, JK_ENOFORM, "cvtsi2sd: ambiguous operand size", NULL, JK_X86_CVTSI2SD, 2,
            JK_XMM0, M(0, JK_RAX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "vcvtpd2ps: ambiguous operand size", NULL, JK_X86_VCVTPD2PS, 2,
            JK_XMM0, M(0, mode64 ? JK_RAX : JK_EAX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "crc32: no form takes (r32, xmm)", NULL, JK_X86_CRC32, 2, JK_EAX,
            JK_XMM1, N);
    neg_one(a, 0, JK_EOPERAND, "xmm1 cannot be a base register", NULL, JK_X86_ADDPS, 2, JK_XMM0,
            M(16, JK_XMM1, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "addps: no form takes (xmm, vm128x)", NULL, JK_X86_ADDPS, 2,
            JK_XMM0, M(16, mode64 ? JK_RAX : JK_EAX, JK_XMM2, 4, 0), N);
    /* gathers: VSIB memory only, of the form's index width and element size,
     * three different registers, no rip base */
    neg_one(a, 0, JK_ENOFORM, "vgatherdps: the memory operand needs an xmm or ymm index", NULL,
            JK_X86_VGATHERDPS, 3, JK_XMM0, M(4, mode64 ? JK_RAX : JK_EAX, mode64 ? JK_RCX : JK_ECX,
            4, 0), JK_XMM2);
    neg_one(a, 0, JK_ENOFORM, "vgatherdps: no form takes (xmm, vmy, xmm)", NULL,
            JK_X86_VGATHERDPS, 3, JK_XMM0, M(0, mode64 ? JK_RAX : JK_EAX, JK_YMM1, 4, 0), JK_XMM2);
    neg_one(a, 0, JK_ENOFORM, "vgatherqps: no form takes (xmm, vm64y, xmm)", NULL,
            JK_X86_VGATHERQPS, 3, JK_XMM0, M(8, mode64 ? JK_RAX : JK_EAX, JK_YMM1, 4, 0), JK_XMM2);
    neg_one(a, 0, JK_ENOFORM, "vpgatherqq: no form takes (ymm, vm128y, ymm)", NULL,
            JK_X86_VPGATHERQQ, 3, JK_YMM0, M(16, mode64 ? JK_RAX : JK_EAX, JK_YMM1, 4, 0), JK_YMM2);
    neg_one(a, 0, JK_EOPERAND, "(xmm3 is both the destination and the index)", NULL,
            JK_X86_VPGATHERDD, 3, JK_XMM3, M(0, mode64 ? JK_RAX : JK_EAX, JK_XMM3, 4, 0), JK_XMM2);
    neg_one(a, 0, JK_EOPERAND, "(ymm3 is both the destination and the mask)", NULL,
            JK_X86_VGATHERDPD, 3, JK_YMM3, M(0, mode64 ? JK_RAX : JK_EAX, JK_XMM1, 4, 0), JK_YMM3);
    neg_one(a, 0, JK_EOPERAND, "(xmm2 is both the index and the mask)", NULL,
            JK_X86_VGATHERQPS, 3, JK_XMM0, M(0, mode64 ? JK_RAX : JK_EAX, JK_YMM2, 4, 0), JK_XMM2);
    neg_one(a, 64, JK_EOPERAND, "rip cannot be used with an index", NULL, JK_X86_VGATHERDPS, 3,
            JK_XMM0, M(0, JK_RIP, JK_XMM1, 4, 0), JK_XMM2);
    neg_one(a, 0, JK_ENOFORM, "movaps: no form takes (m128, m128)", NULL, JK_X86_MOVAPS, 2,
            M(16, mode64 ? JK_RAX : JK_EAX, N, 1, 0), M(16, mode64 ? JK_RBX : JK_EBX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "vmovss: no form takes (xmm, xmm)", NULL, JK_X86_VMOVSS, 2,
            JK_XMM0, JK_XMM1, N);
    neg_one(a, 64, JK_EOPERAND, "addr32: rax cannot address memory with 32 bits", "addr32",
            JK_X86_MOV, 2, JK_EAX, M(4, JK_RAX, N, 1, 0), N);
    neg_one(a, 64, JK_EOPERAND, "addr32: rip cannot address memory with 32 bits", "addr32",
            JK_X86_MOV, 2, JK_EAX, M(4, JK_RIP, N, 1, 0x10), N);
    neg_one(a, 32, JK_EOPERAND, "addr32: redundant in 32-bit mode", "addr32", JK_X86_MOV, 2,
            JK_EAX, M(4, JK_EAX, N, 1, 0), N);
    neg_one(a, 0, JK_ENOFORM, "fadd: no form takes (st, st)", NULL, JK_X86_FADD, 2, JK_ST1,
            JK_ST2, N);
    neg_one(a, 0, JK_ENOFORM, "fld: ambiguous operand size", NULL, JK_X86_FLD, 1,
            M(0, mode64 ? JK_RAX : JK_EAX, N, 1, 0), N, N);
    neg_one(a, 0, JK_ENOFORM, "fild: no form takes (m80)", NULL, JK_X86_FILD, 1,
            M(10, mode64 ? JK_RAX : JK_EAX, N, 1, 0), N, N);
    neg_one(a, 0, JK_ENOFORM, "fcmove: no form takes (st, st)", NULL, JK_X86_FCMOVE, 2, JK_ST1,
            JK_ST0, N);
    neg_no_gas = 1; /* GNU as in 32-bit mode: "bad register name" or a symbol */
    neg_one(a, 32, JK_EOPERAND, "xmm8 requires 64-bit mode", NULL, JK_X86_ADDPS, 2, JK_XMM8,
            JK_XMM1, N);
    neg_one(a, 32, JK_EOPERAND, "ymm15 requires 64-bit mode", NULL, JK_X86_VADDPS, 3, JK_YMM0,
            JK_YMM1, JK_YMM15);
    neg_no_gas = 0;
}

/* -- Oracle runs --------------------------------------------------------- */

static int check_mode(void)
{
    char path[600], cmd[4096], bin[512], nmf[512], obj[512];
    FILE *f;
    size_t i, glen = 0, nmlen = 0, dlen = 0;
    uint8_t *g;
    char *nmtxt, *p, *dis;
    size_t *gaddr;
    int bad = 0, shown = 0;
    const char *tag = mode64 ? "64" : "32";

    /* positive instances */
    snprintf(path, sizeof path, "%s/diff%s.s", TMP, tag);
    snprintf(obj, sizeof obj, "%s/diff%s.o", TMP, tag);
    snprintf(bin, sizeof bin, "%s/diff%s.bin", TMP, tag);
    snprintf(nmf, sizeof nmf, "%s/diff%s.nm", TMP, tag);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, ".intel_syntax noprefix\n");
    for (i = 0; i < ninst; i++)
        fprintf(f, "I%zu: %s\n", i, insts[i].text);
    fprintf(f, "I%zu:\n", ninst);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --%s -o '%s' '%s' 2>'%s.err'", AS, tag, obj, path, path);
    if (tc_run(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "head -40 '%s.err' >&2", path);
        tc_run(cmd);
        fprintf(stderr, "GNU as rejected instances jitkit accepted (see %s.err)\n", path);
        return 1;
    }
    snprintf(cmd, sizeof cmd, "'%s' -O binary -j .text '%s' '%s' && '%s' '%s' > '%s'", OBJCOPY,
             obj, bin, NM, obj, nmf);
    if (tc_run(cmd) != 0)
        return 1;
    g = tc_read_file(bin, &glen);
    nmtxt = (char *)tc_read_file(nmf, &nmlen);
    if (!g || !nmtxt)
        return 1;
    gaddr = calloc(ninst + 1, sizeof *gaddr);
    for (p = nmtxt; *p;) {
        unsigned long long addr;
        char type;
        size_t idx;
        if (sscanf(p, "%llx %c I%zu", &addr, &type, &idx) == 3 && idx <= ninst)
            gaddr[idx] = (size_t)addr;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    for (i = 0; i < ninst; i++) {
        size_t gl = gaddr[i + 1] - gaddr[i];
        if (gl != insts[i].len || gaddr[i] + gl > glen ||
            memcmp(g + gaddr[i], stream + insts[i].off, gl) != 0) {
            size_t k;
            bad++;
            if (shown++ < 40) {
                fprintf(stderr, "MISMATCH %s\n   jitkit:", insts[i].text);
                for (k = 0; k < insts[i].len; k++)
                    fprintf(stderr, " %02x", stream[insts[i].off + k]);
                fprintf(stderr, "\n   GNU as:");
                for (k = 0; k < gl && gaddr[i] + k < glen; k++)
                    fprintf(stderr, " %02x", g[gaddr[i] + k]);
                fprintf(stderr, "\n");
            }
        }
    }
    printf("mode %s: %zu instances, %zu bytes, %d differ from GNU as\n", tag, ninst, slen, bad);
    if (VECDIR && !bad) {
        /* a sample as byte vectors for tests/x86/vectors*.txt (GNU as's bytes) */
        char vp[600];
        size_t k;
        FILE *vf;
        snprintf(vp, sizeof vp, "%s/vectors%s.txt", VECDIR, tag);
        vf = fopen(vp, "w");
        if (vf) {
            fprintf(vf, "# %s-bit byte vectors: GNU as 2.40 bytes for a sample of the instances of\n"
                        "# tests/x86/diff_as.c (regenerate: test_x86_diff_as ... --vectors DIR).\n"
                        "# bytes<two spaces>instruction in GNU as Intel syntax\n", tag);
            for (i = 0; i < ninst; i += 37) {
                for (k = 0; k < insts[i].len; k++)
                    fprintf(vf, "%s%02x", k ? " " : "", g[gaddr[i] + k]);
                fprintf(vf, "  %s\n", insts[i].text);
            }
            fclose(vf);
        }
    }

    /* objdump read-back of jitkit's own stream */
    f = fopen(bin, "wb");
    fwrite(stream, 1, slen, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' -D -b binary -m %s -M intel '%s' > '%s.dis'", OBJDUMP,
             mode64 ? "i386:x86-64" : "i386", bin, bin);
    if (tc_run(cmd) != 0)
        return 1;
    snprintf(path, sizeof path, "%s.dis", bin);
    dis = (char *)tc_read_file(path, &dlen);
    if (!dis)
        return 1;
    {
        unsigned char *start = calloc(slen + 1, 1);
        size_t nbad = 0, nmiss = 0;
        for (p = dis; *p;) {
            unsigned long long addr;
            char *tab = strchr(p, '\t');
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = 0;
            if (tab && sscanf(p, " %llx:", &addr) == 1 && strchr(tab + 1, '\t') && addr < slen)
                start[addr] = 1;
            if (strstr(p, "(bad)"))
                nbad++;
            if (!nl)
                break;
            p = nl + 1;
        }
        for (i = 0; i < ninst; i++) {
            /* objdump shows fwait (9b, also addr32 fwait: 67 9b) and the x87
             * instruction after it as one (9b d9 e5: "fxam") */
            size_t j = i;
            int after_wait;
            while (j > 0 && insts[j - 1].len >= 1 &&
                   stream[insts[j - 1].off + insts[j - 1].len - 1] == 0x9b)
                j--;
            after_wait = j < i && start[insts[j].off];
            if (!start[insts[i].off] && !after_wait) {
                if (nmiss++ < 10)
                    fprintf(stderr, "READBACK: objdump finds no instruction at '%s'\n",
                            insts[i].text);
            }
        }
        printf("mode %s: objdump read-back: %zu misplaced, %zu (bad)\n", tag, nmiss, nbad);
        bad += (int)(nmiss + nbad);
        free(start);
    }
    free(dis);
    free(g);
    free(nmtxt);
    free(gaddr);
    return bad;
}

static int check_negatives(void)
{
    char path[512], cmd[2048], errf[512];
    FILE *f;
    size_t i, len = 0, nrej = 0;
    char *err, *p;
    unsigned char *hit;
    const char *tag = mode64 ? "64" : "32";
    int bad = 0;
    snprintf(path, sizeof path, "%s/neg%s.s", TMP, tag);
    snprintf(errf, sizeof errf, "%s/neg%s.err", TMP, tag);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, ".intel_syntax noprefix\n");
    for (i = 0; i < nneg; i++)
        fprintf(f, "%s\n", negs[i]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --%s -o '%s/neg%s.o' '%s' 2>'%s'", AS, tag, TMP, tag, path,
             errf);
    tc_run(cmd);
    err = (char *)tc_read_file(errf, &len);
    if (!err)
        return 1;
    hit = calloc(nneg + 3, 1);
    for (p = err; (p = strstr(p, ".s:")) != NULL; p++) {
        long line = strtol(p + 3, NULL, 10);
        char *e = strchr(p, '\n');
        /* GNU as only warns about some operands it truncates (mov al, 0x100:
         * "shortened"); jitkit refuses them: a warning counts as flagged. */
        char *w = strstr(p, "Error");
        if (!w || (e && w > e))
            w = strstr(p, "Warning");
        if (w && (!e || w < e) && line >= 2 && (size_t)(line - 2) < nneg)
            hit[line - 2] = 1;
    }
    for (i = 0; i < nneg; i++) {
        if (hit[i])
            nrej++;
        else {
            bad++;
            fprintf(stderr, "NEGATIVE: jitkit rejects '%s' but GNU as accepts it\n", negs[i]);
        }
    }
    printf("mode %s: %zu negative instances, GNU as rejects %zu\n", tag, nneg, nrej);
    free(hit);
    free(err);
    return bad;
}

static void run_mode(int m64)
{
    jk_x86_asm *a = NULL;
    unsigned id;
    size_t i, nforms = 0, covered = 0;
    unsigned char *hit = calloc(jk__x86_form_count, 1);
    mode64 = m64;
    ninst = slen = nneg = 0;
    n_rejected_internal = 0;
    neg_fail = 0;
    seen_clear();
    JT_OK(jk_x86_new(&a, m64 ? JK_X86_MODE64 : JK_X86_MODE32, NULL), (jk_error *)NULL);
    for (id = 0; id < JK_X86_MNEM_COUNT; id++) {
        unsigned k;
        for (k = jk__x86_mnem_first[id]; k < jk__x86_mnem_first[id + 1]; k++)
            if (!(jk__x86_forms[k].flags & (m64 ? JK__F_X86 : JK__F_X64)))
                gen_form(a, id, &jk__x86_forms[k]);
    }
    negatives(a);
    jk_x86_free(a);
    for (i = 0; i < ninst; i++)
        hit[insts[i].form - jk__x86_forms] = 1;
    for (i = 0; i < jk__x86_form_count; i++) {
        const jk__x86_form *f = &jk__x86_forms[i];
        unsigned k, rel = 0;
        if (f->flags & (m64 ? JK__F_X86 : JK__F_X64))
            continue;
        for (k = 0; k < f->nops; k++)
            rel |= (f->ops[k] & JK__C_REL) != 0;
        if (rel)
            continue; /* branches: tests/x86/branch_as.c */
        if (!m64 && i > 0 && (f[-1].flags & JK__F_VSWAP) && !(f->ops[0] & JK__C_MEM))
            continue; /* the store twin of a vs form: only xmm8..15 reach it */
        nforms++;
        if (hit[i])
            covered++;
        else {
            unsigned mid = 0;
            while (jk__x86_mnem_first[mid + 1] <= i)
                mid++;
            fprintf(stderr, "form not exercised (mode %d): #%zu %s\n", m64 ? 64 : 32, i,
                    jk__x86_mnem_names[mid]);
        }
    }
    printf("mode %d: %zu of %zu non-branch forms exercised\n", m64 ? 64 : 32, covered, nforms);
    JT_EQ_U64(n_rejected_internal, 0);
    JT_EQ_U64(neg_fail, 0);
    JT_EQ_U64(check_mode(), 0);
    JT_EQ_U64(check_negatives(), 0);
    JT_EQ_U64(covered, nforms);
    free(hit);
}

static void test_diff64(void) { run_mode(1); }
static void test_diff32(void) { run_mode(0); }

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s as objcopy nm objdump tmpdir\n", argv[0]);
        return 2;
    }
    AS = argv[1];
    OBJCOPY = argv[2];
    NM = argv[3];
    OBJDUMP = argv[4];
    TMP = argv[5];
    if (argc > 7 && !strcmp(argv[6], "--vectors"))
        VECDIR = argv[7];
    JT_RUN(test_diff64);
    JT_RUN(test_diff32);
    return jt_finish();
}
