/*
 * pulseq_build: the second half of the .seq reader (see pulseq_read.c for
 * the decisions): the parsed tables to a straight-line program. Per block a
 * BEGIN, its events (a template per Pulseq event ID), its labels and an END
 * with the block's duration; LIN labels derived where the file has none.
 */
#include "runtime/pulseq/pulseq_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---------- building the program ---------- */

struct builder {
    struct reader *r;
    struct lbc_program *p;
    int32_t file;            /* string index of the path */
    int32_t *rf_t, *adc_t;   /* template per row, -1 until made */
    int32_t *grad_t[3];      /* per axis: [GRADIENTS] rows then [TRAP] rows */
    int32_t *trig_t;
    struct idmap end_t;      /* duration (ns) -> END template */
    int32_t zero_k;
    bool warned_label[32];
    bool warned_soft, warned_ppm;
    int32_t *lin;            /* per block: derived LIN label or -1 */
};

static int64_t us2ns(double us)
{
    return llround(us * 1000.0);
}

static bool sane_us(double us)
{
    return isfinite(us) && us >= 0 && us < 1e12;
}

static const struct shape *get_shape(struct builder *bd, int64_t id, const struct row *row,
                                     const char *what)
{
    int32_t i = pq_idmap_get(&bd->r->shmap, id);
    if (i < 0) {
        pq_err(bd->r, 733, row->start, row->end, "define the shape in [SHAPES] or fix the ID",
             "%s refers to shape %lld, which is not defined", what, (long long)id);
        return NULL;
    }
    return &bd->r->sh[i];
}

/* Values at (j + 0.5) of a piecewise-linear function through (t, v). */
static void resample(double *out, size_t n, const double *t, const double *v, size_t m)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        double x = (double)j + 0.5;
        while (k + 1 < m && t[k + 1] < x)
            k++;
        if (x <= t[0])
            out[j] = v[0];
        else if (k + 1 >= m)
            out[j] = v[m - 1];
        else {
            double dt = t[k + 1] - t[k];
            out[j] = dt > 0 ? v[k] + (v[k + 1] - v[k]) * (x - t[k]) / dt : v[k + 1];
        }
    }
}

/* Check that a time shape increases and fits; returns its sample count on
   the raster (its last time), or 0 after an error. */
static size_t time_shape_len(struct builder *bd, const struct shape *ts, const struct row *row,
                             const char *what)
{
    const double *t = bd->r->vals + ts->off;
    for (uint32_t i = 0; i < ts->n; i++)
        if (!(t[i] >= 0 && t[i] < 1e9) || (i && t[i] < t[i - 1])) {
            pq_err(bd->r, 735, ts->start, ts->end, "a time shape lists increasing times in "
                 "raster units from 0", "time shape %lld (of an %s event) is not "
                 "increasing", (long long)ts->id, what);
            (void)row;
            return 0;
        }
    double last = t[ts->n - 1];
    if (last < 0.5) {
        pq_err(bd->r, 735, ts->start, ts->end, "a time shape must span at least one raster",
             "time shape %lld lasts less than one raster", (long long)ts->id);
        return 0;
    }
    return (size_t)llround(last);
}

/* The samples of an RF on its raster: the magnitude (and phase) shapes as
   they are, or resampled at raster centres where the time shape is not
   regular. *mag and *ph (NULL without a phase shape) are the caller's to
   free; returns -1 after an error. */
static int rf_samples(struct builder *bd, const struct row *row, const struct shape *ms,
                      const struct shape *ps, int64_t time_id, double **mag_out,
                      double **ph_out, size_t *n_out, int64_t *dt_out)
{
    struct reader *r = bd->r;
    const double *mv = r->vals + ms->off, *pv = ps ? r->vals + ps->off : NULL;
    size_t n = ms->n;
    int64_t dt = r->rraster;
    double *mag, *ph = NULL;
    if (time_id > 0) {
        const struct shape *ts = get_shape(bd, time_id, row, "the RF time");
        if (!ts)
            return -1;
        if (ts->n != ms->n) {
            pq_err(r, 735, row->start, row->end, "a time shape has as many samples as its shape",
                 "[RF] %lld: time shape %lld has %u samples, magnitude %u", (long long)row->id,
                 (long long)time_id, ts->n, ms->n);
            return -1;
        }
        size_t nn = time_shape_len(bd, ts, row, "RF");
        if (!nn)
            return -1;
        const double *tv = r->vals + ts->off;
        /* samples at regular raster centres: keep them, with their spacing */
        double step = n > 1 ? tv[1] - tv[0] : 2 * tv[0];
        bool regular = step >= 1 && step == floor(step) && fabs(tv[0] - step / 2) < 1e-9;
        for (size_t i = 1; regular && i < n; i++)
            regular = fabs(tv[i] - tv[i - 1] - step) < 1e-9;
        if (regular) {
            dt = r->rraster * (int64_t)step;
            mag = xmalloc(n * sizeof *mag);
            memcpy(mag, mv, n * sizeof *mag);
            if (pv) {
                ph = xmalloc(n * sizeof *ph);
                memcpy(ph, pv, n * sizeof *ph);
            }
        } else {
            mag = xmalloc(nn * sizeof *mag);
            resample(mag, nn, tv, mv, n);
            if (pv) {
                ph = xmalloc(nn * sizeof *ph);
                resample(ph, nn, tv, pv, n);
            }
            n = nn;
        }
    } else {
        if (time_id < 0)
            dt = r->rraster / 2;
        mag = xmalloc(n * sizeof *mag);
        memcpy(mag, mv, n * sizeof *mag);
        if (pv) {
            ph = xmalloc(n * sizeof *ph);
            memcpy(ph, pv, n * sizeof *ph);
        }
    }
    *mag_out = mag;
    *ph_out = ph;
    *n_out = n;
    *dt_out = dt;
    return 0;
}

