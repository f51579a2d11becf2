/*
 * check: the safety backend (see check.h): its state from check_new to
 * check_free, the violation groups, and the checks of one block as it
 * arrives: rasters, bounds, dead times, overlap, gradient amplitude, slew,
 * continuity and vector magnitude, dB/dt, RF and ADC limits, the acoustic
 * bands. It records each RF pulse's energy for the SAR windows
 * (check_sar.c) and each gradient ramp for the PNS convolution
 * (check_pns.c), which is evaluated as the blocks arrive (a bounded
 * history, see CHECK_PNS_HISTORY_S); the b-value follows each block
 * (check_bvalue.c); check_report.c turns the results into diagnostics and
 * the `larmor check` report.
 *
 * Waveform model (the same as the simulator's and Pulseq's, in
 * runtime/wave/wave.h): a trapezoid is piecewise linear through its
 * corners; an arbitrary gradient is piecewise linear through its samples
 * placed at raster centres, holding its first and last sample for half a
 * raster to the ends of its span; RF is piecewise constant per sample.
 */
#include "runtime/check/check_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/program.h"

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

void ck_violation(struct check *ck, const struct vm_block *b, int code, uint32_t pc, int sub,
                  int64_t t, double value, double limit, struct dim dm, bool higher_is_worse,
                  const char *help, const char *fmt, ...)
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

