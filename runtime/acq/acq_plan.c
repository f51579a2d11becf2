/*
 * acq_plan: what the raw data of a program will hold, from a first pass of
 * the VM with no physics. Per ADC it owns the flags (first/last in each
 * counter, lines read with the readout reversed) and the slice position;
 * for the file it owns the header (matrix, field of view, encoding limits,
 * the program's parameters as user parameters). The simulator
 * (runtime/bloch/simulate.c) and the hardware drivers (runtime/driver/run.c)
 * write their acquisitions through one plan, so both write the same file.
 */
#include "runtime/acq/acq_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "runtime/wave/traj_kind.h"
#include "vm/vm.h"

/* --- the first pass --------------------------------------------------- */

struct scan {
    int32_t (*labels)[VM_LABEL__COUNT];
    size_t n, cap;
    float *zpos;                  /* per ADC: the slice position (mm) */
    signed char *ro_sign;         /* per ADC: the readout gradient's sign (0 none) */
    size_t zcap, scap;
    double cur_z;                 /* the last excitation's slice position (m) */
    double gamma_bar;             /* Hz/T */
    uint32_t max_samples;
    double ro_grad, ro_dwell;     /* the first ADC's x gradient at its centre */
    bool have_ro;
    int64_t total_ns;
};

static int scan_adc(void *ctx, const struct vm_block *b, const struct vm_adc *a)
{
    struct scan *sc = ctx;
    if (sc->n == sc->cap)
        vec_reserve((void **)&sc->labels, &sc->cap, sc->n + 1, sizeof *sc->labels);
    if (sc->n >= sc->zcap)
        vec_reserve((void **)&sc->zpos, &sc->zcap, sc->n + 1, sizeof *sc->zpos);
    if (sc->n >= sc->scap)
        vec_reserve((void **)&sc->ro_sign, &sc->scap, sc->n + 1, sizeof *sc->ro_sign);
    sc->zpos[sc->n] = (float)(sc->cur_z * 1e3);
    sc->ro_sign[sc->n] = 0;
    if (b->has_grad[0] && b->grad[0].kind == GRAD_TRAP) {
        const struct vm_grad *g = &b->grad[0];
        int64_t c = a->delay_ns + (int64_t)a->samples * a->dwell_ns / 2;
        if (c > g->delay_ns && c < g->delay_ns + g->rise_ns + g->flat_ns + g->fall_ns)
            sc->ro_sign[sc->n] = g->amp > 0 ? 1 : g->amp < 0 ? -1 : 0;
    }
    memcpy(sc->labels[sc->n++], a->labels, sizeof *sc->labels);
    if (a->samples > sc->max_samples)
        sc->max_samples = a->samples;
    if (!sc->have_ro && b->has_grad[0] && b->grad[0].kind == GRAD_TRAP) {
        const struct vm_grad *g = &b->grad[0];
        int64_t c = a->delay_ns + (int64_t)a->samples * a->dwell_ns / 2;
        if (c >= g->delay_ns + g->rise_ns && c <= g->delay_ns + g->rise_ns + g->flat_ns) {
            sc->ro_grad = fabs(g->amp);
            sc->ro_dwell = (double)a->dwell_ns * 1e-9;
            sc->have_ro = sc->ro_grad > 0;
        }
    }
    return 0;
}

/* The slice an excitation selects: its frequency offset over the
   slice-select gradient (f = γ̄·Gz·z), the gradient taken on its flat top. */
static int scan_rf(void *ctx, const struct vm_block *b, const struct vm_rf *rf)
{
    struct scan *sc = ctx;
    if (rf->use != VM_RFUSE_EXCITATION && rf->use != VM_RFUSE_UNDEFINED)
        return 0;
    sc->cur_z = 0;
    if (b->has_grad[2] && b->grad[2].kind == GRAD_TRAP && b->grad[2].amp != 0 && rf->freq != 0)
        sc->cur_z = rf->freq / (sc->gamma_bar * b->grad[2].amp);
    return 0;
}

static int scan_end(void *ctx, int64_t total_ns)
{
    ((struct scan *)ctx)->total_ns = total_ns;
    return 0;
}

