#!/bin/sh
# gas_diff.sh JITKIT AS LD OBJCOPY FILE...: each file assembled by GNU as
# (Intel syntax, no register prefixes; NAME.32.s in 32-bit mode) and
# linked at address 0 with the sections laid out as jitkit lays them out
# (.text, then .rodata and .data each from a multiple of 16 bytes or of its
# own alignment) must give the bytes `jitkit asm` gives.
set -u
jk=$1 gas=$2 ld=$3 objcopy=$4
shift 4
tmp=${TMPDIR:-/tmp}/jk_gas_diff.$$
mkdir -p "$tmp" || exit 2
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/lds" <<'LDS'
SECTIONS {
  . = 0;
  .text : { *(.text .text.*) }
  .rodata ALIGN(16) : { *(.rodata .rodata.*) }
  .data ALIGN(16) : { *(.data .data.*) }
  /DISCARD/ : { *(.note.*) *(.comment) *(.eh_frame) }
}
LDS
fail=0 n=0
for f in "$@"; do
    case $f in *.32.s) m=--32 lm=elf_i386 jm=-m32 ;; *) m=--64 lm=elf_x86_64 jm=-m64 ;; esac
    n=$((n + 1))
    if ! "$gas" $m -msyntax=intel -mnaked-reg -o "$tmp/o" "$f" 2> "$tmp/err" ||
       ! "$ld" -m $lm -T "$tmp/lds" -e 0 -o "$tmp/x" "$tmp/o" 2>> "$tmp/err" ||
       ! "$objcopy" -O binary "$tmp/x" "$tmp/gnu" 2>> "$tmp/err"; then
        echo "FAIL $f: GNU as / ld refused it:"; cat "$tmp/err"; fail=1; continue
    fi
    if ! "$jk" asm $jm -o "$tmp/jk" "$f" 2> "$tmp/err"; then
        echo "FAIL $f: jitkit refused it:"; cat "$tmp/err"; fail=1; continue
    fi
    if ! cmp -s "$tmp/gnu" "$tmp/jk"; then
        echo "FAIL $f: bytes differ (GNU as, then jitkit):"
        od -An -tx1 -v "$tmp/gnu" | head -12; echo "--"; od -An -tx1 -v "$tmp/jk" | head -12
        fail=1
        continue
    fi
    echo "ok   $f ($(wc -c < "$tmp/jk") bytes)"
done
echo "$n files, $([ $fail = 0 ] && echo all identical || echo some differ)"
exit $fail
