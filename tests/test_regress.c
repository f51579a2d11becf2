/*
 * test_regress: replays the fuzzers' findings through the fuzz targets'
 * own code paths (tests/fuzz_compile.c, tests/fuzz_lbc.c, ..., included here
 * without their libFuzzer entry points). Every file in
 * tests/fuzz/compile-regress/ is compiled, round-tripped and listed; every
 * file in tests/fuzz/lbc-regress/ is loaded as bytecode. A test passes when
 * nothing crashes; CI runs it under ASan and UBSan, which turn a leak or
 * undefined behaviour into a failure. If a folder is empty, the seeds are
 * replayed instead (sequences/ and stdlib/; tests/fuzz/lbc-seed/) so that
 * the suite always tests something.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LARMOR_FUZZ_NO_ENTRY 1
#include "tests/testutil.h"
#include "tests/fuzz_compile.c"
#include "tests/fuzz_lbc.c"
#include "tests/fuzz_marcos.c"
#include "tests/fuzz_phantom.c"
#include "tests/fuzz_raw.c"
#include "tests/fuzz_cli.c"
#include "tests/fuzz_rawxml.c"
#include "base/membudget.h"

int register_regress_tests(void);

static const char *rg_top(void)
{
    const char *t = getenv("top_srcdir");
    return t && *t ? t : ".";
}

static int rg_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every regular file of top/dir whose name ends in ext (NULL: any) to
   fn, in name order; returns how many were replayed. */
static int rg_replay_dir(const char *dir, const char *ext,
                         int (*fn)(const uint8_t *, size_t))
{
    char *path = xasprintf("%s/%s", rg_top(), dir);
    DIR *dp = opendir(path);
    int count = 0;
    if (!dp)
        goto out_path;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(dp)) != NULL;) {
        size_t l = strlen(de->d_name), el = ext ? strlen(ext) : 0;
        if (de->d_name[0] == '.' || l <= el || (ext && strcmp(de->d_name + l - el, ext)))
            continue;
        char *name = xstrdup(de->d_name);
        VEC_PUSH(names, n, cap, name);
    }
    closedir(dp);
    if (n)
        qsort(names, n, sizeof *names, rg_cmp);
    for (size_t i = 0; i < n; i++) {
        char *file = xasprintf("%s/%s", path, names[i]);
        size_t len;
        char *data = read_file(file, &len);
        CU_ASSERT_PTR_NOT_NULL(data);
        if (data) {
            fn((const uint8_t *)data, len);
            count++;
        }
        free(data);
        free(file);
        free(names[i]);
    }
    free(names);
out_path:
    free(path);
    return count;
}

static void test_compile_regress(void)
{
    int n = rg_replay_dir("tests/fuzz/compile-regress", ".psq", fuzz_compile_one);
    if (n == 0) {
        n += rg_replay_dir("sequences", ".psq", fuzz_compile_one);
        n += rg_replay_dir("stdlib", ".psq", fuzz_compile_one);
    }
    CU_ASSERT(n > 0);
}

static void test_lbc_regress(void)
{
    int n = rg_replay_dir("tests/fuzz/lbc-regress", NULL, fuzz_lbc_one);
    if (n == 0)
        n = rg_replay_dir("tests/fuzz/lbc-seed", NULL, fuzz_lbc_one);
    CU_ASSERT(n > 0);
}

static int rg_compiled;       /* inputs that compiled, loaded or reconstructed */

/* The seeds of a structure-aware target (made from real files: every one
   must succeed, so the target's decoding of its input is tested too), then
   its findings (each must not crash); the memory budget the target sets is
   undone. */
static void rg_seeds_and_findings(const char *kind, int (*fn)(const uint8_t *, size_t))
{
    char seed[64], regress[64];
    snprintf(seed, sizeof seed, "tests/fuzz/%s-seed", kind);
    snprintf(regress, sizeof regress, "tests/fuzz/%s-regress", kind);
    rg_compiled = 0;
    int n = rg_replay_dir(seed, NULL, fn);
    CU_ASSERT(n > 0);
    CU_ASSERT_EQUAL(rg_compiled, n);
    if (rg_compiled != n)
        printf("\n  %d of %d %s seeds were refused\n", n - rg_compiled, n, kind);
    rg_replay_dir(regress, NULL, fn);
    mem_budget_set(0, NULL);
}

