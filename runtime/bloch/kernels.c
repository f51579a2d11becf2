/*
 * kernels: the simulator's inner loops (see kernels.h).
 *
 * The transcendental functions are our own polynomials so that the loops
 * vectorise without -ffast-math: sin/cos of a half angle reduced to
 * [-π/2, π/2] (Taylor to degree 11/12, error < 6e-8 there) and exp by
 * Cody-Waite reduction to [-ln2/2, ln2/2] (degree 6, relative error < 2e-7).
 * A rotation needs only the half angle: the unit quaternion
 * (cos h, n sin h) with h = θ/2 rotates by θ about n, and h and h − π give
 * the same rotation, so h is reduced modulo π with no sign fix-up.
 */
#include "runtime/bloch/kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ISO C mode (-std=c11) turns GCC's contraction of a*b + c into one fused
   multiply-add off; the kernels want it on (fewer instructions, and each
   fused step rounds once instead of twice). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#elif defined(__clang__)
#pragma clang fp contract(fast)
#endif

#define PI_F 3.14159265358979f
#define PI_A 3.140625f                 /* π = PI_A + PI_B + PI_C, PI_A and */
#define PI_B 9.67502593994140625e-4f   /* PI_B exact in a few bits so that */
#define PI_C 1.509957990978376432e-7f  /* k·PI_A is exact for k < 2^15 */

/* sin and cos of r in [-π/2, π/2]. */
static inline void sincos_poly(float r, float *s, float *c)
{
    float r2 = r * r;
    *s = r + r * r2 * (-1.6666667e-1f + r2 * (8.3333333e-3f + r2 * (-1.9841270e-4f +
                       r2 * (2.7557319e-6f + r2 * -2.5052108e-8f))));
    *c = 1.0f + r2 * (-0.5f + r2 * (4.1666667e-2f + r2 * (-1.3888889e-3f +
                 r2 * (2.4801587e-5f + r2 * (-2.7557319e-7f + r2 * 2.0876757e-9f)))));
}

/* sin h and cos h up to a common sign (h reduced modulo π). */
static inline void sincos_mod_pi(float h, float *s, float *c)
{
    float k = rintf(h * (1.0f / PI_F));
    float r = ((h - k * PI_A) - k * PI_B) - k * PI_C;
    sincos_poly(r, s, c);
}

/* log x for a normal float x > 0: x = m·2^e with m in [√½, √2), then
   log m = 2 atanh(f/(2+f)), f = m − 1, by its series to s⁹ (|s| < 0.172:
   the next term is below 4e-10). */
static inline float logf_poly(float x)
{
    union { float f; int32_t i; } v = { .f = x };
    int32_t e = ((v.i >> 23) & 0xff) - 127;
    v.i = (v.i & 0x007fffff) | 0x3f800000;          /* m in [1, 2) */
    float m = v.f;
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    float f = m - 1.0f, s = f / (2.0f + f), s2 = s * s;
    float lm = 2.0f * s * (1.0f + s2 * (0.33333333f + s2 * (0.2f + s2 * (0.14285714f +
                                                                          s2 * 0.11111111f))));
    return (float)e * 0.69314718f + lm;
}

/* Two standard normal deviates from one hash (Box-Muller): u1 in (0, 1)
   and u2 in [0, 1) from 24 bits each; the angle 2πu2 − π by its half
   angle, so that sincos_poly's range suffices (the shift by π flips the
   signs of both deviates, which leaves their joint law unchanged). */
static inline void gauss2(uint64_t h, float *z1, float *z2)
{
    float u1 = ((float)(int32_t)(h >> 40) + 0.5f) * (1.0f / 16777216.0f);
    float u2 = (float)(int32_t)(h & 0xffffff) * (1.0f / 16777216.0f);
    float r = sqrtf(-2.0f * logf_poly(u1));
    float hh = 3.14159265f * u2 - 1.57079633f, sh, ch;
    sincos_poly(hh, &sh, &ch);
    *z1 = r * (1.0f - 2.0f * sh * sh);
    *z2 = r * (2.0f * sh * ch);
}

