/*
 * test_sequences: CUnit suite "sequences": every sequence in sequences/
 * passes the checks on each shipped system its `# systems:` line names,
 * and each is scanned end to end (compiled, simulated on a phantom,
 * reconstructed) with a property of its image asserted against
 * closed-form physics, each with its tolerance stated at the test:
 *   spin_echo           T2-weighted: edges; tissue means vs the SE signal
 *   gradient_echo       T1-weighted FLASH: edges; means vs the approach to
 *                       the Ernst steady state
 *   epi                 single shot: edges (no N/2 ghost); T2 contrast
 *   inversion_recovery  white matter nulled at TI = T1 ln 2; the others vs
 *                       the steady-state IR signal
 *   turbo_spin_echo     effective-TE T2 contrast, T1 through the train
 *   bssfp               dark bands at ±1/(2 TR) on a field map; the profile
 *                       vs the closed-form steady state
 *   gre3d               3D: edges in two planes; Ernst contrast
 *   diffusion_se        S(1000)/S(0) per tissue against e^{-bD}, b from the
 *                       check backend (see test_diffusion_se)
 * Tissue means are over each tissue's core, away from edges, where Gibbs
 * ringing is small; measured agreements are given at each test.
 */
#include <CUnit/CUnit.h>
#include <complex.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "runtime/check/check.h"
#include "base/diag.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "tests/scanutil.h"
#include "tests/testutil.h"

int register_sequences_tests(void);

static void test_spin_echo(void)
{
    struct phantom *ph = shepp_logan_2d(0);
    /* T2-weighted: TR 3 s, TE 80 ms */
    const char *defs[] = { "tr=3s", "te=80ms" };
    struct image_vol *v = scan_sequence("spin_echo", defs, 2, ph, NULL);
    struct tissue t[16];
    int nt;
    int *map = expect_image_of(ph, v, 128, 128, 0.5, t, &nt);
    tissue_means(v, 0, map, t, nt);
    double s[16], TR = 3, TE = 0.08;
    for (int c = 0; c < nt; c++)
        s[c] = t[c].pd * (1 - 2 * exp(-(TR - TE / 2) / t[c].t1) + exp(-TR / t[c].t1)) *
               exp(-TE / t[c].t2);
    expect_contrast("spin echo", t, nt, s, 0.02);
    free(map);
    image_free(v);
    phantom_free(ph);
}

static void test_gradient_echo(void)
{
    struct phantom *ph = shepp_logan_2d(0);
    /* T1-weighted FLASH: TR 15 ms, TE 6 ms, 15 degrees (the defaults) */
    struct image_vol *v = scan_sequence("gradient_echo", NULL, 0, ph, NULL);
    struct tissue t[16];
    int nt;
    int *map = tissue_map(ph, v, t, &nt);
    expect_geometry(v, map, 1, 0.5);
    tissue_means(v, 0, map, t, nt);
    /* spoiled: Mz before excitation n is Mss + (1 − Mss)(E1 cos α)^n, the
       k-space centre is line 64; S = PD sin α Mz e^{−TE/T2} */
    double s[16], TR = 0.015, TE = 0.006, al = 15 * M_PI / 180;
    for (int c = 0; c < nt; c++) {
        double E1 = exp(-TR / t[c].t1);
        double mss = (1 - E1) / (1 - cos(al) * E1);
        double mz = mss + (1 - mss) * pow(E1 * cos(al), 64);
        s[c] = t[c].pd * sin(al) * mz * exp(-TE / t[c].t2);
    }
    expect_contrast("gradient echo", t, nt, s, 0.02);
    free(map);
    image_free(v);
    phantom_free(ph);
}

/* epi: single shot, 64 x 64, TE 35 ms, 90°, one TR from equilibrium. The
   readout lines alternate in direction (flagged IS_REVERSE and flipped by
   the recon): edges within one voxel (no N/2 ghost shifts them), and each
   tissue within 5 % of PD e^{−TE/T2} (the lines away from the centre decay
   by e^{−Δt/T2} over the 47 ms train: a blur, not a change of the core's
   mean, to a few %). */
