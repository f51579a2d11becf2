/*
 * rawdata_check: an acquisition as the header declares it. The reader
 * (rawdata_read.c) hands each acquisition here as stored, before it keeps
 * it; anything the file contradicts itself on is refused with a message
 * naming the file, the acquisition, the field, its value, the declared
 * limit and what would fix it. So every raw_file that raw_read returns is
 * consistent with its own header, and nothing that reads one (the recon
 * first) sizes an allocation from a counter the header does not cover.
 *
 * The rules (docs/architecture.md, "Raw-data validation"):
 *   - the sizes (number_of_samples, active_channels, center_sample) fit
 *     ISMRMRD's unsigned 16-bit fields, whatever type the file stores;
 *   - every counter of idx lies within the header's encodingLimits
 *     (minimum to maximum); where the header declares none for a counter,
 *     within the encoded matrix for the k-space steps (y for step 1, z for
 *     step 2) and within 0..RAW_COUNTER_BOUND - 1 for the others;
 *   - active_channels is at most the header's receiverChannels (when
 *     declared) and at least 1 when there are samples;
 *   - center_sample lies before number_of_samples; in Cartesian data
 *     (trajectory cartesian, or none named) number_of_samples is at most
 *     the encoded matrix's x.
 * Owned here: the rules and their messages; nothing allocated.
 */
#include "runtime/io/rawdata_internal.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/util.h"

/* A size field within ISMRMRD's uint16; -1 with a message. */
static int rck_u16(int64_t v, const char *field, const char *file, size_t i, char *err,
                   size_t errlen)
{
    if (v >= 0 && v <= RAW_U16_MAX)
        return 0;
    errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " does not fit ISMRMRD's unsigned "
         "16-bit field (0 to %d): the file stores it in a wider or signed type; rewrite the "
         "file with a value in range", file, i, field, v, RAW_U16_MAX);
    return -1;
}

int raw_check_sizes(const struct raw_wide *w, const char *file, size_t i, char *err,
                    size_t errlen)
{
    if (rck_u16(w->samples, "number_of_samples", file, i, err, errlen) < 0 ||
        rck_u16(w->channels, "active_channels", file, i, err, errlen) < 0 ||
        rck_u16(w->centre, "center_sample", file, i, err, errlen) < 0)
        return -1;
    return 0;
}

/* Counter l of w against the header's limit or, where there is none, the
   encoded matrix or RAW_COUNTER_BOUND; -1 with a message. */
static int rck_counter(const struct raw_header *h, const struct raw_wide *w, int l,
                       const char *file, size_t i, char *err, size_t errlen)
{
    int64_t v = w->idx[l];
    const char *name = raw_idx_name[l], *lname = raw_limit_name[l];
    const struct raw_limit *lim = &h->limits[l];
    if (v < 0 || v > RAW_U16_MAX) {
        errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " does not fit ISMRMRD's "
             "unsigned 16-bit counter (0 to %d; the file stores it in a wider or signed type): "
             "the acquisition is corrupt or was written by a broken converter; rewrite it with "
             "its true counter", file, i, name, v, RAW_U16_MAX);
        return -1;
    }
    if (lim->max >= lim->min) {
        if (v >= lim->min && v <= lim->max)
            return 0;
        errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is outside the header's "
             "encodingLimits/%s (%d to %d): fix the acquisition's counter, or the header's "
             "limit if the data truly reaches %" PRId64, file, i, name, v, lname,
             (int)lim->min, (int)lim->max, v);
        return -1;
    }
    int axis = l == VM_LABEL_LIN ? 1 : l == VM_LABEL_PAR ? 2 : -1;
    if (axis > 0) {
        int n = h->matrix[axis] > 0 ? h->matrix[axis] : 1;
        if (v < n)
            return 0;
        errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is past the encoded matrix "
             "(%s = %d, so 0 to %d) and the header declares no encodingLimits/%s: fix the "
             "acquisition's counter, or declare the limit (and the matrix) in the header",
             file, i, name, v, axis == 1 ? "y" : "z", n, n - 1, lname);
        return -1;
    }
    if (v < RAW_COUNTER_BOUND)
        return 0;
    errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is past %d, the bound Larmor "
         "assumes where the header declares no encodingLimits/%s: fix the acquisition's "
         "counter, or declare the limit in the header if the file truly holds that many",
         file, i, name, v, RAW_COUNTER_BOUND - 1, lname);
    return -1;
}

/* Samples and channels against the header; -1 with a message. */
static int rck_sizes_vs_header(const struct raw_header *h, const struct raw_wide *w,
                               const char *file, size_t i, char *err, size_t errlen)
{
    if (h->ncoils > 0 && w->channels > h->ncoils) {
        errf(err, errlen, "%s: acquisition %zu: active_channels = %" PRId64 " exceeds the "
             "header's acquisitionSystemInformation/receiverChannels (%d): fix the header's "
             "channel count or the acquisition's", file, i, w->channels, h->ncoils);
        return -1;
    }
    if (w->samples > 0 && w->channels == 0) {
        errf(err, errlen, "%s: acquisition %zu: %" PRId64 " samples on active_channels = 0: "
             "an acquisition with samples needs at least one channel", file, i, w->samples);
        return -1;
    }
    if (w->samples > 0 && w->centre >= w->samples) {
        errf(err, errlen, "%s: acquisition %zu: center_sample = %" PRId64 " is not below "
             "number_of_samples (%" PRId64 "): fix the acquisition's centre sample", file, i,
             w->centre, w->samples);
        return -1;
    }
    bool cartesian = !h->trajectory || strcmp(h->trajectory, "cartesian") == 0;
    if (cartesian && h->matrix[0] > 0 && w->samples > h->matrix[0]) {
        errf(err, errlen, "%s: acquisition %zu: number_of_samples = %" PRId64 " exceeds the "
             "encoded matrix's x (%d) of this Cartesian encoding: fix the header's "
             "encodedSpace/matrixSize/x (readout oversampling included) or the acquisition",
             file, i, w->samples, h->matrix[0]);
        return -1;
    }
    return 0;
}

int raw_check_acq(const struct raw_header *h, const struct raw_wide *w, const char *file,
                  size_t i, char *err, size_t errlen)
{
    if (rck_sizes_vs_header(h, w, file, i, err, errlen) < 0)
        return -1;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (rck_counter(h, w, l, file, i, err, errlen) < 0)
            return -1;
    return 0;
}
