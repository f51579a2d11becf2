/*
 * bench_marcos: the MaRCoS driver's prepare on the sequences that target
 * the low-field system: per sequence the event program's changes, the
 * machine words, the words per second of scan time, and the median time
 * of the two steps (events: a VM pass building the per-channel changes;
 * lower: words, packing, WAITs), with the changes per second of each.
 *
 * Usage: bench_marcos [RUNS] (default 5). Single-threaded; CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "compiler/compile.h"
#include "base/diag.h"
#include "runtime/driver/events.h"
#include "runtime/driver/marcos.h"
#include "runtime/system/system.h"
#include "base/util.h"

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > 1000)
        runs = 5;
    const char *src = getenv("top_srcdir");
    char *stdlib = xasprintf("%s/stdlib", src && *src ? src : ".");
    struct system sys;
    struct diag_ctx d;
    diag_init(&d);
    if (system_resolve("marcos_lowfield", stdlib, &sys, &d)) {
        diag_print_all(&d, stderr, false);
        return 1;
    }
    static const char *const seqs[] = { "spin_echo", "gradient_echo", "gre3d",
                                        "inversion_recovery" };
    printf("%-20s %10s %10s %9s %12s %10s %12s %10s\n", "sequence", "changes", "words",
           "scan s", "words/s scan", "events ms", "changes/s", "lower ms");
    for (size_t i = 0; i < ARRAY_LEN(seqs); i++) {
        char *path = xasprintf("%s/sequences/%s.psq", src && *src ? src : ".", seqs[i]);
        struct compile_opts o = { 0 };
        o.path = path;
        o.stdlib_dir = stdlib;
        o.sys = &sys;
        struct lbc_program *p = compile_file(&o, &d);
        if (!p) {
            diag_print_all(&d, stderr, false);
            return 1;
        }
        struct marcos_cfg c;
        char err[256];
        marcos_parse_uri(&c, "marcos://bench", &sys, err, sizeof err);
        struct drv_caps caps;
        marcos_caps(&caps, &c, &sys);
        double te[1000], tl[1000];
        size_t nch = 0, nw = 0;
        double scan_s = 0;
        for (int r = 0; r < runs; r++) {
            struct ev_program e;
            struct drv_msgs m = { 0 };
            double t0 = monotonic_s();
            if (ev_build(&e, p, &caps, &m) != 0) {
                fprintf(stderr, "bench_marcos: %s is refused\n", seqs[i]);
                return 1;
            }
            double t1 = monotonic_s();
            struct marcos_prog mp;
            if (marcos_lower(&mp, &e, &c, &m) != 0) {
                fprintf(stderr, "bench_marcos: %s is refused\n", seqs[i]);
                return 1;
            }
            double t2 = monotonic_s();
            te[r] = t1 - t0;
            tl[r] = t2 - t1;
            nch = 0;
            for (int k = 0; k < EV__NCHAN; k++)
                nch += e.ch[k].n;
            nw = mp.n;
            scan_s = (double)mp.cycles / MARCOS_CLOCK_HZ;
            marcos_prog_fini(&mp);
            drv_msgs_fini(&m);
            ev_fini(&e);
        }
        double me = median(te, runs), ml = median(tl, runs);
        printf("%-20s %10zu %10zu %9.2f %12.0f %10.1f %12.3g %10.1f\n", seqs[i], nch, nw, scan_s,
               (double)nw / scan_s, me * 1e3, (double)nch / me, ml * 1e3);
        lbc_free(p);
        free(path);
    }
    diag_fini(&d);
    free(stdlib);
    return 0;
}