static void test_epi(void)
{
    struct phantom *ph = shepp_logan_2d(4e-3);
    struct image_vol *v = scan_sequence("epi", NULL, 0, ph, NULL);
    CU_ASSERT_EQUAL(v->nx, 64);
    CU_ASSERT_EQUAL(v->ny, 64);
    struct tissue t[16];
    int nt;
    int *map = tissue_map(ph, v, t, &nt);
    /* the scalp (PD 0.8, T2 70 ms) is half as bright as the CSF here */
    expect_geometry(v, map, 1, 0.25);
    tissue_means(v, 0, map, t, nt);
    double s[16], TE = 0.035;
    for (int c = 0; c < nt; c++)
        s[c] = t[c].pd * exp(-TE / t[c].t2);
    expect_contrast("epi", t, nt, s, 0.05);
    free(map);
    image_free(v);
    phantom_free(ph);
}

/* inversion_recovery: TI 470 ms = T1 ln 2 of white matter, TR 4 s, TE
   15 ms. From the inversion: Mz(TI) = 1 − (1 + m) e^{−TI/T1}, where m is
   Mz just before the inversion: 1 − (1 + a) e^{−(TR − TI − TE/2)/T1} with
   a = 1 − e^{−TE/(2 T1)} (the 90° leaves Mz = 0, the 180° at TE/2 inverts
   what recovered), in the steady state reached after one TR; the image is
   PD |Mz(TI)| e^{−TE/T2}. White matter is nulled: its core below 5 % of
   the grey matter's (measured 2.4 %: Gibbs ringing from its neighbours;
   40 ms off the null, at TI 430 ms, it would be 17 %); the other tissues
   within 2 % of the closed form (measured 0.7 %). */
static void test_inversion_recovery(void)
{
    struct phantom *ph = shepp_logan_2d(0);
    struct image_vol *v = scan_sequence("inversion_recovery", NULL, 0, ph, NULL);
    struct tissue t[16];
    int nt;
    int *map = tissue_map(ph, v, t, &nt);
    tissue_means(v, 0, map, t, nt);
    double s[16], TR = 4, TI = 0.47, TE = 0.015;
    int white = -1, grey = -1;
    for (int c = 0; c < nt; c++) {
        double T1 = t[c].t1, a = 1 - exp(-TE / 2 / T1);
        double m = 1 - (1 + a) * exp(-(TR - TI - TE / 2) / T1);
        s[c] = t[c].pd * fabs(1 - (1 + m) * exp(-TI / T1)) * exp(-TE / t[c].t2);
        if (fabs(T1 - 0.681) < 0.01)
            white = c;
        if (fabs(T1 - 0.998) < 0.01)
            grey = c;
    }
    CU_ASSERT_FATAL(white >= 0 && grey >= 0 && t[white].n > 100 && t[grey].n > 100);
    double wm = t[white].sum / t[white].n, gm = t[grey].sum / t[grey].n;
    CU_ASSERT(wm < 0.05 * gm);
    if (getenv("LARMOR_TEST_VERBOSE"))
        fprintf(stderr, "\ninversion recovery: white %.4g, grey %.4g\n", wm, gm);
    /* the contrast of the others (the nulled one is compared above) */
    t[white].n = 0;
    expect_contrast("inversion recovery", t, nt, s, 0.02);
    free(map);
    image_free(v);
    phantom_free(ph);
}

/* Mz just before an excitation of a spin-echo train whose 90° leaves
   Mz = 0 and whose perfect 180°s (at times ref[0..n-1] after the
   excitation) invert it; the next excitation comes TR after this one. */
static double mz_before_excitation(double t1, const double *ref, int n, double tr)
{
    double mz = 0, t = 0;
    for (int i = 0; i < n; i++) {
        mz = 1 - (1 - mz) * exp(-(ref[i] - t) / t1);
        mz = -mz;
        t = ref[i];
    }
    return 1 - (1 - mz) * exp(-(tr - t) / t1);
}

