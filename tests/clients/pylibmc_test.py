"""pylibmc (libmemcached) against HOST PORT: the client scenario, over the
text protocol and then with binary=True, on one server.
"""

import sys

import pylibmc

from clientcheck import Checker, check_expiry


def scenario(host, port, binary):
    c = Checker("pylibmc binary" if binary else "pylibmc text")
    mc = pylibmc.Client([f"{host}:{port}"], binary=binary,
                        behaviors={"cas": True, "connect_timeout": 5000,
                                   "send_timeout": 5000000,
                                   "receive_timeout": 5000000})

    c.eq("set", mc.set("k1", b"hello"), True)
    c.eq("get", mc.get("k1"), b"hello")
    c.eq("get miss", mc.get("nope"), None)
    # pylibmc keeps the type in the flags: these round-trip only when the
    # server returns the flags it was given.
    mc.set("int", 42)
    mc.set("obj", {"a": [1, 2]})
    c.eq("typed values", (mc.get("int"), mc.get("obj")), (42, {"a": [1, 2]}))
    mc.set("k2", b"two\r\nlines")
    mc.set("k3", b"x" * 100000)
    c.eq("get_multi", mc.get_multi(["k1", "k2", "k3", "nope"]),
         {"k1": b"hello", "k2": b"two\r\nlines", "k3": b"x" * 100000})
    c.eq("set_multi", mc.set_multi({"m1": b"a", "m2": b"b"}), [])
    c.eq("get_multi after set_multi", mc.get_multi(["m1", "m2"]),
         {"m1": b"a", "m2": b"b"})

    mc.set("n", b"10")
    c.eq("incr", mc.incr("n", 5), 15)
    c.eq("decr", mc.decr("n", 20), 0)
    try:
        mc.incr("nope", 1)
        c.eq("incr miss raises", False, True)
    except pylibmc.NotFound:
        c.eq("incr miss raises", True, True)

    value, token = mc.gets("k1")
    c.eq("gets", value, b"hello")
    c.eq("cas", mc.cas("k1", b"world", token), True)
    c.eq("cas stale", mc.cas("k1", b"again", token), False)
    c.eq("get after cas", mc.get("k1"), b"world")
    c.eq("add existing", mc.add("k1", b"v"), False)
    c.eq("append", mc.append("k1", b"!"), True)
    c.eq("get after append", mc.get("k1"), b"world!")

    c.eq("delete", mc.delete("k2"), True)
    c.eq("get deleted", mc.get("k2"), None)
    c.eq("delete again", mc.delete("k2"), False)
    c.eq("delete_multi", mc.delete_multi(["m1", "m2"]), True)
    c.eq("get_multi deleted", mc.get_multi(["m1", "m2"]), {})

    check_expiry(c, mc.get, lambda k, v, t: mc.set(k, v, time=t), mc.touch)

    c.eq("flush_all", mc.flush_all(), True)
    c.eq("get after flush", mc.get("k1"), None)
    stats = mc.get_stats()[0][1]
    # libmemcached reports a fixed subset of the fields (no cmd_flush).
    c.eq("stats cmd_set counted", int(stats["cmd_set"]) >= 10, True)
    c.eq("stats curr_connections", int(stats["curr_connections"]) >= 1, True)
    mc.disconnect_all()
    return c


def main(host, port):
    text = scenario(host, port, False)
    binary = scenario(host, port, True)
    text.failed += binary.failed
    text.passed += binary.passed
    text.name = "pylibmc"
    text.exit()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
