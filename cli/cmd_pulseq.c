/*
 * cmd_pulseq: the Pulseq commands: import (a .seq to bytecode) and export
 * (a checked sequence to a signed .seq).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/pulseq/pulseq.h"
#include "base/util.h"

static int import_opt(int ch, const char *arg, void *ctx)
{
    (void)arg;
    if (ch == OPT_STRICT) {
        ((struct seq_opts *)ctx)->strict = true;
        return 0;
    }
    return -1;
}

/* larmor import: a Pulseq .seq to bytecode. */
int cmd_import(int argc, char **argv)
{
    static const struct option extra[] = {
        { "strict", no_argument, NULL, OPT_STRICT },
        { NULL, 0, NULL, 0 },
    };
    struct cli_seq s;
    int rc = 0;
    const char *seq = cli_seq_begin(&s, "import", argc, argv, extra, import_opt, &s.so,
                                    "a Pulseq .seq file is needed", &rc);
    if (!seq)
        goto out;
    if (!str_has_suffix(seq, ".seq")) {
        rc = cli_usage_error("import", "'%s' is not a .seq file", seq);
        goto out;
    }
    rc = cli_seq_write_lbc(&s);
out:
    cli_seq_fini(&s);
    return rc;
}

static int export_opt(int ch, const char *arg, void *ctx)
{
    enum pulseq_format *f = ctx;
    if (ch != OPT_SEQFORMAT)
        return -1;
    if (!strcmp(arg, "1.4"))
        *f = PULSEQ_1_4;
    else if (!strcmp(arg, "1.5"))
        *f = PULSEQ_1_5;
    else
        return -1;
    return 0;
}

/* Write s's checked program as a .seq of format fmt to -o or the source
   name with .seq; errors go to s->d. 0 or EXIT_INPUT. */
static int write_seq(struct cli_seq *s, enum pulseq_format fmt)
{
    char *name = cli_default_out(s->path, "");
    struct pulseq_write_opts wo = { fmt, name };
    char *text = NULL;
    size_t len;
    int rc = 0;
    if (pulseq_write(s->p, &s->sys, &wo, &text, &len, &s->d) != 0) {
        rc = EXIT_INPUT;
        goto out;
    }
    char *o = s->so.out ? xstrdup(s->so.out) : cli_default_out(s->path, ".seq");
    struct outfile of;
    char err[1024];
    int wr = outfile_open(&of, o, err, sizeof err);
    if (wr == 0) {
        outfile_write(&of, text, len);
        wr = outfile_commit(&of, err, sizeof err);
    }
    if (wr != 0) {
        fprintf(stderr, "larmor export: %s\n", err);
        rc = EXIT_INPUT;
    }
    free(o);
out:
    free(text);
    free(name);
    return rc;
}

/* larmor export: a checked sequence as a signed Pulseq .seq. */
int cmd_export(int argc, char **argv)
{
    enum pulseq_format fmt = PULSEQ_1_5;
    static const struct option extra[] = {
        { "format", required_argument, NULL, OPT_SEQFORMAT },
        { NULL, 0, NULL, 0 },
    };
    struct cli_seq s;
    int rc = 0;
    const char *seq = cli_seq_begin(&s, "export", argc, argv, extra, export_opt, &fmt,
                                    CLI_NEED_SEQ, &rc);
    if (!seq)
        goto out;
    rc = cli_seq_check(&s, false);
    if (rc == EXIT_USAGE)
        goto out;
    if (!rc && check_count(s.ck, false)) {
        struct diag *g = diag_error(&s.d, 760, SPAN_NONE, "%s does not pass its checks on "
                                    "'%s'; not exported", seq, s.sys.name);
        diag_help(g, "fix the violations above (or export --system for the scanner it is "
                  "meant for)");
        rc = EXIT_INPUT;
    }
    if (!rc)
        rc = write_seq(&s, fmt);
    cli_print_outcome(&s.d);
out:
    cli_seq_fini(&s);
    return rc;
}
