/*
 * units: the unit table of the sequence language and dimension arithmetic.
 */
#include "base/units.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    double scale;
    struct dim dim;
};

static const struct unit units[] = {
    { "s", 1, { 1, 0, 0 } },      { "ms", 1e-3, { 1, 0, 0 } },
    { "us", 1e-6, { 1, 0, 0 } },  { "µs", 1e-6, { 1, 0, 0 } },
    { "ns", 1e-9, { 1, 0, 0 } },
    { "T", 1, { 0, 0, 1 } },      { "mT", 1e-3, { 0, 0, 1 } },
    { "uT", 1e-6, { 0, 0, 1 } },  { "µT", 1e-6, { 0, 0, 1 } },
    { "G", 1e-4, { 0, 0, 1 } },
    { "m", 1, { 0, 1, 0 } },      { "cm", 1e-2, { 0, 1, 0 } },
    { "mm", 1e-3, { 0, 1, 0 } },  { "um", 1e-6, { 0, 1, 0 } },
    { "µm", 1e-6, { 0, 1, 0 } },
    { "Hz", 1, { -1, 0, 0 } },    { "kHz", 1e3, { -1, 0, 0 } },
    { "MHz", 1e6, { -1, 0, 0 } },
    { "rad", 1, { 0, 0, 0 } },    { "deg", 3.14159265358979323846 / 180, { 0, 0, 0 } },
    { "ppm", 1e-6, { 0, 0, 0 } },
};

bool dim_eq(struct dim a, struct dim b)
{
    return a.s == b.s && a.m == b.m && a.T == b.T;
}

bool dim_is_none(struct dim a)
{
    return a.s == 0 && a.m == 0 && a.T == 0;
}

bool dim_is_time(struct dim a)
{
    return a.s == 1 && a.m == 0 && a.T == 0;
}

struct dim dim_mul(struct dim a, struct dim b)
{
    return (struct dim){ (int8_t)(a.s + b.s), (int8_t)(a.m + b.m), (int8_t)(a.T + b.T) };
}

struct dim dim_div(struct dim a, struct dim b)
{
    return (struct dim){ (int8_t)(a.s - b.s), (int8_t)(a.m - b.m), (int8_t)(a.T - b.T) };
}

struct dim dim_pow(struct dim a, int k, bool *ok)
{
    int s = a.s * k, m = a.m * k, t = a.T * k;
    if (s < -60 || s > 60 || m < -60 || m > 60 || t < -60 || t > 60) {
        *ok = false;
        return a;
    }
    return (struct dim){ (int8_t)s, (int8_t)m, (int8_t)t };
}

static const struct unit *unit_find(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
            return &units[i];
    return NULL;
}

bool unit_parse(const char *s, size_t n, double *scale, struct dim *dim)
{
    double sc = 1;
    struct dim d = DIM_NONE;
    size_t i = 0;
    bool first = true;
    while (i < n) {
        if (!first) {
            if (s[i] != '/')
                return false;
            i++;
        }
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        const struct unit *u = unit_find(s + i, j - i);
        if (!u)
            return false;
        if (first) {
            sc *= u->scale;
            d = dim_mul(d, u->dim);
        } else {
            sc /= u->scale;
            d = dim_div(d, u->dim);
        }
        first = false;
        i = j;
    }
    if (first)
        return false;
    *scale = sc;
    *dim = d;
    return true;
}

size_t unit_number_len(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    return i;
}

bool unit_parse_quantity(const char *s, size_t n, double *si, struct dim *dim, bool *has_unit)
{
    size_t nl = unit_number_len(s, n);
    if (!nl || nl >= 64)
        return false;
    char num[64];
    memcpy(num, s, nl);
    num[nl] = 0;
    double v = strtod(num, NULL);
    size_t u = nl;
    while (u < n && (s[u] == ' ' || s[u] == '\t'))
        u++;
    double scale = 1;
    struct dim d = DIM_NONE;
    if (u < n && !unit_parse(s + u, n - u, &scale, &d))
        return false;
    if (!isfinite(v) || !isfinite(v * scale))
        return false;
    *si = v * scale;
    *dim = d;
    if (has_unit)
        *has_unit = u < n;
    return true;
}

