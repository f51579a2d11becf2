/*
 * sysprint: the readable listing of a scanner description (`larmor
 * system`): one `key  value` line per field, grouped by section as in the
 * YAML file, every value with a tidy unit and 12 significant digits, and
 * the derived values (design limits, SAR constants and limits for the
 * operating mode, the PNS limit) marked "(derived)".
 */
#include "runtime/system/system.h"

#include <math.h>
#include <stdio.h>

struct unit_choice {
    double scale;
    const char *unit;
};

/* Display units, largest first (a NULL unit ends a list). */
static const struct unit_choice u_time[] = { { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" },
                                             { 1e-9, "ns" }, { 0, NULL } };
static const struct unit_choice u_field[] = { { 1, "T" }, { 1e-3, "mT" }, { 1e-6, "uT" },
                                              { 0, NULL } };
static const struct unit_choice u_freq[] = { { 1e6, "MHz" }, { 1e3, "kHz" }, { 1, "Hz" },
                                             { 0, NULL } };
static const struct unit_choice u_gamma[] = { { 1e6, "MHz/T" }, { 0, NULL } };
static const struct unit_choice u_grad[] = { { 1e-3, "mT/m" }, { 0, NULL } };
static const struct unit_choice u_slew[] = { { 1, "T/m/s" }, { 0, NULL } };
static const struct unit_choice u_dbdt[] = { { 1, "T/s" }, { 0, NULL } };
static const struct unit_choice u_length[] = { { 1, "m" }, { 0, NULL } };
static const struct unit_choice u_mass[] = { { 1, "kg" }, { 1e-3, "g" }, { 0, NULL } };
static const struct unit_choice u_energy[] = { { 1, "J" }, { 0, NULL } };
static const struct unit_choice u_sark[] = { { 1e12, "W/kg/uT^2" }, { 0, NULL } };

/* An SI value in the first unit it reaches (else the last), or a plain
   number if u is NULL. */
static void fmt(double si, const struct unit_choice *u, char *buf, size_t n)
{
    if (!u || si == 0) {
        snprintf(buf, n, "%.12g", si);
        return;
    }
    size_t i = 0;
    while (u[i + 1].unit && fabs(si) < u[i].scale * (1 - 1e-12))
        i++;
    snprintf(buf, n, "%.12g %s", si / u[i].scale, u[i].unit);
}

static void put(FILE *out, const char *key, double si, const struct unit_choice *u,
                const char *tail)
{
    char b[64];
    fmt(si, u, b, sizeof b);
    fprintf(out, "  %-22s %s%s\n", key, b, tail ? tail : "");
}

static void put_ns(FILE *out, const char *key, int64_t ns)
{
    put(out, key, (double)ns * 1e-9, u_time, NULL);
}

static void put_axes(FILE *out, const char *key, const double v[3],
                     const struct unit_choice *u)
{
    char b[3][64];
    for (int a = 0; a < 3; a++)
        fmt(v[a], u, b[a], sizeof b[a]);
    if (v[0] == v[1] && v[1] == v[2])
        fprintf(out, "  %-22s %s (each axis)\n", key, b[0]);
    else
        fprintf(out, "  %-22s x %s, y %s, z %s\n", key, b[0], b[1], b[2]);
}

static void print_sar(const struct system *s, FILE *out)
{
    static const char *const rk[] = { "whole_body", "head", "partial_body" };
    const char *mode = system_mode_name(s->mode);
    fprintf(out, "sar\n");
    fprintf(out, "  %-22s %s\n", "model", s->sar_model == SAR_MODEL_REFERENCE ?
            "reference_pulse" : "b1rms");
    if (s->sar_model == SAR_MODEL_REFERENCE) {
        put(out, "reference.b1", s->sar_ref_b1, u_field, NULL);
        put_ns(out, "reference.duration", s->sar_ref_dur_ns);
        for (int r = 0; r < SAR__COUNT; r++)
            if (s->sar_region_on[r]) {
                char key[32];
                snprintf(key, sizeof key, "energy.%s", rk[r]);
                put(out, key, s->sar_ref_energy[r], u_energy, NULL);
            }
    } else {
        for (int r = 0; r < SAR__COUNT; r++)
            if (s->sar_region_on[r])
                put(out, rk[r], s->sar_b1rms_coef[r], u_sark, NULL);
    }
    for (int r = 0; r < SAR__COUNT; r++) {
        if (!s->sar_region_on[r])
            continue;
        char key[32];
        snprintf(key, sizeof key, "k.%s", rk[r]);
        put(out, key, s->sar_k[r], u_sark, "  (derived: SAR = k * B1rms^2)");
        snprintf(key, sizeof key, "limit.%s", rk[r]);
        double lim = system_sar_limit(s, (enum sar_region)r);
        fprintf(out, "  %-22s %.4g W/kg  (derived: %s mode, 6 min; %.4g W/kg over 10 s)\n",
                key, lim, mode, 2 * lim);
    }
}

void system_print(const struct system *s, FILE *out)
{
    fprintf(out, "name                     %s\n", s->name);
    if (s->description[0])
        fprintf(out, "description              %s\n", s->description);
    fprintf(out, "file                     %s\n", s->path[0] ? s->path : "(built in)");
    fprintf(out, "hash                     0x%016llx\n", (unsigned long long)s->hash);
    fprintf(out, "field\n");
    put(out, "b0", s->b0, u_field, NULL);
    fprintf(out, "  %-22s %s\n", "nucleus", s->nucleus[0] ? s->nucleus : "(not named)");
    put(out, "gamma", s->gamma, u_gamma, NULL);
    put(out, "larmor_frequency", s->gamma * s->b0, u_freq, "  (derived)");
    fprintf(out, "gradient\n");
    put_axes(out, "max_amplitude", s->max_grad_axis, u_grad);
    put(out, "max_vector", s->max_grad_vector, u_grad, NULL);
    put_axes(out, "max_slew", s->max_slew_axis, u_slew);
    put_ns(out, "raster", s->grad_raster_ns);
    put(out, "system.max_grad", s->max_grad, u_grad, "  (derived: the weakest axis)");
    put(out, "system.max_slew", s->max_slew, u_slew, "  (derived: the weakest axis)");
    fprintf(out, "rf\n");
    put_ns(out, "raster", s->rf_raster_ns);
    put_ns(out, "dead_time", s->rf_dead_ns);
    put_ns(out, "ringdown", s->rf_ringdown_ns);
    put(out, "max_b1", s->max_b1, u_field, NULL);
    put_ns(out, "max_duration", s->max_rf_dur_ns);
    fprintf(out, "adc\n");
    put_ns(out, "raster", s->adc_raster_ns);
    put_ns(out, "dead_time", s->adc_dead_ns);
    fprintf(out, "  %-22s %u\n", "max_samples", (unsigned)s->max_adc_samples);
    put_ns(out, "min_dwell", s->min_dwell_ns);
    put_ns(out, "max_dwell", s->max_dwell_ns);
    char b[64];
    fmt((double)s->block_raster_ns * 1e-9, u_time, b, sizeof b);
    fprintf(out, "block_raster             %s\n", b);
    fprintf(out, "patient\n");
    put(out, "mass", s->patient_mass, u_mass, NULL);
    fprintf(out, "  %-22s %s\n", "mode", s->mode == SYS_MODE_FIRST_LEVEL ? "first_level" :
            "normal");
    if (s->head_mass > 0)
        put(out, "head_mass", s->head_mass, u_mass, NULL);
    if (s->exposed_mass > 0) {
        char tail[64];
        snprintf(tail, sizeof tail, "  (R = %.4g)", s->exposed_mass / s->patient_mass);
        put(out, "exposed_mass", s->exposed_mass, u_mass, tail);
    }
    print_sar(s, out);
    fprintf(out, "pns\n");
    fprintf(out, "  %-22s iec2022\n", "model");
    put(out, "rheobase", s->pns_smin, u_slew, NULL);
    put(out, "chronaxie", s->pns_chronaxie, u_time, NULL);
    put_axes(out, "weights", s->pns_weight, NULL);
    put(out, "dbdt_rheobase", s->dbdt_rheobase, u_dbdt, NULL);
    put(out, "dbdt_chronaxie", s->dbdt_chronaxie, u_time, NULL);
    put(out, "dbdt_radius", s->dbdt_radius, u_length, NULL);
    fprintf(out, "  %-22s %.4g %% of the stimulation threshold  (derived: %s mode)\n",
            "limit", 100 * system_pns_limit(s), system_mode_name(s->mode));
    fprintf(out, "acoustic\n");
    fprintf(out, "  %-22s", "forbidden_bands");
    if (!s->nbands)
        fprintf(out, " none");
    for (int i = 0; i < s->nbands; i++) {
        char lo[64], hi[64];
        fmt(s->band_lo[i], u_freq, lo, sizeof lo);
        fmt(s->band_hi[i], u_freq, hi, sizeof hi);
        fprintf(out, "%s %s to %s", i ? "," : "", lo, hi);
    }
    fprintf(out, "\n");
    if (s->console == SYS_CONSOLE_MARCOS) {
        fprintf(out, "console\n");
        fprintf(out, "  %-22s marcos\n", "type");
        fprintf(out, "  %-22s %s\n", "gradient_board",
                s->grad_board == SYS_BOARD_GPA_FHDO ? "gpa-fhdo" : "ocra1");
        fprintf(out, "  %-22s %u\n", "spi_div", (unsigned)s->spi_div);
        if (s->grad_full_scale[0] > 0)
            put_axes(out, "grad_full_scale", s->grad_full_scale, u_grad);
        else
            put_axes(out, "grad_full_scale", s->max_grad_axis, u_grad);
        put(out, "rf_full_scale", s->rf_full_scale > 0 ? s->rf_full_scale : s->max_b1, u_field,
            s->rf_full_scale > 0 ? NULL : "  (derived: max_b1)");
        fprintf(out, "  %-22s %.10g\n", "rx_full_scale", s->rx_full_scale);
    }
}