/* turbo_spin_echo: 16 echoes 10 ms apart, effective TE 80 ms (echo 8
   reads the centre segment), TR 3 s. Each tissue's core mean within 5 %
   of PD Mz e^{−TE_eff/T2}, Mz from T1 recovery through the train's
   inversions (the cores' low spatial frequencies come from the centre
   segment's echo; the segments on either side, ±10 ms, shift a core's
   mean by a few per cent), in the same order: the T2 contrast of a spin
   echo at TE 80 ms. */
static void test_turbo_spin_echo(void)
{
    struct phantom *ph = shepp_logan_2d(0);
    struct image_vol *v = scan_sequence("turbo_spin_echo", NULL, 0, ph, NULL);
    struct tissue t[16];
    int nt;
    int *map = tissue_map(ph, v, t, &nt);
    /* the scalp (T2 70 ms) is at 0.55 of the CSF here and its thin ring is
       blurred by the train's T2 modulation of k-space: half its level.
       (The train also gives the faint ringing outside the head that
       every TSE of thin short-T2 structures shows.) */
    expect_geometry(v, map, 1, 0.3);
    tissue_means(v, 0, map, t, nt);
    double ref[16], s[16], TE = 0.08, TR = 3, esp = 0.01;
    for (int i = 0; i < 16; i++)
        ref[i] = esp / 2 + i * esp;
    for (int c = 0; c < nt; c++)
        s[c] = t[c].pd * mz_before_excitation(t[c].t1, ref, 16, TR) * exp(-TE / t[c].t2);
    expect_contrast("turbo spin echo", t, nt, s, 0.05);
    free(map);
    image_free(v);
    phantom_free(ph);
}

/* The bSSFP steady state at TE = TR/2 of a spin off resonance by df, the
   RF phase alternating 0°, 180°: just after a pulse M = A M + b with
   A = Rx(α) Rz(θ) diag(E2, E2, E1), b = Rx(α) (0, 0, 1 − E1), θ = 2π df TR
   + π (the alternation folded into the precession); solved as a 3 x 3
   linear system; |Mxy| then decays by e^{−TR/(2 T2)} to the echo. */
static double bssfp_signal(double alpha, double tr, double t1, double t2, double df)
{
    double E1 = exp(-tr / t1), E2 = exp(-tr / t2), th = 2 * M_PI * df * tr + M_PI;
    double ca = cos(alpha), sa = sin(alpha), ct = cos(th), st = sin(th);
    /* Rz(θ) diag(E2, E2, E1) */
    double P[3][3] = { { E2 * ct, -E2 * st, 0 }, { E2 * st, E2 * ct, 0 }, { 0, 0, E1 } };
    double R[3][3] = { { 1, 0, 0 }, { 0, ca, sa }, { 0, -sa, ca } };    /* Rx(α) */
    double M[3][4];                          /* [I − R P | R (0, 0, 1 − E1)] */
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            double rp = 0;
            for (int k = 0; k < 3; k++)
                rp += R[i][k] * P[k][j];
            M[i][j] = (i == j) - rp;
        }
        M[i][3] = R[i][2] * (1 - E1);
    }
    for (int c = 0; c < 3; c++) {            /* Gauss-Jordan with pivoting */
        int piv = c;
        for (int r = c + 1; r < 3; r++)
            if (fabs(M[r][c]) > fabs(M[piv][c]))
                piv = r;
        for (int j = 0; j < 4; j++) {
            double tmp = M[c][j];
            M[c][j] = M[piv][j];
            M[piv][j] = tmp;
        }
        for (int r = 0; r < 3; r++)
            if (r != c) {
                double f = M[r][c] / M[c][c];
                for (int j = c; j < 4; j++)
                    M[r][j] -= f * M[c][j];
            }
    }
    double mx = M[0][3] / M[0][0], my = M[1][3] / M[1][1];
    return hypot(mx, my) * exp(-tr / 2 / t2);
}

