/*
 * kspace_traj: see kspace_traj.h. Per block: each axis' waveform
 * (runtime/wave/wave.h), integrals walked forward in time, and the events
 * (the RF centre, the ADC samples, the path points) visited in time order.
 */
#include "runtime/wave/kspace_traj.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "runtime/wave/wave.h"

struct ktraj {
    struct ktraj_opts o;
    double k[3];                 /* at the start of the next block */
    uint32_t nadc;
    struct ktraj_sample *samples;
    size_t nsamples, capsamples;
    struct ktraj_point *path;
    size_t npath, cappath;
    bool pen_up;                 /* the next path point starts a new piece */
    /* the waveforms of the current block */
    struct wave w[3];
};

struct ktraj *ktraj_new(const struct ktraj_opts *o)
{
    struct ktraj *kt = xcalloc(1, sizeof *kt);
    kt->o = *o;
    kt->pen_up = true;
    return kt;
}

void ktraj_free(struct ktraj *kt)
{
    if (!kt)
        return;
    free(kt->samples);
    free(kt->path);
    for (int a = 0; a < 3; a++)
        wave_fini(&kt->w[a]);
    free(kt);
}

const struct ktraj_sample *ktraj_samples(const struct ktraj *kt, size_t *n)
{
    *n = kt->nsamples;
    return kt->samples;
}

const struct ktraj_point *ktraj_path(const struct ktraj *kt, size_t *n)
{
    *n = kt->npath;
    return kt->path;
}

void ktraj_current(const struct ktraj *kt, double k[3])
{
    memcpy(k, kt->k, sizeof kt->k);
}

static bool in_window(const struct ktraj *kt, int64_t t)
{
    return t >= kt->o.from_ns && (kt->o.to_ns < 0 || t <= kt->o.to_ns);
}

/* What an RF pulse does to k: 0 nothing, 1 reset (excitation), -1 negate
   (refocusing). */
static int rf_action(const struct ktraj *kt, const struct vm_rf *rf)
{
    switch (rf->use) {
    case VM_RFUSE_EXCITATION:
        return 1;
    case VM_RFUSE_REFOCUSING:
        return -1;
    case VM_RFUSE_UNDEFINED: {
        double area = 0;    /* ∫ B1 dt with the shape's sign (T·s) */
        for (uint32_t i = 0; i < rf->n; i++)
            area += rf->mag[i];
        double flip = 2 * M_PI * kt->o.gamma * fabs(rf->amp * area) * (double)rf->dt_ns * 1e-9;
        return flip <= M_PI / 2 * (1 + 1e-6) ? 1 : -1;
    }
    default:
        return 0;
    }
}

