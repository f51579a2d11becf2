/*
 * phantom_h5: the phantom files in HDF5 that other simulators write: the
 * reader of JEMRIS samples (.h5), the reader and the writer of KomaMRI
 * phantoms (.phantom). Each format's layout is described above its reader;
 * phantom_load (phantom.c) picks the reader; every HDF5 call is in
 * runtime/io/h5.c.
 */
#include "runtime/phantom/phantom_h5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/membudget.h"
#include "base/util.h"

#define PI 3.14159265358979323846
#define GAMMA_1H_HZ_PER_T 42.577478518e6    /* CODATA 2018, gamma / 2 pi */

/* ------------------------------------------------------ KomaMRI writer */

/*
 * The layout KomaMRIFiles (github.com/JuliaHealth/KomaMRI.jl,
 * KomaMRIFiles/src/Phantom/Phantom.jl, write_phantom, v0.9 and later)
 * writes: root attributes Version, Name (strings), Ns, Dims (Int64);
 * datasets /position/{x,y,z} (m) and /contrast/{ρ,T1,T2,T2s,Δw} (s, rad/s),
 * one value per spin. Koma's Phantom also has the diffusion fields Dλ1,
 * Dλ2 (m^2/s) and Dθ (rad); they are written only when a voxel diffuses.
 */
int phantom_write_koma(const struct phantom *p, const char *path, double b0_T, char *err,
                       size_t errlen)
{
    if (p->cs_ppm && !(b0_T > 0)) {
        snprintf(err, errlen, "the phantom has a chemical shift in ppm; KomaMRI needs it in "
                 "rad/s, so give the field strength B0");
        return -1;
    }
    struct h5file *f = h5_create(path, err, errlen);
    if (!f)
        return -1;
    size_t n = p->n;
    uint64_t n64 = n;
    double *v = xmalloc((n ? n : 1) * sizeof *v);
    int dims = 0;
    bool diffuses = false;
    for (size_t i = 0; i < n; i++)
        diffuses = diffuses || p->dc[i] != 0;
    const float *axis[3] = { p->x, p->y, p->z };
    for (int a = 0; a < 3; a++) {
        for (size_t i = 0; i < n; i++)
            if (axis[a][i] != 0) {
                dims++;
                break;
            }
    }
    int rc = h5_write_attr_string(f, "/", "Version", "0.9.0", err, errlen);
    rc = rc ? rc : h5_write_attr_string(f, "/", "Name", p->name, err, errlen);
    rc = rc ? rc : h5_write_attr_int(f, "/", "Ns", (int64_t)n, err, errlen);
    rc = rc ? rc : h5_write_attr_int(f, "/", "Dims", dims, err, errlen);
    static const char *const pos[3] = { "/position/x", "/position/y", "/position/z" };
    for (int a = 0; a < 3 && !rc; a++) {
        for (size_t i = 0; i < n; i++)
            v[i] = axis[a][i];
        rc = h5_write_doubles(f, pos[a], 1, &n64, v, err, errlen);
    }
    /* ρ, T1, T2, T2s, Δw, Dλ1, Dλ2, Dθ */
    static const char *const names[] = {
        "/contrast/\xCF\x81", "/contrast/T1", "/contrast/T2", "/contrast/T2s",
        "/contrast/\xCE\x94w", "/contrast/D\xCE\xBB" "1", "/contrast/D\xCE\xBB" "2",
        "/contrast/D\xCE\xB8",
    };
    for (int k = 0; k < 8 && !rc; k++) {
        if (k >= 5 && !diffuses)
            break;
        for (size_t i = 0; i < n; i++) {
            switch (k) {
            case 0: v[i] = p->pd[i]; break;
            case 1: v[i] = p->t1[i]; break;
            case 2: v[i] = p->t2[i]; break;
            case 3: v[i] = p->t2s[i]; break;
            case 4:
                v[i] = 2 * PI * (p->df[i] + (p->cs_ppm ? GAMMA_1H_HZ_PER_T * b0_T *
                                                         p->cs_ppm[i] * 1e-6 : 0));
                break;
            case 5: case 6: v[i] = p->dc[i]; break;
            default: v[i] = 0; break;
            }
        }
        rc = h5_write_doubles(f, names[k], 1, &n64, v, err, errlen);
    }
    free(v);
    char cerr[256];
    if (h5_close(f, cerr, sizeof cerr) && !rc) {
        snprintf(err, errlen, "%s", cerr);
        rc = -1;
    }
    return rc;
}

