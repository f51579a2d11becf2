/*
 * system: the built-in default scanner description. The numbers are those
 * of a generic clinical 3 T system as used by Pulseq's default Opts and
 * vendor-neutral teaching material: 40 mT/m, 150 T/m/s (pypulseq
 * Opts defaults are 40 mT/m and 170 T/m/s), Siemens-style rasters
 * (10 us gradient, 1 us RF, 100 ns ADC, 10 us block), RF dead time 100 us,
 * RF ringdown 30 us, ADC dead time 10 us (pypulseq write_* examples).
 */
#include "runtime/system.h"
#include "runtime/util.h"

#include <string.h>

void system_default(struct system *s)
{
    memset(s, 0, sizeof *s);
    strcpy(s->name, "generic_3t");
    s->b0 = 3.0;
    s->gamma = 42.577478518e6;
    s->max_grad = 40e-3;
    s->max_slew = 150;
    s->grad_raster_ns = 10000;
    s->rf_raster_ns = 1000;
    s->adc_raster_ns = 100;
    s->block_raster_ns = 10000;
    s->rf_dead_ns = 100000;
    s->rf_ringdown_ns = 30000;
    s->adc_dead_ns = 10000;
    s->max_b1 = 20e-6;
    s->hash = fnv1a64(FNV1A64_INIT, s, sizeof *s);
}
