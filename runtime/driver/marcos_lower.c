/*
 * marcos_lower: the event program (events.h) to MaRCoS machine words.
 *
 * Every channel change becomes buffer writes with the cycle at which the
 * buffer's output must change: TX I/Q, the LO increment (LSB and MSB on
 * one cycle, the MSB resetting the phase for one cycle: every LO change
 * restarts it at zero, so that the phase between an excitation and its readout is the
 * same in every repetition whatever frequencies came before), the RX
 * decimation, the gates and RX control words (merged
 * from their channels), and the gradients, written `latency` cycles early
 * so that the DAC changes on the tick (OCRA1: each changed channel's word
 * two cycles apart, the last one broadcasting; GPA-FHDO: one write per
 * change, already staggered by events.c). Writes are then scheduled as late
 * as possible, from the end backwards: a group of N writes for one cycle
 * issues on N consecutive cycles ending at that cycle (or earlier, before
 * the next group), each with the delay that lands it on the cycle; a delay
 * past 255 cycles, or a buffer written again before its previous value
 * came out, is refused - nothing is moved. Idle cycles between writes
 * become NOPs (up to 3) or WAITs (n + 3 cycles each, split at 2^24 - 1).
 */
#include "runtime/driver/marcos.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The boards' serial interfaces in the MaRGA HDL (vnegnev/marga, commit
   35c599e), with N = spi_div, one SPI clock period being N + 1 cycles:
   - OCRA1 (hdl/ocra1_iface.sv): a broadcast word starts the transfer two
     cycles after it is written (valid_r, broadcast_r2: lines 77-88 and
     117-121), then 24 states of one period each (START = 24 down to 1,
     lines 58, 128-134), END and IDLE, where busy_o falls (line 115):
     24(N+1)+5 cycles after the broadcast. A word written while busy_o is
     high is "ocra1 gradient error; possibly missing samples" (hdl/marga.sv
     line 202, marcos_server src/hardware.cpp line 412). The DAC changes
     24(N+1)+4 cycles after the broadcast, as marcos_client compiles it.
   - GPA-FHDO (hdl/gpa_fhdo_iface.sv): a word is taken only in IDLE (line
     95) and restarts the divider (lines 89-91); the state moves once a
     period: START, 24 bits (line 134), END (CS rises, the DAC80504 takes
     the word: lines 141-149, 210-212): 25(N+1)+1 cycles after the write;
     IDLE one period later, where busy_o falls (lines 184-185): 26(N+1)+2
     cycles after the write. A word written earlier is dropped (the state
     is not IDLE) or flagged (busy_o & valid: hdl/marga.sv line 203). */
int64_t marcos_grad_spacing(enum marcos_board b, int spi_div)
{
    int64_t period = 1 + (int64_t)spi_div;
    return b == MARCOS_OCRA1 ? 24 * period + 5 : 26 * period + 2;
}

