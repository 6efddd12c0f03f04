#!/bin/sh
# Build and test jitkit on every platform of the matrix, each in its own
# build directory under build-matrix/. Prints one summary line per platform
# and exits non-zero if any failed or could not be built.
#   sh tools/matrix.sh [gcc clang asan m32 mingw aarch64 tsan]
# MATRIX_ROOT=dir puts the build directories elsewhere (default build-matrix).
set -u
cd "$(dirname "$0")/.." || exit 2
all="gcc clang asan m32 mingw aarch64 tsan"
want=${*:-$all}
jobs=${JOBS:-2}
root=${MATRIX_ROOT:-build-matrix}
mkdir -p $root
summary=""
failed=0
targets=""
only=""

# run_one NAME [cmake args...]; $targets (default: all) limits what is built,
# $only (a ctest -R regex) what is run.
run_one() {
    name=$1; shift
    dir=$root/$name
    log=$root/$name.log
    tflags=""
    for t in ${targets:-}; do tflags="$tflags --target $t"; done
    echo "== $name: configuring and building ($dir)"
    if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$log" 2>&1 ||
       ! cmake --build "$dir" -j "$jobs" $tflags >> "$log" 2>&1; then
        tail -n 40 "$log"
        summary="$summary
$name: BUILD FAILED (see $log)"
        failed=1
        return
    fi
    echo "== $name: testing"
    (cd "$dir" && WINEDEBUG=-all ctest --output-on-failure -j "$jobs" ${only:+-R "$only"}) \
        > "$dir/ctest.log" 2>&1
    rc=$?
    tail -n 25 "$dir/ctest.log"
    line=$(grep -E 'tests passed|tests failed' "$dir/ctest.log" | tail -n 1)
    [ $rc -eq 0 ] || failed=1
    summary="$summary
$name: ${line:-no ctest summary} (exit $rc)"
}

for p in $want; do
    case $p in
    gcc)     run_one gcc -DCMAKE_C_COMPILER=gcc ;;
    clang)   run_one clang -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ ;;
    asan)    run_one asan -DCMAKE_C_COMPILER=clang -DJITKIT_SANITIZE=ON ;;
    m32)     run_one m32 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-i386.cmake ;;
    mingw)   run_one mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake ;;
    aarch64) run_one aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake ;;
    # ThreadSanitizer over the threaded tests of the code heap and the debug
    # registry (the rest of the suite has no threads; the fuzz targets need
    # ASan, which excludes TSan).
    tsan)    targets="test_heap test_heap_mt test_heap_faults test_heap_fork test_unwind_registry"
             only="^heap|^unwind_registry"
             run_one tsan -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS=-fsanitize=thread \
                 -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DJITKIT_BUILD_CLI=OFF \
                 -DJITKIT_BUILD_EXAMPLES=OFF
             if grep -q "WARNING: ThreadSanitizer" "$root/tsan/Testing/Temporary/LastTest.log"; then
                 summary="$summary
tsan: ThreadSanitizer reports (see $root/tsan/Testing/Temporary/LastTest.log)"
                 failed=1
             fi
             targets=""; only="" ;;
    *) echo "unknown platform '$p' (known: $all)"; exit 2 ;;
    esac
done

echo
echo "== matrix summary"
echo "$summary" | sed '/^$/d'
exit $failed
