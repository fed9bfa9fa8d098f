#!/bin/sh
# Test mmem-conf-args: Debian's memcached.conf (the installed one when there
# is one, and the copy in tests/fixtures) becomes the command line Debian's
# wrapper would build, minus -d and logfile, plus the loopback and user
# defaults; comments, escapes and the --exec mode; and the result is a
# command line that mmem accepts.
set -eu
src=${MMEM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
helper="$src/scripts/service/mmem-conf-args"
tmp=$(mktemp -d /tmp/mmem-conf-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fails=0
# expect NAME CONF WANT: the helper's output, one word a line, joined by
# blanks, must equal WANT.
expect()
{
    got=$("$helper" "$2" 2>"$tmp/err" | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$3" ]; then
        echo "ok: $1"
    else
        printf 'FAIL: %s\n  want: %s\n  got:  %s\n' "$1" "$3" "$got" >&2
        fails=$((fails + 1))
    fi
}

debian_args="-m 64 -p 11211 -u memcache -l 127.0.0.1 -P /var/run/memcached/memcached.pid"
expect "Debian's memcached.conf (fixture)" "$src/tests/fixtures/debian-memcached.conf" "$debian_args"
if [ -r /etc/memcached.conf ]; then
    # The installed file may have been edited: check only the invariants.
    out=$("$helper" /etc/memcached.conf 2>/dev/null)
    if printf '%s\n' "$out" | grep -qx -e '-d' -e 'logfile' -e '#.*'; then
        echo "FAIL: /etc/memcached.conf: -d, logfile or a comment survived" >&2
        fails=$((fails + 1))
    else
        echo "ok: /etc/memcached.conf"
    fi
else
    echo "skip: no /etc/memcached.conf"
fi

expect "example mmem.conf" "$src/scripts/service/mmem.conf" "-m 64 -p 11211 -u nobody -l 127.0.0.1"
expect "missing file: defaults" "$tmp/none.conf" "-l 127.0.0.1 -u nobody"
grep -q 'not found' "$tmp/err" || {
    echo "FAIL: no warning for a missing file" >&2
    fails=$((fails + 1))
}

cat >"$tmp/c.conf" <<'CONF'
# a comment line
   -m 128   # trailing comment
-vv
-d
-h
logfile /var/log/mmem.log
-o key\#1
-c *
-l 127.0.0.2 -p 5
-u root
CONF
printf -- '-t 2' >>"$tmp/c.conf" # no final newline
expect "comments, -d, -h, logfile, escapes, globs" "$tmp/c.conf" \
    "-m 128 -vv -o key#1 -c * -l 127.0.0.2 -p 5 -u root -t 2"

printf -- '-l127.0.0.3\n--user=x\n' >"$tmp/attached.conf"
expect "attached -l/--user values count" "$tmp/attached.conf" "-l127.0.0.3 --user=x"

printf 'bogus thing\n-m 1\n' >"$tmp/unknown.conf"
expect "unknown directive skipped" "$tmp/unknown.conf" "-m 1 -l 127.0.0.1 -u nobody"
grep -q 'unknown.conf:1: ignoring unknown directive: bogus thing' "$tmp/err" || {
    echo "FAIL: no warning for an unknown directive" >&2
    fails=$((fails + 1))
}

# --exec keeps the words apart and replaces the helper (same pid).
cat >"$tmp/show" <<'SH'
#!/bin/sh
echo "pid=$$"
for a in "$@"; do echo "[$a]"; done
SH
chmod +x "$tmp/show"
printf -- '-m 8\n' >"$tmp/e.conf"
out=$(sh -c 'echo "pid=$$"; exec "$0" --exec "$1" "$2"' "$helper" "$tmp/show" "$tmp/e.conf" |
    tr '\n' ' ')
pid=$(printf '%s' "$out" | cut -d' ' -f1)
want="$pid $pid [-m] [8] [-l] [127.0.0.1] [-u] [nobody] "
if [ "$out" = "$want" ]; then
    echo "ok: --exec"
else
    printf 'FAIL: --exec\n  want: %s\n  got:  %s\n' "$want" "$out" >&2
    fails=$((fails + 1))
fi

if "$helper" --exec >/dev/null 2>&1 || "$helper" -x >/dev/null 2>&1; then
    echo "FAIL: bad usage accepted" >&2
    fails=$((fails + 1))
else
    echo "ok: bad usage refused"
fi

# mmem accepts what the helper makes of Debian's file: -h prints the help
# and exits 0 only after every earlier option parsed.
bin=${MMEM_BIN:-}
if [ -n "$bin" ] && [ -x "$bin" ]; then
    # shellcheck disable=SC2046
    if "$bin" $("$helper" "$src/tests/fixtures/debian-memcached.conf") -h >/dev/null 2>&1; then
        echo "ok: mmem parses the Debian options"
    else
        echo "FAIL: mmem rejects the options from Debian's memcached.conf" >&2
        fails=$((fails + 1))
    fi
fi

[ "$fails" -eq 0 ]
