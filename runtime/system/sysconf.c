/*
 * sysconf: the scanner description in YAML (stdlib/systems/NAME.yaml) read
 * into struct system, and the resolution of --system NAME|PATH;
 * runtime/system/sysprint.c prints the result.
 *
 * runtime/io/ytree.c builds a small tree (scalars, sequences, mappings with
 * byte spans; anchors and aliases resolved, nesting capped) and walks its
 * sections against tables of keys (ysec_open: unknown, duplicate and
 * missing keys); the schema walk here checks every value against tables of
 * fields, each with its kind of quantity (and so its units) and its sane
 * range, and reports every problem it finds, not only the first. Values
 * carry units as text ("40 mT/m", "10 us"): the language's units
 * (base/units.h; unit_number_len finds the number) plus a few
 * only a system file needs (kg, J, W/kg/uT^2). A decimal value is scaled
 * by its power of ten in decimal, so "69.28 mT/m" is the double 69.28e-3
 * exactly, and a time is an exact count of nanoseconds or an error.
 *
 * Error codes (E0700-E0709 belong to bytecode files):
 *   E0710  the file cannot be read (or is too large)
 *   E0711  YAML syntax error
 *   E0712  unknown key
 *   E0713  duplicate key
 *   E0714  missing required key
 *   E0715  wrong YAML type (a mapping, sequence or scalar where another is due)
 *   E0716  not a number
 *   E0717  missing unit
 *   E0718  wrong unit (a unit of another quantity)
 *   E0719  unknown unit
 *   E0720  value out of range
 *   E0721  not a whole number (of nanoseconds, of samples)
 *   E0722  unknown name of a choice (mode, model, nucleus)
 *   E0723  values that contradict each other (a band's lo >= hi,
 *          min_dwell > max_dwell, a region without its mass)
 *   E0724  no shipped system of that name
 *   E0725  too long or too many (a name, the bands)
 *   E0726  YAML this loader does not take (two documents, an alias without
 *          its anchor, deep nesting)
 */
#include "runtime/system/system.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/paths.h"
#include "base/units.h"
#include "base/util.h"
#include "runtime/io/ytree.h"

#define SYS_MAX_FILE (1u << 20)  /* bytes; a system file is a few KB */
#define SYS_MAX_DEPTH 32         /* the schema nests 5 deep */

static const struct ydoc_kind sys_yaml = {
    .syntax_code = 711, .structure_code = 726, .max_depth = SYS_MAX_DEPTH,
    .what = "a system file",
    .syntax_help = "a system file is a YAML mapping of `key: value` lines (README.md, "
                   "\"Scanner descriptions\")",
    .second_doc_help = "a system file holds one document: remove the `---` line and what "
                       "follows, or put the second system in a file of its own",
    .depth_help = "a system file nests at most a few levels (section, key, axis)",
    .type_code = 715, .unknown_code = 712, .dup_code = 713, .missing_code = 714,
    .range_code = 720,
    .the_what = "the system file", .map_name = "a mapping (key: value lines)",
    .seq_name = "a sequence", .map_lines = "`key: value` lines", .top_prep = "at",
    .add_prep = "under", .add_end = ":",
};

/* ---------------------------------------------------- kinds of quantity */

enum qk {
    Q_NUMBER, Q_TIME, Q_FIELD, Q_GAMMA, Q_GRAD, Q_SLEW, Q_FREQ, Q_LENGTH, Q_DBDT,
    Q_MASS, Q_ENERGY, Q_SARK, Q__COUNT
};

struct qshow {
    double scale;
    const char *unit;
};

struct qkind {
    const char *what;         /* "a gradient amplitude" */
    const char *example;      /* "40 mT/m" */
    const char *units;        /* the usual units, for help text */
    struct dim dim;           /* the language's dimension (unused if local) */
    bool local;               /* units from the local table below */
    struct qshow show[4];     /* display units, largest first */
};

