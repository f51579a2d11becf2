/*
 * phantom_load: the reader of YAML phantom descriptions (analytic shapes
 * and their tissues), phantom_load_text. The text is parsed into a small
 * tree with byte spans (runtime/io/ytree.c, shared with the scanner
 * descriptions), then checked against a schema that reports every problem
 * it finds with its place in the file; the shapes are then sampled by
 * phantom_sample (phantom.c). The HDF5 formats are read in phantom_h5.c,
 * phantom_load's dispatch is in phantom.c.
 *
 * The YAML format (README.md, "Phantoms"):
 *
 *   name: two vials              # optional; default: the file's name
 *   fov: [200 mm, 200 mm]        # 2 values: a 2D phantom; 3 values: 3D
 *   resolution: 2 mm             # voxel size (one value, or one per axis),
 *                                # or matrix: [100, 100]; --res overrides
 *   thickness: 5 mm              # 2D only: the voxels' extent in z (5 mm)
 *   background: air              # optional: the tissue outside every object
 *   tissues:                     # named property sets; units required
 *     water: { t1: 2500 ms, t2: 1500 ms, t2star: 1000 ms, pd: 1,
 *              df: 0 Hz, diffusion: 3e-3 mm^2/s }
 *     fat:   { t1: 260 ms, t2: 80 ms, pd: 0.9, chemical_shift: -3.4 ppm }
 *   objects:                     # later objects replace earlier ones
 *     - { shape: ellipse, centre: [0 mm, 0 mm], radii: [80 mm, 60 mm],
 *         angle: 30 deg, tissue: water }
 *
 * Shapes: circle (radius), ellipse (radii: 2), rectangle (size: 2) in 2D
 * phantoms; sphere (radius), ellipsoid (radii: 3), box (size: 3) and
 * cylinder (radius, length, axis: x|y|z, default z) in either. centre
 * (or center) defaults to the isocentre; angle (rotation about z,
 * counter-clockwise from +x towards +y) applies to every shape but circle
 * and sphere. radii are semi-axes; size and length are full lengths. A
 * tissue is a name from tissues:, the built-in `air` (PD 0: carves holes),
 * or an inline mapping. A tissue needs pd, and t1 and t2 unless pd is 0;
 * t2star defaults to t2; df (Hz), chemical_shift (ppm; the simulator
 * converts it at its B0) and diffusion default to 0.
 *
 * Error codes: see phantom.h.
 */
#include "runtime/phantom/phantom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "base/util.h"
#include "runtime/io/ytree.h"

#define PI 3.14159265358979323846
#define PH_MAX_FILE (1u << 20)   /* bytes of YAML */
#define PH_MAX_DEPTH 16

static const struct ydoc_kind phantom_yaml = {
    .syntax_code = 801, .structure_code = 816, .max_depth = PH_MAX_DEPTH,
    .what = "a phantom description",
    .syntax_help = "a phantom description is a YAML mapping: `fov:`, `resolution:`, "
                   "`tissues:`, `objects:` (README.md, \"Phantoms\")",
    .second_doc_help = "one phantom per file: remove the `---` line and what follows",
    .depth_help = "a phantom description nests a few levels: objects, an object, its centre",
    .type_code = 805, .unknown_code = 802, .dup_code = 803, .missing_code = 804,
    .range_code = 810,
    .the_what = "the phantom description", .map_name = "a mapping", .seq_name = "a list",
    .map_lines = "`key: value`", .top_prep = "in", .add_prep = "to", .add_end = "",
};

/* ------------------------------------------------------------- schema */

/* ----------------------------------------------------------- quantities */

enum qk { Q_NUMBER, Q_COUNT, Q_LENGTH, Q_TIME, Q_FREQ, Q_ANGLE, Q_PPM, Q_DIFF };

static const struct {
    const char *what, *example, *units;
    struct dim dim;
} qkinds[] = {
    [Q_NUMBER] = { "a plain number", "1", "none", { 0, 0, 0 } },
    [Q_COUNT] = { "a whole number", "128", "none", { 0, 0, 0 } },
    [Q_LENGTH] = { "a length", "20 mm", "mm, cm, m, um", { 0, 1, 0 } },
    [Q_TIME] = { "a time", "100 ms", "ms, s, us", { 1, 0, 0 } },
    [Q_FREQ] = { "a frequency", "-220 Hz", "Hz, kHz", { -1, 0, 0 } },
    [Q_ANGLE] = { "an angle", "30 deg", "deg, rad", { 0, 0, 0 } },
    [Q_PPM] = { "a chemical shift", "-3.4 ppm", "ppm", { 0, 0, 0 } },
    [Q_DIFF] = { "a diffusion coefficient", "3e-3 mm^2/s", "mm^2/s, um^2/ms, m^2/s",
                 { 0, 0, 0 } },
};

/* Diffusion units (the language's unit table has no squares). */
static const struct {
    const char *name;
    double scale;
} diff_units[] = {
    { "m2/s", 1 }, { "cm2/s", 1e-4 }, { "mm2/s", 1e-6 }, { "um2/ms", 1e-9 },
    { "µm2/ms", 1e-9 }, { "um2/s", 1e-12 }, { "µm2/s", 1e-12 },
};

static bool diff_unit(const char *u, size_t n, double *scale)
{
    char buf[32];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < sizeof buf; i++) {
        if (u[i] == '^')
            continue;
        if ((unsigned char)u[i] == 0xC2 && i + 1 < n && (unsigned char)u[i + 1] == 0xB2) {
            buf[o++] = '2';     /* ² */
            i++;
            continue;
        }
        buf[o++] = u[i];
    }
    buf[o] = 0;
    for (size_t i = 0; i < ARRAY_LEN(diff_units); i++)
        if (!strcmp(buf, diff_units[i].name)) {
            *scale = diff_units[i].scale;
            return true;
        }
    return false;
}

/* "20 mm", "2.5 s", "-3.4 ppm": an SI value in the display unit. */
static void fmt_q(double si, int k, char *buf, size_t n)
{
    if (si == 0 && k != Q_NUMBER && k != Q_COUNT) {
        snprintf(buf, n, "0");
        return;
    }
    switch (k) {
    case Q_LENGTH:
        if (fabs(si) >= 1)
            snprintf(buf, n, "%.6g m", si);
        else
            snprintf(buf, n, "%.6g mm", si * 1e3);
        break;
    case Q_TIME:
        if (fabs(si) >= 1)
            snprintf(buf, n, "%.6g s", si);
        else
            snprintf(buf, n, "%.6g ms", si * 1e3);
        break;
    case Q_FREQ: snprintf(buf, n, "%.6g Hz", si); break;
    case Q_ANGLE: snprintf(buf, n, "%.6g deg", si * 180 / PI); break;
    case Q_PPM: snprintf(buf, n, "%.6g ppm", si); break;
    case Q_DIFF: snprintf(buf, n, "%.6g mm^2/s", si * 1e6); break;
    default: snprintf(buf, n, "%.6g", si); break;
    }
}

