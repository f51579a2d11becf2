/*
 * imageutil: what the image suites (test_image.c, test_image_interop.c)
 * share: the scratch directory the files are written to (made by
 * im_init, emptied by im_clear, removed by im_cleanup), paths in it,
 * voxel access to a volume, its placement, and rotations for oblique
 * geometries.
 */
#ifndef LARMOR_TESTS_IMAGEUTIL_H
#define LARMOR_TESTS_IMAGEUTIL_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/recon/image.h"

/* The scratch directory of the running suite. */
extern char im_dir[512];

/* Makes the scratch directory (a suite's init): 0 on success. */
int im_init(void);

/* Removes every file of the scratch directory. */
void im_clear(void);

/* Empties and removes the scratch directory (a suite's cleanup). */
int im_cleanup(void);

/* The path of NAME in the scratch directory; the caller frees it. */
char *im_path(const char *name);

/* Whether NAME exists in the scratch directory. */
bool im_exists(const char *name);

/* The number of files in the scratch directory, and whether one of them is
   a writer's temporary. */
int im_count_files(bool *tmp_left);

/* The scratch directory holds n files, none of them a writer's temporary. */
void im_expect_files(int n);

/* Frees n names and their array. */
void im_free_names(char **names, size_t n);

/* Sets voxel (i, j, k) of frame f. */
void im_set(struct image_vol *v, int i, int j, int k, int f, float complex x);

/* Voxel (i, j, k) of frame f. */
float complex im_get(const struct image_vol *v, int i, int j, int k, int f);

/* A rotation (columns right-handed) from angles about z, y and x. */
void im_rotation(double R[3][3], double az, double ay, double ax);

/* The voxel size (m) and the position (m) of v. */
void im_place(struct image_vol *v, const double voxel[3], const double position[3]);

/* Read, phase and slice directions of v: the columns of im_rotation. */
void im_orient(struct image_vol *v, double az, double ay, double ax);

#endif
