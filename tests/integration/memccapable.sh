#!/bin/sh
# Runs libmemcached's protocol checker (memccapable, text and binary) against a
# fresh mmem. Fails on a non-zero exit status or any failed check in the
# output; skips (77) only when memccapable is not installed.
#
# Environment: MMEM_BIN, MEMCCAPABLE_BIN (from AM_TESTS_ENVIRONMENT), and
# MMEM_TEST_ADDR=host:port to use an already running server instead.

set -u

capable=${MEMCCAPABLE_BIN:-}
if [ -z "$capable" ] || [ ! -x "$capable" ]; then
    echo "memccapable not installed: skipped"
    exit 77
fi

tmp=$(mktemp -d /tmp/mmem-capable-XXXXXX) || exit 1
pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -n "${MMEM_TEST_ADDR:-}" ]; then
    host=${MMEM_TEST_ADDR%:*}
    port=${MMEM_TEST_ADDR##*:}
else
    bin=${MMEM_BIN:-}
    if [ -z "$bin" ] || [ ! -x "$bin" ]; then
        echo "FAIL: MMEM_BIN '$bin' is not executable"
        exit 1
    fi
    user=
    if [ "$(id -u)" = 0 ]; then
        user="-u root"
    fi
    host=127.0.0.1
    case "${bin##*/}" in
    *memcached*)
        # Checking the script itself against memcached: its ephemeral port
        # is "-p -1", reported through the port file.
        # shellcheck disable=SC2086 # $user is zero or two words
        MEMCACHED_PORT_FILENAME="$tmp/port" "$bin" $user -l 127.0.0.1 -p -1 \
            >"$tmp/log" 2>&1 &
        pid=$!
        ;;
    *)
        # mmem writes "<port>\n" to the --ready-fd once it listens.
        # shellcheck disable=SC2086 # $user is zero or two words
        "$bin" $user -l 127.0.0.1 -p 0 --ready-fd=9 9>"$tmp/ready" >"$tmp/log" 2>&1 &
        pid=$!
        ;;
    esac
    port=
    i=0
    while [ $i -lt 200 ]; do
        if [ -s "$tmp/ready" ] && grep -q . "$tmp/ready"; then
            port=$(head -n1 "$tmp/ready")
        elif [ -s "$tmp/port" ]; then
            port=$(sed -n 's/^TCP INET: //p' "$tmp/port" | head -n1)
        fi
        if [ -n "$port" ]; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$port" ]; then
        echo "FAIL: server did not report a port; its output:"
        cat "$tmp/log"
        exit 1
    fi
fi

status=0
# -a: the text protocol; -b: the binary protocol.
for mode in -a -b; do
    echo "memccapable $mode against $host:$port"
    "$capable" "$mode" -v -t 5 -h "$host" -p "$port" >"$tmp/out" 2>&1
    rc=$?
    cat "$tmp/out"

    if [ $rc -ne 0 ]; then
        echo "FAIL: memccapable $mode exited with $rc"
        status=1
    fi
    if grep -q '\[FAIL\]' "$tmp/out"; then
        echo "FAIL: memccapable $mode reported failed checks"
        status=1
    fi
    if ! grep -q 'All tests passed' "$tmp/out"; then
        echo "FAIL: memccapable $mode did not report success"
        status=1
    fi
done

if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: server did not exit within 5 s of SIGTERM"
        kill -KILL "$pid" 2>/dev/null
        status=1
    else
        wait "$pid"
        src=$?
        if [ $src -ne 0 ]; then
            echo "FAIL: server exited with status $src"
            status=1
        fi
    fi
    pid=
    if [ $status -ne 0 ]; then
        echo "---- server output ----"
        cat "$tmp/log"
    fi
fi
exit $status
