/*
 * test_marcos_emu: the hardware path without hardware, over the wire: the
 * protocol emulator (tests/marcos-emu) driven by the larmor binary: a full
 * run reconstructing an image, the raw data `larmor simulate` writes, every
 * fault path, Ctrl-C, back-to-back runs. Each run gets its own emulator on
 * a free port and a scratch folder removed at its end.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "compiler/compile.h"
#include "base/diag.h"
#include "runtime/driver/driver.h"
#include "runtime/driver/events.h"
#include "runtime/driver/marcos.h"
#include "runtime/io/rawdata.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "tests/marcos_model.h"
#include "tests/scanutil.h"
#include "tests/testutil.h"

int register_marcos_emu_tests(void);

static struct system msys;      /* marcos_lowfield */

static int suite_init(void)
{
    return load_system("marcos_lowfield", &msys);
}

/* --- the emulator and the larmor binary ------------------------------------ */

static const char *builddir(void)
{
    const char *b = getenv("top_builddir");
    return b && *b ? b : ".";
}

struct emu {
    pid_t pid;
    int port;
    char dir[256];
    char log[300];
};

static char *slurp(const char *path)
{
    size_t len;
    char *t = read_file(path, &len);
    return t ? t : xstrdup("");
}

static bool file_has(const char *path, const char *what)
{
    char *t = slurp(path);
    bool r = strstr(t, what) != NULL;
    free(t);
    return r;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Start tests/marcos-emu on a free port of 127.0.0.1 with extra options. */
static void emu_start(struct emu *e, const char *const *extra)
{
    memset(e, 0, sizeof *e);
    const char *t = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/larmor-marcos-XXXXXX", t && *t ? t : "/tmp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(e->dir));
    snprintf(e->log, sizeof e->log, "%s/emu.log", e->dir);
    char *exe = xasprintf("%s/tests/marcos-emu", builddir());
    char *pf = xasprintf("%s/port", e->dir);
    const char *argv[24] = { exe, "--port", "0", "--port-file", pf, "--log", e->log, "--idle",
                             "60" };
    int n = 9;
    for (int i = 0; extra && extra[i] && n < 22; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    e->pid = fork();
    CU_ASSERT_FATAL(e->pid >= 0);
    if (e->pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 500 && !e->port; i++) {      /* up to 5 s */
        char *s = slurp(pf);
        e->port = atoi(s);
        free(s);
        if (!e->port)
            sleep_ms(10);
    }
    free(exe);
    free(pf);
    CU_ASSERT_FATAL(e->port > 0);
}

static void rm_tree(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
}

static void emu_stop(struct emu *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        waitpid(e->pid, NULL, 0);
    }
    rm_tree(e->dir);
}

/* Run `larmor run SEQ --driver URI -o OUT -D ...`; its stderr into *errtext.
   With sigint_on, send SIGINT once the emulator's log holds that text.
   Returns the exit status (-1 if it had to be killed). */
static int larmor_run(const struct emu *e, const char *seq, const char *uri_opts, const char *out,
                      const char *define, const char *sigint_on, char **errtext)
{
    char *exe = xasprintf("%s/larmor", builddir());
    char *path = sequence_path(seq);
    char *uri = xasprintf("marcos://127.0.0.1:%d%s", e->port, uri_opts ? uri_opts : "");
    char *errf_ = xasprintf("%s/stderr.txt", e->dir);
    const char *argv[] = { exe, "run", path, "--driver", uri, "-o", out, "-D",
                           define ? define : "matrix=16", NULL };
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int fd = open(errf_, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    bool sent = false;
    int rc = -1;
    for (int i = 0; i < 12000; i++) {                /* up to 120 s: never hang CI */
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (sigint_on && !sent && file_has(e->log, sigint_on)) {
            kill(pid, SIGINT);
            sent = true;
        }
        sleep_ms(10);
    }
    if (rc == -1 && waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        CU_FAIL("larmor run did not finish in 120 s");
    }
    *errtext = slurp(errf_);
    free(exe);
    free(path);
    free(uri);
    free(errf_);
    return rc;
}

/* The raw data of a run: acquisitions and whether marked incomplete. */
static size_t raw_info(const char *out, bool *incomplete)
{
    char *p = xasprintf("%s/raw.h5", out);
    char err[512];
    struct raw_file *f = raw_read(p, err, sizeof err);
    free(p);
    *incomplete = false;
    CU_ASSERT_PTR_NOT_NULL(f);
    if (!f) {
        fprintf(stderr, "\n%s\n", err);
        return 0;
    }
    for (size_t i = 0; i < f->hdr.nparams; i++)
        if (!strcmp(f->hdr.param_names[i], "larmor_incomplete") && f->hdr.param_values[i] == 1)
            *incomplete = true;
    size_t n = f->nacq;
    raw_file_free(f);
    return n;
}

/* The smallest and largest |sample| of a run's raw data. */
static void raw_magnitudes(const char *out, double *lo, double *hi)
{
    char *p = xasprintf("%s/raw.h5", out);
    char err[512];
    struct raw_file *f = raw_read(p, err, sizeof err);
    free(p);
    *lo = INFINITY;
    *hi = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < f->nacq; i++)
        for (uint32_t j = 0; j < f->acq[i].samples; j++) {
            double m = hypot(f->acq[i].data[2 * j], f->acq[i].data[2 * j + 1]);
            *lo = m < *lo ? m : *lo;
            *hi = m > *hi ? m : *hi;
        }
    raw_file_free(f);
}

