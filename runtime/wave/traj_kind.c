/*
 * traj_kind: see traj_kind.h.
 */
#include "runtime/wave/traj_kind.h"

#include <math.h>
#include <string.h>

#include "vm/vm.h"

/* A line's samples may stray from the straight, evenly spaced line by this
   fraction of its length (rounding of k is some 1e-12 of it; a readout
   sampled on its ramps strays by tens of percent). */
#define TK_LINE_TOL 1e-3
/* Two lines are parallel when the sine of their angle is below this. */
#define TK_PARALLEL_TOL 1e-3
/* A line passes the centre when it comes this close (times its length). */
#define TK_CENTRE_TOL 0.05

void traj_kind_init(struct traj_kind *t)
{
    memset(t, 0, sizeof *t);
    t->all_parallel = t->all_through_centre = t->all_winding = true;
}

static double dot3(const double *a, const double *b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* |a x b| for unit b: the part of a across b. */
static double across(const double *a, const double *u)
{
    double along = dot3(a, u), r[3];
    for (int i = 0; i < 3; i++)
        r[i] = a[i] - along * u[i];
    return sqrt(dot3(r, r));
}

/* Whether a curve turns about k = 0 one way only: its angle in the plane it
   mostly lies in (of the two axes where k spreads most) is monotonic where
   its radius is not near 0, moves by less than a quarter turn from sample
   to sample, and turns by more than a quarter turn in all. */
static bool winds(const struct ktraj_sample *s, size_t n)
{
    double spread[3] = { 0, 0, 0 };
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 3; a++)
            if (fabs(s[i].k[a]) > spread[a])
                spread[a] = fabs(s[i].k[a]);
    int lo = spread[0] <= spread[1] && spread[0] <= spread[2] ? 0
             : spread[1] <= spread[2] ? 1 : 2;     /* the axis left out */
    int ax = lo == 0 ? 1 : 0, ay = lo == 2 ? 1 : 2;
    double rmax = 0;
    for (size_t i = 0; i < n; i++)
        rmax = fmax(rmax, hypot(s[i].k[ax], s[i].k[ay]));
    if (!(rmax > 0))
        return false;
    double prev = NAN, turned = 0;
    int sense = 0;
    for (size_t i = 0; i < n; i++) {
        double x = s[i].k[ax], y = s[i].k[ay];
        if (hypot(x, y) < 1e-2 * rmax)
            continue;
        double th = atan2(y, x);
        if (!isnan(prev)) {
            double d = th - prev;
            while (d > M_PI)
                d -= 2 * M_PI;
            while (d < -M_PI)
                d += 2 * M_PI;
            int sg = d > 1e-9 ? 1 : d < -1e-9 ? -1 : 0;
            /* a curve turns from one sample to the next; a step of a
               quarter turn or more is a jump across the centre */
            if ((sg && sense && sg != sense) || fabs(d) >= M_PI / 2)
                return false;
            if (sg)
                sense = sg;
            turned += fabs(d);
        }
        prev = th;
    }
    return turned > M_PI / 2;
}

void traj_kind_adc(void *ctx, const struct ktraj_sample *s, size_t n)
{
    struct traj_kind *t = ctx;
    if (n < 2)
        return;
    const double *k0 = s[0].k, *k1 = s[n - 1].k;
    double d[3] = { k1[0] - k0[0], k1[1] - k0[1], k1[2] - k0[2] };
    double len = sqrt(dot3(d, d));
    double extent = 0;
    for (size_t i = 0; i < n; i++) {
        double p[3] = { s[i].k[0] - k0[0], s[i].k[1] - k0[1], s[i].k[2] - k0[2] };
        extent = fmax(extent, sqrt(dot3(p, p)));
    }
    if (!(extent > 0))
        return;                          /* k stands still: an FID fits any kind */
    t->moving++;
    bool line = len > 0.5 * extent;
    double u[3] = { 0, 0, 0 };
    if (line) {
        for (int i = 0; i < 3; i++)
            u[i] = d[i] / len;
        for (size_t i = 0; i < n && line; i++) {
            double p[3] = { s[i].k[0] - k0[0], s[i].k[1] - k0[1], s[i].k[2] - k0[2] };
            double want = len * (double)i / (double)(n - 1);
            line = across(p, u) <= TK_LINE_TOL * len &&
                   fabs(dot3(p, u) - want) <= TK_LINE_TOL * len;
        }
    }
    if (!line) {
        t->curved++;
        t->all_winding &= winds(s, n);
        return;
    }
    if (t->moving - t->curved == 1)
        memcpy(t->first_dir, u, sizeof u);
    else if (across(u, t->first_dir) > TK_PARALLEL_TOL)
        t->all_parallel = false;
    t->all_through_centre &= across(k0, u) <= TK_CENTRE_TOL * len;
}

int traj_kind_run(struct traj_kind *t, const struct lbc_program *p, double gamma)
{
    traj_kind_init(t);
    struct ktraj_opts ko = { .gamma = gamma, .to_ns = -1, .no_path = true,
                             .on_adc = traj_kind_adc, .on_adc_ctx = t };
    struct ktraj *kt = ktraj_new(&ko);
    struct vm_backend be;
    ktraj_backend(kt, &be);
    int rc = vm_run(p, &be, NULL, NULL);
    ktraj_free(kt);
    return rc;
}

const char *traj_kind_name(const struct traj_kind *t, bool reversed, bool lin_encoded)
{
    size_t lines = t->moving - t->curved;
    if (!t->moving || (!t->curved && t->all_parallel && fabs(t->first_dir[0]) >= 1 - 1e-6))
        return reversed ? "epi" : lin_encoded ? "cartesian" : "other";
    if (!t->curved && !t->all_parallel && t->all_through_centre)
        return "radial";
    if (t->curved && t->all_winding && (!lines || t->all_through_centre))
        return "spiral";
    return "other";
}
