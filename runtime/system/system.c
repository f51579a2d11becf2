/*
 * system: the built-in default scanner and the IEC 60601-2-33 limit tables.
 * The built-in values are those of stdlib/systems/generic_3t.yaml, where
 * each number's source is given; tests/test_system.c keeps the two equal.
 */
#include "runtime/system/system.h"
#include "base/util.h"

#include <math.h>
#include <string.h>

void system_derive(struct system *s)
{
    s->max_grad = s->max_grad_axis[0];
    s->max_slew = s->max_slew_axis[0];
    for (int a = 1; a < 3; a++) {
        if (s->max_grad_axis[a] < s->max_grad)
            s->max_grad = s->max_grad_axis[a];
        if (s->max_slew_axis[a] < s->max_slew)
            s->max_slew = s->max_slew_axis[a];
    }
    for (int r = 0; r < SAR__COUNT; r++) {
        s->sar_k[r] = 0;
        if (!s->sar_region_on[r])
            continue;
        if (s->sar_model == SAR_MODEL_B1RMS) {
            s->sar_k[r] = s->sar_b1rms_coef[r];
        } else {
            double m = r == SAR_WHOLE_BODY ? s->patient_mass :
                       r == SAR_HEAD ? s->head_mass : s->exposed_mass;
            double ref = s->sar_ref_b1 * s->sar_ref_b1 * (double)s->sar_ref_dur_ns * 1e-9;
            if (m > 0 && ref > 0)
                s->sar_k[r] = s->sar_ref_energy[r] / (ref * m);
        }
    }
}

void system_default(struct system *s)
{
    memset(s, 0, sizeof *s);
    strcpy(s->name, "generic_3t");
    s->b0 = 3.0;
    strcpy(s->nucleus, "1H");
    s->gamma = 42.577478518e6;
    for (int a = 0; a < 3; a++) {
        s->max_grad_axis[a] = 40e-3;
        s->max_slew_axis[a] = 150;
        s->pns_weight[a] = 1.0;
    }
    s->max_grad_vector = sqrt(3.0) * 40e-3;  /* no limit beyond the three axes */
    s->grad_raster_ns = 10000;
    s->rf_raster_ns = 1000;
    s->adc_raster_ns = 100;
    s->block_raster_ns = 10000;
    s->rf_dead_ns = 100000;
    s->rf_ringdown_ns = 30000;
    s->adc_dead_ns = 10000;
    s->max_b1 = 20e-6;
    s->max_rf_dur_ns = 20000000;
    s->max_adc_samples = 8192;
    s->min_dwell_ns = 100;
    s->max_dwell_ns = 1000000;
    s->sar_model = SAR_MODEL_B1RMS;
    s->sar_region_on[SAR_WHOLE_BODY] = true;
    s->sar_region_on[SAR_HEAD] = true;
    s->sar_b1rms_coef[SAR_WHOLE_BODY] = 0.24e12;   /* 0.24 W/kg per uT² */
    s->sar_b1rms_coef[SAR_HEAD] = 0.35e12;
    s->patient_mass = 70;
    s->mode = SYS_MODE_NORMAL;
    s->pns_smin = 100;           /* dB/dt rheobase 20 T/s at an effective radius 0.2 m */
    s->pns_chronaxie = 360e-6;
    s->dbdt_rheobase = 20;
    s->dbdt_chronaxie = 360e-6;
    s->dbdt_radius = 0.2;
    s->nbands = 2;
    s->band_lo[0] = 550;
    s->band_hi[0] = 650;
    s->band_lo[1] = 1100;
    s->band_hi[1] = 1300;
    system_derive(s);
    s->hash = fnv1a64(FNV1A64_INIT, s, sizeof *s);
}

double system_sar_limit(const struct system *s, enum sar_region r)
{
    bool first = s->mode == SYS_MODE_FIRST_LEVEL;
    switch (r) {
    case SAR_WHOLE_BODY:
        return first ? 4.0 : 2.0;
    case SAR_HEAD:
        return 3.2;
    case SAR_PARTIAL_BODY: {
        double R = s->patient_mass > 0 ? s->exposed_mass / s->patient_mass : 1;
        double v = first ? 10 - 6 * R : 10 - 8 * R;
        double lo = first ? 4 : 2;
        return v < lo ? lo : v > 10 ? 10 : v;
    }
    default:
        return 0;
    }
}

double system_pns_limit(const struct system *s)
{
    return s->mode == SYS_MODE_FIRST_LEVEL ? 1.0 : 0.8;
}

const char *system_mode_name(enum sys_mode m)
{
    return m == SYS_MODE_FIRST_LEVEL ? "first level" : "normal";
}

const char *system_region_name(enum sar_region r)
{
    switch (r) {
    case SAR_WHOLE_BODY: return "whole body";
    case SAR_HEAD: return "head";
    case SAR_PARTIAL_BODY: return "partial body";
    default: return "?";
    }
}

const char *system_sar_model_name(enum sar_model m)
{
    return m == SAR_MODEL_REFERENCE ? "reference-pulse" : "b1rms";
}
