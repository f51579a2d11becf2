/*
 * test_lang_timing: CUnit suites for the timing of whole sequences and the
 * stdlib's designs, end to end through compile_text() and the timing VM:
 *
 *   lang.timing   the spin echo's timing constraints, the minimum-TE
 *                 report, determinism and the bytecode round trip
 *   lang.stdlib   grad, readout, rf and timing helpers, exactly
 *
 * Compile-time values and the collecting backend are tests/langutil.c's;
 * sequences come from $top_srcdir/sequences (else ./sequences).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "tests/langutil.h"
#include "tests/testutil.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

int register_lang_timing_tests(void);

/* =================================================================== */
/* lang.timing                                                          */

/* Checks the spin echo's constraints on every repetition. */
static void check_spin_echo(const struct evlog *L, int64_t te, int64_t tr, int reps)
{
    int n = 0;
    int64_t prev = -1;
    for (size_t k = 0; k < L->n; k++) {
        const struct ev *e = &L->v[k];
        if (strcmp(e->name, "excite"))
            continue;
        const struct ev *ref = NULL, *echo = NULL;
        for (size_t j = k + 1; j < L->n && !echo; j++) {
            if (!strcmp(L->v[j].name, "excite"))
                break;
            if (!strcmp(L->v[j].name, "refocus"))
                ref = &L->v[j];
            if (!strcmp(L->v[j].name, "echo"))
                echo = &L->v[j];
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
        CU_ASSERT_TRUE(e->has_rf && ref->has_rf && echo->has_adc);
        CU_ASSERT_EQUAL(e->rf_use, VM_RFUSE_EXCITATION);
        CU_ASSERT_EQUAL(ref->rf_use, VM_RFUSE_REFOCUSING);
        CU_ASSERT_EQUAL(ref->rf_centre - e->rf_centre, te / 2);
        CU_ASSERT_EQUAL(echo->adc_centre - e->rf_centre, te);
        if (prev >= 0)
            CU_ASSERT_EQUAL(e->start - prev, tr);
        prev = e->start;
        n++;
    }
    CU_ASSERT_EQUAL(n, reps);
    CU_ASSERT_EQUAL(L->total - prev, tr);
    CU_ASSERT_EQUAL(L->total, (int64_t)reps * tr);
}

static void test_timing_spin_echo(void)
{
    const char *d1[] = { "matrix=16", "slices=2" };
    struct lbc_program *p = compile_file_ok("spin_echo.psq", d1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    check_spin_echo(&L, 20 * MS, 500 * MS, 32);
    /* the slices: the RF frequency offsets follow the slice position */
    const struct ev *first = NULL, *last = NULL;
    for (size_t k = 0; k < L.n; k++)
        if (!strcmp(L.v[k].name, "excite")) {
            if (!first)
                first = &L.v[k];
            last = &L.v[k];
        }
    CU_ASSERT_DOUBLE_EQUAL(first->rf_freq, -last->rf_freq, 1e-9);
    CU_ASSERT(first->rf_freq != 0);
    evlog_free(&L);
    lbc_free(p);
    /* other TE and TR */
    const char *d2[] = { "matrix=16", "te=33.34 ms", "tr=100 ms" };
    p = compile_file_ok("spin_echo.psq", d2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    check_spin_echo(&L, 33340000, 100 * MS, 16);
    evlog_free(&L);
    lbc_free(p);
    /* a TE whose alignment delays fall off the 10 us block raster is
       refused by the check, at the aligned block */
    const char *d3[] = { "matrix=16", "te=33.333333 ms", "tr=100 ms" };
    struct diag_ctx d;
    diag_init(&d);
    p = compile_file_defs("spin_echo.psq", d3, 3, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 660) >= 0);
    diag_fini(&d);
    lbc_free(p);
}

static void test_timing_min_te(void)
{
    const char *d1[] = { "matrix=16", "te=5ms" };
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_file_defs("spin_echo.psq", d1, 2, &d);
    CU_ASSERT_PTR_NULL(p);
    lbc_free(p);
    int i = find_code(&d, 620);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    const char *msg = d.diags[i]->msg;
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "is below the minimum"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "TE 5 ms"));
    /* the primary span is the constraint's target expression */
    const struct src_file *f = diag_file(&d, d.diags[i]->span.file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(strncmp(f->text + d.diags[i]->span.start, "excite.rf + te / 2",
                            d.diags[i]->span.end - d.diags[i]->span.start), 0);
    const char *m = strstr(msg, "minimum ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char *end;
    double v = strtod(m + 8, &end);
    char unit[8] = "";
    sscanf(end, " %7[a-z]", unit);
    CU_ASSERT_STRING_EQUAL(unit, "ms");
    int64_t min_ns = llround(v * 1e6);
    char shown[32];
    snprintf(shown, sizeof shown, "%.*s", (int)(end - (m + 8)), m + 8);
    diag_fini(&d);
    CU_ASSERT(min_ns > 5 * MS && min_ns < 20 * MS);

    /* the minimum works */
    char def[64];
    snprintf(def, sizeof def, "te=%s ms", shown);   /* as printed */
    const char *d2[] = { "matrix=16", def };
    p = compile_file_ok("spin_echo.psq", d2, 2);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p) {
        CU_ASSERT_EQUAL(find_param(p, "te")->t, min_ns);
        struct evlog L;
        CU_ASSERT_EQUAL(run_log(p, &L), 0);
        check_spin_echo(&L, min_ns, 500 * MS, 16);
        evlog_free(&L);
    }
    lbc_free(p);
    /* and 10 us less does not */
    snprintf(def, sizeof def, "te=%lld ns", (long long)(min_ns - 10 * US));
    const char *d3[] = { "matrix=16", def };
    diag_init(&d);
    p = compile_file_defs("spin_echo.psq", d3, 2, &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 620) >= 0);
    lbc_free(p);
    diag_fini(&d);
}

