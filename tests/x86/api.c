/*
 * tests/x86/api.c - the assembler API without host tools: argument
 * checks, sticky errors with their place and message, labels and
 * relaxation details (forced near, rel8-only range, unbound labels),
 * alignment and NOPs, data, caller-supplied buffers, relocations.
 * Expected bytes are those GNU as produces (the differential tests check
 * the encoder at large; these pin the API paths).
 */
#include "jt.h"

#include "jitkit/x86.h"

#include <string.h>

static jk_x86_asm *new64(void)
{
    jk_x86_asm *a = NULL;
    jk_x86_new(&a, JK_X86_MODE64, NULL);
    return a;
}

/* finish + copy at runtime address rt; returns malloc'd bytes */
static uint8_t *bytes(jk_x86_asm *a, size_t *n, uint64_t rt)
{
    uint8_t *b;
    if (jk_x86_finish(a, n) != JK_OK)
        return NULL;
    b = malloc(*n + 1);
    if (jk_x86_copy(a, b, *n, rt) != JK_OK) {
        free(b);
        return NULL;
    }
    return b;
}

#define EXPECT_BYTES(a, rt, ...)                                                    \
    do {                                                                            \
        static const uint8_t want_[] = {__VA_ARGS__};                               \
        size_t n_ = 0, i_;                                                          \
        uint8_t *got_ = bytes(a, &n_, rt);                                          \
        JT_CHECK_MSG(got_ != NULL, "%s", jk_x86_error(a)->message);                 \
        if (n_ != sizeof want_ || memcmp(got_, want_, n_) != 0) {                   \
            fprintf(stderr, "got:");                                                \
            for (i_ = 0; i_ < n_; i_++)                                             \
                fprintf(stderr, " %02x", got_[i_]);                                 \
            fprintf(stderr, "\n");                                                  \
            free(got_);                                                             \
            JT_CHECK_MSG(0, "bytes differ");                                        \
        }                                                                           \
        free(got_);                                                                 \
    } while (0)

static void test_args(void)
{
    jk_x86_asm *a = NULL;
    jk_error e;
    JT_EQ_U64(jk_x86_new(NULL, JK_X86_MODE64, &e), JK_EINVAL);
    JT_EQ_U64(jk_x86_new(&a, (jk_x86_mode)7, &e), JK_EINVAL);
    JT_CHECK(a == NULL);
    JT_EQ_U64(jk_x86_emit(NULL, JK_X86_NOP, 0, NULL), JK_EINVAL);
    JT_EQ_U64(jk_x86_finish(NULL, NULL), JK_EINVAL);
    JT_EQ_U64(jk_x86_status(NULL), JK_EINVAL);
    JT_EQ_U64(jk_x86_label(NULL, "x"), 0);
    jk_x86_free(NULL);
    a = new64();
    JT_EQ_U64(jk_x86_emit(a, JK_X86_MNEM_COUNT, 0, NULL), JK_EINVAL);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_emit(a, JK_X86_ADD, 2, NULL), JK_EINVAL);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_emit(a, JK_X86_ADD, 5, NULL), JK_EINVAL);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_emit_name(a, "frobnicate", 0, NULL), JK_ENOFORM);
    JT_CONTAINS(jk_x86_error(a)->message, "unknown mnemonic 'frobnicate'");
    jk_x86_free(a);
}

static void test_names(void)
{
    JT_EQ_U64(jk_x86_mnem_find("add"), JK_X86_ADD);
    JT_EQ_U64(jk_x86_mnem_find("cmovne"), JK_X86_CMOVNE);
    JT_EQ_U64(jk_x86_mnem_find("zzz"), JK_X86_MNEM_COUNT);
    JT_EQ_U64(jk_x86_mnem_find(NULL), JK_X86_MNEM_COUNT);
    JT_EQ_STR(jk_x86_mnem_name(JK_X86_JNZ), "jnz");
    JT_EQ_STR(jk_x86_mnem_name(JK_X86_MNEM_COUNT), "?");
}

