/*
 * sim: the Bloch-simulation backend (the virtual scanner).
 *
 * sim_new expands a phantom into isochromats; sim_backend gives the VM
 * backend that turns each block's events into simulation segments (free
 * precession, RF rotation steps, ADC samples). Segments are collected in
 * batches; a batch is run by every thread over its share of the spins (a
 * chunk of spins stays in cache through the whole batch), and the samples
 * of its ADCs are summed in double, demodulated, given noise if asked for,
 * and handed to the sink in playing order.
 *
 * Physics (see docs/architecture.md): exact rotations about the effective
 * field on the RF raster (RF piecewise constant, the gradient taken as its
 * mean over each RF sample); free precession in one analytic step per spin
 * between events, with the gradient moment computed exactly from the
 * piecewise-linear waveform; T1/T2 relaxation; off-resonance from the
 * phantom (ΔB0, chemical shift) and from a Lorentzian spread of the
 * isochromats of a voxel (T2*); diffusion as an exact Gaussian random walk
 * for free diffusion; ADC samples at raster centres (t = delay + (k+½)·dwell).
 */
#ifndef LARMOR_BLOCH_SIM_H
#define LARMOR_BLOCH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/phantom/phantom.h"
#include "vm/backend.h"

struct sim_opts {
    int spins[3];          /* isochromats per voxel along x, y, z (each >= 1) */
    int ncoils;            /* 1: one uniform coil; > 1: a ring of loop coils */
    double coil_radius;    /* m, the ring's radius (0: 1.2 x the phantom's extent) */
    double snr;            /* 0: no noise; else the fully relaxed 90° FID amplitude
                              over the noise standard deviation (per part) */
    uint64_t seed;         /* noise and random walk */
    int threads;           /* 0: OpenMP's default */
    double gamma;          /* rad/s/T */
    double b0;             /* T (chemical shift in ppm) */
    bool diffusion;        /* random walk where the phantom gives D > 0 */
    size_t max_bytes;      /* refuse larger simulations (0: the memory budget, base/membudget.h) */
    bool no_groups;        /* step every spin through RF even where spins sharing
                              z, Δω, T1 and T2 could share one map (tests) */
    bool ideal_spoiling;   /* before an excitation, zero the transverse
                              magnetisation when the gradients since the last
                              one dephase a voxel by a cycle or more (the
                              continuum limit of gradient + RF spoiling, which
                              isochromats on a grid cannot reach) */
};

void sim_opts_default(struct sim_opts *o);

/* One ADC's samples, handed to the sink in playing order. */
struct sim_acq {
    uint64_t index;        /* 0-based ADC count */
    int64_t t_ns;          /* ADC start (its delay included) from the program start */
    int64_t dwell_ns;
    uint32_t samples;
    int ncoils;
    int32_t labels[VM_LABEL__COUNT];
    const float *data;     /* [coil][sample][re, im] */
};
typedef int (*sim_sink_fn)(void *ctx, const struct sim_acq *a);
/* Called after each batch with the simulated time so far (ns). Returning
   non-zero stops the run after this batch. */
typedef int (*sim_progress_fn)(void *ctx, int64_t done_ns);

struct sim;

/* NULL with a message in err if the phantom cannot be simulated (too large
   for memory: the message gives the size it would need). */
struct sim *sim_new(const struct phantom *ph, const struct sim_opts *o, char *err, size_t errlen);
void sim_free(struct sim *s);
void sim_set_sink(struct sim *s, sim_sink_fn fn, void *ctx);
void sim_set_progress(struct sim *s, sim_progress_fn fn, void *ctx);
void sim_backend(struct sim *s, struct vm_backend *be);

size_t sim_nspins(const struct sim *s);
/* Bytes sim_new would allocate for ph under o. */
size_t sim_bytes_needed(const struct phantom *ph, const struct sim_opts *o);

/* Work counters (for the benchmark): spin-steps of RF rotation, spin-samples
   taken under a constant gradient, free-precession spin-steps. */
struct sim_stats { uint64_t rf_spin_steps, adc_spin_samples, free_spin_steps, batches; };
void sim_stats(const struct sim *s, struct sim_stats *st);

/* The total magnetisation state (for tests): sums of Mx, My, Mz. */
void sim_total_m(const struct sim *s, double m[3]);
/* One isochromat's magnetisation (voxel v's spins are v*K .. v*K+K-1, K the
   spins per voxel, x fastest). */
void sim_spin_m(const struct sim *s, size_t j, double m[3]);

#endif