/* bssfp: the dark bands. A 160 x 224 mm block (T1 1 s, T2 100 ms) whose
   off-resonance grows linearly along y, ±200 Hz = ±1/TR at its ends, on a
   64 x 64, 4 mm grid; TR 5 ms, 60°. With the RF phase alternating 0°,
   180°, a spin off resonance by Δf precesses by θ = 2π Δf TR + π per TR
   against the pulses, and the steady state vanishes where θ is a multiple
   of 2π: at Δf = ±1/(2 TR) = ±100 Hz. The two darkest rows of the block's
   profile (mean over its columns) lie within one row of the rows whose
   off-resonance is ±100 Hz, their signal below 15 % of the profile's
   maximum; and every row of the profile within 5 % of the peak of the
   closed-form steady state (bssfp_signal), after one common scale
   (measured 2.6 % after the sequence's 300 dummy repetitions; with 100,
   the spins off resonance were still 17 % from their steady state). */
static void test_bssfp(void)
{
    const int N = 64, hx = 20, hy = 28;
    const double vox = 4e-3, TR = 5e-3;
    struct phantom *ph = phantom_new("bands", (size_t)(2 * hx) * (2 * hy));
    ph->dims = 2;
    ph->vox[0] = ph->vox[1] = vox;
    ph->vox[2] = 5e-3;
    ph->grid[0] = ph->grid[1] = N;
    ph->grid[2] = 1;
    size_t k = 0;
    for (int j = -hy; j < hy; j++)
        for (int i = -hx; i < hx; i++, k++) {
            ph->x[k] = (float)(i * vox);
            ph->y[k] = (float)(j * vox);
            ph->pd[k] = 1;
            ph->t1[k] = 1;
            ph->t2[k] = ph->t2s[k] = 0.1f;
            ph->df[k] = (float)(j / (double)hy / TR);     /* ±1/TR at the ends */
        }
    const char *defs[] = { "matrix=64" };
    struct image_vol *v = scan_sequence("bssfp", defs, 1, ph, NULL);
    CU_ASSERT_EQUAL_FATAL(v->ny, N);
    /* the profile along y over the block's inner columns */
    double prof[64] = { 0 }, pmax = 0;
    for (int r = 0; r < N; r++) {
        for (int c = N / 2 - hx + 2; c < N / 2 + hx - 2; c++)
            prof[r] += cabsf(v->data[r * N + c]);
        prof[r] /= 2 * hx - 4;
        pmax = fmax(pmax, prof[r]);
    }
    /* the predicted band rows: Δf = ±1/(2 TR), i.e. j = ±hy/2 */
    int want[2] = { N / 2 - hy / 2, N / 2 + hy / 2 };
    for (int b = 0; b < 2; b++) {
        int best = want[b] - 4;
        for (int r = want[b] - 4; r <= want[b] + 4; r++)
            if (prof[r] < prof[best])
                best = r;
        CU_ASSERT(abs(best - want[b]) <= 1);
        CU_ASSERT(prof[best] < 0.15 * pmax);
        if (getenv("LARMOR_TEST_VERBOSE") || abs(best - want[b]) > 1)
            fprintf(stderr, "\nbSSFP band %d: darkest row %d (%.3g of the peak), predicted %d",
                    b, best, prof[best] / pmax, want[b]);
    }
    /* the whole profile against the closed-form steady state, one common
       scale: within 5 % of the peak on every row of the block */
    double pred[64], num = 0, den = 0;
    for (int r = N / 2 - hy + 1; r < N / 2 + hy - 1; r++) {
        pred[r] = bssfp_signal(60 * M_PI / 180, TR, 1.0, 0.1, (r - N / 2) / (double)hy / TR);
        num += pred[r] * prof[r];
        den += pred[r] * pred[r];
    }
    double scale = num / den, worst = 0;
    for (int r = N / 2 - hy + 1; r < N / 2 + hy - 1; r++) {
        worst = fmax(worst, fabs(prof[r] - scale * pred[r]));
    }
    CU_ASSERT(worst < 0.05 * pmax);
    if (getenv("LARMOR_TEST_VERBOSE") || worst >= 0.05 * pmax)
        fprintf(stderr, "\nbSSFP profile: worst deviation %.3g of the peak\n", worst / pmax);
    image_free(v);
    phantom_free(ph);
}

