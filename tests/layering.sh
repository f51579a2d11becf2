#!/bin/sh
# layering.sh [ROOT]: the layer check, run by `make check`. It reads the
# layer table of ROOT/docs/architecture.md (the rows between the markers
# "<!-- layering table" and "<!-- end of layering table -->": a folder, then
# the folders it may include) and checks every #include "X/..." of every
# hand-written source file under ROOT's source folders (base grammar vm
# runtime compiler cli: *.c *.h *.y *.l *.def; the generated grammar/parser.c,
# grammar/parser.h and grammar/lexer.c are left out). An include that names a
# project folder must name the file's own layer or one its row lists; a
# file's layer, and an included header's, is the longest row that holds it
# (runtime/check/check.c is in runtime/check). Includes that name no project
# folder ("config.h", "parser.h") are not checked. A file in no row is a
# violation too.
#
# Prints each violation as FILE:LINE: MESSAGE and exits 1; exits 0 when
# there is none. ROOT defaults to this script's parent folder.
#
# POSIX sh, awk, grep, sed and find only.

here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(dirname "$here")}
doc=docs/architecture.md

cd "$root" || exit 2
[ -f "$doc" ] || { echo "layering.sh: no $root/$doc" >&2; exit 2; }

# scratch files: the table, the file list, the includes
tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# The table as lines "FOLDER ALLOWED...", header and rule rows left out.
awk '
    /<!-- layering table/ { on = 1; next }
    /<!-- end of layering table -->/ { on = 0 }
    on && /^\|/ {
        n = split($0, cell, "|")
        folder = cell[2]; allowed = cell[3]
        gsub(/^[ \t]+|[ \t]+$/, "", folder)
        gsub(/^[ \t]+|[ \t]+$/, "", allowed)
        if (folder == "folder" || folder ~ /^-+$/ || folder == "")
            next
        print folder, allowed
    }
' "$doc" >"$tmp/table"
if [ ! -s "$tmp/table" ]; then
    echo "$doc: no layering table between the markers" >&2
    exit 2
fi

# The hand-written sources, one path a line.
for d in base grammar vm runtime compiler cli; do
    [ -d "$d" ] || continue
    find "$d" -type f \( -name '*.c' -o -name '*.h' -o -name '*.y' -o -name '*.l' \
        -o -name '*.def' \) -print
done | grep -v -x -e grammar/parser.c -e grammar/parser.h -e grammar/lexer.c |
    LC_ALL=C sort >"$tmp/files"
[ -s "$tmp/files" ] || exit 0

# Each include of a project folder as "FILE:LINE:HEADER".
# shellcheck disable=SC2046  # the paths hold no blanks
grep -n -H -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/[^"]*"' \
    $(cat "$tmp/files") /dev/null |
    sed 's/^\([^:]*:[0-9]*\):.*"\([^"]*\)".*/\1:\2/' >"$tmp/includes"

awk -v files="$tmp/files" -v includes="$tmp/includes" -v doc="$doc" '
    # the longest row that holds path (a folder or a file), or ""
    function layer_of(path,    r, best) {
        best = ""
        for (r in allowed)
            if (index(path, r "/") == 1 && length(r) > length(best))
                best = r
        return best
    }
    BEGIN {
        project["base"]; project["grammar"]; project["vm"]; project["runtime"]
        project["compiler"]; project["cli"]; project["tests"]; project["bench"]
    }
    { row = $1; allowed[row] = " "; for (i = 2; i <= NF; i++) allowed[row] = allowed[row] $i " " }
    END {
        bad = 0
        while ((getline f < files) > 0) {
            own[f] = layer_of(f)
            if (own[f] == "") {
                printf "%s:1: %s is in no layer of the table in %s\n", f, f, doc
                bad = 1
            }
        }
        while ((getline line < includes) > 0) {
            # FILE:LINE:HEADER
            f = line; sub(/:.*/, "", f)
            rest = substr(line, length(f) + 2)
            ln = rest; sub(/:.*/, "", ln)
            hdr = substr(rest, length(ln) + 2)
            top = hdr; sub(/\/.*/, "", top)
            if (!(top in project) || own[f] == "")
                continue
            to = layer_of(hdr)
            if (to == "") {
                printf "%s:%s: \"%s\" is in no layer of the table in %s\n", f, ln, hdr, doc
                bad = 1
            } else if (to != own[f] && index(allowed[own[f]], " " to " ") == 0) {
                printf "%s:%s: layer %s may not include %s (\"%s\")\n", f, ln, own[f], to, hdr
                bad = 1
            }
        }
        exit bad
    }
' "$tmp/table"
