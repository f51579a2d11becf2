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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "runtime/bloch/kernels.h"
#include "runtime/bloch/sim.h"
#include "runtime/diag.h"
#include "runtime/phantom.h"
#include "runtime/util.h"
#include "tests/testutil.h"
#include "vm/vm.h"

int register_bloch_tests(void);

#define GAMMA 2.6752218744e8

/* --- helpers ------------------------------------------------------------ */

/* A phantom of n voxels, all with the same tissue, at the origin. */
static struct phantom *mkph(size_t n, double t1, double t2, double t2s)
{
    struct phantom *p = xcalloc(1, sizeof *p);
    p->name = xstrdup("test");
    p->n = n;
    float **arrs[] = { &p->x, &p->y, &p->z, &p->pd, &p->t1, &p->t2, &p->t2s, &p->df, &p->dc };
    for (size_t i = 0; i < ARRAY_LEN(arrs); i++)
        *arrs[i] = xcalloc(n, sizeof(float));
    for (size_t v = 0; v < n; v++) {
        p->pd[v] = 1;
        p->t1[v] = (float)t1;
        p->t2[v] = (float)t2;
        p->t2s[v] = (float)t2s;
    }
    p->dims = 3;
    return p;
}

static void freeph(struct phantom *p)
{
    float *arrs[] = { p->x, p->y, p->z, p->pd, p->t1, p->t2, p->t2s, p->df, p->dc };
    for (size_t i = 0; i < ARRAY_LEN(arrs); i++)
        free(arrs[i]);
    free(p->name);
    free(p);
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

/* --- physics ----------------------------------------------------------------- */

/* A hard 90° then a 50 ms readout: one on-resonance spin gives
   i·M0·e^{-t/T2} (+x pulse, +z tips to +y), a voxel of 8000 isochromats
   with a Lorentzian spread gives M0·e^{-t/T2*}. Tolerance 0.2 % of M0 over
   5 T2*: the spread is sampled at 8000 quantiles (the error of a finite
   sample falls roughly as 1/K: 1.7 % at 500, 0.5 % at 2000). */
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
        CHECK_NEAR(worst, 0, 2e-3, pass ? "FID T2* worst error" : "FID T2 worst error");
        sim_free(s);
        free(c.s);
        freeph(ph);
    }
}

static void register_tests(CU_pSuite s)
{
    CU_add_test(s, "kernel sin/cos and exp", test_kernel_math);
    CU_add_test(s, "FID: T2 and a Lorentzian T2*", test_fid_t2star);
}

int register_bloch_tests(void)
{
    CU_pSuite s = CU_add_suite("bloch", NULL, NULL);
    if (!s)
        return -1;
    register_tests(s);
    return 0;
}