/* One plane of a 3D image and its tissue map as a 2D image: axis 2 fixes
   z = at (an axial plane), axis 1 fixes y = at (rows are then z). */
static struct image_vol *plane_of(const struct image_vol *v, const int *map3, int axis, int at,
                                  int **map2)
{
    int nx = v->nx, ny = axis == 2 ? v->ny : v->nz;
    struct image_vol *p = image_new(nx, ny, 1, 1);
    *map2 = xmalloc((size_t)nx * ny * sizeof **map2);
    for (int r = 0; r < ny; r++)
        for (int x = 0; x < nx; x++) {
            size_t src = axis == 2 ? ((size_t)at * v->ny + r) * nx + x
                                   : ((size_t)r * v->ny + at) * nx + x;
            p->data[(size_t)r * nx + x] = v->data[src];
            (*map2)[(size_t)r * nx + x] = map3[src];
        }
    return p;
}

/* gre3d: 3D FLASH of the 3D Shepp-Logan, 32³ voxels of 8 mm, TR 12 ms,
   TE 5 ms, 15°. Edges within two voxels in the central axial plane and
   in the central x-z plane (the partition encoding puts things where they
   are along z too; see below for the two; the interior tissues' cores
   below place them exactly); each tissue's mean over its core (voxels whose
   3 x 3 x 3 neighbourhood is all that tissue) within 5 % of the spoiled
   steady state PD sin α (1 − E1) / (1 − E1 cos α) e^{−TE/T2} (the centre
   of k-space comes 528 repetitions in: steady), in T1 order (measured:
   grey and white 0.3 %, the 34 core voxels of the small ventricles 3 %). */
