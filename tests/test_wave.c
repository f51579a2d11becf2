/*
 * test_wave: the gradient waveform model. The corners of a trapezoid and
 * of an arbitrary shape; the value at a time (inside pieces, at corners
 * and jumps, outside); the integral against the closed-form area, and the
 * forward walk against the looked-up integral bit for bit; the moment and
 * ∫k² dt of a constant gradient and of a ramp against their closed forms;
 * the values a console plays on its raster.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "runtime/wave/wave.h"

int register_wave_tests(void);

static struct vm_grad trap(double amp, int64_t delay, int64_t rise, int64_t flat, int64_t fall)
{
    return (struct vm_grad){ .kind = GRAD_TRAP, .amp = amp, .delay_ns = delay, .rise_ns = rise,
                             .flat_ns = flat, .fall_ns = fall, .dur_ns = rise + flat + fall };
}

static struct vm_grad arb(double amp, const double *shape, uint32_t n, int64_t dt, int64_t delay)
{
    return (struct vm_grad){ .kind = GRAD_ARB, .amp = amp, .shape = shape, .n = n, .dt_ns = dt,
                             .delay_ns = delay, .dur_ns = (int64_t)n * dt };
}

/* p[0..n) at the times want[0..n) (s). */
static void assert_times(const struct wave_pt *p, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_DOUBLE_EQUAL(p[i].t, want[i], 1e-15);
}

static void test_corners(void)
{
    struct vm_grad g = trap(0.02, 100000, 200000, 1000000, 300000);
    struct wave_pt p[8];
    CU_ASSERT_EQUAL(wave_cap(&g), 6);
    CU_ASSERT_EQUAL(wave_points(&g, p, 8), 4);
    static const double tt[4] = { 100e-6, 300e-6, 1300e-6, 1600e-6 };
    assert_times(p, tt, 4);
    CU_ASSERT(p[0].v == 0 && p[1].v == 0.02 && p[2].v == 0.02 && p[3].v == 0);
    CU_ASSERT(wave_first(&g) == 0 && wave_last(&g) == 0);

    /* the first and last samples held for half a raster to the span's ends */
    static const double sh[3] = { 0.5, 1, -0.25 };
    static const double ta[5] = { 20e-6, 25e-6, 35e-6, 45e-6, 50e-6 };
    struct vm_grad a = arb(0.01, sh, 3, 10000, 20000);
    CU_ASSERT_EQUAL(wave_cap(&a), 5);
    CU_ASSERT_EQUAL(wave_points(&a, p, 5), 5);
    assert_times(p, ta, 5);
    CU_ASSERT(p[0].v == p[1].v && p[3].v == p[4].v);
    CU_ASSERT(wave_first(&a) == 0.01 * 0.5 && wave_last(&a) == 0.01 * -0.25);
    struct vm_grad e = arb(0.01, sh, 0, 10000, 0);
    CU_ASSERT_EQUAL(wave_points(&e, p, 5), 0);
    CU_ASSERT(wave_first(&e) == 0);
}

static void test_value_at(void)
{
    /* a jump: no rise time */
    struct vm_grad g = trap(0.01, 0, 0, 1000000, 500000);
    struct wave w;
    memset(&w, 0, sizeof w);
    wave_set(&w, &g);
    CU_ASSERT_EQUAL(w.n, 4);
    CU_ASSERT(wave_at(&w, -1e-6) == 0);
    CU_ASSERT(wave_at(&w, 0) == 0.01);           /* after the jump */
    CU_ASSERT(wave_at(&w, 0.5e-3) == 0.01);
    CU_ASSERT_DOUBLE_EQUAL(wave_at(&w, 1.25e-3), 0.005, 1e-15);
    CU_ASSERT(wave_at(&w, 1.5e-3) == 0);           /* the last corner */
    CU_ASSERT(wave_at(&w, 2e-3) == 0);
    CU_ASSERT_EQUAL(wave_piece(&w, -1), -1);
    CU_ASSERT_EQUAL(wave_piece(&w, 0), 1);
    CU_ASSERT_EQUAL(wave_piece(&w, 1.2e-3), 2);
    CU_ASSERT_EQUAL(wave_piece(&w, 9), 3);
    CU_ASSERT(wave_constant(&w, 0.1e-3, 0.9e-3));
    CU_ASSERT(!wave_constant(&w, 0.1e-3, 1.1e-3));
    wave_fini(&w);
}

