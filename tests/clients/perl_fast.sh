#!/bin/sh
# Perl Cache::Memcached::Fast (libcache-memcached-fast-perl) against a fresh
# mmem: text protocol.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
perl -MCache::Memcached::Fast -e 1 2>/dev/null ||
    mm_client_skip "Cache::Memcached::Fast (libcache-memcached-fast-perl) not installed"
mm_client_run perl "$(dirname "$0")/perl_fast_test.pl"
