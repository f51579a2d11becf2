/*
 * test_plot: the plots and the numbers behind them.
 *
 *  - every sequence in sequences/ (the folder is read at test time, so new
 *    ones are covered) plots as a timing diagram (whole, and one
 *    repetition with block marks), a k-space trajectory and the SAR/PNS
 *    timelines in every format: the file is there and not empty, a PNG has
 *    the documented pixel size (read back with cairo), an SVG starts with
 *    "<?xml" and names the svg namespace, a PDF starts with "%PDF-";
 *  - the k-space sample positions of sequences/gradient_echo.psq equal the
 *    analytic Cartesian grid derived from its params (below), to 1e-3 of
 *    1/FOV, for two sizes;
 *  - k-space bookkeeping on small programs: a refocusing pulse negates k,
 *    an excitation resets it, an arbitrary gradient integrates exactly;
 *  - the maximum of the SAR timeline equals the check's summary for every
 *    region and window (to 1e-12 relative), and the PNS timeline's
 *    maximum equals the check's PNS peak;
 *  - bad windows and repetitions give an error naming the range, and
 *    nothing is written;
 *  - the scan overview has its size, the k-space peak and the image where
 *    they belong.
 */
#include <cairo.h>
#include <complex.h>
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "runtime/check/check.h"
#include "base/diag.h"
#include "runtime/wave/kspace_traj.h"
#include "runtime/wave/traj_kind.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/plot/plot.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "tests/testutil.h"
#include "vm/vm.h"

int register_plot_tests(void);

static char pl_dir[4096];

