/*
 * test_lang_events: CUnit suites for what programs of the sequence language
 * play, end to end through compile_text() and the timing VM:
 *
 *   lang.import   stdlib modules, modules beside the sequence, missing
 *                 modules and import cycles
 *   lang.events   blocks and their events as the VM plays them
 *   lang.loops    loops stay loops; per-iteration values seen by a backend
 *
 * Run-time values come from the events tests/langutil.c's collecting
 * backend records; sequences from $top_srcdir/sequences (else ./sequences).
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

int register_lang_events_tests(void);

/* =================================================================== */
/* lang.import                                                          */

static void test_import_stdlib(void)
{
    const char *pre = "import grad\nimport grad as g2\nimport rf, readout\n"
                      "let t = grad.trap(amp = 10 mT/m, rise = 100 us, flat = 1 ms)\n";
    const struct time_case times[] = {
        { "grad.dur(t)", 1200 * US },
        { "g2.dur(t)", 1200 * US },
        { "t.fall", 100 * US },
    };
    EXPECT_TIMES(pre, times);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "t.area"), 10e-3 * 1.1e-3, 1e-18);
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "grad.scale(t, -0.5).amp"), -5e-3, 1e-18);
    CU_ASSERT_EQUAL(timev(pre, "rf.hard(flip = 90 deg).dur"), 500 * US);
    CU_ASSERT_EQUAL(numv(pre, "readout.pe_scale(0, 128)"), 1);
    /* trap_area: the exact area on the gradient raster */
    CU_ASSERT_DOUBLE_EQUAL(numv(pre, "grad.trap_area(area = 20 mT/m * 1 ms).area"), 20e-6,
                           1e-15);
    CU_ASSERT_EQUAL(timev(pre, "grad.trap_area(area = 20 mT/m * 1 ms).rise % 10 us"), 0);
    /* private names are not exported; unknown names are reported */
    const struct err_case errs[] = {
        { "import rf\nlet x = rf._sinc(0)\nsequence { }\n", 202 },
        { "import grad\nlet x = grad.nosuch\nsequence { }\n", 202 },
        { "import grad as g\nimport rf as g\nsequence { }\n", 215 },
    };
    EXPECT_ERRS(errs);
}

struct tmpdir {
    char path[64];
    char files[8][256];
    int n;
};

static void td_init(struct tmpdir *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/larmor_test_XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(t->path));
}

