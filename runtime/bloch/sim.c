/*
 * sim: the Bloch-simulation backend (see sim.h).
 *
 * The VM hands over one block at a time. block_end turns it into segments:
 *   FREE      free precession over dt with gradient moment k = γ∫G (rad/m),
 *             plus, where spins diffuse, the random walk's geometry;
 *   RF        n exact rotation steps of the RF raster (a table of per-step
 *             half rotation vectors);
 *   SAMPLE    take one ADC sample;
 *   ADC       n samples under a constant gradient (sample, then advance a
 *             dwell, n−1 times): one phasor per spin for the whole run.
 * Adjacent FREE segments merge (a spoiler, a delay and the next block's
 * prephaser become one step per spin). Segments gather in a batch; a batch
 * runs when it holds enough work, at the end, or when it is too large.
 */
#include "runtime/bloch/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/bloch/kernels.h"
#include "runtime/wave/wave.h"
#include "base/membudget.h"
#include "base/util.h"

#define CHUNK 512                     /* spins per kernel call */
#define BATCH_SEGS 65536              /* segments per batch (at most) */
#define BATCH_RF_STEPS (1u << 20)     /* RF steps per batch (at most) */
#define BATCH_SAMPLES (1u << 20)      /* ADC samples per batch (at most) */
#define BATCH_WORK 2e8                /* spin-operations per batch, roughly */
#define ADC_RUN_MAX 256               /* samples per constant-gradient run */

/* A block's gradient waveforms (runtime/wave/wave.h: the check backend's
   and Pulseq's model). */
struct blk {
    struct wave w[3];
    bool on[3];
};

enum seg_kind { SEG_FREE, SEG_RF, SEG_SAMPLE, SEG_ADC, SEG_SPOIL };

/* The random walk over one free interval, per axis: the spin moves by
   X = √(2D)·a·z1 and gains the phase γ·√(2D)·(b·z1 + c·z2), z1, z2 ~ N(0,1),
   where a = √T, b = m1/√T, c = √(V − m1²/T), m1 = ∫G(t)(t−t0)dt,
   V = ∫(∫_τ^T G)² dτ. This is the exact joint law of the displacement and
   of ∫G·B dt for Brownian motion B (free diffusion). */
struct walk { double a, b[3], c[3]; bool phase; };   /* phase: some b or c != 0 */

struct seg {
    uint8_t kind;
    bool walk;               /* FREE: diffusing spins take the random walk */
    uint32_t n;              /* RF steps, ADC samples */
    double dt;               /* FREE: duration; RF: step; ADC: dwell */
    double k[3];             /* FREE: moment (rad/m); ADC: moment per dwell */
    size_t off;              /* RF: first step; SAMPLE/ADC: first output sample */
    uint32_t walk_idx;       /* FREE with walk: index into the batch's walks */
};

struct adc_rec {
    struct sim_acq acq;      /* data filled at the end of the batch */
    size_t off;              /* first output sample */
    double phase, freq, dwell;
};

struct sim {
    struct sim_opts o;
    size_t n;                         /* isochromats */
    size_t nchunks;
    float *x, *y, *z, *dw, *r1, *r2, *m0, *dc;
    float *mx, *my, *mz;
    float **sre, **sim;               /* per coil, or NULL (uniform) */
    bool any_diffusion;
    double noise_sigma;

    /* the batch */
    struct seg *segs; size_t nsegs, capsegs;
    struct krf_step *rf; size_t nrf, caprf;
    struct walk *walks; size_t nwalks, capwalks;
    struct adc_rec *adcs; size_t nadcs, capadcs;
    size_t nsamples;                  /* output samples in the batch (each ncoils) */
    uint64_t walk_serial;             /* random-walk intervals so far (all batches) */

    /* per thread */
    int nthreads;
    double *acc;                      /* nthreads x cap_samples x ncoils x 2 */
    size_t cap_samples;
    float *out;                       /* one ADC's float samples for the sink */
    size_t cap_out;

    uint64_t nadc_total;
    int64_t done_ns, pending_ns;      /* simulated up to / collected up to */
    struct sim_stats st;
    sim_sink_fn sink; void *sink_ctx;
    sim_progress_fn progress; void *progress_ctx;
    bool stop;
    int err;
    struct blk blk;                   /* the waveform buffers, reused */
    double vox[3];                    /* the phantom's voxel size (m) */
    double mom[3];                    /* γ∫G dt since the last excitation (rad/m) */
    bool seen_exc;
    uint64_t nspoiled;

    /* isochromats grouped by (z, Δω, R1, R2): under RF with a gradient on z
       only, the spins of a group undergo the same affine map M -> A·M + m0·c,
       composed once per group instead of stepped per spin */
    uint32_t *group;                  /* per spin, or NULL (too many groups) */
    size_t ngroups;
    float *gz, *gdw, *gr1, *gr2;      /* per group */
    float *gops;                      /* per RF segment of the batch: ngroups x 12 */
    size_t capgops;
    int32_t *seg_op;                  /* per segment: index of its operator table, -1 */
    size_t capsegop;
};

void sim_opts_default(struct sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->spins[0] = o->spins[1] = o->spins[2] = 1;
    o->ncoils = 1;
    o->seed = 1;
    o->gamma = 2.6752218744e8;
    o->b0 = 3.0;
    o->diffusion = true;
}

