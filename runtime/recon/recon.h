/*
 * recon: Cartesian and EPI reconstruction of ISMRMRD raw data.
 *
 * Two steps, each usable alone:
 *   recon_kspace  places every imaging acquisition's samples on the k-space
 *                 grid by its encoding counters (lin, par, slc, eco, phs,
 *                 rep, set; averages and repeated lines are averaged),
 *                 flipping reversed (EPI) lines and correcting their phase
 *                 from the phase-correction reference lines;
 *   recon_image   Fourier-transforms the grid (fft.h's centred transform),
 *                 fills in partial-Fourier data (zero-filled or POCS),
 *                 removes readout oversampling and combines the coils
 *                 (sum of squares; Roemer with given sensitivities).
 *
 * k-space grid index conventions: sample s of an acquisition whose centre
 * sample is c goes to readout index s − c + Nx/2 (reversed lines:
 * c − s + Nx/2); line lin to lin − centre + Ny/2 where centre is the
 * header's kspace_encode_step_1 centre; the same for par. Samples that fall
 * outside the grid are dropped (and counted).
 */
#ifndef LARMOR_RECON_RECON_H
#define LARMOR_RECON_RECON_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/io/rawdata.h"
#include "runtime/recon/image.h"

enum recon_pf { RECON_PF_ZERO, RECON_PF_POCS };

struct recon_opts {
    enum recon_pf pf;               /* partial Fourier: zero-fill or POCS (default) */
    int pocs_iterations;            /* 0 = 10 */
    bool keep_oversampling;         /* keep the encoded FOV along the readout */
    /* coil sensitivities, x × y × z × coils (BART's layout, as `bart
       ecalib` writes): when given, coils are combined by Roemer's
       formula Σ S*·I / Σ |S|² instead of the sum of squares */
    const float complex *sens;
    long sens_dims[4];
    FILE *log;                      /* notes and warnings; NULL = quiet */
    const char *input;              /* the raw data's name in messages (NULL: none) */
};

struct kspace {
    int nx, ny, nz;                 /* readout, lines, partitions */
    int ncoils, nslices, nframes;
    float complex *data;            /* [frame][slice][coil][z][y][x] (fft_alloc) */
    unsigned char *mask;            /* [frame][slice][z][y][x]: 1 where sampled */
    int lo[3], hi[3];               /* the sampled extent along x, y, z */
    int32_t (*frame_labels)[VM_LABEL__COUNT];   /* eco, phs, rep, set of each frame */
    /* geometry */
    double fov[3];                  /* encoded FOV (m) */
    int recon_matrix[3];
    double recon_fov[3];
    double slice_spacing;           /* m (multi-slice), 0 = unknown */
    double read_dir[3], phase_dir[3], slice_dir[3], position[3];  /* position: m */
    /* what the placement did */
    size_t nused, nskipped, ndropped_samples, nreversed, nphasecorr;
    bool phase_corrected;
};

/* NULL with a message (naming the file's trajectory when it is one Larmor
   cannot reconstruct, or what else is wrong) on error. The grid, its mask
   and the image it will make are checked against the memory budget
   (base/membudget.h) before anything is allocated. */
struct kspace *recon_kspace(const struct raw_file *f, const struct recon_opts *o, char *err,
                            size_t errlen);
void kspace_free(struct kspace *k);

/* Consumes k->data (transformed in place). NULL with a message on error. */
struct image_vol *recon_image(struct kspace *k, const struct recon_opts *o, char *err,
                              size_t errlen);

#endif
