/*
 * test_check: the safety checks. Each check has a failing and a passing
 * case; SAR is compared with the closed-form ∫B1² dt of rectangular pulse
 * trains (window edges at exactly 10 s and 6 min included); PNS with the
 * closed form of a single ramp and with an independent numerical
 * convolution of a trapezoid train; the b-value with the closed-form
 * Stejskal–Tanner b of trapezoid pairs. The golden diagnostics of the failing
 * cases are in tests/golden/errors/check_*.psq.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "runtime/check/check.h"
#include "base/diag.h"
#include "tests/testutil.h"
#include "runtime/system/system.h"

int register_check_tests(void);

#define GAMMA_BAR 42.577478518e6

struct result {
    struct check *ck;
    struct lbc_program *p;
    struct diag_ctx d;
};

/* Compile src against sys (NULL: the built-in default) with the checks on. */
static void run(const char *src, const struct system *sys, struct result *r)
{
    memset(r, 0, sizeof *r);
    diag_init(&r->d);
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = "check.psq";
    o.stdlib_dir = test_stdlib_dir();
    o.sys = sys;
    o.check_out = &r->ck;
    r->p = compile_text("check.psq", src, strlen(src), &o, &r->d);
}

static void done(struct result *r)
{
    check_free(r->ck);
    lbc_free(r->p);
    diag_fini(&r->d);
}

static bool has_code(const struct result *r, int code)
{
    for (size_t i = 0; i < r->d.ndiags; i++)
        if (r->d.diags[i]->code == code)
            return true;
    return false;
}

/* The program must check clean (no errors, no warnings). */
static void expect_clean(const char *src, const struct system *sys)
{
    struct result r;
    run(src, sys, &r);
    CU_ASSERT_PTR_NOT_NULL(r.p);
    CU_ASSERT_PTR_NOT_NULL(r.ck);
    CU_ASSERT_EQUAL(r.d.ndiags, 0);
    if (r.d.ndiags) {
        fprintf(stderr, "\n--- expected clean:\n%s\n", src);
        diag_print_all(&r.d, stderr, false);
    }
    done(&r);
}

/* The program must fail with this code (and only safety errors). */
static void expect_code(const char *src, const struct system *sys, int code)
{
    struct result r;
    run(src, sys, &r);
    CU_ASSERT_TRUE(has_code(&r, code));
    if (!has_code(&r, code)) {
        fprintf(stderr, "\n--- expected E%04d for:\n%s\n", code, src);
        diag_print_all(&r.d, stderr, false);
    }
    if (code != CK_ACOUSTIC) {
        CU_ASSERT_PTR_NOT_NULL(r.ck);
        if (r.ck)
            CU_ASSERT(check_count(r.ck, false) > 0);
    }
    done(&r);
}

/* ---- timing, rasters, dead times ---- */

static void test_raster(void)
{
    expect_code("sequence { block { grad x { amp: 1 mT/m, rise: 15 us } } }\n", NULL, CK_RASTER);
    expect_clean("sequence { block { grad x { amp: 2 mT/m, rise: 20 us } } }\n", NULL);
    expect_code("sequence { block { adc { samples: 8, dwell: 10 us, delay: 10.05 us } } }\n",
                NULL, CK_RASTER);
    expect_code("sequence { block { duration 15 us } }\n", NULL, CK_RASTER);
    expect_code("sequence { block { duration 10 us }\n wait 5 us }\n", NULL, CK_RASTER);
    expect_clean("sequence { block { duration 20 us }\n wait 10 us }\n", NULL);
}

