/*
 * acq_plan: the raw-data acquisition plan of a program (see acq_plan.c).
 * A first pass of the VM (no physics) collects every ADC's labels, the
 * readout's field of view and the duration, so that the raw data's flags
 * and header are right from the first acquisition. The simulator and the
 * hardware drivers write acquisitions through it.
 */
#ifndef LARMOR_ACQ_PLAN_H
#define LARMOR_ACQ_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/io/rawdata.h"
#include "runtime/system/system.h"
#include "vm/program.h"

/* What the raw data of a program will hold, from a first pass of the VM
   (no physics): per ADC its flags (first/last in..., reversed lines) and
   slice position, and the header (matrix, FOV, limits, params). */
struct acq_plan {
    struct raw_header h;
    size_t n;                    /* ADCs */
    uint64_t *flags;
    float *zpos;                 /* mm */
    const char **pn;             /* header user parameters (room for 4 more) */
    double *pv;
    size_t np;
    bool incomplete;             /* acq_plan_mark_incomplete was called */
    uint32_t max_samples;
    int64_t total_ns;
};

/* Plan the raw data of p played on sys: 0, or 1 with a message to err
   (cmd names the command in it). */
int acq_plan_init(struct acq_plan *pl, const struct lbc_program *p, const struct system *sys,
                  const char *seq_name, int ncoils, const char *cmd, FILE *err);
/* Flags, k-space centre sample, directions and position of ADC index
   (q->samples set by the caller). */
void acq_plan_fill(const struct acq_plan *pl, size_t index, struct raw_acq *q);
/* Mark the header as of a run that ended early: user parameters
   larmor_incomplete = 1, larmor_acquisitions_expected and _received, and
   when a signal stopped it (sig > 0: SIGINT 2, SIGTERM 15)
   larmor_interrupted_by_signal = sig. Only the first call counts. */
void acq_plan_mark_incomplete(struct acq_plan *pl, size_t received, int sig);
/* Free what the plan holds. */
void acq_plan_fini(struct acq_plan *pl);

#endif
