#!/bin/sh
# run_golden.sh: the golden tests, run by `make check`. Each case's output
# is compared byte for byte with its expected file; a mismatch prints a
# unified diff. GOLDEN_UPDATE=1 rewrites the expected files instead (review
# the changes with git diff before committing them); the cases it rewrites
# are counted apart, not as passed. No case is ever skipped: a case whose
# command fails counts as failed.
#
#   tests/golden/errors/*.psq, tests/golden/errors/*/main.psq
#       FILE.err = stderr of `larmor compile FILE`, then a line `exit: N`.
#       An optional first line `# args: ...` gives extra compile arguments.
#   tests/golden/disasm/*.psq
#       FILE.dis = `larmor disasm FILE.psq`; compiling to .lbc and
#       disassembling that must give the same text.
#   tests/golden/disasm/*.ref
#       one line naming a sequence elsewhere in the tree (sequences/...);
#       NAME.dis as above.
#   tests/golden/trace/*.args
#       FILE.trace = stdout of `larmor trace $(cat FILE.args)`.
#   tests/golden/check/*.args
#       FILE.out = stdout and stderr of `larmor check $(cat FILE.args)`,
#       then a line `exit: N`.
#   tests/golden/systems/*.yaml
#       FILE.out = stdout and stderr of `larmor system FILE`, then a line
#       `exit: N`.
#   tests/golden/systems/*.ref
#       one line of arguments to `larmor system` (a shipped system's name,
#       --list); NAME.out as above.
#   tests/golden/phantoms/*.yaml
#       FILE.out = stdout and stderr of `larmor phantom FILE`, then a line
#       `exit: N`.
#   tests/golden/phantoms/*.ref
#       one line of arguments to `larmor phantom` (a built-in phantom,
#       --res); NAME.out as above.
#   tests/golden/cli/*.args
#       FILE.out = stdout and stderr of `larmor $(cat FILE.args)` (a whole
#       command line: bad options and files of recon, scan, ...), then a
#       line `exit: N`; @TMP@ in the arguments is a scratch folder. An
#       optional FILE.env holds one line of NAME=VALUE words set in the
#       command's environment (LARMOR_MAX_MEMORY=1M).
#
# Run from the source tree so that diagnostics show paths relative to it.
# top_srcdir and top_builddir default to this script's parent folder.

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$here")}"
: "${top_builddir:=$(dirname "$here")}"
LARMOR="$top_builddir/larmor"
NO_COLOR=1
export NO_COLOR
unset LARMOR_STDLIB

cd "$top_srcdir" || exit 1
if [ ! -x "$LARMOR" ]; then
    echo "run_golden.sh: $LARMOR not built" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0
updated=0

# check NAME EXPECTED ACTUAL: compare (or update) one expected file.
check() {
    if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
        if [ ! -f "$2" ] || ! cmp -s "$2" "$3"; then
            cp "$3" "$2"
            echo "golden: updated $2"
        fi
        updated=$((updated + 1))
    elif [ ! -f "$2" ]; then
        echo "FAIL: $1: missing $2 (run with GOLDEN_UPDATE=1)"
        fail=$((fail + 1))
    elif cmp -s "$2" "$3"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $1"
        diff -u "$2" "$3"
        fail=$((fail + 1))
    fi
}

