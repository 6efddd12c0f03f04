# 32-bit: a jump table in .rodata whose entries are numeric labels of the
# code, defined before and after it in the source
    mov eax, [esp + 4]
    jmp [table + eax * 4]
1:  mov eax, 10
    ret
    .section .rodata
    .p2align 2
table: .long 1b, 2f, 3f, msg
msg: .ascii "ok"
    .text
2:  mov eax, 20
    ret
3:  mov eax, 30
    ret
    .data
1:  .long 1b, 1f
    .text
1:  ret