static const char *td_write(struct tmpdir *t, const char *name, const char *text)
{
    char *p = t->files[t->n++];
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/%s", t->path, name);
    memcpy(p, tmp, sizeof tmp);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void td_fini(struct tmpdir *t)
{
    for (int i = 0; i < t->n; i++)
        unlink(t->files[i]);
    rmdir(t->path);
}

/* Compile `src` as if it were the file NAME in t; returns the program. */
static struct lbc_program *td_compile(struct tmpdir *t, const char *name, const char *src,
                                      struct diag_ctx *d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", t->path, name);
    return compile_at(path, src, NULL, 0, d);
}

static void test_import_local(void)
{
    struct tmpdir t;
    td_init(&t);
    td_write(&t, "mymod.psq", "# a local module\nimport grad\nfn twice(x) = 2 * x\nlet k = 21\n"
                              "fn trap_dur(a) = grad.dur(grad.trap(amp = a, rise = 50 us))\n");
    /* a local module shadows the stdlib one of the same name */
    td_write(&t, "rf.psq", "let marker = 7\n");
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = td_compile(&t, "main.psq",
        "import mymod, rf\nparam v = mymod.twice(mymod.k)\nparam m = rf.marker\n"
        "param td = mymod.trap_dur(1 mT/m)\nsequence { }\n", &d);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (!p)
        diag_print_all(&d, stderr, false);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    if (p) {
        CU_ASSERT_EQUAL(find_param(p, "v")->f, 42);
        CU_ASSERT_EQUAL(find_param(p, "m")->f, 7);
        CU_ASSERT_EQUAL(find_param(p, "td")->t, 100 * US);
    }
    lbc_free(p);
    diag_fini(&d);
    /* errors inside an imported module point into that module */
    td_write(&t, "bad.psq", "let oops = 1 ms + 1 mm\n");
    diag_init(&d);
    p = td_compile(&t, "main2.psq", "import bad\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    int i = find_code(&d, 301);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        const char *fp = diag_file(&d, d.diags[i]->span.file)->path;
        CU_ASSERT_PTR_NOT_NULL(strstr(fp, "bad.psq"));
        CU_ASSERT_EQUAL(d.diags[i]->span.start, 11);
    }
    lbc_free(p);
    diag_fini(&d);
    /* a module cannot declare params or a sequence */
    td_write(&t, "withparam.psq", "param x = 1\n");
    diag_init(&d);
    p = td_compile(&t, "main3.psq", "import withparam\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 504) >= 0);
    lbc_free(p);
    diag_fini(&d);
    td_fini(&t);
}

static void test_import_errors(void)
{
    struct diag_ctx d;
    const char *src = "import nosuchmodule\nsequence { }\n";
    int i = compile_err_d(src, NULL, 0, 501, &d);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "nosuchmodule"));
        CU_ASSERT_EQUAL(d.diags[i]->span.start, 7);
        CU_ASSERT_EQUAL(d.diags[i]->span.end, 7 + strlen("nosuchmodule"));
    }
    diag_fini(&d);

    struct tmpdir t;
    td_init(&t);
    td_write(&t, "cyc_a.psq", "import cyc_b\nlet a = 1\n");
    td_write(&t, "cyc_b.psq", "import cyc_a\nlet b = 2\n");
    td_write(&t, "self.psq", "import self\n");
    diag_init(&d);
    struct lbc_program *p = td_compile(&t, "main.psq", "import cyc_a\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    i = find_code(&d, 502);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "import cycle"));
        CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[i]->msg, "cyc_a -> cyc_b -> cyc_a"));
        CU_ASSERT_PTR_NOT_NULL(strstr(diag_file(&d, d.diags[i]->span.file)->path, "cyc_b.psq"));
    }
    lbc_free(p);
    diag_fini(&d);
    diag_init(&d);
    p = td_compile(&t, "main2.psq", "import self\nsequence { }\n", &d);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(find_code(&d, 502) >= 0);
    lbc_free(p);
    diag_fini(&d);
    td_fini(&t);
}

/* =================================================================== */
/* lang.events                                                          */

