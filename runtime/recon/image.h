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

#include "base/labels.h"

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
    bool fft_owned;               /* data came from fft_alloc (image_adopt) */
};

/* A zeroed volume: is_complex, 1 mm voxels, read/phase/slice along x/y/z,
   position 0, nframes zeroed label rows, no sequence name. NULL when a size
   is below 1 or the volume would not fit in memory's address space. */
struct image_vol *image_new(int nx, int ny, int nz, int nframes);
void image_free(struct image_vol *v);
/* A volume whose data is an fft_alloc'd buffer of nx·ny·nz·nframes values,
   taken over (freed by image_free), so that a recon can hand its
   transformed grid over without a copy. NULL (data not taken) on a bad
   size. */
struct image_vol *image_adopt(int nx, int ny, int nz, int nframes, float complex *data);     /* NULL: nothing */

/* PNG (8-bit grey, magnitude).
 * Windowing: the grey level is 255·(|v| - lo)/(hi - lo), rounded to the
 * nearest and clamped. With lo = hi = 0 (auto) lo is 0 and hi the 99.5th
 * percentile of the magnitudes of the whole volume (all slices and frames,
 * so that slices are comparable): linear between the closest ranks, at
 * position 0.995·(n-1) of the n finite magnitudes sorted (NaN and infinite
 * ones left out; NaN is drawn black). An all-zero volume is black. A window
 * given must be finite with lo < hi. o NULL: auto, no mosaic. */
struct png_opts {
    double lo, hi;                /* window; both 0 = auto */
    bool mosaic;                  /* one file: the slices of each frame tiled
                                     in a near-square grid, one row of tiles
                                     per ceil(nz / cols) */
};
/* Writes path itself when the volume has one slice and one frame (or with
   mosaic and one frame); otherwise path's stem with a suffix per file:
   "img.png" -> "img_s000.png", "img_s001.png" (slices),
   "img_f01_s000.png" (frames and slices) or "img_f01.png" (mosaic frames,
   or frames of a single slice). Frames and slices are numbered from 0.
   The stem ends at the last '.' of the file name ("a.b/img" has none and
   gets no extension back).
   Image row 0 (the top) is the smallest y, column 0 the smallest x: with
   the scanner's LPS patient axes (x left, y posterior) an axial slice
   shows as radiologists view it, anterior up and the patient's right on
   the left.
   The names written are appended to *names (an array of malloc'd strings,
   *nnames entries; both may be NULL if not wanted), each once its file is
   complete: after an error, those written before it are listed. */
int img_write_png(const struct image_vol *v, const char *path, const struct png_opts *o,
                  char ***names, size_t *nnames, char *err, size_t errlen);

/* NIfTI-1 single file (.nii): float32 magnitudes, dim = (3 or 4; nx, ny,
   nz, nframes), pixdim in mm, xyzt_units mm and s, qform and sform (code 1,
   scanner-anatomical) mapping voxel indices to the positions above in mm,
   converted from the scanner's LPS patient coordinates (ISMRMRD, DICOM) to
   NIfTI's RAS by negating x and y. The sform is exactly that map; the
   qform's rotation is the directions made orthonormal (Gram-Schmidt, read
   first), with pixdim[0] = qfac = -1 for a left-handed set. dim_info says
   read = x, phase = y, slice = z; pixdim[4] (frame spacing, unknown) is 1.
   Refused: a size past 32767, a voxel size not > 0, directions that do
   not span space. */
int img_write_nifti(const struct image_vol *v, const char *path, char *err, size_t errlen);

/* BART .cfl/.hdr pair: base is the path without extension. Dimensions
   (BART order) x, y, z, then 1 (coils: a combined image) and the frames in
   dimension 10 (BART's TIME_DIM is 10; 5 = MAPS... see bart/src/misc/mri.h):
   the header lists 3 dimensions for one frame, else 11.
   Complex float, as BART stores it. */
int img_write_cfl(const struct image_vol *v, const char *base, char *err, size_t errlen);

/* Generic BART array I/O (also for k-space and sensitivity maps): up to 16
   dimensions (each at least 1), complex float in the host's byte order,
   column-major (first dimension fastest). The header is written as BART
   writes it: "# Dimensions", the ndims sizes each followed by a space. */
int cfl_write(const char *base, int ndims, const long *dims, const float complex *data,
              char *err, size_t errlen);
/* Reads base.hdr and base.cfl; *dims gets 16 entries (1 past ndims);
   *data is malloc'd (NULL on error). A malformed header (line and what is
   wrong) or a .cfl of the wrong size is an error. As BART, the text of
   sections other than "# Dimensions" is skipped and sizes past the 16th
   must be 1; stricter than BART, the sizes are on the one line after
   "# Dimensions" and text before the first '#' line is an error. */
int cfl_read(const char *base, long dims[16], float complex **data, char *err, size_t errlen);

/* ISMRMRD images (libismrmrd): one image per (slice, frame) in group
   "dataset", image series "image_0", data type complex float (or float
   magnitudes when !is_complex), with matrix_size, field_of_view (mm),
   position (mm), read/phase/slice_dir, slice, contrast, phase, repetition,
   set and image_index filled; the XML header written when given (NULL: a
   minimal valid one). Appends to an existing file (so that the images can
   sit next to the raw data) unless truncate.
   Each image is 2D: matrix_size (nx, ny, 1), field_of_view (nx·voxel[0],
   ny·voxel[1], voxel[2]) in mm, position the centre of its slice,
   position + (k - nz/2)·voxel[2]·slice_dir; image_series_index 0 and
   image_index frame·nz + slice + 1 (from 1 in each call); the frames in
   order, the slices of each in order. A file that already holds an XML
   header (raw data) keeps it, xml_header unused. Appending refuses a file
   that is not HDF5 (rather than replace it) and an image_0 series of
   another image size or data type (before writing anything), and creates
   a missing file; it is done in place, not through a temporary. The minimal header has the
   matrix and FOV as encoded and recon space, trajectory "other" and, as
   the schema requires one, an H1 resonance frequency of 0 (unknown).
   Refused: sizes past 65535, more than 65535 images, labels outside
   0..65535. */
int img_write_ismrmrd(const struct image_vol *v, const char *path, const char *xml_header,
                      bool truncate, char *err, size_t errlen);

#endif
