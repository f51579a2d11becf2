/*
 * unit_main: runs every CUnit suite of Larmor and ends with the summary. It
 * runs the tests through CUnit's handlers rather than its basic interface so
 * that a test that skipped its work (tests/testutil.c's test_skip) is counted
 * as skipped, not passed, and named at the end; failures are printed as
 * each test completes, as CUnit's basic interface prints them.
 */
#include <CUnit/CUnit.h>
#include <CUnit/TestRun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

int register_lbc_tests(void);
int register_lang_tests(void);
int register_lang_events_tests(void);
int register_lang_timing_tests(void);
int register_units_tests(void);
int register_regress_tests(void);
int register_system_tests(void);
int register_check_tests(void);
int register_phantom_tests(void);
int register_rawdata_tests(void);
int register_bloch_tests(void);
int register_recon_tests(void);
int register_image_tests(void);
int register_image_interop_tests(void);
int register_sequences_tests(void);
int register_plot_tests(void);
int register_pulseq_tests(void);
int register_marcos_tests(void);
int register_marcos_emu_tests(void);
int register_wave_tests(void);
int register_membudget_tests(void);

/* The tally of the run: what CUnit's summary has, plus the skipped tests
   (suite and test, which the registry owns, in the order they ran). */
static unsigned um_passed, um_failed, um_skipped;
static CU_pSuite um_skip_suite[512];
static CU_pTest um_skip_test[512];

static void um_test_complete(const CU_pTest test, const CU_pSuite suite,
                             const CU_pFailureRecord failure)
{
    if (failure) {
        um_failed++;
        printf("\nSuite %s, Test %s had failures:\n", suite->pName, test->pName);
        int i = 1;
        for (CU_pFailureRecord f = failure; f; f = f->pNext, i++)
            printf("    %d. %s:%u  - %s\n", i, f->strFileName ? f->strFileName : "",
                   f->uiLineNumber, f->strCondition ? f->strCondition : "");
    } else if (test_skip_reason(test)) {
        if (um_skipped < sizeof um_skip_test / sizeof um_skip_test[0]) {
            um_skip_suite[um_skipped] = suite;
            um_skip_test[um_skipped] = test;
        }
        um_skipped++;
    } else {
        um_passed++;
    }
}

static void um_suite_init_failure(const CU_pSuite suite)
{
    printf("\nWARNING - Suite initialization failed for '%s'.\n", suite->pName);
}

static void um_suite_cleanup_failure(const CU_pSuite suite)
{
    printf("\nWARNING - Suite cleanup failed for '%s'.\n", suite->pName);
}

/* The summary: suites, tests (passed, failed, skipped) and assertions, then
   the skipped tests by name with their reasons. */
static void um_summary(void)
{
    const CU_RunSummary *r = CU_get_run_summary();
    printf("\n\nRun Summary:    Type    Ran Passed Failed Skipped Inactive\n");
    printf("%20s %6u %6s %6u %7s %8u\n", "suites", r->nSuitesRun, "n/a", r->nSuitesFailed,
           "n/a", r->nSuitesInactive);
    printf("%20s %6u %6u %6u %7u %8u\n", "tests", r->nTestsRun, um_passed, um_failed,
           um_skipped, r->nTestsInactive);
    printf("%20s %6u %6u %6u %7s %8s\n", "asserts", r->nAsserts,
           r->nAsserts - r->nAssertsFailed, r->nAssertsFailed, "n/a", "n/a");
    printf("\nElapsed time = %8.3f seconds\n", r->ElapsedTime);
    if (!um_skipped)
        return;
    printf("\nSkipped (%u):\n", um_skipped);
    for (unsigned i = 0; i < um_skipped && i < sizeof um_skip_test / sizeof um_skip_test[0]; i++)
        printf("  %s/%s: %s\n", um_skip_suite[i]->pName, um_skip_test[i]->pName,
               test_skip_reason(um_skip_test[i]));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (register_units_tests() || register_lang_tests() || register_lang_events_tests() ||
        register_lang_timing_tests() || register_lbc_tests() ||
        register_regress_tests() || register_check_tests() || register_system_tests() ||
        register_phantom_tests() || register_rawdata_tests() || register_bloch_tests() ||
        register_recon_tests() || register_image_tests() || register_image_interop_tests() ||
        register_plot_tests() ||
        register_sequences_tests() || register_pulseq_tests() || register_marcos_tests() ||
        register_marcos_emu_tests() || register_wave_tests() || register_membudget_tests()) {
        fprintf(stderr, "cannot register the test suites: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    /* LARMOR_TEST_LIST=1 lists every suite/test and runs nothing */
    const char *list = getenv("LARMOR_TEST_LIST");
    if (list && *list && strcmp(list, "0") != 0) {
        for (CU_pSuite su = CU_get_registry()->pSuite; su; su = su->pNext)
            for (CU_pTest t = su->pTest; t; t = t->pNext)
                printf("%s/%s\n", su->pName, t->pName);
        CU_cleanup_registry();
        return 0;
    }
    /* LARMOR_TEST_SUITE=name runs one suite (for development) */
    const char *only = getenv("LARMOR_TEST_SUITE");
    CU_pSuite one = only && *only ? CU_get_suite(only) : NULL;
    if (only && *only && !one) {
        fprintf(stderr, "no suite '%s'\n", only);
        CU_cleanup_registry();
        return 1;
    }
    CU_set_test_complete_handler(um_test_complete);
    CU_set_suite_init_failure_handler(um_suite_init_failure);
    CU_set_suite_cleanup_failure_handler(um_suite_cleanup_failure);
    if (one)
        CU_run_suite(one);
    else
        CU_run_all_tests();
    um_summary();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    test_skip_free();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
