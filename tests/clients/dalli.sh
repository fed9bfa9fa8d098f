#!/bin/sh
# Ruby dalli (ruby, ruby-dalli) against a fresh mmem: binary protocol.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
ruby -e 'require "dalli"' 2>/dev/null || mm_client_skip "ruby-dalli (and ruby) not installed"
mm_client_run ruby "$(dirname "$0")/dalli_test.rb"
