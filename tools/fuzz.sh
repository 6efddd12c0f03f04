#!/bin/sh
# Build both libFuzzer targets (clang, ASan+UBSan, library compiled in) and
# run each for a given time: `make fuzz` (FUZZ_TIME seconds per target,
# default 600; FUZZ_JOBS parallel workers per target, default 1).
#
#   sh tools/fuzz.sh [SECONDS] [JOBS]
#
# Each target starts from a fresh scratch corpus (build-fuzz/NAME-new) plus
# the kept corpus (tests/text/corpus for fuzz_text; the scratch directory
# of earlier runs for fuzz_x86, whose inputs are API call sequences), so a
# run finds new paths without the repository growing. A crash leaves its
# input in build-fuzz/ (crash-*, leak-*, timeout-*) and fails the script;
# the summary gives executions and CPU seconds per target.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-${FUZZ_TIME:-600}}
jobs=${2:-${FUZZ_JOBS:-1}}
dir=${FUZZ_DIR:-build-fuzz}
# a unit slower than this is a finding (a hang); sanitized code on a loaded
# machine takes seconds for legal inputs near the limits (a `times` of a
# million statements), so the default leaves room for them
unit_timeout=${FUZZ_UNIT_TIMEOUT:-60}
mkdir -p "$dir"
command -v clang > /dev/null || { echo "fuzz: clang is needed (Debian: clang)"; exit 2; }
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
      -DJITKIT_FUZZ=ON -DJITKIT_BUILD_CLI=OFF -DJITKIT_BUILD_EXAMPLES=OFF > "$dir/build.log" 2>&1 &&
    cmake --build "$dir" -j 2 --target fuzz_x86 fuzz_text >> "$dir/build.log" 2>&1 ||
    { tail -n 30 "$dir/build.log"; echo "fuzz: build failed"; exit 1; }
x86=$(find "$dir" -type f -name fuzz_x86 -perm -u+x | head -n 1)
text=$(find "$dir" -type f -name fuzz_text -perm -u+x | head -n 1)
[ -n "$x86" ] && [ -n "$text" ] || { echo "fuzz: clang has no libFuzzer here"; exit 1; }

status=0
summary=""
# run NAME BINARY ARGS...: fuzz for $secs seconds in $dir (its artifacts
# land there), report executions and CPU time.
run() {
    name=$1; bin=$2; shift 2
    mkdir -p "$dir/$name-new"
    log="$dir/$name.log"
    echo "== $name: $secs s, $jobs job(s)"
    start=$(date +%s)
    if [ "$jobs" -gt 1 ]; then
        (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 "$OLDPWD/$bin" -max_total_time="$secs" \
            -timeout="$unit_timeout" -rss_limit_mb=2048 -jobs="$jobs" -workers="$jobs" \
            "$@" "$name-new" $corpus) > "$log" 2>&1
    else
        (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 "$OLDPWD/$bin" -max_total_time="$secs" \
            -timeout="$unit_timeout" -rss_limit_mb=2048 -print_final_stats=1 \
            "$@" "$name-new" $corpus) > "$log" 2>&1
    fi
    rc=$?
    runs=$(grep -h -o 'stat::number_of_executed_units: *[0-9]*' "$log" "$dir"/fuzz-*.log 2>/dev/null |
           awk '{s += $2} END {print s + 0}')
    [ "$runs" -gt 0 ] || runs=$(grep -o '#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    found=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
            -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
    wall=$(( $(date +%s) - start ))
    if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
        status=1
        grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$log"
        summary="$summary
$name: FINDING after ${wall} s (see $log and $dir/crash-*)"
    else
        summary="$summary
$name: ${runs:-?} executions in ${wall} s x $jobs job(s), no finding"
    fi
}

corpus=""
run fuzz_x86 "$x86"
corpus="$PWD/tests/text/corpus"
run fuzz_text "$text" -max_len=4096 -dict="$PWD/tests/text/fuzz_text.dict"
echo
echo "== fuzz summary"
echo "$summary" | sed '/^$/d'
exit $status
