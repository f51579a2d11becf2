/*
 * rawdata_write: the raw-data writer (raw_open, raw_append, raw_close of
 * rawdata.h) through libismrmrd's C API (ismrmrd_open_dataset,
 * ismrmrd_append_acquisition, ismrmrd_write_header), so that the HDF5
 * types are exactly the library's. The XML header is written last, from
 * the header given with the limits widened to what was appended (or a
 * header derived from the acquisitions alone), by rawdata_xml.c.
 *
 * libismrmrd reports errors through a process-wide handler, which this
 * module installs to collect the message for the caller's err buffer; HDF5
 * automatic error printing is switched off around every call here and
 * restored after (h5.h's h5_quiet_begin/end). Owned here: the writer (its
 * dataset handle and path).
 *
 * The file is written under a temporary name next to its own
 * (base/outfile's NAME.tmp-PID-N) and renamed over NAME by raw_close once
 * the header is written and HDF5 closed the file without error: a scan
 * that stops early (interrupted, a failed driver) still gets a valid file
 * under its name, one whose close failed (a full disk) is removed with a
 * message saying so, and an existing NAME is replaced only by a complete
 * file. A process killed outright (SIGKILL) leaves the temporary behind.
 */
#include "runtime/io/rawdata_internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>

#include "runtime/io/h5.h"
#include "base/outfile.h"
#include "base/util.h"

/* ---------------------------------------------------------------------- */
/* libismrmrd's errors                                                     */
/* ---------------------------------------------------------------------- */

/* libismrmrd's messages during one call of ours, collected by the handler
   installed below: the first message of the library's own and the first
   one it relayed from HDF5 (the most specific). */
static _Thread_local struct raw_sink {
    bool active;
    char lib[256];
    char hdf5[256];
} raw_sink;

static void raw_on_ismrmrd_error(const char *file, int line, const char *func,
                                 int code, const char *msg)
{
    (void)file;
    (void)line;
    if (!raw_sink.active) {
        fprintf(stderr, "libismrmrd: %s: %s\n", func ? func : "?", msg ? msg : "?");
        return;
    }
    char *dst = code == ISMRMRD_HDF5ERROR ? raw_sink.hdf5 : raw_sink.lib;
    if (!dst[0])
        h5_condense(dst, sizeof raw_sink.lib, msg ? msg : "unknown error");
}

struct libcall {
    struct h5_quiet q;
};

static void lib_begin(struct libcall *c)
{
    ismrmrd_set_error_handler(raw_on_ismrmrd_error);
    raw_sink.active = true;
    raw_sink.lib[0] = raw_sink.hdf5[0] = 0;
    h5_quiet_begin(&c->q);
}

/* End a libismrmrd call: the collected message (or fallback) into msg, the
   library's error stack emptied (it only grows otherwise). */
static void lib_end(struct libcall *c, char *msg, size_t len, const char *fallback)
{
    if (!raw_sink.hdf5[0])
        h5_error_detail(raw_sink.hdf5, sizeof raw_sink.hdf5);
    if (raw_sink.lib[0] && raw_sink.hdf5[0])
        snprintf(msg, len, "%s (HDF5: %s)", raw_sink.lib, raw_sink.hdf5);
    else if (raw_sink.lib[0] || raw_sink.hdf5[0])
        snprintf(msg, len, "%s", raw_sink.lib[0] ? raw_sink.lib : raw_sink.hdf5);
    else
        snprintf(msg, len, "%s", fallback);
    while (ismrmrd_pop_error(NULL, NULL, NULL, NULL, NULL))
        ;
    raw_sink.active = false;
    h5_quiet_end(&c->q);
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                  */
/* ---------------------------------------------------------------------- */

static const char *const raw_trajectories[] = {
    "cartesian", "epi", "radial", "goldenangle", "spiral", "other",
};

struct raw_writer {
    ISMRMRD_Dataset ds;
    char *path;
    struct outfile out;           /* the temporary the dataset is written to */
    uint32_t uid;
    size_t nacq;
    uint32_t max_samples;
    int max_coils;
    int32_t seen_min[VM_LABEL__COUNT], seen_max[VM_LABEL__COUNT];
};

static uint32_t raw_default_uid(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    uint64_t h = fnv1a64(FNV1A64_INIT, base, strlen(base));
    return (uint32_t)(h ^ (h >> 32));
}

struct raw_writer *raw_open(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        errf(err, errlen, "raw data: no output file name");
        return NULL;
    }
    struct raw_writer *w = xcalloc(1, sizeof *w);
    w->path = xstrdup(path);
    w->uid = raw_default_uid(path);
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        w->seen_min[l] = INT32_MAX;
        w->seen_max[l] = -1;
    }

    if (outfile_reserve(&w->out, path, err, errlen) != 0)
        goto fail_free;
    const char *tmp = outfile_name(&w->out);
    /* ismrmrd_open_dataset appends to an existing file: truncate first. */
    struct h5_quiet q;
    char detail[256];
    h5_quiet_begin(&q);
    hid_t fid = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0) {
        h5_error_detail(detail, sizeof detail);
        h5_quiet_end(&q);
        errf(err, errlen, "%s: cannot create the file: %s", path, detail);
        goto fail_free;
    }
    herr_t st = H5Fclose(fid);
    h5_error_detail(detail, sizeof detail);
    h5_quiet_end(&q);
    if (st < 0) {
        errf(err, errlen, "%s: cannot create the file: %s", path, detail);
        goto fail_free;
    }

    struct libcall c;
    char msg[600];
    lib_begin(&c);
    int rc = ismrmrd_init_dataset(&w->ds, tmp, RAW_GROUP);
    if (rc == ISMRMRD_NOERROR)
        rc = ismrmrd_open_dataset(&w->ds, false);
    htri_t has_group = rc == ISMRMRD_NOERROR ? H5Lexists(w->ds.fileid, RAW_GROUP, H5P_DEFAULT) : 0;
    lib_end(&c, msg, sizeof msg, "cannot open the file with libismrmrd");
    if (rc != ISMRMRD_NOERROR || has_group <= 0) {
        errf(err, errlen, "%s: %s", path,
                rc != ISMRMRD_NOERROR ? msg : "libismrmrd did not create the group /" RAW_GROUP);
        goto fail_close;
    }
    return w;