static void test_timing_tr_too_short(void)
{
    const char *d1[] = { "matrix=16", "tr=12ms", "te=10ms" };
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = compile_file_defs("spin_echo.psq", d1, 3, &d);
    CU_ASSERT_PTR_NULL(p);
    int i = find_code(&d, 620);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "TR 12 ms"));
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "is below the minimum"));
    }
    lbc_free(p);
    diag_fini(&d);
}

static void test_timing_determinism(void)
{
    const char *d1[] = { "matrix=16" };
    struct lbc_program *p = compile_file_ok("gradient_echo.psq", d1, 1);
    struct lbc_program *q = compile_file_ok("gradient_echo.psq", d1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    struct evlog A, B, C;
    CU_ASSERT_EQUAL(run_log(p, &A), 0);
    CU_ASSERT_EQUAL(run_log(p, &B), 0);
    CU_ASSERT_EQUAL(run_log(q, &C), 0);
    CU_ASSERT(A.n > 0);
    CU_ASSERT_EQUAL(A.n, B.n);
    CU_ASSERT_EQUAL(A.total, B.total);
    if (A.n == B.n)
        CU_ASSERT_EQUAL(memcmp(A.v, B.v, A.n * sizeof *A.v), 0);
    /* two compilations give the same program and the same events */
    CU_ASSERT_EQUAL(A.n, C.n);
    if (A.n == C.n)
        CU_ASSERT_EQUAL(memcmp(A.v, C.v, A.n * sizeof *A.v), 0);
    unsigned char *bp = NULL, *bq = NULL;
    size_t lp = 0, lq = 0;
    CU_ASSERT_EQUAL(lbc_write_buf(p, &bp, &lp), 0);
    CU_ASSERT_EQUAL(lbc_write_buf(q, &bq, &lq), 0);
    CU_ASSERT_EQUAL(lp, lq);
    if (lp == lq && bp && bq)
        CU_ASSERT_EQUAL(memcmp(bp, bq, lp), 0);
    free(bp);
    free(bq);
    evlog_free(&A);
    evlog_free(&B);
    evlog_free(&C);
    lbc_free(p);
    lbc_free(q);
}

static void roundtrip(struct lbc_program *p)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(lbc_write_buf(p, &buf, &len), 0);
    char err[256] = "";
    struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(q);
    if (!q) {
        fprintf(stderr, "\nlbc_read_buf: %s\n", err);
        free(buf);
        return;
    }
    CU_ASSERT_EQUAL(q->ncode, p->ncode);
    CU_ASSERT_EQUAL(q->nparams, p->nparams);
    struct evlog A, B;
    int ra = run_log(p, &A), rb = run_log(q, &B);
    CU_ASSERT_EQUAL(ra, 0);
    CU_ASSERT_EQUAL(rb, 0);
    CU_ASSERT(A.n > 0);
    CU_ASSERT_EQUAL(A.n, B.n);
    CU_ASSERT_EQUAL(A.total, B.total);
    if (A.n == B.n)
        CU_ASSERT_EQUAL(memcmp(A.v, B.v, A.n * sizeof *A.v), 0);
    /* writing the read program gives the same bytes */
    unsigned char *buf2 = NULL;
    size_t len2 = 0;
    CU_ASSERT_EQUAL(lbc_write_buf(q, &buf2, &len2), 0);
    CU_ASSERT_EQUAL(len2, len);
    if (len2 == len && buf2)
        CU_ASSERT_EQUAL(memcmp(buf, buf2, len), 0);
    free(buf2);
    evlog_free(&A);
    evlog_free(&B);
    lbc_free(q);
    free(buf);
}

