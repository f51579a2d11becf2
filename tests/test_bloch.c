/*
 * test_bloch: the Bloch simulator against closed-form physics. Each test
 * states its tolerance; none compares with numbers from an earlier run.
 *
 * Sequences are written in the sequence language and compiled without the
 * scanner checks (hard pulses of a few µs exceed a real scanner's B1); the
 * phantoms are built here, voxel by voxel.
 */
#include <CUnit/CUnit.h>
#include <complex.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "runtime/bloch/kernels.h"
#include "runtime/bloch/sim.h"
#include "base/diag.h"
#include "runtime/io/h5.h"
#include "runtime/phantom/phantom.h"
#include "runtime/system/system.h"
#include "runtime/io/rawdata.h"
#include "runtime/bloch/simulate.h"
#include "base/util.h"
#include "tests/testutil.h"
#include "vm/vm.h"

int register_bloch_tests(void);

#define GAMMA 2.6752218744e8

/* --- helpers ------------------------------------------------------------ */

/* A phantom of n voxels, all with the same tissue, at the origin. */
static struct phantom *mkph(size_t n, double t1, double t2, double t2s)
{
    struct phantom *p = phantom_new("test", n);
    for (size_t v = 0; v < n; v++) {
        p->pd[v] = 1;
        p->t1[v] = (float)t1;
        p->t2[v] = (float)t2;
        p->t2s[v] = (float)t2s;
    }
    return p;
}

/* Every sample of every ADC (coil 0), in order. */
struct capture {
    double complex *s;
    size_t n, cap;
    size_t nacq;
};

static int capture_sink(void *ctx, const struct sim_acq *a)
{
    struct capture *c = ctx;
    for (uint32_t k = 0; k < a->samples; k++) {
        if (c->n == c->cap)
            vec_reserve((void **)&c->s, &c->cap, c->n + 1, sizeof *c->s);
        c->s[c->n++] = a->data[2 * k] + I * a->data[2 * k + 1];
    }
    c->nacq++;
    return 0;
}

static struct lbc_program *compile_src(const char *src)
{
    struct diag_ctx d;
    diag_init(&d);
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = "bloch.psq";
    o.stdlib_dir = test_stdlib_dir();
    o.no_check = true;
    struct lbc_program *p = compile_text("bloch.psq", src, strlen(src), &o, &d);
    if (!p || d.nerrors) {
        fprintf(stderr, "\n--- does not compile:\n%s\n", src);
        diag_print_all(&d, stderr, false);
    }
    diag_fini(&d);
    return p;
}

/* Simulate src on ph; the samples go to cap (zeroed here). Returns the
   simulator (for its state) or NULL. */
