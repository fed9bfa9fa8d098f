#!/bin/sh
# TLS (-Z) end to end: tls_test.py against mmem and, side by side, against
# memcached 1.6.18 when installed. Skips (77) in a build without TLS (its -h
# does not list --enable-ssl), or without python3 or the openssl command.
# Prefers a Python that has pymemcache, for its tls_context client.
set -u
here=$(dirname "$0")
bin=${MMEM_BIN:-}
if [ -z "$bin" ] || ! "$bin" -h 2>/dev/null | grep -q -- '--enable-ssl'; then
    echo "mmem built without TLS: skipped"
    exit 77
fi
if ! command -v "${OPENSSL_BIN:-openssl}" >/dev/null 2>&1; then
    echo "no openssl command to make test certificates: skipped"
    exit 77
fi
py=
for cand in python3 /usr/bin/python3; do
    if "$cand" -c "import pymemcache" 2>/dev/null; then
        py=$cand
        break
    fi
done
if [ -z "$py" ]; then
    for cand in python3 /usr/bin/python3; do
        if command -v "$cand" >/dev/null 2>&1; then
            py=$cand
            break
        fi
    done
fi
if [ -z "$py" ]; then
    echo "no python3: skipped"
    exit 77
fi
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
# Sanitizer builds shadow and quarantine memory: the RSS bound is looser.
MMEM_TLS_RSS_FACTOR=1
if ldd "$bin" 2>/dev/null | grep -q 'lib[at]san'; then
    MMEM_TLS_RSS_FACTOR=4
fi
export MMEM_TLS_RSS_FACTOR
exec timeout 240 "$py" -W ignore::DeprecationWarning "$here/tls_test.py" "$bin" "${MEMCACHED_BIN:-}"
