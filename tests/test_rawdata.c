/*
 * test_rawdata: CUnit suite "rawdata" for runtime/io/rawdata.c: a file of a
 * few two-coil acquisitions reads back field for field and sample for
 * sample; its XML header parses back and is valid for the ISMRMRD schema
 * (xmllint), for libismrmrd's own parser (ismrmrd_test_xml) and for its
 * Cartesian recon tool; the flag rules on hand-derived label sequences;
 * files closed after zero appends or with no header; labels that do not
 * fit refused; a file made by ismrmrd_generate_cartesian_shepp_logan; and
 * bad files (missing, not HDF5, no dataset, broken header, short data,
 * truncated) each with its error and nothing printed by HDF5. External
 * programs are skipped, with a note, where they are not installed. All
 * files live in a mkdtemp directory removed at the end.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/rawdata.h"
#include "base/util.h"
#include "tests/testutil.h"

int register_rawdata_tests(void);
int register_rawcheck_tests(void);
/* In group g, the table "data" of one acquisition record rec (size bytes:
   the header of type head at 0, an hvl_t of samples of type sample at
   data_off), as ISMRMRD lays it out; or, when declared > 0, a chunked
   table of that many records none of which is written (rec unused).
   test_rawcheck.c forges with it too. */
void rd_write_record(hid_t g, hid_t head, hid_t sample, const void *rec, size_t size,
                     size_t data_off, hsize_t declared);

static char rd_dir[512];

static int rd_init(void)
{
    return test_scratch_make(rd_dir, sizeof rd_dir, "rawdata");
}

static int rd_cleanup(void)
{
    return test_scratch_remove(rd_dir);
}

static char *rd_path(const char *name)
{
    return xasprintf("%s/%s", rd_dir, name);
}

static const char *rd_xsd(void)
{
    static const char *const cand[] = {
        "/usr/share/ismrmrd/schema/ismrmrd.xsd",
        "/usr/local/share/ismrmrd/schema/ismrmrd.xsd",
    };
    for (size_t i = 0; i < ARRAY_LEN(cand); i++)
        if (access(cand[i], R_OK) == 0)
            return cand[i];
    return NULL;
}

static void rd_write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* xmllint --schema on the text: 1 valid, 0 invalid, -1 skipped. */
static int rd_schema_valid(const char *xml, const char *name)
{
    const char *xsd = rd_xsd();
    if (!xsd || !test_have_program("xmllint"))
        return -1;
    char *p = rd_path(name);
    rd_write_text(p, xml, strlen(xml));
    char *cmd = xasprintf("xmllint --noout --schema '%s' '%s' >/dev/null 2>&1", xsd, p);
    int rc = system(cmd);
    free(cmd);
    free(p);
    return rc == 0;
}

/* rd_schema_valid, noting a skip where there is no validator (the
   callers accept valid or not validated). */
static int rd_schema_check(const char *xml, const char *name)
{
    int v = rd_schema_valid(xml, name);
    if (v < 0)
        test_skip("xmllint or ismrmrd.xsd not installed: no schema validation");
    return v;
}

/* ---- the fixture: 2 slices x 4 lines, 2 coils, 8 samples ---- */

enum { RD_NACQ = 8, RD_NS = 8, RD_NC = 2 };
static const char *const rd_pnames[] = { "TE_eff", "a<b & c \"q\" 'x' >", "\xc3\xbcn\xc3\xaf" };
static const double rd_pvals[] = { 0.0123, -1e-300, 42 };
static float rd_data[RD_NACQ][RD_NC * RD_NS * 2];

static void rd_header(struct raw_header *h)
{
    memset(h, 0, sizeof *h);
    h->sequence_name = "spin_echo <test> & co";
    h->system_name = "generic_3t";
    h->b0 = 2.89362;
    h->larmor_hz = 123200000.4;
    h->ncoils = RD_NC;
    h->matrix[0] = RD_NS;
    h->matrix[1] = 4;
    h->matrix[2] = 1;
    h->fov[0] = 0.256;
    h->fov[1] = 0.128;
    h->fov[2] = 0.005;
    h->recon_matrix[0] = 4;
    h->recon_matrix[1] = 4;
    h->recon_matrix[2] = 1;
    h->recon_fov[0] = 0.128;
    h->recon_fov[1] = 0.128;
    h->recon_fov[2] = 0.005;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h->limits[l] = (struct raw_limit){ 0, -1, 0 };
    h->limits[VM_LABEL_LIN] = (struct raw_limit){ 0, 3, 2 };
    h->limits[VM_LABEL_SLC] = (struct raw_limit){ 0, 1, 0 };
    h->trajectory = "cartesian";
    h->tr = 0.5;
    h->te = 0.015;
    h->flip = M_PI / 2;
    h->param_names = rd_pnames;
    h->param_values = rd_pvals;
    h->nparams = ARRAY_LEN(rd_pnames);
}

