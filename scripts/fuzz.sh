#!/bin/sh
# Build the libFuzzer targets and run each one for a while:
#
#   scripts/fuzz.sh SECONDS [TARGET...]     (TARGET: text, meta, binary, conn;
#                                            default: every fuzz_* built)
#
# The build is clang --enable-fuzzing (ASan+UBSan) in _build/fuzz. Each
# target runs for SECONDS, one after the other, on a work corpus
# (_build/fuzz/fuzz-work/NAME) seeded from tests/fuzz/corpus/NAME; what it
# adds stays there for the next run. Crash, timeout, leak and out-of-memory
# inputs go to _build/fuzz/fuzz-artifacts/NAME/, the log to
# _build/fuzz/fuzz-logs/NAME.log. Prints executions and coverage per target;
# exits non-zero if any target failed (a crash, a property check, a leak, a
# timeout) or did not build.
#
# MMEM_FUZZ_NICE=1 runs the fuzzers under nice -n 19; MMEM_FUZZ_ARGS adds
# libFuzzer options. A found input is made a regression test by copying it
# into tests/fuzz/corpus/NAME/ (replayed by make check).
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
jobs=${MMEM_JOBS:-$(mm_jobs)}

[ $# -ge 1 ] || mm_die "usage: $0 SECONDS [text|meta|binary|conn ...]"
secs=$1
shift
case $secs in
'' | *[!0-9]*) mm_die "SECONDS must be a number: $secs" ;;
esac
command -v clang >/dev/null 2>&1 || mm_die "clang is needed for the fuzzers"

dir="$src/_build/fuzz"
mm_require_clean_srcdir "$src"
mm_bootstrap "$src"
mm_configure "$src" "$dir" CC=clang --enable-fuzzing
mm_say "[fuzz] make -j$jobs"
make -C "$dir" -j"$jobs" >/dev/null || mm_die "the fuzzing build failed"

if [ $# -eq 0 ]; then
    for f in "$dir"/tests/fuzz/fuzz_*; do
        [ -x "$f" ] && set -- "$@" "$(basename "$f" | sed 's/^fuzz_//')"
    done
fi
[ $# -gt 0 ] || mm_die "no fuzz targets were built in $dir"

# Inputs per target: the parsers take any size; a whole connection is run
# twice per input, so keep its streams short.
max_len()
{
    case $1 in
    conn) echo 4096 ;;
    *) echo 8192 ;;
    esac
}

nice_cmd=""
[ "${MMEM_FUZZ_NICE:-0}" = 1 ] && nice_cmd="nice -n 19"
failed=""
summary=""
for name in "$@"; do
    f="$dir/tests/fuzz/fuzz_$name"
    if [ ! -x "$f" ]; then
        failed="$failed $name(missing)"
        continue
    fi
    work="$dir/fuzz-work/$name"
    art="$dir/fuzz-artifacts/$name"
    log="$dir/fuzz-logs/$name.log"
    mkdir -p "$work" "$art" "$(dirname "$log")"
    if [ -d "$src/tests/fuzz/corpus/$name" ]; then
        cp -n "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
    fi
    dict=""
    case $name in
    text | meta | conn) dict="-dict=$src/tests/fuzz/text.dict" ;;
    esac
    mm_say "fuzz_$name for ${secs}s (log: $log)"
    rc=0
    # shellcheck disable=SC2086 # nice_cmd, dict and MMEM_FUZZ_ARGS split on purpose
    $nice_cmd "$f" -max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" $dict \
        ${MMEM_FUZZ_ARGS:-} "$work" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*corp: ([0-9]+).*/cov \1, ft \2, corpus \3/')
    line="fuzz_$name: ${execs:-?} executions in ${secs}s, ${cov:-no coverage line}"
    if [ $rc -ne 0 ]; then
        failed="$failed $name"
        line="$line: FAILED (exit $rc)"
        grep -E '^(==[0-9]+== ?ERROR|SUMMARY|.*property failed|.*Test unit written)' "$log" >&2 || tail -n 20 "$log" >&2
    fi
    summary="$summary$line
"
done

echo
printf '%s' "$summary"
if [ -n "$failed" ]; then
    mm_say "FAILED:$failed (artifacts under $dir/fuzz-artifacts/)"
    exit 1
fi
