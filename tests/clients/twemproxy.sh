#!/bin/sh
# twemproxy (nutcracker) in front of three fresh mmem instances, configured
# from doc/examples/nutcracker.yml (ketama, fnv1a_64, auto_eject_hosts) with
# free loopback ports; twemproxy_test.py checks the spread of 300 keys and
# what happens when one backend stops.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
command -v nutcracker >/dev/null 2>&1 || mm_client_skip "nutcracker not installed"
mm_client_python socket
command -v ss >/dev/null 2>&1 || mm_client_skip "ss (iproute2) not installed"
mm_client_tmp

mm_client_servers 3
# shellcheck disable=SC2086 # lists of numbers
set -- $mm_client_ports
port1=$1 port2=$2 port3=$3
# shellcheck disable=SC2086
set -- $mm_client_spids
args="$port1 $1 $port2 $2 $port3 $3"

# nutcracker cannot listen on port 0, so try random high ports until both
# binds succeed (it exits at once when one fails), at most 10 times.
ncpid=
try=0
while [ $try -lt 10 ] && [ -z "$ncpid" ]; do
    try=$((try + 1))
    # shellcheck disable=SC2046 # two numbers
    set -- $(od -An -N4 -tu2 /dev/urandom)
    listen=$((20000 + $1 % 40000))
    statsport=$((20000 + $2 % 40000))
    sed -e "s/127.0.0.1:22121/127.0.0.1:$listen/" \
        -e "s/127.0.0.1:11211:/127.0.0.1:$port1:/" \
        -e "s/127.0.0.1:11212:/127.0.0.1:$port2:/" \
        -e "s/127.0.0.1:11213:/127.0.0.1:$port3:/" \
        "$(dirname "$0")/../../doc/examples/nutcracker.yml" >"$tmp/nutcracker.yml"
    nutcracker -c "$tmp/nutcracker.yml" -s "$statsport" -a 127.0.0.1 -i 100 \
        -o "$tmp/nutcracker.log" -p "$tmp/nutcracker.pid" &
    pid=$!
    mm_srv_pids="$mm_srv_pids $pid"
    i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
        if [ "$(ss -ltnpH | grep -c "pid=$pid,")" -ge 2 ]; then
            ncpid=$pid
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$ncpid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
done
if [ -z "$ncpid" ]; then
    echo "FAIL: nutcracker did not start; its log:"
    cat "$tmp/nutcracker.log"
    exit 1
fi
echo "nutcracker on 127.0.0.1:$listen, backends $port1 $port2 $port3"

# shellcheck disable=SC2086 # $args is a list of numbers
timeout "$mm_client_limit" "$py" "$(dirname "$0")/twemproxy_test.py" "$listen" "$statsport" $args
rc=$?
kill "$ncpid"
mm_client_stop_servers || rc=1
if [ $rc -ne 0 ]; then
    echo "---- nutcracker log ----"
    cat "$tmp/nutcracker.log"
fi
exit $rc
