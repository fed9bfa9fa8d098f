#!/bin/sh
# Check the man page: it must format without groff warnings, and when the
# mmem binary is built ($MMEM_BIN), every option that "mmem -h" prints must
# be documented in it. Exits 77 (skip) when groff is not installed.
set -eu
. "$(dirname "$0")/lib.sh"
src=$(mm_srcdir)
man="$src/doc/mmem.1"
[ -f "$man" ] || mm_die "no $man"
if ! command -v groff >/dev/null 2>&1; then
    echo "check-man: groff not installed, skipping"
    exit 77
fi

bad=0
warn=$(groff -man -Tutf8 -ww "$man" 2>&1 >/dev/null || echo "groff exited non-zero")
if [ -n "$warn" ]; then
    printf 'doc/mmem.1: groff warnings:\n%s\n' "$warn" >&2
    bad=1
fi

bin=${MMEM_BIN:-}
n=0
if [ -n "$bin" ] && [ -x "$bin" ] && help=$("$bin" -h 2>&1); then
    # Options as "mmem -h" lists them at the start of a line: "-p, --port=...".
    for opt in $(printf '%s\n' "$help" | sed -n 's/^ *\(-[A-Za-z]\)[, ].*/\1/p' | sort -u); do
        n=$((n + 1))
        # In roff the dash is written \-.
        if ! grep -q -- "\\\\$opt\\b" "$man"; then
            echo "doc/mmem.1: option $opt (from mmem -h) is not documented" >&2
            bad=1
        fi
    done
    # Long options: "-p, --port=<num>" or "    --ready-fd=<fd>".
    for opt in $(printf '%s\n' "$help" |
        sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}\(--[A-Za-z][A-Za-z_-]*\).*/\2/p' | sort -u); do
        n=$((n + 1))
        roff=$(printf '%s\n' "$opt" | sed 's/-/\\-/g')
        if ! grep -q -F -- "$roff" "$man"; then
            echo "doc/mmem.1: option $opt (from mmem -h) is not documented" >&2
            bad=1
        fi
    done
fi

[ $bad -eq 0 ] || exit 1
echo "check-man: ok ($n options from mmem -h checked)"
