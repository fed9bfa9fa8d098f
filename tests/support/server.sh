# shellcheck shell=sh disable=SC3043 # "local": dash, bash and busybox sh have it
# Server fixture for shell tests (sourced, never run): the shell twin of
# server.c. It starts mmem (or memcached, for differential runs by hand) on
# 127.0.0.1 and a port the kernel picks, reads that port back, and stops it
# again. Several servers may run at once; each gets its own directory.
#
#   mm_srv_start BIN DIR [ARGS...]   sets mm_srv_pid and mm_srv_port
#   mm_srv_stop PID                  SIGTERM; fails unless it exits 0 in 5 s
#   mm_srv_finish PID DIR STATUS     stop, show DIR/log if anything failed
#   mm_srv_cleanup                   kills whatever is still running (traps)

mm_srv_pids=

# Options that let the server run as root: both refuse to without -u.
mm_srv_user()
{
    if [ "$(id -u)" = 0 ]; then
        printf '%s\n' "-u root"
    fi
}

# mm_srv_start BIN DIR [ARGS...]: start BIN with ARGS on a free loopback port,
# its output in DIR/log. Waits up to 10 s for the port; on failure prints the
# log and returns 1.
mm_srv_start()
{
    local bin dir i user
    bin=$1
    dir=$2
    shift 2
    mm_srv_pid=
    mm_srv_port=
    if [ -z "$bin" ] || [ ! -x "$bin" ]; then
        echo "FAIL: server binary '$bin' is not executable"
        return 1
    fi
    mkdir -p "$dir" || return 1
    user=$(mm_srv_user)
    case "${bin##*/}" in
    *memcached*)
        # memcached's ephemeral port is "-p -1", reported in the port file
        # as "TCP INET: <port>".
        # shellcheck disable=SC2086 # $user is zero or two words
        MEMCACHED_PORT_FILENAME="$dir/port" "$bin" $user -l 127.0.0.1 -p -1 "$@" \
            >"$dir/log" 2>&1 &
        ;;
    *)
        # mmem writes "<port>\n" to the --ready-fd once it listens.
        # shellcheck disable=SC2086 # $user is zero or two words
        "$bin" $user -l 127.0.0.1 -p -1 --ready-fd=9 "$@" 9>"$dir/ready" \
            >"$dir/log" 2>&1 &
        ;;
    esac
    mm_srv_pid=$!
    mm_srv_pids="$mm_srv_pids $mm_srv_pid"
    i=0
    while [ $i -lt 200 ]; do
        if [ -s "$dir/ready" ]; then
            mm_srv_port=$(head -n1 "$dir/ready")
        elif [ -s "$dir/port" ]; then
            mm_srv_port=$(sed -n 's/^TCP INET: //p' "$dir/port" | head -n1)
        fi
        if [ -n "$mm_srv_port" ]; then
            return 0
        fi
        if ! kill -0 "$mm_srv_pid" 2>/dev/null; then
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    echo "FAIL: $bin did not report a port; its output:"
    cat "$dir/log"
    return 1
}

# mm_srv_stop PID: SIGTERM, then wait up to 5 s. Returns 0 only when the
# server exited by itself with status 0.
mm_srv_stop()
{
    local pid i rc
    pid=$1
    # shellcheck disable=SC2086 # the list is split on purpose
    mm_srv_pids=$(printf '%s\n' $mm_srv_pids | grep -vx "$pid" | tr '\n' ' ')
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: server $pid did not exit within 5 s of SIGTERM"
        kill -KILL "$pid" 2>/dev/null
        return 1
    fi
    wait "$pid"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: server $pid exited with status $rc"
        return 1
    fi
    return 0
}

# mm_srv_finish PID DIR STATUS: the end of a test. Stops the server and,
# when STATUS (the test's) is non-zero or the server did not stop cleanly,
# prints its output. Returns STATUS, or 1 when the stop failed.
mm_srv_finish()
{
    local rc
    rc=$3
    if ! mm_srv_stop "$1"; then
        rc=1
    fi
    if [ "$rc" -ne 0 ]; then
        echo "---- server output ----"
        cat "$2/log"
    fi
    return "$rc"
}

# Kill every server this shell started and has not stopped: for EXIT traps.
mm_srv_cleanup()
{
    local pid
    for pid in $mm_srv_pids; do
        kill -KILL "$pid" 2>/dev/null
    done
    mm_srv_pids=
}