static void test_gre3d(void)
{
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load("shepp-logan-3d:32", 0, &d);
    diag_fini(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    const char *defs[] = { "matrix=32", "partitions=32" };
    struct image_vol *v = scan_sequence("gre3d", defs, 2, ph, NULL);
    CU_ASSERT_FATAL(v->nx == 32 && v->ny == 32 && v->nz == 32);
    /* the 3D tissue map */
    struct tissue t[16];
    int nt = 0, n = 32;
    int *map = xmalloc((size_t)n * n * n * sizeof *map);
    for (int i = 0; i < n * n * n; i++)
        map[i] = -1;
    for (size_t k = 0; k < ph->n; k++) {
        int i = (int)lround(ph->x[k] / v->voxel[0]) + n / 2;
        int j = (int)lround(ph->y[k] / v->voxel[1]) + n / 2;
        int z = (int)lround(ph->z[k] / v->voxel[2]) + n / 2;
        CU_ASSERT_FATAL(i >= 0 && i < n && j >= 0 && j < n && z >= 0 && z < n);
        int c;
        for (c = 0; c < nt; c++)
            if (t[c].t1 == ph->t1[k] && t[c].t2 == ph->t2[k] && t[c].pd == ph->pd[k])
                break;
        if (c == nt) {
            CU_ASSERT_FATAL(nt < 16);
            t[nt++] = (struct tissue){ ph->t1[k], ph->t2[k], ph->pd[k], 0, 0, 0 };
        }
        map[((size_t)z * n + j) * n + i] = c;
    }
    for (int axis = 1; axis <= 2; axis++) {
        int *m2;
        struct image_vol *p = plane_of(v, map, axis, n / 2, &m2);
        /* the scalp and marrow shells are 4 mm thick, half an 8 mm voxel,
           and where they meet the grid at a grazing angle a voxel whose
           centre lies inside the shell holds little of it: half the
           scalp's level, 2 voxels */
        expect_geometry(p, m2, 2, 0.25);
        image_free(p);
        free(m2);
    }
    /* 3 x 3 x 3 cores */
    for (int z = 1; z < n - 1; z++)
        for (int j = 1; j < n - 1; j++)
            for (int i = 1; i < n - 1; i++) {
                int c = map[((size_t)z * n + j) * n + i];
                bool core = c >= 0;
                for (int dz = -1; dz <= 1 && core; dz++)
                    for (int dj = -1; dj <= 1 && core; dj++)
                        for (int di = -1; di <= 1 && core; di++)
                            core = map[((size_t)(z + dz) * n + j + dj) * n + i + di] == c;
                if (core) {
                    t[c].sum += cabsf(v->data[((size_t)z * n + j) * n + i]);
                    t[c].n++;
                }
            }
    double s[16], TR = 0.012, TE = 0.005, al = 15 * M_PI / 180;
    for (int c = 0; c < nt; c++) {
        double E1 = exp(-TR / t[c].t1);
        s[c] = t[c].pd * sin(al) * (1 - E1) / (1 - E1 * cos(al)) * exp(-TE / t[c].t2);
    }
    expect_contrast("gre3d", t, nt, s, 0.05);
    free(map);
    image_free(v);
    phantom_free(ph);
}

/* Every sequence in sequences/ names the shipped systems it targets in a
   `# systems:` line, and compiles on each with no check error and no
   warning (the compiler's dry run is the full `larmor check`). */
static void test_systems(void)
{
    const char *sl = test_stdlib_dir();
    char *dir = xasprintf("%s/../sequences", sl ? sl : "stdlib");
    DIR *dp = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    int nseq = 0, nchecks = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (!str_has_suffix(e->d_name, ".psq"))
            continue;
        nseq++;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        char line[512], systems[512] = "";
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "# systems:", 10)) {
                snprintf(systems, sizeof systems, "%s", line + 10);
                break;
            }
        fclose(f);
        CU_ASSERT(systems[0] != 0);
        if (!systems[0])
            fprintf(stderr, "\n%s has no '# systems:' line\n", e->d_name);
        /* the names up to the first '(' */
        char *paren = strchr(systems, '(');
        if (paren)
            *paren = 0;
        for (char *sv = NULL, *name = strtok_r(systems, " \t\n", &sv); name;
             name = strtok_r(NULL, " \t\n", &sv)) {
            struct diag_ctx d;
            diag_init(&d);
            struct system sys;
            CU_ASSERT_EQUAL_FATAL(system_resolve(name, sl, &sys, &d), 0);
            struct lbc_program *p = compile_sequence(path, NULL, 0, &sys, NULL, &d);
            CU_ASSERT_PTR_NOT_NULL(p);
            CU_ASSERT_EQUAL(d.nwarnings, 0);
            if (!p || d.nwarnings) {
                fprintf(stderr, "\n%s on %s:\n", e->d_name, name);
                diag_print_all(&d, stderr, false);
            }
            lbc_free(p);
            diag_fini(&d);
            nchecks++;
        }
        free(path);
    }
    closedir(dp);
    free(dir);
    CU_ASSERT(nseq >= 7);
    CU_ASSERT(nchecks >= 2 * nseq);
}

/* The b-value (s/m²) diffusion_se plays at its echoes with one define,
   from the check backend (the compiler's dry run): the largest over the
   lines, which differ by well under 0.1 % with the lobes on z. */
