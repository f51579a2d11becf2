/*
 * test_sequences: CUnit suite "sequences": every sequence in sequences/
 * scanned end to end on the built-in Shepp-Logan phantom (compiled,
 * checked by the compiler's dry run, simulated, reconstructed), and a
 * property of its image asserted against closed-form physics:
 *   spin_echo          T2-weighted: edges within one voxel; each tissue's
 *                      mean within 2 % of PD (1 − 2e^{−(TR−TE/2)/T1} +
 *                      e^{−TR/T1}) e^{−TE/T2} (one common scale), same order
 *   gradient_echo      T1-weighted FLASH: edges; means within 2 % of the
 *                      spoiled approach to the Ernst steady state
 * (the tolerance: the cores sit 2 voxels from any edge, where Gibbs
 * ringing is small; measured agreement is about 0.1 %).
 */
#include <CUnit/CUnit.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util.h"
#include "tests/scanutil.h"

int register_sequences_tests(void);

static void test_spin_echo(void)
{
    struct phantom *ph = shepp_logan_2d(0);
    /* T2-weighted: TR 3 s, TE 80 ms */
    const char *defs[] = { "tr=3s", "te=80ms" };
    struct image_vol *v = scan_sequence("spin_echo", defs, 2, ph, NULL);
    CU_ASSERT_EQUAL(v->nx, 128);
    CU_ASSERT_EQUAL(v->ny, 128);
    struct tissue t[16];
    int nt;
    int *map = tissue_map(ph, v, t, &nt);
    expect_geometry(v, map, 1, 0.5);
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

int register_sequences_tests(void)
{
    CU_pSuite s = CU_add_suite("sequences", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "spin_echo: T2-weighted Shepp-Logan, edges and closed-form contrast",
                     test_spin_echo) ||
        !CU_add_test(s, "gradient_echo: T1-weighted FLASH, edges and Ernst contrast",
                     test_gradient_echo) ||
        !CU_add_test(s, "epi: single-shot EPI, reversed lines, edges and T2 contrast", test_epi))
        return -1;
    return 0;
}
