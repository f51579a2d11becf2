/*
 * kernels_body.h: the kernels' bodies, included by kernels.c once per
 * instruction set with KFN (the name suffix) and KATTR (the target
 * attribute) defined. Not a header of its own.
 */
/* The phasor e^{-iφ} of a phase given in double: reduced modulo 2π in
   double, then evaluated in float through the half angle. */
KATTR static inline void KFN(phasor)(double ph, float *c, float *s)
{
    double k = rint(ph * (1.0 / (2.0 * M_PI)));
    float h = (float)((ph - k * (2.0 * M_PI)) * 0.5);
    float sh, ch;
    sincos_poly(h, &sh, &ch);
    *c = 1.0f - 2.0f * sh * sh;
    *s = -2.0f * sh * ch;
}

KATTR static void KFN(kern_rf)(struct kspins *s, const struct krf_step *steps, uint32_t n, double dt)
{
    const size_t N = s->n;
    float *restrict hdw = s->t0, *restrict e1 = s->t1, *restrict e2 = s->t2, *restrict a1 = s->t3;
    const float *restrict x = s->x, *restrict y = s->y, *restrict z = s->z;
    float *restrict mx = s->mx, *restrict my = s->my, *restrict mz = s->mz;
    const float hdt = (float)(0.5 * dt), fdt = (float)dt;
#pragma omp simd
    for (size_t j = 0; j < N; j++) {
        hdw[j] = -s->dw[j] * hdt;
        e1[j] = expf_poly(-fdt * s->r1[j]);
        e2[j] = expf_poly(-fdt * s->r2[j]);
        a1[j] = s->m0[j] * (1.0f - e1[j]);
    }
    for (uint32_t k = 0; k < n; k++) {
        const float hx = steps[k].hx, hy = steps[k].hy;
        const float gx = steps[k].gx, gy = steps[k].gy, gz = steps[k].gz;
        const float hxy2 = hx * hx + hy * hy + 1e-30f;
#pragma omp simd
        for (size_t j = 0; j < N; j++) {
            float hz = hdw[j] - (gx * x[j] + gy * y[j] + gz * z[j]);
            float h = sqrtf(hxy2 + hz * hz);
            float sh, ch;
            sincos_mod_pi(h, &sh, &ch);
            float q = sh / h;
            float bx = hx * q, by = hy * q, bz = hz * q;
            float X = mx[j], Y = my[j], Z = mz[j];
            float tx = 2.0f * (by * Z - bz * Y);
            float ty = 2.0f * (bz * X - bx * Z);
            float tz = 2.0f * (bx * Y - by * X);
            X += ch * tx + (by * tz - bz * ty);
            Y += ch * ty + (bz * tx - bx * tz);
            Z += ch * tz + (bx * ty - by * tx);
            mx[j] = X * e2[j];
            my[j] = Y * e2[j];
            mz[j] = Z * e1[j] + a1[j];
        }
    }
}

KATTR static void KFN(kern_free)(struct kspins *s, const double k[3], double T)
{
    const size_t N = s->n;
    const double kx = k[0], ky = k[1], kz = k[2];
    const float fT = (float)T;
    float *restrict mx = s->mx, *restrict my = s->my, *restrict mz = s->mz;
#pragma omp simd
    for (size_t j = 0; j < N; j++) {
        double ph = kx * s->x[j] + ky * s->y[j] + kz * s->z[j] + (double)s->dw[j] * T;
        float c, sn;
        KFN(phasor)(ph, &c, &sn);
        float e2 = expf_poly(-fT * s->r2[j]), e1 = expf_poly(-fT * s->r1[j]);
        float X = mx[j], Y = my[j];
        mx[j] = (X * c - Y * sn) * e2;
        my[j] = (X * sn + Y * c) * e2;
        mz[j] = s->m0[j] + (mz[j] - s->m0[j]) * e1;
    }
}

KATTR static void KFN(kern_sample)(const struct kspins *s, double *acc)
{
    const size_t N = s->n;
    const float *restrict mx = s->mx, *restrict my = s->my;
    if (!s->sre) {
        float sr = 0, si = 0;
#pragma omp simd reduction(+ : sr, si)
        for (size_t j = 0; j < N; j++) {
            sr += mx[j];
            si += my[j];
        }
        acc[0] += sr;
        acc[1] += si;
        return;
    }
    for (int c = 0; c < s->ncoils; c++) {
        const float *restrict re = s->sre[c], *restrict im = s->sim[c];
        float sr = 0, si = 0;
#pragma omp simd reduction(+ : sr, si)
        for (size_t j = 0; j < N; j++) {
            sr += re[j] * mx[j] - im[j] * my[j];
            si += re[j] * my[j] + im[j] * mx[j];
        }
        acc[2 * c] += sr;
        acc[2 * c + 1] += si;
    }
}

