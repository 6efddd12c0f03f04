/*
 * bench_emit - encoding speed of the GP mix (gp_mix.h) and the SIMD mix
 * (simd_mix.h): jitkit against asmjit and xbyak, in one process, one run.
 *
 *   bench_emit                 wall-clock tables + BENCH lines (emit.gp.*,
 *                              emit.simd.*), and (when valgrind is installed)
 *                              instructions executed per encoded instruction
 *                              under callgrind
 *   bench_emit --one LIB N     encode N GP blocks with LIB once (for callgrind);
 *                              simd.LIB: N SIMD blocks
 *
 * Wall clock: each emitter encodes ~16 MB of code; best of 5 rounds,
 * interleaved so machine noise hits all alike. Callgrind: the difference
 * between a long and a short run divided by the difference in instructions,
 * so start-up and setup cancel out.
 */
#include "gp_mix.h"
#include "simd_mix.h"

#include <asmjit/x86.h>
#include <xbyak/xbyak.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

/* -- asmjit ------------------------------------------------------------- */

static unsigned long gp_asmjit(unsigned blocks)
{
    using namespace asmjit;
    CodeHolder code;
    code.init(Environment(Arch::kX64));
    x86::Assembler a(&code);
    for (unsigned b = 0; b < blocks; b++) {
        Label top = a.newLabel(), fwd = a.newLabel(), end = a.newLabel();
        a.bind(top);
        a.push(x86::rbx);
        a.push(x86::rbp);
        a.push(x86::r12);
        a.push(x86::r13);
        for (unsigned k = 0; k < 8; k++) {
            unsigned x, y, z;
            gp_pick(b, k, &x, &y, &z);
            x86::Gp r1 = x86::gpq(x), r2 = x86::gpq(y), r3 = x86::gpq(z);
            a.mov(r1, r2);
            a.add(r1, r2);
            a.sub(x86::gpd(x), x86::gpd(y));
            a.xor_(r1, r3);
            a.imul(r1, r2);
            a.lea(r1, x86::ptr(r2, r3, 2, 16));
            a.shl(r1, 3);
            a.add(r1, 8);
            a.and_(r1, 0x12345);
            if (k & 1)
                a.mov(x86::qword_ptr(r2, r3, 1, 0x1000), r1);
            else
                a.mov(r1, x86::qword_ptr(r2, r3, 3, 0x40));
            a.cmp(r1, r2);
            if (k & 1)
                a.jl(top);
            else
                a.jne(fwd);
        }
        a.call(top);
        a.jmp(end);
        a.bind(fwd);
        a.pop(x86::r13);
        a.pop(x86::r12);
        a.pop(x86::rbp);
        a.pop(x86::rbx);
        a.bind(end);
        a.ret();
    }
    return (unsigned long)code.codeSize();
}

/* -- xbyak ---------------------------------------------------------------- */

struct XbyakGp : Xbyak::CodeGenerator {
    explicit XbyakGp(size_t cap) : Xbyak::CodeGenerator(cap, Xbyak::DontSetProtectRWE) {}

    void emit(unsigned blocks)
    {
        using namespace Xbyak;
        for (unsigned b = 0; b < blocks; b++) {
            Label top, fwd, end;
            L(top);
            push(rbx);
            push(rbp);
            push(r12);
            push(r13);
            for (unsigned k = 0; k < 8; k++) {
                unsigned x, y, z;
                gp_pick(b, k, &x, &y, &z);
                Reg64 r1(x), r2(y), r3(z);
                mov(r1, r2);
                add(r1, r2);
                sub(Reg32(x), Reg32(y));
                xor_(r1, r3);
                imul(r1, r2);
                lea(r1, ptr[r2 + r3 * 4 + 16]);
                shl(r1, 3);
                add(r1, 8);
                and_(r1, 0x12345);
                if (k & 1)
                    mov(qword[r2 + r3 * 2 + 0x1000], r1);
                else
                    mov(r1, qword[r2 + r3 * 8 + 0x40]);
                cmp(r1, r2);
                /* xbyak makes undefined-label jumps short and throws when
                 * the target is too far: forward ones must be near. */
                if (k & 1)
                    jl(top);
                else
                    jne(fwd, T_NEAR);
            }
            call(top);
            jmp(end, T_NEAR);
            L(fwd);
            pop(r13);
            pop(r12);
            pop(rbp);
            pop(rbx);
            L(end);
            ret();
        }
    }
};