static void test_event_hard_pulse_flip(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "import rf\n"
        "sequence {\n"
        "  block a { rf rf.hard(flip = 90 deg) }\n"
        "  block b { rf rf.hard(flip = 30 deg, dur = 1 ms, phase = 90 deg) }\n"
        "  block c { rf { shape: [0.5, 1, 0.5], dt: 2 us, flip: 10 deg, delay: 100 us } }\n"
        "  block d { rf { shape: [1, 1], amp: 5 uT, freq: 1 kHz, use: \"refocusing\" } }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 4);
    const struct ev *a = blk(&L, 0), *b = blk(&L, 1), *c = blk(&L, 2), *d = blk(&L, 3);
    /* amp = flip / (2 pi gamma_bar integral(shape dt)) */
    double want_a = (PI / 2) / (2 * PI * GAMMA_BAR * 500e-6);
    CU_ASSERT_DOUBLE_EQUAL(a->rf_amp, want_a, want_a * 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(a->rf_amp, 1.17432976e-5, 1e-13);
    CU_ASSERT_EQUAL(a->rf_n, 500);
    CU_ASSERT_EQUAL(a->rf_dt, 1 * US);
    CU_ASSERT_EQUAL(a->rf_dur, 500 * US);
    CU_ASSERT_EQUAL(a->rf_delay, 100 * US);                    /* system rf dead time */
    CU_ASSERT_EQUAL(a->rf_centre, a->start + 100 * US + 250 * US);
    CU_ASSERT_EQUAL(a->rf_use, VM_RFUSE_EXCITATION);
    CU_ASSERT_EQUAL(a->rf_sum, 500);
    CU_ASSERT_EQUAL(a->dur, 630 * US);                         /* 100 + 500 + 30 ringdown */
    double want_b = (PI / 6) / (2 * PI * GAMMA_BAR * 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(b->rf_amp, want_b, want_b * 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(b->rf_phase, PI / 2, 1e-15);
    CU_ASSERT_EQUAL(b->rf_centre, b->start + 100 * US + 500 * US);
    CU_ASSERT_EQUAL(b->start, a->start + a->dur);
    /* a shaped pulse: the integral is sum(shape) * dt */
    double want_c = (10 * PI / 180) / (2 * PI * GAMMA_BAR * 2.0 * 2e-6);
    CU_ASSERT_DOUBLE_EQUAL(c->rf_amp, want_c, want_c * 1e-12);
    CU_ASSERT_EQUAL(c->rf_dur, 6 * US);
    CU_ASSERT_EQUAL(c->rf_centre, c->start + 100 * US + 3 * US);
    CU_ASSERT_EQUAL(c->dur, 140 * US);            /* 106 us + 30 us ringdown up to the raster */
    CU_ASSERT_DOUBLE_EQUAL(d->rf_amp, 5e-6, 1e-20);
    CU_ASSERT_DOUBLE_EQUAL(d->rf_freq, 1000, 1e-12);
    CU_ASSERT_EQUAL(d->rf_use, VM_RFUSE_REFOCUSING);
    CU_ASSERT_EQUAL(d->rf_delay, 0);
    CU_ASSERT_EQUAL(d->rf_centre, d->start + 1 * US);
    evlog_free(&L);
    lbc_free(p);
    /* flip as a run-time value: amp scales with it */
    p = compile_run("import rf\nsequence { for i in 1 .. 4 { block { rf rf.hard(flip = i * 10 deg) } } }\n",
                    &L);
    for (size_t k = 0; k < 3 && k < nblocks(&L); k++) {
        double w = ((double)(k + 1) * 10 * PI / 180) / (2 * PI * GAMMA_BAR * 500e-6);
        CU_ASSERT_DOUBLE_EQUAL(blk(&L, k)->rf_amp, w, w * 1e-12);
    }
    evlog_free(&L);
    lbc_free(p);
}

static void test_event_rf_errors(void)
{
    struct diag_ctx d;
    const char *src = "import rf\nlet p = rf.hard(flip = 90 deg)\n"
                      "sequence { block { rf p\n rf p } }\n";
    int i = compile_err_d(src, NULL, 0, 609, &d);
    if (i >= 0) {
        CU_ASSERT_EQUAL(d.diags[i]->span.start, offset_of(src, "rf p", 1));
        CU_ASSERT_EQUAL(d.diags[i]->nnotes, 1);
        if (d.diags[i]->nnotes == 1)
            CU_ASSERT_EQUAL(d.diags[i]->notes[0].span.start, offset_of(src, "rf p", 0));
    }
    diag_fini(&d);
    expect_err("sequence { block { grad x { amp: 1 mT/m, rise: 10 us }\n"
               "grad x { amp: 1 mT/m, rise: 10 us } } }\n", 609);
    expect_err("sequence { block { adc { samples: 1, dwell: 1 us }\nadc { samples: 1, dwell: 1 us } } }\n",
               609);
    const struct err_case errs[] = {
        { "sequence { block { duration 1 ms\nduration 2 ms } }\n", 609 },
        { "sequence { block { rf { amp: 1 uT } } }\n", 603 },
        { "sequence { block { rf { shape: [1] } } }\n", 603 },
        { "sequence { block { rf { shape: [0, 0], flip: 90 deg } } }\n", 604 },
        { "sequence { block { rf { shape: [1], amp: 1 uT, use: \"bogus\" } } }\n", 605 },
        { "sequence { block { rf { shape: [1], amp: 1 mT/m } } }\n", 311 },
        { "sequence { block { rf 5 } }\n", 601 },
        { "sequence { block { rf { shape: [], amp: 1 uT } } }\n", 602 },
    };
    EXPECT_ERRS(errs);
}

static void test_event_gradients(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block t { grad y { amp: 10 mT/m, rise: 100 us, flat: 500 us, fall: 200 us, delay: 50 us }\n"
        "            grad x { amp: -5 mT/m, rise: 30 us } }\n"
        "  block w { grad z { waveform: [0 mT/m, 5 mT/m, 10 mT/m, 5 mT/m] } }\n"
        "  block w2 { grad x { waveform: [1 mT/m, -2 mT/m], dt: 20 us, delay: 10 us } }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 3);
    const struct ev *t = blk(&L, 0), *w = blk(&L, 1), *w2 = blk(&L, 2);
    CU_ASSERT_TRUE(t->has_grad[1]);
    CU_ASSERT_TRUE(t->has_grad[0]);
    CU_ASSERT_FALSE(t->has_grad[2]);
    CU_ASSERT_EQUAL(t->gkind[1], GRAD_TRAP);
    CU_ASSERT_DOUBLE_EQUAL(t->gamp[1], 10e-3, 1e-18);
    CU_ASSERT_EQUAL(t->gdelay[1], 50 * US);
    CU_ASSERT_EQUAL(t->grise[1], 100 * US);
    CU_ASSERT_EQUAL(t->gflat[1], 500 * US);
    CU_ASSERT_EQUAL(t->gfall[1], 200 * US);
    CU_ASSERT_EQUAL(t->gdur[1], 800 * US);
    /* fall defaults to rise, flat to 0 */
    CU_ASSERT_DOUBLE_EQUAL(t->gamp[0], -5e-3, 1e-18);
    CU_ASSERT_EQUAL(t->grise[0], 30 * US);
    CU_ASSERT_EQUAL(t->gflat[0], 0);
    CU_ASSERT_EQUAL(t->gfall[0], 30 * US);
    CU_ASSERT_EQUAL(t->dur, 850 * US);
    /* arbitrary: amp is the peak, the shape is normalised to it */
    CU_ASSERT_EQUAL(w->gkind[2], GRAD_ARB);
    CU_ASSERT_DOUBLE_EQUAL(w->gamp[2], 10e-3, 1e-18);
    CU_ASSERT_EQUAL(w->gn[2], 4);
    CU_ASSERT_EQUAL(w->gdt[2], 10 * US);                       /* gradient raster */
    CU_ASSERT_EQUAL(w->gdur[2], 40 * US);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][0], 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][1], 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][2], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w->gshape[2][3], 0.5, 1e-15);
    CU_ASSERT_EQUAL(w->dur, 40 * US);
    CU_ASSERT_DOUBLE_EQUAL(w2->gamp[0] * w2->gshape[0][0], 1e-3, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w2->gamp[0] * w2->gshape[0][1], -2e-3, 1e-15);
    CU_ASSERT_EQUAL(w2->gdt[0], 20 * US);
    CU_ASSERT_EQUAL(w2->gdelay[0], 10 * US);
    CU_ASSERT_EQUAL(w2->dur, 50 * US);
    evlog_free(&L);
    lbc_free(p);
    const struct err_case errs[] = {
        { "sequence { block { grad q { amp: 1 mT/m, rise: 10 us } } }\n", 611 },
        { "sequence { block { grad x { rise: 10 us } } }\n", 606 },
        { "sequence { block { grad x { amp: 1 mT/m } } }\n", 606 },
        { "sequence { block { grad x { amp: 1 mT, rise: 10 us } } }\n", 311 },
        { "sequence { block { grad x { amp: 1 mT/m, rise: 10 } } }\n", 311 },
        { "sequence { block { grad x { waveform: [1 mT, 2 mT] } } }\n", 602 },
    };
    EXPECT_ERRS(errs);
}

