/*
 * fuzz_seq: libFuzzer entry point for the Pulseq .seq reader
 * (runtime/pulseq/pulseq_read.c). Any input must import or be refused with
 * errors, without a crash, a leak or undefined behaviour; the reader must
 * report an error exactly when it returns NULL. An imported program is
 * played on the VM (with a bound on its work) and traced to /dev/null.
 *
 * Build and run: tests/fuzz/run.sh (seeds: tests/data/pulseq/). The CUnit
 * suite tests/test_pulseq.c feeds every prefix and many single-byte
 * corruptions of two test files through the same reader on every
 * `make check`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/diag.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/trace/trace.h"
#include "vm/vm.h"

int fuzz_seq_one(const uint8_t *data, size_t size);

static FILE *devnull;

int fuzz_seq_one(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct diag_ctx d;
    diag_init(&d);
    struct pulseq_read_opts o = { .strict = size & 1 };
    struct lbc_program *p = pulseq_read_buf("fuzz.seq", (const char *)data, size, &o, &d);
    if ((p == NULL) != (d.nerrors > 0))
        abort();
    if (p && devnull) {
        struct trace_ctx tc = { .out = devnull, .o = { .to_ns = -1, .last_block = UINT64_MAX,
                                                       .last_rep = UINT64_MAX } };
        struct vm_backend be;
        trace_backend(&be, &tc);
        vm_run_limited(p, &be, NULL, 1000000, NULL);
    }
    if (devnull)
        diag_print_all(&d, devnull, false);
    lbc_free(p);
    diag_fini(&d);
    return 0;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_seq_one(data, size);
}
#endif
