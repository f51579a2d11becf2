/*
 * reconstruct: see reconstruct.h. The steps of one recon: read the raw
 * data, load the coil sensitivities, place the k-space grid (recon.c),
 * transform and combine it, write the images in the formats asked for and
 * log one summary line. Owned here: nothing beyond a call.
 */
#include "runtime/recon/reconstruct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/io/rawdata.h"
#include "runtime/recon/fft.h"
#include "base/outfile.h"
#include "base/util.h"

int recon_parse_formats(const char *s, unsigned *formats)
{
    unsigned f = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "png"))
            f |= RECON_FMT_PNG;
        else if (!strcmp(t, "nii") || !strcmp(t, "nifti"))
            f |= RECON_FMT_NII;
        else if (!strcmp(t, "cfl") || !strcmp(t, "bart"))
            f |= RECON_FMT_CFL;
        else if (!strcmp(t, "h5") || !strcmp(t, "ismrmrd"))
            f |= RECON_FMT_H5;
        else if (!strcmp(t, "all"))
            f |= RECON_FMT_PNG | RECON_FMT_NII | RECON_FMT_CFL | RECON_FMT_H5;
        else
            return -1;
    }
    if (!f)
        return -1;
    *formats = f;
    return 0;
}

/* The k-space grid as a BART array: x, y, z, coils, frames in TIME (10),
   slices in SLICE (13). */
static int write_kspace(const struct kspace *k, const char *base, char *err, size_t errlen)
{
    long dims[16];
    for (int i = 0; i < 16; i++)
        dims[i] = 1;
    dims[0] = k->nx;
    dims[1] = k->ny;
    dims[2] = k->nz;
    dims[3] = k->ncoils;
    dims[10] = k->nframes;
    dims[13] = k->nslices;
    size_t vol = (size_t)k->nx * k->ny * k->nz * k->ncoils;
    if (k->nframes > 1 && k->nslices > 1) {
        /* ours is [frame][slice]; BART's order wants slice outside frame */
        float complex *t = xmalloc(vol * k->nframes * k->nslices * sizeof *t);
        for (int f = 0; f < k->nframes; f++)
            for (int s = 0; s < k->nslices; s++)
                memcpy(t + ((size_t)s * k->nframes + f) * vol,
                       k->data + ((size_t)f * k->nslices + s) * vol, vol * sizeof *t);
        int rc = cfl_write(base, 14, dims, t, err, errlen);
        free(t);
        return rc;
    }
    return cfl_write(base, 14, dims, k->data, err, errlen);
}

/* The file names written so far, for the summary line. */
struct written {
    char **names;
    size_t n;
};

static void written_push(struct written *w, char *name)
{
    w->names = xrealloc(w->names, (w->n + 1) * sizeof *w->names);
    w->names[w->n++] = name;
}

/* The coil sensitivities at c->sens_path into ro (*sens owns them); 0, or
   -1 with the message logged. */
static int load_sens(const struct recon_cli *c, struct recon_opts *ro, float complex **sens,
                     FILE *log)
{
    long sd[16];
    char err[1024];
    if (cfl_read(c->sens_path, sd, sens, err, sizeof err) != 0) {
        fprintf(log, "larmor recon: %s\n", err);
        return -1;
    }
    for (int i = 4; i < 16; i++)
        if (sd[i] != 1) {
            fprintf(log, "larmor recon: %s: coil sensitivities must be x, y, z, coils "
                    "(dimension %d has %ld entries; one set of maps is used)\n",
                    c->sens_path, i, sd[i]);
            return -1;
        }
    ro->sens = *sens;
    memcpy(ro->sens_dims, sd, sizeof ro->sens_dims);
    return 0;
}

/* The formats to write to out and, when out names one file, that file
   (*single); a folder is created. 0, or -1 with the message in err. */
static int out_formats(const char *out, unsigned formats, unsigned *fmt, const char **single,
                       char *err, size_t errlen)
{
    *fmt = formats;
    *single = out;
    if (str_has_suffix(out, ".png"))
        *fmt = RECON_FMT_PNG;
    else if (str_has_suffix(out, ".nii"))
        *fmt = RECON_FMT_NII;
    else if (str_has_suffix(out, ".cfl") || str_has_suffix(out, ".hdr"))
        *fmt = RECON_FMT_CFL;
    else if (str_has_suffix(out, ".h5"))
        *fmt = RECON_FMT_H5;
    else {
        *single = NULL;
        if (!*fmt)
            *fmt = RECON_FMT_PNG | RECON_FMT_NII;
        return outfile_mkdirs(out, err, errlen);
    }
    return 0;
}

/* Write v in the formats asked for (the ISMRMRD images with the raw
   data's header, into the raw file itself when out names it), listing
   what is written in w; 0, or -1 with the message in err. */
static int write_images(const struct image_vol *v, const struct raw_file *f,
                        const char *raw_path, const char *out, const struct recon_cli *c,
                        struct written *w, char *err, size_t errlen)
{
    unsigned fmt;
    const char *single;
    if (out_formats(out, c->formats, &fmt, &single, err, errlen) != 0)
        return -1;
    if (fmt & RECON_FMT_PNG) {
        char *path = single ? xstrdup(single) : xasprintf("%s/image.png", out);
        int r = img_write_png(v, path, &c->png, &w->names, &w->n, err, errlen);
        free(path);
        if (r)
            return -1;
    }
    if (fmt & RECON_FMT_NII) {
        char *path = single ? xstrdup(single) : xasprintf("%s/image.nii", out);
        if (img_write_nifti(v, path, err, errlen) != 0) {
            free(path);
            return -1;
        }
        written_push(w, path);
    }
    if (fmt & RECON_FMT_CFL) {
        char *base = single ? xasprintf("%.*s", (int)strlen(single) - 4, single)
                            : xasprintf("%s/image", out);
        int r = img_write_cfl(v, base, err, errlen);
        if (!r)
            written_push(w, xasprintf("%s.cfl", base));
        free(base);
        if (r)
            return -1;
    }
    if (fmt & RECON_FMT_H5) {
        char *path = single ? xstrdup(single) : xasprintf("%s/images.h5", out);
        bool same = !strcmp(path, raw_path);
        if (img_write_ismrmrd(v, path, f->xml, !same, err, errlen) != 0) {
            free(path);
            return -1;
        }
        written_push(w, path);
    }
    return 0;
}

