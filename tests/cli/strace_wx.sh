#!/bin/sh
# Trace every mapping and protection change of `jitkit run` and fail if any
# asks for write and execute at once. Also require that the trace saw the
# commit (an mprotect to READ|EXEC), so an empty trace cannot pass.
# usage: strace_wx.sh JITKIT [run args...]
set -u
exe=$1; shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
strace -f -e trace=mmap,mmap2,mprotect,pkey_mprotect -o "$log" "$exe" run "$@" || exit 1
bad=$(grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE|PROT_READ\|PROT_WRITE\|PROT_EXEC' "$log")
if [ -n "$bad" ]; then
    echo "W+X mapping or protection change:"; echo "$bad"; exit 1
fi
grep -qE 'PROT_READ\|PROT_EXEC' "$log" || { echo "trace shows no commit"; cat "$log"; exit 1; }
echo "$(grep -cE 'mmap|mprotect' "$log") mmap/mprotect calls traced, none writable+executable"
