/*
 * testutil: small helpers shared by the CUnit suites. It owns the skip
 * notes: one per test that called test_skip, holding the test and its
 * reasons (joined by "; "), kept until test_skip_free.
 */
#include "tests/testutil.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

struct skip_note {
    const void *test; /* the CU_pTest that was running */
    char *why;
};

static struct skip_note *skips;
static size_t nskips, capskips;

const char *test_stdlib_dir(void)
{
    static char buf[4096];
    const char *t = getenv("top_srcdir");
    if (!t || !*t)
        return NULL;
    snprintf(buf, sizeof buf, "%s/stdlib", t);
    return buf;
}

int test_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
                   const struct test_def *t, size_t n)
{
    CU_pSuite s = CU_add_suite(name, init, cleanup);
    if (!s)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!CU_add_test(s, t[i].name, t[i].fn))
            return 1;
    return 0;
}

int test_scratch_make(char *dir, size_t n, const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, n, "%s/larmor-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    return mkdtemp(dir) ? 0 : 1;
}

void test_scratch_clear(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

int test_scratch_remove(const char *dir)
{
    test_scratch_clear(dir);
    return rmdir(dir) == 0 ? 0 : 1;
}

bool test_have_program(const char *prog)
{
    char *cmd = xasprintf("command -v %s >/dev/null 2>&1", prog);
    bool ok = system(cmd) == 0;
    free(cmd);
    return ok;
}

void test_skip(const char *why)
{
    CU_pSuite suite = CU_get_current_suite();
    printf("\n  [%s] skipped: %s\n", suite ? suite->pName : "?", why);
    const void *test = CU_get_current_test();
    for (size_t i = 0; i < nskips; i++)
        if (skips[i].test == test) {
            if (strstr(skips[i].why, why))
                return;
            char *both = xasprintf("%s; %s", skips[i].why, why);
            free(skips[i].why);
            skips[i].why = both;
            return;
        }
    struct skip_note n = {test, xstrdup(why)};
    VEC_PUSH(skips, nskips, capskips, n);
}

const char *test_skip_reason(const void *test)
{
    for (size_t i = 0; i < nskips; i++)
        if (skips[i].test == test)
            return skips[i].why;
    return NULL;
}

void test_skip_free(void)
{
    for (size_t i = 0; i < nskips; i++)
        free(skips[i].why);
    free(skips);
    skips = NULL;
    nskips = capskips = 0;
}
