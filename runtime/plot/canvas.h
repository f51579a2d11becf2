/*
 * canvas: what the plots share (internal to runtime/plot/): a cairo
 * surface chosen by the file's extension and written through a temporary
 * file, axes with ticks and unit labels, series that thin themselves to a
 * few points per pixel column, and the program's time window.
 */
#ifndef LARMOR_PLOT_CANVAS_H
#define LARMOR_PLOT_CANVAS_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/outfile.h"
#include "runtime/plot/plot.h"
#include "vm/backend.h"

struct canvas {
    cairo_surface_t *surf;
    cairo_t *cr;
    int w, h;
    enum plot_format fmt;
    char *path;
    struct outfile out;            /* the temporary file (base/outfile) */
};

/* Open a w × h canvas for path (format by extension); white background. */
int cv_open(struct canvas *c, const char *path, int w, int h, char *err, size_t errlen);
/* Finish and write the file (rename from the temporary); also on error
   the canvas is released. */
int cv_close(struct canvas *c, char *err, size_t errlen);
/* Release without writing (after an error). */
void cv_abort(struct canvas *c);

enum cv_align { CV_LEFT, CV_CENTRE, CV_RIGHT };
/* Text with its baseline at y; align is horizontal. */
void cv_text(struct canvas *c, double x, double y, enum cv_align align, double size,
             const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Text turned 90° counter-clockwise, centred on (x, y). */
void cv_text_up(struct canvas *c, double x, double y, double size, const char *s);
void cv_rgb(struct canvas *c, unsigned rgb);

/* A panel: a device rectangle and the data range it shows. */
struct axes {
    double x0, y0, w, h;           /* device, y0 the top */
    double xmin, xmax, ymin, ymax;
    double ystep;                  /* y tick step; 0: chosen from the range */
    bool no_yticks;
};

static inline double ax_x(const struct axes *a, double x)
{
    return a->x0 + (x - a->xmin) / (a->xmax - a->xmin) * a->w;
}

static inline double ax_y(const struct axes *a, double y)
{
    return a->y0 + a->h - (y - a->ymin) / (a->ymax - a->ymin) * a->h;
}

/* Ticks at 1, 2 or 5 times a power of ten, about n of them over
   [lo, hi]: the first tick and the step. */
void cv_ticks(double lo, double hi, int n, double *first, double *step);
/* The frame, grid lines and tick labels of a panel; the labels of the x
   axis only when xlabel is not NULL, ylabel beside the y axis. */
void cv_axes(struct canvas *c, const struct axes *a, const char *xlabel, const char *ylabel,
             bool ygrid);
/* Clip to the panel (cairo_save first; cairo_restore after drawing). */
void cv_clip(struct canvas *c, const struct axes *a);

/* A series of (x, y) in data units, thinned as it grows: within one
   column of half a device pixel only the first, lowest, highest and last
   points are kept, so a series of millions of points draws (and writes
   to SVG or PDF) as a few per column, and one with fewer points than
   columns is kept whole. y = NAN breaks the line. */
struct series {
    double *x, *y;
    size_t n, cap;
    double scale, origin;          /* column = floor((x - origin) * scale) */
    bool open;                     /* a column is pending */
    long col;
    double pf[2], pmin[2], pmax[2], pl[2];
    size_t pcount;
};

/* px_per_unit: device pixels per x unit; origin: x at the panel's left. */
void series_init(struct series *s, double px_per_unit, double origin);
void series_fini(struct series *s);
void series_push(struct series *s, double x, double y);
void series_break(struct series *s);
/* Flush the pending column (before reading s->x, s->y). */
void series_finish(struct series *s);
/* Stroke the series (finished) in the panel's coordinates. */
void series_stroke(struct canvas *c, const struct axes *a, const struct series *s);

/* The time window of o in program p: [*from, *to] in ns, and the total
   duration; resolves a repetition by a pass of the VM. -1 with a message
   when the window is empty or past the end, or the repetition does not
   exist. */
int plot_window(const struct lbc_program *p, const struct plot_opts *o, int64_t *from,
                int64_t *to, int64_t *total, char *err, size_t errlen);

/* 0 when path's extension names a format, else -1 with a message. */
int plot_check_path(const char *path, char *err, size_t errlen);

/* What every plot of a program does first: plot_check_path, then
   plot_window. */
int plot_prepare(const struct lbc_program *p, const struct plot_opts *o, const char *path,
                 int64_t *from, int64_t *to, int64_t *total, char *err, size_t errlen);

/* Run p against be (the duration to *total where not NULL): 0, or -1 with
   a message when the program stops with a run-time error. */
int plot_run(const struct lbc_program *p, const struct vm_backend *be, int64_t *total,
             char *err, size_t errlen);

/* Time axis units for a window of span ns: seconds per unit and the
   name ("ms" or "s"). */
void time_unit(int64_t span_ns, double *scale, const char **name);

#endif
