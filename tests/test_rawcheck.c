/*
 * test_rawcheck: CUnit suite "rawcheck" for runtime/io/rawdata_check.c,
 * each acquisition checked against what its header declares as the reader
 * takes it. The fixture is a valid 32 x 32 gradient-echo file as `larmor
 * simulate` writes it (32 lines of 32 samples, one coil, encodingLimits
 * for kspace_encoding_step_1 only); one acquisition's counter is patched
 * in the file (HDF5, in place) to each value of issue 24 and `larmor
 * recon`'s work (reconstruct) must refuse it, naming the file, the
 * acquisition, the counter, its value and the limit, before it allocates
 * the grid and writes nothing. Then tables that store the counters and
 * sizes in a signed 32-bit type (as other writers may): values outside
 * ISMRMRD's uint16 are refused, not clamped or wrapped, values inside read
 * as stored; and the sample and channel counts that contradict the header
 * (receiverChannels, the encoded matrix's x, center_sample, no channel).
 * Files live in a mkdtemp directory removed at the end.
 */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/io/rawdata.h"
#include "runtime/recon/reconstruct.h"
#include "base/util.h"
#include "tests/testutil.h"

int register_rawcheck_tests(void);
void rd_write_record(hid_t g, hid_t head, hid_t sample, const void *rec, size_t size,
                     size_t data_off, hsize_t declared);     /* test_rawdata.c */

/* The suite's scratch directory, made before its tests, removed after. */
static char rc_dir[512];
static int rc_init(void) { return test_scratch_make(rc_dir, sizeof rc_dir, "rawcheck"); }
static int rc_cleanup(void) { return test_scratch_remove(rc_dir); }

enum { RC_N = 32, RC_PATCHED = 7 };

/* The 32 x 32 gradient echo: its header as larmor simulate writes it
   (encodingLimits for kspace_encoding_step_1 only). */
static void rc_ge_header(struct raw_header *h)
{
    *h = (struct raw_header){
        .sequence_name = "gradient_echo", .system_name = "generic_3t", .b0 = 3,
        .larmor_hz = 127.7e6, .ncoils = 1, .matrix = { RC_N, RC_N, 1 },
        .fov = { 0.256, 0.256, 0.005 }, .trajectory = "cartesian",
    };
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h->limits[l] = (struct raw_limit){ 0, -1, 0 };
    h->limits[VM_LABEL_LIN] = (struct raw_limit){ 0, RC_N - 1, RC_N / 2 };
}

/* Write the gradient echo to name, its lines lin_min to 31 (the limits
   declared so; slice limits 0..1 declared too when slices); the path, to
   free. */
