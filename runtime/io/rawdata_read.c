/*
 * rawdata_read: the raw-data reader (raw_read, raw_file_free of rawdata.h).
 *
 * Reading uses checked HDF5 calls rather than ismrmrd_read_*: libismrmrd
 * 1.8 opens the file read-write and creates the group when it is missing
 * (it would modify a foreign file), and ismrmrd_read_acquisition ignores a
 * failed H5Dread and copies as many bytes as the header claims whatever
 * the stored array holds; a malformed file would crash us. The reader
 * opens read-only, checks every type, count and length, and tolerates the
 * layouts of other writers (complex data as a float vlen or as a vlen of
 * {real, imag}; header members missing from older files read as 0). The
 * counters and sizes are read as int64 whatever their stored type, every
 * other member aborts the read rather than being clamped to its type, and
 * each acquisition is checked against the header (rawdata_check.c) before
 * it is kept. The XML header is parsed by rawdata_xml.c.
 *
 * HDF5 automatic error printing is switched off for the length of a read
 * and restored after (h5.h's h5_quiet_begin/end). Owned here: everything
 * a raw_file points to.
 */
#include "runtime/io/rawdata_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <ismrmrd/ismrmrd.h>

#include "runtime/io/h5.h"
#include "base/membudget.h"
#include "base/util.h"

/* raw_file with the storage behind hdr's pointers. */
struct raw_file_priv {
    struct raw_file f;              /* first: raw_file_free casts back */
    struct rxml_strings s;
};

static herr_t raw_vlen_reclaim(hid_t type, hid_t space, void *buf)
{
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

static void h5close_t(hid_t *id) { if (*id >= 0) H5Tclose(*id); *id = -1; }
static void h5close_s(hid_t *id) { if (*id >= 0) H5Sclose(*id); *id = -1; }
static void h5close_d(hid_t *id) { if (*id >= 0) H5Dclose(*id); *id = -1; }
static void h5close_g(hid_t *id) { if (*id >= 0) H5Gclose(*id); *id = -1; }

/* /group/xml: one string, variable or fixed length. */
static int raw_read_xml(hid_t grp, const char *gname, const char *file, char **out,
                        char *err, size_t errlen)
{
    hid_t ds = -1, ft = -1, sp = -1, mt = -1;
    int ret = -1;
    char detail[256];
    if (H5Lexists(grp, "xml", H5P_DEFAULT) <= 0) {
        errf(err, errlen, "%s: /%s/xml is missing: no ISMRMRD header (a file whose writer "
                "never closed it?)", file, gname);
        return -1;
    }
    if ((ds = H5Dopen2(grp, "xml", H5P_DEFAULT)) < 0) {
        errf(err, errlen, "%s: /%s/xml is not a dataset", file, gname);
        goto out;
    }
    ft = H5Dget_type(ds);
    sp = H5Dget_space(ds);
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_STRING) {
        errf(err, errlen, "%s: /%s/xml is not a string", file, gname);
        goto out;
    }
    hssize_t npts = H5Sget_simple_extent_npoints(sp);
    if (npts != 1) {
        errf(err, errlen, "%s: /%s/xml holds %lld strings, not 1", file, gname, (long long)npts);
        goto out;
    }
    htri_t var = H5Tis_variable_str(ft);
    mt = H5Tcopy(H5T_C_S1);
    if (var > 0) {
        char *s = NULL;
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0) {
            errf(err, errlen, "%s: cannot read /%s/xml: %s", file, gname,
                    h5_error_detail(detail, sizeof detail));
            goto out;
        }
        if (!s) {
            errf(err, errlen, "%s: /%s/xml is a null string", file, gname);
            goto out;
        }
        *out = xstrdup(s);
        raw_vlen_reclaim(mt, sp, &s);
    } else {
        size_t n = H5Tget_size(ft);
        if (var < 0 || n == 0 || n > ((size_t)1 << 30)) {
            errf(err, errlen, "%s: /%s/xml: a string of %zu bytes", file, gname, n);
            goto out;
        }
        char *s = xcalloc(n + 2, 1);
        if (mt < 0 || H5Tset_size(mt, n + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            errf(err, errlen, "%s: cannot read /%s/xml: %s", file, gname,
                    h5_error_detail(detail, sizeof detail));
            free(s);
            goto out;
        }
        *out = s;
    }
    ret = 0;
out:
    h5close_t(&mt);
    h5close_s(&sp);
    h5close_t(&ft);
    h5close_d(&ds);
    return ret;
}

