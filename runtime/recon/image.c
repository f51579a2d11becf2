/*
 * image: the reconstructed image volume (struct image_vol) and its writers:
 * PNG (libpng's simplified API), NIfTI-1 (the header laid out byte by byte
 * here, little-endian whatever the host) and BART .cfl/.hdr pairs; the
 * ISMRMRD image writer (libismrmrd's C API) is image_ismrmrd.c. See
 * image.h for the contract; image_internal.h for what the writers share,
 * which is here: the check of a volume.
 *
 * Every file is written through base/outfile (a temporary name next to its
 * final name, renamed into place once it is complete), so that a reader
 * never sees half a file; on any error the temporary is removed. The one exception is appending images to an
 * existing ISMRMRD file, which is done in place.
 *
 * Owned here: nothing beyond a call, except the volumes image_new returns.
 */
#include "runtime/recon/image.h"
#include "runtime/recon/image_internal.h"
#include "runtime/recon/fft.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "base/outfile.h"
#include "base/util.h"

/* ---------------------------------------------------------------------- */
/* The volume                                                              */
/* ---------------------------------------------------------------------- */

struct image_vol *image_new(int nx, int ny, int nz, int nframes)
{
    if (nx <= 0 || ny <= 0 || nz <= 0 || nframes <= 0)
        return NULL;
    size_t n = (size_t)nx;
    if (n > SIZE_MAX / (size_t)ny || (n *= (size_t)ny) > SIZE_MAX / (size_t)nz ||
        (n *= (size_t)nz) > SIZE_MAX / (size_t)nframes ||
        (n *= (size_t)nframes) > SIZE_MAX / sizeof(float complex))
        return NULL;
    struct image_vol *v = xcalloc(1, sizeof *v);
    v->nx = nx;
    v->ny = ny;
    v->nz = nz;
    v->nframes = nframes;
    v->data = xcalloc(n, sizeof *v->data);
    v->is_complex = true;
    for (int a = 0; a < 3; a++)
        v->voxel[a] = 1e-3;
    v->read_dir[0] = 1.0;
    v->phase_dir[1] = 1.0;
    v->slice_dir[2] = 1.0;
    v->frame_labels = xcalloc((size_t)nframes, sizeof *v->frame_labels);
    return v;
}

struct image_vol *image_adopt(int nx, int ny, int nz, int nframes, float complex *data)
{
    struct image_vol *v = image_new(1, 1, 1, nframes);
    if (!v || nx <= 0 || ny <= 0 || nz <= 0) {
        image_free(v);
        return NULL;
    }
    free(v->data);
    v->nx = nx;
    v->ny = ny;
    v->nz = nz;
    v->data = data;
    v->fft_owned = true;
    return v;
}

void image_free(struct image_vol *v)
{
    if (!v)
        return;
    if (v->fft_owned)
        fft_free(v->data);
    else
        free(v->data);
    free(v->frame_labels);
    free(v);
}

/* ---------------------------------------------------------------------- */
/* Errors, checks, temporary files                                         */
/* ---------------------------------------------------------------------- */

/* The number of voxels of all frames, or 0 with a message naming file when
   v cannot be written. */
size_t img_check(const struct image_vol *v, const char *file, char *err, size_t errlen)
{
    if (!file || !*file) {
        errf(err, errlen, "image: no output file name");
        return 0;
    }
    if (!v) {
        errf(err, errlen, "%s: no image volume to write", file);
        return 0;
    }
    if (v->nx <= 0 || v->ny <= 0 || v->nz <= 0 || v->nframes <= 0) {
        errf(err, errlen, "%s: image of %d x %d x %d voxels and %d frames: every size must "
                "be at least 1", file, v->nx, v->ny, v->nz, v->nframes);
        return 0;
    }
    if (!v->data) {
        errf(err, errlen, "%s: the image volume has no data", file);
        return 0;
    }
    size_t n = (size_t)v->nx;
    if (n > SIZE_MAX / (size_t)v->ny || (n *= (size_t)v->ny) > SIZE_MAX / (size_t)v->nz ||
        (n *= (size_t)v->nz) > SIZE_MAX / (size_t)v->nframes ||
        (n *= (size_t)v->nframes) > SIZE_MAX / sizeof(float complex)) {
        errf(err, errlen, "%s: image of %d x %d x %d voxels and %d frames is too large", file,
                v->nx, v->ny, v->nz, v->nframes);
        return 0;
    }
    return n;
}