/* Parse scalar v as a quantity of kind k into SI. lo..hi (SI) bound it, lo
   excluded if lo_open. Reports errors; returns success. */
static bool qparse(struct ydoc *L, const struct ynode *v, const char *key, enum qk k, double lo,
                   double hi, bool lo_open, double *out)
{
    const char *what = qkinds[k].what, *ex = qkinds[k].example;
    if (!yscalar(L, v, key, what, ex))
        return false;
    const char *s = v->str;
    struct yquantity yq;
    if (!yquantity_split(L, v, &yq)) {
        struct diag *g = diag_error(L->d, 806, ynspan(L, v), "%s: '%s' is not a number", key, s);
        if (k == Q_NUMBER || k == Q_COUNT)
            diag_help(g, "%s is %s, e.g. %s", ykey_leaf(key), what, ex);
        else
            diag_help(g, "%s is %s: a number and a unit, e.g. %s", ykey_leaf(key), what, ex);
        return false;
    }
    size_t a = yq.num, nl = yq.nnum;
    const char *unit = s + yq.unit;
    size_t ul = yq.nunit;
    struct span uspan = yq.uspan;
    char *num = xstrndup(s + a, nl);
    double x = strtod(num, NULL);
    free(num);
    double scale = 1;
    if (k == Q_NUMBER || k == Q_COUNT) {
        if (ul) {
            struct diag *g = diag_error(L->d, 808, uspan, "%s is %s; it takes no unit '%.*s'",
                                        key, what, (int)ul, unit);
            diag_help(g, "write the number alone, e.g. `%s: %.*s`", ykey_leaf(key), (int)nl, s + a);
            return false;
        }
    } else if (!ul) {
        struct diag *g = diag_error(L->d, 807, ynspan(L, v), "%s: %.*s has no unit", key, (int)nl,
                                    s + a);
        diag_help(g, "%s is %s; write it with a unit (%s), e.g. %s", ykey_leaf(key), what,
                  qkinds[k].units, ex);
        return false;
    } else {
        struct dim d;
        double us;
        const char *other = NULL;
        char desc[96];
        bool known = true;
        if (k == Q_DIFF) {
            if (!diff_unit(unit, ul, &scale)) {
                if (unit_parse(unit, ul, &us, &d)) {
                    dim_describe(d, desc, sizeof desc);
                    other = desc;
                } else {
                    known = false;
                }
            }
        } else if (k == Q_ANGLE || k == Q_PPM) {
            bool deg = ul == 3 && !memcmp(unit, "deg", 3);
            bool rad = ul == 3 && !memcmp(unit, "rad", 3);
            bool ppm = ul == 3 && !memcmp(unit, "ppm", 3);
            bool sym = ul == 2 && !memcmp(unit, "\xC2\xB0", 2);
            if (k == Q_ANGLE && (deg || sym))
                scale = PI / 180;
            else if (k == Q_ANGLE && rad)
                scale = 1;
            else if (k == Q_PPM && ppm)
                scale = 1;  /* kept in ppm */
            else if (ppm || deg || rad || sym)
                other = ppm ? "a chemical shift" : "an angle";
            else if (unit_parse(unit, ul, &us, &d) || diff_unit(unit, ul, &us)) {
                if (diff_unit(unit, ul, &us))
                    snprintf(desc, sizeof desc, "a diffusion coefficient");
                else
                    dim_describe(d, desc, sizeof desc);
                other = desc;
            } else
                known = false;
        } else if (unit_parse(unit, ul, &scale, &d)) {
            if (!dim_eq(d, qkinds[k].dim) || dim_is_none(d)) {
                if (dim_is_none(d))
                    snprintf(desc, sizeof desc, "%s", ul == 3 && !memcmp(unit, "ppm", 3)
                             ? "a chemical shift" : "an angle");
                else
                    dim_describe(d, desc, sizeof desc);
                other = desc;
            }
        } else if (diff_unit(unit, ul, &us)) {
            other = "a diffusion coefficient";
        } else {
            known = false;
        }
        if (!known) {
            struct diag *g = diag_error(L->d, 809, uspan, "%s: unknown unit '%.*s'", key,
                                        (int)ul, unit);
            diag_help(g, "%s is %s, in %s; e.g. %s", ykey_leaf(key), what, qkinds[k].units, ex);
            return false;
        }
        if (other) {
            struct diag *g = diag_error(L->d, 808, uspan, "%s: expected %s, but '%.*s' "
                                        "measures %s", key, what, (int)ul, unit, other);
            if (k == Q_PPM)
                diag_help(g, "give chemical_shift in ppm (fat: -3.4 ppm), or an off-resonance "
                          "in Hz with df:");
            else
                diag_help(g, "give %s in %s, e.g. %s", ykey_leaf(key), qkinds[k].units, ex);
            return false;
        }
    }
    x *= scale;
    if (!isfinite(x)) {
        struct diag *g = diag_error(L->d, 806, ynspan(L, v), "%s: %.*s is too large a number",
                                    key, (int)nl, s + a);
        diag_help(g, "%s is %s, e.g. %s", ykey_leaf(key), what, ex);
        return false;
    }
    if (k == Q_COUNT && x != floor(x)) {
        struct diag *g = diag_error(L->d, 806, ynspan(L, v), "%s: %s is not a whole number", key,
                                    s);
        diag_help(g, "%s counts voxels; give a whole number", ykey_leaf(key));
        return false;
    }
    if (!yin_range(L, v, key, true, x, lo, hi, lo_open, fmt_q, k))
        return false;
    *out = x;
    return true;
}

/* A list of min..max quantities (or a single one if one_ok, giving count
   1). Returns the number read, or -1 (reported). */
