#!/bin/sh
# Install the dependencies, then build and run every test:
#
#   1. the layering and header checks (scripts/check-deps.sh, check-headers.sh);
#   2. _build/check: the default build (jemalloc) with -Werror, make check;
#   3. _build/asan:  --enable-sanitizers (ASan+UBSan, libc malloc) with
#                    -Werror, make check;
#   4. in CI mode (CI=true, or --ci): make distcheck, which builds and tests
#      the release tarball out of tree, so a file missing from it fails here;
#   5. in CI mode: _build/tsan: --enable-tsan (ThreadSanitizer), only the
#      tests whose threads share memory (the store under many threads, the
#      cross-thread queue and wake-up, acceptor -> worker handoff, many
#      clients on one server); any report fails them.
#
# Ends with one line "mmem: N passed, N failed, N skipped" and exits non-zero
# if anything failed. MMEM_SKIP_DEPS=1 skips the package step; MMEM_JOBS sets
# make's -j. Builds are incremental: run it again after an edit.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
jobs=${MMEM_JOBS:-$(mm_jobs)}
ci=no
case ${CI:-} in
true | 1 | yes) ci=yes ;;
esac
for a in "$@"; do
    case $a in
    --ci) ci=yes ;;
    --no-ci) ci=no ;;
    *) mm_die "usage: $0 [--ci|--no-ci]" ;;
    esac
done

if [ "${MMEM_SKIP_DEPS:-0}" != 1 ]; then
    "$src/scripts/deps.sh"
fi
mm_require_clean_srcdir "$src"
mm_bootstrap "$src"

# Check prints one line per test program; keep the full logs in the build.
CK_VERBOSITY="${CK_VERBOSITY:-normal}"
export CK_VERBOSITY
# Sanitizers: stop at the first error and say where. LeakSanitizer needs
# ptrace, which some containers forbid; probe it once and turn leak checking
# off (with a notice) only where it cannot work.
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export UBSAN_OPTIONS
if [ -z "${ASAN_OPTIONS:-}" ]; then
    ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
    probe_dir=$(mktemp -d)
    printf 'int main(void) { return 0; }\n' >"$probe_dir/p.c"
    if cc -fsanitize=address -o "$probe_dir/p" "$probe_dir/p.c" 2>/dev/null &&
        ! "$probe_dir/p" >/dev/null 2>&1; then
        mm_say "LeakSanitizer does not work here; running ASan without leak checks"
        ASAN_OPTIONS=abort_on_error=0:detect_leaks=0
    fi
    rm -rf "$probe_dir"
    export ASAN_OPTIONS
fi

failed=""
total_p=0
total_f=0
total_s=0

add_counts()
{
    # shellcheck disable=SC2046 # three numbers, split on purpose
    set -- $(mm_count_results "$1")
    total_p=$((total_p + $1))
    total_f=$((total_f + $2))
    total_s=$((total_s + $3))
}

# run_build NAME CONFIGURE-ARGS...: configure, build and check one tree.
run_build()
{
    local name dir before
    name=$1
    shift
    dir="$src/_build/$name"
    mm_configure "$src" "$dir" "$@"
    mm_say "[$name] make -j$jobs"
    if ! make -C "$dir" -j"$jobs"; then
        failed="$failed $name(build)"
        total_f=$((total_f + 1))
        return 0
    fi
    mm_say "[$name] make check"
    # Stale results would be counted again: start every run clean.
    find "$dir" -name '*.trs' -exec rm -f {} + 2>/dev/null || true
    if make -C "$dir" -j"$jobs" check; then
        add_counts "$dir"
        return 0
    fi
    failed="$failed $name(check)"
    mm_show_failures "$dir"
    before=$total_f
    add_counts "$dir"
    # make check can also fail before any test ran (a test program that does
    # not build): count that as a failure too.
    if [ "$total_f" -eq "$before" ]; then
        total_f=$((total_f + 1))
    fi
}

mm_say "layering and header checks"
for t in check-deps.sh check-headers.sh; do
    if MMEM_SRCDIR="$src" "$src/scripts/$t"; then
        total_p=$((total_p + 1))
    else
        failed="$failed $t"
        total_f=$((total_f + 1))
    fi
done

# The tests that exercise shared memory between threads, for the TSan build.
tsan_tests="tests/unit/check_store_mt tests/unit/check_mover tests/unit/check_crawler tests/unit/check_ev_queue tests/unit/check_ev \
tests/unit/check_server tests/integration/check_it_concurrency"

# run_tsan: build the server and just those tests with ThreadSanitizer and
# run them; a race report ends the program with an error (halt_on_error).
run_tsan()
{
    local dir
    dir="$src/_build/tsan"
    mm_configure "$src" "$dir" --enable-tsan --enable-werror
    mm_say "[tsan] make -j$jobs"
    find "$dir" -name '*.trs' -exec rm -f {} + 2>/dev/null || true
    # check_PROGRAMS is narrowed too, so only these programs are built.
    # shellcheck disable=SC2086 # tsan_tests is a list
    if make -C "$dir" -j"$jobs" &&
        TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}" \
            make -C "$dir" -j"$jobs" check TESTS="$tsan_tests" check_PROGRAMS="$tsan_tests"; then
        add_counts "$dir"
        return 0
    fi
    failed="$failed tsan"
    mm_show_failures "$dir"
    total_f=$((total_f + 1))
}

run_build check --enable-werror
run_build asan --enable-werror --enable-sanitizers

if [ $ci = yes ]; then
    mm_say "[check] make distcheck"
    if make -C "$src/_build/check" -j"$jobs" distcheck \
        DISTCHECK_CONFIGURE_FLAGS="--enable-werror"; then
        total_p=$((total_p + 1))
    else
        failed="$failed distcheck"
        total_f=$((total_f + 1))
        # distcheck leaves its build under mmem-<version>/_build on failure.
        for d in "$src"/_build/check/mmem-*/_build/sub; do
            [ -d "$d" ] && mm_show_failures "$d"
        done
    fi
    run_tsan
    # Formatting is reported, and enforced only when asked for.
    if command -v clang-format >/dev/null 2>&1; then
        if ! "$src/scripts/format.sh" --check; then
            if [ "${MMEM_FORMAT_STRICT:-0}" = 1 ]; then
                failed="$failed format"
                total_f=$((total_f + 1))
            else
                mm_say "warning: some files are not clang-formatted (scripts/format.sh fixes them)"
            fi
        fi
    fi
fi

echo
if [ -n "$failed" ]; then
    mm_say "FAILED:$failed"
fi
echo "mmem: $total_p passed, $total_f failed, $total_s skipped"
[ -z "$failed" ] && [ "$total_f" -eq 0 ]
