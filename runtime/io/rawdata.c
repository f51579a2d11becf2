/*
 * rawdata: raw MR data as ISMRMRD files (HDF5, group "dataset": "xml" holds
 * the header, "data" the acquisitions).
 *
 * Writing goes through libismrmrd's C API (ismrmrd_open_dataset,
 * ismrmrd_append_acquisition, ismrmrd_write_header), so that the HDF5
 * types are exactly the library's. The XML header is produced here as text,
 * in the element order of schema/ismrmrd.xsd (ISMRMRD 1.8).
 *
 * Reading uses checked HDF5 calls rather than ismrmrd_read_*: libismrmrd
 * 1.8 opens the file read-write and creates the group when it is missing
 * (it would modify a foreign file), and ismrmrd_read_acquisition ignores a
 * failed H5Dread and copies as many bytes as the header claims whatever
 * the stored array holds; a malformed file would crash us. The reader
 * opens read-only, checks every type, count and length, and tolerates the
 * layouts of other writers (complex data as a float vlen or as a vlen of
 * {real, imag}; header members missing from older files read as 0).
 * The XML header is parsed by a small tag scanner (no DTDs, no external
 * entities) into a tree that is searched by element path, namespaces
 * ignored.
 *
 * libismrmrd reports errors through a process-wide handler, which this
 * module installs to collect the message for the caller's err buffer; HDF5
 * automatic error printing is switched off around every call here and
 * restored after. Owned here: the writer (its dataset handle and path),
 * and everything a raw_file points to.
 */
#include "runtime/io/rawdata.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/version.h>

#include "runtime/io/h5.h"
#include "base/util.h"

#define RAW_TICK_NS 2500000LL          /* acquisition_time_stamp unit: 2.5 ms */
#define RAW_MAX_COILS (ISMRMRD_CHANNEL_MASKS * 64)
#define RAW_U16_MAX 65535
#define RAW_GROUP "dataset"

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */
/* ---------------------------------------------------------------------- */

/* HDF5's automatic error printing, off while we work. */
struct h5quiet {
    H5E_auto2_t func;
    void *data;
};

static void h5_quiet_begin(struct h5quiet *q)
{
    q->func = NULL;
    q->data = NULL;
    if (H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data) < 0)
        q->func = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_quiet_end(const struct h5quiet *q)
{
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

struct h5detail {
    char *buf;
    size_t len;
};

static herr_t h5_walk_innermost(unsigned n, const H5E_error2_t *e, void *ud)
{
    struct h5detail *d = ud;
    if (n == 0 && e && e->desc)
        snprintf(d->buf, d->len, "%s", e->desc);
    return 0;
}

/* The most specific message of HDF5's current error stack ("" if none). */
static const char *h5_detail(char *buf, size_t len)
{
    struct h5detail d = { buf, len };
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk_innermost, &d);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

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
        snprintf(dst, sizeof raw_sink.lib, "%s", msg ? msg : "unknown error");
}

