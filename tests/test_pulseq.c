/*
 * test_pulseq: the Pulseq .seq reader and writer (runtime/pulseq/), MD5.
 *
 * - MD5 against RFC 1321's test vectors.
 * - Every file of tests/data/pulseq/ (the pypulseq and MATLAB toolboxes'
 *   own expected outputs) imports, verifies its signature, traces to its
 *   end, and checks with the outcome worked out from its text.
 * - Events of a few files against values read by hand from the file.
 * - Export then import gives the same event stream for every sequence in
 *   sequences/, in formats 1.4 and 1.5; the exported file's MD5 verifies.
 * - An imported program keeps its origin (Pulseq) through a .lbc write and
 *   read; an unknown header flag bit is refused.
 * - Malformed input: each kind of damage is an error at its line.
 * - A shape declared past what its blocks can play is refused without
 *   being decoded (in a child process: under 0.1 s of CPU and 50 MB).
 * - write_gre.seq, imported, simulates and reconstructs to the phantom.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/check/check.h"
#include "base/md5.h"
#include "runtime/pulseq/pulseq.h"
#include "base/util.h"
#include "tests/scanutil.h"
#include "tests/testutil.h"
#include "vm/vm.h"

static char *data_path(const char *rel)
{
    const char *sl = test_stdlib_dir();
    return xasprintf("%s/../tests/data/pulseq/%s", sl ? sl : "stdlib", rel);
}

/* ---------- MD5 ---------- */

static void test_md5_rfc1321(void)
{
    static const char *const v[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        char hex[33];
        md5_hex(hex, v[i][0], strlen(v[i][0]));
        CU_ASSERT_STRING_EQUAL(hex, v[i][1]);
    }
    /* fed in pieces of every size: the same digest */
    const char *s = v[6][0];
    for (size_t step = 1; step < 70; step += 7) {
        struct md5 m;
        unsigned char d[16];
        char hex[33];
        md5_init(&m);
        for (size_t o = 0; o < strlen(s); o += step)
            md5_update(&m, s + o, strlen(s) - o < step ? strlen(s) - o : step);
        md5_final(&m, d);
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        CU_ASSERT_STRING_EQUAL(hex, v[6][1]);
    }
}

/* ---------- the event stream ---------- */

struct stream {
    struct vm_block *b;
    double **rf, **rfph, **g[3];   /* owned copies of the shapes */
    size_t n, cap;
    int64_t total;
};

static double *dup_shape(const double *v, uint32_t n)
{
    if (!v)
        return NULL;
    double *c = xmalloc((n ? n : 1) * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    return c;
}

static int st_block(void *ctx, const struct vm_block *b)
{
    struct stream *s = ctx;
    if (s->n == s->cap) {
        size_t c = s->cap;
        vec_reserve((void **)&s->b, &c, s->n + 1, sizeof *s->b);
        c = s->cap;
        vec_reserve((void **)&s->rf, &c, s->n + 1, sizeof *s->rf);
        c = s->cap;
        vec_reserve((void **)&s->rfph, &c, s->n + 1, sizeof *s->rfph);
        for (int a = 0; a < 3; a++) {
            c = s->cap;
            vec_reserve((void **)&s->g[a], &c, s->n + 1, sizeof *s->g[a]);
        }
        s->cap = c;
    }
    s->b[s->n] = *b;
    s->rf[s->n] = b->has_rf ? dup_shape(b->rf.mag, b->rf.n) : NULL;
    s->rfph[s->n] = b->has_rf ? dup_shape(b->rf.phase_shape, b->rf.n) : NULL;
    for (int a = 0; a < 3; a++)
        s->g[a][s->n] = b->has_grad[a] && b->grad[a].kind == GRAD_ARB ?
                        dup_shape(b->grad[a].shape, b->grad[a].n) : NULL;
    s->n++;
    return 0;
}

static int st_end(void *ctx, int64_t t)
{
    ((struct stream *)ctx)->total = t;
    return 0;
}

static int st_err(void *ctx, const struct vm_error *e)
{
    (void)ctx;
    fprintf(stderr, "vm error: %s\n", e->msg);
    return 0;
}

/* Play p; 0 if the run had no error. */
static int play(const struct lbc_program *p, struct stream *s)
{
    memset(s, 0, sizeof *s);
    struct vm_backend be;
    memset(&be, 0, sizeof be);
    be.ctx = s;
    be.block_end = st_block;
    be.end = st_end;
    struct vm_opts vo = { st_err, NULL, 0 };
    return vm_run(p, &be, &vo, NULL);
}

static void stream_free(struct stream *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rf[i]);
        free(s->rfph[i]);
        for (int a = 0; a < 3; a++)
            free(s->g[a][i]);
    }
    free(s->b);
    free(s->rf);
    free(s->rfph);
    for (int a = 0; a < 3; a++)
        free(s->g[a]);
}

/* Complex RF sample i (on the finest raster r) of block k. */
static void rf_at(const struct stream *s, size_t k, int64_t t_ns, double *re, double *im)
{
    const struct vm_rf *rf = &s->b[k].rf;
    size_t i = (size_t)(t_ns / rf->dt_ns);
    double m = rf->amp * s->rf[k][i], ph = s->rfph[k] ? s->rfph[k][i] : 0;
    *re = m * cos(ph);
    *im = m * sin(ph);
}

#define SAME(a, b, tol) (fabs((a) - (b)) <= (tol))

/* Two streams are the same sequence: the same blocks at the same ns, the
   same events with the same timing, labels at every ADC equal, and
   amplitudes equal to the format's precision (shapes are quantised to
   1e-7 of their peak, amplitudes written with 12 digits). RF is compared
   as the complex B1 at every raster step (Pulseq stores magnitude and
   phase, Larmor may hold a signed magnitude); with centre=false the RF
   centre and use are not compared (format 1.4 has no columns for them). */