static void rd_acqs(struct raw_acq *a)
{
    int32_t labels[RD_NACQ][VM_LABEL__COUNT];
    memset(labels, 0, sizeof labels);
    for (int j = 0; j < RD_NACQ; j++) {
        labels[j][VM_LABEL_LIN] = j % 4;
        labels[j][VM_LABEL_SLC] = j / 4;
    }
    uint64_t flags[RD_NACQ];
    raw_flags_from_labels((const int32_t (*)[VM_LABEL__COUNT])labels, RD_NACQ, flags);
    for (int j = 0; j < RD_NACQ; j++) {
        for (int k = 0; k < RD_NC * RD_NS * 2; k++)
            rd_data[j][k] = sinf((float)(j * 100 + k)) * 1e-3f + (float)k;
        memset(&a[j], 0, sizeof a[j]);
        a[j].scan_counter = (uint32_t)j;
        a[j].samples = RD_NS;
        a[j].ncoils = RD_NC;
        a[j].data = rd_data[j];
        a[j].dwell = 4e-6 * (1 + j);
        a[j].time_ns = (int64_t)j * 5000000 + 1234;
        memcpy(a[j].labels, labels[j], sizeof labels[j]);
        a[j].flags = flags[j] | (j % 2 ? RAW_FLAG(RAW_IS_REVERSE) : 0);
        a[j].centre_sample = RD_NS / 2;
        a[j].read_dir[0] = 1;
        a[j].phase_dir[1] = 1;
        a[j].slice_dir[2] = 1;
        a[j].position[2] = (float)(j / 4) * 5.5f - 2.75f;
        a[j].table_position[2] = -12.5f;
    }
}

/* Write the fixture to name; returns the path (to free). */
static char *rd_write_fixture(const char *name)
{
    char *p = rd_path(name);
    char err[512] = "";
    struct raw_header h;
    struct raw_acq a[RD_NACQ];
    rd_header(&h);
    rd_acqs(a);
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (int j = 0; j < RD_NACQ; j++)
        CU_ASSERT_EQUAL(raw_append(w, &a[j], err, sizeof err), 0);
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), 0);
    return p;
}

static void test_roundtrip(void)
{
    char *p = rd_write_fixture("fixture.h5");
    struct raw_acq a[RD_NACQ];
    rd_acqs(a);
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(f->nacq, RD_NACQ);
    for (int j = 0; j < RD_NACQ; j++) {
        const struct raw_acq *b = &f->acq[j];
        CU_ASSERT_EQUAL(b->scan_counter, a[j].scan_counter);
        CU_ASSERT_EQUAL(b->samples, a[j].samples);
        CU_ASSERT_EQUAL(b->ncoils, a[j].ncoils);
        CU_ASSERT_EQUAL(memcmp(b->data, a[j].data, sizeof rd_data[j]), 0);
        /* sample_time_us is a float: equal at float precision */
        CU_ASSERT_EQUAL((float)(b->dwell * 1e6), (float)(a[j].dwell * 1e6));
        /* acquisition_time_stamp: whole 2.5 ms ticks */
        CU_ASSERT_EQUAL(b->time_ns, a[j].time_ns / 2500000 * 2500000);
        CU_ASSERT_EQUAL(memcmp(b->labels, a[j].labels, sizeof b->labels), 0);
        CU_ASSERT_EQUAL(b->flags, a[j].flags);
        CU_ASSERT_EQUAL(b->centre_sample, a[j].centre_sample);
        CU_ASSERT_EQUAL(memcmp(b->read_dir, a[j].read_dir, sizeof b->read_dir), 0);
        CU_ASSERT_EQUAL(memcmp(b->phase_dir, a[j].phase_dir, sizeof b->phase_dir), 0);
        CU_ASSERT_EQUAL(memcmp(b->slice_dir, a[j].slice_dir, sizeof b->slice_dir), 0);
        CU_ASSERT_EQUAL(memcmp(b->position, a[j].position, sizeof b->position), 0);
        CU_ASSERT_EQUAL(memcmp(b->table_position, a[j].table_position, sizeof b->table_position), 0);
    }
    /* the header fields of the file, straight from HDF5 */
    hid_t fid = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(fid >= 0);
    hid_t ds = H5Dopen2(fid, "/dataset/data", H5P_DEFAULT);
    CU_ASSERT_FATAL(ds >= 0);
    struct { uint32_t uid; uint16_t avail, active, ref, ver; uint64_t mask[16]; } hv[RD_NACQ];
    hid_t head = H5Tcreate(H5T_COMPOUND, sizeof hv[0]);
    hsize_t d16 = 16;
    hid_t arr = H5Tarray_create2(H5T_NATIVE_UINT64, 1, &d16);
    H5Tinsert(head, "measurement_uid", offsetof(__typeof__(hv[0]), uid), H5T_NATIVE_UINT32);
    H5Tinsert(head, "available_channels", offsetof(__typeof__(hv[0]), avail), H5T_NATIVE_UINT16);
    H5Tinsert(head, "active_channels", offsetof(__typeof__(hv[0]), active), H5T_NATIVE_UINT16);
    H5Tinsert(head, "encoding_space_ref", offsetof(__typeof__(hv[0]), ref), H5T_NATIVE_UINT16);
    H5Tinsert(head, "version", offsetof(__typeof__(hv[0]), ver), H5T_NATIVE_UINT16);
    H5Tinsert(head, "channel_mask", offsetof(__typeof__(hv[0]), mask), arr);
    hid_t rec = H5Tcreate(H5T_COMPOUND, sizeof hv[0]);
    H5Tinsert(rec, "head", 0, head);
    CU_ASSERT(H5Dread(ds, rec, H5S_ALL, H5S_ALL, H5P_DEFAULT, hv) >= 0);
    for (int j = 0; j < RD_NACQ; j++) {
        CU_ASSERT_EQUAL(hv[j].uid, hv[0].uid);
        CU_ASSERT_EQUAL(hv[j].avail, RD_NC);
        CU_ASSERT_EQUAL(hv[j].active, RD_NC);
        CU_ASSERT_EQUAL(hv[j].ref, 0);
        CU_ASSERT_EQUAL(hv[j].ver, 1);
        CU_ASSERT_EQUAL(hv[j].mask[0], 3u);
        CU_ASSERT_EQUAL(hv[j].mask[1], 0u);
    }
    H5Tclose(rec);
    H5Tclose(arr);
    H5Tclose(head);
    H5Dclose(ds);
    H5Fclose(fid);
    raw_file_free(f);
    free(p);
}

