.intel_syntax noprefix
# perf_lines.sh profiles this loop (jitkit run --perf=jitdump): the samples
# land on lines 6 and 7.
    mov rax, 300000000
top:
    dec rax
    jnz top
    ret
