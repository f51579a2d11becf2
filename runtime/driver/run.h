/*
 * run: `larmor run` below the command line - a checked program on a
 * driver, its samples written as ISMRMRD raw data exactly as the simulator
 * writes them (the acquisition plan, runtime/acq/acq_plan.c). Prepare's refusals
 * and notes are printed at the .psq source of the offending event. SIGINT
 * (Ctrl-C) asks the driver to stop; the driver's safe stop runs; what was
 * received is written, the file marked incomplete.
 */
#ifndef LARMOR_DRIVER_RUN_H
#define LARMOR_DRIVER_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "base/diag.h"
#include "runtime/driver/driver.h"

struct run_opts {
    const char *uri;
    const char *raw_path;        /* NULL: no raw data (the record driver) */
    const char *seq_name;
    bool quiet;
    struct diag_ctx *diag;       /* the program's source files, registered by the caller;
                                    prepare's messages are printed through it */
};

/* 0: the whole program ran and every sample was written; 1: refused or
   failed (nothing sent, or a fault with a partial file marked incomplete);
   128 + the signal when SIGINT (130) or SIGTERM (143) stopped it (a partial
   file marked incomplete). *wrote_raw says whether raw_path holds data. */
int driver_run(const struct lbc_program *p, const struct system *sys, const struct drv_ticket *t,
               const struct run_opts *o, bool *wrote_raw, FILE *err);

/* Whether uri names a driver that opens (no I/O): 0, or -1 with a
   message. */
int driver_check_uri(const char *uri, const struct system *sys, char *err, size_t errlen);

/* Print prepare's messages with the source line of each event, from the
   files registered with d (none is read here); d's diagnostics are left
   as they were. */
void driver_print_msgs(const struct drv_msgs *m, const struct lbc_program *p, struct diag_ctx *d,
                       FILE *err);

#endif