int64_t marcos_grad_latency(enum marcos_board b, int spi_div)
{
    int64_t period = 1 + (int64_t)spi_div;
    return b == MARCOS_OCRA1 ? 24 * period + 4 : 25 * period + 1;
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int marcos_parse_uri(struct marcos_cfg *c, const char *uri, const struct system *sys, char *err,
                     size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->port = MARCOS_PORT;
    c->board = MARCOS_OCRA1;
    c->spi_div = 10;
    c->rx_fs = 131072;
    c->timeout_s = 5;
    if (sys && sys->console == SYS_CONSOLE_MARCOS) {
        c->board = sys->grad_board == SYS_BOARD_GPA_FHDO ? MARCOS_FHDO : MARCOS_OCRA1;
        c->spi_div = (int)sys->spi_div;
        for (int a = 0; a < 3; a++)
            c->grad_fs[a] = sys->grad_full_scale[a];
        c->rf_fs = sys->rf_full_scale;
        c->rx_fs = sys->rx_full_scale;
    }
    if (strncmp(uri, "marcos://", 9) != 0) {
        errf(err, errlen, "'%s' is not a marcos:// URI", uri);
        return -1;
    }
    const char *h = uri + 9, *q = strchr(h, '?');
    size_t hl = q ? (size_t)(q - h) : strlen(h);
    char hp[300];
    if (hl == 0 || hl >= sizeof hp) {
        errf(err, errlen, "'%s' names no host: write marcos://HOST:PORT (the port defaults "
             "to %d)", uri, MARCOS_PORT);
        return -1;
    }
    memcpy(hp, h, hl);
    hp[hl] = 0;
    char *colon = strrchr(hp, ':');
    if (colon) {
        *colon = 0;
        double port;
        if (parse_num(colon + 1, 1, 65535, &port) || port != floor(port)) {
            errf(err, errlen, "bad port '%s' in '%s' (1 to 65535)", colon + 1, uri);
            return -1;
        }
        c->port = (int)port;
    }
    if (!hp[0] || strlen(hp) >= sizeof c->host) {
        errf(err, errlen, "'%s' names no host", uri);
        return -1;
    }
    snprintf(c->host, sizeof c->host, "%s", hp);
    if (!q)
        return 0;
    char *opts = xstrdup(q + 1), *save = NULL;
    int rc = 0;
    for (char *kv = strtok_r(opts, "&", &save); kv && !rc; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            errf(err, errlen, "option '%s' in '%s' has no value (key=value)", kv, uri);
            rc = -1;
            break;
        }
        *eq = 0;
        const char *k = kv, *v = eq + 1;
        double x;
        if (!strcmp(k, "board")) {
            if (!strcmp(v, "ocra1"))
                c->board = MARCOS_OCRA1;
            else if (!strcmp(v, "gpa-fhdo"))
                c->board = MARCOS_FHDO;
            else
                rc = -1;
        } else if (!strcmp(k, "spi_div")) {
            rc = parse_num(v, 0, 63, &x) || x != floor(x) ? -1 : (c->spi_div = (int)x, 0);
        } else if (!strcmp(k, "grad_fs")) {
            rc = parse_num(v, 1e-6, 10, &x) ? -1 : (c->grad_fs[0] = c->grad_fs[1] = c->grad_fs[2] = x, 0);
        } else if (!strcmp(k, "rf_fs")) {
            rc = parse_num(v, 1e-9, 1, &x) ? -1 : (c->rf_fs = x, 0);
        } else if (!strcmp(k, "rx_fs")) {
            rc = parse_num(v, 1, 1e12, &x) ? -1 : (c->rx_fs = x, 0);
        } else if (!strcmp(k, "timeout")) {
            rc = parse_num(v, 0.01, 3600, &x) ? -1 : (c->timeout_s = x, 0);
        } else {
            errf(err, errlen, "unknown option '%s' in '%s' (board, spi_div, grad_fs, rf_fs, "
                 "rx_fs, timeout)", k, uri);
            free(opts);
            return -1;
        }
        if (rc)
            errf(err, errlen, "bad value '%s' for %s in '%s' (board: ocra1 or gpa-fhdo; "
                 "spi_div: 0 to 63; grad_fs T/m; rf_fs T; timeout s)", v, k, uri);
    }
    free(opts);
    return rc;
}

int marcos_check_system(const struct system *sys, char *err, size_t errlen)
{
    if (sys->console == SYS_CONSOLE_MARCOS)
        return 0;
    errf(err, errlen, "system '%s' describes no MaRCoS console (its YAML has no `console:` "
         "section with `type: marcos`): run with --system marcos_lowfield, or add the section "
         "to a copy of the system", sys->name);
    return -1;
}