/* --- sizes -------------------------------------------------------------- */

static size_t spins_per_voxel(const struct sim_opts *o)
{
    return (size_t)o->spins[0] * (size_t)o->spins[1] * (size_t)o->spins[2];
}

size_t sim_bytes_needed(const struct phantom *ph, const struct sim_opts *o)
{
    size_t k = spins_per_voxel(o);
    if (k && ph->n > SIZE_MAX / k)
        return SIZE_MAX;
    size_t n = ph->n * k;
    /* a uniform coil needs no sensitivity arrays */
    size_t per = phantom_bytes_per_spin(o->ncoils > 1 ? o->ncoils : 0);
    if (n > SIZE_MAX / per)
        return SIZE_MAX;
    return n * per;
}

/* --- set-up --------------------------------------------------------------- */

/* A stride coprime with k near k·0.618, to decorrelate the T2* offsets of a
   voxel's isochromats from their positions. */
static size_t coprime_stride(size_t k)
{
    size_t p = (size_t)(0.618034 * (double)k) | 1;
    for (; p > 1; p--) {
        size_t a = p, b = k;
        while (b) {
            size_t t = a % b;
            a = b;
            b = t;
        }
        if (a == 1)
            return p;
    }
    return 1;
}

static void make_groups(struct sim *s);

static float *falloc(size_t n)
{
    return xcalloc(n ? n : 1, sizeof(float));
}

/* Receive sensitivity of loop coil c of nc on a ring of radius R in the
   transverse plane, each loop of radius a = R·sin(π/nc) facing the centre:
   the magnitude of the on-axis field of a loop, a²/(a² + d²)^{3/2} with d the
   distance from the loop's centre (normalised to 1 at d = 0), and the phase
   of the direction from the loop (the field circulates about it). An
   analytic approximation, not a Biot-Savart solution. */
static void coil_sens(int c, int nc, double R, double x, double y, double z, float *re, float *im)
{
    double th = 2 * M_PI * c / nc;
    double px = R * cos(th), py = R * sin(th);
    double a = R * sin(M_PI / nc);
    double dx = x - px, dy = y - py;
    double d2 = dx * dx + dy * dy + z * z;
    double mag = a * a * a / pow(a * a + d2, 1.5);
    double ph = atan2(dy, dx) - th;
    *re = (float)(mag * cos(ph));
    *im = (float)(mag * sin(ph));
}

struct sim *sim_new(const struct phantom *ph, const struct sim_opts *o, char *err, size_t errlen)
{
    for (int a = 0; a < 3; a++)
        if (o->spins[a] < 1 || o->spins[a] > 65536) {
            snprintf(err, errlen, "spins per voxel must be 1 to 65536 on each axis, not %d",
                     o->spins[a]);
            return NULL;
        }
    if (o->ncoils < 1 || o->ncoils > 128) {
        snprintf(err, errlen, "the coil count must be 1 to 128, not %d", o->ncoils);
        return NULL;
    }
    if (!ph->n) {
        snprintf(err, errlen, "the phantom '%s' has no voxels with signal", ph->name);
        return NULL;
    }
    size_t need = sim_bytes_needed(ph, o);
    if (o->max_bytes ? need > o->max_bytes : mem_budget(NULL, 0) < need) {
        char what[160];
        snprintf(what, sizeof what, "the simulation of %zu voxels x %zu isochromats per voxel",
                 ph->n, spins_per_voxel(o));
        char msg[768];
        if (o->max_bytes) {
            char b1[32], b2[32];
            mem_fmt(need, b1, sizeof b1);
            mem_fmt(o->max_bytes, b2, sizeof b2);
            snprintf(msg, sizeof msg, "%s: %s would take %s of memory, over the %s allowed", ph->name,
                     what, b1, b2);
        } else {
            mem_check(ph->name, what, need, msg, sizeof msg);
        }
        snprintf(err, errlen, "%s; or use fewer spins per voxel (--spins) or a coarser phantom "
                 "(--res)", msg);
        return NULL;
    }
    kern_init();
    struct sim *s = xcalloc(1, sizeof *s);
    s->o = *o;
    for (int a = 0; a < 3; a++)
        s->vox[a] = ph->vox[a];
    size_t K = spins_per_voxel(o);
    size_t n = ph->n * K;
    s->n = n;
    s->nchunks = (n + CHUNK - 1) / CHUNK;
    float **arrs[] = { &s->x, &s->y, &s->z, &s->dw, &s->r1, &s->r2, &s->m0, &s->dc,
                       &s->mx, &s->my, &s->mz };
    for (size_t i = 0; i < ARRAY_LEN(arrs); i++)
        *arrs[i] = falloc(n);
    size_t stride = coprime_stride(K);
    double csh = o->gamma * o->b0 * 1e-6;   /* rad/s per ppm of chemical shift */
    double sumpd = 0;
    double extent = 0;
    for (size_t v = 0; v < ph->n; v++) {
        double r2p = 0;
        if (ph->t2s[v] > 0 && ph->t2s[v] < ph->t2[v])
            r2p = 1.0 / ph->t2s[v] - (isfinite(ph->t2[v]) ? 1.0 / ph->t2[v] : 0);
        size_t q = 0;
        for (int c = 0; c < o->spins[2]; c++)
            for (int b = 0; b < o->spins[1]; b++)
                for (int a = 0; a < o->spins[0]; a++) {
                    size_t j = v * K + ((size_t)c * o->spins[1] + b) * o->spins[0] + a;
                    s->x[j] = (float)(ph->x[v] + ((a + 0.5) / o->spins[0] - 0.5) * ph->vox[0]);
                    s->y[j] = (float)(ph->y[v] + ((b + 0.5) / o->spins[1] - 0.5) * ph->vox[1]);
                    s->z[j] = (float)(ph->z[v] + ((c + 0.5) / o->spins[2] - 0.5) * ph->vox[2]);
                    double w = 2 * M_PI * ph->df[v] + (ph->cs_ppm ? csh * ph->cs_ppm[v] : 0);
                    if (r2p > 0 && K > 1) {
                        size_t qi = (q * stride) % K;
                        w += r2p * tan(M_PI * ((qi + 0.5) / (double)K - 0.5));
                    }
                    q++;
                    s->dw[j] = (float)w;
                    s->r1[j] = isfinite(ph->t1[v]) && ph->t1[v] > 0 ? (float)(1.0 / ph->t1[v]) : 0;
                    s->r2[j] = isfinite(ph->t2[v]) && ph->t2[v] > 0 ? (float)(1.0 / ph->t2[v]) : 0;
                    s->m0[j] = (float)(ph->pd[v] / (double)K);
                    s->mz[j] = s->m0[j];
                    s->dc[j] = o->diffusion && ph->dc ? ph->dc[v] : 0;
                    if (s->dc[j] > 0)
                        s->any_diffusion = true;
                }
        sumpd += ph->pd[v];
        double e = fmax(fabs(ph->x[v]), fabs(ph->y[v]));
        extent = fmax(extent, e);
    }
    if (o->ncoils > 1) {
        double R = o->coil_radius > 0 ? o->coil_radius : 1.2 * fmax(extent, 0.05);
        s->sre = xcalloc((size_t)o->ncoils, sizeof *s->sre);
        s->sim = xcalloc((size_t)o->ncoils, sizeof *s->sim);
        for (int c = 0; c < o->ncoils; c++) {
            s->sre[c] = falloc(n);
            s->sim[c] = falloc(n);
            for (size_t j = 0; j < n; j++)
                coil_sens(c, o->ncoils, R, s->x[j], s->y[j], s->z[j], &s->sre[c][j],
                          &s->sim[c][j]);
        }
    }
    s->noise_sigma = o->snr > 0 ? sumpd / o->snr : 0;
    if (!o->no_groups)
        make_groups(s);
#ifdef _OPENMP
    s->nthreads = o->threads > 0 ? o->threads : omp_get_max_threads();
#else
    s->nthreads = 1;
#endif
    if (s->nthreads < 1)
        s->nthreads = 1;
    return s;
}