/* The summary line: the image, where it came from, the time, the files. */
static void log_summary(FILE *log, const struct image_vol *v, const struct kspace *k, bool roemer,
                        double seconds, const struct written *w)
{
    char frames[32] = "";
    if (v->nframes > 1)
        snprintf(frames, sizeof frames, " x %d frames", v->nframes);
    fprintf(log, "reconstructed %d x %d x %d voxels of %.3g x %.3g x %.3g mm%s from %zu "
            "acquisitions (%d coil%s%s) in %.2f s:", v->nx, v->ny, v->nz,
            v->voxel[0] * 1e3, v->voxel[1] * 1e3, v->voxel[2] * 1e3, frames, k->nused,
            k->ncoils,
            k->ncoils == 1 ? "" : "s",
            k->ncoils > 1 ? (roemer ? ", Roemer" : ", sum of squares") : "",
            seconds);
    for (size_t i = 0; i < w->n; i++)
        fprintf(log, "%s %s", i ? "," : "", w->names[i]);
    fputc('\n', log);
}

/* The header's user parameter name, or def. */
static double raw_param(const struct raw_file *f, const char *name, double def)
{
    for (size_t i = 0; i < f->hdr.nparams; i++)
        if (!strcmp(f->hdr.param_names[i], name))
            return f->hdr.param_values[i];
    return def;
}

/* A file that larmor simulate or run wrote for a scan that ended early says
   so in its header (larmor_incomplete = 1): the image is made from what it
   holds, with a note that it is not the whole scan. */
static void note_incomplete(const struct raw_file *f, const char *raw_path, FILE *log)
{
    if (raw_param(f, "larmor_incomplete", 0) != 1)
        return;
    double got = raw_param(f, "larmor_acquisitions_received", -1);
    double want = raw_param(f, "larmor_acquisitions_expected", -1);
    double sig = raw_param(f, "larmor_interrupted_by_signal", 0);
    fprintf(log, "larmor recon: note: %s is marked incomplete (larmor_incomplete = 1)", raw_path);
    if (got >= 0 && want >= 0)
        fprintf(log, ": %.0f of %.0f acquisitions", got, want);
    if (sig > 0)
        fprintf(log, ", the run was stopped by signal %.0f", sig);
    fprintf(log, "; the image is made from what it holds\n");
}

int reconstruct(const char *raw_path, const char *out, const struct recon_cli *c, FILE *log)
{
    char err[1024];
    int rc = 1;
    double t0 = monotonic_s();
    struct raw_file *f = NULL;
    struct kspace *k = NULL;
    struct image_vol *v = NULL;
    float complex *sens = NULL;
    struct written w = { NULL, 0 };
    struct recon_opts ro = c->ro;
    if (!c->quiet)
        ro.log = log;
    if (fft_init(c->threads, c->wisdom, err, sizeof err) != 0) {
        fprintf(log, "larmor recon: %s\n", err);
        return 1;
    }
    struct raw_read_opts rdo = { .widen_limits = c->widen_limits };
    f = raw_read_with(raw_path, &rdo, err, sizeof err);
    if (!f) {
        fprintf(log, "larmor recon: %s\n", err);
        goto out;
    }
    note_incomplete(f, raw_path, log);
    if (f->widened)
        fprintf(log, "larmor recon: warning: %s\n", f->widened);
    if (c->sens_path && load_sens(c, &ro, &sens, log) != 0)
        goto out;
    k = recon_kspace(f, &ro, err, sizeof err);
    if (!k) {
        fprintf(log, "larmor recon: %s: %s\n", raw_path, err);
        goto out;
    }
    if (c->kspace_path) {
        if (write_kspace(k, c->kspace_path, err, sizeof err) != 0) {
            fprintf(log, "larmor recon: %s\n", err);
            goto out;
        }
        written_push(&w, xasprintf("%s.cfl", c->kspace_path));
    }
    if (c->on_kspace)
        c->on_kspace(c->hook_ctx, k);
    v = recon_image(k, &ro, err, sizeof err);
    if (!v) {
        fprintf(log, "larmor recon: %s: %s\n", raw_path, err);
        goto out;
    }
    v->sequence_name = f->hdr.sequence_name;
    if (write_images(v, f, raw_path, out, c, &w, err, sizeof err) != 0) {
        fprintf(log, "larmor recon: %s\n", err);
        goto out;
    }
    if (c->on_image) {
        char *name = NULL;
        if (c->on_image(c->hook_ctx, v, &name, err, sizeof err) != 0) {
            fprintf(log, "larmor recon: %s\n", err);
            goto out;
        }
        if (name)
            written_push(&w, name);
    }
    if (!c->quiet)
        log_summary(log, v, k, sens != NULL, monotonic_s() - t0, &w);
    rc = 0;
out:
    for (size_t i = 0; i < w.n; i++)
        free(w.names[i]);
    free(w.names);
    image_free(v);
    kspace_free(k);
    raw_file_free(f);
    free(sens);
    fft_cleanup();
    return rc;
}
