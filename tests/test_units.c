/*
 * test_units: CUnit suite "units" for base/units.c: every unit name the
 * language accepts (its SI scale and dimension), compound units, rejection
 * of unknown or malformed unit strings, dimension arithmetic, and the
 * formatting of SI values with a tidy unit (units_format, dim_unit,
 * dim_describe).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "tests/testutil.h"

int register_units_tests(void);

#define PI 3.14159265358979323846

static bool parse(const char *s, double *scale, struct dim *d)
{
    return unit_parse(s, strlen(s), scale, d);
}

/* s parses to the given scale (relative 1e-12) and dimension (s, m, T). */
static void check_unit(const char *s, double scale, int ds, int dm, int dT)
{
    double sc = -1;
    struct dim d = { 99, 99, 99 };
    bool ok = parse(s, &sc, &d);
    CU_ASSERT_TRUE(ok);
    if (!ok) {
        fprintf(stderr, "\nunit '%s' was rejected\n", s);
        return;
    }
    CU_ASSERT_DOUBLE_EQUAL(sc, scale, fabs(scale) * 1e-12);
    CU_ASSERT_EQUAL(d.s, ds);
    CU_ASSERT_EQUAL(d.m, dm);
    CU_ASSERT_EQUAL(d.T, dT);
}

static void test_time_units(void)
{
    check_unit("s", 1, 1, 0, 0);
    check_unit("ms", 1e-3, 1, 0, 0);
    check_unit("us", 1e-6, 1, 0, 0);
    check_unit("ns", 1e-9, 1, 0, 0);
}

static void test_field_units(void)
{
    check_unit("T", 1, 0, 0, 1);
    check_unit("mT", 1e-3, 0, 0, 1);
    check_unit("uT", 1e-6, 0, 0, 1);
}

static void test_gradient_units(void)
{
    check_unit("T/m", 1, 0, -1, 1);
    check_unit("mT/m", 1e-3, 0, -1, 1);
    check_unit("T/m/s", 1, -1, -1, 1);
}

static void test_frequency_units(void)
{
    check_unit("Hz", 1, -1, 0, 0);
    check_unit("kHz", 1e3, -1, 0, 0);
    check_unit("MHz", 1e6, -1, 0, 0);
}

static void test_angle_units(void)
{
    check_unit("rad", 1, 0, 0, 0);
    check_unit("deg", PI / 180, 0, 0, 0);
    double sc;
    struct dim d;
    CU_ASSERT_TRUE(parse("deg", &sc, &d));
    CU_ASSERT_DOUBLE_EQUAL(90 * sc, PI / 2, 1e-15);
    CU_ASSERT_TRUE(dim_is_none(d));
}

static void test_length_units(void)
{
    check_unit("m", 1, 0, 1, 0);
    check_unit("cm", 1e-2, 0, 1, 0);
    check_unit("mm", 1e-3, 0, 1, 0);
}

static void test_compound_units(void)
{
    /* mT/m/ms is exactly 1 T/m/s */
    double sc;
    struct dim d;
    CU_ASSERT_TRUE(parse("mT/m/ms", &sc, &d));
    CU_ASSERT_DOUBLE_EQUAL(sc, 1.0, 1e-15);
    CU_ASSERT_TRUE(dim_eq(d, DIM_SLEW));
    check_unit("mT/m/ms", 1, -1, -1, 1);
    check_unit("T/m/ms", 1e3, -1, -1, 1);
    check_unit("mT/mm", 1, 0, -1, 1);
    check_unit("MHz/T", 1e6, -1, 0, -1);
    check_unit("Hz/mm", 1e3, -1, -1, 0);
    check_unit("rad/s", 1, -1, 0, 0);
    check_unit("deg/ms", PI / 180 * 1e3, -1, 0, 0);
    /* only the length of the string given counts */
    CU_ASSERT_TRUE(unit_parse("ms/garbage", 2, &sc, &d));
    CU_ASSERT_DOUBLE_EQUAL(sc, 1e-3, 1e-18);
    CU_ASSERT_TRUE(dim_is_time(d));
}

