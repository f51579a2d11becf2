/*
 * test_image: CUnit suite "image" for runtime/recon/image.c. PNGs are read
 * back with libpng: size, 8-bit grey, grey levels of a known window,
 * orientation (smallest y on top), the automatic window at the 99.5th
 * percentile, mosaic placement and the names of slice and frame files.
 * NIfTI-1 headers are read back byte by byte: fields, the sform mapping the
 * FOV centre voxel to the position in RAS mm, and the quaternion (NIfTI-1's
 * formula) reproducing the directions, qfac -1 for a left-handed set.
 * BART arrays round-trip, BART itself reads and writes ours (bart scale,
 * bart slice along the frame dimension), malformed headers fail with their
 * line. ISMRMRD images are read back with libismrmrd (header fields and
 * data), appended next to raw data without touching its XML header, and
 * their minimal header validates against the schema. Bad arguments and
 * unwritable paths fail with a message, and no temporary file is left.
 * All files live in a mkdtemp directory removed at the end.
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
#include "tests/testutil.h"

int register_image_tests(void);

static char im_dir[512];

static int im_init(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(im_dir, sizeof im_dir, "%s/larmor-image-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(im_dir) ? 0 : 1;
}

static void im_clear(void)
{
    DIR *d = opendir(im_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", im_dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

static int im_cleanup(void)
{
    im_clear();
    return rmdir(im_dir) == 0 ? 0 : 1;
}

static char *im_path(const char *name)
{
    return xasprintf("%s/%s", im_dir, name);
}

static bool im_exists(const char *name)
{
    char *p = im_path(name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

/* The number of files in the scratch directory, and whether one of them is
   a writer's temporary. */
static int im_count_files(bool *tmp_left)
{
    int n = 0;
    *tmp_left = false;
    DIR *d = opendir(im_dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(e->d_name, ".tmp-"))
            *tmp_left = true;
    }
    closedir(d);
    return n;
}

static void im_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

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

static void im_set(struct image_vol *v, int i, int j, int k, int f, float complex x)
{
    v->data[(((size_t)f * v->nz + k) * v->ny + j) * v->nx + i] = x;
}

static float complex im_get(const struct image_vol *v, int i, int j, int k, int f)
{
    return v->data[(((size_t)f * v->nz + k) * v->ny + j) * v->nx + i];
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
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 1);
    CU_ASSERT_FALSE(tmp_left);

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
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 12);
    CU_ASSERT_FALSE(tmp_left);
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
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 10);
    CU_ASSERT_FALSE(tmp_left);
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

/* A rotation (columns right-handed) from angles about z, y and x. */
static void im_rotation(double R[3][3], double az, double ay, double ax)
{
    double cz = cos(az), sz = sin(az), cy = cos(ay), sy = sin(ay), cx = cos(ax), sx = sin(ax);
    double Z[3][3] = { { cz, -sz, 0 }, { sz, cz, 0 }, { 0, 0, 1 } };
    double Y[3][3] = { { cy, 0, sy }, { 0, 1, 0 }, { -sy, 0, cy } };
    double X[3][3] = { { 1, 0, 0 }, { 0, cx, -sx }, { 0, sx, cx } };
    double ZY[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            ZY[r][c] = 0;
            for (int m = 0; m < 3; m++)
                ZY[r][c] += Z[r][m] * Y[m][c];
        }
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            R[r][c] = 0;
            for (int m = 0; m < 3; m++)
                R[r][c] += ZY[r][m] * X[m][c];
        }
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
    double R[3][3];
    im_rotation(R, 0.5236, 0.349, 0.1745);
    for (int a = 0; a < 3; a++) {
        v->read_dir[a] = R[a][0];
        v->phase_dir[a] = R[a][1];
        v->slice_dir[a] = R[a][2];
    }
    v->voxel[0] = 1e-3;
    v->voxel[1] = 2e-3;
    v->voxel[2] = 3e-3;
    v->position[0] = 0.01;
    v->position[1] = -0.02;
    v->position[2] = 0.03;
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
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 2);
    CU_ASSERT_FALSE(tmp_left);
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

