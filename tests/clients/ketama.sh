#!/bin/sh
# libmemcached's consistent hashing (pylibmc with ketama) over four fresh mmem
# instances: spread over three, and how many keys move when one is lost or a
# fourth is added (ketama_test.py, figures in doc/scaling.md).
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
mm_client_python pylibmc
mm_client_tmp
mm_client_servers 4
# shellcheck disable=SC2086 # a list of port numbers
timeout "$mm_client_limit" "$py" "$(dirname "$0")/ketama_test.py" 127.0.0.1 $mm_client_ports
rc=$?
mm_client_stop_servers || rc=1
exit $rc
