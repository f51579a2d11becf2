/*
 * phantom: the voxel set the simulator images (see phantom.h). This file
 * owns struct phantom, sampling analytic shapes on a grid (used by the
 * built-in Shepp-Logan and by YAML descriptions), the built-in MR
 * Shepp-Logan itself, the summary `larmor phantom` prints and phantom_load's
 * dispatch (a built-in name, then a file by its extension or content).
 * YAML descriptions are read in phantom_load.c, the JEMRIS and KomaMRI
 * files (HDF5) in phantom_h5.c; every HDF5 call is in runtime/io/h5.c.
 */
#include "runtime/phantom/phantom.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/io/h5.h"
#include "runtime/phantom/phantom_h5.h"
#include "base/membudget.h"
#include "base/util.h"

#define PI 3.14159265358979323846

char *phantom_stem(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return xstrndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

struct phantom *phantom_new(const char *name, size_t n)
{
    struct phantom *p = xcalloc(1, sizeof *p);
    p->name = xstrdup(name ? name : "phantom");
    p->n = n;
    size_t m = n ? n : 1;
    float **arr[] = { &p->x, &p->y, &p->z, &p->pd, &p->t1, &p->t2, &p->t2s, &p->df, &p->dc };
    for (size_t i = 0; i < ARRAY_LEN(arr); i++)
        *arr[i] = xcalloc(m, sizeof(float));
    p->dims = 3;
    return p;
}

void phantom_free(struct phantom *p)
{
    if (!p)
        return;
    free(p->name);
    float *arr[] = { p->x, p->y, p->z, p->pd, p->t1, p->t2, p->t2s, p->df, p->dc, p->cs_ppm };
    for (size_t i = 0; i < ARRAY_LEN(arr); i++)
        free(arr[i]);
    free(p);
}

size_t phantom_bytes_per_spin(int ncoils)
{
    /* x, y, z, off-resonance, r1, r2, m0, d, mx, my, mz; a complex
       sensitivity per receive coil */
    size_t nc = ncoils > 0 ? (size_t)ncoils : 0;
    return (11 + 2 * nc) * sizeof(float);
}

/* "8,000,000,000" */
static void fmt_count(uint64_t v, char *buf, size_t n)
{
    char tmp[32];
    int l = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < l && o + 1 < n; i++) {
        if (i && (l - i) % 3 == 0 && o + 2 < n)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o < n ? o : n - 1] = 0;
}

/* "288 GB", "36.1 MB" */
static void fmt_bytes(double b, char *buf, size_t n)
{
    static const char *const u[] = { "bytes", "kB", "MB", "GB", "TB", "PB" };
    size_t i = 0;
    while (b >= 1000 && i + 1 < ARRAY_LEN(u)) {
        b /= 1000;
        i++;
    }
    snprintf(buf, n, i ? "%.3g %s" : "%.0f %s", b, u[i]);
}

bool phantom_grid_check(uint64_t nx, uint64_t ny, uint64_t nz, char *msg, size_t msglen)
{
    double total = (double)nx * (double)ny * (double)nz;
    if (nx && ny && nz && total <= (double)PHANTOM_MAX_VOXELS)
        return true;
    if (msg && msglen) {
        char t[40], lim[40], mem[40];
        fmt_count(total < 1.8e19 ? (uint64_t)total : UINT64_MAX, t, sizeof t);
        fmt_count(PHANTOM_MAX_VOXELS, lim, sizeof lim);
        /* the nine property arrays, 4 bytes each, for every voxel that
           might have signal */
        fmt_bytes(total * 9 * sizeof(float), mem, sizeof mem);
        if (!nx || !ny || !nz)
            snprintf(msg, msglen, "a %llu x %llu x %llu grid has no voxels",
                     (unsigned long long)nx, (unsigned long long)ny, (unsigned long long)nz);
        else
            snprintf(msg, msglen, "a %llu x %llu x %llu grid has %s voxels, more than the %s "
                     "(2^31) a phantom may have; it would need up to %s (%zu bytes a voxel)",
                     (unsigned long long)nx, (unsigned long long)ny, (unsigned long long)nz,
                     t, lim, mem, 9 * sizeof(float));
    }
    return false;
}

