/*
 * fuzz_system: libFuzzer entry point for the scanner-description loader
 * (runtime/system/sysconf.c). Any input must load (and then print) or be refused
 * with errors, without a crash, a leak or undefined behaviour; the loader
 * must report an error exactly when it returns 1.
 *
 * Build and run: tests/fuzz/run.sh (seeds: stdlib/systems/ and
 * tests/golden/systems/). tests/test_system.c feeds every prefix and many
 * single-byte corruptions of the shipped files through the same loader on
 * every `make check`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/diag.h"
#include "runtime/system/system.h"

int fuzz_system_one(const uint8_t *data, size_t size);

static FILE *devnull;

int fuzz_system_one(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct diag_ctx d;
    diag_init(&d);
    struct system s;
    int rc = system_load_text("fuzz.yaml", (const char *)data, size, &s, &d);
    if ((rc != 0) != (d.nerrors > 0))
        abort();
    if (rc == 0 && devnull)
        system_print(&s, devnull);
    if (devnull)
        diag_print_all(&d, devnull, false);
    diag_fini(&d);
    return 0;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_system_one(data, size);
}
#endif