/* ============================================================== JEMRIS */

/*
 * A JEMRIS sample (JEMRIS src/Sample.cpp, Sample::Populate; the property
 * order from src/Declarations.h; cross-checked with KomaMRI's
 * read_phantom_jemris, KomaMRIFiles/src/Phantom/JEMRIS.jl):
 *
 *   /sample/data        doubles; in HDF5's (C) order (Nz, Ny, Nx, P), or
 *                       (Ny, Nx, P) or (Nx, P) for fewer axes: JEMRIS
 *                       reverses the dimensions, so the properties vary
 *                       fastest, then x, y, z. P properties per voxel:
 *                       M0, R1 = 1/T1 (1/ms), R2 = 1/T2 (1/ms),
 *                       R2* = 1/T2* (1/ms), DB (off-resonance in rad/s:
 *                       JEMRIS divides it by 1000 to get its rad/ms).
 *   /sample/resolution  3 doubles (mm)
 *   /sample/offset      3 doubles (mm), optional
 *
 * The centre of voxel (ix, iy, iz) is ((ix - (Nx-1)/2) * res_x + off_x, ...)
 * mm. Voxels with M0 <= 0 hold no spins. A rate of 0 means no relaxation;
 * R2* <= R2 means T2* = T2 (JEMRIS adds the Lorentzian spread R2* - R2 only
 * when it is positive). A 5-dimensional dataset is a multi-pool sample and a
 * file without /sample/resolution a list of spins; Larmor reads neither.
 */
