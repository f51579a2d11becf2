/*
 * events: the VM's event stream to the driver-neutral event program. See
 * events.h for the placement rules.
 */
#include "runtime/driver/events.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "runtime/wave/wave.h"
#include "vm/vm.h"

const char *const ev_chan_names[EV__NCHAN] = {
#define X(e, s) s,
    EV_CHAN_LIST(X)
#undef X
};

/* --- messages (shared by the drivers) ------------------------------------ */

void drv_msgs_fini(struct drv_msgs *m)
{
    free(m->v);
    memset(m, 0, sizeof *m);
}

struct drv_msg *drv_msg_add(struct drv_msgs *m, bool note, int code, uint32_t pc,
                            int64_t time_ns, const char *fmt, ...)
{
    if (!note)
        m->nerrors++;
    /* one message per (code, instruction): a fault inside a loop is
       reported once, at its first occurrence */
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].code == code && m->v[i].pc == pc && m->v[i].note == note)
            return NULL;
    if (m->n >= 64)
        return NULL;
    vec_reserve((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v);
    struct drv_msg *g = &m->v[m->n++];
    memset(g, 0, sizeof *g);
    g->note = note;
    g->code = code;
    g->pc = pc;
    g->time_ns = time_ns;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
    va_end(ap);
    return g;
}

/* --- ticks ---------------------------------------------------------------- */

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int64_t ev_tick(const struct drv_caps *c, int64_t t_ns)
{
    int64_t g = gcd64(c->clock_hz, 1000000000);
    int64_t num = c->clock_hz / g, den = 1000000000 / g;
    if (t_ns < 0)
        return -ev_tick(c, -t_ns);
    /* t * num stays below 2^63 for t < 2.4e16 ns (277 days) at 122.88 MHz */
    return (t_ns / den) * num + ((t_ns % den) * num + den / 2) / den;
}

int64_t ev_tick_ns(const struct drv_caps *c, int64_t tick)
{
    return (int64_t)llround((double)tick * 1e9 / (double)c->clock_hz);
}

void ev_list_set(struct ev_list *l, int64_t tick, int64_t value, uint32_t pc)
{
    if (l->n && l->v[l->n - 1].tick == tick) {
        l->v[l->n - 1].value = value;
        l->v[l->n - 1].pc = pc;
        if ((l->n >= 2 && l->v[l->n - 2].value == value) || (l->n == 1 && value == 0))
            l->n--;
        return;
    }
    int64_t cur = l->n ? l->v[l->n - 1].value : 0;
    if (value == cur)
        return;
    vec_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = (struct ev_change){ tick, value, pc };
}

static int64_t list_last_tick(const struct ev_list *l)
{
    return l->n ? l->v[l->n - 1].tick : INT64_MIN;
}

static int64_t list_value(const struct ev_list *l)
{
    return l->n ? l->v[l->n - 1].value : 0;
}

/* --- the backend ---------------------------------------------------------- */

struct bld {
    struct ev_program *e;
    struct drv_msgs *m;
    struct vm_view v;            /* the program played (be_begin) */
    double lo_off;               /* the LO's current offset from the carrier (Hz) */
    int64_t lo_busy_until;       /* tick: the RF or ADC using the LO ends */
    double noted_dwell[8];
    int nnoted;
    double max_shift_ns;         /* the largest |placed - programmed| time */
};

/* The tick of an event time, keeping the largest shift for the note. */
static int64_t tick_of(struct bld *B, int64_t t_ns)
{
    int64_t t = ev_tick(&B->e->caps, t_ns);
    double shift = fabs((double)t * 1e9 / (double)B->e->caps.clock_hz - (double)t_ns);
    if (shift > B->max_shift_ns)
        B->max_shift_ns = shift;
    return t;
}

static int64_t code_of(double x, int bits)
{
    return (int64_t)llround(x * (double)((1 << (bits - 1)) - 1));
}

