#!/bin/sh
# sizes.sh [ROOT]: the size check, run by `make check`. No hand-written
# source file (*.c *.h *.y *.l *.def under base grammar vm runtime compiler
# cli tests bench) may be over 1,200 lines, and no function over 150 lines,
# counted from its opening { in column 0 to its closing } in column 0, both
# lines included. The VM's dispatch loop (vm_run_limited in vm/vm.c) is
# exempt, and the generated grammar/parser.c, grammar/parser.h and
# grammar/lexer.c are left out.
#
# Prints each excess as FILE:LINE: MESSAGE and exits 1; exits 0 when there
# is none. ROOT defaults to this script's parent folder.

here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(dirname "$here")}
max_file=1200
max_func=150

cd "$root" || exit 2

# shellcheck disable=SC2046  # the paths hold no blanks
files=$(for d in base grammar vm runtime compiler cli tests bench; do
    [ -d "$d" ] || continue
    find "$d" -type f \( -name '*.c' -o -name '*.h' -o -name '*.y' -o -name '*.l' \
        -o -name '*.def' \) -print
done | grep -v -x -e grammar/parser.c -e grammar/parser.h -e grammar/lexer.c | LC_ALL=C sort)
[ -n "$files" ] || exit 0

# shellcheck disable=SC2086
awk -v max_file="$max_file" -v max_func="$max_func" '
    function file_done() {
        if (name != "" && lines > max_file + 0) {
            printf "%s:%d: %d lines, over %d\n", name, lines, lines, max_file
            bad = 1
        }
    }
    FNR == 1 { file_done(); name = FILENAME; open = 0; func = "" }
    { lines = FNR }
    # the last line that starts a declarator in column 0: NAME(
    /^[A-Za-z_][^;=]*[A-Za-z_0-9][ \t]*\(/ && !/^(if|for|while|switch|return)[ \t(]/ {
        s = $0
        sub(/[ \t]*\(.*/, "", s)
        sub(/.*[^A-Za-z_0-9]/, "", s)
        func = s
    }
    /^\{/ { open = FNR; ofunc = func }
    /^\}/ && open {
        n = FNR - open + 1
        if (n > max_func + 0 && !(name == "vm/vm.c" && ofunc == "vm_run_limited")) {
            printf "%s:%d: function %s is %d lines, over %d\n", name, open, ofunc, n, max_func
            bad = 1
        }
        open = 0
    }
    END { file_done(); exit bad }
' $files