/* ---------------------------------------------------------------------- */
/* BART                                                                    */
/* ---------------------------------------------------------------------- */

static void im_write_text(const char *name, const char *text)
{
    char *p = im_path(name);
    FILE *fp = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
    free(p);
}

static void im_write_bytes(const char *name, size_t n)
{
    char *p = im_path(name);
    FILE *fp = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i & 0x3f), fp);
    fclose(fp);
    free(p);
}

static void test_cfl_roundtrip(void)
{
    const long dims[4] = { 3, 1, 2, 5 };
    float complex d[30];
    for (int i = 0; i < 30; i++)
        d[i] = (float)i * 0.25f - (float)(i % 7) * I;
    char *base = im_path("arr");
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(cfl_write(base, 4, dims, d, err, sizeof err), 0);
    char *hdr = xasprintf("%s.hdr", base);
    size_t len;
    char *text = read_file(hdr, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "# Dimensions\n3 1 2 5 \n", 22), 0);
    free(text);
    free(hdr);
    long got[16];
    float complex *back = NULL;
    CU_ASSERT_EQUAL_FATAL(cfl_read(base, got, &back, err, sizeof err), 0);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(got[i], i < 4 ? dims[i] : 1);
    CU_ASSERT_EQUAL(memcmp(back, d, sizeof d), 0);
    free(back);

    /* the image writer: x, y, z, and the frames in dimension 10 */
    struct image_vol *v = image_new(4, 3, 2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int i = 0; i < 24; i++)
        v->data[i] = (float)i + 1 * I;
    char *vb = im_path("vol1");
    CU_ASSERT_EQUAL_FATAL(img_write_cfl(v, vb, err, sizeof err), 0);
    hdr = xasprintf("%s.hdr", vb);
    text = read_file(hdr, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "# Dimensions\n4 3 2 \n", 20), 0);
    free(text);
    free(hdr);
    CU_ASSERT_EQUAL_FATAL(cfl_read(vb, got, &back, err, sizeof err), 0);
    CU_ASSERT_EQUAL(memcmp(back, v->data, 24 * sizeof *back), 0);
    free(back);
    free(vb);
    image_free(v);

    v = image_new(2, 2, 1, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    vb = im_path("vol3");
    CU_ASSERT_EQUAL_FATAL(img_write_cfl(v, vb, err, sizeof err), 0);
    hdr = xasprintf("%s.hdr", vb);
    text = read_file(hdr, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "# Dimensions\n2 2 1 1 1 1 1 1 1 1 3 \n", 36), 0);
    free(text);
    free(hdr);
    free(vb);
    image_free(v);

    /* argument errors */
    CU_ASSERT_EQUAL(cfl_write(base, 0, dims, d, err, sizeof err), -1);
    CU_ASSERT_EQUAL(cfl_write(base, 17, dims, d, err, sizeof err), -1);
    const long zero[2] = { 3, 0 };
    CU_ASSERT_EQUAL(cfl_write(base, 2, zero, d, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "dimension 1 is 0"));
    CU_ASSERT_EQUAL(cfl_write(base, 4, dims, NULL, err, sizeof err), -1);
    CU_ASSERT_EQUAL(cfl_write("/nonexistent-larmor-dir/a", 4, dims, d, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-larmor-dir/a.cfl"));
    CU_ASSERT_EQUAL(img_write_cfl(NULL, base, err, sizeof err), -1);
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 6);
    CU_ASSERT_FALSE(tmp_left);
    free(base);
    im_clear();
}