static struct sim *simulate(const char *src, const struct phantom *ph, const struct sim_opts *o,
                            struct capture *cap)
{
    memset(cap, 0, sizeof *cap);
    struct lbc_program *p = compile_src(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char err[256];
    struct sim *s = sim_new(ph, o, err, sizeof err);
    if (!s)
        fprintf(stderr, "sim_new: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sim_set_sink(s, capture_sink, cap);
    struct vm_backend be;
    sim_backend(s, &be);
    int rc = vm_run(p, &be, NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    lbc_free(p);
    return s;
}

static struct sim_opts opts(int kx, int ky, int kz)
{
    struct sim_opts o;
    sim_opts_default(&o);
    o.spins[0] = kx;
    o.spins[1] = ky;
    o.spins[2] = kz;
    return o;
}

#define CHECK_NEAR(got, want, tol, what)                                                   \
    do {                                                                                   \
        double g_ = (got), w_ = (want), t_ = (tol);                                        \
        if (!(fabs(g_ - w_) <= t_))                                                        \
            fprintf(stderr, "\n%s: got %.9g, want %.9g (tolerance %.3g)\n", what, g_, w_, t_); \
        CU_ASSERT_TRUE(fabs(g_ - w_) <= t_);                                               \
    } while (0)

/* --- kernels ---------------------------------------------------------------- */

/* The polynomial sin/cos (half angles reduced modulo π) and exp against
   libm: |error| < 2e-7 absolute for sin/cos, < 5e-7 relative for exp. */
static void test_kernel_math(void)
{
    double worst_sc = 0, worst_e = 0;
    for (int i = -200000; i <= 200000; i++) {
        float h = (float)(i * 1e-4);
        float s, c;
        kern_sincos_half(h, &s, &c);
        /* equal up to a common sign */
        double sg = (c * cos(h) + s * sin(h)) < 0 ? -1 : 1;
        worst_sc = fmax(worst_sc, fabs(sg * s - sin((double)h)));
        worst_sc = fmax(worst_sc, fabs(sg * c - cos((double)h)));
    }
    for (int i = 0; i <= 87000; i++) {
        float x = (float)(-i * 1e-3);
        worst_e = fmax(worst_e, fabs(kern_expf(x) / exp((double)x) - 1));
    }
    CHECK_NEAR(worst_sc, 0, 2e-7, "sin/cos worst error");
    CHECK_NEAR(worst_e, 0, 5e-7, "exp worst relative error");
}

/* The random walk's deviates: with √(2D)·a = 1 and no phase, one step
   moves each of 2^18 spins by z1 per axis, which must be standard normal:
   mean 0 (standard error 0.002, tolerance 0.01), variance 1 (s.e. 0.0028,
   tolerance 0.015), fourth moment 3 (s.e. 0.019, tolerance 0.1), the three
   axes uncorrelated (tolerance 0.01), and P(|z| > 3) = 0.0027 within 15 %.
   With a phase (b = 1 on x, c = 1 on y) Mx + iMy turns by e^{-iφ}, φ the
   sum, whose variance is 2 (z1, z2 of one axis independent): the mean of
   cos φ over the spins is e^{-1} within 0.01. */
static void test_kernel_walk(void)
{
    size_t n = (size_t)1 << 18;
    float *buf = xcalloc(n * 9, sizeof *buf);
    float *dc = buf + 8 * n;
    struct kspins ks = { .n = n, .x = buf, .y = buf + n, .z = buf + 2 * n, .mx = buf + 3 * n,
                         .my = buf + 4 * n, .mz = buf + 5 * n };
    for (size_t j = 0; j < n; j++) {
        dc[j] = 0.5f;                           /* √(2D) = 1 */
        ks.mx[j] = 1;
    }
    struct kwalk w = { .a = 1, .key0 = 12345, .base = 0 };
    kern_walk(&ks, dc, &w);
    double m[3] = { 0 }, v[3] = { 0 }, k4[3] = { 0 }, xy = 0, yz = 0, tail = 0;
    size_t turned = 0;
    float *pos[3] = { ks.x, ks.y, ks.z };
    for (size_t j = 0; j < n; j++) {
        for (int a = 0; a < 3; a++) {
            double z = pos[a][j];
            m[a] += z, v[a] += z * z, k4[a] += z * z * z * z;
            tail += fabs(z) > 3;
        }
        xy += (double)ks.x[j] * ks.y[j];
        yz += (double)ks.y[j] * ks.z[j];
        turned += ks.mx[j] != 1;                /* no phase asked for */
    }
    CU_ASSERT_EQUAL(turned, 0);
    for (int a = 0; a < 3; a++) {
        CHECK_NEAR(m[a] / n, 0, 0.01, "walk: mean");
        CHECK_NEAR(v[a] / n, 1, 0.015, "walk: variance");
        CHECK_NEAR(k4[a] / n, 3, 0.1, "walk: fourth moment");
    }
    CHECK_NEAR(xy / n, 0, 0.01, "walk: x-y correlation");
    CHECK_NEAR(yz / n, 0, 0.01, "walk: y-z correlation");
    CHECK_NEAR(tail / (3.0 * n) / 0.0026998, 1, 0.15, "walk: P(|z| > 3)");
    /* the phase */
    w.phase = true;
    w.b[0] = 1;
    w.c[1] = 1;
    w.key0 = 777;
    kern_walk(&ks, dc, &w);
    double mc = 0, mm = 0;
    for (size_t j = 0; j < n; j++) {
        mc += ks.mx[j];
        mm += hypot(ks.mx[j], ks.my[j]);
    }
    CHECK_NEAR(mc / n, exp(-1), 0.01, "walk: mean cos of the diffusion phase");
    CHECK_NEAR(mm / n, 1, 1e-5, "walk: the rotation keeps |Mxy|");
    /* a spin with D = 0 stays put */
    dc[0] = 0;
    float x0 = ks.x[0];
    kern_walk(&ks, dc, &w);
    CU_ASSERT_EQUAL(ks.x[0], x0);
    free(buf);
}

/* --- physics ----------------------------------------------------------------- */

/* A hard 90° then a 50 ms readout: one on-resonance spin gives
   i·M0·e^{-t/T2} (+x pulse, +z tips to +y), a voxel of 8000 isochromats
   with a Lorentzian spread gives M0·e^{-t/T2*}. Tolerance 0.3 % of M0 over
   5 T2*: the spread is sampled at 8000 quantiles, and the error of a finite
   sample falls slowly (about K^-3/4: 1.7 % at 500, 0.5 % at 2000 spins), as
   the far tails' phases cannot be resolved by any finite set. */
static void test_fid_t2star(void)
{
    const char *src =
        "sequence {\n"
        "  block { rf { shape: [1 for i in 0 .. 20], dt: 1 us, flip: 90 deg } }\n"
        "  block { adc { samples: 500, dwell: 100 us } }\n"
        "}\n";
    const double t2 = 0.1, t2s = 0.02;
    for (int pass = 0; pass < 2; pass++) {
        struct phantom *ph = mkph(1, 1e6, t2, pass ? t2s : t2);
        struct sim_opts o = opts(1, 1, pass ? 8000 : 1);
        struct capture c;
        struct sim *s = simulate(src, ph, &o, &c);
        CU_ASSERT_EQUAL_FATAL(c.n, 500);
        double worst = 0;
        /* the ADC block starts after the 20 µs pulse (its centre at 10 µs) */
        for (size_t k = 0; k < c.n; k++) {
            double t = 10e-6 + (k + 0.5) * 100e-6;
            double want = exp(-t / (pass ? t2s : t2));
            worst = fmax(worst, fabs(cabs(c.s[k]) - want));
            if (!pass)
                worst = fmax(worst, cabs(c.s[k] - I * want));
        }
        CHECK_NEAR(worst, 0, 3e-3, pass ? "FID T2* worst error" : "FID T2 worst error");
        sim_free(s);
        free(c.s);
        phantom_free(ph);
    }
}


/* Run src on the VM with a backend that keeps the first RF pulse and the
   z gradient of its block (for the slice-profile prediction). */
struct rf_grab {
    double *b1;       /* T, per sample */
    uint32_t n;
    double dt, centre, gz;
};

static int grab_rf(void *ctx, const struct vm_block *b, const struct vm_rf *rf)
{
    struct rf_grab *g = ctx;
    if (g->b1)
        return 0;
    g->b1 = xcalloc(rf->n, sizeof *g->b1);
    for (uint32_t k = 0; k < rf->n; k++)
        g->b1[k] = rf->amp * rf->mag[k];
    g->n = rf->n;
    g->dt = (double)rf->dt_ns * 1e-9;
    g->centre = (double)rf->centre_ns * 1e-9;
    g->gz = b->has_grad[2] ? b->grad[2].amp : 0;
    return 0;
}

/* Spin echo: 90x - TE/2 - 180y - TE/2, repeated every TR. The echo of the
   sixth repetition is M0·e^{-TE/T2}·(1 − 2e^{-(TR−TE/2)/T1} + e^{-TR/T1})
   (T2 ≪ TR, so no transverse magnetisation survives a TR), whatever the
   T2* spread of the voxel. Tolerance 0.5 % of M0. */
static void test_spin_echo(void)
{
    const char *src =
        "param te = 30 ms\n"
        "param tr = 400 ms\n"
        "sequence {\n"
        "  for r in 0 .. 6 {\n"
        "    block ex { rf { shape: [1 for i in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
        "    block align rf = ex.rf + te / 2 {\n"
        "      rf { shape: [1 for i in 0 .. 10], dt: 1 us, flip: 180 deg, phase: 90 deg } }\n"
        "    block align adc = ex.rf + te { adc { samples: 1, dwell: 2 us } }\n"
        "    wait until ex.start + tr\n"
        "  }\n"
        "}\n";
    const double t1 = 0.5, t2 = 0.04, te = 0.03, tr = 0.4;
    struct phantom *ph = mkph(1, t1, t2, 0.01);
    struct sim_opts o = opts(1, 1, 1000);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 6);
    double mz = 1 - 2 * exp(-(tr - te / 2) / t1) + exp(-tr / t1);
    CHECK_NEAR(cabs(c.s[0]), exp(-te / t2), 5e-3, "first echo (from equilibrium)");
    CHECK_NEAR(cabs(c.s[5]), mz * exp(-te / t2), 5e-3, "steady-state echo");
    sim_free(s);
    free(c.s);
    phantom_free(ph);
}

/* Spoiled gradient echo (T2 ≪ TR: nothing transverse survives a TR) reaches
   the Ernst steady state M0·sin α·(1 − E1)/(1 − E1·cos α)·e^{-TE/T2} after
   5 T1. Tolerance 0.3 % of M0, for three flip angles including Ernst's. */
static void test_ernst(void)
{
    const double t1 = 0.4, t2 = 0.002, tr = 0.02, te = 200e-6;
    const double ernst = acos(exp(-tr / t1));
    const double flips[] = { 10 * M_PI / 180, ernst, 60 * M_PI / 180 };
    for (size_t f = 0; f < ARRAY_LEN(flips); f++) {
        char src[1024];
        snprintf(src, sizeof src,
                 "sequence {\n"
                 "  for r in 0 .. 100 {\n"
                 "    block ex { rf { shape: [1 for i in 0 .. 4], dt: 1 us, flip: %.12g rad } }\n"
                 "    block align adc = ex.rf + 200 us { adc { samples: 1, dwell: 2 us } }\n"
                 "    wait until ex.start + 20 ms\n"
                 "  }\n"
                 "}\n", flips[f]);
        struct phantom *ph = mkph(1, t1, t2, t2);
        struct sim_opts o = opts(1, 1, 1);
        struct capture c;
        struct sim *s = simulate(src, ph, &o, &c);
        CU_ASSERT_EQUAL_FATAL(c.n, 100);
        double e1 = exp(-tr / t1), a = flips[f];
        double want = sin(a) * (1 - e1) / (1 - e1 * cos(a)) * exp(-te / t2);
        CHECK_NEAR(cabs(c.s[99]), want, 3e-3, "Ernst steady state");
        sim_free(s);
        free(c.s);
        phantom_free(ph);
    }
}

/* 3x3 helpers for the bSSFP closed form. */
static void mat_mul(const double a[9], const double b[9], double out[9])
{
    double r[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    memcpy(out, r, sizeof r);
}

static void mat_vec(const double a[9], const double v[3], double out[3])
{
    double r[3];
    for (int i = 0; i < 3; i++)
        r[i] = a[3 * i] * v[0] + a[3 * i + 1] * v[1] + a[3 * i + 2] * v[2];
    memcpy(out, r, sizeof r);
}

/* Solve (I − P) m = q by Cramer's rule. */
static void steady(const double P[9], const double q[3], double m[3])
{
    double A[9];
    for (int i = 0; i < 9; i++)
        A[i] = (i % 4 == 0) - P[i];
    double det = A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) +
                 A[2] * (A[3] * A[7] - A[4] * A[6]);
    for (int c = 0; c < 3; c++) {
        double B[9];
        memcpy(B, A, sizeof B);
        for (int r = 0; r < 3; r++)
            B[3 * r + c] = q[r];
        m[c] = (B[0] * (B[4] * B[8] - B[5] * B[7]) - B[1] * (B[3] * B[8] - B[5] * B[6]) +
                B[2] * (B[3] * B[7] - B[4] * B[6])) / det;
    }
}

/* Free precession by phase th (e^{-i th} on Mx + iMy) and relaxation over t. */
static void free_op(double th, double t, double t1, double t2, double P[9], double q[3])
{
    double e1 = exp(-t / t1), e2 = exp(-t / t2), c = cos(th), s = sin(th);
    double R[9] = { e2 * c, e2 * s, 0, -e2 * s, e2 * c, 0, 0, 0, e1 };
    memcpy(P, R, sizeof R);
    q[0] = q[1] = 0;
    q[2] = 1 - e1;
}

/* The simulator's pulse: RF along +x tips +z to +y (rotation by −α about x). */
static void pulse_op(double a, double P[9])
{
    double c = cos(a), s = sin(a);
    double R[9] = { 1, 0, 0, 0, c, -s, 0, s, c };
    memcpy(P, R, sizeof R);
}

/* Balanced SSFP with alternating (0°, 180°) pulses: |Mxy| at TE = TR/2
   against off-resonance, compared with the periodic steady state solved
   in closed form (instant pulses; ours last 4 µs of a 5 ms TR). 41
   off-resonances across two TR⁻¹ periods, bands included. Tolerance 0.5 %
   of M0. */
static void test_bssfp_profile(void)
{
    const double t1 = 0.8, t2 = 0.08, tr = 0.005, a = 40 * M_PI / 180;
    const int nf = 41, nrep = 1000;
    char src[1024];
    snprintf(src, sizeof src,
             "sequence {\n"
             "  for r in 0 .. %d {\n"
             "    block ex { rf { shape: [1 for i in 0 .. 4], dt: 1 us, flip: 40 deg,\n"
             "                    phase: (r %% 2) * 180 deg } }\n"
             "    block align adc = ex.rf + 2.5 ms { adc { samples: 1, dwell: 2 us,\n"
             "                                            phase: (r %% 2) * 180 deg } }\n"
             "    wait until ex.rf + 5 ms - 2 us\n"
             "  }\n"
             "}\n", nrep);
    struct phantom *ph = mkph((size_t)nf, t1, t2, t2);
    for (int v = 0; v < nf; v++)
        ph->df[v] = (float)((v - (nf - 1) / 2) / ((nf - 1) / 2.0) / tr);   /* −1/TR .. 1/TR */
    struct sim_opts o = opts(1, 1, 1);
    struct sim *s;
    {
        /* each voxel separately: one sum per off-resonance */
        for (int v = 0; v < nf; v++) {
            struct phantom *one = mkph(1, t1, t2, t2);
            one->df[0] = ph->df[v];
            struct capture c;
            s = simulate(src, one, &o, &c);
            CU_ASSERT_EQUAL_FATAL(c.n, (size_t)nrep);
            /* closed form: two TRs with pulses +α (about −x) and −α */
            double th = 2 * M_PI * one->df[0] * tr;
            double Pa[9], Pb[9], F[9], q[3], P[9], Q[3], Fh[9], qh[3];
            pulse_op(a, Pa);
            pulse_op(-a, Pb);
            free_op(th, tr, t1, t2, F, q);
            /* m -> F·Pb·(F·Pa·m + q) + q */
            double A1[9], A2[9];
            mat_mul(F, Pa, A1);
            mat_mul(F, Pb, A2);
            mat_mul(A2, A1, P);
            mat_vec(A2, q, Q);
            for (int i = 0; i < 3; i++)
                Q[i] += q[i];
            double m[3];
            steady(P, Q, m);             /* just before a +α pulse */
            mat_vec(Pa, m, m);
            free_op(th / 2, tr / 2, t1, t2, Fh, qh);
            mat_vec(Fh, m, m);
            for (int i = 0; i < 3; i++)
                m[i] += qh[i];
            double want = hypot(m[0], m[1]);
            CHECK_NEAR(cabs(c.s[nrep - 2]), want, 5e-3, "bSSFP steady state");
            sim_free(s);
            free(c.s);
            phantom_free(one);
        }
    }
    phantom_free(ph);
}

/* Inversion recovery from equilibrium: 180° - TI - 90° - sample 100 µs
   later gives M0·(1 − 2e^{-TI/T1})·e^{-TE/T2} (signed: −z tips to −y);
   the null at TI = T1·ln 2 is below 0.3 % of M0 and the sign changes
   across it. Each TI starts from equilibrium (10 s = 20 T1 apart).
   Tolerance 0.3 % of M0. */
static void test_inversion_null(void)
{
    const double t1 = 0.5, t2 = 0.1;
    const double tin = t1 * log(2);
    const double tis[] = { 0.05, 0.9 * tin, tin, 1.1 * tin, 1.0, 2.0 };
    char src[2048];
    snprintf(src, sizeof src,
             "let tis = [%.12g s, %.12g s, %.12g s, %.12g s, %.12g s, %.12g s]\n"
             "sequence {\n"
             "  for i in 0 .. 6 {\n"
             "    block inv { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 180 deg } }\n"
             "    block ex align rf = inv.rf + tis[i] {\n"
             "      rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
             "    block align adc = ex.rf + 100 us { adc { samples: 1, dwell: 2 us } }\n"
             "    wait until inv.start + 10 s\n"
             "  }\n"
             "}\n", tis[0], tis[1], tis[2], tis[3], tis[4], tis[5]);
    struct phantom *ph = mkph(1, t1, t2, t2);
    struct sim_opts o = opts(1, 1, 1);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 6);
    for (int i = 0; i < 6; i++) {
        double want = (1 - 2 * exp(-tis[i] / t1)) * exp(-100e-6 / t2);
        CHECK_NEAR(cimag(c.s[i]), want, 3e-3, "inversion recovery signal");
        CHECK_NEAR(creal(c.s[i]), 0, 3e-3, "inversion recovery, real part");
    }
    CU_ASSERT_TRUE(cabs(c.s[2]) < 3e-3);
    CU_ASSERT_TRUE(cimag(c.s[1]) < 0 && cimag(c.s[3]) > 0);
    sim_free(s);
    free(c.s);
    phantom_free(ph);
}

/* Stejskal-Tanner: a spin echo with two trapezoid lobes (ramp ε = 0.5 ms,
   δ = 10 ms from ramp start to ramp-down start, Δ = 20 ms between the
   lobes' starts) attenuates the echo of freely diffusing spins by e^{-bD},
   b = γ²G²[δ²(Δ − δ/3) + ε³/30 − δε²/6] = 1000 s/mm², D = 2e-9 m²/s.
   200,000 walkers: the standard error of the mean is 1.1 % of e^{-2}; the
   tolerance is 4 %. Without diffusion the echo is M0 to 1e-4. */
static void test_diffusion(void)
{
    const double eps = 0.5e-3, delta = 10e-3, Delta = 20e-3, D = 2e-9;
    const double form = delta * delta * (Delta - delta / 3) + eps * eps * eps / 30 -
                        delta * eps * eps / 6;
    const double G = sqrt(1e9 / (GAMMA * GAMMA * form));
    char src[2048];
    snprintf(src, sizeof src,
             "sequence {\n"
             "  block ex { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
             "  block g1 { grad x { amp: %.12g T/m, rise: 500 us, flat: 9.5 ms } }\n"
             "  block align rf = ex.rf + 20 ms {\n"
             "    rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 180 deg, phase: 90 deg } }\n"
             "  block align start = g1.start + 20 ms { grad x { amp: %.12g T/m, rise: 500 us,\n"
             "                                                 flat: 9.5 ms } }\n"
             "  block align adc = ex.rf + 40 ms { adc { samples: 1, dwell: 2 us } }\n"
             "}\n", G, G);
    for (int pass = 0; pass < 2; pass++) {
        struct phantom *ph = mkph(1, INFINITY, INFINITY, INFINITY);
        ph->dc[0] = pass ? (float)D : 0;
        struct sim_opts o = pass ? opts(500, 400, 1) : opts(1, 1, 1);
        struct capture c;
        struct sim *s = simulate(src, ph, &o, &c);
        CU_ASSERT_EQUAL_FATAL(c.n, 1);
        if (pass)
            CHECK_NEAR(cabs(c.s[0]) / exp(-1e9 * D), 1, 0.04, "diffusion attenuation / e^-bD");
        else
            CHECK_NEAR(cabs(c.s[0]), 1, 1e-4, "echo without diffusion");
        sim_free(s);
        free(c.s);
        phantom_free(ph);
    }
}

/* Three 90° pulses at 0, τ = 10 ms and τ + TM = 40 ms: the stimulated echo
   at 2τ + TM = 50 ms has amplitude (M0/2)·e^{-2τ/T2}·e^{-TM/T1}; the other
   echoes lie ≥ 10 ms (6.7 T2*) away. 4000 isochromats with a Lorentzian
   spread (T2* = 1.5 ms). Tolerance 1 % of M0. */
static void test_stimulated_echo(void)
{
    const double t1 = 0.5, t2 = 0.1, tau = 0.01, tm = 0.03;
    const char *src =
        "sequence {\n"
        "  block p1 { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
        "  block align rf = p1.rf + 10 ms { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
        "  block align rf = p1.rf + 40 ms { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
        "  block align adc = p1.rf + 50 ms { adc { samples: 1, dwell: 2 us } }\n"
        "}\n";
    struct phantom *ph = mkph(1, t1, t2, 0.0015);
    struct sim_opts o = opts(1, 1, 4000);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CHECK_NEAR(cabs(c.s[0]), 0.5 * exp(-2 * tau / t2) * exp(-tm / t1), 1e-2, "stimulated echo");
    sim_free(s);
    free(c.s);
    phantom_free(ph);
}

/* A 10° windowed-sinc slice-selective pulse (the stdlib's rf.sinc, 3 ms,
   time-bandwidth 4, 5 mm) with its rephaser: the transverse magnetisation
   across z matches the small-tip prediction sin|α(z)|, α(z) = γ Σ B1(t)
   e^{-iγG z (t − t_c)} Δt (the Fourier transform of the pulse), within
   0.5 % of the peak; the slice is centred and 5 mm wide at half height
   (± 0.25 mm). */
static void test_slice_profile(void)
{
    const char *src =
        "import rf\n"
        "let p = rf.sinc(flip = 10 deg, dur = 3 ms, tbw = 4, thickness = 5 mm)\n"
        "sequence {\n"
        "  block { rf p grad z p.select }\n"
        "  block { grad z p.rephase }\n"
        "}\n";
    const int nz = 401;
    const double zmax = 0.01;
    struct phantom *ph = mkph((size_t)nz, INFINITY, INFINITY, INFINITY);
    for (int v = 0; v < nz; v++)
        ph->z[v] = (float)(zmax * (2.0 * v / (nz - 1) - 1));
    struct lbc_program *p = compile_src(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct rf_grab g = { 0 };
    struct vm_backend be = { .ctx = &g, .rf = grab_rf };
    vm_run(p, &be, NULL, NULL);
    lbc_free(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g.b1);
    struct sim_opts o = opts(1, 1, 1);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    double worst = 0, peak = 0, lo = NAN, hi = NAN;
    double prev_m = 0;
    for (int v = 0; v < nz; v++) {
        double z = ph->z[v];
        double complex a = 0;
        for (uint32_t k = 0; k < g.n; k++) {
            double t = (k + 0.5) * g.dt - g.centre;
            a += GAMMA * g.b1[k] * g.dt * cexp(-I * GAMMA * g.gz * z * t);
        }
        double want = sin(cabs(a));
        double m[3];
        sim_spin_m(s, (size_t)v, m);
        double got = hypot(m[0], m[1]);
        worst = fmax(worst, fabs(got - want));
        peak = fmax(peak, want);
        /* half-height crossings of the simulated profile */
        double half = sin(10 * M_PI / 180) / 2;
        if (v && prev_m < half && got >= half)
            lo = z;
        if (v && prev_m >= half && got < half)
            hi = z;
        prev_m = got;
    }
    CHECK_NEAR(worst / peak, 0, 5e-3, "slice profile against the small-tip prediction");
    CHECK_NEAR(hi - lo, 5e-3, 0.25e-3, "slice FWHM");
    CHECK_NEAR(hi + lo, 0, 0.1e-3, "slice centre");
    sim_free(s);
    free(c.s);
    free(g.b1);
    phantom_free(ph);
}

/* A gradient echo of a 1D object (64 voxels of 1 mm along x, 4
   isochromats each, no relaxation): the prephaser cancels the readout's
   moment exactly at the centre of sample 32, so |s| peaks there at the
   total M0 (to float rounding), with equal neighbours on both sides. */
static void test_gradient_echo_centre(void)
{
    /* readout: 64 samples of 10 us on a flat top G after a 100 us ramp;
       the moment from the flat top's start to sample 32's centre is
       G·32.5·dwell, plus the ramp's G·rise/2 */
    const char *src =
        "let G = 10 mT/m\n"
        "sequence {\n"
        "  block { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 90 deg } }\n"
        "  block { grad x { amp: -G * (50 us + 325 us) / 200 us, rise: 100 us, flat: 100 us } }\n"
        "  block { grad x { amp: G, rise: 100 us, flat: 640 us }\n"
        "          adc { samples: 64, dwell: 10 us, delay: 100 us } }\n"
        "}\n";
    struct phantom *ph = mkph(64, INFINITY, INFINITY, INFINITY);
    for (int v = 0; v < 64; v++)
        ph->x[v] = (float)((v - 31.5) * 1e-3);
    ph->vox[0] = 1e-3;
    struct sim_opts o = opts(4, 1, 1);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 64);
    size_t best = 0;
    for (size_t k = 1; k < c.n; k++)
        if (cabs(c.s[k]) > cabs(c.s[best]))
            best = k;
    CU_ASSERT_EQUAL(best, 32);
    CHECK_NEAR(cabs(c.s[32]), 64, 64 * 1e-5, "echo peak = total M0");
    CHECK_NEAR(cabs(c.s[31]), cabs(c.s[33]), 64 * 1e-5, "echo symmetric about sample 32");
    CU_ASSERT_TRUE(cabs(c.s[31]) < 0.99 * 64);
    sim_free(s);
    free(c.s);
    phantom_free(ph);
}

/* Against an independent simulator: JEMRIS 2.9 (CVODE, relative tolerance
   1e-15) simulated a single-shot 100 x 100 EPI (bench/sequences/
   epi_jemris.psq) on a 7,825-spin phantom with a chemically shifted disk
   for KomaMRI's accuracy test (tests/data/jemris/SOURCES.md). Our signal,
   averaged over the spins as JEMRIS's is, must agree with it to 0.1 %
   normalised mean absolute error, mean|S − S_JEMRIS| / max|S_JEMRIS| (the
   KomaMRI paper's nMAE). JEMRIS jitters its spins by 1 % of a voxel, which
   sets a floor of about 0.7 % on the RMS error but not on the nMAE. */
static void test_jemris_reference(void)
{
    const char *top = getenv("top_srcdir");
    char seqp[4096], php[4096], sigp[4096];
    snprintf(seqp, sizeof seqp, "%s/bench/sequences/epi_jemris.psq", top ? top : ".");
    snprintf(php, sizeof php, "%s/tests/data/jemris/sphere_chemical_shift.h5", top ? top : ".");
    snprintf(sigp, sizeof sigp, "%s/tests/data/jemris/jemris_signals_epi_sphere_cs.h5",
             top ? top : ".");
    size_t len;
    char *src = read_file(seqp, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load(php, 0, &d);
    if (!ph)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    CU_ASSERT_EQUAL(ph->n, 7825);
    char err[512];
    struct h5file *f = h5_open(sigp, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    double *ref = xcalloc(30000, sizeof *ref);
    CU_ASSERT_EQUAL_FATAL(h5_read_doubles(f, "/signal/channels/00", ref, 30000, err, sizeof err), 0);
    h5_close(f, err, sizeof err);
    struct sim_opts o = opts(1, 1, 1);
    struct capture c;
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 10000);
    double sum = 0, peak = 0;
    for (size_t k = 0; k < c.n; k++) {
        double complex r = ref[3 * k] + I * ref[3 * k + 1];
        sum += cabs(c.s[k] / (double)ph->n - r);
        peak = fmax(peak, cabs(r));
    }
    double nmae = sum / (double)c.n / peak;
    fprintf(stderr, "[JEMRIS EPI nMAE %.4f %%] ", nmae * 100);
    CHECK_NEAR(nmae, 0, 1e-3, "nMAE against JEMRIS");
    sim_free(s);
    free(c.s);
    free(ref);
    free(src);
    phantom_free(ph);
}

/* The raw data file: a 2-slice, 8-line gradient echo simulated to ISMRMRD
   and read back: one acquisition per ADC with its labels and flags, the
   header's matrix, FOV (from the readout's k-space step) and limits, and
   the samples exactly as the simulator gave them. */
static void test_simulate_file(void)
{
    const char *src =
        "param fov = 200 mm\n"
        "sequence {\n"
        "  for s in 0 .. 2 {\n"
        "    for l in 0 .. 8 {\n"
        "      block { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 15 deg } }\n"
        "      block { grad x { amp: 16 * 1 / (200 mm * 10 us * system.gamma) / 2 * -1, rise: 100 us,\n"
        "                       flat: 60 us } }\n"
        "      block { grad x { amp: 1 / (200 mm * 10 us * system.gamma), rise: 100 us, flat: 160 us }\n"
        "              adc { samples: 16, dwell: 10 us, delay: 100 us }\n"
        "              label lin = l\n"
        "              label slc = s }\n"
        "      wait 5 ms\n"
        "    }\n"
        "  }\n"
        "}\n";
    struct lbc_program *p = compile_src(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct phantom *ph = mkph(3, 1, 0.1, 0.1);
    ph->x[1] = 0.02f;
    ph->y[2] = -0.03f;
    char dir[] = "/tmp/larmor_simXXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/raw.h5", dir);
    struct simulate_opts so;
    memset(&so, 0, sizeof so);
    so.out = path;
    so.seq_name = "test";
    so.quiet = true;
    sim_opts_default(&so.sim);
    so.sim.ncoils = 2;
    struct system sys;
    system_default(&sys);
    CU_ASSERT_EQUAL(simulate_run(p, &sys, ph, &so, stderr), 0);
    char err[512];
    struct raw_file *f = raw_read(path, err, sizeof err);
    if (!f)
        fprintf(stderr, "raw_read: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nacq, 16);
    CU_ASSERT_EQUAL(f->hdr.matrix[0], 16);
    CU_ASSERT_EQUAL(f->hdr.matrix[1], 8);
    CHECK_NEAR(f->hdr.fov[0], 0.2, 1e-6, "readout FOV from the k-space step");
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_SLC].max, 1);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_LIN].max, 7);
    CU_ASSERT_EQUAL(f->hdr.ncoils, 2);
    for (size_t i = 0; i < f->nacq && i < 16; i++) {
        CU_ASSERT_EQUAL(f->acq[i].labels[VM_LABEL_LIN], (int)(i % 8));
        CU_ASSERT_EQUAL(f->acq[i].labels[VM_LABEL_SLC], (int)(i / 8));
        CU_ASSERT_EQUAL(f->acq[i].ncoils, 2);
        CU_ASSERT_EQUAL(f->acq[i].samples, 16);
    }
    CU_ASSERT_TRUE((f->acq[7].flags & RAW_FLAG(RAW_LAST_IN_SLICE)) != 0);
    CU_ASSERT_TRUE((f->acq[15].flags & RAW_FLAG(RAW_LAST_IN_MEASUREMENT)) != 0);
    /* the same samples as the simulator's own sink gives */
    so.sim.ncoils = 1;
    struct capture c;
    struct sim_opts o = opts(1, 1, 1);
    struct sim *s = simulate(src, ph, &o, &c);
    CU_ASSERT_EQUAL_FATAL(c.n, 256);
    raw_file_free(f);
    CU_ASSERT_EQUAL(simulate_run(p, &sys, ph, &so, stderr), 0);
    f = raw_read(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    double worst = 0;
    for (size_t i = 0; i < 16; i++)
        for (uint32_t k = 0; k < 16; k++) {
            const float *v = f->acq[i].data + 2 * k;
            worst = fmax(worst, cabs(v[0] + I * v[1] - c.s[i * 16 + k]));
        }
    CU_ASSERT_EQUAL(worst, 0);
    raw_file_free(f);
    sim_free(s);
    free(c.s);
    unlink(path);
    rmdir(dir);
    lbc_free(p);
    phantom_free(ph);
}