static void test_event_adc_trigger_labels(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block r { adc { samples: 128, dwell: 10 us, delay: 20 us, freq: 100 Hz, phase: 45 deg }\n"
        "            trigger { channel: 2, delay: 5 us, dur: 40 us }\n"
        "            label lin = 7\n"
        "            label slc = 2 }\n"
        "  block s { label lin += 3\n"
        "            adc { samples: 1, dwell: 100 ns } }\n"
        "  block { label lin += -1 }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL_FATAL(nblocks(&L), 3);
    const struct ev *r = blk(&L, 0), *s = blk(&L, 1), *u = blk(&L, 2);
    CU_ASSERT_TRUE(r->has_adc);
    CU_ASSERT_EQUAL(r->adc_samples, 128);
    CU_ASSERT_EQUAL(r->adc_dwell, 10 * US);
    CU_ASSERT_EQUAL(r->adc_delay, 20 * US);
    CU_ASSERT_EQUAL(r->adc_centre, r->start + 20 * US + 640 * US);
    CU_ASSERT_DOUBLE_EQUAL(r->adc_freq, 100, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r->adc_phase, PI / 4, 1e-15);
    CU_ASSERT_EQUAL(r->dur, 1310 * US);               /* + 10 us ADC dead time */
    CU_ASSERT_TRUE(r->has_trig);
    CU_ASSERT_EQUAL(r->trig_ch, 2);
    CU_ASSERT_EQUAL(r->trig_delay, 5 * US);
    CU_ASSERT_EQUAL(r->trig_dur, 40 * US);
    /* labels set in a block are latched by that block's ADC */
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_LIN], 7);
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_SLC], 2);
    CU_ASSERT_EQUAL(r->adc_labels[VM_LABEL_PAR], 0);
    CU_ASSERT_EQUAL(s->adc_labels[VM_LABEL_LIN], 10);
    CU_ASSERT_EQUAL(s->adc_labels[VM_LABEL_SLC], 2);
    CU_ASSERT_EQUAL(s->dur, 20 * US);             /* 100 ns + 10 us dead time up to the raster */
    CU_ASSERT_EQUAL(u->labels[VM_LABEL_LIN], 9);
    CU_ASSERT_FALSE(u->has_adc);
    evlog_free(&L);
    lbc_free(p);
    const struct err_case errs[] = {
        { "sequence { block { label foo = 1 } }\n", 610 },
        { "sequence { block { label lin = 1.5 } }\n", 610 },
        { "sequence { block { adc { samples: 0, dwell: 1 us } } }\n", 607 },
        { "sequence { block { adc { samples: 10 } } }\n", 607 },
        { "sequence { block { trigger { channel: 300 } } }\n", 608 },
        { "sequence { block { flash 1 } }\n", 106 },
    };
    EXPECT_ERRS(errs);
}

