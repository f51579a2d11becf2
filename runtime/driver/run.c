/*
 * run: see run.h.
 */
#include "runtime/driver/run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/acq/acq_plan.h"
#include "runtime/check/check.h"
#include "base/diag.h"
#include "runtime/io/rawdata.h"
#include "base/util.h"
#include "vm/vm.h"

void driver_print_msgs(const struct drv_msgs *m, const struct lbc_program *p, struct diag_ctx *d,
                       FILE *err)
{
    size_t n0 = d->ndiags;
    int e0 = d->nerrors, w0 = d->nwarnings;
    for (size_t i = 0; i < m->n; i++) {
        const struct drv_msg *g = &m->v[i];
        struct diag *x = diag_report(d, g->note ? DIAG_NOTE : DIAG_ERROR, g->code,
                                     lbc_pc_span(p, g->pc, d, NULL), "%s", g->msg);
        if (g->time_ns >= 0)
            diag_note(x, SPAN_NONE, "first at t = %.6g ms", (double)g->time_ns * 1e-6);
        if (g->help[0])
            diag_help(x, "%s", g->help);
    }
    bool color = diag_want_color(err);
    for (size_t i = n0; i < d->ndiags; i++)
        diag_render(d, d->diags[i], err, color);
    diag_truncate(d, n0, e0, w0);
}

static const struct drv_ops *volatile cur_ops;
static void *volatile cur_h;
static volatile sig_atomic_t interrupted;

/* SIGINT or SIGTERM during a run: the signal is kept and the driver told
   to abort (a safe stop); the samples received so far are written. */
static void on_stop_signal(int sig)
{
    interrupted = sig;
    if (cur_ops && cur_h)
        cur_ops->abort(cur_h);
}

struct sink {
    struct raw_writer *w;
    const struct acq_plan *pl;
    int32_t (*labels)[VM_LABEL__COUNT];  /* per ADC: its labels */
    int64_t *adc_t_ns;           /* per ADC: start time */
    int64_t *dwell_ns;
    size_t n, written;
    bool failed;
    char err[512];
};

static int sink(void *ctx, size_t index, uint32_t n, const float *iq)
{
    struct sink *s = ctx;
    struct raw_acq q;
    memset(&q, 0, sizeof q);
    q.scan_counter = (uint32_t)index;
    q.samples = n;
    q.ncoils = 1;
    q.data = iq;
    q.dwell = index < s->n ? (double)s->dwell_ns[index] * 1e-9 : 1e-6;
    q.time_ns = index < s->n ? s->adc_t_ns[index] : 0;
    if (index < s->n)
        memcpy(q.labels, s->labels[index], sizeof q.labels);
    acq_plan_fill(s->pl, index, &q);
    if (raw_append(s->w, &q, s->err, sizeof s->err) != 0) {
        s->failed = true;
        return 1;
    }
    s->written++;
    return 0;
}

/* Per ADC: labels, start, dwell, from a VM pass (the driver's event
   program has them too, but a driver's program is its own business). */
struct adcs {
    int32_t (*labels)[VM_LABEL__COUNT];
    int64_t *t_ns, *dwell;
    size_t n, cap, cap2, cap3;
};

static int adcs_adc(void *ctx, const struct vm_block *b, const struct vm_adc *a)
{
    struct adcs *x = ctx;
    vec_reserve((void **)&x->labels, &x->cap, x->n + 1, sizeof *x->labels);
    vec_reserve((void **)&x->t_ns, &x->cap2, x->n + 1, sizeof *x->t_ns);
    vec_reserve((void **)&x->dwell, &x->cap3, x->n + 1, sizeof *x->dwell);
    memcpy(x->labels[x->n], a->labels, sizeof *x->labels);
    x->t_ns[x->n] = b->start_ns + a->delay_ns;
    x->dwell[x->n] = a->dwell_ns;
    x->n++;
    return 0;
}

int driver_check_uri(const char *uri, const struct system *sys, char *err, size_t errlen)
{
    void *dl = NULL;
    const struct drv_ops *ops = drv_find(uri, &dl, err, errlen);
    if (!ops)
        return -1;
    void *h = ops->open(uri, sys, err, errlen);
    if (h)
        ops->close(h);
    drv_unload(dl);
    return h ? 0 : -1;
}

