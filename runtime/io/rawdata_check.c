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
#include <stdlib.h>
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

/* Record counter l's value v past its limit in wd; 0. */
static int rck_widen(struct raw_widen *wd, int l, int64_t v)
{
    if (!wd->n[l]++ || v < wd->lo[l])
        wd->lo[l] = v;
    if (wd->n[l] == 1 || v > wd->hi[l])
        wd->hi[l] = v;
    return 0;
}

/* Counter l of w against the header's limit or, where there is none, the
   encoded matrix or RAW_COUNTER_BOUND; -1 with a message. */
static int rck_counter(const struct raw_header *h, const struct raw_wide *w, int l,
                       const char *file, size_t i, struct raw_widen *wd, char *err,
                       size_t errlen)
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
        if (wd)
            return rck_widen(wd, l, v);
        errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is outside the header's "
             "encodingLimits/%s (%d to %d): fix the acquisition's counter, or the header's "
             "limit if the data truly reaches %" PRId64 " (larmor recon --widen-limits "
             "accepts it)", file, i, name, v, lname, (int)lim->min, (int)lim->max, v);
        return -1;
    }
    int axis = l == VM_LABEL_LIN ? 1 : l == VM_LABEL_PAR ? 2 : -1;
    if (axis > 0) {
        int n = h->matrix[axis] > 0 ? h->matrix[axis] : 1;
        if (v < n)
            return 0;
        if (wd)
            return rck_widen(wd, l, v);
        errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is past the encoded matrix "
             "(%s = %d, so 0 to %d) and the header declares no encodingLimits/%s: fix the "
             "acquisition's counter, or declare the limit (and the matrix) in the header "
             "(larmor recon --widen-limits accepts it)",
             file, i, name, v, axis == 1 ? "y" : "z", n, n - 1, lname);
        return -1;
    }
    if (v < RAW_COUNTER_BOUND)
        return 0;
    if (wd)
        return rck_widen(wd, l, v);
    errf(err, errlen, "%s: acquisition %zu: %s = %" PRId64 " is past %d, the bound Larmor "
         "assumes where the header declares no encodingLimits/%s: fix the acquisition's "
         "counter, or declare the limit in the header if the file truly holds that many "
         "(larmor recon --widen-limits accepts it)",
         file, i, name, v, RAW_COUNTER_BOUND - 1, lname);
    return -1;
}

/* Samples and channels against the header; -1 with a message. */
static int rck_sizes_vs_header(const struct raw_header *h, const struct raw_wide *w,
                               const char *file, size_t i, struct raw_widen *wd, char *err,
                               size_t errlen)
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
        if (wd) {
            wd->nsamples++;
            if (w->samples > wd->samples)
                wd->samples = w->samples;
            return 0;
        }
        errf(err, errlen, "%s: acquisition %zu: number_of_samples = %" PRId64 " exceeds the "
             "encoded matrix's x (%d) of this Cartesian encoding: fix the header's "
             "encodedSpace/matrixSize/x (readout oversampling included) or the acquisition "
             "(larmor recon --widen-limits accepts it)",
             file, i, w->samples, h->matrix[0]);
        return -1;
    }
    return 0;
}

int raw_check_acq(const struct raw_header *h, const struct raw_wide *w, const char *file,
                  size_t i, struct raw_widen *wd, char *err, size_t errlen)
{
    if (rck_sizes_vs_header(h, w, file, i, wd, err, errlen) < 0)
        return -1;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (rck_counter(h, w, l, file, i, wd, err, errlen) < 0)
            return -1;
    return 0;
}

char *raw_widen_apply(struct raw_header *h, const struct raw_widen *wd, const char *file)
{
    int m0[3] = { h->matrix[0], h->matrix[1], h->matrix[2] };
    struct strbuf b;
    sb_init(&b);
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        if (!wd->n[l])
            continue;
        struct raw_limit *lim = &h->limits[l];
        sb_printf(&b, "%s %s = %" PRId64, b.len ? ";" : "", raw_idx_name[l], wd->lo[l]);
        if (wd->hi[l] != wd->lo[l])
            sb_printf(&b, " to %" PRId64, wd->hi[l]);
        sb_printf(&b, " in %zu acquisition%s (", wd->n[l], wd->n[l] == 1 ? "" : "s");
        int axis = l == VM_LABEL_LIN ? 1 : l == VM_LABEL_PAR ? 2 : 0;
        if (lim->max >= lim->min) {
            sb_printf(&b, "encodingLimits/%s: %d to %d)", raw_limit_name[l], (int)lim->min,
                      (int)lim->max);
            if (wd->lo[l] < lim->min)
                lim->min = (int32_t)wd->lo[l];
            if (wd->hi[l] > lim->max)
                lim->max = (int32_t)wd->hi[l];
            /* a k-space step's grid holds the lines on both sides of the
               declared centre (the recon places line lin at lin - centre
               + n/2) */
            int64_t below = (int64_t)lim->centre - lim->min, above = lim->max - lim->centre + 1;
            int64_t n = 2 * (below > above ? below : above);
            if (axis && n > h->matrix[axis])
                h->matrix[axis] = (int)n;       /* at most 2 x 65536 */
        } else if (axis) {
            sb_printf(&b, "no limit; the encoded matrix's %c is %d)", "xyz"[axis],
                      h->matrix[axis]);
            if (wd->hi[l] >= h->matrix[axis])
                h->matrix[axis] = (int)wd->hi[l] + 1;
        } else {
            sb_printf(&b, "no limit; Larmor's bound is %d)", RAW_COUNTER_BOUND - 1);
        }
    }
    if (wd->nsamples) {
        sb_printf(&b, "%s number_of_samples up to %" PRId64 " in %zu acquisition%s (the encoded "
                  "matrix's x is %d)", b.len ? ";" : "", wd->samples, wd->nsamples,
                  wd->nsamples == 1 ? "" : "s", h->matrix[0]);
    }
    if (!b.len) {
        sb_fini(&b);
        return NULL;
    }
    char *what = sb_take(&b);
    char *msg = xasprintf("%s: the data reaches past what its header declares:%s; accepted as "
                          "asked (--widen-limits): the k-space grid is sized from the data, "
                          "%d x %d x %d instead of the header's %d x %d x %d", file, what,
                          h->matrix[0] > wd->samples ? h->matrix[0] : (int)wd->samples,
                          h->matrix[1], h->matrix[2], m0[0], m0[1], m0[2]);
    free(what);
    return msg;
}
