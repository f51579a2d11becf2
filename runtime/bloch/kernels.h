/*
 * kernels: the simulator's inner loops over a chunk of isochromats.
 *
 * Each works on a structure of arrays in single precision (the state and the
 * spin properties), vectorised with OpenMP SIMD and compiled for AVX-512,
 * AVX2 and plain x86-64 (kern_init picks one by the CPU's features).
 * Sums over spins are formed in float within a chunk and added to double
 * accumulators by the caller.
 *
 * Conventions: dM/dt = Ω × M with Ω = -γ B_eff (rad/s), so a spin at
 * off-resonance Δω and under gradient G precesses as Mxy ∝ e^{-i(γ G·r + Δω) t}
 * and an RF field along +x tips +z towards +y. Relaxation follows each step:
 * Mxy ← Mxy·E2, Mz ← Mz·E1 + M0(1 − E1).
 */
#ifndef LARMOR_BLOCH_KERNELS_H
#define LARMOR_BLOCH_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kspins {
    size_t n;
    float *restrict x, *restrict y, *restrict z;  /* position (m) */
    float *restrict dw;     /* off-resonance (rad/s) */
    float *restrict r1, *restrict r2;              /* 1/T1, 1/T2 (1/s) */
    float *restrict m0;     /* equilibrium magnetisation */
    float *restrict mx, *restrict my, *restrict mz;
    /* receive sensitivities: ncoils arrays of n (re, im); NULL = uniform */
    int ncoils;
    float *const *sre, *const *sim;
    /* scratch, n floats each */
    float *restrict t0, *restrict t1, *restrict t2, *restrict t3, *restrict t4;
};

/* One RF step table entry: the half rotation vector parts for one raster
   step of length dt: hx, hy = Ω_xy·dt/2 of the RF field, and the gradient's
   contribution per metre gx, gy, gz = γ·G·dt/2 (rad/m). */
struct krf_step { float hx, hy, gx, gy, gz; };

/* Exact rotations about the effective field for n steps of dt (RF on). */
void kern_rf(struct kspins *s, const struct krf_step *steps, uint32_t n, double dt);

/* Free precession over T seconds: phase γ(k·r) + Δω T with k the gradient
   moment γ∫G dt (rad/m), then relaxation. */
void kern_free(struct kspins *s, const double k[3], double T);

/* Sample the transverse magnetisation into acc[coil][0..1] += Σ S·Mxy
   (complex: acc[2c] real, acc[2c+1] imaginary). */
void kern_sample(const struct kspins *s, double *acc);

/* n samples under a constant gradient: sample now, then n-1 times advance
   by a dwell (moment k per dwell, rad/m) and sample again; acc holds
   n * ncoils complex doubles ([sample][coil]). The state ends at the last
   sample (Mz relaxed over (n-1)·dwell). */
void kern_adc_const(struct kspins *s, const double k[3], double dwell, uint32_t n, double *acc);

/* One interval of the random walk of free diffusion (sim.c works out the
   coefficients): for each spin with D > 0 and each axis, two standard
   normal deviates z1, z2 (Box-Muller on two uniforms from one hash of
   (key0, base + j, axis)) move it by √(2D)·a·z1 and add √(2D)·(b·z1 + c·z2)
   to its diffusion phase; the transverse magnetisation then turns by that
   phase (when phase is set). dc holds n diffusion coefficients (m²/s). */
/* The simulator's hash of counters (splitmix64's finaliser): random
   numbers that depend only on the seed and the spin, not on threads. */
static inline uint64_t kern_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct kwalk {
    float a, b[3], c[3];
    bool phase;
    uint64_t key0, base;
};
void kern_walk(struct kspins *s, const float *dc, const struct kwalk *w);

/* Choose the kernels for this CPU (AVX-512, AVX2+FMA or generic; the
   environment variable LARMOR_KERNELS=generic|avx2 forces a narrower set);
   returns the name. sim_new calls it; the kernels call it on first use. */
const char *kern_init(void);

/* Vectorisable helpers, exposed for the tests. */
void kern_sincos_half(float h, float *sin_h, float *cos_h);
float kern_expf(float x);

#endif
