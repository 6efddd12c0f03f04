# .balign / .p2align with fill values and maximum skips, between branches
# that relax (the padding decides which reach)
    nop
    .p2align 4,,3
    ret
    .p2align 4,,10
    ret
    .balign 8, 0xcc
    ret
    .balign 16, 0x90, 20
    int3
    .p2align 5, 0, 31
    jmp 2f
    .p2align 4,,7
1:  .fill 118, 1, 0x90
2:  jne 1b
    .p2align 3,,2
    nop
    .balign 32, 0xf4, 0
    .balign 4,,3
    jmp 1b
    .p2align 6,,40
    ret