static int set_lo(struct bld *B, double off, int64_t t0, int64_t t1, uint32_t pc, int64_t t_ns,
                  const char *what)
{
    const struct drv_caps *c = &B->e->caps;
    if (off != B->lo_off) {
        if (t0 < B->lo_busy_until) {
            struct drv_msg *g = drv_msg_add(B->m, false, 906, pc, t_ns, "the %s's frequency "
                                            "offset %.6g Hz differs from that of the RF or ADC "
                                            "it overlaps, and the console has one LO for both",
                                            what, off);
            if (g)
                snprintf(g->help, sizeof g->help, "give overlapping RF and ADC events the same "
                         "freq, or move them apart");
            return -1;
        }
        double f = c->lo_hz + off;
        if (!(f >= 0 && f < (double)c->clock_hz / 2)) {
            struct drv_msg *g = drv_msg_add(B->m, false, 905, pc, t_ns, "the %s's frequency "
                                            "%.6g MHz is outside the LO's range 0 to %.6g MHz",
                                            what, f * 1e-6, (double)c->clock_hz * 0.5e-6);
            if (g)
                snprintf(g->help, sizeof g->help, "check the offset (freq) and the system's b0");
            return -1;
        }
        int64_t inc = llround(ldexp(f, c->lo_bits) / (double)c->clock_hz);
        ev_list_set(&B->e->ch[EV_LO], t0, inc, pc);
        B->lo_off = off;
    }
    if (t1 > B->lo_busy_until)
        B->lo_busy_until = t1;
    return 0;
}

static int be_rf(void *ctx, const struct vm_block *b, const struct vm_rf *rf)
{
    struct bld *B = ctx;
    struct ev_program *e = B->e;
    const struct drv_caps *c = &e->caps;
    int64_t start = b->start_ns + rf->delay_ns;
    int64_t t0 = tick_of(B, start), t1 = tick_of(B, start + (int64_t)rf->n * rf->dt_ns);
    if (list_last_tick(&e->ch[EV_TX_GATE]) > tick_of(B, b->start_ns) ||
        list_value(&e->ch[EV_TX_GATE])) {
        drv_msg_add(B->m, false, 907, rf->pc, start, "this RF pulse overlaps the one before "
                    "it once placed on the %.6g MHz clock", (double)c->clock_hz * 1e-6);
        return 0;
    }
    set_lo(B, rf->freq, t0, t1, rf->pc, start, "RF pulse");
    double worst = 0;
    for (uint32_t i = 0; i < rf->n; i++) {
        double x = rf->amp * rf->mag[i] / c->b1_fs;
        double ph = rf->phase + (rf->phase_shape ? rf->phase_shape[i] : 0);
        if (fabs(x) > worst)
            worst = fabs(x);
        if (fabs(x) > 1 + 1e-9)
            continue;
        int64_t t = tick_of(B, start + (int64_t)i * rf->dt_ns);
        ev_list_set(&e->ch[EV_TX_I], t, code_of(x * cos(ph), c->tx_bits), rf->pc);
        ev_list_set(&e->ch[EV_TX_Q], t, code_of(x * sin(ph), c->tx_bits), rf->pc);
    }
    if (worst > 1 + 1e-9) {
        struct drv_msg *g = drv_msg_add(B->m, false, 901, rf->pc, start, "RF amplitude %.4g uT "
                                        "exceeds the TX full scale %.4g uT of this console",
                                        worst * c->b1_fs * 1e6, c->b1_fs * 1e6);
        if (g)
            snprintf(g->help, sizeof g->help, "lower the flip angle or lengthen the pulse, or "
                     "calibrate rf_fs in the driver URI (?rf_fs=...)");
    }
    ev_list_set(&e->ch[EV_TX_I], t1, 0, rf->pc);
    ev_list_set(&e->ch[EV_TX_Q], t1, 0, rf->pc);
    /* the gate opens the amplifier's unblanking time ahead (inside the block:
       the checks keep an RF pulse that far from its block's start) */
    int64_t g0 = start - c->tx_gate_lead_ns >= b->start_ns ? start - c->tx_gate_lead_ns
                                                           : b->start_ns;
    ev_list_set(&e->ch[EV_TX_GATE], tick_of(B, g0), 1, rf->pc);
    ev_list_set(&e->ch[EV_TX_GATE], t1, 0, rf->pc);
    return 0;
}

