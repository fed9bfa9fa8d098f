# Ruby dalli 3 (binary protocol, the only one dalli 3.0 speaks) against HOST
# PORT: the client scenario (set, get, multi-get, incr, cas, delete, expiry).
require 'dalli'
require 'logger'

host, port = ARGV
Dalli.logger = Logger.new($stdout, level: Logger::WARN)
$passed = 0
$failed = 0

def check(what, got, want)
  if got == want
    $passed += 1
  else
    $failed += 1
    puts "FAIL: #{what}: got #{got.inspect}, want #{want.inspect}"
  end
end

# Poll for at most 4 s until key misses (a 1 s TTL ends within 2 s).
def gone(dc, key)
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 4
  sleep 0.1 while !dc.get(key).nil? && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
  dc.get(key).nil?
end

dc = Dalli::Client.new("#{host}:#{port}", socket_timeout: 5, socket_max_failures: 1)

check('set', dc.set('k1', 'hello').is_a?(Integer), true)
check('get', dc.get('k1'), 'hello')
check('get miss', dc.get('nope'), nil)
# Ruby objects are marshalled and marked in the flags; raw strings are not.
dc.set('obj', { 'a' => [1, 2] })
check('flags round-trip', dc.get('obj'), { 'a' => [1, 2] })
dc.set('raw', 'bytes', nil, raw: true)
check('raw value', dc.get('raw'), 'bytes')
dc.set('k2', "two\r\nlines")
dc.set('k3', 'x' * 100_000)
check('get_multi', dc.get_multi('k1', 'k2', 'k3', 'nope'),
      { 'k1' => 'hello', 'k2' => "two\r\nlines", 'k3' => 'x' * 100_000 })

# Counters are raw decimal strings; incr with an initial value creates one.
dc.set('n', '10', nil, raw: true)
check('incr', dc.incr('n', 5), 15)
check('decr', dc.decr('n', 20), 0)
check('incr miss', dc.incr('nope', 1), nil)
check('incr initial', dc.incr('created', 1, nil, 7), 7)
check('incr after initial', dc.incr('created', 1), 8)

value, token = dc.get_cas('k1')
check('get_cas', value, 'hello')
check('set_cas', dc.set_cas('k1', 'world', token).is_a?(Integer), true)
check('set_cas stale', dc.set_cas('k1', 'again', token), false)
check('get after cas', dc.get('k1'), 'world')
check('cas block', dc.cas('k1') { |v| v + '!' }.is_a?(Integer), true)
check('cas block miss', dc.cas('nope') { |v| v }, nil)
check('get after cas block', dc.get('k1'), 'world!')
check('add existing', dc.add('k1', 'v'), false)

check('delete', dc.delete('k2'), true)
check('get deleted', dc.get('k2'), nil)
check('delete again (nil: not found)', dc.delete('k2'), nil)

check('set ttl', dc.set('ttl', 'soon', 1).is_a?(Integer), true)
check('get before expiry', dc.get('ttl'), 'soon')
check('expired', gone(dc, 'ttl'), true)
dc.set('t', 'v')
check('touch', dc.touch('t', 1), true)
check('touched expiry', gone(dc, 't'), true)

check('flush', dc.flush.all? { |r| r }, true)
check('get after flush', dc.get('k1'), nil)
stats = dc.stats["#{host}:#{port}"]
check('stats cmd_set', stats['cmd_set'].to_i >= 10, true)
check('version', dc.version["#{host}:#{port}"].match?(/\A\d+\.\d+/), true)
dc.close

puts "dalli #{Dalli::VERSION}: #{$passed} checks passed, #{$failed} failed"
exit($failed.zero? ? 0 : 1)
