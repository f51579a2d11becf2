/*
 * rawdata_internal: what the raw-data modules share and no one else sees.
 * The format is one public header (rawdata.h) over five files: rawdata.c
 * (the labels' places in ISMRMRD's counters, the flags from labels),
 * rawdata_write.c (the libismrmrd writer), rawdata_read.c (the checked
 * HDF5 reader), rawdata_check.c (each acquisition against what the header
 * declares) and rawdata_xml.c (the XML header both ways, libxml2).
 * Here: ISMRMRD's units and limits, where each label lives in an
 * acquisition's idx, the checker's and the XML module's interfaces.
 */
#ifndef LARMOR_RAWDATA_INTERNAL_H
#define LARMOR_RAWDATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <ismrmrd/ismrmrd.h>

#include "runtime/io/rawdata.h"

#define RAW_TICK_NS 2500000LL          /* acquisition_time_stamp unit: 2.5 ms */
#define RAW_MAX_COILS (ISMRMRD_CHANNEL_MASKS * 64)
#define RAW_U16_MAX 65535
#define RAW_GROUP "dataset"

/* Where each label lives in ISMRMRD's idx: its byte offset in
   ISMRMRD_EncodingCounters and its member name in the HDF5 compound. */
extern const size_t raw_idx_off[VM_LABEL__COUNT];
extern const char *const raw_idx_name[VM_LABEL__COUNT];
/* The counter of label in c. */
uint16_t *raw_idx_ref(ISMRMRD_EncodingCounters *c, int label);
/* Each label's element in the header's encodingLimits (ISMRMRD spells it
   differently from the idx member: kspace_encoding_step_1). */
extern const char *const raw_limit_name[VM_LABEL__COUNT];

/* An acquisition's counters and sizes as the file stores them, read wider
   than ISMRMRD's uint16 so that a value outside that type is seen rather
   than clamped or wrapped (rawdata_read.c fills it, rawdata_check.c
   judges it). */
struct raw_wide {
    int64_t idx[VM_LABEL__COUNT];   /* by label */
    int64_t samples, channels, centre;  /* number_of_samples, active_channels, center_sample */
};
/* The sizes of acquisition i of file within ISMRMRD's types; 0, or -1
   with a message naming the file, the acquisition and the field. */
int raw_check_sizes(const struct raw_wide *w, const char *file, size_t i, char *err,
                    size_t errlen);
/* What the data holds beyond the header's limits, when the reader was
   asked to accept it (raw_read_opts.widen_limits): per label the range of
   the values past the limit and how many acquisitions carried one, and
   the most samples past the Cartesian matrix's x. */
struct raw_widen {
    int64_t lo[VM_LABEL__COUNT], hi[VM_LABEL__COUNT];
    size_t n[VM_LABEL__COUNT];
    int64_t samples;                /* 0: none past matrix x */
    size_t nsamples;
};
/* Acquisition i of file against what header h declares (its encoding
   limits, matrix, receiver channels; rawdata_check.c has the rules); 0,
   or -1 with a message naming the counter, its value, the limit and the
   fix. With wd (not NULL), a counter past its limit (but within ISMRMRD's
   uint16) and a Cartesian readout past the matrix are recorded in wd
   instead of refused. */
int raw_check_acq(const struct raw_header *h, const struct raw_wide *w, const char *file,
                  size_t i, struct raw_widen *wd, char *err, size_t errlen);
/* Widen h's limits (and matrix x) to cover what wd recorded, and describe
   it (a new string, the warning the caller prints); NULL when wd holds
   nothing. */
char *raw_widen_apply(struct raw_header *h, const struct raw_widen *wd, const char *file);

/* The storage behind a parsed header's pointers (rawdata_xml.c fills it,
   raw_file_free frees it). */
struct rxml_strings {
    char *seq, *sys, *traj;
    char **pnames;
    double *pvals;
};

/* The ISMRMRD XML header of h exactly as given (no defaults filled in; a
   limit with max < min is left out), in the element order of
   schema/ismrmrd.xsd; a new string. */
char *rxml_write(const struct raw_header *h);
/* Parse xml into h (fields absent read as 0 / NULL, limits max < min,
   reconSpace as encoded), its strings into s; 0, or -1 with a message
   naming file in err (s then holds what was parsed so far). */
int rxml_parse(struct raw_header *h, struct rxml_strings *s, const char *xml, const char *file,
               char *err, size_t errlen);
/* Free what s holds (nparams names). */
void rxml_strings_free(struct rxml_strings *s, size_t nparams);

#endif