static int be_grad(void *ctx, const struct vm_block *b, const struct vm_grad *g)
{
    struct bld *B = ctx;
    struct ev_program *e = B->e;
    const struct drv_caps *c = &e->caps;
    struct ev_list *l = &e->ch[EV_GX + g->axis];
    int64_t start = b->start_ns + g->delay_ns;
    int64_t step = g->kind == GRAD_ARB ? g->dt_ns : B->v.grad_raster;
    if (step <= 0)
        step = 10000;
    int64_t nstep = g->kind == GRAD_ARB ? (int64_t)g->n : (g->dur_ns + step - 1) / step;
    double fs = c->grad_fs[g->axis], worst = 0;
    for (int64_t k = 0; k < nstep; k++) {
        double v = wave_raster_value(g, k, step);
        double x = v / fs;
        if (fabs(x) > worst)
            worst = fabs(x);
        if (fabs(x) > 1 + 1e-9)
            continue;
        ev_list_set(l, tick_of(B, start + k * step), code_of(x, c->dac_bits), g->pc);
    }
    ev_list_set(l, tick_of(B, start + nstep * step), 0, g->pc);
    if (worst > 1 + 1e-9) {
        struct drv_msg *m = drv_msg_add(B->m, false, 902, g->pc, start, "gradient %c reaches "
                                        "%.4g mT/m, past the DAC full scale %.4g mT/m",
                                        "xyz"[g->axis], worst * fs * 1e3, fs * 1e3);
        if (m)
            snprintf(m->help, sizeof m->help, "lower the gradient, or calibrate the full scale "
                     "in the driver URI (?grad_fs=...)");
    }
    return 0;
}

static int be_adc(void *ctx, const struct vm_block *b, const struct vm_adc *a)
{
    struct bld *B = ctx;
    struct ev_program *e = B->e;
    const struct drv_caps *c = &e->caps;
    int64_t start = b->start_ns + a->delay_ns;
    int64_t t0 = tick_of(B, start);
    double exact = (double)a->dwell_ns * (double)c->clock_hz * 1e-9;
    int64_t d = llround(exact);
    if (d < (int64_t)c->decim_min || d > (int64_t)c->decim_max) {
        struct drv_msg *g = drv_msg_add(B->m, false, 903, a->pc, start, "dwell %" PRId64 " ns "
                                        "is %.4g clock ticks, outside the RX decimation range "
                                        "%u to %u ticks (%.4g ns to %.4g us)", a->dwell_ns, exact,
                                        c->decim_min, c->decim_max,
                                        c->decim_min * 1e9 / (double)c->clock_hz,
                                        c->decim_max * 1e6 / (double)c->clock_hz);
        if (g)
            snprintf(g->help, sizeof g->help, "choose a dwell (or bandwidth) inside that range");
        return 0;
    }
    double placed = (double)d * 1e9 / (double)c->clock_hz;
    double rel = (placed - (double)a->dwell_ns) / (double)a->dwell_ns;
    if (fabs(rel) > 1e-3) {
        struct drv_msg *g = drv_msg_add(B->m, false, 904, a->pc, start, "dwell %" PRId64 " ns "
                                        "cannot be placed on the %.6g MHz clock: the nearest "
                                        "decimation, %" PRId64 " ticks, gives %.2f ns (%+.2f %%)",
                                        a->dwell_ns, (double)c->clock_hz * 1e-6, d, placed,
                                        rel * 100);
        if (g)
            snprintf(g->help, sizeof g->help, "use a dwell within 0.1 %% of a whole number of "
                     "ticks (%.4f ns each)", 1e9 / (double)c->clock_hz);
        return 0;
    }
    if (placed != (double)a->dwell_ns) {
        bool seen = false;
        for (int i = 0; i < B->nnoted; i++)
            seen |= B->noted_dwell[i] == (double)a->dwell_ns;
        if (!seen && B->nnoted < 8) {
            B->noted_dwell[B->nnoted++] = (double)a->dwell_ns;
            drv_msg_add(B->m, true, 950, a->pc, start, "dwell %" PRId64 " ns is placed as "
                        "%" PRId64 " ticks = %.3f ns (%+.4f %%)", a->dwell_ns, d, placed,
                        rel * 100);
        }
    }
    int64_t t1 = t0 + (int64_t)a->samples * d;
    if (list_last_tick(&e->ch[EV_RX_EN]) > t0 || list_value(&e->ch[EV_RX_EN])) {
        struct drv_msg *g = drv_msg_add(B->m, false, 907, a->pc, start, "this ADC window "
                                        "overlaps the one before it once the dwells are placed "
                                        "on the clock");
        if (g)
            snprintf(g->help, sizeof g->help, "a placed dwell differs from the programmed one by "
                     "a fraction of a tick per sample (see the note E0950): leave more time after "
                     "a long ADC, or use a dwell of whole ticks");
        return 0;
    }
    set_lo(B, a->freq, t0, t1, a->pc, start, "ADC");
    ev_list_set(&e->ch[EV_RX_RATE], t0, d, a->pc);
    ev_list_set(&e->ch[EV_RX_EN], t0, 1, a->pc);
    ev_list_set(&e->ch[EV_RX_EN], t1, 0, a->pc);
    if (e->nadc == e->adc_cap)
        vec_reserve((void **)&e->adc, &e->adc_cap, e->nadc + 1, sizeof *e->adc);
    struct ev_adc *x = &e->adc[e->nadc++];
    x->tick = t0;
    x->t_ns = start;
    x->samples = a->samples;
    x->decim = (uint32_t)d;
    x->dwell_ns = a->dwell_ns;
    x->phase = a->phase;
    memcpy(x->labels, a->labels, sizeof x->labels);
    x->pc = a->pc;
    return 0;
}