struct diag *phantom_budget_check(struct diag_ctx *d, struct span span, const char *input,
                                  uint64_t nx, uint64_t ny, uint64_t nz, size_t extra)
{
    /* x, y, z, pd, t1, t2, t2*, df, D and the chemical shift: a float each */
    size_t per = 10 * sizeof(float);
    size_t vox = mem_mul(mem_mul((size_t)nx, (size_t)ny), (size_t)nz);
    char what[160];
    char ex[48] = "";
    if (extra)
        mem_fmt(extra, ex, sizeof ex);
    snprintf(what, sizeof what, "a %llu x %llu x %llu grid (%zu bytes a voxel%s%s)",
             (unsigned long long)nx, (unsigned long long)ny, (unsigned long long)nz, per,
             extra ? ", and to read it " : "", ex);
    struct diag *g = mem_check_diag(d, 830, span, input, what, mem_add(mem_mul(vox, per), extra));
    if (g)
        diag_help(g, "use a coarser resolution (--res) or a smaller phantom, or raise the budget "
                  "if the machine has the memory: " MEM_BUDGET_RAISE);
    return g;
}

/* ------------------------------------------------------------ sampling */

void phantom_shape_orient(struct phantom_shape *s, int axis, double angle_rad)
{
    /* the shape's own frame before the rotation: its third axis along
       scanner axis `axis`, the other two following cyclically */
    double base[3][3] = { { 0 } };
    for (int k = 0; k < 3; k++)
        base[k][(axis + 1 + k) % 3] = 1;
    double c = cos(angle_rad), sn = sin(angle_rad);
    for (int k = 0; k < 3; k++) {
        double x = base[k][0], y = base[k][1], z = base[k][2];
        s->axes[k][0] = c * x - sn * y;
        s->axes[k][1] = sn * x + c * y;
        s->axes[k][2] = z;
    }
}

/* h * e, with an unbounded half extent along an orthogonal direction
   contributing nothing */
static double ext_term(double h, double e)
{
    return e == 0 ? 0 : h * e;
}

/* The axis-aligned half extent of a shape along scanner axis j. */
static double shape_extent(const struct phantom_shape *s, int j)
{
    double a0 = ext_term(s->half[0], s->axes[0][j]);
    double a1 = ext_term(s->half[1], s->axes[1][j]);
    double a2 = ext_term(s->half[2], s->axes[2][j]);
    switch (s->kind) {
    case PHANTOM_ELLIPSOID:
        return sqrt(a0 * a0 + a1 * a1 + a2 * a2);
    case PHANTOM_BOX:
        return fabs(a0) + fabs(a1) + fabs(a2);
    case PHANTOM_CYLINDER:
        /* the disc's extent plus the axis' */
        return sqrt(a0 * a0 + a1 * a1) + fabs(a2);
    }
    return INFINITY;
}

/* Whether the point lies inside the shape (boundary included, with a
   relative tolerance so that voxel centres exactly on an edge are decided
   the same way on every machine). */
static bool shape_holds(const struct phantom_shape *s, const double p[3])
{
    const double tol = 1e-9;
    double d[3] = { p[0] - s->centre[0], p[1] - s->centre[1], p[2] - s->centre[2] };
    double u[3];
    for (int k = 0; k < 3; k++)
        u[k] = s->axes[k][0] * d[0] + s->axes[k][1] * d[1] + s->axes[k][2] * d[2];
    switch (s->kind) {
    case PHANTOM_ELLIPSOID: {
        double q = 0;
        for (int k = 0; k < 3; k++)
            if (isfinite(s->half[k]))
                q += (u[k] / s->half[k]) * (u[k] / s->half[k]);
        return q <= 1 + tol;
    }
    case PHANTOM_BOX:
        for (int k = 0; k < 3; k++)
            if (fabs(u[k]) > s->half[k] * (1 + tol))
                return false;
        return true;
    case PHANTOM_CYLINDER: {
        double q = (u[0] / s->half[0]) * (u[0] / s->half[0]) +
                   (u[1] / s->half[1]) * (u[1] / s->half[1]);
        return q <= 1 + tol && fabs(u[2]) <= s->half[2] * (1 + tol);
    }
    }
    return false;
}

