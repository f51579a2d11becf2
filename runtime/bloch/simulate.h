/*
 * simulate: `larmor simulate` — a compiled program on the virtual scanner,
 * its samples written as ISMRMRD raw data.
 *
 * A first pass of the VM (no physics) collects every ADC's labels, the
 * readout's field of view and the duration, so that the raw data's flags
 * and header are right from the first acquisition; the second pass plays
 * the program to the Bloch simulator, whose samples go to the file as they
 * come. SIGINT (Ctrl-C) stops after the work in hand: the file is closed
 * with its header and holds every acquisition simulated so far.
 */
#ifndef LARMOR_SIMULATE_H
#define LARMOR_SIMULATE_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime/bloch/sim.h"
#include "runtime/phantom/phantom.h"
#include "runtime/io/rawdata.h"
#include "runtime/system/system.h"
#include "vm/program.h"

struct simulate_opts {
    const char *out;             /* the raw data file (.h5) */
    const char *seq_name;        /* protocol name in the header */
    struct sim_opts sim;
    bool quiet;                  /* no progress bar, no summary */
    bool progress;               /* a progress bar (stderr is a terminal) */
};

/* What the raw data of a program will hold, from a first pass of the VM
   (no physics): per ADC its flags (first/last in..., reversed lines) and
   slice position, and the header (matrix, FOV, limits, params). The
   simulator and the hardware drivers write acquisitions through it. */
struct acq_plan {
    struct raw_header h;
    size_t n;                    /* ADCs */
    uint64_t *flags;
    float *zpos;                 /* mm */
    const char **pn;             /* header user parameters (room for 3 more) */
    double *pv;
    size_t np;
    uint32_t max_samples;
    int64_t total_ns;
};
int acq_plan_init(struct acq_plan *pl, const struct lbc_program *p, const struct system *sys,
                  const char *seq_name, int ncoils, const char *cmd, FILE *err);
/* Flags, k-space centre sample, directions and position of ADC index
   (q->samples set by the caller). */
void acq_plan_fill(const struct acq_plan *pl, size_t index, struct raw_acq *q);
/* Mark the header as of a run that ended early: user parameters
   larmor_incomplete = 1, larmor_acquisitions_expected and _received. */
void acq_plan_mark_incomplete(struct acq_plan *pl, size_t received);
void acq_plan_fini(struct acq_plan *pl);

/* Returns 0 on success, 1 on an error (message printed to err), 130 if
   interrupted (the file is valid and holds what was simulated). */
int simulate_run(const struct lbc_program *p, const struct system *sys, const struct phantom *ph,
                 const struct simulate_opts *o, FILE *err);

#endif