/* Phase in cycles: 0 and 1/2 only -> a signed magnitude (*ph freed and
   NULL); any other phase to radians. */
static void rf_fold_phase(double *mag, double **php, size_t n)
{
    double *ph = *php;
    if (!ph)
        return;
    bool sign_only = true;
    for (size_t i = 0; i < n && sign_only; i++) {
        double c = ph[i] - floor(ph[i]);
        sign_only = c < 1e-6 || c > 1 - 1e-6 || fabs(c - 0.5) < 1e-6;
    }
    if (sign_only) {
        for (size_t i = 0; i < n; i++) {
            double c = ph[i] - floor(ph[i]);
            if (fabs(c - 0.5) < 1e-6)
                mag[i] = -mag[i];
        }
        free(ph);
        *php = NULL;
    } else {
        for (size_t i = 0; i < n; i++)
            ph[i] *= 2 * M_PI;
    }
}

/* The middle of the RF's peak (the centre the toolboxes give a file
   without one), ns; *re, *im: the sum of its complex samples. */
static int64_t rf_peak_centre(const double *mag, const double *ph, size_t n, int64_t dt,
                              double *re, double *im)
{
    double peak = 0;
    *re = *im = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(mag[i]) > peak)
            peak = fabs(mag[i]);
        *re += mag[i] * (ph ? cos(ph[i]) : 1);
        *im += mag[i] * (ph ? sin(ph[i]) : 0);
    }
    size_t i0 = 0, i1 = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++)
        if (fabs(mag[i]) >= peak * 0.99999) {
            if (first)
                i0 = i;
            first = false;
            i1 = i;
        }
    return llround(((double)i0 + (double)i1 + 1.0) / 2.0 * (double)dt);
}

/* The RF's use: the 1.5 letter, else by its flip angle (up to 90 degrees
   an excitation, beyond a refocusing); re, im: the sum of its samples. */
static enum vm_rfuse rf_use(char letter, double amp_hz, double re, double im, int64_t dt)
{
    enum vm_rfuse use = VM_RFUSE_UNDEFINED;
    switch (letter) {
    case 'e': use = VM_RFUSE_EXCITATION; break;
    case 'r': use = VM_RFUSE_REFOCUSING; break;
    case 'i': use = VM_RFUSE_INVERSION; break;
    case 's': use = VM_RFUSE_SATURATION; break;
    case 'p': use = VM_RFUSE_PREPARATION; break;
    case 'o': use = VM_RFUSE_OTHER; break;
    case 'u': use = VM_RFUSE_UNDEFINED; break;
    default: {
        double flip = 2 * M_PI * fabs(amp_hz) * hypot(re, im) * (double)dt * 1e-9;
        use = flip < 90.01 * M_PI / 180 ? VM_RFUSE_EXCITATION : VM_RFUSE_REFOCUSING;
    }
    }
    return use;
}

static int32_t make_rf(struct builder *bd, int32_t idx)
{
    struct reader *r = bd->r;
    const struct row *row = &r->rf.r[idx];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double amp_hz = row->v[0];
    int64_t mag_id = (int64_t)row->v[1], ph_id = (int64_t)row->v[2];
    int64_t time_id = v14 ? (int64_t)row->v[3] : 0;
    double center_us = v15 ? row->v[4] : -1;
    double delay_us = v15 ? row->v[5] : v14 ? row->v[4] : row->v[3];
    double freq = v15 ? row->v[8] : v14 ? row->v[5] : row->v[4];
    double phase = v15 ? row->v[9] : v14 ? row->v[6] : row->v[5];
    double ppm_f = v15 ? row->v[6] : 0, ppm_p = v15 ? row->v[7] : 0;
    if ((ppm_f != 0 || ppm_p != 0) && !bd->warned_ppm) {
        bd->warned_ppm = true;
        pq_warn(r, 741, row->start, row->end, "give offsets in Hz and rad for Larmor",
              "frequency and phase offsets in ppm are ignored (they need the field strength)");
    }
    if (row->v[1] != floor(row->v[1]) || row->v[1] < 1 || row->v[2] != floor(row->v[2]) ||
        row->v[2] < 0 || (v14 && row->v[3] != floor(row->v[3]))) {
        pq_err(r, 731, row->start, row->end, "shape IDs are whole numbers (the magnitude's from 1)",
             "[RF] %lld: bad shape ID", (long long)row->id);
        return -1;
    }
    if (!sane_us(delay_us) || (v15 && !sane_us(center_us))) {
        pq_err(r, 744, row->start, row->end, "delays and centres are times from 0 in us",
             "[RF] %lld: bad delay or centre", (long long)row->id);
        return -1;
    }
    const struct shape *ms = get_shape(bd, mag_id, row, "the RF magnitude");
    if (!ms)
        return -1;
    const struct shape *ps = ph_id ? get_shape(bd, ph_id, row, "the RF phase") : NULL;
    if (ph_id && !ps)
        return -1;
    if (ps && ps->n != ms->n) {
        pq_err(r, 735, row->start, row->end, "an RF's phase shape has as many samples as its "
             "magnitude", "[RF] %lld: magnitude shape %lld has %u samples, phase shape %lld %u",
             (long long)row->id, (long long)mag_id, ms->n, (long long)ph_id, ps->n);
        return -1;
    }
    size_t n;
    int64_t dt;
    double *mag, *ph;
    if (rf_samples(bd, row, ms, ps, time_id, &mag, &ph, &n, &dt) < 0)
        return -1;
    rf_fold_phase(mag, &ph, n);
    if (n > UINT32_MAX / 2) {
        free(mag);
        free(ph);
        pq_err(r, 735, row->start, row->end, NULL, "[RF] %lld: the pulse is too long",
             (long long)row->id);
        return -1;
    }
    /* centre: given (1.5) or the middle of the peak (as the toolboxes do) */
    double re, im;
    int64_t centre = rf_peak_centre(mag, ph, n, dt, &re, &im);
    if (v15)
        centre = us2ns(center_us);
    enum vm_rfuse use = rf_use(row->use, amp_hz, re, im, dt);
    struct lbc_field f[RFF__COUNT];
    memset(f, 0, sizeof f);
    f[RFF_MAG] = (struct lbc_field){ FK_SHAPE, lbc_add_shape(bd->p, mag, (uint32_t)n) };
    if (ph)
        f[RFF_PHASE_SHAPE] = (struct lbc_field){ FK_SHAPE, lbc_add_shape(bd->p, ph, (uint32_t)n) };
    f[RFF_DT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dt) };
    f[RFF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, amp_hz / PULSEQ_GAMMA_BAR) };
    f[RFF_PHASE] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, phase) };
    f[RFF_FREQ] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, freq) };
    f[RFF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay_us)) };
    f[RFF_CENTRE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, centre) };
    f[RFF_USE] = (struct lbc_field){ FK_IMM, (int32_t)use };
    free(mag);
    free(ph);
    return lbc_add_tmpl(bd->p, TMPL_RF, f);
}