const char ck_axis_name[3] = { 'x', 'y', 'z' };

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
    ck_violation(ck, b, CK_RASTER, pc, sub, b->start_ns, (double)v * 1e-9, (double)r * 1e-9,
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
        ck_violation(ck, b, CK_OUTSIDE, g->pc, a, b->start_ns,
                     (double)(g->delay_ns + g->dur_ns) * 1e-9, (double)b->dur_ns * 1e-9, DIM_TIME,
                     true, "lengthen the block or shorten the gradient",
                     "gradient %c ends %s into a block of %s", ck_axis_name[a],
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
        ck_violation(ck, b, CK_GRAD, g->pc, a, b->start_ns, peak, sys->max_grad_axis[a], DIM_GRAD,
                     true, help, "gradient %c amplitude %s exceeds the limit %s", ck_axis_name[a],
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
        ck_violation(ck, b, CK_DBDT, g->pc, a, b->start_ns, dbdt, lim, dd, true,
                     "lengthen the ramp or lower the amplitude",
                     "dB/dt %.4g T/s on a %s ramp of gradient %c exceeds %.4g "
                     "T/s (%g%% of %g T/s·(1 + %g us / %s))", dbdt,
                     fmtt(ts, sizeof ts, s_to_ns(tau)), ck_axis_name[a], lim,
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
            ck_ring_push(&ck->ring[a], (struct seg){ t0 + p[i].t, t0 + p[i + 1].t, s });
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
        ck_violation(ck, b, CK_SLEW, g->pc, a, b->start_ns, maxslew, sys->max_slew_axis[a],
                     DIM_SLEW, true, "lengthen the ramps (system.max_slew gives the "
                     "fastest allowed)", "gradient %c slew rate %s exceeds the limit %s",
                     ck_axis_name[a], fmtv(vs, sizeof vs, maxslew, DIM_SLEW),
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
        ck_violation(ck, b, CK_JUMP, g->pc, 50 + a, b->start_ns, fabs(p[0].v), tol,
                     DIM_GRAD, true, "start the waveform at zero, or remove its delay",
                     "gradient %c jumps from 0 to %s after its delay", ck_axis_name[a],
                     fmtv(vs, sizeof vs, p[0].v, DIM_GRAD));
    if (n && p[n - 1].t < bdur - 1e-12 && fabs(p[n - 1].v) > tol)
        ck_violation(ck, b, CK_JUMP, g->pc, 60 + a, b->start_ns, fabs(p[n - 1].v), tol,
                     DIM_GRAD, true, "end the waveform at zero, or end it with the block",
                     "gradient %c ends at %s before the block ends, then drops to 0",
                     ck_axis_name[a], fmtv(vs, sizeof vs, p[n - 1].v, DIM_GRAD));
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
        ck_violation(ck, b, CK_JUMP, pc, 70 + a, b->start_ns, fabs(start - ck->gend[a]), tol,
                     DIM_GRAD, true, "make the previous block's gradient end at the value "
                     "this one starts with (or both at zero)",
                     "gradient %c jumps from %s to %s at the start of this block",
                     ck_axis_name[a], fmtv(es, sizeof es, ck->gend[a], DIM_GRAD),
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
            ck_violation(ck, b, CK_GRADVEC, pc, 0, b->start_ns + s_to_ns(vt), vpeak,
                         sys->max_grad_vector, DIM_GRAD, true,
                         "lower the amplitudes of the simultaneous gradients or spread them "
                         "in time",
                         "gradient vector magnitude %s exceeds the limit %s",
                         fmtv(vs, sizeof vs, vpeak, DIM_GRAD),
                         fmtv(ls, sizeof ls, sys->max_grad_vector, DIM_GRAD));
        }
    }
    if (vpeak > ck->sum.grad_vec.value)
        ck->sum.grad_vec = (struct check_peak){ vpeak, b->start_ns, -1, b->pc };
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
        ck_pns_block(ck, b);
    ck->nstarts = 0;
    ck_bv_block(ck, b);
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
    ck_violation(ck, b, CK_DEADTIME, pc, sub, b->start_ns, (double)delay * 1e-9,
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
        ck_violation(ck, b, CK_OUTSIDE, pc, sub_out, b->start_ns, (double)end * 1e-9,
                     (double)b->dur_ns * 1e-9, DIM_TIME, true, "lengthen the block",
                     "%s ends %s into a block of %s", what, fmtt(vs, sizeof vs, end),
                     fmtt(ls, sizeof ls, b->dur_ns));
    } else if (end + after > b->dur_ns) {
        snprintf(help, sizeof help, "lengthen the block to at least %s",
                 fmtt(ls, sizeof ls, end + after));
        ck_violation(ck, b, CK_DEADTIME, pc, sub_dead, b->start_ns,
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
        ck_violation(ck, b, CK_B1, rf->pc, 0, b->start_ns + rf->delay_ns, peak, sys->max_b1,
                     DIM_TESLA, true, "lengthen the pulse (B1 scales as 1/duration for the "
                     "same flip angle) or lower the flip angle",
                     "RF peak B1 %s exceeds the limit %s", fmtv(vs, sizeof vs, peak, DIM_TESLA),
                     fmtv(ls, sizeof ls, sys->max_b1, DIM_TESLA));
    if ((double)rf->dur_ns > (double)ck->sum.rf_dur.value * 1e9)
        ck->sum.rf_dur = (struct check_peak){ (double)rf->dur_ns * 1e-9, b->start_ns, -1,
                                              rf->pc };
    if (sys->max_rf_dur_ns > 0 && rf->dur_ns > sys->max_rf_dur_ns)
        ck_violation(ck, b, CK_RFDUR, rf->pc, 0, b->start_ns + rf->delay_ns,
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
        ck_violation(ck, b, CK_DWELL, adc->pc, 0, b->start_ns, (double)adc->dwell_ns * 1e-9,
                     (double)sys->adc_raster_ns * 1e-9, DIM_TIME, true,
                     "choose a dwell that is a whole number of ADC raster steps",
                     "the ADC dwell %s is not on the ADC raster (%s)",
                     fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->adc_raster_ns));
    if (sys->min_dwell_ns > 0 && adc->dwell_ns < sys->min_dwell_ns)
        ck_violation(ck, b, CK_DWELL, adc->pc, 1, b->start_ns, (double)adc->dwell_ns * 1e-9,
                     (double)sys->min_dwell_ns * 1e-9, DIM_TIME, false,
                     "lower the receiver bandwidth", "the ADC dwell %s is below the minimum %s",
                     fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->min_dwell_ns));
    if (sys->max_dwell_ns > 0 && adc->dwell_ns > sys->max_dwell_ns)
        ck_violation(ck, b, CK_DWELL, adc->pc, 2, b->start_ns, (double)adc->dwell_ns * 1e-9,
                     (double)sys->max_dwell_ns * 1e-9, DIM_TIME, true,
                     "raise the receiver bandwidth", "the ADC dwell %s is above the maximum %s",
                     fmtt(vs, sizeof vs, adc->dwell_ns), fmtt(ls, sizeof ls, sys->max_dwell_ns));
    if (adc->samples == 0 || (sys->max_adc_samples && adc->samples > sys->max_adc_samples)) {
        struct dim one = DIM_NONE;
        ck_violation(ck, b, CK_SAMPLES, adc->pc, 0, b->start_ns, adc->samples,
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
            ck_violation(ck, b, CK_OVERLAP, adc->pc, 0, b->start_ns, (double)ov * 1e-9, 0,
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
                    ck_violation(ck, b, CK_ACOUSTIC, g->pc, k, b->start_ns, f, sys->band_lo[k],
                                 DIM_FREQ, true, "change the echo spacing (bandwidth or matrix) "
                                 "to move the fundamental out of the band",
                                 "the readout gradient on %c repeats at %s, inside the forbidden "
                                 "acoustic band %s .. %s", ck_axis_name[a],
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
            ck_violation(ck, NULL, CK_JUMP, ck->gend_pc[a], 80 + a, total_ns, fabs(ck->gend[a]),
                         tol, DIM_GRAD, true, "ramp the gradient down to zero in the last block",
                         "gradient %c is still at %s when the sequence ends", ck_axis_name[a],
                         fmtv(vs, sizeof vs, ck->gend[a], DIM_GRAD));
        }
    }
    ck_sar_end(ck, total_ns);
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

const struct check_summary *check_get_summary(const struct check *ck)
{
    return &ck->sum;
}

int check_count(const struct check *ck, bool warnings)
{
    return warnings ? ck->nwarn : ck->nerr;
}
