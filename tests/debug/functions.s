# Two functions named with .type/.size and described with .cfi_*: gdb shows
# both by name and line, and unwinds from the inner one through the outer
# (its frame pointer rule) into the CLI (tests/debug: gdb_cli_functions).
    .type outer, @function
outer:
    .cfi_startproc
    push rbp
    .cfi_def_cfa_offset 16
    .cfi_offset rbp, -16
    mov rbp, rsp
    .cfi_def_cfa_register rbp
    call inner
    pop rbp
    .cfi_def_cfa rsp, 8
    ret
    .cfi_endproc
    .size outer, .-outer
    .type inner, @function
inner:
    .cfi_startproc
    int3
    mov eax, 42
    ret
    .cfi_endproc
    .size inner, .-inner
