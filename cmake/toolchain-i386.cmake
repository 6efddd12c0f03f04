# x86-32 Linux build on an x86-64 host. Needs libc6-dev-i386 and
# lib32gcc-12-dev (gcc-multilib would do, but on Debian 12 it conflicts
# with the AArch64 cross compiler, so the matrix installs the parts).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)
set(_jk_m32 "-m32")
# The kernel's asm/ headers are bi-arch on x86; without gcc-multilib's
# /usr/include/asm link, point -m32 builds at the x86-64 copy.
if(NOT EXISTS /usr/include/asm AND EXISTS /usr/include/x86_64-linux-gnu/asm)
  set(_jk_asm_dir ${CMAKE_BINARY_DIR}/jk-i386-include)
  file(MAKE_DIRECTORY ${_jk_asm_dir})
  if(NOT EXISTS ${_jk_asm_dir}/asm)
    file(CREATE_LINK /usr/include/x86_64-linux-gnu/asm ${_jk_asm_dir}/asm SYMBOLIC)
  endif()
  string(APPEND _jk_m32 " -isystem ${_jk_asm_dir}")
endif()
set(CMAKE_C_FLAGS_INIT "${_jk_m32}")
set(CMAKE_CXX_FLAGS_INIT "${_jk_m32}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