const int32_t *img_labels(const struct image_vol *v, int f)
{
    static const int32_t zero[VM_LABEL__COUNT];
    return v->frame_labels ? v->frame_labels[f] : zero;
}

const float complex *img_slice(const struct image_vol *v, int f, int k)
{
    return v->data + ((size_t)f * (size_t)v->nz + (size_t)k) * (size_t)v->ny * (size_t)v->nx;
}

/* ---------------------------------------------------------------------- */
/* PNG                                                                     */
/* ---------------------------------------------------------------------- */

/* The k-th smallest (0-based, k < n) of n non-negative finite floats given
   by their bit patterns, which order as the floats do: two passes of a
   16-bit radix selection, linear in n whatever the values. */
static uint32_t img_radix_select(const uint32_t *b, size_t n, size_t k)
{
    size_t *hist = xcalloc(65536, sizeof *hist);
    for (size_t i = 0; i < n; i++)
        hist[b[i] >> 16]++;
    size_t below = 0;
    uint32_t hi = 0;
    while (below + hist[hi] <= k)
        below += hist[hi++];
    memset(hist, 0, 65536 * sizeof *hist);
    for (size_t i = 0; i < n; i++)
        if (b[i] >> 16 == hi)
            hist[b[i] & 0xffffu]++;
    uint32_t lo = 0;
    while (below + hist[lo] <= k)
        below += hist[lo++];
    free(hist);
    return hi << 16 | lo;
}

static float img_bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The q-quantile (0 <= q <= 1) of the magnitudes of n voxels, linear between
   the closest ranks (position q·(m-1) among the m finite magnitudes sorted,
   as numpy's default); NaNs and infinities are left out; 0 when none is
   left. */
static double img_quantile(const float complex *d, size_t n, double q)
{
    uint32_t *bits = xmalloc((n ? n : 1) * sizeof *bits);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        float a = cabsf(d[i]);
        uint32_t u;
        memcpy(&u, &a, sizeof u);
        u &= 0x7fffffffu;                 /* -0 and a signed NaN */
        if (u < 0x7f800000u)              /* finite */
            bits[m++] = u;
    }
    double r = 0;
    if (m) {
        double pos = q * (double)(m - 1);
        size_t k = (size_t)pos;
        double frac = pos - (double)k;
        r = img_bits_float(img_radix_select(bits, m, k));
        if (frac > 0 && k + 1 < m) {
            double r1 = img_bits_float(img_radix_select(bits, m, k + 1));
            r += frac * (r1 - r);
        }
    }
    free(bits);
    return r;
}

/* The grey level of a magnitude: 255·(m - lo)/range, rounded to the
   nearest and clamped; NaN, and everything when range is 0, is black. */
static unsigned char img_grey(float m, double lo, double range)
{
    if (!(range > 0))
        return 0;
    double g = 255.0 * ((double)m - lo) / range;
    if (!(g > 0))
        return 0;
    if (g >= 255)
        return 255;
    return (unsigned char)(g + 0.5);
}

/* Slice k of frame f into the image buffer at (x0, y0) (row y0 the top of
   the tile), its smallest y on top. */
static void img_tile(unsigned char *buf, size_t stride, size_t x0, size_t y0,
                     const struct image_vol *v, int f, int k, double lo, double range)
{
    const float complex *s = img_slice(v, f, k);
    for (int j = 0; j < v->ny; j++) {
        unsigned char *row = buf + (y0 + (size_t)j) * stride + x0;
        const float complex *src = s + (size_t)j * (size_t)v->nx;
        for (int i = 0; i < v->nx; i++)
            row[i] = img_grey(cabsf(src[i]), lo, range);
    }
}

/* The name of one PNG: path itself, or its stem (up to the last '.' of the
   last component) with "_fNN" and/or "_sNNN" and then its extension. */
