/*
 * image: a reconstructed image volume and the files it is written to.
 *
 * A volume is nx × ny × nz voxels (x fastest) times nframes frames (one per
 * combination of contrast, phase, repetition and set). x is the readout
 * direction, y the phase-encoding direction, z the partition (3D) or the
 * slice (multi-slice 2D) direction. Voxel (i, j, k) of a frame has its centre
 * at
 *     position + (i - nx/2)·voxel[0]·read_dir
 *              + (j - ny/2)·voxel[1]·phase_dir
 *              + (k - nz/2)·voxel[2]·slice_dir          (integer division)
 * in the scanner's patient coordinates (metres): index nx/2 is the centre
 * of the field of view, as in a centred FFT.
 *
 * Writers (img_write_*): each returns 0, or -1 with a message naming the
 * file and what went wrong in err. They never leave a half-written file
 * under the final name.
 */
#ifndef LARMOR_RECON_IMAGE_H
#define LARMOR_RECON_IMAGE_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/program.h"   /* VM_LABEL__COUNT */

struct image_vol {
    int nx, ny, nz, nframes;
    float complex *data;          /* [frame][z][y][x] */
    bool is_complex;              /* false: data holds magnitudes (imag 0),
                                     e.g. after a sum-of-squares combination */
    double voxel[3];              /* m */
    double read_dir[3], phase_dir[3], slice_dir[3];  /* unit vectors */
    double position[3];           /* centre of the FOV (m) */
    /* the labels of each frame (eco, phs, rep, set; the others 0) */
    int32_t (*frame_labels)[VM_LABEL__COUNT];
    const char *sequence_name;    /* may be NULL */
};

struct image_vol *image_new(int nx, int ny, int nz, int nframes);
void image_free(struct image_vol *v);

/* PNG (8-bit grey, magnitude).
 * Windowing: the grey level is 255·(|v| - lo)/(hi - lo), clamped. With
 * lo = hi = 0 (auto) lo is 0 and hi the 99.5th percentile of the
 * magnitudes of the whole volume (all slices and frames, so that slices
 * are comparable). */
struct png_opts {
    double lo, hi;                /* window; both 0 = auto */
    bool mosaic;                  /* one file: the slices of each frame tiled
                                     in a near-square grid, one row of tiles
                                     per ceil(nz / cols) */
};
/* Writes path itself when the volume has one slice and one frame (or with
   mosaic and one frame); otherwise path's stem with a suffix per file:
   "img.png" -> "img_s000.png", "img_s001.png" (slices),
   "img_f01_s000.png" (frames and slices) or "img_f01.png" (mosaic frames).
   Image row 0 (the top) is the largest y; column 0 the smallest x.
   The names written are appended to *names (an array of malloc'd strings,
   *nnames entries; both may be NULL if not wanted). */
int img_write_png(const struct image_vol *v, const char *path, const struct png_opts *o,
                  char ***names, size_t *nnames, char *err, size_t errlen);

/* NIfTI-1 single file (.nii): float32 magnitudes, dim = (3 or 4; nx, ny,
   nz, nframes), pixdim in mm, xyzt_units mm and s, qform and sform (code 1,
   scanner-anatomical) mapping voxel indices to the positions above in mm,
   converted from the scanner's LPS patient coordinates (ISMRMRD, DICOM) to
   NIfTI's RAS by negating x and y. */
int img_write_nifti(const struct image_vol *v, const char *path, char *err, size_t errlen);

/* BART .cfl/.hdr pair: base is the path without extension. Dimensions
   (BART order) x, y, z, then 1 (coils: a combined image) and the frames in
   dimension 10 (BART's TIME_DIM is 10; 5 = MAPS... see bart/src/misc/mri.h).
   Complex float, as BART stores it. */
int img_write_cfl(const struct image_vol *v, const char *base, char *err, size_t errlen);

/* Generic BART array I/O (also for k-space and sensitivity maps): up to 16
   dimensions, complex float, column-major (first dimension fastest). */
int cfl_write(const char *base, int ndims, const long *dims, const float complex *data,
              char *err, size_t errlen);
/* Reads base.hdr and base.cfl; *dims gets 16 entries (1 past ndims);
   *data is malloc'd. A malformed header (line and what is wrong) or a .cfl
   of the wrong size is an error. */
int cfl_read(const char *base, long dims[16], float complex **data, char *err, size_t errlen);

/* ISMRMRD images (libismrmrd): one image per (slice, frame) in group
   "dataset", image series "image_0", data type complex float (or float when
   !is_complex), with matrix_size, field_of_view (mm), position (mm),
   read/phase/slice_dir, slice, contrast, phase, repetition, set and
   image_index filled; the XML header written when given (NULL: a minimal
   valid one). Appends to an existing file (so that the images can sit next
   to the raw data) unless truncate. */
int img_write_ismrmrd(const struct image_vol *v, const char *path, const char *xml_header,
                      bool truncate, char *err, size_t errlen);

#endif
