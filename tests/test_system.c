/*
 * test_system: CUnit suite "system" for the scanner description
 * (runtime/system/system.c, runtime/system/sysconf.c): stdlib/systems/generic_3t.yaml
 * holds exactly the built-in default, every shipped file loads, the SAR
 * constants derived from a reference pulse equal the hand calculation, the
 * IEC limit tables, exact decimal scaling of units, the error code of each
 * kind of mistake, name resolution, and a loader that survives every
 * prefix and many single-byte corruptions of a good file. The stdlib is
 * $top_srcdir/stdlib when top_srcdir is set, else the source tree's.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "runtime/system/system.h"
#include "base/util.h"
#include "tests/testutil.h"

int register_system_tests(void);

static char *sy_stdlib(void)
{
    const char *t = getenv("top_srcdir");
    return t && *t ? xasprintf("%s/stdlib", t) : xstrdup(LARMOR_SRC_STDLIB_DIR);
}

/* Read stdlib/systems/NAME.yaml; NULL (and a failed assertion) if absent. */
static char *sy_read(const char *name, size_t *len)
{
    char *std = sy_stdlib();
    char *path = xasprintf("%s/systems/%s.yaml", std, name);
    char *text = read_file(path, len);
    CU_ASSERT_PTR_NOT_NULL(text);
    if (!text)
        fprintf(stderr, "\ncannot read %s\n", path);
    free(path);
    free(std);
    return text;
}

/* Load a text; returns the loader's result. The first error's code goes to
   *code (0 if none). */
static int sy_load(const char *text, struct system *s, int *code)
{
    struct diag_ctx d;
    diag_init(&d);
    int rc = system_load_text("test.yaml", text, strlen(text), s, &d);
    if (code)
        *code = d.ndiags ? d.diags[0]->code : 0;
    diag_fini(&d);
    return rc;
}

static int sy_load_name(const char *name, struct system *s)
{
    struct diag_ctx d;
    diag_init(&d);
    char *std = sy_stdlib();
    int rc = system_resolve(name, std, s, &d);
    if (rc) {
        fprintf(stderr, "\n%s does not load:\n", name);
        diag_print_all(&d, stderr, false);
    }
    free(std);
    diag_fini(&d);
    return rc;
}

#define EQ_REL(a, b) CU_ASSERT_DOUBLE_EQUAL((a), (b), fabs(b) * 1e-12)