struct libcall {
    struct h5quiet q;
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
    char h5[256];
    if (!raw_sink.hdf5[0])
        snprintf(raw_sink.hdf5, sizeof raw_sink.hdf5, "%s", h5_detail(h5, sizeof h5));
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
/* Labels and ISMRMRD counters                                             */
/* ---------------------------------------------------------------------- */

/* Where each label lives in ISMRMRD's idx, and its encodingLimits element. */
static const size_t raw_idx_off[VM_LABEL__COUNT] = {
    [VM_LABEL_LIN] = offsetof(ISMRMRD_EncodingCounters, kspace_encode_step_1),
    [VM_LABEL_PAR] = offsetof(ISMRMRD_EncodingCounters, kspace_encode_step_2),
    [VM_LABEL_SLC] = offsetof(ISMRMRD_EncodingCounters, slice),
    [VM_LABEL_ECO] = offsetof(ISMRMRD_EncodingCounters, contrast),
    [VM_LABEL_REP] = offsetof(ISMRMRD_EncodingCounters, repetition),
    [VM_LABEL_AVG] = offsetof(ISMRMRD_EncodingCounters, average),
    [VM_LABEL_SET] = offsetof(ISMRMRD_EncodingCounters, set),
    [VM_LABEL_SEG] = offsetof(ISMRMRD_EncodingCounters, segment),
    [VM_LABEL_PHS] = offsetof(ISMRMRD_EncodingCounters, phase),
};
static const char *const raw_idx_name[VM_LABEL__COUNT] = {
    [VM_LABEL_LIN] = "kspace_encode_step_1", [VM_LABEL_PAR] = "kspace_encode_step_2",
    [VM_LABEL_SLC] = "slice", [VM_LABEL_ECO] = "contrast", [VM_LABEL_REP] = "repetition",
    [VM_LABEL_AVG] = "average", [VM_LABEL_SET] = "set", [VM_LABEL_SEG] = "segment",
    [VM_LABEL_PHS] = "phase",
};
static const char *const raw_limit_name[VM_LABEL__COUNT] = {
    [VM_LABEL_LIN] = "kspace_encoding_step_1", [VM_LABEL_PAR] = "kspace_encoding_step_2",
    [VM_LABEL_SLC] = "slice", [VM_LABEL_ECO] = "contrast", [VM_LABEL_REP] = "repetition",
    [VM_LABEL_AVG] = "average", [VM_LABEL_SET] = "set", [VM_LABEL_SEG] = "segment",
    [VM_LABEL_PHS] = "phase",
};
/* encodingLimits in the schema's order. */
static const int raw_limit_order[VM_LABEL__COUNT] = {
    VM_LABEL_LIN, VM_LABEL_PAR, VM_LABEL_AVG, VM_LABEL_SLC, VM_LABEL_ECO,
    VM_LABEL_PHS, VM_LABEL_REP, VM_LABEL_SET, VM_LABEL_SEG,
};

static uint16_t *idx_ref(ISMRMRD_EncodingCounters *c, int label)
{
    return (uint16_t *)((char *)c + raw_idx_off[label]);
}

static const char *const raw_trajectories[] = {
    "cartesian", "epi", "radial", "goldenangle", "spiral", "other",
};

/* ---------------------------------------------------------------------- */
/* Flags from labels                                                       */
/* ---------------------------------------------------------------------- */

/*
 * The rules. Each flag pair has a key, a set of labels; the ADCs with equal
 * values of the key's labels form a group, and FIRST_IN_x marks the first
 * ADC of each group in playing order, LAST_IN_x the last. The labels nest
 * (outermost first) rep > avg > slc > phs > set > eco > seg, with the
 * k-space counters par and lin inside all of them; a pair's key is its own
 * label and every label outside it:
 *
 *   REPETITION    rep                       one repetition, everything in it
 *   AVERAGE       rep avg                   one average of one repetition
 *   SLICE         rep avg slc               one slice of one average
 *   PHASE         rep avg slc phs
 *   SET           rep avg slc phs set
 *   CONTRAST      rep avg slc phs set eco   one image: the k-space of one echo
 *   SEGMENT       rep avg slc phs set eco seg
 *
 * The encode-step pairs mark the ends of a sweep of one k-space counter,
 * all others fixed (segments are pieces of a sweep, so seg is left out):
 *
 *   ENCODE_STEP1  all labels but lin, seg   the lines of one partition
 *   ENCODE_STEP2  all labels but par, seg   the partitions of one line
 *
 * LAST_IN_MEASUREMENT marks the last ADC. Because groups are sets, not
 * runs, the order of the loops does not matter: with slices interleaved
 * line by line, LAST_IN_SLICE still falls on each slice's last line (a run
 * rule would put it on every ADC). A label a sequence does not use is 0
 * everywhere, so its pair marks the same ADCs as the pair outside it.
 */
struct raw_flagrule {
    unsigned key;                   /* bit l: label l is in the key */
    int first, last;                /* enum raw_flag */
};

#define LB(l) (1u << VM_LABEL_##l)
#define LB_ALL ((1u << VM_LABEL__COUNT) - 1)
static const struct raw_flagrule raw_flagrules[] = {
    { LB(REP), RAW_FIRST_IN_REPETITION, RAW_LAST_IN_REPETITION },
    { LB(REP) | LB(AVG), RAW_FIRST_IN_AVERAGE, RAW_LAST_IN_AVERAGE },
    { LB(REP) | LB(AVG) | LB(SLC), RAW_FIRST_IN_SLICE, RAW_LAST_IN_SLICE },
    { LB(REP) | LB(AVG) | LB(SLC) | LB(PHS), RAW_FIRST_IN_PHASE, RAW_LAST_IN_PHASE },
    { LB(REP) | LB(AVG) | LB(SLC) | LB(PHS) | LB(SET), RAW_FIRST_IN_SET, RAW_LAST_IN_SET },
    { LB(REP) | LB(AVG) | LB(SLC) | LB(PHS) | LB(SET) | LB(ECO),
      RAW_FIRST_IN_CONTRAST, RAW_LAST_IN_CONTRAST },
    { LB(REP) | LB(AVG) | LB(SLC) | LB(PHS) | LB(SET) | LB(ECO) | LB(SEG),
      RAW_FIRST_IN_SEGMENT, RAW_LAST_IN_SEGMENT },
    { LB_ALL & ~(LB(LIN) | LB(SEG)), RAW_FIRST_IN_ENCODE_STEP1, RAW_LAST_IN_ENCODE_STEP1 },
    { LB_ALL & ~(LB(PAR) | LB(SEG)), RAW_FIRST_IN_ENCODE_STEP2, RAW_LAST_IN_ENCODE_STEP2 },
};
#undef LB
#undef LB_ALL

struct raw_fkey {
    int32_t k[VM_LABEL__COUNT];
    size_t i;
};

static int raw_fkey_cmp(const void *pa, const void *pb)
{
    const struct raw_fkey *a = pa, *b = pb;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (a->k[l] != b->k[l])
            return a->k[l] < b->k[l] ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

void raw_flags_from_labels(const int32_t (*labels)[VM_LABEL__COUNT], size_t n, uint64_t *flags)
{
    if (!n)
        return;
    memset(flags, 0, n * sizeof *flags);
    struct raw_fkey *keys = xmalloc(n * sizeof *keys);
    for (size_t r = 0; r < ARRAY_LEN(raw_flagrules); r++) {
        const struct raw_flagrule *rule = &raw_flagrules[r];
        for (size_t i = 0; i < n; i++) {
            for (int l = 0; l < VM_LABEL__COUNT; l++)
                keys[i].k[l] = rule->key & (1u << l) ? labels[i][l] : 0;
            keys[i].i = i;
        }
        qsort(keys, n, sizeof *keys, raw_fkey_cmp);
        for (size_t i = 0; i < n; i++) {
            bool starts = i == 0 || memcmp(keys[i].k, keys[i - 1].k, sizeof keys[i].k) != 0;
            bool ends = i + 1 == n || memcmp(keys[i].k, keys[i + 1].k, sizeof keys[i].k) != 0;
            if (starts)
                flags[keys[i].i] |= RAW_FLAG(rule->first);
            if (ends)
                flags[keys[i].i] |= RAW_FLAG(rule->last);
        }
    }
    flags[n - 1] |= RAW_FLAG(RAW_LAST_IN_MEASUREMENT);
    free(keys);
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                  */
/* ---------------------------------------------------------------------- */

struct raw_writer {
    ISMRMRD_Dataset ds;
    char *path;
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

    /* ismrmrd_open_dataset appends to an existing file: truncate first. */
    struct h5quiet q;
    char detail[256];
    h5_quiet_begin(&q);
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0) {
        h5_detail(detail, sizeof detail);
        h5_quiet_end(&q);
        errf(err, errlen, "%s: cannot create the file: %s", path, detail);
        goto fail_free;
    }
    herr_t st = H5Fclose(fid);
    h5_detail(detail, sizeof detail);
    h5_quiet_end(&q);
    if (st < 0) {
        errf(err, errlen, "%s: cannot create the file: %s", path, detail);
        goto fail_free;
    }

    struct libcall c;
    char msg[600];
    lib_begin(&c);
    int rc = ismrmrd_init_dataset(&w->ds, path, RAW_GROUP);
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
        *idx_ref(&h->idx, l) = (uint16_t)a->labels[l];
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

/* ---- the XML header ---- */

/* Shortest of %.15g, %.16g, %.17g that reads back as v; the schema's
   spellings for the non-finite. */
static void fmt_double(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "INF" : "-INF");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* v * 1000 (m -> mm, s -> ms) rounded to 1e-6 of the new unit, so that
   0.256 m is written "256" and reads back as 0.256. */
static double to_milli(double v)
{
    return fabs(v) < 1e6 ? round(v * 1e9) / 1e6 : v * 1e3;
}

static bool utf8_seq(const unsigned char *s, size_t *adv)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else return false;
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return false;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return false;
    *adv = n + 1;
    return true;
}

/* Text content: the five XML specials escaped; what XML 1.0 cannot hold
   (control characters, invalid UTF-8) written as '?'. */
static void xml_put_text(struct strbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t adv = 1;
        switch (c) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&apos;"); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                sb_putc(b, '?');
            else if (c < 0x80)
                sb_putc(b, (char)c);
            else if (utf8_seq(u, &adv))
                sb_putn(b, (const char *)u, adv);
            else
                sb_putc(b, '?');
        }
        u += adv;
    }
}