/* One acquisition header in memory: ISMRMRD's, with the counters and the
   sizes also read wide (raw_wide) so that a value outside ISMRMRD's uint16
   is seen (HDF5 would clamp it to 0 or 65535 on the way into a uint16). */
struct raw_mhead {
    ISMRMRD_AcquisitionHeader h;    /* first: the table's offsets are h's */
    struct raw_wide w;
};

enum raw_ht { HT_U16, HT_U32, HT_U64, HT_I32, HT_I64, HT_F32 };
struct raw_hfield {
    const char *name;
    size_t off;
    enum raw_ht t;
    int n;                          /* array length; 1: a scalar */
};
#define HF(f, t, n) { #f, offsetof(ISMRMRD_AcquisitionHeader, f), t, n }
#define HW(f, m) { #f, offsetof(struct raw_mhead, w.m), HT_I64, 1 }
static const struct raw_hfield raw_head_fields[] = {
    HF(version, HT_U16, 1), HF(flags, HT_U64, 1), HF(measurement_uid, HT_U32, 1),
    HF(scan_counter, HT_U32, 1), HF(acquisition_time_stamp, HT_U32, 1),
    HF(physiology_time_stamp, HT_U32, ISMRMRD_PHYS_STAMPS),
    HW(number_of_samples, samples), HF(available_channels, HT_U16, 1),
    HW(active_channels, channels), HF(channel_mask, HT_U64, ISMRMRD_CHANNEL_MASKS),
    HF(discard_pre, HT_U16, 1), HF(discard_post, HT_U16, 1), HW(center_sample, centre),
    HF(encoding_space_ref, HT_U16, 1), HF(trajectory_dimensions, HT_U16, 1),
    HF(sample_time_us, HT_F32, 1), HF(position, HT_F32, 3), HF(read_dir, HT_F32, 3),
    HF(phase_dir, HT_F32, 3), HF(slice_dir, HT_F32, 3), HF(patient_table_position, HT_F32, 3),
    HF(user_int, HT_I32, ISMRMRD_USER_INTS), HF(user_float, HT_F32, ISMRMRD_USER_FLOATS),
};
#undef HF
#undef HW

static hid_t raw_native(enum raw_ht t, int n)
{
    hid_t b;
    switch (t) {
    case HT_U16: b = H5T_NATIVE_UINT16; break;
    case HT_U32: b = H5T_NATIVE_UINT32; break;
    case HT_U64: b = H5T_NATIVE_UINT64; break;
    case HT_I32: b = H5T_NATIVE_INT32; break;
    case HT_I64: b = H5T_NATIVE_INT64; break;
    default: b = H5T_NATIVE_FLOAT; break;
    }
    if (n == 1)
        return H5Tcopy(b);
    hsize_t dim = (hsize_t)n;
    return H5Tarray_create2(b, 1, &dim);
}

static bool raw_has_member(hid_t compound, const char *name)
{
    return H5Tget_member_index(compound, name) >= 0;
}

/* The memory type (a struct raw_mhead) of the header members the file
   has (others stay 0); the counters of idx go to raw_wide's int64s. */
