# .type, .size and the .cfi_* verbs (the code bytes; the unwind rules are
# checked by tests/debug/test_unwind_text.c)
  .text
  .type outer, @function
outer:
  .cfi_startproc
  push rbp
  .cfi_def_cfa_offset 16
  .cfi_offset rbp, -16
  mov rbp, rsp
  .cfi_def_cfa_register rbp
  push rbx
  sub rsp, 8
  .cfi_offset %rbx, -24
  mov rbx, rdi
  mov rdi, rsi
  call rbx
  add rax, 1
  mov rbx, [rbp - 8]
  leave
  .cfi_def_cfa rsp, 8
  ret
  .cfi_endproc
  .size outer, . - outer