static int im_bart(const char *args)
{
    char *cmd = xasprintf("cd '%s' && bart %s >/dev/null 2>&1", im_dir, args);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static void test_cfl_bart_interop(void)
{
    if (!test_have_program("bart")) {
        CU_FAIL("bart is not installed (Debian package 'bart'): BART interoperability untested");
        return;
    }
    char err[512] = "";
    /* ours → bart scale → ours */
    const long dims[3] = { 4, 3, 2 };
    float complex d[24];
    for (int i = 0; i < 24; i++)
        d[i] = (float)i - 0.5f * (float)i * I;
    char *in = im_path("in");
    CU_ASSERT_EQUAL_FATAL(cfl_write(in, 3, dims, d, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(im_bart("scale 2 in out"), 0);
    char *out = im_path("out");
    long got[16];
    float complex *back = NULL;
    CU_ASSERT_EQUAL_FATAL(cfl_read(out, got, &back, err, sizeof err), 0);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(got[i], i < 3 ? dims[i] : 1);
    for (int i = 0; i < 24; i++) {
        CU_ASSERT_DOUBLE_EQUAL(crealf(back[i]), 2 * crealf(d[i]), 1e-5);
        CU_ASSERT_DOUBLE_EQUAL(cimagf(back[i]), 2 * cimagf(d[i]), 1e-5);
    }
    free(back);

    /* bart's own array */
    CU_ASSERT_EQUAL_FATAL(im_bart("ones 3 4 5 1 ones"), 0);
    char *ones = im_path("ones");
    CU_ASSERT_EQUAL_FATAL(cfl_read(ones, got, &back, err, sizeof err), 0);
    CU_ASSERT_EQUAL(got[0], 4);
    CU_ASSERT_EQUAL(got[1], 5);
    CU_ASSERT_EQUAL(got[2], 1);
    CU_ASSERT_EQUAL(got[3], 1);
    for (int i = 0; i < 20; i++)
        CU_ASSERT(back[i] == 1);
    free(back);

    /* a volume with frames: bart slice along dimension 10 gives frame 1 */
    struct image_vol *v = image_new(3, 2, 2, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int i = 0; i < 3 * 2 * 2 * 3; i++)
        v->data[i] = (float)i + (float)(i % 5) * I;
    char *vb = im_path("vol");
    CU_ASSERT_EQUAL_FATAL(img_write_cfl(v, vb, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(im_bart("slice 10 1 vol fr1"), 0);
    char *fr = im_path("fr1");
    CU_ASSERT_EQUAL_FATAL(cfl_read(fr, got, &back, err, sizeof err), 0);
    CU_ASSERT_EQUAL(got[0], 3);
    CU_ASSERT_EQUAL(got[1], 2);
    CU_ASSERT_EQUAL(got[2], 2);
    for (int i = 3; i < 16; i++)
        CU_ASSERT_EQUAL(got[i], 1);
    CU_ASSERT_EQUAL(memcmp(back, v->data + 12, 12 * sizeof *back), 0);
    free(back);
    image_free(v);
    free(fr);
    free(vb);
    free(ones);
    free(out);
    free(in);
    im_clear();
}

/* cfl_read of a header text (and a .cfl of n complex floats) fails with a
   message holding want. */
static void im_bad_hdr(const char *text, size_t n, const char *want)
{
    im_write_text("bad.hdr", text);
    im_write_bytes("bad.cfl", n * 8);
    char *base = im_path("bad");
    char err[512] = "";
    long dims[16];
    float complex *d = (float complex *)&err;   /* must be reset to NULL */
    CU_ASSERT_EQUAL(cfl_read(base, dims, &d, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(d);
    if (!strstr(err, want))
        printf("\n  [image] cfl_read: wanted \"%s\" in \"%s\"\n", want, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    free(base);
}

static void test_cfl_bad_headers(void)
{
    im_bad_hdr("# Dimensions\n4 x 5\n", 20, "bad.hdr:2: 'x' is not a dimension");
    im_bad_hdr("# Dimensions\n4 -5\n", 20, "bad.hdr:2: '-5'");
    im_bad_hdr("# Dimensions\n4 0 5\n", 20, "bad.hdr:2: '0'");
    im_bad_hdr("# Dimensions\n4 5q\n", 20, "bad.hdr:2: '5q'");
    im_bad_hdr("# Command\nones 2 4 5 x\n", 20, "no '# Dimensions'");
    im_bad_hdr("# Dimensions\n", 1, "bad.hdr:1: '# Dimensions' is not followed");
    im_bad_hdr("# Dimensions\n\n", 1, "bad.hdr:2: no dimensions");
    im_bad_hdr("# Dimensions\n4 5\n# Dimensions\n4 5\n", 20, "bad.hdr:3: a second");
    im_bad_hdr("hello\n# Dimensions\n4 5\n", 20, "bad.hdr:1: text before");
    im_bad_hdr("# Dimensions\n1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 2\n", 2, "bad.hdr:2: dimension 16");
    im_bad_hdr("# Dimensions\n4 5\n", 19, "bad.cfl: 152 bytes");
    im_bad_hdr("# Dimensions\n4 5\n", 21, "(160 bytes)");
    im_bad_hdr("# Dimensions\n99999999999999999999\n", 1, "bad.hdr:2:");
    im_bad_hdr("# Dimensions\n4294967296 4294967296 4294967296\n", 1, "too large");

    /* what BART writes, with a CRLF and 1s past dimension 16, reads */
    im_write_text("ok.hdr", "# Dimensions\r\n2 3 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 \r\n"
                            "# Command\nones 2 2 3 x \n# Files\n >x\n# Creator\nBART v0.8.00\n");
    im_write_bytes("ok.cfl", 6 * 8);
    char *base = im_path("ok");
    char err[512] = "";
    long dims[16];
    float complex *d = NULL;
    CU_ASSERT_EQUAL(cfl_read(base, dims, &d, err, sizeof err), 0);
    CU_ASSERT_EQUAL(dims[0], 2);
    CU_ASSERT_EQUAL(dims[1], 3);
    CU_ASSERT_EQUAL(dims[15], 1);
    free(d);
    free(base);

    /* missing files */
    base = im_path("absent");
    CU_ASSERT_EQUAL(cfl_read(base, dims, &d, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "absent.hdr"));
    free(base);
    im_write_text("nodata.hdr", "# Dimensions\n1\n");
    base = im_path("nodata");
    CU_ASSERT_EQUAL(cfl_read(base, dims, &d, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nodata.cfl"));
    free(base);
    /* a binary file as the header */
    base = im_path("bin");
    im_write_bytes("bin.hdr", 100);
    CU_ASSERT_EQUAL(cfl_read(base, dims, &d, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "binary"));
    free(base);
    im_clear();
}

/* ---------------------------------------------------------------------- */
/* ISMRMRD                                                                 */
/* ---------------------------------------------------------------------- */

static int im_schema_valid(const char *xml)
{
    const char *xsd = "/usr/share/ismrmrd/schema/ismrmrd.xsd";
    if (access(xsd, R_OK) != 0 || !test_have_program("xmllint"))
        return -1;
    im_write_text("hdr.xml", xml);
    char *cmd = xasprintf("xmllint --noout --schema '%s' '%s/hdr.xml' >/dev/null 2>&1", xsd,
                          im_dir);
    int rc = system(cmd);
    free(cmd);
    char *p = im_path("hdr.xml");
    unlink(p);
    free(p);
    return rc == 0;
}

/* Check the images of v in the file: count images from first, then header
   fields and data of each. Returns the XML header (to free). */
static char *im_check_ismrmrd(const struct image_vol *v, const char *name, uint32_t total,
                              uint32_t first)
{
    char *p = im_path(name);
    ISMRMRD_Dataset ds;
    CU_ASSERT_EQUAL_FATAL(ismrmrd_init_dataset(&ds, p, "dataset"), ISMRMRD_NOERROR);
    CU_ASSERT_EQUAL_FATAL(ismrmrd_open_dataset(&ds, false), ISMRMRD_NOERROR);
    free(p);
    CU_ASSERT_EQUAL(ismrmrd_get_number_of_images(&ds, "image_0"), total);
    for (int f = 0; f < v->nframes; f++) {
        for (int k = 0; k < v->nz; k++) {
            ISMRMRD_Image im;
            ismrmrd_init_image(&im);
            uint32_t at = first + (uint32_t)(f * v->nz + k);
            CU_ASSERT_EQUAL_FATAL(ismrmrd_read_image(&ds, "image_0", at, &im), ISMRMRD_NOERROR);
            const ISMRMRD_ImageHeader *h = &im.head;
            CU_ASSERT_EQUAL(h->data_type, v->is_complex ? ISMRMRD_CXFLOAT : ISMRMRD_FLOAT);
            CU_ASSERT_EQUAL(h->image_type,
                            v->is_complex ? ISMRMRD_IMTYPE_COMPLEX : ISMRMRD_IMTYPE_MAGNITUDE);
            CU_ASSERT_EQUAL(h->matrix_size[0], v->nx);
            CU_ASSERT_EQUAL(h->matrix_size[1], v->ny);
            CU_ASSERT_EQUAL(h->matrix_size[2], 1);
            CU_ASSERT_EQUAL(h->channels, 1);
            CU_ASSERT_DOUBLE_EQUAL(h->field_of_view[0], v->nx * v->voxel[0] * 1e3, 1e-4);
            CU_ASSERT_DOUBLE_EQUAL(h->field_of_view[1], v->ny * v->voxel[1] * 1e3, 1e-4);
            CU_ASSERT_DOUBLE_EQUAL(h->field_of_view[2], v->voxel[2] * 1e3, 1e-4);
            for (int a = 0; a < 3; a++) {
                double pos = v->position[a] + (k - v->nz / 2) * v->voxel[2] * v->slice_dir[a];
                CU_ASSERT_DOUBLE_EQUAL(h->position[a], pos * 1e3, 1e-3);
                CU_ASSERT_DOUBLE_EQUAL(h->read_dir[a], v->read_dir[a], 1e-6);
                CU_ASSERT_DOUBLE_EQUAL(h->phase_dir[a], v->phase_dir[a], 1e-6);
                CU_ASSERT_DOUBLE_EQUAL(h->slice_dir[a], v->slice_dir[a], 1e-6);
            }
            CU_ASSERT_EQUAL(h->slice, k);
            CU_ASSERT_EQUAL(h->contrast, v->frame_labels[f][VM_LABEL_ECO]);
            CU_ASSERT_EQUAL(h->phase, v->frame_labels[f][VM_LABEL_PHS]);
            CU_ASSERT_EQUAL(h->repetition, v->frame_labels[f][VM_LABEL_REP]);
            CU_ASSERT_EQUAL(h->set, v->frame_labels[f][VM_LABEL_SET]);
            CU_ASSERT_EQUAL(h->image_series_index, 0);
            CU_ASSERT_EQUAL(h->image_index, f * v->nz + k + 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(im.data);
            for (int j = 0; j < v->ny; j++)
                for (int i = 0; i < v->nx; i++) {
                    float complex want = im_get(v, i, j, k, f);
                    size_t o = (size_t)j * v->nx + i;
                    if (v->is_complex) {
                        CU_ASSERT(((float complex *)im.data)[o] == want);
                    } else {
                        CU_ASSERT(((float *)im.data)[o] == cabsf(want));
                    }
                }
            ismrmrd_cleanup_image(&im);
        }
    }
    char *xml = ismrmrd_read_header(&ds);
    ismrmrd_close_dataset(&ds);
    return xml;
}

static struct image_vol *im_ismrmrd_fixture(void)
{
    struct image_vol *v = image_new(4, 3, 3, 2);
    for (size_t i = 0; i < 4 * 3 * 3 * 2; i++)
        v->data[i] = (float)i - (float)(i % 4) * 1.5f * I;
    v->voxel[0] = 1.5e-3;
    v->voxel[1] = 2e-3;
    v->voxel[2] = 4e-3;
    v->position[0] = 0.012;
    v->position[1] = -0.004;
    v->position[2] = 0.02;
    double R[3][3];
    im_rotation(R, 0.3, -0.2, 0.1);
    for (int a = 0; a < 3; a++) {
        v->read_dir[a] = R[a][0];
        v->phase_dir[a] = R[a][1];
        v->slice_dir[a] = R[a][2];
    }
    v->frame_labels[1][VM_LABEL_ECO] = 1;
    v->frame_labels[1][VM_LABEL_REP] = 2;
    v->frame_labels[0][VM_LABEL_SET] = 3;
    v->frame_labels[1][VM_LABEL_PHS] = 4;
    v->sequence_name = "gre <3D> & more";
    return v;
}

static void test_ismrmrd_readback(void)
{
    struct image_vol *v = im_ismrmrd_fixture();
    char *p = im_path("img.h5");
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, p, NULL, true, err, sizeof err), 0);
    char *xml = im_check_ismrmrd(v, "img.h5", 6, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<protocolName>gre &lt;3D&gt; &amp; more</protocolName>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<matrixSize><x>4</x><y>3</y><z>3</z></matrixSize>"));
    int valid = im_schema_valid(xml);
    if (valid < 0) {
        test_skip("xmllint or ismrmrd.xsd not installed: the minimal header is not validated");
    } else {
        CU_ASSERT_EQUAL(valid, 1);
    }
    if (test_have_program("ismrmrd_test_xml")) {
        /* libismrmrd's own (C++) parser reads it (and writes raw.xml and
           processed.xml where it runs) */
        im_write_text("hdr.xml", xml);
        char *cmd = xasprintf("cd '%s' && ismrmrd_test_xml hdr.xml >/dev/null 2>&1", im_dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
        free(cmd);
        const char *made[] = { "hdr.xml", "raw.xml", "processed.xml" };
        for (size_t i = 0; i < ARRAY_LEN(made); i++) {
            char *hp = im_path(made[i]);
            unlink(hp);
            free(hp);
        }
    } else {
        test_skip("ismrmrd_test_xml not installed");
    }
    free(xml);

    /* magnitudes: float data */
    v->is_complex = false;
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, p, "<ismrmrdHeader/>", true, err, sizeof err), 0);
    xml = im_check_ismrmrd(v, "img.h5", 6, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    CU_ASSERT_STRING_EQUAL(xml, "<ismrmrdHeader/>");
    free(xml);
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 1);
    CU_ASSERT_FALSE(tmp_left);
    free(p);
    image_free(v);
    im_clear();
}

static void test_ismrmrd_append_to_raw(void)
{
    char *p = im_path("raw.h5");
    char err[512] = "";
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    float samples[2 * 8];
    for (int i = 0; i < 16; i++)
        samples[i] = (float)i;
    for (int j = 0; j < 3; j++) {
        struct raw_acq a;
        memset(&a, 0, sizeof a);
        a.scan_counter = (uint32_t)j;
        a.samples = 8;
        a.ncoils = 1;
        a.data = samples;
        a.dwell = 1e-5;
        a.time_ns = j * 10000000LL;
        a.labels[VM_LABEL_LIN] = j;
        a.centre_sample = 4;
        a.read_dir[0] = 1;
        a.phase_dir[1] = 1;
        a.slice_dir[2] = 1;
        CU_ASSERT_EQUAL(raw_append(w, &a, err, sizeof err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(raw_close(w, NULL, err, sizeof err), 0);
    struct raw_file *before = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);

    struct image_vol *v = im_ismrmrd_fixture();
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, p, "<other/>", false, err, sizeof err), 0);
    struct raw_file *after = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_STRING_EQUAL(after->xml, before->xml);     /* the raw data's header kept */
    CU_ASSERT_EQUAL(after->nacq, 3);
    raw_file_free(after);
    char *xml = im_check_ismrmrd(v, "raw.h5", 6, 0);
    CU_ASSERT_STRING_EQUAL(xml, before->xml);
    free(xml);

    /* a second append adds a second set of images after the first */
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, p, NULL, false, err, sizeof err), 0);
    xml = im_check_ismrmrd(v, "raw.h5", 12, 6);
    free(xml);
    /* images of another size or type cannot join the series: refused
       before anything is appended */
    struct image_vol *other = image_new(2, 2, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_ismrmrd(other, p, NULL, false, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "raw.h5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "image_0 holds complex images of 4 x 3 x 1"));
    image_free(other);
    v->is_complex = false;
    err[0] = 0;
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, p, NULL, false, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "these are real images of 4 x 3 x 1"));
    v->is_complex = true;
    xml = im_check_ismrmrd(v, "raw.h5", 12, 6);
    free(xml);
    /* the file is still readable and whole */
    after = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_EQUAL(after->nacq, 3);
    raw_file_free(after);

    /* truncate: the raw data is gone, the given header written */
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, p, "<mine/>", true, err, sizeof err), 0);
    xml = im_check_ismrmrd(v, "raw.h5", 6, 0);
    CU_ASSERT_STRING_EQUAL(xml, "<mine/>");
    free(xml);
    ISMRMRD_Dataset ds;
    ismrmrd_init_dataset(&ds, p, "dataset");
    CU_ASSERT_EQUAL_FATAL(ismrmrd_open_dataset(&ds, false), ISMRMRD_NOERROR);
    CU_ASSERT_EQUAL(ismrmrd_get_number_of_acquisitions(&ds), 0);
    ismrmrd_close_dataset(&ds);

    /* appending to a file that does not exist creates it */
    char *fresh = im_path("fresh.h5");
    CU_ASSERT_EQUAL_FATAL(img_write_ismrmrd(v, fresh, NULL, false, err, sizeof err), 0);
    xml = im_check_ismrmrd(v, "fresh.h5", 6, 0);
    CU_ASSERT_PTR_NOT_NULL(xml);
    free(xml);
    free(fresh);
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 2);
    CU_ASSERT_FALSE(tmp_left);
    raw_file_free(before);
    image_free(v);
    free(p);
    im_clear();
}

static void test_ismrmrd_errors(void)
{
    char err[512] = "";
    struct image_vol *v = image_new(2, 2, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    /* not appended to (nor replacing) a file that is not HDF5 */
    im_write_text("notes.txt", "not HDF5\n");
    char *p = im_path("notes.txt");
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, p, NULL, false, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an HDF5 file"));
    size_t len;
    char *text = read_file(p, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "not HDF5\n");
    free(text);
    free(p);

    p = im_path("e.h5");
    v->frame_labels[0][VM_LABEL_REP] = -1;
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, p, NULL, true, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rep = -1"));
    v->frame_labels[0][VM_LABEL_REP] = 0;
    image_free(v);
    v = image_new(1, 1, 300, 300);       /* 90000 images: past the 16-bit image index */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, p, NULL, true, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "65535"));
    image_free(v);
    v = image_new(2, 2, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    v->nframes = 0;
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, p, NULL, true, err, sizeof err), -1);
    v->nframes = 1;
    const char *nodir = "/nonexistent-larmor-dir/x.h5";
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, nodir, NULL, true, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, nodir));
    CU_ASSERT_EQUAL(img_write_ismrmrd(v, nodir, NULL, false, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, nodir));
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), 1);
    CU_ASSERT_FALSE(tmp_left);
    free(p);
    image_free(v);
    im_clear();
}

