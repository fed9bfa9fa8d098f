#!/bin/sh
# Compare mmem with memcached on loopback: throughput, latency percentiles,
# server CPU per million requests, memory per item and per connection. Both
# servers run with the same -t -m -c; each load runs against them alternately
# (mmem, memcached, mmem, memcached...). Nothing here asserts a timing: it
# measures and prints.
#
#   scripts/bench.sh [--quick] [--time SEC] [--rounds N] [--threads N]
#                    [--idle N] [--items N] [--out DIR]
#
#   --quick      short runs (about a minute in all), for a CI smoke
#   --time SEC   seconds per measured load (5; quick: 1)
#   --rounds N   alternations per workload (2; quick: 1)
#   --threads N  -t for both servers (2)
#   --idle N     idle connections for the memory test (2000; quick: 500;
#                15000 works where the fd limit allows it)
#   --items N    items for the memory-per-item test (500000; quick: 50000)
#   --out DIR    results directory (_build/bench-results)
#   --memory-only  skip the load runs; only the memory tests
#
# Environment: MMEM_BENCH_BIN (an mmem binary; default: build _build/bench),
# MEMCACHED_BIN (/usr/bin/memcached), MMEM_BENCH_PORT (23010; uses 4 ports).
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)

quick=no
memory_only=no
secs=""
rounds=""
threads=2
idle=""
items=""
out="$src/_build/bench-results"
mem=1024
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=yes ;;
    --time) secs=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --threads) threads=$2; shift ;;
    --idle) idle=$2; shift ;;
    --items) items=$2; shift ;;
    --out) out=$2; shift ;;
    --memory-only) memory_only=yes ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    *) mm_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [ $quick = yes ]; then
    secs=${secs:-1}
    rounds=${rounds:-1}
    idle=${idle:-500}
    items=${items:-50000}
else
    secs=${secs:-5}
    rounds=${rounds:-2}
    idle=${idle:-2000}
    items=${items:-500000}
fi
conns_max=$((idle + 1100))
[ $conns_max -ge 4096 ] || conns_max=4096

# --- binaries ---------------------------------------------------------------
mmem="" load="" memcached="" # set by mm_bench_binaries
mm_bench_binaries "$src"
command -v nc >/dev/null 2>&1 || mm_die "nc (netcat) is needed to read stats"
port_base=${MMEM_BENCH_PORT:-23010}
mkdir -p "$out"
results="$out/results.txt"
: >"$results"
user_opt=""
if mm_is_root; then
    user_opt="-u root"
fi
# The idle-connection test needs one descriptor per connection on both ends.
# shellcheck disable=SC3045 # dash and bash both have ulimit -n
ulimit -n "$((conns_max + 200))" 2>/dev/null || mm_say "could not raise the fd limit to $((conns_max + 200))"

# --- servers ----------------------------------------------------------------
pids=""
cleanup()
{
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    for p in $pids; do
        wait "$p" 2>/dev/null || true
    done
    pids=""
}
trap cleanup EXIT INT TERM

# server_start NAME PORT: start NAME (mmem|memcached) in the background and
# wait (bounded) until it answers; sets $spid.
server_start()
{
    local bin i
    case $1 in
    mmem) bin=$mmem ;;
    *) bin=$memcached ;;
    esac
    # shellcheck disable=SC2086 # user_opt is empty or two words
    "$bin" $user_opt -l 127.0.0.1 -p "$2" -U 0 -t "$threads" -m "$mem" -c "$conns_max" \
        >"$out/$1.log" 2>&1 &
    spid=$!
    pids="$pids $spid"
    i=0
    while [ $i -lt 100 ]; do
        if printf 'version\r\n' | timeout 2 nc -q0 127.0.0.1 "$2" 2>/dev/null | grep -q VERSION; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    mm_die "$1 did not start on port $2 (see $out/$1.log)"
}

