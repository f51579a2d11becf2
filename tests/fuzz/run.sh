#!/bin/sh
# run.sh [build | SECONDS]: build the libFuzzer targets (every tests/fuzz_*.c)
# with clang, ASan and UBSan, seed their corpora and run each for SECONDS
# (default 60). `run.sh build` only builds. `make fuzz` calls `run.sh build`
# with the flags configure found; `make fuzz-run FUZZ_SECONDS=N` runs them.
#
# Targets (docs/reliability.md lists what each covers and the campaign):
#   fuzz_compile  the whole compiler from .psq source text
#   fuzz_lbc      the .lbc bytecode loader and verifier
#   fuzz_system   the YAML scanner-description loader
#   fuzz_seq      the Pulseq .seq reader, then the VM on what it imports
#   fuzz_raw      raw ISMRMRD files (written by libismrmrd from the input),
#                 read, checked and reconstructed as larmor recon does
#   fuzz_rawxml   the raw files' XML header alone (parse, write, parse)
#   fuzz_phantom  YAML, JEMRIS .h5 and KomaMRI .phantom phantoms (HDF5
#                 files built from the input)
#   fuzz_cli      the larmor command on argument vectors (NUL-separated),
#                 in a scratch folder with a small sequence and phantom
#   fuzz_marcos   the MaRCoS driver's client: the replies of a fake server
#                 (a thread on 127.0.0.1) to a run and its safe stop
#   ... and every other tests/fuzz_NAME.c: a new target needs only its file
#   (with fuzz_NAME_one and an LLVMFuzzerTestOneInput under
#   #ifndef LARMOR_FUZZ_NO_ENTRY), and an arm in seed_target below.
#
# Everything goes into build-fuzz/ (ignored; FUZZ_OUT to move it): obj/ (the
# library compiled once with -fsanitize=fuzzer-no-link), the binaries, the
# corpora (corpus-NAME/, grown across runs), the findings (crash-*, leak-*,
# timeout-*, oom-* under artifacts-NAME/), one log per run (log-NAME.txt) and
# campaign.tsv, one line per target run: UTC date, commit, target, seconds,
# execs, execs/s, coverage (cov), features (ft), corpus files, findings,
# peak RSS (MB).
# tests/fuzz/campaign.py FILE.tsv... prints those lines as the Markdown
# tables of docs/reliability.md's campaign section.
# Minimise a finding with
#   build-fuzz/fuzz_NAME -minimize_crash=1 -runs=10000 FILE
# and keep it under tests/fuzz/NAME-regress/ (binary files: not named .lbc,
# which git ignores); tests/test_regress.c replays those on every make check.
#
# Environment: CC (default clang), JOBS (parallel fuzzing jobs per target,
# default 1), FUZZ_FLAGS (extra libFuzzer flags), TARGETS (the targets, by
# default every tests/fuzz_*.c), FUZZ_CPPFLAGS / FUZZ_PKG_CFLAGS / FUZZ_LIBS
# (what make passes from configure; without them pkg-config is asked).
set -eu

mode=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
bld=${FUZZ_BUILDDIR:-$top}
out=${FUZZ_OUT:-$top/build-fuzz}
cc=${CC:-clang}
jobs=${JOBS:-1}
if [ -z "${TARGETS:-}" ]; then
    TARGETS=
    for f in "$top"/tests/fuzz_*.c; do
        n=$(basename "$f" .c)
        TARGETS="$TARGETS $n"
    done
fi
targets=$TARGETS
case $mode in
build) secs=0 ;;
*[!0-9]* | '')
    echo "usage: run.sh [build | SECONDS]" >&2
    exit 2
    ;;
*) secs=$mode ;;
esac
mkdir -p "$out/obj"

