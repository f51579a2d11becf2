/*
 * test_membudget: CUnit suite "membudget" for base/membudget.c and the
 * input boundaries that check it. The parsers (sizes, /proc/meminfo, the
 * cgroup's limit), the order of the budget's sources (set, then
 * LARMOR_MAX_MEMORY, then 80 % of what is available), the saturating
 * arithmetic and the message; then each boundary refusing an input whose
 * declared size is over a small budget, with the input, the size and the
 * budget in its message. Each refused input declares tens of GiB, so a
 * boundary that allocated before it checked would fail the test (or the
 * machine) rather than pass it; each is also shown to pass under a budget
 * large enough, so the refusal comes from the budget and nothing else.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/membudget.h"
#include "base/util.h"
#include "runtime/bloch/sim.h"
#include "runtime/io/rawdata.h"
#include "runtime/phantom/phantom.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/recon/recon.h"
#include "runtime/system/system.h"
#include "tests/testutil.h"
#include "vm/program.h"

int register_membudget_tests(void);

static char mb_dir[512];
static int mb_init(void)
{
    unsetenv(MEM_BUDGET_ENV);
    return test_scratch_make(mb_dir, sizeof mb_dir, "membudget");
}
static int mb_cleanup(void)
{
    mem_budget_set(0, NULL);
    unsetenv(MEM_BUDGET_ENV);
    return test_scratch_remove(mb_dir);
}

static void test_parse_size(void)
{
    static const struct { const char *s; size_t v; } ok[] = {
        { "4096", 4096 }, { "1K", 1024 }, { "1kb", 1024 }, { "512M", (size_t)512 << 20 },
        { "512MiB", (size_t)512 << 20 }, { "2G", (size_t)2 << 30 }, { "2 GiB", (size_t)2 << 30 },
        { "1.5G", (size_t)3 << 29 }, { "1T", (size_t)1 << 40 }, { " 3m", (size_t)3 << 20 },
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        size_t v = 0;
        CU_ASSERT_EQUAL(mem_parse_size(ok[i].s, &v), 0);
        CU_ASSERT_EQUAL(v, ok[i].v);
    }
    static const char *const bad[] = { "", "G", "abc", "0", "-1", "2X", "2GG", "1e400", "0.1",
                                       "2 G B", "nan", "inf", "16EiB", "99999999999T" };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        size_t v = 7;
        CU_ASSERT_EQUAL(mem_parse_size(bad[i], &v), -1);
        CU_ASSERT_EQUAL(v, 7);
    }
    CU_ASSERT_EQUAL(mem_parse_size(NULL, &(size_t){ 0 }), -1);
}

static void test_parse_system(void)
{
    CU_ASSERT_EQUAL(mem_parse_meminfo("MemTotal:       32000000 kB\nMemFree:  100 kB\n"
                                      "MemAvailable:   12345678 kB\nBuffers: 1 kB\n"),
                    (size_t)12345678 * 1024);
    CU_ASSERT_EQUAL(mem_parse_meminfo("MemTotal: 1 kB\nMemFree: 2 kB\n"), 0);
    CU_ASSERT_EQUAL(mem_parse_meminfo(NULL), 0);
    CU_ASSERT_EQUAL(mem_parse_cgroup("max\n"), 0);
    CU_ASSERT_EQUAL(mem_parse_cgroup("1073741824\n"), (size_t)1 << 30);
    CU_ASSERT_EQUAL(mem_parse_cgroup("12x\n"), 0);
    CU_ASSERT_EQUAL(mem_parse_cgroup(""), 0);
    CU_ASSERT_EQUAL(mem_parse_cgroup(NULL), 0);
    CU_ASSERT(mem_available() > 0);
}

static void test_arith(void)
{
    CU_ASSERT_EQUAL(mem_mul(3, 5), 15);
    CU_ASSERT_EQUAL(mem_mul(SIZE_MAX / 2, 3), SIZE_MAX);
    CU_ASSERT_EQUAL(mem_mul(0, SIZE_MAX - 1), 0);
    CU_ASSERT_EQUAL(mem_mul(0, SIZE_MAX), SIZE_MAX);
    CU_ASSERT_EQUAL(mem_add(SIZE_MAX - 1, 2), SIZE_MAX);
    CU_ASSERT_EQUAL(mem_add(1, 2), 3);
    char b[48];
    mem_fmt((size_t)3 << 29, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "1.5 GiB");
    mem_fmt((size_t)12 << 20, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "12.0 MiB");
    mem_fmt(640 << 10, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "640 KiB");
    mem_fmt(100, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "100 bytes");
}

/* The sources in order: set > LARMOR_MAX_MEMORY > 80 % of available. */
static void test_sources(void)
{
    char why[128];
    unsetenv(MEM_BUDGET_ENV);
    mem_budget_set(0, NULL);
    size_t dflt = mem_budget(why, sizeof why);
    CU_ASSERT(dflt > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "80 % of the "));
    CU_ASSERT(dflt <= mem_available());
    setenv(MEM_BUDGET_ENV, "3M", 1);
    CU_ASSERT_EQUAL(mem_budget(why, sizeof why), (size_t)3 << 20);
    CU_ASSERT_STRING_EQUAL(why, "LARMOR_MAX_MEMORY=3M");
    char err[256] = "";
    CU_ASSERT_EQUAL(mem_budget_env_error(err, sizeof err), 0);
    mem_budget_set((size_t)5 << 20, "--max-memory 5M");
    CU_ASSERT_EQUAL(mem_budget(why, sizeof why), (size_t)5 << 20);
    CU_ASSERT_STRING_EQUAL(why, "--max-memory 5M");
    mem_budget_set(0, NULL);
    setenv(MEM_BUDGET_ENV, "plenty", 1);
    CU_ASSERT_EQUAL(mem_budget_env_error(err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "LARMOR_MAX_MEMORY='plenty' is not a memory size"));
    /* ignored by the budget itself (the CLI refuses it first) */
    CU_ASSERT_PTR_NOT_NULL((mem_budget(why, sizeof why), strstr(why, "80 % of the ")));
    unsetenv(MEM_BUDGET_ENV);
}