/* Group the isochromats by (z, Δω, R1, R2) (open addressing on the bit
   patterns); give up when there are more than n/8 groups (no gain). */
static void make_groups(struct sim *s)
{
    size_t limit = s->n / 8, cap = 64;
    while (cap < 2 * (limit + 1))
        cap *= 2;
    if (limit < 1)
        return;
    uint32_t *slot = xcalloc(cap, sizeof *slot);       /* group + 1, 0 = empty */
    uint32_t *grp = xcalloc(s->n, sizeof *grp);
    float *gz = xcalloc(limit, sizeof *gz), *gdw = xcalloc(limit, sizeof *gdw),
          *gr1 = xcalloc(limit, sizeof *gr1), *gr2 = xcalloc(limit, sizeof *gr2);
    size_t ng = 0;
    bool ok = true;
    for (size_t j = 0; j < s->n && ok; j++) {
        float key[4] = { s->z[j], s->dw[j], s->r1[j], s->r2[j] };
        uint64_t h = fnv1a64(0xcbf29ce484222325ull, key, sizeof key);
        size_t i = (size_t)h & (cap - 1);
        for (;;) {
            if (!slot[i]) {
                if (ng == limit) {
                    ok = false;
                    break;
                }
                gz[ng] = key[0], gdw[ng] = key[1], gr1[ng] = key[2], gr2[ng] = key[3];
                slot[i] = (uint32_t)++ng;
                grp[j] = (uint32_t)(ng - 1);
                break;
            }
            uint32_t g = slot[i] - 1;
            if (!memcmp(&gz[g], &key[0], 4) && !memcmp(&gdw[g], &key[1], 4) &&
                !memcmp(&gr1[g], &key[2], 4) && !memcmp(&gr2[g], &key[3], 4)) {
                grp[j] = g;
                break;
            }
            i = (i + 1) & (cap - 1);
        }
    }
    free(slot);
    if (!ok) {
        free(grp), free(gz), free(gdw), free(gr1), free(gr2);
        return;
    }
    s->group = grp;
    s->ngroups = ng;
    s->gz = gz, s->gdw = gdw, s->gr1 = gr1, s->gr2 = gr2;
}

/* The affine map of an RF segment for each group (its gradient on z only):
   per step, the exact rotation of the kernel (in double) then relaxation;
   out holds ngroups x 12 floats (A row-major, then c). */