static void test_integral(void)
{
    struct vm_grad g = trap(0.02, 100000, 200000, 1000000, 300000);
    struct wave w;
    memset(&w, 0, sizeof w);
    wave_set(&w, &g);
    double area = 0.02 * (100e-6 + 1000e-6 + 150e-6);
    CU_ASSERT_DOUBLE_EQUAL(wave_integral(&w, INFINITY), area, 1e-15);
    CU_ASSERT(wave_integral(&w, 50e-6) == 0);
    /* half-way up the rise: a quarter of the rise's area */
    CU_ASSERT_DOUBLE_EQUAL(wave_integral(&w, 200e-6), 0.02 * 100e-6 / 4, 1e-16);
    /* an arbitrary shape: the walk gives the looked-up values exactly */
    double sh[64];
    for (int i = 0; i < 64; i++)
        sh[i] = sin(0.3 * i) * (1 - i / 64.0);
    struct vm_grad a = arb(0.015, sh, 64, 10000, 30000);
    wave_set(&w, &a);
    struct wave_walk it;
    wave_walk_init(&it, &w);
    for (int k = 0; k <= 800; k++) {
        double t = k * 1e-6;
        CU_ASSERT(wave_walk_at(&it, t) == wave_integral(&w, t));
    }
    wave_fini(&w);
}

static void test_moment(void)
{
    /* a constant gradient G for T: k = γGT, ∫k² dt = γ²G²T³/3 */
    double G = 0.01, T = 1e-3, gamma = 2 * M_PI * 42.577478518e6;
    struct vm_grad g = trap(G, 0, 0, 1000000, 0);
    struct wave w;
    memset(&w, 0, sizeof w);
    wave_set(&w, &g);
    size_t i = 0;
    double k = 0, t = 0;
    double kk = wave_moment_advance(&w, &i, gamma, &k, &t, T);
    CU_ASSERT_DOUBLE_EQUAL(k, gamma * G * T, 1e-9 * gamma * G * T);
    CU_ASSERT_DOUBLE_EQUAL(kk, gamma * gamma * G * G * T * T * T / 3,
                           1e-9 * gamma * gamma * G * G * T * T * T);
    CU_ASSERT(t == T);
    /* then free precession with k held: ∫k² dt = k²·T */
    double k1 = k;
    kk = wave_moment_advance(&w, &i, gamma, &k, &t, 2 * T);
    CU_ASSERT(k == k1);
    CU_ASSERT_DOUBLE_EQUAL(kk, k1 * k1 * T, 1e-9 * k1 * k1 * T);
    /* a ramp from 0 to G over T: k = γGT/2, ∫k² dt = γ²G²T³/20 */
    struct vm_grad r = trap(G, 0, 1000000, 0, 0);
    wave_set(&w, &r);
    i = 0, k = 0, t = 0;
    kk = wave_moment_advance(&w, &i, gamma, &k, &t, T);
    CU_ASSERT_DOUBLE_EQUAL(k, gamma * G * T / 2, 1e-9 * gamma * G * T);
    CU_ASSERT_DOUBLE_EQUAL(kk, gamma * gamma * G * G * T * T * T / 20,
                           1e-9 * gamma * gamma * G * G * T * T * T);
    wave_fini(&w);
}

static void test_raster_values(void)
{
    struct vm_grad g = trap(0.02, 0, 20000, 30000, 20000);
    CU_ASSERT(wave_trap_at(&g, -1) == 0);
    CU_ASSERT_DOUBLE_EQUAL(wave_trap_at(&g, 10000), 0.01, 1e-15);
    CU_ASSERT(wave_trap_at(&g, 35000) == 0.02);
    CU_ASSERT_DOUBLE_EQUAL(wave_trap_at(&g, 60000), 0.01, 1e-15);
    CU_ASSERT(wave_trap_at(&g, 70000) == 0);
    /* the middle of each 10 us step */
    CU_ASSERT_DOUBLE_EQUAL(wave_raster_value(&g, 0, 10000), 0.005, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(wave_raster_value(&g, 1, 10000), 0.015, 1e-15);
    CU_ASSERT(wave_raster_value(&g, 3, 10000) == 0.02);
    static const double sh[2] = { 0.25, -1 };
    struct vm_grad a = arb(0.02, sh, 2, 10000, 0);
    CU_ASSERT(wave_raster_value(&a, 1, 10000) == -0.02);
}

int register_wave_tests(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        { "corner points", test_corners },
        { "value at a time", test_value_at },
        { "integral: area, walk and look-up", test_integral },
        { "moment and its square's integral", test_moment },
        { "values on the console raster", test_raster_values },
    };
    CU_pSuite s = CU_add_suite("wave", NULL, NULL);
    if (!s)
        return 1;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!CU_add_test(s, tests[i].name, tests[i].fn))
            return 1;
    return 0;
}
