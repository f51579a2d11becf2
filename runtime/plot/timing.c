/*
 * timing: the timing diagram (plot_timing). A backend collects the blocks
 * that overlap the window into thinned series (RF magnitude and phase,
 * one per gradient axis), the ADC windows and the block boundaries; then
 * six rows are drawn on one time axis.
 *
 * RF: |B1| per sample (piecewise constant, as the checks and the simulator
 * take it) and its phase: the pulse's phase, the phase shape, π where the
 * shape is negative, and the frequency offset's 2π·f·t from the pulse's
 * start (the simulator's convention), wrapped to ±180°. Gradients: the
 * piecewise-linear waveform through its corners (runtime/wave/wave.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/plot/canvas.h"
#include "runtime/wave/wave.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/vm.h"

struct adc_win {
    double x0, x1;                 /* time units */
    uint32_t samples;
    int merged;                    /* more than one ADC in this box */
};

struct mark {
    double x;                      /* time units */
    const char *name;              /* NULL: no label */
};

struct collect {
    int64_t from, to;
    double unit;                   /* s per time unit */
    double px_per_unit;
    struct series rf, phase, g[3];
    double rfmax, gmax;            /* T, T/m */
    struct adc_win *adc;
    size_t nadc, capadc;
    struct mark *marks;
    size_t nmarks, capmarks;
    uint64_t nblocks;
    struct wave w;                 /* the gradient being collected */
};

static double tx(const struct collect *c, int64_t t_ns)
{
    return (double)t_ns * 1e-9 / c->unit;
}

static void collect_rf(struct collect *c, const struct vm_block *b)
{
    const struct vm_rf *rf = &b->rf;
    int64_t t0 = b->start_ns + rf->delay_ns;
    series_push(&c->rf, tx(c, t0), 0);
    series_break(&c->phase);
    double prev = NAN;
    for (uint32_t i = 0; i < rf->n; i++) {
        double b1 = rf->amp * rf->mag[i];
        double m = fabs(b1);
        double xa = tx(c, t0 + (int64_t)i * rf->dt_ns), xb = tx(c, t0 + (int64_t)(i + 1) * rf->dt_ns);
        series_push(&c->rf, xa, m * 1e6);
        series_push(&c->rf, xb, m * 1e6);
        if (m > c->rfmax)
            c->rfmax = m;
        double ph = wave_rf_phase(rf, i) + (b1 < 0 ? M_PI : 0);
        ph = remainder(ph, 2 * M_PI) * 180 / M_PI;
        if (ph <= -180)
            ph += 360;
        if (!isnan(prev) && fabs(ph - prev) > 180.5)
            series_break(&c->phase);      /* wrapped */
        series_push(&c->phase, xa, ph);
        series_push(&c->phase, xb, ph);
        prev = ph;
    }
    series_push(&c->rf, tx(c, t0 + rf->dur_ns), 0);
    series_break(&c->phase);
}

static void collect_grad(struct collect *c, const struct vm_block *b, int a)
{
    struct series *s = &c->g[a];
    int64_t end = b->start_ns + b->dur_ns;
    if (!b->has_grad[a]) {
        series_push(s, tx(c, b->start_ns), 0);
        series_push(s, tx(c, end), 0);
        return;
    }
    wave_set(&c->w, &b->grad[a]);
    size_t n = c->w.n;
    double t0 = tx(c, b->start_ns), sc = 1e-9 / c->unit;
    if (!n) {
        series_push(s, t0, 0);
        series_push(s, tx(c, end), 0);
        return;
    }
    const struct wave_pt *p = c->w.p;
    if (p[0].t > 0) {
        series_push(s, t0, 0);
        if (p[0].v != 0)
            series_push(s, t0 + p[0].t * 1e9 * sc, 0);
    }
    for (size_t i = 0; i < n; i++) {
        series_push(s, t0 + p[i].t * 1e9 * sc, p[i].v * 1e3);
        if (fabs(p[i].v) > c->gmax)
            c->gmax = fabs(p[i].v);
    }
    double tl = p[n - 1].t * 1e9;
    if (tl < (double)b->dur_ns) {
        if (p[n - 1].v != 0)
            series_push(s, t0 + tl * sc, 0);
        series_push(s, tx(c, end), 0);
    }
}