struct phantom *phantom_sample(const char *name, int dims, const int n[3], const double vox[3],
                               const struct phantom_shape *shapes, size_t nshapes,
                               const struct phantom_tissue *tissues, int background,
                               size_t *hits)
{
    int nz = dims == 2 ? 1 : n[2];
    if (n[0] < 1 || n[1] < 1 || nz < 1 ||
        !phantom_grid_check((uint64_t)n[0], (uint64_t)n[1], (uint64_t)nz, NULL, 0))
        return NULL;
    double *c[3];
    int nn[3] = { n[0], n[1], nz };
    for (int a = 0; a < 3; a++) {
        c[a] = xmalloc((size_t)nn[a] * sizeof(double));
        for (int i = 0; i < nn[a]; i++)
            c[a][i] = dims == 2 && a == 2 ? 0 : (i - nn[a] / 2) * vox[a];
    }
    double (*lo)[3] = xmalloc((nshapes ? nshapes : 1) * sizeof *lo);
    double (*hi)[3] = xmalloc((nshapes ? nshapes : 1) * sizeof *hi);
    for (size_t s = 0; s < nshapes; s++)
        for (int j = 0; j < 3; j++) {
            double e = shape_extent(&shapes[s], j) * (1 + 1e-9);
            lo[s][j] = shapes[s].centre[j] - e;
            hi[s][j] = shapes[s].centre[j] + e;
        }
    if (hits)
        memset(hits, 0, nshapes * sizeof *hits);
    size_t *act = xmalloc((nshapes ? nshapes : 1) * sizeof *act);
    struct phantom *p = NULL;
    size_t count = 0, k = 0;
    /* pass 0 counts the voxels with signal, pass 1 fills them in */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            p = phantom_new(name, count);
            p->dims = dims;
            for (int a = 0; a < 3; a++) {
                p->vox[a] = vox[a];
                p->grid[a] = nn[a];
            }
        }
        for (int iz = 0; iz < nn[2]; iz++)
            for (int iy = 0; iy < nn[1]; iy++) {
                double pt[3] = { 0, c[1][iy], c[2][iz] };
                size_t na = 0;
                for (size_t s = 0; s < nshapes; s++)
                    if (pt[1] >= lo[s][1] && pt[1] <= hi[s][1] && pt[2] >= lo[s][2] &&
                        pt[2] <= hi[s][2])
                        act[na++] = s;
                for (int ix = 0; ix < nn[0]; ix++) {
                    pt[0] = c[0][ix];
                    long win = -1;
                    for (size_t q = na; q-- > 0;) {
                        size_t s = act[q];
                        if (pt[0] >= lo[s][0] && pt[0] <= hi[s][0] &&
                            shape_holds(&shapes[s], pt)) {
                            win = (long)s;
                            break;
                        }
                    }
                    int t = win >= 0 ? shapes[win].tissue : background;
                    if (pass == 0 && hits && win >= 0)
                        hits[win]++;
                    if (t < 0 || !(tissues[t].pd > 0))
                        continue;
                    if (pass == 0) {
                        count++;
                        continue;
                    }
                    const struct phantom_tissue *ts = &tissues[t];
                    p->x[k] = (float)pt[0];
                    p->y[k] = (float)pt[1];
                    p->z[k] = (float)pt[2];
                    p->pd[k] = (float)ts->pd;
                    p->t1[k] = (float)ts->t1;
                    p->t2[k] = (float)ts->t2;
                    p->t2s[k] = (float)ts->t2s;
                    p->df[k] = (float)ts->df;
                    p->dc[k] = (float)ts->dc;
                    if (ts->cs_ppm != 0) {
                        if (!p->cs_ppm)
                            p->cs_ppm = xcalloc(count ? count : 1, sizeof(float));
                        p->cs_ppm[k] = (float)ts->cs_ppm;
                    }
                    k++;
                }
            }
    }
    free(act);
    free(lo);
    free(hi);
    for (int a = 0; a < 3; a++)
        free(c[a]);
    return p;
}

/* ---------------------------------------------------------- Shepp-Logan */

