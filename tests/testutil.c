/*
 * testutil: small helpers shared by the CUnit suites.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <stdlib.h>

const char *test_stdlib_dir(void)
{
    static char buf[4096];
    const char *t = getenv("top_srcdir");
    if (!t || !*t)
        return NULL;
    snprintf(buf, sizeof buf, "%s/stdlib", t);
    return buf;
}