static void test_header_parses_back(void)
{
    char *p = rd_write_fixture("header.h5");
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const struct raw_header *h = &f->hdr;
    CU_ASSERT_STRING_EQUAL(h->sequence_name, "spin_echo <test> & co");
    CU_ASSERT_STRING_EQUAL(h->system_name, "generic_3t");
    CU_ASSERT_EQUAL(h->b0, 2.89362);
    CU_ASSERT_EQUAL(h->larmor_hz, 123200000.0);   /* written as an integer */
    CU_ASSERT_EQUAL(h->ncoils, RD_NC);
    CU_ASSERT(h->matrix[0] == 8 && h->matrix[1] == 4 && h->matrix[2] == 1);
    CU_ASSERT(h->recon_matrix[0] == 4 && h->recon_matrix[1] == 4 && h->recon_matrix[2] == 1);
    CU_ASSERT_EQUAL(h->fov[0], 0.256);
    CU_ASSERT_EQUAL(h->fov[1], 0.128);
    CU_ASSERT_EQUAL(h->fov[2], 0.005);
    CU_ASSERT_EQUAL(h->recon_fov[0], 0.128);
    CU_ASSERT_EQUAL(h->limits[VM_LABEL_LIN].min, 0);
    CU_ASSERT_EQUAL(h->limits[VM_LABEL_LIN].max, 3);
    CU_ASSERT_EQUAL(h->limits[VM_LABEL_LIN].centre, 2);
    CU_ASSERT_EQUAL(h->limits[VM_LABEL_SLC].max, 1);
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (l != VM_LABEL_LIN && l != VM_LABEL_SLC)
            CU_ASSERT(h->limits[l].max < h->limits[l].min);
    CU_ASSERT_STRING_EQUAL(h->trajectory, "cartesian");
    CU_ASSERT_EQUAL(h->tr, 0.5);
    CU_ASSERT_EQUAL(h->te, 0.015);
    CU_ASSERT_EQUAL(h->ti, 0);
    CU_ASSERT_DOUBLE_EQUAL(h->flip, M_PI / 2, 1e-12);
    CU_ASSERT_EQUAL_FATAL(h->nparams, ARRAY_LEN(rd_pnames));
    for (size_t i = 0; i < h->nparams; i++) {
        CU_ASSERT_STRING_EQUAL(h->param_names[i], rd_pnames[i]);
        CU_ASSERT_EQUAL(h->param_values[i], rd_pvals[i]);
    }
    /* the schema's element order, checked by a validator where there is one */
    int v = rd_schema_valid(f->xml, "header.xml");
    if (v < 0)
        test_skip("xmllint or ismrmrd.xsd not installed: no schema validation");
    else
        CU_ASSERT_EQUAL(v, 1);
    /* and the validator does catch a misplaced element */
    if (v >= 0) {
        const char *bad = strstr(f->xml, "<measurementInformation>");
        const char *enc = strstr(f->xml, "<encoding>");
        CU_ASSERT_FATAL(bad && enc && bad < enc);
        struct strbuf b;
        sb_init(&b);
        sb_putn(&b, f->xml, (size_t)(bad - f->xml));
        const char *mend = strstr(bad, "</measurementInformation>\n") + 26;
        const char *eend = strstr(enc, "</encoding>\n") + 12;
        /* move measurementInformation after encoding */
        sb_putn(&b, mend, (size_t)(eend - mend));
        sb_putn(&b, bad, (size_t)(mend - bad));
        sb_puts(&b, eend);
        CU_ASSERT_EQUAL(rd_schema_valid(b.s, "misordered.xml"), 0);
        sb_fini(&b);
    }
    if (test_have_program("ismrmrd_test_xml")) {
        char *x = rd_path("header.xml");
        rd_write_text(x, f->xml, strlen(f->xml));
        char *cmd = xasprintf("cd '%s' && ismrmrd_test_xml header.xml >/dev/null 2>&1", rd_dir);
        CU_ASSERT_EQUAL(system(cmd), 0);
        free(cmd);
        free(x);
    } else {
        test_skip("ismrmrd_test_xml not installed");
    }
    raw_file_free(f);
    free(p);
}