static double played_b(const char *define)
{
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    system_default(&sys);
    struct check *ck = NULL;
    struct lbc_program *p = compile_sequence("diffusion_se", &define, 1, &sys, &ck, &d);
    if (!p)
        diag_print_all(&d, stderr, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    const struct check_summary *m = check_get_summary(ck);
    CU_ASSERT_EQUAL(m->nbgroups, 1);
    CU_ASSERT(m->nbgroups == 1 && m->bgroups[0].hi - m->bgroups[0].lo < 1e-3 * m->b_max.value + 1e5);
    double b = m->b_max.value;
    check_free(ck);
    lbc_free(p);
    diag_fini(&d);
    return b;
}

/* Per tissue, over its core (voxels whose 5 x 5 neighbourhood is all that
   tissue): the projection of image a on image r, Re Σ a·r̄ / Σ |r|², and
   the core's size. */
static void tissue_ratios(const struct image_vol *a, const struct image_vol *r, const int *map,
                          int nt, double *ratio, int *n)
{
    double num[16] = { 0 }, den[16] = { 0 };
    for (int c = 0; c < nt; c++)
        n[c] = 0;
    for (int j = 2; j < r->ny - 2; j++)
        for (int i = 2; i < r->nx - 2; i++) {
            int c = map[j * r->nx + i];
            if (!tissue_core(map, r->nx, r->ny, i, j, 2))
                continue;
            float complex va = a->data[j * r->nx + i], vr = r->data[j * r->nx + i];
            num[c] += creal(va * conjf(vr));
            den[c] += creal(vr * conjf(vr));
            n[c]++;
        }
    for (int c = 0; c < nt; c++)
        ratio[c] = den[c] > 0 ? num[c] / den[c] : 0;
}

/* Four discs, one tissue each, with the Shepp-Logan's relaxation times
   and diffusion coefficients (CSF, grey and white matter, and a tumour
   that does not diffuse), on the sequence's 4 mm grid. */
static const char dwi_phantom[] =
    "name: diffusion discs\n"
    "fov: [256 mm, 256 mm]\n"
    "resolution: 4 mm\n"
    "tissues:\n"
    "  csf:    { t1: 4200 ms, t2: 1990 ms, pd: 0.98, diffusion: 3 um^2/ms }\n"
    "  grey:   { t1: 998 ms, t2: 100 ms, pd: 0.745, diffusion: 0.89 um^2/ms }\n"
    "  white:  { t1: 681 ms, t2: 80 ms, pd: 0.617, diffusion: 0.7 um^2/ms }\n"
    "  tumour: { t1: 1011 ms, t2: 100 ms, pd: 0.95 }\n"
    "objects:\n"
    "  - { shape: ellipse, centre: [-96 mm, 0 mm], radii: [28 mm, 50 mm], tissue: csf }\n"
    "  - { shape: ellipse, centre: [-32 mm, 0 mm], radii: [28 mm, 50 mm], tissue: grey }\n"
    "  - { shape: ellipse, centre: [32 mm, 0 mm], radii: [28 mm, 50 mm], tissue: white }\n"
    "  - { shape: ellipse, centre: [96 mm, 0 mm], radii: [28 mm, 50 mm], tissue: tumour }\n";

/* The complex image smoothed by [1 2 1]/4 along x and y (circularly):
   exactly a Hann window over k-space, whose ringing is negligible. */
static void hann_smooth(struct image_vol *v)
{
    int nx = v->nx, ny = v->ny;
    float complex *t = xmalloc((size_t)nx * ny * sizeof *t);
    for (int pass = 0; pass < 2; pass++) {
        memcpy(t, v->data, (size_t)nx * ny * sizeof *t);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++) {
                int a = pass ? i : (i + nx - 1) % nx, b = pass ? i : (i + 1) % nx;
                int ja = pass ? (j + ny - 1) % ny : j, jb = pass ? (j + 1) % ny : j;
                v->data[j * nx + i] = 0.25f * t[ja * nx + a] + 0.5f * t[j * nx + i] +
                                      0.25f * t[jb * nx + b];
            }
    }
    free(t);
}

/* diffusion_se at b = 0 and b = 1000 s/mm², both with the random walk:
   per tissue, S(b)/S(0) against e^{-(b1 - b0) D}, b1 and b0 the b-values
   the check backend reports for the two scans (the imaging gradients and
   their cross terms with the lobes make b1 1010.6 s/mm², b0 0.2 s/mm²).

   The phantom is four tall ellipses of the Shepp-Logan's CSF, grey and
   white matter and (not diffusing) tumour, each in its own columns: a
   spin's random diffusion phase differs from line to line, so its error
   spreads along its column (the phase-encode direction) and would reach
   the other tissues there. They end 78 mm from the FOV's edge, out of
   reach of the 180°'s FID, which the alternating excitation phase moves by
   half the FOV. The images are smoothed by [1 2 1]/4 (a Hann window over
   k-space: no ringing from one ellipse into another's core).

   Ratio: Re Σ S_b·conj(S_0) / Σ |S_0|² over the core, not a ratio of
   magnitude means: each voxel's signal at b = 1000 is a Monte Carlo mean of
   its spins' e^{iφ} with a random part, and |mean| of a mostly random sum
   is biased upwards (CSF's e^{-3} = 0.05 would sit on that floor); the
   complex projection is unbiased. Its standard error over n spins is
   se = √(Var cos φ / n), Var cos φ = (1 + e^{-4bD})/2 − e^{-2bD}, with
   4 x 4 spins per voxel: the tolerance is 3 se + 0.005 (measured with 3 x
   3, 4 x 4 and 5 x 5 spins: within 1.3 se for grey and white matter; the
   tumour's ratio is 1 to 1e-5). CSF's ratio scatters far more than its se
   (0.008 .. 0.03 over those runs, e^{-3} = 0.048): it is only asserted to be
   below 0.1, i.e. strongly attenuated. 4 x 4 spins: about 4 s per scan
   here. */