static void xml_indent(struct strbuf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        sb_puts(b, "  ");
}

static void xml_open(struct strbuf *b, int depth, const char *tag)
{
    xml_indent(b, depth);
    sb_printf(b, "<%s>\n", tag);
}

static void xml_close(struct strbuf *b, int depth, const char *tag)
{
    xml_indent(b, depth);
    sb_printf(b, "</%s>\n", tag);
}

static void xml_str(struct strbuf *b, int depth, const char *tag, const char *v)
{
    xml_indent(b, depth);
    sb_printf(b, "<%s>", tag);
    xml_put_text(b, v);
    sb_printf(b, "</%s>\n", tag);
}

static void xml_int(struct strbuf *b, int depth, const char *tag, long long v)
{
    xml_indent(b, depth);
    sb_printf(b, "<%s>%lld</%s>\n", tag, v, tag);
}

static void xml_dbl(struct strbuf *b, int depth, const char *tag, double v)
{
    char num[40];
    fmt_double(num, sizeof num, v);
    xml_indent(b, depth);
    sb_printf(b, "<%s>%s</%s>\n", tag, num, tag);
}

static void xml_space(struct strbuf *b, int depth, const char *tag, const int m[3],
                      const double fov[3])
{
    static const char *const ax[3] = { "x", "y", "z" };
    xml_open(b, depth, tag);
    xml_open(b, depth + 1, "matrixSize");
    for (int i = 0; i < 3; i++)
        xml_int(b, depth + 2, ax[i], m[i]);
    xml_close(b, depth + 1, "matrixSize");
    xml_open(b, depth + 1, "fieldOfView_mm");
    for (int i = 0; i < 3; i++)
        xml_dbl(b, depth + 2, ax[i], to_milli(fov[i]));
    xml_close(b, depth + 1, "fieldOfView_mm");
    xml_close(b, depth, tag);
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

/* The header h describes, with the limits widened to the labels seen (see
   raw_close in rawdata.h). */
static char *raw_header_xml(const struct raw_writer *w, const struct raw_header *h)
{
    struct strbuf b;
    sb_init(&b);
    sb_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\" "
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                "xsi:schemaLocation=\"http://www.ismrm.org/ISMRMRD ismrmrd.xsd\">\n");
    xml_int(&b, 1, "version", ISMRMRD_XMLHDR_VERSION);

    xml_open(&b, 1, "measurementInformation");
    xml_str(&b, 2, "patientPosition", "HFS");
    if (h->sequence_name)
        xml_str(&b, 2, "protocolName", h->sequence_name);
    xml_close(&b, 1, "measurementInformation");

    xml_open(&b, 1, "acquisitionSystemInformation");
    xml_str(&b, 2, "systemVendor", "Larmor");
    if (h->system_name)
        xml_str(&b, 2, "systemModel", h->system_name);
    if (h->b0 > 0)
        xml_dbl(&b, 2, "systemFieldStrength_T", h->b0);
    xml_int(&b, 2, "receiverChannels", h->ncoils > 0 ? h->ncoils : w->max_coils);
    xml_close(&b, 1, "acquisitionSystemInformation");

    xml_open(&b, 1, "experimentalConditions");
    xml_int(&b, 2, "H1resonanceFrequency_Hz", llround(h->larmor_hz));
    xml_close(&b, 1, "experimentalConditions");

    xml_open(&b, 1, "encoding");
    int rm[3];
    double rf[3];
    for (int i = 0; i < 3; i++) {
        rm[i] = h->recon_matrix[i] ? h->recon_matrix[i] : h->matrix[i];
        rf[i] = h->recon_fov[i] != 0 ? h->recon_fov[i] : h->fov[i];
    }
    xml_space(&b, 2, "encodedSpace", h->matrix, h->fov);
    xml_space(&b, 2, "reconSpace", rm, rf);
    xml_open(&b, 2, "encodingLimits");
    for (int j = 0; j < VM_LABEL__COUNT; j++) {
        int l = raw_limit_order[j];
        struct raw_limit lim = h->limits[l];
        bool seen = w->seen_max[l] >= 0;
        if (lim.max < lim.min) {
            if (!seen || (w->seen_min[l] == 0 && w->seen_max[l] == 0))
                continue;
            lim.min = w->seen_min[l];
            lim.max = w->seen_max[l];
            lim.centre = l == VM_LABEL_LIN || l == VM_LABEL_PAR
                ? lim.min + (lim.max - lim.min + 1) / 2 : lim.min;
        } else if (seen) {
            if (w->seen_min[l] < lim.min)
                lim.min = w->seen_min[l];
            if (w->seen_max[l] > lim.max)
                lim.max = w->seen_max[l];
        }
        xml_open(&b, 3, raw_limit_name[l]);
        xml_int(&b, 4, "minimum", lim.min);
        xml_int(&b, 4, "maximum", lim.max);
        xml_int(&b, 4, "center", lim.centre);
        xml_close(&b, 3, raw_limit_name[l]);
    }
    xml_close(&b, 2, "encodingLimits");
    xml_str(&b, 2, "trajectory", h->trajectory ? h->trajectory : "other");
    xml_close(&b, 1, "encoding");

    if (h->tr > 0 || h->te > 0 || h->ti > 0 || h->flip > 0) {
        xml_open(&b, 1, "sequenceParameters");
        if (h->tr > 0)
            xml_dbl(&b, 2, "TR", to_milli(h->tr));
        if (h->te > 0)
            xml_dbl(&b, 2, "TE", to_milli(h->te));
        if (h->ti > 0)
            xml_dbl(&b, 2, "TI", to_milli(h->ti));
        if (h->flip > 0)
            xml_dbl(&b, 2, "flipAngle_deg", h->flip * (180.0 / M_PI));
        xml_close(&b, 1, "sequenceParameters");
    }
    if (h->nparams) {
        xml_open(&b, 1, "userParameters");
        for (size_t i = 0; i < h->nparams; i++) {
            xml_open(&b, 2, "userParameterDouble");
            xml_str(&b, 3, "name", h->param_names[i]);
            xml_dbl(&b, 3, "value", h->param_values[i]);
            xml_close(&b, 2, "userParameterDouble");
        }
        xml_close(&b, 1, "userParameters");
    }
    sb_puts(&b, "</ismrmrdHeader>\n");
    return sb_take(&b);
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
    if (rc != ISMRMRD_NOERROR && ret == 0) {
        errf(err, errlen, "%s: XML header: %s", w->path, msg);
        ret = -1;
    }

    lib_begin(&c);
    if (w->ds.fileid > 0)
        h5_close_open_objects(w->ds.fileid);
    rc = ismrmrd_close_dataset(&w->ds);
    lib_end(&c, msg, sizeof msg, "libismrmrd could not close the file");
    if (rc != ISMRMRD_NOERROR && ret == 0) {
        errf(err, errlen, "%s: %s", w->path, msg);
        ret = -1;
    }
    free(xml);
    free(w->path);
    free(w);
    return ret;
}

