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