static void test_timing_bytecode_roundtrip(void)
{
    const char *d1[] = { "matrix=16", "slices=3" };
    struct lbc_program *p = compile_file_ok("spin_echo.psq", d1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    roundtrip(p);
    lbc_free(p);
    const char *d2[] = { "matrix=16" };
    p = compile_file_ok("gradient_echo.psq", d2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    roundtrip(p);
    lbc_free(p);
}


/* =================================================================== */
/* lang.stdlib: the stdlib's designs, exactly                           */
/* =================================================================== */

#define STD_PRE "import grad, rf, readout, timing\n"

/* trap_area and triangle: the area exact (1e-12 relative), ramps and flat
   top on the gradient raster, within max_grad and max_slew, and shortest:
   one raster step less cannot hold the area. */
static void test_stdlib_trap_area(void)
{
    double G = numv(STD_PRE, "system.max_grad"), S = numv(STD_PRE, "system.max_slew");
    double R = timev(STD_PRE, "system.grad_raster") * 1e-9;
    const char *areas[] = { "1 mT/m * 10 us", "2 mT/m * 1 ms", "20 mT/m * 1 ms",
                            "-35 mT/m * 3 ms", "100 mT/m * 1 ms" };
    for (size_t i = 0; i < sizeof areas / sizeof *areas; i++) {
        char pre[256];
        snprintf(pre, sizeof pre, STD_PRE "let A = %s\nlet t = grad.trap_area(area = A)\n"
                 "let tri = grad.triangle(area = A)\n", areas[i]);
        double A = numv(pre, "A"), amp = numv(pre, "t.amp");
        double rise = timev(pre, "t.rise") * 1e-9, flat = timev(pre, "t.flat") * 1e-9;
        CU_ASSERT_DOUBLE_EQUAL(numv(pre, "t.area"), A, 1e-12 * fabs(A));
        CU_ASSERT_DOUBLE_EQUAL(amp * (rise + flat), A, 1e-12 * fabs(A));
        CU_ASSERT_EQUAL(timev(pre, "t.rise") % timev(pre, "system.grad_raster"), 0);
        CU_ASSERT_EQUAL(timev(pre, "t.flat") % timev(pre, "system.grad_raster"), 0);
        CU_ASSERT_EQUAL(timev(pre, "t.fall"), timev(pre, "t.rise"));
        CU_ASSERT(fabs(amp) <= G * (1 + 1e-12));
        CU_ASSERT(fabs(amp) / rise <= S * (1 + 1e-12));
        if (flat == 0) {     /* a triangle: a shorter ramp cannot reach the area */
            CU_ASSERT((rise - R) * (rise - R) * S < fabs(A));
        } else {             /* at full amplitude, one flat step less falls short */
            CU_ASSERT(G * (rise + flat - R) < fabs(A));
        }
        /* the triangle */
        double trise = timev(pre, "tri.rise") * 1e-9;
        CU_ASSERT_EQUAL(timev(pre, "tri.flat"), 0);
        CU_ASSERT_DOUBLE_EQUAL(numv(pre, "tri.area"), A, 1e-12 * fabs(A));
        CU_ASSERT(fabs(numv(pre, "tri.amp")) / trise <= S * (1 + 1e-12));
        CU_ASSERT((trise - R) * (trise - R) * S < fabs(A) || trise == R);
    }
    /* zero area: a zero lobe of one raster step */
    CU_ASSERT_EQUAL(numv(STD_PRE, "grad.trap_area(area = 0).amp"), 0);
    /* trap_flat_area: the flat top holds the area */
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.trap_flat_area(flat_area = 5 mT/m * 2 ms, "
                                         "flat = 2 ms).amp"), 5e-3, 1e-15);
    /* spoiler (and crusher): cycles / (length γ) */
    double gam = numv(STD_PRE, "system.gamma");
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.spoiler(cycles = 4, length = 5 mm).area"),
                           4 / (5e-3 * gam), 1e-12 * 4 / (5e-3 * gam));
    CU_ASSERT_DOUBLE_EQUAL(numv(STD_PRE, "grad.crusher(cycles = 2, length = 3 mm).area"),
                           2 / (3e-3 * gam), 1e-12 * 2 / (3e-3 * gam));
}

