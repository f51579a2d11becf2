#!/bin/sh
# layering_test.sh: shows that tests/layering.sh fails when it should, run
# by `make check`. It copies the layer table and a few sources into a scratch
# tree, requires a clean pass there, then breaks three rules (a runtime/
# file including the compiler, base/ including vm/, a file in no layer) and
# requires exit 1 with exactly those three messages.

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

tree=$tmp/tree
mkdir -p "$tree/docs" "$tree/base" "$tree/runtime/check" "$tree/vm"
for f in docs/architecture.md base/util.h base/util.c runtime/check/check.h \
    runtime/check/check.c vm/vm.h; do
    cp "$top_srcdir/$f" "$tree/$f" || exit 1
done

fail=0
# expect NAME RC EXPECTED-OUTPUT-FILE: run the check on the tree.
expect() {
    sh "$here/layering.sh" "$tree" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -ne "$2" ] || ! cmp -s "$3" "$tmp/out"; then
        echo "FAIL: layering_test: $1: exit $rc (want $2)"
        diff -u "$3" "$tmp/out"
        fail=1
    fi
}

: >"$tmp/none"
expect "clean copy" 0 "$tmp/none"

echo '#include "compiler/compile.h"' >>"$tree/runtime/check/check.c"
l1=$(wc -l <"$tree/runtime/check/check.c" | tr -d ' ')
echo '#include "vm/vm.h"' >>"$tree/base/util.h"
l2=$(wc -l <"$tree/base/util.h" | tr -d ' ')
echo '#include "base/util.h"' >"$tree/runtime/stray.c"
cat >"$tmp/want" <<EOF
runtime/stray.c:1: runtime/stray.c is in no layer of the table in docs/architecture.md
base/util.h:$l2: layer base may not include vm ("vm/vm.h")
runtime/check/check.c:$l1: layer runtime/check may not include compiler ("compiler/compile.h")
EOF
expect "broken layers" 1 "$tmp/want"

if [ "$fail" -eq 0 ]; then
    echo "layering_test: passed"
fi
exit "$fail"