server_stop()
{
    local rest p
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    rest=""
    for p in $pids; do
        [ "$p" = "$1" ] || rest="$rest $p"
    done
    pids=$rest
}

# Server CPU seconds (user + system) from its own stats.
# server_cpu PORT: "TOTAL SYSTEM" CPU seconds of the server so far (its own
# rusage_user + rusage_system, and rusage_system alone: the kernel's share).
server_cpu()
{
    printf 'stats\r\nquit\r\n' | timeout 5 nc -q1 127.0.0.1 "$1" |
        awk '/^STAT rusage_(user|system) / { s += $3 } /^STAT rusage_system / { k = $3 }
             END { printf "%.6f %.6f\n", s, k }'
}

# per_mreq C0 C1 N: "TOTAL SYSTEM" CPU seconds per million requests between
# two server_cpu readings.
per_mreq()
{
    awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        if (n > 0) printf "%.3f %.3f", (y[1] - x[1]) / n * 1e6, (y[2] - x[2]) / n * 1e6; else print "nan nan" }'
}

server_stat()
{
    printf 'stats\r\nquit\r\n' | timeout 5 nc -q1 127.0.0.1 "$1" |
        awk -v k="$2" '$1 == "STAT" && $2 == k { sub(/\r$/, "", $3); print $3 }'
}

