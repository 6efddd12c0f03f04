# Data sections after the code: labels and `.` where the data lands,
# references from the code, .previous / .pushsection / .popsection,
# alignment inside a section, blocks and macros in data sections
    .text
    lea rax, [rip + msg]
    mov ecx, [rip + count]
    .section .rodata
msg: .asciz "hello"
    .p2align 4
table: .quad msg, 1f - msg
    .text
1:  movaps xmm0, [rip + table]
    .data
count: .long 3
    .previous
    ret
    .pushsection .rodata, "a", @progbits
k8: .quad 0x3ff0000000000000
    .popsection
    movsd xmm1, [rip + k8]
    .section .data
    .rept 3
    .long . - count
    .endr
.macro words a, b
    .word \a, \b
.endm
    words 7, 8
    .text
    jmp 1b
    .section .note.GNU-stack,"",@progbits
    .text
    .p2align 3
    nop
