#!/bin/sh
# Python pymemcache (python3-pymemcache) against a fresh mmem: text protocol.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
mm_client_python pymemcache
mm_client_run "$py" "$(dirname "$0")/pymemcache_test.py"