rss_kb()
{
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# field LINE KEY: the value of KEY=... in a mmem-load result line.
field()
{
    printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# --- throughput and latency ---------------------------------------------------
# Each workload: a fill (keys it reads exist) and a measured mmem-load run.
# name | fill args | load args
workloads="getset90|-k 10000 -v 32|-c 20 -r 90 -v 32 -k 10000
mget10|-k 10000 -v 32|-c 20 -w mget -m 10 -k 10000
value4k|-k 2000 -v 4096|-c 20 -r 90 -v 4096 -k 2000
set50|-k 10000 -v 32|-c 20 -r 50 -v 32 -k 10000
pipe32|-k 10000 -v 32|-c 4 -d 32 -r 90 -v 32 -k 10000
conns1000|-k 10000 -v 32|-c 1000 -S 4 -r 90 -v 32 -k 10000"

if [ $memory_only = no ]; then
    mm_say "starting mmem and memcached (-t $threads -m $mem -c $conns_max)"
    server_start mmem "$port_base"
    server_start memcached "$((port_base + 1))"
    printf '# workload server round rps p50_us p99_us p999_us cpu_s_per_Mreq errors sys_s_per_Mreq\n' >>"$results"

    run_one()
    {
        local name fillargs loadargs server port round c0 c1 line req cpu
        name=$1
        fillargs=$2
        loadargs=$3
        server=$4
        port=$5
        round=$6
        # shellcheck disable=SC2086 # argument lists
        "$load" -p "$port" -w fill -c 4 -d 32 -t 60 $fillargs >/dev/null
        c0=$(server_cpu "$port")
        # shellcheck disable=SC2086
        line=$("$load" -p "$port" -t "$secs" -n 50000000 -e "$round" -l "$name" $loadargs)
        c1=$(server_cpu "$port")
        req=$(field "$line" requests)
        # shellcheck disable=SC2046 # two numbers, split on purpose
        set -- $(per_mreq "$c0" "$c1" "$req")
        cpu=$1
        printf '%s %s %s %s %s %s %s %s %s %s\n' "$name" "$server" "$round" "$(field "$line" rps)" \
            "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" p999_us)" "$cpu" \
            "$(field "$line" errors)" "$2" >>"$results"
        printf '  %-10s %-9s round %s: %s req/s, p99 %s us, %s cpu-s/Mreq\n' "$name" "$server" "$round" \
            "$(field "$line" rps)" "$(field "$line" p99_us)" "$cpu" >&2
    }

    printf '%s\n' "$workloads" | while IFS='|' read -r name fillargs loadargs; do
        mm_say "workload $name: $loadargs"
        r=1
        while [ "$r" -le "$rounds" ]; do
            run_one "$name" "$fillargs" "$loadargs" mmem "$port_base" "$r" </dev/null
            run_one "$name" "$fillargs" "$loadargs" memcached "$((port_base + 1))" "$r" </dev/null
            r=$((r + 1))
        done
    done

    # memcaslap (libmemcached-tools): a second, independent client for the
    # 90/10 mix; it reports only throughput.
    if [ $quick = yes ]; then
        mm_say "memcaslap skipped in --quick mode"
    elif command -v memcaslap >/dev/null 2>&1; then
        mm_say "memcaslap 90/10 get/set"
        r=1
        while [ "$r" -le "$rounds" ]; do
            for s in mmem memcached; do
                if [ $s = mmem ]; then p=$port_base; else p=$((port_base + 1)); fi
                c0=$(server_cpu "$p")
                tps=$(timeout $((secs + 30)) memcaslap -s "127.0.0.1:$p" -t "${secs}s" -c 16 -T 1 -X 32 2>&1 |
                    awk '/^Run time:/ { for (i = 1; i <= NF; i++) if ($i == "TPS:") print $(i + 1) }')
                c1=$(server_cpu "$p")
                # shellcheck disable=SC2046 # two numbers, split on purpose
                set -- $(per_mreq "$c0" "$c1" "$(awk -v t="${tps:-0}" -v s="$secs" 'BEGIN { printf "%.0f", t * s }')")
                cpu=$1
                printf 'memcaslap %s %s %s - - - %s 0 %s\n' "$s" "$r" "${tps:-0}" "$cpu" "$2" >>"$results"
                printf '  %-10s %-9s round %s: %s req/s, %s cpu-s/Mreq\n' memcaslap "$s" "$r" "${tps:-0}" "$cpu" >&2
            done
            r=$((r + 1))
        done
    fi
    if command -v memtier_benchmark >/dev/null 2>&1; then
        mm_say "memtier_benchmark is installed but not wired in yet; skipped"
    else
        mm_say "memtier_benchmark not installed; skipped"
    fi
    cleanup
fi

# --- memory per item ----------------------------------------------------------
mem_items()
{
    local s port r0 r1 n line
    s=$1
    port=$2
    server_start "$s" "$port"
    r0=$(rss_kb "$spid")
    line=$("$load" -p "$port" -w fill -c 4 -d 32 -t 120 -k "$items" -K 14 -v 100)
    r1=$(rss_kb "$spid")
    n=$(server_stat "$port" curr_items)
    server_stop "$spid"
    printf 'items %s %s %s %s %s\n' "$s" "$n" "$r0" "$r1" \
        "$(awk -v a="$r0" -v b="$r1" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1024 / n; else print "nan" }')" >>"$results"
    mm_say "$s: $n items, RSS $r0 -> $r1 KiB ($(field "$line" errors) errors)"
}
mm_say "memory per item: $items items, 14-byte keys, 100-byte values, -m $mem"
printf '# items server curr_items rss0_kb rss1_kb bytes_per_item\n' >>"$results"
mem_items mmem "$((port_base + 2))"
mem_items memcached "$((port_base + 3))"

# --- memory per connection ----------------------------------------------------
# mmem-load -w hold prints "connected N", idles, sends one get per connection,
# prints "requested N", idles again and exits; RSS is read in each idle gap.
wait_line()
{
    local i
    i=0
    while [ $i -lt 600 ]; do
        grep -q "^$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

mem_conns()
{
    local s port r0 r1 r2 lpid log c
    s=$1
    port=$2
    server_start "$s" "$port"
    sleep 0.2
    r0=$(rss_kb "$spid")
    log="$out/hold-$s.log"
    "$load" -p "$port" -w hold -c "$idle" -S 8 -H 2 -k 100 >"$log" 2>&1 &
    lpid=$!
    r1=nan
    r2=nan
    if wait_line "$log" connected; then
        sleep 0.5
        r1=$(rss_kb "$spid")
    fi
    if wait_line "$log" requested; then
        sleep 0.5
        r2=$(rss_kb "$spid")
    fi
    wait "$lpid" || true
    c=$(awk '/^connected/ { print $2 }' "$log")
    server_stop "$spid"
    printf 'conns %s %s %s %s %s %s %s\n' "$s" "${c:-0}" "$r0" "$r1" "$r2" \
        "$(awk -v a="$r0" -v b="$r1" -v n="${c:-0}" 'BEGIN { if (n > 0 && b != "nan") printf "%.0f", (b - a) * 1024 / n; else print "nan" }')" \
        "$(awk -v a="$r0" -v b="$r2" -v n="${c:-0}" 'BEGIN { if (n > 0 && b != "nan") printf "%.0f", (b - a) * 1024 / n; else print "nan" }')" >>"$results"
    mm_say "$s: ${c:-0} connections, RSS $r0 -> $r1 (idle) -> $r2 (after one get each) KiB"
}
mm_say "memory per connection: $idle idle connections from 127.0.0.1-8"
printf '# conns server connected rss0_kb rss_idle_kb rss_used_kb bytes_per_idle_conn bytes_per_used_conn\n' >>"$results"
mem_conns mmem "$((port_base + 2))"
mem_conns memcached "$((port_base + 3))"

# --- report -------------------------------------------------------------------
report="$out/report.txt"
awk -v secs="$secs" -v rounds="$rounds" -v threads="$threads" '
function avg(k) { return n[k] ? sum[k] / n[k] : 0 }
/^#/ { next }
$1 == "items" { items[$2] = $6; icount[$2] = $3; next }
$1 == "conns" { cidle[$2] = $7; cused[$2] = $8; ccount[$2] = $3; next }
{
    w = $1; s = $2
    if (!(w in seen)) { seen[w] = 1; order[++nw] = w }
    k = w SUBSEP s
    n[k]++; sum[k] += $4
    p50[k] += $5; p99[k] += $6; p999[k] += $7; cpu[k] += $8; sys[k] += $10
}
END {
    printf "mmem vs memcached: -t %s, %s s per run, mean of %s round(s)\n\n", threads, secs, rounds
    printf "%-10s %-9s %10s %8s %8s %9s %11s %7s\n", "workload", "server", "req/s", "p50 us", "p99 us", "p99.9 us", "cpu-s/Mreq", "kernel"
    for (i = 1; i <= nw; i++) {
        w = order[i]
        for (j = 0; j < 2; j++) {
            s = j ? "memcached" : "mmem"; k = w SUBSEP s
            if (!n[k]) continue
            if (w == "memcaslap")
                printf "%-10s %-9s %10.0f %8s %8s %9s %11.2f %6.0f%%\n", w, s, sum[k] / n[k], "-", "-", "-", cpu[k] / n[k], (cpu[k] > 0 ? 100 * sys[k] / cpu[k] : 0)
            else
                printf "%-10s %-9s %10.0f %8.1f %8.1f %9.1f %11.2f %6.0f%%\n", w, s, sum[k] / n[k], p50[k] / n[k], p99[k] / n[k], p999[k] / n[k], cpu[k] / n[k], (cpu[k] > 0 ? 100 * sys[k] / cpu[k] : 0)
        }
        a = w SUBSEP "mmem"; b = w SUBSEP "memcached"
        if (n[a] && n[b] && sum[b] > 0 && cpu[b] > 0)
            printf "%-10s %-9s %10.2f %8s %8s %9s %11.2f\n", w, "ratio", (sum[a] / n[a]) / (sum[b] / n[b]),
                (p50[b] > 0 ? sprintf("%.2f", p50[a] / p50[b]) : "-"), (p99[b] > 0 ? sprintf("%.2f", p99[a] / p99[b]) : "-"),
                (p999[b] > 0 ? sprintf("%.2f", p999[a] / p999[b]) : "-"), (cpu[a] / n[a]) / (cpu[b] / n[b])
    }
    printf "\n%-22s %12s %12s %8s\n", "memory", "mmem", "memcached", "ratio"
    printf "%-22s %12s %12s %8s\n", "bytes/item", items["mmem"], items["memcached"], (items["memcached"] > 0 ? sprintf("%.2f", items["mmem"] / items["memcached"]) : "-")
    printf "%-22s %12s %12s %8s\n", "bytes/idle conn", cidle["mmem"], cidle["memcached"], (cidle["memcached"] > 0 ? sprintf("%.2f", cidle["mmem"] / cidle["memcached"]) : "-")
    printf "%-22s %12s %12s %8s\n", "bytes/conn after 1 get", cused["mmem"], cused["memcached"], (cused["memcached"] > 0 ? sprintf("%.2f", cused["mmem"] / cused["memcached"]) : "-")
    printf "(items: %s / %s stored; connections: %s / %s)\n", icount["mmem"], icount["memcached"], ccount["mmem"], ccount["memcached"]
}' "$results" >"$report"
cat "$report"

# A chart, where gnuplot is installed: the mmem/memcached ratios per
# workload (req/s, CPU per request, p99 latency; below 1 is better for the
# last two) and each server's p50/p99 latency.
if command -v gnuplot >/dev/null 2>&1; then
    awk '/^#/ || $1 == "items" || $1 == "conns" { next }
        { k = $1 " " $2; n[k]++; rps[k] += $4; p50[k] += $5; p99[k] += $6; cpu[k] += $8
          if (!($1 in seen)) { seen[$1] = 1; order[++nw] = $1 } }
        END {
            for (i = 1; i <= nw; i++) {
                w = order[i]; a = w " mmem"; b = w " memcached"
                if (!n[a] || !n[b] || rps[b] == 0 || cpu[b] == 0) continue
                printf "%s %.3f %.3f %s\n", w, (rps[a] / n[a]) / (rps[b] / n[b]), (cpu[a] / n[a]) / (cpu[b] / n[b]),
                    (p99[b] > 0 ? sprintf("%.3f", p99[a] / p99[b]) : "NaN") > ratios
                if (p99[b] > 0)
                    printf "%s %.1f %.1f %.1f %.1f\n", w, p50[a] / n[a], p50[b] / n[b], p99[a] / n[a], p99[b] / n[b] > lat
            }
        }' ratios="$out/ratios.dat" lat="$out/latency.dat" "$results"
    rm -f "$out/bench.png"
    if [ -s "$out/ratios.dat" ]; then
        gnuplot <<EOF >/dev/null 2>&1 || true
set terminal png size 1100,800
set output '$out/bench.png'
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -20
set grid ytics
set key outside right top
set title 'mmem / memcached (-t $threads): req/s (higher is better), CPU per request and p99 (lower is better)'
set ylabel 'ratio'
set yrange [0:*]
plot '$out/ratios.dat' using 2:xtic(1) title 'req/s', '' using 3 title 'CPU per request', '' using 4 title 'p99 latency'
set title 'latency (us, log scale)'
set ylabel 'us'
set logscale y
set yrange [10:*]
plot '$out/latency.dat' using 2:xtic(1) title 'mmem p50', '' using 3 title 'memcached p50', '' using 4 title 'mmem p99', '' using 5 title 'memcached p99'
unset multiplot
EOF
    fi
    if [ -s "$out/bench.png" ]; then
        mm_say "chart: $out/bench.png"
    else
        mm_say "no chart (no load runs, or gnuplot failed)"
    fi
else
    mm_say "no chart: gnuplot is not installed (MMEM_DEPS_BENCH=1 scripts/deps.sh)"
fi
mm_say "raw results: $results"
