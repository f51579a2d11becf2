/*
 * check_bvalue: the diffusion weighting (b-value) at every echo, measured
 * by the check backend. The moment k = γ∫G dt of each axis is quadratic on
 * every linear piece of its waveform, so ∫k² dt is a polynomial integrated
 * in closed form per piece (wave_moment_advance); k is reset at an
 * excitation's RF centre and negated at a refocusing pulse's, and
 * b = Σ_axes ∫k² dt is read at each ADC's centre. The b-values are kept
 * as the largest and as groups of close values (CHECK_MAX_BGROUPS).
 */
#include "runtime/check/check_internal.h"

#include <math.h>
#include <string.h>

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
void ck_bv_block(struct check *ck, const struct vm_block *b)
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
