/*
 * testutil: small helpers shared by the CUnit suites: the stdlib folder, a
 * suite from a table of tests, scratch directories, whether an outside
 * program is installed, and the skip notes (a test that cannot run, in
 * whole or in part, says so here; tests/unit_main.c counts it as skipped,
 * not passed, and names it in the summary).
 */
#ifndef LARMOR_TESTUTIL_H
#define LARMOR_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>

/* One test of a suite: its name in the report and its function. */
struct test_def {
    const char *name;
    CU_TestFunc fn;
};

/* $top_srcdir/stdlib, or NULL (the compiler's default) without top_srcdir. */
const char *test_stdlib_dir(void);

/* Adds the suite, with its init and cleanup (either may be NULL), and its
   n tests; nonzero on failure. */
int test_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
                   const struct test_def *t, size_t n);

/* test_add_suite over a whole array of struct test_def, without and with
   init and cleanup. */
#define TEST_ADD_SUITE(name, arr) test_add_suite(name, NULL, NULL, arr, sizeof arr / sizeof arr[0])
#define TEST_ADD_FIXTURE_SUITE(name, init, cleanup, arr) \
    test_add_suite(name, init, cleanup, arr, sizeof arr / sizeof arr[0])

/* Makes a scratch directory $TMPDIR/larmor-TAG-XXXXXX (else under /tmp)
   into dir; 0 on success. */
int test_scratch_make(char *dir, size_t n, const char *tag);

/* Removes every file of the scratch directory. */
void test_scratch_clear(const char *dir);

/* Empties and removes the scratch directory; 0 on success. */
int test_scratch_remove(const char *dir);

/* Whether the program is found on PATH. */
bool test_have_program(const char *prog);

/* Notes that the running test skipped its work, in whole or in part, and why. */
void test_skip(const char *why);

/* The reasons the test (a CU_pTest) noted for skipping, or NULL when none. */
const char *test_skip_reason(const void *test);

/* Frees the skip notes. */
void test_skip_free(void);

#endif