/* The gradient of a [GRADIENTS] (gi < ngrad) or [TRAP] row on an axis,
   its amplitude scaled by scale (a rotation). */
static int32_t make_grad(struct builder *bd, int axis, bool trap, int32_t idx, double scale)
{
    struct reader *r = bd->r;
    struct lbc_field f[GF__COUNT];
    memset(f, 0, sizeof f);
    f[GF_AXIS] = (struct lbc_field){ FK_IMM, axis };
    if (trap) {
        const struct row *row = &r->trap.r[idx];
        for (int i = 1; i < 5; i++)
            if (!sane_us(row->v[i])) {
                pq_err(r, 744, row->start, row->end, "trapezoid times are from 0, in us",
                     "[TRAP] %lld: a negative or absurd time", (long long)row->id);
                return -1;
            }
        f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
        f[GF_AMP] = (struct lbc_field){ FK_NUM,
                                        lbc_add_num(bd->p, scale * row->v[0] / PULSEQ_GAMMA_BAR) };
        f[GF_RISE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[1])) };
        f[GF_FLAT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[2])) };
        f[GF_FALL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[3])) };
        f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(row->v[4])) };
        return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
    }
    const struct row *row = &r->grad.r[idx];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double amp = row->v[0];
    double sid = v15 ? row->v[3] : row->v[1];
    double tid = v15 ? row->v[4] : v14 ? row->v[2] : 0;
    double delay = v15 ? row->v[5] : v14 ? row->v[3] : row->v[2];
    if (sid != floor(sid) || sid < 1 || tid != floor(tid)) {
        pq_err(r, 731, row->start, row->end, "shape IDs are whole numbers from 1",
             "[GRADIENTS] %lld: bad shape ID", (long long)row->id);
        return -1;
    }
    if (!sane_us(delay)) {
        pq_err(r, 744, row->start, row->end, "a delay is a time from 0 in us",
             "[GRADIENTS] %lld: bad delay", (long long)row->id);
        return -1;
    }
    const struct shape *s = get_shape(bd, (int64_t)sid, row, "the gradient");
    if (!s)
        return -1;
    const double *v = r->vals + s->off;
    int64_t dt = r->graster;
    int32_t shape;
    if (tid > 0) {
        const struct shape *ts = get_shape(bd, (int64_t)tid, row, "the gradient time");
        if (!ts)
            return -1;
        if (ts->n != s->n) {
            pq_err(r, 735, row->start, row->end, "a time shape has as many samples as its shape",
                 "[GRADIENTS] %lld: time shape %lld has %u samples, waveform %u",
                 (long long)row->id, (long long)tid, ts->n, s->n);
            return -1;
        }
        size_t nn = time_shape_len(bd, ts, row, "gradient");
        if (!nn)
            return -1;
        const double *t = r->vals + ts->off;
        /* a trapezoid written as corners is that trapezoid */
        if (s->n == 4 && v[0] == 0 && v[3] == 0 && v[1] == v[2] && t[0] == floor(t[0]) &&
            t[1] == floor(t[1]) && t[2] == floor(t[2]) && t[3] == floor(t[3])) {
            f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_TRAP };
            f[GF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, scale * amp * v[1] /
                                                                        PULSEQ_GAMMA_BAR) };
            int64_t g = r->graster;
            int64_t rise = (int64_t)(t[1] - t[0]) * g, flat = (int64_t)(t[2] - t[1]) * g;
            int64_t fall = (int64_t)(t[3] - t[2]) * g;
            f[GF_RISE] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, rise) };
            f[GF_FLAT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, flat) };
            f[GF_FALL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, fall) };
            f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay) +
                                                                    (int64_t)t[0] * g) };
            return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
        }
        double *w = xmalloc(nn * sizeof *w);
        resample(w, nn, t, v, s->n);
        shape = lbc_add_shape(bd->p, w, (uint32_t)nn);
        free(w);
    } else {
        shape = lbc_add_shape(bd->p, v, s->n);
    }
    f[GF_KIND] = (struct lbc_field){ FK_IMM, GRAD_ARB };
    f[GF_AMP] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, scale * amp / PULSEQ_GAMMA_BAR) };
    f[GF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay)) };
    f[GF_SHAPE] = (struct lbc_field){ FK_SHAPE, shape };
    f[GF_DT] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dt) };
    return lbc_add_tmpl(bd->p, TMPL_GRAD, f);
}

