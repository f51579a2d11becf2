/*
 * rawdata: raw MR data as ISMRMRD files (HDF5, group "dataset": "xml" holds
 * the header, "data" the acquisitions). See rawdata.h for the contract and
 * rawdata_internal.h for how the module is laid out: writing is in
 * rawdata_write.c, reading in rawdata_read.c, the XML header in
 * rawdata_xml.c.
 *
 * This file owns what writer and reader share: where each of Larmor's
 * labels lives in an acquisition's ISMRMRD counters (idx) and in the
 * header's encodingLimits, and the rules
 * that derive the acquisition flags from the labels.
 */
#include "runtime/io/rawdata_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---------------------------------------------------------------------- */
/* Labels and ISMRMRD counters                                             */
/* ---------------------------------------------------------------------- */

/* Where each label lives in ISMRMRD's idx. */
const size_t raw_idx_off[VM_LABEL__COUNT] = {
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
const char *const raw_idx_name[VM_LABEL__COUNT] = {
    [VM_LABEL_LIN] = "kspace_encode_step_1", [VM_LABEL_PAR] = "kspace_encode_step_2",
    [VM_LABEL_SLC] = "slice", [VM_LABEL_ECO] = "contrast", [VM_LABEL_REP] = "repetition",
    [VM_LABEL_AVG] = "average", [VM_LABEL_SET] = "set", [VM_LABEL_SEG] = "segment",
    [VM_LABEL_PHS] = "phase",
};

/* Each label's element in encodingLimits. */
const char *const raw_limit_name[VM_LABEL__COUNT] = {
    [VM_LABEL_LIN] = "kspace_encoding_step_1", [VM_LABEL_PAR] = "kspace_encoding_step_2",
    [VM_LABEL_SLC] = "slice", [VM_LABEL_ECO] = "contrast", [VM_LABEL_REP] = "repetition",
    [VM_LABEL_AVG] = "average", [VM_LABEL_SET] = "set", [VM_LABEL_SEG] = "segment",
    [VM_LABEL_PHS] = "phase",
};

uint16_t *raw_idx_ref(ISMRMRD_EncodingCounters *c, int label)
{
    return (uint16_t *)((char *)c + raw_idx_off[label]);
}

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