/* A simulation that does not fit in memory is refused before allocating,
   with the size it would need. */
static void test_too_large(void)
{
    struct phantom *ph = mkph(1000, 1, 0.1, 0.1);
    struct sim_opts o = opts(100, 100, 100);
    o.max_bytes = (size_t)1 << 30;
    char err[512];
    CU_ASSERT_PTR_NULL(sim_new(ph, &o, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "would take 41.0 GiB of memory, over the 1.0 GiB allowed"));
    phantom_free(ph);
}

/* The header user parameter name of f, or def. */
static double raw_param(const struct raw_file *f, const char *name, double def)
{
    for (size_t i = 0; i < f->hdr.nparams; i++)
        if (!strcmp(f->hdr.param_names[i], name))
            return f->hdr.param_values[i];
    return def;
}

/* Whether dir holds a file whose name starts with prefix. */
static bool dir_has_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *e;
    while (d && !found && (e = readdir(d)))
        found = !strncmp(e->d_name, prefix, strlen(prefix));
    if (d)
        closedir(d);
    return found;
}

/* Ctrl-C (SIGINT) or SIGTERM: `larmor simulate` stops after the work in
   hand, exits 128 + the signal and leaves under its name a valid file
   holding the acquisitions simulated so far, marked incomplete with the
   signal, and no temporary file. */
