/*
 * bench_bloch: the Bloch simulator's throughput, the figures issue 4 asks
 * for (bars on a 2-core machine: RF rotation steps >= 700 M spin-steps/s,
 * readout samples under a constant gradient >= 3 G spin-samples/s, the
 * 7,825-spin 100 x 100 single-shot EPI with 10,000 samples <= 30 ms):
 *   (a) exact rotations: a 2,000-sample RF pulse (gradient on z) on 65,536
 *       isochromats, each stepped (the bar's figure), and then with the
 *       simulator's default grouping of spins that undergo the same map
 *       (equal z, off-resonance, T1 and T2: 77 groups here);
 *   (b) readout: 40 ADCs of 256 samples under a constant gradient on
 *       65,536 isochromats;
 *   (c) bench/sequences/epi_jemris.psq (the EPI JEMRIS and KomaMRI use for
 *       their comparison) on a 7,825-spin phantom built like their
 *       sphere_chemical_shift phantom: end-to-end simulation time (spin
 *       set-up, VM, kernels, demodulation), compilation excluded.
 * Each with 1 thread and with all threads (OpenMP's default), the median of
 * RUNS runs (default 5); the ratio of the two shows the threads' scaling
 * measured in the same run. Times from CLOCK_MONOTONIC.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench/bench_util.h"
#include "compiler/compile.h"
#include "runtime/bloch/sim.h"
#include "base/diag.h"
#include "runtime/phantom/phantom.h"
#include "base/util.h"
#include "vm/program.h"
#include "vm/vm.h"

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static struct lbc_program *compile(const char *path, const char *src)
{
    struct diag_ctx d;
    diag_init(&d);
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = path;
    o.no_check = true;
    char stdlib[4096];
    const char *top = getenv("top_srcdir");
    snprintf(stdlib, sizeof stdlib, "%s/stdlib", top ? top : ".");
    o.stdlib_dir = stdlib;
    struct lbc_program *p = src ? compile_text(path, src, strlen(src), &o, &d)
                                : compile_file(&o, &d);
    if (!p)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return p;
}

/* A grid of n voxels over ±5 cm with one tissue. */
static struct phantom *grid(size_t n)
{
    struct phantom *p = phantom_new("bench", n);
    for (size_t v = 0; v < n; v++) {
        p->x[v] = (float)(((double)(v % 256) / 255 - 0.5) * 0.1);
        p->y[v] = (float)(((double)(v / 256 % 256) / 255 - 0.5) * 0.1);
        p->z[v] = (float)(((double)(v % 7) / 6 - 0.5) * 0.01);
        p->pd[v] = 1;
        p->t1[v] = 1.0f;
        p->t2[v] = 0.1f;
        p->t2s[v] = 0.1f;
        p->df[v] = (float)(v % 11) - 5.0f;
    }
    return p;
}

struct result { double t; struct sim_stats st; size_t spins; };

static void run(const struct lbc_program *p, const struct phantom *ph, int threads, int runs,
                bool no_groups, struct result *r)
{
    double *t = xcalloc((size_t)runs, sizeof *t);
    for (int i = 0; i < runs; i++) {
        struct sim_opts o;
        sim_opts_default(&o);
        o.threads = threads;
        o.no_groups = no_groups;
        char err[256];
        double t0 = monotonic_s();
        struct sim *s = sim_new(ph, &o, err, sizeof err);
        if (!s) {
            fprintf(stderr, "bench_bloch: %s\n", err);
            exit(1);
        }
        struct vm_backend be;
        sim_backend(s, &be);
        vm_run(p, &be, NULL, NULL);
        t[i] = monotonic_s() - t0;
        sim_stats(s, &r->st);
        r->spins = sim_nspins(s);
        sim_free(s);
    }
    r->t = median(t, runs);
    free(t);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1)
        runs = 1;
    int maxt = 1;
#ifdef _OPENMP
    maxt = omp_get_max_threads();
#endif
    printf("threads available: %d; median of %d runs\n", maxt, runs);

    struct lbc_program *rf = compile("rf.psq",
        "sequence { block { rf { shape: [1 for i in 0 .. 2000], dt: 1 us, flip: 90 deg }\n"
        "                   grad z { amp: 5 mT/m, rise: 100 us, flat: 2 ms }\n"
        "                   duration 2.2 ms } }\n");
    struct lbc_program *ro = compile("ro.psq",
        "sequence { for i in 0 .. 40 { block { grad x { amp: 10 mT/m, rise: 100 us, flat: 2.6 ms }\n"
        "   adc { samples: 256, dwell: 10 us, delay: 100 us } } } }\n");
    char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/bench/sequences/epi_jemris.psq", top ? top : ".");
    struct lbc_program *epi = compile(path, NULL);
    if (!rf || !ro || !epi)
        return 1;
    /* KomaMRI's sphere_chemical_shift phantom, a JEMRIS sample (7,825 spins) */
    snprintf(path, sizeof path, "%s/tests/data/jemris/sphere_chemical_shift.h5", top ? top : ".");
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *g = grid(65536), *sp = phantom_load(path, 0, &d);
    if (!sp) {
        diag_print_all(&d, stderr, false);
        return 1;
    }
    diag_fini(&d);

    struct result r1, rn;
    run(rf, g, 1, runs, true, &r1);
    run(rf, g, maxt, runs, true, &rn);
    printf("(a) RF rotation, %zu spins x %llu steps, every spin stepped: 1 thread %.0f M "
           "spin-steps/s, %d threads %.0f M spin-steps/s (x%.2f)\n",
           r1.spins, (unsigned long long)(r1.st.rf_spin_steps / r1.spins),
           r1.st.rf_spin_steps / r1.t * 1e-6, maxt, rn.st.rf_spin_steps / rn.t * 1e-6,
           r1.t / rn.t);
    run(rf, g, 1, runs, false, &r1);
    run(rf, g, maxt, runs, false, &rn);
    printf("    the same with the spins sharing (z, off-resonance, T1, T2) grouped (77 groups): "
           "1 thread %.0f M, %d threads %.0f M spin-steps/s\n",
           r1.st.rf_spin_steps / r1.t * 1e-6, maxt, rn.st.rf_spin_steps / rn.t * 1e-6);
    run(ro, g, 1, runs, false, &r1);
    run(ro, g, maxt, runs, false, &rn);
    printf("(b) readout, %zu spins x %llu samples: 1 thread %.2f G spin-samples/s, "
           "%d threads %.2f G spin-samples/s (x%.2f)\n",
           r1.spins, (unsigned long long)(r1.st.adc_spin_samples / r1.spins),
           r1.st.adc_spin_samples / r1.t * 1e-9, maxt, rn.st.adc_spin_samples / rn.t * 1e-9,
           r1.t / rn.t);
    run(epi, sp, 1, runs, false, &r1);
    run(epi, sp, maxt, runs, false, &rn);
    printf("(c) EPI 100 x 100 (JEMRIS/KomaMRI case), %zu spins, %llu samples: "
           "1 thread %.1f ms, %d threads %.1f ms (x%.2f)\n",
           r1.spins, (unsigned long long)(r1.st.adc_spin_samples / r1.spins), r1.t * 1e3, maxt,
           rn.t * 1e3, r1.t / rn.t);
    printf("    for comparison (issue 4): JEMRIS 76 s on 2 cores, KomaMRI 73 ms on an RTX 2080 Ti\n");
    phantom_free(g);
    phantom_free(sp);
    lbc_free(rf);
    lbc_free(ro);
    lbc_free(epi);
    return 0;
}
