#!/bin/sh
# run.sh [RUNS]: run every benchmark program of bench/ and print its figures.
# `make bench` builds them and calls this with top_srcdir (the sources, for
# sequences/ and stdlib/) and top_builddir (where the programs were built);
# both default to the folder above this script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(dirname "$here")}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir
status=0
for src in "$top_srcdir"/bench/*.c; do
    name=$(basename "$src" .c)
    prog="$top_builddir/bench/$name"
    if [ ! -x "$prog" ]; then
        echo "bench: $prog is not built (make bench)" >&2
        status=1
        continue
    fi
    echo "== $name"
    "$prog" "$@" || status=1
done
exit $status
