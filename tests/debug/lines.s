.intel_syntax noprefix
# A text function for the line-table tests (gdb_lines_*, jitdump_lines):
# it stops at its int3 (line 8) and returns 42. The tests expect the lines
# where they are.
    push rbp
    mov rbp, rsp
    xor eax, eax
    int3
    mov eax, 42; nop
    pop rbp
    ret
