#include <CUnit/CUnit.h>
int register_units_tests(void);
int register_units_tests(void) { return 0; }