static void test_sticky_error(void)
{
    jk_x86_asm *a = new64();
    size_t idx = 99, off = 99;
    jk_x86_op ops[2];
    jk_x86_nop(a);
    jk_x86_add(a, JK_EAX, jk_imm(1));
    ops[0] = jk_x86_mem(8, JK_RAX, JK_NOREG, 1, 0);
    ops[1] = jk_x86_mem(8, JK_RBX, JK_NOREG, 1, 0);
    JT_EQ_U64(jk_x86_emit(a, JK_X86_ADD, 2, ops), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(a)->message, "add: no form takes (m64, m64)");
    /* later calls do nothing and keep the first error */
    JT_EQ_U64(jk_x86_mov(a, JK_R8B, JK_AH), JK_ENOFORM);
    JT_EQ_U64(jk_x86_nop(a), JK_ENOFORM);
    JT_EQ_U64(jk_x86_finish(a, NULL), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(a)->message, "add: no form takes (m64, m64)");
    jk_x86_error_where(a, &idx, &off);
    JT_EQ_U64(idx, 2);
    JT_EQ_U64(off, 4);
    /* reset clears it */
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_status(a), JK_OK);
    JT_EQ_U64(jk_x86_mov(a, JK_R8B, JK_AH), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "mov: ah cannot be encoded with REX");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_RAX, JK_RSP, 2, 0));
    JT_EQ_STR(jk_x86_error(a)->message, "mov: rsp cannot be an index");
    jk_x86_reset(a);
    jk_x86_shl(a, JK_EAX, jk_imm(300));
    JT_EQ_STR(jk_x86_error(a)->message, "shl: imm 300 does not fit imm8");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_RAX, JK_RCX, 3, 0));
    JT_CONTAINS(jk_x86_error(a)->message, "scale must be 1, 2, 4 or 8");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(3, JK_RAX, JK_NOREG, 1, 0));
    JT_EQ_U64(jk_x86_status(a), JK_EOPERAND);
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_EAX, JK_NOREG, 1, 0x100000000ll));
    JT_CONTAINS(jk_x86_error(a)->message, "displacement does not fit 32 bits");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_RAX, JK_NOREG, 1, 0x80000000ll));
    JT_CONTAINS(jk_x86_error(a)->message, "displacement");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, jk_imm(3), JK_NOREG, 1, 0));
    JT_CONTAINS(jk_x86_error(a)->message, "malformed memory operand");
    jk_x86_reset(a);
    jk_x86_mov(a, JK_EAX, JK_RIP);
    JT_CONTAINS(jk_x86_error(a)->message, "rip can only be a memory base");
    jk_x86_free(a);
}

static void test_unbound_label(void)
{
    jk_x86_asm *a = new64();
    jk_label l = jk_x86_label(a, "loop"), u = jk_x86_label(a, "unused");
    (void)u;
    jk_x86_jmp(a, jk_lbl(l));
    JT_EQ_U64(jk_x86_finish(a, NULL), JK_ELABEL);
    JT_EQ_STR(jk_x86_error(a)->message, "label 'loop' never bound");
    jk_x86_reset(a);
    l = jk_x86_label(a, NULL);
    jk_x86_bind(a, l);
    JT_EQ_U64(jk_x86_bind(a, l), JK_ELABEL);
    JT_CONTAINS(jk_x86_error(a)->message, "already bound");
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_jmp(a, jk_lbl(77)), JK_ELABEL);
    jk_x86_free(a);
}

static void test_relax(void)
{
    jk_x86_asm *a = new64();
    jk_label l = jk_x86_label(a, "x");
    jk_x86_jmp(a, jk_lbl(l));
    jk_x86_jz(a, jk_lbl(l));
    jk_x86_bind(a, l);
    jk_x86_jmp(a, jk_lbl(l));
    jk_x86_jmp(a, jk_x86_lbl_near(l));
    jk_x86_jnz(a, jk_x86_lbl_near(l));
    EXPECT_BYTES(a, 0, 0xeb, 0x02, 0x74, 0x00, 0xeb, 0xfe, 0xe9, 0xf9, 0xff, 0xff, 0xff, 0x0f,
                 0x85, 0xf3, 0xff, 0xff, 0xff);
    /* exactly at the boundary: 127 forward is short, 128 long */
    jk_x86_reset(a);
    l = jk_x86_label(a, NULL);
    jk_x86_jmp(a, jk_lbl(l));
    jk_x86_nops(a, 127);
    jk_x86_bind(a, l);
    {
        size_t n = 0;
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, 129);
    }
    jk_x86_reset(a);
    l = jk_x86_label(a, NULL);
    jk_x86_jmp(a, jk_lbl(l));
    jk_x86_nops(a, 128);
    jk_x86_bind(a, l);
    {
        size_t n = 0;
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, 133);
    }
    /* backward -128 is short */
    jk_x86_reset(a);
    l = jk_x86_label(a, NULL);
    jk_x86_bind(a, l);
    jk_x86_nops(a, 126);
    jk_x86_jmp(a, jk_lbl(l));
    {
        size_t n = 0;
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, 128);
    }
    /* loop cannot grow: out of range is an error naming the label */
    jk_x86_reset(a);
    l = jk_x86_label(a, "far");
    jk_x86_bind(a, l);
    jk_x86_nops(a, 200);
    jk_x86_loop(a, jk_lbl(l));
    JT_EQ_U64(jk_x86_finish(a, NULL), JK_ERANGE);
    JT_CONTAINS(jk_x86_error(a)->message, "label 'far' is -202 bytes away: out of rel8 range");
    /* finish twice reports the size, emit after finish refused */
    jk_x86_reset(a);
    jk_x86_ret(a);
    {
        size_t n = 0;
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, 1);
        JT_EQ_U64(jk_x86_ret(a), JK_ESTATE);
    }
    jk_x86_free(a);
}

