/*
 * h5: Larmor's wrapper over the HDF5 C API, a small one for the phantom
 * loaders (JEMRIS samples, KomaMRI .phantom files) and the KomaMRI
 * writer. It opens a file read-only (or creates one), asks
 * whether an object or an attribute exists, lists a group, reads a numeric
 * dataset's shape and its values as doubles, reads a string or number
 * attribute, and writes 1-D double datasets, groups and scalar attributes.
 * HDF5's own error printing is switched off (H5Eset_auto2(H5E_DEFAULT,
 * NULL, NULL)) the first time a file is opened: every failure comes back
 * as a sentence in the caller's buffer, with HDF5's innermost reason when
 * it gives one. Dimensions are in HDF5's (C) order, slowest first.
 *
 * It also owns the capture of HDF5's error stack for the modules that call
 * HDF5 (or libismrmrd, which calls HDF5) themselves, runtime/io/rawdata*
 * and runtime/recon/image: h5_quiet_begin/h5_quiet_end silence HDF5's
 * printing for a stretch of calls and restore it, h5_error_detail takes
 * the innermost message HDF5 left.
 */
#ifndef LARMOR_H5_H
#define LARMOR_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H5_MAX_RANK 8

struct h5file;

/* Call first in main, before any HDF5 call: HDF5 is not shut down at exit.
   A file whose close failed (a full disk) stays in HDF5's tables, and
   HDF5 1.10's shutdown closing it again crashes (SIGSEGV in H5F__close_cb,
   or "infinite loop closing library"); every file Larmor opens is closed
   by its own code, so nothing is lost by skipping the shutdown. */
void h5_process_init(void);

/* Open path read-only; NULL with the reason in err if it cannot be read or
   is not an HDF5 file. */
struct h5file *h5_open(const char *path, char *err, size_t errlen);
/* Create path (replacing a file there) for writing; NULL with the reason. */
struct h5file *h5_create(const char *path, char *err, size_t errlen);
/* Close (and, for a created file, flush); 0, or -1 with the reason. */
int h5_close(struct h5file *f, char *err, size_t errlen);
/* Close every dataset, group, datatype and attribute still open in the
   HDF5 file fid (an hid_t: libismrmrd leaves some open on its error
   paths), so that closing the file really closes it. */
void h5_close_open_objects(int64_t fid);

/* HDF5's automatic error printing as it was before h5_quiet_begin (its
   function, in HDF5's own type, and its data). */
struct h5_quiet {
    void (*func)(void);
    void *data;
};
/* Save HDF5's automatic error printing into q and switch it off. */
void h5_quiet_begin(struct h5_quiet *q);
/* Empty HDF5's error stack and restore the printing q saved. */
void h5_quiet_end(const struct h5_quiet *q);
/* The innermost message on HDF5's error stack ("" if none) into buf (len
   bytes, truncated); returns buf and empties the stack. */
const char *h5_error_detail(char *buf, size_t len);

/* HDF5's message desc into buf, shortened when it is one of HDF5's failed
   reads or writes ("file write failed: time = ..., filename = ..., errno =
   28, error message = 'No space left on device', buf = 0x..." becomes "file
   write failed: No space left on device": the rest is debugging detail,
   different on every run). Returns buf. */
const char *h5_condense(char *buf, size_t len, const char *desc);

enum h5_kind { H5_NONE, H5_GROUP, H5_DATASET, H5_OTHER };
/* What the absolute path names: nothing, a group, a dataset or another object. */
enum h5_kind h5_kind(struct h5file *f, const char *path);
/* Whether the object at path has an attribute of that name. */
bool h5_has_attr(struct h5file *f, const char *path, const char *name);
/* The names of a group's members in name order (free with h5_free_names);
   NULL and *n = 0 if path is not a group. */
char **h5_members(struct h5file *f, const char *path, size_t *n);
void h5_free_names(char **names, size_t n);

/* A numeric dataset's rank and dimensions; 0, or -1 with the reason (not a
   dataset, not numbers, rank above H5_MAX_RANK). */
int h5_dims(struct h5file *f, const char *path, int *rank, uint64_t dims[H5_MAX_RANK],
            char *err, size_t errlen);
/* Read a numeric dataset of exactly count elements, converted to double. */
int h5_read_doubles(struct h5file *f, const char *path, double *out, size_t count,
                    char *err, size_t errlen);
/* A numeric attribute with one element, as a double. */
int h5_attr_double(struct h5file *f, const char *path, const char *name, double *out,
                   char *err, size_t errlen);
/* A string attribute (fixed or variable length) as a new heap string. */
int h5_attr_string(struct h5file *f, const char *path, const char *name, char **out,
                   char *err, size_t errlen);

/* Writing: a group (and its parents), a dataset of doubles with rank
   dimensions (C order; parents created), scalar attributes. Names may be
   UTF-8 ("ρ"). */
int h5_write_group(struct h5file *f, const char *path, char *err, size_t errlen);
int h5_write_doubles(struct h5file *f, const char *path, int rank, const uint64_t *dims,
                     const double *v, char *err, size_t errlen);
int h5_write_attr_string(struct h5file *f, const char *path, const char *name,
                         const char *value, char *err, size_t errlen);
int h5_write_attr_int(struct h5file *f, const char *path, const char *name, int64_t value,
                      char *err, size_t errlen);

#endif
