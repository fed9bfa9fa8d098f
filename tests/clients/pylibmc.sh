#!/bin/sh
# Python pylibmc (python3-pylibmc, on libmemcached) against a fresh mmem,
# over the text protocol and then the binary protocol.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
mm_client_python pylibmc
mm_client_run "$py" "$(dirname "$0")/pylibmc_test.py"