int acq_plan_init(struct acq_plan *pl, const struct lbc_program *p, const struct system *sys,
                  const char *seq_name, int ncoils, const char *cmd, FILE *err)
{
    memset(pl, 0, sizeof *pl);
    struct vm_view v;
    vm_view_init(&v, p);
    struct scan sc = { 0 };
    sc.gamma_bar = sys->gamma;
    struct vm_backend be = { .ctx = &sc, .rf = scan_rf, .adc = scan_adc, .end = scan_end };
    if (vm_run(p, &be, NULL, NULL) != 0) {
        fprintf(err, "larmor %s: the program stopped with a run-time error (see larmor trace)\n",
                cmd);
        free(sc.labels);
        free(sc.zpos);
        free(sc.ro_sign);
        return 1;
    }
    if (!sc.n)
        fprintf(err, "larmor %s: warning: the sequence has no ADC; the raw data file "
                     "will hold no acquisitions\n", cmd);
    uint64_t *flags = xcalloc(sc.n ? sc.n : 1, sizeof *flags);
    raw_flags_from_labels((const int32_t(*)[VM_LABEL__COUNT])sc.labels, sc.n, flags);
    /* lines read with the readout gradient reversed (EPI, bipolar echoes):
       the polarity opposite to the first ADC's */
    int fwd = 0;
    size_t nrev = 0;
    for (size_t i = 0; i < sc.n; i++) {
        if (!fwd)
            fwd = sc.ro_sign[i];
        if (fwd && sc.ro_sign[i] == -fwd) {
            flags[i] |= RAW_FLAG(RAW_IS_REVERSE);
            nrev++;
        }
    }

    struct raw_header h;
    memset(&h, 0, sizeof h);
    h.sequence_name = seq_name;
    h.system_name = sys->name;
    h.b0 = sys->b0;
    h.larmor_hz = sys->gamma * sys->b0;            /* sys->gamma is gamma-bar (Hz/T) */
    h.ncoils = ncoils;
    int32_t maxl[VM_LABEL__COUNT];
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        maxl[l] = -1;
        h.limits[l].min = 1;
        h.limits[l].max = 0;
    }
    for (size_t i = 0; i < sc.n; i++)
        for (int l = 0; l < VM_LABEL__COUNT; l++)
            if (sc.labels[i][l] > maxl[l])
                maxl[l] = sc.labels[i][l];
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (maxl[l] > 0) {
            h.limits[l].min = 0;
            h.limits[l].max = maxl[l];
            h.limits[l].centre = (maxl[l] + 1) / 2;
        }
    h.matrix[0] = sc.max_samples ? (int)sc.max_samples : 1;
    h.matrix[1] = maxl[VM_LABEL_LIN] + 1 > 0 ? maxl[VM_LABEL_LIN] + 1 : 1;
    /* partial Fourier: a sequence that plays lines 0 .. n-1 of a matrix of
       more (the stdlib's pe_scale(line, matrix) puts k = 0 at matrix/2) */
    double pmat = vm_view_param_value(&v, "matrix_y", vm_view_param_value(&v, "matrix", 0));
    if (maxl[VM_LABEL_LIN] > 0 && pmat > h.matrix[1] && pmat <= 65535) {
        h.matrix[1] = (int)pmat;
        h.limits[VM_LABEL_LIN].centre = (int)pmat / 2;
    }
    h.matrix[2] = maxl[VM_LABEL_PAR] + 1 > 0 ? maxl[VM_LABEL_PAR] + 1 : 1;
    /* the readout's FOV from its k-space step γ̄·G·dwell (exact for a
       Cartesian readout); the others from the params fov and thickness */
    double fov = vm_view_param_value(&v, "fov", 0);
    double fovx = sc.have_ro ? 1 / (sys->gamma * sc.ro_grad * sc.ro_dwell) : fov;
    if (!(fovx > 0))
        fovx = 0.256;
    h.fov[0] = fovx;
    h.fov[1] = vm_view_param_value(&v, "fov_y",
                                   fov > 0 ? fov : fovx * h.matrix[1] / h.matrix[0]);
    h.fov[2] = h.matrix[2] > 1 ? vm_view_param_value(&v, "fov_z", h.fov[1])
                               : vm_view_param_value(&v, "thickness", 0.005);
    /* the trajectory's kind from k at every ADC sample, not from the
       labels or the readout's polarity (a radial or spiral scan is never
       "cartesian" or "epi") */
    struct traj_kind tk;
    int krc = traj_kind_run(&tk, p, sys->gamma);
    h.trajectory = krc ? "other" : traj_kind_name(&tk, nrev > 0, maxl[VM_LABEL_LIN] > 0);
    /* readout oversampling: a sampled FOV wider than the param fov */
    if (fov > 0 && fov < fovx * (1 - 1e-6)) {
        h.recon_fov[0] = fov;
        h.recon_matrix[0] = (int)lround(h.matrix[0] * fov / fovx);
        h.recon_fov[1] = h.fov[1];
        h.recon_fov[2] = h.fov[2];
        h.recon_matrix[1] = h.matrix[1];
        h.recon_matrix[2] = h.matrix[2];
    }
    h.tr = vm_view_param_value(&v, "tr", 0);
    h.te = vm_view_param_value(&v, "te", 0);
    h.ti = vm_view_param_value(&v, "ti", 0);
    h.flip = vm_view_param_value(&v, "flip", 0);
    const char **pn = xcalloc(v.nparams + 4, sizeof *pn);
    double *pv = xcalloc(v.nparams + 4, sizeof *pv);
    size_t np = 0;
    for (uint32_t i = 0; i < v.nparams; i++) {
        pn[np] = vm_view_param(&v, i).name;
        pv[np] = vm_view_param_value(&v, pn[np], 0);
        np++;
    }
    h.param_names = pn;
    h.param_values = pv;
    h.nparams = np;

    pl->h = h;
    pl->n = sc.n;
    pl->flags = flags;
    pl->zpos = sc.zpos;
    pl->pn = pn;
    pl->pv = pv;
    pl->np = np;
    pl->max_samples = sc.max_samples;
    pl->total_ns = sc.total_ns;
    free(sc.labels);
    free(sc.ro_sign);
    return 0;
}

