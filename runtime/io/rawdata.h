/*
 * rawdata: raw MR data as ISMRMRD (HDF5) files. This is the one module that
 * reads and writes ISMRMRD raw data (runtime/recon/image_ismrmrd.c writes
 * ISMRMRD images); libismrmrd's types never leak. The simulator (and later
 * a hardware driver) writes acquisitions through raw_writer; the recon
 * reads them back through raw_reader. This is its one public header; the
 * module's files are rawdata.c, rawdata_write.c, rawdata_read.c,
 * rawdata_check.c and rawdata_xml.c (see rawdata_internal.h).
 *
 * ISMRMRD conventions followed: the XML header (ismrmrdHeader) with
 * experimentalConditions (H1 resonance frequency), acquisitionSystemInformation
 * (receiver channels, field strength), one encoding (encodedSpace,
 * reconSpace, encodingLimits, trajectory); one acquisition per ADC and coil
 * set, with its idx (kspace_encode_step_1 = lin, _2 = par, slice, contrast =
 * eco, repetition, average, set, segment, phase), flags (first/last in
 * encode step, slice, measurement), sample_time_us, center_sample and
 * acquisition_time_stamp (ticks of 2.5 ms, as Siemens-converted data uses).
 */
#ifndef LARMOR_RAWDATA_H
#define LARMOR_RAWDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"

struct raw_limit { int32_t min, max, centre; };

/* The bound raw_read holds a counter other than the k-space steps to
   (slice, contrast, repetition, average, phase, set, segment: 0 to
   RAW_COUNTER_BOUND - 1) where the header declares no encodingLimits for
   it; the k-space steps are held to the encoded matrix instead. */
#define RAW_COUNTER_BOUND 4096

struct raw_header {
    const char *sequence_name;      /* e.g. "spin_echo" */
    const char *system_name;        /* e.g. "generic_3t" */
    double b0;                      /* T */
    double larmor_hz;               /* H1 resonance frequency */
    int ncoils;
    int matrix[3];                  /* encoded space (readout samples, lines, partitions) */
    double fov[3];                  /* encoded FOV (m) */
    int recon_matrix[3];            /* recon space (readout oversampling removed) */
    double recon_fov[3];
    struct raw_limit limits[VM_LABEL__COUNT];  /* per label; max < min = unused */
    const char *trajectory;         /* "cartesian", "epi", "radial", "spiral", "other" */
    double tr, te, ti;              /* s, 0 = unknown (written when > 0) */
    double flip;                    /* rad, 0 = unknown */
    /* user parameters: written as userParameterDouble */
    const char *const *param_names;
    const double *param_values;
    size_t nparams;
};

/* Acquisition flags (ISMRMRD bit numbers are 1-based: flag n is 1 << (n-1)). */
enum raw_flag {
    RAW_FIRST_IN_ENCODE_STEP1 = 1, RAW_LAST_IN_ENCODE_STEP1 = 2,
    RAW_FIRST_IN_ENCODE_STEP2 = 3, RAW_LAST_IN_ENCODE_STEP2 = 4,
    RAW_FIRST_IN_AVERAGE = 5, RAW_LAST_IN_AVERAGE = 6,
    RAW_FIRST_IN_SLICE = 7, RAW_LAST_IN_SLICE = 8,
    RAW_FIRST_IN_CONTRAST = 9, RAW_LAST_IN_CONTRAST = 10,
    RAW_FIRST_IN_PHASE = 11, RAW_LAST_IN_PHASE = 12,
    RAW_FIRST_IN_REPETITION = 13, RAW_LAST_IN_REPETITION = 14,
    RAW_FIRST_IN_SET = 15, RAW_LAST_IN_SET = 16,
    RAW_FIRST_IN_SEGMENT = 17, RAW_LAST_IN_SEGMENT = 18,
    RAW_IS_NOISE_MEASUREMENT = 19, RAW_IS_PARALLEL_CALIBRATION = 20,
    RAW_IS_REVERSE = 22, RAW_IS_NAVIGATION_DATA = 23, RAW_IS_PHASECORR_DATA = 24,
    RAW_LAST_IN_MEASUREMENT = 25,
};
#define RAW_FLAG(n) (1ull << ((n) - 1))

struct raw_acq {
    uint32_t scan_counter;          /* 0-based ADC index */
    uint32_t samples;
    int ncoils;
    const float *data;              /* interleaved complex: [coil][sample][re,im] */
    double dwell;                   /* s */
    int64_t time_ns;                /* ADC start from the program start */
    int32_t labels[VM_LABEL__COUNT];
    uint64_t flags;                 /* RAW_FLAG(...) bits */
    uint32_t centre_sample;         /* the k-space centre's sample (samples/2) */
    float read_dir[3], phase_dir[3], slice_dir[3], position[3];  /* position in mm */
    float table_position[3];        /* patient table offset (mm); 0 in simulation */
};

struct raw_writer;

/* Create (truncating) path; returns NULL with a message in err on failure.
   The measurement_uid of every acquisition defaults to the FNV-1a hash of
   the file's base name (reproducible); raw_set_measurement_uid overrides it. */
