<?php
// php-memcached (libmemcached) against HOST PORT: the client scenario (set,
// get, multi-get, incr, cas, delete, expiry), over the text protocol and then
// the binary protocol, on one server.

$host = $argv[1];
$port = (int)$argv[2];
$passed = 0;
$failed = 0;

function check($what, $got, $want)
{
    global $passed, $failed;
    if ($got === $want) {
        $passed++;
    } else {
        $failed++;
        echo "FAIL: $what: got ", var_export($got, true), ", want ", var_export($want, true), "\n";
    }
}

// Poll for at most 4 s until $key misses (a 1 s TTL ends within 2 s).
function gone($m, $key)
{
    $deadline = microtime(true) + 4;
    while ($m->get($key) !== false && microtime(true) < $deadline) {
        usleep(100000);
    }
    return $m->get($key) === false && $m->getResultCode() === Memcached::RES_NOTFOUND;
}

foreach ([false, true] as $binary) {
    $p = $binary ? 'binary: ' : 'text: ';
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 5000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 5000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 5000000);
    $m->addServer($host, $port);

    check($p . 'set', $m->set('k1', 'hello'), true);
    check($p . 'get', $m->get('k1'), 'hello');
    check($p . 'get miss', $m->get('nope'), false);
    check($p . 'get miss code', $m->getResultCode(), Memcached::RES_NOTFOUND);
    // The PHP type (and compression of large values) lives in the flags.
    $m->set('int', 42);
    $m->set('arr', ['a' => [1, 2]]);
    check($p . 'typed values', [$m->get('int'), $m->get('arr')], [42, ['a' => [1, 2]]]);
    $m->set('k2', "two\r\nlines");
    $m->set('k3', str_repeat('x', 100000));
    check($p . 'getMulti', $m->getMulti(['k1', 'k2', 'k3', 'nope']),
          ['k1' => 'hello', 'k2' => "two\r\nlines", 'k3' => str_repeat('x', 100000)]);
    check($p . 'setMulti', $m->setMulti(['m1' => 'a', 'm2' => 'b']), true);
    check($p . 'getMulti after setMulti', $m->getMulti(['m1', 'm2']), ['m1' => 'a', 'm2' => 'b']);

    $m->set('n', '10');
    check($p . 'increment', $m->increment('n', 5), 15);
    check($p . 'decrement', $m->decrement('n', 20), 0);
    check($p . 'increment miss', $m->increment('nope', 1), false);

    $e = $m->get('k1', null, Memcached::GET_EXTENDED);
    check($p . 'get extended', $e['value'], 'hello');
    check($p . 'cas', $m->cas($e['cas'], 'k1', 'world'), true);
    check($p . 'cas stale', $m->cas($e['cas'], 'k1', 'again'), false);
    check($p . 'cas stale code', $m->getResultCode(), Memcached::RES_DATA_EXISTS);
    check($p . 'get after cas', $m->get('k1'), 'world');
    check($p . 'add existing', $m->add('k1', 'v'), false);
    check($p . 'replace missing', $m->replace('nope', 'v'), false);

    check($p . 'delete', $m->delete('k2'), true);
    check($p . 'get deleted', $m->get('k2'), false);
    check($p . 'delete again', $m->delete('k2'), false);
    check($p . 'delete again code', $m->getResultCode(), Memcached::RES_NOTFOUND);
    check($p . 'deleteMulti', $m->deleteMulti(['m1', 'm2']), ['m1' => true, 'm2' => true]);

    check($p . 'set ttl', $m->set('ttl', 'soon', 1), true);
    check($p . 'get before expiry', $m->get('ttl'), 'soon');
    check($p . 'expired', gone($m, 'ttl'), true);
    $m->set('past', 'v', time() - 3600);
    check($p . 'absolute past expiry', $m->get('past'), false);
    $m->set('t', 'v');
    check($p . 'touch', $m->touch('t', 1), true);
    check($p . 'touched expiry', gone($m, 't'), true);

    check($p . 'flush', $m->flush(), true);
    check($p . 'get after flush', $m->get('k1'), false);
    $stats = $m->getStats()["$host:$port"];
    check($p . 'stats cmd_set', $stats['cmd_set'] >= 10, true);
    check($p . 'version', (bool)preg_match('/^\d+\.\d+/', $m->getVersion()["$host:$port"]), true);
    $m->quit();
}

echo "php-memcached: $passed checks passed, $failed failed\n";
exit($failed ? 1 : 0);