/* a chain where growing one branch pushes others out of range */
static void test_relax_chain(void)
{
    jk_x86_asm *a = new64();
    jk_label l[40];
    int i;
    size_t n = 0;
    for (i = 0; i < 40; i++)
        l[i] = jk_x86_label(a, NULL);
    for (i = 0; i < 40; i++) {
        jk_x86_bind(a, l[i]);
        if (i + 1 < 40)
            jk_x86_jmp(a, jk_lbl(l[39]));
        jk_x86_nops(a, 2);
    }
    JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
    /* every branch that reaches with rel8 after layout is short */
    {
        uint8_t *b = malloc(n);
        size_t k = 0, end;
        JT_OK(jk_x86_copy(a, b, n, 0), jk_x86_error(a));
        JT_OK(jk_x86_label_offset(a, l[39], &end), (jk_error *)NULL);
        while (k < end) {
            if (b[k] == 0xeb) {
                JT_CHECK((int)end - (int)(k + 2) <= 127);
                k += 2;
            } else if (b[k] == 0xe9) {
                JT_CHECK((int)end - (int)(k + 2) > 127);
                k += 5;
            } else {
                k++;
            }
        }
        free(b);
    }
    jk_x86_free(a);
}

static void test_align_nops(void)
{
    jk_x86_asm *a = new64();
    jk_x86_ret(a);
    jk_x86_align(a, 16);
    jk_x86_ret(a);
    /* GNU as's padding: its 11-byte NOP, then the 4-byte one */
    EXPECT_BYTES(a, 0, 0xc3, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x0f, 0x1f, 0x40,
                 0, 0xc3);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_align(a, 3), JK_EINVAL);
    jk_x86_reset(a);
    jk_x86_nops(a, 3);
    jk_x86_nops(a, 1);
    jk_x86_nops(a, 2);
    EXPECT_BYTES(a, 0, 0x0f, 0x1f, 0x00, 0x90, 0x66, 0x90);
    jk_x86_free(a);
}

static void test_data_and_buffers(void)
{
    jk_x86_asm *a = new64();
    jk_label l = jk_x86_label(a, "here"), ab = jk_x86_label_abs(a, 0x1122334455667788ull);
    uint8_t small[4];
    jk_x86_db(a, "\x01\x02", 2);
    jk_x86_dw(a, 0x0304);
    jk_x86_bind(a, l);
    jk_x86_dd(a, 0x05060708);
    jk_x86_dq(a, 0x090a0b0c0d0e0f10ull);
    jk_x86_dlabel(a, l, 1);
    jk_x86_dlabel(a, ab, 0);
    EXPECT_BYTES(a, 0x1000, 0x01, 0x02, 0x04, 0x03, 0x08, 0x07, 0x06, 0x05, 0x10, 0x0f, 0x0e,
                 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x05, 0x10, 0, 0, 0, 0, 0, 0, 0x88, 0x77, 0x66,
                 0x55, 0x44, 0x33, 0x22, 0x11);
    JT_EQ_U64(jk_x86_copy(a, small, sizeof small, 0), JK_ENOSPACE);
    jk_x86_reset(a);
    /* movabs with a label address, call to an absolute address */
    ab = jk_x86_label_abs(a, 0x2000);
    jk_x86_mov(a, JK_RAX, jk_lbl(ab));
    jk_x86_call(a, jk_lbl(ab));
    jk_x86_jmp(a, jk_lbl(ab));
    EXPECT_BYTES(a, 0x1000, 0x48, 0xb8, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0xe8, 0xf1, 0x0f, 0, 0,
                 0xe9, 0xec, 0x0f, 0, 0);
    jk_x86_reset(a);
    /* a forced rel32 (jk_x86_lbl_near) that cannot reach: an error */
    ab = jk_x86_label_abs(a, 0x2000);
    jk_x86_call(a, jk_x86_lbl_near(ab));
    {
        size_t n;
        uint8_t buf[8];
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0x7f0000000000ull), JK_ENOTNEAR);
    }
    jk_x86_reset(a);
    jk_x86_call(a, jk_lbl(jk_x86_label_extern(a, "nowhere")));
    {
        size_t n;
        uint8_t buf[8];
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0), JK_ELABEL);
        JT_CONTAINS(jk_x86_error(a)->message, "'nowhere' not resolved");
    }
    jk_x86_free(a);
}

/* Calls and jumps to an address or an external symbol: rel32 where the
 * code lands within reach, else through an 8-byte slot after the code,
 * decided at copy. */