static hid_t raw_head_memtype(hid_t fhead, bool *has_sizes)
{
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(struct raw_mhead));
    if (mt < 0)
        return -1;
    int sizes = 0;
    for (size_t i = 0; i < ARRAY_LEN(raw_head_fields); i++) {
        const struct raw_hfield *f = &raw_head_fields[i];
        if (!raw_has_member(fhead, f->name))
            continue;
        hid_t t = raw_native(f->t, f->n);
        herr_t st = t < 0 ? -1 : H5Tinsert(mt, f->name, f->off, t);
        if (t >= 0)
            H5Tclose(t);
        if (st < 0)
            goto fail;
        sizes += strcmp(f->name, "number_of_samples") == 0 || strcmp(f->name, "active_channels") == 0;
    }
    *has_sizes = sizes == 2;
    int ii = H5Tget_member_index(fhead, "idx");
    if (ii >= 0) {
        hid_t fidx = H5Tget_member_type(fhead, (unsigned)ii);
        if (fidx >= 0 && H5Tget_class(fidx) == H5T_COMPOUND) {
            hid_t midx = H5Tcreate(H5T_COMPOUND, sizeof(int64_t[VM_LABEL__COUNT]));
            herr_t st = midx < 0 ? -1 : 0;
            for (int l = 0; l < VM_LABEL__COUNT && st >= 0; l++)
                if (raw_has_member(fidx, raw_idx_name[l]))
                    st = H5Tinsert(midx, raw_idx_name[l], (size_t)l * sizeof(int64_t),
                                   H5T_NATIVE_INT64);
            if (st >= 0 && H5Tget_nmembers(midx) > 0)
                st = H5Tinsert(mt, "idx", offsetof(struct raw_mhead, w.idx), midx);
            if (midx >= 0)
                H5Tclose(midx);
            if (st < 0) {
                H5Tclose(fidx);
                goto fail;
            }
        }
        if (fidx >= 0)
            H5Tclose(fidx);
    }
    return mt;
fail:
    H5Tclose(mt);
    return -1;
}

struct raw_rec {
    struct raw_mhead head;
    hvl_t data;
};

/* a from a checked header (its wide fields within range). */
static void raw_acq_from_head(struct raw_acq *a, const struct raw_mhead *m)
{
    const ISMRMRD_AcquisitionHeader *h = &m->h;
    a->scan_counter = h->scan_counter;
    a->samples = (uint32_t)m->w.samples;
    a->ncoils = (int)m->w.channels;
    a->dwell = (double)h->sample_time_us * 1e-6;
    a->time_ns = (int64_t)h->acquisition_time_stamp * RAW_TICK_NS;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        a->labels[l] = (int32_t)m->w.idx[l];
    a->flags = h->flags;
    a->centre_sample = (uint32_t)m->w.centre;
    /* the geometry, float[3] on both sides */
    memcpy(a->read_dir, h->read_dir, sizeof a->read_dir);
    memcpy(a->phase_dir, h->phase_dir, sizeof a->phase_dir);
    memcpy(a->slice_dir, h->slice_dir, sizeof a->slice_dir);
    memcpy(a->position, h->position, sizeof a->position);
    memcpy(a->table_position, h->patient_table_position, sizeof a->table_position);
}

/* Where the table of acquisitions is read from, and how messages name it. */
struct raw_table {
    hid_t ds;                       /* /group/data */
    hid_t mrec;                     /* the memory type of one struct raw_rec */
    hid_t dxpl;                     /* the transfer: out-of-range conversions abort */
    bool out_of_range;              /* set by raw_conv_except */
    bool cplx;                      /* samples stored as {real, imag} pairs */
    const char *gname, *file;
    char *err;
    size_t errlen;
    struct raw_widen *wd;           /* NULL: a counter past its limit is refused */
    size_t data_bytes;              /* the samples kept so far */
    size_t nall;                    /* the acquisitions the table declares */
};

/* The memory type of the samples of file base type fbase into *mbase:
   floats, or a pair of floats under the file's own member names (t->cplx
   set); *mbase is -1 when HDF5 cannot build it. -1 with a message when the
   samples are neither. */