/* ISMRMRD's tools on our file: ismrmrd_info (which in libismrmrd 1.8 only
   prints the library version) and ismrmrd_recon_cartesian_2d, which parses
   the header with libismrmrd's C++ parser and reads every acquisition. */
static void test_ismrmrd_tools(void)
{
    char *p = rd_write_fixture("tools.h5");
    if (test_have_program("ismrmrd_info")) {
        char *cmd = xasprintf("ismrmrd_info '%s' >/dev/null 2>&1", p);
        CU_ASSERT_EQUAL(system(cmd), 0);
        free(cmd);
    } else {
        test_skip("ismrmrd_info not installed");
    }
    if (test_have_program("ismrmrd_recon_cartesian_2d")) {
        char *cmd = xasprintf("ismrmrd_recon_cartesian_2d '%s' >/dev/null 2>&1", p);
        CU_ASSERT_EQUAL(system(cmd), 0);
        free(cmd);
        /* the recon added its images to the file; we still read it */
        char err[512] = "";
        struct raw_file *f = raw_read(p, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f)
            CU_ASSERT_EQUAL(f->nacq, RD_NACQ);
        raw_file_free(f);
    } else {
        test_skip("ismrmrd_recon_cartesian_2d not installed");
    }
    free(p);
}

/* ---- flags ---- */

#define F(n) RAW_FLAG(RAW_##n)
#define PAIR(x) (F(FIRST_IN_##x) | F(LAST_IN_##x))

/* The slice-level pairs (slice, phase, set, contrast, segment, encode
   step 1): their FIRST bits and their LAST bits. */
#define SLICE_FIRST (F(FIRST_IN_SLICE) | F(FIRST_IN_PHASE) | F(FIRST_IN_SET) | \
                     F(FIRST_IN_CONTRAST) | F(FIRST_IN_SEGMENT) | F(FIRST_IN_ENCODE_STEP1))
#define SLICE_LAST (F(LAST_IN_SLICE) | F(LAST_IN_PHASE) | F(LAST_IN_SET) | \
                    F(LAST_IN_CONTRAST) | F(LAST_IN_SEGMENT) | F(LAST_IN_ENCODE_STEP1))

/* The flags of n (at most 16) acquisitions with these labels are want. */
static void rd_expect_flags(int n, const int32_t (*labels)[VM_LABEL__COUNT], const uint64_t *want)
{
    uint64_t fl[16];
    raw_flags_from_labels(labels, (size_t)n, fl);
    for (int j = 0; j < n; j++) {
        CU_ASSERT_EQUAL(fl[j], want[j]);
        if (fl[j] != want[j])
            printf("\n  ADC %d: flags %#llx, expected %#llx\n", j, (unsigned long long)fl[j],
                   (unsigned long long)want[j]);
    }
}

/* 2 slices x 4 lines, the slices one after the other. */
static void test_flags_sequential_slices(void)
{
    int32_t lab[8][VM_LABEL__COUNT];
    memset(lab, 0, sizeof lab);
    for (int j = 0; j < 8; j++) {
        lab[j][VM_LABEL_SLC] = j / 4;
        lab[j][VM_LABEL_LIN] = j % 4;
    }
    /* slice-level pairs (slice, phase, set, contrast, segment, encode step 1)
       open at the first line of each slice and close at its last; the
       repetition and average pairs span the whole scan; each line is its
       own sweep of partitions */
    const uint64_t first = SLICE_FIRST, last = SLICE_LAST;
    const uint64_t step2 = PAIR(ENCODE_STEP2);
    const uint64_t want[8] = {
        step2 | first | F(FIRST_IN_REPETITION) | F(FIRST_IN_AVERAGE),
        step2,
        step2,
        step2 | last,
        step2 | first,
        step2,
        step2,
        step2 | last | F(LAST_IN_REPETITION) | F(LAST_IN_AVERAGE) | F(LAST_IN_MEASUREMENT),
    };
    rd_expect_flags(8, (const int32_t (*)[VM_LABEL__COUNT])lab, want);
}

/* 2 slices x 4 lines, interleaved: both slices of line 0, then line 1... */
static void test_flags_interleaved_slices(void)
{
    int32_t lab[8][VM_LABEL__COUNT];
    memset(lab, 0, sizeof lab);
    for (int j = 0; j < 8; j++) {
        lab[j][VM_LABEL_LIN] = j / 2;
        lab[j][VM_LABEL_SLC] = j % 2;
    }
    const uint64_t first = SLICE_FIRST, last = SLICE_LAST;
    const uint64_t step2 = PAIR(ENCODE_STEP2);
    const uint64_t want[8] = {
        step2 | first | F(FIRST_IN_REPETITION) | F(FIRST_IN_AVERAGE),   /* l0 s0 */
        step2 | first,                                                   /* l0 s1 */
        step2, step2, step2, step2,
        step2 | last,                                                    /* l3 s0 */
        step2 | last | F(LAST_IN_REPETITION) | F(LAST_IN_AVERAGE) | F(LAST_IN_MEASUREMENT),
    };
    rd_expect_flags(8, (const int32_t (*)[VM_LABEL__COUNT])lab, want);
}