static uint64_t far_resolve(void *ctx, const char *name, int *found)
{
    (void)ctx;
    *found = strcmp(name, "far_fn") == 0;
    return *found ? 0x7f1234567000ull : 0;
}

#define COPY_BYTES(a, rt, ...)                                                         \
    do {                                                                               \
        static const uint8_t want_[] = {__VA_ARGS__};                                  \
        uint8_t got_[64];                                                              \
        size_t n_ = 0;                                                                 \
        JT_OK(jk_x86_copy(a, got_, sizeof got_, rt), jk_x86_error(a));                 \
        JT_OK(jk_x86_finish(a, &n_), jk_x86_error(a));                                 \
        JT_EQ_U64(n_, sizeof want_);                                                   \
        if (memcmp(got_, want_, sizeof want_) != 0) {                                  \
            for (size_t i_ = 0; i_ < n_ && i_ < sizeof got_; i_++)                     \
                fprintf(stderr, " %02x", got_[i_]);                                    \
            fputc('\n', stderr);                                                       \
        }                                                                              \
        JT_CHECK_MSG(memcmp(got_, want_, sizeof want_) == 0, "bytes differ");          \
    } while (0)

static void test_far_calls(void)
{
    jk_x86_asm *a = new64();
    jk_label t;
    size_t n;
    uint8_t small[15];
    /* near: rel32 as GNU as writes it */
    t = jk_x86_label_abs(a, 0x2000);
    jk_x86_call(a, jk_lbl(t));
    COPY_BYTES(a, 0x1000, 0xe8, 0xfb, 0x0f, 0, 0);
    /* far: call [rip+slot], the slot 8-aligned after the code */
    jk_x86_reset(a);
    t = jk_x86_label_abs(a, 0x2000);
    jk_x86_call(a, jk_lbl(t));
    COPY_BYTES(a, 0x7f0000000000ull, 0xff, 0x15, 0x02, 0, 0, 0, 0x66, 0x90, 0x00, 0x20, 0, 0, 0, 0,
               0, 0);
    jk_x86_reset(a);
    t = jk_x86_label_abs(a, 0x2000);
    jk_x86_jmp(a, jk_lbl(t));
    COPY_BYTES(a, 0x7f0000000000ull, 0xff, 0x25, 0x02, 0, 0, 0, 0x66, 0x90, 0x00, 0x20, 0, 0, 0, 0,
               0, 0);
    /* jcc: the opposite short jcc over jmp [rip+slot] */
    jk_x86_reset(a);
    t = jk_x86_label_abs(a, 0x2000);
    jk_x86_jz(a, jk_lbl(t));
    COPY_BYTES(a, 0x7f0000000000ull, 0x75, 0x06, 0xff, 0x25, 0, 0, 0, 0, 0x00, 0x20, 0, 0, 0, 0, 0,
               0);
    /* one near, one far, with a label and the constant pool between: the
     * slot follows the pool, a backward jump over the grown call still lands */
    jk_x86_reset(a);
    {
        jk_label top = jk_x86_label(a, "top");
        uint64_t k = 0x1122334455667788ull;
        jk_x86_bind(a, top);
        jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, 0x2000)));
        jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, 0x7f0000009000ull)));
        jk_x86_mov(a, JK_RAX, jk_x86_mem_label(8, jk_x86_const(a, &k, 8, 8), 0));
        jk_x86_jnz(a, jk_lbl(top));
        COPY_BYTES(a, 0x1000, 0xe8, 0xfb, 0x0f, 0, 0,         /* call 0x2000 */
                   0xff, 0x15, 0x15, 0, 0, 0,                  /* call [rip+0x15] -> 0x20 */
                   0x48, 0x8b, 0x05, 0x06, 0, 0, 0,            /* mov rax, [rip+6] -> 0x18 */
                   0x75, 0xec,                                 /* jnz top */
                   0x0f, 0x1f, 0x40, 0x00,                     /* pad to 8 */
                   0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* pool */
                   0x00, 0x90, 0, 0, 0, 0x7f, 0, 0);           /* slot */
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, 0x28);
    }
    /* an external symbol resolved far away */
    jk_x86_reset(a);
    jk_x86_set_resolver(a, far_resolve, NULL);
    jk_x86_jmp(a, jk_lbl(jk_x86_label_plus(a, jk_x86_label_extern(a, "far_fn"), 16)));
    COPY_BYTES(a, 0x1000, 0xff, 0x25, 0x02, 0, 0, 0, 0x66, 0x90, 0x10, 0x70, 0x56, 0x34, 0x12,
               0x7f, 0, 0);
    /* too small once it grows: JK_ENOSPACE names the size */
    jk_x86_reset(a);
    jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, 0x2000)));
    JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
    JT_EQ_U64(n, 5);
    JT_EQ_U64(jk_x86_copy(a, small, sizeof small, 0x7f0000000000ull), JK_ENOSPACE);
    JT_CONTAINS(jk_x86_error(a)->message, "16 bytes needed");
    jk_x86_free(a);
    /* 32-bit mode: rel32 wraps, every target reaches */
    a = NULL;
    JT_EQ_U64(jk_x86_new(&a, JK_X86_MODE32, NULL), JK_OK);
    jk_x86_call(a, jk_lbl(jk_x86_label_abs(a, 0x2000)));
    COPY_BYTES(a, 0xf0000000u, 0xe8, 0xfb, 0x1f, 0x00, 0x10);
    jk_x86_free(a);
}

