/*
 * fft: see fft.h.
 *
 * The centring is done by modulation rather than by shifting: with
 * c = N/2,
 *   Σ_n x[n] e^{sθ(n−c)(m−c)} = e^{sθc²} e^{−sθmc} Σ_n (x[n] e^{−sθnc}) e^{sθnm},
 * θ = 2π/N, so a plain FFT between two element-wise products (pre[n] and
 * post[m], separable over the dimensions) is the centred transform. For
 * even N the factors are ±1 and the pre- and post-products are sign
 * flips folded into one pass each.
 */
#include "runtime/recon/fft.h"

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"

#define THREAD_MIN_POINTS (1u << 15)

struct plan {
    int rank, dims[3], sign, align;
    size_t howmany;
    fftwf_plan p;
    struct plan *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct plan *plans;
static bool threads_ready;
static int nthreads = 1;
static char *wisdom;          /* path, or NULL */

/* fft_alloc's header (see there) */
#define ALLOC_HDR 64
#define ALLOC_MMAP_MIN (1u << 20)
struct alloc_hdr { uint64_t magic, kind, bytes; uintptr_t base; };
#define ALLOC_MAGIC 0x4c61726d6f724654ull
static struct alloc_hdr kept;   /* the mapping kept by fft_free (kind 0: none) */

int fft_init(int threads, const char *wisdom_path, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&lock);
    if (!threads_ready) {
        fftwf_init_threads();
        threads_ready = true;
    }
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    nthreads = threads;
    free(wisdom);
    wisdom = NULL;
    if (wisdom_path) {
        wisdom = xstrdup(wisdom_path);
        FILE *f = fopen(wisdom_path, "r");
        if (f) {
            if (!fftwf_import_wisdom_from_file(f)) {
                snprintf(err, errlen, "%s: not an FFTW wisdom file (delete it and it will be "
                         "made again)", wisdom_path);
                rc = -1;
            }
            fclose(f);
        } else if (errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", wisdom_path, strerror(errno));
            rc = -1;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void fft_cleanup(void)
{
    pthread_mutex_lock(&lock);
    if (kept.kind == 1)
        munmap((void *)kept.base, kept.bytes);
    kept.kind = 0;
    while (plans) {
        struct plan *n = plans->next;
        fftwf_destroy_plan(plans->p);
        free(plans);
        plans = n;
    }
    if (wisdom) {
        /* written to a temporary name, then renamed: a crash never leaves a
           truncated wisdom file behind */
        size_t len = strlen(wisdom) + 8;
        char *tmp = xmalloc(len);
        snprintf(tmp, len, "%s.tmp", wisdom);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fftwf_export_wisdom_to_file(f);
            if (fclose(f) == 0)
                rename(tmp, wisdom);
            else
                remove(tmp);
        }
        free(tmp);
        free(wisdom);
        wisdom = NULL;
    }
    pthread_mutex_unlock(&lock);
}

/* Large arrays come straight from mmap: zero pages the kernel maps on
   first touch, so zeroing costs nothing until the array is written (a
   k-space grid is written once, by the placement). They are not offered
   for transparent huge pages: with 2 MiB pages the power-of-two strides of
   a 256³ transform fall into the same cache sets and the transform ran
   1.4× slower (bench/bench_recon). Small arrays come from fftwf_malloc,
   cleared. A header just before the array says which.

   The kernel's first touch costs about 0.5 ms per MiB here (faulting in
   and zeroing 4 KiB pages: 70 ms for a 256³ grid), four times what
   zeroing resident memory costs. So the last large mapping freed is kept
   (one, and only while no larger than 4 GiB) and the next large request
   that fits it without wasting more than half of it gets it back, cleared
   in parallel: a process that reconstructs several volumes of one size
   (repetitions, contrasts, the benchmark) maps its grid once. fft_cleanup
   unmaps it. */

#define KEEP_MAX ((size_t)4 << 30)


/* Clears n bytes with all threads (a resident grid: bandwidth-bound). */
static void clear_parallel(char *p, size_t n)
{
    size_t chunk = (size_t)1 << 20, nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (nchunks >= 8)
    for (size_t i = 0; i < nchunks; i++) {
        size_t off = i * chunk;
        memset(p + off, 0, off + chunk <= n ? chunk : n - off);
    }
}

float complex *fft_alloc(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float complex);
    if (bytes >= ALLOC_MMAP_MIN) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE), len = bytes + page;
        struct alloc_hdr h = { 0, 0, 0, 0 };
        pthread_mutex_lock(&lock);
        if (kept.kind == 1 && kept.bytes >= len && kept.bytes / 2 <= len) {
            h = kept;
            kept.kind = 0;
        }
        pthread_mutex_unlock(&lock);
        if (h.kind == 1) {
            char *p = (char *)h.base + page;
            clear_parallel(p, bytes);
            return (float complex *)(void *)p;
        }
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            char *p = (char *)m + page;
            h = (struct alloc_hdr){ ALLOC_MAGIC, 1, len, (uintptr_t)m };
            memcpy(p - ALLOC_HDR, &h, sizeof h);
            return (float complex *)(void *)p;
        }
    }
    char *p = fftwf_malloc(bytes + ALLOC_HDR);
    if (!p) {
        fprintf(stderr, "larmor: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    struct alloc_hdr h = { ALLOC_MAGIC, 0, bytes, 0 };
    memcpy(p, &h, sizeof h);
    memset(p + ALLOC_HDR, 0, bytes);
    return (float complex *)(void *)(p + ALLOC_HDR);
}

void fft_free(void *ptr)
{
    if (!ptr)
        return;
    char *p = ptr;
    struct alloc_hdr h;
    memcpy(&h, p - ALLOC_HDR, sizeof h);
    if (h.magic != ALLOC_MAGIC)
        abort();                  /* not ours: a bug */
    if (h.kind == 1) {
        struct alloc_hdr old = { 0, 0, 0, 0 };
        if (h.bytes <= KEEP_MAX) {
            pthread_mutex_lock(&lock);
            old = kept;
            kept = h;
            pthread_mutex_unlock(&lock);
            if (old.kind == 1)
                munmap((void *)old.base, old.bytes);
        } else {
            munmap((void *)h.base, h.bytes);
        }
    } else {
        fftwf_free(p - ALLOC_HDR);
    }
}

static fftwf_plan get_plan(float complex *data, int rank, const int *dims, size_t howmany,
                           int sign)
{
    int align = fftwf_alignment_of((float *)data);
    pthread_mutex_lock(&lock);
    struct plan *q;
    for (q = plans; q; q = q->next)
        if (q->rank == rank && q->howmany == howmany && q->sign == sign && q->align == align &&
            !memcmp(q->dims, dims, (size_t)rank * sizeof *dims))
            break;
    if (!q) {
        size_t n = howmany;
        for (int d = 0; d < rank; d++)
            n *= (size_t)dims[d];
        if (!threads_ready) {
            fftwf_init_threads();
            threads_ready = true;
        }
        fftwf_plan_with_nthreads(n >= THREAD_MIN_POINTS ? nthreads : 1);
        int dist = 1;
        for (int d = 0; d < rank; d++)
            dist *= dims[d];
        fftwf_plan p;
        int fsign = sign > 0 ? FFTW_BACKWARD : FFTW_FORWARD;
        if (wisdom) {
            /* FFTW_MEASURE overwrites its arrays: plan on a scratch copy of
               the same alignment (fftwf_malloc's, i.e. the best) */
            fftwf_complex *tmp = fftwf_malloc(n * sizeof *tmp);
            p = tmp ? fftwf_plan_many_dft(rank, dims, (int)howmany, tmp, NULL, 1, dist, tmp,
                                          NULL, 1, dist, fsign, FFTW_MEASURE)
                    : NULL;
            int talign = tmp ? fftwf_alignment_of((float *)tmp) : -1;
            fftwf_free(tmp);
            if (p && align != talign) {
                fftwf_destroy_plan(p);
                p = NULL;
            }
        } else {
            p = NULL;
        }
        if (!p)
            p = fftwf_plan_many_dft(rank, dims, (int)howmany, (fftwf_complex *)data, NULL, 1,
                                    dist, (fftwf_complex *)data, NULL, 1, dist, fsign,
                                    FFTW_ESTIMATE);
        if (p) {
            q = xcalloc(1, sizeof *q);
            q->rank = rank;
            memcpy(q->dims, dims, (size_t)rank * sizeof *dims);
            q->howmany = howmany;
            q->sign = sign;
            q->align = align;
            q->p = p;
            q->next = plans;
            plans = q;
        }
    }
    pthread_mutex_unlock(&lock);
    return q ? q->p : NULL;
}

/* The modulation factors of one dimension: pre[n] = e^{−sθnc},
   post[m] = e^{−sθmc} e^{sθc²}, θ = 2π/N (exact phases, reduced mod N in
   integers before the float conversion). */
static void factors(int N, int sign, float complex *pre, float complex *post)
{
    long c = N / 2;
    for (long n = 0; n < N; n++) {
        long a = (n * c) % N;                       /* e^{−sθnc} */
        double ph = -sign * 2 * M_PI * (double)a / N;
        pre[n] = (float complex)(cos(ph) + I * sin(ph));
        long b = ((c * c) % N - a + N) % N;         /* e^{sθ(c² − mc)} */
        double ph2 = sign * 2 * M_PI * (double)b / N;
        post[n] = (float complex)(cos(ph2) + I * sin(ph2));
    }
}

/* data[z][y][x] *= fz[z]·fy[y]·fx[x]·scale, for howmany arrays */
static void modulate(float complex *data, const int *d3, size_t howmany,
                     const float complex *fz, const float complex *fy, const float complex *fx,
                     float scale)
{
    size_t nx = (size_t)d3[2], ny = (size_t)d3[1], nz = (size_t)d3[0];
    size_t rows = howmany * nz * ny;
#pragma omp parallel for schedule(static) if (rows * nx >= 65536)
    for (size_t r = 0; r < rows; r++) {
        size_t y = r % ny, z = (r / ny) % nz;
        float complex s = fz[z] * fy[y] * scale;
        float complex *p = data + r * nx;
        for (size_t x = 0; x < nx; x++)
            p[x] *= s * fx[x];
    }
}

/* Even sizes: the centred transform is a plain one of the input shifted
   by half the size in every dimension (ifftshift) and multiplied by
   (−1)^(Σ j_d) at its new index j: with c = N/2, e^{sθ(n−c)(m−c)} =
   e^{sθjm}·(−1)^j for j = n − c mod N, so no output pass is needed. The
   half shift is an involution; rows are swapped in pairs through a
   scratch row, with the sign and the scale applied on the way. */
static void shift_even(float complex *data, const int *d3, size_t howmany, float scale)
{
    size_t nx = (size_t)d3[2], ny = (size_t)d3[1], nz = (size_t)d3[0];
    size_t cx = nx / 2, cy = ny / 2, cz = nz / 2;
    /* the rows of the first half (by z, else by y, else the one row) */
    size_t hz = nz > 1 ? cz : 1, hy = nz > 1 ? ny : ny > 1 ? cy : 1;
    size_t npairs = howmany * hz * hy;
#pragma omp parallel if (npairs * nx >= 65536)
    {
        float complex *tmp = xmalloc(nx * sizeof *tmp);
#pragma omp for schedule(static)
        for (size_t r = 0; r < npairs; r++) {
            size_t y = r % hy, z = (r / hy) % hz, b = r / (hy * hz);
            size_t y2 = ny > 1 ? (y + cy) % ny : 0, z2 = nz > 1 ? z + cz : 0;
            float complex *ra = data + ((b * nz + z) * ny + y) * nx;
            float complex *rb = data + ((b * nz + z2) * ny + y2) * nx;
            /* the sign of (row a, x = 0) and of (row b, x = 0) */
            float sa = ((z + y) & 1) ? -scale : scale;
            float sb = ((z2 + y2) & 1) ? -scale : scale;
            memcpy(tmp, ra, nx * sizeof *tmp);
            /* a[x] = b[x + cx]·sa·(−1)^x; b[x] = old a[x + cx]·sb·(−1)^x */
            if (rb != ra) {
                for (size_t x = 0; x < nx; x++) {
                    size_t xs = x + cx < nx ? x + cx : x + cx - nx;
                    float s = (x & 1) ? -1.0f : 1.0f;
                    ra[x] = rb[xs] * (sa * s);
                }
            }
            for (size_t x = 0; x < nx; x++) {
                size_t xs = x + cx < nx ? x + cx : x + cx - nx;
                float s = (x & 1) ? -1.0f : 1.0f;
                rb[x] = tmp[xs] * (sb * s);
            }
        }
        free(tmp);
    }
}

int fft_centred(float complex *data, int rank, const int *dims, size_t howmany, int sign)
{
    if (rank < 1 || rank > 3 || !howmany)
        return -1;
    for (int d = 0; d < rank; d++)
        if (dims[d] < 1)
            return -1;
    fftwf_plan p = get_plan(data, rank, dims, howmany, sign);
    if (!p)
        return -1;
    /* the shape as 3D (leading 1s) */
    int d3[3] = { 1, 1, 1 };
    for (int d = 0; d < rank; d++)
        d3[3 - rank + d] = dims[d];
    bool all_even = true;
    double total = 1;
    for (int d = 0; d < 3; d++) {
        if (d3[d] > 1 && d3[d] % 2)
            all_even = false;
        total *= d3[d];
    }
    float scale = sign > 0 ? (float)(1 / total) : 1.0f;
    if (all_even) {
        shift_even(data, d3, howmany, scale);
        fftwf_execute_dft(p, (fftwf_complex *)data, (fftwf_complex *)data);
        return 0;
    }
    float complex *pre[3], *post[3];
    for (int d = 0; d < 3; d++) {
        pre[d] = xmalloc((size_t)d3[d] * sizeof *pre[d]);
        post[d] = xmalloc((size_t)d3[d] * sizeof *post[d]);
        factors(d3[d], sign, pre[d], post[d]);
    }
    modulate(data, d3, howmany, pre[0], pre[1], pre[2], 1.0f);
    fftwf_execute_dft(p, (fftwf_complex *)data, (fftwf_complex *)data);
    modulate(data, d3, howmany, post[0], post[1], post[2], scale);
    for (int d = 0; d < 3; d++) {
        free(pre[d]);
        free(post[d]);
    }
    return 0;
}