static int raw_sample_type(struct raw_table *t, hid_t fbase, hid_t *mbase)
{
    *mbase = -1;
    if (H5Tget_class(fbase) == H5T_FLOAT) {
        t->cplx = false;
        *mbase = H5Tcopy(H5T_NATIVE_FLOAT);
        return 0;
    }
    if (H5Tget_class(fbase) != H5T_COMPOUND || H5Tget_nmembers(fbase) != 2) {
        errf(t->err, t->errlen, "%s: /%s/data: samples of an unknown type", t->file, t->gname);
        return -1;
    }
    hid_t m0 = H5Tget_member_type(fbase, 0), m1 = H5Tget_member_type(fbase, 1);
    bool floats = m0 >= 0 && m1 >= 0 && H5Tget_class(m0) == H5T_FLOAT &&
                  H5Tget_class(m1) == H5T_FLOAT;
    if (m0 >= 0)
        H5Tclose(m0);
    if (m1 >= 0)
        H5Tclose(m1);
    char *re_name = H5Tget_member_name(fbase, 0);
    char *im_name = H5Tget_member_name(fbase, 1);
    int ret = 0;
    if (!floats || !re_name || !im_name) {
        errf(t->err, t->errlen, "%s: /%s/data: samples of an unknown type", t->file, t->gname);
        ret = -1;
    } else {
        t->cplx = true;
        *mbase = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
        if (*mbase >= 0 && (H5Tinsert(*mbase, re_name, 0, H5T_NATIVE_FLOAT) < 0 ||
                            H5Tinsert(*mbase, im_name, sizeof(float), H5T_NATIVE_FLOAT) < 0))
            h5close_t(mbase);
    }
    if (re_name)
        H5free_memory(re_name);
    if (im_name)
        H5free_memory(im_name);
    return ret;
}

/* The memory type of one record of the table's file type ft (head and
   data members, the head members the file has); -1 with a message. */
static hid_t raw_record_type(struct raw_table *t, hid_t ft)
{
    hid_t fhead = -1, fdata = -1, fbase = -1, mhead = -1, mbase = -1, mvlen = -1, mrec = -1;
    char detail[256];
    int hi = ft >= 0 && H5Tget_class(ft) == H5T_COMPOUND ? H5Tget_member_index(ft, "head") : -1;
    int di = hi >= 0 ? H5Tget_member_index(ft, "data") : -1;
    if (hi < 0 || di < 0) {
        errf(t->err, t->errlen, "%s: /%s/data is not a table of ISMRMRD acquisitions (no head "
             "and data members)", t->file, t->gname);
        goto out;
    }
    fhead = H5Tget_member_type(ft, (unsigned)hi);
    fdata = H5Tget_member_type(ft, (unsigned)di);
    if (fhead < 0 || H5Tget_class(fhead) != H5T_COMPOUND || fdata < 0 ||
        H5Tget_class(fdata) != H5T_VLEN || (fbase = H5Tget_super(fdata)) < 0) {
        errf(t->err, t->errlen, "%s: /%s/data: head is not a compound or data not a "
             "variable-length array", t->file, t->gname);
        goto out;
    }
    if (raw_sample_type(t, fbase, &mbase) < 0)
        goto out;
    bool has_sizes = false;
    mhead = raw_head_memtype(fhead, &has_sizes);
    if (mhead >= 0 && !has_sizes) {
        errf(t->err, t->errlen, "%s: /%s/data: the acquisition header has no number_of_samples "
             "or active_channels", t->file, t->gname);
        goto out;
    }
    if (mbase >= 0)
        mvlen = H5Tvlen_create(mbase);
    mrec = H5Tcreate(H5T_COMPOUND, sizeof(struct raw_rec));
    if (mhead < 0 || mvlen < 0 || mrec < 0 ||
        H5Tinsert(mrec, "head", offsetof(struct raw_rec, head), mhead) < 0 ||
        H5Tinsert(mrec, "data", offsetof(struct raw_rec, data), mvlen) < 0) {
        errf(t->err, t->errlen, "%s: /%s/data: cannot build the memory type: %s", t->file,
             t->gname, h5_error_detail(detail, sizeof detail));
        h5close_t(&mrec);
    }
out:
    h5close_t(&mvlen);
    h5close_t(&mbase);
    h5close_t(&mhead);
    h5close_t(&fbase);
    h5close_t(&fdata);
    h5close_t(&fhead);
    return mrec;
}

