# A text function for the line-table tests: it stops at its int3 (line 6)
# and returns 42. Lines matter: the tests expect them where they are.
    push rbp
    mov rbp, rsp
    xor eax, eax
    int3
    mov eax, 42
    pop rbp
    ret
