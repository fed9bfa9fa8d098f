"""Assertions shared by the Python client scripts in tests/clients.

Each script runs the same scenario (set, get, multi-get, incr, cas, delete,
expiry) through its library; these helpers count failures and give the
scenario's bounded wait for an expiring key.
"""

import sys
import time


class Checker:
    """Counts failed checks; exit() turns them into the test's status."""

    def __init__(self, name):
        self.name = name
        self.failed = 0
        self.passed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {self.name}: {what}: got {got!r}, want {want!r}")

    def exit(self):
        print(f"{self.name}: {self.passed} checks passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def wait_gone(get, key, limit=4.0):
    """Poll get(key) until it misses, for at most `limit` seconds.

    A 1 s TTL ends within 2 s on both servers (their clocks tick once a
    second); the limit leaves slack for a loaded machine without letting
    the test hang. Returns the last value read (None once gone).
    """
    deadline = time.monotonic() + limit
    value = get(key)
    while value is not None and time.monotonic() < deadline:
        time.sleep(0.1)
        value = get(key)
    return value


def past_time():
    """An absolute expiry time an hour ago (> 30 days, so absolute)."""
    return int(time.time()) - 3600


def check_expiry(c, get, set_ttl, touch):
    """The expiry part of the scenario, for clients whose get() answers None
    on a miss: a 1 s TTL, an absolute time in the past, and touch.
    set_ttl(key, value, exptime) and touch(key, exptime) return True on
    success."""
    c.eq("set ttl", set_ttl("ttl", b"soon", 1), True)
    c.eq("get before expiry", get("ttl"), b"soon")
    c.eq("expired", wait_gone(get, "ttl"), None)
    set_ttl("past", b"v", past_time())
    c.eq("absolute past expiry", get("past"), None)
    set_ttl("t", b"v", 0)
    c.eq("touch", touch("t", 1), True)
    c.eq("touched expiry", wait_gone(get, "t"), None)


class Text:
    """A minimal blocking text-protocol connection, for tests that talk to
    servers and proxies directly rather than through a client library."""

    def __init__(self, host, port, timeout=5.0):
        import socket

        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _data(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def set(self, key, value, exptime=0):
        """Returns the reply line, e.g. b"STORED"."""
        self.sock.sendall(b"set %s 0 %d %d\r\n%s\r\n"
                          % (key.encode(), exptime, len(value), value))
        return self._line()

    def get(self, *keys):
        """Returns ({key: value}, None), or ({}, line) on an error line."""
        self.sock.sendall(b"get %s\r\n" % " ".join(keys).encode())
        found = {}
        while True:
            line = self._line()
            if line == b"END":
                return found, None
            if not line.startswith(b"VALUE "):
                return {}, line
            _, key, _, size = line.split(b" ")[:4]
            found[key.decode()] = self._data(int(size))

    def stats(self):
        self.sock.sendall(b"stats\r\n")
        stats = {}
        while True:
            line = self._line()
            if line == b"END":
                return stats
            _, name, value = line.decode().split(" ", 2)
            stats[name] = value
