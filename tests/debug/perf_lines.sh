#!/bin/sh
# perf_lines.sh PERF JITKIT SPIN_S TMPDIR - source lines of JIT code in perf:
# `jitkit run --perf=jitdump spin.s` under perf record -k 1, perf inject -j
# (which turns the JIT_CODE_DEBUG_INFO records into the .debug_line of the
# jitted-*.so it writes), then perf report --sort sym,srcline must put the
# samples of jit:main on the loop's lines of spin.s (6: dec, 7: jnz).
# Exits 77 (skipped) when perf cannot record here.
perf=$1 jitkit=$2 src=$3 tmp=$4
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
export JITDUMPDIR="$tmp"
if ! "$perf" record -k 1 -e cpu-clock -o "$tmp/perf.data" -- "$jitkit" run --perf=jitdump "$src" \
        > "$tmp/record.log" 2>&1; then
    echo "SKIP: perf record cannot record here:"; tail -n 5 "$tmp/record.log"
    exit 77
fi
cat "$tmp/record.log"
if ! "$perf" inject -j -i "$tmp/perf.data" -o "$tmp/perf.jit.data" > "$tmp/inject.log" 2>&1; then
    echo "perf inject -j failed:"; cat "$tmp/inject.log"; exit 1
fi
"$perf" report -i "$tmp/perf.jit.data" --stdio --sort sym,srcline 2> /dev/null > "$tmp/report.txt"
if grep "jit:main" "$tmp/report.txt" | grep -q "spin\.s:[67]\b"; then
    echo "srcline: $(grep 'jit:main' "$tmp/report.txt" | head -n 2)"
    rm -rf "$tmp"
    exit 0
fi
echo "no samples of jit:main on spin.s:6 or spin.s:7:"; head -n 30 "$tmp/report.txt"
exit 1