static unsigned long gp_xbyak(unsigned blocks)
{
    try {
        XbyakGp g((size_t)blocks * 600 + 4096);
        g.emit(blocks);
        g.ready();
        return (unsigned long)g.getSize();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "xbyak: %s\n", e.what());
        return 0;
    }
}

/* -- The SIMD mix ------------------------------------------------------------ */

static unsigned long simd_asmjit(unsigned blocks)
{
    using namespace asmjit;
    CodeHolder code;
    code.init(Environment(Arch::kX64));
    x86::Assembler a(&code);
    for (unsigned b = 0; b < blocks; b++) {
        Label top = a.newLabel();
        a.bind(top);
        for (unsigned k = 0; k < 8; k++) {
            unsigned v1, v2, v3, gb, gi;
            simd_pick(b, k, &v1, &v2, &v3, &gb, &gi);
            x86::Mem m = x86::ymmword_ptr(x86::gpq(gb), x86::gpq(gi), 2, 0x400);
            a.movups(x86::xmm(v1), x86::xmm(v2));
            a.addps(x86::xmm(v1), x86::xmm(v2));
            a.mulps(x86::xmm(v1), x86::xmm(v3));
            a.vaddps(x86::ymm(v1), x86::ymm(v2), x86::ymm(v3));
            a.vfmadd231ps(x86::ymm(v1), x86::ymm(v2), x86::ymm(v3));
            a.vfmadd231ps(x86::ymm(v1), x86::ymm(v2), m);
            a.vpxor(x86::ymm(v1), x86::ymm(v2), x86::ymm(v3));
            a.vmovups(x86::ymm(v1), m);
            a.vmulps(x86::ymm(v1), x86::ymm(v2), x86::ymm(v3));
            a.add(x86::gpq(gb), 0x12345);
            a.sub(x86::gpd(gi), 8);
            a.jnz(top);
        }
        a.ret();
    }
    return (unsigned long)code.codeSize();
}

struct XbyakSimd : Xbyak::CodeGenerator {
    explicit XbyakSimd(size_t cap) : Xbyak::CodeGenerator(cap, Xbyak::DontSetProtectRWE) {}

    void emit(unsigned blocks)
    {
        using namespace Xbyak;
        for (unsigned b = 0; b < blocks; b++) {
            Label top;
            L(top);
            for (unsigned k = 0; k < 8; k++) {
                unsigned v1, v2, v3, gb, gi;
                simd_pick(b, k, &v1, &v2, &v3, &gb, &gi);
                Reg64 rb(gb), ri(gi);
                movups(Xmm(v1), Xmm(v2));
                addps(Xmm(v1), Xmm(v2));
                mulps(Xmm(v1), Xmm(v3));
                vaddps(Ymm(v1), Ymm(v2), Ymm(v3));
                vfmadd231ps(Ymm(v1), Ymm(v2), Ymm(v3));
                vfmadd231ps(Ymm(v1), Ymm(v2), yword[rb + ri * 4 + 0x400]);
                vpxor(Ymm(v1), Ymm(v2), Ymm(v3));
                vmovups(Ymm(v1), yword[rb + ri * 4 + 0x400]);
                vmulps(Ymm(v1), Ymm(v2), Ymm(v3));
                add(rb, 0x12345);
                sub(Reg32(gi), 8);
                jnz(top);
            }
            ret();
        }
    }
};

static unsigned long simd_xbyak(unsigned blocks)
{
    try {
        XbyakSimd g((size_t)blocks * 700 + 4096);
        g.emit(blocks);
        g.ready();
        return (unsigned long)g.getSize();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "xbyak: %s\n", e.what());
        return 0;
    }
}

/* -- Driver ---------------------------------------------------------------- */

typedef unsigned long (*emitter)(unsigned);

struct peer {
    const char *name;
    emitter fn;
    double best_s;
    unsigned long bytes;
    double ir_per_insn;
};

static double now_s()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/* Instructions executed by `self --one name blocks` under callgrind. */
static double callgrind_ir(const char *self, const char *name, unsigned blocks)
{
    std::string cmd = std::string("valgrind --tool=callgrind --callgrind-out-file=/dev/null ") +
                      self + " --one " + name + " " + std::to_string(blocks) + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    char line[512];
    double ir = -1;
    if (!p)
        return -1;
    while (std::fgets(line, sizeof line, p)) {
        const char *c = std::strstr(line, "Collected :");
        if (c)
            ir = std::strtod(c + 11, nullptr);
    }
    pclose(p);
    return ir;
}