static int qlist(struct ydoc *L, const struct ynode *v, const char *key, enum qk k, double lo,
                 double hi, bool lo_open, int min, int max, bool one_ok, double *out)
{
    const char *ex = qkinds[k].example;
    if (v->kind == YK_SCALAR && one_ok && !ynull(v))
        return qparse(L, v, key, k, lo, hi, lo_open, out) ? 1 : -1;
    if (v->kind != YK_SEQ) {
        struct diag *g = diag_error(L->d, 805, ynspan(L, v), "%s must be a list [..], not %s", key,
                                    ykind_name(L, v));
        if (min == max)
            diag_help(g, "write %d values, e.g. `%s: [%s%s%s%s%s]`", min, ykey_leaf(key), ex,
                      min > 1 ? ", " : "", min > 1 ? ex : "", min > 2 ? ", " : "",
                      min > 2 ? ex : "");
        else
            diag_help(g, "write %d or %d values, e.g. `%s: [%s, %s]`", min, max, ykey_leaf(key), ex,
                      ex);
        return -1;
    }
    int n = (int)v->nkids;
    if (n < min || n > max) {
        char takes[32];
        if (max > min)
            snprintf(takes, sizeof takes, "%d or %d", min, max);
        else
            snprintf(takes, sizeof takes, "%d", min);
        struct diag *g = diag_error(L->d, 817, ynspan(L, v), "%s has %d value%s; it takes %s",
                                    key, n, n == 1 ? "" : "s", takes);
        diag_help(g, "write `%s: [%s, %s%s%s]`", ykey_leaf(key), ex, ex, min > 2 ? ", " : "",
                  min > 2 ? ex : "");
        return -1;
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s[%d]", key, i);
        ok = qparse(L, v->kids[i], p, k, lo, hi, lo_open, &out[i]) && ok;
    }
    return ok ? n : -1;
}

/* A scalar string without NUL bytes; NULL (reported) if not one. */
static const char *get_str(struct ydoc *L, const struct ynode *v, const char *key,
                           const char *example)
{
    if (v->kind == YK_SCALAR && !ynull(v) && !memchr(v->str, 0, v->len))
        return v->str;
    yreport_not_scalar(L, v, key, "a single value", example);
    return NULL;
}

/* --------------------------------------------------------- the phantom */

struct tis {
    const char *name;
    const struct ynode *key;  /* where it is defined (NULL: built-in or inline) */
    struct phantom_tissue t;
    bool ok;                  /* loaded without errors */
    bool used;
};

struct obj {
    const struct ynode *node;
    char label[64];           /* "objects[3] (sphere)" */
};

struct desc {
    int dims;                 /* 2 or 3; 0 if fov failed */
    double fov[3];
    struct tis *tis;
    size_t ntis, captis;
    bool tissues_bad;         /* tissues: is not a mapping (names stay unknown) */
    struct phantom_shape *shapes;   /* one per object, in order */
    struct obj *objs;
    size_t nobj, capobj, nshapes, capshapes;
};

static void add_object(struct desc *D, const struct phantom_shape *sh, const struct obj *o)
{
    VEC_PUSH(D->shapes, D->nshapes, D->capshapes, *sh);
    VEC_PUSH(D->objs, D->nobj, D->capobj, *o);
}

static const char *const tissue_keys[] = { "pd", "t1", "t2", "t2star", "df", "chemical_shift",
                                           "diffusion" };

/* Read a tissue mapping at where into t; false (reported) if it has errors. */
static bool load_tissue(struct ydoc *L, const char *where, const struct ynode *key,
                        const struct ynode *m, struct phantom_tissue *t)
{
    struct ysec s;
    int e0 = L->d->nerrors;
    memset(t, 0, sizeof *t);
    if (!ysec_open(L, &s, where, key, m, tissue_keys, ARRAY_LEN(tissue_keys)))
        return false;
    char p[160];
    const struct ynode *v;
    bool have_pd = false;
    if (!(v = ysec_val(&s, "pd")))
        ysec_missing(L, &s, "pd", "1.0");
    else {
        ysec_path(&s, "pd", p, sizeof p);
        have_pd = qparse(L, v, p, Q_NUMBER, 0, 100, false, &t->pd);
    }
    bool air = have_pd && t->pd == 0;
    bool t1ok = false, t2ok = false, t2sok = false;
    if ((v = ysec_val(&s, "t1"))) {
        ysec_path(&s, "t1", p, sizeof p);
        t1ok = qparse(L, v, p, Q_TIME, 0, 1000, true, &t->t1);
    } else if (!air) {
        ysec_missing(L, &s, "t1", "1000 ms");
    }
    if ((v = ysec_val(&s, "t2"))) {
        ysec_path(&s, "t2", p, sizeof p);
        t2ok = qparse(L, v, p, Q_TIME, 0, 1000, true, &t->t2);
    } else if (!air) {
        ysec_missing(L, &s, "t2", "100 ms");
    }
    if ((v = ysec_val(&s, "t2star"))) {
        ysec_path(&s, "t2star", p, sizeof p);
        t2sok = qparse(L, v, p, Q_TIME, 0, 1000, true, &t->t2s);
    }
    if ((v = ysec_val(&s, "df"))) {
        ysec_path(&s, "df", p, sizeof p);
        qparse(L, v, p, Q_FREQ, -1e6, 1e6, false, &t->df);
    }
    if ((v = ysec_val(&s, "chemical_shift"))) {
        ysec_path(&s, "chemical_shift", p, sizeof p);
        qparse(L, v, p, Q_PPM, -1000, 1000, false, &t->cs_ppm);
    }
    if ((v = ysec_val(&s, "diffusion"))) {
        ysec_path(&s, "diffusion", p, sizeof p);
        qparse(L, v, p, Q_DIFF, 0, 1e-7, false, &t->dc);
    }
    if (t1ok && t2ok && t->t2 > 2 * t->t1) {
        char a[48], b[48];
        fmt_q(t->t2, Q_TIME, a, sizeof a);
        fmt_q(t->t1, Q_TIME, b, sizeof b);
        struct diag *g = diag_error(L->d, 811, ynspan(L, ysec_val(&s, "t2")), "%s.t2 %s is more "
                                    "than twice t1 %s", where, a, b);
        diag_note(g, ynspan(L, ysec_val(&s, "t1")), "t1 is given here");
        diag_help(g, "T2 <= 2 T1 for any relaxation mechanism; are t1 and t2 swapped?");
    }
    if (t2ok && t2sok && t->t2s > t->t2) {
        char a[48], b[48];
        fmt_q(t->t2s, Q_TIME, a, sizeof a);
        fmt_q(t->t2, Q_TIME, b, sizeof b);
        struct diag *g = diag_error(L->d, 811, ynspan(L, ysec_val(&s, "t2star")), "%s.t2star %s is "
                                    "longer than t2 %s", where, a, b);
        diag_note(g, ynspan(L, ysec_val(&s, "t2")), "t2 is given here");
        diag_help(g, "1/T2* = 1/T2 + 1/T2': T2* cannot exceed T2 (leave t2star out for "
                  "T2* = T2)");
    }
    if (!ysec_val(&s, "t2star"))
        t->t2s = t->t2;
    if (air && !ysec_val(&s, "t1"))
        t->t1 = t->t2 = t->t2s = INFINITY;
    return L->d->nerrors == e0;
}

