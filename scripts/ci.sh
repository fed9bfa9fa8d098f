#!/bin/sh
# The full configure matrix, beyond what scripts/test.sh (and so .ci/run)
# runs. Slower; meant for a developer machine before a risky merge.
#
#   1. scripts/test.sh --ci      default + ASan/UBSan builds, distcheck
#   2. _build/tsan     --enable-tsan: make check (ThreadSanitizer)
#   3. _build/clang    CC=clang --without-jemalloc --enable-werror: make check
#   4. _build/fuzz     --enable-fuzzing (clang): builds the fuzzers, make check
#                      (the corpus replay), then scripts/fuzz.sh runs each
#                      fuzzer for $MMEM_FUZZ_SECONDS (default 10) seconds
#   5. scripts/format.sh --check (strict)
#
# Ends with "mmem-ci: N passed, N failed"; exits non-zero if any step failed.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
jobs=${MMEM_JOBS:-$(mm_jobs)}
pass=0
fail=0
failed=""

step()
{
    local name
    name=$1
    shift
    mm_say "ci: $name"
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $name"
    fi
}

build_check()
{
    local dir
    dir="$src/_build/$1"
    shift
    mm_configure "$src" "$dir" "$@" &&
        make -C "$dir" -j"$jobs" &&
        { make -C "$dir" -j"$jobs" check || { mm_show_failures "$dir"; false; }; }
}

tsan_check()
{
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
    export TSAN_OPTIONS
    build_check tsan --enable-tsan --enable-werror
}

step test "$src/scripts/test.sh" --ci
MMEM_SKIP_DEPS=1
export MMEM_SKIP_DEPS
step tsan tsan_check
step clang build_check clang CC=clang --without-jemalloc --enable-werror
if command -v clang >/dev/null 2>&1; then
    step fuzz-build build_check fuzz CC=clang --enable-fuzzing
    step fuzz-run "$src/scripts/fuzz.sh" "${MMEM_FUZZ_SECONDS:-10}"
fi
step format "$src/scripts/format.sh" --check

echo
[ -z "$failed" ] || mm_say "FAILED:$failed"
echo "mmem-ci: $pass passed, $fail failed"
[ $fail -eq 0 ]