/* 3D: 2 partitions x 2 lines (par outer), then the same again as rep 1,
   with 2 echoes per line. */
static void test_flags_3d_echoes_reps(void)
{
    int32_t lab[16][VM_LABEL__COUNT];
    memset(lab, 0, sizeof lab);
    for (int j = 0; j < 16; j++) {
        lab[j][VM_LABEL_REP] = j / 8;
        lab[j][VM_LABEL_PAR] = (j / 4) % 2;
        lab[j][VM_LABEL_LIN] = (j / 2) % 2;
        lab[j][VM_LABEL_ECO] = j % 2;
    }
    uint64_t want[16];
    for (int j = 0; j < 16; j++) {
        int rep = j / 8, par = (j / 4) % 2, lin = (j / 2) % 2, eco = j % 2;
        uint64_t w = 0;
        /* repetition, average, slice, phase, set: all of one repetition */
        if (j % 8 == 0)
            w |= F(FIRST_IN_REPETITION) | F(FIRST_IN_AVERAGE) | F(FIRST_IN_SLICE) |
                 F(FIRST_IN_PHASE) | F(FIRST_IN_SET);
        if (j % 8 == 7)
            w |= F(LAST_IN_REPETITION) | F(LAST_IN_AVERAGE) | F(LAST_IN_SLICE) |
                 F(LAST_IN_PHASE) | F(LAST_IN_SET);
        /* contrast and segment: one echo's volume in one repetition */
        if (par == 0 && lin == 0)
            w |= F(FIRST_IN_CONTRAST) | F(FIRST_IN_SEGMENT);
        if (par == 1 && lin == 1)
            w |= F(LAST_IN_CONTRAST) | F(LAST_IN_SEGMENT);
        /* step 1: the lines of one partition (per echo, repetition) */
        if (lin == 0)
            w |= F(FIRST_IN_ENCODE_STEP1);
        if (lin == 1)
            w |= F(LAST_IN_ENCODE_STEP1);
        /* step 2: the partitions of one line */
        if (par == 0)
            w |= F(FIRST_IN_ENCODE_STEP2);
        if (par == 1)
            w |= F(LAST_IN_ENCODE_STEP2);
        if (j == 15)
            w |= F(LAST_IN_MEASUREMENT);
        (void)rep;
        (void)eco;
        want[j] = w;
    }
    rd_expect_flags(16, (const int32_t (*)[VM_LABEL__COUNT])lab, want);
}

#undef SLICE_LAST
#undef SLICE_FIRST
#undef PAIR
#undef F

/* ---- refusals, interrupted runs ---- */

static void test_refusals_and_no_header(void)
{
    char *p = rd_path("refuse.h5");
    char err[512] = "";
    struct raw_acq a[RD_NACQ];
    rd_acqs(a);
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(raw_append(w, &a[0], err, sizeof err), 0);
    struct raw_acq b = a[1];
    b.labels[VM_LABEL_LIN] = -1;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "label lin = -1 is negative"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, p));
    b = a[1];
    b.labels[VM_LABEL_AVG] = 70000;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "label avg = 70000"));
    b = a[1];
    b.samples = 0;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    b = a[1];
    b.centre_sample = RD_NS;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    b = a[1];
    b.time_ns = -1;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    b = a[1];
    b.ncoils = 0;
    CU_ASSERT_EQUAL(raw_append(w, &b, err, sizeof err), -1);
    CU_ASSERT_EQUAL(raw_append(w, &a[1], err, sizeof err), 0);
    CU_ASSERT_EQUAL(raw_append(w, &a[5], err, sizeof err), 0);
    /* interrupted: no header given, one derived from what was appended */
    CU_ASSERT_EQUAL(raw_close(w, NULL, err, sizeof err), 0);
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nacq, 3);
    CU_ASSERT_EQUAL(f->hdr.ncoils, RD_NC);
    CU_ASSERT(f->hdr.matrix[0] == RD_NS && f->hdr.matrix[1] == 2 && f->hdr.matrix[2] == 1);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_LIN].max, 1);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_SLC].min, 0);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_SLC].max, 1);
    CU_ASSERT(f->hdr.limits[VM_LABEL_ECO].max < f->hdr.limits[VM_LABEL_ECO].min);
    CU_ASSERT_STRING_EQUAL(f->hdr.trajectory, "other");
    CU_ASSERT_NOT_EQUAL(rd_schema_check(f->xml, "derived.xml"), 0);
    raw_file_free(f);
    free(p);
}