fail_close:
    lib_begin(&c);
    ismrmrd_close_dataset(&w->ds);
    lib_end(&c, msg, sizeof msg, "");
fail_free:
    outfile_abort(&w->out);
    free(w->path);
    free(w);
    return NULL;
}

void raw_set_measurement_uid(struct raw_writer *w, uint32_t uid)
{
    if (w)
        w->uid = uid;
}

int raw_append(struct raw_writer *w, const struct raw_acq *a, char *err, size_t errlen)
{
    if (!w || !a) {
        errf(err, errlen, "raw data: append without a writer or an acquisition");
        return -1;
    }
    const char *p = w->path;
    size_t k = w->nacq;
#define REFUSE(...) do { \
        char why_[300]; \
        snprintf(why_, sizeof why_, __VA_ARGS__); \
        errf(err, errlen, "%s: acquisition %zu (scan %u): %s", p, k, a->scan_counter, why_); \
        return -1; } while (0)
    if (a->samples < 1 || a->samples > RAW_U16_MAX)
        REFUSE("%u samples; ISMRMRD holds 1 to %d", a->samples, RAW_U16_MAX);
    if (a->ncoils < 1 || a->ncoils > RAW_MAX_COILS)
        REFUSE("%d coils; ISMRMRD holds 1 to %d", a->ncoils, RAW_MAX_COILS);
    if (!a->data)
        REFUSE("no data");
    if (a->centre_sample >= a->samples)
        REFUSE("centre sample %u is not one of the %u samples", a->centre_sample, a->samples);
    if (!(a->dwell > 0) || !isfinite(a->dwell) || a->dwell * 1e6 > 1e30)
        REFUSE("dwell %g s is not a positive time", a->dwell);
    if (a->time_ns < 0)
        REFUSE("time %lld ns is before the start of the program", (long long)a->time_ns);
    if (a->time_ns / RAW_TICK_NS > (int64_t)UINT32_MAX)
        REFUSE("time %lld ns is past the 32-bit time stamp (2.5 ms ticks)", (long long)a->time_ns);
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        if (a->labels[l] < 0)
            REFUSE("label %s = %d is negative; ISMRMRD counters are 0 to %d",
                   vm_label_names[l], (int)a->labels[l], RAW_U16_MAX);
        if (a->labels[l] > RAW_U16_MAX)
            REFUSE("label %s = %d is past %d, the largest ISMRMRD counter",
                   vm_label_names[l], (int)a->labels[l], RAW_U16_MAX);
    }
