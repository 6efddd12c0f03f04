# the seed: returns 0x12345678
mov eax, 12345678h; ret