static void test_generic_3t_is_default(void)
{
    struct system f, b;
    system_default(&b);
    CU_ASSERT_EQUAL_FATAL(sy_load_name("generic_3t", &f), 0);
    CU_ASSERT_STRING_EQUAL(f.name, "generic_3t");
    CU_ASSERT_STRING_EQUAL(f.path, "stdlib/systems/generic_3t.yaml");
    EQ_REL(f.b0, b.b0);
    CU_ASSERT_STRING_EQUAL(f.nucleus, b.nucleus);
    EQ_REL(f.gamma, b.gamma);
    for (int a = 0; a < 3; a++) {
        EQ_REL(f.max_grad_axis[a], b.max_grad_axis[a]);
        EQ_REL(f.max_slew_axis[a], b.max_slew_axis[a]);
        EQ_REL(f.pns_weight[a], b.pns_weight[a]);
    }
    EQ_REL(f.max_grad_vector, b.max_grad_vector);
    EQ_REL(f.max_grad, b.max_grad);
    EQ_REL(f.max_slew, b.max_slew);
    CU_ASSERT_EQUAL(f.grad_raster_ns, b.grad_raster_ns);
    CU_ASSERT_EQUAL(f.rf_raster_ns, b.rf_raster_ns);
    CU_ASSERT_EQUAL(f.adc_raster_ns, b.adc_raster_ns);
    CU_ASSERT_EQUAL(f.block_raster_ns, b.block_raster_ns);
    CU_ASSERT_EQUAL(f.rf_dead_ns, b.rf_dead_ns);
    CU_ASSERT_EQUAL(f.rf_ringdown_ns, b.rf_ringdown_ns);
    CU_ASSERT_EQUAL(f.adc_dead_ns, b.adc_dead_ns);
    EQ_REL(f.max_b1, b.max_b1);
    CU_ASSERT_EQUAL(f.max_rf_dur_ns, b.max_rf_dur_ns);
    CU_ASSERT_EQUAL(f.max_adc_samples, b.max_adc_samples);
    CU_ASSERT_EQUAL(f.min_dwell_ns, b.min_dwell_ns);
    CU_ASSERT_EQUAL(f.max_dwell_ns, b.max_dwell_ns);
    CU_ASSERT_EQUAL(f.sar_model, b.sar_model);
    for (int r = 0; r < SAR__COUNT; r++) {
        CU_ASSERT_EQUAL(f.sar_region_on[r], b.sar_region_on[r]);
        EQ_REL(f.sar_b1rms_coef[r], b.sar_b1rms_coef[r]);
        EQ_REL(f.sar_ref_energy[r], b.sar_ref_energy[r]);
        EQ_REL(f.sar_k[r], b.sar_k[r]);
    }
    EQ_REL(f.sar_ref_b1, b.sar_ref_b1);
    CU_ASSERT_EQUAL(f.sar_ref_dur_ns, b.sar_ref_dur_ns);
    EQ_REL(f.patient_mass, b.patient_mass);
    EQ_REL(f.head_mass, b.head_mass);
    EQ_REL(f.exposed_mass, b.exposed_mass);
    CU_ASSERT_EQUAL(f.mode, b.mode);
    EQ_REL(f.pns_smin, b.pns_smin);
    EQ_REL(f.pns_chronaxie, b.pns_chronaxie);
    EQ_REL(f.dbdt_rheobase, b.dbdt_rheobase);
    EQ_REL(f.dbdt_chronaxie, b.dbdt_chronaxie);
    EQ_REL(f.dbdt_radius, b.dbdt_radius);
    CU_ASSERT_EQUAL_FATAL(f.nbands, b.nbands);
    for (int i = 0; i < f.nbands; i++) {
        EQ_REL(f.band_lo[i], b.band_lo[i]);
        EQ_REL(f.band_hi[i], b.band_hi[i]);
    }
    /* and bit for bit, so a field added later cannot be forgotten here:
       everything but the identity of the source */
    memset(f.name, 0, sizeof f.name);
    memset(b.name, 0, sizeof b.name);
    memset(f.description, 0, sizeof f.description);
    memset(b.description, 0, sizeof b.description);
    memset(f.path, 0, sizeof f.path);
    memset(b.path, 0, sizeof b.path);
    f.hash = b.hash = 0;
    CU_ASSERT_EQUAL(memcmp(&f, &b, sizeof f), 0);
}

static void test_hash_is_of_text(void)
{
    size_t len;
    char *text = sy_read("generic_3t", &len);
    if (!text)
        return;
    struct system s;
    CU_ASSERT_EQUAL(sy_load(text, &s, NULL), 0);
    CU_ASSERT_EQUAL(s.hash, fnv1a64(FNV1A64_INIT, text, len));
    CU_ASSERT_STRING_EQUAL(s.path, "test.yaml");
    free(text);
}

static void test_shipped_systems_load(void)
{
    char *std = sy_stdlib();
    size_t n;
    char **names = system_names(std, &n);
    CU_ASSERT(n >= 3);
    for (size_t i = 0; i < n; i++) {
        struct system s;
        CU_ASSERT_EQUAL(sy_load_name(names[i], &s), 0);
        CU_ASSERT_STRING_EQUAL(s.name, names[i]);
        CU_ASSERT(s.description[0] != 0);
        free(names[i]);
    }
    free(names);
    free(std);
}

