/*
 * test_lbc_main: runs only the "lbc" CUnit suite (tests/test_lbc.c), for
 * working on the bytecode modules without the rest of the test tree (not
 * built by make: link it with tests/test_lbc.c, tests/testutil.c and
 * liblarmor.a; LARMOR_TEST_SUITE=lbc tests/unit does the same).
 */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

int register_lbc_tests(void);

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    if (register_lbc_tests() != 0) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