/* readout.cartesian, phase_encode, pe_table and epi: k-space steps of
   1/fov exactly, the prephaser moving k to the start of the line, the ADC
   centred on the flat top and on the ADC raster. */
static void test_stdlib_readout(void)
{
    const char *pre = STD_PRE
        "let ro = readout.cartesian(fov = 220 mm, matrix = 96, dwell = 12 us, oversampling = 2)\n"
        "let ro2 = readout.cartesian(fov = 256 mm, matrix = 128, bw = 50 kHz)\n"
        "let pe = readout.phase_encode(fov = 220 mm, matrix = 96)\n"
        "let e = readout.epi(fov = 240 mm, matrix = 64, dwell = 4 us)\n";
    double gam = numv(pre, "system.gamma");
    /* the readout's amplitude: matrix / (fov γ window) over the window */
    double amp = numv(pre, "ro.grad.amp"), win = 192 * 12e-6;
    CU_ASSERT_DOUBLE_EQUAL(amp * win * gam, 96 / 0.22, 1e-9 * 96 / 0.22);
    CU_ASSERT_EQUAL((long)numv(pre, "ro.adc.samples"), 192);
    /* the ADC's centre is the flat top's centre (to the ADC raster) */
    int64_t adc_c = timev(pre, "timing.adc_centre(ro.adc)");
    int64_t flat_c = timev(pre, "ro.grad.rise + ro.grad.flat / 2");
    CU_ASSERT(llabs(adc_c - flat_c) <= timev(pre, "system.adc_raster"));
    /* the prephaser's area takes k to minus the area to the flat top's centre */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "ro.prephaser.area"),
                           -amp * (timev(pre, "ro.grad.rise") * 0.5e-9 +
                                   timev(pre, "ro.grad.flat") * 0.5e-9), 1e-15);
    /* bandwidth: dwell = 1 / bw on the ADC raster */
    CU_ASSERT_EQUAL(timev(pre, "ro2.adc.dwell"), 20000);
    /* phase encoding: line 0 at k = -matrix/2 / fov; lines a step 1/fov apart */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "pe.trap.area") * gam, -48 / 0.22, 1e-9 * 48 / 0.22);
    const struct num_case nums[] = {
        { "len(readout.pe_table(96))", 96 },
        { "readout.pe_table(96)[0]", 1 },
        { "readout.pe_table(96)[48]", 0 },
    };
    EXPECT_NUMS(pre, nums);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "(readout.pe_table(96)[0] - readout.pe_table(96)[1]) * "
                                     "pe.trap.area") * gam, -1 / 0.22, 1e-9);
    /* EPI: blip of 1/fov inside the ramp down; prephasers to the first line */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.blip.area") * gam, 1 / 0.24, 1e-9);
    CU_ASSERT(timev(pre, "e.blip.delay") >= timev(pre, "e.grad.rise + e.grad.flat"));
    CU_ASSERT_EQUAL(timev(pre, "grad.dur(e.blip)"), timev(pre, "grad.dur(e.grad)")); /* delay incl. */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.pe_prephaser.area") * gam, -32 / 0.24, 1e-9 * 32 / 0.24);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "e.grad.amp") * 64 * 4e-6 * gam, 64 / 0.24, 1e-9 * 64 / 0.24);
    CU_ASSERT_EQUAL(timev(pre, "e.echo_spacing"), timev(pre, "grad.dur(e.grad)"));
    CU_ASSERT_EQUAL(numv(pre, "readout.epi_sign(0)"), 1);
    CU_ASSERT_EQUAL(numv(pre, "readout.epi_sign(3)"), -1);
}

