#!/bin/sh
# Format the C sources with the repository's .clang-format (clang-format 14).
#
#   scripts/format.sh               reformat every tracked .c/.h in place
#   scripts/format.sh --check       change nothing; list files that differ, exit 1
#   scripts/format.sh [--check] FILE...   only those files
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
check=no
if [ "${1:-}" = --check ]; then
    check=yes
    shift
fi

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
    for c in clang-format-14 clang-format; do
        if command -v "$c" >/dev/null 2>&1; then
            cf=$c
            break
        fi
    done
fi
[ -n "$cf" ] || mm_die "clang-format not found (apt-get install clang-format)"

cd "$src"
if [ $# -gt 0 ]; then
    files="$*"
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files '*.c' '*.h')
else
    files=$(find include src tests -name '*.c' -o -name '*.h' | sort)
fi
[ -n "$files" ] || exit 0

if [ $check = no ]; then
    # shellcheck disable=SC2086
    "$cf" -i --style=file $files
    exit 0
fi

bad=0
for f in $files; do
    if ! "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "needs formatting: $f" >&2
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