int register_image_tests(void)
{
    CU_pSuite s = CU_add_suite("image", im_init, im_cleanup);
    if (!s)
        return 1;
    if (!CU_add_test(s, "image_new defaults; image_free(NULL)", test_new_free) ||
        !CU_add_test(s, "PNG: grey levels, orientation, 8-bit grey", test_png_orientation_window) ||
        !CU_add_test(s, "PNG: auto window at the 99.5th percentile; slices", test_png_auto_window_slices) ||
        !CU_add_test(s, "PNG: mosaic tiles and frames", test_png_mosaic) ||
        !CU_add_test(s, "PNG: names of frame and slice files", test_png_frame_names) ||
        !CU_add_test(s, "PNG: bad arguments and paths", test_png_errors) ||
        !CU_add_test(s, "NIfTI: fields, sform and qform of an oblique volume", test_nifti_oblique) ||
        !CU_add_test(s, "NIfTI: left-handed (qfac -1), 4D", test_nifti_left_handed_frames) ||
        !CU_add_test(s, "NIfTI: bad arguments and paths", test_nifti_errors) ||
        !CU_add_test(s, "BART: round trip, image dimensions", test_cfl_roundtrip) ||
        !CU_add_test(s, "BART: bart reads ours, we read bart's", test_cfl_bart_interop) ||
        !CU_add_test(s, "BART: malformed headers, each with its line", test_cfl_bad_headers) ||
        !CU_add_test(s, "ISMRMRD: images read back with libismrmrd", test_ismrmrd_readback) ||
        !CU_add_test(s, "ISMRMRD: appended next to raw data", test_ismrmrd_append_to_raw) ||
        !CU_add_test(s, "ISMRMRD: bad files, values and paths", test_ismrmrd_errors))
        return 1;
    return 0;
}
