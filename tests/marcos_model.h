/*
 * marcos_model: an instruction-level model of the MaRCoS sequencer (marga)
 * for the tests and the emulator: one word per cycle, WAIT n lasting n + 3
 * cycles, each type-B word's data reaching its buffer's output `delay`
 * cycles after it issues, the gradient serialiser making one transfer per
 * cycle on which a data buffer (LSB, MSB or both) is written and the DACs
 * changing `latency` cycles later (OCRA1: all at a broadcast write;
 * GPA-FHDO: each write). It replays words into the
 * per-cycle output changes of the event program's channels (events.h),
 * relative to MARCOS_T0, and reports what real hardware would lose: a
 * buffer written again before its pending value came out, gradient
 * transfers closer than the board allows, a program without FINISH.
 */
#ifndef LARMOR_MARCOS_MODEL_H
#define LARMOR_MARCOS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/driver/events.h"

struct mm_result {
    struct ev_list ch[EV__NCHAN];
    int64_t cycles;              /* cycle of FINISH */
    int faults;                  /* lost writes, transfers too close, no FINISH */
    char fault[256];             /* the first */
    int board, spi_div;          /* from the gradient control word */
};

/* Replay n words. 0 if the program ran without faults. */
int mm_run(struct mm_result *r, const uint32_t *w, size_t n);
void mm_free(struct mm_result *r);

#endif