static int streams_equal(const struct stream *x, const struct stream *y, bool centre)
{
    if (x->n != y->n || x->total != y->total) {
        fprintf(stderr, "blocks %zu vs %zu, total %lld vs %lld\n", x->n, y->n,
                (long long)x->total, (long long)y->total);
        return 0;
    }
    for (size_t k = 0; k < x->n; k++) {
        const struct vm_block *a = &x->b[k], *b = &y->b[k];
        bool ok = a->start_ns == b->start_ns && a->dur_ns == b->dur_ns && a->has_rf == b->has_rf &&
                  a->has_adc == b->has_adc && a->has_trig == b->has_trig;
        for (int i = 0; i < 3; i++)
            ok = ok && a->has_grad[i] == b->has_grad[i];
        if (ok && a->has_rf) {
            const struct vm_rf *p = &a->rf, *q = &b->rf;
            ok = p->delay_ns == q->delay_ns && p->dur_ns == q->dur_ns &&
                 (!centre || (p->use == q->use && p->centre_ns == q->centre_ns)) &&
                 SAME(p->freq, q->freq, 1e-9 * fabs(p->freq) + 1e-9) &&
                 SAME(remainder(p->phase - q->phase, 2 * M_PI), 0, 1e-9);
            double peak = 0;
            for (uint32_t i = 0; i < p->n; i++)
                peak = fmax(peak, fabs(p->amp * x->rf[k][i]));
            int64_t dt = p->dt_ns < q->dt_ns ? p->dt_ns : q->dt_ns;
            for (int64_t t = 0; ok && t < p->dur_ns; t += dt) {
                double r1, i1, r2, i2;
                rf_at(x, k, t, &r1, &i1);
                rf_at(y, k, t, &r2, &i2);
                ok = hypot(r1 - r2, i1 - i2) <= 2e-7 * peak + 1e-15;
            }
        }
        for (int i = 0; ok && i < 3; i++) {
            if (!a->has_grad[i])
                continue;
            const struct vm_grad *p = &a->grad[i], *q = &b->grad[i];
            ok = p->kind == q->kind && p->delay_ns == q->delay_ns && p->dur_ns == q->dur_ns;
            if (ok && p->kind == GRAD_TRAP)
                ok = p->rise_ns == q->rise_ns && p->flat_ns == q->flat_ns &&
                     p->fall_ns == q->fall_ns && SAME(p->amp, q->amp, 1e-11 * fabs(p->amp));
            else if (ok) {
                double peak = 0;
                for (uint32_t j = 0; j < p->n; j++)
                    peak = fmax(peak, fabs(p->amp * x->g[i][k][j]));
                ok = p->n == q->n && p->dt_ns == q->dt_ns;
                for (uint32_t j = 0; ok && j < p->n; j++)
                    ok = SAME(p->amp * x->g[i][k][j], q->amp * y->g[i][k][j], 2e-7 * peak);
            }
        }
        if (ok && a->has_adc) {
            const struct vm_adc *p = &a->adc, *q = &b->adc;
            ok = p->samples == q->samples && p->dwell_ns == q->dwell_ns &&
                 p->delay_ns == q->delay_ns &&
                 SAME(p->freq, q->freq, 1e-9 * fabs(p->freq) + 1e-9) &&
                 SAME(p->phase, q->phase, 1e-11 * fabs(p->phase) + 1e-12) &&
                 !memcmp(p->labels, q->labels, sizeof p->labels);
        }
        if (ok && a->has_trig)
            ok = a->trig.channel == b->trig.channel && a->trig.delay_ns == b->trig.delay_ns &&
                 a->trig.dur_ns == b->trig.dur_ns;
        if (!ok) {
            fprintf(stderr, "block %zu differs\n", k);
            return 0;
        }
    }
    return 1;
}