struct raw_writer *raw_open(const char *path, char *err, size_t errlen);
void raw_set_measurement_uid(struct raw_writer *w, uint32_t uid);
/* Append one ADC. Refused (-1, message in err, nothing written) when a
   value does not fit its ISMRMRD field: a label < 0 or > 65535, samples
   outside 1..65535, centre_sample >= samples, ncoils outside 1..1024, a
   dwell that is not > 0, a time before 0 or past 2^32 ticks of 2.5 ms. */
int raw_append(struct raw_writer *w, const struct raw_acq *a, char *err, size_t errlen);
/* Write the header (which may be written last, so that it can describe what
   was acquired) and close. Always closes, even on error; a file closed here
   is a valid ISMRMRD file whatever number of acquisitions it holds.
   h may be NULL (an interrupted run): the header is then derived from the
   acquisitions appended (matrix from the samples and the largest lin/par,
   limits of the labels seen, trajectory "other"). A header with a value
   the schema cannot hold (a matrix size of 0 or past 65535, a limit outside
   0..65535 or min > max, a negative or non-finite time, an unknown
   trajectory) is reported as an error and the derived header is written
   instead. Otherwise h is written as given, except: a zero recon_matrix /
   recon_fov means "as encoded"; the limit of a label is widened to cover
   every value appended (and written for a label h marks unused, max < min,
   when an ADC carried a value other than 0); ncoils 0 means the largest
   ncoils appended. */
int raw_close(struct raw_writer *w, const struct raw_header *h, char *err, size_t errlen);

/* Flags from the label sequence of all ADCs (in playing order): first/last
   in encode step 1/2, slice, contrast, repetition, average, set, segment,
   phase, and last in measurement. flags must hold n entries; each is
   overwritten (OR in IS_REVERSE and the like afterwards). The rules
   (rawdata.c has them in full): a flag pair marks the first and the last
   ADC, in playing order, of each group of ADCs that share a key, where the
   labels nest rep > avg > slc > phs > set > eco > (par, lin, seg):
     REPETITION: rep;  AVERAGE: rep avg;  SLICE: rep avg slc;
     PHASE: rep avg slc phs;  SET: ... phs set;  CONTRAST: ... set eco;
     SEGMENT: rep avg slc phs set eco seg;
     ENCODE_STEP1: every label but lin and seg (one sweep of the lines of
       one partition); ENCODE_STEP2: every label but par and seg (one sweep
       of the partitions of one line);
     LAST_IN_MEASUREMENT: the last ADC.
   So LAST_IN_SLICE is the last ADC of a slice within its average and
   repetition, whether the slices are played one after the other or
   interleaved line by line. */
void raw_flags_from_labels(const int32_t (*labels)[VM_LABEL__COUNT], size_t n, uint64_t *flags);

/* Reading (for the recon, the tests and anyone's files). */
struct raw_file {
    char *xml;                      /* the header as stored */
    struct raw_header hdr;          /* the fields parsed back out of xml that
                                       raw_header has (strings owned here) */
    size_t nacq;
    struct raw_acq *acq;            /* data arrays owned here */
    char *widened;                  /* raw_read_with(widen_limits): what the data holds
                                       past the header's limits, a warning; else NULL */
};
/* Read an ISMRMRD file: the group "dataset" (or, when there is none, the
   one top-level group holding an "xml" header), its XML header and every
   acquisition. Header fields absent from the XML read as 0 / NULL (limits:
   max < min), except a missing reconSpace (as encoded) and receiverChannels
   (the most active channels of an acquisition); userParameterLong values
   are listed with the doubles. Read back, time_ns has the 2.5 ms
   resolution of acquisition_time_stamp and dwell the float precision of
   sample_time_us; trajectories are not read.
   Every acquisition is checked against what the header declares before
   it is kept (rawdata_check.c): its counters within the encodingLimits
   (or, where none is declared, the encoded matrix for the k-space steps
   and RAW_COUNTER_BOUND for the others), its sizes within ISMRMRD's
   types whatever type the file stores them in, its channels within the
   receiverChannels, its centre sample before its last, and in Cartesian
   data its samples within the encoded matrix's x. So a counter never
   sizes anything the header does not cover. A table that declares more
   acquisitions than it has bytes of storage is refused before the list
   is allocated.
   NULL with a message naming the file and what is wrong or missing on any
   error (for an acquisition: its index, the field, its value, the limit
   and the fix); HDF5 prints nothing. Not thread-safe (nor is serial
   HDF5). */
struct raw_file *raw_read(const char *path, char *err, size_t errlen);

/* How raw_read_with reads. widen_limits: a counter past the header's
   encodingLimits (or, where none is declared, past the encoded matrix or
   RAW_COUNTER_BOUND) and a Cartesian readout past the encoded matrix's x
   are accepted, not refused: the header's limits are widened to the data
   and raw_file.widened says what was found (the caller warns). Sizes
   outside ISMRMRD's types, channels past receiverChannels and the other
   rules still refuse. Either way the acquisitions (their list and their
   samples) must fit the memory budget (base/membudget.h). */
struct raw_read_opts {
    bool widen_limits;
};
struct raw_file *raw_read_with(const char *path, const struct raw_read_opts *o, char *err,
                               size_t errlen);
void raw_file_free(struct raw_file *f);

#endif
