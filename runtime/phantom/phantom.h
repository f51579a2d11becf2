/*
 * phantom: the objects the virtual scanner images.
 *
 * A phantom is a set of voxels (a regular grid flattened to the voxels with
 * proton density > 0, or a list of points), each with its tissue properties.
 * The simulator (runtime/bloch/) expands every voxel into isochromats: spins
 * spread over the voxel's extent and, where T2* < T2, over a Lorentzian of
 * off-resonances that produces the T2* decay. This module owns phantom
 * descriptions and loaders; it knows nothing of sequences.
 *
 * Sources:
 *   - the built-in MR Shepp-Logan (2D or 3D) with the tissue values of
 *     Gach, Tanase and Boada, "2D & 3D Shepp-Logan phantom standards for MRI",
 *     ICSENG 2008 (T1, T2, PD at 1.5 T);
 *   - YAML descriptions: analytic shapes (ellipse/ellipsoid, box, cylinder,
 *     sphere) with tissue properties, rasterised at a resolution;
 *   - JEMRIS sample files (.h5) and KomaMRI .phantom files.
 * Units inside: SI (m, s, Hz, m^2/s).
 *
 * Coordinates are the scanner's (ISMRMRD, DICOM patient LPS for a head-first
 * supine patient): +x towards the patient's left, +y posterior, +z superior.
 * A grid is centred on the isocentre: the centre of voxel i of n on an axis
 * is at (i - (n - 1)/2) * vox, so n voxels cover exactly [-n*vox/2, n*vox/2].
 *
 * Files: phantom.c (the struct, sampling shapes on a grid, the Shepp-Logan,
 * the summary, phantom_load's dispatch), phantom_load.c (YAML descriptions;
 * its header comment gives the format), phantom_h5.c (the JEMRIS and
 * KomaMRI readers and the KomaMRI writer), runtime/io/h5.c (every HDF5
 * call).
 *
 * Diagnostic codes (W for warnings):
 *   E0800  the phantom cannot be read: no such file, no built-in of that
 *          name, a format Larmor cannot tell
 *   E0801  YAML syntax error
 *   E0802  unknown key, or a key that does not apply here (a sphere's
 *          radii, thickness in a 3D phantom)
 *   E0803  duplicate key
 *   E0804  missing required key
 *   E0805  wrong YAML type (a mapping, sequence or scalar where another is due)
 *   E0806  not a number, or not a whole number
 *   E0807  missing unit
 *   E0808  wrong unit (a unit of another quantity)
 *   E0809  unknown unit
 *   E0810  value out of range (a T1 of zero, a negative radius)
 *   E0811  values that contradict each other (t2star > t2, t2 > 2 t1,
 *          both resolution and matrix, a matrix and --res)
 *   E0812  unknown tissue
 *   E0813  unknown shape, or an unknown choice (a cylinder's axis)
 *   E0814  the phantom has no voxel with signal
 *   E0815  too many voxels (more than 2^31)
 *   E0816  YAML this loader does not take (two documents, an alias
 *          without its anchor, deep nesting, a file over 1 MiB)
 *   E0817  a list with the wrong number of values
 *   E0818  a 2D shape in a 3D phantom
 *   E0820  an HDF5 file that cannot be opened
 *   E0821  a dataset or attribute missing from an HDF5 phantom
 *   E0822  a dataset of the wrong shape or type
 *   E0823  values that make no sense (NaN, a negative T1), or a voxel past
 *          the physical ranges of PHANTOM_MAX_POS_M and the rest (phantom_vet)
 *   E0824  content Larmor does not read (a JEMRIS spin list or multi-pool
 *          sample, a KomaMRI property that changes with time)
 *   W0825  KomaMRI motion ignored
 *   W0826  an object that decides no voxel; a tissue no object uses
 *   W0827  a field of view that is not a whole number of voxels
 *   W0828  --res ignored (the file has its own grid)
 *   W0829  a value adjusted or skipped on reading (anisotropic diffusion
 *          averaged, negative densities left out, an unknown KomaMRI
 *          property ignored)
 */
#ifndef LARMOR_PHANTOM_H
#define LARMOR_PHANTOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"