static void load_tissues(struct ydoc *L, struct desc *D, const struct ynode *key,
                         const struct ynode *m)
{
    if (m->kind != YK_MAP) {
        D->tissues_bad = true;
        struct diag *g = diag_error(L->d, 805, ynull(m) ? ynspan(L, key) : ynspan(L, m),
                                    "tissues must be a mapping of names to properties, not %s",
                                    ykind_name(L, m));
        diag_help(g, "write `tissues:` then lines like `  water: { t1: 2500 ms, t2: 1500 ms, "
                  "pd: 1 }`");
        return;
    }
    for (size_t i = 0; i + 1 < m->nkids; i += 2) {
        const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
        if (k->kind != YK_SCALAR || ynull(k)) {
            struct diag *g = diag_error(L->d, 805, ynspan(L, k), "a tissue's name must be a "
                                        "single word, not %s", ykind_name(L, k));
            diag_help(g, "write `water: { t1: 2500 ms, t2: 1500 ms, pd: 1 }`");
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < D->ntis; j++)
            if (D->tis[j].key && !strcmp(D->tis[j].name, k->str)) {
                struct diag *g = diag_error(L->d, 803, ynspan(L, k), "tissue '%s' is defined "
                                            "twice", k->str);
                diag_note(g, ynspan(L, D->tis[j].key), "first defined here");
                diag_help(g, "give each tissue its own name");
                dup = true;
            }
        if (dup)
            continue;
        char where[96];
        snprintf(where, sizeof where, "tissues.%.80s", k->str);
        struct tis t = { .name = k->str, .key = k };
        t.ok = load_tissue(L, where, k, v, &t.t);
        VEC_PUSH(D->tis, D->ntis, D->captis, t);
    }
}

/* The tissue an object (or the background) names, or defines inline.
   Returns its index, or -1 (reported). */
static int resolve_tissue(struct ydoc *L, struct desc *D, const char *where,
                          const struct ynode *key, const struct ynode *v)
{
    if (v->kind == YK_MAP) {
        struct tis t = { .name = where, .used = true };
        t.name = arena_strdup(&L->a, where);
        t.ok = load_tissue(L, where, key, v, &t.t);
        VEC_PUSH(D->tis, D->ntis, D->captis, t);
        return t.ok ? (int)D->ntis - 1 : -1;
    }
    char path[112];
    snprintf(path, sizeof path, "%s", where);
    const char *name = get_str(L, v, path, "water");
    if (!name)
        return -1;
    for (size_t j = 0; j < D->ntis; j++)
        if (D->tis[j].key && !strcmp(D->tis[j].name, name)) {
            D->tis[j].used = true;
            return D->tis[j].ok ? (int)j : -1;
        }
    if (!strcmp(name, "air")) {
        for (size_t j = 0; j < D->ntis; j++)
            if (!D->tis[j].key && !strcmp(D->tis[j].name, "air"))
                return (int)j;
        struct tis t = { "air", NULL, { 0, INFINITY, INFINITY, INFINITY, 0, 0, 0 }, true, true };
        VEC_PUSH(D->tis, D->ntis, D->captis, t);
        return (int)D->ntis - 1;
    }
    if (D->tissues_bad)
        return -1;              /* tissues: is reported already */
    const char **names = xmalloc((D->ntis + 1) * sizeof *names);
    size_t nn = 0;
    for (size_t j = 0; j < D->ntis; j++)
        if (D->tis[j].key)
            names[nn++] = D->tis[j].name;
    names[nn++] = "air";
    struct diag *g = diag_error(L->d, 812, ynspan(L, v), "unknown tissue '%s'", name);
    const char *near = str_nearest(name, names, nn);
    char *all = str_join(names, nn);
    if (near)
        diag_help(g, "did you mean '%s'? the tissues are: %s", near, all);
    else
        diag_help(g, "define it under tissues:, or use one of: %s", all);
    free(all);
    free(names);
    return -1;
}

enum okey { K_SHAPE, K_TISSUE, K_CENTRE, K_CENTER, K_RADIUS, K_RADII, K_SIZE, K_LENGTH,
            K_AXIS, K_ANGLE, K__COUNT };
static const char *const object_keys[K__COUNT] = { "shape", "tissue", "centre", "center",
                                                   "radius", "radii", "size", "length",
                                                   "axis", "angle" };

#define B(k) (1u << (k))

static const struct shape_spec {
    const char *name;
    bool only2d;
    enum phantom_shape_kind kind;
    unsigned keys;            /* besides shape, tissue, centre */
    unsigned need;
    int nvals;                /* values of radii / size */
    const char *example;
} shape_specs[] = {
    { "circle", true, PHANTOM_ELLIPSOID, B(K_RADIUS), B(K_RADIUS), 1, "radius: 20 mm" },
    { "ellipse", true, PHANTOM_ELLIPSOID, B(K_RADII) | B(K_ANGLE), B(K_RADII), 2,
      "radii: [40 mm, 20 mm]" },
    { "rectangle", true, PHANTOM_BOX, B(K_SIZE) | B(K_ANGLE), B(K_SIZE), 2,
      "size: [40 mm, 20 mm]" },
    { "sphere", false, PHANTOM_ELLIPSOID, B(K_RADIUS), B(K_RADIUS), 1, "radius: 20 mm" },
    { "ellipsoid", false, PHANTOM_ELLIPSOID, B(K_RADII) | B(K_ANGLE), B(K_RADII), 3,
      "radii: [40 mm, 20 mm, 30 mm]" },
    { "box", false, PHANTOM_BOX, B(K_SIZE) | B(K_ANGLE), B(K_SIZE), 3,
      "size: [40 mm, 20 mm, 30 mm]" },
    { "cylinder", false, PHANTOM_CYLINDER, B(K_RADIUS) | B(K_LENGTH) | B(K_AXIS) | B(K_ANGLE),
      B(K_RADIUS) | B(K_LENGTH), 1, "radius: 20 mm, length: 80 mm" },
};

