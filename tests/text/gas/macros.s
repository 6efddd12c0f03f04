.macro add3 a, b=7, c
    lea eax, [\a + \b]
    add eax, \c
.endm
.macro sum2 x:req y
    mov eax, \x
    add eax, \y
.endm
.macro lbl n
L\n\@: nop
    jmp L\n\@
.endm
.macro rec n
.if \n
    inc eax
    rec "(\n-1)"
.endif
.endm
.macro early
    nop
    .exitm
    int3
.endm
.macro va first, rest:vararg
    .byte \first, \rest
.endm
    add3 rdi, 3, 5
    add3 rsi,, 1
    add3 a=rcx, c=2
    sum2 1 2
    lbl 1
    lbl 2
    rec 3
    early
    va 1, 2, 3, 4
    ADD3 rbx 4 9