/* The peak of a NIfTI-1 magnitude image: its x, y; the ratio of the peak
   to the mean of the voxels more than 2 away from it. */
static double nifti_peak(const char *path, int *px, int *py)
{
    size_t len;
    unsigned char *b = (unsigned char *)read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_FATAL(len > 352);
    int16_t dim[8], dt;
    float off;
    memcpy(dim, b + 40, sizeof dim);
    memcpy(&dt, b + 70, sizeof dt);
    memcpy(&off, b + 108, sizeof off);
    int nx = dim[1], ny = dim[2];
    CU_ASSERT_EQUAL_FATAL(dt, 16);               /* float32 */
    CU_ASSERT_FATAL((size_t)off + (size_t)nx * ny * 4 <= len);
    float *a = xmalloc((size_t)nx * ny * sizeof *a);
    memcpy(a, b + (size_t)off, (size_t)nx * ny * sizeof *a);
    int best = 0;
    for (int i = 1; i < nx * ny; i++)
        if (a[i] > a[best])
            best = i;
    *px = best % nx;
    *py = best / nx;
    double sum = 0;
    int cnt = 0;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
            if (abs(i - *px) > 2 || abs(j - *py) > 2) {
                sum += a[j * nx + i];
                cnt++;
            }
    double ratio = cnt && sum > 0 ? a[best] / (sum / cnt) : 0;
    free(a);
    free(b);
    return ratio;
}

/* A full run of the gradient echo against the emulator reconstructs the
   emulated object, a point 40 mm along x and -30 mm along y, where the
   gradients put it; on OCRA1 twice (back to back), then on GPA-FHDO (16-bit
   DACs, staggered axes). */
static void test_emu_image(void)
{
    static const struct { const char *opts; double codemax; int passes; } boards[] = {
        { NULL, 131071, 2 }, { "?board=gpa-fhdo", 32767, 1 },
    };
    for (size_t b = 0; b < ARRAY_LEN(boards); b++) {
        /* phase per (DAC code x cycle): 2 pi gamma-bar (full scale / code max) r / clock */
        double c = 2 * M_PI * msys.gamma * (msys.max_grad_axis[0] / boards[b].codemax) /
                   MARCOS_CLOCK_HZ;
        char ks[128];
        snprintf(ks, sizeof ks, "%.12g,%.12g,0", c * 0.040, c * -0.030);
        const char *extra[] = { "--k-scale", ks, NULL };
        struct emu e;
        emu_start(&e, extra);
        for (int pass = 0; pass < boards[b].passes; pass++) {
            char *out = xasprintf("%s/run%d", e.dir, pass);
            char *err = NULL;
            int rc = larmor_run(&e, "gradient_echo", boards[b].opts, out, "matrix=32", NULL,
                                &err);
            CU_ASSERT_EQUAL(rc, 0);
            if (rc)
                fprintf(stderr, "\n%s\n", err);
            bool inc;
            CU_ASSERT_EQUAL(raw_info(out, &inc), 32);
            CU_ASSERT_FALSE(inc);
            /* a point's signal is a pure phase: every sample has the same
               magnitude (the TX peak's, scaled by rx_full_scale), to the
               emulator's integer rounding */
            double lo, hi;
            raw_magnitudes(out, &lo, &hi);
            CU_ASSERT(lo > 0 && hi < lo * 1.01);
            char *nii = xasprintf("%s/image.nii", out);
            int px, py;
            double ratio = nifti_peak(nii, &px, &py);
            /* 32 voxels of 8 mm: x = 16 + 40/8, y = 16 - 30/8 = 12.25 */
            CU_ASSERT_EQUAL(px, 21);
            CU_ASSERT_EQUAL(py, 12);
            CU_ASSERT(ratio > 20);
            free(nii);
            free(err);
            free(out);
        }
        if (boards[b].passes == 2)
            CU_ASSERT(file_has(e.log, "run 2: "));
        emu_stop(&e);
    }
}

