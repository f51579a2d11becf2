#!/bin/sh
# bytecode_doc.sh: docs/bytecode.md must be what vm/gendoc writes from the
# opcode table (vm/opcodes.def); run by `make check`. A difference prints
# the diff and the command that regenerates the page.
# top_srcdir and top_builddir default to this script's parent folder.

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$(dirname "$here")}"
gendoc=$top_builddir/vm/gendoc
doc=$top_srcdir/docs/bytecode.md

if [ ! -x "$gendoc" ]; then
    echo "bytecode_doc.sh: $gendoc not built" >&2
    exit 1
fi
tmp=$(mktemp "${TMPDIR:-/tmp}/bytecode-doc.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! "$gendoc" >"$tmp"; then
    echo "FAIL: bytecode_doc: $gendoc failed"
    exit 1
fi
if ! cmp -s "$doc" "$tmp"; then
    echo "FAIL: docs/bytecode.md is out of date against vm/gendoc's output:"
    diff -u "$doc" "$tmp"
    echo "regenerate it with: make docs/bytecode.md (or ./vm/gendoc > docs/bytecode.md)"
    exit 1
fi
echo "bytecode_doc: docs/bytecode.md is up to date"
