#!/bin/sh
# Enforce the layering of doc/architecture.md by reading #include lines:
#
#   core  <- nothing        ev    <- core        store <- core
#   proto <- core           cmd   <- proto store core
#   net   <- ev cmd proto store core             main.c, tests/integration: any
#
# plus: libevent headers (event.h, event2/...) only under src/ev; ev's backend
# table (ev_backend.h) only in src/ev; another area's private headers
# (src/<area>/*_int.h) only in that area and its unit tests.
#
# Usage: check-deps.sh [SRCDIR]   (default: $MMEM_SRCDIR or this script's ..)
# Exits 1 and lists every violation; exits 0 when the tree is clean.
set -eu
. "$(dirname "$0")/lib.sh"
root=${1:-$(mm_srcdir)}
[ -d "$root/include/mmem" ] || mm_die "no include/mmem under $root"

# Which module a public header belongs to. Headers not listed here belong to
# the area that implements them (src/<area>/<name>.c or <name>_*.c).
header_module()
{
    case $1 in
    settings | log | alloc | clock | stats | scan | hash | out | daemon) echo core ;;
    ev | ev_*) echo ev ;;
    store | item | ht | slab | lru) echo store ;;
    req | proto | text | meta | binary | protocol_binary | ascii) echo proto ;;
    cmd | cmd_*) echo cmd ;;
    conn | worker | listener | iobuf | handoff | net | server) echo net ;;
    *)
        for area in core ev store proto cmd net; do
            for impl in "$root/src/$area/$1.c" "$root/src/$area/$1"_*.c; do
                if [ -f "$impl" ]; then
                    echo "$area"
                    return 0
                fi
            done
        done
        echo unknown
        ;;
    esac
}

# The modules a module may include, itself included.
allowed()
{
    case $1 in
    core) echo "core" ;;
    ev) echo "ev core" ;;
    store) echo "store core" ;;
    proto) echo "proto core" ;;
    cmd) echo "cmd proto store core" ;;
    net) echo "net cmd proto store ev core" ;;
    *) echo "core ev store proto cmd net" ;;
    esac
}

# The module a source file is held to, or "" for files any rule exempts.
file_module()
{
    case $1 in
    include/mmem/*.h)
        b=${1#include/mmem/}
        header_module "${b%.h}"
        ;;
    src/main.c) echo main ;;
    src/core/* | src/ev/* | src/store/* | src/proto/* | src/cmd/* | src/net/*)
        b=${1#src/}
        echo "${b%%/*}"
        ;;
    tests/unit/check_*.c)
        # check_<module>[_what].c tests one module and links only its libs.
        b=${1#tests/unit/check_}
        for m in core ev store proto cmd net; do
            case $b in
            "$m".c | "$m"_*) echo "$m" && return 0 ;;
            esac
        done
        echo ""
        ;;
    # The connection fuzzer drives the whole stack, as net/ does.
    tests/fuzz/fuzz_conn.c) echo net ;;
    tests/fuzz/*.c) echo proto ;;
    *) echo "" ;;
    esac
}

bad=0
report()
{
    printf '%s: %s\n' "$1" "$2" >&2
    bad=1
}

cd "$root"
files=$(find include/mmem src tests -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
for f in $files; do
    mod=$(file_module "$f")
    [ -n "$mod" ] || continue
    if [ "$mod" = unknown ]; then
        report "$f" "header of no known module: name it in header_module() of scripts/check-deps.sh"
        continue
    fi
    ok=$(allowed "$mod")
    # Every #include line, as "<path>" or "\"path\"" without the delimiters.
    incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$f")
    for inc in $incs; do
        case $inc in
        event.h | event2/*)
            case $f in
            src/ev/*) ;;
            *) report "$f" "includes <$inc>: libevent is private to src/ev" ;;
            esac
            ;;
        mmem/ev_backend.h | ev/ev_backend.h | ev_backend.h)
            case $f in
            src/ev/* | tests/unit/check_ev*) ;;
            *) report "$f" "includes $inc: the backend table is private to src/ev" ;;
            esac
            ;;
        mmem/*.h)
            b=${inc#mmem/}
            dep=$(header_module "${b%.h}")
            case " $ok " in
            *" $dep "*) ;;
            *) report "$f" "($mod) includes $inc ($dep): not allowed, $mod may use: $ok" ;;
            esac
            ;;
        ../* | */../*)
            report "$f" "includes $inc: climb-out paths hide the module, use mmem/ or <area>/"
            ;;
        core/* | ev/* | store/* | proto/* | cmd/* | net/*)
            # A private header of another area (reached through -Isrc).
            dep=${inc%%/*}
            if [ "$dep" != "$mod" ]; then
                report "$f" "($mod) includes $inc: private to src/$dep"
            fi
            ;;
        esac
    done
done

if [ $bad -ne 0 ]; then
    echo "check-deps: layering violations found (see doc/architecture.md)" >&2
    exit 1
fi
echo "check-deps: ok ($(echo "$files" | wc -l) files)"
