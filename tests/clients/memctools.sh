#!/bin/sh
# libmemcached's command-line tools (libmemcached-tools) against a fresh mmem.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
for tool in memccp memccat memcexist memcrm memctouch memcstat memcflush memcslap; do
    command -v $tool >/dev/null 2>&1 || mm_client_skip "$tool (libmemcached-tools) not installed"
done
mm_client_run sh "$(dirname "$0")/memctools_test.sh"
