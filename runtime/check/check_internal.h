/*
 * check_internal: what the files of the check backend share (internal to
 * runtime/check/): the backend's state (struct check), the violation
 * groups it keeps, the formatting of values in messages, and the steps
 * one file calls in another.
 */
#ifndef LARMOR_CHECK_INTERNAL_H
#define LARMOR_CHECK_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/units.h"
#include "runtime/check/check.h"
#include "runtime/wave/wave.h"

#define MAX_GROUPS 256
#define MAX_WHERE 160

struct occurrence {
    int64_t time_ns;
    double value;
    char where[MAX_WHERE];     /* "line=127 slice=3" */
};

struct group {
    int code;
    uint32_t pc;
    int sub;                   /* axis, region... part of the key */
    bool warning;
    uint64_t count;
    double limit;
    struct dim dim;            /* of value and limit */
    bool higher_is_worse;
    char msg[200];             /* the first occurrence's message */
    char help[200];
    struct occurrence first, worst;
};

struct seg {                   /* a piece of constant slew on one axis */
    double t0, t1, s;          /* s, T/m/s */
};

struct segring {               /* cap is a power of two */
    struct seg *v;
    size_t head, n, cap;
};

struct pulse {
    int64_t t0, t1;
    double e;                  /* ∫|B1|² dt, T²s */
    uint32_t pc;
};

struct check {
    struct system sys;
    struct vm_view view;       /* of the program played (cb_begin) */
    const struct vm_view *v;   /* &view once begun, else NULL */
    struct check_summary sum;
    struct group groups[MAX_GROUPS];
    int ngroups;
    uint64_t dropped;          /* violations past MAX_GROUPS */
    int nerr, nwarn;
    /* gradient state between blocks */
    double gend[3];
    uint32_t gend_pc[3];
    int64_t gend_time;
    /* shape statistics, cached per shape id */
    double *shape_max, *shape_sq;
    bool *shape_done;
    /* SAR */
    struct pulse *pulses;
    size_t npulses, cappulses;
    /* PNS */
    struct segring ring[3];
    /* acoustic: last readout lobe centre per axis and sign */
    double lobe_t[3][2];
    bool lobe_on[3][2];
    /* the PNS timeline (check_set_pns_hook): ramp starts of this block */
    void (*pns_hook)(void *ctx, int64_t t_ns, double level);
    void *pns_hook_ctx;
    double *starts;
    size_t nstarts, capstarts;
    /* the waveforms of the current block (n = 0 on an axis without one)
       and the times at which its PNS is evaluated */
    struct wave w[3];
    double *evals;
    size_t nevals, capevals;
    /* b-value: since the last excitation */
    bool excited;
    double gamma;              /* rad/s/T */
    double bk[3];              /* k = γ∫G dt per axis, rad/m (negated by refocusing) */
    double bint;               /* Σ_axes ∫k² dt, s/m² */
};

/* ---------- check.c ---------- */

/* Record one violation. value/limit are SI in dimension dm; msg is only
   formatted for a new group. */
void ck_violation(struct check *ck, const struct vm_block *b, int code, uint32_t pc, int sub,
                  int64_t t, double value, double limit, struct dim dm, bool higher_is_worse,
                  const char *help, const char *fmt, ...) __attribute__((format(printf, 12, 13)));

/* The axes' names, 'x', 'y', 'z'. */
extern const char ck_axis_name[3];

/* si (dimension d) with its unit, into buf. */
static inline const char *fmtv(char *buf, size_t n, double si, struct dim d)
{
    units_format(si, d, buf, n);
    return buf;
}

/* A time in ns with its unit, into buf. */
static inline const char *fmtt(char *buf, size_t n, int64_t ns)
{
    units_format((double)ns * 1e-9, DIM_TIME, buf, n);
    return buf;
}

/* seconds to ns for reporting, clamped (a double out of int64's range must
   not be converted) */
static inline int64_t s_to_ns(double t)
{
    double ns = t * 1e9;
    if (!(ns > -9.0e18))
        return ns != ns ? 0 : INT64_MIN / 2;
    if (ns > 9.0e18)
        return INT64_MAX / 2;
    return (int64_t)llround(ns);
}

/* ---------- check_pns.c ---------- */

/* Append a ramp to an axis' history. */
void ck_ring_push(struct segring *r, struct seg s);

/* Evaluate the PNS after block b, whose ramps end at ck->evals. */
void ck_pns_block(struct check *ck, const struct vm_block *b);

/* ---------- check_bvalue.c ---------- */

/* Follow k through block b, whose waveforms are ck->w. */
void ck_bv_block(struct check *ck, const struct vm_block *b);

/* ---------- check_sar.c ---------- */

/* The SAR windows of the whole run, total_ns long. */
void ck_sar_end(struct check *ck, int64_t total_ns);

#endif
