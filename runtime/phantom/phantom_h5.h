/*
 * phantom_h5: the readers of the HDF5 phantom files of JEMRIS and KomaMRI
 * (the KomaMRI writer, phantom_write_koma, is declared in phantom.h).
 * Diagnostics use the codes in phantom.h.
 */
#ifndef LARMOR_PHANTOM_H5_H
#define LARMOR_PHANTOM_H5_H

#include "base/diag.h"
#include "runtime/io/h5.h"
#include "runtime/phantom/phantom.h"

/* Read the JEMRIS sample open as f (its /sample group); path names it in
   messages; res_m > 0 (--res) is refused with a warning. NULL on errors
   (reported). */
struct phantom *phantom_h5_jemris(const char *path, struct h5file *f, double res_m,
                                  struct diag_ctx *d);

/* Read the KomaMRI phantom open as f (both its layouts); as phantom_h5_jemris. */
struct phantom *phantom_h5_koma(const char *path, struct h5file *f, double res_m,
                                struct diag_ctx *d);

#endif