void marcos_caps(struct drv_caps *caps, const struct marcos_cfg *c, const struct system *sys)
{
    memset(caps, 0, sizeof *caps);
    snprintf(caps->name, sizeof caps->name, "%s", c->board == MARCOS_OCRA1 ? "ocra1" : "gpa-fhdo");
    caps->clock_hz = MARCOS_CLOCK_HZ;
    caps->tx_channels = 2;
    caps->grad_channels = 4;
    caps->rx_channels = 2;
    caps->tx_bits = 16;
    caps->dac_bits = c->board == MARCOS_OCRA1 ? 18 : 16;
    caps->decim_min = 4;
    caps->decim_max = 4095;
    caps->grad_min_spacing = marcos_grad_spacing(c->board, c->spi_div);
    caps->grad_serial = c->board == MARCOS_FHDO;
    /* OCRA1 writes each changed channel's word 2 cycles before the next
       (grad_writes), and the first of a group must wait for the last
       transfer's end as the broadcast does */
    caps->grad_group_step = c->board == MARCOS_OCRA1 ? 2 : 0;
    caps->max_words = (MARCOS_MAX_REQUEST - 4096) / 4;
    for (int a = 0; a < 3; a++)
        caps->grad_fs[a] = c->grad_fs[a] > 0 ? c->grad_fs[a] : sys->max_grad_axis[a];
    caps->b1_fs = c->rf_fs > 0 ? c->rf_fs : sys->max_b1;
    caps->lo_hz = sys->gamma * sys->b0;
    caps->lo_bits = 31;
    caps->tx_gate_lead_ns = sys->rf_dead_ns;
}

void marcos_prog_fini(struct marcos_prog *mp)
{
    free(mp->w);
    memset(mp, 0, sizeof *mp);
}

static void put(struct marcos_prog *mp, uint32_t w)
{
    if (mp->n == mp->cap)
        vec_reserve((void **)&mp->w, &mp->cap, mp->n + 1, sizeof *mp->w);
    mp->w[mp->n++] = w;
}

void marcos_fill(struct marcos_prog *mp, int64_t g)
{
    while (g > 0) {
        if (g < 4) {
            for (; g > 0; g--)
                put(mp, marcos_word_a(MI_NOP, 0));
            break;
        }
        int64_t piece = g > (int64_t)MARCOS_WAIT_MAX + 3 ? (int64_t)MARCOS_WAIT_MAX + 3 : g;
        if (g - piece > 0 && g - piece < 4)
            piece -= 4;        /* leave a remainder a WAIT can fill */
        put(mp, marcos_word_a(MI_WAIT, (uint32_t)(piece - 3)));
        g -= piece;
    }
}

/* One buffer write: its output cycle (sequence ticks) and, once
   scheduled, its issue cycle. */
struct wr {
    int64_t out, issue;
    unsigned buf, data;
    uint32_t pc;
    size_t seq;
};

struct wrs {
    struct wr *v;
    size_t n, cap;
};

static void add(struct wrs *W, int64_t out, unsigned buf, unsigned data, uint32_t pc)
{
    if (W->n == W->cap)
        vec_reserve((void **)&W->v, &W->cap, W->n + 1, sizeof *W->v);
    W->v[W->n] = (struct wr){ out, 0, buf, data & 0xffffu, pc, W->n };
    W->n++;
}

