/*
 * safety: SAR and PNS over time (plot_safety), from a run of the check
 * backend itself, so that the curves are the model `larmor check` reports:
 * check_sar_timeline gives the SAR of the window ending at each time (its
 * breakpoints: the curve is exact), check_set_pns_hook the PNS level at
 * every ramp start and end (joined by straight lines; the peaks, at ramp
 * ends, are exact; past the check's 20 ms history the level is drawn as
 * 0). Each panel shows its limits as dashed lines.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/check/check.h"
#include "runtime/plot/canvas.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/vm.h"

static const unsigned region_colour[SAR__COUNT] = { 0x1f77b4, 0xc0392b, 0x2ca02c };

struct pns_collect {
    struct series s;
    double unit;
    int64_t last;                  /* time of the last point, -1 before the first */
};

/* A point of the PNS timeline. Past the check's history (older ramps are
   dropped from the convolution) the level is taken as 0, so that a long
   gap between ramps shows the decay instead of a slow slope. */
static void on_pns(void *ctx, int64_t t_ns, double level)
{
    struct pns_collect *pc = ctx;
    int64_t h = (int64_t)(CHECK_PNS_HISTORY_S * 1e9);
    if (pc->last >= 0 && t_ns - pc->last > h)
        series_push(&pc->s, (double)(pc->last + h) * 1e-9 / pc->unit, 0);
    series_push(&pc->s, (double)t_ns * 1e-9 / pc->unit, level * 100);
    pc->last = t_ns;
}

static void limit_line(struct canvas *cv, const struct axes *a, double v, unsigned rgb,
                       const char *fmt, double shown)
{
    static const double dash[] = { 6, 4 };
    double y = round(ax_y(a, v)) + 0.5;
    cv_rgb(cv, rgb);
    cairo_set_line_width(cv->cr, 1.2);
    cairo_set_dash(cv->cr, dash, 2, 0);
    cairo_move_to(cv->cr, a->x0, y);
    cairo_line_to(cv->cr, a->x0 + a->w, y);
    cairo_stroke(cv->cr);
    cairo_set_dash(cv->cr, NULL, 0, 0);
    cv_text(cv, a->x0 + a->w - 4, y - 4, CV_RIGHT, 10, fmt, shown);
}

static struct axes panel(const struct canvas *cv, int i, int n, double xmin, double xmax)
{
    const double L = 92, R = 18, T = 62, B = 50, gap = 56;
    struct axes a;
    memset(&a, 0, sizeof a);
    double h = (cv->h - T - B - gap * (n - 1)) / n;
    a.x0 = L;
    a.w = cv->w - L - R;
    a.y0 = T + i * (h + gap);
    a.h = h;
    a.xmin = xmin;
    a.xmax = xmax;
    return a;
}

/* One SAR panel: window k (0: 10 s, 1: 6 min), every region that is on. */
static void sar_panel(struct canvas *cv, const struct axes *a0, const struct check *ck,
                      const struct system *sys, int k, double unit, const char *xl)
{
    struct axes a = *a0;
    const struct check_summary *sum = check_get_summary(ck);
    struct series s[SAR__COUNT];
    double top = 0;
    for (int r = 0; r < SAR__COUNT; r++) {
        series_init(&s[r], a.w / (a.xmax - a.xmin), a.xmin);
        if (!sys->sar_region_on[r])
            continue;
        size_t n;
        struct check_tl_point *v = check_sar_timeline(ck, r, k, &n);
        for (size_t i = 0; i < n; i++)
            series_push(&s[r], (double)v[i].t_ns * 1e-9 / unit, v[i].v);
        series_finish(&s[r]);
        free(v);
        double lim = system_sar_limit(sys, (enum sar_region)r) * (k == 0 ? 2 : 1);
        top = fmax(top, fmax(lim, sum->sar[r][k]));
    }
    a.ymin = 0;
    a.ymax = top > 0 ? top * 1.12 : 1;
    char yl[64];
    snprintf(yl, sizeof yl, "SAR %s (W/kg)", k == 0 ? "10 s" : "6 min");
    cv_axes(cv, &a, xl, yl, true);
    cv_clip(cv, &a);
    for (int r = 0; r < SAR__COUNT; r++) {
        if (!sys->sar_region_on[r])
            continue;
        char fmt[96];
        double lim = system_sar_limit(sys, (enum sar_region)r) * (k == 0 ? 2 : 1);
        snprintf(fmt, sizeof fmt, "%s limit %%.3g W/kg", system_region_name((enum sar_region)r));
        limit_line(cv, &a, lim, region_colour[r], fmt, lim);
        cv_rgb(cv, region_colour[r]);
        cairo_set_line_width(cv->cr, 1.5);
        series_stroke(cv, &a, &s[r]);
    }
    cairo_restore(cv->cr);
    /* legend above the panel */
    double x = a.x0;
    for (int r = 0; r < SAR__COUNT; r++) {
        if (!sys->sar_region_on[r])
            continue;
        double lim = system_sar_limit(sys, (enum sar_region)r) * (k == 0 ? 2 : 1);
        char ts[48];
        units_format((double)sum->sar_at_ns[k] * 1e-9, DIM_TIME, ts, sizeof ts);
        cv_rgb(cv, region_colour[r]);
        cairo_set_font_size(cv->cr, 11);
        char buf[160];
        snprintf(buf, sizeof buf, "%s: peak %.3g W/kg (%.1f%% of the limit), window from %s",
                 system_region_name((enum sar_region)r), sum->sar[r][k],
                 lim > 0 ? 100 * sum->sar[r][k] / lim : 0, ts);
        cv_text(cv, x, a.y0 - 8, CV_LEFT, 11, "%s", buf);
        cairo_text_extents_t e;
        cairo_text_extents(cv->cr, buf, &e);
        x += e.x_advance + 18;
        series_fini(&s[r]);
    }
}

