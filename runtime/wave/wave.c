/*
 * wave: see wave.h. Every integral here is taken in one fixed order of
 * operations (the trapezoid of each whole piece, then the part of the
 * piece up to t), so the checks, the simulator, the trajectory and the
 * plots print the same numbers whichever of them computes a value.
 */
#include "runtime/wave/wave.h"

#include <math.h>
#include <stdlib.h>

#include "base/util.h"

size_t wave_cap(const struct vm_grad *g)
{
    return (g->kind == GRAD_TRAP ? 4 : (size_t)g->n) + 2;
}

size_t wave_points(const struct vm_grad *g, struct wave_pt *out, size_t cap)
{
    double d = (double)g->delay_ns * 1e-9;
    size_t n = 0;
    if (g->kind == GRAD_TRAP) {
        double r = (double)g->rise_ns * 1e-9, f = (double)g->flat_ns * 1e-9,
               fa = (double)g->fall_ns * 1e-9;
        out[n++] = (struct wave_pt){ d, 0 };
        out[n++] = (struct wave_pt){ d + r, g->amp };
        out[n++] = (struct wave_pt){ d + r + f, g->amp };
        out[n++] = (struct wave_pt){ d + r + f + fa, 0 };
        return n;
    }
    if (!g->n || cap < 2)
        return 0;
    double dt = (double)g->dt_ns * 1e-9;
    out[n++] = (struct wave_pt){ d, g->amp * g->shape[0] };
    for (uint32_t i = 0; i < g->n && n + 1 < cap; i++)
        out[n++] = (struct wave_pt){ d + (i + 0.5) * dt, g->amp * g->shape[i] };
    out[n++] = (struct wave_pt){ d + g->n * dt, g->amp * g->shape[g->n - 1] };
    return n;
}

double wave_first(const struct vm_grad *g)
{
    return g->kind != GRAD_TRAP && g->n ? g->amp * g->shape[0] : 0;
}

double wave_last(const struct vm_grad *g)
{
    return g->kind != GRAD_TRAP && g->n ? g->amp * g->shape[g->n - 1] : 0;
}

void wave_set(struct wave *w, const struct vm_grad *g)
{
    size_t need = wave_cap(g);
    if (need > w->cap) {
        w->cap = need;
        w->p = xrealloc(w->p, need * sizeof *w->p);
        w->c = xrealloc(w->c, need * sizeof *w->c);
    }
    w->n = wave_points(g, w->p, need);
    const struct wave_pt *p = w->p;
    for (size_t i = 0; i < w->n; i++)
        w->c[i] = i ? w->c[i - 1] + 0.5 * (p[i - 1].v + p[i].v) * (p[i].t - p[i - 1].t) : 0;
}

void wave_fini(struct wave *w)
{
    free(w->p);
    free(w->c);
    w->p = NULL;
    w->c = NULL;
    w->n = w->cap = 0;
}

ptrdiff_t wave_piece(const struct wave *w, double t)
{
    const struct wave_pt *p = w->p;
    size_t n = w->n;
    if (!n || t < p[0].t)
        return -1;
    size_t lo = 0, hi = n - 1;
    if (t >= p[hi].t)
        return (ptrdiff_t)hi;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t >= p[mid].t)
            lo = mid;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo;
}

/* The value on piece i at t (p[i].t <= t < p[i + 1].t). */
static double lerp(const struct wave_pt *p, size_t i, double t)
{
    double a = p[i].t, b = p[i + 1].t;
    return b > a ? p[i].v + (p[i + 1].v - p[i].v) * (t - a) / (b - a) : p[i + 1].v;
}

double wave_at(const struct wave *w, double t)
{
    ptrdiff_t i = wave_piece(w, t);
    if (i < 0 || (size_t)i == w->n - 1)
        return i >= 0 && t == w->p[i].t ? w->p[i].v : 0;
    return lerp(w->p, (size_t)i, t);
}

bool wave_constant(const struct wave *w, double a, double b)
{
    double va = wave_at(w, a);
    for (size_t i = 0; i < w->n; i++)
        if (w->p[i].t > a && w->p[i].t < b && fabs(w->p[i].v - va) > 1e-12 * (fabs(va) + 1e-9))
            return false;
    return fabs(wave_at(w, b) - va) <= 1e-12 * (fabs(va) + 1e-9);
}

/* ∫ G dt up to t on piece i, or up to its corner for the last. */
static double integral_on(const struct wave *w, ptrdiff_t i, double t)
{
    if (i < 0)
        return 0;
    if ((size_t)i == w->n - 1)
        return w->c[i];
    const struct wave_pt *p = w->p;
    return w->c[i] + 0.5 * (p[i].v + lerp(p, (size_t)i, t)) * (t - p[i].t);
}

double wave_integral(const struct wave *w, double t)
{
    return integral_on(w, wave_piece(w, t), t);
}

void wave_walk_init(struct wave_walk *it, const struct wave *w)
{
    it->w = w;
    it->j = 0;
}

double wave_walk_at(struct wave_walk *it, double t)
{
    const struct wave *w = it->w;
    while (it->j < w->n && w->p[it->j].t <= t)
        it->j++;
    return integral_on(w, (ptrdiff_t)it->j - 1, t);
}

/* On a piece where G = g0 + s·τ, k(τ) = k0 + Bτ + Cτ² (B = γg0, C = γs/2),
   and ∫₀^T k² dτ = k0²T + k0·B·T² + (B² + 2k0·C)T³/3 + B·C·T⁴/2 + C²T⁵/5. */
double wave_moment_advance(const struct wave *w, size_t *i, double gamma, double *kp, double *t,
                           double te)
{
    const struct wave_pt *p = w->p;
    size_t n = w->n;
    double k = *kp, acc = 0;
    while (*t < te) {
        while (*i < n && p[*i].t <= *t)
            (*i)++;
        double t1 = te, g0 = 0, s = 0;
        if (*i == 0 && n) {
            t1 = p[0].t < te ? p[0].t : te;             /* before the waveform */
        } else if (*i < n) {
            const struct wave_pt *q0 = &p[*i - 1], *q1 = &p[*i];   /* q0->t <= *t < q1->t */
            s = (q1->v - q0->v) / (q1->t - q0->t);
            g0 = q0->v + s * (*t - q0->t);
            t1 = q1->t < te ? q1->t : te;
        }
        double T = t1 - *t;
        if (g0 == 0 && s == 0) {
            acc += k * k * T;
        } else {
            double B = gamma * g0, C = gamma * s / 2;
            acc += T * (k * k + T * (k * B + T * ((B * B + 2 * k * C) / 3 +
                                                  T * (B * C / 2 + T * C * C / 5))));
            k += T * (B + C * T);
        }
        *t = t1;
    }
    *kp = k;
    return acc;
}

double wave_trap_at(const struct vm_grad *g, double t)
{
    double r = (double)g->rise_ns, f = (double)g->flat_ns, d = (double)g->fall_ns;
    if (t < 0)
        return 0;
    if (t < r)
        return g->amp * t / r;
    if (t <= r + f)
        return g->amp;
    if (t < r + f + d)
        return g->amp * (1 - (t - r - f) / d);
    return 0;
}

double wave_raster_value(const struct vm_grad *g, int64_t k, int64_t step)
{
    return g->kind == GRAD_ARB ? g->amp * g->shape[k]
                               : wave_trap_at(g, (double)(k * step) + 0.5 * (double)step);
}
