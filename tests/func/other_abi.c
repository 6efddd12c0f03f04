/*
 * tests/func/other_abi.c - the host functions of the other 64-bit
 * convention: Win64 (ms_abi) on System V hosts, System V (sysv_abi) on
 * Windows.
 */
#include "hostfns.h"

#if defined(__x86_64__) || defined(_M_X64)
#  if defined(_WIN32)
#    define OTHER_CC __attribute__((sysv_abi))
#  else
#    define OTHER_CC __attribute__((ms_abi))
#  endif
DEFALL(OTHER_CC, of)
extern const uintptr_t other_fns[17];
const uintptr_t other_fns[17] = TABLE(of);
#endif
