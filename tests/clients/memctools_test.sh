#!/bin/sh
# libmemcached's command-line tools against HOST PORT, over the text protocol
# and then the binary one (-b): memccp (set, flags, expiry), memccat (get and
# multi-get), memcexist, memcrm (delete), memctouch, memcstat, memcflush and a
# short memcslap run. The tools have no incr or cas command; memccapable.sh
# covers both with the same library.
set -u
host=$1
port=$2
servers="--servers=$host:$port"
fails=0
checks=0

check()
{
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        fails=$((fails + 1))
        printf 'FAIL: %s: got [%s], want [%s]\n' "$1" "$2" "$3"
    fi
}

# gone KEY: poll for at most 4 s until KEY is gone (a 1 s TTL ends within
# 2 s); true once it is.
gone()
{
    i=0
    while memcexist $proto "$servers" "$1" && [ $i -lt 40 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    ! memcexist $proto "$servers" "$1"
}

dir=$(mktemp -d /tmp/mmem-memc-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

for proto in "" -b; do
    memcflush $proto "$servers"
    check "$proto flush" $? 0
    printf 'alpha' >a
    printf 'be\r\nta' >b
    printf 'gamma' >c
    memccp $proto "$servers" a b c
    check "$proto memccp" $? 0
    check "$proto memccat" "$(memccat $proto "$servers" a)" alpha
    # One value per line; $(...) drops only the last newline.
    check "$proto memccat multi" "$(memccat $proto "$servers" a b c | od -An -c | tr -s ' \n' ' ')" \
        "$(printf 'alpha\nbe\r\nta\ngamma\n' | od -An -c | tr -s ' \n' ' ')"
    memccat $proto "$servers" nope >/dev/null 2>&1
    check "$proto memccat miss fails" $? 1
    memccp $proto -F 77 "$servers" a
    check "$proto flags" "$(memccat $proto -F "$servers" a | head -n1)" 77

    memcexist $proto "$servers" b
    check "$proto exists" $? 0
    memcrm $proto "$servers" b
    check "$proto memcrm" $? 0
    memcexist $proto "$servers" b
    check "$proto exists after rm" $? 1
    memcrm $proto "$servers" b >/dev/null 2>&1
    check "$proto memcrm missing fails" $? 1

    # Expiry: a relative 1 s TTL, polled for at most 4 s; an absolute time
    # an hour ago; and memctouch shortening a TTL.
    memccp $proto -e 1 "$servers" c
    check "$proto set ttl" "$(memccat $proto "$servers" c)" gamma
    gone c
    check "$proto expired" $? 0
    memccp $proto -e $(($(date +%s) - 3600)) "$servers" c
    memcexist $proto "$servers" c
    check "$proto absolute past expiry" $? 1
    memctouch $proto -e 1 "$servers" a
    check "$proto memctouch" $? 0
    gone a
    check "$proto touched key expired" $? 0

    # A short load: 300 keys set, then fetched with multi-gets, 2 threads.
    memcflush $proto "$servers"
    before=$(memcstat $proto "$servers" | sed -n 's/^[[:space:]]*get_misses: //p')
    memcslap $proto "$servers" -c 2 -e 300 -l 300 -t set >slap.out 2>&1
    check "$proto memcslap set" $? 0
    memcslap $proto "$servers" -c 2 -e 300 -l 300 -t mget >>slap.out 2>&1
    check "$proto memcslap mget" $? 0
    # memcslap's keys are random, so a few may repeat: count, don't compare.
    items=$(memcstat $proto "$servers" | sed -n 's/^[[:space:]]*curr_items: //p')
    check "$proto curr_items after memcslap" "$([ "${items:-0}" -ge 250 ] && echo ok)" ok
    misses=$(memcstat $proto "$servers" | sed -n 's/^[[:space:]]*get_misses: //p')
    check "$proto no misses in memcslap" "$misses" "$before"
done
check "memcstat --server-version" \
    "$(memcstat --server-version "$servers" 2>&1 | grep -c "^$host:$port 1\.")" 1

echo "memc tools: $((checks - fails)) checks passed, $fails failed"
[ $fails -eq 0 ]
