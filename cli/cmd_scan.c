/*
 * cmd_scan: the virtual scanner's commands: simulate (Bloch simulation to
 * ISMRMRD raw data), recon (raw data to images) and scan (compile, check,
 * simulate and reconstruct in one go, with the overview picture). Owns the
 * options of simulate and recon, which scan takes together.
 */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/bloch/simulate.h"
#include "runtime/phantom/phantom.h"
#include "runtime/plot/plot.h"
#include "runtime/recon/reconstruct.h"
#include "base/util.h"

/* larmor simulate */
struct sim_cli {
    const char *phantom;
    int diffusion;               /* -1 --no-diffusion, +1 --diffusion, 0 default (off) */
    int spoiling;                /* -1 --spoiling none, 0 ideal (default) */
    double res;
    struct simulate_opts so;
};

static int sim_opt(int ch, const char *arg, void *ctx)
{
    struct sim_cli *c = ctx;
    struct sim_opts *o = &c->so.sim;
    long v;
    switch (ch) {
    case OPT_PHANTOM:
        c->phantom = arg;
        return 0;
    case OPT_RES:
        return cli_parse_length(arg, &c->res) != 0 || !(c->res > 0) ? -1 : 0;
    case OPT_SPINS: {
        /* N (along z, the slice direction) or AxBxC */
        long a = 1, b = 1, z = 1;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", arg);
        char *x1 = strchr(buf, 'x');
        if (!x1)
            return cli_parse_int(buf, 1, 65536, &z) ? -1 : (o->spins[2] = (int)z, 0);
        *x1 = 0;
        char *x2 = strchr(x1 + 1, 'x');
        if (!x2)
            return -1;
        *x2 = 0;
        if (cli_parse_int(buf, 1, 65536, &a) || cli_parse_int(x1 + 1, 1, 65536, &b) ||
            cli_parse_int(x2 + 1, 1, 65536, &z))
            return -1;
        o->spins[0] = (int)a;
        o->spins[1] = (int)b;
        o->spins[2] = (int)z;
        return 0;
    }
    case OPT_COILS:
        return cli_parse_int(arg, 1, 128, &v) ? -1 : (o->ncoils = (int)v, 0);
    case OPT_SNR: {
        char *end;
        double x = strtod(arg, &end);
        return end == arg || *end || !(x > 0) || !isfinite(x) ? -1 : (o->snr = x, 0);
    }
    case OPT_SEED:
        return cli_parse_int(arg, 0, LONG_MAX, &v) ? -1 : (o->seed = (uint64_t)v, 0);
    case OPT_THREADS:
        return cli_parse_int(arg, 1, 1024, &v) ? -1 : (o->threads = (int)v, 0);
    case OPT_QUIET:
        c->so.quiet = true;
        return 0;
    case OPT_NODIFF:
        c->diffusion = -1;
        return 0;
    case OPT_DIFF:
        c->diffusion = 1;
        return 0;
    case OPT_SPOILING:
        if (!strcmp(arg, "ideal"))
            c->spoiling = 0;
        else if (!strcmp(arg, "none"))
            c->spoiling = -1;
        else
            return -1;
        return 0;
    }
    return -1;
}

/* Simulate s's program on the phantom of c into out; the scanner is
   --system, or the one a .lbc was compiled for. */
static int run_simulation(const struct cli_seq *s, struct sim_cli *c, const char *out)
{
    struct diag_ctx d;
    diag_init(&d);
    struct system sys;
    const char *sysname = s->so.system;
    if (str_has_suffix(s->path, ".lbc") && s->p->sys_name >= 0)
        sysname = lbc_str(s->p, s->p->sys_name);
    if (system_resolve(sysname, s->so.stdlib, &sys, &d) != 0) {
        cli_print_diags(&d);
        diag_fini(&d);
        return EXIT_INPUT;
    }
    struct phantom *ph = phantom_load(c->phantom ? c->phantom : "shepp-logan", c->res, &d);
    if (d.ndiags)
        cli_print_diags(&d);
    diag_fini(&d);
    if (!ph)
        return EXIT_INPUT;
    /* Diffusion is simulated on request: a random walk needs many
       isochromats per voxel to mean the voxel's attenuation (one spin's
       walk is phase noise), and costs more than the rest of the
       simulation; imaging sequences barely feel it. */
    c->so.sim.diffusion = c->diffusion > 0;
    c->so.sim.ideal_spoiling = c->spoiling >= 0;
    c->so.sim.gamma = 2 * M_PI * sys.gamma;   /* rad/s/T from gamma-bar */
    c->so.sim.b0 = sys.b0;
    c->so.out = out;
    char *name = cli_default_out(s->path, "");
    c->so.seq_name = name;
    c->so.progress = isatty(2);
    int r = simulate_run(s->p, &sys, ph, &c->so, stderr);
    free(name);
    phantom_free(ph);
    return r == 128 + SIGINT || r == 128 + SIGTERM ? r : r ? EXIT_INPUT : 0;
}

