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
 */
#ifndef LARMOR_PHANTOM_H
#define LARMOR_PHANTOM_H

#include <stddef.h>

#include "runtime/diag.h"

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
    double vox[3];           /* voxel size (m) on x, y, z: the extent the
                                isochromats of one voxel spread over; 0 on an
                                axis means all spins of a voxel sit at its centre */
    int dims;                /* 2 (one plane, z = 0 extent) or 3 */
};

/* Allocate the arrays for n voxels (zeroed); the name is copied. */
struct phantom *phantom_new(const char *name, size_t n);
void phantom_free(struct phantom *p);

/* The built-in MR Shepp-Logan: 2D (matrix x matrix voxels in the plane z = 0,
   voxel thickness thick_m) or 3D (matrix^3), field of view fov_m (the
   phantom's ellipses scaled so that the head fills it like the published
   definition fills [-1, 1]). Voxels with PD = 0 are left out. */
struct phantom *phantom_shepp_logan(int dims, int matrix, double fov_m, double thick_m);

/* Load a phantom file: by extension .yaml/.yml (a description), .h5 (a
   JEMRIS sample), .phantom (KomaMRI); or the names "shepp-logan" /
   "shepp-logan-3d" (the built-in, at the default matrix 128 / 64 and FOV
   256 mm / 256 mm). Errors are reported into d with file:line:col where the
   format has lines (YAML), else with the file and the dataset or key; returns
   NULL on error. res_m > 0 overrides a YAML description's resolution. */
struct phantom *phantom_load(const char *spec, double res_m, struct diag_ctx *d);

/* Bytes the simulator needs per isochromat (state and properties), so that a
   caller can refuse a phantom x spins-per-voxel too large before allocating. */
size_t phantom_bytes_per_spin(int ncoils);

/* Print a one-paragraph summary (voxels, extent, tissue classes). */
void phantom_describe(const struct phantom *p, FILE *out);

#endif
