mov eax, 1
lea eax, [rbx+rcx*3]
add eax, 2
mvo eax, 3
jmp nowhere
