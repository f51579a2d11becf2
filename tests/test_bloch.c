#include <CUnit/CUnit.h>
int register_bloch_tests(void);
int register_bloch_tests(void)
{
    return 0;
}
