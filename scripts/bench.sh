#!/bin/sh
# Compare mmem with memcached on loopback: throughput, latency percentiles,
# server CPU per million requests, memory per item and per connection; and,
# with --hitrate, cache effectiveness (hit ratio per 10 s window). Both
# servers run with the same -t -m -c; each load runs against them alternately
# (mmem, memcached, mmem, memcached...). Nothing here asserts a timing: it
# measures and prints.
#
#   scripts/bench.sh [--quick] [--time SEC] [--rounds N] [--threads N]
#                    [--idle N] [--items N] [--out DIR]
#                    [--hitrate | --all] [--scale F] [--parts LIST]
#                    [--servers LIST] [--shift MODE]
#
#   --quick      short runs (about a minute in all), for a CI smoke; with
#                --hitrate, --scale 0.25
#   --time SEC   seconds per measured load (5; quick: 1)
#   --rounds N   alternations per workload (2; quick: 1)
#   --threads N  -t for both servers (2)
#   --idle N     idle connections for the memory test (2000; quick: 500;
#                15000 works where the fd limit allows it)
#   --items N    items for the memory-per-item test (500000; quick: 50000)
#   --out DIR    results directory (_build/bench-results)
#   --memory-only  skip the load runs; only the memory tests
#   --hitrate    only the cache-effectiveness workload (bench/hitrate, -m 64,
#                about 15 minutes): per server, phases A:60 then B:120, a
#                fresh server on B:120 (the reference) and --scan; writes
#                hitrate-report.txt and the chart hitrate.png (also bench.png)
#   --all        the default run, then the cache-effectiveness workload
#   --scale F    multiply the hitrate phases by F (1; 0.25 takes ~4 minutes)
#   --parts LIST hitrate parts, comma-separated: shift,fresh,scan (all);
#                "report" only redraws the report and chart from --out
#   --servers LIST  hitrate servers, comma-separated: mmem,memcached (both)
#   --shift MODE hitrate --shift: keys (phase B reads new keys), stale or same
#
# Environment: MMEM_BENCH_BIN (an mmem binary; default: build _build/bench),
# MEMCACHED_BIN (/usr/bin/memcached), MMEM_HITRATE_BIN (bench/hitrate; default:
# next to MMEM_BENCH_BIN's build, else built in _build/bench),
# MMEM_BENCH_PORT (23010; uses 4 ports).
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
hitrate=no # no, only (--hitrate) or also (--all)
hit_scale=""
hit_parts="shift,fresh,scan"
hit_servers="mmem,memcached"
hit_shift=keys
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
    --hitrate) hitrate=only ;;
    --all) hitrate=also ;;
    --scale) hit_scale=$2; shift ;;
    --parts) hit_parts=$2; shift ;;
    --servers) hit_servers=$2; shift ;;
    --shift) hit_shift=$2; shift ;;
    -h | --help) sed -n '2,38p' "$0"; exit 0 ;;
    *) mm_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [ $quick = yes ]; then
    secs=${secs:-1}
    rounds=${rounds:-1}
    idle=${idle:-500}
    items=${items:-50000}
    hit_scale=${hit_scale:-0.25}
else
    secs=${secs:-5}
    rounds=${rounds:-2}
    idle=${idle:-2000}
    items=${items:-500000}
    hit_scale=${hit_scale:-1}
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
[ $hitrate = only ] || : >"$results"
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

# server_start NAME PORT [MB]: start NAME (mmem|memcached) with -m MB ($mem)
# in the background and wait (bounded) until it answers; sets $spid.
server_start()
{
    local bin i
    case $1 in
    mmem) bin=$mmem ;;
    *) bin=$memcached ;;
    esac
    # shellcheck disable=SC2086 # user_opt is empty or two words
    "$bin" $user_opt -l 127.0.0.1 -p "$2" -U 0 -t "$threads" -m "${3:-$mem}" -c "$conns_max" \
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

# --- cache effectiveness (--hitrate, --all) -----------------------------------
# bench/hitrate drives one server at a fixed rate with cache-aside clients
# (Zipf 0.99 over 1M keys), so both servers see the same requests at the same
# times; each run gets a fresh server with -m 64. Parts: "shift" (values of
# 50-400 B for 60 s, then 1-4 KB for 120 s), "fresh" (1-4 KB alone: the
# reference a server should reach after the shift) and "scan" (a hot set read
# every second through a burst of one-time keys, 10x -m).
hit_mem=64

