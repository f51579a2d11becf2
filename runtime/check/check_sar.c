/*
 * check_sar: SAR over sliding 10 s and 6 min windows (IEC 60601-2-33),
 * from the energies of the RF pulses the check backend recorded (each
 * pulse's power rectangular over its length), at the end of the run: the
 * worst window of each length against the operating mode's limit per
 * region; and the SAR of the trailing window as a function of time
 * (check_sar_timeline).
 */
#include "runtime/check/check_internal.h"

#include <math.h>
#include <stdlib.h>

#include "base/util.h"

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
void ck_sar_end(struct check *ck, int64_t total_ns)
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
                ck_violation(ck, NULL, CK_SAR, pc, r * 2 + k, at, sar, lim, one, true,
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
