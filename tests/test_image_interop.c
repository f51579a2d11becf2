/*
 * test_image_interop: CUnit suite "image.interop" for runtime/recon/image.c's
 * writers read by other tools. BART arrays round-trip, BART itself reads
 * and writes ours (bart scale, bart slice along the frame dimension),
 * malformed headers fail with their line. ISMRMRD images are read back with
 * libismrmrd (header fields and data), appended next to raw data without
 * touching its XML header, and their minimal header validates against the
 * schema. Bad arguments and unwritable paths fail with a message, and no
 * temporary file is left. All files live in a mkdtemp directory removed at
 * the end (tests/imageutil.c).
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

int register_image_interop_tests(void);

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

/* The header BART's writer put next to base begins with want (its
   dimensions). */
static void expect_cfl_dims(const char *base, const char *want)
{
    char *hdr = xasprintf("%s.hdr", base);
    size_t len;
    char *text = read_file(hdr, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, want, strlen(want)), 0);
    free(text);
    free(hdr);
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
    expect_cfl_dims(base, "# Dimensions\n3 1 2 5 \n");
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
    expect_cfl_dims(vb, "# Dimensions\n4 3 2 \n");
    CU_ASSERT_EQUAL_FATAL(cfl_read(vb, got, &back, err, sizeof err), 0);
    CU_ASSERT_EQUAL(memcmp(back, v->data, 24 * sizeof *back), 0);
    free(back);
    free(vb);
    image_free(v);

    v = image_new(2, 2, 1, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    vb = im_path("vol3");
    CU_ASSERT_EQUAL_FATAL(img_write_cfl(v, vb, err, sizeof err), 0);
    expect_cfl_dims(vb, "# Dimensions\n2 2 1 1 1 1 1 1 1 1 3 \n");
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
    im_expect_files(6);
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

/* The first n dimensions read are want's. */
static void expect_dims(const long *got, const long *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
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
    expect_dims(got, (const long[]){ 4, 5, 1, 1 }, 4);
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
    expect_dims(got, (const long[]){ 3, 2, 2 }, 3);
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
    im_place(v, (const double[3]){ 1.5e-3, 2e-3, 4e-3 },
             (const double[3]){ 0.012, -0.004, 0.02 });
    im_orient(v, 0.3, -0.2, 0.1);
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
    im_expect_files(1);
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
    im_expect_files(2);
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
    im_expect_files(1);
    free(p);
    image_free(v);
    im_clear();
}

int register_image_interop_tests(void)
{
    static const struct test_def tests[] = {
        { "BART: round trip, image dimensions", test_cfl_roundtrip },
        { "BART: bart reads ours, we read bart's", test_cfl_bart_interop },
        { "BART: malformed headers, each with its line", test_cfl_bad_headers },
        { "ISMRMRD: images read back with libismrmrd", test_ismrmrd_readback },
        { "ISMRMRD: appended next to raw data", test_ismrmrd_append_to_raw },
        { "ISMRMRD: bad files, values and paths", test_ismrmrd_errors },
    };
    return TEST_ADD_FIXTURE_SUITE("image.interop", im_init, im_cleanup, tests);
}
