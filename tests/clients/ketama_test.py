"""libmemcached's consistent hashing (pylibmc, ketama) over mmem instances.

Arguments: HOST PORT1 PORT2 PORT3 PORT4. Sets 3000 keys through a client
configured with nodes 1-3 and checks they are spread over all three; then
counts how many keys a client without node 1 (a lost node), and one with
node 4 added, finds on the node it now maps them to. Consistent hashing must
move only the keys of the lost node (about 1/3), or about 1/4 of the keys for
the added node; libmemcached's default modula distribution, run the same way
for comparison, moves most keys. The figures are printed for doc/scaling.md.
"""

import sys

import pylibmc

from clientcheck import Checker

N = 3000
KEYS = [f"user:{i:05d}" for i in range(N)]


def client(host, ports, ketama):
    behaviors = {"connect_timeout": 5000, "send_timeout": 5000000,
                 "receive_timeout": 5000000}
    if ketama:
        behaviors["ketama"] = True
    return pylibmc.Client([f"{host}:{p}" for p in ports], behaviors=behaviors)


def moved(host, before, after, ketama):
    """Set every key through a client of nodes `before`, then return the
    fraction a client of nodes `after` misses (it maps them elsewhere), the
    per-node counts, and whether every key whose node is in both lists
    still hits."""
    for p in set(before) | set(after):
        client(host, [p], False).flush_all()
    mc = client(host, before, ketama)
    mc.set_multi({k: b"v" for k in KEYS})
    # Count by asking each node directly (flush_all leaves curr_items
    # counting the flushed items until they are touched, on memcached too).
    counts = [len(client(host, [p], False).get_multi(KEYS)) for p in before]
    now = client(host, after, ketama).get_multi(KEYS)
    # Who owned each key before: ask each surviving node directly.
    stayed = all(k in now for p in set(before) & set(after)
                 for k in client(host, [p], False).get_multi(KEYS))
    return 1 - len(now) / N, counts, stayed


def main(host, ports):
    c = Checker("ketama")
    nodes = ports[:3]
    for ketama in (True, False):
        name = "ketama" if ketama else "modula"
        lost, counts, stayed = moved(host, nodes, nodes[1:], ketama)
        added, _, _ = moved(host, nodes, ports, ketama)
        print(f"{name}: {N} keys over 3 nodes: {counts}; node lost: "
              f"{lost:.1%} of the keys moved; node added: {added:.1%} moved")
        c.eq(f"{name}: every key stored once", sum(counts), N)
        if ketama:
            c.eq("ketama: every node holds >= 20% of the keys", min(counts) >= N // 5, True)
            c.eq("ketama: a lost node moves < 50% of the keys", lost < 0.5, True)
            c.eq("ketama: a lost node moves exactly its own keys",
                 round(lost * N), counts[0])
            c.eq("ketama: keys of the other nodes stay put", stayed, True)
            c.eq("ketama: an added node takes 10-40% of the keys", 0.1 < added < 0.4, True)
            ketama_lost = lost
        else:
            c.eq("modula moves more keys than ketama", lost > ketama_lost, True)
    c.exit()


if __name__ == "__main__":
    main(sys.argv[1], [int(p) for p in sys.argv[2:]])
