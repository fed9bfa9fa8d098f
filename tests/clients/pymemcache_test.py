"""pymemcache (text protocol) against HOST PORT: the client scenario."""

import sys

from pymemcache.client.base import Client

from clientcheck import Checker, check_expiry


def main(host, port):
    c = Checker("pymemcache")
    mc = Client((host, port), connect_timeout=5, timeout=5, default_noreply=False)

    c.eq("set", mc.set("k1", b"hello"), True)
    c.eq("get", mc.get("k1"), b"hello")
    c.eq("get miss", mc.get("nope"), None)
    c.eq("set crlf value", mc.set("k2", b"two\r\nlines"), True)
    mc.set("k3", b"x" * 100000)
    c.eq("get_many", mc.get_many(["k1", "k2", "k3", "nope"]),
         {"k1": b"hello", "k2": b"two\r\nlines", "k3": b"x" * 100000})

    mc.set("n", b"10")
    c.eq("incr", mc.incr("n", 5), 15)
    c.eq("decr", mc.decr("n", 20), 0)
    c.eq("incr miss", mc.incr("nope", 1), None)
    mc.set("big", b"18446744073709551615")
    c.eq("incr wraps", mc.incr("big", 2), 1)

    value, token = mc.gets("k1")
    c.eq("gets", value, b"hello")
    c.eq("cas", mc.cas("k1", b"world", token), True)
    c.eq("cas stale", mc.cas("k1", b"again", token), False)
    c.eq("cas miss", mc.cas("nope", b"v", token), None)
    c.eq("get after cas", mc.get("k1"), b"world")
    c.eq("add existing", mc.add("k1", b"v"), False)
    c.eq("replace missing", mc.replace("nope", b"v"), False)
    c.eq("append", mc.append("k1", b"!"), True)
    c.eq("prepend", mc.prepend("k1", b"<"), True)
    c.eq("get after append", mc.get("k1"), b"<world!")

    c.eq("delete", mc.delete("k2"), True)
    c.eq("get deleted", mc.get("k2"), None)
    c.eq("delete again", mc.delete("k2"), False)

    check_expiry(c, mc.get, lambda k, v, t: mc.set(k, v, expire=t), mc.touch)

    c.eq("flush_all", mc.flush_all(), True)
    c.eq("get after flush", mc.get("k1"), None)
    c.eq("version", mc.version().split(b".")[0].isdigit(), True)
    c.eq("stats cmd_flush", mc.stats()[b"cmd_flush"], 1)
    mc.close()
    c.exit()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