/* `larmor run` writes the raw data `larmor simulate` writes: the same
   header (matrix, FOV, limits, trajectory) and, per acquisition, the same
   labels, flags, sizes, centre sample, dwell and time; only the samples
   differ. */
static void test_run_raw_like_simulate(void)
{
    struct emu e;
    emu_start(&e, NULL);
    char *out = xasprintf("%s/run", e.dir);
    char *err = NULL;
    CU_ASSERT_EQUAL_FATAL(larmor_run(&e, "spin_echo", NULL, out, "matrix=32", NULL, &err), 0);
    free(err);
    char *sim = xasprintf("%s/sim.h5", e.dir);
    char *exe = xasprintf("%s/larmor", builddir());
    char *seq = sequence_path("spin_echo");
    char *cmd = xasprintf("'%s' simulate '%s' -D matrix=32 --system marcos_lowfield --phantom "
                          "shepp-logan:32 --quiet -o '%s' 2>/dev/null", exe, seq, sim);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    char *rp = xasprintf("%s/raw.h5", out);
    char e1[512], e2[512];
    struct raw_file *a = raw_read(rp, e1, sizeof e1), *b = raw_read(sim, e2, sizeof e2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->nacq, 32);
    CU_ASSERT_EQUAL_FATAL(a->nacq, b->nacq);
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(a->hdr.matrix[k], b->hdr.matrix[k]);
        CU_ASSERT_DOUBLE_EQUAL(a->hdr.fov[k], b->hdr.fov[k], 1e-9);
    }
    CU_ASSERT_STRING_EQUAL(a->hdr.trajectory ? a->hdr.trajectory : "",
                           b->hdr.trajectory ? b->hdr.trajectory : "");
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        CU_ASSERT_EQUAL(a->hdr.limits[l].min, b->hdr.limits[l].min);
        CU_ASSERT_EQUAL(a->hdr.limits[l].max, b->hdr.limits[l].max);
    }
    for (size_t i = 0; i < a->nacq; i++) {
        const struct raw_acq *x = &a->acq[i], *y = &b->acq[i];
        CU_ASSERT_EQUAL(x->samples, y->samples);
        CU_ASSERT_EQUAL(x->flags, y->flags);
        CU_ASSERT_EQUAL(x->centre_sample, y->centre_sample);
        CU_ASSERT_EQUAL(x->time_ns, y->time_ns);
        CU_ASSERT_DOUBLE_EQUAL(x->dwell, y->dwell, 1e-12);
        CU_ASSERT_EQUAL(memcmp(x->labels, y->labels, sizeof x->labels), 0);
        CU_ASSERT_EQUAL(memcmp(x->position, y->position, sizeof x->position), 0);
    }
    /* the lines were played in order 0..31 */
    CU_ASSERT_EQUAL(a->acq[31].labels[VM_LABEL_LIN], 31);
    raw_file_free(a);
    raw_file_free(b);
    free(rp);
    free(cmd);
    free(seq);
    free(exe);
    free(sim);
    free(out);
    emu_stop(&e);
}

