/*
 * simulate: `larmor simulate` — a compiled program on the virtual scanner,
 * its samples written as ISMRMRD raw data.
 *
 * A first pass of the VM (no physics) makes the acquisition plan
 * (runtime/acq/acq_plan.h), so that the raw data's flags and header are
 * right from the first acquisition; the second pass plays
 * the program to the Bloch simulator, whose samples go to the file as they
 * come. SIGINT (Ctrl-C) stops after the work in hand: the file is closed
 * with its header and holds every acquisition simulated so far.
 */
#ifndef LARMOR_SIMULATE_H
#define LARMOR_SIMULATE_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime/acq/acq_plan.h"
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

/* Returns 0 on success, 1 on an error (message printed to err), 130 if
   interrupted (the file is valid and holds what was simulated). */
int simulate_run(const struct lbc_program *p, const struct system *sys, const struct phantom *ph,
                 const struct simulate_opts *o, FILE *err);

#endif