/* ---------------------------------------------------------------------- */
/* XML reading: a tag scanner into a tree searched by path                 */
/* ---------------------------------------------------------------------- */

struct xnode {
    const char *qname;              /* as written, prefix included */
    const char *name;               /* local name (after the prefix) */
    char *text;                     /* direct character data, entities decoded */
    size_t text_len;
    int parent, child, last, next;  /* -1: none */
};

struct xdoc {
    struct xnode *n;
    size_t nn, cap;
    struct arena ar;
    int root;
};

static void xdoc_fini(struct xdoc *d)
{
    free(d->n);
    arena_fini(&d->ar);
}

static void xml_add_text(struct xdoc *d, int node, const char *s, size_t len)
{
    struct xnode *x = &d->n[node];
    char *t = arena_alloc(&d->ar, x->text_len + len + 1);
    if (x->text_len)
        memcpy(t, x->text, x->text_len);
    memcpy(t + x->text_len, s, len);
    x->text = t;
    x->text_len += len;
}

static size_t utf8_put(char *out, unsigned long cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode character data s[0..len) (entities) and add it to node. */
static int xml_text(struct xdoc *d, int node, const char *s, size_t len, size_t at,
                    char *why, size_t whylen)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '&') {
            out[o++] = s[i++];
            continue;
        }
        const char *semi = memchr(s + i, ';', len - i);
        size_t elen = semi ? (size_t)(semi - (s + i)) - 1 : 0;
        const char *e = s + i + 1;
        static const struct { const char *name; char c; } ents[] = {
            { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
        };
        bool done = false;
        for (size_t k = 0; semi && k < ARRAY_LEN(ents) && !done; k++)
            if (elen == strlen(ents[k].name) && memcmp(e, ents[k].name, elen) == 0) {
                out[o++] = ents[k].c;
                done = true;
            }
        if (!done && semi && elen >= 2 && e[0] == '#') {
            bool hex = e[1] == 'x';
            unsigned long cp = 0;
            size_t j = hex ? 2 : 1;
            bool ok = j < elen;
            for (; ok && j < elen; j++) {
                int dv = hex ? (e[j] >= '0' && e[j] <= '9' ? e[j] - '0'
                                : e[j] >= 'a' && e[j] <= 'f' ? e[j] - 'a' + 10
                                : e[j] >= 'A' && e[j] <= 'F' ? e[j] - 'A' + 10 : -1)
                             : (e[j] >= '0' && e[j] <= '9' ? e[j] - '0' : -1);
                if (dv < 0 || cp > 0x10FFFF)
                    ok = false;
                else
                    cp = cp * (hex ? 16 : 10) + (unsigned long)dv;
            }
            if (ok && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                o += utf8_put(out + o, cp);   /* at most 4 bytes for >= 4 source bytes */
                done = true;
            }
        }
        if (!done) {
            snprintf(why, whylen, "byte %zu: unknown or malformed entity reference", at + i);
            free(out);
            return -1;
        }
        i += elen + 2;
    }
    xml_add_text(d, node, out, o);
    free(out);
    return 0;
}