static char *img_png_name(const char *path, bool frames, bool slices, int f, int k)
{
    if (!frames && !slices)
        return xstrdup(path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = path + strlen(path);
    struct strbuf b;
    sb_init(&b);
    sb_putn(&b, path, (size_t)(dot - path));
    if (frames)
        sb_printf(&b, "_f%02d", f);
    if (slices)
        sb_printf(&b, "_s%03d", k);
    sb_puts(&b, dot);
    return sb_take(&b);
}

static int img_png_file(const char *name, const unsigned char *buf, size_t w, size_t h,
                        char *err, size_t errlen)
{
    struct outfile t;
    if (outfile_open(&t, name, err, errlen) < 0)
        return -1;
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.opaque = NULL;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = PNG_FORMAT_GRAY;
    if (!png_image_write_to_stdio(&im, t.fp, 0, buf, (png_int_32)w, NULL)) {
        errf(err, errlen, "%s: libpng cannot write the image: %s", name,
                im.message[0] ? im.message : "unknown error");
        png_image_free(&im);
        outfile_abort(&t);
        return -1;
    }
    png_image_free(&im);
    return outfile_commit(&t, err, errlen);
}

static void img_names_push(char ***names, size_t *nnames, const char *s)
{
    if (!names || !nnames)
        return;
    *names = xrealloc(*names, (*nnames + 1) * sizeof **names);
    (*names)[(*nnames)++] = xstrdup(s);
}

int img_write_png(const struct image_vol *v, const char *path, const struct png_opts *o,
                  char ***names, size_t *nnames, char *err, size_t errlen)
{
    size_t n = img_check(v, path, err, errlen);
    if (!n)
        return -1;
    double lo = o ? o->lo : 0, hi = o ? o->hi : 0;
    bool mosaic = o && o->mosaic;
    if (lo == 0 && hi == 0) {
        hi = img_quantile(v->data, n, 0.995);
    } else if (!isfinite(lo) || !isfinite(hi) || !(hi > lo)) {
        errf(err, errlen, "%s: window %g to %g is empty: the upper end must be above the "
                "lower", path, lo, hi);
        return -1;
    }
    double range = hi > lo ? hi - lo : 0.0;    /* 0: an all-zero volume, black */

    int cols = 1, rows = 1;
    if (mosaic) {
        while ((long long)cols * cols < v->nz)
            cols++;
        rows = (v->nz + cols - 1) / cols;
    }
    size_t w = (size_t)cols * (size_t)v->nx, h = (size_t)rows * (size_t)v->ny;
    if (w > 0x7fffffffu || h > 0x7fffffffu || w > SIZE_MAX / h) {
        errf(err, errlen, "%s: a PNG of %zu x %zu pixels is too large", path, w, h);
        return -1;
    }
    unsigned char *buf = xmalloc(w * h);
    bool frames = v->nframes > 1, slices = !mosaic && v->nz > 1;
    int per_frame = mosaic ? 1 : v->nz;
    int ret = 0;
    for (int f = 0; f < v->nframes && !ret; f++) {
        for (int s = 0; s < per_frame && !ret; s++) {
            if (mosaic) {
                memset(buf, 0, w * h);
                for (int k = 0; k < v->nz; k++)
                    img_tile(buf, w, (size_t)(k % cols) * (size_t)v->nx,
                             (size_t)(k / cols) * (size_t)v->ny, v, f, k, lo, range);
            } else {
                img_tile(buf, w, 0, 0, v, f, s, lo, range);
            }
            char *name = img_png_name(path, frames, slices, f, s);
            ret = img_png_file(name, buf, w, h, err, errlen);
            if (!ret)
                img_names_push(names, nnames, name);
            free(name);
        }
    }
    free(buf);
    return ret;
}

/* ---------------------------------------------------------------------- */
/* NIfTI-1                                                                 */
/* ---------------------------------------------------------------------- */

#define NII_HDR_SIZE 348
#define NII_VOX_OFFSET 352          /* the header and 4 extension bytes (none) */
#define NII_DT_FLOAT32 16
#define NII_UNITS_MM 2
#define NII_UNITS_SEC 8
#define NII_XFORM_SCANNER_ANAT 1

static void le16(unsigned char *p, int v)
{
    uint16_t u = (uint16_t)v;
    p[0] = (unsigned char)(u & 0xff);
    p[1] = (unsigned char)(u >> 8);
}

static void le32(unsigned char *p, uint32_t u)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static void lef32(unsigned char *p, double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    le32(p, u);
}

/* The voxel-to-RAS affine in mm (image.h's positions with x and y negated). */
static void img_affine(const struct image_vol *v, double a[3][4])
{
    const double *dir[3] = { v->read_dir, v->phase_dir, v->slice_dir };
    const int half[3] = { v->nx / 2, v->ny / 2, v->nz / 2 };
    for (int r = 0; r < 3; r++) {
        double sign = r < 2 ? -1.0 : 1.0;
        double origin = v->position[r];
        for (int c = 0; c < 3; c++) {
            a[r][c] = sign * dir[c][r] * v->voxel[c] * IMG_MM_PER_M + 0.0;   /* no -0 */
            origin -= half[c] * v->voxel[c] * dir[c][r];
        }
        a[r][3] = sign * origin * IMG_MM_PER_M + 0.0;
    }
}

/* The quaternion (b, c, d; a >= 0 implied) and qfac of the rotation whose
   columns are the RAS directions, made orthonormal (Gram-Schmidt in read,
   phase, slice order). A left-handed set has qfac -1 and its third column
   negated for the quaternion, as NIfTI-1 defines. -1 when the directions
   are not independent. */
static int img_quatern(const struct image_vol *v, double q[3], double *qfac)
{
    const double *dir[3] = { v->read_dir, v->phase_dir, v->slice_dir };
    double R[3][3];                   /* R[row][col], columns the directions */
    double u[3][3];
    for (int c = 0; c < 3; c++) {
        for (int r = 0; r < 3; r++)
            u[c][r] = (r < 2 ? -1.0 : 1.0) * dir[c][r];
        for (int p = 0; p < c; p++) {
            double dot = u[c][0] * u[p][0] + u[c][1] * u[p][1] + u[c][2] * u[p][2];
            for (int r = 0; r < 3; r++)
                u[c][r] -= dot * u[p][r];
        }
        double len = sqrt(u[c][0] * u[c][0] + u[c][1] * u[c][1] + u[c][2] * u[c][2]);
        if (!(len > 1e-3) || !isfinite(len))
            return -1;
        for (int r = 0; r < 3; r++)
            R[r][c] = u[c][r] /= len;
    }
    double det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1])
               - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0])
               + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
    *qfac = 1.0;
    if (det < 0) {
        *qfac = -1.0;
        for (int r = 0; r < 3; r++)
            R[r][2] = -R[r][2];
    }
    /* R = [[a²+b²-c²-d², 2(bc-ad), 2(bd+ac)], [2(bc+ad), a²+c²-b²-d², 2(cd-ab)],
            [2(bd-ac), 2(cd+ab), a²+d²-b²-c²]]: solve from the largest of
       4a² = 1 + trace, 4b² = 1 + R00 - R11 - R22, and so on. */
    double a, b, c, d;
    double tr = R[0][0] + R[1][1] + R[2][2];
    double xb = 1 + R[0][0] - R[1][1] - R[2][2];
    double xc = 1 - R[0][0] + R[1][1] - R[2][2];
    double xd = 1 - R[0][0] - R[1][1] + R[2][2];
    if (1 + tr >= xb && 1 + tr >= xc && 1 + tr >= xd) {
        a = 0.5 * sqrt(1 + tr);
        b = (R[2][1] - R[1][2]) / (4 * a);
        c = (R[0][2] - R[2][0]) / (4 * a);
        d = (R[1][0] - R[0][1]) / (4 * a);
    } else if (xb >= xc && xb >= xd) {
        b = 0.5 * sqrt(xb);
        a = (R[2][1] - R[1][2]) / (4 * b);
        c = (R[0][1] + R[1][0]) / (4 * b);
        d = (R[0][2] + R[2][0]) / (4 * b);
    } else if (xc >= xd) {
        c = 0.5 * sqrt(xc);
        a = (R[0][2] - R[2][0]) / (4 * c);
        b = (R[0][1] + R[1][0]) / (4 * c);
        d = (R[1][2] + R[2][1]) / (4 * c);
    } else {
        d = 0.5 * sqrt(xd);
        a = (R[1][0] - R[0][1]) / (4 * d);
        b = (R[0][2] + R[2][0]) / (4 * d);
        c = (R[1][2] + R[2][1]) / (4 * d);
    }
    if (a < 0) {
        b = -b;
        c = -c;
        d = -d;
    }
    q[0] = b;
    q[1] = c;
    q[2] = d;
    return 0;
}