static void test_event_blocks(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  block a { duration 5 ms }\n"
        "  wait 1 ms\n"
        "  block b { grad x { amp: 1 mT/m, rise: 15 us } }\n"       /* 30 us -> raster */
        "  block c align start = a.start + 10 ms { duration 1 ms }\n"
        "  block { duration c.end - a.start }\n"
        "  wait until a.start + 30 ms\n"
        "}\n", &L);
    /* a, delay 1 ms, b, alignment delay, c, anonymous, wait delay */
    CU_ASSERT_EQUAL_FATAL(L.n, 7);
    CU_ASSERT_STRING_EQUAL(L.v[0].name, "a");
    CU_ASSERT_EQUAL(L.v[0].start, 0);
    CU_ASSERT_EQUAL(L.v[0].dur, 5 * MS);
    CU_ASSERT_TRUE(L.v[1].is_delay);
    CU_ASSERT_EQUAL(L.v[1].dur, 1 * MS);
    CU_ASSERT_STRING_EQUAL(L.v[2].name, "b");
    CU_ASSERT_EQUAL(L.v[2].start, 6 * MS);
    CU_ASSERT_EQUAL(L.v[2].dur, 30 * US);
    CU_ASSERT_TRUE(L.v[3].is_delay);
    CU_ASSERT_EQUAL(L.v[3].dur, 10 * MS - 6 * MS - 30 * US);
    CU_ASSERT_STRING_EQUAL(L.v[4].name, "c");
    CU_ASSERT_EQUAL(L.v[4].start, 10 * MS);
    CU_ASSERT_EQUAL(L.v[5].name[0], 0);
    CU_ASSERT_EQUAL(L.v[5].dur, 11 * MS);
    CU_ASSERT_TRUE(L.v[6].is_delay);
    CU_ASSERT_EQUAL(L.v[6].start, 22 * MS);
    CU_ASSERT_EQUAL(L.total, 30 * MS);
    /* blocks follow each other without gaps */
    for (size_t k = 1; k < L.n; k++)
        CU_ASSERT_EQUAL(L.v[k].start, L.v[k - 1].start + L.v[k - 1].dur);
    evlog_free(&L);
    lbc_free(p);
    /* a block shorter than its events; a target in the past */
    expect_err("sequence { block { grad x { amp: 1 mT/m, rise: 1 ms } ; duration 1 ms } }\n", 642);
    expect_err("sequence { block a { duration 5 ms }\n"
               "block align start = a.start + 1 ms { duration 1 ms } }\n", 620);
    const struct err_case errs[] = {
        { "sequence { wait -1 ms }\n", 613 },
        { "block { duration 1 ms }\nsequence { }\n", 100 },
        { "fn f() { block { duration 1 ms } }\nlet x = f()\nsequence { }\n", 214 },
        { "sequence { block a { duration 1 ms } ; block b { duration a.adc } }\n", 204 },
        { "sequence { block a align rf = 1 ms { duration 1 ms } }\n", 612 },
        { "param x = 1\n", 507 },
        { "sequence { }\nsequence { }\n", 506 },
    };
    EXPECT_ERRS(errs);
}

