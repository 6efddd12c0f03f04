# Run a program under gdb -batch and check the output.
#   -DGDB=path -DEXE=program -DCMDS="cmd1|cmd2|..."  gdb commands, in order
#   -DEXPECT="re1|re2|..."  regexes that must all match the output, in order
# Prints "SKIP: ..." (the test's SKIP_REGULAR_EXPRESSION) when gdb cannot
# trace processes here.
string(REPLACE "|" ";" cmds "${CMDS}")
set(args -batch -nx -iex "set debuginfod enabled off" -iex "set pagination off")
foreach(c ${cmds})
  list(APPEND args -ex "${c}")
endforeach()
execute_process(COMMAND ${GDB} ${args} ${EXE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("gdb exit ${rc}\n--- stdout\n${out}--- stderr\n${err}")
if("${out}${err}" MATCHES "ptrace: Operation not permitted|Could not trace the inferior|not in executable format")
  message("SKIP: gdb cannot run the program here")
  return()
endif()
string(REPLACE "|" ";" expects "${EXPECT}")
set(rest "${out}")
foreach(re ${expects})
  string(REGEX MATCH "${re}" m "${rest}")
  if(NOT m)
    message(FATAL_ERROR "gdb output does not match '${re}' (after the previous matches)")
  endif()
  string(FIND "${rest}" "${m}" at)
  string(LENGTH "${m}" len)
  math(EXPR at "${at} + ${len}")
  string(SUBSTRING "${rest}" ${at} -1 rest)
endforeach()
