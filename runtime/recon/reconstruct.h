/*
 * reconstruct: raw data file in, image files out — the work of `larmor
 * recon` and the last step of `larmor scan`.
 */
#ifndef LARMOR_RECONSTRUCT_H
#define LARMOR_RECONSTRUCT_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime/recon/image.h"
#include "runtime/recon/recon.h"

enum { RECON_FMT_PNG = 1, RECON_FMT_NII = 2, RECON_FMT_CFL = 4, RECON_FMT_H5 = 8 };

struct recon_cli {
    struct recon_opts ro;
    unsigned formats;               /* RECON_FMT_*; 0 = by OUT's extension, or PNG + NIfTI */
    struct png_opts png;
    const char *sens_path;          /* BART cfl base of coil sensitivities */
    const char *kspace_path;        /* write the k-space grid there (BART cfl base) */
    int threads;                    /* FFTW threads, 0 = all cores */
    const char *wisdom;             /* FFTW wisdom file */
    bool quiet;
    bool widen_limits;              /* accept counters past the header's limits, with a
                                       warning (raw_read_opts.widen_limits) */
    /* Hooks (each may be NULL; larmor scan draws its overview with them):
       on_kspace sees the k-space grid before the recon transforms it in
       place, on_image the images once they are written. on_image returns
       0 and may set *written to a malloc'd file name to list with the
       others, or returns -1 with a message in err (the recon fails). */
    void (*on_kspace)(void *ctx, const struct kspace *k);
    int (*on_image)(void *ctx, const struct image_vol *v, char **written, char *err,
                    size_t errlen);
    void *hook_ctx;
};

/* Parse a --format list ("png,nii,cfl,h5"); -1 on an unknown name. */
int recon_parse_formats(const char *s, unsigned *formats);

/* Read raw_path, reconstruct and write to out: a file whose extension
   names the format (.png, .nii, .cfl/.hdr, .h5) or a folder (created)
   that gets image.png, image.nii, image.cfl/.hdr and images.h5 as chosen
   by c->formats. Messages go to log prefixed with "larmor recon: ";
   returns 0 or 1. */
int reconstruct(const char *raw_path, const char *out, const struct recon_cli *c, FILE *log);

#endif