static void test_rejects(void)
{
    static const char *const bad[] = {
        "", "x", "foo", "MS", "Ms", "msec", "sec", "kg", "m s", " ms", "ms ",
        "/ms", "ms/", "mT//m", "mT/", "/", "T/m/", "mT*m", "kms", "mmT", "Tesla",
        "deg/", "hz", "KHZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double sc = 12345;
        struct dim d = { 7, 7, 7 };
        bool ok = parse(bad[i], &sc, &d);
        CU_ASSERT_FALSE(ok);
        if (ok)
            fprintf(stderr, "\nunit '%s' was accepted\n", bad[i]);
        /* outputs are untouched on failure */
        CU_ASSERT_EQUAL(sc, 12345);
        CU_ASSERT_EQUAL(d.s, 7);
    }
}

static void test_dim_arith(void)
{
    struct dim t = DIM_TIME, g = DIM_GRAD;
    CU_ASSERT_TRUE(dim_eq(dim_div(g, t), DIM_SLEW));
    CU_ASSERT_TRUE(dim_eq(dim_mul(DIM_SLEW, t), DIM_GRAD));
    CU_ASSERT_TRUE(dim_is_none(dim_mul(t, DIM_FREQ)));
    CU_ASSERT_TRUE(dim_is_time(dim_div(DIM_NONE, DIM_FREQ)));
    CU_ASSERT_FALSE(dim_is_time(DIM_FREQ));
    CU_ASSERT_FALSE(dim_is_none(DIM_LENGTH));
    CU_ASSERT_TRUE(dim_eq(dim_mul(DIM_GRAD, DIM_LENGTH), DIM_TESLA));
    CU_ASSERT_FALSE(dim_eq(DIM_GRAD, DIM_SLEW));
    /* a gradient moment times gamma per length: k-space phase per metre */
    struct dim moment = dim_mul(g, t);
    struct dim gamma = { -1, 0, -1 };
    CU_ASSERT_TRUE(dim_eq(dim_mul(moment, gamma), (struct dim){ 0, -1, 0 }));

    bool ok = true;
    struct dim a = dim_pow(DIM_LENGTH, 2, &ok);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_TRUE(dim_eq(a, (struct dim){ 0, 2, 0 }));
    a = dim_pow(DIM_SLEW, -3, &ok);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_TRUE(dim_eq(a, (struct dim){ 3, 3, -3 }));
    a = dim_pow(DIM_TIME, 0, &ok);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_TRUE(dim_is_none(a));
    ok = true;
    dim_pow((struct dim){ 20, 0, 0 }, 4, &ok);
    CU_ASSERT_FALSE(ok);
    ok = true;
    dim_pow((struct dim){ 0, -1, 0 }, 61, &ok);
    CU_ASSERT_FALSE(ok);
}

