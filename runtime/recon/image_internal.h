/*
 * image_internal: what the image writers share (image.c: the volume, PNG,
 * NIfTI and BART files; image_ismrmrd.c: ISMRMRD images) and no one else
 * sees: the check of a volume before writing, the temporary file that is
 * renamed into place once complete, and the labels and slices of a frame.
 */
#ifndef LARMOR_RECON_IMAGE_INTERNAL_H
#define LARMOR_RECON_IMAGE_INTERNAL_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/recon/image.h"

#define IMG_MM_PER_M 1e3

/* The number of voxels of all frames, or 0 with a message naming file when
   v cannot be written. */
size_t img_check(const struct image_vol *v, const char *file, char *err, size_t errlen);

/* The labels of frame f (zeros when the volume has none). */
const int32_t *img_labels(const struct image_vol *v, int f);
/* Slice k of frame f: ny rows of nx voxels. */
const float complex *img_slice(const struct image_vol *v, int f, int k);

#endif
