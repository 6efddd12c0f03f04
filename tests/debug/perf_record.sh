#!/bin/sh
# perf_record.sh PERF PROGRAM TMPDIR - profile a JIT function with perf:
# perf record -k 1 (CLOCK_MONOTONIC, as the jitdump timestamps), then
#   map:     perf report resolves the samples through /tmp/perf-<pid>.map
#   jitdump: perf inject -j turns jit-<pid>.dump into ELF files, and
#            perf report names the samples from those
# Both must attribute samples to jit_spin_loop. Exits 77 (skipped) when
# perf cannot record here.
perf=$1 prog=$2 tmp=$3
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
export JK_JITDUMP_DIR="$tmp"
if ! "$perf" record -k 1 -e cpu-clock -o "$tmp/perf.data" -- "$prog" > "$tmp/record.log" 2>&1; then
    echo "SKIP: perf record cannot record here:"; tail -n 5 "$tmp/record.log"
    exit 77
fi
cat "$tmp/record.log"
pid=$(ls "$tmp" | sed -n 's/^jit-\([0-9]*\)\.dump$/\1/p')
[ -n "$pid" ] || { echo "no jit-<pid>.dump in $tmp"; exit 1; }
fail=0
"$perf" report -i "$tmp/perf.data" --stdio --sort sym 2> /dev/null > "$tmp/map.txt"
if grep -q "jit_spin_loop" "$tmp/map.txt"; then
    echo "map: $(grep jit_spin_loop "$tmp/map.txt" | head -n 1)"
else
    echo "map: no samples on jit_spin_loop"; head -n 30 "$tmp/map.txt"; fail=1
fi
if ! "$perf" inject -j -i "$tmp/perf.data" -o "$tmp/perf.jit.data" > "$tmp/inject.log" 2>&1; then
    echo "perf inject -j failed:"; cat "$tmp/inject.log"; fail=1
else
    "$perf" report -i "$tmp/perf.jit.data" --stdio --sort dso,sym 2> /dev/null > "$tmp/jit.txt"
    if grep "jit_spin_loop" "$tmp/jit.txt" | grep -q "jitted-$pid-"; then
        echo "jitdump: $(grep jit_spin_loop "$tmp/jit.txt" | head -n 1)"
    else
        echo "jitdump: no samples on jit_spin_loop in a jitted-$pid-*.so"; head -n 30 "$tmp/jit.txt"; fail=1
    fi
fi
rm -f "/tmp/perf-$pid.map"
[ $fail -eq 0 ] && rm -rf "$tmp"
exit $fail
