/*
 * system: the description of one scanner (field, gradients, rasters, dead
 * times). This module holds the in-memory form and the built-in default
 * (a generic 3 T system); the YAML loader fills the same structure.
 */
#ifndef LARMOR_SYSTEM_H
#define LARMOR_SYSTEM_H

#include <stdint.h>

struct system {
    char name[64];
    uint64_t hash;            /* FNV-1a of the source text (or of the built-in values) */
    double b0;                /* T */
    double gamma;             /* Hz/T (gamma-bar) */
    double max_grad;          /* T/m per axis */
    double max_slew;          /* T/m/s per axis */
    int64_t grad_raster_ns, rf_raster_ns, adc_raster_ns, block_raster_ns;
    int64_t rf_dead_ns, rf_ringdown_ns, adc_dead_ns;
    double max_b1;            /* T */
};

/* Fill s with the built-in generic 3 T system. */
void system_default(struct system *s);

#endif