static bool xml_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse s[0..len) into d. -1 with why on malformed input. */
static int xml_parse(struct xdoc *d, const char *s, size_t len, char *why, size_t whylen)
{
    memset(d, 0, sizeof *d);
    arena_init(&d->ar);
    d->root = -1;
    int cur = -1;
    size_t i = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
#define FAIL(...) do { snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)
    while (i < len) {
        if (s[i] != '<') {
            const char *lt = memchr(s + i, '<', len - i);
            size_t end = lt ? (size_t)(lt - s) : len;
            if (cur >= 0) {
                if (xml_text(d, cur, s + i, end - i, i, why, whylen) < 0)
                    return -1;
            } else {
                for (size_t j = i; j < end; j++)
                    if (!xml_is_space(s[j]))
                        FAIL("byte %zu: text outside the root element", j);
            }
            i = end;
            continue;
        }
        const char *rest = s + i;
        size_t left = len - i;
        if (left >= 2 && rest[1] == '?') {
            const char *e = memmem(rest, left, "?>", 2);
            if (!e)
                FAIL("byte %zu: unterminated <?...?>", i);
            i = (size_t)(e - s) + 2;
        } else if (left >= 4 && memcmp(rest, "<!--", 4) == 0) {
            const char *e = memmem(rest + 4, left - 4, "-->", 3);
            if (!e)
                FAIL("byte %zu: unterminated comment", i);
            i = (size_t)(e - s) + 3;
        } else if (left >= 9 && memcmp(rest, "<![CDATA[", 9) == 0) {
            const char *e = memmem(rest + 9, left - 9, "]]>", 3);
            if (!e)
                FAIL("byte %zu: unterminated CDATA section", i);
            if (cur < 0)
                FAIL("byte %zu: CDATA outside the root element", i);
            xml_add_text(d, cur, rest + 9, (size_t)(e - (rest + 9)));
            i = (size_t)(e - s) + 3;
        } else if (left >= 2 && rest[1] == '!') {
            /* <!DOCTYPE ...> with an optional [internal subset]: skipped */
            int depth = 0;
            char quote = 0;
            size_t j = i + 2;
            for (; j < len; j++) {
                char ch = s[j];
                if (quote) {
                    if (ch == quote)
                        quote = 0;
                } else if (ch == '"' || ch == '\'') {
                    quote = ch;
                } else if (ch == '[') {
                    depth++;
                } else if (ch == ']') {
                    depth--;
                } else if (ch == '>' && depth <= 0) {
                    break;
                }
            }
            if (j >= len)
                FAIL("byte %zu: unterminated <!...> declaration", i);
            i = j + 1;
        } else if (left >= 2 && rest[1] == '/') {
            size_t j = i + 2, n0 = j;
            while (j < len && s[j] != '>' && !xml_is_space(s[j]))
                j++;
            size_t nlen = j - n0;
            while (j < len && xml_is_space(s[j]))
                j++;
            if (j >= len || s[j] != '>')
                FAIL("byte %zu: malformed end tag", i);
            if (cur < 0)
                FAIL("byte %zu: end tag </%.*s> without a start tag", i, (int)(nlen > 60 ? 60 : nlen),
                     s + n0);
            const char *qn = d->n[cur].qname;
            if (strlen(qn) != nlen || memcmp(qn, s + n0, nlen) != 0)
                FAIL("byte %zu: end tag </%.*s> does not close <%s>", i, (int)(nlen > 60 ? 60 : nlen),
                     s + n0, qn);
            cur = d->n[cur].parent;
            i = j + 1;
        } else {
            size_t j = i + 1, n0 = j;
            while (j < len && s[j] != '>' && s[j] != '/' && !xml_is_space(s[j]))
                j++;
            size_t nlen = j - n0;
            if (!nlen)
                FAIL("byte %zu: '<' that starts no tag", i);
            char quote = 0;
            for (; j < len; j++) {
                if (quote) {
                    if (s[j] == quote)
                        quote = 0;
                } else if (s[j] == '"' || s[j] == '\'') {
                    quote = s[j];
                } else if (s[j] == '>') {
                    break;
                }
            }
            if (j >= len)
                FAIL("byte %zu: unterminated start tag <%.*s", i, (int)(nlen > 60 ? 60 : nlen), s + n0);
            bool empty = s[j - 1] == '/' && j - 1 >= n0 + nlen;
            if (cur < 0 && d->root >= 0)
                FAIL("byte %zu: a second root element <%.*s>", i, (int)(nlen > 60 ? 60 : nlen), s + n0);
            if (d->nn >= (size_t)INT32_MAX)
                FAIL("byte %zu: too many elements", i);
            vec_reserve((void **)&d->n, &d->cap, d->nn + 1, sizeof *d->n);
            int id = (int)d->nn++;
            struct xnode *x = &d->n[id];
            x->qname = arena_strndup(&d->ar, s + n0, nlen);
            const char *colon = strrchr(x->qname, ':');
            x->name = colon ? colon + 1 : x->qname;
            x->text = NULL;
            x->text_len = 0;
            x->parent = cur;
            x->child = x->last = x->next = -1;
            if (cur >= 0) {
                if (d->n[cur].last >= 0)
                    d->n[d->n[cur].last].next = id;
                else
                    d->n[cur].child = id;
                d->n[cur].last = id;
            } else {
                d->root = id;
            }
            if (!empty)
                cur = id;
            i = j + 1;
        }
    }
    if (cur >= 0)
        FAIL("unterminated element <%s> at the end of the header", d->n[cur].qname);
    if (d->root < 0)
        FAIL("no root element");
#undef FAIL
    return 0;
}

/* The first child of node named name (local name), or -1. */
static int xml_child(const struct xdoc *d, int node, const char *name)
{
    if (node < 0)
        return -1;
    for (int c = d->n[node].child; c >= 0; c = d->n[c].next)
        if (strcmp(d->n[c].name, name) == 0)
            return c;
    return -1;
}

/* The node at a '/'-separated path below node, or -1. */
static int xml_path(const struct xdoc *d, int node, const char *path)
{
    char part[64];
    while (node >= 0 && *path) {
        const char *sl = strchr(path, '/');
        size_t n = sl ? (size_t)(sl - path) : strlen(path);
        if (n >= sizeof part)
            return -1;
        memcpy(part, path, n);
        part[n] = 0;
        node = xml_child(d, node, part);
        path += n + (sl ? 1 : 0);
    }
    return node;
}

/* A node's text with surrounding white space removed (a new string). */
static char *xml_trimmed(const struct xdoc *d, int node)
{
    const char *t = d->n[node].text ? d->n[node].text : "";
    size_t n = d->n[node].text_len;
    while (n && xml_is_space(*t)) {
        t++;
        n--;
    }
    while (n && xml_is_space(t[n - 1]))
        n--;
    return xstrndup(t, n);
}

/* Reading context for error messages. */
struct xread {
    const struct xdoc *d;
    const char *file;
    char *err;
    size_t errlen;
};

/* Number at path below node into *v: 1 found, 0 absent (or required:
   error), -1 malformed. */
static int xml_num(const struct xread *r, int node, const char *base, const char *path,
                   bool required, bool integer, double *v)
{
    int n = xml_path(r->d, node, path);
    if (n < 0) {
        if (required) {
            errf(r->err, r->errlen, "%s: XML header: <%s/%s> is missing", r->file, base, path);
            return -1;
        }
        return 0;
    }
    char *t = xml_trimmed(r->d, n);
    char *end;
    errno = 0;
    double x = strtod(t, &end);
    bool ok = *t && !*end && errno != ERANGE;
    if (ok && integer)
        ok = isfinite(x) && x == floor(x);
    if (!ok) {
        errf(r->err, r->errlen, "%s: XML header: <%s/%s> holds \"%.40s\", not %s", r->file, base,
                path, t, integer ? "an integer" : "a number");
        free(t);
        return -1;
    }
    free(t);
    *v = x;
    return 1;
}