/* rf: the slice select's amplitude bw / (γ thickness) with bw = tbw / dur;
   the rephaser undoes the select's moment after the pulse centre; the
   pulse starts after the ramp and the RF dead time. */
static void test_stdlib_rf(void)
{
    const char *pre = STD_PRE
        "let p = rf.sinc(flip = 90 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)\n"
        "let q = rf.gauss(flip = 30 deg, dur = 2 ms, tbw = 2, thickness = 3 mm)\n";
    double gam = numv(pre, "system.gamma");
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "p.select.amp"), 4 / 3e-3 / (gam * 5e-3), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "q.select.amp"), 2 / 2e-3 / (gam * 3e-3), 1e-12);
    /* the select's moment from the pulse centre to its end, and the rephaser */
    double a = numv(pre, "p.select.amp");
    double after = timev(pre, "p.select.delay + p.select.rise + p.select.flat - (p.delay + p.centre)")
                   * 1e-9 + timev(pre, "p.select.fall") * 0.5e-9;
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "p.rephase.area"), -a * after, 1e-15);
    CU_ASSERT(timev(pre, "p.delay") >= timev(pre, "system.rf_dead_time"));
    CU_ASSERT(timev(pre, "p.delay") >= timev(pre, "p.select.delay + p.select.rise"));
    CU_ASSERT_EQUAL(numv(pre, "len(p.shape)"), 3000);
    /* a slice at z is reached by the frequency offset G γ z */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "rf.offset_freq(p, 10 mm)"), a * gam * 0.01, 1e-9);
}

/* The sequence PRE, `param te = TE ns`, then BODY inside `sequence { }`,
   compiles at te and is E0620 (below the minimum) at te - step. */
static void expect_min_te(const char *pre, const char *body, int64_t te, int64_t step)
{
    for (int k = 0; k < 2; k++) {
        char *src = xasprintf("%sparam te = %lld ns\nsequence {\n%s}\n", pre,
                              (long long)(te - k * step), body);
        if (k == 0) {
            struct lbc_program *p = compile_ok(src);
            CU_ASSERT_PTR_NOT_NULL(p);
            lbc_free(p);
        } else {
            expect_err(src, 620);
        }
        free(src);
    }
}