static void test_zero_appends(void)
{
    char *p = rd_path("empty.h5");
    char err[512] = "";
    struct raw_header h;
    rd_header(&h);
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), 0);
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nacq, 0);
    CU_ASSERT_EQUAL(f->hdr.matrix[0], RD_NS);
    CU_ASSERT_EQUAL(f->hdr.ncoils, RD_NC);
    CU_ASSERT_NOT_EQUAL(rd_schema_check(f->xml, "empty.xml"), 0);
    raw_file_free(f);

    /* nothing appended, no header */
    w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(raw_close(w, NULL, err, sizeof err), 0);
    f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nacq, 0);
    CU_ASSERT_NOT_EQUAL(rd_schema_check(f->xml, "empty2.xml"), 0);
    raw_file_free(f);

    /* a header the schema cannot hold: reported, a derived one written */
    w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    h.matrix[1] = 0;
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "encoded matrix y = 0"));
    f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        CU_ASSERT_STRING_EQUAL(f->hdr.sequence_name, h.sequence_name);
    raw_file_free(f);

    /* truncating an existing file */
    char *q = rd_write_fixture("truncate.h5");
    w = raw_open(q, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(raw_close(w, NULL, err, sizeof err), 0);
    f = raw_read(q, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        CU_ASSERT_EQUAL(f->nacq, 0);
    raw_file_free(f);
    free(q);
    free(p);
}

/* ---- other people's files ---- */

static void test_shepp_logan_file(void)
{
    if (!test_have_program("ismrmrd_generate_cartesian_shepp_logan")) {
        test_skip("ismrmrd_generate_cartesian_shepp_logan not installed");
        return;
    }
    char *p = rd_path("shepp.h5");
    char *cmd = xasprintf("ismrmrd_generate_cartesian_shepp_logan -o '%s' -m 32 -c 2 -r 2 "
                          ">/dev/null 2>&1", p);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    free(cmd);
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* readout oversampling 2: encoded 64 x 32, recon 32 x 32 */
    CU_ASSERT(f->hdr.matrix[0] == 64 && f->hdr.matrix[1] == 32 && f->hdr.matrix[2] == 1);
    CU_ASSERT(f->hdr.recon_matrix[0] == 32 && f->hdr.recon_matrix[1] == 32);
    CU_ASSERT_EQUAL(f->hdr.ncoils, 2);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_LIN].max, 31);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_REP].max, 1);
    CU_ASSERT_STRING_EQUAL(f->hdr.trajectory, "cartesian");
    CU_ASSERT_EQUAL_FATAL(f->nacq, 64);
    for (size_t i = 0; i < f->nacq; i++) {
        CU_ASSERT_EQUAL(f->acq[i].samples, 64);
        CU_ASSERT_EQUAL(f->acq[i].ncoils, 2);
        CU_ASSERT_EQUAL(f->acq[i].labels[VM_LABEL_LIN], (int32_t)(i % 32));
        CU_ASSERT_EQUAL(f->acq[i].labels[VM_LABEL_REP], (int32_t)(i / 32));
    }
    CU_ASSERT(f->acq[0].flags & RAW_FLAG(RAW_FIRST_IN_SLICE));
    CU_ASSERT(f->acq[31].flags & RAW_FLAG(RAW_LAST_IN_SLICE));
    raw_file_free(f);
    free(p);
}

/* ---- bad files ---- */

void rd_write_record(hid_t g, hid_t head, hid_t sample, const void *rec, size_t size,
                     size_t data_off, hsize_t declared)
{
    hsize_t n = declared ? declared : 1, chunk = 1024;
    hid_t vl = H5Tvlen_create(sample);
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    H5Tinsert(t, "head", 0, head);
    H5Tinsert(t, "data", data_off, vl);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (declared)
        H5Pset_chunk(pl, 1, &chunk);
    hid_t d = H5Dcreate2(g, "data", t, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    CU_ASSERT(d >= 0);
    if (!declared)
        CU_ASSERT(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec) >= 0);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(s);
    H5Tclose(t);
    H5Tclose(vl);
}

/* An HDF5 file with group "dataset" (unless !group), an xml string (unless
   NULL; fixed-length if fixed) and, by data_kind, no data (0), an integer
   array (1) or one acquisition of 4 samples x 1 channel whose data holds
   nfloats floats, in a table with only the two size members (2), or the
   same with the data as nfloats / 2 {real, imag} pairs, as ISMRMRD before
   1.4 stored it (3). */