static const char *key_example(enum okey k, const struct shape_spec *ss)
{
    switch (k) {
    case K_RADIUS: return "20 mm";
    case K_RADII: return ss && ss->nvals == 2 ? "[40 mm, 20 mm]" : "[40 mm, 20 mm, 30 mm]";
    case K_SIZE: return ss && ss->nvals == 2 ? "[40 mm, 20 mm]" : "[40 mm, 20 mm, 30 mm]";
    case K_LENGTH: return "80 mm";
    case K_AXIS: return "z";
    case K_ANGLE: return "30 deg";
    case K_TISSUE: return "water";
    case K_SHAPE: return "sphere";
    default: return "[0 mm, 0 mm]";
    }
}

/* The shape an object names (NULL, reported, if it names none, an
   unknown one or a 2D shape in a 3D phantom); label becomes
   "objects[3] (sphere)". */
static const struct shape_spec *object_shape(struct ydoc *L, const struct desc *D,
                                             const struct ysec *s, const char *where,
                                             char *label, size_t nlabel)
{
    const struct shape_spec *ss = NULL;
    const struct ynode *v = s->v[K_SHAPE];
    if (!v) {
        ysec_missing(L, s, "shape", "sphere");
    } else {
        char p[64];
        snprintf(p, sizeof p, "%s.shape", where);
        const char *name = get_str(L, v, p, "sphere");
        for (size_t i = 0; name && i < ARRAY_LEN(shape_specs); i++)
            if (!strcmp(name, shape_specs[i].name))
                ss = &shape_specs[i];
        if (name && !ss) {
            const char *names[ARRAY_LEN(shape_specs)];
            for (size_t i = 0; i < ARRAY_LEN(shape_specs); i++)
                names[i] = shape_specs[i].name;
            struct diag *g = diag_error(L->d, 813, ynspan(L, v), "unknown shape '%s'", name);
            const char *near = str_nearest(name, names, ARRAY_LEN(names));
            char *all = str_join(names, ARRAY_LEN(names));
            if (near)
                diag_help(g, "did you mean '%s'? shapes: %s", near, all);
            else
                diag_help(g, "shapes: %s", all);
            free(all);
        }
    }
    if (ss) {
        snprintf(label, nlabel, "%s (%s)", where, ss->name);
        if (ss->only2d && D->dims == 3) {
            static const char *const instead[] = { "sphere or cylinder", "ellipsoid", "box" };
            int w = ss == &shape_specs[0] ? 0 : ss == &shape_specs[1] ? 1 : 2;
            struct diag *g = diag_error(L->d, 818, ynspan(L, v), "a %s is a 2D shape, but the "
                                        "phantom is 3D (fov has 3 values)", ss->name);
            diag_help(g, "use a %s, or give fov two values for a 2D phantom", instead[w]);
            ss = NULL;
        }
    }
    return ss;
}

/* Report the keys of other shapes an object of shape ss gives, and the
   ones it needs and lacks (a radius given as radii, or the reverse,
   explains the missing one). */
static void check_shape_keys(struct ydoc *L, const struct ysec *s, const struct shape_spec *ss)
{
    unsigned explained = 0;
    for (int k = K_RADIUS; k < K__COUNT; k++)
        if (s->v[k] && !(ss->keys & B(k))) {
            if (k == K_RADIUS || k == K_RADII || k == K_SIZE)
                explained |= ss->need & (B(K_RADIUS) | B(K_RADII) | B(K_SIZE));
            char have[96] = "shape, tissue, centre";
            for (int j = K_RADIUS; j < K__COUNT; j++)
                if (ss->keys & B(j)) {
                    size_t l = strlen(have);
                    snprintf(have + l, sizeof have - l, ", %s", object_keys[j]);
                }
            struct diag *g = diag_error(L->d, 802, ynspan(L, s->k[k]), "a %s takes no '%s'",
                                        ss->name, object_keys[k]);
            if (k == K_RADIUS && (ss->keys & B(K_RADII)))
                diag_help(g, "a %s takes radii, its semi-axes: `%s`", ss->name,
                          ss->example);
            else if (k == K_RADII && (ss->keys & B(K_RADIUS)))
                diag_help(g, "a %s takes one radius: `radius: 20 mm`", ss->name);
            else
                diag_help(g, "a %s takes: %s", ss->name, have);
        }
    for (int k = K_RADIUS; k < K__COUNT; k++)
        if ((ss->need & B(k)) && !s->v[k] && !(explained & B(k)))
            ysec_missing(L, s, object_keys[k], key_example((enum okey)k, ss));
}

/* An object's centre (centre or center), if given, into centre. */
static void object_centre(struct ydoc *L, const struct desc *D, const struct ysec *s,
                          const char *where, const struct shape_spec *ss, double centre[3])
{
    const struct ynode *cv = s->v[K_CENTRE] ? s->v[K_CENTRE] : s->v[K_CENTER];
    if (!cv || !D->dims)
        return;
    char p[64];
    snprintf(p, sizeof p, "%s.%s", where, s->v[K_CENTRE] ? "centre" : "center");
    double c[3] = { 0, 0, 0 };
    bool want2 = D->dims == 2 && (!ss || ss->only2d);
    int lo = D->dims == 2 ? 2 : 3, hi = want2 ? 2 : 3;
    int got = qlist(L, cv, p, Q_LENGTH, -10, 10, false, lo, hi, false, c);
    if (got > 0)
        memcpy(centre, c, sizeof c);
    else if (cv->kind == YK_SEQ && L->d->ndiags &&
             L->d->diags[L->d->ndiags - 1]->code == 817) {
        struct diag *g = L->d->diags[L->d->ndiags - 1];
        if (D->dims == 2 && cv->nkids == 3)
            diag_help(g, "a %s lies in the plane: its centre is [x, y]; only 3D shapes "
                      "(sphere, ellipsoid, box, cylinder) take a z",
                      ss ? ss->name : "2D shape");
        else
            diag_help(g, "write `%s: [0 mm, 0 mm%s]`", ykey_leaf(p),
                      D->dims == 3 ? ", 0 mm" : "");
    }
}

/* One object of the list; adds its shape to D (even when it has errors,
   so that the indices match: the caller stops on errors anyway). */