static void test_diffusion_se(void)
{
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load_text("discs.yaml", dwi_phantom, strlen(dwi_phantom), 0, &d);
    if (!ph)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    const int nsp = 4;
    struct scan_opts so = { .diffusion = true, .spins = nsp };
    const char *def0 = "b=0", *def1 = "b=1000";
    struct image_vol *v0 = scan_sequence("diffusion_se", &def0, 1, ph, &so);
    struct image_vol *v1 = scan_sequence("diffusion_se", &def1, 1, ph, &so);
    double b0 = played_b(def0), b1 = played_b(def1);
    CU_ASSERT(b1 * 1e-6 > 1000 && b1 * 1e-6 < 1020);
    CU_ASSERT(b0 * 1e-6 > 0 && b0 * 1e-6 < 1);
    struct tissue t[16];
    int nt, n[16];
    double ratio[16];
    int *map = tissue_map(ph, v0, t, &nt);
    CU_ASSERT_EQUAL(nt, 4);
    hann_smooth(v0);
    hann_smooth(v1);
    tissue_ratios(v1, v0, map, nt, ratio, n);
    for (int c = 0; c < nt; c++) {
        double bd = (b1 - b0) * t[c].dc, want = exp(-bd);
        double se = sqrt(((1 + exp(-4 * bd)) / 2 - exp(-2 * bd)) / (n[c] * nsp * nsp));
        bool csf = t[c].dc > 2e-9;
        CU_ASSERT(n[c] >= 100);
        bool ok = csf ? ratio[c] < 0.1 : fabs(ratio[c] - want) <= 3 * se + 0.005;
        CU_ASSERT(ok);
        if (!ok || getenv("LARMOR_TEST_VERBOSE"))
            fprintf(stderr, "\ndiffusion_se: D %.3g um^2/ms, %d core voxels: S(b)/S(0) %.4f, "
                    "e^-bD %.4f (b %.1f s/mm²), difference %.2f se", t[c].dc * 1e9, n[c],
                    ratio[c], want, (b1 - b0) * 1e-6, se > 0 ? (ratio[c] - want) / se : 0);
    }
    free(map);
    image_free(v0);
    image_free(v1);
    phantom_free(ph);
}

int register_sequences_tests(void)
{
    static const struct test_def tests[] = {
        { "every sequence passes the checks on the systems it names", test_systems },
        { "spin_echo: T2-weighted Shepp-Logan, edges and closed-form contrast", test_spin_echo },
        { "gradient_echo: T1-weighted FLASH, edges and Ernst contrast", test_gradient_echo },
        { "epi: single-shot EPI, reversed lines, edges and T2 contrast", test_epi },
        { "inversion_recovery: white matter nulled at TI = T1 ln 2; contrast",
          test_inversion_recovery },
        { "turbo_spin_echo: CPMG train, effective-TE T2 contrast", test_turbo_spin_echo },
        { "bssfp: dark bands at +-1/(2 TR), passband against the closed form", test_bssfp },
        { "gre3d: 3D FLASH, edges in x, y and z, T1 contrast", test_gre3d },
        { "diffusion_se: S(b)/S(0) = e^-bD per tissue, b from the check", test_diffusion_se },
    };
    return TEST_ADD_SUITE("sequences", tests);
}