static void collect_adc(struct collect *c, const struct vm_block *b)
{
    const struct vm_adc *adc = &b->adc;
    int64_t t0 = b->start_ns + adc->delay_ns;
    double x0 = tx(c, t0), x1 = tx(c, t0 + (int64_t)adc->samples * adc->dwell_ns);
    if (c->nadc && (x0 - c->adc[c->nadc - 1].x1) * c->px_per_unit < 1.5) {
        struct adc_win *w = &c->adc[c->nadc - 1];
        w->x1 = x1;
        w->samples += adc->samples;
        w->merged = 1;
        return;
    }
    struct adc_win w = { x0, x1, adc->samples, 0 };
    VEC_PUSH(c->adc, c->nadc, c->capadc, w);
}

static int tc_block_end(void *ctx, const struct vm_block *b)
{
    struct collect *c = ctx;
    int64_t end = b->start_ns + b->dur_ns;
    if (end < c->from || b->start_ns > c->to || (end == c->from && b->dur_ns > 0))
        return 0;
    c->nblocks++;
    struct mark m = { tx(c, b->start_ns), b->is_delay ? NULL : b->name };
    VEC_PUSH(c->marks, c->nmarks, c->capmarks, m);
    if (b->has_rf)
        collect_rf(c, b);
    for (int a = 0; a < 3; a++)
        collect_grad(c, b, a);
    if (b->has_adc)
        collect_adc(c, b);
    return 0;
}

/* ---------- drawing ---------- */

static void draw_adc(struct canvas *cv, const struct axes *a, const struct collect *c)
{
    cairo_t *cr = cv->cr;
    cv_clip(cv, a);
    for (size_t i = 0; i < c->nadc; i++) {
        const struct adc_win *w = &c->adc[i];
        double x0 = ax_x(a, w->x0), x1 = ax_x(a, w->x1);
        if (x1 - x0 < 1)
            x1 = x0 + 1;
        cairo_set_source_rgba(cr, 0.2, 0.2, 0.2, 0.35);
        cairo_rectangle(cr, x0, a->y0 + a->h * 0.2, x1 - x0, a->h * 0.6);
        cairo_fill_preserve(cr);
        cv_rgb(cv, 0x333333);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        if (!w->merged && x1 - x0 > 70) {
            cv_rgb(cv, 0x000000);
            cv_text(cv, (x0 + x1) / 2, a->y0 + a->h / 2 + 4, CV_CENTRE, 10, "%u samples",
                    w->samples);
        }
    }
    cairo_restore(cr);
}

static void draw_marks(struct canvas *cv, const struct axes *rows, int nrows,
                       const struct collect *c, double label_y)
{
    cairo_t *cr = cv->cr;
    const struct axes *top = &rows[0], *bot = &rows[nrows - 1];
    double last_right = -1e9;
    static const double dash[] = { 3, 3 };
    for (size_t i = 0; i <= c->nmarks; i++) {
        double xv = i < c->nmarks ? c->marks[i].x : tx(c, c->to);
        double x = round(ax_x(top, xv)) + 0.5;
        if (x < top->x0 - 0.5 || x > top->x0 + top->w + 0.5)
            continue;
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1);
        cairo_set_source_rgba(cr, 0.35, 0.35, 0.35, 0.7);
        cairo_move_to(cr, x, top->y0);
        cairo_line_to(cr, x, bot->y0 + bot->h);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        const char *name = i < c->nmarks ? c->marks[i].name : NULL;
        if (name && x > last_right + 4) {
            cairo_set_font_size(cr, 10);
            cairo_text_extents_t e;
            cairo_text_extents(cr, name, &e);
            if (x + 2 + e.x_advance > top->x0 + top->w)
                continue;
            cv_rgb(cv, 0x333333);
            cv_text(cv, x + 2, label_y, CV_LEFT, 10, "%s", name);
            last_right = x + 2 + e.x_advance;
        }
    }
}