int driver_run(const struct lbc_program *p, const struct system *sys, const struct drv_ticket *t,
               const struct run_opts *o, bool *wrote_raw, FILE *err)
{
    *wrote_raw = false;
    char e[1024];
    void *dl = NULL;
    const struct drv_ops *ops = drv_find(o->uri, &dl, e, sizeof e);
    if (!ops) {
        fprintf(err, "larmor run: %s\n", e);
        return 1;
    }
    void *h = ops->open(o->uri, sys, e, sizeof e);
    if (!h) {
        fprintf(err, "larmor run: %s\n", e);
        drv_unload(dl);
        return 1;
    }
    struct drv_caps caps;
    ops->caps(h, &caps);
    struct drv_msgs m = { 0 };
    int prc = ops->prepare(h, p, t, &m);
    driver_print_msgs(&m, p, o->diag, err);
    if (prc != 0 || m.nerrors) {
        size_t kinds = 0;
        for (size_t i = 0; i < m.n; i++)
            kinds += !m.v[i].note;
        fprintf(err, "larmor run: the %s driver refused the program (%zu error%s, %zu "
                "occurrence%s); nothing was sent\n", ops->scheme, kinds, kinds == 1 ? "" : "s",
                m.nerrors, m.nerrors == 1 ? "" : "s");
        drv_msgs_fini(&m);
        ops->close(h);
        drv_unload(dl);
        return 1;
    }
    drv_msgs_fini(&m);

    struct acq_plan pl;
    struct adcs ax = { 0 };
    struct sink s = { 0 };
    bool want_raw = o->raw_path && caps.rx_channels > 0;
    int rc = 0;
    if (want_raw) {
        if (acq_plan_init(&pl, p, sys, o->seq_name, 1, "run", err) != 0) {
            ops->close(h);
            drv_unload(dl);
            return 1;
        }
        struct vm_backend be = { .ctx = &ax, .adc = adcs_adc };
        vm_run(p, &be, NULL, NULL);
        s.w = raw_open(o->raw_path, e, sizeof e);
        if (!s.w) {
            fprintf(err, "larmor run: %s; nothing was sent\n", e);
            rc = 1;
            goto out;
        }
        s.pl = &pl;
        s.labels = ax.labels;
        s.adc_t_ns = ax.t_ns;
        s.dwell_ns = ax.dwell;
        s.n = ax.n;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    cur_ops = ops;
    cur_h = h;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct drv_status st;
    int r = ops->run(h, want_raw ? sink : NULL, &s, &st);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int sig = interrupted ? interrupted : st.interrupted ? SIGINT : 0;
    cur_ops = NULL;
    cur_h = NULL;
    bool kept = false;
    if (s.failed) {
        fprintf(err, "larmor run: %s\n", s.err);
        rc = 1;
    }
    if (want_raw) {
        if (r != 0 || s.failed)
            acq_plan_mark_incomplete(&pl, s.written, sig);
        if (raw_close(s.w, &pl.h, e, sizeof e) != 0) {
            fprintf(err, "larmor run: %s\n", e);
            rc = 1;
        } else {
            kept = true;
        }
        *wrote_raw = kept;
    }
    if (r != 0) {
        fprintf(err, "larmor run: the run on %s failed: %s\n", o->uri, st.msg);
        if (st.safe_stopped)
            fprintf(err, "larmor run: safe stop done: halted, gradient DACs, TX and gates "
                    "written to zero and acknowledged; an emergency stop was requested too "
                    "(the server's answer to it, if any, is above)\n");
        if (kept)
            fprintf(err, "larmor run: %s holds the %zu of %zu acquisitions received, marked "
                    "incomplete (user parameter larmor_incomplete = 1)\n", o->raw_path,
                    s.written, pl.n);
        rc = sig ? 128 + sig : 1;
    } else if (!o->quiet) {
        if (want_raw)
            fprintf(err, "ran %s on %s: %zu acquisitions -> %s\n", o->seq_name, o->uri, s.written,
                    o->raw_path);
        else
            fprintf(err, "ran %s on %s\n", o->seq_name, o->uri);
    }
out:
    if (want_raw)
        acq_plan_fini(&pl);
    free(ax.labels);
    free(ax.t_ns);
    free(ax.dwell);
    ops->close(h);
    drv_unload(dl);
    return rc;
}