static void load_object(struct ydoc *L, struct desc *D, size_t idx, const struct ynode *m)
{
    char where[48];
    snprintf(where, sizeof where, "objects[%zu]", idx);
    struct phantom_shape sh = { 0 };
    sh.half[0] = sh.half[1] = sh.half[2] = 1;
    sh.tissue = -1;
    phantom_shape_orient(&sh, 2, 0);
    struct obj o = { m, "" };
    snprintf(o.label, sizeof o.label, "%s", where);
    struct ysec s;
    if (!ysec_open(L, &s, where, NULL, m, object_keys, K__COUNT)) {
        add_object(D, &sh, &o);
        return;
    }
    const struct ynode *v = s.v[K_SHAPE];
    const struct shape_spec *ss = object_shape(L, D, &s, where, o.label, sizeof o.label);
    if (s.v[K_CENTRE] && s.v[K_CENTER]) {
        struct diag *g = diag_error(L->d, 803, ynspan(L, s.k[K_CENTER]), "%s gives both centre "
                                    "and center", where);
        diag_note(g, ynspan(L, s.k[K_CENTRE]), "centre is given here");
        diag_help(g, "keep one of them");
    }
    if (ss)
        check_shape_keys(L, &s, ss);
    object_centre(L, D, &s, where, ss, sh.centre);
    if (!ss) {
        add_object(D, &sh, &o);
        if (s.v[K_TISSUE])
            resolve_tissue(L, D, where, s.k[K_TISSUE], s.v[K_TISSUE]);
        else if (v)
            ysec_missing(L, &s, "tissue", "water");
        return;
    }
    sh.kind = ss->kind;
    char p[64];
    if (s.v[K_RADIUS]) {
        snprintf(p, sizeof p, "%s.radius", where);
        double r;
        if (qparse(L, s.v[K_RADIUS], p, Q_LENGTH, 0, 10, true, &r))
            sh.half[0] = sh.half[1] = sh.half[2] = r;
    }
    const struct ynode *ext = s.v[K_RADII] ? s.v[K_RADII] : s.v[K_SIZE];
    if (ext && (ss->keys & (B(K_RADII) | B(K_SIZE)))) {
        snprintf(p, sizeof p, "%s.%s", where, s.v[K_RADII] ? "radii" : "size");
        double e[3];
        int got = qlist(L, ext, p, Q_LENGTH, 0, 10, true, ss->nvals, ss->nvals, false, e);
        if (got == ss->nvals)
            for (int i = 0; i < got; i++)
                sh.half[i] = s.v[K_RADII] ? e[i] : e[i] / 2;
        else if (got < 0 && ext->kind == YK_SEQ && (int)ext->nkids != ss->nvals &&
                 D->dims == 2 && ss->nvals == 3) {
            /* the list error is reported; point at the 2D shape */
            struct diag *g = L->d->ndiags ? L->d->diags[L->d->ndiags - 1] : NULL;
            if (g && g->code == 817)
                diag_help(g, "a %s has three %s; in a 2D phantom a %s takes two", ss->name,
                          s.v[K_RADII] ? "semi-axes" : "edges",
                          ss->kind == PHANTOM_BOX ? "rectangle" : "ellipse");
        } else if (got < 0 && ext->kind == YK_SEQ && (int)ext->nkids != ss->nvals) {
            struct diag *g = L->d->ndiags ? L->d->diags[L->d->ndiags - 1] : NULL;
            if (g && g->code == 817)
                diag_help(g, "write `%s`", ss->example);
        }
    }
    if (ss->only2d)
        sh.half[2] = INFINITY;
    if (s.v[K_LENGTH]) {
        snprintf(p, sizeof p, "%s.length", where);
        double l;
        if (qparse(L, s.v[K_LENGTH], p, Q_LENGTH, 0, 10, true, &l))
            sh.half[2] = l / 2;
    }
    int axis = 2;
    if (s.v[K_AXIS]) {
        snprintf(p, sizeof p, "%s.axis", where);
        const char *a = get_str(L, s.v[K_AXIS], p, "z");
        if (a && strlen(a) == 1 && a[0] >= 'x' && a[0] <= 'z')
            axis = a[0] - 'x';
        else if (a) {
            struct diag *g = diag_error(L->d, 813, ynspan(L, s.v[K_AXIS]), "%s: unknown axis '%s'",
                                        p, a);
            diag_help(g, "a cylinder's axis is x, y or z");
        }
    }
    double angle = 0;
    if (s.v[K_ANGLE]) {
        snprintf(p, sizeof p, "%s.angle", where);
        qparse(L, s.v[K_ANGLE], p, Q_ANGLE, -1e3, 1e3, false, &angle);
    }
    phantom_shape_orient(&sh, axis, angle);
    if (s.v[K_TISSUE])
        sh.tissue = resolve_tissue(L, D, where, s.k[K_TISSUE], s.v[K_TISSUE]);
    else
        ysec_missing(L, &s, "tissue", "water");
    add_object(D, &sh, &o);
}

static const char *const root_keys[] = { "name", "description", "fov", "resolution", "matrix",
                                          "thickness", "background", "tissues", "objects" };

/* Whether any part of the shape's bounding box meets the grid's extent. */
static bool meets_fov(const struct phantom_shape *s, const double half_fov[3])
{
    for (int j = 0; j < 3; j++) {
        double e = 0;
        for (int k = 0; k < 3; k++) {
            double a = s->axes[k][j];
            if (a != 0)
                e += fabs(s->half[k] * a);
        }
        if (isfinite(half_fov[j]) &&
            (s->centre[j] - e > half_fov[j] || s->centre[j] + e < -half_fov[j]))
            return false;
    }
    return true;
}

/* Round the grid to a whole number of voxels across the field of view
   (a warning says so where the voxel size does not divide it). */
