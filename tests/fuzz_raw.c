/*
 * fuzz_raw: libFuzzer entry point for raw ISMRMRD data as `larmor recon`
 * takes it: the reader (runtime/io/rawdata_read.c, rawdata_xml.c), the
 * checks of every acquisition against its header (rawdata_check.c) and the
 * reconstruction (runtime/recon/: recon_kspace, recon_image). Any input
 * must reconstruct or be refused with a message, without a crash, a leak or
 * undefined behaviour, and a refusal must say why (a non-empty message).
 *
 * The input describes a file, which libismrmrd writes as any ISMRMRD
 * writer would and the reader then reads back: so the fuzzer explores the
 * header's XML and the acquisitions' counters, sizes and flags, not HDF5's
 * byte-level parser (fuzzed by HDF5's own project; the reader's checked
 * HDF5 calls and foreign layouts are tested in tests/test_rawcheck.c and
 * tests/test_rawdata.c). The layout:
 *   the XML header, up to a NUL byte (no NUL: all of it, no acquisitions);
 *   one byte of options: bit 0 --widen-limits, bit 1 zero-filled partial
 *     Fourier (else POCS), bit 2 keep the readout oversampling;
 *   then records of FR_RECORD bytes, one acquisition each (little-endian):
 *     number_of_samples (2), active_channels (1), trajectory_dimensions
 *     (1, mod 4), center_sample (2), flags (8), sample_time_us in 1/100
 *     us (2), then kspace_encode_step_1, kspace_encode_step_2, average,
 *     slice, contrast, phase, repetition, set, segment (2 each).
 * The samples are not taken from the input (a smooth pattern: a k-space
 * peak at the centre sample), so that short inputs describe real scans; at
 * most FR_MAX_ACQ acquisitions and FR_MAX_SAMPLES complex samples in all,
 * and a memory budget of 8 MiB (a 1024 x 1024 complex image), keep one run short. tests/fuzz/make_seeds.py
 * writes the seeds (tests/fuzz/raw-seed/).
 */
#include <complex.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>

#include "base/membudget.h"
#include "runtime/io/h5.h"
#include "runtime/io/rawdata.h"
#include "runtime/recon/recon.h"
#include "tests/fuzzutil.h"

/* 1 when the input reconstructed to an image, else 0 (libFuzzer's entry
   returns 0 either way). Sets the memory budget (mem_budget_set). */
int fuzz_raw_one(const uint8_t *data, size_t size);

enum { FR_RECORD = 34, FR_MAX_ACQ = 128, FR_MAX_SAMPLES = 1 << 18 };

static void fr_quiet(const char *file, int line, const char *func, int code, const char *msg)
{
    (void)file, (void)line, (void)func, (void)code, (void)msg;
}

static void fr_record(struct fz_cur *c, ISMRMRD_AcquisitionHeader *h, uint32_t scan,
                      size_t *budget)
{
    h->number_of_samples = (uint16_t)fz_u64(c, 2);
    h->active_channels = (uint16_t)fz_u8(c);
    h->available_channels = h->active_channels;
    h->trajectory_dimensions = (uint16_t)(fz_u8(c) % 4);
    h->center_sample = (uint16_t)fz_u64(c, 2);
    h->flags = fz_u64(c, 8);
    h->sample_time_us = (float)fz_u64(c, 2) / 100.0f;
    uint16_t *idx[] = { &h->idx.kspace_encode_step_1, &h->idx.kspace_encode_step_2,
                        &h->idx.average, &h->idx.slice, &h->idx.contrast, &h->idx.phase,
                        &h->idx.repetition, &h->idx.set, &h->idx.segment };
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
        *idx[i] = (uint16_t)fz_u64(c, 2);
    /* keep the data small: fewer samples, not a different header field */
    size_t n = (size_t)h->number_of_samples * (h->active_channels ? h->active_channels : 1);
    if (n > *budget) {
        size_t ch = h->active_channels ? h->active_channels : 1;
        h->number_of_samples = (uint16_t)(*budget / ch);
        n = h->number_of_samples * ch;
    }
    *budget -= n;
    h->scan_counter = scan;
    h->acquisition_time_stamp = scan * 4;
    h->read_dir[0] = h->phase_dir[1] = h->slice_dir[2] = 1;
}

/* Write the file the input describes to path; the options byte in *opts.
   0, or -1 when libismrmrd could not write it. */
