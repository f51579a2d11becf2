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

/* The usage errors among plot's options; 0 if none. */
static int plot_refusal(const struct plot_cli *c)
{
    if (c->window && c->po.rep >= 0)
        return cli_usage_error("plot", "%s",
                               "--rep picks its own time window; give it or --from/--to");
    if (c->po.to_ns >= 0 && c->po.to_ns <= c->po.from_ns)
        return cli_usage_error("plot", "%s", "--to must come after --from (and after 0)");
    if (c->kspace && c->safety)
        return cli_usage_error("plot", "%s", "--kspace and --sar/--pns make different plots; "
                               "one at a time");
    return 0;
}

/* Draw s's program as c asks into out; the exit status. */
static int draw(const struct cli_seq *s, const struct plot_cli *c, const char *out)
{
    if (check_count(s->ck, false))
        fprintf(stderr, "larmor plot: %s does not pass the checks for %s (above); plotting it "
                "anyway\n", s->path, s->sys.name);
    char err[1024];
    int r = c->kspace ? plot_kspace(s->p, &s->sys, &c->po, out, err, sizeof err)
            : c->safety ? plot_safety(s->p, &s->sys, c->safety, &c->po, out, err, sizeof err)
                        : plot_timing(s->p, &s->sys, &c->po, out, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "larmor plot: %s\n", err);
    plot_cleanup();
    return r != 0 ? EXIT_INPUT : 0;
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
    struct plot_cli c = { .kspace = false };
    plot_opts_init(&c.po);
    struct cli_seq s;
    int rc = 0;
    char *out = NULL;
    const char *seq = cli_seq_begin(&s, "plot", argc, argv, extra, plot_opt, &c, CLI_NEED_SEQ,
                                    &rc);
    if (!seq || (rc = plot_refusal(&c)) != 0)
        goto out;
    out = s.so.out ? xstrdup(s.so.out)
                   : cli_default_out(seq, c.kspace ? "_kspace.png" :
                                     c.safety == PLOT_SAR ? "_sar.png" :
                                     c.safety == PLOT_PNS ? "_pns.png" :
                                     c.safety ? "_safety.png" : ".png");
    if (plot_format_of(out) < 0) {
        rc = cli_usage_error("plot", "-o %s: the file name must end in .png, .svg or .pdf (the "
                             "extension picks the format)", out);
        goto out;
    }
    rc = cli_seq_check(&s, false);
    cli_print_diags(&s.d);
    if (!rc)
        rc = draw(&s, &c, out);
out:
    cli_seq_fini(&s);
    free(out);
    return rc;
}
