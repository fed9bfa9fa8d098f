#!/bin/sh
# Tests for the checkers themselves: each must pass a clean tree and fail a
# tree with one planted violation, so a checker that silently accepts
# everything fails make check.
set -eu
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
runs=0

# mktree DIR: a minimal tree that obeys every rule.
mktree()
{
    mkdir -p "$1/include/mmem" "$1/src/core" "$1/src/ev" "$1/src/store" "$1/src/proto" \
        "$1/src/cmd" "$1/src/net" "$1/tests/unit"
    printf '#ifndef MMEM_LOG_H\n#define MMEM_LOG_H\nvoid mm_log_x(void);\n#endif\n' \
        >"$1/include/mmem/log.h"
    printf '#ifndef MMEM_EV_H\n#define MMEM_EV_H\n#include "mmem/log.h"\n#endif\n' \
        >"$1/include/mmem/ev.h"
    printf '#ifndef MMEM_STORE_H\n#define MMEM_STORE_H\n#include <stddef.h>\nsize_t mm_store_x(void);\n#endif\n' \
        >"$1/include/mmem/store.h"
    printf '#include "mmem/log.h"\n' >"$1/src/core/log.c"
    printf '#include "mmem/ev.h"\n#include <event2/event.h>\n#include "ev_backend.h"\n' \
        >"$1/src/ev/ev_libevent.c"
    printf '#include "mmem/store.h"\n#include "mmem/log.h"\n' >"$1/src/store/store.c"
    printf '#ifndef MMEM_ITEM_INT_H\n#define MMEM_ITEM_INT_H\n#endif\n' >"$1/src/store/item_int.h"
    printf '#include "mmem/store.h"\n#include "store/item_int.h"\n' \
        >"$1/tests/unit/check_store.c"
    printf '#include "mmem/store.h"\n#include "mmem/ev.h"\n' >"$1/src/net/conn.c"
    printf '#include "mmem/store.h"\n#include "mmem/ev.h"\n' >"$1/src/main.c"
}

# expect WANT NAME CMD...: run CMD, want "pass" or "fail".
expect()
{
    want=$1
    name=$2
    shift 2
    runs=$((runs + 1))
    if "$@" >"$tmp/out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "ok $runs - $name"
    else
        echo "not ok $runs - $name (wanted $want, got $got)"
        sed 's/^/    /' "$tmp/out"
        fails=$((fails + 1))
    fi
}

# plant NAME FILE LINE: fresh tree with LINE appended to FILE; check-deps must fail.
plant()
{
    d="$tmp/$1"
    mktree "$d"
    mkdir -p "$(dirname "$d/$2")"
    printf '%s\n' "$3" >>"$d/$2"
    expect fail "check-deps rejects: $1" "$here/check-deps.sh" "$d"
    # ... and for the planted line, not for some other reason.
    runs=$((runs + 1))
    if grep -q "^$2: " "$tmp/out" && [ "$(grep -c '^[^ ]*\.[ch]: ' "$tmp/out")" -eq 1 ]; then
        echo "ok $runs - check-deps names $2 only"
    else
        echo "not ok $runs - check-deps names $2 only"
        sed 's/^/    /' "$tmp/out"
        fails=$((fails + 1))
    fi
}

mktree "$tmp/clean"
expect pass "check-deps accepts a clean tree" "$here/check-deps.sh" "$tmp/clean"
plant store-ev src/store/store.c '#include "mmem/ev.h"'
plant proto-libevent src/proto/text.c '#include <event2/event.h>'
plant proto-store src/proto/text.c '#  include <mmem/store.h>'
plant core-store src/core/log.c '#include "mmem/store.h"'
plant ev-store src/ev/ev.c '#include "mmem/store.h"'
plant cmd-ev src/cmd/cmd.c '#include "mmem/ev.h"'
plant private-other-area src/cmd/cmd.c '#include "store/item_int.h"'
plant climb-out src/cmd/cmd.c '#include "../store/item_int.h"'
plant backend-table src/net/conn.c '#include "mmem/ev_backend.h"'
plant header-upward include/mmem/log.h '#include "mmem/store.h"'
plant unit-test-upward tests/unit/check_store.c '#include "mmem/ev.h"'
plant unknown-header include/mmem/zzz.h '/* no module */'