static void interrupt_with(int sig)
{
    const char *top = getenv("top_srcdir"), *bld = getenv("top_builddir");
    char larmor[4096], seq[4096];
    snprintf(larmor, sizeof larmor, "%s/larmor", bld ? bld : ".");
    snprintf(seq, sizeof seq, "%s/sequences/spin_echo.psq", top ? top : ".");
    if (access(larmor, X_OK) != 0) {
        char *why = xasprintf("%s not built", larmor);
        test_skip(why);
        free(why);
        return;
    }
    char dir[] = "/tmp/larmor_intXXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/raw.h5", dir);
    pid_t pid = fork();
    CU_ASSERT_TRUE_FATAL(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", 1);
        dup2(fd, 2);
        /* 16 spins per voxel: a run of many seconds, so that the signal
           lands mid-simulation on fast and slow machines alike */
        execl(larmor, "larmor", "simulate", seq, "-o", path, "--threads", "1", "-D", "slices=4",
              "--spins", "4", (char *)NULL);
        _exit(127);
    }
    /* the raw file's temporary appears when the simulation starts (after
       the compile and its checks); signal half a second later */
    for (int i = 0; i < 1200 && !dir_has_prefix(dir, "raw.h5.tmp-"); i++)
        usleep(50 * 1000);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);     /* not under its name while written */
    usleep(500 * 1000);
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st));
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 128 + sig);
    CU_ASSERT_FALSE(dir_has_prefix(dir, "raw.h5.tmp-"));
    char err[512];
    struct raw_file *f = raw_read(path, err, sizeof err);
    if (!f)
        fprintf(stderr, "after signal %d: %s\n", sig, err);
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
        CU_ASSERT_TRUE(f->nacq > 0 && f->nacq < 512);
        CU_ASSERT_EQUAL(f->hdr.matrix[1], 128);
        CU_ASSERT_EQUAL(raw_param(f, "larmor_incomplete", 0), 1);
        CU_ASSERT_EQUAL(raw_param(f, "larmor_interrupted_by_signal", 0), sig);
        CU_ASSERT_EQUAL(raw_param(f, "larmor_acquisitions_received", -1), (double)f->nacq);
        CU_ASSERT_EQUAL(raw_param(f, "larmor_acquisitions_expected", -1), 512);
        raw_file_free(f);
    }
    unlink(path);
    rmdir(dir);
}