static char *rc_write_ge(const char *name, bool slices, int lin_min)
{
    char *p = xasprintf("%s/%s", rc_dir, name);
    char err[512] = "";
    static float data[RC_N * 2];
    for (int k = 0; k < RC_N * 2; k++)
        data[k] = (k / 2 == RC_N / 2) ? 1.0f : 0.01f * (float)(k % 7);
    struct raw_header h;
    rc_ge_header(&h);
    if (slices)
        h.limits[VM_LABEL_SLC] = (struct raw_limit){ 0, 1, 0 };
    h.limits[VM_LABEL_LIN].min = lin_min;
    struct raw_writer *w = raw_open(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (int j = lin_min; j < RC_N; j++) {
        struct raw_acq a = {
            .scan_counter = (uint32_t)j, .samples = RC_N, .ncoils = 1, .data = data,
            .dwell = 10e-6, .time_ns = (int64_t)j * 15000000, .centre_sample = RC_N / 2,
            .flags = j + 1 == RC_N ? RAW_FLAG(RAW_LAST_IN_MEASUREMENT) : 0,
            .read_dir = { 1, 0, 0 }, .phase_dir = { 0, 1, 0 }, .slice_dir = { 0, 0, 1 },
        };
        a.labels[VM_LABEL_LIN] = j;         /* one line of TR 15 ms each */
        CU_ASSERT_EQUAL(raw_append(w, &a, err, sizeof err), 0);
    }
    CU_ASSERT_EQUAL(raw_close(w, &h, err, sizeof err), 0);
    return p;
}

/* Set the uint16 member of acquisition acq's header (of its idx when
   in_idx) to v, in place. */
static void rc_patch(const char *path, int acq, const char *member, bool in_idx, uint16_t v)
{
    hid_t fid = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(fid >= 0);
    hid_t ds = H5Dopen2(fid, "/dataset/data", H5P_DEFAULT);
    CU_ASSERT_FATAL(ds >= 0);
    hid_t leaf = H5Tcreate(H5T_COMPOUND, sizeof v);
    H5Tinsert(leaf, member, 0, H5T_NATIVE_UINT16);
    hid_t head = leaf;
    if (in_idx) {
        head = H5Tcreate(H5T_COMPOUND, sizeof v);
        H5Tinsert(head, "idx", 0, leaf);
    }
    hid_t rec = H5Tcreate(H5T_COMPOUND, sizeof v);
    H5Tinsert(rec, "head", 0, head);
    hid_t fsp = H5Dget_space(ds);
    hsize_t at = (hsize_t)acq, one = 1;
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &at, NULL, &one, NULL);
    hid_t msp = H5Screate_simple(1, &one, NULL);
    CU_ASSERT(H5Dwrite(ds, rec, msp, fsp, H5P_DEFAULT, &v) >= 0);
    H5Sclose(msp);
    H5Sclose(fsp);
    H5Tclose(rec);
    if (in_idx)
        H5Tclose(head);
    H5Tclose(leaf);
    H5Dclose(ds);
    H5Fclose(fid);
}

/* Expect raw_read of path to fail with a message naming the path and
   holding each of want (NULL-terminated). */
static void rc_expect_refusal(const char *path, const char *const *want)
{
    char err[1024] = "";
    struct raw_file *f = raw_read(path, err, sizeof err);
    CU_ASSERT_PTR_NULL(f);
    raw_file_free(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    for (; *want; want++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(err, *want));
        if (!strstr(err, *want))
            printf("\n  expected \"%s\" in: %s\n", *want, err);
    }
}

/* The unpatched fixture reads and reconstructs. */
static void test_fixture_valid(void)
{
    char *p = rc_write_ge("ge.h5", false, 0);
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nacq, RC_N);
    CU_ASSERT_EQUAL(f->acq[RC_N - 1].labels[VM_LABEL_LIN], RC_N - 1);
    raw_file_free(f);
    char *out = xasprintf("%s/ge_image.cfl", rc_dir);
    struct recon_cli c;
    memset(&c, 0, sizeof c);
    c.quiet = true;
    c.threads = 1;
    CU_ASSERT_EQUAL(reconstruct(p, out, &c, stderr), 0);
    free(out);
    free(p);
}

/* Issue 24's five counters: each refused by larmor recon's work before
   the grid is planned (fast, nothing written), with the counter, its
   value and the limit named. 2,000,000,000 and -5 in ISMRMRD's uint16
   field are what a writer that casts leaves there: 37888 and 65531. */