static bool img_host_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

int img_write_nifti(const struct image_vol *v, const char *path, char *err, size_t errlen)
{
    if (!img_check(v, path, err, errlen))
        return -1;
    const int dims[4] = { v->nx, v->ny, v->nz, v->nframes };
    for (int a = 0; a < 4; a++) {
        if (dims[a] > 32767) {
            errf(err, errlen, "%s: %d voxels along dimension %d: NIfTI-1 holds at most "
                    "32767", path, dims[a], a + 1);
            return -1;
        }
    }
    for (int a = 0; a < 3; a++) {
        if (!(v->voxel[a] > 0) || !isfinite(v->voxel[a])) {
            errf(err, errlen, "%s: voxel size %g m along axis %d is not a positive length",
                    path, v->voxel[a], a + 1);
            return -1;
        }
        if (!isfinite(v->position[a]) || !isfinite(v->read_dir[a]) ||
            !isfinite(v->phase_dir[a]) || !isfinite(v->slice_dir[a])) {
            errf(err, errlen, "%s: the position or a direction is not finite", path);
            return -1;
        }
    }
    double quat[3], qfac;
    if (img_quatern(v, quat, &qfac) < 0) {
        errf(err, errlen, "%s: the read, phase and slice directions (%g %g %g), (%g %g %g), "
                "(%g %g %g) do not span space", path, v->read_dir[0], v->read_dir[1],
                v->read_dir[2], v->phase_dir[0], v->phase_dir[1], v->phase_dir[2],
                v->slice_dir[0], v->slice_dir[1], v->slice_dir[2]);
        return -1;
    }
    double aff[3][4];
    img_affine(v, aff);

    unsigned char h[NII_VOX_OFFSET];
    memset(h, 0, sizeof h);
    le32(h + 0, NII_HDR_SIZE);                     /* sizeof_hdr */
    h[38] = 'r';                                   /* regular */
    h[39] = 1 | 2 << 2 | 3 << 4;                   /* dim_info: freq x, phase y, slice z */
    int ndim = v->nframes > 1 ? 4 : 3;
    le16(h + 40, ndim);                            /* dim[0..7] */
    for (int a = 1; a < 8; a++)
        le16(h + 40 + 2 * a, a <= 4 ? dims[a - 1] : 1);
    le16(h + 70, NII_DT_FLOAT32);                  /* datatype */
    le16(h + 72, 32);                              /* bitpix */
    lef32(h + 76, qfac);                           /* pixdim[0] */
    for (int a = 0; a < 3; a++)
        lef32(h + 80 + 4 * a, v->voxel[a] * IMG_MM_PER_M);
    lef32(h + 92, 1.0);                            /* pixdim[4]: frame spacing unknown */
    for (int a = 5; a < 8; a++)
        lef32(h + 76 + 4 * a, 1.0);
    lef32(h + 108, NII_VOX_OFFSET);                /* vox_offset */
    lef32(h + 112, 1.0);                           /* scl_slope */
    lef32(h + 116, 0.0);                           /* scl_inter */
    h[123] = NII_UNITS_MM | NII_UNITS_SEC;         /* xyzt_units */
    char descrip[80];
    snprintf(descrip, sizeof descrip, "Larmor%s%s", v->sequence_name ? " " : "",
             v->sequence_name ? v->sequence_name : "");
    memcpy(h + 148, descrip, strlen(descrip));     /* descrip[80], NUL-padded */
    le16(h + 252, NII_XFORM_SCANNER_ANAT);         /* qform_code */
    le16(h + 254, NII_XFORM_SCANNER_ANAT);         /* sform_code */
    for (int a = 0; a < 3; a++) {
        lef32(h + 256 + 4 * a, quat[a]);           /* quatern_b, c, d */
        lef32(h + 268 + 4 * a, aff[a][3]);         /* qoffset_x, y, z */
        for (int c = 0; c < 4; c++)
            lef32(h + 280 + 16 * a + 4 * c, aff[a][c]);   /* srow_x, y, z */
    }
    memcpy(h + 344, "n+1", 4);                     /* magic, NUL included */

    struct outfile t;
    if (outfile_open(&t, path, err, errlen) < 0)
        return -1;
    outfile_write(&t, h, sizeof h);
    size_t plane = (size_t)v->nx * (size_t)v->ny;
    float *mag = xmalloc(plane * sizeof *mag);
    bool le = img_host_le();
    for (int f = 0; f < v->nframes; f++) {
        for (int k = 0; k < v->nz; k++) {
            const float complex *s = img_slice(v, f, k);
            for (size_t i = 0; i < plane; i++)
                mag[i] = cabsf(s[i]);
            if (!le) {
                for (size_t i = 0; i < plane; i++) {
                    uint32_t u;
                    memcpy(&u, &mag[i], sizeof u);
                    le32((unsigned char *)&mag[i], u);
                }
            }
            outfile_write(&t, mag, plane * sizeof *mag);
        }
    }
    free(mag);
    return outfile_commit(&t, err, errlen);
}

