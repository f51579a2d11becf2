/*
 * events: the driver-neutral event program. The VM's event stream (blocks
 * with RF, gradients, ADC, triggers in int64 ns and SI units) becomes, for
 * one console's capabilities (struct drv_caps), per-channel lists of
 * (tick, value) changes in the console's own integers: TX I/Q codes,
 * gradient DAC codes, LO phase increments, RX decimation and enable, gates.
 * It is what the record driver writes and what any lowering must
 * reproduce exactly (tests/marcos_model.c replays MaRCoS words back into
 * this form).
 *
 * Placement rules (each documented in docs/architecture.md):
 * - a time t (ns) is tick round(t * clock / 1e9): the clock's own grid (a
 *   note, E0952, gives the largest shift of the program);
 * - RF sample i holds amp*mag[i]*exp(i(phase + phase_shape[i])) over its
 *   raster step, as round((2^(tx_bits-1) - 1) * B1 / b1_fs) per I and Q;
 *   the TX gate opens tx_gate_lead_ns before the pulse (not before its
 *   block) and closes at its end;
 * - a trapezoid is held piecewise constant per gradient raster step at the
 *   value of its centre (exact area for corners on the raster); an
 *   arbitrary gradient holds sample i over step i;
 * - an ADC window opens at its start tick with decimation D = the dwell in
 *   ticks (refused unless D is inside the console's range and within 0.1 %
 *   of the dwell; the rounding is reported as a note) and closes after
 *   samples * D ticks;
 * - on a serial gradient board (GPA-FHDO) the k-th axis changed on one
 *   tick is placed k * grad_min_spacing later (reported as a note);
 *   updates of the board closer than grad_min_spacing are refused.
 * Every value that does not fit (an amplitude past full scale, a frequency
 * past the Nyquist limit of the LO) is refused at the event's instruction.
 */
#ifndef LARMOR_EVENTS_H
#define LARMOR_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/driver/driver.h"
#include "vm/program.h"

#define EV_CHAN_LIST(X) X(TX_I, "tx0_i") X(TX_Q, "tx0_q") X(GX, "grad_x") X(GY, "grad_y") \
    X(GZ, "grad_z") X(LO, "lo0_freq") X(RX_RATE, "rx0_rate") X(RX_EN, "rx0_en") \
    X(TX_GATE, "tx_gate") X(TRIG, "trig_out")
enum ev_chan {
#define X(e, s) EV_##e,
    EV_CHAN_LIST(X)
#undef X
    EV__NCHAN
};
extern const char *const ev_chan_names[EV__NCHAN];

struct ev_change {
    int64_t tick;
    int64_t value;
    uint32_t pc;                 /* the instruction of the event (UINT32_MAX: none) */
};

struct ev_list {
    struct ev_change *v;
    size_t n, cap;
};

struct ev_adc {
    int64_t tick;                /* the window opens */
    int64_t t_ns;                /* ADC start in sequence time */
    uint32_t samples, decim;
    int64_t dwell_ns;            /* as programmed */
    double phase;                /* rad, applied to the received samples */
    int32_t labels[VM_LABEL__COUNT];
    uint32_t pc;
};

struct ev_program {
    struct drv_caps caps;
    struct ev_list ch[EV__NCHAN];
    struct ev_adc *adc;
    size_t nadc, adc_cap;
    int64_t end_tick;            /* the program's end */
};

/* Build the event program of p for caps. Refusals and notes go to m;
   returns 0 if every event was placed, -1 otherwise (e is still valid
   and freed by ev_fini). */
int ev_build(struct ev_program *e, const struct lbc_program *p, const struct drv_caps *caps,
             struct drv_msgs *m);
void ev_fini(struct ev_program *e);

/* Append a change to a channel list (the same tick again replaces the
   value; a value equal to the one before is dropped). */
void ev_list_set(struct ev_list *l, int64_t tick, int64_t value, uint32_t pc);
/* The tick of t ns on the clock: round(t * clock / 1e9). */
int64_t ev_tick(const struct drv_caps *c, int64_t t_ns);
/* The time of a tick (ns, rounded). */
int64_t ev_tick_ns(const struct drv_caps *c, int64_t tick);

/* The record format: a header, the ADC windows, then every channel's
   changes, one `CHANNEL TICK VALUE` line each (docs in README). */
void ev_write(const struct ev_program *e, FILE *out);
/* Compare the channel lists of a and b; 0 if equal, else a description of
   the first difference in msg. */
int ev_compare(const struct ev_list a[EV__NCHAN], const struct ev_list b[EV__NCHAN], char *msg,
               size_t msglen);

#endif