#undef REFUSE

    ISMRMRD_Acquisition acq;
    memset(&acq, 0, sizeof acq);
    ismrmrd_init_acquisition_header(&acq.head);
    ISMRMRD_AcquisitionHeader *h = &acq.head;
    h->flags = a->flags;
    h->measurement_uid = w->uid;
    h->scan_counter = a->scan_counter;
    h->acquisition_time_stamp = (uint32_t)(a->time_ns / RAW_TICK_NS);
    h->number_of_samples = (uint16_t)a->samples;
    h->available_channels = (uint16_t)a->ncoils;
    h->active_channels = (uint16_t)a->ncoils;
    for (int c = 0; c < a->ncoils; c++)
        h->channel_mask[c / 64] |= 1ull << (c % 64);
    h->center_sample = (uint16_t)a->centre_sample;
    h->encoding_space_ref = 0;
    h->trajectory_dimensions = 0;
    h->sample_time_us = (float)(a->dwell * 1e6);
    for (int i = 0; i < 3; i++) {
        h->position[i] = a->position[i];
        h->read_dir[i] = a->read_dir[i];
        h->phase_dir[i] = a->phase_dir[i];
        h->slice_dir[i] = a->slice_dir[i];
        h->patient_table_position[i] = a->table_position[i];
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        *raw_idx_ref(&h->idx, l) = (uint16_t)a->labels[l];
    acq.traj = NULL;
    acq.data = (complex_float_t *)a->data;   /* [coil][sample], as ISMRMRD stores it */

    struct libcall c;
    char msg[600];
    lib_begin(&c);
    int rc = ismrmrd_append_acquisition(&w->ds, &acq);
    lib_end(&c, msg, sizeof msg, "libismrmrd could not append the acquisition");
    if (rc != ISMRMRD_NOERROR) {
        errf(err, errlen, "%s: acquisition %zu (scan %u): %s", p, k, a->scan_counter, msg);
        return -1;
    }

    w->nacq++;
    if (a->samples > w->max_samples)
        w->max_samples = a->samples;
    if (a->ncoils > w->max_coils)
        w->max_coils = a->ncoils;
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        if (a->labels[l] < w->seen_min[l])
            w->seen_min[l] = a->labels[l];
        if (a->labels[l] > w->seen_max[l])
            w->seen_max[l] = a->labels[l];
    }
    return 0;
}

/* Why h cannot be written as given, or NULL. */
static const char *raw_header_problem(const struct raw_header *h, char *why, size_t len)
{
    static const char *const ax = "xyz";
    for (int i = 0; i < 3; i++) {
        if (h->matrix[i] < 1 || h->matrix[i] > RAW_U16_MAX)
            return snprintf(why, len, "encoded matrix %c = %d is not 1 to %d", ax[i],
                            h->matrix[i], RAW_U16_MAX), why;
        if (h->recon_matrix[i] < 0 || h->recon_matrix[i] > RAW_U16_MAX)
            return snprintf(why, len, "recon matrix %c = %d is not 0 to %d", ax[i],
                            h->recon_matrix[i], RAW_U16_MAX), why;
        if (!isfinite(h->fov[i]) || h->fov[i] < 0 || !isfinite(h->recon_fov[i]) || h->recon_fov[i] < 0)
            return snprintf(why, len, "field of view %c is negative or not finite", ax[i]), why;
    }
    if (!isfinite(h->b0) || h->b0 < 0)
        return snprintf(why, len, "B0 %g T is negative or not finite", h->b0), why;
    if (!isfinite(h->larmor_hz) || h->larmor_hz < 0 || h->larmor_hz > 9e18)
        return snprintf(why, len, "resonance frequency %g Hz is out of range", h->larmor_hz), why;
    if (h->ncoils < 0 || h->ncoils > RAW_U16_MAX)
        return snprintf(why, len, "%d receiver channels", h->ncoils), why;
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        const struct raw_limit *lim = &h->limits[l];
        if (lim->max < lim->min)
            continue;
        if (lim->min < 0 || lim->max > RAW_U16_MAX || lim->centre < 0 || lim->centre > RAW_U16_MAX)
            return snprintf(why, len, "limits of %s (%d..%d, centre %d) are not within 0 to %d",
                            vm_label_names[l], (int)lim->min, (int)lim->max, (int)lim->centre,
                            RAW_U16_MAX), why;
    }
    if (h->trajectory) {
        bool known = false;
        for (size_t i = 0; i < ARRAY_LEN(raw_trajectories); i++)
            known |= strcmp(h->trajectory, raw_trajectories[i]) == 0;
        if (!known)
            return snprintf(why, len, "trajectory \"%s\" is not one of ISMRMRD's (cartesian, epi, "
                            "radial, goldenangle, spiral, other)", h->trajectory), why;
    }
    const double seq[4] = { h->tr, h->te, h->ti, h->flip };
    static const char *const seqn[4] = { "TR", "TE", "TI", "flip angle" };
    for (int i = 0; i < 4; i++)
        if (!isfinite(seq[i]) || seq[i] < 0)
            return snprintf(why, len, "%s %g is negative or not finite", seqn[i], seq[i]), why;
    if (h->nparams && (!h->param_names || !h->param_values))
        return snprintf(why, len, "%zu user parameters without names or values", h->nparams), why;
    for (size_t i = 0; i < h->nparams; i++)
        if (!h->param_names[i])
            return snprintf(why, len, "user parameter %zu has no name", i), why;
    return NULL;
}