/* =================================================================== */
/* lang.loops                                                           */


static void test_loops_stay_loops(void)
{
    const char *d16[] = { "matrix=16" }, *d512[] = { "matrix=512" };
    struct lbc_program *a = compile_file_ok("gradient_echo.psq", d16, 1);
    struct lbc_program *b = compile_file_ok("gradient_echo.psq", d512, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->ncode, b->ncode);
    CU_ASSERT_EQUAL(a->nloops, b->nloops);
    CU_ASSERT_EQUAL(a->ntmpls, b->ntmpls);
    CU_ASSERT(a->ncode < 400);
    struct evlog La, Lb;
    CU_ASSERT_EQUAL(run_log(a, &La), 0);
    CU_ASSERT_EQUAL(run_log(b, &Lb), 0);
    size_t na = 0, nb = 0;
    for (size_t k = 0; k < La.n; k++)
        na += !strcmp(La.v[k].name, "excite");
    for (size_t k = 0; k < Lb.n; k++)
        nb += !strcmp(Lb.v[k].name, "excite");
    CU_ASSERT_EQUAL(na, 16);
    CU_ASSERT_EQUAL(nb, 512);
    CU_ASSERT_EQUAL(La.total, 16 * 15 * MS);
    CU_ASSERT_EQUAL(Lb.total, 512 * 15 * MS);
    evlog_free(&La);
    evlog_free(&Lb);
    lbc_free(a);
    lbc_free(b);
    /* the same with the spin echo (nested loops) */
    const char *s1[] = { "matrix=16", "slices=2" }, *s2[] = { "matrix=256", "slices=9" };
    a = compile_file_ok("spin_echo.psq", s1, 2);
    b = compile_file_ok("spin_echo.psq", s2, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->ncode, b->ncode);
    CU_ASSERT_EQUAL(a->nloops, 2);
    lbc_free(a);
    lbc_free(b);
}