static void test_deadtimes(void)
{
    const char *rf0 = "sequence { block { rf { shape: [1, 1], dt: 100 us, flip: 10 deg } } }\n";
    expect_code(rf0, NULL, CK_DEADTIME);
    expect_clean("sequence { block { rf { shape: [1, 1], dt: 100 us, flip: 10 deg, delay: 100 us } } }\n",
                 NULL);
    /* an explicit duration leaving no ringdown */
    expect_code("sequence { block { rf { shape: [1, 1], dt: 100 us, flip: 10 deg, delay: 100 us }\n"
                "  duration 310 us } }\n", NULL, CK_DEADTIME);
    expect_code("sequence { block { adc { samples: 8, dwell: 10 us } } }\n", NULL, CK_DEADTIME);
    expect_code("sequence { block { adc { samples: 8, dwell: 10 us, delay: 10 us }\n"
                "  duration 90 us } }\n", NULL, CK_DEADTIME);
    expect_clean("sequence { block { adc { samples: 8, dwell: 10 us, delay: 10 us }\n"
                 "  duration 100 us } }\n", NULL);
}

static void test_overlap(void)
{
    expect_code("sequence { block { rf { shape: [1, 1], dt: 100 us, flip: 10 deg, delay: 100 us }\n"
                "  adc { samples: 8, dwell: 10 us, delay: 320 us } } }\n", NULL, CK_OVERLAP);
    /* after the ringdown and the ADC dead time: no overlap */
    expect_clean("sequence { block { rf { shape: [1, 1], dt: 100 us, flip: 10 deg, delay: 100 us }\n"
                 "  adc { samples: 8, dwell: 10 us, delay: 340 us } } }\n", NULL);
}

/* ---- gradients ---- */

static void test_gradient_limits(void)
{
    expect_code("sequence { block { grad y { amp: 45 mT/m, rise: 400 us, flat: 1 ms } } }\n", NULL,
                CK_GRAD);
    expect_clean("sequence { block { grad y { amp: 40 mT/m, rise: 400 us, flat: 1 ms } } }\n",
                 NULL);
    expect_code("sequence { block { grad z { amp: 20 mT/m, rise: 100 us, flat: 1 ms } } }\n", NULL,
                CK_SLEW);
    expect_clean("sequence { block { grad z { amp: 15 mT/m, rise: 100 us, flat: 1 ms } } }\n",
                 NULL);
    /* the vector limit of a system below sqrt(3) x the per-axis limit */
    struct system s;
    system_default(&s);
    s.max_grad_vector = 50e-3;
    const char *both = "sequence { block { grad x { amp: 40 mT/m, rise: 400 us, flat: 1 ms }\n"
                       "  grad y { amp: 40 mT/m, rise: 400 us, flat: 1 ms } } }\n";
    expect_code(both, &s, CK_GRADVEC);
    /* the same lobes one after the other, and a pair whose flat tops
       do not overlap (x ramps down while y ramps up) */
    expect_clean("sequence { block { grad x { amp: 40 mT/m, rise: 400 us, flat: 1 ms } }\n"
                 "  block { grad y { amp: 40 mT/m, rise: 400 us, flat: 1 ms } } }\n", &s);
    expect_clean("sequence { block { grad x { amp: 30 mT/m, rise: 400 us, flat: 1 ms }\n"
                 "  grad y { amp: 30 mT/m, rise: 400 us, flat: 1 ms, delay: 1.4 ms } } }\n", &s);
}

static void test_gradient_continuity(void)
{
    /* an arbitrary waveform ending at 10 mT/m, then nothing */
    expect_code("sequence { block { grad x { waveform: [0 mT/m, 5 mT/m, 10 mT/m] } }\n"
                "  block { duration 100 us } }\n", NULL, CK_JUMP);
    /* continued by a waveform starting at that value and ramping down */
    expect_clean("sequence { block { grad x { waveform: [0 mT/m, 1 mT/m, 2 mT/m] } }\n"
                 "  block { grad x { waveform: [2 mT/m, 1 mT/m, 0 mT/m] } } }\n", NULL);
    /* still on when the sequence ends */
    expect_code("sequence { block { grad x { waveform: [0 mT/m, 1 mT/m, 2 mT/m] } } }\n", NULL,
                CK_JUMP);
    /* jumping from zero after a delay */
    expect_code("sequence { block { grad x { waveform: [10 mT/m, 0 mT/m], delay: 20 us } } }\n",
                NULL, CK_JUMP);
}

/* ---- RF and ADC ---- */

