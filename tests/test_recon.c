/*
 * test_recon: CUnit suite "recon" for runtime/recon/ (fft.c, recon.c).
 *
 * The reference everywhere is closed-form: k-space is the analytic Fourier
 * transform of ellipses (2D: a·b·J1(2πρ)/ρ) and ellipsoids (3D:
 * a·b·c·(sin 2πρ − 2πρ cos 2πρ)/(2π²ρ³)), sampled on the grid the
 * encoding counters name and divided by the voxel size, so that the
 * reconstructed image approximates the object's indicator function
 * (1 inside, 0 outside). The band-limited image rings at the edges (Gibbs)
 * and a step crosses 1/2 at the edge, so the checks are:
 *   - voxels more than 3 voxels inside (outside) the edge: |I − 1| (|I|)
 *     below 0.06 (the ringing of a band-limited step at 3 samples is 3 %);
 *   - the 1/2-crossing of the profile through the centre within 0.2 voxel
 *     of the analytic edge, on both sides (a half-voxel shift moves it 0.5);
 *   - the imaginary part: an odd matrix samples k-space symmetrically, so a
 *     real object gives a real image (|Im| < 1e-4); an even one has the
 *     unpaired −N/2 line (|Im| < 0.05).
 * for 2D and 3D, even and odd sizes. Then each recon feature against a
 * reference it must reproduce: oversampling removal, POCS partial Fourier
 * (closer to the full image than zero-filling), EPI reversed lines with an
 * odd/even phase error corrected from reference lines (the N/2 ghost goes
 * away), averages, coil combination (sum of squares and Roemer, exact on
 * known sensitivities), multi-slice geometry, the refusal of a radial
 * trajectory, and agreement with BART's `bart fft` (1e-5) and with
 * libismrmrd's ismrmrd_recon_cartesian_2d (where installed). The scans of
 * the sequence library end to end are in test_sequences.c.
 */
#include <CUnit/CUnit.h>
#include <complex.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "runtime/phantom/phantom.h"
#include "runtime/io/rawdata.h"
#include "runtime/bloch/simulate.h"
#include "runtime/system/system.h"
#include "tests/testutil.h"
#include "runtime/recon/fft.h"
#include "runtime/recon/image.h"
#include "runtime/recon/recon.h"
#include "base/util.h"

int register_recon_tests(void);

/* --- objects and their Fourier transforms ------------------------------- */

struct ell {
    double c[3];        /* centre (m) */
    double r[3];        /* semi-axes (m); r[2] unused in 2D */
    double angle;       /* about z, rad */
    double value;       /* complex amplitude's magnitude */
};

static void rotate(const struct ell *e, const double v[3], double out[3])
{
    double cs = cos(e->angle), sn = sin(e->angle);
    out[0] = v[0] * cs + v[1] * sn;
    out[1] = -v[0] * sn + v[1] * cs;
    out[2] = v[2];
}

/* the FT of the object at k (cycles/m) */
static double complex ell_ft(const struct ell *e, int dims, const double k[3])
{
    double kr[3];
    rotate(e, k, kr);
    double rho2 = 0;
    for (int d = 0; d < dims; d++)
        rho2 += (e->r[d] * kr[d]) * (e->r[d] * kr[d]);
    double rho = sqrt(rho2), F;
    if (dims == 2) {
        F = rho < 1e-9 ? M_PI : j1(2 * M_PI * rho) / rho;
        F *= e->r[0] * e->r[1];
    } else {
        double u = 2 * M_PI * rho;
        F = u < 1e-3 ? 4 * M_PI / 3 * (1 - u * u / 10)
                     : (sin(u) - u * cos(u)) / (2 * M_PI * M_PI * rho * rho * rho);
        F *= e->r[0] * e->r[1] * e->r[2];
    }
    double ph = 0;
    for (int d = 0; d < dims; d++)
        ph += k[d] * e->c[d];
    return e->value * F * cexp(-2 * M_PI * I * ph);
}

/* Signed distance (in units of the semi-axes' scale) of p from the
   ellipse's edge, approximated as (q − 1)·min radius / 2 with q the
   quadratic form (q = 1 on the edge): good to first order near the edge. */
static double ell_dist(const struct ell *e, int dims, const double p[3])
{
    double v[3] = { p[0] - e->c[0], p[1] - e->c[1], p[2] - e->c[2] }, u[3];
    rotate(e, v, u);
    double q = 0, rmin = 1e9;
    for (int d = 0; d < dims; d++) {
        q += (u[d] / e->r[d]) * (u[d] / e->r[d]);
        if (e->r[d] < rmin)
            rmin = e->r[d];
    }
    return (sqrt(q) - 1) * rmin;
}

/* --- raw data in memory -------------------------------------------------- */

struct synth {
    int dims;                    /* 2 or 3 */
    int n[3];                    /* grid */
    double fov[3];
    int ncoils;
    const struct ell *ell;
    /* optional per-coil sensitivities: coil data = FT(S_c · image) made on
       the grid (used by the coil test only) */
};

static struct raw_file *new_file(const struct synth *s)
{
    struct raw_file *f = xcalloc(1, sizeof *f);
    struct raw_header *h = &f->hdr;
    h->trajectory = "cartesian";
    for (int d = 0; d < 3; d++) {
        h->matrix[d] = d < s->dims || d < 2 ? s->n[d] : 1;
        h->fov[d] = s->fov[d];
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        h->limits[l].min = 1;
        h->limits[l].max = 0;
    }
    h->limits[VM_LABEL_LIN] = (struct raw_limit){ 0, s->n[1] - 1, s->n[1] / 2 };
    if (s->dims == 3)
        h->limits[VM_LABEL_PAR] = (struct raw_limit){ 0, s->n[2] - 1, s->n[2] / 2 };
    h->ncoils = s->ncoils;
    return f;
}

