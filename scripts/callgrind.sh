#!/bin/sh
# Instructions per request, mmem vs memcached, under valgrind's callgrind:
# a count that does not depend on the machine's load or clock. Each server
# runs with -t 1 twice: once idle (start, one "version", stop) and once
# serving a fixed script over one connection (sets, pipelined gets, 10-key
# multi-gets); the idle run's total is subtracted from the loaded one.
#
#   scripts/callgrind.sh [--scale N] [--out DIR]
#
#   --scale N   multiply the script's request counts by N (1)
#   --out DIR   where the callgrind files go (_build/callgrind)
#
# Environment: MMEM_BENCH_BIN, MEMCACHED_BIN, MMEM_BENCH_PORT (23030; uses 2
# ports), as for scripts/bench.sh. Prints a table; asserts nothing.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)

scale=1
out="$src/_build/callgrind"
while [ $# -gt 0 ]; do
    case $1 in
    --scale) scale=$2; shift ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) mm_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
command -v valgrind >/dev/null 2>&1 || mm_die "valgrind not installed"
command -v nc >/dev/null 2>&1 || mm_die "nc (netcat) is needed"

mmem="" load="" memcached="" # set by mm_bench_binaries
mm_bench_binaries "$src"
port_base=${MMEM_BENCH_PORT:-23030}
mkdir -p "$out"
user_opt=""
if mm_is_root; then
    user_opt="-u root"
fi

# valgrind keeps a few descriptors for itself and refuses a setrlimit that
# changes its (lowered) hard limit. memcached sets both limits to -c, so its
# -c must be exactly the hard limit a program sees under valgrind; mmem
# leaves the limits alone when -c plus its headroom fits, so it gets -c 256.
# (-c only sizes tables at startup, which the idle run subtracts.)
# shellcheck disable=SC3045
vg_fds=$(
    ulimit -n 1024
    valgrind -q --tool=none /bin/sh -c 'ulimit -Hn'
)
case $vg_fds in
'' | *[!0-9]*) mm_die "could not read the descriptor limit under valgrind" ;;
esac

# The fixed script, over one connection with a fixed seed.
n_sets=$((2000 * scale))
n_gets=$((20000 * scale))
n_mget=$((2000 * scale))
requests=$((n_sets + n_gets + n_mget))

vpid=""
cleanup()
{
    if [ -n "$vpid" ]; then
        kill "$vpid" 2>/dev/null || true
        wait "$vpid" 2>/dev/null || true
    fi
    vpid=""
}
trap cleanup EXIT INT TERM

# cg_run SERVER MODE PORT: run SERVER under callgrind, serve MODE (idle or
# script), stop it with SIGTERM (both servers exit cleanly on it, so
# callgrind writes its totals) and print the instruction count.
cg_run()
{
    local s mode port bin f i maxc
    s=$1
    mode=$2
    port=$3
    case $s in
    mmem)
        bin=$mmem
        maxc=256
        ;;
    *)
        bin=$memcached
        maxc=$vg_fds
        ;;
    esac
    f="$out/callgrind.$s.$mode.out"
    rm -f "$f"
    # shellcheck disable=SC2086,SC3045 # user_opt is empty or two words; dash has ulimit -n
    (
        ulimit -n 1024
        exec valgrind --tool=callgrind --callgrind-out-file="$f" \
            "$bin" $user_opt -l 127.0.0.1 -p "$port" -U 0 -t 1 -m 64 -c "$maxc"
    ) >"$out/$s.$mode.log" 2>&1 &
    vpid=$!
    i=0
    until printf 'version\r\n' | timeout 2 nc -q0 127.0.0.1 "$port" 2>/dev/null | grep -q VERSION; do
        i=$((i + 1))
        kill -0 "$vpid" 2>/dev/null || mm_die "$s exited under valgrind (see $out/$s.$mode.log)"
        [ $i -lt 300 ] || mm_die "$s did not start under valgrind (see $out/$s.$mode.log)"
        sleep 0.2
    done
    if [ "$mode" = script ]; then
        "$load" -p "$port" -t 300 -c 1 -d 16 -w fill -k "$n_sets" -v 32 >"$out/$s.load.txt"
        "$load" -p "$port" -t 300 -c 1 -d 16 -w getset -r 100 -n "$n_gets" -k "$n_sets" -e 7 \
            >>"$out/$s.load.txt"
        "$load" -p "$port" -t 300 -c 1 -d 4 -w mget -m 10 -n "$n_mget" -k "$n_sets" -e 8 \
            >>"$out/$s.load.txt"
        if grep -q 'errors=[1-9]' "$out/$s.load.txt"; then
            mm_say "$s: errors in the script (see $out/$s.load.txt)"
        fi
    fi
    kill -TERM "$vpid" 2>/dev/null || true
    i=0
    while kill -0 "$vpid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 300 ]; then
            kill -KILL "$vpid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    wait "$vpid" 2>/dev/null || true
    vpid=""
    [ -f "$f" ] || mm_die "callgrind wrote no $f (see $out/$s.$mode.log)"
    # "summary:" (older valgrind) or "totals:" holds the total Ir.
    awk '/^(summary|totals):/ { print $2; exit }' "$f"
}

mm_say "script: $n_sets sets, $n_gets gets (pipelined 16 deep), $n_mget 10-key multi-gets = $requests requests"
report="$out/report.txt"
{
    printf 'instructions per request under callgrind (-t 1, %s requests, idle run subtracted)\n\n' "$requests"
    printf '%-10s %16s %16s %12s\n' server idle_Ir script_Ir Ir/request
} >"$report"
for s in mmem memcached; do
    if [ $s = mmem ]; then p=$port_base; else p=$((port_base + 1)); fi
    mm_say "$s: idle run"
    idle_ir=$(cg_run $s idle "$p")
    mm_say "$s: script run"
    busy_ir=$(cg_run $s script "$p")
    per=$(awk -v a="$idle_ir" -v b="$busy_ir" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / n }')
    eval "per_$s=\$per"
    printf '%-10s %16s %16s %12s\n' "$s" "$idle_ir" "$busy_ir" "$per" >>"$report"
done
# shellcheck disable=SC2154 # set through eval above
awk -v a="$per_mmem" -v b="$per_memcached" 'BEGIN { if (b > 0) printf "%-10s %16s %16s %12.2f\n", "ratio", "", "", a / b }' >>"$report"
cat "$report"
mm_say "callgrind files: $out (callgrind_annotate $out/callgrind.mmem.script.out)"
