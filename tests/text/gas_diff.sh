#!/bin/sh
# gas_diff.sh JITKIT AS OBJCOPY FILE...: each file assembled by GNU as
# (Intel syntax, no register prefixes; NAME.32.s in 32-bit mode) and by
# `jitkit asm` must give the same bytes. Sections other than .text are
# appended in the order .text, .rodata, .data - where jitkit places them.
set -u
jk=$1 gas=$2 objcopy=$3
shift 3
tmp=${TMPDIR:-/tmp}/jk_gas_diff.$$
mkdir -p "$tmp" || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for f in "$@"; do
    case $f in *.32.s) m=--32 jm=-m32 ;; *) m=--64 jm=-m64 ;; esac
    n=$((n + 1))
    if ! "$gas" $m -msyntax=intel -mnaked-reg -o "$tmp/o" "$f" 2> "$tmp/err"; then
        echo "FAIL $f: GNU as refused it:"; cat "$tmp/err"; fail=1; continue
    fi
    : > "$tmp/gnu"
    for sec in .text .rodata .data; do
        "$objcopy" -O binary -j $sec "$tmp/o" "$tmp/s" 2> /dev/null && cat "$tmp/s" >> "$tmp/gnu"
    done
    if ! "$jk" asm $jm -o "$tmp/jk" "$f" 2> "$tmp/err"; then
        echo "FAIL $f: jitkit refused it:"; cat "$tmp/err"; fail=1; continue
    fi
    if ! cmp -s "$tmp/gnu" "$tmp/jk"; then
        echo "FAIL $f: bytes differ (GNU as, then jitkit):"
        od -An -tx1 -v "$tmp/gnu" | head -8; echo "--"; od -An -tx1 -v "$tmp/jk" | head -8
        fail=1
        continue
    fi
    echo "ok   $f ($(wc -c < "$tmp/jk") bytes)"
done
echo "$n files, $([ $fail = 0 ] && echo all identical || echo some differ)"
exit $fail