/* ---------------------------------------------------------------------- */
/* BART .cfl/.hdr                                                          */
/* ---------------------------------------------------------------------- */

#define CFL_MAX_DIMS 16
#define CFL_TIME_DIM 10

/* The number of elements of dims, or 0 when it overflows a byte count. */
static size_t cfl_count(int ndims, const long *dims)
{
    size_t n = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] < 1 || (unsigned long)dims[i] > SIZE_MAX / sizeof(float complex) / n)
            return 0;
        n *= (size_t)dims[i];
    }
    return n;
}

int cfl_write(const char *base, int ndims, const long *dims, const float complex *data,
              char *err, size_t errlen)
{
    if (!base || !*base) {
        errf(err, errlen, "BART array: no output file name");
        return -1;
    }
    if (ndims < 1 || ndims > CFL_MAX_DIMS || !dims) {
        errf(err, errlen, "%s.hdr: %d dimensions; BART arrays have 1 to %d", base, ndims,
                CFL_MAX_DIMS);
        return -1;
    }
    for (int i = 0; i < ndims; i++) {
        if (dims[i] < 1) {
            errf(err, errlen, "%s.hdr: dimension %d is %ld; each must be at least 1", base, i,
                    dims[i]);
            return -1;
        }
    }
    size_t n = cfl_count(ndims, dims);
    if (!n) {
        errf(err, errlen, "%s.cfl: the array is too large", base);
        return -1;
    }
    if (!data) {
        errf(err, errlen, "%s.cfl: no data to write", base);
        return -1;
    }
    char *cfl = xasprintf("%s.cfl", base), *hdr = xasprintf("%s.hdr", base);
    struct outfile tc, th;
    int ret = -1;
    if (outfile_open(&tc, cfl, err, errlen) < 0)
        goto out_names;
    if (outfile_open(&th, hdr, err, errlen) < 0)
        goto out_cfl;
    outfile_write(&tc, data, n * sizeof *data);     /* complex float in the host's order, as BART */
    fputs("# Dimensions\n", th.fp);
    for (int i = 0; i < ndims; i++)
        fprintf(th.fp, "%ld ", dims[i]);
    fputs("\n# Creator\nLarmor\n", th.fp);
    if (outfile_commit(&tc, err, errlen) < 0)
        goto out_hdr;
    ret = outfile_commit(&th, err, errlen);
    goto out_names;
out_hdr:
    outfile_abort(&th);
    goto out_names;
out_cfl:
    outfile_abort(&tc);
out_names:
    free(cfl);
    free(hdr);
    return ret;
}

