#!/bin/sh
# PHP's memcached extension (php-cli, php-memcached) against a fresh mmem,
# over the text protocol and then the binary protocol.
# shellcheck source=tests/clients/lib.sh
. "$(dirname "$0")/lib.sh"
php -r 'exit(class_exists("Memcached") ? 0 : 1);' 2>/dev/null ||
    mm_client_skip "PHP's memcached extension (php-cli php-memcached) not installed"
mm_client_run php "$(dirname "$0")/php_memcached_test.php"
