/*
 * canvas: see canvas.h.
 */
#include "runtime/plot/canvas.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#if CAIRO_HAS_FC_FONT
#include <fontconfig/fontconfig.h>
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "runtime/trace/trace.h"
#include "base/units.h"
#include "base/util.h"
#include "vm/vm.h"

int plot_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return -1;
    if (!strcasecmp(dot, ".png"))
        return PLOT_PNG;
    if (!strcasecmp(dot, ".svg"))
        return PLOT_SVG;
    if (!strcasecmp(dot, ".pdf"))
        return PLOT_PDF;
    return -1;
}

void plot_cleanup(void)
{
    cairo_debug_reset_static_data();
#if CAIRO_HAS_FC_FONT
    FcFini();
#endif
}

void plot_opts_init(struct plot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->to_ns = -1;
    o->rep = -1;
}

/* ---------- surfaces ---------- */

static cairo_status_t write_stream(void *closure, const unsigned char *data, unsigned int n)
{
    struct outfile *o = closure;
    outfile_write(o, data, n);
    return o->werr ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

int cv_open(struct canvas *c, const char *path, int w, int h, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int fmt = plot_format_of(path);
    if (fmt < 0) {
        snprintf(err, errlen, "%s: the file name must end in .png, .svg or .pdf (it picks "
                 "the format)", path);
        return -1;
    }
    if (w < 16 || h < 16 || w > 16384 || h > 16384) {
        snprintf(err, errlen, "%s: a picture of %d x %d is outside 16 .. 16384 on a side",
                 path, w, h);
        return -1;
    }
    c->fmt = (enum plot_format)fmt;
    c->w = w;
    c->h = h;
    /* the temporary is made now for every format, so that an unwritable
       folder is reported before any drawing */
    if (outfile_open(&c->out, path, err, errlen) != 0) {
        memset(c, 0, sizeof *c);
        return -1;
    }
    c->path = xstrdup(path);
    switch (c->fmt) {
    case PLOT_PNG:
        c->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        break;
    case PLOT_SVG:
        c->surf = cairo_svg_surface_create_for_stream(write_stream, &c->out, w, h);
        break;
    case PLOT_PDF:
        c->surf = cairo_pdf_surface_create_for_stream(write_stream, &c->out, w, h);
        break;
    }
    c->cr = cairo_create(c->surf);
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
    return 0;
}

void cv_abort(struct canvas *c)
{
    if (c->cr)
        cairo_destroy(c->cr);
    if (c->surf) {
        cairo_surface_finish(c->surf);
        cairo_surface_destroy(c->surf);
    }
    outfile_abort(&c->out);
    free(c->path);
    memset(c, 0, sizeof *c);
}

int cv_close(struct canvas *c, char *err, size_t errlen)
{
    int rc = 0;
    cairo_status_t st = cairo_status(c->cr);
    cairo_destroy(c->cr);
    if (c->fmt == PLOT_PNG && st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_write_to_png_stream(c->surf, write_stream, &c->out);
    cairo_surface_finish(c->surf);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(c->surf);
    cairo_surface_destroy(c->surf);
    c->surf = NULL;
    if (st != CAIRO_STATUS_SUCCESS && !c->out.werr) {
        /* a drawing error (a failed write is the outfile's to report) */
        snprintf(err, errlen, "%s: cannot draw the picture: %s", c->path,
                 cairo_status_to_string(st));
        outfile_abort(&c->out);
        rc = -1;
    } else {
        rc = outfile_commit(&c->out, err, errlen);
    }
    free(c->path);
    memset(c, 0, sizeof *c);
    return rc;
}

/* ---------- text and colour ---------- */

void cv_rgb(struct canvas *c, unsigned rgb)
{
    cairo_set_source_rgb(c->cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
                         (rgb & 255) / 255.0);
}

void cv_text(struct canvas *c, double x, double y, enum cv_align align, double size,
             const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cairo_set_font_size(c->cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(c->cr, buf, &e);
    double dx = align == CV_LEFT ? 0 : align == CV_CENTRE ? -e.x_advance / 2 : -e.x_advance;
    cairo_move_to(c->cr, x + dx, y);
    cairo_show_text(c->cr, buf);
}

void cv_text_up(struct canvas *c, double x, double y, double size, const char *s)
{
    cairo_save(c->cr);
    cairo_set_font_size(c->cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(c->cr, s, &e);
    cairo_translate(c->cr, x, y);
    cairo_rotate(c->cr, -M_PI / 2);
    cairo_move_to(c->cr, -e.x_advance / 2, 0);
    cairo_show_text(c->cr, s);
    cairo_restore(c->cr);
}

/* ---------- axes ---------- */

void cv_ticks(double lo, double hi, int n, double *first, double *step)
{
    double span = hi - lo;
    if (!(span > 0) || !isfinite(span)) {
        *first = lo;
        *step = 1;
        return;
    }
    double raw = span / (n > 0 ? n : 1);
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    double s = m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10;
    *step = s * p;
    *first = ceil(lo / *step - 1e-9) * *step;
}

/* A tick value with as many decimals as the step needs. */
static void tick_label(char *buf, size_t n, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, n, "%.*f", dec > 9 ? 9 : dec, v);
}

void cv_axes(struct canvas *c, const struct axes *a, const char *xlabel, const char *ylabel,
             bool ygrid)
{
    cairo_t *cr = c->cr;
    double first, step;
    char buf[64];
    cairo_set_line_width(cr, 1);
    /* x grid and labels */
    cv_ticks(a->xmin, a->xmax, (int)(a->w / 90) + 1, &first, &step);
    for (double v = first; v <= a->xmax + step * 1e-9; v += step) {
        double x = round(ax_x(a, v)) + 0.5;
        cv_rgb(c, 0xe4e4e4);
        cairo_move_to(cr, x, a->y0);
        cairo_line_to(cr, x, a->y0 + a->h);
        cairo_stroke(cr);
        if (xlabel) {
            cv_rgb(c, 0x333333);
            tick_label(buf, sizeof buf, v, step);
            cv_text(c, x, a->y0 + a->h + 15, CV_CENTRE, 11, "%s", buf);
        }
    }
    if (xlabel) {
        cv_rgb(c, 0x000000);
        cv_text(c, a->x0 + a->w / 2, a->y0 + a->h + 33, CV_CENTRE, 12, "%s", xlabel);
    }
    /* y grid and labels */
    int ny = (int)(a->h / 35);
    cv_ticks(a->ymin, a->ymax, ny < 2 ? 2 : ny, &first, &step);
    if (a->ystep > 0) {
        step = a->ystep;
        first = ceil(a->ymin / step - 1e-9) * step;
    }
    for (double v = first; !a->no_yticks && v <= a->ymax + step * 1e-9; v += step) {
        double y = round(ax_y(a, v)) + 0.5;
        if (ygrid) {
            cv_rgb(c, fabs(v) < step * 1e-6 ? 0xb0b0b0 : 0xe4e4e4);
            cairo_move_to(cr, a->x0, y);
            cairo_line_to(cr, a->x0 + a->w, y);
            cairo_stroke(cr);
        }
        cv_rgb(c, 0x333333);
        tick_label(buf, sizeof buf, v, step);
        cv_text(c, a->x0 - 5, y + 4, CV_RIGHT, 10, "%s", buf);
    }
    if (ylabel) {
        cv_rgb(c, 0x000000);
        cv_text_up(c, a->x0 - 48, a->y0 + a->h / 2, 12, ylabel);
    }
    cv_rgb(c, 0x606060);
    cairo_rectangle(cr, round(a->x0) + 0.5, round(a->y0) + 0.5, round(a->w), round(a->h));
    cairo_stroke(cr);
}

void cv_clip(struct canvas *c, const struct axes *a)
{
    cairo_save(c->cr);
    cairo_rectangle(c->cr, a->x0, a->y0, a->w, a->h);
    cairo_clip(c->cr);
}

/* ---------- thinned series ---------- */

void series_init(struct series *s, double px_per_unit, double origin)
{
    memset(s, 0, sizeof *s);
    s->scale = 2 * px_per_unit;      /* columns of half a pixel */
    s->origin = origin;
}

void series_fini(struct series *s)
{
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

static void put(struct series *s, double x, double y)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->x = xrealloc(s->x, s->cap * sizeof *s->x);
        s->y = xrealloc(s->y, s->cap * sizeof *s->y);
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

/* Emit the pending column: first, then the extremes in time order, then
   last, each once. */
static void flush(struct series *s)
{
    if (!s->open)
        return;
    s->open = false;
    const double *q[4] = { s->pf, s->pmin, s->pmax, s->pl };
    if (s->pmax[0] < s->pmin[0]) {
        q[1] = s->pmax;
        q[2] = s->pmin;
    }
    const double *last = NULL;
    for (int i = 0; i < 4; i++) {
        if (s->pcount <= 2 && (i == 1 || i == 2))
            continue;
        if (last && last[0] == q[i][0] && last[1] == q[i][1])
            continue;
        put(s, q[i][0], q[i][1]);
        last = q[i];
    }
}

void series_push(struct series *s, double x, double y)
{
    if (isnan(y)) {
        series_break(s);
        return;
    }
    double cf = floor((x - s->origin) * s->scale);
    long col = cf < -1e15 ? -1000000000L : cf > 1e15 ? 1000000000L : (long)cf;
    if (s->open && col == s->col) {
        if (y < s->pmin[1])
            s->pmin[0] = x, s->pmin[1] = y;
        if (y > s->pmax[1])
            s->pmax[0] = x, s->pmax[1] = y;
        s->pl[0] = x;
        s->pl[1] = y;
        s->pcount++;
        return;
    }
    flush(s);
    s->open = true;
    s->col = col;
    s->pf[0] = s->pmin[0] = s->pmax[0] = s->pl[0] = x;
    s->pf[1] = s->pmin[1] = s->pmax[1] = s->pl[1] = y;
    s->pcount = 1;
}

void series_break(struct series *s)
{
    flush(s);
    if (s->n && !isnan(s->y[s->n - 1]))
        put(s, s->x[s->n - 1], NAN);
}

void series_finish(struct series *s)
{
    flush(s);
}

void series_stroke(struct canvas *c, const struct axes *a, const struct series *s)
{
    bool down = false;
    for (size_t i = 0; i < s->n; i++) {
        if (isnan(s->y[i])) {
            down = false;
            continue;
        }
        double x = ax_x(a, s->x[i]), y = ax_y(a, s->y[i]);
        if (down)
            cairo_line_to(c->cr, x, y);
        else
            cairo_move_to(c->cr, x, y);
        down = true;
    }
    cairo_stroke(c->cr);
}

/* ---------- the time window ---------- */

struct window_pass {
    struct trace_reps reps;
    int64_t rep;                   /* wanted, or -1 */
    bool seen;
    int64_t first, last;           /* of the wanted repetition */
    uint64_t nreps;
};

static int wp_block_start(void *ctx, const struct vm_block *b)
{
    struct window_pass *w = ctx;
    if (!b->is_delay)
        trace_count_rep(&w->reps, b);
    w->nreps = w->reps.rep + 1;
    if (w->rep >= 0 && w->reps.rep == (uint64_t)w->rep) {
        if (!w->seen)
            w->first = b->start_ns;
        w->seen = true;
        w->last = b->start_ns + b->dur_ns;
    }
    return 0;
}

void time_unit(int64_t span_ns, double *scale, const char **name)
{
    if (span_ns < 2000000000LL) {
        *scale = 1e-3;
        *name = "ms";
    } else {
        *scale = 1;
        *name = "s";
    }
}

int plot_run(const struct lbc_program *p, const struct vm_backend *be, int64_t *total,
             char *err, size_t errlen)
{
    struct vm_opts vo = { NULL, NULL, 0 };
    if (vm_run(p, be, &vo, total) != 0) {
        snprintf(err, errlen, "the program stops with a run-time error (larmor trace shows "
                 "where)");
        return -1;
    }
    return 0;
}

int plot_window(const struct lbc_program *p, const struct plot_opts *o, int64_t *from,
                int64_t *to, int64_t *total, char *err, size_t errlen)
{
    struct window_pass w;
    memset(&w, 0, sizeof w);
    w.rep = o->rep;
    struct vm_backend be;
    memset(&be, 0, sizeof be);
    be.ctx = &w;
    be.block_start = wp_block_start;
    if (plot_run(p, &be, total, err, errlen) != 0)
        return -1;
    char a[48], b[48];
    if (o->rep >= 0) {
        if (!w.seen) {
            if (w.nreps)
                snprintf(err, errlen, "--rep %lld is out of range: the sequence has %llu "
                         "repetition%s (0 to %llu)", (long long)o->rep,
                         (unsigned long long)w.nreps, w.nreps == 1 ? "" : "s",
                         (unsigned long long)w.nreps - 1);
            else
                snprintf(err, errlen, "--rep %lld is out of range: the sequence has no "
                         "blocks", (long long)o->rep);
            return -1;
        }
        *from = w.first;
        *to = w.last;
        return 0;
    }
    units_format((double)o->from_ns * 1e-9, DIM_TIME, a, sizeof a);
    units_format((double)*total * 1e-9, DIM_TIME, b, sizeof b);
    if (o->from_ns < 0) {
        snprintf(err, errlen, "--from %s is before the start of the sequence (0 s)", a);
        return -1;
    }
    if (o->from_ns >= *total && *total > 0) {
        snprintf(err, errlen, "--from %s is not before the end of the sequence (%s)", a, b);
        return -1;
    }
    *from = o->from_ns;
    *to = o->to_ns < 0 || o->to_ns > *total ? *total : o->to_ns;
    if (o->to_ns >= 0 && o->to_ns <= o->from_ns) {
        units_format((double)o->to_ns * 1e-9, DIM_TIME, b, sizeof b);
        snprintf(err, errlen, "--to %s is not after --from %s", b, a);
        return -1;
    }
    if (*to <= *from) {
        snprintf(err, errlen, "the sequence has no duration to plot");
        return -1;
    }
    return 0;
}

int plot_check_path(const char *path, char *err, size_t errlen)
{
    if (plot_format_of(path) >= 0)
        return 0;
    snprintf(err, errlen, "%s: the file name must end in .png, .svg or .pdf (it picks the "
             "format)", path);
    return -1;
}

int plot_prepare(const struct lbc_program *p, const struct plot_opts *o, const char *path,
                 int64_t *from, int64_t *to, int64_t *total, char *err, size_t errlen)
{
    if (plot_check_path(path, err, errlen) != 0)
        return -1;
    return plot_window(p, o, from, to, total, err, errlen);
}