/* Parse a BART header: lines starting with '#' open a section ("# Dimensions"
   and others, whose text is skipped); the line after "# Dimensions" holds the
   sizes. dims gets 16 entries. */
static int cfl_parse_hdr(const char *file, const char *s, size_t len, long dims[CFL_MAX_DIMS],
                         char *err, size_t errlen)
{
    if (strlen(s) != len) {
        errf(err, errlen, "%s: binary data; not a BART header", file);
        return -1;
    }
    for (int i = 0; i < CFL_MAX_DIMS; i++)
        dims[i] = 1;
    bool have_dims = false, want_dims = false, in_section = false;
    int line = 0;
    const char *p = s;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        char *l = xstrndup(p, n);
        p = eol ? eol + 1 : p + strlen(p);
        if (want_dims) {
            want_dims = false;
            int nd = 0;
            char *q = l;
            for (;;) {
                while (*q == ' ' || *q == '\t')
                    q++;
                if (!*q)
                    break;
                char *end;
                errno = 0;
                long d = strtol(q, &end, 10);
                if (end == q || (*end && *end != ' ' && *end != '\t') || errno || d < 1) {
                    size_t tl = strcspn(q, " \t");
                    errf(err, errlen, "%s:%d: '%.*s' is not a dimension (a positive integer)",
                            file, line, (int)(tl > 40 ? 40 : tl), q);
                    free(l);
                    return -1;
                }
                if (nd < CFL_MAX_DIMS) {
                    dims[nd] = d;
                } else if (d != 1) {
                    errf(err, errlen, "%s:%d: dimension %d is %ld; BART arrays have %d "
                            "dimensions (any past them must be 1)", file, line, nd, d,
                            CFL_MAX_DIMS);
                    free(l);
                    return -1;
                }
                nd++;
                q = end;
            }
            if (!nd) {
                errf(err, errlen, "%s:%d: no dimensions after '# Dimensions'", file, line);
                free(l);
                return -1;
            }
            have_dims = true;
        } else if (l[0] == '#') {
            in_section = true;
            const char *k = l + 1;
            while (*k == ' ' || *k == '\t')
                k++;
            size_t kl = strcspn(k, " \t");
            if (kl == 10 && strncmp(k, "Dimensions", 10) == 0) {
                if (have_dims) {
                    errf(err, errlen, "%s:%d: a second '# Dimensions'", file, line);
                    free(l);
                    return -1;
                }
                want_dims = true;
            }
        } else if (!in_section && strspn(l, " \t") != strlen(l)) {
            errf(err, errlen, "%s:%d: text before any '# ...' line; a BART header starts "
                    "with '# Dimensions'", file, line);
            free(l);
            return -1;
        }
        free(l);
    }
    if (want_dims) {
        errf(err, errlen, "%s:%d: '# Dimensions' is not followed by the dimensions", file,
                line);
        return -1;
    }
    if (!have_dims) {
        errf(err, errlen, "%s: no '# Dimensions' line", file);
        return -1;
    }
    return 0;
}