/* K = E / (B1_ref² · τ_ref · m), by hand, for the 1.5 T reference model. */
static void test_reference_pulse_k(void)
{
    struct system s;
    CU_ASSERT_EQUAL_FATAL(sy_load_name("generic_1_5t", &s), 0);
    CU_ASSERT_EQUAL(s.sar_model, SAR_MODEL_REFERENCE);
    double b1 = 11.74e-6, tau = 1e-3;
    EQ_REL(s.sar_ref_b1, b1);
    CU_ASSERT_EQUAL(s.sar_ref_dur_ns, 1000000);
    double k_wb = 0.58 / (b1 * b1 * tau * 70);
    double k_head = 0.062 / (b1 * b1 * tau * 5);
    EQ_REL(s.sar_k[SAR_WHOLE_BODY], k_wb);
    EQ_REL(s.sar_k[SAR_HEAD], k_head);
    CU_ASSERT_FALSE(s.sar_region_on[SAR_PARTIAL_BODY]);
    CU_ASSERT_EQUAL(s.sar_k[SAR_PARTIAL_BODY], 0);
    /* consistent with the b1rms constants the file was derived from */
    CU_ASSERT_DOUBLE_EQUAL(s.sar_k[SAR_WHOLE_BODY] * 1e-12, 0.06, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(s.sar_k[SAR_HEAD] * 1e-12, 0.09, 0.001);
}

static void test_sar_limits(void)
{
    struct system s;
    system_default(&s);
    CU_ASSERT_EQUAL(system_sar_limit(&s, SAR_WHOLE_BODY), 2.0);
    CU_ASSERT_EQUAL(system_sar_limit(&s, SAR_HEAD), 3.2);
    CU_ASSERT_DOUBLE_EQUAL(system_pns_limit(&s), 0.8, 1e-15);
    s.patient_mass = 70;
    static const struct { double exposed, normal, first; } pb[] = {
        { 0, 10, 10 },           /* R = 0 */
        { 7, 9.2, 9.4 },         /* R = 0.1 */
        { 35, 6, 7 },            /* R = 0.5: 10 - 8R, 10 - 6R */
        { 63, 2.8, 4.6 },        /* R = 0.9 */
        { 70, 2, 4 },            /* R = 1: at the floors */
        { 84, 2, 4 },            /* R = 1.2: clamped to the floors */
    };
    for (size_t i = 0; i < ARRAY_LEN(pb); i++) {
        s.exposed_mass = pb[i].exposed;
        s.mode = SYS_MODE_NORMAL;
        CU_ASSERT_DOUBLE_EQUAL(system_sar_limit(&s, SAR_PARTIAL_BODY), pb[i].normal, 1e-12);
        s.mode = SYS_MODE_FIRST_LEVEL;
        CU_ASSERT_DOUBLE_EQUAL(system_sar_limit(&s, SAR_PARTIAL_BODY), pb[i].first, 1e-12);
    }
    CU_ASSERT_EQUAL(system_sar_limit(&s, SAR_WHOLE_BODY), 4.0);
    CU_ASSERT_EQUAL(system_sar_limit(&s, SAR_HEAD), 3.2);
    CU_ASSERT_DOUBLE_EQUAL(system_pns_limit(&s), 1.0, 1e-15);
}

/* A small valid file; tests replace one line of it. */
static const char base_yaml[] =
    "name: t\n"
    "b0: 3 T\n"
    "gradient:\n"
    "  max_amplitude: 40 mT/m\n"
    "  max_slew: 150 T/m/s\n"
    "  raster: 10 us\n"
    "rf: {raster: 1 us, dead_time: 100 us, ringdown: 30 us, max_b1: 20 uT, max_duration: 20 ms}\n"
    "adc: {raster: 100 ns, dead_time: 10 us, max_samples: 8192, min_dwell: 100 ns, max_dwell: 1 ms}\n"
    "block_raster: 10 us\n"
    "patient: {mass: 70 kg, mode: normal}\n"
    "sar: {model: b1rms, whole_body: 0.24 W/kg/uT^2}\n"
    "pns: {model: iec2022, rheobase: 100 T/m/s, chronaxie: 360 us, dbdt_rheobase: 20 T/s,\n"
    "      dbdt_chronaxie: 360 us, dbdt_radius: 0.2 m}\n";

/* base_yaml with the first occurrence of from replaced by to. */
static char *sy_edit(const char *from, const char *to)
{
    const char *p = strstr(base_yaml, from);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (!p)
        return xstrdup(base_yaml);
    return xasprintf("%.*s%s%s", (int)(p - base_yaml), base_yaml, to, p + strlen(from));
}

static void test_units_exact(void)
{
    struct system s;
    CU_ASSERT_EQUAL_FATAL(sy_load(base_yaml, &s, NULL), 0);
    CU_ASSERT_EQUAL(s.max_grad_axis[2], 40e-3);
    CU_ASSERT_EQUAL(s.sar_b1rms_coef[SAR_WHOLE_BODY], 0.24e12);
    CU_ASSERT_EQUAL(s.gamma, 42.577478518e6);      /* from the nucleus, 1H by default */
    CU_ASSERT_EQUAL(s.max_grad_vector, sqrt(3 * 40e-3 * 40e-3));
    CU_ASSERT_EQUAL(s.pns_weight[1], 1.0);
    CU_ASSERT_EQUAL(s.nbands, 0);
    static const struct { const char *from, *to; size_t off; double want; } cases[] = {
        { "40 mT/m\n", "69.28 mT/m\n", offsetof(struct system, max_grad), 69.28e-3 },
        { "40 mT/m\n", "0.04 T/m\n", offsetof(struct system, max_grad), 0.04 },
        { "40 mT/m\n", "4e1 mT/m\n", offsetof(struct system, max_grad), 40e-3 },
        { "40 mT/m\n", "40mT/m\n", offsetof(struct system, max_grad), 40e-3 },
        { "40 mT/m\n", "'40 mT/m'\n", offsetof(struct system, max_grad), 40e-3 },
        { "150 T/m/s", "150 mT/m/ms", offsetof(struct system, max_slew), 150 },
        { "70 kg", "70000 g", offsetof(struct system, patient_mass), 70 },
        { "0.24 W/kg/uT^2", "0.24e12 W/kg/T^2", offsetof(struct system, sar_b1rms_coef), 0.24e12 },
        { "0.24 W/kg/uT^2", "0.24 W/kg/µT²", offsetof(struct system, sar_b1rms_coef), 0.24e12 },
        { "20 T/s", "20 mT/ms", offsetof(struct system, dbdt_rheobase), 20 },
        { "b0: 3 T", "b0: 1.5 T\ngamma: 10.7084 MHz/T", offsetof(struct system, gamma), 10.7084e6 },
        { "b0: 3 T", "b0: 3 T\nnucleus: 31P", offsetof(struct system, gamma), 17.235e6 },
        { "b0: 3 T", "b0: 500 G", offsetof(struct system, b0), 0.05 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *t = sy_edit(cases[i].from, cases[i].to);
        int code;
        int rc = sy_load(t, &s, &code);
        CU_ASSERT_EQUAL(rc, 0);
        double got;
        memcpy(&got, (char *)&s + cases[i].off, sizeof got);
        CU_ASSERT_EQUAL(got, cases[i].want);
        if (rc || got != cases[i].want)
            fprintf(stderr, "\ncase %zu (%s): rc %d code E%04d, got %.17g\n", i, cases[i].to,
                    rc, code, got);
        free(t);
    }
    /* a gamma without a nucleus names the nucleus it belongs to, if any */
    char *g = sy_edit("b0: 3 T", "b0: 3 T\ngamma: 10.7084 MHz/T");
    CU_ASSERT_EQUAL(sy_load(g, &s, NULL), 0);
    CU_ASSERT_STRING_EQUAL(s.nucleus, "13C");
    free(g);
    g = sy_edit("b0: 3 T", "b0: 3 T\ngamma: 6.536 MHz/T");
    CU_ASSERT_EQUAL(sy_load(g, &s, NULL), 0);
    CU_ASSERT_STRING_EQUAL(s.nucleus, "");
    CU_ASSERT_EQUAL(s.gamma, 6.536e6);
    free(g);
    /* times are exact nanoseconds */
    char *t = sy_edit("raster: 10 us", "raster: 0.0125 ms");
    CU_ASSERT_EQUAL(sy_load(t, &s, NULL), 0);
    CU_ASSERT_EQUAL(s.grad_raster_ns, 12500);
    free(t);
    t = sy_edit("max_amplitude: 40 mT/m", "max_amplitude: {x: 40 mT/m, y: 42 mT/m, z: 45 mT/m}");
    CU_ASSERT_EQUAL(sy_load(t, &s, NULL), 0);
    CU_ASSERT_EQUAL(s.max_grad_axis[0], 40e-3);
    CU_ASSERT_EQUAL(s.max_grad_axis[1], 42e-3);
    CU_ASSERT_EQUAL(s.max_grad_axis[2], 45e-3);
    CU_ASSERT_EQUAL(s.max_grad, 40e-3);
    free(t);
}

/* Each kind of mistake gives its own code first. */
static void test_error_codes(void)
{
    static const struct { const char *from, *to; int code; } cases[] = {
        { "b0: 3 T", "b0: [3 T", 711 },
        { "b0: 3 T", "b0: 3 T\nb1: 3 T", 712 },
        { "  max_slew", "  max_slw", 712 },
        { "b0: 3 T", "b0: 3 T\nb0: 3 T", 713 },
        { "b0: 3 T\n", "", 714 },
        { "  raster: 10 us\n", "", 714 },
        { "rf: {", "rf2: {", 712 },
        { "b0: 3 T", "b0: {value: 3 T}", 715 },
        { "gradient:\n  max_amplitude: 40 mT/m\n  max_slew: 150 T/m/s\n  raster: 10 us\n",
          "gradient: [40 mT/m]\n", 715 },
        { "b0: 3 T", "b0:", 715 },
        { "b0: 3 T", "b0: three T", 716 },
        { "b0: 3 T", "b0: 1e999 T", 716 },
        { "b0: 3 T", "b0: 3", 717 },
        { "b0: 3 T", "b0: 3 ms", 718 },
        { "70 kg", "70 T", 718 },
        { "max_samples: 8192", "max_samples: 8192 kg", 718 },
        { "b0: 3 T", "b0: 3 Tesla", 719 },
        { "b0: 3 T", "b0: 21 T", 720 },
        { "b0: 3 T", "b0: -3 T", 720 },
        { "b0: 3 T", "b0: 0 T", 720 },
        { "40 mT/m\n", "1.5 T/m\n", 720 },
        { "150 T/m/s", "20000 T/m/s", 720 },
        { "raster: 10 us", "raster: -10 us", 720 },
        { "70 kg", "0.5 kg", 720 },
        { "70 kg", "501 kg", 720 },
        { "raster: 10 us", "raster: 10.5 ns", 721 },
        { "max_samples: 8192", "max_samples: 81.5", 721 },
        { "mode: normal", "mode: abnormal", 722 },
        { "model: b1rms", "model: b1", 722 },
        { "model: iec2022", "model: safe", 722 },
        { "b0: 3 T", "b0: 3 T\nnucleus: 7Li", 722 },
        { "min_dwell: 100 ns", "min_dwell: 2 ms", 723 },
        { "mode: normal", "mode: normal, exposed_mass: 80 kg", 723 },
        { "whole_body: 0.24 W/kg/uT^2", "whole_body: 0.24 W/kg/uT^2, partial_body: 1 W/kg/uT^2",
          723 },
        { "name: t", "name: t\nacoustic: {forbidden_bands: [[650 Hz, 550 Hz]]}", 723 },
        { "name: t", "name: t\nacoustic: {forbidden_bands: [[650 Hz, 650 Hz]]}", 723 },
        { "name: t", "name: t\nacoustic: {forbidden_bands: [650 Hz, 750 Hz]}", 715 },
        { "name: t", "name: t\nacoustic: {forbidden_bands: [[1 Hz, 2 Hz], [1 Hz, 2 Hz], "
          "[1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], "
          "[1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz], "
          "[1 Hz, 2 Hz], [1 Hz, 2 Hz], [1 Hz, 2 Hz]]}", 725 },
        { "name: t", "name: an_unreasonably_long_name_that_goes_on_and_on_past_sixty_four_bytes",
          725 },
        { "name: t", "name: t\n---\nname: u", 726 },
        { "b0: 3 T", "b0: *field", 726 },
        { "model: b1rms, whole_body: 0.24 W/kg/uT^2",
          "model: reference_pulse, whole_body: 0.24 W/kg/uT^2, "
          "reference: {b1: 11.74 uT, duration: 1 ms}, energy: {whole_body: 0.58 J}", 712 },
        { "model: b1rms, whole_body: 0.24 W/kg/uT^2",
          "model: reference_pulse, reference: {b1: 11.74 uT, duration: 1 ms}, "
          "energy: {whole_body: 0.58 J, head: 0.06 J}", 723 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *t = sy_edit(cases[i].from, cases[i].to);
        struct system s;
        int code;
        int rc = sy_load(t, &s, &code);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_EQUAL(code, cases[i].code);
        if (rc != 1 || code != cases[i].code)
            fprintf(stderr, "\ncase %zu (%s): rc %d, first code E%04d, wanted E%04d\n", i,
                    cases[i].to, rc, code, cases[i].code);
        free(t);
    }
    /* a valid alias and a valid reference-pulse file with a head */
    char *t = sy_edit("max_amplitude: 40 mT/m\n", "max_amplitude: &g 40 mT/m\n  max_vector: *g\n");
    struct system s;
    CU_ASSERT_EQUAL(sy_load(t, &s, NULL), 0);
    CU_ASSERT_EQUAL(s.max_grad_vector, 40e-3);
    free(t);
}

static void test_resolve(void)
{
    char *std = sy_stdlib();
    struct diag_ctx d;
    diag_init(&d);
    struct system s;
    CU_ASSERT_EQUAL(system_resolve(NULL, std, &s, &d), 0);
    CU_ASSERT_STRING_EQUAL(s.name, "generic_3t");
    CU_ASSERT_EQUAL(system_resolve("generic_7t", std, &s, &d), 1);
    CU_ASSERT_EQUAL(d.diags[d.ndiags - 1]->code, 724);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.diags[d.ndiags - 1]->help, "generic_3t"));
    char *path = xasprintf("%s/systems/marcos_lowfield.yaml", std);
    CU_ASSERT_EQUAL(system_resolve(path, NULL, &s, &d), 0);
    CU_ASSERT_STRING_EQUAL(s.path, path);
    CU_ASSERT_EQUAL(s.b0, 0.05);
    CU_ASSERT_EQUAL(system_resolve("no/such/file.yaml", NULL, &s, &d), 1);
    CU_ASSERT_EQUAL(d.diags[d.ndiags - 1]->code, 710);
    free(path);
    diag_fini(&d);
    free(std);
}

/* The loader returns 0 or 1, never crashes, for every prefix of the shipped
   files and for single-byte corruptions of generic_3t.yaml (ASan builds
   make a bad read fail here). */
static void test_prefixes_and_corruptions(void)
{
    static const char *const names[] = { "generic_3t", "generic_1_5t", "marcos_lowfield" };
    for (size_t f = 0; f < ARRAY_LEN(names); f++) {
        size_t len;
        char *text = sy_read(names[f], &len);
        if (!text)
            continue;
        int bad = 0, ok = 0;
        for (size_t n = 0; n <= len; n++) {
            struct diag_ctx d;
            diag_init(&d);
            struct system s;
            int rc = system_load_text("prefix.yaml", text, n, &s, &d);
            if (rc != 0 && rc != 1)
                bad++;
            ok += rc == 0;
            if ((rc == 1) != (d.nerrors > 0))
                bad++;
            diag_fini(&d);
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT(ok >= 1);          /* at least the whole file */
        if (f == 0) {
            static const char subst[] = { 0, '\t', ':', '[', '{', '&', '*', '-', '#', '\'',
                                          '"', '\n', (char)0xC3, (char)0xFF };
            for (size_t i = 0; i < len; i++)
                for (size_t k = 0; k < sizeof subst; k++) {
                    char save = text[i];
                    text[i] = subst[k];
                    struct diag_ctx d;
                    diag_init(&d);
                    struct system s;
                    int rc = system_load_text("mutant.yaml", text, len, &s, &d);
                    CU_ASSERT(rc == 0 || rc == 1);
                    diag_fini(&d);
                    text[i] = save;
                }
        }
        free(text);
    }
    /* deep nesting, long scalars, alias fan-out */
    struct strbuf b;
    sb_init(&b);
    sb_puts(&b, "name: ");
    for (int i = 0; i < 5000; i++)
        sb_putc(&b, '[');
    struct diag_ctx d;
    diag_init(&d);
    struct system s;
    CU_ASSERT_EQUAL(system_load_text("deep.yaml", b.s, b.len, &s, &d), 1);
    diag_fini(&d);
    sb_fini(&b);
    sb_init(&b);
    sb_puts(&b, "a: &x [1 Hz, 2 Hz]\nacoustic: {forbidden_bands: [");
    for (int i = 0; i < 1000; i++)
        sb_puts(&b, "*x, ");
    sb_puts(&b, "*x]}\n");
    diag_init(&d);
    CU_ASSERT_EQUAL(system_load_text("fanout.yaml", b.s, b.len, &s, &d), 1);
    diag_fini(&d);
    sb_fini(&b);
}

int register_system_tests(void)
{
    static const struct test_def tests[] = {
        { "generic_3t.yaml equals the built-in default", test_generic_3t_is_default },
        { "the hash is FNV-1a of the text", test_hash_is_of_text },
        { "every shipped system loads", test_shipped_systems_load },
        { "reference-pulse SAR constants", test_reference_pulse_k },
        { "IEC SAR and PNS limits", test_sar_limits },
        { "units scale exactly", test_units_exact },
        { "each mistake has its code", test_error_codes },
        { "names and paths resolve", test_resolve },
        { "prefixes and corruptions never crash", test_prefixes_and_corruptions },
    };
    return TEST_ADD_SUITE("system", tests);
}
