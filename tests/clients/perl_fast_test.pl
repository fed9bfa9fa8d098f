# Cache::Memcached::Fast (Perl, text protocol) against HOST PORT: the client
# scenario (set, get, multi-get, incr, cas, delete, expiry).
use strict;
use warnings;
use Time::HiRes qw(sleep time);
use Cache::Memcached::Fast;

my ($host, $port) = @ARGV;
my ($passed, $failed) = (0, 0);

sub check {
    my ($what, $got, $want) = @_;
    $got  = defined $got  ? $got  : '(undef)';
    $want = defined $want ? $want : '(undef)';
    if ($got eq $want) {
        $passed++;
    } else {
        $failed++;
        print "FAIL: $what: got [$got], want [$want]\n";
    }
}

# The library answers true/false ('' for false); compare those as 1/0.
sub b { return $_[0] ? 1 : 0; }

# Poll for at most 4 s until KEY misses (a 1 s TTL ends within 2 s).
sub gone {
    my ($mc, $key) = @_;
    my $deadline = time + 4;
    while (defined $mc->get($key) && time < $deadline) {
        sleep 0.1;
    }
    return defined $mc->get($key) ? 0 : 1;
}

my $mc = Cache::Memcached::Fast->new({
    servers         => ["$host:$port"],
    connect_timeout => 5,
    io_timeout      => 5,
    utf8            => 1,
});

check('set', $mc->set('k1', 'hello'), 1);
check('get', $mc->get('k1'), 'hello');
check('get miss', $mc->get('nope'), undef);
# References are serialised (Storable) and marked in the flags.
$mc->set('ref', { a => [1, 2] });
my $ref = $mc->get('ref');
check('flags round-trip', ref $ref eq 'HASH' ? join(',', @{ $ref->{a} }) : 'no hash', '1,2');
$mc->set('utf8', "caf\x{e9} \x{263a}");
check('utf8 value', $mc->get('utf8'), "caf\x{e9} \x{263a}");
$mc->set('k2', "two\r\nlines");
$mc->set('k3', 'x' x 100000);
my $multi = $mc->get_multi('k1', 'k2', 'k3', 'nope');
check('get_multi keys', join(',', sort keys %$multi), 'k1,k2,k3');
check('get_multi k2', $multi->{k2}, "two\r\nlines");
check('get_multi k3', length $multi->{k3}, 100000);

$mc->set('n', 10);
check('incr', $mc->incr('n', 5), 15);
# Zero comes back as "0E0", Perl's zero-but-true, so it is not a miss.
check('decr', $mc->decr('n', 20), '0E0');
check('incr miss', b($mc->incr('nope', 1)), 0);

my $gets = $mc->gets('k1');
check('gets', $gets->[1], 'hello');
check('cas', $mc->cas('k1', $gets->[0], 'world'), 1);
check('cas stale', b($mc->cas('k1', $gets->[0], 'again')), 0);
check('get after cas', $mc->get('k1'), 'world');
check('add existing', b($mc->add('k1', 'v')), 0);
check('append', $mc->append('k1', '!'), 1);
check('get after append', $mc->get('k1'), 'world!');

check('delete', $mc->delete('k2'), 1);
check('get deleted', $mc->get('k2'), undef);
check('delete again', b($mc->delete('k2')), 0);

check('set ttl', $mc->set('ttl', 'soon', 1), 1);
check('get before expiry', $mc->get('ttl'), 'soon');
check('expired', gone($mc, 'ttl'), 1);
$mc->set('past', 'v', int(time) - 3600);
check('absolute past expiry', $mc->get('past'), undef);

check('flush_all', b($mc->flush_all), 1);
check('get after flush', $mc->get('k1'), undef);
my $versions = $mc->server_versions;
check('server_versions', ($versions->{"$host:$port"} // '') =~ /^\d+\.\d+/ ? 1 : 0, 1);
$mc->disconnect_all;

print "Cache::Memcached::Fast: $passed checks passed, $failed failed\n";
exit($failed ? 1 : 0);