int cfl_read(const char *base, long dims[16], float complex **data, char *err, size_t errlen)
{
    if (data)
        *data = NULL;
    if (!base || !*base || !dims || !data) {
        errf(err, errlen, "BART array: no file name or nowhere to put it");
        return -1;
    }
    char *hdr = xasprintf("%s.hdr", base), *cfl = xasprintf("%s.cfl", base);
    int ret = -1;
    FILE *fp = NULL;
    size_t len;
    char *text = read_file(hdr, &len);
    if (!text) {
        errf(err, errlen, "%s: cannot read it: %s", hdr, strerror(errno));
        goto out;
    }
    long d[CFL_MAX_DIMS];
    if (cfl_parse_hdr(hdr, text, len, d, err, errlen) < 0)
        goto out;
    size_t n = cfl_count(CFL_MAX_DIMS, d);
    if (!n) {
        errf(err, errlen, "%s: the dimensions make an array too large", hdr);
        goto out;
    }
    fp = fopen(cfl, "rb");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) != 0) {
        errf(err, errlen, "%s: cannot read it: %s", cfl, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size != (unsigned long long)n * 8) {
        errf(err, errlen, "%s: %lld bytes; the dimensions in %s make %zu complex floats "
                "(%llu bytes)", cfl, (long long)st.st_size, hdr, n, (unsigned long long)n * 8);
        goto out;
    }
    float complex *buf = xmalloc(n * sizeof *buf);
    if (fread(buf, sizeof *buf, n, fp) != n) {
        errf(err, errlen, "%s: cannot read it: %s", cfl,
                ferror(fp) ? strerror(errno) : "the file is shorter than it was");
        free(buf);
        goto out;
    }
    memcpy(dims, d, sizeof d);
    *data = buf;
    ret = 0;
out:
    if (fp)
        fclose(fp);
    free(text);
    free(hdr);
    free(cfl);
    return ret;
}

int img_write_cfl(const struct image_vol *v, const char *base, char *err, size_t errlen)
{
    char *file = base ? xasprintf("%s.cfl", base) : NULL;
    size_t n = img_check(v, file, err, errlen);
    free(file);
    if (!n)
        return -1;
    long dims[CFL_MAX_DIMS];
    for (int i = 0; i < CFL_MAX_DIMS; i++)
        dims[i] = 1;
    dims[0] = v->nx;
    dims[1] = v->ny;
    dims[2] = v->nz;
    dims[CFL_TIME_DIM] = v->nframes;
    return cfl_write(base, v->nframes > 1 ? CFL_TIME_DIM + 1 : 3, dims, v->data, err, errlen);
}