/*
 * The MR Shepp-Logan of Gach, Tanase and Boada, "2D & 3D Shepp-Logan
 * phantom standards for MRI", 19th International Conference on Systems
 * Engineering (ICSENG 2008), pp. 521-526, doi:10.1109/ICSEng.2008.15.
 * The ellipsoids are the 3D Shepp-Logan of Kak and Slaney as tabulated by
 * Koay, Sarlls and Özarslan (Magn Reson Med 2007;58:430-436) with an outer
 * scalp added and each ellipsoid given a tissue. The table below is as the
 * open-source phantominator package (github.com/mckib2/phantominator,
 * mr_shepp_logan.py, which cites the paper) reproduces it; that package
 * leaves out the paper's unused blood-clot ellipsoid and so do we.
 *
 * Units of the table: centres and semi-axes in units of half the field of
 * view (the head fills [-1, 1]); the angle rotates an ellipsoid about z,
 * counter-clockwise from +x towards +y. Tissue values at 1.5 T:
 * T1 = A * B0^C (B0 in T, T1 in s) except CSF's measured 4.2 s; T2 in s.
 *
 *   tissue        A      C      T1(1.5 T)  T2      PD (per ellipsoid)
 *   scalp         0.324  0.137  0.342 s    70 ms   0.80
 *   bone marrow   0.533  0.088  0.552 s    50 ms   0.12
 *   CSF           -      -      4.2 s      1.99 s  0.98
 *   grey matter   0.857  0.376  0.998 s    100 ms  0.745
 *   white matter  0.583  0.382  0.682 s    80 ms   0.617
 *   tumour        0.926  0.217  1.011 s    100 ms  0.95 (0.93 for #12)
 *
 * (One other reproduction gives the marrow exponent as 0.888 rather than
 * 0.088; 0.088 is kept: it gives 0.55 s, in line with fatty marrow at
 * 1.5 T, where 0.888 would give 0.76 s.)
 *
 * Overlaps: in the MR version each ellipsoid's tissue replaces what lies
 * beneath it (phantominator builds the same result by subtracting the
 * tissue underneath), unlike the additive grey levels of the CT phantom.
 * T2* = T2: the paper gives no T2*, and a susceptibility model is not
 * part of the standard. df = 0.
 *
 * Diffusion (not part of the standard; typical values at body
 * temperature): CSF 3.0e-9 m^2/s, about free water at 37 C (Mills, J Phys
 * Chem 1973;77:685-688); grey matter 0.89e-9 and white matter 0.70e-9,
 * the mean ADCs of cortical grey and of white matter in Helenius et al.,
 * AJNR 2002;23:194-199. Scalp, marrow and the tumours get 0 (no single
 * typical value: fat-rich tissue and lesions vary widely).
 *
 * Orientation: the table's +y is "up" in the usual picture (the white
 * matter ellipse near the top, the three small tumours at the bottom).
 * An image reconstructed with row = y shows row 0 at the top, so Larmor
 * places the table's y at -y: +y (posterior) points down the usual
 * picture, towards the three small ellipsoids; +x is to the right. To keep
 * the 3D object a rotation, not a mirror image, z is turned too: Larmor's
 * (x, y, z) = fov/2 * (x_t, -y_t, -z_t), and an angle t becomes -t.
 *
 * The 2D phantom is the published 2D standard: the in-plane ellipses of
 * the first twelve ellipsoids (those of the classic 2D picture plus the
 * scalp and the grey-matter shell), i.e. the plane z_t = -0.25 through the
 * ventricles and tumours with the outer shells at their full size. (The
 * plane z = 0 of the 3D phantom would miss the ventricles and tumours,
 * which lie below it.)
 */
enum { SL_SCALP, SL_MARROW, SL_CSF, SL_GREY, SL_WHITE, SL_TUMOUR, SL_TUMOUR2, SL__N };

static const struct {
    double x, y, z, a, b, c, deg;
    int tissue;
} sl_table[] = {
    { 0, 0, 0, .72, .95, .93, 0, SL_SCALP },
    { 0, 0, 0, .69, .92, .90, 0, SL_MARROW },
    { 0, -.0184, 0, .6624, .874, .88, 0, SL_CSF },
    { 0, -.0184, 0, .6524, .864, .87, 0, SL_GREY },
    { -.22, 0, -.25, .41, .16, .21, -72, SL_CSF },          /* ventricles */
    { .22, 0, -.25, .31, .11, .22, 72, SL_CSF },
    { 0, .35, -.25, .21, .25, .35, 0, SL_WHITE },
    { 0, .1, -.25, .046, .046, .046, 0, SL_TUMOUR },
    { -.08, -.605, -.25, .046, .023, .02, 0, SL_TUMOUR },
    { .06, -.605, -.25, .046, .023, .02, -90, SL_TUMOUR },
    { 0, -.1, -.25, .046, .046, .046, 0, SL_TUMOUR },
    { 0, -.605, -.25, .023, .023, .023, 0, SL_TUMOUR },
    /* 3D only (above the classic plane) */
    { .06, -.105, .0625, .056, .04, .1, -90, SL_TUMOUR2 },
    { 0, .1, .625, .056, .056, .1, 0, SL_CSF },
};
#define SL_2D_COUNT 12

static void sl_tissues(struct phantom_tissue t[SL__N])
{
    const double b0 = 1.5;  /* T */
    memset(t, 0, SL__N * sizeof *t);
    t[SL_SCALP] = (struct phantom_tissue){ .pd = .80, .t1 = .324 * pow(b0, .137), .t2 = .070 };
    t[SL_MARROW] = (struct phantom_tissue){ .pd = .12, .t1 = .533 * pow(b0, .088), .t2 = .050 };
    t[SL_CSF] = (struct phantom_tissue){ .pd = .98, .t1 = 4.2, .t2 = 1.99, .dc = 3.0e-9 };
    t[SL_GREY] = (struct phantom_tissue){ .pd = .745, .t1 = .857 * pow(b0, .376), .t2 = .100,
                                          .dc = 0.89e-9 };
    t[SL_WHITE] = (struct phantom_tissue){ .pd = .617, .t1 = .583 * pow(b0, .382), .t2 = .080,
                                           .dc = 0.70e-9 };
    t[SL_TUMOUR] = (struct phantom_tissue){ .pd = .95, .t1 = .926 * pow(b0, .217), .t2 = .100 };
    t[SL_TUMOUR2] = t[SL_TUMOUR];
    t[SL_TUMOUR2].pd = .93;
    for (int i = 0; i < SL__N; i++)
        t[i].t2s = t[i].t2;
}