static void test_interrupt(void)
{
    interrupt_with(SIGINT);
}

static void test_terminate(void)
{
    interrupt_with(SIGTERM);
}

/* Spins that share z, Δω, T1 and T2 share one affine map per RF pulse when
   the pulse's gradient is on z only; the result equals stepping every spin
   to 1e-4 of M0 (the per-spin kernel's float rounding over 4,000 steps;
   the maps are composed in double): 20 slices' worth of z x 50 positions in
   x x 2 tissues through a slice-selective 90° and a 180°. */
static void test_rf_groups(void)
{
    const char *src =
        "import rf\n"
        "let p = rf.sinc(flip = 90 deg, dur = 2 ms, tbw = 4, thickness = 5 mm)\n"
        "let q = rf.sinc(flip = 180 deg, dur = 2 ms, tbw = 4, thickness = 5 mm, phase = 90 deg)\n"
        "sequence {\n"
        "  block { rf p grad z p.select }\n"
        "  block { grad z p.rephase grad x { amp: 5 mT/m, rise: 100 us, flat: 200 us } }\n"
        "  block { rf q grad z q.select }\n"
        "}\n";
    const size_t n = 20 * 50 * 2;
    struct phantom *ph = mkph(n, 0.8, 0.08, 0.08);
    for (size_t v = 0; v < n; v++) {
        ph->z[v] = (float)(((double)(v % 20) - 9.5) * 0.4e-3);
        ph->x[v] = (float)(((double)(v / 20 % 50) - 24.5) * 2e-3);
        if (v >= n / 2)
            ph->t2[v] = ph->t2s[v] = 0.03f;
    }
    double worst = 0;
    struct capture c1, c2;
    struct sim_opts o1 = opts(1, 1, 1), o2 = opts(1, 1, 1);
    o2.no_groups = true;
    struct sim *a = simulate(src, ph, &o1, &c1), *b = simulate(src, ph, &o2, &c2);
    for (size_t j = 0; j < n; j++) {
        double m1[3], m2[3];
        sim_spin_m(a, j, m1);
        sim_spin_m(b, j, m2);
        for (int i = 0; i < 3; i++)
            worst = fmax(worst, fabs(m1[i] - m2[i]));
    }
    CHECK_NEAR(worst, 0, 1e-4, "grouped RF maps against per-spin steps");
    sim_free(a);
    sim_free(b);
    free(c1.s);
    free(c2.s);
    phantom_free(ph);
}

