#!/bin/sh
# Run every unit-test program under valgrind (memcheck), in a libc-malloc
# build (_build/valgrind, --without-jemalloc) and with CK_FORK=no so that
# valgrind sees the tests themselves. Needs valgrind
# (MMEM_DEPS_VALGRIND=1 scripts/deps.sh installs it).
#
#   scripts/valgrind.sh [PROGRAM...]   default: tests/unit/check_*
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
dir="$src/_build/valgrind"
command -v valgrind >/dev/null 2>&1 || mm_die "valgrind not installed (MMEM_DEPS_VALGRIND=1 scripts/deps.sh)"
mm_require_clean_srcdir "$src"
mm_bootstrap "$src"
mm_configure "$src" "$dir" --without-jemalloc --enable-debug
make -C "$dir" -j"$(mm_jobs)"
make -C "$dir" -j"$(mm_jobs)" check TESTS= >/dev/null

if [ $# -eq 0 ]; then
    # The built programs: tests/unit/check_<name>, without an extension.
    for t in "$dir"/tests/unit/check_*; do
        case ${t##*/} in
        *.*) ;;
        *) [ -x "$t" ] && set -- "$@" "tests/unit/${t##*/}" ;;
        esac
    done
fi
[ $# -gt 0 ] || mm_die "no unit-test programs built in $dir"

fails=0
for t in "$@"; do
    mm_say "valgrind $t"
    if ! (cd "$dir" && CK_FORK=no CK_DEFAULT_TIMEOUT=600 MMEM_SRCDIR="$src" \
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "./$t"); then
        fails=$((fails + 1))
    fi
done
echo "valgrind: $(($# - fails)) passed, $fails failed"
[ $fails -eq 0 ]
