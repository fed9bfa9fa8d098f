#!/usr/bin/env python3
"""TLS (-Z) end to end, side by side with memcached 1.6.18 when installed.

Throwaway certificates are made with the openssl command in a temporary
directory (no key is ever committed). Each scenario runs against mmem and,
where memcached is present, against memcached with the same arguments and
the same files; the outcomes must be equal, and are also checked against the
expected values so that a shared mistake still fails.

Usage: tls_test.py MMEM_BIN [MEMCACHED_BIN]   (exit 0 pass, 1 fail)
"""
import os
import resource
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

MMEM = sys.argv[1]
MEMCACHED = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
OPENSSL = os.environ.get("OPENSSL_BIN") or shutil.which("openssl")
TMP = tempfile.mkdtemp(prefix="mmem-tls-")
TIMEOUT = 5.0
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)


def same(results, what):
    """results: {server name: outcome}; all outcomes must be equal."""
    vals = list(results.values())
    ok = all(v == vals[0] for v in vals)
    if not ok:
        print("FAIL: %s differs:" % what, flush=True)
        for k, v in results.items():
            print("  %s: %r" % (k, v), flush=True)
        failures.append(what)
    return vals[0]


# ---- certificates ------------------------------------------------------------

def openssl(*args):
    subprocess.run([OPENSSL] + list(args), cwd=TMP, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_key_csr(name, cn):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=" + name)


def sign(name, ca, days, ext=None):
    args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".crt", "-days", str(days)]
    if ext:
        with open(os.path.join(TMP, name + ".ext"), "w") as f:
            f.write(ext)
        args += ["-extfile", name + ".ext"]
    openssl(*args)


def path(name):
    return os.path.join(TMP, name)