static void add_point(struct ktraj *kt, const double k[3], int64_t t)
{
    if (kt->o.no_path || !in_window(kt, t))
        return;
    struct ktraj_point pt = { { k[0], k[1], k[2] }, t, kt->pen_up };
    VEC_PUSH(kt->path, kt->npath, kt->cappath, pt);
    kt->pen_up = false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The path times of a block (s from its start): every corner of every
   axis and the middle of each piece between consecutive ones, sorted. */
static double *path_times(struct ktraj *kt, double dur, size_t *n)
{
    size_t cap = 2, m = 0;
    for (int a = 0; a < 3; a++)
        cap += 2 * kt->w[a].n;
    double *t = xmalloc(cap * sizeof *t);
    t[m++] = 0;
    t[m++] = dur;
    for (int a = 0; a < 3; a++) {
        const struct wave_pt *p = kt->w[a].p;
        for (size_t i = 0; i < kt->w[a].n; i++) {
            t[m++] = p[i].t;
            if (i + 1 < kt->w[a].n)
                t[m++] = 0.5 * (p[i].t + p[i + 1].t);
        }
    }
    qsort(t, m, sizeof *t, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || t[i] != t[u - 1])
            t[u++] = t[i];
    *n = u;
    return t;
}

static int kt_block_end(void *ctx, const struct vm_block *b)
{
    struct ktraj *kt = ctx;
    double g = kt->o.gamma;
    double dur = (double)b->dur_ns * 1e-9;
    for (int a = 0; a < 3; a++) {
        if (b->has_grad[a])
            wave_set(&kt->w[a], &b->grad[a]);
        else
            kt->w[a].n = 0;
    }
    /* k(t) = base + γ̄·I(t); an RF centre changes base */
    double base[3] = { kt->k[0], kt->k[1], kt->k[2] };
    double rf_t = INFINITY;
    int action = 0;
    if (b->has_rf) {
        action = rf_action(kt, &b->rf);
        if (action)
            rf_t = (double)(b->rf.delay_ns + b->rf.centre_ns) * 1e-9;
    }
    /* three walks in time order: the RF centre, the ADC samples, the path */
    struct wave_walk ps[3], ss[3];
    for (int a = 0; a < 3; a++) {
        wave_walk_init(&ps[a], &kt->w[a]);
        wave_walk_init(&ss[a], &kt->w[a]);
    }
    size_t npath = 0;
    double *pt = kt->o.no_path ? NULL : path_times(kt, dur, &npath);
    uint32_t ns = b->has_adc ? b->adc.samples : 0;
    double d0 = b->has_adc ? (double)b->adc.delay_ns * 1e-9 : 0;
    double dw = b->has_adc ? (double)b->adc.dwell_ns * 1e-9 : 0;
    size_t ip = 0;
    uint32_t is = 0;
    bool rf_done = !action;
    for (;;) {
        double tp = ip < npath ? pt[ip] : INFINITY;
        double ts = is < ns ? d0 + (is + 0.5) * dw : INFINITY;
        double tr = rf_done ? INFINITY : rf_t;
        if (tp == INFINITY && ts == INFINITY && tr == INFINITY)
            break;
        double k[3];
        if (tr <= tp && tr <= ts) {
            /* the pulse acts at its centre: the path ends there and
               starts again from the new k */
            for (int a = 0; a < 3; a++)
                k[a] = base[a] + g * wave_walk_at(&ps[a], tr);
            int64_t at = b->start_ns + b->rf.delay_ns + b->rf.centre_ns;
            add_point(kt, k, at);
            for (int a = 0; a < 3; a++) {
                double i = wave_walk_at(&ps[a], tr) * g;
                base[a] = action > 0 ? -i : -base[a] - 2 * i;
                k[a] = base[a] + i;
            }
            kt->pen_up = true;
            add_point(kt, k, at);
            rf_done = true;
        } else if (ts <= tp) {
            struct ktraj_sample s;
            for (int a = 0; a < 3; a++)
                s.k[a] = base[a] + g * wave_walk_at(&ss[a], ts);
            s.t_ns = b->start_ns + b->adc.delay_ns + (int64_t)is * b->adc.dwell_ns +
                     b->adc.dwell_ns / 2;
            s.adc = kt->nadc;
            s.index = is;
            s.lin = b->adc.labels[VM_LABEL_LIN];
            s.par = b->adc.labels[VM_LABEL_PAR];
            s.slc = b->adc.labels[VM_LABEL_SLC];
            if (in_window(kt, s.t_ns))
                VEC_PUSH(kt->samples, kt->nsamples, kt->capsamples, s);
            is++;
        } else {
            for (int a = 0; a < 3; a++)
                k[a] = base[a] + g * wave_walk_at(&ps[a], tp);
            add_point(kt, k, b->start_ns + (int64_t)llround(tp * 1e9));
            ip++;
        }
    }
    free(pt);
    if (b->has_adc)
        kt->nadc++;
    if (kt->o.on_adc) {
        if (kt->nsamples)
            kt->o.on_adc(kt->o.on_adc_ctx, kt->samples, kt->nsamples);
        kt->nsamples = 0;
    }
    /* the end of the block: the whole integral */
    for (int a = 0; a < 3; a++)
        kt->k[a] = base[a] + g * wave_integral(&kt->w[a], INFINITY);
    return 0;
}

void ktraj_backend(struct ktraj *kt, struct vm_backend *be)
{
    memset(be, 0, sizeof *be);
    be->ctx = kt;
    be->block_end = kt_block_end;
}
