/*
 * fuzz_lbc: libFuzzer entry point for the bytecode loader. Any input must
 * either be refused by lbc_read_buf or give a program that verifies, lists
 * (lbc_disasm) and frees without a crash, a leak or undefined behaviour.
 *
 * A random mutation almost never keeps the CRC-32 right, so each input is
 * tried twice: as it is (header checks), and with the header's payload
 * length and checksum recomputed (so mutations reach the payload parser
 * and the verifier).
 *
 * Build: clang -g -fsanitize=fuzzer,address,undefined -I. vm/program.c
 *        vm/lbc_io.c vm/verify.c vm/disasm.c base/util.c tests/fuzz_lbc.c
 * Seeds: tests/fuzz/lbc-seed/ (written by LARMOR_LBC_SEED_DIR=dir test_lbc);
 * crash reproducers are kept in tests/fuzz/lbc-regress/ and replayed by
 * tests/test_regress.c, which includes this file with LARMOR_FUZZ_NO_ENTRY
 * defined and calls fuzz_lbc_one(). tests/fuzz/run.sh builds and runs it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/check/check.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

int fuzz_lbc_one(const uint8_t *data, size_t size);

static FILE *devnull;

static void load(const uint8_t *data, size_t size)
{
    char err[512];
    struct lbc_program *p = lbc_read_buf(data, size, err, sizeof err);
    if (!p)
        return;
    if (lbc_verify(p, err, sizeof err) != 0)
        abort();               /* the reader returned an unverified program */
    if (devnull)
        lbc_disasm(p, devnull);
    /* play it (bounded) to the check backend: every check must cope with
       whatever a verified program can produce. 20,000 instructions are
       thousands of blocks, past the checks' every window and report; a
       cap of 200,000 found the same coverage (cov 1169 against 1171 on a
       683-file corpus) at a sixth of the speed (perf: the checks of
       programs that loop to the cap) */
    struct system sys;
    system_default(&sys);
    struct check *ck = check_new(&sys);
    struct vm_backend be;
    check_backend(ck, &be);
    struct vm_opts vo = { NULL, NULL, 20000 };
    vm_run_limited(p, &be, &vo, 20000, NULL);
    struct diag_ctx d;
    diag_init(&d);
    check_report(ck, p, &d);
    diag_fini(&d);
    check_free(ck);
    lbc_free(p);
}

/* Load one input as it is and with its header repaired. */
int fuzz_lbc_one(const uint8_t *data, size_t size)
{
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    load(data, size);
    if (size >= 28) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            return 0;
        memcpy(fixed, data, size);
        uint64_t plen = size - 28;
        uint32_t crc = crc32_update(0, fixed + 28, size - 28);
        /* the flags word, when not 0, follows the payload into the CRC */
        if (fixed[12] || fixed[13] || fixed[14] || fixed[15])
            crc = crc32_update(crc, fixed + 12, 4);
        for (int i = 0; i < 4; i++)
            fixed[16 + i] = (uint8_t)(crc >> (8 * i));
        for (int i = 0; i < 8; i++)
            fixed[20 + i] = (uint8_t)(plen >> (8 * i));
        load(fixed, size);
        free(fixed);
    }
    return 0;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_lbc_one(data, size);
}
#endif