static void group_ops(const struct sim *s, const struct seg *g, float *out)
{
    const struct krf_step *st = s->rf + g->off;
    for (size_t q = 0; q < s->ngroups; q++) {
        double A[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, c[3] = { 0, 0, 0 };
        double e1 = exp(-g->dt * s->gr1[q]), e2 = exp(-g->dt * s->gr2[q]);
        double hdw = -(double)s->gdw[q] * 0.5 * g->dt;
        for (uint32_t k = 0; k < g->n; k++) {
            double hx = st[k].hx, hy = st[k].hy, hz = hdw - (double)st[k].gz * s->gz[q];
            double h = sqrt(hx * hx + hy * hy + hz * hz);
            double sh = sin(h), ch = cos(h), f = h > 0 ? sh / h : 1;
            double bx = hx * f, by = hy * f, bz = hz * f;
            /* rotation matrix of the quaternion (ch, b) */
            double R[9] = {
                1 - 2 * (by * by + bz * bz), 2 * (bx * by - ch * bz), 2 * (bx * bz + ch * by),
                2 * (bx * by + ch * bz), 1 - 2 * (bx * bx + bz * bz), 2 * (by * bz - ch * bx),
                2 * (bx * bz - ch * by), 2 * (by * bz + ch * bx), 1 - 2 * (bx * bx + by * by),
            };
            double N[9], nc[3];
            for (int i = 0; i < 3; i++) {
                double d = i < 2 ? e2 : e1;
                for (int j = 0; j < 3; j++)
                    N[3 * i + j] = d * (R[3 * i] * A[j] + R[3 * i + 1] * A[3 + j] +
                                        R[3 * i + 2] * A[6 + j]);
                nc[i] = d * (R[3 * i] * c[0] + R[3 * i + 1] * c[1] + R[3 * i + 2] * c[2]);
            }
            nc[2] += 1 - e1;
            memcpy(A, N, sizeof A);
            memcpy(c, nc, sizeof c);
        }
        float *o = out + 12 * q;
        for (int i = 0; i < 9; i++)
            o[i] = (float)A[i];
        for (int i = 0; i < 3; i++)
            o[9 + i] = (float)c[i];
    }
}

/* Apply the groups' maps to a chunk. */
static void apply_group_ops(const struct sim *s, struct kspins *ks, size_t base, const float *ops)
{
    for (size_t j = 0; j < ks->n; j++) {
        const float *o = ops + 12 * (size_t)s->group[base + j];
        float X = ks->mx[j], Y = ks->my[j], Z = ks->mz[j], m0 = ks->m0[j];
        ks->mx[j] = o[0] * X + o[1] * Y + o[2] * Z + m0 * o[9];
        ks->my[j] = o[3] * X + o[4] * Y + o[5] * Z + m0 * o[10];
        ks->mz[j] = o[6] * X + o[7] * Y + o[8] * Z + m0 * o[11];
    }
}

void sim_free(struct sim *s)
{
    if (!s)
        return;
    float *arrs[] = { s->x, s->y, s->z, s->dw, s->r1, s->r2, s->m0, s->dc, s->mx, s->my, s->mz };
    for (size_t i = 0; i < ARRAY_LEN(arrs); i++)
        free(arrs[i]);
    if (s->sre) {
        for (int c = 0; c < s->o.ncoils; c++) {
            free(s->sre[c]);
            free(s->sim[c]);
        }
        free(s->sre);
        free(s->sim);
    }
    free(s->segs);
    free(s->rf);
    free(s->walks);
    free(s->adcs);
    free(s->acc);
    free(s->out);
    free(s->group), free(s->gz), free(s->gdw), free(s->gr1), free(s->gr2);
    free(s->gops), free(s->seg_op);
    for (int ax = 0; ax < 3; ax++) {
        wave_fini(&s->blk.w[ax]);
    }
    free(s);
}

void sim_set_sink(struct sim *s, sim_sink_fn fn, void *ctx)
{
    s->sink = fn;
    s->sink_ctx = ctx;
}

void sim_set_progress(struct sim *s, sim_progress_fn fn, void *ctx)
{
    s->progress = fn;
    s->progress_ctx = ctx;
}

size_t sim_nspins(const struct sim *s)
{
    return s->n;
}

void sim_stats(const struct sim *s, struct sim_stats *st)
{
    *st = s->st;
}

void sim_spin_m(const struct sim *s, size_t j, double m[3])
{
    m[0] = s->mx[j];
    m[1] = s->my[j];
    m[2] = s->mz[j];
}

void sim_total_m(const struct sim *s, double m[3])
{
    m[0] = m[1] = m[2] = 0;
    for (size_t j = 0; j < s->n; j++) {
        m[0] += s->mx[j];
        m[1] += s->my[j];
        m[2] += s->mz[j];
    }
}

/* --- waveforms -------------------------------------------------------------- */

/* The random walk's geometry over [a, b] for one axis (γ included in b, c):
   m1 = ∫G(t)(t−a)dt by Simpson (exact: quadratic per piece) and
   V = ∫_a^b (∫_τ^b G)² dτ by 3-point Gauss-Legendre per piece (exact: the
   integrand is quartic per piece). */
static void walk_geometry(const struct wave *w, double a, double b, double gamma, double *bo,
                          double *co)
{
    double T = b - a;
    double total = wave_integral(w, b);
    double m1 = 0, V = 0;
    static const double gx[3] = { -0.7745966692414834, 0, 0.7745966692414834 };
    static const double gw[3] = { 5.0 / 9, 8.0 / 9, 5.0 / 9 };
    /* the pieces of [a, b], cut at the waveform's corners */
    ptrdiff_t i0 = wave_piece(w, a);
    for (double p = a; p < b;) {
        size_t nx = (size_t)(i0 + 1);
        double q = nx < w->n && w->p[nx].t < b ? w->p[nx].t : b, h = q - p;
        i0++;
        if (h <= 0)
            continue;
        double mid = 0.5 * (p + q);
        m1 += h / 6 * (wave_at(w, p) * (p - a) + 4 * wave_at(w, mid) * (mid - a) +
                       wave_at(w, q) * (q - a));
        for (int k = 0; k < 3; k++) {
            double t = mid + 0.5 * h * gx[k];
            double tail = total - wave_integral(w, t);
            V += 0.5 * h * gw[k] * tail * tail;
        }
        p = q;
    }
    double bb = T > 0 ? m1 / sqrt(T) : 0;
    double cc2 = V - (T > 0 ? m1 * m1 / T : 0);
    *bo = gamma * bb;
    *co = gamma * sqrt(cc2 > 0 ? cc2 : 0);
}

/* --- the batch -------------------------------------------------------------- */

static struct seg *push_seg(struct sim *s, enum seg_kind kind)
{
    if (s->nsegs == s->capsegs)
        vec_reserve((void **)&s->segs, &s->capsegs, s->nsegs + 1, sizeof *s->segs);
    struct seg *g = &s->segs[s->nsegs++];
    memset(g, 0, sizeof *g);
    g->kind = (uint8_t)kind;
    return g;
}

/* Free precession over [a, b] of the block (relative times, s). */
static void add_free(struct sim *s, struct blk *B, double a, double b)
{
    if (b <= a)
        return;
    double k[3];
    bool any = false;
    for (int ax = 0; ax < 3; ax++) {
        k[ax] = B->on[ax] ? s->o.gamma * (wave_integral(&B->w[ax], b) - wave_integral(&B->w[ax], a)) : 0;
        any |= B->on[ax];
    }
    /* diffusing spins move in every interval (with no gradient the walk
       only displaces them) */
    bool walk = s->any_diffusion;
    struct seg *last = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
    if (last && last->kind == SEG_FREE && !walk) {
        last->dt += b - a;
        for (int ax = 0; ax < 3; ax++)
            last->k[ax] += k[ax];
        return;
    }
    if (last && last->kind == SEG_FREE && walk && !any && last->walk &&
        !s->walks[last->walk_idx].phase && last->k[0] == 0 && last->k[1] == 0 &&
        last->k[2] == 0) {
        /* two gradient-free walks: one displacement of the summed variance */
        struct walk *wk = &s->walks[last->walk_idx];
        wk->a = sqrt(wk->a * wk->a + (b - a));
        last->dt += b - a;
        return;
    }
    struct seg *g = push_seg(s, SEG_FREE);
    g->dt = b - a;
    memcpy(g->k, k, sizeof k);
    if (walk) {
        if (s->nwalks == s->capwalks)
            vec_reserve((void **)&s->walks, &s->capwalks, s->nwalks + 1, sizeof *s->walks);
        struct walk *wk = &s->walks[s->nwalks];
        wk->a = sqrt(b - a);
        for (int ax = 0; ax < 3; ax++) {
            wk->b[ax] = wk->c[ax] = 0;
            if (B->on[ax])
                walk_geometry(&B->w[ax], a, b, s->o.gamma, &wk->b[ax], &wk->c[ax]);
        }
        wk->phase = false;
        for (int ax = 0; ax < 3; ax++)
            wk->phase |= wk->b[ax] != 0 || wk->c[ax] != 0;
        g->walk = true;
        g->walk_idx = (uint32_t)s->nwalks++;
    }
}

/* Diffusing spins move during an RF pulse too, but the RF steps only rotate
   them: the pulse's displacement is one gradient-free walk of its duration,
   placed right after it. Its attenuation is exact where the moment stays
   constant across the pulse (a refocusing pulse between diffusion lobes,
   whose ∫k² dt over the pulse is k²·duration); the small moment of the
   slice-select gradient under the pulse itself is left out. */
static void add_rf_walk(struct sim *s, double dur)
{
    if (!s->any_diffusion || !(dur > 0))
        return;
    struct seg *g = push_seg(s, SEG_FREE);
    if (s->nwalks == s->capwalks)
        vec_reserve((void **)&s->walks, &s->capwalks, s->nwalks + 1, sizeof *s->walks);
    struct walk *wk = &s->walks[s->nwalks];
    memset(wk, 0, sizeof *wk);
    wk->a = sqrt(dur);
    g->walk = true;
    g->walk_idx = (uint32_t)s->nwalks++;
}

static void add_rf(struct sim *s, struct blk *B, const struct vm_rf *rf, double t0)
{
    double dt = (double)rf->dt_ns * 1e-9;
    if (s->nrf + rf->n > s->caprf)
        vec_reserve((void **)&s->rf, &s->caprf, s->nrf + rf->n, sizeof *s->rf);
    struct seg *g = push_seg(s, SEG_RF);
    g->n = rf->n;
    g->dt = dt;
    g->off = s->nrf;
    const double gam = s->o.gamma, h = 0.5 * dt;
    double prev[3];
    for (int ax = 0; ax < 3; ax++)
        prev[ax] = B->on[ax] ? wave_integral(&B->w[ax], t0) : 0;
    for (uint32_t k = 0; k < rf->n; k++) {
        double tb = t0 + (k + 1) * dt;
        double ph = wave_rf_phase(rf, k);
        double b1 = rf->amp * rf->mag[k];
        struct krf_step *st = &s->rf[s->nrf++];
        st->hx = (float)(-gam * b1 * cos(ph) * h);
        st->hy = (float)(-gam * b1 * sin(ph) * h);
        float gv[3];
        for (int ax = 0; ax < 3; ax++) {
            double c = B->on[ax] ? wave_integral(&B->w[ax], tb) : 0;
            gv[ax] = (float)(gam * (c - prev[ax]) * 0.5);   /* γ·Ḡ·dt/2 */
            prev[ax] = c;
        }
        st->gx = gv[0];
        st->gy = gv[1];
        st->gz = gv[2];
    }
}

static void run_batch(struct sim *s);

static void batch_room(struct sim *s, size_t samples)
{
    if (s->nsamples + samples > s->cap_samples) {
        size_t cap = s->cap_samples ? s->cap_samples : 4096;
        while (cap < s->nsamples + samples)
            cap *= 2;
        size_t per = (size_t)s->o.ncoils * 2;
        double *acc = xcalloc((size_t)s->nthreads * cap * per, sizeof(double));
        free(s->acc);
        s->acc = acc;
        s->cap_samples = cap;
    }
}

static void add_adc(struct sim *s, struct blk *B, const struct vm_block *b, double *tc)
{
    const struct vm_adc *adc = &b->adc;
    double dw = (double)adc->dwell_ns * 1e-9, d0 = (double)adc->delay_ns * 1e-9;
    uint32_t n = adc->samples;
    if (s->nadcs == s->capadcs)
        vec_reserve((void **)&s->adcs, &s->capadcs, s->nadcs + 1, sizeof *s->adcs);
    struct adc_rec *r = &s->adcs[s->nadcs++];
    memset(r, 0, sizeof *r);
    r->acq.index = s->nadc_total++;
    r->acq.t_ns = b->start_ns + adc->delay_ns;
    r->acq.dwell_ns = adc->dwell_ns;
    r->acq.samples = n;
    r->acq.ncoils = s->o.ncoils;
    memcpy(r->acq.labels, adc->labels, sizeof r->acq.labels);
    r->phase = adc->phase;
    r->freq = adc->freq;
    r->dwell = dw;
    batch_room(s, n);
    r->off = s->nsamples;
    s->nsamples += n;
    if (!n)
        return;
    double t_first = d0 + 0.5 * dw, t_last = d0 + (n - 0.5) * dw;
    /* samples inside an RF pulse (a program that did not pass the checks)
       are taken where the pulse ends */
    if (t_first < *tc)
        t_first = *tc;
    bool constant = !s->any_diffusion && t_last > t_first;
    for (int ax = 0; ax < 3 && constant; ax++)
        if (B->on[ax] && !wave_constant(&B->w[ax], t_first, t_last))
            constant = false;
    add_free(s, B, *tc, t_first);
    if (constant) {
        double k[3];
        for (int ax = 0; ax < 3; ax++)
            k[ax] = B->on[ax] ? s->o.gamma * wave_at(&B->w[ax], t_first) * dw : 0;
        for (uint32_t i = 0; i < n; i += ADC_RUN_MAX) {
            uint32_t m = n - i < ADC_RUN_MAX ? n - i : ADC_RUN_MAX;
            if (i) {
                struct seg *f = push_seg(s, SEG_FREE);
                f->dt = dw;
                memcpy(f->k, k, sizeof k);
            }
            struct seg *g = push_seg(s, SEG_ADC);
            g->n = m;
            g->dt = dw;
            memcpy(g->k, k, sizeof k);
            g->off = r->off + i;
        }
        *tc = d0 + (n - 0.5) * dw;
        return;
    }
    double t = t_first;
    for (uint32_t i = 0; i < n; i++) {
        double ti = d0 + (i + 0.5) * dw;
        if (ti < t)
            ti = t;
        add_free(s, B, t, ti);
        struct seg *g = push_seg(s, SEG_SAMPLE);
        g->off = r->off + i;
        t = ti;
    }
    *tc = t;
}

static int sim_block_end(void *ctx, const struct vm_block *b)
{
    struct sim *s = ctx;
    if (s->err || s->stop)
        return 1;
    struct blk *B = &s->blk;   /* reused waveform buffers */
    for (int ax = 0; ax < 3; ax++) {
        B->on[ax] = b->has_grad[ax];
        if (B->on[ax])
            wave_set(&B->w[ax], &b->grad[ax]);
    }
    double T = (double)b->dur_ns * 1e-9;
    double tc = 0;
    if (b->has_rf && b->rf.use == VM_RFUSE_EXCITATION) {
        /* ideal spoiling: the moment since the previous excitation's block
           start, in cycles across a voxel */
        double cyc = 0;
        for (int ax = 0; ax < 3; ax++)
            cyc = fmax(cyc, fabs(s->mom[ax]) * s->vox[ax] / (2 * M_PI));
        if (s->o.ideal_spoiling && s->seen_exc && cyc >= 1) {
            push_seg(s, SEG_SPOIL);
            s->nspoiled++;
        }
        s->seen_exc = true;
        for (int ax = 0; ax < 3; ax++)
            s->mom[ax] = 0;
    }
    for (int ax = 0; ax < 3; ax++)
        if (B->on[ax])
            s->mom[ax] += s->o.gamma * wave_integral(&B->w[ax], T);
    bool rf_first = b->has_rf && (!b->has_adc || b->rf.delay_ns <= b->adc.delay_ns);
    if (rf_first) {
        double t0 = (double)b->rf.delay_ns * 1e-9;
        add_free(s, B, tc, t0);
        add_rf(s, B, &b->rf, t0);
        add_rf_walk(s, (double)b->rf.n * (double)b->rf.dt_ns * 1e-9);
        tc = t0 + (double)b->rf.n * (double)b->rf.dt_ns * 1e-9;
    }
    if (b->has_adc)
        add_adc(s, B, b, &tc);
    if (b->has_rf && !rf_first) {
        double t0 = (double)b->rf.delay_ns * 1e-9;
        if (t0 < tc)
            t0 = tc;
        add_free(s, B, tc, t0);
        add_rf(s, B, &b->rf, t0);
        add_rf_walk(s, (double)b->rf.n * (double)b->rf.dt_ns * 1e-9);
        tc = t0 + (double)b->rf.n * (double)b->rf.dt_ns * 1e-9;
    }
    add_free(s, B, tc, T > tc ? T : tc);
    s->pending_ns = b->start_ns + b->dur_ns;
    /* run when the batch holds about a quarter of a second of work (so that
       progress and Ctrl-C are prompt) or fills its tables */
    double work = (double)s->n * (double)(s->nrf * 8 + s->nsamples + s->nsegs * 4);
    if (s->nsegs >= BATCH_SEGS || s->nrf >= BATCH_RF_STEPS || s->nsamples >= BATCH_SAMPLES ||
        work > BATCH_WORK)
        run_batch(s);
    return s->err || s->stop;
}

static int sim_end(void *ctx, int64_t total_ns)
{
    struct sim *s = ctx;
    (void)total_ns;
    if (s->nsegs || s->nadcs)
        run_batch(s);
    return s->err;
}

void sim_backend(struct sim *s, struct vm_backend *be)
{
    memset(be, 0, sizeof *be);
    be->ctx = s;
    be->block_end = sim_block_end;
    be->end = sim_end;
}

/* --- running a batch ------------------------------------------------------ */

/* Two standard normal deviates from a counter (Box-Muller). */
static void normal2(uint64_t key, double *z1, double *z2)
{
    uint64_t a = kern_mix64(key), b = kern_mix64(key ^ 0x5851f42d4c957f2dull);
    double u1 = ((a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (b >> 11) * (1.0 / 9007199254740992.0);
    double r = sqrt(-2 * log(u1));
    *z1 = r * cos(2 * M_PI * u2);
    *z2 = r * sin(2 * M_PI * u2);
}

/* The random walk of the diffusing spins of a chunk over one interval,
   after its free precession from the start positions: each gains its
   diffusion phase and moves. */
static void walk_chunk(struct sim *s, struct kspins *ks, size_t base, const struct walk *wk,
                       uint64_t serial)
{
    struct kwalk kw = { .a = (float)wk->a, .phase = wk->phase, .base = base,
                        .key0 = kern_mix64(s->o.seed ^ (serial * 0x9e3779b97f4a7c15ull)) };
    for (int ax = 0; ax < 3; ax++) {
        kw.b[ax] = (float)wk->b[ax];
        kw.c[ax] = (float)wk->c[ax];
    }
    kern_walk(ks, s->dc + base, &kw);
}

static void run_chunk(struct sim *s, size_t ci, double *acc, float *scratch)
{
    size_t base = ci * CHUNK;
    size_t n = s->n - base < CHUNK ? s->n - base : CHUNK;
    int nc = s->o.ncoils;
    float *sre[128], *sim[128];
    struct kspins ks = {
        .n = n, .x = s->x + base, .y = s->y + base, .z = s->z + base, .dw = s->dw + base,
        .r1 = s->r1 + base, .r2 = s->r2 + base, .m0 = s->m0 + base,
        .mx = s->mx + base, .my = s->my + base, .mz = s->mz + base,
        .ncoils = nc, .t0 = scratch, .t1 = scratch + CHUNK, .t2 = scratch + 2 * CHUNK,
        .t3 = scratch + 3 * CHUNK, .t4 = scratch + 4 * CHUNK,
    };
    if (s->sre) {
        for (int c = 0; c < nc; c++) {
            sre[c] = s->sre[c] + base;
            sim[c] = s->sim[c] + base;
        }
        ks.sre = sre;
        ks.sim = sim;
    }
    uint64_t serial = s->walk_serial;
    for (size_t i = 0; i < s->nsegs; i++) {
        const struct seg *g = &s->segs[i];
        switch (g->kind) {
        case SEG_FREE:
            /* the phase of the interval's start positions, then the walk
               (its own phase and the move) */
            kern_free(&ks, g->k, g->dt);
            if (g->walk)
                walk_chunk(s, &ks, base, &s->walks[g->walk_idx], serial + g->walk_idx);
            break;
        case SEG_RF:
            if (s->seg_op && s->seg_op[i] >= 0)
                apply_group_ops(s, &ks, base, s->gops + (size_t)s->seg_op[i] * 12 * s->ngroups);
            else
                kern_rf(&ks, s->rf + g->off, g->n, g->dt);
            break;
        case SEG_SAMPLE:
            kern_sample(&ks, acc + g->off * 2 * (size_t)nc);
            break;
        case SEG_ADC:
            kern_adc_const(&ks, g->k, g->dt, g->n, acc + g->off * 2 * (size_t)nc);
            break;
        case SEG_SPOIL:
            memset(ks.mx, 0, ks.n * sizeof *ks.mx);
            memset(ks.my, 0, ks.n * sizeof *ks.my);
            break;
        }
    }
}

/* The group maps of the batch's RF segments that have no x or y gradient,
   when composing them costs less than stepping every spin. */
static void prepare_group_ops(struct sim *s)
{
    if (!s->group)
        return;
    if (s->nsegs > s->capsegop) {
        s->capsegop = s->nsegs;
        s->seg_op = xrealloc(s->seg_op, s->capsegop * sizeof *s->seg_op);
    }
    size_t nops = 0;
    for (size_t i = 0; i < s->nsegs; i++) {
        const struct seg *g = &s->segs[i];
        s->seg_op[i] = -1;
        if (g->kind != SEG_RF || s->ngroups * 4 > s->n)
            continue;
        bool zonly = true;
        for (uint32_t k = 0; k < g->n && zonly; k++)
            zonly = s->rf[g->off + k].gx == 0 && s->rf[g->off + k].gy == 0;
        if (!zonly)
            continue;
        if ((nops + 1) * 12 * s->ngroups > s->capgops) {
            s->capgops = (nops + 1) * 12 * s->ngroups * 2;
            s->gops = xrealloc(s->gops, s->capgops * sizeof *s->gops);
        }
        s->seg_op[i] = (int32_t)nops++;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->nthreads)
    for (size_t i = 0; i < s->nsegs; i++)
        if (s->seg_op[i] >= 0)
            group_ops(s, &s->segs[i], s->gops + (size_t)s->seg_op[i] * 12 * s->ngroups);
}

static void run_batch(struct sim *s)
{
    prepare_group_ops(s);
    size_t per = (size_t)s->o.ncoils * 2;
    size_t len = s->nsamples * per;
    if (len)
        memset(s->acc, 0, (size_t)s->nthreads * s->cap_samples * per * sizeof(double));
    size_t stride = s->cap_samples * per;
#pragma omp parallel num_threads(s->nthreads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float scratch[5 * CHUNK];
        double *acc = s->acc ? s->acc + (size_t)tid * stride : NULL;
#pragma omp for schedule(dynamic, 1)
        for (size_t ci = 0; ci < s->nchunks; ci++)
            run_chunk(s, ci, acc, scratch);
    }
    /* work counters */
    for (size_t i = 0; i < s->nsegs; i++) {
        const struct seg *g = &s->segs[i];
        if (g->kind == SEG_RF)
            s->st.rf_spin_steps += (uint64_t)g->n * s->n;
        else if (g->kind == SEG_ADC)
            s->st.adc_spin_samples += (uint64_t)g->n * s->n;
        else if (g->kind == SEG_SAMPLE)
            s->st.adc_spin_samples += s->n;
        else if (g->kind == SEG_FREE)
            s->st.free_spin_steps += s->n;
    }
    s->st.batches++;
    s->walk_serial += s->nwalks;
    /* reduce the threads' sums in a fixed order */
    for (int t = 1; t < s->nthreads; t++)
        for (size_t i = 0; i < len; i++)
            s->acc[i] += s->acc[(size_t)t * stride + i];
    /* demodulate, add noise, hand each ADC to the sink */
    for (size_t a = 0; a < s->nadcs && !s->err; a++) {
        struct adc_rec *r = &s->adcs[a];
        size_t need = (size_t)r->acq.samples * per;
        if (need > s->cap_out) {
            s->cap_out = need;
            s->out = xrealloc(s->out, need * sizeof *s->out);
        }
        for (uint32_t k = 0; k < r->acq.samples; k++) {
            double ph = r->phase + 2 * M_PI * r->freq * (k + 0.5) * r->dwell;
            double c = cos(ph), sn = sin(ph);
            for (int coil = 0; coil < s->o.ncoils; coil++) {
                const double *v = s->acc + (r->off + k) * per + 2 * (size_t)coil;
                double re = v[0] * c + v[1] * sn, im = v[1] * c - v[0] * sn;
                if (s->noise_sigma > 0) {
                    double z1, z2;
                    normal2(kern_mix64(s->o.seed ^ 0xa0761d6478bd642full) ^
                                (r->acq.index * 131071 + (uint64_t)coil) * 0x100000001b3ull ^
                                ((uint64_t)k << 40),
                            &z1, &z2);
                    re += s->noise_sigma * z1;
                    im += s->noise_sigma * z2;
                }
                float *o = s->out + ((size_t)coil * r->acq.samples + k) * 2;
                o[0] = (float)re;
                o[1] = (float)im;
            }
        }
        r->acq.data = s->out;
        if (s->sink && s->sink(s->sink_ctx, &r->acq))
            s->err = 1;
    }
    s->nsegs = s->nrf = s->nwalks = s->nadcs = s->nsamples = 0;
    s->done_ns = s->pending_ns;
    if (s->progress && s->progress(s->progress_ctx, s->done_ns))
        s->stop = true;
}
