#!/bin/sh
# Check scripts/service/mmem.service.in: it must say what the service needs
# (Type=notify, the helper and the configuration file, the hardening), and
# "systemd-analyze verify" must accept it once its paths are filled in with
# this build's. Exits 77 (skip) for the verify part when systemd-analyze is
# not installed or cannot run here, after the static checks passed.
set -eu
src=${MMEM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
unit_in="$src/scripts/service/mmem.service.in"
fails=0

need()
{
    if grep -qx -- "$1" "$unit_in"; then
        echo "ok: $1"
    else
        echo "FAIL: $unit_in lacks the line: $1" >&2
        fails=$((fails + 1))
    fi
}
need 'Type=notify'
need 'ExecStart=@pkglibexecdir@/mmem-conf-args --exec @bindir@/mmem @sysconfdir@/mmem.conf'
need 'NoNewPrivileges=true'
need 'PrivateTmp=true'
need 'PrivateDevices=true'
need 'ProtectSystem=full'
need 'CapabilityBoundingSet=CAP_SETGID CAP_SETUID CAP_SYS_RESOURCE'
need 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
need 'MemoryDenyWriteExecute=true'
need 'WantedBy=multi-user.target'
[ "$fails" -eq 0 ] || exit 1

analyze=${SYSTEMD_ANALYZE:-$(command -v systemd-analyze || true)}
bin=${MMEM_BIN:-}
if [ -z "$analyze" ] || [ ! -x "$analyze" ]; then
    echo "skip: systemd-analyze not installed"
    exit 77
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "skip: no mmem binary (MMEM_BIN) to point the unit at"
    exit 77
fi

tmp=$(mktemp -d /tmp/mmem-unit-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bindir=$(cd "$(dirname "$bin")" && pwd)
sed -e "s|@bindir@|$bindir|g" -e "s|@pkglibexecdir@|$src/scripts/service|g" \
    -e "s|@sysconfdir@|$tmp|g" "$unit_in" >"$tmp/mmem.service"
if grep -q '@[a-z]*@' "$tmp/mmem.service"; then
    echo "FAIL: unsubstituted @...@ left in the unit" >&2
    exit 1
fi

# --man=no: the man page need not be installed to check the unit.
if out=$("$analyze" verify --man=no "$tmp/mmem.service" 2>&1); then
    if [ -n "$out" ]; then
        printf 'FAIL: systemd-analyze verify warns:\n%s\n' "$out" >&2
        exit 1
    fi
    echo "ok: systemd-analyze verify"
    exit 0
fi
# Without a running systemd (containers, chroots) verify may fail for
# reasons that have nothing to do with the unit; tell them apart.
case $out in
*"$tmp/mmem.service"*)
    printf 'FAIL: systemd-analyze verify:\n%s\n' "$out" >&2
    exit 1
    ;;
esac
printf 'skip: systemd-analyze verify cannot run here:\n%s\n' "$out"
exit 77