/* ---------- every test file ---------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .seq files of a folder under tests/data/pulseq, sorted. */
static char **list_seq(const char *sub, size_t *n)
{
    char *dir = data_path(sub);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (str_has_suffix(e->d_name, ".seq"))
            VEC_PUSH(v, *n, cap, xasprintf("%s/%s", dir, e->d_name));
    closedir(d);
    free(dir);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Errors of `larmor check` on the built-in generic 3 T. */
static int check_errors(const struct lbc_program *p, const char *name, int *slew, int *b1,
                        int *dead)
{
    struct system sys;
    system_default(&sys);
    struct check *ck = check_new(&sys);
    struct vm_backend be;
    check_backend(ck, &be);
    struct vm_opts vo = { st_err, NULL, 0 };
    CU_ASSERT_EQUAL(vm_run(p, &be, &vo, NULL), 0);
    struct diag_ctx d;
    diag_init(&d);
    check_report(ck, p, &d);
    *slew = *b1 = *dead = 0;
    for (size_t i = 0; i < d.ndiags; i++) {
        if (d.diags[i]->sev != DIAG_ERROR)
            continue;
        int c = d.diags[i]->code;
        *slew += c == 666;
        *b1 += c == 668;
        *dead += c == 662;
    }
    int n = check_count(ck, false);
    (void)name;
    diag_fini(&d);
    check_free(ck);
    return n;
}

static void test_every_file(void)
{
    static const char *const subs[] = { "pypulseq", "pulseq" };
    size_t total = 0;
    for (size_t s = 0; s < ARRAY_LEN(subs); s++) {
        size_t n;
        char **files = list_seq(subs[s], &n);
        for (size_t i = 0; i < n; i++) {
            struct diag_ctx d;
            diag_init(&d);
            struct pulseq_read_opts ro = { .strict = true };
            struct lbc_program *p = pulseq_read_file(files[i], &ro, &d);
            if (!p || d.nerrors) {
                fprintf(stderr, "%s:\n", files[i]);
                diag_print_all(&d, stderr, false);
            }
            CU_ASSERT_PTR_NOT_NULL(p);
            /* signature: every file but the pre-1.4 ones is signed and verifies */
            size_t len;
            char *text = read_file(files[i], &len);
            char found[33];
            int sig = pulseq_verify_md5(text, len, found);
            bool old = strstr(files[i], "mprage12") || strstr(files[i], "mprage13");
            CU_ASSERT_EQUAL(sig, old ? -1 : 1);
            free(text);
            if (p) {
                struct stream st;
                CU_ASSERT_EQUAL(play(p, &st), 0);   /* traces to its end */
                CU_ASSERT(st.n > 0);
                int slew, b1, dead;
                int ne = check_errors(p, files[i], &slew, &b1, &dead);
                /* the demo sequences (write_*.seq) were designed for a
                   system like the default and, apart from the pulses below,
                   pass; the toolboxes' unit-test files have no dead times */
                const char *base = strrchr(files[i], '/') + 1;
                if (!strcmp(base, "write_gre.seq") || !strcmp(base, "write_epi.seq") ||
                    !strcmp(base, "write_radial_gre.seq") || !strcmp(base, "write_ute.seq") ||
                    !strcmp(base, "write_gre_label.seq") || !strcmp(base, "write_epi_label.seq"))
                    CU_ASSERT_EQUAL(ne, 0);
                /* seq_trap_only: one trapezoid of 1.69492e6 Hz/m = 39.81 mT/m
                   rising in 240 us: 165.9 T/m/s, above the default 150 */
                if (!strcmp(base, "seq_trap_only.seq"))
                    CU_ASSERT(ne == 1 && slew == 1);
                /* the HASTE and TSE refocusing pulses: 1000 Hz over their
                   shapes' peak... read as B1 > 20 uT, the default's limit */
                if (!strcmp(base, "write_haste.seq") || !strcmp(base, "write_tse.seq"))
                    CU_ASSERT(b1 > 0 && slew == 0 && dead == 0);
                stream_free(&st);
            }
            lbc_free(p);
            diag_fini(&d);
            free(files[i]);
            total++;
        }
        free(files);
    }
    CU_ASSERT_EQUAL(total, 39);
}

/* ---------- values read by hand ---------- */

static struct lbc_program *import(const char *rel, struct stream *st)
{
    char *path = data_path(rel);
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_file(path, NULL, &d);
    if (!p)
        diag_print_all(&d, stderr, false);
    diag_fini(&d);
    free(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(play(p, st), 0);
    return p;
}

static void test_hand_read_mprage140(void)
{
    struct stream st;
    struct lbc_program *p = import("pypulseq/simple_mprage140.seq", &st);
    /* [BLOCKS] 1: 1012 x 10 us, RF 1 = 50 Hz, mag 1 [1 1], phase 2, time 3
       [0 10000]: a 10 ms block pulse, delay 100 us */
    const struct vm_block *b = &st.b[0];
    CU_ASSERT_EQUAL(b->dur_ns, 10120000);
    CU_ASSERT(b->has_rf);
    CU_ASSERT_DOUBLE_EQUAL(b->rf.amp * st.rf[0][0], 50 / 42.576e6, 1e-15);
    CU_ASSERT_EQUAL(b->rf.dur_ns, 10000000);
    CU_ASSERT_EQUAL(b->rf.delay_ns, 100000);
    /* 50 Hz for 10 ms: 180 degrees, above 100: not an excitation */
    CU_ASSERT_EQUAL(b->rf.use, VM_RFUSE_REFOCUSING);
    /* block 2: 10 x 10 us, empty */
    CU_ASSERT_EQUAL(st.b[1].dur_ns, 100000);
    CU_ASSERT(!st.b[1].has_rf && !st.b[1].has_adc);
    /* block 4: 100, gx 2, gy 3, gz 4 = [TRAP] 2 -77726.4 Hz/m 20 960 20 0 */
    b = &st.b[3];
    CU_ASSERT_EQUAL(b->dur_ns, 1000000);
    CU_ASSERT(b->has_grad[0] && b->grad[0].kind == GRAD_TRAP);
    CU_ASSERT_DOUBLE_EQUAL(b->grad[0].amp, -77726.4 / 42.576e6, 1e-12);
    CU_ASSERT_EQUAL(b->grad[0].rise_ns, 20000);
    CU_ASSERT_EQUAL(b->grad[0].flat_ns, 960000);
    CU_ASSERT_EQUAL(b->grad[2].rise_ns, 70000);
    /* block 5: 46, gx 5 (390625 Hz/m 70 320 70), ADC 1 = 32 x 10000 ns,
       delay 70 us, -1333.33 Hz */
    b = &st.b[4];
    CU_ASSERT(b->has_adc);
    CU_ASSERT_EQUAL(b->adc.samples, 32);
    CU_ASSERT_EQUAL(b->adc.dwell_ns, 10000);
    CU_ASSERT_EQUAL(b->adc.delay_ns, 70000);
    CU_ASSERT_DOUBLE_EQUAL(b->adc.freq, -1333.33, 1e-9);
    /* block 6: gx 6 = [GRADIENTS] 263158 Hz/m, shape 6 [0 1 1 0] on time 7
       [0 5 95 100]: the trapezoid rise 50 flat 900 fall 50 us */
    b = &st.b[5];
    CU_ASSERT_EQUAL(b->grad[0].kind, GRAD_TRAP);
    CU_ASSERT_EQUAL(b->grad[0].rise_ns, 50000);
    CU_ASSERT_EQUAL(b->grad[0].flat_ns, 900000);
    CU_ASSERT_DOUBLE_EQUAL(b->grad[0].amp, 263158 / 42.576e6, 1e-12);
    /* TotalDuration 0.56922 */
    CU_ASSERT_EQUAL(st.total, 569220000);
    stream_free(&st);
    lbc_free(p);
}

static void test_hand_read_versions(void)
{
    /* the same MPRAGE in every format: 1.2 and 1.3 have [DELAYS] (block 2:
       delay 1 = 100 us) and block durations from their events */
    static const char *const f[] = { "pypulseq/simple_mprage120.seq",
        "pypulseq/simple_mprage130.seq", "pypulseq/simple_mprage131.seq",
        "pypulseq/simple_mprage141.seq", "pypulseq/simple_mprage142.seq",
        "pypulseq/simple_mprage150.seq" };
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        struct stream st;
        struct lbc_program *p = import(f[i], &st);
        CU_ASSERT_EQUAL(st.b[1].dur_ns, 100000);
        /* block 5 (ADC 1): trap 5 lasts 70 + 320 + 70 us */
        CU_ASSERT_EQUAL(st.b[4].adc.samples, 32);
        CU_ASSERT_EQUAL(st.b[4].grad[0].rise_ns + st.b[4].grad[0].flat_ns +
                        st.b[4].grad[0].fall_ns, 460000);
        if (i >= 3) {
            CU_ASSERT_EQUAL(st.total, 569220000);
        }
        if (i == 5) {
            /* 1.5: RF 1 has centre 5000 us and use i; RF 2 use e */
            CU_ASSERT_EQUAL(st.b[0].rf.centre_ns, 5000000);
            CU_ASSERT_EQUAL(st.b[0].rf.use, VM_RFUSE_INVERSION);
            CU_ASSERT_EQUAL(st.b[2].rf.use, VM_RFUSE_EXCITATION);
            CU_ASSERT_EQUAL(st.b[2].rf.centre_ns, 1500000);
            /* RF 2: freq -1333.33 Hz, phase 0; RF 3 (block 7) phase 2.04204 */
            CU_ASSERT_DOUBLE_EQUAL(st.b[2].rf.freq, -1333.33, 1e-9);
            CU_ASSERT_DOUBLE_EQUAL(st.b[6].rf.phase, 2.04204, 1e-12);
        }
        stream_free(&st);
        lbc_free(p);
    }
}

static void test_hand_read_labels(void)
{
    struct stream st;
    struct lbc_program *p = import("pypulseq/write_gre_label_softdelay.seq", &st);
    /* block 4 (ext 2 -> LABELSET 2 = LIN 0), block 6 (ext 3: LABELINC 1 =
       LIN +1): the first ADC (block 5) has LIN 0, the next one LIN 1 */
    int seen = 0;
    for (size_t k = 0; k < st.n && seen < 2; k++)
        if (st.b[k].has_adc) {
            CU_ASSERT_EQUAL(st.b[k].adc.labels[VM_LABEL_LIN], seen);
            seen++;
        }
    CU_ASSERT_EQUAL(seen, 2);
    /* soft delay block 4 plays its nominal 1 x 10 us */
    CU_ASSERT_EQUAL(st.b[3].dur_ns, 10000);
    stream_free(&st);
    lbc_free(p);
    /* write_epi_se_rs: TRIGGERS 1 = output (1) channel 1, delay 0, 100 us */
    p = import("pypulseq/write_epi_se_rs.seq", &st);
    bool trig = false;
    for (size_t k = 0; k < st.n; k++)
        if (st.b[k].has_trig) {
            CU_ASSERT_EQUAL(st.b[k].trig.channel, 1);
            CU_ASSERT_EQUAL(st.b[k].trig.dur_ns, 100000);
            trig = true;
        }
    CU_ASSERT(trig);
    stream_free(&st);
    lbc_free(p);
    /* seq_make_radial: ROTATIONS 2 = quaternion (0.965926 0 0 0.258819), a
       30 degree turn about z: trap 1 on x becomes cos 30 on x, sin 30 on y */
    p = import("pulseq/seq_make_radial.seq", &st);
    const struct vm_block *b = &st.b[3];
    double g = 1.69492e6 / 42.576e6;
    CU_ASSERT(b->has_grad[0] && b->has_grad[1]);
    CU_ASSERT_DOUBLE_EQUAL(b->grad[0].amp, g * cos(M_PI / 6), 1e-6 * g);
    CU_ASSERT_DOUBLE_EQUAL(b->grad[1].amp, g * sin(M_PI / 6), 1e-6 * g);
    stream_free(&st);
    lbc_free(p);
}

/* ---------- export -> import ---------- */

static void roundtrip_on(const char *name, enum pulseq_format fmt, const char *system)
{
    struct system sys;
    system_default(&sys);
    struct diag_ctx d;
    diag_init(&d);
    if (system)
        CU_ASSERT_EQUAL_FATAL(system_resolve(system, test_stdlib_dir(), &sys, &d), 0);
    struct lbc_program *p = compile_sequence(name, NULL, 0, &sys, NULL, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    struct pulseq_write_opts wo = { fmt, name };
    char *text = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(pulseq_write(p, &sys, &wo, &text, &len, &d), 0);
    char found[33];
    CU_ASSERT_EQUAL(pulseq_verify_md5(text, len, found), 1);
    /* the definitions carry the target's rasters (GE: 4 us gradients) */
    char want[64];
    snprintf(want, sizeof want, "\nGradientRasterTime %.9g\n", (double)sys.grad_raster_ns * 1e-9);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
    struct pulseq_read_opts ro = { .strict = true, .no_derive_lin = true };
    char *seqname = xasprintf("%s.seq", name);
    struct lbc_program *q = pulseq_read_buf(seqname, text, len, &ro, &d);
    if (!q || d.nerrors)
        diag_print_all(&d, stderr, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    struct stream a, b;
    CU_ASSERT_EQUAL(play(p, &a), 0);
    CU_ASSERT_EQUAL(play(q, &b), 0);
    int eq = streams_equal(&a, &b, fmt == PULSEQ_1_5);
    if (!eq)
        fprintf(stderr, "%s (format %s) differs after export and import\n", name,
                fmt == PULSEQ_1_5 ? "1.5" : "1.4");
    CU_ASSERT(eq);
    /* a changed byte is a signature mismatch */
    text[len / 2] ^= 1;
    CU_ASSERT_EQUAL(pulseq_verify_md5(text, len, found), 0);
    stream_free(&a);
    stream_free(&b);
    free(seqname);
    free(text);
    lbc_free(q);
    lbc_free(p);
    diag_fini(&d);
}

static void roundtrip(const char *name, enum pulseq_format fmt)
{
    roundtrip_on(name, fmt, NULL);
}

static void test_roundtrip_sequences(void)
{
    static const char *const seqs[] = { "gradient_echo", "spin_echo", "turbo_spin_echo", "epi",
                                        "bssfp", "inversion_recovery", "diffusion_se", "gre3d" };
    for (size_t i = 0; i < ARRAY_LEN(seqs); i++) {
        roundtrip(seqs[i], PULSEQ_1_5);
        roundtrip(seqs[i], PULSEQ_1_4);
    }
    /* designed for GE's rasters, the gradient echo and spin echo export on
       them (the EPI's 5 us dwell does not: tests/golden/cli/
       pulseq_export_ge_rasters) */
    roundtrip_on("gradient_echo", PULSEQ_1_5, "generic_3t_ge");
    roundtrip_on("spin_echo", PULSEQ_1_4, "generic_3t_ge");
}

/* ---------- malformed input ---------- */

/* Import text; the first error's line, 0 if none. */
static int first_error_line(const char *text, int *code)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf("bad.seq", text, strlen(text), NULL, &d);
    int line = 0;
    *code = 0;
    for (size_t i = 0; i < d.ndiags && !line; i++)
        if (d.diags[i]->sev == DIAG_ERROR) {
            int col;
            *code = d.diags[i]->code;
            if (d.diags[i]->span.file >= 0)
                diag_linecol(&d, d.diags[i]->span.file, d.diags[i]->span.start, &line, &col);
            else
                line = -1;
        }
    CU_ASSERT_EQUAL(p == NULL, line != 0);
    lbc_free(p);
    diag_fini(&d);
    return line;
}

#define HEAD "[VERSION]\nmajor 1\nminor 4\nrevision 2\n[DEFINITIONS]\nGradientRasterTime 1e-05\n"

/* ---------- provenance ---------- */

struct grad_pcs {
    uint32_t pc[4];
    int n;
};

static int record_grad_pc(void *ctx, const struct vm_block *b, const struct vm_grad *g)
{
    (void)b;
    struct grad_pcs *r = ctx;
    if (r->n < 4)
        r->pc[r->n++] = g->pc;
    return 0;
}

/* The pcs of the gradients p plays; whether the first two stand for one
   event in p's view. */
static bool first_grads_same_event(const struct lbc_program *p)
{
    struct grad_pcs r = { .n = 0 };
    struct vm_backend be = { .ctx = &r, .grad = record_grad_pc };
    CU_ASSERT_EQUAL_FATAL(vm_run(p, &be, NULL, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_NOT_EQUAL(r.pc[0], r.pc[1]);
    struct vm_view v;
    vm_view_init(&v, p);
    return vm_view_same_event(&v, r.pc[0], r.pc[1]);
}

/* A program imported from a .seq keeps its origin (the .lbc header's flag
   bit 0) through a write and a read; a compiled one has flags 0; a reader
   refuses an unknown flag bit. */
static void test_origin_roundtrip(void)
{
    static const char text[] = HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n2 10 0 1 0 0 0 0\n[TRAP]\n"
                               "1 1000 10 20 10 0\n";
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf("two.seq", text, strlen(text), NULL, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->origin, LBC_ORIGIN_PULSEQ);
    struct vm_view v;
    vm_view_init(&v, p);
    CU_ASSERT_EQUAL(v.origin, LBC_ORIGIN_PULSEQ);
    CU_ASSERT(first_grads_same_event(p));
    unsigned char *buf = NULL;
    size_t len = 0;
    CU_ASSERT_FATAL(lbc_write_buf(p, &buf, &len) == 0);
    CU_ASSERT_FATAL(len >= 16);
    CU_ASSERT_EQUAL(buf[12], 1);
    CU_ASSERT(buf[13] == 0 && buf[14] == 0 && buf[15] == 0);
    char err[256];
    struct lbc_program *q = lbc_read_buf(buf, len, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(q->origin, LBC_ORIGIN_PULSEQ);
    CU_ASSERT(first_grads_same_event(q));
    /* the same program marked as compiled: each occurrence its own event,
       and flags 0 in the file */
    q->origin = LBC_ORIGIN_PSQ;
    CU_ASSERT(!first_grads_same_event(q));
    unsigned char *buf2 = NULL;
    size_t len2 = 0;
    CU_ASSERT_FATAL(lbc_write_buf(q, &buf2, &len2) == 0);
    CU_ASSERT(len2 >= 16 && buf2[12] == 0);
    /* an unknown flag bit (the CRC covers the payload only) */
    buf[12] |= 2;
    struct lbc_program *bad = lbc_read_buf(buf, len, err, sizeof err);
    CU_ASSERT_PTR_NULL(bad);
    CU_ASSERT_STRING_EQUAL(err, "unknown header flags 0x00000002");
    lbc_free(bad);
    free(buf);
    free(buf2);
    lbc_free(q);
    lbc_free(p);
    diag_fini(&d);
}

static void test_malformed(void)
{
    int code;
    /* a good file: no error */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[TRAP]\n"
                                     "1 1000 10 20 10 0\n", &code), 0);
    /* wrong column count (line 8) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0\n", &code), 8);
    CU_ASSERT_EQUAL(code, 731);
    /* duplicate ID (line 11) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[TRAP]\n"
                                     "1 1000 10 20 10 0\n1 1000 10 20 10 0\n", &code), 11);
    CU_ASSERT_EQUAL(code, 732);
    /* missing ID: the block names trap 2 (line 8) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 2 0 0 0 0\n[TRAP]\n"
                                     "1 1000 10 20 10 0\n", &code), 8);
    CU_ASSERT_EQUAL(code, 733);
    /* missing section: no [BLOCKS] (reported at the end, line 7) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[TRAP]\n1 1000 10 20 10 0\n", &code), 9);
    CU_ASSERT_EQUAL(code, 734);
    /* bad shape: 3 compressed values that expand to more than 5 (line 12) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[GRADIENTS]\n"
                                     "1 1000 1 0 0\n[SHAPES]\nshape_id 1\nnum_samples 5\n"
                                     "1\n1\n9\n", &code), 12);
    CU_ASSERT_EQUAL(code, 735);
    /* truncated inside a shape: shape_id with no num_samples (line 12) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[GRADIENTS]\n"
                                     "1 1000 1 0 0\n[SHAPES]\nshape_id 1\n", &code), 12);
    /* truncated mid-row: a [TRAP] row cut short (line 10) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[TRAP]\n1 1000 10",
                                     &code), 10);
    /* not a number (line 8) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 x 0 0 0 0\n", &code), 8);
    /* an unknown required extension (line 7) */
    CU_ASSERT_EQUAL(first_error_line(HEAD "RequiredExtensions LABELSET WOBBLE\n[BLOCKS]\n"
                                     "1 10 0 0 0 0 0 0\n", &code), 7);
    CU_ASSERT_EQUAL(code, 737);
    /* version 2.0 */
    CU_ASSERT(first_error_line("[VERSION]\nmajor 2\nminor 0\nrevision 0\n[BLOCKS]\n", &code) != 0);
    CU_ASSERT_EQUAL(code, 736);
}

/* A run of two equal derivative values written "d d 0" takes 3 values for
   2 samples, so a compressed shape may hold more values than num_samples
   (JEMRIS and KomaMRI write them so; pypulseq's decompress_shape and
   MATLAB Pulseq's decompressShape expand it). Samples 1 2 3 3 3 2 from the
   derivative 1 1 1 0 0 -1, as "1 1 0  1  0 0 0  -1": 8 values for 6. */
static void test_rle_pairs(void)
{
    const char *text = HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[GRADIENTS]\n1 1000 1 0 0\n"
                       "[SHAPES]\nshape_id 1\nnum_samples 6\n1\n1\n0\n1\n0\n0\n0\n-1\n";
    static const double want[] = { 1, 2, 3, 3, 3, 2 };
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf("pairs.seq", text, strlen(text), NULL, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    int found = 0;
    for (uint32_t i = 0; i < p->nshapes; i++) {
        const struct lbc_shape *sh = &p->shapes[i];
        if (sh->len != ARRAY_LEN(want))
            continue;
        /* the pool may hold the shape scaled to its peak: compare ratios */
        const double *v = p->shapedata + sh->off;
        double k = v[2] / want[2];
        int same = k != 0;
        for (size_t j = 0; j < ARRAY_LEN(want); j++)
            same &= fabs(v[j] - k * want[j]) <= 1e-12 * fabs(k);
        found |= same;
    }
    CU_ASSERT(found);
    lbc_free(p);
    diag_fini(&d);
    /* a pair whose count is missing or not a whole number stays refused */
    int code;
    CU_ASSERT_EQUAL(first_error_line(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[GRADIENTS]\n"
                                     "1 1000 1 0 0\n[SHAPES]\nshape_id 1\nnum_samples 4\n"
                                     "1\n1\n0.5\n1\n1\n", &code), 12);
    CU_ASSERT_EQUAL(code, 735);
}

/* Sections in any order, as the reference readers take them: [DEFINITIONS]
   before [VERSION] (pulseq 1.2's examples) reads as the usual order does,
   its 1.4 trapezoid included; a second [VERSION] and text before any
   section stay refused. */
static void test_section_order(void)
{
    int code;
    const char *body = "[BLOCKS]\n1 10 0 1 0 0 0 0\n[TRAP]\n1 1000 10 20 10 0\n";
    char text[512];
    snprintf(text, sizeof text, "[DEFINITIONS]\nGradientRasterTime 1e-05\n[VERSION]\nmajor 1\n"
             "minor 4\nrevision 2\n%s", body);
    CU_ASSERT_EQUAL(first_error_line(text, &code), 0);
    snprintf(text, sizeof text, "[DEFINITIONS]\nGradientRasterTime 1e-05\n[VERSION]\nmajor 1\n"
             "minor 4\nrevision 2\n[VERSION]\nmajor 1\nminor 4\nrevision 2\n%s", body);
    CU_ASSERT_EQUAL(first_error_line(text, &code), 7);
    CU_ASSERT_EQUAL(code, 732);
    /* the version read ahead is the file's: 1.1 is refused wherever it is */
    snprintf(text, sizeof text, "[DEFINITIONS]\nGradientRasterTime 1e-05\n[VERSION]\nmajor 1\n"
             "minor 1\nrevision 0\n%s", body);
    CU_ASSERT(first_error_line(text, &code) != 0);
    CU_ASSERT_EQUAL(code, 736);
    CU_ASSERT_EQUAL(first_error_line("x 1\n[VERSION]\nmajor 1\nminor 4\nrevision 2\n", &code),
                    1);
    CU_ASSERT_EQUAL(code, 734);
}

static void test_signature_mismatch(void)
{
    char *path = data_path("pypulseq/seq_trap_only.seq");
    size_t len;
    char *text = read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *amp = strstr(text, "1.69492e+06");
    CU_ASSERT_PTR_NOT_NULL_FATAL(amp);
    amp[1] = '7';     /* 1.79492e+06: the signature no longer matches */
    for (int strict = 0; strict < 2; strict++) {
        struct diag_ctx d;
        diag_init(&d);
        struct pulseq_read_opts ro = { .strict = strict };
        struct lbc_program *p = pulseq_read_buf("x.seq", text, len, &ro, &d);
        CU_ASSERT_EQUAL(p == NULL, strict);
        CU_ASSERT_EQUAL(d.nwarnings, !strict);
        CU_ASSERT_EQUAL(d.nerrors, strict);
        lbc_free(p);
        diag_fini(&d);
    }
    free(text);
    free(path);
}


/* A read is refused with an error or gives a program, never both or
   neither; the program plays (up to 100,000 instructions). Frees the
   program and d. */
static void expect_refused_or_plays(struct lbc_program *p, struct diag_ctx *d)
{
    CU_ASSERT_EQUAL(p == NULL, d->nerrors > 0);
    if (p) {
        struct vm_opts vo = { NULL, NULL, 0 };
        vm_run_limited(p, NULL, &vo, 100000, NULL);
    }
    lbc_free(p);
    diag_fini(d);
}

/* Every prefix of a small file, and single-byte corruptions of another:
   imported or refused, an error exactly when refused, and an imported
   program plays (ASan/valgrind builds make this a memory test). */
static void test_prefixes_and_corruptions(void)
{
    static const char *const f[] = { "pulseq/seq_make_radial.seq", "pypulseq/seq6.seq" };
    static const char junk[] = { '\n', ' ', '0', '9', '-', '[', '#', 'x', '.', 'e' };
    for (size_t which = 0; which < 2; which++) {
        char *path = data_path(f[which]);
        size_t len;
        char *text = read_file(path, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        size_t cases = which == 0 ? len + 1 : len;
        for (size_t i = 0; i < cases; i++) {
            char *buf = xmalloc(len + 1);
            memcpy(buf, text, len);
            size_t n = len;
            if (which == 0)
                n = i;
            else
                buf[i] = junk[i % ARRAY_LEN(junk)];
            struct diag_ctx d;
            diag_init(&d);
            expect_refused_or_plays(pulseq_read_buf("x.seq", buf, n, NULL, &d), &d);
            free(buf);
        }
        free(text);
        free(path);
    }
}

/* Inputs the fuzzer (tests/fuzz_seq.c) found to crash an earlier reader:
   each is refused with an error, or imported and played. */
static void test_fuzz_regressions(void)
{
    size_t n;
    char **files = list_seq("fuzz", &n);
    CU_ASSERT(n >= 1);
    for (size_t i = 0; i < n; i++) {
        struct diag_ctx d;
        diag_init(&d);
        expect_refused_or_plays(pulseq_read_file(files[i], NULL, &d), &d);
        free(files[i]);
    }
    free(files);
}

/* ---------- shapes bounded by their blocks ---------- */

/* What importing a text in a child process gave: the first error (code 0
   if none), its line and message; the child's CPU time and peak resident
   size, and this process's resident size when it forked. */
struct child_import {
    bool imported;
    int code, line;
    char msg[512];
    double cpu_s;
    long maxrss_kb, parent_rss_kb;
};

static long rss_kb(void)
{
    long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The child's side: import text, write what it gave to fd. */
static void child_import_run(const char *text, int fd)
{
    struct child_import c;
    memset(&c, 0, sizeof c);
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf("big.seq", text, strlen(text), NULL, &d);
    c.imported = p != NULL;
    for (size_t i = 0; i < d.ndiags && !c.code; i++)
        if (d.diags[i]->sev == DIAG_ERROR) {
            int col;
            c.code = d.diags[i]->code;
            diag_linecol(&d, d.diags[i]->span.file, d.diags[i]->span.start, &c.line, &col);
            snprintf(c.msg, sizeof c.msg, "%s", d.diags[i]->msg);
        }
    ssize_t w = write(fd, &c, sizeof c);
    _exit(w == (ssize_t)sizeof c ? 0 : 1);
}

/* Import text in a child process (its peak memory is its own), into *ci. */
static void import_in_child(const char *text, struct child_import *ci)
{
    memset(ci, 0, sizeof *ci);
    int fd[2];
    CU_ASSERT_FATAL(pipe(fd) == 0);
    fflush(NULL);
    long rss = rss_kb();
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        child_import_run(text, fd[1]);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t k;
    while (got < sizeof *ci && (k = read(fd[0], (char *)ci + got, sizeof *ci - got)) > 0)
        got += (size_t)k;
    close(fd[0]);
    int st;
    struct rusage ru;
    CU_ASSERT_FATAL(wait4(pid, &st, 0, &ru) == pid);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0 && got == sizeof *ci);
    ci->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    ci->maxrss_kb = ru.ru_maxrss;
    ci->parent_rss_kb = rss;
}

/* Import text in a child: the error code and line expected (0 0: it
   imports), and the message, in under 0.1 s of CPU and 50 MB. */
static void expect_bounded(const char *text, int code, int line, const char *msg)
{
    struct child_import ci;
    import_in_child(text, &ci);
    CU_ASSERT_EQUAL(ci.imported, code == 0);
    CU_ASSERT_EQUAL(ci.code, code);
    CU_ASSERT_EQUAL(ci.line, line);
    if (msg && strcmp(ci.msg, msg))
        fprintf(stderr, "\n  got:      %s\n  expected: %s\n", ci.msg, msg);
    if (msg)
        CU_ASSERT_STRING_EQUAL(ci.msg, msg);
    CU_ASSERT(ci.cpu_s < 0.1);
    CU_ASSERT(ci.maxrss_kb < ci.parent_rss_kb + 50 * 1024);
}

/* 10^9 samples in three values: the derivative 1, repeated. */
#define GIGA_SHAPE "num_samples 1000000000\n1\n1\n999999998\n"

/* A shape declared past what its longest block can play is refused at
   its shape_id line, whatever the order of the sections, without
   decoding it; so is a time shape that ends past it, and (before 1.4,
   where the shape sets its block's length) one past what Larmor decodes.
   A shape no event plays is not decoded at all. */
static void test_shape_bound_refusals(void)
{
    expect_bounded(HEAD "[BLOCKS]\n1 100 0 1 0 0 0 0\n2 300 0 1 0 0 0 0\n[GRADIENTS]\n"
                   "1 1000 1 0 0\n[SHAPES]\nshape_id 1\n" GIGA_SHAPE, 746, 13,
                   "shape 1 declares 1000000000 samples, but the longest block that plays it "
                   "(block 2) lasts 3000 us, 300 samples of 10 us (the gradient raster): at "
                   "most 616 (twice that plus 16)");
    expect_bounded(HEAD "[SHAPES]\nshape_id 1\n" GIGA_SHAPE "[GRADIENTS]\n1 1000 1 0 0\n"
                   "[BLOCKS]\n1 100 0 1 0 0 0 0\n", 746, 8,
                   "shape 1 declares 1000000000 samples, but the longest block that plays it "
                   "(block 1) lasts 1000 us, 100 samples of 10 us (the gradient raster): at "
                   "most 216 (twice that plus 16)");
    expect_bounded(HEAD "[BLOCKS]\n1 100 1 0 0 0 0 0\n[RF]\n1 250 1 0 0 0 0 0\n[SHAPES]\n"
                   "shape_id 1\n" GIGA_SHAPE, 746, 12,
                   "shape 1 declares 1000000000 samples, but the longest block that plays it "
                   "(block 1) lasts 1000 us, 1000 samples of 1 us (the RF raster): at most "
                   "2016 (twice that plus 16)");
    expect_bounded("[VERSION]\nmajor 1\nminor 5\nrevision 0\n[BLOCKS]\n1 100 0 0 0 0 1 0\n"
                   "[ADC]\n1 64 10000 0 0 0 0 0 1\n[SHAPES]\nshape_id 1\n" GIGA_SHAPE, 746, 10,
                   "shape 1 declares 1000000000 samples, but the longest block that plays it "
                   "(block 1) lasts 1000 us, 10000 samples of 0.1 us (the ADC raster): at "
                   "most 20016 (twice that plus 16)");
    expect_bounded(HEAD "[BLOCKS]\n1 100 0 1 0 0 0 0\n[GRADIENTS]\n1 1000 1 2 0\n[SHAPES]\n"
                   "shape_id 1\nnum_samples 2\n0\n1\nshape_id 2\nnum_samples 2\n0\n"
                   "100000000\n", 746, 16,
                   "time shape 2 ends at 100000000 rasters, but the longest block that plays "
                   "it (block 1) lasts 1000 us, 100 rasters of 10 us (the gradient raster): "
                   "at most 216 (twice that plus 16)");
    expect_bounded("[VERSION]\nmajor 1\nminor 3\nrevision 1\n[BLOCKS]\n1 0 0 1 0 0 0 0\n"
                   "[GRADIENTS]\n1 1000 1 0\n[SHAPES]\nshape_id 1\n" GIGA_SHAPE, 735, 10,
                   "shape 1 declares 1000000000 samples, more than the 100000000 Larmor "
                   "decodes");
    expect_bounded(HEAD "[SHAPES]\nshape_id 1\nnum_samples 4294967296\n", 735, 9,
                   "bad num_samples line");
    /* 43 shapes of 10^8 samples, each in a block of 500 s: too many in all */
    struct strbuf b;
    sb_init(&b);
    sb_puts(&b, HEAD "[BLOCKS]\n");
    for (int i = 1; i <= 43; i++)
        sb_printf(&b, "%d 50000000 0 %d 0 0 0 0\n", i, i);
    sb_puts(&b, "[GRADIENTS]\n");
    for (int i = 1; i <= 43; i++)
        sb_printf(&b, "%d 1000 %d 0 0\n", i, i);
    sb_puts(&b, "[SHAPES]\n");
    for (int i = 1; i <= 43; i++)
        sb_printf(&b, "shape_id %d\nnum_samples 100000000\n1\n1\n99999998\n", i);
    expect_bounded(b.s, 735, 7 + 43 + 1 + 43 + 1 + 42 * 5 + 1,
                   "shape 43 brings the shape values, as written and decoded, to 4300000129, "
                   "more than the 4294967294 Larmor holds");
    sb_fini(&b);
    /* played by no event: imported, never expanded */
    expect_bounded(HEAD "[BLOCKS]\n1 10 0 1 0 0 0 0\n[TRAP]\n1 1000 10 20 10 0\n[SHAPES]\n"
                   "shape_id 7\n" GIGA_SHAPE, 0, 0, NULL);
}

/* The longest shape p holds. */
static uint32_t longest_shape(const struct lbc_program *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nshapes; i++)
        if (p->shapes[i].len > n)
            n = p->shapes[i].len;
    return n;
}

/* A large shape its block can play imports, decoded, up to the bound
   (twice the block's rasters plus 16); one sample more is refused. */
static void test_shape_bound_playable(void)
{
    static const char *const counts[] = { "200000\n0\n0\n199998\n", "400016\n1\n1\n400014\n",
                                          "400017\n1\n1\n400015\n" };
    for (int i = 0; i < 3; i++) {
        char *text = xasprintf(HEAD "[BLOCKS]\n1 200000 0 1 0 0 0 0\n[GRADIENTS]\n"
                               "1 1000 1 0 0\n[SHAPES]\nshape_id 1\nnum_samples %s", counts[i]);
        struct diag_ctx d;
        diag_init(&d);
        struct lbc_program *p = pulseq_read_buf("large.seq", text, strlen(text), NULL, &d);
        CU_ASSERT_EQUAL(p == NULL, i == 2);
        if (p) {
            CU_ASSERT_EQUAL(longest_shape(p), i == 0 ? 200000u : 400016u);
        } else {
            CU_ASSERT(d.ndiags >= 1 && d.diags[0]->code == 746);
        }
        lbc_free(p);
        diag_fini(&d);
        free(text);
    }
}

/* ---------- a Pulseq GRE to an image ---------- */

static void test_write_gre_scans(void)
{
    char *path = data_path("pypulseq/write_gre.seq");
    struct phantom *ph = shepp_logan_2d(0);
    struct image_vol *v = scan_sequence(path, NULL, 0, ph, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    /* 64 x 64 over 256 mm (FOV and the phase encodes of the file) */
    struct tissue t[16];
    int nt;
    int *map = expect_image_of(ph, v, 64, 64, 0.25, t, &nt);
    free(map);
    image_free(v);
    phantom_free(ph);
    free(path);
}

int register_pulseq_tests(void);

int register_pulseq_tests(void)
{
    static const struct test_def tests[] = {
        { "md5_rfc1321", test_md5_rfc1321 },
        { "every_file", test_every_file },
        { "hand_read_mprage140", test_hand_read_mprage140 },
        { "hand_read_versions", test_hand_read_versions },
        { "hand_read_labels_triggers_rotations", test_hand_read_labels },
        { "roundtrip_sequences", test_roundtrip_sequences },
        { "origin_roundtrip", test_origin_roundtrip },
        { "malformed", test_malformed },
        { "rle_pairs", test_rle_pairs },
        { "section_order", test_section_order },
        { "signature_mismatch", test_signature_mismatch },
        { "prefixes_and_corruptions", test_prefixes_and_corruptions },
        { "fuzz_regressions", test_fuzz_regressions },
        { "shape_bound_refusals", test_shape_bound_refusals },
        { "shape_bound_playable", test_shape_bound_playable },
        { "write_gre_scans", test_write_gre_scans },
    };
    return TEST_ADD_SUITE("pulseq", tests);
}
