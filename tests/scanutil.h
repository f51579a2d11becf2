/*
 * scanutil: end-to-end scans for the CUnit suites: compile a sequence from
 * sequences/, simulate it on a phantom, reconstruct it; then compare the
 * image with the phantom (edges, per-tissue means against closed-form
 * signals).
 */
#ifndef LARMOR_SCANUTIL_H
#define LARMOR_SCANUTIL_H

#include <stdbool.h>

#include "runtime/check/check.h"
#include "base/diag.h"
#include "runtime/phantom/phantom.h"
#include "runtime/recon/image.h"
#include "runtime/system/system.h"

/* What a scan may change from `larmor scan`'s defaults (built-in generic
   3 T system, ideal spoiling, no diffusion, one spin per voxel). */
struct scan_opts {
    const char *system;      /* a shipped system's name (NULL: the built-in default) */
    bool diffusion;          /* the random walk where the phantom gives D > 0 */
    int spins;               /* isochromats per voxel along x and y (0: the default) */
    bool no_ideal_spoiling;
};

/* The shipped system NAME (stdlib/systems/NAME.yaml) into *sys; prints
   the diagnostics when it does not load. Returns 0 on success. */
int load_system(const char *name, struct system *sys);

/* The path of sequences/NAME.psq (or of NAME when it holds a '/'); the
   caller frees it. */
char *sequence_path(const char *name);

/* Compile sequences/NAME.psq (see sequence_path) with defines for sys,
   diagnostics into d; *ck (when ck is not NULL) gets the dry run's check.
   Returns the program, or NULL with errors in d. */
struct lbc_program *compile_sequence(const char *name, const char **defines, int ndefines,
                                     const struct system *sys, struct check **ck,
                                     struct diag_ctx *d);

/* sequences/NAME.psq with defines, on ph: the image (fatal CUnit failure on
   any error). The raw data goes to a scratch folder that is removed. */
struct image_vol *scan_sequence(const char *name, const char **defines, int ndefines,
                                const struct phantom *ph, const struct scan_opts *so);

/* Tissues are the phantom's distinct (T1, T2, PD) triples. */
struct tissue { double t1, t2, pd, dc, sum; int n; };

/* The phantom's voxels on the image's grid (slice 0): tissue index per
   voxel, -1 where there is none; t gets up to 16 tissues, *nt their count. */
int *tissue_map(const struct phantom *ph, const struct image_vol *v, struct tissue *t, int *nt);

/* Every row and column through the middle 80 % of the object: the first
   and last voxel above frac times the 99th-percentile level lie within
   `tol` voxels of the phantom's first and last voxel. frac is half the
   outer tissue's (the scalp's) share of the brightest: 0.5 where the scalp
   is among the brightest tissues. */
void expect_geometry(const struct image_vol *v, const int *map, int tol, double frac);

/* The image is nx x ny and its edges are the phantom's (expect_geometry
   within 1 voxel, at frac); returns the tissue map (tissue_map: t and *nt
   filled), the caller frees it. */
int *expect_image_of(const struct phantom *ph, const struct image_vol *v, int nx, int ny,
                     double frac, struct tissue *t, int *nt);

/* Whether voxel (i, j) of an nx x ny tissue map lies in the core of its
   tissue: every voxel within r along x and y (a (2r+1)² square) is that
   tissue. */
bool tissue_core(const int *map, int nx, int ny, int i, int j, int r);

/* The mean |I| over each tissue's core (voxels whose 5 x 5 neighbourhood
   is all that tissue) of slice/frame `plane` (z-slices of frame 0 first). */
void tissue_means(const struct image_vol *v, size_t plane, const int *map, struct tissue *t,
                  int nt);

/* The means against the closed-form signal s[c] of each tissue with at
   least 10 core voxels: each within rel_tol after one common scale, and
   in the same order wherever the expected signals differ by 20 %; at
   least two tissues must have cores. */
void expect_contrast(const char *what, const struct tissue *t, int nt, const double *s,
                     double rel_tol);

/* The built-in Shepp-Logan (2D) on a grid of res_m (0: its default, 2 mm),
   fatal on failure. */
struct phantom *shepp_logan_2d(double res_m);

#endif
