// consumer.cpp - the amalgamation's header in a C++ program (C++11,
// -pedantic): every declaration behind extern "C", the generated inline
// helpers valid C++. The library is dist/jitkit.c, compiled as C.
#include "jitkit.h"

#include <cstdio>
#include <cstring>

int main()
{
    jk_x86_asm *a = nullptr;
    jk_error err;
    if (jk_x86_new(&a, JK_X86_MODE64, &err) != JK_OK) {
        std::fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    jk_x86_mov(a, JK_EAX, jk_imm(42));
    jk_x86_ret(a);
    std::size_t n = 0;
    uint8_t code[16];
    static const uint8_t want[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
    int ok = jk_x86_finish(a, &n) == JK_OK && n == sizeof want &&
             jk_x86_copy(a, code, sizeof code, 0) == JK_OK && std::memcmp(code, want, n) == 0;
    jk_x86_free(a);
    if (!ok) {
        std::fprintf(stderr, "unexpected bytes (%zu)\n", n);
        return 1;
    }
    std::printf("jitkit %s from C++: mov eax, 42; ret = b8 2a 00 00 00 c3\n", jk_version());
    return 0;
}