/* Integer in lo..hi at path, or absent (*v untouched). */
static int xml_int_in(const struct xread *r, int node, const char *base, const char *path,
                      bool required, double lo, double hi, int *v)
{
    double x;
    int k = xml_num(r, node, base, path, required, true, &x);
    if (k <= 0)
        return k;
    if (x < lo || x > hi) {
        errf(r->err, r->errlen, "%s: XML header: <%s/%s> = %.0f is not %.0f to %.0f", r->file,
                base, path, x, lo, hi);
        return -1;
    }
    *v = (int)x;
    return 1;
}

static int xml_string(const struct xread *r, int node, const char *path, char **out)
{
    int n = xml_path(r->d, node, path);
    if (n < 0)
        return 0;
    *out = xml_trimmed(r->d, n);
    return 1;
}

/* raw_file with the storage behind hdr's pointers. */
struct raw_file_priv {
    struct raw_file f;              /* first: raw_file_free casts back */
    char *seq, *sys, *traj;
    char **pnames;
    double *pvals;
};

/* encodedSpace or reconSpace: matrixSize and fieldOfView_mm (mm -> m). */
static int xml_space_read(const struct xread *r, int enc, const char *name, int m[3], double fov[3])
{
    static const char *const ax[3] = { "x", "y", "z" };
    char base[64], p[64];
    snprintf(base, sizeof base, "encoding/%s", name);
    int sp = xml_child(r->d, enc, name);
    if (sp < 0) {
        errf(r->err, r->errlen, "%s: XML header: <%s> is missing", r->file, base);
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "matrixSize/%s", ax[i]);
        if (xml_int_in(r, sp, base, p, true, 0, RAW_U16_MAX, &m[i]) < 0)
            return -1;
        snprintf(p, sizeof p, "fieldOfView_mm/%s", ax[i]);
        double mm;
        if (xml_num(r, sp, base, p, true, false, &mm) < 0)
            return -1;
        fov[i] = mm / 1e3;
    }
    return 0;
}

static int raw_parse_header(struct raw_file_priv *p, const char *file, char *err, size_t errlen)
{
    struct raw_header *h = &p->f.hdr;
    struct xdoc d;
    char why[200];
    int ret = -1;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        h->limits[l] = (struct raw_limit){ 0, -1, 0 };
    if (xml_parse(&d, p->f.xml, strlen(p->f.xml), why, sizeof why) < 0) {
        errf(err, errlen, "%s: XML header is not well-formed: %s", file, why);
        goto out;
    }
    struct xread r = { &d, file, err, errlen };
    int root = d.root;
    if (strcmp(d.n[root].name, "ismrmrdHeader") != 0) {
        errf(err, errlen, "%s: XML header: the root element is <%s>, not <ismrmrdHeader>", file,
                d.n[root].qname);
        goto out;
    }
    int enc = xml_child(&d, root, "encoding");
    if (enc < 0) {
        errf(err, errlen, "%s: XML header: <encoding> is missing", file);
        goto out;
    }
    if (xml_space_read(&r, enc, "encodedSpace", h->matrix, h->fov) < 0)
        goto out;
    if (xml_child(&d, enc, "reconSpace") >= 0) {
        if (xml_space_read(&r, enc, "reconSpace", h->recon_matrix, h->recon_fov) < 0)
            goto out;
    } else {
        memcpy(h->recon_matrix, h->matrix, sizeof h->matrix);
        memcpy(h->recon_fov, h->fov, sizeof h->fov);
    }
    int lims = xml_child(&d, enc, "encodingLimits");
    for (int l = 0; l < VM_LABEL__COUNT && lims >= 0; l++) {
        int ln = xml_child(&d, lims, raw_limit_name[l]);
        if (ln < 0)
            continue;
        char base[80];
        snprintf(base, sizeof base, "encoding/encodingLimits/%s", raw_limit_name[l]);
        int v[3] = { 0, 0, 0 };
        static const char *const part[3] = { "minimum", "maximum", "center" };
        for (int k = 0; k < 3; k++)
            if (xml_int_in(&r, ln, base, part[k], false, 0, RAW_U16_MAX, &v[k]) < 0)
                goto out;
        h->limits[l] = (struct raw_limit){ v[0], v[1], v[2] };
    }
    if (xml_string(&r, enc, "trajectory", &p->traj))
        h->trajectory = p->traj;

    double x;
    int k;
    if ((k = xml_num(&r, root, "ismrmrdHeader", "experimentalConditions/H1resonanceFrequency_Hz",
                     false, false, &x)) < 0)
        goto out;
    if (k)
        h->larmor_hz = x;
    if ((k = xml_num(&r, root, "ismrmrdHeader", "acquisitionSystemInformation/systemFieldStrength_T",
                     false, false, &x)) < 0)
        goto out;
    if (k)
        h->b0 = x;
    if (xml_int_in(&r, root, "ismrmrdHeader", "acquisitionSystemInformation/receiverChannels",
                   false, 0, RAW_U16_MAX, &h->ncoils) < 0)
        goto out;
    if (xml_string(&r, root, "acquisitionSystemInformation/systemModel", &p->sys))
        h->system_name = p->sys;
    if (xml_string(&r, root, "measurementInformation/protocolName", &p->seq))
        h->sequence_name = p->seq;

    static const char *const seqp[4] = { "TR", "TE", "TI", "flipAngle_deg" };
    double *seqv[4] = { &h->tr, &h->te, &h->ti, &h->flip };
    int sp = xml_child(&d, root, "sequenceParameters");
    for (int i = 0; i < 4 && sp >= 0; i++) {
        if ((k = xml_num(&r, sp, "sequenceParameters", seqp[i], false, false, &x)) < 0)
            goto out;
        if (k)
            *seqv[i] = i < 3 ? x / 1e3 : x * (M_PI / 180.0);
    }

    int up = xml_child(&d, root, "userParameters");
    size_t np = 0;
    for (int c = up >= 0 ? d.n[up].child : -1; c >= 0; c = d.n[c].next) {
        bool isd = strcmp(d.n[c].name, "userParameterDouble") == 0;
        bool isl = strcmp(d.n[c].name, "userParameterLong") == 0;
        if (!isd && !isl)
            continue;
        const char *base = isd ? "userParameters/userParameterDouble"
                               : "userParameters/userParameterLong";
        char *name = NULL;
        if (!xml_string(&r, c, "name", &name)) {
            errf(err, errlen, "%s: XML header: <%s> without <name>", file, base);
            goto out;
        }
        if (xml_num(&r, c, base, "value", true, isl, &x) < 0) {
            free(name);
            goto out;
        }
        p->pnames = xrealloc(p->pnames, (np + 1) * sizeof *p->pnames);
        p->pvals = xrealloc(p->pvals, (np + 1) * sizeof *p->pvals);
        p->pnames[np] = name;
        p->pvals[np] = x;
        h->nparams = ++np;          /* raw_file_free frees what is counted */
        h->param_names = (const char *const *)p->pnames;
        h->param_values = p->pvals;
    }
    ret = 0;
out:
    xdoc_fini(&d);
    return ret;
}

