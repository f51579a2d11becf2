/*
 * system: the description of one scanner (field, gradients, rasters, dead
 * times, RF and ADC limits, the SAR model and the patient, the PNS model,
 * forbidden acoustic bands). This module holds the in-memory form, the
 * built-in default (identical to stdlib/systems/generic_3t.yaml, a test
 * keeps them equal) and the YAML loader (runtime/system/sysconf.c), the only
 * module that talks to libyaml.
 */
#ifndef LARMOR_SYSTEM_H
#define LARMOR_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"

enum sys_mode { SYS_MODE_NORMAL, SYS_MODE_FIRST_LEVEL };

/* How RF energy becomes SAR. Both reduce to SAR = K · ∫|B1|² dt / T_window
   with one constant K (W/kg/T²) per region; the report names the model and
   its original constants. */
enum sar_model {
    SAR_MODEL_B1RMS,          /* SAR = k · B1rms², k given in W/kg per uT² */
    SAR_MODEL_REFERENCE,      /* a reference pulse (B1_ref, tau_ref) deposits E_ref joules */
};

enum sar_region { SAR_WHOLE_BODY, SAR_HEAD, SAR_PARTIAL_BODY, SAR__COUNT };

#define SYS_MAX_BANDS 16

/* The console that plays the scanner's sequences (larmor run). */
enum sys_console { SYS_CONSOLE_NONE, SYS_CONSOLE_MARCOS };
enum sys_grad_board { SYS_BOARD_OCRA1 = 1, SYS_BOARD_GPA_FHDO = 2 };

struct system {
    char name[64];
    char description[128];    /* one line from the file's description: key; "" if none */
    char path[512];           /* the file it was read from, as diagnostics show it (a
                                 shipped system: stdlib/systems/NAME.yaml); "" if built in */
    uint64_t hash;            /* FNV-1a of the source text (or of the built-in values) */

    double b0;                /* T */
    char nucleus[16];         /* "1H" */
    double gamma;             /* Hz/T (gamma-bar) */

    /* gradients */
    double max_grad_axis[3];  /* T/m, x y z */
    double max_grad_vector;   /* T/m, |G| at any instant */
    double max_slew_axis[3];  /* T/m/s */
    double max_grad, max_slew;/* design limits the language sees (system.max_grad):
                                 the smallest per-axis values */
    int64_t grad_raster_ns, rf_raster_ns, adc_raster_ns, block_raster_ns;

    /* RF and ADC */
    int64_t rf_dead_ns, rf_ringdown_ns, adc_dead_ns;
    double max_b1;            /* T, peak */
    int64_t max_rf_dur_ns;    /* longest single RF pulse */
    uint32_t max_adc_samples; /* per ADC event */
    int64_t min_dwell_ns, max_dwell_ns;

    /* SAR */
    enum sar_model sar_model;
    bool sar_region_on[SAR__COUNT];   /* whole body always on; head, partial body if configured */
    double sar_b1rms_coef[SAR__COUNT];/* B1RMS model: W/kg per T² */
    double sar_ref_b1;        /* REFERENCE model: T */
    int64_t sar_ref_dur_ns;   /* REFERENCE model: rectangular reference pulse length */
    double sar_ref_energy[SAR__COUNT]; /* REFERENCE model: J absorbed per region */
    double sar_k[SAR__COUNT]; /* derived: W/kg/T², SAR = K · ∫B1² dt / T */
    double patient_mass;      /* kg */
    double head_mass;         /* kg (REFERENCE model: divides the head energy) */
    double exposed_mass;      /* kg, partial body; R = exposed / patient mass */
    enum sys_mode mode;

    /* PNS: IEC 60601-2-33:2022 nerve-response model */
    double pns_smin;          /* T/m/s: the rheobase expressed as a slew rate */
    double pns_chronaxie;     /* s */
    double pns_weight[3];     /* per-axis weights applied before the root-sum-square */
    /* plain dB/dt: hyperbolic strength-duration limit at an effective radius */
    double dbdt_rheobase;     /* T/s */
    double dbdt_chronaxie;    /* s */
    double dbdt_radius;       /* m: dB/dt = slew · radius */

    /* acoustic: forbidden bands of the readout gradient's fundamental */
    int nbands;
    double band_lo[SYS_MAX_BANDS], band_hi[SYS_MAX_BANDS];  /* Hz */

    /* console (optional section): what a hardware driver needs */
    enum sys_console console;   /* NONE: no console section */
    enum sys_grad_board grad_board;
    uint32_t spi_div;           /* gradient board SPI clock divider */
    double grad_full_scale[3];  /* T/m at gradient DAC full scale (0: max_amplitude) */
    double rf_full_scale;       /* T at TX full scale (0: max_b1) */
    double rx_full_scale;       /* RX code of amplitude 1, CIC gain included */
};

/* Fill s with the built-in generic 3 T system (the values of
   stdlib/systems/generic_3t.yaml; the hash is that of the values). */
void system_default(struct system *s);

/* Recompute the derived fields (max_grad, max_slew, sar_k) from the
   configured ones. Called by the loader and by system_default. */
void system_derive(struct system *s);

/* IEC 60601-2-33 limits for the configured operating mode, W/kg, averaged
   over 6 minutes (the 10 s limit is twice these). Partial body follows
   10 − 8R (normal) or 10 − 6R (first level). */
double system_sar_limit(const struct system *s, enum sar_region r);
/* The PNS limit as a fraction of the threshold: 0.8 normal, 1.0 first level. */
double system_pns_limit(const struct system *s);
const char *system_mode_name(enum sys_mode m);
const char *system_region_name(enum sar_region r);
const char *system_sar_model_name(enum sar_model m);

/* Load a system file. The text is registered with d, so errors point at
   file:line:col with the offending YAML line. Returns 0, or 1 with errors
   reported. */
int system_load(const char *path, struct system *s, struct diag_ctx *d);
/* The same from a text in memory, registered with d under path (tests,
   fuzzing). */
int system_load_text(const char *path, const char *text, size_t len, struct system *s,
                     struct diag_ctx *d);

/* Resolve --system: NAME (a file stdlib_dir/systems/NAME.yaml) or a PATH
   (anything containing '/' or ending in .yaml/.yml). NULL arg means the
   default, generic_3t. Returns 0, or 1 with errors reported (an unknown
   name lists the shipped systems). */
int system_resolve(const char *arg, const char *stdlib_dir, struct system *s,
                   struct diag_ctx *d);

/* The names of the shipped systems (stdlib_dir/systems/NAME.yaml, sorted;
   NULL stdlib_dir: paths_stdlib()). The caller frees each name
   and the array. */
char **system_names(const char *stdlib_dir, size_t *n);

/* Print s readably, one `key  value` line per field grouped by section,
   with units, and the derived values (SAR constants and limits for the
   mode, the PNS limit) marked as such. */
void system_print(const struct system *s, FILE *out);

#endif