def make_certs():
    make_ca("ca")
    make_ca("otherca")
    make_key_csr("srv", "localhost")
    sign("srv", "ca", 2, "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    make_key_csr("client", "client")
    sign("client", "ca", 2)
    make_key_csr("stranger", "stranger")
    sign("stranger", "otherca", 2)
    make_key_csr("expired", "expired")
    sign("expired", "ca", -1)


# ---- servers -----------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, binary, xopts, extra=()):
        self.name = name
        self.tls_port = free_port()
        self.plain_port = free_port()
        args = [binary, "-U", "0", "-l",
                "127.0.0.1:%d,notls:127.0.0.1:%d" % (self.tls_port, self.plain_port),
                "-Z", "-o", xopts] + list(extra)
        if os.getuid() == 0:
            args += ["-u", "root"]
        self.log = open(path("%s-%d.log" % (name, self.tls_port)), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.plain_port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("%s did not start: %s" % (name, self.log.read()))

    def plain(self):
        return socket.create_connection(("127.0.0.1", self.plain_port), timeout=TIMEOUT)

    def tls(self, ctx=None, session=None):
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=TIMEOUT)
        return (ctx or client_ctx()).wrap_socket(raw, server_hostname="localhost",
                                                 session=session)

    def stats(self, sub=""):
        s = self.plain()
        s.sendall(("stats %s\r\n" % sub).encode())
        out = read_until(s, b"END\r\n")
        s.close()
        res = []
        for line in out.decode().split("\r\n"):
            if line.startswith("STAT "):
                _, k, v = line.split(" ", 2)
                res.append((k, v))
        return res

    def stat(self, name):
        return dict(self.stats()).get(name)

    def stat_reaching(self, name, want):
        """The counter once it reaches want (a worker counts a failed
        handshake just after the client saw the alert), or after 2 s."""
        deadline = time.time() + 2
        while True:
            v = int(self.stat(name))
            if v >= want or time.time() > deadline:
                return v
            time.sleep(0.05)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        self.proc.terminate()
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if self.name == "mmem" and rc != 0:  # sanitizer builds: a report
            self.log.seek(0)
            check(False, "mmem exited %d:\n%s" % (rc, self.log.read()[-3000:]))
        self.log.close()


def servers(xopts, extra=()):
    out = [Server("mmem", MMEM, xopts, extra)]
    if MEMCACHED:
        out.append(Server("memcached", MEMCACHED, xopts, extra))
    return out


def client_ctx(cert=None, min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(path("ca.crt"))
    if cert:
        ctx.load_cert_chain(path(cert + ".crt"), path(cert + ".key"))
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def read_until(s, suffix, limit=4 << 20):
    buf = b""
    while not buf.endswith(suffix) and len(buf) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def read_n(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tls_outcome(srv, ctx):
    """'ok' when a version round trip works, else the failure's class."""
    try:
        s = srv.tls(ctx)
        s.sendall(b"version\r\n")
        reply = read_until(s, b"\r\n")
        s.close()
        return "ok" if reply.startswith(b"VERSION ") else "closed"
    except (ssl.SSLError, OSError):
        return "failed"


# ---- scenarios ---------------------------------------------------------------

TEXT_SCRIPT = (b"set a 5 0 5\r\nhello\r\nget a\r\nappend a 0 0 3\r\nxyz\r\nget a b\r\n"
               b"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\ndelete a\r\nget a\r\n"
               b"ms m 3 T0 F7\r\nabc\r\nmg m v f s\r\nmn\r\nbogus\r\nversion\r\n"
               b"set nr 0 0 1 noreply\r\nx\r\nget nr\r\nquit\r\n")


def text_over_tls(srvs):
    out = {}
    for srv in srvs:
        s = srv.tls()
        s.sendall(TEXT_SCRIPT)
        out[srv.name] = read_until(s, b"\x00never")  # until the server closes
        s.close()
    got = same(out, "text and meta commands over TLS")
    check(got.startswith(b"STORED\r\nVALUE a 5 5\r\nhello\r\nEND\r\n"), "text over TLS: %r" % got)
    check(got.endswith(b"VALUE nr 0 1\r\nx\r\nEND\r\n"), "noreply over TLS: %r" % got[-40:])


def large_and_pipelined(srvs):
    value = bytes((i * 7) % 251 for i in range(300000))
    for srv in srvs:
        s = srv.tls()
        s.sendall(b"set big 0 0 %d\r\n" % len(value) + value + b"\r\n")
        check(read_until(s, b"\r\n") == b"STORED\r\n", "%s: large set over TLS" % srv.name)
        s.sendall(b"get big\r\n")
        got = read_until(s, b"END\r\n")
        check(got == b"VALUE big 0 %d\r\n" % len(value) + value + b"\r\nEND\r\n",
              "%s: 300 KB value over TLS (%d bytes back)" % (srv.name, len(got)))
        s.sendall(b"set k 0 0 3\r\nabc\r\n" + b"get k\r\n" * 500 + b"mn\r\n")
        got = read_until(s, b"MN\r\n")
        check(got == b"STORED\r\n" + b"VALUE k 0 3\r\nabc\r\nEND\r\n" * 500 + b"MN\r\n",
              "%s: 500 pipelined gets over TLS" % srv.name)
        s.close()


def bin_packet(op, key=b"", value=b"", extras=b"", opaque=0x1234):
    body = len(extras) + len(key) + len(value)
    return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0, body, opaque,
                       0) + extras + key + value


def read_bin(s):
    hdr = read_n(s, 24)
    if len(hdr) < 24:
        return hdr
    body = struct.unpack(">I", hdr[8:12])[0]
    return hdr + read_n(s, body)


def binary_over_tls(srvs):
    out = {}
    for srv in srvs:
        s = srv.tls()
        replies = []
        s.sendall(bin_packet(0x01, b"bk", b"bval", struct.pack(">II", 9, 0)))  # set
        replies.append(read_bin(s)[:16])  # the CAS differs between servers
        s.sendall(bin_packet(0x00, b"bk"))  # get
        r = read_bin(s)
        replies.append(r[:16] + r[24:])
        s.sendall(bin_packet(0x0b))  # version
        replies.append(read_bin(s))
        s.sendall(bin_packet(0x0a))  # noop
        replies.append(read_bin(s))
        s.close()
        out[srv.name] = replies
    got = same(out, "binary protocol over TLS")
    check(got[1].endswith(struct.pack(">I", 9) + b"bval"), "binary get over TLS: %r" % got[1])


def notls_and_refusals(srvs):
    for srv in srvs:
        before = int(srv.stat("ssl_handshake_errors"))
        p = srv.plain()
        p.sendall(b"version\r\n")
        check(read_until(p, b"\r\n").startswith(b"VERSION "), "%s: notls listener" % srv.name)
        p.close()
        # Plain text, then garbage, then a TLS 1.1 client at a TLS port.
        for payload in (b"get a\r\n", bytes(range(256)) * 4):
            r = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=TIMEOUT)
            r.sendall(payload)
            try:
                got = r.recv(100)
            except OSError:
                got = b""
            check(not got.startswith(b"END") and not got.startswith(b"ERROR"),
                  "%s: a TLS port answered plain text: %r" % (srv.name, got))
            r.close()
        old = client_ctx(min_version=ssl.TLSVersion.TLSv1_1, max_version=ssl.TLSVersion.TLSv1_1)
        old.set_ciphers("DEFAULT@SECLEVEL=0")
        check(tls_outcome(srv, old) == "failed", "%s: TLS 1.1 client accepted" % srv.name)
        check(tls_outcome(srv, client_ctx()) == "ok", "%s: serves after refusals" % srv.name)
        after = srv.stat_reaching("ssl_handshake_errors", before + 3)
        # memcached counts only the failures its listener thread sees at the
        # first step, which depends on timing; mmem counts every one.
        want = (0, 1, 2, 3) if srv.name == "memcached" else (3,)
        check(after - before in want, "%s: %d handshake errors counted, want %r" %
              (srv.name, after - before, want))


def resumption(srvs):
    out = {}
    for srv in srvs:
        ctx = client_ctx()
        s = srv.tls(ctx)
        s.sendall(b"version\r\n")
        read_until(s, b"\r\n")  # TLS 1.3 tickets arrive after the handshake
        sess = s.session
        s.close()
        s = srv.tls(ctx, session=sess)
        s.sendall(b"version\r\n")
        read_until(s, b"\r\n")
        out[srv.name] = (s.session_reused, int(srv.stat("ssl_new_sessions")) > 0)
        s.close()
    got = same(out, "session resumption")
    check(got == (True, True), "session resumption: %r" % (got,))


def stats_lines(srvs):
    out = {}
    for srv in srvs:
        settings = [kv for kv in srv.stats("settings") if kv[0].startswith("ssl_")]
        general = [k for k, _ in srv.stats() if k.startswith("ssl_") or k.startswith("time_since")]
        uptime = int(srv.stat("uptime"))
        age = int(srv.stat("time_since_server_cert_refresh"))
        check(uptime + 60 <= age <= uptime + 61, "%s: certificate age %d at uptime %d" %
              (srv.name, age, uptime))
        out[srv.name] = (settings, general)
    got = same(out, "ssl_* stats")
    check(("ssl_enabled", "yes") in got[0] and ("ssl_session_cache", "yes") in got[0],
          "stats settings: %r" % (got[0],))


def refresh_certs(srvs):
    key = path("srv.key")
    good = open(key, "rb").read()
    replies = {}
    for srv in srvs:
        p = srv.plain()
        t = srv.tls()
        p.sendall(b"refresh_certs\r\n")
        a = read_until(p, b"\r\n")
        p.sendall(b"refresh_certs noreply\r\nversion\r\n")
        b = read_until(p, b"\r\n")
        t.sendall(b"refresh_certs\r\n")
        c = read_until(t, b"\r\n")
        shutil.copy(path("ca.key"), key)  # a key that does not match
        p.sendall(b"refresh_certs\r\n")
        d = read_until(p, b"\r\n")
        with open(key, "wb") as f:
            f.write(good)
        check(tls_outcome(srv, client_ctx()) == "ok", "%s: serves after a failed refresh" %
              srv.name)
        since = srv.stat("time_since_server_cert_refresh")
        replies[srv.name] = (a, b[:8], c, d, since is not None)
        p.close()
        t.close()
    got = same(replies, "refresh_certs")
    check(got[0] == b"OK\r\n" and got[2] == b"OK\r\n" and
          got[3].startswith(b"Error loading the key: " + key.encode()), "refresh_certs: %r" %
          (got,))


def reset_mid_record(srvs):
    for srv in srvs:
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=TIMEOUT)
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = client_ctx().wrap_bio(inb, outb, server_hostname="localhost")
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(outb.read())
                inb.write(raw.recv(65536))
        raw.sendall(outb.read())
        obj.write(b"set r 0 0 10\r\n0123456789\r\n")
        rec = outb.read()
        raw.sendall(rec[: len(rec) // 2])
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        check(tls_outcome(srv, client_ctx()) == "ok", "%s: serves after a reset" % srv.name)


def renegotiation(srvs):
    """A TLS 1.2 client asking to renegotiate (s_client's "R" command)."""
    out = {}
    for srv in srvs:
        p = subprocess.Popen([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % srv.tls_port,
                              "-tls1_2", "-CAfile", path("ca.crt")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            for line in (b"version\r\n", b"R\n", b"version\r\n"):
                time.sleep(0.3)
                p.stdin.write(line)
                p.stdin.flush()
            time.sleep(0.5)
            p.stdin.close()
        except BrokenPipeError:
            pass  # the client gave up after the refusal
        text = p.stdout.read().decode(errors="replace")
        p.wait(10)
        out[srv.name] = (text.count("VERSION "), "RENEGOTIATING" in text)
        check(tls_outcome(srv, client_ctx()) == "ok", "%s: serves after renegotiation" %
              srv.name)
    got = same(out, "renegotiation attempt")
    check(got[0] >= 1 and got[1], "renegotiation: %r" % (got,))


def stalled_handshakes(srvs, count):
    for srv in srvs:
        rss0 = srv.rss_kb()
        stalled = []
        for _ in range(count):
            r = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=TIMEOUT)
            r.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a cut ClientHello
            stalled.append(r)
        t0 = time.time()
        check(tls_outcome(srv, client_ctx()) == "ok", "%s: served beside %d stalled handshakes" %
              (srv.name, count))
        took = time.time() - t0
        check(took < 2.0, "%s: a handshake took %.2fs beside stalled ones" % (srv.name, took))
        grew = srv.rss_kb() - rss0
        print("%s: %d stalled handshakes, RSS +%d KB, next handshake %.3fs" %
              (srv.name, count, grew, took), flush=True)
        factor = int(os.environ.get("MMEM_TLS_RSS_FACTOR", "1"))
        check(grew < count * 64 * factor, "%s: RSS grew %d KB for %d stalled handshakes" %
              (srv.name, grew, count))
        for r in stalled:
            r.close()


def mutual_tls():
    xopts = ("ssl_chain_cert=%s,ssl_key=%s,ssl_ca_cert=%s,ssl_verify_mode=2" %
             (path("srv.crt"), path("srv.key"), path("ca.crt")))
    srvs = servers(xopts)
    try:
        out = {}
        for srv in srvs:
            res = [tls_outcome(srv, client_ctx(c)) for c in ("client", None, "stranger", "expired")]
            res.append(dict(srv.stats("settings"))["ssl_verify_mode"])
            out[srv.name] = res
            if srv.name == "mmem":
                errors = srv.stat_reaching("ssl_handshake_errors", 3)
                check(errors == 3, "mutual TLS: %d handshake errors, want 3" % errors)
        got = same(out, "mutual TLS outcomes")
        check(got[0] == "ok" and all(r != "ok" for r in got[1:4]), "mutual TLS: %r" % (got,))
        check(got[4] == "3", "mutual TLS verify mode shown: %r" % (got,))
    finally:
        for srv in srvs:
            srv.stop()


def start_errors():
    def run(binary, xopts):
        args = [binary, "-U", "0", "-p", str(free_port()), "-l", "127.0.0.1", "-Z", "-o", xopts]
        if os.getuid() == 0:
            args += ["-u", "root"]
        p = subprocess.run(args, capture_output=True, timeout=10)
        lines = p.stderr.decode().strip().split("\n")
        return (p.returncode, lines[-1])

    cases = [
        "ssl_chain_cert=%s,ssl_key=%s" % (path("srv.crt"), path("nokey")),
        "ssl_chain_cert=%s,ssl_key=%s" % (path("srv.crt"), path("ca.key")),
        "ssl_chain_cert=%s,ssl_key=%s,ssl_ciphers=BOGUS" % (path("srv.crt"), path("srv.key")),
        "ssl_chain_cert=%s,ssl_key=%s,ssl_ca_cert=%s" % (path("srv.crt"), path("srv.key"),
                                                         path("noca")),
    ]
    for xopts in cases:
        out = {"mmem": run(MMEM, xopts)}
        if MEMCACHED:
            out["memcached"] = run(MEMCACHED, xopts)
        got = same(out, "start-up refusal for " + xopts)
        check(got[0] == 64, "start-up refusal status %r" % (got,))


def pymemcache_client(srv):
    try:
        from pymemcache.client.base import Client
    except ImportError:
        print("pymemcache not installed: that client is skipped")
        return
    c = Client(("127.0.0.1", srv.tls_port), tls_context=client_ctx(), connect_timeout=TIMEOUT,
               timeout=TIMEOUT)
    c.set("py", b"over tls")
    check(c.get("py") == b"over tls", "pymemcache with tls_context")
    c.close()


def sasl_over_tls():
    if not shutil.which("saslpasswd2"):
        print("saslpasswd2 not installed: SASL over TLS skipped")
        return
    with open(path("memcached.conf"), "w") as f:
        f.write("mech_list: plain\nsasldb_path: %s\n" % path("sasldb"))
    subprocess.run(["saslpasswd2", "-p", "-a", "memcached", "-c", "-f", path("sasldb"),
                    "alice"], input=b"pw123", check=True)
    os.environ["SASL_CONF_PATH"] = TMP
    try:
        srvs = servers("ssl_chain_cert=%s,ssl_key=%s" % (path("srv.crt"), path("srv.key")),
                       ["-S"])
    except RuntimeError as e:
        print("SASL server did not start (%s): skipped" % e)
        return
    try:
        out = {}
        for srv in srvs:
            s = srv.tls()
            s.sendall(bin_packet(0x00, b"k"))
            before = read_bin(s)[6:8]  # refused, then the connection closes
            s.close()
            s = srv.tls()
            s.sendall(bin_packet(0x21, b"PLAIN", b"\x00alice\x00pw123"))
            auth = read_bin(s)
            s.sendall(bin_packet(0x00, b"k"))
            after = read_bin(s)[6:8]
            s.close()
            out[srv.name] = (before, auth[6:8], after)
        got = same(out, "SASL over TLS")
        check(got == (b"\x00\x20", b"\x00\x00", b"\x00\x01"), "SASL over TLS: %r" % (got,))
    finally:
        for srv in srvs:
            srv.stop()


def main():
    make_certs()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stalls = min(1000, hard - 100)
    xopts = "ssl_chain_cert=%s,ssl_key=%s,ssl_session_cache" % (path("srv.crt"), path("srv.key"))
    srvs = servers(xopts, ["-c", str(stalls + 64)])
    try:
        for step in (text_over_tls, large_and_pipelined, binary_over_tls, notls_and_refusals,
                     resumption, stats_lines, refresh_certs, reset_mid_record, renegotiation):
            step(srvs)
        stalled_handshakes(srvs, stalls)
        pymemcache_client(srvs[0])
    finally:
        for srv in srvs:
            srv.stop()
    mutual_tls()
    start_errors()
    sasl_over_tls()
    shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all TLS checks passed%s" % ("" if MEMCACHED else " (memcached not installed: "
                                        "no side-by-side comparison)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