static int32_t make_adc(struct builder *bd, int32_t idx)
{
    struct reader *r = bd->r;
    const struct row *row = &r->adc.r[idx];
    bool v15 = r->ver >= 10500;
    double num = row->v[0], dwell = row->v[1], delay = row->v[2];
    double freq = v15 ? row->v[5] : row->v[3], phase = v15 ? row->v[6] : row->v[4];
    if (!(num >= 1 && num <= 1e9 && num == floor(num))) {
        pq_err(r, 744, row->start, row->end, "an ADC takes a whole number of samples from 1",
             "[ADC] %lld: %g samples", (long long)row->id, num);
        return -1;
    }
    if (!(dwell > 0 && dwell < 1e9) || !sane_us(delay)) {
        pq_err(r, 744, row->start, row->end, "the dwell is in ns (positive), the delay in us",
             "[ADC] %lld: bad dwell or delay", (long long)row->id);
        return -1;
    }
    if (v15 && (row->v[3] != 0 || row->v[4] != 0) && !bd->warned_ppm) {
        bd->warned_ppm = true;
        pq_warn(r, 741, row->start, row->end, "give offsets in Hz and rad for Larmor",
              "frequency and phase offsets in ppm are ignored (they need the field strength)");
    }
    if (v15 && row->v[7] != 0) {
        pq_err(r, 740, row->start, row->end, "Larmor's ADC has a constant phase",
             "[ADC] %lld: ADC phase modulation shapes are not supported", (long long)row->id);
        return -1;
    }
    struct lbc_field f[AF__COUNT];
    memset(f, 0, sizeof f);
    f[AF_SAMPLES] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, num) };
    f[AF_DWELL] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, llround(dwell)) };
    f[AF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(delay)) };
    f[AF_FREQ] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, freq) };
    f[AF_PHASE] = (struct lbc_field){ FK_NUM, lbc_add_num(bd->p, phase) };
    return lbc_add_tmpl(bd->p, TMPL_ADC, f);
}

/* Resolve an event ID of a block row into its table's row index. */
static int32_t lookup(struct builder *bd, const struct blockrow *b, int col, struct table *tb,
                      const char *sec)
{
    int32_t i = pq_idmap_get(&tb->map, b->c[col]);
    if (i < 0 && !tb->present) {
        pq_err(bd->r, 734, b->start, b->end, "add the section, or use 0 for no event",
             "the block names %s %d but the file has no %s section (is it truncated?)", sec,
             b->c[col], sec);
    } else if (i < 0) {
        static const char *const cols[] = { "duration", "RF", "GX", "GY", "GZ", "ADC", "EXT" };
        char help[128];
        snprintf(help, sizeof help, "define %s %d or use 0 for no event", sec, b->c[col]);
        pq_err(bd->r, 733, b->start, b->end, help, "the block's %s column names %s %d, which is "
             "not defined", cols[col], sec, b->c[col]);
    }
    return i;
}

/* Gradient area (Hz/m * s) of a [GRADIENTS]/[TRAP] event id, NAN if unknown. */
static double grad_area(struct reader *r, int32_t id)
{
    int32_t i = pq_idmap_get(&r->trap.map, id);
    if (i >= 0) {
        const double *v = r->trap.r[i].v;
        return v[0] * (v[1] / 2 + v[2] + v[3] / 2) * 1e-6;
    }
    i = pq_idmap_get(&r->grad.map, id);
    if (i < 0)
        return NAN;
    const struct row *row = &r->grad.r[i];
    bool v15 = r->ver >= 10500, v14 = r->ver >= 10400;
    double sid = v15 ? row->v[3] : row->v[1], tid = v15 ? row->v[4] : v14 ? row->v[2] : 0;
    int32_t s = pq_idmap_get(&r->shmap, (int64_t)sid);
    if (s < 0)
        return NAN;
    const double *v = r->vals + r->sh[s].off;
    uint32_t n = r->sh[s].n;
    double a = 0;
    int32_t ts = tid > 0 ? pq_idmap_get(&r->shmap, (int64_t)tid) : -1;
    if (ts >= 0 && r->sh[ts].n == n) {
        const double *t = r->vals + r->sh[ts].off;
        for (uint32_t k = 1; k < n; k++)
            a += (v[k] + v[k - 1]) / 2 * (t[k] - t[k - 1]);
    } else {
        for (uint32_t k = 0; k < n; k++)
            a += v[k];
    }
    return row->v[0] * a * (double)r->graster * 1e-9;
}