static char *rd_forge(const char *name, bool group, const char *xml, bool fixed, int data_kind,
                      size_t nfloats)
{
    char *p = rd_path(name);
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(fid >= 0);
    hid_t g = group ? H5Gcreate2(fid, "dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                    : H5Gcreate2(fid, "other", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(g >= 0);
    hsize_t one = 1;
    if (xml) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, fixed ? strlen(xml) : H5T_VARIABLE);
        hid_t s = H5Screate_simple(1, &one, NULL);
        hid_t d = H5Dcreate2(g, "xml", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CU_ASSERT(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed ? (const void *)xml
                                                                      : (const void *)&xml) >= 0);
        H5Dclose(d);
        H5Sclose(s);
        H5Tclose(t);
    }
    if (data_kind == 1) {
        int v[3] = { 1, 2, 3 };
        hsize_t n = 3;
        hid_t s = H5Screate_simple(1, &n, NULL);
        hid_t d = H5Dcreate2(g, "data", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CU_ASSERT(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        H5Dclose(d);
        H5Sclose(s);
    } else if (data_kind == 2 || data_kind == 3) {
        struct { uint16_t ns, nc; hvl_t data; } rec;
        float buf[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        rec.ns = 4;
        rec.nc = 1;
        rec.data.len = data_kind == 2 ? nfloats : nfloats / 2;
        rec.data.p = buf;
        hid_t head = H5Tcreate(H5T_COMPOUND, 4);
        H5Tinsert(head, "number_of_samples", 0, H5T_NATIVE_UINT16);
        H5Tinsert(head, "active_channels", 2, H5T_NATIVE_UINT16);
        hid_t cx = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
        H5Tinsert(cx, "real", 0, H5T_NATIVE_FLOAT);
        H5Tinsert(cx, "imag", sizeof(float), H5T_NATIVE_FLOAT);
        rd_write_record(g, head, data_kind == 2 ? H5T_NATIVE_FLOAT : cx, &rec, sizeof rec,
                        offsetof(__typeof__(rec), data), 0);
        H5Tclose(cx);
        H5Tclose(head);
    }
    H5Gclose(g);
    H5Fclose(fid);
    return p;
}

static const char rd_min_xml[] =
    "<?xml version=\"1.0\"?>\n<!-- a comment -->\n"
    "<i:ismrmrdHeader xmlns:i=\"http://www.ismrm.org/ISMRMRD\">\n"
    " <i:experimentalConditions><i:H1resonanceFrequency_Hz> 63500000 </i:H1resonanceFrequency_Hz>"
    "</i:experimentalConditions>\n"
    " <i:encoding><i:encodedSpace>\n"
    "  <i:matrixSize><i:x>4</i:x><i:y>1</i:y><i:z>1</i:z></i:matrixSize>\n"
    "  <i:fieldOfView_mm><i:x>1e2</i:x><i:y>100</i:y><i:z><![CDATA[5]]></i:z></i:fieldOfView_mm>\n"
    " </i:encodedSpace><i:trajectory>cartesian</i:trajectory>\n"
    " <i:encodingLimits><i:slice><i:maximum>0</i:maximum></i:slice></i:encodingLimits></i:encoding>\n"
    " <i:userParameters><i:userParameterLong><i:name>n&#233;&amp;&#x41;</i:name>"
    "<i:value>7</i:value></i:userParameterLong></i:userParameters>\n"
    "</i:ismrmrdHeader>\n";

/* Read path expecting failure with an error holding want (and the path). */
static void rd_expect_error(const char *path, const char *want)
{
    char err[512] = "";
    struct raw_file *f = raw_read(path, err, sizeof err);
    CU_ASSERT_PTR_NULL(f);
    raw_file_free(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    if (!strstr(err, want))
        printf("\n  expected \"%s\" in: %s\n", want, err);
}

static void test_bad_files(void)
{
    /* nothing HDF5 prints may reach stderr */
    char *errpath = rd_path("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);

    char *p = rd_path("missing.h5");
    rd_expect_error(p, "No such file");
    free(p);

    p = rd_path("text.h5");
    rd_write_text(p, "hello\n", 6);
    rd_expect_error(p, "not an HDF5 file");
    free(p);

    /* forged files: rd_forge's group, XML, data kind and float count */
    const char *nan_matrix =
        "<ismrmrdHeader><encoding><encodedSpace><matrixSize><x>abc</x><y>1</y><z>1</z>"
        "</matrixSize></encodedSpace></encoding></ismrmrdHeader>";
    const struct {
        const char *name;
        bool group;
        const char *xml;
        int data_kind;
        size_t nfloats;
        const char *want;
    } forged[] = {
        { "nodataset.h5", false, NULL, 0, 0, "not an ISMRMRD file" },
        { "noxml.h5", true, NULL, 0, 0, "/dataset/xml is missing" },
        { "badxml.h5", true, "<ismrmrdHeader><encoding>", 0, 0, "not well-formed" },
        { "mismatch.h5", true, "<ismrmrdHeader><encoding></ismrmrdHeader>", 0, 0,
          "does not close <encoding>" },
        { "root.h5", true, "<?xml version=\"1.0\"?><foo/>", 0, 0, "root element is <foo>" },
        { "noenc.h5", true, "<ismrmrdHeader><encoding/></ismrmrdHeader>", 0, 0,
          "<encoding/encodedSpace> is missing" },
        { "entity.h5", true, "<ismrmrdHeader>&bogus;</ismrmrdHeader>", 0, 0, "entity" },
        { "nan.h5", true, nan_matrix, 0, 0, "matrixSize/x> holds \"abc\"" },
        { "intdata.h5", true, rd_min_xml, 1, 0, "not a table of ISMRMRD acquisitions" },
        { "short.h5", true, rd_min_xml, 2, 7, "holds 7 floats" },
    };
    for (size_t i = 0; i < ARRAY_LEN(forged); i++) {
        p = rd_forge(forged[i].name, forged[i].group, forged[i].xml, false, forged[i].data_kind,
                     forged[i].nfloats);
        rd_expect_error(p, forged[i].want);
        free(p);
    }

    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    char *text = read_file(errpath, &len);
    CU_ASSERT_PTR_NOT_NULL(text);
    CU_ASSERT_EQUAL(len, 0);
    if (text && len)
        printf("\n  printed on stderr:\n%s\n", text);
    free(text);
    free(errpath);
}

/* A foreign layout: a fixed-length header string with a namespace prefix,
   CDATA and character references; a table without most header members. */
static void test_foreign_layout(void)
{
    char *p = rd_forge("foreign.h5", true, rd_min_xml, true, 2, 8);
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->hdr.larmor_hz, 63500000);
    CU_ASSERT_EQUAL(f->hdr.matrix[0], 4);
    CU_ASSERT_EQUAL(f->hdr.fov[0], 0.1);
    CU_ASSERT_EQUAL(f->hdr.fov[2], 0.005);
    CU_ASSERT_EQUAL(f->hdr.recon_matrix[0], 4);    /* no reconSpace: as encoded */
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_SLC].min, 0);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_SLC].max, 0);
    CU_ASSERT_EQUAL(f->hdr.ncoils, 1);              /* from the acquisitions */
    CU_ASSERT_EQUAL_FATAL(f->hdr.nparams, 1);
    CU_ASSERT_STRING_EQUAL(f->hdr.param_names[0], "n\xc3\xa9&A");
    CU_ASSERT_EQUAL(f->hdr.param_values[0], 7);
    CU_ASSERT_EQUAL_FATAL(f->nacq, 1);
    CU_ASSERT_EQUAL(f->acq[0].samples, 4);
    CU_ASSERT_EQUAL(f->acq[0].ncoils, 1);
    CU_ASSERT_EQUAL(f->acq[0].data[7], 8.0f);
    CU_ASSERT_EQUAL(f->acq[0].labels[VM_LABEL_LIN], 0);
    raw_file_free(f);
    free(p);

    p = rd_forge("complex.h5", true, rd_min_xml, false, 3, 8);
    f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(f->nacq, 1);
    for (int k = 0; k < 8; k++)
        CU_ASSERT_EQUAL(f->acq[0].data[k], (float)(k + 1));
    raw_file_free(f);
    free(p);
    p = rd_forge("complex_short.h5", true, rd_min_xml, false, 3, 6);
    rd_expect_error(p, "holds 6 floats");
    free(p);
}

