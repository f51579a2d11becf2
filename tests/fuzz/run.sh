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
# default 1), FUZZ_FLAGS (extra libFuzzer flags).
set -eu

secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-fuzz"
cc=${CC:-clang}
jobs=${JOBS:-1}
mkdir -p "$out"

flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=undefined -fno-omit-frame-pointer -I$top"

# Every source of liblarmor.a (nothing needs cli/main.c); the generated
# parser and lexer are compiled as they are.
lib="base/util.c base/diag.c base/units.c runtime/system/system.c runtime/system/sysconf.c \
 runtime/system/sysprint.c \
 grammar/parser.c grammar/lexer.c \
 compiler/compile.c compiler/value.c compiler/eval.c compiler/exec.c \
 vm/program.c vm/lbc_io.c vm/verify.c vm/disasm.c vm/vm.c vm/backend.c runtime/trace/trace.c runtime/check/check.c \
 base/md5.c runtime/pulseq/pulseq_read.c runtime/pulseq/pulseq_build.c"

build() {   # build NAME SOURCE [EXTRA FLAGS...]
    name=$1 src=$2
    shift 2
    echo "building $name"
    (cd "$top" && $cc $flags "$@" -o "$out/$name" $lib "$src" -lyaml -lm)
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
run() {   # run NAME
    name=$1 kind=${1#fuzz_}
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