# --- diagnostics ---
for f in tests/golden/errors/*.psq tests/golden/errors/*/main.psq; do
    [ -f "$f" ] || continue
    args=
    first=$(sed -n '1p' "$f")
    case $first in
        "# args:"*) args=${first#"# args:"} ;;
    esac
    # shellcheck disable=SC2086  # args is a word list on purpose
    "$LARMOR" compile "$f" $args -o "$tmp/out.lbc" >"$tmp/stdout" 2>"$tmp/err"
    echo "exit: $?" >>"$tmp/err"
    check "$f" "${f%.psq}.err" "$tmp/err"
done

# --- disassembly, and the .psq -> .lbc -> listing round trip ---
for f in tests/golden/disasm/*.psq tests/golden/disasm/*.ref; do
    [ -f "$f" ] || continue
    case $f in
        *.ref) src=$(sed -n '1p' "$f"); exp=${f%.ref}.dis ;;
        *) src=$f; exp=${f%.psq}.dis ;;
    esac
    "$LARMOR" disasm "$src" >"$tmp/dis" 2>&1
    check "$f" "$exp" "$tmp/dis"
    if "$LARMOR" compile "$src" -o "$tmp/rt.lbc" >"$tmp/rt.out" 2>&1 &&
        "$LARMOR" disasm "$tmp/rt.lbc" >"$tmp/rt.dis" 2>&1 &&
        cmp -s "$tmp/dis" "$tmp/rt.dis"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $f: round trip through .lbc differs"
        cat "$tmp/rt.out"
        diff -u "$tmp/dis" "$tmp/rt.dis"
        fail=$((fail + 1))
    fi
done

# --- event traces ---
for f in tests/golden/trace/*.args; do
    [ -f "$f" ] || continue
    args=$(sed -n '1p' "$f")
    # shellcheck disable=SC2086
    "$LARMOR" trace $args >"$tmp/trace" 2>"$tmp/trace.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: $f: larmor trace exited $rc"
        cat "$tmp/trace.err"
        fail=$((fail + 1))
        continue
    fi
    check "$f" "${f%.args}.trace" "$tmp/trace"
done

# --- check reports ---
for f in tests/golden/check/*.args; do
    [ -f "$f" ] || continue
    args=$(sed -n '1p' "$f")
    # shellcheck disable=SC2086
    "$LARMOR" check $args >"$tmp/check" 2>&1
    echo "exit: $?" >>"$tmp/check"
    check "$f" "${f%.args}.out" "$tmp/check"
done

# --- scanner descriptions ---
for f in tests/golden/systems/*.yaml tests/golden/systems/*.ref; do
    [ -f "$f" ] || continue
    case $f in
        *.ref) args=$(sed -n '1p' "$f"); exp=${f%.ref}.out ;;
        *) args=$f; exp=${f%.yaml}.out ;;
    esac
    # shellcheck disable=SC2086
    "$LARMOR" system $args >"$tmp/sys" 2>&1
    echo "exit: $?" >>"$tmp/sys"
    check "$f" "$exp" "$tmp/sys"
done

# --- phantoms ---
for f in tests/golden/phantoms/*.yaml tests/golden/phantoms/*.ref; do
    [ -f "$f" ] || continue
    case $f in
        *.ref) args=$(sed -n '1p' "$f"); exp=${f%.ref}.out ;;
        *) args=$f; exp=${f%.yaml}.out ;;
    esac
    # shellcheck disable=SC2086
    "$LARMOR" phantom $args >"$tmp/ph" 2>&1
    echo "exit: $?" >>"$tmp/ph"
    check "$f" "$exp" "$tmp/ph"
done

# --- command lines: bad options and files ---
for f in tests/golden/cli/*.args; do
    [ -f "$f" ] || continue
    args=$(sed -n '1p' "$f" | sed "s|@TMP@|$tmp|g")
    vars=
    [ -f "${f%.args}.env" ] && vars=$(sed -n '1p' "${f%.args}.env")
    # shellcheck disable=SC2086
    env $vars "$LARMOR" $args 2>&1 | sed "s|$tmp|@TMP@|g" >"$tmp/cli"
    # shellcheck disable=SC2086
    echo "exit: $(env $vars "$LARMOR" $args >/dev/null 2>&1; echo $?)" >>"$tmp/cli"
    check "$f" "${f%.args}.out" "$tmp/cli"
done

if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
    echo "golden: $updated updated (not compared), $pass passed, $fail failed"
else
    echo "golden: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
