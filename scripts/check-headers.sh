#!/bin/sh
# Compile every header on its own, twice in one translation unit, with the
# project's warnings and -Werror: a header must include or forward-declare
# everything it uses and have an include guard. Both the public headers
# (include/mmem/*.h) and the private ones under src/ are checked; --public
# checks only the former.
#
# Usage: check-headers.sh [--public] [SRCDIR]
# CC and CFLAGS come from the environment ($MMEM_CC, $CC, or cc).
set -eu
. "$(dirname "$0")/lib.sh"
private=yes
case ${1:-} in
--public)
    private=no
    shift
    ;;
--private) shift ;;
esac
root=${1:-$(mm_srcdir)}
[ -d "$root/include/mmem" ] || mm_die "no include/mmem under $root"
cc=${MMEM_CC:-${CC:-cc}}
# Only the first word is the compiler ("gcc -std=gnu11" is allowed in CC).
command -v "${cc%% *}" >/dev/null 2>&1 || mm_die "no C compiler ($cc)"

# The project's warning set (configure.ac), so a header that only builds
# with warnings silenced fails here. _GNU_SOURCE is what config.h defines
# through AC_USE_SYSTEM_EXTENSIONS.
flags="-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wwrite-strings -Wpointer-arith -Wformat=2 -Wundef -Wvla -Werror"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

headers=$(cd "$root" && ls include/mmem/*.h)
if [ $private = yes ]; then
    headers="$headers $(cd "$root" && find src -name '*.h' | sort)"
fi

bad=0
n=0
for h in $headers; do
    n=$((n + 1))
    case $h in
    include/*) inc="${h#include/}" ;;
    *) inc="$h" ;;
    esac
    printf '#include "%s"\n#include "%s"\n' "$inc" "$inc" >"$tmp/t.c"
    # shellcheck disable=SC2086
    if ! $cc $flags -I"$root/include" -I"$root/src" -I"$root" -fsyntax-only "$tmp/t.c" 2>"$tmp/err"; then
        printf '%s does not compile on its own:\n' "$h" >&2
        sed 's/^/    /' "$tmp/err" >&2
        bad=1
    fi
done

if [ $bad -ne 0 ]; then
    echo "check-headers: failures" >&2
    exit 1
fi
echo "check-headers: ok ($n headers)"
