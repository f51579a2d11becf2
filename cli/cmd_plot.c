/*
 * cmd_plot: larmor plot, a sequence's timing diagram, k-space trajectory,
 * SAR or PNS as a picture.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/plot/plot.h"
#include "base/util.h"

/* larmor plot */
struct plot_cli {
    struct plot_opts po;
    bool kspace, window;
    unsigned safety;             /* PLOT_SAR | PLOT_PNS */
};

static int plot_opt(int ch, const char *arg, void *ctx)
{
    struct plot_cli *c = ctx;
    long v;
    switch (ch) {
    case OPT_FROM:
        c->window = true;
        return cli_parse_time(arg, &c->po.from_ns);
    case OPT_TO:
        c->window = true;
        return cli_parse_time(arg, &c->po.to_ns);
    case OPT_REP:
        return cli_parse_int(arg, 0, LONG_MAX, &v) ? -1 : (c->po.rep = v, 0);
    case OPT_MARKS:
        c->po.blocks = true;
        return 0;
    case OPT_KSPACE:
        c->kspace = true;
        return 0;
    case OPT_SAR:
        c->safety |= PLOT_SAR;
        return 0;
    case OPT_PNS:
        c->safety |= PLOT_PNS;
        return 0;
    case OPT_SIZE: {
        long w, h;
        char buf[64], *x;
        snprintf(buf, sizeof buf, "%s", arg);
        if (!(x = strchr(buf, 'x')))
            return -1;
        *x = 0;
        if (cli_parse_int(buf, 16, 16384, &w) || cli_parse_int(x + 1, 16, 16384, &h))
            return -1;
        c->po.width = (int)w;
        c->po.height = (int)h;
        return 0;
    }
    }
    return -1;
}

/* larmor plot: the timing diagram, k-space, SAR or PNS as a picture. */
int cmd_plot(int argc, char **argv)
{
    static const struct option extra[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "rep", required_argument, NULL, OPT_REP },
        { "blocks", no_argument, NULL, OPT_MARKS },
        { "kspace", no_argument, NULL, OPT_KSPACE },
        { "sar", no_argument, NULL, OPT_SAR },
        { "pns", no_argument, NULL, OPT_PNS },
        { "size", required_argument, NULL, OPT_SIZE },
        { NULL, 0, NULL, 0 },
    };
    struct seq_opts so = { 0 };
    struct plot_cli c = { .kspace = false };
    plot_opts_init(&c.po);
    int rc = 0;
    char *out = NULL;
    struct lbc_program *p = NULL;
    struct check *ck = NULL;
    struct diag_ctx d;
    diag_init(&d);
    const char *seq = cli_one_operand("plot", argc, argv, &so, extra, plot_opt, &c,
                                      "a sequence (.psq, .lbc or .seq) is needed", &rc);
    if (!seq)
        goto out;
    if (c.window && c.po.rep >= 0) {
        rc = cli_usage_error("plot", "%s",
                             "--rep picks its own time window; give it or --from/--to");
        goto out;
    }
    if (c.po.to_ns >= 0 && c.po.to_ns <= c.po.from_ns) {
        rc = cli_usage_error("plot", "%s", "--to must come after --from (and after 0)");
        goto out;
    }
    if (c.kspace && c.safety) {
        rc = cli_usage_error("plot", "%s", "--kspace and --sar/--pns make different plots; "
                             "one at a time");
        goto out;
    }
    out = so.out ? xstrdup(so.out)
                 : cli_default_out(seq, c.kspace ? "_kspace.png" :
                                   c.safety == PLOT_SAR ? "_sar.png" :
                                   c.safety == PLOT_PNS ? "_pns.png" :
                                   c.safety ? "_safety.png" : ".png");
    if (plot_format_of(out) < 0) {
        rc = cli_usage_error("plot", "-o %s: the file name must end in .png, .svg or .pdf (the "
                             "extension picks the format)", out);
        goto out;
    }
    struct system sys;
    rc = cli_compile_checked("plot", seq, &so, &sys, &p, &ck, NULL, &d);
    diag_print_all(&d, stderr, diag_want_color(stderr));
    if (rc)
        goto out;
    if (check_count(ck, false))
        fprintf(stderr, "larmor plot: %s does not pass the checks for %s (above); plotting it "
                "anyway\n", seq, sys.name);
    char err[1024];
    int r = c.kspace ? plot_kspace(p, &sys, &c.po, out, err, sizeof err)
            : c.safety ? plot_safety(p, &sys, c.safety, &c.po, out, err, sizeof err)
                       : plot_timing(p, &sys, &c.po, out, err, sizeof err);
    if (r != 0) {
        fprintf(stderr, "larmor plot: %s\n", err);
        rc = EXIT_INPUT;
    }
    plot_cleanup();
out:
    diag_fini(&d);
    check_free(ck);
    lbc_free(p);
    free(out);
    free(so.defines);
    return rc;
}
