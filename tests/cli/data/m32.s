inc eax
mov eax, [esp+4]
ret
