/*
 * scanutil: see scanutil.h.
 */
#include "tests/scanutil.h"

#include <CUnit/CUnit.h>
#include <complex.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "runtime/io/rawdata.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/recon/recon.h"
#include "runtime/bloch/simulate.h"
#include "base/util.h"
#include "tests/testutil.h"

/* --- end to end: a scan of the Shepp-Logan phantom ------------------------ */

static char scratch[256];

static void scratch_remove(void)
{
    if (!scratch[0])
        return;
    DIR *d = opendir(scratch);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = xasprintf("%s/%s", scratch, e->d_name);
                unlink(p);
                free(p);
            }
        closedir(d);
    }
    rmdir(scratch);
    scratch[0] = 0;
}

int load_system(const char *name, struct system *sys)
{
    struct diag_ctx d;
    diag_init(&d);
    int rc = system_resolve(name, test_stdlib_dir(), sys, &d);
    if (rc)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return rc;
}

char *sequence_path(const char *name)
{
    if (strchr(name, '/'))
        return xstrdup(name);
    const char *sl = test_stdlib_dir();
    return xasprintf("%s/../sequences/%s.psq", sl ? sl : "stdlib", name);
}

struct lbc_program *compile_sequence(const char *name, const char **defines, int ndefines,
                                     const struct system *sys, struct check **ck,
                                     struct diag_ctx *d)
{
    char *path = sequence_path(name);
    if (str_has_suffix(path, ".seq")) {      /* a Pulseq file: imported */
        struct lbc_program *p = pulseq_read_file(path, NULL, d);
        free(path);
        return p;
    }
    struct compile_opts co;
    memset(&co, 0, sizeof co);
    co.path = path;
    co.defines = defines;
    co.ndefines = ndefines;
    co.stdlib_dir = test_stdlib_dir();
    co.sys = sys;
    co.check_out = ck;
    struct lbc_program *p = compile_file(&co, d);
    free(path);
    return p;
}