/* Whether any block carries a LIN label (LABELSET/LABELINC). */
static bool file_has_lin(struct reader *r)
{
    for (size_t i = 0; i < r->nxs; i++)
        if (r->xs[i].kind == X_LABELSET || r->xs[i].kind == X_LABELINC)
            for (size_t j = 0; j < r->xs[i].n; j++)
                if (r->xs[i].r[j].label == VM_LABEL_LIN)
                    return true;
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* LIN labels from the phase-encode moment: ky at each ADC (the y moment
   since the last excitation, negated by refocusing pulses), on the grid of
   the smallest step between distinct values. Left alone (bd->lin NULL)
   unless it gives a plausible Cartesian grid. */
static void derive_lin(struct builder *bd)
{
    struct reader *r = bd->r;
    if (file_has_lin(r) || (r->o && r->o->no_derive_lin))
        return;
    double *ky = xmalloc((r->nb ? r->nb : 1) * sizeof *ky);
    size_t nadc = 0;
    double k = 0;
    bool ok = true;
    for (size_t i = 0; i < r->nb && ok; i++) {
        const struct blockrow *b = &r->b[i];
        ky[i] = NAN;
        if (b->c[1]) {
            int32_t ri = pq_idmap_get(&r->rf.map, b->c[1]);
            if (ri >= 0) {
                const struct row *row = &r->rf.r[ri];
                bool exc = row->use ? row->use == 'e' : true;
                if (!row->use) {
                    /* older files: a flip below 90.01 degrees excites */
                    int32_t s = pq_idmap_get(&r->shmap, (int64_t)row->v[1]);
                    double sum = 0;
                    if (s >= 0)
                        for (uint32_t j = 0; j < r->sh[s].n; j++)
                            sum += r->vals[r->sh[s].off + j];
                    exc = 360 * fabs(row->v[0] * sum) * (double)r->rraster * 1e-9 < 90.01;
                }
                if (exc)
                    k = 0;
                else if (row->use == 'r' || !row->use)
                    k = -k;
            }
        }
        if (b->c[5])
            ky[i] = k, nadc++;
        if (b->c[3]) {
            double a = grad_area(r, b->c[3]);
            if (isnan(a))
                ok = false;
            k += a;
        }
    }
    if (!ok || nadc < 2) {
        free(ky);
        return;
    }
    double *s = xmalloc(nadc * sizeof *s);
    size_t m = 0;
    double kmax = 0;
    for (size_t i = 0; i < r->nb; i++)
        if (!isnan(ky[i])) {
            s[m++] = ky[i];
            if (fabs(ky[i]) > kmax)
                kmax = fabs(ky[i]);
        }
    qsort(s, m, sizeof *s, cmp_double);
    double tol = 1e-6 * kmax + 1e-9, step = INFINITY;
    size_t ndist = 1;
    for (size_t i = 1; i < m; i++)
        if (s[i] - s[i - 1] > tol) {
            ndist++;
            if (s[i] - s[i - 1] < step)
                step = s[i] - s[i - 1];
        }
    double kmin = s[0], span = s[m - 1] - s[0];
    free(s);
    if (ndist < 2 || !(span / step < 4096)) {
        free(ky);
        return;
    }
    bd->lin = xmalloc(r->nb * sizeof *bd->lin);
    for (size_t i = 0; i < r->nb; i++)
        bd->lin[i] = isnan(ky[i]) ? -1 : (int32_t)llround((ky[i] - kmin) / step);
    free(ky);
}

static void emit_label(struct builder *bd, int label, int inc, double v, const struct lbc_span *sp)
{
    int32_t k = lbc_add_num(bd->p, v);
    lbc_emit(bd->p, OP_LOADF, 0, k, 0, sp);
    lbc_emit(bd->p, OP_LABEL, label, inc, 0, sp);
}

/* Quaternion (w x y z) or matrix (9 values, row-major) to a matrix. */
static void rotation(const struct extrow *e, double m[3][3])
{
    if (e->nv == 9) {
        for (int i = 0; i < 9; i++)
            m[i / 3][i % 3] = e->v[i];
        return;
    }
    double w = e->v[0], x = e->v[1], y = e->v[2], z = e->v[3];
    double n = sqrt(w * w + x * x + y * y + z * z);
    if (n > 0) {
        w /= n;
        x /= n;
        y /= n;
        z /= n;
    }
    m[0][0] = 1 - 2 * (y * y + z * z); m[0][1] = 2 * (x * y - w * z); m[0][2] = 2 * (x * z + w * y);
    m[1][0] = 2 * (x * y + w * z); m[1][1] = 1 - 2 * (x * x + z * z); m[1][2] = 2 * (y * z - w * x);
    m[2][0] = 2 * (x * z - w * y); m[2][1] = 2 * (y * z + w * x); m[2][2] = 1 - 2 * (x * x + y * y);
}

static bool same_trap_timing(const double *a, const double *b)
{
    return a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

/* The span of an event's defining row (checks group an event's
   violations by it). */
static struct lbc_span row_span(struct builder *bd, uint32_t start, uint32_t end)
{
    int line, col;
    diag_linecol(bd->r->d, bd->r->file, start, &line, &col);
    return (struct lbc_span){ bd->file, (uint32_t)line, 1, start, end };
}

static struct lbc_span grad_span(struct builder *bd, bool trap, int32_t idx)
{
    const struct row *row = trap ? &bd->r->trap.r[idx] : &bd->r->grad.r[idx];
    return row_span(bd, row->start, row->end);
}

/* What a block's extension list gives it: its labels (SETs and INCs, the
   INCs marked by nv 2), its trigger and its rotation. */
struct block_ext {
    struct extrow *labels[64];
    int nlabels;
    const struct extrow *trig, *rot;
};

/* One row of a block's extension list into *x. Returns false after an
   error. */
static bool add_extension(struct builder *bd, const struct blockrow *b, const struct row *er,
                          struct block_ext *x)
{
    struct reader *r = bd->r;
    struct extspec *xs = NULL;
    for (size_t i = 0; i < r->nxs; i++)
        if (r->xs[i].type == (int64_t)er->v[0])
            xs = &r->xs[i];
    if (!xs) {
        pq_err(r, 733, er->start, er->end, "add an 'extension NAME TYPE' specification",
             "extension type %g has no specification", er->v[0]);
        return false;
    }
    if (xs->kind == X_UNKNOWN)
        return true;
    int32_t k = pq_idmap_get(&xs->map, (int64_t)er->v[1]);
    if (k < 0) {
        pq_err(r, 733, er->start, er->end, "define the row or fix the reference",
             "%s %g is not defined", xs->name, er->v[1]);
        return false;
    }
    struct extrow *xr = &xs->r[k];
    switch (xs->kind) {
    case X_LABELSET: case X_LABELINC:
        if (x->nlabels < 64) {
            xr->nv = xs->kind == X_LABELINC ? 2 : 1;   /* mark inc */
            x->labels[x->nlabels++] = xr;
        }
        break;
    case X_TRIGGERS:
        if (x->trig) {
            pq_err(r, 740, b->start, b->end, "split the triggers over two blocks",
                 "a block with two triggers (Larmor plays one per block)");
            return false;
        }
        x->trig = xr;
        break;
    case X_DELAYS:
        if (!bd->warned_soft) {
            bd->warned_soft = true;
            pq_warn(r, 742, b->start, b->end, "to change TE or TR, change the "
                  "block durations", "soft delays play at their nominal "
                  "durations in Larmor");
        }
        break;
    case X_ROTATIONS: x->rot = xr; break;
    default: break;
    }
    return true;
}

/* Walk the block's extension list into *x. Returns false after an error. */
static bool read_extensions(struct builder *bd, const struct blockrow *b, struct block_ext *x)
{
    struct reader *r = bd->r;
    memset(x, 0, sizeof *x);
    if (!b->c[6])
        return true;
    if (!r->ext.present) {
        pq_err(r, 734, b->start, b->end, "add the [EXTENSIONS] list or set the column to 0",
             "the block names extension %d but the file has no [EXTENSIONS] section",
             b->c[6]);
        return false;
    }
    int32_t e = lookup(bd, b, 6, &r->ext, "extension");
    size_t steps = 0;
    while (e >= 0) {
        const struct row *er = &r->ext.r[e];
        if (++steps > r->ext.n) {
            pq_err(r, 733, er->start, er->end, "end the list with next ID 0",
                 "the extension list starting at %d loops", b->c[6]);
            return false;
        }
        if (!add_extension(bd, b, er, x))
            return false;
        int64_t next = (int64_t)er->v[2];
        if (!next)
            break;
        e = pq_idmap_get(&r->ext.map, next);
        if (e < 0) {
            pq_err(r, 733, er->start, er->end, "end the list with 0 or define the next row",
                 "extension list row names next %lld, which is not defined",
                 (long long)next);
            return false;
        }
    }
    return !(e < 0 && r->failed);
}

/* The block's event of column col, a row of tb whose template make makes
   once into cache[row], emitted as op at the row's span. Returns the row,
   -1 when the block has none, -2 after an error. */
static int32_t emit_event(struct builder *bd, const struct blockrow *b, int col,
                          struct table *tb, const char *sec, int32_t *cache,
                          int32_t (*make)(struct builder *, int32_t), enum lbc_op op)
{
    if (!b->c[col])
        return -1;
    int32_t i = lookup(bd, b, col, tb, sec);
    if (i < 0)
        return -2;
    if (cache[i] < 0 && (cache[i] = make(bd, i)) < 0)
        return -2;
    struct lbc_span es = row_span(bd, tb->r[i].start, tb->r[i].end);
    lbc_emit(bd->p, op, cache[i], 0, 0, &es);
    return i;
}

/* The block's RF event, if it has one; for a file before 1.4 its end
   raises *content. Returns false after an error. */
static bool emit_rf(struct builder *bd, const struct blockrow *b, bool pre14, int64_t *content)
{
    int32_t i = emit_event(bd, b, 1, &bd->r->rf, "[RF]", bd->rf_t, make_rf, OP_RF);
    if (i == -2)
        return false;
    if (i >= 0 && pre14) {
        const struct lbc_tmpl *t = &bd->p->tmpls[bd->rf_t[i]];
        const struct lbc_field *f = &bd->p->fields[t->off];
        int64_t e = bd->p->times[f[RFF_DELAY].v] + bd->p->times[f[RFF_DT].v] *
                    (int64_t)bd->p->shapes[f[RFF_MAG].v].len;
        if (e > *content)
            *content = e;
    }
    return true;
}

/* A block's gradient on one axis: a [TRAP] or [GRADIENTS] row. */
struct block_grad {
    bool on, trap;
    int32_t idx;
    double amp;
};

/* The block's gradient per axis: [GRADIENTS] and [TRAP] share the ID
   space. Returns false after an error. */
static bool block_grads(struct builder *bd, const struct blockrow *b, struct block_grad *g)
{
    struct reader *r = bd->r;
    memset(g, 0, 3 * sizeof *g);
    for (int a = 0; a < 3; a++) {
        int id = b->c[2 + a];
        if (!id)
            continue;
        int32_t ti = pq_idmap_get(&r->trap.map, id), gi = pq_idmap_get(&r->grad.map, id);
        if (ti < 0 && gi < 0) {
            static const char *const ax[] = { "GX", "GY", "GZ" };
            pq_err(r, 733, b->start, b->end, "define it in [GRADIENTS] or [TRAP], or use 0",
                 "the block's %s column names gradient %d, which is not defined", ax[a], id);
            return false;
        }
        g[a].on = true;
        g[a].trap = ti >= 0;
        g[a].idx = ti >= 0 ? ti : gi;
    }
    return true;
}

/* The block's gradients rotated by rm: one gradient onto the axes, or
   trapezoids of one timing combined per axis. Returns false after an
   error. */
static bool emit_rotated(struct builder *bd, const struct block_grad *g, double rm[3][3],
                         const struct extrow *rot)
{
    struct reader *r = bd->r;
    int non = 0, src = -1;
    bool traps_alike = true;
    for (int a = 0; a < 3; a++)
        if (g[a].on) {
            non++;
            if (src >= 0 && (!g[a].trap || !g[src].trap ||
                             !same_trap_timing(r->trap.r[g[a].idx].v, r->trap.r[g[src].idx].v)))
                traps_alike = false;
            if (src < 0)
                src = a;
        }
    if (non > 1 && !traps_alike) {
        pq_err(r, 740, rot->start, rot->end, "rotate gradients that share one timing, or "
             "write the rotated waveforms out", "this rotation mixes gradients of "
             "different shapes (Larmor rotates one gradient, or trapezoids of one timing)");
        return false;
    }
    if (non == 1) {
        for (int a = 0; a < 3; a++) {
            double s = rm[a][src];
            if (fabs(s) < 1e-12)
                continue;
            int32_t t = make_grad(bd, a, g[src].trap, g[src].idx, s);
            if (t < 0)
                return false;
            struct lbc_span es = grad_span(bd, g[src].trap, g[src].idx);
            lbc_emit(bd->p, OP_GRAD, t, 0, 0, &es);
        }
    } else if (non > 1) {
        for (int a = 0; a < 3; a++) {
            double amp = 0;
            for (int j = 0; j < 3; j++)
                if (g[j].on)
                    amp += rm[a][j] * r->trap.r[g[j].idx].v[0];
            if (fabs(amp) < 1e-9)
                continue;
            double s = amp / r->trap.r[g[src].idx].v[0];
            int32_t t = make_grad(bd, a, true, g[src].idx, s);
            if (t < 0)
                return false;
            struct lbc_span es = grad_span(bd, true, g[src].idx);
            lbc_emit(bd->p, OP_GRAD, t, 0, 0, &es);
        }
    }
    return true;
}

/* The block's gradients, rotated where its extensions say (rot). Returns
   false after an error. */
static bool emit_grads(struct builder *bd, const struct blockrow *b, const struct extrow *rot)
{
    struct reader *r = bd->r;
    struct block_grad g[3];
    if (!block_grads(bd, b, g))
        return false;
    double rm[3][3];
    bool rotate = false;
    if (rot) {
        rotation(rot, rm);
        rotate = fabs(rm[0][0] - 1) > 1e-12 || fabs(rm[1][1] - 1) > 1e-12 ||
                 fabs(rm[2][2] - 1) > 1e-12;
    }
    if (rotate)
        return emit_rotated(bd, g, rm, rot);
    for (int a = 0; a < 3; a++) {
        if (!g[a].on)
            continue;
        int32_t *cache = &bd->grad_t[a][g[a].trap ? r->grad.n + (size_t)g[a].idx :
                                        (size_t)g[a].idx];
        if (*cache < 0 && (*cache = make_grad(bd, a, g[a].trap, g[a].idx, 1)) < 0)
            return false;
        struct lbc_span es = grad_span(bd, g[a].trap, g[a].idx);
        lbc_emit(bd->p, OP_GRAD, *cache, 0, 0, &es);
    }
    return true;
}

/* Raise *content to the end of the gradients that end the code so far
   (a file before 1.4). */
static void raise_to_grads_end(struct builder *bd, int64_t *content)
{
    for (uint32_t pc = bd->p->ncode; pc-- > 0 && bd->p->code[pc].op == OP_GRAD;) {
        const struct lbc_field *f = &bd->p->fields[bd->p->tmpls[bd->p->code[pc].a].off];
        int64_t e = bd->p->times[f[GF_DELAY].v];
        if (f[GF_KIND].v == GRAD_TRAP)
            e += bd->p->times[f[GF_RISE].v] + bd->p->times[f[GF_FLAT].v] +
                 bd->p->times[f[GF_FALL].v];
        else
            e += bd->p->times[f[GF_DT].v] * (int64_t)bd->p->shapes[f[GF_SHAPE].v].len;
        if (e > *content)
            *content = e;
    }
}

/* The block's ADC, if it has one; for a file before 1.4 its end raises
   *content. Returns false after an error. */
static bool emit_adc(struct builder *bd, const struct blockrow *b, bool pre14, int64_t *content)
{
    int32_t i = emit_event(bd, b, 5, &bd->r->adc, "[ADC]", bd->adc_t, make_adc, OP_ADC);
    if (i == -2)
        return false;
    if (i >= 0 && pre14) {
        const double *v = bd->r->adc.r[i].v;
        int64_t e = us2ns(v[2]) + (int64_t)v[0] * llround(v[1]);
        if (e > *content)
            *content = e;
    }
    return true;
}

/* The block's trigger (an extension row); its end raises *content.
   Returns false after an error. */
static bool emit_trig(struct builder *bd, const struct extrow *trig, int64_t *content)
{
    double type = trig->v[0], ch = trig->v[1];
    if (!(type == 1 || type == 2) || !(ch >= 0 && ch <= 15 && ch == floor(ch)) ||
        !sane_us(trig->v[2]) || !sane_us(trig->v[3])) {
        pq_err(bd->r, 744, trig->start, trig->end, "a trigger is: id type(1 output, 2 input) "
             "channel(0-15) delay(us) duration(us)", "bad trigger row");
        return false;
    }
    struct lbc_field f[TF__COUNT];
    memset(f, 0, sizeof f);
    f[TF_CHANNEL] = (struct lbc_field){ FK_IMM, (int32_t)((type - 1) * 16 + ch) };
    f[TF_DELAY] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(trig->v[2])) };
    f[TF_DUR] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, us2ns(trig->v[3])) };
    struct lbc_span es = row_span(bd, trig->start, trig->end);
    lbc_emit(bd->p, OP_TRIG, lbc_add_tmpl(bd->p, TMPL_TRIG, f), 0, 0, &es);
    int64_t e = us2ns(trig->v[2]) + us2ns(trig->v[3]);
    if (e > *content)
        *content = e;
    return true;
}