static struct raw_acq *add_acq(struct raw_file *f, uint32_t samples, int ncoils)
{
    f->acq = xrealloc(f->acq, (f->nacq + 1) * sizeof *f->acq);
    struct raw_acq *a = &f->acq[f->nacq++];
    memset(a, 0, sizeof *a);
    a->scan_counter = (uint32_t)(f->nacq - 1);
    a->samples = samples;
    a->ncoils = ncoils;
    a->data = xcalloc((size_t)samples * ncoils * 2, sizeof(float));
    a->dwell = 1e-5;
    a->centre_sample = samples / 2;
    a->read_dir[0] = a->phase_dir[1] = a->slice_dir[2] = 1;
    return a;
}

static void free_file(struct raw_file *f)
{
    for (size_t i = 0; i < f->nacq; i++)
        free((void *)f->acq[i].data);
    free(f->acq);
    free(f);
}

static double voxel_volume(const struct synth *s)
{
    double v = 1;
    for (int d = 0; d < s->dims; d++)
        v *= s->fov[d] / s->n[d];
    return v;
}

/* the sample on grid point (ix, iy, iz) */
static double complex ksample(const struct synth *s, int ix, int iy, int iz)
{
    double k[3] = { (ix - s->n[0] / 2) / s->fov[0], (iy - s->n[1] / 2) / s->fov[1],
                    s->dims == 3 ? (iz - s->n[2] / 2) / s->fov[2] : 0 };
    return ell_ft(s->ell, s->dims, k) / voxel_volume(s);
}

static void put(struct raw_acq *a, int c, uint32_t smp, double complex v)
{
    float *d = (float *)a->data + 2 * ((size_t)c * a->samples + smp);
    d[0] = (float)creal(v);
    d[1] = (float)cimag(v);
}

/* a fully sampled Cartesian file of the ellipse */
static struct raw_file *cartesian(const struct synth *s)
{
    struct raw_file *f = new_file(s);
    int nz = s->dims == 3 ? s->n[2] : 1;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < s->n[1]; y++) {
            struct raw_acq *a = add_acq(f, (uint32_t)s->n[0], 1);
            a->labels[VM_LABEL_LIN] = y;
            a->labels[VM_LABEL_PAR] = z;
            for (int x = 0; x < s->n[0]; x++)
                put(a, 0, (uint32_t)x, ksample(s, x, y, z));
        }
    return f;
}