static void test_prefixes(void)
{
    jk_x86_asm *a = new64();
    jk_x86_lock(a);
    jk_x86_add(a, jk_x86_mem(4, JK_RAX, JK_NOREG, 1, 0), jk_imm(1));
    jk_x86_rep(a);
    jk_x86_stosq(a);
    jk_x86_repne(a);
    jk_x86_scasb(a);
    jk_x86_lock(a);
    jk_x86_cmpxchg16b(a, jk_x86_mem(16, JK_RSI, JK_NOREG, 1, 0));
    EXPECT_BYTES(a, 0, 0xf0, 0x83, 0x00, 0x01, 0xf3, 0x48, 0xab, 0xf2, 0xae, 0xf0, 0x48, 0x0f,
                 0xc7, 0x0e);
    jk_x86_reset(a);
    jk_x86_lock(a);
    JT_EQ_U64(jk_x86_mov(a, jk_x86_mem(4, JK_RAX, JK_NOREG, 1, 0), JK_EAX), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "lock: mov is not lockable");
    jk_x86_reset(a);
    jk_x86_rep(a);
    JT_EQ_U64(jk_x86_add(a, JK_EAX, JK_EAX), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "rep: add is not a string instruction");
    jk_x86_reset(a);
    jk_x86_repne(a);
    JT_EQ_U64(jk_x86_movsb(a), JK_EOPERAND);
    jk_x86_reset(a);
    jk_x86_rep(a);
    JT_EQ_U64(jk_x86_repne(a), JK_EOPERAND);
    jk_x86_reset(a);
    jk_x86_lock(a);
    JT_EQ_U64(jk_x86_finish(a, NULL), JK_ESTATE);
    jk_x86_free(a);
}

/* jk_x86_rex: the bits join the instruction's own REX byte, after the
 * legacy prefixes (bytes as GNU as 2.40 gives for rex.W ... / rex.B ...). */
/* Pseudo-prefixes (jk_x86_hint), HLE prefixes, VSIB: contracts and messages
 * (the bytes themselves are checked against GNU as by x86_diff_as). */