static void snap_grid(struct ydoc *L, const struct ysec *s, const struct desc *D, double res_m,
                      double vox[3], int n[3])
{
    /* a whole number of voxels across the field of view */
    char axes[24] = "", want[64] = "", got[96] = "", cnt[64] = "";
    double req = 0;
    for (int a = 0; a < D->dims; a++) {
        double q = D->fov[a] / vox[a];
        double r = floor(q + 0.5);
        if (r < 1)
            r = 1;
        n[a] = r > 2e9 ? 2000000000 : (int)r;
        if (fabs(q - r) > 1e-6 * q && r <= 2e9) {
            size_t l = strlen(axes);
            snprintf(axes + l, sizeof axes - l, "%s%c", l ? ", " : "", "xyz"[a]);
            if (!req)
                req = vox[a];
        }
        vox[a] = D->fov[a] / r;
    }
    if (axes[0]) {
        fmt_q(req, Q_LENGTH, want, sizeof want);
        for (int a = 0; a < D->dims; a++) {
            size_t l = strlen(cnt), m = strlen(got);
            snprintf(cnt + l, sizeof cnt - l, "%s%d", a ? " x " : "", n[a]);
            snprintf(got + m, sizeof got - m, "%s%.6g", a ? " x " : "", vox[a] * 1e3);
        }
        struct diag *g = diag_warning(L->d, 827, ynspan(L, ysec_val(s, "fov")),
                                      "fov is not a whole number of %s voxels on %s; "
                                      "using %s voxels of %s mm", want, axes, cnt, got);
        if (res_m > 0)
            diag_help(g, "--res %s does not divide the field of view", want);
        else
            diag_help(g, "choose a resolution that divides the field of view");
    }
}

/* The grid: the field of view (its length gives the dimensions), the
   voxels from --res, resolution or matrix, and a 2D phantom's thickness.
   Returns whether the grid can be sampled. */
static bool load_grid(struct ydoc *L, const struct ysec *s, struct desc *D, double res_m,
                      double vox[3], int n[3])
{
    const struct ynode *v;
    /* field of view: its length gives the dimensions */
    if (!(v = ysec_val(s, "fov"))) {
        ysec_missing(L, s, "fov", "[200 mm, 200 mm]");
    } else {
        int got = qlist(L, v, "fov", Q_LENGTH, 0, 10, true, 2, 3, false, D->fov);
        if (got > 0)
            D->dims = got;
        else if (v->kind == YK_SEQ && (v->nkids < 2 || v->nkids > 3) && L->d->ndiags &&
                 L->d->diags[L->d->ndiags - 1]->code == 817)
            diag_help(L->d->diags[L->d->ndiags - 1], "two values make a 2D phantom, three a 3D "
                      "one: `fov: [200 mm, 200 mm]`");
    }
    /* the grid */
    const struct ynode *rv = ysec_val(s, "resolution"), *mv = ysec_val(s, "matrix");
    bool grid_ok = D->dims != 0;
    if (rv && mv) {
        struct diag *g = diag_error(L->d, 811, ynspan(L, ysec_key(s, "matrix")), "both resolution "
                                    "and matrix are given");
        diag_note(g, ynspan(L, ysec_key(s, "resolution")), "resolution is given here");
        diag_help(g, "give the voxel size (resolution) or the number of voxels (matrix), not "
                  "both");
        grid_ok = false;
    }
    if (D->dims && res_m > 0) {
        for (int a = 0; a < D->dims; a++)
            vox[a] = res_m;
    } else if (D->dims && rv) {
        double r[3];
        int got = qlist(L, rv, "resolution", Q_LENGTH, 0, 1, true, D->dims, D->dims, true, r);
        if (got == 1)
            r[1] = r[2] = r[0];
        if (got > 0)
            for (int a = 0; a < D->dims; a++)
                vox[a] = r[a];
        else
            grid_ok = false;
    } else if (D->dims && mv) {
        double m[3];
        int got = qlist(L, mv, "matrix", Q_COUNT, 1, 1e9, false, D->dims, D->dims, true, m);
        if (got == 1)
            m[1] = m[2] = m[0];
        if (got > 0)
            for (int a = 0; a < D->dims; a++) {
                n[a] = m[a] > 2e9 ? 2000000000 : (int)m[a];
                vox[a] = D->fov[a] / m[a];
            }
        else
            grid_ok = false;
    } else if (D->dims && !rv && !mv) {
        ysec_missing(L, s, "resolution", "2 mm");
        grid_ok = false;
    }
    if (grid_ok && (res_m > 0 || rv))
        snap_grid(L, s, D, res_m, vox, n);
    /* thickness */
    if ((v = ysec_val(s, "thickness"))) {
        if (D->dims == 3) {
            struct diag *g = diag_error(L->d, 802, ynspan(L, ysec_key(s, "thickness")), "thickness "
                                        "is for 2D phantoms; this one is 3D (fov has 3 values)");
            diag_help(g, "a 3D phantom's voxel size in z comes from resolution or matrix");
        } else {
            qparse(L, v, "thickness", Q_LENGTH, 0, 1, true, &vox[2]);
        }
    } else if (D->dims == 2) {
        vox[2] = 5e-3;
    }
    if (D->dims == 2)
        n[2] = 1;
    if (grid_ok) {
        char msg[256];
        if (!phantom_grid_check((uint64_t)n[0], (uint64_t)n[1], (uint64_t)n[2], msg,
                                sizeof msg)) {
            struct diag *g = diag_error(L->d, 815, rv ? ynspan(L, rv) : mv ? ynspan(L, mv)
                                                     : ynspan(L, ysec_val(s, "fov")),
                                        "%s", msg);
            diag_help(g, "use a coarser resolution (e.g. --res 2mm) or a smaller fov");
            grid_ok = false;
        } else if (phantom_budget_check(L->d, rv ? ynspan(L, rv) : mv ? ynspan(L, mv)
                                        : ynspan(L, ysec_val(s, "fov")), NULL,
                                        (uint64_t)n[0], (uint64_t)n[1], (uint64_t)n[2], 0)) {
            grid_ok = false;
        }
    }
    return grid_ok;
}

/* Sample the checked description D on its grid, warning of objects that
   decide no voxel; NULL (reported) if no voxel has signal. */