struct phantom *phantom_h5_jemris(const char *path, struct h5file *f, double res_m,
                                  struct diag_ctx *d)
{
    char err[256];
    int rank = 0;
    uint64_t dims[H5_MAX_RANK];
    if (h5_kind(f, "/sample/data") == H5_NONE) {
        struct diag *g = diag_error(d, 821, SPAN_NONE, "%s: no dataset /sample/data", path);
        diag_help(g, "a JEMRIS sample holds /sample/data, /sample/resolution and "
                  "/sample/offset");
        return NULL;
    }
    if (h5_dims(f, "/sample/data", &rank, dims, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s", path, err);
        return NULL;
    }
    if (rank == 5) {
        struct diag *g = diag_error(d, 824, SPAN_NONE, "%s: /sample/data has 5 dimensions: a "
                                    "multi-pool sample", path);
        diag_help(g, "Larmor reads single-pool JEMRIS samples (M0, R1, R2, R2*, DB per voxel)");
        return NULL;
    }
    if (rank < 2 || rank > 4 || dims[rank - 1] < 3 || dims[rank - 1] > 64) {
        struct diag *g = diag_error(d, 822, SPAN_NONE, "%s: /sample/data has %d dimension%s%s",
                                    path, rank, rank == 1 ? "" : "s",
                                    rank >= 2 && rank <= 4 ? " and an unexpected number of "
                                    "properties per voxel" : "");
        diag_help(g, "a JEMRIS sample is (Nz, Ny, Nx, P) in HDF5's order with P >= 3 "
                  "properties: M0, R1, R2, R2*, DB");
        return NULL;
    }
    if (h5_kind(f, "/sample/resolution") == H5_NONE) {
        struct diag *g = diag_error(d, 824, SPAN_NONE, "%s: no /sample/resolution: a list of "
                                    "spins, not a grid", path);
        diag_help(g, "Larmor reads JEMRIS samples on a grid (with /sample/resolution)");
        return NULL;
    }
    uint64_t np = dims[rank - 1];
    uint64_t nx = dims[rank - 2], ny = rank >= 3 ? dims[rank - 3] : 1,
             nz = rank == 4 ? dims[0] : 1;
    char msg[256];
    if (!phantom_grid_check(nx, ny, nz, msg, sizeof msg)) {
        diag_error(d, 815, SPAN_NONE, "%s: /sample/data: %s", path, msg);
        return NULL;
    }
    /* the properties as stored (doubles) while they are read, and the
       phantom made of them */
    if (phantom_budget_check(d, SPAN_NONE, path, nx, ny, nz,
                             mem_mul(mem_mul(mem_mul(mem_mul((size_t)nx, (size_t)ny),
                                                     (size_t)nz), (size_t)np), sizeof(double))))
        return NULL;
    if (res_m > 0)
        diag_warning(d, 828, SPAN_NONE, "%s: --res is ignored: a JEMRIS sample has its own grid",
                     path);
    double res[3], off[3] = { 0, 0, 0 };
    uint64_t rd[H5_MAX_RANK];
    int rr;
    if (h5_dims(f, "/sample/resolution", &rr, rd, err, sizeof err) ||
        h5_read_doubles(f, "/sample/resolution", res, 3, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s (a JEMRIS sample's resolution is 3 values in mm)",
                   path, err);
        return NULL;
    }
    if (h5_kind(f, "/sample/offset") != H5_NONE &&
        h5_read_doubles(f, "/sample/offset", off, 3, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s (a JEMRIS sample's offset is 3 values in mm)",
                   path, err);
        return NULL;
    }
    for (int a = 0; a < 3; a++)
        if (!isfinite(res[a]) || res[a] < 0 || !isfinite(off[a])) {
            diag_error(d, 823, SPAN_NONE, "%s: /sample/%s holds %g on %c", path,
                       !isfinite(off[a]) ? "offset" : "resolution",
                       !isfinite(off[a]) ? off[a] : res[a], "xyz"[a]);
            return NULL;
        }
    size_t nvox = (size_t)(nx * ny * nz);
    double *data = malloc(nvox * np * sizeof *data);
    if (!data) {
        char mem[64];
        snprintf(mem, sizeof mem, "%.3g GB", (double)nvox * np * 8 / 1e9);
        diag_error(d, 815, SPAN_NONE, "%s: /sample/data needs %s of memory to read", path, mem);
        return NULL;
    }
    if (h5_read_doubles(f, "/sample/data", data, nvox * np, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s", path, err);
        free(data);
        return NULL;
    }
    size_t count = 0, neg = 0, bad = SIZE_MAX;
    for (size_t i = 0; i < nvox; i++) {
        const double *v = data + i * np;
        for (uint64_t k = 0; k < np && k < 5; k++)
            if (!isfinite(v[k]) || (k >= 1 && k <= 3 && v[k] < 0))
                bad = bad == SIZE_MAX ? i : bad;
        if (v[0] > 0)
            count++;
        else if (v[0] < 0)
            neg++;
    }
    if (bad != SIZE_MAX) {
        static const char *const pn[] = { "M0", "R1", "R2", "R2*", "DB" };
        const double *v = data + bad * np;
        uint64_t k = 0;
        while (k < np && k < 5 && isfinite(v[k]) && !(k >= 1 && k <= 3 && v[k] < 0))
            k++;
        uint64_t ix = bad % nx, iy = bad / nx % ny, iz = bad / nx / ny;
        struct diag *g = diag_error(d, 823, SPAN_NONE, "%s: voxel (x %llu, y %llu, z %llu) of "
                                    "/sample/data has %s = %g", path, (unsigned long long)ix,
                                    (unsigned long long)iy, (unsigned long long)iz, pn[k], v[k]);
        diag_help(g, "relaxation rates are zero (no relaxation) or positive, in 1/ms");
        free(data);
        return NULL;
    }
    char *nm = phantom_stem(path);
    struct phantom *p = phantom_new(nm, count);
    free(nm);
    p->dims = nz > 1 ? 3 : 2;
    p->grid[0] = (int)nx;
    p->grid[1] = (int)ny;
    p->grid[2] = (int)nz;
    for (int a = 0; a < 3; a++)
        p->vox[a] = res[a] * 1e-3;
    size_t k = 0;
    for (size_t i = 0; i < nvox; i++) {
        const double *v = data + i * np;
        if (!(v[0] > 0))
            continue;
        uint64_t ix = i % nx, iy = i / nx % ny, iz = i / nx / ny;
        p->x[k] = (float)(((ix - (nx - 1) / 2.0) * res[0] + off[0]) * 1e-3);
        p->y[k] = (float)(((iy - (ny - 1) / 2.0) * res[1] + off[1]) * 1e-3);
        p->z[k] = (float)(((iz - (nz - 1) / 2.0) * res[2] + off[2]) * 1e-3);
        p->pd[k] = (float)v[0];
        double r1 = v[1], r2 = v[2], r2s = np > 3 ? v[3] : 0;
        p->t1[k] = r1 > 0 ? (float)(1e-3 / r1) : INFINITY;
        p->t2[k] = r2 > 0 ? (float)(1e-3 / r2) : INFINITY;
        p->t2s[k] = r2s > r2 ? (float)(1e-3 / r2s) : p->t2[k];
        p->df[k] = np > 4 ? (float)(v[4] / (2 * PI)) : 0;
        k++;
    }
    free(data);
    if (neg)
        diag_warning(d, 829, SPAN_NONE, "%s: %zu voxel%s with a negative M0 left out", path, neg,
                     neg == 1 ? "" : "s");
    if (!count) {
        diag_error(d, 814, SPAN_NONE, "%s: no voxel of /sample/data has M0 > 0", path);
        phantom_free(p);
        return NULL;
    }
    return p;
}

/* ============================================================= KomaMRI */

/*
 * A KomaMRI phantom (KomaMRIFiles/src/Phantom/Phantom.jl, read_phantom and
 * write_phantom, github.com/JuliaHealth/KomaMRI.jl; the field units from
 * KomaMRIBase's Phantom docstring): root attributes Version, Name
 * (strings), Ns, Dims (Int64); /position/{x,y,z} (m) and
 * /contrast/{ρ, T1, T2, T2s, Δw, Dλ1, Dλ2, Dθ} (s; Δw in rad/s; D in
 * m^2/s). Since KomaMRIFiles 0.9 each is a dataset of Ns values; earlier
 * files hold a group with a dataset "values" and an attribute "type"
 * (Explicit; Indexed: 1-based indices into a dataset "table"; Default:
 * Koma's default value). Koma's defaults: ρ 1, T1 = T2 = T2s = 1e6 s (no
 * relaxation), Δw 0, no diffusion. A /motion group (without attribute
 * model = "NoMotion" in the old layout) describes motion, which Larmor
 * ignores with a warning; a contrast that changes with time
 * (TimeDependentProperty) is not read. Spins with ρ <= 0 are left out;
 * T2s above T2 is taken as T2 (Koma's default T2s); an anisotropic
 * diffusion tensor (Dλ1 along the fibre, Dλ2 across) becomes its mean
 * diffusivity (Dλ1 + 2 Dλ2) / 3.
 */
enum { KV_RHO, KV_T1, KV_T2, KV_T2S, KV_DW, KV_DL1, KV_DL2, KV_DTH, KV__N };

static const char *const koma_names[KV__N] = {
    "\xCF\x81", "T1", "T2", "T2s", "\xCE\x94w", "D\xCE\xBB" "1", "D\xCE\xBB" "2", "D\xCE\xB8",
};

/* Read one property (a dataset, or a group in the old layout) of n spins
   into out; absent: fill with dflt. Returns 1 if read, 0 if absent, -1 on
   error (reported). */
static int koma_vec(const char *file, struct h5file *f, const char *group, const char *label,
                    size_t n, double dflt, double *out, struct diag_ctx *d)
{
    char path[160], err[256];
    snprintf(path, sizeof path, "/%s/%s", group, label);
    enum h5_kind k = h5_kind(f, path);
    for (size_t i = 0; i < n; i++)
        out[i] = dflt;
    if (k == H5_NONE)
        return 0;
    if (k == H5_DATASET) {
        if (h5_read_doubles(f, path, out, n, err, sizeof err)) {
            diag_error(d, 822, SPAN_NONE, "%s: %s", file, err);
            return -1;
        }
        return 1;
    }
    if (k != H5_GROUP) {
        diag_error(d, 822, SPAN_NONE, "%s: %s is neither a dataset nor a group", file, path);
        return -1;
    }
    char *type = NULL;
    if (h5_has_attr(f, path, "type") && h5_attr_string(f, path, "type", &type, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s", file, err);
        return -1;
    }
    int rc = 1;
    char vpath[176];
    snprintf(vpath, sizeof vpath, "%s/values", path);
    if (type && !strcmp(type, "Default")) {
        rc = 0;
    } else if (type && !strcmp(type, "TimeDependentProperty")) {
        struct diag *g = diag_error(d, 824, SPAN_NONE, "%s: %s changes with time "
                                    "(TimeDependentProperty)", file, path);
        diag_help(g, "Larmor reads static phantoms; write the property as one value per spin");
        rc = -1;
    } else if (type && !strcmp(type, "Indexed")) {
        char tpath[176];
        snprintf(tpath, sizeof tpath, "%s/table", path);
        int tr;
        uint64_t td[H5_MAX_RANK];
        if (h5_dims(f, tpath, &tr, td, err, sizeof err) || tr != 1 || td[0] > (1u << 30)) {
            diag_error(d, 822, SPAN_NONE, "%s: %s", file, tr != 1 ? "an Indexed table must "
                       "be a list of values" : err);
            rc = -1;
        } else {
            double *table = xmalloc((td[0] ? td[0] : 1) * sizeof *table);
            if (h5_read_doubles(f, tpath, table, td[0], err, sizeof err) ||
                h5_read_doubles(f, vpath, out, n, err, sizeof err)) {
                diag_error(d, 822, SPAN_NONE, "%s: %s", file, err);
                rc = -1;
            }
            for (size_t i = 0; rc == 1 && i < n; i++) {
                double ix = out[i];
                if (!(ix >= 1 && ix <= (double)td[0]) || ix != floor(ix)) {
                    diag_error(d, 823, SPAN_NONE, "%s: %s: spin %zu has index %g into a table "
                               "of %llu values", file, vpath, i + 1, ix,
                               (unsigned long long)td[0]);
                    rc = -1;
                } else {
                    out[i] = table[(size_t)ix - 1];
                }
            }
            free(table);
        }
    } else if (type && strcmp(type, "Explicit")) {
        struct diag *g = diag_error(d, 824, SPAN_NONE, "%s: %s has type '%s'", file, path, type);
        diag_help(g, "Larmor reads the types Explicit, Indexed and Default");
        rc = -1;
    } else if (h5_read_doubles(f, vpath, out, n, err, sizeof err)) {
        diag_error(d, 822, SPAN_NONE, "%s: %s", file, err);
        rc = -1;
    }
    free(type);
    if (rc <= 0)
        for (size_t i = 0; i < n; i++)
            out[i] = dflt;
    return rc;
}

/* The number of spins of a KomaMRI phantom: its attribute Ns, or the
   length of the first position or contrast dataset. -1 on errors (reported). */
static int koma_count(const char *path, struct h5file *f, size_t *count, struct diag_ctx *d)
{
    char err[256];
    size_t n = 0;
    double ns;
    if (h5_has_attr(f, "/", "Ns")) {
        if (h5_attr_double(f, "/", "Ns", &ns, err, sizeof err)) {
            diag_error(d, 822, SPAN_NONE, "%s: %s", path, err);
            return -1;
        }
        if (!(ns >= 0 && ns <= (double)PHANTOM_MAX_VOXELS) || ns != floor(ns)) {
            diag_error(d, 823, SPAN_NONE, "%s: the attribute Ns is %g, not a number of spins",
                       path, ns);
            return -1;
        }
        n = (size_t)ns;
    } else {
        /* no Ns: the length of the first position or contrast dataset */
        static const char *const probe[] = { "/position/x", "/position/x/values",
                                             "/contrast/\xCF\x81",
                                             "/contrast/\xCF\x81/values" };
        bool found = false;
        for (size_t i = 0; i < ARRAY_LEN(probe) && !found; i++) {
            int r;
            uint64_t dd[H5_MAX_RANK];
            if (h5_kind(f, probe[i]) == H5_DATASET &&
                !h5_dims(f, probe[i], &r, dd, err, sizeof err) && r == 1) {
                if (dd[0] > PHANTOM_MAX_VOXELS) {
                    diag_error(d, 815, SPAN_NONE, "%s: %s has %llu spins (at most 2^31)", path,
                               probe[i], (unsigned long long)dd[0]);
                    return -1;
                }
                n = (size_t)dd[0];
                found = true;
            }
        }
        if (!found) {
            struct diag *g = diag_error(d, 821, SPAN_NONE, "%s: no attribute Ns and no "
                                        "/position/x", path);
            diag_help(g, "a KomaMRI phantom has the root attribute Ns (the number of spins) "
                      "and /position/x, y, z");
            return -1;
        }
    }
    *count = n;
    return 0;
}

/* Warn that a moving phantom is read at rest. */
static void koma_motion(const char *path, struct h5file *f, struct diag_ctx *d)
{
    char err[256];
    if (h5_kind(f, "/motion") != H5_GROUP)
        return;
    char *model = NULL;
    bool none = false;
    if (h5_has_attr(f, "/motion", "model") &&
        !h5_attr_string(f, "/motion", "model", &model, err, sizeof err))
        none = !strcmp(model, "NoMotion");
    size_t nm = 0;
    char **mem = h5_members(f, "/motion", &nm);
    h5_free_names(mem, nm);
    if (!none && (nm || (model && strcmp(model, "NoMotion")))) {
        struct diag *g = diag_warning(d, 825, SPAN_NONE, "%s: the phantom moves (/motion); "
                                      "Larmor ignores motion and images it at rest", path);
        diag_help(g, "the spins stay at their /position values");
    }
    free(model);
}

struct phantom *phantom_h5_koma(const char *path, struct h5file *f, double res_m,
                                struct diag_ctx *d)
{
    char err[256];
    size_t n = 0;
    if (koma_count(path, f, &n, d))
        return NULL;
    /* the 11 properties as doubles while they are read, and the phantom */
    if (phantom_budget_check(d, SPAN_NONE, path, n, 1, 1,
                             mem_mul(mem_mul(n, 3 + KV__N), sizeof(double))))
        return NULL;
    if (res_m > 0)
        diag_warning(d, 828, SPAN_NONE, "%s: --res is ignored: a KomaMRI phantom is a list of "
                     "spins", path);
    char *name = NULL;
    if (h5_has_attr(f, "/", "Name") && h5_attr_string(f, "/", "Name", &name, err, sizeof err))
        name = NULL;    /* a name that is not a string: use the file's */
    if (!name || !name[0] || strlen(name) > PHANTOM_MAX_NAME) {
        free(name);
        name = phantom_stem(path);
    }
    koma_motion(path, f, d);
    size_t m = n ? n : 1;
    double *v[3 + KV__N];
    for (int i = 0; i < 3 + KV__N; i++)
        v[i] = xmalloc(m * sizeof(double));
    int rc = 0;
    static const char *const axes[3] = { "x", "y", "z" };
    for (int a = 0; a < 3 && rc >= 0; a++)
        rc = koma_vec(path, f, "position", axes[a], n, 0, v[a], d);
    static const double dflt[KV__N] = { 1, INFINITY, INFINITY, INFINITY, 0, 0, 0, 0 };
    for (int k = 0; k < KV__N && rc >= 0; k++)
        rc = koma_vec(path, f, "contrast", koma_names[k], n, dflt[k], v[3 + k], d);
    if (rc >= 0 && h5_kind(f, "/contrast") == H5_GROUP) {
        size_t nm = 0;
        char **mem = h5_members(f, "/contrast", &nm);
        for (size_t i = 0; i < nm; i++) {
            bool known = false;
            for (int k = 0; k < KV__N; k++)
                known = known || !strcmp(mem[i], koma_names[k]);
            if (!known)
                diag_warning(d, 829, SPAN_NONE, "%s: /contrast/%s is not a property Larmor "
                             "knows; ignored", path, mem[i]);
        }
        h5_free_names(mem, nm);
    } else if (rc >= 0 && h5_kind(f, "/contrast") == H5_NONE &&
               h5_kind(f, "/position") == H5_NONE) {
        diag_error(d, 821, SPAN_NONE, "%s: no /position and no /contrast", path);
        rc = -1;
    }
    struct phantom *p = NULL;
    size_t count = 0, neg = 0;
    bool aniso = false;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        static const char *const what[] = { "x", "y", "z", "\xCF\x81", "T1", "T2", "T2s",
                                            "\xCE\x94w", "D\xCE\xBB" "1", "D\xCE\xBB" "2",
                                            "D\xCE\xB8" };
        for (int k = 0; k < 3 + KV__N; k++) {
            double x = v[k][i];
            bool ok = (k >= 3 + KV_T1 && k <= 3 + KV_T2S) ? x > 0 && !isnan(x)
                    : (k == 3 + KV_DL1 || k == 3 + KV_DL2) ? x >= 0 && isfinite(x)
                    : isfinite(x);
            if (!ok) {
                struct diag *g = diag_error(d, 823, SPAN_NONE, "%s: spin %zu has %s = %g", path,
                                            i + 1, what[k], x);
                diag_help(g, "positions and Δw are finite; T1, T2 and T2s positive (s); "
                          "diffusivities zero or positive (m^2/s)");
                rc = -1;
                break;
            }
        }
        if (rc < 0)
            break;
        if (v[3 + KV_RHO][i] > 0)
            count++;
        else if (v[3 + KV_RHO][i] < 0)
            neg++;
    }
    if (rc >= 0 && !count) {
        diag_error(d, 814, SPAN_NONE, "%s: no spin has %s > 0", path, "\xCF\x81");
        rc = -1;
    }
    if (rc >= 0) {
        p = phantom_new(name, count);
        bool zvar = false;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(v[3 + KV_RHO][i] > 0))
                continue;
            p->x[k] = (float)v[0][i];
            p->y[k] = (float)v[1][i];
            p->z[k] = (float)v[2][i];
            zvar = zvar || v[2][i] != v[2][0];
            p->pd[k] = (float)v[3 + KV_RHO][i];
            p->t1[k] = (float)v[3 + KV_T1][i];
            p->t2[k] = (float)v[3 + KV_T2][i];
            double t2s = v[3 + KV_T2S][i];
            p->t2s[k] = (float)(t2s < v[3 + KV_T2][i] ? t2s : v[3 + KV_T2][i]);
            p->df[k] = (float)(v[3 + KV_DW][i] / (2 * PI));
            double l1 = v[3 + KV_DL1][i], l2 = v[3 + KV_DL2][i];
            aniso = aniso || l1 != l2;
            p->dc[k] = (float)(l1 == l2 ? l1 : (l1 + 2 * l2) / 3);
            k++;
        }
        double dims_attr = 0;
        if (h5_has_attr(f, "/", "Dims") &&
            !h5_attr_double(f, "/", "Dims", &dims_attr, err, sizeof err) && dims_attr >= 1 &&
            dims_attr <= 3)
            p->dims = dims_attr <= 2 && !zvar ? 2 : 3;
        else
            p->dims = zvar ? 3 : 2;
        if (neg)
            diag_warning(d, 829, SPAN_NONE, "%s: %zu spin%s with a negative %s left out", path,
                         neg, neg == 1 ? "" : "s", "\xCF\x81");
        if (aniso)
            diag_warning(d, 829, SPAN_NONE, "%s: anisotropic diffusion (D%s1 != D%s2) is read "
                         "as its mean diffusivity (D%s1 + 2 D%s2) / 3", path, "\xCE\xBB",
                         "\xCE\xBB", "\xCE\xBB", "\xCE\xBB");
    }
    for (int i = 0; i < 3 + KV__N; i++)
        free(v[i]);
    free(name);
    return p;
}