static int fr_write(const uint8_t *data, size_t size, const char *path, unsigned *opts)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t xlen = nul ? (size_t)(nul - data) : size;
    char *xml = malloc(xlen + 1);
    memcpy(xml, data, xlen);
    xml[xlen] = '\0';
    struct fz_cur c = { data, size, nul ? xlen + 1 : size };
    *opts = fz_u8(&c);
    ISMRMRD_Dataset ds;
    int rc = -1;
    if (ismrmrd_init_dataset(&ds, path, "dataset") || ismrmrd_open_dataset(&ds, true))
        goto out;
    rc = ismrmrd_write_header(&ds, xml) ? -1 : 0;
    size_t budget = FR_MAX_SAMPLES;
    for (uint32_t a = 0; rc == 0 && a < FR_MAX_ACQ && c.n - c.at >= FR_RECORD; a++) {
        ISMRMRD_Acquisition acq;
        ismrmrd_init_acquisition(&acq);
        fr_record(&c, &acq.head, a, &budget);
        ismrmrd_make_consistent_acquisition(&acq);
        size_t ns = acq.head.number_of_samples, nc = acq.head.active_channels;
        for (size_t k = 0; k < ns * nc; k++) {
            double s = (double)(k % ns) - acq.head.center_sample;
            acq.data[k] = (float)(1 / (1 + s * s)) + 0.01f * I * (float)(k % 7);
        }
        for (size_t k = 0; k < ns * acq.head.trajectory_dimensions; k++)
            acq.traj[k] = (float)k / (float)(ns ? ns : 1) - 0.5f;
        if (ismrmrd_append_acquisition(&ds, &acq))
            rc = -1;
        ismrmrd_cleanup_acquisition(&acq);
    }
    if (ismrmrd_close_dataset(&ds))
        rc = -1;
out:
    free(xml);
    return rc;
}

/* 1 when an image was made. */
static int fr_recon(const char *path, unsigned opts)
{
    char err[1024] = "";
    struct raw_read_opts ro = { .widen_limits = opts & 1 };
    struct raw_file *f = raw_read_with(path, &ro, err, sizeof err);
    if (!f) {
        if (!err[0])
            abort();            /* a refusal says why */
        return 0;
    }
    struct recon_opts o = { .pf = (opts & 2) ? RECON_PF_ZERO : RECON_PF_POCS,
                            .keep_oversampling = opts & 4, .input = "fuzz.h5" };
    err[0] = '\0';
    int made = 0;
    struct kspace *k = recon_kspace(f, &o, err, sizeof err);
    if (!k) {
        if (!err[0])
            abort();
    } else {
        err[0] = '\0';
        struct image_vol *v = recon_image(k, &o, err, sizeof err);
        if (!v && !err[0])
            abort();
        made = v != NULL;
        image_free(v);
        kspace_free(k);
    }
    raw_file_free(f);
    return made;
}

int fuzz_raw_one(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        ready = 1;
        h5_process_init();
        ismrmrd_set_error_handler(fr_quiet);
        /* HDF5's free lists keep freed blocks for reuse. Wider than its
           defaults, so that the conversion buffers of each H5Dwrite are
           reused rather than mapped afresh under ASan, but bounded: without
           a limit they kept every block size they had seen (vlen data of
           every length), 3 GB after 14,000 inputs (an out-of-memory
           finding of the harness, not of Larmor: the input alone runs in
           a few MB) */
        H5set_free_list_limits(16 << 20, 4 << 20, 16 << 20, 4 << 20, 64 << 20, 16 << 20);
    }
    mem_budget_set((size_t)8 << 20, "the fuzz target's 8M");
    const char *dir = fz_dir();
    if (!dir || !size)
        return 0;
    char path[320];
    snprintf(path, sizeof path, "%s/fuzz.h5", dir);
    unsigned opts = 0;
    int made = fr_write(data, size, path, &opts) == 0 && fr_recon(path, opts);
    remove(path);
    return made;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
/* libismrmrd appends each acquisition with its own H5Dwrite and the default
   transfer list, whose 1 MiB type-conversion and background buffers HDF5
   allocates and zeroes on every call (H5D__typeinfo_init): two 1 MiB memsets
   per acquisition, most of a run's time. The fuzz binary (not the unit
   tests, which include this file without an entry point) interposes
   H5Dwrite and hands HDF5 a transfer list with a 16 KiB buffer instead of
   the default one: the same bytes reach the file, in more, smaller
   conversion passes. Calls that pass their own transfer list keep it. */
#include <dlfcn.h>

herr_t H5Dwrite(hid_t dset, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl,
                const void *buf);

herr_t H5Dwrite(hid_t dset, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl,
                const void *buf)
{
    typedef herr_t (*write_fn)(hid_t, hid_t, hid_t, hid_t, hid_t, const void *);
    static write_fn real;
    static hid_t small = H5I_INVALID_HID;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "H5Dwrite");
        if (!sym)
            abort();
        memcpy(&real, &sym, sizeof real);
    }
    if (dxpl == H5P_DEFAULT) {
        if (small == H5I_INVALID_HID) {
            small = H5Pcreate(H5P_DATASET_XFER);
            if (small < 0 || H5Pset_buffer(small, (size_t)16 << 10, NULL, NULL) < 0)
                abort();
        }
        dxpl = small;
    }
    return real(dset, mtype, mspace, fspace, dxpl, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_raw_one(data, size);
    return 0;
}
#endif
