/*
 * bench_pulseq: Pulseq import speed. Times pulseq_read_buf (parse, decompress,
 * build the straight-line program, verify it) on the largest file of
 * tests/data/pulseq/ and on a generated file of 1,000,000 blocks (a GRE-like
 * pattern of RF + slice select, phase encode, readout + ADC with labels;
 * every block distinct in its phase-encode gradient), and the export of the
 * imported large file. Prints the median of RUNS runs.
 *
 * Usage: bench_pulseq [RUNS] (default 3).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench_util.h"
#include "runtime/pulseq/pulseq.h"
#include "runtime/system/system.h"
#include "base/util.h"

/* A 1.4 file of nblocks blocks: 4-block repetitions of excitation, phase
   encode (one of 256 traps), readout with ADC and LIN label, spoiler. */
static char *generate(size_t nblocks, size_t *len)
{
    struct strbuf b;
    sb_init(&b);
    sb_puts(&b, "[VERSION]\nmajor 1\nminor 4\nrevision 2\n\n[DEFINITIONS]\nAdcRasterTime 1e-07\n"
                "BlockDurationRaster 1e-05\nGradientRasterTime 1e-05\n"
                "RadiofrequencyRasterTime 1e-06\n\n[BLOCKS]\n");
    for (size_t i = 0; i < nblocks; i++) {
        size_t r = i / 4, k = i % 4;
        int pe = 3 + (int)(r % 256);
        switch (k) {
        case 0: sb_printf(&b, "%zu 320 1 0 0 1 0 0\n", i + 1); break;
        case 1: sb_printf(&b, "%zu 100 0 2 %d 0 0 0\n", i + 1, pe); break;
        case 2: sb_printf(&b, "%zu 340 0 259 0 0 1 %d\n", i + 1, 1 + (int)(r % 256)); break;
        default: sb_printf(&b, "%zu 100 0 2 0 260 0 0\n", i + 1); break;
        }
    }
    sb_puts(&b, "\n[RF]\n1 250 1 0 0 100 0 0\n\n[TRAP]\n1 60000 50 3000 50 0\n"
                "2 -80000 100 800 100 0\n");
    for (int j = 0; j < 256; j++)
        sb_printf(&b, "%d %g 100 800 100 0\n", 3 + j, (j - 128) * 500.0);
    sb_puts(&b, "259 100000 100 3200 100 0\n260 200000 100 800 100 0\n\n[ADC]\n"
                "1 256 12500 100 0 0\n\n[EXTENSIONS]\n");
    for (int j = 0; j < 256; j++)
        sb_printf(&b, "%d 1 %d 0\n", j + 1, j + 1);
    sb_puts(&b, "\nextension LABELSET 1\n");
    for (int j = 0; j < 256; j++)
        sb_printf(&b, "%d %d LIN\n", j + 1, j);
    sb_puts(&b, "\n[SHAPES]\n\nshape_id 1\nnum_samples 3000\n1\n0\n0\n2997\n");
    *len = b.len;
    return sb_take(&b);
}

static double time_import(const char *name, const char *text, size_t len, int runs,
                          size_t *ncode, size_t *nblocks_out)
{
    double *t = xmalloc((size_t)runs * sizeof *t);
    for (int i = 0; i < runs; i++) {
        struct diag_ctx d;
        diag_init(&d);
        double t0 = monotonic_s();
        struct lbc_program *p = pulseq_read_buf(name, text, len, NULL, &d);
        t[i] = monotonic_s() - t0;
        if (!p) {
            diag_print_all(&d, stderr, false);
            exit(1);
        }
        *ncode = p->ncode;
        size_t nb = 0;
        for (uint32_t k = 0; k < p->ncode; k++)
            nb += p->code[k].op == OP_BEGIN;
        *nblocks_out = nb;
        lbc_free(p);
        diag_fini(&d);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double m = t[runs / 2];
    free(t);
    return m;
}

/* Import text, then time its export as format 1.5 and print the figure. */
static void time_export(const char *name, const char *text, size_t len)
{
    struct diag_ctx d;
    diag_init(&d);
    struct lbc_program *p = pulseq_read_buf(name, text, len, NULL, &d);
    if (p) {
        struct system sys;
        system_default(&sys);
        struct pulseq_write_opts wo = { PULSEQ_1_5, "bench" };
        char *out;
        size_t olen;
        double t0 = monotonic_s();
        int rc = pulseq_write(p, &sys, &wo, &out, &olen, &d);
        double te = monotonic_s() - t0;
        if (rc == 0) {
            printf("export of %s (format 1.5, %zu bytes): %.4f s\n", name, olen, te);
            free(out);
        }
        lbc_free(p);
    }
    diag_fini(&d);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    if (runs < 1)
        runs = 1;
    const char *src = getenv("top_srcdir");
    char *dir = xasprintf("%s/tests/data/pulseq/pypulseq", src ? src : ".");
    /* the largest test file */
    DIR *dh = opendir(dir);
    if (!dh) {
        fprintf(stderr, "bench_pulseq: cannot open %s\n", dir);
        return 1;
    }
    char *best = NULL;
    off_t bsize = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (!str_has_suffix(e->d_name, ".seq"))
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_size > bsize) {
            bsize = st.st_size;
            free(best);
            best = p;
        } else {
            free(p);
        }
    }
    closedir(dh);
    size_t len, ncode, nb;
    char *text = read_file(best, &len);
    double t = time_import(best, text, len, runs, &ncode, &nb);
    printf("import %s (%zu bytes, %zu blocks, %zu instructions): %.4f s (median of %d)\n",
           strrchr(best, '/') + 1, len, nb, ncode, t, runs);
    time_export(best, text, len);
    free(text);
    free(best);
    free(dir);
    /* a generated file of a million blocks */
    double t0 = monotonic_s();
    text = generate(1000000, &len);
    double tg = monotonic_s() - t0;
    t = time_import("generated.seq", text, len, runs, &ncode, &nb);
    printf("import generated.seq (%zu bytes, %zu blocks, %zu instructions): %.3f s "
           "(median of %d; generating it took %.2f s)\n", len, nb, ncode, t, runs, tg);
    /* its export: linear in the blocks (the [BLOCKS] renumbering once took
       the square of their count: sscanf measured the rest of the text at
       every row) */
    time_export("generated.seq", text, len);
    free(text);
    return 0;
}