# A public header not in the table belongs to the area implementing it.
mktree "$tmp/impl"
printf '#ifndef MMEM_SERVER_H\n#define MMEM_SERVER_H\n#endif\n' >"$tmp/impl/include/mmem/server.h"
printf '#include "mmem/server.h"\n' >"$tmp/impl/src/net/server.c"
printf '#include "mmem/server.h"\n' >>"$tmp/impl/src/main.c"
expect pass "check-deps places a header by its implementation" "$here/check-deps.sh" "$tmp/impl"
printf '#include "mmem/server.h"\n' >>"$tmp/impl/src/cmd/cmd.c"
expect fail "check-deps holds that header to its area's rules" "$here/check-deps.sh" "$tmp/impl"

expect pass "check-headers accepts self-contained headers" "$here/check-headers.sh" "$tmp/clean"
mktree "$tmp/hdr"
printf '#ifndef MMEM_X_H\n#define MMEM_X_H\nstruct a { size_t n; };\n#endif\n' \
    >"$tmp/hdr/include/mmem/x.h"
expect fail "check-headers rejects a header missing an include" "$here/check-headers.sh" "$tmp/hdr"
mktree "$tmp/guard"
printf 'struct g { int n; };\n' >"$tmp/guard/include/mmem/g.h"
expect fail "check-headers rejects a header without a guard" "$here/check-headers.sh" "$tmp/guard"
mktree "$tmp/priv"
printf '#ifndef MMEM_SLAB_INT_H\n#define MMEM_SLAB_INT_H\nstruct s { uint32_t n; };\n#endif\n' \
    >"$tmp/priv/src/store/slab_int.h"
expect fail "check-headers checks private headers" "$here/check-headers.sh" "$tmp/priv"
expect pass "check-headers --public skips them" "$here/check-headers.sh" --public "$tmp/priv"

# check-man: a binary whose -h lists an undocumented option must fail it.
if command -v groff >/dev/null 2>&1; then
    printf '#!/bin/sh\necho "-p, --port=<num>   TCP port"\n' >"$tmp/help-ok"
    printf '#!/bin/sh\necho "-p, --port=<num>   TCP port"\necho "-Q, --quux     undocumented"\n' \
        >"$tmp/help-bad"
    chmod +x "$tmp/help-ok" "$tmp/help-bad"
    expect pass "check-man accepts documented options" env MMEM_BIN="$tmp/help-ok" "$here/check-man.sh"
    expect fail "check-man rejects an undocumented option" env MMEM_BIN="$tmp/help-bad" \
        "$here/check-man.sh"
    printf '#!/bin/sh\necho "-p, --port=<num>   TCP port"\necho "    --quux-only=<n>   undocumented"\n' \
        >"$tmp/help-bad-long"
    chmod +x "$tmp/help-bad-long"
    expect fail "check-man rejects an undocumented long option" \
        env MMEM_BIN="$tmp/help-bad-long" "$here/check-man.sh"
fi

# run.sh: the arguments it adds, and that it leaves the caller's alone.
runs=$((runs + 1))
got=$(MMEM_RUN_DRY=1 "$here/run.sh")
case $got in
"mmem "*"-l 127.0.0.1 -p 11211") ok=yes ;;
*) ok=no ;;
esac
if mm_is_root; then
    case $got in
    "mmem -u "*) ;;
    *) ok=no ;;
    esac
fi
if [ $ok = yes ]; then echo "ok $runs - run.sh defaults"; else
    echo "not ok $runs - run.sh defaults: $got"
    fails=$((fails + 1))
fi
runs=$((runs + 1))
got=$(MMEM_RUN_DRY=1 "$here/run.sh" -u nobody --listen=::1 -p12345 -vv)
if [ "$got" = "mmem -u nobody --listen=::1 -p12345 -vv" ]; then
    echo "ok $runs - run.sh keeps the caller's -u, -l and -p"
else
    echo "not ok $runs - run.sh keeps the caller's -u, -l and -p: $got"
    fails=$((fails + 1))
fi

echo "$((runs - fails)) passed, $fails failed"
[ $fails -eq 0 ]