/* The block's labels: all SETs, then all INCs, then a derived LIN. */
static void emit_labels(struct builder *bd, const struct block_ext *x, size_t bi,
                        const struct lbc_span *sp)
{
    for (int pass = 1; pass <= 2; pass++)
        for (int i = 0; i < x->nlabels; i++) {
            const struct extrow *l = x->labels[i];
            if (l->nv != pass)
                continue;
            if (l->label >= VM_LABEL__COUNT) {
                if (!bd->warned_label[l->label]) {
                    bd->warned_label[l->label] = true;
                    pq_warn(bd->r, 741, l->start, l->end, "Larmor keeps the counters LIN PAR SLC "
                          "ECO REP AVG SET SEG PHS", "label %s is ignored",
                          pq_label_names[l->label]);
                }
                continue;
            }
            emit_label(bd, l->label, pass == 2, l->v[0], sp);
        }
    if (bd->lin && bd->lin[bi] >= 0)
        emit_label(bd, VM_LABEL_LIN, 0, bd->lin[bi], sp);
}

/* The block's duration: its column in block rasters, or (a file before
   1.4) the longer of its content and its [DELAYS] row. Returns false after
   an error. */
static bool block_duration(struct builder *bd, const struct blockrow *b, bool pre14,
                           int64_t content, int64_t *dur)
{
    struct reader *r = bd->r;
    if (!pre14) {
        *dur = (int64_t)b->c[0] * r->braster;
        return true;
    }
    *dur = content;
    if (b->c[0]) {
        int32_t i = lookup(bd, b, 0, &r->delays, "[DELAYS]");
        if (i < 0)
            return false;
        if (!sane_us(r->delays.r[i].v[0])) {
            pq_err(r, 744, r->delays.r[i].start, r->delays.r[i].end, "a delay is a time "
                 "from 0 in us", "bad delay");
            return false;
        }
        int64_t d = us2ns(r->delays.r[i].v[0]);
        if (d > *dur)
            *dur = d;
    }
    return true;
}