/* The safe stop reached the console: halt, zeroing writes, emergency stop. */
static void expect_safe_stop(const struct emu *e)
{
    char *log = slurp(e->log);
    const char *h = strstr(log, "halt_and_reset");
    CU_ASSERT_PTR_NOT_NULL(h);
    CU_ASSERT(h && strstr(h, "direct 0x"));
    CU_ASSERT(h && strstr(h, "emergency_stop"));
    /* gradient x to zero (OCRA1: DAC register, code 0) and TX I to zero */
    CU_ASSERT(h && strstr(h, "direct 0x01000000"));
    CU_ASSERT(h && strstr(h, "direct 0x05000000"));
    /* the gradient core's control word (buffer 0) first, with "update on
       MSB writes" off: each channel's MSB word must wait for its LSB word
       (marcos_client's write_dac), else the new MSB goes out with the
       run's last LSB */
    const char *g = h ? strstr(h, "direct 0x00") : NULL;
    CU_ASSERT_PTR_NOT_NULL(g);
    if (g) {
        unsigned long w = strtoul(g + strlen("direct "), NULL, 16);
        CU_ASSERT_EQUAL(w >> 24, MB_GRAD_CTRL);
        CU_ASSERT_EQUAL(w & MG_CTRL_XFER, 0);
        CU_ASSERT_EQUAL(w & MG_CTRL_RESET_N, MG_CTRL_RESET_N);
        CU_ASSERT(g < strstr(h, "direct 0x01000000"));
    }
    free(log);
}

/* One `larmor run` of the gradient echo (-D matrix=16) against an emulator
   of its own; owns the emulator, the output folder's name and the stderr
   text until emu_run_end. */
struct emu_run {
    struct emu e;
    char *out, *err;
};

/* Starts the emulator with extra options and runs larmor against it (see
   larmor_run); returns the exit status. */
static int emu_run_start(struct emu_run *r, const char *const *extra, const char *uri_opts,
                         const char *sigint_on)
{
    emu_start(&r->e, extra);
    r->out = xasprintf("%s/run", r->e.dir);
    r->err = NULL;
    return larmor_run(&r->e, "gradient_echo", uri_opts, r->out, NULL, sigint_on, &r->err);
}

static void emu_run_end(struct emu_run *r)
{
    free(r->err);
    free(r->out);
    emu_stop(&r->e);
}

/* The run's raw data holds n acquisitions, marked incomplete or not. */
static void expect_raw(const char *out, size_t n, bool incomplete)
{
    bool inc;
    CU_ASSERT_EQUAL(raw_info(out, &inc), n);
    CU_ASSERT_EQUAL(inc, incomplete);
}

/* Every server error: shown with its text, safe stop, partial data marked
   incomplete, exit status 1, no image. */
static void test_emu_server_errors(void)
{
    static const char *const kinds[][2] = {
        { "underrun", "memory buffer underrun around byte address" },
        { "rxfull", "RX FIFO/s full" },
        { "overflow", "output buffers overflowed" },
        { "ocra1", "ocra1 data was lost" },
        { "fhdo", "gpa-fhdo gradient error; possibly missing samples" },
    };
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        const char *extra[] = { "--fault", kinds[k][0], NULL };
        struct emu_run r;
        CU_ASSERT_EQUAL(emu_run_start(&r, extra, NULL, NULL), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, kinds[k][1]));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "safe stop done"));
        expect_safe_stop(&r.e);
        expect_raw(r.out, 8, true);     /* half of the 16 lines arrived */
        char *nii = xasprintf("%s/image.nii", r.out);
        struct stat st;
        CU_ASSERT_NOT_EQUAL(stat(nii, &st), 0);
        free(nii);
        emu_run_end(&r);
    }
}

static void test_emu_warning(void)
{
    const char *extra[] = { "--fault", "warning", NULL };
    struct emu_run r;
    CU_ASSERT_EQUAL(emu_run_start(&r, extra, NULL, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "marcos: server warning: RX FIFO nearly full"));
    expect_raw(r.out, 16, false);
    CU_ASSERT_FALSE(file_has(r.e.log, "halt_and_reset"));
    emu_run_end(&r);
}

/* A server of another minor version: warned, the run completes; of
   another major version: nothing is sent. */
static void test_emu_version(void)
{
    const char *minor[] = { "--server-version", "1.1.0", NULL };
    struct emu_run r;
    CU_ASSERT_EQUAL(emu_run_start(&r, minor, NULL, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the server is version 1.1.0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "server warning: Client version 1.0.5 different from "
                                         "server version 1.1.0"));
    expect_raw(r.out, 16, false);
    emu_run_end(&r);
    const char *major[] = { "--server-version", "2.0.0", NULL };
    CU_ASSERT_EQUAL(emu_run_start(&r, major, NULL, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "protocol version 2.0.0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nothing was sent"));
    CU_ASSERT_FALSE(file_has(r.e.log, "run_seq"));
    emu_run_end(&r);
}

