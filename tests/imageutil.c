/*
 * imageutil: the image suites' scratch directory and voxel access (see
 * imageutil.h). It owns im_dir, the one scratch directory of the suite
 * that runs.
 */
#include "tests/imageutil.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "tests/testutil.h"

char im_dir[512];

int im_init(void)
{
    return test_scratch_make(im_dir, sizeof im_dir, "image");
}

void im_clear(void)
{
    test_scratch_clear(im_dir);
}

int im_cleanup(void)
{
    return test_scratch_remove(im_dir);
}

char *im_path(const char *name)
{
    return xasprintf("%s/%s", im_dir, name);
}

bool im_exists(const char *name)
{
    char *p = im_path(name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

/* The number of files in the scratch directory, and whether one of them is
   a writer's temporary. */
int im_count_files(bool *tmp_left)
{
    int n = 0;
    *tmp_left = false;
    DIR *d = opendir(im_dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(e->d_name, ".tmp-"))
            *tmp_left = true;
    }
    closedir(d);
    return n;
}

void im_expect_files(int n)
{
    bool tmp_left;
    CU_ASSERT_EQUAL(im_count_files(&tmp_left), n);
    CU_ASSERT_FALSE(tmp_left);
}

void im_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}


void im_set(struct image_vol *v, int i, int j, int k, int f, float complex x)
{
    v->data[(((size_t)f * v->nz + k) * v->ny + j) * v->nx + i] = x;
}

float complex im_get(const struct image_vol *v, int i, int j, int k, int f)
{
    return v->data[(((size_t)f * v->nz + k) * v->ny + j) * v->nx + i];
}

/* A rotation (columns right-handed) from angles about z, y and x. */
void im_rotation(double R[3][3], double az, double ay, double ax)
{
    double cz = cos(az), sz = sin(az), cy = cos(ay), sy = sin(ay), cx = cos(ax), sx = sin(ax);
    double Z[3][3] = { { cz, -sz, 0 }, { sz, cz, 0 }, { 0, 0, 1 } };
    double Y[3][3] = { { cy, 0, sy }, { 0, 1, 0 }, { -sy, 0, cy } };
    double X[3][3] = { { 1, 0, 0 }, { 0, cx, -sx }, { 0, sx, cx } };
    double ZY[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            ZY[r][c] = 0;
            for (int m = 0; m < 3; m++)
                ZY[r][c] += Z[r][m] * Y[m][c];
        }
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            R[r][c] = 0;
            for (int m = 0; m < 3; m++)
                R[r][c] += ZY[r][m] * X[m][c];
        }
}

void im_orient(struct image_vol *v, double az, double ay, double ax)
{
    double R[3][3];
    im_rotation(R, az, ay, ax);
    for (int a = 0; a < 3; a++) {
        v->read_dir[a] = R[a][0];
        v->phase_dir[a] = R[a][1];
        v->slice_dir[a] = R[a][2];
    }
}

void im_place(struct image_vol *v, const double voxel[3], const double position[3])
{
    for (int a = 0; a < 3; a++) {
        v->voxel[a] = voxel[a];
        v->position[a] = position[a];
    }
}