static int draw(struct canvas *cv, const struct vm_view *v, const struct system *sys,
                const struct plot_opts *o, struct collect *c, const char *tname)
{
    cairo_t *cr = cv->cr;
    const double L = 92, R = 18, B = 50;
    double T = o->blocks ? 58 : 40;
    bool marks = o->blocks && c->nblocks <= (uint64_t)(cv->w / 3);
    static const double wt[6] = { 1.3, 0.8, 1, 1, 1, 0.45 };
    static const char *ylab[6] = { "|B1| (\xc2\xb5T)", "RF phase (\xc2\xb0)", "Gx (mT/m)",
                                   "Gy (mT/m)", "Gz (mT/m)", "ADC" };
    static const unsigned col[5] = { 0xc0392b, 0x8e44ad, 0x1f77b4, 0x2ca02c, 0xe67e22 };
    double gap = 10, sum = 0;
    for (int i = 0; i < 6; i++)
        sum += wt[i];
    double avail = cv->h - T - B - 5 * gap;
    struct axes rows[6];
    double y = T;
    double gm = c->gmax > 0 ? c->gmax * 1e3 * 1.1 : 1;
    double rm = c->rfmax > 0 ? c->rfmax * 1e6 * 1.1 : 1;
    for (int i = 0; i < 6; i++) {
        struct axes *a = &rows[i];
        memset(a, 0, sizeof *a);
        a->x0 = L;
        a->w = cv->w - L - R;
        a->y0 = y;
        a->h = avail * wt[i] / sum;
        a->xmin = tx(c, c->from);
        a->xmax = tx(c, c->to);
        y += a->h + gap;
    }
    rows[0].ymin = 0, rows[0].ymax = rm;
    rows[1].ymin = -200, rows[1].ymax = 200, rows[1].ystep = 90;
    for (int i = 2; i < 5; i++)
        rows[i].ymin = -gm, rows[i].ymax = gm;
    rows[5].ymin = 0, rows[5].ymax = 1, rows[5].no_yticks = true;

    /* title */
    char win[160], a[48], b[48];
    units_format((double)c->from * 1e-9, DIM_TIME, a, sizeof a);
    units_format((double)c->to * 1e-9, DIM_TIME, b, sizeof b);
    if (o->rep >= 0)
        snprintf(win, sizeof win, "repetition %lld, %s to %s", (long long)o->rep, a, b);
    else
        snprintf(win, sizeof win, "%s to %s", a, b);
    cv_rgb(cv, 0x000000);
    cv_text(cv, L, 24, CV_LEFT, 15, "%s", tname);
    cv_rgb(cv, 0x555555);
    cv_text(cv, cv->w - R, 24, CV_RIGHT, 12, "%s  \xc2\xb7  system %s%s", win,
            sys ? sys->name : v->sys_name ? v->sys_name : "?",
            o->blocks && !marks ? "  \xc2\xb7  too many blocks to mark" : "");

    const char *uname;
    double us;
    time_unit(c->to - c->from, &us, &uname);
    char xl[32];
    snprintf(xl, sizeof xl, "time (%s)", uname);
    for (int i = 0; i < 6; i++)
        cv_axes(cv, &rows[i], i == 5 ? xl : NULL, ylab[i], i != 5);
    cairo_set_line_width(cr, 1.3);
    struct series *ser[5] = { &c->rf, &c->phase, &c->g[0], &c->g[1], &c->g[2] };
    for (int i = 0; i < 5; i++) {
        cv_clip(cv, &rows[i]);
        cv_rgb(cv, col[i]);
        series_stroke(cv, &rows[i], ser[i]);
        cairo_restore(cr);
    }
    draw_adc(cv, &rows[5], c);
    if (marks)
        draw_marks(cv, rows, 6, c, T - 6);
    return 0;
}

int plot_timing(const struct lbc_program *p, const struct system *sys, const struct plot_opts *o,
                const char *path, char *err, size_t errlen)
{
    int64_t from, to, total;
    if (plot_prepare(p, o, path, &from, &to, &total, err, errlen) != 0)
        return -1;
    struct collect c;
    memset(&c, 0, sizeof c);
    c.from = from;
    c.to = to;
    const char *uname;
    time_unit(to - from, &c.unit, &uname);
    int w = o->width ? o->width : PLOT_TIMING_W, h = o->height ? o->height : PLOT_TIMING_H;
    double span = tx(&c, to) - tx(&c, from);
    c.px_per_unit = (w - 110) / span;
    for (int i = 0; i < 5; i++)
        series_init(i == 0 ? &c.rf : i == 1 ? &c.phase : &c.g[i - 2], c.px_per_unit, tx(&c, from));
    struct vm_backend be;
    memset(&be, 0, sizeof be);
    be.ctx = &c;
    be.block_end = tc_block_end;
    int rc = -1;
    struct canvas cv;
    if (plot_run(p, &be, NULL, err, errlen) != 0)
        goto out;
    series_finish(&c.rf);
    series_finish(&c.phase);
    for (int a = 0; a < 3; a++)
        series_finish(&c.g[a]);
    if (cv_open(&cv, path, w, h, err, errlen) != 0)
        goto out;
    struct vm_view v;
    vm_view_init(&v, p);
    draw(&cv, &v, sys, o, &c, o->title ? o->title : v.source);
    rc = cv_close(&cv, err, errlen);
out:
    series_fini(&c.rf);
    series_fini(&c.phase);
    for (int a = 0; a < 3; a++)
        series_fini(&c.g[a]);
    free(c.adc);
    free(c.marks);
    wave_fini(&c.w);
    return rc;
}