static struct phantom *sample_desc(struct ydoc *L, const struct ysec *s, const struct desc *D,
                                   const char *name, const int n[3], const double vox[3],
                                   int background, const struct ynode *ov)
{
    struct phantom_tissue *tt = xmalloc((D->ntis ? D->ntis : 1) * sizeof *tt);
    for (size_t j = 0; j < D->ntis; j++)
        tt[j] = D->tis[j].t;
    size_t *hits = xcalloc(D->nobj ? D->nobj : 1, sizeof *hits);
    struct phantom *p = phantom_sample(name, D->dims, n, vox, D->shapes, D->nobj, tt, background,
                                       hits);
    double half_fov[3] = { n[0] * vox[0] / 2, n[1] * vox[1] / 2, n[2] * vox[2] / 2 };
    for (size_t i = 0; i < D->nobj; i++) {
        if (hits[i])
            continue;
        /* the plane z = 0 of a 2D phantom counts as the field of view
           in z: a 3D shape off that plane misses it */
        const struct phantom_shape *sh = &D->shapes[i];
        double hxy[3] = { half_fov[0], half_fov[1], INFINITY };
        double hz[3] = { INFINITY, INFINITY, D->dims == 2 ? 0 : half_fov[2] };
        bool out = !meets_fov(sh, hxy) || (D->dims == 3 && !meets_fov(sh, hz));
        bool off = !out && D->dims == 2 && !meets_fov(sh, hz);
        struct diag *g = diag_warning(L->d, 826, ynspan(L, D->objs[i].node), "%s decides no "
                                      "voxel: %s", D->objs[i].label,
                                      out ? "it lies outside the field of view"
                                      : off ? "it does not meet the plane z = 0"
                                      : "it is smaller than a voxel or hidden by later "
                                        "objects");
        diag_help(g, out ? "move it inside fov (the field of view is centred on the "
                           "isocentre)"
                  : off ? "a 2D phantom is the plane z = 0: a 3D shape must cross it"
                  : "use a finer resolution, or check the order of objects (later ones "
                    "replace earlier ones)");
    }
    free(hits);
    free(tt);
    if (p && p->n == 0) {
        struct diag *g = diag_error(L->d, 814, ov ? ynspan(L, ysec_key(s, "objects"))
                                                  : yspan(L, 0, 0),
                                    "the phantom has no voxel with signal");
        diag_help(g, "check that the objects lie inside fov and that their tissues have "
                  "pd > 0");
        phantom_free(p);
        p = NULL;
    }
    return p;
}

static struct phantom *load_root(struct ydoc *L, const struct ynode *root, double res_m,
                                 const char *path)
{
    struct ysec s;
    if (!ysec_open(L, &s, "", NULL, root, root_keys, ARRAY_LEN(root_keys)))
        return NULL;
    int e0 = L->d->nerrors;
    struct desc D = { 0 };
    const struct ynode *v;
    char *name = NULL;
    double vox[3] = { 0, 0, 0 };
    int n[3] = { 1, 1, 1 };
    if ((v = ysec_val(&s, "name"))) {
        const char *nm = get_str(L, v, "name", "two vials");
        if (nm && strlen(nm) > PHANTOM_MAX_NAME) {
            struct diag *g = diag_error(L->d, 810, ynspan(L, v), "name is %zu bytes long (at most "
                                        "%d)", strlen(nm), PHANTOM_MAX_NAME);
            diag_help(g, "shorten it");
        } else if (nm) {
            name = xstrdup(nm);
        }
    }
    if ((v = ysec_val(&s, "description")))
        get_str(L, v, "description", "two vials of water and fat");
    bool grid_ok = load_grid(L, &s, &D, res_m, vox, n);
    /* tissues, then the background and objects that use them */
    const struct ynode *tk = ysec_key(&s, "tissues");
    if ((v = ysec_val(&s, "tissues")))
        load_tissues(L, &D, tk, v);
    int background = -1;
    if ((v = ysec_val(&s, "background")))
        background = resolve_tissue(L, &D, "background", ysec_key(&s, "background"), v);
    const struct ynode *ov = ysec_val(&s, "objects");
    if (!ov) {
        ysec_missing(L, &s, "objects", "[{ shape: sphere, radius: 20 mm, tissue: water }]");
    } else if (ov->kind != YK_SEQ) {
        struct diag *g = diag_error(L->d, 805, ynull(ov) ? ynspan(L, ysec_key(&s, "objects"))
                                                           : ynspan(L, ov),
                                    "objects must be a list of shapes, not %s", ykind_name(L, ov));
        diag_help(g, "write `objects:` then lines like `  - { shape: sphere, radius: 20 mm, "
                  "tissue: water }`");
    } else if (!ov->nkids && !(ysec_val(&s, "background"))) {
        struct diag *g = diag_error(L->d, 814, ynspan(L, ov), "the phantom has no objects");
        diag_help(g, "add a shape: `- { shape: sphere, radius: 20 mm, tissue: water }`");
    } else {
        for (size_t i = 0; i < ov->nkids; i++)
            load_object(L, &D, i, ov->kids[i]);
    }
    for (size_t j = 0; j < D.ntis && L->d->nerrors == e0; j++)
        if (D.tis[j].key && !D.tis[j].used && D.tis[j].ok) {
            struct diag *g = diag_warning(L->d, 826, ynspan(L, D.tis[j].key), "tissue '%s' is "
                                          "defined but no object uses it", D.tis[j].name);
            diag_help(g, "remove it, or give an object `tissue: %s`", D.tis[j].name);
        }
    struct phantom *p = NULL;
    if (L->d->nerrors == e0 && grid_ok) {
        if (!name)
            name = phantom_stem(path);
        p = sample_desc(L, &s, &D, name, n, vox, background, ov);
    }
    free(name);
    free(D.tis);
    free(D.shapes);
    free(D.objs);
    return p;
}

struct phantom *phantom_load_text(const char *path, const char *text, size_t len, double res_m,
                                  struct diag_ctx *d)
{
    if (len > PH_MAX_FILE) {
        struct diag *g = diag_error(d, 816, SPAN_NONE, "%s is %zu bytes; a phantom description "
                                    "is at most %u", path, len, PH_MAX_FILE);
        diag_help(g, "a description holds shapes, not voxels: a few kilobytes of YAML");
        return NULL;
    }
    struct ydoc L;
    ydoc_init(&L, d, &phantom_yaml, path, text, len);
    size_t n0 = d->ndiags;
    int e0 = d->nerrors;
    struct ynode *root = NULL;
    struct phantom *p = NULL;
    if (ydoc_parse(&L, &root) == 0) {
        if (!root || ynull(root)) {
            struct diag *g = diag_error(d, 804, yspan(&L, 0, 0), "the phantom description is "
                                        "empty");
            diag_help(g, "a description is a YAML mapping with fov:, resolution:, tissues: "
                      "and objects: (README.md, \"Phantoms\")");
        } else {
            p = load_root(&L, root, res_m, path);
        }
    }
    ydoc_fini(&L);
    ydoc_sort_diags(d, n0);
    if (d->nerrors != e0) {
        phantom_free(p);
        return NULL;
    }
    return phantom_vet(p, path, d);
}