/* The header to write for h: a zero recon_matrix / recon_fov as encoded,
   the limits widened to the labels seen (a limit h marks unused written
   when an ADC carried a value other than 0), ncoils 0 the largest
   appended (see raw_close in rawdata.h). */
static void raw_effective(const struct raw_writer *w, const struct raw_header *h,
                          struct raw_header *e)
{
    *e = *h;
    if (e->ncoils <= 0)
        e->ncoils = w->max_coils;
    for (int i = 0; i < 3; i++) {
        e->recon_matrix[i] = h->recon_matrix[i] ? h->recon_matrix[i] : h->matrix[i];
        e->recon_fov[i] = h->recon_fov[i] != 0 ? h->recon_fov[i] : h->fov[i];
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        struct raw_limit *lim = &e->limits[l];
        bool seen = w->seen_max[l] >= 0;
        if (lim->max < lim->min) {
            if (!seen || (w->seen_min[l] == 0 && w->seen_max[l] == 0))
                continue;
            lim->min = w->seen_min[l];
            lim->max = w->seen_max[l];
            lim->centre = l == VM_LABEL_LIN || l == VM_LABEL_PAR
                ? lim->min + (lim->max - lim->min + 1) / 2 : lim->min;
        } else if (seen) {
            if (w->seen_min[l] < lim->min)
                lim->min = w->seen_min[l];
            if (w->seen_max[l] > lim->max)
                lim->max = w->seen_max[l];
        }
    }
}

/* The XML of the header h describes, as raw_effective completes it. */
static char *raw_header_xml(const struct raw_writer *w, const struct raw_header *h)
{
    struct raw_header e;
    raw_effective(w, h, &e);
    return rxml_write(&e);
}

/* The header of what was appended, for an interrupted run or a bad h. */
static char *raw_derived_xml(const struct raw_writer *w, const struct raw_header *given)
{
    struct raw_header h;
    memset(&h, 0, sizeof h);
    if (given) {
        h.sequence_name = given->sequence_name;
        h.system_name = given->system_name;
    }
    h.ncoils = w->max_coils;
    h.matrix[0] = w->max_samples ? (int)w->max_samples : 1;
    h.matrix[1] = w->seen_max[VM_LABEL_LIN] >= 0 ? w->seen_max[VM_LABEL_LIN] + 1 : 1;
    h.matrix[2] = w->seen_max[VM_LABEL_PAR] >= 0 ? w->seen_max[VM_LABEL_PAR] + 1 : 1;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h.limits[l] = (struct raw_limit){ 0, -1, 0 };
    h.trajectory = "other";
    return raw_header_xml(w, &h);
}

int raw_close(struct raw_writer *w, const struct raw_header *h, char *err, size_t errlen)
{
    if (!w) {
        errf(err, errlen, "raw data: close without a writer");
        return -1;
    }
    int ret = 0;
    char why[300];
    const char *problem = h ? raw_header_problem(h, why, sizeof why) : NULL;
    char *xml;
    if (h && !problem) {
        xml = raw_header_xml(w, h);
    } else {
        xml = raw_derived_xml(w, h);
        if (problem) {
            errf(err, errlen, "%s: header not written as given: %s (a header derived from the "
                    "acquisitions was written instead)", w->path, problem);
            ret = -1;
        }
    }

    struct libcall c;
    char msg[600];
    lib_begin(&c);
    int rc = ismrmrd_write_header(&w->ds, xml);
    lib_end(&c, msg, sizeof msg, "libismrmrd could not write the header");
    char broken[700] = "";
    if (rc != ISMRMRD_NOERROR)
        snprintf(broken, sizeof broken, "XML header: %s", msg);

    lib_begin(&c);
    if (w->ds.fileid > 0)
        h5_close_open_objects(w->ds.fileid);
    rc = ismrmrd_close_dataset(&w->ds);
    lib_end(&c, msg, sizeof msg, "libismrmrd could not close the file");
    if (rc != ISMRMRD_NOERROR && !broken[0])
        snprintf(broken, sizeof broken, "%s", msg);
    if (broken[0]) {
        /* a file HDF5 could not finish may not be readable: never left
           under the name, never over a good file */
        errf(err, errlen, "%s: %s; the file could not be completed, so it was removed (%zu "
                "acquisition%s lost; an earlier %s, if any, is left as it was)", w->path,
                broken, w->nacq, w->nacq == 1 ? "" : "s", w->path);
        outfile_abort(&w->out);
        ret = -1;
    } else if (outfile_commit(&w->out, ret ? NULL : err, ret ? 0 : errlen) != 0) {
        ret = -1;
    }
    free(xml);
    free(w->path);
    free(w);
    return ret;
}
