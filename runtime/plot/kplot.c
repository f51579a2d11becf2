/*
 * kplot: the k-space plot (plot_kspace): the path of k (grey, broken at
 * each excitation and refocusing) and the ADC samples coloured by their
 * order of acquisition, kx across and ky up with equal scales. A 3D
 * trajectory is shown as its kx-ky projection. Many points (past
 * RASTER_POINTS) are drawn into a pixel image that is placed into an SVG
 * or PDF, so that the file stays small.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/wave/kspace_traj.h"
#include "runtime/plot/canvas.h"
#include "base/util.h"
#include "vm/vm.h"

#define RASTER_POINTS 40000
#define NCOLOURS 16
#define CHUNK 1024

/* A dark-blue-to-yellow colour map (viridis' ends and middle) at u in [0, 1]. */
static void colour_map(double u, double rgb[3])
{
    static const double anchor[5][3] = {
        { 0.267, 0.005, 0.329 }, { 0.231, 0.322, 0.545 }, { 0.129, 0.569, 0.549 },
        { 0.369, 0.788, 0.384 }, { 0.993, 0.906, 0.144 },
    };
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    double f = u * 4;
    int i = f >= 4 ? 3 : (int)f;
    double w = f - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = anchor[i][k] * (1 - w) + anchor[i + 1][k] * w;
}

static void draw_points(cairo_t *cr, const struct axes *a, const struct ktraj_point *path,
                        size_t npath, const struct ktraj_sample *s, size_t ns)
{
    cairo_set_line_width(cr, 0.8);
    cairo_set_source_rgba(cr, 0.45, 0.45, 0.45, 0.8);
    /* stroked in pieces of CHUNK points: cairo's cost grows faster than
       the length of one path */
    for (size_t i = 0; i < npath; i++) {
        double x = ax_x(a, path[i].k[0]), y = ax_y(a, path[i].k[1]);
        if (path[i].pen_up || i == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
        if (i % CHUNK == CHUNK - 1) {
            cairo_stroke(cr);
            cairo_move_to(cr, x, y);
        }
    }
    cairo_stroke(cr);
    double r = ns > 5000 ? 1.0 : 1.6;
    for (int c = 0; c < NCOLOURS; c++) {
        double rgb[3];
        colour_map((c + 0.5) / NCOLOURS, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        /* samples i with i·NCOLOURS/ns == c */
        size_t i0 = (c * ns + NCOLOURS - 1) / NCOLOURS, i1 = ((c + 1) * ns + NCOLOURS - 1) / NCOLOURS;
        for (size_t i = i0; i < i1 && i < ns; i++) {
            double x = ax_x(a, s[i].k[0]), y = ax_y(a, s[i].k[1]);
            cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r);
            if ((i - i0) % CHUNK == CHUNK - 1)
                cairo_fill(cr);
        }
        cairo_fill(cr);
    }
}

static void draw(struct canvas *cv, const struct ktraj *kt, const char *title)
{
    size_t ns, npath;
    const struct ktraj_sample *s = ktraj_samples(kt, &ns);
    const struct ktraj_point *path = ktraj_path(kt, &npath);
    double kmax = 0;
    bool has_z = false;
    for (size_t i = 0; i < ns; i++) {
        kmax = fmax(kmax, fmax(fabs(s[i].k[0]), fabs(s[i].k[1])));
        has_z = has_z || fabs(s[i].k[2]) > 1e-9;
    }
    /* the frame fits the samples (the path, spoilers included, is
       clipped), or the path when there are none */
    for (size_t i = 0; i < npath && !ns; i++)
        kmax = fmax(kmax, fmax(fabs(path[i].k[0]), fabs(path[i].k[1])));
    kmax = kmax > 0 ? kmax * 1.15 : 1;
    const double L = 80, R = 24, T = 62, B = 52;
    double side = fmin(cv->w - L - R, cv->h - T - B);
    struct axes a;
    memset(&a, 0, sizeof a);
    a.x0 = L + (cv->w - L - R - side) / 2;
    a.y0 = T;
    a.w = a.h = side;
    a.xmin = a.ymin = -kmax;
    a.xmax = a.ymax = kmax;
    cv_rgb(cv, 0x000000);
    cv_text(cv, a.x0, 24, CV_LEFT, 15, "%s", title);
    cv_rgb(cv, 0x555555);
    uint32_t nadc = ns ? s[ns - 1].adc - s[0].adc + 1 : 0;
    cv_text(cv, a.x0, 44, CV_LEFT, 11, "k-space%s: %zu ADC samples in %u readouts; colour: "
            "order of acquisition (dark first)", has_z ? " (3D, kx-ky projection)" : "", ns,
            nadc);
    cv_axes(cv, &a, "kx (1/m)", "ky (1/m)", true);
    cv_clip(cv, &a);
    if (cv->fmt != PLOT_PNG && ns + npath > RASTER_POINTS) {
        int pw = (int)ceil(a.w), ph = (int)ceil(a.h);
        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
        cairo_t *cr = cairo_create(img);
        cairo_translate(cr, -a.x0, -a.y0);
        draw_points(cr, &a, path, npath, s, ns);
        cairo_destroy(cr);
        cairo_set_source_surface(cv->cr, img, a.x0, a.y0);
        cairo_paint(cv->cr);
        cairo_surface_destroy(img);
    } else {
        draw_points(cv->cr, &a, path, npath, s, ns);
    }
    cairo_restore(cv->cr);
}

int plot_kspace(const struct lbc_program *p, const struct system *sys, const struct plot_opts *o,
                const char *path, char *err, size_t errlen)
{
    int64_t from, to, total;
    if (plot_prepare(p, o, path, &from, &to, &total, err, errlen) != 0)
        return -1;
    struct ktraj_opts ko = { .gamma = sys->gamma, .from_ns = from, .to_ns = to };
    struct ktraj *kt = ktraj_new(&ko);
    struct vm_backend be;
    ktraj_backend(kt, &be);
    int rc = -1;
    if (plot_run(p, &be, NULL, err, errlen) != 0)
        goto out;
    struct canvas cv;
    if (cv_open(&cv, path, o->width ? o->width : PLOT_KSPACE_W,
                o->height ? o->height : PLOT_KSPACE_H, err, errlen) != 0)
        goto out;
    struct vm_view v;
    vm_view_init(&v, p);
    draw(&cv, kt, o->title ? o->title : v.source);
    rc = cv_close(&cv, err, errlen);
out:
    ktraj_free(kt);
    return rc;
}