/* Every 1/32 prefix of a good file, and of its XML header, fails cleanly. */
static void test_truncations(void)
{
    char *p = rd_write_fixture("whole.h5");
    size_t len = 0;
    char *bytes = read_file(p, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    char *q = rd_path("part.h5");
    char err[512];
    for (int k = 0; k < 32; k++) {
        rd_write_text(q, bytes, len * (size_t)k / 32);
        struct raw_file *f = raw_read(q, err, sizeof err);
        CU_ASSERT_PTR_NULL(f);
        raw_file_free(f);
    }
    struct raw_file *whole = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
    size_t xl = strlen(whole->xml);
    for (size_t n = 0; n + 1 < xl; n += 37) {
        char *x = xstrndup(whole->xml, n);
        char *r = rd_forge("xmlpart.h5", true, x, false, 0, 0);
        struct raw_file *f = raw_read(r, err, sizeof err);
        CU_ASSERT_PTR_NULL(f);
        raw_file_free(f);
        free(r);
        free(x);
    }
    raw_file_free(whole);
    free(bytes);
    free(q);
    free(p);
}

static void test_open_errors(void)
{
    char err[512] = "";
    CU_ASSERT_PTR_NULL(raw_open("/nonexistent-dir/x.h5", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/x.h5: cannot create the file"));
    CU_ASSERT_EQUAL(raw_close(NULL, NULL, err, sizeof err), -1);
}

int register_rawdata_tests(void)
{
    static const struct test_def tests[] = {
        { "acquisitions read back exactly", test_roundtrip },
        { "the XML header parses back and validates", test_header_parses_back },
        { "ISMRMRD's tools read our file", test_ismrmrd_tools },
        { "flags: 2 slices x 4 lines, sequential", test_flags_sequential_slices },
        { "flags: 2 slices x 4 lines, interleaved", test_flags_interleaved_slices },
        { "flags: 3D, echoes, repetitions", test_flags_3d_echoes_reps },
        { "refused labels; closing with no header", test_refusals_and_no_header },
        { "closed after zero appends", test_zero_appends },
        { "a Shepp-Logan file from ISMRMRD's generator", test_shepp_logan_file },
        { "bad files: each its error, HDF5 silent", test_bad_files },
        { "a foreign layout reads", test_foreign_layout },
        { "truncated files and headers fail cleanly", test_truncations },
        { "cannot create; close without a writer", test_open_errors },
    };
    /* and the suite of the reader's checks against the header (test_rawcheck.c) */
    return TEST_ADD_FIXTURE_SUITE("rawdata", rd_init, rd_cleanup, tests) ||
           register_rawcheck_tests();
}