/* HDF5's conversion of a value that does not fit the memory type (it would
   clamp it): note it (ud: the table's out_of_range), and let the read go
   on with a zero in its place, so that every record's data is converted
   and reclaimed (aborting inside a compound with vlen members leaks the
   data HDF5 had already converted); the read is then refused. */
static H5T_conv_ret_t raw_conv_except(H5T_conv_except_t what, hid_t src, hid_t dst,
                                      void *src_buf, void *dst_buf, void *ud)
{
    (void)src;
    (void)src_buf;
    if (what != H5T_CONV_EXCEPT_RANGE_HI && what != H5T_CONV_EXCEPT_RANGE_LOW)
        return H5T_CONV_UNHANDLED;
    size_t n = H5Tget_size(dst);
    if (!n)
        return H5T_CONV_ABORT;
    memset(dst_buf, 0, n);
    *(bool *)ud = true;
    return H5T_CONV_HANDLED;
}

/* Acquisitions i0 .. i0 + count - 1 of dataspace sp into f (f->nacq
   counts those taken), each checked against its header; 0 or -1. */
static int raw_read_block(struct raw_table *t, hid_t sp, size_t i0, size_t count,
                          struct raw_rec *buf, struct raw_file *f)
{
    char detail[256];
    hsize_t start = i0, hcount = count;
    hid_t ms = -1;
    memset(buf, 0, count * sizeof *buf);
    if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &hcount, NULL) < 0 ||
        (ms = H5Screate_simple(1, &hcount, NULL)) < 0) {
        errf(t->err, t->errlen, "%s: /%s/data: cannot select acquisitions %zu..: %s", t->file,
             t->gname, i0, h5_error_detail(detail, sizeof detail));
        return -1;
    }
    bool read_ok = H5Dread(t->ds, t->mrec, ms, sp, t->dxpl, buf) >= 0;
    if (!read_ok || t->out_of_range) {
        if (t->out_of_range)
            errf(t->err, t->errlen, "%s: /%s/data: acquisitions %zu to %zu: a header field "
                 "(or a sample) holds a value outside its ISMRMRD type (the file stores it in "
                 "a wider or signed type); rewrite the file with values in range", t->file, t->gname, i0,
                 i0 + count - 1);
        else
            errf(t->err, t->errlen, "%s: /%s/data: cannot read acquisitions %zu to %zu: %s", t->file,
             t->gname, i0, i0 + count - 1, h5_error_detail(detail, sizeof detail));
        raw_vlen_reclaim(t->mrec, ms, buf);
        h5close_s(&ms);
        return -1;
    }
    int ret = 0;
    for (size_t j = 0; j < count; j++) {
        const struct raw_rec *rec = &buf[j];
        const struct raw_wide *w = &rec->head.w;
        if (raw_check_sizes(w, t->file, i0 + j, t->err, t->errlen) < 0) {
            ret = -1;
            break;
        }
        size_t want = 2 * (size_t)w->samples * (size_t)w->channels;
        size_t have = rec->data.len * (t->cplx ? 2 : 1);
        if (have != want || (want && !rec->data.p)) {
            errf(t->err, t->errlen, "%s: /%s/data: acquisition %zu holds %zu floats of data; "
                 "its header says %u samples x %u channels (%zu floats)", t->file, t->gname,
                 i0 + j, have, (unsigned)w->samples, (unsigned)w->channels, want);
            ret = -1;
            break;
        }
        if (raw_check_acq(&f->hdr, w, t->file, i0 + j, t->wd, t->err, t->errlen) < 0) {
            ret = -1;
            break;
        }
        /* the samples kept so far, against the budget before each copy */
        t->data_bytes = mem_add(t->data_bytes, mem_mul(want, sizeof(float)));
        if (mem_check(t->file, "keeping its samples", t->data_bytes, t->err,
                      t->errlen) < 0) {
            size_t l = strlen(t->err);
            errf(t->err + l, t->errlen - l, " (%zu acquisitions read of %zu)", i0 + j,
                 t->nall);
            ret = -1;
            break;
        }
        struct raw_acq *a = &f->acq[i0 + j];
        raw_acq_from_head(a, &rec->head);
        float *d = xmalloc((want ? want : 1) * sizeof *d);
        if (want)
            memcpy(d, rec->data.p, want * sizeof *d);
        a->data = d;
        f->nacq = i0 + j + 1;
    }
    raw_vlen_reclaim(t->mrec, ms, buf);
    h5close_s(&ms);
    return ret;
}

