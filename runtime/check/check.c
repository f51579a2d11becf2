/*
 * check: the safety backend (see check.h). Per block it checks rasters,
 * bounds, dead times, overlap, gradient amplitude/slew/continuity, RF and
 * ADC limits; it records each RF pulse's energy for the SAR windows and
 * each gradient ramp for the PNS convolution, which it evaluates as the
 * blocks arrive (a bounded history, see CHECK_PNS_HISTORY_S).
 *
 * Waveform model (the same as the simulator's and Pulseq's, in
 * runtime/wave/wave.h): a trapezoid is piecewise linear through its
 * corners; an arbitrary gradient is piecewise linear through its samples
 * placed at raster centres, holding its first and last sample for half a
 * raster to the ends of its span; RF is piecewise constant per sample.
 *
 * b-value: the moment k = γ∫G dt of each axis is quadratic on every linear
 * piece of its waveform, so ∫k² dt is a polynomial integrated in closed
 * form per piece (wave_moment_advance); k is reset at an excitation's RF
 * centre and negated at a refocusing pulse's, and b = Σ_axes ∫k² dt is
 * read at each ADC's centre.
 */
#include "runtime/check/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "base/util.h"
#include "runtime/wave/wave.h"
#include "vm/program.h"

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

/* ---------- violations ---------- */

static void where_text(const struct check *ck, const struct vm_block *b, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    if (!b || !ck->v)
        return;
    for (int i = 0; i < b->nloops && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%.0f", i ? " " : "",
                                vm_view_loop_name(ck->v, b->loops[i].name), b->loops[i].value);
}

/* Whether instructions a and b stand for one event of an imported Pulseq
   file: such a program is straight-line (an instruction per occurrence),
   and the reader points every occurrence of an event at the .seq row that
   defines it, so its violations are grouped by that row (the program's
   origin, recorded by the Pulseq reader, says which programs those are). */
static bool same_seq_row(const struct check *ck, uint32_t a, uint32_t b)
{
    return ck->v && ck->v->origin == LBC_ORIGIN_PULSEQ && vm_view_same_event(ck->v, a, b);
}

static struct group *find_group(struct check *ck, int code, uint32_t pc, int sub)
{
    for (int i = 0; i < ck->ngroups; i++) {
        struct group *g = &ck->groups[i];
        if (g->code == code && g->sub == sub && (g->pc == pc || same_seq_row(ck, g->pc, pc)))
            return g;
    }
    return NULL;
}

/* Record one violation. value/limit are SI in dimension dm; msg is only
   formatted for a new group. */
static void violation(struct check *ck, const struct vm_block *b, int code, uint32_t pc,
                      int sub, int64_t t, double value, double limit, struct dim dm,
                      bool higher_is_worse, const char *help, const char *fmt, ...)
    __attribute__((format(printf, 12, 13)));

static void violation(struct check *ck, const struct vm_block *b, int code, uint32_t pc,
                      int sub, int64_t t, double value, double limit, struct dim dm,
                      bool higher_is_worse, const char *help, const char *fmt, ...)
{
    struct group *g = find_group(ck, code, pc, sub);
    if (!g) {
        if (ck->ngroups >= MAX_GROUPS) {
            ck->dropped++;
            return;
        }
        g = &ck->groups[ck->ngroups++];
        memset(g, 0, sizeof *g);
        g->code = code;
        g->pc = pc;
        g->sub = sub;
        g->warning = code == CK_ACOUSTIC;
        g->limit = limit;
        g->dim = dm;
        g->higher_is_worse = higher_is_worse;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->msg, sizeof g->msg, fmt, ap);
        va_end(ap);
        if (help)
            snprintf(g->help, sizeof g->help, "%s", help);
        g->first.time_ns = t;
        g->first.value = value;
        where_text(ck, b, g->first.where, sizeof g->first.where);
        g->worst = g->first;
        if (g->warning)
            ck->nwarn++;
        else
            ck->nerr++;
    } else {
        bool worse = higher_is_worse ? value > g->worst.value : value < g->worst.value;
        if (worse) {
            g->worst.time_ns = t;
            g->worst.value = value;
            g->limit = limit;
            where_text(ck, b, g->worst.where, sizeof g->worst.where);
        }
    }
    g->count++;
}

static const char *fmtv(char *buf, size_t n, double si, struct dim d)
{
    units_format(si, d, buf, n);
    return buf;
}

static const char *fmtt(char *buf, size_t n, int64_t ns)
{
    units_format((double)ns * 1e-9, DIM_TIME, buf, n);
    return buf;
}

static const char axis_name[3] = { 'x', 'y', 'z' };

/* seconds to ns for reporting, clamped (a double out of int64's range must
   not be converted) */
static int64_t s_to_ns(double t)
{
    double ns = t * 1e9;
    if (!(ns > -9.0e18))
        return ns != ns ? 0 : INT64_MIN / 2;
    if (ns > 9.0e18)
        return INT64_MAX / 2;
    return (int64_t)llround(ns);
}

/* ---------- shapes ---------- */

static void shape_stats(struct check *ck, int32_t id, const double *v, uint32_t n,
                        double *mx, double *sq)
{
    if (ck->v && id >= 0 && (uint32_t)id < ck->v->nshapes && ck->shape_done[id]) {
        *mx = ck->shape_max[id];
        *sq = ck->shape_sq[id];
        return;
    }
    double m = 0, s = 0;
    for (uint32_t i = 0; i < n; i++) {
        double a = fabs(v[i]);
        if (a > m)
            m = a;
        s += v[i] * v[i];
    }
    *mx = m;
    *sq = s;
    if (ck->v && id >= 0 && (uint32_t)id < ck->v->nshapes) {
        ck->shape_done[id] = true;
        ck->shape_max[id] = m;
        ck->shape_sq[id] = s;
    }
}

/* ---------- raster and timing ---------- */

static void raster(struct check *ck, const struct vm_block *b, uint32_t pc, int sub,
                   int64_t v, int64_t r, const char *what, const char *rname)
{
    if (r <= 0 || v % r == 0)
        return;
    char vs[48], rs[48], up[48];
    fmtt(vs, sizeof vs, v);
    fmtt(rs, sizeof rs, r);
    fmtt(up, sizeof up, (v / r + 1) * r);
    char help[200];
    snprintf(help, sizeof help, "round it with ceil_to(..., system.%s_raster): the next "
             "raster point is %s", !strcmp(rname, "gradient") ? "grad" : !strcmp(rname, "RF") ?
             "rf" : !strcmp(rname, "ADC") ? "adc" : "block", up);
    violation(ck, b, CK_RASTER, pc, sub, b->start_ns, (double)v * 1e-9, (double)r * 1e-9,
              DIM_TIME, true, help, "%s %s is not on the %s raster (%s)", what, vs,
              rname, rs);
}

/* ---------- gradients as piecewise-linear waveforms ---------- */

/* The value of w at t as the vector check takes it: at the first corner
   that corner's value, even where a second corner at the same time jumps
   away from it (wave_at would give the value after the jump); elsewhere
   wave_at. */
static double value_at(const struct wave *w, double t)
{
    return w->n && t == w->p[0].t ? w->p[0].v : wave_at(w, t);
}

/* ---------- diffusion weighting (b-value) ---------- */

/* One b-value (s/m²) at an ADC centre: the largest, and the groups. */
static void bv_record(struct check *ck, double bv, int64_t t_ns, uint32_t pc)
{
    struct check_summary *s = &ck->sum;
    if (!isfinite(bv))
        return;
    if (!s->nb++ || bv > s->b_max.value)
        s->b_max = (struct check_peak){ bv, t_ns, -1, pc };
    struct check_bgroup *g = s->bgroups;
    int n = s->nbgroups, at = 0;
    double tol = fmax(1e6, 0.01 * bv);      /* 1 s/mm² or 1 % */
    while (at < n && g[at].hi + tol < bv)
        at++;
    if (at < n && g[at].lo - tol <= bv) {
        /* joins group at; it may now reach the next one */
        g[at].lo = fmin(g[at].lo, bv);
        g[at].hi = fmax(g[at].hi, bv);
        g[at].count++;
    } else if (n < CHECK_MAX_BGROUPS) {
        memmove(&g[at + 1], &g[at], (size_t)(n - at) * sizeof *g);
        g[at] = (struct check_bgroup){ bv, bv, 1 };
        s->nbgroups = ++n;
        return;
    } else {
        /* no room: widen the nearest group (at-1 below bv, at above) */
        if (at == n || (at > 0 && bv - g[at - 1].hi < g[at].lo - bv))
            at--;
        g[at].lo = fmin(g[at].lo, bv);
        g[at].hi = fmax(g[at].hi, bv);
        g[at].count++;
    }
    if (at + 1 < n && g[at + 1].lo - fmax(1e6, 0.01 * g[at + 1].lo) <= g[at].hi) {
        g[at].hi = fmax(g[at].hi, g[at + 1].hi);
        g[at].count += g[at + 1].count;
        memmove(&g[at + 1], &g[at + 2], (size_t)(n - at - 2) * sizeof *g);
        s->nbgroups = n - 1;
    }
}