/* Thermal noise: off by default; at --snr X the noise of each part has
   standard deviation ΣPD / X (within 5 % over 20,000 samples); the same
   seed gives the same samples, another seed others. Threads: the signal
   does not depend on how the spins are split (1 vs 2 threads, to float
   rounding). */
static void test_noise_and_threads(void)
{
    const char *src =
        "sequence {\n"
        "  for r in 0 .. 20 {\n"
        "    block { grad x { amp: 5 mT/m, rise: 100 us, flat: 10 ms }\n"
        "            adc { samples: 1000, dwell: 10 us, delay: 100 us } }\n"
        "  }\n"
        "}\n";
    struct phantom *ph = mkph(4000, 1, 0.1, 0.1);
    for (size_t v = 0; v < ph->n; v++)
        ph->x[v] = (float)(((double)v / 4000 - 0.5) * 0.2);
    struct sim_opts o = opts(1, 1, 1);
    struct capture quiet, n1, n2, n3, t1;
    struct sim *s0 = simulate(src, ph, &o, &quiet);    /* no signal: Mz only */
    o.snr = 100;
    struct sim *s1 = simulate(src, ph, &o, &n1), *s2 = simulate(src, ph, &o, &n2);
    o.seed = 2;
    struct sim *s3 = simulate(src, ph, &o, &n3);
    double var = 0, maxq = 0;
    bool same = true, differ = false;
    for (size_t k = 0; k < n1.n; k++) {
        double complex d = n1.s[k] - quiet.s[k];
        var += creal(d) * creal(d) + cimag(d) * cimag(d);
        maxq = fmax(maxq, cabs(quiet.s[k]));
        same &= n1.s[k] == n2.s[k];
        differ |= n1.s[k] != n3.s[k];
    }
    double sd = sqrt(var / (2.0 * (double)n1.n));
    CHECK_NEAR(sd / (4000.0 / 100), 1, 0.05, "noise standard deviation / (sum PD / SNR)");
    CU_ASSERT_EQUAL(maxq, 0);
    CU_ASSERT_TRUE(same);
    CU_ASSERT_TRUE(differ);
    sim_free(s0), sim_free(s1), sim_free(s2), sim_free(s3);
    free(quiet.s), free(n2.s), free(n3.s);
    /* threads, on a signal that is not zero: excite first */
    const char *src2 =
        "sequence {\n"
        "  block { rf { shape: [1 for k in 0 .. 10], dt: 1 us, flip: 30 deg } }\n"
        "  block { grad x { amp: 5 mT/m, rise: 100 us, flat: 10 ms }\n"
        "          adc { samples: 1000, dwell: 10 us, delay: 100 us } }\n"
        "}\n";
    struct sim_opts a = opts(1, 1, 1), b = opts(1, 1, 1);
    a.threads = 1;
    b.threads = 2;
    struct capture c1;
    struct sim *x = simulate(src2, ph, &a, &c1), *y = simulate(src2, ph, &b, &t1);
    double worst = 0;
    for (size_t k = 0; k < c1.n; k++)
        worst = fmax(worst, cabs(c1.s[k] - t1.s[k]));
    CHECK_NEAR(worst / 2000, 0, 1e-6, "1 thread against 2 threads (relative to the peak)");
    sim_free(x), sim_free(y);
    free(c1.s), free(t1.s), free(n1.s);
    phantom_free(ph);
}