static int suite_init(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(pl_dir, sizeof pl_dir, "%s/larmor_plot_XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(pl_dir) ? 0 : 1;
}

static int suite_fini(void)
{
    DIR *d = opendir(pl_dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.')
                continue;
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", pl_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(pl_dir);
    plot_cleanup();
    return 0;
}

static const char *src_dir(void)
{
    const char *t = getenv("top_srcdir");
    return t && *t ? t : ".";
}

/* Compile a file with defines on the default system (the shipped
   generic_3t); the check object goes to *ck when ck is not NULL. */
static struct lbc_program *compile_path(const char *path, const char **defs, int ndefs,
                                        struct system *sys, struct check **ck)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = NULL;
    if (system_resolve(NULL, test_stdlib_dir(), sys, &d) == 0) {
        struct compile_opts o;
        memset(&o, 0, sizeof o);
        o.path = path;
        o.stdlib_dir = test_stdlib_dir();
        o.sys = sys;
        o.defines = defs;
        o.ndefines = ndefs;
        o.check_out = ck;
        p = compile_file(&o, &d);
    }
    if (d.nerrors)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return p;
}

static struct lbc_program *compile_src(const char *src, struct system *sys)
{
    struct diag_ctx d;
    diag_init(&d);
    system_default(sys);
    struct compile_opts o;
    memset(&o, 0, sizeof o);
    o.path = "plot.psq";
    o.stdlib_dir = test_stdlib_dir();
    o.sys = sys;
    struct lbc_program *p = compile_text("plot.psq", src, strlen(src), &o, &d);
    if (d.nerrors)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    return p;
}

/* The file is there and starts as its format must; a PNG is w × h. */
static void expect_file(const char *path, enum plot_format fmt, int w, int h)
{
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT(st.st_size > 100);
    char head[256] = { 0 };
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    CU_ASSERT(n > 8);
    if (fmt == PLOT_SVG) {
        CU_ASSERT_EQUAL(strncmp(head, "<?xml", 5), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(head, "http://www.w3.org/2000/svg"));
    } else if (fmt == PLOT_PDF) {
        CU_ASSERT_EQUAL(strncmp(head, "%PDF-", 5), 0);
    } else {
        CU_ASSERT_EQUAL(memcmp(head, "\x89PNG\r\n\x1a\n", 8), 0);
        cairo_surface_t *s = cairo_image_surface_create_from_png(path);
        CU_ASSERT_EQUAL(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
        CU_ASSERT_EQUAL(cairo_image_surface_get_width(s), w);
        CU_ASSERT_EQUAL(cairo_image_surface_get_height(s), h);
        cairo_surface_destroy(s);
    }
}

static void test_every_sequence_every_format(void)
{
    char seqdir[4096];
    snprintf(seqdir, sizeof seqdir, "%s/sequences", src_dir());
    DIR *d = opendir(seqdir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const char *ext[3] = { "png", "svg", "pdf" };
    static const enum plot_format fmt[3] = { PLOT_PNG, PLOT_SVG, PLOT_PDF };
    int nseq = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!str_has_suffix(e->d_name, ".psq"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", seqdir, e->d_name);
        struct system sys;
        struct lbc_program *p = compile_path(path, NULL, 0, &sys, NULL);
        CU_ASSERT_PTR_NOT_NULL(p);
        if (!p) {
            fprintf(stderr, "\n%s does not compile\n", path);
            continue;
        }
        nseq++;
        for (int k = 0; k < 4; k++)
            for (int x = 0; x < 3; x++) {
                struct plot_opts o;
                plot_opts_init(&o);
                char out[8192], err[1024] = "";
                snprintf(out, sizeof out, "%s/%.*s_%d.%s", pl_dir,
                         (int)(strlen(e->d_name) - 4), e->d_name, k, ext[x]);
                int rc, w, h;
                switch (k) {
                case 0:          /* the whole sequence */
                    rc = plot_timing(p, &sys, &o, out, err, sizeof err);
                    w = PLOT_TIMING_W, h = PLOT_TIMING_H;
                    break;
                case 1:          /* one repetition, with the blocks marked */
                    o.rep = 1;
                    o.blocks = true;
                    rc = plot_timing(p, &sys, &o, out, err, sizeof err);
                    w = PLOT_TIMING_W, h = PLOT_TIMING_H;
                    break;
                case 2:
                    rc = plot_kspace(p, &sys, &o, out, err, sizeof err);
                    w = PLOT_KSPACE_W, h = PLOT_KSPACE_H;
                    break;
                default:
                    o.width = 900;
                    rc = plot_safety(p, &sys, PLOT_SAR | PLOT_PNS, &o, out, err, sizeof err);
                    w = 900, h = 3 * PLOT_SAFETY_H;
                    break;
                }
                CU_ASSERT_EQUAL(rc, 0);
                if (rc) {
                    fprintf(stderr, "\n%s: %s\n", out, err);
                    continue;
                }
                expect_file(out, fmt[x], w, h);
            }
        lbc_free(p);
    }
    closedir(d);
    CU_ASSERT(nseq >= 2);
}

/*
 * The analytic grid of sequences/gradient_echo.psq, from its params and
 * the stdlib's readout (stdlib/readout.psq):
 *   readout: amplitude A = N / (FOV·γ̄·T) with T = N·dwell the ADC window,
 *     flat top = T when T lies on the gradient raster (it does here), the
 *     ADC starting at the end of the ramp; the prephaser's area is
 *     −A·(rise/2 + flat/2). Sample i lies at (i + 1/2)·dwell into the ADC
 *     (the simulator's and Pulseq's sampling), so
 *       kx_i = γ̄·A·((i + 1/2)·dwell − T/2) = (i + 1/2 − N/2) / FOV.
 *   phase encoding: line ℓ plays the largest-area lobe (area −(N/2)/FOV/γ̄)
 *     scaled by (N/2 − ℓ)/(N/2), so ky_ℓ = (ℓ − N/2) / FOV.
 *   slice: the rephaser undoes the select moment after the RF centre, so
 *     kz = 0.
 * (k = 0 lies half a sample before sample N/2: the stdlib centres the
 * ADC window on the flat top.)
 */
static void check_gre_grid(const char *fov_def, double fov, const char *mat_def, int n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sequences/gradient_echo.psq", src_dir());
    const char *defs[2] = { fov_def, mat_def };
    struct system sys;
    struct lbc_program *p = compile_path(path, defs, 2, &sys, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct ktraj_opts ko = { .gamma = sys.gamma, .to_ns = -1 };
    struct ktraj *kt = ktraj_new(&ko);
    struct vm_backend be;
    ktraj_backend(kt, &be);
    CU_ASSERT_EQUAL(vm_run(p, &be, NULL, NULL), 0);
    size_t ns;
    const struct ktraj_sample *s = ktraj_samples(kt, &ns);
    CU_ASSERT_EQUAL(ns, (size_t)n * n);
    double tol = 1e-3 / fov, worst[3] = { 0, 0, 0 };
    for (size_t j = 0; j < ns; j++) {
        double kx = (s[j].index + 0.5 - n / 2.0) / fov;
        double ky = (s[j].lin - n / 2.0) / fov;
        double e[3] = { fabs(s[j].k[0] - kx), fabs(s[j].k[1] - ky), fabs(s[j].k[2]) };
        for (int a = 0; a < 3; a++)
            worst[a] = fmax(worst[a], e[a]);
        CU_ASSERT_EQUAL(s[j].lin, (int32_t)s[j].adc);   /* one line per TR, in order */
    }
    CU_ASSERT(worst[0] < tol);
    CU_ASSERT(worst[1] < tol);
    CU_ASSERT(worst[2] < tol);
    if (!(worst[0] < tol && worst[1] < tol && worst[2] < tol))
        fprintf(stderr, "\nk-space errors (1/m): x %g y %g z %g, tolerance %g\n", worst[0],
                worst[1], worst[2], tol);
    ktraj_free(kt);
    lbc_free(p);
}

static void test_gre_kspace_grid(void)
{
    check_gre_grid("fov=256mm", 0.256, "matrix=128", 128);
    check_gre_grid("fov=200mm", 0.200, "matrix=64", 64);
}

/* Run a program text through the k-space backend. */
static struct ktraj *trajectory(const char *src, struct system *sys)
{
    struct lbc_program *p = compile_src(src, sys);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (!p)
        return NULL;
    struct ktraj_opts ko = { .gamma = sys->gamma, .to_ns = -1 };
    struct ktraj *kt = ktraj_new(&ko);
    struct vm_backend be;
    ktraj_backend(kt, &be);
    CU_ASSERT_EQUAL(vm_run(p, &be, NULL, NULL), 0);
    lbc_free(p);
    return kt;
}

static void test_kspace_rf_and_shapes(void)
{
    struct system sys;
    /* a lobe of area 10 mT/m · 1 ms + ramps of 0.2 ms (area 12 mT/m·ms),
       a refocusing pulse, then an ADC of one sample right after: k = −γ̄·area */
    const char *src =
        "import rf\n"
        "let exc = rf.hard(flip = 90 deg)\n"
        "let ref = rf.hard(flip = 180 deg, dur = 1 ms, use = \"refocusing\")\n"
        "sequence {\n"
        "    block { rf exc }\n"
        "    block { grad x { amp: 10 mT/m, rise: 200 us, flat: 1 ms } }\n"
        "    block { rf ref }\n"
        "    block { adc { samples: 1, dwell: 10 us, delay: 10 us } }\n"
        "    block { rf exc }\n"
        "    block { adc { samples: 1, dwell: 10 us, delay: 10 us } }\n"
        "}\n";
    struct ktraj *kt = trajectory(src, &sys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kt);
    size_t ns;
    const struct ktraj_sample *s = ktraj_samples(kt, &ns);
    CU_ASSERT_EQUAL_FATAL(ns, 2);
    double area = 10e-3 * 1.2e-3;
    CU_ASSERT_DOUBLE_EQUAL(s[0].k[0], -sys.gamma * area, 1e-9 * sys.gamma * area);
    CU_ASSERT_DOUBLE_EQUAL(s[1].k[0], 0, 1e-12);     /* reset by the excitation */
    ktraj_free(kt);

    /* an arbitrary waveform, a triangle sampled on the raster: the
       integral of the piecewise-linear model through the samples at
       raster centres, held half a raster at both ends, is
       dt·(Σ v − (v0 + vn)/2) + dt/2·(v0 + vn) = dt·Σ v */
    const char *src2 =
        "import rf\n"
        "let exc = rf.hard(flip = 30 deg)\n"
        "sequence {\n"
        "    block { rf exc }\n"
        "    block { grad y { waveform: [0 mT/m, 1 mT/m, 2 mT/m, 3 mT/m, 4 mT/m, 3 mT/m, "
        "2 mT/m, 1 mT/m, 0 mT/m], dt: 10 us } }\n"
        "    block { adc { samples: 1, dwell: 10 us, delay: 10 us } }\n"
        "}\n";
    kt = trajectory(src2, &sys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kt);
    s = ktraj_samples(kt, &ns);
    CU_ASSERT_EQUAL_FATAL(ns, 1);
    double sum = 16e-3;         /* T/m */
    CU_ASSERT_DOUBLE_EQUAL(s[0].k[1], sys.gamma * 10e-6 * sum, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(s[0].k[0], 0, 1e-12);
    size_t np;
    ktraj_path(kt, &np);
    CU_ASSERT(np > 4);
    ktraj_free(kt);
}

struct peak {
    double max;
    int64_t last_t;
    bool ordered;
};

static void on_pns(void *ctx, int64_t t, double level)
{
    struct peak *pk = ctx;
    if (level > pk->max)
        pk->max = level;
    if (t < pk->last_t)
        pk->ordered = false;
    pk->last_t = t;
}

static void test_timelines_match_check(void)
{
    static const char *names[] = { "spin_echo.psq", "gradient_echo.psq" };
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sequences/%s", src_dir(), names[i]);
        struct system sys;
        struct check *ck = NULL;
        struct lbc_program *p = compile_path(path, NULL, 0, &sys, &ck);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
        const struct check_summary *sum = check_get_summary(ck);
        int nregions = 0;
        for (int r = 0; r < SAR__COUNT; r++)
            for (int k = 0; k < 2; k++) {
                size_t n;
                struct check_tl_point *v = check_sar_timeline(ck, r, k, &n);
                if (!sys.sar_region_on[r]) {
                    CU_ASSERT_PTR_NULL(v);
                    continue;
                }
                nregions++;
                CU_ASSERT_PTR_NOT_NULL_FATAL(v);
                double mx = 0;
                for (size_t j = 0; j < n; j++) {
                    mx = fmax(mx, v[j].v);
                    if (j)
                        CU_ASSERT(v[j].t_ns > v[j - 1].t_ns);
                }
                CU_ASSERT(v[0].t_ns == 0 && v[n - 1].t_ns == sum->total_ns);
                CU_ASSERT(sum->sar[r][k] > 0);
                CU_ASSERT_DOUBLE_EQUAL(mx, sum->sar[r][k], 1e-12 * sum->sar[r][k]);
                free(v);
            }
        CU_ASSERT(nregions >= 2);
        /* the PNS hook of a second run peaks at the summary's value */
        struct peak pk = { 0, 0, true };
        struct check *c2 = check_new(&sys);
        check_set_pns_hook(c2, on_pns, &pk);
        struct vm_backend be;
        check_backend(c2, &be);
        CU_ASSERT_EQUAL(vm_run(p, &be, NULL, NULL), 0);
        CU_ASSERT_DOUBLE_EQUAL(pk.max, sum->pns.value, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(check_get_summary(c2)->pns.value, sum->pns.value, 1e-15);
        CU_ASSERT_TRUE(pk.ordered);
        check_free(c2);
        check_free(ck);
        lbc_free(p);
    }
}

static void test_bad_windows(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sequences/gradient_echo.psq", src_dir());
    const char *defs[1] = { "matrix=16" };
    struct system sys;
    struct lbc_program *p = compile_path(path, defs, 1, &sys, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[8192], err[1024];
    snprintf(out, sizeof out, "%s/bad.png", pl_dir);
    struct plot_opts o;
    plot_opts_init(&o);
    o.rep = 16;
    CU_ASSERT_EQUAL(plot_timing(p, &sys, &o, out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "16 repetitions (0 to 15)"));
    plot_opts_init(&o);
    o.from_ns = 10000000000LL;
    CU_ASSERT_EQUAL(plot_kspace(p, &sys, &o, out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not before the end of the sequence (240 ms)"));
    plot_opts_init(&o);
    o.from_ns = 5000000;
    o.to_ns = 1000000;
    CU_ASSERT_EQUAL(plot_safety(p, &sys, PLOT_SAR, &o, out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not after --from"));
    plot_opts_init(&o);
    snprintf(out, sizeof out, "%s/bad.jpg", pl_dir);
    CU_ASSERT_EQUAL(plot_timing(p, &sys, &o, out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ".png, .svg or .pdf"));
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(out, &st), 0);
    snprintf(out, sizeof out, "%s/bad.png", pl_dir);
    CU_ASSERT_NOT_EQUAL(stat(out, &st), 0);
    /* a folder that does not exist: the error names the file */
    snprintf(out, sizeof out, "%s/no/such/dir/x.svg", pl_dir);
    CU_ASSERT_EQUAL(plot_timing(p, &sys, &o, out, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "x.svg: cannot create the file"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not exist"));
    lbc_free(p);
}

/* The scan overview: a k-space of one point (a flat image) and an image
   with a bright square give a PNG of the documented size, with the
   k-space's peak white at the centre of its panel. */
static void test_overview(void)
{
    struct kspace k;
    memset(&k, 0, sizeof k);
    k.nx = 64;
    k.ny = 32;
    k.nz = 1;
    k.ncoils = 2;
    k.nslices = k.nframes = 1;
    k.data = xcalloc((size_t)2 * 64 * 32, sizeof *k.data);
    k.data[16 * 64 + 32] = 3;                      /* coil 0, the centre */
    k.data[64 * 32 + 16 * 64 + 32] = 4 * I;        /* coil 1: |S| = 5 */
    struct plot_overview *ov = plot_overview_new();
    plot_overview_kspace(ov, &k);
    free(k.data);
    struct image_vol *v = image_new(32, 32, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int y = 8; y < 24; y++)
        for (int x = 8; x < 24; x++)
            v->data[y * 32 + x] = 1;
    char out[8192], err[1024];
    snprintf(out, sizeof out, "%s/overview.png", pl_dir);
    CU_ASSERT_EQUAL(plot_overview_write(ov, v, "test", out, err, sizeof err), 0);
    expect_file(out, PLOT_PNG, 2 * 512 + 60, 512 + 80);
    cairo_surface_t *s = cairo_image_surface_create_from_png(out);
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
        const unsigned char *d = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        /* the k-space panel spans x 552..1064, y 50..562; 64 x 32 scaled by 8
           and centred: the centre point (32, 16) lies at x 552 + 256 + 4,
           y 50 + 128 + 128 + 4 */
        uint32_t px = *(const uint32_t *)(const void *)(d + (size_t)(50 + 260) * stride +
                                                        (552 + 260) * 4);
        CU_ASSERT_EQUAL(px & 0xffffff, 0xffffff);
        /* the image's square is white, its corner black */
        uint32_t in = *(const uint32_t *)(const void *)(d + (size_t)(50 + 256) * stride +
                                                        (20 + 256) * 4);
        uint32_t corner = *(const uint32_t *)(const void *)(d + (size_t)(50 + 4) * stride +
                                                            (20 + 4) * 4);
        CU_ASSERT_EQUAL(in & 0xffffff, 0xffffff);
        CU_ASSERT_EQUAL(corner & 0xffffff, 0);
    }
    cairo_surface_destroy(s);
    image_free(v);
    plot_overview_free(ov);
}

/* ---------- the kind of a trajectory, from k ---------- */

enum { TK_N = 32 };

/* One ADC of TK_N samples k(i) = c + a(i) (a on [-1, 1] along u, or the
   given curve) into t. */
static void tk_line(struct traj_kind *t, double cx, double cy, double ux, double uy, double kmax)
{
    struct ktraj_sample s[TK_N];
    memset(s, 0, sizeof s);
    for (int i = 0; i < TK_N; i++) {
        double a = kmax * (2.0 * i / (TK_N - 1) - 1);
        s[i].k[0] = cx + a * ux;
        s[i].k[1] = cy + a * uy;
        s[i].index = (uint32_t)i;
    }
    traj_kind_adc(t, s, TK_N);
}

static void tk_spiral(struct traj_kind *t, double phi, double kmax, double turns, int sense)
{
    struct ktraj_sample s[TK_N * 4];
    memset(s, 0, sizeof s);
    for (int i = 0; i < TK_N * 4; i++) {
        double q = (double)i / (TK_N * 4 - 1);
        s[i].k[0] = kmax * q * cos(sense * 2 * M_PI * turns * q + phi);
        s[i].k[1] = kmax * q * sin(sense * 2 * M_PI * turns * q + phi);
    }
    traj_kind_adc(t, s, TK_N * 4);
}

/* Closed-form trajectories: each kind by its k alone. */
static void test_traj_kind_closed_form(void)
{
    struct traj_kind t;
    const double kmax = 125;            /* 1/m: 64 samples over 256 mm */
    /* Cartesian: lines along x at ky steps; EPI: the same, every other one
       reversed (reversal alone decides nothing: see radial below) */
    traj_kind_init(&t);
    for (int l = 0; l < 16; l++)
        tk_line(&t, 0, (l - 8) * 15.6, 1, 0, kmax);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "cartesian");
    traj_kind_init(&t);
    for (int l = 0; l < 16; l++)
        tk_line(&t, 0, (l - 8) * 15.6, l % 2 ? -1 : 1, 0, kmax);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, true, true), "epi");
    /* radial: spokes through the centre at 16 angles, also when the
       readout's sign flips between spokes (read as "reversed lines") */
    traj_kind_init(&t);
    for (int j = 0; j < 16; j++)
        tk_line(&t, 0, 0, cos(M_PI * j / 16), sin(M_PI * j / 16), kmax);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "radial");
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, true, false), "radial");
    /* spiral: 8 interleaves of 3 turns, either sense */
    traj_kind_init(&t);
    for (int j = 0; j < 8; j++)
        tk_spiral(&t, 2 * M_PI * j / 8, kmax, 3, j % 2 ? 1 : -1);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, false), "spiral");
    /* other: lines along y (Larmor's recon reads along x), lines off the
       centre in several directions, and a zigzag */
    traj_kind_init(&t);
    for (int l = 0; l < 8; l++)
        tk_line(&t, (l - 4) * 15.6, 0, 0, 1, kmax);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "other");
    traj_kind_init(&t);
    tk_line(&t, 0, 40, 1, 0, kmax);
    tk_line(&t, 40, 0, 0, 1, kmax);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "other");
    traj_kind_init(&t);
    struct ktraj_sample z[TK_N];
    memset(z, 0, sizeof z);
    for (int i = 0; i < TK_N; i++) {
        z[i].k[0] = i * 4.0;
        z[i].k[1] = i % 2 ? 10 : -10;
    }
    traj_kind_adc(&t, z, TK_N);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "other");
    /* an FID (k still) fits anything: the labels decide, as before */
    traj_kind_init(&t);
    memset(z, 0, sizeof z);
    traj_kind_adc(&t, z, TK_N);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "cartesian");
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, false), "other");
    /* a Cartesian line sampled on its ramps is not evenly spaced */
    traj_kind_init(&t);
    for (int i = 0; i < TK_N; i++) {
        double q = 2.0 * i / (TK_N - 1) - 1;
        z[i].k[0] = kmax * q * fabs(q);
        z[i].k[1] = 0;
    }
    traj_kind_adc(&t, z, TK_N);
    CU_ASSERT_STRING_EQUAL(traj_kind_name(&t, false, true), "other");
}

