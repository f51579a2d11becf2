/*
 * kspace_traj: the k-space trajectory a program plays, as a backend.
 *
 * k(t) = γ̄ ∫ G dt (1/m), integrated exactly for the piecewise-linear
 * gradient waveforms of the checks and the simulator (runtime/wave/wave.h:
 * trapezoids and arbitrary shapes alike). At the centre of an RF pulse k
 * is reset to 0 when the pulse's use is excitation and negated when it is
 * refocusing; other uses (inversion, saturation, preparation, other) leave
 * it alone, and an undefined use counts as an excitation up to a flip
 * angle of 90° and as a refocusing past it (as Pulseq guesses). ADC sample
 * i lies at delay + (i + 1/2)·dwell, as the simulator samples it.
 *
 * The backend records each ADC sample's k and, for drawing, the path of k
 * at the corners of the gradient waveforms (and half-way between them,
 * where k is quadratic), with a break at each reset or inversion.
 */
#ifndef LARMOR_KSPACE_TRAJ_H
#define LARMOR_KSPACE_TRAJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/backend.h"

struct ktraj_sample {
    double k[3];                 /* 1/m */
    int64_t t_ns;                /* absolute time of the sample */
    uint32_t adc;                /* 0-based count of ADC events (all of them) */
    uint32_t index;              /* sample index in its ADC */
    int32_t lin, par, slc;       /* the ADC's labels */
};

struct ktraj_opts {
    double gamma;                /* Hz/T (gamma-bar, system.gamma) */
    int64_t from_ns, to_ns;      /* record samples and path in this window only;
                                    to_ns < 0: to the end */
    bool no_path;                /* record the samples only */
    /* when set, each ADC's samples are handed here at the end of its block
       and not kept (ktraj_samples then gives none): a whole scan's k in
       constant memory */
    void (*on_adc)(void *ctx, const struct ktraj_sample *s, size_t n);
    void *on_adc_ctx;
};

struct ktraj_point {
    double k[3];                 /* 1/m */
    int64_t t_ns;
    bool pen_up;                 /* the path breaks before this point */
};

struct ktraj;

struct ktraj *ktraj_new(const struct ktraj_opts *o);
void ktraj_free(struct ktraj *kt);

/* The backend table; ctx is kt. */
void ktraj_backend(struct ktraj *kt, struct vm_backend *be);

/* What was recorded (valid until ktraj_free). */
const struct ktraj_sample *ktraj_samples(const struct ktraj *kt, size_t *n);
const struct ktraj_point *ktraj_path(const struct ktraj *kt, size_t *n);

/* The k-space position at the end of the last block played (1/m). */
void ktraj_current(const struct ktraj *kt, double k[3]);

#endif