/* /group/data: every acquisition, checked against its header. */
static int raw_read_acqs(hid_t grp, const char *gname, const char *file, struct raw_file *f,
                         struct raw_widen *wd, char *err, size_t errlen)
{
    struct raw_table t = { -1, -1, -1, false, false, gname, file, err, errlen, wd, 0, 0 };
    hid_t ft = -1, sp = -1;
    char detail[256];
    struct raw_rec *buf = NULL;
    int ret = -1;

    if (H5Lexists(grp, "data", H5P_DEFAULT) <= 0)
        return 0;                   /* closed after zero appends */
    if ((t.ds = H5Dopen2(grp, "data", H5P_DEFAULT)) < 0) {
        errf(err, errlen, "%s: /%s/data is not a dataset", file, gname);
        goto out;
    }
    ft = H5Dget_type(t.ds);
    if ((t.mrec = raw_record_type(&t, ft)) < 0)
        goto out;
    if ((t.dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
        H5Pset_type_conv_cb(t.dxpl, raw_conv_except, &t.out_of_range) < 0) {
        errf(err, errlen, "%s: /%s/data: cannot set up the read: %s", file, gname,
             h5_error_detail(detail, sizeof detail));
        goto out;
    }

    sp = H5Dget_space(t.ds);
    hsize_t dims[1] = { 0 };
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) != 1) {
        errf(err, errlen, "%s: /%s/data is not a one-dimensional table", file, gname);
        goto out;
    }
    if (dims[0] > SIZE_MAX / sizeof(struct raw_acq)) {
        errf(err, errlen, "%s: /%s/data: %llu acquisitions are too many", file, gname,
                (unsigned long long)dims[0]);
        goto out;
    }
    /* every record takes bytes of storage (a vlen reference alone is 16,
       before compression): a table whose storage is smaller than one byte
       per record declares acquisitions it does not hold (chunks never
       written), and is refused before anything is sized from its count */
    hsize_t stored = H5Dget_storage_size(t.ds);
    if (stored < dims[0]) {
        errf(err, errlen, "%s: /%s/data declares %llu acquisitions but stores only %llu bytes "
             "of them: a truncated or forged file (rewrite it, or cut the table to what it "
             "holds)", file, gname, (unsigned long long)dims[0], (unsigned long long)stored);
        goto out;
    }
    size_t n = (size_t)dims[0];
    char what[96];
    snprintf(what, sizeof what, "the list of its %zu acquisition%s", n, n == 1 ? "" : "s");
    if (mem_check(file, what, mem_mul(n, sizeof *f->acq + sizeof(struct raw_rec)), err,
                  errlen) < 0)
        goto out;
    t.nall = n;
    f->acq = xcalloc(n ? n : 1, sizeof *f->acq);
    enum { BLOCK = 64 };
    buf = xmalloc(BLOCK * sizeof *buf);
    for (size_t i0 = 0; i0 < n; i0 += BLOCK)
        if (raw_read_block(&t, sp, i0, n - i0 < BLOCK ? n - i0 : BLOCK, buf, f) < 0)
            goto out;
    for (size_t i = 0; i < f->nacq; i++)
        if (f->acq[i].ncoils > f->hdr.ncoils && f->hdr.ncoils == 0)
            f->hdr.ncoils = f->acq[i].ncoils;
    ret = 0;
