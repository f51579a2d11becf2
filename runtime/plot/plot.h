/*
 * plot: pictures of a sequence and of a scan, drawn with cairo (the only
 * module that uses it; runtime/plot/ holds its files, and no cairo type
 * leaves them).
 *
 *   plot_timing    the timing diagram: RF magnitude and phase, Gx, Gy, Gz
 *                  and the ADC windows on one time axis, optionally with
 *                  the block boundaries and names
 *   plot_kspace    the k-space trajectory (kx, ky; a 3D trajectory is
 *                  shown as its kx-ky projection) with the ADC samples
 *                  (runtime/wave/kspace_traj.h)
 *   plot_safety    the sliding-window SAR (10 s and 6 min) and the PNS
 *                  level over time against their limits, from the check
 *                  backend's own model (check_sar_timeline,
 *                  check_set_pns_hook)
 *   plot_overview  the overview of a scan: the image and the log-magnitude
 *                  of its k-space side by side (PNG)
 *
 * The output format follows the file name's extension: .png (pixels),
 * .svg or .pdf (vector; sizes in points). Every writer draws into a
 * temporary file in the same folder and renames it, so no half-written
 * picture is left under the final name. Functions return 0, or -1 with a
 * message in err saying what is wrong and what would fix it.
 */
#ifndef LARMOR_PLOT_PLOT_H
#define LARMOR_PLOT_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/recon/image.h"
#include "runtime/recon/recon.h"
#include "runtime/system/system.h"
#include "vm/program.h"

enum plot_format { PLOT_PNG, PLOT_SVG, PLOT_PDF };

/* The format that path's extension names (.png, .svg, .pdf, any case), or
   -1. */
int plot_format_of(const char *path);

/* Default sizes (pixels for PNG, points for SVG and PDF). */
#define PLOT_TIMING_W 1200
#define PLOT_TIMING_H 800
#define PLOT_KSPACE_W 800
#define PLOT_KSPACE_H 800
#define PLOT_SAFETY_W 1200
#define PLOT_SAFETY_H 400          /* per panel: SAR 10 s, SAR 6 min, PNS */

struct plot_opts {
    int width, height;             /* 0: the default size of the plot */
    /* What part of the program: a time window [from_ns, to_ns] (to_ns < 0:
       to the end), or repetition rep (>= 0; -1: none) as larmor trace
       counts them: one pass through the innermost loop's body. The blocks
       that overlap the window are drawn. */
    int64_t from_ns, to_ns;
    int64_t rep;
    bool blocks;                   /* timing: block boundaries and names */
    const char *title;             /* NULL: the program's source file */
};

/* Fills o with the defaults: whole program, default size, no blocks. */
void plot_opts_init(struct plot_opts *o);

int plot_timing(const struct lbc_program *p, const struct system *sys, const struct plot_opts *o,
                const char *path, char *err, size_t errlen);

int plot_kspace(const struct lbc_program *p, const struct system *sys, const struct plot_opts *o,
                const char *path, char *err, size_t errlen);

enum { PLOT_SAR = 1, PLOT_PNS = 2 };
/* what: PLOT_SAR, PLOT_PNS or both (stacked panels). The time window of o
   limits the time axis; the windows' averages are those of the whole run. */
int plot_safety(const struct lbc_program *p, const struct system *sys, unsigned what,
                const struct plot_opts *o, const char *path, char *err, size_t errlen);

/* The scan overview. plot_overview_kspace keeps the log-magnitude of the
   first slice of the first frame of k (root-sum-square over coils) before
   the recon transforms it in place; plot_overview_write draws it next to
   the same slice of the image, as a PNG of 2·size × size pixels plus
   titles (size 512). */
struct plot_overview;
struct plot_overview *plot_overview_new(void);
void plot_overview_free(struct plot_overview *ov);
void plot_overview_kspace(struct plot_overview *ov, const struct kspace *k);
int plot_overview_write(const struct plot_overview *ov, const struct image_vol *v,
                        const char *title, const char *path, char *err, size_t errlen);

/* Release cairo's (and through it fontconfig's) caches; call once no
   plot is being drawn, before exit, so that leak checkers see a clean
   exit. */
void plot_cleanup(void);

#endif
