/*
 * overview: the picture `larmor scan` leaves next to its images
 * (plot_overview_*): one slice of the image and the log-magnitude of the
 * same slice's k-space side by side. The k-space is kept (as a float log
 * magnitude) before the recon transforms it in place.
 *
 * Slice: the middle partition of a 3D volume (image z = nz/2, k-space
 * z = nz/2, its centre after the centred transform along z), else the
 * first slice. Coils are combined by root-sum-square. Grey levels: the
 * image from 0 to its 99.5th percentile (as img_write_png), the k-space
 * over the four decades below its largest magnitude (unsampled points
 * black). Row 0 at the top is the smallest y, as in the image PNGs.
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/plot/canvas.h"
#include "base/util.h"

#define OV_SIZE 512
#define OV_DECADES 4.0

struct plot_overview {
    float *klog;                   /* nx × ny, log10 |S| (-INFINITY where 0) */
    int nx, ny;
    bool three_d;                  /* the kept plane is the middle partition */
};

struct plot_overview *plot_overview_new(void)
{
    return xcalloc(1, sizeof(struct plot_overview));
}

void plot_overview_free(struct plot_overview *ov)
{
    if (!ov)
        return;
    free(ov->klog);
    free(ov);
}

void plot_overview_kspace(struct plot_overview *ov, const struct kspace *k)
{
    free(ov->klog);
    ov->klog = NULL;
    if (!k || !k->data || k->nx < 1 || k->ny < 1)
        return;
    ov->nx = k->nx;
    ov->ny = k->ny;
    ov->three_d = k->nz > 1;
    size_t plane = (size_t)k->nx * k->ny;
    size_t z = ov->three_d ? (size_t)(k->nz / 2) : 0;
    ov->klog = xmalloc(plane * sizeof *ov->klog);
    /* frame 0, slice 0: [coil][z][y][x] */
    for (size_t i = 0; i < plane; i++) {
        double s2 = 0;
        for (int c = 0; c < k->ncoils; c++) {
            float complex v = k->data[((size_t)c * k->nz + z) * plane + i];
            s2 += (double)crealf(v) * crealf(v) + (double)cimagf(v) * cimagf(v);
        }
        ov->klog[i] = s2 > 0 ? (float)(0.5 * log10(s2)) : -INFINITY;
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Grey levels 0..1 of one plane into an RGB24 surface of nx × ny. */
static cairo_surface_t *grey_surface(const float *v, int nx, int ny, double lo, double hi)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, nx, ny);
    cairo_surface_flush(s);
    unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < ny; y++) {
        uint32_t *row = (uint32_t *)(void *)(d + (size_t)y * stride);
        for (int x = 0; x < nx; x++) {
            double g = (v[(size_t)y * nx + x] - lo) / (hi - lo);
            g = isnan(g) || g < 0 ? 0 : g > 1 ? 1 : g;
            uint32_t c = (uint32_t)lround(g * 255);
            row[x] = c << 16 | c << 8 | c;
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

/* Draw a surface of nx × ny scaled into the square at (x0, y0), keeping
   its aspect, pixels sharp. */
static void place(struct canvas *cv, cairo_surface_t *s, int nx, int ny, double x0, double y0,
                  double side)
{
    double sc = side / (nx > ny ? nx : ny);
    double ox = x0 + (side - nx * sc) / 2, oy = y0 + (side - ny * sc) / 2;
    cairo_save(cv->cr);
    cairo_translate(cv->cr, ox, oy);
    cairo_scale(cv->cr, sc, sc);
    cairo_set_source_surface(cv->cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cv->cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cv->cr, 0, 0, nx, ny);
    cairo_fill(cv->cr);
    cairo_restore(cv->cr);
}

int plot_overview_write(const struct plot_overview *ov, const struct image_vol *v,
                        const char *title, const char *path, char *err, size_t errlen)
{
    if (!v || v->nx < 1 || v->ny < 1) {
        snprintf(err, errlen, "%s: no image to draw", path);
        return -1;
    }
    size_t plane = (size_t)v->nx * v->ny;
    int z = v->nz > 1 && (!ov || ov->three_d) ? v->nz / 2 : 0;
    float *mag = xmalloc(plane * sizeof *mag), *sorted = xmalloc(plane * sizeof *sorted);
    size_t nfin = 0;
    for (size_t i = 0; i < plane; i++) {
        mag[i] = cabsf(v->data[(size_t)z * plane + i]);
        if (isfinite(mag[i]))
            sorted[nfin++] = mag[i];
    }
    double hi = 0;
    if (nfin) {
        qsort(sorted, nfin, sizeof *sorted, cmp_float);
        double r = 0.995 * (double)(nfin - 1);
        size_t i0 = (size_t)r;
        double f = r - (double)i0;
        hi = i0 + 1 < nfin ? sorted[i0] * (1 - f) + sorted[i0 + 1] * f : sorted[i0];
    }
    if (!(hi > 0))
        hi = 1;
    free(sorted);
    const double gap = 20, T = 50, B = 30;
    int w = (int)(2 * OV_SIZE + 3 * gap), h = (int)(OV_SIZE + T + B);
    struct canvas cv;
    if (cv_open(&cv, path, w, h, err, errlen) != 0) {
        free(mag);
        return -1;
    }
    cv_rgb(&cv, 0x000000);
    cv_text(&cv, gap, 22, CV_LEFT, 15, "%s", title ? title : "scan");
    cv_rgb(&cv, 0x333333);
    cv_text(&cv, gap, T - 8, CV_LEFT, 12, "image, %s %d of %d (%d x %d)",
            v->nz > 1 && (!ov || ov->three_d) ? "partition" : "slice", z + 1, v->nz, v->nx, v->ny);
    cairo_surface_t *si = grey_surface(mag, v->nx, v->ny, 0, hi);
    place(&cv, si, v->nx, v->ny, gap, T, OV_SIZE);
    cairo_surface_destroy(si);
    double kx0 = 2 * gap + OV_SIZE;
    if (ov && ov->klog) {
        float top = -INFINITY;
        for (size_t i = 0; i < (size_t)ov->nx * ov->ny; i++)
            top = ov->klog[i] > top ? ov->klog[i] : top;
        cv_rgb(&cv, 0x333333);
        cv_text(&cv, kx0, T - 8, CV_LEFT, 12, "k-space, log10 |S| over %.0f decades (%d x %d)",
                OV_DECADES, ov->nx, ov->ny);
        double lo = isfinite(top) ? top - OV_DECADES : 0, khi = isfinite(top) ? top : 1;
        cairo_surface_t *sk = grey_surface(ov->klog, ov->nx, ov->ny, lo, khi);
        place(&cv, sk, ov->nx, ov->ny, kx0, T, OV_SIZE);
        cairo_surface_destroy(sk);
    } else {
        cv_rgb(&cv, 0x555555);
        cv_text(&cv, kx0 + OV_SIZE / 2, T + OV_SIZE / 2, CV_CENTRE, 12, "(no k-space kept)");
    }
    cv_rgb(&cv, 0x555555);
    cv_text(&cv, gap, h - 10, CV_LEFT, 11, "grey levels: image 0 to %.3g (99.5th percentile); "
            "row 0 at the top is the smallest y", hi);
    free(mag);
    return cv_close(&cv, err, errlen);
}