out:
    free(buf);
    if (t.dxpl >= 0)
        H5Pclose(t.dxpl);
    h5close_s(&sp);
    h5close_t(&t.mrec);
    h5close_t(&ft);
    h5close_d(&t.ds);
    return ret;
}

struct raw_groupscan {
    char *first;
    int count;
};

static herr_t raw_scan_group(hid_t g, const char *name, const H5L_info_t *info, void *ud)
{
    (void)info;
    struct raw_groupscan *s = ud;
    char *path = xasprintf("%s/xml", name);
    if (H5Lexists(g, name, H5P_DEFAULT) > 0 && H5Lexists(g, path, H5P_DEFAULT) > 0) {
        if (!s->count)
            s->first = xstrdup(name);
        s->count++;
    }
    free(path);
    return 0;
}

struct raw_file *raw_read(const char *path, char *err, size_t errlen)
{
    return raw_read_with(path, NULL, err, errlen);
}

struct raw_file *raw_read_with(const char *path, const struct raw_read_opts *o, char *err,
                               size_t errlen)
{
    if (!path) {
        errf(err, errlen, "raw data: no file name");
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    fclose(fp);

    struct h5_quiet q;
    h5_quiet_begin(&q);
    struct raw_file_priv *p = xcalloc(1, sizeof *p);
    struct raw_file *f = &p->f;
    hid_t fid = -1, grp = -1;
    char *gname = NULL;
    char detail[256];
    int ok = 0;

#if H5_VERSION_GE(1, 12, 0)
    htri_t is_hdf5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_hdf5 = H5Fis_hdf5(path);
#endif
    if (is_hdf5 <= 0) {
        errf(err, errlen, "%s: not an HDF5 file (an ISMRMRD file is HDF5)", path);
        goto out;
    }
    if ((fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        errf(err, errlen, "%s: cannot open the HDF5 file: %s", path,
                h5_error_detail(detail, sizeof detail));
        goto out;
    }
    if (H5Lexists(fid, RAW_GROUP, H5P_DEFAULT) > 0) {
        gname = xstrdup(RAW_GROUP);
    } else {
        struct raw_groupscan s = { NULL, 0 };
        H5Literate(fid, H5_INDEX_NAME, H5_ITER_INC, NULL, raw_scan_group, &s);
        if (s.count != 1) {
            if (s.count)
                errf(err, errlen, "%s: no group /" RAW_GROUP " and %d groups holding an "
                        "ISMRMRD header (/%s first): which one is meant?", path, s.count, s.first);
            else
                errf(err, errlen, "%s: not an ISMRMRD file: no group /" RAW_GROUP
                        " (nor any group holding an xml header)", path);
            free(s.first);
            goto out;
        }
        gname = s.first;
    }
    if ((grp = H5Gopen2(fid, gname, H5P_DEFAULT)) < 0) {
        errf(err, errlen, "%s: /%s is not a group", path, gname);
        goto out;
    }
    if (raw_read_xml(grp, gname, path, &f->xml, err, errlen) < 0)
        goto out;
    if (rxml_parse(&f->hdr, &p->s, f->xml, path, err, errlen) < 0)
        goto out;
    struct raw_widen wd;
    memset(&wd, 0, sizeof wd);
    if (raw_read_acqs(grp, gname, path, f, o && o->widen_limits ? &wd : NULL, err, errlen) < 0)
        goto out;
    if (o && o->widen_limits)
        f->widened = raw_widen_apply(&f->hdr, &wd, path);
    ok = 1;
out:
    free(gname);
    h5close_g(&grp);
    if (fid >= 0)
        H5Fclose(fid);
    h5_quiet_end(&q);
    if (!ok) {
        raw_file_free(f);
        return NULL;
    }
    return f;
}

void raw_file_free(struct raw_file *f)
{
    if (!f)
        return;
    struct raw_file_priv *p = (struct raw_file_priv *)f;
    for (size_t i = 0; i < f->nacq; i++)
        free((void *)f->acq[i].data);
    free(f->acq);
    free(f->xml);
    free(f->widened);
    rxml_strings_free(&p->s, f->hdr.nparams);
    free(p);
}