/* A dropped connection, a console that stops answering, a reply that is
   not one: safe stop,
   an empty file marked incomplete, exit status 1. */
static void test_emu_lost(void)
{
    static const char *const kinds[][3] = {
        { "drop", "", "connection to the console lost" },
        { "hang", "?timeout=1", "did not answer run_seq" },
        { "garbage", "", "not a MaRCoS reply" },
    };
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        const char *extra[] = { "--fault", kinds[k][0], NULL };
        struct emu_run r;
        CU_ASSERT_EQUAL(emu_run_start(&r, extra, kinds[k][1], NULL), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, kinds[k][2]));
        expect_safe_stop(&r.e);
        expect_raw(r.out, 0, true);
        emu_run_end(&r);
    }
}

/* The console vanishes: the safe stop cannot be sent, and the message
   says so. */
static void test_emu_gone(void)
{
    const char *extra[] = { "--fault", "die", NULL };
    struct emu_run r;
    CU_ASSERT_EQUAL(emu_run_start(&r, extra, "?timeout=1", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "THE SAFE STOP FAILED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "by hand"));
    CU_ASSERT_PTR_NULL(strstr(r.err, "safe stop done"));
    expect_raw(r.out, 0, true);
    emu_run_end(&r);
}

/* Ctrl-C while the console runs: safe stop, exit status 130. */
static void test_emu_sigint(void)
{
    const char *extra[] = { "--fault", "hang", NULL };
    struct emu_run r;
    CU_ASSERT_EQUAL(emu_run_start(&r, extra, "?timeout=30", "hanging"), 130);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "interrupted"));
    expect_safe_stop(&r.e);
    bool inc;
    raw_info(r.out, &inc);
    CU_ASSERT(inc);
    emu_run_end(&r);
}

/* A fault, then the next runs on the same console work. */
static void test_emu_back_to_back(void)
{
    const char *extra[] = { "--fault", "underrun", "--fault-run", "1", NULL };
    struct emu e;
    emu_start(&e, extra);
    for (int i = 0; i < 3; i++) {
        char *out = xasprintf("%s/run%d", e.dir, i);
        char *err = NULL;
        int rc = larmor_run(&e, "gradient_echo", NULL, out, NULL, NULL, &err);
        CU_ASSERT_EQUAL(rc, i == 0 ? 1 : 0);
        bool inc;
        CU_ASSERT_EQUAL(raw_info(out, &inc), i == 0 ? 8u : 16u);
        CU_ASSERT_EQUAL(inc, i == 0);
        free(err);
        free(out);
    }
    emu_stop(&e);
}

/* Nothing is sent: no console listening, or a program the driver refuses. */
static void test_emu_nothing_sent(void)
{
    /* refused at prepare: gradient transfers too close at spi_div 63 */
    struct emu_run r;
    CU_ASSERT_EQUAL(emu_run_start(&r, NULL, "?spi_div=63", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "gradient_echo.psq:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "error[E0908]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nothing was sent"));
    CU_ASSERT_FALSE(file_has(r.e.log, "run_seq"));
    free(r.err);
    /* a port nobody listens on */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    getsockname(s, (struct sockaddr *)&sa, &sl);
    struct emu dead = r.e;
    dead.port = ntohs(sa.sin_port);
    close(s);
    CU_ASSERT_EQUAL(larmor_run(&dead, "gradient_echo", "?timeout=1", r.out, NULL, NULL, &r.err),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "cannot connect"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nothing was sent"));
    emu_run_end(&r);
}

int register_marcos_emu_tests(void)
{
    static const struct test_def tests[] = {
        { "emulator: larmor run reconstructs the image, twice", test_emu_image },
        { "larmor run writes the raw data larmor simulate writes", test_run_raw_like_simulate },
        { "emulator: every server error ends in a safe stop", test_emu_server_errors },
        { "emulator: a warning is shown, the run completes", test_emu_warning },
        { "emulator: lost connection and timeout", test_emu_lost },
        { "emulator: server versions", test_emu_version },
        { "emulator: Ctrl-C", test_emu_sigint },
        { "emulator: the console vanishes", test_emu_gone },
        { "emulator: back-to-back runs after a fault", test_emu_back_to_back },
        { "emulator: nothing sent when refused or unreachable", test_emu_nothing_sent },
    };
    return TEST_ADD_FIXTURE_SUITE("marcos.emu", suite_init, NULL, tests);
}