/* ---------------------------------------------------------------------- */
/* HDF5 reading                                                            */
/* ---------------------------------------------------------------------- */

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
                    h5_detail(detail, sizeof detail));
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
                    h5_detail(detail, sizeof detail));
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

enum raw_ht { HT_U16, HT_U32, HT_U64, HT_I32, HT_F32 };
struct raw_hfield {
    const char *name;
    size_t off;
    enum raw_ht t;
    int n;                          /* array length; 1: a scalar */
};
#define HF(f, t, n) { #f, offsetof(ISMRMRD_AcquisitionHeader, f), t, n }
static const struct raw_hfield raw_head_fields[] = {
    HF(version, HT_U16, 1), HF(flags, HT_U64, 1), HF(measurement_uid, HT_U32, 1),
    HF(scan_counter, HT_U32, 1), HF(acquisition_time_stamp, HT_U32, 1),
    HF(physiology_time_stamp, HT_U32, ISMRMRD_PHYS_STAMPS),
    HF(number_of_samples, HT_U16, 1), HF(available_channels, HT_U16, 1),
    HF(active_channels, HT_U16, 1), HF(channel_mask, HT_U64, ISMRMRD_CHANNEL_MASKS),
    HF(discard_pre, HT_U16, 1), HF(discard_post, HT_U16, 1), HF(center_sample, HT_U16, 1),
    HF(encoding_space_ref, HT_U16, 1), HF(trajectory_dimensions, HT_U16, 1),
    HF(sample_time_us, HT_F32, 1), HF(position, HT_F32, 3), HF(read_dir, HT_F32, 3),
    HF(phase_dir, HT_F32, 3), HF(slice_dir, HT_F32, 3), HF(patient_table_position, HT_F32, 3),
    HF(user_int, HT_I32, ISMRMRD_USER_INTS), HF(user_float, HT_F32, ISMRMRD_USER_FLOATS),
};
#undef HF

static hid_t raw_native(enum raw_ht t, int n)
{
    hid_t b;
    switch (t) {
    case HT_U16: b = H5T_NATIVE_UINT16; break;
    case HT_U32: b = H5T_NATIVE_UINT32; break;
    case HT_U64: b = H5T_NATIVE_UINT64; break;
    case HT_I32: b = H5T_NATIVE_INT32; break;
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

/* The memory type of the header members the file has (others stay 0). */
static hid_t raw_head_memtype(hid_t fhead, bool *has_sizes)
{
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_AcquisitionHeader));
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
            hid_t midx = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_EncodingCounters));
            herr_t st = midx < 0 ? -1 : 0;
            for (int l = 0; l < VM_LABEL__COUNT && st >= 0; l++)
                if (raw_has_member(fidx, raw_idx_name[l]))
                    st = H5Tinsert(midx, raw_idx_name[l], raw_idx_off[l], H5T_NATIVE_UINT16);
            if (st >= 0 && H5Tget_nmembers(midx) > 0)
                st = H5Tinsert(mt, "idx", offsetof(ISMRMRD_AcquisitionHeader, idx), midx);
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
    ISMRMRD_AcquisitionHeader head;
    hvl_t data;
};

static void raw_acq_from_head(struct raw_acq *a, const ISMRMRD_AcquisitionHeader *h)
{
    a->scan_counter = h->scan_counter;
    a->samples = h->number_of_samples;
    a->ncoils = h->active_channels;
    a->dwell = (double)h->sample_time_us * 1e-6;
    a->time_ns = (int64_t)h->acquisition_time_stamp * RAW_TICK_NS;
    ISMRMRD_EncodingCounters idx = h->idx;
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        a->labels[l] = *idx_ref(&idx, l);
    a->flags = h->flags;
    a->centre_sample = h->center_sample;
    for (int i = 0; i < 3; i++) {
        a->read_dir[i] = h->read_dir[i];
        a->phase_dir[i] = h->phase_dir[i];
        a->slice_dir[i] = h->slice_dir[i];
        a->position[i] = h->position[i];
        a->table_position[i] = h->patient_table_position[i];
    }
}

