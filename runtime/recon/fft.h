/*
 * fft: the one module that calls FFTW (single precision).
 *
 * Plans are cached per (rank, shape, batch, direction, alignment) and made
 * under a lock, since FFTW's planner is not thread-safe; executing a cached
 * plan is. Without a wisdom file plans are made with FFTW_ESTIMATE (no
 * planning time, the data untouched); with one (fft_init) FFTW_MEASURE
 * plans are made on scratch arrays, and the wisdom gathered is saved back
 * by fft_cleanup, so that the next run plans in no time. Transforms of
 * 2^15 points or more use FFTW's threads.
 */
#ifndef LARMOR_RECON_FFT_H
#define LARMOR_RECON_FFT_H

#include <complex.h>
#include <stddef.h>

/* Optional: threads (0 = the number of online CPUs) and a wisdom file
   (NULL = none; a file that does not exist yet is created by fft_cleanup).
   Returns 0, or -1 with a message when the wisdom file exists but cannot
   be read. May be called again to change the thread count. */
int fft_init(int threads, const char *wisdom_path, char *err, size_t errlen);
/* Frees the cached plans; saves the wisdom when fft_init named a file. */
void fft_cleanup(void);

/* The centred DFT, in place, of howmany contiguous arrays of shape
   dims[0] × … × dims[rank-1] (the last fastest), rank 1..3:
       out[m] = scale · Σ_n in[n] · exp(sign · 2πi · Σ_d (n_d − c_d)(m_d − c_d) / N_d)
   with c_d = N_d / 2 (integer division): index N/2 is the centre of k-space
   and of the image, for even and odd sizes alike (numpy's fftshift /
   ifftshift pair, BART's centred fft). sign +1 (k-space to image) has
   scale 1/ΠN_d, sign −1 (image to k-space) scale 1, so that the two are
   inverse to each other and an image voxel holds the mean signal of its
   volume. data should come from fft_alloc (any alignment works, aligned
   is faster). Returns 0, or -1 when FFTW cannot plan (out of memory). */
int fft_centred(float complex *data, int rank, const int *dims, size_t howmany, int sign);

/* Arrays aligned for SIMD (fftwf_malloc); zeroed; NULL-safe free. Aborts
   with a message when out of memory, as xmalloc does. */
float complex *fft_alloc(size_t n);
void fft_free(void *p);

#endif