/* Follow k through one block: its waveforms (corner points per axis),
   the RF centre of an excitation (reset) or refocusing pulse (negate),
   and the ADC centre (a b-value, once something was excited). */
static void bv_block(struct check *ck, const struct vm_block *b)
{
    double ev[2];
    int kind[2], nev = 0;                 /* 0 excitation, 1 refocusing, 2 ADC */
    if (b->has_rf && (b->rf.use == VM_RFUSE_EXCITATION || b->rf.use == VM_RFUSE_REFOCUSING)) {
        ev[nev] = (double)(b->rf.delay_ns + b->rf.centre_ns) * 1e-9;
        kind[nev++] = b->rf.use == VM_RFUSE_EXCITATION ? 0 : 1;
    }
    if (b->has_adc) {
        ev[nev] = ((double)b->adc.delay_ns + (double)b->adc.samples * (double)b->adc.dwell_ns / 2)
                  * 1e-9;
        kind[nev++] = 2;
    }
    if (!ck->excited && !(nev && kind[0] == 0))
        return;                           /* nothing to weight yet */
    if (nev == 2 && ev[1] < ev[0]) {
        double te = ev[0];
        int tk = kind[0];
        ev[0] = ev[1], kind[0] = kind[1];
        ev[1] = te, kind[1] = tk;
    }
    size_t cur[3] = { 0, 0, 0 };
    double t[3] = { 0, 0, 0 };
    for (int e = 0; e <= nev; e++) {
        double te = e < nev ? ev[e] : (double)b->dur_ns * 1e-9;
        if (ck->excited)
            for (int a = 0; a < 3; a++)
                ck->bint += wave_moment_advance(&ck->w[a], &cur[a], ck->gamma, &ck->bk[a],
                                                &t[a], te);
        if (e == nev)
            break;
        if (kind[e] == 0) {
            ck->excited = true;
            ck->bint = 0;
            for (int a = 0; a < 3; a++) {
                ck->bk[a] = 0;
                t[a] = te;
            }
        } else if (!ck->excited) {
            continue;
        } else if (kind[e] == 1) {
            for (int a = 0; a < 3; a++)
                ck->bk[a] = -ck->bk[a];
        } else {
            bv_record(ck, ck->bint, b->start_ns + s_to_ns(te), b->adc.pc);
        }
    }
}

static void ring_push(struct segring *r, struct seg s)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        struct seg *nv = xmalloc(nc * sizeof *nv);
        for (size_t i = 0; i < r->n; i++)
            nv[i] = r->v[(r->head + i) & (r->cap - 1)];
        free(r->v);
        r->v = nv;
        r->cap = nc;
        r->head = 0;
    }
    r->v[(r->head + r->n) & (r->cap - 1)] = s;
    r->n++;
}

static void ring_drop_before(struct segring *r, double t)
{
    while (r->n && r->v[r->head].t1 < t) {
        r->head = (r->head + 1) & (r->cap - 1);
        r->n--;
    }
}

/* The IEC 2022 nerve response of one axis at time t (fraction of the
   threshold, before the axis weight): (c / S_min) Σ s_k [1/(c+t-b_k) − 1/(c+t-a_k)],
   the exact convolution of piecewise-constant slew with c/(c+τ)². */
static double pns_axis_at(const struct check *ck, const struct segring *r, double t)
{
    double c = ck->sys.pns_chronaxie, acc = 0, ct = c + t;
    size_t mask = r->cap - 1;
    for (size_t i = 0; i < r->n; i++) {
        const struct seg *s = &r->v[(r->head + i) & mask];
        if (s->t0 >= t)
            break;
        double b = s->t1 < t ? s->t1 : t;
        /* s·(1/(ct−b) − 1/(ct−t0)) with one division */
        double u = ct - b, v = ct - s->t0;
        acc += s->s * (v - u) / (u * v);
    }
    return acc * c / ck->sys.pns_smin;
}

/* The PNS level at time t (fraction of the threshold, root-sum-square of
   the weighted axes); the per-axis responses go to r. */
