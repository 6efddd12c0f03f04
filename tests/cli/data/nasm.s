; NASM dialect: ; starts a comment
bits 64
        mov ecx, 6      ; counter
        xor eax, eax
.loop:  add eax, 7
        dec ecx
        jnz .loop
        ret