static inline float pow2i(int n)
{
    union { uint32_t u; float f; } v = { .u = (uint32_t)(n + 127) << 23 };
    return v.f;
}

/* e^x for x in [-87, 88] (clamped). */
static inline float expf_poly(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float n = rintf(x * 1.44269504f);
    float g = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.0f + g * (1.0f + g * (0.5f + g * (1.6666667e-1f + g * (4.1666667e-2f +
              g * (8.3333333e-3f + g * 1.3888889e-3f)))));
    return p * pow2i((int)n);
}

void kern_sincos_half(float h, float *sin_h, float *cos_h)
{
    sincos_mod_pi(h, sin_h, cos_h);
}

float kern_expf(float x)
{
    return expf_poly(x);
}


/* One copy of the kernels per instruction set; the widest one the CPU
   supports is chosen once (kern_init), by feature rather than by CPU model. */
#define KERNEL_SET(sfx, attr)                                                 \
    static struct kern_set kset_##sfx = { #sfx, kern_rf_##sfx, kern_free_##sfx, \
                                          kern_sample_##sfx, kern_adc_const_##sfx, \
                                          kern_walk_##sfx }

struct kern_set {
    const char *name;
    void (*rf)(struct kspins *, const struct krf_step *, uint32_t, double);
    void (*free)(struct kspins *, const double *, double);
    void (*sample)(const struct kspins *, double *);
    void (*adc)(struct kspins *, const double *, double, uint32_t, double *);
    void (*walk)(struct kspins *, const float *, const struct kwalk *);
};

#define KFN(f) f##_generic
#define KATTR
#include "runtime/bloch/kernels_body.h"
#undef KFN
#undef KATTR
KERNEL_SET(generic, );
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LARMOR_X86_KERNELS 1
#define KFN(f) f##_avx2
#define KATTR __attribute__((target("avx2,fma")))
#include "runtime/bloch/kernels_body.h"
#undef KFN
#undef KATTR
KERNEL_SET(avx2, );
#define KFN(f) f##_avx512
#define KATTR __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#include "runtime/bloch/kernels_body.h"
#undef KFN
#undef KATTR
KERNEL_SET(avx512, );
#endif

static const struct kern_set *kset;

const char *kern_init(void)
{
    if (kset)
        return kset->name;
    const struct kern_set *k = &kset_generic;
#ifdef LARMOR_X86_KERNELS
    const char *force = getenv("LARMOR_KERNELS");   /* generic, avx2, avx512 */
    __builtin_cpu_init();
    bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
    bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (has512)
        k = &kset_avx512;
    else if (has2)
        k = &kset_avx2;
    if (force && !strcmp(force, "generic"))
        k = &kset_generic;
    else if (force && !strcmp(force, "avx2") && has2)
        k = &kset_avx2;
#endif
    kset = k;
    return k->name;
}

void kern_rf(struct kspins *s, const struct krf_step *steps, uint32_t n, double dt)
{
    if (!kset)
        kern_init();
    kset->rf(s, steps, n, dt);
}

void kern_free(struct kspins *s, const double k[3], double T)
{
    if (!kset)
        kern_init();
    kset->free(s, k, T);
}

void kern_sample(const struct kspins *s, double *acc)
{
    if (!kset)
        kern_init();
    kset->sample(s, acc);
}

void kern_adc_const(struct kspins *s, const double k[3], double dwell, uint32_t n, double *acc)
{
    if (!kset)
        kern_init();
    kset->adc(s, k, dwell, n, acc);
}

void kern_walk(struct kspins *s, const float *dc, const struct kwalk *w)
{
    if (!kset)
        kern_init();
    kset->walk(s, dc, w);
}