static double pns_level(const struct check *ck, double t, double r[3])
{
    double s2 = 0;
    for (int a = 0; a < 3; a++) {
        r[a] = ck->ring[a].n ? ck->sys.pns_weight[a] * pns_axis_at(ck, &ck->ring[a], t) : 0;
        s2 += r[a] * r[a];
    }
    return sqrt(s2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The rasters of gradient a's times and whether it ends inside the block. */
static void grad_times(struct check *ck, const struct vm_block *b, int a)
{
    const struct system *sys = &ck->sys;
    const struct vm_grad *g = &b->grad[a];
    const char *rn = "gradient";
    char vs[48], ls[48];
    raster(ck, b, g->pc, a, g->delay_ns, sys->grad_raster_ns, "the gradient delay", rn);
    if (g->kind == GRAD_TRAP) {
        raster(ck, b, g->pc, 10 + a, g->rise_ns, sys->grad_raster_ns, "the rise time", rn);
        raster(ck, b, g->pc, 20 + a, g->flat_ns, sys->grad_raster_ns, "the flat time", rn);
        raster(ck, b, g->pc, 30 + a, g->fall_ns, sys->grad_raster_ns, "the fall time", rn);
    } else {
        raster(ck, b, g->pc, 40 + a, g->dt_ns, sys->grad_raster_ns,
               "the gradient sample spacing", rn);
    }
    if (g->delay_ns + g->dur_ns > b->dur_ns)
        violation(ck, b, CK_OUTSIDE, g->pc, a, b->start_ns,
                  (double)(g->delay_ns + g->dur_ns) * 1e-9, (double)b->dur_ns * 1e-9, DIM_TIME,
                  true, "lengthen the block or shorten the gradient",
                  "gradient %c ends %s into a block of %s", axis_name[a],
                  fmtt(vs, sizeof vs, g->delay_ns + g->dur_ns), fmtt(ls, sizeof ls, b->dur_ns));
}

/* The peak amplitude of gradient a (from its corners) against the limit. */
static double grad_amplitude(struct check *ck, const struct vm_block *b, int a)
{
    const struct system *sys = &ck->sys;
    const struct vm_grad *g = &b->grad[a];
    const struct wave_pt *p = ck->w[a].p;
    char vs[48], ls[48], help[200];
    double peak = 0;
    for (size_t i = 0; i < ck->w[a].n; i++)
        if (fabs(p[i].v) > peak)
            peak = fabs(p[i].v);
    if (peak > sys->max_grad_axis[a] * (1 + 1e-9)) {
        snprintf(help, sizeof help, "lower the amplitude, or lengthen the lobe so that "
                 "its area needs less (system.max_grad is %s's limit)", sys->name);
        violation(ck, b, CK_GRAD, g->pc, a, b->start_ns, peak, sys->max_grad_axis[a], DIM_GRAD,
                  true, help, "gradient %c amplitude %s exceeds the limit %s", axis_name[a],
                  fmtv(vs, sizeof vs, peak, DIM_GRAD),
                  fmtv(ls, sizeof ls, sys->max_grad_axis[a], DIM_GRAD));
    }
    return peak;
}

/* The plain dB/dt of a monotonic ramp of gradient a: run_max the largest
   slew on it, tau its length, t0 its start (s from the block start). */
static void grad_dbdt(struct check *ck, const struct vm_block *b, int a, double run_max,
                      double tau, double t0)
{
    const struct system *sys = &ck->sys;
    const struct vm_grad *g = &b->grad[a];
    double dbdt = run_max * sys->dbdt_radius;
    double lim = system_pns_limit(sys) * sys->dbdt_rheobase * (1 + sys->dbdt_chronaxie / tau);
    if (dbdt > ck->sum.dbdt.value) {
        ck->sum.dbdt.value = dbdt;
        ck->sum.dbdt.time_ns = b->start_ns + s_to_ns(t0);
        ck->sum.dbdt.axis = a;
        ck->sum.dbdt.pc = g->pc;
    }
    if (sys->dbdt_rheobase > 0 && dbdt > lim) {
        struct dim dd = { -1, 0, 1 };
        char ts[48];
        violation(ck, b, CK_DBDT, g->pc, a, b->start_ns, dbdt, lim, dd, true,
                  "lengthen the ramp or lower the amplitude",
                  "dB/dt %.4g T/s on a %s ramp of gradient %c exceeds %.4g "
                  "T/s (%g%% of %g T/s·(1 + %g us / %s))", dbdt,
                  fmtt(ts, sizeof ts, s_to_ns(tau)), axis_name[a], lim,
                  system_pns_limit(sys) * 100, sys->dbdt_rheobase,
                  sys->dbdt_chronaxie * 1e6, ts);
    }
}

/* The slew of gradient a piece by piece: its largest against the limit,
   the dB/dt of each monotonic ramp, and each ramp into the PNS history
   (its end to be evaluated, its start for the timeline). */
static void grad_slew(struct check *ck, const struct vm_block *b, int a)
{
    const struct system *sys = &ck->sys;
    const struct vm_grad *g = &b->grad[a];
    const struct wave_pt *p = ck->w[a].p;
    size_t n = ck->w[a].n;
    double t0 = (double)b->start_ns * 1e-9;
    char vs[48], ls[48];
    double maxslew = 0;
    double runs = 0, run_t0 = 0, run_max = 0;
    int run_sign = 0;
    for (size_t i = 0; i + 1 <= n; i++) {
        bool last = i + 1 == n;
        double dt = last ? 0 : p[i + 1].t - p[i].t;
        double dv = last ? 0 : p[i + 1].v - p[i].v;
        double s = dt > 0 ? dv / dt : 0;
        int sign = s > 0 ? 1 : s < 0 ? -1 : 0;
        /* plain dB/dt over monotonic ramps */
        if (sign != run_sign || last) {
            if (run_sign)
                grad_dbdt(ck, b, a, run_max, runs, run_t0);
            run_sign = sign;
            runs = 0;
            run_t0 = p[i].t;
            run_max = 0;
        }
        if (last)
            break;
        if (sign) {
            runs += dt;
            if (fabs(s) > run_max)
                run_max = fabs(s);
            ring_push(&ck->ring[a], (struct seg){ t0 + p[i].t, t0 + p[i + 1].t, s });
            VEC_PUSH(ck->evals, ck->nevals, ck->capevals, t0 + p[i + 1].t);
            if (ck->pns_hook)
                VEC_PUSH(ck->starts, ck->nstarts, ck->capstarts, t0 + p[i].t);
        }
        if (fabs(s) > maxslew)
            maxslew = fabs(s);
    }
    if (maxslew > ck->sum.slew[a].value)
        ck->sum.slew[a] = (struct check_peak){ maxslew, b->start_ns, a, g->pc };
    if (maxslew > sys->max_slew_axis[a] * (1 + 1e-9)) {
        violation(ck, b, CK_SLEW, g->pc, a, b->start_ns, maxslew, sys->max_slew_axis[a],
                  DIM_SLEW, true, "lengthen the ramps (system.max_slew gives the "
                  "fastest allowed)", "gradient %c slew rate %s exceeds the limit %s",
                  axis_name[a], fmtv(vs, sizeof vs, maxslew, DIM_SLEW),
                  fmtv(ls, sizeof ls, sys->max_slew_axis[a], DIM_SLEW));
    }
}

/* Gradient a's values at the block's start and end (*start, *end: 0 where
   the waveform does not reach them), and a jump where it starts or stops
   away from zero inside the block. */
static void grad_ends(struct check *ck, const struct vm_block *b, int a, double *start,
                      double *end)
{
    const struct system *sys = &ck->sys;
    const struct vm_grad *g = &b->grad[a];
    const struct wave_pt *p = ck->w[a].p;
    size_t n = ck->w[a].n;
    double bdur = (double)b->dur_ns * 1e-9;
    char vs[48];
    *start = n ? (p[0].t == 0 ? p[0].v : 0) : 0;
    *end = n ? (fabs(p[n - 1].t - bdur) < 1e-12 ? p[n - 1].v : 0) : 0;
    /* a waveform that starts or stops away from zero inside the block */
    double tol = sys->max_slew_axis[a] * (double)sys->grad_raster_ns * 1e-9;
    if (n && p[0].t > 0 && fabs(p[0].v) > tol)
        violation(ck, b, CK_JUMP, g->pc, 50 + a, b->start_ns, fabs(p[0].v), tol,
                  DIM_GRAD, true, "start the waveform at zero, or remove its delay",
                  "gradient %c jumps from 0 to %s after its delay", axis_name[a],
                  fmtv(vs, sizeof vs, p[0].v, DIM_GRAD));
    if (n && p[n - 1].t < bdur - 1e-12 && fabs(p[n - 1].v) > tol)
        violation(ck, b, CK_JUMP, g->pc, 60 + a, b->start_ns, fabs(p[n - 1].v), tol,
                  DIM_GRAD, true, "end the waveform at zero, or end it with the block",
                  "gradient %c ends at %s before the block ends, then drops to 0",
                  axis_name[a], fmtv(vs, sizeof vs, p[n - 1].v, DIM_GRAD));
}

/* Continuity of axis a with the previous block: this block starts at
   start and ends at end. */
static void grad_continuity(struct check *ck, const struct vm_block *b, int a, double start,
                            double end)
{
    const struct system *sys = &ck->sys;
    char vs[48];
    double tol = sys->max_slew_axis[a] * (double)sys->grad_raster_ns * 1e-9;
    if (fabs(start - ck->gend[a]) > tol) {
        uint32_t pc = b->has_grad[a] ? b->grad[a].pc : b->pc;
        char es[48];
        violation(ck, b, CK_JUMP, pc, 70 + a, b->start_ns, fabs(start - ck->gend[a]), tol,
                  DIM_GRAD, true, "make the previous block's gradient end at the value "
                  "this one starts with (or both at zero)",
                  "gradient %c jumps from %s to %s at the start of this block",
                  axis_name[a], fmtv(es, sizeof es, ck->gend[a], DIM_GRAD),
                  fmtv(vs, sizeof vs, start, DIM_GRAD));
    }
    ck->gend[a] = end;
    ck->gend_pc[a] = b->has_grad[a] ? b->grad[a].pc : b->pc;
}

/* The gradient vector magnitude: exact at the union of the axes' corner
   points, since |G|² is convex between them; peak_axis holds the axes'
   own peaks. */
static void grad_vector(struct check *ck, const struct vm_block *b, const double peak_axis[3])
{
    const struct system *sys = &ck->sys;
    const struct wave *w = ck->w;
    char vs[48], ls[48];
    double sq = 0;
    for (int a = 0; a < 3; a++)
        sq += peak_axis[a] * peak_axis[a];
    double vpeak = sqrt(sq);
    int active = (w[0].n > 0) + (w[1].n > 0) + (w[2].n > 0);
    if (active > 1 && sq > 0) {
        double vmax = 0, vt = 0;
        for (int a = 0; a < 3; a++)
            for (size_t i = 0; i < w[a].n; i++) {
                double t = w[a].p[i].t, s2 = 0;
                for (int k = 0; k < 3; k++) {
                    double v = k == a ? w[a].p[i].v : value_at(&w[k], t);
                    s2 += v * v;
                }
                if (s2 > vmax) {
                    vmax = s2;
                    vt = t;
                }
            }
        vpeak = sqrt(vmax);
        if (vpeak > sys->max_grad_vector * (1 + 1e-9)) {
            uint32_t pc = b->pc;
            for (int a = 0; a < 3; a++)
                if (b->has_grad[a]) {
                    pc = b->grad[a].pc;
                    break;
                }
            violation(ck, b, CK_GRADVEC, pc, 0, b->start_ns + s_to_ns(vt), vpeak,
                      sys->max_grad_vector, DIM_GRAD, true,
                      "lower the amplitudes of the simultaneous gradients or spread them in time",
                      "gradient vector magnitude %s exceeds the limit %s",
                      fmtv(vs, sizeof vs, vpeak, DIM_GRAD),
                      fmtv(ls, sizeof ls, sys->max_grad_vector, DIM_GRAD));
        }
    }
    if (vpeak > ck->sum.grad_vec.value)
        ck->sum.grad_vec = (struct check_peak){ vpeak, b->start_ns, -1, b->pc };
}

/* PNS: evaluate the response at the end of every ramp in this block
   (and, for a timeline, at every ramp start, in time order). */
static void pns_block(struct check *ck, const struct vm_block *b)
{
    const struct system *sys = &ck->sys;
    double t0 = (double)b->start_ns * 1e-9;
    double *evals = ck->evals;
    size_t nevals = ck->nevals;
    qsort(evals, nevals, sizeof *evals, cmp_double);
    if (ck->nstarts)
        qsort(ck->starts, ck->nstarts, sizeof *ck->starts, cmp_double);
    for (int a = 0; a < 3; a++)
        ring_drop_before(&ck->ring[a], t0 - CHECK_PNS_HISTORY_S);
    double lim = system_pns_limit(sys);
    size_t si = 0;
    for (size_t i = 0; i < nevals; i++) {
        if (i && evals[i] == evals[i - 1])
            continue;
        double r[3];
        for (; si < ck->nstarts && ck->starts[si] < evals[i]; si++)
            ck->pns_hook(ck->pns_hook_ctx, s_to_ns(ck->starts[si]),
                         pns_level(ck, ck->starts[si], r));
        double lvl = pns_level(ck, evals[i], r);
        int64_t tns = s_to_ns(evals[i]);
        if (ck->pns_hook)
            ck->pns_hook(ck->pns_hook_ctx, tns, lvl);
        int dom = 0;
        for (int a = 1; a < 3; a++)
            if (fabs(r[a]) > fabs(r[dom]))
                dom = a;
        uint32_t pc = b->has_grad[dom] ? b->grad[dom].pc : b->pc;
        if (lvl > ck->sum.pns.value) {
            ck->sum.pns = (struct check_peak){ lvl, tns, dom, pc };
            for (int a = 0; a < 3; a++)
                ck->sum.pns_axis[a] = fabs(r[a]);
        }
        if (lvl > lim) {
            struct dim one = DIM_NONE;
            violation(ck, b, CK_PNS, pc, 0, tns, lvl, lim, one, true,
                      sys->mode == SYS_MODE_NORMAL ?
                      "lengthen the ramps (lower slew) of the dominant axis, or use the "
                      "first level operating mode where that is allowed" :
                      "lengthen the ramps (lower slew) of the dominant axis",
                      "PNS %.1f%% of the stimulation threshold exceeds the %s mode limit "
                      "%.0f%% (x %.1f%%, y %.1f%%, z %.1f%%)", lvl * 100,
                      system_mode_name(sys->mode), lim * 100, fabs(r[0]) * 100,
                      fabs(r[1]) * 100, fabs(r[2]) * 100);
        }
    }
}

/* Every gradient check of one block, axis by axis, then across the axes. */
static void check_gradients(struct check *ck, const struct vm_block *b)
{
    double peak_axis[3] = { 0, 0, 0 };
    ck->nevals = 0;
    for (int a = 0; a < 3; a++) {
        double start = 0, end = 0;
        ck->w[a].n = 0;
        if (b->has_grad[a]) {
            const struct vm_grad *g = &b->grad[a];
            wave_set(&ck->w[a], g);
            grad_times(ck, b, a);
            peak_axis[a] = grad_amplitude(ck, b, a);
            grad_slew(ck, b, a);
            if (peak_axis[a] > ck->sum.grad[a].value)
                ck->sum.grad[a] = (struct check_peak){ peak_axis[a], b->start_ns, a, g->pc };
            grad_ends(ck, b, a, &start, &end);
        }
        grad_continuity(ck, b, a, start, end);
    }
    grad_vector(ck, b, peak_axis);
    if (ck->nevals && ck->sys.pns_smin > 0)
        pns_block(ck, b);
    ck->nstarts = 0;
    bv_block(ck, b);
}

/* ---------- RF, ADC, acoustic ---------- */

/* An event starting `delay` into its block must leave the dead time
   `dead` (system.rf_dead_time, adc_dead_time) before it (CK_DEADTIME,
   sub-kind sub); it is `what` in the message, `noun` in the help, and
   `kind` (RF, ADC) names the dead time. */
static void check_head(struct check *ck, const struct vm_block *b, uint32_t pc, int sub,
                       int64_t delay, int64_t dead, const char *noun, const char *what,
                       const char *kind)
{
    char vs[48], ls[48], help[200];
    if (delay >= dead)
        return;
    snprintf(help, sizeof help, "delay %s by at least %s (system.%s_dead_time)", noun,
             fmtt(ls, sizeof ls, dead), !strcmp(kind, "RF") ? "rf" : "adc");
    violation(ck, b, CK_DEADTIME, pc, sub, b->start_ns, (double)delay * 1e-9,
              (double)dead * 1e-9, DIM_TIME, false, help,
              "%s starts %s into its block, inside the %s dead time %s", what,
              fmtt(vs, sizeof vs, delay), kind, ls);
}

/* An event ending `end` into its block must end inside it (CK_OUTSIDE,
   sub-kind sub_out) and leave `after` (ringdown, dead time) before the
   block ends (CK_DEADTIME, sub-kind sub_dead). */
static void check_tail(struct check *ck, const struct vm_block *b, uint32_t pc, int sub_out,
                       int sub_dead, int64_t end, int64_t after, const char *what,
                       const char *after_name)
{
    char vs[48], ls[48], help[200];
    if (end > b->dur_ns) {
        violation(ck, b, CK_OUTSIDE, pc, sub_out, b->start_ns, (double)end * 1e-9,
                  (double)b->dur_ns * 1e-9, DIM_TIME, true, "lengthen the block",
                  "%s ends %s into a block of %s", what, fmtt(vs, sizeof vs, end),
                  fmtt(ls, sizeof ls, b->dur_ns));
    } else if (end + after > b->dur_ns) {
        snprintf(help, sizeof help, "lengthen the block to at least %s",
                 fmtt(ls, sizeof ls, end + after));
        violation(ck, b, CK_DEADTIME, pc, sub_dead, b->start_ns,
                  (double)(b->dur_ns - end) * 1e-9, (double)after * 1e-9, DIM_TIME, false, help,
                  "the block ends %s after %s, inside the %s %s",
                  fmtt(vs, sizeof vs, b->dur_ns - end), what, after_name,
                  fmtt(ls, sizeof ls, after));
    }
}

static void check_rf(struct check *ck, const struct vm_block *b)
{
    const struct system *sys = &ck->sys;
    const struct vm_rf *rf = &b->rf;
    char vs[48], ls[48];
    ck->sum.nrf++;
    raster(ck, b, rf->pc, 0, rf->delay_ns, sys->rf_raster_ns, "the RF delay", "RF");
    raster(ck, b, rf->pc, 1, rf->dt_ns, sys->rf_raster_ns, "the RF sample spacing", "RF");
    check_head(ck, b, rf->pc, 0, rf->delay_ns, sys->rf_dead_ns, "the pulse", "the RF pulse",
               "RF");
    int64_t rf_end = rf->delay_ns + rf->dur_ns;
    check_tail(ck, b, rf->pc, 0, 1, rf_end, sys->rf_ringdown_ns, "the RF pulse",
               "RF ringdown time");
    double mx, sq;
    shape_stats(ck, rf->shape_id, rf->mag, rf->n, &mx, &sq);
    double peak = fabs(rf->amp) * mx;
    if (peak > ck->sum.b1.value)
        ck->sum.b1 = (struct check_peak){ peak, b->start_ns + rf->delay_ns, -1, rf->pc };
    if (peak > sys->max_b1 * (1 + 1e-9))
        violation(ck, b, CK_B1, rf->pc, 0, b->start_ns + rf->delay_ns, peak, sys->max_b1,
                  DIM_TESLA, true, "lengthen the pulse (B1 scales as 1/duration for the "
                  "same flip angle) or lower the flip angle",
                  "RF peak B1 %s exceeds the limit %s", fmtv(vs, sizeof vs, peak, DIM_TESLA),
                  fmtv(ls, sizeof ls, sys->max_b1, DIM_TESLA));
    if ((double)rf->dur_ns > (double)ck->sum.rf_dur.value * 1e9)
        ck->sum.rf_dur = (struct check_peak){ (double)rf->dur_ns * 1e-9, b->start_ns, -1,
                                              rf->pc };
    if (sys->max_rf_dur_ns > 0 && rf->dur_ns > sys->max_rf_dur_ns)
        violation(ck, b, CK_RFDUR, rf->pc, 0, b->start_ns + rf->delay_ns,
                  (double)rf->dur_ns * 1e-9, (double)sys->max_rf_dur_ns * 1e-9, DIM_TIME, true,
                  "shorten the pulse", "RF pulse of %s is longer than the limit %s",
                  fmtt(vs, sizeof vs, rf->dur_ns), fmtt(ls, sizeof ls, sys->max_rf_dur_ns));
    /* energy for SAR: piecewise-constant samples */
    double e = rf->amp * rf->amp * sq * (double)rf->dt_ns * 1e-9;
    ck->sum.rf_energy += e;
    if (e > 0 && rf->dur_ns > 0) {
        if (ck->npulses == ck->cappulses) {
            ck->cappulses = ck->cappulses ? ck->cappulses * 2 : 1024;
            ck->pulses = xrealloc(ck->pulses, ck->cappulses * sizeof *ck->pulses);
        }
        ck->pulses[ck->npulses++] = (struct pulse){ b->start_ns + rf->delay_ns,
                                                    b->start_ns + rf_end, e, rf->pc };
    }
}

static void check_adc(struct check *ck, const struct vm_block *b)
{
    const struct system *sys = &ck->sys;
    const struct vm_adc *adc = &b->adc;
    char vs[48], ls[48];
    ck->sum.nadc++;
    raster(ck, b, adc->pc, 0, adc->delay_ns, sys->adc_raster_ns, "the ADC delay", "ADC");
    if (sys->adc_raster_ns > 0 && adc->dwell_ns % sys->adc_raster_ns)
        violation(ck, b, CK_DWELL, adc->pc, 0, b->start_ns, (double)adc->dwell_ns * 1e-9,
                  (double)sys->adc_raster_ns * 1e-9, DIM_TIME, true,
                  "choose a dwell that is a whole number of ADC raster steps",
                  "the ADC dwell %s is not on the ADC raster (%s)",
                  fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->adc_raster_ns));
    if (sys->min_dwell_ns > 0 && adc->dwell_ns < sys->min_dwell_ns)
        violation(ck, b, CK_DWELL, adc->pc, 1, b->start_ns, (double)adc->dwell_ns * 1e-9,
                  (double)sys->min_dwell_ns * 1e-9, DIM_TIME, false,
                  "lower the receiver bandwidth", "the ADC dwell %s is below the minimum %s",
                  fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->min_dwell_ns));
    if (sys->max_dwell_ns > 0 && adc->dwell_ns > sys->max_dwell_ns)
        violation(ck, b, CK_DWELL, adc->pc, 2, b->start_ns, (double)adc->dwell_ns * 1e-9,
                  (double)sys->max_dwell_ns * 1e-9, DIM_TIME, true,
                  "raise the receiver bandwidth", "the ADC dwell %s is above the maximum %s",
                  fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->max_dwell_ns));
    if (adc->samples == 0 || (sys->max_adc_samples && adc->samples > sys->max_adc_samples)) {
        struct dim one = DIM_NONE;
        violation(ck, b, CK_SAMPLES, adc->pc, 0, b->start_ns, adc->samples,
                  sys->max_adc_samples, one, adc->samples != 0,
                  "split the readout or lower the oversampling",
                  "an ADC of %u samples is outside 1 .. %u", adc->samples, sys->max_adc_samples);
    }
    int64_t adc_end = adc->delay_ns + (int64_t)adc->samples * adc->dwell_ns;
    check_head(ck, b, adc->pc, 2, adc->delay_ns, sys->adc_dead_ns, "the ADC", "the ADC",
               "ADC");
    check_tail(ck, b, adc->pc, 1, 3, adc_end, sys->adc_dead_ns, "the ADC", "ADC dead time");
    /* TX/RX overlap: the RF window with its dead time and ringdown against
       the ADC window with its dead times */
    if (b->has_rf) {
        int64_t r0 = b->rf.delay_ns - sys->rf_dead_ns;
        int64_t r1 = b->rf.delay_ns + b->rf.dur_ns + sys->rf_ringdown_ns;
        int64_t a0 = adc->delay_ns - sys->adc_dead_ns, a1 = adc_end + sys->adc_dead_ns;
        if (r0 < a1 && a0 < r1) {
            int64_t ov = (r1 < a1 ? r1 : a1) - (r0 > a0 ? r0 : a0);
            violation(ck, b, CK_OVERLAP, adc->pc, 0, b->start_ns, (double)ov * 1e-9, 0,
                      DIM_TIME, true, "move the ADC after the RF ringdown or before the RF "
                      "dead time", "the ADC overlaps the RF pulse (with dead time and "
                      "ringdown) by %s", fmtt(vs, sizeof vs, ov));
        }
    }
    /* acoustic: the fundamental of the readout gradient train, from the
       spacing of same-polarity readout lobes */
    if (!sys->nbands)
        return;
    for (int a = 0; a < 3; a++) {
        if (!b->has_grad[a] || b->grad[a].amp == 0)
            continue;
        const struct vm_grad *g = &b->grad[a];
        int sg = g->amp > 0 ? 0 : 1;
        double tc = (double)(b->start_ns + g->delay_ns) * 1e-9 + (double)g->dur_ns * 0.5e-9;
        if (ck->lobe_on[a][sg]) {
            double period = tc - ck->lobe_t[a][sg];
            double f = period > 0 ? 1 / period : 0;
            for (int k = 0; k < sys->nbands; k++)
                if (f >= sys->band_lo[k] && f <= sys->band_hi[k]) {
                    char lo[48], hi[48];
                    violation(ck, b, CK_ACOUSTIC, g->pc, k, b->start_ns, f, sys->band_lo[k],
                              DIM_FREQ, true, "change the echo spacing (bandwidth or matrix) "
                              "to move the fundamental out of the band",
                              "the readout gradient on %c repeats at %s, inside the forbidden "
                              "acoustic band %s .. %s", axis_name[a],
                              fmtv(vs, sizeof vs, f, DIM_FREQ),
                              fmtv(lo, sizeof lo, sys->band_lo[k], DIM_FREQ),
                              fmtv(hi, sizeof hi, sys->band_hi[k], DIM_FREQ));
                }
        }
        ck->lobe_on[a][sg] = true;
        ck->lobe_t[a][sg] = tc;
    }
}

