# shellcheck shell=sh
# Helpers shared by the scripts in this directory (sourced, never run). They
# locate the source tree, print progress, and build one configuration in its
# own directory under _build/, so several configurations can coexist.

# The source tree: $MMEM_SRCDIR when make check exports it (distcheck builds
# live elsewhere), otherwise the parent of this script's directory.
mm_srcdir()
{
    if [ -n "${MMEM_SRCDIR:-}" ] && [ -d "$MMEM_SRCDIR/include/mmem" ]; then
        printf '%s\n' "$MMEM_SRCDIR"
    else
        (cd "$(dirname "$0")/.." && pwd)
    fi
}

mm_say()
{
    printf '==> %s\n' "$*" >&2
}

mm_die()
{
    printf 'error: %s\n' "$*" >&2
    exit 1
}

mm_jobs()
{
    nproc 2>/dev/null || echo 2
}

# True when running as root (sudo is then not needed for apt).
mm_is_root()
{
    [ "$(id -u)" -eq 0 ]
}

# Refuse to mix an in-tree configure with the out-of-tree builds below:
# automake's VPATH builds stop with "source directory already configured".
mm_require_clean_srcdir()
{
    if [ -f "$1/config.status" ]; then
        mm_die "$1 is configured in-tree (config.status exists); run 'make distclean' there first, the scripts build under _build/"
    fi
}

# Generate configure if it is missing. After that, the Makefile's own rebuild
# rules keep configure and Makefile.in up to date.
mm_bootstrap()
{
    if [ ! -x "$1/configure" ] || [ ! -f "$1/Makefile.in" ]; then
        mm_say "bootstrap"
        (cd "$1" && ./bootstrap)
    fi
}

# mm_configure SRCDIR BUILDDIR ARGS...: configure BUILDDIR unless it is
# already configured with exactly ARGS (kept in a stamp file).
mm_configure()
{
    local src dir want
    src=$1
    dir=$2
    shift 2
    mkdir -p "$dir"
    want="$*"
    if [ -f "$dir/config.status" ] && [ -f "$dir/.mmem-configure-args" ] &&
        [ "$(cat "$dir/.mmem-configure-args")" = "$want" ]; then
        return 0
    fi
    mm_say "configure $dir: ${want:-(defaults)}"
    (cd "$dir" && "$src/configure" "$@") || mm_die "configure failed in $dir (see $dir/config.log)"
    printf '%s' "$want" >"$dir/.mmem-configure-args"
}

# Print the logs of failed tests in BUILDDIR, so CI output shows the cause.
mm_show_failures()
{
    if [ -f "$1/test-suite.log" ]; then
        printf '\n----- %s/test-suite.log -----\n' "$1" >&2
        cat "$1/test-suite.log" >&2
    fi
}

# Count results in BUILDDIR after make check and print "P F S" (passed,
# failed, skipped). A Check program counts as its individual tests (from its
# "Checks: N, Failures: F, Errors: E" line); any other test counts as one.
mm_count_results()
{
    local p f s trs log res line n bad
    p=0
    f=0
    s=0
    # shellcheck disable=SC2044 # automake names files without spaces
    for trs in $(find "$1" -name 'mmem-[0-9]*' -prune -o -name '*.trs' -print 2>/dev/null); do
        log="${trs%.trs}.log"
        res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
        line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null |
            tail -n 1)
        if [ -n "$line" ]; then
            n=$(printf '%s\n' "$line" | sed -E 's/.*Checks: ([0-9]+),.*/\1/')
            bad=$(printf '%s\n' "$line" |
                sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' |
                awk '{ print $1 + $2 }')
            p=$((p + n - bad))
            f=$((f + bad))
            # A crash after the summary still fails the program.
            if [ "$bad" -eq 0 ] && [ "$res" != PASS ] && [ "$res" != XFAIL ]; then
                f=$((f + 1))
            fi
        else
            case $res in
            PASS | XFAIL) p=$((p + 1)) ;;
            SKIP) s=$((s + 1)) ;;
            *) f=$((f + 1)) ;;
            esac
        fi
    done
    printf '%s %s %s\n' "$p" "$f" "$s"
}

# The binaries a benchmark compares: sets mmem, load and memcached. Uses
# MMEM_BENCH_BIN / MMEM_LOAD_BIN / MEMCACHED_BIN when given, otherwise builds
# mmem and the load tool in <srcdir>/_build/bench.
mm_bench_binaries()
{
    local _src="$1"
    local _build="$_src/_build/bench"
    # memcached, libmemcached-tools (memcaslap), valgrind and gnuplot; quick
    # when they are all there already. MMEM_BENCH_NO_DEPS=1 skips it.
    if [ "${MMEM_BENCH_NO_DEPS:-0}" != 1 ]; then
        MMEM_DEPS_BENCH=1 "$_src/scripts/deps.sh" >&2
    fi
    if [ -n "${MMEM_BENCH_BIN:-}" ]; then
        mmem=$MMEM_BENCH_BIN
        load=${MMEM_LOAD_BIN:-$(dirname "$mmem")/../scripts/load/mmem-load}
    else
        mm_require_clean_srcdir "$_src"
        mm_bootstrap "$_src"
        mm_configure "$_src" "$_build"
        make -C "$_build" -j"$(mm_jobs)" src/mmem scripts/load/mmem-load >/dev/null
        mmem="$_build/src/mmem"
        load="$_build/scripts/load/mmem-load"
    fi
    memcached=${MEMCACHED_BIN:-/usr/bin/memcached}
    [ -x "$mmem" ] || mm_die "no mmem binary at $mmem"
    [ -x "$load" ] || mm_die "no mmem-load at $load"
    [ -x "$memcached" ] || mm_die "no memcached at $memcached (apt-get install memcached)"
}
