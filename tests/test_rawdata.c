#include <CUnit/CUnit.h>
int register_rawdata_tests(void);
int register_rawdata_tests(void)
{
    return 0;
}