static const struct {
    struct dim d;
    const char *name;
    const char *unit;
} named[] = {
    { { 0, 0, 0 }, "a plain number", "1" },
    { { 1, 0, 0 }, "a time", "s" },
    { { -1, 0, 0 }, "a frequency", "Hz" },
    { { 0, 0, 1 }, "a magnetic field", "T" },
    { { 0, 1, 0 }, "a length", "m" },
    { { 0, -1, 1 }, "a gradient amplitude", "T/m" },
    { { -1, -1, 1 }, "a slew rate", "T/m/s" },
    { { 1, -1, 1 }, "a gradient moment", "T/m*s" },
    { { -1, -1, 0 }, "a spatial frequency", "1/m" },
    { { -1, 0, -1 }, "a gyromagnetic ratio", "Hz/T" },
    { { -1, 0, 1 }, "a rate of change of field", "T/s" },
};

void dim_unit(struct dim d, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (dim_eq(named[i].d, d)) {
            snprintf(buf, n, "%s", named[i].unit);
            return;
        }
    char tmp[96] = "";
    size_t len = 0;
    const struct { int e; const char *u; } parts[] = { { d.T, "T" }, { d.m, "m" }, { d.s, "s" } };
    for (int i = 0; i < 3; i++) {
        if (!parts[i].e)
            continue;
        len += (size_t)snprintf(tmp + len, sizeof tmp - len, "%s%s", len ? "*" : "", parts[i].u);
        if (parts[i].e != 1)
            len += (size_t)snprintf(tmp + len, sizeof tmp - len, "^%d", parts[i].e);
        if (len >= sizeof tmp)
            break;
    }
    snprintf(buf, n, "%s", tmp);
}

void dim_describe(struct dim d, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (dim_eq(named[i].d, d)) {
            snprintf(buf, n, "%s (%s)", named[i].name, named[i].unit);
            return;
        }
    char u[96];
    dim_unit(d, u, sizeof u);
    snprintf(buf, n, "a quantity in %s", u);
}

void units_format(double si, struct dim d, char *buf, size_t n)
{
    struct choice { double scale; const char *u; };
    static const struct choice t[] = { { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" }, { 1e-9, "ns" } };
    static const struct choice f[] = { { 1e6, "MHz" }, { 1e3, "kHz" }, { 1, "Hz" } };
    static const struct choice b[] = { { 1, "T" }, { 1e-3, "mT" }, { 1e-6, "uT" } };
    static const struct choice g[] = { { 1, "T/m" }, { 1e-3, "mT/m" } };
    static const struct choice l[] = { { 1, "m" }, { 1e-3, "mm" } };
    static const struct choice sl[] = { { 1, "T/m/s" } };
    const struct choice *c = NULL;
    size_t nc = 0;
#define PICK(arr) do { c = arr; nc = sizeof arr / sizeof arr[0]; } while (0)
    if (dim_eq(d, DIM_TIME)) PICK(t);
    else if (dim_eq(d, DIM_FREQ)) PICK(f);
    else if (dim_eq(d, DIM_TESLA)) PICK(b);
    else if (dim_eq(d, DIM_GRAD)) PICK(g);
    else if (dim_eq(d, DIM_LENGTH)) PICK(l);
    else if (dim_eq(d, DIM_SLEW)) PICK(sl);
#undef PICK
    if (!c) {
        char u[96];
        dim_unit(d, u, sizeof u);
        if (dim_is_none(d))
            snprintf(buf, n, "%.6g", si);
        else
            snprintf(buf, n, "%.6g %s", si, u);
        return;
    }
    size_t k = nc - 1;
    for (size_t i = 0; i < nc; i++)
        if (fabs(si) >= c[i].scale * 0.9999999) {
            k = i;
            break;
        }
    if (si == 0) {
        for (size_t i = 0; i < nc; i++)
            if (c[i].scale == 1e-3 || (nc == 1))
                k = i;
    }
    snprintf(buf, n, "%.6g %s", si / c[k].scale, c[k].u);
}

const char *units_list(void)
{
    return "s ms us ns, T mT uT G, m cm mm um, Hz kHz MHz, rad deg ppm, "
           "and quotients such as mT/m, T/m/s, mT/m/ms, MHz/T";
}