static void check_format(double si, struct dim d, const char *want)
{
    char buf[64];
    units_format(si, d, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
    if (strcmp(buf, want))
        fprintf(stderr, "\nunits_format(%g): got '%s', want '%s'\n", si, buf, want);
}

static void test_format(void)
{
    check_format(20e-3, DIM_TIME, "20 ms");
    check_format(8.82e-3, DIM_TIME, "8.82 ms");
    check_format(1.5, DIM_TIME, "1.5 s");
    check_format(1.0, DIM_TIME, "1 s");
    check_format(250e-6, DIM_TIME, "250 us");
    check_format(100e-9, DIM_TIME, "100 ns");
    check_format(-20e-3, DIM_TIME, "-20 ms");
    check_format(0, DIM_TIME, "0 ms");
    check_format(40e-3, DIM_GRAD, "40 mT/m");
    check_format(1.2, DIM_GRAD, "1.2 T/m");
    check_format(200, DIM_SLEW, "200 T/m/s");
    check_format(127.7e6, DIM_FREQ, "127.7 MHz");
    check_format(1.5e3, DIM_FREQ, "1.5 kHz");
    check_format(50, DIM_FREQ, "50 Hz");
    check_format(3, DIM_TESLA, "3 T");
    check_format(12e-6, DIM_TESLA, "12 uT");
    check_format(256e-3, DIM_LENGTH, "256 mm");
    check_format(2, DIM_LENGTH, "2 m");
    check_format(3.5, DIM_NONE, "3.5");
    /* other dimensions get their SI formula */
    check_format(2, ((struct dim){ 0, 2, 0 }), "2 m^2");
}

/* The one quantity parser: number, blanks, unit; nothing else. */
static void test_quantity(void)
{
    double v = 0;
    struct dim d;
    bool u = true;
    CU_ASSERT_TRUE(unit_parse_quantity("2.5 ms", 6, &v, &d, &u));
    CU_ASSERT_DOUBLE_EQUAL(v, 2.5e-3, 1e-15);
    CU_ASSERT_TRUE(dim_eq(d, DIM_TIME) && u);
    CU_ASSERT_TRUE(unit_parse_quantity("-40mT/m", 7, &v, &d, NULL));
    CU_ASSERT_DOUBLE_EQUAL(v, -0.04, 1e-15);
    CU_ASSERT_TRUE(dim_eq(d, DIM_GRAD));
    CU_ASSERT_TRUE(unit_parse_quantity("3e2", 3, &v, &d, &u));
    CU_ASSERT_TRUE(v == 300 && dim_is_none(d) && !u);
    /* only the first n bytes count */
    CU_ASSERT_TRUE(unit_parse_quantity("1 sXYZ", 3, &v, &d, &u));
    CU_ASSERT_TRUE(v == 1 && dim_is_time(d));
    CU_ASSERT_FALSE(unit_parse_quantity("ms", 2, &v, &d, &u));
    CU_ASSERT_FALSE(unit_parse_quantity("2 parsec", 8, &v, &d, &u));
    CU_ASSERT_FALSE(unit_parse_quantity("1e999 s", 7, &v, &d, &u));
    CU_ASSERT_FALSE(unit_parse_quantity("inf", 3, &v, &d, &u));
    CU_ASSERT_EQUAL(unit_number_len("1.5e-3x", 7), 6);
    CU_ASSERT_EQUAL(unit_number_len("2e", 2), 1);
    CU_ASSERT_EQUAL(unit_number_len(".", 1), 0);
}

static void test_dim_names(void)
{
    char buf[96];
    dim_unit(DIM_SLEW, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "T/m/s");
    dim_unit(DIM_FREQ, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "Hz");
    dim_unit(DIM_NONE, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1");
    dim_unit((struct dim){ 2, 0, 0 }, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "s^2");
    dim_describe(DIM_TIME, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "a time (s)");
    dim_describe(DIM_GRAD, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "a gradient amplitude (T/m)");
    dim_describe((struct dim){ 0, 3, 0 }, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m^3"));
    /* the help text names the units */
    const char *l = units_list();
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "ms"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "mT/m"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "deg"));
}

int register_units_tests(void)
{
    static const struct test_def tests[] = {
        { "time units s ms us ns", test_time_units },
        { "field units T mT uT", test_field_units },
        { "gradient units T/m mT/m T/m/s", test_gradient_units },
        { "frequency units Hz kHz MHz", test_frequency_units },
        { "angle units deg rad", test_angle_units },
        { "length units m cm mm", test_length_units },
        { "compound units (mT/m/ms = T/m/s)", test_compound_units },
        { "unknown and malformed units rejected", test_rejects },
        { "dimension arithmetic", test_dim_arith },
        { "units_format", test_format },
        { "dim_unit and dim_describe", test_dim_names },
        { "unit_parse_quantity: number, blanks, unit", test_quantity },
    };
    return TEST_ADD_SUITE("units", tests);
}