/* Emit one block. Returns false after an error. */
static bool emit_block(struct builder *bd, size_t bi)
{
    struct reader *r = bd->r;
    const struct blockrow *b = &r->b[bi];
    int line, col;
    diag_linecol(r->d, r->file, b->start, &line, &col);
    struct lbc_span sp = { bd->file, (uint32_t)line, 1, b->start, b->end };
    bool pre14 = r->ver < 10400;
    /* extensions first: they may rotate the gradients */
    struct block_ext x;
    if (!read_extensions(bd, b, &x))
        return false;
    lbc_emit(bd->p, OP_BEGIN, -1, 0, 0, &sp);
    int64_t content = 0;
    if (!emit_rf(bd, b, pre14, &content) || !emit_grads(bd, b, x.rot))
        return false;
    if (pre14)
        raise_to_grads_end(bd, &content);
    if (!emit_adc(bd, b, pre14, &content) || (x.trig && !emit_trig(bd, x.trig, &content)))
        return false;
    emit_labels(bd, &x, bi, &sp);
    int64_t dur;
    if (!block_duration(bd, b, pre14, content, &dur))
        return false;
    int32_t et = pq_idmap_get(&bd->end_t, dur);
    if (et < 0) {
        struct lbc_field f[EF__COUNT];
        memset(f, 0, sizeof f);
        f[EF_DUR] = (struct lbc_field){ FK_TIME, lbc_add_time(bd->p, dur) };
        et = lbc_add_tmpl(bd->p, TMPL_END, f);
        pq_idmap_put(&bd->end_t, dur, et);
    }
    lbc_emit(bd->p, OP_END, et, 0, 0, &sp);
    return true;
}