static void test_loops_gre_per_iteration(void)
{
    const char *defs[] = { "matrix=16" };
    struct lbc_program *p = compile_file_ok("gradient_echo.psq", defs, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct evlog L;
    CU_ASSERT_EQUAL(run_log(p, &L), 0);
    const double inc = 117 * PI / 180;
    const double kmax = 8 / 0.256;                  /* matrix / 2 / fov, 1/m */
    int n = 0;
    double amp0 = 0;
    int64_t tr_start = -1;
    for (size_t k = 0; k < L.n; k++) {
        const struct ev *e = &L.v[k];
        if (strcmp(e->name, "excite"))
            continue;
        CU_ASSERT_FATAL(k + 2 < L.n);
        const struct ev *pe = &L.v[k + 1];
        /* the echo block follows, after an alignment delay */
        const struct ev *echo = NULL;
        for (size_t j = k + 1; j < L.n && !echo; j++)
            if (!strcmp(L.v[j].name, "echo"))
                echo = &L.v[j];
        CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
        /* RF spoiling: phi_n = 117 deg * n (n + 1) / 2 mod 2 pi, on the RF and the ADC */
        double want = fmod(inc * n * (n + 1) / 2, 2 * PI);
        CU_ASSERT_DOUBLE_EQUAL(e->rf_phase, want, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(echo->adc_phase, want, 1e-9);
        CU_ASSERT(e->rf_phase >= 0 && e->rf_phase < 2 * PI);
        /* labels */
        CU_ASSERT_EQUAL(echo->adc_labels[VM_LABEL_LIN], n);
        /* phase encode: line 0 has the full area -kmax / gamma, line n the
           fraction (8 - n) / 8 of it */
        CU_ASSERT_TRUE(pe->has_grad[1]);
        double area = pe->gamp[1] * (pe->gflat[1] + (pe->grise[1] + pe->gfall[1]) / 2.0) * 1e-9;
        double want_area = -kmax / GAMMA_BAR * (8.0 - n) / 8.0;
        CU_ASSERT_DOUBLE_EQUAL(area, want_area, 1e-12);
        if (n == 0)
            amp0 = pe->gamp[1];
        CU_ASSERT_DOUBLE_EQUAL(pe->gamp[1], amp0 * (8.0 - n) / 8.0, fabs(amp0) * 1e-12);
        /* TE: the echo centre lies te after the excitation centre; TR */
        CU_ASSERT_EQUAL(echo->adc_centre - e->rf_centre, 6 * MS);
        if (tr_start >= 0)
            CU_ASSERT_EQUAL(e->start - tr_start, 15 * MS);
        tr_start = e->start;
        n++;
    }
    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(L.total - tr_start, 15 * MS);
    evlog_free(&L);
    lbc_free(p);
}

static void test_loops_nested_and_labels(void)
{
    struct evlog L;
    struct lbc_program *p = compile_run(
        "sequence {\n"
        "  for a in 0 .. 3 {\n"
        "    for b in 2 .. 4 {\n"
        "      block x { adc { samples: 1, dwell: 1 us } ; label lin = a * 10 + b ; label avg += 1 }\n"
        "    }\n"
        "    for e in 5 .. 5 { block never { duration 1 ms } }\n"
        "  }\n"
        "}\n", &L);
    CU_ASSERT_EQUAL(nblocks(&L), 6);
    int k = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 2; b < 4; b++, k++) {
            const struct ev *e = blk(&L, (size_t)k);
            if (!e)
                continue;
            CU_ASSERT_STRING_EQUAL(e->name, "x");
            CU_ASSERT_EQUAL(e->adc_labels[VM_LABEL_LIN], a * 10 + b);
            CU_ASSERT_EQUAL(e->adc_labels[VM_LABEL_AVG], k + 1);
        }
    evlog_free(&L);
    lbc_free(p);
    /* loop bounds: whole numbers */
    const struct err_case errs[] = {
        { "sequence { for i in 0 .. 2.5 { } }\n", 308 },
        { "sequence { for i in 0 ms .. 2 { } }\n", 311 },
        { "fn f() { for i in 0 .. 2 { } }\nlet x = f()\nsequence { }\n", 214 },
    };
    EXPECT_ERRS(errs);
}

/* =================================================================== */

int register_lang_events_tests(void)
{
    static const struct test_def import[] = {
        { "stdlib modules", test_import_stdlib },
        { "modules beside the sequence", test_import_local },
        { "missing module E0501, cycle E0502", test_import_errors },
    };
    static const struct test_def events[] = {
        { "rf: flip to amplitude, centre", test_event_hard_pulse_flip },
        { "rf errors, one rf per block E0609", test_event_rf_errors },
        { "trapezoids and arbitrary gradients", test_event_gradients },
        { "adc, trigger, labels", test_event_adc_trigger_labels },
        { "blocks, durations, delays, alignment", test_event_blocks },
    };
    static const struct test_def loops[] = {
        { "ncode independent of matrix", test_loops_stay_loops },
        { "GRE: RF spoiling, phase encode, labels per line", test_loops_gre_per_iteration },
        { "nested loops and label counters", test_loops_nested_and_labels },
    };
    return TEST_ADD_SUITE("lang.import", import) ||
           TEST_ADD_SUITE("lang.events", events) ||
           TEST_ADD_SUITE("lang.loops", loops);
}