/* /group/data: every acquisition, checked against its header. */
static int raw_read_acqs(hid_t grp, const char *gname, const char *file, struct raw_file *f,
                         char *err, size_t errlen)
{
    hid_t ds = -1, ft = -1, fhead = -1, fdata = -1, fbase = -1;
    hid_t mhead = -1, mbase = -1, mvlen = -1, mrec = -1, sp = -1, ms = -1;
    struct raw_rec *buf = NULL;
    int ret = -1;
    char detail[256];
    char *re_name = NULL, *im_name = NULL;

    if (H5Lexists(grp, "data", H5P_DEFAULT) <= 0)
        return 0;                   /* closed after zero appends */
    if ((ds = H5Dopen2(grp, "data", H5P_DEFAULT)) < 0) {
        errf(err, errlen, "%s: /%s/data is not a dataset", file, gname);
        goto out;
    }
    ft = H5Dget_type(ds);
    int hi = ft >= 0 && H5Tget_class(ft) == H5T_COMPOUND ? H5Tget_member_index(ft, "head") : -1;
    int di = hi >= 0 ? H5Tget_member_index(ft, "data") : -1;
    if (hi < 0 || di < 0) {
        errf(err, errlen, "%s: /%s/data is not a table of ISMRMRD acquisitions (no head and "
                "data members)", file, gname);
        goto out;
    }
    fhead = H5Tget_member_type(ft, (unsigned)hi);
    fdata = H5Tget_member_type(ft, (unsigned)di);
    if (fhead < 0 || H5Tget_class(fhead) != H5T_COMPOUND || fdata < 0 ||
        H5Tget_class(fdata) != H5T_VLEN || (fbase = H5Tget_super(fdata)) < 0) {
        errf(err, errlen, "%s: /%s/data: head is not a compound or data not a variable-length "
                "array", file, gname);
        goto out;
    }
    bool cplx = false;
    if (H5Tget_class(fbase) == H5T_FLOAT) {
        cplx = false;
        mbase = H5Tcopy(H5T_NATIVE_FLOAT);
    } else if (H5Tget_class(fbase) == H5T_COMPOUND && H5Tget_nmembers(fbase) == 2) {
        hid_t m0 = H5Tget_member_type(fbase, 0), m1 = H5Tget_member_type(fbase, 1);
        bool floats = m0 >= 0 && m1 >= 0 && H5Tget_class(m0) == H5T_FLOAT &&
                      H5Tget_class(m1) == H5T_FLOAT;
        if (m0 >= 0)
            H5Tclose(m0);
        if (m1 >= 0)
            H5Tclose(m1);
        re_name = H5Tget_member_name(fbase, 0);
        im_name = H5Tget_member_name(fbase, 1);
        if (!floats || !re_name || !im_name) {
            errf(err, errlen, "%s: /%s/data: samples of an unknown type", file, gname);
            goto out;
        }
        cplx = true;
        mbase = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
        if (mbase >= 0 && (H5Tinsert(mbase, re_name, 0, H5T_NATIVE_FLOAT) < 0 ||
                           H5Tinsert(mbase, im_name, sizeof(float), H5T_NATIVE_FLOAT) < 0))
            h5close_t(&mbase);
    } else {
        errf(err, errlen, "%s: /%s/data: samples of an unknown type", file, gname);
        goto out;
    }
    bool has_sizes = false;
    mhead = raw_head_memtype(fhead, &has_sizes);
    if (mhead >= 0 && !has_sizes) {
        errf(err, errlen, "%s: /%s/data: the acquisition header has no number_of_samples or "
                "active_channels", file, gname);
        goto out;
    }
    if (mbase >= 0)
        mvlen = H5Tvlen_create(mbase);
    mrec = H5Tcreate(H5T_COMPOUND, sizeof(struct raw_rec));
    if (mhead < 0 || mvlen < 0 || mrec < 0 ||
        H5Tinsert(mrec, "head", offsetof(struct raw_rec, head), mhead) < 0 ||
        H5Tinsert(mrec, "data", offsetof(struct raw_rec, data), mvlen) < 0) {
        errf(err, errlen, "%s: /%s/data: cannot build the memory type: %s", file, gname,
                h5_detail(detail, sizeof detail));
        goto out;
    }

    sp = H5Dget_space(ds);
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
    size_t n = (size_t)dims[0];
    f->acq = xcalloc(n ? n : 1, sizeof *f->acq);
    enum { BLOCK = 64 };
    buf = xmalloc(BLOCK * sizeof *buf);
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        hsize_t start = i0, count = n - i0 < BLOCK ? n - i0 : BLOCK;
        memset(buf, 0, BLOCK * sizeof *buf);
        if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            (ms = H5Screate_simple(1, &count, NULL)) < 0) {
            errf(err, errlen, "%s: /%s/data: cannot select acquisitions %zu..: %s", file, gname,
                    i0, h5_detail(detail, sizeof detail));
            goto out;
        }
        if (H5Dread(ds, mrec, ms, sp, H5P_DEFAULT, buf) < 0) {
            errf(err, errlen, "%s: /%s/data: cannot read acquisitions %zu to %zu: %s", file,
                    gname, i0, i0 + (size_t)count - 1, h5_detail(detail, sizeof detail));
            raw_vlen_reclaim(mrec, ms, buf);
            goto out;
        }
        int bad = 0;
        for (size_t j = 0; j < count && !bad; j++) {
            const struct raw_rec *rec = &buf[j];
            size_t want = 2 * (size_t)rec->head.number_of_samples * rec->head.active_channels;
            size_t have = rec->data.len * (cplx ? 2 : 1);
            if (have != want || (want && !rec->data.p)) {
                errf(err, errlen, "%s: /%s/data: acquisition %zu holds %zu floats of data; its "
                        "header says %u samples x %u channels (%zu floats)", file, gname, i0 + j,
                        have, rec->head.number_of_samples, rec->head.active_channels, want);
                bad = 1;
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
        raw_vlen_reclaim(mrec, ms, buf);
        h5close_s(&ms);
        if (bad)
            goto out;
    }
    for (size_t i = 0; i < f->nacq; i++)
        if (f->acq[i].ncoils > f->hdr.ncoils && f->hdr.ncoils == 0)
            f->hdr.ncoils = f->acq[i].ncoils;
    ret = 0;
out:
    free(buf);
    if (re_name)
        H5free_memory(re_name);
    if (im_name)
        H5free_memory(im_name);
    h5close_s(&ms);
    h5close_s(&sp);
    h5close_t(&mrec);
    h5close_t(&mvlen);
    h5close_t(&mbase);
    h5close_t(&mhead);
    h5close_t(&fbase);
    h5close_t(&fdata);
    h5close_t(&fhead);
    h5close_t(&ft);
    h5close_d(&ds);
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

    struct h5quiet q;
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
                h5_detail(detail, sizeof detail));
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
    if (raw_parse_header(p, path, err, errlen) < 0)
        goto out;
    if (raw_read_acqs(grp, gname, path, f, err, errlen) < 0)
        goto out;
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
    free(p->seq);
    free(p->sys);
    free(p->traj);
    for (size_t i = 0; i < f->hdr.nparams; i++)
        free(p->pnames[i]);
    free(p->pnames);
    free(p->pvals);
    free(p);
}
