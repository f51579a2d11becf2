/*
 * pulseq: Pulseq .seq interoperability. The reader turns a .seq file
 * (format 1.2 to 1.5) into a straight-line Larmor program: per [BLOCKS] row
 * a BEGIN, its events, its labels and an END with the block's duration,
 * every instruction's span pointing at the .seq row, so that checks and run
 * errors are reported at the .seq line. The writer plays a program on the
 * VM and writes the blocks it sees as a .seq file (format 1.4 or 1.5),
 * events and shapes deduplicated, shapes compressed, signed with MD5.
 *
 * Units: Pulseq writes RF in Hz and gradients in Hz/m, converted here with
 * Pulseq's own gamma-bar (PULSEQ_GAMMA_BAR) so that a file's numbers mean
 * what its author's toolbox meant.
 */
#ifndef LARMOR_PULSEQ_H
#define LARMOR_PULSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/diag.h"
#include "runtime/system/system.h"
#include "vm/program.h"

#define PULSEQ_GAMMA_BAR 42.576e6   /* Hz/T, as pypulseq and the MATLAB toolbox */

struct pulseq_read_opts {
    bool strict;              /* a signature mismatch is an error, not a warning */
    bool no_derive_lin;       /* keep unlabelled ADCs unlabelled (see pulseq_read.c) */
};

/* Parse the .seq text (len bytes; path names it in diagnostics, where it
   is registered) into a program. NULL with errors in d. */
struct lbc_program *pulseq_read_buf(const char *path, const char *text, size_t len,
                                    const struct pulseq_read_opts *o, struct diag_ctx *d);
/* The same for a file on disk. */
struct lbc_program *pulseq_read_file(const char *path, const struct pulseq_read_opts *o,
                                     struct diag_ctx *d);

/* Whether the [SIGNATURE] of a .seq text is an MD5 that matches its bytes:
   1 matches, 0 differs, -1 no signature. The digest found goes to hex. */
int pulseq_verify_md5(const char *text, size_t len, char found_hex[33]);

enum pulseq_format { PULSEQ_1_4, PULSEQ_1_5 };

struct pulseq_write_opts {
    enum pulseq_format format;
    const char *name;         /* the Name definition (NULL: none) */
};

/* Play p and write it as .seq text into *out (malloc'd, *outlen bytes).
   The program must fit sys's rasters (the writer refuses an event off the
   rasters, or one Pulseq cannot hold, with an error at its span in d,
   whose source files the caller registered; none is read here).
   0 on success, -1 with errors in d. */
int pulseq_write(const struct lbc_program *p, const struct system *sys,
                 const struct pulseq_write_opts *o, char **out, size_t *outlen,
                 struct diag_ctx *d);

#endif