/* The stdlib's pulses give the flip angle they are asked for: one
   isochromat at the slice centre, on resonance, no relaxation; after
   rf.hard, rf.sinc and rf.gauss of 30° and 90° (with their slice select
   and rephaser), |Mxy| = sin α and Mz = cos α within 1e-3. The adiabatic
   rf.hypsec inverts: Mz < −0.995 on resonance and < −0.98 at every
   off-resonance within ±400 Hz
   (its sweep, μβ/π, spans ±624 Hz)
   and at 1.0 and 1.3 times its nominal B1 (adiabatic: insensitive to B1). */
static void test_stdlib_flips(void)
{
    const char *pulses[] = {
        "rf.hard(flip = %d deg)",
        "rf.sinc(flip = %d deg, dur = 3 ms, tbw = 4, thickness = 5 mm)",
        "rf.gauss(flip = %d deg, dur = 2 ms, tbw = 2, thickness = 5 mm)",
    };
    const int flips[] = { 30, 90 };
    for (int i = 0; i < 3; i++)
        for (int f = 0; f < 2; f++) {
            char pulse[128], src[512];
            snprintf(pulse, sizeof pulse, pulses[i], flips[f]);
            bool sel = i > 0;
            snprintf(src, sizeof src,
                     "import rf\nlet p = %s\nsequence {\n  block { rf p %s }\n%s}\n", pulse,
                     sel ? "grad z p.select" : "", sel ? "  block { grad z p.rephase }\n" : "");
            struct phantom *ph = mkph(1, INFINITY, INFINITY, INFINITY);
            struct sim_opts o = opts(1, 1, 1);
            struct capture c;
            struct sim *s = simulate(src, ph, &o, &c);
            CU_ASSERT_PTR_NOT_NULL_FATAL(s);
            double m[3], a = flips[f] * M_PI / 180;
            sim_spin_m(s, 0, m);
            CHECK_NEAR(hypot(m[0], m[1]), sin(a), 1e-3, pulse);
            CHECK_NEAR(m[2], cos(a), 1e-3, pulse);
            sim_free(s);
            free(c.s);
            phantom_free(ph);
        }
    const double scale[] = { 1.0, 1.25 };
    for (int b = 0; b < 2; b++) {
        char src[256];
        snprintf(src, sizeof src,
                 "import rf\nlet p = rf.hypsec(b1 = %g uT)\nsequence { block { rf p } }\n",
                 16 * scale[b]);
        const int n = 21;
        struct phantom *ph = mkph((size_t)n, INFINITY, INFINITY, INFINITY);
        for (int v = 0; v < n; v++)
            ph->df[v] = (float)(-400 + 40 * v);
        struct sim_opts o = opts(1, 1, 1);
        struct capture c;
        struct sim *s = simulate(src, ph, &o, &c);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        double worst = -1;
        for (int v = 0; v < n; v++) {
            double m[3];
            sim_spin_m(s, (size_t)v, m);
            worst = fmax(worst, m[2]);
            if (v == n / 2)
                CU_ASSERT(m[2] < -0.995);
        }
        CU_ASSERT(worst < -0.98);
        if (worst >= -0.98)
            fprintf(stderr, "\nhypsec at %.1f x B1: worst Mz %.4f\n", scale[b], worst);
        sim_free(s);
        free(c.s);
        phantom_free(ph);
    }
}