hitrate_binary()
{
    if [ -n "${MMEM_HITRATE_BIN:-}" ]; then
        hitrate_bin=$MMEM_HITRATE_BIN
    elif [ -z "${MMEM_BENCH_BIN:-}" ] || [ ! -x "$(dirname "$mmem")/../bench/hitrate" ]; then
        mm_require_clean_srcdir "$src"
        mm_bootstrap "$src"
        mm_configure "$src" "$src/_build/bench"
        make -C "$src/_build/bench" -j"$(mm_jobs)" bench/hitrate >/dev/null
        hitrate_bin="$src/_build/bench/bench/hitrate"
    else
        hitrate_bin="$(dirname "$mmem")/../bench/hitrate"
    fi
    [ -x "$hitrate_bin" ] || mm_die "no hitrate binary at $hitrate_bin"
}

# hitrate_one PART SERVER PORT SECONDS ARGS...: one run on a fresh server,
# bounded by timeout (hitrate stops itself at the deadline it prints too).
hitrate_one()
{
    local part s port secs f limit
    part=$1
    s=$2
    port=$3
    secs=$4
    shift 4
    f="$out/hitrate-$part-$s.txt"
    limit=$(awk -v s="$secs" -v x="$hit_scale" 'BEGIN { printf "%d", s * x * 1.5 + 90 }')
    server_start "$s" "$port" "$hit_mem"
    mm_say "hitrate $part on $s: $* (scale $hit_scale)"
    if ! timeout "$limit" "$hitrate_bin" -p "$port" --scale "$hit_scale" "$@" >"$f"; then
        mm_say "hitrate $part on $s did not finish cleanly (see $f)"
    fi
    # What the server says it did: items kept, evictions, pages moved.
    printf 'stats\r\nquit\r\n' | timeout 5 nc -q1 127.0.0.1 "$port" |
        awk '$1 == "STAT" { sub(/\r$/, "", $3); v[$2] = $3 }
            END { printf "# server curr_items=%s evictions=%s slabs_moved=%s\n",
                  v["curr_items"], v["evictions"], ("slabs_moved" in v) ? v["slabs_moved"] : "-" }' >>"$f" || true
    server_stop "$spid"
    awk '/^# (summary total|summary rate|error)/ { sub(/^# /, ""); print "    " $0 }' "$f" >&2
}