# The libraries' flags: as configure found them (make passes them), else
# pkg-config's, for a run by hand.
pkgs="yaml-0.1 fftw3f libpng cairo fontconfig hdf5 msgpack libxml-2.0"
# shellcheck disable=SC2086  # word lists on purpose, here and below
cppflags=${FUZZ_CPPFLAGS:-"-I$top -I$bld -D_GNU_SOURCE"}
pkg_cflags=${FUZZ_PKG_CFLAGS:-$(pkg-config --cflags $pkgs)}
libs=${FUZZ_LIBS:-"$(pkg-config --libs $pkgs) -lfftw3f_threads -lismrmrd -ldl -lpthread -lm"}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 -std=c11 -fno-math-errno $san $cppflags $pkg_cflags"

# Every C source of liblarmor.a, read from liblarmor_a_SOURCES in
# Makefile.am (its continuation lines; headers and the opcode table left
# out), so the list cannot fall behind the build; fuzz_cli adds the
# command's own sources (larmor_SOURCES) but its process entry.
# The generated parser and lexer come from the build folder. OpenMP is left
# off (the sources guard it with _OPENMP): one thread per fuzzing job.
sources_of() {   # sources_of VAR: the .c files of VAR_SOURCES in Makefile.am
    awk -v var="$1" '
    $0 ~ "^" var "_SOURCES[ \t]*=" { on = 1; sub(/^[^=]*=/, "") }
    on {
        more = sub(/\\[ \t]*$/, "")
        for (i = 1; i <= NF; i++)
            if ($i ~ /\.c$/)
                printf "%s ", $i
        if (!more)
            exit
    }
' "$top/Makefile.am"
}
lib=$(sources_of liblarmor_a)
# the command's own sources (for fuzz_cli), less its process entry
cli=$(sources_of larmor | tr ' ' '\n' | grep -v '^cli/larmor\.c$' | tr '\n' ' ')
if [ -z "$lib" ]; then
    echo "run.sh: no liblarmor_a_SOURCES in $top/Makefile.am" >&2
    exit 1
fi

# up_to_date OBJ DEPFILE: the object is newer than every file its
# dependency list (clang -MMD) names.
up_to_date() {
    [ -f "$1" ] && [ -f "$2" ] || return 1
    for d in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$2"); do
        [ "$d" -nt "$1" ] && return 1
    done
    return 0
}

# source_flags SRC: extra compiler flags of one library source. The lexer
# and parser that Flex and Bison generate keep their edge coverage but not
# libFuzzer's comparison hooks (trace-cmp): their table-driven automata
# compare table entries, not input bytes with constants. On an input that
# only imports rf, grad and readout, the hooks were 55 % of the time (perf)
# and the input took 2.7 ms; without them in the automata, 1.2 ms.
source_flags() {
    case $1 in
    grammar/lexer.c | grammar/parser.c) echo "-fno-sanitize-coverage=trace-cmp" ;;
    esac
}

# The library, compiled once for every target (instrumented for coverage,
# not linked with libFuzzer's main).
objs= cliobjs=
for src in $lib $cli; do
    path=$top/$src
    [ -f "$bld/$src" ] && path=$bld/$src
    if [ ! -f "$path" ]; then
        echo "run.sh: $src not found (run make first: the parser is generated)" >&2
        exit 1
    fi
    obj=$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
    case " $cli " in
    *" $src "*) cliobjs="$cliobjs $obj" ;;
    *) objs="$objs $obj" ;;
    esac
    up_to_date "$obj" "${obj%.o}.d" && continue
    echo "  CC  $src"
    # shellcheck disable=SC2046
    $cc $cflags -fsanitize=fuzzer-no-link $(source_flags "$src") -MMD -MF "${obj%.o}.d" \
        -c -o "$obj" "$path"
done
rm -f "$out/liblarmor-fuzz.a"
ar rcs "$out/liblarmor-fuzz.a" $objs

target_flags() {   # target_flags NAME: extra compiler flags of one target
    case $1 in
    fuzz_compile | fuzz_marcos) echo "-DLARMOR_FUZZ_STDLIB=\"$top/stdlib\"" ;;
    fuzz_cli) echo "-DLARMOR_FUZZ_TOP=\"$top\"" ;;
    esac
}

target_objs() {   # target_objs NAME: objects a target needs beyond the library
    case $1 in
    fuzz_cli) echo "$cliobjs" ;;
    esac
}

