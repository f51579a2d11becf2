/*
 * wave: the gradient waveform model, the one every consumer of gradients
 * shares (the checks, the Bloch simulator, the k-space trajectory, the
 * plots, the Pulseq writer and the console driver).
 *
 * A gradient is piecewise linear through its corner points and zero
 * outside them: a trapezoid through its four corners; an arbitrary shape
 * through its samples placed at raster centres, holding its first and last
 * sample for half a raster to the ends of its span. The module owns those
 * corners, the value at a time, the integral ∫G dt (exact: trapezoidal per
 * piece, walked forward or looked up at any time), the moment k = γ∫G dt
 * with ∫k² dt (the b-value's integrand, exact per piece), and the samples
 * a console plays on the gradient raster. For RF it owns the phase of
 * each sample as the spins see it (the pulse's phase, its phase shape and
 * the frequency offset's phase at the sample's centre).
 */
#ifndef LARMOR_WAVE_H
#define LARMOR_WAVE_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/backend.h"

/* A corner of a gradient waveform. */
struct wave_pt {
    double t, v;              /* t in s from the block start, v in T/m */
};

/* One gradient's waveform: its corners in time order and, per corner, the
   integral of the waveform up to it. Reused block after block. */
struct wave {
    struct wave_pt *p;
    double *c;                /* ∫ G dt from the first corner to corner i (T·s/m) */
    size_t n, cap;
};

/* How many corners gradient g can have (the cap wave_points needs). */
size_t wave_cap(const struct vm_grad *g);

/* The corner points of gradient g, in time order: a trapezoid's four
   corners; an arbitrary shape's samples at raster centres, the first and
   last held for half a raster to the ends of its span. Returns the count,
   at most cap (wave_cap(g) is always enough). */
size_t wave_points(const struct vm_grad *g, struct wave_pt *out, size_t cap);

/* The value at g's first and at its last corner (T/m; 0 for a trapezoid
   and for an empty shape). */
double wave_first(const struct vm_grad *g);
double wave_last(const struct vm_grad *g);

/* Set w to gradient g's waveform: its corners and their integrals (the
   buffers grow as needed). */
void wave_set(struct wave *w, const struct vm_grad *g);
void wave_fini(struct wave *w);

/* The piece [p[i].t, p[i + 1].t) of w that holds t: -1 before the first
   corner, n - 1 at or after the last (a binary search). */
ptrdiff_t wave_piece(const struct wave *w, double t);

/* The value of w at t (T/m): 0 outside its corners; at a jump (two
   corners at one time) the value after it, but at the last corner that
   corner's value. */
double wave_at(const struct wave *w, double t);

/* Whether w is constant on [a, b] (to 1e-12 relative). */
bool wave_constant(const struct wave *w, double a, double b);

/* ∫ G dt from -∞ to t (T·s/m; the whole area for t past the last corner). */
double wave_integral(const struct wave *w, double t);

/* ∫ G dt walked forward in time: the same values as wave_integral, for
   times that never decrease, without a search. */
struct wave_walk {
    const struct wave *w;
    size_t j;                 /* w->p[j] is the next corner not yet passed */
};

void wave_walk_init(struct wave_walk *it, const struct wave *w);
/* ∫ G dt from -∞ to t; t must not be below the previous call's. */
double wave_walk_at(struct wave_walk *it, double t);

/* Advance the moment *k = γ∫G dt (rad/m, gamma in rad/s/T) of w from
   time *t to te (*i is the cursor into its corners, 0 at the block start)
   and return ∫k² dt over [*t, te] (s/m²), both exact: k is quadratic on
   every linear piece. */
double wave_moment_advance(const struct wave *w, size_t *i, double gamma, double *k, double *t,
                           double te);

/* The trapezoid g's value t ns after its start (its delay), in T/m. */
double wave_trap_at(const struct vm_grad *g, double t_ns);

/* The k-th of the values a console plays every step_ns from g's start:
   an arbitrary gradient's k-th sample (step_ns is its spacing), a
   trapezoid's value at the middle of the k-th step. */
double wave_raster_value(const struct vm_grad *g, int64_t k, int64_t step_ns);

/* The phase (rad) of RF sample k of rf: phase + phase shape + 2π·freq at
   the sample's centre, (k + 1/2)·dt after the pulse's start. */
static inline double wave_rf_phase(const struct vm_rf *rf, uint32_t k)
{
    double dt = (double)rf->dt_ns * 1e-9;
    return rf->phase + (rf->phase_shape ? rf->phase_shape[k] : 0) +
           2 * M_PI * rf->freq * (k + 0.5) * dt;
}

#endif