hitrate_report()
{
    local rep
    rep="$out/hitrate-report.txt"
    # Windows are matched by position: the same command gives both servers
    # the same windows, and the fresh run's windows are those of phase B.
    awk -v out="$out" -v scale="$hit_scale" -v shiftmode="$hit_shift" '
    function load(f, tag,   line, n, a) {
        n = 0
        while ((getline line < f) > 0) {
            if (line ~ /^# summary /) {
                split(line, a, " ")
                sumline[tag, a[3]] = line
                continue
            }
            if (line ~ /^# server /) { srvline[tag] = line; continue }
            if (line ~ /^#/) continue
            split(line, a, " ")
            n++
            ts[tag, n] = a[1]; te[tag, n] = a[2]; ph[tag, n] = a[3]
            gets[tag, n] = a[4]; hits[tag, n] = a[5]; hr[tag, n] = a[6]
        }
        close(f)
        cnt[tag] = n
        return n
    }
    function kv(line, k,   i, a, b) {
        split(line, a, " ")
        for (i = 1; i in a; i++) { split(a[i], b, "="); if (b[1] == k) return b[2] }
        return "-"
    }
    function fmt(tag, i) { return (i <= cnt[tag]) ? sprintf("%.3f", hr[tag, i]) : "-" }
    # ref: hits / gets over the windows in the second half of the fresh run
    # (its steady state), or its last window when it has only one
    function reference(tag,   i, h, g, half) {
        h = 0; g = 0; half = te[tag, cnt[tag]] / 2
        for (i = 1; i <= cnt[tag]; i++)
            if (ts[tag, i] + 0 >= half || i == cnt[tag]) { h += hits[tag, i]; g += gets[tag, i] }
        return g ? h / g : -1
    }
    # seconds after the shift until this and every later window of phase B is
    # within 3% of ref (relative); -1 if never
    function recovery(tag, ref, shift,   i, first) {
        first = -1
        for (i = 1; i <= cnt[tag]; i++) {
            if (ph[tag, i] != "B") continue
            if (hr[tag, i] >= 0.97 * ref) { if (first < 0) first = te[tag, i] - shift }
            else first = -1
        }
        return first
    }
    function runline(name, tag,   t, r, v) {
        t = sumline[tag, "total"]; r = sumline[tag, "rate"]; v = srvline[tag]
        if (t == "") { printf "%-16s (no result)\n", name; return }
        printf "%-16s %9s %9s %7s %4s %7s %4s %8s %10s %11s\n", name, kv(t, "gets"), kv(t, "hit_ratio"),
            kv(t, "failed_stores"), kv(t, "bad_values"), kv(r, "reached"), kv(r, "client_cpu_pct") "%",
            kv(v, "curr_items"), kv(v, "evictions"), kv(v, "slabs_moved")
    }
    BEGIN {
        srv[1] = "mmem"; srv[2] = "memcached"
        for (j = 1; j <= 2; j++)
            for (p = 1; p <= 3; p++) {
                part = p == 1 ? "shift" : p == 2 ? "fresh" : "scan"
                load(out "/hitrate-" part "-" srv[j] ".txt", part srv[j])
            }
        shift = -1
        for (i = 1; i <= cnt["shiftmmem"]; i++)
            if (ph["shiftmmem", i] == "B") { shift = ts["shiftmmem", i]; break }
        printf "Cache effectiveness: -m 64, Zipf(0.99) over 1M keys, cache-aside, 40,000 gets/s (scale %s, --shift %s)\n\n", scale, shiftmode
        if (cnt["shiftmmem"] || cnt["shiftmemcached"]) {
            n = cnt["shiftmmem"] > cnt["shiftmemcached"] ? cnt["shiftmmem"] : cnt["shiftmemcached"]
            tag = cnt["shiftmmem"] ? "shiftmmem" : "shiftmemcached"
            printf "Hit ratio per window: phase A (50-400 B) then B (1-4 KB); fresh = a new server on B alone\n"
            printf "%7s %7s %5s %8s %10s %7s %7s %11s %15s\n", "t_start", "t_end", "phase", "mmem", "memcached",
                "ratio", "miss x", "fresh mmem", "fresh memcached"
            k = 0
            for (i = 1; i <= n; i++) {
                a = hr["shiftmmem", i]; b = hr["shiftmemcached", i]
                fa = "-"; fb = "-"
                if (ph[tag, i] == "B") { k++; fa = fmt("freshmmem", k); fb = fmt("freshmemcached", k) }
                printf "%7s %7s %5s %8s %10s %7s %7s %11s %15s\n", ts[tag, i], te[tag, i], ph[tag, i],
                    fmt("shiftmmem", i), fmt("shiftmemcached", i),
                    (i <= cnt["shiftmmem"] && i <= cnt["shiftmemcached"] && b > 0) ? sprintf("%.3f", a / b) : "-",
                    (i <= cnt["shiftmmem"] && i <= cnt["shiftmemcached"] && b < 1) ? sprintf("%.2f", (1 - a) / (1 - b)) : "-",
                    fa, fb
                row = ((ts[tag, i] + te[tag, i]) / 2) " " ((i <= cnt["shiftmmem"]) ? a : "NaN") " " \
                    ((i <= cnt["shiftmemcached"]) ? b : "NaN") " " (fa == "-" ? "NaN" : fa) " " (fb == "-" ? "NaN" : fb)
                print row > (out "/hitrate-shift.dat")
            }
            close(out "/hitrate-shift.dat")
            printf "\nAfter the shift (at %s s): time until every later window is within 3%% of the fresh reference\n", shift
            for (j = 1; j <= 2; j++) {
                s = srv[j]
                if (!cnt["fresh" s]) { printf "  %-9s no fresh reference\n", s; continue }
                ref = reference("fresh" s)
                if (!cnt["shift" s]) { printf "  %-9s reference %.3f, no shift run\n", s, ref; continue }
                r = recovery("shift" s, ref, shift)
                printf "  %-9s reference %.3f (second half of its fresh run); %s\n", s, ref,
                    ((r >= 0) ? sprintf("within 3%% after %s s", r) : sprintf("not within 3%% by the end (last window %.3f)", hr["shift" s, cnt["shift" s]]))
            }
            printf "\nHit ratio per phase\n"
            for (j = 1; j <= 2; j++)
                printf "  %-9s A %s   B %s   fresh B %s\n", srv[j], kv(sumline["shift" srv[j], "A"], "hit_ratio"),
                    kv(sumline["shift" srv[j], "B"], "hit_ratio"), kv(sumline["fresh" srv[j], "B"], "hit_ratio")
        }
        if (cnt["scanmmem"] || cnt["scanmemcached"]) {
            n = cnt["scanmmem"] > cnt["scanmemcached"] ? cnt["scanmmem"] : cnt["scanmemcached"]
            tag = cnt["scanmmem"] ? "scanmmem" : "scanmemcached"
            printf "\nScan resistance: hot set of 20,000 x ~500 B read every second; burst of one-time keys, 10x -m\n"
            printf "%7s %7s %7s %8s %10s\n", "t_start", "t_end", "stage", "mmem", "memcached"
            for (i = 1; i <= n; i++) {
                printf "%7s %7s %7s %8s %10s\n", ts[tag, i], te[tag, i], ph[tag, i], fmt("scanmmem", i), fmt("scanmemcached", i)
                row = ((ts[tag, i] + te[tag, i]) / 2) " " ((i <= cnt["scanmmem"]) ? hr["scanmmem", i] : "NaN") " " \
                    ((i <= cnt["scanmemcached"]) ? hr["scanmemcached", i] : "NaN")
                print row > (out "/hitrate-scan.dat")
            }
            close(out "/hitrate-scan.dat")
            printf "Hot-set hit ratio per stage\n"
            for (j = 1; j <= 2; j++)
                printf "  %-9s before %s   burst %s   after %s\n", srv[j], kv(sumline["scan" srv[j], "before"], "hit_ratio"),
                    kv(sumline["scan" srv[j], "burst"], "hit_ratio"), kv(sumline["scan" srv[j], "after"], "hit_ratio")
        }
        printf "\nRuns: failed stores and bad values should be 0; reached: the client kept the rate;\n"
        printf "cpu: the client, %% of one core; items, evictions, slabs_moved: the server at the end\n"
        printf "%-16s %9s %9s %7s %4s %7s %4s %8s %10s %11s\n", "run", "gets", "hit_ratio", "failed", "bad", "reached",
            "cpu", "items", "evictions", "slabs_moved"
        for (p = 1; p <= 3; p++)
            for (j = 1; j <= 2; j++) {
                part = p == 1 ? "shift" : p == 2 ? "fresh" : "scan"
                if (cnt[part srv[j]] || sumline[part srv[j], "total"] != "")
                    runline(part " " srv[j], part srv[j])
            }
    }' >"$rep"
    cat "$rep"
    hitrate_chart
    mm_say "hitrate report: $rep (raw runs: $out/hitrate-*-*.txt)"
}

hitrate_chart()
{
    local png plots
    png="$out/hitrate.png"
    rm -f "$png"
    if ! command -v gnuplot >/dev/null 2>&1; then
        mm_say "no hit-ratio chart: gnuplot is not installed (MMEM_DEPS_BENCH=1 scripts/deps.sh)"
        return 0
    fi
    plots=0
    [ -s "$out/hitrate-shift.dat" ] && plots=$((plots + 1))
    [ -s "$out/hitrate-scan.dat" ] && plots=$((plots + 1))
    [ $plots -gt 0 ] || return 0
    {
        printf "set terminal png size 1100,%d\nset output '%s'\n" $((plots * 400)) "$png"
        printf "set multiplot layout %d,1\nset grid\nset key outside right top\n" $plots
        printf "set xlabel 'seconds'\nset ylabel 'hit ratio'\nset yrange [0:1.02]\n"
        if [ -s "$out/hitrate-shift.dat" ]; then
            printf "set title 'hit ratio per window, -m 64: values of 50-400 B, then 1-4 KB (fresh: a new server on 1-4 KB)'\n"
            printf "plot '%s' using 1:2 with linespoints title 'mmem', '' using 1:3 with linespoints title 'memcached', " \
                "$out/hitrate-shift.dat"
            printf "'' using 1:4 with linespoints dashtype 2 title 'fresh mmem', '' using 1:5 with linespoints dashtype 2 title 'fresh memcached'\n"
        fi
        if [ -s "$out/hitrate-scan.dat" ]; then
            printf "set title 'scan resistance: hot-set hit ratio per window (burst of one-time keys, 10x -m)'\n"
            printf "plot '%s' using 1:2 with linespoints title 'mmem', '' using 1:3 with linespoints title 'memcached'\n" \
                "$out/hitrate-scan.dat"
        fi
        printf "unset multiplot\n"
    } | gnuplot >/dev/null 2>&1 || true
    if [ -s "$png" ]; then
        mm_say "chart: $png"
    else
        mm_say "no hit-ratio chart (gnuplot failed)"
    fi
}

hitrate_main()
{
    local part s port
    if [ "$hit_parts" != report ]; then
        hitrate_binary
        rm -f "$out"/hitrate-*
    fi
    for part in shift fresh scan; do
        case ",$hit_parts," in
        *",$part,"*) ;;
        *) continue ;;
        esac
        for s in mmem memcached; do
            case ",$hit_servers," in
            *",$s,"*) ;;
            *) continue ;;
            esac
            if [ $s = mmem ]; then port=$((port_base + 2)); else port=$((port_base + 3)); fi
            case $part in
            shift) hitrate_one shift "$s" "$port" 180 --shift "$hit_shift" --phase A:60 --phase B:120 ;;
            fresh) hitrate_one fresh "$s" "$port" 120 --shift "$hit_shift" --phase B:120 ;;
            scan) hitrate_one scan "$s" "$port" 130 --scan --mem "$hit_mem" ;;
            esac
        done
    done
    hitrate_report
    if [ $hitrate = only ] && [ -s "$out/hitrate.png" ]; then
        cp "$out/hitrate.png" "$out/bench.png"
    fi
}

if [ $hitrate = only ]; then
    hitrate_main
    exit 0
fi

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
if [ $hitrate = also ]; then
    hitrate_main
fi