static void test_rf_adc(void)
{
    expect_code("import rf\nsequence { block { rf rf.hard(flip = 180 deg, dur = 100 us) } }\n",
                NULL, CK_B1);
    expect_clean("import rf\nsequence { block { rf rf.hard(flip = 180 deg, dur = 1 ms) } }\n",
                 NULL);
    expect_code("import rf\nsequence { block { rf rf.hard(flip = 10 deg, dur = 25 ms) } }\n", NULL,
                CK_RFDUR);
    expect_code("sequence { block { adc { samples: 8, dwell: 150 ns, delay: 10 us } } }\n", NULL,
                CK_DWELL);
    expect_code("sequence { block { adc { samples: 8, dwell: 2 ms, delay: 10 us } } }\n", NULL,
                CK_DWELL);
    expect_code("sequence { block { adc { samples: 10000, dwell: 1 us, delay: 10 us } } }\n",
                NULL, CK_SAMPLES);
    expect_clean("sequence { block { adc { samples: 8192, dwell: 1 us, delay: 10 us } } }\n", NULL);
}

/* ---- SAR ---- */

/* A train of n rectangular 180° pulses of 1 ms, one every tr. */
static void sar_train(int n, const char *tr, const struct system *sys, struct result *r)
{
    char src[512];
    snprintf(src, sizeof src,
             "import rf\nlet p = rf.hard(flip = 180 deg, dur = 1 ms)\n"
             "sequence { for i in 0 .. %d {\n  block excite { rf p }\n"
             "  wait until excite.start + %s } }\n", n, tr);
    run(src, sys, r);
}

/* ∫B1² dt of one pulse: B1 = (1/2 turn) / (gamma_bar · 1 ms), for 1 ms */
static double pulse_energy(void)
{
    double b1 = 0.5 / (GAMMA_BAR * 1e-3);
    return b1 * b1 * 1e-3;
}

