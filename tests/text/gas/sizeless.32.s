# jmp / call / push / pop with a memory operand and no size keyword: the
# mode's word, as GNU as takes them
    jmp [eax]
    call [ebx + 8]
    push [eax + ecx*8 + 0x100]
    pop [ecx]
    jmp [table + edi*4]
table: .long 0
