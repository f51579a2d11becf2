/*
 * simulate: see simulate.h.
 */
#include "runtime/bloch/simulate.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/rawdata.h"
#include "base/util.h"
#include "vm/vm.h"

/* --- the second pass: samples to the file ------------------------------- */

/* The signal (SIGINT, SIGTERM) that asked the simulation to stop, or 0:
   the run then stops at the next progress call and the file is closed with
   what was simulated, marked interrupted. */
static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
    interrupted = sig;
}

struct run {
    struct raw_writer *w;
    const struct acq_plan *plan;
    size_t written;
    char err[512];
    bool failed;
    /* progress */
    bool bar;
    double t0, last;
    int64_t total_ns;
    FILE *out;
};

static int sink(void *ctx, const struct sim_acq *a)
{
    struct run *r = ctx;
    struct raw_acq q;
    memset(&q, 0, sizeof q);
    q.scan_counter = (uint32_t)a->index;
    q.samples = a->samples;
    q.ncoils = a->ncoils;
    q.data = a->data;
    q.dwell = (double)a->dwell_ns * 1e-9;
    q.time_ns = a->t_ns;
    memcpy(q.labels, a->labels, sizeof q.labels);
    acq_plan_fill(r->plan, a->index, &q);
    if (raw_append(r->w, &q, r->err, sizeof r->err) != 0) {
        r->failed = true;
        return 1;
    }
    r->written++;
    return 0;
}

static int progress(void *ctx, int64_t done_ns)
{
    struct run *r = ctx;
    if (r->bar) {
        double t = monotonic_s();
        if (t - r->t0 > 1.0 && (t - r->last > 0.1 || done_ns >= r->total_ns)) {
            r->last = t;
            double f = r->total_ns > 0 ? (double)done_ns / (double)r->total_ns : 1;
            if (f > 1)
                f = 1;
            int w = 30, k = (int)(f * w + 0.5);
            double left = f > 0 ? (t - r->t0) * (1 - f) / f : 0;
            fprintf(r->out, "\rsimulating [%.*s%*s] %3.0f%%  %.1f of %.1f s of scan time, %.0f s left ",
                    k, "##############################", w - k, "", f * 100,
                    (double)done_ns * 1e-9, (double)r->total_ns * 1e-9, left);
            fflush(r->out);
        }
    }
    return interrupted ? 1 : 0;
}

int simulate_run(const struct lbc_program *p, const struct system *sys, const struct phantom *ph,
                 const struct simulate_opts *o, FILE *err)
{
    struct acq_plan pl;
    if (acq_plan_init(&pl, p, sys, o->seq_name, o->sim.ncoils, "simulate", err) != 0)
        return 1;
    struct vm_backend be;
    int rc = 0;
    char e[1024];
    /* from before the raw file is made until it is closed: a stop signal
       ends the run at the next progress call, never midway through a file */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct sim *s = sim_new(ph, &o->sim, e, sizeof e);
    if (!s) {
        fprintf(err, "larmor simulate: %s\n", e);
        rc = 1;
        goto out;
    }
    struct run r = { 0 };
    r.w = raw_open(o->out, e, sizeof e);
    if (!r.w) {
        fprintf(err, "larmor simulate: %s\n", e);
        sim_free(s);
        rc = 1;
        goto out;
    }
    r.plan = &pl;
    r.bar = o->progress && !o->quiet;
    r.t0 = monotonic_s();
    r.total_ns = pl.total_ns;
    r.out = err;
    sim_set_sink(s, sink, &r);
    sim_set_progress(s, progress, &r);
    sim_backend(s, &be);
    vm_run(p, &be, NULL, NULL);
    int sig = interrupted;
    if (r.bar && monotonic_s() - r.t0 > 1.0)
        fputc('\n', err);
    if (sig || r.failed)
        acq_plan_mark_incomplete(&pl, r.written, sig);
    int closed = raw_close(r.w, &pl.h, e, sizeof e);
    if (r.failed)
        fprintf(err, "larmor simulate: %s\n", r.err);
    if (closed != 0) {
        fprintf(err, "larmor simulate: %s\n", e);
        rc = 1;
    }
    if (r.failed) {
        if (closed == 0)
            fprintf(err, "larmor simulate: %s holds the %zu of %zu acquisitions simulated "
                    "before the failure, marked incomplete (user parameter larmor_incomplete "
                    "= 1)\n", o->out, r.written, pl.n);
        rc = 1;
    } else if (sig) {
        const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        if (closed == 0)
            fprintf(err, "larmor simulate: stopped by %s; %s holds the %zu of %zu acquisitions "
                    "simulated so far (a valid ISMRMRD file marked incomplete: user parameters "
                    "larmor_incomplete = 1, larmor_interrupted_by_signal = %d)\n", name, o->out,
                    r.written, pl.n, sig);
        else
            fprintf(err, "larmor simulate: stopped by %s; nothing was kept\n", name);
        rc = 128 + sig;
    } else if (!o->quiet) {
        struct sim_stats st;
        sim_stats(s, &st);
        fprintf(err, "simulated %.3g s of scan time on %zu isochromats (%zu voxels) in %.2f s: "
                     "%zu acquisitions of up to %u samples x %d coil%s -> %s\n",
                (double)pl.total_ns * 1e-9, sim_nspins(s), ph->n, monotonic_s() - r.t0, r.written,
                pl.max_samples, o->sim.ncoils, o->sim.ncoils == 1 ? "" : "s", o->out);
    }
    sim_free(s);
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    acq_plan_fini(&pl);
    return rc;
}