/* The kind of what real programs play, through the k-space backend. */
static const char *program_traj_kind(struct lbc_program *p, const struct system *sys)
{
    struct traj_kind t;
    CU_ASSERT_EQUAL(traj_kind_run(&t, p, sys->gamma), 0);
    /* the reversed-line and LIN facts as the raw header's caller has them:
       here only the distinction cartesian/epi matters */
    return traj_kind_name(&t, false, true);
}

static void test_traj_kind_programs(void)
{
    static const struct { const char *file; const char *kind; } cases[] = {
        { "sequences/gradient_echo.psq", "cartesian" },
        { "sequences/gre3d.psq", "cartesian" },
        { "sequences/epi.psq", "cartesian" },      /* reversal is the caller's */
        { "tests/data/pulseq/pypulseq/write_radial_gre.seq", "radial" },
        { "tests/data/pulseq/pypulseq/write_ute.seq", "radial" },
        { "tests/data/pulseq/pypulseq/write_epi.seq", "cartesian" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", src_dir(), cases[i].file);
        struct system sys;
        struct lbc_program *p = NULL;
        if (str_has_suffix(path, ".seq")) {
            struct diag_ctx d;
            diag_init(&d);
            system_default(&sys);
            p = pulseq_read_file(path, NULL, &d);
            diag_fini(&d);
        } else {
            p = compile_path(path, NULL, 0, &sys, NULL);
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        const char *k = program_traj_kind(p, &sys);
        CU_ASSERT_STRING_EQUAL(k, cases[i].kind);
        if (strcmp(k, cases[i].kind))
            fprintf(stderr, "\n%s: %s, expected %s\n", cases[i].file, k, cases[i].kind);
        lbc_free(p);
    }
}

int register_plot_tests(void)
{
    static const struct test_def tests[] = {
        { "every sequence in every format", test_every_sequence_every_format },
        { "gradient echo k-space grid", test_gre_kspace_grid },
        { "k-space: RF uses and shapes", test_kspace_rf_and_shapes },
        { "SAR and PNS timelines match the check", test_timelines_match_check },
        { "bad windows", test_bad_windows },
        { "scan overview", test_overview },
        { "trajectory kind: closed forms", test_traj_kind_closed_form },
        { "trajectory kind: programs", test_traj_kind_programs },
    };
    return TEST_ADD_FIXTURE_SUITE("plot", suite_init, suite_fini, tests);
}