/* ---------- the backend ---------- */

static int cb_begin(void *ctx, const struct vm_view *v)
{
    struct check *ck = ctx;
    ck->view = *v;
    ck->v = &ck->view;
    free(ck->shape_max);
    free(ck->shape_sq);
    free(ck->shape_done);
    size_t n = v->nshapes ? v->nshapes : 1;
    ck->shape_max = xcalloc(n, sizeof *ck->shape_max);
    ck->shape_sq = xcalloc(n, sizeof *ck->shape_sq);
    ck->shape_done = xcalloc(n, sizeof *ck->shape_done);
    return 0;
}

static int cb_block_end(void *ctx, const struct vm_block *b)
{
    struct check *ck = ctx;
    ck->sum.nblocks++;
    if (b->is_delay)
        raster(ck, b, b->pc, 98, b->dur_ns, ck->sys.block_raster_ns, "the delay here (from a "
               "wait or an alignment)", "block");
    else
        raster(ck, b, b->pc, 99, b->dur_ns, ck->sys.block_raster_ns, "the block duration",
               "block");
    if (b->has_rf)
        check_rf(ck, b);
    check_gradients(ck, b);
    if (b->has_adc)
        check_adc(ck, b);
    return 0;
}

/* Energy of the pulses inside the window [a, a + w] (rectangular power
   per pulse). pre[i] = energy of pulses before i. */