static void register_tests(CU_pSuite s)
{
    CU_add_test(s, "kernel sin/cos and exp", test_kernel_math);
    CU_add_test(s, "random walk: normal deviates, diffusion phase", test_kernel_walk);
    CU_add_test(s, "FID: T2 and a Lorentzian T2*", test_fid_t2star);
    CU_add_test(s, "spin echo: T2 decay and T1 recovery at short TR", test_spin_echo);
    CU_add_test(s, "spoiled gradient echo: Ernst steady state", test_ernst);
    CU_add_test(s, "bSSFP: steady state against off-resonance", test_bssfp_profile);
    CU_add_test(s, "inversion recovery: null at T1 ln 2", test_inversion_null);
    CU_add_test(s, "Stejskal-Tanner: e^-bD", test_diffusion);
    CU_add_test(s, "stimulated echo of three 90 degree pulses", test_stimulated_echo);
    CU_add_test(s, "windowed sinc: small-tip slice profile", test_slice_profile);
    CU_add_test(s, "stdlib pulses: flip angles; hyperbolic secant inverts adiabatically",
                test_stdlib_flips);
    CU_add_test(s, "gradient echo at the balanced moment", test_gradient_echo_centre);
    CU_add_test(s, "EPI against JEMRIS: nMAE < 0.1 %", test_jemris_reference);
    CU_add_test(s, "RF maps shared by spins with equal z, off-resonance, T1, T2", test_rf_groups);
    CU_add_test(s, "simulate: ISMRMRD raw data with labels and header", test_simulate_file);
    CU_add_test(s, "simulate: too large for memory is refused", test_too_large);
    CU_add_test(s, "noise at a given SNR, seeded; threads do not change the signal",
                test_noise_and_threads);
    CU_add_test(s, "simulate: Ctrl-C keeps a valid file", test_interrupt);
    CU_add_test(s, "simulate: SIGTERM keeps a valid file, marked", test_terminate);
}

int register_bloch_tests(void)
{
    CU_pSuite s = CU_add_suite("bloch", NULL, NULL);
    if (!s)
        return -1;
    register_tests(s);
    return 0;
}
