#!/bin/sh
# What TLS costs mmem and memcached -Z, side by side on loopback, and the
# ratio mmem/memcached for each figure: RSS per idle TLS connection (after a
# request on each, so OpenSSL's buffers were used), server CPU per request
# over TLS (pipelined gets), and server CPU per handshake, full and resumed
# (ssl_session_cache). The client is Python's ssl module; server CPU comes
# from /proc, so the client's speed does not enter the per-request figures.
# Nothing here asserts: it measures and prints.
#
#   scripts/tls-cost.sh [--idle N] [--requests N] [--handshakes N]
#
#   --idle N        idle TLS connections for the memory figure (2000)
#   --requests N    requests for the CPU figure (40000)
#   --handshakes N  handshakes for each handshake figure (300)
#
# Environment: MMEM_BIN (default: _build/dev/src/mmem), MEMCACHED_BIN
# (/usr/bin/memcached), OPENSSL_BIN (openssl). Both servers run with -t 2.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)

idle=2000
requests=40000
handshakes=300
while [ $# -gt 0 ]; do
    case $1 in
    --idle) idle=$2; shift ;;
    --requests) requests=$2; shift ;;
    --handshakes) handshakes=$2; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) mm_die "unknown option $1 (see --help)" ;;
    esac
    shift
done
mmem=${MMEM_BIN:-$src/_build/dev/src/mmem}
memcached=${MEMCACHED_BIN:-/usr/bin/memcached}
[ -x "$mmem" ] || mm_die "no mmem binary at $mmem (build it, or set MMEM_BIN)"
[ -x "$memcached" ] || mm_die "no memcached at $memcached"
"$mmem" -h | grep -q -- --enable-ssl || mm_die "$mmem was built without TLS"
command -v python3 >/dev/null 2>&1 || mm_die "python3 is needed"
command -v "${OPENSSL_BIN:-openssl}" >/dev/null 2>&1 || mm_die "the openssl command is needed"

exec python3 - "$mmem" "$memcached" "$idle" "$requests" "$handshakes" <<'EOF'
import os, resource, shutil, socket, ssl, subprocess, sys, tempfile, time

mmem, memcached = sys.argv[1], sys.argv[2]
idle, requests, handshakes = (int(x) for x in sys.argv[3:6])
openssl = os.environ.get("OPENSSL_BIN") or "openssl"
tmp = tempfile.mkdtemp(prefix="mmem-tls-cost-")
ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
q = dict(cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.run([openssl, "req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt",
                "-days", "1", "-subj", "/CN=cost-ca"], **q)
subprocess.run([openssl, "req"] + ec + ["-keyout", "srv.key", "-out", "srv.csr", "-subj",
                "/CN=localhost"], **q)
subprocess.run([openssl, "x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "srv.crt", "-days", "1"], **q)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
idle = min(idle, hard - 200)
hz = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, name, binary):
        self.name = name
        self.port = free_port()
        args = [binary, "-U", "0", "-t", "2", "-m", "64", "-c", str(idle + 100), "-l",
                "127.0.0.1", "-p", str(self.port), "-Z", "-o",
                "ssl_chain_cert=%s/srv.crt,ssl_key=%s/srv.key,ssl_session_cache" % (tmp, tmp)]
        if os.getuid() == 0:
            args += ["-u", "root"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.conn().close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("%s did not start" % name)

    def conn(self, ctx=None, session=None):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return (ctx or client_ctx()).wrap_socket(raw, server_hostname="localhost",
                                                 session=session)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / hz

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(tmp, "ca.crt"))
    return ctx


def until(s, suffix):
    buf = b""
    while not buf.endswith(suffix):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise SystemExit("server closed")
        buf += chunk
    return buf


def idle_cost(srv):
    conns = [srv.conn() for _ in range(10)]  # warm the allocator
    for c in conns:
        c.sendall(b"version\r\n")
        until(c, b"\r\n")
    time.sleep(0.5)
    before = srv.rss_kb()
    ctx = client_ctx()
    more = []
    for _ in range(idle):
        c = srv.conn(ctx)
        c.sendall(b"get nothing\r\n")
        until(c, b"END\r\n")
        more.append(c)
    time.sleep(1.0)
    after = srv.rss_kb()
    for c in conns + more:
        c.close()
    return (after - before) * 1024.0 / idle


def cpu_per_request(srv):
    conns = [srv.conn() for _ in range(8)]
    conns[0].sendall(b"set k 0 0 100\r\n" + b"v" * 100 + b"\r\n")
    until(conns[0], b"STORED\r\n")
    batch = b"get k\r\n" * 20
    reply = (b"VALUE k 0 100\r\n" + b"v" * 100 + b"\r\nEND\r\n") * 20
    done = 0
    c0 = srv.cpu_s()
    while done < requests:
        for c in conns:
            c.sendall(batch)
        for c in conns:
            got = until(c, b"END\r\n")
            while len(got) < len(reply):
                got += until(c, b"END\r\n")
        done += 20 * len(conns)
    used = srv.cpu_s() - c0
    for c in conns:
        c.close()
    return used * 1e6 / done


def cpu_per_handshake(srv, resume):
    ctx = client_ctx()
    session = None
    if resume:
        c = srv.conn(ctx)
        c.sendall(b"version\r\n")
        until(c, b"\r\n")
        session = c.session
        c.close()
    c0 = srv.cpu_s()
    t0 = time.time()
    reused = 0
    for _ in range(handshakes):
        c = srv.conn(ctx, session)
        c.sendall(b"version\r\n")
        until(c, b"\r\n")
        reused += c.session_reused
        c.close()
    return (srv.cpu_s() - c0) * 1e6 / handshakes, handshakes / (time.time() - t0), reused


rows = []
for name, binary in (("mmem", mmem), ("memcached", memcached)):
    srv = Server(name, binary)
    try:
        res = {"idle": idle_cost(srv), "req": cpu_per_request(srv)}
        res["hs_full"], res["hs_full_rate"], _ = cpu_per_handshake(srv, False)
        res["hs_res"], res["hs_res_rate"], res["reused"] = cpu_per_handshake(srv, True)
    finally:
        srv.stop()
    rows.append((name, res))
shutil.rmtree(tmp, ignore_errors=True)

m, c = rows[0][1], rows[1][1]
print("TLS cost on loopback, %d idle connections, %d requests, %d handshakes (-t 2)" %
      (idle, requests, handshakes))
print("%-44s %12s %12s %8s" % ("", "mmem", "memcached", "ratio"))
for key, label, fmt in (("idle", "RSS per idle TLS connection (bytes)", "%.0f"),
                        ("req", "server CPU per request (us)", "%.2f"),
                        ("hs_full", "server CPU per full handshake (us)", "%.0f"),
                        ("hs_res", "server CPU per resumed handshake (us)", "%.0f"),
                        ("hs_full_rate", "full handshakes/s (client-bound)", "%.0f"),
                        ("hs_res_rate", "resumed handshakes/s (client-bound)", "%.0f")):
    print("%-44s %12s %12s %8.2f" % (label, fmt % m[key], fmt % c[key],
                                     m[key] / c[key] if c[key] else float("nan")))
print("sessions resumed: mmem %d/%d, memcached %d/%d" % (m["reused"], handshakes, c["reused"],
                                                         handshakes))
EOF