static void add_len_param(struct lbc_program *p, const char *name, double v)
{
    struct lbc_param prm;
    memset(&prm, 0, sizeof prm);
    prm.name = lbc_add_string(p, name);
    prm.kind = PARAM_NUM;
    prm.dim[1] = 1;
    prm.f = v;
    lbc_add_param(p, &prm);
}

struct lbc_program *pq_build(struct reader *r)
{
    struct builder bd;
    memset(&bd, 0, sizeof bd);
    bd.r = r;
    struct lbc_program *p = lbc_new();
    bd.p = p;
    bd.file = lbc_add_string(p, r->path);
    p->source = bd.file;
    p->origin = LBC_ORIGIN_PULSEQ;
    p->sys_name = -1;
    p->nregs = 1;
    p->grad_raster = r->graster;
    p->rf_raster = r->rraster;
    p->adc_raster = r->araster;
    p->block_raster = r->braster;
    if (r->have_fov && r->fov[0] > 0) {
        add_len_param(p, "fov", r->fov[0]);
        if (r->fov[1] > 0)
            add_len_param(p, "fov_y", r->fov[1]);
        if (r->fov[2] > 0)
            add_len_param(p, "thickness", r->fov[2]);
    }
    bd.rf_t = xmalloc((r->rf.n + 1) * sizeof(int32_t));
    bd.adc_t = xmalloc((r->adc.n + 1) * sizeof(int32_t));
    for (size_t i = 0; i < r->rf.n; i++)
        bd.rf_t[i] = -1;
    for (size_t i = 0; i < r->adc.n; i++)
        bd.adc_t[i] = -1;
    for (int a = 0; a < 3; a++) {
        bd.grad_t[a] = xmalloc((r->grad.n + r->trap.n + 1) * sizeof(int32_t));
        for (size_t i = 0; i < r->grad.n + r->trap.n; i++)
            bd.grad_t[a][i] = -1;
    }
    derive_lin(&bd);
    if (bd.lin) {
        int lmax = 0;
        for (size_t i = 0; i < r->nb; i++)
            if (bd.lin[i] > lmax)
                lmax = bd.lin[i];
        struct lbc_param prm;
        memset(&prm, 0, sizeof prm);
        prm.name = lbc_add_string(p, "matrix_y");
        prm.kind = PARAM_NUM;
        prm.f = lmax + 1;
        lbc_add_param(p, &prm);
    }
    for (size_t i = 0; i < r->nb && !r->failed; i++)
        if (!emit_block(&bd, i))
            break;
    if (!r->failed) {
        struct lbc_span sp = { bd.file, 0, 0, 0, 0 };
        lbc_emit(p, OP_HALT, 0, 0, 0, &sp);
    }
    free(bd.rf_t);
    free(bd.adc_t);
    for (int a = 0; a < 3; a++)
        free(bd.grad_t[a]);
    free(bd.lin);
    pq_idmap_fini(&bd.end_t);
    if (r->failed) {
        lbc_free(p);
        return NULL;
    }
    char err[256];
    if (lbc_verify(p, err, sizeof err)) {
        pq_err(r, 745, 0, 0, NULL, "the imported program does not verify: %s", err);
        lbc_free(p);
        return NULL;
    }
    return p;
}