/* Time and count one mix for all peers, print its table and BENCH lines. */
static int run_mix(const char *self, const char *mix, const char *title, peer *peers, int npeers,
                   unsigned block_insns)
{
    /* Size the run so jitkit emits ~16 MB. */
    unsigned long probe = peers[0].fn(100);
    if (!probe)
        return 1;
    unsigned blocks = (unsigned)(GP_TARGET_BYTES / (probe / 100));
    double insns = (double)blocks * block_insns;

    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < npeers; i++) {
            peer &p = peers[i];
            double t0 = now_s();
            unsigned long bytes = p.fn(blocks);
            double t = now_s() - t0;
            if (!bytes)
                return 1;
            p.bytes = bytes;
            if (t < p.best_s)
                p.best_s = t;
        }
    }

    bool have_valgrind = std::system("valgrind --version > /dev/null 2>&1") == 0;
    if (have_valgrind) {
        const unsigned small = 200, large = 2200;
        for (int i = 0; i < npeers; i++) {
            peer &p = peers[i];
            std::string name = std::strcmp(mix, "gp") ? std::string(mix) + "." + p.name : p.name;
            double a = callgrind_ir(self, name.c_str(), small);
            double b = callgrind_ir(self, name.c_str(), large);
            if (a > 0 && b > a)
                p.ir_per_insn = (b - a) / ((double)(large - small) * block_insns);
        }
    }

    std::printf("%s: %u blocks x %u instructions = %.0f instructions per emitter\n\n", title,
                blocks, block_insns, insns);
    std::printf("%-8s %12s %14s %12s %16s\n", "emitter", "M insn/s", "code bytes", "bytes/insn",
                "Ir/insn (cg)");
    for (int i = 0; i < npeers; i++) {
        peer &p = peers[i];
        std::printf("%-8s %12.1f %14lu %12.2f %16.1f\n", p.name, insns / p.best_s / 1e6, p.bytes,
                    (double)p.bytes / insns, p.ir_per_insn);
    }
    std::printf("\njitkit speed vs asmjit: %.2fx, vs xbyak: %.2fx (same run)\n",
                peers[1].best_s / peers[0].best_s, peers[2].best_s / peers[0].best_s);
    if (peers[0].ir_per_insn > 0 && peers[1].ir_per_insn > 0)
        std::printf("callgrind: asmjit executes %.2fx the instructions jitkit does per encoded "
                    "instruction\n",
                    peers[1].ir_per_insn / peers[0].ir_per_insn);
    std::printf("\n");
    for (int i = 0; i < npeers; i++) {
        peer &p = peers[i];
        std::printf("BENCH emit.%s.%s %.2f Minsn/s\n", mix, p.name, insns / p.best_s / 1e6);
        std::printf("BENCH emit.%s.bytes_per_insn.%s %.3f bytes\n", mix, p.name,
                    (double)p.bytes / insns);
        if (p.ir_per_insn > 0)
            std::printf("BENCH emit.%s.ir.%s %.1f Ir/insn\n", mix, p.name, p.ir_per_insn);
    }
    std::printf("BENCH emit.%s.speedup_vs_asmjit %.2f ratio\n", mix,
                peers[1].best_s / peers[0].best_s);
    std::printf("BENCH emit.%s.speedup_vs_xbyak %.2f ratio\n", mix,
                peers[2].best_s / peers[0].best_s);
    std::printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    peer peers[] = {{"jitkit", gp_jitkit, 1e9, 0, -1},
                    {"asmjit", gp_asmjit, 1e9, 0, -1},
                    {"xbyak", gp_xbyak, 1e9, 0, -1}};
    peer speers[] = {{"jitkit", simd_jitkit, 1e9, 0, -1},
                     {"asmjit", simd_asmjit, 1e9, 0, -1},
                     {"xbyak", simd_xbyak, 1e9, 0, -1}};
    const int npeers = 3;

    if (argc == 4 && std::strcmp(argv[1], "--one") == 0) {
        unsigned blocks = (unsigned)std::strtoul(argv[3], nullptr, 10);
        for (peer &p : peers)
            if (std::strcmp(p.name, argv[2]) == 0)
                return p.fn(blocks) ? 0 : 1;
        for (peer &p : speers)
            if (std::strncmp(argv[2], "simd.", 5) == 0 && std::strcmp(p.name, argv[2] + 5) == 0)
                return p.fn(blocks) ? 0 : 1;
        return 2;
    }
    if (run_mix(argv[0], "gp", "GP mix", peers, npeers, GP_BLOCK_INSNS))
        return 1;
    return run_mix(argv[0], "simd", "SIMD mix", speers, npeers, SIMD_BLOCK_INSNS);
}
