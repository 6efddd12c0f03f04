/*
 * text_outer.h - the unwind tests' JIT function written as text with GNU
 * as's .type, .size and .cfi_* directives (test_unwind_text.c,
 * test_unwind_cxx.cpp):
 *
 *     intptr_t outer(intptr_t (*cb)(intptr_t), intptr_t v) { return cb(v) + 1; }
 *
 * TEXT_OUTER is the source for this host's ABI, TEXT_OUTER_MODE its mode.
 */
#ifndef TEXT_OUTER_H
#define TEXT_OUTER_H

#if defined(__x86_64__) || defined(_M_X64)
#  define TEXT_OUTER_MODE JK_X86_MODE64
#  if defined(_WIN32)
/* Win64: pushes and the allocation first, the frame register last */
static const char TEXT_OUTER[] =
    "  .text\n"
    "  .type outer, @function\n"
    "outer:\n"
    "  .cfi_startproc\n"
    "  push rbp\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset rbp, 0\n"
    "  push rbx\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_offset rbx, -24\n"
    "  sub rsp, 40\n"
    "  .cfi_adjust_cfa_offset 40\n"
    "  lea rbp, [rsp + 32]\n"
    "  .cfi_def_cfa rbp, 32\n"
    "  mov rbx, rcx\n"
    "  mov rcx, rdx\n"
    "  call rbx\n"
    "  add rax, 1\n"
    "  add rsp, 40\n"
    "  .cfi_def_cfa rsp, 24\n"
    "  pop rbx\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore rbx\n"
    "  pop rbp\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore rbp\n"
    "  ret\n"
    "  .cfi_endproc\n"
    "  .size outer, . - outer\n";
#  else
static const char TEXT_OUTER[] =
    "  .text\n"
    "  .type outer, @function\n"
    "outer:\n"
    "  .cfi_startproc\n"
    "  push rbp\n"
    "  .cfi_def_cfa_offset 16\n"
    "  .cfi_offset rbp, -16\n"
    "  mov rbp, rsp\n"
    "  .cfi_def_cfa_register rbp\n"
    "  push rbx\n"
    "  sub rsp, 8\n"
    "  .cfi_offset %rbx, -24\n"
    "  mov rbx, rdi\n"
    "  mov rdi, rsi\n"
    "  call rbx\n"
    "  add rax, 1\n"
    "  mov rbx, [rbp - 8]\n"
    "  leave\n"
    "  .cfi_def_cfa rsp, 8\n"
    "  ret\n"
    "  .cfi_endproc\n"
    "  .size outer, . - outer\n";
#  endif
#else
#  define TEXT_OUTER_MODE JK_X86_MODE32
static const char TEXT_OUTER[] =
    "  .type outer, @function\n"
    "outer:\n"
    "  .cfi_startproc\n"
    "  push ebp\n"
    "  .cfi_def_cfa_offset 8\n"
    "  .cfi_offset ebp, -8\n"
    "  mov ebp, esp\n"
    "  .cfi_def_cfa_register ebp\n"
    "  push ebx\n"
    "  sub esp, 20\n"
    "  .cfi_offset ebx, -12\n"
    "  mov eax, [ebp + 12]\n"
    "  mov [esp], eax\n"
    "  call [ebp + 8]\n"
    "  add eax, 1\n"
    "  mov ebx, [ebp - 4]\n"
    "  leave\n"
    "  .cfi_def_cfa esp, 4\n"
    "  ret\n"
    "  .cfi_endproc\n"
    "  .size outer, . - outer\n";
#endif

#endif