struct phantom {
    char *name;
    size_t n;                /* voxels */
    /* structure of arrays, n entries each (float: the simulator's precision) */
    float *x, *y, *z;        /* voxel centre (m), scanner coordinates */
    float *pd;               /* proton density, relative (the largest is ~1) */
    float *t1, *t2;          /* s (> 0; INFINITY allowed for "no relaxation") */
    float *t2s;              /* T2* (s), <= t2; equal to t2 when no extra spread */
    float *df;               /* off-resonance (Hz): ΔB0 plus chemical shift */
    float *dc;               /* diffusion coefficient (m^2/s), 0 when none */
    float *cs_ppm;           /* chemical shift (ppm, relative to water) that depends
                                on B0, or NULL when no voxel has one: the simulator
                                adds gamma * B0 * cs_ppm * 1e-6 (Hz) to df. df holds
                                shifts given in Hz; a YAML chemical_shift in ppm
                                lands here (fat: -3.4) */
    double vox[3];           /* voxel size (m) on x, y, z: the extent the
                                isochromats of one voxel spread over; 0 on an
                                axis means all spins of a voxel sit at its centre */
    int dims;                /* 2 (one plane, z = 0 extent) or 3 */
    int grid[3];             /* the grid the voxels were sampled from (voxels on
                                x, y, z before the empty ones were left out);
                                0 0 0 for a list of points (a KomaMRI phantom) */
};

/* Allocate the arrays for n voxels (zeroed; cs_ppm stays NULL); the name
   is copied. */
struct phantom *phantom_new(const char *name, size_t n);
void phantom_free(struct phantom *p);

/* The longest name a phantom file may give itself (bytes). */
#define PHANTOM_MAX_NAME 200

/* A file's name without folder and extension, the name of a phantom
   whose file gives none (the caller frees it). */
char *phantom_stem(const char *path);

/* The built-in MR Shepp-Logan: 2D (matrix x matrix voxels in the plane z = 0,
   voxel thickness thick_m) or 3D (matrix^3), field of view fov_m (the
   phantom's ellipses scaled so that the head fills it like the published
   definition fills [-1, 1]). Voxels with PD = 0 are left out. NULL if the
   matrix is not in 1 .. PHANTOM_MAX_VOXELS (use phantom_grid_check first
   for a message). */
struct phantom *phantom_shepp_logan(int dims, int matrix, double fov_m, double thick_m);

/* The physical ranges every loaded voxel is held to, whatever its format
   (the YAML reader's own limits are the same or tighter): a value past
   them is a mistake in the file, and some would not survive the float the
   simulator keeps (1e300 m becomes -inf, a T1 of 1e-50 s becomes 0). */
#define PHANTOM_MAX_POS_M 10.0      /* |x|, |y|, |z| (the YAML centre bound) */
#define PHANTOM_MAX_PD 1e30         /* PD > 0 and at most this */
#define PHANTOM_MIN_TIME_S 1e-9     /* T1, T2, T2*: at least 1 ns (or infinite) */
#define PHANTOM_MAX_DF_HZ 1e7       /* |off-resonance| */
#define PHANTOM_MAX_DC 1e-7         /* m^2/s (free water: 3e-9) */
#define PHANTOM_MAX_PPM 1e3         /* |chemical shift| */

/* Hold every voxel of p to the ranges above after loading (phantom_load
   and phantom_load_text call it): p, or NULL with E0823 naming the voxel,
   its position, the property, its value and the range (p is freed). */
struct phantom *phantom_vet(struct phantom *p, const char *path, struct diag_ctx *d);

/* Load a phantom file: by extension .yaml/.yml (a description), .h5 (a
   JEMRIS sample), .phantom (KomaMRI); or the names "shepp-logan" /
   "shepp-logan-3d" (the built-in, at the default matrix 128 / 64 and FOV
   256 mm / 256 mm; "shepp-logan:N" and "shepp-logan-3d:N" set the matrix).
   Errors are reported into d with file:line:col where the format has lines
   (YAML), else with the file and the dataset or key; returns NULL on error.
   res_m > 0 overrides a YAML description's resolution (and sets the
   built-in's matrix to FOV / res_m). */