static void test_sar_hand(void)
{
    struct system s;
    system_default(&s);
    double k = s.sar_k[SAR_WHOLE_BODY], kh = s.sar_k[SAR_HEAD];
    double ep = pulse_energy();
    struct result r;
    /* 200 pulses, TR 100 ms: any 10 s window holds exactly 100 pulses;
       the 20 s program is one 6 min window (nothing before or after) */
    sar_train(200, "100 ms", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    const struct check_summary *m = check_get_summary(r.ck);
    CU_ASSERT_EQUAL(m->total_ns, 20000000000LL);
    CU_ASSERT_DOUBLE_EQUAL(m->rf_energy, 200 * ep, 200 * ep * 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m->sar[SAR_WHOLE_BODY][0], k * 100 * ep / 10, k * ep * 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->sar[SAR_HEAD][0], kh * 100 * ep / 10, kh * ep * 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->sar[SAR_WHOLE_BODY][1], k * 200 * ep / 360, k * ep * 1e-9);
    CU_ASSERT_EQUAL(r.d.nerrors, 0);
    done(&r);

    /* the reference-pulse model: K = E_ref / (B1_ref² tau_ref m) */
    system_default(&s);
    s.sar_model = SAR_MODEL_REFERENCE;
    s.sar_ref_b1 = 11.74e-6;
    s.sar_ref_dur_ns = 1000000;
    s.sar_ref_energy[SAR_WHOLE_BODY] = 0.58;
    s.sar_ref_energy[SAR_HEAD] = 0.062;
    s.head_mass = 5;
    system_derive(&s);
    double kref = 0.58 / (11.74e-6 * 11.74e-6 * 1e-3 * 70);
    CU_ASSERT_DOUBLE_EQUAL(s.sar_k[SAR_WHOLE_BODY], kref, kref * 1e-12);
    sar_train(200, "100 ms", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    m = check_get_summary(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(m->sar[SAR_WHOLE_BODY][0], kref * 100 * ep / 10, kref * ep * 1e-9);
    done(&r);
}

static void test_sar_window_edges(void)
{
    struct system s;
    system_default(&s);
    double k = s.sar_k[SAR_WHOLE_BODY], ep = pulse_energy();
    struct result r;
    /* exactly 10 s: 10 pulses, TR 1 s: the whole program is one window */
    sar_train(10, "1 s", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_EQUAL(check_get_summary(r.ck)->total_ns, 10000000000LL);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->sar[SAR_WHOLE_BODY][0], k * 10 * ep / 10,
                           k * ep * 1e-12);
    done(&r);
    /* 11 pulses over 11 s: pulse 0 starts at 0.1 ms and pulse 10 ends at
       10.0011 s, so no 10 s window holds more than 10 pulses */
    sar_train(11, "1 s", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->sar[SAR_WHOLE_BODY][0], k * 10 * ep / 10,
                           k * ep * 1e-12);
    done(&r);
    /* a program shorter than the window is averaged over the window */
    sar_train(5, "1 s", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->sar[SAR_WHOLE_BODY][0], k * 5 * ep / 10,
                           k * ep * 1e-12);
    done(&r);
    /* exactly 6 min: 361 pulses at TR 1 s, the last ends at 360.0011 s:
       no 6 min window holds more than 360 */
    sar_train(361, "1 s", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->sar[SAR_WHOLE_BODY][1], k * 360 * ep / 360,
                           k * ep * 1e-12);
    done(&r);
}

static void test_sar_limit(void)
{
    /* scale the whole-body constant so that the 10 s SAR of the TR 100 ms
       train lies just under, then just over, the normal-mode 4 W/kg */
    struct system s;
    system_default(&s);
    s.sar_region_on[SAR_HEAD] = false;
    double ep = pulse_energy();
    double k_at_limit = 4.0 / (100 * ep / 10);
    struct result r;
    s.sar_b1rms_coef[SAR_WHOLE_BODY] = k_at_limit * 0.999999;
    system_derive(&s);
    sar_train(200, "100 ms", &s, &r);
    CU_ASSERT_PTR_NOT_NULL(r.p);
    CU_ASSERT_FALSE(has_code(&r, CK_SAR));
    done(&r);
    s.sar_b1rms_coef[SAR_WHOLE_BODY] = k_at_limit * 1.000001;
    system_derive(&s);
    sar_train(200, "100 ms", &s, &r);
    CU_ASSERT_TRUE(has_code(&r, CK_SAR));
    done(&r);
    /* first level mode doubles the whole-body limit */
    s.mode = SYS_MODE_FIRST_LEVEL;
    sar_train(200, "100 ms", &s, &r);
    CU_ASSERT_FALSE(has_code(&r, CK_SAR));
    done(&r);
}

/* ---- PNS ---- */

static void test_pns_single_ramp(void)
{
    struct system s;
    system_default(&s);
    /* 20 mT/m in 200 us = 100 T/m/s for d = 200 us: the response at the
       end of the ramp is (s / S_min) · d / (c + d) */
    struct result r;
    run("sequence { block { grad x { amp: 20 mT/m, rise: 200 us, flat: 1 ms } } }\n", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    double want = (100 / s.pns_smin) * 200e-6 / (s.pns_chronaxie + 200e-6);
    const struct check_summary *m = check_get_summary(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(m->pns.value, want, 1e-9);
    CU_ASSERT_EQUAL(m->pns.time_ns, 200000);
    CU_ASSERT_EQUAL(m->pns.axis, 0);
    done(&r);
    /* the same ramp on two axes: root-sum-square; with weights */
    run("sequence { block { grad x { amp: 20 mT/m, rise: 200 us, flat: 1 ms }\n"
        "  grad y { amp: 20 mT/m, rise: 200 us, flat: 1 ms } } }\n", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->pns.value, want * sqrt(2), 1e-9);
    done(&r);
    s.pns_weight[0] = 0.5;
    run("sequence { block { grad x { amp: 20 mT/m, rise: 200 us, flat: 1 ms }\n"
        "  grad y { amp: 20 mT/m, rise: 200 us, flat: 1 ms } } }\n", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_DOUBLE_EQUAL(check_get_summary(r.ck)->pns.value, want * sqrt(1.25), 1e-9);
    done(&r);
}

/* Gradient of the bipolar train below at time t (s). */
static double train_g(double t, double amp, double rise, double flat, int n)
{
    double per = 2 * rise + flat;
    int k = (int)floor(t / per);
    if (t < 0 || k >= n)
        return 0;
    double u = t - k * per, sign = k % 2 ? -1 : 1;
    double g = u < rise ? u / rise : u < rise + flat ? 1 : (per - u) / rise;
    return sign * amp * g;
}

static void test_pns_train(void)
{
    /* 16 bipolar trapezoids (EPI-like), 30 mT/m, 250 us ramps, 300 us
       flat: the peak of the response from the check against a direct
       numerical convolution of the slew with c / (c + tau)² */
    struct system s;
    system_default(&s);
    const double amp = 30e-3, rise = 250e-6, flat = 300e-6;
    const int n = 16;
    struct result r;
    run("sequence { for i in 0 .. 16 {\n"
        "  block { grad y { amp: (if i % 2 == 0 then 1 else -1) * 30 mT/m, rise: 250 us,"
        " flat: 300 us } } } }\n", &s, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    double got = check_get_summary(r.ck)->pns.value;
    done(&r);
    const double dt = 50e-9, c = s.pns_chronaxie, total = n * (2 * rise + flat);
    size_t ns = (size_t)(total / dt) + 1;
    double *slew = malloc(ns * sizeof *slew);
    for (size_t i = 0; i < ns; i++) {
        double t = (i + 0.5) * dt;
        slew[i] = (train_g(t + dt / 2, amp, rise, flat, n) - train_g(t - dt / 2, amp, rise, flat, n)) / dt;
    }
    double best = 0;
    /* evaluate every 5 us over the train */
    for (double t = 5e-6; t <= total; t += 5e-6) {
        double acc = 0;
        size_t lim = (size_t)(t / dt);
        for (size_t i = 0; i < lim && i < ns; i++) {
            double tau = t - (i + 0.5) * dt;
            acc += slew[i] * dt * c / ((c + tau) * (c + tau));
        }
        acc = fabs(acc) / s.pns_smin;
        if (acc > best)
            best = acc;
    }
    free(slew);
    CU_ASSERT(best > 0.3);
    CU_ASSERT_DOUBLE_EQUAL(got, best, best * 5e-3);
    if (fabs(got - best) > best * 5e-3)
        fprintf(stderr, "\nPNS train: check %.6f, numerical %.6f\n", got, best);
}

static void test_pns_limit(void)
{
    /* three axes at the full slew rate together exceed 80 % */
    expect_code("sequence { block { grad x { amp: 40 mT/m, rise: 270 us, flat: 1 ms }\n"
                "  grad y { amp: 40 mT/m, rise: 270 us, flat: 1 ms }\n"
                "  grad z { amp: 40 mT/m, rise: 270 us, flat: 1 ms } } }\n", NULL, CK_PNS);
    /* one after the other they do not */
    expect_clean("sequence { block { grad x { amp: 40 mT/m, rise: 270 us, flat: 1 ms } }\n"
                 "  block { grad y { amp: 40 mT/m, rise: 270 us, flat: 1 ms } }\n"
                 "  block { grad z { amp: 40 mT/m, rise: 270 us, flat: 1 ms } } }\n", NULL);
    /* the plain dB/dt on a system with a fast gradient: 400 T/m/s x 0.2 m
       = 80 T/s against 0.8 · 20 T/s · (1 + 0.36 / 0.1) = 73.6 T/s */
    struct system s;
    system_default(&s);
    for (int a = 0; a < 3; a++)
        s.max_slew_axis[a] = 500;
    s.pns_smin = 1000;
    system_derive(&s);
    expect_code("sequence { block { grad x { amp: 40 mT/m, rise: 100 us, flat: 1 ms } } }\n", &s,
                CK_DBDT);
    expect_clean("sequence { block { grad x { amp: 20 mT/m, rise: 100 us, flat: 1 ms } } }\n", &s);
}

/* ---- acoustic ---- */

static void test_acoustic(void)
{
    /* EPI-like readouts of alternating polarity every 0.8 ms: the
       fundamental is 1 / (2 · 0.8 ms) = 625 Hz, inside 550 .. 650 Hz */
    const char *epi =
        "sequence { for i in 0 .. 8 { block {\n"
        "  grad x { amp: (if i % 2 == 0 then 1 else -1) * 10 mT/m, rise: 100 us, flat: 600 us }\n"
        "  adc { samples: 50, dwell: 10 us, delay: 150 us } } } }\n";
    struct result r;
    run(epi, NULL, &r);
    CU_ASSERT_PTR_NOT_NULL(r.p);            /* a warning does not fail the compile */
    CU_ASSERT_TRUE(has_code(&r, CK_ACOUSTIC));
    CU_ASSERT_EQUAL(r.d.nerrors, 0);
    done(&r);
    /* 1 ms spacing: 500 Hz, outside the bands */
    expect_clean("sequence { for i in 0 .. 8 { block {\n"
                 "  grad x { amp: (if i % 2 == 0 then 1 else -1) * 10 mT/m, rise: 100 us,"
                 " flat: 800 us }\n"
                 "  adc { samples: 50, dwell: 10 us, delay: 150 us } } } }\n", NULL);
}

/* ---- grouping and reporting ---- */

static void test_grouping(void)
{
    /* one violation per repetition, at one source span: one diagnostic
       naming the count, the first and the worst loop indices */
    struct result r;
    run("sequence { for line in 0 .. 64 { block {\n"
        "  grad y { amp: line * 1 mT/m, rise: 600 us, flat: 1 ms } } } }\n", NULL, &r);
    if (r.d.ndiags != 1)
        diag_print_all(&r.d, stderr, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_EQUAL(r.d.nerrors, 1);
    CU_ASSERT_EQUAL_FATAL(r.d.ndiags, 1);
    const struct diag *g = r.d.diags[0];
    CU_ASSERT_EQUAL(g->code, CK_GRAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(g->msg, "41 mT/m exceeds the limit 40 mT/m"));
    bool first = false, worst = false;
    for (size_t i = 0; i < g->nnotes; i++) {
        first |= strstr(g->notes[i].msg, "first of 23 occurrences") &&
                 strstr(g->notes[i].msg, "line=41");
        worst |= strstr(g->notes[i].msg, "worst: 63 mT/m") && strstr(g->notes[i].msg, "line=63");
    }
    CU_ASSERT_TRUE(first);
    CU_ASSERT_TRUE(worst);
    /* the source span is the grad event */
    const struct src_file *f = diag_file(&r.d, g->span.file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(strncmp(f->text + g->span.start, "grad y", 6), 0);
    done(&r);
}

/* ---- b-value ---- */

/* A Stejskal–Tanner spin echo with lobes L1, L2 (grad x records or
   waveforms) around a hard 180°, or (refocus = false) a gradient echo. */
static void bv_program(const char *l1, const char *l2, bool refocus, char *src, size_t n)
{
    snprintf(src, n,
             "import rf\n"
             "sequence { for i in 0 .. 2 {\n"
             "  block excite { rf rf.hard(flip = 90 deg, dur = 500 us) }\n"
             "  block { grad x %s }\n"
             "  block { %s duration 1.2 ms }\n"
             "  block { grad x %s }\n"
             "  block { adc { samples: 16, dwell: 10 us, delay: 10 us } }\n"
             "  wait until excite.start + 100 ms } }\n",
             l1, refocus ? "rf rf.hard(flip = 180 deg, dur = 1 ms, use = \"refocusing\")" : "",
             l2);
}

/* b (s/m²) = γ²G²[δ²(Δ − δ/3) + ε³/30 − δε²/6], δ = flat + rise, ε = rise */
static double stejskal_tanner(double g, double rise, double flat, double sep)
{
    double gam = 2 * M_PI * GAMMA_BAR, d = flat + rise;
    return gam * gam * g * g * (d * d * (sep - d / 3) + pow(rise, 3) / 30 - d * rise * rise / 6);
}

static void expect_b(const char *src, double want, double rel)
{
    struct result r;
    run(src, NULL, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_EQUAL(r.d.ndiags, 0);
    if (r.d.ndiags)
        diag_print_all(&r.d, stderr, false);
    const struct check_summary *m = check_get_summary(r.ck);
    CU_ASSERT_EQUAL(m->nb, 2);               /* one b per ADC, both the same */
    CU_ASSERT_EQUAL(m->nbgroups, 1);
    bool ok = fabs(m->b_max.value - want) <= rel * want;
    CU_ASSERT(ok);
    if (getenv("LARMOR_TEST_VERBOSE"))
        fprintf(stderr, "\nb-value %.9g s/mm², Stejskal-Tanner %.9g s/mm², relative error %.2g",
                m->b_max.value * 1e-6, want * 1e-6, fabs(m->b_max.value / want - 1));
    if (!ok)
        fprintf(stderr, "\nb-value: check %.9g s/mm², expected %.9g s/mm²\n",
                m->b_max.value * 1e-6, want * 1e-6);
    done(&r);
}

static void test_bvalue(void)
{
    char src[2048];
    /* 30 mT/m lobes, 200 us ramps, 10 ms flat top: the blocks are 10.4 ms
       (lobe) and 1.2 ms (the 180), so the second lobe starts Δ = 11.6 ms
       after the first */
    const char *trap = "{ amp: 30 mT/m, rise: 200 us, flat: 10 ms }";
    double want = stejskal_tanner(30e-3, 200e-6, 10e-3, 11.6e-3);
    bv_program(trap, trap, true, src, sizeof src);
    expect_b(src, want, 1e-9);
    /* without the 180, the second lobe negated gives the same k(t) */
    bv_program(trap, "{ amp: -30 mT/m, rise: 200 us, flat: 10 ms }", false, src, sizeof src);
    expect_b(src, want, 1e-9);
    /* a triangle (no flat top) */
    bv_program("{ amp: 20 mT/m, rise: 200 us }", "{ amp: 20 mT/m, rise: 200 us }", true, src,
               sizeof src);
    expect_b(src, stejskal_tanner(20e-3, 200e-6, 0, 1.6e-3), 1e-9);
    /* the same trapezoid as an arbitrary waveform: samples at raster
       centres, linear in between (1041 samples, 10.41 ms blocks) */
    const char *arb = "{ waveform: [ (if i < 20 then i / 20 else if i < 1020 then 1 else "
                      "(1040 - i) / 20) * 30 mT/m for i in 0 .. 1041 ] }";
    bv_program(arb, arb, true, src, sizeof src);
    expect_b(src, stejskal_tanner(30e-3, 200e-6, 10e-3, 11.61e-3), 1e-9);
    /* zero-amplitude lobes: nothing at all */
    const char *zero = "{ amp: 0 mT/m, rise: 200 us, flat: 10 ms }";
    struct result r;
    bv_program(zero, zero, true, src, sizeof src);
    run(src, NULL, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_EQUAL(check_get_summary(r.ck)->nb, 2);
    CU_ASSERT_EQUAL(check_get_summary(r.ck)->b_max.value, 0);
    done(&r);
    /* no excitation: no b-value */
    run("sequence { block { grad x { amp: 30 mT/m, rise: 200 us, flat: 10 ms } }\n"
        "  block { adc { samples: 16, dwell: 10 us, delay: 10 us } } }\n", NULL, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.ck);
    CU_ASSERT_EQUAL(check_get_summary(r.ck)->nb, 0);
    done(&r);
}

/* Compiles the file at path for sys (NULL: the built-in default) with nd
   defines, the dry run's check into *ck; it must compile with no
   diagnostic in d (printed if there are). */
static struct lbc_program *compile_clean(const char *path, const struct system *sys,
                                         const char **defs, int nd, struct check **ck,
                                         struct diag_ctx *d)
{
    struct compile_opts o = { .path = path, .stdlib_dir = test_stdlib_dir(), .sys = sys,
                              .defines = defs, .ndefines = nd, .check_out = ck };
    struct lbc_program *p = compile_file(&o, d);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(d->ndiags, 0);
    if (d->ndiags)
        diag_print_all(d, stderr, false);
    return p;
}

/* The shipped diffusion spin echo: at b = 1000 the played b lies within
   2 % of it (the imaging gradients add ~1 %); at b = 0 only the imaging
   gradients weight it (well under 1 s/mm²), on both generic systems. */
static void test_bvalue_diffusion_se(void)
{
    const char *t = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/sequences/diffusion_se.psq", t && *t ? t : ".");
    const char *bs[] = { "b=1000", "b=0" };
    for (int sys = 0; sys < 2; sys++)
        for (int k = 0; k < 2; k++) {
            struct diag_ctx d;
            diag_init(&d);
            struct system s;
            system_default(&s);
            if (sys)
                CU_ASSERT_EQUAL_FATAL(system_resolve("generic_1_5t", test_stdlib_dir(), &s, &d), 0);
            struct check *ck = NULL;
            struct lbc_program *p = compile_clean(path, &s, &bs[k], 1, &ck, &d);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
            const struct check_summary *m = check_get_summary(ck);
            CU_ASSERT_EQUAL(m->nb, 64);
            CU_ASSERT_EQUAL(m->nbgroups, 1);
            double b = m->b_max.value * 1e-6;
            bool ok = k == 0 ? b >= 1000 && b < 1020 : b > 0 && b < 1;
            CU_ASSERT(ok);
            if (!ok)
                fprintf(stderr, "\ndiffusion_se %s on %s: b %.6g s/mm²\n", bs[k], s.name, b);
            check_free(ck);
            lbc_free(p);
            diag_fini(&d);
        }
}

static void test_shipped_sequences_pass(void)
{
    /* every shipped sequence checks clean on the default system, also at
       other sizes */
    const char *t = getenv("top_srcdir");
    char path[4096];
    const char *names[] = { "spin_echo.psq", "gradient_echo.psq" };
    const char *defs[][3] = { { "matrix=64", NULL, NULL }, { "matrix=256", "fov=200mm", NULL } };
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/sequences/%s", t && *t ? t : ".", names[i]);
            struct diag_ctx d;
            diag_init(&d);
            struct check *ck = NULL;
            struct lbc_program *p = compile_clean(path, NULL, defs[k], defs[k][1] ? 2 : 1, &ck,
                                                  &d);
            CU_ASSERT_PTR_NOT_NULL(ck);
            if (ck) {
                const struct check_summary *m = check_get_summary(ck);
                CU_ASSERT(m->pns.value > 0.1 && m->pns.value <= 0.8);
                CU_ASSERT(m->sar[SAR_WHOLE_BODY][0] > 0);
                CU_ASSERT(m->b1.value > 1e-6);
            }
            check_free(ck);
            lbc_free(p);
            diag_fini(&d);
        }
}

int register_check_tests(void)
{
    static const struct test_def tests[] = {
        { "rasters", test_raster },
        { "dead times", test_deadtimes },
        { "RF/ADC overlap", test_overlap },
        { "gradient amplitude, slew, vector", test_gradient_limits },
        { "gradient continuity", test_gradient_continuity },
        { "RF and ADC limits", test_rf_adc },
        { "SAR against closed-form energy", test_sar_hand },
        { "SAR window edges (10 s, 6 min)", test_sar_window_edges },
        { "SAR limit and operating mode", test_sar_limit },
        { "PNS of a single ramp (closed form)", test_pns_single_ramp },
        { "PNS of a trapezoid train (numerical convolution)", test_pns_train },
        { "PNS and dB/dt limits", test_pns_limit },
        { "acoustic bands", test_acoustic },
        { "grouped violations", test_grouping },
        { "shipped sequences pass", test_shipped_sequences_pass },
        { "b-value against Stejskal-Tanner", test_bvalue },
        { "b-value of diffusion_se", test_bvalue_diffusion_se },
    };
    return TEST_ADD_SUITE("check", tests);
}
