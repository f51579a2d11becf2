/*
 * test_image: CUnit suite "image" for runtime/recon/image.c's volume and
 * its PNG and NIfTI-1 writers. PNGs are read back with libpng: size, 8-bit
 * grey, grey levels of a known window, orientation (smallest y on top), the
 * automatic window at the 99.5th percentile, mosaic placement and the names
 * of slice and frame files. NIfTI-1 headers are read back byte by byte:
 * fields, the sform mapping the FOV centre voxel to the position in RAS mm,
 * and the quaternion (NIfTI-1's formula) reproducing the directions, qfac
 * -1 for a left-handed set. Bad arguments and unwritable paths fail with a
 * message, and no temporary file is left. All files live in a mkdtemp
 * directory removed at the end (tests/imageutil.c). BART and ISMRMRD
 * images are test_image_interop.c's.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/rawdata.h"
#include "runtime/recon/image.h"
#include "base/util.h"
#include "tests/imageutil.h"
#include "tests/testutil.h"

int register_image_tests(void);

/* A PNG read back as 8-bit grey (NULL if libpng cannot read it). */
static unsigned char *im_png_load(const char *name, unsigned *w, unsigned *h)
{
    char *p = im_path(name);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    unsigned char *buf = NULL;
    if (png_image_begin_read_from_file(&im, p)) {
        im.format = PNG_FORMAT_GRAY;
        buf = xmalloc(PNG_IMAGE_SIZE(im));
        if (png_image_finish_read(&im, NULL, buf, 0, NULL)) {
            *w = im.width;
            *h = im.height;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    png_image_free(&im);
    free(p);
    return buf;
}

/* ---------------------------------------------------------------------- */
/* The volume                                                              */
/* ---------------------------------------------------------------------- */

static void test_new_free(void)
{
    struct image_vol *v = image_new(4, 3, 2, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->nx, 4);
    CU_ASSERT_EQUAL(v->ny, 3);
    CU_ASSERT_EQUAL(v->nz, 2);
    CU_ASSERT_EQUAL(v->nframes, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v->data);
    for (int i = 0; i < 4 * 3 * 2 * 5; i++)
        CU_ASSERT(v->data[i] == 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v->frame_labels);
    for (int f = 0; f < 5; f++)
        for (int l = 0; l < VM_LABEL__COUNT; l++)
            CU_ASSERT_EQUAL(v->frame_labels[f][l], 0);
    for (int a = 0; a < 3; a++) {
        CU_ASSERT_DOUBLE_EQUAL(v->voxel[a], 1e-3, 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(v->read_dir[a], a == 0, 0);
        CU_ASSERT_DOUBLE_EQUAL(v->phase_dir[a], a == 1, 0);
        CU_ASSERT_DOUBLE_EQUAL(v->slice_dir[a], a == 2, 0);
        CU_ASSERT_DOUBLE_EQUAL(v->position[a], 0, 0);
    }
    CU_ASSERT(v->is_complex);
    CU_ASSERT_PTR_NULL(v->sequence_name);
    image_free(v);
    image_free(NULL);
    CU_ASSERT_PTR_NULL(image_new(0, 1, 1, 1));
    CU_ASSERT_PTR_NULL(image_new(1, 1, 1, -2));
}

/* ---------------------------------------------------------------------- */
/* PNG                                                                     */
/* ---------------------------------------------------------------------- */

static void test_png_orientation_window(void)
{
    struct image_vol *v = image_new(4, 3, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    /* window 20..120: grey = 255·(|v| - 20)/100 */
    im_set(v, 1, 2, 0, 0, 60 + 80 * I);   /* |v| = 100 at (i=1, j=ny-1): 204 */
    im_set(v, 0, 0, 0, 0, 70);            /* 127.5: rounds to 128, top left */
    im_set(v, 3, 0, 0, 0, 10);            /* below the window: 0 */
    im_set(v, 3, 2, 0, 0, -500);          /* above: 255, bottom right */
    im_set(v, 2, 1, 0, 0, 45 * I);        /* 63.75: 64 */
    struct png_opts o = { .lo = 20, .hi = 120, .mosaic = false };
    char *p = im_path("one.png");
    char err[512] = "";
    char **names = NULL;
    size_t nn = 0;
    CU_ASSERT_EQUAL_FATAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(nn, 1);
    CU_ASSERT_STRING_EQUAL(names[0], p);

    /* an 8-bit greyscale PNG (IHDR: bit depth 8, colour type 0) */
    size_t len;
    unsigned char *raw = (unsigned char *)read_file(p, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
    CU_ASSERT_FATAL(len > 33);
    CU_ASSERT_EQUAL(memcmp(raw, "\x89PNG\r\n\x1a\n", 8), 0);
    CU_ASSERT_EQUAL(memcmp(raw + 12, "IHDR", 4), 0);
    CU_ASSERT_EQUAL(raw[24], 8);
    CU_ASSERT_EQUAL(raw[25], 0);
    free(raw);

    unsigned w = 0, h = 0;
    unsigned char *g = im_png_load("one.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(w, 4);
    CU_ASSERT_EQUAL(h, 3);
    CU_ASSERT_EQUAL(g[2 * 4 + 1], 204);   /* row ny-1 is j = ny-1 */
    CU_ASSERT_EQUAL(g[0 * 4 + 0], 128);   /* row 0 is j = 0 */
    CU_ASSERT_EQUAL(g[0 * 4 + 3], 0);
    CU_ASSERT_EQUAL(g[2 * 4 + 3], 255);
    CU_ASSERT_EQUAL(g[1 * 4 + 2], 64);
    CU_ASSERT_EQUAL(g[1 * 4 + 0], 0);     /* |v| = 0 < lo */
    free(g);
    im_expect_files(1);

    /* overwriting an existing file replaces it */
    o.hi = 220;
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL(nn, 2);
    g = im_png_load("one.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g[2 * 4 + 1], 102);   /* 255·80/200 */
    free(g);
    im_free_names(names, nn);
    free(p);
    image_free(v);
    im_clear();
}

static void test_png_auto_window_slices(void)
{
    /* 1000 voxels: 4 outliers at 10000 (0.4 %), 995 at 100, one at 50. The
       99.5th percentile (position 0.995·999 = 994.005 in sorted order) is
       100, so 50 is mid-grey; a window up to the maximum would make it 1. */
    struct image_vol *v = image_new(10, 10, 10, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int i = 0; i < 1000; i++)
        v->data[i] = (i % 3 == 0) ? 60 - 80 * I : 100;
    v->data[7] = 10000;
    v->data[333] = 10000 * I;
    v->data[500] = -10000;
    v->data[999] = 10000;
    im_set(v, 4, 9, 2, 0, 50);            /* slice 2, bottom row */
    char *p = im_path("vol.png");
    char err[512] = "";
    char **names = NULL;
    size_t nn = 0;
    CU_ASSERT_EQUAL_FATAL(img_write_png(v, p, NULL, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(nn, 10);
    for (int k = 0; k < 10; k++) {
        char *want = xasprintf("%s/vol_s%03d.png", im_dir, k);
        CU_ASSERT_STRING_EQUAL(names[k], want);
        free(want);
    }
    CU_ASSERT_FALSE(im_exists("vol.png"));
    unsigned w = 0, h = 0;
    unsigned char *g = im_png_load("vol_s002.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(w, 10);
    CU_ASSERT_EQUAL(h, 10);
    CU_ASSERT_EQUAL(g[9 * 10 + 4], 128);  /* 255·50/100 = 127.5 */
    CU_ASSERT_EQUAL(g[5 * 10 + 5], 255);
    free(g);
    g = im_png_load("vol_s000.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g[0 * 10 + 7], 255);  /* voxel 7: (7, 0, 0), an outlier */
    free(g);
    im_free_names(names, nn);
    free(p);

    /* between ranks: 0, 1, ..., 199: position 0.995·199 = 198.005, so the
       window ends at 198.005; 99 → 255·99/198.005 = 127.497 → 127 */
    struct image_vol *r = image_new(20, 10, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    for (int i = 0; i < 200; i++)
        r->data[i] = (float)(199 - i);
    p = im_path("ramp.png");
    CU_ASSERT_EQUAL_FATAL(img_write_png(r, p, NULL, NULL, NULL, err, sizeof err), 0);
    g = im_png_load("ramp.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    /* value 99 is voxel 100: (0, 5) → row 5 */
    CU_ASSERT_EQUAL(g[5 * 20 + 0], 127);
    /* value 198 is voxel 1: (1, 0) → row 0; 198/198.005 → 254.99 → 255 */
    CU_ASSERT_EQUAL(g[0 * 20 + 1], 255);
    free(g);
    free(p);
    image_free(r);

    /* all zero: black, no division by zero */
    struct image_vol *z = image_new(3, 2, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    p = im_path("zero.png");
    CU_ASSERT_EQUAL_FATAL(img_write_png(z, p, NULL, NULL, NULL, err, sizeof err), 0);
    g = im_png_load("zero.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(g[i], 0);
    free(g);
    free(p);
    image_free(z);
    image_free(v);
    im_expect_files(12);
    im_clear();
}

static void test_png_mosaic(void)
{
    /* 5 slices of 3 x 2: cols = ceil(sqrt(5)) = 3, rows = 2: a 9 x 4 image,
       tile (1, 2) empty; window 0..255 makes grey = |v| */
    struct image_vol *v = image_new(3, 2, 5, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 5; k++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 3; i++)
                    im_set(v, i, j, k, f, (float)(10 * (k + 1) + 100 * f));
    im_set(v, 1, 1, 4, 0, 250);           /* slice 4: tile (1, 1), bottom row, column 1 */
    struct png_opts o = { .lo = 0, .hi = 255, .mosaic = true };
    char *p = im_path("m.png");
    char err[512] = "";
    char **names = xmalloc(sizeof *names);
    names[0] = xstrdup("earlier");
    size_t nn = 1;
    CU_ASSERT_EQUAL_FATAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(nn, 3);
    CU_ASSERT_STRING_EQUAL(names[0], "earlier");
    char *want0 = im_path("m_f00.png"), *want1 = im_path("m_f01.png");
    CU_ASSERT_STRING_EQUAL(names[1], want0);
    CU_ASSERT_STRING_EQUAL(names[2], want1);
    free(want0);
    free(want1);
    CU_ASSERT_FALSE(im_exists("m.png"));
    for (int f = 0; f < 2; f++) {
        unsigned w = 0, h = 0;
        unsigned char *g = im_png_load(f ? "m_f01.png" : "m_f00.png", &w, &h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        CU_ASSERT_EQUAL_FATAL(w, 9);
        CU_ASSERT_EQUAL_FATAL(h, 4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 9; x++) {
                int k = (y / 2) * 3 + x / 3;
                int want = k < 5 ? 10 * (k + 1) + 100 * f : 0;
                if (f == 0 && k == 4 && y % 2 == 1 && x % 3 == 1)
                    want = 250;
                CU_ASSERT_EQUAL(g[y * 9 + x], want);
            }
        }
        free(g);
    }

    /* one frame with mosaic: the path itself */
    struct image_vol *one = image_new(2, 2, 3, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    char *p1 = im_path("single.png");
    CU_ASSERT_EQUAL(img_write_png(one, p1, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(nn, 4);
    CU_ASSERT_STRING_EQUAL(names[3], p1);
    unsigned w = 0, h = 0;
    unsigned char *g = im_png_load("single.png", &w, &h);
    CU_ASSERT_PTR_NOT_NULL(g);
    CU_ASSERT_EQUAL(w, 4);                /* 2 x 2 tiles */
    CU_ASSERT_EQUAL(h, 4);
    free(g);
    free(p1);
    image_free(one);
    im_free_names(names, nn);
    free(p);
    image_free(v);
    im_clear();
}

static void test_png_frame_names(void)
{
    struct image_vol *v = image_new(2, 2, 2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 2; k++)
            im_set(v, 0, 0, k, f, (float)(1 + f * 2 + k));
    struct png_opts o = { .lo = 0, .hi = 10 };
    char *p = im_path("x.png");
    char err[512] = "";
    char **names = NULL;
    size_t nn = 0;
    CU_ASSERT_EQUAL_FATAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(nn, 6);
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < 2; k++) {
            char *base = xasprintf("x_f%02d_s%03d.png", f, k);
            char *want = im_path(base);
            CU_ASSERT_STRING_EQUAL(names[f * 2 + k], want);
            unsigned w = 0, h = 0;
            unsigned char *g = im_png_load(base, &w, &h);
            CU_ASSERT_PTR_NOT_NULL_FATAL(g);
            CU_ASSERT_EQUAL(g[0 * 2 + 0], (int)lround(25.5 * (1 + f * 2 + k)));
            free(g);
            free(want);
            free(base);
        }
    }
    im_free_names(names, nn);
    free(p);
    image_free(v);

    /* frames of a single slice: no slice suffix; a path without an
       extension keeps none; a dot in a directory name is not one */
    v = image_new(2, 2, 1, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    p = im_path("y.png");
    names = NULL;
    nn = 0;
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL(nn, 2);
    CU_ASSERT(im_exists("y_f00.png"));
    CU_ASSERT(im_exists("y_f01.png"));
    free(p);
    p = im_path("noext");
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL(nn, 4);
    CU_ASSERT(im_exists("noext_f00"));
    CU_ASSERT(im_exists("noext_f01"));
    free(p);
    char *sub = im_path("d.x");
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0777), 0);
    p = im_path("d.x/img");
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, &names, &nn, err, sizeof err), 0);
    CU_ASSERT_EQUAL(nn, 6);
    CU_ASSERT(im_exists("d.x/img_f00"));
    CU_ASSERT(im_exists("d.x/img_f01"));
    for (size_t i = 4; i < nn; i++)
        unlink(names[i]);
    CU_ASSERT_EQUAL(rmdir(sub), 0);
    free(sub);
    free(p);
    im_free_names(names, nn);
    image_free(v);
    im_expect_files(10);
    im_clear();
}

static void test_png_errors(void)
{
    char err[512] = "";
    char *p = im_path("bad.png");
    struct image_vol *v = image_new(2, 2, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);

    CU_ASSERT_EQUAL(img_write_png(NULL, p, NULL, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad.png"));
    v->nx = 0;
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_png(v, p, NULL, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 1"));
    v->nx = 2;
    float complex *d = v->data;
    v->data = NULL;
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_png(v, p, NULL, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no data"));
    v->data = d;
    struct png_opts o = { .lo = 5, .hi = 5 };
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "window"));
    o.lo = 0;
    o.hi = NAN;
    CU_ASSERT_EQUAL(img_write_png(v, p, &o, NULL, NULL, err, sizeof err), -1);
    CU_ASSERT_EQUAL(img_write_png(v, NULL, NULL, NULL, NULL, err, sizeof err), -1);
    /* a NULL err buffer is allowed */
    CU_ASSERT_EQUAL(img_write_png(NULL, p, NULL, NULL, NULL, NULL, 0), -1);

    const char *nodir = "/nonexistent-larmor-dir/x.png";
    char **names = NULL;
    size_t nn = 0;
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_png(v, nodir, NULL, &names, &nn, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, nodir));
    CU_ASSERT_EQUAL(nn, 0);
    CU_ASSERT_PTR_NULL(names);
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 0);
    free(p);
    image_free(v);
    im_clear();
}

/* ---------------------------------------------------------------------- */
/* NIfTI-1                                                                 */
/* ---------------------------------------------------------------------- */

static int rd16(const unsigned char *p)
{
    return (int16_t)(uint16_t)(p[0] | p[1] << 8);
}

static int32_t rd32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static double rdf(const unsigned char *p)
{
    uint32_t u = (uint32_t)rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Check a NIfTI file written from v against its geometry and data. */
static void im_check_nifti(const struct image_vol *v, const char *name, double want_qfac)
{
    char *p = im_path(name);
    size_t len;
    unsigned char *b = (unsigned char *)read_file(p, &len);
    free(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    size_t nvox = (size_t)v->nx * v->ny * v->nz * v->nframes;
    CU_ASSERT_EQUAL_FATAL(len, 352 + 4 * nvox);
    CU_ASSERT_EQUAL(rd32(b + 0), 348);                /* sizeof_hdr */
    CU_ASSERT_EQUAL(memcmp(b + 344, "n+1\0", 4), 0);  /* magic */
    CU_ASSERT_EQUAL(rdf(b + 108), 352.0);             /* vox_offset */
    CU_ASSERT_EQUAL(rd32(b + 348), 0);                /* no extension */
    CU_ASSERT_EQUAL(rd16(b + 70), 16);                /* FLOAT32 */
    CU_ASSERT_EQUAL(rd16(b + 72), 32);                /* bitpix */
    CU_ASSERT_EQUAL(rd16(b + 40), v->nframes > 1 ? 4 : 3);
    CU_ASSERT_EQUAL(rd16(b + 42), v->nx);
    CU_ASSERT_EQUAL(rd16(b + 44), v->ny);
    CU_ASSERT_EQUAL(rd16(b + 46), v->nz);
    CU_ASSERT_EQUAL(rd16(b + 48), v->nframes);
    CU_ASSERT_EQUAL(b[123], 2 | 8);                   /* xyzt_units: mm, s */
    CU_ASSERT_EQUAL(b[39], 1 | 2 << 2 | 3 << 4);      /* dim_info */
    CU_ASSERT_EQUAL(rd16(b + 252), 1);                /* qform_code */
    CU_ASSERT_EQUAL(rd16(b + 254), 1);                /* sform_code */
    double qfac = rdf(b + 76);
    CU_ASSERT_EQUAL(qfac, want_qfac);
    double pix[3];
    for (int a = 0; a < 3; a++) {
        pix[a] = rdf(b + 80 + 4 * a);
        CU_ASSERT_DOUBLE_EQUAL(pix[a], v->voxel[a] * 1e3, 1e-5);
    }

    /* sform: voxel (nx/2, ny/2, nz/2) is the position, in RAS mm */
    double S[3][4];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            S[r][c] = rdf(b + 280 + 16 * r + 4 * c);
    const double ijk[3] = { v->nx / 2, v->ny / 2, v->nz / 2 };
    const double ras[3] = { -1, -1, 1 };
    const double *dir[3] = { v->read_dir, v->phase_dir, v->slice_dir };
    for (int r = 0; r < 3; r++) {
        double x = S[r][3];
        for (int c = 0; c < 3; c++)
            x += S[r][c] * ijk[c];
        CU_ASSERT_DOUBLE_EQUAL(x, ras[r] * v->position[r] * 1e3, 1e-3);
        /* columns: the RAS directions times the voxel size */
        for (int c = 0; c < 3; c++)
            CU_ASSERT_DOUBLE_EQUAL(S[r][c], ras[r] * dir[c][r] * v->voxel[c] * 1e3, 1e-5);
    }
    /* one step along i moves one voxel along the read direction */
    for (int r = 0; r < 3; r++) {
        double x0 = S[r][3] + S[r][0] * 1 + S[r][1] * 2 + S[r][2] * 3;
        double x1 = x0 + S[r][0];
        CU_ASSERT_DOUBLE_EQUAL(x1 - x0, ras[r] * v->read_dir[r] * v->voxel[0] * 1e3, 1e-5);
    }

    /* qform: NIfTI-1's quaternion-to-matrix formula gives the directions */
    double qb = rdf(b + 256), qc = rdf(b + 260), qd = rdf(b + 264);
    double qa = 1.0 - (qb * qb + qc * qc + qd * qd);
    qa = qa > 0 ? sqrt(qa) : 0;
    double R[3][3] = {
        { qa * qa + qb * qb - qc * qc - qd * qd, 2 * (qb * qc - qa * qd), 2 * (qb * qd + qa * qc) },
        { 2 * (qb * qc + qa * qd), qa * qa + qc * qc - qb * qb - qd * qd, 2 * (qc * qd - qa * qb) },
        { 2 * (qb * qd - qa * qc), 2 * (qc * qd + qa * qb), qa * qa + qd * qd - qc * qc - qb * qb },
    };
    for (int r = 0; r < 3; r++) {
        R[r][2] *= qfac;
        for (int c = 0; c < 3; c++) {
            CU_ASSERT_DOUBLE_EQUAL(R[r][c], ras[r] * dir[c][r], 1e-5);
            CU_ASSERT_DOUBLE_EQUAL(R[r][c] * pix[c], S[r][c], 1e-4);
        }
        CU_ASSERT_DOUBLE_EQUAL(rdf(b + 268 + 4 * r), S[r][3], 1e-4);   /* qoffset */
    }

    /* data: |v| as float32, x fastest, then y, z, frames */
    for (int f = 0; f < v->nframes; f++)
        for (int k = 0; k < v->nz; k++)
            for (int j = 0; j < v->ny; j++)
                for (int i = 0; i < v->nx; i++) {
                    size_t at = (((size_t)f * v->nz + k) * v->ny + j) * v->nx + i;
                    CU_ASSERT_EQUAL(rdf(b + 352 + 4 * at), cabsf(im_get(v, i, j, k, f)));
                }
    free(b);
}

static void test_nifti_oblique(void)
{
    struct image_vol *v = image_new(4, 6, 5, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    im_orient(v, 0.5236, 0.349, 0.1745);
    im_place(v, (const double[3]){ 1e-3, 2e-3, 3e-3 }, (const double[3]){ 0.01, -0.02, 0.03 });
    v->sequence_name = "spin_echo";
    for (int i = 0; i < 4 * 6 * 5; i++)
        v->data[i] = (float)i - 3.5f * I;
    char *p = im_path("obl.nii");
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(img_write_nifti(v, p, err, sizeof err), 0);
    im_check_nifti(v, "obl.nii", 1.0);
    size_t len;
    char *b = read_file(p, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(b + 148, "Larmor spin_echo");   /* descrip */
    free(b);

    /* the default orientation: identity in LPS is diag(-1, -1, 1) in RAS */
    struct image_vol *d = image_new(3, 3, 3, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    d->data[13] = 1;
    char *pd = im_path("axial.nii");
    CU_ASSERT_EQUAL_FATAL(img_write_nifti(d, pd, err, sizeof err), 0);
    im_check_nifti(d, "axial.nii", 1.0);
    b = read_file(pd, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    /* quaternion of a 180° turn about z: (b, c, d) = (0, 0, 1) */
    CU_ASSERT_DOUBLE_EQUAL(rdf((unsigned char *)b + 256), 0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(rdf((unsigned char *)b + 260), 0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(fabs(rdf((unsigned char *)b + 264)), 1, 1e-6);
    free(b);
    free(pd);
    image_free(d);
    free(p);
    image_free(v);
    im_expect_files(2);
    im_clear();
}

static void test_nifti_left_handed_frames(void)
{
    struct image_vol *v = image_new(3, 2, 4, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    double R[3][3];
    im_rotation(R, -1.0, 0.7, 2.2);
    for (int a = 0; a < 3; a++) {
        v->read_dir[a] = R[a][1];
        v->phase_dir[a] = R[a][0];       /* swapped: a left-handed set */
        v->slice_dir[a] = R[a][2];
    }
    v->voxel[2] = 5e-3;
    v->position[0] = -0.1;
    v->position[2] = 0.05;
    v->is_complex = false;
    for (size_t i = 0; i < 3 * 2 * 4 * 3; i++)
        v->data[i] = (float)(i * i % 17);
    char *p = im_path("lh.nii");
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(img_write_nifti(v, p, err, sizeof err), 0);
    im_check_nifti(v, "lh.nii", -1.0);
    free(p);

    /* slice_dir = -z with read x, phase y is left-handed too */
    struct image_vol *w = image_new(2, 2, 2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    w->slice_dir[2] = -1;
    p = im_path("lh2.nii");
    CU_ASSERT_EQUAL_FATAL(img_write_nifti(w, p, err, sizeof err), 0);
    im_check_nifti(w, "lh2.nii", -1.0);
    free(p);
    image_free(w);
    image_free(v);
    im_clear();
}

static void test_nifti_errors(void)
{
    char err[512] = "";
    char *p = im_path("bad.nii");
    struct image_vol *v = image_new(40000, 1, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(img_write_nifti(v, p, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "32767"));
    image_free(v);
    v = image_new(2, 2, 2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    v->voxel[1] = 0;
    CU_ASSERT_EQUAL(img_write_nifti(v, p, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "voxel size"));
    v->voxel[1] = 1e-3;
    v->slice_dir[0] = 1;                  /* slice = (1, 0, 1) */
    v->read_dir[2] = 1;                   /* read = (1, 0, 1): the same line */
    CU_ASSERT_EQUAL(img_write_nifti(v, p, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "directions"));
    v->slice_dir[0] = 0;
    v->read_dir[2] = 0;
    v->ny = -1;
    CU_ASSERT_EQUAL(img_write_nifti(v, p, err, sizeof err), -1);
    v->ny = 2;
    const char *nodir = "/nonexistent-larmor-dir/x.nii";
    CU_ASSERT_EQUAL(img_write_nifti(v, nodir, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, nodir));
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 0);
    free(p);
    image_free(v);
    im_clear();
}

int register_image_tests(void)
{
    static const struct test_def tests[] = {
        { "image_new defaults; image_free(NULL)", test_new_free },
        { "PNG: grey levels, orientation, 8-bit grey", test_png_orientation_window },
        { "PNG: auto window at the 99.5th percentile; slices", test_png_auto_window_slices },
        { "PNG: mosaic tiles and frames", test_png_mosaic },
        { "PNG: names of frame and slice files", test_png_frame_names },
        { "PNG: bad arguments and paths", test_png_errors },
        { "NIfTI: fields, sform and qform of an oblique volume", test_nifti_oblique },
        { "NIfTI: left-handed (qfac -1), 4D", test_nifti_left_handed_frames },
        { "NIfTI: bad arguments and paths", test_nifti_errors },
    };
    return TEST_ADD_FIXTURE_SUITE("image", im_init, im_cleanup, tests);
}