struct phantom *phantom_load(const char *spec, double res_m, struct diag_ctx *d);

/* Load a YAML phantom description held in memory; path names it in
   diagnostics and gives the default name. */
struct phantom *phantom_load_text(const char *path, const char *text, size_t len,
                                  double res_m, struct diag_ctx *d);

/* Write p as a KomaMRI .phantom file (HDF5: the attributes Version, Name,
   Ns, Dims; /position/x,y,z in m; /contrast/ρ, T1, T2, T2s in s, Δw in
   rad/s with the chemical shift converted at b0_T, and Dλ1, Dλ2 = D, Dθ = 0
   when any voxel diffuses). Returns 0, or -1 with the reason in err. */
int phantom_write_koma(const struct phantom *p, const char *path, double b0_T, char *err,
                       size_t errlen);

/* Bytes the simulator needs per isochromat (state and properties), so that a
   caller can refuse a phantom x spins-per-voxel too large before allocating. */
size_t phantom_bytes_per_spin(int ncoils);

/* Print a one-paragraph summary (voxels, extent, tissue classes). */
void phantom_describe(const struct phantom *p, FILE *out);

/* ---- sampling analytic shapes on a grid (the YAML loader, Shepp-Logan) */

/* The most voxels a grid may have (before the empty ones are left out). */
#define PHANTOM_MAX_VOXELS ((uint64_t)1 << 31)

/* Whether an nx x ny x nz grid is within PHANTOM_MAX_VOXELS; if not, a
   sentence giving its size and the memory it would need goes into msg. */
bool phantom_grid_check(uint64_t nx, uint64_t ny, uint64_t nz, char *msg, size_t msglen);

/* The memory a phantom of nx x ny x nz voxels may take (its property
   arrays for every voxel, plus extra bytes the reader needs) against the
   memory budget (base/membudget.h): NULL when it fits, else the error
   E0830 reported to d at span, naming input and the grid, with help
   (coarser, smaller, or a larger budget). */
struct diag *phantom_budget_check(struct diag_ctx *d, struct span span, const char *input,
                                  uint64_t nx, uint64_t ny, uint64_t nz, size_t extra);

struct phantom_tissue {
    double pd;               /* relative */
    double t1, t2, t2s;      /* s */
    double df;               /* Hz */
    double cs_ppm;           /* ppm (converted by the simulator at its B0) */
    double dc;               /* m^2/s */
};

enum phantom_shape_kind { PHANTOM_ELLIPSOID, PHANTOM_BOX, PHANTOM_CYLINDER };

struct phantom_shape {
    enum phantom_shape_kind kind;
    double centre[3];        /* m */
    double half[3];          /* half extents along the shape's own axes (m):
                                semi-axes, half edges; a cylinder's radius in
                                half[0] and half[1], half its length in half[2].
                                INFINITY leaves an axis unbounded (2D shapes) */
    double axes[3][3];       /* the shape's own unit axes in scanner coordinates,
                                one per row; a cylinder's axis is axes[2] */
    int tissue;              /* index into the tissue table; its properties
                                replace those of earlier shapes */
};

/* Set axes to the rotation by angle_rad about z (counter-clockwise from +x
   towards +y) of the frame whose third axis is x (axis 0), y (1) or z (2). */
void phantom_shape_orient(struct phantom_shape *s, int axis, double angle_rad);

/* Sample the shapes at the centres of an n[0] x n[1] x n[2] grid of voxels
   of size vox (for dims 2, n[2] = 1 and the plane is z = 0; vox[2] is the
   slice thickness): each voxel takes the tissue of the last shape that
   holds its centre, or background (-1: none); voxels whose PD is 0 are
   left out. hits (nshapes entries, may be NULL) receives, per shape, the
   voxels it decided. The result may have n = 0. */
struct phantom *phantom_sample(const char *name, int dims, const int n[3], const double vox[3],
                               const struct phantom_shape *shapes, size_t nshapes,
                               const struct phantom_tissue *tissues, int background,
                               size_t *hits);

#endif