/* timing: min_te_gre and min_te_se are exactly the compiler's minimum TE
   of a gradient echo and a spin echo laid out as the helpers assume: at
   that TE it compiles; one block raster step less (two for the spin echo,
   whose TE/2 must stay on the raster) is E0620 (below the minimum). */
static void test_stdlib_timing(void)
{
    const char *pre = STD_PRE
        "let exc = rf.sinc(flip = 15 deg, dur = 2 ms, tbw = 4, thickness = 5 mm)\n"
        "let ro = readout.cartesian(fov = 256 mm, matrix = 128, dwell = 10 us)\n"
        "let lobes = max(grad.dur(exc.rephase), grad.dur(ro.prephaser))\n";
    int64_t te = timev(pre, "timing.min_te_gre(exc, lobes, ro)");
    CU_ASSERT(te > 0);
    expect_min_te(pre,
                  "  block excite { rf exc grad z exc.select }\n"
                  "  block { grad z exc.rephase grad x ro.prephaser }\n"
                  "  block align adc = excite.rf + te { grad x ro.grad adc ro.adc }\n",
                  te, 10000);
    /* min_te_se: the same for a spin echo laid out as the helper assumes
       (excitation, lobes, crusher, refocusing, crusher, readout) */
    const char *se = STD_PRE
        "let exc = rf.sinc(flip = 90 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)\n"
        "let ref = rf.sinc(flip = 180 deg, dur = 3 ms, tbw = 4, thickness = 5 mm, "
        "use = \"refocusing\")\n"
        "let ro = readout.cartesian(fov = 256 mm, matrix = 128, dwell = 20 us)\n"
        "let cr = grad.crusher(cycles = 4, length = 5 mm)\n"
        "let pre = max(grad.dur(exc.rephase), grad.dur(ro.prephaser))\n";
    int64_t te_se = timev(se, "timing.min_te_se(exc, pre, ref, grad.dur(cr), ro)");
    CU_ASSERT(te_se > 0);
    expect_min_te(se,
                  "  block excite { rf exc grad z exc.select }\n"
                  "  block { grad z exc.rephase grad x ro.prephaser }\n"
                  "  block { grad z cr }\n"
                  "  block align rf = excite.rf + te / 2 { rf ref grad z ref.select }\n"
                  "  block { grad z cr }\n"
                  "  block align adc = excite.rf + te { grad x ro.grad adc ro.adc }\n",
                  te_se, 20000);
    /* min_tr: the blocks' durations on the block raster, summed */
    CU_ASSERT_EQUAL(timev(STD_PRE, "timing.min_tr([1 ms, 15 us, 2 ms])"), 3020000);
}

/* =================================================================== */

int register_lang_timing_tests(void)
{
    static const struct test_def timing[] = {
        { "spin echo: te/2, te, tr exact on every repetition", test_timing_spin_echo },
        { "TE too short: E0620 with the true minimum", test_timing_min_te },
        { "TR too short: E0620", test_timing_tr_too_short },
        { "determinism", test_timing_determinism },
        { "bytecode round trip plays the same events", test_timing_bytecode_roundtrip },
    };
    static const struct test_def stdlib[] = {
        { "grad: trap_area, triangle shortest and exact; spoilers", test_stdlib_trap_area },
        { "readout: Cartesian, phase encoding, EPI steps of 1/fov", test_stdlib_readout },
        { "rf: slice select and rephaser", test_stdlib_rf },
        { "timing: min_te_gre, min_te_se are the compiler's minimum; min_tr", test_stdlib_timing },
    };
    return TEST_ADD_SUITE("lang.timing", timing) ||
           TEST_ADD_SUITE("lang.stdlib", stdlib);
}