static void test_message(void)
{
    mem_budget_set((size_t)1 << 30, "--max-memory 1G");
    char err[1024];
    CU_ASSERT_EQUAL(mem_check("in.h5", "the grid", (size_t)1 << 30, err, sizeof err), 0);
    CU_ASSERT_EQUAL(mem_check("in.h5", "the grid", ((size_t)1 << 30) + 1, err, sizeof err), -1);
    CU_ASSERT_EQUAL(mem_check("in.h5", "the grid", (size_t)2 << 30, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "in.h5: the grid would take 2.0 GiB of memory, over the "
                                       "budget of 1.0 GiB (--max-memory 1G)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "LARMOR_MAX_MEMORY=SIZE"));
    CU_ASSERT_EQUAL(mem_check(NULL, "the grid", SIZE_MAX, err, sizeof err), -1);
    CU_ASSERT_EQUAL(strncmp(err, "the grid would take more than", 29), 0);
    struct diag_ctx d;
    diag_init(&d);
    CU_ASSERT_PTR_NULL(mem_check_diag(&d, 747, SPAN_NONE, "x", "y", 10));
    struct diag *g = mem_check_diag(&d, 747, SPAN_NONE, "x", "y", (size_t)3 << 30);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->code, 747);
    CU_ASSERT_PTR_NOT_NULL(g->help && strstr(g->help, "--max-memory SIZE"));
    CU_ASSERT_EQUAL(d.nerrors, 1);
    diag_fini(&d);
    mem_budget_set(0, NULL);
}

/* recon: a header declaring a 32 x 65535 x 1024 matrix (2^31 points less
   a few, 34 GiB of grid) with one line of data is refused before the grid
   is allocated; 32 x 32 x 1 under the same budget reconstructs. */
static char *mb_write_raw(const char *name, int ny, int nz)
{
    char *p = xasprintf("%s/%s", mb_dir, name);
    char err[512] = "";
    static float data[64];
    data[32] = 1;
    struct raw_header h = {
        .sequence_name = "t", .system_name = "generic_3t", .b0 = 3, .larmor_hz = 127.7e6,
        .ncoils = 1, .matrix = { 32, ny, nz }, .fov = { 0.256, 0.256, 0.256 },
        .trajectory = "cartesian",
    };
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h.limits[l] = (struct raw_limit){ 0, -1, 0 };
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct raw_acq a = {
        .samples = 32, .ncoils = 1, .data = data, .dwell = 10e-6, .centre_sample = 16,
        .read_dir = { 1, 0, 0 }, .phase_dir = { 0, 1, 0 }, .slice_dir = { 0, 0, 1 },
    };
    CU_ASSERT_EQUAL(raw_append(w, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), 0);
    return p;
}

static void test_recon(void)
{
    char *big = mb_write_raw("big.h5", 65535, 1024), *small = mb_write_raw("small.h5", 32, 1);
    mem_budget_set((size_t)1 << 30, "--max-memory 1G");
    char err[1024];
    struct raw_file *f = raw_read(big, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct recon_opts o = { .pf = RECON_PF_ZERO };
    CU_ASSERT_PTR_NULL(recon_kspace(f, &o, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "the k-space grid and image (32 x 65535 x 1024, 1 coil, "
                                       "1 slice, 1 frame) would take 34.0 GiB of memory, over "
                                       "the budget of 1.0 GiB (--max-memory 1G)"));
    raw_file_free(f);
    f = raw_read(small, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct kspace *k = recon_kspace(f, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(k);
    kspace_free(k);
    /* the reader: the acquisitions' list over a budget of 100 bytes */
    mem_budget_set(100, "--max-memory 100");
    raw_file_free(f);
    f = raw_read(small, err, sizeof err);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "small.h5: the list of its 1 acquisition would take"));
    raw_file_free(f);
    mem_budget_set(0, NULL);
    free(big);
    free(small);
}

/* Pulseq: a 500 s block playing a shape of 10^8 samples (within its
   bound, three lines of text) is refused before it is decoded (800 MB,
   twice with the pool's copy); a budget of 4 GiB lets it through the
   budget check (it is then refused by nothing: the test only counts the
   E0747). */
static void test_pulseq(void)
{
    const char *text =
        "[VERSION]\nmajor 1\nminor 4\nrevision 2\n\n"
        "[DEFINITIONS]\nGradientRasterTime 1e-05\nBlockDurationRaster 1e-05\n\n"
        "[BLOCKS]\n1 50000000 0 1 0 0 0 0\n\n"
        "[GRADIENTS]\n1 1000 1 0 0\n\n"
        "[SHAPES]\nshape_id 1\nnum_samples 100000000\n1\n1\n99999998\n";
    mem_budget_set((size_t)64 << 20, "--max-memory 64M");
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf("big.seq", text, strlen(text), NULL, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL_FATAL(d.ndiags, 1);
    CU_ASSERT_EQUAL(d.diags[0]->code, 747);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[0]->msg, "importing 1 block and 100000003 shape "
                                                   "values would take 1.5 GiB of memory, over "
                                                   "the budget of 64.0 MiB"));
    diag_fini(&d);
    /* a small shape of the same file shape passes */
    const char *small =
        "[VERSION]\nmajor 1\nminor 4\nrevision 2\n\n"
        "[DEFINITIONS]\nGradientRasterTime 1e-05\nBlockDurationRaster 1e-05\n\n"
        "[BLOCKS]\n1 100 0 1 0 0 0 0\n\n"
        "[GRADIENTS]\n1 1000 1 0 0\n\n"
        "[SHAPES]\nshape_id 1\nnum_samples 100\n1\n1\n98\n";
    diag_init(&d);
    p = pulseq_read_buf("small.seq", small, strlen(small), NULL, &d);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    lbc_free(p);
    diag_fini(&d);
    mem_budget_set(0, NULL);
}

/* Phantoms: a YAML grid of 2000 x 2000 x 500 voxels (under the 2^31 a
   phantom may have, 74.5 GiB of properties) refused at its matrix; the
   built-in at a fine resolution refused by name. */
static void test_phantom(void)
{
    const char *yaml = "fov: [200 mm, 200 mm, 50 mm]\nmatrix: [2000, 2000, 500]\n"
                       "tissues:\n  water: { t1: 2500 ms, t2: 1500 ms, pd: 1 }\n"
                       "objects:\n  - { shape: sphere, radius: 20 mm, tissue: water }\n";
    mem_budget_set((size_t)1 << 30, "--max-memory 1G");
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load_text("big.yaml", yaml, strlen(yaml), 0, &d);
    CU_ASSERT_PTR_NULL(ph);
    CU_ASSERT_EQUAL_FATAL(d.nerrors, 1);
    CU_ASSERT_EQUAL(d.diags[0]->code, 830);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[0]->msg, "a 2000 x 2000 x 500 grid (40 bytes a voxel) "
                                                   "would take 74.5 GiB of memory"));
    int line, col;
    diag_linecol(&d, d.diags[0]->span.file, d.diags[0]->span.start, &line, &col);
    CU_ASSERT_EQUAL(line, 2);
    diag_fini(&d);
    diag_init(&d);
    ph = phantom_load("shepp-logan-3d", 0.2e-3, &d);
    CU_ASSERT_PTR_NULL(ph);
    CU_ASSERT_EQUAL_FATAL(d.nerrors, 1);
    CU_ASSERT_EQUAL(d.diags[0]->code, 830);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[0]->msg, "shepp-logan-3d: a 1280 x 1280 x 1280 grid"));
    diag_fini(&d);
    /* the same description at 4 mm fits */
    diag_init(&d);
    ph = phantom_load_text("big.yaml", yaml, strlen(yaml), 4e-3, &d);
    CU_ASSERT_PTR_NOT_NULL(ph);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    phantom_free(ph);
    diag_fini(&d);
    mem_budget_set(0, NULL);
}

