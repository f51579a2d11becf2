/*
 * check_pns: the check backend's PNS by the IEC 60601-2-33:2022
 * nerve-response model. Every gradient ramp (a piece of constant slew) goes
 * into a per-axis history that keeps CHECK_PNS_HISTORY_S; after each block
 * the response is evaluated at the end of each of its ramps (where the
 * summary's peak is taken) and, for a timeline (check_set_pns_hook), at
 * each ramp's start.
 */
#include "runtime/check/check_internal.h"

#include <math.h>
#include <stdlib.h>

#include "base/util.h"

void ck_ring_push(struct segring *r, struct seg s)
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

/* PNS: evaluate the response at the end of every ramp in this block
   (and, for a timeline, at every ramp start, in time order). */
void ck_pns_block(struct check *ck, const struct vm_block *b)
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
            ck_violation(ck, b, CK_PNS, pc, 0, tns, lvl, lim, one, true,
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

void check_set_pns_hook(struct check *ck, void (*fn)(void *ctx, int64_t t_ns, double level),
                        void *ctx)
{
    ck->pns_hook = fn;
    ck->pns_hook_ctx = ctx;
}