void acq_plan_fill(const struct acq_plan *pl, size_t index, struct raw_acq *q)
{
    q->flags = index < pl->n ? pl->flags[index] : 0;
    /* the sample at k = 0: samples/2 on a forward line. A reversed line is
       its mirror image, samples - 1 - samples/2: a window centred on the
       echo (as the stdlib's readouts are) has k = 0 at (samples - 1)/2,
       and the mirrored index keeps the half-sample offset of even sizes
       the same on forward and reversed lines once the recon flips them
       (with samples/2 on both they would differ by one sample: an N/2
       ghost) */
    q->centre_sample = q->samples / 2;
    if (q->flags & RAW_FLAG(RAW_IS_REVERSE))
        q->centre_sample = q->samples - 1 - q->samples / 2;
    q->read_dir[0] = q->phase_dir[1] = q->slice_dir[2] = 1;
    if (index < pl->n)
        q->position[2] = pl->zpos[index];
}

void acq_plan_mark_incomplete(struct acq_plan *pl, size_t received, int sig)
{
    if (pl->incomplete)
        return;
    pl->incomplete = true;
    pl->pn[pl->np] = "larmor_incomplete";
    pl->pv[pl->np++] = 1;
    pl->pn[pl->np] = "larmor_acquisitions_expected";
    pl->pv[pl->np++] = (double)pl->n;
    pl->pn[pl->np] = "larmor_acquisitions_received";
    pl->pv[pl->np++] = (double)received;
    if (sig > 0) {
        pl->pn[pl->np] = "larmor_interrupted_by_signal";
        pl->pv[pl->np++] = sig;
    }
    pl->h.param_names = pl->pn;
    pl->h.param_values = pl->pv;
    pl->h.nparams = pl->np;
}

void acq_plan_fini(struct acq_plan *pl)
{
    free(pl->pn);
    free(pl->pv);
    free(pl->flags);
    free(pl->zpos);
    memset(pl, 0, sizeof *pl);
}