static int rg_count_raw(const uint8_t *data, size_t size)
{
    int got = fuzz_raw_one(data, size);
    rg_compiled += got;
    return got;
}

static int rg_count_phantom(const uint8_t *data, size_t size)
{
    int got = fuzz_phantom_one(data, size);
    rg_compiled += got;
    return got;
}

static void test_raw_regress(void)
{
    rg_seeds_and_findings("raw", rg_count_raw);
}

static int rg_count_rawxml(const uint8_t *data, size_t size)
{
    int got = fuzz_rawxml_one(data, size);
    rg_compiled += got;
    return got;
}

static void test_rawxml_regress(void)
{
    rg_seeds_and_findings("rawxml", rg_count_rawxml);
}

static void test_phantom_regress(void)
{
    rg_seeds_and_findings("phantom", rg_count_phantom);
}

/* Every CLI seed (one vector per command) must exit 0 in the fuzz
   target's folder; the findings replay. */
static int rg_count_cli(const uint8_t *data, size_t size)
{
    int rc = fuzz_cli_one(data, size);
    rg_compiled += rc == 0;
    return rc;
}

static void test_cli_regress(void)
{
    char fix[1024], lib[1024];
    snprintf(fix, sizeof fix, "%s/tests/fuzz/cli-fixture", rg_top());
    snprintf(lib, sizeof lib, "%s/stdlib", rg_top());
    CU_ASSERT_EQUAL_FATAL(fuzz_cli_setup(fix, lib), 0);
    rg_seeds_and_findings("cli", rg_count_cli);
}

static int rg_count_marcos(const uint8_t *data, size_t size)
{
    int got = fuzz_marcos_one(data, size);
    rg_compiled += got;
    return got;
}

/* The MaRCoS seeds are replies of a fake server, some of which the driver
   must refuse: each NAME.ok must give a complete run, each NAME.fail a
   refused one (the target checks the driver's status either way: a
   refusal with its reason, the safe stop); then the findings. */
static void test_marcos_regress(void)
{
    rg_compiled = 0;
    int ok = rg_replay_dir("tests/fuzz/marcos-seed", ".ok", rg_count_marcos);
    CU_ASSERT(ok > 0);
    CU_ASSERT_EQUAL(rg_compiled, ok);
    rg_compiled = 0;
    int refused = rg_replay_dir("tests/fuzz/marcos-seed", ".fail", rg_count_marcos);
    CU_ASSERT(refused > 0);
    CU_ASSERT_EQUAL(rg_compiled, 0);
    if (rg_compiled)
        printf("\n  %d of %d marcos seeds that must fail completed\n", rg_compiled, refused);
    rg_replay_dir("tests/fuzz/marcos-regress", NULL, rg_count_marcos);
}

/* The example sequences must still compile through the fuzz path (with its
   work cap), so that the cap does not hide the fuzzer from real inputs. */
static int rg_count_compiled(const uint8_t *data, size_t size)
{
    int got = fuzz_compile_one(data, size);
    rg_compiled += got;
    return got;
}

static void test_sequences_compile(void)
{
    rg_compiled = 0;
    int n = rg_replay_dir("sequences", ".psq", rg_count_compiled);
    CU_ASSERT(n > 0);
    CU_ASSERT_EQUAL(rg_compiled, n);
}

static int rg_fini(void)
{
    if (fc_devnull) {
        fclose(fc_devnull);
        fc_devnull = NULL;
    }
    if (devnull) {
        fclose(devnull);
        devnull = NULL;
    }
    return 0;
}

int register_regress_tests(void)
{
    static const struct test_def tests[] = {
        { "compile-regress replays", test_compile_regress },
        { "lbc-regress replays", test_lbc_regress },
        { "sequences compile under the fuzz work cap", test_sequences_compile },
        { "raw seeds reconstruct, raw-regress replays", test_raw_regress },
        { "raw headers round-trip, rawxml-regress replays", test_rawxml_regress },
        { "phantom seeds load, phantom-regress replays", test_phantom_regress },
        { "every command's CLI seed exits 0, cli-regress replays", test_cli_regress },
        { "marcos seeds complete or are refused, marcos-regress replays", test_marcos_regress },
    };
    return TEST_ADD_FIXTURE_SUITE("regress", NULL, rg_fini, tests);
}