static struct image_vol *recon(const struct raw_file *f, const struct recon_opts *o)
{
    char err[512] = "";
    struct kspace *k = recon_kspace(f, o, err, sizeof err);
    if (!k)
        fprintf(stderr, "recon_kspace: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    struct image_vol *v = recon_image(k, o, err, sizeof err);
    if (!v)
        fprintf(stderr, "recon_image: %s\n", err);
    kspace_free(k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    return v;
}

static void voxel_pos(const struct image_vol *v, int i, int j, int k, double p[3])
{
    p[0] = (i - v->nx / 2) * v->voxel[0];
    p[1] = (j - v->ny / 2) * v->voxel[1];
    p[2] = (k - v->nz / 2) * v->voxel[2];
}

/* The analytic checks of the header comment; returns the worst values. */
struct ell_check {
    double inside, outside, imag, cross_lo, cross_hi;
};

static double complex at(const struct image_vol *v, int i, int j, int k)
{
    return v->data[((size_t)k * v->ny + j) * v->nx + i];
}

/* the 1/2-crossing along x of row (j, k), searching from the centre
   outwards on one side; returns the position in metres */
static double crossing(const struct image_vol *v, int j, int k, int ic, int dir)
{
    for (int i = ic; i + dir >= 0 && i + dir < v->nx; i += dir) {
        double a = creal(at(v, i, j, k)), b = creal(at(v, i + dir, j, k));
        if (a >= 0.5 && b < 0.5) {
            double t = (a - 0.5) / (a - b);
            return ((i - v->nx / 2) + dir * t) * v->voxel[0];
        }
    }
    return NAN;
}

static struct ell_check check_ellipse(const struct image_vol *v, const struct ell *e, int dims)
{
    struct ell_check r = { 0, 0, 0, 0, 0 };
    double vmin = fmin(v->voxel[0], v->voxel[1]);
    if (dims == 3)
        vmin = fmin(vmin, v->voxel[2]);
    for (int k = 0; k < v->nz; k++)
        for (int j = 0; j < v->ny; j++)
            for (int i = 0; i < v->nx; i++) {
                double p[3];
                voxel_pos(v, i, j, k, p);
                if (dims == 2)
                    p[2] = 0;
                double d = ell_dist(e, dims, p) / vmin;
                double complex x = at(v, i, j, k);
                if (d < -3)
                    r.inside = fmax(r.inside, fabs(creal(x) - e->value));
                else if (d > 3)
                    r.outside = fmax(r.outside, cabs(x));
                r.imag = fmax(r.imag, fabs(cimag(x)));
            }
    /* crossings on the row and slice nearest the centre (rotation 0) */
    int j = (int)lround(e->c[1] / v->voxel[1]) + v->ny / 2;
    int k = dims == 3 ? (int)lround(e->c[2] / v->voxel[2]) + v->nz / 2 : 0;
    int ic = (int)lround(e->c[0] / v->voxel[0]) + v->nx / 2;
    double dy = (j - v->ny / 2) * v->voxel[1] - e->c[1];
    double dz = dims == 3 ? (k - v->nz / 2) * v->voxel[2] - e->c[2] : 0;
    double q = 1 - (dy / e->r[1]) * (dy / e->r[1]) - (dims == 3 ? (dz / e->r[2]) * (dz / e->r[2]) : 0);
    double half = e->r[0] * sqrt(q);
    r.cross_lo = fabs(crossing(v, j, k, ic, -1) - (e->c[0] - half)) / v->voxel[0];
    r.cross_hi = fabs(crossing(v, j, k, ic, +1) - (e->c[0] + half)) / v->voxel[0];
    return r;
}

static void expect_ellipse(const struct image_vol *v, const struct ell *e, int dims, bool odd)
{
    struct ell_check r = check_ellipse(v, e, dims);
    CU_ASSERT(r.inside < 0.06);
    CU_ASSERT(r.outside < 0.06);
    CU_ASSERT(r.cross_lo < 0.2);
    CU_ASSERT(r.cross_hi < 0.2);
    CU_ASSERT(r.imag < (odd ? 1e-4 : 0.05));
    if (!(r.inside < 0.06 && r.outside < 0.06 && r.cross_lo < 0.2 && r.cross_hi < 0.2 &&
          r.imag < (odd ? 1e-4 : 0.05)))
        fprintf(stderr, "\n%dx%dx%d: inside %.4f outside %.4f crossings %.3f %.3f voxel imag %.2e\n",
                v->nx, v->ny, v->nz, r.inside, r.outside, r.cross_lo, r.cross_hi, r.imag);
}

/* --- the centred FFT against the direct sum ------------------------------ */

static void test_fft_direct(void)
{
    int shapes[][3] = { { 1, 1, 7 }, { 1, 1, 8 }, { 1, 5, 6 }, { 3, 4, 5 }, { 2, 3, 3 } };
    for (size_t t = 0; t < ARRAY_LEN(shapes); t++) {
        int *n = shapes[t];
        size_t N = (size_t)n[0] * n[1] * n[2];
        float complex *a = fft_alloc(N);
        double complex *in = xcalloc(N, sizeof *in);
        for (size_t i = 0; i < N; i++) {
            in[i] = cos(1.3 * (double)i) + I * sin(0.7 * (double)i * i);
            a[i] = (float complex)in[i];
        }
        for (int sign = -1; sign <= 1; sign += 2) {
            for (size_t i = 0; i < N; i++)
                a[i] = (float complex)in[i];
            CU_ASSERT_EQUAL_FATAL(fft_centred(a, 3, n, 1, sign), 0);
            double err = 0, norm = 0;
            for (int mz = 0; mz < n[0]; mz++)
                for (int my = 0; my < n[1]; my++)
                    for (int mx = 0; mx < n[2]; mx++) {
                        double complex s = 0;
                        for (int z = 0; z < n[0]; z++)
                            for (int y = 0; y < n[1]; y++)
                                for (int x = 0; x < n[2]; x++) {
                                    double ph = (double)(z - n[0] / 2) * (mz - n[0] / 2) / n[0] +
                                                (double)(y - n[1] / 2) * (my - n[1] / 2) / n[1] +
                                                (double)(x - n[2] / 2) * (mx - n[2] / 2) / n[2];
                                    s += in[((size_t)z * n[1] + y) * n[2] + x] *
                                         cexp(sign * 2 * M_PI * I * ph);
                                }
                        if (sign > 0)
                            s /= (double)N;
                        size_t o = ((size_t)mz * n[1] + my) * n[2] + mx;
                        err += cabs(s - a[o]) * cabs(s - a[o]);
                        norm += cabs(s) * cabs(s);
                    }
            CU_ASSERT(sqrt(err / norm) < 1e-6);
        }
        /* forward then inverse is the identity; batches transform alike */
        for (size_t i = 0; i < N; i++)
            a[i] = (float complex)in[i];
        fft_centred(a, 3, n, 1, -1);
        fft_centred(a, 3, n, 1, +1);
        double e2 = 0;
        for (size_t i = 0; i < N; i++)
            e2 = fmax(e2, cabs(a[i] - in[i]));
        CU_ASSERT(e2 < 1e-5);
        fft_free(a);
        free(in);
    }
    /* a batch of 3 equals 3 single transforms */
    int n2[2] = { 6, 5 };
    float complex *b = fft_alloc(90), *c = fft_alloc(90);
    for (int i = 0; i < 90; i++)
        b[i] = c[i] = (float complex)(sin(i * 0.37) + I * cos(i * 0.11));
    fft_centred(b, 2, n2, 3, +1);
    for (int h = 0; h < 3; h++)
        fft_centred(c + 30 * h, 2, n2, 1, +1);
    double d = 0;
    for (int i = 0; i < 90; i++)
        d = fmax(d, cabsf(b[i] - c[i]));
    CU_ASSERT(d < 1e-6);
    fft_free(b);
    fft_free(c);
}

/* A large array freed and asked for again (the kept mapping) comes back
   cleared, also when the second request is smaller; one much smaller is a
   fresh mapping, equally cleared. */
static void test_fft_alloc_reuse(void)
{
    size_t n = (size_t)1 << 18;               /* 2 MiB: a mapping */
    float complex *a = fft_alloc(n);
    for (size_t i = 0; i < n; i++)
        a[i] = 1 + 2 * I;
    fft_free(a);
    float complex *b = fft_alloc(n - 1000);
    CU_ASSERT_PTR_EQUAL(b, a);                /* the kept mapping came back */
    size_t nonzero = 0;
    for (size_t i = 0; i < n - 1000; i++)
        nonzero += b[i] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    for (size_t i = 0; i < n - 1000; i++)
        b[i] = 3;
    fft_free(b);
    float complex *c = fft_alloc(n / 4);      /* would waste 3/4 of it: fresh */
    nonzero = 0;
    for (size_t i = 0; i < n / 4; i++)
        nonzero += c[i] != 0;
    CU_ASSERT_EQUAL(nonzero, 0);
    fft_free(c);
}

/* --- analytic ellipses ---------------------------------------------------- */

static void run_ellipse_2d(int nx, int ny)
{
    struct ell e = { { 0.0137, -0.0211, 0 }, { 0.071, 0.052, 0 }, 0, 1 };
    struct synth s = { 2, { nx, ny, 1 }, { 0.256, 0.256 * ny / nx, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(f, &o);
    CU_ASSERT_EQUAL(v->nx, nx);
    CU_ASSERT_EQUAL(v->ny, ny);
    CU_ASSERT_EQUAL(v->nz, 1);
    CU_ASSERT_DOUBLE_EQUAL(v->voxel[0], 0.256 / nx, 1e-12);
    expect_ellipse(v, &e, 2, nx % 2 && ny % 2);
    image_free(v);
    free_file(f);
}

static void test_ellipse_2d_even(void) { run_ellipse_2d(64, 64); }
static void test_ellipse_2d_odd(void) { run_ellipse_2d(63, 65); }
static void test_ellipse_2d_mixed(void) { run_ellipse_2d(64, 49); }

static void test_ellipse_2d_rotated(void)
{
    struct ell e = { { -0.02, 0.01, 0 }, { 0.08, 0.04, 0 }, 0.6, 1 };
    struct synth s = { 2, { 65, 65, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(f, &o);
    struct ell_check r = check_ellipse(v, &e, 2);
    CU_ASSERT(r.inside < 0.06);
    CU_ASSERT(r.outside < 0.06);
    CU_ASSERT(r.imag < 1e-4);
    image_free(v);
    free_file(f);
}

static void run_ellipsoid(int nx, int ny, int nz)
{
    struct ell e = { { 0.011, -0.017, 0.009 }, { 0.07, 0.05, 0.06 }, 0, 1 };
    struct synth s = { 3, { nx, ny, nz }, { 0.2, 0.2 * ny / nx, 0.2 * nz / nx }, 1, &e };
    struct raw_file *f = cartesian(&s);
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(f, &o);
    CU_ASSERT_EQUAL(v->nz, nz);
    CU_ASSERT_DOUBLE_EQUAL(v->voxel[2], s.fov[2] / nz, 1e-12);
    expect_ellipse(v, &e, 3, nx % 2 && ny % 2 && nz % 2);
    image_free(v);
    free_file(f);
}

static void test_ellipsoid_even(void) { run_ellipsoid(40, 40, 40); }
static void test_ellipsoid_odd(void) { run_ellipsoid(41, 39, 43); }

/* --- readout oversampling ------------------------------------------------- */

static void test_oversampling(void)
{
    struct ell e = { { 0.01, 0.02, 0 }, { 0.06, 0.05, 0 }, 0, 1 };
    /* 2x oversampled readout: 128 samples over 512 mm, recon FOV 256 mm */
    struct synth s = { 2, { 128, 64, 1 }, { 0.512, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    f->hdr.recon_fov[0] = 0.256;
    f->hdr.recon_fov[1] = 0.256;
    f->hdr.recon_matrix[0] = 64;
    f->hdr.recon_matrix[1] = 64;
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(f, &o);
    CU_ASSERT_EQUAL(v->nx, 64);
    CU_ASSERT_EQUAL(v->ny, 64);
    CU_ASSERT_DOUBLE_EQUAL(v->voxel[0], 0.004, 1e-12);
    expect_ellipse(v, &e, 2, false);
    image_free(v);
    o.keep_oversampling = true;
    v = recon(f, &o);
    CU_ASSERT_EQUAL(v->nx, 128);
    image_free(v);
    free_file(f);
}

/* --- partial Fourier --------------------------------------------------- */

/* The object ellipse · e^{i(0.8 + 2π s·y)} (a phase offset and ramp, so
   that the image is not real): its k-space is F(k − s)·e^{0.8i}. */
static double complex shifted(const struct synth *s, int ix, int iy, double sy)
{
    double k[3] = { (ix - s->n[0] / 2) / s->fov[0], (iy - s->n[1] / 2) / s->fov[1] - sy, 0 };
    return ell_ft(s->ell, 2, k) / voxel_volume(s) * cexp(0.8 * I);
}

static double nrmse_mag(const struct image_vol *a, const struct image_vol *b)
{
    double e = 0, n = 0;
    size_t N = (size_t)a->nx * a->ny * a->nz;
    for (size_t i = 0; i < N; i++) {
        double d = cabsf(a->data[i]) - cabsf(b->data[i]);
        e += d * d;
        n += cabsf(b->data[i]) * cabsf(b->data[i]);
    }
    return sqrt(e / n);
}

static void test_partial_fourier(void)
{
    struct ell e = { { 0.005, -0.01, 0 }, { 0.07, 0.06, 0 }, 0, 1 };
    struct synth s = { 2, { 64, 64, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    double sy = 1.0 / s.fov[1];      /* a ramp of one cycle over the FOV */
    struct raw_file *full = new_file(&s), *pf = new_file(&s);
    int first = 64 * 3 / 8;          /* 5/8 of the lines: 24 .. 63 */
    for (int y = 0; y < 64; y++) {
        struct raw_acq *a = add_acq(full, 64, 1);
        a->labels[VM_LABEL_LIN] = y;
        for (int x = 0; x < 64; x++)
            put(a, 0, (uint32_t)x, shifted(&s, x, y, sy));
        if (y >= first) {
            struct raw_acq *b = add_acq(pf, 64, 1);
            b->labels[VM_LABEL_LIN] = y;
            memcpy((void *)b->data, a->data, 64 * 2 * sizeof(float));
        }
    }
    pf->hdr.limits[VM_LABEL_LIN].min = first;
    struct recon_opts o = { 0 };
    struct image_vol *ref = recon(full, &o);
    o.pf = RECON_PF_ZERO;
    struct image_vol *zf = recon(pf, &o);
    o.pf = RECON_PF_POCS;
    struct image_vol *pocs_img = recon(pf, &o);
    CU_ASSERT_EQUAL(zf->ny, 64);
    double ezf = nrmse_mag(zf, ref), epocs = nrmse_mag(pocs_img, ref);
    CU_ASSERT(epocs < 0.5 * ezf);
    CU_ASSERT(epocs < 0.05);
    if (!(epocs < 0.5 * ezf && epocs < 0.05))
        fprintf(stderr, "\npartial Fourier: zero-filled %.4f, POCS %.4f\n", ezf, epocs);
    image_free(ref);
    image_free(zf);
    image_free(pocs_img);
    free_file(full);
    free_file(pf);
}

/* --- EPI: reversed lines and odd/even phase correction ------------------- */

/* One EPI line: grid samples line[x] (x = 0 .. n-1), and for a reversed
   line a phase error e^{i(a + b(x − n/2))} in hybrid space (x transformed);
   stored in acquisition order. */
static void epi_line(struct raw_acq *acq, const double complex *line, int n, bool rev, double pa,
                     double pb)
{
    float complex *t = fft_alloc((size_t)n);
    for (int x = 0; x < n; x++)
        t[x] = (float complex)line[x];
    if (rev) {
        fft_centred(t, 1, &n, 1, +1);
        for (int x = 0; x < n; x++)
            t[x] *= (float complex)cexp(I * (pa + pb * (x - n / 2)));
        fft_centred(t, 1, &n, 1, -1);
        acq->flags |= RAW_FLAG(RAW_IS_REVERSE);
    }
    for (uint32_t smp = 0; smp < (uint32_t)n; smp++) {
        /* grid index of sample smp: forward smp; reversed n − smp */
        long gx = rev ? n - (long)smp : (long)smp;
        put(acq, 0, smp, gx < n ? t[gx] : 0);
    }
    fft_free(t);
}

static struct raw_file *epi_file(const struct synth *s, bool refs, double pa, double pb)
{
    struct raw_file *f = new_file(s);
    f->hdr.trajectory = "epi";
    int n = s->n[0];
    double complex *line = xcalloc((size_t)n, sizeof *line);
    if (refs)
        for (int r = 0; r < 3; r++) {
            for (int x = 0; x < n; x++)
                line[x] = ksample(s, x, s->n[1] / 2, 0);
            struct raw_acq *a = add_acq(f, (uint32_t)n, 1);
            a->labels[VM_LABEL_LIN] = s->n[1] / 2;
            a->flags |= RAW_FLAG(RAW_IS_PHASECORR_DATA);
            epi_line(a, line, n, r == 1, pa, pb);
        }
    for (int y = 0; y < s->n[1]; y++) {
        for (int x = 0; x < n; x++)
            line[x] = ksample(s, x, y, 0);
        struct raw_acq *a = add_acq(f, (uint32_t)n, 1);
        a->labels[VM_LABEL_LIN] = y;
        epi_line(a, line, n, y % 2, pa, pb);
    }
    free(line);
    return f;
}

/* the mean magnitude of the N/2 ghost's band: voxels outside the object
   whose y-shifted-by-N/2 partner is inside */
static double ghost_level(const struct image_vol *v, const struct ell *e)
{
    double sum = 0;
    int n = 0;
    for (int j = 0; j < v->ny; j++)
        for (int i = 0; i < v->nx; i++) {
            double p[3], q[3];
            voxel_pos(v, i, j, 0, p);
            voxel_pos(v, i, (j + v->ny / 2) % v->ny, 0, q);
            p[2] = q[2] = 0;
            if (ell_dist(e, 2, p) > 3 * v->voxel[0] && ell_dist(e, 2, q) < -3 * v->voxel[0]) {
                sum += cabs(at(v, i, j, 0));
                n++;
            }
        }
    return n ? sum / n : 0;
}

static void test_epi(void)
{
    struct ell e = { { 0.0, 0.01, 0 }, { 0.06, 0.045, 0 }, 0, 1 };
    struct synth s = { 2, { 64, 64, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    double pa = 0.4, pb = 0.05;      /* rad, rad per sample */
    struct recon_opts o = { 0 };
    /* no phase error: flipping the reversed lines is all it takes */
    struct raw_file *f0 = epi_file(&s, false, 0, 0);
    struct image_vol *v0 = recon(f0, &o);
    struct ell_check r0 = check_ellipse(v0, &e, 2);
    CU_ASSERT(r0.inside < 0.06 && r0.outside < 0.06);
    CU_ASSERT(r0.cross_lo < 0.2 && r0.cross_hi < 0.2);
    /* a phase error, no reference lines: the N/2 ghost */
    struct raw_file *f1 = epi_file(&s, false, pa, pb);
    struct image_vol *v1 = recon(f1, &o);
    double g1 = ghost_level(v1, &e);
    CU_ASSERT(g1 > 0.1);
    /* with reference lines: corrected */
    struct raw_file *f2 = epi_file(&s, true, pa, pb);
    char err[256];
    struct kspace *k = recon_kspace(f2, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT(k->phase_corrected);
    CU_ASSERT_EQUAL(k->nphasecorr, 3);
    CU_ASSERT_EQUAL(k->nreversed, 32);
    struct image_vol *v2 = recon_image(k, &o, err, sizeof err);
    kspace_free(k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
    double g2 = ghost_level(v2, &e);
    struct ell_check r2 = check_ellipse(v2, &e, 2);
    CU_ASSERT(g2 < 0.01);
    CU_ASSERT(r2.inside < 0.06);
    if (!(g1 > 0.1 && g2 < 0.01))
        fprintf(stderr, "\nEPI ghost: uncorrected %.4f, corrected %.4f\n", g1, g2);
    image_free(v0);
    image_free(v1);
    image_free(v2);
    free_file(f0);
    free_file(f1);
    free_file(f2);
}

/* --- averages, coils, slices, frames ------------------------------------ */

static void test_averages(void)
{
    struct ell e = { { 0.0, 0.0, 0 }, { 0.06, 0.05, 0 }, 0, 1 };
    struct synth s = { 2, { 32, 32, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s), *g = new_file(&s);
    /* two averages: data + d and data − d */
    for (int avg = 0; avg < 2; avg++)
        for (size_t i = 0; i < f->nacq; i++) {
            struct raw_acq *a = add_acq(g, 32, 1);
            a->labels[VM_LABEL_LIN] = f->acq[i].labels[VM_LABEL_LIN];
            a->labels[VM_LABEL_AVG] = avg;
            for (uint32_t x = 0; x < 32; x++) {
                const float *d = f->acq[i].data + 2 * x;
                double complex dv = 0.3 * cos(x * 1.7 + (double)i) + 0.2 * I * sin(x + 2.0 * (double)i);
                put(a, 0, x, d[0] + I * d[1] + (avg ? -dv : dv));
            }
        }
    struct recon_opts o = { 0 };
    struct image_vol *a = recon(f, &o), *b = recon(g, &o);
    double d = 0;
    for (size_t i = 0; i < 32 * 32; i++)
        d = fmax(d, cabsf(a->data[i] - b->data[i]));
    CU_ASSERT(d < 1e-5);
    CU_ASSERT_EQUAL(b->nframes, 1);
    image_free(a);
    image_free(b);
    free_file(f);
    free_file(g);
}

static void test_coils(void)
{
    enum { N = 32, NC = 4 };
    /* a reference complex image, coil images S_c·m, their k-space */
    float complex *m = fft_alloc(N * N), *sens = xcalloc(N * N * NC, sizeof *sens);
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            double x = (i - N / 2) / (double)N, y = (j - N / 2) / (double)N;
            m[j * N + i] = (float complex)((x * x / 0.12 + y * y / 0.08 < 1 ? 1.0 : 0.0) *
                                           cexp(I * 2.0 * x));
            for (int c = 0; c < NC; c++) {
                double th = 2 * M_PI * c / NC;
                sens[(size_t)c * N * N + j * N + i] =
                    (float complex)((1 + 0.8 * cos(th) * x + 0.8 * sin(th) * y) * cexp(I * th));
            }
        }
    struct ell dummy = { { 0, 0, 0 }, { 1, 1, 1 }, 0, 1 };
    struct synth s = { 2, { N, N, 1 }, { 0.256, 0.256, 0.005 }, NC, &dummy };
    struct raw_file *f = new_file(&s);
    float complex *k = fft_alloc(N * N * NC);
    for (int c = 0; c < NC; c++)
        for (int p = 0; p < N * N; p++)
            k[c * N * N + p] = sens[(size_t)c * N * N + p] * m[p];
    int dims[2] = { N, N };
    fft_centred(k, 2, dims, NC, -1);
    for (int y = 0; y < N; y++) {
        struct raw_acq *a = add_acq(f, N, NC);
        a->labels[VM_LABEL_LIN] = y;
        for (int c = 0; c < NC; c++)
            for (int x = 0; x < N; x++)
                put(a, c, (uint32_t)x, k[(size_t)c * N * N + y * N + x]);
    }
    struct recon_opts o = { 0 };
    struct image_vol *sos = recon(f, &o);
    CU_ASSERT_FALSE(sos->is_complex);
    double d = 0;
    for (int p = 0; p < N * N; p++) {
        double ss = 0;
        for (int c = 0; c < NC; c++)
            ss += cabsf(sens[(size_t)c * N * N + p]) * cabsf(sens[(size_t)c * N * N + p]);
        d = fmax(d, fabs(crealf(sos->data[p]) - cabsf(m[p]) * sqrt(ss)));
    }
    CU_ASSERT(d < 1e-5);
    o.sens = sens;
    o.sens_dims[0] = N;
    o.sens_dims[1] = N;
    o.sens_dims[2] = 1;
    o.sens_dims[3] = NC;
    struct image_vol *roe = recon(f, &o);
    CU_ASSERT_TRUE(roe->is_complex);
    d = 0;
    for (int p = 0; p < N * N; p++)
        d = fmax(d, cabsf(roe->data[p] - m[p]));
    CU_ASSERT(d < 1e-5);
    /* maps of the wrong size are refused */
    o.sens_dims[0] = N + 1;
    char err[256];
    struct kspace *ks = recon_kspace(f, &o, err, sizeof err);
    CU_ASSERT_PTR_NULL(recon_image(ks, &o, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sensitivities"));
    kspace_free(ks);
    image_free(sos);
    image_free(roe);
    fft_free(m);
    fft_free(k);
    free(sens);
    free_file(f);
}

static void test_slices_and_frames(void)
{
    struct ell e[2] = { { { 0.01, 0, 0 }, { 0.05, 0.04, 0 }, 0, 1 },
                        { { -0.02, 0.01, 0 }, { 0.04, 0.06, 0 }, 0, 1 } };
    struct synth s = { 2, { 65, 65, 1 }, { 0.256, 0.256, 0.005 }, 1, NULL };
    struct raw_file *f = new_file(&s);
    /* 2 slices at z = -4 and +6 mm (spacing 10 mm), 2 echoes with the
       second at half the amplitude; slices interleaved line by line */
    for (int y = 0; y < 65; y++)
        for (int sl = 0; sl < 2; sl++)
            for (int eco = 0; eco < 2; eco++) {
                s.ell = &e[sl];
                struct raw_acq *a = add_acq(f, 65, 1);
                a->labels[VM_LABEL_LIN] = y;
                a->labels[VM_LABEL_SLC] = sl;
                a->labels[VM_LABEL_ECO] = eco;
                a->position[2] = sl ? 6.0f : -4.0f;
                for (int x = 0; x < 65; x++)
                    put(a, 0, (uint32_t)x, ksample(&s, x, y, 0) * (eco ? 0.5 : 1));
            }
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(f, &o);
    CU_ASSERT_EQUAL(v->nz, 2);
    CU_ASSERT_EQUAL(v->nframes, 2);
    CU_ASSERT_EQUAL(v->frame_labels[1][VM_LABEL_ECO], 1);
    CU_ASSERT_DOUBLE_EQUAL(v->voxel[2], 0.010, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(v->position[2], 0.001, 1e-9);
    for (int sl = 0; sl < 2; sl++) {
        struct image_vol one = *v;
        one.nz = 1;
        one.nframes = 1;
        one.data = v->data + (size_t)sl * 65 * 65;
        expect_ellipse(&one, &e[sl], 2, true);
        /* echo 2 at half the amplitude */
        double r = 0;
        for (int p = 0; p < 65 * 65; p++) {
            float complex a1 = v->data[(size_t)sl * 65 * 65 + p];
            float complex a2 = v->data[(size_t)(2 + sl) * 65 * 65 + p];
            r = fmax(r, cabsf(a2 - 0.5f * a1));
        }
        CU_ASSERT(r < 1e-5);
    }
    image_free(v);
    free_file(f);
}

static void test_trajectory_refused(void)
{
    struct ell e = { { 0, 0, 0 }, { 0.05, 0.05, 0 }, 0, 1 };
    struct synth s = { 2, { 16, 16, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    const char *trajs[] = { "radial", "spiral", "goldenangle" };
    for (size_t i = 0; i < ARRAY_LEN(trajs); i++) {
        f->hdr.trajectory = trajs[i];
        char err[512] = "";
        struct recon_opts o = { 0 };
        CU_ASSERT_PTR_NULL(recon_kspace(f, &o, err, sizeof err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, trajs[i]));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "Cartesian"));
    }
    free_file(f);
}

/* --- other tools ---------------------------------------------------------- */

static char tdir[256];

static int recon_init(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tdir, sizeof tdir, "%s/larmor-recon-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(tdir) ? 0 : 1;
}

static int recon_cleanup(void)
{
    DIR *d = opendir(tdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = xasprintf("%s/%s", tdir, e->d_name);
                unlink(p);
                free(p);
            }
        closedir(d);
    }
    rmdir(tdir);
    fft_cleanup();
    return 0;
}

/* Our centred inverse FFT against `bart fft -i` (unnormalised, centred:
   ours × N) on the k-space of an ellipse, even and odd sizes. */
static void run_bart(int nx, int ny)
{
    struct ell e = { { 0.012, -0.007, 0 }, { 0.07, 0.05, 0 }, 0.3, 1 };
    struct synth s = { 2, { nx, ny, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    struct recon_opts o = { 0 };
    char err[512];
    struct kspace *k = recon_kspace(f, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    char *kb = xasprintf("%s/k%dx%d", tdir, nx, ny), *ib = xasprintf("%s/i%dx%d", tdir, nx, ny);
    long dims[16] = { nx, ny, 1, 1 };
    CU_ASSERT_EQUAL_FATAL(cfl_write(kb, 4, dims, k->data, err, sizeof err), 0);
    char *cmd = xasprintf("bart fft -i 3 %s %s", kb, ib);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    free(cmd);
    struct image_vol *v = recon_image(k, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    long bd[16];
    float complex *b = NULL;
    CU_ASSERT_EQUAL_FATAL(cfl_read(ib, bd, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(bd[0], nx);
    CU_ASSERT_EQUAL(bd[1], ny);
    double num = 0, den = 0;
    for (int p = 0; p < nx * ny; p++) {
        double complex ours = (double complex)v->data[p] * (double)(nx * ny);
        num += cabs(ours - b[p]) * cabs(ours - b[p]);
        den += cabs((double complex)b[p]) * cabs((double complex)b[p]);
    }
    double rel = sqrt(num / den);
    CU_ASSERT(rel < 1e-5);
    if (!(rel < 1e-5))
        fprintf(stderr, "\nBART %dx%d: relative error %.3g\n", nx, ny, rel);
    free(b);
    image_free(v);
    kspace_free(k);
    free(kb);
    free(ib);
    free_file(f);
}

static void test_bart(void)
{
    if (!test_have_program("bart")) {
        test_skip("bart is not installed: BART comparison skipped");
        return;
    }
    run_bart(64, 64);
    run_bart(63, 65);
    run_bart(48, 33);
}

/* Write f as an ISMRMRD file through our writer. */
static char *write_raw(const struct raw_file *f, const char *name)
{
    char *path = xasprintf("%s/%s", tdir, name);
    char err[512];
    struct raw_writer *w = raw_open(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (size_t i = 0; i < f->nacq; i++)
        CU_ASSERT_EQUAL(raw_append(w, &f->acq[i], err, sizeof err), 0);
    struct raw_header h = f->hdr;
    h.sequence_name = "ellipse";
    h.system_name = "test";
    h.b0 = 3;
    h.larmor_hz = 127.7e6;
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), 0);
    return path;
}

/* the first image of series `series` in an ISMRMRD file, as magnitudes */
static float *read_ismrmrd_image(const char *path, const char *series, int *nx, int *ny)
{
    ISMRMRD_Dataset d;
    ismrmrd_init_dataset(&d, path, "dataset");
    if (ismrmrd_open_dataset(&d, false) != ISMRMRD_NOERROR)
        return NULL;
    ISMRMRD_Image im;
    ismrmrd_init_image(&im);
    float *out = NULL;
    if (ismrmrd_read_image(&d, series, 0, &im) == ISMRMRD_NOERROR) {
        *nx = im.head.matrix_size[0];
        *ny = im.head.matrix_size[1];
        size_t n = (size_t)*nx * *ny;
        out = xcalloc(n, sizeof *out);
        for (size_t i = 0; i < n; i++) {
            if (im.head.data_type == ISMRMRD_FLOAT)
                out[i] = fabsf(((float *)im.data)[i]);
            else if (im.head.data_type == ISMRMRD_CXFLOAT)
                out[i] = cabsf(((float complex *)im.data)[i]);
            else if (im.head.data_type == ISMRMRD_USHORT)
                out[i] = ((uint16_t *)im.data)[i];
        }
    }
    ismrmrd_cleanup_image(&im);
    ismrmrd_close_dataset(&d);
    return out;
}

/* ours and theirs agree up to one scale factor (their normalisation):
   the relative error after the least-squares scale */
static double scaled_error(const float *theirs, const struct image_vol *ours)
{
    size_t n = (size_t)ours->nx * ours->ny;
    double st = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        st += theirs[i] * cabsf(ours->data[i]);
        ss += cabsf(ours->data[i]) * cabsf(ours->data[i]);
    }
    double a = st / ss, e = 0, t = 0;
    for (size_t i = 0; i < n; i++) {
        double d = theirs[i] - a * cabsf(ours->data[i]);
        e += d * d;
        t += (double)theirs[i] * theirs[i];
    }
    return sqrt(e / t);
}

static void test_ismrmrd_tools(void)
{
    if (!test_have_program("ismrmrd_recon_cartesian_2d") ||
        !test_have_program("ismrmrd_generate_cartesian_shepp_logan")) {
        test_skip("ismrmrd-tools are not installed: comparison skipped");
        return;
    }
    char err[512];
    /* 1. our raw data, their recon and ours */
    struct ell e = { { 0.012, -0.02, 0 }, { 0.08, 0.06, 0 }, 0.2, 1 };
    struct synth s = { 2, { 64, 64, 1 }, { 0.256, 0.256, 0.005 }, 1, &e };
    struct raw_file *f = cartesian(&s);
    char *path = write_raw(f, "ours.h5");
    char *cmd = xasprintf("ismrmrd_info %s >/dev/null 2>&1 && "
                          "ismrmrd_recon_cartesian_2d %s >/dev/null 2>&1", path, path);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    free(cmd);
    int nx = 0, ny = 0;
    float *theirs = read_ismrmrd_image(path, "cpp", &nx, &ny);
    CU_ASSERT_PTR_NOT_NULL_FATAL(theirs);
    CU_ASSERT_EQUAL(nx, 64);
    CU_ASSERT_EQUAL(ny, 64);
    struct raw_file *back = raw_read(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    struct recon_opts o = { 0 };
    struct image_vol *v = recon(back, &o);
    double rel = scaled_error(theirs, v);
    CU_ASSERT(rel < 1e-4);
    if (!(rel < 1e-4))
        fprintf(stderr, "\nismrmrd_recon_cartesian_2d vs ours: %.3g\n", rel);
    image_free(v);
    free(theirs);
    raw_file_free(back);
    free_file(f);
    free(path);
    /* 2. their raw data (4 coils, 2x oversampled readout): ours vs theirs */
    path = xasprintf("%s/theirs.h5", tdir);
    cmd = xasprintf("ismrmrd_generate_cartesian_shepp_logan -o %s -m 64 -c 4 -r 1 -n 0 "
                    ">/dev/null 2>&1 && ismrmrd_recon_cartesian_2d %s >/dev/null 2>&1",
                    path, path);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    free(cmd);
    theirs = read_ismrmrd_image(path, "cpp", &nx, &ny);
    CU_ASSERT_PTR_NOT_NULL_FATAL(theirs);
    back = raw_read(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    v = recon(back, &o);
    CU_ASSERT_EQUAL(v->nx, nx);
    CU_ASSERT_EQUAL(v->ny, ny);
    if (v->nx == nx && v->ny == ny) {
        rel = scaled_error(theirs, v);
        CU_ASSERT(rel < 1e-4);
        if (!(rel < 1e-4))
            fprintf(stderr, "\nShepp-Logan: ismrmrd_recon_cartesian_2d vs ours: %.3g\n", rel);
    }
    image_free(v);
    free(theirs);
    raw_file_free(back);
    free(path);
}

int register_recon_tests(void)
{
    static const struct test_def tests[] = {
        { "centred FFT equals the direct sum (even, odd, 1-3D, batches)", test_fft_direct },
        { "a large array freed and allocated again is cleared", test_fft_alloc_reuse },
        { "2D ellipse, 64 x 64: analytic image, no half-voxel shift", test_ellipse_2d_even },
        { "2D ellipse, 63 x 65", test_ellipse_2d_odd },
        { "2D ellipse, 64 x 49", test_ellipse_2d_mixed },
        { "2D rotated ellipse, 65 x 65", test_ellipse_2d_rotated },
        { "3D ellipsoid, 40^3", test_ellipsoid_even },
        { "3D ellipsoid, 41 x 39 x 43", test_ellipsoid_odd },
        { "readout oversampling removed", test_oversampling },
        { "partial Fourier 5/8: POCS beats zero-filling", test_partial_fourier },
        { "EPI: reversed lines, odd/even phase correction", test_epi },
        { "averages are averaged", test_averages },
        { "coils: sum of squares and Roemer", test_coils },
        { "multi-slice and multi-echo geometry", test_slices_and_frames },
        { "radial and spiral data refused by name", test_trajectory_refused },
        { "agrees with bart fft to 1e-5", test_bart },
        { "agrees with ismrmrd_recon_cartesian_2d", test_ismrmrd_tools },
    };
    return TEST_ADD_FIXTURE_SUITE("recon", recon_init, recon_cleanup, tests);
}
