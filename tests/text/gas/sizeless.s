# jmp / call / push / pop with a memory operand and no size keyword: the
# mode's word, as GNU as takes them
    jmp [rax]
    call [rbx + 8]
    push [rax + rcx*8 + 0x100]
    pop [rcx]
    jmp [table + rdi*8]
table: .quad 0