for name in $targets; do
    src=$top/tests/$name.c
    if [ ! -f "$src" ]; then
        echo "run.sh: no target $name (tests/$name.c)" >&2
        exit 1
    fi
    echo "  LINK $name"
    # shellcheck disable=SC2046
    $cc $cflags -fsanitize=fuzzer $(target_flags "$name") -o "$out/$name" "$src" \
        $(target_objs "$name") "$out/liblarmor-fuzz.a" $libs
done
[ "$mode" = build ] && exit 0

copy_seeds() {   # copy_seeds DIR FILE...: existing regular files, named uniquely
    dir=$1
    shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
    done
}

seed_target() {   # seed_target NAME DIR: the seed corpus of one target
    name=$1 dir=$2
    case $name in
    fuzz_compile)
        copy_seeds "$dir" "$top"/sequences/*.psq "$top"/stdlib/*.psq \
            "$top"/tests/fuzz/compile-regress/*.psq
        find "$top/tests/golden" -name '*.psq' | while read -r f; do
            cp "$f" "$dir/golden-$(echo "$f" | cksum | cut -d' ' -f1).psq"
        done
        ;;
    fuzz_lbc) copy_seeds "$dir" "$top"/tests/fuzz/lbc-seed/* "$top"/tests/fuzz/lbc-regress/* ;;
    fuzz_system)
        copy_seeds "$dir" "$top"/stdlib/systems/*.yaml "$top"/tests/golden/systems/*.yaml
        ;;
    fuzz_seq) copy_seeds "$dir" "$top"/tests/data/pulseq/*/*.seq ;;
    fuzz_phantom)
        # the HDF5 programs, and every YAML phantom behind its kind byte '0'
        copy_seeds "$dir" "$top"/tests/fuzz/phantom-seed/* "$top"/tests/fuzz/phantom-regress/*
        for f in "$top"/tests/golden/phantoms/*.yaml "$top"/tests/data/jemris/*.yaml; do
            { printf 0; cat "$f"; } >"$dir/yaml-$(basename "$f")"
        done
        ;;
    *)
        # a new target: its own seeds and regressions, if it has them
        kind=${name#fuzz_}
        copy_seeds "$dir" "$top/tests/fuzz/$kind-seed"/* "$top/tests/fuzz/$kind-regress"/*
        ;;
    esac
}

# Run from build-fuzz/ so that an `import NAME` of a .psq input finds no
# stray NAME.psq in the current folder, only the stdlib.
status=0
for name in $targets; do
    kind=${name#fuzz_}
    corpus=$out/corpus-$kind
    mkdir -p "$corpus" "$out/artifacts-$kind"
    seed_target "$name" "$corpus"
    dict=
    [ -f "$top/tests/fuzz/$kind.dict" ] && dict="-dict=$top/tests/fuzz/$kind.dict"
    par=
    [ "$jobs" -gt 1 ] && par="-fork=$jobs"
    before=$(ls "$out/artifacts-$kind" | wc -l)
    echo "fuzzing $name for $secs s"
    log=$out/log-$kind.txt
    rc=0
    (cd "$out" && ./"$name" -max_len=8192 -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 $par $dict \
        -artifact_prefix="artifacts-$kind/" ${FUZZ_FLAGS:-} "corpus-$kind") >"$log" 2>&1 ||
        rc=$?
    after=$(ls "$out/artifacts-$kind" | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    files=$(ls "$corpus" | wc -l)
    rate=$(awk -v e="${execs:-0}" -v s="$secs" 'BEGIN { printf "%.0f", s ? e / s : 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')" "$name" \
        "$secs" "${execs:-?}" "$rate" "${cov:-?}" "${ft:-?}" "$files" \
        "$((after - before))" "${rss:-?}" >>"$out/campaign.tsv"
    echo "  $name: ${execs:-?} execs ($rate/s), cov ${cov:-?}, ft ${ft:-?}, corpus $files," \
        "findings $((after - before)), rc $rc"
    if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
        status=1
        tail -n 40 "$log"
    fi
done
exit $status