static int be_trig(void *ctx, const struct vm_block *b, const struct vm_trig *t)
{
    struct bld *B = ctx;
    int64_t start = b->start_ns + t->delay_ns;
    ev_list_set(&B->e->ch[EV_TRIG], tick_of(B, start), 1, t->pc);
    ev_list_set(&B->e->ch[EV_TRIG], tick_of(B, start + (t->dur_ns > 0 ? t->dur_ns : 1)), 0,
                t->pc);
    return 0;
}

static int be_end(void *ctx, int64_t total_ns)
{
    struct bld *B = ctx;
    B->e->end_tick = tick_of(B, total_ns);
    return 0;
}

/* --- the gradient board's update timing ------------------------------------ */

struct gupd {
    int64_t tick;
    int axis;
    size_t idx;
};

static int gupd_cmp(const void *a, const void *b)
{
    const struct gupd *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    return x->axis - y->axis;
}

/* Stagger a serial board's same-tick updates and refuse updates closer than
   the board can make them. */
static void grad_timing(struct ev_program *e, struct drv_msgs *m)
{
    const struct drv_caps *c = &e->caps;
    size_t n = e->ch[EV_GX].n + e->ch[EV_GY].n + e->ch[EV_GZ].n, k = 0;
    if (!n)
        return;
    struct gupd *u = xmalloc(n * sizeof *u);
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < e->ch[EV_GX + a].n; i++)
            u[k++] = (struct gupd){ e->ch[EV_GX + a].v[i].tick, a, i };
    qsort(u, n, sizeof *u, gupd_cmp);
    int64_t s = c->grad_min_spacing;
    bool staggered = false;
    if (c->grad_serial)
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && u[j].tick == u[i].tick)
                j++;
            for (size_t q = i + 1; q < j; q++) {
                u[q].tick += (int64_t)(q - i) * s;
                e->ch[EV_GX + u[q].axis].v[u[q].idx].tick = u[q].tick;
                staggered = true;
            }
            i = j;
        }
    int64_t prev = INT64_MIN / 2;
    for (size_t i = 0; i < n; i++) {
        if (!c->grad_serial && i && u[i].tick == u[i - 1].tick)
            continue;          /* updated together (OCRA1) */
        /* a group of k channels on one tick starts (k - 1) steps early */
        size_t grp = 1;
        while (!c->grad_serial && i + grp < n && u[i + grp].tick == u[i].tick)
            grp++;
        int64_t need = s + (int64_t)(grp - 1) * c->grad_group_step;
        if (u[i].tick - prev < need) {
            const struct ev_change *ch = &e->ch[EV_GX + u[i].axis].v[u[i].idx];
            struct drv_msg *g = drv_msg_add(m, false, 908, ch->pc, ev_tick_ns(c, u[i].tick),
                                            "gradient updates %" PRId64 " ticks (%.3g us) apart; "
                                            "the %s board needs %" PRId64 " ticks (%.3g us) "
                                            "between updates", u[i].tick - prev,
                                            (double)(u[i].tick - prev) * 1e6 / (double)c->clock_hz,
                                            c->name, need, (double)need * 1e6 / (double)c->clock_hz);
            if (g)
                snprintf(g->help, sizeof g->help, "use a coarser gradient raster%s",
                         c->grad_serial ? ", or change fewer axes at once" : "");
        }
        prev = u[i].tick;
    }
    if (staggered)
        drv_msg_add(m, true, 951, UINT32_MAX, -1, "the %s board updates its channels one after "
                    "another: the 2nd and 3rd axis changed on one tick land %.3g and %.3g us "
                    "after the first", c->name, (double)s * 1e6 / (double)c->clock_hz,
                    2.0 * (double)s * 1e6 / (double)c->clock_hz);
    free(u);
}

