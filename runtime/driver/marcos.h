/*
 * marcos: the MaRCoS console (notes/marcos.md; the public repositories
 * vnegnev/marcos_server, marcos_client, marga). This header holds the
 * machine code shared by the lowering (marcos_lower.c), the driver's
 * client (marcos.c) and the instruction-level model and emulator in
 * tests/.
 *
 * Machine code: one 32-bit word is issued per cycle of the 122.88 MHz clock.
 *   type A: (instr << 24) | payload24 - NOP 0, FINISH 1, WAIT 2 (the next
 *           word issues n + 3 cycles after the WAIT), TRIG 3, TRIG_FOREVER 4;
 *   type B: 0x80000000 | (buffer << 24) | (delay << 16) | data16 - the
 *           buffer's output takes data `delay` cycles after the word issues.
 * Buffers and their bits (marcos_client: marcompile.py's col2buf, the
 * bin_config of grad_board.py; the newer marga programs its CIC decimator
 * through a sequence of rate words, which this driver does not: it writes
 * the decimation, as notes/marcos.md describes):
 *   0 gradient control: board (1 OCRA1, 2 GPA-FHDO) | spi_div << 2 |
 *     1 << 8 (the interface core out of reset) | 1 << 9 (transfers on data
 *     writes: an MSB and LSB written on one cycle make one transfer);
 *   1/2 gradient data LSB/MSB of one 32-bit serialiser word:
 *     OCRA1    (channel << 25) | (broadcast << 24) | 1 << 20 | code18 << 2
 *              (an AD5781 DAC-register write; broadcast updates all DACs);
 *     GPA-FHDO (channel << 25) | 0x80000 | (channel << 16) | (code16 + 0x8000)
 *              (offset binary; each write updates its channel);
 *   3 rx0 decimation; 5/6 tx0 I/Q (two's complement 16 bit);
 *   9/10 LO0 phase increment LSB/MSB (bit 15 of the MSB resets the phase;
 *        Larmor sets it for one cycle at every change);
 *   15 gates: bit 0 tx_gate, bit 1 rx_gate, bit 2 trig_out, 8..15 LEDs;
 *   16 rx control: bits 0-1 rx0's LO (0: LO0), 4 rx0_rate_valid,
 *      6 rx0_rst_n, 8 rx0_en.
 * Timing: the sequence's time 0 is cycle MARCOS_T0 of the program (the
 * cycles before it set the board up and give the gradient latency room).
 * A gradient DAC changes `latency` cycles after the LSB write that strobes
 * it (OCRA1: after the broadcast write); the board needs
 * 24 * (1 + spi_div) + 2 cycles between transfers.
 */
#ifndef LARMOR_MARCOS_H
#define LARMOR_MARCOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/driver/driver.h"
#include "runtime/driver/events.h"

#define MARCOS_CLOCK_HZ 122880000
#define MARCOS_PORT 11111
#define MARCOS_VERSION ((1u << 16) | (0u << 8) | 5u)   /* client speaks 1.0.5 */
#define MARCOS_T0 2048           /* cycle of sequence time 0 */
#define MARCOS_WAIT_MAX 0xffffffu
#define MARCOS_MAX_REQUEST (32u << 20)                  /* bytes, server limit */

enum marcos_instr { MI_NOP = 0, MI_FINISH = 1, MI_WAIT = 2, MI_TRIG = 3, MI_TRIG_FOREVER = 4 };

enum marcos_buf {
    MB_GRAD_CTRL = 0, MB_GRAD_LSB = 1, MB_GRAD_MSB = 2, MB_RX0_RATE = 3, MB_RX1_RATE = 4,
    MB_TX0_I = 5, MB_TX0_Q = 6, MB_TX1_I = 7, MB_TX1_Q = 8,
    MB_LO0_LSB = 9, MB_LO0_MSB = 10, MB_GATES = 15, MB_RX_CTRL = 16, MB__COUNT = 17
};

#define MG_TX_GATE 0x0001u
#define MG_RX_GATE 0x0002u
#define MG_TRIG 0x0004u
#define MR_RATE_VALID 0x0010u
#define MR_RST_N 0x0040u
#define MR_EN 0x0100u
#define MG_CTRL_RESET_N 0x0100u   /* buffer 0 */
#define MG_CTRL_XFER 0x0200u
#define MLO_RESET 0x8000u

enum marcos_board { MARCOS_OCRA1 = 1, MARCOS_FHDO = 2 };

static inline uint32_t marcos_word_a(enum marcos_instr i, uint32_t payload)
{
    return ((uint32_t)i << 24) | (payload & 0xffffffu);
}

static inline uint32_t marcos_word_b(unsigned buf, unsigned delay, unsigned data)
{
    return 0x80000000u | ((uint32_t)(buf & 0x7f) << 24) | ((uint32_t)(delay & 0xff) << 16) |
           (data & 0xffffu);
}

/* Cycles from a transfer's word to the next word the board takes without
   an error, and from the word to the DAC's change (marcos_lower.c cites
   the HDL: OCRA1 24(N+1)+5 and 24(N+1)+4, GPA-FHDO 26(N+1)+2 and
   25(N+1)+1, N = spi_div). */
int64_t marcos_grad_spacing(enum marcos_board b, int spi_div);
int64_t marcos_grad_latency(enum marcos_board b, int spi_div);

/* The console set-up: the system's console section, then the URI's
   options (marcos://HOST:PORT?board=...). */
struct marcos_cfg {
    char host[256];
    int port;
    enum marcos_board board;
    int spi_div;                 /* 0..63 */
    double grad_fs[3];           /* T/m at full scale; 0: the system's max_amplitude */
    double rf_fs;                /* T at full scale; 0: the system's max_b1 */
    double rx_fs;                /* RX code for amplitude 1 (CIC gain corrected) */
    double timeout_s;            /* per socket operation beyond the run's length */
};

/* Parse a marcos:// URI into c. The defaults come from sys's console
   section (NULL or none: port 11111, ocra1, spi_div 10, the system's
   limits as full scales, rx_fs 2^17), timeout 5 s; the URI's options
   override them. 0, or -1 with a message. */
int marcos_parse_uri(struct marcos_cfg *c, const char *uri, const struct system *sys, char *err,
                     size_t errlen);
/* 0 if sys describes a MaRCoS console, else -1 with a message. */
int marcos_check_system(const struct system *sys, char *err, size_t errlen);
/* The capabilities of the configured console for system sys. */
void marcos_caps(struct drv_caps *caps, const struct marcos_cfg *c, const struct system *sys);

/* The lowered program: machine words plus what the client needs. */
struct marcos_prog {
    uint32_t *w;
    size_t n, cap;
    int64_t cycles;              /* the program's length in cycles */
};

/* Lower the event program to words. Refusals (a burst the buffers cannot
   place, a run past the console's limit) go to m with the instruction of
   the change. Returns 0 or -1. */
int marcos_lower(struct marcos_prog *out, const struct ev_program *e, const struct marcos_cfg *c,
                 struct drv_msgs *m);
void marcos_prog_fini(struct marcos_prog *mp);

/* Append the filler for g idle cycles (NOPs, WAITs split at the 24-bit
   limit). Exposed for the tests. */
void marcos_fill(struct marcos_prog *mp, int64_t g);

#endif