static void test_hints_hle_vsib(void)
{
    jk_x86_asm *a = new64();
    jk_x86_op m = jk_x86_mem(4, JK_RAX, JK_NOREG, 1, 0);
    JT_EQ_U64(jk_x86_hint(NULL, JK_X86_HINT_VEX), JK_EINVAL);
    JT_EQ_U64(jk_x86_hint(a, 0x80), JK_EINVAL);
    JT_EQ_STR(jk_x86_error(a)->message, "hint: unknown bits 0x80");
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_hint(a, JK_X86_HINT_LOAD | JK_X86_HINT_STORE), JK_EOPERAND);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_hint(a, JK_X86_HINT_DISP8), JK_OK);
    JT_EQ_U64(jk_x86_hint(a, JK_X86_HINT_DISP32), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "hint: {disp8} and {disp32} together");
    jk_x86_reset(a);
    /* {load} / {store} / .s, {vex3}, {disp8}: one instruction each */
    jk_x86_hint(a, JK_X86_HINT_LOAD);
    jk_x86_mov(a, JK_EAX, JK_EBX);                           /* 8b c3 */
    jk_x86_mov(a, JK_EAX, JK_EBX);                           /* 89 d8: the hint is gone */
    jk_x86_hint(a, JK_X86_HINT_SWAP);
    jk_x86_movaps(a, JK_XMM0, JK_XMM1);                      /* 0f 29 c8 */
    jk_x86_hint(a, JK_X86_HINT_VEX3);
    jk_x86_vaddps(a, JK_XMM0, JK_XMM1, JK_XMM2);             /* c4 e1 70 58 c2 */
    jk_x86_hint(a, JK_X86_HINT_DISP8);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_RBX, JK_NOREG, 1, 0)); /* 8b 43 00 */
    EXPECT_BYTES(a, 0, 0x8b, 0xc3, 0x89, 0xd8, 0x0f, 0x29, 0xc8, 0xc4, 0xe1, 0x70, 0x58, 0xc2,
                 0x8b, 0x43, 0x00);
    jk_x86_reset(a);
    jk_x86_hint(a, JK_X86_HINT_VEX);
    JT_EQ_U64(jk_x86_add(a, JK_EAX, JK_EBX), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "{vex}: add is not VEX-encoded");
    jk_x86_reset(a);
    /* GNU as's default for vpdpbusd is EVEX: refused without {vex} */
    JT_EQ_U64(jk_x86_vpdpbusd(a, JK_XMM0, JK_XMM1, JK_XMM2), JK_EUNSUPPORTED);
    JT_CHECK(strstr(jk_x86_error(a)->message, "{vex} (JK_X86_HINT_VEX) selects the VEX form") != NULL);
    jk_x86_reset(a);
    jk_x86_hint(a, JK_X86_HINT_VEX);
    jk_x86_vpdpbusd(a, JK_XMM0, JK_XMM1, JK_XMM2);           /* c4 e2 71 50 c2 */
    EXPECT_BYTES(a, 0, 0xc4, 0xe2, 0x71, 0x50, 0xc2);
    jk_x86_reset(a);
    /* HLE */
    jk_x86_xacquire(a);
    JT_EQ_U64(jk_x86_add(a, m, JK_EAX), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "xacquire: add needs lock");
    jk_x86_reset(a);
    jk_x86_xrelease(a);
    JT_EQ_U64(jk_x86_xacquire(a), JK_EOPERAND);
    jk_x86_reset(a);
    jk_x86_xacquire(a);
    jk_x86_lock(a);
    jk_x86_add(a, m, JK_EAX);                                /* f2 f0 01 00 */
    jk_x86_xrelease(a);
    jk_x86_mov(a, m, JK_EAX);                                /* f3 89 00 */
    EXPECT_BYTES(a, 0, 0xf2, 0xf0, 0x01, 0x00, 0xf3, 0x89, 0x00);
    jk_x86_free(a);
    /* 32-bit: xrelease mov [abs], eax takes the ModRM form, not the moffs A3 */
    jk_x86_new(&a, JK_X86_MODE32, NULL);
    jk_x86_xrelease(a);
    jk_x86_mov(a, jk_x86_mem_abs(4, 0x12345678), JK_EAX);
    jk_x86_mov(a, jk_x86_mem_abs(4, 0x12345678), JK_EAX);    /* a3: no hint */
    EXPECT_BYTES(a, 0, 0xf3, 0x89, 0x05, 0x78, 0x56, 0x34, 0x12, 0xa3, 0x78, 0x56, 0x34, 0x12);
    jk_x86_reset(a);
    /* VSIB: the registers must differ; a GP index is refused */
    JT_EQ_U64(jk_x86_vpgatherdd(a, JK_XMM1, jk_x86_mem(0, JK_EAX, JK_XMM1, 4, 0), JK_XMM2),
              JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "vpgatherdd: the destination, index and mask registers "
                                        "must differ (xmm1 is both the destination and the index)");
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_vpgatherdd(a, JK_XMM1, jk_x86_mem(0, JK_EAX, JK_ECX, 4, 0), JK_XMM2),
              JK_ENOFORM);
    jk_x86_reset(a);
    jk_x86_vpgatherdd(a, JK_XMM1, jk_x86_mem(4, JK_NOREG, JK_XMM3, 8, 0x10), JK_XMM2);
    EXPECT_BYTES(a, 0, 0xc4, 0xe2, 0x69, 0x90, 0x0c, 0xdd, 0x10, 0x00, 0x00, 0x00);
    jk_x86_free(a);
}