static const struct option sim_options[] = {
    { "phantom", required_argument, NULL, OPT_PHANTOM },
    { "res", required_argument, NULL, OPT_RES },
    { "spins", required_argument, NULL, OPT_SPINS },
    { "coils", required_argument, NULL, OPT_COILS },
    { "snr", required_argument, NULL, OPT_SNR },
    { "seed", required_argument, NULL, OPT_SEED },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "no-diffusion", no_argument, NULL, OPT_NODIFF },
    { "diffusion", no_argument, NULL, OPT_DIFF },
    { "spoiling", required_argument, NULL, OPT_SPOILING },
    { NULL, 0, NULL, 0 },
};

/* The defaults of simulate's options. */
static void sim_defaults(struct sim_cli *c)
{
    memset(c, 0, sizeof *c);
    sim_opts_default(&c->so.sim);
}

/* larmor simulate: a sequence on the virtual scanner, to raw data. */
int cmd_simulate(int argc, char **argv)
{
    struct sim_cli c;
    sim_defaults(&c);
    struct cli_seq s;
    int rc = 0;
    if (!cli_seq_begin(&s, "simulate", argc, argv, sim_options, sim_opt, &c, CLI_NEED_SEQ,
                       &rc) ||
        (rc = cli_seq_load(&s)) != 0)
        goto out;
    char *out = s.so.out ? xstrdup(s.so.out) : cli_default_out(s.path, ".h5");
    rc = run_simulation(&s, &c, out);
    free(out);
out:
    cli_seq_fini(&s);
    return rc;
}

/* larmor recon */
static const struct option recon_options[] = {
    { "format", required_argument, NULL, OPT_FORMAT },
    { "window", required_argument, NULL, OPT_WINDOW },
    { "mosaic", no_argument, NULL, OPT_MOSAIC },
    { "partial-fourier", required_argument, NULL, OPT_PF },
    { "pocs-iterations", required_argument, NULL, OPT_POCS_IT },
    { "keep-oversampling", no_argument, NULL, OPT_KEEP_OS },
    { "sens", required_argument, NULL, OPT_SENS },
    { "kspace", required_argument, NULL, OPT_KSPACE },
    { "fft-wisdom", required_argument, NULL, OPT_WISDOM },
    { "widen-limits", no_argument, NULL, OPT_WIDEN },
    { NULL, 0, NULL, 0 },
};

static int recon_opt(int ch, const char *arg, struct recon_cli *c)
{
    long v;
    switch (ch) {
    case OPT_FORMAT:
        return recon_parse_formats(arg, &c->formats);
    case OPT_WINDOW: {
        char *end;
        double lo = strtod(arg, &end);
        if (end == arg || *end != ':')
            return -1;
        const char *h = end + 1;
        double hi = strtod(h, &end);
        if (end == h || *end || !isfinite(lo) || !isfinite(hi) || !(hi > lo))
            return -1;
        c->png.lo = lo;
        c->png.hi = hi;
        return 0;
    }
    case OPT_MOSAIC:
        c->png.mosaic = true;
        return 0;
    case OPT_PF:
        if (!strcmp(arg, "zero"))
            c->ro.pf = RECON_PF_ZERO;
        else if (!strcmp(arg, "pocs"))
            c->ro.pf = RECON_PF_POCS;
        else
            return -1;
        return 0;
    case OPT_POCS_IT:
        return cli_parse_int(arg, 1, 1000, &v) ? -1 : (c->ro.pocs_iterations = (int)v, 0);
    case OPT_KEEP_OS:
        c->ro.keep_oversampling = true;
        return 0;
    case OPT_SENS:
        c->sens_path = arg;
        return 0;
    case OPT_KSPACE:
        c->kspace_path = arg;
        return 0;
    case OPT_WISDOM:
        c->wisdom = arg;
        return 0;
    case OPT_THREADS:
        return cli_parse_int(arg, 1, 1024, &v) ? -1 : (c->threads = (int)v, 0);
    case OPT_QUIET:
        c->quiet = true;
        return 0;
    case OPT_WIDEN:
        c->widen_limits = true;
        return 0;
    }
    return -1;
}

/* A file name with its extension cut (and the folders kept). */
static char *strip_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    return xasprintf("%.*s", (int)n, path);
}

/* What larmor recon was asked: the recon options and -o. */
struct recon_cmd {
    struct recon_cli c;
    const char *out;
};

static int recon_cmd_opt(int ch, const char *arg, void *ctx)
{
    struct recon_cmd *r = ctx;
    if (ch != 'o')
        return recon_opt(ch, arg, &r->c);
    r->out = arg;
    return 0;
}

