/*
 * unit_main: runs every CUnit suite of Larmor and ends with CUnit's summary.
 */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

int register_lbc_tests(void);
int register_lang_tests(void);
int register_units_tests(void);
int register_regress_tests(void);
int register_system_tests(void);
int register_check_tests(void);
int register_phantom_tests(void);
int register_rawdata_tests(void);
int register_bloch_tests(void);
int register_recon_tests(void);
int register_image_tests(void);
int register_sequences_tests(void);
int register_plot_tests(void);
int register_pulseq_tests(void);
int register_marcos_tests(void);
int register_wave_tests(void);

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (register_units_tests() || register_lang_tests() || register_lbc_tests() ||
        register_regress_tests() || register_check_tests() || register_system_tests() ||
        register_phantom_tests() || register_rawdata_tests() || register_bloch_tests() ||
        register_recon_tests() || register_image_tests() || register_plot_tests() ||
        register_sequences_tests() || register_pulseq_tests() || register_marcos_tests() ||
        register_wave_tests()) {
        fprintf(stderr, "cannot register the test suites: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    /* LARMOR_TEST_SUITE=name runs one suite (for development) */
    const char *only = getenv("LARMOR_TEST_SUITE");
    CU_pSuite one = only && *only ? CU_get_suite(only) : NULL;
    if (only && *only && !one) {
        fprintf(stderr, "no suite '%s'\n", only);
        CU_cleanup_registry();
        return 1;
    }
    if (one)
        CU_basic_run_suite(one);
    else
        CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