static void pns_panel(struct canvas *cv, const struct axes *a0, const struct check *ck,
                      const struct system *sys, const struct series *s, const char *xl)
{
    struct axes a = *a0;
    const struct check_summary *sum = check_get_summary(ck);
    double lim = system_pns_limit(sys) * 100, peak = sum->pns.value * 100;
    a.ymin = 0;
    a.ymax = fmax(lim, peak) * 1.12;
    if (!(a.ymax > 0))
        a.ymax = 100;
    cv_axes(cv, &a, xl, "PNS (% of threshold)", true);
    cv_clip(cv, &a);
    char fmt[96];
    snprintf(fmt, sizeof fmt, "%s mode limit %%.0f%%%%", system_mode_name(sys->mode));
    limit_line(cv, &a, lim, 0xc0392b, fmt, lim);
    cv_rgb(cv, 0x1f77b4);
    cairo_set_line_width(cv->cr, 1.2);
    series_stroke(cv, &a, s);
    cairo_restore(cv->cr);
    char ts[48];
    units_format((double)sum->pns.time_ns * 1e-9, DIM_TIME, ts, sizeof ts);
    cv_rgb(cv, 0x1f77b4);
    cv_text(cv, a.x0, a.y0 - 8, CV_LEFT, 11, "PNS level (IEC 60601-2-33 nerve-response model): "
            "peak %.1f%% at t = %s (x %.1f%% y %.1f%% z %.1f%%), %.1f%% of the limit", peak, ts,
            sum->pns_axis[0] * 100, sum->pns_axis[1] * 100, sum->pns_axis[2] * 100,
            lim > 0 ? 100 * peak / lim : 0);
}

int plot_safety(const struct lbc_program *p, const struct system *sys, unsigned what,
                const struct plot_opts *o, const char *path, char *err, size_t errlen)
{
    int64_t from, to, total;
    if (plot_check_path(path, err, errlen) != 0)
        return -1;
    if (!(what & (PLOT_SAR | PLOT_PNS))) {
        snprintf(err, errlen, "nothing to plot: ask for SAR, PNS or both");
        return -1;
    }
    if (plot_window(p, o, &from, &to, &total, err, errlen) != 0)
        return -1;
    int npanels = (what & PLOT_SAR ? 2 : 0) + (what & PLOT_PNS ? 1 : 0);
    int w = o->width ? o->width : PLOT_SAFETY_W;
    int h = o->height ? o->height : PLOT_SAFETY_H * npanels;
    double unit;
    const char *uname;
    time_unit(to - from, &unit, &uname);
    double xmin = (double)from * 1e-9 / unit, xmax = (double)to * 1e-9 / unit;
    struct pns_collect pc;
    pc.unit = unit;
    pc.last = -1;
    series_init(&pc.s, (w - 110) / (xmax - xmin), xmin);
    struct check *ck = check_new(sys);
    if (what & PLOT_PNS)
        check_set_pns_hook(ck, on_pns, &pc);
    struct vm_backend be;
    check_backend(ck, &be);
    int rc = -1;
    if (plot_run(p, &be, NULL, err, errlen) != 0)
        goto out;
    series_finish(&pc.s);
    struct canvas cv;
    if (cv_open(&cv, path, w, h, err, errlen) != 0)
        goto out;
    char xl[32];
    snprintf(xl, sizeof xl, "time (%s)", uname);
    cv_rgb(&cv, 0x000000);
    struct vm_view v;
    vm_view_init(&v, p);
    cv_text(&cv, 92, 22, CV_LEFT, 15, "%s", o->title ? o->title : v.source);
    char tot[48];
    units_format((double)total * 1e-9, DIM_TIME, tot, sizeof tot);
    cv_rgb(&cv, 0x555555);
    cv_text(&cv, w - 18, 22, CV_RIGHT, 11, "system %s, %s mode; the sequence (%s) runs once, "
            "no RF before or after it", sys->name, system_mode_name(sys->mode), tot);
    int i = 0;
    if (what & PLOT_SAR) {
        for (int k = 0; k < 2; k++, i++) {
            struct axes a = panel(&cv, i, npanels, xmin, xmax);
            sar_panel(&cv, &a, ck, sys, k, unit, xl);
        }
    }
    if (what & PLOT_PNS) {
        struct axes a = panel(&cv, i, npanels, xmin, xmax);
        pns_panel(&cv, &a, ck, sys, &pc.s, xl);
    }
    rc = cv_close(&cv, err, errlen);
out:
    series_fini(&pc.s);
    check_free(ck);
    return rc;
}