KATTR static void KFN(kern_adc_const)(struct kspins *s, const double k[3], double dwell, uint32_t n,
                           double *acc)
{
    const size_t N = s->n;
    const int nc = s->sre ? s->ncoils : 1;
    float *restrict pr = s->t0, *restrict pi = s->t1;
    float *restrict mx = s->mx, *restrict my = s->my, *restrict mz = s->mz;
    const double kx = k[0], ky = k[1], kz = k[2];
    const float fdw = (float)dwell;
#pragma omp simd
    for (size_t j = 0; j < N; j++) {
        double ph = kx * s->x[j] + ky * s->y[j] + kz * s->z[j] + (double)s->dw[j] * dwell;
        float c, sn;
        KFN(phasor)(ph, &c, &sn);
        float e2 = expf_poly(-fdw * s->r2[j]);
        pr[j] = c * e2;
        pi[j] = sn * e2;
    }
    KFN(kern_sample)(s, acc);
    uint32_t i = 1;
    if (!s->sre) {
        /* four samples per pass over the spins: the magnetisation and the
           phasor are loaded and the magnetisation stored once per four
           samples, and eight independent sums keep the adders busy */
        for (; i + 4 <= n; i += 4) {
            float r0 = 0, q0 = 0, r1 = 0, q1 = 0, r2 = 0, q2 = 0, r3 = 0, q3 = 0;
#pragma omp simd reduction(+ : r0, q0, r1, q1, r2, q2, r3, q3)
            for (size_t j = 0; j < N; j++) {
                float c = pr[j], sn = pi[j];
                float X = mx[j], Y = my[j];
                float X1 = X * c - Y * sn, Y1 = X * sn + Y * c;
                float X2 = X1 * c - Y1 * sn, Y2 = X1 * sn + Y1 * c;
                float X3 = X2 * c - Y2 * sn, Y3 = X2 * sn + Y2 * c;
                float X4 = X3 * c - Y3 * sn, Y4 = X3 * sn + Y3 * c;
                mx[j] = X4;
                my[j] = Y4;
                r0 += X1, q0 += Y1, r1 += X2, q1 += Y2;
                r2 += X3, q2 += Y3, r3 += X4, q3 += Y4;
            }
            double *a = acc + (size_t)2 * i;
            a[0] += r0, a[1] += q0, a[2] += r1, a[3] += q1;
            a[4] += r2, a[5] += q2, a[6] += r3, a[7] += q3;
        }
    }
    for (; i < n; i++) {
        double *a = acc + (size_t)2 * nc * i;
        if (!s->sre) {
            float sr = 0, si = 0;
#pragma omp simd reduction(+ : sr, si)
            for (size_t j = 0; j < N; j++) {
                float X = mx[j], Y = my[j];
                float X2 = X * pr[j] - Y * pi[j];
                float Y2 = X * pi[j] + Y * pr[j];
                mx[j] = X2;
                my[j] = Y2;
                sr += X2;
                si += Y2;
            }
            a[0] += sr;
            a[1] += si;
        } else {
#pragma omp simd
            for (size_t j = 0; j < N; j++) {
                float X = mx[j], Y = my[j];
                mx[j] = X * pr[j] - Y * pi[j];
                my[j] = X * pi[j] + Y * pr[j];
            }
            KFN(kern_sample)(s, a);
        }
    }
    const float Ttot = (float)(dwell * (double)(n ? n - 1 : 0));
#pragma omp simd
    for (size_t j = 0; j < N; j++)
        mz[j] = s->m0[j] + (mz[j] - s->m0[j]) * expf_poly(-Ttot * s->r1[j]);
}

KATTR static inline void KFN(walk_loop)(struct kspins *s, const float *dc, const struct kwalk *w,
                                        const bool phase)
{
    const size_t N = s->n;
    float *restrict pos[3] = { s->x, s->y, s->z };
    float *restrict mx = s->mx, *restrict my = s->my;
    const uint64_t key0 = w->key0, base = w->base;
    const float a = w->a;
#pragma omp simd
    for (size_t j = 0; j < N; j++) {
        float D = dc[j];
        float sd = D > 0 ? sqrtf(2.0f * D) : 0.0f;
        uint64_t key = key0 ^ ((base + j) * 0xd1b54a32d192ed03ull);
        float ph = 0;
        for (int ax = 0; ax < 3; ax++) {
            float z1, z2;
            gauss2(kern_mix64(key + (uint64_t)ax), &z1, &z2);
            ph += sd * (w->b[ax] * z1 + w->c[ax] * z2);
            pos[ax][j] += sd * a * z1;
        }
        if (phase) {
            /* e^{-i ph} through the half angle of ph reduced modulo 2π */
            float k = rintf(ph * 0.15915494f);
            float hh = ((ph - k * 6.28125f) - k * 1.9353072e-3f) * 0.5f, sh, ch;
            sincos_poly(hh, &sh, &ch);
            float c = 1.0f - 2.0f * sh * sh, sn = -2.0f * sh * ch;
            float X = mx[j], Y = my[j];
            mx[j] = X * c - Y * sn;
            my[j] = X * sn + Y * c;
        }
    }
}

KATTR static void KFN(kern_walk)(struct kspins *s, const float *dc, const struct kwalk *w)
{
    if (w->phase)
        KFN(walk_loop)(s, dc, w, true);
    else
        KFN(walk_loop)(s, dc, w, false);
}