struct image_vol *scan_sequence(const char *name, const char **defines, int ndefines,
                                const struct phantom *ph, const struct scan_opts *opt)
{
    struct scan_opts none = { 0 };
    if (!opt)
        opt = &none;
    const char *sl = test_stdlib_dir();
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    system_default(&sys);
    if (opt->system && system_resolve(opt->system, sl, &sys, &d)) {
        diag_print_all(&d, stderr, false);
        CU_FAIL_FATAL("the system does not load");
    }
    struct lbc_program *p = compile_sequence(name, defines, ndefines, &sys, NULL, &d);
    if (!p)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    const char *t = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/larmor-scan-XXXXXX", t && *t ? t : "/tmp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    char *raw = xasprintf("%s/%s.h5", scratch, base);
    struct simulate_opts so;
    memset(&so, 0, sizeof so);
    so.out = raw;
    so.seq_name = name;
    so.quiet = true;
    sim_opts_default(&so.sim);
    so.sim.gamma = 2 * M_PI * sys.gamma;
    so.sim.b0 = sys.b0;
    so.sim.diffusion = opt->diffusion;
    so.sim.ideal_spoiling = !opt->no_ideal_spoiling;
    if (opt->spins > 0)
        so.sim.spins[0] = so.sim.spins[1] = opt->spins;
    int rc = simulate_run(p, &sys, ph, &so, stderr);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char err[512];
    struct raw_file *f = raw_read(raw, err, sizeof err);
    if (!f)
        fprintf(stderr, "%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct recon_opts o = { 0 };
    struct kspace *k = recon_kspace(f, &o, err, sizeof err);
    if (!k)
        fprintf(stderr, "recon_kspace: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    struct image_vol *v = recon_image(k, &o, err, sizeof err);
    if (!v)
        fprintf(stderr, "recon_image: %s\n", err);
    kspace_free(k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    raw_file_free(f);
    lbc_free(p);
    free(raw);
    scratch_remove();
    return v;
}

struct phantom *shepp_logan_2d(double res_m)
{
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *ph = phantom_load("shepp-logan", res_m, &d);
    if (!ph)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    return ph;
}

/* The phantom's voxels on the image grid: tissue index per voxel (-1 none);
   tissues are the distinct (T1, T2, PD) triples. */

int *tissue_map(const struct phantom *ph, const struct image_vol *v, struct tissue *t,
                       int *nt)
{
    int *map = xmalloc((size_t)v->nx * v->ny * sizeof *map);
    for (int i = 0; i < v->nx * v->ny; i++)
        map[i] = -1;
    *nt = 0;
    for (size_t k = 0; k < ph->n; k++) {
        int i = (int)lround(ph->x[k] / v->voxel[0]) + v->nx / 2;
        int j = (int)lround(ph->y[k] / v->voxel[1]) + v->ny / 2;
        CU_ASSERT_FATAL(i >= 0 && i < v->nx && j >= 0 && j < v->ny);
        int c;
        for (c = 0; c < *nt; c++)
            if (t[c].t1 == ph->t1[k] && t[c].t2 == ph->t2[k] && t[c].pd == ph->pd[k])
                break;
        if (c == *nt) {
            CU_ASSERT_FATAL(*nt < 16);
            t[c] = (struct tissue){ ph->t1[k], ph->t2[k], ph->pd[k], ph->dc ? ph->dc[k] : 0, 0, 0 };
            (*nt)++;
        }
        map[j * v->nx + i] = c;
    }
    return map;
}

/* Edges: on every row and column through the middle 80 % of the object,
   the first and last voxel above half the bright scalp's level lie within
   one voxel of the phantom's first and last voxel. */
void expect_geometry(const struct image_vol *v, const int *map, int tol, double frac)
{
    double ref = 0;   /* the 99th percentile of |I| */
    size_t n = (size_t)v->nx * v->ny;
    float *mag = xmalloc(n * sizeof *mag);
    for (size_t i = 0; i < n; i++)
        mag[i] = cabsf(v->data[i]);
    float *sorted = xmalloc(n * sizeof *sorted);
    memcpy(sorted, mag, n * sizeof *sorted);
    for (size_t i = 1; i < n; i++)          /* insertion sort: 16k values */
        for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            float t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    ref = sorted[(size_t)(0.99 * (double)(n - 1))];
    free(sorted);
    int worst = 0, lines = 0;
    for (int pass = 0; pass < 2; pass++) {           /* rows, then columns */
        int L = pass ? v->nx : v->ny, M = pass ? v->ny : v->nx;
        int lo_line = L, hi_line = -1;
        for (int a = 0; a < L; a++)
            for (int b = 0; b < M; b++) {
                int idx = pass ? b * v->nx + a : a * v->nx + b;
                if (map[idx] >= 0) {
                    lo_line = a < lo_line ? a : lo_line;
                    hi_line = a > hi_line ? a : hi_line;
                }
            }
        int span = hi_line - lo_line;
        for (int a = lo_line + span / 10; a <= hi_line - span / 10; a++) {
            int pf = -1, pl = -1, If = -1, Il = -1;
            for (int b = 0; b < M; b++) {
                int idx = pass ? b * v->nx + a : a * v->nx + b;
                if (map[idx] >= 0) {
                    if (pf < 0)
                        pf = b;
                    pl = b;
                }
                if (mag[idx] > frac * ref) {
                    if (If < 0)
                        If = b;
                    Il = b;
                }
            }
            int e = abs(pf - If) > abs(pl - Il) ? abs(pf - If) : abs(pl - Il);
            if (e > tol && getenv("LARMOR_TEST_VERBOSE"))
                fprintf(stderr, "\nedge off by %d: %s %d: phantom %d..%d, image %d..%d", e,
                        pass ? "column" : "row", a, pf, pl, If, Il);
            worst = e > worst ? e : worst;
            lines++;
        }
    }
    CU_ASSERT(lines > (v->nx + v->ny) / 2);
    CU_ASSERT(worst <= tol);
    if (worst > tol)
        fprintf(stderr, "\nedges: worst %d voxels over %d lines\n", worst, lines);
    free(mag);
}

/* The mean |I| over each tissue's core (voxels whose 5 x 5 neighbourhood is
   all that tissue). */
bool tissue_core(const int *map, int nx, int ny, int i, int j, int r)
{
    if (i < r || j < r || i >= nx - r || j >= ny - r)
        return false;
    int c = map[j * nx + i];
    if (c < 0)
        return false;
    for (int dj = -r; dj <= r; dj++)
        for (int di = -r; di <= r; di++)
            if (map[(j + dj) * nx + i + di] != c)
                return false;
    return true;
}

void tissue_means(const struct image_vol *v, size_t plane, const int *map, struct tissue *t,
                  int nt)
{
    for (int c = 0; c < nt; c++)
        t[c].sum = t[c].n = 0;
    const float complex *img = v->data + plane * (size_t)v->nx * v->ny;
    for (int j = 2; j < v->ny - 2; j++)
        for (int i = 2; i < v->nx - 2; i++) {
            int c = map[j * v->nx + i];
            if (tissue_core(map, v->nx, v->ny, i, j, 2)) {
                t[c].sum += cabsf(img[j * v->nx + i]);
                t[c].n++;
            }
        }
}

/* The measured means against the closed-form signal s[c] of each tissue:
   the same order, and each within 2 % after one common scale (measured:
   0.1 %; the cores sit 2 voxels from any edge, where Gibbs ringing is
   small). */
void expect_contrast(const char *what, const struct tissue *t, int nt, const double *s,
                     double rel_tol)
{
    double num = 0, den = 0;
    int used = 0;
    for (int c = 0; c < nt; c++)
        if (t[c].n >= 10) {
            num += s[c] * t[c].sum / t[c].n;
            den += s[c] * s[c];
            used++;
        }
    CU_ASSERT(used >= 2);
    double scale0 = den > 0 ? num / den : 0;
    if (getenv("LARMOR_TEST_VERBOSE"))
        for (int c = 0; c < nt; c++)
            fprintf(stderr, "\n%s: T1 %4.0f ms T2 %4.0f ms PD %.2f: %5d core voxels, mean %.4g, expected %.4g", what, t[c].t1 * 1e3, t[c].t2 * 1e3, t[c].pd, t[c].n, t[c].n ? t[c].sum / t[c].n : 0, scale0 * s[c]);
    double scale = num / den;
    for (int a = 0; a < nt; a++) {
        if (t[a].n < 10)
            continue;
        double ma = t[a].sum / t[a].n;
        bool ok = fabs(ma - scale * s[a]) < rel_tol * scale * s[a];
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "\n%s: T1 %.0f ms T2 %.0f ms PD %.2f: %.4g, expected %.4g\n", what,
                    t[a].t1 * 1e3, t[a].t2 * 1e3, t[a].pd, ma, scale * s[a]);
        for (int b = 0; b < nt; b++)
            if (t[b].n >= 10 && s[a] > 1.2 * s[b])
                CU_ASSERT(ma > t[b].sum / t[b].n);
    }
}

int *expect_image_of(const struct phantom *ph, const struct image_vol *v, int nx, int ny,
                     double frac, struct tissue *t, int *nt)
{
    CU_ASSERT_EQUAL(v->nx, nx);
    CU_ASSERT_EQUAL(v->ny, ny);
    int *map = tissue_map(ph, v, t, nt);
    expect_geometry(v, map, 1, frac);
    return map;
}
