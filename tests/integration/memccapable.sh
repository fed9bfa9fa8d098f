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
# shellcheck source=tests/support/server.sh
. "$(dirname "$0")/../support/server.sh"
pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    mm_srv_cleanup
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -n "${MMEM_TEST_ADDR:-}" ]; then
    host=${MMEM_TEST_ADDR%:*}
    port=${MMEM_TEST_ADDR##*:}
else
    # MMEM_BIN may name memcached too, to check the script itself.
    mm_srv_start "${MMEM_BIN:-}" "$tmp" || exit 1
    host=127.0.0.1
    pid=$mm_srv_pid
    port=$mm_srv_port
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
    mm_srv_finish "$pid" "$tmp" $status
    status=$?
fi
exit $status