static void test_issue_counters(void)
{
    static const struct {
        const char *member;
        uint16_t value;
        const char *want[3];
    } cases[] = {
        { "kspace_encode_step_1", 37888,
          { "kspace_encode_step_1 = 37888 is outside the header's "
            "encodingLimits/kspace_encoding_step_1 (0 to 31)", "fix the acquisition's counter",
            NULL } },
        { "kspace_encode_step_1", 65531,
          { "kspace_encode_step_1 = 65531 is outside the header's "
            "encodingLimits/kspace_encoding_step_1 (0 to 31)", NULL } },
        { "slice", 60000,
          { "slice = 60000 is past 4095, the bound Larmor assumes where the header declares "
            "no encodingLimits/slice", "declare the limit in the header", NULL } },
        { "repetition", 65535,
          { "repetition = 65535 is past 4095", "no encodingLimits/repetition", NULL } },
        { "kspace_encode_step_2", 40000,
          { "kspace_encode_step_2 = 40000 is past the encoded matrix (z = 1, so 0 to 0) and "
            "the header declares no encodingLimits/kspace_encoding_step_2", NULL } },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char name[64];
        snprintf(name, sizeof name, "issue%zu.h5", i);
        char *p = rc_write_ge(name, false, 0);
        rc_patch(p, RC_PATCHED, cases[i].member, true, cases[i].value);
        char *out = xasprintf("%s/issue%zu_out", rc_dir, i);
        struct recon_cli c;
        memset(&c, 0, sizeof c);
        c.quiet = true;
        c.threads = 1;
        char *logtext = NULL;
        size_t loglen = 0;
        FILE *log = open_memstream(&logtext, &loglen);
        CU_ASSERT_PTR_NOT_NULL_FATAL(log);
        double t0 = monotonic_s();
        CU_ASSERT_EQUAL(reconstruct(p, out, &c, log), 1);
        double dt = monotonic_s() - t0;
        fclose(log);
        CU_ASSERT(dt < 2.0);                /* milliseconds; generous for a loaded machine */
        struct stat st;
        CU_ASSERT(stat(out, &st) != 0);     /* nothing written */
        char *head = xasprintf("larmor recon: %s: acquisition %d: ", p, RC_PATCHED);
        CU_ASSERT_PTR_NOT_NULL(strstr(logtext, head));
        for (const char *const *w = cases[i].want; *w; w++) {
            CU_ASSERT_PTR_NOT_NULL(strstr(logtext, *w));
            if (!strstr(logtext, *w))
                printf("\n  expected \"%s\" in: %s\n", *w, logtext);
        }
        free(head);
        free(logtext);
        free(out);
        free(p);
    }
}

/* Declared limits hold both ways: below the minimum, past the maximum. */
static void test_declared_limits(void)
{
    char *p = rc_write_ge("slices.h5", true, 0);
    rc_patch(p, 3, "slice", true, 1);
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(f);          /* slice 1 is declared */
    raw_file_free(f);
    rc_patch(p, 3, "slice", true, 2);
    rc_expect_refusal(p, (const char *const[]){ "acquisition 3: slice = 2 is outside the "
                                                "header's encodingLimits/slice (0 to 1)", NULL });
    free(p);
    /* a partial-Fourier header: lines 8 to 31; line 2 is below them */
    p = rc_write_ge("minimum.h5", false, 8);
    rc_patch(p, 0, "kspace_encode_step_1", true, 2);
    rc_expect_refusal(p, (const char *const[]){ "acquisition 0: kspace_encode_step_1 = 2 is "
                      "outside the header's encodingLimits/kspace_encoding_step_1 (8 to 31)",
                      NULL });
    free(p);
}

/* One acquisition in a table whose sizes and counters are signed 32-bit
   (and available_channels too), under a 32 x 32 Cartesian header with
   kspace_encoding_step_1 0..31, receiverChannels 1 and trajectory traj;
   data holds 2 * samples * channels floats (none when that is not
   positive); or, when declared > 0, a chunked table of that many records
   with none written. The path, to free. */
struct rc_idx { int32_t lin, par, slice, rep; };
struct rc_wide {
    int32_t samples, channels, available, centre;
    struct rc_idx idx;
};