static void test_rex_prefix(void)
{
    jk_x86_asm *a = new64();
    jk_label l, far;
    jk_x86_rex(a, 8);
    jk_x86_add(a, JK_EAX, jk_imm(1));          /* 48 83 c0 01: add rax, 1 */
    jk_x86_rex(a, 8);
    jk_x86_add(a, JK_R8D, jk_imm(1));          /* 49 83 c0 01 */
    jk_x86_rex(a, 8);
    jk_x86_lock(a);
    jk_x86_add(a, jk_x86_mem(4, JK_RAX, JK_NOREG, 1, 0), JK_EAX); /* f0 48 01 00 */
    jk_x86_rex(a, 0);
    jk_x86_mov(a, JK_AL, jk_imm(1));           /* 40 b0 01 */
    jk_x86_rex(a, 1);
    jk_x86_nop(a);                             /* 41 90 */
    EXPECT_BYTES(a, 0, 0x48, 0x83, 0xc0, 0x01, 0x49, 0x83, 0xc0, 0x01, 0xf0, 0x48, 0x01, 0x00,
                 0x40, 0xb0, 0x01, 0x41, 0x90);
    /* a relaxable branch keeps the REX in its short and its long form */
    jk_x86_reset(a);
    l = jk_x86_label(a, NULL);
    far = jk_x86_label(a, NULL);
    jk_x86_rex(a, 8);
    jk_x86_jmp(a, jk_x86_lbl(l));
    jk_x86_bind(a, l);
    jk_x86_rex(a, 8);
    jk_x86_jne(a, jk_x86_lbl(far));
    for (int i = 0; i < 200; i++)
        jk_x86_nop(a);
    jk_x86_bind(a, far);
    {
        size_t n = 0;
        uint8_t c[256];
        static const uint8_t want[] = {0x48, 0xeb, 0x00, 0x48, 0x0f, 0x85, 0xc8, 0x00, 0x00, 0x00};
        JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
        JT_EQ_U64(n, sizeof want + 200);
        JT_OK(jk_x86_copy(a, c, sizeof c, 0), jk_x86_error(a));
        JT_CHECK(memcmp(c, want, sizeof want) == 0);
    }
    /* refusals */
    jk_x86_reset(a);
    jk_x86_rex(a, 0);
    JT_EQ_U64(jk_x86_mov(a, JK_AH, jk_imm(1)), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "mov: ah cannot be encoded with REX");
    jk_x86_reset(a);
    jk_x86_rex(a, 8);
    JT_EQ_U64(jk_x86_rex(a, 1), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "rex: only one REX prefix per instruction");
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_rex(a, 16), JK_EINVAL);
    jk_x86_reset(a);
    jk_x86_rex(a, 8);
    JT_EQ_U64(jk_x86_finish(a, NULL), JK_ESTATE);
    jk_x86_free(a);
    JT_OK(jk_x86_new(&a, JK_X86_MODE32, NULL), (jk_error *)NULL);
    JT_EQ_U64(jk_x86_rex(a, 8), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "rex: a REX prefix needs 64-bit mode");
    jk_x86_free(a);
}

/* Absolute label operands: jk_x86_imm_label (`offset T+k`) and
 * jk_x86_mem_label_abs (`[T + index*scale + k]`), relocated at copy; the
 * copy-time range checks name the label. */
