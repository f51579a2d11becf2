#!/bin/sh
# run.sh [SECONDS]: build the libFuzzer targets (fuzz_compile: the whole
# compiler from source text; fuzz_lbc: the bytecode loader; fuzz_system:
# the YAML scanner-description loader; fuzz_seq: the Pulseq .seq reader) with clang,
# ASan and UBSan, seed their corpora and run each for SECONDS (default 60).
#
# Everything goes into build-fuzz/ (ignored): the binaries, the corpora
# (corpus-compile/, corpus-lbc/, grown across runs) and the findings
# (crash-*, leak-*, timeout-*, oom-* under artifacts-*/). Minimise a finding with
#   build-fuzz/fuzz_compile -minimize_crash=1 -runs=10000 FILE
# and keep it as tests/fuzz/compile-regress/NAME.psq (or
# tests/fuzz/lbc-regress/NAME.bin, not .lbc, which git ignores); tests/test_regress.c replays those.
#
# Environment: CC (default clang), JOBS (parallel fuzzing jobs per target,
# default 1), FUZZ_FLAGS (extra libFuzzer flags), TARGETS (the targets to
# build and run, default all four: "fuzz_compile fuzz_lbc fuzz_system fuzz_seq").
set -eu

secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-fuzz"
cc=${CC:-clang}
jobs=${JOBS:-1}
targets=${TARGETS:-fuzz_compile fuzz_lbc fuzz_system fuzz_seq}
mkdir -p "$out"

flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=undefined -fno-omit-frame-pointer -I$top"

# Every C source of liblarmor.a, read from liblarmor_a_SOURCES in
# Makefile.am (its continuation lines; headers and the opcode table left
# out), so the list cannot fall behind the build; nothing needs cli/main.c.
# The generated parser and lexer are compiled as they are. OpenMP is left
# off (the sources guard it with _OPENMP): one thread per fuzzing job.
lib=$(awk '
    /^liblarmor_a_SOURCES[ \t]*=/ { on = 1; sub(/^[^=]*=/, "") }
    on {
        more = sub(/\\[ \t]*$/, "")
        for (i = 1; i <= NF; i++)
            if ($i ~ /\.c$/)
                printf "%s ", $i
        if (!more)
            exit
    }
' "$top/Makefile.am")
if [ -z "$lib" ]; then
    echo "run.sh: no liblarmor_a_SOURCES in $top/Makefile.am" >&2
    exit 1
fi
# The libraries' flags as configure finds them (configure.ac).
pkgs="yaml-0.1 fftw3f libpng cairo fontconfig hdf5 msgpack"
# shellcheck disable=SC2086  # word lists on purpose, as $flags and $lib below
pkg_cflags=$(pkg-config --cflags $pkgs)
pkg_libs="$(pkg-config --libs $pkgs) -lfftw3f_threads -lismrmrd -ldl -lpthread"
flags="$flags $pkg_cflags"

build() {   # build NAME SOURCE [EXTRA FLAGS...]: when TARGETS names it
    name=$1 src=$2
    shift 2
    case " $targets " in *" $name "*) ;; *) return 0 ;; esac
    echo "building $name"
    (cd "$top" && $cc $flags "$@" -o "$out/$name" $lib "$src" $pkg_libs -lm)
}
build fuzz_compile tests/fuzz_compile.c "-DLARMOR_FUZZ_STDLIB=\"$top/stdlib\""
build fuzz_lbc tests/fuzz_lbc.c
build fuzz_system tests/fuzz_system.c
build fuzz_seq tests/fuzz_seq.c

# Seeds: the sequences, the stdlib modules, the golden inputs, and earlier
# reproducers; for the loader the seed programs plus the regressions.
mkdir -p "$out/corpus-compile" "$out/corpus-lbc" "$out/artifacts-compile" "$out/artifacts-lbc" \
    "$out/corpus-system" "$out/artifacts-system" "$out/corpus-seq" "$out/artifacts-seq"
for f in "$top"/sequences/*.psq "$top"/stdlib/*.psq "$top"/tests/fuzz/compile-regress/*.psq; do
    [ -f "$f" ] && cp "$f" "$out/corpus-compile/"
done
if [ -d "$top/tests/golden" ]; then
    find "$top/tests/golden" -name '*.psq' | while read -r f; do
        cp "$f" "$out/corpus-compile/golden-$(echo "$f" | cksum | cut -d' ' -f1).psq"
    done
fi
for f in "$top"/tests/fuzz/lbc-seed/* "$top"/tests/fuzz/lbc-regress/*; do
    [ -f "$f" ] && cp "$f" "$out/corpus-lbc/"
done

# Run from build-fuzz/ so that an `import NAME` of the input ("fuzz.psq")
# finds no stray NAME.psq in the current folder, only the stdlib.
status=0
run() {   # run NAME: when TARGETS names it
    name=$1 kind=${1#fuzz_}
    case " $targets " in *" $name "*) ;; *) return 0 ;; esac
    echo "fuzzing $name for $secs s"
    par=
    [ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
    (cd "$out" && ./"$name" -max_len=8192 -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 $par \
        -artifact_prefix="artifacts-$kind/" ${FUZZ_FLAGS:-} "corpus-$kind") ||
        status=1
}
for f in "$top"/stdlib/systems/*.yaml "$top"/tests/golden/systems/*.yaml; do
    [ -f "$f" ] && cp "$f" "$out/corpus-system/"
done
run fuzz_compile
run fuzz_lbc
for f in "$top"/tests/data/pulseq/*/*.seq; do
    [ -f "$f" ] && cp "$f" "$out/corpus-seq/$(basename "$(dirname "$f")")-$(basename "$f")"
done
run fuzz_system
run fuzz_seq
ls "$out"/artifacts-compile "$out"/artifacts-lbc "$out"/artifacts-system "$out"/artifacts-seq
exit $status
