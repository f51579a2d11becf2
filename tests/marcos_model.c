/*
 * marcos_model: see marcos_model.h. Written from the machine-code summary
 * in notes/marcos.md and the buffer layout in runtime/driver/marcos.h, not
 * from the lowering: it shares only the word layout. The gradient boards'
 * timing is read from the MaRGA HDL (cited below), not taken from the
 * driver.
 */
#include "tests/marcos_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/driver/marcos.h"
#include "base/util.h"

struct bo {
    int64_t at;
    unsigned buf, data;
    size_t seq;
};

struct dac {
    int64_t at;
    int ch;
    int64_t code;
};

static int bo_cmp(const void *a, const void *b)
{
    const struct bo *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int dac_cmp(const void *a, const void *b)
{
    const struct dac *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->ch - y->ch;
}

static void fault(struct mm_result *r, const char *fmt, long long a, long long b)
{
    if (!r->faults++)
        snprintf(r->fault, sizeof r->fault, fmt, a, b);
}

int mm_run(struct mm_result *r, const uint32_t *w, size_t n)
{
    memset(r, 0, sizeof *r);
    struct bo *o = NULL;
    size_t no = 0, co = 0;
    int64_t pend[MB__COUNT];
    for (int b = 0; b < MB__COUNT; b++)
        pend[b] = INT64_MIN;
    int64_t c = 0;
    bool finished = false;
    for (size_t i = 0; i < n && !finished; i++) {
        uint32_t x = w[i];
        if (x & 0x80000000u) {
            unsigned buf = (x >> 24) & 0x7f, delay = (x >> 16) & 0xff;
            if (buf >= MB__COUNT) {
                fault(r, "word %lld writes buffer %lld, which does not exist", (long long)i, buf);
                c++;
                continue;
            }
            if (c < pend[buf])
                fault(r, "buffer %lld written at cycle %lld before its pending value came out",
                      buf, c);
            pend[buf] = c + delay;
            vec_reserve((void **)&o, &co, no + 1, sizeof *o);
            o[no] = (struct bo){ c + delay, buf, x & 0xffffu, no };
            no++;
            c++;
            continue;
        }
        switch (x >> 24) {
        case MI_NOP:
        case MI_TRIG:
        case MI_TRIG_FOREVER:
            c++;
            break;
        case MI_WAIT:
            c += (int64_t)(x & 0xffffffu) + 3;
            break;
        case MI_FINISH:
            finished = true;
            break;
        default:
            fault(r, "word %lld: unknown instruction %lld", (long long)i, (long long)(x >> 24));
            c++;
        }
    }
    r->cycles = c;
    if (!finished)
        fault(r, "the program has no FINISH (%lld words, %lld cycles)", (long long)n, c);
    if (no)
        qsort(o, no, sizeof *o, bo_cmp);
    unsigned st[MB__COUNT] = { 0 };
    int64_t ocra_pending[4] = { 0 };
    int64_t last_xfer = INT64_MIN / 2;
    struct dac *d = NULL;
    size_t nd = 0, cd = 0;
    for (size_t i = 0; i < no;) {
        size_t j = i;
        int64_t t = o[i].at;
        int strobes = 0;
        for (; j < no && o[j].at == t; j++) {
            if (j > i && o[j].buf == o[j - 1].buf)
                fault(r, "buffer %lld output twice on cycle %lld", o[j].buf, t);
            st[o[j].buf] = o[j].data;
            strobes += o[j].buf == MB_GRAD_LSB || o[j].buf == MB_GRAD_MSB;
        }
        r->board = (int)(st[MB_GRAD_CTRL] & 3);
        r->spi_div = (int)((st[MB_GRAD_CTRL] >> 2) & 63);
        /* a data write (LSB, MSB or both on one cycle) makes one transfer
           once the core is out of reset and set to transfer on writes */
        bool xfer = (st[MB_GRAD_CTRL] & (MG_CTRL_RESET_N | MG_CTRL_XFER)) ==
                    (MG_CTRL_RESET_N | MG_CTRL_XFER);
        if (strobes && xfer && (r->board == MARCOS_OCRA1 || r->board == MARCOS_FHDO)) {
            uint32_t word = (uint32_t)st[MB_GRAD_MSB] << 16 | st[MB_GRAD_LSB];
            /* the boards' timing from the MaRGA HDL itself (vnegnev/marga
               35c599e), not from the driver's constants, so that a wrong
               constant there shows here; P = spi_div + 1 cycles a bit */
            int64_t P = 1 + (int64_t)r->spi_div;
            if (r->board == MARCOS_OCRA1) {
                /* hdl/ocra1_iface.sv: busy_o falls in IDLE (line 115),
                   24 periods and 5 cycles after the broadcast word (lines
                   77-88, 117-134); any word while busy: hdl/marga.sv
                   line 202 */
                if (t - last_xfer < 24 * P + 5)
                    fault(r, "ocra1 gradient error: a word %lld cycles after the last "
                          "transfer started, at cycle %lld", t - last_xfer, t);
                int ch = (int)((word >> 25) & 3);
                int64_t code = (word >> 2) & 0x3ffff;
                ocra_pending[ch] = code & 0x20000 ? code - 0x40000 : code;
                if (word & (1u << 24)) {
                    last_xfer = t;
                    for (int k = 0; k < 3; k++) {
                        vec_reserve((void **)&d, &cd, nd + 1, sizeof *d);
                        d[nd++] = (struct dac){ t + 24 * P + 4, k, ocra_pending[k] };
                    }
                }
            } else {
                /* hdl/gpa_fhdo_iface.sv: a word is taken only in IDLE
                   (line 95), 25 periods and 2 cycles after the last; busy_o
                   falls a period later (lines 184-185); CS rises and the
                   DAC takes the word 25 periods and 1 cycle after it
                   (lines 141-149, 210-212); a word while busy: marga.sv
                   line 203 */
                bool taken = t - last_xfer >= 25 * P + 2;
                if (t - last_xfer < 26 * P + 2)
                    fault(r, taken ? "gpa-fhdo gradient error: a word %lld cycles after the "
                                     "last, at cycle %lld"
                                   : "gpa-fhdo gradient error: a word %lld cycles after the "
                                     "last, at cycle %lld, dropped",
                          t - last_xfer, t);
                if (taken) {
                    last_xfer = t;
                    int ch = (int)((word >> 16) & 3);
                    vec_reserve((void **)&d, &cd, nd + 1, sizeof *d);
                    d[nd++] = (struct dac){ t + 25 * P + 1, ch, (int64_t)(word & 0xffff) - 0x8000 };
                }
            }
        }
        int64_t tick = t - MARCOS_T0;
        ev_list_set(&r->ch[EV_TX_I], tick, (int16_t)st[MB_TX0_I], UINT32_MAX);
        ev_list_set(&r->ch[EV_TX_Q], tick, (int16_t)st[MB_TX0_Q], UINT32_MAX);
        ev_list_set(&r->ch[EV_LO], tick,
                    (int64_t)((st[MB_LO0_MSB] & 0x7fffu) << 16 | st[MB_LO0_LSB]), UINT32_MAX);
        ev_list_set(&r->ch[EV_RX_RATE], tick, st[MB_RX0_RATE], UINT32_MAX);
        ev_list_set(&r->ch[EV_RX_EN], tick, (st[MB_RX_CTRL] & MR_EN) ? 1 : 0, UINT32_MAX);
        ev_list_set(&r->ch[EV_TX_GATE], tick, (st[MB_GATES] & MG_TX_GATE) ? 1 : 0, UINT32_MAX);
        ev_list_set(&r->ch[EV_TRIG], tick, (st[MB_GATES] & MG_TRIG) ? 1 : 0, UINT32_MAX);
        i = j;
    }
    if (nd)
        qsort(d, nd, sizeof *d, dac_cmp);
    for (size_t i = 0; i < nd; i++)
        if (d[i].ch < 3)
            ev_list_set(&r->ch[EV_GX + d[i].ch], d[i].at - MARCOS_T0, d[i].code, UINT32_MAX);
    free(o);
    free(d);
    return r->faults ? 1 : 0;
}

void mm_free(struct mm_result *r)
{
    for (int c = 0; c < EV__NCHAN; c++)
        free(r->ch[c].v);
    memset(r, 0, sizeof *r);
}