static void test_abs_labels(void)
{
    jk_x86_asm *a = new64();
    jk_label t = jk_x86_label(a, "table");
    uint8_t buf[64];
    size_t n;
    /* mov rax, offset table+8 (imm32 sign-extended); movabs; mov eax (zero-extended) */
    jk_x86_mov(a, JK_RAX, jk_x86_imm_label(t, 8));
    jk_x86_movabs(a, JK_RCX, jk_x86_imm_label(t, -1));
    jk_x86_mov(a, JK_EDX, jk_x86_imm_label(t, 0));
    jk_x86_jmp(a, jk_x86_mem_label_abs(8, JK_NOREG, JK_RAX, 8, t, 0));
    jk_x86_bind(a, t);
    EXPECT_BYTES(a, 0x1000, 0x48, 0xc7, 0xc0, 0x25, 0x10, 0, 0,             /* 0x1000+0x1d+8 */
                 0x48, 0xb9, 0x1c, 0x10, 0, 0, 0, 0, 0, 0,                 /* movabs rcx */
                 0xba, 0x1d, 0x10, 0, 0,                                   /* mov edx */
                 0xff, 0x24, 0xc5, 0x1d, 0x10, 0, 0);                      /* jmp [t+rax*8] */
    /* the same code where the table does not fit a sign-extended imm32 */
    JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0x7f0000000000ull), JK_ERANGE);
    JT_CONTAINS(jk_x86_error(a)->message, "label 'table' address 0x7f0000000025 does not fit a "
                                          "sign-extended imm32/disp32");
    {
        size_t idx = 99, off = 99; /* the first instruction's imm32, at offset 3 */
        jk_x86_error_where(a, &idx, &off);
        JT_EQ_U64(idx, 0);
        JT_EQ_U64(off, 3);
    }
    jk_x86_reset(a);
    /* zero-extended field (mov r32) above 4 GiB; sign-extended one below 2 GiB fits */
    t = jk_x86_label(a, "t2");
    jk_x86_bind(a, t);
    jk_x86_mov(a, JK_EAX, jk_x86_imm_label(t, 0));
    JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
    JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0x7fff0000ull), JK_OK);
    JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0x100000000ull), JK_ERANGE);
    JT_CONTAINS(jk_x86_error(a)->message, "label 't2' address 0x100000000 does not fit a "
                                          "zero-extended imm32/disp32");
    jk_x86_reset(a);
    /* 32-bit address registers in 64-bit mode: 0x67, zero-extended disp32 */
    t = jk_x86_label(a, "t3");
    jk_x86_bind(a, t);
    jk_x86_mov(a, JK_EAX, jk_x86_mem_label_abs(4, JK_EBX, JK_ECX, 4, t, 4));
    EXPECT_BYTES(a, 0x80000000u, 0x67, 0x8b, 0x84, 0x8b, 0x04, 0, 0, 0x80); /* zero-ext: fits */
    jk_x86_reset(a);
    t = jk_x86_label(a, "t4");
    jk_x86_bind(a, t);
    jk_x86_push(a, jk_x86_imm_label(t, 0));
    JT_OK(jk_x86_finish(a, &n), jk_x86_error(a));
    JT_EQ_U64(jk_x86_copy(a, buf, sizeof buf, 0x80000000u), JK_ERANGE); /* push: sign-extended */
    jk_x86_reset(a);
    /* not a branch target; refused operands */
    t = jk_x86_label(a, "t5");
    JT_EQ_U64(jk_x86_jmp(a, jk_x86_imm_label(t, 0)), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(a)->message, "jmp: no form takes (imm)");
    jk_x86_reset(a);
    t = jk_x86_label(a, "t6");
    JT_EQ_U64(jk_x86_mov(a, JK_EAX, jk_x86_mem_label_abs(4, JK_RIP, JK_NOREG, 1, t, 0)),
              JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "mov: an absolute label address cannot be rip-relative");
    jk_x86_reset(a);
    t = jk_x86_label(a, "t7");
    JT_EQ_U64(jk_x86_mov(a, JK_EAX, jk_x86_mem_label_abs(4, JK_NOREG, JK_RSP, 1, t, 0)),
              JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "mov: rsp cannot be an index");
    jk_x86_reset(a);
    {
        jk_x86_op m = jk_x86_mem(4, JK_RAX, JK_RCX, 2, 0);
        m.scale = 5; /* handcrafted: never masked into the SIB byte */
        JT_EQ_U64(jk_x86_mov(a, JK_EAX, m), JK_EOPERAND);
        JT_EQ_STR(jk_x86_error(a)->message, "mov: scale must be 1, 2, 4 or 8");
    }
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_mov(a, JK_EAX, jk_x86_imm_label(99, 0)), JK_ELABEL);
    jk_x86_free(a);

    /* 32-bit mode: every address fits; A1 moffs for [table] like GNU as */
    JT_OK(jk_x86_new(&a, JK_X86_MODE32, NULL), (jk_error *)NULL);
    t = jk_x86_label(a, "table");
    jk_x86_mov(a, JK_EAX, jk_x86_imm_label(t, 4));
    jk_x86_push(a, jk_x86_imm_label(t, 0));
    jk_x86_jmp(a, jk_x86_mem_label_abs(4, JK_NOREG, JK_EAX, 4, t, 0));
    jk_x86_mov(a, JK_EAX, jk_x86_mem_label_abs(4, JK_NOREG, JK_NOREG, 1, t, 0));
    jk_x86_bind(a, t);
    EXPECT_BYTES(a, 0xfffff000u, 0xb8, 0x1a, 0xf0, 0xff, 0xff, 0x68, 0x16, 0xf0, 0xff, 0xff,
                 0xff, 0x24, 0x85, 0x16, 0xf0, 0xff, 0xff, 0xa1, 0x16, 0xf0, 0xff, 0xff);
    jk_x86_free(a);
}

static void test_mode32(void)
{
    jk_x86_asm *a = NULL;
    JT_OK(jk_x86_new(&a, JK_X86_MODE32, NULL), (jk_error *)NULL);
    JT_EQ_U64(jk_x86_mode_of(a), JK_X86_MODE32);
    jk_x86_inc(a, JK_EAX);
    jk_x86_push(a, JK_EBP);
    jk_x86_mov(a, JK_EAX, jk_x86_mem(4, JK_EBP, JK_NOREG, 1, 8));
    EXPECT_BYTES(a, 0, 0x40, 0x55, 0x8b, 0x45, 0x08);
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_push(a, JK_RAX), JK_EOPERAND);
    JT_EQ_STR(jk_x86_error(a)->message, "push: rax requires 64-bit mode");
    jk_x86_reset(a);
    JT_EQ_U64(jk_x86_cdqe(a), JK_ENOFORM);
    JT_EQ_STR(jk_x86_error(a)->message, "cdqe: not available in 32-bit mode");
    jk_x86_free(a);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        jt_only = argv[1];
    JT_RUN(test_args);
    JT_RUN(test_names);
    JT_RUN(test_sticky_error);
    JT_RUN(test_unbound_label);
    JT_RUN(test_relax);
    JT_RUN(test_relax_chain);
    JT_RUN(test_align_nops);
    JT_RUN(test_data_and_buffers);
    JT_RUN(test_far_calls);
    JT_RUN(test_prefixes);
    JT_RUN(test_rex_prefix);
    JT_RUN(test_hints_hle_vsib);
    JT_RUN(test_mode32);
    JT_RUN(test_abs_labels);
    return jt_finish();
}