/* larmor recon: ISMRMRD raw data to images. */
int cmd_recon(int argc, char **argv)
{
    struct option opts[24] = {
        { "help", no_argument, NULL, 'h' },
        { "output", required_argument, NULL, 'o' },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "quiet", no_argument, NULL, OPT_QUIET },
    };
    cli_add_options(opts, 4, 24, recon_options);
    struct recon_cmd r = { .out = NULL };
    cli_recon_defaults(&r.c);
    int rc = 0;
    int i = cli_getopt("recon", argc, argv, "ho:", opts, recon_cmd_opt, &r, &rc);
    if (i < 0)
        return rc;
    if (argc - i != 1)
        return cli_usage_error("recon", "%s", argc - i < 1 ? "an ISMRMRD raw data file is needed"
                                                           : "one raw data file at a time");
    const char *raw = argv[i];
    char *dflt = r.out ? NULL : strip_ext(raw);
    rc = reconstruct(raw, r.out ? r.out : dflt, &r.c, stderr) ? EXIT_INPUT : 0;
    free(dflt);
    return rc;
}

/* larmor scan: compile + check, simulate, reconstruct */
struct scan_cli {
    struct sim_cli sim;
    struct recon_cli rec;
};

/* The scan's overview.png (the image next to its k-space): recon hooks. */
struct overview_hook {
    struct plot_overview *ov;
    const char *dir, *title;
};

static void overview_kspace(void *ctx, const struct kspace *k)
{
    struct overview_hook *h = ctx;
    plot_overview_kspace(h->ov, k);
}

static int overview_image(void *ctx, const struct image_vol *v, char **written, char *err,
                          size_t errlen)
{
    struct overview_hook *h = ctx;
    char *path = xasprintf("%s/overview.png", h->dir);
    if (plot_overview_write(h->ov, v, h->title, path, err, errlen) != 0) {
        free(path);
        return -1;
    }
    *written = path;
    return 0;
}

static int scan_opt(int ch, const char *arg, void *ctx)
{
    struct scan_cli *s = ctx;
    if (ch == OPT_THREADS || ch == OPT_QUIET) {
        if (sim_opt(ch, arg, &s->sim) != 0)
            return -1;
        return recon_opt(ch, arg, &s->rec);
    }
    if (sim_opt(ch, arg, &s->sim) == 0)
        return 0;
    return recon_opt(ch, arg, &s->rec);
}

/* Reconstruct the scan's raw data in dir into dir, with overview.png. */
static int scan_recon(struct scan_cli *sc, const char *raw, const char *dir, const char *seq)
{
    struct overview_hook oh = { plot_overview_new(), dir, seq };
    sc->rec.on_kspace = overview_kspace;
    sc->rec.on_image = overview_image;
    sc->rec.hook_ctx = &oh;
    int rc = reconstruct(raw, dir, &sc->rec, stderr) ? EXIT_INPUT : 0;
    plot_overview_free(oh.ov);
    plot_cleanup();
    return rc;
}

/* larmor scan: compile, check, simulate and reconstruct. */
int cmd_scan(int argc, char **argv)
{
    struct scan_cli sc;
    sim_defaults(&sc.sim);
    cli_recon_defaults(&sc.rec);
    struct option extra[32];
    cli_add_options(extra, cli_add_options(extra, 0, 32, sim_options), 32, recon_options);
    struct cli_seq s;
    int rc = 0;
    char *dir = NULL, *path = NULL;
    const char *seq = cli_seq_begin(&s, "scan", argc, argv, extra, scan_opt, &sc, CLI_NEED_SEQ,
                                    &rc);
    if (!seq)
        goto out;
    /* 1. compile and check: nothing runs that did not pass (and a sequence
       that does not compile leaves no folder behind) */
    rc = cli_seq_check(&s, true);
    cli_print_diags(&s.d);
    if (rc)
        goto out;
    if (!(dir = cli_seq_out_dir(&s))) {
        rc = EXIT_INPUT;
        goto out;
    }
    if ((rc = cli_seq_check_txt(&s, dir, "simulated", &path)) != 0)
        goto out;
    if (!sc.sim.so.quiet)
        fprintf(stderr, "checked %s for %s: %d warning%s -> %s\n", seq, s.sys.name,
                check_count(s.ck, true), check_count(s.ck, true) == 1 ? "" : "s", path);
    free(path);
    path = xasprintf("%s/raw.h5", dir);
    /* 2. simulate (a .lbc on the system it was checked for) */
    rc = run_simulation(&s, &sc.sim, path);
    /* 3. reconstruct, and the overview */
    if (!rc)
        rc = scan_recon(&sc, path, dir, seq);
out:
    cli_seq_fini(&s);
    free(path);
    free(dir);
    return rc;
}
