#!/bin/sh
# Run every benchmark executable (bench_*) of a build directory in turn.
# Each prints `BENCH <metric> <value> <unit>` lines; this script adds nothing
# but a header per program, so the output can be collected as is.
set -u
dir=${1:-build-bench}
status=0
found=0
for exe in $(find "$dir/bench" -type f -name 'bench_*' -perm -u+x 2>/dev/null | sort); do
    found=1
    echo "== $(basename "$exe")"
    "$exe" || status=1
done
[ $found -eq 1 ] || { echo "no benchmarks built in $dir/bench"; exit 1; }
exit $status
