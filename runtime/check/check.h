/*
 * check: the safety backend. It receives the VM's blocks like any other
 * backend and checks them against one scanner description: rasters, block
 * bounds, dead times, RF/ADC overlap, gradient amplitude (per axis and
 * vector), slew, gradient continuity between blocks, RF peak B1 and length,
 * ADC dwell and samples, SAR over sliding 10 s and 6 min windows (IEC
 * 60601-2-33), PNS by the IEC 60601-2-33:2022 nerve-response model, the
 * plain dB/dt, and the acoustic bands of readout gradients. It also
 * measures the diffusion weighting (b-value) at every echo: the moment
 * k = γ∫G dt per axis is followed exactly through the piecewise-linear
 * waveforms, reset at each excitation and negated at each refocusing pulse
 * (at the RF centre), and b = ∫|k|² dt (the trace of the b-matrix) is taken
 * from the excitation to each ADC's centre.
 *
 * Violations are grouped by (kind, instruction): each group keeps its
 * first and its worst occurrence (time, loop indices, value, limit) and a
 * count. check_report turns the groups into diagnostics at the source span
 * of the event. Compile-time checking is exactly a VM run against this
 * backend, so there is no second timing model.
 */
#ifndef LARMOR_CHECK_H
#define LARMOR_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "runtime/system/system.h"
#include "vm/backend.h"

/* Diagnostic codes of the checks (E06xx errors, W06xx warnings). */
enum check_code {
    CK_RASTER = 660,      /* an event time or length off its raster */
    CK_OUTSIDE = 661,     /* an event outlasts its block */
    CK_DEADTIME = 662,    /* RF dead time / ringdown, ADC dead time */
    CK_OVERLAP = 663,     /* RF and ADC windows overlap */
    CK_GRAD = 664,        /* gradient amplitude on one axis */
    CK_GRADVEC = 665,     /* gradient vector magnitude */
    CK_SLEW = 666,        /* slew rate on one axis */
    CK_JUMP = 667,        /* a gradient jumps (between blocks or after a delay) */
    CK_B1 = 668,          /* RF peak B1 */
    CK_RFDUR = 669,       /* RF pulse too long */
    CK_DWELL = 670,       /* ADC dwell off raster or out of range */
    CK_SAMPLES = 671,     /* ADC sample count */
    CK_SAR = 672,         /* SAR over a window */
    CK_PNS = 673,         /* PNS level */
    CK_DBDT = 674,        /* plain dB/dt */
    CK_ACOUSTIC = 675,    /* warning: readout gradient fundamental in a forbidden band */
};

/* History the PNS convolution keeps (older slew contributes at most
   2·c·Gmax / (S_min·(c + H)²) of the threshold; 0.1 % for 40 mT/m). */
#define CHECK_PNS_HISTORY_S 0.020

/* Distinct b-values kept for the report: values within 1 s/mm² or 1 % of
   a group join it (a group is a range); past this many groups a new value
   widens the nearest one. */
#define CHECK_MAX_BGROUPS 16

struct check_bgroup {
    double lo, hi;            /* s/m² */
    uint64_t count;           /* ADCs in the group */
};

struct check_peak {
    double value;             /* SI */
    int64_t time_ns;
    int axis;                 /* -1 where not per axis */
    uint32_t pc;
};

struct check_summary {
    int64_t total_ns;
    uint64_t nblocks, nrf, nadc;
    struct check_peak grad[3], grad_vec, slew[3], b1, rf_dur, pns, dbdt;
    double pns_axis[3];       /* per-axis levels at the PNS peak */
    double rf_energy;         /* ∫|B1|² dt over the whole program, T²·s */
    /* SAR, W/kg: [region][0] = worst 10 s window, [1] = worst 6 min window */
    double sar[SAR__COUNT][2];
    int64_t sar_window_ns[2]; /* the window lengths (10 s, 360 s) */
    int64_t sar_at_ns[2];     /* start of the worst window of each length */
    uint32_t sar_pc[2];       /* the largest pulse in that window (for a span) */
    /* b-values (s/m²) at the ADC centres after an excitation: the largest
       (with its ADC's centre time and instruction) and the groups */
    uint64_t nb;              /* ADCs with a b-value */
    struct check_peak b_max;
    struct check_bgroup bgroups[CHECK_MAX_BGROUPS];
    int nbgroups;
};

struct check;

struct check *check_new(const struct system *sys);
void check_free(struct check *ck);

/* The backend table; ctx is ck. */
void check_backend(struct check *ck, struct vm_backend *be);

const struct check_summary *check_get_summary(const struct check *ck);
int check_count(const struct check *ck, bool warnings);

/* One point of a timeline. */
struct check_tl_point {
    int64_t t_ns;
    double v;
};

/* The SAR (W/kg) of region r (enum sar_region) averaged over the window
   of length k (0: 10 s, 1: 6 min) that ends at time t, for t from 0 to the
   end of the program (no RF before it): the breakpoints of this
   piecewise-linear function in time order, *n of them (malloc'd; NULL for
   a region that is off). The windows are those the check searches, so the
   largest value is the summary's sar[r][k]. Call after the run. */
struct check_tl_point *check_sar_timeline(const struct check *ck, int region, int k, size_t *n);

/* Have fn called with the PNS level (fraction of the threshold) at every
   time the check evaluates it, the end of each gradient ramp (where the
   summary's peak is taken), and also at the start of each ramp, so that a
   timeline shows the decay between ramps. Times never decrease. Set it
   before the run. */
void check_set_pns_hook(struct check *ck, void (*fn)(void *ctx, int64_t t_ns, double level),
                        void *ctx);

/* Turn the violation groups into diagnostics in d. pc → span goes through
   p's line table (lbc_pc_span) into the source files the caller registered
   with d; nothing is read from disk (for a file not in d, or one that no
   longer fits the span, the location is given in a note instead). */
void check_report(const struct check *ck, const struct lbc_program *p, struct diag_ctx *d);

/* The minimum of a time param that timing constraints depend on (TE, TR),
   found by the compiler (compile_opts.on_minimum). */
struct check_minimum {
    char name[64];
    int64_t current_ns, min_ns;
    int at_floor;             /* the param's lower bound already works */
};

/* The report of `larmor check`: peaks against limits, SAR, PNS, duration,
   and the minima (mins may be NULL). */
void check_print_text(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out);
void check_print_json(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out);

#endif