struct phantom *phantom_shepp_logan(int dims, int matrix, double fov_m, double thick_m)
{
    if (dims != 2)
        dims = 3;
    if (matrix < 1 || !(fov_m > 0) ||
        !phantom_grid_check((uint64_t)matrix, (uint64_t)matrix, dims == 2 ? 1 : (uint64_t)matrix,
                            NULL, 0))
        return NULL;
    struct phantom_tissue t[SL__N];
    sl_tissues(t);
    size_t ns = dims == 2 ? SL_2D_COUNT : ARRAY_LEN(sl_table);
    struct phantom_shape sh[ARRAY_LEN(sl_table)];
    double r = fov_m / 2;
    for (size_t i = 0; i < ns; i++) {
        struct phantom_shape *s = &sh[i];
        s->kind = PHANTOM_ELLIPSOID;
        s->centre[0] = r * sl_table[i].x;
        s->centre[1] = -r * sl_table[i].y;
        s->centre[2] = dims == 2 ? 0 : -r * sl_table[i].z;
        s->half[0] = r * sl_table[i].a;
        s->half[1] = r * sl_table[i].b;
        s->half[2] = dims == 2 ? INFINITY : r * sl_table[i].c;
        phantom_shape_orient(s, 2, -sl_table[i].deg * PI / 180);
        s->tissue = sl_table[i].tissue;
    }
    int n[3] = { matrix, matrix, dims == 2 ? 1 : matrix };
    double v = fov_m / matrix;
    double vox[3] = { v, v, dims == 2 ? (thick_m > 0 ? thick_m : 5e-3) : v };
    return phantom_sample(dims == 2 ? "shepp-logan" : "shepp-logan-3d", dims, n, vox, sh, ns, t,
                          -1, NULL);
}

/* ------------------------------------------------------------- summary */

#define DESC_MAX_GROUPS 65536   /* distinct property sets tracked */
#define DESC_ROWS 20

struct group {
    size_t first;       /* a voxel with these properties */
    size_t count;
};

static void props_of(const struct phantom *p, size_t i, float v[7])
{
    v[0] = p->pd[i];
    v[1] = p->t1[i];
    v[2] = p->t2[i];
    v[3] = p->t2s[i];
    v[4] = p->df[i];
    v[5] = p->dc[i];
    v[6] = p->cs_ppm ? p->cs_ppm[i] : 0;
}

