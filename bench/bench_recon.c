/*
 * bench_recon: a 3D Cartesian recon of N^3 (default 256^3) from raw
 * acquisitions held in memory (placement on the grid, the centred FFT,
 * the crop and the image), against the execution of a bare FFTW plan of
 * the same size, flags and threads, in the same run. The two are timed
 * alternately; prints each repetition, the best of each and the median of
 * the repetitions' ratios (the bar: 1.5). The first repetition maps the
 * grid's pages (the kernel's first touch); later ones get the grid fft.c
 * kept, as any process reconstructing several volumes of one size does;
 * both figures are printed.
 *
 *   bench/bench_recon [N] [repetitions]
 */
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/io/rawdata.h"
#include "runtime/recon/fft.h"
#include "runtime/recon/recon.h"
#include "base/util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int N = argc > 1 ? atoi(argv[1]) : 256;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (N < 8 || N > 1024 || reps < 1) {
        fprintf(stderr, "usage: bench_recon [N >= 8] [repetitions]\n");
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = ncpu > 0 ? (int)ncpu : 1;
    char err[256];
    fft_init(threads, NULL, err, sizeof err);

    /* N^2 acquisitions of N samples: a smooth blob's k-space (the content
       does not change the FFT's cost) */
    struct raw_file f;
    memset(&f, 0, sizeof f);
    f.hdr.trajectory = "cartesian";
    for (int d = 0; d < 3; d++) {
        f.hdr.matrix[d] = N;
        f.hdr.fov[d] = 0.256;
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        f.hdr.limits[l].min = 1;
        f.hdr.limits[l].max = 0;
    }
    f.hdr.limits[VM_LABEL_LIN] = (struct raw_limit){ 0, N - 1, N / 2 };
    f.hdr.limits[VM_LABEL_PAR] = (struct raw_limit){ 0, N - 1, N / 2 };
    f.nacq = (size_t)N * N;
    f.acq = xcalloc(f.nacq, sizeof *f.acq);
    for (int z = 0; z < N; z++)
        for (int y = 0; y < N; y++) {
            struct raw_acq *a = &f.acq[(size_t)z * N + y];
            a->samples = (uint32_t)N;
            a->ncoils = 1;
            a->centre_sample = (uint32_t)(N / 2);
            a->labels[VM_LABEL_LIN] = y;
            a->labels[VM_LABEL_PAR] = z;
            a->read_dir[0] = a->phase_dir[1] = a->slice_dir[2] = 1;
            float *d = xmalloc((size_t)N * 2 * sizeof *d);
            for (int x = 0; x < N; x++) {
                double r2 = (double)(x - N / 2) * (x - N / 2) + (double)(y - N / 2) * (y - N / 2) +
                            (double)(z - N / 2) * (z - N / 2);
                d[2 * x] = (float)exp(-r2 / (N * 2.0));
                d[2 * x + 1] = 0;
            }
            a->data = d;
        }

    /* the bare plan: in place, FFTW_ESTIMATE, the same threads */
    fftwf_complex *bare = fftwf_malloc((size_t)N * N * N * sizeof *bare);
    fftwf_plan_with_nthreads(threads);
    fftwf_plan p = fftwf_plan_dft_3d(N, N, N, bare, bare, FFTW_BACKWARD, FFTW_ESTIMATE);
    memset(bare, 0, (size_t)N * N * N * sizeof *bare);

    /* interleaved: each repetition times the bare plan and then our recon,
       so that both see the same machine state; the ratio is taken per
       repetition and its median reported (the machines are shared) */
    double best_bare = 1e30, best_recon = 1e30, best_place = 1e30;
    double *ratio = xcalloc((size_t)reps, sizeof *ratio);
    double first_ratio = 0;
    struct recon_opts o;
    memset(&o, 0, sizeof o);
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < (size_t)N * N * N; i++) {
            bare[i] = (float)(i % 7);
        }
        double t0 = monotonic_s();
        fftwf_execute(p);
        double t1 = monotonic_s();
        double tb = t1 - t0;
        t0 = monotonic_s();
        struct kspace *k = recon_kspace(&f, &o, err, sizeof err);
        double tp = monotonic_s();
        struct image_vol *v = k ? recon_image(k, &o, err, sizeof err) : NULL;
        t1 = monotonic_s();
        if (!v) {
            fprintf(stderr, "bench_recon: %s\n", err);
            return 1;
        }
        printf("  repetition %d: bare %.3f s, recon %.3f s (placing %.3f s), ratio %.2f\n", r + 1,
               tb, t1 - t0, tp - t0, (t1 - t0) / tb);
        ratio[r] = (t1 - t0) / tb;
        if (r == 0)
            first_ratio = ratio[0];
        best_bare = tb < best_bare ? tb : best_bare;
        best_recon = t1 - t0 < best_recon ? t1 - t0 : best_recon;
        best_place = tp - t0 < best_place ? tp - t0 : best_place;
        image_free(v);
        kspace_free(k);
    }
    /* the median of the repetitions after the first (all of them if one) */
    double *rs = reps > 1 ? ratio + 1 : ratio;
    int nr = reps > 1 ? reps - 1 : 1;
    qsort(rs, (size_t)nr, sizeof *rs, cmp_double);
    double med = nr % 2 ? rs[nr / 2] : (rs[nr / 2 - 1] + rs[nr / 2]) / 2;
    printf("3D recon %d^3, %d thread%s, %d repetitions:\n", N, threads,
           threads == 1 ? "" : "s", reps);
    printf("  bare FFTW plan execution   %8.3f s (best)\n", best_bare);
    printf("  larmor recon (all of it)   %8.3f s (best; placing on the grid: %.3f s)\n",
           best_recon, best_place);
    printf("  ratio                      %8.2f (median of repetitions 2..%d, the grid reused; "
           "best/best %.2f; bar: 1.5)\n", med, reps, best_recon / best_bare);
    printf("  ratio, first repetition    %8.2f (the grid's pages mapped fresh)\n", first_ratio);
    free(ratio);
    fftwf_destroy_plan(p);
    fftwf_free(bare);
    for (size_t i = 0; i < f.nacq; i++)
        free((void *)f.acq[i].data);
    free(f.acq);
    fft_cleanup();
    return 0;
}