static char *rc_forge_table(const char *name, const struct rc_wide *v, const char *traj,
                            hsize_t declared)
{
    char *p = xasprintf("%s/%s", rc_dir, name);
    char *xml = xasprintf(
        "<ismrmrdHeader><acquisitionSystemInformation><receiverChannels>1</receiverChannels>"
        "</acquisitionSystemInformation><encoding><encodedSpace><matrixSize><x>32</x><y>32</y>"
        "<z>1</z></matrixSize><fieldOfView_mm><x>256</x><y>256</y><z>5</z></fieldOfView_mm>"
        "</encodedSpace><encodingLimits><kspace_encoding_step_1><minimum>0</minimum>"
        "<maximum>31</maximum><center>16</center></kspace_encoding_step_1></encodingLimits>"
        "<trajectory>%s</trajectory></encoding></ismrmrdHeader>", traj);
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(fid >= 0);
    hid_t g = H5Gcreate2(fid, "dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t one = 1;
    hid_t sp = H5Screate_simple(1, &one, NULL);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    hid_t dx = H5Dcreate2(g, "xml", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(H5Dwrite(dx, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, &xml) >= 0);
    H5Dclose(dx);
    H5Tclose(st);

    struct { struct rc_wide h; hvl_t data; } rec;
    rec.h = *v;
    long n = 2L * v->samples * v->channels;
    float *buf = xcalloc(n > 0 ? (size_t)n : 1, sizeof *buf);
    rec.data.len = n > 0 ? (size_t)n : 0;
    rec.data.p = buf;
    hid_t idx = H5Tcreate(H5T_COMPOUND, sizeof(struct rc_idx));
    H5Tinsert(idx, "kspace_encode_step_1", offsetof(struct rc_idx, lin), H5T_NATIVE_INT32);
    H5Tinsert(idx, "kspace_encode_step_2", offsetof(struct rc_idx, par), H5T_NATIVE_INT32);
    H5Tinsert(idx, "slice", offsetof(struct rc_idx, slice), H5T_NATIVE_INT32);
    H5Tinsert(idx, "repetition", offsetof(struct rc_idx, rep), H5T_NATIVE_INT32);
    hid_t head = H5Tcreate(H5T_COMPOUND, sizeof(struct rc_wide));
    H5Tinsert(head, "number_of_samples", offsetof(struct rc_wide, samples), H5T_NATIVE_INT32);
    H5Tinsert(head, "active_channels", offsetof(struct rc_wide, channels), H5T_NATIVE_INT32);
    H5Tinsert(head, "available_channels", offsetof(struct rc_wide, available), H5T_NATIVE_INT32);
    H5Tinsert(head, "center_sample", offsetof(struct rc_wide, centre), H5T_NATIVE_INT32);
    H5Tinsert(head, "idx", offsetof(struct rc_wide, idx), idx);
    rd_write_record(g, head, H5T_NATIVE_FLOAT, &rec, sizeof rec, offsetof(__typeof__(rec), data),
                    declared);
    H5Tclose(head);
    H5Tclose(idx);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(fid);
    free(buf);
    free(xml);
    return p;
}

static char *rc_forge_wide(const char *name, const struct rc_wide *v, const char *traj)
{
    return rc_forge_table(name, v, traj, 0);
}

static const struct rc_wide rc_good = { 32, 1, 1, 16, { 3, 0, 0, 0 } };

/* Signed 32-bit counters: in range they read as stored; 2,000,000,000 and
   -5 are refused as not fitting ISMRMRD's uint16, not clamped. */
static void test_wide_counters(void)
{
    char *p = rc_forge_wide("wide_ok.h5", &rc_good, "cartesian");
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->acq[0].labels[VM_LABEL_LIN], 3);
    CU_ASSERT_EQUAL(f->acq[0].samples, 32);
    CU_ASSERT_EQUAL(f->acq[0].ncoils, 1);
    CU_ASSERT_EQUAL(f->acq[0].centre_sample, 16);
    raw_file_free(f);
    free(p);

    struct rc_wide v = rc_good;
    v.idx.lin = 2000000000;
    p = rc_forge_wide("wide_2e9.h5", &v, "cartesian");
    rc_expect_refusal(p, (const char *const[]){ "acquisition 0: kspace_encode_step_1 = "
                      "2000000000 does not fit ISMRMRD's unsigned 16-bit counter (0 to 65535",
                      "wider or signed type", NULL });
    free(p);
    v.idx.lin = -5;
    p = rc_forge_wide("wide_m5.h5", &v, "cartesian");
    rc_expect_refusal(p, (const char *const[]){ "acquisition 0: kspace_encode_step_1 = -5 does "
                      "not fit ISMRMRD's unsigned 16-bit counter", NULL });
    free(p);
    v = rc_good;
    v.idx.slice = 70000;
    p = rc_forge_wide("wide_slice.h5", &v, "cartesian");
    rc_expect_refusal(p, (const char *const[]){ "slice = 70000 does not fit", NULL });
    free(p);
}

/* A table that declares 10^9 acquisitions and stores none (chunks never
   written: a 7 kB file) is refused before the reader sizes its list from
   the count (it asked for 152 GB and aborted). */
static void test_declared_count(void)
{
    char *p = rc_forge_table("count.h5", &rc_good, "cartesian", 1000000000);
    double t0 = monotonic_s();
    rc_expect_refusal(p, (const char *const[]){ "/dataset/data declares 1000000000 "
                      "acquisitions but stores only 0 bytes of them", NULL });
    CU_ASSERT(monotonic_s() - t0 < 2.0);
    free(p);
}

/* Sizes that do not fit their type, and sizes that contradict the header. */
static void test_sizes(void)
{
    static const struct {
        const char *name, *traj;
        struct rc_wide v;
        const char *want;
    } cases[] = {
        { "neg_samples.h5", "cartesian", { -1, 1, 1, 0, { 0, 0, 0, 0 } },
          "acquisition 0: number_of_samples = -1 does not fit ISMRMRD's unsigned 16-bit field" },
        { "big_channels.h5", "cartesian", { 0, 70000, 1, 0, { 0, 0, 0, 0 } },
          "acquisition 0: active_channels = 70000 does not fit" },
        { "avail.h5", "cartesian", { 32, 1, 70000, 16, { 0, 0, 0, 0 } },
          "acquisitions 0 to 0: a header field (or a sample) holds a value outside its "
          "ISMRMRD type" },
        { "receivers.h5", "cartesian", { 32, 2, 2, 16, { 0, 0, 0, 0 } },
          "acquisition 0: active_channels = 2 exceeds the header's "
          "acquisitionSystemInformation/receiverChannels (1)" },
        { "nochannel.h5", "cartesian", { 32, 0, 0, 16, { 0, 0, 0, 0 } },
          "acquisition 0: 32 samples on active_channels = 0" },
        { "samples.h5", "cartesian", { 64, 1, 1, 32, { 0, 0, 0, 0 } },
          "acquisition 0: number_of_samples = 64 exceeds the encoded matrix's x (32)" },
        { "centre.h5", "cartesian", { 32, 1, 1, 32, { 0, 0, 0, 0 } },
          "acquisition 0: center_sample = 32 is not below number_of_samples (32)" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *p = rc_forge_wide(cases[i].name, &cases[i].v, cases[i].traj);
        rc_expect_refusal(p, (const char *const[]){ cases[i].want, NULL });
        free(p);
    }
    /* more samples than the matrix is no contradiction off Cartesian */
    struct rc_wide v = rc_good;
    v.samples = 64;
    char *p = rc_forge_wide("radial.h5", &v, "radial");
    char err[512] = "";
    struct raw_file *f = raw_read(p, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(f);
    raw_file_free(f);
    free(p);
    /* and in ISMRMRD's own uint16 layout, by patching our file */
    p = rc_write_ge("centre16.h5", false, 0);
    rc_patch(p, 5, "center_sample", false, 40);
    rc_expect_refusal(p, (const char *const[]){ "acquisition 5: center_sample = 40 is not "
                                                "below number_of_samples (32)", NULL });
    free(p);
}

/* --widen-limits: a line past the header's encodingLimits (lin = 40 of
   0..31, centre 16) and a partition past the matrix where no limit is
   declared (par = 3 of z = 1) are refused by default, and read with the
   option: the limits and the matrix widened to hold the data about the
   declared centre (y: 2 x (40 - 16 + 1) = 50), the warning naming each
   counter, its values, the declared limit and the new grid; the recon
   then places every sample (none dropped), the one of line 40 at grid row
   40 - 16 + 25. A readout past the Cartesian matrix's x widens too. The
   other rules still refuse (center_sample past the samples). */
static void test_widen(void)
{
    char *p = rc_write_ge("widen.h5", false, 0);
    rc_patch(p, RC_PATCHED, "kspace_encode_step_1", true, 40);
    rc_patch(p, RC_PATCHED + 1, "kspace_encode_step_2", true, 3);
    rc_expect_refusal(p, (const char *const[]){ "kspace_encode_step_1 = 40 is outside",
                                                "--widen-limits", NULL });
    char err[1024] = "";
    struct raw_read_opts ro = { .widen_limits = true };
    struct raw_file *f = raw_read_with(p, &ro, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->widened);
    const char *want[] = {
        "widen.h5: the data reaches past what its header declares",
        "kspace_encode_step_1 = 40 in 1 acquisition (encodingLimits/kspace_encoding_step_1: 0 "
        "to 31)",
        "kspace_encode_step_2 = 3 in 1 acquisition (no limit; the encoded matrix's z is 1)",
        "sized from the data, 32 x 50 x 4 instead of the header's 32 x 32 x 1",
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(f->widened, want[i]));
        if (!strstr(f->widened, want[i]))
            printf("\n  expected \"%s\" in: %s\n", want[i], f->widened);
    }
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_LIN].max, 40);
    CU_ASSERT_EQUAL(f->hdr.limits[VM_LABEL_LIN].centre, RC_N / 2);
    CU_ASSERT_EQUAL(f->hdr.matrix[1], 50);
    CU_ASSERT_EQUAL(f->hdr.matrix[2], 4);
    struct recon_opts o = { .pf = RECON_PF_ZERO };
    struct kspace *k = recon_kspace(f, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_EQUAL(k->ny, 50);
    CU_ASSERT_EQUAL(k->nz, 4);
    CU_ASSERT_EQUAL(k->ndropped_samples, 0);
    /* the mask is [z][y][x] here (one frame, one slice); par 0 is z 0 */
    CU_ASSERT_EQUAL(k->mask[(size_t)(40 - RC_N / 2 + 25) * RC_N + 3], 1);
    kspace_free(k);
    raw_file_free(f);
    /* an unpatched file reads with the option and nothing to say */
    char *q = rc_write_ge("widen_none.h5", false, 0);
    f = raw_read_with(q, &ro, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(f->widened);
    raw_file_free(f);
    /* the rules that are not limits still refuse */
    rc_patch(q, 2, "center_sample", false, 40);
    f = raw_read_with(q, &ro, err, sizeof err);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "center_sample = 40 is not below"));
    raw_file_free(f);
    free(q);
    free(p);
}

int register_rawcheck_tests(void)
{
    static const struct test_def tests[] = {
        { "the 32 x 32 fixture reads and reconstructs", test_fixture_valid },
        { "issue 24's counters refused by recon before the grid", test_issue_counters },
        { "declared limits hold", test_declared_limits },
        { "signed 32-bit counters: read, or refused unclamped", test_wide_counters },
        { "sizes outside their type or against the header refused", test_sizes },
        { "a table declaring more records than it stores refused", test_declared_count },
        { "--widen-limits: counters past the limits read, with a warning", test_widen },
    };
    return TEST_ADD_FIXTURE_SUITE("rawcheck", rc_init, rc_cleanup, tests);
}