static int be_begin(void *ctx, const struct vm_view *v)
{
    ((struct bld *)ctx)->v = *v;
    return 0;
}

int ev_build(struct ev_program *e, const struct lbc_program *p, const struct drv_caps *caps,
             struct drv_msgs *m)
{
    memset(e, 0, sizeof *e);
    e->caps = *caps;
    struct bld B = { .e = e, .m = m };
    size_t e0 = m->nerrors;
    /* the LO starts on the carrier */
    B.lo_off = NAN;
    set_lo(&B, 0, 0, 0, UINT32_MAX, 0, "carrier");
    struct vm_backend be = { .ctx = &B, .begin = be_begin, .rf = be_rf, .grad = be_grad, .adc = be_adc,
                             .trigger = be_trig, .end = be_end };
    if (vm_run(p, &be, NULL, NULL) != 0) {
        drv_msg_add(m, false, 900, UINT32_MAX, -1, "the program stopped with a run-time error");
        return -1;
    }
    grad_timing(e, m);
    if (B.max_shift_ns > 1e-6)
        drv_msg_add(m, true, 952, UINT32_MAX, -1, "event times are placed on the nearest tick of "
                    "the %.6g MHz clock: the largest shift is %.2f ns", (double)caps->clock_hz * 1e-6,
                    B.max_shift_ns);
    return m->nerrors > e0 ? -1 : 0;
}

void ev_fini(struct ev_program *e)
{
    for (int c = 0; c < EV__NCHAN; c++)
        free(e->ch[c].v);
    free(e->adc);
    memset(e, 0, sizeof *e);
}

void ev_write(const struct ev_program *e, FILE *out)
{
    const struct drv_caps *c = &e->caps;
    fprintf(out, "# larmor event program 1: per-channel (tick value) changes\n");
    fprintf(out, "console %s\nclock_hz %" PRId64 "\nend_tick %" PRId64 "\n", c->name,
            c->clock_hz, e->end_tick);
    fprintf(out, "tx_bits %d\ndac_bits %d\nlo_bits %d\n", c->tx_bits, c->dac_bits, c->lo_bits);
    for (size_t i = 0; i < e->nadc; i++) {
        const struct ev_adc *a = &e->adc[i];
        fprintf(out, "adc %zu tick %" PRId64 " samples %u decim %u phase %.9g", i, a->tick,
                a->samples, a->decim, a->phase);
        for (int l = 0; l < VM_LABEL__COUNT; l++)
            if (a->labels[l])
                fprintf(out, " %s %d", vm_label_names[l], a->labels[l]);
        fputc('\n', out);
    }
    for (int ch = 0; ch < EV__NCHAN; ch++)
        for (size_t i = 0; i < e->ch[ch].n; i++)
            fprintf(out, "%s %" PRId64 " %" PRId64 "\n", ev_chan_names[ch], e->ch[ch].v[i].tick,
                    e->ch[ch].v[i].value);
}

int ev_compare(const struct ev_list a[EV__NCHAN], const struct ev_list b[EV__NCHAN], char *msg,
               size_t msglen)
{
    for (int c = 0; c < EV__NCHAN; c++) {
        size_t n = a[c].n < b[c].n ? a[c].n : b[c].n;
        for (size_t i = 0; i < n; i++)
            if (a[c].v[i].tick != b[c].v[i].tick || a[c].v[i].value != b[c].v[i].value) {
                errf(msg, msglen, "%s change %zu: (%" PRId64 ", %" PRId64 ") vs (%" PRId64
                     ", %" PRId64 ")", ev_chan_names[c], i, a[c].v[i].tick, a[c].v[i].value,
                     b[c].v[i].tick, b[c].v[i].value);
                return 1;
            }
        if (a[c].n != b[c].n) {
            errf(msg, msglen, "%s: %zu vs %zu changes", ev_chan_names[c], a[c].n, b[c].n);
            return 1;
        }
    }
    return 0;
}
