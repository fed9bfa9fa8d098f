"""twemproxy (nutcracker, ketama, fnv1a_64) in front of three mmem backends.

Arguments: PROXY_PORT STATS_PORT PORT1 PID1 PORT2 PID2 PORT3 PID3 (all on
127.0.0.1).
Sets 300 keys through the proxy, reads them back through it, finds each
key's owner by asking every backend directly and checks the spread; then
stops backend 1 and checks what the proxy does (doc/examples/nutcracker.yml:
auto_eject_hosts, server_failure_limit 1): its keys fail or miss, never
return a value, the other keys still hit, and the lost keys can be set again
on the survivors. Finally backend 1 comes back, empty: its keys map to it
again and miss there.

A second set of 300 sequential keys (user:0000...) shows twemproxy 0.5.0's
fnv1a_64 weakness described in doc/scaling.md: it keeps only the low 32 bits
of the hash, which mix the last bytes of a key by a factor of 0x1b3 only, so
keys that differ in their last characters crowd one arc of the ring.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

from clientcheck import Checker, Text

HOST = "127.0.0.1"
# Session-like keys (hex ids) spread; sequential ones do not with fnv1a_64.
KEYS = ["session:" + hashlib.sha1(b"%d" % i).hexdigest()[:16] for i in range(300)]
SEQ = [f"user:{i:04d}" for i in range(300)]
ALL = KEYS + SEQ


def value(key):
    return b"v-" + key.encode()


def wait_closed(port, limit=5.0):
    """Wait (bounded) until nothing listens on port."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


def ejections(stats_port):
    """server_ejects of the mmem pool, from nutcracker's JSON stats."""
    with socket.create_connection((HOST, stats_port), timeout=5) as sock:
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)["mmem"]["server_ejects"]


def main(argv):
    c = Checker("twemproxy")
    proxy_port, stats_port = int(argv[0]), int(argv[1])
    backends = [(int(argv[i]), int(argv[i + 1])) for i in (2, 4, 6)]
    proxy = Text(HOST, proxy_port)

    stored = sum(proxy.set(k, value(k)) == b"STORED" for k in ALL)
    c.eq("sets stored through the proxy", stored, len(ALL))
    readable = sum(proxy.get(k)[0].get(k) == value(k) for k in ALL)
    c.eq("keys readable through the proxy", readable, len(ALL))
    # One multi-get: the proxy splits it per backend and merges the replies.
    found, err = proxy.get(*KEYS)
    c.eq("one multi-get of all keys through the proxy", (len(found), err), (len(KEYS), None))

    # Where each key lives, asked of each backend directly.
    direct = [Text(HOST, port) for port, _ in backends]
    owner = {}
    for n, conn in enumerate(direct):
        for k in conn.get(*ALL)[0]:
            owner.setdefault(k, []).append(n)
    c.eq("every key on exactly one backend",
         [owner.get(k) in ([0], [1], [2]) for k in ALL], [True] * len(ALL))
    counts = [int(conn.stats()["curr_items"]) for conn in direct]
    for n in range(3):
        c.eq(f"backend {n + 1} curr_items matches its keys", counts[n],
             sum(1 for k in ALL if owner[k] == [n]))
    spread = [sum(1 for k in KEYS if owner[k] == [n]) for n in range(3)]
    seq = [sum(1 for k in SEQ if owner[k] == [n]) for n in range(3)]
    print(f"twemproxy: 300 session keys over 3 backends: {spread}")
    print(f"twemproxy: 300 sequential keys over 3 backends: {seq}")
    c.eq("session keys on every backend (>= 20% each)", min(spread) >= 60, True)
    c.eq("sequential keys skewed by fnv1a_64 (one backend < 10%)", min(seq) < 30, True)

    # Lose backend 1. Its keys: the first request finds it dead, the proxy
    # ejects it for server_retry_timeout and rehashes its keys over the two
    # survivors, where they miss. The other keys do not move.
    os.kill(backends[0][1], signal.SIGTERM)
    c.eq("backend 1 stopped", wait_closed(backends[0][0]), True)
    direct[0].close()
    lost = [k for k in ALL if owner[k] == [0]]
    kept = [k for k in ALL if owner[k] != [0]]
    errors = misses = hits = 0
    for k in lost:
        found, err = proxy.get(k)
        if err is not None:
            errors += 1
        elif k in found:
            hits += 1
        else:
            misses += 1
    print(f"twemproxy: backend 1 down: its {len(lost)} keys: {errors} errors "
          f"then {misses} misses, {hits} hits")
    c.eq("lost keys never hit", hits, 0)
    # Usually 0: with preconnect the proxy sees the backend close and ejects
    # it before any request. Every server_retry_timeout (2 s) it tries the
    # backend again, and the one request sent there fails and ejects it anew.
    c.eq("at most a few errors (one per server_retry_timeout)", errors <= 3, True)
    # The stats are aggregated every -i 100 ms: poll, bounded.
    deadline = time.monotonic() + 3
    ejects = ejections(stats_port)
    while ejects < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        ejects = ejections(stats_port)
    c.eq("nutcracker counted the ejection", ejects >= 1, True)
    still = sum(proxy.get(k)[0].get(k) == value(k) for k in kept)
    c.eq("keys on the survivors still hit", still, len(kept))

    # Write the lost keys again: they land on the two survivors. A request
    # that meets one of those retries fails; the client retries it once.
    retried = 0
    again = 0
    for k in lost:
        reply = proxy.set(k, value(k))
        if reply.startswith(b"SERVER_ERROR"):
            retried += 1
            reply = proxy.set(k, value(k))
        again += reply == b"STORED"
    c.eq("lost keys stored again through the proxy", again, len(lost))
    readable = 0
    for k in lost:
        found, err = proxy.get(k)
        if err is not None:
            retried += 1
            found, err = proxy.get(k)
        readable += found.get(k) == value(k)
    c.eq("lost keys readable again", readable, len(lost))
    c.eq("few requests met a retry of the lost backend", retried <= 3, True)
    after = [int(conn.stats()["curr_items"]) for conn in direct[1:]]
    print(f"twemproxy: survivors after re-set (curr_items): {after}; "
          f"{retried} requests retried")
    c.eq("survivors took exactly the lost keys", sum(after), len(ALL))

    # Backend 1 comes back, empty, on its port. After server_retry_timeout
    # the proxy puts it back on the ring and its keys map to it again: they
    # miss, while the copies set on the survivors meanwhile stay there.
    back = restart(backends[0][0])
    try:
        deadline = time.monotonic() + 8
        while k_hit(proxy, lost[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        hits = sum(k_hit(proxy, k) for k in lost)
        print(f"twemproxy: backend 1 back: {hits} of its {len(lost)} keys hit")
        c.eq("returned backend's keys miss through the proxy", hits, 0)
        c.eq("keys of the other backends still hit",
             sum(k_hit(proxy, k) for k in kept), len(kept))
        stale = [int(conn.stats()["curr_items"]) for conn in direct[1:]]
        c.eq("the survivors keep their copies of its keys", sum(stale), len(ALL))
    finally:
        back.terminate()
        back.wait(5)
    for conn in direct[1:]:
        conn.close()
    proxy.close()
    c.exit()


def k_hit(proxy, key):
    return proxy.get(key)[0].get(key) == value(key)


def restart(port):
    """Start the server binary again on port (bounded wait until it
    accepts); MMEM_BIN names it, as for the shell fixture."""
    cmd = [os.environ["MMEM_BIN"], "-l", HOST, "-p", str(port)]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server did not come back on port {port}")


if __name__ == "__main__":
    main(sys.argv[1:])