static int wr_cmp(const void *a, const void *b)
{
    const struct wr *x = a, *y = b;
    if (x->out != y->out)
        return x->out < y->out ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The value of a channel at tick t (its last change at or before t). */
static int64_t value_at(const struct ev_list *l, size_t *i, int64_t t)
{
    while (*i < l->n && l->v[*i].tick <= t)
        (*i)++;
    return *i ? l->v[*i - 1].value : 0;
}

/* Writes for a register several channels share: at each tick one of them
   changes, the word they make together. */
static void merged(struct wrs *W, const struct ev_program *e, unsigned buf, const int *chans,
                   const unsigned *bits, int nch, unsigned base)
{
    size_t pos[4] = { 0 }, at[4] = { 0 };
    unsigned cur = base;
    for (;;) {
        int64_t t = INT64_MAX;
        uint32_t pc = UINT32_MAX;
        for (int k = 0; k < nch; k++)
            if (pos[k] < e->ch[chans[k]].n && e->ch[chans[k]].v[pos[k]].tick < t) {
                t = e->ch[chans[k]].v[pos[k]].tick;
                pc = e->ch[chans[k]].v[pos[k]].pc;
            }
        if (t == INT64_MAX)
            break;
        unsigned v = base;
        for (int k = 0; k < nch; k++) {
            if (value_at(&e->ch[chans[k]], &at[k], t))
                v |= bits[k];
            while (pos[k] < e->ch[chans[k]].n && e->ch[chans[k]].v[pos[k]].tick <= t)
                pos[k]++;
        }
        if (v != cur)
            add(W, t, buf, v, pc);
        cur = v;
    }
}

static void grad_writes(struct wrs *W, const struct ev_program *e, const struct marcos_cfg *c)
{
    int64_t L = marcos_grad_latency(c->board, c->spi_div);
    size_t pos[3] = { 0 };
    for (;;) {
        int64_t t = INT64_MAX;
        for (int a = 0; a < 3; a++)
            if (pos[a] < e->ch[EV_GX + a].n && e->ch[EV_GX + a].v[pos[a]].tick < t)
                t = e->ch[EV_GX + a].v[pos[a]].tick;
        if (t == INT64_MAX)
            break;
        const struct ev_change *chg[3];
        int ax[3], n = 0;
        for (int a = 0; a < 3; a++)
            if (pos[a] < e->ch[EV_GX + a].n && e->ch[EV_GX + a].v[pos[a]].tick == t) {
                chg[n] = &e->ch[EV_GX + a].v[pos[a]++];
                ax[n++] = a;
            }
        for (int k = 0; k < n; k++) {
            uint32_t w;
            int64_t out = t - L;
            if (c->board == MARCOS_OCRA1) {
                w = ((uint32_t)ax[k] << 25) | ((uint32_t)(k == n - 1) << 24) | (1u << 20) |
                    (((uint32_t)chg[k]->value & 0x3ffffu) << 2);
                out -= 2 * (n - 1 - k);   /* MSB and LSB of each channel: 2 cycles */
            } else {
                unsigned ch = (unsigned)ax[k];
                w = ((uint32_t)(0x0008u | ch | ch << 9) << 16) |
                    (((uint32_t)chg[k]->value + 0x8000u) & 0xffffu);
            }
            add(W, out, MB_GRAD_MSB, w >> 16, chg[k]->pc);
            add(W, out, MB_GRAD_LSB, w & 0xffffu, chg[k]->pc);
        }
    }
}

int marcos_lower(struct marcos_prog *out, const struct ev_program *e, const struct marcos_cfg *c,
                 struct drv_msgs *m)
{
    memset(out, 0, sizeof *out);
    struct wrs W = { 0 };
    size_t e0 = m->nerrors;
    const struct drv_caps *caps = &e->caps;
    /* set-up at cycles 0, 1, 2 */
    add(&W, -MARCOS_T0 + 0, MB_GRAD_CTRL,
        (unsigned)c->board | (unsigned)c->spi_div << 2 | MG_CTRL_RESET_N | MG_CTRL_XFER,
        UINT32_MAX);
    add(&W, -MARCOS_T0 + 1, MB_RX_CTRL, MR_RATE_VALID | MR_RST_N, UINT32_MAX);
    add(&W, -MARCOS_T0 + 2, MB_GATES, 0, UINT32_MAX);
    for (size_t i = 0; i < e->ch[EV_TX_I].n; i++)
        add(&W, e->ch[EV_TX_I].v[i].tick, MB_TX0_I, (unsigned)e->ch[EV_TX_I].v[i].value,
            e->ch[EV_TX_I].v[i].pc);
    for (size_t i = 0; i < e->ch[EV_TX_Q].n; i++)
        add(&W, e->ch[EV_TX_Q].v[i].tick, MB_TX0_Q, (unsigned)e->ch[EV_TX_Q].v[i].value,
            e->ch[EV_TX_Q].v[i].pc);
    for (size_t i = 0; i < e->ch[EV_LO].n; i++) {
        const struct ev_change *x = &e->ch[EV_LO].v[i];
        /* the phase restarts at each change (see the top of the file) */
        uint32_t v = (uint32_t)x->value;
        add(&W, x->tick, MB_LO0_LSB, v & 0xffffu, x->pc);
        add(&W, x->tick, MB_LO0_MSB, ((v >> 16) & 0x7fffu) | MLO_RESET, x->pc);
        /* the reset bit for one cycle only, whether the hardware takes it
           as a level or as an edge */
        add(&W, x->tick + 1, MB_LO0_MSB, (v >> 16) & 0x7fffu, x->pc);
    }
    for (size_t i = 0; i < e->ch[EV_RX_RATE].n; i++)
        add(&W, e->ch[EV_RX_RATE].v[i].tick, MB_RX0_RATE, (unsigned)e->ch[EV_RX_RATE].v[i].value,
            e->ch[EV_RX_RATE].v[i].pc);
    static const int gch[] = { EV_TX_GATE, EV_RX_EN, EV_TRIG };
    static const unsigned gbits[] = { MG_TX_GATE, MG_RX_GATE, MG_TRIG };
    merged(&W, e, MB_GATES, gch, gbits, 3, 0);
    static const int rch[] = { EV_RX_EN };
    static const unsigned rbits[] = { MR_EN };
    merged(&W, e, MB_RX_CTRL, rch, rbits, 1, MR_RATE_VALID | MR_RST_N);
    grad_writes(&W, e, c);
    qsort(W.v, W.n, sizeof *W.v, wr_cmp);

    /* schedule as late as possible, from the end */
    int64_t next_free = INT64_MAX;
    for (size_t j = W.n; j > 0;) {
        size_t i = j;
        while (i > 0 && W.v[i - 1].out == W.v[j - 1].out)
            i--;
        int64_t t = W.v[i].out;
        int64_t last = t < next_free - 1 ? t : next_free - 1;
        int64_t first = last - (int64_t)(j - i) + 1;
        for (size_t k = i; k < j; k++) {
            W.v[k].issue = first + (int64_t)(k - i);
            if (t - W.v[k].issue > 255) {
                struct drv_msg *g = drv_msg_add(m, false, 909, W.v[k].pc, ev_tick_ns(caps, t),
                                                "too many output changes close together: a "
                                                "change at tick %" PRId64 " would have to be "
                                                "issued %" PRId64 " cycles early (the delay field "
                                                "holds at most 255)", t, t - W.v[k].issue);
                if (g)
                    snprintf(g->help, sizeof g->help, "spread the events out (a coarser RF or "
                             "gradient raster)");
            }
        }
        next_free = first;
        j = i;
    }
    if (W.n && W.v[0].issue < -MARCOS_T0) {
        drv_msg_add(m, false, 909, W.v[0].pc, 0, "the changes at the program's start need %"
                    PRId64 " cycles before time 0, more than the %d set aside",
                    -W.v[0].issue, MARCOS_T0);
    }
    int64_t prev_out[MB__COUNT];
    for (int b = 0; b < MB__COUNT; b++)
        prev_out[b] = INT64_MIN;
    for (size_t k = 0; k < W.n; k++) {
        if (W.v[k].issue < prev_out[W.v[k].buf]) {
            struct drv_msg *g = drv_msg_add(m, false, 909, W.v[k].pc, ev_tick_ns(caps, W.v[k].out),
                                            "buffer %u would be written again before its previous "
                                            "value is output (changes too close together at tick %"
                                            PRId64 ")", W.v[k].buf, W.v[k].out);
            if (g)
                snprintf(g->help, sizeof g->help, "spread the events out");
        }
        prev_out[W.v[k].buf] = W.v[k].out;
    }
    if (m->nerrors > e0) {
        free(W.v);
        return -1;
    }
    int64_t cur = -MARCOS_T0, end = e->end_tick;
    for (size_t k = 0; k < W.n; k++) {
        marcos_fill(out, W.v[k].issue - cur);
        put(out, marcos_word_b(W.v[k].buf, (unsigned)(W.v[k].out - W.v[k].issue), W.v[k].data));
        cur = W.v[k].issue + 1;
        if (W.v[k].out + 1 > end)
            end = W.v[k].out + 1;
    }
    marcos_fill(out, end - cur);
    put(out, marcos_word_a(MI_FINISH, 0));
    out->cycles = end + MARCOS_T0 + 1;
    free(W.v);
    if (out->n > caps->max_words) {
        drv_msg_add(m, false, 910, UINT32_MAX, -1, "the program is %zu machine words, more "
                    "than the %" PRIu64 " one run may hold (%u MiB per request)", out->n,
                    caps->max_words, MARCOS_MAX_REQUEST >> 20);
        return -1;
    }
    return 0;
}
