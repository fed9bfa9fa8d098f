# shellcheck shell=sh disable=SC3043 # "local": dash, bash and busybox sh have it
# Helpers for the client tests (sourced, never run). Each test is a driver
# that checks its client library is installed (exit 77 otherwise) and hands
# a client script to mm_client_run, which starts a fresh mmem, runs the
# script against it with a time limit, and stops the server again.
#
# MMEM_BIN names the server (make check sets it); MMEM_BIN=/usr/bin/memcached
# runs the same scripts against the reference server.

# shellcheck source=tests/support/server.sh
. "$(dirname "$0")/../support/server.sh"

# Every client run is bounded: a hung client fails the test instead of make.
mm_client_limit=25

# No __pycache__ in the source tree (read-only under distcheck anyway).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

mm_client_skip()
{
    echo "$*: skipped"
    exit 77
}

# A scratch directory, removed on exit together with any server left over.
mm_client_tmp()
{
    tmp=$(mktemp -d /tmp/mmem-client-XXXXXX) || exit 1
    trap 'mm_srv_cleanup; rm -rf "$tmp"' EXIT
    trap 'exit 1' INT TERM
}

# mm_client_run CMD...: start a server, run "CMD... 127.0.0.1 PORT" and exit
# with its status (1 too when the server does not stop cleanly).
mm_client_run()
{
    local rc
    mm_client_tmp
    mm_srv_start "${MMEM_BIN:-}" "$tmp/srv" || exit 1
    echo "$* against 127.0.0.1:$mm_srv_port (${MMEM_BIN##*/})"
    timeout "$mm_client_limit" "$@" 127.0.0.1 "$mm_srv_port"
    rc=$?
    if [ $rc -eq 124 ]; then
        echo "FAIL: client still running after $mm_client_limit s"
    fi
    mm_srv_finish "$mm_srv_pid" "$tmp/srv" $rc
    exit
}

# mm_client_servers N: start N servers; their ports and pids are listed in
# mm_client_ports and mm_client_spids (space-separated, in order).
mm_client_servers()
{
    local n
    mm_client_ports=
    mm_client_spids=
    n=1
    while [ $n -le "$1" ]; do
        mm_srv_start "${MMEM_BIN:-}" "$tmp/srv$n" || exit 1
        mm_client_ports="$mm_client_ports $mm_srv_port"
        mm_client_spids="$mm_client_spids $mm_srv_pid"
        n=$((n + 1))
    done
}

# mm_client_stop_servers: stop what mm_client_servers started; fails unless
# each exits cleanly.
mm_client_stop_servers()
{
    local pid rc
    rc=0
    for pid in $mm_client_spids; do
        mm_srv_stop "$pid" || rc=1
    done
    return $rc
}

# mm_client_python MODULE: set $py to a Python 3 that can import MODULE, or
# skip. Debian's packages install for /usr/bin/python3, which need not be the
# python3 first on PATH (pyenv, virtualenvs).
mm_client_python()
{
    local cand
    for cand in python3 /usr/bin/python3; do
        if "$cand" -c "import $1" 2>/dev/null; then
            # shellcheck disable=SC2034 # read by the drivers
            py=$cand
            return 0
        fi
    done
    mm_client_skip "Python module $1 not installed"
}
