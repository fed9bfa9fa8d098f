#!/bin/sh
# Install the dependencies, build mmem in _build/run and start it in the
# foreground on port 11211. Extra arguments go to mmem:
#
#   scripts/run.sh                 mmem -p 11211 -l 127.0.0.1 [-u memcache]
#   scripts/run.sh -vv -m 256      ... plus -vv -m 256
#
# Like memcached, mmem will not run as root without -u. When this script runs
# as root and no -u is given it adds "-u memcache" (the account Debian's
# memcached package creates), or "-u nobody" if that account does not exist.
# Like Debian's packaged memcached it listens on 127.0.0.1 only, unless -l (or
# -s) is given. MMEM_SKIP_DEPS=1 skips the package step.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
build="$src/_build/run"

have_port=no
have_listen=no
have_user=no
for a in "$@"; do
    case $a in
    -p | -p* | --port | --port=*) have_port=yes ;;
    -l | -l* | --listen | --listen=* | -s | -s* | --unix-socket | --unix-socket=*) have_listen=yes ;;
    -u | -u* | --user | --user=*) have_user=yes ;;
    esac
done

if [ $have_port = no ]; then
    set -- -p 11211 "$@"
fi
if [ $have_listen = no ]; then
    set -- -l 127.0.0.1 "$@"
fi
if mm_is_root && [ $have_user = no ]; then
    if id memcache >/dev/null 2>&1; then
        set -- -u memcache "$@"
    else
        set -- -u nobody "$@"
    fi
fi

# MMEM_RUN_DRY=1: print the command line and stop (used by selftest.sh).
if [ "${MMEM_RUN_DRY:-0}" = 1 ]; then
    echo "mmem $*"
    exit 0
fi

if [ "${MMEM_SKIP_DEPS:-0}" != 1 ]; then
    "$src/scripts/deps.sh"
fi
mm_require_clean_srcdir "$src"
mm_bootstrap "$src"
mm_configure "$src" "$build"
mm_say "make"
make -C "$build" -j"$(mm_jobs)" src/mmem >/dev/null || mm_die "build failed"

mm_say "exec $build/src/mmem $*"
exec "$build/src/mmem" "$@"
