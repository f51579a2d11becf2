/*
 * fuzz_phantom: libFuzzer entry point for the phantom loaders
 * (runtime/phantom/): YAML descriptions, JEMRIS samples (.h5) and KomaMRI
 * phantoms (.phantom). Any input must load or be refused with errors,
 * without a crash, a leak or undefined behaviour; the loader must report an
 * error exactly when it returns NULL, and a phantom it returns must hold
 * what the simulator assumes (finite positions and off-resonance, PD > 0
 * and finite, T1 and T2 > 0, 0 < T2* <= T2, D >= 0 and finite).
 *
 * The first byte picks the kind (its value mod 3): 0, the rest is YAML
 * text; 1 (JEMRIS) or 2 (KomaMRI), the rest is a short program that builds
 * an HDF5 file, which is then loaded by its extension. The file is built by
 * HDF5 itself, so the fuzzer explores what the loaders do with the objects,
 * shapes and values a file holds (what this project writes), not HDF5's
 * own byte-level parser (fuzzed by HDF5's own project). The program is a
 * list of operations, each one byte (mod 4) and its operands:
 *   0 dataset    PATH, rank (1 + byte mod 5), a byte per dimension (the
 *                product capped at FP_MAX_ELEMS), then 8-byte doubles
 *                while the input lasts (the rest repeat them, or are 0)
 *   1 int attr   PATH, NAME, an 8-byte signed value
 *   2 str attr   PATH, NAME, a NUL-terminated value
 *   3 group      PATH
 * PATH and NAME are a byte indexing fp_paths / fp_names, or past the table
 * a NUL-terminated string. tests/fuzz/make_seeds.py writes the seeds
 * (tests/fuzz/phantom-seed/); the YAML seeds are the golden phantoms.
 *
 * The memory budget is 64 MiB (grids past it are refused before they are
 * sampled), so that an input cannot make the target slow by size alone.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/diag.h"
#include "base/membudget.h"
#include "runtime/io/h5.h"
#include "runtime/phantom/phantom.h"
#include "tests/fuzzutil.h"

/* 1 when the input loaded as a phantom, else 0 (libFuzzer's entry returns
   0 either way). Sets the memory budget (mem_budget_set). */
int fuzz_phantom_one(const uint8_t *data, size_t size);

enum { FP_MAX_ELEMS = 4096, FP_MAX_OPS = 64 };

static const char *const fp_paths[] = {
    "/", "/sample", "/sample/data", "/sample/resolution", "/sample/offset",
    "/position", "/position/x", "/position/y", "/position/z",
    "/contrast", "/contrast/\xCF\x81", "/contrast/T1", "/contrast/T2", "/contrast/T2s",
    "/contrast/\xCE\x94w", "/contrast/D\xCE\xBB" "1", "/contrast/D\xCE\xBB" "2",
    "/contrast/D\xCE\xB8", "/motion",
    "/position/x/values", "/position/y/values", "/position/z/values",
    "/contrast/\xCF\x81/values", "/contrast/T1/values", "/contrast/T2/values",
    "/contrast/T2s/values", "/contrast/\xCE\x94w/values", "/contrast/T1/table",
    "/contrast/\xCF\x81/table", "/contrast/T2/table", "/motion/types",
};
static const char *const fp_names[] = { "Ns", "Dims", "Version", "Name", "type", "model" };

#define FP_LEN(a) (sizeof(a) / sizeof *(a))

static void fp_name(struct fz_cur *c, const char *const *table, size_t n, char *buf,
                    size_t cap)
{
    unsigned i = fz_u8(c);
    if (i < n) {
        snprintf(buf, cap, "%s", table[i]);
        return;
    }
    buf[0] = '/';
    fz_str(c, buf + 1, cap - 1);
}

static void fp_dataset(struct fz_cur *c, struct h5file *f, const char *path)
{
    int rank = 1 + (int)(fz_u8(c) % 5);
    uint64_t dims[5], count = 1;
    for (int r = 0; r < rank; r++) {
        dims[r] = fz_u8(c);
        if (count * (dims[r] ? dims[r] : 1) > FP_MAX_ELEMS)
            dims[r] = 1;
        count *= dims[r] ? dims[r] : 1;
    }
    for (int r = 0; r < rank; r++)
        if (!dims[r])
            count = 0;
    double *v = calloc(count ? count : 1, sizeof *v);
    size_t got = 0;
    while (got < count && !fz_done(c))
        v[got++] = fz_f64(c);
    for (size_t k = got; got && k < count; k++)
        v[k] = v[k % got];
    char err[256];
    h5_write_doubles(f, path, rank, dims, v, err, sizeof err);
    free(v);
}

/* Build the file at path from the program in c; 0, or -1 if HDF5 could not
   create it at all. */
