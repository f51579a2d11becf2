/*
 * fuzz_compile: libFuzzer entry point for the whole compiler. The input is
 * a sequence source ("fuzz.psq"); it is lexed, parsed, evaluated (stdlib
 * imports resolve, so the fuzzer reaches the rf/grad/readout helpers),
 * lowered and dry-run on the timing VM. Every diagnostic is rendered. If a
 * program comes back it must survive the bytecode round trip: written
 * with lbc_write_buf, read back and verified by lbc_read_buf, listed by
 * lbc_disasm. Nothing may crash, leak or hit undefined behaviour.
 *
 * Work is capped (compile_opts.max_work) so that inputs that legitimately
 * take long (a 10-million-element array, a loop of 1e12 blocks, an
 * exponential recursion) fail quickly with E0315 / E0648 instead of
 * timing out.
 *
 * The stdlib folder: $LARMOR_STDLIB, else -DLARMOR_FUZZ_STDLIB="dir", else
 * the compiler's default. Build and run: tests/fuzz/run.sh [SECONDS].
 * Crash reproducers are kept in tests/fuzz/compile-regress/ and replayed by
 * tests/test_regress.c, which includes this file with
 * LARMOR_FUZZ_NO_ENTRY defined and calls fuzz_compile_one().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/paths.h"
#include "compiler/compile.h"
#include "base/diag.h"
#include "base/util.h"
#include "vm/program.h"
#include "tests/fuzzutil.h"

/* The work cap of one fuzz input (evaluation steps; dry-run instructions):
   above the largest sequence in sequences/ (gre3d, 64 x 64 encodes: about
   250k instructions), which must still compile under it. */
#ifndef FUZZ_MAX_WORK
#define FUZZ_MAX_WORK 500000
#endif

int fuzz_compile_one(const uint8_t *data, size_t size);

static FILE *fc_devnull;

/* Compile one input and round-trip the program; returns 1 if a program
   came back, 0 if the compiler refused the input. Aborts on a broken
   round trip. */
int fuzz_compile_one(const uint8_t *data, size_t size)
{
    if (!fc_devnull)
        fc_devnull = fopen("/dev/null", "w");
    struct compile_opts o = { 0 };
    o.path = "fuzz.psq";
    o.stdlib_dir = fz_stdlib();
    o.max_work = FUZZ_MAX_WORK;
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_text(o.path, (const char *)data, size, &o, &d);
    if (getenv("FUZZ_DEBUG"))
        diag_print_all(&d, stderr, false);
    else if (fc_devnull)
        diag_print_all(&d, fc_devnull, false);
    int got = p != NULL;
    if (p) {
        unsigned char *buf = NULL;
        size_t len = 0;
        if (lbc_write_buf(p, &buf, &len) != 0)
            abort();            /* a compiled program must serialise */
        char err[512];
        struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
        if (!q) {
            fprintf(stderr, "fuzz_compile: the compiled program does not read back: %s\n",
                    err);
            abort();
        }
        if (fc_devnull)
            lbc_disasm(q, fc_devnull);
        lbc_free(q);
        free(buf);
        lbc_free(p);
    }
    diag_fini(&d);
    return got;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_compile_one(data, size);
    return 0;
}
#endif