static uint64_t props_hash(const float v[7])
{
    return fnv1a64(FNV1A64_INIT, v, 7 * sizeof(float));
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* A value in a column: "%.4g" of v * scale, "inf" for infinity. */
static void cell(char *buf, size_t n, double v, double scale)
{
    if (isinf(v))
        snprintf(buf, n, "%sinf", v < 0 ? "-" : "");
    else if (v == 0)
        snprintf(buf, n, "0");
    else
        snprintf(buf, n, "%.4g", v * scale);
}

void phantom_describe(const struct phantom *p, FILE *out)
{
    char cnt[40];
    fmt_count(p->n, cnt, sizeof cnt);
    if (p->grid[0] > 0) {
        fprintf(out, "%s: %dD, ", p->name, p->dims);
        if (p->dims == 2)
            fprintf(out, "%d x %d voxels of %.4g x %.4g mm, %.4g mm thick", p->grid[0],
                    p->grid[1], p->vox[0] * 1e3, p->vox[1] * 1e3, p->vox[2] * 1e3);
        else
            fprintf(out, "%d x %d x %d voxels of %.4g x %.4g x %.4g mm", p->grid[0], p->grid[1],
                    p->grid[2], p->vox[0] * 1e3, p->vox[1] * 1e3, p->vox[2] * 1e3);
        fprintf(out, " (%s with signal)\n", cnt);
    } else {
        fprintf(out, "%s: %dD, %s spins (a list of points", p->name, p->dims, cnt);
        if (p->vox[0] > 0 || p->vox[1] > 0 || p->vox[2] > 0)
            fprintf(out, ", each spread over %.4g x %.4g x %.4g mm", p->vox[0] * 1e3,
                    p->vox[1] * 1e3, p->vox[2] * 1e3);
        fprintf(out, ")\n");
    }
    if (!p->n)
        return;
    float lo[3] = { p->x[0], p->y[0], p->z[0] }, hi[3] = { p->x[0], p->y[0], p->z[0] };
    for (size_t i = 1; i < p->n; i++) {
        const float v[3] = { p->x[i], p->y[i], p->z[i] };
        for (int a = 0; a < 3; a++) {
            lo[a] = v[a] < lo[a] ? v[a] : lo[a];
            hi[a] = v[a] > hi[a] ? v[a] : hi[a];
        }
    }
    fprintf(out, "  extent of the voxel centres:");
    for (int a = 0; a < 3; a++) {
        double l = lo[a] * 1e3, h = hi[a] * 1e3;
        if (fabs(l) < 5e-4)
            l = 0;
        if (fabs(h) < 5e-4)
            h = 0;
        if (l == h)
            fprintf(out, "%s %c %.4g mm", a ? "," : "", "xyz"[a], l);
        else
            fprintf(out, "%s %c %.4g .. %.4g mm", a ? "," : "", "xyz"[a], l, h);
    }
    fprintf(out, "\n");

    /* group the voxels by identical properties (open addressing) */
    size_t cap = 1024;
    size_t *slot = xmalloc(cap * sizeof *slot);         /* group index + 1, 0 = empty */
    memset(slot, 0, cap * sizeof *slot);
    struct group *g = NULL;
    size_t ng = 0, capg = 0, other = 0;
    for (size_t i = 0; i < p->n; i++) {
        float v[7], w[7];
        props_of(p, i, v);
        size_t h = (size_t)props_hash(v) & (cap - 1);
        bool found = false;
        while (slot[h]) {
            props_of(p, g[slot[h] - 1].first, w);
            if (!memcmp(v, w, sizeof v)) {
                g[slot[h] - 1].count++;
                found = true;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (found)
            continue;
        if (ng >= DESC_MAX_GROUPS) {
            other++;
            continue;
        }
        struct group ng0 = { i, 1 };
        VEC_PUSH(g, ng, capg, ng0);
        slot[h] = ng;
        if (ng * 2 > cap) {      /* grow and rehash */
            size_t ncap = cap * 4;
            size_t *ns = xcalloc(ncap, sizeof *ns);
            for (size_t j = 0; j < ng; j++) {
                props_of(p, g[j].first, w);
                size_t hh = (size_t)props_hash(w) & (ncap - 1);
                while (ns[hh])
                    hh = (hh + 1) & (ncap - 1);
                ns[hh] = j + 1;
            }
            free(slot);
            slot = ns;
            cap = ncap;
        }
    }
    free(slot);
    qsort(g, ng, sizeof *g, cmp_group);
    bool cs = p->cs_ppm != NULL;
    fprintf(out, "  tissues (voxels with the same properties):\n");
    fprintf(out, "    %13s %7s %9s %9s %9s %9s %s%12s\n", "voxels", "PD", "T1 (ms)", "T2 (ms)",
            "T2* (ms)", "df (Hz)", cs ? " cs (ppm)" : "", "D (um^2/ms)");
    for (size_t j = 0; j < ng && j < DESC_ROWS; j++) {
        size_t i = g[j].first;
        char c[8][32];
        fmt_count(g[j].count, c[0], sizeof c[0]);
        snprintf(c[1], sizeof c[1], "%.3g", p->pd[i]);
        cell(c[2], sizeof c[2], p->t1[i], 1e3);
        cell(c[3], sizeof c[3], p->t2[i], 1e3);
        cell(c[4], sizeof c[4], p->t2s[i], 1e3);
        cell(c[5], sizeof c[5], p->df[i], 1);
        cell(c[6], sizeof c[6], cs ? p->cs_ppm[i] : 0, 1);
        cell(c[7], sizeof c[7], p->dc[i], 1e9);
        fprintf(out, "    %13s %7s %9s %9s %9s %9s", c[0], c[1], c[2], c[3], c[4], c[5]);
        if (cs)
            fprintf(out, " %8s", c[6]);
        fprintf(out, " %11s\n", c[7]);
    }
    if (ng > DESC_ROWS || other) {
        size_t rest = other;
        for (size_t j = DESC_ROWS; j < ng; j++)
            rest += g[j].count;
        char rs[40];
        fmt_count(rest, rs, sizeof rs);
        if (other)
            fprintf(out, "    ... and more than %zu other property sets (%s voxels)\n",
                    ng > DESC_ROWS ? ng - DESC_ROWS : 0, rs);
        else
            fprintf(out, "    ... and %zu more (%s voxels)\n", ng - DESC_ROWS, rs);
    }
    free(g);
}

/* ============================================================ vetting */

/* The first property of voxel i out of its range: its name, value (as the
   float holds it) and the range in words; NULL when all are in range. */
static const char *vet_voxel(const struct phantom *p, size_t i, double *val, const char **range)
{
    const double pos[3] = { p->x[i], p->y[i], p->z[i] };
    static const char *const pn[3] = { "x", "y", "z" };
    for (int a = 0; a < 3; a++)
        if (!(fabs(pos[a]) <= PHANTOM_MAX_POS_M)) {
            *val = pos[a];
            *range = "within 10 m of the isocentre";
            return pn[a];
        }
    const double t[3] = { p->t1[i], p->t2[i], p->t2s[i] };
    static const char *const tn[3] = { "T1", "T2", "T2*" };
    for (int k = 0; k < 3; k++)
        if (!(t[k] >= PHANTOM_MIN_TIME_S)) {
            *val = t[k];
            *range = "at least 1 ns, or infinite for no relaxation (s)";
            return tn[k];
        }
    *range = NULL;
    if (!(p->pd[i] > 0 && p->pd[i] <= PHANTOM_MAX_PD)) {
        *val = p->pd[i];
        *range = "positive and at most 1e30";
        return "PD";
    }
    if (!(p->t2s[i] <= p->t2[i])) {
        *val = p->t2s[i];
        *range = "at most T2";
        return "T2*";
    }
    if (!(fabs(p->df[i]) <= PHANTOM_MAX_DF_HZ)) {
        *val = p->df[i];
        *range = "within 10 MHz (Hz)";
        return "off-resonance";
    }
    if (!(p->dc[i] >= 0 && p->dc[i] <= PHANTOM_MAX_DC)) {
        *val = p->dc[i];
        *range = "zero to 1e-7 m^2/s";
        return "diffusivity";
    }
    if (p->cs_ppm && !(fabs(p->cs_ppm[i]) <= PHANTOM_MAX_PPM)) {
        *val = p->cs_ppm[i];
        *range = "within 1000 ppm";
        return "chemical shift";
    }
    return NULL;
}

struct phantom *phantom_vet(struct phantom *p, const char *path, struct diag_ctx *d)
{
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        double v;
        const char *range;
        const char *what = vet_voxel(p, i, &v, &range);
        if (!what)
            continue;
        struct diag *g = diag_error(d, 823, SPAN_NONE, "%s: voxel %zu of %zu (at x %.4g, y %.4g, "
                                    "z %.4g m) has %s = %g", path, i + 1, p->n, p->x[i], p->y[i],
                                    p->z[i], what, v);
        diag_help(g, "%s must be %s; a value past what the simulator's single precision holds "
                  "shows here as inf or 0", what, range);
        phantom_free(p);
        return NULL;
    }
    return p;
}

/* ============================================================ dispatch */

static const char *const builtin_names[] = { "shepp-logan", "shepp-logan-3d" };

static struct phantom *load_builtin(const char *spec, double res_m, struct diag_ctx *d)
{
    bool three = !strncmp(spec, "shepp-logan-3d", 14);
    const char *rest = spec + (three ? 14 : 11);
    double fov = 0.256;
    long matrix = three ? 64 : 128;
    if (*rest == ':') {
        const char *q = rest + 1;
        bool digits = *q != 0;
        for (const char *c = q; *c; c++)
            digits = digits && isdigit((unsigned char)*c);
        errno = 0;
        long v = digits ? strtol(q, NULL, 10) : 0;
        if (!digits || errno || v < 1 || strlen(q) > 9) {
            struct diag *g = diag_error(d, 800, SPAN_NONE, "'%s': the matrix after ':' must be "
                                        "a whole number of voxels, 1 or more", spec);
            diag_help(g, "e.g. %s:256", three ? "shepp-logan-3d" : "shepp-logan");
            return NULL;
        }
        if (res_m > 0) {
            struct diag *g = diag_error(d, 811, SPAN_NONE, "'%s' sets the matrix and --res the "
                                        "voxel size; give one of them", spec);
            diag_help(g, "the field of view is 256 mm: --res 2mm is a matrix of 128");
            return NULL;
        }
        matrix = v;
    } else if (res_m > 0) {
        double q = floor(fov / res_m + 0.5);
        matrix = q < 1 ? 1 : q > 1e9 ? 1000000000 : (long)q;
        if (fabs(fov / res_m - q) > 1e-6 * q)
            diag_warning(d, 827, SPAN_NONE, "%s: the 256 mm field of view is not a whole number "
                         "of %.6g mm voxels; using %ld voxels of %.6g mm", spec, res_m * 1e3,
                         matrix, fov / matrix * 1e3);
    }
    char msg[256];
    uint64_t m = (uint64_t)matrix;
    if (!phantom_grid_check(m, m, three ? m : 1, msg, sizeof msg)) {
        struct diag *g = diag_error(d, 815, SPAN_NONE, "%s: %s", spec, msg);
        diag_help(g, "use a smaller matrix");
        return NULL;
    }
    if (phantom_budget_check(d, SPAN_NONE, spec, m, m, three ? m : 1, 0))
        return NULL;
    return phantom_shepp_logan(three ? 3 : 2, (int)matrix, fov, 5e-3);
}

struct phantom *phantom_load(const char *spec, double res_m, struct diag_ctx *d)
{
    for (size_t i = 0; i < ARRAY_LEN(builtin_names); i++) {
        size_t l = strlen(builtin_names[i]);
        if (!strncmp(spec, builtin_names[i], l) && (spec[l] == 0 || spec[l] == ':'))
            return load_builtin(spec, res_m, d);
    }
    bool yaml = str_has_suffix(spec, ".yaml") || str_has_suffix(spec, ".yml");
    FILE *fp = fopen(spec, "rb");
    if (!fp) {
        int e = errno;
        bool looks_named = !strchr(spec, '/') && !strchr(spec, '.');
        if (looks_named && e == ENOENT) {
            struct diag *g = diag_error(d, 800, SPAN_NONE, "no phantom named '%s'", spec);
            const char *near = NULL;
            for (const char *c = spec; *c && !near; c++)
                if (!strncasecmp(c, "shep", 4) || !strncasecmp(c, "logan", 5))
                    near = strstr(spec, "3") ? "shepp-logan-3d" : "shepp-logan";
            if (near)
                diag_help(g, "did you mean '%s'? built-in phantoms: shepp-logan, "
                          "shepp-logan-3d (add :N for an N-voxel matrix); or give a file "
                          "(.yaml, .h5, .phantom)", near);
            else
                diag_help(g, "built-in phantoms: shepp-logan, shepp-logan-3d (add :N for an "
                          "N-voxel matrix); or give a file (.yaml, .h5, .phantom)");
        } else {
            struct diag *g = diag_error(d, 800, SPAN_NONE, "cannot read phantom %s: %s", spec,
                                        strerror(e));
            diag_help(g, "give a phantom file (.yaml description, JEMRIS .h5, KomaMRI "
                      ".phantom) or a built-in name (shepp-logan, shepp-logan-3d)");
        }
        return NULL;
    }
    unsigned char sig[8] = { 0 };
    size_t got = fread(sig, 1, sizeof sig, fp);
    fclose(fp);
    bool hdf5 = got == 8 && !memcmp(sig, "\x89HDF\r\n\x1a\n", 8);
    if (yaml || (!hdf5 && !str_has_suffix(spec, ".h5") && !str_has_suffix(spec, ".phantom"))) {
        size_t len;
        char *text = read_file(spec, &len);
        if (!text) {
            diag_error(d, 800, SPAN_NONE, "cannot read phantom %s: %s", spec, strerror(errno));
            return NULL;
        }
        if (!yaml && (memchr(text, 0, len) || len == 0)) {
            struct diag *g = diag_error(d, 800, SPAN_NONE, "cannot tell what kind of phantom "
                                        "%s is", spec);
            diag_help(g, "Larmor reads YAML descriptions (.yaml, .yml), JEMRIS samples (.h5) "
                      "and KomaMRI phantoms (.phantom)");
            free(text);
            return NULL;
        }
        struct phantom *p = phantom_load_text(spec, text, len, res_m, d);
        free(text);
        return p;
    }
    char err[256];
    struct h5file *f = h5_open(spec, err, sizeof err);
    if (!f) {
        struct diag *g = diag_error(d, 820, SPAN_NONE, "cannot open %s: %s", spec, err);
        diag_help(g, "a .h5 phantom is a JEMRIS sample and a .phantom a KomaMRI phantom, both "
                  "HDF5 files");
        return NULL;
    }
    struct phantom *p = NULL;
    if (h5_kind(f, "/sample") == H5_GROUP) {
        p = phantom_h5_jemris(spec, f, res_m, d);
    } else if (h5_kind(f, "/contrast") == H5_GROUP || h5_kind(f, "/position") == H5_GROUP) {
        p = phantom_h5_koma(spec, f, res_m, d);
    } else {
        struct diag *g = diag_error(d, 821, SPAN_NONE, "%s is an HDF5 file but neither a JEMRIS "
                                    "sample (/sample/data) nor a KomaMRI phantom (/position, "
                                    "/contrast)", spec);
        diag_help(g, "check that the file is a phantom");
    }
    h5_close(f, err, sizeof err);
    return phantom_vet(p, spec, d);
}