static int fp_build(struct fz_cur *c, const char *path)
{
    char err[256];
    struct h5file *f = h5_create(path, err, sizeof err);
    if (!f)
        return -1;
    for (int op = 0; op < FP_MAX_OPS && !fz_done(c); op++) {
        char obj[96], name[64], sval[128];
        unsigned kind = fz_u8(c) % 4;
        fp_name(c, fp_paths, FP_LEN(fp_paths), obj, sizeof obj);
        switch (kind) {
        case 0:
            fp_dataset(c, f, obj);
            break;
        case 1:
            fp_name(c, fp_names, FP_LEN(fp_names), name, sizeof name);
            h5_write_attr_int(f, obj, name[0] == '/' ? name + 1 : name,
                              (int64_t)fz_u64(c, 8), err, sizeof err);
            break;
        case 2:
            fp_name(c, fp_names, FP_LEN(fp_names), name, sizeof name);
            fz_str(c, sval, sizeof sval);
            h5_write_attr_string(f, obj, name[0] == '/' ? name + 1 : name, sval, err,
                                 sizeof err);
            break;
        default:
            h5_write_group(f, obj, err, sizeof err);
            break;
        }
    }
    return h5_close(f, err, sizeof err) ? -1 : 0;
}

/* What the simulator assumes of every voxel; a broken one is named on
   stderr before the abort, so that a finding says what it broke. */
static void fp_fail(const struct phantom *p, size_t i, const char *what)
{
    fprintf(stderr, "fuzz_phantom: voxel %zu of %zu breaks %s: x %g y %g z %g df %g pd %g "
            "t1 %g t2 %g t2s %g dc %g\n", i, p->n, what, p->x[i], p->y[i], p->z[i], p->df[i],
            p->pd[i], p->t1[i], p->t2[i], p->t2s[i], p->dc[i]);
    abort();
}

static void fp_check(const struct phantom *p)
{
    if (!p->n) {
        fprintf(stderr, "fuzz_phantom: a phantom of no voxels was returned\n");
        abort();
    }
    for (size_t i = 0; i < p->n; i++) {
        if (!isfinite(p->x[i]) || !isfinite(p->y[i]) || !isfinite(p->z[i]))
            fp_fail(p, i, "finite position");
        if (!isfinite(p->df[i]))
            fp_fail(p, i, "finite off-resonance");
        if (!(p->pd[i] > 0) || !isfinite(p->pd[i]))
            fp_fail(p, i, "0 < PD < inf");
        if (!(p->t1[i] > 0) || !(p->t2[i] > 0) || !(p->t2s[i] > 0))
            fp_fail(p, i, "T1, T2, T2* > 0");
        if (!(p->t2s[i] <= p->t2[i]))
            fp_fail(p, i, "T2* <= T2");
        if (!(p->dc[i] >= 0) || !isfinite(p->dc[i]))
            fp_fail(p, i, "0 <= D < inf");
        if (p->cs_ppm && !isfinite(p->cs_ppm[i]))
            fp_fail(p, i, "finite chemical shift");
    }
}

int fuzz_phantom_one(const uint8_t *data, size_t size)
{
    static FILE *fp_devnull;
    static int ready;
    if (!ready) {
        ready = 1;
        h5_process_init();
        fp_devnull = fopen("/dev/null", "w");
    }
    mem_budget_set((size_t)64 << 20, "the fuzz target's 64M");
    if (!size)
        return 0;
    struct diag_ctx d;
    diag_init(&d);
    struct phantom *p = NULL;
    unsigned kind = data[0] % 3;
    if (kind == 0) {
        p = phantom_load_text("fuzz.yaml", (const char *)data + 1, size - 1, 0, &d);
    } else {
        const char *dir = fz_dir();
        if (!dir) {
            diag_fini(&d);
            return 0;
        }
        char path[320];
        snprintf(path, sizeof path, "%s/fuzz.%s", dir, kind == 1 ? "h5" : "phantom");
        struct fz_cur c = { data + 1, size - 1, 0 };
        if (fp_build(&c, path) == 0)
            p = phantom_load(path, 0, &d);
        else
            diag_error(&d, 0, SPAN_NONE, "not built");
        remove(path);
    }
    if ((p == NULL) != (d.nerrors > 0))
        abort();
    if (p) {
        fp_check(p);
        if (fp_devnull)
            phantom_describe(p, fp_devnull);
    }
    if (fp_devnull)
        diag_print_all(&d, fp_devnull, false);
    int loaded = p != NULL;
    phantom_free(p);
    diag_fini(&d);
    return loaded;
}

#ifndef LARMOR_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_phantom_one(data, size);
    return 0;
}
#endif