/* The simulator takes the shared budget when its options set none. */
static void test_sim(void)
{
    const char *yaml = "fov: [200 mm, 200 mm]\nmatrix: [64, 64]\n"
                       "tissues:\n  water: { t1: 2500 ms, t2: 1500 ms, pd: 1 }\n"
                       "objects:\n  - { shape: circle, radius: 80 mm, tissue: water }\n";
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load_text("disc.yaml", yaml, strlen(yaml), 0, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    diag_fini(&d);
    struct sim_opts o;
    sim_opts_default(&o);
    o.spins[2] = 1000;
    mem_budget_set((size_t)16 << 20, "--max-memory 16M");
    char err[1024];
    CU_ASSERT_PTR_NULL(sim_new(ph, &o, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "isochromats per voxel would take"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "over the budget of 16.0 MiB (--max-memory 16M)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--spins"));
    o.spins[2] = 1;
    struct sim *s = sim_new(ph, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(s);
    sim_free(s);
    phantom_free(ph);
    mem_budget_set(0, NULL);
}

/* A .lbc is held to the budget before it is read (its counts are held to
   its own bytes by the loader: tests/test_lbc.c). */
static void test_lbc(void)
{
    char *path = xasprintf("%s/x.lbc", mb_dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 4096; i++)
        fputc('L', f);
    fclose(f);
    mem_budget_set(8192, "--max-memory 8K");
    char err[1024];
    CU_ASSERT_PTR_NULL(lbc_read_file(path, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "x.lbc: loading the bytecode (four times its size) would "
                                       "take 16 KiB of memory, over the budget of 8 KiB"));
    mem_budget_set((size_t)1 << 20, "--max-memory 1M");
    CU_ASSERT_PTR_NULL(lbc_read_file(path, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad magic"));   /* read, and refused as no bytecode */
    mem_budget_set(0, NULL);
    free(path);
}

/* "Billion laughs": ten aliases of the level below, nine levels deep,
   would expand to 10^9 values. ytree shares an alias's node instead of
   copying it, and the schema walks take a list where a pair or a mapping
   belongs as one wrong value, so both kinds of file are refused at once
   with a handful of errors, not 10^9, and no memory to speak of. Then
   nesting: 5000 open brackets stop at the depth limit. */
static char *laughs(const char *head, const char *leaf, const char *tail)
{
    struct strbuf b;
    sb_init(&b);
    sb_printf(&b, "%sl:\n  a0: &a0 %s\n", head, leaf);
    for (int i = 1; i < 10; i++) {
        sb_printf(&b, "  a%d: &a%d [", i, i);
        for (int k = 0; k < 10; k++)
            sb_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
        sb_puts(&b, "]\n");
    }
    sb_puts(&b, tail);
    return sb_take(&b);
}

static void test_yaml_laughs(void)
{
    char *sys = laughs("name: laughs\nb0: 3 T\n", "[1 Hz, 2 Hz]",
                       "acoustic: {forbidden_bands: *a9}\n");
    char *ph = laughs("fov: [200 mm, 200 mm]\nmatrix: [16, 16]\n",
                      "{ shape: circle, radius: 10 mm, tissue: water }",
                      "tissues:\n  water: { t1: 2500 ms, t2: 1500 ms, pd: 1 }\nobjects: *a9\n");
    double t0 = monotonic_s();
    struct diag_ctx d;
    diag_init(&d);
    struct system s;
    CU_ASSERT_EQUAL(system_load_text("laughs.yaml", sys, strlen(sys), &s, &d), 1);
    CU_ASSERT(d.nerrors > 0 && d.nerrors < 100);
    diag_fini(&d);
    diag_init(&d);
    struct phantom *p = phantom_load_text("laughs.yaml", ph, strlen(ph), 0, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(d.nerrors > 0 && d.nerrors < 100);
    bool objects_refused = false;
    for (size_t i = 0; i < d.ndiags; i++)
        objects_refused |= d.diags[i]->code == 805 && strstr(d.diags[i]->msg, "objects[0]");
    CU_ASSERT(objects_refused);
    diag_fini(&d);
    CU_ASSERT(monotonic_s() - t0 < 2.0);
    free(sys);
    free(ph);
    /* nesting */
    struct strbuf b;
    sb_init(&b);
    sb_puts(&b, "fov: ");
    for (int i = 0; i < 5000; i++)
        sb_putc(&b, '[');
    diag_init(&d);
    CU_ASSERT_PTR_NULL(phantom_load_text("deep.yaml", b.s, b.len, 0, &d));
    CU_ASSERT_EQUAL_FATAL(d.nerrors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[0]->msg, "nested more than"));
    diag_fini(&d);
    sb_fini(&b);
}

int register_membudget_tests(void)
{
    static const struct test_def tests[] = {
        { "sizes parsed, or refused", test_parse_size },
        { "meminfo and cgroup limits parsed", test_parse_system },
        { "saturating sizes and their format", test_arith },
        { "set > LARMOR_MAX_MEMORY > 80 % available", test_sources },
        { "the refusal names input, size and budget", test_message },
        { "recon grid and raw list refused before allocation", test_recon },
        { "pulseq shapes refused before decoding", test_pulseq },
        { "phantom grids refused before rasterising", test_phantom },
        { "the simulator uses the shared budget", test_sim },
        { "YAML alias fan-out and nesting bounded", test_yaml_laughs },
        { "a bytecode file held to the budget before reading", test_lbc },
    };
    return TEST_ADD_FIXTURE_SUITE("membudget", mb_init, mb_cleanup, tests);
}