static double window_energy(const struct check *ck, const double *pre, int64_t a, int64_t w)
{
    const struct pulse *P = ck->pulses;
    size_t n = ck->npulses;
    int64_t b = a + w;
    /* first pulse ending after a */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (P[mid].t1 <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i0 = lo;
    /* first pulse starting at or after b */
    lo = i0;
    hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (P[mid].t0 < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i1 = lo;
    if (i1 <= i0)
        return 0;
    double e = pre[i1] - pre[i0];
    const struct pulse *f = &P[i0], *l = &P[i1 - 1];
    if (f->t0 < a)
        e -= f->e * (double)(a - f->t0) / (double)(f->t1 - f->t0);
    if (l->t1 > b)
        e -= l->e * (double)(l->t1 - b) / (double)(l->t1 - l->t0);
    return e > 0 ? e : 0;
}

/* The largest energy over any window of length w within [0, total]: the
   maximum of a piecewise-linear function of the window start, reached
   where a window starts at a pulse start or ends at a pulse end (or at the
   domain's ends). A program shorter than w is one window [0, w]. */
static double max_window(const struct check *ck, const double *pre, int64_t total, int64_t w,
                         int64_t *at)
{
    int64_t amax = total - w;
    *at = 0;
    if (amax <= 0)
        return ck->npulses ? pre[ck->npulses] : 0;
    double best = window_energy(ck, pre, 0, w);
    double e = window_energy(ck, pre, amax, w);
    if (e > best) {
        best = e;
        *at = amax;
    }
    for (size_t i = 0; i < ck->npulses; i++) {
        int64_t c[2] = { ck->pulses[i].t0, ck->pulses[i].t1 - w };
        for (int k = 0; k < 2; k++) {
            int64_t a = c[k] < 0 ? 0 : c[k] > amax ? amax : c[k];
            e = window_energy(ck, pre, a, w);
            if (e > best) {
                best = e;
                *at = a;
            }
        }
    }
    return best;
}

/* SAR over the sliding windows of the whole program (total_ns long). */
static void sar_end(struct check *ck, int64_t total_ns)
{
    const struct system *sys = &ck->sys;
    double *pre = xmalloc((ck->npulses + 1) * sizeof *pre);
    pre[0] = 0;
    for (size_t i = 0; i < ck->npulses; i++)
        pre[i + 1] = pre[i] + ck->pulses[i].e;
    const int64_t win[2] = { 10LL * 1000000000, 360LL * 1000000000 };
    for (int k = 0; k < 2; k++) {
        int64_t at;
        double e = max_window(ck, pre, total_ns, win[k], &at);
        ck->sum.sar_window_ns[k] = win[k];
        ck->sum.sar_at_ns[k] = at;
        /* the largest pulse in the worst window names the span */
        uint32_t pc = 0;
        double emax = -1;
        for (size_t i = 0; i < ck->npulses; i++)
            if (ck->pulses[i].t1 > at && ck->pulses[i].t0 < at + win[k] &&
                ck->pulses[i].e > emax) {
                emax = ck->pulses[i].e;
                pc = ck->pulses[i].pc;
            }
        ck->sum.sar_pc[k] = pc;
        for (int r = 0; r < SAR__COUNT; r++) {
            if (!sys->sar_region_on[r])
                continue;
            double sar = sys->sar_k[r] * e / ((double)win[k] * 1e-9);
            ck->sum.sar[r][k] = sar;
            double lim = system_sar_limit(sys, r) * (k == 0 ? 2 : 1);
            if (sar > lim) {
                struct dim one = DIM_NONE;
                char ws[48];
                violation(ck, NULL, CK_SAR, pc, r * 2 + k, at, sar, lim, one, true,
                          "lengthen TR, lower the flip angles, or lengthen the RF pulses "
                          "(energy scales as flip² / duration)",
                          "%s SAR %.3g W/kg over the %s window starting at t = %s exceeds the "
                          "%s mode limit %.3g W/kg%s", system_region_name(r), sar,
                          k == 0 ? "10 s" : "6 min", fmtt(ws, sizeof ws, at),
                          system_mode_name(sys->mode), lim,
                          k == 0 ? " (twice the 6 min limit)" : "");
            }
        }
    }
    free(pre);
}

static int cb_end(void *ctx, int64_t total_ns)
{
    struct check *ck = ctx;
    const struct system *sys = &ck->sys;
    ck->sum.total_ns = total_ns;
    /* a gradient left on at the end of the program */
    for (int a = 0; a < 3; a++) {
        double tol = sys->max_slew_axis[a] * (double)sys->grad_raster_ns * 1e-9;
        if (fabs(ck->gend[a]) > tol) {
            char vs[48];
            violation(ck, NULL, CK_JUMP, ck->gend_pc[a], 80 + a, total_ns, fabs(ck->gend[a]),
                      tol, DIM_GRAD, true, "ramp the gradient down to zero in the last block",
                      "gradient %c is still at %s when the sequence ends", axis_name[a],
                      fmtv(vs, sizeof vs, ck->gend[a], DIM_GRAD));
        }
    }
    sar_end(ck, total_ns);
    return 0;
}

void check_backend(struct check *ck, struct vm_backend *be)
{
    memset(be, 0, sizeof *be);
    be->ctx = ck;
    be->begin = cb_begin;
    be->block_end = cb_block_end;
    be->end = cb_end;
}

struct check *check_new(const struct system *sys)
{
    struct check *ck = xcalloc(1, sizeof *ck);
    ck->sys = *sys;
    ck->gamma = 2 * M_PI * sys->gamma;
    for (int a = 0; a < 3; a++) {
        ck->sum.grad[a].axis = a;
        ck->sum.slew[a].axis = a;
    }
    return ck;
}

void check_free(struct check *ck)
{
    if (!ck)
        return;
    free(ck->shape_max);
    free(ck->shape_sq);
    free(ck->shape_done);
    free(ck->pulses);
    free(ck->starts);
    free(ck->evals);
    for (int a = 0; a < 3; a++) {
        free(ck->ring[a].v);
        wave_fini(&ck->w[a]);
    }
    free(ck);
}

void check_set_pns_hook(struct check *ck, void (*fn)(void *ctx, int64_t t_ns, double level),
                        void *ctx)
{
    ck->pns_hook = fn;
    ck->pns_hook_ctx = ctx;
}

static int cmp_tl(const void *a, const void *b)
{
    int64_t x = ((const struct check_tl_point *)a)->t_ns, y = ((const struct check_tl_point *)b)->t_ns;
    return (x > y) - (x < y);
}

struct check_tl_point *check_sar_timeline(const struct check *ck, int region, int k, size_t *n)
{
    *n = 0;
    if (region < 0 || region >= SAR__COUNT || k < 0 || k > 1 || !ck->sys.sar_region_on[region])
        return NULL;
    int64_t total = ck->sum.total_ns, w = ck->sum.sar_window_ns[k];
    if (w <= 0)
        return NULL;
    /* the energy of the trailing window changes slope where t or t - w
       crosses a pulse's edge: those times, 0, w and the end */
    size_t cap = 4 * ck->npulses + 3, m = 0;
    struct check_tl_point *v = xmalloc(cap * sizeof *v);
    v[m++].t_ns = 0;
    v[m++].t_ns = total;
    if (w < total)
        v[m++].t_ns = w;
    for (size_t i = 0; i < ck->npulses; i++) {
        int64_t c[4] = { ck->pulses[i].t0, ck->pulses[i].t1, ck->pulses[i].t0 + w,
                         ck->pulses[i].t1 + w };
        for (int j = 0; j < 4; j++)
            if (c[j] >= 0 && c[j] <= total)
                v[m++].t_ns = c[j];
    }
    qsort(v, m, sizeof *v, cmp_tl);
    double *pre = xmalloc((ck->npulses + 1) * sizeof *pre);
    pre[0] = 0;
    for (size_t i = 0; i < ck->npulses; i++)
        pre[i + 1] = pre[i] + ck->pulses[i].e;
    size_t out = 0;
    for (size_t i = 0; i < m; i++) {
        if (out && v[out - 1].t_ns == v[i].t_ns)
            continue;
        double e = window_energy(ck, pre, v[i].t_ns - w, w);
        /* the same expression as the summary's (cb_end) */
        v[out] = (struct check_tl_point){ v[i].t_ns, ck->sys.sar_k[region] * e /
                                          ((double)w * 1e-9) };
        out++;
    }
    free(pre);
    *n = out;
    return v;
}

const struct check_summary *check_get_summary(const struct check *ck)
{
    return &ck->sum;
}

int check_count(const struct check *ck, bool warnings)
{
    return warnings ? ck->nwarn : ck->nerr;
}

/* ---------- reporting ---------- */

static void occurrence_note(struct diag *g, const char *what, const struct occurrence *o,
                            const struct group *gr, bool with_value)
{
    char ts[48], vs[64];
    fmtt(ts, sizeof ts, o->time_ns);
    if (with_value) {
        if (dim_is_none(gr->dim))
            snprintf(vs, sizeof vs, "%.4g", o->value);
        else
            units_format(o->value, gr->dim, vs, sizeof vs);
        diag_note(g, SPAN_NONE, "%s: %s at t = %s%s%s", what, vs, ts, o->where[0] ? ", " : "",
                  o->where);
    } else {
        diag_note(g, SPAN_NONE, "%s at t = %s%s%s", what, ts, o->where[0] ? ", " : "", o->where);
    }
}

void check_report(const struct check *ck, const struct lbc_program *p, struct diag_ctx *d)
{
    struct vm_view v;
    vm_view_init(&v, p);
    for (int i = 0; i < ck->ngroups; i++) {
        const struct group *gr = &ck->groups[i];
        struct lbc_srcpos pos;
        struct span sp = vm_view_span(&v, gr->pc, d, &pos);
        struct diag *g = gr->warning ? diag_warning(d, gr->code, sp, "%s", gr->msg)
                                     : diag_error(d, gr->code, sp, "%s", gr->msg);
        if (sp.file < 0 && pos.path)
            diag_note(g, SPAN_NONE, "in %s:%u:%u", pos.path, pos.line, pos.col);
        if (gr->count > 1) {
            char first[64];
            snprintf(first, sizeof first, "first of %" PRIu64 " occurrences", gr->count);
            occurrence_note(g, first, &gr->first, gr, false);
            bool differs = gr->worst.value != gr->first.value;
            if (differs)
                occurrence_note(g, "worst", &gr->worst, gr, true);
        } else {
            char ts[48];
            fmtt(ts, sizeof ts, gr->first.time_ns);
            diag_note(g, SPAN_NONE, "at t = %s%s%s", ts, gr->first.where[0] ? ", " : "",
                      gr->first.where);
        }
        if (gr->help[0])
            diag_help(g, "%s", gr->help);
    }
    if (ck->dropped)
        diag_error(d, 699, SPAN_NONE, "%" PRIu64 " more violations of other kinds were not "
                   "listed (only the first %d distinct ones are kept)", ck->dropped, MAX_GROUPS);
}

static void peak_line(FILE *out, const char *what, const struct check_peak *pk, double lim,
                      struct dim d)
{
    char vs[48], ls[48], ts[48];
    units_format(pk->value, d, vs, sizeof vs);
    units_format(lim, d, ls, sizeof ls);
    fmtt(ts, sizeof ts, pk->time_ns);
    double pct = lim > 0 ? 100 * pk->value / lim : 0;
    fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", what, vs, ls, pct);
    if (pk->value > 0)
        fprintf(out, "   at t = %s", ts);
    fputc('\n', out);
}

/* A b-value in s/mm² (v in s/m²): one decimal below 10, whole above. */
static const char *fmt_b(char *buf, size_t n, double v)
{
    v *= 1e-6;
    if (fabs(v) < 0.05)
        snprintf(buf, n, "0");
    else
        snprintf(buf, n, fabs(v) < 10 ? "%.1f" : "%.0f", v);
    return buf;
}

/* The b-value lines of the text report (none without an ADC after an
   excitation). */
static void print_bvalues(const struct check_summary *s, FILE *out)
{
    if (!s->nb)
        return;
    char lo[32], hi[32], ts[48];
    fprintf(out, "b-values   ");
    for (int i = 0; i < s->nbgroups; i++) {
        const struct check_bgroup *g = &s->bgroups[i];
        fmt_b(lo, sizeof lo, g->lo);
        fmt_b(hi, sizeof hi, g->hi);
        fprintf(out, "%s %s%s%s s/mm² (%" PRIu64 " ADC%s)", i ? "," : "", lo,
                strcmp(lo, hi) ? "–" : "", strcmp(lo, hi) ? hi : "", g->count,
                g->count == 1 ? "" : "s");
    }
    fprintf(out, "; largest %.5g s/mm² at t = %s\n", s->b_max.value * 1e-6,
            fmtt(ts, sizeof ts, s->b_max.time_ns));
    fprintf(out, "            b = ∫|k|² dt from the excitation to each ADC's centre, k = γ∫G dt "
            "negated by each refocusing pulse\n");
}

void check_print_text(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out)
{
    const struct system *sys = &ck->sys;
    const struct check_summary *s = &ck->sum;
    char buf[64], b2[64];
    fprintf(out, "system      %s%s%s%s, hash 0x%016" PRIx64 ", %s operating mode\n", sys->name,
            sys->path[0] ? " (" : "", sys->path, sys->path[0] ? ")" : "", sys->hash,
            system_mode_name(sys->mode));
    struct vm_view v;
    vm_view_init(&v, p);
    if (p)
        fprintf(out, "sequence    %s\n", v.source);
    fprintf(out, "duration    %s  (%" PRIu64 " blocks, %" PRIu64 " RF pulses, %" PRIu64
            " ADC events)\n", fmtt(buf, sizeof buf, s->total_ns), s->nblocks, s->nrf, s->nadc);
    for (int i = 0; i < nmins; i++) {
        char cur[48], mn[48];
        fmtt(cur, sizeof cur, mins[i].current_ns);
        fmtt(mn, sizeof mn, mins[i].min_ns);
        fprintf(out, "minimum     %s %s%s (now %s)\n", mins[i].name, mins[i].at_floor ? "<= " : "",
                mn, cur);
    }
    print_bvalues(s, out);
    fprintf(out, "\npeaks against limits\n");
    static const char *gn[3] = { "gradient x", "gradient y", "gradient z" };
    static const char *sn[3] = { "slew x", "slew y", "slew z" };
    for (int a = 0; a < 3; a++)
        peak_line(out, gn[a], &s->grad[a], sys->max_grad_axis[a], DIM_GRAD);
    peak_line(out, "gradient vector", &s->grad_vec, sys->max_grad_vector, DIM_GRAD);
    for (int a = 0; a < 3; a++)
        peak_line(out, sn[a], &s->slew[a], sys->max_slew_axis[a], DIM_SLEW);
    peak_line(out, "RF peak B1", &s->b1, sys->max_b1, DIM_TESLA);
    peak_line(out, "RF pulse length", &s->rf_dur, (double)sys->max_rf_dur_ns * 1e-9, DIM_TIME);
    fprintf(out, "\nSAR         model %s", system_sar_model_name(sys->sar_model));
    if (sys->sar_model == SAR_MODEL_B1RMS) {
        fprintf(out, " (SAR = k · B1rms²):");
        for (int r = 0; r < SAR__COUNT; r++)
            if (sys->sar_region_on[r])
                fprintf(out, " k %s %.4g W/kg/uT²;", system_region_name(r),
                        sys->sar_b1rms_coef[r] * 1e-12);
    } else {
        fprintf(out, " (reference pulse %s for %s):", fmtv(buf, sizeof buf, sys->sar_ref_b1,
                DIM_TESLA), fmtt(b2, sizeof b2, sys->sar_ref_dur_ns));
        for (int r = 0; r < SAR__COUNT; r++)
            if (sys->sar_region_on[r])
                fprintf(out, " %s %.4g J;", system_region_name(r), sys->sar_ref_energy[r]);
    }
    fprintf(out, " patient %.4g kg", sys->patient_mass);
    if (sys->sar_region_on[SAR_PARTIAL_BODY])
        fprintf(out, ", exposed %.4g kg", sys->exposed_mass);
    fprintf(out, "\n            the sequence runs once, with no RF before or after it\n");
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < SAR__COUNT; r++) {
            if (!sys->sar_region_on[r])
                continue;
            double lim = system_sar_limit(sys, r) * (k == 0 ? 2 : 1);
            char name[48];
            snprintf(name, sizeof name, "SAR %s %s", k == 0 ? "10 s" : "6 min",
                     system_region_name(r));
            snprintf(buf, sizeof buf, "%.3g W/kg", s->sar[r][k]);
            snprintf(b2, sizeof b2, "%.3g W/kg", lim);
            fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", name, buf, b2,
                    lim > 0 ? 100 * s->sar[r][k] / lim : 0);
            if (s->sar[r][k] > 0) {
                char ts[48];
                fprintf(out, "   window from t = %s", fmtt(ts, sizeof ts, s->sar_at_ns[k]));
            }
            fputc('\n', out);
        }
    double b1rms = s->total_ns > 0 ? sqrt(s->rf_energy / ((double)s->total_ns * 1e-9)) : 0;
    fprintf(out, "  %-22s %s\n", "B1rms (whole sequence)", fmtv(buf, sizeof buf, b1rms, DIM_TESLA));
    fprintf(out, "\nPNS         IEC 60601-2-33:2022 nerve-response model: S_min %.4g T/m/s, "
            "chronaxie %s, weights x %.3g y %.3g z %.3g\n", sys->pns_smin,
            fmtt(buf, sizeof buf, s_to_ns(sys->pns_chronaxie)),
            sys->pns_weight[0], sys->pns_weight[1], sys->pns_weight[2]);
    {
        char ts[48];
        double lim = system_pns_limit(sys);
        snprintf(buf, sizeof buf, "%.1f%%", s->pns.value * 100);
        snprintf(b2, sizeof b2, "%.0f%%", lim * 100);
        fprintf(out, "  %-22s %-14s limit %-14s %5.1f%%", "PNS level", buf, b2,
                100 * s->pns.value / lim);
        if (s->pns.value > 0)
            fprintf(out, "   at t = %s (x %.1f%% y %.1f%% z %.1f%%)",
                    fmtt(ts, sizeof ts, s->pns.time_ns), s->pns_axis[0] * 100,
                    s->pns_axis[1] * 100, s->pns_axis[2] * 100);
        fputc('\n', out);
        snprintf(buf, sizeof buf, "%.4g T/s", s->dbdt.value);
        fprintf(out, "  %-22s %-14s (at r = %.3g m; limit per ramp %.0f%% of %.3g T/s·(1 + "
                "%.3g us / ramp))\n", "peak dB/dt", buf, sys->dbdt_radius, lim * 100,
                sys->dbdt_rheobase, sys->dbdt_chronaxie * 1e6);
    }
    fprintf(out, "\nviolations  %d error%s, %d warning%s\n", ck->nerr, ck->nerr == 1 ? "" : "s",
            ck->nwarn, ck->nwarn == 1 ? "" : "s");
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_peak(FILE *out, const char *name, const struct check_peak *pk, double lim,
                      const char *unit, bool comma)
{
    fprintf(out, "    \"%s\": {\"value\": %.9g, \"limit\": %.9g, \"unit\": \"%s\", "
            "\"time_s\": %.9g}%s\n", name, pk->value, lim, unit, (double)pk->time_ns * 1e-9,
            comma ? "," : "");
}

void check_print_json(const struct check *ck, const struct lbc_program *p,
                      const struct check_minimum *mins, int nmins, FILE *out)
{
    const struct system *sys = &ck->sys;
    const struct check_summary *s = &ck->sum;
    fprintf(out, "{\n  \"system\": {\"name\": ");
    json_str(out, sys->name);
    fprintf(out, ", \"path\": ");
    json_str(out, sys->path);
    fprintf(out, ", \"hash\": \"0x%016" PRIx64 "\", \"mode\": \"%s\"},\n", sys->hash,
            sys->mode == SYS_MODE_FIRST_LEVEL ? "first_level" : "normal");
    struct vm_view v;
    vm_view_init(&v, p);
    if (p) {
        fprintf(out, "  \"sequence\": ");
        json_str(out, v.source);
        fprintf(out, ",\n");
    }
    fprintf(out, "  \"duration_s\": %.9g,\n  \"blocks\": %" PRIu64 ",\n  \"rf_pulses\": %" PRIu64
            ",\n  \"adc_events\": %" PRIu64 ",\n", (double)s->total_ns * 1e-9, s->nblocks,
            s->nrf, s->nadc);
    fprintf(out, "  \"minimum\": {");
    for (int i = 0; i < nmins; i++) {
        fprintf(out, "%s\n    ", i ? "," : "");
        json_str(out, mins[i].name);
        fprintf(out, ": {\"min_s\": %.9g, \"current_s\": %.9g, \"at_lower_bound\": %s}",
                (double)mins[i].min_ns * 1e-9, (double)mins[i].current_ns * 1e-9,
                mins[i].at_floor ? "true" : "false");
    }
    fprintf(out, "%s},\n", nmins ? "\n  " : "");
    fprintf(out, "  \"b_values\": {\"at\": \"adc_centre\", \"adcs\": %" PRIu64 ", "
            "\"max_s_per_mm2\": %.9g, \"max_time_s\": %.9g, \"groups\": [", s->nb,
            s->b_max.value * 1e-6, (double)s->b_max.time_ns * 1e-9);
    for (int i = 0; i < s->nbgroups; i++)
        fprintf(out, "%s{\"min_s_per_mm2\": %.9g, \"max_s_per_mm2\": %.9g, \"adcs\": %" PRIu64
                "}", i ? ", " : "", s->bgroups[i].lo * 1e-6, s->bgroups[i].hi * 1e-6,
                s->bgroups[i].count);
    fprintf(out, "]},\n");
    fprintf(out, "  \"peaks\": {\n");
    static const char *gn[3] = { "gradient_x", "gradient_y", "gradient_z" };
    static const char *sn[3] = { "slew_x", "slew_y", "slew_z" };
    for (int a = 0; a < 3; a++)
        json_peak(out, gn[a], &s->grad[a], sys->max_grad_axis[a], "T/m", true);
    json_peak(out, "gradient_vector", &s->grad_vec, sys->max_grad_vector, "T/m", true);
    for (int a = 0; a < 3; a++)
        json_peak(out, sn[a], &s->slew[a], sys->max_slew_axis[a], "T/m/s", true);
    json_peak(out, "rf_b1", &s->b1, sys->max_b1, "T", true);
    json_peak(out, "rf_duration", &s->rf_dur, (double)sys->max_rf_dur_ns * 1e-9, "s", true);
    json_peak(out, "pns", &s->pns, system_pns_limit(sys), "1", true);
    json_peak(out, "dbdt", &s->dbdt, 0, "T/s", false);
    fprintf(out, "  },\n  \"sar\": {\"model\": \"%s\", \"patient_mass_kg\": %.9g, \"regions\": {",
            system_sar_model_name(sys->sar_model), sys->patient_mass);
    bool first = true;
    for (int r = 0; r < SAR__COUNT; r++) {
        if (!sys->sar_region_on[r])
            continue;
        fprintf(out, "%s\n    \"%s\": {\"k_w_per_kg_t2\": %.9g, \"sar_10s\": %.9g, "
                "\"limit_10s\": %.9g, \"sar_6min\": %.9g, \"limit_6min\": %.9g}",
                first ? "" : ",", r == SAR_WHOLE_BODY ? "whole_body" : r == SAR_HEAD ? "head" :
                "partial_body", sys->sar_k[r], s->sar[r][0], 2 * system_sar_limit(sys, r),
                s->sar[r][1], system_sar_limit(sys, r));
        first = false;
    }
    fprintf(out, "},\n    \"window_10s_start_s\": %.9g, \"window_6min_start_s\": %.9g, "
            "\"rf_energy_t2s\": %.9g},\n", (double)s->sar_at_ns[0] * 1e-9,
            (double)s->sar_at_ns[1] * 1e-9, s->rf_energy);
    fprintf(out, "  \"violations\": [");
    for (int i = 0; i < ck->ngroups; i++) {
        const struct group *gr = &ck->groups[i];
        struct lbc_srcpos pos;
        vm_view_pos(&v, gr->pc, &pos);
        fprintf(out, "%s\n    {\"code\": \"%c%04d\", \"severity\": \"%s\", \"message\": ",
                i ? "," : "", gr->warning ? 'W' : 'E', gr->code,
                gr->warning ? "warning" : "error");
        json_str(out, gr->msg);
        fprintf(out, ", \"file\": ");
        json_str(out, pos.path ? pos.path : "");
        fprintf(out, ", \"line\": %u, \"col\": %u, \"count\": %" PRIu64 ", \"first_time_s\": %.9g, "
                "\"first_at\": ", pos.line, pos.col, gr->count,
                (double)gr->first.time_ns * 1e-9);
        json_str(out, gr->first.where);
        fprintf(out, ", \"worst_value\": %.9g, \"limit\": %.9g, \"worst_time_s\": %.9g, "
                "\"worst_at\": ", gr->worst.value, gr->limit, (double)gr->worst.time_ns * 1e-9);
        json_str(out, gr->worst.where);
        fputc('}', out);
    }
    fprintf(out, "%s],\n  \"errors\": %d,\n  \"warnings\": %d\n}\n", ck->ngroups ? "\n  " : "",
            ck->nerr, ck->nwarn);
}