static const struct qkind qkinds[Q__COUNT] = {
    [Q_NUMBER] = { "a plain number", "1", "none", { 0, 0, 0 }, false, { { 1, "" } } },
    [Q_TIME] = { "a time", "10 us", "s, ms, us, ns", { 1, 0, 0 }, false,
                 { { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" }, { 1e-9, "ns" } } },
    [Q_FIELD] = { "a magnetic field", "3 T", "T, mT, uT", { 0, 0, 1 }, false,
                  { { 1, "T" }, { 1e-3, "mT" }, { 1e-6, "uT" } } },
    [Q_GAMMA] = { "a gyromagnetic ratio", "42.577478518 MHz/T", "MHz/T, kHz/mT, Hz/T",
                  { -1, 0, -1 }, false, { { 1e6, "MHz/T" } } },
    [Q_GRAD] = { "a gradient amplitude", "40 mT/m", "mT/m, T/m", { 0, -1, 1 }, false,
                 { { 1e-3, "mT/m" } } },
    [Q_SLEW] = { "a slew rate", "150 T/m/s", "T/m/s, mT/m/ms", { -1, -1, 1 }, false,
                 { { 1, "T/m/s" } } },
    [Q_FREQ] = { "a frequency", "600 Hz", "Hz, kHz, MHz", { -1, 0, 0 }, false,
                 { { 1e6, "MHz" }, { 1e3, "kHz" }, { 1, "Hz" } } },
    [Q_LENGTH] = { "a length", "0.2 m", "m, cm, mm", { 0, 1, 0 }, false, { { 1, "m" } } },
    [Q_DBDT] = { "a rate of change of field", "20 T/s", "T/s", { -1, 0, 1 }, false,
                 { { 1, "T/s" } } },
    [Q_MASS] = { "a mass", "70 kg", "kg, g", { 0, 0, 0 }, true, { { 1, "kg" }, { 1e-3, "g" } } },
    [Q_ENERGY] = { "an energy", "0.58 J", "J, mJ", { 0, 0, 0 }, true, { { 1, "J" } } },
    [Q_SARK] = { "a SAR coefficient (W/kg per uT^2 of B1rms)", "0.24 W/kg/uT^2",
                 "W/kg/uT^2, W/kg/T^2", { 0, 0, 0 }, true, { { 1e12, "W/kg/uT^2" } } },
};

/* Units only a system file uses: SI scale and kind. */
static const struct {
    const char *name;
    double scale;
    enum qk kind;
} local_units[] = {
    { "kg", 1, Q_MASS }, { "g", 1e-3, Q_MASS },
    { "J", 1, Q_ENERGY }, { "mJ", 1e-3, Q_ENERGY },
    { "W/kg/uT^2", 1e12, Q_SARK }, { "W/kg/µT^2", 1e12, Q_SARK },
    { "W/kg/uT²", 1e12, Q_SARK }, { "W/kg/µT²", 1e12, Q_SARK },
    { "W/kg/T^2", 1, Q_SARK }, { "W/kg/T²", 1, Q_SARK },
};

/* Format an SI value in the kind's display unit (12 significant digits). */
static void fmt_q(double si, int k, char *buf, size_t n)
{
    const struct qkind *q = &qkinds[k];
    if (si == 0 || k == Q_NUMBER) {
        snprintf(buf, n, "%.12g", si);
        return;
    }
    size_t nshow = 0;
    while (nshow < 4 && q->show[nshow].unit)
        nshow++;
    size_t i = nshow - 1;
    for (size_t j = 0; j < nshow; j++)
        if (fabs(si) >= q->show[j].scale * (1 - 1e-12)) {
            i = j;
            break;
        }
    snprintf(buf, n, "%.12g %s", si / q->show[i].scale, q->show[i].unit);
}

/* The decimal exponent k of a scale that is a power of ten. */
static bool pow10_of(double scale, int *k)
{
    if (!(scale > 0))
        return false;
    double l = log10(scale);
    double r = floor(l + 0.5);
    if (fabs(l - r) > 1e-9 || fabs(r) > 300)
        return false;
    *k = (int)r;
    return true;
}

/* The parts of the decimal number s of length n (base/units.h
   unit_number_len): *mant is the length of the part before the exponent,
   *exp the exponent's value (clamped). */
static void split_exponent(const char *s, size_t n, size_t *mant, long *exp)
{
    size_t i = 0;
    while (i < n && s[i] != 'e' && s[i] != 'E')
        i++;
    *mant = i;
    *exp = 0;
    if (i == n)
        return;
    size_t j = i + 1;
    bool neg = false;
    if (j < n && (s[j] == '+' || s[j] == '-'))
        neg = s[j++] == '-';
    long e = 0;
    for (; j < n; j++)
        if (e < 100000)
            e = e * 10 + (s[j] - '0');
    *exp = neg ? -e : e;
}

/* The number mant·10^(exp+k) as the nearest double (decimal scaling, so no
   second rounding). */
static double decimal_value(const char *s, size_t mant, long exp, long k)
{
    char *t = xasprintf("%.*se%ld", (int)mant, s, exp + k);
    double v = strtod(t, NULL);
    free(t);
    return v;
}

/* ------------------------------------------------------------- schema */

/* Parse scalar v as a quantity of kind k into SI (*si) and, for times, an
   exact count of ns (*ns, if non-NULL; needs a whole number). Range [lo,
   hi], lo excluded if lo_open. Reports errors; returns success. */
static bool parse_q(struct ydoc *L, const struct ynode *v, const char *key, enum qk k,
                    double lo, double hi, bool lo_open, double *si, int64_t *ns)
{
    const struct qkind *q = &qkinds[k];
    if (!yscalar(L, v, key, q->what, q->example))
        return false;
    const char *s = v->str;
    struct yquantity yq;
    if (!yquantity_split(L, v, &yq)) {
        struct diag *g = diag_error(L->d, 716, ynspan(L, v), "%s: '%s' is not a number",
                                    key, v->str);
        if (k == Q_NUMBER)
            diag_help(g, "%s is a plain number, e.g. %s", key, q->example);
        else
            diag_help(g, "%s is %s: a number and a unit, e.g. %s", key, q->what, q->example);
        return false;
    }
    size_t a = yq.num, nl = yq.nnum, n = yq.unit + yq.nunit;
    size_t mant;
    long exp;
    split_exponent(s + a, nl, &mant, &exp);
    const char *unit = s + yq.unit;
    size_t ul = yq.nunit;
    struct span uspan = yq.uspan;
    double scale = 1;
    if (k == Q_NUMBER) {
        if (ul) {
            struct diag *g = diag_error(L->d, 718, uspan, "%s is a plain number; it takes "
                                        "no unit '%.*s'", key, (int)ul, unit);
            diag_help(g, "write the number alone, e.g. `%s: %.*s`", ykey_leaf(key), (int)nl,
                      s + a);
            return false;
        }
    } else if (!ul) {
        struct diag *g = diag_error(L->d, 717, ynspan(L, v), "%s: %.*s has no unit", key,
                                    (int)nl, s + a);
        diag_help(g, "%s is %s; write it with a unit, e.g. %s", key, q->what, q->example);
        return false;
    } else {
        int found = -1;
        for (size_t i = 0; i < ARRAY_LEN(local_units); i++)
            if (strlen(local_units[i].name) == ul && !memcmp(local_units[i].name, unit, ul))
                found = (int)i;
        struct dim d;
        const char *other = NULL;
        char desc[128];
        if (found >= 0) {
            scale = local_units[found].scale;
            if (local_units[found].kind != k)
                other = qkinds[local_units[found].kind].what;
        } else if (unit_parse(unit, ul, &scale, &d)) {
            if (q->local || !dim_eq(d, q->dim)) {
                other = NULL;
                for (int i = 0; i < Q__COUNT && !other; i++)
                    if (!qkinds[i].local && i != Q_NUMBER && dim_eq(qkinds[i].dim, d))
                        other = qkinds[i].what;
                if (!other) {
                    dim_describe(d, desc, sizeof desc);
                    other = desc;
                }
            }
        } else {
            struct diag *g = diag_error(L->d, 719, uspan, "%s: unknown unit '%.*s'", key,
                                        (int)ul, unit);
            diag_help(g, "%s is %s, in %s; e.g. %s", key, q->what, q->units, q->example);
            return false;
        }
        if (other) {
            struct diag *g = diag_error(L->d, 718, uspan, "%s: expected %s, but '%.*s' "
                                        "measures %s", key, q->what, (int)ul, unit, other);
            diag_help(g, "give %s in %s, e.g. %s", key, q->units, q->example);
            return false;
        }
    }
    int k10;
    double x;
    bool dec = pow10_of(scale, &k10);
    if (dec)
        x = decimal_value(s + a, mant, exp, k10);
    else
        x = decimal_value(s + a, mant, exp, 0) * scale;
    if (!isfinite(x)) {
        struct diag *g = diag_error(L->d, 716, ynspan(L, v), "%s: %.*s is too large a "
                                    "number", key, (int)nl, s + a);
        diag_help(g, "%s is %s, e.g. %s", key, q->what, q->example);
        return false;
    }
    if (!yin_range(L, v, key, false, x, lo, hi, lo_open, fmt_q, k))
        return false;
    if (ns) {
        double t = dec ? decimal_value(s + a, mant, exp, (long)k10 + 9) : x * 1e9;
        if (t != floor(t) || !(fabs(t) < 9e18)) {
            struct diag *g = diag_error(L->d, 721, ynspan(L, v), "%s %.*s is not a whole "
                                        "number of nanoseconds", key, (int)(n - a), s + a);
            diag_help(g, "times are held as integer nanoseconds; round it, e.g. to %.0f ns",
                      floor(t + 0.5) > 0 ? floor(t + 0.5) : 1.0);
            return false;
        }
        *ns = (int64_t)t;
    }
    *si = x;
    return true;
}

enum ftype { FT_DOUBLE, FT_AXES, FT_NS, FT_U32 };

/* A field of a section stored straight into struct system. */
struct field {
    const char *key;
    enum qk kind;
    enum ftype type;
    bool required;
    bool lo_open;
    double lo, hi;            /* SI */
    size_t off;               /* offsetof(struct system, ...) */
};

#define OFF(f) offsetof(struct system, f)

/* Per-axis value: one scalar for x, y and z, or a mapping {x:, y:, z:}. */
static bool parse_axes(struct ydoc *L, const struct ysec *sec, const struct field *f,
                       const struct ynode *kn, const struct ynode *v, double out[3])
{
    char path[128];
    ysec_path(sec, f->key, path, sizeof path);
    if (v->kind != YK_MAP) {
        if (v->kind == YK_SEQ) {
            struct diag *g = diag_error(L->d, 715, ynspan(L, v), "%s must be one value or a "
                                        "mapping {x: .., y: .., z: ..}, not a sequence", path);
            diag_help(g, "write `%s: {x: %s, y: %s, z: %s}`", f->key, qkinds[f->kind].example,
                      qkinds[f->kind].example, qkinds[f->kind].example);
            return false;
        }
        double x;
        if (!parse_q(L, v, path, f->kind, f->lo, f->hi, f->lo_open, &x, NULL))
            return false;
        out[0] = out[1] = out[2] = x;
        return true;
    }
    static const char *const axes[] = { "x", "y", "z" };
    struct ysec ax;
    ysec_open(L, &ax, path, kn, v, axes, 3);
    bool ok = true;
    double tmp[3];
    for (int i = 0; i < 3; i++) {
        char p2[160];
        snprintf(p2, sizeof p2, "%s.%s", path, axes[i]);
        if (!ax.v[i]) {
            struct diag *g = diag_error(L->d, 714, ynspan(L, kn), "%s has no '%s'", path,
                                        axes[i]);
            diag_help(g, "give x, y and z, or one value for all three axes");
            ok = false;
        } else if (!parse_q(L, ax.v[i], p2, f->kind, f->lo, f->hi, f->lo_open, &tmp[i], NULL)) {
            ok = false;
        }
    }
    if (ok)
        memcpy(out, tmp, sizeof tmp);
    return ok;
}

/* Load the table fields of a section into s. Missing required fields are
   reported. Returns the number of fields that failed. */
static int load_fields(struct ydoc *L, const struct ysec *sec, const struct field *fs,
                       size_t nf, struct system *s)
{
    int bad = 0;
    for (size_t i = 0; i < nf; i++) {
        const struct field *f = &fs[i];
        const struct ynode *v = ysec_val(sec, f->key), *kn = ysec_key(sec, f->key);
        if (!v) {
            if (f->required) {
                ysec_missing(L, sec, f->key, qkinds[f->kind].example);
                bad++;
            }
            continue;
        }
        char path[128];
        ysec_path(sec, f->key, path, sizeof path);
        char *p = (char *)s + f->off;
        double x;
        int64_t ns;
        switch (f->type) {
        case FT_AXES:
            if (!parse_axes(L, sec, f, kn, v, (double *)(void *)p))
                bad++;
            break;
        case FT_DOUBLE:
            if (parse_q(L, v, path, f->kind, f->lo, f->hi, f->lo_open, &x, NULL))
                memcpy(p, &x, sizeof x);
            else
                bad++;
            break;
        case FT_NS:
            if (parse_q(L, v, path, f->kind, f->lo, f->hi, f->lo_open, &x, &ns))
                memcpy(p, &ns, sizeof ns);
            else
                bad++;
            break;
        case FT_U32:
            if (!parse_q(L, v, path, f->kind, f->lo, f->hi, f->lo_open, &x, NULL)) {
                bad++;
            } else if (x != floor(x)) {
                struct diag *g = diag_error(L->d, 721, ynspan(L, v), "%s %s is not a whole "
                                            "number", path, v->str);
                diag_help(g, "%s counts; give a whole number", path);
                bad++;
            } else {
                uint32_t u = (uint32_t)x;
                memcpy(p, &u, sizeof u);
            }
            break;
        }
    }
    return bad;
}

/* A scalar string value (a name, a choice). NULL (reported) if not one. */
static const char *get_str(struct ydoc *L, const struct ynode *v, const char *key,
                           const char *example)
{
    return yscalar(L, v, key, "a single value", example) ? v->str : NULL;
}

/* A choice among names; returns its index or -1 (reported). */
static int get_enum(struct ydoc *L, const struct ynode *v, const char *key,
                    const char *const *names, size_t n)
{
    const char *s = get_str(L, v, key, names[0]);
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    struct diag *g = diag_error(L->d, 722, ynspan(L, v), "%s: unknown value '%s'", key, s);
    const char *near = str_nearest(s, names, n);
    char *all = str_join(names, n);
    if (near)
        diag_help(g, "did you mean '%s'? %s is one of: %s", near, key, all);
    else
        diag_help(g, "%s is one of: %s", key, all);
    free(all);
    return -1;
}

/* ------------------------------------------------------------ sections */

static const char *const gradient_keys[] = { "max_amplitude", "max_vector", "max_slew",
                                              "raster" };
static const struct field gradient_fields[] = {
    { "max_amplitude", Q_GRAD, FT_AXES, true, true, 0, 1, OFF(max_grad_axis) },
    { "max_vector", Q_GRAD, FT_DOUBLE, false, true, 0, 2, OFF(max_grad_vector) },
    { "max_slew", Q_SLEW, FT_AXES, true, true, 0, 10000, OFF(max_slew_axis) },
    { "raster", Q_TIME, FT_NS, true, true, 0, 1e-3, OFF(grad_raster_ns) },
};

static const char *const rf_keys[] = { "raster", "dead_time", "ringdown", "max_b1",
                                        "max_duration" };
static const struct field rf_fields[] = {
    { "raster", Q_TIME, FT_NS, true, true, 0, 1e-3, OFF(rf_raster_ns) },
    { "dead_time", Q_TIME, FT_NS, true, false, 0, 10e-3, OFF(rf_dead_ns) },
    { "ringdown", Q_TIME, FT_NS, true, false, 0, 10e-3, OFF(rf_ringdown_ns) },
    { "max_b1", Q_FIELD, FT_DOUBLE, true, true, 0, 1e-3, OFF(max_b1) },
    { "max_duration", Q_TIME, FT_NS, true, true, 0, 1, OFF(max_rf_dur_ns) },
};

static const char *const adc_keys[] = { "raster", "dead_time", "max_samples", "min_dwell",
                                         "max_dwell" };
static const struct field adc_fields[] = {
    { "raster", Q_TIME, FT_NS, true, true, 0, 1e-3, OFF(adc_raster_ns) },
    { "dead_time", Q_TIME, FT_NS, true, false, 0, 10e-3, OFF(adc_dead_ns) },
    { "max_samples", Q_NUMBER, FT_U32, true, false, 1, 16777216, OFF(max_adc_samples) },
    { "min_dwell", Q_TIME, FT_NS, true, true, 0, 1, OFF(min_dwell_ns) },
    { "max_dwell", Q_TIME, FT_NS, true, true, 0, 1, OFF(max_dwell_ns) },
};

static const char *const pns_keys[] = { "model", "rheobase", "chronaxie", "weights",
                                         "dbdt_rheobase", "dbdt_chronaxie", "dbdt_radius" };
static const struct field pns_fields[] = {
    { "rheobase", Q_SLEW, FT_DOUBLE, true, true, 0, 10000, OFF(pns_smin) },
    { "chronaxie", Q_TIME, FT_DOUBLE, true, true, 0, 10e-3, OFF(pns_chronaxie) },
    { "weights", Q_NUMBER, FT_AXES, false, true, 0, 10, OFF(pns_weight) },
    { "dbdt_rheobase", Q_DBDT, FT_DOUBLE, true, true, 0, 1000, OFF(dbdt_rheobase) },
    { "dbdt_chronaxie", Q_TIME, FT_DOUBLE, true, true, 0, 10e-3, OFF(dbdt_chronaxie) },
    { "dbdt_radius", Q_LENGTH, FT_DOUBLE, true, true, 0, 2, OFF(dbdt_radius) },
};

static const char *const patient_keys[] = { "mass", "mode", "head_mass", "exposed_mass" };
static const struct field patient_fields[] = {
    { "mass", Q_MASS, FT_DOUBLE, true, false, 1, 500, OFF(patient_mass) },
    { "head_mass", Q_MASS, FT_DOUBLE, false, true, 0, 50, OFF(head_mass) },
    { "exposed_mass", Q_MASS, FT_DOUBLE, false, true, 0, 500, OFF(exposed_mass) },
};

static const char *const sar_keys[] = { "model", "whole_body", "head", "partial_body",
                                         "reference", "energy" };
static const char *const region_keys[] = { "whole_body", "head", "partial_body" };
static const char *const ref_keys[] = { "b1", "duration" };

static const char *const root_keys[] = { "name", "description", "b0", "nucleus", "gamma",
                                          "gradient", "rf", "adc", "block_raster", "patient",
                                          "sar", "pns", "acoustic", "console" };

static const char *const console_keys[] = { "type", "gradient_board", "spi_div",
                                             "grad_full_scale", "rf_full_scale",
                                             "rx_full_scale" };
static const struct field console_fields[] = {
    { "spi_div", Q_NUMBER, FT_U32, false, false, 0, 63, OFF(spi_div) },
    { "grad_full_scale", Q_GRAD, FT_AXES, false, true, 0, 1, OFF(grad_full_scale) },
    { "rf_full_scale", Q_FIELD, FT_DOUBLE, false, true, 0, 1e-3, OFF(rf_full_scale) },
    { "rx_full_scale", Q_NUMBER, FT_DOUBLE, false, true, 0, 1e12, OFF(rx_full_scale) },
};


static const struct {
    const char *name;
    double gamma;             /* Hz/T, gamma-bar (magnitude) */
} nuclei[] = {
    { "1H", 42.577478518e6 },  /* CODATA 2018 */
    { "13C", 10.7084e6 }, { "19F", 40.052e6 }, { "23Na", 11.262e6 }, { "31P", 17.235e6 },
};

/* Open a sub-section given as the value of key in parent; false if absent
   (reported if required) or not a mapping. */
static bool sub_open(struct ydoc *L, const struct ysec *parent, const char *key,
                     bool required, struct ysec *sec, const char *const *names, size_t n)
{
    const struct ynode *v = ysec_val(parent, key);
    int ki = ysec_index(parent, key);
    if (!v) {
        if (required && !(ki >= 0 && parent->typo[ki])) {
            struct span sp0 = parent->key ? ynspan(L, parent->key)
                                          : yspan(L, parent->map->start, parent->map->start);
            struct diag *g;
            if (parent->where[0])
                g = diag_error(L->d, 714, sp0, "%s has no '%s'", parent->where, key);
            else
                g = diag_error(L->d, 714, sp0, "the system file has no '%s' section", key);
            char *all = str_join(names, n);
            diag_help(g, "add a `%s:` section with %s (stdlib/systems/generic_3t.yaml has one)",
                      key, all);
            free(all);
        }
        return false;
    }
    char path[128];
    ysec_path(parent, key, path, sizeof path);
    return ysec_open(L, sec, path, ysec_key(parent, key), v, names, n);
}

/* The sar section. region[r] is set to the key that configures region r.
   Returns true if it loaded without errors. */
static bool load_sar(struct ydoc *L, const struct ysec *root, struct system *s,
                     const struct ynode *region[SAR__COUNT])
{
    struct ysec sec;
    int e0 = L->d->nerrors;
    if (!sub_open(L, root, "sar", true, &sec, sar_keys, ARRAY_LEN(sar_keys)))
        return false;
    static const char *const models[] = { "b1rms", "reference_pulse" };
    const struct ynode *mv = ysec_val(&sec, "model");
    int model = -1;
    if (!mv)
        ysec_missing(L, &sec, "model", "b1rms");
    else
        model = get_enum(L, mv, "sar.model", models, 2);
    if (model < 0)
        return false;
    s->sar_model = model ? SAR_MODEL_REFERENCE : SAR_MODEL_B1RMS;
    /* keys of the other model */
    static const char *const b1rms_only[] = { "whole_body", "head", "partial_body" };
    static const char *const ref_only[] = { "reference", "energy" };
    const char *const *wrong = model ? b1rms_only : ref_only;
    size_t nwrong = model ? 3 : 2;
    for (size_t i = 0; i < nwrong; i++) {
        const struct ynode *k = ysec_key(&sec, wrong[i]);
        if (!k)
            continue;
        struct diag *g = diag_error(L->d, 712, ynspan(L, k), "sar.%s belongs to the %s model, "
                                    "but sar.model is %s", wrong[i], models[!model], models[model]);
        if (model)
            diag_help(g, "the reference_pulse model takes `reference: {b1: .., duration: ..}` "
                      "and `energy: {whole_body: .., head: .., partial_body: ..}`");
        else
            diag_help(g, "the b1rms model takes whole_body, head and partial_body in W/kg/uT^2");
    }
    if (!model) {
        static const struct field f[] = {
            { "whole_body", Q_SARK, FT_DOUBLE, true, true, 0, 100e12, OFF(sar_b1rms_coef[0]) },
            { "head", Q_SARK, FT_DOUBLE, false, true, 0, 100e12, OFF(sar_b1rms_coef[1]) },
            { "partial_body", Q_SARK, FT_DOUBLE, false, true, 0, 100e12,
              OFF(sar_b1rms_coef[2]) },
        };
        load_fields(L, &sec, f, ARRAY_LEN(f), s);
        for (int r = 0; r < SAR__COUNT; r++) {
            region[r] = ysec_key(&sec, region_keys[r]);
            s->sar_region_on[r] = region[r] != NULL;
        }
        return L->d->nerrors == e0;
    }
    struct ysec ref, en;
    if (sub_open(L, &sec, "reference", true, &ref, ref_keys, 2)) {
        static const struct field f[] = {
            { "b1", Q_FIELD, FT_DOUBLE, true, true, 0, 1e-3, OFF(sar_ref_b1) },
            { "duration", Q_TIME, FT_NS, true, true, 0, 1, OFF(sar_ref_dur_ns) },
        };
        load_fields(L, &ref, f, 2, s);
    }
    if (sub_open(L, &sec, "energy", true, &en, region_keys, 3)) {
        static const struct field f[] = {
            { "whole_body", Q_ENERGY, FT_DOUBLE, true, true, 0, 1000, OFF(sar_ref_energy[0]) },
            { "head", Q_ENERGY, FT_DOUBLE, false, true, 0, 1000, OFF(sar_ref_energy[1]) },
            { "partial_body", Q_ENERGY, FT_DOUBLE, false, true, 0, 1000,
              OFF(sar_ref_energy[2]) },
        };
        load_fields(L, &en, f, 3, s);
        for (int r = 0; r < SAR__COUNT; r++) {
            region[r] = ysec_key(&en, region_keys[r]);
            s->sar_region_on[r] = region[r] != NULL;
        }
    }
    return L->d->nerrors == e0;
}

/* console: the hardware console (optional; notes/marcos.md). */
static void load_console(struct ydoc *L, const struct ysec *root, struct system *s)
{
    struct ysec sec;
    s->console = SYS_CONSOLE_NONE;
    if (!sub_open(L, root, "console", false, &sec, console_keys, ARRAY_LEN(console_keys)))
        return;
    static const char *const types[] = { "marcos" };
    static const char *const boards[] = { "ocra1", "gpa-fhdo" };
    const struct ynode *tv = ysec_val(&sec, "type");
    if (!tv) {
        ysec_missing(L, &sec, "type", "marcos");
        return;
    }
    if (get_enum(L, tv, "console.type", types, ARRAY_LEN(types)) < 0)
        return;
    s->console = SYS_CONSOLE_MARCOS;
    s->grad_board = SYS_BOARD_OCRA1;
    s->spi_div = 10;
    s->rx_full_scale = 131072;
    const struct ynode *bv = ysec_val(&sec, "gradient_board");
    if (bv) {
        int b = get_enum(L, bv, "console.gradient_board", boards, ARRAY_LEN(boards));
        if (b >= 0)
            s->grad_board = b == 0 ? SYS_BOARD_OCRA1 : SYS_BOARD_GPA_FHDO;
    }
    load_fields(L, &sec, console_fields, ARRAY_LEN(console_fields), s);
}

static void load_bands(struct ydoc *L, const struct ysec *root, struct system *s)
{
    static const char *const keys[] = { "forbidden_bands" };
    struct ysec sec;
    if (!sub_open(L, root, "acoustic", false, &sec, keys, 1))
        return;
    const struct ynode *v = sec.v[0];
    if (!v)
        return;
    const char *help = "write `forbidden_bands: [[550 Hz, 650 Hz], [1100 Hz, 1300 Hz]]`, "
                       "or [] for none";
    if (v->kind != YK_SEQ) {
        struct diag *g = diag_error(L->d, 715, ynspan(L, v), "acoustic.forbidden_bands must "
                                    "be a sequence of [lo, hi] pairs, not %s", ykind_name(L, v));
        diag_help(g, "%s", help);
        return;
    }
    if (v->nkids > SYS_MAX_BANDS) {
        struct diag *g = diag_error(L->d, 725, ynspan(L, v->kids[SYS_MAX_BANDS]),
                                    "more than %d forbidden bands", SYS_MAX_BANDS);
        diag_help(g, "merge neighbouring bands");
    }
    int nb = 0;
    for (size_t i = 0; i < v->nkids && i < SYS_MAX_BANDS; i++) {
        const struct ynode *b = v->kids[i];
        char path[64];
        snprintf(path, sizeof path, "acoustic.forbidden_bands[%zu]", i);
        if (b->kind != YK_SEQ || b->nkids != 2) {
            struct diag *g = diag_error(L->d, 715, ynspan(L, b), "%s must be a pair [lo, hi], "
                                        "not %s", path, b->kind == YK_SEQ ? "a sequence of "
                                        "another length" : ykind_name(L, b));
            diag_help(g, "%s", help);
            continue;
        }
        double lo, hi;
        bool ok = parse_q(L, b->kids[0], path, Q_FREQ, 0, 100e3, false, &lo, NULL);
        ok = parse_q(L, b->kids[1], path, Q_FREQ, 0, 100e3, true, &hi, NULL) && ok;
        if (!ok)
            continue;
        if (lo >= hi) {
            char ls[64], hs[64];
            fmt_q(lo, Q_FREQ, ls, sizeof ls);
            fmt_q(hi, Q_FREQ, hs, sizeof hs);
            struct diag *g = diag_error(L->d, 723, ynspan(L, b), "%s is empty: lo %s is not "
                                        "below hi %s", path, ls, hs);
            diag_help(g, "write the band as [lower, upper]");
            continue;
        }
        s->band_lo[nb] = lo;
        s->band_hi[nb] = hi;
        nb++;
    }
    s->nbands = nb;
}

/* Copy a validated name into a fixed buffer; false (reported) if too long. */
static bool put_name(struct ydoc *L, const struct ynode *v, const char *key, char *dst, size_t cap)
{
    if (v->len >= cap || memchr(v->str, '\0', v->len)) {
        struct diag *g = diag_error(L->d, 725, ynspan(L, v), "%s is too long (at most %zu "
                                    "bytes)", key, cap - 1);
        diag_help(g, "shorten it");
        return false;
    }
    memcpy(dst, v->str, v->len + 1);
    return true;
}

/* nucleus: optional, 1H by default; gamma defaults from it */
static void load_nucleus(struct ydoc *L, const struct ysec *sec, struct system *s)
{
    strcpy(s->nucleus, "1H");
    const struct ynode *nv = ysec_val(sec, "nucleus");
    bool have_gamma = ysec_val(sec, "gamma") != NULL;
    if (nv && get_str(L, nv, "nucleus", "1H") &&
        put_name(L, nv, "nucleus", s->nucleus, sizeof s->nucleus)) {
        size_t i = 0;
        while (i < ARRAY_LEN(nuclei) && strcmp(nuclei[i].name, s->nucleus))
            i++;
        if (i < ARRAY_LEN(nuclei) && !have_gamma) {
            s->gamma = nuclei[i].gamma;
        } else if (i == ARRAY_LEN(nuclei) && !have_gamma) {
            struct diag *g = diag_error(L->d, 722, ynspan(L, nv), "unknown nucleus '%s'",
                                        s->nucleus);
            diag_help(g, "known nuclei: 1H, 13C, 19F, 23Na, 31P; for another, give its "
                      "gyromagnetic ratio too, e.g. `gamma: 11.777 MHz/T`");
        }
    } else if (!nv) {
        /* no nucleus: 1H, or the one whose gamma was given ("" if none) */
        if (!have_gamma)
            s->gamma = nuclei[0].gamma;
        s->nucleus[0] = 0;
        for (size_t i = 0; i < ARRAY_LEN(nuclei); i++)
            if (fabs(s->gamma - nuclei[i].gamma) <= 1e-6 * nuclei[i].gamma)
                strcpy(s->nucleus, nuclei[i].name);
    }
}

/* The patient section into s and pat; whether it loaded without errors
   (its masses checked against each other). */
static bool load_patient(struct ydoc *L, const struct ysec *root, struct system *s,
                         struct ysec *pat)
{
    int e1 = L->d->nerrors;
    if (!sub_open(L, root, "patient", true, pat, patient_keys, ARRAY_LEN(patient_keys)))
        return false;
    load_fields(L, pat, patient_fields, ARRAY_LEN(patient_fields), s);
    static const char *const modes[] = { "normal", "first_level" };
    const struct ynode *mv = ysec_val(pat, "mode");
    if (!mv) {
        ysec_missing(L, pat, "mode", "normal");
    } else {
        int m = get_enum(L, mv, "patient.mode", modes, 2);
        s->mode = m == 1 ? SYS_MODE_FIRST_LEVEL : SYS_MODE_NORMAL;
    }
    bool pat_ok = L->d->nerrors == e1;
    if (pat_ok && ysec_val(pat, "exposed_mass") && s->exposed_mass > s->patient_mass) {
        struct diag *d = diag_error(L->d, 723, ynspan(L, ysec_val(pat, "exposed_mass")),
                                    "patient.exposed_mass %.10g kg is above the patient's "
                                    "mass %.10g kg", s->exposed_mass, s->patient_mass);
        diag_help(d, "the exposed mass is the part of the patient inside the body coil");
        pat_ok = false;
    }
    if (pat_ok && ysec_val(pat, "head_mass") && s->head_mass >= s->patient_mass) {
        struct diag *d = diag_error(L->d, 723, ynspan(L, ysec_val(pat, "head_mass")),
                                    "patient.head_mass %.10g kg is not below the patient's "
                                    "mass %.10g kg", s->head_mass, s->patient_mass);
        diag_help(d, "an adult head is about 5 kg");
        pat_ok = false;
    }
    return pat_ok;
}

static void load_root(struct ydoc *L, const struct ynode *root, struct system *s)
{
    struct ysec sec;
    if (!ysec_open(L, &sec, "", NULL, root, root_keys, ARRAY_LEN(root_keys)))
        return;
    const struct ynode *v;
    if (!(v = ysec_val(&sec, "name"))) {
        ysec_missing(L, &sec, "name", "my_scanner");
    } else {
        const char *nm = get_str(L, v, "name", "my_scanner");
        if (nm && put_name(L, v, "name", s->name, sizeof s->name)) {
            for (const char *c = nm; *c; c++)
                if (!(*c == '_' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9') ||
                      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) {
                    struct diag *g = diag_error(L->d, 715, ynspan(L, v), "name '%s' has a "
                                                "character other than letters, digits, _ . -",
                                                nm);
                    diag_help(g, "name the system like its file: `name: my_scanner`");
                    break;
                }
        }
    }
    if ((v = ysec_val(&sec, "description")) &&
        get_str(L, v, "description", "Generic 3 T clinical scanner"))
        put_name(L, v, "description", s->description, sizeof s->description);

    static const struct field top[] = {
        { "b0", Q_FIELD, FT_DOUBLE, true, true, 0, 20, OFF(b0) },
        { "gamma", Q_GAMMA, FT_DOUBLE, false, true, 0, 100e6, OFF(gamma) },
        { "block_raster", Q_TIME, FT_NS, true, true, 0, 1e-3, OFF(block_raster_ns) },
    };
    load_fields(L, &sec, top, ARRAY_LEN(top), s);

    load_nucleus(L, &sec, s);
    struct ysec g;
    if (sub_open(L, &sec, "gradient", true, &g, gradient_keys, ARRAY_LEN(gradient_keys))) {
        load_fields(L, &g, gradient_fields, ARRAY_LEN(gradient_fields), s);
        if (!ysec_val(&g, "max_vector")) {
            double q = 0;
            for (int a = 0; a < 3; a++)
                q += s->max_grad_axis[a] * s->max_grad_axis[a];
            s->max_grad_vector = sqrt(q);
        }
    }
    struct ysec rf, adc, pat, pns;
    if (sub_open(L, &sec, "rf", true, &rf, rf_keys, ARRAY_LEN(rf_keys)))
        load_fields(L, &rf, rf_fields, ARRAY_LEN(rf_fields), s);
    int e1 = L->d->nerrors;
    if (sub_open(L, &sec, "adc", true, &adc, adc_keys, ARRAY_LEN(adc_keys))) {
        load_fields(L, &adc, adc_fields, ARRAY_LEN(adc_fields), s);
        if (L->d->nerrors == e1 && ysec_val(&adc, "min_dwell") && ysec_val(&adc, "max_dwell") &&
            s->min_dwell_ns > s->max_dwell_ns) {
            char lo[64], hi[64];
            fmt_q((double)s->min_dwell_ns * 1e-9, Q_TIME, lo, sizeof lo);
            fmt_q((double)s->max_dwell_ns * 1e-9, Q_TIME, hi, sizeof hi);
            struct diag *d = diag_error(L->d, 723, ynspan(L, ysec_val(&adc, "min_dwell")),
                                        "adc.min_dwell %s is above adc.max_dwell %s", lo, hi);
            diag_note(d, ynspan(L, ysec_val(&adc, "max_dwell")), "max_dwell is given here");
            diag_help(d, "min_dwell is the shortest dwell time (widest bandwidth)");
        }
    }
    bool pat_ok = load_patient(L, &sec, s, &pat);
    /* a region's SAR needs its mass: partial body the exposed mass, a
       reference-pulse head energy the head mass */
    const struct ynode *region[SAR__COUNT] = { NULL };
    if (load_sar(L, &sec, s, region) && pat_ok) {
        const struct ynode *pk = region[SAR_PARTIAL_BODY];
        const struct ynode *hk = region[SAR_HEAD];
        if (pk && !ysec_val(&pat, "exposed_mass")) {
            struct diag *d = diag_error(L->d, 723, ynspan(L, pk), "partial-body SAR needs "
                                        "patient.exposed_mass");
            diag_help(d, "add `exposed_mass: 30 kg` under patient: (the mass inside the "
                      "body coil), or remove partial_body");
        } else if (!pk && ysec_val(&pat, "exposed_mass")) {
            struct diag *d = diag_error(L->d, 723, ynspan(L, ysec_key(&pat, "exposed_mass")),
                                        "patient.exposed_mass is given but sar has no "
                                        "partial_body");
            diag_help(d, "add the partial-body SAR constant to sar:, or remove exposed_mass");
        }
        if (hk && s->sar_model == SAR_MODEL_REFERENCE && !ysec_val(&pat, "head_mass")) {
            struct diag *d = diag_error(L->d, 723, ynspan(L, hk), "a head reference energy "
                                        "needs patient.head_mass");
            diag_help(d, "add `head_mass: 5 kg` under patient:");
        }
    }
    if (sub_open(L, &sec, "pns", true, &pns, pns_keys, ARRAY_LEN(pns_keys))) {
        static const char *const pmodels[] = { "iec2022" };
        const struct ynode *mv = ysec_val(&pns, "model");
        if (!mv)
            ysec_missing(L, &pns, "model", "iec2022");
        else
            get_enum(L, mv, "pns.model", pmodels, 1);
        for (int a = 0; a < 3; a++)
            s->pns_weight[a] = 1.0;
        load_fields(L, &pns, pns_fields, ARRAY_LEN(pns_fields), s);
    }
    load_bands(L, &sec, s);
    load_console(L, &sec, s);
}

/* ----------------------------------------------------------- entry points */

int system_load_text(const char *path, const char *text, size_t len, struct system *s,
                     struct diag_ctx *d)
{
    memset(s, 0, sizeof *s);
    int e0 = d->nerrors;
    if (len > SYS_MAX_FILE) {
        struct diag *g = diag_error(d, 710, SPAN_NONE, "%s is %zu bytes; a system file is at "
                                    "most %u", path, len, SYS_MAX_FILE);
        diag_help(g, "a system file is a few kilobytes of YAML");
        return 1;
    }
    if (strlen(path) >= sizeof s->path) {
        struct diag *g = diag_error(d, 725, SPAN_NONE, "the path %s is too long (at most %zu "
                                    "bytes)", path, sizeof s->path - 1);
        diag_help(g, "move the file to a shorter path");
        return 1;
    }
    strcpy(s->path, path);
    s->hash = fnv1a64(FNV1A64_INIT, text, len);
    struct ydoc L;
    ydoc_init(&L, d, &sys_yaml, path, text, len);
    struct ynode *root = NULL;
    size_t n0 = d->ndiags;
    if (ydoc_parse(&L, &root) == 0) {
        if (!root || ynull(root)) {
            struct diag *g = diag_error(d, 714, yspan(&L, 0, 0), "the system file is empty");
            diag_help(g, "a system file is a YAML mapping starting with `name: my_scanner` "
                      "(README.md, \"Scanner descriptions\"; stdlib/systems/ has examples)");
        } else {
            load_root(&L, root, s);
        }
    }
    ydoc_fini(&L);
    ydoc_sort_diags(d, n0);
    if (d->nerrors != e0)
        return 1;
    system_derive(s);
    return 0;
}

int system_load(const char *path, struct system *s, struct diag_ctx *d)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        memset(s, 0, sizeof *s);
        struct diag *g = diag_error(d, 710, SPAN_NONE, "cannot read system file %s: %s", path,
                                    strerror(errno));
        diag_help(g, "give a shipped system's name (larmor system --list) or the path of a "
                  "YAML system file");
        return 1;
    }
    int rc = system_load_text(path, text, len, s, d);
    free(text);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **system_names(const char *stdlib_dir, size_t *n)
{
    const char *std = stdlib_dir ? stdlib_dir : paths_stdlib();
    char *dir = xasprintf("%s/systems", std);
    DIR *dp = opendir(dir);
    free(dir);
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    if (!dp)
        return NULL;
    for (struct dirent *de; (de = readdir(dp)) != NULL;) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".yaml"))
            continue;
        char *nm = xstrndup(de->d_name, l - 5);
        VEC_PUSH(names, *n, cap, nm);
    }
    closedir(dp);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

int system_resolve(const char *arg, const char *stdlib_dir, struct system *s,
                   struct diag_ctx *d)
{
    if (!arg)
        arg = "generic_3t";
    if (strchr(arg, '/') || has_suffix(arg, ".yaml") || has_suffix(arg, ".yml"))
        return system_load(arg, s, d);
    const char *std = stdlib_dir ? stdlib_dir : paths_stdlib();
    char *file = xasprintf("%s/systems/%s.yaml", std, arg);
    size_t len;
    char *text = read_file(file, &len);
    int rc;
    if (!text) {
        int err = errno;
        memset(s, 0, sizeof *s);
        size_t n;
        char **names = system_names(std, &n);
        if (err != ENOENT) {
            struct diag *g = diag_error(d, 710, SPAN_NONE, "cannot read system file %s: %s",
                                        file, strerror(err));
            diag_help(g, "check the file's permissions");
        } else if (!n) {
            struct diag *g = diag_error(d, 724, SPAN_NONE, "no system named '%s': the stdlib "
                                        "folder %s has no systems", arg, std);
            diag_help(g, "point LARMOR_STDLIB or --stdlib at the stdlib folder, or give the "
                      "path of a system file (containing '/' or ending in .yaml)");
        } else {
            char *all = str_join((const char *const *)names, n);
            struct diag *g = diag_error(d, 724, SPAN_NONE, "no system named '%s'", arg);
            const char *near = str_nearest(arg, (const char *const *)names, n);
            if (near)
                diag_help(g, "did you mean '%s'? shipped systems: %s; or give the path of a "
                          "system file (containing '/' or ending in .yaml), e.g. "
                          "./my_scanner.yaml", near, all);
            else
                diag_help(g, "shipped systems: %s; or give the path of a system file "
                          "(containing '/' or ending in .yaml), e.g. ./my_scanner.yaml", all);
            free(all);
        }
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        rc = 1;
    } else {
        /* shown as stdlib/systems/NAME.yaml wherever the stdlib lives, as
           stdlib modules are */
        char *shown = xasprintf("stdlib/systems/%s.yaml", arg);
        rc = system_load_text(shown, text, len, s, d);
        free(shown);
        free(text);
    }
    free(file);
    return rc;
}
