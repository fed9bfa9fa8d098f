#!/bin/sh
# Install what mmem needs to build and test on Debian 12, then make sure a
# packaged memcached service does not hold port 11211. Idempotent: when every
# package is already installed, apt is not touched at all.
#
#   scripts/deps.sh            build + test dependencies
#   MMEM_DEPS_VALGRIND=1 ...   also valgrind (for scripts/valgrind.sh)
#   MMEM_DEPS_BENCH=1 ...      also valgrind and gnuplot (scripts/bench.sh's
#                              chart, scripts/callgrind.sh)
set -eu
. "$(dirname "$0")/lib.sh"

# Needed to build and to run make check.
required="build-essential autoconf automake pkg-config libevent-dev libjemalloc-dev check"
# Optional: sd_notify for the systemd unit (configure finds it), and
# systemd-analyze (in systemd) to verify the unit in make check; Cyrus SASL
# for -S (configure finds it), saslpasswd2 and the mechanisms for its tests;
# OpenSSL for -Z (configure finds libssl-dev; the tests make their throwaway
# certificates with the openssl command).
optional="libsystemd-dev systemd libsasl2-dev sasl2-bin libsasl2-modules libssl-dev openssl"
# Reference server and tools the tests compare against, the fuzzing
# compiler, the formatter, and what the docs and scripts use.
tools="memcached libmemcached-tools netcat-openbsd clang clang-format groff-base man-db git procps"
# Client libraries and the proxy that tests/clients runs against mmem (each
# of those tests skips when its client is missing). ruby-dalli does not pull
# in ruby itself; the twemproxy test finds nutcracker's ports with ss
# (iproute2).
tools="$tools python3-pymemcache python3-pylibmc libcache-memcached-fast-perl php-cli php-memcached ruby ruby-dalli nutcracker iproute2"
if [ "${MMEM_DEPS_VALGRIND:-0}" = 1 ] || [ "${MMEM_DEPS_BENCH:-0}" = 1 ]; then
    tools="$tools valgrind"
fi
if [ "${MMEM_DEPS_BENCH:-0}" = 1 ]; then
    tools="$tools gnuplot-nox"
fi

installed()
{
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=""
missing_required=""
for p in $required $optional $tools; do
    if ! installed "$p"; then
        missing="$missing $p"
        case " $required " in
        *" $p "*) missing_required="$missing_required $p" ;;
        esac
    fi
done

if [ -z "$missing" ]; then
    mm_say "dependencies already installed"
else
    mm_say "installing:$missing"
    if mm_is_root; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        mm_die "need root (or sudo) to install:$missing"
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! { $sudo apt-get update -q &&
        $sudo apt-get install -y -q --no-install-recommends $missing; }; then
        if [ -n "$missing_required" ]; then
            mm_die "could not install:$missing_required"
        fi
        # The build and the tests still work without the tools; the tests
        # that need them skip.
        mm_say "warning: could not install:$missing (continuing without them)"
    fi
fi

# Debian starts memcached on 127.0.0.1:11211 when the package is installed.
# Stop that service, and only that one: other memcached processes (developers'
# reference servers on other ports) are left alone.
if [ "${MMEM_DEPS_KEEP_MEMCACHED:-0}" != 1 ]; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-active --quiet memcached 2>/dev/null; then
            mm_say "stopping and disabling the memcached service (port 11211)"
            ${sudo:-} systemctl disable --now memcached || true
        fi
    else
        for pidfile in /run/memcached/memcached.pid /var/run/memcached/memcached.pid \
            /var/run/memcached.pid; do
            [ -f "$pidfile" ] || continue
            pid=$(cat "$pidfile" 2>/dev/null || true)
            case $pid in
            '' | *[!0-9]*) continue ;;
            esac
            if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = memcached ]; then
                mm_say "stopping the packaged memcached (pid $pid)"
                ${sudo:-} kill "$pid" || true
            fi
        done
    fi
fi
