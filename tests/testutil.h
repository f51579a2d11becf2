/*
 * testutil: small helpers shared by the CUnit suites.
 */
#ifndef LARMOR_TESTUTIL_H
#define LARMOR_TESTUTIL_H

/* $top_srcdir/stdlib, or NULL (the compiler's default) without top_srcdir. */
const char *test_stdlib_dir(void);

#endif
