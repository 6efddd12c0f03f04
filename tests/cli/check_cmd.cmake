# Run one command and check its exit code and output.
#   -DEXE=path  -DEMU="emulator|args"  -DARGS="a|b|c"  (| separates arguments)
#   -DEXPECT_RC=N  -DEXPECT_OUT=regex  -DEXPECT_ERR=regex
#   @SEMI@ in ARGS stands for ';' (a CMake list separator)
string(REPLACE "@SEMI@" "\\;" argv "${ARGS}")
string(REPLACE "|" ";" argv "${argv}")
string(REPLACE "|" ";" EMU "${EMU}")
execute_process(COMMAND ${EMU} ${EXE} ${argv}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("exit ${rc}\n--- stdout\n${out}--- stderr\n${err}")
if(DEFINED EXPECT_RC AND NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(DEFINED EXPECT_OUT AND NOT out MATCHES "${EXPECT_OUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_OUT}'")
endif()
if(DEFINED EXPECT_ERR AND NOT err MATCHES "${EXPECT_ERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_ERR}'")
endif()
