/*
 * recon: see recon.h.
 */
#include "runtime/recon/recon.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/recon/fft.h"
#include "base/membudget.h"
#include "base/util.h"

static bool flag(const struct raw_acq *a, int n)
{
    return (a->flags & RAW_FLAG(n)) != 0;
}

/* Acquisitions that are not image data: noise, calibration only,
   navigators, phase correction, dummy scans, feedback data. */
static bool is_imaging(const struct raw_acq *a)
{
    if (flag(a, RAW_IS_NOISE_MEASUREMENT) || flag(a, RAW_IS_NAVIGATION_DATA) ||
        flag(a, RAW_IS_PHASECORR_DATA) || flag(a, 26) || flag(a, 27) || flag(a, 28) ||
        flag(a, 29) || flag(a, 30) || flag(a, 31))
        return false;
    if (flag(a, RAW_IS_PARALLEL_CALIBRATION) && !flag(a, 21))
        return false;
    return true;
}

static void note(const struct recon_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const struct recon_opts *o, const char *fmt, ...)
{
    if (!o || !o->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("larmor recon: ", o->log);
    vfprintf(o->log, fmt, ap);
    fputc('\n', o->log);
    va_end(ap);
}

void kspace_free(struct kspace *k)
{
    if (!k)
        return;
    fft_free(k->data);
    free(k->mask);
    free(k->frame_labels);
    free(k);
}

static bool unit_or_default(const float *v, double *out, int axis)
{
    double n = sqrt((double)v[0] * v[0] + (double)v[1] * v[1] + (double)v[2] * v[2]);
    for (int i = 0; i < 3; i++)
        out[i] = n > 1e-6 ? v[i] / n : (i == axis);
    return n > 1e-6;
}

/* The readout index of sample s (reversed lines run backwards). */
static long ro_index(const struct raw_acq *a, uint32_t s, int nx)
{
    long d = (long)s - (long)a->centre_sample;
    return (flag(a, RAW_IS_REVERSE) ? -d : d) + nx / 2;
}

/* One line on the readout grid, per coil: line[c][x] (zero where no
   sample falls). */
static void place_line(const struct raw_acq *a, int nx, int ncoils, float complex *line,
                       size_t *dropped)
{
    memset(line, 0, (size_t)nx * (size_t)ncoils * sizeof *line);
    for (int c = 0; c < ncoils && c < a->ncoils; c++)
        for (uint32_t s = 0; s < a->samples; s++) {
            long x = ro_index(a, s, nx);
            if (x < 0 || x >= nx) {
                if (c == 0)
                    (*dropped)++;
                continue;
            }
            const float *d = a->data + 2 * ((size_t)c * a->samples + s);
            line[(size_t)c * (size_t)nx + (size_t)x] = d[0] + I * d[1];
        }
}

/* One acquisition's place on the grid: its row in the data (coil 0) and
   in the mask, its first sample's x and direction, the samples that land
   on the grid; added: its data is already in (a phase-corrected line). */
struct placement {
    const struct raw_acq *a;
    size_t drow, mrow;
    long x0;
    int step;
    uint32_t s_lo, s_hi;
    bool added;
};

#ifdef _OPENMP
static int omp_thread(void) { return omp_get_thread_num(); }
static int omp_threads(void) { return omp_get_num_threads(); }
#else
static int omp_thread(void) { return 0; }
static int omp_threads(void) { return 1; }
#endif

struct grid_map {
    int ny, nz, cy, cz;
    int neco, nphs, nrep, nset;
};

static int frame_of(const struct grid_map *g, const int32_t *l)
{
    return ((l[VM_LABEL_SET] * g->nrep + l[VM_LABEL_REP]) * g->nphs + l[VM_LABEL_PHS]) * g->neco +
           l[VM_LABEL_ECO];
}

/* The odd/even (EPI) phase error per slice from the reference lines: the
   phase of the reversed lines relative to the forward ones, across x in
   hybrid space, fitted as a + b·(x − nx/2) (the slope from the
   autocorrelation of neighbours, Ahn & Cho 1987, which never needs
   unwrapping). */
static void phase_fit(const float complex *fwd, const float complex *rev, int nx, int ncoils,
                      double *a, double *b)
{
    double complex acc1 = 0;
    double complex *z = xcalloc((size_t)nx, sizeof *z);
    for (int c = 0; c < ncoils; c++)
        for (int x = 0; x < nx; x++)
            z[x] += (double complex)rev[(size_t)c * nx + x] * conj(fwd[(size_t)c * nx + x]);
    for (int x = 0; x + 1 < nx; x++)
        acc1 += z[x + 1] * conj(z[x]);
    *b = carg(acc1);
    double complex acc0 = 0;
    for (int x = 0; x < nx; x++)
        acc0 += z[x] * cexp(-I * *b * (x - nx / 2));
    *a = carg(acc0);
    free(z);
}

/* The state of one placement: the raw data, the grid's shape and what
   the steps of recon_kspace hand on to each other. */
struct build {
    const struct raw_file *f;
    const struct recon_opts *o;
    struct grid_map g;
    int nx, ncoils, nslices, nframes;
    size_t vol;                     /* nx · ny · nz */
    size_t nimg, npc;               /* imaging and phase-correction acquisitions */
    uint32_t maxs;                  /* the most samples of an imaging acquisition */
    int32_t maxl[VM_LABEL__COUNT];  /* the largest label of the imaging data */
    const struct raw_acq *first;    /* the first imaging acquisition */
    double (*spos)[3];              /* each slice's position (m), where seen */
    bool *seen;
    float complex *line;            /* one line, all coils (fft_alloc) */
    size_t line_n;
    double *pc_a, *pc_b;            /* per slice: the EPI phase error, or NULL */
};

/* The trajectory must be one Larmor reconstructs; -1 with a message. */
static int check_trajectory(const struct raw_header *h, const struct recon_opts *o, char *err,
                            size_t errlen)
{
    const char *traj = h->trajectory ? h->trajectory : "cartesian";
    if (strcmp(traj, "cartesian") && strcmp(traj, "epi") && strcmp(traj, "other")) {
        snprintf(err, errlen, "the raw data's trajectory is '%s'; Larmor reconstructs Cartesian "
                 "and EPI data only (a non-Cartesian recon such as `bart nufft` can take '%s' "
                 "data whose acquisitions carry their k-space trajectory)", traj, traj);
        return -1;
    }
    if (!strcmp(traj, "other"))
        note(o, "the header names the trajectory 'other'; reconstructing it as Cartesian, "
                "by its encoding counters");
    return 0;
}

/* The extent of the labels and samples of the imaging data; -1 with a
   message when there is none or a counter is negative. */
static int scan_extent(struct build *b, char *err, size_t errlen)
{
    const struct raw_file *f = b->f;
    int32_t minl[VM_LABEL__COUNT];
    for (int l = 0; l < VM_LABEL__COUNT; l++) {
        b->maxl[l] = 0;
        minl[l] = INT32_MAX;
    }
    for (size_t i = 0; i < f->nacq; i++) {
        const struct raw_acq *a = &f->acq[i];
        if (flag(a, RAW_IS_PHASECORR_DATA))
            b->npc++;
        if (!is_imaging(a))
            continue;
        if (!b->first)
            b->first = a;
        b->nimg++;
        for (int l = 0; l < VM_LABEL__COUNT; l++) {
            if (a->labels[l] > b->maxl[l])
                b->maxl[l] = a->labels[l];
            if (a->labels[l] < minl[l])
                minl[l] = a->labels[l];
        }
        if (a->samples > b->maxs)
            b->maxs = a->samples;
        if (a->ncoils > b->ncoils)
            b->ncoils = a->ncoils;
    }
    if (!b->nimg) {
        snprintf(err, errlen, "the raw data holds no imaging acquisitions (%zu acquisitions, "
                 "all noise, calibration or navigator data)", f->nacq);
        return -1;
    }
    for (int l = 0; l < VM_LABEL__COUNT; l++)
        if (minl[l] < 0) {
            snprintf(err, errlen, "an acquisition has a negative '%s' counter (%d)",
                     vm_label_names[l], (int)minl[l]);
            return -1;
        }
    return 0;
}

/* The grid's shape from the header and the extent; -1 with a message when
   it would not fit in memory. */
static int plan_grid(struct build *b, char *err, size_t errlen)
{
    const struct raw_header *h = &b->f->hdr;
    const int32_t *maxl = b->maxl;
    struct grid_map *g = &b->g;
    b->nx = h->matrix[0] >= (int)b->maxs ? h->matrix[0] : (int)b->maxs;
    g->ny = h->matrix[1] > maxl[VM_LABEL_LIN] ? h->matrix[1] : maxl[VM_LABEL_LIN] + 1;
    g->nz = h->matrix[2] > maxl[VM_LABEL_PAR] ? h->matrix[2] : maxl[VM_LABEL_PAR] + 1;
    if (g->ny < 1)
        g->ny = 1;
    if (g->nz < 1)
        g->nz = 1;
    const struct raw_limit *ly = &h->limits[VM_LABEL_LIN], *lz = &h->limits[VM_LABEL_PAR];
    g->cy = ly->max >= ly->min && g->ny > 1 ? ly->centre : g->ny / 2;
    g->cz = lz->max >= lz->min && g->nz > 1 ? lz->centre : g->nz / 2;
    g->neco = maxl[VM_LABEL_ECO] + 1;
    g->nphs = maxl[VM_LABEL_PHS] + 1;
    g->nrep = maxl[VM_LABEL_REP] + 1;
    g->nset = maxl[VM_LABEL_SET] + 1;
    b->nslices = maxl[VM_LABEL_SLC] + 1;
    /* each counter may be 65,536 (widened limits): the product saturates
       rather than wraps */
    size_t frames = mem_mul(mem_mul((size_t)g->neco, (size_t)g->nphs),
                            mem_mul((size_t)g->nrep, (size_t)g->nset));
    if (frames > (size_t)INT32_MAX) {
        snprintf(err, errlen, "%d echoes x %d phases x %d repetitions x %d sets are %llu "
                 "frames, past the 2^31 frames Larmor reconstructs", g->neco, g->nphs, g->nrep,
                 g->nset, (unsigned long long)frames);
        return -1;
    }
    b->nframes = (int)frames;
    b->vol = (size_t)b->nx * (size_t)g->ny * (size_t)g->nz;
    if (b->vol > (size_t)INT32_MAX) {
        snprintf(err, errlen, "the k-space grid of %d x %d x %d points is past the 2^31 points "
                 "of one volume Larmor reconstructs", b->nx, g->ny, g->nz);
        return -1;
    }
    /* the grid (a complex sample per coil), its mask and the image (at
       most a complex value per point), all before anything is allocated */
    size_t points = mem_mul(mem_mul(b->vol, (size_t)b->nslices), (size_t)b->nframes);
    size_t need = mem_mul(points, mem_add(mem_mul(sizeof(float complex), (size_t)b->ncoils),
                                          1 + sizeof(float complex)));
    char what[256];
    snprintf(what, sizeof what, "the k-space grid and image (%d x %d x %d, %d coil%s, %d "
             "slice%s, %d frame%s)", b->nx, g->ny, g->nz, b->ncoils, b->ncoils == 1 ? "" : "s",
             b->nslices, b->nslices == 1 ? "" : "s", b->nframes, b->nframes == 1 ? "" : "s");
    return mem_check(b->o->input, what, need, err, errlen);
}

/* An empty grid of b's shape: each frame's labels, the header's geometry,
   the directions of the first imaging acquisition. */
static struct kspace *new_grid(const struct build *b)
{
    const struct raw_header *h = &b->f->hdr;
    const struct grid_map *g = &b->g;
    struct kspace *k = xcalloc(1, sizeof *k);
    k->nx = b->nx;
    k->ny = g->ny;
    k->nz = g->nz;
    k->ncoils = b->ncoils;
    k->nslices = b->nslices;
    k->nframes = b->nframes;
    k->data = fft_alloc(b->vol * (size_t)b->ncoils * (size_t)b->nslices * (size_t)b->nframes);
    k->frame_labels = xcalloc((size_t)b->nframes, sizeof *k->frame_labels);
    k->lo[0] = b->nx;
    k->lo[1] = g->ny;
    k->lo[2] = g->nz;
    k->hi[0] = k->hi[1] = k->hi[2] = -1;
    for (int fr = 0; fr < b->nframes; fr++) {
        int r = fr;
        k->frame_labels[fr][VM_LABEL_ECO] = r % g->neco;
        r /= g->neco;
        k->frame_labels[fr][VM_LABEL_PHS] = r % g->nphs;
        r /= g->nphs;
        k->frame_labels[fr][VM_LABEL_REP] = r % g->nrep;
        k->frame_labels[fr][VM_LABEL_SET] = r / g->nrep;
    }
    for (int d = 0; d < 3; d++) {
        k->fov[d] = h->fov[d];
        k->recon_matrix[d] = h->recon_matrix[d];
        k->recon_fov[d] = h->recon_fov[d];
    }
    unit_or_default(b->first->read_dir, k->read_dir, 0);
    unit_or_default(b->first->phase_dir, k->phase_dir, 1);
    unit_or_default(b->first->slice_dir, k->slice_dir, 2);
    return k;
}

/* The per-slice phase errors (b->pc_a, b->pc_b) from the forward and
   reversed reference lines, summed in hybrid space (x transformed). */
static void fit_phase_correction(struct build *b, struct kspace *k)
{
    const struct raw_file *f = b->f;
    int nx = b->nx, ncoils = b->ncoils, nslices = b->nslices;
    size_t line_n = b->line_n;
    float complex *line = b->line;
    float complex *fw = fft_alloc(line_n * (size_t)nslices);
    float complex *rv = fft_alloc(line_n * (size_t)nslices);
    int *nf = xcalloc((size_t)nslices, sizeof *nf), *nr = xcalloc((size_t)nslices, sizeof *nr);
    for (size_t i = 0; i < f->nacq; i++) {
        const struct raw_acq *a = &f->acq[i];
        int s = a->labels[VM_LABEL_SLC];
        if (!flag(a, RAW_IS_PHASECORR_DATA) || s >= nslices || a->ncoils < ncoils)
            continue;
        size_t dummy = 0;
        place_line(a, nx, ncoils, line, &dummy);
        fft_centred(line, 1, &nx, (size_t)ncoils, +1);
        bool rev = flag(a, RAW_IS_REVERSE);
        float complex *acc = (rev ? rv : fw) + (size_t)s * line_n;
        for (size_t j = 0; j < line_n; j++)
            acc[j] += line[j];
        (rev ? nr : nf)[s]++;
    }
    b->pc_a = xcalloc((size_t)nslices, sizeof *b->pc_a);
    b->pc_b = xcalloc((size_t)nslices, sizeof *b->pc_b);
    int fitted = 0;
    for (int s = 0; s < nslices; s++)
        if (nf[s] && nr[s]) {
            phase_fit(fw + (size_t)s * line_n, rv + (size_t)s * line_n, nx, ncoils,
                      &b->pc_a[s], &b->pc_b[s]);
            fitted++;
            note(b->o, "EPI phase correction, slice %d: %.4f rad + %.5f rad/sample "
                    "(from %d forward and %d reversed reference lines)",
                 s, b->pc_a[s], b->pc_b[s], nf[s], nr[s]);
        }
    if (fitted < nslices)
        note(b->o, "%d of %d slices have no forward and reversed reference lines; their "
                "reversed lines are not phase-corrected", nslices - fitted, nslices);
    k->phase_corrected = fitted > 0;
    fft_free(fw);
    fft_free(rv);
    free(nf);
    free(nr);
}

/* Phase correction where there are reversed imaging lines: fitted from
   the reference lines when there are some, else a note. */
static void phase_correction(struct build *b, struct kspace *k)
{
    size_t nrev_img = 0;
    for (size_t i = 0; i < b->f->nacq; i++)
        if (is_imaging(&b->f->acq[i]) && flag(&b->f->acq[i], RAW_IS_REVERSE))
            nrev_img++;
    if (b->npc && nrev_img)
        fit_phase_correction(b, k);
    else if (nrev_img)
        note(b->o, "%zu reversed (EPI) lines and no phase-correction reference lines: "
                "reversed lines are flipped but not phase-corrected", nrev_img);
}

/* The samples of a (first sample's index x0, direction rev) that land on
   a grid of nx points: s_lo .. s_hi - 1. */
static void grid_range(const struct raw_acq *a, long x0, bool rev, int nx, uint32_t *s_lo,
                       uint32_t *s_hi)
{
    *s_lo = 0;
    *s_hi = a->samples;
    if (!rev) {
        if (x0 < 0)
            *s_lo = (uint32_t)-x0;
        if (x0 + (long)a->samples > nx)
            *s_hi = (uint32_t)(nx - x0 > 0 ? nx - x0 : 0);
    } else {
        if (x0 >= nx)
            *s_lo = (uint32_t)(x0 - nx + 1);
        if (x0 - (long)a->samples + 1 < 0)
            *s_hi = (uint32_t)(x0 + 1 > 0 ? x0 + 1 : 0);
    }
    if (*s_hi < *s_lo)
        *s_hi = *s_lo;
}

/* Widen the sampled extent of k by the grid points x in xa..xb (either
   order) of line y, partition z. */
static void widen_extent(struct kspace *k, long xa, long xb, long y, long z)
{
    long xmin = xa < xb ? xa : xb, xmax = xa < xb ? xb : xa;
    k->lo[0] = xmin < k->lo[0] ? (int)xmin : k->lo[0];
    k->hi[0] = xmax > k->hi[0] ? (int)xmax : k->hi[0];
    k->lo[1] = y < k->lo[1] ? (int)y : k->lo[1];
    k->hi[1] = y > k->hi[1] ? (int)y : k->hi[1];
    k->lo[2] = z < k->lo[2] ? (int)z : k->lo[2];
    k->hi[2] = z > k->hi[2] ? (int)z : k->hi[2];
}

/* A reversed line of slice s, phase-corrected in hybrid space, added to
   the grid at row drow. */
static void add_corrected(const struct build *b, struct kspace *k, const struct raw_acq *a,
                          int s, size_t drow)
{
    int nx = b->nx, ncoils = b->ncoils;
    float complex *line = b->line;
    size_t dummy = 0;
    place_line(a, nx, ncoils, line, &dummy);
    fft_centred(line, 1, &nx, (size_t)ncoils, +1);
    for (int c = 0; c < ncoils; c++)
        for (int x = 0; x < nx; x++)
            line[(size_t)c * nx + x] *=
                (float complex)cexp(-I * (b->pc_a[s] + b->pc_b[s] * (x - nx / 2)));
    fft_centred(line, 1, &nx, (size_t)ncoils, -1);
    for (int c = 0; c < ncoils; c++)
        for (int x = 0; x < nx; x++)
            k->data[drow + (size_t)c * b->vol + (size_t)x] += line[(size_t)c * nx + x];
}

/* Where each imaging acquisition's samples go (pl, *npl of them), the
   counts of k, the slices' positions; the phase-corrected lines are
   added to the grid here. -1 with a message on a coil count that
   differs. */
static int place_acqs(struct build *b, struct kspace *k, struct placement *pl, size_t *npl,
                      char *err, size_t errlen)
{
    const struct raw_file *f = b->f;
    const struct grid_map *g = &b->g;
    int nx = b->nx, ncoils = b->ncoils, nslices = b->nslices;
    for (size_t i = 0; i < f->nacq; i++) {
        const struct raw_acq *a = &f->acq[i];
        if (!is_imaging(a)) {
            k->nskipped++;
            if (flag(a, RAW_IS_PHASECORR_DATA))
                k->nphasecorr++;
            continue;
        }
        if (a->ncoils != ncoils) {
            snprintf(err, errlen, "acquisition %zu has %d coils where the others have %d",
                     i, a->ncoils, ncoils);
            return -1;
        }
        int s = a->labels[VM_LABEL_SLC];
        long y = (long)a->labels[VM_LABEL_LIN] - g->cy + g->ny / 2;
        long z = (long)a->labels[VM_LABEL_PAR] - g->cz + g->nz / 2;
        if (y < 0 || y >= g->ny || z < 0 || z >= g->nz) {
            k->ndropped_samples += a->samples;
            continue;
        }
        if (!b->seen[s]) {
            b->seen[s] = true;
            for (int d = 0; d < 3; d++)
                b->spos[s][d] = a->position[d] * 1e-3;
        }
        bool rev = flag(a, RAW_IS_REVERSE);
        int fr = frame_of(g, a->labels);
        size_t mrow = ((((size_t)fr * nslices + s) * g->nz + z) * g->ny + y) * nx;
        size_t drow = (((((size_t)fr * nslices + s) * ncoils) * g->nz + z) * g->ny + y) * nx;
        /* the samples' grid range */
        long x0 = ro_index(a, 0, nx), step = rev ? -1 : 1;
        uint32_t s_lo, s_hi;          /* samples that land on the grid */
        grid_range(a, x0, rev, nx, &s_lo, &s_hi);
        k->ndropped_samples += a->samples - (s_hi - s_lo);
        if (s_hi > s_lo)
            widen_extent(k, x0 + step * (long)s_lo, x0 + step * (long)(s_hi - 1), y, z);
        if (rev)
            k->nreversed++;
        bool corrected = rev && b->pc_a && (b->pc_a[s] != 0 || b->pc_b[s] != 0);
        if (corrected)
            add_corrected(b, k, a, s, drow);
        pl[(*npl)++] = (struct placement){ a, drow, mrow, x0, (int)step, s_lo, s_hi, corrected };
        k->nused++;
    }
    return 0;
}

/* The samples onto the grid, in parallel: each thread owns a range of
   grid rows, so averages of one row add up in one thread. count gets the
   samples per grid point, saturating; -1 when a point has more than 254. */
static int grid_samples(const struct build *b, struct kspace *k, const struct placement *pl,
                        size_t npl, unsigned char *count)
{
    int nx = b->nx, ncoils = b->ncoils;
    size_t vol = b->vol;
    size_t nrows = vol * (size_t)b->nslices * (size_t)b->nframes / (size_t)nx;
    bool too_many = false;
#pragma omp parallel reduction(|| : too_many) if (b->nimg * b->maxs >= 65536)
    {
        size_t t = (size_t)omp_thread(), nt = (size_t)omp_threads();
        size_t r0 = nrows * t / nt, r1 = nrows * (t + 1) / nt;
        for (size_t i = 0; i < npl; i++) {
            const struct placement *q = &pl[i];
            size_t row = q->mrow / (size_t)nx;
            if (row < r0 || row >= r1)
                continue;
            if (!q->added)
                for (int c = 0; c < ncoils; c++) {
                    const float *d = q->a->data + 2 * (size_t)c * q->a->samples;
                    float complex *dst = k->data + q->drow + (size_t)c * vol;
                    for (uint32_t j = q->s_lo; j < q->s_hi; j++) {
                        long x = q->x0 + q->step * (long)j;
                        dst[x] += d[2 * j] + I * d[2 * j + 1];
                    }
                }
            for (uint32_t j = q->s_lo; j < q->s_hi; j++) {
                long x = q->x0 + q->step * (long)j;
                if (count[q->mrow + x] < 255)
                    count[q->mrow + x]++;
                else
                    too_many = true;
            }
        }
    }
    return too_many ? -1 : 0;
}

/* Averages: the mean of what landed on each point; the mask 1 there. */
static void average_points(const struct build *b, struct kspace *k)
{
    size_t vol = b->vol;
    int ncoils = b->ncoils;
    for (size_t fs = 0; fs < (size_t)b->nframes * b->nslices; fs++)
#pragma omp parallel for schedule(static) if (vol >= 65536)
        for (size_t v = 0; v < vol; v++) {
            unsigned char n = k->mask[fs * vol + v];
            if (n > 1) {
                for (int c = 0; c < ncoils; c++)
                    k->data[(fs * ncoils + c) * vol + v] /= (float)n;
                k->mask[fs * vol + v] = 1;
            }
        }
}

/* Position: the mean of the slices' centres; spacing from the two lowest
   slices with data. */
static void slice_geometry(const struct build *b, struct kspace *k)
{
    int ns = 0, s0 = -1, s1 = -1;
    for (int s = 0; s < b->nslices; s++)
        if (b->seen[s]) {
            for (int d = 0; d < 3; d++)
                k->position[d] += b->spos[s][d];
            ns++;
            if (s0 < 0)
                s0 = s;
            else if (s1 < 0)
                s1 = s;
        }
    for (int d = 0; d < 3; d++)
        k->position[d] /= ns ? ns : 1;
    if (s1 >= 0) {
        double dz = 0;
        for (int d = 0; d < 3; d++)
            dz += (b->spos[s1][d] - b->spos[s0][d]) * k->slice_dir[d];
        k->slice_spacing = fabs(dz) / (s1 - s0);
    }
}

struct kspace *recon_kspace(const struct raw_file *f, const struct recon_opts *o, char *err,
                            size_t errlen)
{
    struct build b;
    memset(&b, 0, sizeof b);
    b.f = f;
    b.o = o;
    if (check_trajectory(&f->hdr, o, err, errlen) < 0 || scan_extent(&b, err, errlen) < 0 ||
        plan_grid(&b, err, errlen) < 0)
        return NULL;
    struct kspace *k = new_grid(&b);
    /* samples per grid point (averages), saturating: more than 254 of one
       point is refused below */
    size_t nmask = b.vol * (size_t)b.nslices * (size_t)b.nframes;
    unsigned char *count = xcalloc(nmask, 1);
    b.spos = xcalloc((size_t)b.nslices, sizeof *b.spos);
    b.seen = xcalloc((size_t)b.nslices, sizeof *b.seen);
    b.line_n = (size_t)b.nx * (size_t)b.ncoils;
    b.line = fft_alloc(b.line_n);
    phase_correction(&b, k);

    struct placement *pl = xmalloc(b.nimg * sizeof *pl);
    size_t npl = 0;
    if (place_acqs(&b, k, pl, &npl, err, errlen) < 0)
        goto fail;
    if (grid_samples(&b, k, pl, npl, count) < 0) {
        snprintf(err, errlen, "more than 254 acquisitions land on the same k-space point "
                 "(averages); Larmor averages at most 254");
        goto fail;
    }
    k->mask = count;
    count = NULL;
    average_points(&b, k);
    slice_geometry(&b, k);
    if (k->ndropped_samples)
        note(o, "%zu samples fell outside the %d x %d x %d k-space grid and were dropped",
             k->ndropped_samples, b.nx, b.g.ny, b.g.nz);
    goto out;
fail:
    kspace_free(k);
    k = NULL;
out:
    free(pl);
    free(count);
    free(b.spos);
    free(b.seen);
    free(b.pc_a);
    free(b.pc_b);
    fft_free(b.line);
    return k;
}

/* --- image ---------------------------------------------------------------- */

/* POCS partial-Fourier recon of one coil's volume (Haacke et al. 1991):
   the phase from the symmetrically sampled centre, then alternately
   imposing it on the image and the measured samples on k-space. */
static void pocs(float complex *vol, const unsigned char *mask, const int dims[3], int rank,
                 const int *fdims, const int half[3], bool pf[3], int iterations)
{
    size_t n = (size_t)dims[0] * dims[1] * dims[2];
    int N[3] = { dims[2], dims[1], dims[0] };       /* x, y, z */
    float complex *meas = fft_alloc(n), *ph = fft_alloc(n);
    memcpy(meas, vol, n * sizeof *vol);
    /* the low-resolution phase: the symmetrically sampled band about the
       k-space peak (the echo; off the grid centre when the object has a
       linear phase), Hann-tapered along the partial-Fourier axes */
    float *w[3];
    for (int d = 0; d < 3; d++) {
        w[d] = xmalloc((size_t)N[d] * sizeof *w[d]);
        int peak = N[d] / 2, hw = half[d];
        if (pf[d]) {
            /* energy per index along d, its maximum, and the band that is
               sampled on both sides of it */
            double *e = xcalloc((size_t)N[d], sizeof *e);
            int lo = N[d], hi = -1;
            for (size_t i = 0; i < n; i++) {
                size_t x = i % (size_t)N[0], y = (i / (size_t)N[0]) % (size_t)N[1],
                       z = i / ((size_t)N[0] * N[1]);
                size_t c = d == 0 ? x : d == 1 ? y : z;
                e[c] += crealf(meas[i]) * crealf(meas[i]) + cimagf(meas[i]) * cimagf(meas[i]);
                if (mask[i]) {
                    lo = (int)c < lo ? (int)c : lo;
                    hi = (int)c > hi ? (int)c : hi;
                }
            }
            for (int i = 0; i < N[d]; i++)
                if (e[i] > e[peak])
                    peak = i;
            free(e);
            hw = peak - lo < hi - peak ? peak - lo : hi - peak;
            if (hw < 1)
                hw = half[d] > 0 ? half[d] : 1, peak = N[d] / 2;
        }
        for (int i = 0; i < N[d]; i++) {
            int r = abs(i - peak);
            w[d][i] = !pf[d] ? 1.0f
                     : r <= hw ? (float)(0.5 * (1 + cos(M_PI * r / (hw + 1)))) : 0.0f;
        }
    }
    for (int z = 0; z < N[2]; z++)
        for (int y = 0; y < N[1]; y++)
            for (int x = 0; x < N[0]; x++) {
                size_t i = ((size_t)z * N[1] + y) * N[0] + x;
                ph[i] = meas[i] * (w[0][x] * w[1][y] * w[2][z]);
            }
    fft_centred(ph, rank, fdims, 1, +1);
    for (size_t i = 0; i < n; i++) {
        float m = cabsf(ph[i]);
        ph[i] = m > 0 ? ph[i] / m : 1;
    }
    fft_centred(vol, rank, fdims, 1, +1);
    for (int it = 0; it < iterations; it++) {
        for (size_t i = 0; i < n; i++)
            vol[i] = cabsf(vol[i]) * ph[i];
        fft_centred(vol, rank, fdims, 1, -1);
        for (size_t i = 0; i < n; i++)
            if (mask[i])
                vol[i] = meas[i];
        fft_centred(vol, rank, fdims, 1, +1);
    }
    for (int d = 0; d < 3; d++)
        free(w[d]);
    fft_free(meas);
    fft_free(ph);
}

/* The output size along one axis: the recon FOV's share of the encoded
   one (readout oversampling removed), or all of it. */
static int out_size(int n, double fov, double rfov)
{
    if (n > 1 && fov > 0 && rfov > 0 && rfov < fov * (1 - 1e-6)) {
        int m = (int)lround(rfov / (fov / n));
        return m < 1 ? 1 : m > n ? n : m;
    }
    return n;
}

struct image_vol *recon_image(struct kspace *k, const struct recon_opts *o, char *err,
                              size_t errlen)
{
    int nx = k->nx, ny = k->ny, nz = k->nz, nc = k->ncoils;
    size_t vol = (size_t)nx * ny * nz;
    int rank = nz > 1 ? 3 : ny > 1 ? 2 : 1;
    int dims3[3] = { nz, ny, nx };
    const int *fdims = dims3 + (3 - rank);

    /* partial Fourier: a sampled extent that is lopsided about the centre */
    const int *lo = k->lo, *hi = k->hi;     /* the sampled extent */
    int half[3];
    bool pf[3] = { false, false, false }, anypf = false;
    int N[3] = { nx, ny, nz };
    const char *axis[3] = { "readout", "phase-encoding", "partition" };
    for (int d = 0; d < 3; d++) {
        if (N[d] < 2 || hi[d] < 0)
            continue;
        int below = N[d] / 2 - lo[d], above = hi[d] - N[d] / 2;
        half[d] = below < above ? below : above;
        if (abs(below - above) > 2 && half[d] >= 0) {
            pf[d] = true;
            anypf = true;
            note(o, "partial Fourier along the %s axis: %d of %d points sampled, %s",
                 axis[d], hi[d] - lo[d] + 1, N[d],
                 o->pf == RECON_PF_POCS ? "filled in by POCS" : "zero-filled");
        }
    }
    if (anypf && o->pf == RECON_PF_POCS) {
        int it = o->pocs_iterations > 0 ? o->pocs_iterations : 10;
        for (size_t fs = 0; fs < (size_t)k->nframes * k->nslices; fs++)
            for (int c = 0; c < nc; c++)
                pocs(k->data + (fs * nc + c) * vol, k->mask + fs * vol, dims3, rank, fdims, half,
                     pf, it);
    } else if (fft_centred(k->data, rank, fdims, (size_t)k->nframes * k->nslices * nc, +1)) {
        snprintf(err, errlen, "FFTW could not plan a %d x %d x %d transform", nx, ny, nz);
        return NULL;
    }

    /* crop (oversampling) */
    int ox = o->keep_oversampling ? nx : out_size(nx, k->fov[0], k->recon_fov[0]);
    int oy = out_size(ny, k->fov[1], k->recon_fov[1]);
    int oz = out_size(nz, k->fov[2], k->recon_fov[2]);
    int ns = k->nslices;
    if (o->sens) {
        const long *sd = o->sens_dims;
        if (sd[0] != ox || sd[1] != oy || sd[2] != (long)oz * ns || sd[3] != nc) {
            snprintf(err, errlen, "the coil sensitivities are %ld x %ld x %ld x %ld "
                     "(x, y, z, coils); this image needs %d x %d x %d x %d",
                     sd[0], sd[1], sd[2], sd[3], ox, oy, oz * ns, nc);
            return NULL;
        }
    }
    bool steal = nc == 1 && ox == nx && oy == ny && oz == nz;
    struct image_vol *v;
    if (steal) {
        /* the transformed grid is the image: [frame][slice][1][z][y][x] */
        v = image_adopt(nx, ny, nz * ns, k->nframes, k->data);
        k->data = NULL;
    } else {
        v = image_new(ox, oy, oz * ns, k->nframes);
    }
    v->is_complex = nc == 1 || o->sens;
    size_t ovol = (size_t)ox * oy * oz * ns;
    for (int fr = 0; fr < k->nframes; fr++)
        memcpy(v->frame_labels[fr], k->frame_labels[fr], sizeof v->frame_labels[fr]);
    size_t orows = steal ? 0 : (size_t)k->nframes * ns * oz * oy;
#pragma omp parallel for schedule(static) if (orows * ox >= 65536)
    for (size_t r = 0; r < orows; r++) {
        int y = (int)(r % (size_t)oy);
        int z = (int)((r / (size_t)oy) % (size_t)oz);
        int s = (int)((r / ((size_t)oy * oz)) % (size_t)ns);
        int fr = (int)(r / ((size_t)oy * oz * ns));
        size_t iz = (size_t)(z - oz / 2 + nz / 2);
        size_t iy = (size_t)(y - oy / 2 + ny / 2);
        size_t zi = (size_t)s * oz + z;
        size_t base = ((size_t)fr * ns + s) * nc;
        float complex *dst = v->data + (((size_t)fr * oz * ns + zi) * oy + y) * ox;
        size_t krow = (iz * ny + iy) * nx + (size_t)(nx / 2 - ox / 2);
        if (nc == 1) {
            memcpy(dst, k->data + base * vol + krow, (size_t)ox * sizeof *dst);
            continue;
        }
        for (int x = 0; x < ox; x++) {
            size_t ki = krow + (size_t)x;
            if (o->sens) {
                float complex num = 0;
                float den = 0;
                for (int c = 0; c < nc; c++) {
                    float complex sc = o->sens[(size_t)c * ovol + (zi * oy + y) * ox + x];
                    num += conjf(sc) * k->data[(base + c) * vol + ki];
                    den += crealf(sc) * crealf(sc) + cimagf(sc) * cimagf(sc);
                }
                dst[x] = den > 0 ? num / den : 0;
            } else {
                float ss = 0;
                for (int c = 0; c < nc; c++) {
                    float complex d = k->data[(base + c) * vol + ki];
                    ss += crealf(d) * crealf(d) + cimagf(d) * cimagf(d);
                }
                dst[x] = sqrtf(ss);
            }
        }
    }
    v->voxel[0] = k->fov[0] > 0 ? k->fov[0] / nx : 1e-3;
    v->voxel[1] = k->fov[1] > 0 ? k->fov[1] / ny : v->voxel[0];
    v->voxel[2] = nz > 1 ? (k->fov[2] > 0 ? k->fov[2] / nz : v->voxel[0])
                : k->slice_spacing > 0 ? k->slice_spacing
                : k->fov[2] > 0 ? k->fov[2] : v->voxel[0];
    for (int d = 0; d < 3; d++) {
        v->read_dir[d] = k->read_dir[d];
        v->phase_dir[d] = k->phase_dir[d];
        v->slice_dir[d] = k->slice_dir[d];
        v->position[d] = k->position[d];
    }
    return v;
}
